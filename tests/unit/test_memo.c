/*
 * test_memo.c - what a child remembers of a database (azs_memo.c): a
 * write forgets only what it concerns, a restore or a far-behind feed
 * forgets everything, the budget holds, and entries stay valid while held.
 * Real SQLite files; a reader handle beside the writing one, as in httpd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_thread_proc.h>

#include "unit.h"

static void sql(azs_store_t *st, const char *q)
{
    char *msg = NULL;

    if (sqlite3_exec(azs_store_db(st), q, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", q, msg);
    }
}

static azs_store_t *reader(unit_fx *fx)
{
    const char *err = NULL;
    azs_store_t *ro = NULL;

    if (azs_store_open(&ro, fx->db, 1, 1000, fx->pool, &err) != AZS_RC_OK) {
        fail_msg("open: %s", err);
    }
    return ro;
}

static apr_status_t release_cleanup(void *data)
{
    azs_access_release(data);
    return APR_SUCCESS;
}

/* One request's lookup: its own snapshot, the feed's place read in it.
 * Released with the fixture's pool, as a request's with its own. */
static azs_access_t *look(unit_fx *fx, azs_memo_t *m, azs_store_t *ro,
                          const char *user)
{
    azs_access_t *a = apr_pcalloc(fx->pool, sizeof(*a));
    azs_feed_pos_t pos;
    apr_int64_t gen;

    apr_pool_cleanup_register(fx->pool, a, release_cleanup,
                              apr_pool_cleanup_null);
    assert_int_equal(azs_store_read_begin(ro), 1);
    assert_int_equal(azs_store_generation(ro, &gen), AZS_RC_OK);
    azs_store_feed_pos(ro, &pos);
    if (azs_access_load(m, ro, &pos, 1, NULL, NULL, user, fx->pool, a)
        != AZS_RC_OK) {
        fail_msg("load %s: %s", user, azs_store_error(ro));
    }
    azs_store_read_end(ro);
    return a;
}

/* As the module's requests do: a snapshot begun on the first read. */
static int snap(void *baton, azs_feed_pos_t *pos)
{
    azs_store_t *ro = baton;
    apr_int64_t gen;

    if (!azs_store_in_read(ro) && !azs_store_read_begin(ro)) {
        return -1;
    }
    if (azs_store_generation(ro, &gen) != AZS_RC_OK) {
        return -1;
    }
    azs_store_feed_pos(ro, pos);
    return 0;
}

/* A request on the fast path: its place is the one the handle read last,
 * nothing committed since (as far as it knew), no snapshot yet. */
static azs_access_t *look_fast(unit_fx *fx, azs_memo_t *m, azs_store_t *ro,
                               const azs_feed_pos_t *pos, const char *user)
{
    azs_access_t *a = apr_pcalloc(fx->pool, sizeof(*a));

    apr_pool_cleanup_register(fx->pool, a, release_cleanup,
                              apr_pool_cleanup_null);
    if (azs_access_load(m, ro, pos, 0, snap, ro, user, fx->pool, a)
        != AZS_RC_OK) {
        fail_msg("load %s: %s", user, azs_store_error(ro));
    }
    azs_store_read_end(ro);
    return a;
}

static azs_memo_stats_t stats(azs_memo_t *m)
{
    azs_memo_stats_t s;

    azs_memo_stats(m, &s);
    return s;
}

/* alice: admin (inherits editor: docs:write; editor inherits viewer:
 * docs:read); bob: viewer; carol: ops (ops:run). */
static azs_store_t *fixture(unit_fx *fx)
{
    azs_store_t *st = unit_store(fx);

    sql(st, "INSERT INTO users (name, hash, created, updated) VALUES "
            "('alice', 'h-alice', 1, 1), ('bob', 'h-bob', 1, 1), "
            "('carol', 'h-carol', 1, 1);"
            "INSERT INTO roles (name) VALUES ('admin'), ('editor'), "
            "('viewer'), ('ops');"
            "INSERT INTO role_inherits VALUES (1, 2), (2, 3);"
            "INSERT INTO permissions (name) VALUES ('docs:write'), "
            "('docs:read'), ('ops:run');"
            "INSERT INTO role_permissions VALUES (2, 1), (3, 2), (4, 3);"
            "INSERT INTO user_roles VALUES (1, 1), (2, 3), (3, 4);");
    return st;
}

static void lookups_give_rows_roles_and_chains(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    azs_access_t *a;

    (void)st;
    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    a = look(fx, m, ro, "alice");
    assert_true(a->found);
    assert_string_equal(a->u.hash, "h-alice");
    assert_string_equal(azs_access_find(a, 0, "admin"), "admin");
    assert_string_equal(azs_access_find(a, 0, "viewer"),
                        "admin > editor > viewer");
    assert_string_equal(azs_access_find(a, 1, "docs:read"),
                        "admin > editor > viewer");
    assert_null(azs_access_find(a, 1, "ops:run"));
    assert_null(azs_access_find(a, 0, "ops"));
    /* AuthzStatusExport's list: every effective role once, sorted. */
    assert_string_equal(azs_access_roles(a, fx->pool),
                        "admin editor viewer");
    assert_string_equal(azs_access_roles(look(fx, m, ro, "carol"),
                                         fx->pool), "ops");
    a = look(fx, m, ro, "nobody");
    assert_false(a->found);
    assert_int_equal(a->visits->nelts, 0);
    assert_string_equal(azs_access_roles(a, fx->pool), "");
    assert_null(azs_access_find(a, 0, "admin"));
    /* alice and her three roles, nobody: misses; again: hits for alice,
     * nobody is not remembered */
    assert_int_equal(stats(m).misses, 7);
    look(fx, m, ro, "alice");
    look(fx, m, ro, "nobody");
    assert_int_equal(stats(m).misses, 8);
    assert_int_equal(stats(m).hits, 4);
    azs_memo_destroy(m);
}

/* Two direct roles reaching the same one: the shorter chain. */
static void shortest_chain_over_direct_roles(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;

    sql(st, "INSERT INTO user_roles VALUES (1, 3)");   /* alice: viewer */
    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    assert_string_equal(azs_access_find(look(fx, m, ro, "alice"), 1,
                                        "docs:read"), "viewer");
    /* viewer, held directly and through admin, is named once. */
    assert_string_equal(azs_access_roles(look(fx, m, ro, "alice"),
                                         fx->pool), "admin editor viewer");
    azs_memo_destroy(m);
}

static void a_user_change_forgets_that_user_only(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    azs_access_t *old;
    azs_memo_stats_t s0, s1;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    old = look(fx, m, ro, "alice");
    look(fx, m, ro, "bob");
    look(fx, m, ro, "carol");
    s0 = stats(m);
    sql(st, "UPDATE users SET hash = 'h-alice-2' WHERE name = 'alice'");
    sql(st, "INSERT INTO users (name, hash, created, updated) "
            "VALUES ('dave', 'h', 1, 1)");
    sql(st, "INSERT INTO tokens (hash, user_id, created) "
            "VALUES (x'00', 2, 1)");
    sql(st, "INSERT INTO blocklist (net, bits, text, created) "
            "VALUES (zeroblob(16), 128, '::', 1)");
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "h-alice-2");
    look(fx, m, ro, "bob");
    look(fx, m, ro, "carol");
    s1 = stats(m);
    /* alice's row again; her roles, bob and carol: still known */
    assert_int_equal(s1.misses - s0.misses, 1);
    assert_int_equal(s1.forgotten - s0.forgotten, 1);
    assert_int_equal(s1.flushes, s0.flushes);
    /* the entry a request still holds is intact */
    assert_string_equal(old->u.hash, "h-alice");
    azs_access_release(old);
    /* a role granted to bob: bob's row again, not the role (carol's) */
    sql(st, "INSERT INTO user_roles VALUES (2, 4)");
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 1, "ops:run"),
                        "ops");
    assert_int_equal(stats(m).misses - s1.misses, 1);
    /* deleted: unknown at once */
    sql(st, "DELETE FROM users WHERE name = 'carol'");
    assert_false(look(fx, m, ro, "carol")->found);
    azs_memo_destroy(m);
}

static void a_grant_forgets_that_role_only(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    azs_memo_stats_t s0, s1;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    look(fx, m, ro, "alice");
    look(fx, m, ro, "bob");
    look(fx, m, ro, "carol");
    s0 = stats(m);
    /* viewer gains ops:run: viewer is read again, once, for alice (who
     * inherits it) and bob (who holds it); no user row, no other role */
    sql(st, "INSERT INTO role_permissions VALUES (3, 3)");
    assert_string_equal(azs_access_find(look(fx, m, ro, "alice"), 1,
                                        "ops:run"),
                        "admin > editor > viewer");
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 1,
                                        "ops:run"), "viewer");
    look(fx, m, ro, "carol");
    s1 = stats(m);
    assert_int_equal(s1.forgotten - s0.forgotten, 1);
    assert_int_equal(s1.misses - s0.misses, 1);
    /* inheritance removed: editor no longer gives viewer */
    sql(st, "DELETE FROM role_inherits WHERE role_id = 2");
    assert_null(azs_access_find(look(fx, m, ro, "alice"), 1, "docs:read"));
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 1,
                                        "docs:read"), "viewer");
    /* a renamed permission: every role */
    sql(st, "UPDATE permissions SET name = 'docs:get' WHERE "
            "name = 'docs:read'");
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 1,
                                        "docs:get"), "viewer");
    /* a renamed role */
    sql(st, "UPDATE roles SET name = 'reader' WHERE name = 'viewer'");
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 0,
                                        "reader"), "reader");
    /* a deleted role: its members lose it */
    sql(st, "DELETE FROM roles WHERE name = 'ops'");
    assert_null(azs_access_find(look(fx, m, ro, "carol"), 1, "ops:run"));
    assert_int_equal(stats(m).flushes, s1.flushes);
    azs_memo_destroy(m);
}

static void copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "r+b");
    size_t n;

    if (!out) {
        out = fopen(to, "wb");
    }
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    assert_int_equal(ftruncate(fileno(out), ftell(out)), 0);
    fclose(in);
    fclose(out);
}

/* A restore by cp (same inode), then new writes reaching the same feed
 * place as before the restore: nothing remembered from the lost history
 * is given out. */
static void a_restore_forgets_everything(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro;
    const char *backup = apr_pstrcat(fx->pool, fx->dir, "/backup.db", NULL);
    azs_memo_t *m;
    azs_access_t *a;
    apr_int64_t gen;

    sql(st, "PRAGMA wal_checkpoint(TRUNCATE)");
    copy_file(fx->db, backup);
    sql(st, "UPDATE users SET hash = 'lost' WHERE name = 'alice'");
    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    ro = reader(fx);
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "lost");
    azs_store_close(ro);
    azs_store_close(st);
    copy_file(backup, fx->db);
    unlink(apr_pstrcat(fx->pool, fx->db, "-wal", NULL));
    unlink(apr_pstrcat(fx->pool, fx->db, "-shm", NULL));
    ro = reader(fx);
    /* behind the memo: each request reads for itself, and answers from
     * the restored file */
    {
        azs_feed_pos_t pos;
        int i;

        assert_int_equal(azs_store_generation(ro, &gen), AZS_RC_OK);
        azs_store_feed_pos(ro, &pos);
        a = look_fast(fx, m, ro, &pos, "alice");
        assert_string_equal(a->u.hash, "h-alice");
        assert_int_equal(stats(m).flushes, 1);
        /* ... until it is clear that nobody is ahead any more: the memo
         * forgets everything and starts from the restored place */
        for (i = 0; i < 64; i++) {
            assert_string_equal(look_fast(fx, m, ro, &pos, "alice")->u.hash,
                                "h-alice");
        }
        assert_int_equal(stats(m).flushes, 2);
        assert_int_equal(look_fast(fx, m, ro, &pos, "alice")->hits, 4);
    }
    /* the same place in the feed as before a restore, another history */
    azs_store_close(ro);
    st = unit_store(fx);
    sql(st, "PRAGMA wal_checkpoint(TRUNCATE)");
    copy_file(fx->db, backup);
    sql(st, "UPDATE users SET hash = 'x1' WHERE name = 'alice'");
    ro = reader(fx);
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "x1");
    azs_store_close(ro);
    azs_store_close(st);
    copy_file(backup, fx->db);
    unlink(apr_pstrcat(fx->pool, fx->db, "-wal", NULL));
    unlink(apr_pstrcat(fx->pool, fx->db, "-shm", NULL));
    st = unit_store(fx);
    sql(st, "UPDATE users SET hash = 'x2' WHERE name = 'alice'");
    ro = reader(fx);
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "x2");
    assert_int_equal(stats(m).flushes, 3);
    azs_memo_destroy(m);
}

static void far_behind_forgets_everything(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    int i;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    look(fx, m, ro, "alice");
    sql(st, "BEGIN");
    for (i = 0; i < 5000; i++) {
        sql(st, "UPDATE users SET disabled = 1 - disabled "
                "WHERE name = 'carol'");
    }
    sql(st, "COMMIT");
    look(fx, m, ro, "alice");
    assert_int_equal(stats(m).flushes, 2);
    /* the feed keeps its last 65,536 rows only */
    sql(st, "BEGIN");
    for (i = 0; i < 70000; i++) {
        sql(st, "UPDATE users SET disabled = 1 - disabled "
                "WHERE name = 'carol'");
    }
    sql(st, "COMMIT");
    {
        int n = 0;

        assert_int_equal(azs_sqlite_int(azs_store_db(st),
                         "SELECT count(*) FROM changes", &n), SQLITE_OK);
        assert_int_equal(n, 65536);
    }
    azs_memo_destroy(m);
}

static void the_budget_holds_and_held_entries_stay(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    azs_access_t *first;
    char name[32];
    int i;

    sql(st, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 2000) INSERT INTO users (name, hash, created, "
            "updated) SELECT 'u' || i, 'hash-of-u' || i, 1, 1 FROM n");
    assert_int_equal(azs_memo_create(&m, 64 * 1024), AZS_RC_OK);
    first = look(fx, m, ro, "alice");
    for (i = 1; i <= 2000; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        azs_access_release(look(fx, m, ro, name));
        assert_true(stats(m).bytes <= 64 * 1024);
    }
    assert_true(stats(m).evictions > 1000);
    assert_true(stats(m).entries > 100);
    /* evicted long ago, still held: intact */
    assert_string_equal(first->u.hash, "h-alice");
    assert_string_equal(azs_access_find(first, 0, "viewer"),
                        "admin > editor > viewer");
    azs_access_release(first);
    azs_memo_destroy(m);
}

/* Threads reading through one memo while a writer changes passwords:
 * once the writer is done, every thread sees every last password. */
typedef struct {
    unit_fx *fx;
    azs_memo_t *m;
    int id;
    volatile int *stop;
    int wrong;
} worker_arg;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_arg *w = data;
    apr_pool_t *p;
    azs_store_t *ro = NULL;
    const char *err;
    char name[16], want[32];
    int i, round;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    if (azs_store_open(&ro, w->fx->db, 1, 5000, p, &err) != AZS_RC_OK) {
        w->wrong = -1;
        return NULL;
    }
    for (round = 0; round < 2; round++) {
        for (i = 0; (round == 0 && !*w->stop) || (round == 1 && i < 50);
             i++) {
            azs_access_t a;
            azs_feed_pos_t pos;
            apr_int64_t gen;

            memset(&a, 0, sizeof(a));
            snprintf(name, sizeof(name), "u%d", (i * 7 + w->id) % 50 + 1);
            azs_store_read_begin(ro);
            if (azs_store_generation(ro, &gen) != AZS_RC_OK) {
                w->wrong++;
                azs_store_read_end(ro);
                continue;
            }
            azs_store_feed_pos(ro, &pos);
            if (azs_access_load(w->m, ro, &pos, 1, NULL, NULL, name, p, &a)
                != AZS_RC_OK || !a.found) {
                w->wrong++;
            }
            else if (round == 1) {
                snprintf(want, sizeof(want), "final-%s", name);
                w->wrong += strcmp(a.u.hash, want) != 0;
            }
            azs_access_release(&a);
            azs_store_read_end(ro);
        }
    }
    azs_store_close(ro);
    apr_pool_destroy(p);
    /* Returns rather than apr_thread_exit(): pthread_exit's unwinding
     * trips AddressSanitizer's check of the thread's stack. */
    (void)t;
    return NULL;
}

static void threads_share_one_memo(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx);
    azs_memo_t *m;
    apr_thread_t *th[4];
    worker_arg w[4];
    volatile int stop = 0;
    apr_status_t rv;
    char q[128];
    int i;

    sql(st, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 50) INSERT INTO users (name, hash, created, "
            "updated) SELECT 'u' || i, 'first', 1, 1 FROM n");
    assert_int_equal(azs_memo_create(&m, 8 * 1024), AZS_RC_OK);
    for (i = 0; i < 4; i++) {
        w[i].fx = fx;
        w[i].m = m;
        w[i].id = i;
        w[i].stop = &stop;
        w[i].wrong = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, worker, &w[i],
                                           fx->pool), APR_SUCCESS);
    }
    for (i = 0; i < 300; i++) {
        snprintf(q, sizeof(q), "UPDATE users SET hash = 'h%d' WHERE "
                 "name = 'u%d'", i, i % 50 + 1);
        sql(st, q);
    }
    sql(st, "UPDATE users SET hash = 'final-' || name");
    stop = 1;
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
        assert_int_equal(w[i].wrong, 0);
    }
    azs_memo_destroy(m);
}

static void init_upgrades_version_3(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro;
    const char *err = NULL;
    azs_memo_t *m;

    sql(st, "DROP TABLE changes; DROP TRIGGER IF EXISTS users_fu;"
            "PRAGMA user_version = 3");
    azs_store_close(st);
    assert_int_equal(azs_store_init(fx->db, fx->pool, &err), AZS_RC_OK);
    st = unit_store(fx);
    ro = reader(fx);
    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "h-alice");
    sql(st, "UPDATE users SET hash = 'after' WHERE name = 'alice'");
    assert_string_equal(look(fx, m, ro, "alice")->u.hash, "after");
    assert_int_equal(stats(m).forgotten, 1);
    azs_memo_destroy(m);
}

/* A request on the fast path whose place was read just before two
 * commits (a permission revoked from ops, then ops given to alice) must
 * not see alice holding ops with ops:run: a state no commit ever made. */
static void one_lookup_one_state(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    azs_feed_pos_t pos;
    azs_access_t *a;
    apr_int64_t gen;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    assert_non_null(azs_access_find(look(fx, m, ro, "carol"), 1, "ops:run"));
    look(fx, m, ro, "carol");
    assert_int_equal(azs_store_unchanged(ro, &gen), 1);
    azs_store_feed_pos(ro, &pos);
    sql(st, "DELETE FROM role_permissions WHERE role_id = 4");
    sql(st, "INSERT INTO user_roles VALUES (1, 4)");
    a = look_fast(fx, m, ro, &pos, "alice");
    assert_string_equal(azs_access_find(a, 0, "ops"), "ops");
    assert_null(azs_access_find(a, 1, "ops:run"));
    azs_memo_destroy(m);
}

/* A request whose place is older than the memo's (another thread caught
 * up meanwhile) reads for itself: the memo forgets nothing. */
static void a_reader_behind_does_not_flush(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx), *ro2 = reader(fx);
    azs_memo_t *m;
    azs_feed_pos_t pos;
    azs_memo_stats_t s0;
    apr_int64_t gen;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    look(fx, m, ro, "carol");
    look(fx, m, ro, "alice");
    look(fx, m, ro, "bob");
    assert_int_equal(azs_store_unchanged(ro, &gen), 1);
    azs_store_feed_pos(ro, &pos);
    sql(st, "INSERT INTO blocklist (net, bits, text, created) "
            "VALUES (zeroblob(16), 8, 'x', 1)");
    look(fx, m, ro2, "alice");          /* another thread: the memo moves */
    s0 = stats(m);
    assert_true(look_fast(fx, m, ro, &pos, "alice")->found);
    assert_int_equal(stats(m).flushes, s0.flushes);
    assert_int_equal(stats(m).entries, s0.entries);
    azs_memo_destroy(m);
}

/* Writes by hand (sqlite3) that htauthz never makes still reach the
 * feed: INSERT OR REPLACE (no delete trigger fires for the row it
 * replaces), a permission deleted with foreign keys off, UPDATE of a link
 * table, a user's cred changed alone. */
static void writes_by_hand_reach_the_feed(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    apr_int64_t cred;

    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    assert_true(look(fx, m, ro, "alice")->found);
    assert_non_null(azs_access_find(look(fx, m, ro, "carol"), 1, "ops:run"));
    cred = look(fx, m, ro, "bob")->u.cred;
    sql(st, "INSERT OR REPLACE INTO users (id, name, hash, created, updated)"
            " VALUES (1, 'mallory', 'h-m', 1, 1)");
    assert_false(look(fx, m, ro, "alice")->found);
    sql(st, "PRAGMA foreign_keys = OFF;"
            "DELETE FROM permissions WHERE name = 'ops:run'");
    assert_null(azs_access_find(look(fx, m, ro, "carol"), 1, "ops:run"));
    sql(st, "UPDATE user_roles SET role_id = 4 WHERE user_id = 2");
    assert_null(azs_access_find(look(fx, m, ro, "bob"), 0, "viewer"));
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 0, "ops"),
                        "ops");
    sql(st, "UPDATE users SET cred = 12345 WHERE name = 'bob'");
    assert_true(look(fx, m, ro, "bob")->u.cred != cred);
    sql(st, "INSERT OR REPLACE INTO roles (id, name) VALUES (4, 'ops2')");
    assert_string_equal(azs_access_find(look(fx, m, ro, "bob"), 0, "ops2"),
                        "ops2");
    azs_memo_destroy(m);
}

/* Unknown names are not remembered: any client can make them up. */
static void unknown_users_are_not_remembered(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = fixture(fx), *ro = reader(fx);
    azs_memo_t *m;
    char name[32];
    int i;

    (void)st;
    assert_int_equal(azs_memo_create(&m, 1 << 20), AZS_RC_OK);
    look(fx, m, ro, "alice");
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "nobody%d", i);
        assert_false(look(fx, m, ro, name)->found);
    }
    assert_int_equal(stats(m).entries, 4);  /* alice and her three roles */
    azs_memo_destroy(m);
}

static const struct CMUnitTest tests[] = {
    T(one_lookup_one_state),
    T(a_reader_behind_does_not_flush),
    T(writes_by_hand_reach_the_feed),
    T(unknown_users_are_not_remembered),
    T(lookups_give_rows_roles_and_chains),
    T(shortest_chain_over_direct_roles),
    T(a_user_change_forgets_that_user_only),
    T(a_grant_forgets_that_role_only),
    T(a_restore_forgets_everything),
    T(far_behind_forgets_everything),
    T(the_budget_holds_and_held_entries_stay),
    T(threads_share_one_memo),
    T(init_upgrades_version_3),
};

UNIT_MAIN(tests)
