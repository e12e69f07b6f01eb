/*
 * mod_azs_watch.c - one watcher process per PostgreSQL database per node.
 *
 * A request that finds its answer in what the child remembers must not
 * ask the database whether that answer still holds: the watcher asks for
 * everyone.  It is forked by the parent in post_config (never by a child),
 * holds one connection with LISTEN authz_status (every write notifies it,
 * sql/postgresql/schema.sql), and after each notification, and every
 * heartbeat (a quarter of AuthzStatusMaxStale, at most 250 ms), reads the
 * generation and the change feed's newest row and publishes them, with
 * the time, in shared memory.  Requests compare that with what their
 * handle last read (azs_store_unchanged): equal and heard within the
 * lease, nothing is asked; otherwise the request reads the database
 * itself, and answers 500 when it cannot.
 *
 * The parent restarts a watcher that dies (apr_proc_other_child); a
 * restart of httpd (graceful or not) clears pconf, which ends the
 * watchers, and post_config forks new ones.  A watcher whose parent is
 * gone exits.
 */
#include "mod_azs.h"

#include "apr_shm.h"
#include "apr_signal.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "mpm_common.h"
#include "ap_mpm.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const char *url;
    azs_watch_t *w;
    apr_proc_t proc;
    int running;
    apr_pool_t *pool;        /* pconf */
    server_rec *s;
} azs_watcher;

/* Made in post_config, in the parent; read-only in the children. */
static apr_hash_t *watchers;          /* url -> azs_watcher * */
static int max_stale_ms = AZS_MAX_STALE_DEFAULT;

int azs_proc_max_stale_ms(void)
{
    return max_stale_ms;
}

const azs_watch_t *azs_watch_find(const char *url)
{
    azs_watcher *wr = watchers ? apr_hash_get(watchers, url,
                                              APR_HASH_KEY_STRING)
                               : NULL;

    return wr ? wr->w : NULL;
}

static const char *const generation_sql =
    "SELECT (SELECT value FROM meta WHERE key = 'generation'), seq, tag"
    " FROM changes ORDER BY seq DESC LIMIT 1";

/* The watcher's life: never returns. */
static void watch_main(azs_watcher *wr, pid_t parent)
{
    int beat = max_stale_ms / 4 > 250 ? 250 : max_stale_ms / 4;
    apr_pool_t *p;
    int down = 0, lost = 0;
    const char *shown = wr->url;

    apr_signal(SIGTERM, SIG_DFL);
    apr_signal(SIGHUP, SIG_DFL);
    apr_signal(SIGINT, SIG_DFL);
    apr_signal(SIGUSR1, SIG_IGN);
    apr_signal(SIGWINCH, SIG_IGN);
    apr_signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* What ps and top show: not one of the children that serve. */
    prctl(PR_SET_NAME, "azs-watch");
    if (getppid() != parent) {
        _exit(0);
    }
    apr_pool_create(&p, wr->pool);
    if (ap_run_drop_privileges(p, wr->s) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, wr->s, "AZS0612: the "
                     "watcher of %s cannot drop its privileges", shown);
        _exit(1);
    }
    for (;;) {
        azs_pg_t *c;
        azs_pg_stmt_t *st;
        const char *err = NULL;
        int rc;

        apr_pool_clear(p);
        if (getppid() != parent) {
            _exit(0);
        }
        if (azs_pg_open(&c, wr->url, "azs-watch", max_stale_ms, 0, p, &err)
            != AZS_RC_OK
            || azs_pg_exec(c, "LISTEN authz_status") != AZS_RC_OK) {
            if (!down) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, wr->s, "AZS0610: "
                             "cannot hear from %s: %s (requests read the "
                             "database themselves, and answer 500 while "
                             "it cannot be read)", shown,
                             err ? err : azs_pg_error(c));
                down = 1;
            }
            apr_sleep(apr_time_from_msec(beat));
            continue;
        }
        if (down || lost) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, wr->s, "AZS0611: "
                         "hearing from %s again", shown);
        }
        down = lost = 0;
        st = azs_pg_stmt_make(c, generation_sql, p);
        for (;;) {
            azs_feed_pos_t pos;
            apr_int64_t gen, asked = azs_mono_ms();

            rc = azs_pg_step(st);
            if (rc != AZS_STEP_ROW || azs_pg_col_null(st, 0)) {
                break;
            }
            gen = azs_pg_col_int64(st, 0);
            pos.seq = azs_pg_col_int64(st, 1);
            pos.tag = azs_pg_col_int64(st, 2);
            azs_pg_reset(st);
            azs_watch_publish(wr->w, gen, &pos, asked);
            if (azs_pg_notified(c, beat) < 0 || getppid() != parent) {
                break;
            }
        }
        if (getppid() != parent) {
            _exit(0);
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, wr->s, "AZS0610: lost %s: "
                     "%s (requests read the database themselves, and "
                     "answer 500 while it cannot be read)", shown,
                     azs_pg_error(c));
        lost = 1;
        azs_pg_close(c);
        apr_sleep(apr_time_from_msec(beat));
    }
}

static void watch_maintenance(int reason, void *data, apr_wait_t status);

static apr_status_t watch_start(azs_watcher *wr)
{
    pid_t parent = getpid();
    apr_status_t rv;

    /* One killed in the middle of a publish left the count odd: even
     * again before the next writer starts (none runs now). */
    if (__atomic_load_n(&wr->w->count, __ATOMIC_SEQ_CST) & 1) {
        __atomic_add_fetch(&wr->w->count, 1, __ATOMIC_SEQ_CST);
    }
    rv = apr_proc_fork(&wr->proc, wr->pool);

    if (rv == APR_INCHILD) {
        watch_main(wr, parent);
        _exit(0);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, wr->s, "AZS0612: cannot "
                     "start the watcher of %s", wr->url);
        return rv;
    }
    wr->running = 1;
    wr->w->pid = (apr_uint32_t)wr->proc.pid;
    apr_proc_other_child_register(&wr->proc, watch_maintenance, wr, NULL,
                                  wr->pool);
    return APR_SUCCESS;
}

/* The parent learns that a watcher died: another takes its place (the
 * children go on reading the same shared memory). */
static void watch_maintenance(int reason, void *data, apr_wait_t status)
{
    azs_watcher *wr = data;

    int state = AP_MPMQ_RUNNING;

    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(wr);
        wr->running = 0;
        /* The server is stopping (prefork signals its whole process
         * group): no successor. */
        if (ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
            && state == AP_MPMQ_STOPPING) {
            break;
        }
        wr->w->restarts++;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, wr->s, "AZS0613: the "
                     "watcher of %s (pid %" APR_PID_T_FMT ") ended "
                     "(status %d): starting another", wr->url,
                     wr->proc.pid, (int)status);
        watch_start(wr);
        break;
    case APR_OC_REASON_UNREGISTER:
    case APR_OC_REASON_RESTART:
    default:
        break;
    }
}

/* pconf is cleared (restart, stop): the watchers go with it. */
static apr_status_t watch_stop(void *data)
{
    apr_hash_index_t *hi;

    (void)data;
    for (hi = apr_hash_first(NULL, watchers); hi; hi = apr_hash_next(hi)) {
        azs_watcher *wr = apr_hash_this_val(hi);
        int i;

        if (!wr->running) {
            continue;
        }
        /* Not unregistered here: the registration's own cleanup (made
         * after this one, so run before it) has done that. */
        kill(wr->proc.pid, SIGTERM);
        for (i = 0; i < 100; i++) {
            if (waitpid(wr->proc.pid, NULL, WNOHANG) != 0) {
                break;
            }
            apr_sleep(apr_time_from_msec(10));
        }
        if (i == 100) {
            kill(wr->proc.pid, SIGKILL);
            waitpid(wr->proc.pid, NULL, 0);
        }
        wr->running = 0;
    }
    watchers = NULL;
    return APR_SUCCESS;
}

int azs_watch_post_config(apr_pool_t *pconf, server_rec *base)
{
    azs_server_conf *bc = ap_get_module_config(base->module_config,
                                               &authz_status_module);
    apr_array_header_t *urls = apr_array_make(pconf, 2, sizeof(char *));
    apr_hash_t *seen = apr_hash_make(pconf);
    apr_shm_t *shm;
    azs_watch_t *slots;
    apr_status_t rv;
    server_rec *s;
    int i;

    watchers = NULL;
    max_stale_ms = bc->max_stale_ms == AZS_UNSET ? AZS_MAX_STALE_DEFAULT
                                                 : (int)bc->max_stale_ms;
    for (s = base; s; s = s->next) {
        azs_server_conf *sc = ap_get_module_config(s->module_config,
                                                   &authz_status_module);

        for (i = 0; sc->pg_urls && i < sc->pg_urls->nelts; i++) {
            const char *u = APR_ARRAY_IDX(sc->pg_urls, i, const char *);

            if (!apr_hash_get(seen, u, APR_HASH_KEY_STRING)) {
                apr_hash_set(seen, u, APR_HASH_KEY_STRING, u);
                APR_ARRAY_PUSH(urls, const char *) = u;
            }
        }
    }
    if (urls->nelts == 0
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    rv = apr_shm_create(&shm, sizeof(azs_watch_t) * urls->nelts, NULL,
                        pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, base, "AZS0612: cannot "
                     "create the shared memory of the PostgreSQL watchers");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, sizeof(azs_watch_t) * urls->nelts);
    watchers = apr_hash_make(pconf);
    apr_pool_cleanup_register(pconf, NULL, watch_stop,
                              apr_pool_cleanup_null);
    for (i = 0; i < urls->nelts; i++) {
        azs_watcher *wr = apr_pcalloc(pconf, sizeof(*wr));

        wr->url = APR_ARRAY_IDX(urls, i, const char *);
        wr->w = &slots[i];
        wr->pool = pconf;
        wr->s = base;
        apr_hash_set(watchers, wr->url, APR_HASH_KEY_STRING, wr);
        if (watch_start(wr) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
