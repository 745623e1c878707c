/*
 * client.c - the client half of E-Key (ekey_client.h, public): token request bodies, issuer
 * answers, proofs for resource requests. Uses only the core, APR and jansson; HTTP is the
 * caller's (the CLI uses libcurl).
 *
 * The client reads its token's payload without verifying it: it does not hold the issuer's
 * keys and does not need to, the resource server verifies. What it reads (trace, exp, limit,
 * cnf) only steers the client: which nonce to put in a proof, when to ask for a new token.
 */
#include <string.h>
#include <apr_strings.h>

#include "ekey_client.h"

/* Client-side reading is lenient on size: the server's limit decides. */
#define CLIENT_MAX_TOKEN 65536
#define CLIENT_MAX_ANSWER (CLIENT_MAX_TOKEN + 8192)

static ekey_status_t decode_segment(json_t **out, apr_pool_t *p, const char *s, apr_size_t n,
                                    apr_size_t max_len, const char *what, ekey_error_t *err)
{
    unsigned char *raw;
    apr_size_t rawlen;
    ekey_status_t st;

    if (n == 0)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.peek", "empty %s segment", what);
    if ((st = ekey_b64url_decode(&raw, &rawlen, p, s, n, err)) != EKEY_OK)
        return st;
    if ((st = ekey_json_parse(out, p, (const char *)raw, rawlen, max_len, err)) != EKEY_OK
        && err != NULL)
        apr_cpystrn(err->where, what[0] == 'h' ? "jws.peek.header" : "jws.peek.payload",
                    sizeof(err->where));
    return st;
}

ekey_status_t ekey_jws_peek(json_t **header, json_t **payload, apr_pool_t *p,
                            const char *compact, apr_size_t len, apr_size_t max_len,
                            ekey_error_t *err)
{
    const char *d1, *d2;
    json_t *h = NULL, *c = NULL;
    ekey_status_t st;

    if (header != NULL)
        *header = NULL;
    if (payload != NULL)
        *payload = NULL;
    if (p == NULL || compact == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jws.peek", "missing argument");
    if (max_len == 0)
        max_len = EKEY_MAX_TOKEN_LEN;
    if (len > max_len)
        return ekey_error_set(err, EKEY_E_TOO_LARGE, "jws.peek",
                              "%" APR_SIZE_T_FMT " bytes, limit %" APR_SIZE_T_FMT, len, max_len);
    d1 = memchr(compact, '.', len);
    d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - compact)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (apr_size_t)(d2 + 1 - compact)) != NULL)
        return ekey_error_set(err, EKEY_E_FORMAT, "jws.peek", "not three dot-separated parts");
    if (d2 + 1 == compact + len
        || !ekey_b64url_valid(d2 + 1, len - (apr_size_t)(d2 + 1 - compact)))
        return ekey_error_set(err, EKEY_E_BASE64, "jws.peek", "signature is not base64url");
    if ((st = decode_segment(&h, p, compact, (apr_size_t)(d1 - compact), max_len, "header",
                             err)) != EKEY_OK
        || (st = decode_segment(&c, p, d1 + 1, (apr_size_t)(d2 - d1 - 1), max_len, "payload",
                                err)) != EKEY_OK)
        return st;
    if (header != NULL)
        *header = h;
    if (payload != NULL)
        *payload = c;
    return EKEY_OK;
}

static ekey_status_t read_cnf(ekey_client_token_t *t, json_t *c, ekey_error_t *err)
{
    json_t *cnf;
    ekey_status_t st;

    if ((st = ekey_json_get_object(&cnf, c, "cnf", 1, EKEY_E_CNF, err)) != EKEY_OK
        || (st = ekey_json_get_string(&t->jkt, cnf, "jkt", 0, EKEY_E_CNF, err)) != EKEY_OK
        || (st = ekey_json_get_string(&t->x5t, cnf, "x5t#S256", 0, EKEY_E_CNF, err))
           != EKEY_OK)
        return st;
    if ((t->jkt == NULL) == (t->x5t == NULL))
        return ekey_error_set(err, EKEY_E_CNF, "client.token", "cnf needs one of jkt, x5t#S256");
    t->bind = t->jkt != NULL ? EKEY_BIND_DPOP : EKEY_BIND_MTLS;
    return EKEY_OK;
}

ekey_status_t ekey_client_token_read(ekey_client_token_t **out, apr_pool_t *p,
                                     const char *token, ekey_error_t *err)
{
    ekey_client_token_t *t;
    json_t *c, *cap, *aud;
    int present;
    ekey_status_t st;

    if (out == NULL || p == NULL || token == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.token", "missing argument");
    *out = NULL;
    if ((st = ekey_jws_peek(NULL, &c, p, token, strlen(token), CLIENT_MAX_TOKEN, err))
        != EKEY_OK)
        return st;
    t = apr_pcalloc(p, sizeof(*t));
    t->token = apr_pstrdup(p, token);
    if ((st = ekey_json_get_string(&t->trace, c, "trace", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_string(&t->sub, c, "sub", 0, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_int(&t->iat, NULL, c, "iat", 0, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_int(&t->exp, NULL, c, "exp", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_object(&cap, c, "cap", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_json_get_string(&t->action, cap, "action", 1, EKEY_E_CLAIMS, err))
           != EKEY_OK
        || (st = ekey_json_get_int(&t->limit, &present, cap, "limit", 0, EKEY_E_CLAIMS, err))
           != EKEY_OK
        || (st = read_cnf(t, c, err)) != EKEY_OK)
        return st;
    if (!present)
        t->limit = 1;
    /* aud: a string, or an array whose first string is shown */
    aud = json_object_get(c, "aud");
    if (json_is_array(aud))
        aud = json_array_get(aud, 0);
    t->aud = json_is_string(aud) ? json_string_value(aud) : NULL;
    *out = t;
    return EKEY_OK;
}

ekey_status_t ekey_client_token_parse(ekey_client_token_t **out, apr_pool_t *p,
                                      const char *body, apr_size_t len,
                                      const ekey_jwk_t *key, ekey_error_t *err)
{
    json_t *o;
    const char *token;
    ekey_client_token_t *t;
    ekey_status_t st;

    if (out == NULL || p == NULL || body == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.answer", "missing argument");
    *out = NULL;
    if ((st = ekey_json_parse(&o, p, body, len, CLIENT_MAX_ANSWER, err)) != EKEY_OK
        || (st = ekey_json_get_string(&token, o, "token", 1, EKEY_E_CLAIMS, err)) != EKEY_OK
        || (st = ekey_client_token_read(&t, p, token, err)) != EKEY_OK)
        return st;
    if (key != NULL && t->bind == EKEY_BIND_DPOP
        && strcmp(t->jkt, ekey_jwk_thumbprint(key)) != 0)
        return ekey_error_set(err, EKEY_E_PROOF_JKT, "client.answer",
                              "the token is bound to another key (cnf.jkt)");
    *out = t;
    return EKEY_OK;
}

ekey_status_t ekey_client_error_parse(const char **code, const char **message, apr_pool_t *p,
                                      const char *body, apr_size_t len, ekey_error_t *err)
{
    json_t *o;
    ekey_status_t st;

    if (code == NULL || message == NULL || p == NULL || body == NULL) {
        if (code != NULL)
            *code = NULL;
        if (message != NULL)
            *message = NULL;
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.error", "missing argument");
    }
    *code = *message = NULL;
    if ((st = ekey_json_parse(&o, p, body, len, CLIENT_MAX_ANSWER, err)) != EKEY_OK)
        return st;
    /* a member of another type is treated as absent: this only feeds a message */
    if (ekey_json_get_string(code, o, "error", 0, EKEY_E_JSON, NULL) != EKEY_OK)
        *code = NULL;
    if (ekey_json_get_string(message, o, "message", 0, EKEY_E_JSON, NULL) != EKEY_OK)
        *message = NULL;
    if (*code == NULL && *message == NULL)
        return ekey_error_set(err, EKEY_E_JSON, "client.error", "no error or message member");
    return EKEY_OK;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v)) == 0;
}

ekey_status_t ekey_client_request_body(char **out, apr_pool_t *p,
                                       const ekey_client_request_t *req,
                                       const ekey_jwk_t *key, ekey_error_t *err)
{
    const char *m, *path;
    json_t *o, *cap;
    ekey_status_t st;
    int dpop;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || req == NULL || req->sub == NULL || req->sub[0] == '\0'
        || req->aud == NULL || req->aud[0] == '\0' || req->action == NULL
        || req->limit < 0 || req->ttl < 0
        || (req->bind != EKEY_BIND_DPOP && req->bind != EKEY_BIND_MTLS))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.body",
                              "sub, aud, action, bind required; limit and ttl >= 0");
    dpop = req->bind == EKEY_BIND_DPOP;
    if (dpop && key == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.body", "DPoP needs a key");
    if ((st = ekey_cap_parse(&m, &path, p, req->action, err)) != EKEY_OK)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.body",
                              "action must be METHOD:/path in normal form");
    if ((o = ekey_json_own(p, json_object())) == NULL)
        return ekey_error_set(err, EKEY_E_INTERNAL, "client.body", "out of memory");
    /* the prototype's member order: sub, aud, ttl, bind, cap, jwk; every set is checked
     * (jansson refuses strings that are not UTF-8) */
    if (!set_str(o, "sub", req->sub) || !set_str(o, "aud", req->aud)
        || (req->ttl > 0 && json_object_set_new(o, "ttl", json_integer(req->ttl)) != 0)
        || !set_str(o, "bind", dpop ? "DPoP" : "mTLS")
        || (cap = json_object()) == NULL || json_object_set_new(o, "cap", cap) != 0
        || !set_str(cap, "action", req->action)
        || (req->limit > 0 && json_object_set_new(cap, "limit", json_integer(req->limit)) != 0)
        || (dpop && json_object_set(o, "jwk", ekey_jwk_to_json(key, p, 0)) != 0))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.body",
                              "sub or aud is not valid UTF-8");
    if ((*out = ekey_json_dump(p, o)) == NULL)
        return ekey_error_set(err, EKEY_E_INTERNAL, "client.body", "cannot serialise");
    return EKEY_OK;
}

ekey_status_t ekey_client_mint_proof(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                                     const char *token_url, apr_int64_t now,
                                     ekey_error_t *err)
{
    return ekey_dpop_create(out, p, priv, "POST", token_url, NULL, NULL, now, err);
}

ekey_status_t ekey_client_proof(char **out, apr_pool_t *p, const ekey_jwk_t *priv,
                                const char *method, const char *url, const char *token,
                                apr_int64_t now, ekey_error_t *err)
{
    json_t *c;
    const char *trace;
    ekey_status_t st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || priv == NULL || token == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.proof", "missing argument");
    if ((st = ekey_jws_peek(NULL, &c, p, token, strlen(token), CLIENT_MAX_TOKEN, err))
        != EKEY_OK
        || (st = ekey_json_get_string(&trace, c, "trace", 1, EKEY_E_CLAIMS, err)) != EKEY_OK)
        return st;
    return ekey_dpop_create(out, p, priv, method, url, trace, token, now, err);
}

ekey_status_t ekey_client_action(const char **action, const char **origin, apr_pool_t *p,
                                 const char *method, const char *url, ekey_error_t *err)
{
    char *norm;
    const char *slash, *a, *m, *path;
    ekey_status_t st;

    if (origin != NULL)
        *origin = NULL;
    if (action == NULL || p == NULL || method == NULL || url == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.action", "missing argument");
    *action = NULL;
    if ((st = ekey_url_normalize(&norm, p, url, err)) != EKEY_OK)
        return st;
    /* the normal form always has "scheme://authority/path" */
    slash = strchr(strstr(norm, "://") + 3, '/');
    a = apr_pstrcat(p, method, ":", slash, NULL);
    if (ekey_cap_parse(&m, &path, p, a, err) != EKEY_OK)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "client.action",
                              "method or path not usable in a capability");
    *action = a;
    if (origin != NULL)
        *origin = apr_pstrndup(p, norm, (apr_size_t)(slash - norm));
    return EKEY_OK;
}
