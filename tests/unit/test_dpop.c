/* test_dpop.c - DPoP proofs: RFC 9449 vectors, creation, accept paths, header and jwk
 * checks, framing and arguments (SECURITY-CASES 1.G-1.I). The claims: test_dpop_claims.c. */
#include "dpop_fixture.h"

#define RFC_HDR \
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgt" \
    "MzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VO" \
    "SmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19"
/* Figure 2: token request proof (POST https://server.example.com/token, iat 1562262616). */
static const char rfc_fig2[] = RFC_HDR
    ".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1w"
    "bGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ"
    ".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
/* Figure 13: resource request proof with ath (GET .../protectedresource, iat 1562262618). */
static const char rfc_fig13[] = RFC_HDR
    ".eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFt"
    "cGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF"
    "c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9"
    ".2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";

/* ------------------------------------------------------------ RFC vectors */

static void test_dpop_rfc_fig2(void **state)
{
    fx_t *f = *state;
    ekey_dpop_t *d;

    f->chk.method = "POST";
    f->chk.htu = "https://server.example.com/token";
    f->chk.ath = NULL;
    f->chk.nonce = NULL;
    f->chk.jkt = RFC_JKT;
    f->chk.now = 1562262616;
    assert_status(verify(f, rfc_fig2, &d), EKEY_OK);
    assert_string_equal(d->jti, "-BwC3ESc6acc2lTc");
    assert_string_equal(d->jkt, RFC_JKT);                    /* RFC 9449 Figure 9 */
    assert_int_equal(d->iat, 1562262616);
    assert_non_null(d->jwk);
    assert_string_equal(ekey_jwk_thumbprint(d->jwk), RFC_JKT);
    /* the window: iat is now - max_age at most */
    f->chk.now = 1562262616 + 60;
    assert_status(verify(f, rfc_fig2, NULL), EKEY_OK);
    f->chk.now = 1562262616 + 61;
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_IAT);
    f->chk.now = 1562262616;
    /* each expectation changed alone */
    f->chk.jkt = "1ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_JKT);
    f->chk.jkt = NULL;
    assert_status(verify(f, rfc_fig2, &d), EKEY_OK);
    assert_string_equal(d->jkt, RFC_JKT);
    f->chk.method = "GET";
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_HTM);
    f->chk.method = "POST";
    f->chk.htu = "https://server.example.com/token2";
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_HTU);
    f->chk.htu = "HTTPS://SERVER.example.com:443/token?x=y";
    assert_status(verify(f, rfc_fig2, NULL), EKEY_OK);
    f->chk.ath = RFC_ATH;
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_ATH);
    f->chk.ath = NULL;
    f->chk.nonce = TRACE;
    assert_status(verify(f, rfc_fig2, NULL), EKEY_E_PROOF_NONCE);
    f->chk.nonce = NULL;
    /* forgery: one bit of the signature, or the claims of Figure 13 under this signature */
    assert_status(verify(f, pt_flip_bit(f->p, rfc_fig2, 5, 0), NULL), EKEY_E_PROOF);
    assert_status(verify(f, pt_flip_bit(f->p, rfc_fig2, 60, 7), NULL), EKEY_E_PROOF);
    assert_status(verify(f, pt_swap_payload(f->p, rfc_fig2, pt_segment(f->p, rfc_fig13, 1)),
                         NULL), EKEY_E_PROOF);
}

static void test_dpop_rfc_fig13(void **state)
{
    fx_t *f = *state;
    ekey_dpop_t *d;

    /* ath KAT of the RFC 9449 §7.1 access token */
    assert_string_equal(ekey_sha256_b64url(f->p, RFC_TOKEN, strlen(RFC_TOKEN)), RFC_ATH);
    f->chk.method = "GET";
    f->chk.htu = "https://resource.example.org/protectedresource";
    f->chk.ath = RFC_ATH;
    f->chk.nonce = NULL;
    f->chk.jkt = RFC_JKT;
    f->chk.now = 1562262618;
    assert_status(verify(f, rfc_fig13, &d), EKEY_OK);
    assert_string_equal(d->jti, "e1j3V_bKic8-LAEB");
    /* a proof made for a token is refused where no token is presented */
    f->chk.ath = NULL;
    assert_status(verify(f, rfc_fig13, NULL), EKEY_E_PROOF_ATH);
    /* another token: the ath of the token with a trailing space, or with the scheme */
    f->chk.ath = ekey_sha256_b64url(f->p, RFC_TOKEN " ", strlen(RFC_TOKEN) + 1);
    assert_status(verify(f, rfc_fig13, NULL), EKEY_E_PROOF_ATH);
    f->chk.ath = ekey_sha256_b64url(f->p, "EKey " RFC_TOKEN, strlen(RFC_TOKEN) + 5);
    assert_status(verify(f, rfc_fig13, NULL), EKEY_E_PROOF_ATH);
    /* POS-19: iat up to skew in the future */
    f->chk.ath = RFC_ATH;
    f->chk.now = 1562262618 - 30;
    assert_status(verify(f, rfc_fig13, NULL), EKEY_OK);
    f->chk.now = 1562262618 - 31;
    assert_status(verify(f, rfc_fig13, NULL), EKEY_E_PROOF_IAT);
}

/* ---------------------------------------------------------------- create */

static void test_dpop_create(void **state)
{
    fx_t *f = *state;
    ekey_dpop_t *d;
    char *proof = create(f, f->client, "POST", HTU, TRACE, TOKEN, NOW), *other;
    json_t *h, *c;

    assert_status(verify(f, proof, &d), EKEY_OK);
    assert_string_equal(d->jkt, ekey_jwk_thumbprint(f->client));
    assert_int_equal(d->iat, NOW);
    assert_int_equal(strlen(d->jti), 22);
    h = pt_json(f->p, pt_segment(f->p, proof, 0));
    c = pt_json(f->p, pt_segment(f->p, proof, 1));
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "dpop+jwt");
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
    assert_null(json_object_get(json_object_get(h, "jwk"), "d"));
    assert_string_equal(json_string_value(json_object_get(c, "htm")), "POST");
    assert_string_equal(json_string_value(json_object_get(c, "htu")), HTU);
    assert_string_equal(json_string_value(json_object_get(c, "ath")), f->ath);
    assert_string_equal(json_string_value(json_object_get(c, "nonce")), TRACE);
    /* fresh jti each time */
    other = create(f, f->client, "POST", HTU, TRACE, TOKEN, NOW);
    assert_string_not_equal(json_string_value(json_object_get(c, "jti")),
                            json_string_value(json_object_get(pt_json(f->p,
                                pt_segment(f->p, other, 1)), "jti")));
    /* the URL is normalised; query and fragment never reach htu */
    proof = create(f, f->client, "POST", "HTTPS://API.Example.com:443/payments?a=1#x", TRACE,
                   TOKEN, NOW);
    c = pt_json(f->p, pt_segment(f->p, proof, 1));
    assert_string_equal(json_string_value(json_object_get(c, "htu")), HTU);
    assert_status(verify(f, proof, NULL), EKEY_OK);
    /* RFC token: ath is the RFC 9449 Figure 14 value; no nonce when none is given */
    proof = create(f, f->client, "GET", HTU, NULL, RFC_TOKEN, NOW);
    c = pt_json(f->p, pt_segment(f->p, proof, 1));
    assert_string_equal(json_string_value(json_object_get(c, "ath")), RFC_ATH);
    assert_null(json_object_get(c, "nonce"));
    /* a minting proof: no token, no ath */
    proof = create(f, f->client, "POST", "https://issuer.example/token", NULL, NULL, NOW);
    c = pt_json(f->p, pt_segment(f->p, proof, 1));
    assert_null(json_object_get(c, "ath"));
    f->chk.htu = "https://issuer.example/token";
    f->chk.ath = NULL;
    f->chk.nonce = NULL;
    assert_status(verify(f, proof, NULL), EKEY_OK);
}

static void test_dpop_create_rejects(void **state)
{
    fx_t *f = *state;
    ekey_jwk_t *pub;
    char *out = (char *)"x";

    assert_status(ekey_jwk_parse(&pub, f->p, ekey_jwk_to_json(f->client, f->p, 0), NULL),
                  EKEY_OK);
    assert_status(ekey_dpop_create(&out, f->p, pub, "POST", HTU, NULL, NULL, NOW, NULL),
                  EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_status(ekey_dpop_create(&out, f->p, NULL, "POST", HTU, NULL, NULL, NOW, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(&out, f->p, f->client, NULL, HTU, NULL, NULL, NOW, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "", HTU, NULL, NULL, NOW, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "P\xffST", HTU, NULL, NULL, NOW,
                                   NULL), EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "POST", HTU, "\xc3(", NULL, NOW,
                                   NULL), EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "POST", "/payments", NULL, NULL,
                                   NOW, NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "POST", NULL, NULL, NULL, NOW,
                                   NULL), EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(&out, f->p, f->client, "POST", HTU, NULL, NULL, -1, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_create(NULL, f->p, f->client, "POST", HTU, NULL, NULL, NOW, NULL),
                  EKEY_E_INVALID_ARG);
    assert_null(out);
}

/* ES384 and EdDSA proofs (default allowlist: all three), and a narrower allowlist. */
static void test_dpop_algs(void **state)
{
    static const ekey_alg_t algs[] = { EKEY_ALG_ES384, EKEY_ALG_EDDSA };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < 2; i++) {
        ekey_jwk_t *k;
        char *proof;
        assert_status(ekey_jwk_generate(&k, f->p, algs[i], NULL), EKEY_OK);
        proof = create(f, k, "POST", HTU, TRACE, TOKEN, NOW);
        f->chk.jkt = ekey_jwk_thumbprint(k);
        f->chk.algs = 0;
        assert_status(verify(f, proof, NULL), EKEY_OK);
        f->chk.algs = (unsigned)algs[i];
        assert_status(verify(f, proof, NULL), EKEY_OK);
        f->chk.algs = EKEY_ALG_ES256;
        assert_status(verify(f, proof, NULL), EKEY_E_PROOF);
        f->chk.algs = 0;
        assert_status(verify(f, pt_flip_bit(f->p, proof, 3, 1), NULL), EKEY_E_PROOF);
    }
}

/* ------------------------------------------------------------- accept paths */

static void test_dpop_accept_and_forgery(void **state)
{
    fx_t *f = *state;
    char *proof = sign_fx(f), *c = pt_segment(f->p, proof, 1);
    ekey_dpop_t *d;
    json_t *cl;

    assert_status(verify(f, proof, &d), EKEY_OK);
    assert_string_equal(d->jti, "jti-0001");
    /* POS-13: high-S twin */
    assert_status(verify(f, pt_flip_s(f->p, proof), NULL), EKEY_OK);
    /* forgery: signature bits, claims edited under the old signature */
    assert_status(verify(f, pt_flip_bit(f->p, proof, 0, 0), NULL), EKEY_E_PROOF);
    assert_status(verify(f, pt_flip_bit(f->p, proof, 63, 7), NULL), EKEY_E_PROOF);
    cl = pt_json(f->p, c);
    set_member(f, cl, "htu", "\"https://api.example.com/admin\"");
    assert_status(verify(f, pt_swap_payload(f->p, proof, pt_dump(f->p, cl)), NULL),
                  EKEY_E_PROOF);
    cl = pt_json(f->p, c);
    set_member(f, cl, "iat", "1700000050");
    assert_status(verify(f, pt_swap_payload(f->p, proof, pt_dump(f->p, cl)), NULL),
                  EKEY_E_PROOF);
    /* the victim's jwk in the header, signed by the attacker (JSON-04's intent) */
    assert_status(verify(f, sign_with(f, f->hdr, f->claims, f->attacker), NULL), EKEY_E_PROOF);
    /* DPOP-09: a valid proof by the attacker's own key against the victim's cnf.jkt */
    assert_status(verify(f, sign_with(f, baseline_header(f, f->attacker), f->claims,
                                      f->attacker), &d), EKEY_E_PROOF_JKT);
    f->chk.jkt = NULL;                       /* minting: any key, its thumbprint reported */
    assert_status(verify(f, sign_with(f, baseline_header(f, f->attacker), f->claims,
                                      f->attacker), &d), EKEY_OK);
    assert_string_equal(d->jkt, ekey_jwk_thumbprint(f->attacker));
    /* JWK-07: the expected jkt in another spelling never matches */
    f->chk.jkt = apr_pstrcat(f->p, ekey_jwk_thumbprint(f->client), "=", NULL);
    assert_status(verify(f, proof, NULL), EKEY_E_PROOF_JKT);
}

/* POS-09, POS-18: extra jwk members and extra claims are ignored. */
static void test_dpop_accept_extras(void **state)
{
    fx_t *f = *state;
    json_t *jwk = json_object_get(f->hdr, "jwk");

    json_object_set_new(jwk, "kid", json_string("my-key"));
    json_object_set_new(jwk, "alg", json_string("ES256"));
    json_object_set_new(jwk, "use", json_string("sig"));
    json_object_set(jwk, "key_ops", pt_json(f->p, "[\"verify\"]"));
    json_object_set_new(jwk, "ext", json_true());
    json_object_set_new(f->claims, "exp", json_integer(NOW + 60));
    json_object_set_new(f->claims, "custom", json_string("x"));
    json_object_set_new(f->hdr, "kid", json_string("my-key"));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

/* ------------------------------------------------------------------ header */

static void test_dpop_header(void **state)
{
    static const struct { const char *name, *json; } cases[] = {
        /* DPOP-02 (exact typ, documented in dpop.c), ALG-09 */
        { "typ", NULL }, { "typ", "\"JWT\"" }, { "typ", "\"ekey+jwt\"" },
        { "typ", "\"DPOP+JWT\"" }, { "typ", "\"application/dpop+jwt\"" }, { "typ", "5" },
        { "typ", "\"dpop+jwt \"" },
        /* DPOP-05 */
        { "jwk", NULL }, { "jwk", "\"eyJrdHkiOiJFQyJ9\"" }, { "jwk", "[]" }, { "jwk", "null" },
        /* ALG-12, DPOP-26 */
        { "jku", "\"https://attacker.example/jwks\"" }, { "x5u", "\"https://a.example/c\"" },
        { "x5c", "[\"MIIB\"]" }, { "crit", "[\"x-ext\"]" }, { "b64", "false" },
        { "zip", "\"DEF\"" },
    };
    fx_t *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->hdr = baseline_header(f, f->client);
        set_member(f, f->hdr, cases[i].name, cases[i].json);
        if (verify(f, sign_fx(f), NULL) != EKEY_E_PROOF)
            fail_msg("header case %zu (%s) not EKEY_E_PROOF", i, cases[i].name);
    }
    /* a kid instead of a jwk */
    f->hdr = pt_json(f->p, apr_psprintf(f->p, "{\"typ\":\"dpop+jwt\",\"kid\":\"%s\"}",
                                        ekey_jwk_thumbprint(f->client)));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF);
}

/* The proof key itself: DPOP-03, DPOP-06..08, DPOP-25, JWK-01..06. */
static void test_dpop_jwk(void **state)
{
    fx_t *f = *state;
    json_t *pub = ekey_jwk_to_json(f->client, f->p, 0);
    const char *x = json_string_value(json_object_get(pub, "x"));
    const char *y = json_string_value(json_object_get(pub, "y"));
    const char *bad[14];
    size_t i;

    bad[0] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\","
                          "\"d\":\"" RFC_JKT "\"}", x, y);
    bad[1] = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}";
    bad[2] = "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\",\"p\":\"AQAB\","
             "\"q\":\"AQAB\",\"dp\":\"AQAB\",\"dq\":\"AQAB\",\"qi\":\"AQAB\"}";
    bad[3] = "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}";
    bad[4] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\","
                          "\"alg\":\"ES384\"}", x, y);
    bad[5] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AAAAE\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}";
    bad[6] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
                          x, y);
    bad[7] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                          x, y);
    bad[8] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\","
                          "\"y\":\"%s\"}", x, y);
    bad[9] = apr_psprintf(f->p, "{\"kty\":\"ec\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                          x, y);
    bad[10] = apr_psprintf(f->p, "{\"kty\":\"EC \",\"crv\":\"P-256\",\"x\":\"%s\","
                           "\"y\":\"%s\"}", x, y);
    bad[11] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s=\","
                           "\"y\":\"%s\"}", x, y);
    bad[12] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", x);
    bad[13] = apr_psprintf(f->p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\","
                           "\"use\":\"enc\"}", x, y);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f->hdr = baseline_header(f, f->client);
        set_member(f, f->hdr, "jwk", bad[i]);
        if (verify(f, sign_fx(f), NULL) != EKEY_E_PROOF)
            fail_msg("jwk case %zu not EKEY_E_PROOF", i);
    }
    /* header alg ES384 over a P-256 jwk, signed over SHA-256 (DPOP-03, DPOP-25) */
    {
        char *hdr = apr_psprintf(f->p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES384\",\"jwk\":%s}",
                                 pt_dump(f->p, pub));
        assert_status(verify(f, pt_sign_text(f->p, f->client, hdr,
                                             pt_dump(f->p, f->claims)), NULL), EKEY_E_PROOF);
    }
    /* alg none / HS256 / es256 with the client's jwk (DPOP-03, DPOP-07) */
    {
        static const char *const algs[] = { "none", "HS256", "RS256", "es256", "EdDSA" };
        for (i = 0; i < 5; i++) {
            char *hdr = apr_psprintf(f->p, "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\",\"jwk\":%s}",
                                     algs[i], pt_dump(f->p, pub));
            if (verify(f, pt_sign_text(f->p, f->client, hdr, pt_dump(f->p, f->claims)), NULL)
                != EKEY_E_PROOF)
                fail_msg("alg %s accepted", algs[i]);
        }
    }
    /* JSON-04: two jwk members (victim's first, attacker's second, and the reverse) */
    {
        json_t *apub = ekey_jwk_to_json(f->attacker, f->p, 0);
        char *h1 = apr_psprintf(f->p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s,"
                                "\"jwk\":%s}", pt_dump(f->p, pub), pt_dump(f->p, apub));
        char *h2 = apr_psprintf(f->p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s,"
                                "\"jwk\":%s}", pt_dump(f->p, apub), pt_dump(f->p, pub));
        assert_status(verify(f, pt_sign_text(f->p, f->attacker, h1, pt_dump(f->p, f->claims)),
                             NULL), EKEY_E_PROOF);
        assert_status(verify(f, pt_sign_text(f->p, f->attacker, h2, pt_dump(f->p, f->claims)),
                             NULL), EKEY_E_PROOF);
    }
}

/* ----------------------------------------------------------------- framing */

static void test_dpop_framing(void **state)
{
    fx_t *f = *state;
    char *p1 = sign_fx(f), *p2, *big;
    ekey_mint_t m;
    ekey_jwk_t *issuer;
    char *tok;

    json_object_set_new(f->claims, "jti", json_string("jti-0002"));
    p2 = sign_fx(f);
    /* HDR-12: merged DPoP fields; stray whitespace */
    assert_status(verify(f, apr_pstrcat(f->p, p1, ", ", p2, NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, ",", p2, NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, ",", p1, NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, ",", NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, " ", p1, NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, "\t", NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, "\r\n", NULL), NULL), EKEY_E_PROOF);
    /* HDR-14: present but empty; DPOP-01: absent */
    assert_status(verify(f, "", NULL), EKEY_E_PROOF);
    assert_status(verify(f, NULL, NULL), EKEY_E_PROOF_MISSING);
    /* structure */
    assert_status(verify(f, "a.b", NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, ".x", NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, apr_pstrcat(f->p, p1, "=", NULL), NULL), EKEY_E_PROOF);
    assert_status(verify(f, "{\"payload\":\"x\"}", NULL), EKEY_E_PROOF);
    /* DOS-03: size limit before decoding */
    f->chk.max_len = strlen(p1);
    assert_status(verify(f, p1, NULL), EKEY_OK);
    f->chk.max_len = strlen(p1) - 1;
    assert_status(verify(f, p1, NULL), EKEY_E_PROOF);
    f->chk.max_len = 0;
    big = apr_palloc(f->p, 6001);
    memset(big, 'A', 6000);
    big[6000] = '\0';
    assert_status(verify(f, big, NULL), EKEY_E_PROOF);
    /* ALG-09: an E-Key where a proof belongs */
    assert_status(ekey_jwk_generate(&issuer, f->p, EKEY_ALG_ES256, NULL), EKEY_OK);
    memset(&m, 0, sizeof(m));
    m.iss = "https://issuer.example";
    m.sub = "agent";
    m.aud = "https://api.example.com";
    m.action = "POST:/payments";
    m.limit = 1;
    m.now = NOW;
    m.ttl = 30;
    m.bind = EKEY_BIND_DPOP;
    m.jkt = ekey_jwk_thumbprint(f->client);
    assert_status(ekey_token_mint(&tok, NULL, f->p, &m, issuer, NULL), EKEY_OK);
    assert_status(verify(f, tok, NULL), EKEY_E_PROOF);
    /* a proof signed by the client's key with typ ekey+jwt: still not a proof */
    set_member(f, f->hdr, "typ", "\"ekey+jwt\"");
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF);
}

static void test_dpop_args(void **state)
{
    fx_t *f = *state;
    char *proof = sign_fx(f);
    ekey_dpop_t *d = (ekey_dpop_t *)&d;
    ekey_dpop_check_t chk = f->chk;

    assert_status(ekey_dpop_verify(&d, f->p, proof, strlen(proof), NULL, NULL),
                  EKEY_E_INVALID_ARG);
    assert_null(d);
    assert_status(ekey_dpop_verify(NULL, f->p, proof, strlen(proof), &f->chk, NULL),
                  EKEY_E_INVALID_ARG);
    assert_status(ekey_dpop_verify(&d, NULL, proof, strlen(proof), &f->chk, NULL),
                  EKEY_E_INVALID_ARG);
    f->chk.method = NULL;
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk.method = "";
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    f->chk.htu = NULL;
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    f->chk.htu = "api.example.com/payments";               /* not a URL: our bug, not theirs */
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    f->chk.now = -1;
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    f->chk.skew = -1;
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    f->chk.max_age = -1;
    assert_status(verify(f, proof, NULL), EKEY_E_INVALID_ARG);
    f->chk = chk;
    /* DPOP-14: HEAD request, proof for GET */
    f->chk.method = "HEAD";
    json_object_set_new(f->claims, "htm", json_string("GET"));
    assert_status(verify(f, sign_fx(f), NULL), EKEY_E_PROOF_HTM);
    f->chk.method = "GET";
    assert_status(verify(f, sign_fx(f), NULL), EKEY_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(test_dpop_rfc_fig2),
        FX(test_dpop_rfc_fig13),
        FX(test_dpop_create),
        FX(test_dpop_create_rejects),
        FX(test_dpop_algs),
        FX(test_dpop_accept_and_forgery),
        FX(test_dpop_accept_extras),
        FX(test_dpop_header),
        FX(test_dpop_jwk),
        FX(test_dpop_framing),
        FX(test_dpop_args),
    };
    return ekey_test_main(tests);
}
