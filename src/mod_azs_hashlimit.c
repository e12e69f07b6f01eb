/*
 * mod_azs_hashlimit.c - a request's place under AuthzStatusHashLimit, the
 * server-wide bound on costly password hashes (the semaphore itself is
 * src/azs_hashlimit.c, made in post_config).
 */
#include "mod_azs.h"

#include "apr_atomic.h"
#include "ap_mpm.h"

/* Requests of this child waiting for or running a costly hash (changed
 * with apr_atomic only), and how many of them may wait: all of the
 * child's threads but one (written once in child_init). */
static volatile apr_uint32_t hashers;
static apr_uint32_t hashers_max = 1;

void azs_hashlimit_child_init(apr_pool_t *pchild, server_rec *s)
{
    int threads = 1;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 2) {
        threads = 2;
    }
    hashers_max = (apr_uint32_t)(threads - 1);
}

static apr_status_t place_cleanup(void *data)
{
    azs_req_hashlimit *h = data;

    if (h->held) {
        if (h->held > 0) {
            azs_hashlimit_leave(azs_proc_hashlimit());
        }
        apr_atomic_dec32(&hashers);
        h->held = 0;
    }
    return APR_SUCCESS;
}

void azs_hashlimit_release(request_rec *r)
{
    azs_req *q = azs_req_peek(r);

    if (q) {
        place_cleanup(&q->hashlimit);
    }
}

int azs_hashlimit_take(request_rec *r)
{
    azs_req_hashlimit *h = &azs_req_get(r)->hashlimit;
    int rc;

    if (h->held) {
        return 1;
    }
    /* Waiting holds a worker thread, and a client's connection stays with
     * its child: one thread of each child never waits, so a flood of
     * logins cannot stall the clients the child already serves.  Past
     * that, a place is taken only if one is free at once. */
    if (apr_atomic_inc32(&hashers) >= hashers_max) {
        rc = azs_hashlimit_enter(azs_proc_hashlimit(), 0);
    }
    else {
        rc = azs_hashlimit_enter(azs_proc_hashlimit(), AZS_HASH_WAIT);
    }
    if (rc == 0) {
        apr_atomic_dec32(&hashers);
        azs_count(AZS_M_HASH_BUSY);
        return 0;
    }
    if (rc < 0) {
        /* Removed by a restart while this child finishes: the new
         * generation's children are bound by the new one. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0111: the hash "
                      "limit of the previous configuration is gone");
    }
    h->held = rc;            /* -1: counted here, no place to give back */
    if (!h->cleanup_set) {
        apr_pool_cleanup_register(r->pool, h, place_cleanup,
                                  apr_pool_cleanup_null);
        h->cleanup_set = 1;
    }
    return 1;
}

/* Admitted for a check that another provider made, or refused: the place
 * goes back as soon as the checks are over. */
int azs_hashlimit_fixups(request_rec *r)
{
    azs_hashlimit_release(r);
    return DECLINED;
}

void azs_hashlimit_insert_error(request_rec *r)
{
    azs_hashlimit_release(r);
}
