/*
 * token_fixture.h - the fixture shared by the E-Key verification tests (test_token.c,
 * test_token_claims.c): keys, a baseline header and claim set that verify, and verify()
 * which also checks the failure contract. Test-only.
 */
#ifndef TOKEN_FIXTURE_H
#define TOKEN_FIXTURE_H

#include "proto_test.h"

#define NOW   1700000000
#define ISS   "https://issuer.example"
#define AUD   "https://api.example.com"
#define TRACE "AAECAwQFBgcICQoLDA0ODw"                          /* bytes 0..15 */
#define JKT   "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"     /* RFC 9449 Figure 9 */

typedef struct {
    apr_pool_t *p;
    ekey_jwk_t *issuer, *other, *client;
    ekey_keyset_t *ks;
    ekey_token_policy_t pol;
    json_t *hdr, *claims;
} fx_t;

static inline json_t *baseline_claims(fx_t *f)
{
    return pt_json(f->p, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"agent-123\",\"aud\":\"" AUD "\",\"iat\":%d,"
        "\"exp\":%d,\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\","
        "\"limit\":1},\"cnf\":{\"jkt\":\"%s\"}}", NOW, NOW + 30,
        ekey_jwk_thumbprint(f->client)));
}

static inline json_t *baseline_header(fx_t *f)
{
    return pt_json(f->p, apr_psprintf(f->p, "{\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
                                      ekey_jwk_thumbprint(f->issuer)));
}

static inline int fx_setup(void **state)
{
    fx_t *f;
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    if (ekey_jwk_generate(&f->issuer, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->other, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->client, p, EKEY_ALG_ES256, NULL) != EKEY_OK)
        return -1;
    f->ks = ekey_keyset_make(p);
    if (ekey_keyset_add(f->ks, f->issuer, NULL) != EKEY_OK
        || ekey_keyset_add(f->ks, f->other, NULL) != EKEY_OK)
        return -1;
    f->pol.keys = f->ks;
    f->pol.issuer = ISS;
    f->pol.audience = AUD;
    f->pol.now = NOW;
    f->pol.skew = 30;
    f->pol.max_ttl = 300;
    f->pol.max_limit = 10;
    f->hdr = baseline_header(f);
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
    return sign_with(f, f->hdr, f->claims, f->issuer);
}

/* Verifies and checks the failure contract: *out NULL, err.status = the return value. */
static inline ekey_status_t verify(fx_t *f, const char *tok, ekey_token_t **out)
{
    ekey_token_t *t = (ekey_token_t *)&t;   /* non-NULL sentinel */
    ekey_error_t err;
    ekey_status_t st;

    memset(&err, 0, sizeof(err));
    st = ekey_token_verify(&t, f->p, tok, strlen(tok), &f->pol, &err);
    pt_verify_contract(st, t, &err, tok);
    if (out != NULL)
        *out = t;
    return st;
}

/* Sets (json != NULL) or removes a claim; "cap.limit" style paths reach one level down. */
static inline void set_claim(fx_t *f, json_t *claims, const char *path, const char *json)
{
    pt_set_member(f->p, claims, path, json);
}

#endif
