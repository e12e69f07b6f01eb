/*
 * azs_pg.c - PostgreSQL under the store's statements (libpq directly).
 *
 * The store (azs_store.c) speaks to SQLite or to this.  Every call waits
 * for the server with a deadline: a connection that does not answer in
 * time is dropped (its statements go with it), and the caller's handle is
 * then stale, so the next request opens a new one.  Nothing here blocks
 * without a bound except where the caller asked for no deadline
 * (htauthz: 0).
 *
 * Statements are prepared by name on first use, once per connection.
 * Parameters go as text, blobs as binary; results come back in binary
 * (integers as big-endian, text and bytea as their bytes), so nothing is
 * parsed or unescaped.
 */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <poll.h>
#include <time.h>

#include <apr_strings.h>

#include "config.h"
#include "azs.h"

int azs_is_pg_url(const char *s)
{
    return s && (strncmp(s, "postgresql://", 13) == 0
                 || strncmp(s, "postgres://", 11) == 0
                 || strncmp(s, "postgresql:", 11) == 0);
}

/* What libpq is given: a URI as it is, "postgresql:key=value ..." without
 * its prefix. */
const char *azs_pg_conninfo(const char *url)
{
    if (strncmp(url, "postgresql:", 11) == 0 && url[11] != '/') {
        return url + 11;
    }
    return url;
}

int azs_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p;
        int n, i;
        unsigned v;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1, v = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            n = 2, v = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, v = c & 0x07;
        }
        else {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }
            v = (v << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff)))
            || (n == 3 && (v < 0x10000 || v > 0x10ffff))) {
            return 0;
        }
        p += n + 1;
    }
    return 1;
}

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

const char *azs_pg_url_check(const char *url, apr_pool_t *p)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(azs_pg_conninfo(url), &err);
    PQconninfoOption *o;
    const char *why = NULL;

    if (!opts) {
        why = apr_psprintf(p, "not a PostgreSQL connection string: %s",
                           err ? err : "cannot parse it");
        PQfreemem(err);
        return why;
    }
    for (o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) {
            why = "the connection string holds a password: put it in "
                  "~/.pgpass (or the file PGPASSFILE names) of the user "
                  "that connects";
        }
        /* The key's passphrase is as secret: the string is shown in
         * logs and in the metrics' labels. */
        if (strcmp(o->keyword, "sslpassword") == 0 && o->val && *o->val) {
            why = "the connection string holds sslpassword: keep the key "
                  "unencrypted, readable by the user that connects only";
        }
    }
    PQconninfoFree(opts);
    return why;
}

#define AZS_PG_MAXPARAM 8

struct azs_pg {
    PGconn *conn;
    int deadline_ms;         /* per call; 0: none */
    apr_int64_t deadline_at; /* and no call past this (0: none) */
    int nstmt;               /* statements prepared (their names) */
    apr_int64_t changes;     /* rows the last command changed */
    char err[256];
};

struct azs_pg_stmt {
    azs_pg_t *c;
    const char *sql;         /* as given, ?N placeholders */
    char name[16];
    int prepared;            /* on this connection */
    int nparams;
    const char *vals[AZS_PG_MAXPARAM];
    int lens[AZS_PG_MAXPARAM];
    int fmts[AZS_PG_MAXPARAM];
    char num[AZS_PG_MAXPARAM][24];
    PGresult *res;
    int row, nrows;
};

static apr_int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message, first line only, into c->err. */
static void set_err(azs_pg_t *c, const char *what, const char *msg)
{
    const char *nl;
    int len;

    if (!msg || !*msg) {
        msg = c->conn ? PQerrorMessage(c->conn) : "not connected";
    }
    if (!msg || !*msg) {
        msg = "unknown error";
    }
    nl = strchr(msg, '\n');
    len = nl ? (int)(nl - msg) : (int)strlen(msg);
    apr_snprintf(c->err, sizeof(c->err), "%s%s%.*s", what ? what : "",
                 what ? ": " : "", len, msg);
}

const char *azs_pg_error(azs_pg_t *c)
{
    return c->err[0] ? c->err : "unknown PostgreSQL error";
}

/* The connection is given up: its backend, if alive, sees the socket
 * close; every statement prepared on it is forgotten. */
static void drop(azs_pg_t *c)
{
    if (c->conn) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
}

void azs_pg_close(azs_pg_t *c)
{
    if (c) {
        drop(c);
    }
}

static apr_status_t pg_cleanup(void *data)
{
    drop(data);
    return APR_SUCCESS;
}

int azs_pg_ok(azs_pg_t *c)
{
    return c && c->conn && PQstatus(c->conn) == CONNECTION_OK;
}

/* Waits until the socket is ready (events) or the deadline; 0 ready,
 * -1 past the deadline or failed (the connection is dropped). */
static int wait_for(azs_pg_t *c, short events, apr_int64_t deadline)
{
    struct pollfd pfd;
    int rc, ms;

    for (;;) {
        pfd.fd = PQsocket(c->conn);
        pfd.events = events;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            set_err(c, NULL, "the connection has no socket");
            drop(c);
            return -1;
        }
        ms = -1;
        if (deadline) {
            apr_int64_t left = deadline - mono_ms();

            if (left <= 0) {
                apr_snprintf(c->err, sizeof(c->err), "PostgreSQL did not "
                             "answer within %d ms (connection dropped)",
                             c->deadline_ms);
                drop(c);
                return -1;
            }
            ms = (int)left;
        }
        rc = poll(&pfd, 1, ms);
        if (rc > 0) {
            return 0;
        }
        if (rc < 0 && errno != EINTR) {
            set_err(c, "poll", strerror(errno));
            drop(c);
            return -1;
        }
    }
}

void azs_pg_deadline_at(azs_pg_t *c, apr_int64_t at_ms)
{
    c->deadline_at = at_ms;
}

/* The sooner of the call's own bound and the caller's. */
static apr_int64_t call_deadline(azs_pg_t *c)
{
    apr_int64_t d = c->deadline_ms ? mono_ms() + c->deadline_ms : 0;

    if (c->deadline_at && (!d || c->deadline_at < d)) {
        d = c->deadline_at;
    }
    return d;
}

static void notice_drop(void *arg, const char *message)
{
    (void)arg, (void)message;
}

azs_rc azs_pg_open(azs_pg_t **out, const char *url, const char *app,
                   int deadline_ms, apr_int64_t at_ms, apr_pool_t *p,
                   const char **err)
{
    azs_pg_t *c = apr_pcalloc(p, sizeof(*c));
    apr_int64_t deadline;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    /* What pg_stat_activity shows, unless the URL or PGAPPNAME says; and
     * the primary only, whatever the URL says: a standby may lag behind
     * what the node already heard (a revoked token valid again). */
    const char *keys[] = {"dbname", "fallback_application_name",
                          "target_session_attrs", NULL};
    const char *vals[] = {azs_pg_conninfo(url), app, "read-write", NULL};

    *out = NULL;
    c->deadline_ms = deadline_ms;
    c->deadline_at = at_ms;
    deadline = call_deadline(c);
    if (deadline && deadline <= mono_ms()) {
        *err = "cannot connect to PostgreSQL: no time left before the "
               "deadline";
        return AZS_RC_DBERR;
    }
    c->conn = PQconnectStartParams(keys, vals, 1);
    if (!c->conn) {
        *err = "cannot connect to PostgreSQL: out of memory";
        return AZS_RC_DBERR;
    }
    apr_pool_cleanup_register(p, c, pg_cleanup, apr_pool_cleanup_null);
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        ps = PGRES_POLLING_FAILED;
    }
    while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
        if (wait_for(c, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                     deadline) != 0) {
            *err = apr_psprintf(p, "cannot connect to PostgreSQL: %s",
                                c->err);
            return AZS_RC_DBERR;
        }
        ps = PQconnectPoll(c->conn);
    }
    if (ps == PGRES_POLLING_FAILED) {
        set_err(c, NULL, NULL);
        *err = apr_psprintf(p, "cannot connect to PostgreSQL: %s", c->err);
        drop(c);
        return AZS_RC_DBERR;
    }
    /* The server's notices (a FATAL as it shuts down) would go to
     * stderr, which is httpd's error log: the caller says what failed. */
    PQsetNoticeProcessor(c->conn, notice_drop, NULL);
    if (PQsetnonblocking(c->conn, 1) != 0
        || PQclientEncoding(c->conn) < 0) {
        set_err(c, NULL, NULL);
        *err = apr_psprintf(p, "cannot use the PostgreSQL connection: %s",
                            c->err);
        drop(c);
        return AZS_RC_DBERR;
    }
    *out = c;
    return AZS_RC_OK;
}

/* Sends what libpq holds, then collects every result of the command; the
 * last one is returned (NULL: failed, c->err says why). */
static PGresult *collect(azs_pg_t *c)
{
    apr_int64_t deadline = call_deadline(c);
    PGresult *last = NULL, *res;
    int f;

    while ((f = PQflush(c->conn)) == 1) {
        if (wait_for(c, POLLOUT | POLLIN, deadline) != 0) {
            return NULL;
        }
        if (!PQconsumeInput(c->conn)) {
            break;
        }
    }
    if (f < 0) {
        set_err(c, NULL, NULL);
        drop(c);
        return NULL;
    }
    for (;;) {
        while (PQisBusy(c->conn)) {
            if (wait_for(c, POLLIN, deadline) != 0) {
                PQclear(last);
                return NULL;
            }
            if (!PQconsumeInput(c->conn)) {
                set_err(c, NULL, NULL);
                drop(c);
                PQclear(last);
                return NULL;
            }
        }
        res = PQgetResult(c->conn);
        if (!res) {
            break;
        }
        PQclear(last);
        last = res;
    }
    if (!last) {
        set_err(c, NULL, NULL);
    }
    return last;
}

/* A result's failure into c->err and a code for the store's caller. */
static int result_fail(azs_pg_t *c, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                            : NULL;
    int code = AZS_STEP_ERROR;

    if (res) {
        set_err(c, NULL, PQresultErrorMessage(res));
    }
    if (state && strcmp(state, "23505") == 0) {
        code = AZS_STEP_UNIQUE;
    }
    else if (state && strcmp(state, "23503") == 0) {
        code = AZS_STEP_FOREIGN;
    }
    else if (state && (strcmp(state, "55P03") == 0
                       || strcmp(state, "40P01") == 0
                       || strcmp(state, "40001") == 0)) {
        code = AZS_STEP_BUSY;
    }
    PQclear(res);
    return code;
}

azs_rc azs_pg_exec(azs_pg_t *c, const char *sql)
{
    PGresult *res;
    ExecStatusType s;

    if (!azs_pg_ok(c)) {
        set_err(c, NULL, "not connected");
        return AZS_RC_DBERR;
    }
    if (!PQsendQuery(c->conn, sql)) {
        set_err(c, NULL, NULL);
        return AZS_RC_DBERR;
    }
    if (!(res = collect(c))) {
        return AZS_RC_DBERR;
    }
    s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        result_fail(c, res);
        return AZS_RC_DBERR;
    }
    PQclear(res);
    return AZS_RC_OK;
}

int azs_pg_in_txn(azs_pg_t *c)
{
    PGTransactionStatusType t;

    if (!c || !c->conn) {
        return 0;
    }
    t = PQtransactionStatus(c->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR
           || t == PQTRANS_ACTIVE;
}

apr_int64_t azs_pg_changes(azs_pg_t *c)
{
    return c->changes;
}

/* ?N placeholders (SQLite's numbered form) become $N. */
static const char *pg_sql(apr_pool_t *p, const char *sql)
{
    char *out = apr_pstrdup(p, sql), *q;
    int quoted = 0;

    for (q = out; *q; q++) {
        if (*q == '\'') {
            quoted = !quoted;
        }
        else if (!quoted && *q == '?' && q[1] >= '0' && q[1] <= '9') {
            *q = '$';
        }
    }
    return out;
}

azs_pg_stmt_t *azs_pg_stmt_make(azs_pg_t *c, const char *sql, apr_pool_t *p)
{
    azs_pg_stmt_t *s = apr_pcalloc(p, sizeof(*s));

    s->c = c;
    s->sql = pg_sql(p, sql);
    apr_snprintf(s->name, sizeof(s->name), "azs%d", ++c->nstmt);
    return s;
}

static int stmt_prepare(azs_pg_stmt_t *s)
{
    azs_pg_t *c = s->c;
    PGresult *res;

    if (!PQsendPrepare(c->conn, s->name, s->sql, 0, NULL)) {
        set_err(c, NULL, NULL);
        return AZS_STEP_ERROR;
    }
    if (!(res = collect(c))) {
        return AZS_STEP_ERROR;
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        return result_fail(c, res);
    }
    PQclear(res);
    s->prepared = 1;
    return 0;
}

static void param(azs_pg_stmt_t *s, int i, const char *v, int len, int fmt)
{
    if (i < 1 || i > AZS_PG_MAXPARAM) {
        return;
    }
    s->vals[i - 1] = v;
    s->lens[i - 1] = len;
    s->fmts[i - 1] = fmt;
    if (i > s->nparams) {
        s->nparams = i;
    }
}

void azs_pg_bind_int64(azs_pg_stmt_t *s, int i, apr_int64_t v)
{
    if (i >= 1 && i <= AZS_PG_MAXPARAM) {
        apr_snprintf(s->num[i - 1], sizeof(s->num[0]), "%" APR_INT64_T_FMT,
                     v);
        param(s, i, s->num[i - 1], 0, 0);
    }
}

void azs_pg_bind_text(azs_pg_stmt_t *s, int i, const char *v)
{
    param(s, i, v, 0, 0);
}

void azs_pg_bind_blob(azs_pg_stmt_t *s, int i, const void *v, int len)
{
    param(s, i, v, len, 1);
}

void azs_pg_reset(azs_pg_stmt_t *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
}

void azs_pg_clear(azs_pg_stmt_t *s)
{
    s->nparams = 0;
    memset(s->vals, 0, sizeof(s->vals));
}

int azs_pg_stepping(azs_pg_stmt_t *s)
{
    return s->res != NULL;
}

int azs_pg_step(azs_pg_stmt_t *s)
{
    azs_pg_t *c = s->c;
    ExecStatusType st;
    PGresult *res;
    int rc;

    if (s->res) {
        s->row++;
        return s->row < s->nrows ? AZS_STEP_ROW : AZS_STEP_DONE;
    }
    if (!azs_pg_ok(c)) {
        if (!c->err[0]) {
            set_err(c, NULL, "not connected");
        }
        return AZS_STEP_ERROR;
    }
    if (!s->prepared && (rc = stmt_prepare(s)) != 0) {
        return rc;
    }
    if (!PQsendQueryPrepared(c->conn, s->name, s->nparams, s->vals,
                             s->lens, s->fmts, 1)) {
        set_err(c, NULL, NULL);
        return AZS_STEP_ERROR;
    }
    if (!(res = collect(c))) {
        return AZS_STEP_ERROR;
    }
    st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        return result_fail(c, res);
    }
    c->changes = atoll(PQcmdTuples(res));
    s->res = res;
    s->nrows = PQntuples(res);
    s->row = 0;
    return s->nrows > 0 ? AZS_STEP_ROW : AZS_STEP_DONE;
}

int azs_pg_col_null(azs_pg_stmt_t *s, int i)
{
    return !s->res || s->row >= s->nrows || i >= PQnfields(s->res)
           || PQgetisnull(s->res, s->row, i);
}

apr_int64_t azs_pg_col_int64(azs_pg_stmt_t *s, int i)
{
    const unsigned char *v;
    apr_uint64_t x = 0;
    int n, k;

    if (azs_pg_col_null(s, i)) {
        return 0;
    }
    v = (const unsigned char *)PQgetvalue(s->res, s->row, i);
    n = PQgetlength(s->res, s->row, i);
    if (n != 1 && n != 2 && n != 4 && n != 8) {
        return 0;            /* not an integer type */
    }
    for (k = 0; k < n; k++) {
        x = (x << 8) | v[k];
    }
    /* Sign-extended from its width. */
    if (n < 8 && (v[0] & 0x80) && PQftype(s->res, i) != 16 /* bool */) {
        x |= ~(apr_uint64_t)0 << (n * 8);
    }
    return (apr_int64_t)x;
}

const char *azs_pg_col_text(azs_pg_stmt_t *s, int i)
{
    return azs_pg_col_null(s, i) ? NULL : PQgetvalue(s->res, s->row, i);
}

const void *azs_pg_col_blob(azs_pg_stmt_t *s, int i, int *len)
{
    if (azs_pg_col_null(s, i)) {
        *len = 0;
        return NULL;
    }
    *len = PQgetlength(s->res, s->row, i);
    return PQgetvalue(s->res, s->row, i);
}

/* ---- notifications (the watcher) --------------------------------------- */

int azs_pg_notified(azs_pg_t *c, int wait_ms)
{
    struct pollfd pfd;
    PGnotify *n;
    int got = 0, rc;

    if (!azs_pg_ok(c)) {
        return -1;
    }
    /* One may have come with the last result. */
    while ((n = PQnotifies(c->conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    if (got) {
        return 1;
    }
    pfd.fd = PQsocket(c->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, wait_ms);
    if (rc < 0 && errno != EINTR) {
        set_err(c, "poll", strerror(errno));
        drop(c);
        return -1;
    }
    if (rc > 0 && !PQconsumeInput(c->conn)) {
        set_err(c, NULL, NULL);
        drop(c);
        return -1;
    }
    while ((n = PQnotifies(c->conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

#else /* no libpq: PostgreSQL URLs are refused */

struct azs_pg {
    int unused;
};

const char *azs_pg_url_check(const char *url, apr_pool_t *p)
{
    (void)url, (void)p;
    return "this build has no PostgreSQL support (configure found no libpq)";
}

azs_rc azs_pg_open(azs_pg_t **out, const char *url, const char *app,
                   int deadline_ms, apr_int64_t at_ms, apr_pool_t *p,
                   const char **err)
{
    (void)url, (void)app, (void)deadline_ms, (void)at_ms, (void)p;
    *out = NULL;
    *err = "this build has no PostgreSQL support (configure found no libpq)";
    return AZS_RC_DBERR;
}

void azs_pg_close(azs_pg_t *c) { (void)c; }
int azs_pg_ok(azs_pg_t *c) { (void)c; return 0; }
const char *azs_pg_error(azs_pg_t *c) { (void)c; return "no PostgreSQL"; }
azs_rc azs_pg_exec(azs_pg_t *c, const char *sql)
{
    (void)c, (void)sql;
    return AZS_RC_DBERR;
}
int azs_pg_in_txn(azs_pg_t *c) { (void)c; return 0; }
apr_int64_t azs_pg_changes(azs_pg_t *c) { (void)c; return 0; }
azs_pg_stmt_t *azs_pg_stmt_make(azs_pg_t *c, const char *sql, apr_pool_t *p)
{
    (void)c, (void)sql, (void)p;
    return NULL;
}
void azs_pg_bind_int64(azs_pg_stmt_t *s, int i, apr_int64_t v)
{ (void)s, (void)i, (void)v; }
void azs_pg_bind_text(azs_pg_stmt_t *s, int i, const char *v)
{ (void)s, (void)i, (void)v; }
void azs_pg_bind_blob(azs_pg_stmt_t *s, int i, const void *v, int len)
{ (void)s, (void)i, (void)v, (void)len; }
void azs_pg_reset(azs_pg_stmt_t *s) { (void)s; }
void azs_pg_clear(azs_pg_stmt_t *s) { (void)s; }
int azs_pg_step(azs_pg_stmt_t *s) { (void)s; return AZS_STEP_ERROR; }
int azs_pg_stepping(azs_pg_stmt_t *s) { (void)s; return 0; }
void azs_pg_deadline_at(azs_pg_t *c, apr_int64_t at_ms)
{ (void)c, (void)at_ms; }
int azs_pg_col_null(azs_pg_stmt_t *s, int i) { (void)s, (void)i; return 1; }
apr_int64_t azs_pg_col_int64(azs_pg_stmt_t *s, int i)
{ (void)s, (void)i; return 0; }
const char *azs_pg_col_text(azs_pg_stmt_t *s, int i)
{ (void)s, (void)i; return NULL; }
const void *azs_pg_col_blob(azs_pg_stmt_t *s, int i, int *len)
{ (void)s, (void)i; *len = 0; return NULL; }
int azs_pg_notified(azs_pg_t *c, int wait_ms)
{ (void)c, (void)wait_ms; return -1; }

#endif
