/*
 * mod_ekey_issuer.c - module record and hooks of the E-Key issuer.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"

#include "ekey_issuer.h"
#include "ekey_metrics.h"
#include "ekey_release.h"

static int handler(request_rec *r)
{
    if (r->handler == NULL)
        return DECLINED;
    if (strcmp(r->handler, EKEY_ISS_HANDLER_TOKEN) == 0)
        return ekey_iss_token_handler(r);
    if (strcmp(r->handler, EKEY_ISS_HANDLER_JWKS) == 0)
        return ekey_iss_jwks_handler(r);
    return DECLINED;
}

/* A minting proof reaches no log format (%{DPoP}i) either, whatever the answer was
 * (SECURITY-CASES APX-06): dropped, first in the log phase, at the issuer's sections. */
static int forget_proof(request_rec *r)
{
    const ekey_iss_conf_t *c;
    request_rec *q = r;

    while (q->prev != NULL)
        q = q->prev;
    for (; q != NULL; q = q->next) {
        c = ap_get_module_config(q->per_dir_config, &ekey_issuer_module);
        if ((c != NULL && c->keys_set)
            || (q->handler != NULL && strcmp(q->handler, EKEY_ISS_HANDLER_TOKEN) == 0))
            apr_table_unset(q->headers_in, "DPoP");
    }
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    /* Refuse to start with a minting section that cannot work: check_config runs after the
     * configuration is read, before post_config, and for `apachectl configtest` too. */
    ap_hook_check_config(ekey_iss_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* The two endpoints, selected by SetHandler. */
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(forget_proof, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* httpd's own refusals there (AuthType Basic, Require) answer JSON as ours do. */
    ekey_iss_register_error_filter();
    /* Tokens minted and refused, shared with mod_ekey's counters; its ekey-metrics handler
     * answers when both modules are loaded (it also shows the replay table). */
    ekey_metrics_register(NULL, APR_HOOK_LAST);
    /* libekey's caches go with the configuration, before the module is unloaded. */
    ekey_release_register();
}

AP_DECLARE_MODULE(ekey_issuer) = {
    STANDARD20_MODULE_STUFF,
    ekey_iss_create_dir,
    ekey_iss_merge_dir,
    NULL,
    NULL,
    ekey_iss_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
