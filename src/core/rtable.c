/*
 * rtable.c - the replay table: trace use counters and DPoP jti memory in one flat region.
 *
 * The region is shared memory in httpd (ekey_shm.c) and plain memory in tests; the caller
 * holds a lock around every call. It is a replay table, not a cache: a live entry is never
 * evicted. The slots form buckets of RT_BUCKET (the last one takes the remainder) and every
 * key has two candidate buckets; a new key goes into the one with fewer live entries. Two
 * choices keep the buckets even, so a table fills to well above 90% before a key finds both
 * of its buckets full, where one linear-probing window of 64 slots failed near 55% and read
 * twice as much memory. An entry whose expiry has passed is free for reuse in place, so
 * there is no deletion and no tombstone; a lookup scans both buckets whole. When neither
 * bucket holds a reusable slot the table is full and the request is refused (fail closed).
 *
 * Entries are identified by SipHash-2-4 with a 128-bit output under a random key made when
 * the region is formatted: "t" || trace, or "j" || len(jkt) || jkt || jti (the jti is
 * namespaced by the proof key). The same keyed digest picks the buckets, so a client cannot
 * aim many ids at one bucket (hash flooding) nor predict a collision. The hashing and the
 * loading of both buckets into the cache happen before the lock (ekey_rtable_prepare);
 * under it there is no allocation, no hashing, no OpenSSL, no system call and (normally) no
 * wait for memory, only the scan of cached slots and the writes.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "ekey.h"

#define RT_MAGIC      0x454b5254u   /* "EKRT" */
#define RT_VERSION    3u            /* 3: two-choice buckets (2: one linear window) */
#define RT_BUCKET     16u           /* slots per bucket: 512 bytes, bounded work per lookup */
#define RT_MAX_ID_LEN 4096u         /* longest trace, jkt or jti we hash (time bound) */

typedef struct {
    apr_uint32_t magic, version;
    apr_uint64_t capacity;
    apr_uint64_t k0, k1;            /* SipHash key */
    apr_uint64_t allowed, replays, full_events;
    apr_int64_t latest;             /* the latest `now` a consume brought (0 before any) */
} rt_header_t;                      /* 64 bytes */

typedef struct {
    apr_uint64_t id[2];             /* keyed digest; id[0], id[1] pick the buckets */
    apr_int64_t expires;            /* 0: never used; <= now: free for reuse */
    apr_uint32_t uses;              /* trace entries: uses consumed */
    apr_uint32_t spare;
} rt_entry_t;                       /* 32 bytes */

struct ekey_rtable_t {
    rt_header_t *hdr;
    rt_entry_t *slots;
    apr_size_t capacity;
};

/* ---------------------------------------------------- SipHash-2-4, 128-bit */

typedef struct {
    apr_uint64_t v0, v1, v2, v3;
    unsigned char tail[8];
    apr_size_t ntail, total;
} sip_t;

#define ROTL(x, b) (apr_uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(sip_t *s)
{
    s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

static apr_uint64_t load64(const unsigned char *p)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sip_word(sip_t *s, apr_uint64_t m)
{
    s->v3 ^= m;
    sipround(s);
    sipround(s);
    s->v0 ^= m;
}

static void sip_init(sip_t *s, apr_uint64_t k0, apr_uint64_t k1)
{
    s->v0 = k0 ^ 0x736f6d6570736575ULL;
    s->v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;   /* 0xee: the 128-bit output variant */
    s->v2 = k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k1 ^ 0x7465646279746573ULL;
    s->ntail = s->total = 0;
}

static void sip_update(sip_t *s, const void *data, apr_size_t len)
{
    const unsigned char *p = data;

    s->total += len;
    while (len > 0) {
        s->tail[s->ntail++] = *p++;
        len--;
        if (s->ntail == 8) {
            sip_word(s, load64(s->tail));
            s->ntail = 0;
        }
    }
}

static void sip_final(sip_t *s, apr_uint64_t out[2])
{
    apr_uint64_t b = (apr_uint64_t)(s->total & 0xff) << 56;
    apr_size_t i;

    for (i = 0; i < s->ntail; i++)
        b |= (apr_uint64_t)s->tail[i] << (8 * i);
    sip_word(s, b);
    s->v2 ^= 0xee;
    for (i = 0; i < 4; i++)
        sipround(s);
    out[0] = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
    s->v1 ^= 0xdd;
    for (i = 0; i < 4; i++)
        sipround(s);
    out[1] = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* ---------------------------------------------------------------- layout */

apr_size_t ekey_rtable_size(apr_size_t capacity)
{
    if (capacity == 0
        || capacity > ((apr_size_t)-1 - sizeof(rt_header_t)) / sizeof(rt_entry_t))
        return 0;
    return sizeof(rt_header_t) + capacity * sizeof(rt_entry_t);
}

static void format_region(void *mem, apr_size_t capacity, const unsigned char key[16])
{
    rt_header_t *h = mem;

    memset(mem, 0, ekey_rtable_size(capacity));
    h->magic = RT_MAGIC;
    h->version = RT_VERSION;
    h->capacity = capacity;
    h->k0 = load64(key);
    h->k1 = load64(key + 8);
}

ekey_status_t ekey_rtable_attach(ekey_rtable_t **out, apr_pool_t *p, void *mem,
                                 apr_size_t capacity, int format, ekey_error_t *err)
{
    const rt_header_t *h = mem;
    unsigned char key[16];
    ekey_rtable_t *t;
    ekey_status_t st;

    *out = NULL;
    if (mem == NULL || ekey_rtable_size(capacity) == 0
        || ((apr_uintptr_t)mem % sizeof(apr_uint64_t)) != 0)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.attach",
                              "no memory, misaligned memory or bad capacity");
    if (format) {
        if ((st = ekey_random(key, sizeof(key), err)) != EKEY_OK)
            return st;
        format_region(mem, capacity, key);
        OPENSSL_cleanse(key, sizeof(key));
    }
    else if (h->magic != RT_MAGIC || h->version != RT_VERSION || h->capacity != capacity) {
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.attach",
                              "region is not a version %u replay table of %lu entries",
                              RT_VERSION, (unsigned long)capacity);
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->hdr = mem;
    t->slots = (rt_entry_t *)(t->hdr + 1);
    t->capacity = capacity;
    *out = t;
    return EKEY_OK;
}

/* ---------------------------------------------------------------- lookup */

static void id_trace(const ekey_rtable_t *t, const char *trace, apr_size_t len,
                     apr_uint64_t id[2])
{
    sip_t s;

    sip_init(&s, t->hdr->k0, t->hdr->k1);
    sip_update(&s, "t", 1);
    sip_update(&s, trace, len);
    sip_final(&s, id);
}

/* The jkt's length goes in first, so no (jkt, jti) pair can pose as another. */
static void id_jti(const ekey_rtable_t *t, const char *jkt, apr_size_t jkt_len,
                   const char *jti, apr_size_t jti_len, apr_uint64_t id[2])
{
    unsigned char n[8];
    sip_t s;
    int i;

    for (i = 0; i < 8; i++)
        n[i] = (unsigned char)(((apr_uint64_t)jkt_len >> (8 * i)) & 0xff);
    sip_init(&s, t->hdr->k0, t->hdr->k1);
    sip_update(&s, "j", 1);
    sip_update(&s, n, sizeof(n));
    sip_update(&s, jkt, jkt_len);
    sip_update(&s, jti, jti_len);
    sip_final(&s, id);
}

typedef struct {
    apr_size_t found;               /* index of the live entry, or capacity when absent */
    apr_size_t free1, free2;        /* first two reusable slots, emptier bucket first, or
                                     * capacity */
} probe_t;

typedef struct {
    apr_size_t live, free1, free2;
} bucket_scan_t;

/* Bucket b: RT_BUCKET slots from b * RT_BUCKET, the last bucket also takes the remainder;
 * a table smaller than two buckets is one bucket. */
static apr_size_t buckets(apr_size_t n)
{
    return n < 2 * RT_BUCKET ? 1 : n / RT_BUCKET;
}

/* The key's two candidate buckets (one when the table is one bucket). */
static void bucket_pair(apr_size_t nb, const apr_uint64_t id[2], apr_size_t *b1,
                        apr_size_t *b2)
{
    *b1 = (apr_size_t)(id[0] % (apr_uint64_t)nb);
    *b2 = (apr_size_t)(id[1] % (apr_uint64_t)nb);
    if (*b2 == *b1 && nb > 1)
        *b2 = *b1 + 1 == nb ? 0 : *b1 + 1;
}

/* Bucket b's slots: [*lo, *hi). */
static void bucket_range(apr_size_t n, apr_size_t b, apr_size_t *lo, apr_size_t *hi)
{
    apr_size_t nb = buckets(n);

    *lo = nb == 1 ? 0 : b * RT_BUCKET;
    *hi = b + 1 == nb ? n : *lo + RT_BUCKET;
}

/* Brings both of a key's buckets into the cache before the lock: one load per cache line.
 * Loads, not __builtin_prefetch: a prefetch that misses the TLB may be dropped, and in a
 * table of many megabytes nearly every bucket sits on a page the TLB does not hold (in
 * bench/ekey_rtable_bench at 2,000,000 slots: critical section p50 about 1.2 us after
 * prefetches, 0.2 us after loads). The loads race with writers in other processes on
 * purpose: their values are never used, only the lines and page-table entries they bring. */
static void warm(const ekey_rtable_t *t, const apr_uint64_t id[2])
{
#if defined(__GNUC__) || defined(__clang__)
    apr_size_t b[2], lo, hi, i, k;
    apr_uint64_t acc = 0;

    bucket_pair(buckets(t->capacity), id, &b[0], &b[1]);
    for (k = 0; k < 2; k++) {
        bucket_range(t->capacity, b[k], &lo, &hi);
        for (i = lo; i < hi; i += 2)    /* two 32-byte slots per 64-byte line */
            acc += (apr_uint64_t)__atomic_load_n(&t->slots[i].expires, __ATOMIC_RELAXED);
    }
    __asm__ __volatile__("" : : "r"(acc));      /* the loads must happen */
#else
    (void)t;
    (void)id;
#endif
}

/* Scans bucket b whole (a free or expired slot ends nothing: the key may sit after it). */
static int scan(const ekey_rtable_t *t, apr_size_t b, const apr_uint64_t id[2],
                apr_int64_t now, apr_size_t *found, bucket_scan_t *bs)
{
    apr_size_t n = t->capacity, lo, hi, i;
    const rt_entry_t *e;

    bucket_range(n, b, &lo, &hi);
    bs->live = 0;
    bs->free1 = bs->free2 = n;
    for (i = lo; i < hi; i++) {
        e = &t->slots[i];
        if (e->expires <= now) {
            if (bs->free1 == n)
                bs->free1 = i;
            else if (bs->free2 == n)
                bs->free2 = i;
        }
        else if (e->id[0] == id[0] && e->id[1] == id[1]) {
            *found = i;
            return 1;
        }
        else {
            bs->live++;
        }
    }
    return 0;
}

/* Looks the key up in both of its buckets and lists the reusable slots, the emptier
 * bucket's first, so an insert evens the load. */
static void probe(const ekey_rtable_t *t, const apr_uint64_t id[2], apr_int64_t now,
                  probe_t *pr)
{
    apr_size_t n = t->capacity, nb = buckets(n), b1, b2;
    bucket_scan_t s1, s2;
    const bucket_scan_t *a, *z;

    pr->found = pr->free1 = pr->free2 = n;
    bucket_pair(nb, id, &b1, &b2);
    if (scan(t, b1, id, now, &pr->found, &s1))
        return;
    if (nb == 1) {
        pr->free1 = s1.free1;
        pr->free2 = s1.free2;
        return;
    }
    if (scan(t, b2, id, now, &pr->found, &s2))
        return;
    a = s2.live < s1.live ? &s2 : &s1;
    z = a == &s1 ? &s2 : &s1;
    pr->free1 = a->free1 != n ? a->free1 : z->free1;
    if (a->free1 == n)
        pr->free2 = z->free2;
    else
        pr->free2 = a->free2 != n ? a->free2 : z->free1;
}

static void put(rt_entry_t *e, const apr_uint64_t id[2], apr_int64_t expires)
{
    e->id[0] = id[0];
    e->id[1] = id[1];
    e->expires = expires;
    e->uses = 0;
    e->spare = 0;
}

static ekey_status_t full(ekey_rtable_t *t, ekey_error_t *err)
{
    t->hdr->full_events++;
    return ekey_error_set(err, EKEY_E_STORE_FULL, "rtable.consume",
                          "replay table full: no reusable slot in either bucket of the key");
}

static int bad_request(const ekey_consume_t *req, apr_size_t *tl, apr_size_t *kl,
                       apr_size_t *jl)
{
    if (req == NULL || req->trace == NULL || req->limit < 1
        || req->limit > (apr_int64_t)0xffffffffu || req->trace_expires <= req->now)
        return 1;
    *tl = strlen(req->trace);
    *kl = req->jkt != NULL ? strlen(req->jkt) : 0;
    *jl = req->jti != NULL ? strlen(req->jti) : 0;
    return *tl == 0 || *tl > RT_MAX_ID_LEN || *kl > RT_MAX_ID_LEN
           || (req->jti != NULL && (*jl == 0 || *jl > RT_MAX_ID_LEN));
}

/* The slots a successful consume writes, chosen before anything changes (all or nothing):
 * the trace's own entry or a reusable one, and for the jti a reusable one that differs. */
static ekey_status_t pick(ekey_rtable_t *t, const probe_t *pt, const probe_t *pj,
                          int has_jti, apr_size_t *ts, apr_size_t *js, ekey_error_t *err)
{
    apr_size_t n = t->capacity;

    *ts = pt->found != n ? pt->found : pt->free1;
    if (*ts == n)
        return full(t, err);
    if (has_jti) {
        *js = pj->free1 != *ts ? pj->free1 : pj->free2;
        if (*js == n)
            return full(t, err);
    }
    return EKEY_OK;
}

ekey_status_t ekey_rtable_prepare(const ekey_rtable_t *t, const ekey_consume_t *req,
                                 ekey_rtable_prep_t *out, ekey_error_t *err)
{
    apr_size_t tl, kl, jl;

    memset(out, 0, sizeof(*out));
    if (t == NULL || bad_request(req, &tl, &kl, &jl))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.consume",
                              "bad consume request (limit, expiry or id length)");
    /* The hash key is written when the region is formatted, before any request: reading it
     * without the lock is safe. */
    id_trace(t, req->trace, tl, out->kt);
    warm(t, out->kt);
    out->has_jti = req->jti != NULL;
    if (out->has_jti) {
        id_jti(t, req->jkt != NULL ? req->jkt : "", kl, req->jti, jl, out->kj);
        warm(t, out->kj);
    }
    out->req = req;
    return EKEY_OK;
}

ekey_status_t ekey_rtable_consume(ekey_rtable_t *t, const ekey_consume_t *req,
                                  apr_int64_t *uses_left, ekey_error_t *err)
{
    ekey_rtable_prep_t prep;
    ekey_status_t st;

    *uses_left = 0;
    if ((st = ekey_rtable_prepare(t, req, &prep, err)) != EKEY_OK)
        return st;
    return ekey_rtable_consume_prepared(t, &prep, uses_left, err);
}

ekey_status_t ekey_rtable_consume_prepared(ekey_rtable_t *t, const ekey_rtable_prep_t *prep,
                                           apr_int64_t *uses_left, ekey_error_t *err)
{
    const ekey_consume_t *req = prep != NULL ? prep->req : NULL;
    const apr_uint64_t *kt, *kj;
    apr_size_t ts, js = 0;
    apr_int64_t now;
    probe_t pt, pj;
    rt_entry_t *e;
    ekey_status_t st;
    int has_jti;

    *uses_left = 0;
    if (t == NULL || req == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.consume",
                              "consume without a prepared request");
    /* The table's time never goes back: a request that brings an older clock (read before
     * another process's) sees the entries that clock would call live as the table does, so
     * an entry already reused is not taken for "never seen", and a token whose entry has
     * expired is refused, not counted again from zero. */
    now = req->now > t->hdr->latest ? req->now : t->hdr->latest;
    t->hdr->latest = now;
    if (req->trace_expires <= now)
        return ekey_error_set(err, EKEY_E_EXPIRED, "rtable.consume",
                              "the token's entry has expired");
    if (prep->has_jti && req->jti_expires <= now)
        return ekey_error_set(err, EKEY_E_PROOF_IAT, "rtable.consume",
                              "the proof's entry has expired");
    kt = prep->kt;
    kj = prep->kj;
    has_jti = prep->has_jti;
    probe(t, kt, now, &pt);
    if (has_jti) {
        probe(t, kj, now, &pj);
        if (pj.found != t->capacity) {
            t->hdr->replays++;
            return ekey_error_set(err, EKEY_E_JTI_REPLAY, "rtable.consume",
                                  "DPoP proof jti seen before");
        }
    }
    else {
        pj.found = pj.free1 = pj.free2 = t->capacity;
    }
    if (pt.found != t->capacity && t->slots[pt.found].uses >= (apr_uint64_t)req->limit) {
        t->hdr->replays++;
        if (has_jti && pj.free1 != t->capacity)  /* the proof is burnt too: best effort */
            put(&t->slots[pj.free1], kj, req->jti_expires > now ? req->jti_expires : now + 1);
        return ekey_error_set(err, EKEY_E_REPLAY, "rtable.consume",
                              "all %ld uses of the token consumed", (long)req->limit);
    }
    if ((st = pick(t, &pt, &pj, has_jti, &ts, &js, err)) != EKEY_OK)
        return st;
    e = &t->slots[ts];
    if (pt.found == t->capacity)
        put(e, kt, req->trace_expires);
    else if (e->expires < req->trace_expires)
        e->expires = req->trace_expires;
    e->uses++;
    if (has_jti)
        put(&t->slots[js], kj, req->jti_expires > now ? req->jti_expires : now + 1);
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

/* ------------------------------------------------------ another capacity */

#define RT_SAVED_MAGIC 0x454b5243u  /* "EKRC" */

/* A table's continuation: its hash key, its counters and its live entries. */
typedef struct {
    apr_uint32_t magic, version;
    apr_uint64_t k0, k1, count;
    apr_uint64_t allowed, replays, full_events;
} rt_saved_t;

void *ekey_rtable_save(const ekey_rtable_t *t, apr_int64_t now, apr_size_t *nbytes)
{
    apr_size_t i, live = 0;
    rt_saved_t *sv;
    rt_entry_t *e;

    *nbytes = 0;
    if (t == NULL)
        return NULL;
    for (i = 0; i < t->capacity; i++)
        live += t->slots[i].expires > now;
    if ((sv = malloc(sizeof(*sv) + live * sizeof(rt_entry_t))) == NULL)
        return NULL;
    sv->magic = RT_SAVED_MAGIC;
    sv->version = RT_VERSION;
    sv->k0 = t->hdr->k0;
    sv->k1 = t->hdr->k1;
    sv->count = live;
    sv->allowed = t->hdr->allowed;
    sv->replays = t->hdr->replays;
    sv->full_events = t->hdr->full_events;
    e = (rt_entry_t *)(sv + 1);
    for (i = 0; i < t->capacity; i++)
        if (t->slots[i].expires > now)
            *e++ = t->slots[i];
    *nbytes = sizeof(*sv) + live * sizeof(rt_entry_t);
    return sv;
}

ekey_status_t ekey_rtable_adopt(ekey_rtable_t *t, const void *saved, apr_size_t nbytes,
                                apr_int64_t now, apr_size_t *dropped, ekey_error_t *err)
{
    const rt_saved_t *sv = saved;
    const rt_entry_t *e;
    apr_uint64_t i;
    probe_t pr;

    *dropped = 0;
    if (t == NULL || sv == NULL || nbytes < sizeof(*sv) || sv->magic != RT_SAVED_MAGIC
        || sv->version != RT_VERSION
        || sv->count > (nbytes - sizeof(*sv)) / sizeof(rt_entry_t)
        || nbytes != sizeof(*sv) + sv->count * sizeof(rt_entry_t))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.adopt", "not a saved table");
    for (i = 0; i < t->capacity; i++)
        if (t->slots[i].expires != 0)
            return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.adopt",
                                  "the table is not freshly formatted");
    /* the saved ids were made with the saved key: the new table keys its buckets with it */
    t->hdr->k0 = sv->k0;
    t->hdr->k1 = sv->k1;
    t->hdr->allowed = sv->allowed;
    t->hdr->replays = sv->replays;
    t->hdr->full_events = sv->full_events;
    if (now > t->hdr->latest)           /* the moved table's time does not go back either */
        t->hdr->latest = now;
    e = (const rt_entry_t *)(sv + 1);
    for (i = 0; i < sv->count; i++, e++) {
        if (e->expires <= now)
            continue;
        probe(t, e->id, now, &pr);
        if (pr.found != t->capacity)        /* a table holds each id once */
            return ekey_error_set(err, EKEY_E_INVALID_ARG, "rtable.adopt",
                                  "an id twice: not a saved table");
        if (pr.free1 != t->capacity)
            t->slots[pr.free1] = *e;
        else
            (*dropped)++;
    }
    return EKEY_OK;
}
