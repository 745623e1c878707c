/* test_token_claims.c - E-Key claims, payload JSON and time boundaries (SECURITY-CASES 1.F,
 * 1.L). */
#include "token_fixture.h"

/* ----------------------------------------------------------------- claims */

typedef struct {
    const char *path;
    const char *json;           /* NULL: member removed */
    ekey_status_t want;
} claim_case_t;

#define J43 "\"" JKT "\""
static const claim_case_t claim_cases[] = {
    /* CLM-01, CLM-02 */
    { "iss", "\"https://issuer.example/\"", EKEY_E_ISSUER },
    { "iss", "\"HTTPS://issuer.example\"", EKEY_E_ISSUER },
    { "iss", "\"https://other.example\"", EKEY_E_ISSUER },
    { "iss", "\"\"", EKEY_E_ISSUER },
    { "iss", NULL, EKEY_E_CLAIMS },
    { "iss", "[\"" ISS "\"]", EKEY_E_CLAIMS },
    { "iss", "null", EKEY_E_CLAIMS },
    { "iss", "5", EKEY_E_CLAIMS },
    /* CLM-13 */
    { "sub", NULL, EKEY_E_CLAIMS },
    { "sub", "\"\"", EKEY_E_CLAIMS },
    { "sub", "\"agent\\r\\nX-Admin: 1\"", EKEY_E_CLAIMS },
    { "sub", "\"agent\\n\"", EKEY_E_CLAIMS },
    { "sub", "\"a\\u007fb\"", EKEY_E_CLAIMS },
    { "sub", "\"a\\u0000b\"", EKEY_E_JSON },
    { "sub", "5", EKEY_E_CLAIMS },
    { "sub", "[\"agent\"]", EKEY_E_CLAIMS },
    { "sub", "\"" "0123456789012345678901234567890123456789012345678901234567890123"
             "0123456789012345678901234567890123456789012345678901234567890123"
             "0123456789012345678901234567890123456789012345678901234567890123"
             "01234567890123456789012345678901234567890123456789012345678901234" "\"",
      EKEY_E_CLAIMS },
    /* CLM-03, CLM-04, JSON-11 */
    { "aud", NULL, EKEY_E_CLAIMS },
    { "aud", "\"\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com.evil.example\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com/payments\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com/\"", EKEY_E_AUDIENCE },
    { "aud", "\"HTTPS://api.example.com\"", EKEY_E_AUDIENCE },
    { "aud", "[\"https://other.example\"]", EKEY_E_AUDIENCE },
    { "aud", "[\"https://a.example\",\"https://b.example\"]", EKEY_E_AUDIENCE },
    { "aud", "[]", EKEY_E_CLAIMS },
    { "aud", "123", EKEY_E_CLAIMS },
    { "aud", "null", EKEY_E_CLAIMS },
    { "aud", "true", EKEY_E_CLAIMS },
    { "aud", "{\"aud\":\"" AUD "\"}", EKEY_E_CLAIMS },
    { "aud", "[\"" AUD "\",5]", EKEY_E_CLAIMS },
    { "aud", "[5,\"" AUD "\"]", EKEY_E_CLAIMS },
    { "aud", "[null]", EKEY_E_CLAIMS },
    { "aud", "[[\"" AUD "\"]]", EKEY_E_CLAIMS },
    /* CLM-06, CLM-08, CLM-09, JSON-11 */
    { "exp", NULL, EKEY_E_CLAIMS },
    { "exp", "null", EKEY_E_CLAIMS },
    { "exp", "\"1700000030\"", EKEY_E_CLAIMS },
    { "exp", "1700000030.0", EKEY_E_CLAIMS },
    { "exp", "1.70000003e9", EKEY_E_CLAIMS },
    { "exp", "true", EKEY_E_CLAIMS },
    { "exp", "1700000000", EKEY_E_CLAIMS },
    { "exp", "1699999999", EKEY_E_CLAIMS },
    { "exp", "-1", EKEY_E_CLAIMS },
    { "iat", NULL, EKEY_E_CLAIMS },
    { "iat", "\"1700000000\"", EKEY_E_CLAIMS },
    { "iat", "1700000000.5", EKEY_E_CLAIMS },
    { "iat", "-1", EKEY_E_CLAIMS },
    { "nbf", "\"1700000000\"", EKEY_E_CLAIMS },
    { "nbf", "null", EKEY_E_CLAIMS },
    { "nbf", "1.5", EKEY_E_CLAIMS },
    { "nbf", "-5", EKEY_E_CLAIMS },
    /* trace: 22 strict base64url characters of 16 bytes (RPL-17, DOS-06) */
    { "trace", NULL, EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODwA\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODw==\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODx\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD+\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD/\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0O w\"", EKEY_E_CLAIMS },
    { "trace", "\"000102030405060708090a0b0c0d0e0f\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0O%w\"", EKEY_E_CLAIMS },
    { "trace", "\"\"", EKEY_E_CLAIMS },
    { "trace", "5", EKEY_E_CLAIMS },
    { "trace", "[\"" TRACE "\"]", EKEY_E_CLAIMS },
    /* CLM-14, CLM-16 */
    { "cap", NULL, EKEY_E_CLAIMS },
    { "cap", "null", EKEY_E_CLAIMS },
    { "cap", "\"POST:/payments\"", EKEY_E_CLAIMS },
    { "cap", "[\"POST:/payments\"]", EKEY_E_CLAIMS },
    { "cap", "{}", EKEY_E_CLAIMS },
    { "cap", "{\"limit\":1}", EKEY_E_CLAIMS },
    { "cap.action", "5", EKEY_E_CLAIMS },
    { "cap.action", "null", EKEY_E_CLAIMS },
    { "cap.action", "[\"POST:/payments\"]", EKEY_E_CLAIMS },
    { "cap.action", "\"POST /payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"post:/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\":/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"*:/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments*\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments,GET:/admin\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments/../admin\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments?x=1\"", EKEY_E_CLAIMS },
    /* cap.limit (ISS-05 on the verifier side) */
    { "cap.limit", "0", EKEY_E_CLAIMS },
    { "cap.limit", "-1", EKEY_E_CLAIMS },
    { "cap.limit", "1.5", EKEY_E_CLAIMS },
    { "cap.limit", "1.0", EKEY_E_CLAIMS },
    { "cap.limit", "\"1\"", EKEY_E_CLAIMS },
    { "cap.limit", "true", EKEY_E_CLAIMS },
    { "cap.limit", "null", EKEY_E_CLAIMS },
    { "cap.limit", "11", EKEY_E_CLAIMS },
    { "cap.limit", "1000000", EKEY_E_CLAIMS },
    { "cap.limit", "9223372036854775807", EKEY_E_CLAIMS },
    { "cap.limit", "-9223372036854775808", EKEY_E_CLAIMS },
    { "cap.limit", "1e3", EKEY_E_CLAIMS },
    /* BIND-01, BIND-02, BIND-05, JWK-07, JWK-08, MTLS-05 */
    { "cnf", NULL, EKEY_E_CNF },
    { "cnf", "{}", EKEY_E_CNF },
    { "cnf", "null", EKEY_E_CNF },
    { "cnf", "[]", EKEY_E_CNF },
    { "cnf", "\"" JKT "\"", EKEY_E_CNF },
    { "cnf", "{\"jkt\":" J43 ",\"x5t#S256\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":" J43 ",\"jkt\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"jkt\":" J43 ",\"kid\":\"k\"}", EKEY_E_CNF },
    { "cnf", "{\"jwk\":{\"kty\":\"EC\"}}", EKEY_E_CNF },
    { "cnf", "{\"jku\":\"https://a.example/\"}", EKEY_E_CNF },
    { "cnf", "{\"kid\":\"k1\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t\":\"" "0ZcOCORZNYy-DWpqq30jZyJGHTM" "\"}", EKEY_E_CNF },
    { "cnf", "{\"JKT\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"jkt \":" J43 "}", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4IA\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy+DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4J\"", EKEY_E_CNF },
    { "cnf.jkt", "\"d1970e0824593598be0d6a6aab7d2367224"
                 "61d3374776de094157" "7ba282e0382\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTM\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I0ZcOCORZNYy-DWpqq30jZyJGHTN0"
                 "d2HglBV3uiguA4IAAAA\"", EKEY_E_CNF },
    { "cnf.jkt", "\"\"", EKEY_E_CNF },
    { "cnf.jkt", "5", EKEY_E_CNF },
    { "cnf.jkt", "null", EKEY_E_CNF },
    { "cnf.jkt", "[" J43 "]", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "d1970e0824593598be0d6a6aab7d236722461d3374776de0941577ba282e0382"
             "\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=" "\"}",
      EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "D1:97:0E:08" "\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":5}", EKEY_E_CNF },
};

static void test_token_claims_table(void **state)
{
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(claim_cases) / sizeof(claim_cases[0]); i++) {
        const claim_case_t *c = &claim_cases[i];
        ekey_status_t st;

        f->claims = baseline_claims(f);
        set_claim(f, f->claims, c->path, c->json);
        st = verify(f, sign_fx(f), NULL);
        if (st != c->want)
            fail_msg("claim case %zu %s=%s: got %s, want %s", i, c->path,
                     c->json != NULL ? c->json : "(removed)", ekey_status_name(st),
                     ekey_status_name(c->want));
    }
    /* max_limit 0 means no upper bound */
    f->pol.max_limit = 0;
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "cap.limit", "9223372036854775807");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

/* Signed payloads that are not a clean JSON object (JSON-02, JSON-03, JSON-10, B64-10/11). */
static void test_token_payload_json(void **state)
{
    fx_t *f = *state;
    char *hdr = apr_psprintf(f->p, "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
                             ekey_jwk_thumbprint(f->issuer));
    char *c = pt_dump(f->p, f->claims), *deep;
    size_t n = strlen(c);
    int i;
    const char *bad[6];

    bad[0] = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1), ",\"exp\":1900000000}", NULL);
    bad[1] = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1),
                         ",\"cap\":{\"action\":\"POST:/admin\",\"limit\":9}}", NULL);
    bad[2] = apr_pstrcat(f->p, c, "x", NULL);
    bad[3] = "[1,2,3]";
    bad[4] = apr_pstrcat(f->p, "\xef\xbb\xbf", c, NULL);
    deep = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1), ",\"x\":", NULL);
    for (i = 0; i < 50; i++)
        deep = apr_pstrcat(f->p, deep, "[", NULL);
    for (i = 0; i < 50; i++)
        deep = apr_pstrcat(f->p, deep, "]", NULL);
    bad[5] = apr_pstrcat(f->p, deep, "}", NULL);
    for (i = 0; i < 6; i++)
        if (verify(f, pt_sign_text(f->p, f->issuer, hdr, bad[i]), NULL) != EKEY_E_JSON)
            fail_msg("payload case %d not EKEY_E_JSON: %s", i,
                     ekey_status_name(verify(f, pt_sign_text(f->p, f->issuer, hdr, bad[i]),
                                             NULL)));
    /* nested duplicates */
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\",\"action\":"
        "\"POST:/admin\"},\"cnf\":{\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_E_JSON);
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\"},"
        "\"cnf\":{\"jkt\":" J43 ",\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_E_JSON);
    /* and the same text without duplicates verifies */
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\"},"
        "\"cnf\":{\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_OK);
}

/* ------------------------------------------------------------------ time */

static void set_times(fx_t *f, apr_int64_t iat, apr_int64_t exp)
{
    f->claims = baseline_claims(f);
    json_object_set_new(f->claims, "iat", json_integer((json_int_t)iat));
    json_object_set_new(f->claims, "exp", json_integer((json_int_t)exp));
}

/* CLM-05 boundaries: expired once now reaches exp + skew. */
static void test_token_expiry_boundary(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);                                  /* iat NOW, exp NOW + 30 */

    f->pol.now = NOW + 30 + 30 - 1;
    assert_status(verify(f, tok, NULL), EKEY_OK);
    f->pol.now = NOW + 30 + 30;                              /* now == exp + skew */
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    f->pol.now = NOW + 30 + 30 + 1;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    f->pol.now = NOW + 100000;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    /* the expired token's claims, when asked for; never for another refusal */
    {
        ekey_token_t *late = (ekey_token_t *)&late;

        f->pol.expired = &late;
        assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
        assert_non_null(late);
        assert_string_equal(late->sub, "agent-123");
        assert_string_equal(late->trace, TRACE);
        assert_string_equal(late->action, "POST:/payments");
        assert_status(verify(f, pt_flip_bit(f->p, tok, 40, 3), NULL), EKEY_E_SIGNATURE);
        assert_null(late);
        f->pol.now = NOW;
        assert_status(verify(f, tok, NULL), EKEY_OK);
        assert_null(late);
        f->pol.now = NOW + 100000;
        f->pol.expired = NULL;
    }
    /* without skew the token dies at exp */
    f->pol.skew = 0;
    f->pol.now = NOW + 29;
    assert_status(verify(f, tok, NULL), EKEY_OK);
    f->pol.now = NOW + 30;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
}

/* EKEY_SPEC 9.1 step 6 in its order: times before trace, cap and cnf. An expired (or not yet
 * valid) token answers token_expired whatever those hold; its claims are reported for the
 * logs only when they are valid. iss, sub and aud come first. */
static void test_token_times_before_trace_cap_cnf(void **state)
{
    static const char *const late_bad[][2] = {
        { "trace", "\"not-a-trace\"" }, { "cnf", "{}" }, { "cap.action", "\"*\"" },
        { "cap.limit", "0" }, { "cnf", NULL },
    };
    fx_t *f = *state;
    ekey_token_t *late;
    size_t i;

    for (i = 0; i < sizeof(late_bad) / sizeof(late_bad[0]); i++) {
        f->claims = baseline_claims(f);
        set_claim(f, f->claims, late_bad[i][0], late_bad[i][1]);
        f->pol.now = NOW;
        assert_int_not_equal(verify(f, sign_fx(f), NULL), EKEY_OK);      /* bad when valid */
        late = (ekey_token_t *)&late;
        f->pol.expired = &late;
        f->pol.now = NOW + 100000;
        if (verify(f, sign_fx(f), NULL) != EKEY_E_EXPIRED)
            fail_msg("expired token with a bad %s: not token_expired", late_bad[i][0]);
        assert_null(late);                          /* its claims are not reported */
        f->pol.expired = NULL;
        set_claim(f, f->claims, "iat", "1700100000");
        set_claim(f, f->claims, "exp", "1700100030");
        f->pol.now = NOW;
        assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    }
    /* before the times: a wrong issuer or audience of an expired token is what it is */
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "aud", "\"https://other.example\"");
    f->pol.now = NOW + 100000;
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_AUDIENCE);
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "iss", "\"https://other.example\"");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_ISSUER);
    f->pol.now = NOW;
}

/* CLM-07, CLM-11, POS-19: iat and nbf up to skew in the future. */
static void test_token_future_boundary(void **state)
{
    fx_t *f = *state;

    set_times(f, NOW + 30, NOW + 60);                        /* iat == now + skew */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW + 31, NOW + 61);                        /* iat == now + skew + 1 */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    set_times(f, NOW + 100000, NOW + 100030);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    f->claims = baseline_claims(f);
    json_object_set_new(f->claims, "nbf", json_integer(NOW + 30));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    json_object_set_new(f->claims, "nbf", json_integer(NOW + 31));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    f->pol.skew = 0;
    set_times(f, NOW, NOW + 30);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW + 1, NOW + 30);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
}

/* CLM-10: exp - iat above max_ttl, even for a token inside its window. */
static void test_token_lifetime(void **state)
{
    fx_t *f = *state;

    set_times(f, NOW, NOW + 300);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW, NOW + 301);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    set_times(f, NOW - 10, NOW + 86390);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    f->pol.max_ttl = 0;                                      /* no lifetime rule */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    /* extremes do not overflow (UBSan watches this) */
    set_times(f, NOW, APR_INT64_MAX);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    f->pol.max_ttl = 300;
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    set_times(f, APR_INT64_MAX - 1, APR_INT64_MAX);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    set_times(f, 0, 1);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_EXPIRED);
}

static void test_token_args(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);
    ekey_token_t *t = (ekey_token_t *)&t;
    ekey_token_policy_t pol = f->pol;

    assert_status(ekey_token_verify(&t, f->p, NULL, 0, &f->pol, NULL), EKEY_E_INVALID_ARG);
    assert_null(t);
    assert_status(ekey_token_verify(NULL, f->p, tok, strlen(tok), &f->pol, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_token_verify(&t, f->p, tok, strlen(tok), NULL, NULL),
                  EKEY_E_INVALID_ARG);
    f->pol.keys = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.issuer = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.audience = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.audience = "";
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.issuer = "";
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.skew = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.now = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.max_ttl = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.max_limit = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    /* an empty keyset knows no kid */
    f->pol = pol;
    f->pol.keys = ekey_keyset_make(f->p);
    assert_status(verify(f, tok, NULL), EKEY_E_KID);
    /* CLM-18: the same token at a location with another audience */
    f->pol = pol;
    f->pol.audience = "https://b.example.com";
    assert_status(verify(f, tok, NULL), EKEY_E_AUDIENCE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(test_token_claims_table),
        FX(test_token_payload_json),
        FX(test_token_expiry_boundary),
        FX(test_token_times_before_trace_cap_cnf),
        FX(test_token_future_boundary),
        FX(test_token_lifetime),
        FX(test_token_args),
    };
    return ekey_test_main(tests);
}
