/*
 * test_hash.c - password hashes: what htauthz writes, what it imports,
 * that bcrypt's 72-byte limit never truncates silently, that absurd costs
 * are refused, and that every failed password check takes the time of
 * the dummy hash.
 * The fixed hashes below were made by htpasswd and openssl passwd.
 */
#include <sched.h>

#include "unit.h"

#include <apr_thread_proc.h>

#define PW "p\xc3\xa4ssword"   /* UTF-8, to keep bytes honest */

static void bcrypt_round_trip(void **state)
{
    unit_fx *fx = *state;
    const char *h1 = NULL, *h2 = NULL;

    assert_int_equal(azs_password_hash(fx->pool, PW, 4, &h1), AZS_RC_OK);
    assert_int_equal(strncmp(h1, "$2y$04$", 7), 0);
    assert_int_equal(strlen(h1), 60);
    assert_true(azs_password_verify(PW, h1));
    assert_false(azs_password_verify("p\xc3\xa4sswore", h1));
    assert_false(azs_password_verify("", h1));
    /* a fresh salt every time */
    assert_int_equal(azs_password_hash(fx->pool, PW, 4, &h2), AZS_RC_OK);
    assert_string_not_equal(h1, h2);
    assert_true(azs_hash_supported(h1));
}

static void default_cost_is_what_htauthz_writes(void **state)
{
    unit_fx *fx = *state;
    const char *h = NULL;

    assert_int_equal(azs_password_hash(fx->pool, "x", AZS_BCRYPT_COST, &h),
                     AZS_RC_OK);
    assert_int_equal(strncmp(h, "$2y$10$", 7), 0);
    /* the dummy hash costs the same */
    assert_int_equal(strncmp(azs_dummy_hash, "$2y$10$", 7), 0);
    assert_true(azs_hash_supported(azs_dummy_hash));
    assert_false(azs_password_verify("x", azs_dummy_hash));
}

static void invalid_passwords_not_hashed(void **state)
{
    unit_fx *fx = *state;
    const char *h = NULL;
    char longpw[80];

    memset(longpw, 'a', 73);
    longpw[73] = '\0';
    assert_int_equal(azs_password_hash(fx->pool, "", 4, &h), AZS_RC_INVALID);
    assert_int_equal(azs_password_hash(fx->pool, longpw, 4, &h),
                     AZS_RC_INVALID);
    assert_int_equal(azs_password_hash(fx->pool, "a\nb", 4, &h),
                     AZS_RC_INVALID);
    assert_null(h);
}

static void no_truncation_past_72_bytes(void **state)
{
    /* htpasswd -nbB -C 4 of 72 times 'a' */
    static const char h72[] =
        "$2y$04$SMfUr0fqZ/rJGZsfSeXZrul2v39Fgr9TzB/922YAmbWHtH.VZdpfi";
    char pw[80];

    memset(pw, 'a', 72);
    pw[72] = '\0';
    assert_true(azs_password_verify(pw, h72));
    /* bcrypt itself would accept this (it reads 72 bytes): we do not */
    pw[72] = 'a';
    pw[73] = '\0';
    assert_false(azs_password_verify(pw, h72));
}

static void imported_formats_verify(void **state)
{
    static const char *const hashes[] = {
        "$2y$04$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$apr1$SE1JLZYc$CCNJ.YO3LoI4nZ6vXTiT70",
        "{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ=",
        "$5$saltsalt$rQBvFGQx3u6doxkk7cvWbhhnhS2qa1.FI.tt6NGFH66",
        "$6$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8wn0BvOU5lCiAviUJLx"
        "XZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ."
    };
    size_t i;

    for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        assert_true(azs_hash_supported(hashes[i]));
        if (!azs_password_verify(PW, hashes[i])) {
            fail_msg("right password refused by %.6s", hashes[i]);
        }
        if (azs_password_verify("password", hashes[i])) {
            fail_msg("wrong password accepted by %.6s", hashes[i]);
        }
    }
}

/* The idle-priority verifier gives the same answers, and a costly hash
 * really ran at idle priority (this is Linux). */
static void idle_verify_agrees(void **state)
{
    static const char *const hashes[] = {
        "$2y$04$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$apr1$SE1JLZYc$CCNJ.YO3LoI4nZ6vXTiT70",
        "{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ=",
        "$6$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8wn0BvOU5lCiAviUJLx"
        "XZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ."
    };
    size_t i;
    int idle;

    for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        int costly = azs_hash_costly(hashes[i]);

        idle = -1;
        assert_true(azs_password_verify_idle(PW, hashes[i], &idle));
        assert_int_equal(idle, costly);
        assert_false(azs_password_verify_idle("password", hashes[i], &idle));
        assert_false(azs_password_verify_idle("", hashes[i], NULL));
    }
    assert_false(azs_hash_costly("{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ="));
    assert_true(azs_hash_costly(azs_dummy_hash));
    assert_false(azs_password_verify_idle("x", azs_dummy_hash, &idle));
    assert_true(idle);
    /* the caller's own priority is untouched */
    assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
}

static void weak_or_broken_formats_refused(void **state)
{
    /* plain text and DES crypt: apr_password_validate would accept them */
    assert_false(azs_hash_supported(PW));
    assert_false(azs_password_verify(PW, PW));
    assert_false(azs_hash_supported("abJnggxhB/yWI"));
    assert_false(azs_hash_supported("$2y$04$short"));
    assert_false(azs_hash_supported("{SHA}tooshort"));
    assert_false(azs_hash_supported(""));
}

static void constant_time_equal(void **state)
{
    unsigned char a[32], b[32];

    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_true(azs_equal(a, b, 32));
    b[31] ^= 0x80;
    assert_false(azs_equal(a, b, 32));
    b[31] ^= 0x80;
    b[0] ^= 1;
    assert_false(azs_equal(a, b, 32));
}

/* A cost nobody configures would hold a CPU and a hash place for minutes
 * (bcrypt 31, $6$rounds=999999999): refused on import and never run. */
static void absurd_costs_refused(void **state)
{
    static const char *const ok[] = {
        "$2y$04$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2y$17$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2a$12$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$6$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8wn0BvOU5lCiAviUJLx"
        "XZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ.",
        "$6$rounds=5000$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8wn0BvOU"
        "5lCiAviUJLxXZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ.",
        "$5$rounds=1000000$saltsalt$rQBvFGQx3u6doxkk7cvWbhhnhS2qa1.FI.tt6NG"
        "FH66",
        "$5$roundsx=99$rQBvFGQx3u6doxkk7cvWbhhnhS2qa1.FI.tt6NGFH66"
    };
    static const char *const refused[] = {
        "$2y$18$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2y$31$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2b$99$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2y$03$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2y$1x$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$2y$4$$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq",
        "$6$rounds=999999999$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8w"
        "n0BvOU5lCiAviUJLxXZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ.",
        "$5$rounds=1000001$saltsalt$rQBvFGQx3u6doxkk7cvWbhhnhS2qa1.FI.tt6NG"
        "FH66",
        /* what strtoul would read as huge, or crypt() as a salt */
        "$6$rounds=99999999999999999999$salt$x",
        "$6$rounds=-1$salt$x",
        "$6$rounds=+5000$salt$x",
        "$6$rounds= 5000$salt$x",
        "$6$rounds=05000$salt$x",
        "$6$rounds=0$salt$x",
        "$6$rounds=$salt$x",
        "$6$rounds=5000x$salt$x",
        "$5$rounds=5000"
    };
    size_t i;
    apr_time_t t0;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!azs_hash_supported(ok[i])) {
            fail_msg("refused: %s", ok[i]);
        }
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (azs_hash_supported(refused[i])) {
            fail_msg("accepted: %s", refused[i]);
        }
    }
    /* the reason says which bound */
    assert_non_null(strstr(azs_hash_invalid(refused[1]), "cost above 17"));
    assert_non_null(strstr(azs_hash_invalid(refused[6]),
                           "more than 1000000 rounds"));
    assert_non_null(strstr(azs_hash_invalid(refused[10]), "malformed"));
    assert_null(azs_hash_invalid(ok[1]));
    /* and never run (bcrypt 18 would take 2^8 times the dummy hash) */
    t0 = apr_time_now();
    assert_false(azs_password_verify(PW, refused[0]));
    assert_false(azs_password_verify_idle(PW, refused[0], NULL));
    assert_true(apr_time_now() - t0 < apr_time_from_msec(500));
}

/* ---- the failure floor ---- */

/* Answers at once: 1 for "right", 0 otherwise. */
static int instant_verify(const char *pw, const char *hash, void *ctx)
{
    int *calls = ctx;

    (*calls)++;
    return strcmp(pw, "right") == 0;
}

static int busy_verify(const char *pw, const char *hash, void *ctx)
{
    return -1;
}

static apr_interval_time_t timed_login(int found, const azs_user_t *u,
                                       const char *pw, azs_verify_fn verify,
                                       void *ctx, azs_reason expect)
{
    apr_time_t t0 = azs_clock();

    assert_int_equal(azs_login_verify(found, u, pw, 2000, verify, ctx),
                     expect);
    return azs_clock() - t0;
}

static void *APR_THREAD_FUNC floor_thread(apr_thread_t *t, void *data)
{
    *(apr_interval_time_t *)data = azs_fail_floor();
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* The floor is measured once, by whichever thread asks first; the others
 * get the same figure.  It is about what the dummy hash costs. */
static void failure_floor_is_the_dummy_cost(void **state)
{
    unit_fx *fx = *state;
    apr_thread_t *th[4];
    apr_interval_time_t seen[4], floor, once = -1;
    apr_status_t rv;
    apr_time_t t0;
    int i;

    for (i = 0; i < 4; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, floor_thread,
                                           &seen[i], fx->pool), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
    }
    floor = azs_fail_floor();
    for (i = 0; i < 4; i++) {
        assert_true(seen[i] == floor);
    }
    /* the quickest of a few runs of the dummy hash: the floor (their
     * slowest, measured earlier) is of the same order */
    for (i = 0; i < 3; i++) {
        t0 = azs_clock();
        assert_false(azs_password_verify("x", azs_dummy_hash));
        t0 = azs_clock() - t0;
        once = once < 0 || t0 < once ? t0 : once;
    }
    if (floor < once / 3 || floor > 10 * once) {
        fail_msg("floor %" APR_TIME_T_FMT " us, dummy hash %" APR_TIME_T_FMT
                 " us", floor, once);
    }
}

/* Every failure returns no sooner than the floor, however quick its own
 * hash; a success and a refusal to verify (503) are not delayed. */
static void every_failure_waits_for_the_floor(void **state)
{
    azs_user_t u;
    apr_interval_time_t floor = azs_fail_floor(), t;
    int calls = 0;

    memset(&u, 0, sizeof(u));
    u.name = "alice";
    u.hash = "{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ=";
    t = timed_login(0, NULL, "right", instant_verify, &calls,
                    AZS_REASON_UNKNOWN_USER);
    assert_true(t >= floor);
    t = timed_login(1, &u, "wrong", instant_verify, &calls,
                    AZS_REASON_BAD_PASSWORD);
    assert_true(t >= floor);
    u.disabled = 1;
    t = timed_login(1, &u, "right", instant_verify, &calls,
                    AZS_REASON_ACCOUNT_DISABLED);
    assert_true(t >= floor);
    u.disabled = 0;
    u.expires = 1000;
    t = timed_login(1, &u, "right", instant_verify, &calls,
                    AZS_REASON_ACCOUNT_EXPIRED);
    assert_true(t >= floor);
    assert_int_equal(calls, 4);     /* each verified exactly one hash */
    u.expires = 0;
    t = timed_login(1, &u, "right", instant_verify, &calls, AZS_REASON_GRANTED);
    assert_true(t < floor / 2);
    t = timed_login(0, NULL, "right", busy_verify, NULL, AZS_REASON_BUSY);
    assert_true(t < floor / 2);
}

/* With the real hashes: a wrong password for a {SHA}, $apr1$ or cheap
 * bcrypt user takes as long as an unknown user's dummy bcrypt-10. */
static void cheap_hashes_fail_as_slowly_as_the_dummy(void **state)
{
    static const char *const hashes[] = {
        "{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ=",
        "$apr1$SE1JLZYc$CCNJ.YO3LoI4nZ6vXTiT70",
        "$2y$04$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq"
    };
    azs_user_t u;
    apr_interval_time_t floor = azs_fail_floor(), t;
    size_t i;

    /* Against the floor (the dummy hash's cost, measured once), not
     * against one timed unknown-user login: on a loaded machine (make -j2
     * check runs the suite beside this) one such login can take twice as
     * long, while the floor is a bound the padding itself guarantees. */
    memset(&u, 0, sizeof(u));
    u.name = "alice";
    t = timed_login(0, NULL, "wrong", NULL, NULL, AZS_REASON_UNKNOWN_USER);
    assert_true(t >= floor);
    for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        u.hash = hashes[i];
        t = timed_login(1, &u, "wrong", NULL, NULL, AZS_REASON_BAD_PASSWORD);
        if (t < floor) {
            fail_msg("%.6s: wrong password %" APR_TIME_T_FMT " us, the "
                     "floor %" APR_TIME_T_FMT " us", hashes[i], t, floor);
        }
        /* the right one is not held back */
        t = timed_login(1, &u, PW, NULL, NULL, AZS_REASON_GRANTED);
        if (t > floor / 2) {
            fail_msg("%.6s: right password %" APR_TIME_T_FMT " us",
                     hashes[i], t);
        }
    }
}

/* Which checks take a place under the hash limit: every one that costs a
 * real hash, and every one that will fail, so that a full server answers
 * an unknown user and a wrong {SHA} password alike. */
static void failures_need_a_place(void **state)
{
    azs_user_t u;

    memset(&u, 0, sizeof(u));
    u.name = "alice";
    assert_true(azs_login_needs_place(0, NULL, PW, 2000));
    u.hash = "$2y$04$0rkuxHEEBmh6xVcPuJb0.OxaqQ25GKWRZcpn/HS5UFjxxMNVRIHNq";
    assert_true(azs_login_needs_place(1, &u, PW, 2000));
    u.hash = "{SHA}I7dElEdfX4dJgLdnbVEeI9iG2mQ=";
    assert_false(azs_login_needs_place(1, &u, PW, 2000));
    assert_true(azs_login_needs_place(1, &u, "wrong", 2000));
    u.disabled = 1;
    assert_true(azs_login_needs_place(1, &u, PW, 2000));
    u.disabled = 0;
    u.expires = 1000;
    assert_true(azs_login_needs_place(1, &u, PW, 2000));
}

/* user list's HASH column: the kind and the weak rule. */
static void kinds_and_the_weak_rule(void **state)
{
    static const struct {
        const char *hash, *kind;
        int weak;
    } cases[] = {
        {"$2y$10$vMR3skTkYTbq3CXKH/qA/.fOzg2kIPS9BK6CmLH5xaUix/4nWpEA2",
         "bcrypt/10", 0},
        {"$2y$04$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H.",
         "bcrypt/4", 1},
        {"$2a$09$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H.",
         "bcrypt/9", 1},
        {"$2b$12$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H.",
         "bcrypt/12", 0},
        {"$apr1$abcdefgh$5VEbMkemELfbhC5ck.U.z1", "apr1-md5", 1},
        {"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", "sha1", 1},
        {"$5$abcdefgh$ijtOJ//yvc/9bq1g0llFn9dB688BwBDRD90DlKKSKE1",
         "sha256-crypt/5000", 0},
        {"$6$rounds=1000$abcdefgh$XqwJcW6OI747PCzoKGoK/1tWSlKoh2vkjEp0I",
         "sha512-crypt/1000", 1},
        {"$6$rounds=5000$abcdefgh$XqwJcW6OI747PCzoKGoK/1tWSlKoh2vkjEp0I",
         "sha512-crypt/5000", 0},
        {"$6$rounds=656000$abcdefgh$XqwJcW6OI747PCzoKGoK/1tWSlKoh2vkjEp0",
         "sha512-crypt/656000", 0},
        {"plaintext", "unknown", 1},
        {"abJnggxhB/yWI", "unknown", 1},            /* DES crypt */
        {"$2y$31$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H.",
         "unknown", 1},                             /* refused: cost 31 */
        {"", "unknown", 1},
    };
    apr_pool_t *p;
    size_t i;
    int weak;

    (void)state;
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        weak = -1;
        assert_string_equal(azs_hash_kind(p, cases[i].hash, &weak),
                            cases[i].kind);
        assert_int_equal(weak, cases[i].weak);
    }
    /* weak may be NULL */
    assert_string_equal(azs_hash_kind(p, cases[0].hash, NULL), "bcrypt/10");
    apr_pool_destroy(p);
}

static const struct CMUnitTest tests[] = {
    T(bcrypt_round_trip),
    T(default_cost_is_what_htauthz_writes),
    T(invalid_passwords_not_hashed),
    cmocka_unit_test(no_truncation_past_72_bytes),
    cmocka_unit_test(imported_formats_verify),
    cmocka_unit_test(idle_verify_agrees),
    cmocka_unit_test(weak_or_broken_formats_refused),
    cmocka_unit_test(constant_time_equal),
    cmocka_unit_test(absurd_costs_refused),
    cmocka_unit_test(kinds_and_the_weak_rule),
    /* first of the floor tests: its threads ask for it first */
    T(failure_floor_is_the_dummy_cost),
    cmocka_unit_test(every_failure_waits_for_the_floor),
    cmocka_unit_test(cheap_hashes_fail_as_slowly_as_the_dummy),
    cmocka_unit_test(failures_need_a_place),
};

UNIT_MAIN(tests)
