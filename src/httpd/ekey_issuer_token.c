/*
 * ekey_issuer_token.c - POST /token: validate the request, apply policy, mint.
 *
 * Every field is checked with a 400 naming it; policy refusals are 403; a caller minting
 * without httpd authentication is 401 unless EKeyIssuerAnonymous is On. With
 * EKeyIssuerRequireProof On (the default) a DPoP key is bound only when the request carries
 * a proof signed by it, so nobody can bind a key they do not hold.
 */
#include <apr_strings.h>
#include <apr_optional.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_ssl.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

#define SUB_MAX 256

typedef struct {
    request_rec *r;
    const ekey_iss_conf_t *c;
    json_t *body;
    ekey_mint_t m;
    const ekey_jwk_t *jwk;
    int status;                 /* set with code and message when refused */
    const char *code, *message;
} mint_ctx_t;

static int refuse(mint_ctx_t *x, int status, const char *code, const char *message)
{
    x->status = status;
    x->code = code;
    x->message = message;
    return 0;
}

int ekey_iss_error(request_rec *r, int status, const char *code, const char *message)
{
    json_t *o = ekey_json_own(r->pool, json_pack("{s:s,s:s}", "error", code,
                                                 "message", message));
    const char *body = o != NULL ? ekey_json_dump(r->pool, o) : NULL;

    r->status = status;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, "application/json");
    if (body != NULL && !r->header_only)
        ap_rvputs(r, body, "\n", NULL);
    return OK;
}

/* Reads at most max bytes of body; -1 when it is larger, -2 on a read error. */
static long read_body(request_rec *r, apr_size_t max, char **out)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t got = 0;
    char *buf;
    long n;

    if (cl != NULL && apr_atoi64(cl) > (apr_int64_t)max)
        return -1;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return -2;
    buf = apr_palloc(r->pool, max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got, max + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > max)
                return -1;
        }
        if (n < 0)
            return -2;
    }
    buf[got] = '\0';
    *out = buf;
    return (long)got;
}

static int in_list(const apr_array_header_t *a, const char *v)
{
    int i;

    for (i = 0; i < a->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), v) == 0
            || strcmp(APR_ARRAY_IDX(a, i, const char *), "*") == 0)
            return 1;
    return 0;
}

/* Only known members; the ones the issuer decides are refused by name. */
static int check_members(mint_ctx_t *x)
{
    static const char *const owned[] = { "trace", "iat", "exp", "iss", "cnf", "nbf", "jti" };
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach(x->body, k, v) {
        for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
            if (strcmp(k, owned[i]) == 0)
                return refuse(x, 400, "invalid_request", apr_psprintf(x->r->pool,
                              "'%s' is set by the issuer, not by the client", owned[i]));
        if (strcmp(k, "sub") && strcmp(k, "aud") && strcmp(k, "ttl") && strcmp(k, "bind")
            && strcmp(k, "cap") && strcmp(k, "jwk"))
            return refuse(x, 400, "invalid_request", "unknown member in the request body");
    }
    return 1;
}

static int check_subject(mint_ctx_t *x)
{
    const char *sub;

    if (ekey_json_get_string(&sub, x->body, "sub", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || sub[0] == '\0' || strlen(sub) > SUB_MAX)
        return refuse(x, 400, "invalid_request", "'sub' must be a string of 1..256 characters");
    if (x->r->user == NULL && !x->c->anonymous)
        return refuse(x, 401, "invalid_client", "minting requires an authenticated caller");
    if (x->r->user != NULL && strcmp(x->r->user, sub) != 0 && !in_list(x->c->subjects, sub))
        return refuse(x, 403, "access_denied", "the caller may not mint for this 'sub'");
    x->m.sub = sub;
    return 1;
}

static int check_aud_ttl(mint_ctx_t *x)
{
    apr_int64_t ttl;
    int present;

    if (ekey_json_get_string(&x->m.aud, x->body, "aud", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request", "'aud' must be a string");
    if (!in_list(x->c->audiences, x->m.aud))
        return refuse(x, 403, "access_denied", "this 'aud' is not allowed here");
    if (ekey_json_get_int(&ttl, &present, x->body, "ttl", 0, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request", "'ttl' must be an integer");
    if (!present)
        ttl = x->c->default_ttl;
    if (ttl < 1 || ttl > x->c->max_ttl)
        return refuse(x, 400, "invalid_request", apr_psprintf(x->r->pool,
                      "'ttl' must be in 1..%" APR_INT64_T_FMT, x->c->max_ttl));
    x->m.ttl = ttl;
    return 1;
}

static int check_cap(mint_ctx_t *x)
{
    json_t *cap;
    const char *method, *path;
    apr_int64_t limit;
    int present, i, ok = 0;

    if (ekey_json_get_object(&cap, x->body, "cap", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || ekey_json_get_string(&x->m.action, cap, "action", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request", "'cap' must be {\"action\": \"METHOD:/path\"}");
    if (ekey_cap_parse(&method, &path, x->r->pool, x->m.action, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request", "'cap.action' must be METHOD:/path in normal form");
    if (ekey_json_get_int(&limit, &present, cap, "limit", 0, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request", "'cap.limit' must be an integer");
    if (!present)
        limit = 1;
    if (limit < 1 || limit > x->c->max_limit)
        return refuse(x, 400, "invalid_request", apr_psprintf(x->r->pool,
                      "'cap.limit' must be in 1..%" APR_INT64_T_FMT, x->c->max_limit));
    if (json_object_size(cap) != (size_t)(present ? 2 : 1))
        return refuse(x, 400, "invalid_request", "'cap' has an unknown member");
    for (i = 0; i < x->c->caps->nelts && !ok; i++)
        ok = ekey_cap_pattern_match(APR_ARRAY_IDX(x->c->caps, i, const char *), x->m.action);
    if (!ok)
        return refuse(x, 403, "access_denied", "this capability is not allowed here");
    x->m.limit = limit;
    return 1;
}

static const char *client_cert_x5t(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const char *pem;
    unsigned char *der = NULL;
    BIO *bio;
    X509 *x;
    int n;
    const char *out = NULL;

    if (lookup == NULL
        || (pem = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT")) == NULL
        || *pem == '\0' || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
        return NULL;
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (x != NULL && (n = i2d_X509(x, &der)) > 0)
        out = ekey_sha256_b64url(r->pool, der, (apr_size_t)n);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

static const char *token_url(request_rec *r, const ekey_iss_conf_t *c)
{
    return c->token_url != NULL ? c->token_url : ap_construct_url(r->pool, r->uri, r);
}

static int check_binding(mint_ctx_t *x)
{
    const char *bind = "DPoP", *proof;
    json_t *jwk = json_object_get(x->body, "jwk");
    ekey_jwk_t *k;
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;

    if (ekey_json_get_string(&bind, x->body, "bind", 0, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || (strcmp(bind, "DPoP") != 0 && strcmp(bind, "mTLS") != 0))
        return refuse(x, 400, "invalid_request", "'bind' must be \"DPoP\" or \"mTLS\"");
    if (strcmp(bind, "mTLS") == 0) {
        if (jwk != NULL)
            return refuse(x, 400, "invalid_request", "'jwk' is not used with bind mTLS");
        if ((x->m.x5t = client_cert_x5t(x->r)) == NULL)
            return refuse(x, 400, "invalid_request",
                          "bind mTLS needs a TLS client certificate on this connection");
        x->m.bind = EKEY_BIND_MTLS;
        return 1;
    }
    if (!json_is_object(jwk) || ekey_jwk_parse(&k, x->r->pool, jwk, NULL) != EKEY_OK)
        return refuse(x, 400, "invalid_request",
                      "'jwk' must be a public EC P-256, P-384 or Ed25519 key without private members");
    x->m.bind = EKEY_BIND_DPOP;
    x->m.jkt = ekey_jwk_thumbprint(k);
    if (!x->c->require_proof)
        return 1;
    proof = apr_table_get(x->r->headers_in, "DPoP");
    memset(&chk, 0, sizeof(chk));
    chk.method = "POST";
    chk.htu = token_url(x->r, x->c);
    chk.jkt = x->m.jkt;
    chk.now = apr_time_sec(x->r->request_time);
    chk.max_age = EKEY_DEFAULT_PROOF_AGE;
    chk.skew = EKEY_DEFAULT_SKEW;
    if (proof == NULL || ekey_dpop_verify(&d, x->r->pool, proof, strlen(proof), &chk, NULL)
                         != EKEY_OK)
        return refuse(x, 400, "invalid_dpop_proof",
                      "a DPoP proof signed by 'jwk' for POST to this endpoint is required");
    return 1;
}

static int answer(mint_ctx_t *x, const char *token, const ekey_token_t *t)
{
    json_t *cnf = t->bind == EKEY_BIND_DPOP ? json_pack("{s:s}", "jkt", t->jkt)
                                            : json_pack("{s:s}", "x5t#S256", t->x5t);
    json_t *o = ekey_json_own(x->r->pool, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:s,s:s,s:{s:s,s:I}}",
        "token", token, "token_type", "EKey", "trace", t->trace, "iat", (json_int_t)t->iat,
        "exp", (json_int_t)t->exp, "expires_in", (json_int_t)(t->exp - t->iat), "cnf", cnf,
        "sub", t->sub, "aud", t->aud, "cap", "action", t->action, "limit", (json_int_t)t->limit));

    if (o == NULL)
        return ekey_iss_error(x->r, 500, "server_error", "cannot build the answer");
    apr_table_setn(x->r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(x->r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(x->r, "application/json");
    ap_rvputs(x->r, ekey_json_dump(x->r->pool, o), "\n", NULL);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r, "EKEY00210: minted sub=%s trace=%s aud=%s "
                  "cap=%s limit=%" APR_INT64_T_FMT " ttl=%" APR_INT64_T_FMT, t->sub, t->trace,
                  t->aud, t->action, t->limit, x->m.ttl);
    return OK;
}

int ekey_iss_token_handler(request_rec *r)
{
    mint_ctx_t x;
    const char *ctype = apr_table_get(r->headers_in, "Content-Type"), *why;
    char *buf = NULL, *token;
    ekey_token_t *t;
    ekey_error_t err;
    long n;

    memset(&x, 0, sizeof(x));
    x.r = r;
    x.c = ap_get_module_config(r->per_dir_config, &ekey_issuer_module);
    if ((why = ekey_iss_incomplete(x.c)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00211: cannot mint here: %s", why);
        return ekey_iss_error(r, 500, "server_error", "the issuer is not configured");
    }
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return ekey_iss_error(r, 405, "invalid_request", "use POST");
    }
    if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0
        || (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' '))
        return ekey_iss_error(r, 415, "invalid_request", "the body must be application/json");
    if ((n = read_body(r, x.c->max_body, &buf)) == -1)
        return ekey_iss_error(r, 413, "invalid_request", "the body is too large");
    if (n < 0)
        return ekey_iss_error(r, 400, "invalid_request", "the body could not be read");
    if (ekey_json_parse(&x.body, r->pool, buf, (apr_size_t)n, x.c->max_body, NULL) != EKEY_OK)
        return ekey_iss_error(r, 400, "invalid_request",
                              "the body must be one JSON object without duplicate members");
    if (!check_members(&x) || !check_subject(&x) || !check_aud_ttl(&x) || !check_cap(&x)
        || !check_binding(&x))
        return ekey_iss_error(r, x.status, x.code, x.message);
    x.m.iss = x.c->name;
    x.m.now = apr_time_sec(r->request_time);
    if (ekey_token_mint(&token, &t, r->pool, &x.m,
                        APR_ARRAY_IDX(x.c->signers, x.c->signers->nelts - 1, const ekey_jwk_t *),
                        &err) != EKEY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00212: minting failed: %s", err.text);
        return ekey_iss_error(r, 500, "server_error", "minting failed");
    }
    return answer(&x, token, t);
}
