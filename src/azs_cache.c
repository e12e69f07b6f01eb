/*
 * azs_cache.c - the verified-credential cache (see azs.h for the
 * invalidation rule).
 *
 * The table is set-associative: a login's key picks a bucket of
 * AZS_CACHE_WAYS entries, and a new login replaces an empty entry, else
 * the one used longest ago.  Two logins that share a bucket therefore do
 * not evict each other for ever (a direct-mapped table made about 30 of
 * 1,000 returning users pay a hash on every request).  A replacement costs
 * one extra verification and never a wrong answer, since the whole
 * 256-bit key is compared.  It lives in anonymous shared memory made
 * before httpd forks its children, so a login verified by one child is
 * known to all.  Each slot is a sequence lock: readers never wait (a slot
 * being written reads as a miss), and a writer that finds the slot taken
 * by another skips its write, so no process ever waits for another.
 *
 * The lock word also names the thread that holds it (its Linux thread
 * id).  A process killed in the middle of a write leaves its slot odd;
 * the next writer that finds the holder gone (no such thread) takes the
 * slot over.  Only a dead holder is ever displaced: a live one, however
 * slow, still owns its slot, so there is never a second writer whose
 * stores could mix with its own and give a reader a torn entry.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE            /* syscall */
#endif
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_shm.h>

#include "azs.h"

#define AZS_CACHE_WAYS 8

typedef struct {
    apr_uint64_t lock;         /* low 32 bits: the sequence (even: stable;
                                * odd: being written); high 32: the thread
                                * id of the last writer */
    apr_uint64_t key[4];       /* the HMAC, as words read atomically */
    apr_int64_t gen;           /* the credential version; 0: empty */
    apr_int64_t expires;       /* the account's expiry, 0: never */
    apr_int64_t used;          /* second of the last hit (or the write): for
                                * the choice of what to replace only */
} cache_entry;                 /* 64 bytes: one cache line */

struct azs_cache {
    unsigned char secret[32];  /* one per table: every child has it */
    apr_size_t size;
    cache_entry *table;        /* in the shared memory */
};

azs_rc azs_cache_create(azs_cache_t **out, apr_size_t entries, apr_pool_t *p)
{
    azs_cache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_shm_t *shm = NULL;

    if (apr_generate_random_bytes(c->secret, sizeof(c->secret))
        != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    /* Whole buckets. */
    entries = (entries + AZS_CACHE_WAYS - 1) / AZS_CACHE_WAYS
              * AZS_CACHE_WAYS;
    if (entries) {
        /* Anonymous shared memory comes zeroed (every entry empty) and
         * its pages are touched only as entries are used; unmapped when
         * p is cleared. */
        if (apr_shm_create(&shm, entries * sizeof(cache_entry), NULL, p)
            != APR_SUCCESS) {
            return AZS_RC_INVALID;
        }
        c->table = apr_shm_baseaddr_get(shm);
    }
    c->size = entries;
    *out = c;
    return AZS_RC_OK;
}

/* 0 when the key cannot be made (no memory for a long message): the
 * caller then neither reads nor writes, since a key that is not the HMAC
 * would be the same for every login that failed the same way. */
static int cache_key(const azs_cache_t *c, unsigned char key[32],
                     const char *db, const char *user, const char *pw)
{
    apr_size_t ld = strlen(db) + 1, lu = strlen(user) + 1;
    apr_size_t lp = strlen(pw);
    char buf[1024];
    char *msg = ld + lu + lp <= sizeof(buf) ? buf : malloc(ld + lu + lp);

    if (!msg) {
        return 0;
    }
    /* NUL separators: neither a name nor a path contains one, so no two
     * triples give the same message. */
    memcpy(msg, db, ld);
    memcpy(msg + ld, user, lu);
    memcpy(msg + ld + lu, pw, lp);
    azs_hmac_sha256(key, c->secret, sizeof(c->secret), msg, ld + lu + lp);
    memset(msg, 0, ld + lu + lp);
    if (msg != buf) {
        free(msg);
    }
    return 1;
}

/* The first entry of the login's bucket. */
static cache_entry *bucket(const azs_cache_t *c, const unsigned char key[32])
{
    apr_uint64_t h;

    memcpy(&h, key, sizeof(h));
    return &c->table[(apr_size_t)(h % (c->size / AZS_CACHE_WAYS))
                     * AZS_CACHE_WAYS];
}

/* Reads e under its sequence lock: 1 with its key, credential version
 * and expiry when stable, 0 when being written (a miss). */
static int entry_read(cache_entry *e, apr_uint64_t seen[4], apr_int64_t *gen,
                      apr_int64_t *expires)
{
    apr_uint64_t s1, s2;
    int i;

    s1 = __atomic_load_n(&e->lock, __ATOMIC_ACQUIRE);
    if (s1 & 1) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        seen[i] = __atomic_load_n(&e->key[i], __ATOMIC_RELAXED);
    }
    *gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
    *expires = __atomic_load_n(&e->expires, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&e->lock, __ATOMIC_RELAXED);
    return s1 == s2;   /* else written meanwhile: what was read may be torn */
}

int azs_cache_get(azs_cache_t *c, const char *db, const char *user,
                  const char *pw, apr_int64_t gen, apr_int64_t now)
{
    apr_uint64_t key[4], seen[4];
    apr_int64_t e_gen, e_expires;
    cache_entry *e;
    int w;

    if (!c || !c->size || !cache_key(c, (unsigned char *)key, db, user, pw)) {
        return 0;
    }
    e = bucket(c, (unsigned char *)key);
    for (w = 0; w < AZS_CACHE_WAYS; w++, e++) {
        if (!entry_read(e, seen, &e_gen, &e_expires) || e_gen == 0
            || !azs_equal(seen, key, sizeof(key))) {
            continue;
        }
        if (e_gen != gen || (e_expires != 0 && e_expires <= now)) {
            return 0;
        }
        /* Marked at most once a second: a hit mostly only reads. */
        if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) != now) {
            __atomic_store_n(&e->used, now, __ATOMIC_RELAXED);
        }
        return 1;
    }
    return 0;
}

/* Where a login goes in its bucket: its own entry if it has one, else an
 * empty one, else the one used longest ago. */
static cache_entry *entry_for(cache_entry *first, const apr_uint64_t key[4])
{
    apr_uint64_t seen[4];
    apr_int64_t e_gen, e_expires, used, oldest = 0;
    cache_entry *e, *empty = NULL, *victim = first;
    /* Where the search starts depends on the key, so that logins written
     * in the same second (equally old) do not all replace the same one. */
    int start = (int)(key[1] % AZS_CACHE_WAYS), w;

    for (w = 0; w < AZS_CACHE_WAYS; w++) {
        e = first + (start + w) % AZS_CACHE_WAYS;
        e_gen = 1;           /* being written: not empty */
        if (entry_read(e, seen, &e_gen, &e_expires) && e_gen != 0
            && azs_equal(seen, key, 4 * sizeof(key[0]))) {
            return e;
        }
        if (!empty && e_gen == 0) {
            empty = e;
        }
        used = __atomic_load_n(&e->used, __ATOMIC_RELAXED);
        if (w == 0 || used < oldest) {
            oldest = used;
            victim = e;
        }
    }
    return empty ? empty : victim;
}

static apr_uint32_t my_tid(void)
{
    return (apr_uint32_t)syscall(SYS_gettid);
}

/* Is the holder of this odd lock word gone?  Its thread id is in the high
 * half; 0 names nobody.  Thread ids are unique among the living, and
 * kill() accepts any of them (EPERM: one that exists but is not ours to
 * signal).  The calling thread is not in the middle of a write, so a word
 * that names it was left by a dead thread whose id it got. */
static int holder_gone(apr_uint64_t lock, apr_uint32_t me)
{
    apr_uint32_t tid = (apr_uint32_t)(lock >> 32);

    if (tid == 0 || tid == me) {
        return 1;
    }
    return kill((pid_t)tid, 0) != 0 && errno == ESRCH;
}

void azs_cache_put(azs_cache_t *c, const char *db, const char *user,
                   const char *pw, apr_int64_t gen, apr_int64_t expires)
{
    apr_uint64_t key[4], s, mine;
    apr_uint32_t me;
    cache_entry *e;
    int i;

    if (!c || !c->size || !cache_key(c, (unsigned char *)key, db, user, pw)) {
        return;
    }
    e = entry_for(bucket(c, (unsigned char *)key), key);
    me = my_tid();
    s = __atomic_load_n(&e->lock, __ATOMIC_RELAXED);
    if ((s & 1) && !holder_gone(s, me)) {
        return;     /* another writer has it: a cache may drop a write */
    }
    /* Odd, from even or from the odd word a dead writer left: the
     * sequence moves on either way, so a reader that began before sees a
     * change. */
    mine = (apr_uint64_t)me << 32
           | (apr_uint32_t)((apr_uint32_t)s + ((s & 1) ? 2 : 1));
    if (!__atomic_compare_exchange_n(&e->lock, &s, mine, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return;     /* another writer took it first */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (i = 0; i < 4; i++) {
        __atomic_store_n(&e->key[i], key[i], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&e->gen, gen, __ATOMIC_RELAXED);
    __atomic_store_n(&e->expires, expires, __ATOMIC_RELAXED);
    __atomic_store_n(&e->used, apr_time_sec(apr_time_now()),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&e->lock, mine + 1, __ATOMIC_RELEASE);
}
