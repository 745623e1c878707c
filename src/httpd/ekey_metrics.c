/*
 * ekey_metrics.c - the shared counters and the ekey-metrics / ekey-status handlers.
 *
 * The region. mod_status keeps its scoreboard the same way: shared memory made in the
 * parent before the children fork, found again after every restart. Ours is one anonymous
 * apr_shm segment from the process pool (it lives as long as the parent), its address kept
 * in ap_retained_data under one key, so that mod_ekey and mod_ekey_issuer (two DSOs with two
 * copies of this file) count into the same memory, and reloaded DSOs find it after a
 * restart. A layout change (an upgraded module on a graceful restart) gets a new region.
 *
 * Counters are apr_uint64_t updated with relaxed atomic adds: exact totals, no ordering
 * needed between them, nothing a request waits for. Scrapes read each counter atomically;
 * a scrape racing requests may see one counter a request later than another, as in any
 * Prometheus exporter.
 */
#include <string.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "ekey_metrics.h"

#define RETAIN_KEY     "mod_ekey-metrics"
#define REGION_MAGIC   0x454b4d31u      /* "EKM1" */
#define REGION_VERSION 1u
#define MAX_STATUS     64               /* >= EKEY_STATUS_COUNT, checked below */

/* The issuer's refusal codes, counted each; anything else is "other". */
static const char *const mint_codes[] = {
    "invalid_request", "invalid_client", "access_denied", "invalid_dpop_proof",
    "server_error", "other"
};
#define MINT_CODES (sizeof(mint_codes) / sizeof(mint_codes[0]))

/* Redis latency histogram bounds, microseconds (le="0.00025" ... le="1"). */
static const apr_uint64_t redis_le_usec[] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000
};
#define REDIS_BUCKETS (sizeof(redis_le_usec) / sizeof(redis_le_usec[0]))

typedef struct {
    apr_uint32_t magic, version;
    apr_uint64_t size;                       /* sizeof(region_t) of the writer */
    apr_int64_t started;                     /* when the region was made (seconds) */
    apr_uint64_t decisions[MAX_STATUS];      /* by ekey_status_t */
    apr_uint64_t minted;
    apr_uint64_t mint_refused[MINT_CODES];
    apr_uint64_t redis_ops, redis_errors, redis_usec;
    apr_uint64_t redis_bucket[REDIS_BUCKETS + 1];   /* last: above every bound */
} region_t;

typedef struct {
    region_t *region;
} retained_t;

/* Every status has a counter slot (a compile error otherwise). */
typedef char status_fits[(int)EKEY_STATUS_COUNT <= MAX_STATUS ? 1 : -1];

static region_t *region;
static ekey_metrics_table_fn *table_stats;

static void add(apr_uint64_t *c, apr_uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static apr_uint64_t get(const apr_uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void ekey_metrics_decision(ekey_status_t st)
{
    if (region != NULL && (unsigned)st < (unsigned)EKEY_STATUS_COUNT)
        add(&region->decisions[st], 1);
}

void ekey_metrics_mint(const char *code)
{
    apr_size_t i;

    if (region == NULL)
        return;
    if (code == NULL) {
        add(&region->minted, 1);
        return;
    }
    for (i = 0; i + 1 < MINT_CODES && strcmp(code, mint_codes[i]) != 0; i++)
        ;
    add(&region->mint_refused[i], 1);
}

void ekey_metrics_redis(apr_interval_time_t took, int failed)
{
    apr_uint64_t usec = took > 0 ? (apr_uint64_t)took : 0;
    apr_size_t i;

    if (region == NULL)
        return;
    for (i = 0; i < REDIS_BUCKETS && usec > redis_le_usec[i]; i++)
        ;
    add(&region->redis_bucket[i], 1);
    add(&region->redis_usec, usec);
    add(&region->redis_ops, 1);
    if (failed)
        add(&region->redis_errors, 1);
}

/* post_config: find the region of this parent process, or make it (the first time, or
 * after a layout change). Made before any child forks, so every child shares it. */
static int metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    retained_t *ret = ap_retained_data_get(RETAIN_KEY);
    apr_shm_t *shm;
    apr_status_t rv;
    region_t *g;

    if (ret == NULL)
        ret = ap_retained_data_create(RETAIN_KEY, sizeof(*ret));
    g = ret->region;
    if (g != NULL && g->magic == REGION_MAGIC && g->version == REGION_VERSION
        && g->size == sizeof(region_t)) {
        region = g;
        return OK;
    }
    rv = apr_shm_create(&shm, sizeof(region_t), NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "EKEY00401: cannot create the metrics "
                     "shared memory: ekey-metrics and ekey-status will answer 503");
        region = NULL;
        return OK;                      /* metrics are not worth refusing to start */
    }
    g = apr_shm_baseaddr_get(shm);
    memset(g, 0, sizeof(*g));
    g->magic = REGION_MAGIC;
    g->version = REGION_VERSION;
    g->size = sizeof(region_t);
    g->started = (apr_int64_t)apr_time_sec(apr_time_now());
    ret->region = region = g;
    return OK;
}

/* ------------------------------------------------------------------ output */

/* A snapshot of everything shown, taken once per answer. */
typedef struct {
    apr_int64_t now, started;
    apr_uint64_t decisions[MAX_STATUS];
    apr_uint64_t minted, mint_refused[MINT_CODES];
    apr_uint64_t redis_ops, redis_errors, redis_usec, redis_bucket[REDIS_BUCKETS + 1];
    int have_table;
    ekey_rtable_stats_t table;
} snap_t;

static void snapshot(snap_t *n)
{
    apr_size_t i;

    memset(n, 0, sizeof(*n));
    n->now = (apr_int64_t)apr_time_sec(apr_time_now());
    n->started = region->started;
    for (i = 0; i < (apr_size_t)EKEY_STATUS_COUNT; i++)
        n->decisions[i] = get(&region->decisions[i]);
    n->minted = get(&region->minted);
    for (i = 0; i < MINT_CODES; i++)
        n->mint_refused[i] = get(&region->mint_refused[i]);
    n->redis_ops = get(&region->redis_ops);
    n->redis_errors = get(&region->redis_errors);
    n->redis_usec = get(&region->redis_usec);
    for (i = 0; i <= REDIS_BUCKETS; i++)
        n->redis_bucket[i] = get(&region->redis_bucket[i]);
    if (table_stats != NULL) {
        n->have_table = 1;
        table_stats(n->now, &n->table);
    }
}

static const char *code_of(ekey_status_t st)
{
    const char *c = ekey_status_code(st);

    return c != NULL ? c : "none";
}

/* "0.00025" for 250 microseconds: the shortest exact decimal of seconds. */
static const char *seconds(apr_pool_t *p, apr_uint64_t usec)
{
    char *s = apr_psprintf(p, "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT, usec / 1000000,
                           usec % 1000000);
    apr_size_t n = strlen(s);

    while (s[n - 1] == '0')
        s[--n] = '\0';
    if (s[n - 1] == '.')
        s[--n] = '\0';
    return s;
}

#define HELP(r, name, type, text) \
    ap_rputs("# HELP " name " " text "\n# TYPE " name " " type "\n", r)

static void prometheus(request_rec *r, const snap_t *n)
{
    apr_uint64_t cum = 0;
    apr_size_t i;

    HELP(r, "ekey_decisions_total", "counter", "Requests decided by mod_ekey, by decision, "
         "wire error code and exact reason (ekey_status_t).");
    for (i = 0; i < (apr_size_t)EKEY_STATUS_COUNT; i++)
        ap_rprintf(r, "ekey_decisions_total{decision=\"%s\",code=\"%s\",reason=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", ekey_audit_decision((ekey_status_t)i),
                   code_of((ekey_status_t)i), ekey_status_name((ekey_status_t)i),
                   n->decisions[i]);
    if (n->have_table) {
        HELP(r, "ekey_replay_table_capacity", "gauge", "Entries of the shm replay table.");
        ap_rprintf(r, "ekey_replay_table_capacity %" APR_SIZE_T_FMT "\n", n->table.capacity);
        HELP(r, "ekey_replay_table_live", "gauge", "Unexpired entries of the shm replay "
             "table (traces and DPoP jti values).");
        ap_rprintf(r, "ekey_replay_table_live %" APR_SIZE_T_FMT "\n", n->table.live);
        HELP(r, "ekey_replay_table_full_total", "counter", "Consumes refused because the "
             "shm replay table was full (503).");
        ap_rprintf(r, "ekey_replay_table_full_total %" APR_SIZE_T_FMT "\n",
                   n->table.full_events);
    }
    HELP(r, "ekey_redis_requests_total", "counter", "Replay-store round trips to Redis.");
    ap_rprintf(r, "ekey_redis_requests_total %" APR_UINT64_T_FMT "\n", n->redis_ops);
    HELP(r, "ekey_redis_errors_total", "counter", "Redis round trips that failed "
         "(unreachable, timeout, error reply): each one a 503.");
    ap_rprintf(r, "ekey_redis_errors_total %" APR_UINT64_T_FMT "\n", n->redis_errors);
    HELP(r, "ekey_redis_latency_seconds", "histogram", "Duration of Redis round trips.");
    for (i = 0; i < REDIS_BUCKETS; i++) {
        cum += n->redis_bucket[i];
        ap_rprintf(r, "ekey_redis_latency_seconds_bucket{le=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   seconds(r->pool, redis_le_usec[i]), cum);
    }
    cum += n->redis_bucket[REDIS_BUCKETS];
    ap_rprintf(r, "ekey_redis_latency_seconds_bucket{le=\"+Inf\"} %" APR_UINT64_T_FMT "\n"
               "ekey_redis_latency_seconds_sum %s\n"
               "ekey_redis_latency_seconds_count %" APR_UINT64_T_FMT "\n",
               cum, seconds(r->pool, n->redis_usec), n->redis_ops);
    HELP(r, "ekey_issuer_tokens_minted_total", "counter", "E-Keys minted by the issuer.");
    ap_rprintf(r, "ekey_issuer_tokens_minted_total %" APR_UINT64_T_FMT "\n", n->minted);
    HELP(r, "ekey_issuer_refusals_total", "counter", "Token requests the issuer refused, by "
         "error code.");
    for (i = 0; i < MINT_CODES; i++)
        ap_rprintf(r, "ekey_issuer_refusals_total{code=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   mint_codes[i], n->mint_refused[i]);
    HELP(r, "ekey_metrics_start_time_seconds", "gauge", "When these counters started "
         "(httpd start), seconds since the epoch.");
    ap_rprintf(r, "ekey_metrics_start_time_seconds %" APR_INT64_T_FMT "\n", n->started);
}

/* The sums the status page and ?auto show. */
static apr_uint64_t by_decision(const snap_t *n, const char *decision)
{
    apr_uint64_t sum = 0;
    apr_size_t i;

    for (i = 0; i < (apr_size_t)EKEY_STATUS_COUNT; i++)
        if (strcmp(ekey_audit_decision((ekey_status_t)i), decision) == 0)
            sum += n->decisions[i];
    return sum;
}

static apr_uint64_t refused(const snap_t *n)
{
    apr_uint64_t sum = 0;
    apr_size_t i;

    for (i = 0; i < MINT_CODES; i++)
        sum += n->mint_refused[i];
    return sum;
}

/* mod_status's ?auto: "Key: value" lines, for scripts. */
static void status_auto(request_rec *r, const snap_t *n)
{
    static const char *const decisions[] = { "allowed", "replay_blocked", "expired", "denied" };
    apr_size_t i;

    ap_rprintf(r, "Uptime: %" APR_INT64_T_FMT "\n", n->now - n->started);
    for (i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++)
        ap_rprintf(r, "Decisions_%s: %" APR_UINT64_T_FMT "\n", decisions[i],
                   by_decision(n, decisions[i]));
    for (i = 1; i < (apr_size_t)EKEY_STATUS_COUNT; i++)
        if (n->decisions[i] > 0)
            ap_rprintf(r, "Reason_%s: %" APR_UINT64_T_FMT "\n",
                       ekey_status_name((ekey_status_t)i), n->decisions[i]);
    if (n->have_table)
        ap_rprintf(r, "ReplayTableCapacity: %" APR_SIZE_T_FMT "\nReplayTableLive: %"
                   APR_SIZE_T_FMT "\nReplayTableFull: %" APR_SIZE_T_FMT "\n",
                   n->table.capacity, n->table.live, n->table.full_events);
    ap_rprintf(r, "RedisRequests: %" APR_UINT64_T_FMT "\nRedisErrors: %" APR_UINT64_T_FMT
               "\nRedisLatencyAvgMs: %.3f\nTokensMinted: %" APR_UINT64_T_FMT
               "\nMintRefused: %" APR_UINT64_T_FMT "\n", n->redis_ops, n->redis_errors,
               n->redis_ops ? (double)n->redis_usec / 1000.0 / (double)n->redis_ops : 0.0,
               n->minted, refused(n));
}

static void row(request_rec *r, const char *k, const char *v)
{
    ap_rvputs(r, "<tr><th>", k, "</th><td>", v, "</td></tr>\n", NULL);
}

static const char *u64(apr_pool_t *p, apr_uint64_t v)
{
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, v);
}

static void status_html(request_rec *r, const snap_t *n)
{
    apr_pool_t *p = r->pool;
    apr_size_t i;

    ap_rvputs(r, DOCTYPE_HTML_4_01 "<html><head>\n<title>E-Key Status</title>\n"
              "<style>table{border-collapse:collapse}th,td{border:1px solid #999;"
              "padding:2px 8px;text-align:left}td{text-align:right}</style>\n</head><body>\n"
              "<h1>E-Key Status for ", ap_escape_html(p, ap_get_server_name(r)),
              "</h1>\n<dl><dt>Current Time: ", ap_ht_time(p, apr_time_now(),
              "%A, %d-%b-%Y %H:%M:%S %Z", 0), "</dt>\n<dt>Counting since: ",
              ap_ht_time(p, apr_time_from_sec(n->started), "%A, %d-%b-%Y %H:%M:%S %Z", 0),
              "</dt>\n<dt>Uptime: ", apr_psprintf(p, "%" APR_INT64_T_FMT " seconds",
              n->now - n->started), "</dt></dl>\n<h2>Decisions</h2>\n<table>\n", NULL);
    row(r, "allowed", u64(p, by_decision(n, "allowed")));
    row(r, "replay_blocked", u64(p, by_decision(n, "replay_blocked")));
    row(r, "expired", u64(p, by_decision(n, "expired")));
    row(r, "denied", u64(p, by_decision(n, "denied")));
    ap_rputs("</table>\n<h2>Refusals by reason</h2>\n<table>\n"
             "<tr><th>reason</th><th>error code</th><th>count</th></tr>\n", r);
    for (i = 1; i < (apr_size_t)EKEY_STATUS_COUNT; i++)
        if (n->decisions[i] > 0)
            ap_rvputs(r, "<tr><th>", ekey_status_name((ekey_status_t)i), "</th><th>",
                      code_of((ekey_status_t)i), "</th><td>", u64(p, n->decisions[i]),
                      "</td></tr>\n", NULL);
    ap_rputs("</table>\n", r);
    if (n->have_table) {
        ap_rputs("<h2>Replay table (shm)</h2>\n<table>\n", r);
        row(r, "capacity", apr_psprintf(p, "%" APR_SIZE_T_FMT, n->table.capacity));
        row(r, "live entries", apr_psprintf(p, "%" APR_SIZE_T_FMT " (%.1f%%)", n->table.live,
            n->table.capacity ? 100.0 * (double)n->table.live / (double)n->table.capacity
                              : 0.0));
        row(r, "full events (503)", apr_psprintf(p, "%" APR_SIZE_T_FMT, n->table.full_events));
        ap_rputs("</table>\n", r);
    }
    ap_rputs("<h2>Redis</h2>\n<table>\n", r);
    row(r, "requests", u64(p, n->redis_ops));
    row(r, "errors (503)", u64(p, n->redis_errors));
    row(r, "average latency", apr_psprintf(p, "%.3f ms", n->redis_ops ? (double)n->redis_usec
                                           / 1000.0 / (double)n->redis_ops : 0.0));
    ap_rputs("</table>\n<h2>Issuer</h2>\n<table>\n", r);
    row(r, "tokens minted", u64(p, n->minted));
    row(r, "requests refused", u64(p, refused(n)));
    ap_rputs("</table>\n<hr>\n<address>", r);
    ap_rputs(ap_escape_html(p, ap_get_server_banner()), r);
    ap_rputs("</address>\n</body></html>\n", r);
}

static int metrics_handler(request_rec *r)
{
    int metrics;
    snap_t n;

    if (r->handler == NULL)
        return DECLINED;
    metrics = strcmp(r->handler, EKEY_METRICS_HANDLER) == 0;
    if (!metrics && strcmp(r->handler, EKEY_STATUS_HANDLER) != 0)
        return DECLINED;
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (region == NULL)
        return HTTP_SERVICE_UNAVAILABLE;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (metrics)
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    else if (r->args != NULL && strcmp(r->args, "auto") == 0)
        ap_set_content_type(r, "text/plain; charset=ISO-8859-1");
    else
        ap_set_content_type(r, "text/html; charset=ISO-8859-1");
    if (r->header_only)
        return OK;
    snapshot(&n);
    if (metrics)
        prometheus(r, &n);
    else if (r->args != NULL && strcmp(r->args, "auto") == 0)
        status_auto(r, &n);
    else
        status_html(r, &n);
    return OK;
}

void ekey_metrics_register(ekey_metrics_table_fn *stats, int handler_order)
{
    table_stats = stats;
    ap_hook_post_config(metrics_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(metrics_handler, NULL, NULL, handler_order);
}
