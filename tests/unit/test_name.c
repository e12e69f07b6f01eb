/*
 * test_name.c - name and password rules (azs_name.c).
 */
#include "unit.h"

static void user_names_accepted(void **state)
{
    unit_fx *fx = *state;

    assert_null(azs_user_name_invalid("alice"));
    assert_null(azs_user_name_invalid("a"));
    assert_null(azs_user_name_invalid("Bob Smith"));
    assert_null(azs_user_name_invalid("bob@example.org"));
    assert_null(azs_user_name_invalid("j\xc3\xb6rg"));          /* UTF-8 */
    assert_null(azs_user_name_invalid(unit_repeat(fx, 'u', 255)));
}

static void user_names_refused(void **state)
{
    unit_fx *fx = *state;

    assert_non_null(azs_user_name_invalid(NULL));
    assert_non_null(azs_user_name_invalid(""));
    assert_non_null(azs_user_name_invalid(unit_repeat(fx, 'u', 256)));
    assert_non_null(azs_user_name_invalid(unit_repeat(fx, 'u', 8192)));
    assert_non_null(azs_user_name_invalid("al:ice"));
    assert_non_null(azs_user_name_invalid(":"));
    assert_non_null(azs_user_name_invalid("alice:"));
    assert_non_null(azs_user_name_invalid("ali\nce"));
    assert_non_null(azs_user_name_invalid("alice\r"));
    assert_non_null(azs_user_name_invalid("\talice"));
    assert_non_null(azs_user_name_invalid("al\x1b[31mice"));
    assert_non_null(azs_user_name_invalid("alice\x7f"));
    assert_non_null(azs_user_name_invalid("\x01"));
}

static void user_name_messages_say_why(void **state)
{
    unit_fx *fx = *state;

    assert_non_null(strstr(azs_user_name_invalid("a:b"), "':'"));
    assert_non_null(strstr(azs_user_name_invalid("a\nb"), "control"));
    assert_non_null(strstr(azs_user_name_invalid(unit_repeat(fx, 'x', 300)),
                           "255"));
    assert_non_null(strstr(azs_user_name_invalid(""), "empty"));
}

static void role_names_accepted(void **state)
{
    unit_fx *fx = *state;

    assert_null(azs_role_name_invalid("admin"));
    assert_null(azs_role_name_invalid("r"));
    assert_null(azs_role_name_invalid("site-editor_2"));
    assert_null(azs_role_name_invalid("\xc3\xa9" "diteur"));
    /* The same rule serves permission names, written "docs:read". */
    assert_null(azs_role_name_invalid("docs:read"));
    assert_null(azs_role_name_invalid("api:call"));
    assert_null(azs_role_name_invalid(unit_repeat(fx, 'r', 255)));
}

static void role_names_refused(void **state)
{
    unit_fx *fx = *state;

    assert_non_null(azs_role_name_invalid(NULL));
    assert_non_null(azs_role_name_invalid(""));
    assert_non_null(azs_role_name_invalid(unit_repeat(fx, 'r', 256)));
    assert_non_null(azs_role_name_invalid("site editor"));
    assert_non_null(azs_role_name_invalid(" admin"));
    assert_non_null(azs_role_name_invalid("admin "));
    assert_non_null(azs_role_name_invalid("ad\tmin"));
    assert_non_null(azs_role_name_invalid("admin\n"));
    assert_non_null(azs_role_name_invalid("ad\rmin"));
    assert_non_null(azs_role_name_invalid("ad\vmin"));
    assert_non_null(azs_role_name_invalid("ad\fmin"));
    assert_non_null(azs_role_name_invalid("admin\x7f"));
    assert_non_null(strstr(azs_role_name_invalid("a b"), "whitespace"));
}

static void passwords_accepted(void **state)
{
    unit_fx *fx = *state;

    assert_null(azs_password_invalid("x"));
    assert_null(azs_password_invalid("correct horse battery staple"));
    assert_null(azs_password_invalid("p:a:s:s"));
    assert_null(azs_password_invalid("\xc3\xa4\xc3\xb6\xc3\xbc\xe2\x82\xac"));
    assert_null(azs_password_invalid(unit_repeat(fx, 'p', AZS_BCRYPT_MAX)));
}

static void passwords_refused(void **state)
{
    unit_fx *fx = *state;

    assert_non_null(azs_password_invalid(NULL));
    assert_non_null(azs_password_invalid(""));
    /* bcrypt reads 72 bytes: a 73rd would be silently ignored. */
    assert_non_null(azs_password_invalid(unit_repeat(fx, 'p',
                                                AZS_BCRYPT_MAX + 1)));
    assert_non_null(azs_password_invalid(unit_repeat(fx, 'p', 4096)));
    assert_non_null(strstr(azs_password_invalid(unit_repeat(fx, 'p', 73)),
                           "72"));
    assert_non_null(azs_password_invalid("secret\n"));
    assert_non_null(azs_password_invalid("sec\rret"));
    assert_non_null(azs_password_invalid("\tsecret"));
    assert_non_null(azs_password_invalid("secret\x7f"));
    assert_non_null(azs_password_invalid("\x1f"));
}

static void password_length_counts_bytes(void **state)
{
    unit_fx *fx = *state;
    /* 36 two-byte characters are 72 bytes; one more is 74. */
    char *pw = apr_palloc(fx->pool, 2 * 37 + 1);
    int i;

    for (i = 0; i < 37; i++) {
        pw[2 * i] = '\xc3';
        pw[2 * i + 1] = '\xa9';
    }
    pw[2 * 37] = '\0';
    assert_non_null(azs_password_invalid(pw));
    pw[2 * 36] = '\0';
    assert_null(azs_password_invalid(pw));
}

static const struct CMUnitTest tests[] = {
    T(user_names_accepted),
    T(user_names_refused),
    T(user_name_messages_say_why),
    T(role_names_accepted),
    T(role_names_refused),
    T(passwords_accepted),
    T(passwords_refused),
    T(password_length_counts_bytes),
};

UNIT_MAIN(tests)
