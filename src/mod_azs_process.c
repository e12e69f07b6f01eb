/*
 * mod_azs_process.c - what the whole server shares: made in post_config,
 * in the parent, before the children are forked, and only read after
 * (children inherit it).  A restart clears pconf, which removes the
 * semaphore and unmaps the cache, and post_config makes new ones.
 */
#include "mod_azs.h"

#include "unixd.h"

#include <errno.h>
#include <unistd.h>

static module *basic_module;
static azs_hashlimit_t *hashlimit;
static azs_cache_t *cache;
static int hash_idle = 1;
static apr_size_t memo_bytes = AZS_MEMO_DEFAULT;

module *azs_proc_basic_module(void)
{
    return basic_module;
}

azs_hashlimit_t *azs_proc_hashlimit(void)
{
    return hashlimit;
}

azs_cache_t *azs_proc_cache(void)
{
    return cache;
}

int azs_proc_hash_idle(void)
{
    return hash_idle;
}

apr_size_t azs_proc_memo_bytes(void)
{
#ifdef AZS_MEMO_POISON
    /* A few entries: they are evicted, and freed, all the time. */
    return memo_bytes ? 4096 : 0;
#else
    return memo_bytes;
#endif
}

int azs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    azs_server_conf *sc = ap_get_module_config(s->module_config,
                                               &authz_status_module);
    const char *err = NULL;
    int limit = sc->max_hashes;
    int entries = sc->cache_entries == AZS_UNSET ? AZS_CACHE_DEFAULT
                                                 : sc->cache_entries;

    ap_add_version_component(pconf, "mod_authz_status/" AZS_VERSION);
    azs_count_post_config(s, ptemp);
    hash_idle = sc->hash_idle != 0;
    memo_bytes = sc->memo_kb == AZS_UNSET ? AZS_MEMO_DEFAULT
                                          : (apr_size_t)sc->memo_kb * 1024;
    basic_module = ap_find_linked_module("mod_auth_basic.c");
    if (limit == AZS_UNSET) {
        /* Half the CPUs: a flood of wrong passwords leaves the other half
         * to everything else. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        limit = cpus >= 4 ? (int)(cpus / 2) : 1;
    }
    /* One per configuration generation: a restart clears pconf, which
     * removes it, and makes the next. */
    hashlimit = NULL;
    if (azs_hashlimit_create(&hashlimit, limit, pconf, &err) != AZS_RC_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0604: cannot create "
                     "the semaphore of AuthzStatusHashLimit (%s)", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (geteuid() == 0
        && azs_hashlimit_owner(hashlimit, ap_unixd_config.user_id,
                          ap_unixd_config.group_id) != AZS_RC_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, "AZS0605: cannot "
                     "hand the semaphore of AuthzStatusHashLimit to the "
                     "user httpd runs as");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "AZS0606: at most %d "
                 "costly password hashes at once (semaphore %d)", limit,
                 azs_hashlimit_id(hashlimit));
    /* The failure floor, measured here in the parent: every child
     * inherits it, and no request pays for measuring it.  Not on the
     * first pass over the configuration (httpd reloads the module). */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "AZS0607: failed "
                     "password checks answer after %" APR_TIME_T_FMT
                     " us at the earliest", azs_fail_floor());
    }
    /* The cache of verified logins, in shared memory: made before the
     * children are forked, it is one table for all of them (a returning
     * user is known whichever child takes the connection).  A restart
     * makes a new one, with a new key. */
    cache = NULL;
    if (azs_cache_create(&cache, (apr_size_t)entries, pconf) != AZS_RC_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AZS0603: cannot create "
                     "the credential cache; running without it");
        cache = NULL;
    }
    return azs_watch_post_config(pconf, s);
}
