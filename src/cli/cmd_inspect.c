/*
 * cmd_inspect.c - `ekey inspect`: a token or proof decoded for humans. It never says a
 * signature is good unless it checked it against keys the user gave: a token's key is
 * chosen by its kid among those keys, a proof's by the thumbprint of its embedded jwk (the
 * embedded key alone proves nothing about who made the proof).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>

#include "cli.h"

static const char help[] =
    "Usage: ekey inspect [--jwks FILE]... [--key PEM]... TOKEN|@FILE|-\n"
    "Decodes an E-Key or a DPoP proof (header, claims, readable times) as JSON on stdout.\n"
    "The signature is NOT verified unless keys are given; claims (exp, aud, ...) are never\n"
    "checked: the resource server decides those.\n\n"
    "  --jwks FILE        verify against the keys of a JWKS document (the issuer's\n"
    "                     /.well-known/jwks.json)\n"
    "  --key PEM          verify against a public (or private) key in PEM\n"
    "  TOKEN              the token or proof, @FILE, FILE or - (stdin); an issuer's JSON\n"
    "                     answer and an 'EKey ' prefix are accepted\n"
    "  -h, --help         this help\n\n"
    "Exit status: 0 decoded (and verified, when keys were given), 1 not decodable or bad\n"
    "key files, 5 signature not verified with the given keys.\n";

typedef struct {
    ekey_keyset_t *keys;
    int nkeys;
} keys_t;

static int add_keys(keys_t *k, apr_pool_t *p, int jwks, const char *path)
{
    ekey_jwk_t *key;
    ekey_error_t err;
    char *buf;
    apr_size_t len;

    if (jwks) {
        if (cli_read_file(&buf, &len, p, path, 1 << 20) != 0)
            return cli_fail(CLI_USAGE, "inspect: cannot read %s", path);
        if (ekey_keyset_add_jwks(k->keys, p, buf, len, &err) != EKEY_OK)
            return cli_fail_err(CLI_USAGE, apr_psprintf(p, "inspect: JWKS %s", path), &err);
    }
    else if (ekey_jwk_load_pem(&key, p, path, 0, &err) != EKEY_OK
             || ekey_keyset_add(k->keys, key, &err) != EKEY_OK)
        return cli_fail_err(CLI_USAGE, apr_psprintf(p, "inspect: key %s", path), &err);
    k->nkeys++;
    return CLI_OK;
}

static const char *utc(apr_pool_t *p, json_t *claims, const char *name, apr_int64_t now)
{
    json_t *v = json_object_get(claims, name);
    time_t t;
    struct tm tm;
    char buf[32];
    apr_int64_t d;

    if (!json_is_integer(v))
        return NULL;
    t = (time_t)json_integer_value(v);
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return NULL;
    d = (apr_int64_t)json_integer_value(v) - now;
    if (d == 0)
        return apr_psprintf(p, "%s (now)", buf);
    return apr_psprintf(p, "%s (%s%" APR_INT64_T_FMT " s%s)", buf, d > 0 ? "in " : "",
                        d > 0 ? d : -d, d > 0 ? "" : " ago");
}

/* Readable facts next to the raw JSON: kind, times, the proof key's thumbprint. */
static json_t *notes(apr_pool_t *p, json_t *hdr, json_t *claims, int is_proof)
{
    json_t *n = json_object();
    const char *s, *jkt;
    const char *const times[] = { "iat", "nbf", "exp" };
    apr_int64_t now = cli_now();
    size_t i;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        if ((s = utc(p, claims, times[i], now)) != NULL)
            json_object_set_new(n, times[i], json_string(s));
    if (is_proof && json_is_object(json_object_get(hdr, "jwk"))
        && ekey_jwk_thumbprint_json(&jkt, p, json_object_get(hdr, "jwk"), NULL) == EKEY_OK)
        json_object_set_new(n, "jwk_thumbprint", json_string(jkt));
    return n;
}

/* "verified with kid X" or the failure; *ok = 1 only when the signature verified. */
static const char *verify(int *ok, apr_pool_t *p, const char *compact, int is_proof,
                          const keys_t *k)
{
    ekey_jws_t *jws;
    ekey_jwk_t *embedded;
    const ekey_jwk_t *key;
    const char *kid;
    ekey_error_t err;

    *ok = 0;
    memset(&err, 0, sizeof(err));
    if (ekey_jws_parse(&jws, p, compact, strlen(compact), CLI_MAX_INPUT, EKEY_ALGS_ALL,
                       is_proof, &err) != EKEY_OK)
        return apr_psprintf(p, "%s: %s", ekey_status_name(err.status), err.text);
    if (is_proof) {
        if (ekey_jwk_parse(&embedded, p, json_object_get(jws->header, "jwk"), &err) != EKEY_OK)
            return apr_psprintf(p, "%s: embedded jwk: %s", ekey_status_name(err.status),
                                err.text);
        kid = ekey_jwk_thumbprint(embedded);
    }
    else if ((kid = jws->kid) == NULL)
        return "EKEY_E_KID: the header has no kid";
    if ((key = ekey_keyset_find(k->keys, kid)) == NULL)
        return apr_psprintf(p, "EKEY_E_KID: %s %s is not among the given keys",
                            is_proof ? "the proof's key" : "kid", kid);
    if (ekey_jws_verify(jws, key, &err) != EKEY_OK)
        return apr_psprintf(p, "%s: %s", ekey_status_name(err.status), err.text);
    *ok = 1;
    return apr_psprintf(p, "verified with kid %s", kid);
}

int cli_cmd_inspect(apr_pool_t *p, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "jwks", required_argument, NULL, 'j' },
        { "key", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    keys_t k = { ekey_keyset_make(p), 0 };
    const char *compact, *typ, *sig;
    json_t *hdr, *claims, *out;
    ekey_error_t err;
    int c, rc = CLI_OK, ok = 0, is_proof;

    opterr = 0;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': rc = add_keys(&k, p, 1, optarg); break;
        case 'o': rc = add_keys(&k, p, 0, optarg); break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_bad_option("inspect", c, argv, optind);
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (optind + 1 != argc)
        return cli_fail(CLI_USAGE, "inspect: give exactly one TOKEN (or '-' for stdin)");
    if ((rc = cli_token_arg(&compact, p, argv[optind])) != CLI_OK)
        return rc;
    if (ekey_jws_peek(&hdr, &claims, p, compact, strlen(compact), CLI_MAX_INPUT, &err)
        != EKEY_OK)
        return cli_fail_err(CLI_USAGE, "inspect: not a token or proof", &err);
    typ = json_string_value(json_object_get(hdr, "typ"));
    is_proof = typ != NULL && strcmp(typ, EKEY_TYP_DPOP) == 0;
    sig = k.nkeys == 0 ? "NOT verified (no --jwks or --key given)"
                       : verify(&ok, p, compact, is_proof, &k);
    out = ekey_json_own(p, json_pack("{s:s,s:O,s:O,s:o,s:s}",
        "kind", is_proof ? "DPoP proof" : typ && strcmp(typ, EKEY_TYP_TOKEN) == 0 ? "E-Key"
                         : "JWS of another type", "header", hdr, "claims", claims,
        "notes", notes(p, hdr, claims, is_proof), "signature", sig));
    if (out == NULL || (rc = cli_print_json(out)) != CLI_OK)
        return out == NULL ? cli_fail(CLI_USAGE, "inspect: cannot build the output") : rc;
    if (k.nkeys == 0)
        cli_note("signature NOT verified (give --jwks FILE or --key PEM to verify it)");
    else if (!ok)
        return cli_fail(CLI_VERIFY, "signature NOT verified: %s", sig);
    else
        cli_note("signature %s (claims not checked)", sig);
    return CLI_OK;
}
