/*
 * ekey_headers.c - what a request's header fields may carry past mod_ekey: no header named
 * like the identity it hands to backends, no E-Key or proof once read (nor in a TRACE echo or
 * a log line), and no h2c upgrade of a request that carries an E-Key.
 */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"

#include "ekey_config.h"

APLOG_USE_MODULE(ekey);

/* Read once, then gone: no access log format (%{Authorization}i), later module or proxied
 * backend ever sees the token or the proof (SECURITY-CASES APX-06). */
void ekey_drop_credentials(request_rec *q)
{
    apr_table_unset(q->headers_in, "Authorization");
    apr_table_unset(q->headers_in, "DPoP");
}

/* The credentials leave headers_in as soon as the request is read: httpd lists every header
 * field in the error log at LogLevel trace4 (before any location is known), and nothing
 * that lists them before authentication may see a token or a proof (SECURITY-CASES
 * APX-06). They wait on the request's pool (shared by its internal redirects) for
 * verification, or go back for a location that is not ours (header_parser). */
#define STASH_AUTHZ "ekey:authorization"
#define STASH_DPOP  "ekey:dpop"

static void stash(request_rec *r, const char *key, const char *field)
{
    const char *v = apr_table_get(r->headers_in, field);

    if (v != NULL) {
        apr_pool_userdata_setn(v, key, NULL, r->pool);
        apr_table_unset(r->headers_in, field);
    }
}

const char *ekey_credential(request_rec *top, const char *field)
{
    void *v = NULL;

    apr_pool_userdata_get(&v, strcasecmp(field, "DPoP") == 0 ? STASH_DPOP : STASH_AUTHZ,
                          top->pool);
    return v != NULL ? v : apr_table_get(top->headers_in, field);
}

/* header_parser, first: the location is known. Not an E-Key location: the fields go back
 * as they came (another module's DPoP, a backend behind a plain location); the log phase
 * still drops an EKey credential (ekey_log_forget). */
int ekey_restore_credentials(request_rec *r)
{
    void *v = NULL;

    if (r->main != NULL || r->prev != NULL || ekey_is_ekey_location(r))
        return DECLINED;
    if (apr_pool_userdata_get(&v, STASH_AUTHZ, r->pool) == APR_SUCCESS && v != NULL
        && apr_table_get(r->headers_in, "Authorization") == NULL)
        apr_table_setn(r->headers_in, "Authorization", v);
    v = NULL;
    if (apr_pool_userdata_get(&v, STASH_DPOP, r->pool) == APR_SUCCESS && v != NULL
        && apr_table_get(r->headers_in, "DPoP") == NULL)
        apr_table_setn(r->headers_in, "DPoP", v);
    return DECLINED;
}

/* 1 when a (possibly merged) Authorization value holds an EKey credential. */
int ekey_has_credential(const char *v)
{
    while (v != NULL) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (strncasecmp(v, EKEY_AUTH_TYPE, sizeof(EKEY_AUTH_TYPE) - 1) == 0
            && (v[sizeof(EKEY_AUTH_TYPE) - 1] == ' ' || v[sizeof(EKEY_AUTH_TYPE) - 1] == '\t'
                || v[sizeof(EKEY_AUTH_TYPE) - 1] == '\0'))
            return 1;
        if ((v = strchr(v, ',')) != NULL)
            v++;
    }
    return 0;
}

/* Before any log module formats %{Authorization}i or %{DPoP}i: a request that httpd
 * answered without ever asking us (a Require ip refusal, a 404 for an encoded slash, a 400
 * from the core) still carries its E-Key and proof. Dropped here, in every request of the
 * chain (internal redirects share their headers, and a log format can name either end). */
int ekey_log_forget(request_rec *r)
{
    request_rec *q = r;

    while (q->prev != NULL)
        q = q->prev;
    for (; q != NULL; q = q->next)
        if (ekey_has_credential(apr_table_get(q->headers_in, "Authorization"))
            || ekey_is_ekey_location(q))
            ekey_drop_credentials(q);
    return DECLINED;
}

static int collect_spoofs(void *names, const char *key, const char *value)
{
    if (strncasecmp(key, "ekey", 4) == 0 || strncasecmp(key, "x-ekey", 6) == 0
        || strncasecmp(key, "x_ekey", 6) == 0)
        APR_ARRAY_PUSH((apr_array_header_t *)names, const char *) = key;
    return 1;
}

/* Removes the h2c token from Upgrade (and HTTP2-Settings): other upgrades (websocket)
 * are left alone. */
static void drop_upgrade_h2c(request_rec *r)
{
    const char *up = apr_table_get(r->headers_in, "Upgrade"), *rest = NULL;
    char *w;

    if (up == NULL || !ap_find_token(r->pool, up, "h2c"))
        return;
    while ((w = ap_get_list_item(r->pool, &up)) != NULL)
        if (strcmp(w, "h2c") != 0)          /* (list items come lowercased) */
            rest = rest == NULL ? w : apr_pstrcat(r->pool, rest, ", ", w, NULL);
    if (rest != NULL)
        apr_table_set(r->headers_in, "Upgrade", rest);
    else
        apr_table_unset(r->headers_in, "Upgrade");
    apr_table_unset(r->headers_in, "HTTP2-Settings");
}

/* A client never sends what we hand to backends: drop every request header named like our
 * identity (EKey-*, X-EKey-*, X_EKey_*), on every location (SECURITY-CASES APX-01). */
int ekey_post_read_request(request_rec *r)
{
    apr_array_header_t *names;
    int i, ekey;

    if (r->main != NULL || r->prev != NULL)
        return DECLINED;
    ekey = ekey_has_credential(apr_table_get(r->headers_in, "Authorization"));
    /* httpd answers TRACE (TraceEnable On) before any location's authentication, echoing
     * the request's header fields: never an E-Key or a proof (cross-site tracing) */
    if (r->method_number == M_TRACE && (ekey || apr_table_get(r->headers_in, "DPoP") != NULL))
        ekey_drop_credentials(r);
    /* An h2c upgrade would hand this request, after it was verified, its use taken and its
     * credentials removed, to mod_http2 as stream 1, verified again without them: the use
     * spent, the answer 401. A request with an E-Key stays HTTP/1.1 (RFC 9113 dropped the
     * h2c upgrade; prior knowledge still works). */
    else {
        if (ekey) {
            drop_upgrade_h2c(r);
            stash(r, STASH_AUTHZ, "Authorization");
        }
        stash(r, STASH_DPOP, "DPoP");
    }
    names = apr_array_make(r->pool, 1, sizeof(const char *));
    apr_table_do(collect_spoofs, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00110: dropped request header "
                      "named like an E-Key identity variable");
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return DECLINED;
}
