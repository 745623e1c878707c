/*
 * fuzz_audit.c - ekey_audit_format with hostile strings (sub, cap, uri, client ... come
 * from tokens and requests).
 *
 * Input: 16 bytes (time_usec and uses_left, little-endian), then up to 12 NUL-separated
 * strings: decision, code, sub, trace, aud, cap, bind, client, request_id, method, uri, jkt
 * (missing ones are NULL).
 * Invariants: no decision, no line; otherwise exactly one line, ending in "\n", that parses
 * as one JSON object without duplicates, where every given string appears (its exact value
 * when it is UTF-8, an ASCII rendering otherwise - never dropped), uses_left appears iff it
 * is >= 0, the jkt only as its first 8 bytes, and the time (for a non-negative clock) as
 * YYYY-MM-DDTHH:MM:SS.uuuuuuZ.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz.h"

#define NFIELDS 12

static const char *const names[NFIELDS] = {
    "decision", "code", "sub", "trace", "aud", "cap", "bind", "client", "request_id",
    "method", "uri", "jkt_prefix"
};

static apr_int64_t le64(const uint8_t *b)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return (apr_int64_t)v;
}

static int utf8_ok(const char *s)
{
    json_t *j = json_string(s);

    json_decref(j);
    return j != NULL;
}

/* A logged value: the exact input when it is UTF-8, else an ASCII rendering of it (bytes
 * from 0x80 up written as text), never dropped. */
static void check_value(json_t *v, const char *in)
{
    const char *s = json_string_value(v);
    size_t i;

    FUZZ_ASSERT(s != NULL);
    if (utf8_ok(in)) {
        FUZZ_ASSERT(strcmp(s, in) == 0);
        return;
    }
    FUZZ_ASSERT(strlen(s) > strlen(in));
    for (i = 0; s[i] != '\0'; i++)
        FUZZ_ASSERT((unsigned char)s[i] < 0x80);
}

static void check_time(const char *t)
{
    size_t n = strlen(t), i;

    FUZZ_ASSERT(n >= 27 && t[n - 1] == 'Z' && t[n - 8] == '.' && t[n - 11] == ':'
                && t[n - 14] == ':' && t[n - 17] == 'T');
    for (i = n - 7; i < n - 1; i++)
        FUZZ_ASSERT(t[i] >= '0' && t[i] <= '9');
}

static void check_line(apr_pool_t *p, const char *line, const char *const *f,
                       const ekey_audit_t *ev)
{
    size_t n = strlen(line), i;
    json_error_t je;
    json_t *j, *v;

    FUZZ_ASSERT(n > 1 && line[n - 1] == '\n' && memchr(line, '\n', n - 1) == NULL);
    j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
    FUZZ_ASSERT(json_is_object(j));
    for (i = 0; i < NFIELDS; i++) {
        v = json_object_get(j, names[i]);
        if (f[i] == NULL)
            FUZZ_ASSERT(v == NULL);
        else
            check_value(v, i == NFIELDS - 1 ? apr_pstrndup(p, f[i], 8) : f[i]);
    }
    FUZZ_ASSERT(json_object_get(j, "jkt") == NULL);
    v = json_object_get(j, "uses_left");
    FUZZ_ASSERT(ev->uses_left >= 0 ? json_is_integer(v) && json_integer_value(v) == ev->uses_left
                                : v == NULL);
    v = json_object_get(j, "time");
    if (ev->time_usec >= 0) {
        FUZZ_ASSERT(json_is_string(v));
        check_time(json_string_value(v));
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *parts[NFIELDS], *f[NFIELDS];
    size_t lens[NFIELDS];
    ekey_audit_t ev;
    char *line;
    int k = 0, i;

    if (size < 16)
        return 0;
    fuzz_init();
    p = fuzz_pool();
    memset(&ev, 0, sizeof(ev));
    ev.time_usec = le64(data);
    ev.uses_left = le64(data + 8);
    if (size > 16)
        k = fuzz_split(data + 16, size - 16, '\0', parts, lens, NFIELDS);
    for (i = 0; i < NFIELDS; i++)
        f[i] = i < k ? fuzz_cstr(p, (const uint8_t *)parts[i], lens[i]) : NULL;
    ev.decision = f[0];
    ev.code = f[1];
    ev.sub = f[2];
    ev.trace = f[3];
    ev.aud = f[4];
    ev.cap = f[5];
    ev.bind = f[6];
    ev.client = f[7];
    ev.request_id = f[8];
    ev.method = f[9];
    ev.uri = f[10];
    ev.jkt = f[11];
    line = ekey_audit_format(p, &ev);
    if (ev.decision == NULL) {
        FUZZ_ASSERT(line == NULL);
    }
    else {
        FUZZ_ASSERT(line != NULL);
        check_line(p, line, f, &ev);
    }
    apr_pool_destroy(p);
    return 0;
}
