/*
 * ekey_config.c - mod_ekey's directives: per-directory policy, per-server store and audit
 * settings, their merges, and the startup check that refuses a configuration that cannot
 * verify anything.
 *
 * Keys are read here, once, into a keyset from the configuration pool: a request never opens
 * a file. Key directives are therefore refused in .htaccess files (which httpd parses per
 * request); the other policy directives follow AllowOverride AuthConfig.
 */
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_network_io.h>

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

#define JWKS_MAX_BYTES (1024 * 1024)

#define FIELD(type, f, min, max) \
    { offsetof(type, f), offsetof(type, f##_set), (min), (max) }
#define DFIELD(f, min, max) FIELD(ekey_dir_conf_t, f, min, max)
#define SFIELD(f, min, max) FIELD(ekey_srv_conf_t, f, min, max)

const ekey_field_t ekey_f_issuer = DFIELD(issuer, 1, 1024);
const ekey_field_t ekey_f_audience = DFIELD(audience, 1, 1024);
const ekey_field_t ekey_f_realm = DFIELD(realm, 1, 256);
const ekey_field_t ekey_f_skew = DFIELD(skew, 0, 300);
const ekey_field_t ekey_f_proof_max_age = DFIELD(proof_max_age, 1, 3600);
const ekey_field_t ekey_f_max_ttl = DFIELD(max_ttl, 1, 86400);
const ekey_field_t ekey_f_max_uses = DFIELD(max_uses, 1, 1000000);
const ekey_field_t ekey_f_max_len = DFIELD(max_len, 512, 65536);
const ekey_field_t ekey_f_spiffe_subject = DFIELD(spiffe_subject, 0, 1);
const ekey_field_t ekey_f_audit = DFIELD(audit, 0, 1);
const ekey_field_t ekey_f_token_algs = DFIELD(token_algs, 0, 0);
const ekey_field_t ekey_f_proof_algs = DFIELD(proof_algs, 0, 0);
const ekey_field_t ekey_f_capacity = SFIELD(capacity, 8, 100000000);
const ekey_field_t ekey_f_persist = SFIELD(persist, 0, 1);
const ekey_field_t ekey_f_redis_db = SFIELD(redis_db, 0, 65535);
const ekey_field_t ekey_f_redis_prefix = SFIELD(redis_prefix, 1, 64);
const ekey_field_t ekey_f_redis_timeout = SFIELD(redis_timeout, 1, 60000);
const ekey_field_t ekey_f_redis_tls = SFIELD(redis_tls, 0, 1);
const ekey_field_t ekey_f_redis_tls_ca = SFIELD(redis_tls_ca, 1, 4096);
const ekey_field_t ekey_f_redis_tls_cert = SFIELD(redis_tls_cert, 1, 4096);
const ekey_field_t ekey_f_redis_tls_key = SFIELD(redis_tls_key, 1, 4096);
const ekey_field_t ekey_f_redis_tls_name = SFIELD(redis_tls_name, 1, 253);

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

/* ------------------------------------------------------------ create / merge */

void *ekey_dir_create(apr_pool_t *p, char *dir)
{
    ekey_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->skew = EKEY_DEFAULT_SKEW;
    c->proof_max_age = EKEY_DEFAULT_PROOF_AGE;
    c->max_ttl = EKEY_DEFAULT_MAX_TTL;
    c->max_uses = EKEY_DEFAULT_MAX_USES;
    c->max_len = EKEY_MAX_TOKEN_LEN;
    c->token_algs = EKEY_ALGS_DEFAULT;
    c->proof_algs = EKEY_ALGS_ALL;
    c->realm = EKEY_DEFAULT_REALM;
    c->audit = 1;
    return c;
}

#define MERGE(f) do {                                   \
        c->f = add->f##_set ? add->f : base->f;         \
        c->f##_set = (char)(add->f##_set | base->f##_set); \
    } while (0)

void *ekey_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    const ekey_dir_conf_t *base = basev, *add = addv;
    ekey_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    MERGE(issuer);
    MERGE(audience);
    MERGE(keys);                    /* a section's keys replace, never extend, the parent's */
    MERGE(origin);
    MERGE(skew);
    MERGE(proof_max_age);
    MERGE(max_ttl);
    MERGE(max_uses);
    MERGE(max_len);
    MERGE(token_algs);
    MERGE(proof_algs);
    MERGE(spiffe_subject);
    MERGE(realm);
    MERGE(audit);
    return c;
}

void *ekey_srv_create(apr_pool_t *p, server_rec *s)
{
    ekey_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->store = EKEY_STORE_SHM;
    c->capacity = EKEY_DEFAULT_CAPACITY;
    c->redis_host = "127.0.0.1";
    c->redis_port = EKEY_DEFAULT_REDIS_PORT;
    c->redis_prefix = EKEY_DEFAULT_REDIS_PREFIX;
    c->redis_timeout = EKEY_DEFAULT_REDIS_TIMEOUT;
    c->dirs = apr_array_make(p, 4, sizeof(ekey_dir_rec_t));
    return c;
}

void *ekey_srv_merge(apr_pool_t *p, void *basev, void *addv)
{
    const ekey_srv_conf_t *base = basev, *add = addv;
    ekey_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    MERGE(store);
    MERGE(capacity);
    MERGE(persist);
    MERGE(redis_db);
    MERGE(redis_prefix);
    MERGE(redis_timeout);
    MERGE(redis_tls);
    MERGE(redis_tls_ca);
    MERGE(redis_tls_cert);
    MERGE(redis_tls_key);
    MERGE(redis_tls_name);
    MERGE(audit_log);
    c->redis_host = add->redis_host_set ? add->redis_host : base->redis_host;
    c->redis_port = add->redis_host_set ? add->redis_port : base->redis_port;
    c->redis_host_set = (char)(add->redis_host_set | base->redis_host_set);
    c->redis_user = add->redis_auth_set ? add->redis_user : base->redis_user;
    c->redis_password = add->redis_auth_set ? add->redis_password : base->redis_password;
    c->redis_auth_set = (char)(add->redis_auth_set | base->redis_auth_set);
    c->dirs = add->dirs;            /* each server keeps its own sections */
    return c;
}

const ekey_dir_conf_t *ekey_dir_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &ekey_module);
}

ekey_srv_conf_t *ekey_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &ekey_module);
}

int ekey_dir_complete(const ekey_dir_conf_t *dc)
{
    return dc != NULL && dc->issuer != NULL && dc->audience != NULL && dc->keys != NULL
           && ekey_keyset_count(dc->keys) > 0;
}

/* ------------------------------------------------------------ section tracking */

/* The per-directory section a directive sits in, seen through conditional wrappers. */
static const char *section_of(const ap_directive_t *d)
{
    static const char *const wrappers[] = {
        "<IfModule", "<IfDefine", "<IfVersion", "<IfFile", "<IfDirective", "<IfSection",
        "<Limit", "<LimitExcept", NULL
    };
    int i;

    for (d = d != NULL ? d->parent : NULL; d != NULL; d = d->parent) {
        for (i = 0; wrappers[i] != NULL && strcasecmp(wrappers[i], d->directive) != 0; i++)
            ;
        if (wrappers[i] == NULL)
            return d->directive;
    }
    return "server";
}

/* Remembers a section that uses EKey directives so ekey_check_config can judge it. Not for
 * .htaccess: those configurations live in a request pool. */
static void note_section(cmd_parms *cmd, ekey_dir_conf_t *c)
{
    ekey_dir_rec_t *rec;

    if (c->listed || ap_check_cmd_context(cmd, NOT_IN_HTACCESS) != NULL)
        return;
    c->listed = 1;
    rec = apr_array_push(ekey_srv_conf(cmd->server)->dirs);
    rec->conf = c;
    rec->section = section_of(cmd->directive);
    rec->path = cmd->path;
    rec->file = cmd->directive != NULL ? cmd->directive->filename : "?";
    rec->line = cmd->directive != NULL ? cmd->directive->line_num : 0;
}

/* ------------------------------------------------------------ generic setters */

static int visible_ascii(const char *s, int allow_space)
{
    for (; *s; s++)
        if (!((*s > 0x20 && *s < 0x7f) || (allow_space && *s == ' ')))
            return 0;
    return 1;
}

static const char *set_string(cmd_parms *cmd, void *conf, const char *arg, int allow_space)
{
    const ekey_field_t *f = cmd->info;
    apr_size_t n = strlen(arg);

    if (n < (apr_size_t)f->min || n > (apr_size_t)f->max || !visible_ascii(arg, allow_space))
        return apr_psprintf(cmd->pool, "%s: the value must be %" APR_INT64_T_FMT "..%"
                            APR_INT64_T_FMT " %sprintable ASCII characters", cmd->cmd->name,
                            f->min, f->max, allow_space ? "" : "non-space ");
    *AT(conf, f->off, const char *) = arg;
    *AT(conf, f->set_off, char) = 1;
    return NULL;
}

static const char *set_int(cmd_parms *cmd, void *conf, const char *arg)
{
    const ekey_field_t *f = cmd->info;
    apr_int64_t v = 0;
    const char *s;

    for (s = arg; *s >= '0' && *s <= '9' && v <= f->max; s++)
        v = v * 10 + (*s - '0');
    if (s == arg || *s != '\0' || v < f->min || v > f->max)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number in %" APR_INT64_T_FMT
                            "..%" APR_INT64_T_FMT, cmd->cmd->name, arg, f->min, f->max);
    *AT(conf, f->off, apr_int64_t) = v;
    *AT(conf, f->set_off, char) = 1;
    return NULL;
}

static void set_flag(cmd_parms *cmd, void *conf, int on)
{
    const ekey_field_t *f = cmd->info;

    *AT(conf, f->off, int) = on ? 1 : 0;
    *AT(conf, f->set_off, char) = 1;
}

const char *ekey_set_dir_string(cmd_parms *cmd, void *dconf, const char *arg)
{
    note_section(cmd, dconf);
    return set_string(cmd, dconf, arg, cmd->info == &ekey_f_realm);
}

/* The largest EKeyClockSkew and EKeyProofMaxAge of the configuration, found by
 * ekey_check_config (every start and restart, before the children exist). */
static apr_int64_t skew_max = EKEY_DEFAULT_SKEW, proof_age_max = EKEY_DEFAULT_PROOF_AGE;

apr_int64_t ekey_skew_max(void)
{
    return skew_max;
}

apr_int64_t ekey_proof_age_max(void)
{
    return proof_age_max;
}

const char *ekey_set_dir_int(cmd_parms *cmd, void *dconf, const char *arg)
{
    note_section(cmd, dconf);
    return set_int(cmd, dconf, arg);
}

const char *ekey_set_dir_flag(cmd_parms *cmd, void *dconf, int on)
{
    note_section(cmd, dconf);
    set_flag(cmd, dconf, on);
    return NULL;
}

const char *ekey_set_srv_string(cmd_parms *cmd, void *dconf, const char *arg)
{
    return set_string(cmd, ekey_srv_conf(cmd->server), arg, 0);
}

/* The shm table is one for the whole httpd: its size and persistence are global. */
static const char *global_only(cmd_parms *cmd)
{
    if (cmd->info != &ekey_f_capacity && cmd->info != &ekey_f_persist)
        return NULL;
    return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

const char *ekey_set_srv_int(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *msg = global_only(cmd);

    return msg != NULL ? msg : set_int(cmd, ekey_srv_conf(cmd->server), arg);
}

const char *ekey_set_srv_flag(cmd_parms *cmd, void *dconf, int on)
{
    const char *msg = global_only(cmd);

    if (msg == NULL)
        set_flag(cmd, ekey_srv_conf(cmd->server), on);
    return msg;
}

/* ------------------------------------------------------------ keys */

/* The section's own keyset, created by its first key directive. */
static ekey_keyset_t *section_keys(cmd_parms *cmd, ekey_dir_conf_t *c)
{
    note_section(cmd, c);
    if (!c->keys_set) {
        c->keys = ekey_keyset_make(cmd->pool);
        c->keys_set = 1;
    }
    return c->keys;
}

/* Trusted keys verify every token: each ES256 key gets its table of multiples now, in
 * the parent, once per configuration read (children share it). A key past the process's
 * table limit verifies at the ordinary cost, which is worth a note at startup. */
static void precompute(cmd_parms *cmd, ekey_keyset_t *ks)
{
    int i, n = ekey_keyset_count(ks), es256 = 0, tables;

    for (i = 0; i < n; i++)
        es256 += ekey_jwk_alg(ekey_keyset_get(ks, i)) == EKEY_ALG_ES256;
    tables = ekey_keyset_precompute(ks);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cmd->server, "EKEY00026: %s (%s:%d): %d of %d "
                 "trusted ES256 key(s) of the section verify with a table of multiples",
                 cmd->cmd->name, cmd->directive->filename, cmd->directive->line_num, tables,
                 es256);
    if (tables < es256)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cmd->server, "EKEY00025: "
                     "%s (%s:%d): not every ES256 key got its verification table (FIPS "
                     "mode, or more than 16 distinct trusted ES256 keys): those verify at "
                     "the ordinary cost", cmd->cmd->name, cmd->directive->filename,
                     cmd->directive->line_num);
}

const char *ekey_set_key(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg), *msg;
    ekey_error_t err = { 0 };
    ekey_jwk_t *key;

    if ((msg = ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) != NULL)
        return msg;
    if (path == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid file name '%s'", cmd->cmd->name, arg);
    if (ekey_jwk_load_pem(&key, cmd->pool, path, 0, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s: cannot use the PEM key '%s': %s",
                            cmd->cmd->name, path, err.text);
    if (ekey_keyset_add(section_keys(cmd, dconf), key, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s: key '%s' (kid %s): %s", cmd->cmd->name, path,
                            ekey_jwk_thumbprint(key), err.text);
    precompute(cmd, section_keys(cmd, dconf));
    return NULL;
}

const char *ekey_set_jwks(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg), *msg;
    ekey_error_t err = { 0 };
    apr_finfo_t fi;
    apr_file_t *f;
    apr_size_t n;
    char *buf;

    if ((msg = ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) != NULL)
        return msg;
    if (path == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid file name '%s'", cmd->cmd->name, arg);
    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name, path);
    if (fi.size <= 0 || fi.size > JWKS_MAX_BYTES)
        return apr_psprintf(cmd->pool, "%s: '%s' is empty or larger than %d bytes",
                            cmd->cmd->name, path, JWKS_MAX_BYTES);
    n = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->temp_pool, n + 1);
    if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name, path);
    buf[n] = '\0';
    apr_file_close(f);
    if (ekey_keyset_add_jwks(section_keys(cmd, dconf), cmd->pool, buf, n, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s: cannot use the JWKS '%s': %s", cmd->cmd->name,
                            path, err.text);
    precompute(cmd, section_keys(cmd, dconf));
    return NULL;
}

/* ------------------------------------------------------------ special values */

const char *ekey_set_origin(cmd_parms *cmd, void *dconf, const char *arg)
{
    ekey_dir_conf_t *c = dconf;
    ekey_error_t err = { 0 };
    char *origin;

    note_section(cmd, c);
    if (ekey_origin_normalize(&origin, cmd->pool, arg, &err) != EKEY_OK)
        return apr_psprintf(cmd->pool, "%s: '%s' is not an origin of the form "
                            "http(s)://host[:port] (%s)", cmd->cmd->name, arg, err.text);
    c->origin = origin;
    c->origin_set = 1;
    return NULL;
}

const char *ekey_set_algs(cmd_parms *cmd, void *dconf, const char *args)
{
    const ekey_field_t *f = cmd->info;
    unsigned mask = 0;
    const char *w;
    ekey_alg_t a;

    note_section(cmd, dconf);
    while (*(w = ap_getword_conf(cmd->temp_pool, &args)) != '\0') {
        if ((a = ekey_alg_from_name(w)) == EKEY_ALG_NONE)
            return apr_psprintf(cmd->pool, "%s: unknown algorithm '%s' (allowed: ES256, "
                                "ES384, EdDSA)", cmd->cmd->name, w);
        mask |= (unsigned)a;
    }
    if (mask == 0)
        return apr_psprintf(cmd->pool, "%s: name at least one of ES256, ES384, EdDSA",
                            cmd->cmd->name);
    /* every client can make an ES256 proof (EKEY_SPEC 5): it is never taken away */
    if (f == &ekey_f_proof_algs && !(mask & (unsigned)EKEY_ALG_ES256))
        return apr_psprintf(cmd->pool, "%s: ES256 proofs are always accepted; list ES256 "
                            "with the others", cmd->cmd->name);
    *AT(dconf, f->off, unsigned) = mask;
    *AT(dconf, f->set_off, char) = 1;
    return NULL;
}

const char *ekey_set_store(cmd_parms *cmd, void *dconf, const char *arg)
{
    ekey_srv_conf_t *sc = ekey_srv_conf(cmd->server);

    if (strcasecmp(arg, "shm") == 0)
        sc->store = EKEY_STORE_SHM;
    else if (strcasecmp(arg, "redis") == 0) {
#ifndef EKEY_HAVE_HIREDIS
        return apr_psprintf(cmd->pool, "%s: this mod_ekey was built without hiredis, "
                            "only 'shm' is available", cmd->cmd->name);
#endif
        sc->store = EKEY_STORE_REDIS;
    }
    else
        return apr_psprintf(cmd->pool, "%s: '%s' is not a store (allowed: shm, redis)",
                            cmd->cmd->name, arg);
    sc->store_set = 1;
    return NULL;
}

const char *ekey_set_redis_server(cmd_parms *cmd, void *dconf, const char *arg)
{
    ekey_srv_conf_t *sc = ekey_srv_conf(cmd->server);
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;

    /* a colon in the host is only an IPv6 address in brackets ("1.2.3.4:6379:7" is not
     * host 1.2.3.4:6379, port 7) */
    if (apr_parse_addr_port(&host, &scope, &port, arg, cmd->pool) != APR_SUCCESS
        || host == NULL || scope != NULL
        || (port == 0 && strchr(arg[0] == '[' ? strchr(arg, ']') : arg, ':') != NULL)
        || (arg[0] != '[' && arg[0] != '/' && strchr(host, ':') != NULL))
        return apr_psprintf(cmd->pool, "%s: '%s' is not host[:port], [IPv6 address][:port] "
                            "or the path of a Unix socket", cmd->cmd->name, arg);
    sc->redis_host = host;
    sc->redis_port = port != 0 ? port : EKEY_DEFAULT_REDIS_PORT;
    sc->redis_host_set = 1;
    return NULL;
}

const char *ekey_set_redis_auth(cmd_parms *cmd, void *dconf, const char *a1, const char *a2)
{
    ekey_srv_conf_t *sc = ekey_srv_conf(cmd->server);
    const char *user = a2 != NULL ? a1 : NULL, *password = a2 != NULL ? a2 : a1;

    if (*password == '\0' || (user != NULL && !visible_ascii(user, 0)))
        return apr_psprintf(cmd->pool, "%s: expects [user] password, both non-empty",
                            cmd->cmd->name);
    sc->redis_user = user;
    sc->redis_password = password;
    sc->redis_auth_set = 1;
    return NULL;
}

/* A file read at startup (EKeyRedisTLSCA, Cert, Key): relative to ServerRoot, and it must
 * exist now, so a typo names its directive instead of surfacing as a TLS error. */
const char *ekey_set_srv_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    const ekey_field_t *f = cmd->info;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    apr_status_t rv;

    if (arg[0] == '\0' || path == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid file name '%s'", cmd->cmd->name, arg);
    if ((rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool)) != APR_SUCCESS
        || fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a readable file%s", cmd->cmd->name,
                            path, rv != APR_SUCCESS ? " (it does not exist)" : "");
    *AT(ekey_srv_conf(cmd->server), f->off, const char *) = path;
    *AT(ekey_srv_conf(cmd->server), f->set_off, char) = 1;
    return NULL;
}

const char *ekey_set_audit_log(cmd_parms *cmd, void *dconf, const char *arg)
{
    ekey_srv_conf_t *sc = ekey_srv_conf(cmd->server);

    if (arg[0] == '\0' || (arg[0] == '|' && arg[1] == '\0'))
        return apr_psprintf(cmd->pool, "%s: expects a file name or \"|command\"",
                            cmd->cmd->name);
    if (arg[0] != '|' && ap_server_root_relative(cmd->pool, arg) == NULL)
        return apr_psprintf(cmd->pool, "%s: invalid file name '%s'", cmd->cmd->name, arg);
    sc->audit_log = arg;
    sc->audit_log_set = 1;
    return NULL;
}

/* ------------------------------------------------------------ startup check */

/* 1 if `parent` is a section of the same kind whose path contains rec's path, so that httpd
 * merges it under rec for every request rec applies to (prefix sections only). */
static int encloses(const ekey_dir_rec_t *parent, const ekey_dir_rec_t *rec)
{
    apr_size_t n;

    if (parent == rec || parent->path == NULL || rec->path == NULL
        || strcasecmp(parent->section, rec->section) != 0 || parent->path[0] != '/')
        return 0;
    n = strlen(parent->path);
    return strncmp(parent->path, rec->path, n) == 0
           && (n > 0 && (parent->path[n - 1] == '/' || rec->path[n] == '/'
                         || rec->path[n] == '\0'));
}

enum { HAVE_KEYS = 1, HAVE_ISSUER = 2, HAVE_AUDIENCE = 4, HAVE_ALL = 7 };

static int provided(const ekey_dir_conf_t *c)
{
    return (c->keys_set && ekey_keyset_count(c->keys) > 0 ? HAVE_KEYS : 0)
           | (c->issuer_set ? HAVE_ISSUER : 0) | (c->audience_set ? HAVE_AUDIENCE : 0);
}

static int provided_by_parents(const ekey_dir_rec_t *rec, const apr_array_header_t *dirs)
{
    const ekey_dir_rec_t *d = (const ekey_dir_rec_t *)dirs->elts;
    int i, have = 0;

    for (i = 0; i < dirs->nelts; i++)
        if (encloses(&d[i], rec))
            have |= provided(d[i].conf);
    return have;
}

/* What sections of another kind provide (a <Directory> for a <Location>, a <Location> for a
 * <LocationMatch>, a <Directory> around a <Files> or an <If>): httpd may merge them into
 * rec's requests, which only a request can tell. */
static int provided_by_others(const ekey_dir_rec_t *rec, const apr_array_header_t *dirs)
{
    const ekey_dir_rec_t *d = (const ekey_dir_rec_t *)dirs->elts;
    int i, have = 0;

    for (i = 0; i < dirs->nelts; i++)
        if (&d[i] != rec && d[i].path != NULL && strcasecmp(d[i].section, rec->section) != 0)
            have |= provided(d[i].conf);
    return have;
}

static int has_keys(const ekey_dir_conf_t *c) { return c->keys_set; }
static int has_token_algs(const ekey_dir_conf_t *c) { return c->token_algs_set; }

/* The configuration that gives rec's requests a value: rec's own, else the nearest enclosing
 * section of the same kind (t's or the main server's), else t's server level. */
static const ekey_dir_conf_t *nearest(const ekey_dir_rec_t *rec, server_rec *t,
                                      server_rec *main, int (*has)(const ekey_dir_conf_t *))
{
    const apr_array_header_t *lists[2] = { ekey_srv_conf(t)->dirs, ekey_srv_conf(main)->dirs };
    const ekey_dir_conf_t *best = NULL, *dflt;
    apr_size_t best_len = 0;
    int i, l;

    if (has(rec->conf))
        return rec->conf;
    for (l = 0; l < 2; l++) {
        const ekey_dir_rec_t *d = (const ekey_dir_rec_t *)lists[l]->elts;

        for (i = 0; i < lists[l]->nelts; i++)
            if (encloses(&d[i], rec) && has(d[i].conf) && strlen(d[i].path) >= best_len) {
                best = d[i].conf;
                best_len = strlen(d[i].path);
            }
    }
    dflt = ap_get_module_config(t->lookup_defaults, &ekey_module);
    return best != NULL ? best : has(dflt) ? dflt : NULL;
}

/* Trusted keys none of which signs with an accepted token algorithm (EKeyTokenAlgorithms
 * ES384 over ES256 keys) refuse every token as untrusted: say so at startup. A warning, not a
 * refusal: a section of another kind may set either for some requests. */
static void check_algs(const ekey_dir_rec_t *rec, server_rec *t, server_rec *main)
{
    const ekey_dir_conf_t *k = nearest(rec, t, main, has_keys),
                          *a = nearest(rec, t, main, has_token_algs);
    unsigned mask = a != NULL ? a->token_algs : EKEY_ALGS_DEFAULT;
    int i, n = k != NULL ? ekey_keyset_count(k->keys) : 0;

    for (i = 0; i < n; i++)
        if ((unsigned)ekey_jwk_alg(ekey_keyset_get(k->keys, i)) & mask)
            return;
    if (n > 0)
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL, "EKEY00029: %s %s> "
                     "(%s:%d, for server %s): none of its %d trusted key(s) signs with an "
                     "algorithm that EKeyTokenAlgorithms accepts (ES256 unless set): every "
                     "token will be refused as untrusted", rec->section, rec->path, rec->file,
                     rec->line, t->server_hostname ? t->server_hostname : "?", n);
}

/* Checks rec as it applies to requests of server t (main: the main server). */
static int check_section(const ekey_dir_rec_t *rec, server_rec *t, server_rec *main)
{
    const ekey_dir_conf_t *dflt = ap_get_module_config(t->lookup_defaults, &ekey_module);
    int have = provided(rec->conf) | provided(dflt)
               | provided_by_parents(rec, ekey_srv_conf(t)->dirs)
               | provided_by_parents(rec, ekey_srv_conf(main)->dirs), maybe;

    if (have == HAVE_ALL) {
        check_algs(rec, t, main);
        return OK;
    }
    maybe = have | provided_by_others(rec, ekey_srv_conf(t)->dirs)
            | provided_by_others(rec, ekey_srv_conf(main)->dirs);
    if (maybe == HAVE_ALL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL, "EKEY00028: %s %s> "
                     "(%s:%d) lacks%s%s%s itself; sections of another kind may complete it "
                     "for its requests (a <Directory> around a <Files>, a <Location> for a "
                     "<LocationMatch>): where none does, requests get 500 (EKEY00101)",
                     rec->section, rec->path, rec->file, rec->line,
                     (have & HAVE_KEYS) ? "" : " [trusted keys]",
                     (have & HAVE_ISSUER) ? "" : " [EKeyIssuer]",
                     (have & HAVE_AUDIENCE) ? "" : " [EKeyAudience]");
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, "EKEY00020: %s %s> "
                 "(%s:%d, for server %s) uses EKey directives but lacks%s%s%s: an E-Key "
                 "location needs EKeyTrustedKey or EKeyTrustedJWKS, EKeyIssuer and "
                 "EKeyAudience, here, in an enclosing section or at server level",
                 rec->section, rec->path, rec->file, rec->line,
                 t->server_hostname ? t->server_hostname : "?",
                 (have & HAVE_KEYS) ? "" : " [trusted keys]",
                 (have & HAVE_ISSUER) ? "" : " [EKeyIssuer]",
                 (have & HAVE_AUDIENCE) ? "" : " [EKeyAudience]");
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* check_config runs for `apachectl -t` as well as at every (re)start, after the virtual
 * hosts were merged: a configuration that cannot verify any token never starts. */
int ekey_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sv, *t;
    const ekey_dir_rec_t *d;
    const ekey_dir_conf_t *dflt;
    apr_int64_t skew, age;
    int i, rv = ekey_store_check_config(pconf, s);

    skew_max = 0;
    proof_age_max = 0;
    for (sv = s; sv != NULL; sv = sv->next) {
        d = (const ekey_dir_rec_t *)ekey_srv_conf(sv)->dirs->elts;
        dflt = ap_get_module_config(sv->lookup_defaults, &ekey_module);
        for (i = 0; i < ekey_srv_conf(sv)->dirs->nelts; i++) {
            /* the skew a section verifies with: its own, else at most the server's (an
             * enclosing section's may be smaller; the largest is the safe bound) */
            skew = d[i].conf->skew_set ? d[i].conf->skew : dflt->skew;
            if (skew > skew_max)
                skew_max = skew;
            age = d[i].conf->proof_max_age_set ? d[i].conf->proof_max_age
                                               : dflt->proof_max_age;
            if (age > proof_age_max)
                proof_age_max = age;
            if (d[i].path == NULL)
                continue;           /* server-level values are defaults, not locations */
            /* a main-server section applies to every virtual host */
            for (t = sv; t != NULL; t = (sv == s) ? t->next : NULL)
                if (check_section(&d[i], t, s) != OK)
                    rv = HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return rv;
}
