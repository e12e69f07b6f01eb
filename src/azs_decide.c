/*
 * azs_decide.c - the decisions, apart from where the answer goes.
 */
#include "azs.h"

/* The one table of reasons: the keyword of the log line and of the
 * status table (doc/log-messages.md; names users grep for, never to
 * change), the status it answers by default, and the line's message id.
 * Designated: a reason missing from the middle leaves a NULL keyword,
 * which test_decide.c catches; one missing from the end makes the table
 * shorter than the enum, which the check below refuses to compile. */
static const azs_reason_info_t reasons[] = {
    [AZS_REASON_GRANTED]            = {"granted",               200, "AZS0100"},
    [AZS_REASON_UNKNOWN_USER]       = {"unknown-user",          401, "AZS0101"},
    [AZS_REASON_BAD_PASSWORD]       = {"bad-password",          401, "AZS0102"},
    [AZS_REASON_ACCOUNT_DISABLED]   = {"account-disabled",      401, "AZS0103"},
    [AZS_REASON_ACCOUNT_EXPIRED]    = {"account-expired",       401, "AZS0104"},
    [AZS_REASON_TOKEN_UNKNOWN]      = {"token-unknown",         401, "AZS0201"},
    [AZS_REASON_TOKEN_EXPIRED]      = {"token-expired",         401, "AZS0202"},
    [AZS_REASON_TOKEN_REVOKED]      = {"token-revoked",         401, "AZS0203"},
    [AZS_REASON_MALFORMED]          = {"malformed-credentials", 400, "AZS0105"},
    [AZS_REASON_MISSING_ROLE]       = {"missing-role",          403, "AZS0301"},
    [AZS_REASON_MISSING_PERMISSION] = {"missing-permission",    403, "AZS0302"},
    [AZS_REASON_IP_BLOCKED]         = {"ip-blocked",            403, "AZS0401"},
    [AZS_REASON_DB_ERROR]           = {"db-error",              500, "AZS0501"},
    [AZS_REASON_BUSY]               = {"busy",                  503, "AZS0110"},
    [AZS_REASON_THROTTLED]          = {"throttled",             429, "AZS0402"},
};

typedef char azs_reasons_complete[
    sizeof(reasons) / sizeof(reasons[0]) == AZS_REASON_COUNT ? 1 : -1];

static const azs_reason_info_t no_reason = {"unknown", 500, "AZS0000"};

const azs_reason_info_t *azs_reason_info(azs_reason reason)
{
    if ((unsigned)reason >= AZS_REASON_COUNT || !reasons[reason].keyword) {
        return &no_reason;
    }
    return &reasons[reason];
}

int azs_reason_is_failed_login(azs_reason reason)
{
    switch (reason) {
    case AZS_REASON_UNKNOWN_USER:
    case AZS_REASON_BAD_PASSWORD:
    case AZS_REASON_ACCOUNT_DISABLED:
    case AZS_REASON_ACCOUNT_EXPIRED:
    case AZS_REASON_TOKEN_UNKNOWN:
    case AZS_REASON_TOKEN_EXPIRED:
    case AZS_REASON_TOKEN_REVOKED:
    case AZS_REASON_MALFORMED:
        return 1;
    default:
        return 0;
    }
}

const char *azs_reason_name(azs_reason reason)
{
    return azs_reason_info(reason)->keyword;
}

azs_reason azs_account_state(const azs_user_t *u, apr_int64_t now)
{
    if (u->disabled) {
        return AZS_REASON_ACCOUNT_DISABLED;
    }
    if (u->expires != 0 && u->expires <= now) {
        return AZS_REASON_ACCOUNT_EXPIRED;
    }
    return AZS_REASON_GRANTED;
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
        why = ok < 0 ? AZS_REASON_BUSY : AZS_REASON_UNKNOWN_USER;
    }
    else {
        /* The hash is verified before the account state is looked at, for
         * the same reason; the state is reported only to whoever knows the
         * password, so the log says "disabled" only for the right
         * person. */
        ok = verify(pw, u->hash, ctx);
        why = ok < 0 ? AZS_REASON_BUSY
              : !ok ? AZS_REASON_BAD_PASSWORD
              : azs_account_state(u, now);
    }
    /* Hashes differ in cost ({SHA} takes a microsecond, bcrypt-10 tens of
     * milliseconds): every failure takes at least as long as the dummy
     * hash, or a quick 401 would tell that the name exists.  A success
     * answers at once; a refusal to verify at all (no hash place) is a
     * 503 and verified nothing. */
    if (why != AZS_REASON_GRANTED && why != AZS_REASON_BUSY) {
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
           || azs_account_state(u, now) != AZS_REASON_GRANTED;
}

azs_reason azs_login(azs_store_t *st, const char *user, const char *pw,
                     apr_int64_t now, azs_user_t *u, apr_pool_t *p,
                     azs_verify_fn verify, void *ctx)
{
    azs_rc rc = azs_user_get(st, user, u, p);

    if (rc != AZS_RC_OK && rc != AZS_RC_NOTFOUND) {
        return AZS_REASON_DB_ERROR;
    }
    return azs_login_verify(rc == AZS_RC_OK, u, pw, now, verify, ctx);
}
