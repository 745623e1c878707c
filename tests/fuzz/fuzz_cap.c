/*
 * fuzz_cap.c - ekey_cap_parse, ekey_cap_match, ekey_cap_pattern_match.
 *
 * Input: "<action>\n<method>\n<request path>\n<pattern>"; missing lines default to
 * "POST", "/payments" and the action itself.
 *
 * Invariants: a parsed action is METHOD ":" PATH with the method in uppercase letters and
 * "-", the path "/"-rooted, and nothing lost or added; it matches its own request (method,
 * path with escapes decoded as httpd decodes r->uri), the exact pattern equal to itself and
 * the "*:" pattern of its path. A match or a pattern match implies the action parses (an
 * invalid capability never grants anything), and a match means the request method is the
 * action's method.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz.h"

static void check_parsed(apr_pool_t *p, const char *action, const char *m, const char *path)
{
    size_t ml = strlen(m), i;

    FUZZ_ASSERT(ml >= 1 && path[0] == '/');
    FUZZ_ASSERT(ml + 1 + strlen(path) == strlen(action));
    FUZZ_ASSERT(memcmp(action, m, ml) == 0 && action[ml] == ':');
    FUZZ_ASSERT(strcmp(action + ml + 1, path) == 0);
    for (i = 0; i < ml; i++)
        FUZZ_ASSERT((m[i] >= 'A' && m[i] <= 'Z') || (i > 0 && m[i] == '-'));
    FUZZ_ASSERT(strpbrk(path, "?#\\*,;") == NULL);
    FUZZ_ASSERT(strstr(path, "//") == NULL && strstr(path, "/./") == NULL
                && strstr(path, "/../") == NULL);
    FUZZ_ASSERT(ekey_cap_match(action, m, fuzz_unescape(p, path), NULL) == EKEY_OK);
    FUZZ_ASSERT(ekey_cap_pattern_match(action, action) == 1);
    FUZZ_ASSERT(ekey_cap_pattern_match(apr_pstrcat(p, "*:", path, NULL), action) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *parts[4], *action, *method, *path, *pattern;
    const char *m = (const char *)"x", *cp = (const char *)"x";
    size_t lens[4];
    int k;
    ekey_error_t err;
    ekey_status_t st, sm;

    fuzz_init();
    p = fuzz_pool();
    k = fuzz_split(data, size, '\n', parts, lens, 4);
    action = apr_pstrmemdup(p, parts[0], lens[0]);
    method = k > 1 ? apr_pstrmemdup(p, parts[1], lens[1]) : "POST";
    path = k > 2 ? apr_pstrmemdup(p, parts[2], lens[2]) : "/payments";
    pattern = k > 3 ? apr_pstrmemdup(p, parts[3], lens[3]) : action;

    fuzz_err_reset(&err);
    st = ekey_cap_parse(&m, &cp, p, action, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK)
        check_parsed(p, action, m, cp);
    else
        FUZZ_ASSERT(st == EKEY_E_CLAIMS && m == NULL && cp == NULL);

    fuzz_err_reset(&err);
    sm = ekey_cap_match(action, method, path, &err);
    fuzz_check_status(sm, &err);
    FUZZ_ASSERT(sm == EKEY_OK || sm == EKEY_E_CAPABILITY);
    if (sm == EKEY_OK)
        FUZZ_ASSERT(st == EKEY_OK && strcmp(method, m) == 0 && path[0] == '/');

    if (ekey_cap_pattern_match(pattern, action))
        FUZZ_ASSERT(st == EKEY_OK);
    apr_pool_destroy(p);
    return 0;
}
