/*
 * rtable_bench.c - the replay table's scale figures, outside httpd.
 *
 * The table lives in an anonymous shared mapping behind a process-shared pthread mutex, as
 * the glue keeps it in slotmem shm behind a global mutex. Three measurements:
 *   1. consume operations per second with 1 process and with P processes contending for the
 *      lock (DPoP-shaped requests: one trace and one jti each, limit 1);
 *   2. memory per tracked entry: ekey_rtable_size(n) / n;
 *   3. a large table: mTLS-shaped requests (trace only) until the first "full" answer, the
 *      live count at that point, the cost per operation near the end, and a replay check on
 *      traces inserted first (they must still be refused).
 * All ids are made before the timed loops, so only lock + consume is timed.
 *
 *   rtable_bench [-P procs] [-n ops per process] [-c capacity] [-F fill capacity]
 * Output: "RTABLE key=value ..." lines that bench/run.sh puts in its table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>

#include "ekey.h"

#define ID_LEN 22

typedef struct {
    pthread_mutex_t lock;
    volatile int ready, go;
    double secs[64];
    long ok[64], bad[64];
} shared_t;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *shared_map(size_t len)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED) {
        perror("rtable_bench: mmap");
        exit(1);
    }
    return m;
}

/* n distinct ids of ID_LEN base64url characters, from a counter and a tag (not random:
 * the table's keyed hash spreads them; the tag keeps processes apart). */
static char *make_ids(long n, int tag)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *ids = malloc((size_t)n * (ID_LEN + 1));
    long i;
    int j;

    if (ids == NULL)
        exit(1);
    for (i = 0; i < n; i++) {
        unsigned long long v = (unsigned long long)i * 0x9E3779B97F4A7C15ULL + (unsigned)tag;
        char *s = ids + i * (ID_LEN + 1);
        s[0] = al[tag & 63];
        for (j = 1; j < ID_LEN; j++, v = v * 6364136223846793005ULL + 1442695040888963407ULL)
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

/* One worker: n DPoP-shaped consumes, each under the shared lock. */
static void worker(shared_t *sh, int w, int nw, void *mem, apr_size_t cap, long n)
{
    apr_pool_t *p;
    ekey_rtable_t *t;
    char *traces = make_ids(n, 2 * w + 1), *jtis = make_ids(n, 2 * w + 2);
    ekey_consume_t c;
    apr_int64_t left, now = (apr_int64_t)time(NULL);
    double t0;
    long i;

    apr_pool_create(&p, NULL);
    t = table(p, mem, cap, 0);
    memset(&c, 0, sizeof(c));
    c.limit = 1;
    c.now = now;
    c.trace_expires = now + 600;
    c.jti_expires = now + 90;
    c.jkt = "0123456789012345678901234567890123456789012";
    __sync_fetch_and_add(&sh->ready, 1);
    while (sh->ready < nw)
        ;
    t0 = now_s();
    for (i = 0; i < n; i++) {
        c.trace = traces + i * (ID_LEN + 1);
        c.jti = jtis + i * (ID_LEN + 1);
        pthread_mutex_lock(&sh->lock);
        if (ekey_rtable_consume(t, &c, &left, NULL) == EKEY_OK)
            sh->ok[w]++;
        else
            sh->bad[w]++;
        pthread_mutex_unlock(&sh->lock);
    }
    sh->secs[w] = now_s() - t0;
    free(traces);
    free(jtis);
}

static void contention(apr_pool_t *p, int procs, long n, apr_size_t cap)
{
    shared_t *sh = shared_map(sizeof(*sh));
    void *mem = shared_map(ekey_rtable_size(cap));
    pthread_mutexattr_t a;
    double wall = 0;
    long ok = 0, bad = 0;
    int w;

    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->lock, &a);
    (void)table(p, mem, cap, 1);
    for (w = 0; w < procs; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            worker(sh, w, procs, mem, cap, n);
            _exit(0);
        }
        if (pid < 0) {
            perror("rtable_bench: fork");
            exit(1);
        }
    }
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    for (w = 0; w < procs; w++) {
        ok += sh->ok[w];
        bad += sh->bad[w];
        if (sh->secs[w] > wall)
            wall = sh->secs[w];
    }
    printf("RTABLE test=contention procs=%d capacity=%lu ops=%ld refused=%ld seconds=%.3f "
           "ops_per_s=%.0f ns_per_op=%.0f\n", procs, (unsigned long)cap, ok + bad, bad, wall,
           (double)(ok + bad) / wall, wall * 1e9 / (double)(ok + bad));
    munmap(mem, ekey_rtable_size(cap));
    munmap(sh, sizeof(*sh));
}

/* mTLS-shaped requests into one table until the first EKEY_E_STORE_FULL (or capacity). */
static void fill(apr_pool_t *p, apr_size_t cap)
{
    void *mem = shared_map(ekey_rtable_size(cap));
    ekey_rtable_t *t = table(p, mem, cap, 1);
    char *ids = make_ids((long)cap, 63);
    ekey_rtable_stats_t st;
    ekey_consume_t c;
    apr_int64_t left, now = (apr_int64_t)time(NULL);
    long i, first_full = -1, replays = 0, checks = 1000;
    double t0, t_last = 0;
    long last_from = (long)cap * 9 / 10;

    memset(&c, 0, sizeof(c));
    c.limit = 1;
    c.now = now;
    c.trace_expires = now + 600;
    t0 = now_s();
    for (i = 0; i < (long)cap; i++) {
        if (i == last_from)
            t_last = now_s();
        c.trace = ids + i * (ID_LEN + 1);
        if (ekey_rtable_consume(t, &c, &left, NULL) == EKEY_E_STORE_FULL && first_full < 0)
            first_full = i;
    }
    t_last = now_s() - t_last;
    t0 = now_s() - t0;
    for (i = 0; i < checks; i++) {
        c.trace = ids + i * (ID_LEN + 1);
        if (ekey_rtable_consume(t, &c, &left, NULL) == EKEY_E_REPLAY)
            replays++;
    }
    ekey_rtable_stats(t, now, &st);
    printf("RTABLE test=fill capacity=%lu bytes=%lu bytes_per_entry=%.1f live=%lu "
           "first_full_at=%ld load_at_first_full=%.3f full_events=%lu seconds=%.3f "
           "ns_per_op_last10pct=%.0f replays_refused=%ld/%ld\n",
           (unsigned long)cap, (unsigned long)ekey_rtable_size(cap),
           (double)ekey_rtable_size(cap) / (double)cap, (unsigned long)st.live, first_full,
           first_full < 0 ? 1.0 : (double)first_full / (double)cap,
           (unsigned long)st.full_events, t0,
           t_last * 1e9 / (double)((long)cap - last_from), replays, checks);
    free(ids);
    munmap(mem, ekey_rtable_size(cap));
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int c, procs = 2;
    long n = 300000;
    apr_size_t cap = 2000000, fcap = 1250000;

    while ((c = getopt(argc, argv, "P:n:c:F:")) != -1) {
        switch (c) {
        case 'P': procs = atoi(optarg); break;
        case 'n': n = atol(optarg); break;
        case 'c': cap = (apr_size_t)atol(optarg); break;
        case 'F': fcap = (apr_size_t)atol(optarg); break;
        default:
            fputs("usage: rtable_bench [-P procs] [-n ops] [-c capacity] [-F fill capacity]\n",
                  stderr);
            return 2;
        }
    }
    if (procs < 1 || procs > 64 || n < 1 || ekey_rtable_size(cap) == 0
        || ekey_rtable_size(fcap) == 0)
        return 2;
    apr_initialize();
    apr_pool_create(&p, NULL);
    contention(p, 1, n, cap);
    if (procs > 1)
        contention(p, procs, n, cap);
    fill(p, fcap);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
