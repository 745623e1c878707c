/*
 * ekey_config.h - mod_ekey's configuration (per directory and per server), the per-request
 * state shared by the authn hook, the authz provider, the error responder and the audit log,
 * and the hook functions each glue file gives mod_ekey.c to register.
 */
#ifndef EKEY_CONFIG_H
#define EKEY_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "ekey.h"

/* Built with -fvisibility=hidden: the module record is the one symbol httpd must see. */
#if defined(__GNUC__)
#define EKEY_MODULE_EXPORT __attribute__((visibility("default")))
#else
#define EKEY_MODULE_EXPORT
#endif
extern module AP_MODULE_DECLARE_DATA EKEY_MODULE_EXPORT ekey_module;

/* Per-directory verification policy. Every field has an explicit _set bit: the merge takes
 * the child's value when it was set there, so "unset" never needs a magic value. */
typedef struct {
    const char *issuer;             /* EKeyIssuer: required iss */
    const char *audience;           /* EKeyAudience: required aud */
    ekey_keyset_t *keys;            /* EKeyTrustedKey / EKeyTrustedJWKS, loaded from pconf */
    const char *origin;             /* EKeyPublicOrigin, normalised; NULL: from the server */
    apr_int64_t skew;               /* EKeyClockSkew */
    apr_int64_t proof_max_age;      /* EKeyProofMaxAge */
    apr_int64_t max_ttl;            /* EKeyMaxTTL */
    apr_int64_t max_uses;           /* EKeyMaxUses: bound on cap.limit */
    apr_int64_t max_len;            /* EKeyMaxTokenLength: token and proof */
    unsigned token_algs;            /* EKeyTokenAlgorithms (ekey_alg_t bits) */
    unsigned proof_algs;            /* EKeyProofAlgorithms */
    int spiffe_subject;             /* EKeySpiffeSubject */
    const char *realm;              /* EKeyRealm */
    int audit;                      /* EKeyAudit */
    /* addressable (not bit-fields) so the generic setters can reach them by offset */
    char issuer_set, audience_set, keys_set, origin_set, skew_set, proof_max_age_set,
         max_ttl_set, max_uses_set, max_len_set, token_algs_set, proof_algs_set,
         spiffe_subject_set, realm_set, audit_set;
    char listed;                    /* recorded for the startup check */
} ekey_dir_conf_t;

typedef enum { EKEY_STORE_SHM = 0, EKEY_STORE_REDIS } ekey_store_kind_t;

/* A configuration section that used EKey directives, kept for the startup check. */
typedef struct {
    ekey_dir_conf_t *conf;
    const char *section;            /* "<Location", "<Directory", ... or "server" */
    const char *path;               /* the section's argument, NULL at server level */
    const char *file;               /* where it was configured, for the message */
    int line;
} ekey_dir_rec_t;

/* Per-server settings (RSRC_CONF): the replay store and the audit log. */
typedef struct {
    ekey_store_kind_t store;        /* EKeyReplayStore */
    apr_int64_t capacity;           /* EKeyReplayCapacity */
    int persist;                    /* EKeyReplayPersist */
    const char *redis_host;         /* EKeyRedisServer */
    apr_port_t redis_port;
    const char *redis_user;         /* EKeyRedisAuth */
    const char *redis_password;
    apr_int64_t redis_db;           /* EKeyRedisDB */
    const char *redis_prefix;       /* EKeyRedisPrefix */
    apr_int64_t redis_timeout;      /* EKeyRedisTimeout, milliseconds */
    int redis_tls;                  /* EKeyRedisTLS */
    const char *redis_tls_ca;       /* EKeyRedisTLSCA, absolute path */
    const char *redis_tls_cert;     /* EKeyRedisTLSCert */
    const char *redis_tls_key;      /* EKeyRedisTLSKey */
    const char *redis_tls_name;     /* EKeyRedisTLSServerName, NULL: the server's host */
    const char *audit_log;          /* EKeyAuditLog: file or "|command" */
    char store_set, capacity_set, persist_set, redis_host_set, redis_auth_set, redis_db_set,
         redis_prefix_set, redis_timeout_set, redis_tls_set, redis_tls_ca_set,
         redis_tls_cert_set, redis_tls_key_set, redis_tls_name_set, audit_log_set;
    /* runtime state, never merged */
    apr_array_header_t *dirs;       /* ekey_dir_rec_t of this server's sections */
    apr_file_t *audit_fd;           /* opened in open_logs */
    ekey_store_t *redis_store;      /* created in child_init */
    struct ssl_ctx_st *redis_tls_ctx; /* loaded at startup (check_config), in pconf */
} ekey_srv_conf_t;

#define EKEY_DEFAULT_MAX_USES      100
#define EKEY_DEFAULT_CAPACITY      100000
#define EKEY_DEFAULT_REDIS_PORT    6379
#define EKEY_DEFAULT_REDIS_TIMEOUT 200          /* ms, connect and io */
#define EKEY_DEFAULT_REDIS_PREFIX  "ekey:"
#define EKEY_DEFAULT_REALM         "ekey"
#define EKEY_AUTH_TYPE             "EKey"

/* What mod_ekey decided for one request (kept on the initial request of a chain and on
 * every internal request it reached), read by authz, the responder and the audit log. */
typedef struct {
    ekey_status_t status;           /* EKEY_OK: verified (and, once `consumed`, one use
                                     * taken); otherwise why it was refused */
    const ekey_token_t *token;      /* verified claims (NULL before the signature passed) */
    const ekey_dir_conf_t *dc;      /* policy of the deciding location */
    apr_int64_t uses_left;          /* -1: unknown */
    apr_int64_t now;                /* the clock when the credentials are checked: not
                                     * request_time, which a client that sends its header
                                     * fields slowly leaves behind (an expired token) */
    const char *jkt;                /* thumbprint of the proof key (DPoP) */
    const char *spiffe_id;          /* SPIFFE ID of the client certificate, if any */
    ekey_error_t err;               /* detail for the error log (never sent) */
    ekey_status_t pending;          /* authz refusal waiting for httpd's verdict */
    ekey_status_t chain;            /* an internal request (DirectoryIndex, a rewrite) was
                                     * refused after this one took the use */
    int http_status;                /* status of our error answer, 0 before any */
    unsigned responded : 1;         /* headers and body arranged */
    unsigned custom_body : 1;       /* the body is our JSON (no ErrorDocument) */
    unsigned filtered : 1;          /* the error filter is in place */
    unsigned audited : 1;
    unsigned consumed : 1;          /* the use is taken (after authorization passed) */
    ekey_consume_t consume;         /* what the fixups hook takes from the store */
} ekey_req_t;

/* The decision to log and count for the initial request r: a verified E-Key that
 * authorization then refused (another Require provider, so nothing was taken) is an
 * authorization refusal, not an allow; one whose internal request was refused, when the
 * answer is that refusal, is that refusal (its use was taken). */
ekey_status_t ekey_req_outcome(request_rec *r, const ekey_req_t *rq);

/* ekey_config.c. The directive table lives in mod_ekey.c; generic setters find their field
 * through cmd->info, an ekey_field_t. */
typedef struct {
    apr_size_t off, set_off;        /* the field and its _set flag */
    apr_int64_t min, max;           /* numbers: the range; strings: the length */
} ekey_field_t;
extern const ekey_field_t ekey_f_issuer, ekey_f_audience, ekey_f_realm, ekey_f_skew,
    ekey_f_proof_max_age, ekey_f_max_ttl, ekey_f_max_uses, ekey_f_max_len,
    ekey_f_spiffe_subject, ekey_f_audit, ekey_f_capacity, ekey_f_persist, ekey_f_redis_db,
    ekey_f_redis_prefix, ekey_f_redis_timeout, ekey_f_token_algs, ekey_f_proof_algs,
    ekey_f_redis_tls, ekey_f_redis_tls_ca, ekey_f_redis_tls_cert, ekey_f_redis_tls_key,
    ekey_f_redis_tls_name;
const char *ekey_set_dir_string(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_dir_int(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_dir_flag(cmd_parms *cmd, void *dconf, int on);
const char *ekey_set_srv_string(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_srv_int(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_srv_flag(cmd_parms *cmd, void *dconf, int on);
const char *ekey_set_key(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_jwks(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_origin(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_algs(cmd_parms *cmd, void *dconf, const char *args);
const char *ekey_set_store(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_redis_server(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_redis_auth(cmd_parms *cmd, void *dconf, const char *a1, const char *a2);
const char *ekey_set_srv_file(cmd_parms *cmd, void *dconf, const char *arg);
const char *ekey_set_audit_log(cmd_parms *cmd, void *dconf, const char *arg);
void *ekey_dir_create(apr_pool_t *p, char *dir);
void *ekey_dir_merge(apr_pool_t *p, void *basev, void *addv);
void *ekey_srv_create(apr_pool_t *p, server_rec *s);
void *ekey_srv_merge(apr_pool_t *p, void *basev, void *addv);
int ekey_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* Policy with defaults applied, for a request's location. */
const ekey_dir_conf_t *ekey_dir_conf(const request_rec *r);
ekey_srv_conf_t *ekey_srv_conf(const server_rec *s);
/* 1 if the location has what verification needs (keys, issuer, audience). */
int ekey_dir_complete(const ekey_dir_conf_t *dc);

/* The replay store of a server (ekey_config.c): the shm table, or its Redis store. NULL when
 * there is none (requests then get 503). */
ekey_store_t *ekey_srv_store(const server_rec *s);
/* From check_config: the Redis TLS settings are complete and their files load. */
int ekey_store_check_config(apr_pool_t *pconf, server_rec *s);
int ekey_store_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int ekey_store_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s);
void ekey_store_child_init(apr_pool_t *pchild, server_rec *s);

/* The largest EKeyClockSkew anywhere in the configuration: a trace's use count is kept until
 * exp plus it, since every location sharing the store accepts the token that long at most. */
apr_int64_t ekey_skew_max(void);
apr_int64_t ekey_proof_age_max(void);

/* ekey_authn.c */
int ekey_post_read_request(request_rec *r);
/* ekey_headers.c: Authorization and DPoP removed from q; 1 when a (possibly merged)
 * Authorization value holds an EKey credential. */
void ekey_drop_credentials(request_rec *q);
int ekey_has_credential(const char *v);
/* The Authorization or DPoP field of the initial request top as the client sent it (kept
 * out of headers_in from post_read_request on); ekey_restore_credentials puts them back at
 * a location that is not under E-Key (header_parser). */
const char *ekey_credential(request_rec *top, const char *field);
int ekey_restore_credentials(request_rec *r);
int ekey_check_authn(request_rec *r);
int ekey_force_authn(request_rec *r);
int ekey_fixups(request_rec *r);
/* log_transaction, first of all: no EKey credential reaches a log format */
int ekey_log_forget(request_rec *r);
void ekey_authn_retrieve_optional_fn(void);
/* The record of r's chain (found on r or its initial request), NULL when none. */
ekey_req_t *ekey_req_get(request_rec *r);
/* The record of r, created on first use and shared with the initial request. */
ekey_req_t *ekey_req_make(request_rec *r);
request_rec *ekey_initial_request(request_rec *r);
int ekey_is_ekey_location(request_rec *r);

/* ekey_authz.c */
void ekey_authz_register(apr_pool_t *p);

#endif /* EKEY_CONFIG_H */
