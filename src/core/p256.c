/*
 * p256.c - ES256 verification on OpenSSL's P-256 point arithmetic, without the EVP layer.
 *
 * Every request verifies an E-Key (always with one of a few configured issuer keys) and a
 * DPoP proof. ECDSA verification is R = u1*G + u2*Q; OpenSSL keeps a table of multiples
 * of the generator G that makes u1*G cheap, while u2*Q is a full variable-base
 * multiplication, most of the cost. For an issuer key we build the same kind of table for
 * Q once (a P-256 group whose generator is Q, EC_GROUP_precompute_mult), and the token's
 * verification costs two fixed-base multiplications: about 2.5 x faster. DPoP keys change
 * with the client and get no table; they take EC_POINT_mul(G, u1, Q, u2) directly, which
 * still saves EVP's per-call context and DER round trip, and s^-1 comes from
 * p256_inv.c (about a thirteenth of OpenSSL's BIGNUM inverse).
 *
 * The arithmetic is textbook ECDSA verification (SEC 1 v2, 4.1.4) over public values
 * only, so nothing here needs to run in constant time. Any failure to compute is "does not
 * verify" (fail closed). Not used when OpenSSL runs in FIPS mode (the validated provider
 * must verify then); the issuer tables also need OpenSSL's deprecated precomputation API
 * (still in OpenSSL 3), without which issuer keys take the variable-base path too.
 */
#define OPENSSL_SUPPRESS_DEPRECATED     /* precompute_mult, Jprojective: make_fixed, x_is_r */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "ekey.h"
#include "ekey_cache.h"

#define FIXED_MAX 16                    /* issuer keys with a table, per process (150 KB each) */

struct ekey_p256_t {
    EC_POINT *pub;                      /* Q, in the shared P-256 group */
    EC_GROUP *fixed;                    /* NULL, or P-256 with generator Q and its table */
    unsigned char xy[64];               /* x || y: the identity of the key */
    int refs;                           /* atomic */
};

/* What one verification works in; kept for the next one (no allocation per request).
 * Only public values ever pass through it. */
typedef struct scratch_t {
    BN_CTX *bn;
    BIGNUM *e, *w, *r, *u1, *u2, *x, *z, *t;
    EC_POINT *sum, *part1, *part2;
    struct scratch_t *next;
} scratch_t;

/* State: 0 not initialised, 1 ready, -1 unavailable (FIPS mode, no memory, disabled). Read
 * without the lock on every key import (atomic acquire); changed only under it. */
static pthread_mutex_t p256_lock = PTHREAD_MUTEX_INITIALIZER;
static int p256_state;
static int p256_disabled;               /* tests: the EVP path for every new key */
static EC_GROUP *p256_group;
static BIGNUM *p256_order;
static BIGNUM *p256_field;              /* p */
static scratch_t *idle;                 /* under p256_lock */
static ekey_p256_t *fixed_keys[FIXED_MAX];  /* issuer keys with a table, under p256_lock */

static int init_locked(void)
{
    if (p256_disabled || EVP_default_properties_is_fips_enabled(NULL))
        return -1;
    p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    p256_order = p256_group != NULL ? BN_dup(EC_GROUP_get0_order(p256_group)) : NULL;
    p256_field = BN_new();
    if (p256_order == NULL || p256_field == NULL
        || EC_GROUP_get_curve(p256_group, p256_field, NULL, NULL, NULL) != 1) {
        EC_GROUP_free(p256_group);
        BN_free(p256_order);
        BN_free(p256_field);
        p256_group = NULL;
        p256_order = NULL;
        p256_field = NULL;
        ERR_clear_error();
        return -1;
    }
    return 1;
}

static int ready(void)
{
    return ekey_lazy_state(&p256_state, &p256_lock, init_locked) == 1;
}

/* ------------------------------------------------------------ limbs */

static void be_to_limbs(uint64_t *l, const unsigned char *be)
{
    int i, j;

    for (i = 0; i < 4; i++)
        for (l[i] = 0, j = 0; j < 8; j++)
            l[i] |= (uint64_t)be[31 - 8 * i - j] << (8 * j);
}

static void limbs_to_be(unsigned char *be, const uint64_t *l)
{
    int i, j;

    for (i = 0; i < 4; i++)
        for (j = 0; j < 8; j++)
            be[31 - 8 * i - j] = (unsigned char)(l[i] >> (8 * j));
}

/* ------------------------------------------------------------ scratch */

static void scratch_free(scratch_t *s)
{
    if (s == NULL)
        return;
    EC_POINT_free(s->sum);
    EC_POINT_free(s->part1);
    EC_POINT_free(s->part2);
    BN_free(s->e);
    BN_free(s->w);
    BN_free(s->r);
    BN_free(s->u1);
    BN_free(s->u2);
    BN_free(s->x);
    BN_free(s->z);
    BN_free(s->t);
    BN_CTX_free(s->bn);
    OPENSSL_free(s);
}

static scratch_t *scratch_new(void)
{
    scratch_t *s = OPENSSL_zalloc(sizeof(*s));

    if (s == NULL)
        return NULL;
    s->bn = BN_CTX_new();
    s->e = BN_new();
    s->w = BN_new();
    s->r = BN_new();
    s->u1 = BN_new();
    s->u2 = BN_new();
    s->x = BN_new();
    s->z = BN_new();
    s->t = BN_new();
    s->sum = EC_POINT_new(p256_group);
    s->part1 = EC_POINT_new(p256_group);
    s->part2 = EC_POINT_new(p256_group);
    if (s->bn == NULL || s->e == NULL || s->w == NULL || s->r == NULL || s->u1 == NULL
        || s->u2 == NULL || s->x == NULL || s->z == NULL || s->t == NULL || s->sum == NULL || s->part1 == NULL
        || s->part2 == NULL) {
        scratch_free(s);
        return NULL;
    }
    return s;
}

/* One scratch per concurrent verification: taken from the idle list, or made. */
static scratch_t *scratch_get(void)
{
    scratch_t *s;

    pthread_mutex_lock(&p256_lock);
    if ((s = idle) != NULL)
        idle = s->next;
    pthread_mutex_unlock(&p256_lock);
    return s != NULL ? s : scratch_new();
}

static void scratch_put(scratch_t *s)
{
    pthread_mutex_lock(&p256_lock);
    if (p256_state == 1) {
        s->next = idle;
        idle = s;
        s = NULL;
    }
    pthread_mutex_unlock(&p256_lock);
    scratch_free(s);                    /* released meanwhile */
}

/* ------------------------------------------------------------ keys */

ekey_p256_t *ekey_p256_new(const unsigned char *x, const unsigned char *y)
{
    ekey_p256_t *k;
    BIGNUM *bx, *by;
    BN_CTX *bn;
    int ok;

    if (x == NULL || y == NULL || !ready() || (k = OPENSSL_zalloc(sizeof(*k))) == NULL)
        return NULL;
    memcpy(k->xy, x, 32);
    memcpy(k->xy + 32, y, 32);
    k->refs = 1;
    bx = BN_bin2bn(x, 32, NULL);
    by = BN_bin2bn(y, 32, NULL);
    bn = BN_CTX_new();
    /* Canonical coordinates only: set_affine_coordinates would reduce x or y >= p modulo
     * p, while the point encoding EVP imports refuses them, and so must we (one key, one
     * encoding). It checks that the point is on the curve; P-256's cofactor is 1, so that
     * makes it a point of the prime-order group. */
    ok = bx != NULL && by != NULL && bn != NULL
         && BN_cmp(bx, p256_field) < 0 && BN_cmp(by, p256_field) < 0
         && (k->pub = EC_POINT_new(p256_group)) != NULL
         && EC_POINT_set_affine_coordinates(p256_group, k->pub, bx, by, bn) == 1
         && !EC_POINT_is_at_infinity(p256_group, k->pub);
    BN_free(bx);
    BN_free(by);
    BN_CTX_free(bn);
    if (!ok) {
        ERR_clear_error();
        ekey_p256_unref(k);
        return NULL;
    }
    return k;
}

ekey_p256_t *ekey_p256_ref(ekey_p256_t *k)
{
    if (k != NULL)
        __atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
    return k;
}

void ekey_p256_unref(ekey_p256_t *k)
{
    if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    EC_POINT_free(k->pub);
    EC_GROUP_free(k->fixed);
    OPENSSL_free(k);
}

const unsigned char *ekey_p256_xy(const ekey_p256_t *k)
{
    return k != NULL ? k->xy : NULL;
}

int ekey_p256_is_fixed(const ekey_p256_t *k)
{
    return k != NULL && k->fixed != NULL;
}

/* P-256 with Q as its generator and the table of Q's multiples (OpenSSL's fixed-base
 * comb, the one it ships for G: about 150 KB, tens of milliseconds to build). */
static EC_GROUP *make_fixed(const EC_POINT *q)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    EC_GROUP *g = EC_GROUP_dup(p256_group);
    BN_CTX *bn = BN_CTX_new();
    int ok;

    ok = g != NULL && bn != NULL
         && EC_GROUP_set_generator(g, q, p256_order, BN_value_one()) == 1
         && EC_GROUP_precompute_mult(g, bn) == 1 && EC_GROUP_have_precompute_mult(g) == 1;
    BN_CTX_free(bn);
    if (ok)
        return g;
    EC_GROUP_free(g);
    ERR_clear_error();
#else
    (void)q;
#endif
    return NULL;
}

ekey_p256_t *ekey_p256_fixed(const ekey_p256_t *k)
{
    ekey_p256_t *f = NULL;
    int i, slot = -1;

    if (k == NULL || k->fixed != NULL)
        return ekey_p256_ref((ekey_p256_t *)k);
    /* Keys are fixed while the configuration is read (one thread): the build may hold
     * the lock for its tens of milliseconds. */
    pthread_mutex_lock(&p256_lock);
    for (i = 0; i < FIXED_MAX && p256_state == 1; i++) {
        if (fixed_keys[i] != NULL && memcmp(fixed_keys[i]->xy, k->xy, sizeof(k->xy)) == 0) {
            f = ekey_p256_ref(fixed_keys[i]);
            break;
        }
        if (fixed_keys[i] == NULL && slot < 0)
            slot = i;
    }
    if (f == NULL && slot >= 0 && p256_state == 1
        && (f = OPENSSL_zalloc(sizeof(*f))) != NULL) {
        memcpy(f->xy, k->xy, sizeof(f->xy));
        f->refs = 2;                    /* the table's and the caller's */
        f->pub = EC_POINT_dup(k->pub, p256_group);
        f->fixed = f->pub != NULL ? make_fixed(f->pub) : NULL;
        if (f->fixed != NULL) {
            fixed_keys[slot] = f;
        }
        else {
            EC_POINT_free(f->pub);
            OPENSSL_free(f);
            f = NULL;
        }
    }
    pthread_mutex_unlock(&p256_lock);
    /* no table (all slots taken, no memory): the key as it was */
    return f != NULL ? f : ekey_p256_ref((ekey_p256_t *)k);
}

/* ------------------------------------------------------------ verification */

/* 1 when the big-endian 32 bytes are in [1, n - 1]. */
static int scalar_in_range(BIGNUM *v, const unsigned char *be)
{
    return BN_bin2bn(be, 32, v) != NULL && !BN_is_zero(v) && BN_cmp(v, p256_order) < 0;
}

/* x(R) mod n == r, for R = s->sum not at infinity and r = s->r in [1, n - 1]. x(R) < p < 2n,
 * so x(R) is r or, if r + n < p, r + n. In Jacobian coordinates x(R) = X / Z^2: comparing X
 * with r Z^2 (and (r + n) Z^2) mod p saves the inversion that affine coordinates cost
 * (about 3.5 of 6 us). */
static int x_is_r(scratch_t *s)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    if (EC_POINT_get_Jprojective_coordinates_GFp(p256_group, s->sum, s->x, NULL, s->z, s->bn)
        != 1 || BN_is_zero(s->z) || BN_mod_sqr(s->z, s->z, p256_field, s->bn) != 1
        || BN_mod_mul(s->t, s->r, s->z, p256_field, s->bn) != 1)
        return 0;
    if (BN_cmp(s->t, s->x) == 0)
        return 1;
    return BN_add(s->t, s->r, p256_order) == 1 && BN_cmp(s->t, p256_field) < 0
           && BN_mod_mul(s->t, s->t, s->z, p256_field, s->bn) == 1 && BN_cmp(s->t, s->x) == 0;
#else
    /* without the deprecated API: affine x, at most one subtraction */
    return EC_POINT_get_affine_coordinates(p256_group, s->sum, s->x, NULL, s->bn) == 1
           && (BN_cmp(s->x, p256_order) < 0 || BN_sub(s->x, s->x, p256_order) == 1)
           && BN_cmp(s->x, s->r) == 0;
#endif
}

int ekey_p256_verify(const ekey_p256_t *k, const unsigned char *md, const unsigned char *rs)
{
    unsigned char wb[32];
    uint64_t sl[4], wl[4];
    scratch_t *s;
    int ok;

    if (k == NULL || md == NULL || rs == NULL)
        return 0;
    if (!ready() || (s = scratch_get()) == NULL)
        return -1;                      /* not computed: the caller verifies through EVP */
    /* r and s in [1, n - 1] (jws.c checked too: this function must not rely on it) */
    ok = scalar_in_range(s->r, rs) && scalar_in_range(s->w, rs + 32);
    if (ok) {
        be_to_limbs(sl, rs + 32);
        if (!ekey_p256_inv_n(wl, sl)) {         /* cannot happen for s in range */
            scratch_put(s);
            return -1;
        }
        limbs_to_be(wb, wl);
        /* e: the whole SHA-256 digest (256 bits, the order's length: no truncation) */
        ok = BN_bin2bn(wb, 32, s->w) != NULL && BN_bin2bn(md, 32, s->e) != NULL
             && BN_mod_mul(s->u1, s->e, s->w, p256_order, s->bn) == 1
             && BN_mod_mul(s->u2, s->r, s->w, p256_order, s->bn) == 1;
    }
    if (ok && k->fixed != NULL)
        ok = EC_POINT_mul(p256_group, s->part1, s->u1, NULL, NULL, s->bn) == 1
             && EC_POINT_mul(k->fixed, s->part2, s->u2, NULL, NULL, s->bn) == 1
             && EC_POINT_add(p256_group, s->sum, s->part1, s->part2, s->bn) == 1;
    else if (ok)
        ok = EC_POINT_mul(p256_group, s->sum, s->u1, k->pub, s->u2, s->bn) == 1;
    /* R at infinity never verifies */
    ok = ok && !EC_POINT_is_at_infinity(p256_group, s->sum) && x_is_r(s);
    if (!ok)
        ERR_clear_error();
    scratch_put(s);
    return ok;
}

void ekey_p256_set_enabled(int on)
{
    pthread_mutex_lock(&p256_lock);
    p256_disabled = !on;
    pthread_mutex_unlock(&p256_lock);
    ekey_p256_release();                /* the next key decides again */
}

void ekey_p256_release(void)
{
    scratch_t *s;
    int i;

    pthread_mutex_lock(&p256_lock);
    __atomic_store_n(&p256_state, 0, __ATOMIC_RELEASE);
    while ((s = idle) != NULL) {
        idle = s->next;
        scratch_free(s);
    }
    for (i = 0; i < FIXED_MAX; i++) {
        ekey_p256_unref(fixed_keys[i]);
        fixed_keys[i] = NULL;
    }
    /* keys still referenced keep their own point and table; they only need the group
     * while verifying, and nothing verifies after the release */
    EC_GROUP_free(p256_group);
    BN_free(p256_order);
    BN_free(p256_field);
    p256_group = NULL;
    p256_order = NULL;
    p256_field = NULL;
    pthread_mutex_unlock(&p256_lock);
}
