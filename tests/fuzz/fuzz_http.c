/*
 * fuzz_http.c - ekey_http_parse_authorization (the Authorization field framing).
 *
 * Input: the (possibly merged) field value, up to the first NUL.
 * Invariants: an accepted value is OWS "EKey" (any case) 1*SP token OWS and nothing else;
 * the token points into the value, is 1..max_len bytes of the JWS compact alphabet, and a
 * larger limit accepts it too; a value with a comma is never accepted. Failures are one of
 * the framing statuses and leave *token NULL and *len 0.
 * The same input as a Cache-Control value for ekey_http_private_cache_control: its answer
 * (or the value, when unchanged) needs no further change (so it holds no public or s-maxage
 * and a bare private or no-store), and is at most twice as long plus ", private" (each
 * comma may become ", ").
 */
#include <strings.h>
#include <string.h>

#include "fuzz.h"

#define SMALL_LIMIT 64

static void check_accepted(const char *v, const char *tok, apr_size_t len, apr_size_t max)
{
    const char *s = v + strspn(v, " \t"), *e = tok + len;

    FUZZ_ASSERT(tok > v && tok + len <= v + strlen(v));
    FUZZ_ASSERT(len >= 1 && len <= max);
    FUZZ_ASSERT(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
                >= len);
    FUZZ_ASSERT(strncasecmp(s, "ekey ", 5) == 0);
    FUZZ_ASSERT(s + 5 <= tok && strspn(s + 4, " ") == (size_t)(tok - s - 4));
    FUZZ_ASSERT(strspn(e, " \t") == strlen(e));
    FUZZ_ASSERT(strchr(v, ',') == NULL);
}

static ekey_status_t run(const char *v, apr_size_t max, const char **tok, apr_size_t *len)
{
    ekey_error_t err;
    ekey_status_t st;

    *tok = (const char *)"x";
    *len = 99;
    fuzz_err_reset(&err);
    st = ekey_http_parse_authorization(tok, len, v, max, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK) {
        check_accepted(v, *tok, *len, max != 0 ? max : EKEY_MAX_TOKEN_LEN);
    }
    else {
        FUZZ_ASSERT(*tok == NULL && *len == 0);
        FUZZ_ASSERT(st == EKEY_E_NO_CREDENTIALS || st == EKEY_E_REQUEST
                    || st == EKEY_E_TOO_LARGE || st == EKEY_E_FORMAT);
    }
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *v, *tok, *tok2;
    apr_size_t len, len2;
    ekey_status_t st;

    fuzz_init();
    p = fuzz_pool();
    v = fuzz_cstr(p, data, size);
    st = run(v, SMALL_LIMIT, &tok, &len);
    if (st == EKEY_OK)
        FUZZ_ASSERT(run(v, 0, &tok2, &len2) == EKEY_OK && tok2 == tok && len2 == len);
    else if (st != EKEY_E_TOO_LARGE)
        FUZZ_ASSERT(run(v, 0, &tok2, &len2) == st);
    else
        (void)run(v, 0, &tok2, &len2);
    {
        const char *cc = ekey_http_private_cache_control(p, v), *out = cc != NULL ? cc : v;

        FUZZ_ASSERT(strlen(out) <= 2 * strlen(v) + sizeof(", private") - 1);
        FUZZ_ASSERT(ekey_http_private_cache_control(p, out) == NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
