/*
 * redis_tls.c - TLS to Redis with OpenSSL, for hiredis 0.14 which has none.
 *
 * A non-blocking socket driven by poll() against one deadline per exchange (the handshake;
 * a command and its whole reply): OpenSSL reads a record with as many read() calls as the
 * bytes arrive in, so a per-read timeout would let a Redis or a path that trickles its bytes
 * hold the request for as long as it likes. A TLS 1.2+ session whose server certificate is
 * always verified against the configured CA and the expected name, hiredis's
 * redisFormatCommandArgv for the request and its redisReader for the reply, so replies look
 * exactly like the plain TCP path's. Any failure leaves the link broken with the OpenSSL
 * reason in errstr; the store then answers 503 and reconnects on a later request (fail
 * closed, never an accept).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ekey_redis.h"
#include "ekey_redis_link.h"

#define READ_CHUNK 16384

typedef struct {
    ekey_redis_link_t link;           /* first: the store sees only this */
    int fd;
    SSL *ssl;
    redisReader *reader;
    int broken;                       /* no close_notify on a failed session */
    char errstr[160];
} tls_link_t;

/* The OpenSSL reason for the last failure (and the verify result when that was the cause),
 * draining this thread's error queue so it cannot leak into another request. */
static void ssl_reason(tls_link_t *t, const char *what, int ret)
{
    unsigned long e = ERR_peek_last_error();
    long vr = t->ssl != NULL ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    int se = t->ssl != NULL ? SSL_get_error(t->ssl, ret) : SSL_ERROR_SSL;
    char buf[120];

    t->broken = 1;
    if (vr != X509_V_OK)
        snprintf(t->errstr, sizeof(t->errstr), "TLS %s: certificate verify failed: %s", what,
                 X509_verify_cert_error_string(vr));
    else if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(t->errstr, sizeof(t->errstr), "TLS %s: %s", what, buf);
    }
    else if (se == SSL_ERROR_ZERO_RETURN || (se == SSL_ERROR_SYSCALL && errno == 0))
        snprintf(t->errstr, sizeof(t->errstr), "TLS %s: connection closed by Redis", what);
    else if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE
             || (se == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)))
        snprintf(t->errstr, sizeof(t->errstr), "TLS %s: timeout", what);
    else
        snprintf(t->errstr, sizeof(t->errstr), "TLS %s: %s", what, strerror(errno));
    ERR_clear_error();
}

static const char *tls_errstr(const ekey_redis_link_t *l)
{
    return ((const tls_link_t *)l)->errstr;
}

static void tls_close(ekey_redis_link_t *l)
{
    tls_link_t *t = (tls_link_t *)l;

    if (t->ssl != NULL) {
        if (!t->broken)
            (void)SSL_shutdown(t->ssl);   /* sends close_notify; never waits for Redis's */
        SSL_free(t->ssl);
    }
    if (t->fd >= 0)
        close(t->fd);
    if (t->reader != NULL)
        redisReaderFree(t->reader);
    ERR_clear_error();
    free(t);
}

static int tls_quiet(const ekey_redis_link_t *l)
{
    const tls_link_t *t = (const tls_link_t *)l;

    return !t->broken && SSL_pending(t->ssl) == 0 && t->reader->len == t->reader->pos
           && ekey_redis_fd_quiet(t->fd);
}

/* After an SSL call returned ret: waits until the socket can do what OpenSSL wants, within
 * deadline. 0: try the call again; -1: the link is broken (errstr says why). */
static int tls_wait(tls_link_t *t, int ret, apr_time_t deadline, const char *what)
{
    int se = SSL_get_error(t->ssl, ret), rc;
    struct pollfd pfd;
    apr_interval_time_t left;

    if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
        ssl_reason(t, what, ret);
        return -1;
    }
    ERR_clear_error();
    pfd.fd = t->fd;
    pfd.events = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    do {
        pfd.revents = 0;
        left = deadline - apr_time_now();
        rc = left > 0 ? poll(&pfd, 1, (int)((left + 999) / 1000)) : 0;
    } while (rc < 0 && errno == EINTR);
    if (rc > 0)
        return 0;
    t->broken = 1;
    snprintf(t->errstr, sizeof(t->errstr), "TLS %s: %s", what,
             rc == 0 ? "timeout (EKeyRedisTimeout for the whole exchange)" : strerror(errno));
    return -1;
}

static redisReply *tls_command(ekey_redis_link_t *l, int argc, const char **argv,
                               const size_t *lens)
{
    tls_link_t *t = (tls_link_t *)l;
    char *cmd = NULL, buf[READ_CHUNK];
    void *reply = NULL;
    int len, n;

    if (t->broken)
        return NULL;
    ERR_clear_error();
    if ((len = redisFormatCommandArgv(&cmd, argc, argv, lens)) < 0) {
        snprintf(t->errstr, sizeof(t->errstr), "out of memory");
        t->broken = 1;
        return NULL;
    }
    /* without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write sends all or nothing; a retry after
     * WANT_WRITE repeats the same arguments */
    while ((n = SSL_write(t->ssl, cmd, len)) <= 0)
        if (tls_wait(t, n, l->deadline, "write") != 0)
            break;
    redisFreeCommand(cmd);
    if (n != len) {
        if (!t->broken)
            ssl_reason(t, "write", n);
        return NULL;
    }
    for (;;) {
        if (redisReaderGetReply(t->reader, &reply) != REDIS_OK) {
            snprintf(t->errstr, sizeof(t->errstr), "protocol error: %.100s", t->reader->errstr);
            t->broken = 1;
            return NULL;
        }
        if (reply != NULL)
            return reply;
        if (apr_time_now() >= l->deadline) {
            snprintf(t->errstr, sizeof(t->errstr), "TLS read: timeout (the whole reply)");
            t->broken = 1;
            return NULL;
        }
        while ((n = SSL_read(t->ssl, buf, sizeof(buf))) <= 0)
            if (tls_wait(t, n, l->deadline, "read") != 0)
                return NULL;
        if (redisReaderFeed(t->reader, buf, (size_t)n) != REDIS_OK) {
            snprintf(t->errstr, sizeof(t->errstr), "out of memory");
            t->broken = 1;
            return NULL;
        }
    }
}

/* ----------------------------------------------------------------- connect */

/* Connects fd to ai within tv; the socket stays non-blocking (tls_wait). 0 on success. */
static int connect_within(int fd, const struct addrinfo *ai, struct timeval tv)
{
    struct pollfd pfd = { fd, POLLOUT, 0 };
    int flags = fcntl(fd, F_GETFL), soerr = 0, ms, rc;
    socklen_t sl = sizeof(soerr);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno != EINPROGRESS)
        return -1;
    if (rc < 0) {
        ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
        do
            rc = poll(&pfd, 1, ms > 0 ? ms : 1);
        while (rc < 0 && errno == EINTR);
        if (rc == 0)
            errno = ETIMEDOUT;
        if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return -1;
        if (soerr != 0) {
            errno = soerr;
            return -1;
        }
    }
    return 0;
}

static int tcp_open(tls_link_t *t, const char *host, int port, struct timeval connect_tv)
{
    struct addrinfo hints, *res = NULL, *ai;
    char svc[8];
    int rc, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(svc, sizeof(svc), "%d", port);
    if ((rc = getaddrinfo(host, svc, &hints, &res)) != 0) {
        snprintf(t->errstr, sizeof(t->errstr), "%s", gai_strerror(rc));
        return -1;
    }
    snprintf(t->errstr, sizeof(t->errstr), "no usable address");
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (t->fd < 0)
            continue;
        if (connect_within(t->fd, ai, connect_tv) == 0)
            break;
        snprintf(t->errstr, sizeof(t->errstr), "%s", strerror(errno));
        close(t->fd);
        t->fd = -1;
    }
    freeaddrinfo(res);
    if (t->fd < 0)
        return -1;
    (void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)setsockopt(t->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    return 0;
}

/* The name the certificate must carry: an IP address in its IP entries, else a DNS name. */
static int expect_peer(SSL *ssl, const char *name)
{
    unsigned char ip[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    /* the DNS names only (RFC 6125): a certificate without one does not match by its CN */
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS
                           | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    return SSL_set1_host(ssl, name) == 1 && SSL_set_tlsext_host_name(ssl, name) == 1;
}

ekey_status_t ekey_redis_tls_dial(ekey_redis_link_t **out, SSL_CTX *ctx, const char *host,
                                  int port, const char *server_name, struct timeval connect_tv,
                                  struct timeval io_tv, ekey_error_t *err)
{
    tls_link_t *t = calloc(1, sizeof(*t));
    ekey_status_t st;
    apr_time_t deadline;
    int rc;

    *out = NULL;
    if (t == NULL)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect", "out of memory");
    t->fd = -1;
    t->link.command = tls_command;
    t->link.quiet = tls_quiet;
    t->link.errstr = tls_errstr;
    t->link.close = tls_close;
    ERR_clear_error();
    if (tcp_open(t, host, port, connect_tv) != 0)
        goto fail;
    deadline = apr_time_now() + apr_time_from_sec(io_tv.tv_sec) + io_tv.tv_usec;
    t->broken = 1;                    /* until the handshake completes */
    if ((t->reader = redisReaderCreate()) == NULL || (t->ssl = SSL_new(ctx)) == NULL
        || SSL_set_fd(t->ssl, t->fd) != 1
        || !expect_peer(t->ssl, server_name != NULL ? server_name : host)) {
        ssl_reason(t, "setup", 0);
        goto fail;
    }
    /* the whole handshake within one EKeyRedisTimeout, however the bytes arrive */
    while ((rc = SSL_connect(t->ssl)) != 1)
        if (tls_wait(t, rc, deadline, "handshake") != 0)
            goto fail;
    t->broken = 0;
    *out = &t->link;
    return EKEY_OK;
fail:
    st = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "redis.connect", "%s:%d: %s", host,
                        port, t->errstr);
    tls_close(&t->link);
    return st;
}

/* ----------------------------------------------------------------- context */

static ekey_status_t ctx_fail(SSL_CTX *ctx, int which, int *bad_file, const char *what,
                              const char *file, ekey_error_t *err)
{
    unsigned long e = ERR_peek_last_error();
    char buf[120] = "unusable";

    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    SSL_CTX_free(ctx);
    if (bad_file != NULL)
        *bad_file = which;
    return ekey_error_set(err, EKEY_E_KEY_FILE, "redis.tls", "%s %s: %s", what, file, buf);
}

ekey_status_t ekey_redis_tls_ctx_create(SSL_CTX **out, const char *ca_file,
                                        const char *cert_file, const char *key_file,
                                        int *bad_file, ekey_error_t *err)
{
    SSL_CTX *ctx;

    *out = NULL;
    if (bad_file != NULL)
        *bad_file = -1;
    if (ca_file == NULL || (cert_file == NULL) != (key_file == NULL))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "redis.tls",
                              "a CA file is required; a certificate needs its key");
    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL
        || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        return ctx_fail(ctx, -1, bad_file, "TLS", "context", err);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    /* Only the configured CA: never the system store, which would trust any public CA. */
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
        return ctx_fail(ctx, 0, bad_file, "CA file", ca_file, err);
    if (cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
            return ctx_fail(ctx, 1, bad_file, "certificate", cert_file, err);
        if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1
            || SSL_CTX_check_private_key(ctx) != 1)
            return ctx_fail(ctx, 2, bad_file, "key (or it does not match the certificate)",
                            key_file, err);
    }
    *out = ctx;
    return EKEY_OK;
}
