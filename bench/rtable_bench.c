/*
 * rtable_bench.c - scale figures of the shm replay store, outside httpd (issue 8, point 3).
 *
 * The same code path as the module's shm store (src/httpd/ekey_shm.c): the core table
 * (src/core/rtable.c) in one shared memory region, every ekey_rtable_consume under an APR
 * global mutex. In httpd the region comes from mod_slotmem_shm and the mutex from
 * ap_global_mutex_create (mechanism: APR's default unless a Mutex directive says otherwise);
 * here they are an anonymous apr_shm segment, inherited over fork, and apr_global_mutex_create
 * with the same default mechanism (or -m), which is what those httpd calls wrap.
 *
 * contention  1 and P forked processes consume DPoP-shaped requests (one trace and one jti,
 *             limit 1). Workload "unique": every token new. Workload "mix": R % of the
 *             requests re-present the previous token, half with a fresh proof (replay), half
 *             with the same proof (jti replay). Every answer is checked against the expected
 *             one. An untimed pass gives ops/s; a timed pass measures each lock wait and each
 *             critical section (lock held: consume) with clock_gettime, for mean and p99.
 * memory      slot size and table header from ekey_rtable_size.
 * fill        L unique live traces (one entry each, as mTLS-bound tokens) into a table of F
 *             slots, all answered OK; every one of them presented again is a replay; then new
 *             traces beyond what the table holds until it refuses them as full: no live trace
 *             is evicted (live count = accepted, every accepted one still a replay), a refused
 *             one stays refused, and once the entries expire a new trace is taken again.
 * Every id is made before its clock starts. Output: "RTABLE key=value ..." lines (bench/run.sh
 * puts them in its report); exit status 1 when any check fails.
 *
 *   ekey_rtable_bench [-t all|contention|fill] [-P procs] [-n ops per process] [-r repeat %]
 *                     [-c capacity] [-m default|pthread|sysvsem|posixsem|fcntl|flock]
 *                     [-L live traces] [-F fill capacity]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "ekey.h"

#define ID_LEN    22                  /* a base64url trace / jti of 16 random bytes */
#define MAX_PROCS 16
#define JKT       "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"    /* 43 chars, one client */

enum { A_OK, A_REPLAY, A_JTI_REPLAY, A_OTHER, A_N };   /* answers counted */

typedef struct {
    volatile apr_uint32_t ready, go;
    struct {
        apr_uint64_t t0, t1;          /* monotonic ns: first op started, last op ended */
        apr_uint64_t cpu;             /* CPU ns the worker spent in its loop */
        long got[A_N], want[A_N];
    } w[MAX_PROCS];
} ctl_t;

typedef struct {
    apr_pool_t *pool;
    apr_global_mutex_t *mutex;
    const char *lockfile;
    apr_lockmech_e mech;
    int failed;
} env_t;

static apr_uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (apr_uint64_t)ts.tv_sec * 1000000000u + (apr_uint64_t)ts.tv_nsec;
}

static apr_uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static void die(const char *what, apr_status_t rv)
{
    char buf[120];

    fprintf(stderr, "rtable_bench: %s: %s\n", what, apr_strerror(rv, buf, sizeof(buf)));
    exit(1);
}

static void *shm_region(apr_pool_t *p, apr_size_t len)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, len, NULL, p);     /* anonymous: kept over fork */

    if (rv != APR_SUCCESS)
        die("apr_shm_create", rv);
    return apr_shm_baseaddr_get(shm);
}

/* n distinct ids of ID_LEN base64url characters: a tag character, pseudo-random filler and
 * the index in hex (so (tag, i) never repeats). The table's keyed hash spreads them. */
static char *make_ids(long n, int tag)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *ids = malloc((size_t)n * (ID_LEN + 1));
    long i;
    int j;

    if (ids == NULL) {
        fputs("rtable_bench: out of memory\n", stderr);
        exit(1);
    }
    for (i = 0; i < n; i++) {
        apr_uint64_t v = (apr_uint64_t)i * 0x9E3779B97F4A7C15ULL + (unsigned)tag;
        char *s = ids + i * (ID_LEN + 1);

        s[0] = al[tag & 63];
        for (j = 1; j < ID_LEN - 8; j++, v = v * 6364136223846793005ULL + 1442695040888963407ULL)
            s[j] = al[(v >> 58) & 63];
        snprintf(s + ID_LEN - 8, 9, "%08lx", (unsigned long)i & 0xffffffffUL);
    }
    return ids;
}

static ekey_rtable_t *table(apr_pool_t *p, void *mem, apr_size_t cap, int format)
{
    ekey_rtable_t *t;
    ekey_error_t err;

    if (ekey_rtable_attach(&t, p, mem, cap, format, &err) != EKEY_OK) {
        fprintf(stderr, "rtable_bench: attach: %s\n", err.text);
        exit(1);
    }
    return t;
}

static int outcome(ekey_status_t st)
{
    return st == EKEY_OK ? A_OK : st == EKEY_E_REPLAY ? A_REPLAY
           : st == EKEY_E_JTI_REPLAY ? A_JTI_REPLAY : A_OTHER;
}

/* One consume as shm_consume does it: prepare (hash, load the buckets), lock, consume, unlock. With
 * times != NULL, the lock wait and the critical section (lock held) are stored there in ns. */
static ekey_status_t locked_consume(env_t *env, ekey_rtable_t *t, const ekey_consume_t *c,
                                    apr_uint32_t *times)
{
    apr_int64_t left;
    apr_uint64_t t0 = 0, t1 = 0;
    ekey_rtable_prep_t prep;
    ekey_status_t st;
    apr_status_t rv;

    if ((st = ekey_rtable_prepare(t, c, &prep, NULL)) != EKEY_OK)
        return st;
    if (times != NULL)
        t0 = now_ns();
    if ((rv = apr_global_mutex_lock(env->mutex)) != APR_SUCCESS)
        die("lock", rv);
    if (times != NULL)
        t1 = now_ns();
    st = ekey_rtable_consume_prepared(t, &prep, &left, NULL);
    if (times != NULL) {
        apr_uint64_t t2 = now_ns();

        times[0] = (apr_uint32_t)(t1 - t0);
        times[1] = (apr_uint32_t)(t2 - t1);
    }
    if ((rv = apr_global_mutex_unlock(env->mutex)) != APR_SUCCESS)
        die("unlock", rv);
    return st;
}

/* ------------------------------------------------------------- contention */

typedef struct {
    const char **trace, **jti;
    long want[A_N];
} plan_t;

/* Worker w's n requests. repeat % of them (spread evenly) re-present the last new token:
 * alternately with a fresh proof (-> replay) and with that token's own proof (-> jti replay). */
static void make_plan(plan_t *pl, int w, long n, int repeat)
{
    char *traces = make_ids(n, 2 * w + 1), *jtis = make_ids(n, 2 * w + 2);
    long i, last = 0, repeats = 0;

    pl->trace = malloc((size_t)n * sizeof(char *));
    pl->jti = malloc((size_t)n * sizeof(char *));
    if (pl->trace == NULL || pl->jti == NULL)
        exit(1);
    memset(pl->want, 0, sizeof(pl->want));
    for (i = 0; i < n; i++) {
        int rep = i > 0 && ((i + 1) * repeat / 100) != (i * repeat / 100);

        if (!rep) {
            last = i;
            pl->trace[i] = traces + i * (ID_LEN + 1);
            pl->jti[i] = jtis + i * (ID_LEN + 1);
            pl->want[A_OK]++;
        }
        else {
            pl->trace[i] = traces + last * (ID_LEN + 1);
            pl->jti[i] = jtis + ((repeats % 2) ? last : i) * (ID_LEN + 1);
            pl->want[(repeats % 2) ? A_JTI_REPLAY : A_REPLAY]++;
            repeats++;
        }
    }
}

static void worker(env_t *env, ctl_t *ctl, int w, int nw, void *mem, apr_size_t cap,
                   const plan_t *pl, long n, apr_uint32_t *times)
{
    apr_pool_t *p;
    ekey_rtable_t *t;
    ekey_consume_t c;
    apr_int64_t now = (apr_int64_t)time(NULL);
    apr_status_t rv;
    long i;
    char sink = 0;

    apr_pool_create(&p, env->pool);
    if ((rv = apr_global_mutex_child_init(&env->mutex, env->lockfile, p)) != APR_SUCCESS)
        die("apr_global_mutex_child_init", rv);
    t = table(p, mem, cap, 0);
    /* a forked child maps shared pages on first touch; a long-lived httpd child has them all */
    for (i = 0; i < (long)ekey_rtable_size(cap); i += 4096)
        sink += ((volatile const char *)mem)[i];
    memset(&c, 0, sizeof(c));
    c.limit = 1;
    c.now = now;
    c.trace_expires = now + 600;
    c.jti_expires = now + 90;
    c.jkt = JKT;
    memcpy(ctl->w[w].want, pl->want, sizeof(pl->want));
    memset(ctl->w[w].got, 0, sizeof(ctl->w[w].got));
    __atomic_add_fetch(&ctl->ready, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&ctl->go, __ATOMIC_SEQ_CST) == 0 || ctl->ready < (apr_uint32_t)nw)
        ;
    ctl->w[w].cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    ctl->w[w].t0 = now_ns();
    for (i = 0; i < n; i++) {
        c.trace = pl->trace[i];
        c.jti = pl->jti[i];
        ctl->w[w].got[outcome(locked_consume(env, t, &c, times ? times + 2 * i : NULL))]++;
    }
    ctl->w[w].t1 = now_ns();
    ctl->w[w].cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - ctl->w[w].cpu;
    ctl->w[w].got[A_OTHER] += sink & 0;
}

static int cmp_u32(const void *a, const void *b)
{
    apr_uint32_t x = *(const apr_uint32_t *)a, y = *(const apr_uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Mean, median and p99 of every other sample (field 0: lock wait, 1: critical section). On a
 * busy machine a preempted holder makes the mean jump; the median does not. */
static void spread(const apr_uint32_t *times, long n, int field, double out[3])
{
    apr_uint32_t *v = malloc((size_t)n * sizeof(*v));
    double sum = 0;
    long i;

    if (v == NULL)
        exit(1);
    for (i = 0; i < n; i++)
        sum += (v[i] = times[2 * i + field]);
    qsort(v, (size_t)n, sizeof(*v), cmp_u32);
    out[0] = sum / (double)n;
    out[1] = v[n / 2];
    out[2] = v[(n * 99) / 100];
    free(v);
}

/* One pass: format the table, fork procs workers, check every answer. */
static double pass(env_t *env, ctl_t *ctl, void *mem, apr_size_t cap, plan_t *plans,
                   int procs, long n, apr_uint32_t *times, long got[A_N], int *ok,
                   double *cpu)
{
    apr_uint64_t t0 = 0, t1 = 0;
    int w, r, status;

    (void)table(env->pool, mem, cap, 1);
    ctl->ready = ctl->go = 0;
    for (w = 0; w < procs; w++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("rtable_bench: fork");
            exit(1);
        }
        if (pid == 0) {
            worker(env, ctl, w, procs, mem, cap, &plans[w], n, times ? times + 2 * n * w : NULL);
            _exit(0);          /* no pool cleanups: the region and mutex are the parent's */
        }
    }
    __atomic_store_n(&ctl->go, 1, __ATOMIC_SEQ_CST);
    for (w = 0; w < procs; w++)
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            *ok = 0;
    memset(got, 0, sizeof(long) * A_N);
    *cpu = 0;
    for (w = 0; w < procs; w++) {
        *cpu += (double)ctl->w[w].cpu / 1e9;
        if (w == 0 || ctl->w[w].t0 < t0)
            t0 = ctl->w[w].t0;
        if (ctl->w[w].t1 > t1)
            t1 = ctl->w[w].t1;
        for (r = 0; r < A_N; r++) {
            got[r] += ctl->w[w].got[r];
            if (ctl->w[w].got[r] != ctl->w[w].want[r])
                *ok = 0;
        }
    }
    return (double)(t1 - t0) / 1e9;
}

static void contention(env_t *env, const char *workload, int repeat, int procs, long n,
                       apr_size_t cap)
{
    apr_pool_t *sub;
    ctl_t *ctl;
    void *mem;
    apr_uint32_t *times;
    plan_t plans[MAX_PROCS];
    long got[A_N], ops = (long)procs * n;
    double secs, cpu, wt[3], ht[3];
    ekey_rtable_stats_t st;
    int w, ok = 1;

    apr_pool_create(&sub, env->pool);
    ctl = shm_region(sub, sizeof(ctl_t));
    mem = shm_region(sub, ekey_rtable_size(cap));
    times = shm_region(sub, (apr_size_t)procs * (apr_size_t)n * 8);
    for (w = 0; w < procs; w++)
        make_plan(&plans[w], w, n, repeat);
    (void)pass(env, ctl, mem, cap, plans, procs, n, times, got, &ok, &cpu);      /* timed */
    spread(times, ops, 0, wt);
    spread(times, ops, 1, ht);
    secs = pass(env, ctl, mem, cap, plans, procs, n, NULL, got, &ok, &cpu);      /* untimed */
    ekey_rtable_stats(table(sub, mem, cap, 0), (apr_int64_t)time(NULL), &st);
    printf("RTABLE test=contention workload=%s repeat_pct=%d procs=%d mutex=%s capacity=%lu "
           "ops=%ld allowed=%ld replays=%ld jti_replays=%ld other=%ld live_end=%lu "
           "load_end=%.3f seconds=%.3f ops_per_s=%.0f ns_per_op=%.0f cpu_ns_per_op=%.0f "
           "busy_pct=%.0f "
           "hold_mean_ns=%.0f hold_p50_ns=%.0f hold_p99_ns=%.0f wait_mean_ns=%.0f "
           "wait_p50_ns=%.0f wait_p99_ns=%.0f check=%s\n",
           workload, repeat, procs, apr_global_mutex_name(env->mutex), (unsigned long)cap, ops,
           got[A_OK], got[A_REPLAY], got[A_JTI_REPLAY], got[A_OTHER], (unsigned long)st.live,
           (double)st.live / (double)cap, secs, (double)ops / secs, secs * 1e9 / (double)ops,
           cpu * 1e9 / (double)ops, 100 * cpu / (secs * procs),
           ht[0], ht[1], ht[2], wt[0], wt[1], wt[2], ok ? "pass" : "FAIL");
    fflush(stdout);
    if (!ok)
        env->failed = 1;
    for (w = 0; w < procs; w++) {
        free((void *)plans[w].trace[0]);    /* the first request of a plan is always new */
        free((void *)plans[w].jti[0]);
        free(plans[w].trace);
        free(plans[w].jti);
    }
    apr_pool_destroy(sub);
}

/* ------------------------------------------------------------------- fill */

typedef struct {
    env_t *env;
    ekey_rtable_t *t;
    ekey_consume_t c;
    const char *ids;
} filler_t;

/* Presents ids [from, to): counts the answers; returns the seconds taken. With first != NULL,
 * the index of the first non-OK answer goes there (-1 if none). */
static double present(filler_t *f, long from, long to, long got[A_N], long *first)
{
    apr_uint64_t t0 = now_ns();
    long i;

    memset(got, 0, sizeof(long) * A_N);
    if (first != NULL)
        *first = -1;
    for (i = from; i < to; i++) {
        int r;

        f->c.trace = f->ids + i * (ID_LEN + 1);
        r = outcome(locked_consume(f->env, f->t, &f->c, NULL));
        got[r]++;
        if (first != NULL && r != A_OK && *first < 0)
            *first = i;
    }
    return (double)(now_ns() - t0) / 1e9;
}

static void fill(env_t *env, long live, apr_size_t cap)
{
    apr_pool_t *sub;
    void *mem;
    long total = (long)cap, g[A_N], first, first_fill, acc = 0, kept, i, j, tail = live / 10;
    apr_int64_t now = (apr_int64_t)time(NULL);
    double s_fill, s_tail, s_verify, s_beyond;
    ekey_rtable_stats_t st;
    int ok_fill, ok_verify, ok_live, ok_all, ok_refused = 1, ok_expiry;
    char *accepted;
    filler_t f;

    apr_pool_create(&sub, env->pool);
    mem = shm_region(sub, ekey_rtable_size(cap));
    memset(&f, 0, sizeof(f));
    f.env = env;
    f.t = table(sub, mem, cap, 1);
    f.ids = make_ids(total, 63);
    accepted = calloc((size_t)total, 1);
    if (accepted == NULL)
        exit(1);
    f.c.limit = 1;
    f.c.now = now;
    f.c.trace_expires = now + 600;
    /* 1. L new traces: every one taken */
    s_fill = present(&f, 0, live - tail, g, &first_fill);
    ok_fill = g[A_OK] == live - tail;
    s_tail = present(&f, live - tail, live, g, first_fill < 0 ? &first_fill : NULL);
    ok_fill = ok_fill && g[A_OK] == tail;
    s_fill += s_tail;
    /* 2. all of them again: each one a replay */
    s_verify = present(&f, 0, live, g, NULL);
    ok_verify = g[A_REPLAY] == live;
    /* 3. new traces until the table holds no more: the first refusal and how many it took */
    s_beyond = present(&f, live, total, g, &first);
    if (first_fill >= 0)              /* refused before L live traces: the table is too small */
        first = first_fill;
    for (i = live; i < total; i++) {
        /* which of them were taken: a taken one is now a replay, a refused one refused again */
        f.c.trace = f.ids + i * (ID_LEN + 1);
        j = outcome(locked_consume(env, f.t, &f.c, NULL));
        if (j == A_REPLAY)
            accepted[i] = 1, acc++;
        else if (j == A_OK)
            ok_refused = 0;           /* refused once, taken later: cannot happen */
    }
    ok_refused = ok_refused && acc == g[A_OK];
    /* 4. nothing evicted: the live count is exactly what was taken; each one still a replay */
    ekey_rtable_stats(f.t, now, &st);
    kept = live + acc;
    ok_live = (long)st.live == kept;
    (void)present(&f, 0, live, g, NULL);
    ok_all = g[A_REPLAY] == live;
    /* 5. once everything has expired, a new trace is taken (full means live, not used) */
    f.c.now = now + 601;
    f.c.trace_expires = now + 1200;
    f.c.trace = "a-new-trace-after-expiry";
    ok_expiry = locked_consume(env, f.t, &f.c, NULL) == EKEY_OK;
    printf("RTABLE test=fill mutex=%s capacity=%lu region_bytes=%lu live_target=%ld "
           "fill_seconds=%.3f fill_ns_per_op=%.0f fill_last10pct_ns_per_op=%.0f "
           "verify_ns_per_op=%.0f replays_verified=%ld/%ld first_full_at_live=%ld "
           "load_at_first_full=%.3f beyond_presented=%ld beyond_accepted=%ld "
           "beyond_refused=%ld beyond_ns_per_op=%.0f live_end=%lu load_end=%.3f "
           "live_equals_accepted=%s all_live_still_replays=%s refused_stay_refused=%s "
           "taken_after_expiry=%s check=%s\n",
           apr_global_mutex_name(env->mutex), (unsigned long)cap,
           (unsigned long)ekey_rtable_size(cap), live, s_fill, s_fill * 1e9 / (double)live,
           s_tail * 1e9 / (double)tail, s_verify * 1e9 / (double)live, (long)g[A_REPLAY], live,
           first < 0 ? kept : first, (double)(first < 0 ? kept : first) / (double)cap,
           total - live, acc, total - live - acc, s_beyond * 1e9 / (double)(total - live),
           (unsigned long)st.live, (double)st.live / (double)cap, ok_live ? "yes" : "NO",
           ok_all ? "yes" : "NO", ok_refused ? "yes" : "NO", ok_expiry ? "yes" : "NO",
           ok_fill && ok_verify && ok_live && ok_all && ok_refused && ok_expiry ? "pass"
                                                                                : "FAIL");
    if (!(ok_fill && ok_verify && ok_live && ok_all && ok_refused && ok_expiry))
        env->failed = 1;
    free(accepted);
    free((void *)f.ids);
    apr_pool_destroy(sub);
}

/* ------------------------------------------------------------------- main */

static apr_lockmech_e mechanism(const char *name)
{
    static const struct { const char *n; apr_lockmech_e m; } ms[] = {
        { "default", APR_LOCK_DEFAULT }, { "pthread", APR_LOCK_PROC_PTHREAD },
        { "sysvsem", APR_LOCK_SYSVSEM }, { "posixsem", APR_LOCK_POSIXSEM },
        { "fcntl", APR_LOCK_FCNTL }, { "flock", APR_LOCK_FLOCK },
    };
    size_t i;

    for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
        if (strcmp(name, ms[i].n) == 0)
            return ms[i].m;
    fprintf(stderr, "rtable_bench: unknown mutex mechanism %s\n", name);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *tests = "all", *tmp;
    env_t env = { 0 };
    int c, procs = 2, repeat = 25;
    long n = 200000, live = 1000000;
    apr_size_t cap = 2000000, fcap = 2000000, slot;
    apr_status_t rv;

    memset(&env, 0, sizeof(env));
    env.mech = APR_LOCK_DEFAULT;
    while ((c = getopt(argc, argv, "t:P:n:r:c:m:L:F:")) != -1) {
        switch (c) {
        case 't': tests = optarg; break;
        case 'P': procs = atoi(optarg); break;
        case 'n': n = atol(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        case 'c': cap = (apr_size_t)atol(optarg); break;
        case 'm': env.mech = mechanism(optarg); break;
        case 'L': live = atol(optarg); break;
        case 'F': fcap = (apr_size_t)atol(optarg); break;
        default:
            fputs("usage: ekey_rtable_bench [-t all|contention|fill] [-P procs] [-n ops] "
                  "[-r repeat%] [-c capacity] [-m mutex] [-L live] [-F fill capacity]\n", stderr);
            return 2;
        }
    }
    if (procs < 1 || procs > MAX_PROCS || n < 100 || repeat < 0 || repeat > 90 || live < 10
        || ekey_rtable_size(cap) == 0 || ekey_rtable_size(fcap) == 0 || (apr_size_t)live > fcap) {
        fputs("rtable_bench: bad arguments (1 <= P <= 16, n >= 100, 0 <= r <= 90, "
              "10 <= L <= F)\n", stderr);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&env.pool, NULL);
    if (apr_temp_dir_get(&tmp, env.pool) != APR_SUCCESS)
        tmp = "/tmp";
    env.lockfile = apr_psprintf(env.pool, "%s/ekey_rtable_bench.%ld.lock", tmp, (long)getpid());
    rv = apr_global_mutex_create(&env.mutex, env.lockfile, env.mech, env.pool);
    if (rv != APR_SUCCESS)
        die("apr_global_mutex_create", rv);
    slot = ekey_rtable_size(2) - ekey_rtable_size(1);
    printf("RTABLE test=memory slot_bytes=%lu table_header_bytes=%lu\n", (unsigned long)slot,
           (unsigned long)(ekey_rtable_size(1) - slot));
    fflush(stdout);
    if (strcmp(tests, "all") == 0 || strcmp(tests, "contention") == 0) {
        contention(&env, "unique", 0, 1, n, cap);
        if (procs > 1)
            contention(&env, "unique", 0, procs, n, cap);
        contention(&env, "mix", repeat, 1, n, cap);
        if (procs > 1)
            contention(&env, "mix", repeat, procs, n, cap);
    }
    if (strcmp(tests, "all") == 0 || strcmp(tests, "fill") == 0)
        fill(&env, live, fcap);
    apr_pool_destroy(env.pool);        /* removes the lock file of fcntl/flock */
    apr_terminate();
    return env.failed;
}
