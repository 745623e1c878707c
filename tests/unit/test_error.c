/* test_error.c - status names, wire codes, error detail. */
#include "ekey_test.h"

#include <openssl/err.h>
#include <openssl/evp.h>

static const struct {
    ekey_status_t st;
    const char *code;
} codes[] = {
    { EKEY_E_NO_CREDENTIALS, "missing_token" },
    { EKEY_E_REQUEST, "invalid_request" },
    { EKEY_E_TOO_LARGE, "invalid_token" },
    { EKEY_E_FORMAT, "invalid_token" },
    { EKEY_E_SCHEME, "invalid_token" },
    { EKEY_E_BASE64, "invalid_token" },
    { EKEY_E_JSON, "invalid_token" },
    { EKEY_E_ALG, "invalid_token" },
    { EKEY_E_TYP, "invalid_token" },
    { EKEY_E_KID, "invalid_token" },
    { EKEY_E_HEADER, "invalid_token" },
    { EKEY_E_SIGNATURE, "invalid_token" },
    { EKEY_E_CLAIMS, "invalid_token" },
    { EKEY_E_ISSUER, "invalid_token" },
    { EKEY_E_AUDIENCE, "invalid_token" },
    { EKEY_E_LIFETIME, "invalid_token" },
    { EKEY_E_CNF, "invalid_token" },
    { EKEY_E_EXPIRED, "token_expired" },
    { EKEY_E_NOT_YET_VALID, "token_expired" },
    { EKEY_E_PROOF_MISSING, "invalid_proof" },
    { EKEY_E_PROOF, "invalid_proof" },
    { EKEY_E_PROOF_HTM, "invalid_proof" },
    { EKEY_E_PROOF_HTU, "invalid_proof" },
    { EKEY_E_PROOF_IAT, "invalid_proof" },
    { EKEY_E_PROOF_ATH, "invalid_proof" },
    { EKEY_E_PROOF_NONCE, "invalid_proof" },
    { EKEY_E_PROOF_JKT, "invalid_proof" },
    { EKEY_E_CERT_MISSING, "invalid_proof" },
    { EKEY_E_CERT_MISMATCH, "invalid_proof" },
    { EKEY_E_CAPABILITY, "capability_mismatch" },
    { EKEY_E_INSUFFICIENT_CAP, "insufficient_capability" },
    { EKEY_E_REPLAY, "replay_detected" },
    { EKEY_E_JTI_REPLAY, "replay_detected" },
    { EKEY_E_STORE_FULL, "replay_store_unavailable" },
    { EKEY_E_STORE_UNAVAILABLE, "replay_store_unavailable" },
    { EKEY_E_JWK, "server_error" },
    { EKEY_E_KEY_FILE, "server_error" },
    { EKEY_E_INVALID_ARG, "server_error" },
    { EKEY_E_CRYPTO, "server_error" },
    { EKEY_E_INTERNAL, "server_error" },
};

static void test_status_codes(void **state)
{
    size_t i;

    (void)state;
    /* The table covers every failure status exactly once. */
    assert_int_equal(sizeof(codes) / sizeof(codes[0]), EKEY_STATUS_COUNT - 1);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(codes[i].st, (ekey_status_t)(i + 1));
        assert_string_equal(ekey_status_code(codes[i].st), codes[i].code);
    }
    assert_null(ekey_status_code(EKEY_OK));
    /* Out-of-range values fail closed, never as success. */
    assert_string_equal(ekey_status_code(EKEY_STATUS_COUNT), "server_error");
    assert_string_equal(ekey_status_code((ekey_status_t)1000), "server_error");
}

static void test_status_names(void **state)
{
    int i, j;

    (void)state;
    assert_string_equal(ekey_status_name(EKEY_OK), "EKEY_OK");
    assert_string_equal(ekey_status_name(EKEY_E_SIGNATURE), "EKEY_E_SIGNATURE");
    assert_string_equal(ekey_status_name(EKEY_E_NO_CREDENTIALS), "EKEY_E_NO_CREDENTIALS");
    assert_string_equal(ekey_status_name(EKEY_E_STORE_UNAVAILABLE), "EKEY_E_STORE_UNAVAILABLE");
    assert_string_equal(ekey_status_name(EKEY_E_INTERNAL), "EKEY_E_INTERNAL");
    assert_string_equal(ekey_status_name(EKEY_STATUS_COUNT), "EKEY_E_UNKNOWN");
    assert_string_equal(ekey_status_name((ekey_status_t)-1), "EKEY_E_UNKNOWN");
    /* Every status has its own name. */
    for (i = 0; i < EKEY_STATUS_COUNT; i++) {
        const char *n = ekey_status_name((ekey_status_t)i);
        assert_int_equal(strncmp(n, "EKEY_", 5), 0);
        assert_string_not_equal(n, "EKEY_E_UNKNOWN");
        for (j = 0; j < i; j++)
            assert_string_not_equal(n, ekey_status_name((ekey_status_t)j));
    }
}

static void test_error_set(void **state)
{
    ekey_error_t err;
    char big[400];

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ekey_error_set(&err, EKEY_E_KID, "jws.kid", "kid %s unknown", "k9"),
                     EKEY_E_KID);
    assert_int_equal(err.status, EKEY_E_KID);
    assert_string_equal(err.where, "jws.kid");
    assert_string_equal(err.text, "kid k9 unknown");
    /* NULL err: the status still comes back. */
    assert_int_equal(ekey_error_set(NULL, EKEY_E_ALG, "x", "y"), EKEY_E_ALG);
    /* Truncation keeps both fields NUL-terminated. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ekey_error_set(&err, EKEY_E_JSON, big, "%s", big);
    assert_int_equal(strlen(err.where), sizeof(err.where) - 1);
    assert_int_equal(strlen(err.text), sizeof(err.text) - 1);
    ekey_error_set(&err, EKEY_E_JSON, NULL, NULL);
    assert_string_equal(err.where, "");
    assert_string_equal(err.text, "");
}

static void test_drain_openssl(void **state)
{
    ekey_error_t err;

    (void)state;
    /* Provoke a real OpenSSL error: fetching an algorithm that does not exist. */
    assert_null(EVP_MD_fetch(NULL, "NO-SUCH-DIGEST", NULL));
    assert_int_not_equal(ERR_peek_error(), 0);
    ekey_error_set(&err, EKEY_E_CRYPTO, "test", "fetch failed");
    ekey_error_drain_openssl(&err);
    assert_int_equal(ERR_peek_error(), 0);          /* queue cleared */
    assert_int_equal(strncmp(err.text, "fetch failed; ", 14), 0);
    assert_true(strlen(err.text) > 14);
    assert_int_equal(err.status, EKEY_E_CRYPTO);    /* status untouched */

    /* NULL err still clears the queue. */
    assert_null(EVP_MD_fetch(NULL, "NO-SUCH-DIGEST", NULL));
    assert_int_not_equal(ERR_peek_error(), 0);
    ekey_error_drain_openssl(NULL);
    assert_int_equal(ERR_peek_error(), 0);

    /* An empty queue leaves the text alone. */
    ekey_error_set(&err, EKEY_E_CRYPTO, "test", "plain");
    ekey_error_drain_openssl(&err);
    assert_string_equal(err.text, "plain");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_status_codes),
        EKEY_TEST(test_status_names),
        EKEY_TEST(test_error_set),
        EKEY_TEST(test_drain_openssl),
    };
    return ekey_test_main(tests);
}
