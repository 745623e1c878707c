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
    else if (ekey)
        drop_upgrade_h2c(r);
    names = apr_array_make(r->pool, 1, sizeof(const char *));
    apr_table_do(collect_spoofs, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00110: dropped request header "
                      "named like an E-Key identity variable");
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return DECLINED;
}
