/*
 * cmd_check.c - htauthz check: the decision for a user and a permission,
 * explained.
 */
#include <string.h>

#include "htauthz.h"

int cmd_check(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_user_t u;
    apr_hash_t *roles, *perms;
    apr_array_header_t *all, *granters;
    const char *name, *perm, *chain;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code, i, j;

    if ((code = parse_args(c, "check", argc, argv, NULL, 2, 2, &a))) {
        return code;
    }
    name = POS(&a, 0);
    perm = POS(&a, 1);
    if ((code = check_user_name(c, name))
        || (code = check_role_name(c, "permission", perm))
        || (code = begin_read(c))) {
        return finish(c, code);
    }
    r = azs_user_get(c->st, name, &u, c->p);
    if (r == AZS_RC_NOTFOUND) {
        return finish(c, fail(EX_FAIL, "denied: unknown user %s",
                              show(c->p, name)));
    }
    if (r != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    switch (azs_account_state(&u, now)) {
    case AZS_REASON_ACCOUNT_DISABLED:
        return finish(c, fail(EX_FAIL, "denied: user %s is disabled",
                              show(c->p, name)));
    case AZS_REASON_ACCOUNT_EXPIRED:
        return finish(c, fail(EX_FAIL, "denied: user %s expired on %s",
                              show(c->p, name),
                              azs_time_format(c->p, u.expires)));
    default:
        break;
    }
    if (azs_user_effective(c->st, u.id, c->p, &roles, &perms) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    chain = apr_hash_get(perms, perm, APR_HASH_KEY_STRING);
    if (chain) {
        printf("granted: user %s has permission %s through role %s\n",
               show(c->p, name), show(c->p, perm), plain(c->p, chain));
        return finish(c, EX_OK);
    }
    /* Denied: say which roles would have granted it, if any. */
    if (azs_role_list(c->st, c->p, &all) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    granters = apr_array_make(c->p, 4, sizeof(const char *));
    for (i = 0; i < all->nelts; i++) {
        const char *rn = APR_ARRAY_IDX(all, i, const char *);
        apr_array_header_t *pp, *ii, *mm;

        if (azs_role_detail(c->st, rn, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return finish(c, db_error(c));
        }
        for (j = 0; j < pp->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(pp, j, const char *), perm)) {
                APR_ARRAY_PUSH(granters, const char *) = rn;
            }
        }
    }
    if (granters->nelts == 0) {
        return finish(c, fail(EX_FAIL, "denied: no such permission: no role "
                              "grants %s", show(c->p, perm)));
    }
    return finish(c, fail(EX_FAIL, "denied: user %s lacks permission %s "
                          "(granted by role %s; user holds %s)",
                          show(c->p, name), show(c->p, perm),
                          join(c->p, granters),
                          apr_hash_count(roles)
                          ? join(c->p, sorted_keys(c->p, roles))
                          : "no role"));
}
