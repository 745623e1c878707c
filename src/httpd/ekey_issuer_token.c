/*
 * ekey_issuer_token.c - POST /token: validate the request, apply policy, mint.
 *
 * Order: method (405), caller (401), media type (415), size (413), JSON (400), then each
 * member with a 400 naming it, policy refusals (403), the minting proof last (the only
 * signature check). A caller without httpd authentication is refused unless
 * EKeyIssuerAnonymous is On. With EKeyIssuerRequireProof On (the default) a DPoP key is bound
 * only when the request carries a proof signed by it, so nobody can bind a key they do not
 * hold. The minting proof's jti is not remembered: a replayed proof only yields another token
 * bound to a key the replayer does not hold (EKEY_SPEC.md §7.2).
 */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_optional.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"          /* ap_response_code_string */
#include "mod_ssl.h"

#include "ekey_issuer.h"
#include "ekey_metrics.h"

APLOG_USE_MODULE(ekey_issuer);

typedef struct {
    request_rec *r;
    const ekey_iss_conf_t *c;
    json_t *body;
    ekey_mint_t m;
    const char *bind;
    const char *caller;         /* the authenticated caller (caller()), or NULL */
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

static int bad(mint_ctx_t *x, const char *message)
{
    return refuse(x, HTTP_BAD_REQUEST, "invalid_request", message);
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

/* httpd's own refusal in front of a minting location (AuthType Basic without or with wrong
 * credentials, a Require user, a missing client certificate) is an issuer answer too
 * (EKEY_SPEC 7.5): JSON with its code, unless the administrator set an ErrorDocument. */
#define EKEY_ISS_JSON_FILTER "EKEY_ISSUER_JSON"

static void insert_error_filter(request_rec *r)
{
    const ekey_iss_conf_t *c = ap_get_module_config(r->per_dir_config, &ekey_issuer_module);
    const char *code;

    if (c == NULL || ekey_iss_incomplete(c) != NULL || r->main != NULL
        || (r->status != HTTP_UNAUTHORIZED && r->status != HTTP_FORBIDDEN)
        || ap_response_code_string(r, ap_index_of_response(r->status)) != NULL)
        return;
    code = r->status == HTTP_UNAUTHORIZED ? "invalid_client" : "access_denied";
    ap_custom_response(r, r->status, apr_psprintf(r->pool, "{\"error\":\"%s\",\"message\":"
                       "\"%s\"}\n", code, r->status == HTTP_UNAUTHORIZED
                       ? "minting requires an authenticated caller"
                       : "the caller may not mint here"));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_add_output_filter(EKEY_ISS_JSON_FILTER, NULL, r, r->connection);
}

static apr_status_t json_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/json");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void ekey_iss_register_error_filter(void)
{
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(EKEY_ISS_JSON_FILTER, json_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}

/* application/json, any case, optionally followed by parameters (charset). */
static int is_json(const char *ctype)
{
    if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0)
        return 0;
    for (ctype += 16; *ctype == ' ' || *ctype == '\t'; ctype++)
        ;
    return *ctype == '\0' || *ctype == ';';
}

/* Reads the body, chunked or not, up to *limit bytes: EKeyIssuerMaxBody (max), or httpd's
 * LimitRequestBody where that is smaller (*limit says which, for the message).
 * HTTP_REQUEST_ENTITY_TOO_LARGE when the body is larger (a Content-Length above the limit
 * before anything is read), HTTP_BAD_REQUEST when it cannot be read. Through ap_get_brigade,
 * not ap_get_client_block, which answers httpd's own HTML error page for an input error.
 * httpd's input filter answers that page too once more than LimitRequestBody bytes have been
 * read, so no read asks beyond it: a chunked body (its size unknown) may then be at most
 * LimitRequestBody - 1 bytes, the last byte telling that it is too large. */
static int read_body(request_rec *r, apr_size_t max, char **out, apr_size_t *len,
                     apr_off_t *limit)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t declared, lrb = ap_get_limit_req_body(r), blen;
    apr_bucket_brigade *bb;
    apr_size_t got = 0, n;
    apr_status_t rv;
    char *buf, *end;
    int eos = 0, empty = 0;

    *limit = lrb > 0 && lrb < (apr_off_t)max ? lrb : (apr_off_t)max;
    if (cl != NULL && apr_strtoff(&declared, cl, &end, 10) == APR_SUCCESS && *end == '\0'
        && declared > *limit)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    if (cl == NULL && lrb > 0 && *limit >= lrb)
        *limit = lrb - 1;
    max = (apr_size_t)*limit;
    buf = apr_palloc(r->pool, max + 1);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!eos) {
        /* at most max + 1 bytes in all: one byte beyond the limit tells it was passed */
        if ((rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                                 max - got + 1 < HUGE_STRING_LEN ? max - got + 1
                                                                 : HUGE_STRING_LEN))
            != APR_SUCCESS)
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST)
                   == HTTP_REQUEST_ENTITY_TOO_LARGE ? HTTP_REQUEST_ENTITY_TOO_LARGE
                                                    : HTTP_BAD_REQUEST;
        /* (as ap_get_client_block looks for the end: a blocking read returns buckets) */
        eos = APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb));
        if (apr_brigade_length(bb, 1, &blen) != APR_SUCCESS || blen < 0
            || (blen == 0 && !eos && ++empty > 16))
            return HTTP_BAD_REQUEST;
        if ((apr_size_t)blen > max - got)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        n = (apr_size_t)blen;
        if (apr_brigade_flatten(bb, buf + got, &n) != APR_SUCCESS || n != (apr_size_t)blen)
            return HTTP_BAD_REQUEST;
        got += n;
        apr_brigade_cleanup(bb);
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return OK;
}

/* A member name fit to quote in an answer: short, plain characters; else NULL. */
static const char *quotable(apr_pool_t *p, const char *k)
{
    const char *s;

    if (strlen(k) > 32)
        return NULL;
    for (s = k; *s != '\0'; s++)
        if (!apr_isalnum(*s) && strchr("_-.#$", *s) == NULL)
            return NULL;
    return apr_psprintf(p, "'%s'", k);
}

/* Only known members; the ones the issuer decides are refused by name. */
static int check_members(mint_ctx_t *x)
{
    static const char *const owned[] = { "trace", "iat", "exp", "iss", "cnf", "nbf", "jti" };
    static const char *const known[] = { "sub", "aud", "ttl", "bind", "cap", "jwk" };
    const char *k, *q;
    json_t *v;
    size_t i;
    int ok;

    json_object_foreach(x->body, k, v) {
        for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
            if (strcmp(k, owned[i]) == 0)
                return bad(x, apr_psprintf(x->r->pool, "'%s' is set by the issuer, not by "
                                           "the client", owned[i]));
        for (i = 0, ok = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok)
            return bad(x, (q = quotable(x->r->pool, k)) != NULL
                          ? apr_psprintf(x->r->pool, "unknown member %s in the body", q)
                          : "unknown member in the body");
    }
    return 1;
}

static int listed(const apr_array_header_t *a, const char *v, int wildcard)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        const char *e = APR_ARRAY_IDX(a, i, const char *);
        if (strcmp(e, v) == 0 || (wildcard && strcmp(e, "*") == 0))
            return 1;
    }
    return 0;
}

static int printable_utf8(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* An authenticated caller mints for itself and the EKeyIssuerSubject list; an anonymous one
 * (only with EKeyIssuerAnonymous On) for that list when it is set, else for any sub. */
static int check_subject(mint_ctx_t *x)
{
    const char *sub, *user = x->caller;

    if (ekey_json_get_string(&sub, x->body, "sub", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || sub[0] == '\0' || strlen(sub) > EKEY_ISS_SUB_MAX || !printable_utf8(sub))
        return bad(x, "'sub' must be a string of 1..256 characters without control characters");
    if (user != NULL ? strcmp(user, sub) != 0 && !listed(x->c->subjects, sub, 1)
                     : x->c->subjects->nelts > 0 && !listed(x->c->subjects, sub, 1))
        return refuse(x, HTTP_FORBIDDEN, "access_denied", "the caller may not mint for this 'sub'");
    x->m.sub = sub;
    return 1;
}

static int check_aud_ttl(mint_ctx_t *x)
{
    apr_int64_t ttl;
    int present;

    if (ekey_json_get_string(&x->m.aud, x->body, "aud", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return bad(x, "'aud' must be a string (one audience)");
    if (!listed(x->c->audiences, x->m.aud, 0))
        return refuse(x, HTTP_FORBIDDEN, "access_denied", "this 'aud' is not allowed here");
    if (ekey_json_get_int(&ttl, &present, x->body, "ttl", 0, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return bad(x, "'ttl' must be an integer");
    if (!present)
        ttl = x->c->default_ttl;
    if (ttl < 1 || ttl > x->c->max_ttl)
        return bad(x, apr_psprintf(x->r->pool, "'ttl' must be in 1..%" APR_INT64_T_FMT,
                                   x->c->max_ttl));
    x->m.ttl = ttl;
    return 1;
}

static int check_cap(mint_ctx_t *x)
{
    json_t *cap, *v;
    const char *method, *path, *k, *q;
    apr_int64_t limit;
    int present, i, ok = 0;

    if (ekey_json_get_object(&cap, x->body, "cap", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return bad(x, "'cap' must be {\"action\": \"METHOD:/path\", \"limit\": N}");
    json_object_foreach(cap, k, v)
        if (strcmp(k, "action") != 0 && strcmp(k, "limit") != 0)
            return bad(x, (q = quotable(x->r->pool, k)) != NULL
                          ? apr_psprintf(x->r->pool, "unknown member %s in 'cap'", q)
                          : "unknown member in 'cap'");
    if (ekey_json_get_string(&x->m.action, cap, "action", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return bad(x, "'cap.action' must be a string METHOD:/path");
    if (ekey_cap_parse(&method, &path, x->r->pool, x->m.action, NULL) != EKEY_OK)
        return bad(x, "'cap.action' must be METHOD:/path with an upper-case method and a "
                      "normal-form path");
    if (ekey_json_get_int(&limit, &present, cap, "limit", 0, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return bad(x, "'cap.limit' must be an integer");
    if (!present)
        limit = 1;
    if (limit < 1 || limit > x->c->max_limit)
        return bad(x, apr_psprintf(x->r->pool, "'cap.limit' must be in 1..%" APR_INT64_T_FMT,
                                   x->c->max_limit));
    for (i = 0; i < x->c->caps->nelts && !ok; i++)
        ok = ekey_cap_pattern_match(APR_ARRAY_IDX(x->c->caps, i, const char *), x->m.action);
    if (!ok)
        return refuse(x, HTTP_FORBIDDEN, "access_denied",
                      "this 'cap.action' is not allowed here");
    x->m.limit = limit;
    return 1;
}

/* The caller's name: r->user as an authentication module set it (it sets the auth type),
 * or as mod_ssl's SSLUserName set it (auth type "ClientCert", or none before httpd 2.4.6x)
 * from a client certificate mod_ssl verified. SSLUserName also names the subject of a
 * certificate nobody verified (SSLVerifyClient optional_no_ca, a self-signed certificate
 * saying CN=alice): that is nobody. */
static const char *caller(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup;
    const char *v;

    if (r->user == NULL
        || (r->ap_auth_type != NULL && strcasecmp(r->ap_auth_type, "ClientCert") != 0))
        return r->user;
    lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    v = lookup != NULL ? lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_VERIFY") : NULL;
    return v != NULL && strcmp(v, "SUCCESS") == 0 ? r->user : NULL;
}

/* x5t#S256 of the minting connection's client certificate, from mod_ssl (never a header). */
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

/* The endpoint's public URL: configured, or the server's own scheme, ServerName and port
 * plus the routed path. Never built from Host or X-Forwarded-*. */
static const char *token_url(request_rec *r, const ekey_iss_conf_t *c)
{
    const char *host = r->server->server_hostname;
    apr_port_t port = r->server->port;

    if (c->token_url != NULL)
        return c->token_url;
    if (host == NULL)
        host = r->connection->local_ip;
    if (strchr(host, ':') != NULL)
        host = apr_pstrcat(r->pool, "[", host, "]", NULL);
    if (port == 0 && r->connection->local_addr != NULL)
        port = r->connection->local_addr->port;
    return apr_psprintf(r->pool, "%s://%s%s%s", ap_http_scheme(r), host,
                        port == 0 || port == ap_default_port(r) ? ""
                        : apr_psprintf(r->pool, ":%u", (unsigned)port),
                        ap_os_escape_path(r->pool, r->uri, 1));
}

static const char *proof_problem(ekey_status_t st)
{
    switch (st) {
    case EKEY_E_PROOF_MISSING: return "a DPoP proof signed by 'jwk' is required to mint";
    case EKEY_E_PROOF_HTM: return "the DPoP proof's htm must be POST";
    case EKEY_E_PROOF_HTU: return "the DPoP proof's htu must be this token endpoint";
    case EKEY_E_PROOF_IAT: return "the DPoP proof's iat is outside the accepted window";
    case EKEY_E_PROOF_JKT: return "the DPoP proof is not signed by 'jwk'";
    case EKEY_E_PROOF_ATH: return "a minting DPoP proof carries no ath";
    case EKEY_E_PROOF_NONCE: return "a minting DPoP proof carries no nonce";
    default: return "the DPoP proof is malformed or its signature does not verify";
    }
}

static int check_proof(mint_ctx_t *x)
{
    const char *proof = apr_table_get(x->r->headers_in, "DPoP");
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;
    ekey_status_t st;

    if (proof == NULL)
        return refuse(x, HTTP_BAD_REQUEST, "invalid_dpop_proof",
                      proof_problem(EKEY_E_PROOF_MISSING));
    memset(&chk, 0, sizeof(chk));
    chk.method = "POST";
    chk.htu = token_url(x->r, x->c);
    chk.jkt = x->m.jkt;                 /* the proof's key must be the submitted jwk */
    chk.now = apr_time_sec(apr_time_now());    /* not request_time: the body came later */
    chk.max_age = EKEY_DEFAULT_PROOF_AGE;
    chk.skew = EKEY_DEFAULT_SKEW;
    if ((st = ekey_dpop_verify(&d, x->r->pool, proof, strlen(proof), &chk, NULL)) != EKEY_OK)
        return refuse(x, HTTP_BAD_REQUEST, "invalid_dpop_proof", proof_problem(st));
    return 1;
}

static int check_binding(mint_ctx_t *x)
{
    json_t *jwk = json_object_get(x->body, "jwk");
    ekey_jwk_t *k;

    if (ekey_json_get_string(&x->bind, x->body, "bind", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || (strcmp(x->bind, "DPoP") != 0 && strcmp(x->bind, "mTLS") != 0))
        return bad(x, "'bind' must be \"DPoP\" or \"mTLS\"");
    if (strcmp(x->bind, "mTLS") == 0) {
        if (jwk != NULL)
            return bad(x, "'jwk' is not used with bind mTLS (the client certificate binds)");
        if ((x->m.x5t = client_cert_x5t(x->r)) == NULL)
            return bad(x, "bind mTLS needs a TLS client certificate on this connection");
        x->m.bind = EKEY_BIND_MTLS;
        return 1;
    }
    if (jwk == NULL)
        return bad(x, "'jwk' is required for bind DPoP");
    if (!json_is_object(jwk) || ekey_jwk_parse(&k, x->r->pool, jwk, NULL) != EKEY_OK)
        return bad(x, "'jwk' must be a public EC P-256, P-384 or Ed25519 key on its curve, "
                      "without private members");
    x->m.bind = EKEY_BIND_DPOP;
    x->m.jkt = ekey_jwk_thumbprint(k);
    return x->c->require_proof ? check_proof(x) : 1;
}

/* The answer as compact JSON written directly, like the claims (ekey_token_mint): members in
 * this order, every string through ekey_json_quote; NULL if one is not valid UTF-8. */
static const char *answer_json(apr_pool_t *p, const char *token, const ekey_token_t *t)
{
    const char *tok = ekey_json_quote(p, token), *trace = ekey_json_quote(p, t->trace);
    const char *sub = ekey_json_quote(p, t->sub), *aud = ekey_json_quote(p, t->aud);
    const char *act = ekey_json_quote(p, t->action);
    const char *thumb = ekey_json_quote(p, t->bind == EKEY_BIND_DPOP ? t->jkt : t->x5t);

    if (tok == NULL || trace == NULL || sub == NULL || aud == NULL || act == NULL
        || thumb == NULL)
        return NULL;
    /* pstrcat (a length and a copy per piece) for the strings, the token being most of the
     * answer; the formatter only for the numbers (apr_vformatter showed in the profile) */
    return apr_pstrcat(p, "{\"token\":", tok, ",\"token_type\":\"EKey\",\"trace\":", trace,
                       apr_psprintf(p, ",\"iat\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT
                                    ",\"expires_in\":%" APR_INT64_T_FMT ",", t->iat, t->exp,
                                    t->exp - t->iat),
                       "\"cnf\":{\"", t->bind == EKEY_BIND_DPOP ? "jkt" : "x5t#S256", "\":",
                       thumb, "},\"sub\":", sub, ",\"aud\":", aud, ",\"cap\":{\"action\":", act,
                       apr_psprintf(p, ",\"limit\":%" APR_INT64_T_FMT "}}", t->limit), NULL);
}

static int answer(mint_ctx_t *x, const char *token, const ekey_token_t *t)
{
    const char *body = answer_json(x->r->pool, token, t);

    if (body == NULL)
        return ekey_iss_error(x->r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                              "cannot build the answer");
    apr_table_setn(x->r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(x->r->headers_out, "Pragma", "no-cache");
    ap_set_content_type(x->r, "application/json");
    ap_rvputs(x->r, body, "\n", NULL);
    /* sub has no control characters (checked); the token itself is never logged */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r, "EKEY00210: minted sub=%s trace=%s aud=%s "
                  "cap=%s limit=%" APR_INT64_T_FMT " ttl=%" APR_INT64_T_FMT " bind=%s kid=%.8s",
                  t->sub, t->trace, t->aud, t->action, t->limit, x->m.ttl, x->bind,
                  t->kid != NULL ? t->kid : "-");
    return OK;
}

/* Method, caller, media type, size and JSON: everything before the members. */
static int check_request(mint_ctx_t *x)
{
    request_rec *r = x->r;
    char *buf = NULL;
    apr_size_t len = 0;
    apr_off_t limit;
    ekey_error_t err;
    int rv;

    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return refuse(x, HTTP_METHOD_NOT_ALLOWED, "invalid_request", "use POST");
    }
    x->caller = caller(r);
    if (x->caller == NULL && !x->c->anonymous) {
        /* a 401 names how to authenticate (RFC 9110 15.5.2): the section's AuthType says */
        if (ap_auth_type(r) != NULL)
            ap_note_auth_failure(r);
        return refuse(x, HTTP_UNAUTHORIZED, "invalid_client",
                      "minting requires an authenticated caller");
    }
    if (!is_json(apr_table_get(r->headers_in, "Content-Type")))
        return refuse(x, HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
                      "the body must be application/json");
    if ((rv = read_body(r, x->c->max_body, &buf, &len, &limit)) != OK)
        return refuse(x, rv, "invalid_request", rv == HTTP_REQUEST_ENTITY_TOO_LARGE
                      ? apr_psprintf(r->pool, "the body is larger than %" APR_OFF_T_FMT
                                     " bytes", limit)
                      : "the body could not be read");
    /* the parser's reason (its class and byte offset, never the input) helps the caller */
    if (ekey_json_parse(&x->body, r->pool, buf, len, x->c->max_body, &err) != EKEY_OK)
        return bad(x, apr_psprintf(r->pool, "the body must be one JSON object, without "
                                   "duplicate members, nested at most 8 deep (%s)", err.text));
    return 1;
}

int ekey_iss_token_handler(request_rec *r)
{
    mint_ctx_t x;
    const char *why;
    char *token;
    ekey_token_t *t;
    ekey_error_t err;

    memset(&x, 0, sizeof(x));
    x.r = r;
    x.c = ap_get_module_config(r->per_dir_config, &ekey_issuer_module);
    if ((why = ekey_iss_incomplete(x.c)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00211: cannot mint here: %s", why);
        ekey_metrics_mint("server_error");
        return ekey_iss_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                              "the issuer is not configured");
    }
    if (!check_request(&x) || !check_members(&x) || !check_subject(&x) || !check_aud_ttl(&x)
        || !check_cap(&x) || !check_binding(&x)) {
        ekey_metrics_mint(x.code);
        return ekey_iss_error(r, x.status, x.code, x.message);
    }
    x.m.iss = x.c->name;
    x.m.now = apr_time_sec(apr_time_now());
    /* the last EKeyIssuerSigningKey listed is the newest and signs */
    if (ekey_token_mint(&token, &t, r->pool, &x.m,
                        APR_ARRAY_IDX(x.c->signers, x.c->signers->nelts - 1, const ekey_jwk_t *),
                        &err) != EKEY_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00212: minting failed: %s", err.text);
        ekey_metrics_mint("server_error");
        return ekey_iss_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error", "minting failed");
    }
    ekey_metrics_mint(NULL);
    return answer(&x, token, t);
}
