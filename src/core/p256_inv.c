/*
 * p256_inv.c - s^-1 mod n (n: the order of P-256) for ECDSA verification, by Bernstein and
 * Yang's "divsteps" (Fast constant-time gcd computation and modular inversion, 2019), in
 * its variable-time form: s is a signature's, public, so nothing here needs constant time.
 *
 * Why: the binary Euclidean algorithm it replaces works a bit (or a word) of the operands
 * at a time on full 256-bit values, with a data-dependent branch per step; divsteps does
 * 62 steps on the low 64 bits only, collects them in a 2 x 2 matrix of small integers,
 * and applies that matrix to the full values once: about a dozen passes over 5 words
 * instead of hundreds.
 *
 * Numbers are "signed-62": five int64_t limbs v[0] + v[1] 2^62 + ... + v[4] 2^248, limbs 0
 * to 3 in [0, 2^62), the top one signed. Invariants: f odd, |f|, |g| <= n, d s = f and
 * e s = g (mod n), d and e in (-2n, n); after 62 divsteps the matrix entries satisfy
 * |u| + |v| <= 2^62 and |q| + |r| <= 2^62 (the paper's bounds, which make every product
 * below fit in 128 bits). At the end g = 0 and f = +-1 (gcd(s, n) = 1: n is prime and
 * 0 < s < n), so s^-1 = d f.
 */
#include <stdint.h>

#include "ekey.h"
#include "ekey_cache.h"

#define M62 ((int64_t)0x3fffffffffffffffll)

typedef struct {
    int64_t v[5];
} s62_t;

typedef struct {
    int64_t u, v, q, r;
} trans_t;

/* n in signed-62 limbs, and n^-1 mod 2^62 */
static const s62_t n62 = { { 0x33b9cac2fc632551ll, 0x339beab69c5e7a13ll, 0x3ffffffffffffffbll,
                             0x3fffffc00000003fll, 0xffll } };
static const uint64_t n_inv62 = 0x332e375511ff43b1ull;

/*
 * 62 divsteps on the low 64 bits of f (odd) and g; returns the new eta (= -delta) and the
 * transition matrix t, scaled by 2^62: [f', g'] = t [f, g] / 2^62. A run of k zero bits at
 * the bottom of g is k steps at once (g / 2^k, the other row doubled k times). When g is
 * odd and no swap is due, the next few steps only ever add f to g and halve: they amount
 * to g + w f with w = -g / f mod 2^k, so w is computed outright (k <= 6: f^-1 mod 64 is
 * f (2 - f^2), as f^2 = 1 mod 8 for odd f), and the zeros it makes go on the next turn.
 * Only the low i bits of f and g matter for the i steps left, which is why 64 bits do.
 */
static int64_t divsteps62(int64_t eta, uint64_t f, uint64_t g, trans_t *t)
{
    uint64_t u = 1, v = 0, q = 0, r = 1, x, w;
    int i = 62, k;

    for (;;) {
        k = g != 0 ? __builtin_ctzll(g) : 64;
        if (k > i)
            k = i;
        g >>= k;
        u <<= k;
        v <<= k;
        eta -= k;
        i -= k;
        if (i == 0)
            break;
        if (eta < 0) {                  /* delta > 0 and g odd: swap, g = -f */
            eta = -eta;
            x = f;
            f = g;
            g = 0 - x;
            x = u;
            u = q;
            q = 0 - x;
            x = v;
            v = r;
            r = 0 - x;
        }
        k = eta + 1 < i ? (int)eta + 1 : i;
        if (k > 6)
            k = 6;
        w = (0 - g * (f * (2 - f * f))) & ((1ull << k) - 1);
        g += w * f;
        q += w * u;
        r += w * v;
    }
    t->u = (int64_t)u;
    t->v = (int64_t)v;
    t->q = (int64_t)q;
    t->r = (int64_t)r;
    return eta;
}

/* [f, g] = t [f, g] / 2^62, exact (the matrix made the low 62 bits of both zero). */
static void update_fg(s62_t *f, s62_t *g, const trans_t *t)
{
    __int128 cf, cg;
    int i;

    cf = (__int128)t->u * f->v[0] + (__int128)t->v * g->v[0];
    cg = (__int128)t->q * f->v[0] + (__int128)t->r * g->v[0];
    cf >>= 62;
    cg >>= 62;
    for (i = 1; i < 5; i++) {
        cf += (__int128)t->u * f->v[i] + (__int128)t->v * g->v[i];
        cg += (__int128)t->q * f->v[i] + (__int128)t->r * g->v[i];
        f->v[i - 1] = (int64_t)cf & M62;
        g->v[i - 1] = (int64_t)cg & M62;
        cf >>= 62;
        cg >>= 62;
    }
    f->v[4] = (int64_t)cf;
    g->v[4] = (int64_t)cg;
}

/* [d, e] = t [d, e] / 2^62 mod n. A multiple of n (md, me) is added that makes the low 62
 * bits zero; its starting value (the matrix entries of the negative operands) is what keeps
 * d and e in (-2n, n), as the paper shows. */
static void update_de(s62_t *d, s62_t *e, const trans_t *t)
{
    int64_t sd = d->v[4] >> 63, se = e->v[4] >> 63;     /* 0 or -1 */
    int64_t md = (t->u & sd) + (t->v & se), me = (t->q & sd) + (t->r & se);
    __int128 cd, ce;
    int i;

    cd = (__int128)t->u * d->v[0] + (__int128)t->v * e->v[0];
    ce = (__int128)t->q * d->v[0] + (__int128)t->r * e->v[0];
    md -= (int64_t)((n_inv62 * (uint64_t)cd + (uint64_t)md) & (uint64_t)M62);
    me -= (int64_t)((n_inv62 * (uint64_t)ce + (uint64_t)me) & (uint64_t)M62);
    cd += (__int128)n62.v[0] * md;
    ce += (__int128)n62.v[0] * me;
    cd >>= 62;
    ce >>= 62;
    for (i = 1; i < 5; i++) {
        cd += (__int128)t->u * d->v[i] + (__int128)t->v * e->v[i] + (__int128)n62.v[i] * md;
        ce += (__int128)t->q * d->v[i] + (__int128)t->r * e->v[i] + (__int128)n62.v[i] * me;
        d->v[i - 1] = (int64_t)cd & M62;
        e->v[i - 1] = (int64_t)ce & M62;
        cd >>= 62;
        ce >>= 62;
    }
    d->v[4] = (int64_t)cd;
    e->v[4] = (int64_t)ce;
}

/* Limbs 0-3 back into [0, 2^62), the carries into the signed top limb. */
static void carry(s62_t *a)
{
    int i;

    for (i = 0; i < 4; i++) {
        a->v[i + 1] += a->v[i] >> 62;
        a->v[i] &= M62;
    }
}

static void add_n(s62_t *a)
{
    int i;

    for (i = 0; i < 5; i++)
        a->v[i] += n62.v[i];
    carry(a);
}

static void negate(s62_t *a)
{
    int i;

    for (i = 0; i < 5; i++)
        a->v[i] = -a->v[i];
    carry(a);
}

/* 0 <= a < n, for a with limbs 0-3 in [0, 2^62) */
static int below_n(const s62_t *a)
{
    int i;

    if (a->v[4] < 0)
        return 0;
    for (i = 4; i >= 0; i--)
        if (a->v[i] != n62.v[i])
            return a->v[i] < n62.v[i];
    return 0;
}

static int equals_small(const s62_t *a, int64_t low, int64_t mid, int64_t top)
{
    return a->v[0] == low && a->v[1] == mid && a->v[2] == mid && a->v[3] == mid
           && a->v[4] == top;
}

int ekey_p256_inv_n(uint64_t *out, const uint64_t *a)
{
    s62_t f = n62, g, d = { { 0 } }, e = { { 1 } };
    int64_t eta = -1;
    trans_t t;
    int turns;

    g.v[0] = (int64_t)(a[0] & (uint64_t)M62);
    g.v[1] = (int64_t)(((a[0] >> 62) | (a[1] << 2)) & (uint64_t)M62);
    g.v[2] = (int64_t)(((a[1] >> 60) | (a[2] << 4)) & (uint64_t)M62);
    g.v[3] = (int64_t)(((a[2] >> 58) | (a[3] << 6)) & (uint64_t)M62);
    g.v[4] = (int64_t)(a[3] >> 56);
    /* 741 divsteps bring any 256-bit input to g = 0 (the paper's bound): 12 turns of 62.
     * The loop stops at 13 whatever happens: never an unbounded loop on a bad input. */
    for (turns = 0; (g.v[0] | g.v[1] | g.v[2] | g.v[3] | g.v[4]) != 0; turns++) {
        if (turns == 13)
            return 0;
        eta = divsteps62(eta, (uint64_t)f.v[0] | ((uint64_t)f.v[1] << 62),
                         (uint64_t)g.v[0] | ((uint64_t)g.v[1] << 62), &t);
        update_fg(&f, &g, &t);
        update_de(&d, &e, &t);
    }
    /* gcd = |f| must be 1: a = 0 leaves f = n, a multiple of n ends at f = +-n */
    if (!equals_small(&f, 1, 0, 0) && !equals_small(&f, M62, M62, -1))
        return 0;
    /* d in (-2n, n); the inverse is d * f mod n, in [0, n) */
    if (d.v[4] < 0)
        add_n(&d);
    if (f.v[4] < 0)
        negate(&d);
    if (d.v[4] < 0)
        add_n(&d);
    if (!below_n(&d))                   /* the bounds above say it is; never trust, check */
        return 0;
    out[0] = (uint64_t)d.v[0] | ((uint64_t)d.v[1] << 62);
    out[1] = ((uint64_t)d.v[1] >> 2) | ((uint64_t)d.v[2] << 60);
    out[2] = ((uint64_t)d.v[2] >> 4) | ((uint64_t)d.v[3] << 58);
    out[3] = ((uint64_t)d.v[3] >> 6) | ((uint64_t)d.v[4] << 56);
    return 1;
}
