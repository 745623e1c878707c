// Direction 1: jose and dpop are the client and the issuer. jose mints E-Keys with the test's
// issuer key, dpop makes the key pair and the proofs; the real httpd with mod_ekey decides.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import { calculateJwkThumbprint, exportJWK, generateKeyPair as joseKeyPair } from 'jose';
import {
  ORIGIN, SUB, TLS_ORIGIN, call, expectOk, expectRefusal, hits, mintWithJose, now, pem,
  testIssuer, x5tS256,
} from './lib.mjs';

const HTU = `${ORIGIN}/payments`;
let issuer;
let kp;   // the client's DPoP key pair, made by dpop
let jkt;

before(async () => {
  issuer = await testIssuer();
  kp = await generateKeyPair('ES256');
  jkt = await calculateThumbprint(kp.publicKey);
  // Two independent thumbprint implementations agree before the server is asked.
  assert.equal(jkt, await calculateJwkThumbprint(await exportJWK(kp.publicKey)));
});

// dpop stamps iat from Date.now(); an old proof is made with the clock turned back.
async function oldProof(seconds, t) {
  const realNow = Date.now;
  Date.now = () => realNow() - seconds * 1000;
  try {
    return await generateProof(kp, HTU, 'POST', t.trace, t.token);
  } finally {
    Date.now = realNow;
  }
}

// A DPoP-bound token of jose and a proof of dpop for it (htm, htu, nonce = trace, ath).
async function dpopCase(opts = {}) {
  const t = await mintWithJose(issuer, { cnf: { jkt }, ...opts });
  const proof = await generateProof(kp, HTU, 'POST', t.trace, t.token);
  return { ...t, proof };
}

describe('DPoP: tokens by jose, proofs by dpop, verified by mod_ekey', () => {
  test('valid token and proof: 200, then the replay is refused', async () => {
    const { token, trace, proof } = await dpopCase();
    const ok = expectOk(await call({ token, proof }), 'first use');
    assert.equal(ok.user, SUB);
    assert.equal(ok.auth_type, 'EKey');
    assert.equal(ok.bind, 'DPoP');
    assert.equal(ok.trace, trace);
    assert.equal(ok.jkt, jkt);
    assert.equal(ok.uses_left, '0');
    expectRefusal(await call({ token, proof }), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace, allowedHits: 1 });
    // a fresh proof does not buy a second use of a single-use token
    const again = await generateProof(kp, HTU, 'POST', trace, token);
    expectRefusal(await call({ token, proof: again }), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace, allowedHits: 1 });
  });

  test('limit 2: two uses with fresh proofs, a replayed proof and a third use refused', async () => {
    const { token, trace, proof } = await dpopCase({ limit: 2 });
    assert.equal(expectOk(await call({ token, proof }), 'use 1').uses_left, '1');
    expectRefusal(await call({ token, proof }), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace, allowedHits: 1 });
    const p2 = await generateProof(kp, HTU, 'POST', trace, token);
    assert.equal(expectOk(await call({ token, proof: p2 }), 'use 2').uses_left, '0');
    const p3 = await generateProof(kp, HTU, 'POST', trace, token);
    expectRefusal(await call({ token, proof: p3 }), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace, allowedHits: 2 });
  });

  test('GET with a GET capability', async () => {
    const t = await mintWithJose(issuer, { cnf: { jkt }, action: 'GET:/payments' });
    const proof = await generateProof(kp, HTU, 'GET', t.trace, t.token);
    assert.equal(expectOk(await call({ ...t, proof, method: 'GET' }), 'GET').cap, 'GET:/payments');
  });

  test('trusted as a JWK Set written by jose (EKeyTrustedJWKS)', async () => {
    const t = await mintWithJose(issuer, { cnf: { jkt }, action: 'POST:/pay-jwks' });
    const proof = await generateProof(kp, `${ORIGIN}/pay-jwks`, 'POST', t.trace, t.token);
    assert.equal(expectOk(await call({ ...t, proof, path: '/pay-jwks' }), 'jwks').trace, t.trace);
  });

  // Proof failures: the token is fine, the proof is not for this request. Nothing is consumed:
  // the same token still works afterwards with a right proof.
  // the right proof with some members changed (an explicit undefined leaves the claim out)
  const proofFor = (t, change) => {
    const p = { key: kp, htu: HTU, htm: 'POST', nonce: t.trace, token: t.token, ...change };
    return generateProof(p.key, p.htu, p.htm, p.nonce, p.token);
  };
  const badProofs = [
    ['wrong htu (another port)', (t) => proofFor(t, { htu: 'http://127.0.0.1:1/payments' })],
    ['wrong htu (another path)', (t) => proofFor(t, { htu: `${ORIGIN}/payments/x` })],
    ['wrong htu (https scheme)', (t) => proofFor(t, { htu: HTU.replace('http:', 'https:') })],
    ['wrong htm', (t) => proofFor(t, { htm: 'GET' })],
    ['wrong ath (proof for another token)', (t) => proofFor(t, { token: `${t.token}x` })],
    ['no ath', (t) => proofFor(t, { token: undefined })],
    ['wrong nonce', (t) => proofFor(t, { nonce: 'AAAAAAAAAAAAAAAAAAAAAA' })],
    ['no nonce', (t) => proofFor(t, { nonce: undefined })],
    ['wrong key (another dpop key pair)',
      async (t) => proofFor(t, { key: await generateKeyPair('ES256') })],
    ['proof an hour old', (t) => oldProof(3600, t)],
    ['no DPoP header', () => undefined],
  ];
  for (const [name, makeProof] of badProofs) {
    test(`${name}: 401 invalid_proof, no use consumed`, async () => {
      const t = await mintWithJose(issuer, { cnf: { jkt } });
      const res = await call({ token: t.token, proof: await makeProof(t) });
      expectRefusal(res, 401, 'invalid_proof', { challenge: 'invalid_dpop_proof', trace: t.trace });
      const good = await proofFor(t, {});
      assert.equal(expectOk(await call({ token: t.token, proof: good }), 'then').trace, t.trace);
    });
  }

  // Token failures (jose signs what a broken or foreign issuer would).
  const badTokens = [
    ['signed by an untrusted key',
      async () => ({ key: (await joseKeyPair('ES256')).privateKey }), 'invalid_token'],
    ['untrusted key under its own kid', async () => {
      const other = await joseKeyPair('ES256', { extractable: true });
      const kid = await calculateJwkThumbprint(await exportJWK(other.publicKey));
      return { key: other.privateKey, kid };
    }, 'invalid_token'],
    ['typ JWT', async () => ({ typ: 'JWT' }), 'invalid_token'],
    ['another audience', async () => ({ aud: 'https://other.example' }), 'invalid_token'],
    ['another issuer', async () => ({ iss: 'https://evil.example' }), 'invalid_token'],
    ['lifetime over EKeyMaxTTL', async () => ({ ttl: 301 }), 'invalid_token'],
    ['expired', async () => ({ iat: now() - 400, ttl: 300 }), 'token_expired'],
  ];
  for (const [name, opts, code] of badTokens) {
    test(`${name}: 401 ${code}`, async () => {
      const { token, trace, proof } = await dpopCase(await opts());
      const ekeyError = code === 'token_expired' ? code : undefined;
      expectRefusal(await call({ token, proof }), 401, code,
        { challenge: 'invalid_token', ekeyError, trace });
    });
  }

  test('token bound to another key (cnf.jkt of a second dpop key): 401 invalid_proof', async () => {
    const other = await calculateThumbprint((await generateKeyPair('ES256')).publicKey);
    const t = await mintWithJose(issuer, { cnf: { jkt: other } });
    const proof = await generateProof(kp, HTU, 'POST', t.trace, t.token);
    expectRefusal(await call({ ...t, proof }), 401, 'invalid_proof',
      { challenge: 'invalid_dpop_proof', trace: t.trace });
  });

  test('capability for another path: 403 capability_mismatch', async () => {
    const { token, trace, proof } = await dpopCase({ action: 'POST:/pay-jwks' });
    expectRefusal(await call({ token, proof }), 403, 'capability_mismatch',
      { challenge: 'insufficient_scope', trace });
  });

  test('presented with the RFC 9449 "DPoP" scheme: 401 invalid_token', async () => {
    const { token, trace, proof } = await dpopCase();
    expectRefusal(await call({ token, proof, scheme: 'DPoP' }), 401, 'invalid_token',
      { challenge: 'invalid_token', trace });
  });

  test('no Authorization: 401 missing_token with the bare challenge', async () => {
    const res = await call({});
    expectRefusal(res, 401, 'missing_token');
    assert.equal(res.headers['www-authenticate'], 'EKey realm="ekey", algs="ES256 ES384 EdDSA"');
  });
});

describe('mTLS: cnf x5t#S256 computed by node, client certificate by node https', () => {
  const client = { cert: pem('client.crt'), key: pem('client.key') };
  const client2 = { cert: pem('client2.crt'), key: pem('client2.key') };
  const mtls = (t, who, extra = {}) => call({ token: t.token, tls: true, ...who, ...extra });

  test('the named certificate: 200, then the replay is refused', async () => {
    const t = await mintWithJose(issuer, { cnf: { 'x5t#S256': x5tS256(client.cert) } });
    const ok = expectOk(await mtls(t, client), 'mTLS use');
    assert.equal(ok.bind, 'mTLS');
    assert.equal(ok.user, SUB);
    assert.equal(ok.trace, t.trace);
    expectRefusal(await mtls(t, client), 401, 'replay_detected',
      { challenge: 'invalid_token', ekeyError: 'replay_detected', trace: t.trace, allowedHits: 1 });
  });

  test('a different certificate: 401 invalid_proof, no use consumed', async () => {
    const t = await mintWithJose(issuer, { cnf: { 'x5t#S256': x5tS256(client.cert) } });
    expectRefusal(await mtls(t, client2), 401, 'invalid_proof',
      { challenge: 'invalid_token', trace: t.trace });
    expectOk(await mtls(t, client), 'the owner afterwards');
  });

  test('no client certificate: 401 invalid_proof', async () => {
    const t = await mintWithJose(issuer, { cnf: { 'x5t#S256': x5tS256(client.cert) } });
    expectRefusal(await mtls(t, {}), 401, 'invalid_proof', { challenge: 'invalid_token', trace: t.trace });
  });

  test('over plain HTTP: 401 invalid_proof', async () => {
    const t = await mintWithJose(issuer, { cnf: { 'x5t#S256': x5tS256(client.cert) } });
    expectRefusal(await call({ token: t.token }), 401, 'invalid_proof',
      { challenge: 'invalid_token', trace: t.trace });
  });

  test('a DPoP-bound token over TLS with a dpop proof for the TLS origin: 200', async () => {
    const t = await mintWithJose(issuer, { cnf: { jkt } });
    const proof = await generateProof(kp, `${TLS_ORIGIN}/payments`, 'POST', t.trace, t.token);
    assert.equal(expectOk(await call({ ...t, proof, tls: true }), 'DPoP over TLS').bind, 'DPoP');
    assert.equal(hits(t.trace), 1);
  });
});
