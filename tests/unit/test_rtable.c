/* test_rtable.c - the replay table: SipHash vectors, limits, jti memory, full table, expiry
 * reuse inside a probe chain, attach, bad arguments, and exact totals under contention from
 * several processes.
 *
 * White-box: rtable.c is compiled into this program so the SipHash-2-4-128 known-answer test
 * can reach the static hash; the linker then takes no rtable object from libekey. */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ekey_test.h"
#include "rtable.c"

#define NOW 1700000000

static ekey_rtable_t *make_table(apr_pool_t *p, apr_size_t cap, void **mem)
{
    ekey_rtable_t *t = NULL;

    *mem = apr_pcalloc(p, ekey_rtable_size(cap));
    assert_status(ekey_rtable_attach(&t, p, *mem, cap, 1, NULL), EKEY_OK);
    assert_non_null(t);
    return t;
}

static ekey_consume_t req(const char *trace, apr_int64_t limit, const char *jti)
{
    ekey_consume_t c = { trace, limit, NOW + 60, jti, "jkt-A", NOW + 90, NOW };
    return c;
}

static ekey_status_t consume(ekey_rtable_t *t, const ekey_consume_t *c, apr_int64_t *left)
{
    apr_int64_t dummy;
    return ekey_rtable_consume(t, c, left != NULL ? left : &dummy, NULL);
}

/* ------------------------------------------------------------ SipHash KAT */

/* vectors_sip128 of the SipHash reference code (key 00..0f, message 00..len-1). */
static const struct { int len; const char *hex; } sip128[] = {
    { 0, "a3817f04ba25a8e66df67214c7550293" }, { 1, "da87c1d86b99af44347659119b22fc45" },
    { 2, "8177228da4a45dc7fca38bdef60affe4" }, { 3, "9c70b60c5267a94e5f33b6b02985ed51" },
    { 4, "f88164c12d9c8faf7d0f6e7c7bcd5579" }, { 5, "1368875980776f8854527a07690e9627" },
    { 6, "14eeca338b208613485ea0308fd7a15e" }, { 7, "a1f1ebbed8dbc153c0b84aa61ff08239" },
    { 8, "3b62a9ba6258f5610f83e264f31497b4" }, { 9, "264499060ad9baabc47f8b02bb6d71ed" },
    { 62, "5853542321f567a005d547a4f04759bd" }, { 63, "5150d1772f50834a503e069a973fbd7c" },
};

static void test_siphash_vectors(void **state)
{
    unsigned char key[16], msg[64];
    size_t i, j;

    (void)state;
    for (i = 0; i < 16; i++)
        key[i] = (unsigned char)i;
    for (i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    for (i = 0; i < sizeof(sip128) / sizeof(sip128[0]); i++) {
        int step;
        for (step = 1; step <= 9; step += 4) {      /* one shot and odd pieces alike */
            apr_uint64_t o[2];
            char hex[33];
            int off = 0;
            sip_t s;

            sip_init(&s, load64(key), load64(key + 8));
            while (off < sip128[i].len) {
                int n = sip128[i].len - off < step ? sip128[i].len - off : step;
                sip_update(&s, msg + off, (apr_size_t)n);
                off += n;
            }
            sip_final(&s, o);
            for (j = 0; j < 16; j++)
                snprintf(hex + 2 * j, 3, "%02x", (unsigned)((o[j / 8] >> (8 * (j % 8))) & 0xff));
            assert_string_equal(hex, sip128[i].hex);
        }
    }
}

/* --------------------------------------------------------------- semantics */

static void test_limit_one(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    ekey_consume_t c = req("trace-1", 1, "j1");
    apr_int64_t left = -1;
    ekey_error_t err;

    assert_status(consume(t, &c, &left), EKEY_OK);
    assert_int_equal(left, 0);
    c.jti = "j2";                   /* a fresh proof: the token is used up */
    left = 7;
    assert_status(ekey_rtable_consume(t, &c, &left, &err), EKEY_E_REPLAY);
    assert_int_equal(err.status, EKEY_E_REPLAY);
    assert_int_equal(left, 0);
    /* The refused proof's jti was remembered all the same. */
    assert_status(consume(t, &c, &left), EKEY_E_JTI_REPLAY);
    c.jti = NULL;                   /* mTLS: no jti at all */
    assert_status(consume(t, &c, &left), EKEY_E_REPLAY);
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
        assert_status(consume(t, &c, &left), EKEY_OK);
        assert_int_equal(left, 2 - i);
    }
    {
        ekey_consume_t c = req("trace-3", 3, jtis[3]);
        assert_status(consume(t, &c, &left), EKEY_E_REPLAY);
        c = req("trace-3b", 3, NULL);       /* another token is counted on its own */
        assert_status(consume(t, &c, &left), EKEY_OK);
        assert_int_equal(left, 2);
    }
}

static void test_jti_replay(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    ekey_consume_t c = req("trace-j", 5, "same-jti");
    apr_int64_t left;
    ekey_error_t err;

    assert_status(consume(t, &c, &left), EKEY_OK);
    assert_status(ekey_rtable_consume(t, &c, &left, &err), EKEY_E_JTI_REPLAY);
    assert_int_equal(err.status, EKEY_E_JTI_REPLAY);
    /* A seen jti with another token is a replay too (jti is per key, not per token). */
    c.trace = "trace-k";
    assert_status(consume(t, &c, &left), EKEY_E_JTI_REPLAY);
    /* The refused proofs used nothing: the next fresh proof gets use 2 of 5. */
    c.trace = "trace-j";
    c.jti = "other";
    assert_status(consume(t, &c, &left), EKEY_OK);
    assert_int_equal(left, 3);
    /* The same jti under another key is another proof (jti is namespaced by jkt). */
    c.jti = "same-jti";
    c.jkt = "jkt-B";
    assert_status(consume(t, &c, &left), EKEY_OK);
    assert_int_equal(left, 2);
    /* The jkt/jti boundary is not ambiguous: ("ab", "c") is not ("a", "bc"). */
    c.jkt = "ab";
    c.jti = "c";
    assert_status(consume(t, &c, &left), EKEY_OK);
    c.jkt = "a";
    c.jti = "bc";
    assert_status(consume(t, &c, &left), EKEY_OK);
    /* After its window the jti may come back (a later proof: its own window), but never a
     * proof whose window has passed by the table's time */
    c.now = NOW + 91;
    c.trace_expires = NOW + 120;
    assert_status(consume(t, &c, &left), EKEY_E_PROOF_IAT);
    c.jti_expires = NOW + 181;
    assert_status(consume(t, &c, &left), EKEY_OK);
}

static void fill(ekey_rtable_t *t, apr_pool_t *p, int n, apr_int64_t limit, apr_int64_t exp)
{
    int i;

    for (i = 0; i < n; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "t%d", i), limit, NULL);
        c.trace_expires = exp;
        assert_status(consume(t, &c, NULL), EKEY_OK);
    }
}

static void test_full_table(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 8, &mem);
    ekey_rtable_stats_t s;
    apr_int64_t left;
    ekey_error_t err;

    fill(t, p, 8, 3, NOW + 60);             /* mTLS traces: one entry each */
    {
        ekey_consume_t c = req("new", 1, NULL);
        assert_status(ekey_rtable_consume(t, &c, &left, &err), EKEY_E_STORE_FULL);
        assert_int_equal(err.status, EKEY_E_STORE_FULL);
        c.jti = "jx";
        assert_status(consume(t, &c, &left), EKEY_E_STORE_FULL);
    }
    /* A trace already in the table keeps its count and its remaining uses. */
    {
        ekey_consume_t c = req("t0", 3, NULL);
        assert_status(consume(t, &c, &left), EKEY_OK);
        assert_int_equal(left, 1);
    }
    ekey_rtable_stats(t, NOW, &s);
    assert_int_equal(s.capacity, 8);
    assert_int_equal(s.live, 8);
    assert_int_equal(s.full_events, 2);
    assert_int_equal(s.allowed, 9);
    /* After expiry every slot is reusable. */
    {
        ekey_consume_t c = req("new", 1, NULL);
        c.now = NOW + 60;                   /* expires <= now: expired */
        c.trace_expires = NOW + 120;
        assert_status(consume(t, &c, &left), EKEY_OK);
        c.trace = "t0";                     /* t0 expired: it starts over as a new entry */
        c.limit = 3;
        assert_status(consume(t, &c, &left), EKEY_OK);
        assert_int_equal(left, 2);
    }
    ekey_rtable_stats(t, NOW + 60, &s);
    assert_int_equal(s.live, 2);
}

static void test_full_needs_both_slots(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 8, &mem);
    ekey_consume_t c = req("x", 1, "jx");
    ekey_rtable_stats_t s;
    apr_int64_t left;

    fill(t, p, 7, 2, NOW + 60);
    /* One free slot, two needed (trace + jti): refused, and nothing was written. */
    assert_status(consume(t, &c, &left), EKEY_E_STORE_FULL);
    ekey_rtable_stats(t, NOW, &s);
    assert_int_equal(s.live, 7);
    assert_int_equal(s.allowed, 7);
    /* The same proof is not "seen": it may still be used once there is room. */
    c.jti = NULL;
    assert_status(consume(t, &c, &left), EKEY_OK);
    c.trace = "t0";                         /* a live trace needs only the jti slot */
    c.limit = 2;
    c.jti = "jy";
    assert_status(consume(t, &c, &left), EKEY_E_STORE_FULL);
}

/* Expired slots earlier in a key's probe chain, free or reused by other keys, never hide a
 * live key behind them: with 8 slots every key's window is the whole table. */
static void test_expired_slots_in_chain(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 8, &mem);
    int i, round;

    for (i = 0; i < 8; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "t%d", i), 1, NULL);
        c.trace_expires = i < 4 ? NOW + 10 : NOW + 100;
        assert_status(consume(t, &c, NULL), EKEY_OK);
    }
    for (round = 0; round < 2; round++) {
        for (i = 4; i < 8; i++) {           /* the live ones are still found: replays */
            ekey_consume_t c = req(apr_psprintf(p, "t%d", i), 1, NULL);
            c.now = NOW + 20;
            assert_status(consume(t, &c, NULL), EKEY_E_REPLAY);
        }
        for (i = 0; i < 4; i++) {           /* round 0 reuses the expired slots */
            ekey_consume_t c = req(apr_psprintf(p, "n%d", i), 1, NULL);
            c.now = NOW + 20;
            c.trace_expires = NOW + 100;
            assert_status(consume(t, &c, NULL), round == 0 ? EKEY_OK : EKEY_E_REPLAY);
        }
    }
    {
        ekey_consume_t c = req("one-more", 1, NULL);
        c.now = NOW + 20;
        assert_status(consume(t, &c, NULL), EKEY_E_STORE_FULL);
    }
    /* t0's slot was reused at NOW + 20: a request that brings an older clock (NOW, read
     * before another's; or a client that sent its header fields slowly) must not find
     * t0 "never seen" and count it from zero: the table's time does not go back */
    for (i = 0; i < 4; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "t%d", i), 1, NULL);
        c.trace_expires = NOW + 10;
        assert_status(consume(t, &c, NULL), EKEY_E_EXPIRED);
    }
    {   /* and a live entry is still a replay for an old clock */
        ekey_consume_t c = req("t5", 1, NULL);
        assert_status(consume(t, &c, NULL), EKEY_E_REPLAY);
    }
    {   /* the same for a proof: its jti's entry expired at the table's time (NOW + 20)
         * is not taken for "never seen" */
        ekey_consume_t c = req("t6", 1, "j-old");
        c.jti_expires = NOW + 15;
        assert_status(consume(t, &c, NULL), EKEY_E_PROOF_IAT);
    }
}

/* Many ids in a big table: each is counted on its own (no collisions, no lost entries). */
static void test_many_ids(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 16384, &mem);
    ekey_rtable_stats_t s;
    int i;

    for (i = 0; i < 1500; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "tr%d", i), 2, apr_psprintf(p, "j%d", i));
        assert_status(consume(t, &c, NULL), EKEY_OK);
    }
    for (i = 0; i < 1500; i++) {
        apr_int64_t left;
        ekey_consume_t c = req(apr_psprintf(p, "tr%d", i), 2, apr_psprintf(p, "j%d", i));
        assert_status(consume(t, &c, &left), EKEY_E_JTI_REPLAY);
        c.jti = apr_psprintf(p, "k%d", i);
        assert_status(consume(t, &c, &left), EKEY_OK);
        assert_int_equal(left, 0);
    }
    ekey_rtable_stats(t, NOW, &s);
    assert_int_equal(s.live, 4500);
    assert_int_equal(s.allowed, 3000);
    assert_int_equal(s.replays, 1500);
}

/* ------------------------------------------------------- attach and sizes */

/* Another capacity: every live count and jti goes over (ekey_rtable_save + adopt), bigger
 * or smaller, expired entries stay behind, and a table too small for the live entries says
 * how many found no room. */
static void test_save_adopt(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const apr_size_t caps[] = { 4096, 640 };
    ekey_consume_t c;
    apr_size_t n, dropped, k;
    apr_int64_t left;
    char trace[32], jti[32];
    ekey_error_t err;
    void *mem, *mem2, *saved;
    ekey_rtable_t *t = make_table(p, 1024, &mem), *t2;
    int i;

    /* 100 limit-3 tokens used once or twice (150 jtis), and 20 more expired at adoption */
    for (i = 0; i < 120; i++) {
        snprintf(trace, sizeof(trace), "trace-%d", i);
        snprintf(jti, sizeof(jti), "jti-%d-a", i);
        c = req(trace, 3, jti);
        if (i >= 100)
            c.trace_expires = c.jti_expires = NOW + 5;
        assert_status(consume(t, &c, &left), EKEY_OK);
        if (i % 2 == 0) {
            snprintf(jti, sizeof(jti), "jti-%d-b", i);
            c.jti = jti;
            assert_status(consume(t, &c, &left), EKEY_OK);
        }
    }
    saved = ekey_rtable_save(t, NOW + 10, &n);
    assert_non_null(saved);
    for (k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
        t2 = make_table(p, caps[k], &mem2);
        assert_status(ekey_rtable_adopt(t2, saved, n, NOW + 10, &dropped, &err), EKEY_OK);
        assert_int_equal(dropped, 0);
        for (i = 0; i < 120; i++) {
            snprintf(trace, sizeof(trace), "trace-%d", i);
            snprintf(jti, sizeof(jti), "jti-%d-a", i);
            c = req(trace, 3, jti);
            c.now = NOW + 10;
            /* the proof seen before is still seen; the expired ones are gone */
            assert_status(consume(t2, &c, &left), i < 100 ? EKEY_E_JTI_REPLAY : EKEY_OK);
            snprintf(jti, sizeof(jti), "jti-%d-c", i);
            c.jti = jti;
            if (i < 100) {      /* the count goes on: one or two uses were taken */
                assert_status(consume(t2, &c, &left), EKEY_OK);
                assert_int_equal(left, i % 2 == 0 ? 0 : 1);
            }
        }
    }
    /* 250 live entries (100 traces, 150 jtis) in 64 slots: no room for most */
    t2 = make_table(p, 64, &mem2);
    assert_status(ekey_rtable_adopt(t2, saved, n, NOW + 10, &dropped, &err), EKEY_OK);
    assert_true(dropped >= 250 - 64);
    /* only a fresh table adopts, only a saved table is adopted */
    assert_status(ekey_rtable_adopt(t2, saved, n, NOW + 10, &dropped, &err), EKEY_E_INVALID_ARG);
    t2 = make_table(p, 1024, &mem2);
    assert_status(ekey_rtable_adopt(t2, saved, n - 1, NOW + 10, &dropped, &err), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_adopt(t2, mem, n, NOW + 10, &dropped, &err), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_adopt(t2, saved, 8, NOW + 10, &dropped, &err), EKEY_E_INVALID_ARG);
    /* a block that names one id twice is no table's save (the first two entries made equal) */
    {
        rt_entry_t *ent = (rt_entry_t *)((rt_saved_t *)saved + 1);

        ent[1] = ent[0];
        t2 = make_table(p, 1024, &mem2);
        assert_status(ekey_rtable_adopt(t2, saved, n, NOW + 10, &dropped, &err),
                      EKEY_E_INVALID_ARG);
    }
    free(saved);
}

static void test_attach(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem, *mem2;
    ekey_rtable_t *t = make_table(p, 64, &mem), *t2 = NULL;
    ekey_consume_t c = req("keep", 2, "j1");
    apr_int64_t left;

    assert_status(consume(t, &c, &left), EKEY_OK);
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_OK);
    c.jti = "j2";
    assert_status(consume(t2, &c, &left), EKEY_OK);
    assert_int_equal(left, 0);
    assert_status(consume(t2, &c, &left), EKEY_E_JTI_REPLAY);
    c.jti = "j3";
    assert_status(consume(t2, &c, &left), EKEY_E_REPLAY);
    /* wrong capacity, magic, version, alignment: refused, *out NULL */
    assert_status(ekey_rtable_attach(&t2, p, mem, 65, 0, NULL), EKEY_E_INVALID_ARG);
    assert_null(t2);
    assert_status(ekey_rtable_attach(&t2, p, (char *)mem + 4, 64, 0, NULL),
                  EKEY_E_INVALID_ARG);
    ((apr_uint32_t *)mem)[1] = RT_VERSION + 1;
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_E_INVALID_ARG);
    ((apr_uint32_t *)mem)[1] = RT_VERSION;
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_OK);
    memset(mem, 0x5a, 4);
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 0, NULL), EKEY_E_INVALID_ARG);
    /* Formatting makes a fresh table and a fresh hash key each time. */
    assert_status(ekey_rtable_attach(&t2, p, mem, 64, 1, NULL), EKEY_OK);
    c.jti = "j4";
    assert_status(consume(t2, &c, &left), EKEY_OK);
    (void)make_table(p, 64, &mem2);
    assert_memory_not_equal((char *)mem + 16, (char *)mem2 + 16, 16);
}

static void test_bad_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 16, &mem), *t2 = (ekey_rtable_t *)p;
    apr_int64_t left = 5;
    ekey_consume_t c = req("x", 0, NULL);
    char *longid = apr_palloc(p, RT_MAX_ID_LEN + 2);

    assert_int_equal(ekey_rtable_size(0), 0);
    assert_int_equal(ekey_rtable_size((apr_size_t)-1), 0);
    assert_int_equal(ekey_rtable_size((apr_size_t)-1 / 32), 0);
    assert_int_equal(ekey_rtable_size(1), 64 + 32);
    assert_int_equal(ekey_rtable_size(8), 64 + 8 * 32);
    assert_status(ekey_rtable_attach(&t2, p, NULL, 16, 1, NULL), EKEY_E_INVALID_ARG);
    assert_null(t2);
    assert_status(ekey_rtable_attach(&t2, p, mem, 0, 1, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume(t, &c, &left, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(left, 0);
    c.limit = (apr_int64_t)0xffffffffu + 1;
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    c.limit = 1;
    c.trace_expires = NOW;                  /* already expired: nothing to remember */
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace_expires = NOW + 10;
    c.trace = "";
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace = NULL;
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace = "x";
    c.jti = "";
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    memset(longid, 'a', RT_MAX_ID_LEN + 1);
    longid[RT_MAX_ID_LEN + 1] = '\0';
    c.jti = longid;
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    c.jti = NULL;
    c.trace = longid;
    assert_status(consume(t, &c, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume(NULL, &c, &left, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume(t, NULL, &left, NULL), EKEY_E_INVALID_ARG);
    /* nothing of the above reached the table */
    {
        ekey_rtable_stats_t s;
        ekey_rtable_stats(t, NOW, &s);
        assert_int_equal(s.live, 0);
        assert_int_equal(s.allowed + s.replays + s.full_events, 0);
        ekey_rtable_stats(NULL, NOW, &s);
        assert_int_equal(s.capacity, 0);
    }
}

/* The two-step consume shm_consume uses: the prepare step reads no table state (the table
 * may change between it and the locked step, and the locked step decides on what is there
 * then); a refused prepare leaves nothing to consume. */
static void test_prepared(void **state)
{
    void *mem;
    ekey_rtable_t *t = make_table(EKEY_TEST_POOL(state), 1024, &mem);
    ekey_consume_t a = req("trace-p", 1, "jp1"), b = req("trace-p", 1, "jp2"), bad = a;
    ekey_rtable_prep_t pa, pb, pbad;
    apr_int64_t left = -1;

    assert_status(ekey_rtable_prepare(t, &a, &pa, NULL), EKEY_OK);
    assert_status(ekey_rtable_prepare(t, &b, &pb, NULL), EKEY_OK);
    {                                       /* a prepare alone changes nothing */
        ekey_rtable_stats_t s0;
        ekey_rtable_prep_t hint;
        int i;

        for (i = 0; i < 3; i++)
            assert_status(ekey_rtable_prepare(t, &a, &hint, NULL), EKEY_OK);
        ekey_rtable_stats(t, NOW, &s0);
        assert_int_equal(s0.live + s0.allowed + s0.replays + s0.full_events, 0);
    }
    assert_status(ekey_rtable_consume_prepared(t, &pa, &left, NULL), EKEY_OK);
    assert_int_equal(left, 0);
    /* b was prepared before a's use: its locked step still sees the token used up */
    left = 5;
    assert_status(ekey_rtable_consume_prepared(t, &pb, &left, NULL), EKEY_E_REPLAY);
    assert_int_equal(left, 0);
    /* the same prepared jti again: a proof replay, whatever the prepare saw */
    assert_status(ekey_rtable_prepare(t, &a, &pa, NULL), EKEY_OK);
    assert_status(ekey_rtable_consume_prepared(t, &pa, &left, NULL), EKEY_E_JTI_REPLAY);
    /* ids equal to the one-step consume's: a prepared use counts for consume and back */
    a.trace = "trace-q";
    a.jti = "jq1";
    assert_status(consume(t, &a, &left), EKEY_OK);
    assert_status(ekey_rtable_prepare(t, &a, &pa, NULL), EKEY_OK);
    assert_status(ekey_rtable_consume_prepared(t, &pa, &left, NULL), EKEY_E_JTI_REPLAY);
    /* refused prepares: nothing to consume with */
    bad.limit = 0;
    assert_status(ekey_rtable_prepare(t, &bad, &pbad, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume_prepared(t, &pbad, &left, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_prepare(NULL, &a, &pbad, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume_prepared(t, NULL, &left, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_rtable_consume_prepared(NULL, &pa, &left, NULL), EKEY_E_INVALID_ARG);
    {
        ekey_rtable_stats_t s;
        ekey_rtable_stats(t, NOW, &s);
        assert_int_equal(s.allowed, 2);
        assert_int_equal(s.replays, 3);
    }
}

/* A capacity that is not a multiple of the bucket size: the table holds exactly its
 * capacity, every slot gets used, and every entry stays a replay. */
static void test_odd_capacity(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    void *mem;
    ekey_rtable_t *t = make_table(p, 37, &mem);
    ekey_rtable_stats_t s;
    int i, ok = 0, full = 0;

    for (i = 0; i < 300; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "p%d", i), 1, NULL);
        ekey_status_t st = consume(t, &c, NULL);

        ok += st == EKEY_OK;
        full += st == EKEY_E_STORE_FULL;
    }
    /* 37 slots are two buckets (16 and 21), and every key may use both: all are taken */
    assert_int_equal(ok, 37);
    assert_int_equal(full, 300 - 37);
    ekey_rtable_stats(t, NOW, &s);
    assert_int_equal(s.live, ok);
    assert_int_equal(s.capacity, 37);
    for (i = 0; i < 300; i++) {
        ekey_consume_t c = req(apr_psprintf(p, "p%d", i), 1, NULL);
        ekey_status_t st = consume(t, &c, NULL);

        assert_true(st == EKEY_E_REPLAY || st == EKEY_E_STORE_FULL);
    }
}

/* ------------------------------------------------------------- processes */

/* Four processes race on one trace in shared memory under a process-shared lock: exactly
 * `limit` uses succeed in total, whatever the interleaving. */
typedef struct {
    pthread_mutex_t lock;
    int ok, replay, other;
} shared_t;

#define NPROC 4
#define TRIES 50

static void hammer(shared_t *sh, ekey_rtable_t *t, int round, int proc, apr_int64_t limit)
{
    char trace[32], jti[32];
    int k;

    alarm(30);                              /* a stuck lock kills the child, not the run */
    snprintf(trace, sizeof(trace), "race%d", round);
    for (k = 0; k < TRIES; k++) {
        ekey_consume_t c = req(trace, limit, jti);
        apr_int64_t left;
        ekey_status_t st;

        snprintf(jti, sizeof(jti), "r%d-p%d-%d", round, proc, k);
        pthread_mutex_lock(&sh->lock);
        st = ekey_rtable_consume(t, &c, &left, NULL);
        if (st == EKEY_OK)
            sh->ok++;
        else if (st == EKEY_E_REPLAY)
            sh->replay++;
        else
            sh->other++;
        pthread_mutex_unlock(&sh->lock);
    }
    _exit(0);
}

static void test_processes(void **state)
{
    static const apr_int64_t limits[] = { 1, 3, 5, 17, 1, 3 };
    apr_size_t cap = 4096, bytes = ekey_rtable_size(cap);
    size_t len = 4096 + bytes;            /* the lock page, then the table */
    shared_t *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    ekey_rtable_t *t;
    int i, round;

    assert_true(sh != MAP_FAILED && sizeof(shared_t) <= 4096);
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->lock, &a);
    assert_status(ekey_rtable_attach(&t, EKEY_TEST_POOL(state), (char *)sh + 4096, cap, 1,
                                     NULL), EKEY_OK);
    for (round = 0; round < (int)(sizeof(limits) / sizeof(limits[0])); round++) {
        pid_t pids[NPROC];
        sh->ok = sh->replay = sh->other = 0;
        for (i = 0; i < NPROC; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0)
                hammer(sh, t, round, i, limits[round]);
        }
        for (i = 0; i < NPROC; i++) {
            int status = -1;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        assert_int_equal(sh->ok, limits[round]);
        assert_int_equal(sh->replay, NPROC * TRIES - limits[round]);
        assert_int_equal(sh->other, 0);
    }
    pthread_mutex_destroy(&sh->lock);
    munmap(sh, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_siphash_vectors),
        EKEY_TEST(test_limit_one),
        EKEY_TEST(test_limit_three),
        EKEY_TEST(test_jti_replay),
        EKEY_TEST(test_save_adopt),
        EKEY_TEST(test_full_table),
        EKEY_TEST(test_full_needs_both_slots),
        EKEY_TEST(test_expired_slots_in_chain),
        EKEY_TEST(test_many_ids),
        EKEY_TEST(test_attach),
        EKEY_TEST(test_bad_args),
        EKEY_TEST(test_prepared),
        EKEY_TEST(test_odd_capacity),
        EKEY_TEST(test_processes),
    };
    return ekey_test_main(tests);
}
