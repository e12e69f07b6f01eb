/*
 * mod_azs_authn.c - the "authz_status" authn provider (for
 * AuthBasicProvider and AuthFormProvider) and the strict Basic check.
 */
#include "mod_azs.h"

#include "apr_atomic.h"
#include "apr_strings.h"

/* Password hashes this process has verified (apr_atomic only): what a
 * write may cost is shown by how many it causes (AZS0112, debug). */
static volatile apr_uint32_t hashes_verified;

static void count_hash(request_rec *r)
{
    apr_uint32_t n = apr_atomic_inc32(&hashes_verified) + 1;
    const azs_req *q = azs_req_get(r);

    azs_count(AZS_M_HASH_VERIFIED);
    if (!APLOG_R_IS_LEVEL(r, APLOG_DEBUG)) {
        return;     /* the line's arguments cost an escape each */
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0112: password hash "
                  "verified: user \"%s\" (%u in this process)",
                  azs_escape(r->pool, q->login.pre_user ? q->login.pre_user
                                      : q->store.user ? q->store.user : "",
                             256), n);
}

/* A costly hash runs under the server-wide limit, on an idle-priority
 * thread (AuthzStatusHashPriority), and outside the read transaction (a
 * long snapshot would hold back SQLite's checkpoints). */
static int verify(const char *pw, const char *hash, void *ctx)
{
    request_rec *r = ctx;
    int idle = 0, ok;

    count_hash(r);
    if (!azs_hash_costly(hash)) {
        ok = azs_password_verify(pw, hash);
        if (!ok) {
            /* A failure waits for a hash place as an unknown user's
             * dummy hash would (a form login had no admission), and gives
             * it back at once: the failure floor then sleeps holding
             * neither the place nor a snapshot. */
            azs_req_read_end(r);
            if (!azs_hashlimit_take(r)) {
                return -1;
            }
            if (azs_throttle_counts_fast()) {
                azs_throttle_provider_failure(r, AZS_REASON_BAD_PASSWORD);
            }
            azs_hashlimit_release(r);
            azs_throttle_provider_failure(r, AZS_REASON_BAD_PASSWORD);
        }
        return ok;
    }
    azs_req_read_end(r);
    if (!azs_hashlimit_take(r)) {
        return -1;
    }
    /* Banned while it waited for the place (a form login has no
     * admission to check it): no hash. */
    if (azs_throttle_banned(r)) {
        azs_hashlimit_release(r);
        return -1;
    }
    if (azs_proc_hash_idle()) {
        ok = azs_password_verify_idle(pw, hash, &idle);
    }
    else {
        ok = azs_password_verify(pw, hash);
    }
    /* Counted before the failure delay; on this server's own cache
     * still holding the place, so that whoever takes it next finds the
     * ban (a remote cache is not waited for under the place). */
    if (!ok && azs_throttle_counts_fast()) {
        azs_throttle_provider_failure(r, AZS_REASON_BAD_PASSWORD);
    }
    azs_hashlimit_release(r);
    if (!ok) {
        azs_throttle_provider_failure(r, AZS_REASON_BAD_PASSWORD);
    }
    if (azs_proc_hash_idle() && !idle) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "password hash "
                      "verified at normal priority");
    }
    return ok;
}

/* Is this login in the cache of verified logins for the user as this
 * request reads it?  An entry holds the user's credential version
 * (users.cred): any change to the user's name, hash, state or expiry
 * makes a new one, and no other write touches it. */
static int cache_knows(request_rec *r, azs_store_t *st, const char *user,
                       const char *password)
{
    const azs_req_store_state *s = &azs_req_get(r)->store;
    int hit;

    if (!s->user_found || !azs_proc_cache()) {
        return 0;
    }
    hit = azs_cache_get(azs_proc_cache(), azs_store_id(st), user, password,
                        s->u.cred, apr_time_sec(r->request_time));
    azs_count(hit ? AZS_M_CACHE_HIT : AZS_M_CACHE_MISS);
    return hit;
}

/* The provider accepted the password: for the metrics and the exports. */
static authn_status accepted(request_rec *r, azs_req *q, const char *user)
{
    const char *type = ap_auth_type(r);

    q->pending.status = 0;
    q->login.ok = 1;
    q->login.user = apr_pstrdup(r->pool, user);
    q->login.db = azs_db_path(r);
    q->login.kind = type && ap_cstr_casecmp(type, "form") == 0 ? "form"
                                                                : "basic";
    return AUTH_GRANTED;
}

static authn_status azs_check_password(request_rec *r, const char *user,
                                       const char *password)
{
    azs_req *q = azs_req_get(r);
    azs_store_t *st = azs_req_store(r);
    apr_int64_t now = apr_time_sec(r->request_time);
    azs_user_t u;
    azs_reason why;
    int admitted;

    if (!st) {
        return AUTH_GENERAL_ERROR;
    }
    /* A banned address that reached a provider some other way (an
     * AuthnProviderAlias, a module that calls providers itself): no
     * password is checked for it. */
    if (azs_throttle_banned(r)) {
        return AUTH_DENIED;
    }
    /* The user as this request reads it (the thread's memo while nothing
     * was written), before any hash is verified: a change made meanwhile
     * gives the user a new credential version, and the entry made below
     * never matches it. */
    if (azs_req_user(r, user) != APR_SUCCESS) {
        return AUTH_GENERAL_ERROR;
    }
    /* The Basic admission already asked the cache; a form login has not,
     * nor has one through a provider alias with a database of its own
     * (the admission asked another). */
    admitted = q->login.admit_h && q->login.admit_h == azs_req_handle(r)
               && q->login.pre_user && strcmp(q->login.pre_user, user) == 0;
    if (admitted ? q->login.cache_hit : cache_knows(r, st, user, password)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0107: password "
                      "accepted (verified earlier, credential version %"
                      APR_INT64_T_FMT "): user \"%s\" for \"%s\"",
                      q->store.u.cred, azs_escape(r->pool, user, 256),
                      azs_escape(r->pool, r->uri, 256));
        return accepted(r, q, user);
    }
    u = q->store.u;
    why = azs_login_verify(q->store.user_found, &u, password, now, verify,
                           r);
    switch (why) {
    case AZS_REASON_GRANTED:
        azs_cache_put(azs_proc_cache(), azs_store_id(st), user, password,
                      u.cred, u.expires);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0106: password "
                      "accepted: user \"%s\" for \"%s\"",
                      azs_escape(r->pool, user, 256),
                      azs_escape(r->pool, r->uri, 256));
        /* Clear what a previous provider call left: the denial is void if
         * this login succeeds (AuthBasicProvider file authz_status). */
        return accepted(r, q, user);
    case AZS_REASON_DB_ERROR:
        azs_db_fault(r, "looking up the user");
        return AUTH_GENERAL_ERROR;
    case AZS_REASON_BUSY:
        if (q->throttled) {
            return AUTH_DENIED;   /* banned while it waited: no hash */
        }
        /* Not through the Basic admission (a form login): a provider can
         * answer no 503, only an error. */
        azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_REASON_BUSY, user,
                       "every password-hash place is taken");
        return AUTH_GENERAL_ERROR;
    default:
        /* Logged only if the request ends in 401: another provider in the
         * list may still accept the password. */
        azs_defer_denial(r, HTTP_UNAUTHORIZED, why, user, NULL);
        azs_throttle_provider_failure(r, why);
        return why == AZS_REASON_UNKNOWN_USER ? AUTH_USER_NOT_FOUND : AUTH_DENIED;
    }
}

const authn_provider azs_authn_provider = {
    &azs_check_password,
    NULL
};

/*
 * Admission, before mod_auth_basic decodes anything: a login the cache
 * knows goes straight through; one that will cost a hash (bcrypt and the
 * like, or an unknown user's dummy hash) first waits for a place under
 * AuthzStatusHashLimit, and when none frees up in AZS_HASH_WAIT the
 * answer is 503 with Retry-After rather than an unbounded queue.
 */
static int basic_admit(request_rec *r, const char *user,
                       const char *password)
{
    azs_req *q = azs_req_get(r);
    azs_store_t *st;
    int rc;

    q->login.basic_user = user;
    if (!(st = azs_req_store(r))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* From the thread's memo while nothing changed (authorization then
     * finds the user's roles there too). */
    if (azs_req_user(r, user) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q->login.admit_h = azs_req_handle(r);
    q->login.pre_user = user;
    if (cache_knows(r, st, user, password)) {
        q->login.cache_hit = 1;
        return DECLINED;
    }
    if ((rc = azs_throttle_before_hash(r)) != DECLINED) {
        return rc;
    }
    if (azs_login_needs_place(q->store.user_found, &q->store.u, password,
                              apr_time_sec(r->request_time))) {
        if (!azs_hashlimit_take(r)) {
            azs_log_denial(r, HTTP_SERVICE_UNAVAILABLE, AZS_REASON_BUSY, user,
                           "every password-hash place is taken");
            apr_table_setn(r->err_headers_out, "Retry-After", "1");
            r->connection->keepalive = AP_CONN_CLOSE;
            return HTTP_SERVICE_UNAVAILABLE;
        }
        /* Banned while it waited (a flood fills the queue before its
         * failures are counted): no hash for it. */
        if ((rc = azs_throttle_recheck(r)) != DECLINED) {
            azs_hashlimit_release(r);
            return rc;
        }
    }
    return DECLINED;
}

int azs_check_basic_syntax(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const char *header, *user, *password, *why;

    if (!type || ap_cstr_casecmp(type, "Basic") != 0 || !azs_compat_basic_lists(r, azs_proc_basic_module(), &azs_authn_provider)) {
        return DECLINED;
    }
    header = apr_table_get(r->headers_in, (PROXYREQ_PROXY == r->proxyreq)
                                          ? "Proxy-Authorization"
                                          : "Authorization");
    if (!header) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0108: no "
                      "credentials for \"%s\"",
                      azs_escape(r->pool, r->uri, 256));
        return DECLINED;   /* mod_auth_basic sends the challenge */
    }
    if (!azs_auth_scheme_is(header, "Basic")) {
        return DECLINED;   /* another scheme: mod_auth_basic's 401 */
    }
    why = azs_basic_decode(r->pool, header, &user, &password);
    if (why) {
        azs_log_denial(r, HTTP_BAD_REQUEST, AZS_REASON_MALFORMED, NULL, why);
        azs_throttle_failure(r, AZS_REASON_MALFORMED);
        return HTTP_BAD_REQUEST;
    }
    return basic_admit(r, user, password);
}
