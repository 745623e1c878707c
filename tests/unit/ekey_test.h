/*
 * ekey_test.h - tiny shared helpers for the cmocka unit tests.
 *
 * Usage:
 *   static int setup(void **state)    { return ekey_test_setup(state); }
 *   static int teardown(void **state) { return ekey_test_teardown(state); }
 *   ... apr_pool_t *p = EKEY_TEST_POOL(state);
 *   cmocka_unit_test_setup_teardown(test_x, setup, teardown)
 * or simply EKEY_TEST(test_x) in the test table.
 *
 * ekey_test_main() wraps cmocka_run_group_tests with apr_initialize/apr_terminate.
 */
#ifndef EKEY_TEST_H
#define EKEY_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "ekey.h"

#ifndef EKEY_SRCDIR
#define EKEY_SRCDIR "."
#endif
/* Fixture directory: tests/unit/vectors in the source tree. */
#define EKEY_VECTORS EKEY_SRCDIR "/tests/unit/vectors"

/* A fresh pool per test, destroyed after it: cleanups (json_decref, EVP_PKEY_free) run. */
static inline int ekey_test_setup(void **state)
{
    apr_pool_t *p = NULL;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static inline int ekey_test_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    *state = NULL;
    return 0;
}

#define EKEY_TEST_POOL(state) ((apr_pool_t *)*(state))
#define EKEY_TEST(fn) cmocka_unit_test_setup_teardown(fn, ekey_test_setup, ekey_test_teardown)

/* Runs a cmocka test table with APR initialised around it. */
#define ekey_test_main(tests) ekey_test_run_((tests), #tests, \
        sizeof(tests) / sizeof((tests)[0]))
static inline int ekey_test_run_(const struct CMUnitTest *tests, const char *name, size_t n)
{
    int rc;
    if (apr_initialize() != APR_SUCCESS)
        return 1;
    rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    apr_terminate();
    return rc;
}

/* Reads a fixture file (relative to tests/unit/vectors, or absolute) into pool memory,
 * NUL-terminated. Fails the test if it cannot be read. *len may be NULL. */
static inline char *ekey_test_read_file(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *path = name[0] == '/' ? name : apr_pstrcat(p, EKEY_VECTORS, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n = 0;

    /* fail_msg longjmps out of the test; the returns only keep compilers informed. */
    if (f == NULL) {
        fail_msg("cannot open fixture %s", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        fail_msg("cannot size fixture %s", path);
        return NULL;
    }
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        fail_msg("cannot read fixture %s", path);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = (apr_size_t)n;
    return buf;
}

/* Asserts a call returned the expected status, naming both on failure. */
#define assert_status(expr, want) do { \
        ekey_status_t got_ = (expr); \
        if (got_ != (want)) \
            fail_msg("%s: got %s, want %s", #expr, ekey_status_name(got_), \
                     ekey_status_name(want)); \
    } while (0)

#endif /* EKEY_TEST_H */
