/*
 * azs_store.c - opening the database and the reads the module makes on
 * every request.  Writes live in azs_admin.c.
 *
 * A handle belongs to one thread at a time (SQLITE_OPEN_NOMUTEX): the
 * module keeps one per thread, opened after fork.  Statements are prepared
 * once per handle and reset after each use.
 */
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <apr_strings.h>

#include "azs.h"


enum {
    Q_GENERATION,
    Q_USER,
    Q_USER_ROLES,
    Q_ROLE_PARENTS,
    Q_ROLE_PERMS,
    Q_TOKEN,
    Q_TOKEN_SCOPES,
    Q_BLOCK_BITS,
    Q_BLOCK_PROBE,
    Q_ROLE_NAME,
    Q_FEED,
    Q_PREFETCH,
    Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    "SELECT (SELECT value FROM meta WHERE key = 'generation'), seq, tag"
    " FROM changes ORDER BY seq DESC LIMIT 1",
    "SELECT id, name, hash, disabled, expires, created, updated, cred"
    " FROM users WHERE name = ?1",
    "SELECT roles.id, roles.name FROM user_roles"
    " JOIN roles ON roles.id = user_roles.role_id"
    " WHERE user_roles.user_id = ?1",
    "SELECT roles.id, roles.name FROM role_inherits"
    " JOIN roles ON roles.id = role_inherits.parent_id"
    " WHERE role_inherits.role_id = ?1",
    "SELECT permissions.name FROM role_permissions"
    " JOIN permissions ON permissions.id = role_permissions.perm_id"
    " WHERE role_permissions.role_id = ?1",
    "SELECT tokens.id, tokens.user_id, users.name, tokens.label,"
    " tokens.created, tokens.expires, tokens.revoked"
    " FROM tokens JOIN users ON users.id = tokens.user_id"
    " WHERE tokens.hash = ?1",
    "SELECT perm FROM token_scopes WHERE token_id = ?1",
    "SELECT bits FROM blocklist WHERE bits < ?1 ORDER BY bits DESC LIMIT 1",
    "SELECT id, text, reason, created, expires FROM blocklist"
    " WHERE bits = ?1 AND net = ?2 AND (expires = 0 OR expires > ?3)",
    "SELECT name FROM roles WHERE id = ?1",
    "SELECT seq, tag, kind, key FROM changes"
    " WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
    /* PostgreSQL: a user, its roles and every role they reach, in one
     * round trip (see pg_prefetch).  k 0: the user; 1: a direct role;
     * 2: a role's name; 3: a role's permission; 4: a role's parent (in
     * the expires column). */
    "WITH RECURSIVE u AS (SELECT id, name, hash, disabled, expires, created,"
    " updated, cred FROM users WHERE name = ?1),"
    " d AS (SELECT role_id FROM user_roles"
    " WHERE user_id = (SELECT id FROM u)),"
    " up(id) AS (SELECT role_id FROM d UNION SELECT ri.parent_id"
    " FROM role_inherits ri JOIN up ON ri.role_id = up.id)"
    " SELECT 0, id, name, hash, disabled, expires, created, updated, cred"
    " FROM u"
    " UNION ALL SELECT 1, role_id, NULL, NULL, 0, 0, 0, 0, 0 FROM d"
    " UNION ALL SELECT 2, r.id, r.name, NULL, 0, 0, 0, 0, 0"
    " FROM roles r JOIN up ON r.id = up.id"
    " UNION ALL SELECT 3, rp.role_id, p.name, NULL, 0, 0, 0, 0, 0"
    " FROM role_permissions rp JOIN permissions p ON p.id = rp.perm_id"
    " JOIN up ON rp.role_id = up.id"
    " UNION ALL SELECT 4, ri.role_id, NULL, NULL, 0, ri.parent_id, 0, 0, 0"
    " FROM role_inherits ri JOIN up ON ri.role_id = up.id"
};

/* PostgreSQL: what one round trip read of a user and the roles it
 * reaches, in the read transaction it was read in (forgotten when that
 * ends): azs_user_role_ids and azs_role_node answer from it. */
typedef struct {
    const char *name;
    apr_array_header_t *perms;     /* const char * */
    apr_array_header_t *parents;   /* apr_int64_t */
} pf_role;

typedef struct {
    apr_pool_t *pool;
    int valid;
    apr_int64_t user_id;
    apr_array_header_t *role_ids;  /* apr_int64_t */
    apr_hash_t *roles;             /* apr_int64_t -> pf_role * */
} pf_state;

#define AZS_WAL_HDR 48

struct azs_stmt {
    azs_store_t *st;
    int insert;              /* an INSERT: may meet a unique key */
    sqlite3_stmt *lite;      /* SQLite, or */
    azs_pg_stmt_t *pg;       /* PostgreSQL */
};

struct azs_store {
    sqlite3 *db;             /* SQLite, or */
    azs_pg_t *pg;            /* PostgreSQL (NULL until first used) */
    int is_pg, pg_used, readonly, timeout_ms;
    apr_int64_t deadline_at;   /* see azs_store_deadline */
    pf_state pf;               /* PostgreSQL: see pg_prefetch */
    /* PostgreSQL: what the node had heard before the read transaction
     * began (its snapshot is at least as new). */
    int begin_ok;
    azs_feed_pos_t begin_pos;
    const azs_watch_t *watch;  /* PostgreSQL: what the node heard */
    int max_stale_ms;
    const char *path;
    const char *id;          /* path, device and inode: see azs_store_id */
    dev_t dev;
    ino_t ino;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;   /* no one can set it: "cp -p" of a backup
                              * keeps size and mtime, never ctime */
    char err[256];
    apr_pool_t *pool;
    apr_hash_t *prepared;    /* const char * (address) -> azs_stmt_t * */
    /* Prefix lengths present in the blocklist, longest first, as of
     * generation bits_gen (0: not loaded). */
    apr_int64_t bits_gen;
    int nbits;
    int bits[129];
    /* The WAL-index header (https://www.sqlite.org/walformat.html): the
     * two 48-byte copies at the start of the -shm file, in the mapping
     * SQLite made for this handle, valid while the handle is open (a
     * reader's SHARED lock keeps any other process from leaving WAL mode
     * or removing the file).  NULL: not in WAL mode, or not known yet. */
    const volatile unsigned char *shm;
    int shm_checked;
    /* The header read before the read transaction that read generation
     * hdr_gen began; pending: read before the one now open. */
    unsigned char hdr[AZS_WAL_HDR], pending[AZS_WAL_HDR];
    int hdr_ok, pending_ok;
    apr_int64_t hdr_gen;
    azs_feed_pos_t hdr_pos;
    azs_feed_pos_t pos;      /* the feed's newest row, as last read */
};

static void pf_forget(azs_store_t *st)
{
    st->pf.valid = 0;
    if (st->pf.pool) {
        apr_pool_clear(st->pf.pool);
    }
}

const char *azs_store_error(azs_store_t *st)
{
    if (st->err[0]) {
        return st->err;
    }
    return st->pg ? azs_pg_error(st->pg)
                  : st->db ? sqlite3_errmsg(st->db) : "not open";
}

int azs_store_is_pg(azs_store_t *st)
{
    return st->is_pg;
}

void azs_store_set_error(azs_store_t *st, const char *msg)
{
    apr_cpystrn(st->err, msg, sizeof(st->err));
}

static azs_rc db_fail(azs_store_t *st, int rc)
{
    if (st->is_pg) {
        if (st->pg) {
            apr_cpystrn(st->err, azs_pg_error(st->pg), sizeof(st->err));
        }
    }
    else {
        apr_snprintf(st->err, sizeof(st->err), "%s (sqlite %d)",
                     st->db ? sqlite3_errmsg(st->db) : "not open", rc);
    }
    return AZS_RC_DBERR;
}

const char *azs_store_id(azs_store_t *st)
{
    return st->id;
}

sqlite3 *azs_store_db(azs_store_t *st)
{
    return st->db;
}

static apr_status_t store_cleanup(void *data)
{
    azs_store_t *st = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, st->prepared); hi; hi = apr_hash_next(hi)) {
        azs_stmt_t *s = apr_hash_this_val(hi);

        if (s->lite) {
            sqlite3_finalize(s->lite);
        }
        else if (s->pg) {
            azs_pg_reset(s->pg);
        }
    }
    apr_hash_clear(st->prepared);
    st->shm = NULL;
    st->hdr_ok = st->pending_ok = 0;
    if (st->db) {
        sqlite3_close_v2(st->db);
        st->db = NULL;
    }
    if (st->pg) {
        azs_pg_close(st->pg);
    }
    return APR_SUCCESS;
}

void azs_store_close(azs_store_t *st)
{
    /* The pool cleanup would run later anyway; closing now releases the
     * file at once (a replaced or deleted database must not stay open). */
    store_cleanup(st);
}

int azs_store_stale(azs_store_t *st)
{
    struct stat sb;

    if (st->is_pg) {
        /* A connection that failed or missed a deadline is gone. */
        return st->pg_used && !azs_pg_ok(st->pg);
    }
    /* A new mode or owner is checked too: a handle opened before a chmod
     * 000 would go on reading what httpd may no longer read.  So are size
     * and mtime: SQLite writes the main file only when it checkpoints (a
     * reopen then costs little), and anything else that writes it (cp of a
     * backup over the live file) bypasses the WAL index that tells open
     * handles their cached pages are old. */
    if (stat(st->path, &sb) != 0) {
        return 1;
    }
    return sb.st_dev != st->dev || sb.st_ino != st->ino
           || sb.st_mode != st->mode || sb.st_uid != st->uid
           || sb.st_gid != st->gid || sb.st_size != st->size
           || sb.st_mtim.tv_sec != st->mtime.tv_sec
           || sb.st_mtim.tv_nsec != st->mtime.tv_nsec
           || sb.st_ctim.tv_sec != st->ctime.tv_sec
           || sb.st_ctim.tv_nsec != st->ctime.tv_nsec;
}

int azs_sqlite_int(sqlite3 *db, const char *sql, int *value)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* PostgreSQL: connects on first use, so a request answered from memory
 * opens no connection.  httpd (read-only) bounds every call by
 * timeout_ms; htauthz waits as long as the server takes, but no more than
 * timeout_ms for another writer's row lock.  A connection that failed
 * makes the handle stale (azs_store_stale): the next request opens
 * another. */
static azs_rc pg_connect(azs_store_t *st)
{
    azs_stmt_t *s;
    const char *err = NULL;
    azs_rc r;
    int rc;

    if (st->pg) {
        if (azs_pg_ok(st->pg)) {
            return AZS_RC_OK;
        }
        azs_store_set_error(st, azs_pg_error(st->pg));
        return AZS_RC_DBERR;
    }
    st->pg_used = 1;
    if (azs_pg_open(&st->pg, st->path, "mod_authz_status",
                    st->readonly ? st->timeout_ms : 0, st->deadline_at,
                    st->pool, &err)
        != AZS_RC_OK) {
        azs_store_set_error(st, err);
        return AZS_RC_DBERR;
    }
    if (!st->readonly
        && azs_pg_exec(st->pg, apr_psprintf(st->pool, "SET lock_timeout = %d",
                                            st->timeout_ms)) != AZS_RC_OK) {
        return db_fail(st, 0);
    }
    r = azs_store_prepare(st, "SELECT value FROM meta"
                          " WHERE key = 'schema_version'", &s);
    rc = r == AZS_RC_OK ? azs_step(s) : AZS_STEP_ERROR;
    if (rc != AZS_STEP_ROW
        || azs_col_int64(s, 0) != AZS_SCHEMA_VERSION) {
        char msg[256];

        if (rc == AZS_STEP_ROW) {
            apr_snprintf(msg, sizeof(msg), "the database has schema version"
                         " %" APR_INT64_T_FMT ", this build knows %d",
                         azs_col_int64(s, 0), AZS_SCHEMA_VERSION);
        }
        else {
            apr_snprintf(msg, sizeof(msg), "cannot read the schema version "
                         "(not initialized? run htauthz init): %s",
                         azs_store_error(st));
        }
        if (r == AZS_RC_OK) {
            azs_reset(s);
        }
        azs_pg_close(st->pg);     /* stale from now on */
        azs_store_set_error(st, msg);
        return AZS_RC_DBERR;
    }
    azs_reset(s);
    return AZS_RC_OK;
}

static azs_rc pg_open(azs_store_t **out, azs_store_t *st, int readonly,
                      int timeout_ms, apr_pool_t *p, const char **err)
{
    st->is_pg = 1;
    st->readonly = readonly;
    st->timeout_ms = timeout_ms;
    st->id = st->path;
    apr_pool_cleanup_register(p, st, store_cleanup, apr_pool_cleanup_null);
    /* htauthz wants to know at once. */
    if (!readonly && pg_connect(st) != AZS_RC_OK) {
        *err = apr_psprintf(p, "%s", azs_store_error(st));
        store_cleanup(st);
        return AZS_RC_DBERR;
    }
    *out = st;
    return AZS_RC_OK;
}

void azs_sqlite_harden(sqlite3 *db)
{
    /* A database file is data, never code: no schema text that writes
     * the schema itself, no function a view or trigger was not meant to
     * call (the file may be writable by httpd's user, and htauthz may run
     * as root). */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0);
}

azs_rc azs_store_open(azs_store_t **out, const char *path, int readonly,
                      int busy_timeout_ms, apr_pool_t *p, const char **err)
{
    azs_store_t *st = apr_pcalloc(p, sizeof(*st));
    int flags = SQLITE_OPEN_NOMUTEX
                | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
    struct stat sb;
    int rc, version = -1;

    *out = NULL;
    st->pool = p;
    st->prepared = apr_hash_make(p);
    st->path = apr_pstrdup(p, path);
    if (azs_is_pg_url(path)) {
        return pg_open(out, st, readonly, busy_timeout_ms, p, err);
    }
    /* The identity of the file is taken before opening, so a file
     * replaced in between is seen as stale at the next check. */
    if (stat(path, &sb) != 0) {
        *err = apr_psprintf(p, "cannot open %s: no such file", path);
        return AZS_RC_DBERR;
    }
    /* SQLite may reuse a descriptor that another handle of this process
     * left open on the same file, which skips the permission check of
     * open(2): check it here, so a chmod is seen by every new handle. */
    if (access(path, readonly ? R_OK : R_OK | W_OK) != 0) {
        *err = apr_psprintf(p, "cannot open %s: %s", path,
                            strerror(errno));
        return AZS_RC_DBERR;
    }
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->mode = sb.st_mode;
    st->uid = sb.st_uid;
    st->gid = sb.st_gid;
    st->size = sb.st_size;
    st->mtime = sb.st_mtim;
    st->ctime = sb.st_ctim;
    st->id = apr_psprintf(p, "%s|%lu|%lu", path, (unsigned long)sb.st_dev,
                          (unsigned long)sb.st_ino);
    rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        *err = apr_psprintf(p, "cannot open %s: %s", path,
                            st->db ? sqlite3_errmsg(st->db)
                                   : sqlite3_errstr(rc));
        sqlite3_close_v2(st->db);
        return AZS_RC_DBERR;
    }
    apr_pool_cleanup_register(p, st, store_cleanup, apr_pool_cleanup_null);
    azs_sqlite_harden(st->db);
    sqlite3_busy_timeout(st->db, busy_timeout_ms);
    sqlite3_extended_result_codes(st->db, 1);
    rc = azs_sqlite_int(st->db, "PRAGMA user_version", &version);
    if ((rc & 0xff) == SQLITE_CANTOPEN && readonly) {
        /* htauthz run by root creates -shm and -wal before it hands them
         * to the database's owner: a first read in that instant cannot
         * open them, and one 10 ms later can. */
        apr_sleep(apr_time_from_msec(10));
        rc = azs_sqlite_int(st->db, "PRAGMA user_version", &version);
    }
    if (rc != SQLITE_OK) {
        *err = apr_psprintf(p, "cannot read %s: %s", path,
                            sqlite3_errmsg(st->db));
        store_cleanup(st);
        return AZS_RC_DBERR;
    }
    if (version != AZS_SCHEMA_VERSION) {
        *err = apr_psprintf(p, "%s has schema version %d, this build "
                            "knows %d%s", path, version, AZS_SCHEMA_VERSION,
                            version == 0 ? " (not initialized: run "
                            "htauthz init)" : "");
        store_cleanup(st);
        return AZS_RC_DBERR;
    }
    if (!readonly) {
        sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    }
    else {
        /* httpd keeps a handle per thread: a small page cache each keeps
         * a child's memory bounded whatever the size of the database
         * (SQLite's default, 2 MB a handle, is 50 MB for 25 threads). */
        sqlite3_exec(st->db,
                     "PRAGMA cache_size = -" AZS_STR(AZS_READ_CACHE_KB),
                     NULL, NULL, NULL);
    }
    *out = st;
    return AZS_RC_OK;
}

azs_rc azs_store_prepare(azs_store_t *st, const char *sql,
                         azs_stmt_t **s)
{
    azs_stmt_t *n;
    int rc;

    *s = apr_hash_get(st->prepared, &sql, sizeof(sql));
    if (*s) {
        return AZS_RC_OK;
    }
    if (st->is_pg && pg_connect(st) != AZS_RC_OK) {
        return AZS_RC_DBERR;
    }
    n = apr_pcalloc(st->pool, sizeof(*n));
    n->st = st;
    if (st->pg) {
        /* Prepared on the server at its first run. */
        n->pg = azs_pg_stmt_make(st->pg, sql, st->pool);
        n->insert = strncmp(sql, "INSERT", 6) == 0;
    }
    else {
        rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &n->lite, NULL);
        if (rc != SQLITE_OK) {
            return db_fail(st, rc);
        }
    }
    apr_hash_set(st->prepared, apr_pmemdup(st->pool, &sql, sizeof(sql)),
                 sizeof(sql), n);
    *s = n;
    return AZS_RC_OK;
}

void azs_bind_int64(azs_stmt_t *s, int i, apr_int64_t v)
{
    if (s->pg) {
        azs_pg_bind_int64(s->pg, i, v);
    }
    else {
        sqlite3_bind_int64(s->lite, i, v);
    }
}

void azs_bind_text(azs_stmt_t *s, int i, const char *v)
{
    if (s->pg) {
        azs_pg_bind_text(s->pg, i, v);
    }
    else {
        sqlite3_bind_text(s->lite, i, v, -1, SQLITE_STATIC);
    }
}

void azs_bind_blob(azs_stmt_t *s, int i, const void *v, int len)
{
    if (s->pg) {
        azs_pg_bind_blob(s->pg, i, v, len);
    }
    else {
        sqlite3_bind_blob(s->lite, i, v, len, SQLITE_STATIC);
    }
}

int azs_step(azs_stmt_t *s)
{
    int rc;

    if (s->pg) {
        /* A failed statement aborts a PostgreSQL transaction, where
         * SQLite's goes on: a writer that meets a unique key and carries
         * on (import updates a user it could not add) rolls back to just
         * before the statement. */
        int guard = s->insert && azs_pg_in_txn(s->st->pg)
                    && !azs_pg_stepping(s->pg);

        if (guard && azs_pg_exec(s->st->pg, "SAVEPOINT azs_stmt")
                     != AZS_RC_OK) {
            db_fail(s->st, AZS_STEP_ERROR);
            return AZS_STEP_ERROR;
        }
        rc = azs_pg_step(s->pg);
        if (rc != AZS_STEP_ROW && rc != AZS_STEP_DONE) {
            db_fail(s->st, rc);
            if (guard) {
                /* Rolled back to, then released: a failed INSERT must not
                 * leave a subtransaction open (an import meets thousands). */
                azs_pg_exec(s->st->pg, "ROLLBACK TO SAVEPOINT azs_stmt");
                azs_pg_exec(s->st->pg, "RELEASE SAVEPOINT azs_stmt");
            }
        }
        else if (guard) {
            azs_pg_exec(s->st->pg, "RELEASE SAVEPOINT azs_stmt");
        }
        return rc;
    }
    rc = sqlite3_step(s->lite);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_fail(s->st, rc);
    }
    return rc;
}

void azs_reset(azs_stmt_t *s)
{
    if (s->pg) {
        azs_pg_reset(s->pg);
        azs_pg_clear(s->pg);
    }
    else {
        sqlite3_reset(s->lite);
        sqlite3_clear_bindings(s->lite);
    }
}

int azs_col_null(azs_stmt_t *s, int i)
{
    return s->pg ? azs_pg_col_null(s->pg, i)
                 : sqlite3_column_type(s->lite, i) == SQLITE_NULL;
}

apr_int64_t azs_col_int64(azs_stmt_t *s, int i)
{
    return s->pg ? azs_pg_col_int64(s->pg, i)
                 : sqlite3_column_int64(s->lite, i);
}

const char *azs_col_text(azs_stmt_t *s, int i)
{
    return s->pg ? azs_pg_col_text(s->pg, i)
                 : (const char *)sqlite3_column_text(s->lite, i);
}

const void *azs_col_blob(azs_stmt_t *s, int i, int *len)
{
    const void *b;

    if (s->pg) {
        return azs_pg_col_blob(s->pg, i, len);
    }
    b = sqlite3_column_blob(s->lite, i);
    *len = sqlite3_column_bytes(s->lite, i);
    return b;
}

apr_int64_t azs_store_changes(azs_store_t *st)
{
    if (st->is_pg) {
        return st->pg ? azs_pg_changes(st->pg) : 0;
    }
    return sqlite3_changes(st->db);
}

int azs_step_unique(int rc)
{
    return rc == SQLITE_CONSTRAINT_UNIQUE
           || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

static azs_rc stmt_get(azs_store_t *st, int q, azs_stmt_t **s)
{
    return azs_store_prepare(st, queries[q], s);
}

static azs_rc exec_simple(azs_store_t *st, const char *sql)
{
    int rc;

    if (st->is_pg) {
        if (pg_connect(st) != AZS_RC_OK) {
            return AZS_RC_DBERR;
        }
        return azs_pg_exec(st->pg, sql) == AZS_RC_OK ? AZS_RC_OK
                                                     : db_fail(st, 0);
    }
    rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? AZS_RC_OK : db_fail(st, rc);
}

azs_rc azs_store_begin(azs_store_t *st)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    st->err[0] = '\0';
    if (!st->is_pg) {
        return exec_simple(st, "BEGIN IMMEDIATE");
    }
    /* Writers take turns on the generation's row (what flock is to a
     * SQLite file): so feed rows are numbered in the order their
     * transactions commit, and a reader that has seen row N has seen
     * every row before it. */
    if ((r = exec_simple(st, "BEGIN")) != AZS_RC_OK) {
        return r;
    }
    if ((r = azs_store_prepare(st, "SELECT value FROM meta WHERE key ="
                               " 'generation' FOR UPDATE", &s))
        != AZS_RC_OK) {
        azs_store_rollback(st);
        return r;
    }
    rc = azs_step(s);
    azs_reset(s);
    if (rc != AZS_STEP_ROW) {
        if (rc == AZS_STEP_BUSY) {
            azs_store_set_error(st, "database is locked (another writer "
                                "holds it)");
        }
        azs_store_rollback(st);
        return AZS_RC_DBERR;
    }
    return AZS_RC_OK;
}

azs_rc azs_store_commit(azs_store_t *st)
{
    return exec_simple(st, "COMMIT");
}

void azs_store_rollback(azs_store_t *st)
{
    if (st->is_pg) {
        if (st->pg && azs_pg_in_txn(st->pg)) {
            azs_pg_exec(st->pg, "ROLLBACK");
        }
        return;
    }
    if (!sqlite3_get_autocommit(st->db)) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* Finds the WAL-index this handle's first read transaction mapped: in a
 * read transaction, once per handle.  Only for a database in WAL mode
 * (for another, xShmMap would create the shared memory). */
static void wal_map(azs_store_t *st)
{
    sqlite3_stmt *s;
    sqlite3_file *f = NULL;
    void volatile *p = NULL;
    int wal = 0;

    st->shm_checked = 1;
    /* Once per handle: not kept prepared. */
    if (sqlite3_prepare_v2(st->db, "PRAGMA main.journal_mode", -1, &s,
                           NULL) != SQLITE_OK) {
        return;
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(s, 0);

        wal = m && strcmp((const char *)m, "wal") == 0;
    }
    sqlite3_finalize(s);
    if (!wal
        || sqlite3_file_control(st->db, "main", SQLITE_FCNTL_FILE_POINTER,
                                &f) != SQLITE_OK
        || !f || !f->pMethods || f->pMethods->iVersion < 2
        || !f->pMethods->xShmMap
        || f->pMethods->xShmMap(f, 0, 32768, 0, &p) != SQLITE_OK || !p) {
        return;
    }
    st->shm = p;
}

/* Copies the WAL-index header as SQLite's own readers do: the first copy,
 * a barrier, the second; they differ while a writer updates them (it
 * writes the second first).  0 when they differ, when the index is not
 * initialized, or when there is no WAL-index. */
static int wal_header(azs_store_t *st, unsigned char out[AZS_WAL_HDR])
{
    unsigned char second[AZS_WAL_HDR];
    size_t i;

    if (!st->shm) {
        return 0;
    }
    for (i = 0; i < AZS_WAL_HDR; i++) {
        out[i] = st->shm[i];
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (i = 0; i < AZS_WAL_HDR; i++) {
        second[i] = st->shm[AZS_WAL_HDR + i];
    }
    return memcmp(out, second, AZS_WAL_HDR) == 0 && out[12] != 0;
}

int azs_store_read_begin(azs_store_t *st)
{
    azs_stmt_t *s;
    int rc;

    if (st->is_pg) {
        apr_int64_t wgen, heard;

        /* One snapshot for the request's reads, as with SQLite. */
        pf_forget(st);
        st->begin_ok = st->watch && azs_watch_read(st->watch, &wgen,
                                                    &st->begin_pos, &heard);
        return pg_connect(st) == AZS_RC_OK && !azs_pg_in_txn(st->pg)
               && azs_pg_exec(st->pg, "BEGIN ISOLATION LEVEL REPEATABLE"
                              " READ READ ONLY") == AZS_RC_OK;
    }
    if (!st->db || !sqlite3_get_autocommit(st->db)
        || azs_store_prepare(st, "BEGIN", &s) != AZS_RC_OK) {
        return 0;
    }
    /* Before BEGIN: the snapshot the transaction takes at its first read
     * is then at least as new as this header (never older, which would
     * let azs_store_unchanged vouch for a generation it did not see). */
    st->pending_ok = wal_header(st, st->pending);
    rc = azs_step(s);
    azs_reset(s);
    if (rc != AZS_STEP_DONE) {
        st->pending_ok = 0;
    }
    return rc == AZS_STEP_DONE;
}

void azs_store_read_end(azs_store_t *st)
{
    azs_stmt_t *s;
    int rc = SQLITE_ERROR;

    st->pending_ok = 0;
    if (st->is_pg) {
        pf_forget(st);
        if (st->pg && azs_pg_in_txn(st->pg)
            && azs_pg_exec(st->pg, "COMMIT") != AZS_RC_OK) {
            azs_pg_exec(st->pg, "ROLLBACK");
        }
        return;
    }
    if (!st->db || sqlite3_get_autocommit(st->db)) {
        return;
    }
    if (azs_store_prepare(st, "COMMIT", &s) == AZS_RC_OK) {
        rc = azs_step(s);
        azs_reset(s);
    }
    if (rc != AZS_STEP_DONE) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

int azs_store_in_read(azs_store_t *st)
{
    if (st->is_pg) {
        return st->pg && azs_pg_in_txn(st->pg);
    }
    return st->db && !sqlite3_get_autocommit(st->db);
}

static const char *col_text(apr_pool_t *p, azs_stmt_t *s, int i)
{
    const char *t = azs_col_text(s, i);

    return apr_pstrdup(p, t ? t : "");
}

azs_rc azs_store_generation(azs_store_t *st, apr_int64_t *gen)
{
    azs_stmt_t *s;
    azs_rc r = stmt_get(st, Q_GENERATION, &s);
    apr_int64_t wgen, heard;
    azs_feed_pos_t wpos;
    int rc, heard_ok = 0;

    if (r != AZS_RC_OK) {
        return r;
    }
    /* What the node heard before the snapshot was taken (when the read
     * transaction began, or now for a read alone): the snapshot is then
     * at least as new, unless the database went back in time.  (What it
     * heard later may well be newer than a snapshot taken before.) */
    if (st->is_pg && azs_store_in_read(st)) {
        heard_ok = st->begin_ok;
        wpos = st->begin_pos;
    }
    else if (st->is_pg && st->watch) {
        heard_ok = azs_watch_read(st->watch, &wgen, &wpos, &heard);
    }
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW && !azs_col_null(s, 0)) {
        *gen = azs_col_int64(s, 0);
        st->pos.seq = azs_col_int64(s, 1);
        st->pos.tag = azs_col_int64(s, 2);
        r = AZS_RC_OK;
    }
    else if (rc == AZS_STEP_ROW || rc == AZS_STEP_DONE) {
        azs_store_set_error(st, rc == AZS_STEP_ROW
                                ? "meta.generation is missing"
                                : "the change feed is empty");
        r = AZS_RC_DBERR;
    }
    else {
        r = db_fail(st, rc);
    }
    azs_reset(s);
    if (r != AZS_RC_OK) {
        st->hdr_ok = st->pending_ok = 0;
        return r;
    }
    if (st->is_pg) {
        /* Never older than what the node already heard: a connection
         * that reached a lagging standby would bring back what was
         * revoked. */
        if (heard_ok && wpos.seq > st->pos.seq) {
            azs_store_set_error(st, "the database answered with an older "
                                "state than this node has heard of (a "
                                "standby that lags? connect with "
                                "target_session_attrs=read-write)");
            return AZS_RC_DBERR;
        }
        return r;
    }
    if (st->pending_ok && !sqlite3_get_autocommit(st->db)) {
        memcpy(st->hdr, st->pending, sizeof(st->hdr));
        st->hdr_gen = *gen;
        st->hdr_pos = st->pos;
        st->hdr_ok = 1;
        st->pending_ok = 0;
    }
    else if (!st->shm_checked && !sqlite3_get_autocommit(st->db)) {
        wal_map(st);
    }
    return r;
}

int azs_store_unchanged(azs_store_t *st, apr_int64_t *gen)
{
    unsigned char now[AZS_WAL_HDR];

    if (st->is_pg) {
        apr_int64_t heard;
        azs_feed_pos_t wpos;

        /* The generation and feed place the node's watcher read last,
         * while it heard within the lease: what the child remembers at
         * that place answers without asking the database (a miss reads
         * a snapshot at least as new, and the memo catches up to it). */
        if (!st->watch || !azs_watch_read(st->watch, gen, &wpos, &heard)
            || azs_mono_ms() - heard > st->max_stale_ms) {
            return 0;
        }
        st->pos = wpos;
        return 1;
    }

    if (!st->hdr_ok || !wal_header(st, now)
        || memcmp(now, st->hdr, sizeof(now)) != 0) {
        return 0;
    }
    *gen = st->hdr_gen;
    st->pos = st->hdr_pos;
    return 1;
}

void azs_store_feed_pos(azs_store_t *st, azs_feed_pos_t *pos)
{
    *pos = st->pos;
}

azs_rc azs_store_feed(azs_store_t *st, apr_int64_t from, apr_int64_t to,
                      int limit, azs_feed_fn fn, void *baton)
{
    azs_stmt_t *s;
    azs_rc r = stmt_get(st, Q_FEED, &s);
    int rc;

    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, from);
    azs_bind_int64(s, 2, to);
    azs_bind_int64(s, 3, limit);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        const char *key = azs_col_text(s, 3);

        fn(baton, azs_col_int64(s, 0), azs_col_int64(s, 1),
           (int)azs_col_int64(s, 2), key ? (const char *)key : "");
    }
    azs_reset(s);
    return rc == AZS_STEP_DONE ? AZS_RC_OK : db_fail(st, rc);
}

/* PostgreSQL, in a read transaction: the user, its direct roles and every
 * role they reach (names, permissions, parents) in one round trip, where
 * the role walk would take three a role.  What the walk asks next
 * (azs_user_role_ids, azs_role_node) is then answered from it. */
static azs_rc pg_prefetch(azs_store_t *st, const char *name, azs_user_t *u,
                          apr_pool_t *p)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc, found = 0;
    pf_state *pf = &st->pf;

    pf_forget(st);
    if (!pf->pool && apr_pool_create(&pf->pool, st->pool) != APR_SUCCESS) {
        azs_store_set_error(st, "out of memory");
        return AZS_RC_DBERR;
    }
    if ((r = stmt_get(st, Q_PREFETCH, &s)) != AZS_RC_OK) {
        return r;
    }
    pf->role_ids = apr_array_make(pf->pool, 4, sizeof(apr_int64_t));
    pf->roles = apr_hash_make(pf->pool);
    azs_bind_text(s, 1, name);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        int k = (int)azs_col_int64(s, 0);
        apr_int64_t id = azs_col_int64(s, 1);
        pf_role *role = NULL;

        if (k == 0) {
            found = 1;
            u->id = id;
            u->name = col_text(p, s, 2);
            u->hash = col_text(p, s, 3);
            u->disabled = azs_col_int64(s, 4) != 0;
            u->expires = azs_col_int64(s, 5);
            u->created = azs_col_int64(s, 6);
            u->updated = azs_col_int64(s, 7);
            u->cred = azs_col_int64(s, 8);
            pf->user_id = id;
            continue;
        }
        if (k == 1) {
            APR_ARRAY_PUSH(pf->role_ids, apr_int64_t) = id;
            continue;
        }
        role = apr_hash_get(pf->roles, &id, sizeof(id));
        if (!role) {
            apr_int64_t *key = apr_pmemdup(pf->pool, &id, sizeof(id));

            role = apr_pcalloc(pf->pool, sizeof(*role));
            role->perms = apr_array_make(pf->pool, 4, sizeof(const char *));
            role->parents = apr_array_make(pf->pool, 2, sizeof(apr_int64_t));
            apr_hash_set(pf->roles, key, sizeof(*key), role);
        }
        if (k == 2) {
            role->name = col_text(pf->pool, s, 2);
        }
        else if (k == 3) {
            APR_ARRAY_PUSH(role->perms, const char *) =
                col_text(pf->pool, s, 2);
        }
        else if (k == 4) {
            APR_ARRAY_PUSH(role->parents, apr_int64_t) = azs_col_int64(s, 5);
        }
    }
    azs_reset(s);
    if (rc != AZS_STEP_DONE) {
        pf_forget(st);
        return db_fail(st, rc);
    }
    if (!found) {
        pf_forget(st);
        return AZS_RC_NOTFOUND;
    }
    pf->valid = 1;
    return AZS_RC_OK;
}

azs_rc azs_user_get(azs_store_t *st, const char *name, azs_user_t *u,
                    apr_pool_t *p)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    if (st->is_pg && !azs_utf8_valid(name)) {
        return AZS_RC_NOTFOUND;     /* PostgreSQL holds UTF-8 only */
    }
    if (st->is_pg && azs_store_in_read(st)) {
        return pg_prefetch(st, name, u, p);
    }
    if ((r = stmt_get(st, Q_USER, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, name);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW) {
        u->id = azs_col_int64(s, 0);
        u->name = col_text(p, s, 1);
        u->hash = col_text(p, s, 2);
        u->disabled = (int)azs_col_int64(s, 3) != 0;
        u->expires = azs_col_int64(s, 4);
        u->created = azs_col_int64(s, 5);
        u->updated = azs_col_int64(s, 6);
        u->cred = azs_col_int64(s, 7);
        r = AZS_RC_OK;
    }
    else {
        r = rc == AZS_STEP_DONE ? AZS_RC_NOTFOUND : db_fail(st, rc);
    }
    azs_reset(s);
    return r;
}

/* One step of the walk: the permissions a role carries. */
static azs_rc role_perms(azs_store_t *st, apr_int64_t role_id,
                         const char *chain, apr_pool_t *p, apr_hash_t *perms)
{
    azs_stmt_t *s;
    azs_rc r = stmt_get(st, Q_ROLE_PERMS, &s);
    int rc;

    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, role_id);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        const char *name = azs_col_text(s, 0);

        if (name && !apr_hash_get(perms, name, APR_HASH_KEY_STRING)) {
            apr_hash_set(perms, apr_pstrdup(p, name), APR_HASH_KEY_STRING,
                         chain);
        }
    }
    azs_reset(s);
    return rc == AZS_STEP_DONE ? AZS_RC_OK : db_fail(st, rc);
}

typedef struct {
    apr_int64_t id;
    const char *chain;
} role_item;

/* Breadth first from the roles in queue (each already in roles), so each
 * role is reached through its shortest chain.  Cycles are refused when
 * written, and a role already seen is not walked again anyway. */
static azs_rc role_walk(azs_store_t *st, apr_array_header_t *queue,
                        apr_pool_t *p, apr_hash_t *roles, apr_hash_t *perms)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc, head = 0;

    if ((r = stmt_get(st, Q_ROLE_PARENTS, &s)) != AZS_RC_OK) {
        return r;
    }
    while (head < queue->nelts) {
        role_item cur = APR_ARRAY_IDX(queue, head, role_item);

        head++;
        if ((r = role_perms(st, cur.id, cur.chain, p, perms)) != AZS_RC_OK) {
            return r;
        }
        azs_bind_int64(s, 1, cur.id);
        while ((rc = azs_step(s)) == AZS_STEP_ROW) {
            const char *name = azs_col_text(s, 1);
            role_item *it;

            if (!name || apr_hash_get(roles, name, APR_HASH_KEY_STRING)) {
                continue;
            }
            it = apr_array_push(queue);
            it->id = azs_col_int64(s, 0);
            it->chain = apr_pstrcat(p, cur.chain, " > ", name, NULL);
            apr_hash_set(roles, apr_pstrdup(p, name), APR_HASH_KEY_STRING,
                         it->chain);
        }
        azs_reset(s);
        if (rc != AZS_STEP_DONE) {
            return db_fail(st, rc);
        }
    }
    return AZS_RC_OK;
}

/* The roles granted to the user directly, into queue and roles. */
static azs_rc direct_roles(azs_store_t *st, apr_int64_t user_id,
                           apr_pool_t *p, apr_array_header_t *queue,
                           apr_hash_t *roles)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    if ((r = stmt_get(st, Q_USER_ROLES, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, user_id);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        const char *name = col_text(p, s, 1);
        role_item *it;

        if (roles && apr_hash_get(roles, name, APR_HASH_KEY_STRING)) {
            continue;
        }
        it = apr_array_push(queue);
        it->id = azs_col_int64(s, 0);
        it->chain = name;
        if (roles) {
            apr_hash_set(roles, name, APR_HASH_KEY_STRING, name);
        }
    }
    azs_reset(s);
    return rc == AZS_STEP_DONE ? AZS_RC_OK : db_fail(st, rc);
}

azs_rc azs_user_effective(azs_store_t *st, apr_int64_t user_id,
                          apr_pool_t *p, apr_hash_t **roles_out,
                          apr_hash_t **perms_out)
{
    apr_hash_t *roles = apr_hash_make(p);
    apr_hash_t *perms = apr_hash_make(p);
    apr_array_header_t *queue = apr_array_make(p, 8, sizeof(role_item));
    azs_rc r;

    if ((r = direct_roles(st, user_id, p, queue, roles)) != AZS_RC_OK
        || (r = role_walk(st, queue, p, roles, perms)) != AZS_RC_OK) {
        return r;
    }
    *roles_out = roles;
    *perms_out = perms;
    return AZS_RC_OK;
}

azs_rc azs_user_role_ids(azs_store_t *st, apr_int64_t user_id,
                         apr_pool_t *p, apr_array_header_t **ids)
{
    apr_array_header_t *queue;
    azs_rc r;
    int i;

    if (st->pf.valid && st->pf.user_id == user_id
        && azs_store_in_read(st)) {
        *ids = apr_array_copy(p, st->pf.role_ids);
        return AZS_RC_OK;
    }
    queue = apr_array_make(p, 4, sizeof(role_item));
    r = direct_roles(st, user_id, p, queue, NULL);

    if (r != AZS_RC_OK) {
        return r;
    }
    *ids = apr_array_make(p, queue->nelts, sizeof(apr_int64_t));
    for (i = 0; i < queue->nelts; i++) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) =
            APR_ARRAY_IDX(queue, i, role_item).id;
    }
    return AZS_RC_OK;
}

/* Column 0 of a one-parameter query's rows: as text into names, or as
 * integers into ids when ids is given. */
static azs_rc rows_of(azs_store_t *st, int q, apr_int64_t arg, apr_pool_t *p,
                      apr_array_header_t *names, apr_array_header_t *ids)
{
    azs_stmt_t *s;
    azs_rc r = stmt_get(st, q, &s);
    int rc;

    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, arg);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        if (ids) {
            APR_ARRAY_PUSH(ids, apr_int64_t) = azs_col_int64(s, 0);
        }
        else {
            APR_ARRAY_PUSH(names, const char *) = col_text(p, s, 0);
        }
    }
    azs_reset(s);
    return rc == AZS_STEP_DONE ? AZS_RC_OK : db_fail(st, rc);
}

azs_rc azs_role_node(azs_store_t *st, apr_int64_t role_id, apr_pool_t *p,
                     const char **name, apr_array_header_t **perms,
                     apr_array_header_t **parents)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    *name = NULL;
    if (st->pf.valid && azs_store_in_read(st)) {
        pf_role *role = apr_hash_get(st->pf.roles, &role_id,
                                     sizeof(role_id));
        int i;

        if (role && role->name) {
            *name = apr_pstrdup(p, role->name);
            *perms = apr_array_make(p, role->perms->nelts,
                                    sizeof(const char *));
            for (i = 0; i < role->perms->nelts; i++) {
                APR_ARRAY_PUSH(*perms, const char *) = apr_pstrdup(p,
                    APR_ARRAY_IDX(role->perms, i, const char *));
            }
            *parents = apr_array_copy(p, role->parents);
            return AZS_RC_OK;
        }
    }
    *perms = apr_array_make(p, 4, sizeof(const char *));
    *parents = apr_array_make(p, 2, sizeof(apr_int64_t));
    if ((r = stmt_get(st, Q_ROLE_NAME, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, role_id);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW) {
        *name = col_text(p, s, 0);
    }
    azs_reset(s);
    if (rc != AZS_STEP_ROW) {
        return rc == AZS_STEP_DONE ? AZS_RC_NOTFOUND : db_fail(st, rc);
    }
    if ((r = rows_of(st, Q_ROLE_PERMS, role_id, p, *perms, NULL))
        != AZS_RC_OK) {
        return r;
    }
    return rows_of(st, Q_ROLE_PARENTS, role_id, p, NULL, *parents);
}

azs_rc azs_token_get(azs_store_t *st, const unsigned char hash[32],
                     azs_token_t *t, apr_pool_t *p)
{
    azs_stmt_t *s;
    azs_rc r = stmt_get(st, Q_TOKEN, &s);
    int rc;

    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_blob(s, 1, hash, AZS_SHA256_LEN);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW) {
        t->id = azs_col_int64(s, 0);
        t->user_id = azs_col_int64(s, 1);
        t->user = col_text(p, s, 2);
        t->label = col_text(p, s, 3);
        t->created = azs_col_int64(s, 4);
        t->expires = azs_col_int64(s, 5);
        t->revoked = azs_col_int64(s, 6);
        r = AZS_RC_OK;
    }
    else {
        r = rc == AZS_STEP_DONE ? AZS_RC_NOTFOUND : db_fail(st, rc);
    }
    azs_reset(s);
    if (r != AZS_RC_OK) {
        return r;
    }
    t->scopes = apr_array_make(p, 2, sizeof(const char *));
    if ((r = stmt_get(st, Q_TOKEN_SCOPES, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, t->id);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        APR_ARRAY_PUSH(t->scopes, const char *) = col_text(p, s, 0);
    }
    azs_reset(s);
    return rc == AZS_STEP_DONE ? AZS_RC_OK : db_fail(st, rc);
}

static azs_rc block_bits_load(azs_store_t *st)
{
    azs_stmt_t *s;
    apr_int64_t gen;
    azs_rc r;
    int rc, below, bits = 0;

    if ((r = azs_store_generation(st, &gen)) != AZS_RC_OK) {
        return r;
    }
    if (gen == st->bits_gen) {
        return AZS_RC_OK;
    }
    if ((r = stmt_get(st, Q_BLOCK_BITS, &s)) != AZS_RC_OK) {
        return r;
    }
    /* The distinct lengths, longest first, one index seek each (at most
     * 129): a DISTINCT scan reads the whole index, about 5 ms at 100,000
     * entries, and every thread runs this after every write. */
    st->nbits = 0;
    rc = AZS_STEP_ROW;
    for (below = 129; below > 0 && st->nbits < 129; below = bits) {
        azs_bind_int64(s, 1, below);
        rc = azs_step(s);
        if (rc != AZS_STEP_ROW) {
            azs_reset(s);
            break;
        }
        bits = (int)azs_col_int64(s, 0);
        azs_reset(s);
        if (bits < 0 || bits >= below) {
            rc = AZS_STEP_ERROR;   /* the index went backwards */
            azs_store_set_error(st, "blocklist prefix lengths out of order");
            break;
        }
        st->bits[st->nbits++] = bits;
    }
    if (rc == AZS_STEP_ROW) {
        rc = AZS_STEP_DONE;          /* every length down to 0 found */
    }
    if (rc != AZS_STEP_DONE) {
        st->bits_gen = 0;
        return db_fail(st, rc);
    }
    st->bits_gen = gen;
    return AZS_RC_OK;
}

azs_rc azs_block_match(azs_store_t *st, const unsigned char addr[16],
                       apr_int64_t now, azs_block_t *b, apr_pool_t *p)
{
    azs_stmt_t *s;
    azs_rc r;
    int i, rc;

    if ((r = block_bits_load(st)) != AZS_RC_OK) {
        return r;
    }
    if ((r = stmt_get(st, Q_BLOCK_PROBE, &s)) != AZS_RC_OK) {
        return r;
    }
    /* CIDR ranges nest or are disjoint, so probing each prefix length in
     * use, longest first, finds the most specific live entry. */
    for (i = 0; i < st->nbits; i++) {
        unsigned char net[16];

        azs_cidr_mask(net, addr, st->bits[i]);
        azs_bind_int64(s, 1, st->bits[i]);
        azs_bind_blob(s, 2, net, 16);
        azs_bind_int64(s, 3, now);
        rc = azs_step(s);
        if (rc == AZS_STEP_ROW) {
            b->id = azs_col_int64(s, 0);
            memcpy(b->range.net, net, 16);
            b->range.bits = st->bits[i];
            b->text = col_text(p, s, 1);
            b->reason = col_text(p, s, 2);
            b->created = azs_col_int64(s, 3);
            b->expires = azs_col_int64(s, 4);
            azs_reset(s);
            return AZS_RC_OK;
        }
        azs_reset(s);
        if (rc != AZS_STEP_DONE) {
            return db_fail(st, rc);
        }
    }
    return AZS_RC_NOTFOUND;
}

/* ---- what a node heard (the watcher writes, requests read) ------------- */

apr_int64_t azs_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void azs_watch_publish(azs_watch_t *w, apr_int64_t gen,
                       const azs_feed_pos_t *pos, apr_int64_t asked_ms)
{
    __atomic_add_fetch(&w->count, 1, __ATOMIC_SEQ_CST);     /* odd */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&w->gen, gen, __ATOMIC_RELAXED);
    __atomic_store_n(&w->seq, pos->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&w->tag, pos->tag, __ATOMIC_RELAXED);
    __atomic_store_n(&w->heard_ms, asked_ms, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_add_fetch(&w->count, 1, __ATOMIC_SEQ_CST);     /* even */
}

int azs_watch_read(const azs_watch_t *w, apr_int64_t *gen,
                   azs_feed_pos_t *pos, apr_int64_t *heard_ms)
{
    apr_uint32_t before, after;
    int tries;

    for (tries = 0; tries < 100; tries++) {
        before = __atomic_load_n(&w->count, __ATOMIC_SEQ_CST);
        if (before & 1) {
            continue;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        *gen = __atomic_load_n(&w->gen, __ATOMIC_RELAXED);
        pos->seq = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
        pos->tag = __atomic_load_n(&w->tag, __ATOMIC_RELAXED);
        *heard_ms = __atomic_load_n(&w->heard_ms, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        after = __atomic_load_n(&w->count, __ATOMIC_SEQ_CST);
        if (before == after) {
            return *heard_ms != 0;
        }
    }
    return 0;
}

void azs_store_watch(azs_store_t *st, const azs_watch_t *w,
                     int max_stale_ms)
{
    st->watch = w;
    st->max_stale_ms = max_stale_ms;
}

void azs_store_deadline(azs_store_t *st, apr_int64_t at_ms)
{
    st->deadline_at = at_ms;
    if (st->pg) {
        azs_pg_deadline_at(st->pg, at_ms);
    }
}
