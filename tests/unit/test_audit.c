/* test_audit.c - audit lines: one JSON object per line, fields present or omitted, escaping,
 * only a short jkt prefix, and the decision word of every status. */
#include "ekey_test.h"

#define JKT "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

/* Parses a line with json_loads after checking it is exactly one line. The caller owns the
 * result (json_decref). */
static json_t *parse_line(const char *line)
{
    json_error_t e;
    json_t *o;
    size_t n;

    assert_non_null(line);
    n = strlen(line);
    assert_true(n > 2);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1));       /* no newline inside */
    assert_null(memchr(line, '\r', n));
    o = json_loads(line, JSON_REJECT_DUPLICATES, &e);
    if (o == NULL)
        fail_msg("not JSON: %s (%s)", line, e.text);
    assert_true(json_is_object(o));
    return o;
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_full_event(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev = { 1700000000123456LL, "allowed", NULL, "agent-123",
                        "AAAAAAAAAAAAAAAAAAAAAA", "https://api.example.com", "POST:/payments",
                        "DPoP", 2, "127.0.0.1", "Zx9-req", "POST", "/payments", JKT };
    char *line = ekey_audit_format(p, &ev);
    json_t *o = parse_line(line);

    assert_string_equal(str(o, "time"), "2023-11-14T22:13:20.123456Z");
    assert_string_equal(str(o, "decision"), "allowed");
    assert_null(json_object_get(o, "code"));      /* allowed: no error code */
    assert_string_equal(str(o, "sub"), "agent-123");
    assert_string_equal(str(o, "trace"), "AAAAAAAAAAAAAAAAAAAAAA");
    assert_string_equal(str(o, "aud"), "https://api.example.com");
    assert_string_equal(str(o, "cap"), "POST:/payments");
    assert_string_equal(str(o, "bind"), "DPoP");
    assert_true(json_is_integer(json_object_get(o, "uses_left")));
    assert_int_equal(json_integer_value(json_object_get(o, "uses_left")), 2);
    assert_string_equal(str(o, "client"), "127.0.0.1");
    assert_string_equal(str(o, "request_id"), "Zx9-req");
    assert_string_equal(str(o, "method"), "POST");
    assert_string_equal(str(o, "uri"), "/payments");
    assert_string_equal(str(o, "jkt_prefix"), "0ZcOCORZ");
    assert_int_equal(json_object_size(o), 13);     /* all but code */
    /* never the whole thumbprint, under any name */
    assert_null(json_object_get(o, "jkt"));
    assert_null(strstr(line, JKT));
    assert_null(strstr(line, "0ZcOCORZN"));
    json_decref(o);
}

static void test_denied_with_code(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev;
    json_t *o;

    memset(&ev, 0, sizeof(ev));
    ev.time_usec = 5;
    ev.decision = ekey_audit_decision(EKEY_E_SIGNATURE);
    ev.code = ekey_status_code(EKEY_E_SIGNATURE);
    ev.uses_left = 0;                             /* 0 is a value, only -1 is unknown */
    o = parse_line(ekey_audit_format(p, &ev));
    assert_string_equal(str(o, "time"), "1970-01-01T00:00:00.000005Z");
    assert_string_equal(str(o, "decision"), "denied");
    assert_string_equal(str(o, "code"), "invalid_token");
    assert_int_equal(json_integer_value(json_object_get(o, "uses_left")), 0);
    assert_int_equal(json_object_size(o), 4);
    json_decref(o);
}

static void test_sparse(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev;
    json_t *o;

    memset(&ev, 0, sizeof(ev));
    ev.time_usec = -1;                            /* no usable time: omitted */
    ev.decision = "denied";
    ev.uses_left = -1;
    o = parse_line(ekey_audit_format(p, &ev));
    assert_int_equal(json_object_size(o), 1);
    assert_string_equal(str(o, "decision"), "denied");
    json_decref(o);
    ev.jkt = "abc";                               /* shorter than the prefix: as is */
    o = parse_line(ekey_audit_format(p, &ev));
    assert_string_equal(str(o, "jkt_prefix"), "abc");
    json_decref(o);
}

static void test_escaping(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev;
    json_t *o;

    memset(&ev, 0, sizeof(ev));
    ev.decision = "denied";
    ev.uses_left = -1;
    ev.uri = "/a\"b\nc\r\td\\e";                  /* escaped, never breaks the line */
    ev.sub = "\xff\xfe" "x";                      /* invalid UTF-8: kept as \xHH text */
    ev.client = "caf\xc3\xa9";                    /* valid UTF-8 passes unchanged */
    ev.method = "\x01";
    o = parse_line(ekey_audit_format(p, &ev));
    assert_string_equal(str(o, "uri"), "/a\"b\nc\r\td\\e");
    assert_string_equal(str(o, "sub"), "\\xFF\\xFEx");
    assert_string_equal(str(o, "client"), "caf\xc3\xa9");
    assert_string_equal(str(o, "method"), "\x01");
    json_decref(o);
}

static void test_no_decision(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_audit_t ev;

    memset(&ev, 0, sizeof(ev));
    assert_null(ekey_audit_format(p, &ev));
    assert_null(ekey_audit_format(p, NULL));
}

static void test_decisions(void **state)
{
    int st;

    (void)state;
    assert_string_equal(ekey_audit_decision(EKEY_OK), "allowed");
    assert_string_equal(ekey_audit_decision(EKEY_E_REPLAY), "replay_blocked");
    assert_string_equal(ekey_audit_decision(EKEY_E_JTI_REPLAY), "replay_blocked");
    assert_string_equal(ekey_audit_decision(EKEY_E_EXPIRED), "expired");
    assert_string_equal(ekey_audit_decision(EKEY_E_NOT_YET_VALID), "expired");
    for (st = 0; st < EKEY_STATUS_COUNT; st++) {  /* everything else is denied */
        if (st == EKEY_OK || st == EKEY_E_REPLAY || st == EKEY_E_JTI_REPLAY
            || st == EKEY_E_EXPIRED || st == EKEY_E_NOT_YET_VALID)
            continue;
        assert_string_equal(ekey_audit_decision((ekey_status_t)st), "denied");
    }
    assert_string_equal(ekey_audit_decision(EKEY_STATUS_COUNT), "denied");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_full_event),
        EKEY_TEST(test_denied_with_code),
        EKEY_TEST(test_sparse),
        EKEY_TEST(test_escaping),
        EKEY_TEST(test_no_decision),
        EKEY_TEST(test_decisions),
    };
    return ekey_test_main(tests);
}
