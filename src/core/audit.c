/*
 * audit.c - one JSON line per decision, for a SIEM.
 *
 * Built with jansson so every string is escaped; only identifiers go in (sub, trace, the
 * capability, a short jkt prefix), never a token, a proof or a key.
 */
#include <string.h>
#include <time.h>
#include <apr_strings.h>

#include "ekey.h"

#define JKT_PREFIX 8

static void add_str(json_t *o, const char *k, const char *v)
{
    json_t *s;

    /* json_string rejects invalid UTF-8; such a value is logged as absent rather than lost
     * with the whole line. */
    if (v != NULL && (s = json_string(v)) != NULL)
        json_object_set_new(o, k, s);
}

static const char *iso_time(apr_pool_t *p, apr_int64_t usec)
{
    time_t secs = (time_t)(usec / 1000000);
    struct tm tm;
    char buf[32];

    if (gmtime_r(&secs, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return NULL;
    return apr_psprintf(p, "%s.%06ldZ", buf, (long)(usec % 1000000));
}

char *ekey_audit_format(apr_pool_t *p, const ekey_audit_t *ev)
{
    json_t *o = ekey_json_own(p, json_object());
    char *line;

    if (o == NULL || ev == NULL || ev->decision == NULL)
        return NULL;
    add_str(o, "time", iso_time(p, ev->time_usec));
    add_str(o, "decision", ev->decision);
    add_str(o, "code", ev->code);
    add_str(o, "sub", ev->sub);
    add_str(o, "trace", ev->trace);
    add_str(o, "aud", ev->aud);
    add_str(o, "cap", ev->cap);
    add_str(o, "bind", ev->bind);
    if (ev->uses_left >= 0)
        json_object_set_new(o, "uses_left", json_integer(ev->uses_left));
    add_str(o, "client", ev->client);
    add_str(o, "request_id", ev->request_id);
    add_str(o, "method", ev->method);
    add_str(o, "uri", ev->uri);
    if (ev->jkt != NULL)
        add_str(o, "jkt_prefix", apr_pstrndup(p, ev->jkt, JKT_PREFIX));
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
