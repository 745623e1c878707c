/* test_jwk.c - JWK import, RFC 7638 thumbprints, PEM load/save, key generation, the
 * EVP_PKEY a P-256 key gets only on demand. */
#include "ekey_test.h"
#include "ecdsa_oracle.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* RFC 9449 Figure 4 key and its thumbprint (RFC 9449 Figure 9, SECURITY-CASES §3). */
#define X9449 "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"
#define Y9449 "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
#define JKT9449 "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define EC9449(extra) "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"" extra "}"
/* RFC 7515 A.3 key (fixture rfc7515-a3-p256.pem). */
#define XA3 "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define YA3 "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define JKTA3 "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
/* RFC 8037 A.2/A.3 Ed25519 key and thumbprint. */
#define XED "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define OKP_X(x) "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" x "\"}"
#define JKTED "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
/* P-384 fixture p384.pem. */
#define X384 "o93Pzh_iEhG0Tznmzq95RZOk4m1Ui1M_OuxvCI9UyMGgpljucwcYVYQj7Dg2Ir63"
#define Y384 "jc8eqj1zFsW5Udi5IaXkiWLy9-_qdBefbK4oLigHAuRlXp_VSowX1WXs-rVL6Rlu"
#define JKT384 "kyIL6wPdFlGu_tSFRIWlMq4Uz0daVuOEOYhzak68cNA"
/* RFC 7638 §3.1 RSA example. */
#define N7638 "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define JKT7638 "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/* The P-256 point (0, sqrt(b)) is on the curve; x = 0 + p is the same x mod p. */
#define X_ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define X_P "_____wAAAAEAAAAAAAAAAAAAAAD_______________8"
#define Y_ZERO "ZkhceA4vg9ckM71dhKBrtlQcKvMdrocXKL-FahdPk_Q"
#define ONE32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"
#define EC_XY(x, y) "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" x "\",\"y\":\"" y "\"}"

static json_t *js(apr_pool_t *p, const char *s)
{
    json_t *j = NULL;
    if (ekey_json_parse(&j, p, s, strlen(s), 0, NULL) != EKEY_OK)
        fail_msg("fixture JSON does not parse: %s", s);
    return j;
}

static ekey_status_t parse_str(apr_pool_t *p, const char *s, ekey_jwk_t **out)
{
    ekey_jwk_t *k = (ekey_jwk_t *)1;
    ekey_status_t st = ekey_jwk_parse(&k, p, js(p, s), NULL);

    if (st != EKEY_OK)
        assert_null(k);
    if (out != NULL)
        *out = k;
    return st;
}

static const char *const good_jwks[][2] = {
    { EC9449(""), JKT9449 },
    /* POS-09/POS-10: extra members, other order, whitespace: same thumbprint. */
    { EC9449(",\"kid\":\"k1\",\"alg\":\"ES256\",\"use\":\"sig\",\"key_ops\":[\"verify\"],"
             "\"ext\":true"), JKT9449 },
    { " { \"y\" : \"" Y9449 "\" , \"x\":\"" X9449 "\",\n\"crv\":\"P-256\",\"kty\":\"EC\" } ",
      JKT9449 },
    /* members RFC 7517 does not define for this key are ignored (§4): WebCrypto's export
     * (ext, key_ops) and others; key_ops naming verify among other operations */
    { EC9449(",\"key_ops\":[\"sign\",\"verify\"],\"x5u\":\"https://x.example/c\",\"n\":\"AQAB\""),
      JKT9449 },
    { "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\",\"y\":\"AA\",\"kid\":\"\"}", JKTED },
    { EC_XY(XA3, YA3), JKTA3 },
    { EC_XY(X_ZERO, Y_ZERO), NULL },                     /* x = 0 is a valid point */
    { "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\"}", JKTED },
    { "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\",\"alg\":\"EdDSA\"}", JKTED },
    { "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" X384 "\",\"y\":\"" Y384 "\"}", JKT384 },
};

static void test_parse_good(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *k;
    size_t i;

    for (i = 0; i < sizeof(good_jwks) / sizeof(good_jwks[0]); i++) {
        if (parse_str(p, good_jwks[i][0], &k) != EKEY_OK)
            fail_msg("rejected good JWK #%zu", i);
        assert_false(ekey_jwk_has_private(k));
        assert_non_null(ekey_jwk_pkey(k));
        assert_int_equal(strlen(ekey_jwk_thumbprint(k)), EKEY_JKT_LEN);
        if (good_jwks[i][1] != NULL)
            assert_string_equal(ekey_jwk_thumbprint(k), good_jwks[i][1]);
    }
    assert_int_equal(parse_str(p, EC9449(""), &k), EKEY_OK);
    assert_int_equal(ekey_jwk_alg(k), EKEY_ALG_ES256);
    assert_int_equal(parse_str(p, good_jwks[7][0], &k), EKEY_OK);
    assert_int_equal(ekey_jwk_alg(k), EKEY_ALG_EDDSA);
    assert_int_equal(parse_str(p, good_jwks[9][0], &k), EKEY_OK);
    assert_int_equal(ekey_jwk_alg(k), EKEY_ALG_ES384);
}

/* Each must be EKEY_E_JWK. */
static const char *const bad_jwks[] = {
    /* DPOP-06/08, private members of every type */
    EC9449(",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\""),
    EC9449(",\"d\":\"\""),
    EC9449(",\"p\":\"AQAB\""), EC9449(",\"q\":\"AQAB\""), EC9449(",\"dp\":\"AQAB\""),
    EC9449(",\"dq\":\"AQAB\""), EC9449(",\"qi\":\"AQAB\""), EC9449(",\"k\":\"AQAB\""),
    EC9449(",\"oth\":[]"),
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\","
    "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
    "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",                              /* DPOP-07 */
    "{\"kty\":\"RSA\",\"n\":\"" N7638 "\",\"e\":\"AQAB\"}",               /* unsupported */
    /* JWK-04 kty spelling, JWK-03 crv spelling */
    "{\"kty\":\"ec\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC \",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":5,\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    /* kty/crv mismatch */
    "{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" XED "\"}",
    "{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
    "{\"kty\":\"OKP\",\"crv\":\"ed25519\",\"x\":\"" XED "\"}",
    "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" XED "\"}",
    /* coordinates: JWK-06 encodings, lengths, missing, types */
    EC_XY(X9449 "=", Y9449),
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx+34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs\","
    "\"y\":\"" Y9449 "\"}",
    EC_XY("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFt", Y9449),  /* non-canonical */
    EC_XY("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBF", Y9449),   /* 42 chars */
    EC_XY("Al8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", Y9449), /* 44 chars, 33 bytes */
    EC_XY("", Y9449),
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":5}",
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}",
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}",
    /* JWK-01 off the curve, and x >= p (would be a valid point if reduced mod p) */
    EC_XY(ONE32, ONE32),
    EC_XY(X9449, YA3),
    EC_XY(X_P, Y_ZERO),
    /* DPOP-25 alg must fit the key; use must be sig */
    EC9449(",\"alg\":\"ES384\""), EC9449(",\"alg\":\"RS256\""), EC9449(",\"alg\":\"es256\""),
    EC9449(",\"alg\":\"none\""), EC9449(",\"alg\":5"),
    EC9449(",\"use\":\"enc\""), EC9449(",\"use\":\"SIG\""), EC9449(",\"use\":true"),
    /* the members RFC 7517 defines must say the same: kid a string, key_ops an array of
     * distinct strings naming verify */
    EC9449(",\"kid\":5"), EC9449(",\"kid\":null"), EC9449(",\"kid\":[\"a\"]"),
    EC9449(",\"key_ops\":\"verify\""), EC9449(",\"key_ops\":[\"encrypt\"]"),
    EC9449(",\"key_ops\":[]"), EC9449(",\"key_ops\":[\"verify\",\"verify\"]"),
    EC9449(",\"key_ops\":[\"verify\",1]"), EC9449(",\"key_ops\":null"),
    EC9449(",\"key_ops\":[\"verify\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]"),
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\",\"alg\":\"ES256\"}",
    /* Ed25519 points of small order (orders 4, 1, 2, 8, 8; either sign of x), for which a
     * signature verifies without a private key, and encodings of y >= p */
    OKP_X("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    OKP_X("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA"),
    OKP_X("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    OKP_X("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA"),
    OKP_X("7P_______________________________________38"),
    OKP_X("7P________________________________________8"),
    OKP_X("JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU"),
    OKP_X("JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_IU"),
    OKP_X("xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA3o"),
    OKP_X("xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA_o"),
    OKP_X("7f_______________________________________38"),
    OKP_X("7f________________________________________8"),
    OKP_X("7v_______________________________________38"),
    OKP_X("7v________________________________________8"),
    OKP_X("_________________________________________38"),
    OKP_X("__________________________________________8"),
};

static void test_parse_bad(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *k = (ekey_jwk_t *)1;
    ekey_error_t err;
    size_t i;

    for (i = 0; i < sizeof(bad_jwks) / sizeof(bad_jwks[0]); i++) {
        memset(&err, 0, sizeof(err));
        k = (ekey_jwk_t *)1;
        if (ekey_jwk_parse(&k, p, js(p, bad_jwks[i]), &err) != EKEY_E_JWK)
            fail_msg("bad JWK #%zu not rejected with EKEY_E_JWK: %s", i, bad_jwks[i]);
        assert_null(k);
        assert_int_equal(err.status, EKEY_E_JWK);
        /* The private value never reaches the error text. */
        assert_null(strstr(err.text, "jpsQnnGQ"));
        assert_null(strstr(err.text, "nWGxne"));
    }
    assert_int_equal(ekey_jwk_parse(&k, p, js(p, "{}"), NULL), EKEY_E_JWK);
    assert_int_equal(ekey_jwk_parse(&k, p, ekey_json_own(p, json_array()), NULL), EKEY_E_JWK);
    assert_int_equal(ekey_jwk_parse(&k, p, NULL, NULL), EKEY_E_JWK);
    assert_int_equal(ekey_jwk_parse(NULL, p, js(p, EC9449("")), NULL), EKEY_E_INVALID_ARG);
}

static void test_thumbprint_json(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    const char *t = "x";
    static const char *const vec[][2] = {
        { "{\"kty\":\"RSA\",\"n\":\"" N7638 "\",\"e\":\"AQAB\",\"alg\":\"RS256\","
          "\"kid\":\"2011-04-29\"}", JKT7638 },                       /* RFC 7638 §3.1 */
        { EC9449(""), JKT9449 },                                      /* RFC 9449 Fig. 4 */
        { EC9449(",\"d\":\"ignored-for-thumbprint\""), JKT9449 },
        { "{\"x\":\"" XED "\",\"crv\":\"Ed25519\",\"kty\":\"OKP\"}", JKTED },  /* RFC 8037 */
    };
    static const char *const bad[] = {
        "{\"kty\":\"RSA\",\"n\":\"" N7638 "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\"}",
        "{\"kty\":\"OKP\",\"x\":\"" XED "\"}",
        "{\"kty\":\"oct\",\"k\":\"AQAB\"}",
        "{\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":1}",
    };
    size_t i;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        assert_int_equal(ekey_jwk_thumbprint_json(&t, p, js(p, vec[i][0]), NULL), EKEY_OK);
        assert_string_equal(t, vec[i][1]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = "x";
        assert_int_equal(ekey_jwk_thumbprint_json(&t, p, js(p, bad[i]), NULL), EKEY_E_JWK);
        assert_null(t);
    }
}

static void test_alg_names(void **state)
{
    (void)state;
    assert_int_equal(ekey_alg_from_name("ES256"), EKEY_ALG_ES256);
    assert_int_equal(ekey_alg_from_name("ES384"), EKEY_ALG_ES384);
    assert_int_equal(ekey_alg_from_name("EdDSA"), EKEY_ALG_EDDSA);
    assert_int_equal(ekey_alg_from_name("es256"), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name("Es256"), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name("none"), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name("HS256"), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name("RS256"), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name("ES256 "), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name(""), EKEY_ALG_NONE);
    assert_int_equal(ekey_alg_from_name(NULL), EKEY_ALG_NONE);
    assert_string_equal(ekey_alg_name(EKEY_ALG_ES256), "ES256");
    assert_string_equal(ekey_alg_name(EKEY_ALG_ES384), "ES384");
    assert_string_equal(ekey_alg_name(EKEY_ALG_EDDSA), "EdDSA");
    assert_null(ekey_alg_name(EKEY_ALG_NONE));
    assert_null(ekey_alg_name((ekey_alg_t)(EKEY_ALG_ES256 | EKEY_ALG_ES384)));
}

static void test_generate_roundtrip(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const ekey_alg_t algs[] = { EKEY_ALG_ES256, EKEY_ALG_ES384, EKEY_ALG_EDDSA };
    ekey_jwk_t *k, *k2;
    json_t *j;
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        assert_int_equal(ekey_jwk_generate(&k, p, algs[i], NULL), EKEY_OK);
        assert_true(ekey_jwk_has_private(k));
        assert_int_equal(ekey_jwk_alg(k), algs[i]);
        j = ekey_jwk_to_json(k, p, 0);
        assert_null(json_object_get(j, "d"));
        assert_null(json_object_get(j, "kid"));
        assert_int_equal(json_object_size(j), algs[i] == EKEY_ALG_EDDSA ? 3 : 4);
        assert_int_equal(ekey_jwk_parse(&k2, p, j, NULL), EKEY_OK);
        assert_false(ekey_jwk_has_private(k2));
        assert_string_equal(ekey_jwk_thumbprint(k2), ekey_jwk_thumbprint(k));
        j = ekey_jwk_to_json(k, p, 1);
        assert_string_equal(json_string_value(json_object_get(j, "kid")),
                            ekey_jwk_thumbprint(k));
        assert_string_equal(json_string_value(json_object_get(j, "alg")),
                            ekey_alg_name(algs[i]));
        assert_int_equal(ekey_jwk_parse(&k2, p, j, NULL), EKEY_OK);   /* alg fits */
    }
    k = (ekey_jwk_t *)1;
    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_NONE, NULL), EKEY_E_INVALID_ARG);
    assert_null(k);
    assert_null(ekey_jwk_to_json(NULL, p, 1));
    assert_null(ekey_jwk_thumbprint(NULL));
    assert_int_equal(ekey_jwk_alg(NULL), EKEY_ALG_NONE);
}

static void test_from_pkey(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    ekey_jwk_t *k, *k2;

    assert_non_null(pk);
    assert_int_equal(ekey_jwk_from_pkey(&k, p, pk, NULL), EKEY_OK);
    EVP_PKEY_free(pk);                /* the jwk holds its own reference */
    assert_true(ekey_jwk_has_private(k));
    assert_ptr_equal(ekey_jwk_pkey(k), pk);
    assert_int_equal(ekey_jwk_parse(&k2, p, ekey_jwk_to_json(k, p, 0), NULL), EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(k), ekey_jwk_thumbprint(k2));
    /* Unsupported key types. */
    assert_int_equal(ekey_jwk_from_pkey(&k, p, rsa, NULL), EKEY_E_JWK);
    assert_null(k);
    assert_int_equal(ekey_jwk_from_pkey(&k, p, k1, NULL), EKEY_E_JWK);
    assert_int_equal(ekey_jwk_from_pkey(&k, p, NULL, NULL), EKEY_E_INVALID_ARG);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(k1);
}

static void test_load_pem(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *k;
    ekey_error_t err;
    static const char *const unusable[] = {
        "crypto/rfc7515-a3-p256-encrypted.pem", "crypto/rsa-2048.pem",
        "crypto/secp256k1.pem", "crypto/README", "crypto/no-such-file.pem",
    };
    size_t i;
    const char *dir = EKEY_VECTORS "/crypto/";

#define PEM(f) apr_pstrcat(p, dir, f, NULL)
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc7515-a3-p256.pem"), 1, NULL), EKEY_OK);
    assert_true(ekey_jwk_has_private(k));
    assert_string_equal(ekey_jwk_thumbprint(k), JKTA3);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc7515-a3-p256-sec1.pem"), 1, NULL),
                     EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(k), JKTA3);
    /* A private key file for a verifier: only the public half is kept. */
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc7515-a3-p256.pem"), 0, NULL), EKEY_OK);
    assert_false(ekey_jwk_has_private(k));
    assert_string_equal(ekey_jwk_thumbprint(k), JKTA3);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc7515-a3-p256.pub.pem"), 0, NULL),
                     EKEY_OK);
    assert_false(ekey_jwk_has_private(k));
    assert_string_equal(ekey_jwk_thumbprint(k), JKTA3);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc7515-a3-p256.pub.pem"), 1, &err),
                     EKEY_E_KEY_FILE);
    assert_null(k);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc8037-ed25519.pem"), 1, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_alg(k), EKEY_ALG_EDDSA);
    assert_true(ekey_jwk_has_private(k));
    assert_string_equal(ekey_jwk_thumbprint(k), JKTED);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("rfc8037-ed25519.pem"), 0, NULL), EKEY_OK);
    assert_false(ekey_jwk_has_private(k));
    assert_string_equal(ekey_jwk_thumbprint(k), JKTED);
    assert_int_equal(ekey_jwk_load_pem(&k, p, PEM("p384.pem"), 1, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_alg(k), EKEY_ALG_ES384);
    assert_string_equal(ekey_jwk_thumbprint(k), JKT384);
    for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        k = (ekey_jwk_t *)1;
        memset(&err, 0, sizeof(err));
        if (ekey_jwk_load_pem(&k, p, PEM(unusable[i]), 1, &err) != EKEY_E_KEY_FILE)
            fail_msg("loaded %s", unusable[i]);
        assert_null(k);
        assert_int_equal(err.status, EKEY_E_KEY_FILE);
        assert_int_equal(ekey_jwk_load_pem(&k, p, PEM(unusable[i]), 0, NULL), EKEY_E_KEY_FILE);
    }
#undef PEM
}

static void test_save_pem(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char tmpl[] = "/tmp/ekey-test-jwk-XXXXXX";
    char *dir = mkdtemp(tmpl), *path, *path2, *link_path;
    ekey_jwk_t *k, *k2, *pub;
    struct stat sb;
    mode_t old;

    assert_non_null(dir);
    path = apr_pstrcat(p, dir, "/key.pem", NULL);
    path2 = apr_pstrcat(p, dir, "/key2.pem", NULL);
    link_path = apr_pstrcat(p, dir, "/link.pem", NULL);
    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    old = umask(0);                   /* even a permissive umask gives 0600 */
    assert_int_equal(ekey_jwk_save_pem(k, p, path, NULL), EKEY_OK);
    umask(old);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(ekey_jwk_load_pem(&k2, p, path, 1, NULL), EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(k2), ekey_jwk_thumbprint(k));
    assert_true(ekey_jwk_has_private(k2));
    /* PKCS#8. */
    assert_non_null(strstr(ekey_test_read_file(p, path, NULL), "-----BEGIN PRIVATE KEY-----"));
    /* Never overwrite an existing file or follow a symlink. */
    assert_int_equal(ekey_jwk_save_pem(k, p, path, NULL), EKEY_E_KEY_FILE);
    assert_int_equal(symlink(path2, link_path), 0);
    assert_int_equal(ekey_jwk_save_pem(k, p, link_path, NULL), EKEY_E_KEY_FILE);
    assert_int_equal(access(path2, F_OK), -1);
    /* A public key cannot be saved as a private one. */
    assert_int_equal(ekey_jwk_parse(&pub, p, ekey_jwk_to_json(k, p, 0), NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_save_pem(pub, p, path2, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(access(path2, F_OK), -1);
    assert_int_equal(ekey_jwk_save_pem(k, p, apr_pstrcat(p, dir, "/no/such/dir.pem", NULL),
                                       NULL), EKEY_E_KEY_FILE);
    /* Ed25519 too. */
    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_EDDSA, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_save_pem(k, p, path2, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_load_pem(&k2, p, path2, 1, NULL), EKEY_OK);
    assert_string_equal(ekey_jwk_thumbprint(k2), ekey_jwk_thumbprint(k));
    unlink(path);
    unlink(path2);
    unlink(link_path);
    assert_int_equal(rmdir(dir), 0);
}

/* A P-256 JWK is imported without an EVP_PKEY (p256.c verifies it); ekey_jwk_pkey makes
 * one on demand, once, and it verifies what the private key signed and nothing else. The
 * same for the key cache's copy. */
static void test_pkey_on_demand(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_jwk_t *priv, *k1, *k2;
    unsigned char md[32], rs[64];
    json_t *j;
    EVP_PKEY *pk;
    int i;

    assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    j = ekey_jwk_to_json(priv, p, 0);
    assert_int_equal(ekey_jwk_parse(&k1, p, j, NULL), EKEY_OK);
    for (i = 0; i < 32; i++)
        md[i] = (unsigned char)(i * 7 + 1);
    assert_true(ecdsa_oracle_sign(rs, ekey_jwk_pkey(priv), md));
    assert_non_null(pk = ekey_jwk_pkey(k1));
    assert_ptr_equal(ekey_jwk_pkey(k1), pk);
    assert_int_equal(ecdsa_oracle_verify(pk, md, rs), 1);
    rs[5] ^= 1;
    assert_int_equal(ecdsa_oracle_verify(pk, md, rs), 0);
    rs[5] ^= 1;
    assert_int_equal(ekey_jwk_parse(&k2, p, j, NULL), EKEY_OK);       /* the cache's copy */
    assert_string_equal(ekey_jwk_thumbprint(k2), ekey_jwk_thumbprint(k1));
    assert_non_null(ekey_jwk_pkey(k2));
    assert_int_equal(ecdsa_oracle_verify(ekey_jwk_pkey(k2), md, rs), 1);
}

typedef struct {
    ekey_jwk_t *key;
    EVP_PKEY *got;
} pkey_race_t;

static void *ask_pkey(void *arg)
{
    pkey_race_t *r = arg;

    r->got = ekey_jwk_pkey(r->key);
    return NULL;
}

/* Threads asking a shared key (a configured one) for its EVP_PKEY at once all get the one
 * that was kept; the others' copies are freed (LeakSanitizer in the ASan run). */
static void test_pkey_on_demand_race(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    pthread_t th[8];
    pkey_race_t r[8];
    ekey_jwk_t *priv, *pub;
    int i, round;

    for (round = 0; round < 20; round++) {
        assert_int_equal(ekey_jwk_generate(&priv, p, EKEY_ALG_ES256, NULL), EKEY_OK);
        assert_int_equal(ekey_jwk_parse(&pub, p, ekey_jwk_to_json(priv, p, 0), NULL), EKEY_OK);
        for (i = 0; i < 8; i++) {
            r[i].key = pub;
            r[i].got = NULL;
            assert_int_equal(pthread_create(&th[i], NULL, ask_pkey, &r[i]), 0);
        }
        for (i = 0; i < 8; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_non_null(r[i].got);
            assert_ptr_equal(r[i].got, r[0].got);
        }
        assert_ptr_equal(ekey_jwk_pkey(pub), r[0].got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_parse_good),
        EKEY_TEST(test_parse_bad),
        EKEY_TEST(test_thumbprint_json),
        EKEY_TEST(test_alg_names),
        EKEY_TEST(test_generate_roundtrip),
        EKEY_TEST(test_from_pkey),
        EKEY_TEST(test_load_pem),
        EKEY_TEST(test_save_pem),
        EKEY_TEST(test_pkey_on_demand),
        EKEY_TEST(test_pkey_on_demand_race),
    };
    return ekey_test_main(tests);
}
