/*
 * main.c - `ekey`: the E-Key client. Dispatches to one subcommand; every resource (APR
 * pool, libcurl, OpenSSL objects) is released on the way out, so leak checkers stay quiet.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <curl/curl.h>
#include <openssl/opensslv.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(apr_pool_t *p, int argc, char **argv);
    const char *what;
} command_t;

static const command_t commands[] = {
    { "keygen", cli_cmd_keygen, "make the key pair tokens are bound to" },
    { "token", cli_cmd_token, "ask an issuer for an E-Key, print its JSON answer" },
    { "proof", cli_cmd_proof, "print a DPoP proof for a request with a token" },
    { "mint", cli_cmd_token, "the same as token" },
    { "call", cli_cmd_call, "get a token and perform an HTTP request with it (like curl)" },
    { "inspect", cli_cmd_inspect, "decode a token or proof; verify it with given keys" },
};

static void usage(FILE *f)
{
    size_t i;

    fputs("Usage: ekey COMMAND [OPTIONS]...\n"
          "The E-Key client: short-lived, capability-scoped tokens bound to your key.\n\n"
          "Commands:\n", f);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
    fputs("\n'ekey COMMAND --help' describes a command; man ekey has the details.\n"
          "Quick start against the demo (scripts/demo.sh):\n"
          "  ekey keygen\n"
          "  ekey call -X POST http://localhost:4000/payments -d '{\"amount\":1000}'\n\n"
          "Exit status: 0 success, 1 usage or local error, 2 issuer refused or unreachable,\n"
          "3 server refused (non-2xx), 4 server unreachable, 5 signature not verified.\n", f);
}

static int version(void)
{
    printf("ekey (%s) %s\nlibcurl %s, %s\n", PACKAGE_NAME, PACKAGE_VERSION,
           curl_version_info(CURLVERSION_NOW)->version, OPENSSL_VERSION_TEXT);
    return CLI_OK;
}

static int dispatch(apr_pool_t *p, int argc, char **argv)
{
    size_t i;

    if (argc < 2)
        return usage(stderr), CLI_USAGE;
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
        return usage(stdout), CLI_OK;
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return version();
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(p, argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown command '%s' (try 'ekey --help')", argv[1]);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int rc;

    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL) != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fputs("ekey: cannot initialise APR\n", stderr);
        return CLI_USAGE;
    }
    cli_http_global(1);
    rc = dispatch(p, argc, argv);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = cli_fail(CLI_USAGE, "cannot write the output");
    apr_pool_destroy(p);
    cli_http_global(0);
    apr_terminate();
    return rc;
}
