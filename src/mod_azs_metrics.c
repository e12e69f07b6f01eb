/*
 * mod_azs_metrics.c - "SetHandler authz-status-metrics": the server's
 * counters (mod_azs_count.c) and a few gauges in the Prometheus text
 * format 0.0.4, and the same figures in mod_status's server-status page.
 */
#include "mod_azs.h"

#include "apr_strings.h"
#include "mod_status.h"

#define AZS_METRICS_HANDLER "authz-status-metrics"

/* The gauges: the throttle's bans now, and the database of r's section
 * as this server sees it (its generation and change feed; for
 * PostgreSQL, how long ago the node heard from it). */
static const char *gauges(request_rec *r)
{
    const char *db = azs_db_path(r);
    const char *label = azs_metrics_label(r->pool, db);
    const char *out = "";
    const azs_watch_t *w;
    apr_int64_t gen = 0, heard = 0;
    azs_feed_pos_t pos;
    azs_store_t *st;
    int throttle_on = 0, up = 0;
    apr_size_t banned = azs_throttle_banned_now(&throttle_on);

    if (throttle_on) {
        out = apr_psprintf(r->pool, "# HELP authz_status_throttled_addresses "
                           "Addresses banned by AuthzStatusThrottle now.\n"
                           "# TYPE authz_status_throttled_addresses gauge\n"
                           "authz_status_throttled_addresses %"
                           APR_SIZE_T_FMT "\n", banned);
    }
    if ((st = azs_req_store(r)) != NULL
        && azs_req_generation(r, st, &gen) == APR_SUCCESS) {
        up = 1;
        pos = azs_req_get(r)->store.pos;
    }
    azs_req_read_end(r);
    out = apr_pstrcat(r->pool, out,
                      "# HELP authz_status_database_up Whether the last read "
                      "of the database succeeded.\n"
                      "# TYPE authz_status_database_up gauge\n",
                      apr_psprintf(r->pool, "authz_status_database_up"
                                   "{database=\"%s\"} %d\n", label, up),
                      NULL);
    if (up) {
        out = apr_pstrcat(r->pool, out, apr_psprintf(r->pool,
            /* Low 53 bits: a float holds them exactly. */
            "# HELP authz_status_generation The database's generation: a "
            "new random value at every change (its low 53 bits).\n"
            "# TYPE authz_status_generation gauge\n"
            "authz_status_generation{database=\"%s\"} %" APR_INT64_T_FMT "\n"
            "# HELP authz_status_change_sequence The newest row of the "
            "database's change feed.\n"
            "# TYPE authz_status_change_sequence gauge\n"
            "authz_status_change_sequence{database=\"%s\"} %" APR_INT64_T_FMT
            "\n", label, gen & ((APR_INT64_C(1) << 53) - 1), label,
            pos.seq), NULL);
    }
    if (azs_is_pg_url(db) && (w = azs_watch_find(db)) != NULL) {
        azs_feed_pos_t wpos;
        apr_int64_t wgen;

        if (azs_watch_read(w, &wgen, &wpos, &heard) && heard) {
            out = apr_pstrcat(r->pool, out, apr_psprintf(r->pool,
                "# HELP authz_status_fleet_heard_age_seconds How long ago "
                "this node last heard from the database.\n"
                "# TYPE authz_status_fleet_heard_age_seconds gauge\n"
                "authz_status_fleet_heard_age_seconds{database=\"%s\"} "
                "%.3f\n", label, (double)(azs_mono_ms() - heard) / 1000.0),
                NULL);
        }
    }
    return out;
}

static const char *page(request_rec *r)
{
    azs_metrics_snap_t snap;

    azs_metrics_read(azs_proc_metrics(), &snap);
    return apr_pstrcat(r->pool, azs_metrics_text(r->pool, &snap), gauges(r),
                       NULL);
}

int azs_metrics_handler(request_rec *r)
{
    const char *text;

    if (!r->handler || strcmp(r->handler, AZS_METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    text = page(r);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

/* mod_status: the same samples, one per line (?auto) or in a table. */
int azs_metrics_status(request_rec *r, int flags)
{
    char *text = apr_pstrdup(r->pool, page(r)), *line, *last;

    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("<hr />\n<h2>mod_authz_status</h2>\n<table>\n"
                 "<tr><th>metric</th><th>value</th></tr>\n", r);
    }
    for (line = apr_strtok(text, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *sp = strrchr(line, ' ');

        if (*line == '#' || !sp) {
            continue;
        }
        *sp = '\0';
        if (flags & AP_STATUS_SHORT) {
            ap_rprintf(r, "%s: %s\n", line, sp + 1);
        }
        else {
            ap_rprintf(r, "<tr><td>%s</td><td>%s</td></tr>\n",
                       ap_escape_html(r->pool, line),
                       ap_escape_html(r->pool, sp + 1));
        }
    }
    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("</table>\n", r);
    }
    return OK;
}
