/*
 * fuzz_issuer_body.c - the issuer's POST /token body, through the core functions it reaches.
 *
 * The body checks live in src/httpd/ekey_issuer_token.c and take a request_rec, so no fuzz
 * target can call them without httpd. This target runs the same steps, in the same order,
 * on the core alone: ekey_json_parse (EKEY_ISS_DEFAULT_BODY, 8 KB), the member list, sub
 * (1..256 bytes, no control byte), aud against an allowlist, ttl, cap (members, action with
 * ekey_cap_parse, limit, issuer patterns), bind (required) and jwk (ekey_jwk_parse), then
 * ekey_token_mint with the issuer key, as with EKeyIssuerRequireProof Off (the minting proof
 * is ekey_dpop_verify, fuzzed by fuzz_dpop). Keep it in step with that file until the body
 * validation moves into the core (docs/fuzzing.md, "Issuer body").
 *
 * Invariants: whatever passes the body checks is minted (a refusal by ekey_token_mint would
 * be a 500 for a client's mistake), and every minted E-Key verifies under the verifier's
 * policy for that audience with exactly the requested sub, aud, action, limit, lifetime and
 * binding.
 */
#include <string.h>

#include "fuzz.h"

#define MAX_BODY    8192         /* EKEY_ISS_DEFAULT_BODY */
#define MAX_TTL     300
#define DEFAULT_TTL 60
#define MAX_LIMIT   10

static const char *const audiences[] = { FUZZ_AUD, "https://reports.example.com" };
static const char *const patterns[] = { "POST:/payments", "GET:/reports/*", "*:/public" };
/* stands for the DER of the minting connection's client certificate (there is no TLS here) */
static const char mtls_cert[] = "fuzz client certificate";

typedef struct {
    ekey_mint_t m;
    ekey_jwk_t *jwk;
} req_t;

static int member_ok(const char *k)
{
    static const char *const known[] = { "sub", "aud", "ttl", "bind", "cap", "jwk" };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(k, known[i]) == 0)
            return 1;
    return 0;
}

static int in_list(const char *const *list, size_t n, const char *v)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(list[i], v) == 0)
            return 1;
    return 0;
}

static int check_cap(req_t *q, apr_pool_t *p, json_t *body)
{
    json_t *cap, *v;
    const char *method, *path, *k;
    int present = 0, ok = 0;
    size_t i;

    if (ekey_json_get_object(&cap, body, "cap", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return 0;
    json_object_foreach(cap, k, v)
        if (strcmp(k, "action") != 0 && strcmp(k, "limit") != 0)
            return 0;
    if (ekey_json_get_string(&q->m.action, cap, "action", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || ekey_cap_parse(&method, &path, p, q->m.action, NULL) != EKEY_OK
        || ekey_json_get_int(&q->m.limit, &present, cap, "limit", 0, EKEY_E_CLAIMS, NULL)
               != EKEY_OK)
        return 0;
    if (!present)
        q->m.limit = 1;
    if (q->m.limit < 1 || q->m.limit > MAX_LIMIT)
        return 0;
    for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]) && !ok; i++)
        ok = ekey_cap_pattern_match(patterns[i], q->m.action);
    return ok;
}

static int check_binding(req_t *q, apr_pool_t *p, json_t *body)
{
    const char *bind = NULL;
    json_t *jwk = json_object_get(body, "jwk");

    if (ekey_json_get_string(&bind, body, "bind", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK)
        return 0;
    if (strcmp(bind, "mTLS") == 0) {
        q->m.bind = EKEY_BIND_MTLS;
        q->m.x5t = ekey_sha256_b64url(p, mtls_cert, sizeof(mtls_cert) - 1);
        return jwk == NULL;
    }
    if (strcmp(bind, "DPoP") != 0 || !json_is_object(jwk)
        || ekey_jwk_parse(&q->jwk, p, jwk, NULL) != EKEY_OK)
        return 0;
    q->m.bind = EKEY_BIND_DPOP;
    q->m.jkt = ekey_jwk_thumbprint(q->jwk);
    return 1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* The handler's checks, in its order; 1 when the body would be minted. */
static int check_body(req_t *q, apr_pool_t *p, json_t *body)
{
    const char *k;
    json_t *v;
    int present = 0;

    json_object_foreach(body, k, v)
        if (!member_ok(k))
            return 0;
    if (ekey_json_get_string(&q->m.sub, body, "sub", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || q->m.sub[0] == '\0' || strlen(q->m.sub) > 256 || !printable(q->m.sub)
        || ekey_json_get_string(&q->m.aud, body, "aud", 1, EKEY_E_CLAIMS, NULL) != EKEY_OK
        || !in_list(audiences, sizeof(audiences) / sizeof(audiences[0]), q->m.aud)
        || ekey_json_get_int(&q->m.ttl, &present, body, "ttl", 0, EKEY_E_CLAIMS, NULL)
               != EKEY_OK)
        return 0;
    if (!present)
        q->m.ttl = DEFAULT_TTL;
    if (q->m.ttl < 1 || q->m.ttl > MAX_TTL)
        return 0;
    return check_cap(q, p, body) && check_binding(q, p, body);
}

static void check_minted(apr_pool_t *p, const req_t *q, const char *tok)
{
    ekey_keyset_t *ks = ekey_keyset_make(p);
    ekey_token_policy_t pol;
    ekey_token_t *t = NULL;
    ekey_error_t err;
    ekey_status_t st;

    FUZZ_ASSERT(ekey_keyset_add(ks, fuzz_key(FUZZ_KEY_ISSUER), NULL) == EKEY_OK);
    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = FUZZ_ISS;
    pol.audience = q->m.aud;
    pol.now = FUZZ_NOW;
    pol.skew = EKEY_DEFAULT_SKEW;
    pol.max_ttl = MAX_TTL;
    pol.max_limit = MAX_LIMIT;
    fuzz_err_reset(&err);
    st = ekey_token_verify(&t, p, tok, strlen(tok), &pol, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(st == EKEY_OK);
    FUZZ_ASSERT(strcmp(t->sub, q->m.sub) == 0 && strcmp(t->aud, q->m.aud) == 0);
    FUZZ_ASSERT(strcmp(t->action, q->m.action) == 0 && t->limit == q->m.limit);
    FUZZ_ASSERT(t->exp - t->iat == q->m.ttl && t->iat == FUZZ_NOW);
    FUZZ_ASSERT(t->bind == q->m.bind);
    FUZZ_ASSERT(t->bind == EKEY_BIND_DPOP ? strcmp(t->jkt, q->m.jkt) == 0
                                          : strcmp(t->x5t, q->m.x5t) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *body = NULL;
    req_t q;
    char *tok = NULL;
    ekey_error_t err;
    ekey_status_t st;

    fuzz_init();
    p = fuzz_pool();
    memset(&q, 0, sizeof(q));
    if (ekey_json_parse(&body, p, (const char *)data, size, MAX_BODY, NULL) == EKEY_OK
        && check_body(&q, p, body)) {
        q.m.iss = FUZZ_ISS;
        q.m.now = FUZZ_NOW;
        q.m.trace = FUZZ_TRACE;       /* the handler lets the core draw one; fixed here */
        fuzz_err_reset(&err);
        st = ekey_token_mint(&tok, NULL, p, &q.m, fuzz_key(FUZZ_KEY_ISSUER), &err);
        fuzz_check_status(st, &err);
        FUZZ_ASSERT(st == EKEY_OK);
        check_minted(p, &q, tok);
    }
    apr_pool_destroy(p);
    return 0;
}
