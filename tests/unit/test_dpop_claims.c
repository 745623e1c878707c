/* test_dpop_claims.c - DPoP proof claims (RFC 9449 §4.3): every claim missing, mistyped or
 * wrong with its exact status, the ath variants, the iat window, absent expectations. */
#include "dpop_fixture.h"

/* ------------------------------------------------------------------ claims */

typedef struct {
    const char *name;
    const char *json;           /* NULL: member removed */
    ekey_status_t want;
} claim_case_t;

static const claim_case_t claim_cases[] = {
    /* DPOP-15 */
    { "jti", NULL, EKEY_E_PROOF },
    { "jti", "\"\"", EKEY_E_PROOF },
    { "jti", "7", EKEY_E_PROOF },
    { "jti", "null", EKEY_E_PROOF },
    { "jti", "[\"a\"]", EKEY_E_PROOF },
    { "jti", "\"a b\"", EKEY_E_PROOF },
    { "jti", "\"a\\r\\nb\"", EKEY_E_PROOF },
    { "jti", "\"caf\\u00e9\"", EKEY_E_PROOF },
    { "jti", "\"a\\u0000b\"", EKEY_E_PROOF },
    /* DPOP-13, DPOP-14 */
    { "htm", NULL, EKEY_E_PROOF_HTM },
    { "htm", "\"GET\"", EKEY_E_PROOF_HTM },
    { "htm", "\"post\"", EKEY_E_PROOF_HTM },
    { "htm", "\"POST \"", EKEY_E_PROOF_HTM },
    { "htm", "\"\"", EKEY_E_PROOF_HTM },
    { "htm", "5", EKEY_E_PROOF },
    { "htm", "[\"POST\"]", EKEY_E_PROOF },
    /* HTU-01..HTU-14 */
    { "htu", NULL, EKEY_E_PROOF_HTU },
    { "htu", "[\"" HTU "\"]", EKEY_E_PROOF },
    { "htu", "5", EKEY_E_PROOF },
    { "htu", "\"https://api.other.example/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"http://api.example.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com:8443/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://evil.example/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments/\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/Payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments/../admin\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/admin/../payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments%2F\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/%2e%2e/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments%00\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://user@api.example.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.ex\\u0430mple.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://xn--api.exmple-4nf.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"//api.example.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"api.example.com/payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/pay ments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments\\r\\n\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com\\\\payments\"", EKEY_E_PROOF_HTU },
    { "htu", "\"https://api.example.com/payments\\u0000\"", EKEY_E_PROOF },
    { "htu", "\"\"", EKEY_E_PROOF_HTU },
    /* POS-04, POS-05, POS-08 */
    { "htu", "\"https://api.example.com:443/payments\"", EKEY_OK },
    { "htu", "\"HTTPS://API.EXAMPLE.COM/payments\"", EKEY_OK },
    { "htu", "\"https://api.example.com/payments?x=1#frag\"", EKEY_OK },
    { "htu", "\"https://api.example.com/%70ayments\"", EKEY_OK },
    /* DPOP-21 */
    { "iat", NULL, EKEY_E_PROOF_IAT },
    { "iat", "\"1700000000\"", EKEY_E_PROOF },
    { "iat", "1e300", EKEY_E_PROOF },
    { "iat", "1700000000.5", EKEY_E_PROOF },
    { "iat", "null", EKEY_E_PROOF },
    { "iat", "-1", EKEY_E_PROOF_IAT },
    { "iat", "0", EKEY_E_PROOF_IAT },
    { "iat", "9223372036854775807", EKEY_E_PROOF_IAT },
    { "iat", "-9223372036854775808", EKEY_E_PROOF_IAT },
    /* DPOP-10, DPOP-12 */
    { "ath", NULL, EKEY_E_PROOF_ATH },
    { "ath", "\"\"", EKEY_E_PROOF_ATH },
    { "ath", "5", EKEY_E_PROOF },
    { "ath", "null", EKEY_E_PROOF },
    { "ath", "\"" RFC_ATH "\"", EKEY_E_PROOF_ATH },
    { "ath", "\"7d41f23b6af66770d9e7712c36b5816f4c565e868dcb9f48882880aa4b26404a\"",
      EKEY_E_PROOF_ATH },
    /* DPOP-23 */
    { "nonce", NULL, EKEY_E_PROOF_NONCE },
    { "nonce", "\"\"", EKEY_E_PROOF_NONCE },
    { "nonce", "\"AAECAwQFBgcICQoLDA0OD\"", EKEY_E_PROOF_NONCE },
    { "nonce", "\"AAECAwQFBgcICQoLDA0ODw=\"", EKEY_E_PROOF_NONCE },
    { "nonce", "\"aAECAwQFBgcICQoLDA0ODw\"", EKEY_E_PROOF_NONCE },
    { "nonce", "5", EKEY_E_PROOF },
};

static void test_dpop_claims_table(void **state)
{
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(claim_cases) / sizeof(claim_cases[0]); i++) {
        const claim_case_t *c = &claim_cases[i];
        ekey_status_t st;

        f->claims = baseline_claims(f);
        set_member(f, f->claims, c->name, c->json);
        st = verify(f, sign_fx(f), NULL);
        if (st != c->want)
            fail_msg("claim case %zu %s=%s: got %s, want %s", i, c->name,
                     c->json != NULL ? c->json : "(removed)", ekey_status_name(st),
                     ekey_status_name(c->want));
    }
    /* jti length: 256 is the limit (DuendeSoftware/products#1233) */
    {
        char jti[258];
        memset(jti, 'j', 257);
        jti[256] = '\0';
        f->claims = baseline_claims(f);
        json_object_set_new(f->claims, "jti", json_string(jti));
        assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
        jti[256] = 'j';
        jti[257] = '\0';
        json_object_set_new(f->claims, "jti", json_string(jti));
        assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF);
    }
}

/* The ath variants computed from the real token (DPOP-12). */
static void test_dpop_ath_variants(void **state)
{
    fx_t *f = *state;
    char *padded = apr_pstrcat(f->p, f->ath, "=", NULL), *std = apr_pstrdup(f->p, f->ath);
    char *s;
    const char *variants[4];
    int i;

    for (s = std; *s; s++)
        *s = *s == '-' ? '+' : *s == '_' ? '/' : *s;
    variants[0] = padded;
    variants[1] = std;
    variants[2] = ekey_sha256_b64url(f->p, "EKey " TOKEN, strlen(TOKEN) + 5);
    variants[3] = ekey_sha256_b64url(f->p, TOKEN " ", strlen(TOKEN) + 1);
    for (i = 0; i < 4; i++) {
        if (i == 1 && strcmp(std, f->ath) == 0)
            continue;                        /* no '-' or '_' in this hash: same string */
        json_object_set_new(f->claims, "ath", json_string(variants[i]));
        assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_ATH);
    }
}

/* DPOP-19, DPOP-20 and the exact edges of [now - max_age, now + skew]. */
static void test_dpop_iat_window(void **state)
{
    static const struct { apr_int64_t iat; ekey_status_t want; } cases[] = {
        { NOW, EKEY_OK },
        { NOW - 60, EKEY_OK },
        { NOW - 61, EKEY_E_PROOF_IAT },
        { NOW - 60 - 30 - 1, EKEY_E_PROOF_IAT },
        { NOW + 30, EKEY_OK },
        { NOW + 31, EKEY_E_PROOF_IAT },
        { NOW + 3600, EKEY_E_PROOF_IAT },
    };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object_set_new(f->claims, "iat", json_integer((json_int_t)cases[i].iat));
        if (verify(f, sign_fx(f), NULL) != cases[i].want)
            fail_msg("iat case %zu", i);
    }
    /* max_age 0 is the default (60), skew 0 means none */
    f->chk.max_age = 0;
    json_object_set_new(f->claims, "iat", json_integer(NOW - EKEY_DEFAULT_PROOF_AGE));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    json_object_set_new(f->claims, "iat", json_integer(NOW - EKEY_DEFAULT_PROOF_AGE - 1));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_IAT);
    f->chk.skew = 0;
    json_object_set_new(f->claims, "iat", json_integer(NOW + 1));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_IAT);
    /* a custom window */
    f->chk.max_age = 5;
    json_object_set_new(f->claims, "iat", json_integer(NOW - 5));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    json_object_set_new(f->claims, "iat", json_integer(NOW - 6));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_IAT);
}

/* Expectations NULL: no token (ath must be absent), no nonce (nonce must be absent). */
static void test_dpop_absent_expectations(void **state)
{
    fx_t *f = *state;

    f->chk.nonce = NULL;
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_NONCE);
    json_object_del(f->claims, "nonce");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    f->chk.ath = NULL;
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_ATH);
    json_object_del(f->claims, "ath");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(test_dpop_claims_table),
        FX(test_dpop_ath_variants),
        FX(test_dpop_iat_window),
        FX(test_dpop_absent_expectations),
    };
    return ekey_test_main(tests);
}
