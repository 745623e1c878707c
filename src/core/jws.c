/*
 * jws.c - JWS compact serialisation: strict parse, verify, sign (ES256, ES384, EdDSA).
 *
 * Parsing checks everything cheap before any signature work: size, framing, strict
 * base64url, header JSON (duplicates rejected), forbidden members, the alg allowlist and
 * the signature length. Verification takes the key from the caller (configuration or the
 * DPoP jwk), never from a header, and requires the key's alg to be the header's.
 */
#include <pthread.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "ekey.h"
#include "ekey_cache.h"

#define MAX_SIG 96
#define MAX_DER 112                 /* DER of two 48-byte integers is at most 104 bytes */

/* Per-alg facts, resolved once: digests fetched (no implicit fetch per request) and the
 * ECDSA group orders for the r, s range check. Never freed: process lifetime. */
typedef struct {
    ekey_alg_t alg;
    apr_size_t sig_len;             /* raw r || s, or the Ed25519 signature */
    const char *md_name;            /* NULL: EdDSA hashes internally */
    int nid;
    EVP_MD *md;
    unsigned char order[MAX_SIG / 2];   /* group order, big-endian, sig_len / 2 bytes */
} alg_info_t;

static alg_info_t algs_tab[] = {
    { EKEY_ALG_ES256, 64, "SHA256", NID_X9_62_prime256v1, NULL, { 0 } },
    { EKEY_ALG_ES384, 96, "SHA384", NID_secp384r1, NULL, { 0 } },
    { EKEY_ALG_EDDSA, 64, NULL, NID_undef, NULL, { 0 } },
};
/* Digests are fetched on first use and freed by ekey_release (the module is unloaded, and
 * its statics lost, at every graceful restart); a lock rather than pthread_once, so that a
 * use after the release fetches them again. 0: not fetched, 1: ready, -1: failed. The
 * state is read without the lock (atomic acquire); it changes only under it. */
static pthread_mutex_t algs_lock = PTHREAD_MUTEX_INITIALIZER;
static int algs_state;

static void free_algs(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(algs_tab) / sizeof(algs_tab[0]); i++) {
        EVP_MD_free(algs_tab[i].md);
        algs_tab[i].md = NULL;
    }
}

static int init_algs(void)
{
    apr_size_t i;
    EC_GROUP *g;
    int ok;

    for (i = 0; i < sizeof(algs_tab) / sizeof(algs_tab[0]); i++) {
        alg_info_t *a = &algs_tab[i];
        int half = (int)(a->sig_len / 2);
        if (a->md_name == NULL)
            continue;
        a->md = EVP_MD_fetch(NULL, a->md_name, NULL);
        g = EC_GROUP_new_by_curve_name(a->nid);
        ok = g != NULL && BN_bn2binpad(EC_GROUP_get0_order(g), a->order, half) == half;
        EC_GROUP_free(g);
        if (a->md == NULL || !ok)
            return -1;              /* every call fails closed */
    }
    return 1;
}

void ekey_jws_release(void)
{
    pthread_mutex_lock(&algs_lock);
    __atomic_store_n(&algs_state, 0, __ATOMIC_RELEASE);
    free_algs();
    pthread_mutex_unlock(&algs_lock);
}

static const alg_info_t *alg_info(ekey_alg_t alg)
{
    apr_size_t i;

    /* every parse and verify asks: the state is read without the lock once set */
    if (ekey_lazy_state(&algs_state, &algs_lock, init_algs) != 1)
        return NULL;
    for (i = 0; i < sizeof(algs_tab) / sizeof(algs_tab[0]); i++)
        if (algs_tab[i].alg == alg)
            return &algs_tab[i];
    return NULL;
}

/* Header members we never honour. crit: we understand no extension, so any crit fails
 * (RFC 7515 §4.1.11); b64 changes the signing input (RFC 7797); zip is JWE only. */
static const char *const always_forbidden[] = { "crit", "b64", "zip", "jku", "x5u", "x5c" };

static ekey_status_t check_header(ekey_jws_t *jws, unsigned algs, int allow_embedded_jwk,
                                  ekey_error_t *err)
{
    json_t *h = jws->header, *a;
    ekey_status_t st;
    apr_size_t i;

    /* jku/x5u/x5c are refused even where a jwk is allowed: we fetch nothing and trust
     * no certificate chain from a header. */
    for (i = 0; i < sizeof(always_forbidden) / sizeof(always_forbidden[0]); i++)
        if (json_object_get(h, always_forbidden[i]) != NULL)
            return ekey_error_set(err, EKEY_E_HEADER, "jws.header",
                                  "forbidden header member \"%s\"", always_forbidden[i]);
    if (!allow_embedded_jwk && json_object_get(h, "jwk") != NULL)
        return ekey_error_set(err, EKEY_E_HEADER, "jws.header",
                              "forbidden header member \"jwk\"");
    a = json_object_get(h, "alg");
    if (!json_is_string(a))
        return ekey_error_set(err, EKEY_E_ALG, "jws.alg", "alg missing or not a string");
    /* Exact, case-sensitive names: "none", "HS256", "es256" are all EKEY_ALG_NONE. */
    jws->alg = ekey_alg_from_name(json_string_value(a));
    if (jws->alg == EKEY_ALG_NONE || (jws->alg & algs) == 0)
        return ekey_error_set(err, EKEY_E_ALG, "jws.alg", "alg not allowed");
    if ((st = ekey_json_get_string(&jws->typ, h, "typ", 0, EKEY_E_TYP, err)) != EKEY_OK
        || (st = ekey_json_get_string(&jws->kid, h, "kid", 0, EKEY_E_KID, err)) != EKEY_OK)
        return st;
    return EKEY_OK;
}

/* Splits "h.p.s" into exactly three non-empty segments. */
static ekey_status_t split(const char *c, apr_size_t len, apr_size_t *hlen, apr_size_t *plen,
                           ekey_error_t *err)
{
    const char *d1 = memchr(c, '.', len), *d2;

    if (d1 == NULL)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.format", "no '.' separator");
    d2 = memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - c));
    if (d2 == NULL)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.format", "two segments, want three");
    if (memchr(d2 + 1, '.', len - (apr_size_t)(d2 + 1 - c)) != NULL)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.format", "more than three segments");
    *hlen = (apr_size_t)(d1 - c);
    *plen = (apr_size_t)(d2 - d1 - 1);
    if (*hlen == 0 || *plen == 0 || *hlen + *plen + 2 == len)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.format", "empty segment");
    return EKEY_OK;
}

ekey_status_t ekey_jws_parse(ekey_jws_t **out, apr_pool_t *p, const char *compact,
                             apr_size_t len, apr_size_t max_len, unsigned algs,
                             int allow_embedded_jwk, ekey_error_t *err)
{
    ekey_jws_t *jws;
    apr_size_t hlen = 0, plen = 0, slen, n = 0;
    const char *sig_b64;
    unsigned char *hdr;
    const alg_info_t *ai;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || compact == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.parse", "missing argument");
    if (len > (max_len != 0 ? max_len : EKEY_MAX_TOKEN_LEN))
        return ekey_error_set(err, EKEY_E_TOO_LARGE, "jws.parse",
                              "%" APR_SIZE_T_FMT " bytes, over the limit", len);
    if ((st = split(compact, len, &hlen, &plen, err)) != EKEY_OK)
        return st;
    sig_b64 = compact + hlen + plen + 2;
    slen = len - hlen - plen - 2;
    if (!ekey_b64url_valid(compact, hlen) || !ekey_b64url_valid(compact + hlen + 1, plen)
        || !ekey_b64url_valid(sig_b64, slen))
        return ekey_error_set(err, EKEY_E_BASE64, "jws.base64", "segment not strict base64url");
    jws = apr_pcalloc(p, sizeof(*jws));
    /* A header seen before (same issuer key, same DPoP client) is not decoded and parsed
     * again; check_header runs either way, and only a header that passed it is kept. */
    if ((jws->header = ekey_json_own(p, ekey_hdrcache_get(compact, hlen))) != NULL) {
        if ((st = check_header(jws, algs, allow_embedded_jwk, err)) != EKEY_OK)
            return st;
    }
    else {
        if ((st = ekey_b64url_decode(&hdr, &n, p, compact, hlen, err)) != EKEY_OK
            || (st = ekey_json_parse(&jws->header, p, (const char *)hdr, n, hlen, err))
                   != EKEY_OK)
            return st == EKEY_E_TOO_LARGE ? EKEY_E_JSON : st;
        if ((st = check_header(jws, algs, allow_embedded_jwk, err)) != EKEY_OK)
            return st;
        ekey_hdrcache_put(compact, hlen, jws->header);
    }
    if ((ai = alg_info(jws->alg)) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.parse", "algorithms unavailable");
    if ((st = ekey_b64url_decode(&jws->sig, &jws->sig_len, p, sig_b64, slen, err)) != EKEY_OK)
        return st;
    if (jws->sig_len != ai->sig_len)
        return ekey_error_set(err, EKEY_E_SIGNATURE, "jws.signature",
                              "signature is %" APR_SIZE_T_FMT " bytes, want %" APR_SIZE_T_FMT,
                              jws->sig_len, ai->sig_len);
    jws->signing_input_len = hlen + 1 + plen;
    jws->signing_input = apr_pstrmemdup(p, compact, jws->signing_input_len);
    jws->payload_b64 = jws->signing_input + hlen + 1;
    jws->payload_b64_len = plen;
    *out = jws;
    return EKEY_OK;
}

/* 1 iff 1 <= v <= n-1 for fixed-width big-endian v and n (len bytes each). The values are
 * public (a signature), so plain byte compares are fine. */
static int in_range(const unsigned char *v, const unsigned char *n, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && v[i] == 0; i++)
        ;
    if (i == len)
        return 0;                   /* zero */
    return memcmp(v, n, len) < 0;
}

/* One DER INTEGER of a non-negative big-endian value: leading zeros dropped, a 0x00 added
 * when the top bit is set. Returns the bytes written (at most 2 + 1 + len). */
static apr_size_t der_int(unsigned char *out, const unsigned char *v, apr_size_t len)
{
    apr_size_t i = 0, pad, n;

    while (i + 1 < len && v[i] == 0)
        i++;
    pad = (v[i] & 0x80) != 0;
    n = len - i + pad;
    out[0] = 0x02;
    out[1] = (unsigned char)n;
    out[2] = 0x00;
    memcpy(out + 2 + pad, v + i, len - i);
    return 2 + n;
}

/* Raw r || s to DER, after checking 1 <= r, s <= n-1 ourselves (CVE-2022-21449 class):
 * the range rule must not depend on what a library version happens to check. Written by
 * hand: two short INTEGERs need no BIGNUM or ASN.1 machinery (for r, s of at most 48
 * bytes every length fits one byte, the SEQUENCE's too: at most 2 * 51 = 102 < 128). */
static ekey_status_t ecdsa_der(unsigned char *der, int *derlen, const alg_info_t *ai,
                               const unsigned char *sig, ekey_error_t *err)
{
    apr_size_t half = ai->sig_len / 2, n;

    if (!in_range(sig, ai->order, half) || !in_range(sig + half, ai->order, half))
        return ekey_error_set(err, EKEY_E_SIGNATURE, "jws.signature", "r or s out of range");
    n = der_int(der + 2, sig, half);
    n += der_int(der + 2 + n, sig + half, half);
    der[0] = 0x30;
    der[1] = (unsigned char)n;
    *derlen = (int)(n + 2);
    return EKEY_OK;
}

/* ECDSA on the digest: a P-256 key through p256.c when it has a verifier there, else with
 * a verification context: a copy of the key's prepared one when it has one (no algorithm
 * fetch per call), else a new one. Only exactly 1 is success. */
static int ecdsa_verify(const alg_info_t *ai, const ekey_jwk_t *key, const unsigned char *der,
                        apr_size_t der_len, const ekey_jws_t *jws)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_PKEY_CTX *prepared = ekey_jwk_verify_ctx(key), *ctx;
    const ekey_p256_t *fast = ekey_jwk_p256(key);
    int rc;

    if (EVP_Digest(jws->signing_input, jws->signing_input_len, md, &mdlen, ai->md, NULL) != 1)
        return 0;
    if (fast != NULL && mdlen == 32 && jws->sig_len == 64
        && (rc = ekey_p256_verify(fast, md, jws->sig)) >= 0)
        return rc;                      /* -1: not computed here, EVP decides */
    if (prepared != NULL) {
        ctx = EVP_PKEY_CTX_dup(prepared);
        rc = ctx != NULL;
    }
    else {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ekey_jwk_pkey(key), NULL);
        rc = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1;
    }
    rc = rc && EVP_PKEY_verify(ctx, der, der_len, md, mdlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

ekey_status_t ekey_jws_verify(const ekey_jws_t *jws, const ekey_jwk_t *key, ekey_error_t *err)
{
    const alg_info_t *ai;
    unsigned char der[MAX_DER];
    const unsigned char *sig;
    apr_size_t sig_len;
    int derlen = 0, rc;
    EVP_MD_CTX *ctx;
    ekey_status_t st;

    if (jws == NULL || key == NULL || jws->sig == NULL || jws->signing_input == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.verify", "missing argument");
    /* The key decides the algorithm; the header only has to agree with it. */
    if (ekey_jwk_alg(key) != jws->alg)
        return ekey_error_set(err, EKEY_E_ALG, "jws.verify", "alg is not the key's alg");
    if ((ai = alg_info(jws->alg)) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "algorithms unavailable");
    if (jws->sig_len != ai->sig_len)
        return ekey_error_set(err, EKEY_E_SIGNATURE, "jws.signature", "wrong length");
    sig = jws->sig;
    sig_len = jws->sig_len;
    if (ai->md != NULL) {
        if ((st = ecdsa_der(der, &derlen, ai, jws->sig, err)) != EKEY_OK)
            return st;
        sig = der;
        sig_len = (apr_size_t)derlen;
    }
    if (ai->md != NULL) {
        rc = ecdsa_verify(ai, key, sig, sig_len, jws) ? 1 : 0;
    }
    else {                          /* EdDSA: one-shot over the message, no digest first */
        if ((ctx = EVP_MD_CTX_new()) == NULL)
            return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "out of memory");
        rc = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, ekey_jwk_pkey(key));
        if (rc == 1)
            rc = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                                  jws->signing_input_len);
        EVP_MD_CTX_free(ctx);
    }
    /* Only exactly 1 is a valid signature; 0 and negative values are failures. */
    if (rc != 1) {
        ekey_error_set(err, EKEY_E_SIGNATURE, "jws.signature", "signature does not verify");
        ekey_error_drain_openssl(err);
        return EKEY_E_SIGNATURE;
    }
    return EKEY_OK;
}

ekey_status_t ekey_jws_payload(json_t **out, apr_pool_t *p, const ekey_jws_t *jws,
                               apr_size_t max_len, ekey_error_t *err)
{
    unsigned char *buf;
    apr_size_t n;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || jws == NULL || jws->payload_b64 == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.payload", "missing argument");
    if ((st = ekey_b64url_decode(&buf, &n, p, jws->payload_b64, jws->payload_b64_len,
                                 err)) != EKEY_OK)
        return st;
    return ekey_json_parse(out, p, (const char *)buf, n, max_len, err);
}

static apr_status_t md_ctx_cleanup(void *data)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)data);
    return APR_SUCCESS;
}

/* Signs si and writes the JOSE form: fixed-width big-endian r || s for ECDSA (left-padded,
 * never DER), the 64 raw bytes for EdDSA. */
/* ECDSA over the digest with a copy of the key's prepared signing context (an issuer key
 * signs every mint: no algorithm fetch and initialisation per token). 1 on success. */
static int ecdsa_sign_prepared(unsigned char *der, size_t *n, const alg_info_t *ai,
                               EVP_PKEY_CTX *prepared, const char *si)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_PKEY_CTX *ctx;
    int ok;

    if (EVP_Digest(si, strlen(si), md, &mdlen, ai->md, NULL) != 1
        || (ctx = EVP_PKEY_CTX_dup(prepared)) == NULL)
        return 0;
    ok = EVP_PKEY_sign(ctx, der, n, md, mdlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static ekey_status_t sign_raw(unsigned char *raw, const alg_info_t *ai, const ekey_jwk_t *priv,
                              apr_pool_t *p, const char *si, ekey_error_t *err)
{
    EVP_PKEY_CTX *prepared = ai->md != NULL ? ekey_jwk_sign_ctx(priv) : NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char der[MAX_DER];
    const unsigned char *cp = der;
    size_t n = ai->md != NULL ? sizeof(der) : ai->sig_len;
    const BIGNUM *r, *s;
    ECDSA_SIG *es;
    int half = (int)(ai->sig_len / 2), ok;

    if (prepared == NULL) {
        if ((ctx = EVP_MD_CTX_new()) == NULL)
            return ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "out of memory");
        apr_pool_cleanup_register(p, ctx, md_ctx_cleanup, apr_pool_cleanup_null);
    }
    if (prepared != NULL ? !ecdsa_sign_prepared(der, &n, ai, prepared, si)
        : (EVP_DigestSignInit(ctx, NULL, ai->md, NULL, ekey_jwk_pkey(priv)) != 1
           || EVP_DigestSign(ctx, ai->md != NULL ? der : raw, &n, (const unsigned char *)si,
                             strlen(si)) != 1)) {
        ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "signing failed");
        ekey_error_drain_openssl(err);
        return EKEY_E_CRYPTO;
    }
    if (ai->md == NULL)
        return n == ai->sig_len ? EKEY_OK
                                : ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "bad length");
    if ((es = d2i_ECDSA_SIG(NULL, &cp, (long)n)) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "cannot decode signature");
    ECDSA_SIG_get0(es, &r, &s);
    ok = BN_bn2binpad(r, raw, half) == half && BN_bn2binpad(s, raw + half, half) == half;
    ECDSA_SIG_free(es);
    return ok ? EKEY_OK : ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "r or s too long");
}

ekey_status_t ekey_jws_sign(char **out, apr_pool_t *p, json_t *header, json_t *payload,
                            const ekey_jwk_t *priv, ekey_error_t *err)
{
    const alg_info_t *ai;
    const char *key, *hjson, *pjson;
    json_t *h, *v;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || priv == NULL || !json_is_object(payload)
        || (header != NULL && !json_is_object(header)))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.sign", "missing argument");
    if (!ekey_jwk_has_private(priv))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.sign", "not a private key");
    if ((ai = alg_info(ekey_jwk_alg(priv))) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "algorithms unavailable");
    /* alg first, from the key; the caller's other members follow in their order. */
    h = ekey_json_own(p, json_object());
    if (h == NULL
        || json_object_set_new(h, "alg", json_string(ekey_alg_name(ai->alg))) != 0)
        return ekey_error_set(err, EKEY_E_INTERNAL, "jws.sign", "out of memory");
    if (header != NULL) {
        json_object_foreach(header, key, v) {
            if (strcmp(key, "alg") != 0 && json_object_set(h, key, v) != 0)
                return ekey_error_set(err, EKEY_E_INTERNAL, "jws.sign", "out of memory");
        }
    }
    if ((hjson = ekey_json_dump(p, h)) == NULL || (pjson = ekey_json_dump(p, payload)) == NULL)
        return ekey_error_set(err, EKEY_E_INTERNAL, "jws.sign", "cannot serialise JSON");
    return ekey_jws_sign_json(out, p, hjson, pjson, priv, err);
}

ekey_status_t ekey_jws_sign_json(char **out, apr_pool_t *p, const char *hjson,
                                 const char *pjson, const ekey_jwk_t *priv, ekey_error_t *err)
{
    const alg_info_t *ai;
    unsigned char raw[MAX_SIG];
    const char *si;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || priv == NULL || hjson == NULL || pjson == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.sign", "missing argument");
    if (!ekey_jwk_has_private(priv))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.sign", "not a private key");
    if ((ai = alg_info(ekey_jwk_alg(priv))) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "algorithms unavailable");
    si = apr_pstrcat(p, ekey_b64url_encode(p, (const unsigned char *)hjson, strlen(hjson)),
                     ".", ekey_b64url_encode(p, (const unsigned char *)pjson, strlen(pjson)),
                     NULL);
    if ((st = sign_raw(raw, ai, priv, p, si, err)) != EKEY_OK)
        return st;
    *out = apr_pstrcat(p, si, ".", ekey_b64url_encode(p, raw, ai->sig_len), NULL);
    return EKEY_OK;
}
