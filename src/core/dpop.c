/*
 * dpop.c - DPoP proofs (RFC 9449): verification (§4.3 checks 1-12 plus nonce == trace) and
 * creation for clients.
 *
 * Order: the cheap, structural checks (size, one single JWS, base64url, JSON, alg allowlist,
 * typ, the embedded jwk) come before the signature; the claims are compared only after it.
 * Status rule: a claim that is missing gets its own status (EKEY_E_PROOF_HTM, _HTU, _IAT,
 * _ATH, _NONCE); a member of the wrong JSON type and everything structural is EKEY_E_PROOF.
 *
 * htu: both sides go through ekey_url_normalize, which drops query and fragment - RFC 9449
 * §4.3 check 9 says they are ignored, so a proof whose htu carries a query still matches.
 * jti: 1..256 visible ASCII characters (it becomes part of a replay-store key).
 * ath: required and compared in constant time when a token is presented; when none is (a
 * proof at the issuer), an ath is refused: such a proof was made for a resource request.
 * nonce: equal to the expected one (the token's trace); absent when none is expected.
 */
#include <string.h>
#include <apr_strings.h>

#include "ekey.h"

#define JTI_MAX_LEN 256

/* Keeps the detail of a lower layer's failure but files it under `st` (our error class). */
static ekey_status_t reclass(ekey_error_t *err, ekey_status_t st)
{
    if (err != NULL)
        err->status = st;
    return st;
}

/* Header checks after ekey_jws_parse (which already refused jku, x5u, x5c, crit, b64, zip):
 * typ, then the jwk itself - public members only, a supported curve, on the curve, its
 * "alg" member (if any) fitting the key, all in ekey_jwk_parse - and the header alg must be
 * that key's algorithm (an ES256 header over a P-384 jwk is refused here). */
static ekey_status_t check_header(ekey_jwk_t **key, apr_pool_t *p, const ekey_jws_t *jws,
                                  ekey_error_t *err)
{
    json_t *jwk = json_object_get(jws->header, "jwk");

    if (jws->typ == NULL || strcmp(jws->typ, EKEY_TYP_DPOP) != 0)
        return ekey_error_set(err, EKEY_E_PROOF, "dpop.typ", "typ is not " EKEY_TYP_DPOP);
    if (!json_is_object(jwk))
        return ekey_error_set(err, EKEY_E_PROOF, "dpop.jwk", "jwk missing or not an object");
    if (ekey_jwk_parse(key, p, jwk, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    if (ekey_jwk_alg(*key) != jws->alg)
        return ekey_error_set(err, EKEY_E_PROOF, "dpop.alg", "alg is not the jwk's");
    return EKEY_OK;
}

/* A string claim: absent -> `missing` status, wrong type -> EKEY_E_PROOF. */
static ekey_status_t get_claim(const char **out, json_t *c, const char *name,
                               ekey_status_t missing, ekey_error_t *err)
{
    if (ekey_json_get_string(out, c, name, 0, EKEY_E_PROOF, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    if (*out == NULL)
        return ekey_error_set(err, missing, "dpop.claims", "%s missing", name);
    return EKEY_OK;
}

static ekey_status_t check_jti_htm_htu(ekey_dpop_t *d, apr_pool_t *p, json_t *c,
                                       const ekey_dpop_check_t *chk, const char *want_htu,
                                       ekey_error_t *err)
{
    const char *jti, *htm, *htu;
    char *norm;
    apr_size_t i, n;
    ekey_status_t st;

    if ((st = get_claim(&jti, c, "jti", EKEY_E_PROOF, err)) != EKEY_OK)
        return st;
    n = strlen(jti);
    for (i = 0; i < n && jti[i] > 0x20 && jti[i] < 0x7f; i++)
        ;
    if (n == 0 || n > JTI_MAX_LEN || i != n)
        return ekey_error_set(err, EKEY_E_PROOF, "dpop.jti",
                              "jti empty, longer than %d or not visible ASCII", JTI_MAX_LEN);
    if ((st = get_claim(&htm, c, "htm", EKEY_E_PROOF_HTM, err)) != EKEY_OK)
        return st;
    if (strcmp(htm, chk->method) != 0)
        return ekey_error_set(err, EKEY_E_PROOF_HTM, "dpop.htm", "htm is not the method");
    if ((st = get_claim(&htu, c, "htu", EKEY_E_PROOF_HTU, err)) != EKEY_OK)
        return st;
    if (ekey_url_normalize(&norm, p, htu, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF_HTU);
    if (strcmp(norm, want_htu) != 0)
        return ekey_error_set(err, EKEY_E_PROOF_HTU, "dpop.htu", "htu is not this URL");
    d->jti = apr_pstrdup(p, jti);
    return EKEY_OK;
}

static ekey_status_t check_iat(ekey_dpop_t *d, json_t *c, const ekey_dpop_check_t *chk,
                               apr_int64_t max_age, ekey_error_t *err)
{
    int present = 0;

    if (ekey_json_get_int(&d->iat, &present, c, "iat", 0, EKEY_E_PROOF, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    if (!present)
        return ekey_error_set(err, EKEY_E_PROOF_IAT, "dpop.iat", "iat missing");
    /* now and the windows are non-negative, so neither difference can overflow */
    if (d->iat < 0 || chk->now - d->iat > max_age || d->iat - chk->now > chk->skew)
        return ekey_error_set(err, EKEY_E_PROOF_IAT, "dpop.iat", "iat outside the window");
    return EKEY_OK;
}

/* ath and nonce: required and equal when expected, absent when not. */
static ekey_status_t check_bound(json_t *c, const char *name, const char *want,
                                 ekey_status_t st, ekey_error_t *err)
{
    const char *got;

    if (ekey_json_get_string(&got, c, name, 0, EKEY_E_PROOF, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    if (want == NULL)
        return got == NULL ? EKEY_OK
               : ekey_error_set(err, st, "dpop.claims", "%s present but not expected", name);
    if (got == NULL)
        return ekey_error_set(err, st, "dpop.claims", "%s missing", name);
    if (!ekey_ct_streq(got, want))
        return ekey_error_set(err, st, "dpop.claims", "%s does not match", name);
    return EKEY_OK;
}

/* Everything that does not need the proof: arguments and the expected URL. */
static ekey_status_t check_args(char **want_htu, apr_pool_t *p, const char *proof,
                                const ekey_dpop_check_t *chk, ekey_error_t *err)
{
    if (p == NULL || chk == NULL || chk->method == NULL || !*chk->method || chk->htu == NULL
        || chk->now < 0 || chk->skew < 0 || chk->max_age < 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "dpop", "unusable check parameters");
    if (ekey_url_normalize(want_htu, p, chk->htu, err) != EKEY_OK)
        return reclass(err, EKEY_E_INVALID_ARG);
    if (proof == NULL)
        return ekey_error_set(err, EKEY_E_PROOF_MISSING, "dpop", "no DPoP proof");
    return EKEY_OK;
}

ekey_status_t ekey_dpop_verify(ekey_dpop_t **out, apr_pool_t *p, const char *proof,
                               apr_size_t len, const ekey_dpop_check_t *chk,
                               ekey_error_t *err)
{
    apr_size_t max_len, i;
    apr_int64_t max_age;
    char *want_htu = NULL;
    ekey_jws_t *jws;
    ekey_jwk_t *key;
    ekey_dpop_t *d;
    json_t *claims;
    ekey_status_t st;

    if (out == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "dpop", "no output");
    *out = NULL;
    if ((st = check_args(&want_htu, p, proof, chk, err)) != EKEY_OK)
        return st;
    max_len = chk->max_len != 0 ? chk->max_len : EKEY_MAX_TOKEN_LEN;
    max_age = chk->max_age != 0 ? chk->max_age : EKEY_DEFAULT_PROOF_AGE;
    if (len == 0 || len > max_len)
        return ekey_error_set(err, EKEY_E_PROOF, "dpop", "proof empty or longer than %"
                              APR_SIZE_T_FMT " bytes", max_len);
    for (i = 0; i < len; i++)       /* merged DPoP fields ("P1, P2") or stray whitespace */
        if (proof[i] == ',' || proof[i] == ' ' || proof[i] == '\t' || proof[i] == '\r'
            || proof[i] == '\n')
            return ekey_error_set(err, EKEY_E_PROOF, "dpop", "not a single proof");
    if (ekey_jws_parse(&jws, p, proof, len, max_len, chk->algs != 0 ? chk->algs : EKEY_ALGS_ALL,
                       1, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    if ((st = check_header(&key, p, jws, err)) != EKEY_OK)
        return st;
    if (ekey_jws_verify(jws, key, err) != EKEY_OK
        || ekey_jws_payload(&claims, p, jws, max_len, err) != EKEY_OK)
        return reclass(err, EKEY_E_PROOF);
    d = apr_pcalloc(p, sizeof(*d));
    if ((st = check_jti_htm_htu(d, p, claims, chk, want_htu, err)) != EKEY_OK
        || (st = check_iat(d, claims, chk, max_age, err)) != EKEY_OK
        || (st = check_bound(claims, "ath", chk->ath, EKEY_E_PROOF_ATH, err)) != EKEY_OK
        || (st = check_bound(claims, "nonce", chk->nonce, EKEY_E_PROOF_NONCE, err)) != EKEY_OK)
        return st;
    d->jkt = ekey_jwk_thumbprint(key);
    if (chk->jkt != NULL && !ekey_ct_streq(d->jkt, chk->jkt))
        return ekey_error_set(err, EKEY_E_PROOF_JKT, "dpop.jkt",
                              "proof key is not the token's cnf.jkt");
    d->jwk = key;
    *out = d;
    return EKEY_OK;
}

ekey_status_t ekey_dpop_create(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                               const char *method, const char *url, const char *nonce,
                               const char *token, apr_int64_t now,
                               ekey_error_t *err)
{
    const char *jti;
    char *htu;
    json_t *hdr, *c, *jwk;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || priv == NULL || !ekey_jwk_has_private(priv)
        || method == NULL || method[0] == '\0' || now < 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "dpop.create",
                              "no private key, method or time");
    if ((st = ekey_url_normalize(&htu, p, url, err)) != EKEY_OK
        || (st = ekey_random_id(&jti, p, err)) != EKEY_OK)
        return st;
    if ((jwk = ekey_jwk_to_json(priv, p, 0)) == NULL
        || (hdr = ekey_json_own(p, json_object())) == NULL
        || (c = ekey_json_own(p, json_object())) == NULL)
        return ekey_error_set(err, EKEY_E_INTERNAL, "dpop.create", "out of memory");
    /* every set is checked: jansson refuses strings that are not UTF-8, and a proof must
     * never go out with a member silently missing */
    if (json_object_set_new(hdr, "typ", json_string(EKEY_TYP_DPOP))
        || json_object_set_new(hdr, "alg", json_string(ekey_alg_name(ekey_jwk_alg(priv))))
        || json_object_set(hdr, "jwk", jwk)
        || json_object_set_new(c, "jti", json_string(jti))
        || json_object_set_new(c, "htm", json_string(method))
        || json_object_set_new(c, "htu", json_string(htu))
        || json_object_set_new(c, "iat", json_integer((json_int_t)now))
        || (token != NULL && json_object_set_new(c, "ath", json_string(
                                 ekey_sha256_b64url(p, token, strlen(token)))))
        || (nonce != NULL && json_object_set_new(c, "nonce", json_string(nonce))))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "dpop.create",
                              "method or nonce is not valid UTF-8");
    return ekey_jws_sign(out, p, hdr, c, priv, err);
}
