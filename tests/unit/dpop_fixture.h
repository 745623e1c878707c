/*
 * dpop_fixture.h - shared fixture of test_dpop.c and test_dpop_claims.c: a client and an
 * attacker key, the expectations of a verifier (ekey_dpop_check_t) and a baseline header and
 * claims that verify, for hand-built proofs.
 */
#ifndef DPOP_FIXTURE_H
#define DPOP_FIXTURE_H

#include "proto_test.h"

#define NOW   1700000000
#define HTU   "https://api.example.com/payments"
#define TRACE "AAECAwQFBgcICQoLDA0ODw"
#define TOKEN "eyJhbGciOiJFUzI1NiJ9.eyJ0cmFjZSI6IngifQ.c2lnbmF0dXJl"

/* RFC 9449: Figure 4 key thumbprint (Figure 9), the §7.1 access token and its ath. */
#define RFC_JKT   "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define RFC_TOKEN "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
#define RFC_ATH   "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"

typedef struct {
    apr_pool_t *p;
    ekey_jwk_t *client, *attacker;
    const char *ath;
    ekey_dpop_check_t chk;
    json_t *hdr, *claims;       /* for hand-built proofs */
} fx_t;

static inline json_t *baseline_claims(fx_t *f)
{
    return pt_json(f->p, apr_psprintf(f->p,
        "{\"jti\":\"jti-0001\",\"htm\":\"POST\",\"htu\":\"" HTU "\",\"iat\":%d,"
        "\"ath\":\"%s\",\"nonce\":\"" TRACE "\"}", NOW, f->ath));
}

static inline json_t *baseline_header(fx_t *f, const ekey_jwk_t *key)
{
    json_t *h = pt_json(f->p, "{\"typ\":\"dpop+jwt\"}");
    json_object_set(h, "jwk", ekey_jwk_to_json(key, f->p, 0));
    return h;
}

static inline int fx_setup(void **state)
{
    apr_pool_t *p;
    fx_t *f;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    if (ekey_jwk_generate(&f->client, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->attacker, p, EKEY_ALG_ES256, NULL) != EKEY_OK)
        return -1;
    f->ath = ekey_sha256_b64url(p, TOKEN, strlen(TOKEN));
    f->chk.method = "POST";
    f->chk.htu = HTU;
    f->chk.ath = f->ath;
    f->chk.nonce = TRACE;
    f->chk.jkt = ekey_jwk_thumbprint(f->client);
    f->chk.now = NOW;
    f->chk.max_age = 60;
    f->chk.skew = 30;
    f->hdr = baseline_header(f, f->client);
    f->claims = baseline_claims(f);
    *state = f;
    return 0;
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, pt_teardown)

static inline char *sign_with(fx_t *f, json_t *hdr, json_t *claims, const ekey_jwk_t *key)
{
    return pt_sign_json(f->p, hdr, claims, key);
}

static inline char *sign_fx(fx_t *f)
{
    return sign_with(f, f->hdr, f->claims, f->client);
}

/* Not inlined: inlined into a test, gcc 12 takes the returned proof for a pointer to the
 * local `out` (-Wdangling-pointer, a false positive). */
__attribute__((noinline, unused))
static char *create(fx_t *f, const ekey_jwk_t *key, const char *method, const char *url,
                    const char *nonce, const char *token, apr_int64_t now)
{
    char *out = NULL;
    assert_status(ekey_dpop_create(&out, f->p, key, method, url, nonce, token, now, NULL),
                  EKEY_OK);
    return out;
}

/* Verifies and checks the failure contract (out NULL, err.status, no proof in the text). */
static inline ekey_status_t verify(fx_t *f, const char *proof, ekey_dpop_t **out)
{
    ekey_dpop_t *d = (ekey_dpop_t *)&d;
    ekey_error_t err;
    ekey_status_t st;

    memset(&err, 0, sizeof(err));
    st = ekey_dpop_verify(&d, f->p, proof, proof != NULL ? strlen(proof) : 0, &f->chk, &err);
    pt_verify_contract(st, d, &err, proof);
    if (out != NULL)
        *out = d;
    return st;
}

static inline void set_member(fx_t *f, json_t *obj, const char *key, const char *json)
{
    pt_set_member(f->p, obj, key, json);
}

#endif
