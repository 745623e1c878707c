/*
 * crypto.c - hashing, constant-time comparison and randomness.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ekey.h"
#include "ekey_cache.h"

/* Fetched once per process: an implicit fetch per digest (EVP_sha256 under OpenSSL 3)
 * costs a provider lookup and a lock on every request. Freed by ekey_release. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int ekey_sha256_raw(unsigned char *md, const void *data, apr_size_t len)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok;

    if (md == NULL || (data == NULL && len > 0))
        return 0;
    pthread_once(&sha256_once, fetch_sha256);
    ok = EVP_Digest(data != NULL ? data : "", len, buf, &mdlen,
                    sha256_md != NULL ? sha256_md : EVP_sha256(), NULL) == 1
         && mdlen == 32;
    if (ok)
        memcpy(md, buf, 32);
    OPENSSL_cleanse(buf, sizeof(buf));
    return ok;
}

char *ekey_sha256_b64url(apr_pool_t *p, const void *data, apr_size_t len)
{
    unsigned char md[32];
    char *out;

    if (p == NULL || !ekey_sha256_raw(md, data, len))
        return NULL;
    out = ekey_b64url_encode(p, md, sizeof(md));
    OPENSSL_cleanse(md, sizeof(md));
    return out;
}

int ekey_ct_streq(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL)
        return 0;
    la = strlen(a);
    lb = strlen(b);
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}

ekey_status_t ekey_random(unsigned char *buf, apr_size_t n, ekey_error_t *err)
{
    if (buf == NULL && n > 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "random", "missing buffer");
    if (n == 0)
        return EKEY_OK;
    if (n > INT_MAX)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "random", "request too large");
    /* Only 1 is success; 0 and -1 both mean the buffer holds nothing usable. */
    if (RAND_bytes(buf, (int)n) != 1) {
        OPENSSL_cleanse(buf, n);
        ekey_error_set(err, EKEY_E_CRYPTO, "random", "RAND_bytes failed");
        ekey_error_drain_openssl(err);
        return EKEY_E_CRYPTO;
    }
    return EKEY_OK;
}

/* Ids (traces, jti) are taken 32 at a time from a per-thread buffer: RAND_bytes costs about
 * as much for 512 bytes as for 16 (DRBG state checks and re-keying per call), and inside
 * httpd that fixed cost was about 4 % of a mint. The buffer belongs to the process that
 * filled it: a forked child (httpd's children, any CLI fork) refills before its first id,
 * so no two processes can hand out the same ids. A used id is wiped from the buffer. */
#define IDS_PER_FILL 32

typedef struct {
    unsigned char raw[IDS_PER_FILL][EKEY_TRACE_BYTES];
    unsigned next;                      /* first unused; IDS_PER_FILL: empty */
    pid_t pid;                          /* the process that filled it */
} id_buffer_t;

static __thread id_buffer_t id_buffer = { .next = IDS_PER_FILL };

ekey_status_t ekey_random_id(const char **out, apr_pool_t *p, ekey_error_t *err)
{
    id_buffer_t *b = &id_buffer;
    pid_t pid = getpid();
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "random.id", "missing argument");
    *out = NULL;
    if (b->next >= IDS_PER_FILL || b->pid != pid) {
        b->next = IDS_PER_FILL;
        if ((st = ekey_random(&b->raw[0][0], sizeof(b->raw), err)) != EKEY_OK)
            return st;
        b->next = 0;
        b->pid = pid;
    }
    *out = ekey_b64url_encode(p, b->raw[b->next], EKEY_TRACE_BYTES);
    OPENSSL_cleanse(b->raw[b->next], EKEY_TRACE_BYTES);
    b->next++;
    return EKEY_OK;
}

int ekey_lazy_state(int *state, pthread_mutex_t *lock, int (*init)(void))
{
    int st;

    /* Ready is published with release order after init filled everything in: the request
     * path reads it without the lock. */
    if ((st = __atomic_load_n(state, __ATOMIC_ACQUIRE)) == 0) {
        pthread_mutex_lock(lock);
        if ((st = *state) == 0) {
            st = init();
            __atomic_store_n(state, st, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(lock);
    }
    return st;
}

void ekey_release(void)
{
    EVP_MD *md = sha256_md;

    sha256_md = NULL;               /* later digests take the implicit fetch */
    EVP_MD_free(md);
    ekey_keycache_release();
    ekey_hdrcache_release();
    ekey_sigcache_release();
    ekey_jws_release();
    ekey_p256_release();
}
