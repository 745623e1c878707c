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
/* post_config (after the dry run; harmless during it): creates the table of `capacity`
 * entries, or restores it. Counts survive every restart of the same parent process
 * (graceful or not); with persist (EKeyReplayPersist On) also a full stop and start.
 * Needs mod_slotmem_shm (a clear error in the log otherwise). No-op when called again in
 * the same generation. */
apr_status_t ekey_shm_init(apr_pool_t *pconf, server_rec *s, apr_size_t capacity, int persist);
/* child_init: re-opens the mutex in the child. */
void ekey_shm_child_init(apr_pool_t *pchild, server_rec *s);
/* The store, or NULL before ekey_shm_init succeeded. Its consume answers
 * EKEY_E_STORE_UNAVAILABLE when the lock fails and EKEY_E_STORE_FULL when the table is. */
ekey_store_t *ekey_shm_store(void);
/* Occupancy and counters, for metrics and the status page (takes the lock). */
void ekey_shm_stats(apr_int64_t now, ekey_rtable_stats_t *out);

#endif
