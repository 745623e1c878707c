/*
 * jwk.c - the key object: public JWK import (EC P-256/P-384, OKP Ed25519), keys from PEM
 * files (read in jwk_pem.c) and fresh key pairs, RFC 7638 thumbprints.
 *
 * Every key comes in through one of two gates: ekey_jwk_parse (untrusted JSON: strict
 * base64url, exact coordinate lengths, EVP_PKEY_fromdata then EVP_PKEY_public_check_quick,
 * or the same key from the per-process key cache, keycache.c) or an EVP_PKEY we already
 * hold (PEM file, fresh key pair), described by inspect(). Both end in make_jwk(), which
 * keeps the public members and the thumbprint.
 *
 * A P-256 JWK that p256.c accepts (on the curve, coordinates below p: what EVP's import
 * checks) gets no EVP_PKEY at import: p256.c verifies its signatures, and building one costs
 * more than a verification (EVP_PKEY_fromdata makes a new P-256 group each time). A client
 * with a new key per token pays that on every request. ekey_jwk_pkey makes it on demand.
 */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/params.h>

#include "ekey.h"
#include "ekey_cache.h"

#define MAX_COORD 48

typedef struct {
    ekey_alg_t alg;
    const char *kty, *crv;
    const char *group;          /* OpenSSL group name for EC, NULL for OKP */
    int nid;
    apr_size_t clen;            /* coordinate (or raw public key) length */
} curve_t;

static const curve_t curves[] = {
    { EKEY_ALG_ES256, "EC", "P-256", "P-256", NID_X9_62_prime256v1, 32 },
    { EKEY_ALG_ES384, "EC", "P-384", "P-384", NID_secp384r1, 48 },
    { EKEY_ALG_EDDSA, "OKP", "Ed25519", NULL, NID_ED25519, 32 },
};

struct ekey_jwk_t {
    EVP_PKEY *pkey;             /* NULL until asked for when the key came as p256 only */
    EVP_PKEY_CTX *vctx;         /* prepared ECDSA verification context (public keys) */
    EVP_PKEY_CTX *sctx;         /* prepared ECDSA signing context (signing keys) */
    ekey_p256_t *p256;          /* P-256 public keys: verification without EVP (p256.c) */
    const curve_t *curve;
    const char *x, *y;          /* base64url; y is NULL for OKP */
    const char *thumbprint;
    int has_private;
};

/* Raw facts of a key before it becomes an ekey_jwk_t. */
typedef struct {
    const curve_t *curve;
    unsigned char x[MAX_COORD], y[MAX_COORD];
    int has_private;
} facts_t;

/* Private members of any JWK type (RFC 7517/7518): their presence is an error. */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k", "oth" };

ekey_alg_t ekey_alg_from_name(const char *name)
{
    apr_size_t i;

    if (name == NULL)
        return EKEY_ALG_NONE;
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (strcmp(name, ekey_alg_name(curves[i].alg)) == 0)
            return curves[i].alg;
    return EKEY_ALG_NONE;
}

const char *ekey_alg_name(ekey_alg_t alg)
{
    switch (alg) {
    case EKEY_ALG_ES256:
        return "ES256";
    case EKEY_ALG_ES384:
        return "ES384";
    case EKEY_ALG_EDDSA:
        return "EdDSA";
    default:
        return NULL;
    }
}

static const curve_t *find_curve(const char *kty, const char *crv)
{
    apr_size_t i;

    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (strcmp(kty, curves[i].kty) == 0 && strcmp(crv, curves[i].crv) == 0)
            return &curves[i];
    return NULL;
}

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

/* Hands a reference we own to the pool. */
static EVP_PKEY *own_pkey(apr_pool_t *p, EVP_PKEY *pkey)
{
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    return pkey;
}

static apr_status_t pkey_ctx_cleanup(void *data)
{
    EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
    return APR_SUCCESS;
}

/* A verification context with the algorithm fetched and initialised once, for a public EC
 * key that will verify many signatures (a configured issuer key, a cached DPoP key).
 * NULL when there is none to make: verification then builds its own context per call. */
static EVP_PKEY_CTX *prepare_verify(EVP_PKEY *pkey, const curve_t *c)
{
    EVP_PKEY_CTX *ctx;

    if (c->group == NULL)
        return NULL;                    /* EdDSA verifies one-shot, without a digest */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1)
        return ctx;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

/* The same for a signing key loaded to sign many tokens (an issuer's). */
static EVP_PKEY_CTX *prepare_sign(EVP_PKEY *pkey, const curve_t *c)
{
    EVP_PKEY_CTX *ctx;

    if (c->group == NULL)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx != NULL && EVP_PKEY_sign_init(ctx) == 1)
        return ctx;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

/* Hands a verification context (or NULL) to the key and its pool. */
static void own_vctx(apr_pool_t *p, ekey_jwk_t *k, EVP_PKEY_CTX *ctx)
{
    k->vctx = ctx;
    if (ctx != NULL)
        apr_pool_cleanup_register(p, ctx, pkey_ctx_cleanup, apr_pool_cleanup_null);
}

static apr_status_t p256_cleanup(void *data)
{
    ekey_jwk_t *k = data;

    ekey_p256_unref(k->p256);
    k->p256 = NULL;
    return APR_SUCCESS;
}

/* Hands a P-256 verifier reference (or NULL) to the key and its pool. */
static void own_p256(apr_pool_t *p, ekey_jwk_t *k, ekey_p256_t *v)
{
    k->p256 = v;
    if (v != NULL)
        apr_pool_cleanup_register(p, k, p256_cleanup, apr_pool_cleanup_null);
}

/* How a public key will verify: P-256 through p256.c when it can, else a prepared EVP
 * context (NULL for EdDSA, which verifies one-shot). */
static void prepare_public(apr_pool_t *p, ekey_jwk_t *k, EVP_PKEY *pkey, const facts_t *f)
{
    if (f->curve->alg == EKEY_ALG_ES256)
        own_p256(p, k, ekey_p256_new(f->x, f->y));
    if (k->p256 == NULL)
        own_vctx(p, k, prepare_verify(pkey, f->curve));
}

static ekey_status_t fail_ssl(ekey_error_t *err, ekey_status_t st, const char *where,
                              const char *what)
{
    ekey_error_set(err, st, where, "%s", what);
    ekey_error_drain_openssl(err);
    return st;
}

/* Builds a public-only EVP_PKEY from raw coordinates and checks it (on the curve, in range,
 * not the point at infinity; for Ed25519 not of small order). The caller owns the result. */
static ekey_status_t import_public(EVP_PKEY **out, const facts_t *f, ekey_status_t st,
                                   ekey_error_t *err)
{
    const curve_t *c = f->curve;
    unsigned char pt[1 + 2 * MAX_COORD];
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;
    int ok;

    *out = NULL;
    if (c->group == NULL) {
        if (ekey_ed25519_weak(f->x))
            return ekey_error_set(err, st, "jwk.key",
                                  "Ed25519 key of small order or not canonical");
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, f->x, c->clen);
    }
    else {
        pt[0] = 0x04;                       /* uncompressed point: 04 || x || y */
        memcpy(pt + 1, f->x, c->clen);
        memcpy(pt + 1 + c->clen, f->y, c->clen);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                     (char *)c->group, 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt,
                                                      1 + 2 * c->clen);
        params[2] = OSSL_PARAM_construct_end();
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1
             && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
        EVP_PKEY_CTX_free(ctx);
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (pkey == NULL)
        return fail_ssl(err, st, "jwk.import", "public key rejected (not on the curve?)");
    /* The quick check (point on the curve, not at infinity) is complete for our curves:
     * P-256 and P-384 have cofactor 1, so every point on the curve is in the prime-order
     * group, and the full check's multiplication by the order adds nothing but ~40 us. */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    ok = ctx != NULL && EVP_PKEY_public_check_quick(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return fail_ssl(err, st, "jwk.import", "public key check failed");
    }
    *out = pkey;
    return EKEY_OK;
}

static ekey_status_t inspect_ec(facts_t *f, EVP_PKEY *pkey, ekey_status_t st,
                                ekey_error_t *err)
{
    char group[64];
    size_t glen = 0;
    BIGNUM *bx = NULL, *by = NULL, *d = NULL;
    apr_size_t i;
    int nid, ok;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &glen) != 1)
        return fail_ssl(err, st, "jwk.key", "EC key without a named group");
    nid = OBJ_sn2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if (curves[i].group != NULL && curves[i].nid == nid)
            f->curve = &curves[i];
    if (f->curve == NULL)
        return ekey_error_set(err, st, "jwk.key", "unsupported EC curve %.40s", group);
    ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1
         && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1
         && BN_bn2binpad(bx, f->x, (int)f->curve->clen) == (int)f->curve->clen
         && BN_bn2binpad(by, f->y, (int)f->curve->clen) == (int)f->curve->clen;
    BN_free(bx);
    BN_free(by);
    if (!ok)
        return fail_ssl(err, st, "jwk.key", "EC key without a public point");
    f->has_private = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
    BN_clear_free(d);
    ERR_clear_error();                  /* "no private key" is an answer, not an error */
    return EKEY_OK;
}

/* Reads curve, public coordinates and privateness of a key we hold. */
static ekey_status_t inspect(facts_t *f, EVP_PKEY *pkey, ekey_status_t st, ekey_error_t *err)
{
    size_t len;

    memset(f, 0, sizeof(*f));
    if (pkey == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.key", "no key");
    if (EVP_PKEY_is_a(pkey, "EC"))
        return inspect_ec(f, pkey, st, err);
    if (!EVP_PKEY_is_a(pkey, "ED25519"))
        return ekey_error_set(err, st, "jwk.key", "unsupported key type");
    f->curve = &curves[2];
    len = sizeof(f->x);
    if (EVP_PKEY_get_raw_public_key(pkey, f->x, &len) != 1 || len != f->curve->clen)
        return fail_ssl(err, st, "jwk.key", "Ed25519 key without a public key");
    if (ekey_ed25519_weak(f->x))
        return ekey_error_set(err, st, "jwk.key", "Ed25519 key of small order or not canonical");
    len = 0;
    f->has_private = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 && len > 0;
    ERR_clear_error();
    return EKEY_OK;
}

/* The RFC 7638 member string of our key types: required members, sorted, no whitespace.
 * Values are fixed names and base64url, so nothing needs escaping. */
static const char *thumb_input(apr_pool_t *p, const ekey_jwk_t *k)
{
    if (k->y == NULL)
        return apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\"}",
                            k->curve->crv, k->curve->kty, k->x);
    return apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                        k->curve->crv, k->curve->kty, k->x, k->y);
}

/* thumb: the thumbprint when already known (a key cache hit), else NULL. */
static ekey_jwk_t *make_jwk(apr_pool_t *p, EVP_PKEY *owned, const facts_t *f,
                            const char *thumb)
{
    ekey_jwk_t *k = apr_pcalloc(p, sizeof(*k));
    const char *in;

    k->pkey = owned;
    k->curve = f->curve;
    k->has_private = f->has_private;
    k->x = ekey_b64url_encode(p, f->x, f->curve->clen);
    if (f->curve->group != NULL)
        k->y = ekey_b64url_encode(p, f->y, f->curve->clen);
    if (thumb != NULL) {
        k->thumbprint = apr_pstrdup(p, thumb);
        return k;
    }
    in = thumb_input(p, k);
    k->thumbprint = ekey_sha256_b64url(p, in, strlen(in));
    return k->thumbprint != NULL ? k : NULL;
}

/* The public bytes a key is cached by: x || y (EC) or x (Ed25519). */
static apr_size_t cache_bytes(unsigned char *buf, const facts_t *f)
{
    apr_size_t n = f->curve->clen;

    memcpy(buf, f->x, n);
    if (f->curve->group == NULL)
        return n;
    memcpy(buf + n, f->y, n);
    return 2 * n;
}

/* key_ops (RFC 7517 §4.3): an array of distinct strings, "verify" among them (at most 8:
 * the RFC defines 8 operations). */
static int verify_op(json_t *ops)
{
    apr_size_t i, j, n = json_array_size(ops);
    int verify = 0;

    if (!json_is_array(ops) || n > 8)
        return 0;
    for (i = 0; i < n; i++) {
        const char *op = json_string_value(json_array_get(ops, i));

        if (op == NULL)
            return 0;
        for (j = 0; j < i; j++)
            if (strcmp(op, json_string_value(json_array_get(ops, j))) == 0)
                return 0;
        verify |= strcmp(op, "verify") == 0;
    }
    return verify;
}

/* kty, crv, use, key_ops, kid and alg of an untrusted JWK object. */
static ekey_status_t check_members(const curve_t **out, json_t *jwk, ekey_error_t *err)
{
    const char *kty, *crv, *use, *alg;
    const curve_t *c;
    json_t *k;
    ekey_status_t st;
    apr_size_t i;

    *out = NULL;
    if (!json_is_object(jwk))
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "not a JSON object");
    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (json_object_get(jwk, private_members[i]) != NULL)
            return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "private member \"%s\"",
                                  private_members[i]);
    if ((st = ekey_json_get_string(&kty, jwk, "kty", 1, EKEY_E_JWK, err)) != EKEY_OK
        || (st = ekey_json_get_string(&crv, jwk, "crv", 1, EKEY_E_JWK, err)) != EKEY_OK
        || (st = ekey_json_get_string(&use, jwk, "use", 0, EKEY_E_JWK, err)) != EKEY_OK
        || (st = ekey_json_get_string(&alg, jwk, "alg", 0, EKEY_E_JWK, err)) != EKEY_OK)
        return st;
    if ((c = find_curve(kty, crv)) == NULL)
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "unsupported kty/crv");
    if (use != NULL && strcmp(use, "sig") != 0)
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "use is not \"sig\"");
    /* the other members RFC 7517 defines, where present, must say the same; members it does
     * not define are ignored (RFC 7517 §4), none of them is read */
    if ((k = json_object_get(jwk, "kid")) != NULL && !json_is_string(k))
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "kid is not a string");
    if ((k = json_object_get(jwk, "key_ops")) != NULL && !verify_op(k))
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse",
                              "key_ops is not an array of strings naming \"verify\"");
    /* One key, one algorithm (RFC 8725 §3.1). */
    if (alg != NULL && ekey_alg_from_name(alg) != c->alg)
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse", "alg does not fit the key");
    *out = c;
    return EKEY_OK;
}

static ekey_status_t decode_coord(unsigned char *buf, json_t *jwk, const char *name,
                                  apr_size_t clen, ekey_error_t *err)
{
    const char *v;
    ekey_status_t st;

    if ((st = ekey_json_get_string(&v, jwk, name, 1, EKEY_E_JWK, err)) != EKEY_OK)
        return st;
    if (ekey_b64url_decode_exact(buf, clen, v, strlen(v), err) != EKEY_OK)
        return ekey_error_set(err, EKEY_E_JWK, "jwk.parse",
                              "\"%s\" is not %" APR_SIZE_T_FMT " bytes of strict base64url",
                              name, clen);
    return EKEY_OK;
}

static apr_status_t lazy_pkey_cleanup(void *data)
{
    ekey_jwk_t *k = data;

    EVP_PKEY_free(__atomic_exchange_n(&k->pkey, NULL, __ATOMIC_ACQ_REL));
    return APR_SUCCESS;
}

/* A P-256 key that p256.c took (it checked the point): kept and cached without an
 * EVP_PKEY. The cleanup frees the one ekey_jwk_pkey may make later. */
static ekey_status_t adopt_p256(ekey_jwk_t **out, apr_pool_t *p, ekey_p256_t *v256,
                                const facts_t *f, const unsigned char *pub, apr_size_t n,
                                ekey_error_t *err)
{
    if ((*out = make_jwk(p, NULL, f, NULL)) == NULL) {
        ekey_p256_unref(v256);
        return ekey_error_set(err, EKEY_E_CRYPTO, "jwk.parse", "thumbprint failed");
    }
    own_p256(p, *out, v256);
    apr_pool_cleanup_register(p, *out, lazy_pkey_cleanup, apr_pool_cleanup_null);
    ekey_keycache_put(f->curve->alg, pub, n, NULL, NULL, v256, (*out)->thumbprint);
    return EKEY_OK;
}

ekey_status_t ekey_jwk_parse(ekey_jwk_t **out, apr_pool_t *p, json_t *jwk, ekey_error_t *err)
{
    unsigned char pub[EKEY_CACHE_MAX_PUB];
    char thumb[EKEY_JKT_LEN + 1];
    facts_t f;
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *vctx;
    ekey_p256_t *v256;
    apr_size_t n;
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.parse", "missing argument");
    *out = NULL;
    memset(&f, 0, sizeof(f));
    if ((st = check_members(&f.curve, jwk, err)) != EKEY_OK)
        return st;
    if ((st = decode_coord(f.x, jwk, "x", f.curve->clen, err)) != EKEY_OK)
        return st;
    if (f.curve->group != NULL
        && (st = decode_coord(f.y, jwk, "y", f.curve->clen, err)) != EKEY_OK)
        return st;
    /* A key imported and checked before (a returning client) is taken from the cache,
     * with its thumbprint; everything above was still checked for this JWK object. */
    n = cache_bytes(pub, &f);
    if (ekey_keycache_get(&pkey, &vctx, &v256, thumb, f.curve->alg, pub, n)) {
        *out = make_jwk(p, pkey != NULL ? own_pkey(p, pkey) : NULL, &f, thumb);
        own_vctx(p, *out, vctx);
        own_p256(p, *out, v256);
        if (pkey == NULL)
            apr_pool_cleanup_register(p, *out, lazy_pkey_cleanup, apr_pool_cleanup_null);
        return EKEY_OK;
    }
    if (f.curve->alg == EKEY_ALG_ES256 && (v256 = ekey_p256_new(f.x, f.y)) != NULL)
        return adopt_p256(out, p, v256, &f, pub, n, err);
    /* else (not on the curve, or p256.c off): EVP's import decides */
    if ((st = import_public(&pkey, &f, EKEY_E_JWK, err)) != EKEY_OK)
        return st;
    *out = make_jwk(p, own_pkey(p, pkey), &f, NULL);
    if (*out == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jwk.parse", "thumbprint failed");
    prepare_public(p, *out, pkey, &f);
    ekey_keycache_put(f.curve->alg, pub, n, pkey, (*out)->vctx, (*out)->p256,
                      (*out)->thumbprint);
    return EKEY_OK;
}

/* Wraps a key whose reference the caller hands over (it is freed with p in every case). */
static ekey_status_t adopt(ekey_jwk_t **out, apr_pool_t *p, EVP_PKEY *pkey, ekey_status_t st,
                           ekey_error_t *err)
{
    facts_t f;
    ekey_status_t rv;

    own_pkey(p, pkey);
    if ((rv = inspect(&f, pkey, st, err)) != EKEY_OK)
        return rv;
    *out = make_jwk(p, pkey, &f, NULL);
    OPENSSL_cleanse(&f, sizeof(f));
    return *out != NULL ? EKEY_OK
                        : ekey_error_set(err, EKEY_E_CRYPTO, "jwk.key", "thumbprint failed");
}

ekey_status_t ekey_jwk_from_pkey(ekey_jwk_t **out, apr_pool_t *p, EVP_PKEY *pkey,
                                 ekey_error_t *err)
{
    if (out == NULL || p == NULL || pkey == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.from_pkey", "missing argument");
    *out = NULL;
    if (EVP_PKEY_up_ref(pkey) != 1)
        return fail_ssl(err, EKEY_E_CRYPTO, "jwk.from_pkey", "EVP_PKEY_up_ref failed");
    return adopt(out, p, pkey, EKEY_E_JWK, err);
}

ekey_status_t ekey_jwk_load_pem(ekey_jwk_t **out, apr_pool_t *p, const char *path,
                                int want_private, ekey_error_t *err)
{
    EVP_PKEY *pkey, *pub;
    facts_t f;
    ekey_status_t st;

    if (out == NULL || p == NULL || path == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.load", "missing argument");
    *out = NULL;
    if ((pkey = ekey_pem_read(path, want_private)) == NULL)
        return fail_ssl(err, EKEY_E_KEY_FILE, "jwk.load",
                        want_private ? "no usable private key in file"
                                     : "no usable public or private key in file");
    own_pkey(p, pkey);
    if ((st = inspect(&f, pkey, EKEY_E_KEY_FILE, err)) != EKEY_OK)
        return st;
    if (want_private && !f.has_private)
        st = ekey_error_set(err, EKEY_E_KEY_FILE, "jwk.load", "not a private key");
    /* A verifier given a private key file keeps only the public half in memory. */
    if (st == EKEY_OK && !want_private && f.has_private
        && (st = import_public(&pub, &f, EKEY_E_KEY_FILE, err)) == EKEY_OK) {
        pkey = own_pkey(p, pub);
        f.has_private = 0;
    }
    if (st == EKEY_OK && (*out = make_jwk(p, pkey, &f, NULL)) == NULL)
        st = ekey_error_set(err, EKEY_E_CRYPTO, "jwk.load", "thumbprint failed");
    if (st == EKEY_OK && !f.has_private)         /* a verifier's key: verifies every request */
        prepare_public(p, *out, pkey, &f);
    if (st == EKEY_OK && f.has_private && ((*out)->sctx = prepare_sign(pkey, f.curve)) != NULL)
        apr_pool_cleanup_register(p, (*out)->sctx, pkey_ctx_cleanup, apr_pool_cleanup_null);
    OPENSSL_cleanse(&f, sizeof(f));
    return st;
}

ekey_status_t ekey_jwk_generate(ekey_jwk_t **out, apr_pool_t *p, ekey_alg_t alg,
                                ekey_error_t *err)
{
    EVP_PKEY *pkey;

    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.generate", "missing argument");
    *out = NULL;
    switch (alg) {
    case EKEY_ALG_ES256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case EKEY_ALG_ES384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case EKEY_ALG_EDDSA:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    default:
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.generate", "unsupported alg");
    }
    if (pkey == NULL)
        return fail_ssl(err, EKEY_E_CRYPTO, "jwk.generate", "key generation failed");
    return adopt(out, p, pkey, EKEY_E_CRYPTO, err);
}

const char *ekey_jwk_thumbprint(const ekey_jwk_t *key)
{
    return key != NULL ? key->thumbprint : NULL;
}

json_t *ekey_jwk_to_json(const ekey_jwk_t *key, apr_pool_t *p, int with_meta)
{
    json_t *o;

    if (key == NULL || p == NULL)
        return NULL;
    o = ekey_json_own(p, json_object());
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "kty", json_string(key->curve->kty));
    json_object_set_new(o, "crv", json_string(key->curve->crv));
    json_object_set_new(o, "x", json_string(key->x));
    if (key->y != NULL)
        json_object_set_new(o, "y", json_string(key->y));
    if (with_meta) {
        json_object_set_new(o, "kid", json_string(key->thumbprint));
        json_object_set_new(o, "alg", json_string(ekey_alg_name(key->curve->alg)));
    }
    return o;
}

ekey_alg_t ekey_jwk_alg(const ekey_jwk_t *key)
{
    return key != NULL ? key->curve->alg : EKEY_ALG_NONE;
}

int ekey_jwk_has_private(const ekey_jwk_t *key)
{
    return key != NULL && key->has_private;
}

EVP_PKEY *ekey_jwk_pkey(const ekey_jwk_t *key)
{
    ekey_jwk_t *k = (ekey_jwk_t *)key;  /* only the EVP_PKEY made on demand is set */
    EVP_PKEY *pkey, *none = NULL;
    const unsigned char *xy;
    facts_t f;

    if (k == NULL)
        return NULL;
    if ((pkey = __atomic_load_n(&k->pkey, __ATOMIC_ACQUIRE)) != NULL || k->p256 == NULL)
        return pkey;
    /* a P-256 key imported as p256 only (it may be shared: configured keys are) */
    xy = ekey_p256_xy(k->p256);
    memset(&f, 0, sizeof(f));
    f.curve = k->curve;
    memcpy(f.x, xy, 32);
    memcpy(f.y, xy + 32, 32);
    if (import_public(&pkey, &f, EKEY_E_JWK, NULL) != EKEY_OK) {
        ERR_clear_error();
        return NULL;
    }
    if (!__atomic_compare_exchange_n(&k->pkey, &none, pkey, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        EVP_PKEY_free(pkey);            /* another thread was first: its key */
        return none;
    }
    return pkey;
}

EVP_PKEY_CTX *ekey_jwk_verify_ctx(const ekey_jwk_t *key)
{
    return key != NULL ? key->vctx : NULL;
}

EVP_PKEY_CTX *ekey_jwk_sign_ctx(const ekey_jwk_t *key)
{
    return key != NULL ? key->sctx : NULL;
}

const ekey_p256_t *ekey_jwk_p256(const ekey_jwk_t *key)
{
    return key != NULL ? key->p256 : NULL;
}

int ekey_jwk_precompute(ekey_jwk_t *key)
{
    ekey_p256_t *f;

    if (key == NULL || key->p256 == NULL)
        return 0;
    f = ekey_p256_fixed(key->p256);
    ekey_p256_unref(key->p256);         /* the pool's cleanup releases the new one */
    key->p256 = f;
    return ekey_p256_is_fixed(f);
}
