/*
 * cmd_migrate.c - htauthz migrate FILE URL: a SQLite database copied into
 * an empty PostgreSQL one, in one transaction (a failure leaves it as it
 * was).  The schema (sql/postgresql/schema.sql, compiled in) is made
 * first when the database has none.  Every user keeps its id, name, hash,
 * state and expiry (PostgreSQL draws new credential versions), roles
 * their inheritance and grants, tokens their hashes, expiry, revocation
 * and scopes, the blocklist its ranges.
 */
#include <string.h>

#include "config.h"
#include "htauthz.h"

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

extern const char azs_schema_pg_sql[];

/* What is copied, in an order the foreign keys accept.  blob: the column
 * sent as binary (-1: none). */
static const struct {
    const char *table;
    const char *select;
    const char *insert;
    int ncols;
    int blob;
    int serial;                 /* has an id sequence to move on */
} copies[] = {
    {"users", "SELECT id, name, hash, disabled, expires, created, updated"
     " FROM users ORDER BY id",
     "INSERT INTO users (id, name, hash, disabled, expires, created,"
     " updated) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, -1, 1},
    {"roles", "SELECT id, name FROM roles ORDER BY id",
     "INSERT INTO roles (id, name) VALUES ($1, $2)", 2, -1, 1},
    {"permissions", "SELECT id, name FROM permissions ORDER BY id",
     "INSERT INTO permissions (id, name) VALUES ($1, $2)", 2, -1, 1},
    {"role_inherits", "SELECT role_id, parent_id FROM role_inherits",
     "INSERT INTO role_inherits (role_id, parent_id) VALUES ($1, $2)",
     2, -1, 0},
    {"role_permissions", "SELECT role_id, perm_id FROM role_permissions",
     "INSERT INTO role_permissions (role_id, perm_id) VALUES ($1, $2)",
     2, -1, 0},
    {"user_roles", "SELECT user_id, role_id FROM user_roles",
     "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", 2, -1, 0},
    {"tokens", "SELECT id, hash, user_id, label, created, expires, revoked"
     " FROM tokens ORDER BY id",
     "INSERT INTO tokens (id, hash, user_id, label, created, expires,"
     " revoked) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, 1, 1},
    {"token_scopes", "SELECT token_id, perm FROM token_scopes",
     "INSERT INTO token_scopes (token_id, perm) VALUES ($1, $2)", 2, -1, 0},
    {"blocklist", "SELECT id, net, bits, text, reason, created, expires"
     " FROM blocklist ORDER BY id",
     "INSERT INTO blocklist (id, net, bits, text, reason, created, expires)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, 1, 1},
    /* The audit trail keeps its order, after any row already there (the
     * init that made the schema): new ids. */
    {"audit", "SELECT at, sys_user, db_role, command, args, outcome"
     " FROM audit ORDER BY id",
     "INSERT INTO audit (at, sys_user, db_role, command, args, outcome)"
     " VALUES ($1, $2, $3, $4, $5, $6)", 6, -1, 0},
};
#define NCOPIES (sizeof(copies) / sizeof(copies[0]))

/* The first line of libpq's message, for a one-line error. */
static const char *pq_message(apr_pool_t *p, const char *msg)
{
    const char *nl = msg ? strchr(msg, '\n') : NULL;

    if (!msg || !*msg) {
        return "unknown error";
    }
    return nl ? apr_pstrmemdup(p, msg, (apr_size_t)(nl - msg)) : msg;
}

static int pq_fail(cli_t *c, PGconn *pg, const char *what)
{
    return fail(EX_FAIL, "PostgreSQL: %s: %s", what,
                pq_message(c->p, PQerrorMessage(pg)));
}

/* Runs sql; EX_OK, or EX_FAIL after saying why. */
static int pq_exec(cli_t *c, PGconn *pg, const char *sql, const char *what)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int code = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
               ? EX_OK : pq_fail(c, pg, what);

    PQclear(res);
    return code;
}

/* The one value of a one-row query, or NULL (no row, or an error: *code
 * says which). */
static const char *pq_value(cli_t *c, PGconn *pg, const char *sql,
                            const char *what, int *code)
{
    PGresult *res = PQexec(pg, sql);
    const char *v = NULL;

    *code = EX_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *code = pq_fail(c, pg, what);
    }
    else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        v = apr_pstrdup(c->p, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return v;
}

/* The connection string, refused when it carries a password (those go in
 * ~/.pgpass or PGPASSFILE, never on a command line). */
static int check_url(cli_t *c, const char *url)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err), *o;
    int code = EX_OK;

    if (!opts) {
        code = usage("migrate: not a PostgreSQL connection string: %s",
                     err ? pq_message(c->p, err) : "cannot parse it");
        PQfreemem(err);
        return code;
    }
    for (o = opts; o->keyword; o++) {
        if (!strcmp(o->keyword, "password") && o->val && *o->val) {
            code = usage("migrate: the connection string holds a password:"
                         " put it in ~/.pgpass (or the file PGPASSFILE "
                         "names), never on the command line");
        }
    }
    PQconninfoFree(opts);
    return code;
}

/* Copies one table's rows; *n gets their number. */
static int copy_table(cli_t *c, PGconn *pg, int t, long *n)
{
    sqlite3_stmt *s;
    const char *vals[8];
    int lens[8], fmts[8], i, rc, code = EX_OK;
    const char *name = apr_psprintf(c->p, "azs_copy_%d", t);
    PGresult *res;

    *n = 0;
    res = PQprepare(pg, name, copies[t].insert, copies[t].ncols, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        return pq_fail(c, pg, apr_psprintf(c->p, "preparing %s",
                                            copies[t].table));
    }
    PQclear(res);
    if (sqlite3_prepare_v2(azs_store_db(c->st), copies[t].select, -1, &s,
                           NULL) != SQLITE_OK) {
        return db_error(c);
    }
    while (code == EX_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (i = 0; i < copies[t].ncols; i++) {
            fmts[i] = i == copies[t].blob;
            if (fmts[i]) {
                vals[i] = sqlite3_column_blob(s, i);
                lens[i] = sqlite3_column_bytes(s, i);
                if (!vals[i]) {
                    vals[i] = "";
                }
            }
            else {
                vals[i] = (const char *)sqlite3_column_text(s, i);
                lens[i] = 0;
            }
        }
        res = PQexecPrepared(pg, name, copies[t].ncols, vals, lens, fmts, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            code = pq_fail(c, pg, apr_psprintf(c->p, "copying %s",
                                                copies[t].table));
        }
        PQclear(res);
        (*n)++;
    }
    if (code == EX_OK && rc != SQLITE_DONE) {
        code = db_error(c);
    }
    sqlite3_finalize(s);
    if (code == EX_OK && copies[t].serial) {
        /* New rows made there later take ids after the copied ones. */
        code = pq_exec(c, pg, apr_psprintf(c->p,
                       "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
                       " coalesce(max(id), 0) + 1, false) FROM %s",
                       copies[t].table, copies[t].table),
                       "moving the id sequences on");
    }
    return code;
}

/* Makes the schema when the database has none; refuses another version or
 * a database that holds anything. */
static int prepare_target(cli_t *c, PGconn *pg)
{
    const char *v;
    int code;

    v = pq_value(c, pg, "SELECT to_regclass('meta') IS NOT NULL", "reading"
                 " the schema", &code);
    if (code != EX_OK) {
        return code;
    }
    if (v && !strcmp(v, "f")
        && (code = pq_exec(c, pg, azs_schema_pg_sql, "making the schema"))
           != EX_OK) {
        return code;
    }
    v = pq_value(c, pg, "SELECT value FROM meta WHERE key = "
                 "'schema_version' FOR UPDATE", "reading the schema version",
                 &code);
    if (code != EX_OK) {
        return code;
    }
    if (!v || strcmp(v, AZS_STR(AZS_SCHEMA_VERSION)) != 0) {
        return fail(EX_FAIL, "the PostgreSQL database has schema version "
                    "%s; this htauthz knows %d", v ? v : "(none)",
                    AZS_SCHEMA_VERSION);
    }
    /* Writers serialize on this row (held to the commit). */
    if ((code = pq_exec(c, pg, "SELECT value FROM meta WHERE key = "
                        "'generation' FOR UPDATE", "locking the database"))
        != EX_OK) {
        return code;
    }
    v = pq_value(c, pg, "SELECT (SELECT count(*) FROM users)"
                 " + (SELECT count(*) FROM roles)"
                 " + (SELECT count(*) FROM permissions)"
                 " + (SELECT count(*) FROM tokens)"
                 " + (SELECT count(*) FROM blocklist)",
                 "checking that the database is empty", &code);
    if (code != EX_OK) {
        return code;
    }
    if (!v || strcmp(v, "0") != 0) {
        return fail(EX_FAIL, "the PostgreSQL database is not empty (%s "
                    "users, roles, permissions, tokens and blocks): migrate"
                    " copies into an empty one", v ? v : "?");
    }
    return EX_OK;
}

/* The audit row of a write made here (init, migrate): in the open
 * transaction, or on its own after a rollback.  The texts are made valid
 * UTF-8 and one line (azs_audit_text); the role is PostgreSQL's
 * current_user (the column's default). */
static int pq_audit(cli_t *c, PGconn *pg, const char *command,
                    const char *args, const char *outcome)
{
    const char *vals[5];
    PGresult *res;
    int code;

    vals[0] = apr_psprintf(c->p, "%" APR_INT64_T_FMT, azs_now());
    vals[1] = azs_audit_user(c->p);
    vals[2] = command;
    vals[3] = azs_audit_text(c->p, args, 4096);
    vals[4] = azs_audit_text(c->p, outcome, 512);
    res = PQexecParams(pg, "INSERT INTO audit (at, sys_user, command, args,"
                       " outcome) VALUES ($1, $2, $3, $4, $5)", 5, NULL,
                       vals, NULL, NULL, 0);
    code = PQresultStatus(res) == PGRES_COMMAND_OK
           ? EX_OK : pq_fail(c, pg, "writing the audit row");
    PQclear(res);
    return code;
}

/* Version 4 had no audit trail: the schema's section that makes it. */
static int pg_upgrade_4(cli_t *c, PGconn *pg)
{
    const char *start = strstr(azs_schema_pg_sql, "\n-- the audit trail");

    if (!start) {
        return fail(EX_FAIL, "the compiled-in schema has no audit trail");
    }
    return pq_exec(c, pg, apr_pstrcat(c->p, start, ";UPDATE meta SET value"
                                      " = " AZS_STR(AZS_SCHEMA_VERSION)
                                      " WHERE key = 'schema_version'", NULL),
                   "upgrading the schema");
}

/* Commits when code is EX_OK, else rolls back; closes the connection. */
static int pq_end(cli_t *c, PGconn *pg, int code)
{
    if (code == EX_OK) {
        code = pq_exec(c, pg, "COMMIT", "committing");
    }
    else {
        PQclear(PQexec(pg, "ROLLBACK"));
    }
    PQfinish(pg);
    return code;
}

/* htauthz init on PostgreSQL: the schema made when the database has none
 * (in one transaction), a current one accepted as it is. */
int pg_init(cli_t *c)
{
    const char *v, *why = azs_pg_url_check(c->db, c->p);
    PGconn *pg;
    int code, made = 0, from = 0;

    if (why) {
        return usage("%s", why);
    }
    pg = PQconnectdb(azs_pg_conninfo(c->db));
    if (PQstatus(pg) != CONNECTION_OK) {
        code = pq_fail(c, pg, "cannot connect");
        PQfinish(pg);
        return code;
    }
    code = pq_exec(c, pg, "BEGIN", "beginning");
    if (code == EX_OK) {
        /* Two inits at once: the second waits here, then finds it made. */
        code = pq_exec(c, pg, "SELECT pg_advisory_xact_lock(4242424242)",
                       "locking");
    }
    if (code == EX_OK) {
        v = pq_value(c, pg, "SELECT to_regclass('meta') IS NOT NULL",
                     "reading the schema", &code);
        if (code == EX_OK && v && !strcmp(v, "f")) {
            code = pq_exec(c, pg, azs_schema_pg_sql, "making the schema");
            made = code == EX_OK;
        }
    }
    if (code == EX_OK) {
        v = pq_value(c, pg, "SELECT value FROM meta WHERE key = "
                     "'schema_version' FOR UPDATE",
                     "reading the schema version", &code);
        if (code == EX_OK && v && !strcmp(v, "4")) {
            from = 4;
            code = pg_upgrade_4(c, pg);
        }
        else if (code == EX_OK
                 && (!v || strcmp(v, AZS_STR(AZS_SCHEMA_VERSION)) != 0)) {
            code = fail(EX_FAIL, "the PostgreSQL database has schema "
                        "version %s; this htauthz knows %d",
                        v ? v : "(none)", AZS_SCHEMA_VERSION);
        }
    }
    if (code == EX_OK && (made || from)) {
        code = pq_audit(c, pg, "init", from
                        ? apr_psprintf(c->p, "upgrade from=%d to=%d", from,
                                       AZS_SCHEMA_VERSION)
                        : "create version=" AZS_STR(AZS_SCHEMA_VERSION),
                        "ok");
    }
    code = pq_end(c, pg, code);
    if (code == EX_OK && from) {
        printf("%s upgraded to schema version %d\n", c->db,
               AZS_SCHEMA_VERSION);
    }
    else if (code == EX_OK) {
        printf("%s %s (schema version %d)\n", c->db,
               made ? "created" : "is ready", AZS_SCHEMA_VERSION);
        printf("hint: httpd connects as a role in authz_status_reader, "
               "htauthz as one in authz_status_writer; for example: "
               "CREATE ROLE httpd LOGIN IN ROLE authz_status_reader\n");
    }
    return code;
}

int cmd_migrate(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    PGconn *pg;
    long n[NCOPIES];
    const char *url;
    int code;
    apr_size_t t;

    if ((code = parse_args(c, "migrate", argc, argv, NULL, 2, 2, &a))) {
        return code;
    }
    c->db = POS(&a, 0);
    url = POS(&a, 1);
    if ((code = check_url(c, url)) != EX_OK) {
        return code;
    }
    if (azs_is_pg_url(c->db)) {
        return usage("migrate: FILE is a SQLite database, not %s", c->db);
    }
    if ((code = begin_read(c)) != EX_OK) {
        return finish(c, code);
    }
    pg = PQconnectdb(azs_pg_conninfo(url));
    if (PQstatus(pg) != CONNECTION_OK) {
        code = pq_fail(c, pg, "cannot connect");
        PQfinish(pg);
        return finish(c, code);
    }
    code = pq_exec(c, pg, "BEGIN ISOLATION LEVEL SERIALIZABLE",
                   "beginning");
    if (code == EX_OK) {
        code = prepare_target(c, pg);
    }
    for (t = 0; code == EX_OK && t < NCOPIES; t++) {
        code = copy_table(c, pg, (int)t, &n[t]);
    }
    if (code == EX_OK) {
        code = pq_audit(c, pg, "migrate", apr_psprintf(c->p,
                        "%s users=%ld roles=%ld permissions=%ld tokens=%ld"
                        " blocks=%ld audit_rows=%ld",
                        azs_audit_quote(c->p, c->db), n[0], n[1], n[2], n[6],
                        n[8], n[9]), "ok");
    }
    code = pq_end(c, pg, code);
    if (code == EX_OK) {
        printf("migrated %ld users, %ld roles, %ld permissions, %ld "
               "tokens, %ld blocklist entries\n", n[0], n[1], n[2], n[6],
               n[8]);
    }
    return finish(c, code);
}

#else

int pg_init(cli_t *c)
{
    return fail(EX_FAIL, "this htauthz was built without PostgreSQL "
                "support (libpq): rebuild it with libpq-dev installed");
}

int cmd_migrate(cli_t *c, int argc, const char *const *argv)
{
    (void)argc;
    (void)argv;
    return fail(EX_FAIL, "this htauthz was built without PostgreSQL "
                "support (libpq): rebuild it with libpq-dev installed");
}

#endif
