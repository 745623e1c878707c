/*
 * proto_test.h - helpers shared by test_token.c and test_dpop.c: signing arbitrary header
 * and payload text (duplicates, odd types, "none" ...) and signature surgery. Test-only.
 */
#ifndef PROTO_TEST_H
#define PROTO_TEST_H

#include "ekey_test.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

/* base64url of a C string. */
static inline char *pt_b64(apr_pool_t *p, const char *s)
{
    return ekey_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

/* Decodes segment i (0 header, 1 payload) of a compact JWS into a string. */
static inline char *pt_segment(apr_pool_t *p, const char *jws, int i)
{
    const char *b = jws, *e;
    unsigned char *out;
    apr_size_t n;

    while (i-- > 0)
        b = strchr(b, '.') + 1;
    e = strchr(b, '.');
    if (ekey_b64url_decode(&out, &n, p, b, (apr_size_t)(e - b), NULL) != EKEY_OK)
        fail_msg("segment does not decode");
    return (char *)out;
}

/* Signs header.payload (given as JSON text, used byte for byte) with an ES256/ES384 key
 * and returns the compact JWS with a raw r || s signature. */
static inline char *pt_sign_text(apr_pool_t *p, const ekey_jwk_t *key, const char *hdr,
                                 const char *payload)
{
    char *si = apr_pstrcat(p, pt_b64(p, hdr), ".", pt_b64(p, payload), NULL);
    int half = ekey_jwk_alg(key) == EKEY_ALG_ES384 ? 48 : 32;
    const EVP_MD *md = half == 48 ? EVP_sha384() : EVP_sha256();
    unsigned char der[128], raw[96];
    const unsigned char *cp = der;
    size_t n = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const BIGNUM *r, *s;
    ECDSA_SIG *es;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, ekey_jwk_pkey(key)), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &n, (const unsigned char *)si, strlen(si)), 1);
    EVP_MD_CTX_free(ctx);
    es = d2i_ECDSA_SIG(NULL, &cp, (long)n);
    assert_non_null(es);
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, half), half);
    assert_int_equal(BN_bn2binpad(s, raw + half, half), half);
    ECDSA_SIG_free(es);
    return apr_pstrcat(p, si, ".", ekey_b64url_encode(p, raw, (apr_size_t)(2 * half)), NULL);
}

/* Replaces the signature of an ES256 JWS by raw bytes. */
static inline char *pt_with_sig(apr_pool_t *p, const char *jws, const unsigned char *sig,
                                apr_size_t n)
{
    const char *last = strrchr(jws, '.');
    return apr_pstrcat(p, apr_pstrmemdup(p, jws, (apr_size_t)(last - jws)), ".",
                       ekey_b64url_encode(p, sig, n), NULL);
}

/* Raw signature bytes of a compact JWS (64 for ES256). */
static inline apr_size_t pt_sig(unsigned char *out, const char *jws)
{
    const char *last = strrchr(jws, '.') + 1;
    unsigned char *raw;
    apr_size_t n;
    apr_pool_t *tmp;

    apr_pool_create(&tmp, NULL);
    if (ekey_b64url_decode(&raw, &n, tmp, last, strlen(last), NULL) != EKEY_OK)
        fail_msg("signature does not decode");
    memcpy(out, raw, n);
    apr_pool_destroy(tmp);
    return n;
}

/* The same ES256 signature with s replaced by n - s (the other valid half, POS-13). */
static inline char *pt_flip_s(apr_pool_t *p, const char *jws)
{
    unsigned char sig[96];
    apr_size_t n = pt_sig(sig, jws);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL), *ns = BN_new();

    assert_int_equal(n, 64);
    assert_int_equal(BN_sub(ns, EC_GROUP_get0_order(g), s), 1);
    assert_int_equal(BN_bn2binpad(ns, sig + 32, 32), 32);
    BN_free(s);
    BN_free(ns);
    EC_GROUP_free(g);
    return pt_with_sig(p, jws, sig, 64);
}

/* Flips one bit of the signature. */
static inline char *pt_flip_bit(apr_pool_t *p, const char *jws, int byte, int bit)
{
    unsigned char sig[96];
    apr_size_t n = pt_sig(sig, jws);

    sig[byte] ^= (unsigned char)(1u << bit);
    return pt_with_sig(p, jws, sig, n);
}

/* Replaces the payload segment with base64url(payload), keeping header and signature. */
static inline char *pt_swap_payload(apr_pool_t *p, const char *jws, const char *payload)
{
    const char *d1 = strchr(jws, '.'), *d2 = strrchr(jws, '.');
    return apr_pstrcat(p, apr_pstrmemdup(p, jws, (apr_size_t)(d1 - jws)), ".",
                       pt_b64(p, payload), d2, NULL);
}

/* Replaces the header segment, keeping payload and signature. */
static inline char *pt_swap_header(apr_pool_t *p, const char *jws, const char *hdr)
{
    return apr_pstrcat(p, pt_b64(p, hdr), strchr(jws, '.'), NULL);
}

/* Parses JSON text (any value, NUL allowed in strings) into a json_t owned by p. */
/* The failure contract of a verifier (ekey_token_verify, ekey_dpop_verify) for the status
 * st it returned on `input`: on failure no output, err filled with that status and a place,
 * and the detail never quotes the input (a token or proof must not reach a log); on
 * success an output. */
static inline void pt_verify_contract(ekey_status_t st, const void *out,
                                      const ekey_error_t *err, const char *input)
{
    if (st != EKEY_OK) {
        assert_null(out);
        assert_int_equal(err->status, st);
        assert_true(err->where[0] != '\0');
        if (input != NULL && strlen(input) > 8)
            assert_null(strstr(err->text, input));
    }
    else {
        assert_non_null(out);
    }
}

static inline json_t *pt_json(apr_pool_t *p, const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

    if (j == NULL)
        fail_msg("bad test JSON %s: %s", text, je.text);
    return ekey_json_own(p, j);
}

/* Compact JSON text of j. */
static inline char *pt_dump(apr_pool_t *p, json_t *j)
{
    char *s = ekey_json_dump(p, j);
    assert_non_null(s);
    return s;
}

/* Signs a JSON header and claim set with the core's own signer. */
static inline char *pt_sign_json(apr_pool_t *p, json_t *hdr, json_t *claims,
                                 const ekey_jwk_t *key)
{
    char **out = apr_pcalloc(p, sizeof(*out));   /* not a local: gcc 12 sees it dangle */

    assert_status(ekey_jws_sign(out, p, hdr, claims, key, NULL), EKEY_OK);
    return *out;
}

/* Sets (json != NULL) or removes a member; "cap.limit" style paths reach one level down. */
static inline void pt_set_member(apr_pool_t *p, json_t *obj, const char *path, const char *json)
{
    const char *dot = strchr(path, '.');

    if (dot != NULL) {
        obj = json_object_get(obj, apr_pstrmemdup(p, path, (apr_size_t)(dot - path)));
        assert_non_null(obj);
        path = dot + 1;
    }
    if (json == NULL)
        json_object_del(obj, path);
    else
        json_object_set(obj, path, pt_json(p, json));
}

/* Teardown for fixtures whose first member is their pool. */
static inline int pt_teardown(void **state)
{
    apr_pool_destroy(*(apr_pool_t **)*state);
    return 0;
}

#endif /* PROTO_TEST_H */
