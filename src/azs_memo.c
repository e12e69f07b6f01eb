/*
 * azs_memo.c - what a child remembers of one database: users (their row
 * and the roles granted to them directly) and roles (each one's name, the
 * permissions it carries itself and the roles it inherits), shared by the
 * child's threads and kept current by the change feed.  A request walks
 * the roles in memory, from the user's own through inheritance.
 *
 * A write costs only what it concerns: the memo knows the feed row it is
 * current with, and before it answers a request that has seen a newer one
 * it reads the rows in between and forgets what they name (a user row: that
 * user; a role row: that role).  A grant to a role every user inherits
 * costs one role read per child.  A (seq, tag)
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

/* What an entry costs beyond its block: malloc's header, its slot in a
 * hash table and the table's share of buckets (counted in the budget). */
#define AZS_MEMO_OVERHEAD 64

struct azs_memo_entry {
    azs_memo_entry_t *prev, *next;  /* the memo's list, newest first */
    volatile apr_uint32_t refs;
    int linked;                     /* in the memo's tables */
    apr_size_t bytes;
    int is_role;
    apr_int64_t role_id;            /* a role: its id */
    const char *key;                /* a user: the name looked up; a role:
                                     * its name */
    int found;
    azs_user_t u;
    int nids;                       /* a user: the roles granted directly;
                                     * a role: the roles it inherits */
    const apr_int64_t *ids;
    int nperms;                     /* a role: what it carries, sorted */
    const char *const *perms;
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
    int behind;                     /* readers in a row it was ahead of */
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

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *const *pk_names(packer *k, apr_array_header_t *a,
                                   int *n)
{
    const char **names;
    int i;

    *n = a ? a->nelts : 0;
    names = pk_alloc(k, sizeof(*names) * (apr_size_t)*n);
    for (i = 0; i < *n; i++) {
        const char *name = pk_str(k, APR_ARRAY_IDX(a, i, const char *));

        if (names) {
            names[i] = name;
        }
    }
    if (names && *n > 1) {
        qsort(names, (size_t)*n, sizeof(*names), name_cmp);
    }
    return names;
}

static const apr_int64_t *pk_ids(packer *k, apr_array_header_t *a, int *n)
{
    apr_int64_t *ids;

    *n = a ? a->nelts : 0;
    ids = pk_alloc(k, sizeof(*ids) * (apr_size_t)*n);
    if (ids && *n > 0) {
        memcpy(ids, a->elts, sizeof(*ids) * (apr_size_t)*n);
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
    apr_array_header_t *perms;
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
    if (src->found && !src->is_role) {
        const char *name = pk_str(k, src->u->name);
        const char *hash = pk_str(k, src->u->hash);

        if (e) {
            e->u = *src->u;
            e->u.name = name;
            e->u.hash = hash;
        }
    }
    if (e) {
        e->ids = pk_ids(k, src->ids, &e->nids);
        e->perms = pk_names(k, src->perms, &e->nperms);
    }
    else {
        int n;

        pk_ids(k, src->ids, &n);
        pk_names(k, src->perms, &n);
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
    e->bytes = k.need + AZS_MEMO_OVERHEAD;
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

/* Consecutive requests that found the memo ahead of them before it forgets
 * everything and starts again from where they are: a restored file that
 * nobody wrote since rolled the feed back (a request that merely began
 * its snapshot just before another brought the memo further is followed
 * by one that is level with it). */
#define AZS_MEMO_BEHIND_MAX 64

/* Feed rows read for a catch-up, outside the lock. */
typedef struct {
    apr_int64_t seq, tag;
    int kind;
    const char *key;
} feed_item;

typedef struct {
    apr_array_header_t *rows;   /* feed_item */
    apr_pool_t *p;
} feed_read;

static void feed_collect(void *baton, apr_int64_t seq, apr_int64_t tag,
                         int kind, const char *key)
{
    feed_read *f = baton;
    feed_item *it = apr_array_push(f->rows);

    it->seq = seq;
    it->tag = tag;
    it->kind = kind;
    it->key = apr_pstrdup(f->p, key);
}

/* Forgets what one feed row names (under the lock). */
static void feed_apply(azs_memo_t *m, const feed_item *it)
{
    azs_memo_entry_t *e, *next;

    if (it->kind == AZS_FEED_USER) {
        e = apr_hash_get(m->users, it->key, APR_HASH_KEY_STRING);
        if (e) {
            unlink_entry(m, e);
            m->stats.forgotten++;
        }
    }
    else if (it->kind == AZS_FEED_ROLE) {
        apr_int64_t id = apr_atoi64(it->key);

        e = apr_hash_get(m->roles, &id, sizeof(id));
        if (e) {
            unlink_entry(m, e);
            m->stats.forgotten++;
        }
    }
    else if (it->kind == AZS_FEED_ROLES) {
        for (e = m->list.next; e != &m->list; e = next) {
            next = e->next;
            if (e->is_role) {
                unlink_entry(m, e);
                m->stats.forgotten++;
            }
        }
    }
    else if (it->kind == AZS_FEED_ALL) {
        for (e = m->list.next; e != &m->list; e = next) {
            next = e->next;
            unlink_entry(m, e);
            m->stats.forgotten++;
        }
    }
    /* Tokens and blocks are not remembered here. */
}

static int pos_eq(const azs_feed_pos_t *a, const azs_feed_pos_t *b)
{
    return a->seq == b->seq && a->tag == b->tag;
}

typedef enum {
    MEMO_NONE,          /* neither used nor filled by this request */
    MEMO_USE,           /* level with the request: used and filled */
} memo_mode;

static void adopt(azs_memo_t *m, const char *db, const azs_feed_pos_t *pos)
{
    if (!m->db || strcmp(m->db, db) != 0) {
        free(m->db);
        m->db = strdup(db);
    }
    m->pos = *pos;
    m->synced = m->db != NULL;
    m->behind = 0;
}

/* Brings the memo level with a reader at pos, if it is behind: the feed
 * rows in between are read outside the lock (any thread may do the same
 * meanwhile: the first to come back applies them).  MEMO_NONE when the
 * memo is ahead of the reader. */
static azs_rc memo_sync(azs_memo_t *m, azs_store_t *st,
                        const azs_feed_pos_t *pos, apr_pool_t *p,
                        memo_mode *mode, azs_access_t *a)
{
    const char *db = azs_store_id(st);
    apr_uint64_t forgotten, flushes;
    azs_feed_pos_t from;
    feed_read f;
    azs_rc rc;
    int i, ok;

    for (;;) {
        apr_thread_mutex_lock(m->lock);
        flushes = m->stats.flushes;
        *mode = MEMO_USE;
        if (!m->synced || !m->db || strcmp(m->db, db) != 0) {
            /* First use, or another file at this path (a new one, or the
             * old one again): nothing remembered holds for it. */
            forget_all(m);
            adopt(m, db, pos);
        }
        else if (pos_eq(&m->pos, pos)) {
            m->behind = 0;
        }
        else if (m->pos.seq == pos->seq
                 || (m->pos.seq > pos->seq
                     && ++m->behind > AZS_MEMO_BEHIND_MAX)) {
            /* Another history at the same place, or rolled back (a
             * restore nobody wrote since): forget everything. */
            forget_all(m);
            adopt(m, db, pos);
        }
        else if (m->pos.seq > pos->seq) {
            /* The reader's snapshot is older than what the memo holds:
             * it reads for itself. */
            *mode = MEMO_NONE;
        }
        else {
            break;                      /* behind the reader: catch up */
        }
        a->flushed |= m->stats.flushes != flushes;
        apr_thread_mutex_unlock(m->lock);
        return AZS_RC_OK;
    }
    from = m->pos;
    apr_thread_mutex_unlock(m->lock);

    f.p = p;
    f.rows = apr_array_make(p, 8, sizeof(feed_item));
    rc = azs_store_feed(st, from.seq, pos->seq, AZS_FEED_CATCHUP + 2,
                        feed_collect, &f);
    if (rc != AZS_RC_OK) {
        return rc;
    }
    /* Rows of one history: it starts at the memo's own row and ends at
     * the reader's, each with the tag they were seen with. */
    ok = f.rows->nelts >= 2 && f.rows->nelts <= AZS_FEED_CATCHUP
         && pos_eq(&from, &(azs_feed_pos_t){
                APR_ARRAY_IDX(f.rows, 0, feed_item).seq,
                APR_ARRAY_IDX(f.rows, 0, feed_item).tag })
         && pos_eq(pos, &(azs_feed_pos_t){
                APR_ARRAY_IDX(f.rows, f.rows->nelts - 1, feed_item).seq,
                APR_ARRAY_IDX(f.rows, f.rows->nelts - 1, feed_item).tag });
    apr_thread_mutex_lock(m->lock);
    if (!pos_eq(&m->pos, &from) || !m->synced || strcmp(m->db, db) != 0) {
        /* Another reader moved it meanwhile: start again from there. */
        apr_thread_mutex_unlock(m->lock);
        return memo_sync(m, st, pos, p, mode, a);
    }
    forgotten = m->stats.forgotten;
    flushes = m->stats.flushes;
    if (ok) {
        for (i = 1; i < f.rows->nelts; i++) {
            feed_apply(m, &APR_ARRAY_IDX(f.rows, i, feed_item));
        }
        m->stats.catchups++;
    }
    else {
        forget_all(m);      /* trimmed past, too far, another history */
    }
    adopt(m, db, pos);
    *mode = MEMO_USE;
    a->forgotten += (int)(m->stats.forgotten - forgotten);
    a->flushed |= m->stats.flushes != flushes;
    apr_thread_mutex_unlock(m->lock);
    return AZS_RC_OK;
}

static void hold(azs_access_t *a, azs_memo_entry_t *e)
{
    APR_ARRAY_PUSH(a->held, azs_memo_entry_t *) = e;
}

/* Reads a user (role_id < 0) or a role from the database: a new entry with
 * the caller's reference. */
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
            rc = AZS_RC_OK;          /* unknown here */
        }
    }
    else {
        src.is_role = 1;
        src.role_id = role_id;
        rc = azs_role_node(st, role_id, p, &src.key, &src.perms, &src.ids);
        src.found = rc == AZS_RC_OK;
        if (rc == AZS_RC_NOTFOUND) {
            rc = AZS_RC_OK;          /* deleted meanwhile: holds nothing */
        }
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

/* Puts an entry read at pos into the memo if the memo is still there
 * (under the lock); the request keeps whichever entry the memo then has.
 * Unknown users are not remembered: any client can make up names. */
static azs_memo_entry_t *offer(azs_memo_t *m, const char *db,
                               const azs_feed_pos_t *pos,
                               azs_memo_entry_t *e)
{
    azs_memo_entry_t *have;

    if (!m->synced || !pos_eq(&m->pos, pos) || strcmp(m->db, db) != 0
        || (!e->is_role && !e->found)) {
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

/* One lookup's state: the place it reads at, and whether its reads are
 * in a snapshot at that place. */
typedef struct {
    azs_memo_t *m;
    memo_mode mode;
    azs_store_t *st;
    azs_feed_pos_t pos;
    int in_snapshot;
    azs_snapshot_fn snapshot;
    void *baton;
    apr_pool_t *p;
    azs_access_t *a;
} lookup;

/* AZS_RC_EXISTS: the snapshot taken for a read is at another place than
 * the lookup so far (something committed): the lookup starts again there. */
static azs_rc need_snapshot(lookup *l)
{
    azs_feed_pos_t now;

    if (l->in_snapshot) {
        return AZS_RC_OK;
    }
    if (l->snapshot(l->baton, &now) != 0) {
        return AZS_RC_DBERR;
    }
    l->in_snapshot = 1;
    if (!pos_eq(&now, &l->pos)) {
        l->pos = now;
        return AZS_RC_EXISTS;
    }
    return AZS_RC_OK;
}

/* One entry for the request (held by it): from the memo while the memo is
 * level with the lookup, else read in the lookup's snapshot and offered.
 * user NULL: the role role_id. */
static azs_rc fetch(lookup *l, const char *user, apr_int64_t role_id,
                    azs_memo_entry_t **out)
{
    azs_memo_t *m = l->m;
    azs_memo_entry_t *e = NULL;
    azs_rc rc;

    if (m && l->mode == MEMO_USE) {
        apr_thread_mutex_lock(m->lock);
        if (pos_eq(&m->pos, &l->pos)) {
            e = user ? apr_hash_get(m->users, user, APR_HASH_KEY_STRING)
                     : apr_hash_get(m->roles, &role_id, sizeof(role_id));
        }
        if (e) {
            apr_atomic_inc32(&e->refs);
            touch(m, e);
            m->stats.hits++;
        }
        else {
            m->stats.misses++;
        }
        apr_thread_mutex_unlock(m->lock);
    }
    if (e) {
        l->a->hits++;
    }
    else {
        if ((rc = need_snapshot(l)) != AZS_RC_OK) {
            return rc;
        }
        if ((rc = entry_read(l->st, user, role_id, l->p, &e)) != AZS_RC_OK) {
            return rc;
        }
        l->a->read++;
        if (m && l->mode == MEMO_USE) {
            apr_thread_mutex_lock(m->lock);
            e = offer(m, azs_store_id(l->st), &l->pos, e);
            apr_thread_mutex_unlock(m->lock);
        }
    }
    hold(l->a, e);
    *out = e;
    return AZS_RC_OK;
}

typedef struct {
    apr_int64_t id;
    const char *via;                /* the chain up to the role below */
} walk_item;

/* One entry while the lock is held, from the memo only: NULL when it is
 * not there. */
static azs_memo_entry_t *take_locked(azs_memo_t *m, const char *user,
                                     apr_int64_t role_id)
{
    azs_memo_entry_t *e = user
        ? apr_hash_get(m->users, user, APR_HASH_KEY_STRING)
        : apr_hash_get(m->roles, &role_id, sizeof(role_id));

    if (e) {
        apr_atomic_inc32(&e->refs);
        touch(m, e);
        m->stats.hits++;
    }
    return e;
}

/* An entry for the walk: under the lock from the memo only
 * (AZS_RC_NOTFOUND when it is not there), else fetch(). */
static azs_rc get_entry(lookup *l, int locked, const char *user,
                        apr_int64_t role_id, azs_memo_entry_t **out)
{
    if (!locked) {
        return fetch(l, user, role_id, out);
    }
    if (!(*out = take_locked(l->m, user, role_id))) {
        return AZS_RC_NOTFOUND;
    }
    l->a->hits++;
    hold(l->a, *out);
    return AZS_RC_OK;
}

/* Whether id is already in the walk's queue: a scan while it is short. */
static int enqueued(apr_array_header_t *queue, apr_hash_t **seen,
                    apr_pool_t *p, apr_int64_t id)
{
    int i;

    if (!*seen && queue->nelts < 32) {
        for (i = 0; i < queue->nelts; i++) {
            if (APR_ARRAY_IDX(queue, i, walk_item).id == id) {
                return 1;
            }
        }
        return 0;
    }
    if (!*seen) {
        *seen = apr_hash_make(p);
        for (i = 0; i < queue->nelts; i++) {
            walk_item *it = &APR_ARRAY_IDX(queue, i, walk_item);

            apr_hash_set(*seen, &it->id, sizeof(it->id), "");
        }
    }
    return apr_hash_get(*seen, &id, sizeof(id)) != NULL;
}

static void enqueue(apr_array_header_t *queue, apr_hash_t *seen,
                    apr_int64_t id, const char *via)
{
    walk_item *it = apr_array_push(queue);

    it->id = id;
    it->via = via;
    if (seen) {
        apr_hash_set(seen, &it->id, sizeof(it->id), "");
    }
}

/* The user and, breadth first from the roles granted directly, every role
 * they hold, each reached through its shortest chain once (cycles are
 * refused when written anyway).  locked: from the memo only, the lock
 * held; AZS_RC_NOTFOUND at the first entry it does not have. */
static azs_rc walk(lookup *l, const char *user, int locked)
{
    azs_access_t *a = l->a;
    apr_array_header_t *queue;
    apr_hash_t *seen = NULL;
    azs_memo_entry_t *ue, *re;
    int i, head = 0;
    azs_rc rc;

    if ((rc = get_entry(l, locked, user, -1, &ue)) != AZS_RC_OK) {
        return rc;
    }
    a->found = ue->found;
    if (ue->found) {
        a->u = ue->u;
    }
    queue = apr_array_make(l->p, ue->nids + 4, sizeof(walk_item));
    a->visits = apr_array_make(l->p, ue->nids + 4, sizeof(azs_visit_t));
    for (i = 0; i < ue->nids; i++) {
        if (!enqueued(queue, &seen, l->p, ue->ids[i])) {
            enqueue(queue, seen, ue->ids[i], NULL);
        }
    }
    while (head < queue->nelts) {
        walk_item cur = APR_ARRAY_IDX(queue, head, walk_item);
        azs_visit_t *v;

        head++;
        if ((rc = get_entry(l, locked, NULL, cur.id, &re)) != AZS_RC_OK) {
            return rc;
        }
        if (!re->found) {
            continue;
        }
        v = apr_array_push(a->visits);
        v->role = re;
        v->chain = cur.via ? apr_pstrcat(l->p, cur.via, " > ", re->key, NULL)
                           : re->key;
        for (i = 0; i < re->nids; i++) {
            if (!enqueued(queue, &seen, l->p, re->ids[i])) {
                enqueue(queue, seen, re->ids[i], v->chain);
            }
        }
    }
    return AZS_RC_OK;
}

/* Gives back what the lookup holds, to start it again. */
static void unhold(azs_access_t *a)
{
    int i;

    for (i = 0; i < a->held->nelts; i++) {
        azs_memo_entry_release(APR_ARRAY_IDX(a->held, i,
                                             azs_memo_entry_t *));
    }
    a->held->nelts = 0;
    a->found = 0;
    a->visits = NULL;
    a->hits = 0;
}

/* The lookup at l->pos; AZS_RC_EXISTS to start again (need_snapshot). */
static azs_rc load_at(lookup *l, const char *user)
{
    azs_memo_t *m = l->m;
    azs_rc rc;

    l->a->seq = l->pos.seq;
    l->mode = MEMO_NONE;
    if (m) {
        /* A returning user while nothing was written: everything from the
         * memo under one hold of the lock. */
        apr_thread_mutex_lock(m->lock);
        if (m->synced && pos_eq(&m->pos, &l->pos)
            && strcmp(m->db, azs_store_id(l->st)) == 0) {
            m->behind = 0;
            l->mode = MEMO_USE;
            rc = walk(l, user, 1);
            if (rc != AZS_RC_OK) {
                unhold(l->a);
            }
            apr_thread_mutex_unlock(m->lock);
            if (rc == AZS_RC_OK) {
                return rc;
            }
        }
        else {
            apr_thread_mutex_unlock(m->lock);
        }
        if ((rc = memo_sync(m, l->st, &l->pos, l->p, &l->mode, l->a))
            != AZS_RC_OK) {
            return rc;
        }
    }
    return walk(l, user, 0);
}

azs_rc azs_access_load(azs_memo_t *m, azs_store_t *st,
                       const azs_feed_pos_t *pos, int in_snapshot,
                       azs_snapshot_fn snapshot, void *baton,
                       const char *user, apr_pool_t *p, azs_access_t *a)
{
    lookup l;
    azs_rc rc;

    memset(a, 0, sizeof(*a));
    a->held = apr_array_make(p, 4, sizeof(azs_memo_entry_t *));
    memset(&l, 0, sizeof(l));
    l.m = m;
    l.st = st;
    l.pos = *pos;
    l.in_snapshot = in_snapshot;
    l.snapshot = snapshot;
    l.baton = baton;
    l.p = p;
    l.a = a;
    /* At most twice: the second time in a snapshot, which cannot move. */
    while ((rc = load_at(&l, user)) == AZS_RC_EXISTS) {
        unhold(a);
    }
    return rc;
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
    a->visits = NULL;
    a->found = 0;
}

const char *azs_access_find(const azs_access_t *a, int is_perm,
                            const char *name)
{
    int i;

    /* In the walk's order: the first is the shortest chain. */
    for (i = 0; a->visits && i < a->visits->nelts; i++) {
        const azs_visit_t *v = &APR_ARRAY_IDX(a->visits, i, azs_visit_t);

        if (is_perm ? bsearch(&name, v->role->perms,
                              (size_t)v->role->nperms, sizeof(name),
                              name_cmp) != NULL
                    : strcmp(v->role->key, name) == 0) {
            return v->chain;
        }
    }
    return NULL;
}

void azs_memo_stats(azs_memo_t *m, azs_memo_stats_t *out)
{
    apr_thread_mutex_lock(m->lock);
    *out = m->stats;
    apr_thread_mutex_unlock(m->lock);
}

const char *azs_access_roles(const azs_access_t *a, apr_pool_t *p)
{
    apr_array_header_t *names;
    int i;

    if (!a->visits || a->visits->nelts == 0) {
        return "";
    }
    names = apr_array_make(p, a->visits->nelts, sizeof(const char *));
    /* The walk visits each role once. */
    for (i = 0; i < a->visits->nelts; i++) {
        APR_ARRAY_PUSH(names, const char *) =
            APR_ARRAY_IDX(a->visits, i, azs_visit_t).role->key;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), name_cmp);
    return apr_array_pstrcat(p, names, ' ');
}
