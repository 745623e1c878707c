/*
 * mint.c - asking an issuer for an E-Key: the prototype's JSON body with our public jwk,
 * and a minting DPoP proof (POST, htu = the token URL, no ath, no nonce) that shows the
 * issuer we hold the key we ask it to bind.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <apr_strings.h>

#include "cli.h"

#define ISSUER_MAX_ANSWER (256u << 10)
#define MAX_TTL   86400
#define MAX_LIMIT 1000000

int cli_token_option(cli_token_opts_t *t, cli_http_opts_t *h, int opt, const char *arg,
                     int *rc)
{
    switch (opt) {
    case CLI_OPT_ISSUER: t->issuer = arg; return 1;
    case CLI_OPT_SUB: t->sub = arg; return 1;
    case CLI_OPT_AUD: t->aud = arg; return 1;
    case CLI_OPT_KEY: t->key = arg; return 1;
    case CLI_OPT_USER: h->issuer_user = arg; return 1;
    case CLI_OPT_TTL:
        if (cli_parse_int(&t->ttl, arg, 1, MAX_TTL) != 0)
            *rc = cli_fail(CLI_USAGE, "--ttl: seconds in 1..%d expected, not '%s'", MAX_TTL, arg);
        return 1;
    case CLI_OPT_LIMIT:
        if (cli_parse_int(&t->limit, arg, 1, MAX_LIMIT) != 0)
            *rc = cli_fail(CLI_USAGE, "--limit: a number in 1..%d expected, not '%s'",
                           MAX_LIMIT, arg);
        return 1;
    case CLI_OPT_BIND:
        if (strcasecmp(arg, "DPoP") == 0)
            t->bind = EKEY_BIND_DPOP;
        else if (strcasecmp(arg, "mTLS") == 0)
            t->bind = EKEY_BIND_MTLS;
        else
            *rc = cli_fail(CLI_USAGE, "--bind: DPoP or mTLS expected, not '%s'", arg);
        return 1;
    default:
        return 0;
    }
}

static const char *login_name(apr_pool_t *p)
{
    const char *v = getenv("USER");
    struct passwd *pw;

    if (v != NULL && v[0] != '\0')
        return v;
    pw = getpwuid(geteuid());
    return pw != NULL ? apr_pstrdup(p, pw->pw_name) : "ekey-client";
}

int cli_token_opts_done(cli_token_opts_t *t, cli_http_opts_t *h, apr_pool_t *p)
{
    const char *v, *colon = h->issuer_user ? strchr(h->issuer_user, ':') : NULL;

    if (t->bind == EKEY_BIND_NONE)
        t->bind = EKEY_BIND_DPOP;
    if (t->bind == EKEY_BIND_MTLS && h->cert == NULL)
        return cli_fail(CLI_USAGE, "--bind mTLS needs --cert (the certificate the token is "
                        "bound to)");
    if (t->aud == NULL)
        t->aud = (v = getenv("EKEY_AUD")) != NULL && v[0] ? v : CLI_DEFAULT_AUD;
    if (t->sub == NULL && (v = getenv("EKEY_SUB")) != NULL && v[0])
        t->sub = v;
    if (t->sub == NULL && h->issuer_user != NULL)
        t->sub = colon ? apr_pstrndup(p, h->issuer_user, (apr_size_t)(colon - h->issuer_user))
                       : h->issuer_user;
    if (t->sub == NULL)
        t->sub = login_name(p);
    /* a password on the command line shows in ps: the environment is the quiet way */
    if (h->issuer_user != NULL && colon == NULL && (v = getenv("EKEY_ISSUER_PASSWORD")) != NULL)
        h->issuer_user = apr_pstrcat(p, h->issuer_user, ":", v, NULL);
    return CLI_OK;
}

void cli_mint_prepare(cli_mint_t *m, const cli_token_opts_t *t, const char *action,
                      const ekey_jwk_t *key, cli_http_opts_t *h)
{
    memset(m, 0, sizeof(*m));
    m->issuer = t->issuer;
    m->req.sub = t->sub;
    m->req.aud = t->aud;
    m->req.action = action;
    m->req.limit = t->limit;
    m->req.ttl = t->ttl;
    m->req.bind = t->bind;
    m->key = key;
    m->http = h;
}

/* 1 when url (normalised) is plain http to a host that is not this machine: Basic
 * credentials would cross the network in clear text. */
static int cleartext_elsewhere(const char *url)
{
    const char *h, *e;

    if (strncmp(url, "http://", 7) != 0)
        return 0;
    h = url + 7;
    if (*h == '[')
        return strncmp(h, "[::1]", 5) != 0;
    e = h + strcspn(h, ":/");
    if (e - h == 9 && strncmp(h, "localhost", 9) == 0)
        return 0;
    /* 127.0.0.0/8 written as an address (not a name such as 127.0.0.1.example) */
    return !(e - h >= 7 && strncmp(h, "127.", 4) == 0
             && strspn(h, "0123456789.") == (size_t)(e - h));
}

/* The issuer's token must be the one asked for: a token for another action, audience or
 * binding, or already expired, would be sent (and cached) for nothing, or for the wrong
 * request. */
static const char *not_as_asked(apr_pool_t *p, const ekey_client_token_t *t,
                                const ekey_client_request_t *rq)
{
    if (t->bind != rq->bind)
        return apr_psprintf(p, "it is bound by %s, not %s", t->bind == EKEY_BIND_MTLS
                            ? "certificate" : "DPoP key", rq->bind == EKEY_BIND_MTLS
                            ? "certificate" : "DPoP key");
    if (t->action == NULL || strcmp(t->action, rq->action) != 0)
        return apr_psprintf(p, "it is for %s, not %s", t->action ? t->action : "(none)",
                            rq->action);
    if (t->aud == NULL || strcmp(t->aud, rq->aud) != 0)
        return apr_psprintf(p, "its audience is %s, not %s", t->aud ? t->aud : "(none)",
                            rq->aud);
    if (t->exp <= cli_now())
        return "it has already expired (check this machine's clock)";
    return NULL;
}

int cli_mint(ekey_client_token_t **tok, const char **raw, apr_pool_t *p, const cli_mint_t *m)
{
    const char *wrong;
    char *body, *proof, *norm, errbuf[CLI_ERRBUF_SIZE];
    int rc;
    ekey_error_t err;
    cli_request_t rq;
    cli_response_t *res;

    *tok = NULL;
    if (ekey_url_normalize(&norm, p, m->issuer, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, apr_psprintf(p, "issuer URL '%s'", m->issuer), &err);
    if (m->http->issuer_user != NULL && cleartext_elsewhere(norm))
        return cli_fail(CLI_USAGE, "refusing to send the issuer credentials (-u) in clear text "
                        "to %s: use an https issuer (or one on this machine)", m->issuer);
    if (ekey_client_request_body(&body, p, &m->req, m->key, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, "cannot build the token request", &err);
    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.url = m->issuer;
    rq.body = body;
    rq.body_len = strlen(body);
    rq.for_issuer = 1;
    rq.max_body = ISSUER_MAX_ANSWER;
    rq.headers = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(rq.headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(rq.headers, const char *) = "Accept: application/json";
    if (m->req.bind == EKEY_BIND_DPOP) {
        if (ekey_client_mint_proof(&proof, p, m->key, m->issuer, cli_now(), &err) != EKEY_OK)
            return cli_fail_err(CLI_USAGE, "cannot make the minting proof", &err);
        APR_ARRAY_PUSH(rq.headers, const char *) = apr_pstrcat(p, "DPoP: ", proof, NULL);
    }
    if ((rc = cli_http_do(&res, p, &rq, m->http, errbuf)) != CLI_OK)
        return cli_fail(CLI_ISSUER, "issuer %s: %s: %s", rc == CLI_HTTP_TOO_BIG
                        ? "answer not usable" : "unreachable", m->issuer, errbuf);
    if (res->status != 200)
        return cli_fail(CLI_ISSUER, "issuer refused: %s", cli_http_refusal(p, res));
    if (ekey_client_token_parse(tok, p, res->body, res->body_len, m->key, &err) != EKEY_OK)
        return cli_fail_err(CLI_ISSUER, "issuer answer not usable", &err);
    if ((wrong = not_as_asked(p, *tok, &m->req)) != NULL) {
        *tok = NULL;
        return cli_fail(CLI_ISSUER, "issuer answer not usable: %s", wrong);
    }
    if (raw != NULL)
        *raw = res->body;
    return CLI_OK;
}
