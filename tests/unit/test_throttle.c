/*
 * test_throttle.c - AuthzStatusThrottle's arithmetic: the key an address
 * is counted under, the directive's syntax, the sliding window of the
 * socache record, and the shared table of bans.
 */
#include "unit.h"

#include <pthread.h>
#include <sys/wait.h>

static void key_is(apr_pool_t *p, const char *ip, const char *want)
{
    const char *k = azs_throttle_key(p, ip);

    if (!want) {
        assert_null(k);
        return;
    }
    assert_non_null(k);
    assert_string_equal(k, want);
}

static void ipv4_per_address_ipv6_per_64(void **state)
{
    unit_fx *fx = *state;
    apr_pool_t *p = fx->pool;

    key_is(p, "192.0.2.7", "192.0.2.7");
    key_is(p, "::ffff:192.0.2.7", "192.0.2.7");      /* a v6 listener */
    key_is(p, "192.0.2.8", "192.0.2.8");
    key_is(p, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
    key_is(p, "2001:db8:1:2::9", "2001:db8:1:2::/64");
    key_is(p, "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64");
    key_is(p, "2001:db8:1:3::1", "2001:db8:1:3::/64");
    key_is(p, "::1", "::/64");
    key_is(p, "fe80::1%eth0", "fe80::/64");
    /* NAT64 / SIIT: the IPv4 client it embeds. */
    key_is(p, "64:ff9b::c000:207", "192.0.2.7");
    key_is(p, "64:ff9b::c000:208", "192.0.2.8");
    key_is(p, "not-an-address", NULL);
    key_is(p, "192.0.2.0/24", NULL);
    key_is(p, "", NULL);
    key_is(p, NULL, NULL);
}

static void directive_syntax(void **state)
{
    azs_throttle_policy_t pol;

    assert_null(azs_throttle_parse("20/1m", NULL, &pol));
    assert_int_equal(pol.n, 20);
    assert_int_equal(pol.window_ms, 60000);
    assert_int_equal(pol.ban_ms, 60000);              /* BAN: the window */
    assert_null(azs_throttle_parse("5/30s", "15m", &pol));
    assert_int_equal(pol.n, 5);
    assert_int_equal(pol.window_ms, 30000);
    assert_int_equal(pol.ban_ms, 900000);
    assert_null(azs_throttle_parse("1000/24h", "720h", &pol));
    assert_null(azs_throttle_parse("10/1d", "30d", &pol));   /* days */
    assert_int_equal(pol.window_ms, 86400000);
    assert_int_equal(pol.ban_ms, 30LL * 86400000);
    assert_non_null(azs_throttle_parse("20", NULL, &pol));
    assert_non_null(azs_throttle_parse("/1m", NULL, &pol));
    assert_non_null(azs_throttle_parse("0/1m", NULL, &pol));
    assert_non_null(azs_throttle_parse("1001/1m", NULL, &pol));
    assert_non_null(azs_throttle_parse("-3/1m", NULL, &pol));
    assert_non_null(azs_throttle_parse("x/1m", NULL, &pol));
    assert_non_null(azs_throttle_parse("20/", NULL, &pol));
    assert_non_null(azs_throttle_parse("20/500ms", NULL, &pol));
    assert_non_null(azs_throttle_parse("20/25h", NULL, &pol));
    assert_non_null(azs_throttle_parse("20/1m", "0s", &pol));
    assert_non_null(azs_throttle_parse("20/1m", "31d", &pol));
    assert_non_null(azs_throttle_parse("20/1m", "soon", &pol));
    assert_non_null(azs_throttle_parse(NULL, NULL, &pol));
}

/* A failure at now_ms counted into *rec (in place). */
static azs_throttle_state_t fail_at(const azs_throttle_policy_t *pol,
                                    unsigned char *rec, apr_size_t *len,
                                    apr_int64_t now_ms)
{
    unsigned char out[AZS_THROTTLE_REC_MAX];
    azs_throttle_state_t st;

    *len = azs_throttle_count(pol, *len ? rec : NULL, *len, now_ms, out, &st);
    assert_true(*len <= AZS_THROTTLE_REC_MAX);
    memcpy(rec, out, *len);
    return st;
}

static void n_failures_within_the_window_ban(void **state)
{
    azs_throttle_policy_t pol = {4, 3000, 5000};
    unsigned char rec[AZS_THROTTLE_REC_MAX];
    apr_size_t len = 0;
    apr_int64_t t0 = 1700000000000LL;
    azs_throttle_state_t st;
    int i;

    for (i = 0; i < 3; i++) {
        st = fail_at(&pol, rec, &len, t0 + i * 100);
        assert_int_equal(st.failures, i + 1);
        assert_false(st.banned);
        assert_int_equal(azs_throttle_record_ban(rec, len), 0);
    }
    st = fail_at(&pol, rec, &len, t0 + 300);
    assert_true(st.banned);
    assert_true(st.new_ban);
    assert_int_equal(st.failures, 4);
    assert_int_equal(st.ban_until, t0 + 300 + 5000);
    assert_int_equal(azs_throttle_record_ban(rec, len), t0 + 5300);
    /* During the ban: counted, the ban neither renewed nor extended. */
    st = fail_at(&pol, rec, &len, t0 + 1000);
    assert_true(st.banned);
    assert_false(st.new_ban);
    assert_int_equal(st.ban_until, t0 + 5300);
    /* After it: the failures that banned were forgotten; the one during
     * the ban has left the window. */
    st = fail_at(&pol, rec, &len, t0 + 5400);
    assert_false(st.banned);
    assert_int_equal(st.failures, 1);
}

static void the_window_slides(void **state)
{
    azs_throttle_policy_t pol = {4, 3000, 5000};
    unsigned char rec[AZS_THROTTLE_REC_MAX];
    apr_size_t len = 0;
    apr_int64_t t0 = 1700000000000LL;
    azs_throttle_state_t st;
    int i;

    fail_at(&pol, rec, &len, t0);
    fail_at(&pol, rec, &len, t0 + 1000);
    fail_at(&pol, rec, &len, t0 + 2000);
    /* (500, 3500]: 1000, 2000, 3500 - three. */
    st = fail_at(&pol, rec, &len, t0 + 3500);
    assert_false(st.banned);
    assert_int_equal(st.failures, 3);
    /* (600, 3600]: four. */
    st = fail_at(&pol, rec, &len, t0 + 3600);
    assert_true(st.new_ban);

    /* Spread wider than the window: never. */
    len = 0;
    pol.n = 3;
    pol.window_ms = 2000;
    for (i = 0; i < 200; i++) {
        st = fail_at(&pol, rec, &len, t0 + i * 1001LL);
        assert_false(st.banned);
        assert_true(st.failures <= 2);
    }
    /* A failure exactly WINDOW after another is outside it ... */
    len = 0;
    fail_at(&pol, rec, &len, t0);
    fail_at(&pol, rec, &len, t0 + 1);
    st = fail_at(&pol, rec, &len, t0 + 2000);
    assert_false(st.banned);
    /* ... a millisecond less is within. */
    len = 0;
    fail_at(&pol, rec, &len, t0);
    fail_at(&pol, rec, &len, t0 + 1);
    st = fail_at(&pol, rec, &len, t0 + 1999);
    assert_true(st.banned);
}

static void clocks_a_little_apart_still_add_up(void **state)
{
    azs_throttle_policy_t pol = {4, 60000, 60000};
    unsigned char rec[AZS_THROTTLE_REC_MAX];
    apr_size_t len = 0;
    apr_int64_t t0 = 1700000000000LL;
    azs_throttle_state_t st;

    fail_at(&pol, rec, &len, t0);
    fail_at(&pol, rec, &len, t0 + 10);
    /* Another node, its clock 5 s behind: the failures counted "in its
     * future" still count, in order. */
    st = fail_at(&pol, rec, &len, t0 - 5000);
    assert_int_equal(st.failures, 3);
    assert_false(st.banned);
    st = fail_at(&pol, rec, &len, t0 + 20);
    assert_true(st.new_ban);
    /* A record from further ahead than a window is not believed. */
    len = 0;
    fail_at(&pol, rec, &len, t0 + 10 * 60000);
    st = fail_at(&pol, rec, &len, t0);
    assert_int_equal(st.failures, 1);
}

static void an_unreadable_record_is_none(void **state)
{
    azs_throttle_policy_t pol = {2, 60000, 60000};
    unsigned char rec[AZS_THROTTLE_REC_MAX], out[AZS_THROTTLE_REC_MAX];
    apr_int64_t t0 = 1700000000000LL;
    azs_throttle_state_t st;
    apr_size_t len = 0, n;
    unsigned i;

    fail_at(&pol, rec, &len, t0);
    /* Cut, grown, another version, noise: each reads as no record. */
    n = azs_throttle_count(&pol, rec, len - 1, t0 + 1, out, &st);
    assert_int_equal(st.failures, 1);
    n = azs_throttle_count(&pol, rec, len + 4, t0 + 1, out, &st);
    assert_int_equal(st.failures, 1);
    rec[0] ^= 0x7f;
    n = azs_throttle_count(&pol, rec, len, t0 + 1, out, &st);
    assert_int_equal(st.failures, 1);
    assert_int_equal(azs_throttle_record_ban(rec, len), 0);
    for (i = 0; i < sizeof(rec); i++) {
        rec[i] = (unsigned char)(i * 131 + 7);
    }
    n = azs_throttle_count(&pol, rec, 64, t0 + 1, out, &st);
    assert_int_equal(st.failures, 1);
    assert_true(n <= AZS_THROTTLE_REC_MAX);
    /* A count that claims more than the record holds. */
    rec[0] = 1;
    memset(rec + 4, 0xff, 4);
    n = azs_throttle_count(&pol, rec, 28, t0 + 1, out, &st);
    assert_int_equal(st.failures, 1);
    (void)n;
}

static void the_largest_n_fits(void **state)
{
    azs_throttle_policy_t pol = {AZS_THROTTLE_MAX_N, 3600000, 60000};
    unsigned char rec[AZS_THROTTLE_REC_MAX];
    apr_size_t len = 0, most = 0;
    apr_int64_t t0 = 1700000000000LL;
    azs_throttle_state_t st;
    int i;

    for (i = 0; i < AZS_THROTTLE_MAX_N - 1; i++) {
        st = fail_at(&pol, rec, &len, t0 + i);
        assert_false(st.banned);
        most = len > most ? len : most;
    }
    assert_int_equal(st.failures, AZS_THROTTLE_MAX_N - 1);
    st = fail_at(&pol, rec, &len, t0 + i);
    assert_true(st.new_ban);
    assert_true(most <= AZS_THROTTLE_REC_MAX);
}

static void bans_are_found_and_end(void **state)
{
    unit_fx *fx = *state;
    azs_bans_t *b;
    apr_int64_t t0 = 1700000000000LL;
    apr_uint32_t f = 0;
    int first = -1;

    assert_int_equal(azs_bans_create(&b, 1024, fx->pool), AZS_RC_OK);
    assert_int_equal(azs_bans_get(b, "192.0.2.1", t0, &f, &first), 0);
    azs_bans_put(b, "192.0.2.1", t0 + 5000, 7, t0);
    assert_int_equal(azs_bans_get(b, "192.0.2.1", t0 + 1, &f, &first),
                     t0 + 5000);
    assert_int_equal(f, 7);
    assert_int_equal(first, 1);      /* the first to see it logs it */
    assert_int_equal(azs_bans_get(b, "192.0.2.1", t0 + 2, NULL, &first),
                     t0 + 5000);
    assert_int_equal(first, 0);      /* ... and only the first */
    assert_int_equal(azs_bans_get(b, "192.0.2.2", t0, NULL, NULL), 0);
    assert_int_equal(azs_bans_get(b, "192.0.2.1", t0 + 5000, NULL, NULL), 0);
    /* The same ban again: still logged once.  A new ban: logged again. */
    azs_bans_put(b, "192.0.2.1", t0 + 5000, 7, t0 + 3);
    azs_bans_get(b, "192.0.2.1", t0 + 4, NULL, &first);
    assert_int_equal(first, 0);
    azs_bans_put(b, "192.0.2.1", t0 + 9000, 4, t0 + 6000);
    assert_int_equal(azs_bans_get(b, "192.0.2.1", t0 + 6001, &f, &first),
                     t0 + 9000);
    assert_int_equal(first, 1);
    assert_int_equal(f, 4);
}

static void a_full_bucket_gives_up_the_ban_that_ends_first(void **state)
{
    unit_fx *fx = *state;
    azs_bans_t *b;
    apr_int64_t t0 = 1700000000000LL;
    char key[32];
    int i, kept = 0;

    /* One bucket of four. */
    assert_int_equal(azs_bans_create(&b, 4, fx->pool), AZS_RC_OK);
    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "198.51.100.%d", i);
        azs_bans_put(b, key, t0 + 10000 + (i == 2 ? -5000 : i * 1000), 3, t0);
    }
    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "198.51.100.%d", i);
        if (azs_bans_get(b, key, t0 + 1, NULL, NULL)) {
            kept++;
        }
        else {
            assert_int_equal(i, 2);  /* the soonest to end went */
        }
    }
    assert_int_equal(kept, 4);
    /* An ended ban's slot is taken before a standing one. */
    azs_bans_put(b, "203.0.113.9", t0 + 20000, 3, t0 + 10500);
    assert_int_not_equal(azs_bans_get(b, "203.0.113.9", t0 + 10501, NULL,
                                      NULL), 0);
    assert_int_not_equal(azs_bans_get(b, "198.51.100.4", t0 + 10501, NULL,
                                      NULL), 0);
}

/* Made before fork(): a ban put by a child is seen by the parent. */
static void shared_with_children(void **state)
{
    unit_fx *fx = *state;
    azs_bans_t *b;
    apr_int64_t t0 = 1700000000000LL;
    int status;
    pid_t pid;

    assert_int_equal(azs_bans_create(&b, 1024, fx->pool), AZS_RC_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        azs_bans_put(b, "2001:db8::/64", t0 + 1000, 5, t0);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(azs_bans_get(b, "2001:db8::/64", t0, NULL, NULL),
                     t0 + 1000);
    /* The metrics' gauge: bans standing now. */
    azs_bans_put(b, "192.0.2.1", t0 + 5000, 5, t0);
    assert_int_equal(azs_bans_count(b, t0), 2);
    assert_int_equal(azs_bans_count(b, t0 + 1000), 1);
    assert_int_equal(azs_bans_count(b, t0 + 5000), 0);
}

typedef struct {
    azs_bans_t *b;
    int id;
    int wrong;
} worker_arg;

/* Each thread bans its own keys over and over and reads them back: a
 * key is never seen with another's ban. */
static void *worker(void *p)
{
    worker_arg *a = p;
    apr_int64_t t0 = 1700000000000LL, got;
    char key[32];
    int i;

    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "10.%d.%d.%d", a->id, i % 50, i % 7);
        azs_bans_put(a->b, key, t0 + 100000 + a->id, 1, t0);
        got = azs_bans_get(a->b, key, t0, NULL, NULL);
        if (got && got != t0 + 100000 + a->id) {
            a->wrong++;
        }
    }
    return NULL;
}

static void concurrent_writers_never_confuse(void **state)
{
    unit_fx *fx = *state;
    azs_bans_t *b;
    pthread_t t[4];
    worker_arg a[4];
    int i;

    assert_int_equal(azs_bans_create(&b, 64, fx->pool), AZS_RC_OK);
    for (i = 0; i < 4; i++) {
        a[i].b = b;
        a[i].id = i;
        a[i].wrong = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &a[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].wrong, 0);
    }
}

static void failed_logins_are_the_401s_and_400s(void **state)
{
    int i, n = 0;

    for (i = 0; i < AZS_REASON_COUNT; i++) {
        int s = azs_reason_info((azs_reason)i)->status;

        if (azs_reason_is_failed_login((azs_reason)i)) {
            assert_true(s == 401 || s == 400);
            n++;
        }
        else {
            assert_true(s != 401 && s != 400);
        }
    }
    assert_int_equal(n, 8);
    assert_int_equal(azs_reason_info(AZS_REASON_THROTTLED)->status, 429);
    assert_string_equal(azs_reason_info(AZS_REASON_THROTTLED)->log_id,
                        "AZS0402");
}

static const struct CMUnitTest tests[] = {
    T(ipv4_per_address_ipv6_per_64),
    T(directive_syntax),
    T(n_failures_within_the_window_ban),
    T(the_window_slides),
    T(clocks_a_little_apart_still_add_up),
    T(an_unreadable_record_is_none),
    T(the_largest_n_fits),
    T(bans_are_found_and_end),
    T(a_full_bucket_gives_up_the_ban_that_ends_first),
    T(shared_with_children),
    T(concurrent_writers_never_confuse),
    T(failed_logins_are_the_401s_and_400s),
};

UNIT_MAIN(tests)
