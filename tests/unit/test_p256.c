/*
 * test_p256.c - p256.c's ES256 verification gives OpenSSL's answer (EVP_PKEY_verify) for
 * every input: valid signatures, changed bits, high s, scalars at and past the order, the
 * digests 0 and n, a sum at infinity, x(R) >= n; for the variable-base path and for keys
 * with a table of multiples. The tables are shared per key and bounded; the path can be
 * switched off (FIPS, tests) and jws.c then verifies through EVP.
 */
#include "cache_fixture.h"
#include "ecdsa_oracle.h"

#include <pthread.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

/* P-256's order n, big-endian */
static const unsigned char order_be[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
    0x25, 0x51
};

static int evp_verify(EVP_PKEY *pkey, const unsigned char *md, const unsigned char *rs)
{
    int ok = ecdsa_oracle_verify(pkey, md, rs);

    assert_true(ok >= 0);
    return ok;
}

static void evp_sign(unsigned char *rs, EVP_PKEY *priv, const unsigned char *md)
{
    assert_true(ecdsa_oracle_sign(rs, priv, md));
}

/* The public key's two p256 verifiers: variable-base and with its table. */
typedef struct {
    ekey_jwk_t *priv, *pub;
    ekey_p256_t *plain, *fixed;
} key_t_;

static void key_make(key_t_ *k, apr_pool_t *p)
{
    assert_int_equal(ekey_jwk_generate(&k->priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    k->pub = public_of(p, k->priv);
    k->plain = ekey_p256_ref((ekey_p256_t *)ekey_jwk_p256(k->pub));
    assert_non_null(k->plain);
    assert_false(ekey_p256_is_fixed(k->plain));
    k->fixed = ekey_p256_fixed(k->plain);
    assert_true(ekey_p256_is_fixed(k->fixed));
}

static void key_drop(key_t_ *k)
{
    ekey_p256_unref(k->plain);
    ekey_p256_unref(k->fixed);
}

/* Both verifiers give OpenSSL's answer; returns it. */
static int agree(const key_t_ *k, const unsigned char *md, const unsigned char *rs)
{
    int want = evp_verify(ekey_jwk_pkey(k->pub), md, rs);

    assert_int_equal(ekey_p256_verify(k->plain, md, rs), want);
    assert_int_equal(ekey_p256_verify(k->fixed, md, rs), want);
    return want;
}

/* s -> n - s: the other valid s of every ECDSA signature (JOSE has no low-s rule). */
static void negate_s(unsigned char *rs)
{
    BIGNUM *s = BN_bin2bn(rs + 32, 32, NULL), *n = BN_bin2bn(order_be, 32, NULL);

    assert_true(BN_sub(s, n, s));
    assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
    BN_free(s);
    BN_free(n);
}

/* ------------------------------------------------------------ agreement */

static void test_agrees_with_openssl(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char md[32], rs[64], bad[64], md2[32];
    int i, j, bit;
    key_t_ k;

    ekey_p256_release();                /* a registry of our own */
    for (i = 0; i < 6; i++) {
        key_make(&k, p);
        for (j = 0; j < 40; j++) {
            assert_int_equal(RAND_bytes(md, sizeof(md)), 1);
            evp_sign(rs, ekey_jwk_pkey(k.priv), md);
            assert_true(agree(&k, md, rs));
            /* one bit of r, of s, of the digest */
            bit = j * 7 % 256;
            memcpy(bad, rs, sizeof(bad));
            bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            assert_false(agree(&k, md, bad));
            memcpy(bad, rs, sizeof(bad));
            bad[32 + bit / 8] ^= (unsigned char)(1u << (bit % 8));
            assert_false(agree(&k, md, bad));
            memcpy(md2, md, sizeof(md2));
            md2[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            assert_false(agree(&k, md2, rs));
            /* high s verifies, as it does in OpenSSL */
            memcpy(bad, rs, sizeof(bad));
            negate_s(bad);
            assert_true(agree(&k, md, bad));
            /* r and s swapped, random r || s */
            memcpy(bad, rs + 32, 32);
            memcpy(bad + 32, rs, 32);
            assert_false(agree(&k, md, bad));
            assert_int_equal(RAND_bytes(bad, sizeof(bad)), 1);
            assert_false(agree(&k, md, bad));
        }
        key_drop(&k);
    }
}

/* r or s of 0, n, n + 1, 2^256 - 1 (out of range) and 1, n - 1 (in range, wrong). */
static void test_scalar_edges(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char md[32], rs[64], edge[6][32], bad[64];
    int i, half;
    key_t_ k;

    key_make(&k, p);
    assert_int_equal(RAND_bytes(md, sizeof(md)), 1);
    evp_sign(rs, ekey_jwk_pkey(k.priv), md);
    memset(edge[0], 0, 32);                             /* 0 */
    memcpy(edge[1], order_be, 32);                      /* n */
    memcpy(edge[2], order_be, 32);
    edge[2][31]++;                                      /* n + 1 */
    memset(edge[3], 0xff, 32);                          /* 2^256 - 1 */
    memset(edge[4], 0, 32);
    edge[4][31] = 1;                                    /* 1 */
    memcpy(edge[5], order_be, 32);
    edge[5][31]--;                                      /* n - 1 */
    for (half = 0; half < 2; half++) {
        for (i = 0; i < 6; i++) {
            memcpy(bad, rs, sizeof(bad));
            memcpy(bad + 32 * half, edge[i], 32);
            assert_false(agree(&k, md, bad));
        }
    }
    key_drop(&k);
}

/* Digests 0, n (both e = 0 mod n: u1 = 0) and 2^256 - 1 (e > n) sign and verify. */
static void test_digest_edges(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char md[3][32], rs[64];
    int i;
    key_t_ k;

    key_make(&k, p);
    memset(md[0], 0, 32);
    memcpy(md[1], order_be, 32);
    memset(md[2], 0xff, 32);
    for (i = 0; i < 3; i++) {
        evp_sign(rs, ekey_jwk_pkey(k.priv), md[i]);
        assert_true(agree(&k, md[i], rs));
        rs[40] ^= 1;
        assert_false(agree(&k, md[i], rs));
    }
    key_drop(&k);
}

/* e = -r * d mod n makes u1*G + u2*Q the point at infinity for any s: never valid. */
static void test_sum_at_infinity(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char md[32], rs[64];
    BIGNUM *d = NULL, *r, *e, *n;
    BN_CTX *bn = BN_CTX_new();
    int i;
    key_t_ k;

    key_make(&k, p);
    assert_int_equal(EVP_PKEY_get_bn_param(ekey_jwk_pkey(k.priv), OSSL_PKEY_PARAM_PRIV_KEY, &d),
                     1);
    n = BN_bin2bn(order_be, 32, NULL);
    e = BN_new();
    for (i = 0; i < 4; i++) {
        assert_int_equal(RAND_bytes(rs, sizeof(rs)), 1);
        rs[0] &= 0x7f;                  /* r, s < n */
        rs[32] &= 0x7f;
        r = BN_bin2bn(rs, 32, NULL);
        assert_true(BN_mod_mul(e, r, d, n, bn));
        assert_true(BN_mod_sub(e, n, e, n, bn));
        assert_int_equal(BN_bn2binpad(e, md, 32), 32);
        assert_false(agree(&k, md, rs));
        BN_free(r);
    }
    BN_clear_free(d);
    BN_free(e);
    BN_free(n);
    BN_CTX_free(bn);
    key_drop(&k);
}

/* A key and signature built around a chosen R: R0 = the first point with x >= x0, r =
 * x(R0) + delta, a random digest and s, then Q = u2^-1 (R0 - u1 G), so that u1 G + u2 Q is
 * R0. The cases below turn up once in 2^128 signatures; they cannot be met by chance. */
typedef struct {
    ekey_jwk_t *jwk;
    ekey_p256_t *plain, *fixed;
    unsigned char md[32], rs[64];
    BIGNUM *x, *r;                      /* x(R0) and the signature's r */
} around_t;

static void build_around(around_t *a, apr_pool_t *p, const BIGNUM *x0, const BIGNUM *delta)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *r0 = EC_POINT_new(g), *q = EC_POINT_new(g), *t = EC_POINT_new(g);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *n = BN_bin2bn(order_be, 32, NULL), *qx = BN_new(), *qy = BN_new();
    BIGNUM *s = BN_new(), *w = BN_new(), *e = BN_new(), *u1 = BN_new(), *u2 = BN_new();
    unsigned char bx[32], by[32];
    json_t *j;

    a->x = BN_dup(x0);
    a->r = BN_new();
    assert_true(a->x != NULL && a->r != NULL);
    while (!EC_POINT_set_compressed_coordinates(g, r0, a->x, 0, bn))
        assert_true(BN_add_word(a->x, 1));
    ERR_clear_error();
    assert_true(BN_add(a->r, a->x, delta));
    assert_false(BN_is_negative(a->r) || BN_is_zero(a->r));
    assert_int_equal(RAND_bytes(a->md, sizeof(a->md)), 1);
    assert_true(BN_rand_range(s, n) && !BN_is_zero(s));
    assert_true(BN_mod_inverse(w, s, n, bn) != NULL);
    assert_true(BN_bin2bn(a->md, 32, e) != NULL);
    assert_true(BN_mod_mul(u1, e, w, n, bn) && BN_mod_mul(u2, a->r, w, n, bn));
    assert_true(EC_POINT_mul(g, t, u1, NULL, NULL, bn) && EC_POINT_invert(g, t, bn));
    assert_true(EC_POINT_add(g, t, r0, t, bn));
    assert_true(BN_mod_inverse(w, u2, n, bn) != NULL);
    assert_true(EC_POINT_mul(g, q, NULL, t, w, bn));
    assert_true(EC_POINT_get_affine_coordinates(g, q, qx, qy, bn));
    assert_int_equal(BN_bn2binpad(qx, bx, 32), 32);
    assert_int_equal(BN_bn2binpad(qy, by, 32), 32);
    j = ekey_json_own(p, json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
                                   ekey_b64url_encode(p, bx, 32), "y",
                                   ekey_b64url_encode(p, by, 32)));
    assert_int_equal(ekey_jwk_parse(&a->jwk, p, j, NULL), EKEY_OK);
    a->plain = ekey_p256_new(bx, by);
    a->fixed = ekey_p256_fixed(a->plain);
    assert_true(ekey_p256_is_fixed(a->fixed));
    assert_int_equal(BN_bn2binpad(a->r, a->rs, 32), 32);
    assert_int_equal(BN_bn2binpad(s, a->rs + 32, 32), 32);
    BN_free(n); BN_free(qx); BN_free(qy); BN_free(s); BN_free(w); BN_free(e);
    BN_free(u1); BN_free(u2);
    EC_POINT_free(r0); EC_POINT_free(q); EC_POINT_free(t);
    EC_GROUP_free(g);
    BN_CTX_free(bn);
}

/* The answer of all three verifiers (EVP, variable-base, table) for a->rs; they agree. */
static int around_verify(around_t *a)
{
    int want = evp_verify(ekey_jwk_pkey(a->jwk), a->md, a->rs);

    assert_int_equal(ekey_p256_verify(a->plain, a->md, a->rs), want);
    assert_int_equal(ekey_p256_verify(a->fixed, a->md, a->rs), want);
    return want;
}

static void around_drop(around_t *a)
{
    ekey_p256_unref(a->plain);
    ekey_p256_unref(a->fixed);
    BN_free(a->x);
    BN_free(a->r);
}

/* R with n <= x(R) < p: r = x(R) - n verifies; r = x(R) itself is >= n, out of range. */
static void test_x_above_order(void **state)
{
    BIGNUM *n = BN_bin2bn(order_be, 32, NULL), *delta = BN_new();
    around_t a;

    assert_true(n != NULL && delta != NULL && BN_copy(delta, n) != NULL);
    BN_set_negative(delta, 1);
    build_around(&a, EKEY_TEST_POOL(state), n, delta);          /* r = x - n */
    assert_true(around_verify(&a));
    assert_true(BN_add(a.r, a.r, n) && BN_cmp(a.r, a.x) == 0);
    assert_int_equal(BN_bn2binpad(a.r, a.rs, 32), 32);
    assert_false(around_verify(&a));
    around_drop(&a);
    BN_free(delta);
    BN_free(n);
}

/* R with a small x: r = x(R) + p - n is a valid scalar, and r + n wraps to x(R) mod p, but
 * x(R) mod n is x(R), not r: refused (a comparison of x with (r + n) mod p would accept). */
static void test_x_small_r_wraps(void **state)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *n = BN_bin2bn(order_be, 32, NULL), *pr = BN_new(), *delta = BN_new();
    BIGNUM *one = BN_new();
    around_t a;

    assert_true(g != NULL && n != NULL && pr != NULL && delta != NULL && one != NULL);
    assert_true(EC_GROUP_get_curve(g, pr, NULL, NULL, NULL) && BN_sub(delta, pr, n));
    assert_true(BN_set_word(one, 1));
    build_around(&a, EKEY_TEST_POOL(state), one, delta);        /* r = x + p - n */
    assert_true(BN_cmp(a.r, n) < 0);
    assert_false(around_verify(&a));
    around_drop(&a);
    /* the construction is sound: built with r = x(R), the signature verifies */
    BN_zero(delta);
    build_around(&a, EKEY_TEST_POOL(state), one, delta);
    assert_true(around_verify(&a));
    around_drop(&a);
    BN_free(one);
    BN_free(delta);
    BN_free(pr);
    BN_free(n);
    EC_GROUP_free(g);
}

/* ------------------------------------------------------------ tables */

/* One table per distinct key, shared by every copy; at most 16 per process; the 17th key
 * stays as it was and still verifies. Through the jwk and keyset API too. */
static void test_tables_shared_and_bounded(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *priv, *pub, *again, *keys[17];
    ekey_keyset_t *ks;
    ekey_jws_t *jws;
    ekey_p256_t *a, *b;
    int i;

    ekey_p256_release();
    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    pub = public_of(p, priv);
    again = public_of(p, priv);
    assert_false(ekey_p256_is_fixed(ekey_jwk_p256(pub)));
    assert_int_equal(ekey_jwk_precompute(pub), 1);
    assert_int_equal(ekey_jwk_precompute(pub), 1);         /* idempotent */
    assert_int_equal(ekey_jwk_precompute(again), 1);
    assert_ptr_equal(ekey_jwk_p256(pub), ekey_jwk_p256(again));
    jws = signed_by(p, priv);
    assert_int_equal(ekey_jws_verify(jws, pub, NULL), EKEY_OK);
    jws->sig[5] ^= 1;
    assert_int_equal(ekey_jws_verify(jws, pub, NULL), EKEY_E_SIGNATURE);
    /* 15 more distinct keys fill the registry (16 tables); keys[15] and keys[16] get none */
    ks = ekey_keyset_make(p);
    for (i = 0; i < 17; i++) {
        assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
        keys[i] = public_of(p, priv);
        assert_int_equal(ekey_keyset_add(ks, keys[i], NULL), EKEY_OK);
        if (i == 16)
            assert_int_equal(ekey_jws_verify(signed_by(p, priv), keys[i], NULL), EKEY_OK);
    }
    assert_int_equal(ekey_keyset_precompute(ks), 15);
    assert_false(ekey_p256_is_fixed(ekey_jwk_p256(keys[15])));
    assert_false(ekey_p256_is_fixed(ekey_jwk_p256(keys[16])));
    a = ekey_p256_ref((ekey_p256_t *)ekey_jwk_p256(keys[16]));
    b = ekey_p256_fixed(a);
    assert_ptr_equal(a, b);                                 /* no table: the key itself */
    ekey_p256_unref(a);
    ekey_p256_unref(b);
    /* other algorithms have nothing to precompute */
    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES384, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_precompute(public_of(p, priv)), 0);
    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_EDDSA, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_precompute(public_of(p, priv)), 0);
    /* the registry released, the keys keep their tables and verify */
    ekey_p256_release();
    assert_true(ekey_p256_is_fixed(ekey_jwk_p256(pub)));
    jws->sig[5] ^= 1;
    assert_int_equal(ekey_jws_verify(jws, pub, NULL), EKEY_OK);
}

/* Switched off (as under FIPS), keys come without a p256 verifier and verify through EVP;
 * a key that has one verifies through EVP too while the path is off: p256.c answers -1
 * (not computed) and jws.c falls back, still refusing a forged signature. */
static void test_disabled_falls_back_to_evp(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *priv, *priv2, *before, *during;
    ekey_jws_t *jws, *old;
    unsigned char md[32] = { 1 }, rs[64];

    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    before = public_of(p, priv);
    assert_non_null(ekey_jwk_p256(before));
    assert_null(ekey_jwk_verify_ctx(before));
    old = signed_by(p, priv);
    ekey_p256_set_enabled(0);
    assert_null(ekey_p256_new(md, md));
    /* a new key: the cache would hand out the verifier made before, so this one is fresh */
    assert_int_equal(ekey_jwk_generate(&priv2, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    during = public_of(p, priv2);
    assert_null(ekey_jwk_p256(during));
    assert_non_null(ekey_jwk_verify_ctx(during));
    jws = signed_by(p, priv2);
    assert_int_equal(ekey_jws_verify(jws, during, NULL), EKEY_OK);
    jws->sig[3] ^= 1;
    assert_int_equal(ekey_jws_verify(jws, during, NULL), EKEY_E_SIGNATURE);
    /* the key made with a verifier: -1 from p256.c, EVP's answer from jws.c */
    evp_sign(rs, ekey_jwk_pkey(priv), md);
    assert_int_equal(ekey_p256_verify(ekey_jwk_p256(before), md, rs), -1);
    assert_int_equal(ekey_jws_verify(old, before, NULL), EKEY_OK);
    old->sig[40] ^= 1;
    assert_int_equal(ekey_jws_verify(old, before, NULL), EKEY_E_SIGNATURE);
    ekey_p256_set_enabled(1);
    /* back on: the same key answers through p256.c again */
    assert_int_equal(ekey_p256_verify(ekey_jwk_p256(before), md, rs), 1);
    assert_int_equal(ekey_jws_verify(old, before, NULL), EKEY_E_SIGNATURE);
}

/* Points that are not on the curve (and (0, 0), which no affine point is) get no verifier. */
static void test_new_rejects_points_off_the_curve(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char x[32], y[32], z[32] = { 0 };
    BIGNUM *bx = NULL, *by = NULL;
    ekey_jwk_t *priv;
    ekey_p256_t *k;

    memset(x, 0, sizeof(x));
    memset(y, 0, sizeof(y));
    x[31] = 1;
    y[31] = 1;
    assert_null(ekey_p256_new(x, y));
    assert_null(ekey_p256_new(z, z));
    /* a coordinate at or past the field prime (2^256 - 1) */
    memset(x, 0xff, sizeof(x));
    assert_null(ekey_p256_new(x, y));
    assert_null(ekey_p256_new(NULL, y));
    /* a real point is taken, and the same point with y changed in its last bit is not */
    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(EVP_PKEY_get_bn_param(ekey_jwk_pkey(priv), OSSL_PKEY_PARAM_EC_PUB_X, &bx), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(ekey_jwk_pkey(priv), OSSL_PKEY_PARAM_EC_PUB_Y, &by), 1);
    assert_int_equal(BN_bn2binpad(bx, x, 32), 32);
    assert_int_equal(BN_bn2binpad(by, y, 32), 32);
    BN_free(bx);
    BN_free(by);
    assert_non_null(k = ekey_p256_new(x, y));
    ekey_p256_unref(k);
    y[31] ^= 1;
    assert_null(ekey_p256_new(x, y));
}

/* ------------------------------------------------------------ keys without EVP_PKEY */

/* A coordinate written as itself plus p is the same point to OpenSSL's arithmetic (it
 * reduces), but not a canonical encoding: EVP's import refuses it, and so must p256.c
 * (ekey_jwk_parse's refusal is test_jwk's, with x = p). The point has x < 2^256 - p, so
 * x + p still fits in 32 bytes. */
static void test_noncanonical_coordinate(void **state)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = EC_POINT_new(g);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *x = BN_new(), *y = BN_new(), *pr = BN_new(), *xp = BN_new();
    unsigned char bx[32], by[32], bxp[32];
    ekey_p256_t *k;

    (void)state;
    assert_true(g != NULL && pt != NULL && bn != NULL && x != NULL && y != NULL && pr != NULL
                && xp != NULL);
    assert_true(EC_GROUP_get_curve(g, pr, NULL, NULL, bn) && BN_set_word(x, 1));
    while (!EC_POINT_set_compressed_coordinates(g, pt, x, 0, bn))
        assert_true(BN_add_word(x, 1));
    ERR_clear_error();
    assert_true(EC_POINT_get_affine_coordinates(g, pt, x, y, bn));
    assert_true(BN_add(xp, x, pr) && BN_num_bytes(xp) <= 32);
    assert_int_equal(BN_bn2binpad(x, bx, 32), 32);
    assert_int_equal(BN_bn2binpad(y, by, 32), 32);
    assert_int_equal(BN_bn2binpad(xp, bxp, 32), 32);
    assert_non_null(k = ekey_p256_new(bx, by));                 /* the canonical point */
    ekey_p256_unref(k);
    assert_null(ekey_p256_new(bxp, by));                        /* x + p */
    BN_free(x); BN_free(y); BN_free(pr); BN_free(xp);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    BN_CTX_free(bn);
}

/* ------------------------------------------------------------ threads */

#define NTHREADS 4
#define PER_THREAD 150

typedef struct {
    const key_t_ *k;
    unsigned char md[8][32], rs[8][64];
    int wrong;
} work_t;

static void *verifier(void *arg)
{
    work_t *w = arg;
    unsigned char bad[64];
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        const ekey_p256_t *v = i % 2 ? w->k->fixed : w->k->plain;
        memcpy(bad, w->rs[i % 8], 64);
        bad[i % 64] ^= 0x10;
        w->wrong += ekey_p256_verify(v, w->md[i % 8], w->rs[i % 8]) != 1;
        w->wrong += ekey_p256_verify(v, w->md[i % 8], bad) != 0;
    }
    return NULL;
}

/* ekey_p256_inv_n's answer for a (a BIGNUM in [0, 2^256)) against BN_mod_inverse: the
 * same inverse for 0 < a < n, a refusal for 0 and n. */
static void check_inverse(BIGNUM *a, const BIGNUM *n, BN_CTX *bn)
{
    unsigned char le[32];
    uint64_t limbs[4], out[4];
    BIGNUM *want = BN_new(), *got;
    int i, j, ok;

    assert_int_equal(BN_bn2lebinpad(a, le, 32), 32);
    for (i = 0; i < 4; i++)
        for (limbs[i] = 0, j = 0; j < 8; j++)
            limbs[i] |= (uint64_t)le[8 * i + j] << (8 * j);
    ok = ekey_p256_inv_n(out, limbs);
    if (BN_is_zero(a) || BN_cmp(a, n) == 0) {
        assert_int_equal(ok, 0);
        BN_free(want);
        return;
    }
    assert_int_equal(ok, 1);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 8; j++)
            le[8 * i + j] = (unsigned char)(out[i] >> (8 * j));
    assert_non_null(got = BN_lebin2bn(le, 32, NULL));
    assert_non_null(BN_mod_inverse(want, a, n, bn));
    if (BN_cmp(got, want) != 0) {
        char *h = BN_bn2hex(a);

        fail_msg("inverse of %s differs from BN_mod_inverse", h);
    }
    BN_free(got);
    BN_free(want);
}

/* The inverse of s (divsteps, p256_inv.c) on 20,000 random values and the shapes that
 * stress its word handling: every power of two and 2^k - 1 below n, n - 2^k, the ends of
 * the range, words of all ones or zeros; 0 and n refused. */
static void test_inverse(void **state)
{
    BIGNUM *n = BN_bin2bn(order_be, 32, NULL), *a = BN_new(), *t = BN_new();
    BN_CTX *bn = BN_CTX_new();
    unsigned char raw[32];
    int i, k;

    (void)state;
    assert_true(n != NULL && a != NULL && t != NULL && bn != NULL);
    for (i = 0; i < 20000; i++) {
        assert_true(BN_rand_range(a, n));
        check_inverse(a, n, bn);
    }
    for (k = 0; k < 256; k++) {
        assert_true(BN_set_word(a, 1) && BN_lshift(a, a, k));
        if (BN_cmp(a, n) < 0)
            check_inverse(a, n, bn);
        assert_true(BN_sub(t, a, BN_value_one()));
        if (!BN_is_zero(t) && BN_cmp(t, n) < 0)
            check_inverse(t, n, bn);
        assert_true(BN_sub(t, n, a));
        if (!BN_is_negative(t) && !BN_is_zero(t))
            check_inverse(t, n, bn);
    }
    for (k = 0; k <= 64; k++) {
        assert_true(BN_set_word(a, (BN_ULONG)k));
        check_inverse(a, n, bn);                            /* 0 refused, 1 .. 64 */
        assert_true(BN_sub(a, n, a));
        check_inverse(a, n, bn);                            /* n refused, n - 1 .. n - 64 */
    }
    for (i = 0; i < 4096; i++) {                            /* 8-byte words 0x00.. or 0xff.. */
        assert_int_equal(RAND_bytes(raw, sizeof(raw)), 1);
        for (k = 0; k < 4; k++)
            if ((i >> (2 * k)) & 1)
                memset(raw + 8 * k, (i >> (2 * k + 1)) & 1 ? 0xff : 0x00, 8);
        assert_non_null(BN_bin2bn(raw, 32, a));
        if (BN_cmp(a, n) <= 0)
            check_inverse(a, n, bn);
    }
    BN_free(t);
    BN_free(a);
    BN_free(n);
    BN_CTX_free(bn);
}

/* Threads share the keys, the table and the scratch list: every answer right. */
static void test_threads(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    pthread_t th[NTHREADS];
    work_t w[NTHREADS];
    key_t_ k;
    int i, j;

    key_make(&k, p);
    for (i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].k = &k;
        for (j = 0; j < 8; j++) {
            assert_int_equal(RAND_bytes(w[i].md[j], 32), 1);
            evp_sign(w[i].rs[j], ekey_jwk_pkey(k.priv), w[i].md[j]);
        }
    }
    for (i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, verifier, &w[i]), 0);
    for (i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].wrong, 0);
    }
    key_drop(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_agrees_with_openssl),
        EKEY_TEST(test_scalar_edges),
        EKEY_TEST(test_digest_edges),
        EKEY_TEST(test_sum_at_infinity),
        EKEY_TEST(test_x_above_order),
        EKEY_TEST(test_x_small_r_wraps),
        EKEY_TEST(test_tables_shared_and_bounded),
        EKEY_TEST(test_disabled_falls_back_to_evp),
        EKEY_TEST(test_new_rejects_points_off_the_curve),
        EKEY_TEST(test_noncanonical_coordinate),
        EKEY_TEST(test_inverse),
        EKEY_TEST(test_threads),
    };
    int rc = ekey_test_main(tests);

    ekey_release();
    return rc;
}
