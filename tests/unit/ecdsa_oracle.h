/*
 * ecdsa_oracle.h - OpenSSL's own ECDSA answers on raw digests (EVP_PKEY_sign/verify, no
 * hashing), the reference p256.c is held to by test_p256.c and fuzz_p256.c.
 */
#ifndef ECDSA_ORACLE_H
#define ECDSA_ORACLE_H

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

/* EVP_PKEY_verify of r || s (any 64 bytes) over the 32-byte digest md: 1 valid, 0 not
 * (every other answer of OpenSSL), -1 when the oracle itself could not run. */
static inline int ecdsa_oracle_verify(EVP_PKEY *pkey, const unsigned char *md,
                                      const unsigned char *rs)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    unsigned char *der = NULL;
    int n = -1, ok = -1;

    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL;                   /* the signature owns them */
        n = i2d_ECDSA_SIG(sig, &der);
    }
    if (n > 0 && ctx != NULL && EVP_PKEY_verify_init(ctx) == 1)
        ok = EVP_PKEY_verify(ctx, der, (size_t)n, md, 32) == 1;
    BN_free(r);
    BN_free(s);
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ok;
}

/* OpenSSL's signature over the 32-byte digest md (used as is) as r || s; 1 on success. */
static inline int ecdsa_oracle_sign(unsigned char *rs, EVP_PKEY *priv, const unsigned char *md)
{
    unsigned char der[80];
    const unsigned char *cp = der;
    size_t n = sizeof(der);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    const BIGNUM *r, *s;
    ECDSA_SIG *sig = NULL;
    int ok;

    ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1
         && EVP_PKEY_sign(ctx, der, &n, md, 32) == 1
         && (sig = d2i_ECDSA_SIG(NULL, &cp, (long)n)) != NULL;
    if (ok) {
        ECDSA_SIG_get0(sig, &r, &s);
        ok = BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32;
    }
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

#endif /* ECDSA_ORACLE_H */
