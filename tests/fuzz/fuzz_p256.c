/*
 * fuzz_p256.c - p256.c's ES256 verification against OpenSSL's (EVP_PKEY_verify).
 *
 * Input: one mode byte, then a 32-byte digest and 64 bytes r || s (missing bytes are zero).
 * Mode bit 0 picks the key (issuer or client, the fixed P-256 keys); with bit 1 set the
 * harness signs the digest with that key first and the 64 bytes are XORed into the
 * signature, so that valid signatures and their near misses are reached, not only noise.
 *
 * Invariants: the variable-base verifier, the verifier with the key's table of multiples
 * and EVP give the same answer for every input; a harness signature with nothing XORed
 * verifies.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "fuzz.h"
#include "ekey_cache.h"

typedef struct {
    EVP_PKEY *priv, *pub;
    ekey_p256_t *plain, *fixed;
} verifier_t;

static verifier_t keys[2];

/* The fixed keys' public halves, parsed as a DPoP jwk is; the pool that parsed them goes
 * (pool-owned JSON would be invisible to the leak checker): we keep our own references. */
static void setup(void)
{
    static int done;
    apr_pool_t *p;
    ekey_jwk_t *pub;
    int i;

    if (done)
        return;
    for (i = 0; i < 2; i++) {
        const ekey_jwk_t *k = fuzz_key(i == 0 ? FUZZ_KEY_ISSUER : FUZZ_KEY_CLIENT);
        p = fuzz_pool();
        FUZZ_ASSERT(ekey_jwk_parse(&pub, p, ekey_jwk_to_json(k, p, 0), NULL) == EKEY_OK);
        keys[i].priv = ekey_jwk_pkey(k);
        keys[i].pub = ekey_jwk_pkey(pub);
        FUZZ_ASSERT(EVP_PKEY_up_ref(keys[i].pub) == 1);
        keys[i].plain = ekey_p256_ref((ekey_p256_t *)ekey_jwk_p256(pub));
        FUZZ_ASSERT(keys[i].plain != NULL);
        keys[i].fixed = ekey_p256_fixed(keys[i].plain);
        FUZZ_ASSERT(ekey_p256_is_fixed(keys[i].fixed));
        apr_pool_destroy(p);
    }
    done = 1;
}

static int evp_verify(EVP_PKEY *pkey, const unsigned char *md, const unsigned char *rs)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    unsigned char *der = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int n, ok;

    FUZZ_ASSERT(sig != NULL && r != NULL && s != NULL && ctx != NULL);
    FUZZ_ASSERT(ECDSA_SIG_set0(sig, r, s) == 1);
    FUZZ_ASSERT((n = i2d_ECDSA_SIG(sig, &der)) > 0);
    FUZZ_ASSERT(EVP_PKEY_verify_init(ctx) == 1);
    ok = EVP_PKEY_verify(ctx, der, (size_t)n, md, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ok;
}

static void sign(unsigned char *rs, EVP_PKEY *priv, const unsigned char *md)
{
    unsigned char der[80];
    const unsigned char *cp = der;
    size_t n = sizeof(der);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;

    FUZZ_ASSERT(ctx != NULL && EVP_PKEY_sign_init(ctx) == 1
                && EVP_PKEY_sign(ctx, der, &n, md, 32) == 1);
    EVP_PKEY_CTX_free(ctx);
    FUZZ_ASSERT((sig = d2i_ECDSA_SIG(NULL, &cp, (long)n)) != NULL);
    ECDSA_SIG_get0(sig, &r, &s);
    FUZZ_ASSERT(BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32);
    ECDSA_SIG_free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char in[97], md[32], rs[64];
    const verifier_t *k;
    int i, want, zero = 1;

    fuzz_init();
    setup();
    memset(in, 0, sizeof(in));
    memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
    k = &keys[in[0] & 1];
    memcpy(md, in + 1, 32);
    memcpy(rs, in + 33, 64);
    if (in[0] & 2) {
        sign(rs, k->priv, md);
        for (i = 0; i < 64; i++) {
            rs[i] ^= in[33 + i];
            zero &= in[33 + i] == 0;
        }
    }
    want = evp_verify(k->pub, md, rs);
    FUZZ_ASSERT(ekey_p256_verify(k->plain, md, rs) == want);
    FUZZ_ASSERT(ekey_p256_verify(k->fixed, md, rs) == want);
    FUZZ_ASSERT(!(in[0] & 2) || !zero || want == 1);
    return 0;
}
