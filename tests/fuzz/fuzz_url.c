/*
 * fuzz_url.c - ekey_url_normalize (htu) and ekey_origin_normalize (EKeyPublicOrigin).
 *
 * Invariants: normalising is idempotent (the normal form of a normal form is itself), the
 * normal form is an http(s) URL of visible ASCII with a lowercase scheme and host, a path
 * starting with "/", no query, fragment, userinfo, dot segment or lowercase escape; an origin
 * has no path and, as a URL, normalises to itself plus "/". Failures are EKEY_E_INVALID_ARG
 * with no output.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz.h"

/* Scheme, then the authority up to the path: the part that must be lowercase. */
static const char *after_origin(const char *u)
{
    const char *s = strncmp(u, "https://", 8) == 0 ? u + 8 : u + 7;

    return s + strcspn(s, "/");
}

static void check_form(const char *u, int is_origin)
{
    const char *path = after_origin(u), *c;

    FUZZ_ASSERT(strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
    FUZZ_ASSERT(strpbrk(u, "?#\\") == NULL);
    for (c = u; *c; c++)
        FUZZ_ASSERT((unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f);
    for (c = u; c < path; c++)
        FUZZ_ASSERT(!(*c >= 'A' && *c <= 'Z') && *c != '@');
    if (is_origin) {
        FUZZ_ASSERT(*path == '\0');
        return;
    }
    FUZZ_ASSERT(path[0] == '/');
    FUZZ_ASSERT(strstr(path, "/./") == NULL && strstr(path, "/../") == NULL);
    for (c = path; (c = strchr(c, '%')) != NULL; c++)
        FUZZ_ASSERT(strspn(c + 1, "0123456789ABCDEF") >= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in;
    char *u = (char *)"x", *u2 = NULL, *o = (char *)"x", *o2 = NULL, *ou = NULL;
    ekey_error_t err;
    ekey_status_t st;

    fuzz_init();
    p = fuzz_pool();
    in = fuzz_cstr(p, data, size);

    fuzz_err_reset(&err);
    st = ekey_url_normalize(&u, p, in, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK) {
        check_form(u, 0);
        FUZZ_ASSERT(ekey_url_normalize(&u2, p, u, NULL) == EKEY_OK && strcmp(u, u2) == 0);
    }
    else {
        FUZZ_ASSERT(st == EKEY_E_INVALID_ARG && u == NULL);
    }

    fuzz_err_reset(&err);
    st = ekey_origin_normalize(&o, p, in, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK) {
        check_form(o, 1);
        FUZZ_ASSERT(ekey_origin_normalize(&o2, p, o, NULL) == EKEY_OK && strcmp(o, o2) == 0);
        FUZZ_ASSERT(ekey_url_normalize(&ou, p, o, NULL) == EKEY_OK);
        FUZZ_ASSERT(strcmp(ou, apr_pstrcat(p, o, "/", NULL)) == 0);
    }
    else {
        FUZZ_ASSERT(st == EKEY_E_INVALID_ARG && o == NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
