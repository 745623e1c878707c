/*
 * fuzz_token.c - ekey_token_verify with a fixed keyset and policy.
 *
 * Input: a compact E-Key, or (signing mode, fuzz.h) "<header>\n<claims>" that the harness
 * signs with the issuer key (the P-384 or Ed25519 key when the header names ES384 / EdDSA;
 * all three are trusted here), so mutations reach every claim check. The corpus holds valid
 * tokens in both forms (docs/fuzzing.md says how they were made).
 *
 * Invariants for an accepted token: every claim obeys the policy (iss, aud, times with skew,
 * lifetime, limit), trace is 22 and jkt / x5t#S256 43 base64url characters, exactly one
 * binding, sub printable, the action re-parses to the same method and path and matches the
 * request it names, ath is the hash of the exact input, kid is a trusted key's thumbprint.
 * The header and claims are also decoded and parsed by jansson directly, and must say what
 * the core reported and the policy demands (an oracle that does not share the core's code).
 * A rejection leaves *out NULL. Verification is deterministic (same status twice).
 */
#include <string.h>

#include "fuzz.h"

static ekey_keyset_t *keys;
static ekey_token_policy_t pol;

static void setup(void)
{
    static apr_pool_t *gp;
    int i;

    if (keys != NULL)
        return;
    FUZZ_ASSERT(apr_pool_create(&gp, NULL) == APR_SUCCESS);
    keys = ekey_keyset_make(gp);
    for (i = 0; i < FUZZ_KEY_COUNT; i++)
        if (i != FUZZ_KEY_CLIENT)
            FUZZ_ASSERT(ekey_keyset_add(keys, fuzz_key((fuzz_key_t)i), NULL) == EKEY_OK);
    pol.keys = keys;
    pol.issuer = FUZZ_ISS;
    pol.audience = FUZZ_AUD;
    pol.now = FUZZ_NOW;
    pol.skew = EKEY_DEFAULT_SKEW;
    pol.max_ttl = EKEY_DEFAULT_MAX_TTL;
    pol.max_limit = 10;
    pol.max_len = 0;
    pol.algs = EKEY_ALGS_ALL;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

static int int_claim(json_t *o, const char *k, apr_int64_t want)
{
    json_t *v = json_object_get(o, k);

    return json_is_integer(v) && (apr_int64_t)json_integer_value(v) == want;
}

static int str_claim(json_t *o, const char *k, const char *want)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v != NULL && want != NULL && strcmp(v, want) == 0;
}

/* The claims as the bytes say, against what the core reported and the policy demands. */
static void check_oracle(apr_pool_t *p, const ekey_token_t *t, const char *c)
{
    json_t *h = fuzz_segment(p, c, 0), *cl = fuzz_segment(p, c, 1), *aud, *cap, *cnf, *v;
    const ekey_jwk_t *key = ekey_keyset_find(keys, json_string_value(json_object_get(h, "kid")));
    int found = 0;
    size_t i;

    FUZZ_ASSERT(str_claim(h, "typ", EKEY_TYP_TOKEN) && key != NULL);
    FUZZ_ASSERT(str_claim(h, "alg", ekey_alg_name(ekey_jwk_alg(key))));
    FUZZ_ASSERT(str_claim(cl, "iss", FUZZ_ISS) && str_claim(cl, "sub", t->sub));
    aud = json_object_get(cl, "aud");
    if (json_is_string(aud))
        found = strcmp(json_string_value(aud), FUZZ_AUD) == 0;
    json_array_foreach(aud, i, v)
        found |= json_is_string(v) && strcmp(json_string_value(v), FUZZ_AUD) == 0;
    FUZZ_ASSERT(found);
    FUZZ_ASSERT(int_claim(cl, "iat", t->iat) && int_claim(cl, "exp", t->exp));
    FUZZ_ASSERT(json_object_get(cl, "nbf") == NULL || int_claim(cl, "nbf", t->nbf));
    FUZZ_ASSERT(str_claim(cl, "trace", t->trace));
    cap = json_object_get(cl, "cap");
    FUZZ_ASSERT(str_claim(cap, "action", t->action));
    FUZZ_ASSERT(json_object_get(cap, "limit") == NULL ? t->limit == 1
                                                      : int_claim(cap, "limit", t->limit));
    cnf = json_object_get(cl, "cnf");
    FUZZ_ASSERT(json_object_size(cnf) == 1);
    FUZZ_ASSERT(t->bind == EKEY_BIND_DPOP ? str_claim(cnf, "jkt", t->jkt)
                                          : str_claim(cnf, "x5t#S256", t->x5t));
}

static void check_accepted(apr_pool_t *p, const ekey_token_t *t, const char *c, size_t n)
{
    const char *m = NULL, *path = NULL;

    FUZZ_ASSERT(ekey_keyset_find(keys, t->kid) != NULL);
    FUZZ_ASSERT(strcmp(t->iss, FUZZ_ISS) == 0 && strcmp(t->aud, FUZZ_AUD) == 0);
    FUZZ_ASSERT(t->sub != NULL && t->sub[0] != '\0' && strlen(t->sub) <= 256
                && printable(t->sub));
    FUZZ_ASSERT(t->iat >= 0 && t->exp > t->iat && t->nbf >= 0);
    FUZZ_ASSERT(t->exp > pol.now - pol.skew && t->iat <= pol.now + pol.skew);
    FUZZ_ASSERT(t->nbf <= pol.now + pol.skew);
    FUZZ_ASSERT(t->exp - t->iat <= pol.max_ttl);
    FUZZ_ASSERT(t->limit >= 1 && t->limit <= pol.max_limit);
    FUZZ_ASSERT(strlen(t->trace) == 22 && ekey_b64url_valid(t->trace, 22));
    if (t->bind == EKEY_BIND_DPOP)
        FUZZ_ASSERT(t->x5t == NULL && t->jkt != NULL && strlen(t->jkt) == EKEY_JKT_LEN
                    && ekey_b64url_valid(t->jkt, EKEY_JKT_LEN));
    else
        FUZZ_ASSERT(t->bind == EKEY_BIND_MTLS && t->jkt == NULL && t->x5t != NULL
                    && strlen(t->x5t) == EKEY_JKT_LEN && ekey_b64url_valid(t->x5t, EKEY_JKT_LEN));
    FUZZ_ASSERT(ekey_cap_parse(&m, &path, p, t->action, NULL) == EKEY_OK);
    FUZZ_ASSERT(strcmp(m, t->cap_method) == 0 && strcmp(path, t->cap_path) == 0);
    FUZZ_ASSERT(ekey_cap_match(t->action, t->cap_method, fuzz_unescape(p, t->cap_path), NULL)
                == EKEY_OK);
    FUZZ_ASSERT(strcmp(t->ath, ekey_sha256_b64url(p, c, n)) == 0);
    check_oracle(p, t, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    ekey_token_t *t = (ekey_token_t *)"x", *t2 = NULL;
    char *signed_input;
    const char *c;
    size_t n;
    ekey_error_t err;
    ekey_status_t st;

    fuzz_init();
    setup();
    p = fuzz_pool();
    signed_input = fuzz_sign_input(p, data, size, FUZZ_KEY_ISSUER, NULL);
    c = signed_input != NULL ? signed_input : fuzz_cstr(p, data, size);
    n = signed_input != NULL ? strlen(signed_input) : size;
    fuzz_err_reset(&err);
    st = ekey_token_verify(&t, p, c, n, &pol, &err);
    fuzz_check_status(st, &err);
    if (st == EKEY_OK)
        check_accepted(p, t, c, n);
    else
        FUZZ_ASSERT(t == NULL);
    FUZZ_ASSERT(ekey_token_verify(&t2, p, c, n, &pol, NULL) == st);
    if (signed_input != NULL)
        fuzz_emit("raw", signed_input);
    apr_pool_destroy(p);
    return 0;
}
