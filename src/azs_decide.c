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

azs_reason azs_login(azs_store_t *st, const char *user, const char *pw,
                     apr_int64_t now, azs_user_t *u, apr_pool_t *p)
{
    azs_rc rc = azs_user_get(st, user, u, p);
    int ok;

    if (rc == AZS_NOTFOUND) {
        /* Same work as for a real user: the client must not learn which
         * names exist from the time the answer takes. */
        azs_password_verify(pw, azs_dummy_hash);
        return AZS_UNKNOWN_USER;
    }
    if (rc != AZS_OK) {
        return AZS_DB_ERROR;
    }
    /* The hash is verified before the account state is looked at, for the
     * same reason; the state is reported only to whoever knows the
     * password, so the log says "disabled" only for the right person. */
    ok = azs_password_verify(pw, u->hash);
    if (!ok) {
        return AZS_BAD_PASSWORD;
    }
    return azs_account_state(u, now);
}
