/*
 * test_decide.c - login decisions against a real database.
 */
#include "unit.h"

/* The default verifier: azs_password_verify. */
#define LOGIN(st, name, pw, now, u, p) \
    azs_login(st, name, pw, now, u, p, NULL, NULL)

static azs_store_t *with_users(unit_fx *fx)
{
    azs_store_t *st = unit_store(fx);
    const char *h = NULL;
    sqlite3_stmt *s;
    static const struct { const char *name; int disabled; int expires; }
    users[] = {{"alice", 0, 0}, {"dis", 1, 0}, {"exp", 0, 1000},
               {"later", 0, 5000}};
    size_t i;

    assert_int_equal(azs_password_hash(fx->pool, "right", 4, &h), AZS_RC_OK);
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st),
                     "INSERT INTO users (name, hash, disabled, expires,"
                     " created, updated) VALUES (?1, ?2, ?3, ?4, 1, 1)",
                     -1, &s, NULL), SQLITE_OK);
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        sqlite3_bind_text(s, 1, users[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, h, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, users[i].disabled);
        sqlite3_bind_int(s, 4, users[i].expires);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return st;
}

static void login_reasons(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = with_users(fx);
    azs_user_t u;

    assert_int_equal(LOGIN(st, "alice", "right", 2000, &u, fx->pool),
                     AZS_REASON_GRANTED);
    assert_string_equal(u.name, "alice");
    assert_int_equal(LOGIN(st, "alice", "wrong", 2000, &u, fx->pool),
                     AZS_REASON_BAD_PASSWORD);
    assert_int_equal(LOGIN(st, "nobody", "right", 2000, &u, fx->pool),
                     AZS_REASON_UNKNOWN_USER);
    assert_int_equal(LOGIN(st, "Alice", "right", 2000, &u, fx->pool),
                     AZS_REASON_UNKNOWN_USER);
    assert_int_equal(LOGIN(st, "dis", "right", 2000, &u, fx->pool),
                     AZS_REASON_ACCOUNT_DISABLED);
    assert_int_equal(LOGIN(st, "exp", "right", 2000, &u, fx->pool),
                     AZS_REASON_ACCOUNT_EXPIRED);
    assert_int_equal(LOGIN(st, "later", "right", 2000, &u, fx->pool),
                     AZS_REASON_GRANTED);
    /* expiry is inclusive: at the instant itself the account is over */
    assert_int_equal(LOGIN(st, "later", "right", 5000, &u, fx->pool),
                     AZS_REASON_ACCOUNT_EXPIRED);
}

static void state_only_for_the_right_password(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = with_users(fx);
    azs_user_t u;

    assert_int_equal(LOGIN(st, "dis", "wrong", 2000, &u, fx->pool),
                     AZS_REASON_BAD_PASSWORD);
    assert_int_equal(LOGIN(st, "exp", "wrong", 2000, &u, fx->pool),
                     AZS_REASON_BAD_PASSWORD);
}

static void store_fault_is_db_error(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = with_users(fx);
    azs_user_t u;

    /* a schema that lost its table: the query cannot even be prepared */
    assert_int_equal(sqlite3_exec(azs_store_db(st), "DROP TABLE users",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(LOGIN(st, "alice", "right", 2000, &u, fx->pool),
                     AZS_REASON_DB_ERROR);
    assert_non_null(strstr(azs_store_error(st), "no such table"));
}

/* A verifier that records what it was asked. */
typedef struct {
    int calls;
    const char *hash;
} seen_t;

static int recording_verify(const char *pw, const char *hash, void *ctx)
{
    seen_t *seen = ctx;

    seen->calls++;
    seen->hash = hash;
    return azs_password_verify_idle(pw, hash, NULL);
}

static void login_goes_through_the_verifier(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = with_users(fx);
    azs_user_t u;
    seen_t seen = {0, NULL};

    assert_int_equal(azs_login(st, "alice", "right", 2000, &u, fx->pool,
                               recording_verify, &seen), AZS_REASON_GRANTED);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.hash, u.hash);
    assert_int_equal(azs_login(st, "alice", "wrong", 2000, &u, fx->pool,
                               recording_verify, &seen), AZS_REASON_BAD_PASSWORD);
    /* an unknown user costs a hash too, the dummy one */
    assert_int_equal(azs_login(st, "nobody", "right", 2000, &u, fx->pool,
                               recording_verify, &seen), AZS_REASON_UNKNOWN_USER);
    assert_int_equal(seen.calls, 3);
    assert_ptr_equal(seen.hash, azs_dummy_hash);
    /* and a disabled one is told apart only after the hash */
    assert_int_equal(azs_login(st, "dis", "right", 2000, &u, fx->pool,
                               recording_verify, &seen),
                     AZS_REASON_ACCOUNT_DISABLED);
    assert_int_equal(seen.calls, 4);
}

static void reason_names_are_the_log_keywords(void **state)
{
    assert_string_equal(azs_reason_name(AZS_REASON_UNKNOWN_USER), "unknown-user");
    assert_string_equal(azs_reason_name(AZS_REASON_BAD_PASSWORD), "bad-password");
    assert_string_equal(azs_reason_name(AZS_REASON_ACCOUNT_DISABLED),
                        "account-disabled");
    assert_string_equal(azs_reason_name(AZS_REASON_ACCOUNT_EXPIRED),
                        "account-expired");
    assert_string_equal(azs_reason_name(AZS_REASON_TOKEN_UNKNOWN), "token-unknown");
    assert_string_equal(azs_reason_name(AZS_REASON_TOKEN_EXPIRED), "token-expired");
    assert_string_equal(azs_reason_name(AZS_REASON_TOKEN_REVOKED), "token-revoked");
    assert_string_equal(azs_reason_name(AZS_REASON_MALFORMED),
                        "malformed-credentials");
    assert_string_equal(azs_reason_name(AZS_REASON_MISSING_ROLE), "missing-role");
    assert_string_equal(azs_reason_name(AZS_REASON_MISSING_PERMISSION),
                        "missing-permission");
    assert_string_equal(azs_reason_name(AZS_REASON_IP_BLOCKED), "ip-blocked");
    assert_string_equal(azs_reason_name(AZS_REASON_DB_ERROR), "db-error");
    assert_string_equal(azs_reason_name((azs_reason)99), "unknown");
}

/* Every reason has its row: a keyword, a status, and a message id of its
 * own (a reason added to the enum and not to the table fails here). */
static void every_reason_has_one_row(void **state)
{
    int i, j;

    for (i = 0; i < AZS_REASON_COUNT; i++) {
        const azs_reason_info_t *a = azs_reason_info((azs_reason)i);

        assert_string_not_equal(a->keyword, "unknown");
        assert_true(a->status >= 200 && a->status <= 503);
        assert_int_equal(strlen(a->log_id), 7);
        assert_memory_equal(a->log_id, "AZS", 3);
        for (j = 0; j < i; j++) {
            const azs_reason_info_t *b = azs_reason_info((azs_reason)j);

            assert_string_not_equal(a->log_id, b->log_id);
            assert_string_not_equal(a->keyword, b->keyword);
        }
    }
    assert_int_equal(azs_reason_info(AZS_REASON_IP_BLOCKED)->status, 403);
    assert_string_equal(azs_reason_info(AZS_REASON_BUSY)->log_id, "AZS0110");
    assert_string_equal(azs_reason_info(AZS_REASON_COUNT)->keyword,
                        "unknown");
}

static const struct CMUnitTest tests[] = {
    T(login_reasons),
    T(state_only_for_the_right_password),
    T(store_fault_is_db_error),
    T(login_goes_through_the_verifier),
    cmocka_unit_test(reason_names_are_the_log_keywords),
    cmocka_unit_test(every_reason_has_one_row),
};

UNIT_MAIN(tests)
