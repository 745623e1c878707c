/*
 * ekey_issuer_config.c - the issuer's directives, their merge, and the startup check.
 *
 * Keys are read once at configuration time (pconf); a request never touches a file.
 */
#include <errno.h>

#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

/* Every section that set an issuer directive, with its server; checked in check_config.
 * Lives in pconf: a cleanup forgets it when the configuration is thrown away. */
typedef struct {
    ekey_iss_conf_t *c;
    server_rec *s;
} tracked_t;
static apr_array_header_t *configured;

void *ekey_iss_create_dir(apr_pool_t *p, char *dir)
{
    ekey_iss_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->dir = dir;
    c->signers = apr_array_make(p, 2, sizeof(const ekey_jwk_t *));
    c->published = ekey_keyset_make(p);
    c->audiences = apr_array_make(p, 2, sizeof(const char *));
    c->caps = apr_array_make(p, 2, sizeof(const char *));
    c->subjects = apr_array_make(p, 1, sizeof(const char *));
    c->max_ttl = EKEY_DEFAULT_MAX_TTL;
    c->default_ttl = EKEY_ISS_DEFAULT_TTL;
    c->max_limit = EKEY_ISS_DEFAULT_LIMIT;
    c->max_body = EKEY_ISS_DEFAULT_BODY;
    c->require_proof = 1;
    return c;
}

#define MERGE(f, bit) \
    do { m->f = add->bit ? add->f : base->f; m->bit = add->bit | base->bit; } while (0)

void *ekey_iss_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const ekey_iss_conf_t *base = basev, *add = addv;
    ekey_iss_conf_t *m = apr_pcalloc(p, sizeof(*m));

    m->dir = add->dir != NULL ? add->dir : base->dir;
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
    /* Keys go together: an inner section that names keys replaces the outer key list. */
    m->signers = add->keys_set ? add->signers : base->signers;
    m->published = add->keys_set ? add->published : base->published;
    m->keys_set = add->keys_set | base->keys_set;
    return m;
}

static apr_status_t forget(void *unused)
{
    configured = NULL;
    return APR_SUCCESS;
}

/* Sections only: server-wide directives are defaults that sections complete. */
static void remember(cmd_parms *cmd, ekey_iss_conf_t *c)
{
    tracked_t *t;
    int i;

    if (cmd->path == NULL)
        return;
    if (configured == NULL) {
        configured = apr_array_make(cmd->pool, 4, sizeof(tracked_t));
        apr_pool_cleanup_register(cmd->pool, NULL, forget, apr_pool_cleanup_null);
    }
    for (i = 0; i < configured->nelts; i++)
        if (APR_ARRAY_IDX(configured, i, tracked_t).c == c)
            return;
    t = apr_array_push(configured);
    t->c = c;
    t->s = cmd->server;
}

/* Directive arguments end up in claims and log lines: no control characters or spaces. */
static int printable(const char *v)
{
    for (; *v != '\0'; v++)
        if ((unsigned char)*v <= 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

static const char *set_name(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;
    const char *host = strncmp(v, "https://", 8) == 0 ? v + 8
                       : strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;

    if (host == NULL || *host == '\0' || *host == '/' || *host == ':' || *host == '?'
        || *host == '#' || !printable(v) || strlen(v) > 1024)
        return "EKeyIssuerName must be an http(s) URL with a host, without spaces, at most "
               "1024 characters (the iss claim)";
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

    if (path == NULL)
        return apr_psprintf(cmd->pool, "%s %s: invalid path", cmd->cmd->name, file);
    if (ekey_jwk_load_pem(&k, cmd->pool, path, sign, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, file, err.text);
    if (sign && ekey_jwk_alg(k) != EKEY_ALG_ES256)
        return apr_psprintf(cmd->pool, "%s %s: E-Keys are signed with ES256 (an EC P-256 "
                            "private key)", cmd->cmd->name, file);
    if (ekey_keyset_add(c->published, k, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s %s: %s (a key listed twice?)", cmd->cmd->name,
                            file, err.text);
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

    /* Exact strings only: a wildcard audience would let a caller aim at any verifier. */
    if (*v == '\0' || strchr(v, '*') != NULL || !printable(v) || strlen(v) > 1024)
        return apr_psprintf(cmd->pool, "EKeyIssuerAudience '%s': an exact audience string "
                            "(no wildcard, no spaces, at most 1024 characters)", v);
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

    /* A pattern is an action, a star for the method, or a trailing slash-star for a subtree:
     * replace both by something concrete and let the action grammar judge the rest. */
    if (v[0] == '*' && v[1] == ':')
        probe = apr_pstrcat(cmd->pool, "GET", v + 1, NULL);
    if (n >= 2 && strcmp(v + n - 2, "/*") == 0)
        probe = apr_pstrcat(cmd->pool, apr_pstrndup(cmd->pool, probe, strlen(probe) - 1),
                            "x", NULL);
    if (ekey_cap_parse(&m, &path, cmd->pool, probe, NULL) != EKEY_OK)
        return apr_psprintf(cmd->pool, "EKeyIssuerCapability '%s': expected METHOD:/path, "
                            "*:/path or METHOD:/prefix/* (normal-form path)", v);
    APR_ARRAY_PUSH(c->caps, const char *) = v;
    c->caps_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *add_subject(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;

    if (*v == '\0' || !printable(v) || strlen(v) > EKEY_ISS_SUB_MAX)
        return "EKeyIssuerSubject: a subject of 1..256 characters without spaces, or *";
    APR_ARRAY_PUSH(c->subjects, const char *) = v;
    c->subjects_set = 1;
    remember(cmd, c);
    return NULL;
}

static const char *set_url(cmd_parms *cmd, void *dc, const char *v)
{
    ekey_iss_conf_t *c = dc;
    char *norm;

    if (ekey_url_normalize(&norm, cmd->pool, v, NULL) != EKEY_OK || strchr(v, '?') != NULL
        || strchr(v, '#') != NULL)
        return "EKeyIssuerTokenURL must be the absolute http(s) URL of this endpoint, without "
               "query or fragment";
    c->token_url = norm;
    c->url_set = 1;
    remember(cmd, c);
    return NULL;
}

/* The numeric directives share a setter; cmd->info holds the field's index. */
enum { NUM_MAX_TTL, NUM_DEFAULT_TTL, NUM_MAX_LIMIT, NUM_MAX_BODY };

static const char *set_number(cmd_parms *cmd, void *dc, const char *v)
{
    static const apr_int64_t lo[] = { 1, 1, 1, 256 }, hi[] = { 86400, 86400, 1000000, 1048576 };
    ekey_iss_conf_t *c = dc;
    int which = (int)(apr_uintptr_t)cmd->info;
    apr_int64_t n;
    char *end;

    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno == ERANGE || n < lo[which] || n > hi[which])
        return apr_psprintf(cmd->pool, "%s must be an integer in %" APR_INT64_T_FMT "..%"
                            APR_INT64_T_FMT, cmd->cmd->name, lo[which], hi[which]);
    switch (which) {
    case NUM_MAX_TTL: c->max_ttl = n; c->max_ttl_set = 1; break;
    case NUM_DEFAULT_TTL: c->default_ttl = n; c->default_ttl_set = 1; break;
    case NUM_MAX_LIMIT: c->max_limit = n; c->max_limit_set = 1; break;
    default: c->max_body = (apr_size_t)n; c->max_body_set = 1; break;
    }
    remember(cmd, c);
    return NULL;
}

/* The On/Off directives; cmd->info says which. */
enum { FLAG_REQUIRE_PROOF, FLAG_ANONYMOUS };
static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    ekey_iss_conf_t *c = dc;

    if ((apr_uintptr_t)cmd->info == FLAG_REQUIRE_PROOF) {
        c->require_proof = on;
        c->proof_set = 1;
    }
    else {
        c->anonymous = on;
        c->anonymous_set = 1;
    }
    remember(cmd, c);
    return NULL;
}

#define DIR_CONF (ACCESS_CONF | RSRC_CONF)
#define NUM(i) ((void *)(apr_uintptr_t)(i))
const command_rec ekey_iss_cmds[] = {
    AP_INIT_TAKE1("EKeyIssuerName", set_name, NULL, DIR_CONF,
                  "the issuer URL written as iss (required)"),
    AP_INIT_TAKE1("EKeyIssuerSigningKey", set_signing_key, NULL, DIR_CONF,
                  "an EC P-256 private key PEM file; repeatable, all are published and the "
                  "LAST one listed signs (list the newest last)"),
    AP_INIT_TAKE1("EKeyIssuerPublishKey", set_publish_key, NULL, DIR_CONF,
                  "a retired public key PEM file, still published in the JWKS; repeatable"),
    AP_INIT_ITERATE("EKeyIssuerAudience", add_audience, NULL, DIR_CONF,
                    "audiences tokens may be minted for (required; exact strings)"),
    AP_INIT_ITERATE("EKeyIssuerCapability", add_cap, NULL, DIR_CONF,
                    "allowed cap.action patterns: METHOD:/path, *:/path, METHOD:/prefix/* "
                    "(required)"),
    AP_INIT_ITERATE("EKeyIssuerSubject", add_subject, NULL, DIR_CONF,
                    "subjects a caller may mint for besides its own (* = any); for "
                    "anonymous callers the only subjects allowed, when set"),
    AP_INIT_TAKE1("EKeyIssuerTokenURL", set_url, NULL, DIR_CONF,
                  "the public URL of this endpoint: htu of minting proofs (default: "
                  "scheme, ServerName and port of the server, plus the request path)"),
    AP_INIT_TAKE1("EKeyIssuerMaxTTL", set_number, NUM(NUM_MAX_TTL), DIR_CONF,
                  "largest ttl in seconds, 1..86400 (default 300)"),
    AP_INIT_TAKE1("EKeyIssuerDefaultTTL", set_number, NUM(NUM_DEFAULT_TTL), DIR_CONF,
                  "ttl when the request names none, 1..86400 and <= EKeyIssuerMaxTTL "
                  "(default 60)"),
    AP_INIT_TAKE1("EKeyIssuerMaxLimit", set_number, NUM(NUM_MAX_LIMIT), DIR_CONF,
                  "largest cap.limit, 1..1000000 (default 10)"),
    AP_INIT_TAKE1("EKeyIssuerMaxBody", set_number, NUM(NUM_MAX_BODY), DIR_CONF,
                  "largest request body in bytes, 256..1048576 (default 8192)"),
    AP_INIT_FLAG("EKeyIssuerRequireProof", set_flag, NUM(FLAG_REQUIRE_PROOF), DIR_CONF,
                 "require a DPoP proof signed by the submitted jwk when minting (default On)"),
    AP_INIT_FLAG("EKeyIssuerAnonymous", set_flag, NUM(FLAG_ANONYMOUS), DIR_CONF,
                 "mint without an authenticated user (default Off; for local demos only)"),
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

/* A section that set any minting directive must be able to mint, with what it inherits from
 * its server's defaults. One that only names keys (a JWKS location) needs nothing else. */
static int mints(const ekey_iss_conf_t *c)
{
    return c->name_set || c->aud_set || c->caps_set || c->subjects_set || c->url_set
           || c->max_ttl_set || c->default_ttl_set || c->max_limit_set || c->max_body_set
           || c->proof_set || c->anonymous_set;
}

/* A main-server section applies inside a virtual host too (httpd walks the main server's
 * sections before the host's own): the same path, or a path prefix ending at a slash. */
static int covers(const char *outer, const char *inner)
{
    size_t n = strlen(outer);

    if (strncmp(outer, inner, n) != 0)
        return 0;
    return inner[n] == '\0' || inner[n] == '/' || (n > 0 && outer[n - 1] == '/');
}

/* What a request in t's section ends up with, merged as httpd's location walk does: its
 * server's defaults, then every section that covers it (enclosing ones and t itself) in
 * configuration order, the main server's before a virtual host's own. */
static ekey_iss_conf_t *effective(apr_pool_t *p, const tracked_t *t, server_rec *main_s)
{
    ekey_iss_conf_t *m = ap_get_module_config(t->s->lookup_defaults, &ekey_issuer_module);
    server_rec *pass[2];
    int i, k;

    pass[0] = main_s;
    pass[1] = t->s != main_s ? t->s : NULL;
    for (k = 0; k < 2 && pass[k] != NULL; k++)
        for (i = 0; i < configured->nelts; i++) {
            const tracked_t *o = &APR_ARRAY_IDX(configured, i, tracked_t);

            if (o->s == pass[k] && o->c->dir != NULL && t->c->dir != NULL
                && covers(o->c->dir, t->c->dir))
                m = ekey_iss_merge_dir(p, m, o->c);
        }
    return m;
}

int ekey_iss_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                         server_rec *s)
{
    const char *why;
    int i;

    for (i = 0; configured != NULL && i < configured->nelts; i++) {
        const tracked_t *t = &APR_ARRAY_IDX(configured, i, tracked_t);

        if (t->c->keys_set
            && ekey_iss_check_tls_keys(ptemp, t->c->signers, t->c->dir) != OK)
            return HTTP_INTERNAL_SERVER_ERROR;
        if (!mints(t->c) || (why = ekey_iss_incomplete(effective(ptemp, t, s))) == NULL)
            continue;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, t->s, "EKEY00201: the E-Key issuer section "
                     "%s of server %s cannot mint: %s", t->c->dir, t->s->server_hostname != NULL
                     ? t->s->server_hostname : "(main)", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
