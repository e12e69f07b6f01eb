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
    int ok;

    if (!verify) {
        verify = verify_plain;
    }
    if (!found) {
        /* Same work as for a real user: the client must not learn which
         * names exist from the time the answer takes. */
        return verify(pw, azs_dummy_hash, ctx) < 0 ? AZS_BUSY
                                                   : AZS_UNKNOWN_USER;
    }
    /* The hash is verified before the account state is looked at, for the
     * same reason; the state is reported only to whoever knows the
     * password, so the log says "disabled" only for the right person. */
    ok = verify(pw, u->hash, ctx);
    if (ok < 0) {
        return AZS_BUSY;
    }
    if (!ok) {
        return AZS_BAD_PASSWORD;
    }
    return azs_account_state(u, now);
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
