/* test_http.c - Authorization field framing (SECURITY-CASES 1.A, POS-01/02). */
#include "ekey_test.h"

#define T "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"

typedef struct {
    const char *value;
    ekey_status_t want;
    const char *token;      /* expected token when EKEY_OK */
} auth_case_t;

static const auth_case_t auth_cases[] = {
    /* accepted (POS-01, POS-02) */
    { "EKey " T, EKEY_OK, T },
    { "ekey " T, EKEY_OK, T },
    { "EKEY " T, EKEY_OK, T },
    { "eKeY " T, EKEY_OK, T },
    { "EKey    " T, EKEY_OK, T },
    { "  EKey " T "  ", EKEY_OK, T },           /* surrounding OWS (httpd strips it too) */
    { "EKey a", EKEY_OK, "a" },
    { "EKey -_.", EKEY_OK, "-_." },
    /* no credentials: nothing, or another single scheme (HDR-01, HDR-05, HDR-06) */
    { "", EKEY_E_NO_CREDENTIALS, NULL },
    { "   ", EKEY_E_NO_CREDENTIALS, NULL },
    { "Bearer " T, EKEY_E_NO_CREDENTIALS, NULL },
    { "DPoP " T, EKEY_E_NO_CREDENTIALS, NULL },
    { "Basic dXNlcjpwYXNz", EKEY_E_NO_CREDENTIALS, NULL },
    { "Bearer", EKEY_E_NO_CREDENTIALS, NULL },
    /* unknown scheme words (HDR-09) */
    { "EKey" T, EKEY_E_NO_CREDENTIALS, NULL },
    { "E-Key " T, EKEY_E_NO_CREDENTIALS, NULL },
    { "EKeys " T, EKEY_E_NO_CREDENTIALS, NULL },
    { "EKe " T, EKEY_E_NO_CREDENTIALS, NULL },
    /* merged repeated fields or several schemes (HDR-02, HDR-03, HDR-04) */
    { "EKey " T ", EKey " T, EKEY_E_REQUEST, NULL },
    { "EKey a, EKey b", EKEY_E_REQUEST, NULL },
    { "EKey " T ", Bearer " T, EKEY_E_REQUEST, NULL },
    { "Bearer " T ", EKey " T, EKEY_E_REQUEST, NULL },
    { "Basic a, Basic b", EKEY_E_REQUEST, NULL },
    { "EKey " T ",", EKEY_E_REQUEST, NULL },
    { ", EKey " T, EKEY_E_REQUEST, NULL },
    { "EKey a,b", EKEY_E_REQUEST, NULL },
    /* malformed after the scheme (HDR-09: tab is not SP) */
    { "EKey", EKEY_E_REQUEST, NULL },
    { "ekey", EKEY_E_REQUEST, NULL },
    { "EKey ", EKEY_E_REQUEST, NULL },
    { "EKey     ", EKEY_E_REQUEST, NULL },
    { "EKey\t" T, EKEY_E_REQUEST, NULL },
    { "EKey \t" T, EKEY_E_REQUEST, NULL },
    { "EKey:" T, EKEY_E_REQUEST, NULL },
    { "EKey=" T, EKEY_E_REQUEST, NULL },
    { "EKey\"" T "\"", EKEY_E_REQUEST, NULL },
    { "EKey " T " " T, EKEY_E_REQUEST, NULL },
    { "EKey " T " x", EKEY_E_REQUEST, NULL },
    { "EKey a\tb", EKEY_E_REQUEST, NULL },
    { "=EKey " T, EKEY_E_REQUEST, NULL },
    { "\"EKey\" " T, EKEY_E_REQUEST, NULL },
    /* token68 characters JWS compact never uses (HDR-11), non-ASCII (HDR-16) */
    { "EKey " T "=", EKEY_E_FORMAT, NULL },
    { "EKey " T "==", EKEY_E_FORMAT, NULL },
    { "EKey a+b.c.d", EKEY_E_FORMAT, NULL },
    { "EKey a/b.c.d", EKEY_E_FORMAT, NULL },
    { "EKey a~b.c.d", EKEY_E_FORMAT, NULL },
    { "EKey a\xc3\xa9" "b.c.d", EKEY_E_FORMAT, NULL },
    { "EKey a\"b", EKEY_E_FORMAT, NULL },
    { "EKey a\rb", EKEY_E_FORMAT, NULL },
    { "EKey a\x01" "b", EKEY_E_FORMAT, NULL },
};

static void test_http_table(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
        const auth_case_t *c = &auth_cases[i];
        const char *tok = "x";
        apr_size_t len = 99;
        ekey_error_t err;
        ekey_status_t st = ekey_http_parse_authorization(&tok, &len, c->value, 0, &err);

        if (st != c->want)
            fail_msg("case %zu \"%s\": got %s, want %s", i, c->value, ekey_status_name(st),
                     ekey_status_name(c->want));
        if (c->want == EKEY_OK) {
            assert_int_equal(len, strlen(c->token));
            assert_memory_equal(tok, c->token, len);
            /* the token points into the value: ath is computed over exactly these bytes */
            assert_true(tok >= c->value && tok + len <= c->value + strlen(c->value));
        }
        else {
            assert_null(tok);
            assert_int_equal(len, 0);
            assert_int_equal(err.status, c->want);
        }
    }
}

static void test_http_null(void **state)
{
    const char *tok = "x";
    apr_size_t len = 5;
    (void)state;

    assert_status(ekey_http_parse_authorization(&tok, &len, NULL, 0, NULL),
                  EKEY_E_NO_CREDENTIALS);
    assert_null(tok);
    assert_int_equal(len, 0);
    assert_status(ekey_http_parse_authorization(NULL, &len, "EKey a", 0, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_http_parse_authorization(&tok, NULL, "EKey a", 0, NULL),
                  EKEY_E_INVALID_ARG);
}

/* The limit applies to the token68 alone, before its characters are examined (DOS-01). */
static void test_http_length(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *tok;
    apr_size_t len;
    char *v = apr_palloc(p, 5 + EKEY_MAX_TOKEN_LEN + 2);

    memcpy(v, "EKey ", 5);
    memset(v + 5, 'A', EKEY_MAX_TOKEN_LEN);
    v[5 + EKEY_MAX_TOKEN_LEN] = '\0';
    assert_status(ekey_http_parse_authorization(&tok, &len, v, 0, NULL), EKEY_OK);
    assert_int_equal(len, EKEY_MAX_TOKEN_LEN);
    v[5 + EKEY_MAX_TOKEN_LEN] = 'A';
    v[5 + EKEY_MAX_TOKEN_LEN + 1] = '\0';
    assert_status(ekey_http_parse_authorization(&tok, &len, v, 0, NULL), EKEY_E_TOO_LARGE);
    assert_null(tok);
    /* an over-long token with a bad character is still "too large": size first */
    v[10] = '+';
    assert_status(ekey_http_parse_authorization(&tok, &len, v, 0, NULL), EKEY_E_TOO_LARGE);
    /* explicit limits */
    assert_status(ekey_http_parse_authorization(&tok, &len, "EKey abcd", 4, NULL), EKEY_OK);
    assert_status(ekey_http_parse_authorization(&tok, &len, "EKey abcde", 4, NULL),
                  EKEY_E_TOO_LARGE);
    assert_status(ekey_http_parse_authorization(&tok, &len, "EKey    abcd", 4, NULL), EKEY_OK);
}

/* What a shared cache may store of an answer under an E-Key: nothing. */
static void test_private_cache_control(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const cases[][2] = {
        { "public, max-age=600", "max-age=600, private" },
        { "max-age=600", "max-age=600, private" },
        { "PUBLIC,S-MAXAGE=60 ,must-revalidate", "must-revalidate, private" },
        { "s-maxage=\"60\"", "private" },
        { "public", "private" },
        { "", "private" },
        { " , ,", "private" },
        { "no-cache=\"a, public\", max-age=5", "no-cache=\"a, public\", max-age=5, private" },
        { "x=\"q\\\"uote, public\", public", "x=\"q\\\"uote, public\", private" },
        { "publicity, max-age=1", "publicity, max-age=1, private" },
        { "private", NULL },
        { "max-age=0, Private=\"Set-Cookie\"", "max-age=0, Private=\"Set-Cookie\", private" },
        { "max-age=0, Private", NULL },
        { "no-store", NULL },
        { "no-store, public", "no-store" },
        { "public, private", "private" },
        { "max-age=5, x=\"open, public", "private" },
        { "  EKey\"eyJ 7p \t", "private" },
        { "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", "a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, private" },
    };
    size_t i;

    assert_string_equal(ekey_http_private_cache_control(p, NULL), "private");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = ekey_http_private_cache_control(p, cases[i][0]);

        if (cases[i][1] == NULL ? got != NULL
                                : got == NULL || strcmp(got, cases[i][1]) != 0)
            fail_msg("case %zu \"%s\": got %s, want %s", i, cases[i][0],
                     got ? got : "(unchanged)", cases[i][1] ? cases[i][1] : "(unchanged)");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_http_table),
        EKEY_TEST(test_http_null),
        EKEY_TEST(test_http_length),
        EKEY_TEST(test_private_cache_control),
    };
    return ekey_test_main(tests);
}
