/*
 * mod_azs_count.c - the server's counters (azs_metrics.c), made once in
 * the process pool: every configuration pass finds the same ones, so a
 * graceful or full restart keeps the counts and only a stop ends them.
 * Nothing in them points into the module's code, which a restart
 * unloads.  Counting is one atomic add, from any thread of any child.
 */
#include "mod_azs.h"

#include "apr_strings.h"

static azs_metrics_t *metrics;

void azs_count_post_config(server_rec *s, apr_pool_t *ptemp)
{
    apr_pool_t *pp = s->process->pool;
    /* The layout in the key: an upgraded module, loaded by a restart,
     * keeps counters of the same shape and makes new ones of another. */
    const char *key = apr_psprintf(ptemp, "azs-metrics-%u",
                                   (unsigned)azs_metrics_shape());
    azs_metrics_t *m = NULL;

    apr_pool_userdata_get((void **)&m, key, pp);
    if (!m) {
        if (azs_metrics_create(&m, pp) != AZS_RC_OK) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "AZS0614: cannot "
                         "create the shared memory of the metrics; "
                         "nothing is counted");
            m = NULL;
        }
        else {
            apr_pool_userdata_set(m, key, apr_pool_cleanup_null, pp);
        }
    }
    metrics = m;
}

azs_metrics_t *azs_proc_metrics(void)
{
    return metrics;
}

void azs_count(azs_metric k)
{
    azs_metrics_add(metrics, k);
}

void azs_count_decision(int status, azs_reason reason)
{
    azs_metrics_decision(metrics, status, reason);
}
