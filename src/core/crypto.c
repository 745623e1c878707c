/*
 * crypto.c - hashing, constant-time comparison and randomness.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

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

ekey_status_t ekey_random_id(const char **out, apr_pool_t *p, ekey_error_t *err)
{
    unsigned char raw[EKEY_TRACE_BYTES];
    ekey_status_t st;

    if (out == NULL || p == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "random.id", "missing argument");
    *out = NULL;
    if ((st = ekey_random(raw, sizeof(raw), err)) != EKEY_OK)
        return st;
    *out = ekey_b64url_encode(p, raw, sizeof(raw));
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
