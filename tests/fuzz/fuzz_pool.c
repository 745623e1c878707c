/*
 * fuzz_pool.c - makes APR pool memory visible to AddressSanitizer (and valgrind).
 *
 * apr_palloc carves allocations out of 8 KB blocks, so an overflow of a pool buffer lands in
 * the neighbouring allocation and no sanitizer sees it - and the core allocates everything
 * from pools. Linked into the fuzz binaries (and the corpus replay), this file replaces
 * apr_palloc (and so apr_pcalloc, a macro over it, and apr_pstrdup/pstrcat/pmemdup, which
 * call it through the PLT) by one malloc per allocation, freed when the pool is cleared or
 * destroyed. Not covered: apr_psprintf, which formats straight into the pool's block.
 *
 * Mechanics: the first allocation in a pool registers one cleanup that frees the pool's
 * allocations. apr_pool_cleanup_register is wrapped too, so that the cleanup records APR
 * allocates for itself come from real pool memory (they are read while cleanups run).
 * FUZZ_POOL_SHIM=0 in the environment switches the shim off. Single-threaded use only.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef void *(*palloc_fn)(apr_pool_t *, apr_size_t);
typedef void (*register_fn)(apr_pool_t *, const void *, apr_status_t (*)(void *),
                            apr_status_t (*)(void *));

/* The allocations of one pool, and the list of pools that have some. */
typedef struct shim_pool {
    apr_pool_t *pool;
    void **mem;
    size_t n, cap;
    struct shim_pool *next;
} shim_pool_t;

static palloc_fn real_palloc;
static register_fn real_register;
static shim_pool_t *pools;
static int inside;                  /* > 0: APR is allocating for itself */
static int enabled = -1;

static void resolve(void)
{
    const char *e;

    if (real_palloc != NULL)
        return;
    real_palloc = (palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
    real_register = (register_fn)dlsym(RTLD_NEXT, "apr_pool_cleanup_register");
    if (real_palloc == NULL || real_register == NULL)
        abort();
    e = getenv("FUZZ_POOL_SHIM");
    enabled = !(e != NULL && strcmp(e, "0") == 0);
}

static apr_status_t free_all(void *data)
{
    shim_pool_t *sp = data, **pp;
    size_t i;

    for (pp = &pools; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == sp) {
            *pp = sp->next;
            break;
        }
    }
    for (i = 0; i < sp->n; i++)
        free(sp->mem[i]);
    free(sp->mem);
    free(sp);
    return APR_SUCCESS;
}

static shim_pool_t *find(apr_pool_t *p)
{
    shim_pool_t *sp;

    for (sp = pools; sp != NULL; sp = sp->next)
        if (sp->pool == p)
            return sp;
    if ((sp = calloc(1, sizeof(*sp))) == NULL)
        abort();
    sp->pool = p;
    sp->next = pools;
    pools = sp;
    inside++;
    real_register(p, sp, free_all, apr_pool_cleanup_null);
    inside--;
    return sp;
}

SHIM_EXPORT void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    shim_pool_t *sp;
    void *m;

    resolve();
    if (!enabled || inside > 0)
        return real_palloc(p, size);
    sp = find(p);
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        if ((sp->mem = realloc(sp->mem, sp->cap * sizeof(*sp->mem))) == NULL)
            abort();
    }
    /* malloc(0) is a valid, unique pointer whose every access ASan reports */
    if ((m = malloc(size)) == NULL && size != 0)
        abort();
    sp->mem[sp->n++] = m;
    return m;
}

SHIM_EXPORT void apr_pool_cleanup_register(apr_pool_t *p, const void *data,
                                           apr_status_t (*plain)(void *),
                                           apr_status_t (*child)(void *))
{
    resolve();
    inside++;
    real_register(p, data, plain, child);
    inside--;
}
