/*
 * ekey_issuer_jwks.c - GET the JWK Set: every signing and published key, public members
 * only (the core's JWK export never writes a private member).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

int ekey_iss_jwks_handler(request_rec *r)
{
    const ekey_iss_conf_t *c = ap_get_module_config(r->per_dir_config, &ekey_issuer_module);
    char *doc = NULL;

    if (r->method_number != M_GET) {            /* HEAD is M_GET too */
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return ekey_iss_error(r, HTTP_METHOD_NOT_ALLOWED, "invalid_request", "use GET");
    }
    if (ekey_keyset_count(c->published) == 0
        || (doc = ekey_keyset_to_jwks(c->published, r->pool)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00220: the ekey-jwks location has no "
                      "EKeyIssuerSigningKey or EKeyIssuerPublishKey");
        return ekey_iss_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                              "no keys to publish");
    }
    /* Public data that changes only with a restart; verifiers and caches may keep it. */
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_set_content_type(r, "application/json");
    if (!r->header_only)
        ap_rvputs(r, doc, "\n", NULL);
    return OK;
}
