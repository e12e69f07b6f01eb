/*
 * azs_decide.c - the decisions, apart from where the answer goes.
 */
#include "azs.h"

static const char *const reason_names[] = {
    "granted",
    "unknown-user",
    "bad-password",
    "account-disabled",
    "account-expired",
    "token-unknown",
    "token-expired",
    "token-revoked",
    "malformed-credentials",
    "missing-role",
    "missing-permission",
    "ip-blocked",
    "db-error",
    "busy"
};

const char *azs_reason_name(azs_reason reason)
{
    if ((unsigned)reason >= sizeof(reason_names) / sizeof(reason_names[0])) {
        return "unknown";
    }
    return reason_names[reason];
}

azs_reason azs_account_state(const azs_user_t *u, apr_int64_t now)
{
    if (u->disabled) {
        return AZS_ACCOUNT_DISABLED;
    }
    if (u->expires != 0 && u->expires <= now) {
        return AZS_ACCOUNT_EXPIRED;
    }
    return AZS_GRANTED;
}

static int verify_plain(const char *pw, const char *hash, void *ctx)
{
    return azs_password_verify(pw, hash);
}

azs_reason azs_login_verify(int found, const azs_user_t *u, const char *pw,
                            apr_int64_t now, azs_verify_fn verify,
                            void *ctx)
{
    apr_time_t start = azs_clock();
    azs_reason why;
    int ok;

    if (!verify) {
        verify = verify_plain;
    }
    if (!found) {
        /* Same work as for a real user: the client must not learn which
         * names exist from the time the answer takes. */
        ok = verify(pw, azs_dummy_hash, ctx);
        why = ok < 0 ? AZS_BUSY : AZS_UNKNOWN_USER;
    }
    else {
        /* The hash is verified before the account state is looked at, for
         * the same reason; the state is reported only to whoever knows the
         * password, so the log says "disabled" only for the right
         * person. */
        ok = verify(pw, u->hash, ctx);
        why = ok < 0 ? AZS_BUSY
              : !ok ? AZS_BAD_PASSWORD
              : azs_account_state(u, now);
    }
    /* Hashes differ in cost ({SHA} takes a microsecond, bcrypt-10 tens of
     * milliseconds): every failure takes at least as long as the dummy
     * hash, or a quick 401 would tell that the name exists.  A success
     * answers at once; a refusal to verify at all (no hash place) is a
     * 503 and verified nothing. */
    if (why != AZS_GRANTED && why != AZS_BUSY) {
        azs_fail_pad(start);
    }
    return why;
}

int azs_login_needs_place(int found, const azs_user_t *u, const char *pw,
                          apr_int64_t now)
{
    if (!found || azs_hash_costly(u->hash)) {
        return 1;
    }
    /* A cheap hash is checked here and now; what will fail must queue as
     * the dummy hash would, or a full server would answer 503 for names
     * that do not exist and 401 at once for those that do. */
    return !azs_password_verify(pw, u->hash)
           || azs_account_state(u, now) != AZS_GRANTED;
}

azs_reason azs_login(azs_store_t *st, const char *user, const char *pw,
                     apr_int64_t now, azs_user_t *u, apr_pool_t *p,
                     azs_verify_fn verify, void *ctx)
{
    azs_rc rc = azs_user_get(st, user, u, p);

    if (rc != AZS_OK && rc != AZS_NOTFOUND) {
        return AZS_DB_ERROR;
    }
    return azs_login_verify(rc == AZS_OK, u, pw, now, verify, ctx);
}
