/* test_audit.c - audit lines: one JSON object per line, fields present or omitted, only a
 * short jkt prefix, decisions per status. */
#include "ekey_test.h"

static json_t *parse_line(const char *line)
{
    size_t n = strlen(line);
    json_error_t e;

    assert_true(n > 2);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1));       /* exactly one line */
    return json_loadb(line, n - 1, JSON_REJECT_DUPLICATES, &e);
}

static void test_full_event(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev = { 1700000000123456LL, "allowed", NULL, "agent-123",
                        "AAAAAAAAAAAAAAAAAAAAAA", "https://api.example.com", "POST:/payments",
                        "DPoP", 0, "127.0.0.1", "Zx9-req", "POST", "/payments",
                        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" };
    json_t *o = parse_line(ekey_audit_format(p, &ev));

    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "time")),
                        "2023-11-14T22:13:20.123456Z");
    assert_string_equal(json_string_value(json_object_get(o, "decision")), "allowed");
    assert_null(json_object_get(o, "code"));
    assert_string_equal(json_string_value(json_object_get(o, "sub")), "agent-123");
    assert_string_equal(json_string_value(json_object_get(o, "cap")), "POST:/payments");
    assert_int_equal(json_integer_value(json_object_get(o, "uses_left")), 0);
    assert_string_equal(json_string_value(json_object_get(o, "request_id")), "Zx9-req");
    assert_string_equal(json_string_value(json_object_get(o, "jkt_prefix")), "0ZcOCORZ");
    assert_null(json_object_get(o, "jkt"));
    json_decref(o);
}

static void test_sparse_and_escaped(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev;
    json_t *o;

    memset(&ev, 0, sizeof(ev));
    ev.decision = "denied";
    ev.code = "invalid_token";
    ev.uses_left = -1;
    ev.uri = "/a\"b\nc";                          /* escaped, never breaks the line */
    ev.sub = "\xff\xfe";                          /* invalid UTF-8: omitted, line kept */
    o = parse_line(ekey_audit_format(p, &ev));
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "uri")), "/a\"b\nc");
    assert_null(json_object_get(o, "sub"));
    assert_null(json_object_get(o, "uses_left"));
    assert_null(json_object_get(o, "trace"));
    assert_string_equal(json_string_value(json_object_get(o, "code")), "invalid_token");
    json_decref(o);
    ev.decision = NULL;
    assert_null(ekey_audit_format(p, &ev));
}

static void test_decisions(void **state)
{
    assert_string_equal(ekey_audit_decision(EKEY_OK), "allowed");
    assert_string_equal(ekey_audit_decision(EKEY_E_REPLAY), "replay_blocked");
    assert_string_equal(ekey_audit_decision(EKEY_E_JTI_REPLAY), "replay_blocked");
    assert_string_equal(ekey_audit_decision(EKEY_E_EXPIRED), "expired");
    assert_string_equal(ekey_audit_decision(EKEY_E_NOT_YET_VALID), "expired");
    assert_string_equal(ekey_audit_decision(EKEY_E_SIGNATURE), "denied");
    assert_string_equal(ekey_audit_decision(EKEY_E_STORE_FULL), "denied");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_full_event),
        EKEY_TEST(test_sparse_and_escaped),
        EKEY_TEST(test_decisions),
    };
    return ekey_test_main(tests);
}
