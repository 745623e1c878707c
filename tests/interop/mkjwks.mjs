// Writes the JWK Set of a PEM public key with jose (exportJWK, calculateJwkThumbprint as kid),
// so httpd's EKeyTrustedJWKS reads a document made by an implementation we did not write.
// Usage: node mkjwks.mjs PUBLIC.pem > KEYS.json
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, importSPKI } from 'jose';

const key = await importSPKI(readFileSync(process.argv[2], 'utf8'), 'ES256', { extractable: true });
const jwk = await exportJWK(key);
jwk.kid = await calculateJwkThumbprint(jwk);
jwk.alg = 'ES256';
jwk.use = 'sig';
process.stdout.write(`${JSON.stringify({ keys: [jwk] })}\n`);
