/*
 * cli.h - shared pieces of the `ekey` command: exit codes, messages, HTTP (libcurl), the
 * key file and the token cache. The E-Key logic itself is in ekey_client.h and the core.
 */
#ifndef EKEY_CLI_H
#define EKEY_CLI_H

#include <getopt.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "ekey.h"
#include "ekey_client.h"

/* Exit codes, the same for every subcommand (ekey(1) EXIT STATUS). */
#define CLI_OK       0
#define CLI_USAGE    1      /* bad usage or a local problem (key file, cache, input) */
#define CLI_ISSUER   2      /* the issuer refused or could not be reached */
#define CLI_SERVER   3      /* the resource server answered with a non-2xx status */
#define CLI_NETWORK  4      /* the resource server could not be reached (DNS, TCP, TLS) */
#define CLI_VERIFY   5      /* inspect: the signature did not verify */

/* One line "ekey: <text>" on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* "ekey: <what>: <err->text>" (or the status name when no text); returns code. */
int cli_fail_err(int code, const char *what, const ekey_error_t *err);

/* Strict decimal in [min, max]; 0 on success. */
int cli_parse_int(apr_int64_t *out, const char *s, apr_int64_t min, apr_int64_t max);
/* Seconds since the epoch. */
apr_int64_t cli_now(void);
/* Reads a file ("-": stdin) up to max bytes into pool memory, NUL-terminated. 0 on success. */
int cli_read_file(char **out, apr_size_t *len, apr_pool_t *p, const char *path, apr_size_t max);
#define CLI_MAX_INPUT (64 * 1024)   /* a token, proof or answer read from the user */
/* A token from an argument: the token itself, or "-" (stdin), "@FILE" or a FILE name (what
 * is not shaped like a JWS); surrounding white space and an "EKey " prefix are dropped; an
 * issuer answer (JSON) gives its "token" member. */
int cli_token_arg(const char **out, apr_pool_t *p, const char *arg);
/* 1 if m is a method a capability can name: 1..32 uppercase letters. */
int cli_method_ok(const char *m);
/* j as indented JSON and a newline on stdout. */
int cli_print_json(const json_t *j);
/* The one line for getopt's '?' or ':' (the optstring starts with ':'); returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int opt, char **argv, int ind);
/* A copy of s[0..n) with control characters replaced by '?' (newlines and tabs kept with
 * keep_lines): for text from a server, an issuer or a token shown on the terminal. */
const char *cli_printable(apr_pool_t *p, const char *s, apr_size_t n, int keep_lines);
/* s with the token- and proof-like parts replaced: first 10 characters, "...", length. */
const char *cli_abbrev(apr_pool_t *p, const char *s);

/* ------------------------------------------------------------------ http */

typedef struct {
    const char *cacert;          /* CA bundle for the server certificate */
    const char *cert, *cert_key; /* TLS client certificate (mTLS binding) */
    const char *issuer_user;     /* "user[:password]" for the issuer (HTTP Basic) */
    int insecure;                /* -k: no server certificate check (warned) */
    long timeout;                /* seconds for the whole exchange */
    int verbose;                 /* -v: headers to stderr (credentials abbreviated) */
} cli_http_opts_t;

/* The long options every HTTP subcommand takes, and their handler. */
#define CLI_OPT_CACERT   1001
#define CLI_OPT_CERT     1002
#define CLI_OPT_CERTKEY  1003
#define CLI_OPT_TIMEOUT  1004
#define CLI_OPT_INSECURE 'k'
#define CLI_HTTP_LONGOPTS \
    { "cacert", required_argument, NULL, CLI_OPT_CACERT }, \
    { "cert", required_argument, NULL, CLI_OPT_CERT }, \
    { "cert-key", required_argument, NULL, CLI_OPT_CERTKEY }, \
    { "timeout", required_argument, NULL, CLI_OPT_TIMEOUT }, \
    { "insecure", no_argument, NULL, CLI_OPT_INSECURE }
#define CLI_HTTP_HELP \
    "  --cacert FILE      CA certificates for the server's TLS certificate\n" \
    "  --cert FILE        TLS client certificate (PEM); binds tokens with --bind mTLS\n" \
    "  --cert-key FILE    private key of --cert (default: in the --cert file)\n" \
    "  --timeout N        seconds for each HTTP exchange (default 30)\n" \
    "  -k, --insecure     do not check the server's certificate (testing only; warned)\n"
/* 1 when opt was one of CLI_HTTP_LONGOPTS (and *rc set on a bad value), else 0. */
int cli_http_option(cli_http_opts_t *o, int opt, const char *arg, int *rc);
/* Checks option combinations once parsing is over; prints the -k warning. CLI_OK or code. */
int cli_http_opts_done(cli_http_opts_t *o);

typedef struct {
    const char *method, *url;
    apr_array_header_t *headers;     /* const char *: "Name: value" */
    const char *body;                /* NULL: none */
    apr_size_t body_len;
    int for_issuer;                  /* use issuer_user */
    apr_size_t max_body;             /* answer size limit */
} cli_request_t;

typedef struct {
    long status;
    const char *body;
    apr_size_t body_len;
    apr_table_t *headers;            /* of the final response */
} cli_response_t;

#define CLI_ERRBUF_SIZE 256           /* libcurl's CURL_ERROR_SIZE */

/* Performs one exchange; no redirects are followed (a proof is bound to one URL).
 * CLI_OK with *out set whatever the HTTP status, else one of the codes below with errbuf
 * (CLI_ERRBUF_SIZE) holding the reason. */
#define CLI_HTTP_FAILED   (-1)        /* the exchange failed after the request was sent */
#define CLI_HTTP_NOT_SENT (-2)        /* nothing was sent (name, connection, TLS, setup) */
#define CLI_HTTP_TOO_BIG  (-3)        /* the answer exceeded max_body */
int cli_http_do(cli_response_t **out, apr_pool_t *p, const cli_request_t *rq,
                const cli_http_opts_t *o, char *errbuf);
/* "CODE: message" from a refusal: the JSON body, else WWW-Authenticate, else the reason. */
const char *cli_http_refusal(apr_pool_t *p, const cli_response_t *res);
void cli_http_global(int init);

/* -------------------------------------------------------------- keystore */

/* --key, else $EKEY_KEY, else $XDG_CONFIG_HOME/ekey/key.pem, else ~/.config/ekey/key.pem. */
const char *cli_key_path(apr_pool_t *p, const char *opt);
/* Loads the private key; with create, makes a new one when the file does not exist. */
int cli_key_load(ekey_jwk_t **out, apr_pool_t *p, const char *path, int create);
/* Writes a new key to path (mode 0600, parent directory made 0700); force replaces an
 * existing file atomically. */
int cli_key_create(ekey_jwk_t **out, apr_pool_t *p, const char *path, int force);
/* mkdir -p of the directory part of path, new directories 0700. 0 on success. */
int cli_mkdir_parent(apr_pool_t *p, const char *path);

/* ---------------------------------------------------------------- token */

/* The token-request options shared by `token` and `call`. */
typedef struct {
    const char *issuer;              /* NULL: the subcommand's default */
    const char *sub, *aud, *key;
    apr_int64_t ttl, limit;          /* 0: the issuer's default */
    ekey_bind_t bind;
} cli_token_opts_t;

#define CLI_OPT_ISSUER   2001
#define CLI_OPT_SUB      2002
#define CLI_OPT_AUD      2003
#define CLI_OPT_TTL      2004
#define CLI_OPT_LIMIT    2005
#define CLI_OPT_BIND     2006
#define CLI_OPT_KEY      2007
#define CLI_OPT_USER     'u'
#define CLI_TOKEN_LONGOPTS \
    { "issuer", required_argument, NULL, CLI_OPT_ISSUER }, \
    { "sub", required_argument, NULL, CLI_OPT_SUB }, \
    { "aud", required_argument, NULL, CLI_OPT_AUD }, \
    { "ttl", required_argument, NULL, CLI_OPT_TTL }, \
    { "limit", required_argument, NULL, CLI_OPT_LIMIT }, \
    { "bind", required_argument, NULL, CLI_OPT_BIND }, \
    { "key", required_argument, NULL, CLI_OPT_KEY }, \
    { "issuer-user", required_argument, NULL, CLI_OPT_USER }
#define CLI_DEFAULT_AUD "https://api.example.com"
#define CLI_TOKEN_HELP \
    "  --sub S            subject (default: $EKEY_SUB, else the --issuer-user name,\n" \
    "                     else your login name)\n" \
    "  --aud A            audience (default: $EKEY_AUD, else " CLI_DEFAULT_AUD ")\n" \
    "  --ttl N            lifetime in seconds (default: the issuer's)\n" \
    "  --limit N          uses allowed (cap.limit; default: the issuer's, 1)\n" \
    "  --bind DPoP|mTLS   binding (default DPoP; mTLS binds to --cert, sends no jwk)\n" \
    "  --key FILE         the key pair (default: as for 'ekey keygen')\n" \
    "  -u, --issuer-user USER[:PASSWORD]\n" \
    "                     HTTP Basic credentials for the issuer (password also from\n" \
    "                     $EKEY_ISSUER_PASSWORD)\n"
/* 1 when opt was a token option (*rc set on a bad value), else 0. */
int cli_token_option(cli_token_opts_t *t, cli_http_opts_t *h, int opt, const char *arg,
                     int *rc);
/* Fills the defaults (sub, aud, Basic password) and checks combinations. */
int cli_token_opts_done(cli_token_opts_t *t, cli_http_opts_t *h, apr_pool_t *p);

/* What a subcommand needs to get a token from an issuer. */
typedef struct {
    const char *issuer;              /* the token endpoint URL */
    ekey_client_request_t req;
    const ekey_jwk_t *key;           /* NULL for mTLS */
    cli_http_opts_t *http;
} cli_mint_t;

void cli_mint_prepare(cli_mint_t *m, const cli_token_opts_t *t, const char *action,
                      const ekey_jwk_t *key, cli_http_opts_t *h);
/* POSTs the request; on success *tok and (optional) *raw (the issuer's answer) are set.
 * Failures print their one line and return CLI_ISSUER or CLI_USAGE. */
int cli_mint(ekey_client_token_t **tok, const char **raw, apr_pool_t *p, const cli_mint_t *m);

/* ---------------------------------------------------------------- cache */

typedef struct cli_cache_t cli_cache_t;
typedef struct {
    const char *token, *trace;
    apr_int64_t exp, limit, uses_left;
} cli_cached_t;

/* $XDG_CACHE_HOME/ekey/tokens.json, else ~/.cache/ekey/tokens.json. */
const char *cli_cache_path(apr_pool_t *p);
/* Opens (creating, 0600) and locks the cache; the lock ends with cli_cache_save or p. */
int cli_cache_open(cli_cache_t **out, apr_pool_t *p, const char *path);
/* The entry for key, or 0 when there is none. */
int cli_cache_get(cli_cache_t *c, const char *key, cli_cached_t *e);
void cli_cache_put(cli_cache_t *c, const char *key, const cli_cached_t *e);
/* Writes (dropping long-expired entries) and unlocks. */
int cli_cache_save(cli_cache_t *c);

/* -------------------------------------------------------------- commands */

int cli_cmd_keygen(apr_pool_t *p, int argc, char **argv);
int cli_cmd_token(apr_pool_t *p, int argc, char **argv);
int cli_cmd_proof(apr_pool_t *p, int argc, char **argv);
int cli_cmd_call(apr_pool_t *p, int argc, char **argv);
int cli_cmd_inspect(apr_pool_t *p, int argc, char **argv);

#endif /* EKEY_CLI_H */
