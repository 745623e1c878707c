/* test_jws.c - JWS compact parse/verify/sign: RFC vectors, SIG-*, ALG-*, B64-* cases. */
#include "ekey_test.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* RFC 7515 Appendix A.3 (ES256). */
#define A3_HDR "eyJhbGciOiJFUzI1NiJ9"
#define A3_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define A3_SIG "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
#define A3_JWS A3_HDR "." A3_PAYLOAD "." A3_SIG
#define A3_JWK "{\"kty\":\"EC\",\"crv\":\"P-256\"," \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
/* RFC 8037 A.4 (EdDSA, a non-JSON payload). */
#define ED_JWS "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
#define ED_JWK "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"," \
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
/* SECURITY-CASES §3. */
#define SIG_ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define SIG_R_S_N "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVH_____AAAAAP__________vOb6racXnoTzucrC_GMlUQ"
#define NONE_HDR "eyJhbGciOiJub25lIiwidHlwIjoiZWtleStqd3QifQ"
#define P256_N "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

static ekey_jwk_t *key_from(apr_pool_t *p, const char *json)
{
    json_t *j;
    ekey_jwk_t *k;

    assert_int_equal(ekey_json_parse(&j, p, json, strlen(json), 0, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_parse(&k, p, j, NULL), EKEY_OK);
    return k;
}

static ekey_status_t parse(apr_pool_t *p, const char *c, unsigned algs, int allow,
                           ekey_jws_t **out)
{
    ekey_jws_t *j = (ekey_jws_t *)1;
    ekey_status_t st = ekey_jws_parse(&j, p, c, strlen(c), 0, algs, allow, NULL);

    if (st != EKEY_OK)
        assert_null(j);
    if (out != NULL)
        *out = j;
    return st;
}

/* parse + verify; the status of whichever fails first. */
static ekey_status_t check(apr_pool_t *p, const char *c, unsigned algs, const ekey_jwk_t *k)
{
    ekey_jws_t *j;
    ekey_status_t st = parse(p, c, algs, 0, &j);

    return st != EKEY_OK ? st : ekey_jws_verify(j, k, NULL);
}

static const char *b64s(apr_pool_t *p, const char *s)
{
    return ekey_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

static const char *with_hdr(apr_pool_t *p, const char *hdr_json, const char *sig_b64)
{
    return apr_pstrcat(p, b64s(p, hdr_json), ".", A3_PAYLOAD, ".", sig_b64, NULL);
}

static const char *with_sig(apr_pool_t *p, const unsigned char *sig, apr_size_t n)
{
    return apr_pstrcat(p, A3_HDR "." A3_PAYLOAD ".", ekey_b64url_encode(p, sig, n), NULL);
}

static void test_rfc_vectors(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *a3 = key_from(p, A3_JWK), *ed = key_from(p, ED_JWK);
    ekey_jws_t *j;
    json_t *pl;
    apr_int64_t exp;
    unsigned char sig[64];
    int bit;

    assert_int_equal(parse(p, A3_JWS, EKEY_ALGS_DEFAULT, 0, &j), EKEY_OK);
    assert_int_equal(j->alg, EKEY_ALG_ES256);
    assert_string_equal(j->signing_input, A3_HDR "." A3_PAYLOAD);
    assert_int_equal(j->signing_input_len, strlen(A3_HDR "." A3_PAYLOAD));
    assert_int_equal(j->payload_b64_len, strlen(A3_PAYLOAD));
    assert_memory_equal(j->payload_b64, A3_PAYLOAD, j->payload_b64_len);
    assert_int_equal(j->sig_len, 64);
    assert_null(j->typ);
    assert_null(j->kid);
    assert_int_equal(ekey_jws_verify(j, a3, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_payload(&pl, p, j, 0, NULL), EKEY_OK);
    assert_int_equal(ekey_json_get_int(&exp, NULL, pl, "exp", 1, EKEY_E_CLAIMS, NULL), EKEY_OK);
    assert_int_equal(exp, 1300819380);
    /* Any single flipped bit of the signature fails (DPOP-04 style). */
    memcpy(sig, j->sig, 64);
    for (bit = 0; bit < 512; bit += 37) {
        sig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(check(p, with_sig(p, sig, 64), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
        sig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    assert_int_equal(check(p, with_sig(p, sig, 64), EKEY_ALG_ES256, a3), EKEY_OK);
    /* A one-character change of the payload (same length, valid base64url). */
    assert_int_equal(check(p, A3_HDR ".fyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6"
                              "Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ." A3_SIG,
                           EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    /* RFC 8037 A.4 EdDSA. */
    assert_int_equal(parse(p, ED_JWS, EKEY_ALG_EDDSA, 0, &j), EKEY_OK);
    assert_int_equal(ekey_jws_verify(j, ed, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_payload(&pl, p, j, 0, NULL), EKEY_E_JSON);  /* not JSON */
    j->sig[0] ^= 1;
    assert_int_equal(ekey_jws_verify(j, ed, NULL), EKEY_E_SIGNATURE);
}

/* raw A.3 signature with r or s replaced by a 32-byte big-endian hex value */
static const char *sig_part(apr_pool_t *p, const unsigned char *orig, int which, const char *hex)
{
    unsigned char sig[64];
    BIGNUM *bn = NULL;

    memcpy(sig, orig, 64);
    assert_true(BN_hex2bn(&bn, hex) > 0);
    assert_int_equal(BN_bn2binpad(bn, sig + 32 * which, 32), 32);
    BN_free(bn);
    return with_sig(p, sig, 64);
}

static void test_sig_cases(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *a3 = key_from(p, A3_JWK);
    unsigned char raw[64], der[80], *q = der, *orig;
    apr_size_t n;
    BIGNUM *r, *s, *ord = NULL, *hs;
    ECDSA_SIG *es;
    int derlen;
    ekey_error_t err;

    assert_int_equal(ekey_b64url_decode(&orig, &n, p, A3_SIG, strlen(A3_SIG), NULL), EKEY_OK);
    /* SIG-01 psychic signature, SIG-03 r = s = n. */
    assert_int_equal(check(p, A3_HDR "." A3_PAYLOAD "." SIG_ZERO, EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    assert_int_equal(check(p, A3_HDR "." A3_PAYLOAD "." SIG_R_S_N, EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    /* SIG-02 r = 0 or s = 0 with the real other half; r or s = n, n + 1, 2^256 - 1. */
    assert_int_equal(check(p, sig_part(p, orig, 0, "0"), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    assert_int_equal(check(p, sig_part(p, orig, 1, "0"), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    assert_int_equal(check(p, sig_part(p, orig, 0, P256_N), EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    assert_int_equal(check(p, sig_part(p, orig, 1, P256_N), EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    assert_int_equal(check(p, sig_part(p, orig, 1, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA"
                                                   "7179E84F3B9CAC2FC632552"),
                           EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    memset(raw, 0xff, sizeof(raw));
    assert_int_equal(check(p, with_sig(p, raw, 64), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    /* The range check names itself (it ran before OpenSSL). */
    {
        ekey_jws_t *j;
        assert_int_equal(parse(p, sig_part(p, orig, 1, "0"), EKEY_ALG_ES256, 0, &j), EKEY_OK);
        assert_int_equal(ekey_jws_verify(j, a3, &err), EKEY_E_SIGNATURE);
        assert_non_null(strstr(err.text, "range"));
    }
    /* POS-13: the high-S twin s' = n - s verifies too. */
    assert_true(BN_hex2bn(&ord, P256_N) > 0);
    s = BN_bin2bn(orig + 32, 32, NULL);
    hs = BN_new();
    assert_int_equal(BN_sub(hs, ord, s), 1);
    memcpy(raw, orig, 32);
    assert_int_equal(BN_bn2binpad(hs, raw + 32, 32), 32);
    assert_int_equal(check(p, with_sig(p, raw, 64), EKEY_ALG_ES256, a3), EKEY_OK);
    /* SIG-04: the DER form of the same (valid) signature is refused by length. */
    r = BN_bin2bn(orig, 32, NULL);
    es = ECDSA_SIG_new();
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    derlen = i2d_ECDSA_SIG(es, &q);
    assert_true(derlen >= 70 && derlen <= 72);
    assert_int_equal(check(p, with_sig(p, der, (apr_size_t)derlen), EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    ECDSA_SIG_free(es);
    BN_free(hs);
    BN_free(ord);
    /* SIG-05: 63, 65, 66 bytes; r with a 00 prefix. */
    assert_int_equal(check(p, with_sig(p, orig, 63), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    memcpy(der, "\0", 1);
    memcpy(der + 1, orig, 64);
    assert_int_equal(check(p, with_sig(p, der, 65), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    memcpy(der + 65, "\0", 1);
    assert_int_equal(check(p, with_sig(p, der, 66), EKEY_ALG_ES256, a3), EKEY_E_SIGNATURE);
    /* SIG-07: same JSON, other whitespace: the old signature must not carry over. */
    assert_int_equal(check(p, with_hdr(p, "{\"alg\": \"ES256\"}", A3_SIG), EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
    assert_int_equal(check(p, with_hdr(p, "{\"alg\":\"ES256\" }", A3_SIG), EKEY_ALG_ES256, a3),
                     EKEY_E_SIGNATURE);
}

static void test_alg_cases(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *a3 = key_from(p, A3_JWK), *ed = key_from(p, ED_JWK);
    static const char *const bad_alg_hdrs[] = {
        "{\"alg\":\"none\"}", "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}", "{\"alg\":\"nOnE\"}",
        "{\"alg\":\"es256\"}", "{\"alg\":\"Es256\"}", "{\"alg\":\"ES256 \"}",
        "{\"alg\":\"HS256\"}", "{\"alg\":\"RS256\"}", "{\"alg\":\"PS256\"}",
        "{\"alg\":\"ES512\"}", "{\"alg\":\"ES256K\"}", "{\"alg\":\"\"}",
        "{\"typ\":\"ekey+jwt\"}", "{\"alg\":null}", "{\"alg\":[\"ES256\"]}", "{\"alg\":256}",
        "{\"alg\":{\"v\":\"ES256\"}}",
    };
    const char *pem = ekey_test_read_file(p, "crypto/rfc7515-a3-p256.pub.pem", NULL);
    const char *si = A3_HDR "." A3_PAYLOAD, *tok;
    unsigned char mac[32];
    unsigned int maclen = 0;
    ekey_jws_t *j;
    size_t i;

    for (i = 0; i < sizeof(bad_alg_hdrs) / sizeof(bad_alg_hdrs[0]); i++) {
        if (parse(p, with_hdr(p, bad_alg_hdrs[i], A3_SIG), EKEY_ALGS_ALL, 0, NULL) != EKEY_E_ALG)
            fail_msg("alg header accepted: %s", bad_alg_hdrs[i]);
    }
    /* ALG-01/02: none with an empty signature is a framing error, with one an alg error. */
    assert_int_equal(parse(p, NONE_HDR "." A3_PAYLOAD ".", EKEY_ALGS_ALL, 0, NULL), EKEY_E_FORMAT);
    assert_int_equal(parse(p, NONE_HDR "." A3_PAYLOAD "." A3_SIG, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_ALG);
    /* ALG-04: HS256 keyed with the issuer's public key (PEM text and JWK JSON). */
    HMAC(EVP_sha256(), pem, (int)strlen(pem), (const unsigned char *)si, strlen(si), mac, &maclen);
    tok = apr_pstrcat(p, b64s(p, "{\"alg\":\"HS256\"}"), "." A3_PAYLOAD ".",
                      ekey_b64url_encode(p, mac, maclen), NULL);
    assert_int_equal(check(p, tok, EKEY_ALGS_ALL, a3), EKEY_E_ALG);
    HMAC(EVP_sha256(), A3_JWK, (int)strlen(A3_JWK), (const unsigned char *)si, strlen(si), mac,
         &maclen);
    tok = apr_pstrcat(p, b64s(p, "{\"alg\":\"HS256\"}"), "." A3_PAYLOAD ".",
                      ekey_b64url_encode(p, mac, maclen), NULL);
    assert_int_equal(check(p, tok, EKEY_ALGS_ALL, a3), EKEY_E_ALG);
    /* ALG-05: allowlist. ES384 / EdDSA are refused unless listed. */
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES384\"}", A3_SIG), EKEY_ALG_ES256, 0,
                           NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, ED_JWS, EKEY_ALG_ES256, 0, NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, ED_JWS, EKEY_ALG_ES256 | EKEY_ALG_ES384, 0, NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, A3_JWS, EKEY_ALG_EDDSA, 0, NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, A3_JWS, 0, 0, NULL), EKEY_E_ALG);           /* empty allowlist */
    /* The key decides: a header alg that is not the key's alg. */
    assert_int_equal(parse(p, ED_JWS, EKEY_ALGS_ALL, 0, &j), EKEY_OK);
    assert_int_equal(ekey_jws_verify(j, a3, NULL), EKEY_E_ALG);
    assert_int_equal(parse(p, A3_JWS, EKEY_ALGS_ALL, 0, &j), EKEY_OK);
    assert_int_equal(ekey_jws_verify(j, ed, NULL), EKEY_E_ALG);
    /* ES384 header with 96 bytes against a P-256 key. */
    {
        unsigned char s96[96];
        memset(s96, 1, sizeof(s96));
        tok = apr_pstrcat(p, b64s(p, "{\"alg\":\"ES384\"}"), "." A3_PAYLOAD ".",
                          ekey_b64url_encode(p, s96, 96), NULL);
        assert_int_equal(parse(p, tok, EKEY_ALGS_ALL, 0, &j), EKEY_OK);
        assert_int_equal(ekey_jws_verify(j, a3, NULL), EKEY_E_ALG);
        /* and ES384 with a 64-byte signature is a length error */
        assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES384\"}", A3_SIG), EKEY_ALGS_ALL,
                               0, NULL), EKEY_E_SIGNATURE);
    }
}

static void test_header_cases(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const forbidden[] = {
        "\"jku\":\"https://evil.example/jwks\"", "\"x5u\":\"http://169.254.169.254/\"",
        "\"x5c\":[\"MIIB\"]", "\"crit\":[\"x-ext\"],\"x-ext\":1", "\"crit\":[]",
        "\"b64\":false,\"crit\":[\"b64\"]", "\"b64\":true", "\"zip\":\"DEF\"",
    };
    const char *h;
    ekey_jws_t *j;
    size_t i;

    for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        h = apr_pstrcat(p, "{\"alg\":\"ES256\",", forbidden[i], "}", NULL);
        /* refused whether or not an embedded jwk is allowed */
        assert_int_equal(parse(p, with_hdr(p, h, A3_SIG), EKEY_ALGS_ALL, 0, NULL), EKEY_E_HEADER);
        assert_int_equal(parse(p, with_hdr(p, h, A3_SIG), EKEY_ALGS_ALL, 1, NULL), EKEY_E_HEADER);
    }
    /* jwk: only where the caller allows it (DPoP). */
    h = "{\"alg\":\"ES256\",\"jwk\":" A3_JWK "}";
    assert_int_equal(parse(p, with_hdr(p, h, A3_SIG), EKEY_ALGS_ALL, 0, NULL), EKEY_E_HEADER);
    assert_int_equal(parse(p, with_hdr(p, h, A3_SIG), EKEY_ALGS_ALL, 1, &j), EKEY_OK);
    assert_true(json_is_object(json_object_get(j->header, "jwk")));
    /* typ and kid: strings or absent. */
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES256\",\"typ\":\"ekey+jwt\",\"kid\":\"k1\","
                                          "\"x-unknown\":1}", A3_SIG), EKEY_ALGS_ALL, 0, &j),
                     EKEY_OK);
    assert_string_equal(j->typ, "ekey+jwt");
    assert_string_equal(j->kid, "k1");
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES256\",\"typ\":5}", A3_SIG),
                           EKEY_ALGS_ALL, 0, NULL), EKEY_E_TYP);
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES256\",\"kid\":[\"k1\"]}", A3_SIG),
                           EKEY_ALGS_ALL, 0, NULL), EKEY_E_KID);
    /* JSON-01 duplicates, B64-12/13 not one object. */
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES256\",\"alg\":\"none\"}", A3_SIG),
                           EKEY_ALGS_ALL, 0, NULL), EKEY_E_JSON);
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"none\",\"alg\":\"ES256\"}", A3_SIG),
                           EKEY_ALGS_ALL, 0, NULL), EKEY_E_JSON);
    assert_int_equal(parse(p, with_hdr(p, "{\"alg\":\"ES256\"}xyz", A3_SIG), EKEY_ALGS_ALL, 0,
                           NULL), EKEY_E_JSON);
    assert_int_equal(parse(p, with_hdr(p, "[\"ES256\"]", A3_SIG), EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_JSON);
    assert_int_equal(parse(p, with_hdr(p, "\"ES256\"", A3_SIG), EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_JSON);
    assert_int_equal(parse(p, with_hdr(p, "\xef\xbb\xbf{\"alg\":\"ES256\"}", A3_SIG),
                           EKEY_ALGS_ALL, 0, NULL), EKEY_E_JSON);
}

static void test_framing(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const struct {
        const char *c;
        ekey_status_t st;
    } cases[] = {
        { A3_HDR "." A3_PAYLOAD, EKEY_E_FORMAT },                         /* B64-01 */
        { A3_JWS ".x", EKEY_E_FORMAT },                                   /* B64-02 */
        { A3_JWS ".x.y", EKEY_E_FORMAT },
        { A3_JWS ".", EKEY_E_FORMAT },
        { A3_HDR "." A3_PAYLOAD ".", EKEY_E_FORMAT },                    /* B64-03 */
        { "." A3_PAYLOAD "." A3_SIG, EKEY_E_FORMAT },
        { A3_HDR ".." A3_SIG, EKEY_E_FORMAT },
        { "..", EKEY_E_FORMAT },
        { "", EKEY_E_FORMAT },
        { A3_HDR, EKEY_E_FORMAT },
        { "{\"payload\":\"eyJ\",\"protected\":\"eyJ\",\"signature\":\"AA\"}", EKEY_E_FORMAT },
        { A3_HDR "=." A3_PAYLOAD "." A3_SIG, EKEY_E_BASE64 },            /* B64-04 */
        { A3_HDR "." A3_PAYLOAD "==." A3_SIG, EKEY_E_BASE64 },
        { A3_JWS "==", EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD ".DtEhU3ljbEg8L38VWAfUAqOyKAM6+Xx+F4GawxaepmXFCgfTjDxw5djxLa8I"
          "SlSApmWQxfKTUJqPP3+Kg6NU1Q", EKEY_E_BASE64 },                 /* B64-05 */
        { A3_HDR "." A3_PAYLOAD ".DtEhU3ljbEg8L38VWAfUAqOyKAM6/Xx-F4GawxaepmXFCgfTjDxw5djxLa8I"
          "SlSApmWQxfKTUJqPP3-Kg6NU1Q", EKEY_E_BASE64 },
        { A3_HDR " ." A3_PAYLOAD "." A3_SIG, EKEY_E_BASE64 },            /* B64-06 */
        { A3_HDR "." A3_PAYLOAD ".\n" A3_SIG, EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD "." A3_SIG "\r", EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD ".\t" A3_SIG, EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8I"
          "SlSApmWQxfKTUJqPP3-Kg6NU1R", EKEY_E_BASE64 },                 /* B64-07 */
        { A3_HDR "." A3_PAYLOAD ".BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAAAAAAAAAB", EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD ".AAA" A3_SIG, EKEY_E_BASE64 },          /* B64-08: 89 chars */
        { A3_HDR "." A3_PAYLOAD ".A" A3_SIG, EKEY_E_SIGNATURE },         /* 87 chars, 65 bytes */
        { A3_HDR "x." A3_PAYLOAD "." A3_SIG, EKEY_E_BASE64 },
        { A3_HDR "." A3_PAYLOAD "." "\xc3\xa9" A3_SIG, EKEY_E_BASE64 },  /* HDR-16 */
        { A3_HDR "." A3_PAYLOAD ".~" A3_SIG, EKEY_E_BASE64 },            /* HDR-11 */
    };
    size_t i;
    static const char nul_tok[] = A3_HDR "." A3_PAYLOAD "." A3_SIG "\0AA";
    ekey_jws_t *j;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ekey_status_t st = parse(p, cases[i].c, EKEY_ALGS_ALL, 0, NULL);
        if (st != cases[i].st)
            fail_msg("framing case #%zu: got %s, want %s", i, ekey_status_name(st),
                     ekey_status_name(cases[i].st));
    }
    /* An embedded NUL within len is not the end of the token. */
    assert_int_equal(ekey_jws_parse(&j, p, nul_tok, sizeof(nul_tok) - 1, 0, EKEY_ALGS_ALL, 0,
                                    NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_jws_parse(&j, p, NULL, 0, 0, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_INVALID_ARG);
}

static void test_size_limits(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    apr_size_t len = strlen(A3_JWS);
    ekey_jws_t *j;
    json_t *pl;
    char *big;
    apr_size_t n = 5000;

    /* DOS-01: the limit is checked first, so even garbage over it is TOO_LARGE. */
    assert_int_equal(ekey_jws_parse(&j, p, A3_JWS, len, len, EKEY_ALGS_ALL, 0, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_parse(&j, p, A3_JWS, len, len - 1, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_TOO_LARGE);
    assert_null(j);
    big = apr_palloc(p, n + 1);
    memset(big, '.', n);
    big[n] = '\0';
    assert_int_equal(ekey_jws_parse(&j, p, big, n, 0, EKEY_ALGS_ALL, 0, NULL), EKEY_E_TOO_LARGE);
    assert_int_equal(ekey_jws_parse(&j, p, big, EKEY_MAX_TOKEN_LEN, 0, EKEY_ALGS_ALL, 0, NULL),
                     EKEY_E_FORMAT);
    assert_int_equal(ekey_jws_parse(&j, p, big, n, n, EKEY_ALGS_ALL, 0, NULL), EKEY_E_FORMAT);
    /* Payload limit of its own. */
    assert_int_equal(parse(p, A3_JWS, EKEY_ALGS_ALL, 0, &j), EKEY_OK);
    assert_int_equal(ekey_jws_payload(&pl, p, j, 20, NULL), EKEY_E_TOO_LARGE);
    assert_null(pl);
    assert_int_equal(ekey_jws_payload(&pl, p, j, 0, NULL), EKEY_OK);
}

static void test_sign_roundtrip(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const ekey_alg_t algs[] = { EKEY_ALG_ES256, EKEY_ALG_ES384, EKEY_ALG_EDDSA };
    static const apr_size_t siglen[] = { 64, 96, 64 };
    ekey_jwk_t *k, *other, *pub;
    json_t *hdr, *pl, *got;
    ekey_jws_t *j;
    char *tok;
    size_t i;
    int round;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        assert_int_equal(ekey_jwk_generate(&k, p, algs[i], NULL), EKEY_OK);
        assert_int_equal(ekey_jwk_generate(&other, p, algs[i], NULL), EKEY_OK);
        assert_int_equal(ekey_jwk_parse(&pub, p, ekey_jwk_to_json(k, p, 1), NULL), EKEY_OK);
        hdr = ekey_json_own(p, json_pack("{s:s,s:s,s:s}", "alg", "none", "typ", "ekey+jwt",
                                         "kid", ekey_jwk_thumbprint(k)));
        pl = ekey_json_own(p, json_pack("{s:s,s:i}", "sub", "agent-123", "n", 7));
        /* Many rounds: ECDSA r or s with leading zero bytes must still be 32/48 wide. */
        for (round = 0; round < (algs[i] == EKEY_ALG_EDDSA ? 3 : 200); round++) {
            assert_int_equal(ekey_jws_sign(&tok, p, hdr, pl, k, NULL), EKEY_OK);
            assert_int_equal(parse(p, tok, EKEY_ALGS_ALL, 0, &j), EKEY_OK);
            assert_int_equal(j->sig_len, siglen[i]);
            assert_int_equal(ekey_jws_verify(j, pub, NULL), EKEY_OK);
        }
        /* header alg comes from the key, first; the caller's members follow. */
        assert_int_equal(strncmp(tok, "eyJhbGciOi", 10), 0);
        assert_int_equal(j->alg, algs[i]);
        assert_string_equal(json_string_value(json_object_get(j->header, "alg")),
                            ekey_alg_name(algs[i]));
        assert_string_equal(j->typ, "ekey+jwt");
        assert_string_equal(j->kid, ekey_jwk_thumbprint(k));
        assert_int_equal(ekey_jws_payload(&got, p, j, 0, NULL), EKEY_OK);
        assert_true(json_equal(got, pl));
        /* SIG-09: a valid signature by another key of the same alg. */
        assert_int_equal(ekey_jws_verify(j, other, NULL), EKEY_E_SIGNATURE);
        /* Only the allowlisted alg parses. */
        assert_int_equal(parse(p, tok, EKEY_ALGS_ALL & ~(unsigned)algs[i], 0, NULL), EKEY_E_ALG);
        /* A public key cannot sign. */
        assert_int_equal(ekey_jws_sign(&tok, p, hdr, pl, pub, NULL), EKEY_E_INVALID_ARG);
        assert_null(tok);
    }
    /* NULL header is allowed; non-object payload is not. */
    assert_int_equal(ekey_jws_sign(&tok, p, NULL, pl, k, NULL), EKEY_OK);
    assert_int_equal(ekey_jws_sign(&tok, p, NULL, ekey_json_own(p, json_array()), k, NULL),
                     EKEY_E_INVALID_ARG);
}

static void test_verify_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *a3 = key_from(p, A3_JWK);
    ekey_jws_t *j, copy;

    assert_int_equal(parse(p, A3_JWS, EKEY_ALG_ES256, 0, &j), EKEY_OK);
    assert_int_equal(ekey_jws_verify(NULL, a3, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_jws_verify(j, NULL, NULL), EKEY_E_INVALID_ARG);
    /* A hand-built jws with a short signature is refused, not read past its end. */
    copy = *j;
    copy.sig_len = 32;
    assert_int_equal(ekey_jws_verify(&copy, a3, NULL), EKEY_E_SIGNATURE);
    copy = *j;
    copy.alg = EKEY_ALG_NONE;
    assert_int_equal(ekey_jws_verify(&copy, a3, NULL), EKEY_E_ALG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_rfc_vectors),
        EKEY_TEST(test_sig_cases),
        EKEY_TEST(test_alg_cases),
        EKEY_TEST(test_header_cases),
        EKEY_TEST(test_framing),
        EKEY_TEST(test_size_limits),
        EKEY_TEST(test_sign_roundtrip),
        EKEY_TEST(test_verify_args),
    };
    return ekey_test_main(tests);
}
