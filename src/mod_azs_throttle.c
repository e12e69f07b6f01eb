/*
 * mod_azs_throttle.c - AuthzStatusThrottle: an address that failed N
 * logins within WINDOW gets 429 for BAN, before any credential is read.
 *
 * Two places hold what is known:
 *  - the counts, in one of httpd's socache providers (AuthzStatusThrottleCache:
 *    shmcb, one table for the children of this server; redis or memcache,
 *    one for a fleet).  Only a failed login touches it: one read and one
 *    write, under a global mutex when the provider is not safe across
 *    processes (shmcb);
 *  - the bans, in a small table in this server's shared memory
 *    (azs_bans_t), read lock-free by every request before anything else,
 *    so a login the verified-login cache knows costs no socache call.
 * A ban made on another node of a fleet is in the shared record: this
 * node learns it when the address next needs a password hash here (one
 * socache read before the hash) or fails here.
 *
 * A socache that fails turns the throttle off, never authentication: the
 * request goes on as if the throttle were not configured (logged, at most
 * once per AZS_THROTTLE_LOG_SEC per process).
 */
#include "mod_azs.h"

#include "ap_socache.h"
#include "apr_atomic.h"
#include "apr_strings.h"
#include "util_mutex.h"
#include "ap_mpm.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <stdlib.h>

#define AZS_THROTTLE_MUTEX "authz-status-throttle"
#define AZS_THROTTLE_NS    "azs-throttle"   /* socache namespace: <= 14 */
#define AZS_BAN_SLOTS      16384

#define AZS_THROTTLE_LOG_SEC 10
#define AZS_THROTTLE_SHMCB "authz_status_throttle(4194304)"
#define AZS_THROTTLE_ID    16        /* bytes of a record's socache id */
#define AZS_THROTTLE_WAIT_MS 250     /* a request waits for a shared cache */
#define AZS_THROTTLE_QUEUE 64        /* operations waiting for it, a child */

struct azs_throttle_conf {
    azs_throttle_policy_t pol;
    const char *cache_spec;                /* as written; NULL: default */
};

/* Where counts live: made for each configuration generation (pconf), as
 * httpd reloads the provider's module on every restart.  The table of
 * bans is ours and lives as long as the parent (its process pool), so a
 * restart, graceful or not, forgets no ban (logrotate reloads httpd
 * daily; BAN may be 30 days); counts below N start again. */
typedef struct {
    const char *spec;                      /* "shmcb:...", for the log */
    ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;             /* every read-count-write */
    azs_bans_t *bans;
    int shared;                            /* the cache is not this server's
                                            * alone (a fleet's) */
    server_rec *server;
} throttle_store;

/* Set in post_config, in the parent, before the children are forked;
 * read-only after (tmutex is re-attached by each child). */
static const azs_throttle_policy_t *tpol;
static const throttle_store *tc;
static apr_global_mutex_t *tmutex;
static azs_bans_t *bans;
static module *basic_module, *form_module;
static const authn_provider *our_provider;   /* as registered */
static int mpm_threaded;

/* The failure lines of a socache that fails (approximate across threads,
 * as a rate limit may be). */
static volatile apr_uint32_t fault_log_second[2];

static azs_throttle_conf *conf_of(cmd_parms *cmd)
{
    azs_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &authz_status_module);

    if (!sc->throttle) {
        sc->throttle = apr_pcalloc(cmd->pool, sizeof(*sc->throttle));
    }
    return sc->throttle;
}

const char *azs_cmd_throttle(cmd_parms *cmd, void *dummy, const char *limit,
                             const char *ban)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    azs_throttle_policy_t pol;

    if (err) {
        return err;
    }
    if ((err = azs_throttle_parse(limit, ban, &pol)) != NULL) {
        return apr_pstrcat(cmd->pool, "AuthzStatusThrottle: ", err, NULL);
    }
    conf_of(cmd)->pol = pol;
    return NULL;
}

/* Splits PROVIDER[:ARGS] and finds the provider. */
static const char *cache_provider(apr_pool_t *p, const char *spec,
                                  ap_socache_provider_t **prov,
                                  const char **args)
{
    const char *sep = ap_strchr_c(spec, ':');
    const char *name = sep ? apr_pstrmemdup(p, spec, sep - spec) : spec;

    *args = sep ? sep + 1 : NULL;
    *prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                               AP_SOCACHE_PROVIDER_VERSION);
    return *prov ? NULL
                 : apr_psprintf(p, "unknown socache provider '%s' (load "
                                "mod_socache_%s before this line)", name,
                                name);
}

/* PROVIDER[:ARGS], as AuthnCacheSOCache and SSLSessionCache take it; the
 * provider's module must be loaded first.  Checked here (an instance
 * made and dropped); made for good in post_config. */
const char *azs_cmd_throttle_cache(cmd_parms *cmd, void *dummy,
                                   const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *args;
    ap_socache_provider_t *prov;
    ap_socache_instance_t *inst = NULL;

    if (err || (err = cache_provider(cmd->temp_pool, arg, &prov, &args))
        || (err = prov->create(&inst, args, cmd->temp_pool,
                               cmd->temp_pool))) {
        return apr_pstrcat(cmd->pool, "AuthzStatusThrottleCache: ", err,
                           NULL);
    }
    conf_of(cmd)->cache_spec = arg;
    return NULL;
}

int azs_throttle_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    /* The Mutex directive may name it. */
    return ap_mutex_register(pconf, AZS_THROTTLE_MUTEX, NULL,
                             APR_LOCK_DEFAULT, 0) == APR_SUCCESS
           ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static apr_status_t store_gone(void *data)
{
    throttle_store *st = data;

    st->provider->destroy(st->inst, st->server);
    return APR_SUCCESS;
}

/* The table of bans, made once in the process pool: the first
 * configuration pass makes it, every later one finds it.  Nothing in it
 * points into a module's code, which a restart unloads. */
static azs_bans_t *bans_for(server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    azs_bans_t *b = NULL;
    /* The table's layout in the key: an upgraded module, loaded by a
     * restart, keeps the bans of a table of the same layout, and makes a
     * new one of another. */
    const char *key = apr_psprintf(s->process->pconf, "azs-throttle-bans-%"
                                   APR_SIZE_T_FMT,
                                   azs_bans_shape(AZS_BAN_SLOTS));

    apr_pool_userdata_get((void **)&b, key, pp);
    if (!b) {
        if (azs_bans_create(&b, AZS_BAN_SLOTS, pp) != AZS_RC_OK) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0405: cannot "
                         "create the throttle's table of bans");
            return NULL;
        }
        apr_pool_userdata_set(b, key, apr_pool_cleanup_null, pp);
    }
    return b;
}

/* The cache for spec, for this generation; NULL after logging why not. */
static const throttle_store *store_for(const char *spec, server_rec *s,
                                       apr_pool_t *pp, apr_pool_t *ptemp)
{
    static struct ap_socache_hints hints = {AZS_THROTTLE_ID, 64, 60000000};
    const char *err, *args;
    throttle_store *st;
    apr_status_t rv;

    st = apr_pcalloc(pp, sizeof(*st));
    st->server = s;
    st->spec = apr_pstrdup(pp, spec);
    if ((err = cache_provider(ptemp, spec, &st->provider, &args))
        || (err = st->provider->create(&st->inst, args, ptemp, pp))) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0405: "
                     "AuthzStatusThrottle keeps its counts in a socache: "
                     "%s", err);
        return NULL;
    }
    /* shmcb and dbm are this server's; anything else (redis, memcache)
     * may be shared by a fleet. */
    st->shared = strncmp(spec, "shmcb", 5) != 0
                 && strncmp(spec, "dbm", 3) != 0;
    /* Every provider: a count is read, changed and written back, and two
     * threads of one server must not both write what they read. */
    rv = ap_global_mutex_create(&st->mutex, NULL, AZS_THROTTLE_MUTEX, NULL,
                                s, pp, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "AZS0405: cannot "
                     "create the throttle's mutex");
        return NULL;
    }
    rv = st->provider->init(st->inst, AZS_THROTTLE_NS, &hints, s, pp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "AZS0405: cannot "
                     "initialise the throttle's cache %s", spec);
        return NULL;
    }
    apr_pool_cleanup_register(pp, st, store_gone, apr_pool_cleanup_null);
    if (!(st->bans = bans_for(s))) {
        return NULL;
    }
    return st;
}

int azs_throttle_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    azs_server_conf *sc = ap_get_module_config(s->module_config,
                                               &authz_status_module);
    azs_throttle_conf *c = sc->throttle;

    tc = NULL;
    tpol = NULL;
    tmutex = NULL;
    bans = NULL;
    basic_module = ap_find_linked_module("mod_auth_basic.c");
    our_provider = ap_lookup_provider(AUTHN_PROVIDER_GROUP, "authz_status",
                                      AUTHN_PROVIDER_VERSION);
    form_module = ap_find_linked_module("mod_auth_form.c");
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &mpm_threaded) != APR_SUCCESS) {
        mpm_threaded = 0;
    }
    mpm_threaded = mpm_threaded != AP_MPMQ_NOT_SUPPORTED;
    if (!c || !c->pol.n) {
        if (c && c->cache_spec) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AZS0406: "
                         "AuthzStatusThrottleCache without "
                         "AuthzStatusThrottle: nothing is throttled");
        }
        return OK;
    }
    /* 4 MB in DefaultRuntimeDir (httpd's own default is 512 KB): a record
     * is kept while there is room, and an attacker who rotates through
     * more addresses than the cache holds within a window has each
     * one's count forgotten. */
    if (!(tc = store_for(c->cache_spec ? c->cache_spec
                                       : "shmcb:" AZS_THROTTLE_SHMCB,
                         s, pconf, ptemp))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    tpol = &c->pol;
    tmutex = tc->mutex;
    bans = tc->bans;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "AZS0407: throttle: %d "
                 "failed logins within %" APR_INT64_T_FMT " ms ban an "
                 "address for %" APR_INT64_T_FMT " ms; counts in %s",
                 c->pol.n, c->pol.window_ms, c->pol.ban_ms, tc->spec);
    return OK;
}

static void cache_thread_start(server_rec *s);

void azs_throttle_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!tmutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&tmutex,
                                     apr_global_mutex_lockfile(tmutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "AZS0405: cannot attach "
                     "to the throttle's mutex; throttling is off in this "
                     "process");
        tmutex = NULL;
        tc = NULL;
        return;
    }
    if (tc && tc->shared) {
        cache_thread_start(s);
    }
}

static apr_int64_t now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

/* Does this request ask for a password or a token?  Wherever it does,
 * a banned address is refused, whichever provider would check it (an
 * AuthnProviderAlias of ours, or another): the ban is the server's. */
static int authenticates(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && (ap_cstr_casecmp(type, "Bearer") == 0
                    || ap_cstr_casecmp(type, "Basic") == 0
                    || ap_cstr_casecmp(type, "form") == 0);
}

/* Is this provider's "no" final: the last (or only) provider of the
 * list that calls it? */
static int last_word(request_rec *r)
{
    const char *type = ap_auth_type(r);
    module *m = NULL;

    if ((r->handler && strcmp(r->handler, "form-login-handler") == 0)
        || (type && ap_cstr_casecmp(type, "form") == 0)) {
        m = form_module;
    }
    else if (type && ap_cstr_casecmp(type, "Basic") == 0) {
        m = basic_module;
    }
    return m && azs_compat_last_provider(r, m, our_provider);
}

/* The first request of r's chain (internal redirects, subrequests): one
 * failure is counted once, whatever ErrorDocument or subrequest repeats
 * it. */
static azs_req *chain_state(request_rec *r)
{
    while (r->prev || r->main) {
        r = r->prev ? r->prev : r->main;
    }
    return azs_req_get(r);
}

/* The request's key, made once. */
static const char *req_key(request_rec *r)
{
    azs_req *q = azs_req_get(r);

    if (!q->throttle_key) {
        q->throttle_key = azs_throttle_key(r->pool, r->useragent_ip);
        if (!q->throttle_key) {
            q->throttle_key = "";   /* not an address: not counted */
        }
    }
    return q->throttle_key;
}

static int answer_429(request_rec *r, const char *key, apr_int64_t until,
                      apr_uint32_t failures, int first, apr_int64_t now)
{
    apr_int64_t left = (until - now + 999) / 1000;
    const char *detail = NULL;

    /* Every banned request comes here: the line is made only when it is
     * written. */
    if (first || APLOG_R_IS_LEVEL(r, APLOG_DEBUG)) {
        detail = apr_psprintf(r->pool, "address %s%s%s: %u failed logins "
                              "within %" APR_INT64_T_FMT "s; refused for %"
                              APR_INT64_T_FMT "s, %" APR_INT64_T_FMT "s left",
                              azs_escape(r->pool, r->useragent_ip, 64),
                              strchr(key, '/') ? " counted as " : "",
                              strchr(key, '/') ? key : "", failures,
                              tpol->window_ms / 1000, tpol->ban_ms / 1000,
                              left);
    }
    if (first) {
        azs_log_denial(r, HTTP_TOO_MANY_REQUESTS, AZS_REASON_THROTTLED, NULL,
                       detail);
    }
    else {
        azs_note_decision(r, HTTP_TOO_MANY_REQUESTS, AZS_REASON_THROTTLED);
    }
    if (!first && detail) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0402: 429 "
                      "throttled: for \"%s\" (%s)",
                      azs_escape(r->pool, r->uri, 256), detail);
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                left > 0 ? left : 1));
    azs_req_get(r)->throttled = 1;
    /* Under prefork a connection holds a whole process while it is kept
     * alive: a throttled client must not keep one (64 flooding
     * connections would hold every process), so its connection closes.
     * Threaded MPMs keep it: a reconnection costs more than the 429. */
    if (!mpm_threaded) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    return HTTP_TOO_MANY_REQUESTS;
}

/* 429 if the address is banned here, else DECLINED.  No socache call. */
static int gate(request_rec *r)
{
    const char *key = req_key(r);
    apr_int64_t now = now_ms(), until;
    apr_uint32_t failures = 0;
    int first = 0;

    if (!*key) {
        return DECLINED;
    }
    until = azs_bans_get(bans, key, now, &failures, &first);
    if (!until) {
        return DECLINED;
    }
    return answer_429(r, key, until, failures, first, now);
}

apr_size_t azs_throttle_banned_now(int *on)
{
    *on = tc != NULL && bans != NULL;
    return *on ? azs_bans_count(bans, now_ms()) : 0;
}

int azs_throttle_check(request_rec *r)
{
    if (!tc || !authenticates(r)) {
        return DECLINED;
    }
    return gate(r);
}

int azs_throttle_handler(request_rec *r)
{
    /* mod_auth_form's login handler reads the form and checks it with
     * its providers in its handler, where no Require (and so no
     * check_authn hook) runs, whatever the AuthType: refused here before
     * it reads the body. */
    if (!tc || !r->handler || strcmp(r->handler, "form-login-handler") != 0) {
        return DECLINED;
    }
    return gate(r);
}

int azs_throttle_recheck(request_rec *r)
{
    return tc ? gate(r) : DECLINED;
}

int azs_throttle_counts_fast(void)
{
    return tc && !tc->shared;
}

int azs_throttle_banned(request_rec *r)
{
    const char *key;
    azs_req *q;

    if (!tc || !*(key = req_key(r))
        || !azs_bans_get(bans, key, now_ms(), NULL, NULL)) {
        return 0;
    }
    q = azs_req_get(r);
    q->throttled = 1;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0402: throttled: "
                  "address %s refused for \"%s\" without a check",
                  key, azs_escape(r->pool, r->uri, 256));
    return 1;
}

void azs_throttle_provider_failure(request_rec *r, azs_reason reason)
{
    /* Counted as soon as the provider says no (a wrong password before
     * the failure delay), so the next request that waited for a hash
     * place finds the ban; only when no other provider follows, which
     * could still accept. */
    if (tc && last_word(r)) {
        azs_throttle_failure(r, reason);
    }
}

int azs_throttle_authn_passed(request_rec *r)
{
    azs_req *q = azs_req_peek(r);

    /* Authorization runs only once authentication succeeded: a "no" a
     * provider said before another accepted is no failure, and no line
     * either. */
    if (q) {
        q->authn_passed = 1;
        if (q->pending.status == HTTP_UNAUTHORIZED) {
            q->pending.status = 0;
        }
    }
    return DECLINED;
}

/* A final 401 that presented credentials where the module asks for them,
 * and did not authenticate: counted (once), whichever provider said no. */
static void count_final(request_rec *r, int status)
{
    azs_req *q = azs_req_peek(r);
    const char *header, *type;

    if (!tc || status != HTTP_UNAUTHORIZED || (q && q->authn_passed)
        || !authenticates(r)) {
        return;
    }
    if (q && q->pending.status == HTTP_UNAUTHORIZED) {
        azs_throttle_failure(r, q->pending.reason);
        return;
    }
    /* Another provider's no: Basic credentials at a Basic location (a
     * browser that sends a Basic password to a Bearer location is no
     * guesser; Bearer refusals are counted where they are made). */
    header = apr_table_get(r->headers_in, (PROXYREQ_PROXY == r->proxyreq)
                                          ? "Proxy-Authorization"
                                          : "Authorization");
    type = ap_auth_type(r);
    if (header && azs_auth_scheme_is(header, "Basic") && type
        && ap_cstr_casecmp(type, "Basic") == 0) {
        azs_throttle_failure(r, AZS_REASON_BAD_PASSWORD);
    }
}

/* The one line about a cache that fails, at most every
 * AZS_THROTTLE_LOG_SEC per process. */
static void cache_fault(server_rec *srv, apr_status_t rv, const char *what)
{
    /* A cache that fails and one that does not answer are told apart. */
    volatile apr_uint32_t *last = &fault_log_second[rv == APR_TIMEUP];
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t then = apr_atomic_read32(last);

    if (now - then < AZS_THROTTLE_LOG_SEC
        || apr_atomic_cas32(last, now, then) != then) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, srv, "AZS0403: throttle cache "
                 "%s: %s; failed logins are not counted while it fails "
                 "(authentication goes on; at most one line per %ds per "
                 "process)", tc->spec, what, AZS_THROTTLE_LOG_SEC);
}

/* The id a key's record is kept under: 16 bytes of its SHA-256, the
 * same on every node.  Not the text: shmcb picks its subcache by the
 * id's first byte, and every IPv6 key starting with "2" would share one
 * (a few hundred records, evicted oldest first). */
static void cache_id(const char *key, unsigned char id[AZS_THROTTLE_ID])
{
    unsigned char h[AZS_SHA256_LEN];
    char buf[128];

    apr_snprintf(buf, sizeof(buf), "azs-throttle:%s", key);
    azs_sha256(h, buf, strlen(buf));
    memcpy(id, h, AZS_THROTTLE_ID);
}

/* One operation on the cache: count a failure of key (peek 0), or read
 * its ban (peek 1).  Run by the request itself on this server's own
 * cache, by the child's cache thread on a shared one. */
typedef struct cache_op {
    struct cache_op *next;
    int peek;
    char key[72];
    int done;                 /* the thread finished it */
    int abandoned;            /* the request stopped waiting: the thread
                               * frees it */
    apr_int64_t ban_until;    /* what it found (0: no ban) */
} cache_op;

/* Runs op: the record read, counted, written back, under the global
 * mutex; a ban it finds goes into the table of bans.  0 on success. */
static int cache_run(cache_op *op, server_rec *srv, apr_pool_t *p)
{
    unsigned char rec[AZS_THROTTLE_REC_MAX], out[AZS_THROTTLE_REC_MAX];
    unsigned char id[AZS_THROTTLE_ID];
    unsigned int len = sizeof(rec);
    azs_throttle_state_t st;
    apr_int64_t now;
    apr_status_t rv;
    apr_size_t n;

    cache_id(op->key, id);
    if ((rv = apr_global_mutex_lock(tmutex)) != APR_SUCCESS) {
        cache_fault(srv, rv, "locking its mutex failed");
        return -1;
    }
    rv = tc->provider->retrieve(tc->inst, srv, id, sizeof(id), rec, &len, p);
    /* A value too large for rec is none of ours: read as no record, and
     * overwritten. */
    if (rv == APR_NOTFOUND || rv == APR_ENOMEM) {
        len = 0;
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        apr_global_mutex_unlock(tmutex);
        cache_fault(srv, rv, "reading a count failed");
        return -1;
    }
    now = now_ms();
    if (op->peek) {
        apr_global_mutex_unlock(tmutex);
        op->ban_until = azs_throttle_record_ban(rec, len);
        if (op->ban_until > now) {
            azs_bans_put(bans, op->key, op->ban_until,
                         (apr_uint32_t)tpol->n, now);
        }
        return 0;
    }
    n = azs_throttle_count(tpol, len ? rec : NULL, len, now, out, &st);
    /* Kept while it can still matter: to the ban's end, or the window's
     * for the newest failure. */
    rv = tc->provider->store(tc->inst, srv, id, sizeof(id),
                             apr_time_from_msec(st.banned
                                                ? st.ban_until
                                                : now + tpol->window_ms)
                             + apr_time_from_sec(1),
                             out, (unsigned int)n, p);
    apr_global_mutex_unlock(tmutex);
    if (rv != APR_SUCCESS) {
        cache_fault(srv, rv, "storing a count failed");
        return -1;
    }
    op->ban_until = st.banned ? st.ban_until : 0;
    if (st.banned) {
        azs_bans_put(bans, op->key, st.ban_until,
                     st.new_ban ? st.failures : (apr_uint32_t)tpol->n, now);
    }
    if (st.new_ban) {
        azs_count(AZS_M_THROTTLE_BAN);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, srv, "AZS0408: address %s "
                     "banned until %" APR_INT64_T_FMT " ms after %u failed "
                     "logins", op->key, st.ban_until, st.failures);
    }
    return 0;
}

/*
 * A shared cache (redis, memcache) is across the network, and httpd's
 * providers have no bound of their own that holds (a redis that accepts
 * and never answers blocks a call for ever): its calls are made by one
 * thread per child, and a request waits for its operation at most
 * AZS_THROTTLE_WAIT_MS, then goes on without it (failing open).  While
 * the thread is stuck in a call, requests do not queue behind it.
 */
static apr_thread_mutex_t *q_mutex;
static apr_thread_cond_t *q_ready, *q_done;
static cache_op *q_head, *q_tail;
static int q_len;
static apr_int64_t q_busy_since;   /* ms; 0: the thread is waiting */
static server_rec *q_server;

static void *APR_THREAD_FUNC cache_thread(apr_thread_t *t, void *data)
{
    apr_pool_t *p = data, *op_pool;
    cache_op *op;

    for (;;) {
        apr_thread_mutex_lock(q_mutex);
        while (!q_head) {
            apr_thread_cond_wait(q_ready, q_mutex);
        }
        op = q_head;
        q_head = op->next;
        if (!q_head) {
            q_tail = NULL;
        }
        q_len--;
        q_busy_since = now_ms();
        apr_thread_mutex_unlock(q_mutex);

        apr_pool_create(&op_pool, p);
        cache_run(op, q_server, op_pool);
        apr_pool_destroy(op_pool);

        apr_thread_mutex_lock(q_mutex);
        q_busy_since = 0;
        op->done = 1;
        if (op->abandoned) {
            free(op);
        }
        apr_thread_cond_broadcast(q_done);
        apr_thread_mutex_unlock(q_mutex);
    }
    return NULL;
}

static void cache_thread_start(server_rec *s)
{
    apr_pool_t *p;
    apr_threadattr_t *attr;
    apr_thread_t *t;

    /* Its own pool, never destroyed: the thread may be inside a call
     * when the child exits, and must not find its memory gone. */
    if (apr_pool_create_unmanaged(&p) != APR_SUCCESS
        || apr_thread_mutex_create(&q_mutex, APR_THREAD_MUTEX_DEFAULT, p)
        || apr_thread_cond_create(&q_ready, p)
        || apr_thread_cond_create(&q_done, p)
        || apr_threadattr_create(&attr, p)
        || apr_threadattr_detach_set(attr, 1)
        || apr_thread_create(&t, attr, cache_thread, p, p)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0405: cannot start "
                     "the throttle's cache thread; throttling is off in this "
                     "process");
        q_mutex = NULL;
        tc = NULL;
        return;
    }
    q_server = s;
}

/* Runs op on the child's cache thread, waiting at most
 * AZS_THROTTLE_WAIT_MS: 0 when it ran. */
static int cache_submit(cache_op *op, server_rec *srv)
{
    apr_interval_time_t left;
    apr_int64_t deadline = now_ms() + AZS_THROTTLE_WAIT_MS, now;
    cache_op *mine;
    int ran;

    if (!q_mutex) {
        return -1;
    }
    apr_thread_mutex_lock(q_mutex);
    now = now_ms();
    if ((q_busy_since && now - q_busy_since > AZS_THROTTLE_WAIT_MS)
        || q_len >= AZS_THROTTLE_QUEUE
        || !(mine = malloc(sizeof(*mine)))) {
        apr_thread_mutex_unlock(q_mutex);
        cache_fault(srv, APR_TIMEUP, "does not answer (a call has taken "
                    "longer than " APR_STRINGIFY(AZS_THROTTLE_WAIT_MS)
                    " ms)");
        return -1;
    }
    *mine = *op;
    mine->next = NULL;
    if (q_tail) {
        q_tail->next = mine;
    }
    else {
        q_head = mine;
    }
    q_tail = mine;
    q_len++;
    apr_thread_cond_signal(q_ready);
    while (!mine->done && (left = deadline - now_ms()) > 0) {
        apr_thread_cond_timedwait(q_done, q_mutex, left * 1000);
    }
    ran = mine->done;
    if (ran) {
        op->ban_until = mine->ban_until;
        free(mine);
    }
    else {
        mine->abandoned = 1;   /* queued or running: the thread frees it */
    }
    apr_thread_mutex_unlock(q_mutex);
    if (!ran) {
        cache_fault(srv, APR_TIMEUP, "did not answer within "
                    APR_STRINGIFY(AZS_THROTTLE_WAIT_MS) " ms");
    }
    return ran ? 0 : -1;
}

/* Runs op: at once on this server's own cache, on the cache thread with
 * a deadline on a shared one. */
static int cache_do(request_rec *r, cache_op *op)
{
    return tc->shared ? cache_submit(op, r->server)
                      : cache_run(op, r->server, r->pool);
}

int azs_throttle_before_hash(request_rec *r)
{
    const char *key;
    cache_op op;

    /* On one server the table of bans knows every ban (the gate asked
     * it); a fleet's may have been made on another node. */
    if (!tc || !tc->shared || !*(key = req_key(r))) {
        return DECLINED;
    }
    memset(&op, 0, sizeof(op));
    op.peek = 1;
    apr_cpystrn(op.key, key, sizeof(op.key));
    if (cache_do(r, &op) != 0 || op.ban_until <= now_ms()) {
        return DECLINED;
    }
    return gate(r);
}

void azs_throttle_insert_error(request_rec *r)
{
    /* Counted as the error answer is made, before it is sent: the
     * client's next request already finds it. */
    count_final(r, r->status);
}

int azs_throttle_log_transaction(request_rec *r)
{
    const request_rec *last = r;

    /* An answer made by an ErrorDocument (an internal redirect) made no
     * error answer for r itself. */
    while (last->next) {
        last = last->next;
    }
    count_final(r, last->status);
    return DECLINED;
}

void azs_throttle_failure(request_rec *r, azs_reason reason)
{
    const char *key;
    cache_op op;
    azs_req *q;

    if (!tc || !azs_reason_is_failed_login(reason) || !*(key = req_key(r))) {
        return;
    }
    q = chain_state(r);
    if (q->throttle_counted) {
        return;
    }
    q->throttle_counted = 1;
    memset(&op, 0, sizeof(op));
    apr_cpystrn(op.key, key, sizeof(op.key));
    cache_do(r, &op);
}
