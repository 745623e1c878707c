/*
 * test_spec_vectors.c - the test vectors of EKEY_SPEC.md ("Test vectors") against the core.
 *
 * The vectors were minted once with CryptX (tests/unit/vectors/spec/mint-vectors.pl), so a
 * token and a proof from an independent implementation must verify here with the documented
 * policy. The last test reads EKEY_SPEC.md and requires every vector string in it verbatim, so
 * the specification and the fixture files cannot drift apart.
 */
#include "ekey_test.h"

#define SPEC_ISSUER    "https://issuer.example"
#define SPEC_AUDIENCE  "https://api.example.com"
#define SPEC_HTU       "https://api.example.com/payments"
#define SPEC_TRACE     "0amOVEezZyWBvmz12PdzMQ"
#define SPEC_JTI       "geCcwVirD4o8FZIR0ygiVQ"
#define SPEC_IAT       1767225600      /* token iat */
#define SPEC_EXP       1767225720      /* token exp = iat + 120 */
#define SPEC_PROOF_IAT 1767225605
#define SPEC_NOW       1767225610      /* the verifier's clock in the vectors */

/* Reads a whole file into pool memory, NUL-terminated (our own reader: gcc -O2 sees a path
 * through ekey_test_read_file where a failed fseek leaves its length unset). */
static char *slurp(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    char *buf = apr_pstrdup(p, "");
    apr_size_t n = 0, got;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    while (f != NULL && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *grown = apr_palloc(p, n + got + 1);

        memcpy(grown, buf, n);
        memcpy(grown + n, chunk, got);
        grown[n + got] = '\0';
        buf = grown;
        n += got;
    }
    if (f != NULL)
        fclose(f);
    *len = n;
    return buf;
}

/* A fixture from tests/unit/vectors/spec with trailing whitespace (the final newline) cut. */
static char *vec(apr_pool_t *p, const char *name)
{
    apr_size_t len = 0;
    char *s = slurp(p, apr_pstrcat(p, EKEY_VECTORS "/spec/", name, NULL), &len);

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        s[--len] = '\0';
    return s;
}

static json_t *vec_json(apr_pool_t *p, const char *name)
{
    const char *s = vec(p, name);
    json_t *j = NULL;

    assert_status(ekey_json_parse(&j, p, s, strlen(s), 4096, NULL), EKEY_OK);
    return j;
}

static ekey_keyset_t *issuer_keys(apr_pool_t *p)
{
    ekey_keyset_t *ks = ekey_keyset_make(p);
    ekey_jwk_t *k = NULL;

    assert_status(ekey_jwk_load_pem(&k, p, EKEY_VECTORS "/spec/issuer.pub.pem", 0, NULL),
                  EKEY_OK);
    assert_status(ekey_keyset_add(ks, k, NULL), EKEY_OK);
    return ks;
}

/* The documented verifier policy for the token vector. */
static ekey_token_policy_t policy(const ekey_keyset_t *ks)
{
    ekey_token_policy_t pol;

    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = SPEC_ISSUER;
    pol.audience = SPEC_AUDIENCE;
    pol.now = SPEC_NOW;
    pol.skew = EKEY_DEFAULT_SKEW;
    pol.max_ttl = EKEY_DEFAULT_MAX_TTL;
    pol.algs = EKEY_ALGS_DEFAULT;
    return pol;
}

/* The documented DPoP check for the proof vector. */
static ekey_dpop_check_t check(apr_pool_t *p)
{
    ekey_dpop_check_t chk;

    memset(&chk, 0, sizeof(chk));
    chk.method = "POST";
    chk.htu = SPEC_HTU;
    chk.ath = vec(p, "token.ath.txt");
    chk.nonce = SPEC_TRACE;
    chk.jkt = vec(p, "client.jkt.txt");
    chk.now = SPEC_NOW;
    chk.max_age = EKEY_DEFAULT_PROOF_AGE;
    chk.skew = EKEY_DEFAULT_SKEW;
    return chk;
}

static void test_thumbprints(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const who[] = { "issuer", "client" };
    int i;

    for (i = 0; i < 2; i++) {
        const char *want = vec(p, i == 0 ? "issuer.kid.txt" : "client.jkt.txt");
        const char *tp = NULL;
        ekey_jwk_t *pub = NULL, *priv = NULL, *fromjwk = NULL;
        json_t *jwk = vec_json(p, apr_pstrcat(p, who[i], ".jwk.json", NULL));

        assert_int_equal(strlen(want), EKEY_JKT_LEN);
        assert_status(ekey_jwk_load_pem(&pub, p, apr_pstrcat(p, EKEY_VECTORS "/spec/",
                                        who[i], ".pub.pem", NULL), 0, NULL), EKEY_OK);
        assert_string_equal(ekey_jwk_thumbprint(pub), want);
        assert_status(ekey_jwk_load_pem(&priv, p, apr_pstrcat(p, EKEY_VECTORS "/spec/",
                                        who[i], ".key.pem", NULL), 1, NULL), EKEY_OK);
        assert_true(ekey_jwk_has_private(priv));
        assert_string_equal(ekey_jwk_thumbprint(priv), want);
        assert_status(ekey_jwk_parse(&fromjwk, p, jwk, NULL), EKEY_OK);
        assert_string_equal(ekey_jwk_thumbprint(fromjwk), want);
        assert_int_equal(ekey_jwk_alg(fromjwk), EKEY_ALG_ES256);
        assert_status(ekey_jwk_thumbprint_json(&tp, p, jwk, NULL), EKEY_OK);
        assert_string_equal(tp, want);
    }
}

/* RFC 9449 section 7.1 (ath) and Figure 4 -> Figure 9 (jkt). */
static void test_rfc9449_known_answers(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char at[] = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    static const char key[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
        "\"x\":\"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs\","
        "\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA\"}";
    json_t *jwk = NULL;
    const char *tp = NULL;

    assert_string_equal(ekey_sha256_b64url(p, at, strlen(at)),
                        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    assert_status(ekey_json_parse(&jwk, p, key, strlen(key), 4096, NULL), EKEY_OK);
    assert_status(ekey_jwk_thumbprint_json(&tp, p, jwk, NULL), EKEY_OK);
    assert_string_equal(tp, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
}

/* The parts of each JWS add up: input = b64u(header) "." b64u(claims); jws = input "." sig. */
static void test_vector_parts(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const stem[] = { "token", "proof" };
    int i;

    for (i = 0; i < 2; i++) {
        const char *h = vec(p, apr_pstrcat(p, stem[i], ".header.json", NULL));
        const char *c = vec(p, apr_pstrcat(p, stem[i], ".claims.json", NULL));
        const char *in = vec(p, apr_pstrcat(p, stem[i], ".signing-input.txt", NULL));
        const char *sig = vec(p, apr_pstrcat(p, stem[i], ".signature.txt", NULL));
        unsigned char raw[64];

        assert_string_equal(apr_pstrcat(p, ekey_b64url_encode(p, (const void *)h, strlen(h)),
                                        ".", ekey_b64url_encode(p, (const void *)c,
                                                                strlen(c)), NULL), in);
        assert_string_equal(apr_pstrcat(p, in, ".", sig, NULL),
                            vec(p, apr_pstrcat(p, stem[i], ".jwt", NULL)));
        assert_status(ekey_b64url_decode_exact(raw, sizeof(raw), sig, strlen(sig), NULL),
                      EKEY_OK);
    }
    assert_string_equal(ekey_sha256_b64url(p, vec(p, "token.jwt"), strlen(vec(p, "token.jwt"))),
                        vec(p, "token.ath.txt"));
}

static void test_token_verifies(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *tok = vec(p, "token.jwt");
    ekey_token_policy_t pol = policy(issuer_keys(p));
    ekey_token_t *t = NULL;
    const char *got = NULL;
    apr_size_t len = 0;

    assert_status(ekey_token_verify(&t, p, tok, strlen(tok), &pol, NULL), EKEY_OK);
    assert_non_null(t);
    assert_string_equal(t->kid, vec(p, "issuer.kid.txt"));
    assert_string_equal(t->iss, SPEC_ISSUER);
    assert_string_equal(t->sub, "agent-123");
    assert_string_equal(t->aud, SPEC_AUDIENCE);
    assert_string_equal(t->trace, SPEC_TRACE);
    assert_int_equal(t->iat, SPEC_IAT);
    assert_int_equal(t->exp, SPEC_EXP);
    assert_int_equal(t->nbf, 0);
    assert_string_equal(t->action, "POST:/payments");
    assert_string_equal(t->cap_method, "POST");
    assert_string_equal(t->cap_path, "/payments");
    assert_int_equal(t->limit, 1);
    assert_int_equal(t->bind, EKEY_BIND_DPOP);
    assert_string_equal(t->jkt, vec(p, "client.jkt.txt"));
    assert_null(t->x5t);
    assert_string_equal(t->ath, vec(p, "token.ath.txt"));

    /* The presentation form of the spec: Authorization: EKey <token>. */
    assert_status(ekey_http_parse_authorization(&got, &len, apr_pstrcat(p, "EKey ", tok, NULL),
                                                EKEY_MAX_TOKEN_LEN, NULL), EKEY_OK);
    assert_int_equal(len, strlen(tok));
    assert_memory_equal(got, tok, len);
}

/* The documented policy decides: issuer, audience, the time bounds with skew, max lifetime. */
static void test_token_policy_bounds(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *tok = vec(p, "token.jwt");
    const ekey_keyset_t *ks = issuer_keys(p);
    ekey_token_policy_t pol;
    ekey_token_t *t = NULL;
    struct { const char *iss, *aud; apr_int64_t now, max_ttl; ekey_status_t want; } c[] = {
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_EXP + EKEY_DEFAULT_SKEW - 1, 300, EKEY_OK },
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_EXP + EKEY_DEFAULT_SKEW, 300, EKEY_E_EXPIRED },
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_IAT - EKEY_DEFAULT_SKEW, 300, EKEY_OK },
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_IAT - EKEY_DEFAULT_SKEW - 1, 300,
          EKEY_E_NOT_YET_VALID },
        { "https://issuer.example/", SPEC_AUDIENCE, SPEC_NOW, 300, EKEY_E_ISSUER },
        { SPEC_ISSUER, "https://api.example.com/payments", SPEC_NOW, 300, EKEY_E_AUDIENCE },
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_NOW, 119, EKEY_E_LIFETIME },
        { SPEC_ISSUER, SPEC_AUDIENCE, SPEC_NOW, 120, EKEY_OK },
    };
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        pol = policy(ks);
        pol.issuer = c[i].iss;
        pol.audience = c[i].aud;
        pol.now = c[i].now;
        pol.max_ttl = c[i].max_ttl;
        t = (ekey_token_t *)1;
        assert_status(ekey_token_verify(&t, p, tok, strlen(tok), &pol, NULL), c[i].want);
        if (c[i].want != EKEY_OK)
            assert_null(t);
    }
}

/* Replaces s[i] by another character of the compact alphabet. */
static char *mutate(apr_pool_t *p, const char *s, size_t i)
{
    char *m = apr_pstrdup(p, s);

    m[i] = (m[i] == 'A') ? 'B' : 'A';
    return m;
}

/* Every single-character change of the token fails; inside the payload and the signature
 * it is the signature check that catches it. */
static void test_token_one_byte_changes(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *tok = vec(p, "token.jwt");
    ekey_token_policy_t pol = policy(issuer_keys(p));
    size_t n = strlen(tok), i, dot2 = (size_t)(strrchr(tok, '.') - tok);
    size_t dot1 = (size_t)(strchr(tok, '.') - tok);
    ekey_token_t *t2 = NULL;

    for (i = 0; i < n; i++) {
        apr_pool_t *sub = NULL;
        ekey_token_t *t = NULL;
        ekey_status_t st;

        apr_pool_create(&sub, p);
        st = ekey_token_verify(&t, sub, mutate(sub, tok, i), n, &pol, NULL);
        if (st == EKEY_OK)
            fail_msg("token with byte %zu changed verified", i);
        assert_null(t);
        apr_pool_destroy(sub);
    }
    assert_status(ekey_token_verify(&t2, p, mutate(p, tok, (dot1 + dot2) / 2), n, &pol, NULL),
                  EKEY_E_SIGNATURE);
    assert_status(ekey_token_verify(&t2, p, mutate(p, tok, dot2 + 20), n, &pol, NULL),
                  EKEY_E_SIGNATURE);
}

static void test_proof_verifies(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *proof = vec(p, "proof.jwt");
    ekey_dpop_check_t chk = check(p);
    ekey_dpop_t *d = NULL;

    assert_status(ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, NULL), EKEY_OK);
    assert_non_null(d);
    assert_string_equal(d->jti, SPEC_JTI);
    assert_string_equal(d->jkt, vec(p, "client.jkt.txt"));
    assert_int_equal(d->iat, SPEC_PROOF_IAT);
    assert_non_null(d->jwk);
    assert_string_equal(ekey_jwk_thumbprint(d->jwk), vec(p, "client.jkt.txt"));

    /* htu is compared after RFC 3986 normalisation: these spellings are the same URL. */
    chk.htu = "HTTPS://API.EXAMPLE.COM:443/payments";
    assert_status(ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, NULL), EKEY_OK);
}

/* Each documented input of the proof check decides on its own. */
static void test_proof_check_inputs(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *proof = vec(p, "proof.jwt");
    const char *kid = vec(p, "issuer.kid.txt");
    ekey_dpop_check_t chk;
    ekey_dpop_t *d = NULL;
    int i;

    for (i = 0; i < 11; i++) {
        ekey_status_t want = EKEY_OK;

        chk = check(p);
        switch (i) {
        case 0: chk.method = "GET"; want = EKEY_E_PROOF_HTM; break;
        case 1: chk.method = "post"; want = EKEY_E_PROOF_HTM; break;
        case 2: chk.htu = "https://api.example.com/payments/"; want = EKEY_E_PROOF_HTU; break;
        case 3: chk.htu = "https://api.example.com:8443/payments"; want = EKEY_E_PROOF_HTU;
            break;
        case 4: chk.ath = kid; want = EKEY_E_PROOF_ATH; break;
        case 5: chk.nonce = SPEC_JTI; want = EKEY_E_PROOF_NONCE; break;
        case 6: chk.jkt = kid; want = EKEY_E_PROOF_JKT; break;
        case 7: chk.now = SPEC_PROOF_IAT + EKEY_DEFAULT_PROOF_AGE; break;
        case 8: chk.now = SPEC_PROOF_IAT + EKEY_DEFAULT_PROOF_AGE + 1; want = EKEY_E_PROOF_IAT;
            break;
        case 9: chk.now = SPEC_PROOF_IAT - EKEY_DEFAULT_SKEW; break;
        case 10: chk.now = SPEC_PROOF_IAT - EKEY_DEFAULT_SKEW - 1; want = EKEY_E_PROOF_IAT;
            break;
        }
        d = (ekey_dpop_t *)1;
        assert_status(ekey_dpop_verify(&d, p, proof, strlen(proof), &chk, NULL), want);
        if (want != EKEY_OK)
            assert_null(d);
    }
}

static void test_proof_one_byte_changes(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *proof = vec(p, "proof.jwt");
    ekey_dpop_check_t chk = check(p);
    size_t n = strlen(proof), i;

    for (i = 0; i < n; i++) {
        apr_pool_t *sub = NULL;
        ekey_dpop_t *d = NULL;

        apr_pool_create(&sub, p);
        if (ekey_dpop_verify(&d, sub, mutate(sub, proof, i), n, &chk, NULL) == EKEY_OK)
            fail_msg("proof with byte %zu changed verified", i);
        assert_null(d);
        apr_pool_destroy(sub);
    }
}

/* EKEY_SPEC.md quotes every vector byte for byte. */
static void test_spec_quotes_vectors(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const files[] = {
        "issuer.key.pem", "issuer.pub.pem", "issuer.jwk.json", "issuer.kid.txt",
        "client.key.pem", "client.pub.pem", "client.jwk.json", "client.jkt.txt",
        "token.header.json", "token.claims.json", "token.signing-input.txt",
        "token.signature.txt", "token.jwt", "token.ath.txt",
        "proof.header.json", "proof.claims.json", "proof.signing-input.txt",
        "proof.signature.txt", "proof.jwt",
    };
    static const char *const literals[] = {
        SPEC_ISSUER, SPEC_AUDIENCE, SPEC_HTU, SPEC_TRACE, SPEC_JTI, "1767225600",
        "1767225720", "1767225605", "1767225610",
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    };
    apr_size_t len = 0;
    const char *spec = slurp(p, EKEY_SRCDIR "/EKEY_SPEC.md", &len);
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strstr(spec, vec(p, files[i])) == NULL)
            fail_msg("EKEY_SPEC.md does not quote tests/unit/vectors/spec/%s", files[i]);
    for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++)
        if (strstr(spec, literals[i]) == NULL)
            fail_msg("EKEY_SPEC.md lacks %s", literals[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_thumbprints),
        EKEY_TEST(test_rfc9449_known_answers),
        EKEY_TEST(test_vector_parts),
        EKEY_TEST(test_token_verifies),
        EKEY_TEST(test_token_policy_bounds),
        EKEY_TEST(test_token_one_byte_changes),
        EKEY_TEST(test_proof_verifies),
        EKEY_TEST(test_proof_check_inputs),
        EKEY_TEST(test_proof_one_byte_changes),
        EKEY_TEST(test_spec_quotes_vectors),
    };
    return ekey_test_main(tests);
}
