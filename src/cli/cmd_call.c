/*
 * cmd_call.c - `ekey call`: curl for E-Key. Gets a token for exactly the capability the
 * request needs (METHOD:/path of the URL), sends it with a fresh DPoP proof, prints the
 * answer. Tokens with uses left are reused from the cache (cache.c); a used single-use token
 * never is. --replay re-sends the last token on purpose, to show the server refusing it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "cli.h"

#define REUSE_MARGIN 5                  /* seconds a reused token must still live */
#define MAX_DATA (64u << 20)

static const char help[] =
    "Usage: ekey call [-X METHOD] URL [-d DATA] [-H 'Name: value']... [OPTIONS]\n"
    "Performs an HTTP request with an E-Key for METHOD:<path of URL> and a fresh DPoP proof,\n"
    "getting the token from the issuer when no usable one is cached. The answer's body goes\n"
    "to stdout; a refusal is one line on stderr with the server's error code and message.\n\n"
    "  -X, --request M    method (default GET, or POST with -d)\n"
    "  -d, --data DATA    request body; @FILE reads a file, @- stdin. Content-Type defaults\n"
    "                     to application/json when DATA starts with { or [\n"
    "  -H, --header H     an extra header 'Name: value' (not Authorization or DPoP)\n"
    "  -v, --verbose      show token steps and headers on stderr (tokens abbreviated)\n"
    "  --issuer URL       the token endpoint (default: $EKEY_ISSUER, else the URL's\n"
    "                     origin + /token)\n"
    CLI_TOKEN_HELP
    "  --token-cache FILE where tokens with uses left are kept (default:\n"
    "                     $XDG_CACHE_HOME/ekey/tokens.json, else ~/.cache/ekey/tokens.json)\n"
    "  --no-cache         always mint, keep nothing\n"
    "  --replay           re-send the last token for this capability (demonstrates the\n"
    "                     server's replay_detected)\n"
    "  --token T          send this token instead of getting one: the token, @FILE, FILE\n"
    "                     or - (stdin); an issuer's JSON answer ('ekey token') is accepted\n"
    CLI_HTTP_HELP
    "  -h, --help         this help\n\n"
    "Exit status: 0 2xx answer, 1 usage or local error, 2 issuer refused or unreachable,\n"
    "3 server refused (non-2xx), 4 server unreachable (DNS, TCP, TLS, timeout).\n";

typedef struct {
    apr_pool_t *p;
    cli_http_opts_t http;
    cli_token_opts_t t;
    const char *method, *url, *data, *cache_path, *action, *cache_key, *token_arg;
    apr_size_t data_len;
    apr_array_header_t *headers;
    int no_cache, replay, has_ctype, cached;   /* cached: the token sent is in the cache */
    const ekey_jwk_t *key;
} call_t;

static int add_header(call_t *c, const char *h)
{
    const char *colon = strchr(h, ':');
    apr_size_t name_len = colon != NULL ? (apr_size_t)(colon - h) : 0;

    /* the name is an RFC 9110 token: " Authorization" or "DPoP :" would slip past the check
     * below and reach the server as a second credential field on a lenient parser */
    if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL
        || strspn(h, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "abcdefghijklmnopqrstuvwxyz") != name_len)
        return cli_fail(CLI_USAGE, "call: -H wants 'Name: value', not '%s'", h);
    if ((colon - h == 13 && strncasecmp(h, "Authorization", 13) == 0)
        || (colon - h == 4 && strncasecmp(h, "DPoP", 4) == 0))
        return cli_fail(CLI_USAGE, "call: ekey sets Authorization and DPoP itself");
    if (colon - h == 12 && strncasecmp(h, "Content-Type", 12) == 0)
        c->has_ctype = 1;
    APR_ARRAY_PUSH(c->headers, const char *) = h;
    return CLI_OK;
}

static int set_data(call_t *c, const char *arg)
{
    char *buf;

    if (arg[0] != '@') {
        c->data = arg;
        c->data_len = strlen(arg);
        return CLI_OK;
    }
    switch (cli_read_file(&buf, &c->data_len, c->p, arg + 1, MAX_DATA)) {
    case 0: break;
    case -2: return cli_fail(CLI_USAGE, "call: %s is over %u bytes", arg + 1, MAX_DATA);
    default: return cli_fail(CLI_USAGE, "call: cannot read %s: %s", arg + 1, strerror(errno));
    }
    c->data = buf;
    return CLI_OK;
}

static int parse(call_t *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_TOKEN_LONGOPTS,
        CLI_HTTP_LONGOPTS,
        { "request", required_argument, NULL, 'X' },
        { "method", required_argument, NULL, 'X' },
        { "data", required_argument, NULL, 'd' },
        { "header", required_argument, NULL, 'H' },
        { "verbose", no_argument, NULL, 'v' },
        { "token-cache", required_argument, NULL, 'C' },
        { "no-cache", no_argument, NULL, 'n' },
        { "replay", no_argument, NULL, 'r' },
        { "token", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int o, rc = CLI_OK;

    opterr = 0;
    while (rc == CLI_OK && (o = getopt_long(argc, argv, ":X:d:H:u:kvh", longopts, NULL)) != -1) {
        if (cli_token_option(&c->t, &c->http, o, optarg, &rc)
            || cli_http_option(&c->http, o, optarg, &rc))
            continue;
        switch (o) {
        case 'X': c->method = optarg; break;
        case 'd': rc = set_data(c, optarg); break;
        case 'H': rc = add_header(c, optarg); break;
        case 'v': c->http.verbose = 1; break;
        case 'C': c->cache_path = optarg; break;
        case 'n': c->no_cache = 1; break;
        case 'r': c->replay = 1; break;
        case 'T': c->token_arg = optarg; break;
        case 'h': fputs(help, stdout); return -1;        /* done, successfully */
        default: return cli_bad_option("call", o, argv, optind);
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (optind + 1 != argc)
        return cli_fail(CLI_USAGE, "call: give exactly one URL (try 'ekey call --help')");
    c->url = argv[optind];
    if (c->method == NULL)
        c->method = c->data != NULL ? "POST" : "GET";
    if (!cli_method_ok(c->method))
        return cli_fail(CLI_USAGE, "call: method '%s' is not 1..32 uppercase letters",
                        c->method);
    if (c->replay && (c->no_cache || c->token_arg != NULL))
        return cli_fail(CLI_USAGE, "call: --replay needs the cache (no --no-cache, --token)");
    if ((rc = cli_http_opts_done(&c->http)) != CLI_OK)
        return rc;
    return cli_token_opts_done(&c->t, &c->http, c->p);
}

static int mint(call_t *c, ekey_client_token_t **tok)
{
    cli_mint_t m;
    int rc;

    cli_mint_prepare(&m, &c->t, c->action, c->key, &c->http);
    if ((rc = cli_mint(tok, NULL, c->p, &m)) == CLI_OK && c->http.verbose)
        fprintf(stderr, "* ekey: minted a token at %s: trace %s, limit %" APR_INT64_T_FMT
                ", expires in %" APR_INT64_T_FMT " s\n", c->t.issuer, (*tok)->trace,
                (*tok)->limit, (*tok)->exp - cli_now());
    return rc;
}

/* The token to send: the cached one (--replay: even when used up), else a new one. */
static int choose_token(call_t *c, const char **token)
{
    cli_cache_t *cache;
    cli_cached_t e;
    ekey_client_token_t *tok;
    int rc, have;

    if (c->no_cache) {
        if ((rc = mint(c, &tok)) == CLI_OK)
            *token = tok->token;
        return rc;
    }
    if ((rc = cli_cache_open(&cache, c->p, c->cache_path)) != CLI_OK)
        return rc;
    have = cli_cache_get(cache, c->cache_key, &e);
    if (c->replay) {
        if (!have)
            return cli_fail(CLI_USAGE, "call: no earlier token for %s to replay", c->action);
        *token = e.token;
        if (c->http.verbose)
            fprintf(stderr, "* ekey: replaying token with trace %s (on purpose)\n", e.trace);
        return CLI_OK;
    }
    if (have && e.uses_left > 0 && e.exp - cli_now() >= REUSE_MARGIN) {
        e.uses_left--;
        if (c->http.verbose)
            fprintf(stderr, "* ekey: reusing cached token: trace %s, %" APR_INT64_T_FMT
                    " of %" APR_INT64_T_FMT " uses left after this one\n", e.trace,
                    e.uses_left, e.limit);
    }
    else {
        if ((rc = mint(c, &tok)) != CLI_OK)
            return rc;
        e.token = tok->token;
        e.trace = tok->trace;
        e.exp = tok->exp;
        e.limit = tok->limit;
        e.uses_left = tok->limit - 1;
    }
    cli_cache_put(cache, c->cache_key, &e);
    *token = e.token;
    c->cached = 1;
    return cli_cache_save(cache);
}

/* The server refused the cached token (401: expired, used up, not trusted, proof refused):
 * the next call gets a new one. */
static void forget_token(call_t *c)
{
    cli_cache_t *cache;
    cli_cached_t e;

    if (cli_cache_open(&cache, c->p, c->cache_path) != CLI_OK)
        return;
    if (cli_cache_get(cache, c->cache_key, &e)) {
        e.uses_left = 0;
        cli_cache_put(cache, c->cache_key, &e);
    }
    (void)cli_cache_save(cache);
}

/* The request never left this machine (name, connection, TLS): the use taken for it from the
 * cache is not spent (ekey(1): a use counts when the request is sent). */
static void give_back(call_t *c, const char *token)
{
    cli_cache_t *cache;
    cli_cached_t e;

    if (cli_cache_open(&cache, c->p, c->cache_path) != CLI_OK)
        return;
    if (cli_cache_get(cache, c->cache_key, &e) && strcmp(e.token, token) == 0
        && e.uses_left < e.limit) {
        e.uses_left++;
        cli_cache_put(cache, c->cache_key, &e);
    }
    (void)cli_cache_save(cache);
}

/* curl's form default, except for what is plainly JSON */
static const char *default_ctype(const char *data)
{
    char first = data[strspn(data, " \t\r\n")];

    return first == '{' || first == '[' ? "Content-Type: application/json"
                                        : "Content-Type: application/x-www-form-urlencoded";
}

static int send_request(call_t *c, const char *token)
{
    cli_request_t rq;
    cli_response_t *res;
    char *proof, errbuf[CLI_ERRBUF_SIZE];
    const char *loc;
    ekey_error_t err;

    memset(&rq, 0, sizeof(rq));
    rq.method = c->method;
    rq.url = c->url;
    rq.body = c->data;
    rq.body_len = c->data_len;
    rq.headers = c->headers;
    if (c->data != NULL && !c->has_ctype)
        APR_ARRAY_PUSH(rq.headers, const char *) = default_ctype(c->data);
    APR_ARRAY_PUSH(rq.headers, const char *) = apr_pstrcat(c->p, "Authorization: EKey ", token,
                                                           NULL);
    if (c->key != NULL) {
        if (ekey_client_proof(&proof, c->p, c->key, c->method, c->url, token, cli_now(), &err)
            != EKEY_OK)
            return cli_fail_err(CLI_USAGE, "call: cannot make the proof", &err);
        APR_ARRAY_PUSH(rq.headers, const char *) = apr_pstrcat(c->p, "DPoP: ", proof, NULL);
    }
    switch (cli_http_do(&res, c->p, &rq, &c->http, errbuf)) {
    case CLI_OK:
        break;
    case CLI_HTTP_TOO_BIG:          /* reached, and it answered: not a network failure */
        return cli_fail(CLI_SERVER, "the answer of %s is not usable: %s", c->url, errbuf);
    case CLI_HTTP_NOT_SENT:
        if (c->cached)
            give_back(c, token);
        /* fall through */
    default:
        return cli_fail(CLI_NETWORK, "cannot reach %s: %s", c->url, errbuf);
    }
    if (res->status >= 200 && res->status < 300) {
        if (fwrite(res->body, 1, res->body_len, stdout) != res->body_len)
            return cli_fail(CLI_USAGE, "cannot write the answer");
        return CLI_OK;
    }
    if (c->http.verbose)
        fprintf(stderr, "%s%s", cli_printable(c->p, res->body, res->body_len, 1),
                res->body_len > 0 && res->body[res->body_len - 1] != '\n' ? "\n" : "");
    if (res->status == 401 && c->cached)
        forget_token(c);
    if (res->status >= 300 && res->status < 400
        && (loc = apr_table_get(res->headers, "Location")) != NULL)
        return cli_fail(CLI_SERVER, "server redirected: %ld to %s (not followed: a proof names "
                        "one URL)", res->status, loc);
    return cli_fail(CLI_SERVER, "server refused: %s", cli_http_refusal(c->p, res));
}

/* --token: the user's own token, sent only with the binding it names: a DPoP-bound one with
 * a proof of our key (another key's token would be refused anyway), an mTLS-bound one with
 * the client certificate. Never as a bare bearer token. */
static int check_given(call_t *c, const char *token)
{
    ekey_client_token_t *t;
    ekey_error_t err;

    if (ekey_client_token_read(&t, c->p, token, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, "call: --token is not usable", &err);
    if (t->bind == EKEY_BIND_MTLS) {
        if (c->http.cert == NULL)
            return cli_fail(CLI_USAGE, "call: --token is bound to a TLS client certificate: "
                            "give it with --cert");
        c->key = NULL;
    }
    else if (c->key == NULL)
        return cli_fail(CLI_USAGE, "call: --token is DPoP-bound: it goes with a proof of its "
                        "key (--key), not with --bind mTLS");
    else if (strcmp(t->jkt, ekey_jwk_thumbprint(c->key)) != 0)
        return cli_fail(CLI_USAGE, "call: --token is bound to another key than %s",
                        cli_key_path(c->p, c->t.key));
    return CLI_OK;
}

int cli_cmd_call(apr_pool_t *p, int argc, char **argv)
{
    call_t c;
    const char *origin, *token = NULL, *env;
    ekey_jwk_t *key;
    ekey_error_t err;
    int rc;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.headers = apr_array_make(p, 8, sizeof(const char *));
    if ((rc = parse(&c, argc, argv)) != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (ekey_client_action(&c.action, &origin, p, c.method, c.url, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, apr_psprintf(p, "call: URL '%s'", c.url), &err);
    if (c.t.issuer == NULL)
        c.t.issuer = (env = getenv("EKEY_ISSUER")) != NULL && env[0] ? env
                     : apr_pstrcat(p, origin, "/token", NULL);
    if (c.cache_path == NULL && !c.no_cache)
        c.cache_path = cli_cache_path(p);
    if (c.t.bind == EKEY_BIND_DPOP) {
        /* a missing key is made, unless a token for some key was given */
        if ((rc = cli_key_load(&key, p, cli_key_path(p, c.t.key), c.token_arg == NULL))
            != CLI_OK)
            return rc;
        c.key = key;
    }
    /* everything that decides what a token is and where it may go: another origin or
     * --limit asks for another one */
    c.cache_key = apr_psprintf(p, "%s %s %s %s %s %s limit=%" APR_INT64_T_FMT, c.t.issuer,
                               c.t.aud, origin, c.action, c.t.sub,
                               c.key ? ekey_jwk_thumbprint(c.key) : c.http.cert, c.t.limit);
    if (c.token_arg != NULL) {
        if ((rc = cli_token_arg(&token, p, c.token_arg)) == CLI_OK)
            rc = check_given(&c, token);
    }
    else
        rc = choose_token(&c, &token);
    if (rc != CLI_OK)
        return rc;
    return send_request(&c, token);
}
