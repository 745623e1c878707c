/*
 * ekey_benchgen.c - pre-generates unique, valid benchmark requests with libekey.
 *
 * Every request is made before the measurement starts, so the load generator only replays
 * lines and the server never sees the same token/proof pair twice. One line per request,
 * fields separated by a TAB (wrk's bench/replay.lua reads them):
 *
 *   ekey-dpop    TOKEN \t PROOF    E-Key bound with cnf.jkt, proof with ath and nonce=trace;
 *                                  with -l L each token is presented L times (fresh proofs)
 *   ekey-mtls    TOKEN             E-Key bound with cnf["x5t#S256"] of the -x certificate
 *   oauth2-dpop  JWT \t PROOF      the peer's form: an ES256 JWT with cnf.jkt, presented as
 *                                  "Authorization: DPoP <jwt>", proof with htm/htu/iat/jti/ath
 *   issuer       BODY \t PROOF|-   a POST /token JSON body; with -P a minting proof for -u
 *   jwk          (one line)        the public JWK of -k, for the peer's configuration
 *
 * Client keys: -K N keeps a pool of N client keys (one key per client, as real clients
 * reuse theirs); -K 0 makes a new key for every token (the worst case for any key cache).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ekey.h"

typedef struct {
    const char *mode, *out, *key, *iss, *aud, *url, *method, *action, *cert;
    long n, limit, keys, ttl;
    int proofs;
} opts_t;

typedef struct {
    apr_pool_t *p;             /* lives for the whole run: keys */
    const ekey_jwk_t *issuer;
    ekey_jwk_t **pool;         /* client keys, NULL entries when -K 0 */
    const char *x5t;
    apr_int64_t now;
    FILE *f;
} gen_t;

static void die(const char *what, const ekey_error_t *err) __attribute__((noreturn));
static void die(const char *what, const ekey_error_t *err)
{
    fprintf(stderr, "ekey_benchgen: %s%s%s\n", what, err ? ": " : "", err ? err->text : "");
    exit(1);
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fputs("usage: ekey_benchgen MODE -n N -k ISSUER.pem [-o FILE] [-i ISS] [-a AUD] [-u URL]\n"
          "         [-m METHOD] [-c ACTION] [-l LIMIT] [-K KEYS] [-t TTL] [-x CERT] [-P]\n"
          "MODE: ekey-dpop | ekey-mtls | oauth2-dpop | issuer | jwk\n", stderr);
    exit(2);
}

static void parse_opts(opts_t *o, int argc, char **argv)
{
    int c;

    memset(o, 0, sizeof(*o));
    o->iss = "https://issuer.bench";
    o->aud = "https://api.bench";
    o->url = "http://127.0.0.1/api/item";
    o->method = "GET";
    o->action = "GET:/api/item";
    o->n = 1;
    o->limit = 1;
    o->keys = 32;
    o->ttl = 900;
    if (argc < 2)
        usage();
    o->mode = argv[1];
    optind = 2;
    while ((c = getopt(argc, argv, "n:o:k:i:a:u:m:c:l:K:t:x:P")) != -1) {
        switch (c) {
        case 'n': o->n = atol(optarg); break;
        case 'o': o->out = optarg; break;
        case 'k': o->key = optarg; break;
        case 'i': o->iss = optarg; break;
        case 'a': o->aud = optarg; break;
        case 'u': o->url = optarg; break;
        case 'm': o->method = optarg; break;
        case 'c': o->action = optarg; break;
        case 'l': o->limit = atol(optarg); break;
        case 'K': o->keys = atol(optarg); break;
        case 't': o->ttl = atol(optarg); break;
        case 'x': o->cert = optarg; break;
        case 'P': o->proofs = 1; break;
        default: usage();
        }
    }
    if (o->key == NULL || o->n < 1 || o->limit < 1 || o->keys < 0 || o->ttl < 1)
        usage();
}

/* Client key number i: from the pool, or a fresh one when the pool size is 0. */
static const ekey_jwk_t *client_key(gen_t *g, const opts_t *o, long i, apr_pool_t *tmp)
{
    ekey_jwk_t *k;
    ekey_error_t err;

    if (o->keys > 0)
        return g->pool[i % o->keys];
    if (ekey_jwk_generate(&k, tmp, EKEY_ALG_ES256, &err) != EKEY_OK)
        die("client key", &err);
    return k;
}

static const char *cert_x5t(apr_pool_t *p, const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    const char *out;
    int n;

    if (f)
        fclose(f);
    if (x == NULL || (n = i2d_X509(x, &der)) <= 0)
        die("cannot read the client certificate (-x)", NULL);
    out = ekey_sha256_b64url(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

static char *mint(gen_t *g, const opts_t *o, apr_pool_t *tmp, long i, ekey_bind_t bind,
                  const char *jkt, ekey_token_t **claims)
{
    ekey_mint_t m;
    ekey_error_t err;
    char *tok;

    memset(&m, 0, sizeof(m));
    m.iss = o->iss;
    m.sub = apr_psprintf(tmp, "bench-client-%ld", i % (o->keys > 0 ? o->keys : 1000000));
    m.aud = o->aud;
    m.action = o->action;
    m.limit = o->limit;
    m.now = g->now;
    m.ttl = o->ttl;
    m.bind = bind;
    m.jkt = jkt;
    m.x5t = g->x5t;
    if (ekey_token_mint(&tok, claims, tmp, &m, g->issuer, &err) != EKEY_OK)
        die("mint", &err);
    return tok;
}

static void proof(char **out, gen_t *g, const opts_t *o, apr_pool_t *tmp,
                  const ekey_jwk_t *k, const char *nonce, const char *token)
{
    ekey_error_t err;

    if (ekey_dpop_create(out, tmp, k, o->method, o->url, nonce, token, g->now, &err) != EKEY_OK)
        die("proof", &err);
}

/* ekey-dpop: token i / limit, presented with a fresh proof on every line. */
static void gen_ekey_dpop(gen_t *g, const opts_t *o, apr_pool_t *tmp)
{
    apr_pool_t *tokp;
    const ekey_jwk_t *k = NULL;
    ekey_token_t *t = NULL;
    char *tok = NULL, *pr;
    long i;

    apr_pool_create(&tokp, g->p);
    for (i = 0; i < o->n; i++) {
        if (i % o->limit == 0) {
            apr_pool_clear(tokp);
            k = client_key(g, o, i / o->limit, tokp);
            tok = mint(g, o, tokp, i / o->limit, EKEY_BIND_DPOP, ekey_jwk_thumbprint(k), &t);
        }
        proof(&pr, g, o, tmp, k, t->trace, tok);
        fprintf(g->f, "%s\t%s\n", tok, pr);
        apr_pool_clear(tmp);
    }
}

static void gen_ekey_mtls(gen_t *g, const opts_t *o, apr_pool_t *tmp)
{
    long i;

    if (o->cert == NULL)
        usage();
    g->x5t = cert_x5t(g->p, o->cert);
    for (i = 0; i < o->n; i++) {
        fprintf(g->f, "%s\n", mint(g, o, tmp, i, EKEY_BIND_MTLS, NULL, NULL));
        apr_pool_clear(tmp);
    }
}

/* The peer's access token: a plain ES256 JWT (RFC 9068-like claims) bound with cnf.jkt. */
static void gen_oauth2(gen_t *g, const opts_t *o, apr_pool_t *tmp)
{
    ekey_error_t err;
    const ekey_jwk_t *k;
    const char *jti;
    char *tok, *pr;
    json_t *h, *c;
    long i;

    for (i = 0; i < o->n; i++) {
        k = client_key(g, o, i, tmp);
        if (ekey_random_id(&jti, tmp, &err) != EKEY_OK)
            die("jti", &err);
        h = ekey_json_own(tmp, json_pack("{s:s}", "typ", "JWT"));
        c = ekey_json_own(tmp, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:{s:s}}",
                          "iss", o->iss, "sub", apr_psprintf(tmp, "bench-client-%ld", i),
                          "aud", o->aud, "iat", (json_int_t)g->now,
                          "exp", (json_int_t)(g->now + o->ttl), "jti", jti,
                          "cnf", "jkt", ekey_jwk_thumbprint(k)));
        if (h == NULL || c == NULL || ekey_jws_sign(&tok, tmp, h, c, g->issuer, &err) != EKEY_OK)
            die("peer token", &err);
        proof(&pr, g, o, tmp, k, NULL, tok);
        fprintf(g->f, "%s\t%s\n", tok, pr);
        apr_pool_clear(tmp);
    }
}

/* POST /token bodies; -u is the token endpoint URL the minting proof is made for. */
static void gen_issuer(gen_t *g, const opts_t *o, apr_pool_t *tmp)
{
    const ekey_jwk_t *k;
    json_t *body;
    char *pr = NULL;
    long i;

    for (i = 0; i < o->n; i++) {
        k = client_key(g, o, i, tmp);
        body = ekey_json_own(tmp, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:I},s:O}",
                             "sub", apr_psprintf(tmp, "bench-client-%ld", i), "aud", o->aud,
                             "ttl", (json_int_t)o->ttl, "bind", "DPoP", "cap",
                             "action", o->action, "limit", (json_int_t)o->limit,
                             "jwk", ekey_jwk_to_json(k, tmp, 0)));
        if (body == NULL)
            die("issuer body", NULL);
        if (o->proofs)
            proof(&pr, g, o, tmp, k, NULL, NULL);
        fprintf(g->f, "%s\t%s\n", ekey_json_dump(tmp, body), o->proofs ? pr : "-");
        apr_pool_clear(tmp);
    }
}

int main(int argc, char **argv)
{
    opts_t o;
    gen_t g;
    apr_pool_t *tmp;
    ekey_jwk_t *issuer;
    ekey_error_t err;
    long i;

    parse_opts(&o, argc, argv);
    apr_initialize();
    atexit(apr_terminate);
    memset(&g, 0, sizeof(g));
    apr_pool_create(&g.p, NULL);
    apr_pool_create(&tmp, g.p);
    g.now = apr_time_sec(apr_time_now());
    if (ekey_jwk_load_pem(&issuer, g.p, o.key, 1, &err) != EKEY_OK)
        die("issuer key (-k)", &err);
    g.issuer = issuer;
    g.f = o.out ? fopen(o.out, "w") : stdout;
    if (g.f == NULL)
        die("cannot open the output file (-o)", NULL);
    if (strcmp(o.mode, "jwk") == 0) {
        fprintf(g.f, "%s\n", ekey_json_dump(g.p, ekey_jwk_to_json(issuer, g.p, 0)));
        return fclose(g.f) == 0 ? 0 : 1;
    }
    g.pool = apr_pcalloc(g.p, sizeof(*g.pool) * (size_t)(o.keys > 0 ? o.keys : 1));
    for (i = 0; i < o.keys; i++)
        if (ekey_jwk_generate(&g.pool[i], g.p, EKEY_ALG_ES256, &err) != EKEY_OK)
            die("client key", &err);
    if (strcmp(o.mode, "ekey-dpop") == 0)
        gen_ekey_dpop(&g, &o, tmp);
    else if (strcmp(o.mode, "ekey-mtls") == 0)
        gen_ekey_mtls(&g, &o, tmp);
    else if (strcmp(o.mode, "oauth2-dpop") == 0)
        gen_oauth2(&g, &o, tmp);
    else if (strcmp(o.mode, "issuer") == 0) {
        o.method = "POST";          /* the minting proof is for POST to the token URL */
        gen_issuer(&g, &o, tmp);
    }
    else
        usage();
    if (fclose(g.f) != 0)
        die("write failed", NULL);
    return 0;
}
