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

#include <openssl/evp.h>

#include "fuzz.h"
#include "ekey_cache.h"
#include "../unit/ecdsa_oracle.h"

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
        FUZZ_ASSERT(ecdsa_oracle_sign(rs, k->priv, md));
        for (i = 0; i < 64; i++) {
            rs[i] ^= in[33 + i];
            zero &= in[33 + i] == 0;
        }
    }
    want = ecdsa_oracle_verify(k->pub, md, rs);
    FUZZ_ASSERT(want >= 0);
    FUZZ_ASSERT(ekey_p256_verify(k->plain, md, rs) == want);
    FUZZ_ASSERT(ekey_p256_verify(k->fixed, md, rs) == want);
    FUZZ_ASSERT(!(in[0] & 2) || !zero || want == 1);
    return 0;
}
