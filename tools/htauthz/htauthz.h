/*
 * htauthz.h - what the files of htauthz share.
 *
 * One command per run, one transaction per command: a command that fails
 * changes nothing.  Exit status: 0 success, 1 the operation failed (and
 * one line on stderr says why), 2 usage error (doc/htauthz.1, EXIT
 * STATUS).
 */
#ifndef HTAUTHZ_H
#define HTAUTHZ_H

#include <stdio.h>
#include <sys/stat.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "azs.h"

#ifndef AZS_DEFAULT_DB
#define AZS_DEFAULT_DB "/var/lib/authz_status/authz_status.db"
#endif

/* Concurrent htauthz writers wait for each other this long. */
#define CLI_BUSY_MS     5000
#define CLI_TEXT_MAX    255     /* --label, --reason */
#define CLI_SHOW_MAX    64      /* bytes of a name quoted in a message */

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2 };

typedef struct {
    apr_pool_t *p;
    const char *db;
    azs_store_t *st;
    int in_write;               /* a write transaction is open */
    int lock_fd;                /* <db>.lock, held by write commands */
    int in_read;                /* a read transaction is open */
    int dir_fd;                 /* the database's directory, -1: not open */
    const char *dir;            /* its path, as given */
    const char *base;           /* the database's name in that directory */
    const char *sqlpath;        /* what SQLite opens: the directory's real
                                 * path and base */
    struct stat db_sb;          /* the database, as last checked */
    /* The audit row of a write command (audit.c, store.c). */
    const char *audit_cmd;      /* "user add"; NULL: not a write command */
    apr_array_header_t *audit_words;    /* const char *, made printable */
    int audit_reached;          /* a transaction began on the database */
    int audit_done;             /* its row is written, or given up */
} cli_t;

typedef int (*cmd_fn)(cli_t *c, int argc, const char *const *argv);

/* ---- main.c: the help text ---------------------------------------------- */

extern const char usage_text[];

/* ---- out.c: messages, quoting, listings, JSON --------------------------- */

/* "htauthz: " and the message on stderr; returns code. */
int fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, pointing to --help; returns EX_USAGE. */
int usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* A quoted, terminal-safe form of user-supplied text, at most max bytes
 * of it (0: all); show() quotes CLI_SHOW_MAX bytes. */
const char *show_n(apr_pool_t *p, const char *s, apr_size_t max);
const char *show(apr_pool_t *p, const char *s);
/* The same, unquoted when nothing needed escaping, for listings. */
const char *plain(apr_pool_t *p, const char *s);
/* s itself when all of it is printable UTF-8, else show_n(p, s, 0). */
const char *printable(apr_pool_t *p, const char *s);
/* The last message fail() was given (one line), for the audit row. */
const char *last_failure(void);
/* 1: fail() remembers its message without printing it. */
void quiet(int on);
/* Names shown and joined with ',', "-" when there are none. */
const char *join(apr_pool_t *p, const apr_array_header_t *a);
/* The keys of a name -> chain hash, sorted. */
apr_array_header_t *sorted_keys(apr_pool_t *p, apr_hash_t *h);
void text_chains(apr_pool_t *p, const char *title, apr_hash_t *h);
/* A listing's frame: '[' or the text header, each JSON item's start,
 * the closing ']'. */
void list_open(int json, const char *header);
void json_item(int i, const char *key);
void list_close(int json, int n);
void json_str(const char *s);
/* A field after the first of an object: ", \"key\": " and the value. */
void json_text(const char *key, const char *s);
void json_time(apr_pool_t *p, const char *key, apr_int64_t t);
void json_names(const apr_array_header_t *a);
void json_chains(apr_pool_t *p, apr_hash_t *h, const char *key);

/* ---- args.c: operands and options --------------------------------------- */

typedef struct {
    const char *name;           /* "--expires" */
    int arg;                    /* takes a value */
    int multi;                  /* may be repeated */
} optdef;

typedef struct {
    apr_array_header_t *pos;    /* const char * */
    apr_table_t *opt;           /* "--name" -> value, "" for flags */
} args_t;

#define POS(a, i) APR_ARRAY_IDX((a)->pos, (i), const char *)

extern const optdef json_opt[];

/* Between min and max (-1: no limit) operands; EX_OK or EX_USAGE. */
int parse_args(cli_t *c, const char *cmd, int argc, const char *const *argv,
               const optdef *defs, int min, int max, args_t *a);
int parse_when(cli_t *c, const char *cmd, const char *text,
               apr_int64_t *when);
int parse_expires(cli_t *c, const char *cmd, const args_t *a,
                  apr_int64_t *expires);
int check_user_name(cli_t *c, const char *name);
int check_role_name(cli_t *c, const char *what, const char *name);
int check_text(const char *what, const char *text);

/* ---- files.c: the files beside the database, and imported files --------- */

/* Installs the SQLite file system layer that refuses a symlinked path. */
int vfs_install(void);
/* Checks the database (*exists: found) and its -wal, -shm and -journal:
 * EX_OK, EX_FAIL once refused, or -1 with errno. */
int db_check(cli_t *c, int *exists);
/* Creates the database file, mode 0640 (*created: it did): EX_OK,
 * EX_FAIL once refused, or -1 with errno. */
int db_create(cli_t *c, int *created);
/* FILE, or standard input for "-", opened as the files beside the
 * database are. */
int open_input(cli_t *c, const char *file, FILE **in);

/* ---- store.c: one transaction per command ------------------------------- */

/* The writer lock, held until finish() (exists: db_check found the
 * database, whose owner the lock file gets). */
int writer_lock(cli_t *c, int exists);
int begin_write(cli_t *c);
int begin_read(cli_t *c);
int begin_list(cli_t *c, const char *cmd, int argc, const char *const *argv,
               int *json);
/* Ends the command: commits (code EX_OK) or rolls back, closes, unlocks
 * and flushes the output; returns the exit status. */
int finish(cli_t *c, int code);
int db_error(cli_t *c);
/* htauthz init on a PostgreSQL database (cmd_migrate.c). */
int pg_init(cli_t *c);
/* Reports an azs_rc that is not AZS_RC_OK; what names the object. */
int rc_fail(cli_t *c, azs_rc r, const char *what);
const char *user_what(cli_t *c, const char *name);
const char *role_what(cli_t *c, const char *name);

/* ---- audit.c: what the audit row of a write command says ---------------- */

/* The command is a write: it gets one row in the audit trail, written by
 * finish() (doc/htauthz.1, AUDIT TRAIL).  Words are added from the parsed
 * command, never from argv: no password, hash or token is ever one. */
void audit_start(cli_t *c, const char *cmd);
/* A name, id, range or file, quoted when it needs to be. */
void audit_word(cli_t *c, const char *word);
/* An option: "--name" alone (value NULL: not given, nothing added; "":
 * a flag), or "--name" and its value. */
void audit_opt(cli_t *c, const char *name, const char *value);
/* A time option, as a UTC time ("never" for 0). */
void audit_time(cli_t *c, const char *name, apr_int64_t t);
/* A word made here (counts: "imported=3"), as it is. */
void audit_fact(cli_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The command's words as one text. */
const char *audit_args(cli_t *c);
/* The row of a command that failed with code: "error: " and the last
 * failure's message; NULL when no row is due (a usage error, no write
 * command, a database never reached, or already written). */
const char *audit_outcome(cli_t *c, int code);
/* The row, with outcome, on the open store (in its transaction). */
azs_rc audit_add(cli_t *c, const char *outcome);

/* ---- cmd_audit.c -------------------------------------------------------- */

int cmd_audit(cli_t *c, int argc, const char *const *argv);

/* ---- password.c --------------------------------------------------------- */

/* Reads a new password (stdin, or twice on the terminal) and hashes it. */
int new_hash(cli_t *c, int from_stdin, const char **hash);

/* ---- the commands (cmd_*.c) --------------------------------------------- */

int cmd_init(cli_t *c, int argc, const char *const *argv);
int cmd_user_add(cli_t *c, int argc, const char *const *argv);
int cmd_user_passwd(cli_t *c, int argc, const char *const *argv);
int cmd_user_disable(cli_t *c, int argc, const char *const *argv);
int cmd_user_enable(cli_t *c, int argc, const char *const *argv);
int cmd_user_expire(cli_t *c, int argc, const char *const *argv);
int cmd_user_grant(cli_t *c, int argc, const char *const *argv);
int cmd_user_revoke(cli_t *c, int argc, const char *const *argv);
int cmd_user_del(cli_t *c, int argc, const char *const *argv);
int cmd_user_list(cli_t *c, int argc, const char *const *argv);
int cmd_user_show(cli_t *c, int argc, const char *const *argv);
int cmd_role_add(cli_t *c, int argc, const char *const *argv);
int cmd_role_del(cli_t *c, int argc, const char *const *argv);
int cmd_role_grant(cli_t *c, int argc, const char *const *argv);
int cmd_role_revoke(cli_t *c, int argc, const char *const *argv);
int cmd_role_inherit(cli_t *c, int argc, const char *const *argv);
int cmd_role_disinherit(cli_t *c, int argc, const char *const *argv);
int cmd_role_list(cli_t *c, int argc, const char *const *argv);
int cmd_role_show(cli_t *c, int argc, const char *const *argv);
int cmd_token_issue(cli_t *c, int argc, const char *const *argv);
int cmd_token_revoke(cli_t *c, int argc, const char *const *argv);
int cmd_token_list(cli_t *c, int argc, const char *const *argv);
int cmd_ip_block(cli_t *c, int argc, const char *const *argv);
int cmd_ip_unblock(cli_t *c, int argc, const char *const *argv);
int cmd_ip_list(cli_t *c, int argc, const char *const *argv);
int cmd_check(cli_t *c, int argc, const char *const *argv);
int cmd_import_htpasswd(cli_t *c, int argc, const char *const *argv);
int cmd_import_htgroup(cli_t *c, int argc, const char *const *argv);
int cmd_migrate(cli_t *c, int argc, const char *const *argv);

#endif /* HTAUTHZ_H */
