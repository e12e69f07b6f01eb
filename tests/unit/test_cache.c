/*
 * test_cache.c - the verified-credential cache.
 */
#include "unit.h"

#include <pthread.h>
#include <sys/wait.h>

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

/* Made before fork(): one table for the parent and every child. */
static void shared_with_children(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;
    pid_t pid;
    int status = -1;

    assert_int_equal(azs_cache_create(&c, 1024, fx->pool), AZS_OK);
    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = azs_cache_get(c, "/db", "alice", "pw", 7, 100)
                 && !azs_cache_get(c, "/db", "alice", "no", 7, 100);

        azs_cache_put(c, "/db", "carol", "pw2", 7, 0);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(azs_cache_get(c, "/db", "carol", "pw2", 7, 100));
    assert_false(azs_cache_get(c, "/db", "carol", "pw", 7, 100));
}

/* Threads of two processes write and read the same few slots at once: a
 * hit is only ever for a login that was put, never for a torn entry. */
typedef struct {
    azs_cache_t *c;
    unsigned seed;
    int hits, wrong;
} hammer_arg;

static void *hammer(void *data)
{
    hammer_arg *a = data;
    char user[16], pw[16];
    int i, n;

    for (i = 0; i < 20000; i++) {
        n = (int)(rand_r(&a->seed) % 64);
        snprintf(user, sizeof(user), "u%d", n);
        snprintf(pw, sizeof(pw), "p%d", n);
        if (i % 3 == 0) {
            azs_cache_put(a->c, "/db", user, pw, 1 + n % 2, 0);
        }
        else {
            a->hits += azs_cache_get(a->c, "/db", user, pw, 1 + n % 2, 0);
            /* a wrong password, a wrong generation: never */
            a->wrong += azs_cache_get(a->c, "/db", user, "p", 1 + n % 2, 0);
            a->wrong += azs_cache_get(a->c, "/db", user, pw, 2 - n % 2, 0);
        }
    }
    return NULL;
}

static int hammer_all(azs_cache_t *c, unsigned seed, int *hits)
{
    pthread_t th[4];
    hammer_arg a[4];
    int i, wrong = 0;

    *hits = 0;
    for (i = 0; i < 4; i++) {
        a[i].c = c;
        a[i].seed = seed + (unsigned)i;
        a[i].hits = a[i].wrong = 0;
        pthread_create(&th[i], NULL, hammer, &a[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        *hits += a[i].hits;
        wrong += a[i].wrong;
    }
    return wrong;
}

static void concurrent_writers_never_confuse(void **state)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;
    pid_t pid;
    int status = -1, hits = 0;

    /* 8 slots for 64 logins: constant collisions and rewrites */
    assert_int_equal(azs_cache_create(&c, 8, fx->pool), AZS_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int child_hits;

        _exit(hammer_all(c, 1000, &child_hits) == 0 && child_hits > 0
              ? 0 : 1);
    }
    assert_int_equal(hammer_all(c, 1, &hits), 0);
    assert_true(hits > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
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
        cmocka_unit_test_setup_teardown(shared_with_children, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers_never_confuse,
                                        unit_setup, unit_teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
