/*
 * cmd_token.c - `ekey token`: ask an issuer for one E-Key and print its JSON answer, for
 * scripts that perform the request themselves (with `ekey proof`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_ISSUER "http://localhost:4000/token"

static const char help[] =
    "Usage: ekey token --action METHOD:/path [--issuer URL] [OPTIONS]\n"
    "Asks the issuer for an E-Key (the prototype's POST /token body with your public JWK and\n"
    "a minting DPoP proof) and prints the issuer's JSON answer unchanged.\n\n"
    "  --action M:/path   the capability, e.g. POST:/payments (required; --cap too)\n"
    "  --issuer URL       the token endpoint (default: $EKEY_ISSUER, else\n"
    "                     " DEFAULT_ISSUER ")\n"
    CLI_TOKEN_HELP
    CLI_HTTP_HELP
    "  -v, --verbose      show the HTTP exchange on stderr (credentials abbreviated)\n"
    "  -h, --help         this help\n\n"
    "Exit status: 0 minted, 1 usage or key error, 2 issuer refused or unreachable.\n";

int cli_cmd_token(apr_pool_t *p, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_TOKEN_LONGOPTS,
        CLI_HTTP_LONGOPTS,
        { "action", required_argument, NULL, 'a' },
        { "cap", required_argument, NULL, 'a' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    cli_http_opts_t http = { 0 };
    cli_token_opts_t t = { 0 };
    cli_mint_t m;
    ekey_jwk_t *key = NULL;
    ekey_client_token_t *tok;
    const char *raw, *action = NULL, *env;
    int c, rc = CLI_OK;

    opterr = 0;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, ":a:u:kvh", longopts, NULL)) != -1) {
        if (cli_token_option(&t, &http, c, optarg, &rc) || cli_http_option(&http, c, optarg, &rc))
            continue;
        switch (c) {
        case 'a': action = optarg; break;
        case 'v': http.verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option("token", c, argv, optind);
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (optind != argc)
        return cli_fail(CLI_USAGE, "token: unexpected argument '%s'", argv[optind]);
    if (action == NULL)
        return cli_fail(CLI_USAGE, "token: --action METHOD:/path is required");
    if ((rc = cli_http_opts_done(&http)) != CLI_OK
        || (rc = cli_token_opts_done(&t, &http, p)) != CLI_OK)
        return rc;
    if (t.issuer == NULL)
        t.issuer = (env = getenv("EKEY_ISSUER")) != NULL && env[0] ? env : DEFAULT_ISSUER;
    if (t.bind == EKEY_BIND_DPOP && (rc = cli_key_load(&key, p, cli_key_path(p, t.key), 0))
                                    != CLI_OK)
        return rc;
    cli_mint_prepare(&m, &t, action, key, &http);
    if ((rc = cli_mint(&tok, &raw, p, &m)) != CLI_OK)
        return rc;
    fputs(raw, stdout);
    if (raw[0] != '\0' && raw[strlen(raw) - 1] != '\n')
        fputc('\n', stdout);
    return CLI_OK;
}
