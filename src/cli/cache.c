/*
 * cache.c - the token cache of `ekey call`: one JSON file per user (mode 0600), locked with
 * flock for the whole choose-or-mint step, so two concurrent calls never count on the same
 * remaining use. Entries are keyed by everything that decides what a token is good for
 * (issuer, audience, capability, subject, binding key); a use is counted when the request is
 * sent, whatever the answer (a lost answer may still have consumed it on the server).
 *
 * A corrupt file is not fatal: it holds nothing that cannot be minted again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>

#include "cli.h"

#define CACHE_MAX (4u << 20)
#define CACHE_KEEP_EXPIRED 300          /* seconds an expired entry stays (for --replay) */

struct cli_cache_t {
    apr_pool_t *p;
    const char *path;
    int fd;
    json_t *entries;
};

static apr_status_t close_fd(void *ctx)
{
    cli_cache_t *c = ctx;

    if (c->fd >= 0)
        close(c->fd);                 /* releases the lock too */
    c->fd = -1;
    return APR_SUCCESS;
}

const char *cli_cache_path(apr_pool_t *p)
{
    const char *v = getenv("XDG_CACHE_HOME");

    if (v != NULL && v[0] == '/')
        return apr_pstrcat(p, v, "/ekey/tokens.json", NULL);
    if ((v = getenv("HOME")) != NULL && v[0] != '\0')
        return apr_pstrcat(p, v, "/.cache/ekey/tokens.json", NULL);
    return NULL;
}

static void load(cli_cache_t *c)
{
    struct stat sb;
    char *buf;
    ssize_t n;
    json_t *o = NULL, *e;

    if (fstat(c->fd, &sb) == 0 && sb.st_size > 0 && (size_t)sb.st_size <= CACHE_MAX) {
        buf = apr_palloc(c->p, (apr_size_t)sb.st_size);
        n = pread(c->fd, buf, (size_t)sb.st_size, 0);
        if (n != (ssize_t)sb.st_size
            || ekey_json_parse(&o, c->p, buf, (apr_size_t)n, CACHE_MAX, NULL) != EKEY_OK)
            cli_note("warning: token cache %s is unreadable, starting it afresh", c->path);
    }
    e = o != NULL ? json_object_get(o, "entries") : NULL;
    c->entries = json_is_object(e) ? json_incref(e) : json_object();
    ekey_json_own(c->p, c->entries);
}

int cli_cache_open(cli_cache_t **out, apr_pool_t *p, const char *path)
{
    cli_cache_t *c = apr_pcalloc(p, sizeof(*c));
    struct stat sb;

    *out = NULL;
    if (path == NULL)
        return cli_fail(CLI_USAGE, "no token cache path: set HOME or give --token-cache FILE");
    if (cli_mkdir_parent(p, path) != 0)
        return cli_fail(CLI_USAGE, "cannot create the directory of %s: %s", path,
                        strerror(errno));
    c->p = p;
    c->path = path;
    c->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (c->fd < 0)
        return cli_fail(CLI_USAGE, "cannot open the token cache %s: %s", path, strerror(errno));
    apr_pool_cleanup_register(p, c, close_fd, apr_pool_cleanup_null);
    if (fstat(c->fd, &sb) != 0 || sb.st_uid != geteuid() || !S_ISREG(sb.st_mode))
        return cli_fail(CLI_USAGE, "token cache %s is not a file of yours", path);
    if ((sb.st_mode & 077) != 0 && fchmod(c->fd, S_IRUSR | S_IWUSR) != 0)
        return cli_fail(CLI_USAGE, "cannot chmod 600 %s: %s", path, strerror(errno));
    if (flock(c->fd, LOCK_EX) != 0)
        return cli_fail(CLI_USAGE, "cannot lock the token cache %s: %s", path, strerror(errno));
    load(c);
    *out = c;
    return CLI_OK;
}

int cli_cache_get(cli_cache_t *c, const char *key, cli_cached_t *e)
{
    json_t *o = json_object_get(c->entries, key);

    memset(e, 0, sizeof(*e));
    if (!json_is_object(o)
        || ekey_json_get_string(&e->token, o, "token", 1, EKEY_E_JSON, NULL) != EKEY_OK
        || ekey_json_get_string(&e->trace, o, "trace", 1, EKEY_E_JSON, NULL) != EKEY_OK
        || ekey_json_get_int(&e->exp, NULL, o, "exp", 1, EKEY_E_JSON, NULL) != EKEY_OK
        || ekey_json_get_int(&e->limit, NULL, o, "limit", 1, EKEY_E_JSON, NULL) != EKEY_OK
        || ekey_json_get_int(&e->uses_left, NULL, o, "uses_left", 1, EKEY_E_JSON, NULL)
           != EKEY_OK) {
        memset(e, 0, sizeof(*e));
        return 0;
    }
    /* copies: the entry's JSON goes away when it is replaced */
    e->token = apr_pstrdup(c->p, e->token);
    e->trace = apr_pstrdup(c->p, e->trace);
    return 1;
}

void cli_cache_put(cli_cache_t *c, const char *key, const cli_cached_t *e)
{
    json_object_set_new(c->entries, key, json_pack("{s:s,s:s,s:I,s:I,s:I}",
                        "token", e->token, "trace", e->trace, "exp", (json_int_t)e->exp,
                        "limit", (json_int_t)e->limit, "uses_left", (json_int_t)e->uses_left));
}

int cli_cache_save(cli_cache_t *c)
{
    apr_int64_t now = cli_now();
    const char *k, *text;
    json_t *v, *doc;
    void *tmp;
    cli_cached_t e;
    size_t len;
    int ok;

    json_object_foreach_safe(c->entries, tmp, k, v) {
        if (!cli_cache_get(c, k, &e) || e.exp + CACHE_KEEP_EXPIRED < now)
            json_object_del(c->entries, k);
    }
    doc = ekey_json_own(c->p, json_pack("{s:i,s:O}", "version", 1, "entries", c->entries));
    text = doc != NULL ? ekey_json_dump(c->p, doc) : NULL;
    len = text != NULL ? strlen(text) : 0;
    ok = text != NULL && ftruncate(c->fd, 0) == 0 && pwrite(c->fd, text, len, 0) == (ssize_t)len;
    close_fd(c);
    if (!ok)
        return cli_fail(CLI_USAGE, "cannot write the token cache %s", c->path);
    return CLI_OK;
}
