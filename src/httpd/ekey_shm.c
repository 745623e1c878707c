/*
 * ekey_shm.c - binds the core's replay table to mod_slotmem_shm and a global mutex.
 *
 * Lifecycle as mod_authn_socache does it: the mutex type is registered in pre_config (so the
 * Mutex directive applies), memory and mutex are made in post_config, and the mutex is
 * re-opened in child_init. slotmem has no locking and no bounds checks: the table lives in
 * one slot taken with dptr, behind a small header of ours, and every access holds our lock.
 *
 * Restarts. mod_slotmem_shm (2.4, modules/slotmem/mod_slotmem_shm.c) destroys its segments
 * in a pconf cleanup and creates a new, zeroed one per generation (the file name carries the
 * generation); only AP_SLOTMEM_TYPE_PERSIST carries content over: the cleanup writes the
 * segment to DefaultRuntimeDir/slotmem-shm-<name>.shm.persist and the next create restores
 * it (MD5 and size checked). So we always ask for PERSIST, and:
 *   - every restart (graceful or not) of the same parent restores the counts;
 *   - without EKeyReplayPersist, a table saved by another parent process (an earlier run) is
 *     not trusted to be current and starts empty: counts survive restarts, not stop/start;
 *   - with it, a full stop and start restores the counts too.
 * Children of the old generation still hold the old segment while they finish their
 * requests. Before the snapshot is written, a pre-cleanup in the parent seals the old table
 * under the lock; the old children then answer 503 instead of counting uses the new
 * generation would never see. The new generation unseals its restored copy.
 *
 * A new EKeyReplayCapacity changes the segment's size, and slotmem restores only a segment
 * of the same size. So the seal also copies the live entries into the parent's heap (kept
 * across the restart with the retained data), and a table formatted anew takes them over
 * (ekey_rtable_adopt): a graceful restart never forgets a use, whatever the capacity. A new
 * capacity too small for the live entries refuses to start rather than drop one. With
 * EKeyReplayPersist the same copy is also written to DefaultRuntimeDir/ekey-replay.carry at
 * shutdown, for a start with another capacity (slotmem's own file then does not fit).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_provider.h"
#include "ap_slotmem.h"
#include "util_mutex.h"
#include "apr_global_mutex.h"

#include "ekey_shm.h"

APLOG_USE_MODULE(ekey);

#define SHM_NAME     "ekey-replay"
#define MUTEX_TYPE   "ekey-replay"
#define RETAIN_KEY   "mod_ekey-replay-table"
#define HEAD_MAGIC   0x454b5348u       /* "EKSH" */

/* Our header in front of the table, inside the slot. */
typedef struct {
    apr_uint32_t magic;
    apr_uint32_t sealed;               /* 1: a restart took the snapshot; refuse */
    apr_uint64_t boot;                 /* the parent process run that wrote the table */
    apr_int64_t created;               /* when the table was formatted (seconds) */
    apr_uint64_t reserved[5];
} shm_head_t;                          /* 64 bytes: the table stays 8-byte aligned */

/* Kept by httpd across restarts of one parent process. */
typedef struct {
    apr_uint64_t boot;
    void *carry;                       /* the sealed table's live entries (malloc), or NULL */
    apr_size_t carry_len;
    int carry_lost;                    /* a sealed table could not be copied (no memory) */
} retained_t;

static const char *carry_path;         /* with EKeyReplayPersist: the carry file, else NULL */
static apr_global_mutex_t *mutex;
static shm_head_t *head;
static ekey_rtable_t *table;
static ekey_store_t store;
static pid_t parent_pid;

static ekey_status_t shm_consume(ekey_store_t *st, const ekey_consume_t *req,
                                 apr_int64_t *uses_left, ekey_error_t *err)
{
    ekey_rtable_prep_t prep;
    ekey_status_t rv;

    (void)st;
    *uses_left = 0;
    if (table == NULL || mutex == NULL)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay table not ready");
    if ((rv = ekey_rtable_prepare(table, req, &prep, err)) != EKEY_OK)
        return rv;
    if (apr_global_mutex_lock(mutex) != APR_SUCCESS)
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay lock failed");
    if (head->sealed)
        rv = ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm",
                            "replay table closed by a restart (old generation)");
    else
        rv = ekey_rtable_consume_prepared(table, &prep, uses_left, err);
    if (apr_global_mutex_unlock(mutex) != APR_SUCCESS && rv == EKEY_OK) {
        *uses_left = 0;    /* the use is counted; the answer is still a refusal */
        return ekey_error_set(err, EKEY_E_STORE_UNAVAILABLE, "shm", "replay unlock failed");
    }
    return rv;
}

void ekey_shm_register(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

/* The saved entries to the carry file (mode 0600, written whole or removed; a failure is
 * logged: a start with another capacity would then not find the counts). */
static void write_carry(const void *data, apr_size_t len)
{
    const char *p = data;
    ssize_t n = 0;
    int fd;

    if (carry_path == NULL || data == NULL)
        return;
    (void)unlink(carry_path);
    if ((fd = open(carry_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600))
        >= 0) {
        while (len > 0 && (n = write(fd, p, len)) > 0) {
            p += n;
            len -= (apr_size_t)n;
        }
        if (close(fd) == 0 && len == 0)
            return;
        (void)unlink(carry_path);
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, errno, NULL, "EKEY00311: cannot write %s: start "
                 "with the same EKeyReplayCapacity (its table is restored as before); with "
                 "another one the counts it held would be missing", carry_path);
}

/* The carry file into r->carry (malloc): 1 read, 0 there is none, -1 it is there but not
 * to be trusted or not readable (then no start: its counts must not be skipped). */
static int read_carry(retained_t *r)
{
    struct stat st;
    ssize_t n = 1;
    apr_size_t got = 0;
    char *buf;
    int fd, rv = -1;

    if (carry_path == NULL)
        return 0;
    if ((fd = open(carry_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return errno == ENOENT ? 0 : -1;
    /* ours only: written by this user (httpd's parent), not writable by anyone else */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()
        && (st.st_mode & 022) == 0 && st.st_size > 0
        && (buf = malloc((size_t)st.st_size)) != NULL) {
        while (got < (apr_size_t)st.st_size
               && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
            got += (apr_size_t)n;
        if (got == (apr_size_t)st.st_size) {
            r->carry = buf;
            r->carry_len = got;
            rv = 1;
        }
        else {
            free(buf);
        }
    }
    close(fd);
    return rv;
}

/* pconf pre-cleanup, before mod_slotmem_shm writes the snapshot: no use counted by an old
 * child may come after it. Only the parent seals (children never clear pconf, but be sure). */
static apr_status_t seal(void *unused)
{
    retained_t *r = ap_retained_data_get(RETAIN_KEY);
    int locked;

    (void)unused;
    if (head == NULL || getpid() != parent_pid)
        return APR_SUCCESS;
    locked = mutex != NULL && apr_global_mutex_lock(mutex) == APR_SUCCESS;
    head->sealed = 1;
    if (r != NULL && table != NULL) {  /* for a new generation of another capacity */
        free(r->carry);
        r->carry = ekey_rtable_save(table, (apr_int64_t)apr_time_sec(apr_time_now()),
                                    &r->carry_len);
        r->carry_lost = r->carry == NULL;
        write_carry(r->carry, r->carry_len);
    }
    if (locked)
        apr_global_mutex_unlock(mutex);
    return APR_SUCCESS;
}

static apr_status_t forget(void *unused)
{
    (void)unused;
    carry_path = NULL;
    table = NULL;
    head = NULL;
    mutex = NULL;
    return APR_SUCCESS;
}

static retained_t *retained(void)
{
    retained_t *r = ap_retained_data_get(RETAIN_KEY);

    if (r == NULL) {                   /* the first configuration of this parent */
        r = ap_retained_data_create(RETAIN_KEY, sizeof(*r));
        if (ekey_random((unsigned char *)&r->boot, sizeof(r->boot), NULL) != EKEY_OK)
            r->boot = (apr_uint64_t)apr_time_now() ^ ((apr_uint64_t)getpid() << 32);
    }
    return r;
}

/* A table just formatted for a restart of this parent: the sealed table's live entries,
 * moved into it (the capacity changed, so slotmem could not restore the segment). */
static apr_status_t carry_over(server_rec *s, retained_t *r, apr_size_t capacity,
                              int from_file)
{
    apr_size_t dropped = 0;
    ekey_error_t err;
    ekey_status_t st;

    st = ekey_rtable_adopt(table, r->carry, r->carry_len,
                           (apr_int64_t)apr_time_sec(apr_time_now()), &dropped, &err);
    if (st != EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00312: %s holds no usable replay "
                     "table (%s): start with the earlier EKeyReplayCapacity, or remove the "
                     "file to start without the counts it held", from_file ? carry_path
                     : "the running table's copy", err.text);
        return APR_EGENERAL;
    }
    if (dropped > 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00309: EKeyReplayCapacity %lu cannot "
                     "take over the running replay table: %lu live entries find no room; keep "
                     "the earlier capacity until they expire (the longest token lifetime plus "
                     "the clock skew)", (unsigned long)capacity, (unsigned long)dropped);
        return APR_EGENERAL;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "EKEY00310: replay table moved to %lu "
                 "entries (EKeyReplayCapacity changed), counts kept", (unsigned long)capacity);
    return APR_SUCCESS;
}

/* Keeps the table found in the slot when it is ours and current, else formats it (and
 * moves the sealed table's entries into it after a restart of this parent). */
static apr_status_t attach_table(apr_pool_t *pconf, server_rec *s, void *mem,
                                 apr_size_t capacity, int persist)
{
    retained_t *r = retained();
    shm_head_t *h = mem;
    int ours = h->magic == HEAD_MAGIC, keep = ours && (persist || h->boot == r->boot);
    apr_status_t rv = APR_SUCCESS;
    ekey_error_t err;
    int carried = 0;

    if (keep && ekey_rtable_attach(&table, pconf, h + 1, capacity, 0, NULL) == EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "EKEY00301: replay table restored "
                     "(%lu entries, %s), counts kept", (unsigned long)capacity,
                     h->boot == r->boot ? "restart" : "persisted");
    }
    else if (ekey_rtable_attach(&table, pconf, h + 1, capacity, 1, &err) != EKEY_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00302: cannot format the replay "
                     "table: %s", err.text);
        return APR_EGENERAL;
    }
    else if (r->carry != NULL) {
        h->created = (apr_int64_t)apr_time_sec(apr_time_now());
        rv = carry_over(s, r, capacity, 0);
    }
    else if (r->carry_lost) {
        /* a restart of this parent whose table could not be copied: only the same
         * capacity (restored by slotmem) keeps its counts */
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00313: the running replay table "
                     "could not be copied (out of memory): restart with the earlier "
                     "EKeyReplayCapacity");
        rv = APR_EGENERAL;
    }
    else if (persist && (carried = read_carry(r)) > 0) {
        h->created = (apr_int64_t)apr_time_sec(apr_time_now());
        rv = carry_over(s, r, capacity, 1);
    }
    else if (carried < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00312: %s is not a readable regular "
                     "file of httpd's user, writable by it only: start with the earlier "
                     "EKeyReplayCapacity, or remove the file to start without the counts it "
                     "held", carry_path);
        rv = APR_EGENERAL;
    }
    else {
        h->created = (apr_int64_t)apr_time_sec(apr_time_now());
        ap_log_error(APLOG_MARK, ours ? APLOG_NOTICE : APLOG_INFO, 0, s, "EKEY00303: replay "
                     "table created empty (%lu entries)%s", (unsigned long)capacity,
                     ours && !keep ? ": the saved table of an earlier run is not used "
                     "without EKeyReplayPersist On" : "");
    }
    free(r->carry);                    /* restored or moved: not needed any more */
    r->carry = NULL;
    r->carry_len = 0;
    r->carry_lost = 0;
    if (carry_path != NULL && rv == APR_SUCCESS)
        (void)unlink(carry_path);
    if (rv != APR_SUCCESS) {
        table = NULL;
        return rv;
    }
    h->magic = HEAD_MAGIC;
    h->boot = r->boot;
    h->sealed = 0;
    head = h;
    return APR_SUCCESS;
}

/* The slot: our header plus the table, sizes checked before anything is allocated. */
static apr_status_t make_region(apr_pool_t *pconf, server_rec *s, apr_size_t capacity,
                                void **mem)
{
    const ap_slotmem_provider_t *sm;
    ap_slotmem_instance_t *inst = NULL;
    apr_size_t bytes = ekey_rtable_size(capacity);
    apr_status_t rv;

    *mem = NULL;
    if (bytes == 0 || bytes > (apr_size_t)-1 - sizeof(shm_head_t)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00304: EKeyReplayCapacity %lu is too "
                     "large for this platform", (unsigned long)capacity);
        return APR_EINVAL;
    }
    sm = ap_lookup_provider(AP_SLOTMEM_PROVIDER_GROUP, "shm", AP_SLOTMEM_PROVIDER_VERSION);
    if (sm == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EKEY00305: the shm replay store needs "
                     "mod_slotmem_shm: add 'LoadModule slotmem_shm_module "
                     "modules/mod_slotmem_shm.so' (or a2enmod slotmem_shm)");
        return APR_ENOTIMPL;
    }
    bytes += sizeof(shm_head_t);
    rv = sm->create(&inst, SHM_NAME, bytes, 1, AP_SLOTMEM_TYPE_PERSIST, pconf);
    if (rv == APR_SUCCESS)
        rv = sm->dptr(inst, 0, mem);
    if (rv != APR_SUCCESS || *mem == NULL || sm->slot_size(inst) != bytes) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00306: cannot create the replay "
                     "table shared memory (%lu bytes)", (unsigned long)bytes);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t ekey_shm_init(apr_pool_t *pconf, server_rec *s, apr_size_t capacity, int persist)
{
    apr_status_t rv;
    void *mem;

    if (table != NULL)
        return APR_SUCCESS;
    if ((rv = make_region(pconf, s, capacity, &mem)) != APR_SUCCESS)
        return rv;
    carry_path = persist ? ap_runtime_dir_relative(pconf, "ekey-replay.carry") : NULL;
    rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00307: cannot create the replay "
                     "table mutex");
        mutex = NULL;
        return rv;
    }
    if ((rv = attach_table(pconf, s, mem, capacity, persist)) != APR_SUCCESS) {
        mutex = NULL;
        return rv;
    }
    parent_pid = getpid();
    store.name = "shm";
    store.consume = shm_consume;
    store.ctx = NULL;
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    apr_pool_pre_cleanup_register(pconf, NULL, seal);
    return APR_SUCCESS;
}

void ekey_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (mutex == NULL)
        return;
    rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "EKEY00308: cannot re-open the replay "
                     "table mutex in the child: requests will get 503");
        mutex = NULL;
    }
}

ekey_store_t *ekey_shm_store(void)
{
    return table != NULL ? &store : NULL;
}

void ekey_shm_stats(apr_int64_t now, ekey_rtable_stats_t *out)
{
    if (table == NULL || mutex == NULL || apr_global_mutex_lock(mutex) != APR_SUCCESS) {
        ekey_rtable_stats(NULL, now, out);
        return;
    }
    ekey_rtable_stats(table, now, out);
    apr_global_mutex_unlock(mutex);
}
