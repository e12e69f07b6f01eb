/*
 * test_store.c - opening the database and the module's reads, against
 * real SQLite files.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void sql(azs_store_t *st, const char *q)
{
    char *err = NULL;
    int rc = sqlite3_exec(azs_store_db(st), q, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        fail_msg("%s: %s", q, err);
    }
}

static void init_creates_current_schema(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_int64_t gen = 0;
    sqlite3_stmt *s;

    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), AZS_SCHEMA_VERSION);
    sqlite3_finalize(s);
    assert_int_equal(azs_store_generation(st, &gen), AZS_RC_OK);
    assert_true(gen >= 1);
    /* init on a current database is a no-op that succeeds */
    const char *err = NULL;
    assert_int_equal(azs_store_init(fx->db, fx->pool, &err), AZS_RC_OK);
}

static void readonly_open_never_creates(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = (azs_store_t *)1;
    const char *err = NULL;
    struct stat sb;

    assert_int_equal(azs_store_open(&st, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_null(st);
    assert_non_null(err);
    assert_non_null(strstr(err, "no such file"));
    assert_int_not_equal(stat(fx->db, &sb), 0);
}

static void unknown_version_refused(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx), *ro = NULL;
    const char *err = NULL;

    sql(st, "PRAGMA user_version = 99");
    azs_store_close(st);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_non_null(strstr(err, "schema version 99"));
    /* and init does not "upgrade" a version it does not know */
    assert_int_equal(azs_store_init(fx->db, fx->pool, &err), AZS_RC_INVALID);
}

static void uninitialized_file_refused(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = NULL;
    const char *err = NULL;
    FILE *f = fopen(fx->db, "w");

    fclose(f);   /* empty file: SQLite sees a database of version 0 */
    assert_int_equal(azs_store_open(&st, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_non_null(strstr(err, "htauthz init"));
}

static void corrupt_file_refused(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = NULL;
    const char *err = NULL;
    FILE *f = fopen(fx->db, "w");

    fputs("this is not a database, just text long enough to look like "
          "a header of a file that SQLite would read", f);
    fclose(f);
    assert_int_equal(azs_store_open(&st, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_non_null(strstr(err, "not a database"));
}

static void stale_after_rename_and_delete(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx), *ro = NULL;
    const char *err = NULL;
    const char *other = apr_pstrcat(fx->pool, fx->dir, "/other.db", NULL);

    azs_store_close(st);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_false(azs_store_stale(ro));
    assert_int_equal(azs_store_init(other, fx->pool, &err), AZS_RC_OK);
    assert_int_equal(rename(other, fx->db), 0);
    assert_true(azs_store_stale(ro));
    azs_store_close(ro);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_false(azs_store_stale(ro));
    unlink(fx->db);
    assert_true(azs_store_stale(ro));
}

static apr_int64_t cred_of(azs_store_t *st, const char *name)
{
    azs_user_t u;
    apr_pool_t *p;
    apr_int64_t cred;

    apr_pool_create(&p, NULL);
    assert_int_equal(azs_user_get(st, name, &u, p), AZS_RC_OK);
    cred = u.cred;
    apr_pool_destroy(p);
    return cred;
}

/* A user's credential version moves with that user's name, hash, state
 * and expiry, and with nothing else: a write about another user, a role,
 * a grant, a token or a block leaves cached logins valid. */
static void credential_version_moves_only_with_the_user(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    static const char *const unrelated[] = {
        "INSERT INTO users (name, hash, created, updated)"
        " VALUES ('other', 'h', 1, 1)",
        "UPDATE users SET hash = 'h2' WHERE name = 'other'",
        "INSERT INTO roles (name) VALUES ('r')",
        "INSERT INTO permissions (name) VALUES ('p')",
        "INSERT INTO role_permissions VALUES (1, 1)",
        "INSERT INTO user_roles SELECT id, 1 FROM users WHERE name = 'u'",
        "INSERT INTO tokens (hash, user_id, created)"
        " SELECT x'01', id, 1 FROM users WHERE name = 'u'",
        "UPDATE tokens SET revoked = 5",
        "INSERT INTO blocklist (net, bits, text, created)"
        " VALUES (x'00', 0, '::/0', 1)",
        "UPDATE users SET updated = 99 WHERE name = 'u'",
    };
    static const char *const own[] = {
        "UPDATE users SET hash = 'new' WHERE name = 'u'",
        "UPDATE users SET disabled = 1 WHERE name = 'u'",
        "UPDATE users SET disabled = 0 WHERE name = 'u'",
        "UPDATE users SET expires = 5 WHERE name = 'u'",
    };
    apr_int64_t c0, c;
    size_t i;

    sql(st, "INSERT INTO users (name, hash, created, updated)"
            " VALUES ('u', 'h', 1, 1)");
    c0 = cred_of(st, "u");
    assert_true(c0 != 0);
    for (i = 0; i < sizeof(unrelated) / sizeof(unrelated[0]); i++) {
        sql(st, unrelated[i]);
        if (cred_of(st, "u") != c0) {
            fail_msg("credential version moved for: %s", unrelated[i]);
        }
    }
    for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        sql(st, own[i]);
        c = cred_of(st, "u");
        if (c == c0 || c == 0) {
            fail_msg("credential version did not move for: %s", own[i]);
        }
        c0 = c;
    }
    /* Deleted and added again: a new one, whatever the password. */
    sql(st, "DELETE FROM users WHERE name = 'u'");
    sql(st, "INSERT INTO users (name, hash, created, updated)"
            " VALUES ('u', 'new', 1, 1)");
    assert_true(cred_of(st, "u") != c0);
    azs_store_close(st);
}

/* Version 2 had no credential versions: init adds them, a random one a
 * user, and the triggers that keep them. */
static void init_upgrades_version_2(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    const char *err = NULL;
    apr_int64_t c;

    sql(st, "INSERT INTO users (name, hash, created, updated)"
            " VALUES ('kept', 'h', 1, 1)");
    sql(st, "DROP TRIGGER users_ci");
    sql(st, "DROP TRIGGER users_cu");
    sql(st, "ALTER TABLE users DROP COLUMN cred");
    sql(st, "PRAGMA user_version = 2");
    azs_store_close(st);
    if (azs_store_init(fx->db, fx->pool, &err) != AZS_RC_OK) {
        fail_msg("init: %s", err);
    }
    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_OK);
    c = cred_of(st, "kept");
    assert_true(c != 0);
    sql(st, "UPDATE users SET hash = 'h2' WHERE name = 'kept'");
    assert_true(cred_of(st, "kept") != c);
    azs_store_close(st);
}

/* Copies src over dst in place, as cp does: same inode, new content. */
static void copy_over(const char *src, const char *dst)
{
    char buf[8192];
    size_t n;
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "r+b");

    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    fclose(out);
}

static apr_int64_t write_and_read_gen(unit_fx *fx, const char *q)
{
    azs_store_t *st = NULL;
    const char *err = NULL;
    apr_int64_t gen = 0;

    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_OK);
    sql(st, q);
    assert_int_equal(azs_store_generation(st, &gen), AZS_RC_OK);
    sql(st, "PRAGMA wal_checkpoint(TRUNCATE)");
    azs_store_close(st);
    return gen;
}

/* A backup copied back over the live file brings its old generation
 * back; the next write must not land on a generation that caches hold
 * answers for (a counter would: backup at g, write g+1, restore g, write
 * g+1 again, and an answer cached at the first g+1 is revived). */
static void generation_never_repeats_after_restore(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    const char *backup = apr_pstrcat(fx->pool, fx->dir, "/backup.db", NULL);
    apr_int64_t first, again;
    int i;

    sql(st, "PRAGMA wal_checkpoint(TRUNCATE)");
    azs_store_close(st);
    copy_over(fx->db, (fclose(fopen(backup, "wb")), backup));
    for (i = 0; i < 20; i++) {
        first = write_and_read_gen(fx, "INSERT INTO roles (name) "
                                       "VALUES ('r')");
        copy_over(backup, fx->db);
        again = write_and_read_gen(fx, "INSERT INTO roles (name) "
                                       "VALUES ('r')");
        assert_true(first != again);
        copy_over(backup, fx->db);
    }
}

extern const char azs_schema_sql[];

/* How many triggers sql/schema.sql makes. */
static int schema_triggers(void)
{
    const char *p = azs_schema_sql;
    int n = 0;

    while ((p = strstr(p, "CREATE TRIGGER")) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* A database of version 1 (counted generations) is upgraded in place by
 * init: the same data, random generations from then on. */
static void init_upgrades_version_1(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    const char *err = NULL;
    apr_int64_t g0 = 0, g1 = 0;
    sqlite3_stmt *s;

    sql(st, "INSERT INTO roles (name) VALUES ('kept')");
    sql(st, "DROP TRIGGER roles_gi");
    sql(st, "CREATE TRIGGER roles_gi AFTER INSERT ON roles BEGIN "
            "UPDATE meta SET value = value + 1 WHERE key = 'generation'; "
            "END");
    sql(st, "PRAGMA user_version = 1");
    azs_store_close(st);
    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_non_null(strstr(err, "schema version 1"));
    if (azs_store_init(fx->db, fx->pool, &err) != AZS_RC_OK) {
        fail_msg("init: %s", err);
    }
    st = unit_store(fx);
    assert_int_equal(azs_store_generation(st, &g0), AZS_RC_OK);
    sql(st, "INSERT INTO roles (name) VALUES ('new')");
    assert_int_equal(azs_store_generation(st, &g1), AZS_RC_OK);
    assert_true(g1 != g0);
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "SELECT count(*) FROM sqlite_master WHERE type = "
                     "'trigger' AND sql LIKE '%value + 1%'", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "SELECT count(*) FROM sqlite_master WHERE type = "
                     "'trigger'", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), schema_triggers());
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "SELECT count(*) FROM roles WHERE name = 'kept'", -1,
                     &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    azs_store_close(st);
}

/* cp -p of a backup keeps size and mtime; the change time still moves. */
static void stale_after_copy_keeping_mtime(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx), *ro = NULL;
    const char *err = NULL;
    struct stat sb;
    struct timespec times[2];

    sql(st, "PRAGMA wal_checkpoint(TRUNCATE)");
    azs_store_close(st);
    assert_int_equal(stat(fx->db, &sb), 0);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_false(azs_store_stale(ro));
    usleep(20000);
    copy_over(fx->db, fx->db);            /* same bytes, written again */
    times[0] = sb.st_atim;
    times[1] = sb.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, fx->db, times, 0), 0);
    assert_true(azs_store_stale(ro));
    azs_store_close(ro);
}

static void readonly_handle_cannot_write(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx), *ro = NULL;
    const char *err = NULL;

    azs_store_close(st);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(sqlite3_exec(azs_store_db(ro),
                     "INSERT INTO roles (name) VALUES ('x')", NULL, NULL,
                     NULL), SQLITE_READONLY);
}

/* httpd's handles keep a small page cache, whatever the database size. */
static void readonly_handle_has_a_small_page_cache(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx), *ro = NULL;
    const char *err = NULL;
    sqlite3_stmt *s;

    azs_store_close(st);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(ro),
                     "PRAGMA cache_size", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), -AZS_READ_CACHE_KB);
    sqlite3_finalize(s);
}

static void generation_bumps_on_every_table(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    static const char *const writes[] = {
        "INSERT INTO users (name, hash, created, updated)"
        " VALUES ('u', 'h', 1, 1)",
        "UPDATE users SET disabled = 1",
        "INSERT INTO roles (name) VALUES ('r'), ('s')",
        "INSERT INTO role_inherits VALUES (1, 2)",
        "INSERT INTO permissions (name) VALUES ('p')",
        "UPDATE permissions SET name = 'q'",
        "INSERT INTO role_permissions VALUES (1, 1)",
        "INSERT INTO user_roles VALUES (1, 1)",
        "INSERT INTO tokens (hash, user_id, created) VALUES (x'00', 1, 1)",
        "UPDATE tokens SET revoked = 5",
        "INSERT INTO token_scopes VALUES (1, 'q')",
        "DELETE FROM token_scopes",
        "INSERT INTO blocklist (net, bits, text, created)"
        " VALUES (x'00', 0, '::/0', 1)",
        "DELETE FROM user_roles",
        "DELETE FROM users"
    };
    apr_int64_t before, after;
    size_t i;

    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        assert_int_equal(azs_store_generation(st, &before), AZS_RC_OK);
        sql(st, writes[i]);
        assert_int_equal(azs_store_generation(st, &after), AZS_RC_OK);
        if (after == before) {
            fail_msg("no generation bump for: %s", writes[i]);
        }
    }
}

/* What httpd does at the start of a request that has no transaction: a
 * real read of the generation, in a read transaction. */
static apr_int64_t real_read(azs_store_t *ro)
{
    apr_int64_t gen = -1;

    assert_int_equal(azs_store_read_begin(ro), 1);
    assert_int_equal(azs_store_generation(ro, &gen), AZS_RC_OK);
    azs_store_read_end(ro);
    return gen;
}

/* The property httpd relies on: whenever the handle says nothing changed,
 * the generation it gives is the file's generation now. */
static int check_unchanged(azs_store_t *ro, azs_store_t *rw)
{
    apr_int64_t fast = -1, now = -2;

    if (!azs_store_unchanged(ro, &fast)) {
        return 0;
    }
    assert_int_equal(azs_store_generation(rw, &now), AZS_RC_OK);
    assert_int_equal(fast, now);
    return 1;
}

/* A write by another process, as htauthz makes one: its own connection,
 * closed when it exits. */
static void write_elsewhere(const char *path, const char *q)
{
    pid_t pid = fork();
    int status = -1;

    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

        sqlite3_busy_timeout(db, 2000);
        if (rc == SQLITE_OK) {
            rc = sqlite3_exec(db, q, NULL, NULL, NULL);
        }
        sqlite3_close(db);
        _exit(rc == SQLITE_OK ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void unchanged_until_a_commit(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *rw = unit_store(fx), *ro = NULL;
    const char *err = NULL;
    apr_int64_t g1, g2, fast = -1;

    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    /* Nothing read yet: it cannot tell. */
    assert_int_equal(azs_store_unchanged(ro, &fast), 0);
    real_read(ro);                 /* finds the WAL-index */
    g1 = real_read(ro);            /* remembers its header */
    assert_int_equal(check_unchanged(ro, rw), 1);
    assert_int_equal(check_unchanged(ro, rw), 1);

    /* A commit by another handle of this process. */
    sql(rw, "INSERT INTO roles (name) VALUES ('a')");
    assert_int_equal(check_unchanged(ro, rw), 0);
    g2 = real_read(ro);
    assert_true(g2 != g1);
    assert_int_equal(check_unchanged(ro, rw), 1);

    /* A transaction rolled back changes nothing. */
    sql(rw, "BEGIN IMMEDIATE");
    sql(rw, "INSERT INTO roles (name) VALUES ('b')");
    sql(rw, "ROLLBACK");
    assert_int_equal(check_unchanged(ro, rw), 1);

    /* Commits by other processes (htauthz), also after checkpoints that
     * restart the WAL: never a stale "unchanged". */
    write_elsewhere(fx->db, "INSERT INTO roles (name) VALUES ('c')");
    assert_int_equal(check_unchanged(ro, rw), 0);
    assert_true(real_read(ro) != g2);
    assert_int_equal(check_unchanged(ro, rw), 1);
    sql(rw, "PRAGMA wal_checkpoint(TRUNCATE)");
    check_unchanged(ro, rw);
    real_read(ro);
    write_elsewhere(fx->db, "UPDATE roles SET name = 'd' WHERE name = 'c'");
    assert_int_equal(check_unchanged(ro, rw), 0);
    real_read(ro);
    assert_int_equal(check_unchanged(ro, rw), 1);
    write_elsewhere(fx->db, "PRAGMA wal_checkpoint(RESTART);"
                    "DELETE FROM roles WHERE name = 'd'");
    assert_int_equal(check_unchanged(ro, rw), 0);

    /* A failed read forgets what it knew. */
    real_read(ro);
    assert_int_equal(check_unchanged(ro, rw), 1);
    sql(rw, "DELETE FROM meta WHERE key = 'generation'");
    assert_int_equal(azs_store_read_begin(ro), 1);
    assert_int_equal(azs_store_generation(ro, &fast), AZS_RC_DBERR);
    azs_store_read_end(ro);
    assert_int_equal(azs_store_unchanged(ro, &fast), 0);
}

/* Without a WAL-index (rollback journal), every request reads. */
static void unchanged_needs_wal_mode(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *rw = unit_store(fx), *ro = NULL;
    const char *err = NULL;
    apr_int64_t fast = -1;

    sql(rw, "PRAGMA journal_mode = DELETE");
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    real_read(ro);
    real_read(ro);
    assert_int_equal(azs_store_unchanged(ro, &fast), 0);
}

static void user_get_found_and_not(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_user_t u;

    sql(st, "INSERT INTO users (name, hash, disabled, expires, created,"
            " updated) VALUES ('Bob', '{SHA}x', 1, 42, 7, 8)");
    assert_int_equal(azs_user_get(st, "Bob", &u, fx->pool), AZS_RC_OK);
    assert_string_equal(u.name, "Bob");
    assert_string_equal(u.hash, "{SHA}x");
    assert_int_equal(u.disabled, 1);
    assert_int_equal(u.expires, 42);
    /* names are case-sensitive */
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_NOTFOUND);
}

static void effective_roles_follow_inheritance(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_hash_t *roles, *perms;

    /* admin > editor > reader; admin > auditor; stray is not held */
    sql(st, "INSERT INTO users (id, name, hash, created, updated)"
            " VALUES (1, 'alice', 'h', 1, 1), (2, 'bob', 'h', 1, 1)");
    sql(st, "INSERT INTO roles (id, name) VALUES (1, 'admin'),"
            " (2, 'editor'), (3, 'reader'), (4, 'auditor'), (5, 'stray')");
    sql(st, "INSERT INTO role_inherits VALUES (1, 2), (2, 3), (1, 4),"
            " (5, 1)");
    sql(st, "INSERT INTO permissions (id, name) VALUES (1, 'docs:read'),"
            " (2, 'docs:write'), (3, 'logs:read'), (4, 'nuke')");
    sql(st, "INSERT INTO role_permissions VALUES (3, 1), (2, 2), (4, 3),"
            " (5, 4)");
    sql(st, "INSERT INTO user_roles VALUES (1, 1), (2, 3)");

    assert_int_equal(azs_user_effective(st, 1, fx->pool, &roles, &perms),
                     AZS_RC_OK);
    assert_int_equal(apr_hash_count(roles), 4);
    assert_string_equal(apr_hash_get(roles, "admin", APR_HASH_KEY_STRING),
                        "admin");
    assert_string_equal(apr_hash_get(roles, "reader", APR_HASH_KEY_STRING),
                        "admin > editor > reader");
    assert_null(apr_hash_get(roles, "stray", APR_HASH_KEY_STRING));
    assert_int_equal(apr_hash_count(perms), 3);
    assert_string_equal(apr_hash_get(perms, "docs:read",
                                     APR_HASH_KEY_STRING),
                        "admin > editor > reader");
    assert_non_null(apr_hash_get(perms, "logs:read", APR_HASH_KEY_STRING));
    assert_null(apr_hash_get(perms, "nuke", APR_HASH_KEY_STRING));

    /* bob holds reader only: inheritance does not flow downwards */
    assert_int_equal(azs_user_effective(st, 2, fx->pool, &roles, &perms),
                     AZS_RC_OK);
    assert_int_equal(apr_hash_count(roles), 1);
    assert_int_equal(apr_hash_count(perms), 1);
    assert_null(apr_hash_get(perms, "docs:write", APR_HASH_KEY_STRING));
}

static void diamond_inheritance_counts_once(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_hash_t *roles, *perms;

    sql(st, "INSERT INTO users (id, name, hash, created, updated)"
            " VALUES (1, 'a', 'h', 1, 1)");
    sql(st, "INSERT INTO roles (id, name) VALUES (1, 'top'), (2, 'l'),"
            " (3, 'r'), (4, 'base')");
    sql(st, "INSERT INTO role_inherits VALUES (1, 2), (1, 3), (2, 4),"
            " (3, 4)");
    sql(st, "INSERT INTO user_roles VALUES (1, 1)");
    assert_int_equal(azs_user_effective(st, 1, fx->pool, &roles, &perms),
                     AZS_RC_OK);
    assert_int_equal(apr_hash_count(roles), 4);
}

static void token_get_with_scopes(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    unsigned char h[32];
    azs_token_t t;
    sqlite3_stmt *s;

    azs_token_hash(h, "azs_example");
    sql(st, "INSERT INTO users (id, name, hash, created, updated)"
            " VALUES (1, 'svc', 'h', 1, 1)");
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "INSERT INTO tokens (id, hash, user_id, label, created,"
                     " expires) VALUES (9, ?1, 1, 'ci', 5, 77)", -1, &s,
                     NULL), SQLITE_OK);
    sqlite3_bind_blob(s, 1, h, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sql(st, "INSERT INTO token_scopes VALUES (9, 'api:call'),"
            " (9, 'api:read')");

    assert_int_equal(azs_token_get(st, h, &t, fx->pool), AZS_RC_OK);
    assert_int_equal(t.id, 9);
    assert_string_equal(t.user, "svc");
    assert_string_equal(t.label, "ci");
    assert_int_equal(t.expires, 77);
    assert_int_equal(t.revoked, 0);
    assert_int_equal(t.scopes->nelts, 2);
    h[0] ^= 1;
    assert_int_equal(azs_token_get(st, h, &t, fx->pool), AZS_RC_NOTFOUND);
}

static void block(azs_store_t *st, const char *cidr, const char *reason,
                  apr_int64_t expires)
{
    azs_cidr_t c;
    sqlite3_stmt *s;

    assert_null(azs_cidr_parse(cidr, &c));
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "INSERT INTO blocklist (net, bits, text, reason,"
                     " created, expires) VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                     -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_blob(s, 1, c.net, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, c.bits);
    sqlite3_bind_text(s, 3, cidr, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, expires);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

static int blocked(azs_store_t *st, apr_pool_t *p, const char *ip,
                   apr_int64_t now, const char **text)
{
    azs_cidr_t a;
    azs_block_t b;
    azs_rc rc;

    assert_null(azs_addr_parse(ip, &a));
    rc = azs_block_match(st, a.net, now, &b, p);
    assert_true(rc == AZS_RC_OK || rc == AZS_RC_NOTFOUND);
    if (text) {
        *text = rc == AZS_RC_OK ? b.text : NULL;
    }
    return rc == AZS_RC_OK;
}

static void blocklist_matches_nested_ranges(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    const char *text;

    block(st, "10.0.0.0/8", "wide", 0);
    block(st, "10.1.2.0/24", "narrow", 100);      /* expires at 100 */
    block(st, "10.1.2.3", "host", 0);
    block(st, "2001:db8::/32", "v6", 0);
    block(st, "192.0.2.77", "one", 0);

    assert_true(blocked(st, fx->pool, "10.1.2.3", 50, &text));
    assert_string_equal(text, "10.1.2.3");
    assert_true(blocked(st, fx->pool, "10.1.2.4", 50, &text));
    assert_string_equal(text, "10.1.2.0/24");
    /* the /24 expired: the /8 around it still holds */
    assert_true(blocked(st, fx->pool, "10.1.2.4", 100, &text));
    assert_string_equal(text, "10.0.0.0/8");
    assert_true(blocked(st, fx->pool, "2001:db8:ffff::1", 50, NULL));
    assert_true(blocked(st, fx->pool, "::ffff:192.0.2.77", 50, NULL));
    assert_false(blocked(st, fx->pool, "11.0.0.1", 50, NULL));
    assert_false(blocked(st, fx->pool, "192.0.2.78", 50, NULL));
    assert_false(blocked(st, fx->pool, "2001:db9::1", 50, NULL));
    /* a later write is seen by the same handle (new prefix length) */
    block(st, "11.0.0.0/16", "later", 0);
    assert_true(blocked(st, fx->pool, "11.0.0.1", 50, &text));
    assert_string_equal(text, "11.0.0.0/16");
}

static void blocklist_lookup_at_scale(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    sqlite3_stmt *s;
    unsigned char net[16] = {0};
    int i;

    /* 100,000 host entries in 10.0.0.0/8 plus a few ranges */
    sql(st, "BEGIN");
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "INSERT INTO blocklist (net, bits, text, created)"
                     " VALUES (?1, 128, ?2, 1)", -1, &s, NULL), SQLITE_OK);
    net[10] = net[11] = 0xff;
    net[12] = 10;
    for (i = 0; i < 100000; i++) {
        net[13] = (unsigned char)(i >> 15);
        net[14] = (unsigned char)(i >> 7);
        net[15] = (unsigned char)(i << 1);   /* even addresses only */
        sqlite3_bind_blob(s, 1, net, 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, apr_itoa(fx->pool, i), -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sql(st, "COMMIT");
    block(st, "172.16.0.0/12", "range", 0);

    assert_true(blocked(st, fx->pool, "10.0.0.0", 1, NULL));
    assert_false(blocked(st, fx->pool, "10.0.0.1", 1, NULL));
    assert_true(blocked(st, fx->pool, "172.31.255.255", 1, NULL));
    assert_false(blocked(st, fx->pool, "172.32.0.0", 1, NULL));
    /* The probe count does not grow with the table: one prefix length per
     * probe, each an index lookup (checked through the query plan). */
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "EXPLAIN QUERY PLAN SELECT id FROM blocklist"
                     " WHERE bits = 1 AND net = x'00'", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(s, 3),
                           "INDEX sqlite_autoindex_blocklist_1"
                           " (bits=? AND net=?)"));
    sqlite3_finalize(s);
}

/* A file is data: a view planted in it cannot make htauthz (maybe root)
 * or httpd call an unsafe function, nor can the schema be rewritten. */
static void a_planted_schema_is_not_trusted(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    sqlite3 *raw = NULL;
    char *msg = NULL;
    int rc;

    azs_store_close(st);
    assert_int_equal(sqlite3_open(fx->db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "CREATE VIEW planted AS SELECT "
                                  "load_extension('/nonexistent')",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    st = unit_store(fx);
    rc = sqlite3_exec(azs_store_db(st), "SELECT * FROM planted", NULL, NULL,
                      &msg);
    assert_int_not_equal(rc, SQLITE_OK);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "unsafe use of load_extension"));
    sqlite3_free(msg);
    msg = NULL;
    /* Defensive: the schema cannot be written as a table. */
    sqlite3_exec(azs_store_db(st), "PRAGMA writable_schema = ON", NULL,
                 NULL, NULL);
    rc = sqlite3_exec(azs_store_db(st), "UPDATE sqlite_master SET sql = "
                      "'CREATE TABLE x (y)' WHERE name = 'planted'", NULL,
                      NULL, &msg);
    assert_int_not_equal(rc, SQLITE_OK);
    sqlite3_free(msg);
    azs_store_close(st);
}

static const struct CMUnitTest tests[] = {
    T(init_creates_current_schema),
    T(a_planted_schema_is_not_trusted),
    T(readonly_handle_has_a_small_page_cache),
    T(readonly_open_never_creates),
    T(unknown_version_refused),
    T(uninitialized_file_refused),
    T(corrupt_file_refused),
    T(stale_after_rename_and_delete),
    T(readonly_handle_cannot_write),
    T(generation_bumps_on_every_table),
    T(generation_never_repeats_after_restore),
    T(init_upgrades_version_1),
    T(init_upgrades_version_2),
    T(credential_version_moves_only_with_the_user),
    T(stale_after_copy_keeping_mtime),
    T(unchanged_until_a_commit),
    T(unchanged_needs_wal_mode),
    T(user_get_found_and_not),
    T(effective_roles_follow_inheritance),
    T(diamond_inheritance_counts_once),
    T(token_get_with_scopes),
    T(blocklist_matches_nested_ranges),
    T(blocklist_lookup_at_scale),
};

UNIT_MAIN(tests)
