/*
 * redis.c - the Redis replay store: one Lua script per request, fail closed.
 *
 * The script does the whole consume step atomically on the server: SET NX PX remembers the
 * jti (a seen jti changes nothing), then the trace counter is checked against the limit and
 * incremented, and every key gets an expiry (PEXPIRE, only ever extended). TTLs are computed
 * from the verifier's own clock (expiry - now), so a Redis clock that runs ahead cannot drop
 * a counter while this server still accepts the token. Arguments travel as an argv array
 * (redisCommandArgv): a trace or jti is never formatted into a command string. The transport
 * is a link (ekey_redis_link.h): hiredis's own context for TCP, redis_tls.c for TLS; the
 * handshake and script logic here are the same for both.
 *
 * Failure handling: a NULL reply (I/O error, timeout, reset), an error reply (OOM, READONLY,
 * WRONGTYPE, NOAUTH, a script error) or a reply of another shape is EKEY_E_STORE_UNAVAILABLE
 * and the connection is dropped; the next request connects again. An increment whose reply
 * was lost stays counted (unknown outcome = consumed). After a failed connect, new connects
 * are held off briefly so a dead Redis cannot tie up every worker for its connect timeout.
 * Callers ignore SIGPIPE, as httpd does.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/sha.h>
#include <hiredis/hiredis.h>

#include "ekey_redis.h"
#include "ekey_redis_link.h"

#define DEFAULT_PORT    6379
#define DEFAULT_PREFIX  "ekey:"
#define MAX_PREFIX      256
#define MAX_KEY         1024          /* prefix "j:" jkt ":" jti, in bytes */
#define MAX_TTL_SEC     (400 * 86400) /* longer lifetimes are a caller bug */
#define TTL_MARGIN_MS   1000          /* `now` was read before the round trip */

/* KEYS[1] the trace counter, KEYS[2] the jti (optional); ARGV limit, trace TTL and jti TTL
 * in ms. Returns {0, uses_left}, {1, 0} when the uses are spent, {2, 0} for a seen jti. */
static const char SCRIPT[] =
    "local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "if not limit or not ttl or limit < 1 or ttl < 1 then\n"
    "  return redis.error_reply('ekey: bad arguments')\n"
    "end\n"
    "if #KEYS == 2 then\n"
    "  local jttl = tonumber(ARGV[3])\n"
    "  if not jttl or jttl < 1 then return redis.error_reply('ekey: bad arguments') end\n"
    "  if not redis.call('SET', KEYS[2], '1', 'PX', jttl, 'NX') then return {2, 0} end\n"
    "end\n"
    "local used = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if not used then return redis.error_reply('ekey: trace key is not a counter') end\n"
    "local spent = used >= limit\n"
    "if not spent then used = redis.call('INCR', KEYS[1]) end\n"
    "if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end\n"
    "if spent then return {1, 0} end\n"
    "return {0, limit - used}\n";

typedef struct conn_t {
    ekey_redis_link_t *c;
    pid_t pid;                        /* the process that connected: never used across fork */
    apr_time_t checked;               /* when its eviction policy was last seen safe */
    struct conn_t *next;
} conn_t;

typedef struct {
    const char *host, *username, *password, *prefix, *tls_name;
    int port, db;
    SSL_CTX *tls_ctx;                 /* NULL: plain TCP through hiredis */
    struct timeval connect_tv, io_tv;
    apr_interval_time_t holdoff, recheck, io_timeout;
    void (*notice)(void *baton, const char *msg);
    void *notice_baton;
    int noticed;                      /* the unreadable policy was told (once) */
    char sha[2 * SHA_DIGEST_LENGTH + 1];
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;         /* guards idle and down_until */
#endif
    conn_t *idle;
    apr_time_t down_until;            /* no new connect before this */
    ekey_store_t store;
} rstore_t;

/* ------------------------------------------------------------ connections */

static void lock(rstore_t *rs)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(rs->lock);
#else
    (void)rs;
#endif
}

static void unlock(rstore_t *rs)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(rs->lock);
#else
    (void)rs;
#endif
}

static void conn_close(conn_t *k)
{
    k->c->close(k->c);
    free(k);
}

/* The plain TCP link: hiredis's context, its reads bounded by the link's deadline. */
typedef struct {
    ekey_redis_link_t link;
    redisContext *c;
    int late;                         /* the deadline passed: errstr says so */
} plain_link_t;

static redisReply *plain_command(ekey_redis_link_t *l, int argc, const char **argv,
                                 const size_t *lens)
{
    plain_link_t *pl = (plain_link_t *)l;
    redisContext *c = pl->c;
    void *reply = NULL;
    int done = 0;

    if (pl->late || c->err || redisAppendCommandArgv(c, argc, argv, lens) != REDIS_OK)
        return NULL;
    while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return NULL;
    for (;;) {
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
            return NULL;
        if (reply != NULL)
            return reply;
        if (!ekey_redis_fd_budget(c->fd, l->deadline)) {
            pl->late = 1;
            return NULL;
        }
        if (redisBufferRead(c) != REDIS_OK)
            return NULL;
    }
}

static const char *plain_errstr(const ekey_redis_link_t *l)
{
    const plain_link_t *pl = (const plain_link_t *)l;

    return pl->late ? "timeout (the whole reply)" : pl->c->errstr;
}

static int plain_quiet(const ekey_redis_link_t *l)
{
    const redisContext *c = ((const plain_link_t *)l)->c;

    return !((const plain_link_t *)l)->late && c->err == 0
           && c->reader->len == c->reader->pos && ekey_redis_fd_quiet(c->fd);
}

static void plain_close(ekey_redis_link_t *l)
{
    redisFree(((plain_link_t *)l)->c);
    free(l);
}

static apr_status_t close_idle(void *data)
{
    rstore_t *rs = data;
    conn_t *k;

    while ((k = rs->idle) != NULL) {
        rs->idle = k->next;
        conn_close(k);
    }
    return APR_SUCCESS;
}

/* A command whose only good answer is +OK (AUTH, SELECT). */
static ekey_status_t expect_ok(ekey_redis_link_t *c, int argc, const char **argv,
                               ekey_error_t *err)
{
    redisReply *r = c->command(c, argc, argv, NULL);
    ekey_status_t st = EKEY_OK;

    if (r == NULL)
        st = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect", "%s: %s",
                            argv[0], c->errstr(c));
    else if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0)
        st = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect", "%s refused: %.100s",
                            argv[0], r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    if (r != NULL)
        freeReplyObject(r);
    return st;
}

/* CONFIG GET name into out; "" when the server does not let us ask (managed Redis, ACL):
 * then *refused is set. 0 on an I/O failure. */
static int config_get(ekey_redis_link_t *c, const char *name, char *out, apr_size_t outlen,
                      int *refused)
{
    const char *argv[3] = { "CONFIG", "GET", name };
    redisReply *r = c->command(c, 3, argv, NULL);

    out[0] = '\0';
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[1]->type == REDIS_REPLY_STRING)
        apr_cpystrn(out, r->element[1]->str, outlen);
    else if (refused != NULL)
        *refused = 1;
    freeReplyObject(r);
    return 1;
}

/* Any policy but noeviction may drop live replay keys once maxmemory is reached. */
static ekey_status_t check_policy(rstore_t *rs, ekey_redis_link_t *c, ekey_error_t *err)
{
    char policy[64], maxmem[32];
    int refused = 0;

    if (!config_get(c, "maxmemory-policy", policy, sizeof(policy), &refused))
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect",
                              "CONFIG GET: %s", c->errstr(c));
    if (refused && rs->notice != NULL && !__atomic_exchange_n(&rs->noticed, 1, __ATOMIC_ACQ_REL))
        rs->notice(rs->notice_baton, "Redis refuses CONFIG GET maxmemory-policy: its eviction "
                   "policy cannot be checked; it must be noeviction (or the ACL user given "
                   "+config|get)");
    if (policy[0] != '\0' && strcmp(policy, "noeviction") != 0
        && !config_get(c, "maxmemory", maxmem, sizeof(maxmem), NULL))
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect",
                              "CONFIG GET: %s", c->errstr(c));
    if (policy[0] != '\0' && strcmp(policy, "noeviction") != 0 && strcmp(maxmem, "0") != 0)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect",
                              "maxmemory-policy %s may evict live replay keys: set "
                              "noeviction", policy);
    return EKEY_OK;
}

static ekey_status_t handshake(rstore_t *rs, ekey_redis_link_t *c, ekey_error_t *err)
{
    char db[16];
    ekey_status_t st;

    if (rs->password != NULL) {
        const char *a2[2] = { "AUTH", rs->password };
        const char *a3[3] = { "AUTH", rs->username, rs->password };
        st = rs->username != NULL ? expect_ok(c, 3, a3, err) : expect_ok(c, 2, a2, err);
        if (st != EKEY_OK)
            return st;
    }
    if (rs->db != 0) {
        const char *argv[2] = { "SELECT", db };
        apr_snprintf(db, sizeof(db), "%d", rs->db);
        if ((st = expect_ok(c, 2, argv, err)) != EKEY_OK)
            return st;
    }
    return check_policy(rs, c, err);
}

/* A hiredis TCP (or Unix socket) connection with the I/O timeout and keep-alive set. */
static ekey_status_t plain_dial(rstore_t *rs, ekey_redis_link_t **out, ekey_error_t *err)
{
    plain_link_t *pl = calloc(1, sizeof(*pl));
    redisContext *c;

    *out = NULL;
    c = rs->host[0] == '/' ? redisConnectUnixWithTimeout(rs->host, rs->connect_tv)
                           : redisConnectWithTimeout(rs->host, rs->port, rs->connect_tv);
    if (pl == NULL || c == NULL || c->err || redisSetTimeout(c, rs->io_tv) != REDIS_OK) {
        ekey_status_t st = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect",
                                          "%s:%d: %s", rs->host, rs->port,
                                          c != NULL && c->err ? c->errstr : "out of memory "
                                          "or no I/O timeout");
        if (c != NULL)
            redisFree(c);
        free(pl);
        return st;
    }
    redisEnableKeepAlive(c);
    pl->c = c;
    pl->link.command = plain_command;
    pl->link.errstr = plain_errstr;
    pl->link.close = plain_close;
    pl->link.quiet = plain_quiet;
    *out = &pl->link;
    return EKEY_OK;
}

static ekey_status_t dial(rstore_t *rs, conn_t **out, ekey_error_t *err)
{
    ekey_redis_link_t *c;
    ekey_status_t st;

    *out = NULL;
    st = rs->tls_ctx != NULL
         ? ekey_redis_tls_dial(&c, rs->tls_ctx, rs->host, rs->port, rs->tls_name,
                               rs->connect_tv, rs->io_tv, err)
         : plain_dial(rs, &c, err);
    if (st != EKEY_OK)
        return st;
    c->deadline = apr_time_now() + rs->io_timeout;     /* the handshake's replies */
    if ((st = handshake(rs, c, err)) == EKEY_OK
        && (*out = calloc(1, sizeof(conn_t))) == NULL)
        st = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect", "out of memory");
    if (st != EKEY_OK) {
        c->close(c);
        return st;
    }
    (*out)->c = c;
    (*out)->pid = getpid();
    (*out)->checked = apr_time_now();
    return EKEY_OK;
}

/* An idle connection of this process, or a new one. */
static ekey_status_t checkout(rstore_t *rs, conn_t **out, ekey_error_t *err)
{
    pid_t me = getpid();
    conn_t *k, *stale = NULL;
    ekey_status_t st;
    int holding_off;

    lock(rs);
    while ((k = rs->idle) != NULL) {
        rs->idle = k->next;
        /* not inherited through fork, and not closed by Redis while idle (a restart): a
         * command is sent at most once, so a dead link must be found before, not after */
        if (k->pid == me && k->c->quiet(k->c))
            break;
        k->next = stale;
        stale = k;
    }
    holding_off = k == NULL && apr_time_now() < rs->down_until;
    unlock(rs);
    while (stale != NULL) {
        conn_t *next = stale->next;
        conn_close(stale);
        stale = next;
    }
    if (k != NULL)                  /* one EKeyRedisTimeout for this operation's replies */
        k->c->deadline = apr_time_now() + rs->io_timeout;
    /* CONFIG SET can change the policy under a pooled connection: look again now and then;
     * a link that fails the look is replaced by a new one, which looks once more */
    if (k != NULL && apr_time_now() - k->checked >= rs->recheck) {
        ekey_error_t ignored;

        if (check_policy(rs, k->c, &ignored) == EKEY_OK) {
            k->checked = apr_time_now();
        }
        else {
            conn_close(k);
            k = NULL;
        }
    }
    if ((*out = k) != NULL)
        return EKEY_OK;
    if (holding_off)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect",
                              "Redis was unreachable moments ago; retrying shortly");
    if ((st = dial(rs, out, err)) != EKEY_OK) {
        lock(rs);
        rs->down_until = apr_time_now() + rs->holdoff;
        unlock(rs);
    }
    return st;
}

static void checkin(rstore_t *rs, conn_t *k)
{
    lock(rs);
    k->next = rs->idle;
    rs->idle = k;
    unlock(rs);
}

/* ------------------------------------------------------------------ consume */

/* {code, value} from the script, or unavailable for anything else. */
static ekey_status_t interpret(const redisReply *r, const ekey_redis_link_t *c,
                               apr_int64_t limit, apr_int64_t *uses_left, ekey_error_t *err)
{
    long long code, val;

    if (r == NULL)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.consume", "%s",
                              c->errstr(c)[0] != '\0' ? c->errstr(c) : "no reply");
    if (r->type == REDIS_REPLY_ERROR)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.consume",
                              "error reply: %.120s", r->str);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_INTEGER
        || r->element[1]->type != REDIS_REPLY_INTEGER)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.consume",
                              "unexpected reply");
    code = r->element[0]->integer;
    val = r->element[1]->integer;
    if (code == 0 && val >= 0 && val < limit) {
        *uses_left = val;
        return EKEY_OK;
    }
    if (code == 1)
        return ekey_error_set(err, EKEY_E_REPLAY, "redis.consume",
                              "all %ld uses of the token consumed", (long)limit);
    if (code == 2)
        return ekey_error_set(err, EKEY_E_JTI_REPLAY, "redis.consume",
                              "DPoP proof jti seen before");
    return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.consume", "unexpected reply");
}

static apr_int64_t ttl_ms(apr_int64_t expires, apr_int64_t now)
{
    apr_int64_t secs = expires - now;

    return (secs > 0 ? secs * 1000 : 0) + TTL_MARGIN_MS;
}

static int bad_request(const ekey_consume_t *req)
{
    return req == NULL || req->trace == NULL || req->trace[0] == '\0' || req->limit < 1
           || req->limit > (apr_int64_t)0xffffffffu || req->trace_expires <= req->now
           || req->trace_expires - req->now > MAX_TTL_SEC
           || (req->jti != NULL && req->jti[0] == '\0')
           || (req->jkt != NULL && strchr(req->jkt, ':') != NULL); /* "jkt:jti" unambiguous */
}

typedef struct {
    char kt[MAX_KEY], kj[MAX_KEY];
    char num[4][24];                    /* numkeys, limit, trace TTL, jti TTL */
    const char *argv[8];
    size_t lens[8];
    int argc;
} script_args_t;

static void arg(script_args_t *a, const char *s, size_t len)
{
    a->argv[a->argc] = s;
    a->lens[a->argc++] = len;
}

/* EVALSHA sha numkeys keys... limit ttl [jttl]; 0 when a key would not fit. */
static int build(const rstore_t *rs, const ekey_consume_t *req, script_args_t *a)
{
    const char *jkt = req->jkt != NULL ? req->jkt : "";
    apr_size_t pl = strlen(rs->prefix), tl = strlen(req->trace);
    apr_size_t jl = req->jti != NULL ? strlen(jkt) + 1 + strlen(req->jti) : 0;

    if (pl + 2 + tl >= MAX_KEY || pl + 2 + jl >= MAX_KEY)
        return 0;
    a->argc = 0;
    arg(a, "EVALSHA", 7);
    arg(a, rs->sha, strlen(rs->sha));
    apr_snprintf(a->num[0], 24, "%d", req->jti != NULL ? 2 : 1);
    arg(a, a->num[0], strlen(a->num[0]));
    apr_snprintf(a->kt, MAX_KEY, "%st:%s", rs->prefix, req->trace);
    arg(a, a->kt, pl + 2 + tl);
    if (req->jti != NULL) {
        apr_snprintf(a->kj, MAX_KEY, "%sj:%s:%s", rs->prefix, jkt, req->jti);
        arg(a, a->kj, pl + 2 + jl);
    }
    apr_snprintf(a->num[1], 24, "%" APR_INT64_T_FMT, req->limit);
    arg(a, a->num[1], strlen(a->num[1]));
    apr_snprintf(a->num[2], 24, "%" APR_INT64_T_FMT, ttl_ms(req->trace_expires, req->now));
    arg(a, a->num[2], strlen(a->num[2]));
    if (req->jti != NULL) {
        apr_snprintf(a->num[3], 24, "%" APR_INT64_T_FMT, ttl_ms(req->jti_expires, req->now));
        arg(a, a->num[3], strlen(a->num[3]));
    }
    return a->argc;
}

static ekey_status_t redis_consume(ekey_store_t *st, const ekey_consume_t *req,
                                   apr_int64_t *uses_left, ekey_error_t *err)
{
    rstore_t *rs = st->ctx;
    script_args_t a;
    redisReply *r;
    conn_t *k;
    ekey_status_t rv;

    *uses_left = 0;
    if (bad_request(req) || build(rs, req, &a) == 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "redis.consume",
                              "bad consume request (limit, expiry, id or key length)");
    if ((rv = checkout(rs, &k, err)) != EKEY_OK)
        return rv;
    /* Sent once only: without a reply the script may have run (the reply lost, a timeout),
     * and running it again would count a second use or see the proof's own jti as a replay
     * (EKEY_SPEC 12.2: an unknown outcome is a consumed use, answered 503). A link that
     * died while idle was dropped by checkout before anything was sent. */
    r = k->c->command(k->c, a.argc, a.argv, a.lens);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);             /* not executed: send the script itself once */
        a.argv[0] = "EVAL";
        a.lens[0] = 4;
        a.argv[1] = SCRIPT;
        a.lens[1] = sizeof(SCRIPT) - 1;
        r = k->c->command(k->c, a.argc, a.argv, a.lens);
    }
    rv = interpret(r, k->c, req->limit, uses_left, err);
    if (r != NULL)
        freeReplyObject(r);
    if (rv == EKEY_OK || rv == EKEY_E_REPLAY || rv == EKEY_E_JTI_REPLAY)
        checkin(rs, k);
    else
        conn_close(k);                  /* reconnect on the next request */
    return rv;
}

/* ------------------------------------------------------------------- create */

static struct timeval to_tv(apr_interval_time_t t)
{
    struct timeval tv;

    if (t <= 0)
        t = apr_time_from_sec(1);
    tv.tv_sec = (time_t)apr_time_sec(t);
    tv.tv_usec = (suseconds_t)apr_time_usec(t);
    return tv;
}

static apr_status_t free_ctx(void *ctx)
{
    SSL_CTX_free(ctx);
    return APR_SUCCESS;
}

static int bad_conf(const ekey_redis_conf_t *conf)
{
    return conf == NULL || conf->host == NULL || conf->host[0] == '\0'
           || conf->port < 0 || conf->port > 65535 || conf->db < 0
           || conf->connect_timeout < 0 || conf->io_timeout < 0
           || (conf->prefix != NULL && strlen(conf->prefix) > MAX_PREFIX)
           || (conf->username != NULL && conf->password == NULL)
           || (conf->tls_ctx != NULL && conf->host[0] == '/');
}

ekey_status_t ekey_redis_store_create(ekey_store_t **out, apr_pool_t *p,
                                      const ekey_redis_conf_t *conf, ekey_error_t *err)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    rstore_t *rs;
    int i;

    *out = NULL;
    if (bad_conf(conf))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "redis.create",
                              "Redis store: host, port 0..65535, db >= 0, prefix <= %d "
                              "bytes, a password with a user name, TLS over TCP only",
                              MAX_PREFIX);
    rs = apr_pcalloc(p, sizeof(*rs));
    rs->host = apr_pstrdup(p, conf->host);
    rs->port = conf->port != 0 ? conf->port : DEFAULT_PORT;
    rs->username = conf->username != NULL ? apr_pstrdup(p, conf->username) : NULL;
    rs->password = conf->password != NULL ? apr_pstrdup(p, conf->password) : NULL;
    rs->db = conf->db;
    rs->prefix = apr_pstrdup(p, conf->prefix != NULL ? conf->prefix : DEFAULT_PREFIX);
    rs->connect_tv = to_tv(conf->connect_timeout);
    rs->io_tv = to_tv(conf->io_timeout);
    rs->io_timeout = conf->io_timeout > 0 ? conf->io_timeout : apr_time_from_sec(1);
    /* As long as a failed connect may have taken, at least 50 ms, at most 1 s. */
    rs->holdoff = conf->connect_timeout > 0 ? conf->connect_timeout : apr_time_from_sec(1);
    if (rs->holdoff < apr_time_from_msec(50))
        rs->holdoff = apr_time_from_msec(50);
    if (rs->holdoff > apr_time_from_sec(1))
        rs->holdoff = apr_time_from_sec(1);
    rs->recheck = conf->policy_recheck > 0 ? conf->policy_recheck : apr_time_from_sec(10);
    rs->notice = conf->notice;
    rs->notice_baton = conf->notice_baton;
    SHA1((const unsigned char *)SCRIPT, sizeof(SCRIPT) - 1, md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        apr_snprintf(rs->sha + 2 * i, 3, "%02x", md[i]);
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&rs->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return ekey_error_set(err, EKEY_E_INTERNAL, "redis.create", "cannot create a mutex");
#endif
    if (conf->tls_ctx != NULL) {
        if (SSL_CTX_up_ref(conf->tls_ctx) != 1)
            return ekey_error_set(err, EKEY_E_INTERNAL, "redis.create", "SSL_CTX_up_ref");
        rs->tls_ctx = conf->tls_ctx;
        rs->tls_name = conf->tls_server_name != NULL ? apr_pstrdup(p, conf->tls_server_name)
                                                     : NULL;
        apr_pool_cleanup_register(p, rs->tls_ctx, free_ctx, apr_pool_cleanup_null);
    }
    apr_pool_cleanup_register(p, rs, close_idle, apr_pool_cleanup_null);
    rs->store.name = "redis";
    rs->store.consume = redis_consume;
    rs->store.ctx = rs;
    *out = &rs->store;
    return EKEY_OK;
}
