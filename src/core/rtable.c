/*
 * rtable.c - the replay table: trace use counters and DPoP jti memory in one flat region.
 *
 * The region is shared memory in httpd (ekey_shm.c) and plain memory in tests; the caller
 * holds a lock around every call. It is a replay table, not a cache: a live entry is never
 * evicted. Open addressing with a bounded probe window; an entry whose expiry has passed is
 * free for reuse in place, so no deletion and no tombstones are needed. When the window of a
 * key holds no free slot the table is full and the request is refused (fail closed).
 *
 * Slots are chosen by SipHash-2-4 under a random key made when the region is formatted, so a
 * client cannot aim many traces at one window (hash flooding).
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ekey.h"

#define RT_MAGIC    0x454b5254u   /* "EKRT" */
#define RT_VERSION  1u
#define RT_WINDOW   64u           /* probe window: bounded work per request */
#define KIND_TRACE  1u
#define KIND_JTI    2u

typedef struct {
    apr_uint32_t magic, version;
    apr_uint64_t capacity;
    apr_uint64_t k0, k1;          /* SipHash key */
    apr_uint64_t allowed, replays, full_events;
    apr_uint64_t pad[1];
} rt_header_t;                    /* 64 bytes */

typedef struct {
    unsigned char key[16];        /* SHA-256 of kind and value, truncated */
    apr_int64_t expires;          /* 0: never used; <= now: free */
    apr_uint32_t uses;
    apr_uint32_t kind;
} rt_entry_t;                     /* 32 bytes */

struct ekey_rtable_t {
    rt_header_t *hdr;
    rt_entry_t *slots;
    apr_size_t capacity;
};

/* ----------------------------------------------------------------- siphash */

#define ROTL(x, b) (apr_uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND \
    do { v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
         v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
         v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
         v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); } while (0)

static apr_uint64_t load64(const unsigned char *p)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* SipHash-2-4 of exactly 16 bytes (the digest): two message words and the length block. */
static apr_uint64_t siphash16(apr_uint64_t k0, apr_uint64_t k1, const unsigned char *m)
{
    apr_uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    apr_uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    apr_uint64_t w[3];
    int i;

    w[0] = load64(m);
    w[1] = load64(m + 8);
    w[2] = (apr_uint64_t)16 << 56;
    for (i = 0; i < 3; i++) {
        v3 ^= w[i];
        SIPROUND;
        SIPROUND;
        v0 ^= w[i];
    }
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---------------------------------------------------------------- layout */

apr_size_t ekey_rtable_size(apr_size_t capacity)
{
    if (capacity == 0 || capacity > ((apr_size_t)-1 - sizeof(rt_header_t)) / sizeof(rt_entry_t))
        return 0;
    return sizeof(rt_header_t) + capacity * sizeof(rt_entry_t);
}

ekey_status_t ekey_rtable_attach(ekey_rtable_t **out, apr_pool_t *p, void *mem,
                                 apr_size_t capacity, int format, ekey_error_t *err)
{
    rt_header_t *h = mem;
    unsigned char key[16];
    ekey_rtable_t *t;
    ekey_status_t st;

    *out = NULL;
    if (mem == NULL || ekey_rtable_size(capacity) == 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable", "no memory or bad capacity");
    if (format) {
        if ((st = ekey_random(key, sizeof(key), err)) != EKEY_OK)
            return st;
        memset(mem, 0, ekey_rtable_size(capacity));
        h->magic = RT_MAGIC;
        h->version = RT_VERSION;
        h->capacity = capacity;
        h->k0 = load64(key);
        h->k1 = load64(key + 8);
        OPENSSL_cleanse(key, sizeof(key));
    }
    else if (h->magic != RT_MAGIC || h->version != RT_VERSION || h->capacity != capacity) {
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable",
                              "region is not a replay table of capacity %lu",
                              (unsigned long)capacity);
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->hdr = h;
    t->slots = (rt_entry_t *)(h + 1);
    t->capacity = capacity;
    *out = t;
    return EKEY_OK;
}

/* ---------------------------------------------------------------- lookup */

/* SHA-256 of kind || a || ":" || b, truncated to 16 bytes: collision resistant, so two
 * distinct ids never share an entry. The inputs are base64url or printable ids (jti <= 256
 * characters), so they fit the stack buffer and ':' never occurs inside a jkt. Returns 0
 * when they do not fit. */
static int digest(unsigned char out[16], unsigned kind, const char *a, const char *b)
{
    unsigned char buf[512], md[SHA256_DIGEST_LENGTH];
    apr_size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;

    if (la + lb + 2 > sizeof(buf))
        return 0;
    buf[0] = (unsigned char)kind;
    memcpy(buf + 1, a, la);
    buf[1 + la] = ':';
    if (lb > 0)
        memcpy(buf + 2 + la, b, lb);
    if (SHA256(buf, la + lb + 2, md) == NULL)
        return 0;
    memcpy(out, md, 16);
    return 1;
}

typedef struct {
    apr_size_t found;             /* index of the live entry, or capacity when absent */
    apr_size_t free1, free2;      /* first two reusable slots of the window, or capacity */
} probe_t;

static void probe(const ekey_rtable_t *t, const unsigned char key[16], unsigned kind,
                  apr_int64_t now, probe_t *pr)
{
    apr_size_t n = t->capacity, i, idx, win = n < RT_WINDOW ? n : RT_WINDOW;
    const rt_entry_t *e;

    pr->found = pr->free1 = pr->free2 = n;
    idx = (apr_size_t)(siphash16(t->hdr->k0, t->hdr->k1, key) % n);
    for (i = 0; i < win; i++, idx = (idx + 1 == n) ? 0 : idx + 1) {
        e = &t->slots[idx];
        if (e->expires <= now) {  /* free or expired: reusable, and the probe goes on */
            if (pr->free1 == n)
                pr->free1 = idx;
            else if (pr->free2 == n)
                pr->free2 = idx;
        }
        else if (e->kind == kind && memcmp(e->key, key, 16) == 0) {
            pr->found = idx;
            return;
        }
    }
}

static void put(rt_entry_t *e, const unsigned char key[16], unsigned kind,
                apr_int64_t expires, apr_uint32_t uses)
{
    memcpy(e->key, key, 16);
    e->kind = kind;
    e->expires = expires;
    e->uses = uses;
}

/* A free slot for the jti that is not the one just chosen for the trace. */
static apr_size_t other_free(const probe_t *pj, apr_size_t taken)
{
    return pj->free1 != taken ? pj->free1 : pj->free2;
}

static ekey_status_t full(ekey_rtable_t *t, ekey_error_t *err)
{
    t->hdr->full_events++;
    return ekey_error_set(err, EKEY_E_STORE_FULL, "rtable",
                          "replay table full: no free slot in the probe window");
}

ekey_status_t ekey_rtable_consume(ekey_rtable_t *t, const ekey_consume_t *req,
                                  apr_int64_t *uses_left, ekey_error_t *err)
{
    unsigned char kt[16], kj[16];
    probe_t pt, pj;
    apr_size_t n, ts, js = 0;
    rt_entry_t *e;
    int has_jti;

    *uses_left = 0;
    if (t == NULL || req == NULL || req->trace == NULL || req->limit < 1
        || req->limit > 0x7fffffff || req->trace_expires <= req->now)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable", "bad consume request");
    n = t->capacity;
    has_jti = req->jti != NULL;
    if (!digest(kt, KIND_TRACE, req->trace, NULL)
        || (has_jti && !digest(kj, KIND_JTI, req->jkt != NULL ? req->jkt : "", req->jti)))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable", "trace or jti too long");
    probe(t, kt, KIND_TRACE, req->now, &pt);
    if (has_jti) {
        probe(t, kj, KIND_JTI, req->now, &pj);
        if (pj.found != n) {
            t->hdr->replays++;
            return ekey_error_set(err, EKEY_E_JTI_REPLAY, "rtable", "DPoP jti seen before");
        }
    }
    if (pt.found != n && t->slots[pt.found].uses >= (apr_uint64_t)req->limit) {
        t->hdr->replays++;
        if (has_jti && pj.free1 != n)  /* remember the proof too: best effort */
            put(&t->slots[pj.free1], kj, KIND_JTI, req->jti_expires, 0);
        return ekey_error_set(err, EKEY_E_REPLAY, "rtable", "all uses consumed");
    }
    /* Both slots are found before anything changes: all or nothing. */
    ts = pt.found != n ? pt.found : pt.free1;
    if (ts == n)
        return full(t, err);
    if (has_jti && (js = other_free(&pj, ts)) == n)
        return full(t, err);
    e = &t->slots[ts];
    if (pt.found == n)
        put(e, kt, KIND_TRACE, req->trace_expires, 0);
    e->uses++;
    if (has_jti)
        put(&t->slots[js], kj, KIND_JTI,
            req->jti_expires > req->now ? req->jti_expires : req->now + 1, 0);
    t->hdr->allowed++;
    *uses_left = req->limit - (apr_int64_t)e->uses;
    return EKEY_OK;
}

void ekey_rtable_stats(const ekey_rtable_t *t, apr_int64_t now, ekey_rtable_stats_t *out)
{
    apr_size_t i;

    memset(out, 0, sizeof(*out));
    if (t == NULL)
        return;
    out->capacity = t->capacity;
    for (i = 0; i < t->capacity; i++)
        if (t->slots[i].expires > now)
            out->live++;
    out->full_events = (apr_size_t)t->hdr->full_events;
    out->allowed = t->hdr->allowed;
    out->replays = t->hdr->replays;
}
