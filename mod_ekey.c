/*
 * mod_ekey.c - E-Key verification for Apache httpd 2.4: the module record, its hooks and its
 * directives. The work is done by the core (src/core, no httpd) and the glue in src/httpd.
 *
 *   <Location /payments>
 *       AuthType EKey
 *       EKeyIssuer https://issuer.example
 *       EKeyAudience https://api.example.com
 *       EKeyTrustedKey /etc/ekey/issuer.pem
 *       EKeyPublicOrigin https://api.example.com
 *       Require ekey-cap POST:/payments
 *   </Location>
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "ekey_config.h"
#include "ekey_respond.h"
#include "ekey_auditlog.h"
#include "ekey_metrics.h"
#include "ekey_release.h"
#include "ekey_shm.h"

#define DIR_CMD (OR_AUTHCFG | RSRC_CONF)
#define KEY_CMD (ACCESS_CONF | RSRC_CONF)      /* never .htaccess: keys are read at startup */

static const command_rec ekey_cmds[] = {
    /* per directory: the verification policy */
    AP_INIT_TAKE1("EKeyIssuer", ekey_set_dir_string, (void *)&ekey_f_issuer, DIR_CMD,
                  "the required iss of E-Keys"),
    AP_INIT_TAKE1("EKeyAudience", ekey_set_dir_string, (void *)&ekey_f_audience, DIR_CMD,
                  "the required aud of E-Keys"),
    AP_INIT_TAKE1("EKeyTrustedKey", ekey_set_key, NULL, KEY_CMD,
                  "a PEM file with an issuer key (public, or private whose public half is "
                  "used); repeatable, kid = RFC 7638 thumbprint"),
    AP_INIT_TAKE1("EKeyTrustedJWKS", ekey_set_jwks, NULL, KEY_CMD,
                  "a JWKS file with issuer keys; repeatable"),
    AP_INIT_TAKE1("EKeyPublicOrigin", ekey_set_origin, NULL, DIR_CMD,
                  "scheme://host[:port] clients use: the base of the expected DPoP htu "
                  "(default: the server's scheme, ServerName and port)"),
    /* not in .htaccess: a use is remembered until exp plus the largest skew of the
     * configuration, a proof's jti until iat plus the largest age and skew, which must be
     * known at startup (ekey_check_config) */
    AP_INIT_TAKE1("EKeyClockSkew", ekey_set_dir_int, (void *)&ekey_f_skew,
                  ACCESS_CONF | RSRC_CONF,
                  "allowed clock skew in seconds, 0..300 (default 30)"),
    AP_INIT_TAKE1("EKeyProofMaxAge", ekey_set_dir_int, (void *)&ekey_f_proof_max_age,
                  ACCESS_CONF | RSRC_CONF,
                  "maximum age of a DPoP proof in seconds, 1..3600 (default 60)"),
    AP_INIT_TAKE1("EKeyMaxTTL", ekey_set_dir_int, (void *)&ekey_f_max_ttl, DIR_CMD,
                  "maximum token lifetime exp - iat in seconds, 1..86400 (default 300)"),
    AP_INIT_TAKE1("EKeyMaxUses", ekey_set_dir_int, (void *)&ekey_f_max_uses, DIR_CMD,
                  "maximum cap.limit accepted, 1..1000000 (default 100)"),
    AP_INIT_TAKE1("EKeyMaxTokenLength", ekey_set_dir_int, (void *)&ekey_f_max_len, DIR_CMD,
                  "maximum length of a token and of a proof, 512..65536 (default 4096)"),
    AP_INIT_RAW_ARGS("EKeyTokenAlgorithms", ekey_set_algs, (void *)&ekey_f_token_algs,
                     DIR_CMD, "E-Key signature algorithms: ES256 ES384 EdDSA "
                     "(default ES256)"),
    AP_INIT_RAW_ARGS("EKeyProofAlgorithms", ekey_set_algs, (void *)&ekey_f_proof_algs,
                     DIR_CMD, "DPoP proof algorithms: ES256 ES384 EdDSA (default all)"),
    AP_INIT_FLAG("EKeySpiffeSubject", ekey_set_dir_flag, (void *)&ekey_f_spiffe_subject,
                 DIR_CMD, "On: an mTLS-bound token's sub must be the client SVID's SPIFFE "
                 "ID (default Off)"),
    AP_INIT_TAKE1("EKeyRealm", ekey_set_dir_string, (void *)&ekey_f_realm, DIR_CMD,
                  "realm of the WWW-Authenticate challenge (default \"ekey\")"),
    /* not in .htaccess: the audit trail is the administrator's, not a directory owner's */
    AP_INIT_FLAG("EKeyAudit", ekey_set_dir_flag, (void *)&ekey_f_audit,
                 ACCESS_CONF | RSRC_CONF,
                 "On: write this location's decisions to EKeyAuditLog (default On)"),
    /* per server: the replay store and the audit log */
    AP_INIT_TAKE1("EKeyReplayStore", ekey_set_store, NULL, RSRC_CONF,
                  "shm (default) or redis"),
    AP_INIT_TAKE1("EKeyReplayCapacity", ekey_set_srv_int, (void *)&ekey_f_capacity, RSRC_CONF,
                  "entries of the shm replay table, 8..100000000 (default 100000; "
                  "global)"),
    AP_INIT_FLAG("EKeyReplayPersist", ekey_set_srv_flag, (void *)&ekey_f_persist, RSRC_CONF,
                 "On: keep the shm replay table across a full restart (default Off; "
                 "global)"),
    AP_INIT_TAKE1("EKeyRedisServer", ekey_set_redis_server, NULL, RSRC_CONF,
                  "host[:port] of the Redis replay store (default 127.0.0.1:6379)"),
    AP_INIT_TAKE12("EKeyRedisAuth", ekey_set_redis_auth, NULL, RSRC_CONF,
                   "[user] password for Redis AUTH"),
    AP_INIT_TAKE1("EKeyRedisDB", ekey_set_srv_int, (void *)&ekey_f_redis_db, RSRC_CONF,
                  "Redis database number, 0..65535 (default 0)"),
    AP_INIT_TAKE1("EKeyRedisPrefix", ekey_set_srv_string, (void *)&ekey_f_redis_prefix,
                  RSRC_CONF, "prefix of the Redis keys (default \"ekey:\")"),
    AP_INIT_TAKE1("EKeyRedisTimeout", ekey_set_srv_int, (void *)&ekey_f_redis_timeout,
                  RSRC_CONF, "Redis connect and io timeout in ms, 1..60000 (default 200)"),
    AP_INIT_FLAG("EKeyRedisTLS", ekey_set_srv_flag, (void *)&ekey_f_redis_tls, RSRC_CONF,
                 "On: TLS to Redis, the server certificate verified (default Off)"),
    AP_INIT_TAKE1("EKeyRedisTLSCA", ekey_set_srv_file, (void *)&ekey_f_redis_tls_ca,
                  RSRC_CONF, "PEM CA file that verifies the Redis server (required with TLS)"),
    AP_INIT_TAKE1("EKeyRedisTLSCert", ekey_set_srv_file, (void *)&ekey_f_redis_tls_cert,
                  RSRC_CONF, "PEM client certificate (chain) for Redis tls-auth-clients"),
    AP_INIT_TAKE1("EKeyRedisTLSKey", ekey_set_srv_file, (void *)&ekey_f_redis_tls_key,
                  RSRC_CONF, "PEM private key of EKeyRedisTLSCert"),
    AP_INIT_TAKE1("EKeyRedisTLSServerName", ekey_set_srv_string, (void *)&ekey_f_redis_tls_name,
                  RSRC_CONF, "name (or IP) the Redis certificate must carry (default: the "
                  "EKeyRedisServer host)"),
    AP_INIT_TAKE1("EKeyAuditLog", ekey_set_audit_log, NULL, RSRC_CONF,
                  "audit log file, or \"|command\" for a piped logger"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

static void ekey_register_hooks(apr_pool_t *p)
{
    /* Drop client headers named like our identity before any module reads them. */
    ap_hook_post_read_request(ekey_post_read_request, NULL, NULL, APR_HOOK_FIRST);
    /* ... and, where the location is not ours, give back the credentials that post_read_request
     * kept out of httpd's header listing. */
    ap_hook_header_parser(ekey_restore_credentials, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* AuthType EKey: verify, bind, match, consume. Per configuration, so that httpd itself
     * skips internal requests that share their parent's configuration. */
    ap_hook_check_authn(ekey_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /* ... also when a user is already set (mod_ssl's SSLUserName does so before
     * authorization, which would then pass `Require valid-user` without asking us); an
     * access rule that grants without any user (Require ip) stays the administrator's. */
    ap_hook_force_authn(ekey_force_authn, NULL, NULL, APR_HOOK_MIDDLE);
    /* Require ekey-cap METHOD:/path. */
    ekey_authz_register(p);
    /* mod_authz_core asks the auth type for its challenge when authorization fails. */
    ap_hook_note_auth_failure(ekey_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    /* Authorization passed: take the use (first, before other fixups act on the request).
     * Internal requests httpd did not authenticate again: re-check the capability on their
     * URI, before mod_dir / mod_rewrite fixups redirect further. */
    ap_hook_fixups(ekey_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* Our error answers go out as JSON; httpd writes error pages as text/html. */
    ap_hook_insert_error_filter(ekey_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(EKEY_ERROR_FILTER, ekey_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    /* An answer under an E-Key: `private` for every cache downstream; an ErrorDocument's
     * redirect answering our refusal keeps our status. */
    ap_hook_insert_filter(ekey_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(EKEY_PRIVATE_FILTER, ekey_private_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    /* Refuse at startup (and in apachectl -t) a location that cannot verify anything. */
    ap_hook_check_config(ekey_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Audit log targets are opened as root, before children fork, like the access log. */
    ap_hook_open_logs(ekey_auditlog_open, NULL, NULL, APR_HOOK_MIDDLE);
    /* One audit line per request, with its final decision. */
    ap_hook_log_transaction(ekey_log_forget, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_log_transaction(ekey_auditlog_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    /* mod_ssl's ssl_var_lookup gives the client certificate (never a header). */
    ap_hook_optional_fn_retrieve(ekey_authn_retrieve_optional_fn, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    /* The replay store: the shm mutex type before the configuration is read (so Mutex can
     * tune it), the shm table after the dry run, then per child the mutex and the Redis
     * connections (never across fork). */
    ap_hook_pre_config(ekey_store_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ekey_store_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(ekey_store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Metrics: the shared counters and the ekey-metrics / ekey-status handlers; each
     * chain's final decision counted once; Redis round trips timed (after the stores exist). */
    ekey_metrics_register(ekey_shm_stats, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(ekey_metrics_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(ekey_metrics_child_init, NULL, NULL, APR_HOOK_LAST);
    /* libekey's caches go with the configuration, before the module is unloaded. */
    ekey_release_register();
}

AP_DECLARE_MODULE(ekey) = {
    STANDARD20_MODULE_STUFF,
    ekey_dir_create,
    ekey_dir_merge,
    ekey_srv_create,
    ekey_srv_merge,
    ekey_cmds,
    ekey_register_hooks,
    AP_MODULE_FLAG_NONE
};
