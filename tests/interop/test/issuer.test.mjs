// Direction 2: mod_ekey_issuer mints (the minting proof made by dpop, the certificate of the
// mTLS mint sent by node https), jose verifies the tokens against the issuer's published JWKS.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import {
  calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify,
} from 'jose';
import {
  AUD, ISS, ORIGIN, SUB, TLS_ORIGIN, call, expectOk, expectRefusal, hits, pem, send, x5tS256,
} from './lib.mjs';

const TOKEN_URL = `${ORIGIN}/token`;
const client = { cert: pem('client.crt'), key: pem('client.key') };
const client2 = { cert: pem('client2.crt'), key: pem('client2.key') };
let jwksDoc;
let JWKS;

// The public JWK members the issuer's body takes (EKEY_SPEC.md 7.1).
async function publicJwk(key) {
  const { kty, crv, x, y } = await exportJWK(key);
  return { kty, crv, x, y };
}

function mintBody(bind, extra = {}) {
  return JSON.stringify({
    sub: SUB, aud: AUD, ttl: 45, bind, cap: { action: 'POST:/payments', limit: 1 }, ...extra,
  });
}

// jose's verification with every check this test relies on.
function verify(token, opts = {}) {
  return jwtVerify(token, JWKS, {
    issuer: ISS, audience: AUD, typ: 'ekey+jwt', algorithms: ['ES256'],
    requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'trace', 'cap', 'cnf'], ...opts,
  });
}

// What every minted token must satisfy besides its binding.
async function checkCommon(ans, payload, protectedHeader) {
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(protectedHeader.typ, 'ekey+jwt');
  const signer = jwksDoc.keys.find((k) => k.kid === protectedHeader.kid);
  assert.ok(signer, 'kid names a published key');
  assert.equal(protectedHeader.kid, await calculateJwkThumbprint(signer), 'kid is the RFC 7638 thumbprint');
  assert.equal(payload.iss, ISS);
  assert.equal(payload.sub, SUB);
  assert.equal(payload.aud, AUD);
  assert.equal(payload.exp - payload.iat, 45);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60, 'iat is now');
  assert.match(payload.trace, /^[A-Za-z0-9_-]{21}[AQgw]$/);
  assert.deepEqual(payload.cap, { action: 'POST:/payments', limit: 1 });
  assert.equal(Object.keys(payload.cnf).length, 1, 'cnf has one member');
  assert.equal(ans.token_type, 'EKey');
  assert.equal(ans.trace, payload.trace);
  assert.equal(ans.exp, payload.exp);
  assert.equal(ans.iat, payload.iat);
  assert.equal(ans.expires_in, 45);
}

before(async () => {
  const res = await send({ method: 'GET', path: '/.well-known/jwks.json' });
  assert.equal(res.status, 200, `JWKS (body ${res.text})`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  jwksDoc = res.json;
  assert.ok(Array.isArray(jwksDoc?.keys) && jwksDoc.keys.length >= 1, 'keys');
  for (const k of jwksDoc.keys) {
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(k.alg, 'ES256');
    assert.equal(k.use, 'sig');
  }
  JWKS = createLocalJWKSet(jwksDoc);
});

describe('DPoP-bound tokens of mod_ekey_issuer, verified by jose', () => {
  test('mint with a dpop minting proof; jwtVerify; cnf.jkt; the token then works', async () => {
    const kp = await generateKeyPair('ES256');
    const jwk = await publicJwk(kp.publicKey);
    const proof = await generateProof(kp, TOKEN_URL, 'POST');
    const body = mintBody('DPoP', { jwk });
    const res = await send({ path: '/token', headers: { dpop: proof }, body });
    assert.equal(res.status, 200, `mint (body ${res.text})`);
    assert.match(res.headers['cache-control'] ?? '', /no-store/);
    const ans = res.json;
    const { payload, protectedHeader } = await verify(ans.token);
    await checkCommon(ans, payload, protectedHeader);
    const jkt = await calculateJwkThumbprint(jwk);
    assert.equal(payload.cnf.jkt, jkt, 'cnf.jkt is jose\'s thumbprint of the client key');
    assert.equal(payload.cnf.jkt, await calculateThumbprint(kp.publicKey), 'and dpop\'s');
    assert.equal(ans.cnf.jkt, jkt);

    // the issued token at the verifier, with a dpop proof for it
    const use = await generateProof(kp, `${ORIGIN}/payments`, 'POST', ans.trace, ans.token);
    const ok = expectOk(await call({ token: ans.token, proof: use }), 'issued token');
    assert.equal(ok.jkt, jkt);
    assert.equal(hits(ans.trace), 1);
  });

  test('jose refuses a changed signature, another audience, another issuer', async () => {
    const kp = await generateKeyPair('ES256');
    const body = mintBody('DPoP', { jwk: await publicJwk(kp.publicKey) });
    const proof = await generateProof(kp, TOKEN_URL, 'POST');
    const res = await send({ path: '/token', headers: { dpop: proof }, body });
    assert.equal(res.status, 200, `mint (body ${res.text})`);
    const { token } = res.json;
    const [h, p, s] = token.split('.');
    const flipped = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    await assert.rejects(verify(flipped), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    await assert.rejects(verify(token, { audience: 'https://other.example' }),
      { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
    await assert.rejects(verify(token, { issuer: 'https://evil.example' }),
      { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' });
    assert.equal(decodeProtectedHeader(token).typ, 'ekey+jwt');
  });

  const badMints = [
    ['no minting proof', async () => undefined],
    ['proof by another key',
      async () => generateProof(await generateKeyPair('ES256'), TOKEN_URL, 'POST')],
    ['proof for another URL', async (kp) => generateProof(kp, `${ORIGIN}/other`, 'POST')],
    ['proof for another method', async (kp) => generateProof(kp, TOKEN_URL, 'PUT')],
  ];
  for (const [name, makeProof] of badMints) {
    test(`${name}: 400 invalid_dpop_proof`, async () => {
      const kp = await generateKeyPair('ES256');
      const proof = await makeProof(kp);
      const res = await send({
        path: '/token', headers: proof ? { dpop: proof } : {},
        body: mintBody('DPoP', { jwk: await publicJwk(kp.publicKey) }),
      });
      expectRefusal(res, 400, 'invalid_dpop_proof');
      assert.equal(res.json.token, undefined);
    });
  }
});

describe('mTLS-bound tokens of mod_ekey_issuer, verified by jose', () => {
  test('mint over TLS with the client certificate; cnf x5t#S256; the token then works', async () => {
    const res = await send({ tls: true, path: '/token', body: mintBody('mTLS'), ...client });
    assert.equal(res.status, 200, `mint (body ${res.text})`);
    const ans = res.json;
    const { payload, protectedHeader } = await verify(ans.token);
    await checkCommon(ans, payload, protectedHeader);
    const x5t = x5tS256(client.cert);
    assert.equal(payload.cnf['x5t#S256'], x5t, 'x5t#S256 is SHA-256 of the DER certificate');
    assert.equal(ans.cnf['x5t#S256'], x5t);
    assert.notEqual(x5tS256(client2.cert), x5t);

    // another certificate is refused without consuming the use; the owner's then works
    const call2 = await call({ token: ans.token, tls: true, ...client2 });
    expectRefusal(call2, 401, 'invalid_proof', { challenge: 'invalid_token', trace: ans.trace });
    const ok = expectOk(await call({ token: ans.token, tls: true, ...client }), 'issued mTLS token');
    assert.equal(ok.bind, 'mTLS');
    assert.equal(ok.trace, payload.trace);
    expectRefusal(await call({ token: ans.token, tls: true, ...client }), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace: ans.trace, allowedHits: 1 });
  });

  test('mTLS mint without a client certificate: 400 invalid_request', async () => {
    const res = await send({ tls: true, path: '/token', body: mintBody('mTLS') });
    expectRefusal(res, 400, 'invalid_request');
  });

  test('the TLS token endpoint URL differs: a DPoP mint there needs a proof for it', async () => {
    const kp = await generateKeyPair('ES256');
    const body = mintBody('DPoP', { jwk: await publicJwk(kp.publicKey) });
    const wrong = await generateProof(kp, TOKEN_URL, 'POST');
    expectRefusal(await send({ tls: true, path: '/token', headers: { dpop: wrong }, body }), 400,
      'invalid_dpop_proof');
    const right = await generateProof(kp, `${TLS_ORIGIN}/token`, 'POST');
    const res = await send({ tls: true, path: '/token', headers: { dpop: right }, body });
    assert.equal(res.status, 200, `mint (body ${res.text})`);
    const { payload } = await verify(res.json.token);
    assert.equal(payload.cnf.jkt, await calculateThumbprint(kp.publicKey));
  });
});
