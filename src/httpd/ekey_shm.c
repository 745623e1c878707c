/*
 * ekey_shm.c - binds the core's replay table to mod_slotmem_shm and a global mutex.
 *
 * Lifecycle as mod_authn_socache does it: the mutex type is registered in pre_config (so the
 * Mutex directive applies), memory and mutex are created in post_config after the dry run,
 * and the mutex is re-opened in child_init. mod_slotmem_shm keeps a region of the same name
 * and size across graceful restarts, so counts survive them; with AP_SLOTMEM_TYPE_PERSIST it
 * writes the region to a file at shutdown and reads it back at start. slotmem itself has no
 * locking and no bounds checks: the table lives in one slot taken with dptr, and every
 * access goes through our lock.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_core.h"
#include "ap_provider.h"
#include "ap_slotmem.h"
#include "util_mutex.h"
#include "apr_global_mutex.h"

#include "ekey_shm.h"

APLOG_USE_MODULE(ekey);

#define SHM_NAME   "ekey-replay"
#define MUTEX_TYPE "ekey-replay"

static apr_global_mutex_t *mutex;
static ekey_rtable_t *table;
static ekey_store_t store;

static ekey_status_t shm_consume(ekey_store_t *st, const ekey_consume_t *req,
                                 apr_int64_t *uses_left, ekey_error_t *err)
{
    ekey_status_t rv;

    *uses_left = 0;
    if (table == NULL || mutex == NULL)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay table not ready");
    if (apr_global_mutex_lock(mutex) != APR_SUCCESS)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay lock failed");
    rv = ekey_rtable_consume(table, req, uses_left, err);
    if (apr_global_mutex_unlock(mutex) != APR_SUCCESS && rv == EKEY_OK) {
        *uses_left = 0;    /* the use is counted; the answer is still a refusal */
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay unlock failed");
    }
    return rv;
}

void ekey_shm_register(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

/* Formats the region unless it already holds our table (graceful restart, or restored from
 * the persistence file). */
static apr_status_t attach_table(apr_pool_t *pconf, server_rec *s, void *mem,
                                 apr_size_t capacity)
{
    ekey_error_t err;

    if (ekey_rtable_attach(&table, pconf, mem, capacity, 0, NULL) == EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "EKEY00301: replay table re-attached "
                     "(%lu entries), counts kept", (unsigned long)capacity);
        return APR_SUCCESS;
    }
    if (ekey_rtable_attach(&table, pconf, mem, capacity, 1, &err) != EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00302: cannot format the replay "
                     "table: %s", err.text);
        return APR_EGENERAL;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "EKEY00303: replay table created (%lu entries)",
                 (unsigned long)capacity);
    return APR_SUCCESS;
}

apr_status_t ekey_shm_init(apr_pool_t *pconf, server_rec *s, apr_size_t capacity, int persist)
{
    const ap_slotmem_provider_t *sm;
    ap_slotmem_instance_t *inst = NULL;
    apr_size_t bytes = ekey_rtable_size(capacity);
    void *mem = NULL;
    apr_status_t rv;

    if (table != NULL)
        return APR_SUCCESS;
    if (bytes == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00304: EKeyReplayCapacity %lu is too "
                     "large for this platform", (unsigned long)capacity);
        return APR_EINVAL;
    }
    sm = ap_lookup_provider(AP_SLOTMEM_PROVIDER_GROUP, "shm", AP_SLOTMEM_PROVIDER_VERSION);
    if (sm == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00305: the shm replay store needs "
                     "mod_slotmem_shm: add 'LoadModule slotmem_shm_module ...'");
        return APR_ENOTIMPL;
    }
    rv = sm->create(&inst, SHM_NAME, bytes, 1, persist ? AP_SLOTMEM_TYPE_PERSIST : 0, pconf);
    if (rv == APR_SUCCESS)
        rv = sm->dptr(inst, 0, &mem);
    if (rv != APR_SUCCESS || mem == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00306: cannot create the replay "
                     "table shared memory (%lu bytes)", (unsigned long)bytes);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00307: cannot create the replay "
                     "table mutex");
        return rv;
    }
    if ((rv = attach_table(pconf, s, mem, capacity)) != APR_SUCCESS)
        return rv;
    store.name = "shm";
    store.consume = shm_consume;
    store.ctx = NULL;
    apr_pool_cleanup_register(pconf, &table, ap_pool_cleanup_set_null, apr_pool_cleanup_null);
    apr_pool_cleanup_register(pconf, &mutex, ap_pool_cleanup_set_null, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void ekey_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (mutex == NULL)
        return;
    rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00308: cannot re-open the replay "
                     "table mutex in the child: requests will get 503");
        mutex = NULL;
    }
}

ekey_store_t *ekey_shm_store(void)
{
    return table != NULL ? &store : NULL;
}

void ekey_shm_stats(apr_int64_t now, ekey_rtable_stats_t *out)
{
    if (table == NULL || mutex == NULL || apr_global_mutex_lock(mutex) != APR_SUCCESS) {
        ekey_rtable_stats(NULL, now, out);
        return;
    }
    ekey_rtable_stats(table, now, out);
    apr_global_mutex_unlock(mutex);
}

/* ------------------------------------------------------------ hooks */

#include "ekey_config.h"

int ekey_shm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    ekey_shm_register(pconf);
    return OK;
}

/* One table per httpd, sized by the main server's EKeyReplayCapacity, made only when some
 * server uses the shm store; after the configuration dry run, which must not create it. */
int ekey_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s)
{
    const ekey_srv_conf_t *main_sc = ekey_srv_conf(s);
    server_rec *v;
    int used = 0;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    for (v = s; v != NULL; v = v->next)
        if (ekey_srv_conf(v)->store == EKEY_STORE_SHM)
            used = 1;
    if (!used)
        return OK;
    return ekey_shm_init(pconf, s, (apr_size_t)main_sc->capacity, main_sc->persist)
           == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

void ekey_shm_child_hook(apr_pool_t *pchild, server_rec *s)
{
    ekey_shm_child_init(pchild, s);
}
