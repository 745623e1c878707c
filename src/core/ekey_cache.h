/*
 * ekey_cache.h - libekey's internal per-process caches and fast paths of the request and
 * minting paths (not part of the public API).
 *
 * Both are bounded, set-associative tables behind one mutex each; the critical section is
 * a few compares and a reference count. They only ever save work: a lookup that misses
 * does the full check, and only the result of a full check that passed is stored, so a
 * bad signature or a different key can never become a hit.
 */
#ifndef EKEY_CACHE_H
#define EKEY_CACHE_H

#include <pthread.h>
#include <stdint.h>

#include <apr.h>
#include <openssl/types.h>

#include "ekey.h"

/* Internal: never exported, not even by the installed libekey (-fvisibility=default). */
#if defined(__GNUC__)
#define EKEY_INTERNAL __attribute__((visibility("hidden")))
#else
#define EKEY_INTERNAL
#endif

#define EKEY_CACHE_MAX_PUB 96          /* x || y of P-384 */

/* Imported public keys by their exact public bytes: curve id (an ekey_alg_t), then the
 * decoded coordinates (x || y for EC, the raw key for Ed25519), compared in full.
 * get: on a hit 1, a new reference in *pkey (NULL for a P-256 key kept only as its p256.c
 * verifier), a copy of the entry's prepared verification context in *vctx (NULL when it has
 * none), a new reference to its P-256 verifier in *p256 (or NULL; the caller releases all
 * three) and the RFC 7638 thumbprint copied to thumb (44 bytes with the NUL); 0 otherwise.
 * put: stores a key that passed import with its prepared context and P-256 verifier (pkey
 * or p256 may be NULL, not both; vctx may be); the cache takes its own references and copy.
 * A full set drops its least recently used entry. */
typedef struct ekey_p256_t ekey_p256_t;
EKEY_INTERNAL int ekey_keycache_get(EVP_PKEY **pkey, EVP_PKEY_CTX **vctx, ekey_p256_t **p256,
                                    char *thumb, unsigned curve, const unsigned char *pub,
                                    apr_size_t publen);
EKEY_INTERNAL void ekey_keycache_put(unsigned curve, const unsigned char *pub,
                                     apr_size_t publen, EVP_PKEY *pkey,
                                     const EVP_PKEY_CTX *vctx, ekey_p256_t *p256,
                                     const char *thumb);
/* Frees the key cache (ekey_release); afterwards every lookup misses. */
EKEY_INTERNAL void ekey_keycache_release(void);
/* The caches' set index: a seeded hash of n bytes (not a MAC: a collision is a miss). */
EKEY_INTERNAL apr_uint64_t ekey_cache_hash(apr_uint64_t seed, const unsigned char *b,
                                           apr_size_t n);

/* A JSON object in the simple subset json_fast.c reads (ASCII strings, small integers, no
 * duplicate member), as a new jansson object; NULL for anything else, valid or not: then
 * jansson must decide. */
EKEY_INTERNAL json_t *ekey_json_fast(const char *buf, apr_size_t len);

/* Parsed JWS protected headers by their exact base64url text (hdrcache.c). get: a new
 * reference to the object a parse of that text returned, or NULL. put: stores a header that
 * parsed (the cache takes its own reference); the object must never be modified after. */
EKEY_INTERNAL json_t *ekey_hdrcache_get(const char *text, apr_size_t len);
EKEY_INTERNAL void ekey_hdrcache_put(const char *text, apr_size_t len, json_t *header);
/* Frees the header cache (ekey_release); afterwards every lookup misses. */
EKEY_INTERNAL void ekey_hdrcache_release(void);

/* The key's prepared ECDSA verification context (EVP_PKEY_verify_init done), or NULL (EdDSA,
 * private keys). It is shared and never used directly: verifiers work on an
 * EVP_PKEY_CTX_dup of it, which only reads it, so threads may share the key. */
EKEY_INTERNAL EVP_PKEY_CTX *ekey_jwk_verify_ctx(const ekey_jwk_t *key);
/* The same for signing (EVP_PKEY_sign_init done): keys loaded from a private PEM file. */
EKEY_INTERNAL EVP_PKEY_CTX *ekey_jwk_sign_ctx(const ekey_jwk_t *key);
/* 1 for an Ed25519 public key (32 bytes) of small order or not canonical (jwk_ed25519.c). */
EKEY_INTERNAL int ekey_ed25519_weak(const unsigned char *a);

/* ES256 verification on OpenSSL's P-256 arithmetic (p256.c). A key is reference counted
 * and immutable once made; NULL from new/fixed never fails a caller: it verifies through
 * EVP instead (FIPS mode, no memory, ekey_p256_set_enabled(0)). new: from the affine
 * coordinates (32 bytes each, big-endian; checked to be on the curve). fixed: the same
 * key with a table of its multiples (about 150 KB, built once per process for at most 16
 * keys, tens of milliseconds; for configured issuer keys, called while the configuration
 * is read): a new reference to it, or to k itself when no table can be had. verify: md is
 * the SHA-256 digest, rs the JOSE signature r || s (64 bytes); 1 valid, 0 not valid, -1
 * not computed (the caller must then verify another way). */
EKEY_INTERNAL ekey_p256_t *ekey_p256_new(const unsigned char *x, const unsigned char *y);
EKEY_INTERNAL ekey_p256_t *ekey_p256_fixed(const ekey_p256_t *k);
EKEY_INTERNAL ekey_p256_t *ekey_p256_ref(ekey_p256_t *k);
EKEY_INTERNAL void ekey_p256_unref(ekey_p256_t *k);
EKEY_INTERNAL int ekey_p256_is_fixed(const ekey_p256_t *k);
/* The key's coordinates, x || y (64 bytes, big-endian). */
EKEY_INTERNAL const unsigned char *ekey_p256_xy(const ekey_p256_t *k);
EKEY_INTERNAL int ekey_p256_verify(const ekey_p256_t *k, const unsigned char *md,
                                   const unsigned char *rs);
/* Tests: 0 makes keys made from now on verify through EVP; 1 allows the fast path again. */
EKEY_INTERNAL void ekey_p256_set_enabled(int on);
/* Frees the tables, the scratch and the group (ekey_release). */
EKEY_INTERNAL void ekey_p256_release(void);
/* out = a^-1 mod n, n the order of P-256, for 0 < a < n; 4 little-endian 64-bit limbs
 * each, variable time (for public values: a signature's s). 1 done, 0 not (a = 0 or a
 * multiple of n). p256_inv.c. */
EKEY_INTERNAL int ekey_p256_inv_n(uint64_t *out, const uint64_t *a);
/* A key from a PEM file (jwk_pem.c): the public key, or else the private key, when
 * want_private is 0; only a private key when it is 1. Never asks for a passphrase. NULL if
 * the file has none; the caller owns the result. */
EKEY_INTERNAL EVP_PKEY *ekey_pem_read(const char *path, int want_private);
/* The key's P-256 verifier, or NULL (other curves, or none could be made). */
EKEY_INTERNAL const ekey_p256_t *ekey_jwk_p256(const ekey_jwk_t *key);

/* Verified token signatures, by SHA-256 of the whole compact token and the thumbprint of
 * the key that verified it. An entry is a hit only while now < expires (the token's exp);
 * digests are compared in constant time. Callers store only tokens that passed every check
 * and may be presented again (cap.limit > 1), with the claims object their payload parsed
 * to (the cache keeps a reference; the object must never be modified after). hit: 1 and,
 * when claims is not NULL, a new reference to the stored claims (NULL if none) in *claims. */
EKEY_INTERNAL int ekey_sigcache_hit(const unsigned char *digest, const char *kid,
                                    apr_int64_t now, json_t **claims);
EKEY_INTERNAL void ekey_sigcache_put(const unsigned char *digest, const char *kid,
                                     apr_int64_t expires, json_t *claims);
/* Frees the signature cache (ekey_release); afterwards every lookup misses. */
EKEY_INTERNAL void ekey_sigcache_release(void);
/* Frees the digests jws.c fetched (ekey_release); a later use fetches them again. */
EKEY_INTERNAL void ekey_jws_release(void);

/* ekey_jws_sign for a header and payload already serialised as compact JSON (the header's
 * alg must be the key's): the minting path writes its JSON directly (token.c). */
EKEY_INTERNAL ekey_status_t ekey_jws_sign_json(char **out, apr_pool_t *p, const char *hjson,
                                               const char *pjson, const ekey_jwk_t *priv,
                                               ekey_error_t *err);

/* A state word set once by init under lock (0: not yet; init returns 1 for ready, -1 for
 * unavailable), read without the lock after that; returns it. A release stores 0 under
 * the lock, and the next use initialises again. */
EKEY_INTERNAL int ekey_lazy_state(int *state, pthread_mutex_t *lock, int (*init)(void));

/* SHA-256 of data into md (32 bytes) with the digest fetched once; 0 on failure. */
EKEY_INTERNAL int ekey_sha256_raw(unsigned char *md, const void *data, apr_size_t len);

#endif /* EKEY_CACHE_H */
