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
} azs_dir_conf;

/* Per-server configuration: process-wide settings, read from the main
 * server when a child starts. */
typedef struct {
    int cache_entries;       /* AuthzStatusCache; AZS_UNSET: default */
    int max_hashes;          /* AuthzStatusHashLimit */
    int hash_idle;           /* AuthzStatusHashPriority idle (default) */
} azs_server_conf;

#define AZS_CACHE_DEFAULT    16384
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

/* A thread's open database (mod_azs_db.c), counted: a request that uses
 * one keeps it open until the request ends. */
typedef struct azs_handle azs_handle;

/* What one request has learned: providers run several times per request
 * (mod_authz_core calls them before and after authentication), so the
 * user's roles and permissions are read once.  Everything here either
 * lives in the request's pool or is held by the request (the handle, the
 * thread's memo sets) until its pool is gone. */
typedef struct {
    azs_handle *h;           /* the database this request reads now */
    const char *st_path;     /* ... and its AuthzStatusDatabase */
    const void *held_set;    /* the memo set last held (mod_azs_db.c) */
    const char *user;        /* whose roles are below */
    azs_handle *user_h;      /* ... read from this database */
    int user_found;
    azs_user_t u;
    apr_hash_t *roles;
    apr_hash_t *perms;
    azs_token_t *token;      /* Bearer: the token that authenticated */
    const char *basic_user;  /* the Basic user, before mod_auth_basic sets
                              * r->user: for the log lines */
    azs_handle *admit_h;     /* the database the Basic admission asked: its
                              * answers below hold for that one only */
    int cache_hit;           /* the Basic check found the login cached */
    int hashlimit_held;               /* 1: holds a place under AuthzStatusHashLimit
                              * (-1: counted, the limit being gone) */
    int hashlimit_cleanup;
    const char *pre_user;    /* the Basic user the admission looked up
                              * (into user, user_found and u above) */
    apr_int64_t gen;         /* the database generation, read once */
    int gen_read;
    azs_handle *gen_h;
    azs_handle *txn;         /* the read transaction this request opened */
    apr_os_thread_t txn_thread;   /* ... on this thread */
    int txn_cleanup;
    int block_status;        /* the blocklist's answer, once decided:
                              * 0 not yet, else DECLINED or a status */
    azs_pending pending;
} azs_req;

/* mod_azs_config.c */
void *azs_create_dir_conf(apr_pool_t *p, char *dir);
void *azs_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *azs_create_server_conf(apr_pool_t *p, server_rec *s);
void *azs_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
const char *azs_cmd_database(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_cache(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_hash_limit(cmd_parms *cmd, void *conf, const char *arg);
const char *azs_cmd_hash_priority(cmd_parms *cmd, void *conf,
                                  const char *arg);
const char *azs_cmd_forbidden(cmd_parms *cmd, void *conf, int on);
const char *azs_cmd_blocklist(cmd_parms *cmd, void *conf, int on);
const char *azs_set_authz_forbidden(cmd_parms *cmd, int on);
void azs_forbidden_off_for_request(request_rec *r);
azs_dir_conf *azs_dir(request_rec *r);
const char *azs_db_path(request_rec *r);

/* mod_auth_basic, found in post_config (before the children start). */
extern module *azs_basic_module;
/* The server-wide bound on costly hashes (AuthzStatusHashLimit), made in
 * post_config, in the parent, before the children are forked. */
extern azs_hashlimit_t *azs_hashlimit;
/* Requests of this child waiting for or running a costly hash (atomic),
 * and how many of them may wait: all of the child's threads but one. */
extern volatile apr_uint32_t azs_hashers;
/* AuthzStatusHashPriority: 1 idle, 0 normal (set in post_config). */
extern int azs_hash_idle;
extern apr_uint32_t azs_hashers_max;

/* mod_azs_db.c: one read-only handle per thread and database file, and
 * the process's verified-credential cache (NULL until child_init). */
extern azs_cache_t *azs_cache;
int azs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);
void azs_child_init(apr_pool_t *pchild, server_rec *s);
azs_req *azs_req_get(request_rec *r);
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
/* Loads r->user's roles and permissions into the memo.  APR_SUCCESS,
 * or APR_EGENERAL after azs_db_fault. */
apr_status_t azs_req_user(request_rec *r, azs_req *q, const char *user);

/* The blocklist entry covering the client (*b NULL when none), memoized
 * per thread until the next write.  APR_EGENERAL after azs_db_fault. */
apr_status_t azs_req_block(request_rec *r, const char *ip,
                           const azs_cidr_t *addr, azs_block_t **b);

/* The token with this hash and its user (both NULL when unknown),
 * memoized per thread until the next write.  APR_EGENERAL after
 * azs_db_fault. */
apr_status_t azs_req_token(request_rec *r, const unsigned char hash[32],
                           azs_token_t **t, azs_user_t **u);

/* mod_azs_authn.c */
extern const authn_provider azs_authn_provider;
int azs_check_basic_syntax(request_rec *r);
/* Gives back the request's place under AuthzStatusHashLimit, if held. */
void azs_hashlimit_release(request_rec *r);

/* mod_azs_authz.c */
extern const authz_provider azs_authz_role_provider;
extern const authz_provider azs_authz_permission_provider;

/* mod_azs_bearer.c */
int azs_bearer_authn(request_rec *r);
int azs_bearer_note_failure(request_rec *r, const char *auth_type);
void azs_insert_error(request_rec *r);

/* mod_azs_block.c */
int azs_block_check(request_rec *r);

/* The one log line per decision (PRODUCT.md section 4). */
void azs_log_denial(request_rec *r, int status, azs_reason reason,
                    const char *user, const char *detail);
void azs_defer_denial(request_rec *r, int status, azs_reason reason,
                      const char *user, const char *detail);
int azs_clear_pending(request_rec *r);
void azs_error_checks_done(request_rec *r);
int azs_log_transaction(request_rec *r);

#endif /* MOD_AZS_H */
