/* test_rtable.c - the replay table: limits, jti memory, full table, expiry, attach, and
 * exact totals under contention from several processes. */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ekey_test.h"

#define NOW 1700000000

static ekey_rtable_t *make_table(apr_pool_t *p, apr_size_t cap, void **mem)
{
    ekey_rtable_t *t;

    *mem = apr_pcalloc(p, ekey_rtable_size(cap));
    assert_status(ekey_rtable_attach(&t, p, *mem, cap, 1, NULL), EKEY_OK);
    return t;
}

static ekey_consume_t req(const char *trace, apr_int64_t limit, const char *jti)
{
    ekey_consume_t c = { trace, limit, NOW + 60, jti, "jkt-A", NOW + 90, NOW };
    return c;
}

static void test_limit_one(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    ekey_consume_t c = req("trace-1", 1, "j1");
    apr_int64_t left = -1;

    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    assert_int_equal(left, 0);
    c.jti = "j2";
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_REPLAY);
    c.jti = NULL;             /* mTLS: no jti at all */
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_REPLAY);
}

static void test_limit_three(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    const char *jtis[] = { "a", "b", "c", "d" };
    apr_int64_t left;
    int i;

    for (i = 0; i < 3; i++) {
        ekey_consume_t c = req("trace-3", 3, jtis[i]);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
        assert_int_equal(left, 2 - i);
    }
    {
        ekey_consume_t c = req("trace-3", 3, jtis[3]);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_REPLAY);
    }
}

static void test_jti_replay(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    ekey_consume_t c = req("trace-j", 5, "same-jti");
    apr_int64_t left;
    ekey_error_t err;

    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    assert_status(ekey_rtable_consume(t, &c, &left, &err), EKEY_E_JTI_REPLAY);
    assert_int_equal(err.status, EKEY_E_JTI_REPLAY);
    /* The refused proof did not use anything: the next fresh proof gets use 2 of 5. */
    c.jti = "other";
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    assert_int_equal(left, 3);
    /* The same jti under another key is another proof (jti is namespaced by jkt). */
    c.jti = "same-jti";
    c.jkt = "jkt-B";
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
}

static void test_full_table(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 8, &mem);
    ekey_rtable_stats_t s;
    apr_int64_t left;
    char name[16];
    int i;

    for (i = 0; i < 8; i++) {          /* mTLS traces: one entry each */
        ekey_consume_t c = req(NULL, 3, NULL);
        snprintf(name, sizeof(name), "t%d", i);
        c.trace = apr_pstrdup(EKEY_TEST_POOL(state), name);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    }
    {
        ekey_consume_t c = req("new", 1, NULL);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_STORE_FULL);
    }
    /* A trace already in the table keeps its count and its remaining uses. */
    {
        ekey_consume_t c = req("t0", 3, NULL);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
        assert_int_equal(left, 1);
    }
    ekey_rtable_stats(t, NOW, &s);
    assert_int_equal(s.capacity, 8);
    assert_int_equal(s.live, 8);
    assert_int_equal(s.full_events, 1);
    /* After expiry every slot is reusable. */
    {
        ekey_consume_t c = req("new", 1, NULL);
        c.now = NOW + 61;
        c.trace_expires = NOW + 120;
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
        c.trace = "t0";     /* t0 expired: it starts over as a new entry */
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    }
}

static void test_full_needs_both_slots(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 8, &mem);
    apr_int64_t left;
    char name[16];
    int i;

    for (i = 0; i < 7; i++) {
        ekey_consume_t c = req(NULL, 1, NULL);
        snprintf(name, sizeof(name), "t%d", i);
        c.trace = apr_pstrdup(EKEY_TEST_POOL(state), name);
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    }
    /* One free slot, two needed (trace + jti): refused, and nothing was written. */
    {
        ekey_consume_t c = req("x", 1, "jx");
        ekey_rtable_stats_t s;
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_STORE_FULL);
        ekey_rtable_stats(t, NOW, &s);
        assert_int_equal(s.live, 7);
        c.jti = NULL;
        assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    }
}

static void test_attach(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 64, &mem), *t2;
    ekey_consume_t c = req("keep", 2, NULL);
    apr_int64_t left;

    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_OK);
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_OK);
    assert_status(ekey_rtable_consume(t2, &c, &left, NULL), EKEY_OK);
    assert_int_equal(left, 0);
    assert_status(ekey_rtable_consume(t2, &c, &left, NULL), EKEY_E_REPLAY);
    assert_status(ekey_rtable_attach(&t2, p, mem, 65, 0, NULL), EKEY_E_INVALID_ARG);
    assert_null(t2);
    memset(mem, 0x5a, 8);
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_E_INVALID_ARG);
}

static void test_bad_args(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 16, &mem), *t2;
    apr_int64_t left;
    ekey_consume_t c = req("x", 0, NULL);
    char longjti[600];

    assert_int_equal(ekey_rtable_size(0), 0);
    assert_int_equal(ekey_rtable_size((apr_size_t)-1 / 8), 0);
    assert_true(ekey_rtable_size(8) > 8 * 16);
    assert_status(ekey_rtable_attach(&t2, EKEY_TEST_POOL(state), NULL, 16, 1, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_INVALID_ARG);
    c.limit = 1;
    c.trace_expires = NOW;        /* already expired: nothing to remember */
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_INVALID_ARG);
    c.trace_expires = NOW + 10;
    memset(longjti, 'a', sizeof(longjti) - 1);
    longjti[sizeof(longjti) - 1] = '\0';
    c.jti = longjti;
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_INVALID_ARG);
}

/* Four processes race on one limit-5 trace in shared memory under a process-shared lock:
 * exactly five uses succeed in total, whatever the interleaving. */
typedef struct { pthread_mutex_t lock; int ok; } shared_t;

static void test_processes(void **state)
{
    apr_size_t cap = 4096, bytes = ekey_rtable_size(cap);
    shared_t *sh = mmap(NULL, sizeof(shared_t) + bytes, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    ekey_rtable_t *t;
    int i, round;

    assert_true(sh != MAP_FAILED);
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->lock, &a);
    assert_status(ekey_rtable_attach(&t, EKEY_TEST_POOL(state), sh + 1, cap, 1, NULL), EKEY_OK);
    for (round = 0; round < 5; round++) {
        char trace[16];
        snprintf(trace, sizeof(trace), "race%d", round);
        sh->ok = 0;
        for (i = 0; i < 4; i++) {
            if (fork() == 0) {
                int k;
                for (k = 0; k < 50; k++) {
                    char jti[32];
                    apr_int64_t left;
                    ekey_consume_t c = req(trace, 5, jti);
                    snprintf(jti, sizeof(jti), "r%d-p%d-%d", round, i, k);
                    pthread_mutex_lock(&sh->lock);
                    ekey_status_t st = ekey_rtable_consume(t, &c, &left, NULL);
                    if (st == EKEY_OK)
                        sh->ok++;
                    else if (st != EKEY_E_REPLAY)
                        fprintf(stderr, "child got %s\n", ekey_status_name(st));
                    pthread_mutex_unlock(&sh->lock);
                }
                _exit(0);
            }
        }
        for (i = 0; i < 4; i++)
            wait(NULL);
        assert_int_equal(sh->ok, 5);
    }
    munmap(sh, sizeof(shared_t) + bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_limit_one),
        EKEY_TEST(test_limit_three),
        EKEY_TEST(test_jti_replay),
        EKEY_TEST(test_full_table),
        EKEY_TEST(test_full_needs_both_slots),
        EKEY_TEST(test_attach),
        EKEY_TEST(test_bad_args),
        EKEY_TEST(test_processes),
    };
    return ekey_test_main(tests);
}
