/*
 * ekey_store_conf.c - binds the configured replay store: the shm table (one per httpd) or a
 * Redis store per process, and the Redis TLS context, loaded when the configuration is
 * checked.
 */
#include <string.h>

#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "ekey_config.h"
#include "ekey_shm.h"
#ifdef EKEY_HAVE_HIREDIS
#include "ekey_redis.h"
#endif

APLOG_USE_MODULE(ekey);

#ifdef EKEY_HAVE_HIREDIS
static apr_status_t free_tls_ctx(void *ctx)
{
    SSL_CTX_free(ctx);
    return APR_SUCCESS;
}

#define SAME_STR(x, y) ((x) == (y) || ((x) != NULL && (y) != NULL && strcmp((x), (y)) == 0))
/* The TLS context of sc, loaded now: here rather than in post_config so that `apachectl -t`
 * reads the files too, and as root, so the client key may be readable by root only; the
 * children inherit it through fork. Virtual hosts with the main server's files share its. */
static int load_redis_tls(apr_pool_t *pconf, server_rec *sv, const ekey_srv_conf_t *main_sc)
{
    static const char *const directive[] = { "EKeyRedisTLSCA", "EKeyRedisTLSCert",
                                             "EKeyRedisTLSKey" };
    ekey_srv_conf_t *sc = ekey_srv_conf(sv);
    ekey_error_t err = { 0 };
    SSL_CTX *ctx;
    int which;

    if (sc != main_sc && main_sc->redis_tls_ctx != NULL
        && SAME_STR(sc->redis_tls_ca, main_sc->redis_tls_ca)
        && SAME_STR(sc->redis_tls_cert, main_sc->redis_tls_cert)
        && SAME_STR(sc->redis_tls_key, main_sc->redis_tls_key)) {
        sc->redis_tls_ctx = main_sc->redis_tls_ctx;
        return OK;
    }
    if (ekey_redis_tls_ctx_create(&ctx, sc->redis_tls_ca, sc->redis_tls_cert,
                                  sc->redis_tls_key, &which, &err) != EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, "EKEY00024: %s: %s "
                     "(server %s)", which >= 0 && which <= 2 ? directive[which] : "EKeyRedisTLS",
                     err.text, sv->server_hostname ? sv->server_hostname : "?");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, ctx, free_tls_ctx, apr_pool_cleanup_null);
    sc->redis_tls_ctx = ctx;
    return OK;
}
#endif

/* EKeyRedisTLS On needs its CA, a client certificate needs its key; then the files load. */
/* Where a server counts uses: the kind, and for Redis the place and the key space. */
static const char *store_id(apr_pool_t *p, const ekey_srv_conf_t *sc)
{
    if (sc->store != EKEY_STORE_REDIS)
        return "shm";
    return apr_psprintf(p, "redis %s:%d db %ld prefix %s", sc->redis_host ? sc->redis_host : "?",
                        sc->redis_port, (long)sc->redis_db,
                        sc->redis_prefix ? sc->redis_prefix : "ekey:");
}

/* 1 when the main server has E-Key sections of its own: they apply to every virtual host. */
static int main_sections(server_rec *s)
{
    const apr_array_header_t *dirs = ekey_srv_conf(s)->dirs;
    int i;

    for (i = 0; i < dirs->nelts; i++)
        if (APR_ARRAY_IDX(dirs, i, ekey_dir_rec_t).path != NULL)
            return 1;
    return 0;
}

/* A virtual host that counts in another store than the main server counts the same token
 * separately, since the main server's sections apply to it too (EKEY_SPEC 12.5). Said at
 * startup; not refused, since its own sections may accept other tokens. */
static void warn_split_stores(apr_pool_t *p, server_rec *s)
{
    const char *main_id = store_id(p, ekey_srv_conf(s)), *id;
    server_rec *sv;

    if (!main_sections(s))
        return;
    for (sv = s->next; sv != NULL; sv = sv->next)
        if (strcmp(id = store_id(p, ekey_srv_conf(sv)), main_id) != 0)
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL, "EKEY00027: "
                         "virtual host %s:%u counts E-Key uses in %s, the main server in %s: "
                         "a token both accept is counted in each (give them one store)",
                         sv->server_hostname ? sv->server_hostname : "?",
                         (unsigned)(sv->port ? sv->port : sv->addrs ? sv->addrs->host_port : 0),
                         id, main_id);
}

int ekey_store_check_config(apr_pool_t *pconf, server_rec *s)
{
    ekey_srv_conf_t *sc;
    server_rec *sv;
    const char *bad;
    int rv = OK;

    warn_split_stores(pconf, s);
    for (sv = s; sv != NULL; sv = sv->next) {
        sc = ekey_srv_conf(sv);
        sc->redis_tls_ctx = NULL;
        if (!sc->redis_tls)
            continue;
        bad = sc->redis_tls_ca == NULL
              ? "EKeyRedisTLS On needs EKeyRedisTLSCA, the CA file that verifies the Redis "
                "server's certificate"
              : (sc->redis_tls_cert == NULL) != (sc->redis_tls_key == NULL)
              ? "EKeyRedisTLSCert and EKeyRedisTLSKey go together: give both or neither"
              : sc->redis_host != NULL && sc->redis_host[0] == '/'
              ? "EKeyRedisTLS On needs a host:port EKeyRedisServer, not a Unix socket (which "
                "never leaves the machine: use it without TLS)"
              : NULL;
        if (bad != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, "EKEY00023: %s "
                         "(server %s)", bad, sv->server_hostname ? sv->server_hostname : "?");
            rv = HTTP_INTERNAL_SERVER_ERROR;
            continue;
        }
#ifdef EKEY_HAVE_HIREDIS
        if (load_redis_tls(pconf, sv, ekey_srv_conf(s)) != OK)
            rv = HTTP_INTERNAL_SERVER_ERROR;
#endif
    }
    return rv;
}

/* ------------------------------------------------------------ replay store binding */

/* 1 if some section of some server uses EKey directives: only then is a store needed (a
 * server that loads mod_ekey without using it must not need mod_slotmem_shm). */
static int ekey_used(server_rec *s)
{
    for (; s != NULL; s = s->next)
        if (ekey_srv_conf(s)->dirs->nelts > 0)
            return 1;
    return 0;
}

ekey_store_t *ekey_srv_store(const server_rec *s)
{
    const ekey_srv_conf_t *sc = ekey_srv_conf(s);

    return sc->store == EKEY_STORE_REDIS ? sc->redis_store : ekey_shm_store();
}

int ekey_store_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    ekey_shm_register(pconf);
    return OK;
}

/* One shm table for the whole httpd, sized by the main server (the directives are global);
 * made after the dry run, and a failure stops the start instead of answering 503 later. */
int ekey_store_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    const ekey_srv_conf_t *main_sc = ekey_srv_conf(s);
    server_rec *sv;
    apr_status_t rv;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG || !ekey_used(s))
        return OK;
    for (sv = s; sv != NULL; sv = sv->next)
        if (ekey_srv_conf(sv)->store == EKEY_STORE_SHM)
            break;
    if (sv == NULL)
        return OK;
    rv = ekey_shm_init(pconf, s, (apr_size_t)main_sc->capacity, main_sc->persist);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s, "EKEY00021: cannot "
                     "create the shm replay store (is mod_slotmem_shm loaded?)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

#ifdef EKEY_HAVE_HIREDIS
static int same_redis(const ekey_srv_conf_t *a, const ekey_srv_conf_t *b)
{
    return SAME_STR(a->redis_host, b->redis_host) && a->redis_port == b->redis_port
           && SAME_STR(a->redis_user, b->redis_user)
           && SAME_STR(a->redis_password, b->redis_password) && a->redis_db == b->redis_db
           && SAME_STR(a->redis_prefix, b->redis_prefix)
           && a->redis_timeout == b->redis_timeout && a->redis_tls == b->redis_tls
           && a->redis_tls_ctx == b->redis_tls_ctx
           && SAME_STR(a->redis_tls_name, b->redis_tls_name);
#undef SAME_STR
}

/* A Redis store per process (connections never cross fork); servers with the main server's
 * settings share its store. The store connects on first use, so Redis may be down now. */
static void redis_notice(void *baton, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, baton, "EKEY00105: %s", msg);
}

static void redis_child_init(apr_pool_t *pchild, server_rec *s)
{
    ekey_srv_conf_t *main_sc = ekey_srv_conf(s), *sc;
    ekey_redis_conf_t rc;
    ekey_error_t err = { 0 };
    server_rec *sv;

    for (sv = s; sv != NULL; sv = sv->next) {
        sc = ekey_srv_conf(sv);
        sc->redis_store = NULL;
        if (sc->store != EKEY_STORE_REDIS)
            continue;
        if (sc != main_sc && main_sc->redis_store != NULL && same_redis(sc, main_sc)) {
            sc->redis_store = main_sc->redis_store;
            continue;
        }
        memset(&rc, 0, sizeof(rc));
        rc.host = sc->redis_host;
        rc.port = sc->redis_port;
        rc.username = sc->redis_user;
        rc.password = sc->redis_password;
        rc.db = (int)sc->redis_db;
        rc.prefix = sc->redis_prefix;
        rc.connect_timeout = rc.io_timeout = apr_time_from_msec(sc->redis_timeout);
        rc.notice = redis_notice;
        rc.notice_baton = sv;
        rc.tls_ctx = sc->redis_tls ? sc->redis_tls_ctx : NULL;
        rc.tls_server_name = sc->redis_tls_name;
        if (sc->redis_tls && rc.tls_ctx == NULL)    /* never plain TCP instead: no store */
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sv, "EKEY00022: no TLS context for "
                         "Redis: requests will get 503");
        else if (ekey_redis_store_create(&sc->redis_store, pchild, &rc, &err) != EKEY_OK)
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sv, "EKEY00022: cannot create the "
                         "Redis replay store (%s): requests will get 503", err.text);
    }
}
#endif

void ekey_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    ekey_shm_child_init(pchild, s);
#ifdef EKEY_HAVE_HIREDIS
    redis_child_init(pchild, s);
#endif
}
