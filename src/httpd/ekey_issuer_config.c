/*
 * ekey_issuer_config.c - the issuer's directives, their merge, and the startup check.
 *
 * Keys are read once at configuration time (pconf); a request never touches a file.
 */
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

/* Every location that set an issuer directive, checked in post_config. */
static apr_array_header_t *configured;

void *ekey_iss_create_dir(apr_pool_t *p, char *dir)
{
    ekey_iss_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->signers = apr_array_make(p, 2, sizeof(const ekey_jwk_t *));
    c->published = ekey_keyset_make(p);
    c->audiences = apr_array_make(p, 2, sizeof(const char *));
    c->caps = apr_array_make(p, 2, sizeof(const char *));
    c->subjects = apr_array_make(p, 1, sizeof(const char *));
    c->max_ttl = EKEY_DEFAULT_MAX_TTL;
    c->default_ttl = 60;
    c->max_limit = 10;
    c->max_body = 8192;
    c->require_proof = 1;
    return c;
}

#define MERGE(f, bit) do { m->f = add->bit ? add->f : base->f; m->bit = add->bit | base->bit; } while (0)

void *ekey_iss_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const ekey_iss_conf_t *base = basev, *add = addv;
    ekey_iss_conf_t *m = apr_pcalloc(p, sizeof(*m));

    MERGE(name, name_set);
    MERGE(audiences, aud_set);
    MERGE(caps, caps_set);
    MERGE(subjects, subjects_set);
    MERGE(token_url, url_set);
    MERGE(max_ttl, max_ttl_set);
    MERGE(default_ttl, default_ttl_set);
    MERGE(max_limit, max_limit_set);
    MERGE(max_body, max_body_set);
    MERGE(require_proof, proof_set);
    MERGE(anonymous, anonymous_set);
    m->signers = add->keys_set ? add->signers : base->signers;
    m->published = add->keys_set ? add->published : base->published;
    m->keys_set = add->keys_set | base->keys_set;
    return m;
}

static void remember(cmd_parms *cmd, ekey_iss_conf_t *c)
{
    int i;

    if (configured == NULL)
        configured = apr_array_make(cmd->pool, 4, sizeof(ekey_iss_conf_t *));
    for (i = 0; i < configured->nelts; i++)
        if (APR_ARRAY_IDX(configured, i, ekey_iss_conf_t *) == c)
            return;
    APR_ARRAY_PUSH(configured, ekey_iss_conf_t *) = c;
}

static const char *set_name(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;

    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        return "EKeyIssuerName must be an http(s) URL (the iss claim)";
    c->name = v;
    c->name_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *add_key(cmd_parms *cmd, ekey_iss_conf_t *c, const char *file, int sign)
{
    const char *path = ap_server_root_relative(cmd->pool, file);
    ekey_jwk_t *k;
    ekey_error_t err;

    if (path == NULL
        || ekey_jwk_load_pem(&k, cmd->pool, path, sign, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, file,
                            path == NULL ? "bad path" : err.text);
    if (sign && ekey_jwk_alg(k) != EKEY_ALG_ES256)
        return apr_psprintf(cmd->pool, "%s %s: E-Keys are signed with ES256 (a P-256 key)",
                            cmd->cmd->name, file);
    if (ekey_keyset_add(c->published, k, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, file, err.text);
    if (sign)
        APR_ARRAY_PUSH(c->signers, const ekey_jwk_t *) = k;
    c->keys_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *dc, const char *v)
{
    return add_key(cmd, dc, v, 1);
}

static const char *set_publish_key(cmd_parms *cmd, void *dc, const char *v)
{
    return add_key(cmd, dc, v, 0);
}

static const char *add_audience(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;

    APR_ARRAY_PUSH(c->audiences, const char *) = v;
    c->aud_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *add_cap(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;
    const char *m, *path, *probe = v;
    apr_size_t n = strlen(v);

    /* A pattern is an action, a star for the method, or a trailing slash-star for a subtree. */
    if (v[0] == '*' && v[1] == ':')
        probe = apr_pstrcat(cmd->pool, "GET", v + 1, NULL);
    if (n >= 2 && strcmp(v + n - 2, "/*") == 0)
        probe = apr_pstrcat(cmd->pool, apr_pstrndup(cmd->pool, probe, strlen(probe) - 1),
                            "x", NULL);
    if (ekey_cap_parse(&m, &path, cmd->pool, probe, NULL) != EKEY_OK)
        return apr_psprintf(cmd->pool, "EKeyIssuerCapability '%s': expected METHOD:/path, "
                            "*:/path or METHOD:/prefix/*", v);
    APR_ARRAY_PUSH(c->caps, const char *) = v;
    c->caps_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *add_subject(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;

    APR_ARRAY_PUSH(c->subjects, const char *) = v;
    c->subjects_set = 1;
    return NULL;
}

static const char *set_url(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;
    char *norm;

    if (ekey_url_normalize(&norm, cmd->pool, v, NULL) != EKEY_OK)
        return "EKeyIssuerTokenURL must be an absolute http(s) URL";
    c->token_url = norm;
    c->url_set = 1;
    return NULL;
}

static const char *set_number(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;
    const char *name = cmd->cmd->name;
    apr_int64_t n, lo = 1, hi;
    char *end;

    hi = strcmp(name, "EKeyIssuerMaxLimit") == 0 ? 1000000
         : strcmp(name, "EKeyIssuerMaxBody") == 0 ? 1048576 : 86400;
    if (strcmp(name, "EKeyIssuerMaxBody") == 0)
        lo = 256;
    n = apr_strtoi64(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi)
        return apr_psprintf(cmd->pool, "%s must be an integer in %" APR_INT64_T_FMT "..%"
                            APR_INT64_T_FMT, name, lo, hi);
    if (strcmp(name, "EKeyIssuerMaxTTL") == 0) { c->max_ttl = n; c->max_ttl_set = 1; }
    else if (strcmp(name, "EKeyIssuerDefaultTTL") == 0) { c->default_ttl = n; c->default_ttl_set = 1; }
    else if (strcmp(name, "EKeyIssuerMaxLimit") == 0) { c->max_limit = n; c->max_limit_set = 1; }
    else { c->max_body = (apr_size_t)n; c->max_body_set = 1; }
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    ekey_iss_conf_t *c = dc;

    if (strcmp(cmd->cmd->name, "EKeyIssuerRequireProof") == 0) {
        c->require_proof = on;
        c->proof_set = 1;
    }
    else {
        c->anonymous = on;
        c->anonymous_set = 1;
    }
    return NULL;
}

#define DIR_CONF (ACCESS_CONF | RSRC_CONF)
const command_rec ekey_iss_cmds[] = {
    AP_INIT_TAKE1("EKeyIssuerName", set_name, NULL, DIR_CONF,
                  "the issuer URL written as iss"),
    AP_INIT_TAKE1("EKeyIssuerSigningKey", set_signing_key, NULL, DIR_CONF,
                  "a P-256 private key PEM file; repeatable, the last one listed signs"),
    AP_INIT_TAKE1("EKeyIssuerPublishKey", set_publish_key, NULL, DIR_CONF,
                  "a retired public key PEM file, still published in the JWKS"),
    AP_INIT_ITERATE("EKeyIssuerAudience", add_audience, NULL, DIR_CONF,
                    "audiences tokens may be minted for"),
    AP_INIT_ITERATE("EKeyIssuerCapability", add_cap, NULL, DIR_CONF,
                    "allowed capabilities: METHOD:/path, *:/path, METHOD:/prefix/*"),
    AP_INIT_ITERATE("EKeyIssuerSubject", add_subject, NULL, DIR_CONF,
                    "subjects an authenticated caller may mint for besides its own (* = any)"),
    AP_INIT_TAKE1("EKeyIssuerTokenURL", set_url, NULL, DIR_CONF,
                  "the public URL of this endpoint (htu of minting proofs)"),
    AP_INIT_TAKE1("EKeyIssuerMaxTTL", set_number, NULL, DIR_CONF,
                  "largest ttl in seconds, 1..86400 (default 300)"),
    AP_INIT_TAKE1("EKeyIssuerDefaultTTL", set_number, NULL, DIR_CONF,
                  "ttl when the request names none, 1..86400 (default 60)"),
    AP_INIT_TAKE1("EKeyIssuerMaxLimit", set_number, NULL, DIR_CONF,
                  "largest cap.limit, 1..1000000 (default 10)"),
    AP_INIT_TAKE1("EKeyIssuerMaxBody", set_number, NULL, DIR_CONF,
                  "largest request body in bytes, 256..1048576 (default 8192)"),
    AP_INIT_FLAG("EKeyIssuerRequireProof", set_flag, NULL, DIR_CONF,
                 "require a DPoP proof by the submitted key when minting (default On)"),
    AP_INIT_FLAG("EKeyIssuerAnonymous", set_flag, NULL, DIR_CONF,
                 "mint without an authenticated user (default Off; for demos)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

const char *ekey_iss_incomplete(const ekey_iss_conf_t *c)
{
    if (c->name == NULL)
        return "no EKeyIssuerName";
    if (c->signers->nelts == 0)
        return "no EKeyIssuerSigningKey";
    if (c->audiences->nelts == 0)
        return "no EKeyIssuerAudience";
    if (c->caps->nelts == 0)
        return "no EKeyIssuerCapability";
    if (c->default_ttl > c->max_ttl)
        return "EKeyIssuerDefaultTTL is above EKeyIssuerMaxTTL";
    return NULL;
}

int ekey_iss_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s)
{
    const char *why;
    int i;

    for (i = 0; configured != NULL && i < configured->nelts; i++) {
        ekey_iss_conf_t *c = APR_ARRAY_IDX(configured, i, ekey_iss_conf_t *);
        /* A location that only names keys (for example the JWKS) needs nothing else. */
        if (c->name_set && (why = ekey_iss_incomplete(c)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00201: an E-Key issuer location "
                         "cannot mint: %s", why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    configured = NULL;      /* rebuilt at the next configuration read */
    return OK;
}
