/*
 * ekey_auditlog.c - EKeyAuditLog: opened in open_logs (as root, before the children are
 * forked, like mod_log_config's logs), written at log_transaction so that a request gets one
 * line with its final decision (an authz refusal after a verified token included).
 *
 * Each line is written with a single apr_file_write: appends to a file and writes to a pipe
 * of at most PIPE_BUF bytes are not interleaved between processes. Every field is cut and
 * reduced to printable ASCII before formatting, which keeps a line far below PIPE_BUF (4096)
 * and keeps CR/LF and invalid UTF-8 out of it.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "ekey_auditlog.h"

APLOG_USE_MODULE(ekey);

#define FIELD_MAX 256               /* sub, aud, cap */
#define URI_MAX   512

static apr_status_t open_one(apr_file_t **fd, apr_pool_t *p, server_rec *s, const char *spec)
{
    piped_log *pl;
    const char *path;

    if (spec[0] == '|') {
        if ((pl = ap_open_piped_log(p, spec + 1)) == NULL)
            return APR_EGENERAL;
        *fd = ap_piped_log_write_fd(pl);
        return APR_SUCCESS;
    }
    if ((path = ap_server_root_relative(p, spec)) == NULL)
        return APR_EBADPATH;
    return apr_file_open(fd, path, APR_FOPEN_WRITE | APR_FOPEN_APPEND | APR_FOPEN_CREATE,
                         APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, p);
}

int ekey_auditlog_open(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    ekey_srv_conf_t *sc;
    apr_file_t *fd;
    apr_status_t rv;

    for (; s != NULL; s = s->next) {
        sc = ekey_srv_conf(s);
        sc->audit_fd = NULL;
        if (sc->audit_log == NULL)
            continue;
        if ((fd = apr_hash_get(seen, sc->audit_log, APR_HASH_KEY_STRING)) == NULL) {
            if ((rv = open_one(&fd, pconf, s, sc->audit_log)) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                             "EKEY00030: EKeyAuditLog: cannot open '%s'", sc->audit_log);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            apr_hash_set(seen, sc->audit_log, APR_HASH_KEY_STRING, fd);
        }
        sc->audit_fd = fd;
    }
    return OK;
}

/* A copy of s cut to max bytes, with anything but printable ASCII replaced by '?'. */
static const char *clean(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t i, n;
    char *out;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    out = apr_pstrmemdup(p, s, n > max ? max : n);
    for (i = 0; out[i]; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
            out[i] = '?';
    return out;
}

static const char *bind_name(const ekey_token_t *t)
{
    if (t == NULL)
        return NULL;
    return t->bind == EKEY_BIND_DPOP ? "DPoP" : t->bind == EKEY_BIND_MTLS ? "mTLS" : NULL;
}

static const char *request_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    if (id == NULL && r->log_id == NULL)
        ap_run_generate_log_id(r->connection, r, &r->log_id);
    return id != NULL ? id : r->log_id;
}

static void fill_event(ekey_audit_t *ev, request_rec *r, const ekey_req_t *rq)
{
    const ekey_token_t *t = rq->token;
    apr_pool_t *p = r->pool;
    ekey_status_t st = ekey_req_outcome(r, rq);

    memset(ev, 0, sizeof(*ev));
    ev->time_usec = (apr_int64_t)r->request_time;
    ev->decision = ekey_audit_decision(st);
    ev->code = ekey_status_code(st);
    ev->uses_left = st == EKEY_OK ? rq->uses_left : -1;
    ev->client = clean(p, r->useragent_ip, 64);
    ev->request_id = clean(p, request_id(r), 64);
    ev->method = clean(p, r->method, 32);
    ev->uri = clean(p, r->uri, URI_MAX);
    if (t != NULL) {
        ev->sub = clean(p, t->sub, FIELD_MAX);
        ev->trace = clean(p, t->trace, 32);
        ev->aud = clean(p, t->aud, FIELD_MAX);
        ev->cap = clean(p, t->action, FIELD_MAX);
        ev->bind = bind_name(t);
    }
    ev->jkt = clean(p, rq->jkt, 8);
}

int ekey_auditlog_transaction(request_rec *r)
{
    ekey_req_t *rq = ap_get_module_config(r->request_config, &ekey_module);
    apr_file_t *fd = ekey_srv_conf(r->server)->audit_fd;
    ekey_audit_t ev;
    const char *line;
    apr_size_t n;
    apr_status_t rv;

    /* only the initial request carries the decision of the whole chain */
    if (rq == NULL || rq->audited || fd == NULL || rq->dc == NULL || !rq->dc->audit
        || r->main != NULL || r->prev != NULL)
        return DECLINED;
    rq->audited = 1;
    fill_event(&ev, r, rq);
    if ((line = ekey_audit_format(r->pool, &ev)) == NULL)
        return DECLINED;
    n = strlen(line);
    if ((rv = apr_file_write(fd, line, &n)) != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r,
                      "EKEY00031: cannot write the audit log line");
    return DECLINED;
}
