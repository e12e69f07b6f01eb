/*
 * cmd_init.c - htauthz init: creates the database, or upgrades its schema
 * (azs_store_init), under the writer lock like every other write.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "htauthz.h"

int cmd_init(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    const char *err = NULL;
    int code, created = 0, exists, version = -1;

    if ((code = parse_args(c, "init", argc, argv, NULL, 0, 0, &a))) {
        return code;
    }
    if (azs_is_pg_url(c->db)) {
        return pg_init(c);
    }
    if ((code = db_check(c, &exists)) > 0) {
        return code;
    }
    if (code == EX_OK && !exists && (code = db_create(c, &created)) > 0) {
        return code;
    }
    if (code < 0) {
        return fail(EX_FAIL, "cannot create %s: %s", c->db, strerror(errno));
    }
    /* A new database and its lock file both have this process's owner. */
    if ((code = writer_lock(c, exists)) == EX_OK) {
        azs_audit_t row;

        /* Read first: azs_store_init upgrades a file of an older schema,
         * and succeeds the same on one that was current.  The audit row
         * is written in the transaction that creates or upgrades it. */
        version = azs_store_version(c->sqlpath);
        memset(&row, 0, sizeof(row));
        row.sys_user = azs_audit_user(c->p);
        row.command = "init";
        row.args = version > 0
                   ? apr_psprintf(c->p, "upgrade from=%d to=%d", version,
                                  AZS_SCHEMA_VERSION)
                   : apr_psprintf(c->p, "create version=%d",
                                  AZS_SCHEMA_VERSION);
        row.outcome = "ok";
        if (azs_store_init_audit(c->sqlpath, &row, c->p, &err)
            != AZS_RC_OK) {
            code = fail(EX_FAIL, "%s", err ? err : "cannot initialize");
        }
    }
    if (code != EX_OK) {
        if (created) {
            unlinkat(c->dir_fd, c->base, 0);
        }
        return finish(c, code);
    }
    if (version > 0 && version < AZS_SCHEMA_VERSION) {
        printf("%s upgraded to schema version %d\n", c->db,
               AZS_SCHEMA_VERSION);
    }
    else {
        printf("%s %s (schema version %d)\n", c->db,
               created ? "created" : "is ready", AZS_SCHEMA_VERSION);
    }
    printf("hint: httpd's user (www-data) needs read access to %s and "
           "write access to %s, where SQLite keeps the -wal and -shm "
           "files; for example: chgrp www-data %s %s && chmod g+w %s\n",
           c->db, c->dir, c->db, c->dir, c->dir);
    return finish(c, EX_OK);
}
