/*
 * mod_azs_db.c - database handles inside httpd.
 *
 * SQLite handles must not cross fork() and are not shared between threads:
 * each thread of each child opens its own read-only handle on first use,
 * after fork, and keeps it in thread-local storage for later requests.
 * The handle is checked against the file on every request (a stat), so a
 * database that was deleted or replaced by rename is opened again, and it
 * is dropped after any SQLite fault, so httpd recovers by itself.
 *
 * What a thread looked up (users with their roles and permissions, tokens,
 * blocklist verdicts) it remembers for one generation of one file.  While
 * SQLite's WAL-index header says no transaction has committed since the
 * handle last read the generation (azs_store_unchanged), a request served
 * from that memory makes no SQLite call at all.
 */
#include "mod_azs.h"

#include "apr_strings.h"
#include "apr_thread_proc.h"
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
    azs_rc rc;               /* AZS_OK or AZS_NOTFOUND */
    azs_token_t t;
    azs_user_t u;
} azs_memo_token;

/* A user's roles and permissions as of one generation of one file. */
typedef struct {
    int found;
    azs_user_t u;
    apr_hash_t *roles;
    apr_hash_t *perms;
} azs_memo;

/* Entries (users, addresses, tokens) remembered per thread: a user with
 * many roles costs a few KB, and a child has 25 threads, so the bound is
 * what keeps a child's memory flat when many users come and go. */
#define AZS_MEMO_MAX 32

typedef struct {
    apr_pool_t *pool;        /* unmanaged: lives as long as the thread */
    apr_hash_t *stores;      /* path -> azs_store_t * */
    /* Roles and permissions of recent users, valid while the database's
     * generation and identity stay the same: any write empties it. */
    apr_pool_t *memo_pool;
    apr_hash_t *memo;        /* user name -> azs_memo * */
    apr_hash_t *blocks;      /* client address -> azs_memo_block * */
    apr_hash_t *tokens;      /* token hash -> azs_memo_token * */
    const char *memo_db;
    apr_int64_t memo_gen;
} azs_thread;

/* Written in post_config, in the parent, before any child exists. */
module *azs_basic_module;
azs_gate_t *azs_gate;
int azs_hash_idle = 1;

/* Written in post_config, in the parent; the table it points to is shared
 * memory, written with atomics only (azs_cache.c). */
azs_cache_t *azs_cache;
/* Written once in child_init, before the child serves; read-only after. */
static apr_threadkey_t *thread_key;
apr_uint32_t azs_hashers_max = 1;
/* Changed only with apr_atomic. */
volatile apr_uint32_t azs_hashers;

static void thread_destroy(void *data)
{
    azs_thread *t = data;

    if (t) {
        apr_pool_destroy(t->pool);
    }
}

int azs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    azs_server_conf *sc = ap_get_module_config(s->module_config,
                                               &authz_status_module);
    const char *err = NULL;
    int limit = sc->max_hashes;
    int entries = sc->cache_entries == AZS_UNSET ? AZS_CACHE_DEFAULT
                                                 : sc->cache_entries;

    ap_add_version_component(pconf, "mod_authz_status/" AZS_VERSION);
    azs_hash_idle = sc->hash_idle != 0;
    azs_basic_module = ap_find_linked_module("mod_auth_basic.c");
    if (limit == AZS_UNSET) {
        /* Half the CPUs: a flood of wrong passwords leaves the other half
         * to everything else. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        limit = cpus >= 4 ? (int)(cpus / 2) : 1;
    }
    /* One per configuration generation: a restart clears pconf, which
     * removes it, and makes the next. */
    azs_gate = NULL;
    if (azs_gate_create(&azs_gate, limit, pconf, &err) != AZS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0604: cannot create "
                     "the semaphore of AuthzStatusHashLimit (%s)", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (geteuid() == 0
        && azs_gate_owner(azs_gate, ap_unixd_config.user_id,
                          ap_unixd_config.group_id) != AZS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, "AZS0605: cannot "
                     "hand the semaphore of AuthzStatusHashLimit to the "
                     "user httpd runs as");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "AZS0606: at most %d "
                 "costly password hashes at once (semaphore %d)", limit,
                 azs_gate_id(azs_gate));
    /* The cache of verified logins, in shared memory: made before the
     * children are forked, it is one table for all of them (a returning
     * user is known whichever child takes the connection).  A restart
     * makes a new one, with a new key. */
    azs_cache = NULL;
    if (azs_cache_create(&azs_cache, (apr_size_t)entries, pconf) != AZS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0603: cannot create "
                     "the credential cache; running without it");
        azs_cache = NULL;
    }
    return OK;
}

void azs_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = apr_threadkey_private_create(&thread_key,
                                                   thread_destroy, pchild);
    int threads = 1;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 2) {
        threads = 2;
    }
    azs_hashers_max = (apr_uint32_t)(threads - 1);

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
    apr_pool_create(&t->memo_pool, pool);
    if (apr_threadkey_private_set(t, thread_key) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    return t;
}

azs_req *azs_req_get(request_rec *r)
{
    azs_req *q = ap_get_module_config(r->request_config,
                                      &authz_status_module);

    if (!q) {
        q = apr_pcalloc(r->pool, sizeof(*q));
        ap_set_module_config(r->request_config, &authz_status_module, q);
    }
    return q;
}

static void store_drop(azs_thread *t, const char *path, azs_store_t *st)
{
    apr_hash_set(t->stores, path, APR_HASH_KEY_STRING, NULL);
    azs_store_close(st);
}

azs_store_t *azs_db(request_rec *r)
{
    azs_req *q = azs_req_get(r);
    const char *path = azs_db_path(r);
    azs_thread *t;
    azs_store_t *st;
    apr_pool_t *sp;
    const char *err = NULL;

    if (q->st && q->st_path == path) {
        return q->st;
    }
    if (!(t = thread_get())) {
        azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_DB_ERROR,
                       r->user ? r->user : q->basic_user,
                       "no thread-local storage");
        return NULL;
    }
    st = apr_hash_get(t->stores, path, APR_HASH_KEY_STRING);
    if (st && !r->main && !r->prev && azs_store_in_read(st)) {
        /* A request from the connection has no outer request that could
         * own a transaction: one still open is left over, and ending it
         * keeps this request from reading an old snapshot. */
        azs_store_read_end(st);
    }
    if (st && azs_store_stale(st)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0602: %s was "
                      "replaced or removed: opening it again", path);
        store_drop(t, path, st);
        st = NULL;
    }
    if (!st) {
        /* Each handle has a subpool, so dropping one frees it all. */
        apr_pool_create(&sp, t->pool);
        if (azs_store_open(&st, path, 1, AZS_BUSY_TIMEOUT_MS, sp, &err)
            != AZS_OK) {
            apr_pool_destroy(sp);
            azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_DB_ERROR,
                           r->user ? r->user : q->basic_user, err);
            return NULL;
        }
        apr_hash_set(t->stores, apr_pstrdup(sp, path), APR_HASH_KEY_STRING,
                     st);
    }
    q->st = st;
    q->st_path = path;
    return st;
}

void azs_db_fault(request_rec *r, const char *what)
{
    azs_req *q = azs_req_get(r);
    azs_thread *t = thread_get();

    azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_DB_ERROR,
                   r->user ? r->user : q->basic_user,
                   apr_pstrcat(r->pool, what, ": ",
                               q->st ? azs_store_error(q->st) : "no handle",
                               NULL));
    /* Closing the handle ends its transaction too. */
    q->txn = NULL;
    if (q->st && t) {
        store_drop(t, q->st_path, q->st);
    }
    q->st = NULL;
}

static apr_status_t read_end(void *data)
{
    azs_req *q = data;

    if (q->txn) {
        azs_store_read_end(q->txn);
        q->txn = NULL;
    }
    return APR_SUCCESS;
}

void azs_req_read_end(request_rec *r)
{
    read_end(azs_req_get(r));
}

apr_status_t azs_req_generation(request_rec *r, azs_store_t *st,
                                apr_int64_t *gen)
{
    azs_req *q = azs_req_get(r);

    if ((!q->gen_read || q->gen_st != st) && !q->txn
        && azs_store_unchanged(st, &q->gen)) {
        /* Nothing committed since this handle last read the generation:
         * what the thread remembers for it still holds, and a request
         * that finds everything there reads nothing (no lock, no
         * transaction).  One that does not reads the newest data, never
         * older than the generation. */
        q->gen_read = 1;
        q->gen_st = st;
    }
    if (!q->gen_read || q->gen_st != st) {
        /* The request's reads share one snapshot, from the generation on;
         * it ends with the request (or before a costly hash), so no later
         * request of this thread can see an old one. */
        if (!q->txn && azs_store_read_begin(st)) {
            q->txn = st;
            if (!q->txn_cleanup) {
                apr_pool_cleanup_register(r->pool, q, read_end,
                                          apr_pool_cleanup_null);
                q->txn_cleanup = 1;
            }
        }
        if (azs_store_generation(st, &q->gen) != AZS_OK) {
            azs_db_fault(r, "reading the generation");
            return APR_EGENERAL;
        }
        q->gen_read = 1;
        q->gen_st = st;
    }
    *gen = q->gen;
    return APR_SUCCESS;
}

/* The thread's memo for this file at this generation, emptied when
 * either changed (or when it grew past its bound). */
static apr_hash_t *memo_for(azs_thread *t, azs_store_t *st, apr_int64_t gen)
{
    const char *id = azs_store_id(st);

    if (!t->memo || t->memo_gen != gen || strcmp(t->memo_db, id) != 0
        || apr_hash_count(t->memo) + apr_hash_count(t->blocks)
           + apr_hash_count(t->tokens) >= AZS_MEMO_MAX) {
        apr_pool_clear(t->memo_pool);
        t->memo = apr_hash_make(t->memo_pool);
        t->blocks = apr_hash_make(t->memo_pool);
        t->tokens = apr_hash_make(t->memo_pool);
        t->memo_db = apr_pstrdup(t->memo_pool, id);
        t->memo_gen = gen;
    }
    return t->memo;
}

apr_status_t azs_req_user(request_rec *r, azs_req *q, const char *user)
{
    azs_store_t *st;
    azs_thread *t;
    azs_memo *m;
    apr_hash_t *memo;
    apr_int64_t gen;
    azs_rc rc;

    if (q->user && strcmp(q->user, user) == 0) {
        return APR_SUCCESS;
    }
    if (!(st = azs_db(r)) || !(t = thread_get())
        || azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    memo = memo_for(t, st, gen);
    m = apr_hash_get(memo, user, APR_HASH_KEY_STRING);
    if (!m) {
        m = apr_pcalloc(t->memo_pool, sizeof(*m));
        rc = azs_user_get(st, user, &m->u, t->memo_pool);
        if (rc == AZS_NOTFOUND) {
            /* Not ours (another authn provider): no roles, no
             * permissions. */
            m->roles = apr_hash_make(t->memo_pool);
            m->perms = apr_hash_make(t->memo_pool);
        }
        else if (rc == AZS_OK) {
            m->found = 1;
            rc = azs_user_effective(st, m->u.id, t->memo_pool, &m->roles,
                                    &m->perms);
        }
        if (rc != AZS_OK && rc != AZS_NOTFOUND) {
            azs_db_fault(r, "reading roles");
            return APR_EGENERAL;
        }
        apr_hash_set(memo, apr_pstrdup(t->memo_pool, user),
                     APR_HASH_KEY_STRING, m);
    }
    /* Valid for this request's authorization, which runs on this thread
     * before the thread serves anything else. */
    q->user_found = m->found;
    q->u = m->u;
    q->roles = m->roles;
    q->perms = m->perms;
    q->user = apr_pstrdup(r->pool, user);
    return APR_SUCCESS;
}

apr_status_t azs_req_block(request_rec *r, const char *ip,
                           const azs_cidr_t *addr, azs_block_t **b)
{
    apr_int64_t now = apr_time_sec(r->request_time), gen;
    azs_store_t *st;
    azs_thread *t;
    azs_memo_block *m;
    apr_hash_t *memo;
    azs_rc rc;

    *b = NULL;
    if (!(st = azs_db(r)) || !(t = thread_get())
        || azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* A verdict holds until any write; an entry that expires is looked
     * up again. */
    memo_for(t, st, gen);
    memo = t->blocks;
    m = apr_hash_get(memo, ip, APR_HASH_KEY_STRING);
    if (m && m->blocked && m->b.expires && m->b.expires <= now) {
        m = NULL;
    }
    if (!m) {
        m = apr_pcalloc(t->memo_pool, sizeof(*m));
        rc = azs_block_match(st, addr->net, now, &m->b, t->memo_pool);
        if (rc != AZS_OK && rc != AZS_NOTFOUND) {
            azs_db_fault(r, "reading the blocklist");
            return APR_EGENERAL;
        }
        m->blocked = rc == AZS_OK;
        apr_hash_set(memo, apr_pstrdup(t->memo_pool, ip),
                     APR_HASH_KEY_STRING, m);
    }
    if (m->blocked) {
        *b = apr_pmemdup(r->pool, &m->b, sizeof(m->b));
    }
    return APR_SUCCESS;
}

apr_status_t azs_req_token(request_rec *r, const unsigned char hash[32],
                           azs_token_t **t_out, azs_user_t **u_out)
{
    azs_store_t *st;
    azs_thread *t;
    azs_memo_token *m;
    apr_int64_t gen;
    azs_rc rc;

    *t_out = NULL;
    *u_out = NULL;
    if (!(st = azs_db(r)) || !(t = thread_get())
        || azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* Keyed by the token's hash, never the token.  Revocation, expiry set
     * by htauthz, and any change to the user are writes: they empty it. */
    memo_for(t, st, gen);
    m = apr_hash_get(t->tokens, hash, AZS_SHA256_LEN);
    if (!m) {
        m = apr_pcalloc(t->memo_pool, sizeof(*m));
        rc = azs_token_get(st, hash, &m->t, t->memo_pool);
        if (rc == AZS_OK) {
            rc = azs_user_get(st, m->t.user, &m->u, t->memo_pool);
        }
        if (rc != AZS_OK && rc != AZS_NOTFOUND) {
            azs_db_fault(r, "looking up the token");
            return APR_EGENERAL;
        }
        m->rc = rc;
        apr_hash_set(t->tokens, apr_pmemdup(t->memo_pool, hash,
                                            AZS_SHA256_LEN),
                     AZS_SHA256_LEN, m);
    }
    if (m->rc == AZS_OK) {
        /* Copies: the memo may be emptied by a later request of this
         * thread while this one still logs. */
        *t_out = apr_pmemdup(r->pool, &m->t, sizeof(m->t));
        (*t_out)->user = apr_pstrdup(r->pool, m->t.user);
        (*t_out)->scopes = apr_array_copy(r->pool, m->t.scopes);
        *u_out = apr_pmemdup(r->pool, &m->u, sizeof(m->u));
    }
    return APR_SUCCESS;
}
