/* test_crypto.c - SHA-256 base64url (ath KAT), constant-time equality, randomness. */
#include "ekey_test.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_hash.h>

static const char *const sha_vectors[][2] = {
    /* RFC 9449 §7.1 Figures 13/14 (POS-14) */
    { "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" },
    /* FIPS 180-2 "" and "abc", in base64url */
    { "", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" },
    { "abc", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
    /* RFC 7638 §3.1: the thumbprint is SHA-256 of this exact member string */
    { "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4"
      "cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArw"
      "l93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
      "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCu"
      "r-kEgU8awapJzKnqDKgw\"}", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" },
};

static void test_sha256(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    size_t i;

    for (i = 0; i < sizeof(sha_vectors) / sizeof(sha_vectors[0]); i++)
        assert_string_equal(ekey_sha256_b64url(p, sha_vectors[i][0], strlen(sha_vectors[i][0])),
                            sha_vectors[i][1]);
    /* Binary input with NULs: the length counts, not the terminator. */
    assert_string_not_equal(ekey_sha256_b64url(p, "a\0b", 3), ekey_sha256_b64url(p, "a", 1));
    assert_int_equal(strlen(ekey_sha256_b64url(p, "x", 1)), EKEY_JKT_LEN);
    assert_null(ekey_sha256_b64url(p, NULL, 3));
    assert_string_equal(ekey_sha256_b64url(p, NULL, 0), sha_vectors[1][1]);
}

static void *hash_thread(void *arg)
{
    apr_pool_t *p = NULL;
    int i, ok = 1;

    (void)arg;
    apr_pool_create(&p, NULL);
    for (i = 0; i < 200; i++)
        ok &= strcmp(ekey_sha256_b64url(p, "abc", 3), sha_vectors[2][1]) == 0;
    apr_pool_destroy(p);
    return ok ? (void *)1 : NULL;
}

static void test_sha256_threads(void **state)
{
    pthread_t t[8];
    void *rv;
    int i;

    (void)state;
    /* The one-time digest fetch is safe when many threads race to it. */
    for (i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_thread, NULL), 0);
    for (i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(t[i], &rv), 0);
        assert_non_null(rv);
    }
}

static void test_ct_streq(void **state)
{
    (void)state;
    assert_true(ekey_ct_streq("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
                              "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
    assert_true(ekey_ct_streq("", ""));
    /* JWK-07: one character's case flipped, padded, prefix, longer. */
    assert_false(ekey_ct_streq("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
                               "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4i"));
    assert_false(ekey_ct_streq("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
                               "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I="));
    assert_false(ekey_ct_streq("abc", "ab"));
    assert_false(ekey_ct_streq("ab", "abc"));
    assert_false(ekey_ct_streq("", "a"));
    assert_false(ekey_ct_streq("xbc", "abc"));
    assert_false(ekey_ct_streq(NULL, "abc"));
    assert_false(ekey_ct_streq("abc", NULL));
    assert_false(ekey_ct_streq(NULL, NULL));
}

static void test_random(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char a[32], b[32], zero[32];
    const char *id, *prev = NULL;
    apr_hash_t *seen = apr_hash_make(p);
    unsigned char raw[EKEY_TRACE_BYTES];
    int i;

    memset(zero, 0, sizeof(zero));
    memset(a, 0, sizeof(a));
    assert_int_equal(ekey_random(a, sizeof(a), NULL), EKEY_OK);
    assert_int_equal(ekey_random(b, sizeof(b), NULL), EKEY_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_int_equal(ekey_random(NULL, 0, NULL), EKEY_OK);
    assert_int_equal(ekey_random(NULL, 4, NULL), EKEY_E_INVALID_ARG);
    for (i = 0; i < 1000; i++) {
        assert_int_equal(ekey_random_id(&id, p, NULL), EKEY_OK);
        assert_int_equal(strlen(id), 22);
        /* canonical: 16 bytes end in one of A Q g w */
        assert_non_null(strchr("AQgw", id[21]));
        assert_int_equal(ekey_b64url_decode_exact(raw, sizeof(raw), id, 22, NULL), EKEY_OK);
        assert_null(apr_hash_get(seen, id, APR_HASH_KEY_STRING));
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
        if (prev != NULL)
            assert_string_not_equal(id, prev);
        prev = id;
    }
    assert_int_equal(ekey_random_id(NULL, p, NULL), EKEY_E_INVALID_ARG);
}

/* Ids come from a per-thread buffer (crypto.c): threads never share one, and a forked
 * child refills before its first id instead of handing out its parent's next ones. */
#define ID_THREADS 4
#define IDS_EACH 200

typedef struct {
    char ids[IDS_EACH][23];
    int failed;
} id_work_t;

static void *make_ids(void *arg)
{
    id_work_t *w = arg;
    apr_pool_t *p;
    const char *id;
    int i;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return (w->failed = 1, NULL);
    for (i = 0; i < IDS_EACH; i++) {
        if (ekey_random_id(&id, p, NULL) != EKEY_OK || strlen(id) != 22)
            w->failed = 1;
        else
            memcpy(w->ids[i], id, 23);
    }
    apr_pool_destroy(p);
    return NULL;
}

static void test_random_id_threads_and_fork(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    apr_hash_t *seen = apr_hash_make(p);
    static id_work_t w[ID_THREADS];
    pthread_t th[ID_THREADS];
    const char *id;
    char child_ids[3][23], parent_ids[3][23];
    int fds[2], i, j, status;
    pid_t pid;

    for (i = 0; i < ID_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, make_ids, &w[i]), 0);
    for (i = 0; i < ID_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_false(w[i].failed);
        for (j = 0; j < IDS_EACH; j++) {
            assert_null(apr_hash_get(seen, w[i].ids[j], APR_HASH_KEY_STRING));
            apr_hash_set(seen, w[i].ids[j], APR_HASH_KEY_STRING, w[i].ids[j]);
        }
    }
    /* the parent's buffer is part used: the child must not take the same next ids */
    assert_int_equal(ekey_random_id(&id, p, NULL), EKEY_OK);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apr_pool_t *cp;

        close(fds[0]);
        if (apr_pool_create(&cp, NULL) != APR_SUCCESS)
            _exit(2);
        for (i = 0; i < 3; i++) {
            if (ekey_random_id(&id, cp, NULL) != EKEY_OK
                || write(fds[1], id, 23) != 23)
                _exit(3);
        }
        _exit(0);
    }
    close(fds[1]);
    for (i = 0; i < 3; i++)
        assert_int_equal(read(fds[0], child_ids[i], 23), 23);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (i = 0; i < 3; i++) {
        assert_int_equal(ekey_random_id(&id, p, NULL), EKEY_OK);
        memcpy(parent_ids[i], id, 23);
    }
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            assert_string_not_equal(child_ids[i], parent_ids[j]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_sha256),
        EKEY_TEST(test_sha256_threads),
        EKEY_TEST(test_ct_streq),
        EKEY_TEST(test_random),
        EKEY_TEST(test_random_id_threads_and_fork),
    };
    return ekey_test_main(tests);
}
