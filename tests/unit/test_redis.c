/* test_redis.c - the Redis replay store against a real redis-server that this program starts
 * on 127.0.0.1 (a free port, no persistence) and stops by pid: limits, jti memory, key TTLs,
 * argv-safe keys, error replies, eviction policy, AUTH and SELECT, Redis stopped, frozen and
 * restarted, and exact totals from several processes and threads. Skipped (77) without a
 * redis-server binary. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <hiredis/hiredis.h>

#include "ekey_test.h"
#include "ekey_redis.h"

static int port;
static pid_t server = -1;
static char dir[] = "/tmp/ekey-redis-XXXXXX";

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0
        && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        p = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return p;
}

/* A direct connection for test assertions, or NULL. */
static redisContext *admin(void)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c != NULL && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static redisReply *cmd(const char *a0, const char *a1, const char *a2, const char *a3)
{
    const char *argv[4] = { a0, a1, a2, a3 };
    int argc = a1 == NULL ? 1 : a2 == NULL ? 2 : a3 == NULL ? 3 : 4;
    redisContext *c = admin();
    redisReply *r;

    assert_non_null(c);
    r = redisCommandArgv(c, argc, argv, NULL);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static long long cmd_int(const char *a0, const char *a1, const char *a2)
{
    redisReply *r = cmd(a0, a1, a2, NULL);
    long long v;

    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

static char *cmd_str(apr_pool_t *p, const char *a0, const char *a1)
{
    redisReply *r = cmd(a0, a1, NULL, NULL);
    char *v;

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    v = apr_pstrdup(p, r->str);
    freeReplyObject(r);
    return v;
}

static void cmd_ok(const char *a0, const char *a1, const char *a2, const char *a3)
{
    redisReply *r = cmd(a0, a1, a2, a3);
    if (r->type != REDIS_REPLY_STATUS)
        fail_msg("%s %s: %s", a0, a1 != NULL ? a1 : "", r->str != NULL ? r->str : "?");
    freeReplyObject(r);
}

static int start_server(void)
{
    char portstr[16];
    int i;

    snprintf(portstr, sizeof(portstr), "%d", port);
    server = fork();
    if (server == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);     /* never outlive a crashed test */
#endif
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no",
               (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 100 && server > 0; i++) {   /* up to 5 s for PONG */
        redisContext *c = admin();
        if (c != NULL) {
            redisReply *r = redisCommand(c, "PING");
            int up = r != NULL && r->type == REDIS_REPLY_STATUS;
            if (r != NULL)
                freeReplyObject(r);
            redisFree(c);
            if (up)
                return 0;
        }
        if (waitpid(server, NULL, WNOHANG) == server) {
            server = -1;
            break;
        }
        usleep(50000);
    }
    return -1;
}

static void stop_server(void)
{
    if (server > 0) {
        kill(server, SIGCONT);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = -1;
    }
}

/* --------------------------------------------------------------- fixtures */

static apr_int64_t now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

static ekey_consume_t req(const char *trace, apr_int64_t limit, const char *jti)
{
    ekey_consume_t c = { trace, limit, now() + 60, jti, "jkt-A", now() + 90, now() };
    return c;
}

static ekey_redis_conf_t conf(void)
{
    ekey_redis_conf_t c = { "127.0.0.1", 0, NULL, NULL, 0, "ekt:", 0, 0, NULL, NULL, 0, NULL, NULL };
    c.port = port;
    c.connect_timeout = apr_time_from_msec(300);
    c.io_timeout = apr_time_from_msec(300);
    return c;
}

static ekey_store_t *store_with(apr_pool_t *p, const ekey_redis_conf_t *c)
{
    ekey_store_t *st = NULL;
    assert_status(ekey_redis_store_create(&st, p, c, NULL), EKEY_OK);
    assert_non_null(st);
    assert_string_equal(st->name, "redis");
    return st;
}

static ekey_store_t *store(apr_pool_t *p)
{
    ekey_redis_conf_t c = conf();
    return store_with(p, &c);
}

static ekey_status_t consume(ekey_store_t *st, const ekey_consume_t *c, apr_int64_t *left)
{
    apr_int64_t dummy;
    return st->consume(st, c, left != NULL ? left : &dummy, NULL);
}

/* Retries while the store holds off after a failed connect: up to 5 s. */
static ekey_status_t consume_retry(ekey_store_t *st, const ekey_consume_t *c)
{
    ekey_status_t rv = EKEY_E_STORE_UNAVAILABLE;
    int i;

    for (i = 0; i < 100 && rv == EKEY_E_STORE_UNAVAILABLE; i++) {
        if (i > 0)
            usleep(50000);
        rv = consume(st, c, NULL);
    }
    return rv;
}

/* ------------------------------------------------------------------ tests */

static void test_limits(void **state)
{
    ekey_store_t *st = store(EKEY_TEST_POOL(state));
    ekey_consume_t c = req("lim-1", 1, "j1");
    apr_int64_t left = -1;
    ekey_error_t err;
    int i;

    assert_status(consume(st, &c, &left), EKEY_OK);
    assert_int_equal(left, 0);
    c.jti = "j2";
    left = 9;
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_REPLAY);
    assert_int_equal(err.status, EKEY_E_REPLAY);
    assert_int_equal(left, 0);
    assert_status(consume(st, &c, &left), EKEY_E_JTI_REPLAY);   /* j2 was remembered */
    c.jti = NULL;
    assert_status(consume(st, &c, &left), EKEY_E_REPLAY);
    for (i = 0; i < 3; i++) {
        ekey_consume_t d = req("lim-3", 3, apr_psprintf(EKEY_TEST_POOL(state), "k%d", i));
        assert_status(consume(st, &d, &left), EKEY_OK);
        assert_int_equal(left, 2 - i);
    }
    c = req("lim-3", 3, "k9");
    assert_status(consume(st, &c, &left), EKEY_E_REPLAY);
    /* no increment past the limit */
    assert_string_equal(cmd_str(EKEY_TEST_POOL(state), "GET", "ekt:t:lim-3"), "3");
}

static void test_jti(void **state)
{
    ekey_store_t *st = store(EKEY_TEST_POOL(state));
    ekey_consume_t c = req("jt", 5, "same");
    apr_int64_t left;
    ekey_error_t err;

    assert_status(consume(st, &c, &left), EKEY_OK);
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_JTI_REPLAY);
    assert_int_equal(err.status, EKEY_E_JTI_REPLAY);
    c.trace = "jt-other";                   /* a seen jti with another token */
    assert_status(consume(st, &c, &left), EKEY_E_JTI_REPLAY);
    assert_int_equal(cmd_int("EXISTS", "ekt:t:jt-other", NULL), 0);  /* nothing changed */
    c.trace = "jt";
    c.jkt = "jkt-B";                        /* namespaced by the proof key */
    assert_status(consume(st, &c, &left), EKEY_OK);
    assert_int_equal(left, 3);
    c.jkt = "bad:jkt";                      /* would make "jkt:jti" ambiguous */
    assert_status(consume(st, &c, &left), EKEY_E_INVALID_ARG);
}

static void test_ttls(void **state)
{
    ekey_store_t *st = store(EKEY_TEST_POOL(state));
    ekey_consume_t c = req("ttl", 2, "jt1");
    redisReply *r;
    size_t i;

    assert_status(consume(st, &c, NULL), EKEY_OK);
    /* the counter lives at least until exp + skew, the jti for its window */
    assert_true(cmd_int("PTTL", "ekt:t:ttl", NULL) > 59000);
    assert_true(cmd_int("PTTL", "ekt:t:ttl", NULL) <= 62000);
    assert_true(cmd_int("PTTL", "ekt:j:jkt-A:jt1", NULL) > 89000);
    /* a later request with a longer life extends, a shorter one never shortens */
    c.jti = "jt2";
    c.trace_expires = now() + 120;
    assert_status(consume(st, &c, NULL), EKEY_OK);
    assert_true(cmd_int("PTTL", "ekt:t:ttl", NULL) > 119000);
    /* a key someone left without expiry gets one */
    cmd_ok("SET", "ekt:t:immortal", "1", NULL);
    c = req("immortal", 1, NULL);
    assert_status(consume(st, &c, NULL), EKEY_E_REPLAY);
    assert_true(cmd_int("PTTL", "ekt:t:immortal", NULL) > 0);
    /* no key of ours without an expiry, ever */
    r = cmd("KEYS", "ekt:*", NULL, NULL);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements >= 4);
    for (i = 0; i < r->elements; i++)
        assert_true(cmd_int("TTL", r->element[i]->str, NULL) > 0);
    freeReplyObject(r);
}

/* Ids are argv elements, never command text (CVE-2021-32785 style injection). */
static void test_argv_keys(void **state)
{
    ekey_store_t *st = store(EKEY_TEST_POOL(state));
    const char *odd = "a b\r\n*1\r\n$4\r\nPING %s %n {x}";
    ekey_consume_t c = req(odd, 1, "j \r\n%s");

    assert_status(consume(st, &c, NULL), EKEY_OK);
    assert_int_equal(cmd_int("EXISTS", apr_pstrcat(EKEY_TEST_POOL(state), "ekt:t:", odd, NULL),
                             NULL), 1);
    assert_int_equal(cmd_int("EXISTS", "ekt:j:jkt-A:j \r\n%s", NULL), 1);
    assert_status(consume(st, &c, NULL), EKEY_E_JTI_REPLAY);
}

static void test_error_replies(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_store_t *st = store(p);
    ekey_consume_t c = req("wrongtype", 3, NULL);
    ekey_error_t err;
    apr_int64_t left = 5;

    cmd_int("LPUSH", "ekt:t:wrongtype", "x");
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    assert_int_equal(left, 0);
    cmd_ok("SET", "ekt:t:notnum", "abc", NULL);
    c.trace = "notnum";
    assert_status(consume(st, &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    /* the script cache flushed: EVAL takes over, the request still succeeds */
    cmd_ok("SCRIPT", "FLUSH", NULL, NULL);
    c.trace = "after-flush";
    assert_status(consume(st, &c, NULL), EKEY_OK);
    assert_status(consume(st, &c, NULL), EKEY_OK);
    /* a replica (READONLY) or OOM answer is an error reply like these: the store is not
     * trusted and the request fails closed */
    cmd_ok("CONFIG", "SET", "maxmemory", "1");
    c.trace = "oom";
    assert_status(consume(st, &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    cmd_ok("CONFIG", "SET", "maxmemory", "0");
    assert_status(consume_retry(st, &c), EKEY_OK);
}

static void test_eviction_policy(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_consume_t c = req("policy", 3, NULL);
    ekey_store_t *st;
    apr_int64_t left;
    ekey_error_t err;

    cmd_ok("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    /* no maxmemory: nothing is ever evicted, the policy does not matter */
    assert_status(consume(store(p), &c, NULL), EKEY_OK);
    cmd_ok("CONFIG", "SET", "maxmemory", "100mb");
    st = store(p);                          /* the policy is checked on each new connection */
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    assert_non_null(strstr(err.text, "noeviction"));
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "volatile-ttl");
    assert_status(consume(store(p), &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "noeviction");
    assert_status(consume_retry(store(p), &c), EKEY_OK);
    cmd_ok("CONFIG", "SET", "maxmemory", "0");
}

/* A policy changed under a pooled connection is seen at its next check (policy_recheck):
 * the connection that looked safe when it was made does not stay trusted for ever. */
static void test_eviction_policy_recheck(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_redis_conf_t rc = conf();
    ekey_consume_t c = req("recheck", 5, NULL);
    ekey_store_t *st, *slow;
    apr_int64_t left;
    ekey_error_t err;

    rc.policy_recheck = apr_time_from_msec(20);
    st = store_with(p, &rc);
    slow = store(p);                        /* the default: 10 s */
    assert_status(consume(st, &c, NULL), EKEY_OK);
    assert_status(consume(slow, &c, NULL), EKEY_OK);
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    cmd_ok("CONFIG", "SET", "maxmemory", "100mb");
    /* within the interval the pooled connection is used as it is */
    assert_status(consume(slow, &c, NULL), EKEY_OK);
    apr_sleep(apr_time_from_msec(30));
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    assert_non_null(strstr(err.text, "noeviction"));
    assert_int_equal(left, 0);
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "noeviction");
    cmd_ok("CONFIG", "SET", "maxmemory", "0");
    /* the uses refused were not counted: 3 of 5 spent (st once, slow twice) */
    assert_status(consume_retry(st, &c), EKEY_OK);
    assert_status(consume(st, &c, &left), EKEY_OK);
    assert_int_equal(left, 0);
    assert_status(consume(st, &c, NULL), EKEY_E_REPLAY);
}

static void note(void *baton, const char *msg)
{
    (*(int *)baton)++;
    assert_non_null(strstr(msg, "maxmemory-policy"));
}

/* The ACL deployment.md recommends: enough to count (the script's own commands), and with
 * +config|get the policy is checked; without it the check is skipped and said so, once. */
static void test_acl_user(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_redis_conf_t rc = conf();
    ekey_consume_t c = req("acl", 3, "j-acl");
    ekey_store_t *st;
    int told = 0;
    redisReply *r;

    r = cmd("ACL", "SETUSER", "ekacl", "reset");
    freeReplyObject(r);
    cmd_ok("ACL", "SETUSER", "ekacl", "on");
    cmd_ok("ACL", "SETUSER", "ekacl", ">acl-pw");
    cmd_ok("ACL", "SETUSER", "ekacl", "~ekt:*");
    cmd_ok("ACL", "SETUSER", "ekacl", "+evalsha");
    cmd_ok("ACL", "SETUSER", "ekacl", "+eval");
    cmd_ok("ACL", "SETUSER", "ekacl", "+set");
    cmd_ok("ACL", "SETUSER", "ekacl", "+get");
    cmd_ok("ACL", "SETUSER", "ekacl", "+incr");
    cmd_ok("ACL", "SETUSER", "ekacl", "+pttl");
    cmd_ok("ACL", "SETUSER", "ekacl", "+pexpire");
    rc.username = "ekacl";
    rc.password = "acl-pw";
    rc.notice = note;
    rc.notice_baton = &told;
    st = store_with(p, &rc);
    assert_status(consume(st, &c, NULL), EKEY_OK);
    c.jti = "j-acl-2";
    assert_status(consume(st, &c, NULL), EKEY_OK);
    assert_int_equal(told, 1);                  /* no +config|get: said, once */
    cmd_ok("ACL", "SETUSER", "ekacl", "+config|get");
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    cmd_ok("CONFIG", "SET", "maxmemory", "100mb");
    c.jti = "j-acl-3";                          /* with it, a new connection checks */
    assert_status(consume(store_with(p, &rc), &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    cmd_ok("CONFIG", "SET", "maxmemory-policy", "noeviction");
    cmd_ok("CONFIG", "SET", "maxmemory", "0");
    assert_status(consume_retry(store_with(p, &rc), &c), EKEY_OK);
    assert_int_equal(told, 1);
    r = cmd("ACL", "DELUSER", "ekacl", NULL);
    freeReplyObject(r);
}

static void test_auth_and_db(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_redis_conf_t rc = conf();
    ekey_consume_t c = req("authed", 3, NULL);
    ekey_store_t *st;
    apr_int64_t left;
    ekey_error_t err;

    cmd_ok("ACL", "SETUSER", "ekeyuser", "on");
    cmd_ok("ACL", "SETUSER", "ekeyuser", ">s3cret-user");
    cmd_ok("ACL", "SETUSER", "ekeyuser", "+@all");
    {
        redisReply *r = cmd("ACL", "SETUSER", "ekeyuser", "~*");
        freeReplyObject(r);
    }
    cmd_ok("CONFIG", "SET", "requirepass", "s3cret");
    st = store(p);                          /* no password: NOAUTH */
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    rc.password = "pw-Zq9x";                /* a wrong one: refused, and never logged */
    st = store_with(p, &rc);
    assert_status(st->consume(st, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    assert_null(strstr(err.text, "pw-Zq9x"));
    rc.password = "s3cret";
    rc.db = 3;
    assert_status(consume(store_with(p, &rc), &c, NULL), EKEY_OK);
    rc.username = "ekeyuser";
    rc.password = "s3cret-user";
    assert_status(consume(store_with(p, &rc), &c, NULL), EKEY_OK);
    {   /* the keys went to db 3 */
        struct timeval tv = { 1, 0 };
        redisContext *a = redisConnectWithTimeout("127.0.0.1", port, tv);
        redisReply *r;
        assert_non_null(a);
        freeReplyObject(redisCommand(a, "AUTH s3cret"));
        r = redisCommand(a, "EXISTS ekt:t:authed");
        assert_int_equal(r->integer, 0);
        freeReplyObject(r);
        freeReplyObject(redisCommand(a, "SELECT 3"));
        r = redisCommand(a, "GET ekt:t:authed");
        assert_string_equal(r->str, "2");
        freeReplyObject(r);
        r = redisCommand(a, "CONFIG SET requirepass %s", "");
        freeReplyObject(r);
        redisFree(a);
    }
}

static void test_bad_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_store_t *st = store(p), *st2 = (ekey_store_t *)p;
    ekey_redis_conf_t rc = conf();
    ekey_consume_t c = req("x", 0, NULL);
    char *longid = apr_palloc(p, 1100);
    apr_int64_t left = 3;

    assert_status(st->consume(st, &c, &left, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(left, 0);
    c.limit = 1;
    c.trace_expires = c.now;
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace_expires = c.now + 10;
    c.trace = "";
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace = NULL;
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    memset(longid, 'a', 1099);
    longid[1099] = '\0';
    c.trace = longid;
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    c.trace = "x";
    c.jti = longid;
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    c.jti = "";
    assert_status(consume(st, &c, NULL), EKEY_E_INVALID_ARG);
    assert_status(st->consume(st, NULL, &left, NULL), EKEY_E_INVALID_ARG);
    rc.host = NULL;
    assert_status(ekey_redis_store_create(&st2, p, &rc, NULL), EKEY_E_INVALID_ARG);
    assert_null(st2);
    rc = conf();
    rc.port = 70000;
    assert_status(ekey_redis_store_create(&st2, p, &rc, NULL), EKEY_E_INVALID_ARG);
    rc = conf();
    rc.username = "user-without-password";
    assert_status(ekey_redis_store_create(&st2, p, &rc, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_redis_store_create(&st2, p, NULL, NULL), EKEY_E_INVALID_ARG);
}

/* Redis unreachable, frozen, stopped, back: 503s, bounded waits, recovery in place. */
static void test_outage(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_store_t *st = store(p);
    ekey_redis_conf_t rc = conf();
    ekey_consume_t c = req("outage", 2, NULL);
    ekey_store_t *down;
    apr_int64_t left;
    apr_time_t t0;
    ekey_error_t err;

    rc.port = free_port();                  /* nobody listens there */
    down = store_with(p, &rc);
    assert_status(down->consume(down, &c, &left, &err), EKEY_E_STORE_UNAVAILABLE);
    assert_int_equal(err.status, EKEY_E_STORE_UNAVAILABLE);
    assert_status(consume(st, &c, NULL), EKEY_OK);
    /* frozen (SIGSTOP): the I/O timeout bounds the wait */
    kill(server, SIGSTOP);
    t0 = apr_time_now();
    assert_status(consume(st, &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    assert_true(apr_time_now() - t0 < apr_time_from_msec(1500));
    kill(server, SIGCONT);
    /* the frozen request's increment did happen (unknown outcome = consumed) */
    assert_status(consume_retry(st, &c), EKEY_E_REPLAY);
    /* stopped */
    stop_server();
    assert_status(consume(st, &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    assert_status(consume(st, &c, NULL), EKEY_E_STORE_UNAVAILABLE);
    /* back (empty, no persistence): the same store object recovers by itself */
    assert_int_equal(start_server(), 0);
    c.trace = "after-restart";
    assert_status(consume_retry(st, &c), EKEY_OK);
    assert_status(consume(st, &c, NULL), EKEY_OK);
}

/* ------------------------------------------------------------ concurrency */

#define NPROC 6
#define TRIES 25

/* Children use the store inherited through fork (its connections must not be shared) and
 * report their successes in the exit status. */
static int hammer(ekey_store_t *st, const char *trace, apr_int64_t limit, int who)
{
    int k, ok = 0;

    alarm(60);
    for (k = 0; k < TRIES; k++) {
        char jti[48];
        ekey_consume_t c = req(trace, limit, jti);
        ekey_status_t rv;

        snprintf(jti, sizeof(jti), "%s-%d-%d", trace, who, k);
        rv = consume(st, &c, NULL);
        if (rv == EKEY_OK)
            ok++;
        else if (rv != EKEY_E_REPLAY)
            return 100;
    }
    return ok;
}

static void test_processes(void **state)
{
    static const apr_int64_t limits[] = { 1, 3, 10 };
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_store_t *st = store(p);
    size_t r;
    int i;

    assert_status(consume(st, &(ekey_consume_t){ 0 }, NULL), EKEY_E_INVALID_ARG);
    {   /* the parent holds a live connection before fork */
        ekey_consume_t c = req("pre-fork", 1, NULL);
        assert_status(consume(st, &c, NULL), EKEY_OK);
    }
    for (r = 0; r < sizeof(limits) / sizeof(limits[0]); r++) {
        const char *trace = apr_psprintf(p, "proc-%d", (int)r);
        pid_t pids[NPROC];
        int total = 0;

        for (i = 0; i < NPROC; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0)
                _exit(hammer(st, trace, limits[r], i));
        }
        for (i = 0; i < NPROC; i++) {
            int status = -1;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_true(WEXITSTATUS(status) <= TRIES);
            total += WEXITSTATUS(status);
        }
        assert_int_equal(total, limits[r]);
    }
}

typedef struct {
    ekey_store_t *st;
    const char *trace;
    apr_int64_t limit;
    int who, ok, other;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    int k;

    for (k = 0; k < TRIES; k++) {
        char jti[48];
        ekey_consume_t c = req(w->trace, w->limit, jti);
        ekey_status_t rv;

        snprintf(jti, sizeof(jti), "thr-%d-%d", w->who, k);
        rv = consume(w->st, &c, NULL);
        if (rv == EKEY_OK)
            w->ok++;
        else if (rv != EKEY_E_REPLAY)
            w->other++;
    }
    return NULL;
}

/* One store shared by the threads of a process, as in the event MPM. */
static void test_threads(void **state)
{
    ekey_store_t *st = store(EKEY_TEST_POOL(state));
    pthread_t th[8];
    worker_t w[8];
    int i, ok = 0, other = 0;

    for (i = 0; i < 8; i++) {
        w[i] = (worker_t){ st, "threads", 7, i, 0, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        other += w[i].other;
    }
    assert_int_equal(ok, 7);
    assert_int_equal(other, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_limits),
        EKEY_TEST(test_jti),
        EKEY_TEST(test_ttls),
        EKEY_TEST(test_argv_keys),
        EKEY_TEST(test_error_replies),
        EKEY_TEST(test_eviction_policy),
        EKEY_TEST(test_eviction_policy_recheck),
        EKEY_TEST(test_acl_user),
        EKEY_TEST(test_auth_and_db),
        EKEY_TEST(test_bad_args),
        EKEY_TEST(test_processes),
        EKEY_TEST(test_threads),
        EKEY_TEST(test_outage),
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);               /* as httpd: a dead socket is an error, not death */
    if (mkdtemp(dir) == NULL || (port = free_port()) <= 0)
        return 99;
    if (start_server() != 0) {
        fprintf(stderr, "test_redis: no redis-server could be started: skipped\n");
        stop_server();
        rmdir(dir);
        return 77;
    }
    rc = ekey_test_main(tests);
    stop_server();
    rmdir(dir);
    return rc;
}
