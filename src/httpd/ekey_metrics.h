/*
 * ekey_metrics.h - counters shared by every child process, and the two handlers that show
 * them: `SetHandler ekey-metrics` (Prometheus text format 0.0.4) and `SetHandler ekey-status`
 * (an HTML page for humans in the style of mod_status; `?auto` gives plain "Key: value"
 * lines). Access is ordinary httpd authorization (`Require local`).
 *
 * Both modules compile this file. Their copies find one another's counters: the region is
 * anonymous shared memory made once per parent process and remembered in httpd's retained
 * data, so counts are shared by all children, survive graceful (and other) restarts of the
 * same parent, and start at zero when httpd starts. Counting is one relaxed atomic add:
 * no lock, no system call.
 */
#ifndef EKEY_METRICS_H
#define EKEY_METRICS_H

#include "httpd.h"
#include "ekey.h"

#define EKEY_METRICS_HANDLER "ekey-metrics"
#define EKEY_STATUS_HANDLER  "ekey-status"

/* Replay-table numbers for the handlers (mod_ekey passes ekey_shm_stats; the issuer NULL). */
typedef void ekey_metrics_table_fn(apr_int64_t now, ekey_rtable_stats_t *out);

/* register_hooks: the post_config hook that makes (or finds) the region, and the handler.
 * A module that can show the replay table gives table_stats and handler_order
 * APR_HOOK_MIDDLE; the issuer gives NULL and APR_HOOK_LAST, so that with both modules loaded
 * mod_ekey's handler (the complete one) answers. */
void ekey_metrics_register(ekey_metrics_table_fn *table_stats, int handler_order);

/* One decision of mod_ekey (the final status of a request chain). */
void ekey_metrics_decision(ekey_status_t st);
/* One answer of the issuer's token endpoint: code NULL when a token was minted, else the
 * `error` code of the refusal. */
void ekey_metrics_mint(const char *code);
/* One replay-store round trip to Redis: its duration and whether it failed (the store was
 * unreachable or answered an error; a replay is not a failure). */
void ekey_metrics_redis(apr_interval_time_t took, int failed);

/* mod_ekey only (ekey_metrics_hooks.c): the log_transaction hook that counts the decision of
 * each request chain, and the child_init hook that times the Redis stores. */
int ekey_metrics_transaction(request_rec *r);
void ekey_metrics_child_init(apr_pool_t *pchild, server_rec *s);

#endif /* EKEY_METRICS_H */
