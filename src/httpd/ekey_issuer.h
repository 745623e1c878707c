/*
 * ekey_issuer.h - mod_ekey_issuer: mints E-Keys (handler ekey-issuer) and publishes the
 * public keys (handler ekey-jwks). Its own module, so a verify-only host never loads a
 * signing key, and it never needs mod_ekey.so.
 */
#ifndef EKEY_ISSUER_H
#define EKEY_ISSUER_H

#include "httpd.h"
#include "http_config.h"
#include "ekey.h"

#define EKEY_ISS_HANDLER_TOKEN "ekey-issuer"
#define EKEY_ISS_HANDLER_JWKS  "ekey-jwks"

#define EKEY_ISS_DEFAULT_TTL   60
#define EKEY_ISS_DEFAULT_LIMIT 10
#define EKEY_ISS_DEFAULT_BODY  8192
#define EKEY_ISS_SUB_MAX       256

/* Per-directory configuration. Every field has its _set bit: the merge takes the inner
 * section's value only when that section set it. */
typedef struct {
    const char *dir;                /* the section (for startup messages) */
    const char *name;               /* EKeyIssuerName: the iss claim */
    apr_array_header_t *signers;    /* EKeyIssuerSigningKey: ekey_jwk_t *; the last signs */
    ekey_keyset_t *published;       /* signers + EKeyIssuerPublishKey */
    apr_array_header_t *audiences;  /* EKeyIssuerAudience: const char *, exact strings */
    apr_array_header_t *caps;       /* EKeyIssuerCapability: patterns */
    apr_array_header_t *subjects;   /* EKeyIssuerSubject: extra subjects ("*" = any) */
    const char *token_url;          /* EKeyIssuerTokenURL: htu of the minting proof */
    apr_int64_t max_ttl, default_ttl, max_limit;
    apr_size_t max_body;
    int require_proof, anonymous;
    unsigned name_set : 1, keys_set : 1, aud_set : 1, caps_set : 1, subjects_set : 1,
             url_set : 1, max_ttl_set : 1, default_ttl_set : 1, max_limit_set : 1,
             max_body_set : 1, proof_set : 1, anonymous_set : 1;
} ekey_iss_conf_t;

/* Built with -fvisibility=hidden: the module record is the one symbol httpd must see. */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) ekey_issuer_module;
extern const command_rec ekey_iss_cmds[];

void *ekey_iss_create_dir(apr_pool_t *p, char *dir);
void *ekey_iss_merge_dir(apr_pool_t *p, void *base, void *add);
int ekey_iss_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s);
/* ekey_issuer_tlskey.c: HTTP_INTERNAL_SERVER_ERROR (logged, EKEY00202) when one of signers
 * (ekey_jwk_t *) is also the key of an SSLCertificateFile / SSLCertificateKeyFile. Nothing
 * it reads outlives the call. */
int ekey_iss_check_tls_keys(apr_pool_t *ptemp, const apr_array_header_t *signers,
                            const char *section);
/* NULL when the location can mint, else why not (for the log and check_config). */
const char *ekey_iss_incomplete(const ekey_iss_conf_t *c);

int ekey_iss_token_handler(request_rec *r);
/* JSON for httpd's own 401/403 in front of a minting location (hooks and filter). */
void ekey_iss_register_error_filter(void);
int ekey_iss_jwks_handler(request_rec *r);
/* Writes {"error","message"} with status; returns OK (the handler's answer is complete). */
int ekey_iss_error(request_rec *r, int status, const char *code, const char *message);

#endif
