/*
 * ekey_issuer_jwks.c - GET the JWKS: every signing and published key, public members only.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include "ekey_issuer.h"

int ekey_iss_jwks_handler(request_rec *r)
{
    const ekey_iss_conf_t *c = ap_get_module_config(r->per_dir_config, &ekey_issuer_module);
    char *doc;

    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return ekey_iss_error(r, 405, "invalid_request", "use GET");
    }
    if (ekey_keyset_count(c->published) == 0 || (doc = ekey_keyset_to_jwks(c->published, r->pool)) == NULL)
        return ekey_iss_error(r, 500, "server_error", "no keys to publish");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_set_content_type(r, "application/json");
    if (!r->header_only)
        ap_rvputs(r, doc, "\n", NULL);
    return OK;
}
