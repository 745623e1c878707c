/*
 * cmd_proof.c - `ekey proof`: one DPoP header value, for requests made by another tool
 * (curl -H "DPoP: $(ekey proof ...)"). A proof is single-use: make one per request.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "cli.h"

static const char help[] =
    "Usage: ekey proof --method METHOD --url URL [--token TOKEN | --trace TRACE] [--key FILE]\n"
    "Prints a DPoP proof (RFC 9449) signed by your key for one request.\n\n"
    "  -X, --method M     the request method (GET, POST, ...)\n"
    "  --url URL          the request URL (query and fragment are not part of htu)\n"
    "  --token T          the E-Key the proof goes with: nonce = its trace (read from the\n"
    "                     token without verifying it), ath = SHA-256 of it. @FILE, FILE\n"
    "                     or - (stdin) read it; the issuer's JSON answer is accepted too\n"
    "  --trace TRACE      nonce only, no ath (no token at hand)\n"
    "                     (neither: a minting proof for the issuer, no nonce, no ath)\n"
    "  --key FILE         the key pair (default: as for 'ekey keygen')\n"
    "  -h, --help         this help\n";

int cli_cmd_proof(apr_pool_t *p, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "method", required_argument, NULL, 'X' },
        { "url", required_argument, NULL, 'U' },
        { "token", required_argument, NULL, 'T' },
        { "trace", required_argument, NULL, 'N' },
        { "key", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *method = NULL, *url = NULL, *token_arg = NULL, *trace = NULL, *keyf = NULL;
    const char *token = NULL;
    char *proof, *norm;
    ekey_jwk_t *key;
    ekey_error_t err;
    ekey_status_t st;
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":X:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'X': method = optarg; break;
        case 'U': url = optarg; break;
        case 'T': token_arg = optarg; break;
        case 'N': trace = optarg; break;
        case 'o': keyf = optarg; break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option("proof", c, argv, optind);
        }
    }
    if (optind != argc)
        return cli_fail(CLI_USAGE, "proof: unexpected argument '%s'", argv[optind]);
    if (method == NULL || url == NULL)
        return cli_fail(CLI_USAGE, "proof: --method and --url are required");
    if (!cli_method_ok(method))
        return cli_fail(CLI_USAGE, "proof: method '%s' is not 1..32 uppercase letters", method);
    if (token_arg != NULL && trace != NULL)
        return cli_fail(CLI_USAGE, "proof: give --token or --trace, not both");
    if (trace != NULL && trace[0] == '\0')
        return cli_fail(CLI_USAGE, "proof: --trace is empty");
    if (ekey_url_normalize(&norm, p, url, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, apr_psprintf(p, "proof: URL '%s'", url), &err);
    if (token_arg != NULL && (rc = cli_token_arg(&token, p, token_arg)) != CLI_OK)
        return rc;
    if ((rc = cli_key_load(&key, p, cli_key_path(p, keyf), 0)) != CLI_OK)
        return rc;
    if (token != NULL)
        st = ekey_client_proof(&proof, p, key, method, url, token, cli_now(), &err);
    else
        st = ekey_dpop_create(&proof, p, key, method, url, trace, NULL, cli_now(), &err);
    if (st != EKEY_OK)
        return cli_fail_err(CLI_USAGE, token ? "proof: the token is not usable" : "proof", &err);
    puts(proof);
    return CLI_OK;
}
