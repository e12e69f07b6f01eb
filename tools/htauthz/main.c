/*
 * htauthz - manage a mod_authz_status database.
 *
 * main.c: the help text, the global options (-d FILE) and the table that
 * sends each command to its handler (cmd_*.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htauthz.h"

const char usage_text[] =
"usage: htauthz [-d FILE|URL] COMMAND ...\n"
"\n"
"The database is FILE, else $HTAUTHZ_DB, else " AZS_DEFAULT_DB ".\n"
"A PostgreSQL database is a URL: postgresql://USER@HOST/DB?..., or\n"
"postgresql:KEY=VALUE...; its password comes from ~/.pgpass (PGPASSFILE).\n"
"\n"
"  init                                  create or upgrade the database\n"
"  user add NAME [--password-stdin] [--expires WHEN] [--disabled]\n"
"  user passwd NAME [--password-stdin]\n"
"  user disable NAME | user enable NAME\n"
"  user expire NAME [WHEN]               WHEN defaults to now; \"never\""
" clears it\n"
"  user grant NAME ROLE... | user revoke NAME ROLE...\n"
"  user del NAME\n"
"  user list [--json] | user show NAME [--json]\n"
"  role add ROLE | role del ROLE\n"
"  role grant ROLE PERMISSION... | role revoke ROLE PERMISSION...\n"
"  role inherit ROLE OTHER... | role disinherit ROLE OTHER...\n"
"  role list [--json] | role show ROLE [--json]\n"
"  token issue USER [--expires WHEN] [--scope PERMISSION]..."
" [--label TEXT]\n"
"  token revoke ID | token list [USER] [--json]\n"
"  ip block ADDRESS[/BITS] [--expires WHEN] [--reason TEXT]\n"
"  ip unblock ADDRESS[/BITS] | ip list [--json]\n"
"  check USER PERMISSION                 explain the decision; exit 0"
" granted, 1 denied\n"
"  import htpasswd FILE | import htgroup FILE\n"
"  audit [--since WHEN] [--json]         the audit trail, oldest first\n"
"  migrate FILE URL                      copy the SQLite database FILE into"
" an\n"
"                                        empty PostgreSQL one (URL: libpq's"
"\n"
"                                        postgresql://... or key=value)\n"
"\n"
"WHEN: now, never, 90s, 15m, 12h, 30d (from now), 2027-01-31,\n"
"      2027-01-31T12:00:00Z (UTC); for --since, 90s ... 7d mean ago.\n"
"\n"
"Every command that writes adds a row to the audit trail: when, who (the\n"
"system user: SUDO_USER, else the login name), the command with its names\n"
"and options (never a password, hash or token) and its outcome, \"ok\" or\n"
"\"error: ...\".  A write refused after it opened the database is\n"
"recorded too; usage errors are not.\n"
"\n"
"Passwords are never taken from the command line: they are prompted for\n"
"twice on the terminal, or read as one line from standard input with\n"
"--password-stdin.  htauthz writes bcrypt ($2y$) hashes.\n"
"\n"
"Granting what is already granted, or revoking what is not, succeeds and\n"
"changes nothing.  A token's scopes must be permissions its user holds.\n"
"token issue prints the token once, on the first line, then its id.\n"
"\n"
"import htpasswd keeps bcrypt, $apr1$, {SHA}, $5$ and $6$ hashes as they\n"
"are; other lines, and hashes whose cost is above the limit, are refused\n"
"and reported with their line number.  A user already in the database\n"
"gets the file's hash (roles, state and tokens are kept); a user named\n"
"twice in the file keeps the first line.\n"
"import htgroup reads \"group: user1 user2\" lines: missing roles are\n"
"created, listed users that exist become members.  Both exit 0 when\n"
"anything was imported.\n"
"\n"
"The database, its -wal, -shm, -journal and .lock files, and an imported\n"
"FILE must be regular files with one link: a symbolic link, a hard link\n"
"or anything else found there is refused.\n"
"\n"
"Exit status: 0 success; 1 the operation failed (not found, already\n"
"exists, refused name, password or file, denied for check); 2 usage error\n"
"(unknown command or option, missing argument, malformed WHEN, ID or\n"
"ADDRESS).\n";

static const struct {
    const char *group;
    const char *sub;            /* NULL: the group is the command */
    cmd_fn fn;
} commands[] = {
    {"init", NULL, cmd_init},
    {"user", "add", cmd_user_add},
    {"user", "passwd", cmd_user_passwd},
    {"user", "disable", cmd_user_disable},
    {"user", "enable", cmd_user_enable},
    {"user", "expire", cmd_user_expire},
    {"user", "grant", cmd_user_grant},
    {"user", "revoke", cmd_user_revoke},
    {"user", "del", cmd_user_del},
    {"user", "list", cmd_user_list},
    {"user", "show", cmd_user_show},
    {"role", "add", cmd_role_add},
    {"role", "del", cmd_role_del},
    {"role", "grant", cmd_role_grant},
    {"role", "revoke", cmd_role_revoke},
    {"role", "inherit", cmd_role_inherit},
    {"role", "disinherit", cmd_role_disinherit},
    {"role", "list", cmd_role_list},
    {"role", "show", cmd_role_show},
    {"token", "issue", cmd_token_issue},
    {"token", "revoke", cmd_token_revoke},
    {"token", "list", cmd_token_list},
    {"ip", "block", cmd_ip_block},
    {"ip", "unblock", cmd_ip_unblock},
    {"ip", "list", cmd_ip_list},
    {"check", NULL, cmd_check},
    {"import", "htpasswd", cmd_import_htpasswd},
    {"import", "htgroup", cmd_import_htgroup},
    {"migrate", NULL, cmd_migrate},
    {"audit", NULL, cmd_audit},
    {NULL, NULL, NULL}
};

static int run(cli_t *c, int argc, const char *const *argv)
{
    const char *env;
    int i, j, known = 0;

    /* Global options come before the command. */
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return EX_OK;
        }
        if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--database")) {
            if (++i >= argc) {
                return usage("%s needs a FILE", argv[i - 1]);
            }
            c->db = argv[i];
        }
        else if (!strncmp(argv[i], "-d", 2)) {
            c->db = argv[i] + 2;
        }
        else if (!strncmp(argv[i], "--database=", 11)) {
            c->db = argv[i] + 11;
        }
        else {
            return usage("unknown option %s", show(c->p, argv[i]));
        }
        if (!*c->db) {
            return usage("-d needs a FILE");
        }
    }
    if (i >= argc) {
        return usage("no command");
    }
    /* --help anywhere in a command asks for help, not for the command. */
    for (j = i; j < argc && strcmp(argv[j], "--"); j++) {
        if (!strcmp(argv[j], "--help")) {
            fputs(usage_text, stdout);
            return EX_OK;
        }
    }
    if (!c->db) {
        env = getenv("HTAUTHZ_DB");
        c->db = env && *env ? env : AZS_DEFAULT_DB;
    }
    for (j = 0; commands[j].group; j++) {
        if (strcmp(commands[j].group, argv[i])) {
            continue;
        }
        known = 1;
        if (!commands[j].sub) {
            return commands[j].fn(c, argc - i - 1, argv + i + 1);
        }
        if (i + 1 < argc && !strcmp(commands[j].sub, argv[i + 1])) {
            return commands[j].fn(c, argc - i - 2, argv + i + 2);
        }
    }
    if (known) {
        return usage(i + 1 < argc ? "%s: unknown command %s"
                                  : "%s: missing command%s", argv[i],
                     i + 1 < argc ? show(c->p, argv[i + 1]) : "");
    }
    return usage("unknown command %s", show(c->p, argv[i]));
}

int main(int argc, const char *const *argv)
{
    cli_t c;
    int code;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fputs("htauthz: cannot initialize APR\n", stderr);
        return EX_FAIL;
    }
    memset(&c, 0, sizeof(c));
    c.lock_fd = -1;
    c.dir_fd = -1;
    apr_pool_create(&c.p, NULL);
    /* PostgreSQL: what pg_stat_activity shows for this connection. */
    setenv("PGAPPNAME", "htauthz", 0);
    code = vfs_install();
    if (code == EX_OK) {
        code = run(&c, argc, argv);
    }
    if (c.dir_fd >= 0) {
        close(c.dir_fd);
    }
    apr_pool_destroy(c.p);
    apr_terminate();
    return code;
}
