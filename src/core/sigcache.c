/*
 * sigcache.c - token signatures already verified in this process, so the second and later
 * uses of a `limit > 1` E-Key skip the ECDSA verification and the decoding and parsing of
 * the payload (the claims are still checked on every use by the caller).
 *
 * The identity of an entry is the SHA-256 of the whole compact token (header, payload and
 * signature) plus the thumbprint of the key that verified it: any changed byte is another
 * digest, so a bad signature can never hit, and a hit also requires that the key found by
 * kid now is the one that verified it then. Digests are compared in constant time. Bounded
 * (SC_SETS x SC_WAYS), an entry expires at the token's exp, and a full set replaces its
 * entry closest to expiry. The set index is the digest itself (unpredictable without the
 * token, which only the issuer can sign). One mutex around a few compares.
 *
 * An entry also keeps the claims object its payload parsed to, shared read-only between
 * threads like the header cache's objects (nothing modifies parsed claims; jansson's
 * reference counts are atomic here).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ekey.h"
#include "ekey_cache.h"

#define SC_SETS 256u                    /* power of two */
#define SC_WAYS 4u

typedef struct {
    unsigned char digest[32];
    char kid[EKEY_JKT_LEN + 1];
    apr_int64_t expires;                /* 0: empty */
    json_t *claims;                     /* the parsed payload (one reference), or NULL */
} sc_entry_t;

static sc_entry_t *sc_table;            /* allocated on first use, until ekey_release */
static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sc_once = PTHREAD_ONCE_INIT;

static void sc_init(void)
{
    sc_table = OPENSSL_zalloc(sizeof(sc_entry_t) * SC_SETS * SC_WAYS);
}

static sc_entry_t *sc_set(const unsigned char *digest)
{
    pthread_once(&sc_once, sc_init);
    if (sc_table == NULL)
        return NULL;
    return &sc_table[(((apr_size_t)digest[0] << 8 | digest[1]) & (SC_SETS - 1)) * SC_WAYS];
}

static int kid_ok(const char *kid)
{
    return kid != NULL && strlen(kid) == EKEY_JKT_LEN;
}

int ekey_sigcache_hit(const unsigned char *digest, const char *kid, apr_int64_t now,
                      json_t **claims)
{
    sc_entry_t *set;
    unsigned w;
    int hit = 0;

    if (claims != NULL)
        *claims = NULL;
    if (digest == NULL || !kid_ok(kid) || (set = sc_set(digest)) == NULL)
        return 0;
    pthread_mutex_lock(&sc_lock);
    for (w = 0; w < SC_WAYS && !hit; w++) {
        hit = set[w].expires > now && CRYPTO_memcmp(set[w].digest, digest, 32) == 0
              && CRYPTO_memcmp(set[w].kid, kid, EKEY_JKT_LEN + 1) == 0;
        if (hit && claims != NULL)
            *claims = json_incref(set[w].claims);
    }
    pthread_mutex_unlock(&sc_lock);
    return hit;
}

void ekey_sigcache_put(const unsigned char *digest, const char *kid, apr_int64_t expires,
                       json_t *claims)
{
    sc_entry_t *set, *victim;
    json_t *evicted;
    unsigned w;

    if (digest == NULL || !kid_ok(kid) || expires <= 0 || (set = sc_set(digest)) == NULL)
        return;
    if (!json_is_object(claims))
        claims = NULL;
    json_incref(claims);
    pthread_mutex_lock(&sc_lock);
    victim = &set[0];
    for (w = 0; w < SC_WAYS; w++) {
        if (CRYPTO_memcmp(set[w].digest, digest, 32) == 0) {
            victim = &set[w];           /* the same token again: refresh in place */
            break;
        }
        if (set[w].expires < victim->expires)
            victim = &set[w];
    }
    memcpy(victim->digest, digest, 32);
    memcpy(victim->kid, kid, EKEY_JKT_LEN + 1);
    victim->expires = expires;
    evicted = victim->claims;
    victim->claims = claims;
    pthread_mutex_unlock(&sc_lock);
    json_decref(evicted);
}

void ekey_sigcache_release(void)
{
    apr_size_t w;

    pthread_once(&sc_once, sc_init);    /* a later first use must not allocate again */
    pthread_mutex_lock(&sc_lock);
    for (w = 0; sc_table != NULL && w < (apr_size_t)SC_SETS * SC_WAYS; w++)
        json_decref(sc_table[w].claims);
    OPENSSL_free(sc_table);
    sc_table = NULL;
    pthread_mutex_unlock(&sc_lock);
}
