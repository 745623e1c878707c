/*
 * audit.c - one JSON line per decision, for a SIEM.
 *
 * Built with jansson so every string is escaped and a line never holds a raw newline. Only
 * identifiers go in (sub, trace, the capability, the first characters of the proof key's
 * thumbprint), never a token, a proof or a key. Absent fields are omitted, not null.
 */
#include <string.h>
#include <time.h>
#include <apr_strings.h>

#include "ekey.h"

#define JKT_PREFIX 8

/* A value that is not valid UTF-8 (a raw byte in a request path) keeps its line: bytes
 * from 0x80 up are written as the text "\xHH", so nothing is lost or silently dropped. */
static json_t *text(apr_pool_t *p, const char *v)
{
    json_t *s = json_string(v);
    apr_size_t i, n;
    char *out;

    if (s != NULL)
        return s;
    n = strlen(v);
    out = apr_palloc(p, 4 * n + 1);
    for (i = 0, n = 0; v[i] != '\0'; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x80)
            out[n++] = (char)c;
        else
            n += (apr_size_t)apr_snprintf(out + n, 5, "\\x%02X", c);
    }
    out[n] = '\0';
    return json_string(out);
}

static void add_str(apr_pool_t *p, json_t *o, const char *k, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, k, text(p, v));
}

/* 2023-11-14T22:13:20.123456Z */
static const char *iso_time(apr_pool_t *p, apr_int64_t usec)
{
    time_t secs;
    struct tm tm;
    char buf[32];

    if (usec < 0)
        return NULL;
    secs = (time_t)(usec / 1000000);
    if (gmtime_r(&secs, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return NULL;
    return apr_psprintf(p, "%s.%06ldZ", buf, (long)(usec % 1000000));
}

char *ekey_audit_format(apr_pool_t *p, const ekey_audit_t *ev)
{
    json_t *o;
    char *line;

    if (ev == NULL || ev->decision == NULL || (o = ekey_json_own(p, json_object())) == NULL)
        return NULL;
    add_str(p, o, "time", iso_time(p, ev->time_usec));
    add_str(p, o, "decision", ev->decision);
    add_str(p, o, "code", ev->code);
    add_str(p, o, "sub", ev->sub);
    add_str(p, o, "trace", ev->trace);
    add_str(p, o, "aud", ev->aud);
    add_str(p, o, "cap", ev->cap);
    add_str(p, o, "bind", ev->bind);
    if (ev->uses_left >= 0)
        json_object_set_new(o, "uses_left", json_integer(ev->uses_left));
    add_str(p, o, "client", ev->client);
    add_str(p, o, "request_id", ev->request_id);
    add_str(p, o, "method", ev->method);
    add_str(p, o, "uri", ev->uri);
    if (ev->jkt != NULL)
        add_str(p, o, "jkt_prefix", apr_pstrndup(p, ev->jkt, JKT_PREFIX));
    if ((line = ekey_json_dump(p, o)) == NULL)
        return NULL;
    return apr_pstrcat(p, line, "\n", NULL);
}

const char *ekey_audit_decision(ekey_status_t st)
{
    switch (st) {
    case EKEY_OK:
        return "allowed";
    case EKEY_E_REPLAY:
    case EKEY_E_JTI_REPLAY:
        return "replay_blocked";
    case EKEY_E_EXPIRED:
    case EKEY_E_NOT_YET_VALID:
        return "expired";
    default:
        return "denied";
    }
}
