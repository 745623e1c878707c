/* test_url.c - RFC 3986 §6.2.2 normalisation for htu, and the public origin. */
#include "ekey_test.h"

typedef struct {
    const char *in;
    const char *want;       /* NULL: rejected with EKEY_E_INVALID_ARG */
} url_case_t;

static const url_case_t url_cases[] = {
    /* accepted, in normal form already */
    { "https://api.example.com/payments", "https://api.example.com/payments" },
    { "http://api.example.com/payments", "http://api.example.com/payments" },
    /* case of scheme and host (POS-05); the path keeps its case (HTU-07) */
    { "HTTPS://API.EXAMPLE.COM/payments", "https://api.example.com/payments" },
    { "HtTp://Api.Example.Com/Payments", "http://api.example.com/Payments" },
    /* default ports (POS-04) and other ports (HTU-03) */
    { "https://api.example.com:443/payments", "https://api.example.com/payments" },
    { "http://api.example.com:80/payments", "http://api.example.com/payments" },
    { "https://api.example.com:80/payments", "https://api.example.com:80/payments" },
    { "http://api.example.com:443/", "http://api.example.com:443/" },
    { "https://api.example.com:8443/payments", "https://api.example.com:8443/payments" },
    { "https://api.example.com:0443/x", "https://api.example.com/x" },
    { "http://localhost:05100/x", "http://localhost:5100/x" },
    { "http://localhost:005100/x", "http://localhost:5100/x" },
    { "http://localhost:0000000080/x", "http://localhost/x" },
    { "https://api.example.com:/x", "https://api.example.com/x" },
    { "http://127.0.0.1:8529/a", "http://127.0.0.1:8529/a" },
    /* empty path (POS-06) */
    { "https://api.example.com", "https://api.example.com/" },
    { "https://api.example.com:443", "https://api.example.com/" },
    { "https://api.example.com?x=1", "https://api.example.com/" },
    /* query and fragment dropped (POS-08) */
    { "https://api.example.com/payments?a=1&b=2", "https://api.example.com/payments" },
    { "https://api.example.com/payments#frag", "https://api.example.com/payments" },
    { "https://api.example.com/payments?", "https://api.example.com/payments" },
    { "https://api.example.com/p?q=/../x#y", "https://api.example.com/p" },
    /* percent-encoding: hex uppercased, unreserved decoded, reserved kept (HTU-09) */
    { "https://a.example/%7euser/%41%62c", "https://a.example/~user/Abc" },
    { "https://a.example/a%2fb", "https://a.example/a%2Fb" },
    { "https://a.example/payments%2F", "https://a.example/payments%2F" },
    { "https://a.example/payments%00", "https://a.example/payments%00" },
    { "https://a.example/%c3%a9", "https://a.example/%C3%A9" },
    { "https://a.example/a%20b", "https://a.example/a%20b" },
    { "https://a.example/%2D%2E%5F%7E", "https://a.example/-._~" },
    /* trailing slash and "//" are significant (HTU-06) */
    { "https://a.example/payments/", "https://a.example/payments/" },
    { "https://a.example//payments", "https://a.example//payments" },
    { "https://a.example/a:b@c!$&'()*+,;=", "https://a.example/a:b@c!$&'()*+,;=" },
    { "https://a.example/...", "https://a.example/..." },
    { "https://a.example/a.b/.c", "https://a.example/a.b/.c" },
    /* IPv6 literals */
    { "https://[::1]/x", "https://[::1]/x" },
    { "https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x" },
    { "http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080/" },
    { "https://[::ffff:192.0.2.1]/", "https://[::ffff:192.0.2.1]/" },

    /* rejected: forms that are not absolute http(s) URLs (HTU-12) */
    { "/payments", NULL },
    { "//api.example.com/payments", NULL },
    { "api.example.com/payments", NULL },
    { "ftp://api.example.com/payments", NULL },
    { "https:/api.example.com/payments", NULL },
    { "https:api.example.com", NULL },
    { "httpss://a.example/", NULL },
    { "", NULL },
    { "https://", NULL },
    { "https:///payments", NULL },
    { "https://:443/x", NULL },
    /* userinfo (HTU-10) */
    { "https://user@api.example.com/payments", NULL },
    { "https://user:pw@api.example.com/payments", NULL },
    { "https://@api.example.com/", NULL },
    /* control characters, spaces, backslash, non-ASCII (HTU-11, HTU-14) */
    { "https://api.example.com/pay ments", NULL },
    { "https://api.example.com/payments\r\n", NULL },
    { "https://api.example.com/pay\tments", NULL },
    { "https://api.example.com\\payments", NULL },
    { "https://api.example.com/a\\b", NULL },
    { "https://api.ex\xd0\xb0mple.com/payments", NULL },
    { "https://api.example.com/\x7f", NULL },
    { " https://api.example.com/", NULL },
    { "https://api.example.com/p?q=a b", NULL },
    /* malformed escapes */
    { "https://a.example/%", NULL },
    { "https://a.example/%4", NULL },
    { "https://a.example/%zz", NULL },
    { "https://a.example/%4g", NULL },
    { "https://a.example/a%2", NULL },
    /* dot segments, literal or encoded (HTU-08, HTU-09) */
    { "https://a.example/payments/../admin", NULL },
    { "https://a.example/./payments", NULL },
    { "https://a.example/%2e%2e/payments", NULL },
    { "https://a.example/%2E/payments", NULL },
    { "https://a.example/.%2e", NULL },
    { "https://a.example/a/..", NULL },
    { "https://a.example/a/.", NULL },
    /* characters not allowed in a path or host */
    { "https://a.example/a\"b", NULL },
    { "https://a.example/a<b>", NULL },
    { "https://a.example/a{b}", NULL },
    { "https://a.example/a|b", NULL },
    { "https://a.example/a^b", NULL },
    { "https://a.example/a`b", NULL },
    { "https://a.example/a[b]", NULL },
    { "https://a.ex%61mple/", NULL },
    { "https://a.example!/", NULL },
    /* ports */
    { "https://a.example:0/", NULL },
    { "https://a.example:65536/", NULL },
    { "https://a.example:123456/", NULL },
    { "https://a.example:44x/", NULL },
    { "https://a.example:-1/", NULL },
    { "https://a.example:000000/", NULL },
    { "https://a.example:0065536/", NULL },
    /* IPv6 literals */
    { "https://[::1/x", NULL },
    { "https://[]/x", NULL },
    { "https://[::g]/x", NULL },
    { "https://[fe80::1%25eth0]/x", NULL },
    { "https://[::1]x/", NULL },
    { "https://::1/x", NULL },
};

static void test_url_table(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const url_case_t *c = &url_cases[i];
        ekey_error_t err;
        char *out = (char *)"sentinel";
        ekey_status_t st;

        memset(&err, 0, sizeof(err));
        st = ekey_url_normalize(&out, p, c->in, &err);
        if (c->want != NULL) {
            if (st != EKEY_OK)
                fail_msg("case %zu \"%s\": %s (%s: %s)", i, c->in, ekey_status_name(st),
                         err.where, err.text);
            assert_string_equal(out, c->want);
        }
        else {
            if (st != EKEY_E_INVALID_ARG)
                fail_msg("case %zu \"%s\": got %s, want EKEY_E_INVALID_ARG", i, c->in,
                         ekey_status_name(st));
            assert_null(out);
            assert_int_equal(err.status, EKEY_E_INVALID_ARG);
            assert_true(err.where[0] != '\0');
        }
    }
}

/* Normalisation is idempotent: the output of every accepted case maps to itself. */
static void test_url_idempotent(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        char *once, *twice;
        if (url_cases[i].want == NULL)
            continue;
        assert_status(ekey_url_normalize(&once, p, url_cases[i].in, NULL), EKEY_OK);
        assert_status(ekey_url_normalize(&twice, p, once, NULL), EKEY_OK);
        assert_string_equal(once, twice);
    }
}

static void test_url_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char *out = (char *)"x";
    char *big;

    assert_status(ekey_url_normalize(&out, p, NULL, NULL), EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_status(ekey_url_normalize(NULL, p, "https://a.example/", NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_url_normalize(&out, NULL, "https://a.example/", NULL),
                  EKEY_E_INVALID_ARG);
    /* an absurdly long URL is refused without work */
    big = apr_palloc(p, 9001);
    memset(big, 'a', 9000);
    memcpy(big, "https://a.example/", 18);
    big[9000] = '\0';
    assert_status(ekey_url_normalize(&out, p, big, NULL), EKEY_E_INVALID_ARG);
    big[8000] = '\0';
    assert_status(ekey_url_normalize(&out, p, big, NULL), EKEY_OK);
    assert_int_equal(strlen(out), 8000);
}

typedef struct {
    const char *in;
    const char *want;
} origin_case_t;

static const origin_case_t origin_cases[] = {
    { "https://api.example.com", "https://api.example.com" },
    { "https://api.example.com/", "https://api.example.com" },
    { "HTTPS://API.Example.COM:443", "https://api.example.com" },
    { "https://api.example.com:8443", "https://api.example.com:8443" },
    { "http://127.0.0.1:8529", "http://127.0.0.1:8529" },
    { "http://localhost:80/", "http://localhost" },
    { "https://[::1]:443", "https://[::1]" },
    { "https://api.example.com/payments", NULL },
    { "https://api.example.com//", NULL },
    { "https://api.example.com?x", NULL },
    { "https://api.example.com/?x", NULL },
    { "https://api.example.com#f", NULL },
    { "https://user@api.example.com", NULL },
    { "ftp://api.example.com", NULL },
    { "api.example.com", NULL },
    { "https://api.example.com:99999", NULL },
    { "https://api.example.com ", NULL },
    { "", NULL },
};

static void test_origin_table(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(origin_cases) / sizeof(origin_cases[0]); i++) {
        const origin_case_t *c = &origin_cases[i];
        char *out = (char *)"sentinel";
        ekey_status_t st = ekey_origin_normalize(&out, p, c->in, NULL);

        if (c->want != NULL) {
            if (st != EKEY_OK)
                fail_msg("origin %zu \"%s\": %s", i, c->in, ekey_status_name(st));
            assert_string_equal(out, c->want);
        }
        else {
            if (st != EKEY_E_INVALID_ARG)
                fail_msg("origin %zu \"%s\": got %s", i, c->in, ekey_status_name(st));
            assert_null(out);
        }
    }
}

static void test_origin_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char *out = (char *)"x";

    assert_status(ekey_origin_normalize(&out, p, NULL, NULL), EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_status(ekey_origin_normalize(NULL, p, "https://a.example", NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_origin_normalize(&out, NULL, "https://a.example", NULL),
                  EKEY_E_INVALID_ARG);
}

/* The glue builds the expected htu as origin + routed path: equal to a client's htu. */
static void test_origin_plus_path(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char *origin, *want, *got;

    assert_status(ekey_origin_normalize(&origin, p, "HTTPS://API.example.com:443/", NULL),
                  EKEY_OK);
    assert_status(ekey_url_normalize(&want, p, apr_pstrcat(p, origin, "/payments", NULL),
                                     NULL), EKEY_OK);
    assert_status(ekey_url_normalize(&got, p, "https://api.example.com/payments?x=1", NULL),
                  EKEY_OK);
    assert_string_equal(want, got);
    assert_status(ekey_url_normalize(&got, p, "https://api.example.com/Payments", NULL),
                  EKEY_OK);
    assert_string_not_equal(want, got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_url_table),
        EKEY_TEST(test_url_idempotent),
        EKEY_TEST(test_url_args),
        EKEY_TEST(test_origin_table),
        EKEY_TEST(test_origin_args),
        EKEY_TEST(test_origin_plus_path),
    };
    return ekey_test_main(tests);
}
