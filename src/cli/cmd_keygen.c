/*
 * cmd_keygen.c - `ekey keygen`: the P-256 key pair every token of this user is bound to.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: ekey keygen [--force] [--key FILE]\n"
    "       ekey keygen --show [--key FILE]\n"
    "Makes a new P-256 key pair for DPoP and writes the private key (PKCS#8 PEM, mode 0600).\n"
    "Prints the public JWK and its RFC 7638 thumbprint (jkt) as JSON.\n\n"
    "  --key FILE, -o FILE  where the key lives (default: $EKEY_KEY, else\n"
    "                       $XDG_CONFIG_HOME/ekey/key.pem, else ~/.config/ekey/key.pem)\n"
    "  --force              replace an existing key (its tokens stop working)\n"
    "  --show               print the public JWK and jkt of the existing key\n"
    "  -h, --help           this help\n";

static int show(apr_pool_t *p, const char *path, const ekey_jwk_t *key)
{
    json_t *o = ekey_json_own(p, json_object());

    if (o == NULL || json_object_set_new(o, "key", json_string(path)) != 0
        || json_object_set_new(o, "jkt", json_string(ekey_jwk_thumbprint(key))) != 0
        || json_object_set(o, "jwk", ekey_jwk_to_json(key, p, 0)) != 0)
        return cli_fail(CLI_USAGE, "cannot describe the key (path not UTF-8?)");
    return cli_print_json(o);
}

int cli_cmd_keygen(apr_pool_t *p, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "key", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "show", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *opt_key = NULL, *path;
    int force = 0, only_show = 0, c, rc;
    ekey_jwk_t *key;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fsh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': opt_key = optarg; break;
        case 'f': force = 1; break;
        case 's': only_show = 1; break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option("keygen", c, argv, optind);
        }
    }
    if (optind != argc)
        return cli_fail(CLI_USAGE, "keygen: unexpected argument '%s'", argv[optind]);
    if (force && only_show)
        return cli_fail(CLI_USAGE, "keygen: --show and --force exclude each other");
    if ((path = cli_key_path(p, opt_key)) == NULL)
        return cli_fail(CLI_USAGE, "keygen: no key path: give --key FILE or set HOME");
    /* the answer names the file in JSON: a name it cannot hold fails before a key is made */
    if (ekey_json_own(p, json_string(path)) == NULL)
        return cli_fail(CLI_USAGE, "keygen: the key path is not UTF-8");
    rc = only_show ? cli_key_load(&key, p, path, 0) : cli_key_create(&key, p, path, force);
    return rc != CLI_OK ? rc : show(p, path, key);
}
