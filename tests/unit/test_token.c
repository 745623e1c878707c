/* test_token.c - E-Key verification: accept, forgery, structure, header (SECURITY-CASES 1.B,
 * 1.C) and minting. Claims and time: test_token_claims.c. */
#include "token_fixture.h"

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
        FX(test_token_mint),
        FX(test_token_mint_rejects),
    };
    return ekey_test_main(tests);
}
