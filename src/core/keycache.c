/*
 * keycache.c - imported public keys by their exact bytes, so a returning DPoP client does
 * not pay for EVP_PKEY construction and the public-key check on every request.
 *
 * Per process, bounded (KC_SETS x KC_WAYS entries), least recently used entry replaced
 * within a set. The identity of an entry is the curve and the complete decoded public key,
 * compared byte for byte: the base64url decoding before us is strict (canonical), so equal
 * bytes are exactly equal JWK members, and a different key can never hit. The set index
 * comes from a hash under a random per-process seed; aiming many keys at one set only
 * evicts entries (more misses), never changes what a hit returns. One mutex: a lookup is a
 * few memcmp and an EVP_PKEY_up_ref; evicted keys are freed outside it. A P-256 key that
 * p256.c verifies is kept without an EVP_PKEY (none was built: jwk.c makes one on demand).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ekey.h"
#include "ekey_cache.h"

#define KC_SETS 256u                    /* power of two */
#define KC_WAYS 4u

typedef struct {
    EVP_PKEY *pkey;                     /* NULL for a P-256 key kept as p256 only */
    EVP_PKEY_CTX *vctx;                 /* prepared verification context or NULL */
    ekey_p256_t *p256;                  /* P-256 verifier (a reference) or NULL */
    unsigned curve;
    apr_size_t publen;
    unsigned char pub[EKEY_CACHE_MAX_PUB];
    char thumb[EKEY_JKT_LEN + 1];
    apr_uint64_t used;                  /* LRU clock */
} kc_entry_t;

static kc_entry_t *kc_table;            /* KC_SETS * KC_WAYS, allocated on first use */
static apr_uint64_t kc_seed, kc_clock;
static pthread_mutex_t kc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t kc_once = PTHREAD_ONCE_INIT;

/* Lives until ekey_release (at shutdown); after that every lookup misses. */
static void kc_init(void)
{
    kc_entry_t *t = OPENSSL_zalloc(sizeof(kc_entry_t) * KC_SETS * KC_WAYS);

    if (t == NULL || RAND_bytes((unsigned char *)&kc_seed, sizeof(kc_seed)) != 1) {
        OPENSSL_free(t);
        return;                         /* no table: every lookup misses */
    }
    kc_table = t;
}

/* Seeded multiply-rotate over 8-byte words and the splitmix64 finaliser, so that any
 * changed byte changes the result at random. Not a MAC: a collision only costs a miss. */
apr_uint64_t ekey_cache_hash(apr_uint64_t seed, const unsigned char *b, apr_size_t n)
{
    apr_uint64_t h = seed, w;
    apr_size_t i, j;

    for (i = 0; i < n; i += 8) {
        for (w = 0, j = i; j < i + 8 && j < n; j++)
            w = (w << 8) | b[j];
        h ^= w * 0x87c37b91114253d5ull;
        h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937full;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static kc_entry_t *kc_set(unsigned curve, const unsigned char *pub, apr_size_t publen)
{
    apr_uint64_t h = ekey_cache_hash(kc_seed ^ (0x9e3779b97f4a7c15ull * (curve + 1)), pub,
                                     publen);

    return &kc_table[(h & (KC_SETS - 1)) * KC_WAYS];
}

static int kc_usable(unsigned curve, const unsigned char *pub, apr_size_t publen)
{
    pthread_once(&kc_once, kc_init);
    return kc_table != NULL && pub != NULL && publen > 0 && publen <= EKEY_CACHE_MAX_PUB
           && curve != 0;
}

/* A slot holds a key when it has either form of it; slots fill in order, never empty. */
static int taken(const kc_entry_t *e)
{
    return e->pkey != NULL || e->p256 != NULL;
}

static int same(const kc_entry_t *e, unsigned curve, const unsigned char *pub,
                apr_size_t publen)
{
    return taken(e) && e->curve == curve && e->publen == publen
           && memcmp(e->pub, pub, publen) == 0;
}

int ekey_keycache_get(EVP_PKEY **pkey, EVP_PKEY_CTX **vctx, ekey_p256_t **p256, char *thumb,
                      unsigned curve, const unsigned char *pub, apr_size_t publen)
{
    kc_entry_t *set;
    unsigned w;
    int hit = 0;

    *pkey = NULL;
    *vctx = NULL;
    *p256 = NULL;
    if (!kc_usable(curve, pub, publen))
        return 0;
    set = kc_set(curve, pub, publen);
    pthread_mutex_lock(&kc_lock);
    for (w = 0; w < KC_WAYS; w++) {
        if (same(&set[w], curve, pub, publen)
            && (set[w].pkey == NULL || EVP_PKEY_up_ref(set[w].pkey) == 1)) {
            *pkey = set[w].pkey;
            /* copied under the lock: eviction frees the entry's context */
            if (set[w].vctx != NULL)
                *vctx = EVP_PKEY_CTX_dup(set[w].vctx);
            *p256 = ekey_p256_ref(set[w].p256);
            memcpy(thumb, set[w].thumb, sizeof(set[w].thumb));
            set[w].used = ++kc_clock;
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&kc_lock);
    return hit;
}

void ekey_keycache_put(unsigned curve, const unsigned char *pub, apr_size_t publen,
                       EVP_PKEY *pkey, const EVP_PKEY_CTX *vctx, ekey_p256_t *p256,
                       const char *thumb)
{
    EVP_PKEY *evicted = NULL;
    EVP_PKEY_CTX *ctx = NULL, *evicted_ctx = NULL;
    ekey_p256_t *evicted_p256 = NULL;
    kc_entry_t *set, *victim;
    unsigned w;

    if ((pkey == NULL && p256 == NULL) || thumb == NULL || strlen(thumb) != EKEY_JKT_LEN
        || !kc_usable(curve, pub, publen))
        return;
    if (vctx != NULL && (ctx = EVP_PKEY_CTX_dup(vctx)) == NULL)
        return;
    if (pkey != NULL && EVP_PKEY_up_ref(pkey) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return;
    }
    p256 = ekey_p256_ref(p256);
    set = kc_set(curve, pub, publen);
    pthread_mutex_lock(&kc_lock);
    victim = &set[0];
    for (w = 0; w < KC_WAYS; w++) {
        if (same(&set[w], curve, pub, publen)) {    /* another thread was first */
            victim = NULL;
            break;
        }
        if (!taken(&set[w])) {          /* slots fill in order and never empty again */
            victim = &set[w];
            break;
        }
        if (set[w].used < victim->used)
            victim = &set[w];
    }
    if (victim != NULL) {
        evicted = victim->pkey;
        evicted_ctx = victim->vctx;
        evicted_p256 = victim->p256;
        victim->pkey = pkey;
        victim->vctx = ctx;
        victim->p256 = p256;
        victim->curve = curve;
        victim->publen = publen;
        memcpy(victim->pub, pub, publen);
        memcpy(victim->thumb, thumb, sizeof(victim->thumb));
        victim->used = ++kc_clock;
        pkey = NULL;
        ctx = NULL;
        p256 = NULL;
    }
    pthread_mutex_unlock(&kc_lock);
    EVP_PKEY_CTX_free(evicted_ctx);
    EVP_PKEY_free(evicted);
    ekey_p256_unref(evicted_p256);
    EVP_PKEY_CTX_free(ctx);             /* ours, when nothing was stored */
    EVP_PKEY_free(pkey);
    ekey_p256_unref(p256);
}

void ekey_keycache_release(void)
{
    apr_size_t i;

    pthread_once(&kc_once, kc_init);    /* a later first use must not allocate again */
    pthread_mutex_lock(&kc_lock);
    for (i = 0; kc_table != NULL && i < (apr_size_t)KC_SETS * KC_WAYS; i++) {
        EVP_PKEY_free(kc_table[i].pkey);
        EVP_PKEY_CTX_free(kc_table[i].vctx);
        ekey_p256_unref(kc_table[i].p256);
    }
    OPENSSL_free(kc_table);
    kc_table = NULL;
    pthread_mutex_unlock(&kc_lock);
}
