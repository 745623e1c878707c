// Shared helpers of the interop test: the environment run.sh sets up, HTTP(S) requests with
// node's own http/https modules (node 18 compatible), E-Key minting with jose, and the
// assertions every refusal must meet (status, error code, challenge, backend not reached).
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import {
  SignJWT, base64url, calculateJwkThumbprint, exportJWK, importPKCS8, importSPKI,
} from 'jose';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this test with tests/interop/run.sh`);
  return v;
}

const keys = need('INTEROP_KEYS');
export const HTTP_PORT = Number(need('INTEROP_HTTP_PORT'));
export const TLS_PORT = Number(need('INTEROP_TLS_PORT'));
export const HITS = need('INTEROP_HITS');
export const ORIGIN = `http://127.0.0.1:${HTTP_PORT}`;
export const TLS_ORIGIN = `https://127.0.0.1:${TLS_PORT}`;
export const ISS = 'https://issuer.example';
export const AUD = 'https://api.example.com';
export const SUB = 'agent-123';

export const pem = (name) => readFileSync(`${keys}/${name}`, 'utf8');
const CA = pem('ca.crt');

// base64url(SHA-256(DER of the certificate)): the RFC 8705 x5t#S256, computed here.
export function x5tS256(certPem) {
  const der = new X509Certificate(certPem).raw;
  return base64url.encode(createHash('sha256').update(der).digest());
}

export const now = () => Math.floor(Date.now() / 1000);
export const newTrace = () => base64url.encode(crypto.getRandomValues(new Uint8Array(16)));

// The test's own issuer: its key pair was made by openssl; httpd trusts the public half.
export async function testIssuer() {
  const priv = await importPKCS8(pem('node-issuer.pem'), 'ES256');
  const pub = await importSPKI(pem('node-issuer.pub.pem'), 'ES256', { extractable: true });
  return { priv, kid: await calculateJwkThumbprint(await exportJWK(pub)) };
}

// An E-Key signed by jose's SignJWT with the claims of EKEY_SPEC.md 4.2.
export async function mintWithJose(issuer, opts = {}) {
  const iat = opts.iat ?? now();
  const trace = opts.trace ?? newTrace();
  const token = await new SignJWT({
    trace,
    cap: { action: opts.action ?? 'POST:/payments', limit: opts.limit ?? 1 },
    cnf: opts.cnf,
  })
    .setProtectedHeader({ alg: 'ES256', typ: opts.typ ?? 'ekey+jwt', kid: opts.kid ?? issuer.kid })
    .setIssuer(opts.iss ?? ISS)
    .setSubject(SUB)
    .setAudience(opts.aud ?? AUD)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.ttl ?? 60))
    .sign(opts.key ?? issuer.priv);
  return { token, trace };
}

// One request on a fresh connection (agent: false): no keep-alive or TLS session sharing
// between cases, and a client certificate only when given.
export function send({ tls = false, method = 'POST', path, headers = {}, body, cert, key }) {
  const opts = {
    host: '127.0.0.1', port: tls ? TLS_PORT : HTTP_PORT, method, path, agent: false,
    headers: { ...headers },
  };
  if (tls) {
    opts.ca = CA;
    if (cert) Object.assign(opts, { cert, key });
  }
  if (body !== undefined) {
    opts.headers['content-type'] ??= 'application/json';
    opts.headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const PAY_BODY = JSON.stringify({ amount: 1000 });

// A protected request with an E-Key (and a DPoP proof when given).
export function call({ token, proof, scheme = 'EKey', path = '/payments', method = 'POST', ...rest }) {
  const headers = {};
  if (token !== undefined) headers.authorization = `${scheme} ${token}`;
  if (proof !== undefined) headers.dpop = proof;
  return send({ path, method, headers, body: method === 'POST' ? PAY_BODY : undefined, ...rest });
}

// How often the backend ran for a token (it logs EKEY_TRACE per hit).
export function hits(trace) {
  let text = '';
  try { text = readFileSync(HITS, 'utf8'); } catch (e) { if (e.code !== 'ENOENT') throw e; }
  return text.split('\n').filter((l) => l === trace).length;
}

export function expectOk(res, what) {
  assert.equal(res.status, 200, `${what}: status (body ${res.text})`);
  assert.ok(res.json, `${what}: JSON body from the backend`);
  return res.json;
}

// A refusal: status, JSON error code, no-store, the challenge's error (and ekey_error), and,
// when a trace is given, the backend never ran for it beyond `allowedHits`.
export function expectRefusal(res, status, code, { challenge, ekeyError, trace, allowedHits = 0 } = {}) {
  assert.equal(res.status, status, `status for ${code} (body ${res.text})`);
  assert.ok(res.json, `JSON error body (got ${res.text})`);
  assert.equal(res.json.error, code, 'error code');
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, 'content-type');
  assert.match(res.headers['cache-control'] ?? '', /no-store/, 'cache-control');
  if (challenge !== undefined) {
    const wa = res.headers['www-authenticate'] ?? '';
    assert.match(wa, /^EKey realm="ekey"/, 'challenge scheme');
    assert.ok(wa.includes(`error="${challenge}"`), `challenge error ${challenge} in ${wa}`);
    if (ekeyError) assert.ok(wa.includes(`ekey_error="${ekeyError}"`), `ekey_error in ${wa}`);
  }
  if (trace !== undefined) assert.equal(hits(trace), allowedHits, 'backend hits for this token');
}
