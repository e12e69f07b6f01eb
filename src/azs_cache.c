/*
 * azs_cache.c - the verified-credential cache (see azs.h for the
 * invalidation rule).
 *
 * The table is direct-mapped: a collision replaces the older entry, which
 * costs one extra verification and never a wrong answer, since the whole
 * 256-bit key is compared.  One mutex guards it; the critical section is
 * a 48-byte copy.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_mutex.h>

#include "azs.h"

typedef struct {
    unsigned char key[AZS_SHA256_LEN];
    apr_int64_t gen;          /* 0: empty */
    apr_int64_t expires;      /* the account's expiry, 0: never */
} cache_entry;

struct azs_cache {
    unsigned char secret[32];
    apr_size_t size;
    cache_entry *table;
    apr_thread_mutex_t *lock;
};

azs_rc azs_cache_create(azs_cache_t **out, apr_size_t entries, apr_pool_t *p)
{
    azs_cache_t *c = apr_pcalloc(p, sizeof(*c));

    if (apr_generate_random_bytes(c->secret, sizeof(c->secret))
            != APR_SUCCESS
        || apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS) {
        return AZS_INVALID;
    }
    c->size = entries;
    c->table = entries ? apr_pcalloc(p, entries * sizeof(cache_entry))
                       : NULL;
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
    unsigned char key[AZS_SHA256_LEN];
    cache_entry e;

    if (!c || !c->size) {
        return 0;
    }
    cache_key(c, key, db, user, pw);
    apr_thread_mutex_lock(c->lock);
    e = c->table[slot(c, key)];
    apr_thread_mutex_unlock(c->lock);
    return e.gen != 0 && e.gen == gen && azs_equal(e.key, key, sizeof(key))
           && (e.expires == 0 || e.expires > now);
}

void azs_cache_put(azs_cache_t *c, const char *db, const char *user,
                   const char *pw, apr_int64_t gen, apr_int64_t expires)
{
    cache_entry e;

    if (!c || !c->size) {
        return;
    }
    cache_key(c, e.key, db, user, pw);
    e.gen = gen;
    e.expires = expires;
    apr_thread_mutex_lock(c->lock);
    c->table[slot(c, e.key)] = e;
    apr_thread_mutex_unlock(c->lock);
}
