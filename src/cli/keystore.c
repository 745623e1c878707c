/*
 * keystore.c - the client's key pair: one private key file per user, reused by every
 * subcommand (the prototype cached its key pair per session; a file survives the shell).
 *
 * The file is written by the core (ekey_jwk_save_pem: 0600 from birth, never through an
 * existing file or symlink). Replacing one (--force) writes a sibling and renames it over
 * the old file, so a crash leaves either key, never half of one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "cli.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *cli_key_path(apr_pool_t *p, const char *opt)
{
    const char *v;

    if (opt != NULL)
        return opt;
    if ((v = env("EKEY_KEY")) != NULL)
        return v;
    /* XDG base directories: a relative value is invalid and ignored */
    if ((v = env("XDG_CONFIG_HOME")) != NULL && v[0] == '/')
        return apr_pstrcat(p, v, "/ekey/key.pem", NULL);
    if ((v = env("HOME")) != NULL)
        return apr_pstrcat(p, v, "/.config/ekey/key.pem", NULL);
    return NULL;
}

int cli_mkdir_parent(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    apr_status_t rv;

    if (slash == NULL || slash == path)
        return 0;
    rv = apr_dir_make_recursive(apr_pstrndup(p, path, (apr_size_t)(slash - path)),
                                APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, p);
    return rv == APR_SUCCESS || APR_STATUS_IS_EEXIST(rv) ? 0 : -1;
}

int cli_key_create(ekey_jwk_t **out, apr_pool_t *p, const char *path, int force)
{
    struct stat sb;
    ekey_jwk_t *key;
    ekey_error_t err;
    const char *tmp;

    *out = NULL;
    if (lstat(path, &sb) == 0 && !force)
        return cli_fail(CLI_USAGE, "%s exists: keep it, or replace it with --force (tokens "
                        "bound to the old key stop working)", path);
    if (cli_mkdir_parent(p, path) != 0)
        return cli_fail(CLI_USAGE, "cannot create the directory of %s: %s", path,
                        strerror(errno));
    if (ekey_jwk_generate(&key, p, EKEY_ALG_ES256, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, "cannot generate a key", &err);
    if (!force) {
        if (ekey_jwk_save_pem(key, p, path, &err) != EKEY_OK)
            return cli_fail_err(CLI_USAGE, "cannot save the key", &err);
    }
    else {
        tmp = apr_psprintf(p, "%s.new-%ld", path, (long)getpid());
        (void)unlink(tmp);
        if (ekey_jwk_save_pem(key, p, tmp, &err) != EKEY_OK)
            return cli_fail_err(CLI_USAGE, "cannot save the key", &err);
        if (rename(tmp, path) != 0) {
            int e = errno;

            (void)unlink(tmp);
            return cli_fail(CLI_USAGE, "cannot replace %s: %s", path, strerror(e));
        }
    }
    *out = key;
    return CLI_OK;
}

int cli_key_load(ekey_jwk_t **out, apr_pool_t *p, const char *path, int create)
{
    struct stat sb;
    ekey_error_t err;
    int rc, found;

    *out = NULL;
    if (path == NULL)
        return cli_fail(CLI_USAGE, "no key file: give --key FILE or set EKEY_KEY or HOME");
    if (!(found = stat(path, &sb) == 0) && errno == ENOENT) {
        if (!create)
            return cli_fail(CLI_USAGE, "no key at %s: run 'ekey keygen' first", path);
        if ((rc = cli_key_create(out, p, path, 0)) == CLI_OK)
            cli_note("created a new key pair in %s (jkt %s)", path, ekey_jwk_thumbprint(*out));
        return rc;
    }
    /* as ssh does: a key others can read is no longer only ours, and one that another user
     * owns (or could replace) binds our tokens to a key someone else may hold */
    if (found && sb.st_uid != geteuid())
        return cli_fail(CLI_USAGE, "the key %s belongs to another user: refused", path);
    if (found && (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return cli_fail(CLI_USAGE, "the key %s is accessible by other users: refused (chmod "
                        "600 it, or make a new one with 'ekey keygen --force')", path);
    if (ekey_jwk_load_pem(out, p, path, 1, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, apr_psprintf(p, "cannot load the key %s", path), &err);
    return CLI_OK;
}
