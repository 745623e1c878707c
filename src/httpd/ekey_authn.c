/*
 * ekey_authn.c - AuthType EKey: the check_authn hook and the per-request decision.
 *
 * Order (SECURITY-CASES §0.4): framing, token (size, structure, signature, claims), binding
 * (DPoP proof or client certificate, as the token's cnf says), capability, then httpd's
 * authorization (Require ekey-cap and any other provider), and only then, in the fixups
 * hook, the replay store: neither a thief without the key nor a request authorization
 * refuses can burn the owner's uses.
 *
 * Two views of a request: the client's (the initial request: the method and the raw target
 * it sent and signed in the DPoP proof) and httpd's routing (r->method, r->uri, which the
 * capability must cover). They are the same request except after an internal redirect.
 *
 * Internal requests (subrequests, internal redirects) never verify or consume again: they
 * reuse the initial request's result, and their own method and URI must still be covered by
 * the capability (SECURITY-CASES APX-03, CAP-17). httpd skips the authn hooks of an internal
 * request whose configuration equals its parent's; the fixups hook covers that case.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_ssl.h"

#include "ekey_config.h"
#include "ekey_respond.h"

APLOG_USE_MODULE(ekey);


static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_lookup = NULL;

/* ------------------------------------------------------------ per-request record */

request_rec *ekey_initial_request(request_rec *r)
{
    for (;;) {
        if (r->main != NULL)
            r = r->main;
        else if (r->prev != NULL)
            r = r->prev;
        else
            return r;
    }
}

ekey_req_t *ekey_req_get(request_rec *r)
{
    ekey_req_t *rq = ap_get_module_config(r->request_config, &ekey_module);

    return rq != NULL ? rq
           : ap_get_module_config(ekey_initial_request(r)->request_config, &ekey_module);
}

ekey_req_t *ekey_req_make(request_rec *r)
{
    ekey_req_t *rq = ap_get_module_config(r->request_config, &ekey_module);

    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        rq->uses_left = -1;
        rq->dc = ekey_dir_conf(r);
        ap_set_module_config(r->request_config, &ekey_module, rq);
    }
    return rq;
}

int ekey_is_ekey_location(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type != NULL && strcasecmp(type, EKEY_AUTH_TYPE) == 0;
}

/* ------------------------------------------------------------ the request path */

/* The path of the request target as the client sent it (origin or absolute form). */
static const char *raw_path(request_rec *top)
{
    const char *u = top->unparsed_uri, *s;

    if (u == NULL || *u == '\0' || *u == '*')
        return NULL;
    if (*u != '/') {                /* absolute-form: skip "scheme://authority" */
        if ((s = strstr(u, "://")) == NULL)
            return NULL;
        u = s + 3 + strcspn(s + 3, "/?#");
        if (*u != '/')
            return *u == '\0' || *u == '?' || *u == '#' ? "/" : NULL;
    }
    return apr_pstrmemdup(top->pool, u, strcspn(u, "?#"));
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The client signs the URL it sent (percent-encoded, as is); httpd routes and the capability
 * is matched on the decoded, normalised path. Both are the same resource only when the raw
 * path is already in normal form: it decodes to exactly the path httpd normalised
 * (parsed_uri.path, before any rewrite), and has no "//", "." or ".." segment, literal or
 * encoded. Anything else is refused as invalid_request (SECURITY-CASES CAP-05, HTU-08/09)
 * rather than guessed at. */
static ekey_status_t check_raw_path(const char *raw, request_rec *top, ekey_error_t *err)
{
    apr_size_t n = strlen(raw), i, o = 0;
    char *dec = apr_palloc(top->pool, n + 1);
    int hi, lo;

    for (i = 0; i < n; i++) {
        if (raw[i] != '%') {
            dec[o++] = raw[i];
            continue;
        }
        if (i + 2 >= n)
            return ekey_error_set(err, EKEY_E_REQUEST, "path", "truncated escape");
        if ((hi = hexval(raw[i + 1])) < 0 || (lo = hexval(raw[i + 2])) < 0 || hi + lo == 0)
            return ekey_error_set(err, EKEY_E_REQUEST, "path", "bad or NUL escape");
        /* "/" has one spelling: with AllowEncodedSlashes On httpd routes "/a%2Fb" as "/a/b",
         * while a backend behind `ProxyPass ... nocanon` gets the one segment "a%2Fb", a
         * resource no capability can name */
        if (hi * 16 + lo == '/')
            return ekey_error_set(err, EKEY_E_REQUEST, "path", "encoded slash");
        dec[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    dec[o] = '\0';
    if (dec[0] != '/' || strstr(dec, "//") != NULL || strstr(dec, "/./") != NULL
        || strstr(dec, "/../") != NULL || (o >= 2 && strcmp(dec + o - 2, "/.") == 0)
        || (o >= 3 && strcmp(dec + o - 3, "/..") == 0))
        return ekey_error_set(err, EKEY_E_REQUEST, "path", "path not in normal form");
    if (top->parsed_uri.path == NULL || strcmp(dec, top->parsed_uri.path) != 0)
        return ekey_error_set(err, EKEY_E_REQUEST, "path",
                              "path is not the one httpd routes (encoded or merged)");
    return EKEY_OK;
}

/* EKeyPublicOrigin, or the server's own configured name: scheme from the server (mod_ssl),
 * host from ServerName, port from ServerName or else the local socket. Never the Host
 * header, X-Forwarded-* or Forwarded (SECURITY-CASES HTU-04). */
static const char *public_origin(request_rec *r, const ekey_dir_conf_t *dc)
{
    apr_port_t port = r->server->port;
    char *origin;

    if (dc->origin != NULL)
        return dc->origin;
    if (port == 0)
        port = r->connection->local_addr != NULL ? r->connection->local_addr->port
               : ap_default_port(r);
    if (ekey_origin_normalize(&origin, r->pool, apr_psprintf(r->pool, "%s://%s:%u",
                              ap_http_scheme(r), r->server->server_hostname,
                              (unsigned)port), NULL) != EKEY_OK)
        return NULL;
    return origin;
}

/* ------------------------------------------------------------ binding */

static ekey_status_t check_dpop(request_rec *r, request_rec *top, const ekey_dir_conf_t *dc,
                                ekey_req_t *rq, const char *raw, const ekey_dpop_t **dpop)
{
    const char *proof = ekey_credential(top, "DPoP"), *origin, *htu;
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;
    char *norm;
    ekey_status_t st;

    if ((origin = public_origin(r, dc)) == NULL)
        return ekey_error_set(&rq->err, EKEY_E_INTERNAL, "origin",
                              "no usable public origin (set EKeyPublicOrigin)");
    htu = apr_pstrcat(r->pool, origin, raw, NULL);
    if (ekey_url_normalize(&norm, r->pool, htu, &rq->err) != EKEY_OK)
        return ekey_error_set(&rq->err, EKEY_E_REQUEST, "path", "request URL not normalisable");
    memset(&chk, 0, sizeof(chk));
    chk.method = top->method;
    chk.htu = norm;
    chk.ath = rq->token->ath;
    chk.nonce = rq->token->trace;
    chk.jkt = rq->token->jkt;
    chk.now = rq->now;
    chk.max_age = dc->proof_max_age;
    chk.skew = dc->skew;
    chk.max_len = (apr_size_t)dc->max_len;
    chk.algs = dc->proof_algs;
    st = ekey_dpop_verify(&d, r->pool, proof, proof ? strlen(proof) : 0, &chk, &rq->err);
    if (st == EKEY_E_PROOF_HTU)     /* the expected URL is public: it helps fix the origin */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00104: expected htu %s", norm);
    if (st == EKEY_OK) {
        rq->jkt = d->jkt;
        *dpop = d;
    }
    return st;
}

/* The SPIFFE ID of an X.509-SVID: its one and only URI SAN, when that is a SPIFFE ID
 * (ekey_spiffe_id_valid: an IA5String may hold a NUL, and "spiffe://td/victim\0.evil" is
 * no ID at all, not the one it starts with). */
static const char *spiffe_id(apr_pool_t *p, X509 *x)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const unsigned char *s;
    const char *id = NULL;
    int i, uris = 0, n;

    for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_URI)
            continue;
        uris++;
        s = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        if (n > 0 && ekey_spiffe_id_valid((const char *)s, (apr_size_t)n))
            id = apr_pstrmemdup(p, (const char *)s, (apr_size_t)n);
    }
    GENERAL_NAMES_free(names);
    return uris == 1 ? id : NULL;
}

/* What a client certificate gives us, kept on its TLS connection: decoding the PEM that
 * mod_ssl hands us (OpenSSL's decoders for the public key) is most of an mTLS request's
 * cost, and the certificate rarely changes on a connection. It can (renegotiation,
 * post-handshake authentication), so the cached facts count only for the very same PEM,
 * compared in full. One connection is served by one thread at a time. */
typedef struct {
    const char *pem;
    const char *x5t;                /* base64url SHA-256 of the DER */
    const char *spiffe_id;          /* NULL: none */
} cert_facts_t;

static ekey_status_t cert_facts(const cert_facts_t **out, conn_rec *c, const char *pem,
                                ekey_req_t *rq)
{
    cert_facts_t *cf = ap_get_module_config(c->conn_config, &ekey_module);
    unsigned char *der = NULL;
    X509 *x = NULL;
    BIO *bio;
    int len;

    if (cf != NULL && strcmp(cf->pem, pem) == 0) {
        *out = cf;
        return EKEY_OK;
    }
    if ((bio = BIO_new_mem_buf(pem, -1)) != NULL) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (x == NULL) {
        ERR_clear_error();          /* mod_ssl reads this thread's queue too */
        return ekey_error_set(&rq->err, EKEY_E_CERT_MISSING, "mtls", "unreadable certificate");
    }
    if ((len = i2d_X509(x, &der)) <= 0) {
        X509_free(x);
        ERR_clear_error();
        return ekey_error_set(&rq->err, EKEY_E_CRYPTO, "mtls", "cannot encode certificate");
    }
    cf = apr_pcalloc(c->pool, sizeof(*cf));
    cf->x5t = ekey_sha256_b64url(c->pool, der, (apr_size_t)len);
    cf->spiffe_id = spiffe_id(c->pool, x);
    cf->pem = apr_pstrdup(c->pool, pem);
    OPENSSL_free(der);
    X509_free(x);
    if (cf->x5t == NULL)
        return ekey_error_set(&rq->err, EKEY_E_CRYPTO, "mtls", "cannot hash certificate");
    ap_set_module_config(c->conn_config, &ekey_module, cf);
    *out = cf;
    return EKEY_OK;
}

/* RFC 8705 §3: the certificate of this TLS connection (from mod_ssl, never a header) must
 * hash to cnf["x5t#S256"]. */
static ekey_status_t check_cert(request_rec *r, const ekey_dir_conf_t *dc, ekey_req_t *rq)
{
    char *pem = ssl_lookup ? ssl_lookup(r->pool, r->server, r->connection, r,
                                        "SSL_CLIENT_CERT") : NULL;
    const cert_facts_t *cf = NULL;
    const char *verify;
    ekey_status_t st;

    if (pem == NULL || *pem == '\0')
        return ekey_error_set(&rq->err, EKEY_E_CERT_MISSING, "mtls", "no client certificate");
    if ((st = cert_facts(&cf, r->connection, pem, rq)) != EKEY_OK)
        return st;
    if (!ekey_ct_streq(cf->x5t, rq->token->x5t))
        return ekey_error_set(&rq->err, EKEY_E_CERT_MISMATCH, "mtls",
                              "certificate is not the token's x5t#S256");
    /* the binding needs only the key (the handshake proved it); a name in the certificate
     * is an identity only when mod_ssl verified the certificate (optional_no_ca takes any) */
    verify = cf->spiffe_id != NULL ? ssl_lookup(r->pool, r->server, r->connection, r,
                                                "SSL_CLIENT_VERIFY") : NULL;
    rq->spiffe_id = verify != NULL && strcmp(verify, "SUCCESS") == 0 ? cf->spiffe_id : NULL;
    if (cf->spiffe_id != NULL && rq->spiffe_id == NULL)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00106: the SPIFFE ID of a client "
                      "certificate mod_ssl did not verify (%s) is not used",
                      verify != NULL ? verify : "no SSL_CLIENT_VERIFY");
    if (dc->spiffe_subject && (rq->spiffe_id == NULL || strcmp(rq->spiffe_id, rq->token->sub)))
        return ekey_error_set(&rq->err, EKEY_E_CERT_MISMATCH, "mtls.spiffe",
                              "no SPIFFE ID of a verified certificate equal to sub "
                              "(EKeySpiffeSubject On)");
    return EKEY_OK;
}

/* ------------------------------------------------------------ replay store */

/* The store of this server: the shared-memory table (one per httpd) or this server's Redis
 * connection (one per child process). No store: fail closed. */
static ekey_status_t store_consume(request_rec *r, const ekey_consume_t *c,
                                   apr_int64_t *uses_left, ekey_error_t *err)
{
    ekey_store_t *st = ekey_srv_store(r->server);

    if (st == NULL)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "store", "no replay store");
    return st->consume(st, c, uses_left, err);
}

/* ------------------------------------------------------------ verification */

/* Claims we hand to logs, CGI and proxies must not carry control bytes (header injection
 * through mod_headers' %{EKEY_SUB}e). */
static int exportable(const char *s)
{
    for (; s != NULL && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static ekey_status_t verify_token(request_rec *r, request_rec *top, const ekey_dir_conf_t *dc,
                                  ekey_req_t *rq, const char **raw)
{
    const char *tok, *proof;
    apr_size_t len;
    ekey_token_policy_t pol;
    ekey_token_t *t, *late = NULL;
    ekey_status_t st;

    const char *authz = ekey_credential(top, "Authorization");

    st = ekey_http_parse_authorization(&tok, &len, authz, (apr_size_t)dc->max_len, &rq->err);
    /* Credentials of another scheme are a presented token we refuse (a bound E-Key sent as
     * Bearer or DPoP must not pass as "no credentials"): invalid_token, SECURITY-CASES
     * HDR-05/HDR-06. Only a request without Authorization gets the bare challenge. */
    if (st == EKEY_E_NO_CREDENTIALS && authz != NULL)
        return ekey_error_set(&rq->err, EKEY_E_SCHEME, "authorization", "not the EKey scheme");
    if (st != EKEY_OK)
        return st;
    if ((*raw = raw_path(top)) == NULL)
        return ekey_error_set(&rq->err, EKEY_E_REQUEST, "path", "no path in the request");
    if ((st = check_raw_path(*raw, top, &rq->err)) != EKEY_OK)
        return st;
    /* httpd joins repeated DPoP fields with ", " (a proof never has a comma): ambiguous
     * credentials are invalid_request, never "first one wins" (DESIGN.md), whatever the
     * token turns out to be bound to (EKEY_SPEC 9.1 step 1) */
    if ((proof = ekey_credential(top, "DPoP")) != NULL && strchr(proof, ',') != NULL)
        return ekey_error_set(&rq->err, EKEY_E_REQUEST, "dpop", "repeated DPoP fields");
    memset(&pol, 0, sizeof(pol));
    pol.keys = dc->keys;
    pol.issuer = dc->issuer;
    pol.audience = dc->audience;
    pol.now = rq->now;
    pol.skew = dc->skew;
    pol.max_ttl = dc->max_ttl;
    pol.max_limit = dc->max_uses;
    pol.max_len = (apr_size_t)dc->max_len;
    pol.algs = dc->token_algs;
    pol.expired = &late;            /* who presented an expired token, for the logs */
    if ((st = ekey_token_verify(&t, r->pool, tok, len, &pol, &rq->err)) != EKEY_OK) {
        if (late != NULL && exportable(late->sub) && exportable(late->aud)
            && exportable(late->action))
            rq->token = late;
        return st;
    }
    if (!exportable(t->sub) || !exportable(t->aud) || !exportable(t->action))
        return ekey_error_set(&rq->err, EKEY_E_CLAIMS, "claims", "control byte in a claim");
    rq->token = t;
    return EKEY_OK;
}

static ekey_status_t verify(request_rec *r, request_rec *top, const ekey_dir_conf_t *dc,
                            ekey_req_t *rq)
{
    const ekey_dpop_t *dpop = NULL;
    const ekey_token_t *t;
    ekey_consume_t *c;
    const char *raw = NULL;
    apr_int64_t skew;
    ekey_status_t st;

    if ((st = verify_token(r, top, dc, rq, &raw)) != EKEY_OK)
        return st;
    t = rq->token;
    /* the token's cnf picks the mechanism; a DPoP header next to an x5t#S256 token is
     * not evaluated (the certificate alone proves possession, RFC 8705) */
    st = t->bind == EKEY_BIND_DPOP ? check_dpop(r, top, dc, rq, raw, &dpop)
         : t->bind == EKEY_BIND_MTLS ? check_cert(r, dc, rq)
         : ekey_error_set(&rq->err, EKEY_E_CNF, "cnf", "unbound token");
    if (st != EKEY_OK)
        return st;
    if ((st = ekey_cap_match(t->action, r->method, r->uri, &rq->err)) != EKEY_OK)
        return st;
    /* the use is taken once authorization has passed (ekey_fixups) */
    c = &rq->consume;
    memset(c, 0, sizeof(*c));
    c->trace = t->trace;
    c->limit = t->limit;
    /* kept while any location that shares the store could still accept the token (another
     * one may allow more skew than this one) */
    skew = ekey_skew_max() > dc->skew ? ekey_skew_max() : dc->skew;
    /* 2 S: a location accepts the token until exp + S by its own clock, and a server that
     * shares the store with a clock up to S behind it until exp + S later still */
    c->trace_expires = t->exp + 2 * skew;
    c->now = rq->now;
    if (dpop != NULL) {
        /* the same: a location with a longer EKeyProofMaxAge (another host of the same
         * public origin) still accepts this proof after this one stopped */
        c->jti = dpop->jti;
        c->jkt = dpop->jkt;
        /* + 1: the proof is still accepted in second iat + A itself (and an entry is free
         * once its expiry is reached) */
        c->jti_expires = dpop->iat + skew + 1
            + (ekey_proof_age_max() > dc->proof_max_age ? ekey_proof_age_max()
                                                        : dc->proof_max_age);
    }
    return EKEY_OK;
}

static void set_env(request_rec *r, const ekey_req_t *rq)
{
    const ekey_token_t *t = rq->token;
    apr_table_t *e = r->subprocess_env;

    apr_table_setn(e, "EKEY_SUB", t->sub);
    apr_table_setn(e, "EKEY_TRACE", t->trace);
    apr_table_setn(e, "EKEY_CAP", t->action);
    apr_table_setn(e, "EKEY_AUD", t->aud);
    if (rq->consumed)               /* else set once the use is taken */
        apr_table_setn(e, "EKEY_USES_LEFT", apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                         rq->uses_left));
    apr_table_setn(e, "EKEY_BIND", t->bind == EKEY_BIND_DPOP ? "DPoP" : "mTLS");
    if (rq->jkt != NULL)
        apr_table_setn(e, "EKEY_JKT", rq->jkt);
    if (rq->spiffe_id != NULL)
        apr_table_setn(e, "EKEY_SPIFFE_ID", rq->spiffe_id);
}

/* Identity for the handler. The method is what the token covers: override headers that
 * some backends honour are removed (SECURITY-CASES CAP-15). */
static void set_identity(request_rec *r, const ekey_req_t *rq)
{
    r->user = apr_pstrdup(r->pool, rq->token->sub);
    r->ap_auth_type = EKEY_AUTH_TYPE;
    set_env(r, rq);
    apr_table_unset(r->headers_in, "X-HTTP-Method-Override");
    apr_table_unset(r->headers_in, "X-HTTP-Method");
    apr_table_unset(r->headers_in, "X-Method-Override");
}

static int refuse(request_rec *r, ekey_req_t *rq, ekey_status_t st)
{
    int status = ekey_respond(r, rq, st);
    const ekey_token_t *t = rq->token;

    ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_ERR : APLOG_INFO, 0, r,
                  "EKEY00102: %s %s (%s: %s) sub=%s trace=%s jkt=%.8s", ekey_status_code(st),
                  ekey_status_name(st), rq->err.where, rq->err.text, t ? t->sub : "-",
                  t ? t->trace : "-", rq->jkt ? rq->jkt : "-");
    return status;
}

static void forget_credentials(request_rec *r, request_rec *top)
{
    /* mod_cache stores no answer to a request with Authorization (unless the answer says
     * public); once the field is gone it would, and serve one holder's answer to the next.
     * An answer under an E-Key is never stored, whatever its Cache-Control. */
    r->no_cache = 1;
    top->no_cache = 1;
    ekey_drop_credentials(top);
    ekey_drop_credentials(r);
}

/* First (and only) verification of an external request's credentials. */
static int verify_request(request_rec *r, request_rec *top)
{
    ekey_req_t *rq = ekey_req_make(r);
    const ekey_dir_conf_t *dc = rq->dc;
    ekey_status_t st;

    if (top != r)                   /* the chain's decision, for reuse and the audit */
        ap_set_module_config(top->request_config, &ekey_module, rq);
    if (!ekey_dir_complete(dc)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "EKEY00101: AuthType EKey at %s without "
                      "trusted keys, EKeyIssuer or EKeyAudience", r->uri);
        forget_credentials(r, top);
        return ekey_respond(r, rq, EKEY_E_INTERNAL);
    }
    rq->now = apr_time_sec(apr_time_now());
    st = verify(r, top, dc, rq);
    forget_credentials(r, top);
    if (st != EKEY_OK)
        return refuse(r, rq, st);
    rq->status = EKEY_OK;           /* verified; the use is taken after authorization */
    set_identity(r, rq);
    return OK;
}

/* Authorization passed: take one use. The last step that can refuse the request. */
static int consume_use(request_rec *r, ekey_req_t *rq)
{
    ekey_status_t st = store_consume(r, &rq->consume, &rq->uses_left, &rq->err);

    if (st != EKEY_OK) {
        rq->uses_left = -1;
        return refuse(r, rq, st);
    }
    rq->consumed = 1;
    apr_table_setn(r->subprocess_env, "EKEY_USES_LEFT",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, rq->uses_left));
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00100: allowed sub=%s trace=%s "
                  "bind=%s jkt=%.8s uses_left=%" APR_INT64_T_FMT, rq->token->sub,
                  rq->token->trace, rq->jkt ? "DPoP" : "mTLS", rq->jkt ? rq->jkt : "-",
                  rq->uses_left);
    return DECLINED;
}

ekey_status_t ekey_req_outcome(request_rec *r, const ekey_req_t *rq)
{
    const request_rec *last = r;

    while (last->next != NULL)
        last = last->next;
    if (rq->chain != EKEY_OK && last->status >= 400)
        return rq->chain;
    return rq->status == EKEY_OK && !rq->consumed ? EKEY_E_INSUFFICIENT_CAP : rq->status;
}

/* An internal request under an E-Key location: the initial request's result, if it was a
 * success, with this request's own method and URI checked against the capability. */
static int reuse(request_rec *r, ekey_req_t *prev)
{
    ekey_req_t *rq;
    ekey_status_t st;

    if (prev == NULL && r->main != NULL) {
        /* a lookup (DirectoryIndex, an include) of an E-Key resource from a request that was
         * not under E-Key: never verified here (a lookup must not consume), and refused with
         * our answer, which mod_dir passes on for a single index name */
        rq = ekey_req_make(r);
        ekey_error_set(&rq->err, EKEY_E_NO_CREDENTIALS, "internal",
                       "lookup from a request that is not under E-Key: request it by its URL");
        return refuse(r, rq, EKEY_E_NO_CREDENTIALS);
    }
    if (prev == NULL || prev->status != EKEY_OK || !prev->consumed || prev->token == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "EKEY00103: internal request without "
                      "a verified E-Key refused");
        return prev != NULL && prev->http_status ? prev->http_status : HTTP_UNAUTHORIZED;
    }
    rq = ekey_req_make(r);          /* r's own copy: a refusal here is not the chain's */
    rq->token = prev->token;
    rq->uses_left = prev->uses_left;
    rq->jkt = prev->jkt;
    rq->spiffe_id = prev->spiffe_id;
    rq->consumed = 1;               /* the initial request's use covers the chain */
    if ((st = ekey_cap_match(prev->token->action, r->method, r->uri, &rq->err)) != EKEY_OK) {
        if (prev->chain == EKEY_OK)     /* the chain's answer, if it ends in this refusal */
            prev->chain = st;
        return refuse(r, rq, st);
    }
    rq->status = EKEY_OK;
    set_identity(r, rq);
    return OK;
}

/* httpd skips authentication when an access rule granted the request without a user. That
 * is the administrator's choice when nobody has claimed a user yet (<RequireAny> with Require
 * ip, Require all granted: SECURITY-CASES APX-05), but not when a module set one before
 * authorization (mod_ssl's SSLUserName): `Require valid-user` would then pass unasked. */
int ekey_force_authn(request_rec *r)
{
    return r->user != NULL && ekey_is_ekey_location(r) ? OK : DECLINED;
}

int ekey_check_authn(request_rec *r)
{
    request_rec *top;
    ekey_req_t *prev;

    if (!ekey_is_ekey_location(r))
        return DECLINED;
    top = ekey_initial_request(r);
    if (top == r)
        return verify_request(r, r);
    prev = ap_get_module_config(top->request_config, &ekey_module);
    /* an internal redirect whose initial request was not under E-Key is the first look at
     * the credentials; a subrequest never is (lookups must not consume uses) */
    if (prev == NULL && r->main == NULL)
        return verify_request(r, top);
    return reuse(r, prev);
}

int ekey_fixups(request_rec *r)
{
    ekey_req_t *rq = ap_get_module_config(r->request_config, &ekey_module), *prev;
    request_rec *top;
    int rv;

    if (rq != NULL) {
        rq->pending = EKEY_OK;      /* authorization passed: no refusal to answer */
        return rq->status == EKEY_OK && !rq->consumed ? consume_use(r, rq) : DECLINED;
    }
    top = ekey_initial_request(r);
    /* access granted without authentication (<RequireAny> with Require ip ...): the
     * credentials were never read, and still must not reach logs or backends */
    if (ekey_is_ekey_location(r))
        forget_credentials(r, top);
    if (top == r || !ekey_is_ekey_location(r))
        return DECLINED;
    /* httpd skipped authn for this internal request (same configuration as its parent):
     * an ErrorDocument of the same location answering a refusal, too, so a chain that
     * was refused (or not yet given its use) is refused here, before the handler runs */
    prev = ap_get_module_config(top->request_config, &ekey_module);
    if (prev == NULL)
        return DECLINED;
    rv = reuse(r, prev);
    return rv == OK ? DECLINED : rv;
}

/* ------------------------------------------------------------ lifecycle */

void ekey_authn_retrieve_optional_fn(void)
{
    ssl_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

