/*
 * test_cache.c - the verified-credential cache.
 */
#include "unit.h"

static void hit_only_for_same_triple_and_generation(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, 1024, fx->pool), AZS_OK);
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

    assert_int_equal(azs_cache_create(&c, 64, fx->pool), AZS_OK);
    azs_cache_put(c, "/db", "bob", "pw", 3, 500);
    assert_true(azs_cache_get(c, "/db", "bob", "pw", 3, 499));
    assert_false(azs_cache_get(c, "/db", "bob", "pw", 3, 500));
}

static void off_means_no_hits(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, 0, fx->pool), AZS_OK);
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
    assert_int_equal(azs_cache_create(&c, 1, fx->pool), AZS_OK);
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
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
