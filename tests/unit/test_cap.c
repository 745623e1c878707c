/* test_cap.c - cap.action grammar, matching against the routed request, issuer patterns. */
#include "ekey_test.h"

typedef struct {
    const char *action;
    const char *method;     /* NULL: rejected with EKEY_E_CLAIMS */
    const char *path;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    { "POST:/payments", "POST", "/payments" },
    { "GET:/", "GET", "/" },
    { "DELETE:/a/b/c", "DELETE", "/a/b/c" },
    { "PATCH:/payments/", "PATCH", "/payments/" },
    { "VERSION-CONTROL:/repo", "VERSION-CONTROL", "/repo" },
    { "GET:/a%20b", "GET", "/a%20b" },
    { "GET:/a%3Fb%23c", "GET", "/a%3Fb%23c" },
    { "GET:/%C3%A9t%C3%A9", "GET", "/%C3%A9t%C3%A9" },
    { "GET:/100%25", "GET", "/100%25" },
    { "GET:/a:b@c!$&'()+=", "GET", "/a:b@c!$&'()+=" },
    { "GET:/-._~", "GET", "/-._~" },
    { "GET:/...", "GET", "/..." },
    { "GET:/a.b/.c/..d", "GET", "/a.b/.c/..d" },
    /* CLM-16: strict grammar METHOD ":" absolute-path */
    { "POST /payments", NULL, NULL },
    { "post:/payments", NULL, NULL },
    { "Post:/payments", NULL, NULL },
    { ":/payments", NULL, NULL },
    { "POST:", NULL, NULL },
    { "POST:payments", NULL, NULL },
    { "*:/payments", NULL, NULL },
    { "POST:/payments*", NULL, NULL },
    { "POST:/payments,GET:/admin", NULL, NULL },
    { "POST:/payments;jsessionid=1", NULL, NULL },
    { "POST::/payments", NULL, NULL },
    { "POST", NULL, NULL },
    { "", NULL, NULL },
    { "-GET:/x", NULL, NULL },
    { "G3T:/x", NULL, NULL },
    { "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG:/x", NULL, NULL },  /* 33-byte method */
    /* not the normal form httpd routes (CAP-03..CAP-13) */
    { "POST:/payments/../admin", NULL, NULL },
    { "POST:/payments/./x", NULL, NULL },
    { "POST:/..", NULL, NULL },
    { "POST:/.", NULL, NULL },
    { "POST:/a/..", NULL, NULL },
    { "POST://payments", NULL, NULL },
    { "POST:/payments//", NULL, NULL },
    { "POST:/a//b", NULL, NULL },
    { "POST:/payments\\..\\admin", NULL, NULL },
    { "POST:/payments%5C..%5Cadmin", NULL, NULL },
    { "POST:/payments%2Fadmin", NULL, NULL },
    { "POST:/payments%2fadmin", NULL, NULL },
    { "POST:/%2E%2E/admin", NULL, NULL },
    { "POST:/%61dmin", NULL, NULL },
    { "POST:/a%7E", NULL, NULL },
    { "POST:/a%3fb", NULL, NULL },             /* lowercase hex is not normal form */
    { "GET:/papi/..%3B/admin", NULL, NULL },   /* ";" escaped: mod_proxy forwards ";" */
    { "GET:/x%3B.jsp", NULL, NULL },
    { "POST:/payments%00/admin", NULL, NULL },
    { "POST:/a%0D%0A", NULL, NULL },
    { "POST:/a%7F", NULL, NULL },
    { "POST:/a%", NULL, NULL },
    { "POST:/a%4", NULL, NULL },
    { "POST:/a%G0", NULL, NULL },
    { "POST:/admin?/payments", NULL, NULL },
    { "POST:/payments#x", NULL, NULL },
    { "POST:/pay ments", NULL, NULL },
    { "POST:/pay\tments", NULL, NULL },
    { "POST:/payments\r\n", NULL, NULL },
    { "POST:/caf\xc3\xa9", NULL, NULL },
    { "POST:/a\"b", NULL, NULL },
    { "POST:/a<b>", NULL, NULL },
    { "POST:/a[0]", NULL, NULL },
    { "POST:/a{b}", NULL, NULL },
    { "POST:/a|b", NULL, NULL },
};

static void test_cap_parse_table(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        const char *m = "x", *path = "x";
        ekey_error_t err;
        ekey_status_t st = ekey_cap_parse(&m, &path, p, c->action, &err);

        if (c->method != NULL) {
            if (st != EKEY_OK)
                fail_msg("case %zu \"%s\": %s", i, c->action, ekey_status_name(st));
            assert_string_equal(m, c->method);
            assert_string_equal(path, c->path);
        }
        else {
            if (st != EKEY_E_CLAIMS)
                fail_msg("case %zu \"%s\": got %s, want EKEY_E_CLAIMS", i, c->action,
                         ekey_status_name(st));
            assert_null(m);
            assert_null(path);
            assert_int_equal(err.status, EKEY_E_CLAIMS);
        }
    }
}

static void test_cap_parse_length(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *m, *path;
    char *a = apr_palloc(p, 2050);

    memset(a, 'a', 2049);
    memcpy(a, "GET:/", 5);
    a[2048] = '\0';                             /* exactly 2048 bytes */
    assert_status(ekey_cap_parse(&m, &path, p, a, NULL), EKEY_OK);
    assert_int_equal(strlen(path), 2044);
    a[2048] = 'a';
    a[2049] = '\0';                             /* 2049 bytes */
    assert_status(ekey_cap_parse(&m, &path, p, a, NULL), EKEY_E_CLAIMS);
    assert_null(path);
}

static void test_cap_parse_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *m = "x", *path = "x";

    assert_status(ekey_cap_parse(&m, &path, p, NULL, NULL), EKEY_E_CLAIMS);
    assert_null(m);
    assert_status(ekey_cap_parse(NULL, &path, p, "GET:/", NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_cap_parse(&m, NULL, p, "GET:/", NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_cap_parse(&m, &path, NULL, "GET:/", NULL), EKEY_E_INVALID_ARG);
}

typedef struct {
    const char *action, *method, *uri;
    int ok;
} match_case_t;

/* uri is httpd's r->uri: already decoded, dots removed. */
static const match_case_t match_cases[] = {
    { "POST:/payments", "POST", "/payments", 1 },
    { "GET:/", "GET", "/", 1 },
    { "POST:/payments", "GET", "/payments", 0 },           /* CAP-01 */
    { "POST:/payments", "POST", "/admin", 0 },             /* CAP-02 */
    { "POST:/payments", "post", "/payments", 0 },
    { "POST:/payments", "POS", "/payments", 0 },
    { "POST:/payments", "POSTX", "/payments", 0 },
    { "POST:/payments", "POST", "/payments-admin", 0 },    /* CAP-06 */
    { "POST:/payments", "POST", "/paymentsX", 0 },
    { "POST:/payments", "POST", "/payments/refunds", 0 },
    { "POST:/payments", "POST", "/payments/", 0 },         /* CAP-07 */
    { "POST:/payments/", "POST", "/payments", 0 },
    { "POST:/payments", "POST", "/PAYMENTS", 0 },          /* CAP-08 */
    { "POST:/payments", "POST", "/Payments", 0 },
    { "POST:/payments", "POST", "/paymen", 0 },
    { "POST:/payments", "POST", "", 0 },
    { "GET:/payments", "HEAD", "/payments", 0 },           /* CAP-16 */
    /* request paths that are not in routed normal form never match (CAP-03/05/11/13) */
    { "POST:/payments", "POST", "/payments/../payments", 0 },
    { "POST:/payments", "POST", "/./payments", 0 },
    { "POST:/payments", "POST", "//payments", 0 },
    { "POST:/a/b", "POST", "/a//b", 0 },
    { "POST:/payments", "POST", "payments", 0 },
    { "POST:/payments", "POST", "/payments\\", 0 },
    { "POST:/payments", "POST", "/payments\n", 0 },
    /* escapes in the capability match the decoded r->uri */
    { "GET:/a%20b", "GET", "/a b", 1 },
    { "GET:/a%20b", "GET", "/a%20b", 0 },
    { "GET:/a%3Fb", "GET", "/a?b", 1 },
    { "GET:/100%25", "GET", "/100%", 1 },
    { "GET:/%C3%A9", "GET", "/\xc3\xa9", 1 },
    { "GET:/%C3%A9", "GET", "/\xc3\xa8", 0 },
    { "GET:/a%20b", "GET", "/a b/", 0 },
    { "GET:/a%20b", "GET", "/a ", 0 },
    /* a routed path with ";" (sent literally or as %3B) matches nothing */
    { "GET:/papi/x", "GET", "/papi/x;.jsp", 0 },
    { "GET:/papi/..%3B/admin", "GET", "/papi/..;/admin", 0 },
    /* a malformed capability never matches anything */
    { "POST:/payments/../admin", "POST", "/admin", 0 },
    { "post:/payments", "post", "/payments", 0 },
    { "*:/payments", "POST", "/payments", 0 },
    { "POST:/payments*", "POST", "/payments*", 0 },
};

static void test_cap_match_table(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const match_case_t *c = &match_cases[i];
        ekey_error_t err;
        ekey_status_t st = ekey_cap_match(c->action, c->method, c->uri, &err);

        if (st != (c->ok ? EKEY_OK : EKEY_E_CAPABILITY))
            fail_msg("case %zu %s vs %s %s: got %s", i, c->action, c->method, c->uri,
                     ekey_status_name(st));
        if (!c->ok)
            assert_int_equal(err.status, EKEY_E_CAPABILITY);
    }
    assert_status(ekey_cap_match(NULL, "GET", "/", NULL), EKEY_E_CAPABILITY);
    assert_status(ekey_cap_match("GET:/", NULL, "/", NULL), EKEY_E_CAPABILITY);
    assert_status(ekey_cap_match("GET:/", "GET", NULL, NULL), EKEY_E_CAPABILITY);
}

typedef struct {
    const char *pattern, *action;
    int ok;
} pattern_case_t;

static const pattern_case_t pattern_cases[] = {
    { "POST:/payments", "POST:/payments", 1 },
    { "POST:/payments", "POST:/payments/", 0 },
    { "POST:/payments", "POST:/payments/x", 0 },
    { "POST:/payments", "GET:/payments", 0 },
    { "POST:/payments", "POSTX:/payments", 0 },
    { "POST:/payments/*", "POST:/payments/1", 1 },
    { "POST:/payments/*", "POST:/payments/1/refund", 1 },
    { "POST:/payments/*", "POST:/payments/", 0 },
    { "POST:/payments/*", "POST:/payments", 0 },
    { "POST:/payments/*", "POST:/paymentsX", 0 },
    { "POST:/payments/*", "POST:/payments-admin/1", 0 },
    { "POST:/payments/*", "GET:/payments/1", 0 },
    { "*:/payments", "GET:/payments", 1 },
    { "*:/payments", "DELETE:/payments", 1 },
    { "*:/payments", "DELETE:/admin", 0 },
    { "*:/payments/*", "PUT:/payments/a/b", 1 },
    { "*:/payments/*", "PUT:/payments", 0 },
    { "GET:/*", "GET:/anything", 1 },
    { "GET:/*", "GET:/a/b", 1 },
    { "GET:/*", "GET:/", 0 },
    /* actions the grammar refuses are never allowed (ISS-04) */
    { "POST:/payments/*", "POST:/payments/../admin", 0 },
    { "POST:/payments/*", "POST:/payments//x", 0 },
    { "POST:/payments/*", "POST:/payments/%2E%2E/admin", 0 },
    { "GET:/papi/*", "GET:/papi/..%3B/admin", 0 },     /* "..;/" for Java backends */
    { "*:/payments", "*:/payments", 0 },
    { "POST:/payments/*", "POST:/payments/*", 0 },
    { "POST:/payments", "post:/payments", 0 },
    /* malformed patterns allow nothing */
    { "POST:/payments*", "POST:/payments1", 0 },
    { "POST:/payments*", "POST:/payments", 0 },
    { "*", "POST:/payments", 0 },
    { "*:*", "POST:/payments", 0 },
    { "POST:*", "POST:/payments", 0 },
    { "POST:/a/*/b", "POST:/a/x/b", 0 },
    { "POST:/a/**", "POST:/a/x", 0 },
    { "POST:/../*", "POST:/x", 0 },
    { "post:/payments", "POST:/payments", 0 },
    { "**:/payments", "POST:/payments", 0 },
    { "POST:payments", "POST:payments", 0 },
    { "", "POST:/payments", 0 },
};

static void test_cap_pattern_table(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
        const pattern_case_t *c = &pattern_cases[i];
        if (ekey_cap_pattern_match(c->pattern, c->action) != c->ok)
            fail_msg("case %zu pattern %s action %s: want %d", i, c->pattern, c->action, c->ok);
    }
    assert_int_equal(ekey_cap_pattern_match(NULL, "GET:/"), 0);
    assert_int_equal(ekey_cap_pattern_match("GET:/", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_cap_parse_table),
        EKEY_TEST(test_cap_parse_length),
        EKEY_TEST(test_cap_parse_args),
        EKEY_TEST(test_cap_match_table),
        EKEY_TEST(test_cap_pattern_table),
    };
    return ekey_test_main(tests);
}
