/*
 * mod_azs_store.c - database handles inside httpd, and what each thread
 * remembers of them.
 *
 * SQLite handles must not cross fork() and are not shared between threads:
 * each thread of each child opens its own read-only handle on first use,
 * after fork, and keeps it in thread-local storage for later requests.
 * The handle is checked against the file on every request (a stat), so a
 * database that was deleted or replaced by rename is opened again, and it
 * is dropped after any SQLite fault, so httpd recovers by itself.
 *
 * What a thread looked up (tokens, blocklist verdicts) it remembers for
 * one generation of one file.  Users and their roles are remembered by the
 * child, for all its threads (azs_memo.c, AuthzStatusMemo), and a write
 * costs only what it concerns (the change feed).  While SQLite's WAL-index
 * header says no transaction has committed since the handle last read the
 * generation (azs_store_unchanged), a request served from that memory
 * makes no SQLite call at all.
 */
#include "mod_azs.h"

#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "apr_portable.h"
#include "ap_mpm.h"
#include "unixd.h"

#include <errno.h>
#include <unistd.h>

/* A client address's blocklist verdict, as of one generation. */
typedef struct {
    int blocked;
    azs_block_t b;
} azs_memo_block;

/* A token and its user, as of one generation. */
typedef struct {
    azs_rc rc;               /* AZS_RC_OK or AZS_RC_NOTFOUND */
    azs_token_t t;
    azs_user_t u;
} azs_memo_token;

/* Entries (addresses, tokens) remembered per thread: a child has 25
 * threads, so the bound is what keeps a child's memory flat when many
 * clients come and go.  The poisoned build keeps 4, so that sets are
 * retired all the time. */
#ifdef AZS_MEMO_POISON
#define AZS_MEMO_MAX 4
#else
#define AZS_MEMO_MAX 32
#endif

/*
 * What a thread remembers of one file at one generation.  Requests point
 * into it (a user's roles, a token's scopes, a blocklist entry's text)
 * instead of copying, so it is counted: the thread holds one reference
 * while the set is its current one, and every request that took something
 * from it holds one until the request's pool is gone.  A set is never
 * emptied; the thread starts a new one and the last holder frees the old.
 * It has a pool and an allocator of its own, so that holder may be any
 * thread (under event, the thread that completes a request's write
 * destroys its pool).
 */
typedef struct {
    apr_pool_t *pool;
    apr_hash_t *blocks;      /* client address -> azs_memo_block * */
    apr_hash_t *tokens;      /* token hash -> azs_memo_token * */
    const char *db;          /* azs_store_id of the file */
    apr_int64_t gen;
    volatile apr_uint32_t refs;
} azs_memo_set;

/*
 * A thread's open database, counted the same way: the thread's table of
 * handles holds one reference, each request that uses it another.  A
 * handle found stale (or after a fault) leaves the table at once, and is
 * closed when the last request using it is done: a subrequest that
 * reopens the file cannot close the handle its main request still reads.
 */
struct azs_handle {
    azs_store_t *st;
    apr_pool_t *pool;        /* its own allocator: freed by any thread */
    volatile apr_uint32_t refs;
    struct azs_pgpool *from; /* PostgreSQL: the child's pool it goes back
                              * to (NULL: SQLite, the thread's) */
    int broken;              /* a fault was seen: never reused */
};

/*
 * PostgreSQL connections are the child's, not each thread's: a request
 * takes one from the child's pool for its own use and gives it back when
 * it ends (at most AZS_PG_IDLE, 8, kept; more are opened when more requests
 * read at once, and closed when they give them back).  A handle connects
 * at its first statement, so a request answered from memory opens none.
 * Handles are made after fork, and never cross it.
 */
#define AZS_PG_IDLE 8
struct azs_pgpool {
    apr_thread_mutex_t *lock;
    azs_handle *idle[AZS_PG_IDLE];
    int nidle;
};
typedef struct azs_pgpool azs_pgpool;

typedef struct {
    apr_pool_t *pool;        /* unmanaged: lives as long as the thread */
    apr_hash_t *stores;      /* path -> azs_handle * */
    apr_hash_t *memos;       /* path -> azs_memo_t * (the child's) */
    apr_hash_t *pgpools;     /* url -> azs_pgpool * (the child's) */
    azs_memo_set *memo;      /* the current set, or NULL */
} azs_thread;

/* Written once in child_init, before the child serves; read-only after. */
static apr_threadkey_t *thread_key;
/* The child's memos, one per database path, made on first use: the table
 * is guarded by memo_lock (each thread keeps what it found in its own
 * table, so the lock is taken once per thread and path). */
static apr_thread_mutex_t *memo_lock;
static apr_pool_t *memo_pool;
static apr_hash_t *memo_table;
static apr_size_t memo_budget;
/* The child's PostgreSQL pools, one per URL, made on first use under
 * pool_lock (each thread keeps what it found in its own table). */
static apr_thread_mutex_t *pool_lock;
static apr_pool_t *pool_pool;
static apr_hash_t *pool_table;

#ifdef AZS_MEMO_POISON
/* Overwrites what a request could still point to, so that a use after
 * the set is gone reads garbage (and fails a test) instead of what
 * happened to stay there.  The pool's memory is then freed for real,
 * which AddressSanitizer reports if anything touches it. */
static void poison_str(const char *s)
{
    if (s) {
        memset((char *)s, 0xdb, strlen(s));
    }
}

static void poison_set(azs_memo_set *m)
{
    apr_hash_index_t *hi;
    int i;

    for (hi = apr_hash_first(NULL, m->tokens); hi; hi = apr_hash_next(hi)) {
        azs_memo_token *e = apr_hash_this_val(hi);

        if (e->rc == AZS_RC_OK) {
            for (i = 0; i < e->t.scopes->nelts; i++) {
                poison_str(APR_ARRAY_IDX(e->t.scopes, i, const char *));
            }
            poison_str(e->t.user);
            poison_str(e->t.label);
            poison_str(e->u.name);
            poison_str(e->u.hash);
        }
        memset(e, 0xdb, sizeof(*e));
    }
    for (hi = apr_hash_first(NULL, m->blocks); hi; hi = apr_hash_next(hi)) {
        azs_memo_block *e = apr_hash_this_val(hi);

        if (e->blocked) {
            poison_str(e->b.text);
            poison_str(e->b.reason);
        }
        memset(e, 0xdb, sizeof(*e));
    }
}
#endif

static void set_release(azs_memo_set *m)
{
    if (m && apr_atomic_dec32(&m->refs) == 0) {
#ifdef AZS_MEMO_POISON
        poison_set(m);
#endif
        apr_pool_destroy(m->pool);
    }
}

static void handle_release(azs_handle *h)
{
    if (h && apr_atomic_dec32(&h->refs) == 0) {
        apr_pool_destroy(h->pool);   /* closes the SQLite handle */
    }
}

static apr_status_t set_cleanup(void *data)
{
    set_release(data);
    return APR_SUCCESS;
}

static apr_status_t handle_cleanup(void *data)
{
    handle_release(data);
    return APR_SUCCESS;
}

/* The request keeps m alive until its pool is gone. */
static void hold_set(request_rec *r, azs_req *q, azs_memo_set *m)
{
    if (q->store.held_set != m) {
        apr_atomic_inc32(&m->refs);
        apr_pool_cleanup_register(r->pool, m, set_cleanup,
                                  apr_pool_cleanup_null);
        q->store.held_set = m;
    }
}

static void thread_destroy(void *data)
{
    azs_thread *t = data;
    apr_hash_index_t *hi;

    if (t) {
        set_release(t->memo);
        for (hi = apr_hash_first(t->pool, t->stores); hi;
             hi = apr_hash_next(hi)) {
            handle_release(apr_hash_this_val(hi));
        }
        apr_pool_destroy(t->pool);
    }
}

static apr_status_t memos_destroy(void *data)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, memo_table); hi; hi = apr_hash_next(hi)) {
        azs_memo_destroy(apr_hash_this_val(hi));
    }
    memo_table = NULL;
    return APR_SUCCESS;
}

/* The child ends: its idle connections close. */
static apr_status_t pgpools_destroy(void *data)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, pool_table); hi; hi = apr_hash_next(hi)) {
        azs_pgpool *pp = apr_hash_this_val(hi);

        while (pp->nidle > 0) {
            handle_release(pp->idle[--pp->nidle]);
        }
    }
    pool_table = NULL;
    return APR_SUCCESS;
}

void azs_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = apr_threadkey_private_create(&thread_key,
                                                   thread_destroy, pchild);

    memo_budget = azs_proc_memo_bytes();
    memo_table = NULL;
    pool_table = NULL;
    if (apr_pool_create(&pool_pool, pchild) != APR_SUCCESS
        || apr_thread_mutex_create(&pool_lock, APR_THREAD_MUTEX_DEFAULT,
                                   pool_pool) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "AZS0608: cannot "
                     "create the pool of PostgreSQL connections; requests "
                     "on PostgreSQL will fail");
        pool_lock = NULL;
    }
    else {
        pool_table = apr_hash_make(pool_pool);
        apr_pool_cleanup_register(pool_pool, NULL, pgpools_destroy,
                                  apr_pool_cleanup_null);
    }
    if (memo_budget > 0) {
        if (apr_pool_create(&memo_pool, pchild) != APR_SUCCESS
            || apr_thread_mutex_create(&memo_lock, APR_THREAD_MUTEX_DEFAULT,
                                       memo_pool) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "AZS0608: cannot "
                         "create the memo of users and roles; every "
                         "request reads them from the database");
            memo_budget = 0;
        }
        else {
            memo_table = apr_hash_make(memo_pool);
            /* The memos go with the child (after its threads). */
            apr_pool_cleanup_register(memo_pool, NULL, memos_destroy,
                                      apr_pool_cleanup_null);
        }
    }

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "AZS0601: cannot create "
                     "thread-local storage; every request will fail");
        thread_key = NULL;
    }
}

static azs_thread *thread_get(void)
{
    azs_thread *t = NULL;
    apr_pool_t *pool;

    if (!thread_key) {
        return NULL;
    }
    apr_threadkey_private_get((void **)&t, thread_key);
    if (t) {
        return t;
    }
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_tag(pool, "authz_status_thread");
    t = apr_pcalloc(pool, sizeof(*t));
    t->pool = pool;
    t->stores = apr_hash_make(pool);
    t->memos = apr_hash_make(pool);
    t->pgpools = apr_hash_make(pool);
    if (apr_threadkey_private_set(t, thread_key) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    return t;
}

/* Takes the handle out of the thread's table; requests that use it keep
 * it open until they end. */
static void store_drop(azs_thread *t, const char *path, azs_handle *h)
{
    if (apr_hash_get(t->stores, path, APR_HASH_KEY_STRING) == h) {
        apr_hash_set(t->stores, path, APR_HASH_KEY_STRING, NULL);
        handle_release(h);
    }
}

/* A new read-only handle, with one reference (its first holder's).  A
 * pool and allocator of its own: closing it frees it all (a handle
 * reopened once per request must not grow the child), from whichever
 * thread lets go of it last. */
static azs_handle *handle_open(request_rec *r, const char *path,
                               const char **err)
{
    apr_pool_t *sp;
    azs_handle *h;
    azs_store_t *st;

    if (apr_pool_create_unmanaged_ex(&sp, NULL, NULL) != APR_SUCCESS) {
        *err = "out of memory";
        return NULL;
    }
    apr_pool_tag(sp, "authz_status_db");
    if (azs_store_open(&st, path, 1, AZS_BUSY_TIMEOUT_MS, sp, err)
        != AZS_RC_OK) {
        *err = apr_pstrdup(r->pool, *err);
        apr_pool_destroy(sp);
        return NULL;
    }
    h = apr_pcalloc(sp, sizeof(*h));
    h->st = st;
    h->pool = sp;
    h->refs = 1;
    return h;
}

/* A SQLite file's handle, kept in the thread's table (its reference). */
static azs_handle *store_open(request_rec *r, azs_thread *t,
                              const char *path, const char **err)
{
    azs_handle *h = handle_open(r, path, err);

    if (h) {
        apr_hash_set(t->stores, apr_pstrdup(h->pool, path),
                     APR_HASH_KEY_STRING, h);
    }
    return h;
}

/* The child's pool for a PostgreSQL URL (NULL: none could be made). */
static azs_pgpool *child_pgpool(azs_thread *t, const char *url)
{
    azs_pgpool *pp = apr_hash_get(t->pgpools, url, APR_HASH_KEY_STRING);

    if (pp || !pool_table) {
        return pp;
    }
    apr_thread_mutex_lock(pool_lock);
    pp = apr_hash_get(pool_table, url, APR_HASH_KEY_STRING);
    if (!pp) {
        pp = apr_pcalloc(pool_pool, sizeof(*pp));
        pp->lock = pool_lock;
        apr_hash_set(pool_table, apr_pstrdup(pool_pool, url),
                     APR_HASH_KEY_STRING, pp);
    }
    apr_thread_mutex_unlock(pool_lock);
    apr_hash_set(t->pgpools, apr_pstrdup(t->pool, url), APR_HASH_KEY_STRING,
                 pp);
    return pp;
}

typedef struct {
    azs_handle *h;
    azs_req *q;
} azs_pg_hold;

/* The request is done with its connection: back to the child's pool,
 * unless it failed or the pool has enough; a read transaction still open
 * (its request ended on another thread, or it moved to another database)
 * is ended first, and the request forgets it, so that its own read_end
 * (which may run after this) never touches the handle again. */
static apr_status_t pg_return(void *data)
{
    azs_pg_hold *hold = data;
    azs_handle *h = hold->h;
    azs_pgpool *pp = h->from;

    if (hold->q->store.txn == h) {
        hold->q->store.txn = NULL;
    }
    azs_store_deadline(h->st, azs_mono_ms() + AZS_BUSY_TIMEOUT_MS);
    if (azs_store_in_read(h->st)) {
        azs_store_read_end(h->st);
    }
    if (!h->broken && !azs_store_stale(h->st)) {
        apr_thread_mutex_lock(pp->lock);
        if (pp->nidle < AZS_PG_IDLE) {
            pp->idle[pp->nidle++] = h;
            h = NULL;
        }
        apr_thread_mutex_unlock(pp->lock);
    }
    handle_release(h);
    return APR_SUCCESS;
}

/* When every PostgreSQL call of this request, and of the request it
 * belongs to (a subrequest's main, a redirect's first), has to end. */
static apr_int64_t req_deadline(request_rec *r)
{
    request_rec *root = r;
    azs_req *q;

    while (root->main || root->prev) {
        root = root->main ? root->main : root->prev;
    }
    q = azs_req_get(root);
    if (!q->store.deadline) {
        q->store.deadline = azs_mono_ms() + AZS_BUSY_TIMEOUT_MS;
    }
    return q->store.deadline;
}

/* A connection from the child's pool for this request alone. */
static azs_handle *pg_take(request_rec *r, azs_req *q, azs_thread *t,
                           const char *url, const char **err)
{
    azs_pgpool *pp = child_pgpool(t, url);
    azs_handle *h = NULL;
    azs_pg_hold *hold;

    if (!pp) {
        *err = "no pool of PostgreSQL connections";
        return NULL;
    }
    apr_thread_mutex_lock(pp->lock);
    if (pp->nidle > 0) {
        h = pp->idle[--pp->nidle];
    }
    apr_thread_mutex_unlock(pp->lock);
    if (h && azs_store_stale(h->st)) {
        handle_release(h);          /* its connection failed since */
        h = NULL;
    }
    if (!h) {
        /* Its reference is the request's, then the pool's. */
        if (!(h = handle_open(r, url, err))) {
            return NULL;
        }
        azs_store_watch(h->st, azs_watch_find(url), azs_proc_max_stale_ms());
        h->from = pp;
    }
    /* Every call this request makes ends by its deadline, however many
     * it makes: the one of the request that began it all (subrequests
     * and internal redirects share it). */
    azs_store_deadline(h->st, req_deadline(r));
    hold = apr_palloc(r->pool, sizeof(*hold));
    hold->h = h;
    hold->q = q;
    apr_pool_cleanup_register(r->pool, hold, pg_return,
                              apr_pool_cleanup_null);
    return h;
}

azs_store_t *azs_req_store(request_rec *r)
{
    azs_req *q = azs_req_get(r);
    const char *path = azs_db_path(r);
    azs_thread *t;
    azs_handle *h;
    const char *err = NULL;

    if (q->store.h && q->store.path == path) {
        return q->store.h->st;
    }
    if (!(t = thread_get())) {
        azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_REASON_DB_ERROR,
                       r->user ? r->user : q->login.basic_user,
                       "no thread-local storage");
        return NULL;
    }
    if (azs_is_pg_url(path)) {
        if (!(h = pg_take(r, q, t, path, &err))) {
            azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR,
                           AZS_REASON_DB_ERROR,
                           r->user ? r->user : q->login.basic_user, err);
            return NULL;
        }
        q->store.h = h;
        q->store.path = path;
        return h->st;
    }
    h = apr_hash_get(t->stores, path, APR_HASH_KEY_STRING);
    if (h && !r->main && !r->prev && q->store.txn != h
        && azs_store_in_read(h->st)) {
        /* A request from the connection has no outer request that could
         * own a transaction: one still open and not its own (a provider
         * alias may have switched it to another database and back) is
         * left over (its request's pool went away on another thread),
         * and ending it keeps this request from reading an old snapshot. */
        azs_store_read_end(h->st);
    }
    if (h && azs_store_stale(h->st)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0602: %s was "
                      "replaced or removed: opening it again", path);
        store_drop(t, path, h);
        h = NULL;
    }
    if (!h && !(h = store_open(r, t, path, &err))) {
        azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_REASON_DB_ERROR,
                       r->user ? r->user : q->login.basic_user, err);
        return NULL;
    }
    /* Held until the request ends: what it read through this handle
     * (its transaction, the generation it vouches for) stays valid. */
    apr_atomic_inc32(&h->refs);
    apr_pool_cleanup_register(r->pool, h, handle_cleanup,
                              apr_pool_cleanup_null);
    q->store.h = h;
    q->store.path = path;
    return h->st;
}

azs_handle *azs_req_handle(request_rec *r)
{
    return azs_req_get(r)->store.h;
}

void azs_db_fault(request_rec *r, const char *what)
{
    azs_req *q = azs_req_get(r);
    azs_thread *t = thread_get();

    azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_REASON_DB_ERROR,
                   r->user ? r->user : q->login.basic_user,
                   apr_pstrcat(r->pool, what, ": ",
                               q->store.h ? azs_store_error(q->store.h->st)
                                    : "no handle", NULL));
    if (q->store.txn) {
        azs_store_read_end(q->store.txn->st);
        q->store.txn = NULL;
    }
    /* The next request opens the file again; this one's hold closes the
     * handle when it ends (a PostgreSQL connection is not given back). */
    if (q->store.h && q->store.h->from) {
        q->store.h->broken = 1;
    }
    else if (q->store.h && t) {
        store_drop(t, q->store.path, q->store.h);
    }
    q->store.h = NULL;
}

/* Ends the request's read transaction, on the thread that began it only:
 * under event a request's pool may be destroyed by another thread while
 * this one already serves the next request on the same handle.  A
 * transaction left open that way is ended by the thread's next request
 * (azs_req_store). */
static apr_status_t read_end(void *data)
{
    azs_req *q = data;

    if (q->store.txn && apr_os_thread_equal(q->store.txn_thread,
                                      apr_os_thread_current())) {
        azs_store_read_end(q->store.txn->st);
    }
    q->store.txn = NULL;
    return APR_SUCCESS;
}

void azs_req_read_end(request_rec *r)
{
    read_end(azs_req_get(r));
}

/* Opens the request's read transaction on h, unless one is open there
 * (the request's own, or its main request's on this thread).  One the
 * request holds on another database (a provider alias with an
 * AuthzStatusDatabase of its own) is ended first: a request reads one
 * database at a time, and reads it again in a new snapshot when it comes
 * back to it (its generation is read again then). */
static void req_begin(request_rec *r, azs_req *q, azs_handle *h)
{
    if (q->store.txn && q->store.txn != h) {
        read_end(q);
    }
    if (!q->store.txn && azs_store_read_begin(h->st)) {
        q->store.txn = h;
        q->store.txn_thread = apr_os_thread_current();
        if (!q->store.txn_cleanup) {
            apr_pool_cleanup_register(r->pool, q, read_end,
                                      apr_pool_cleanup_null);
            q->store.txn_cleanup = 1;
        }
    }
}

/* Opens the request's read transaction on h and reads the generation and
 * the feed's place in it (the request's reads from here on share that
 * snapshot); APR_EGENERAL when the generation cannot be read. */
static apr_status_t req_read_gen(request_rec *r, azs_req *q, azs_handle *h)
{
    req_begin(r, q, h);
    if (azs_store_generation(h->st, &q->store.gen) != AZS_RC_OK) {
        return APR_EGENERAL;
    }
    q->store.gen_read = 1;
    q->store.gen_h = h;
    azs_store_feed_pos(h->st, &q->store.pos);
    return APR_SUCCESS;
}

/* PostgreSQL: a lookup the thread does not remember reads in the
 * request's snapshot, whose generation was read there and checked against
 * what the node heard (never older).  SQLite: nothing to do (the request
 * read its generation in its own transaction, or nothing changed). */
static apr_status_t pg_snapshot(request_rec *r, azs_store_t *st)
{
    azs_req *q = azs_req_get(r);
    azs_handle *h = q->store.h;

    if (!azs_store_is_pg(st) || !h || h->st != st
        || (q->store.txn == h && azs_store_in_read(st))) {
        return APR_SUCCESS;
    }
    if (req_read_gen(r, q, h) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!azs_store_in_read(st)) {
        azs_store_set_error(st, "cannot begin a read transaction");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The user lookup's snapshot (azs_snapshot_fn). */
static int req_snapshot(void *baton, azs_feed_pos_t *pos)
{
    request_rec *r = baton;
    azs_req *q = azs_req_get(r);
    azs_handle *h = q->store.h;

    if (!h || req_read_gen(r, q, h) != APR_SUCCESS) {
        return -1;
    }
    if (!azs_store_in_read(h->st)) {
        azs_store_set_error(h->st, "cannot begin a read transaction");
        return -1;
    }
    *pos = q->store.pos;
    return 0;
}

apr_status_t azs_req_generation(request_rec *r, azs_store_t *st,
                                apr_int64_t *gen)
{
    azs_req *q = azs_req_get(r);
    azs_handle *h = q->store.h;

    if (!h || h->st != st) {
        return APR_EGENERAL;   /* st is always the request's handle */
    }
    if ((!q->store.gen_read || q->store.gen_h != h) && !q->store.txn
        && azs_store_unchanged(st, &q->store.gen)) {
        /* Nothing committed since this handle last read the generation:
         * what the thread remembers for it still holds, and a request
         * that finds everything there reads nothing (no lock, no
         * transaction).  One that does not reads the newest data, never
         * older than the generation. */
        q->store.gen_read = 1;
        q->store.gen_h = h;
        azs_store_feed_pos(st, &q->store.pos);
    }
    if (!q->store.gen_read || q->store.gen_h != h) {
        /* The request's reads share one snapshot, from the generation on;
         * it ends with the request (or before a costly hash), so no later
         * request of this thread can see an old one. */
        if (req_read_gen(r, q, h) != APR_SUCCESS) {
            azs_db_fault(r, "reading the generation");
            return APR_EGENERAL;
        }
    }
    *gen = q->store.gen;
    return APR_SUCCESS;
}

/* The thread's current set for this file at this generation: a new one
 * when either changed (or when the current one is full).  The request
 * holds the set it is given, so nothing it takes from it can be freed
 * under it, whatever a later lookup (or a subrequest) starts. */
static azs_memo_set *memo_for(request_rec *r, azs_req *q, azs_thread *t,
                              azs_store_t *st, apr_int64_t gen)
{
    const char *id = azs_store_id(st);
    azs_memo_set *m = t->memo;
    apr_pool_t *pool;

    if (!m || m->gen != gen || strcmp(m->db, id) != 0
        || apr_hash_count(m->blocks) + apr_hash_count(m->tokens)
           >= AZS_MEMO_MAX) {
        if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL)
            != APR_SUCCESS) {
            return NULL;
        }
        apr_pool_tag(pool, "authz_status_memo");
        m = apr_pcalloc(pool, sizeof(*m));
        m->pool = pool;
        m->blocks = apr_hash_make(pool);
        m->tokens = apr_hash_make(pool);
        m->db = apr_pstrdup(pool, id);
        m->gen = gen;
        m->refs = 1;         /* the thread's */
        set_release(t->memo);
        t->memo = m;
    }
    hold_set(r, q, m);
    return m;
}

/* The request's user memo is for one database: a provider alias with an
 * AuthzStatusDatabase of its own asks another. */
static int req_user_known(const azs_req_store_state *q, const char *user)
{
    return q->user && q->h && q->user_h == q->h && strcmp(q->user, user) == 0;
}

/* The request's handle and the thread's current memo set for it (held by
 * the request), the generation read; NULL after logging db-error. */
static azs_memo_set *req_set(request_rec *r, azs_store_t **st)
{
    azs_memo_set *set;
    azs_thread *t;
    apr_int64_t gen;

    if (!(*st = azs_req_store(r)) || !(t = thread_get())
        || azs_req_generation(r, *st, &gen) != APR_SUCCESS) {
        return NULL;
    }
    if (!(set = memo_for(r, azs_req_get(r), t, *st, gen))) {
        azs_db_fault(r, "no memory for the memo");
    }
    return set;
}

/* The child's memo for the request's database (NULL: AuthzStatusMemo
 * Off, or none could be made: everything is read). */
static azs_memo_t *child_memo(azs_thread *t, const char *path)
{
    azs_memo_t *m = apr_hash_get(t->memos, path, APR_HASH_KEY_STRING);

    if (m || !memo_table) {
        return m;
    }
    apr_thread_mutex_lock(memo_lock);
    m = apr_hash_get(memo_table, path, APR_HASH_KEY_STRING);
    if (!m && azs_memo_create(&m, memo_budget) == AZS_RC_OK) {
        apr_hash_set(memo_table, apr_pstrdup(memo_pool, path),
                     APR_HASH_KEY_STRING, m);
    }
    apr_thread_mutex_unlock(memo_lock);
    if (m) {
        apr_hash_set(t->memos, apr_pstrdup(t->pool, path),
                     APR_HASH_KEY_STRING, m);
    }
    return m;
}

static apr_status_t access_cleanup(void *data)
{
    azs_access_release(data);
    return APR_SUCCESS;
}

apr_status_t azs_req_user(request_rec *r, const char *user)
{
    azs_req *q = azs_req_get(r);
    azs_access_t *a;
    azs_store_t *st;
    azs_thread *t;
    apr_int64_t gen;

    if (!(st = azs_req_store(r)) || !(t = thread_get())
        || azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (req_user_known(&q->store, user)) {
        return APR_SUCCESS;
    }
    if (azs_store_is_pg(st) && !azs_utf8_valid(user)) {
        /* PostgreSQL holds UTF-8 names only: unknown, without a query. */
        q->store.access = NULL;
        q->store.user_found = 0;
        memset(&q->store.u, 0, sizeof(q->store.u));
        q->store.user = apr_pstrdup(r->pool, user);
        q->store.user_h = q->store.h;
        return APR_SUCCESS;
    }
    /* Held until the request's pool is gone: what it points into (the
     * user's row, the roles' names) cannot be freed under it, whatever the
     * memo forgets meanwhile. */
    a = apr_pcalloc(r->pool, sizeof(*a));
    apr_pool_cleanup_register(r->pool, a, access_cleanup,
                              apr_pool_cleanup_null);
    if (azs_access_load(child_memo(t, q->store.path), st, &q->store.pos, 0,
                        req_snapshot, r, user, r->pool, a)
        != AZS_RC_OK) {
        azs_db_fault(r, "reading the user and roles");
        return APR_EGENERAL;
    }
    if (a->read || a->forgotten || a->flushed) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0609: user \"%s\": "
                      "%d entries read from the database, %d remembered "
                      "(change feed at %" APR_INT64_T_FMT "%s; %d "
                      "forgotten)", azs_escape(r->pool, user, 256), a->read,
                      a->hits, a->seq, a->flushed ? ": everything forgotten"
                                                  : "", a->forgotten);
    }
    q->store.access = a;
    q->store.user_found = a->found;
    q->store.u = a->u;
    q->store.user = apr_pstrdup(r->pool, user);
    q->store.user_h = q->store.h;
    return APR_SUCCESS;
}

const char *azs_req_holds(request_rec *r, int is_perm, const char *name)
{
    azs_req *q = azs_req_get(r);

    return q->store.access ? azs_access_find(q->store.access, is_perm, name)
                           : NULL;
}

apr_status_t azs_req_block(request_rec *r, const char *ip,
                           const azs_cidr_t *addr, azs_block_t **b)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    azs_store_t *st;
    azs_memo_set *set;
    azs_memo_block *m;
    azs_rc rc;

    *b = NULL;
    if (!(set = req_set(r, &st))) {
        return APR_EGENERAL;
    }
    /* A verdict holds until any write; an entry that expires is looked
     * up again. */
    m = apr_hash_get(set->blocks, ip, APR_HASH_KEY_STRING);
    if (m && m->blocked && m->b.expires && m->b.expires <= now) {
        m = NULL;
    }
    if (!m) {
        if (pg_snapshot(r, st) != APR_SUCCESS) {
            azs_db_fault(r, "reading the blocklist");
            return APR_EGENERAL;
        }
        m = apr_pcalloc(set->pool, sizeof(*m));
        rc = azs_block_match(st, addr->net, now, &m->b, set->pool);
        if (rc != AZS_RC_OK && rc != AZS_RC_NOTFOUND) {
            azs_db_fault(r, "reading the blocklist");
            return APR_EGENERAL;
        }
        m->blocked = rc == AZS_RC_OK;
        apr_hash_set(set->blocks, apr_pstrdup(set->pool, ip),
                     APR_HASH_KEY_STRING, m);
    }
    if (m->blocked) {
        *b = &m->b;
    }
    return APR_SUCCESS;
}

apr_status_t azs_req_token(request_rec *r, const unsigned char hash[32],
                           azs_token_t **t_out, azs_user_t **u_out)
{
    azs_store_t *st;
    azs_memo_set *set;
    azs_memo_token *m;
    azs_rc rc;

    *t_out = NULL;
    *u_out = NULL;
    if (!(set = req_set(r, &st))) {
        return APR_EGENERAL;
    }
    /* Keyed by the token's hash, never the token.  Revocation, expiry set
     * by htauthz, and any change to the user are writes: they start a new
     * set. */
    m = apr_hash_get(set->tokens, hash, AZS_SHA256_LEN);
    if (!m) {
        if (pg_snapshot(r, st) != APR_SUCCESS) {
            azs_db_fault(r, "looking up the token");
            return APR_EGENERAL;
        }
        m = apr_pcalloc(set->pool, sizeof(*m));
        rc = azs_token_get(st, hash, &m->t, set->pool);
        if (rc == AZS_RC_OK) {
            rc = azs_user_get(st, m->t.user, &m->u, set->pool);
        }
        if (rc != AZS_RC_OK && rc != AZS_RC_NOTFOUND) {
            azs_db_fault(r, "looking up the token");
            return APR_EGENERAL;
        }
        m->rc = rc;
        apr_hash_set(set->tokens, apr_pmemdup(set->pool, hash,
                                              AZS_SHA256_LEN),
                     AZS_SHA256_LEN, m);
    }
    if (m->rc == AZS_RC_OK) {
        /* Not copied: the request holds the set (memo_for). */
        *t_out = &m->t;
        *u_out = &m->u;
    }
    return APR_SUCCESS;
}

/* The checks are over: the snapshot must not outlive them (a long
 * download would hold back checkpoints), and it is ended here, on the
 * request's thread, not by a pool cleanup that may run on another. */
int azs_store_fixups(request_rec *r)
{
    if (azs_req_peek(r)) {
        azs_req_read_end(r);
    }
    return DECLINED;
}

/* An error response (our 401/403/500 among them) is made on the
 * request's thread. */
void azs_store_insert_error(request_rec *r)
{
    azs_store_fixups(r);
}
