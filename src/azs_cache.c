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
 * by another skips its write, so no process ever waits for another.  A
 * process killed in the middle of a write leaves that one slot missing.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_shm.h>

#include "azs.h"

typedef struct {
    apr_uint32_t seq;          /* even: stable; odd: being written */
    apr_uint32_t unused;
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
        return AZS_INVALID;
    }
    if (entries) {
        /* Anonymous shared memory comes zeroed (every entry empty) and
         * its pages are touched only as entries are used; unmapped when
         * p is cleared. */
        if (apr_shm_create(&shm, entries * sizeof(cache_entry), NULL, p)
            != APR_SUCCESS) {
            return AZS_INVALID;
        }
        c->table = apr_shm_baseaddr_get(shm);
    }
    c->size = entries;
    *out = c;
    return AZS_OK;
}

static void cache_key(const azs_cache_t *c, unsigned char key[32],
                      const char *db, const char *user, const char *pw)
{
    apr_size_t ld = strlen(db) + 1, lu = strlen(user) + 1;
    apr_size_t lp = strlen(pw);
    char buf[1024];
    char *msg = ld + lu + lp <= sizeof(buf) ? buf : malloc(ld + lu + lp);

    /* NUL separators: neither a name nor a path contains one, so no two
     * triples give the same message. */
    if (!msg) {
        memset(key, 0, 32);
        return;
    }
    memcpy(msg, db, ld);
    memcpy(msg + ld, user, lu);
    memcpy(msg + ld + lu, pw, lp);
    azs_hmac_sha256(key, c->secret, sizeof(c->secret), msg, ld + lu + lp);
    memset(msg, 0, ld + lu + lp);
    if (msg != buf) {
        free(msg);
    }
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
    apr_uint64_t key[4], seen[4];
    apr_int64_t e_gen, e_expires;
    apr_uint32_t s1, s2;
    cache_entry *e;
    int i;

    if (!c || !c->size) {
        return 0;
    }
    cache_key(c, (unsigned char *)key, db, user, pw);
    e = &c->table[slot(c, (unsigned char *)key)];
    s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
    if (s1 & 1) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        seen[i] = __atomic_load_n(&e->key[i], __ATOMIC_RELAXED);
    }
    e_gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
    e_expires = __atomic_load_n(&e->expires, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
    if (s1 != s2) {
        return 0;   /* written meanwhile: what was read may be torn */
    }
    return e_gen != 0 && e_gen == gen && azs_equal(seen, key, sizeof(key))
           && (e_expires == 0 || e_expires > now);
}

void azs_cache_put(azs_cache_t *c, const char *db, const char *user,
                   const char *pw, apr_int64_t gen, apr_int64_t expires)
{
    apr_uint64_t key[4];
    apr_uint32_t s;
    cache_entry *e;
    int i;

    if (!c || !c->size) {
        return;
    }
    cache_key(c, (unsigned char *)key, db, user, pw);
    e = &c->table[slot(c, (unsigned char *)key)];
    s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
    if ((s & 1)
        || !__atomic_compare_exchange_n(&e->seq, &s, s + 1, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return;     /* another writer has it: a cache may drop a write */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (i = 0; i < 4; i++) {
        __atomic_store_n(&e->key[i], key[i], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&e->gen, gen, __ATOMIC_RELAXED);
    __atomic_store_n(&e->expires, expires, __ATOMIC_RELAXED);
    __atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}
