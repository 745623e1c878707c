/*
 * ekey_respond.h - the one place that turns an ekey_status_t into an HTTP answer: status,
 * WWW-Authenticate, Cache-Control, Retry-After and the JSON body {"error", "message"}.
 */
#ifndef EKEY_RESPOND_H
#define EKEY_RESPOND_H

#include "httpd.h"
#include "util_filter.h"
#include "ekey_config.h"

#define EKEY_ERROR_FILTER "EKEY_ERROR_JSON"
#define EKEY_PRIVATE_FILTER "EKEY_PRIVATE"

/* The HTTP status for st (401, 400, 403, 503, 500). */
int ekey_respond_http_status(ekey_status_t st);

/* Records st as r's decision and arranges the answer: headers in r->err_headers_out now,
 * the JSON body as r's custom response (unless an ErrorDocument is configured for that
 * status: the admin's choice wins). Returns the HTTP status the caller returns to httpd. */
int ekey_respond(request_rec *r, ekey_req_t *rq, ekey_status_t st);

/* Hooks registered by mod_ekey.c. */
int ekey_note_auth_failure(request_rec *r, const char *auth_type);
void ekey_insert_error_filter(request_rec *r);
apr_status_t ekey_error_filter(ap_filter_t *f, apr_bucket_brigade *bb);
void ekey_insert_private_filter(request_rec *r);
void ekey_insert_filter(request_rec *r);
apr_status_t ekey_private_filter(ap_filter_t *f, apr_bucket_brigade *bb);

#endif /* EKEY_RESPOND_H */
