/*
 * ekey_release.c - libekey's caches and fetched algorithms are freed with the configuration.
 *
 * httpd unloads a module when its configuration pool is cleared (graceful restart, stop,
 * httpd -X exiting). A cleanup registered in pre_config runs after the cleanups of the
 * configuration objects made later (keys) and before mod_so's unload, registered earlier
 * by LoadModule: the last moment this copy of libekey can free what it keeps.
 */
#include "httpd.h"
#include "http_config.h"

#include "ekey.h"
#include "ekey_release.h"

static apr_status_t release(void *unused)
{
    (void)unused;
    ekey_release();
    return APR_SUCCESS;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    apr_pool_cleanup_register(pconf, NULL, release, apr_pool_cleanup_null);
    return OK;
}

void ekey_release_register(void)
{
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
