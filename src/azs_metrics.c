/*
 * azs_metrics.c - the server's counters, in shared memory.
 *
 * One block of 64-bit counters per row, rows striped over the processes
 * and threads that count (each thread picks its row once), so that two
 * cores rarely write the same cache line.  A count is one relaxed atomic
 * add: nobody waits, nothing is lost, and a reader sums the rows.
 */
#include "azs.h"

#include <apr_shm.h>
#include <apr_strings.h>
#include <string.h>
#include <unistd.h>

#define ROWS 16
#define LINE 64

/* The statuses a decision is counted under; the last one: any other. */
static const int statuses[AZS_M_STATUSES] = {200, 400, 401, 403, 429, 500,
                                             503, 0};

typedef struct {
    apr_uint64_t v[AZS_M_COUNT];
    apr_uint64_t decisions[AZS_REASON_COUNT][AZS_M_STATUSES];
} row_t;

/* A row rounded up to whole cache lines. */
#define ROW_SIZE ((sizeof(row_t) + LINE - 1) / LINE * LINE)

struct azs_metrics {
    char *base;                   /* ROWS rows of ROW_SIZE bytes */
    apr_int64_t started;          /* seconds since the epoch */
};

static const struct {
    const char *name;
    const char *help;
} names[AZS_M_COUNT] = {
    [AZS_M_CACHE_HIT]     = {"authz_status_cache_hits_total",
                             "Logins found in the cache of verified logins "
                             "(no password hash)."},
    [AZS_M_CACHE_MISS]    = {"authz_status_cache_misses_total",
                             "Logins of a known user not found in the "
                             "cache of verified logins."},
    [AZS_M_HASH_VERIFIED] = {"authz_status_hashes_verified_total",
                             "Password hashes verified (an unknown user's "
                             "stand-in hash included)."},
    [AZS_M_HASH_BUSY]     = {"authz_status_hashes_busy_total",
                             "Logins refused because every place under "
                             "AuthzStatusHashLimit stayed taken."},
    [AZS_M_THROTTLE_BAN]  = {"authz_status_throttle_bans_total",
                             "Addresses banned by AuthzStatusThrottle."},
    [AZS_M_DB_ERROR]      = {"authz_status_db_errors_total",
                             "Requests answered 500 because the database "
                             "failed."},
};

typedef char azs_metric_names_complete[
    sizeof(names) / sizeof(names[0]) == AZS_M_COUNT ? 1 : -1];

static apr_uint32_t fnv(apr_uint32_t h, const void *data, apr_size_t n)
{
    const unsigned char *b = data;

    while (n--) {
        h = (h ^ *b++) * 16777619u;
    }
    return h;
}

apr_uint32_t azs_metrics_shape(void)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t sizes[3] = {ROWS, ROW_SIZE, AZS_M_COUNT};
    int k;

    h = fnv(h, sizes, sizeof(sizes));
    h = fnv(h, statuses, sizeof(statuses));
    for (k = 0; k < AZS_REASON_COUNT; k++) {
        const char *w = azs_reason_info((azs_reason)k)->keyword;

        h = fnv(h, w, strlen(w) + 1);
    }
    return h;
}

azs_rc azs_metrics_create(azs_metrics_t **out, apr_pool_t *p)
{
    azs_metrics_t *m = apr_pcalloc(p, sizeof(*m));
    apr_shm_t *shm = NULL;

    /* Anonymous shared memory, zeroed, made before the children are
     * forked: one set of counters for all of them. */
    if (apr_shm_create(&shm, ROWS * ROW_SIZE, NULL, p) != APR_SUCCESS) {
        return AZS_RC_INVALID;
    }
    m->base = apr_shm_baseaddr_get(shm);
    memset(m->base, 0, ROWS * ROW_SIZE);
    m->started = azs_now();
    *out = m;
    return AZS_RC_OK;
}

/* The rows a process's threads take in turn, from one its pid picks. */
static apr_uint32_t next_row;

/* This thread's row, picked on its first count.  A thread forked with
 * one keeps it: which row counts is a matter of speed only. */
static row_t *my_row(azs_metrics_t *m)
{
    static __thread unsigned row;

    if (!row) {
        apr_uint32_t n = __atomic_fetch_add(&next_row, 1, __ATOMIC_RELAXED);
        apr_uint64_t h = (apr_uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;

        row = (unsigned)(((h >> 40) + n) % ROWS) + 1;
    }
    return (row_t *)(m->base + (row - 1) * ROW_SIZE);
}

void azs_metrics_add(azs_metrics_t *m, azs_metric k)
{
    if (m && (unsigned)k < AZS_M_COUNT) {
        __atomic_fetch_add(&my_row(m)->v[k], 1, __ATOMIC_RELAXED);
    }
}

int azs_metrics_status_index(int status)
{
    int i;

    for (i = 0; i < AZS_M_STATUSES - 1; i++) {
        if (statuses[i] == status) {
            return i;
        }
    }
    return AZS_M_STATUSES - 1;
}

void azs_metrics_decision(azs_metrics_t *m, int status, azs_reason reason)
{
    if (m && (unsigned)reason < AZS_REASON_COUNT) {
        __atomic_fetch_add(&my_row(m)->decisions[reason]
                                     [azs_metrics_status_index(status)],
                           1, __ATOMIC_RELAXED);
    }
}

void azs_metrics_read(const azs_metrics_t *m, azs_metrics_snap_t *out)
{
    int r, k, s;

    memset(out, 0, sizeof(*out));
    if (!m) {
        return;
    }
    out->started = m->started;
    for (r = 0; r < ROWS; r++) {
        const row_t *row = (const row_t *)(m->base + r * ROW_SIZE);

        for (k = 0; k < AZS_M_COUNT; k++) {
            out->v[k] += __atomic_load_n(&row->v[k], __ATOMIC_RELAXED);
        }
        for (k = 0; k < AZS_REASON_COUNT; k++) {
            for (s = 0; s < AZS_M_STATUSES; s++) {
                out->decisions[k][s] += __atomic_load_n(
                    &row->decisions[k][s], __ATOMIC_RELAXED);
            }
        }
    }
}

const char *azs_metrics_text(apr_pool_t *p, const azs_metrics_snap_t *s)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(const char *));
    int k, i;

#define LINE_OUT(...) \
    (APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p, __VA_ARGS__))
    LINE_OUT("# HELP authz_status_decisions_total Requests the module "
             "decided, by the status it decided on and why (200 granted: "
             "let through).\n"
             "# TYPE authz_status_decisions_total counter\n");
    for (k = 0; k < AZS_REASON_COUNT; k++) {
        const azs_reason_info_t *info = azs_reason_info((azs_reason)k);
        int usual = azs_metrics_status_index(info->status);

        for (i = 0; i < AZS_M_STATUSES; i++) {
            /* Each reason's own status always (a series that starts at
             * 0), any other once it happened. */
            if (i != usual && !s->decisions[k][i]) {
                continue;
            }
            if (statuses[i]) {
                LINE_OUT("authz_status_decisions_total{status=\"%d\","
                         "reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                         statuses[i], info->keyword, s->decisions[k][i]);
            }
            else {
                LINE_OUT("authz_status_decisions_total{status=\"other\","
                         "reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                         info->keyword, s->decisions[k][i]);
            }
        }
    }
    for (k = 0; k < AZS_M_COUNT; k++) {
        LINE_OUT("# HELP %s %s\n# TYPE %s counter\n%s %" APR_UINT64_T_FMT
                 "\n", names[k].name, names[k].help, names[k].name,
                 names[k].name, s->v[k]);
    }
    LINE_OUT("# HELP authz_status_start_time_seconds When these counters "
             "began (the server's start; restarts keep them).\n"
             "# TYPE authz_status_start_time_seconds gauge\n"
             "authz_status_start_time_seconds %" APR_INT64_T_FMT "\n",
             s->started);
#undef LINE_OUT
    return apr_array_pstrcat(p, out, 0);
}

const char *azs_metrics_label(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    out = o = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}
