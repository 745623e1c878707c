/* test_json.c - strict parsing (duplicates, depth, trailing data, NUL, size) and getters. */
#include "ekey_test.h"

#include <stdlib.h>

static ekey_status_t parse(apr_pool_t *p, const char *s, json_t **out)
{
    json_t *j = NULL;
    ekey_status_t st = ekey_json_parse(&j, p, s, strlen(s), 0, NULL);

    if (st != EKEY_OK)
        assert_null(j);
    if (out != NULL)
        *out = j;
    return st;
}

/* Each is EKEY_E_JSON: not exactly one strict JSON object. */
static const char *const bad_json[] = {
    "{\"alg\":\"ES256\",\"alg\":\"none\"}",             /* JSON-01 duplicate */
    "{\"alg\":\"none\",\"alg\":\"ES256\"}",             /* and reversed */
    "{\"cap\":{\"action\":\"a\",\"action\":\"b\"}}",    /* JSON-03 nested duplicate */
    "{\"a\":1}xyz",                                     /* B64-12 trailing data */
    "{\"a\":1}{\"b\":2}",                               /* two objects */
    "[1,2]",                                            /* B64-13 top-level array */
    "\"str\"",
    "42",
    "null",
    "",
    "   ",
    "{\"a\":\"\\u0000\"}",                              /* NUL escape (no JSON_ALLOW_NUL) */
    "{\"a\\u0000\":1}",                                 /* NUL in a key */
    "\xef\xbb\xbf{\"a\":1}",                            /* B64-11 BOM */
    "{\"a\":\"\xc0\xaf\"}",                             /* B64-10 overlong UTF-8 */
    "{\"a\":\"\xed\xa0\x80\"}",                         /* encoded surrogate */
    "{\"a\":\"\\ud800\"}",                              /* JSON-07 lone surrogate */
    "{\"a\":\"\\x41\"}",                                /* bad escape */
    "{\"a\":\"\x01\"}",                                 /* raw control character */
    "{\"a\":1,}",                                       /* JSON-08 trailing comma */
    "{'a':1}",
    "{\"a\":1 /* c */}",
    "{\"a\":NaN}",
    "{\"a\":Infinity}",
    "{\"a\":01}",
    "{\"a\":0x10}",
    "{\"a\":+1}",
    "{\"a\":99999999999999999999999}",                 /* integer overflow */
    "{\"a\":1",                                         /* truncated */
    "{\"a\":[[[[[[[[1]]]]]]]]}",                        /* depth 9 */
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",                   /* deep and unclosed */
};

static void test_rejects(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
        if (parse(p, bad_json[i], NULL) != EKEY_E_JSON)
            fail_msg("accepted bad JSON #%zu: %s", i, bad_json[i]);
}

static void test_accepts(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    json_t *j;

    assert_int_equal(parse(p, "{\"a\":1,\"b\":\"x\"}", &j), EKEY_OK);
    assert_int_equal(json_object_size(j), 2);
    assert_int_equal(parse(p, " {} \n", &j), EKEY_OK);          /* whitespace is fine */
    assert_int_equal(parse(p, "{\"a\":[[[[[[[1]]]]]]]}", &j), EKEY_OK);   /* depth 8 */
    /* Brackets and escaped quotes inside strings are not nesting. */
    assert_int_equal(parse(p, "{\"a\":\"[[[[[[[[[[[[[[[[{{{{{{{{{{{\"}", &j), EKEY_OK);
    assert_int_equal(parse(p, "{\"a\":\"\\\"[[[[[[[[[[[[[\",\"b\":\"\\\\\"}", &j), EKEY_OK);
    assert_string_equal(json_string_value(json_object_get(j, "b")), "\\");
    assert_int_equal(parse(p, "{\"k\":\"\xc3\xa9\\u00e9\"}", &j), EKEY_OK);   /* UTF-8 */
    assert_int_equal(parse(p, "{\"A\":1,\"a\":2}", &j), EKEY_OK);   /* case-distinct keys */
}

static void test_depth_bomb(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    apr_size_t n = 100000;
    char *buf = apr_palloc(p, n + 2);
    json_t *j = (json_t *)1;
    ekey_error_t err;

    /* JSON-10: 100000 '[' inside an object, under the size limit; must fail fast in the
     * prescan, never reaching jansson's recursion. */
    buf[0] = '{';
    memset(buf + 1, '[', n);
    buf[n + 1] = '\0';
    assert_int_equal(ekey_json_parse(&j, p, buf, n + 1, n + 1, &err), EKEY_E_JSON);
    assert_null(j);
    assert_string_equal(err.where, "json.parse");
    assert_non_null(strstr(err.text, "deep"));
    memset(buf, '[', n);
    assert_int_equal(ekey_json_parse(&j, p, buf, n, n, NULL), EKEY_E_JSON);
}

static void test_nul_and_size(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    json_t *j;
    static const char nul_in[] = "{\"a\":\"x\0y\"}";
    static const char nul_after[] = "{\"a\":1}\0";
    char big[5000];

    assert_int_equal(ekey_json_parse(&j, p, nul_in, sizeof(nul_in) - 1, 0, NULL), EKEY_E_JSON);
    assert_int_equal(ekey_json_parse(&j, p, nul_after, sizeof(nul_after) - 1, 0, NULL),
                     EKEY_E_JSON);
    /* Only len bytes are read: no NUL terminator required. */
    assert_int_equal(ekey_json_parse(&j, p, "{\"a\":1}garbage", 7, 0, NULL), EKEY_OK);
    /* Size before parsing: garbage over the limit is TOO_LARGE, not JSON. */
    assert_int_equal(ekey_json_parse(&j, p, "{{{{{{{{{{", 10, 9, NULL), EKEY_E_TOO_LARGE);
    assert_null(j);
    assert_int_equal(ekey_json_parse(&j, p, "{\"a\":12}", 8, 8, NULL), EKEY_OK);
    assert_int_equal(ekey_json_parse(&j, p, "{\"a\":12}", 8, 7, NULL), EKEY_E_TOO_LARGE);
    /* max_len 0: the default EKEY_MAX_TOKEN_LEN. */
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[EKEY_MAX_TOKEN_LEN - 1] = '}';
    assert_int_equal(ekey_json_parse(&j, p, big, EKEY_MAX_TOKEN_LEN, 0, NULL), EKEY_OK);
    big[EKEY_MAX_TOKEN_LEN] = '}';
    big[EKEY_MAX_TOKEN_LEN - 1] = ' ';
    assert_int_equal(ekey_json_parse(&j, p, big, EKEY_MAX_TOKEN_LEN + 1, 0, NULL),
                     EKEY_E_TOO_LARGE);
    assert_int_equal(ekey_json_parse(NULL, p, "{}", 2, 0, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_json_parse(&j, p, NULL, 2, 0, NULL), EKEY_E_INVALID_ARG);
}

static void test_get_int(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    json_t *j;
    apr_int64_t v;
    int present;
    ekey_error_t err;
    static const char *const not_ints[] = { "s", "r1", "r15", "t", "n", "o", "a", "big" };
    size_t i;

    assert_int_equal(parse(p, "{\"i\":1,\"neg\":-5,\"max\":9223372036854775807,"
                              "\"s\":\"1\",\"r1\":1.0,\"r15\":1.5,\"t\":true,\"n\":null,"
                              "\"o\":{},\"a\":[1],\"big\":1e300}", &j), EKEY_OK);
    assert_int_equal(ekey_json_get_int(&v, &present, j, "i", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_int_equal(v, 1);
    assert_int_equal(present, 1);
    assert_int_equal(ekey_json_get_int(&v, NULL, j, "neg", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_int_equal(v, -5);
    assert_int_equal(ekey_json_get_int(&v, NULL, j, "max", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_true(v == APR_INT64_MAX);
    /* "1", 1.0, 1.5, true, null, {}, [1], 1e300: present with the wrong type is always an
     * error, required or not, with the caller's status. */
    for (i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++) {
        v = 77;
        present = 1;
        assert_int_equal(ekey_json_get_int(&v, &present, j, not_ints[i], 0, EKEY_E_PROOF,
                                           &err), EKEY_E_PROOF);
        assert_int_equal(err.status, EKEY_E_PROOF);
        assert_int_equal(v, 0);
        assert_int_equal(present, 0);
        assert_int_equal(ekey_json_get_int(&v, NULL, j, not_ints[i], 1, EKEY_E_CLAIMS, NULL),
                         EKEY_E_CLAIMS);
    }
    /* Absent: optional leaves *out untouched, required fails. */
    v = 42;
    present = 1;
    assert_int_equal(ekey_json_get_int(&v, &present, j, "zz", 0, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_int_equal(v, 42);
    assert_int_equal(present, 0);
    assert_int_equal(ekey_json_get_int(&v, &present, j, "zz", 1, EKEY_E_CLAIMS, NULL),
                     EKEY_E_CLAIMS);
    assert_int_equal(ekey_json_get_int(&v, NULL, NULL, "i", 0, EKEY_E_CLAIMS, NULL),
                     EKEY_E_CLAIMS);
}

static void test_get_string_object(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    json_t *j, *o, *arr;
    const char *s;

    assert_int_equal(parse(p, "{\"s\":\"v\",\"e\":\"\",\"i\":5,\"n\":null,\"o\":{\"k\":1},"
                              "\"a\":[\"x\"]}", &j), EKEY_OK);
    assert_int_equal(ekey_json_get_string(&s, j, "s", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_string_equal(s, "v");
    assert_int_equal(ekey_json_get_string(&s, j, "e", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_string_equal(s, "");
    assert_int_equal(ekey_json_get_string(&s, j, "i", 0, EKEY_E_JWK, NULL), EKEY_E_JWK);
    assert_null(s);
    assert_int_equal(ekey_json_get_string(&s, j, "n", 0, EKEY_E_JWK, NULL), EKEY_E_JWK);
    assert_int_equal(ekey_json_get_string(&s, j, "a", 0, EKEY_E_CLAIMS, NULL), EKEY_E_CLAIMS);
    assert_int_equal(ekey_json_get_string(&s, j, "o", 0, EKEY_E_CLAIMS, NULL), EKEY_E_CLAIMS);
    assert_int_equal(ekey_json_get_string(&s, j, "zz", 0, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_null(s);
    assert_int_equal(ekey_json_get_string(&s, j, "zz", 1, EKEY_E_PROOF, NULL), EKEY_E_PROOF);
    /* A string built in code with an embedded NUL is refused. */
    json_object_set_new(j, "nul", json_stringn("a\0b", 3));
    assert_int_equal(ekey_json_get_string(&s, j, "nul", 1, EKEY_E_CLAIMS, NULL),
                     EKEY_E_CLAIMS);

    assert_int_equal(ekey_json_get_object(&o, j, "o", 1, EKEY_E_CNF, NULL), EKEY_OK);
    assert_int_equal(json_object_size(o), 1);
    assert_int_equal(ekey_json_get_object(&o, j, "a", 1, EKEY_E_CNF, NULL), EKEY_E_CNF);
    assert_null(o);
    assert_int_equal(ekey_json_get_object(&o, j, "s", 0, EKEY_E_CNF, NULL), EKEY_E_CNF);
    assert_int_equal(ekey_json_get_object(&o, j, "n", 0, EKEY_E_CNF, NULL), EKEY_E_CNF);
    assert_int_equal(ekey_json_get_object(&o, j, "zz", 0, EKEY_E_CNF, NULL), EKEY_OK);
    assert_null(o);
    assert_int_equal(ekey_json_get_object(&o, j, "zz", 1, EKEY_E_CNF, NULL), EKEY_E_CNF);
    /* Not an object to look into. */
    arr = json_object_get(j, "a");
    assert_int_equal(ekey_json_get_object(&o, arr, "o", 0, EKEY_E_CNF, NULL), EKEY_E_CNF);
    assert_int_equal(ekey_json_get_string(&s, arr, "s", 0, EKEY_E_CNF, NULL), EKEY_E_CNF);
}

static void test_dump_and_own(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state), *sub;
    json_t *j = json_object();

    json_object_set_new(j, "z", json_integer(1));
    json_object_set_new(j, "a", json_string("x/y \xc3\xa9"));
    json_object_set_new(j, "m", json_pack("[i,b,n]", 2, 1));
    assert_string_equal(ekey_json_dump(p, j), "{\"z\":1,\"a\":\"x/y \xc3\xa9\",\"m\":[2,true,null]}");
    assert_null(ekey_json_dump(p, NULL));
    /* Texts around the first-pass buffer (2048 bytes): each exact, whole, NUL-terminated. */
    {
        static const size_t lens[] = { 2030, 2039, 2040, 2041, 2042, 5000 };
        size_t i;

        for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            char *v = apr_palloc(p, lens[i] + 1), *want;
            json_t *big = json_object();

            memset(v, 'v', lens[i]);
            v[lens[i]] = '\0';
            json_object_set_new(big, "k", json_string(v));   /* {"k":"..."}: 8 + len */
            want = apr_pstrcat(p, "{\"k\":\"", v, "\"}", NULL);
            assert_string_equal(ekey_json_dump(p, big), want);
            assert_int_equal(strlen(ekey_json_dump(p, big)), lens[i] + 8);
            json_decref(big);
        }
    }
    /* The pool drops exactly its one reference. */
    json_incref(j);
    assert_int_equal(j->refcount, 2);
    apr_pool_create(&sub, p);
    assert_ptr_equal(ekey_json_own(sub, j), j);
    apr_pool_destroy(sub);
    assert_int_equal(j->refcount, 1);
    assert_null(ekey_json_own(p, NULL));
    ekey_json_own(p, j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_rejects),
        EKEY_TEST(test_accepts),
        EKEY_TEST(test_depth_bomb),
        EKEY_TEST(test_nul_and_size),
        EKEY_TEST(test_get_int),
        EKEY_TEST(test_get_string_object),
        EKEY_TEST(test_dump_and_own),
    };
    return ekey_test_main(tests);
}
