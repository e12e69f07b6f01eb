/*
 * mod_azs_log.c - one precise line in the error log per decision.
 *
 * Format (doc/log-messages.md):
 *   AZSnnnn: <status> <reason>: user "<escaped>" for "<escaped uri>"
 * followed by what was required, the blocklist entry, or the database's
 * reason.  User-controlled text goes through azs_escape; passwords,
 * tokens and the Authorization header are never given to this file.
 */
#include "mod_azs.h"

#include "apr_atomic.h"
#include "apr_strings.h"

#define AZS_LOG_MAX 256   /* bytes of user-controlled text shown */
#define AZS_DB_LINES_PER_SEC 20

/* db-error lines are rate-limited per process: a broken database under
 * load must not fill the disk.  Atomics only; the count is approximate
 * across threads, which is all a rate limit needs. */
static volatile apr_uint32_t db_log_second;
static volatile apr_uint32_t db_log_count;
static volatile apr_uint32_t db_log_suppressed;

/* 0: suppress this line; else log it, with *suppressed lines skipped
 * since the last one. */
static int db_log_allowed(request_rec *r, apr_uint32_t *suppressed)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(r->request_time);
    apr_uint32_t then = apr_atomic_read32(&db_log_second);

    if (now != then
        && apr_atomic_cas32(&db_log_second, now, then) == then) {
        apr_atomic_set32(&db_log_count, 0);
    }
    if (apr_atomic_inc32(&db_log_count) >= AZS_DB_LINES_PER_SEC) {
        apr_atomic_inc32(&db_log_suppressed);
        return 0;
    }
    *suppressed = apr_atomic_xchg32(&db_log_suppressed, 0);
    return 1;
}

void azs_note_decision(request_rec *r, int status, azs_reason reason)
{
    azs_req *q = azs_req_get(r);

    if (!q->decided) {
        q->decided = status;
        q->decided_reason = reason;
    }
}

static void count(int status, azs_reason reason)
{
    azs_count_decision(status, reason);
    if (reason == AZS_REASON_DB_ERROR) {
        azs_count(AZS_M_DB_ERROR);
    }
}

void azs_log_denial(request_rec *r, int status, azs_reason reason,
                    const char *user, const char *detail)
{
    const azs_reason_info_t *info = azs_reason_info(reason);
    apr_uint32_t suppressed = 0;
    const char *who = user ? apr_pstrcat(r->pool, "user \"",
                                         azs_escape(r->pool, user,
                                                    AZS_LOG_MAX),
                                         "\" ", NULL)
                           : "";

    /* Counted whether or not the line is written (below). */
    azs_note_decision(r, status, reason);
    if (reason == AZS_REASON_DB_ERROR || reason == AZS_REASON_BUSY) {
        if (!db_log_allowed(r, &suppressed)) {
            return;
        }
        if (suppressed) {
            detail = apr_psprintf(r->pool, "%s; %u more db-error or busy "
                                  "lines suppressed", detail, suppressed);
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "%s: %d %s: %sfor \"%s\"%s%s%s", info->log_id,
                  status, info->keyword, who,
                  azs_escape(r->pool, r->uri, AZS_LOG_MAX),
                  detail ? " (" : "", detail ? detail : "",
                  detail ? ")" : "");
}

void azs_defer_denial(request_rec *r, int status, azs_reason reason,
                      const char *user, const char *detail)
{
    azs_pending *pd = &azs_req_get(r)->pending;

    /* Several Require lines may each say no; the line names them all. */
    if (pd->status == status && pd->detail && detail) {
        pd->detail = apr_pstrcat(r->pool, pd->detail, "; ", detail, NULL);
        return;
    }
    pd->status = status;
    pd->reason = reason;
    pd->user = user;
    pd->detail = detail;
}

int azs_clear_pending(request_rec *r)
{
    azs_req *q = ap_get_module_config(r->request_config,
                                      &authz_status_module);

    /* Fixups run only once authentication and authorization have both
     * passed: a "no" from one of our providers was overruled (another
     * provider in the list, another line of <RequireAny>). */
    /* Where an AuthType is set, a state is made if none was: a login
     * made later, in a handler (mod_auth_form's form-login-handler), is
     * then one that passed the checks. */
    if (!q && ap_auth_type(r)) {
        q = azs_req_get(r);
    }
    if (q) {
        q->pending.status = 0;
        q->passed = 1;
    }
    return DECLINED;
}

void azs_defer_scope(request_rec *r, const char *names)
{
    azs_pending *pd = &azs_req_get(r)->pending;

    pd->scope = pd->scope ? apr_pstrcat(r->pool, pd->scope, " ", names, NULL)
                          : names;
}

int azs_log_transaction(request_rec *r)
{
    request_rec *x, *last = r, *from, *dx = NULL;
    azs_req *q, *d = NULL;
    int granted = 0, status;

    for (x = r; x->next; x = x->next) {
        last = x->next;
    }
    /* The requests the client's answer came from: as httpd's ap_die, the
     * last one and those before it that ended in an error too (a refusal
     * and its ErrorDocument: the refusal; a request redirected
     * internally, then refused: the redirected one). */
    for (from = last; from->prev && from->prev->status != HTTP_OK;
         from = from->prev) {
    }
    for (x = from; x; x = x->next) {
        if ((q = azs_req_peek(x)) && (q->decided || q->pending.status)) {
            d = q;
            dx = x;
            break;
        }
    }
    for (x = r; x; x = x->next) {
        if ((q = azs_req_peek(x)) && q->passed
            && (q->login.ok || q->token || q->authz_granted)) {
            granted = 1;
        }
    }
    if (!d) {
        /* Let through by this module: its login, or its Require. */
        if (granted) {
            count(HTTP_OK, AZS_REASON_GRANTED);
        }
        return DECLINED;
    }
    status = dx->status != HTTP_OK ? dx->status : last->status;
    if (d->pending.status && status >= 300) {
        /* The decision's own status, whatever the response became:
         * mod_auth_form turns a failed login into a redirect, an
         * ErrorDocument into a page; AuthzStatusForbiddenOnFailure Off
         * turns our 403 into httpd's 401. */
        int st = (d->pending.status == HTTP_FORBIDDEN
                  && status == HTTP_UNAUTHORIZED) ? HTTP_UNAUTHORIZED
                                                  : d->pending.status;

        if (d->decided) {
            count(d->decided, d->decided_reason);
        }
        else {
            count(st, d->pending.reason);
        }
        azs_log_denial(dx, st, d->pending.reason, d->pending.user,
                       d->pending.detail);
        return DECLINED;
    }
    if (d->decided) {
        count(d->decided, d->decided_reason);
    }
    else if (granted) {
        count(HTTP_OK, AZS_REASON_GRANTED);
    }
    return DECLINED;
}
