/*
 * mod_azs_metrics.c - "SetHandler authz-status-metrics": the server's
 * counters (mod_azs_count.c) and a few gauges in the Prometheus text
 * format 0.0.4, and the same figures in mod_status's server-status page.
 */
#include "mod_azs.h"

#include "apr_strings.h"
#include "mod_status.h"

#define AZS_METRICS_HANDLER "authz-status-metrics"

/* What the page says of the database of r's section, read apart from
 * the request path: a SQLite file through a handle of the scrape's own, a
 * PostgreSQL database through what the node's watcher last heard.  A
 * failure is no request's 500: the page says database_up 0, and the
 * reason goes to the debug log. */
static int db_state(request_rec *r, const char *db, apr_int64_t *gen,
                    apr_int64_t *seq, apr_int64_t *heard)
{
    const azs_watch_t *w;
    azs_feed_pos_t pos;
    azs_store_t *st = NULL;
    const char *err = NULL;
    azs_rc rc;

    *heard = 0;
    if (azs_is_pg_url(db)) {
        if (!(w = azs_watch_find(db))
            || !azs_watch_read(w, gen, &pos, heard) || !*heard) {
            return 0;
        }
        *seq = pos.seq;
        return azs_mono_ms() - *heard < azs_proc_max_stale_ms();
    }
    if (azs_store_open(&st, db, 1, AZS_BUSY_TIMEOUT_MS, r->pool, &err)
        != AZS_RC_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0615: metrics: "
                      "cannot read the database: %s", err);
        return 0;
    }
    rc = azs_store_read_begin(st) ? azs_store_generation(st, gen)
                                  : AZS_RC_DBERR;
    if (rc == AZS_RC_OK) {
        azs_store_feed_pos(st, &pos);
        *seq = pos.seq;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0615: metrics: "
                      "cannot read the database: %s", azs_store_error(st));
    }
    azs_store_read_end(st);
    azs_store_close(st);
    return rc == AZS_RC_OK;
}

/* out and one gauge authz_status_NAME{database="LABEL"} VALUE, with its
 * HELP and TYPE lines. */
static const char *gauge(apr_pool_t *p, const char *out, const char *name,
                         const char *help, const char *label,
                         const char *value)
{
    return apr_psprintf(p, "%s# HELP authz_status_%s %s\n"
                        "# TYPE authz_status_%s gauge\n"
                        "authz_status_%s{database=\"%s\"} %s\n",
                        out, name, help, name, name, label, value);
}

/* The gauges: the throttle's bans now, and the database of r's section
 * (its generation and change feed; for PostgreSQL, how long ago the node
 * heard from it). */
static const char *gauges(request_rec *r)
{
    const char *db = azs_db_path(r);
    const char *label = azs_metrics_label(r->pool, db);
    const char *out = "";
    apr_int64_t gen = 0, seq = 0, heard = 0;
    int throttle_on = 0, up;
    apr_size_t banned = azs_throttle_banned_now(&throttle_on);

    if (throttle_on) {
        out = apr_psprintf(r->pool, "# HELP authz_status_throttled_addresses "
                           "Addresses banned by AuthzStatusThrottle now.\n"
                           "# TYPE authz_status_throttled_addresses gauge\n"
                           "authz_status_throttled_addresses %"
                           APR_SIZE_T_FMT "\n", banned);
    }
    up = db_state(r, db, &gen, &seq, &heard);
    out = gauge(r->pool, out, "database_up", "Whether the database could "
                "be read (PostgreSQL: the node heard from it within "
                "AuthzStatusMaxStale).", label, apr_itoa(r->pool, up));
    if (up) {
        /* Low 53 bits: a float holds them exactly. */
        out = gauge(r->pool, out, "generation", "The database's "
                    "generation: a new random value at every change (its "
                    "low 53 bits).", label,
                    apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                 gen & ((APR_INT64_C(1) << 53) - 1)));
        out = gauge(r->pool, out, "change_sequence", "The newest row of "
                    "the database's change feed.", label,
                    apr_psprintf(r->pool, "%" APR_INT64_T_FMT, seq));
    }
    if (heard) {
        out = gauge(r->pool, out, "fleet_heard_age_seconds", "How long ago "
                    "this node last heard from the database.", label,
                    apr_psprintf(r->pool, "%.3f",
                                 (double)(azs_mono_ms() - heard) / 1000.0));
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
    /* As mod_status: GET (and HEAD); anything else is left to httpd. */
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return DECLINED;
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
