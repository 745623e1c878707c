/*
 * verify_path.c - mod_ekey's request path without httpd, for instruction-count profiling.
 *
 * Pre-generates N unique DPoP requests (token + fresh proof, as bench/ekey_benchgen does)
 * and then runs, for each one, exactly the core calls ekey_authn.c makes: Authorization
 * framing, ekey_token_verify, the htu normalisation, ekey_dpop_verify, ekey_cap_match and
 * one replay-table consume (the lock is the glue's, not counted). Beside it, the floor: two
 * ES256 verifications per request with keys parsed beforehand, once with the usual
 * EVP_DigestVerifyInit + EVP_DigestVerify and once as `openssl speed` does it (a context
 * initialised once, EVP_PKEY_verify on the SHA-256 digest).
 *
 * Wall-clock figures on a shared machine are noise; instruction counts are not:
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out bench/ekey_verify_path -n 300 -K 32
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'run_(path|digestverify|floor)'
 * and divide by N (the program prints the per-request divisor lines to use).
 *   -l L   each token is presented L times, a fresh proof each time (case e of bench/run.sh)
 *   -K K   K client keys reused round-robin (0: a new key for every token, case b0)
 *   -r R   run the request path R times over fresh request sets (warm caches count)
 *   -x KB  write KB kilobytes between two requests of every loop, as a server's network
 *          stack and request handling do, so that each request starts with the caches
 *          another workload left (its own time is subtracted): the floor in situ
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ekey.h"

#define ISS    "https://issuer.bench"
#define AUD    "https://api.bench"
#define ORIGIN "http://127.0.0.1:8080"
#define RAW    "/api/item"
#define ACTION "GET:/api/item"

typedef struct {
    char *authz, *proof;
    /* the floor's inputs: both signing inputs and DER signatures, keys already parsed */
    const ekey_jwk_t *tkey, *pkey;
    ekey_jws_t *tjws, *pjws;
    unsigned char tder[80], pder[80];
    size_t tder_len, pder_len;
} req_t;

/* CPU time of this process in microseconds: a second view beside instruction counts (ECDSA's
 * assembly retires more instructions per cycle than parsing code does). */
static double cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* -x KB: between two requests, write KB kilobytes (a server's network stack and request
 * handling run there and take the caches); its own time is measured apart and subtracted. */
static unsigned char *thrash_buf;
static size_t thrash_len;
static volatile unsigned char thrash_sink;

static void thrash(void)
{
    size_t i;

    if (thrash_len == 0)
        return;
    for (i = 0; i < thrash_len; i += 64)
        thrash_buf[i] = (unsigned char)(thrash_buf[i] + 1);
    thrash_sink = thrash_buf[thrash_len / 2];
}

__attribute__((noinline)) static void run_thrash(long n)
{
    long i;

    for (i = 0; i < n; i++)
        thrash();
}

static void die(const char *what, const ekey_error_t *err) __attribute__((noreturn));
static void die(const char *what, const ekey_error_t *err)
{
    fprintf(stderr, "verify_path: %s%s%s\n", what, err ? ": " : "", err ? err->text : "");
    exit(1);
}

static size_t to_der(unsigned char *der, const unsigned char *raw)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    unsigned char *q = der;
    int n;

    if (s == NULL || ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL)) != 1
        || (n = i2d_ECDSA_SIG(s, &q)) <= 0 || n > 80)
        die("DER", NULL);
    ECDSA_SIG_free(s);
    return (size_t)n;
}

/* N requests: token i / limit, a fresh proof for every use. */
static req_t *generate(apr_pool_t *p, const ekey_jwk_t *issuer, long n, long limit, long nkeys,
                       apr_int64_t now)
{
    req_t *rs = apr_pcalloc(p, sizeof(*rs) * (size_t)n);
    ekey_jwk_t **keys = apr_pcalloc(p, sizeof(*keys) * (size_t)(nkeys > 0 ? nkeys : 1));
    const ekey_jwk_t *k = NULL;
    ekey_token_t *t = NULL;
    ekey_error_t err;
    ekey_mint_t m;
    char *tok = NULL;
    long i;

    for (i = 0; i < nkeys; i++)
        if (ekey_jwk_generate(&keys[i], p, EKEY_ALG_ES256, &err) != EKEY_OK)
            die("client key", &err);
    for (i = 0; i < n; i++) {
        if (i % limit == 0) {
            long tn = i / limit;
            ekey_jwk_t *nk;
            if (nkeys == 0 && ekey_jwk_generate(&nk, p, EKEY_ALG_ES256, &err) != EKEY_OK)
                die("client key", &err);
            k = nkeys > 0 ? keys[tn % nkeys] : nk;
            memset(&m, 0, sizeof(m));
            m.iss = ISS;
            m.sub = apr_psprintf(p, "bench-client-%ld", tn);
            m.aud = AUD;
            m.action = ACTION;
            m.limit = limit;
            m.now = now;
            m.ttl = 300;
            m.bind = EKEY_BIND_DPOP;
            m.jkt = ekey_jwk_thumbprint(k);
            if (ekey_token_mint(&tok, &t, p, &m, issuer, &err) != EKEY_OK)
                die("mint", &err);
        }
        rs[i].authz = apr_pstrcat(p, "EKey ", tok, NULL);
        if (ekey_dpop_create(&rs[i].proof, p, k, "GET", ORIGIN RAW, t->trace, tok, now, &err)
            != EKEY_OK)
            die("proof", &err);
        rs[i].tkey = issuer;
        rs[i].pkey = k;
        if (ekey_jws_parse(&rs[i].tjws, p, tok, strlen(tok), 0, EKEY_ALGS_ALL, 0, &err)
            || ekey_jws_parse(&rs[i].pjws, p, rs[i].proof, strlen(rs[i].proof), 0,
                              EKEY_ALGS_ALL, 1, &err))
            die("parse", &err);
        rs[i].tder_len = to_der(rs[i].tder, rs[i].tjws->sig);
        rs[i].pder_len = to_der(rs[i].pder, rs[i].pjws->sig);
    }
    return rs;
}

/* What ekey_authn.c's verify() does for one DPoP request (glue-only steps left out). */
static ekey_status_t one_request(apr_pool_t *p, const req_t *rq, const ekey_keyset_t *ks,
                                 ekey_rtable_t *table, apr_int64_t now)
{
    ekey_token_policy_t pol;
    ekey_dpop_check_t chk;
    ekey_consume_t c;
    ekey_token_t *t;
    ekey_dpop_t *d;
    ekey_error_t err;
    apr_int64_t left;
    const char *tok;
    char *norm;
    apr_size_t len;
    ekey_status_t st;

    if ((st = ekey_http_parse_authorization(&tok, &len, rq->authz, EKEY_MAX_TOKEN_LEN, &err)))
        return st;
    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = ISS;
    pol.audience = AUD;
    pol.now = now;
    pol.skew = EKEY_DEFAULT_SKEW;
    pol.max_ttl = EKEY_DEFAULT_MAX_TTL;
    pol.max_limit = 100;
    pol.max_len = EKEY_MAX_TOKEN_LEN;
    pol.algs = EKEY_ALGS_DEFAULT;
    if ((st = ekey_token_verify(&t, p, tok, len, &pol, &err)) != EKEY_OK)
        return st;
    if ((st = ekey_url_normalize(&norm, p, apr_pstrcat(p, ORIGIN, RAW, NULL), &err)))
        return st;
    memset(&chk, 0, sizeof(chk));
    chk.method = "GET";
    chk.htu = norm;
    chk.ath = t->ath;
    chk.nonce = t->trace;
    chk.jkt = t->jkt;
    chk.now = now;
    chk.max_age = EKEY_DEFAULT_PROOF_AGE;
    chk.skew = EKEY_DEFAULT_SKEW;
    chk.max_len = EKEY_MAX_TOKEN_LEN;
    chk.algs = EKEY_ALGS_DEFAULT;
    if ((st = ekey_dpop_verify(&d, p, rq->proof, strlen(rq->proof), &chk, &err)) != EKEY_OK)
        return st;
    if ((st = ekey_cap_match(t->action, "GET", RAW, &err)) != EKEY_OK)
        return st;
    memset(&c, 0, sizeof(c));
    c.trace = t->trace;
    c.limit = t->limit;
    c.trace_expires = t->exp + EKEY_DEFAULT_SKEW;
    c.now = now;
    c.jti = d->jti;
    c.jkt = d->jkt;
    c.jti_expires = d->iat + EKEY_DEFAULT_PROOF_AGE + EKEY_DEFAULT_SKEW;
    return ekey_rtable_consume(table, &c, &left, &err);
}

__attribute__((noinline)) static long run_path(apr_pool_t *rp, const req_t *rs, long n,
                                               const ekey_keyset_t *ks, ekey_rtable_t *table,
                                               apr_int64_t now)
{
    long i, ok = 0;

    for (i = 0; i < n; i++) {
        thrash();
        ok += one_request(rp, &rs[i], ks, table, now) == EKEY_OK;
        apr_pool_clear(rp);
    }
    return ok;
}

static int digest_verify(const ekey_jws_t *j, const ekey_jwk_t *k, const unsigned char *der,
                         size_t der_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL
             && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, ekey_jwk_pkey(k)) == 1
             && EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)j->signing_input,
                                 j->signing_input_len) == 1;

    EVP_MD_CTX_free(ctx);
    return rc;
}

__attribute__((noinline)) static long run_digestverify(const req_t *rs, long n)
{
    long i, ok = 0;

    for (i = 0; i < n; i++, thrash())
        ok += digest_verify(rs[i].tjws, rs[i].tkey, rs[i].tder, rs[i].tder_len)
              && digest_verify(rs[i].pjws, rs[i].pkey, rs[i].pder, rs[i].pder_len);
    return ok;
}

/* openssl speed's loop: contexts made and initialised before, one digest + verify each. */
__attribute__((noinline)) static long run_floor(const req_t *rs, long n, EVP_PKEY_CTX **tctx,
                                                EVP_PKEY_CTX **pctx)
{
    unsigned char md[32];
    long i, ok = 0;

    for (i = 0; i < n; i++) {
        int a, b;
        thrash();
        EVP_Digest(rs[i].tjws->signing_input, rs[i].tjws->signing_input_len, md, NULL,
                   EVP_sha256(), NULL);
        a = EVP_PKEY_verify(tctx[i], rs[i].tder, rs[i].tder_len, md, 32) == 1;
        EVP_Digest(rs[i].pjws->signing_input, rs[i].pjws->signing_input_len, md, NULL,
                   EVP_sha256(), NULL);
        b = EVP_PKEY_verify(pctx[i], rs[i].pder, rs[i].pder_len, md, 32) == 1;
        ok += a && b;
    }
    return ok;
}

/* The issuer's share: N tokens minted with a key loaded from a PEM file, as
 * EKeyIssuerSigningKey loads it, against N bare ES256 signatures. */
__attribute__((noinline)) static long run_mint(apr_pool_t *rp, const ekey_jwk_t *issuer,
                                               const ekey_jwk_t *client, long n, apr_int64_t now)
{
    ekey_mint_t m;
    char *tok;
    long i, ok = 0;

    for (i = 0; i < n; i++) {
        memset(&m, 0, sizeof(m));
        m.iss = ISS;
        m.sub = "bench-client";
        m.aud = AUD;
        m.action = ACTION;
        m.limit = 1;
        m.now = now;
        m.ttl = 300;
        m.bind = EKEY_BIND_DPOP;
        m.jkt = ekey_jwk_thumbprint(client);
        ok += ekey_token_mint(&tok, NULL, rp, &m, issuer, NULL) == EKEY_OK;
        apr_pool_clear(rp);
    }
    return ok;
}

__attribute__((noinline)) static long run_sign_floor(EVP_PKEY_CTX *ctx, long n)
{
    unsigned char md[32], der[80];
    size_t len;
    long i, ok = 0;

    for (i = 0; i < n; i++) {
        len = sizeof(der);
        EVP_Digest(&i, sizeof(i), md, NULL, EVP_sha256(), NULL);
        ok += EVP_PKEY_sign(ctx, der, &len, md, 32) == 1;
    }
    return ok;
}

/* The issuer key as the issuer module has it: written to a PEM file and loaded back. */
static ekey_jwk_t *issuer_key(apr_pool_t *p)
{
    char dir[] = "/tmp/ekey-verify-path-XXXXXX";
    ekey_jwk_t *gen, *k;
    ekey_error_t err;
    const char *path;

    if (mkdtemp(dir) == NULL)
        die("mkdtemp", NULL);
    path = apr_pstrcat(p, dir, "/issuer.pem", NULL);
    if (ekey_jwk_generate(&gen, p, EKEY_ALG_ES256, &err) != EKEY_OK
        || ekey_jwk_save_pem(gen, p, path, &err) != EKEY_OK
        || ekey_jwk_load_pem(&k, p, path, 1, &err) != EKEY_OK)
        die("issuer key", &err);
    unlink(path);
    rmdir(dir);
    return k;
}

int main(int argc, char **argv)
{
    long n = 300, limit = 1, nkeys = 32, rounds = 1, r, ok;
    apr_pool_t *p, *rp;
    ekey_jwk_t *issuer, *pub;
    ekey_keyset_t *ks;
    ekey_rtable_t *table;
    ekey_error_t err;
    EVP_PKEY_CTX **tctx, **pctx;
    apr_int64_t now;
    double t0, t_path = 0, t_dv, t_floor, t_mint, t_sign, t_thrash;
    req_t *rs;
    int c;
    long i;

    while ((c = getopt(argc, argv, "n:l:K:r:x:")) != -1) {
        switch (c) {
        case 'n': n = atol(optarg); break;
        case 'l': limit = atol(optarg); break;
        case 'K': nkeys = atol(optarg); break;
        case 'r': rounds = atol(optarg); break;
        case 'x': thrash_len = (size_t)atol(optarg) * 1024; break;
        default:
            fputs("usage: ekey_verify_path [-n N] [-l LIMIT] [-K KEYS] [-r ROUNDS] [-x KB]\n",
                  stderr);
            return 2;
        }
    }
    if (n < 1 || limit < 1 || limit > 100 || nkeys < 0 || rounds < 1)
        die("bad arguments", NULL);
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);
    if (thrash_len > 0)
        thrash_buf = apr_pcalloc(p, thrash_len);
    now = apr_time_sec(apr_time_now());
    issuer = issuer_key(p);
    /* the verifier trusts the public half only, as EKeyTrustedKey / EKeyTrustedJWKS load it */
    ks = ekey_keyset_make(p);
    if (ekey_jwk_parse(&pub, p, ekey_jwk_to_json(issuer, p, 0), &err) != EKEY_OK
        || ekey_keyset_add(ks, pub, &err) != EKEY_OK)
        die("keyset", &err);
    ekey_keyset_precompute(ks);         /* as the module does with its trusted keys */
    if (ekey_rtable_attach(&table, p, apr_pcalloc(p, ekey_rtable_size(100000)), 100000, 1,
                           &err) != EKEY_OK)
        die("table", &err);
    for (r = 0; r < rounds; r++) {
        rs = generate(p, issuer, n, limit, nkeys, now);
        t0 = cpu_us();
        if ((ok = run_path(rp, rs, n, ks, table, now)) != n)
            die("a valid request was refused", NULL);
        t_path += cpu_us() - t0;
    }
    t0 = cpu_us();
    if (run_digestverify(rs, n) != n)
        die("baseline verify failed", NULL);
    t_dv = cpu_us() - t0;
    tctx = apr_pcalloc(p, sizeof(*tctx) * (size_t)n);
    pctx = apr_pcalloc(p, sizeof(*pctx) * (size_t)n);
    for (i = 0; i < n; i++) {
        tctx[i] = EVP_PKEY_CTX_new_from_pkey(NULL, ekey_jwk_pkey(rs[i].tkey), NULL);
        pctx[i] = EVP_PKEY_CTX_new_from_pkey(NULL, ekey_jwk_pkey(rs[i].pkey), NULL);
        if (tctx[i] == NULL || pctx[i] == NULL || EVP_PKEY_verify_init(tctx[i]) != 1
            || EVP_PKEY_verify_init(pctx[i]) != 1)
            die("floor contexts", NULL);
    }
    t0 = cpu_us();
    if (run_floor(rs, n, tctx, pctx) != n)
        die("floor verify failed", NULL);
    t_floor = cpu_us() - t0;
    for (i = 0; i < n; i++) {
        EVP_PKEY_CTX_free(tctx[i]);
        EVP_PKEY_CTX_free(pctx[i]);
    }
    t0 = cpu_us();
    if (run_mint(rp, issuer, rs[0].pkey, n, now) != n)
        die("mint failed", NULL);
    t_mint = cpu_us() - t0;
    tctx[0] = EVP_PKEY_CTX_new_from_pkey(NULL, ekey_jwk_pkey(issuer), NULL);
    if (tctx[0] == NULL || EVP_PKEY_sign_init(tctx[0]) != 1)
        die("sign context", NULL);
    t0 = cpu_us();
    if (run_sign_floor(tctx[0], n) != n)
        die("sign failed", NULL);
    t_sign = cpu_us() - t0;
    EVP_PKEY_CTX_free(tctx[0]);
    t0 = cpu_us();
    run_thrash(n * rounds);
    t_thrash = (cpu_us() - t0) / (double)(n * rounds);   /* per request */
    t_path -= t_thrash * (double)(n * rounds);
    t_dv -= t_thrash * (double)n;
    t_floor -= t_thrash * (double)n;
    if (thrash_len > 0)
        printf("caches taken between requests: %zu KB written (%.1f us each, subtracted)\n",
               thrash_len / 1024, t_thrash);
    printf("calls per function: run_path %ld (x %ld rounds), run_digestverify %ld, run_floor %ld,"
           " run_mint %ld, run_sign_floor %ld\n", n, rounds, n, n, n, n);
    printf("CPU us/request: path %.1f, 2 x DigestVerify %.1f, floor %.1f (path/floor %.2f)\n",
           t_path / (double)(n * rounds), t_dv / n, t_floor / n,
           (t_path / (double)(n * rounds)) / (t_floor / n));
    printf("CPU us/mint: mint %.1f, 1 x sign %.1f\n", t_mint / n, t_sign / n);
    return 0;
}
