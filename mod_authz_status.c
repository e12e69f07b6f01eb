/*
 * mod_authz_status - authentication and authorization from a SQLite
 * database, with the right status codes: 401 when the client could not be
 * identified, 403 when it was and may not.
 *
 * This file is the map of the module: its directives, the providers it
 * registers and the hooks it takes.  The work is done in src/mod_azs_*.c
 * (httpd glue) and src/azs_*.c (the core, which knows nothing of httpd).
 */
#define AZS_MODULE_MAP
#include "mod_azs.h"
#include "mod_status.h"

static const command_rec azs_cmds[] = {
    AP_INIT_TAKE1("AuthzStatusDatabase", azs_cmd_database, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "the database managed by htauthz: a SQLite file, or "
                  "postgresql://... for a fleet"),
    AP_INIT_FLAG("AuthzStatusBlocklist", azs_cmd_blocklist, NULL,
                 ACCESS_CONF | OR_AUTHCFG,
                 "On: answer 403 to clients on the database's blocklist, "
                 "before any credential is checked (.htaccess may turn it "
                 "On, not Off)"),
    AP_INIT_FLAG("AuthzStatusForbiddenOnFailure", azs_cmd_forbidden, NULL,
                 ACCESS_CONF | OR_AUTHCFG,
                 "Off: answer 401 (httpd's default) instead of 403 to an "
                 "authenticated user who fails Require role/permission"),
    AP_INIT_FLAG("AuthzStatusExport", azs_cmd_export, NULL,
                 ACCESS_CONF | OR_AUTHCFG,
                 "On: a granted request's user, roles, kind of login and "
                 "token id go into its environment (AUTHZ_STATUS_*) for "
                 "CGI, headers to a backend and logs"),
    AP_INIT_TAKE1("AuthzStatusCache", azs_cmd_cache, NULL, RSRC_CONF,
                  "entries in the cache of verified logins, shared by all "
                  "children "
                  "(default 65536), or Off"),
    AP_INIT_TAKE1("AuthzStatusMemo", azs_cmd_memo, NULL, RSRC_CONF,
                  "bytes of users and roles each child remembers between "
                  "requests (default 16M; K, M and G suffixes), or Off"),
    AP_INIT_TAKE1("AuthzStatusMaxStale", azs_cmd_max_stale, NULL, RSRC_CONF,
                  "PostgreSQL: how long a node trusts what it remembers "
                  "without having heard from the database (default 1s)"),
    AP_INIT_TAKE1("AuthzStatusHashLimit", azs_cmd_hash_limit, NULL,
                  RSRC_CONF,
                  "costly password hashes verified at once in the whole "
                  "server (default: half the CPUs, at least 1)"),
    AP_INIT_TAKE1("AuthzStatusHashPriority", azs_cmd_hash_priority, NULL,
                  RSRC_CONF,
                  "idle (default): costly hashes run at idle CPU priority; "
                  "normal: at the priority of the request"),
    AP_INIT_TAKE12("AuthzStatusThrottle", azs_cmd_throttle, NULL, RSRC_CONF,
                   "N/WINDOW [BAN]: after N failed logins from one address "
                   "within WINDOW, answer it 429 for BAN (default: WINDOW)"),
    AP_INIT_TAKE1("AuthzStatusThrottleCache", azs_cmd_throttle_cache, NULL,
                  RSRC_CONF,
                  "the socache provider that keeps the throttle's counts "
                  "(default shmcb; redis:HOST:PORT or memcache:HOST:PORT "
                  "for a fleet)"),
    {NULL}
};

static void azs_register_hooks(apr_pool_t *p)
{
    /* Blocklisted clients are refused before anything else: no prompt,
     * no hash.  Both access hooks, because "Satisfy Any" skips the _ex
     * ones when mod_access_compat allows the host; 403 or DECLINED, never
     * OK, so it holds under every Satisfy mode. */
    ap_hook_check_access(azs_block_check, NULL, NULL, APR_HOOK_FIRST,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_access_ex(azs_block_check, NULL, NULL, APR_HOOK_FIRST,
                            AP_AUTH_INTERNAL_PER_CONF);
    /* A throttled address is answered 429 before any credential is read
     * (the blocklist's 403 came first, in the access hooks). */
    ap_hook_check_authn(azs_throttle_check, NULL, NULL, APR_HOOK_FIRST - 1,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_handler(azs_throttle_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_insert_error_filter(azs_throttle_insert_error, NULL, NULL,
                                APR_HOOK_FIRST);
    ap_hook_log_transaction(azs_throttle_log_transaction, NULL, NULL,
                            APR_HOOK_FIRST);
    ap_hook_check_authz(azs_throttle_authn_passed, NULL, NULL,
                        APR_HOOK_REALLY_FIRST, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_post_config(azs_throttle_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_pre_config(azs_throttle_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_auth_basic: httpd's own Basic decoder is lenient, ours
     * answers 400 to what it would let through. */
    ap_hook_check_authn(azs_check_basic_syntax, NULL, NULL, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(azs_bearer_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(azs_bearer_note_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(azs_insert_error, NULL, NULL,
                                APR_HOOK_MIDDLE);
    /* The checks are over: the read transaction ends and the hash place
     * goes back on the request's own thread (fixups run only when the
     * request passed; an error response is made when it did not). */
    /* AuthzStatusExport reads the user's roles before the read
     * transaction ends. */
    ap_hook_fixups(azs_export_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST - 1);
    /* ... and takes out what something else set under its names, after
     * mod_setenvif. */
    ap_hook_header_parser(azs_export_header_parser, NULL, NULL,
                          APR_HOOK_REALLY_LAST);
    ap_hook_fixups(azs_store_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(azs_hashlimit_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_insert_error_filter(azs_store_insert_error, NULL, NULL,
                                APR_HOOK_LAST);
    ap_hook_insert_error_filter(azs_hashlimit_insert_error, NULL, NULL,
                                APR_HOOK_LAST);
    /* A provider's "no" is logged when the request ends in it, not when
     * it is said: <RequireAny> and provider lists may overrule it. */
    ap_hook_fixups(azs_clear_pending, NULL, NULL, APR_HOOK_REALLY_FIRST - 2);
    ap_hook_log_transaction(azs_log_transaction, NULL, NULL,
                            APR_HOOK_FIRST);
    ap_hook_post_config(azs_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(azs_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, azs_metrics_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
    ap_hook_child_init(azs_store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(azs_hashlimit_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_child_init(azs_throttle_child_init, NULL, NULL, APR_HOOK_MIDDLE);

    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "authz_status",
                              AUTHN_PROVIDER_VERSION, &azs_authn_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "role",
                              AUTHZ_PROVIDER_VERSION,
                              &azs_authz_role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "permission",
                              AUTHZ_PROVIDER_VERSION,
                              &azs_authz_permission_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(authz_status) = {
    STANDARD20_MODULE_STUFF,
    azs_create_dir_conf,
    azs_merge_dir_conf,
    azs_create_server_conf,
    azs_merge_server_conf,
    azs_cmds,
    azs_register_hooks
};
