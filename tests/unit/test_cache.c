/*
 * test_cache.c - the verified-credential cache.
 */
#include "unit.h"

#include <pthread.h>
#include <sys/wait.h>

static volatile int big_malloc_fails;

/* malloc as it behaves when memory runs out, for large blocks only (the
 * cache key of a long password); the rest of the process is untouched.
 * This definition stands in for the C library's; the memory still comes
 * from it, so its free() is right.  Not under AddressSanitizer, whose
 * own malloc and free must pair up. */
#ifdef __SANITIZE_ADDRESS__
#define MALLOC_FAILS 0
#else
#define MALLOC_FAILS 1
extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
    if (big_malloc_fails && n >= 1024) {
        return NULL;
    }
    return __libc_malloc(n);
}
#endif

/* The table as azs_cache.c lays it out, so a test can leave a slot as a
 * writer killed in the middle of its write would. */
typedef struct {
    apr_uint64_t lock;         /* low half: sequence, odd while written;
                                * high half: the writer's thread id */
    apr_uint64_t key[4];
    apr_int64_t gen;
    apr_int64_t expires;
    apr_int64_t used;
} entry_view;

#define WAYS 8                 /* entries in a bucket (AZS_CACHE_WAYS) */

struct azs_cache {
    unsigned char secret[32];
    apr_size_t size;
    entry_view *table;
};

/* A cache of SIZE slots, from the fixture's pool. */
static azs_cache_t *new_cache(void **state, apr_size_t size)
{
    unit_fx *fx = *state;
    azs_cache_t *c = NULL;

    assert_int_equal(azs_cache_create(&c, size, fx->pool), AZS_RC_OK);
    return c;
}

static void hit_only_for_same_triple_and_generation(void **state)
{
    azs_cache_t *c = new_cache(state, 1024);

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
    azs_cache_t *c = new_cache(state, 64);

    azs_cache_put(c, "/db", "bob", "pw", 3, 500);
    assert_true(azs_cache_get(c, "/db", "bob", "pw", 3, 499));
    assert_false(azs_cache_get(c, "/db", "bob", "pw", 3, 500));
}

static void off_means_no_hits(void **state)
{
    azs_cache_t *c = new_cache(state, 0);

    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    assert_false(azs_cache_get(NULL, "/db", "alice", "pw", 7, 100));
}

static void collisions_replace_never_confuse(void **state)
{
    /* one bucket of WAYS entries (a table has whole buckets): each login
     * past the eighth replaces one of the others */
    azs_cache_t *c = new_cache(state, 1);
    char user[16];
    int i, hits = 0;

    for (i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        azs_cache_put(c, "/db", user, "pw", 1, 0);
    }
    for (i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        hits += azs_cache_get(c, "/db", user, "pw", 1, 0);
        assert_false(azs_cache_get(c, "/db", user, "other", 1, 0));
    }
    assert_int_equal(hits, WAYS);
    assert_true(azs_cache_get(c, "/db", "u99", "pw", 1, 0));
}

/* Made before fork(): one table for the parent and every child. */
static void shared_with_children(void **state)
{
    azs_cache_t *c = new_cache(state, 1024);
    pid_t pid;
    int status = -1;

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
    /* 8 slots for 64 logins: constant collisions and rewrites */
    azs_cache_t *c = new_cache(state, 8);
    pid_t pid;
    int status = -1, hits = 0;

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

/* A table of one slot, every login in it. */
static entry_view *one_slot(unit_fx *fx, azs_cache_t **c)
{
    assert_int_equal(azs_cache_create(c, 1, fx->pool), AZS_RC_OK);
    return &(*c)->table[0];
}

/* How many entries of the bucket at e are stable (even). */
static int stable(const entry_view *e)
{
    int w, n = 0;

    for (w = 0; w < WAYS; w++) {
        n += (e[w].lock & 1) == 0;
    }
    return n;
}

/* Two logins of the same bucket never keep evicting each other (a
 * direct-mapped table made about 30 of 1,000 returning users pay a hash on
 * every request).  300 logins in 1,000 entries (125 buckets of 8, about
 * 2.4 a bucket): a direct-mapped table of that size loses about a quarter
 * of them to collisions; buckets keep all but those of a bucket of more
 * than 8, which the keys' randomness makes rare (about 1 run in 20 has
 * one, never enough to miss 3 %). */
static void a_crowd_fits_its_buckets(void **state)
{
    azs_cache_t *c = new_cache(state, 1000);
    char user[16];
    int i, round, hits = 0;

    for (i = 0; i < 300; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        azs_cache_put(c, "/db", user, "pw", 1, 0);
    }
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 300; i++) {
            snprintf(user, sizeof(user), "u%d", i);
            if (azs_cache_get(c, "/db", user, "pw", 1, 0)) {
                hits++;
            }
            else {
                azs_cache_put(c, "/db", user, "pw", 1, 0);
            }
        }
    }
    assert_true(hits >= 3 * 300 * 97 / 100);
}

/* No memory for the key of a long password: no entry is written and none
 * is found, rather than one key shared by every such login. */
static void no_key_no_entry(void **state)
{
    azs_cache_t *c = NULL;
    entry_view *e = one_slot(*state, &c);
    char pw1[1100], pw2[1100];
    int other, same;

    if (!MALLOC_FAILS) {
        skip();
    }
    memset(pw1, 'a', sizeof(pw1) - 1);
    pw1[sizeof(pw1) - 1] = '\0';
    memcpy(pw2, pw1, sizeof(pw2));
    pw2[0] = 'b';
    big_malloc_fails = 1;
    azs_cache_put(c, "/db", "alice", pw1, 7, 0);
    /* another user, another password: must not be "the same key" */
    other = azs_cache_get(c, "/db", "mallory", pw2, 7, 100);
    same = azs_cache_get(c, "/db", "alice", pw1, 7, 100);
    big_malloc_fails = 0;
    assert_false(other);
    assert_false(same);
    assert_true(e->gen == 0);              /* nothing was written */
    /* with memory, long passwords work as any other */
    azs_cache_put(c, "/db", "alice", pw1, 7, 0);
    assert_true(azs_cache_get(c, "/db", "alice", pw1, 7, 100));
    assert_false(azs_cache_get(c, "/db", "mallory", pw2, 7, 100));
}

/* The id of a thread (the only one of its process) that has exited. */
static apr_uint64_t dead_tid(void)
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return (apr_uint64_t)(apr_uint32_t)pid;
}

/* A writer killed in the middle of its write leaves the slot odd: the
 * next writer takes it over; until then, and while what the dead writer
 * left is there, nothing is found in it. */
static void slot_of_a_dead_writer_recovers(void **state)
{
    azs_cache_t *c = NULL;
    entry_view *e = one_slot(*state, &c);
    apr_uint64_t seq;
    int w;

    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    assert_true(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    /* a write began in every entry of the bucket (odd), wrote its
     * version, and its writer died */
    for (w = 0; w < WAYS; w++) {
        seq = (apr_uint32_t)e[w].lock;
        e[w].lock = dead_tid() << 32 | ((seq | 1) + ((seq & 1) ? 2 : 0));
        e[w].gen = 8;
    }
    assert_int_equal(stable(e), 0);
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 8, 100));
    azs_cache_put(c, "/db", "bob", "pw2", 8, 0);
    assert_true(azs_cache_get(c, "/db", "bob", "pw2", 8, 100));
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 8, 100));
    assert_int_equal(stable(e), 1);
    /* the same from entries never written, with no writer named */
    e = one_slot(*state, &c);
    for (w = 0; w < WAYS; w++) {
        e[w].lock = 1;
    }
    azs_cache_put(c, "/db", "carol", "pw3", 9, 0);
    assert_true(azs_cache_get(c, "/db", "carol", "pw3", 9, 100));
}

/* A writer that is alive keeps its slot, however long it takes: a second
 * writer would mix its stores with the first one's. */
static void slot_of_a_live_writer_is_left_alone(void **state)
{
    azs_cache_t *c = NULL;
    entry_view *e = one_slot(*state, &c);
    /* held by the parent of this test (alive: it waits for us) */
    apr_uint64_t held = (apr_uint64_t)(apr_uint32_t)getppid() << 32 | 1;
    int w;

    for (w = 0; w < WAYS; w++) {
        e[w].lock = held;
    }
    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    for (w = 0; w < WAYS; w++) {
        assert_true(e[w].lock == held);
    }
    assert_false(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
    /* its writes done, the entries are everyone's again */
    for (w = 0; w < WAYS; w++) {
        e[w].lock = held + 1;
    }
    azs_cache_put(c, "/db", "alice", "pw", 7, 0);
    assert_true(azs_cache_get(c, "/db", "alice", "pw", 7, 100));
}

static const struct CMUnitTest tests[] = {
    T(hit_only_for_same_triple_and_generation),
    T(expiry_is_checked_on_a_hit),
    T(off_means_no_hits),
    T(collisions_replace_never_confuse),
    T(a_crowd_fits_its_buckets),
    T(shared_with_children),
    T(concurrent_writers_never_confuse),
    T(no_key_no_entry),
    T(slot_of_a_dead_writer_recovers),
    T(slot_of_a_live_writer_is_left_alone),
};

UNIT_MAIN(tests)
