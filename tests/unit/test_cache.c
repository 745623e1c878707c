/*
 * test_cache.c - the per-process caches of the request path (keycache.c, hdrcache.c,
 * sigcache.c): a cache only ever saves work. A different key, a changed byte or a forged
 * signature never hits; claims and header rules are checked on every use; refused input is
 * never kept; the tables stay bounded; threads sharing them get the same answers as one.
 */
#include "cache_fixture.h"

#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

/* ------------------------------------------------------------- signature cache */

static void test_sigcache_stores_only_reusable_verified_tokens(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_token_policy_t pol;
    fixture_t f;
    char *t5, *t1;
    const char *kid;

    fixture(&f, p);
    pol = policy(f.ks);
    kid = ekey_jwk_thumbprint(f.priv);
    t5 = mint(p, &f, f.priv, 5);
    t1 = mint(p, &f, f.priv, 1);
    assert_false(sigcache_has(t5, kid, NOW));
    assert_int_equal(verify(p, t5, &pol), EKEY_OK);
    assert_true(sigcache_has(t5, kid, NOW));
    assert_int_equal(verify(p, t5, &pol), EKEY_OK);       /* the second use: a hit */
    assert_int_equal(verify(p, t1, &pol), EKEY_OK);
    assert_false(sigcache_has(t1, kid, NOW));              /* limit 1: never presented again */
    /* a changed signature byte is another digest: verified in full, refused, not stored */
    assert_int_equal(verify(p, flip_sig(p, t5), &pol), EKEY_E_SIGNATURE);
    assert_false(sigcache_has(flip_sig(p, t5), kid, NOW));
    /* refused tokens are never stored */
    pol.audience = "https://other.example";
    assert_int_equal(verify(p, t1, &pol), EKEY_E_AUDIENCE);
}

static void test_sigcache_hit_still_checks_claims_and_key(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_token_policy_t pol;
    ekey_keyset_t *other;
    ekey_jwk_t *k2;
    fixture_t f;
    char *tok;

    fixture(&f, p);
    tok = mint(p, &f, f.priv, 5);
    pol = policy(f.ks);
    assert_int_equal(verify(p, tok, &pol), EKEY_OK);
    assert_true(sigcache_has(tok, ekey_jwk_thumbprint(f.priv), NOW));
    pol.audience = "https://other.example";
    assert_int_equal(verify(p, tok, &pol), EKEY_E_AUDIENCE);
    pol = policy(f.ks);
    pol.issuer = "https://other.example";
    assert_int_equal(verify(p, tok, &pol), EKEY_E_ISSUER);
    pol = policy(f.ks);
    pol.now = NOW + 60 + 30;                               /* exp + skew */
    assert_int_equal(verify(p, tok, &pol), EKEY_E_EXPIRED);
    pol = policy(f.ks);
    pol.max_limit = 2;
    assert_int_equal(verify(p, tok, &pol), EKEY_E_CLAIMS);
    pol = policy(f.ks);
    pol.algs = EKEY_ALG_ES384;
    assert_int_equal(verify(p, tok, &pol), EKEY_E_ALG);
    /* a location that does not trust the key that verified it */
    assert_int_equal(ekey_jwk_generate(&k2, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    other = ekey_keyset_make(p);
    assert_int_equal(ekey_keyset_add(other, public_of(p, k2), NULL), EKEY_OK);
    pol = policy(other);
    assert_int_equal(verify(p, tok, &pol), EKEY_E_KID);
    pol = policy(f.ks);
    assert_int_equal(verify(p, tok, &pol), EKEY_OK);
}

/* A token signed by another key under the trusted kid never verifies, before or after the
 * genuine token with the same claims was cached. */
static void test_sigcache_forgery_under_trusted_kid(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_token_policy_t pol;
    ekey_jwk_t *evil;
    json_t *hdr, *payload;
    ekey_jws_t *jws;
    fixture_t f;
    char *tok, *forged;

    fixture(&f, p);
    pol = policy(f.ks);
    tok = mint(p, &f, f.priv, 5);
    assert_int_equal(ekey_jwk_generate(&evil, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_parse(&jws, p, tok, strlen(tok), 0, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_OK);
    assert_int_equal(ekey_jws_payload(&payload, p, jws, 0, NULL), EKEY_OK);
    hdr = ekey_json_own(p, json_pack("{s:s,s:s}", "typ", EKEY_TYP_TOKEN, "kid",
                                     ekey_jwk_thumbprint(f.priv)));
    assert_int_equal(ekey_jws_sign(&forged, p, hdr, payload, evil, NULL), EKEY_OK);
    assert_int_equal(verify(p, forged, &pol), EKEY_E_SIGNATURE);
    assert_int_equal(verify(p, tok, &pol), EKEY_OK);
    assert_int_equal(verify(p, forged, &pol), EKEY_E_SIGNATURE);
    assert_int_equal(verify(p, tok, &pol), EKEY_OK);
}

static void test_sigcache_entry_rules(void **state)
{
    unsigned char d[32], d2[32];
    const char *kid = "0123456789012345678901234567890123456789abc";
    const char *kid2 = "0123456789012345678901234567890123456789abd";

    (void)state;
    memset(d, 0x5a, sizeof(d));
    memcpy(d2, d, sizeof(d));
    d2[31] ^= 1;
    ekey_sigcache_put(d, kid, 1000, NULL);
    assert_true(ekey_sigcache_hit(d, kid, 999, NULL));
    assert_false(ekey_sigcache_hit(d, kid, 1000, NULL));    /* expires at exp */
    assert_false(ekey_sigcache_hit(d2, kid, 999, NULL));    /* one bit of the digest */
    assert_false(ekey_sigcache_hit(d, kid2, 999, NULL));    /* another key */
    assert_false(ekey_sigcache_hit(d, "short", 999, NULL));
    ekey_sigcache_put(d2, "short", 1000, NULL);             /* refused: not a thumbprint */
    assert_false(ekey_sigcache_hit(d2, "short", 999, NULL));
}

/* An entry keeps the claims object of its token (one reference), hands out new references
 * on a hit, and lets go of it when refreshed or replaced; a miss hands out nothing. */
static void test_sigcache_keeps_claims(void **state)
{
    unsigned char d[32], d2[32];
    const char *kid = "0123456789012345678901234567890123456789abe";
    json_t *c1 = json_pack("{s:s}", "sub", "one"), *c2 = json_pack("{s:s}", "sub", "two");
    json_t *got = (json_t *)"x";

    (void)state;
    memset(d, 0x6b, sizeof(d));
    memcpy(d2, d, sizeof(d));
    d2[0] ^= 1;
    ekey_sigcache_put(d, kid, 1000, c1);
    assert_int_equal(c1->refcount, 2);
    assert_true(ekey_sigcache_hit(d, kid, 999, &got));
    assert_ptr_equal(got, c1);
    assert_int_equal(c1->refcount, 3);
    json_decref(got);
    assert_false(ekey_sigcache_hit(d2, kid, 999, &got));
    assert_null(got);
    ekey_sigcache_put(d, kid, 1000, c2);                    /* the same token, refreshed */
    assert_int_equal(c1->refcount, 1);
    assert_true(ekey_sigcache_hit(d, kid, 999, &got));
    assert_ptr_equal(got, c2);
    json_decref(got);
    ekey_sigcache_put(d, kid, 1000, NULL);
    assert_int_equal(c2->refcount, 1);
    assert_true(ekey_sigcache_hit(d, kid, 999, &got));
    assert_null(got);                                       /* a hit without claims */
    json_decref(c1);
    json_decref(c2);
}

/* A `limit > 1` token presented again is read from the claims kept with its signature: the
 * same verified claims, and the policy still applies to them on every use. */
static void test_sigcache_claims_reused_and_checked(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_token_policy_t pol;
    ekey_token_t *a = NULL, *b = NULL;
    fixture_t f;
    char *t5;

    fixture(&f, p);
    pol = policy(f.ks);
    t5 = mint(p, &f, f.priv, 5);
    assert_int_equal(ekey_token_verify(&a, p, t5, strlen(t5), &pol, NULL), EKEY_OK);
    assert_int_equal(ekey_token_verify(&b, p, t5, strlen(t5), &pol, NULL), EKEY_OK);
    assert_string_equal(b->sub, a->sub);
    assert_string_equal(b->trace, a->trace);
    assert_string_equal(b->action, a->action);
    assert_string_equal(b->jkt, a->jkt);
    assert_string_equal(b->ath, a->ath);
    assert_int_equal(b->limit, 5);
    assert_int_equal(b->exp, a->exp);
    pol.now = a->exp + pol.skew;                            /* expired now: refused */
    assert_int_equal(ekey_token_verify(&b, p, t5, strlen(t5), &pol, NULL), EKEY_E_EXPIRED);
    pol = policy(f.ks);
    pol.issuer = "https://other.example";
    assert_int_equal(ekey_token_verify(&b, p, t5, strlen(t5), &pol, NULL), EKEY_E_ISSUER);
}

static void test_sigcache_bounded(void **state)
{
    const char *kid = "bounded-bounded-bounded-bounded-bounded-kid";
    unsigned char d[32];
    unsigned i, hits = 0;

    (void)state;
    memset(d, 0, sizeof(d));
    for (i = 0; i < 5000; i++) {
        ekey_sha256_raw(d, &i, sizeof(i));
        ekey_sigcache_put(d, kid, APR_INT64_MAX, NULL);
    }
    for (i = 0; i < 5000; i++) {
        ekey_sha256_raw(d, &i, sizeof(i));
        hits += (unsigned)ekey_sigcache_hit(d, kid, 1, NULL);
    }
    assert_true(hits > 0);
    assert_true(hits <= 1024);
}

/* ------------------------------------------------------------------ key cache */

static void test_keycache_exact_key(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *a, *b, *a1, *a2, *b1, *bad;
    json_t *near;
    char *x;
    const char *tp;

    assert_int_equal(ekey_jwk_generate(&a, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_generate(&b, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_parse(&a1, p, jwk_json(p, a), NULL), EKEY_OK);   /* miss */
    assert_int_equal(ekey_jwk_parse(&a2, p, jwk_json(p, a), NULL), EKEY_OK);   /* hit */
    assert_int_equal(ekey_jwk_parse(&b1, p, jwk_json(p, b), NULL), EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(a1), ekey_jwk_thumbprint(a));
    assert_string_equal(ekey_jwk_thumbprint(a2), ekey_jwk_thumbprint(a));
    assert_string_equal(ekey_jwk_thumbprint(b1), ekey_jwk_thumbprint(b));
    assert_int_equal(ekey_jws_verify(signed_by(p, a), a2, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_verify(signed_by(p, b), b1, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_verify(signed_by(p, a), b1, NULL), EKEY_E_SIGNATURE);
    assert_int_equal(ekey_jws_verify(signed_by(p, b), a2, NULL), EKEY_E_SIGNATURE);
    /* one character of a cached key's x changed: checked as a new key (off the curve) */
    near = jwk_json(p, a);
    x = apr_pstrdup(p, json_string_value(json_object_get(near, "x")));
    x[10] = x[10] == 'A' ? 'B' : 'A';
    json_object_set_new(near, "x", json_string(x));
    assert_int_equal(ekey_jwk_parse(&bad, p, near, NULL), EKEY_E_JWK);
    assert_null(bad);
    /* the members around a cached key are still checked on every import */
    near = jwk_json(p, a);
    json_object_set_new(near, "d", json_string("AAAA"));
    assert_int_equal(ekey_jwk_parse(&bad, p, near, NULL), EKEY_E_JWK);
    near = jwk_json(p, a);
    json_object_set_new(near, "alg", json_string("ES384"));
    assert_int_equal(ekey_jwk_parse(&bad, p, near, NULL), EKEY_E_JWK);
    near = jwk_json(p, a);
    json_object_set_new(near, "crv", json_string("P-384"));
    assert_int_equal(ekey_jwk_parse(&bad, p, near, NULL), EKEY_E_JWK);
    assert_int_equal(ekey_jwk_thumbprint_json(&tp, p, jwk_json(p, a), NULL), EKEY_OK);
    assert_string_equal(tp, ekey_jwk_thumbprint(a2));
}

/* (x, p - y) is the negated point: on the curve, same x, another key. With (x, y) cached it
 * must import as itself, with its own thumbprint, and not verify (x, y)'s signatures. */
static void test_keycache_negated_point(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *P256_P =
        "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF";
    unsigned char y[32], ny[32];
    BIGNUM *bp = NULL, *by;
    ekey_jwk_t *a, *a1, *neg;
    const char *tp;
    json_t *j;

    assert_int_equal(ekey_jwk_generate(&a, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    j = jwk_json(p, a);
    assert_int_equal(ekey_jwk_parse(&a1, p, j, NULL), EKEY_OK);          /* now cached */
    assert_int_equal(ekey_b64url_decode_exact(y, 32, json_string_value(json_object_get(j, "y")),
                                              43, NULL), EKEY_OK);
    assert_true(BN_hex2bn(&bp, P256_P) > 0);
    by = BN_bin2bn(y, 32, NULL);
    assert_non_null(by);
    assert_true(BN_sub(by, bp, by) == 1);
    assert_int_equal(BN_bn2binpad(by, ny, 32), 32);
    BN_free(by);
    BN_free(bp);
    json_object_set_new(j, "y", json_string(ekey_b64url_encode(p, ny, 32)));
    assert_int_equal(ekey_jwk_parse(&neg, p, j, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_thumbprint_json(&tp, p, j, NULL), EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(neg), tp);
    assert_string_not_equal(ekey_jwk_thumbprint(neg), ekey_jwk_thumbprint(a));
    assert_int_equal(ekey_jws_verify(signed_by(p, a), neg, NULL), EKEY_E_SIGNATURE);
    assert_int_equal(ekey_jws_verify(signed_by(p, a), a1, NULL), EKEY_OK);
}

/* A cached client key proves nothing by itself: the proof's signature is checked on every
 * request. */
static void test_keycache_proof_signature_always_checked(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;
    ekey_jwk_t *k;
    char *proof, *bad;

    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    memset(&chk, 0, sizeof(chk));
    chk.method = "GET";
    chk.htu = "https://api.example/x";
    chk.now = NOW;
    chk.skew = 30;
    chk.max_age = 60;
    chk.jkt = ekey_jwk_thumbprint(k);
    assert_int_equal(ekey_dpop_create(&proof, p, k, "GET", chk.htu, NULL, NULL, NOW, NULL),
                     EKEY_OK);
    assert_int_equal(ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, NULL), EKEY_OK);
    assert_int_equal(ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, NULL), EKEY_OK);
    bad = flip_sig(p, proof);
    assert_int_equal(ekey_dpop_verify(&d, p, bad, strlen(bad), &chk, NULL), EKEY_E_PROOF);
    assert_null(d);
}

static void test_keycache_bounded(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char pub[64];
    char thumb[EKEY_JKT_LEN + 1];
    EVP_PKEY *pk;
    EVP_PKEY_CTX *vctx;
    ekey_p256_t *v256;
    ekey_jwk_t *k;
    unsigned i, hits = 0;

    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    /* 3000 distinct public byte strings under one (real) key object */
    for (i = 0; i < 3000; i++) {
        memset(pub, 0, sizeof(pub));
        memcpy(pub, &i, sizeof(i));
        ekey_keycache_put(EKEY_ALG_ES256, pub, sizeof(pub), ekey_jwk_pkey(k), NULL, NULL,
                          ekey_jwk_thumbprint(k));
    }
    for (i = 0; i < 3000; i++) {
        memset(pub, 0, sizeof(pub));
        memcpy(pub, &i, sizeof(i));
        if (ekey_keycache_get(&pk, &vctx, &v256, thumb, EKEY_ALG_ES256, pub, sizeof(pub))) {
            hits++;
            assert_null(v256);
            assert_ptr_equal(pk, ekey_jwk_pkey(k));
            assert_string_equal(thumb, ekey_jwk_thumbprint(k));
            EVP_PKEY_free(pk);
            EVP_PKEY_CTX_free(vctx);
        }
    }
    assert_true(hits > 0);
    assert_true(hits <= 1024);
    /* bytes equal to stored ones but for y's first byte: never a hit (about 1 in 256 share
     * a set with their original, so a compare of x alone would show here) */
    for (i = 0; i < 4 * 3000; i++) {
        unsigned orig = i % 3000;
        memset(pub, 0, sizeof(pub));
        memcpy(pub, &orig, sizeof(orig));
        pub[32] = (unsigned char)(1 + i / 3000);
        assert_false(ekey_keycache_get(&pk, &vctx, &v256, thumb, EKEY_ALG_ES256, pub, sizeof(pub)));
        assert_null(pk);
    }
    /* same bytes under another curve id: a miss */
    memset(pub, 0, sizeof(pub));
    assert_false(ekey_keycache_get(&pk, &vctx, &v256, thumb, EKEY_ALG_ES384, pub, sizeof(pub)));
    assert_false(ekey_keycache_get(&pk, &vctx, &v256, thumb, EKEY_ALG_ES256, pub, sizeof(pub) - 1));
}

/* ----------------------------------------------------------------- threads */

#define NKEYS 600
#define NTHREADS 4

typedef struct {
    const char *jwk[NKEYS];     /* serialised public JWKs */
    const char *thumb[NKEYS];
    const ekey_jws_t *msg[NKEYS];   /* a message signed by key i */
    const char *tok, *forged;
    ekey_token_policy_t pol;
} shared_t;

typedef struct {
    shared_t *sh;
    int id;
} worker_t;

static void *worker(void *arg)
{
    shared_t *sh = ((worker_t *)arg)->sh;
    int id = ((worker_t *)arg)->id;
    apr_pool_t *p;
    ekey_jwk_t *k;
    json_t *j;
    int i, n, bad = 0;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return (void *)1;
    for (n = 0; n < 400; n++) {
        i = (n * 7 + id * 151) % NKEYS;
        if (ekey_json_parse(&j, p, sh->jwk[i], strlen(sh->jwk[i]), 0, NULL) != EKEY_OK
            || ekey_jwk_parse(&k, p, j, NULL) != EKEY_OK
            || strcmp(ekey_jwk_thumbprint(k), sh->thumb[i]) != 0
            || ekey_jws_verify(sh->msg[i], k, NULL) != EKEY_OK
            || ekey_jws_verify(sh->msg[(i + 1) % NKEYS], k, NULL) != EKEY_E_SIGNATURE)
            bad++;
        if (n % 20 == 0 && (verify(p, sh->tok, &sh->pol) != EKEY_OK
                            || verify(p, sh->forged, &sh->pol) != EKEY_E_SIGNATURE))
            bad++;
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return bad ? (void *)1 : NULL;
}

/* ------------------------------------------------------------- header cache */

/* "h.p.s" with the given header JSON, an empty payload and 64 signature bytes (ES256 size):
 * enough for ekey_jws_parse, which does not verify. */
static char *compact_with(apr_pool_t *p, const char *hjson)
{
    static const unsigned char sig[64] = { 1 };
    const unsigned char *h = (const unsigned char *)hjson, *pl = (const unsigned char *)"{}";

    return apr_pstrcat(p, ekey_b64url_encode(p, h, strlen(hjson)), ".",
                       ekey_b64url_encode(p, pl, 2), ".",
                       ekey_b64url_encode(p, sig, sizeof(sig)), NULL);
}

static ekey_status_t parse(apr_pool_t *p, const char *c, unsigned algs, int jwk_ok,
                           ekey_jws_t **out)
{
    ekey_jws_t *j = NULL;
    ekey_status_t st = ekey_jws_parse(&j, p, c, strlen(c), 0, algs, jwk_ok, NULL);

    if (out != NULL)
        *out = j;
    return st;
}

/* A header that passed is parsed once: the next parse of the same text gets the same object
 * and the same fields; one changed character is another header. */
static void test_hdrcache_same_text_same_header(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char *a = compact_with(p, "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"hc-1\"}");
    char *b = compact_with(p, "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"hc-2\"}");
    ekey_jws_t *j1, *j2, *j3;

    assert_int_equal(parse(p, a, EKEY_ALGS_ALL, 0, &j1), EKEY_OK);
    assert_int_equal(parse(p, a, EKEY_ALGS_ALL, 0, &j2), EKEY_OK);
    assert_ptr_equal(j1->header, j2->header);
    assert_string_equal(j2->kid, "hc-1");
    assert_string_equal(j2->typ, "ekey+jwt");
    assert_int_equal(j2->alg, EKEY_ALG_ES256);
    assert_int_equal(parse(p, b, EKEY_ALGS_ALL, 0, &j3), EKEY_OK);
    assert_ptr_not_equal(j3->header, j1->header);
    assert_string_equal(j3->kid, "hc-2");
}

/* The header checks run on every parse, with that call's own rules: a header another caller
 * accepted (an embedded jwk, ES256) is refused where those are not allowed. */
static void test_hdrcache_checks_every_time(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    fixture_t f;
    const char *jwk;
    char *c;

    fixture(&f, p);
    jwk = ekey_json_dump(p, ekey_jwk_to_json(f.client, p, 0));
    c = compact_with(p, apr_pstrcat(p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":", jwk,
                                    "}", NULL));
    assert_int_equal(parse(p, c, EKEY_ALGS_ALL, 1, NULL), EKEY_OK);
    assert_int_equal(parse(p, c, EKEY_ALGS_ALL, 1, NULL), EKEY_OK);
    assert_int_equal(parse(p, c, EKEY_ALGS_ALL, 0, NULL), EKEY_E_HEADER);
    assert_int_equal(parse(p, c, EKEY_ALG_EDDSA, 1, NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, c, EKEY_ALGS_ALL, 1, NULL), EKEY_OK);
}

/* Refused headers are never kept: each parse refuses again, and the text never hits. */
static void test_hdrcache_keeps_only_accepted(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const bad[] = {
        "{\"alg\":\"none\",\"typ\":\"ekey+jwt\"}",
        "{\"alg\":\"ES256\",\"jku\":\"https://evil.example/k\"}",
        "{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1}",
        "{\"alg\":\"ES256\",\"alg\":\"ES256\"}",
        "{\"alg\":\"ES256\",\"kid\":7}",
    };
    size_t i;
    int r;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *c = compact_with(p, bad[i]);
        apr_size_t hlen = (apr_size_t)(strchr(c, '.') - c);

        for (r = 0; r < 2; r++)
            assert_int_not_equal(parse(p, c, EKEY_ALGS_ALL, 0, NULL), EKEY_OK);
        assert_null(ekey_hdrcache_get(c, hlen));
    }
}

/* Many distinct headers: the table stays bounded and recent ones still hit. */
static void test_hdrcache_bounded(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char *c = NULL;
    json_t *h;
    int i;

    for (i = 0; i < 5000; i++) {
        c = compact_with(p, apr_psprintf(p, "{\"alg\":\"ES256\",\"kid\":\"k%d\"}", i));
        assert_int_equal(parse(p, c, EKEY_ALGS_ALL, 0, NULL), EKEY_OK);
    }
    h = ekey_hdrcache_get(c, (apr_size_t)(strchr(c, '.') - c));
    assert_non_null(h);
    assert_string_equal(json_string_value(json_object_get(h, "kid")), "k4999");
    json_decref(h);
}


static void test_threads_share_the_caches(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    pthread_t th[NTHREADS];
    worker_t w[NTHREADS];
    shared_t sh;
    fixture_t f;
    ekey_jwk_t *k;
    void *rv;
    int i, failed = 0;

    memset(&sh, 0, sizeof(sh));
    fixture(&f, p);
    for (i = 0; i < NKEYS; i++) {
        assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES256, NULL), EKEY_OK);
        sh.jwk[i] = ekey_json_dump(p, jwk_json(p, k));
        sh.thumb[i] = ekey_jwk_thumbprint(k);
        sh.msg[i] = signed_by(p, k);
    }
    sh.tok = mint(p, &f, f.priv, 50);
    sh.forged = flip_sig(p, sh.tok);
    sh.pol = policy(f.ks);
    for (i = 0; i < NTHREADS; i++) {
        w[i].sh = &sh;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], &rv), 0);
        failed |= rv != NULL;
    }
    assert_false(failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_sigcache_stores_only_reusable_verified_tokens),
        EKEY_TEST(test_sigcache_hit_still_checks_claims_and_key),
        EKEY_TEST(test_sigcache_forgery_under_trusted_kid),
        EKEY_TEST(test_sigcache_entry_rules),
        EKEY_TEST(test_sigcache_keeps_claims),
        EKEY_TEST(test_sigcache_claims_reused_and_checked),
        EKEY_TEST(test_sigcache_bounded),
        EKEY_TEST(test_keycache_exact_key),
        EKEY_TEST(test_keycache_negated_point),
        EKEY_TEST(test_keycache_proof_signature_always_checked),
        EKEY_TEST(test_keycache_bounded),
        EKEY_TEST(test_hdrcache_same_text_same_header),
        EKEY_TEST(test_hdrcache_checks_every_time),
        EKEY_TEST(test_hdrcache_keeps_only_accepted),
        EKEY_TEST(test_hdrcache_bounded),
        EKEY_TEST(test_threads_share_the_caches),
    };

    return ekey_test_main(tests);
}
