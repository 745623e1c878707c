/*
 * fuzz_dpop.c - ekey_dpop_verify with fixed check parameters.
 *
 * Input: a compact DPoP proof, or (signing mode, fuzz.h) "<header>\n<claims>" signed by the
 * harness with the client key (P-384 / Ed25519 when the header names ES384 / EdDSA), so the
 * claim checks behind the signature are reached. The corpus holds valid proofs for the spec
 * request: POST https://api.example.com/payments at 1767225610 with the spec token's ath
 * and trace, key = the spec client key.
 *
 * Each input is checked twice: as a resource request (ath, nonce and cnf.jkt expected) and
 * as an issuer request (none of them: an ath or a nonce must then be absent).
 * Invariants: failures are proof statuses only, with no output; an accepted proof has a jti
 * of 1..256 visible characters, an iat inside the window, a jwk whose thumbprint is the
 * reported jkt (the expected one when given) and no comma or whitespace in it; the two modes
 * never both accept, and when one accepts the other fails on ath exactly. The header and
 * claims of an accepted proof, decoded and parsed by jansson directly, must say what the core
 * reported and the check asked for (jwk thumbprint, jti, htm, htu, iat, ath, nonce).
 */
#include <string.h>

#include "fuzz.h"

static void check_failed(ekey_status_t st, const ekey_dpop_t *d)
{
    FUZZ_ASSERT(d == NULL);
    FUZZ_ASSERT(st == EKEY_E_PROOF || st == EKEY_E_PROOF_HTM || st == EKEY_E_PROOF_HTU
                || st == EKEY_E_PROOF_IAT || st == EKEY_E_PROOF_ATH
                || st == EKEY_E_PROOF_NONCE || st == EKEY_E_PROOF_JKT);
}

static void check_accepted(const ekey_dpop_t *d, const ekey_dpop_check_t *chk, const char *c,
                           size_t n)
{
    size_t i, jl = strlen(d->jti);

    FUZZ_ASSERT(jl >= 1 && jl <= 256);
    for (i = 0; i < jl; i++)
        FUZZ_ASSERT(d->jti[i] > 0x20 && d->jti[i] < 0x7f);
    FUZZ_ASSERT(d->iat >= chk->now - chk->max_age && d->iat <= chk->now + chk->skew);
    FUZZ_ASSERT(d->jwk != NULL && !ekey_jwk_has_private(d->jwk));
    FUZZ_ASSERT(strcmp(ekey_jwk_thumbprint(d->jwk), d->jkt) == 0);
    FUZZ_ASSERT(chk->jkt == NULL || strcmp(d->jkt, chk->jkt) == 0);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(c[i] != ',' && c[i] != ' ' && c[i] != '\t' && c[i] != '\r' && c[i] != '\n');
}

static int str_claim(json_t *o, const char *k, const char *want)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v != NULL && want != NULL && strcmp(v, want) == 0;
}

/* The proof as its bytes say (jansson directly), against the core's answer and the check. */
static void check_oracle(apr_pool_t *p, const ekey_dpop_t *d, const ekey_dpop_check_t *chk,
                         const char *c)
{
    json_t *h = fuzz_segment(p, c, 0), *cl = fuzz_segment(p, c, 1), *iat;
    const char *tj = NULL, *htu = json_string_value(json_object_get(cl, "htu"));
    char *norm = NULL;

    FUZZ_ASSERT(str_claim(h, "typ", EKEY_TYP_DPOP));
    FUZZ_ASSERT(str_claim(h, "alg", ekey_alg_name(ekey_jwk_alg(d->jwk))));
    FUZZ_ASSERT(ekey_jwk_thumbprint_json(&tj, p, json_object_get(h, "jwk"), NULL) == EKEY_OK);
    FUZZ_ASSERT(strcmp(tj, d->jkt) == 0);
    FUZZ_ASSERT(str_claim(cl, "jti", d->jti) && str_claim(cl, "htm", chk->method));
    FUZZ_ASSERT(htu != NULL && ekey_url_normalize(&norm, p, htu, NULL) == EKEY_OK);
    FUZZ_ASSERT(strcmp(norm, FUZZ_HTU) == 0);
    iat = json_object_get(cl, "iat");
    FUZZ_ASSERT(json_is_integer(iat) && (apr_int64_t)json_integer_value(iat) == d->iat);
    FUZZ_ASSERT(chk->ath == NULL ? json_object_get(cl, "ath") == NULL
                                 : str_claim(cl, "ath", chk->ath));
    FUZZ_ASSERT(chk->nonce == NULL ? json_object_get(cl, "nonce") == NULL
                                   : str_claim(cl, "nonce", chk->nonce));
}

static ekey_status_t run(apr_pool_t *p, const char *c, size_t n, const ekey_dpop_check_t *chk)
{
    ekey_dpop_t *d = (ekey_dpop_t *)"x";
    ekey_error_t err;
    ekey_status_t st;

    fuzz_err_reset(&err);
    st = ekey_dpop_verify(&d, p, c, n, chk, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK) {
        check_accepted(d, chk, c, n);
        check_oracle(p, d, chk, c);
    }
    else
        check_failed(st, d);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    ekey_dpop_check_t resource, issuer;
    char *signed_input;
    const char *c;
    size_t n;
    ekey_status_t s1, s2;

    fuzz_init();
    p = fuzz_pool();
    memset(&resource, 0, sizeof(resource));
    resource.method = FUZZ_METHOD;
    resource.htu = FUZZ_HTU;
    resource.ath = FUZZ_ATH;
    resource.nonce = FUZZ_TRACE;
    resource.jkt = FUZZ_CLIENT_JKT;
    resource.now = FUZZ_NOW;
    resource.max_age = EKEY_DEFAULT_PROOF_AGE;
    resource.skew = EKEY_DEFAULT_SKEW;
    issuer = resource;
    issuer.ath = issuer.nonce = issuer.jkt = NULL;
    signed_input = fuzz_sign_input(p, data, size, FUZZ_KEY_CLIENT, NULL);
    c = signed_input != NULL ? signed_input : fuzz_cstr(p, data, size);
    n = signed_input != NULL ? strlen(signed_input) : size;
    s1 = run(p, c, n, &resource);
    s2 = run(p, c, n, &issuer);
    FUZZ_ASSERT(!(s1 == EKEY_OK && s2 == EKEY_OK));
    FUZZ_ASSERT(s1 != EKEY_OK || s2 == EKEY_E_PROOF_ATH);
    FUZZ_ASSERT(s2 != EKEY_OK || s1 == EKEY_E_PROOF_ATH);
    if (signed_input != NULL)
        fuzz_emit("raw", signed_input);
    apr_pool_destroy(p);
    return 0;
}
