/* test_keyset.c - trusted keys by kid (= thumbprint), JWKS import and export. */
#include "ekey_test.h"

#define X9449 "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs"
#define Y9449 "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
#define JKT9449 "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define K9449 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" X9449 "\",\"y\":\"" Y9449 "\""
#define XED "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define JKTED "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define KED "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" XED "\"}"
#define JKTA3 "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
#define KRSA "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWh\"," \
             "\"e\":\"AQAB\"}"

static ekey_status_t add_jwks(ekey_keyset_t *ks, apr_pool_t *p, const char *doc)
{
    return ekey_keyset_add_jwks(ks, p, doc, strlen(doc), NULL);
}

static void test_add_find(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_keyset_t *ks = ekey_keyset_make(p);
    ekey_jwk_t *a3, *again, *gen;
    ekey_error_t err;

    assert_int_equal(ekey_keyset_count(ks), 0);
    assert_null(ekey_keyset_find(ks, JKTA3));
    assert_null(ekey_keyset_get(ks, 0));
    assert_int_equal(ekey_jwk_load_pem(&a3, p, EKEY_VECTORS "/crypto/rfc7515-a3-p256.pem", 0,
                                       NULL), EKEY_OK);
    assert_int_equal(ekey_keyset_add(ks, a3, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_generate(&gen, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_keyset_add(ks, gen, NULL), EKEY_OK);
    assert_int_equal(ekey_keyset_count(ks), 2);
    assert_ptr_equal(ekey_keyset_find(ks, JKTA3), a3);
    assert_ptr_equal(ekey_keyset_find(ks, ekey_jwk_thumbprint(gen)), gen);
    assert_ptr_equal(ekey_keyset_get(ks, 0), a3);
    assert_ptr_equal(ekey_keyset_get(ks, 1), gen);
    assert_null(ekey_keyset_get(ks, 2));
    assert_null(ekey_keyset_get(ks, -1));
    /* ALG-10/ALG-11: unknown, prefix, empty, path-like kids select nothing. */
    assert_null(ekey_keyset_find(ks, "k1"));
    assert_null(ekey_keyset_find(ks, ""));
    assert_null(ekey_keyset_find(ks, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-"));
    assert_null(ekey_keyset_find(ks, JKTA3 "x"));
    assert_null(ekey_keyset_find(ks, "../../../../dev/null"));
    assert_null(ekey_keyset_find(ks, NULL));
    assert_null(ekey_keyset_find(NULL, JKTA3));
    /* The same key twice (even as another object) is a configuration error. */
    assert_int_equal(ekey_jwk_load_pem(&again, p, EKEY_VECTORS "/crypto/rfc7515-a3-p256.pub.pem",
                                       0, NULL), EKEY_OK);
    assert_int_equal(ekey_keyset_add(ks, again, &err), EKEY_E_INVALID_ARG);
    assert_int_equal(err.status, EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_keyset_count(ks), 2);
    assert_int_equal(ekey_keyset_add(ks, NULL, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_keyset_add(NULL, a3, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_keyset_count(NULL), 0);
}

static void test_jwks(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_keyset_t *ks = ekey_keyset_make(p);

    /* RSA, an encryption key and an unsupported curve are skipped, not errors. */
    assert_int_equal(add_jwks(ks, p, "{\"keys\":[" K9449 ",\"kid\":\"custom\",\"use\":\"sig\"},"
                                     KED "," KRSA ","
                                     "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"},"
                                     "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},"
                                     "{\"kty\":\"oct\",\"use\":\"enc\"},"
                                     "{\"kty\":\"EC\",\"use\":\"enc\",\"crv\":\"P-256\"}]}"),
                     EKEY_OK);
    assert_int_equal(ekey_keyset_count(ks), 2);
    /* The key is found by its thumbprint, never by the document's own kid. */
    assert_non_null(ekey_keyset_find(ks, JKT9449));
    assert_null(ekey_keyset_find(ks, "custom"));
    assert_int_equal(ekey_jwk_alg(ekey_keyset_find(ks, JKTED)), EKEY_ALG_EDDSA);
    assert_int_equal(add_jwks(ks, p, "{\"keys\":[]}"), EKEY_OK);
    assert_int_equal(ekey_keyset_count(ks), 2);
}

static void test_jwks_errors(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    ekey_keyset_t *ks = ekey_keyset_make(p);
    static const struct {
        const char *doc;
        ekey_status_t st;
    } bad[] = {
        { "{\"keys\":{}}", EKEY_E_JWK },
        { "{\"keys\":\"x\"}", EKEY_E_JWK },
        { "{\"nokeys\":[]}", EKEY_E_JWK },
        { "{\"keys\":[1]}", EKEY_E_JWK },
        { "[" K9449 "}]", EKEY_E_JSON },
        { "{\"keys\":[],\"keys\":[]}", EKEY_E_JSON },
        { "{\"keys\":[]} x", EKEY_E_JSON },
        { "not json", EKEY_E_JSON },
        /* a malformed supported key poisons the whole document */
        { "{\"keys\":[" KED "," K9449 ",\"d\":\"AAAA\"}]}", EKEY_E_JWK },
        { "{\"keys\":[" KED ",{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
          EKEY_E_JWK },
        { "{\"keys\":[" KED ",{\"crv\":\"P-256\"}]}", EKEY_E_JWK },
        { "{\"keys\":[" KED "," K9449 ",\"alg\":\"ES384\"}]}", EKEY_E_JWK },
        /* the same key twice */
        { "{\"keys\":[" KED "," KED "]}", EKEY_E_INVALID_ARG },
    };
    size_t i;
    char *big;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (add_jwks(ks, p, bad[i].doc) != bad[i].st)
            fail_msg("JWKS #%zu: want %s", i, ekey_status_name(bad[i].st));
        assert_int_equal(ekey_keyset_count(ks), 0);       /* all or nothing */
    }
    /* Duplicate of a key already in the set. */
    assert_int_equal(add_jwks(ks, p, "{\"keys\":[" KED "]}"), EKEY_OK);
    assert_int_equal(add_jwks(ks, p, "{\"keys\":[" K9449 "}," KED "]}"), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_keyset_count(ks), 1);
    /* Over 256 KiB: refused before parsing. */
    big = apr_palloc(p, 256 * 1024 + 2);
    memset(big, ' ', 256 * 1024 + 1);
    big[0] = '{';
    big[256 * 1024] = '}';
    big[256 * 1024 + 1] = '\0';
    assert_int_equal(ekey_keyset_add_jwks(ks, p, big, 256 * 1024 + 1, NULL), EKEY_E_TOO_LARGE);
    assert_int_equal(ekey_keyset_add_jwks(ks, p, big, 256 * 1024, NULL), EKEY_E_JSON);
    assert_int_equal(ekey_keyset_add_jwks(ks, p, NULL, 0, NULL), EKEY_E_INVALID_ARG);
}

static void test_to_jwks_roundtrip(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state), *tmp;
    ekey_keyset_t *ks = ekey_keyset_make(p), *ks2 = ekey_keyset_make(p);
    ekey_jwk_t *k;
    json_t *doc, *keys, *e;
    char *out;
    size_t i;

    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES384, NULL), EKEY_OK);
    assert_int_equal(ekey_keyset_add(ks, k, NULL), EKEY_OK);
    assert_int_equal(add_jwks(ks, p, "{\"keys\":[" KED "," K9449 "}]}"), EKEY_OK);
    out = ekey_keyset_to_jwks(ks, p);
    assert_non_null(out);
    assert_null(strstr(out, "\"d\""));                   /* never a private member */
    assert_int_equal(ekey_json_parse(&doc, p, out, strlen(out), 65536, NULL), EKEY_OK);
    keys = json_object_get(doc, "keys");
    assert_int_equal(json_array_size(keys), 3);
    json_array_foreach(keys, i, e) {
        const ekey_jwk_t *want = ekey_keyset_get(ks, (int)i);
        assert_string_equal(json_string_value(json_object_get(e, "kid")),
                            ekey_jwk_thumbprint(want));
        assert_string_equal(json_string_value(json_object_get(e, "alg")),
                            ekey_alg_name(ekey_jwk_alg(want)));
        assert_string_equal(json_string_value(json_object_get(e, "use")), "sig");
    }
    /* Import the export through a short-lived pool: keys must live with the keyset. */
    apr_pool_create(&tmp, p);
    assert_int_equal(ekey_keyset_add_jwks(ks2, tmp, out, strlen(out), NULL), EKEY_OK);
    apr_pool_destroy(tmp);
    assert_int_equal(ekey_keyset_count(ks2), 3);
    for (i = 0; i < 3; i++)
        assert_non_null(ekey_keyset_find(ks2, ekey_jwk_thumbprint(ekey_keyset_get(ks, (int)i))));
    assert_non_null(ekey_keyset_find(ks2, JKTED));
    assert_string_equal(ekey_keyset_to_jwks(ekey_keyset_make(p), p), "{\"keys\":[]}");
    assert_null(ekey_keyset_to_jwks(NULL, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_add_find),
        EKEY_TEST(test_jwks),
        EKEY_TEST(test_jwks_errors),
        EKEY_TEST(test_to_jwks_roundtrip),
    };
    return ekey_test_main(tests);
}
