/*
 * mod_azs.h - private header of the httpd glue (src/mod_azs_*.c).
 *
 * The glue is thin: it reads httpd's request, calls the core (azs.h), and
 * turns the core's answer into a status, a header and one log line.
 */
#ifndef MOD_AZS_H
#define MOD_AZS_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "http_protocol.h"
#include "ap_expr.h"
#include "mod_auth.h"
#include "apr_portable.h"

#include "azs.h"
#include "mod_azs_compat.h"

/* mod_authz_status.c defines the module (AP_DECLARE_MODULE declares the
 * log index itself); every other file uses it. */
#ifndef AZS_MODULE_MAP
APLOG_USE_MODULE(authz_status);
#endif

extern module AP_MODULE_DECLARE_DATA authz_status_module;

#define AZS_UNSET -1

/* Per-directory configuration; "unset" values are resolved when read. */
typedef struct {
    const char *db_path;     /* NULL: the compiled-in default */
    int blocklist;           /* AuthzStatusBlocklist */
    int forbidden;           /* AuthzStatusForbiddenOnFailure */
    int export;              /* AuthzStatusExport (1 On; else Off) */
} azs_dir_conf;

/* AuthzStatusThrottle and AuthzStatusThrottleCache (mod_azs_throttle.c). */
typedef struct azs_throttle_conf azs_throttle_conf;

/* Per-server configuration: process-wide settings, read from the main
 * server when a child starts. */
typedef struct {
    int cache_entries;       /* AuthzStatusCache; AZS_UNSET: default */
    int max_hashes;          /* AuthzStatusHashLimit */
    int hash_idle;           /* AuthzStatusHashPriority idle (default) */
    int memo_kb;             /* AuthzStatusMemo, in KB; AZS_UNSET: default */
    apr_int64_t max_stale_ms;  /* AuthzStatusMaxStale; AZS_UNSET: default */
    apr_array_header_t *pg_urls;  /* PostgreSQL databases named in this
                                   * server's sections */
    azs_throttle_conf *throttle;  /* main server only; NULL: not set */
} azs_server_conf;

#define AZS_CACHE_DEFAULT    65536
#define AZS_MEMO_DEFAULT     (16 * 1024 * 1024)
#define AZS_MAX_STALE_DEFAULT 1000   /* ms */
#define AZS_HASH_WAIT        apr_time_from_sec(5)

/* A denial waiting for the final status: mod_authz_core combines the
 * results of several Require lines, so a provider's "no" is logged only if
 * the request really ends in that status (see azs_log_transaction). */
typedef struct {
    int status;              /* 401 or 403; 0 when nothing is pending */
    azs_reason reason;
    const char *user;
    const char *detail;      /* "role admin; permission docs:write" */
    const char *scope;       /* Bearer: what was needed, for the header */
} azs_pending;

/* A thread's open database (mod_azs_store.c), counted: a request that
 * uses one keeps it open until the request ends. */
typedef struct azs_handle azs_handle;

/*
 * What one request has learned, in parts each written by the one file
 * that owns it (others only read).  Everything here lives in the
 * request's pool or is held by the request (handles, the thread's memo
 * sets) until its pool is gone.
 */

/* mod_azs_store.c: the database this request reads, its snapshot, and
 * the user whose roles and permissions were looked up (providers run
 * several times per request: they are read once). */
typedef struct {
    azs_handle *h;           /* the database this request reads now */
    const char *path;        /* ... and its AuthzStatusDatabase */
    const void *held_set;    /* the memo set last held */
    apr_int64_t gen;         /* the database generation, read once */
    int gen_read;
    azs_handle *gen_h;
    azs_handle *txn;         /* the read transaction this request opened */
    apr_os_thread_t txn_thread;   /* ... on this thread */
    int txn_cleanup;
    azs_feed_pos_t pos;      /* the change feed's newest row, with gen */
    const char *user;        /* whose roles are below */
    azs_handle *user_h;      /* ... read from this database */
    int user_found;
    azs_user_t u;
    azs_access_t *access;    /* the user's roles, held by the request */
    apr_int64_t deadline;    /* PostgreSQL: the request's calls end by
                              * then (CLOCK_MONOTONIC, ms; 0: not set) */
} azs_req_store_state;

/* mod_azs_authn.c: the Basic admission, before mod_auth_basic runs. */
typedef struct {
    const char *basic_user;  /* the Basic user, before mod_auth_basic sets
                              * r->user: for the log lines */
    azs_handle *admit_h;     /* the database the admission asked: its
                              * answers below hold for that one only */
    int cache_hit;           /* the login was found in the cache */
    const char *pre_user;    /* the user the admission looked up (into
                              * the store part's user, user_found, u) */
    int ok;                  /* the provider accepted the password */
    const char *kind;        /* ... for AuthType "basic" or "form" */
    const char *user;        /* ... of this user */
    const char *db;          /* ... in this database (an AuthnProviderAlias
                              * may name another than the section's) */
} azs_req_login;

/* mod_azs_hashlimit.c: a place under AuthzStatusHashLimit. */
typedef struct {
    int held;                /* 1: holds a place; -1: counted, the limit
                              * being gone; 0: none */
    int cleanup_set;
} azs_req_hashlimit;

typedef struct {
    azs_req_store_state store;
    azs_req_login login;
    azs_req_hashlimit hashlimit;
    azs_token_t *token;      /* mod_azs_bearer.c: the token that
                              * authenticated */
    int block_status;        /* mod_azs_block.c: the blocklist's answer,
                              * once decided: 0 not yet, else DECLINED or
                              * a status */
    azs_pending pending;     /* mod_azs_log.c */
    const char *throttle_key;   /* mod_azs_throttle.c: the address as
                                 * counted ("": not counted) */
    int throttle_counted;    /* this request's failure is counted (on
                              * the first request of a chain of internal
                              * redirects and subrequests) */
    int throttled;           /* banned: answered 429, or refused unchecked */
    int authn_passed;        /* authentication succeeded (check_authz ran) */
    int authz_granted;       /* mod_azs_authz.c: a Require line of ours
                              * granted */
    int passed;              /* mod_azs_log.c: the checks passed (fixups
                              * ran) */
    int decided;             /* mod_azs_log.c: the status of this request's
                              * first refusal answered at once (0: none),
                              * counted when the request ends */
    azs_reason decided_reason;
} azs_req;

/* mod_azs_req.c: the request's state, made on first use. */
azs_req *azs_req_get(request_rec *r);
/* The state if the module has made one for r, else NULL. */
azs_req *azs_req_peek(request_rec *r);

/* mod_azs_config.c */
void *azs_create_dir_conf(apr_pool_t *p, char *dir);
void *azs_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *azs_create_server_conf(apr_pool_t *p, server_rec *s);
void *azs_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
const char *azs_cmd_database(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_cache(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_memo(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_hash_limit(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_hash_priority(cmd_parms *cmd, void *conf,
                                  const char *arg);
const char *azs_cmd_forbidden(cmd_parms *cmd, void *conf, int on);
const char *azs_cmd_blocklist(cmd_parms *cmd, void *conf, int on);
const char *azs_cmd_export(cmd_parms *cmd, void *conf, int on);
azs_dir_conf *azs_dir(request_rec *r);
const char *azs_db_path(request_rec *r);

/* mod_azs_process.c: what the whole server shares, made in post_config in
 * the parent before the children are forked, read-only afterwards. */
int azs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);
/* mod_auth_basic (NULL when not loaded). */
module *azs_proc_basic_module(void);
/* The server-wide bound on costly hashes (AuthzStatusHashLimit). */
azs_hashlimit_t *azs_proc_hashlimit(void);
/* The verified-login cache, one table for all children (NULL: Off). */
azs_cache_t *azs_proc_cache(void);
/* AuthzStatusHashPriority: 1 idle, 0 normal. */
int azs_proc_hash_idle(void);
/* AuthzStatusMemo: the bytes of users and roles a child remembers (0:
 * Off). */
apr_size_t azs_proc_memo_bytes(void);

/* mod_azs_watch.c: one watcher process per PostgreSQL database, forked by
 * the parent; what it hears, in shared memory (NULL: no watcher for url). */
int azs_watch_post_config(apr_pool_t *pconf, server_rec *s);
const azs_watch_t *azs_watch_find(const char *url);
/* AuthzStatusMaxStale of the main server, in ms. */
int azs_proc_max_stale_ms(void);
const char *azs_cmd_max_stale(cmd_parms *cmd, void *conf, const char *arg);

/* mod_azs_store.c: one read-only handle per thread and database file,
 * and what each thread remembers of it. */
void azs_store_child_init(apr_pool_t *pchild, server_rec *s);
/* The request's handle, opened if needed; NULL after logging db-error. */
azs_store_t *azs_req_store(request_rec *r);
/* The handle azs_req_store last gave this request (NULL: none). */
azs_handle *azs_req_handle(request_rec *r);
/* Logs db-error with the store's reason and drops the handle so the next
 * request opens the file again. */
void azs_db_fault(request_rec *r, const char *what);
/* Ends the read transaction this request opened, if any. */
void azs_req_read_end(request_rec *r);
/* The database's generation, read once per request, in the read
 * transaction the request's later reads share. */
apr_status_t azs_req_generation(request_rec *r, azs_store_t *st,
                                apr_int64_t *gen);
/* Loads the user's roles and permissions into the request's store part.
 * APR_SUCCESS, or APR_EGENERAL after azs_db_fault. */
apr_status_t azs_req_user(request_rec *r, const char *user);
/* After azs_req_user: the chain through which the user holds role
 * (is_perm 0) or permission name; NULL when not held. */
const char *azs_req_holds(request_rec *r, int is_perm, const char *name);
/* The blocklist entry covering the client (*b NULL when none), memoized
 * per thread until the next write.  APR_EGENERAL after azs_db_fault. */
apr_status_t azs_req_block(request_rec *r, const char *ip,
                           const azs_cidr_t *addr, azs_block_t **b);
/* The token with this hash and its user (both NULL when unknown),
 * memoized per thread until the next write.  APR_EGENERAL after
 * azs_db_fault. */
apr_status_t azs_req_token(request_rec *r, const unsigned char hash[32],
                           azs_token_t **t, azs_user_t **u);
/* The checks are over (fixups) or an error response is made: the read
 * transaction ends, on the request's own thread. */
int azs_store_fixups(request_rec *r);
void azs_store_insert_error(request_rec *r);

/* mod_azs_hashlimit.c: a place under AuthzStatusHashLimit for a request
 * about to cost a hash. */
void azs_hashlimit_child_init(apr_pool_t *pchild, server_rec *s);
/* 1 when the request holds a place (or the limit is gone), 0 when none
 * came free in AZS_HASH_WAIT. */
int azs_hashlimit_take(request_rec *r);
/* Gives the place back, if held. */
void azs_hashlimit_release(request_rec *r);
int azs_hashlimit_fixups(request_rec *r);
void azs_hashlimit_insert_error(request_rec *r);

/* mod_azs_authn.c */
extern const authn_provider azs_authn_provider;
int azs_check_basic_syntax(request_rec *r);

/* mod_azs_authz.c */
extern const authz_provider azs_authz_role_provider;
extern const authz_provider azs_authz_permission_provider;

/* mod_azs_bearer.c */
int azs_bearer_authn(request_rec *r);
int azs_bearer_note_failure(request_rec *r, const char *auth_type);
void azs_insert_error(request_rec *r);

/* mod_azs_throttle.c: AuthzStatusThrottle. */
const char *azs_cmd_throttle(cmd_parms *cmd, void *dummy, const char *limit,
                             const char *ban);
const char *azs_cmd_throttle_cache(cmd_parms *cmd, void *dummy,
                                   const char *arg);
int azs_throttle_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp);
int azs_throttle_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s);
void azs_throttle_child_init(apr_pool_t *pchild, server_rec *s);
/* check_authn, first: 429 to a banned address where the module
 * authenticates, before any credential is read; DECLINED otherwise. */
int azs_throttle_check(request_rec *r);
/* The same for mod_auth_form's form-login-handler. */
int azs_throttle_handler(request_rec *r);
/* Before a password hash: a fleet's ban made elsewhere (one socache
 * read); 429 or DECLINED. */
int azs_throttle_before_hash(request_rec *r);
/* After waiting for a hash place: banned meanwhile?  429 or DECLINED. */
int azs_throttle_recheck(request_rec *r);
/* Counts a failed login (reasons azs_reason_is_failed_login), once per
 * request. */
void azs_throttle_failure(request_rec *r, azs_reason reason);
/* The provider said no (for reason): counted now when no other provider
 * follows it. */
void azs_throttle_provider_failure(request_rec *r, azs_reason reason);
/* Is counting a failure quick (this server's own cache, not a remote
 * one)? */
int azs_throttle_counts_fast(void);
/* Is the client banned (this server's table only; no socache call)?
 * Sets the request's throttled flag. */
int azs_throttle_banned(request_rec *r);
/* Authentication passed (check_authz, first): a provider's "no" was
 * overruled, it is no failure. */
int azs_throttle_authn_passed(request_rec *r);
/* An error answer is made, or the request ends: a final 401 that
 * presented credentials and did not authenticate is counted. */
void azs_throttle_insert_error(request_rec *r);
int azs_throttle_log_transaction(request_rec *r);

/* mod_azs_count.c: the server's counters, in shared memory made once
 * in the process pool (restarts keep them). */
void azs_count_post_config(server_rec *s, apr_pool_t *ptemp);
azs_metrics_t *azs_proc_metrics(void);
void azs_count(azs_metric k);
void azs_count_decision(int status, azs_reason reason);

/* mod_azs_metrics.c: SetHandler authz-status-metrics, and mod_status's
 * status_hook. */
int azs_metrics_handler(request_rec *r);
int azs_metrics_status(request_rec *r, int flags);

/* mod_azs_export.c: AuthzStatusExport (fixups; header_parser, last, takes
 * out values of its names that something else set). */
int azs_export_fixups(request_rec *r);
int azs_export_header_parser(request_rec *r);

/* How many addresses the throttle bans now; *on: is it configured. */
apr_size_t azs_throttle_banned_now(int *on);

/* mod_azs_block.c */
int azs_block_check(request_rec *r);

/* mod_azs_log.c: the one log line per decision (doc/log-messages.md). */
void azs_log_denial(request_rec *r, int status, azs_reason reason,
                    const char *user, const char *detail);
void azs_defer_denial(request_rec *r, int status, azs_reason reason,
                      const char *user, const char *detail);
/* Adds names to what a pending Bearer 403 says was needed. */
void azs_defer_scope(request_rec *r, const char *names);
int azs_clear_pending(request_rec *r);
/* Notes a refusal answered at once (the first of the request); the
 * metrics count one decision per client request when it ends
 * (azs_log_transaction): the one of the request the client's answer came
 * from. */
void azs_note_decision(request_rec *r, int status, azs_reason reason);
int azs_log_transaction(request_rec *r);

#endif /* MOD_AZS_H */
