/*
 * fuzz_b64url.c - strict base64url decoding and encoding.
 *
 * Invariants: strictness makes the code a bijection, so an accepted string re-encodes to
 * exactly itself (two spellings of one byte string would give two tokens one signature);
 * decode(encode(x)) == x for any bytes; ekey_b64url_valid agrees with the decoder; the exact
 * decoder accepts the decoded length and nothing else.
 */
#include <string.h>

#include "fuzz.h"

static void check_decoded(apr_pool_t *p, const char *s, size_t n, const unsigned char *out,
                          apr_size_t outlen)
{
    unsigned char *buf = apr_palloc(p, outlen + 1);
    char *enc = ekey_b64url_encode(p, out, outlen);
    ekey_error_t err;
    ekey_status_t st;

    FUZZ_ASSERT(out[outlen] == '\0');
    FUZZ_ASSERT(outlen == n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
    FUZZ_ASSERT(strlen(enc) == n && memcmp(enc, s, n) == 0);
    fuzz_err_reset(&err);
    st = ekey_b64url_decode_exact(buf, outlen, s, n, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(st == EKEY_OK && memcmp(buf, out, outlen) == 0);
    fuzz_err_reset(&err);
    st = ekey_b64url_decode_exact(buf, outlen + 1, s, n, &err);
    fuzz_check_status(st, &err);
    FUZZ_ASSERT(st == EKEY_E_BASE64);
}

static void check_roundtrip(apr_pool_t *p, const uint8_t *data, size_t n)
{
    char *enc = ekey_b64url_encode(p, data, n);
    size_t elen = strlen(enc);
    unsigned char *dec = NULL;
    apr_size_t dlen = 0;

    FUZZ_ASSERT(elen == (n * 4 + 2) / 3);
    FUZZ_ASSERT(ekey_b64url_valid(enc, elen));
    FUZZ_ASSERT(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                == elen);
    FUZZ_ASSERT(ekey_b64url_decode(&dec, &dlen, p, enc, elen, NULL) == EKEY_OK);
    FUZZ_ASSERT(dlen == n && memcmp(dec, data, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = data != NULL ? (const char *)data : "";
    unsigned char *out = (unsigned char *)"x";
    apr_size_t outlen = 99;
    ekey_error_t err;
    ekey_status_t st;
    int valid;

    fuzz_init();
    p = fuzz_pool();
    fuzz_err_reset(&err);
    st = ekey_b64url_decode(&out, &outlen, p, s, size, &err);
    fuzz_check_status(st, &err);
    valid = ekey_b64url_valid(s, size);
    FUZZ_ASSERT(valid == (st == EKEY_OK));
    if (st == EKEY_OK) {
        FUZZ_ASSERT(out != NULL);
        check_decoded(p, s, size, out, outlen);
    }
    else {
        FUZZ_ASSERT(st == EKEY_E_BASE64 && out == NULL && outlen == 0);
    }
    check_roundtrip(p, (const uint8_t *)s, size);
    apr_pool_destroy(p);
    return 0;
}
