/*
 * mint_token.c - test helper for tests/cli/test_cli.sh: prints an E-Key minted by the core
 * (ekey_token_mint), so the shell test has a real token without an issuer.
 *
 * Usage: mint_token ISSUER_PEM JKT [LIMIT [TTL [ACTION]]]   (ACTION: POST:/payments)
 */
#include <stdio.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_time.h>

#include "ekey.h"

static int mint(apr_pool_t *p, int argc, char **argv)
{
    ekey_jwk_t *key;
    ekey_mint_t m = { 0 };
    ekey_error_t err;
    char *token;

    if (ekey_jwk_load_pem(&key, p, argv[1], 1, &err) != EKEY_OK) {
        fprintf(stderr, "mint_token: %s\n", err.text);
        return 1;
    }
    m.iss = "http://127.0.0.1/stub-issuer";
    m.sub = "agent-123";
    m.aud = "https://api.example.com";
    m.action = argc > 5 ? argv[5] : "POST:/payments";
    m.limit = argc > 3 ? atoi(argv[3]) : 1;
    m.ttl = argc > 4 ? atoi(argv[4]) : 60;
    m.now = (apr_int64_t)apr_time_sec(apr_time_now());
    m.bind = EKEY_BIND_DPOP;
    m.jkt = argv[2];
    if (ekey_token_mint(&token, NULL, p, &m, key, &err) != EKEY_OK) {
        fprintf(stderr, "mint_token: %s: %s\n", ekey_status_name(err.status), err.text);
        return 1;
    }
    puts(token);
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int rc;

    if (argc < 3) {
        fputs("usage: mint_token ISSUER_PEM JKT [LIMIT [TTL [ACTION]]]\n", stderr);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    rc = mint(p, argc, argv);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
