/*
 * htauthz - manage a mod_authz_status database.
 *
 * One command per run, one transaction per command: a command that fails
 * changes nothing.  Exit status: 0 success, 1 the operation failed (and
 * one line on stderr says why), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "azs.h"

#ifndef AZS_DEFAULT_DB
#define AZS_DEFAULT_DB "/var/lib/authz_status/authz_status.db"
#endif

/* Concurrent htauthz writers wait for each other this long. */
#define CLI_BUSY_MS     5000
#define CLI_TEXT_MAX    255     /* --label, --reason */
#define CLI_SHOW_MAX    64      /* bytes of a name quoted in a message */

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2 };

static const char usage_text[] =
"usage: htauthz [-d FILE] COMMAND ...\n"
"\n"
"The database is FILE, else $HTAUTHZ_DB, else " AZS_DEFAULT_DB ".\n"
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
"\n"
"WHEN: now, never, 90s, 15m, 12h, 30d (from now), 2027-01-31,\n"
"      2027-01-31T12:00:00Z (UTC).\n"
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
} cli_t;

/* ---- messages ----------------------------------------------------------- */

static int fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("htauthz: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
    va_list ap;

    fputs("htauthz: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see htauthz --help)\n", stderr);
    return EX_USAGE;
}

/* Length of the valid UTF-8 sequence at s, 0 when there is none. */
static int utf8_len(const unsigned char *s)
{
    int n, i;
    unsigned long cp;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* A quoted, terminal-safe form of user-supplied text for messages and
 * listings: control characters, C1 controls, bytes that are not UTF-8,
 * '"' and '\\' are escaped, and at most max bytes are shown. */
static const char *show_n(apr_pool_t *p, const char *s, apr_size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = apr_palloc(p, (max ? max : strlen(s)) * 4 + 8);
    char *o = out;
    apr_size_t i = 0;

    *o++ = '"';
    while (u[i] && (!max || i < max)) {
        int n = utf8_len(u + i);

        if (u[i] == '"' || u[i] == '\\') {
            *o++ = '\\';
            *o++ = (char)u[i++];
        }
        else if (n == 1 && u[i] >= 0x20 && u[i] != 0x7f) {
            *o++ = (char)u[i++];
        }
        else if (n > 1 && !(n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
            memcpy(o, u + i, n);
            o += n;
            i += n;
        }
        else {
            o += sprintf(o, "\\x%02x", u[i++]);
        }
    }
    *o++ = '"';
    if (u[i]) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

static const char *show(apr_pool_t *p, const char *s)
{
    return show_n(p, s, CLI_SHOW_MAX);
}

/* The same, unquoted and whole, for listings. */
static const char *plain(apr_pool_t *p, const char *s)
{
    const char *q = show_n(p, s, 0);

    if (!strpbrk(s, "\"\\") && strlen(q) == strlen(s) + 2) {
        return s;
    }
    return q;
}

/* ---- JSON --------------------------------------------------------------- */

/* Invalid UTF-8 becomes U+FFFD, so the document is always valid. */
static void json_str(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    putchar('"');
    while (*u) {
        int n = utf8_len(u);

        if (*u == '"' || *u == '\\') {
            putchar('\\');
            putchar(*u++);
        }
        else if (*u < 0x20 || *u == 0x7f) {
            printf("\\u%04x", *u++);
        }
        else if (n == 0) {
            fputs("\\ufffd", stdout);
            u++;
        }
        else {
            fwrite(u, 1, n, stdout);
            u += n;
        }
    }
    putchar('"');
}

static void json_time(apr_pool_t *p, apr_int64_t t)
{
    if (t) {
        json_str(azs_time_format(p, t));
    }
    else {
        fputs("null", stdout);
    }
}

static void json_names(const apr_array_header_t *a)
{
    int i;

    putchar('[');
    for (i = 0; a && i < a->nelts; i++) {
        if (i) {
            fputs(", ", stdout);
        }
        json_str(APR_ARRAY_IDX(a, i, const char *));
    }
    putchar(']');
}

/* ---- arguments ---------------------------------------------------------- */

typedef struct {
    const char *name;           /* "--expires" */
    int arg;                    /* takes a value */
    int multi;                  /* may be repeated */
} optdef;

typedef struct {
    apr_array_header_t *pos;    /* const char * */
    apr_table_t *opt;           /* "--name" -> value, "" for flags */
} args_t;

/* The synopsis of a command, from the help text: "user add NAME ...". */
static const char *synopsis(apr_pool_t *p, const char *cmd)
{
    apr_size_t n = strlen(cmd);
    const char *s = usage_text;

    while ((s = strstr(s, cmd)) != NULL) {
        if (s - usage_text >= 2 && s[-1] == ' '
            && (s[-2] == ' ' || s[-2] == '|')
            && (s[n] == ' ' || s[n] == '\n')) {
            const char *e = s + strcspn(s, "|\n");
            const char *gap = strstr(s, "  ");

            if (gap && gap < e) {
                e = gap;
            }
            while (e > s && e[-1] == ' ') {
                e--;
            }
            return apr_pstrndup(p, s, e - s);
        }
        s += n;
    }
    return cmd;
}

/* Options may come before, between or after operands; "--" ends them and
 * "--opt=value" is the same as "--opt value". */
static int parse_args(cli_t *c, const char *cmd, int argc,
                      const char *const *argv, const optdef *defs,
                      int min, int max, args_t *a)
{
    int i, dashdash = 0;

    a->pos = apr_array_make(c->p, 4, sizeof(const char *));
    a->opt = apr_table_make(c->p, 4);
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const optdef *d;
        const char *eq, *val = "";
        apr_size_t len;

        if (dashdash || arg[0] != '-' || arg[1] == '\0') {
            APR_ARRAY_PUSH(a->pos, const char *) = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            dashdash = 1;
            continue;
        }
        eq = strchr(arg, '=');
        len = eq ? (apr_size_t)(eq - arg) : strlen(arg);
        for (d = defs; d && d->name; d++) {
            if (strlen(d->name) == len && !strncmp(d->name, arg, len)) {
                break;
            }
        }
        if (!d || !d->name) {
            return usage("%s: unknown option %s", cmd,
                         show(c->p, apr_pstrndup(c->p, arg, len)));
        }
        if (d->arg) {
            if (eq) {
                val = eq + 1;
            }
            else if (i + 1 < argc) {
                val = argv[++i];
            }
            else {
                return usage("%s: %s needs a value", cmd, d->name);
            }
        }
        else if (eq) {
            return usage("%s: %s takes no value", cmd, d->name);
        }
        if (!d->multi && apr_table_get(a->opt, d->name)) {
            return usage("%s: %s given twice", cmd, d->name);
        }
        apr_table_add(a->opt, d->name, val);
    }
    if (a->pos->nelts < min) {
        return usage("%s: missing argument; usage: htauthz %s", cmd,
                     synopsis(c->p, cmd));
    }
    if (max >= 0 && a->pos->nelts > max) {
        return usage("%s: unexpected argument %s", cmd,
                     show(c->p, APR_ARRAY_IDX(a->pos, max, const char *)));
    }
    return EX_OK;
}

#define POS(a, i) APR_ARRAY_IDX((a)->pos, (i), const char *)

static int parse_when(cli_t *c, const char *cmd, const char *text,
                      apr_int64_t *when)
{
    const char *err = azs_when_parse(text, azs_now(), when);

    if (err) {
        return usage("%s: invalid time %s: %s", cmd, show(c->p, text), err);
    }
    return EX_OK;
}

static int check_user_name(cli_t *c, const char *name)
{
    const char *why = azs_user_name_invalid(name);

    if (why) {
        return fail(EX_FAIL, "invalid user name %s: %s", show(c->p, name),
                    why);
    }
    return EX_OK;
}

static int check_role_name(cli_t *c, const char *what, const char *name)
{
    const char *why = azs_role_name_invalid(name);

    if (why) {
        return fail(EX_FAIL, "invalid %s name %s: %s", what,
                    show(c->p, name), why);
    }
    return EX_OK;
}

/* Labels and reasons: one line of printable text. */
static int check_text(const char *what, const char *text)
{
    const unsigned char *u = (const unsigned char *)text;

    for (; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return fail(EX_FAIL, "invalid %s: it contains a control "
                        "character", what);
        }
    }
    if (strlen(text) > CLI_TEXT_MAX) {
        return fail(EX_FAIL, "invalid %s: longer than %d bytes", what,
                    CLI_TEXT_MAX);
    }
    return EX_OK;
}

/* ---- files beside the database ------------------------------------------ */

/*
 * The database's directory belongs to httpd's user (SQLite needs to create
 * -wal and -shm there), so whatever is found in it may have been planted:
 * a symbolic or hard link to a file of root's, a link to a path where a
 * file should not be, a FIFO.  htauthz, often run as root, creates and
 * chowns what it finds there, so it uses only regular files with a single
 * link.  Its own files (the lock, a new database) are opened with
 * O_NOFOLLOW relative to the directory and checked on the descriptor; the
 * files SQLite opens (the database, -wal, -shm, -journal) are checked just
 * before it does, and SQLite then opens each with O_NOFOLLOW and refuses
 * a link in the database's path (see the VFS below).  What is left is a
 * hard link planted between the check and SQLite's open: the kernel's
 * protected_hardlinks, on by default, keeps httpd's user from linking a
 * file it cannot already write.
 */

/* Why the file sb describes is not used, or NULL. */
static const char *file_unfit(const struct stat *sb)
{
    if (S_ISLNK(sb->st_mode)) {
        return "is a symbolic link";
    }
    if (!S_ISREG(sb->st_mode)) {
        return "is not a regular file";
    }
    if (sb->st_nlink != 1) {
        return "has more than one hard link";
    }
    return NULL;
}

static int refuse_file(const char *path, const char *why)
{
    return fail(EX_FAIL, "%s %s; refusing to use it", path, why);
}

/* Opens path (relative to dir_fd) without following a link, and refuses
 * what is not a regular file with one link (shown names it): EX_OK, or
 * EX_FAIL once refused, or -1 with errno.  O_NONBLOCK: opening a FIFO
 * must not hang (regular files ignore it). */
static int open_checked(int dir_fd, const char *path, const char *shown,
                        int flags, mode_t mode, int *fd)
{
    struct stat sb;
    const char *why = NULL;
    int err = 0;

    *fd = openat(dir_fd, path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                 mode);
    if (*fd < 0) {
        return errno == ELOOP ? refuse_file(shown, "is a symbolic link")
                              : -1;
    }
    if (fstat(*fd, &sb) != 0) {
        err = errno;
    }
    else if ((why = file_unfit(&sb)) == NULL) {
        return EX_OK;
    }
    close(*fd);
    *fd = -1;
    errno = err;
    return why ? refuse_file(shown, why) : -1;
}

/* The database's directory, opened once; SQLite gets its real path, so
 * that a link in it (refused by the VFS below) can only be one planted
 * after this point.  -1 with errno when the directory cannot be opened. */
static int db_locate(cli_t *c)
{
    const char *slash = strrchr(c->db, '/');
    char *real;
    int err;

    if (c->dir_fd >= 0) {
        return 0;
    }
    c->base = slash ? slash + 1 : c->db;
    c->dir = !slash ? "." : slash == c->db ? "/"
                    : apr_pstrndup(c->p, c->db, slash - c->db);
    if ((real = realpath(c->dir, NULL)) == NULL) {
        return -1;
    }
    c->sqlpath = apr_pstrcat(c->p, real, strcmp(real, "/") ? "/" : "",
                             c->base, NULL);
    c->dir_fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    err = errno;
    free(real);
    errno = err;
    return c->dir_fd < 0 ? -1 : 0;
}

/* Checks the database (*exists: found) and the files SQLite keeps
 * beside it, before SQLite opens them. */
static int db_check(cli_t *c, int *exists)
{
    static const char *const beside[] = { "-wal", "-shm", "-journal", NULL };
    struct stat sb;
    const char *why;
    int i;

    *exists = 0;
    if (db_locate(c) != 0) {
        return -1;
    }
    if (fstatat(c->dir_fd, c->base, &c->db_sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if ((why = file_unfit(&c->db_sb)) != NULL) {
            return refuse_file(c->db, why);
        }
        *exists = 1;
    }
    else if (errno != ENOENT) {
        return -1;
    }
    for (i = 0; beside[i]; i++) {
        const char *name = apr_pstrcat(c->p, c->base, beside[i], NULL);

        if (fstatat(c->dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;
            }
            return fail(EX_FAIL, "cannot check %s%s: %s", c->db, beside[i],
                        strerror(errno));
        }
        if ((why = file_unfit(&sb)) != NULL) {
            return refuse_file(apr_pstrcat(c->p, c->db, beside[i], NULL),
                               why);
        }
    }
    return EX_OK;
}

/* SQLite's own VFS, except that a database path that goes through a
 * symbolic link is refused, as SQLITE_OPEN_NOFOLLOW would refuse it, for
 * every database this process opens: a link put in place of the database
 * after db_check is not followed. */
static sqlite3_vfs *vfs_os;
static sqlite3_vfs vfs_nofollow;

static int nofollow_full_pathname(sqlite3_vfs *vfs, const char *name,
                                  int size, char *out)
{
    int rc = vfs_os->xFullPathname(vfs_os, name, size, out);

    (void)vfs;
    return rc == SQLITE_OK_SYMLINK ? SQLITE_CANTOPEN_SYMLINK : rc;
}

static int vfs_install(void)
{
    if ((vfs_os = sqlite3_vfs_find(NULL)) == NULL) {
        return fail(EX_FAIL, "SQLite has no file system layer");
    }
    vfs_nofollow = *vfs_os;
    vfs_nofollow.zName = "htauthz-nofollow";
    vfs_nofollow.pNext = NULL;
    vfs_nofollow.xFullPathname = nofollow_full_pathname;
    if (sqlite3_vfs_register(&vfs_nofollow, 1) != SQLITE_OK) {
        return fail(EX_FAIL, "cannot set up SQLite's file system layer");
    }
    return EX_OK;
}

/* ---- the store ---------------------------------------------------------- */

/*
 * Writers are serialized for the whole command, the checkpoint at close
 * included, with flock on <db>.lock: SQLite 3.40 (Debian 12) can corrupt
 * the WAL when two connections write or checkpoint at the same moment,
 * and BEGIN IMMEDIATE alone does not cover the checkpoint.  httpd only
 * reads, so it never takes this lock.  A separate file, because closing
 * any descriptor of the database would drop SQLite's own POSIX locks.
 */
static int writer_lock(cli_t *c)
{
    const char *path = apr_pstrcat(c->p, c->db, ".lock", NULL);
    int waited, code;
    apr_time_t deadline;

    code = open_checked(c->dir_fd, apr_pstrcat(c->p, c->base, ".lock", NULL),
                        path, O_RDWR | O_CREAT, 0600, &c->lock_fd);
    if (code < 0) {
        return fail(EX_FAIL, "cannot open lock file %s: %s", path,
                    strerror(errno));
    }
    if (code != EX_OK) {
        return code;
    }
    /* As SQLite does for -wal and -shm: root keeps the lock file owned by
     * the database's owner, so that owner can still write later. */
    if (geteuid() == 0
        && fchown(c->lock_fd, c->db_sb.st_uid, c->db_sb.st_gid) != 0) {
        return fail(EX_FAIL, "cannot chown lock file %s: %s", path,
                    strerror(errno));
    }
    deadline = apr_time_now() + apr_time_from_msec(CLI_BUSY_MS);
    for (waited = 0; flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0; waited++) {
        if (errno != EWOULDBLOCK || apr_time_now() >= deadline) {
            return fail(EX_FAIL, "database %s is busy: another htauthz "
                        "is writing (%s)", c->db, errno == EWOULDBLOCK
                        ? "timed out" : strerror(errno));
        }
        usleep(10000);
    }
    return EX_OK;
}

static void writer_unlock(cli_t *c)
{
    if (c->lock_fd >= 0) {
        close(c->lock_fd);   /* releases the flock */
        c->lock_fd = -1;
    }
}

static int store_open(cli_t *c, int readonly)
{
    const char *err = NULL;
    int code, exists;

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
    if (!readonly && writer_lock(c) != EX_OK) {
        return EX_FAIL;
    }
    if (azs_store_open(&c->st, c->sqlpath, readonly, CLI_BUSY_MS, c->p, &err)
        != AZS_RC_OK) {
        return fail(EX_FAIL, "%s", err ? err : "cannot open the database");
    }
    return EX_OK;
}

static int db_error(cli_t *c)
{
    return fail(EX_FAIL, "database error: %s", azs_store_error(c->st));
}

/* The write commands: open, BEGIN IMMEDIATE (waits for other writers up
 * to the busy timeout), and end() commits or rolls back. */
static int begin_write(cli_t *c)
{
    int code = store_open(c, 0);

    if (code != EX_OK) {
        return code;
    }
    if (azs_store_begin(c->st) != AZS_RC_OK) {
        return db_error(c);
    }
    c->in_write = 1;
    return EX_OK;
}

/* Reads see one snapshot, even across several queries. */
static int begin_read(cli_t *c)
{
    int code = store_open(c, 1);

    if (code != EX_OK) {
        return code;
    }
    if (sqlite3_exec(azs_store_db(c->st), "BEGIN", NULL, NULL, NULL)
        != SQLITE_OK) {
        return db_error(c);
    }
    c->in_read = 1;
    return EX_OK;
}

static int end(cli_t *c, int code)
{
    if (c->in_write) {
        c->in_write = 0;
        if (code == EX_OK) {
            if (azs_store_commit(c->st) != AZS_RC_OK) {
                code = db_error(c);
                azs_store_rollback(c->st);
            }
        }
        else {
            azs_store_rollback(c->st);
        }
    }
    if (c->in_read) {
        c->in_read = 0;
        sqlite3_exec(azs_store_db(c->st), "COMMIT", NULL, NULL, NULL);
    }
    if (c->st) {
        azs_store_close(c->st);
        c->st = NULL;
    }
    writer_unlock(c);
    if (code == EX_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        return fail(EX_FAIL, "cannot write the output: %s",
                    strerror(errno));
    }
    return code;
}

/* Reports an azs_rc that is not AZS_RC_OK; what names the object. */
static int rc_fail(cli_t *c, azs_rc r, const char *what)
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

static const char *user_what(cli_t *c, const char *name)
{
    return apr_psprintf(c->p, "user %s", show(c->p, name));
}

static const char *role_what(cli_t *c, const char *name)
{
    return apr_psprintf(c->p, "role %s", show(c->p, name));
}

/* ---- passwords ---------------------------------------------------------- */

/*
 * Echo is off while the password is typed.  The signals that would stop
 * or end the process there are caught (readpassphrase(3) does the same):
 * the terminal gets its modes back first, then the signal does what it
 * would have done; once continued after a stop, echo goes off again, the
 * prompt is shown again and the reading goes on.
 */
static int tty_fd = -1;
static int tty_modes;                   /* tty_saved holds its modes */
static struct termios tty_saved, tty_quiet;
static const char *tty_prompt;          /* the prompt being answered */
static volatile sig_atomic_t tty_caught;        /* 0, or a signal */
static const int tty_signals[] = {
    SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU
};
#define TTY_NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))
static struct sigaction tty_old[TTY_NSIGNALS];

static void tty_catch(int sig)
{
    tty_caught = sig;
}

/* Without SA_RESTART, so that a read at the prompt returns EINTR. */
static void tty_handle(int sig, struct sigaction *old)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tty_catch;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}

/* A job in the background gets SIGTTOU for a tcsetattr: caught, it ends
 * the attempt, and the stop comes at the next read. */
static void tty_set(const struct termios *t)
{
    while (tcsetattr(tty_fd, TCSANOW, t) != 0 && errno == EINTR
           && tty_caught != SIGTTOU) {
    }
}

/* Acts on a signal caught at the prompt, as described above. */
static void tty_deliver(void)
{
    int sig = tty_caught;
    apr_size_t i;

    for (i = 0; sig && i < TTY_NSIGNALS; i++) {
        if (tty_signals[i] != sig) {
            continue;
        }
        tty_set(&tty_saved);
        tty_caught = 0;
        sigaction(sig, &tty_old[i], NULL);
        raise(sig);                     /* stops or ends the process */
        tty_handle(sig, NULL);
        tty_set(&tty_quiet);
        if ((sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
            && tty_prompt
            && write(tty_fd, tty_prompt, strlen(tty_prompt)) < 0) {
            /* the reading goes on without the prompt */
        }
    }
}

static int tty_open(void)
{
    apr_size_t i;

    tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_fd < 0) {
        return -1;
    }
    tty_modes = tcgetattr(tty_fd, &tty_saved) == 0;
    if (tty_modes) {
        tty_quiet = tty_saved;
        tty_quiet.c_lflag &= ~(ECHO | ECHONL);
        tty_quiet.c_lflag |= ICANON;
        tty_caught = 0;
        for (i = 0; i < TTY_NSIGNALS; i++) {
            tty_handle(tty_signals[i], &tty_old[i]);
        }
        tty_set(&tty_quiet);
    }
    return 0;
}

/* Echo back on, the signals as they were, and a signal caught after the
 * last read is acted on now. */
static void tty_close(void)
{
    apr_size_t i;

    if (tty_modes) {
        tty_set(&tty_saved);
        for (i = 0; i < TTY_NSIGNALS; i++) {
            sigaction(tty_signals[i], &tty_old[i], NULL);
        }
        if (tty_caught && tty_caught != SIGTTOU) {
            raise(tty_caught);
        }
        tty_caught = 0;
        tty_modes = 0;
    }
    tty_prompt = NULL;
    close(tty_fd);
    tty_fd = -1;
}

/* Reads one line from fd into buf (size bytes), without the line end.
 * Returns the length, -1 on a read error, -2 when the line is longer
 * than buf holds, -3 when it holds a NUL byte. */
static int read_line(int fd, char *buf, apr_size_t size, int *eof)
{
    apr_size_t n = 0;
    int toolong = 0, nul = 0;

    *eof = 0;
    for (;;) {
        char ch;
        ssize_t got;

        tty_deliver();          /* a signal caught at the prompt */
        got = read(fd, &ch, 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            *eof = 1;
            break;
        }
        if (ch == '\n') {
            break;
        }
        if (ch == '\0') {
            nul = 1;
        }
        if (n + 1 < size) {
            buf[n++] = ch;
        }
        else {
            toolong = 1;
        }
    }
    if (n > 0 && buf[n - 1] == '\r' && !toolong) {
        n--;
    }
    buf[n] = '\0';
    if (toolong) {
        return -2;
    }
    return nul ? -3 : (int)n;
}

static int prompt(const char *text, char *buf, apr_size_t size)
{
    int got, eof;

    /* A write cut short by a signal: the reading shows the prompt again
     * after a stop. */
    tty_prompt = text;
    if (write(tty_fd, text, strlen(text)) < 0 && errno != EINTR) {
        return -1;
    }
    got = read_line(tty_fd, buf, size, &eof);
    if (write(tty_fd, "\n", 1) < 0 && errno != EINTR) {
        return -1;
    }
    return got;
}

/* The new password, in buf: from one line of stdin, or typed twice on
 * the terminal without echo. */
static int get_password(int from_stdin, char *buf, apr_size_t size)
{
    char again[AZS_PASSWORD_MAX + 2];
    const char *why;
    int got, eof = 0;

    if (from_stdin) {
        got = read_line(STDIN_FILENO, buf, size, &eof);
        if (got == -1) {
            return fail(EX_FAIL, "cannot read the password from standard "
                        "input: %s", strerror(errno));
        }
        if (got == 0 && eof) {
            return fail(EX_FAIL, "no password on standard input");
        }
    }
    else {
        if (tty_open() != 0) {
            return usage("no terminal to read the password from; use "
                         "--password-stdin");
        }
        got = prompt("New password: ", buf, size);
        if (got >= 0) {
            int got2 = prompt("Re-type new password: ", again,
                              sizeof(again));

            if (got2 != got || strcmp(buf, again) != 0) {
                got = -4;
            }
        }
        tty_close();
        explicit_bzero(again, sizeof(again));
        if (got == -1) {
            return fail(EX_FAIL, "cannot read the password from the "
                        "terminal: %s", strerror(errno));
        }
        if (got == -4) {
            return fail(EX_FAIL, "passwords do not match");
        }
    }
    if (got == -2) {
        return fail(EX_FAIL, "password is longer than %d bytes (bcrypt "
                    "reads no more)", AZS_BCRYPT_MAX);
    }
    if (got == -3) {
        return fail(EX_FAIL, "password contains a control character");
    }
    if ((why = azs_password_invalid(buf)) != NULL) {
        return fail(EX_FAIL, "%s", why);
    }
    return EX_OK;
}

static int new_hash(cli_t *c, int from_stdin, const char **hash)
{
    char pw[AZS_PASSWORD_MAX + 2];
    int code = get_password(from_stdin, pw, sizeof(pw));

    if (code == EX_OK
        && azs_password_hash(c->p, pw, AZS_BCRYPT_COST, hash) != AZS_RC_OK) {
        code = fail(EX_FAIL, "cannot hash the password");
    }
    explicit_bzero(pw, sizeof(pw));
    return code;
}

/* ---- init --------------------------------------------------------------- */

static int cmd_init(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    const char *err = NULL;
    int code, created = 0, exists, fd;

    if ((code = parse_args(c, "init", argc, argv, NULL, 0, 0, &a))) {
        return code;
    }
    if ((code = db_check(c, &exists)) > 0) {
        return code;
    }
    if (code == EX_OK && !exists) {
        /* Created here, not by SQLite, so the mode is 0640 whatever the
         * umask: the -wal and -shm files take the mode of this file. */
        code = open_checked(c->dir_fd, c->base, c->db,
                            O_WRONLY | O_CREAT | O_EXCL, 0640, &fd);
        if (code > 0) {
            return code;
        }
        if (code == EX_OK) {
            fchmod(fd, 0640);
            close(fd);
            created = 1;
        }
    }
    if (code < 0) {
        return fail(EX_FAIL, "cannot create %s: %s", c->db, strerror(errno));
    }
    if (azs_store_init(c->sqlpath, c->p, &err) != AZS_RC_OK) {
        if (created) {
            unlinkat(c->dir_fd, c->base, 0);
        }
        return fail(EX_FAIL, "%s", err ? err : "cannot initialize");
    }
    printf("%s %s (schema version %d)\n", c->db,
           created ? "created" : "is ready", AZS_SCHEMA_VERSION);
    printf("hint: httpd's user (www-data) needs read access to %s and "
           "write access to %s, where SQLite keeps the -wal and -shm "
           "files; for example: chgrp www-data %s %s && chmod g+w %s\n",
           c->db, c->dir, c->db, c->dir, c->dir);
    return end(c, EX_OK);
}

/* ---- user --------------------------------------------------------------- */

static const char *user_state(const azs_user_t *u, apr_int64_t now)
{
    switch (azs_account_state(u, now)) {
    case AZS_REASON_ACCOUNT_DISABLED:
        return "disabled";
    case AZS_REASON_ACCOUNT_EXPIRED:
        return "expired";
    default:
        return "active";
    }
}

/*
 * user add and user passwd look the user up before the prompt, so that
 * nobody types a password in vain, but in a read of their own: the writer
 * lock is taken only once the password is typed and hashed, or a prompt
 * left waiting would hold up every other write (a revocation included).
 * The write itself still refuses a user added or deleted in between.
 */
static int user_probe(cli_t *c, const char *name, int want)
{
    azs_user_t u;
    azs_rc r;
    int code = begin_read(c);

    if (code == EX_OK) {
        r = azs_user_get(c->st, name, &u, c->p);
        if (r == AZS_RC_DBERR) {
            code = db_error(c);
        }
        else if ((r == AZS_RC_OK) != want) {
            code = rc_fail(c, want ? AZS_RC_NOTFOUND : AZS_RC_EXISTS,
                           user_what(c, name));
        }
    }
    return end(c, code);
}

static int cmd_user_add(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--password-stdin", 0, 0}, {"--expires", 1, 0},
        {"--disabled", 0, 0}, {NULL, 0, 0}
    };
    args_t a;
    const char *name, *when, *hash = NULL;
    apr_int64_t expires = 0;
    azs_rc r;
    int code;

    if ((code = parse_args(c, "user add", argc, argv, defs, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((when = apr_table_get(a.opt, "--expires"))
        && (code = parse_when(c, "user add", when, &expires))) {
        return code;
    }
    if ((code = check_user_name(c, name))
        || (code = user_probe(c, name, 0))
        || (code = new_hash(c, apr_table_get(a.opt, "--password-stdin")
                               != NULL, &hash))
        || (code = begin_write(c))) {
        return end(c, code);
    }
    r = azs_user_add(c->st, name, hash,
                     apr_table_get(a.opt, "--disabled") != NULL, expires);
    return end(c, rc_fail(c, r, user_what(c, name)));
}

static int cmd_user_passwd(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--password-stdin", 0, 0}, {NULL, 0, 0}
    };
    args_t a;
    const char *name, *hash = NULL;
    azs_rc r;
    int code;

    if ((code = parse_args(c, "user passwd", argc, argv, defs, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name))
        || (code = user_probe(c, name, 1))
        || (code = new_hash(c, apr_table_get(a.opt, "--password-stdin")
                               != NULL, &hash))
        || (code = begin_write(c))) {
        return end(c, code);
    }
    r = azs_user_set_hash(c->st, name, hash);
    return end(c, rc_fail(c, r, user_what(c, name)));
}

static int cmd_user_state(cli_t *c, int argc, const char *const *argv,
                          const char *cmd, int disable)
{
    args_t a;
    const char *name;
    int code;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name)) || (code = begin_write(c))) {
        return end(c, code);
    }
    return end(c, rc_fail(c, azs_user_set_disabled(c->st, name, disable),
                          user_what(c, name)));
}

static int cmd_user_disable(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_state(c, argc, argv, "user disable", 1);
}

static int cmd_user_enable(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_state(c, argc, argv, "user enable", 0);
}

static int cmd_user_expire(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    const char *name;
    apr_int64_t when;
    int code;

    if ((code = parse_args(c, "user expire", argc, argv, NULL, 1, 2, &a))
        || (code = parse_when(c, "user expire",
                              a.pos->nelts > 1 ? POS(&a, 1) : "now",
                              &when))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name)) || (code = begin_write(c))) {
        return end(c, code);
    }
    return end(c, rc_fail(c, azs_user_set_expires(c->st, name, when),
                          user_what(c, name)));
}

/* user grant / user revoke: the user and every role must exist. */
static int cmd_user_roles(cli_t *c, int argc, const char *const *argv,
                          int grant)
{
    const char *cmd = grant ? "user grant" : "user revoke";
    args_t a;
    azs_user_t u;
    const char *name;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 2, -1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name))) {
        return code;
    }
    for (i = 1; i < a.pos->nelts; i++) {
        if ((code = check_role_name(c, "role", POS(&a, i)))) {
            return code;
        }
    }
    if ((code = begin_write(c))) {
        return end(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return end(c, rc_fail(c, r, user_what(c, name)));
    }
    for (i = 1; i < a.pos->nelts; i++) {
        const char *role = POS(&a, i);

        if ((r = azs_role_exists(c->st, role)) != AZS_RC_OK) {
            return end(c, rc_fail(c, r, role_what(c, role)));
        }
        r = grant ? azs_user_grant(c->st, name, role)
                  : azs_user_revoke(c->st, name, role);
        /* Already held, or not held: the wanted state is there. */
        if (r != AZS_RC_OK && r != AZS_RC_EXISTS && r != AZS_RC_NOTFOUND) {
            return end(c, rc_fail(c, r, role_what(c, role)));
        }
    }
    return end(c, EX_OK);
}

static int cmd_user_grant(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_roles(c, argc, argv, 1);
}

static int cmd_user_revoke(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_roles(c, argc, argv, 0);
}

static int cmd_user_del(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    const char *name;
    int code;

    if ((code = parse_args(c, "user del", argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name)) || (code = begin_write(c))) {
        return end(c, code);
    }
    return end(c, rc_fail(c, azs_user_del(c->st, name), user_what(c, name)));
}

static const optdef json_opt[] = { {"--json", 0, 0}, {NULL, 0, 0} };

static const char *join(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *shown = apr_array_make(p, a->nelts,
                                               sizeof(const char *));
    int i;

    if (a->nelts == 0) {
        return "-";
    }
    for (i = 0; i < a->nelts; i++) {
        APR_ARRAY_PUSH(shown, const char *) =
            plain(p, APR_ARRAY_IDX(a, i, const char *));
    }
    return apr_array_pstrcat(p, shown, ',');
}

static int cmd_user_list(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *users;
    apr_int64_t now = azs_now();
    int code, i, json, width = 4;

    if ((code = parse_args(c, "user list", argc, argv, json_opt, 0, 0, &a))
        || (code = begin_read(c))) {
        return end(c, code);
    }
    json = apr_table_get(a.opt, "--json") != NULL;
    if (azs_user_list(c->st, c->p, &users) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    for (i = 0; i < users->nelts; i++) {
        int n = (int)strlen(plain(c->p,
                              APR_ARRAY_IDX(users, i, azs_user_t).name));

        width = n > width ? (n > 32 ? 32 : n) : width;
    }
    if (json) {
        putchar('[');
    }
    else {
        printf("%-*s  %-8s  %-20s  %s\n", width, "NAME", "STATE", "EXPIRES",
               "ROLES");
    }
    for (i = 0; i < users->nelts; i++) {
        azs_user_t *u = &APR_ARRAY_IDX(users, i, azs_user_t);
        apr_array_header_t *roles;
        apr_pool_t *sp;

        apr_pool_create(&sp, c->p);
        if (azs_user_roles(c->st, u->id, sp, &roles) != AZS_RC_OK) {
            if (json) {
                putchar('\n');
            }
            return end(c, db_error(c));
        }
        if (json) {
            fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", stdout);
            json_str(u->name);
            printf(", \"state\": \"%s\", \"disabled\": %s, \"expires\": ",
                   user_state(u, now), u->disabled ? "true" : "false");
            json_time(sp, u->expires);
            fputs(", \"created\": ", stdout);
            json_time(sp, u->created);
            fputs(", \"updated\": ", stdout);
            json_time(sp, u->updated);
            fputs(", \"roles\": ", stdout);
            json_names(roles);
            putchar('}');
        }
        else {
            printf("%-*s  %-8s  %-20s  %s\n", width, plain(sp, u->name),
                   user_state(u, now), azs_time_format(sp, u->expires),
                   join(sp, roles));
        }
        apr_pool_destroy(sp);
    }
    if (json) {
        fputs(users->nelts ? "\n]\n" : "]\n", stdout);
    }
    return end(c, EX_OK);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a name -> chain hash, sorted. */
static apr_array_header_t *sorted_keys(apr_pool_t *p, apr_hash_t *h)
{
    apr_array_header_t *keys = apr_array_make(p, apr_hash_count(h),
                                              sizeof(const char *));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, h); hi; hi = apr_hash_next(hi)) {
        const void *k;

        apr_hash_this(hi, &k, NULL, NULL);
        APR_ARRAY_PUSH(keys, const char *) = k;
    }
    qsort(keys->elts, keys->nelts, sizeof(const char *), cmp_str);
    return keys;
}

/* JSON: [{"name": ..., "via": ...}] from a name -> chain hash. */
static void json_chains(apr_pool_t *p, apr_hash_t *h, const char *key)
{
    apr_array_header_t *keys = sorted_keys(p, h);
    int i;

    putchar('[');
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);

        fputs(i ? ", {\"" : "{\"", stdout);
        fputs(key, stdout);
        fputs("\": ", stdout);
        json_str(k);
        fputs(", \"via\": ", stdout);
        json_str(apr_hash_get(h, k, APR_HASH_KEY_STRING));
        putchar('}');
    }
    putchar(']');
}

static void text_chains(apr_pool_t *p, const char *title, apr_hash_t *h)
{
    apr_array_header_t *keys = sorted_keys(p, h);
    int i;

    printf("%s", title);
    if (keys->nelts == 0) {
        printf(" -\n");
        return;
    }
    putchar('\n');
    for (i = 0; i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, const char *);
        const char *via = apr_hash_get(h, k, APR_HASH_KEY_STRING);

        if (!strcmp(k, via)) {
            printf("  %s  (direct)\n", plain(p, k));
        }
        else {
            printf("  %s  (via %s)\n", plain(p, k), plain(p, via));
        }
    }
}

static int cmd_user_show(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_user_t u;
    apr_array_header_t *roles;
    apr_hash_t *eroles, *eperms;
    const char *name;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code;

    if ((code = parse_args(c, "user show", argc, argv, json_opt, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name)) || (code = begin_read(c))) {
        return end(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return end(c, rc_fail(c, r, user_what(c, name)));
    }
    if (azs_user_roles(c->st, u.id, c->p, &roles) != AZS_RC_OK
        || azs_user_effective(c->st, u.id, c->p, &eroles, &eperms)
           != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    if (apr_table_get(a.opt, "--json")) {
        fputs("{\"name\": ", stdout);
        json_str(u.name);
        printf(", \"state\": \"%s\", \"disabled\": %s, \"expires\": ",
               user_state(&u, now), u.disabled ? "true" : "false");
        json_time(c->p, u.expires);
        fputs(", \"created\": ", stdout);
        json_time(c->p, u.created);
        fputs(", \"updated\": ", stdout);
        json_time(c->p, u.updated);
        fputs(",\n \"roles\": ", stdout);
        json_names(roles);
        fputs(",\n \"effective_roles\": ", stdout);
        json_chains(c->p, eroles, "role");
        fputs(",\n \"permissions\": ", stdout);
        json_chains(c->p, eperms, "permission");
        fputs("}\n", stdout);
        return end(c, EX_OK);
    }
    printf("user:        %s\n", plain(c->p, u.name));
    printf("state:       %s\n", user_state(&u, now));
    printf("disabled:    %s\n", u.disabled ? "yes" : "no");
    printf("expires:     %s\n", azs_time_format(c->p, u.expires));
    printf("created:     %s\n", azs_time_format(c->p, u.created));
    printf("updated:     %s\n", azs_time_format(c->p, u.updated));
    printf("roles:       %s\n", join(c->p, roles));
    text_chains(c->p, "effective roles:", eroles);
    text_chains(c->p, "permissions:", eperms);
    return end(c, EX_OK);
}

/* ---- role --------------------------------------------------------------- */

/* role add / del ROLE: one name, one write. */
static int role_one(cli_t *c, const char *cmd, int argc,
                    const char *const *argv,
                    azs_rc (*op)(azs_store_t *, const char *))
{
    args_t a;
    const char *role;
    int code;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    if ((code = check_role_name(c, "role", role)) || (code = begin_write(c))) {
        return end(c, code);
    }
    return end(c, rc_fail(c, op(c->st, role), role_what(c, role)));
}

static int cmd_role_add(cli_t *c, int argc, const char *const *argv)
{
    return role_one(c, "role add", argc, argv, azs_role_add);
}

static int cmd_role_del(cli_t *c, int argc, const char *const *argv)
{
    return role_one(c, "role del", argc, argv, azs_role_del);
}

/* role grant / revoke / inherit / disinherit ROLE X...: one transaction
 * for the whole list. */
enum { ROLE_GRANT, ROLE_REVOKE, ROLE_INHERIT, ROLE_DISINHERIT };

static int cmd_role_edit(cli_t *c, int argc, const char *const *argv,
                         int op)
{
    static const char *const cmds[] = {
        "role grant", "role revoke", "role inherit", "role disinherit"
    };
    const char *cmd = cmds[op], *role;
    int inherit = op == ROLE_INHERIT || op == ROLE_DISINHERIT;
    args_t a;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 2, -1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    if ((code = check_role_name(c, "role", role))) {
        return code;
    }
    for (i = 1; i < a.pos->nelts; i++) {
        code = check_role_name(c, inherit ? "role" : "permission",
                               POS(&a, i));
        if (code) {
            return code;
        }
    }
    if ((code = begin_write(c))) {
        return end(c, code);
    }
    if ((r = azs_role_exists(c->st, role)) != AZS_RC_OK) {
        return end(c, rc_fail(c, r, role_what(c, role)));
    }
    for (i = 1; i < a.pos->nelts; i++) {
        const char *x = POS(&a, i);

        if (inherit && (r = azs_role_exists(c->st, x)) != AZS_RC_OK) {
            return end(c, rc_fail(c, r, role_what(c, x)));
        }
        switch (op) {
        case ROLE_GRANT:
            r = azs_role_grant(c->st, role, x);
            break;
        case ROLE_REVOKE:
            r = azs_role_revoke(c->st, role, x);
            break;
        case ROLE_INHERIT:
            r = azs_role_inherit(c->st, role, x);
            if (r == AZS_RC_INVALID) {
                return end(c, fail(EX_FAIL, "role %s cannot inherit %s: "
                                   "that would make a cycle",
                                   show(c->p, role), show(c->p, x)));
            }
            break;
        default:
            r = azs_role_disinherit(c->st, role, x);
            break;
        }
        /* Already there, or already gone: the wanted state is there. */
        if (r != AZS_RC_OK && r != AZS_RC_EXISTS && r != AZS_RC_NOTFOUND) {
            return end(c, rc_fail(c, r, show(c->p, x)));
        }
    }
    return end(c, EX_OK);
}

static int cmd_role_grant(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_GRANT);
}

static int cmd_role_revoke(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_REVOKE);
}

static int cmd_role_inherit(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_INHERIT);
}

static int cmd_role_disinherit(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_DISINHERIT);
}

static int cmd_role_list(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *roles;
    int code, i, json;

    if ((code = parse_args(c, "role list", argc, argv, json_opt, 0, 0, &a))
        || (code = begin_read(c))) {
        return end(c, code);
    }
    json = apr_table_get(a.opt, "--json") != NULL;
    if (azs_role_list(c->st, c->p, &roles) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    if (json) {
        putchar('[');
    }
    for (i = 0; i < roles->nelts; i++) {
        const char *role = APR_ARRAY_IDX(roles, i, const char *);
        apr_array_header_t *perms, *inherits, *members;
        apr_pool_t *sp;

        apr_pool_create(&sp, c->p);
        if (azs_role_detail(c->st, role, sp, &perms, &inherits, &members)
            != AZS_RC_OK) {
            if (json) {
                putchar('\n');
            }
            return end(c, db_error(c));
        }
        if (json) {
            fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", stdout);
            json_str(role);
            fputs(", \"inherits\": ", stdout);
            json_names(inherits);
            fputs(", \"permissions\": ", stdout);
            json_names(perms);
            printf(", \"members\": %d}", members->nelts);
        }
        else {
            printf("%s  inherits: %s  permissions: %s  members: %d\n",
                   plain(sp, role), join(sp, inherits), join(sp, perms),
                   members->nelts);
        }
        apr_pool_destroy(sp);
    }
    if (json) {
        fputs(roles->nelts ? "\n]\n" : "]\n", stdout);
    }
    return end(c, EX_OK);
}

static int cmd_role_show(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *perms, *inherits, *members, *all, *queue, *heirs;
    apr_hash_t *seen, *allperms;
    const char *role;
    azs_rc r;
    int code, i, head = 0;

    if ((code = parse_args(c, "role show", argc, argv, json_opt, 1, 1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    if ((code = check_role_name(c, "role", role)) || (code = begin_read(c))) {
        return end(c, code);
    }
    r = azs_role_detail(c->st, role, c->p, &perms, &inherits, &members);
    if (r != AZS_RC_OK) {
        return end(c, rc_fail(c, r, role_what(c, role)));
    }
    /* Everything the role carries, inherited included: walk its parents
     * (cycles are refused when written; seen guards anyway). */
    seen = apr_hash_make(c->p);
    allperms = apr_hash_make(c->p);
    queue = apr_array_make(c->p, 8, sizeof(const char *));
    APR_ARRAY_PUSH(queue, const char *) = role;
    apr_hash_set(seen, role, APR_HASH_KEY_STRING, role);
    while (head < queue->nelts) {
        const char *cur = APR_ARRAY_IDX(queue, head++, const char *);
        const char *chain = apr_hash_get(seen, cur, APR_HASH_KEY_STRING);
        apr_array_header_t *pp, *ii, *mm;

        if (azs_role_detail(c->st, cur, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return end(c, db_error(c));
        }
        for (i = 0; i < pp->nelts; i++) {
            const char *pn = APR_ARRAY_IDX(pp, i, const char *);

            if (!apr_hash_get(allperms, pn, APR_HASH_KEY_STRING)) {
                apr_hash_set(allperms, pn, APR_HASH_KEY_STRING, chain);
            }
        }
        for (i = 0; i < ii->nelts; i++) {
            const char *rn = APR_ARRAY_IDX(ii, i, const char *);

            if (!apr_hash_get(seen, rn, APR_HASH_KEY_STRING)) {
                apr_hash_set(seen, rn, APR_HASH_KEY_STRING,
                             apr_pstrcat(c->p, chain, " > ", rn, NULL));
                APR_ARRAY_PUSH(queue, const char *) = rn;
            }
        }
    }
    /* Roles that inherit this one directly. */
    heirs = apr_array_make(c->p, 4, sizeof(const char *));
    if (azs_role_list(c->st, c->p, &all) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    for (i = 0; i < all->nelts; i++) {
        const char *rn = APR_ARRAY_IDX(all, i, const char *);
        apr_array_header_t *pp, *ii, *mm;
        int j;

        if (azs_role_detail(c->st, rn, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return end(c, db_error(c));
        }
        for (j = 0; j < ii->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(ii, j, const char *), role)) {
                APR_ARRAY_PUSH(heirs, const char *) = rn;
            }
        }
    }
    if (apr_table_get(a.opt, "--json")) {
        fputs("{\"name\": ", stdout);
        json_str(role);
        fputs(",\n \"inherits\": ", stdout);
        json_names(inherits);
        fputs(",\n \"inherited_by\": ", stdout);
        json_names(heirs);
        fputs(",\n \"permissions\": ", stdout);
        json_names(perms);
        fputs(",\n \"all_permissions\": ", stdout);
        json_chains(c->p, allperms, "permission");
        fputs(",\n \"members\": ", stdout);
        json_names(members);
        fputs("}\n", stdout);
        return end(c, EX_OK);
    }
    printf("role:         %s\n", plain(c->p, role));
    printf("inherits:     %s\n", join(c->p, inherits));
    printf("inherited by: %s\n", join(c->p, heirs));
    printf("permissions:  %s\n", join(c->p, perms));
    printf("members:      %s\n", join(c->p, members));
    text_chains(c->p, "all permissions:", allperms);
    return end(c, EX_OK);
}

/* ---- token -------------------------------------------------------------- */

static int cmd_token_issue(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--expires", 1, 0}, {"--scope", 1, 1}, {"--label", 1, 0},
        {NULL, 0, 0}
    };
    args_t a;
    azs_user_t u;
    apr_hash_t *roles, *perms;
    apr_array_header_t *scopes;
    const apr_array_header_t *opts;
    const char *name, *when, *label, *token = NULL;
    unsigned char hash[AZS_SHA256_LEN];
    apr_int64_t expires = 0, id = 0;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, "token issue", argc, argv, defs, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((when = apr_table_get(a.opt, "--expires"))
        && (code = parse_when(c, "token issue", when, &expires))) {
        return code;
    }
    label = apr_table_get(a.opt, "--label");
    if ((code = check_user_name(c, name))
        || (label && (code = check_text("label", label)))) {
        return code;
    }
    scopes = apr_array_make(c->p, 4, sizeof(const char *));
    opts = apr_table_elts(a.opt);
    for (i = 0; i < opts->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(opts, i,
                                                    apr_table_entry_t);

        if (!strcmp(e->key, "--scope")) {
            if ((code = check_role_name(c, "permission", e->val))) {
                return code;
            }
            APR_ARRAY_PUSH(scopes, const char *) = e->val;
        }
    }
    if ((code = begin_write(c))) {
        return end(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return end(c, rc_fail(c, r, user_what(c, name)));
    }
    if (azs_user_effective(c->st, u.id, c->p, &roles, &perms) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    for (i = 0; i < scopes->nelts; i++) {
        const char *perm = APR_ARRAY_IDX(scopes, i, const char *);

        if (!apr_hash_get(perms, perm, APR_HASH_KEY_STRING)) {
            return end(c, fail(EX_FAIL, "user %s does not hold permission "
                               "%s (a token's scopes are a subset of its "
                               "user's permissions)", show(c->p, name),
                               show(c->p, perm)));
        }
    }
    if (azs_token_generate(c->p, &token) != AZS_RC_OK) {
        return end(c, fail(EX_FAIL, "cannot generate a token"));
    }
    azs_token_hash(hash, token);
    r = azs_token_add(c->st, name, hash, label ? label : "", expires, scopes,
                      &id);
    if (r != AZS_RC_OK) {
        return end(c, rc_fail(c, r, "token"));
    }
    /* Printed only once it is stored for good. */
    code = end(c, EX_OK);
    if (code == EX_OK) {
        printf("%s\n%" APR_INT64_T_FMT "\n", token, id);
        if (fflush(stdout) != 0) {
            code = fail(EX_FAIL, "cannot write the token: %s",
                        strerror(errno));
        }
    }
    explicit_bzero((char *)token, strlen(token));
    return code;
}

static int parse_id(cli_t *c, const char *text, apr_int64_t *id)
{
    char *endp;

    errno = 0;
    *id = apr_strtoi64(text, &endp, 10);
    if (!*text || *endp || errno || *id <= 0 || text[0] == '+'
        || text[0] == '-' || text[0] == ' ') {
        return usage("token revoke: invalid token id %s", show(c->p, text));
    }
    return EX_OK;
}

static int cmd_token_revoke(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_int64_t id;
    int code;

    if ((code = parse_args(c, "token revoke", argc, argv, NULL, 1, 1, &a))
        || (code = parse_id(c, POS(&a, 0), &id))
        || (code = begin_write(c))) {
        return end(c, code);
    }
    return end(c, rc_fail(c, azs_token_revoke(c->st, id, azs_now()),
                          apr_psprintf(c->p, "token %" APR_INT64_T_FMT,
                                       id)));
}

static const char *token_state(const azs_token_t *t, apr_int64_t now)
{
    if (t->revoked) {
        return "revoked";
    }
    if (t->expires && t->expires <= now) {
        return "expired";
    }
    return "active";
}

static int cmd_token_list(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *tokens;
    const char *user = NULL;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code, i, json;

    if ((code = parse_args(c, "token list", argc, argv, json_opt, 0, 1, &a))) {
        return code;
    }
    if (a.pos->nelts && (code = check_user_name(c, user = POS(&a, 0)))) {
        return code;
    }
    if ((code = begin_read(c))) {
        return end(c, code);
    }
    json = apr_table_get(a.opt, "--json") != NULL;
    if ((r = azs_token_list(c->st, user, c->p, &tokens)) != AZS_RC_OK) {
        return end(c, rc_fail(c, r, user ? user_what(c, user) : "token"));
    }
    if (json) {
        putchar('[');
    }
    else {
        printf("%-6s  %-16s  %-7s  %-20s  %-20s  %s  %s\n", "ID", "USER",
               "STATE", "CREATED", "EXPIRES", "SCOPES", "LABEL");
    }
    for (i = 0; i < tokens->nelts; i++) {
        azs_token_t *t = &APR_ARRAY_IDX(tokens, i, azs_token_t);

        if (json) {
            printf("%s {\"id\": %" APR_INT64_T_FMT ", \"user\": ",
                   i ? ",\n" : "\n", t->id);
            json_str(t->user);
            fputs(", \"label\": ", stdout);
            json_str(t->label);
            printf(", \"state\": \"%s\", \"created\": ", token_state(t, now));
            json_time(c->p, t->created);
            fputs(", \"expires\": ", stdout);
            json_time(c->p, t->expires);
            fputs(", \"revoked\": ", stdout);
            json_time(c->p, t->revoked);
            fputs(", \"scopes\": ", stdout);
            json_names(t->scopes);
            putchar('}');
        }
        else {
            printf("%-6" APR_INT64_T_FMT "  %-16s  %-7s  %-20s  %-20s  %s  "
                   "%s\n", t->id, plain(c->p, t->user), token_state(t, now),
                   azs_time_format(c->p, t->created),
                   azs_time_format(c->p, t->expires),
                   t->scopes->nelts ? join(c->p, t->scopes) : "(all)",
                   *t->label ? plain(c->p, t->label) : "-");
        }
    }
    if (json) {
        fputs(tokens->nelts ? "\n]\n" : "]\n", stdout);
    }
    return end(c, EX_OK);
}

/* ---- ip ----------------------------------------------------------------- */

static int parse_range(cli_t *c, const char *cmd, const char *text,
                       azs_cidr_t *range)
{
    const char *err = azs_cidr_parse(text, range);

    if (err) {
        return usage("%s: invalid address %s: %s", cmd, show(c->p, text),
                     err);
    }
    return EX_OK;
}

static int cmd_ip_block(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--expires", 1, 0}, {"--reason", 1, 0}, {NULL, 0, 0}
    };
    args_t a;
    azs_cidr_t range;
    apr_array_header_t *list;
    const char *when, *reason, *text;
    apr_int64_t expires = 0, now = azs_now();
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, "ip block", argc, argv, defs, 1, 1, &a))
        || (code = parse_range(c, "ip block", POS(&a, 0), &range))) {
        return code;
    }
    if ((when = apr_table_get(a.opt, "--expires"))
        && (code = parse_when(c, "ip block", when, &expires))) {
        return code;
    }
    reason = apr_table_get(a.opt, "--reason");
    if (reason && (code = check_text("reason", reason))) {
        return code;
    }
    if ((code = begin_write(c))) {
        return end(c, code);
    }
    text = azs_cidr_format(c->p, &range);
    r = azs_block_add(c->st, &range, reason ? reason : "", expires);
    if (r == AZS_RC_EXISTS) {
        /* An entry that has expired is replaced; a live one stays. */
        if (azs_block_list(c->st, c->p, &list) != AZS_RC_OK) {
            return end(c, db_error(c));
        }
        for (i = 0; i < list->nelts; i++) {
            azs_block_t *b = &APR_ARRAY_IDX(list, i, azs_block_t);

            if (b->range.bits == range.bits
                && !memcmp(b->range.net, range.net, 16)
                && b->expires && b->expires <= now) {
                r = azs_block_del(c->st, &range);
                if (r == AZS_RC_OK) {
                    r = azs_block_add(c->st, &range, reason ? reason : "",
                                      expires);
                }
                break;
            }
        }
        if (r == AZS_RC_EXISTS) {
            return end(c, fail(EX_FAIL, "%s is already blocked", text));
        }
    }
    return end(c, rc_fail(c, r, text));
}

static int cmd_ip_unblock(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_cidr_t range;
    azs_rc r;
    int code;

    if ((code = parse_args(c, "ip unblock", argc, argv, NULL, 1, 1, &a))
        || (code = parse_range(c, "ip unblock", POS(&a, 0), &range))
        || (code = begin_write(c))) {
        return end(c, code);
    }
    r = azs_block_del(c->st, &range);
    if (r == AZS_RC_NOTFOUND) {
        return end(c, fail(EX_FAIL, "%s is not on the blocklist",
                           azs_cidr_format(c->p, &range)));
    }
    return end(c, rc_fail(c, r, azs_cidr_format(c->p, &range)));
}

static int cmd_ip_list(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *list;
    apr_int64_t now = azs_now();
    int code, i, json;

    if ((code = parse_args(c, "ip list", argc, argv, json_opt, 0, 0, &a))
        || (code = begin_read(c))) {
        return end(c, code);
    }
    json = apr_table_get(a.opt, "--json") != NULL;
    if (azs_block_list(c->st, c->p, &list) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    if (json) {
        putchar('[');
    }
    else {
        printf("%-43s  %-7s  %-20s  %-20s  %s\n", "ADDRESS", "STATE",
               "CREATED", "EXPIRES", "REASON");
    }
    for (i = 0; i < list->nelts; i++) {
        azs_block_t *b = &APR_ARRAY_IDX(list, i, azs_block_t);
        const char *state = b->expires && b->expires <= now ? "expired"
                                                            : "active";

        if (json) {
            fputs(i ? ",\n {\"address\": " : "\n {\"address\": ", stdout);
            json_str(b->text);
            printf(", \"id\": %" APR_INT64_T_FMT ", \"state\": \"%s\", "
                   "\"created\": ", b->id, state);
            json_time(c->p, b->created);
            fputs(", \"expires\": ", stdout);
            json_time(c->p, b->expires);
            fputs(", \"reason\": ", stdout);
            json_str(b->reason);
            putchar('}');
        }
        else {
            printf("%-43s  %-7s  %-20s  %-20s  %s\n", b->text, state,
                   azs_time_format(c->p, b->created),
                   azs_time_format(c->p, b->expires),
                   *b->reason ? plain(c->p, b->reason) : "-");
        }
    }
    if (json) {
        fputs(list->nelts ? "\n]\n" : "]\n", stdout);
    }
    return end(c, EX_OK);
}

/* ---- check -------------------------------------------------------------- */

static int cmd_check(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_user_t u;
    apr_hash_t *roles, *perms;
    apr_array_header_t *all, *granters;
    const char *name, *perm, *chain;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code, i, j;

    if ((code = parse_args(c, "check", argc, argv, NULL, 2, 2, &a))) {
        return code;
    }
    name = POS(&a, 0);
    perm = POS(&a, 1);
    if ((code = check_user_name(c, name))
        || (code = check_role_name(c, "permission", perm))
        || (code = begin_read(c))) {
        return end(c, code);
    }
    r = azs_user_get(c->st, name, &u, c->p);
    if (r == AZS_RC_NOTFOUND) {
        return end(c, fail(EX_FAIL, "denied: unknown user %s",
                           show(c->p, name)));
    }
    if (r != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    switch (azs_account_state(&u, now)) {
    case AZS_REASON_ACCOUNT_DISABLED:
        return end(c, fail(EX_FAIL, "denied: user %s is disabled",
                           show(c->p, name)));
    case AZS_REASON_ACCOUNT_EXPIRED:
        return end(c, fail(EX_FAIL, "denied: user %s expired on %s",
                           show(c->p, name),
                           azs_time_format(c->p, u.expires)));
    default:
        break;
    }
    if (azs_user_effective(c->st, u.id, c->p, &roles, &perms) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    chain = apr_hash_get(perms, perm, APR_HASH_KEY_STRING);
    if (chain) {
        printf("granted: user %s has permission %s through role %s\n",
               show(c->p, name), show(c->p, perm), plain(c->p, chain));
        return end(c, EX_OK);
    }
    /* Denied: say which roles would have granted it, if any. */
    if (azs_role_list(c->st, c->p, &all) != AZS_RC_OK) {
        return end(c, db_error(c));
    }
    granters = apr_array_make(c->p, 4, sizeof(const char *));
    for (i = 0; i < all->nelts; i++) {
        const char *rn = APR_ARRAY_IDX(all, i, const char *);
        apr_array_header_t *pp, *ii, *mm;

        if (azs_role_detail(c->st, rn, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return end(c, db_error(c));
        }
        for (j = 0; j < pp->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(pp, j, const char *), perm)) {
                APR_ARRAY_PUSH(granters, const char *) = rn;
            }
        }
    }
    if (granters->nelts == 0) {
        return end(c, fail(EX_FAIL, "denied: no such permission: no role "
                           "grants %s", show(c->p, perm)));
    }
    return end(c, fail(EX_FAIL, "denied: user %s lacks permission %s "
                       "(granted by role %s; user holds %s)",
                       show(c->p, name), show(c->p, perm),
                       join(c->p, granters),
                       apr_hash_count(roles)
                       ? join(c->p, sorted_keys(c->p, roles))
                       : "no role"));
}

/* ---- import ------------------------------------------------------------- */

/* httpd reads these files with ap_cfg_getline: leading and trailing
 * white space goes, and empty lines and lines starting with '#' are
 * skipped. */
static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'
           || *s == '\f' || *s == '\v') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'
                     || e[-1] == '\n' || e[-1] == '\f' || e[-1] == '\v')) {
        *--e = '\0';
    }
    return s;
}

/* FILE, or standard input for "-".  Opened as the files beside the
 * database are (see open_checked): root often runs the import, the file
 * may sit in a directory someone else can write, and what root reads
 * goes into a database httpd's user can read. */
static int open_input(cli_t *c, const char *file, FILE **in)
{
    const char *shown = show_n(c->p, file, 0);
    int fd, code, err;

    if (!strcmp(file, "-")) {
        *in = stdin;
        return EX_OK;
    }
    code = open_checked(AT_FDCWD, file, shown, O_RDONLY, 0, &fd);
    if (code == EX_OK && (*in = fdopen(fd, "r")) == NULL) {
        err = errno;
        close(fd);
        errno = err;
        code = -1;
    }
    if (code < 0) {
        return fail(EX_FAIL, "cannot read %s: %s", shown, strerror(errno));
    }
    return code;
}

/* Why azs_hash_supported refused a hash: a scheme that is kept, but a
 * malformed hash or one whose cost is above the limit (it would hold a
 * CPU for every login attempt), or a scheme that is not kept at all. */
static const char *hash_refusal(const char *hash)
{
    static const char *const kept[] = {
        "$2y$", "$2a$", "$2b$", "$5$", "$6$", "$apr1$", "{SHA}", NULL
    };
    int i;

    for (i = 0; kept[i]; i++) {
        if (!strncmp(hash, kept[i], strlen(kept[i]))) {
            return "password hash refused: malformed, or its cost (bcrypt "
                   "cost, rounds= of $5$ and $6$) is above the limit";
        }
    }
    return "unsupported password hash (bcrypt, $apr1$, {SHA}, $5$ and $6$ "
           "are kept; plain text and crypt() are not)";
}

static int import_summary(cli_t *c, const char *file, long done,
                          long refused, int code)
{
    if (code != EX_OK) {
        return end(c, code);
    }
    code = end(c, done == 0 && refused > 0
                  ? fail(EX_FAIL, "nothing imported from %s",
                         show_n(c->p, file, 0))
                  : EX_OK);
    return code;
}

static int cmd_import_htpasswd(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_hash_t *seen;
    apr_pool_t *lp;
    const char *file;
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, done = 0, updated = 0, refused = 0;
    int code = EX_OK;

    if ((code = parse_args(c, "import htpasswd", argc, argv, NULL, 1, 1,
                           &a))) {
        return code;
    }
    file = POS(&a, 0);
    if ((code = open_input(c, file, &in))) {
        return code;
    }
    if ((code = begin_write(c))) {
        fclose(in);
        return end(c, code);
    }
    seen = apr_hash_make(c->p);
    apr_pool_create(&lp, c->p);
    while ((len = getline(&line, &cap, in)) >= 0) {
        const char *why = NULL, *who = "";
        char *l, *name, *hash, *colon;
        long *first;
        azs_rc r = AZS_RC_OK;

        lineno++;
        apr_pool_clear(lp);
        if ((apr_size_t)len != strlen(line)) {
            why = "line contains a NUL byte";
            goto refuse;
        }
        l = trim(line);
        if (!*l || *l == '#') {
            continue;
        }
        /* name:hash[:ignored], as mod_authn_file reads it. */
        if (!(colon = strchr(l, ':'))) {
            why = "no ':' between user name and hash";
            goto refuse;
        }
        *colon = '\0';
        name = l;
        hash = colon + 1;
        if ((colon = strchr(hash, ':'))) {
            *colon = '\0';
        }
        if ((why = azs_user_name_invalid(name))) {
            why = apr_pstrcat(lp, "invalid user name: ", why, NULL);
            goto refuse;
        }
        who = apr_pstrcat(lp, "user ", show(lp, name), ": ", NULL);
        if (!*hash) {
            why = "empty password hash";
            goto refuse;
        }
        if (!azs_hash_supported(hash)) {
            why = hash_refusal(hash);
            goto refuse;
        }
        if ((first = apr_hash_get(seen, name, APR_HASH_KEY_STRING))) {
            why = apr_psprintf(lp, "already on line %ld (httpd uses the "
                               "first)", *first);
            goto refuse;
        }
        first = apr_pmemdup(c->p, &lineno, sizeof(lineno));
        apr_hash_set(seen, apr_pstrdup(c->p, name), APR_HASH_KEY_STRING,
                     first);
        r = azs_user_add(c->st, name, hash, 0, 0);
        if (r == AZS_RC_EXISTS) {
            r = azs_user_set_hash(c->st, name, hash);
            updated += r == AZS_RC_OK;
        }
        if (r == AZS_RC_OK) {
            done++;
            continue;
        }
        if (r == AZS_RC_DBERR) {
            code = db_error(c);
            break;
        }
        why = "refused by the database";
refuse:
        refused++;
        fprintf(stderr, "htauthz: %s:%ld: %s%s\n", show_n(lp, file, 0),
                lineno, who, why);
    }
    if (code == EX_OK && ferror(in)) {
        code = fail(EX_FAIL, "cannot read %s: %s", show_n(c->p, file, 0),
                    strerror(errno));
    }
    free(line);
    if (in != stdin) {
        fclose(in);
    }
    if (code == EX_OK) {
        printf("imported %ld, refused %ld\n", done, refused);
        if (updated) {
            printf("%ld of them replaced the hash of an existing user\n",
                   updated);
        }
    }
    return import_summary(c, file, done, refused, code);
}

static int cmd_import_htgroup(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_pool_t *lp;
    const char *file;
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, groups = 0, created = 0, members = 0, refused = 0;
    int code = EX_OK;

    if ((code = parse_args(c, "import htgroup", argc, argv, NULL, 1, 1,
                           &a))) {
        return code;
    }
    file = POS(&a, 0);
    if ((code = open_input(c, file, &in))) {
        return code;
    }
    if ((code = begin_write(c))) {
        fclose(in);
        return end(c, code);
    }
    apr_pool_create(&lp, c->p);
    while (code == EX_OK && (len = getline(&line, &cap, in)) >= 0) {
        const char *why = NULL, *fname;
        char *l, *group = NULL, *rest = NULL, *colon, *member, *save = NULL;
        azs_rc r;

        lineno++;
        apr_pool_clear(lp);
        fname = show_n(lp, file, 0);
        if ((apr_size_t)len != strlen(line)) {
            why = "line contains a NUL byte";
        }
        else if (*(l = trim(line)) == '\0' || *l == '#') {
            continue;
        }
        else if (!(colon = strchr(l, ':'))) {
            why = "no ':' after the group name";
        }
        else {
            *colon = '\0';
            group = trim(l);
            rest = colon + 1;
            if ((why = azs_role_name_invalid(group))) {
                why = apr_psprintf(lp, "invalid group name %s: %s",
                                   show(lp, group), why);
            }
        }
        if (why) {
            refused++;
            fprintf(stderr, "htauthz: %s:%ld: %s\n", fname, lineno, why);
            continue;
        }
        r = azs_role_exists(c->st, group);
        if (r == AZS_RC_NOTFOUND && (r = azs_role_add(c->st, group)) == AZS_RC_OK) {
            created++;
        }
        if (r != AZS_RC_OK) {
            code = db_error(c);
            break;
        }
        groups++;
        for (member = strtok_r(rest, " \t", &save); member;
             member = strtok_r(NULL, " \t", &save)) {
            if ((why = azs_user_name_invalid(member))) {
                why = apr_psprintf(lp, "invalid user name %s: %s",
                                   show(lp, member), why);
            }
            else if ((r = azs_user_grant(c->st, member, group)) == AZS_RC_OK
                     || r == AZS_RC_EXISTS) {
                members += r == AZS_RC_OK;
                continue;
            }
            else if (r == AZS_RC_NOTFOUND) {
                why = apr_psprintf(lp, "user %s not found (import the "
                                   "htpasswd file first)",
                                   show(lp, member));
            }
            else {
                code = db_error(c);
                break;
            }
            refused++;
            fprintf(stderr, "htauthz: %s:%ld: group %s: %s\n", fname, lineno,
                    show(lp, group), why);
        }
    }
    if (code == EX_OK && ferror(in)) {
        code = fail(EX_FAIL, "cannot read %s: %s", show_n(c->p, file, 0),
                    strerror(errno));
    }
    free(line);
    if (in != stdin) {
        fclose(in);
    }
    if (code == EX_OK) {
        printf("imported %ld groups (%ld new roles, %ld new members), "
               "refused %ld\n", groups, created, members, refused);
    }
    return import_summary(c, file, groups, refused, code);
}

/* ---- dispatch ----------------------------------------------------------- */

typedef int (*cmd_fn)(cli_t *c, int argc, const char *const *argv);

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
