/*
 * ekey_authz.c - the authz provider `Require ekey-cap METHOD:/path ...`.
 *
 * The lines are parsed once, at configuration time (parse_require_line, as mod_authz_core's
 * method provider does): a capability that ekey_cap_parse refuses stops httpd with a message
 * naming it. At request time the verified token's cap.action must equal one of them.
 * A refusal cannot pick its own status (mod_authz_core does), so it is left as `pending`
 * and ekey_respond turns httpd's answer into 403 insufficient_capability.
 */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"

#include "ekey_config.h"

APLOG_USE_MODULE(ekey);

static const char *parse_caps(cmd_parms *cmd, const char *require_line, const void **parsed)
{
    apr_array_header_t *caps = apr_array_make(cmd->pool, 2, sizeof(const char *));
    const char *line = require_line, *w, *method, *path;
    ekey_error_t err = { 0 };

    while (*(w = ap_getword_conf(cmd->pool, &line)) != '\0') {
        if (ekey_cap_parse(&method, &path, cmd->temp_pool, w, &err) != EKEY_OK)
            return apr_psprintf(cmd->pool, "Require ekey-cap: '%s' is not a capability "
                                "METHOD:/path in normal form (%s)", w, err.text);
        APR_ARRAY_PUSH(caps, const char *) = w;
    }
    if (caps->nelts == 0)
        return "Require ekey-cap: name at least one capability METHOD:/path";
    *parsed = caps;
    return NULL;
}

static authz_status check_caps(request_rec *r, const char *require_line, const void *parsed)
{
    const apr_array_header_t *caps = parsed;
    ekey_req_t *rq = ekey_req_get(r);
    int i;

    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    if (caps == NULL || rq == NULL || rq->status != EKEY_OK || rq->token == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00150: Require ekey-cap: "
                      "the user was not authenticated by an E-Key");
        return AUTHZ_DENIED;
    }
    for (i = 0; i < caps->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(caps, i, const char *), rq->token->action) == 0)
            return AUTHZ_GRANTED;
    rq->pending = EKEY_E_INSUFFICIENT_CAP;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "EKEY00151: insufficient_capability: "
                  "sub=%s trace=%s cap=%s not in Require ekey-cap", rq->token->sub,
                  rq->token->trace, rq->token->action);
    return AUTHZ_DENIED;
}

static const authz_provider ekey_cap_provider = {
    &check_caps,
    &parse_caps,
};

void ekey_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ekey-cap", AUTHZ_PROVIDER_VERSION,
                              &ekey_cap_provider, AP_AUTH_INTERNAL_PER_CONF);
}
