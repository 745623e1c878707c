/*
 * ekey_redis.h - the Redis replay store (hiredis), for fleets of servers sharing one count.
 *
 * One round trip per request: a Lua script (EVALSHA, EVAL after NOSCRIPT) that remembers the
 * DPoP jti with SET NX PX and checks-and-increments the trace counter, every key with an
 * expiry. Any connect, I/O or protocol error, timeout, error reply or unexpected reply is
 * EKEY_E_STORE_UNAVAILABLE (fail closed); the next request connects again.
 *
 * Requirements on the Redis side (see EKEY_SPEC.md): a standalone server or a primary (not
 * Redis Cluster: the two keys of a request are used in one script), `maxmemory-policy
 * noeviction` (or no maxmemory): any other policy may evict live replay keys, so a new
 * connection refuses such a server when CONFIG GET is allowed. hiredis 0.14 (Debian 12) has
 * no TLS, so with a TLS context the store speaks TLS itself (redis_tls.c: OpenSSL, hiredis's
 * command formatter and reply reader); the server certificate is always verified.
 *
 * Thread safety: a store may be shared by the threads of a process (event/worker MPM). It
 * keeps a small mutex-protected set of idle connections; a connection is used by one thread
 * at a time and never across fork (a connection made by another process is dropped).
 */
#ifndef EKEY_REDIS_H
#define EKEY_REDIS_H

#include <apr_time.h>
#include <openssl/ssl.h>
#include "ekey.h"

typedef struct {
    const char *host;                    /* name or address, or "/path" for a Unix socket */
    int port;                            /* 0: 6379 */
    const char *username;                /* Redis 6 ACL user, or NULL */
    const char *password;                /* AUTH when non-NULL */
    int db;                              /* SELECT when non-zero */
    const char *prefix;                  /* key prefix, NULL: "ekey:" */
    apr_interval_time_t connect_timeout; /* 0: 1 s */
    apr_interval_time_t io_timeout;      /* 0: 1 s */
    SSL_CTX *tls_ctx;                    /* non-NULL: TLS (ekey_redis_tls_ctx_create) */
    const char *tls_server_name;         /* name the certificate must carry, NULL: host */
    apr_interval_time_t policy_recheck;  /* a pooled connection's eviction-policy check is
                                          * repeated after this long; 0: 10 s */
    /* told once per store when Redis does not let us read its eviction policy (CONFIG not
     * allowed): the check is then skipped, which the administrator must know; may be NULL */
    void (*notice)(void *baton, const char *msg);
    void *notice_baton;
} ekey_redis_conf_t;

/* A client context for TLS to Redis: TLS 1.2 or later, the server certificate verified
 * against ca_file only (never the system store), and a client certificate with its key when
 * both are given (Redis `tls-auth-clients`). The files are read now, so call it at startup,
 * as root if the key is private; the context may be shared by the processes forked later.
 * On a file error *bad_file (if non-NULL) is 0 for the CA, 1 the certificate, 2 the key. */
ekey_status_t ekey_redis_tls_ctx_create(SSL_CTX **out, const char *ca_file,
                                        const char *cert_file, const char *key_file,
                                        int *bad_file, ekey_error_t *err) EKEY_WUR;

/* Creates the store; connects lazily on the first consume (so it may be created before
 * fork). Copies conf into p, holding a reference on tls_ctx; connections are closed when p
 * is destroyed. Keys: prefix "t:" trace, and prefix "j:" jkt ":" jti. */
ekey_status_t ekey_redis_store_create(ekey_store_t **out, apr_pool_t *p,
                                      const ekey_redis_conf_t *conf,
                                      ekey_error_t *err) EKEY_WUR;

#endif /* EKEY_REDIS_H */
