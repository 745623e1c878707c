/*
 * b64url.c - strict base64url (RFC 4648 §5) without padding.
 *
 * Strict means one byte string has exactly one accepted encoding: no '=', no whitespace,
 * no '+' or '/', and the unused low bits of the last character must be zero. Anything else
 * would let two different tokens carry the same signature or key (RFC 7638 §7).
 */
#include <string.h>

#include <apr_strings.h>

#include "ekey.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the alphabet, 0xff for everything else (including NUL and '='). */
static const unsigned char dtable[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    /*  sp   !     "     #     $     %     &     '     (     )     *     +     ,     -    .     / */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 62,  0xff, 0xff,
    52,   53,   54,   55,   56,   57,   58,   59,   60,   61,   0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,
    15,   16,   17,   18,   19,   20,   21,   22,   23,   24,   25,   0xff, 0xff, 0xff, 0xff, 63,
    0xff, 26,   27,   28,   29,   30,   31,   32,   33,   34,   35,   36,   37,   38,   39,   40,
    41,   42,   43,   44,   45,   46,   47,   48,   49,   50,   51,   0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Decoded size of a syntactically valid length (len % 4 != 1). */
static apr_size_t decoded_len(apr_size_t len)
{
    return (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0);
}

/* Checks alphabet, length and canonical last character; the one gate for all decoding. */
static const char *check(const char *s, apr_size_t len)
{
    apr_size_t i;
    unsigned char last;

    if (len % 4 == 1)
        return "length mod 4 is 1";
    for (i = 0; i < len; i++) {
        if (dtable[(unsigned char)s[i]] == 0xff)
            return s[i] == '=' ? "padding" : "character outside the base64url alphabet";
    }
    if (len == 0)
        return NULL;
    last = dtable[(unsigned char)s[len - 1]];
    /* 2 trailing chars carry 8 bits (4 spare), 3 chars carry 16 bits (2 spare). */
    if ((len % 4 == 2 && (last & 0x0f) != 0) || (len % 4 == 3 && (last & 0x03) != 0))
        return "non-canonical last character";
    return NULL;
}

/* Decodes a checked string into out (decoded_len(len) bytes). */
static void decode_into(unsigned char *out, const char *s, apr_size_t len)
{
    apr_size_t i = 0, o = 0;
    apr_uint32_t v;

    for (; i + 4 <= len; i += 4) {
        v = ((apr_uint32_t)dtable[(unsigned char)s[i]] << 18)
            | ((apr_uint32_t)dtable[(unsigned char)s[i + 1]] << 12)
            | ((apr_uint32_t)dtable[(unsigned char)s[i + 2]] << 6)
            | (apr_uint32_t)dtable[(unsigned char)s[i + 3]];
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (len - i >= 2) {
        v = ((apr_uint32_t)dtable[(unsigned char)s[i]] << 18)
            | ((apr_uint32_t)dtable[(unsigned char)s[i + 1]] << 12);
        if (len - i == 3)
            v |= (apr_uint32_t)dtable[(unsigned char)s[i + 2]] << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (len - i == 3)
            out[o++] = (unsigned char)(v >> 8);
    }
}

ekey_status_t ekey_b64url_decode(unsigned char **out, apr_size_t *outlen, apr_pool_t *p,
                                 const char *in, apr_size_t inlen, ekey_error_t *err)
{
    const char *why;
    apr_size_t n;
    unsigned char *buf;

    if (out != NULL)
        *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (out == NULL || outlen == NULL || p == NULL || (in == NULL && inlen > 0))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "b64url.decode", "missing argument");
    if ((why = check(in, inlen)) != NULL)
        return ekey_error_set(err, EKEY_E_BASE64, "b64url.decode", "%s", why);
    n = decoded_len(inlen);
    buf = apr_palloc(p, n + 1);
    decode_into(buf, in, inlen);
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return EKEY_OK;
}

ekey_status_t ekey_b64url_decode_exact(unsigned char *out, apr_size_t want,
                                       const char *in, apr_size_t inlen, ekey_error_t *err)
{
    const char *why;

    if (out == NULL || (in == NULL && inlen > 0))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "b64url.decode", "missing argument");
    memset(out, 0, want);
    if ((why = check(in, inlen)) != NULL)
        return ekey_error_set(err, EKEY_E_BASE64, "b64url.decode", "%s", why);
    if (decoded_len(inlen) != want)
        return ekey_error_set(err, EKEY_E_BASE64, "b64url.decode",
                              "decodes to %" APR_SIZE_T_FMT " bytes, want %" APR_SIZE_T_FMT,
                              decoded_len(inlen), want);
    decode_into(out, in, inlen);
    return EKEY_OK;
}

char *ekey_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len)
{
    char *out = apr_palloc(p, (len / 3) * 4 + 4 + 1);
    apr_size_t i = 0, o = 0;
    apr_uint32_t v;

    for (; i + 3 <= len; i += 3) {
        v = ((apr_uint32_t)in[i] << 16) | ((apr_uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i > 0) {
        v = (apr_uint32_t)in[i] << 16;
        if (len - i == 2)
            v |= (apr_uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (len - i == 2)
            out[o++] = alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

int ekey_b64url_valid(const char *s, apr_size_t len)
{
    if (s == NULL)
        return 0;
    return check(s, len) == NULL;
}
