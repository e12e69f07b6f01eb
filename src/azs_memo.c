/*
 * azs_memo.c - what a child remembers of one database: users (their row
 * and the roles granted to them directly) and role closures (what holding
 * one role gives), shared by the child's threads and kept current by the
 * change feed.
 *
 * A write costs only what it concerns: the memo knows the feed row it is
 * current with, and before it answers a request that has seen a newer one
 * it reads the rows in between and forgets what they name (a user row: that
 * user; a role row: every closure that reaches the role).  A (seq, tag)
 * it cannot find again - the file was restored from a backup, or the feed
 * was trimmed past it - makes it forget everything.
 *
 * Entries are immutable once made, each one block of memory, counted: the
 * memo holds one reference while the entry is in its tables, and every
 * request that uses it holds one until it releases it, so an entry the
 * memo forgets (or evicts to stay within its budget) stays valid for the
 * requests still reading it.  The tables and the list are guarded by one
 * mutex, held for lookups and feed reading, never while a request reads
 * the database for a miss.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "azs.h"

/* At most this many feed rows are read to catch up; further behind, the
 * memo forgets everything instead. */
#define AZS_FEED_CATCHUP 4096

struct azs_memo_entry {
    azs_memo_entry_t *prev, *next;  /* the memo's list, newest first */
    volatile apr_uint32_t refs;
    int linked;                     /* in the memo's tables */
    apr_size_t bytes;
    int is_role;
    apr_int64_t role_id;            /* a role's closure: its id */
    const char *key;                /* a user: the name looked up */
    int found;
    azs_user_t u;
    int nids;                       /* a user: the roles granted directly;
                                     * a role: every role reached, sorted */
    const apr_int64_t *ids;
    int nroles;                     /* a role: by name */
    const azs_grant_t *roles;
    int nperms;
    const azs_grant_t *perms;
};

struct azs_memo {
    apr_pool_t *pool;               /* the tables' (unmanaged) */
    apr_thread_mutex_t *lock;
    apr_hash_t *users;              /* name -> entry */
    apr_hash_t *roles;              /* role id -> entry */
    azs_memo_entry_t list;          /* sentinel */
    apr_size_t budget;
    char *db;                       /* azs_store_id of the file */
    int synced;                     /* pos is meaningful */
    azs_feed_pos_t pos;
    azs_memo_stats_t stats;
};

/* ---- entries ------------------------------------------------------------ */

/* Entries are packed into one block: measured first (at == NULL), then
 * written. */
typedef struct {
    char *at;
    apr_size_t need;
} packer;

static void *pk_alloc(packer *k, apr_size_t n)
{
    void *p = k->at;

    n = APR_ALIGN_DEFAULT(n);
    k->need += n;
    if (k->at) {
        k->at += n;
    }
    return p;
}

static const char *pk_str(packer *k, const char *s)
{
    apr_size_t n = strlen(s) + 1;
    char *d = pk_alloc(k, n);

    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

static int grant_cmp(const void *a, const void *b)
{
    return strcmp(((const azs_grant_t *)a)->name,
                  ((const azs_grant_t *)b)->name);
}

static int id_cmp(const void *a, const void *b)
{
    apr_int64_t x = *(const apr_int64_t *)a, y = *(const apr_int64_t *)b;

    return x < y ? -1 : x > y;
}

static int chain_depth(const char *chain)
{
    int depth = 0;

    while ((chain = strstr(chain, " > ")) != NULL) {
        depth++;
        chain += 3;
    }
    return depth;
}

static const azs_grant_t *pk_grants(packer *k, apr_hash_t *h, int *n)
{
    apr_hash_index_t *hi;
    azs_grant_t *g;
    int i = 0;

    *n = h ? (int)apr_hash_count(h) : 0;
    g = pk_alloc(k, sizeof(*g) * (apr_size_t)*n);
    for (hi = h ? apr_hash_first(NULL, h) : NULL; hi;
         hi = apr_hash_next(hi)) {
        const void *name;
        void *chain;

        apr_hash_this(hi, &name, NULL, &chain);
        if (g) {
            g[i].name = pk_str(k, name);
            g[i].chain = pk_str(k, chain);
            g[i].depth = chain_depth(chain);
        }
        else {
            pk_str(k, name);
            pk_str(k, chain);
        }
        i++;
    }
    if (g && *n > 1) {
        qsort(g, (size_t)*n, sizeof(*g), grant_cmp);
    }
    return g;
}

static const apr_int64_t *pk_ids(packer *k, apr_array_header_t *a, int sort,
                                 int *n)
{
    apr_int64_t *ids;

    *n = a ? a->nelts : 0;
    ids = pk_alloc(k, sizeof(*ids) * (apr_size_t)*n);
    if (ids && *n > 0) {
        memcpy(ids, a->elts, sizeof(*ids) * (apr_size_t)*n);
        if (sort) {
            qsort(ids, (size_t)*n, sizeof(*ids), id_cmp);
        }
    }
    return ids;
}

/* What one entry is made of, before packing. */
typedef struct {
    int is_role;
    apr_int64_t role_id;
    const char *key;
    int found;
    const azs_user_t *u;
    apr_array_header_t *ids;
    apr_hash_t *roles, *perms;
} entry_src;

static void pack(packer *k, azs_memo_entry_t *e, const entry_src *src)
{
    if (e) {
        memset(e, 0, sizeof(*e));
        e->is_role = src->is_role;
        e->role_id = src->role_id;
        e->found = src->found;
    }
    if (src->key) {
        const char *key = pk_str(k, src->key);

        if (e) {
            e->key = key;
        }
    }
    if (src->found) {
        const char *name = pk_str(k, src->u->name);
        const char *hash = pk_str(k, src->u->hash);

        if (e) {
            e->u = *src->u;
            e->u.name = name;
            e->u.hash = hash;
        }
    }
    if (e) {
        e->ids = pk_ids(k, src->ids, src->is_role, &e->nids);
        e->roles = pk_grants(k, src->roles, &e->nroles);
        e->perms = pk_grants(k, src->perms, &e->nperms);
    }
    else {
        int n;

        pk_ids(k, src->ids, 0, &n);
        pk_grants(k, src->roles, &n);
        pk_grants(k, src->perms, &n);
    }
}

/* A new entry with one reference (the caller's); NULL without memory. */
static azs_memo_entry_t *entry_make(const entry_src *src)
{
    packer k = { NULL, 0 };
    azs_memo_entry_t *e;
    char *block;

    pk_alloc(&k, sizeof(*e));
    pack(&k, NULL, src);
    if (!(block = malloc(k.need))) {
        return NULL;
    }
    k.at = block;
    k.need = 0;
    e = pk_alloc(&k, sizeof(*e));
    pack(&k, e, src);
    e->bytes = k.need;
    e->refs = 1;
    return e;
}

void azs_memo_entry_release(azs_memo_entry_t *e)
{
    if (e && apr_atomic_dec32(&e->refs) == 0) {
#ifdef AZS_MEMO_POISON
        /* A use after the last release reads garbage (and fails a test);
         * AddressSanitizer reports it. */
        memset(e, 0xdb, e->bytes);
#endif
        free(e);
    }
}

/* ---- the memo ----------------------------------------------------------- */

azs_rc azs_memo_create(azs_memo_t **out, apr_size_t budget)
{
    apr_pool_t *pool;
    azs_memo_t *m;

    *out = NULL;
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return AZS_RC_DBERR;
    }
    apr_pool_tag(pool, "authz_status_memo");
    m = apr_pcalloc(pool, sizeof(*m));
    m->pool = pool;
    if (apr_thread_mutex_create(&m->lock, APR_THREAD_MUTEX_DEFAULT, pool)
        != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return AZS_RC_DBERR;
    }
    m->users = apr_hash_make(pool);
    m->roles = apr_hash_make(pool);
    m->list.next = m->list.prev = &m->list;
    m->budget = budget;
    *out = m;
    return AZS_RC_OK;
}

static void unlink_entry(azs_memo_t *m, azs_memo_entry_t *e)
{
    if (e->is_role) {
        apr_hash_set(m->roles, &e->role_id, sizeof(e->role_id), NULL);
    }
    else {
        apr_hash_set(m->users, e->key, APR_HASH_KEY_STRING, NULL);
    }
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->linked = 0;
    m->stats.bytes -= e->bytes;
    m->stats.entries--;
    azs_memo_entry_release(e);           /* the memo's reference */
}

static void forget_all(azs_memo_t *m)
{
    while (m->list.next != &m->list) {
        unlink_entry(m, m->list.next);
    }
    m->stats.flushes++;
}

void azs_memo_destroy(azs_memo_t *m)
{
    if (m) {
        forget_all(m);
        free(m->db);
        apr_pool_destroy(m->pool);      /* and the mutex */
    }
}

static void link_entry(azs_memo_t *m, azs_memo_entry_t *e)
{
    apr_atomic_inc32(&e->refs);          /* the memo's reference */
    e->linked = 1;
    e->next = m->list.next;
    e->prev = &m->list;
    m->list.next->prev = e;
    m->list.next = e;
    if (e->is_role) {
        apr_hash_set(m->roles, &e->role_id, sizeof(e->role_id), e);
    }
    else {
        apr_hash_set(m->users, e->key, APR_HASH_KEY_STRING, e);
    }
    m->stats.bytes += e->bytes;
    m->stats.entries++;
    /* The least recently used go first; the one just added stays even
     * when it alone is over the budget (the request holds it anyway). */
    while (m->stats.bytes > m->budget && m->list.prev != e) {
        unlink_entry(m, m->list.prev);
        m->stats.evictions++;
    }
}

static void touch(azs_memo_t *m, azs_memo_entry_t *e)
{
    if (m->list.next != e) {
        e->prev->next = e->next;
        e->next->prev = e->prev;
        e->next = m->list.next;
        e->prev = &m->list;
        m->list.next->prev = e;
        m->list.next = e;
    }
}

static int reaches(const azs_memo_entry_t *e, apr_int64_t id)
{
    return e->role_id == id
           || bsearch(&id, e->ids, (size_t)e->nids, sizeof(id), id_cmp);
}

/* Catching up with the feed: what each row names is forgotten. */
typedef struct {
    azs_memo_t *m;
    azs_feed_pos_t from, to;
    int rows;
    int from_seen;                  /* the row the memo was current with */
    int to_seen;                    /* the row the request saw */
    int broken;
} catchup;

static void feed_row(void *baton, apr_int64_t seq, apr_int64_t tag,
                     int kind, const char *key)
{
    catchup *c = baton;
    azs_memo_t *m = c->m;
    azs_memo_entry_t *e, *next;

    c->rows++;
    if (seq == c->from.seq) {
        c->from_seen = tag == c->from.tag;
        return;                     /* already applied */
    }
    if (c->rows == 1) {
        c->broken = 1;              /* trimmed past, or another history */
    }
    if (seq == c->to.seq) {
        c->to_seen = tag == c->to.tag;
    }
    if (c->broken) {
        return;
    }
    if (kind == AZS_FEED_USER) {
        e = apr_hash_get(m->users, key, APR_HASH_KEY_STRING);
        if (e) {
            unlink_entry(m, e);
            m->stats.forgotten++;
        }
    }
    else if (kind == AZS_FEED_ROLE || kind == AZS_FEED_ROLES) {
        apr_int64_t id = kind == AZS_FEED_ROLE ? apr_atoi64(key) : 0;

        for (e = m->list.next; e != &m->list; e = next) {
            next = e->next;
            if (e->is_role && (kind == AZS_FEED_ROLES || reaches(e, id))) {
                unlink_entry(m, e);
                m->stats.forgotten++;
            }
        }
    }
    /* Tokens and blocks are not remembered here. */
}

typedef enum {
    MEMO_NONE,          /* neither used nor filled by this request */
    MEMO_USE,           /* current with the request: used and filled */
} memo_mode;

static void adopt(azs_memo_t *m, const char *db, const azs_feed_pos_t *pos)
{
    if (!m->db || strcmp(m->db, db) != 0) {
        free(m->db);
        m->db = strdup(db);
    }
    m->pos = *pos;
    m->synced = m->db != NULL;
}

/* Brings the memo to the request's place in the feed (under the lock).
 * latest: the request's snapshot is known to be the newest (no commit
 * since its handle read the feed), so a memo ahead of it was ahead of a
 * history that is gone. */
static azs_rc memo_sync(azs_memo_t *m, azs_store_t *st,
                        azs_feed_pos_t pos, int latest, memo_mode *mode)
{
    const char *db = azs_store_id(st);
    catchup c;
    azs_rc rc;

    *mode = MEMO_USE;
    if (!m->synced || !m->db || strcmp(m->db, db) != 0) {
        /* First use, or another file at this path (a new one, or the
         * old one again): nothing remembered holds for it. */
        forget_all(m);
        adopt(m, db, &pos);
        return AZS_RC_OK;
    }
    if (m->pos.seq == pos.seq && m->pos.tag == pos.tag) {
        return AZS_RC_OK;
    }
    if (m->pos.seq >= pos.seq) {
        if (latest || m->pos.seq == pos.seq) {
            /* Rolled back (a restore), or another history at the same
             * place: forget everything, start from the request's. */
            forget_all(m);
            adopt(m, db, &pos);
        }
        else {
            /* The request's snapshot began before another request
             * brought the memo further: it reads for itself. */
            *mode = MEMO_NONE;
        }
        return AZS_RC_OK;
    }
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.from = m->pos;
    c.to = pos;
    rc = azs_store_feed(st, m->pos.seq, pos.seq, AZS_FEED_CATCHUP + 2,
                        feed_row, &c);
    if (rc != AZS_RC_OK) {
        return rc;
    }
    if (!c.from_seen || !c.to_seen || c.broken
        || c.rows > AZS_FEED_CATCHUP) {
        forget_all(m);
    }
    else {
        m->stats.catchups++;
    }
    adopt(m, db, &pos);
    return AZS_RC_OK;
}

static void hold(azs_access_t *a, azs_memo_entry_t *e)
{
    APR_ARRAY_PUSH(a->held, azs_memo_entry_t *) = e;
}

/* Reads a user (role_id < 0) or a role's closure from the database: a new
 * entry with the caller's reference. */
static azs_rc entry_read(azs_store_t *st, const char *user,
                         apr_int64_t role_id, apr_pool_t *p,
                         azs_memo_entry_t **out)
{
    entry_src src;
    azs_user_t u;
    azs_rc rc;

    memset(&src, 0, sizeof(src));
    if (user) {
        src.key = user;
        rc = azs_user_get(st, user, &u, p);
        if (rc == AZS_RC_OK) {
            src.found = 1;
            src.u = &u;
            rc = azs_user_role_ids(st, u.id, p, &src.ids);
        }
        else if (rc == AZS_RC_NOTFOUND) {
            rc = AZS_RC_OK;          /* remembered as unknown */
        }
    }
    else {
        src.is_role = 1;
        src.role_id = role_id;
        rc = azs_role_closure(st, role_id, p, &src.roles, &src.perms,
                              &src.ids);
    }
    if (rc != AZS_RC_OK) {
        return rc;
    }
    *out = entry_make(&src);
    if (!*out) {
        azs_store_set_error(st, "out of memory");
        return AZS_RC_DBERR;
    }
    return AZS_RC_OK;
}

/* Puts a freshly read entry into the memo if the memo is still where the
 * reading request was (under the lock); the request keeps whichever entry
 * the memo then has. */
static azs_memo_entry_t *offer(azs_memo_t *m, const char *db,
                               const azs_feed_pos_t *pos,
                               azs_memo_entry_t *e)
{
    azs_memo_entry_t *have;

    if (!m->synced || m->pos.seq != pos->seq || m->pos.tag != pos->tag
        || strcmp(m->db, db) != 0) {
        return e;
    }
    have = e->is_role ? apr_hash_get(m->roles, &e->role_id,
                                     sizeof(e->role_id))
                      : apr_hash_get(m->users, e->key, APR_HASH_KEY_STRING);
    if (have) {
        apr_atomic_inc32(&have->refs);
        azs_memo_entry_release(e);
        touch(m, have);
        return have;
    }
    link_entry(m, e);
    return e;
}

azs_rc azs_access_load(azs_memo_t *m, azs_store_t *st,
                       const azs_feed_pos_t *pos, int latest,
                       const char *user, apr_pool_t *p, azs_access_t *a)
{
    const char *db = azs_store_id(st);
    azs_memo_entry_t *ue = NULL, **closures;
    memo_mode mode = MEMO_NONE;
    int i, missing = 0;
    azs_rc rc;

    memset(a, 0, sizeof(*a));
    a->seq = pos->seq;
    a->held = apr_array_make(p, 4, sizeof(azs_memo_entry_t *));

    /* Under the lock: catch up, and take what is there. */
    if (m) {
        apr_uint64_t forgotten, flushes;

        apr_thread_mutex_lock(m->lock);
        forgotten = m->stats.forgotten;
        flushes = m->stats.flushes;
        rc = memo_sync(m, st, *pos, latest, &mode);
        a->forgotten = (int)(m->stats.forgotten - forgotten);
        a->flushed = m->stats.flushes != flushes;
        if (rc != AZS_RC_OK) {
            apr_thread_mutex_unlock(m->lock);
            return rc;
        }
        if (mode == MEMO_USE
            && (ue = apr_hash_get(m->users, user, APR_HASH_KEY_STRING))) {
            apr_atomic_inc32(&ue->refs);
            hold(a, ue);
            touch(m, ue);
            m->stats.hits++;
            a->hits++;
        }
    }
    if (!ue) {
        if (m) {
            m->stats.misses++;
            apr_thread_mutex_unlock(m->lock);
        }
        if ((rc = entry_read(st, user, -1, p, &ue)) != AZS_RC_OK) {
            return rc;
        }
        a->read++;
        if (m && mode == MEMO_USE) {
            apr_thread_mutex_lock(m->lock);
            ue = offer(m, db, pos, ue);
        }
        hold(a, ue);
    }
    /* Locked here when m is used: the closures of the direct roles. */
    closures = apr_pcalloc(p, sizeof(*closures) * (apr_size_t)(ue->nids + 1));
    for (i = 0; i < ue->nids; i++) {
        azs_memo_entry_t *ce = NULL;

        if (m && mode == MEMO_USE
            && (ce = apr_hash_get(m->roles, &ue->ids[i], sizeof(ue->ids[i])))) {
            apr_atomic_inc32(&ce->refs);
            hold(a, ce);
            touch(m, ce);
            m->stats.hits++;
            a->hits++;
        }
        else {
            missing++;
        }
        closures[i] = ce;
    }
    if (m && mode == MEMO_USE) {
        m->stats.misses += (apr_uint64_t)missing;
        apr_thread_mutex_unlock(m->lock);
    }
    for (i = 0; i < ue->nids; i++) {
        azs_memo_entry_t *ce;

        if (closures[i]) {
            continue;
        }
        if ((rc = entry_read(st, NULL, ue->ids[i], p, &ce)) != AZS_RC_OK) {
            return rc;
        }
        a->read++;
        if (m && mode == MEMO_USE) {
            apr_thread_mutex_lock(m->lock);
            ce = offer(m, db, pos, ce);
            apr_thread_mutex_unlock(m->lock);
        }
        hold(a, ce);
        closures[i] = ce;
    }
    a->found = ue->found;
    if (ue->found) {
        a->u = ue->u;
    }
    a->closures = (const azs_memo_entry_t *const *)closures;
    a->nclosures = ue->nids;
    return AZS_RC_OK;
}

void azs_access_release(azs_access_t *a)
{
    int i;

    if (!a->held) {
        return;
    }
    for (i = 0; i < a->held->nelts; i++) {
        azs_memo_entry_release(APR_ARRAY_IDX(a->held, i,
                                             azs_memo_entry_t *));
    }
    a->held->nelts = 0;
    a->held = NULL;
    a->closures = NULL;
    a->nclosures = 0;
    a->found = 0;
}

const char *azs_access_find(const azs_access_t *a, int is_perm,
                            const char *name)
{
    const azs_grant_t *best = NULL;
    azs_grant_t want;
    int i;

    want.name = name;
    for (i = 0; i < a->nclosures; i++) {
        const azs_memo_entry_t *e = a->closures[i];
        const azs_grant_t *g = bsearch(&want,
                                       is_perm ? e->perms : e->roles,
                                       (size_t)(is_perm ? e->nperms
                                                        : e->nroles),
                                       sizeof(want), grant_cmp);

        /* The shortest chain, as a walk from all the direct roles at
         * once would find. */
        if (g && (!best || g->depth < best->depth)) {
            best = g;
        }
    }
    return best ? best->chain : NULL;
}

void azs_memo_stats(azs_memo_t *m, azs_memo_stats_t *out)
{
    apr_thread_mutex_lock(m->lock);
    *out = m->stats;
    apr_thread_mutex_unlock(m->lock);
}
