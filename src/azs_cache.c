/*
 * azs_cache.c - the verified-credential cache (see azs.h for the
 * invalidation rule).
 *
 * The table is direct-mapped: a collision replaces the older entry, which
 * costs one extra verification and never a wrong answer, since the whole
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

typedef struct {
    apr_uint64_t lock;         /* low 32 bits: the sequence (even: stable;
                                * odd: being written); high 32: the thread
                                * id of the last writer */
    apr_uint64_t key[4];       /* the HMAC, as words read atomically */
    apr_int64_t gen;           /* 0: empty */
    apr_int64_t expires;       /* the account's expiry, 0: never */
} cache_entry;                 /* 56 bytes */

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

static apr_size_t slot(const azs_cache_t *c, const unsigned char key[32])
{
    apr_uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (apr_size_t)(h % c->size);
}

int azs_cache_get(azs_cache_t *c, const char *db, const char *user,
                  const char *pw, apr_int64_t gen, apr_int64_t now)
{
    apr_uint64_t key[4], seen[4], s1, s2;
    apr_int64_t e_gen, e_expires;
    cache_entry *e;
    int i;

    if (!c || !c->size || !cache_key(c, (unsigned char *)key, db, user, pw)) {
        return 0;
    }
    e = &c->table[slot(c, (unsigned char *)key)];
    s1 = __atomic_load_n(&e->lock, __ATOMIC_ACQUIRE);
    if (s1 & 1) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        seen[i] = __atomic_load_n(&e->key[i], __ATOMIC_RELAXED);
    }
    e_gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
    e_expires = __atomic_load_n(&e->expires, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&e->lock, __ATOMIC_RELAXED);
    if (s1 != s2) {
        return 0;   /* written meanwhile: what was read may be torn */
    }
    return e_gen != 0 && e_gen == gen && azs_equal(seen, key, sizeof(key))
           && (e_expires == 0 || e_expires > now);
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
    e = &c->table[slot(c, (unsigned char *)key)];
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
    __atomic_store_n(&e->lock, mine + 1, __ATOMIC_RELEASE);
}
