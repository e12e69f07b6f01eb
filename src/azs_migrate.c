/*
 * azs_migrate.c - creating the database and upgrading older schema
 * versions in place (htauthz init), and reading a file's version.  The
 * schema is sql/schema.sql, compiled in as azs_schema_sql.
 */
#include <string.h>

#include <apr_strings.h>

#include "azs.h"

extern const char azs_schema_sql[];

/* Runs sql in one write transaction, with the audit row a (NULL: none)
 * added in the same one. */
static int exec_txn(sqlite3 *db, const char *sql, const azs_audit_t *a,
                    char **msg)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg);

    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_exec(db, sql, NULL, NULL, msg);
    if (rc == SQLITE_OK && a) {
        rc = azs_audit_add_sqlite(db, a);
    }
    if (rc == SQLITE_OK) {
        return sqlite3_exec(db, "COMMIT", NULL, NULL, msg);
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Version 4 had no audit trail: schema.sql's section that makes it, and
 * nothing else (no trigger changes; no cache needs to forget anything). */
static int upgrade_4(sqlite3 *db, const azs_audit_t *a, char **msg)
{
    const char *start = strstr(azs_schema_sql, "\n-- the audit trail");
    const char *end = start ? strstr(start, "\n-- end of the audit trail")
                            : NULL;
    char *sql;
    int rc;

    if (!end) {
        return SQLITE_INTERNAL;
    }
    sql = sqlite3_mprintf("%.*sPRAGMA user_version = %d;",
                          (int)(end - start), start, AZS_SCHEMA_VERSION);
    if (!sql) {
        return SQLITE_NOMEM;
    }
    rc = exec_txn(db, sql, a, msg);
    sqlite3_free(sql);
    return rc;
}

/* Upgrades a database of version 1 to 3 in one transaction.  Version 1
 * counted generations (value + 1); version 2 had no credential versions
 * (users.cred); version 3 had no change feed (changes).  Everything after
 * schema.sql's "-- triggers" line is run again (the feed's and the audit
 * trail's tables are created there if missing) after every trigger is
 * dropped; the generation and every user's cred get a new random value. */
static int upgrade(sqlite3 *db, const azs_audit_t *a, char **msg)
{
    static const char *const names[] = {
        "users", "roles", "role_inherits", "permissions",
        "role_permissions", "user_roles", "tokens", "token_scopes",
        "blocklist"
    };
    const char *triggers = strstr(azs_schema_sql, "\n-- triggers");
    const char *end = triggers ? strstr(triggers, "PRAGMA user_version")
                               : NULL;
    int has_cred = 0, rc;
    char *sql = NULL, *drops;
    size_t i;

    rc = azs_sqlite_int(db, "SELECT count(*) FROM pragma_table_info('users')"
                        " WHERE name = 'cred'", &has_cred);
    if (rc != SQLITE_OK) {
        return rc;
    }
    drops = sqlite3_mprintf(
        "%sDROP TRIGGER IF EXISTS users_ci; DROP TRIGGER IF EXISTS users_cu;"
        "DROP TRIGGER IF EXISTS changes_trim;",
        has_cred ? "" : "ALTER TABLE users ADD COLUMN cred INTEGER NOT NULL "
                        "DEFAULT 0;");

    for (i = 0; drops && i < sizeof(names) / sizeof(names[0]); i++) {
        char *more = sqlite3_mprintf("%sDROP TRIGGER IF EXISTS %s_gi;"
                                     "DROP TRIGGER IF EXISTS %s_gu;"
                                     "DROP TRIGGER IF EXISTS %s_gd;"
                                     "DROP TRIGGER IF EXISTS %s_fi;"
                                     "DROP TRIGGER IF EXISTS %s_fu;"
                                     "DROP TRIGGER IF EXISTS %s_fd;"
                                     "DROP TRIGGER IF EXISTS %s_fb;",
                                     drops, names[i], names[i], names[i],
                                     names[i], names[i], names[i], names[i]);

        sqlite3_free(drops);
        drops = more;
    }
    if (drops && end) {
        sql = sqlite3_mprintf("%s%.*s"
                              "UPDATE users SET cred = "
                              "(random() & 0x3fffffffffffffff) + 1;"
                              "UPDATE meta SET value = "
                              "(random() & 0x3fffffffffffffff) + 1 "
                              "WHERE key = 'generation';"
                              "PRAGMA user_version = %d;", drops,
                              (int)(end - triggers), triggers,
                              AZS_SCHEMA_VERSION);
    }
    sqlite3_free(drops);
    if (!sql) {
        return SQLITE_NOMEM;
    }
    rc = exec_txn(db, sql, a, msg);
    sqlite3_free(sql);
    return rc;
}

azs_rc azs_store_init(const char *path, apr_pool_t *p, const char **err)
{
    return azs_store_init_audit(path, NULL, p, err);
}

azs_rc azs_store_init_audit(const char *path, const azs_audit_t *a,
                            apr_pool_t *p, const char **err)
{
    sqlite3 *db = NULL;
    int rc, version = -1;
    char *msg = NULL;

    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        *err = apr_psprintf(p, "cannot create %s: %s", path,
                            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return AZS_RC_DBERR;
    }
    azs_sqlite_harden(db);
    sqlite3_busy_timeout(db, 5000);
    rc = azs_sqlite_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK && version == 0) {
        /* A new file (or an empty one): the whole schema, at once.  The
         * journal mode cannot change inside a transaction, so it is set
         * first; schema.sql repeats it for readers of the file. */
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg);
        if (rc == SQLITE_OK) {
            sqlite3_free(msg);
            msg = NULL;
            rc = exec_txn(db, azs_schema_sql, a, &msg);
        }
    }
    else if (rc == SQLITE_OK && version == 4) {
        rc = upgrade_4(db, a, &msg);
    }
    else if (rc == SQLITE_OK && version >= 1
             && version < AZS_SCHEMA_VERSION) {
        rc = upgrade(db, a, &msg);
    }
    else if (rc == SQLITE_OK && version != AZS_SCHEMA_VERSION) {
        *err = apr_psprintf(p, "%s has schema version %d, this build "
                            "knows %d", path, version, AZS_SCHEMA_VERSION);
        sqlite3_close_v2(db);
        return AZS_RC_INVALID;
    }
    if (rc != SQLITE_OK) {
        *err = apr_psprintf(p, "cannot initialize %s: %s", path,
                            msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close_v2(db);
        return AZS_RC_DBERR;
    }
    sqlite3_free(msg);
    sqlite3_close_v2(db);
    return AZS_RC_OK;
}

/* Read-only and outside azs_store_open, which refuses any version but the
 * current one: this is how htauthz init tells an upgrade from a database
 * that was already current. */
int azs_store_version(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int version = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
        && (azs_sqlite_harden(db), sqlite3_busy_timeout(db, 5000)) == SQLITE_OK
        && sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL)
           == SQLITE_OK
        && sqlite3_step(s) == SQLITE_ROW) {
        version = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close_v2(db);
    return version;
}
