/*
 * ekey_metrics_hooks.c - where mod_ekey counts (ekey_metrics.h): the decision of every
 * request chain, and the Redis round trips.
 *
 * Decisions are counted in log_transaction, from the status the responder left on the
 * chain's record (ekey_respond.c sets it for every refusal, the authn hook for a success).
 * That is the one moment the decision is final: a token that passed authentication and
 * was then refused by `Require ekey-cap` is one insufficient_capability, not an allowed
 * request plus a refusal. Only the initial request of a chain counts, once, as for the
 * audit log; requests no E-Key location decided (rq without a policy) are not counted.
 *
 * Redis: after the stores are made in child_init, each server's Redis store is wrapped by
 * one that times consume; the store code stays unaware of metrics.
 */
#include <apr_hash.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"

#include "ekey_config.h"
#include "ekey_metrics.h"

int ekey_metrics_transaction(request_rec *r)
{
    ekey_req_t *rq = ap_get_module_config(r->request_config, &ekey_module);

    if (rq == NULL || rq->dc == NULL || r->main != NULL || r->prev != NULL)
        return DECLINED;
    ekey_metrics_decision(ekey_req_outcome(r, rq));
    return DECLINED;
}

typedef struct {
    ekey_store_t *inner;
} timed_t;

static ekey_status_t timed_consume(ekey_store_t *st, const ekey_consume_t *req,
                                   apr_int64_t *uses_left, ekey_error_t *err)
{
    ekey_store_t *inner = ((timed_t *)st->ctx)->inner;
    apr_time_t t0 = apr_time_now();
    ekey_status_t rv = inner->consume(inner, req, uses_left, err);

    ekey_metrics_redis(apr_time_now() - t0, rv == EKEY_E_STORE_UNAVAILABLE
                                            || rv == EKEY_E_STORE_FULL
                                            || rv == EKEY_E_INTERNAL);
    return rv;
}

/* Runs after ekey_store_child_init (APR_HOOK_LAST). Servers sharing one Redis store share
 * one wrapper. */
void ekey_metrics_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_t *done = apr_hash_make(pchild);
    server_rec *sv;

    for (sv = s; sv != NULL; sv = sv->next) {
        ekey_srv_conf_t *sc = ekey_srv_conf(sv);
        ekey_store_t *w;
        timed_t *t;

        if (sc == NULL || sc->redis_store == NULL || sc->redis_store->consume == timed_consume)
            continue;                   /* none, or a configuration seen already */
        if ((w = apr_hash_get(done, &sc->redis_store, sizeof(sc->redis_store))) == NULL) {
            t = apr_pcalloc(pchild, sizeof(*t));
            t->inner = sc->redis_store;
            w = apr_pcalloc(pchild, sizeof(*w));
            w->name = sc->redis_store->name;
            w->consume = timed_consume;
            w->ctx = t;
            apr_hash_set(done, apr_pmemdup(pchild, &sc->redis_store, sizeof(sc->redis_store)),
                         sizeof(sc->redis_store), w);
        }
        sc->redis_store = w;
    }
}
