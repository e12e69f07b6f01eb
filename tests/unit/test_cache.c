/*
 * test_cache.c - the verified-credential cache and the hash bound.
 */
#include "unit.h"

#include <apr_atomic.h>
#include <apr_thread_proc.h>

static void hit_only_for_same_triple_and_generation(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, 1024, 2, fx->pool), AZS_OK);
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    assert_true(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    /* any write to the database: a new generation, a miss */
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 8, 100));
    assert_false(azs_cache_get(c, "/db", "alice", "pW", 7, 100));
    assert_false(azs_cache_get(c, "/db", "Alice", "pw", 7, 100));
    assert_false(azs_cache_get(c, "/db2", "alice", "pw", 7, 100));
    /* the separator keeps "al"+"icepw" apart from "alice"+"pw" */
    assert_false(azs_cache_get(c, "/db", "al", "icepw", 7, 100));
}

static void expiry_is_checked_on_a_hit(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, 64, 2, fx->pool), AZS_OK);
    azs_cache_put(c, "/db", "bob", "pw", 3, 500);
    assert_true(azs_cache_get(c, "/db", "bob", "pw", 3, 499));
    assert_false(azs_cache_get(c, "/db", "bob", "pw", 3, 500));
}

static void off_means_no_hits(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, 0, 2, fx->pool), AZS_OK);
    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    assert_false(azs_cache_get(NULL, "/db", "alice", "pw", 7, 100));
}

static void collisions_replace_never_confuse(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;
    char user[16];
    int i, hits = 0;

    /* one slot: every entry evicts the last */
    assert_int_equal(azs_cache_create(&c, 1, 2, fx->pool), AZS_OK);
    for (i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        azs_cache_put(c, "/db", user, "pw", 1, 0);
    }
    for (i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        hits += azs_cache_get(c, "/db", user, "pw", 1, 0);
        assert_false(azs_cache_get(c, "/db", user, "other", 1, 0));
    }
    assert_int_equal(hits, 1);
    assert_true(azs_cache_get(c, "/db", "u99", "pw", 1, 0));
}

typedef struct {
    azs_cache_t *c;
    volatile apr_uint32_t inside;
    volatile apr_uint32_t peak;
} bound_ctx;

static void *APR_THREAD_FUNC hasher(apr_thread_t *t, void *data)
{
    bound_ctx *b = data;
    int i;

    for (i = 0; i < 20; i++) {
        apr_uint32_t now, peak;

        while (!azs_cache_hash_enter(b->c, apr_time_from_msec(50))) {
        }
        now = apr_atomic_inc32(&b->inside) + 1;
        while ((peak = apr_atomic_read32(&b->peak)) < now
               && apr_atomic_cas32(&b->peak, now, peak) != peak) {
        }
        apr_sleep(200);
        apr_atomic_dec32(&b->inside);
        azs_cache_hash_leave(b->c);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void hash_bound_holds_under_threads(void **state)
{
    unit_fx *fx = *state;
    bound_ctx b = {NULL, 0, 0};
    apr_thread_t *th[16];
    apr_status_t rv;
    int i;

    assert_int_equal(azs_cache_create(&b.c, 16, 3, fx->pool), AZS_OK);
    for (i = 0; i < 16; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, hasher, &b,
                                           fx->pool), APR_SUCCESS);
    }
    for (i = 0; i < 16; i++) {
        apr_thread_join(&rv, th[i]);
    }
    assert_true(b.peak >= 2);     /* they did run side by side */
    assert_true(b.peak <= 3);     /* and never more than the bound */
}

static void hash_wait_is_bounded(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;
    apr_time_t t0;

    assert_int_equal(azs_cache_create(&c, 16, 1, fx->pool), AZS_OK);
    assert_true(azs_cache_hash_enter(c, 0));
    t0 = apr_time_now();
    assert_false(azs_cache_hash_enter(c, apr_time_from_msec(30)));
    assert_true(apr_time_now() - t0 >= apr_time_from_msec(30));
    azs_cache_hash_leave(c);
    assert_true(azs_cache_hash_enter(c, 0));
    azs_cache_hash_leave(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            hit_only_for_same_triple_and_generation, unit_setup,
            unit_teardown),
        cmocka_unit_test_setup_teardown(expiry_is_checked_on_a_hit,
                                        unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(off_means_no_hits, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(collisions_replace_never_confuse,
                                        unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(hash_bound_holds_under_threads,
                                        unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(hash_wait_is_bounded, unit_setup,
                                        unit_teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
