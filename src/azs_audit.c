/*
 * azs_audit.c - the audit trail of htauthz: one row for each command that
 * wrote or tried to (schema version 5, table audit).
 *
 * The rows hold what the caller gives: the command's names, ids and
 * options as words, never a password, hash or token (htauthz builds them
 * from the parsed command, not from argv).  Every text is made one line
 * of valid UTF-8 here, so a row can be stored on PostgreSQL and shown on
 * a terminal as it is.  No trigger reads or writes the table: a row
 * changes no generation and adds nothing to the change feed.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "azs.h"

#define AUDIT_ARGS_MAX    65536
#define AUDIT_WORD_MAX    512     /* one operand, so the facts after it
                                   * (a token's id, an import's counts)
                                   * always fit */
#define AUDIT_OUTCOME_MAX 512
#define AUDIT_USER_MAX    128

int azs_utf8_control(const unsigned char *s, int n)
{
    if (n == 1) {
        return s[0] < 0x20 || s[0] == 0x7f;
    }
    /* C1 (U+0080..U+009F): moves a terminal like a C0 one. */
    if (n == 2) {
        return s[0] == 0xc2 && s[1] < 0xa0;
    }
    /* Bidirectional formatting (U+200E, U+200F, U+202A..U+202E,
     * U+2066..U+2069): reorders how the rest of a line reads. */
    return n == 3 && s[0] == 0xe2
           && ((s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f
                                 || (s[2] >= 0xaa && s[2] <= 0xae)))
               || (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9));
}

int azs_utf8_len(const unsigned char *s)
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

/* s with control characters and bytes that are not UTF-8 as \xHH; quote:
 * also '"' and '\\' escaped and the whole in double quotes.  At most max
 * bytes of s; longer ends with "...". */
static const char *clean(apr_pool_t *p, const char *s, int quote,
                         apr_size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t len = strlen(s), i = 0;
    char *out, *o;

    if (len > max) {
        len = max;
    }
    o = out = apr_palloc(p, len * 4 + 8);
    if (quote) {
        *o++ = '"';
    }
    while (i < len) {
        int n = azs_utf8_len(u + i);

        if (quote && (u[i] == '"' || u[i] == '\\')) {
            *o++ = '\\';
            *o++ = (char)u[i++];
        }
        else if (n == 1 && u[i] >= 0x20 && u[i] != 0x7f) {
            *o++ = (char)u[i++];
        }
        else if (n > 1 && i + n <= len && !azs_utf8_control(u + i, n)) {
            memcpy(o, u + i, n);
            o += n;
            i += n;
        }
        else {
            o += apr_snprintf(o, 5, "\\x%02x", u[i++]);
        }
    }
    if (quote) {
        *o++ = '"';
    }
    if (u[i]) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

const char *azs_audit_quote(apr_pool_t *p, const char *word)
{
    const unsigned char *u = (const unsigned char *)word;

    if (!*u) {
        return "\"\"";
    }
    if (strlen(word) > AUDIT_WORD_MAX) {
        return clean(p, word, 1, AUDIT_WORD_MAX);
    }
    for (; *u; u++) {
        if (*u <= 0x20 || *u == 0x7f || *u == '"' || *u == '\\'
            || *u == '\'') {
            return clean(p, word, 1, AUDIT_WORD_MAX);
        }
        if (*u >= 0x80) {
            int n = azs_utf8_len(u);

            if (n == 0 || azs_utf8_control(u, n)) {
                return clean(p, word, 1, AUDIT_WORD_MAX);
            }
            u += n - 1;
        }
    }
    return word;
}

const char *azs_audit_text(apr_pool_t *p, const char *text, apr_size_t max)
{
    return clean(p, text, 0, max);
}

const char *azs_audit_user(apr_pool_t *p)
{
    const char *sudo = getenv("SUDO_USER");
    struct passwd *pw = getpwuid(getuid());
    const char *me = pw && pw->pw_name && *pw->pw_name
                     ? clean(p, pw->pw_name, 0, AUDIT_USER_MAX)
                     : apr_psprintf(p, "uid %lu", (unsigned long)getuid());

    if (!sudo || !*sudo) {
        return me;
    }
    /* sudo sets SUDO_USER for root: then it names who ran sudo.  Anyone
     * else can set it to anything: it is shown beside the real name,
     * never instead of it. */
    if (getuid() == 0) {
        return clean(p, sudo, 0, AUDIT_USER_MAX);
    }
    return apr_pstrcat(p, me, " (SUDO_USER ",
                       clean(p, sudo, 0, AUDIT_USER_MAX), ")", NULL);
}

#define AUDIT_INSERT \
    "INSERT INTO audit (at, sys_user, command, args, outcome)" \
    " VALUES (?1, ?2, ?3, ?4, ?5)"

/* The row's texts, cleaned. */
typedef struct {
    apr_int64_t at;
    const char *user, *command, *args, *outcome;
} audit_row;

static void audit_prepare(apr_pool_t *p, const azs_audit_t *a, audit_row *r)
{
    r->at = a->at > 0 ? a->at : azs_now();
    r->user = clean(p, a->sys_user ? a->sys_user : "", 0, AUDIT_USER_MAX);
    r->command = clean(p, a->command ? a->command : "", 0, AZS_NAME_MAX);
    r->args = clean(p, a->args ? a->args : "", 0, AUDIT_ARGS_MAX);
    r->outcome = clean(p, a->outcome ? a->outcome : "ok", 0,
                       AUDIT_OUTCOME_MAX);
}

azs_rc azs_audit_add(azs_store_t *st, const azs_audit_t *a)
{
    azs_stmt_t *s;
    apr_pool_t *p;
    audit_row r;
    azs_rc rc;
    int step;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    audit_prepare(p, a, &r);
    rc = azs_store_prepare(st, AUDIT_INSERT, &s);
    if (rc == AZS_RC_OK) {
        azs_bind_int64(s, 1, r.at);
        azs_bind_text(s, 2, r.user);
        azs_bind_text(s, 3, r.command);
        azs_bind_text(s, 4, r.args);
        azs_bind_text(s, 5, r.outcome);
        step = azs_step(s);
        rc = step == AZS_STEP_DONE ? AZS_RC_OK : AZS_RC_DBERR;
        azs_reset(s);
    }
    apr_pool_destroy(p);        /* after the reset: the texts are bound */
    return rc;
}

int azs_audit_add_sqlite(sqlite3 *db, const azs_audit_t *a)
{
    sqlite3_stmt *s = NULL;
    apr_pool_t *p;
    audit_row r;
    int rc;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return SQLITE_NOMEM;
    }
    audit_prepare(p, a, &r);
    rc = sqlite3_prepare_v2(db, AUDIT_INSERT, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, r.at);
        sqlite3_bind_text(s, 2, r.user, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r.command, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, r.args, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, r.outcome, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(s);
    apr_pool_destroy(p);
    return rc;
}

azs_rc azs_audit_list(azs_store_t *st, apr_int64_t since, azs_audit_fn fn,
                      void *baton)
{
    /* Without --since, the table in the order of its key (the order the
     * rows were written in); with it, the index on at: only the rows
     * asked for are read, whatever the size of the table. */
    static const char all_sql[] =
        "SELECT id, at, sys_user, db_role, command, args, outcome"
        " FROM audit ORDER BY id";
    static const char since_sql[] =
        "SELECT id, at, sys_user, db_role, command, args, outcome"
        " FROM audit WHERE at >= ?1 ORDER BY at, id";
    azs_stmt_t *s;
    azs_audit_t a;
    azs_rc r;
    int rc;

    r = azs_store_prepare(st, since > 0 ? since_sql : all_sql, &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    if (since > 0) {
        azs_bind_int64(s, 1, since);
    }
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        const char *t;

        a.id = azs_col_int64(s, 0);
        a.at = azs_col_int64(s, 1);
        a.sys_user = (t = azs_col_text(s, 2)) ? t : "";
        a.db_role = (t = azs_col_text(s, 3)) ? t : "";
        a.command = (t = azs_col_text(s, 4)) ? t : "";
        a.args = (t = azs_col_text(s, 5)) ? t : "";
        a.outcome = (t = azs_col_text(s, 6)) ? t : "";
        if (fn(&a, baton) != 0) {
            azs_reset(s);
            return AZS_RC_OK;
        }
    }
    if (rc != AZS_STEP_DONE) {
        azs_reset(s);
        return AZS_RC_DBERR;
    }
    azs_reset(s);
    return AZS_RC_OK;
}
