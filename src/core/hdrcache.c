/*
 * hdrcache.c - parsed JWS protected headers by their exact base64url text.
 *
 * All tokens signed by one issuer key carry the same header, and all proofs of one DPoP
 * client the same header (typ, alg, jwk): decoding and parsing it on every request repeats
 * the same work. Parsing is a function of the header text alone, so the cache maps that text
 * (compared in full; strict base64url makes it canonical) to the object the parse returned,
 * and a hit is exactly what a parse would give. Every check on the header (forbidden
 * members, alg allowlist, typ, kid, the DPoP jwk) still runs on every request.
 *
 * Per process, bounded (HC_SETS x HC_WAYS entries, headers up to HC_MAX_TEXT characters),
 * least recently used entry replaced within a set, set index from a hash under a random
 * per-process seed. Entries are shared read-only between threads: libekey never modifies
 * a parsed header, and jansson's reference counts are atomic here (JSON_HAVE_ATOMIC_BUILTINS).
 * One mutex: a lookup is a memcmp and a reference count; evictions free outside it.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ekey.h"
#include "ekey_cache.h"

#if !JSON_HAVE_ATOMIC_BUILTINS && !JSON_HAVE_SYNC_BUILTINS
#error "shared headers need jansson's atomic reference counts"
#endif

#define HC_SETS     256u                /* power of two */
#define HC_WAYS     4u
#define HC_MAX_TEXT 1024u               /* a DPoP header with a P-384 jwk is ~ 270 */

typedef struct {
    char *text;                         /* NULL: empty slot; OPENSSL_malloc'd copy */
    apr_size_t len;
    json_t *header;                     /* one reference held by the cache */
    apr_uint64_t used;                  /* LRU clock */
} hc_entry_t;

static hc_entry_t *hc_table;            /* HC_SETS * HC_WAYS, allocated on first use */
static apr_uint64_t hc_seed, hc_clock;
static pthread_mutex_t hc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hc_once = PTHREAD_ONCE_INIT;

/* Lives until ekey_release (at shutdown); after that every lookup misses. */
static void hc_init(void)
{
    hc_entry_t *t = OPENSSL_zalloc(sizeof(hc_entry_t) * HC_SETS * HC_WAYS);

    if (t == NULL || RAND_bytes((unsigned char *)&hc_seed, sizeof(hc_seed)) != 1) {
        OPENSSL_free(t);
        return;
    }
    hc_table = t;
}

static hc_entry_t *hc_set(const char *text, apr_size_t len)
{
    apr_uint64_t h = ekey_cache_hash(hc_seed, (const unsigned char *)text, len);

    return &hc_table[(h & (HC_SETS - 1)) * HC_WAYS];
}

static int hc_usable(const char *text, apr_size_t len)
{
    pthread_once(&hc_once, hc_init);
    return hc_table != NULL && text != NULL && len > 0 && len <= HC_MAX_TEXT;
}

static int same(const hc_entry_t *e, const char *text, apr_size_t len)
{
    return e->text != NULL && e->len == len && memcmp(e->text, text, len) == 0;
}

json_t *ekey_hdrcache_get(const char *text, apr_size_t len)
{
    json_t *found = NULL;
    hc_entry_t *set;
    unsigned w;

    if (!hc_usable(text, len))
        return NULL;
    set = hc_set(text, len);
    pthread_mutex_lock(&hc_lock);
    for (w = 0; w < HC_WAYS; w++) {
        if (same(&set[w], text, len)) {
            found = json_incref(set[w].header);
            set[w].used = ++hc_clock;
            break;
        }
    }
    pthread_mutex_unlock(&hc_lock);
    return found;
}

void ekey_hdrcache_put(const char *text, apr_size_t len, json_t *header)
{
    hc_entry_t *set, *victim;
    char *copy, *evicted_text = NULL;
    json_t *evicted = NULL;
    unsigned w;

    if (!json_is_object(header) || !hc_usable(text, len)
        || (copy = OPENSSL_malloc(len)) == NULL)
        return;
    memcpy(copy, text, len);
    set = hc_set(text, len);
    pthread_mutex_lock(&hc_lock);
    victim = &set[0];
    for (w = 0; w < HC_WAYS; w++) {
        if (same(&set[w], text, len)) {     /* another thread was first */
            victim = NULL;
            break;
        }
        if (set[w].text == NULL) {          /* slots fill in order and never empty again */
            victim = &set[w];
            break;
        }
        if (set[w].used < victim->used)
            victim = &set[w];
    }
    if (victim != NULL) {
        evicted_text = victim->text;
        evicted = victim->header;
        victim->text = copy;
        victim->len = len;
        victim->header = json_incref(header);
        victim->used = ++hc_clock;
        copy = NULL;
    }
    pthread_mutex_unlock(&hc_lock);
    OPENSSL_free(evicted_text);
    json_decref(evicted);
    OPENSSL_free(copy);                     /* ours, when nothing was stored */
}

void ekey_hdrcache_release(void)
{
    apr_size_t i;

    pthread_once(&hc_once, hc_init);        /* a later first use must not allocate again */
    pthread_mutex_lock(&hc_lock);
    for (i = 0; hc_table != NULL && i < (apr_size_t)HC_SETS * HC_WAYS; i++) {
        OPENSSL_free(hc_table[i].text);
        json_decref(hc_table[i].header);
    }
    OPENSSL_free(hc_table);
    hc_table = NULL;
    pthread_mutex_unlock(&hc_lock);
}
