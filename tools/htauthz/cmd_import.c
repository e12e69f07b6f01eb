/*
 * cmd_import.c - htauthz import htpasswd FILE, import htgroup FILE.
 *
 * One loop reads either file, in one write transaction; the core parses
 * each line (azs_import_line) and a callback per format stores the entry
 * or reports the refusal.  A refused line is reported on stderr with its
 * line number and the rest goes on; the command fails only when nothing
 * was imported (doc/htauthz.1, COMMANDS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "htauthz.h"

typedef struct import import_t;

typedef struct {
    const char *cmd;                    /* "import htpasswd" */
    azs_import_format format;
    /* Stores an entry, or reports a refused line: EX_OK to go on. */
    int (*line)(import_t *im, azs_line_kind kind,
                const azs_import_line_t *l, apr_pool_t *lp);
    /* The summary on stdout, once everything is read. */
    void (*summary)(const import_t *im);
} import_format_t;

struct import {
    cli_t *c;
    const char *cmd;                    /* "import htpasswd" */
    const char *file;                   /* as given */
    const char *what;                   /* "users", "groups" */
    long lines;                         /* read so far */
    int progress;                       /* stderr is a terminal */
    int shown;                          /* a progress line is on it */
    int ever;                           /* one was shown: end with one */
    apr_int64_t next_ms;                /* when it may be shown again */
    long done;                          /* users, or groups, imported */
    long refused;                       /* lines, or members, refused */
    long updated;                       /* htpasswd: users given a hash */
    long created, members;              /* htgroup: new roles, members */
};

/* ---- progress, on a terminal only ---------------------------------------- */

#define PROGRESS_MS 100                 /* at most ten times a second */
#define PROGRESS_START_MS 300

static apr_int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "\rimport: 120000 lines, 118000 users" over the last one, when stderr
 * is a terminal and the last was shown PROGRESS_MS ago or more (last:
 * now, whatever the time). */
static void progress(import_t *im, int last)
{
    apr_int64_t now;

    if (!im->progress) {
        return;
    }
    now = mono_ms();
    if (!last && now < im->next_ms) {
        return;
    }
    im->next_ms = now + PROGRESS_MS;
    im->ever = 1;
    fprintf(stderr, "\rimport: %ld lines, %ld %s", im->lines, im->done,
            im->what);
    im->shown = 1;
    fflush(stderr);
}

/* Ends the progress line, so a message starts on a line of its own. */
static void progress_end(import_t *im)
{
    if (im->shown) {
        fputc('\n', stderr);
        im->shown = 0;
    }
}

/* "htauthz: FILE:LINE: " who why, on stderr; it counts as refused. */
static int import_refuse(import_t *im, const azs_import_line_t *l,
                         apr_pool_t *lp, const char *who, const char *why)
{
    im->refused++;
    progress_end(im);
    fprintf(stderr, "htauthz: %s:%ld: %s%s\n", show_n(lp, im->file, 0),
            l->lineno, who, why);
    return EX_OK;
}

/* ---- htpasswd ----------------------------------------------------------- */

/* A user already in the database gets the file's hash; roles, state and
 * tokens are kept. */
static int htpasswd_line(import_t *im, azs_line_kind kind,
                         const azs_import_line_t *l, apr_pool_t *lp)
{
    const char *who = l->name ? apr_pstrcat(lp, "user ", show(lp, l->name),
                                            ": ", NULL)
                              : "";
    azs_rc r;

    if (kind == AZS_LINE_REFUSED) {
        return import_refuse(im, l, lp, who, l->bad_name
                             ? apr_pstrcat(lp, "invalid user name: ",
                                           l->why, NULL)
                             : l->why);
    }
    r = azs_user_add(im->c->st, l->name, l->hash, 0, 0);
    if (r == AZS_RC_EXISTS) {
        r = azs_user_set_hash(im->c->st, l->name, l->hash);
        im->updated += r == AZS_RC_OK;
    }
    if (r == AZS_RC_OK) {
        im->done++;
        return EX_OK;
    }
    if (r == AZS_RC_DBERR) {
        progress_end(im);
        return db_error(im->c);
    }
    return import_refuse(im, l, lp, who, "refused by the database");
}

static void htpasswd_summary(const import_t *im)
{
    printf("imported %ld, refused %ld\n", im->done, im->refused);
    if (im->updated) {
        printf("%ld of them replaced the hash of an existing user\n",
               im->updated);
    }
}

/* ---- htgroup ------------------------------------------------------------ */

/* A missing role is created; a listed user that exists becomes a member,
 * one that does not is refused on its own. */
static int htgroup_line(import_t *im, azs_line_kind kind,
                        const azs_import_line_t *l, apr_pool_t *lp)
{
    azs_store_t *st = im->c->st;
    char *rest = l->members;
    const char *member, *why, *who;
    azs_rc r;

    if (kind == AZS_LINE_REFUSED) {
        return import_refuse(im, l, lp, "", l->bad_name
                             ? apr_psprintf(lp, "invalid group name %s: %s",
                                            show(lp, l->bad_name), l->why)
                             : l->why);
    }
    r = azs_role_exists(st, l->name);
    if (r == AZS_RC_NOTFOUND
        && (r = azs_role_add(st, l->name)) == AZS_RC_OK) {
        im->created++;
    }
    if (r != AZS_RC_OK) {
        progress_end(im);
        return db_error(im->c);
    }
    im->done++;
    who = apr_pstrcat(lp, "group ", show(lp, l->name), ": ", NULL);
    while ((member = azs_import_member(&rest)) != NULL) {
        if ((why = azs_user_name_invalid(member))) {
            why = apr_psprintf(lp, "invalid user name %s: %s",
                               show(lp, member), why);
        }
        else if ((r = azs_user_grant(st, member, l->name)) == AZS_RC_OK
                 || r == AZS_RC_EXISTS) {
            im->members += r == AZS_RC_OK;
            continue;
        }
        else if (r == AZS_RC_NOTFOUND) {
            why = apr_psprintf(lp, "user %s not found (import the "
                               "htpasswd file first)", show(lp, member));
        }
        else {
            progress_end(im);
            return db_error(im->c);
        }
        import_refuse(im, l, lp, who, why);
    }
    return EX_OK;
}

static void htgroup_summary(const import_t *im)
{
    printf("imported %ld groups (%ld new roles, %ld new members), "
           "refused %ld\n", im->done, im->created, im->members,
           im->refused);
}

/* ---- the loop ----------------------------------------------------------- */

static int import_file(cli_t *c, int argc, const char *const *argv,
                       const import_format_t *f)
{
    import_t im;
    args_t a;
    azs_import_t *reader;
    azs_import_line_t l;
    azs_line_kind kind;
    apr_pool_t *lp;
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int code;

    if ((code = parse_args(c, f->cmd, argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    memset(&im, 0, sizeof(im));
    im.c = c;
    im.cmd = f->cmd;
    im.file = POS(&a, 0);
    im.what = f->format == AZS_IMPORT_HTPASSWD ? "users" : "groups";
    /* The audit row names the file and the counts, never its content. */
    audit_start(c, f->cmd);
    audit_word(c, im.file);
    if ((code = open_input(c, im.file, &in))) {
        return code;
    }
    /* Shown once the import has taken PROGRESS_START_MS (a short file
     * prints nothing more than before), and not over lines typed on the
     * terminal. */
    im.progress = isatty(STDERR_FILENO) && !isatty(fileno(in));
    im.next_ms = mono_ms() + PROGRESS_START_MS;
    if ((code = begin_write(c))) {
        fclose(in);
        return finish(c, code);
    }
    reader = azs_import_make(f->format, c->p);
    apr_pool_create(&lp, c->p);
    while (code == EX_OK && (len = getline(&line, &cap, in)) >= 0) {
        apr_pool_clear(lp);
        im.lines++;
        kind = azs_import_line(reader, line, (apr_size_t)len, &l, lp);
        if (kind != AZS_LINE_SKIP) {
            code = f->line(&im, kind, &l, lp);
        }
        progress(&im, 0);
    }
    if (im.ever) {
        progress(&im, 1);
    }
    progress_end(&im);
    if (code == EX_OK && ferror(in)) {
        code = fail(EX_FAIL, "cannot read %s: %s", show_n(c->p, im.file, 0),
                    strerror(errno));
    }
    free(line);
    if (in != stdin) {
        fclose(in);
    }
    if (code != EX_OK) {
        return finish(c, code);
    }
    if (f->format == AZS_IMPORT_HTPASSWD) {
        audit_fact(c, "imported=%ld updated=%ld refused=%ld", im.done,
                   im.updated, im.refused);
    }
    else {
        audit_fact(c, "groups=%ld new_roles=%ld new_members=%ld "
                   "refused=%ld", im.done, im.created, im.members,
                   im.refused);
    }
    f->summary(&im);
    return finish(c, im.done == 0 && im.refused > 0
                     ? fail(EX_FAIL, "nothing imported from %s",
                            show_n(c->p, im.file, 0))
                     : EX_OK);
}

int cmd_import_htpasswd(cli_t *c, int argc, const char *const *argv)
{
    static const import_format_t htpasswd = {
        "import htpasswd", AZS_IMPORT_HTPASSWD, htpasswd_line,
        htpasswd_summary
    };

    return import_file(c, argc, argv, &htpasswd);
}

int cmd_import_htgroup(cli_t *c, int argc, const char *const *argv)
{
    static const import_format_t htgroup = {
        "import htgroup", AZS_IMPORT_HTGROUP, htgroup_line, htgroup_summary
    };

    return import_file(c, argc, argv, &htgroup);
}
