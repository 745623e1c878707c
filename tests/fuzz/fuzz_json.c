/*
 * fuzz_json.c - ekey_json_parse and the typed getters.
 *
 * Invariants: an accepted document is an object no deeper than EKEY_MAX_JSON_DEPTH, with no
 * NUL byte, within the size limit, and survives dump + re-parse unchanged; a rejection is
 * EKEY_E_JSON or EKEY_E_TOO_LARGE with no output; a limit one byte under the input's length
 * is always EKEY_E_TOO_LARGE. Each getter succeeds exactly on its JSON type, returns the
 * member's own value, reports absent members as the caller's status only when required.
 * The quick reader (json_fast.c) accepts only what jansson accepts, with an equal value.
 */
#include <string.h>

#include "fuzz.h"
#include "ekey_cache.h"

#define MAX_MEMBERS 64

static int depth(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    int d = 0, c;

    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
            if ((c = depth(v)) > d)
                d = c;
        return d + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            if ((c = depth(v)) > d)
                d = c;
        return d + 1;
    }
    return 0;
}

static void check_member(json_t *obj, const char *key, json_t *v, ekey_status_t cls)
{
    const char *s = (const char *)"x";
    json_t *o = (json_t *)"x";
    apr_int64_t n = 7;
    int present = 9;
    ekey_error_t err;
    ekey_status_t st;

    fuzz_err_reset(&err);
    st = ekey_json_get_string(&s, obj, key, 1, cls, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(json_is_string(v) ? st == EKEY_OK && s == json_string_value(v)
                                  : st == cls && s == NULL);
    fuzz_err_reset(&err);
    st = ekey_json_get_int(&n, &present, obj, key, 0, cls, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(json_is_integer(v)
                ? st == EKEY_OK && present == 1 && n == (apr_int64_t)json_integer_value(v)
                : st == cls && present == 0 && n == 0);
    fuzz_err_reset(&err);
    st = ekey_json_get_object(&o, obj, key, 1, cls, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(json_is_object(v) ? st == EKEY_OK && o == v : st == cls && o == NULL);
}

static void check_absent(json_t *obj, ekey_status_t cls)
{
    static const char missing[] = "\x01 not a member \x01";
    const char *s = (const char *)"x";
    apr_int64_t n = 7;
    int present = 9;
    ekey_error_t err;
    ekey_status_t st;

    if (json_object_get(obj, missing) != NULL)
        return;
    fuzz_err_reset(&err);
    st = ekey_json_get_string(&s, obj, missing, 1, cls, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(st == cls && s == NULL);
    st = ekey_json_get_string(&s, obj, missing, 0, cls, NULL);
    FUZZ_ASSERT(st == EKEY_OK && s == NULL);
    st = ekey_json_get_int(&n, &present, obj, missing, 0, cls, NULL);
    FUZZ_ASSERT(st == EKEY_OK && present == 0);
}

/* Getters over every member (a bounded number) and one level of nested objects. */
static void check_getters(json_t *obj, int level)
{
    static const ekey_status_t classes[] = { EKEY_E_CLAIMS, EKEY_E_PROOF, EKEY_E_JWK };
    const char *k;
    json_t *v;
    int i = 0;

    check_absent(obj, classes[level % 3]);
    json_object_foreach(obj, k, v) {
        if (i++ >= MAX_MEMBERS)
            break;
        check_member(obj, k, v, classes[(i + level) % 3]);
        if (level == 0 && json_is_object(v))
            check_getters(v, 1);
    }
}

static void check_accepted(apr_pool_t *p, json_t *j, const uint8_t *data, size_t size)
{
    json_t *again = NULL;
    char *dump;

    FUZZ_ASSERT(json_is_object(j));
    FUZZ_ASSERT(depth(j) <= EKEY_MAX_JSON_DEPTH);
    FUZZ_ASSERT(size <= EKEY_MAX_TOKEN_LEN);
    FUZZ_ASSERT(size == 0 || memchr(data, '\0', size) == NULL);
    dump = ekey_json_dump(p, j);
    FUZZ_ASSERT(dump != NULL);
    FUZZ_ASSERT(ekey_json_parse(&again, p, dump, strlen(dump), strlen(dump) + 1, NULL)
                == EKEY_OK);
    FUZZ_ASSERT(json_equal(j, again));
    check_getters(j, 0);
}

/* What json.c reads without jansson, jansson reads to the same value. */
static void check_fast(const uint8_t *data, size_t size)
{
    json_t *fast = ekey_json_fast((const char *)data, size), *slow;

    if (fast == NULL)
        return;
    slow = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_ASSERT(slow != NULL && json_equal(fast, slow));
    json_decref(slow);
    json_decref(fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *j = (json_t *)"x";
    ekey_error_t err;
    ekey_status_t st;

    fuzz_init();
    check_fast(data, size);
    p = fuzz_pool();
    fuzz_err_reset(&err);
    st = ekey_json_parse(&j, p, (const char *)data, size, 0, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK)
        check_accepted(p, j, data, size);
    else
        FUZZ_ASSERT((st == EKEY_E_JSON || st == EKEY_E_TOO_LARGE) && j == NULL);
    if (size > 1) {                 /* (a max_len of 0 means the default limit) */
        st = ekey_json_parse(&j, p, (const char *)data, size, size - 1, NULL);
        FUZZ_ASSERT(st == EKEY_E_TOO_LARGE && j == NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
