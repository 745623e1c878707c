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
    BIGNUM *order;
} alg_info_t;

static alg_info_t algs_tab[] = {
    { EKEY_ALG_ES256, 64, "SHA256", NID_X9_62_prime256v1, NULL, NULL },
    { EKEY_ALG_ES384, 96, "SHA384", NID_secp384r1, NULL, NULL },
    { EKEY_ALG_EDDSA, 64, NULL, NID_undef, NULL, NULL },
};
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static int algs_ready;

static void init_algs(void)
{
    apr_size_t i;
    EC_GROUP *g;

    for (i = 0; i < sizeof(algs_tab) / sizeof(algs_tab[0]); i++) {
        alg_info_t *a = &algs_tab[i];
        if (a->md_name == NULL)
            continue;
        a->md = EVP_MD_fetch(NULL, a->md_name, NULL);
        g = EC_GROUP_new_by_curve_name(a->nid);
        if (g != NULL)
            a->order = BN_dup(EC_GROUP_get0_order(g));
        EC_GROUP_free(g);
        if (a->md == NULL || a->order == NULL)
            return;                 /* algs_ready stays 0: every call fails closed */
    }
    algs_ready = 1;
}

static const alg_info_t *alg_info(ekey_alg_t alg)
{
    apr_size_t i;

    pthread_once(&algs_once, init_algs);
    if (!algs_ready)
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
    if ((st = ekey_b64url_decode(&hdr, &n, p, compact, hlen, err)) != EKEY_OK
        || (st = ekey_json_parse(&jws->header, p, (const char *)hdr, n, hlen, err)) != EKEY_OK)
        return st == EKEY_E_TOO_LARGE ? EKEY_E_JSON : st;
    if ((st = check_header(jws, algs, allow_embedded_jwk, err)) != EKEY_OK)
        return st;
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

/* Raw r || s to DER, after checking 1 <= r, s <= n-1 ourselves (CVE-2022-21449 class):
 * the range rule must not depend on what a library version happens to check. */
static ekey_status_t ecdsa_der(unsigned char *der, int *derlen, const alg_info_t *ai,
                               const unsigned char *sig, ekey_error_t *err)
{
    apr_size_t half = ai->sig_len / 2;
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
    ECDSA_SIG *es;
    unsigned char *q = der;
    int n;

    if (r == NULL || s == NULL) {
        BN_free(r);
        BN_free(s);
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "out of memory");
    }
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, ai->order) >= 0
        || BN_cmp(s, ai->order) >= 0) {
        BN_free(r);
        BN_free(s);
        return ekey_error_set(err, EKEY_E_SIGNATURE, "jws.signature", "r or s out of range");
    }
    if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "out of memory");
    }
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || n > MAX_DER || i2d_ECDSA_SIG(es, &q) != n) {
        ECDSA_SIG_free(es);
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "DER encoding failed");
    }
    ECDSA_SIG_free(es);
    *derlen = n;
    return EKEY_OK;
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
    /* No pool here: one context, freed on the single exit below. */
    if ((ctx = EVP_MD_CTX_new()) == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.verify", "out of memory");
    rc = EVP_DigestVerifyInit(ctx, NULL, ai->md, NULL, ekey_jwk_pkey(key));
    if (rc == 1)
        rc = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                              jws->signing_input_len);
    EVP_MD_CTX_free(ctx);
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
static ekey_status_t sign_raw(unsigned char *raw, const alg_info_t *ai, EVP_PKEY *pkey,
                              apr_pool_t *p, const char *si, ekey_error_t *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[MAX_DER];
    const unsigned char *cp = der;
    size_t n = ai->md != NULL ? sizeof(der) : ai->sig_len;
    const BIGNUM *r, *s;
    ECDSA_SIG *es;
    int half = (int)(ai->sig_len / 2), ok;

    if (ctx == NULL)
        return ekey_error_set(err, EKEY_E_CRYPTO, "jws.sign", "out of memory");
    apr_pool_cleanup_register(p, ctx, md_ctx_cleanup, apr_pool_cleanup_null);
    if (EVP_DigestSignInit(ctx, NULL, ai->md, NULL, pkey) != 1
        || EVP_DigestSign(ctx, ai->md != NULL ? der : raw, &n, (const unsigned char *)si,
                          strlen(si)) != 1) {
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
    unsigned char raw[MAX_SIG];
    const char *key, *hjson, *pjson, *si;
    json_t *h, *v;
    ekey_status_t st;

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
    si = apr_pstrcat(p, ekey_b64url_encode(p, (const unsigned char *)hjson, strlen(hjson)),
                     ".", ekey_b64url_encode(p, (const unsigned char *)pjson, strlen(pjson)),
                     NULL);
    if ((st = sign_raw(raw, ai, ekey_jwk_pkey(priv), p, si, err)) != EKEY_OK)
        return st;
    *out = apr_pstrcat(p, si, ".", ekey_b64url_encode(p, raw, ai->sig_len), NULL);
    return EKEY_OK;
}
