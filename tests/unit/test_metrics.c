/*
 * test_metrics.c - the server's counters (azs_metrics.c): exact across
 * threads and forked children, and printed in the Prometheus text format.
 */
#include "unit.h"

#include <pthread.h>
#include <sys/wait.h>

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

static apr_uint64_t decisions(const azs_metrics_snap_t *s, int status,
                              azs_reason r)
{
    return s->decisions[r][azs_metrics_status_index(status)];
}

static void counts_and_reads_back(void **state)
{
    unit_fx *fx = *state;
    azs_metrics_t *m;
    azs_metrics_snap_t s;

    assert_int_equal(azs_metrics_create(&m, fx->pool), AZS_RC_OK);
    azs_metrics_read(m, &s);
    assert_int_equal(s.v[AZS_M_CACHE_HIT], 0);
    assert_true(s.started > 1700000000);
    azs_metrics_add(m, AZS_M_CACHE_HIT);
    azs_metrics_add(m, AZS_M_CACHE_HIT);
    azs_metrics_add(m, AZS_M_DB_ERROR);
    azs_metrics_add(m, AZS_M_COUNT);          /* out of range: ignored */
    azs_metrics_decision(m, 401, AZS_REASON_BAD_PASSWORD);
    azs_metrics_decision(m, 403, AZS_REASON_MISSING_ROLE);
    azs_metrics_decision(m, 401, AZS_REASON_MISSING_ROLE);  /* Off */
    azs_metrics_decision(m, 302, AZS_REASON_BAD_PASSWORD);  /* other */
    azs_metrics_decision(m, 401, AZS_REASON_COUNT);         /* ignored */
    azs_metrics_add(NULL, AZS_M_CACHE_HIT);   /* no counters: nothing */
    azs_metrics_read(m, &s);
    assert_int_equal(s.v[AZS_M_CACHE_HIT], 2);
    assert_int_equal(s.v[AZS_M_DB_ERROR], 1);
    assert_int_equal(s.v[AZS_M_CACHE_MISS], 0);
    assert_int_equal(decisions(&s, 401, AZS_REASON_BAD_PASSWORD), 1);
    assert_int_equal(decisions(&s, 403, AZS_REASON_MISSING_ROLE), 1);
    assert_int_equal(decisions(&s, 401, AZS_REASON_MISSING_ROLE), 1);
    assert_int_equal(decisions(&s, 302, AZS_REASON_BAD_PASSWORD), 1);
    assert_int_equal(azs_metrics_status_index(302),
                     azs_metrics_status_index(418));
    assert_int_not_equal(azs_metrics_status_index(401),
                         azs_metrics_status_index(403));
}

typedef struct {
    azs_metrics_t *m;
    int n;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    int i;

    for (i = 0; i < a->n; i++) {
        azs_metrics_add(a->m, AZS_M_HASH_VERIFIED);
        azs_metrics_decision(a->m, 200, AZS_REASON_GRANTED);
    }
    return NULL;
}

/* Eight threads in each of four forked children, and the parent: not one
 * count lost. */
static void exact_across_threads_and_children(void **state)
{
    unit_fx *fx = *state;
    azs_metrics_t *m;
    azs_metrics_snap_t s;
    pid_t pids[4];
    int c, status;
    const int per = 50000;

    assert_int_equal(azs_metrics_create(&m, fx->pool), AZS_RC_OK);
    for (c = 0; c < 4; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            pthread_t t[8];
            worker_arg a = {m, per};
            int i;

            for (i = 0; i < 8; i++) {
                if (pthread_create(&t[i], NULL, worker, &a) != 0) {
                    _exit(1);
                }
            }
            for (i = 0; i < 8; i++) {
                pthread_join(t[i], NULL);
            }
            _exit(0);
        }
    }
    {
        worker_arg a = {m, per};

        worker(&a);
    }
    for (c = 0; c < 4; c++) {
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    azs_metrics_read(m, &s);
    assert_int_equal(s.v[AZS_M_HASH_VERIFIED], (apr_uint64_t)per * 33);
    assert_int_equal(decisions(&s, 200, AZS_REASON_GRANTED),
                     (apr_uint64_t)per * 33);
}

static int has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return 1;
        }
        p += n;
    }
    return 0;
}

static void prometheus_text(void **state)
{
    unit_fx *fx = *state;
    azs_metrics_t *m;
    azs_metrics_snap_t s;
    const char *t;
    int i;

    assert_int_equal(azs_metrics_create(&m, fx->pool), AZS_RC_OK);
    azs_metrics_decision(m, 401, AZS_REASON_MISSING_ROLE);
    for (i = 0; i < 3; i++) {
        azs_metrics_decision(m, 401, AZS_REASON_BAD_PASSWORD);
    }
    azs_metrics_add(m, AZS_M_THROTTLE_BAN);
    azs_metrics_read(m, &s);
    t = azs_metrics_text(fx->pool, &s);
    assert_true(has_line(t, "# TYPE authz_status_decisions_total counter"));
    assert_true(has_line(t, "authz_status_decisions_total{status=\"401\","
                            "reason=\"bad-password\"} 3"));
    /* Every reason at its own status, from 0. */
    for (i = 0; i < AZS_REASON_COUNT; i++) {
        const azs_reason_info_t *info = azs_reason_info((azs_reason)i);
        char *want = apr_psprintf(fx->pool, "authz_status_decisions_total{"
                                  "status=\"%d\",reason=\"%s\"} ",
                                  info->status, info->keyword);

        assert_non_null(strstr(t, want));
    }
    /* Another status only once it happened. */
    assert_true(has_line(t, "authz_status_decisions_total{status=\"401\","
                            "reason=\"missing-role\"} 1"));
    assert_null(strstr(t, "status=\"401\",reason=\"missing-permission\""));
    assert_true(has_line(t, "authz_status_throttle_bans_total 1"));
    assert_true(has_line(t, "# TYPE authz_status_throttle_bans_total "
                            "counter"));
    assert_true(has_line(t, "authz_status_cache_hits_total 0"));
    assert_true(has_line(t, "authz_status_hashes_busy_total 0"));
    assert_true(has_line(t, "# TYPE authz_status_start_time_seconds gauge"));
    /* Text format: every line ends with a newline, the last one too. */
    assert_int_equal(t[strlen(t) - 1], '\n');
    assert_null(strstr(t, "\n\n"));
}

static void label_values_are_escaped(void **state)
{
    unit_fx *fx = *state;

    assert_string_equal(azs_metrics_label(fx->pool, "/var/lib/a.db"),
                        "/var/lib/a.db");
    assert_string_equal(azs_metrics_label(fx->pool, "a\"b\\c\nd"),
                        "a\\\"b\\\\c\\nd");
    assert_string_equal(azs_metrics_label(fx->pool, ""), "");
}

static const struct CMUnitTest tests[] = {
    T(counts_and_reads_back),
    T(exact_across_threads_and_children),
    T(prometheus_text),
    T(label_values_are_escaped),
};

UNIT_MAIN(tests)
