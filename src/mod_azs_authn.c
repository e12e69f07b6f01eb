/*
 * mod_azs_authn.c - the "authz_status" authn provider (for
 * AuthBasicProvider and AuthFormProvider) and the strict Basic check.
 */
#include "mod_azs.h"

#include "apr_atomic.h"
#include "apr_strings.h"

static apr_status_t hashlimit_cleanup(void *data)
{
    azs_req *q = data;

    if (q->hashlimit_held) {
        if (q->hashlimit_held > 0) {
            azs_hashlimit_leave(azs_hashlimit);
        }
        apr_atomic_dec32(&azs_hashers);
        q->hashlimit_held = 0;
    }
    return APR_SUCCESS;
}

void azs_hashlimit_release(request_rec *r)
{
    hashlimit_cleanup(azs_req_get(r));
}

/* A place under AuthzStatusHashLimit, held until the hash is done (or the
 * request is): 0 when none came free in AZS_HASH_WAIT. */
static int hashlimit_take(request_rec *r, azs_req *q)
{
    int rc;

    if (q->hashlimit_held) {
        return 1;
    }
    /* Waiting holds a worker thread, and a client's connection stays with
     * its child: one thread of each child never waits, so a flood of
     * logins cannot stall the clients the child already serves.  Past
     * that, a place is taken only if one is free at once. */
    if (apr_atomic_inc32(&azs_hashers) >= azs_hashers_max) {
        rc = azs_hashlimit_enter(azs_hashlimit, 0);
    }
    else {
        rc = azs_hashlimit_enter(azs_hashlimit, AZS_HASH_WAIT);
    }
    if (rc == 0) {
        apr_atomic_dec32(&azs_hashers);
        return 0;
    }
    if (rc < 0) {
        /* Removed by a restart while this child finishes: the new
         * generation's children are bound by the new one. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0111: the hash "
                      "limit of the previous configuration is gone");
    }
    q->hashlimit_held = rc;              /* -1: counted here, no place to give back */
    if (!q->hashlimit_cleanup) {
        apr_pool_cleanup_register(r->pool, q, hashlimit_cleanup,
                                  apr_pool_cleanup_null);
        q->hashlimit_cleanup = 1;
    }
    return 1;
}

/* A costly hash runs under the server-wide limit, on an idle-priority
 * thread (AuthzStatusHashPriority), and outside the read transaction (a
 * long snapshot would hold back SQLite's checkpoints). */
static int verify(const char *pw, const char *hash, void *ctx)
{
    request_rec *r = ctx;
    azs_req *q = azs_req_get(r);
    int idle = 0, ok;

    if (!azs_hash_costly(hash)) {
        ok = azs_password_verify(pw, hash);
        if (!ok) {
            /* A failure waits for a hash place as an unknown user's
             * dummy hash would (a form login had no admission), and gives
             * it back at once: the failure floor then sleeps holding
             * neither the place nor a snapshot. */
            azs_req_read_end(r);
            if (!hashlimit_take(r, q)) {
                return -1;
            }
            hashlimit_cleanup(q);
        }
        return ok;
    }
    azs_req_read_end(r);
    if (!hashlimit_take(r, q)) {
        return -1;
    }
    if (azs_hash_idle) {
        ok = azs_password_verify_idle(pw, hash, &idle);
    }
    else {
        ok = azs_password_verify(pw, hash);
    }
    hashlimit_cleanup(q);
    if (azs_hash_idle && !idle) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "password hash "
                      "verified at normal priority");
    }
    return ok;
}

static authn_status azs_check_password(request_rec *r, const char *user,
                                       const char *password)
{
    azs_req *q = azs_req_get(r);
    azs_store_t *st = azs_req_store(r);
    apr_int64_t now = apr_time_sec(r->request_time), gen = 0;
    azs_user_t u;
    azs_reason why;
    int admitted;

    if (!st) {
        return AUTH_GENERAL_ERROR;
    }
    /* The generation is read before the hash is verified: a change made
     * meanwhile leaves the new entry stale at once. */
    if (azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return AUTH_GENERAL_ERROR;
    }
    /* The Basic admission already asked the cache (pre_user set: it
     * missed); a form login has not, nor has one through a provider alias
     * with a database of its own (the admission asked another). */
    admitted = q->admit_h && q->admit_h == azs_req_handle(r);
    if ((admitted && q->cache_hit)
        || ((!admitted || !q->pre_user)
            && azs_cache_get(azs_cache, azs_store_id(st), user, password,
                             gen, now))) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0107: password "
                      "accepted (verified earlier at generation %"
                      APR_INT64_T_FMT "): user \"%s\" for \"%s\"", gen,
                      azs_escape(r->pool, user, 256),
                      azs_escape(r->pool, r->uri, 256));
        q->pending.status = 0;
        return AUTH_GRANTED;
    }
    if (admitted && q->pre_user && q->user && q->user_h == q->admit_h
        && strcmp(q->user, user) == 0) {
        /* Looked up by the Basic admission, for this generation. */
        u = q->u;
        why = azs_login_verify(q->user_found, &u, password, now, verify, r);
    }
    else {
        why = azs_login(st, user, password, now, &u, r->pool, verify, r);
    }
    switch (why) {
    case AZS_REASON_GRANTED:
        azs_cache_put(azs_cache, azs_store_id(st), user, password, gen,
                      u.expires);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0106: password "
                      "accepted: user \"%s\" for \"%s\"",
                      azs_escape(r->pool, user, 256),
                      azs_escape(r->pool, r->uri, 256));
        /* Clear what a previous provider call left: the denial is void if
         * this login succeeds (AuthBasicProvider file authz_status). */
        q->pending.status = 0;
        return AUTH_GRANTED;
    case AZS_REASON_DB_ERROR:
        azs_db_fault(r, "looking up the user");
        return AUTH_GENERAL_ERROR;
    case AZS_REASON_BUSY:
        /* Not through the Basic admission (a form login): a provider can
         * answer no 503, only an error. */
        azs_log_denial(r, HTTP_INTERNAL_SERVER_ERROR, AZS_REASON_BUSY, user,
                       "every password-hash place is taken");
        return AUTH_GENERAL_ERROR;
    default:
        /* Logged only if the request ends in 401: another provider in the
         * list may still accept the password. */
        azs_defer_denial(r, HTTP_UNAUTHORIZED, why, user, NULL);
        return why == AZS_REASON_UNKNOWN_USER ? AUTH_USER_NOT_FOUND : AUTH_DENIED;
    }
}

const authn_provider azs_authn_provider = {
    &azs_check_password,
    NULL
};

/*
 * Does mod_auth_basic call our provider for this request?  Its per-dir
 * configuration starts with the provider list (authn_provider_list from
 * mod_auth.h) in every 2.4 release; nothing else of it is read.
 */
static int basic_uses_us(request_rec *r)
{
    authn_provider_list **conf, *p;

    if (!azs_basic_module) {
        return 0;
    }
    conf = ap_get_module_config(r->per_dir_config, azs_basic_module);
    for (p = conf ? *conf : NULL; p; p = p->next) {
        if (p->provider == &azs_authn_provider) {
            return 1;
        }
    }
    return 0;
}

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
    apr_int64_t gen;

    q->basic_user = user;
    if (!(st = azs_req_store(r))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (azs_req_generation(r, st, &gen) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q->admit_h = azs_req_handle(r);
    if (azs_cache_get(azs_cache, azs_store_id(st), user, password, gen,
                      apr_time_sec(r->request_time))) {
        q->cache_hit = 1;
        return DECLINED;
    }
    /* From the thread's memo while nothing changed (authorization then
     * finds the user's roles there too). */
    if (azs_req_user(r, q, user) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q->pre_user = user;
    if (azs_login_needs_place(q->user_found, &q->u, password,
                              apr_time_sec(r->request_time))
        && !hashlimit_take(r, q)) {
        azs_log_denial(r, HTTP_SERVICE_UNAVAILABLE, AZS_REASON_BUSY, user,
                       "every password-hash place is taken");
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        r->connection->keepalive = AP_CONN_CLOSE;
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return DECLINED;
}

int azs_check_basic_syntax(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const char *header, *user, *password, *why;

    if (!type || ap_cstr_casecmp(type, "Basic") != 0 || !basic_uses_us(r)) {
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
        return HTTP_BAD_REQUEST;
    }
    return basic_admit(r, user, password);
}
