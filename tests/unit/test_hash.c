/*
 * test_hash.c - password hashes: what htauthz writes, what it imports,
 * and that bcrypt's 72-byte limit never truncates silently.
 * The fixed hashes below were made by htpasswd and openssl passwd.
 */
#include <sched.h>

#include "unit.h"

#define PW "p\xc3\xa4ssword"   /* UTF-8, to keep bytes honest */

static void bcrypt_round_trip(void **state)
{
    unit_fx *fx = *state;
    const char *h1 = NULL, *h2 = NULL;

    assert_int_equal(azs_password_hash(fx->pool, PW, 4, &h1), AZS_OK);
    assert_int_equal(strncmp(h1, "$2y$04$", 7), 0);
    assert_int_equal(strlen(h1), 60);
    assert_true(azs_password_verify(PW, h1));
    assert_false(azs_password_verify("p\xc3\xa4sswore", h1));
    assert_false(azs_password_verify("", h1));
    /* a fresh salt every time */
    assert_int_equal(azs_password_hash(fx->pool, PW, 4, &h2), AZS_OK);
    assert_string_not_equal(h1, h2);
    assert_true(azs_hash_supported(h1));
}

static void default_cost_is_what_htauthz_writes(void **state)
{
    unit_fx *fx = *state;
    const char *h = NULL;

    assert_int_equal(azs_password_hash(fx->pool, "x", AZS_BCRYPT_COST, &h),
                     AZS_OK);
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
    assert_int_equal(azs_password_hash(fx->pool, "", 4, &h), AZS_INVALID);
    assert_int_equal(azs_password_hash(fx->pool, longpw, 4, &h),
                     AZS_INVALID);
    assert_int_equal(azs_password_hash(fx->pool, "a\nb", 4, &h),
                     AZS_INVALID);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bcrypt_round_trip, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(default_cost_is_what_htauthz_writes,
                                        unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(invalid_passwords_not_hashed,
                                        unit_setup, unit_teardown),
        cmocka_unit_test(no_truncation_past_72_bytes),
        cmocka_unit_test(imported_formats_verify),
        cmocka_unit_test(idle_verify_agrees),
        cmocka_unit_test(weak_or_broken_formats_refused),
        cmocka_unit_test(constant_time_equal),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
