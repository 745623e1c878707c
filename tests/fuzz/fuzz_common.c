/*
 * fuzz_common.c - process setup, the fixed test keys, signing mode and shared invariants
 * of the fuzz targets (see fuzz.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz.h"

/* Test-only keys, public in this repository (tests/unit/vectors): never use them elsewhere. */
static const char *const key_pem[FUZZ_KEY_COUNT] = {
    /* tests/unit/vectors/spec/issuer.key.pem */
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgA//veV6lCmGZro92\n"
    "KqbDHLj4X1O3ob7qh4m2kNBWftehRANCAAQ7gmxNUzrG+re+51khI2oBJ7kbYftN\n"
    "WCu3Jocm7X4C/QUpJlgJ8m04nG57AjlMg+Fq3DXYcepfLn4Z7BCdSOso\n"
    "-----END PRIVATE KEY-----\n",
    /* tests/unit/vectors/spec/client.key.pem */
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgASQ6oH3LwVFX3IdT\n"
    "sMGiyrZD2m5z3csmkwaJhwzXlCChRANCAASB9w1h9H8+JbuH4J3iY7xAtcXBTon8\n"
    "Yc3E+rVnLG/s5obgML/lOzQEKEmz/A6lEvHHa/XlOBrmiutow8VTmM7W\n"
    "-----END PRIVATE KEY-----\n",
    /* tests/unit/vectors/crypto/p384.pem */
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCMWA9VOtMdx1Q4APtV\n"
    "HusaJ36u2bWRBZU1eKew5zE1rVuo6NPBIRuQO+2Sj6zFFp+hZANiAASj3c/OH+IS\n"
    "EbRPOebOr3lFk6TibVSLUz867G8Ij1TIwaCmWO5zBxhVhCPsODYivreNzx6qPXMW\n"
    "xblR2LkhpeSJYvL37+p0F59sriguKAcC5GVen9VKjBfVZez6tUvpGW4=\n"
    "-----END PRIVATE KEY-----\n",
    /* tests/unit/vectors/crypto/rfc8037-ed25519.pem (RFC 8037 A.1) */
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n",
};

static apr_pool_t *global_pool;
static const ekey_jwk_t *keys[FUZZ_KEY_COUNT];

void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "FUZZ INVARIANT FAILED: %s (%s:%d)\n", what, file, line);
    fflush(stderr);
    abort();
}

static const ekey_jwk_t *load_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    ekey_jwk_t *k = NULL;

    BIO_free(bio);
    FUZZ_ASSERT(pkey != NULL);
    FUZZ_ASSERT(ekey_jwk_from_pkey(&k, global_pool, pkey, NULL) == EKEY_OK);
    EVP_PKEY_free(pkey);               /* the jwk holds its own reference */
    FUZZ_ASSERT(ekey_jwk_has_private(k));
    return k;
}

void fuzz_init(void)
{
    int i;

    if (global_pool != NULL)
        return;
    FUZZ_ASSERT(apr_initialize() == APR_SUCCESS);
    FUZZ_ASSERT(apr_pool_create(&global_pool, NULL) == APR_SUCCESS);
    for (i = 0; i < FUZZ_KEY_COUNT; i++)
        keys[i] = load_key(key_pem[i]);
    FUZZ_ASSERT(strcmp(ekey_jwk_thumbprint(keys[FUZZ_KEY_CLIENT]), FUZZ_CLIENT_JKT) == 0);
}

apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p = NULL;

    FUZZ_ASSERT(apr_pool_create(&p, global_pool) == APR_SUCCESS);
    return p;
}

const ekey_jwk_t *fuzz_key(fuzz_key_t which)
{
    FUZZ_ASSERT(which < FUZZ_KEY_COUNT && keys[which] != NULL);
    return keys[which];
}

char *fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t n)
{
    return apr_pstrmemdup(p, (const char *)data, n);
}

int fuzz_split(const uint8_t *data, size_t n, int sep, const char **parts, size_t *lens,
               int max)
{
    const char *s = n > 0 ? (const char *)data : "", *end = s + n, *q;
    int k = 0;

    while (k < max - 1 && (q = memchr(s, sep, (size_t)(end - s))) != NULL) {
        parts[k] = s;
        lens[k++] = (size_t)(q - s);
        s = q + 1;
    }
    parts[k] = s;
    lens[k++] = (size_t)(end - s);
    return k;
}

/* Raw JOSE signature of si: r || s (fixed width) for ECDSA, the 64 bytes for EdDSA. */
static char *sign_raw(apr_pool_t *p, const ekey_jwk_t *key, const char *si)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ekey_alg_t alg = ekey_jwk_alg(key);
    const EVP_MD *md = alg == EKEY_ALG_ES256 ? EVP_sha256()
                       : alg == EKEY_ALG_ES384 ? EVP_sha384() : NULL;
    int half = alg == EKEY_ALG_ES384 ? 48 : 32;
    unsigned char der[128], raw[96];
    const unsigned char *cp = der;
    size_t n = sizeof(der);
    const BIGNUM *r, *s;
    ECDSA_SIG *es;

    FUZZ_ASSERT(ctx != NULL);
    FUZZ_ASSERT(EVP_DigestSignInit(ctx, NULL, md, NULL, ekey_jwk_pkey(key)) == 1);
    FUZZ_ASSERT(EVP_DigestSign(ctx, der, &n, (const unsigned char *)si, strlen(si)) == 1);
    EVP_MD_CTX_free(ctx);
    if (md == NULL)
        return ekey_b64url_encode(p, der, n);
    FUZZ_ASSERT((es = d2i_ECDSA_SIG(NULL, &cp, (long)n)) != NULL);
    ECDSA_SIG_get0(es, &r, &s);
    FUZZ_ASSERT(BN_bn2binpad(r, raw, half) == half && BN_bn2binpad(s, raw + half, half) == half);
    ECDSA_SIG_free(es);
    return ekey_b64url_encode(p, raw, (apr_size_t)(2 * half));
}

/* The key a signing-mode header asks for: a cheap look at the first "alg":"..." in its
 * bytes, no parsing (an embedded jwk's own alg comes later and does not count). */
static fuzz_key_t key_for_header(const char *h, size_t n, fuzz_key_t dflt)
{
    static const char tag[] = "\"alg\":\"";
    const char *a = memmem(h, n, tag, sizeof(tag) - 1);
    size_t rest;

    if (a == NULL)
        return dflt;
    a += sizeof(tag) - 1;
    rest = n - (size_t)(a - h);
    if (rest >= 6 && memcmp(a, "ES384\"", 6) == 0)
        return FUZZ_KEY_P384;
    if (rest >= 6 && memcmp(a, "EdDSA\"", 6) == 0)
        return FUZZ_KEY_ED25519;
    return dflt;
}

char *fuzz_sign_input(apr_pool_t *p, const uint8_t *data, size_t n, fuzz_key_t dflt,
                      const ekey_jwk_t **used)
{
    const char *parts[2];
    size_t lens[2];
    const ekey_jwk_t *key;
    char *si;

    if (n == 0 || data[0] != '{' || fuzz_split(data, n, '\n', parts, lens, 2) != 2)
        return NULL;
    key = fuzz_key(key_for_header(parts[0], lens[0], dflt));
    si = apr_pstrcat(p, ekey_b64url_encode(p, (const unsigned char *)parts[0], lens[0]), ".",
                     ekey_b64url_encode(p, (const unsigned char *)parts[1], lens[1]), NULL);
    if (used != NULL)
        *used = key;
    return apr_pstrcat(p, si, ".", sign_raw(p, key, si), NULL);
}

json_t *fuzz_segment(apr_pool_t *p, const char *compact, int i)
{
    const char *s = compact, *e;
    unsigned char *buf = NULL;
    apr_size_t len = 0;
    json_error_t je;
    json_t *j;

    if (i == 1)
        s = strchr(compact, '.') + 1;
    e = strchr(s, '.');
    FUZZ_ASSERT(e != NULL);
    FUZZ_ASSERT(ekey_b64url_decode(&buf, &len, p, s, (apr_size_t)(e - s), NULL) == EKEY_OK);
    j = ekey_json_own(p, json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je));
    FUZZ_ASSERT(json_is_object(j));
    return j;
}

void fuzz_err_reset(ekey_error_t *err)
{
    memset(err, 0x5a, sizeof(*err));
    err->status = EKEY_STATUS_COUNT;
}

void fuzz_check_status(ekey_status_t st, const ekey_error_t *err)
{
    static int verbose = -1;

    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    FUZZ_ASSERT((int)st >= 0 && st < EKEY_STATUS_COUNT);
    if (verbose && (st == EKEY_OK || err == NULL))
        fprintf(stderr, "  %s\n", ekey_status_name(st));
    if (st == EKEY_OK)
        return;
    FUZZ_ASSERT(ekey_status_code(st) != NULL);
    if (err != NULL) {
        FUZZ_ASSERT(err->status == st);
        FUZZ_ASSERT(memchr(err->where, '\0', sizeof(err->where)) != NULL);
        FUZZ_ASSERT(memchr(err->text, '\0', sizeof(err->text)) != NULL);
        if (verbose)
            fprintf(stderr, "  %s %s: %s\n", ekey_status_name(st), err->where, err->text);
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

char *fuzz_unescape(apr_pool_t *p, const char *path)
{
    char *out = apr_palloc(p, strlen(path) + 1), *o = out;

    for (; *path; path++) {
        if (path[0] == '%' && path[1] != '\0' && path[2] != '\0') {
            *o++ = (char)(hexval((unsigned char)path[1]) * 16 + hexval((unsigned char)path[2]));
            path += 2;
        }
        else {
            *o++ = *path;
        }
    }
    *o = '\0';
    return out;
}

void fuzz_emit(const char *prefix, const char *s)
{
    static const char *dir;
    static int checked;
    unsigned long h = 5381;
    const char *c;
    char path[4096];
    FILE *f;

    if (!checked) {
        dir = getenv("FUZZ_EMIT_DIR");
        checked = 1;
    }
    if (dir == NULL || s == NULL)
        return;
    for (c = s; *c; c++)
        h = h * 33 + (unsigned char)*c;
    snprintf(path, sizeof(path), "%s/%s-%08lx", dir, prefix, h & 0xffffffffUL);
    if ((f = fopen(path, "w")) != NULL) {
        fputs(s, f);
        fclose(f);
    }
}
