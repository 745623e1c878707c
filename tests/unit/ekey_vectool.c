/*
 * ekey_vectool - a small driver of the core for tests/unit/crosscheck.sh (test-only tool).
 *
 *   ekey_vectool thumbprint KEY.pem
 *       prints the RFC 7638 thumbprint of the key's public half.
 *   ekey_vectool mint --issuer-key PEM --client-key PEM --iss I --sub S --aud A
 *                     --action M:/p --limit N --ttl T --now N --method M --htu URL
 *       mints an E-Key bound to the client key and a proof for (method, htu) with
 *       nonce = trace and ath = hash of the token; prints "token ...", "proof ...".
 *   ekey_vectool verify --issuer-key PEM --iss I --aud A --now N --method M --htu URL
 *                       --path /p --token T --proof P
 *       runs token verification, the DPoP proof check against the token's cnf.jkt and
 *       trace, and the capability check against (method, path); prints "status EKEY_OK"
 *       and the claims, or "status <NAME>" and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "ekey.h"

static const char *opt(apr_table_t *t, const char *name)
{
    const char *v = apr_table_get(t, name);
    if (v == NULL) {
        fprintf(stderr, "ekey_vectool: --%s is required\n", name);
        exit(2);
    }
    return v;
}

static apr_int64_t num(apr_table_t *t, const char *name)
{
    return apr_atoi64(opt(t, name));
}

static int fail(const char *what, ekey_status_t st, const ekey_error_t *err)
{
    printf("status %s\n", ekey_status_name(st));
    fprintf(stderr, "ekey_vectool: %s: %s (%s: %s)\n", what, ekey_status_name(st),
            err->where, err->text);
    return 1;
}

static int do_thumbprint(apr_pool_t *p, const char *path)
{
    ekey_jwk_t *k;
    ekey_error_t err;
    ekey_status_t st = ekey_jwk_load_pem(&k, p, path, 0, &err);

    if (st != EKEY_OK)
        return fail("load", st, &err);
    printf("%s\n", ekey_jwk_thumbprint(k));
    return 0;
}

static int do_mint(apr_pool_t *p, apr_table_t *o)
{
    ekey_jwk_t *issuer, *client;
    ekey_mint_t m;
    ekey_token_t *c;
    ekey_error_t err;
    char *tok, *proof;
    ekey_status_t st;

    memset(&m, 0, sizeof(m));
    if ((st = ekey_jwk_load_pem(&issuer, p, opt(o, "issuer-key"), 1, &err)) != EKEY_OK
        || (st = ekey_jwk_load_pem(&client, p, opt(o, "client-key"), 1, &err)) != EKEY_OK)
        return fail("load", st, &err);
    m.iss = opt(o, "iss");
    m.sub = opt(o, "sub");
    m.aud = opt(o, "aud");
    m.action = opt(o, "action");
    m.limit = num(o, "limit");
    m.ttl = num(o, "ttl");
    m.now = num(o, "now");
    m.bind = EKEY_BIND_DPOP;
    m.jkt = ekey_jwk_thumbprint(client);
    if ((st = ekey_token_mint(&tok, &c, p, &m, issuer, &err)) != EKEY_OK)
        return fail("mint", st, &err);
    if ((st = ekey_dpop_create(&proof, p, client, opt(o, "method"), opt(o, "htu"), c->trace,
                               tok, m.now, &err)) != EKEY_OK)
        return fail("proof", st, &err);
    printf("token %s\nproof %s\n", tok, proof);
    return 0;
}

static int do_verify(apr_pool_t *p, apr_table_t *o)
{
    ekey_jwk_t *issuer;
    ekey_keyset_t *ks = ekey_keyset_make(p);
    ekey_token_policy_t pol;
    ekey_dpop_check_t chk;
    ekey_token_t *t;
    ekey_dpop_t *d;
    ekey_error_t err;
    const char *tok = opt(o, "token"), *proof = opt(o, "proof");
    ekey_status_t st;

    if ((st = ekey_jwk_load_pem(&issuer, p, opt(o, "issuer-key"), 0, &err)) != EKEY_OK
        || (st = ekey_keyset_add(ks, issuer, &err)) != EKEY_OK)
        return fail("load", st, &err);
    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = opt(o, "iss");
    pol.audience = opt(o, "aud");
    pol.now = num(o, "now");
    pol.skew = EKEY_DEFAULT_SKEW;
    pol.max_ttl = EKEY_DEFAULT_MAX_TTL;
    if ((st = ekey_token_verify(&t, p, tok, strlen(tok), &pol, &err)) != EKEY_OK)
        return fail("token", st, &err);
    if (t->bind != EKEY_BIND_DPOP)
        return fail("bind", EKEY_E_CNF, &err);
    memset(&chk, 0, sizeof(chk));
    chk.method = opt(o, "method");
    chk.htu = opt(o, "htu");
    chk.ath = t->ath;
    chk.nonce = t->trace;
    chk.jkt = t->jkt;
    chk.now = pol.now;
    chk.max_age = EKEY_DEFAULT_PROOF_AGE;
    chk.skew = EKEY_DEFAULT_SKEW;
    if ((st = ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, &err)) != EKEY_OK)
        return fail("proof", st, &err);
    if ((st = ekey_cap_match(t->action, chk.method, opt(o, "path"), &err)) != EKEY_OK)
        return fail("cap", st, &err);
    printf("status EKEY_OK\nkid %s\niss %s\nsub %s\naud %s\ntrace %s\naction %s\n"
           "limit %" APR_INT64_T_FMT "\niat %" APR_INT64_T_FMT "\nexp %" APR_INT64_T_FMT
           "\njkt %s\nath %s\njti %s\n", t->kid, t->iss, t->sub, t->aud, t->trace, t->action,
           t->limit, t->iat, t->exp, t->jkt, t->ath, d->jti);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    apr_table_t *o;
    int i, rc = 2;

    if (argc < 2 || apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS)
        return 2;
    apr_pool_create(&p, NULL);
    o = apr_table_make(p, 16);
    for (i = 2; i + 1 < argc; i += 2) {
        if (strncmp(argv[i], "--", 2) != 0)
            break;
        apr_table_set(o, argv[i] + 2, argv[i + 1]);
    }
    if (strcmp(argv[1], "thumbprint") == 0 && argc == 3)
        rc = do_thumbprint(p, argv[2]);
    else if (strcmp(argv[1], "mint") == 0)
        rc = do_mint(p, o);
    else if (strcmp(argv[1], "verify") == 0)
        rc = do_verify(p, o);
    else
        fprintf(stderr, "usage: ekey_vectool thumbprint|mint|verify ...\n");
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
