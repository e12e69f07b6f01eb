/*
 * store.c - one transaction per command: the database opened for reading
 * (one snapshot) or for writing (the writer lock, then BEGIN IMMEDIATE),
 * and finish(), which commits or rolls back and releases both.
 */
#include <errno.h>
#include <string.h>

#include "htauthz.h"

/* The writer lock (azs_writer_lock): every write, init included, holds it
 * from before the database is opened until after it is closed, so the
 * checkpoint at close is covered too.  Root keeps the lock file owned by
 * the database's owner, as found by db_check (exists: it was found). */
int writer_lock(cli_t *c, int exists)
{
    const char *err = NULL;

    if (azs_writer_lock(c->dir_fd, c->db,
                        exists ? c->db_sb.st_uid : (uid_t)-1,
                        exists ? c->db_sb.st_gid : (gid_t)-1, CLI_BUSY_MS,
                        &c->lock_fd, c->p, &err) != AZS_RC_OK) {
        return fail(EX_FAIL, "%s", err);
    }
    return EX_OK;
}

/* PostgreSQL: no file to check or lock; writers take turns on a row
 * (azs_store_begin), and the connection's password comes from ~/.pgpass
 * or PGPASSFILE, never from the URL. */
static int pg_store_open(cli_t *c, int readonly)
{
    const char *err = azs_pg_url_check(c->db, c->p);

    if (err) {
        return usage("%s", err);
    }
    if (azs_store_open(&c->st, c->db, readonly, CLI_BUSY_MS, c->p, &err)
        != AZS_RC_OK) {
        return fail(EX_FAIL, "%s", err ? err : "cannot open the database");
    }
    return EX_OK;
}

static int store_open(cli_t *c, int readonly)
{
    const char *err = NULL;
    int code, exists;

    if (azs_is_pg_url(c->db)) {
        return pg_store_open(c, readonly);
    }

    code = db_check(c, &exists);
    if (code < 0 && errno != ENOENT) {
        return fail(EX_FAIL, "cannot open database %s: %s", c->db,
                    strerror(errno));
    }
    if (code > 0) {
        return code;
    }
    if (!exists) {
        return fail(EX_FAIL, "database %s does not exist (create it "
                    "with: htauthz -d %s init)", c->db, c->db);
    }
    if (!readonly && writer_lock(c, 1) != EX_OK) {
        return EX_FAIL;
    }
    if (azs_store_open(&c->st, c->sqlpath, readonly, CLI_BUSY_MS, c->p, &err)
        != AZS_RC_OK) {
        return fail(EX_FAIL, "%s", err ? err : "cannot open the database");
    }
    return EX_OK;
}

int db_error(cli_t *c)
{
    return fail(EX_FAIL, "database error: %s", azs_store_error(c->st));
}

/* The write commands: open, BEGIN IMMEDIATE (waits for other writers up
 * to the busy timeout), and finish() commits or rolls back. */
int begin_write(cli_t *c)
{
    int code = store_open(c, 0);

    if (code != EX_OK) {
        return code;
    }
    if (azs_store_begin(c->st) != AZS_RC_OK) {
        return db_error(c);
    }
    c->in_write = 1;
    c->audit_reached = 1;
    return EX_OK;
}

/* Reads see one snapshot, even across several queries. */
int begin_read(cli_t *c)
{
    int code = store_open(c, 1);

    if (code != EX_OK) {
        return code;
    }
    if (!azs_store_read_begin(c->st)) {
        return db_error(c);
    }
    c->in_read = 1;
    c->audit_reached = 1;
    return EX_OK;
}

/* The list commands: no operand, --json (*json), one snapshot. */
int begin_list(cli_t *c, const char *cmd, int argc, const char *const *argv,
               int *json)
{
    args_t a;
    int code = parse_args(c, cmd, argc, argv, json_opt, 0, 0, &a);

    if (code == EX_OK && (code = begin_read(c)) == EX_OK) {
        *json = apr_table_get(a.opt, "--json") != NULL;
    }
    return code;
}

/* A failed write command's audit row, in a transaction of its own after
 * the rollback: on the handle still open, or on one opened for it (the
 * command failed in a read, before its write began).  Best effort and
 * silent: whatever goes wrong here, the command's own error is what the
 * user sees, with its exit status. */
static void audit_failed(cli_t *c, int code)
{
    const char *outcome = audit_outcome(c, code);
    int opened = 0;

    if (!outcome) {
        return;
    }
    c->audit_done = 1;
    quiet(1);
    if (!c->st) {
        opened = store_open(c, 0) == EX_OK;
    }
    if (c->st && azs_store_begin(c->st) == AZS_RC_OK) {
        if (audit_add(c, outcome) != AZS_RC_OK
            || azs_store_commit(c->st) != AZS_RC_OK) {
            azs_store_rollback(c->st);
        }
    }
    if (opened) {
        azs_store_close(c->st);
        c->st = NULL;
        azs_writer_unlock(&c->lock_fd);
    }
    quiet(0);
}

int finish(cli_t *c, int code)
{
    if (c->in_write) {
        c->in_write = 0;
        if (code == EX_OK && c->audit_cmd && !c->audit_done
            && audit_add(c, "ok") != AZS_RC_OK) {
            /* No change without its row. */
            code = db_error(c);
            c->audit_done = 0;
        }
        if (code == EX_OK) {
            if (azs_store_commit(c->st) != AZS_RC_OK) {
                code = db_error(c);
                azs_store_rollback(c->st);
                c->audit_done = 0;
            }
        }
        else {
            azs_store_rollback(c->st);
        }
        audit_failed(c, code);
    }
    if (c->in_read) {
        c->in_read = 0;
        azs_store_read_end(c->st);
    }
    if (c->st) {
        azs_store_close(c->st);
        c->st = NULL;
    }
    azs_writer_unlock(&c->lock_fd);
    audit_failed(c, code);
    if (code == EX_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        return fail(EX_FAIL, "cannot write the output: %s",
                    strerror(errno));
    }
    return code;
}

int rc_fail(cli_t *c, azs_rc r, const char *what)
{
    switch (r) {
    case AZS_RC_OK:
        return EX_OK;
    case AZS_RC_NOTFOUND:
        return fail(EX_FAIL, "%s not found", what);
    case AZS_RC_EXISTS:
        return fail(EX_FAIL, "%s already exists", what);
    case AZS_RC_INVALID:
        return fail(EX_FAIL, "%s: invalid", what);
    default:
        return db_error(c);
    }
}

const char *user_what(cli_t *c, const char *name)
{
    return apr_psprintf(c->p, "user %s", show(c->p, name));
}

const char *role_what(cli_t *c, const char *name)
{
    return apr_psprintf(c->p, "role %s", show(c->p, name));
}
