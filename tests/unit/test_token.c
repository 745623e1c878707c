/* test_token.c - E-Key verification (SECURITY-CASES 1.B, 1.C, 1.F, 1.L) and minting. */
#include "proto_test.h"

#define NOW   1700000000
#define ISS   "https://issuer.example"
#define AUD   "https://api.example.com"
#define TRACE "AAECAwQFBgcICQoLDA0ODw"                          /* bytes 0..15 */
#define JKT   "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"     /* RFC 9449 Figure 9 */

typedef struct {
    apr_pool_t *p;
    ekey_jwk_t *issuer, *other, *client;
    ekey_keyset_t *ks;
    ekey_token_policy_t pol;
    json_t *hdr, *claims;
} fx_t;

static json_t *baseline_claims(fx_t *f)
{
    return pt_json(f->p, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"agent-123\",\"aud\":\"" AUD "\",\"iat\":%d,"
        "\"exp\":%d,\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\","
        "\"limit\":1},\"cnf\":{\"jkt\":\"%s\"}}", NOW, NOW + 30,
        ekey_jwk_thumbprint(f->client)));
}

static json_t *baseline_header(fx_t *f)
{
    return pt_json(f->p, apr_psprintf(f->p, "{\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
                                      ekey_jwk_thumbprint(f->issuer)));
}

static int fx_setup(void **state)
{
    fx_t *f;
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    if (ekey_jwk_generate(&f->issuer, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->other, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->client, p, EKEY_ALG_ES256, NULL) != EKEY_OK)
        return -1;
    f->ks = ekey_keyset_make(p);
    if (ekey_keyset_add(f->ks, f->issuer, NULL) != EKEY_OK
        || ekey_keyset_add(f->ks, f->other, NULL) != EKEY_OK)
        return -1;
    f->pol.keys = f->ks;
    f->pol.issuer = ISS;
    f->pol.audience = AUD;
    f->pol.now = NOW;
    f->pol.skew = 30;
    f->pol.max_ttl = 300;
    f->pol.max_limit = 10;
    f->hdr = baseline_header(f);
    f->claims = baseline_claims(f);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    apr_pool_destroy(((fx_t *)*state)->p);
    return 0;
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

static char *sign_with(fx_t *f, json_t *hdr, json_t *claims, const ekey_jwk_t *key)
{
    char *tok = NULL;
    assert_status(ekey_jws_sign(&tok, f->p, hdr, claims, key, NULL), EKEY_OK);
    return tok;
}

static char *sign_fx(fx_t *f)
{
    return sign_with(f, f->hdr, f->claims, f->issuer);
}

/* Verifies and checks the failure contract: *out NULL, err.status = the return value. */
static ekey_status_t verify(fx_t *f, const char *tok, ekey_token_t **out)
{
    ekey_token_t *t = (ekey_token_t *)&t;   /* non-NULL sentinel */
    ekey_error_t err;
    ekey_status_t st;

    memset(&err, 0, sizeof(err));
    st = ekey_token_verify(&t, f->p, tok, strlen(tok), &f->pol, &err);
    if (st != EKEY_OK) {
        assert_null(t);
        assert_int_equal(err.status, st);
        assert_true(err.where[0] != '\0');
        /* the detail never quotes the token */
        if (strlen(tok) > 8)
            assert_null(strstr(err.text, tok));
    }
    else {
        assert_non_null(t);
    }
    if (out != NULL)
        *out = t;
    return st;
}

/* Sets (json != NULL) or removes a claim; "cap.limit" style paths reach one level down. */
static void set_claim(fx_t *f, json_t *claims, const char *path, const char *json)
{
    const char *dot = strchr(path, '.');
    json_t *obj = claims;
    const char *key = path;

    if (dot != NULL) {
        obj = json_object_get(claims, apr_pstrmemdup(f->p, path, (apr_size_t)(dot - path)));
        assert_non_null(obj);
        key = dot + 1;
    }
    if (json == NULL)
        json_object_del(obj, key);
    else
        json_object_set(obj, key, pt_json(f->p, json));
}

/* ------------------------------------------------------------------ accept */

static void test_token_baseline(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);
    ekey_token_t *t;

    assert_status(verify(f, tok, &t), EKEY_OK);
    assert_string_equal(t->kid, ekey_jwk_thumbprint(f->issuer));
    assert_string_equal(t->iss, ISS);
    assert_string_equal(t->sub, "agent-123");
    assert_string_equal(t->aud, AUD);
    assert_string_equal(t->trace, TRACE);
    assert_int_equal(t->iat, NOW);
    assert_int_equal(t->exp, NOW + 30);
    assert_int_equal(t->nbf, 0);
    assert_string_equal(t->action, "POST:/payments");
    assert_string_equal(t->cap_method, "POST");
    assert_string_equal(t->cap_path, "/payments");
    assert_int_equal(t->limit, 1);
    assert_int_equal(t->bind, EKEY_BIND_DPOP);
    assert_string_equal(t->jkt, ekey_jwk_thumbprint(f->client));
    assert_null(t->x5t);
    assert_string_equal(t->ath, ekey_sha256_b64url(f->p, tok, strlen(tok)));
    /* the second configured key verifies its own tokens (selection by kid) */
    json_object_set_new(f->hdr, "kid", json_string(ekey_jwk_thumbprint(f->other)));
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->other), &t), EKEY_OK);
    assert_string_equal(t->kid, ekey_jwk_thumbprint(f->other));
}

/* POS-13: the high-S twin of a valid signature verifies. */
static void test_token_high_s(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f), *twin = pt_flip_s(f->p, tok);
    ekey_token_t *t;

    assert_string_not_equal(tok, twin);
    assert_status(verify(f, twin, &t), EKEY_OK);
    /* ath is over the bytes presented, so the twin has its own */
    assert_string_equal(t->ath, ekey_sha256_b64url(f->p, twin, strlen(twin)));
}

/* POS-16, POS-18 and the optional members. */
static void test_token_accept_variants(void **state)
{
    static const struct { const char *path, *json; } cases[] = {
        { "aud", "[\"" AUD "\"]" },
        { "aud", "[\"https://other.example\",\"" AUD "\"]" },
        { "scope", "\"admin\"" },
        { "admin", "true" },
        { "nbf", "1700000000" },
        { "nbf", "0" },
        { "cap.limit", "10" },
        { "cap.limit", NULL },
        { "cap.extra", "{\"x\":1}" },
        { "cnf", "{\"x5t#S256\":\"" JKT "\"}" },
        { "sub", "\"" "0123456789012345678901234567890123456789012345678901234567890123"
                 "0123456789012345678901234567890123456789012345678901234567890123"
                 "0123456789012345678901234567890123456789012345678901234567890123"
                 "0123456789012345678901234567890123456789012345678901234567890123" "\"" },
        { "sub", "\"caf\\u00e9 \\u2603\"" },
        { "trace", "\"_____________________w\"" },
    };
    fx_t *f = *state;
    ekey_token_t *t;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->claims = baseline_claims(f);
        set_claim(f, f->claims, cases[i].path, cases[i].json);
        if (verify(f, sign_fx(f), &t) != EKEY_OK)
            fail_msg("accept case %zu (%s)", i, cases[i].path);
    }
    /* limit absent means 1 */
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "cap.limit", NULL);
    assert_status(verify(f, sign_fx(f), &t), EKEY_OK);
    assert_int_equal(t->limit, 1);
    /* mTLS binding */
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "cnf", "{\"x5t#S256\":\"" JKT "\"}");
    assert_status(verify(f, sign_fx(f), &t), EKEY_OK);
    assert_int_equal(t->bind, EKEY_BIND_MTLS);
    assert_string_equal(t->x5t, JKT);
    assert_null(t->jkt);
    /* unknown header members not listed in crit (POS-18) */
    json_object_set_new(f->hdr, "x-custom", json_string("y"));
    json_object_set_new(f->hdr, "cty", json_string("JWT"));
    f->claims = baseline_claims(f);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

/* ES384 and EdDSA issuers verify only when the policy allows them (ALG-05). */
static void test_token_other_algs(void **state)
{
    static const ekey_alg_t algs[] = { EKEY_ALG_ES384, EKEY_ALG_EDDSA };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < 2; i++) {
        ekey_jwk_t *k;
        char *tok;
        assert_status(ekey_jwk_generate(&k, f->p, algs[i], NULL), EKEY_OK);
        assert_status(ekey_keyset_add(f->ks, k, NULL), EKEY_OK);
        json_object_set_new(f->hdr, "kid", json_string(ekey_jwk_thumbprint(k)));
        tok = sign_with(f, f->hdr, f->claims, k);
        f->pol.algs = 0;                                 /* default: ES256 only */
        assert_status(verify(f, tok, NULL), EKEY_E_ALG);
        f->pol.algs = EKEY_ALG_ES256;
        assert_status(verify(f, tok, NULL), EKEY_E_ALG);
        f->pol.algs = EKEY_ALGS_ALL;
        assert_status(verify(f, tok, NULL), EKEY_OK);
        f->pol.algs = (unsigned)algs[i];
        assert_status(verify(f, tok, NULL), EKEY_OK);
    }
}

/* --------------------------------------------------------------- forgery */

/* Every accepted token stops verifying when any byte of what it signs changes. */
static void test_token_forgery(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f), *claims = pt_segment(f->p, tok, 1), *hdr = pt_segment(f->p, tok, 0);
    char *t2;
    int i;

    assert_status(verify(f, tok, NULL), EKEY_OK);
    /* one bit of the signature, in r and in s */
    for (i = 0; i < 64; i += 9)
        assert_status(verify(f, pt_flip_bit(f->p, tok, i, i % 8), NULL), EKEY_E_SIGNATURE);
    /* claims changed, signature kept: a larger limit, another action, another cnf */
    assert_status(verify(f, pt_swap_payload(f->p, tok,
                  apr_pstrcat(f->p, claims, " ", NULL)), NULL), EKEY_E_SIGNATURE);
    {
        json_t *c = pt_json(f->p, claims);
        set_claim(f, c, "cap.limit", "10");
        assert_status(verify(f, pt_swap_payload(f->p, tok, pt_dump(f->p, c)), NULL),
                      EKEY_E_SIGNATURE);
        c = pt_json(f->p, claims);
        set_claim(f, c, "cap.action", "\"POST:/admin\"");
        assert_status(verify(f, pt_swap_payload(f->p, tok, pt_dump(f->p, c)), NULL),
                      EKEY_E_SIGNATURE);
        c = pt_json(f->p, claims);
        set_claim(f, c, "cnf", "{\"jkt\":\"" JKT "\"}");
        assert_status(verify(f, pt_swap_payload(f->p, tok, pt_dump(f->p, c)), NULL),
                      EKEY_E_SIGNATURE);
    }
    /* SIG-07: same header JSON re-serialised with other whitespace */
    t2 = pt_swap_header(f->p, tok, apr_pstrcat(f->p, hdr, " ", NULL));
    assert_status(verify(f, t2, NULL), EKEY_E_SIGNATURE);
    /* the signature of another valid token */
    json_object_set_new(f->claims, "sub", json_string("agent-456"));
    t2 = sign_fx(f);
    assert_status(verify(f, pt_with_sig(f->p, tok, (unsigned char *)"", 0), NULL),
                  EKEY_E_FORMAT);
    {
        unsigned char sig[64];
        pt_sig(sig, t2);
        assert_status(verify(f, pt_with_sig(f->p, tok, sig, 64), NULL), EKEY_E_SIGNATURE);
    }
    /* SIG-09: a valid ES256 signature by a key the issuer does not own */
    json_object_set_new(f->hdr, "kid", json_string(ekey_jwk_thumbprint(f->client)));
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->client), NULL), EKEY_E_KID);
    f->hdr = baseline_header(f);
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->client), NULL),
                  EKEY_E_SIGNATURE);
    /* signed by the second trusted key but naming the first (no "try every key") */
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->other), NULL),
                  EKEY_E_SIGNATURE);
}

/* SIG-01..SIG-05 with the §3 vectors. */
static void test_token_bad_signatures(void **state)
{
    static const char rs_n[] = "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVH_____AAAAAP_____"
                               "_____vOb6racXnoTzucrC_GMlUQ";
    fx_t *f = *state;
    char *tok = sign_fx(f), *si = apr_pstrmemdup(f->p, tok, (apr_size_t)(strrchr(tok, '.') - tok));
    unsigned char sig[66];
    char zeros[87];

    memset(zeros, 'A', 86);
    zeros[86] = '\0';
    assert_status(verify(f, apr_pstrcat(f->p, si, ".", zeros, NULL), NULL), EKEY_E_SIGNATURE);
    assert_status(verify(f, apr_pstrcat(f->p, si, ".", rs_n, NULL), NULL), EKEY_E_SIGNATURE);
    pt_sig(sig, tok);
    memset(sig, 0, 32);                                      /* r = 0 */
    assert_status(verify(f, pt_with_sig(f->p, tok, sig, 64), NULL), EKEY_E_SIGNATURE);
    pt_sig(sig, tok);
    memset(sig + 32, 0, 32);                                 /* s = 0 */
    assert_status(verify(f, pt_with_sig(f->p, tok, sig, 64), NULL), EKEY_E_SIGNATURE);
    pt_sig(sig, tok);
    assert_status(verify(f, pt_with_sig(f->p, tok, sig, 63), NULL), EKEY_E_SIGNATURE);
    sig[64] = 0;
    assert_status(verify(f, pt_with_sig(f->p, tok, sig, 65), NULL), EKEY_E_SIGNATURE);
    memmove(sig + 1, sig, 64);
    sig[0] = 0;                                              /* 00-prefixed r */
    assert_status(verify(f, pt_with_sig(f->p, tok, sig, 65), NULL), EKEY_E_SIGNATURE);
}

/* ---------------------------------------------------------- structure (1.B) */

static void test_token_structure(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *h = apr_pstrmemdup(f->p, tok, (apr_size_t)(d1 - tok));
    char *pl = apr_pstrmemdup(f->p, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    char *s = apr_pstrdup(f->p, d2 + 1);

    assert_status(verify(f, apr_pstrcat(f->p, h, ".", pl, NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, tok, ".", s, NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, tok, ".x.y", NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, h, ".", pl, ".", NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, ".", pl, ".", s, NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, h, "..", s, NULL), NULL), EKEY_E_FORMAT);
    assert_status(verify(f, "", NULL), EKEY_E_FORMAT);
    assert_status(verify(f, "{\"payload\":\"x\",\"signatures\":[]}", NULL), EKEY_E_FORMAT);
    assert_status(verify(f, apr_pstrcat(f->p, tok, "==", NULL), NULL), EKEY_E_BASE64);
    assert_status(verify(f, apr_pstrcat(f->p, h, "=.", pl, ".", s, NULL), NULL),
                  EKEY_E_BASE64);
    assert_status(verify(f, apr_pstrcat(f->p, h, ".", pl, " .", s, NULL), NULL),
                  EKEY_E_BASE64);
    assert_status(verify(f, apr_pstrcat(f->p, h, ".", pl, "\n.", s, NULL), NULL),
                  EKEY_E_BASE64);
    assert_status(verify(f, apr_pstrcat(f->p, h, ".", pl, "+.", s, NULL), NULL),
                  EKEY_E_BASE64);
    /* size first: the limit applies before anything is parsed (DOS-01) */
    f->pol.max_len = strlen(tok) - 1;
    assert_status(verify(f, tok, NULL), EKEY_E_TOO_LARGE);
    f->pol.max_len = strlen(tok);
    assert_status(verify(f, tok, NULL), EKEY_OK);
    f->pol.max_len = 10;
    assert_status(verify(f, "not a token at all", NULL), EKEY_E_TOO_LARGE);
    f->pol.max_len = 0;                                      /* default EKEY_MAX_TOKEN_LEN */
    {
        char *big = apr_palloc(f->p, EKEY_MAX_TOKEN_LEN + 2);
        memset(big, 'A', EKEY_MAX_TOKEN_LEN + 1);
        big[EKEY_MAX_TOKEN_LEN + 1] = '\0';
        assert_status(verify(f, big, NULL), EKEY_E_TOO_LARGE);
    }
}

/* -------------------------------------------------------------- header (1.C) */

static void test_token_alg(void **state)
{
    static const char *const bad_algs[] = {
        "\"none\"", "\"None\"", "\"NONE\"", "\"nOnE\"", "\"es256\"", "\"Es256\"", "\"HS256\"",
        "\"RS256\"", "\"PS256\"", "\"ES512\"", "\"ES256K\"", "\"ES384\"", "\"EdDSA\"",
        "null", "[\"ES256\"]", "256", "\"\"", "\"ES256 \"",
    };
    fx_t *f = *state;
    const char *kid = ekey_jwk_thumbprint(f->issuer);
    char *claims = pt_dump(f->p, f->claims), *tok;
    size_t i;

    for (i = 0; i < sizeof(bad_algs) / sizeof(bad_algs[0]); i++) {
        char *hdr = apr_psprintf(f->p, "{\"alg\":%s,\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
                                 bad_algs[i], kid);
        tok = pt_sign_text(f->p, f->issuer, hdr, claims);
        if (verify(f, tok, NULL) != EKEY_E_ALG)
            fail_msg("alg %s accepted or wrong status", bad_algs[i]);
    }
    tok = pt_sign_text(f->p, f->issuer,
                       apr_psprintf(f->p, "{\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}", kid), claims);
    assert_status(verify(f, tok, NULL), EKEY_E_ALG);
    /* ALG-01: alg none with an empty signature, ALG-02: with the original one kept */
    tok = sign_fx(f);
    assert_status(verify(f, apr_pstrcat(f->p, "eyJhbGciOiJub25lIiwidHlwIjoiZWtleStqd3QifQ",
                                        strchr(tok, '.'), NULL), NULL), EKEY_E_ALG);
    assert_status(verify(f, apr_pstrcat(f->p, "eyJhbGciOiJub25lIiwidHlwIjoiZWtleStqd3QifQ.",
                                        pt_b64(f->p, claims), ".", NULL), NULL),
                  EKEY_E_FORMAT);
    /* the JSON-01 duplicate: {"alg":"ES256",...,"alg":"none"} and the reverse */
    tok = pt_sign_text(f->p, f->issuer, apr_psprintf(f->p,
        "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\",\"alg\":\"none\"}", kid), claims);
    assert_status(verify(f, tok, NULL), EKEY_E_JSON);
    tok = pt_sign_text(f->p, f->issuer, apr_psprintf(f->p,
        "{\"alg\":\"none\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\",\"alg\":\"ES256\"}", kid), claims);
    assert_status(verify(f, tok, NULL), EKEY_E_JSON);
    /* the header is not an object (B64-13), trailing data (B64-12) */
    tok = pt_sign_text(f->p, f->issuer, "[\"ES256\"]", claims);
    assert_status(verify(f, tok, NULL), EKEY_E_JSON);
    tok = pt_sign_text(f->p, f->issuer, apr_psprintf(f->p,
        "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}xyz", kid), claims);
    assert_status(verify(f, tok, NULL), EKEY_E_JSON);
    /* the exact text the signer used is accepted: the raw signer itself is sound */
    tok = pt_sign_text(f->p, f->issuer, apr_psprintf(f->p,
        "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}", kid), claims);
    assert_status(verify(f, tok, NULL), EKEY_OK);
}

/* typ: exactly "ekey+jwt" (ALG-08, POS-15 documented as exact match). */
static void test_token_typ(void **state)
{
    static const char *const bad_typs[] = {
        "\"JWT\"", "\"at+jwt\"", "\"dpop+jwt\"", "\"EKEY+JWT\"", "\"Ekey+jwt\"",
        "\"application/ekey+jwt\"", "\"ekey+jwt \"", "\" ekey+jwt\"", "\"ekey\"", "\"\"",
        "5", "null", "[\"ekey+jwt\"]",
    };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(bad_typs) / sizeof(bad_typs[0]); i++) {
        f->hdr = baseline_header(f);
        set_claim(f, f->hdr, "typ", bad_typs[i]);
        if (verify(f, sign_fx(f), NULL) != EKEY_E_TYP)
            fail_msg("typ %s: not EKEY_E_TYP", bad_typs[i]);
    }
    f->hdr = baseline_header(f);
    set_claim(f, f->hdr, "typ", NULL);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_TYP);
    /* a NUL inside the header never reaches the typ comparison */
    set_claim(f, f->hdr, "typ", "\"ekey+jwt\\u0000\"");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_JSON);
}

/* kid: present, a string, one of the configured thumbprints (ALG-10, ALG-11). */
static void test_token_kid(void **state)
{
    static const char *const bad_kids[] = {
        "\"k1\"", "\"../../../../dev/null\"", "\"/etc/passwd\"", "\"' OR '1'='1\"",
        "\"*)(uid=*\"", "\"\"", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"",
    };
    fx_t *f = *state;
    const char *kid = ekey_jwk_thumbprint(f->issuer);
    size_t i;

    for (i = 0; i < sizeof(bad_kids) / sizeof(bad_kids[0]); i++) {
        set_claim(f, f->hdr, "kid", bad_kids[i]);
        if (verify(f, sign_fx(f), NULL) != EKEY_E_KID)
            fail_msg("kid %s: not EKEY_E_KID", bad_kids[i]);
    }
    set_claim(f, f->hdr, "kid", NULL);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_KID);
    set_claim(f, f->hdr, "kid", "5");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_KID);
    /* the real kid followed by a NUL: refused by the parser, never truncated to a match */
    set_claim(f, f->hdr, "kid", apr_psprintf(f->p, "\"%s\\u0000x\"", kid));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_JSON);
    /* case matters */
    set_claim(f, f->hdr, "kid", apr_psprintf(f->p, "\"%c%s\"",
              kid[0] == 'a' ? 'A' : 'a', kid + 1));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_KID);
    /* a 2000-character kid (under the size limit) */
    {
        char *big = apr_palloc(f->p, 2003);
        memset(big, 'k', 2002);
        big[0] = big[2001] = '"';
        big[2002] = '\0';
        set_claim(f, f->hdr, "kid", big);
        assert_status(verify(f, sign_fx(f), NULL), EKEY_E_KID);
    }
}

/* ALG-12..ALG-18: members that bring their own key or change processing. */
static void test_token_forbidden_header(void **state)
{
    static const struct { const char *name, *json; } cases[] = {
        { "jku", "\"https://attacker.example/jwks\"" },
        { "jku", "\"http://169.254.169.254/\"" },
        { "x5u", "\"https://attacker.example/cert\"" },
        { "x5c", "[\"MIIB\"]" },
        { "crit", "[\"x-ext\"]" },
        { "crit", "[]" },
        { "b64", "false" },
        { "zip", "\"DEF\"" },
    };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->hdr = baseline_header(f);
        set_claim(f, f->hdr, cases[i].name, cases[i].json);
        if (strcmp(cases[i].name, "crit") == 0)
            set_claim(f, f->hdr, "x-ext", "1");
        if (verify(f, sign_fx(f), NULL) != EKEY_E_HEADER)
            fail_msg("header member %s accepted or wrong status", cases[i].name);
    }
    /* ALG-13: the attacker's key embedded, token signed by the attacker */
    f->hdr = baseline_header(f);
    json_object_set(f->hdr, "jwk", ekey_jwk_to_json(f->client, f->p, 0));
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->client), NULL), EKEY_E_HEADER);
}

/* ----------------------------------------------------------------- claims */

typedef struct {
    const char *path;
    const char *json;           /* NULL: member removed */
    ekey_status_t want;
} claim_case_t;

#define J43 "\"" JKT "\""
static const claim_case_t claim_cases[] = {
    /* CLM-01, CLM-02 */
    { "iss", "\"https://issuer.example/\"", EKEY_E_ISSUER },
    { "iss", "\"HTTPS://issuer.example\"", EKEY_E_ISSUER },
    { "iss", "\"https://other.example\"", EKEY_E_ISSUER },
    { "iss", "\"\"", EKEY_E_ISSUER },
    { "iss", NULL, EKEY_E_CLAIMS },
    { "iss", "[\"" ISS "\"]", EKEY_E_CLAIMS },
    { "iss", "null", EKEY_E_CLAIMS },
    { "iss", "5", EKEY_E_CLAIMS },
    /* CLM-13 */
    { "sub", NULL, EKEY_E_CLAIMS },
    { "sub", "\"\"", EKEY_E_CLAIMS },
    { "sub", "\"agent\\r\\nX-Admin: 1\"", EKEY_E_CLAIMS },
    { "sub", "\"agent\\n\"", EKEY_E_CLAIMS },
    { "sub", "\"a\\u007fb\"", EKEY_E_CLAIMS },
    { "sub", "\"a\\u0000b\"", EKEY_E_JSON },
    { "sub", "5", EKEY_E_CLAIMS },
    { "sub", "[\"agent\"]", EKEY_E_CLAIMS },
    { "sub", "\"" "0123456789012345678901234567890123456789012345678901234567890123"
             "0123456789012345678901234567890123456789012345678901234567890123"
             "0123456789012345678901234567890123456789012345678901234567890123"
             "01234567890123456789012345678901234567890123456789012345678901234" "\"",
      EKEY_E_CLAIMS },
    /* CLM-03, CLM-04, JSON-11 */
    { "aud", NULL, EKEY_E_CLAIMS },
    { "aud", "\"\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com.evil.example\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com/payments\"", EKEY_E_AUDIENCE },
    { "aud", "\"https://api.example.com/\"", EKEY_E_AUDIENCE },
    { "aud", "\"HTTPS://api.example.com\"", EKEY_E_AUDIENCE },
    { "aud", "[\"https://other.example\"]", EKEY_E_AUDIENCE },
    { "aud", "[\"https://a.example\",\"https://b.example\"]", EKEY_E_AUDIENCE },
    { "aud", "[]", EKEY_E_CLAIMS },
    { "aud", "123", EKEY_E_CLAIMS },
    { "aud", "null", EKEY_E_CLAIMS },
    { "aud", "true", EKEY_E_CLAIMS },
    { "aud", "{\"aud\":\"" AUD "\"}", EKEY_E_CLAIMS },
    { "aud", "[\"" AUD "\",5]", EKEY_E_CLAIMS },
    { "aud", "[5,\"" AUD "\"]", EKEY_E_CLAIMS },
    { "aud", "[null]", EKEY_E_CLAIMS },
    { "aud", "[[\"" AUD "\"]]", EKEY_E_CLAIMS },
    /* CLM-06, CLM-08, CLM-09, JSON-11 */
    { "exp", NULL, EKEY_E_CLAIMS },
    { "exp", "null", EKEY_E_CLAIMS },
    { "exp", "\"1700000030\"", EKEY_E_CLAIMS },
    { "exp", "1700000030.0", EKEY_E_CLAIMS },
    { "exp", "1.70000003e9", EKEY_E_CLAIMS },
    { "exp", "true", EKEY_E_CLAIMS },
    { "exp", "1700000000", EKEY_E_CLAIMS },
    { "exp", "1699999999", EKEY_E_CLAIMS },
    { "exp", "-1", EKEY_E_CLAIMS },
    { "iat", NULL, EKEY_E_CLAIMS },
    { "iat", "\"1700000000\"", EKEY_E_CLAIMS },
    { "iat", "1700000000.5", EKEY_E_CLAIMS },
    { "iat", "-1", EKEY_E_CLAIMS },
    { "nbf", "\"1700000000\"", EKEY_E_CLAIMS },
    { "nbf", "null", EKEY_E_CLAIMS },
    { "nbf", "1.5", EKEY_E_CLAIMS },
    { "nbf", "-5", EKEY_E_CLAIMS },
    /* trace: 22 strict base64url characters of 16 bytes (RPL-17, DOS-06) */
    { "trace", NULL, EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODwA\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODw==\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0ODx\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD+\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0OD/\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0O w\"", EKEY_E_CLAIMS },
    { "trace", "\"000102030405060708090a0b0c0d0e0f\"", EKEY_E_CLAIMS },
    { "trace", "\"AAECAwQFBgcICQoLDA0O%w\"", EKEY_E_CLAIMS },
    { "trace", "\"\"", EKEY_E_CLAIMS },
    { "trace", "5", EKEY_E_CLAIMS },
    { "trace", "[\"" TRACE "\"]", EKEY_E_CLAIMS },
    /* CLM-14, CLM-16 */
    { "cap", NULL, EKEY_E_CLAIMS },
    { "cap", "null", EKEY_E_CLAIMS },
    { "cap", "\"POST:/payments\"", EKEY_E_CLAIMS },
    { "cap", "[\"POST:/payments\"]", EKEY_E_CLAIMS },
    { "cap", "{}", EKEY_E_CLAIMS },
    { "cap", "{\"limit\":1}", EKEY_E_CLAIMS },
    { "cap.action", "5", EKEY_E_CLAIMS },
    { "cap.action", "null", EKEY_E_CLAIMS },
    { "cap.action", "[\"POST:/payments\"]", EKEY_E_CLAIMS },
    { "cap.action", "\"POST /payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"post:/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\":/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"*:/payments\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments*\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments,GET:/admin\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments/../admin\"", EKEY_E_CLAIMS },
    { "cap.action", "\"POST:/payments?x=1\"", EKEY_E_CLAIMS },
    /* cap.limit (ISS-05 on the verifier side) */
    { "cap.limit", "0", EKEY_E_CLAIMS },
    { "cap.limit", "-1", EKEY_E_CLAIMS },
    { "cap.limit", "1.5", EKEY_E_CLAIMS },
    { "cap.limit", "1.0", EKEY_E_CLAIMS },
    { "cap.limit", "\"1\"", EKEY_E_CLAIMS },
    { "cap.limit", "true", EKEY_E_CLAIMS },
    { "cap.limit", "null", EKEY_E_CLAIMS },
    { "cap.limit", "11", EKEY_E_CLAIMS },
    { "cap.limit", "1000000", EKEY_E_CLAIMS },
    { "cap.limit", "9223372036854775807", EKEY_E_CLAIMS },
    { "cap.limit", "-9223372036854775808", EKEY_E_CLAIMS },
    { "cap.limit", "1e3", EKEY_E_CLAIMS },
    /* BIND-01, BIND-02, BIND-05, JWK-07, JWK-08, MTLS-05 */
    { "cnf", NULL, EKEY_E_CNF },
    { "cnf", "{}", EKEY_E_CNF },
    { "cnf", "null", EKEY_E_CNF },
    { "cnf", "[]", EKEY_E_CNF },
    { "cnf", "\"" JKT "\"", EKEY_E_CNF },
    { "cnf", "{\"jkt\":" J43 ",\"x5t#S256\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":" J43 ",\"jkt\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"jkt\":" J43 ",\"kid\":\"k\"}", EKEY_E_CNF },
    { "cnf", "{\"jwk\":{\"kty\":\"EC\"}}", EKEY_E_CNF },
    { "cnf", "{\"jku\":\"https://a.example/\"}", EKEY_E_CNF },
    { "cnf", "{\"kid\":\"k1\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t\":\"" "0ZcOCORZNYy-DWpqq30jZyJGHTM" "\"}", EKEY_E_CNF },
    { "cnf", "{\"JKT\":" J43 "}", EKEY_E_CNF },
    { "cnf", "{\"jkt \":" J43 "}", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4IA\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy+DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4J\"", EKEY_E_CNF },
    { "cnf.jkt", "\"d1970e0824593598be0d6a6aab7d2367224"
                 "61d3374776de094157" "7ba282e0382\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTM\"", EKEY_E_CNF },
    { "cnf.jkt", "\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I0ZcOCORZNYy-DWpqq30jZyJGHTN0"
                 "d2HglBV3uiguA4IAAAA\"", EKEY_E_CNF },
    { "cnf.jkt", "\"\"", EKEY_E_CNF },
    { "cnf.jkt", "5", EKEY_E_CNF },
    { "cnf.jkt", "null", EKEY_E_CNF },
    { "cnf.jkt", "[" J43 "]", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "d1970e0824593598be0d6a6aab7d236722461d3374776de0941577ba282e0382"
             "\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=" "\"}",
      EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":\"" "D1:97:0E:08" "\"}", EKEY_E_CNF },
    { "cnf", "{\"x5t#S256\":5}", EKEY_E_CNF },
};

static void test_token_claims_table(void **state)
{
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(claim_cases) / sizeof(claim_cases[0]); i++) {
        const claim_case_t *c = &claim_cases[i];
        ekey_status_t st;

        f->claims = baseline_claims(f);
        set_claim(f, f->claims, c->path, c->json);
        st = verify(f, sign_fx(f), NULL);
        if (st != c->want)
            fail_msg("claim case %zu %s=%s: got %s, want %s", i, c->path,
                     c->json != NULL ? c->json : "(removed)", ekey_status_name(st),
                     ekey_status_name(c->want));
    }
    /* max_limit 0 means no upper bound */
    f->pol.max_limit = 0;
    f->claims = baseline_claims(f);
    set_claim(f, f->claims, "cap.limit", "9223372036854775807");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

/* Signed payloads that are not a clean JSON object (JSON-02, JSON-03, JSON-10, B64-10/11). */
static void test_token_payload_json(void **state)
{
    fx_t *f = *state;
    char *hdr = apr_psprintf(f->p, "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
                             ekey_jwk_thumbprint(f->issuer));
    char *c = pt_dump(f->p, f->claims), *deep;
    size_t n = strlen(c);
    int i;
    const char *bad[6];

    bad[0] = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1), ",\"exp\":1900000000}", NULL);
    bad[1] = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1),
                         ",\"cap\":{\"action\":\"POST:/admin\",\"limit\":9}}", NULL);
    bad[2] = apr_pstrcat(f->p, c, "x", NULL);
    bad[3] = "[1,2,3]";
    bad[4] = apr_pstrcat(f->p, "\xef\xbb\xbf", c, NULL);
    deep = apr_pstrcat(f->p, apr_pstrmemdup(f->p, c, n - 1), ",\"x\":", NULL);
    for (i = 0; i < 50; i++)
        deep = apr_pstrcat(f->p, deep, "[", NULL);
    for (i = 0; i < 50; i++)
        deep = apr_pstrcat(f->p, deep, "]", NULL);
    bad[5] = apr_pstrcat(f->p, deep, "}", NULL);
    for (i = 0; i < 6; i++)
        if (verify(f, pt_sign_text(f->p, f->issuer, hdr, bad[i]), NULL) != EKEY_E_JSON)
            fail_msg("payload case %d not EKEY_E_JSON: %s", i,
                     ekey_status_name(verify(f, pt_sign_text(f->p, f->issuer, hdr, bad[i]),
                                             NULL)));
    /* nested duplicates */
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\",\"action\":"
        "\"POST:/admin\"},\"cnf\":{\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_E_JSON);
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\"},"
        "\"cnf\":{\"jkt\":" J43 ",\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_E_JSON);
    /* and the same text without duplicates verifies */
    assert_status(verify(f, pt_sign_text(f->p, f->issuer, hdr, apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"" AUD "\",\"iat\":%d,\"exp\":%d,"
        "\"trace\":\"" TRACE "\",\"cap\":{\"action\":\"POST:/payments\"},"
        "\"cnf\":{\"jkt\":" J43 "}}", NOW, NOW + 30)), NULL), EKEY_OK);
}

/* ------------------------------------------------------------------ time */

static void set_times(fx_t *f, apr_int64_t iat, apr_int64_t exp)
{
    f->claims = baseline_claims(f);
    json_object_set_new(f->claims, "iat", json_integer((json_int_t)iat));
    json_object_set_new(f->claims, "exp", json_integer((json_int_t)exp));
}

/* CLM-05 boundaries: expired once now reaches exp + skew. */
static void test_token_expiry_boundary(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);                                  /* iat NOW, exp NOW + 30 */

    f->pol.now = NOW + 30 + 30 - 1;
    assert_status(verify(f, tok, NULL), EKEY_OK);
    f->pol.now = NOW + 30 + 30;                              /* now == exp + skew */
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    f->pol.now = NOW + 30 + 30 + 1;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    f->pol.now = NOW + 100000;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
    /* without skew the token dies at exp */
    f->pol.skew = 0;
    f->pol.now = NOW + 29;
    assert_status(verify(f, tok, NULL), EKEY_OK);
    f->pol.now = NOW + 30;
    assert_status(verify(f, tok, NULL), EKEY_E_EXPIRED);
}

/* CLM-07, CLM-11, POS-19: iat and nbf up to skew in the future. */
static void test_token_future_boundary(void **state)
{
    fx_t *f = *state;

    set_times(f, NOW + 30, NOW + 60);                        /* iat == now + skew */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW + 31, NOW + 61);                        /* iat == now + skew + 1 */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    set_times(f, NOW + 100000, NOW + 100030);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    f->claims = baseline_claims(f);
    json_object_set_new(f->claims, "nbf", json_integer(NOW + 30));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    json_object_set_new(f->claims, "nbf", json_integer(NOW + 31));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    f->pol.skew = 0;
    set_times(f, NOW, NOW + 30);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW + 1, NOW + 30);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
}

/* CLM-10: exp - iat above max_ttl, even for a token inside its window. */
static void test_token_lifetime(void **state)
{
    fx_t *f = *state;

    set_times(f, NOW, NOW + 300);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    set_times(f, NOW, NOW + 301);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    set_times(f, NOW - 10, NOW + 86390);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    f->pol.max_ttl = 0;                                      /* no lifetime rule */
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    /* extremes do not overflow (UBSan watches this) */
    set_times(f, NOW, APR_INT64_MAX);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
    f->pol.max_ttl = 300;
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_LIFETIME);
    set_times(f, APR_INT64_MAX - 1, APR_INT64_MAX);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_NOT_YET_VALID);
    set_times(f, 0, 1);
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_EXPIRED);
}

static void test_token_args(void **state)
{
    fx_t *f = *state;
    char *tok = sign_fx(f);
    ekey_token_t *t = (ekey_token_t *)&t;
    ekey_token_policy_t pol = f->pol;

    assert_status(ekey_token_verify(&t, f->p, NULL, 0, &f->pol, NULL), EKEY_E_INVALID_ARG);
    assert_null(t);
    assert_status(ekey_token_verify(NULL, f->p, tok, strlen(tok), &f->pol, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_token_verify(&t, f->p, tok, strlen(tok), NULL, NULL),
                  EKEY_E_INVALID_ARG);
    f->pol.keys = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.issuer = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.audience = NULL;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.audience = "";
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.issuer = "";
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.skew = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.now = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.max_ttl = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    f->pol = pol;
    f->pol.max_limit = -1;
    assert_status(verify(f, tok, NULL), EKEY_E_INVALID_ARG);
    /* an empty keyset knows no kid */
    f->pol = pol;
    f->pol.keys = ekey_keyset_make(f->p);
    assert_status(verify(f, tok, NULL), EKEY_E_KID);
    /* CLM-18: the same token at a location with another audience */
    f->pol = pol;
    f->pol.audience = "https://b.example.com";
    assert_status(verify(f, tok, NULL), EKEY_E_AUDIENCE);
}

/* ------------------------------------------------------------------- mint */

static ekey_mint_t base_mint(fx_t *f)
{
    ekey_mint_t m;

    memset(&m, 0, sizeof(m));
    m.iss = ISS;
    m.sub = "agent-123";
    m.aud = AUD;
    m.action = "POST:/payments";
    m.limit = 3;
    m.now = NOW;
    m.ttl = 30;
    m.bind = EKEY_BIND_DPOP;
    m.jkt = ekey_jwk_thumbprint(f->client);
    return m;
}

static void test_token_mint(void **state)
{
    fx_t *f = *state;
    ekey_mint_t m = base_mint(f);
    ekey_token_t *c, *t;
    char *tok, *tok2;

    assert_status(ekey_token_mint(&tok, &c, f->p, &m, f->issuer, NULL), EKEY_OK);
    assert_status(verify(f, tok, &t), EKEY_OK);
    /* wire form: header {alg, typ, kid}; claims in the documented order */
    assert_string_equal(pt_segment(f->p, tok, 0), apr_psprintf(f->p,
        "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"%s\"}",
        ekey_jwk_thumbprint(f->issuer)));
    assert_string_equal(pt_segment(f->p, tok, 1), apr_psprintf(f->p,
        "{\"iss\":\"" ISS "\",\"sub\":\"agent-123\",\"aud\":\"" AUD "\",\"iat\":%d,"
        "\"exp\":%d,\"trace\":\"%s\",\"cap\":{\"action\":\"POST:/payments\",\"limit\":3},"
        "\"cnf\":{\"jkt\":\"%s\"}}", NOW, NOW + 30, c->trace, ekey_jwk_thumbprint(f->client)));
    /* the returned claims are what the verifier reads back */
    assert_string_equal(c->trace, t->trace);
    assert_int_equal(strlen(c->trace), 22);
    assert_string_equal(c->kid, t->kid);
    assert_string_equal(c->sub, t->sub);
    assert_string_equal(c->aud, t->aud);
    assert_string_equal(c->action, t->action);
    assert_string_equal(c->cap_method, "POST");
    assert_string_equal(c->cap_path, "/payments");
    assert_int_equal(c->limit, 3);
    assert_int_equal(c->iat, t->iat);
    assert_int_equal(c->exp, t->exp);
    assert_int_equal(c->bind, EKEY_BIND_DPOP);
    assert_string_equal(c->jkt, t->jkt);
    assert_string_equal(c->ath, t->ath);
    /* a fresh trace every time, or the caller's */
    assert_status(ekey_token_mint(&tok2, &t, f->p, &m, f->issuer, NULL), EKEY_OK);
    assert_string_not_equal(t->trace, c->trace);
    m.trace = TRACE;
    assert_status(ekey_token_mint(&tok2, NULL, f->p, &m, f->issuer, NULL), EKEY_OK);
    assert_status(verify(f, tok2, &t), EKEY_OK);
    assert_string_equal(t->trace, TRACE);
    /* mTLS */
    m = base_mint(f);
    m.bind = EKEY_BIND_MTLS;
    m.x5t = JKT;
    assert_status(ekey_token_mint(&tok, &c, f->p, &m, f->issuer, NULL), EKEY_OK);
    assert_status(verify(f, tok, &t), EKEY_OK);
    assert_int_equal(t->bind, EKEY_BIND_MTLS);
    assert_string_equal(t->x5t, JKT);
    assert_non_null(strstr(pt_segment(f->p, tok, 1), "\"cnf\":{\"x5t#S256\":\"" JKT "\"}"));
    /* a forged copy of a minted token fails */
    assert_status(verify(f, pt_flip_bit(f->p, tok, 40, 3), NULL), EKEY_E_SIGNATURE);
}

static void test_token_mint_rejects(void **state)
{
    fx_t *f = *state;
    ekey_mint_t m;
    ekey_token_t *c = (ekey_token_t *)&c;
    ekey_jwk_t *pub;
    char *tok = (char *)"x";
    int i;

    for (i = 0; i < 24; i++) {
        m = base_mint(f);
        switch (i) {
        case 0: m.bind = EKEY_BIND_NONE; break;
        case 1: m.jkt = NULL; break;
        case 2: m.jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4"; break;
        case 3: m.bind = EKEY_BIND_MTLS; break;                     /* no x5t */
        case 4: m.bind = EKEY_BIND_MTLS; m.x5t = "d1:97"; break;
        case 5: m.limit = 0; break;
        case 6: m.limit = -1; break;
        case 7: m.ttl = 0; break;
        case 8: m.ttl = APR_INT64_MAX; break;
        case 9: m.now = -1; break;
        case 10: m.action = "post:/payments"; break;
        case 11: m.action = "POST:/payments/../admin"; break;
        case 12: m.action = NULL; break;
        case 13: m.sub = ""; break;
        case 14: m.sub = "a\r\nb"; break;
        case 15: m.sub = NULL; break;
        case 16: m.iss = NULL; break;
        case 17: m.aud = ""; break;
        case 18: m.trace = "short"; break;
        case 19: m.trace = "AAECAwQFBgcICQoLDA0ODx"; break;
        case 20: m.bind = (ekey_bind_t)7; break;
        case 21: m.jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I="; break;
        case 22: m.sub = "agent-\xff"; break;                      /* not UTF-8 */
        case 23: m.aud = "https://\xc3("; break;
        }
        if (ekey_token_mint(&tok, &c, f->p, &m, f->issuer, NULL) != EKEY_E_INVALID_ARG)
            fail_msg("mint case %d accepted", i);
        assert_null(tok);
        assert_null(c);
    }
    /* a public key cannot sign */
    assert_status(ekey_jwk_parse(&pub, f->p, ekey_jwk_to_json(f->issuer, f->p, 0), NULL),
                  EKEY_OK);
    m = base_mint(f);
    assert_status(ekey_token_mint(&tok, NULL, f->p, &m, pub, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_token_mint(&tok, NULL, f->p, &m, NULL, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_token_mint(&tok, NULL, f->p, NULL, f->issuer, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_token_mint(NULL, NULL, f->p, &m, f->issuer, NULL), EKEY_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(test_token_baseline),
        FX(test_token_high_s),
        FX(test_token_accept_variants),
        FX(test_token_other_algs),
        FX(test_token_forgery),
        FX(test_token_bad_signatures),
        FX(test_token_structure),
        FX(test_token_alg),
        FX(test_token_typ),
        FX(test_token_kid),
        FX(test_token_forbidden_header),
        FX(test_token_claims_table),
        FX(test_token_payload_json),
        FX(test_token_expiry_boundary),
        FX(test_token_future_boundary),
        FX(test_token_lifetime),
        FX(test_token_args),
        FX(test_token_mint),
        FX(test_token_mint_rejects),
    };
    return ekey_test_main(tests);
}
