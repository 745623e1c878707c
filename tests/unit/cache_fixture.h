/*
 * cache_fixture.h - shared fixtures of test_cache.c and test_fastpath.c: an issuer key with
 * its verifier keyset, minting, a verification policy, forged signatures.
 */
#ifndef CACHE_FIXTURE_H
#define CACHE_FIXTURE_H

#include "ekey_test.h"
#include "ekey_cache.h"

#define ISS "https://issuer.example"
#define AUD "https://api.example"
#define NOW 1700000000

typedef struct {
    ekey_jwk_t *priv;           /* the issuer's signing key */
    ekey_keyset_t *ks;          /* its public half, as a verifier loads it */
    ekey_jwk_t *client;
} fixture_t;

static inline ekey_jwk_t *public_of(apr_pool_t *p, const ekey_jwk_t *k)
{
    ekey_jwk_t *pub;

    assert_int_equal(ekey_jwk_parse(&pub, p, ekey_jwk_to_json(k, p, 0), NULL), EKEY_OK);
    return pub;
}

static inline void fixture(fixture_t *f, apr_pool_t *p)
{
    assert_int_equal(ekey_jwk_generate(&f->priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_generate(&f->client, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    f->ks = ekey_keyset_make(p);
    assert_int_equal(ekey_keyset_add(f->ks, public_of(p, f->priv), NULL), EKEY_OK);
}

static inline char *mint(apr_pool_t *p, const fixture_t *f, const ekey_jwk_t *signer, long limit)
{
    ekey_mint_t m;
    char *tok;

    memset(&m, 0, sizeof(m));
    m.iss = ISS;
    m.sub = "agent";
    m.aud = AUD;
    m.action = "GET:/x";
    m.limit = limit;
    m.now = NOW;
    m.ttl = 60;
    m.bind = EKEY_BIND_DPOP;
    m.jkt = ekey_jwk_thumbprint(f->client);
    assert_int_equal(ekey_token_mint(&tok, NULL, p, &m, signer, NULL), EKEY_OK);
    return tok;
}

static inline ekey_token_policy_t policy(const ekey_keyset_t *ks)
{
    ekey_token_policy_t pol;

    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = ISS;
    pol.audience = AUD;
    pol.now = NOW;
    pol.skew = 30;
    return pol;
}

static inline ekey_status_t verify(apr_pool_t *p, const char *tok, const ekey_token_policy_t *pol)
{
    ekey_token_t *t;

    return ekey_token_verify(&t, p, tok, strlen(tok), pol, NULL);
}

/* One base64url character of the signature changed (not the last: it carries spare bits). */
static inline char *flip_sig(apr_pool_t *p, const char *tok)
{
    char *c = apr_pstrdup(p, tok);
    char *s = strrchr(c, '.') + 5;

    *s = *s == 'A' ? 'B' : 'A';
    return c;
}

static inline int sigcache_has(const char *tok, const char *kid, apr_int64_t now)
{
    unsigned char d[32];

    assert_true(ekey_sha256_raw(d, tok, strlen(tok)));
    return ekey_sigcache_hit(d, kid, now, NULL);
}

static inline json_t *jwk_json(apr_pool_t *p, const ekey_jwk_t *k)
{
    return ekey_jwk_to_json(k, p, 0);
}

static inline ekey_jws_t *signed_by(apr_pool_t *p, const ekey_jwk_t *priv)
{
    json_t *payload = ekey_json_own(p, json_pack("{s:s}", "m", "hello"));
    ekey_jws_t *jws;
    char *c;

    assert_int_equal(ekey_jws_sign(&c, p, NULL, payload, priv, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_parse(&jws, p, c, strlen(c), 0, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_OK);
    return jws;
}

#endif /* CACHE_FIXTURE_H */
