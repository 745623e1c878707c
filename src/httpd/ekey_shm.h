/*
 * ekey_shm.h - the default replay store: the core's replay table in APR slotmem shared
 * memory (mod_slotmem_shm) behind a global mutex, shared by every child process and thread.
 */
#ifndef EKEY_SHM_H
#define EKEY_SHM_H

#include "httpd.h"
#include "ekey.h"

/* pre_config: registers the mutex type "ekey-replay" so the Mutex directive can tune it. */
void ekey_shm_register(apr_pool_t *pconf);
/* post_config (after the dry run): creates or re-attaches the table of `capacity` entries;
 * with persist, mod_slotmem_shm saves it at shutdown and restores it at start. */
apr_status_t ekey_shm_init(apr_pool_t *pconf, server_rec *s, apr_size_t capacity, int persist);
/* child_init: re-opens the mutex in the child. */
void ekey_shm_child_init(apr_pool_t *pchild, server_rec *s);
/* The store, or NULL before ekey_shm_init succeeded. */
ekey_store_t *ekey_shm_store(void);
/* Occupancy and counters, for metrics and the status page. */
void ekey_shm_stats(apr_int64_t now, ekey_rtable_stats_t *out);

/* The hooks mod_ekey.c registers for the table's lifecycle. */
int ekey_shm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int ekey_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s);
void ekey_shm_child_hook(apr_pool_t *pchild, server_rec *s);

#endif
