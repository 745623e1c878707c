/*
 * ekey_auditlog.h - the EKeyAuditLog writer: one JSON line per decision, to a file or a
 * piped logger, never a token, a proof or a key.
 */
#ifndef EKEY_AUDITLOG_H
#define EKEY_AUDITLOG_H

#include "httpd.h"
#include "ekey_config.h"

/* open_logs hook: opens every server's EKeyAuditLog once per (re)start (servers that name
 * the same target share one descriptor). */
int ekey_auditlog_open(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);

/* log_transaction hook: writes the line for the request's decision, once per request. */
int ekey_auditlog_transaction(request_rec *r);

#endif /* EKEY_AUDITLOG_H */
