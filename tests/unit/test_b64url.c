/* test_b64url.c - strict base64url: RFC 4648 §10 vectors and every rejection. */
#include "ekey_test.h"

/* RFC 4648 §10, in base64url form (no padding), plus the two URL-safe characters. */
static const struct {
    const char *raw;
    apr_size_t rawlen;
    const char *enc;
} vectors[] = {
    { "", 0, "" },
    { "f", 1, "Zg" },
    { "fo", 2, "Zm8" },
    { "foo", 3, "Zm9v" },
    { "foob", 4, "Zm9vYg" },
    { "fooba", 5, "Zm9vYmE" },
    { "foobar", 6, "Zm9vYmFy" },
    { "\xfb\xff", 2, "-_8" },
    { "\xff\xff\xff", 3, "____" },
    { "\xfb\xef\xbe", 3, "----" },
    { "\x00\x00", 2, "AAA" },
    { "\x00", 1, "AA" },
};

/* Inputs every strict decoder must refuse (EKEY_E_BASE64). */
static const struct {
    const char *in;
    apr_size_t len;             /* 0: strlen */
    const char *why;
} rejects[] = {
    { "Zg==", 0, "padding" },
    { "Zg=", 0, "single padding" },
    { "Zm8=", 0, "padding after 3 chars" },
    { "Zm9vYg==", 0, "padding after a full group" },
    { "====", 0, "only padding" },
    { "+_8", 0, "'+' from the standard alphabet" },
    { "-/8", 0, "'/' from the standard alphabet" },
    { "+/+/", 0, "standard alphabet group" },
    { "Zm9v Yg", 0, "space inside" },
    { " Zm9v", 0, "leading space" },
    { "Zm9v ", 0, "trailing space" },
    { "Zm9v\tYg", 0, "tab" },
    { "Zm9v\nYg", 0, "LF" },
    { "Zm9v\r\nYg", 0, "CRLF" },
    { "AB", 0, "non-canonical: unused bits set (AA is canonical)" },
    { "Zh", 0, "non-canonical 1-byte tail (Zg)" },
    { "Zm9", 0, "non-canonical 2-byte tail (Zm8)" },
    { "Zm_", 0, "non-canonical 2-byte tail, high value" },
    { "Z", 0, "length mod 4 == 1" },
    { "Zm9vY", 0, "length mod 4 == 1 after a group" },
    { "Zm9vYmFyZ", 0, "length mod 4 == 1 after two groups" },
    { "Zm\0v", 4, "embedded NUL" },
    { "Zm9v\0", 5, "trailing NUL counted in the length" },
    { "Zm9.", 0, "dot" },
    { "Zm9v\xc3\xa9", 6, "non-ASCII bytes" },
    { "Zm9~", 0, "tilde" },
    { "Zm9%", 0, "percent" },
};

static void test_vectors(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char *out;
    apr_size_t n, i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *enc = ekey_b64url_encode(p, (const unsigned char *)vectors[i].raw,
                                       vectors[i].rawlen);
        assert_string_equal(enc, vectors[i].enc);
        assert_int_equal(ekey_b64url_decode(&out, &n, p, vectors[i].enc,
                                            strlen(vectors[i].enc), NULL), EKEY_OK);
        assert_int_equal(n, vectors[i].rawlen);
        assert_memory_equal(out, vectors[i].raw, n);
        assert_int_equal(out[n], '\0');          /* NUL-terminated for convenience */
        assert_true(ekey_b64url_valid(vectors[i].enc, strlen(vectors[i].enc)));
    }
}

static void test_rejects(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char *out = (unsigned char *)"sentinel", buf[8];
    apr_size_t n = 99, i, len;
    ekey_error_t err;

    for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        len = rejects[i].len ? rejects[i].len : strlen(rejects[i].in);
        memset(&err, 0, sizeof(err));
        if (ekey_b64url_decode(&out, &n, p, rejects[i].in, len, &err) != EKEY_E_BASE64)
            fail_msg("accepted: %s", rejects[i].why);
        assert_null(out);
        assert_int_equal(n, 0);
        assert_int_equal(err.status, EKEY_E_BASE64);
        assert_string_equal(err.where, "b64url.decode");
        assert_false(ekey_b64url_valid(rejects[i].in, len));
        /* decode_exact refuses it too, at its natural length. */
        assert_int_equal(ekey_b64url_decode_exact(buf, (len / 4) * 3 + (len % 4 ? 1 : 0),
                                                  rejects[i].in, len, NULL), EKEY_E_BASE64);
    }
}

static void test_canonical_tails(void **state)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char *out;
    apr_size_t n;
    int i, accepted2 = 0, accepted3 = 0;
    char s2[3] = "A?", s3[4] = "AA?";

    /* Exactly 4 of 64 last characters are canonical after 2 chars (A Q g w), 16 after 3. */
    for (i = 0; i < 64; i++) {
        s2[1] = alpha[i];
        s3[2] = alpha[i];
        accepted2 += ekey_b64url_decode(&out, &n, p, s2, 2, NULL) == EKEY_OK;
        accepted3 += ekey_b64url_decode(&out, &n, p, s3, 3, NULL) == EKEY_OK;
    }
    assert_int_equal(accepted2, 4);
    assert_int_equal(accepted3, 16);
    assert_true(ekey_b64url_valid("AQ", 2));
    assert_true(ekey_b64url_valid("Ag", 2));
    assert_true(ekey_b64url_valid("Aw", 2));
    assert_false(ekey_b64url_valid("AR", 2));
    assert_true(ekey_b64url_valid("AAE", 3));
    assert_false(ekey_b64url_valid("AAB", 3));
}

static void test_roundtrip(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char raw[200], *out;
    apr_size_t len, n;
    char *enc;

    for (len = 0; len <= sizeof(raw); len++) {
        assert_int_equal(ekey_random(raw, len, NULL), EKEY_OK);
        enc = ekey_b64url_encode(p, raw, len);
        assert_int_equal(strlen(enc), (len * 4 + 2) / 3);   /* ceil(4n/3), no padding */
        assert_int_equal(ekey_b64url_decode(&out, &n, p, enc, strlen(enc), NULL), EKEY_OK);
        assert_int_equal(n, len);
        if (len > 0)
            assert_memory_equal(out, raw, len);
    }
}

static void test_decode_exact(void **state)
{
    unsigned char buf[96], zero[96];
    char sig[87], coord[44];
    ekey_error_t err;

    (void)state;
    memset(zero, 0, sizeof(zero));
    assert_int_equal(ekey_b64url_decode_exact(buf, 3, "Zm9v", 4, NULL), EKEY_OK);
    assert_memory_equal(buf, "foo", 3);
    /* Decoded length must be exactly `want`: longer and shorter are both errors. */
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(ekey_b64url_decode_exact(buf, 2, "Zm9v", 4, &err), EKEY_E_BASE64);
    assert_memory_equal(buf, zero, 2);              /* output cleared on failure */
    assert_int_equal(ekey_b64url_decode_exact(buf, 4, "Zm9v", 4, NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_b64url_decode_exact(buf, 0, "", 0, NULL), EKEY_OK);
    assert_int_equal(ekey_b64url_decode_exact(buf, 1, "", 0, NULL), EKEY_E_BASE64);
    /* An 86-char all-'A' signature is 64 zero bytes; 85 or 87 chars are not 64 bytes. */
    memset(sig, 'A', sizeof(sig));
    assert_int_equal(ekey_b64url_decode_exact(buf, 64, sig, 86, NULL), EKEY_OK);
    assert_memory_equal(buf, zero, 64);
    assert_int_equal(ekey_b64url_decode_exact(buf, 64, sig, 85, NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_b64url_decode_exact(buf, 64, sig, 87, NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_b64url_decode_exact(buf, 63, sig, 86, NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_b64url_decode_exact(buf, 65, sig, 86, NULL), EKEY_E_BASE64);
    /* 32-byte coordinate: 43 chars, canonical last char. */
    memset(coord, 'A', sizeof(coord));
    assert_int_equal(ekey_b64url_decode_exact(buf, 32, coord, 43, NULL), EKEY_OK);
    coord[42] = 'B';
    assert_int_equal(ekey_b64url_decode_exact(buf, 32, coord, 43, NULL), EKEY_E_BASE64);
    coord[42] = 'E';
    assert_int_equal(ekey_b64url_decode_exact(buf, 32, coord, 43, NULL), EKEY_OK);
    assert_int_equal(buf[31], 0x01);
    assert_int_equal(ekey_b64url_decode_exact(buf, 33, coord, 44, NULL), EKEY_OK);
    assert_int_equal(ekey_b64url_decode_exact(NULL, 3, "Zm9v", 4, NULL), EKEY_E_INVALID_ARG);
}

static void test_args(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    unsigned char *out;
    apr_size_t n;

    assert_int_equal(ekey_b64url_decode(&out, &n, p, NULL, 4, NULL), EKEY_E_INVALID_ARG);
    assert_null(out);
    assert_int_equal(ekey_b64url_decode(NULL, &n, p, "Zm9v", 4, NULL), EKEY_E_INVALID_ARG);
    assert_int_equal(ekey_b64url_decode(&out, &n, p, "", 0, NULL), EKEY_OK);
    assert_int_equal(n, 0);
    assert_non_null(out);
    assert_false(ekey_b64url_valid(NULL, 0));
    assert_true(ekey_b64url_valid("", 0));
    /* Length is what counts, not the NUL: a prefix of a longer string. */
    assert_true(ekey_b64url_valid("Zm9v==", 4));
    assert_int_equal(ekey_b64url_decode(&out, &n, p, "Zm9vYg==", 6, NULL), EKEY_OK);
    assert_string_equal((char *)out, "foob");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_vectors),
        EKEY_TEST(test_rejects),
        EKEY_TEST(test_canonical_tails),
        EKEY_TEST(test_roundtrip),
        EKEY_TEST(test_decode_exact),
        EKEY_TEST(test_args),
    };
    return ekey_test_main(tests);
}
