/*
 * ekey_redis_link.h - the Redis store's transport: one blocking command, one reply.
 *
 * redis.c keeps one code path for the script logic (EVALSHA, NOSCRIPT, EVAL) and the
 * connection handshake; a link only moves a command out and a reply back. Plain TCP is
 * hiredis's own redisContext (redis.c); TLS is our OpenSSL socket with hiredis's command
 * formatter and reply reader (redis_tls.c), since hiredis 0.14 has no TLS.
 */
#ifndef EKEY_REDIS_LINK_H
#define EKEY_REDIS_LINK_H

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <apr_time.h>
#include <hiredis/hiredis.h>
#include <openssl/ssl.h>
#include "ekey.h"

typedef struct ekey_redis_link_t ekey_redis_link_t;
struct ekey_redis_link_t {
    /* The reply (free with freeReplyObject), or NULL on an I/O, TLS or protocol error, after
     * which the link is unusable and errstr says why. */
    redisReply *(*command)(ekey_redis_link_t *l, int argc, const char **argv,
                           const size_t *lens);
    const char *(*errstr)(const ekey_redis_link_t *l);
    void (*close)(ekey_redis_link_t *l);
    /* 1 when an idle link has received nothing since its last reply: Redis sends nothing
     * unasked, so anything readable is its close (a restart, its timeout) or garbage. */
    int (*quiet)(const ekey_redis_link_t *l);
    /* Set by the store: every reply must be complete by then (a Redis or a path that
     * trickles its answer a byte at a time is a timeout, not a slow success). */
    apr_time_t deadline;
};

/* Before a blocking read on fd: the time left until deadline as its receive timeout. 0 when
 * the deadline has passed (or the timeout cannot be set): the read must not happen. */
static inline int ekey_redis_fd_budget(int fd, apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();
    struct timeval tv;

    if (left <= 0)
        return 0;
    tv.tv_sec = (time_t)apr_time_sec(left);
    tv.tv_usec = (suseconds_t)apr_time_usec(left);
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
}

/* No byte (nor end of stream) waiting on fd. */
static inline int ekey_redis_fd_quiet(int fd)
{
    struct pollfd pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return fd >= 0 && poll(&pfd, 1, 0) == 0;
}

/* TCP connect within connect_tv, then a TLS handshake verified by ctx (CA always, see
 * ekey_redis_tls_ctx_create) and the peer's name: server_name if non-NULL, else host; an IP
 * address is matched against the certificate's IP entries, a name against its DNS names
 * (and sent as SNI). The handshake must complete within io_tv, each command and its whole
 * reply by the link's deadline (the socket is non-blocking; every wait is a poll). */
ekey_status_t ekey_redis_tls_dial(ekey_redis_link_t **out, SSL_CTX *ctx, const char *host,
                                  int port, const char *server_name, struct timeval connect_tv,
                                  struct timeval io_tv, ekey_error_t *err) EKEY_WUR;

#endif /* EKEY_REDIS_LINK_H */
