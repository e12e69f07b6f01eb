/*
 * cmd_user.c - htauthz user: add, passwd, disable, enable, expire, grant,
 * revoke, del; list and show.
 */
#include <string.h>

#include "htauthz.h"

/*
 * user add and user passwd look the user up before the prompt, so that
 * nobody types a password in vain, but in a read of their own: the writer
 * lock is taken only once the password is typed and hashed, or a prompt
 * left waiting would hold up every other write (a revocation included).
 * The write itself still refuses a user added or deleted in between.
 */
static int user_probe(cli_t *c, const char *name, int want)
{
    azs_user_t u;
    azs_rc r;
    int code = begin_read(c);

    if (code == EX_OK) {
        r = azs_user_get(c->st, name, &u, c->p);
        if (r == AZS_RC_DBERR) {
            code = db_error(c);
        }
        else if ((r == AZS_RC_OK) != want) {
            code = rc_fail(c, want ? AZS_RC_NOTFOUND : AZS_RC_EXISTS,
                           user_what(c, name));
        }
    }
    return finish(c, code);
}

/* user add and user passwd: the password typed and hashed, then one
 * write. */
static int user_password(cli_t *c, int argc, const char *const *argv,
                         int add)
{
    static const optdef add_defs[] = {
        {"--password-stdin", 0, 0}, {"--expires", 1, 0},
        {"--disabled", 0, 0}, {NULL, 0, 0}
    };
    static const optdef passwd_defs[] = {
        {"--password-stdin", 0, 0}, {NULL, 0, 0}
    };
    const char *cmd = add ? "user add" : "user passwd";
    args_t a;
    const char *name, *hash = NULL;
    apr_int64_t expires = 0;
    azs_rc r;
    int code;

    if ((code = parse_args(c, cmd, argc, argv, add ? add_defs : passwd_defs,
                           1, 1, &a))
        || (code = parse_expires(c, cmd, &a, &expires))) {
        return code;
    }
    name = POS(&a, 0);
    audit_start(c, cmd);
    audit_word(c, name);
    if (add) {
        if (apr_table_get(a.opt, "--expires")) {
            audit_time(c, "--expires", expires);
        }
        audit_opt(c, "--disabled", apr_table_get(a.opt, "--disabled"));
    }
    if ((code = check_user_name(c, name))
        || (code = user_probe(c, name, !add))
        || (code = new_hash(c, apr_table_get(a.opt, "--password-stdin")
                               != NULL, &hash))
        || (code = begin_write(c))) {
        return finish(c, code);
    }
    r = add ? azs_user_add(c->st, name, hash,
                           apr_table_get(a.opt, "--disabled") != NULL,
                           expires)
            : azs_user_set_hash(c->st, name, hash);
    return finish(c, rc_fail(c, r, user_what(c, name)));
}

int cmd_user_add(cli_t *c, int argc, const char *const *argv)
{
    return user_password(c, argc, argv, 1);
}

int cmd_user_passwd(cli_t *c, int argc, const char *const *argv)
{
    return user_password(c, argc, argv, 0);
}

/* disable, enable, expire, del: one write to one user, who must exist. */
enum { USER_DISABLE, USER_EXPIRE, USER_DEL };

static int user_set(cli_t *c, const char *cmd, const char *name, int op,
                    apr_int64_t value)
{
    azs_rc r;
    int code;

    audit_start(c, cmd);
    audit_word(c, name);
    if (op == USER_EXPIRE) {
        audit_word(c, azs_time_format(c->p, value));
    }
    if ((code = check_user_name(c, name)) || (code = begin_write(c))) {
        return finish(c, code);
    }
    switch (op) {
    case USER_DISABLE:
        r = azs_user_set_disabled(c->st, name, value != 0);
        break;
    case USER_EXPIRE:
        r = azs_user_set_expires(c->st, name, value);
        break;
    default:
        r = azs_user_del(c->st, name);
        break;
    }
    return finish(c, rc_fail(c, r, user_what(c, name)));
}

static int cmd_user_state(cli_t *c, int argc, const char *const *argv,
                          const char *cmd, int disable)
{
    args_t a;
    int code;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    return user_set(c, cmd, POS(&a, 0), USER_DISABLE, disable);
}

int cmd_user_disable(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_state(c, argc, argv, "user disable", 1);
}

int cmd_user_enable(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_state(c, argc, argv, "user enable", 0);
}

int cmd_user_expire(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_int64_t when;
    int code;

    if ((code = parse_args(c, "user expire", argc, argv, NULL, 1, 2, &a))
        || (code = parse_when(c, "user expire",
                              a.pos->nelts > 1 ? POS(&a, 1) : "now",
                              &when))) {
        return code;
    }
    return user_set(c, "user expire", POS(&a, 0), USER_EXPIRE, when);
}

/* user grant / user revoke: the user and every role must exist. */
static int cmd_user_roles(cli_t *c, int argc, const char *const *argv,
                          int grant)
{
    const char *cmd = grant ? "user grant" : "user revoke";
    args_t a;
    azs_user_t u;
    const char *name;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 2, -1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name))) {
        return code;
    }
    audit_start(c, cmd);
    audit_word(c, name);
    for (i = 1; i < a.pos->nelts; i++) {
        if ((code = check_role_name(c, "role", POS(&a, i)))) {
            return code;
        }
        audit_word(c, POS(&a, i));
    }
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, user_what(c, name)));
    }
    for (i = 1; i < a.pos->nelts; i++) {
        const char *role = POS(&a, i);

        if ((r = azs_role_exists(c->st, role)) != AZS_RC_OK) {
            return finish(c, rc_fail(c, r, role_what(c, role)));
        }
        r = grant ? azs_user_grant(c->st, name, role)
                  : azs_user_revoke(c->st, name, role);
        /* Already held, or not held: the wanted state is there. */
        if (r != AZS_RC_OK && r != AZS_RC_EXISTS && r != AZS_RC_NOTFOUND) {
            return finish(c, rc_fail(c, r, role_what(c, role)));
        }
    }
    return finish(c, EX_OK);
}

int cmd_user_grant(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_roles(c, argc, argv, 1);
}

int cmd_user_revoke(cli_t *c, int argc, const char *const *argv)
{
    return cmd_user_roles(c, argc, argv, 0);
}

int cmd_user_del(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    int code;

    if ((code = parse_args(c, "user del", argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    return user_set(c, "user del", POS(&a, 0), USER_DEL, 0);
}

/* ---- list and show ------------------------------------------------------ */

static const char *user_state(const azs_user_t *u, apr_int64_t now)
{
    switch (azs_account_state(u, now)) {
    case AZS_REASON_ACCOUNT_DISABLED:
        return "disabled";
    case AZS_REASON_ACCOUNT_EXPIRED:
        return "expired";
    default:
        return "active";
    }
}

/* The JSON of a user, from the value of "name" to "updated". */
static void json_user(apr_pool_t *p, const azs_user_t *u, apr_int64_t now)
{
    json_str(u->name);
    printf(", \"state\": \"%s\", \"disabled\": %s", user_state(u, now),
           u->disabled ? "true" : "false");
    json_time(p, "expires", u->expires);
    json_time(p, "created", u->created);
    json_time(p, "updated", u->updated);
}

/* The hash's kind, "!" after a weak one (azs_hash_kind). */
static const char *hash_shown(apr_pool_t *p, const azs_user_t *u)
{
    int weak;
    const char *kind = azs_hash_kind(p, u->hash, &weak);

    return weak ? apr_pstrcat(p, kind, "!", NULL) : kind;
}

/* JSON: the hash's kind and whether it is weak, never the hash. */
static void json_hash(apr_pool_t *p, const azs_user_t *u)
{
    int weak;

    json_text("hash_kind", azs_hash_kind(p, u->hash, &weak));
    printf(", \"hash_weak\": %s", weak ? "true" : "false");
}

int cmd_user_list(cli_t *c, int argc, const char *const *argv)
{
    apr_array_header_t *users, *roles;
    const char **shown = NULL;
    apr_int64_t now = azs_now();
    int code, i, json, width = 4, rwidth = 5;

    if ((code = begin_list(c, "user list", argc, argv, &json))) {
        return finish(c, code);
    }
    if (azs_user_list(c->st, c->p, &users) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    if (!json) {
        /* Every user's roles first: the column is as wide as they are. */
        shown = apr_pcalloc(c->p, (users->nelts + 1) * sizeof(*shown));
    }
    for (i = 0; i < users->nelts; i++) {
        azs_user_t *u = &APR_ARRAY_IDX(users, i, azs_user_t);
        int n = (int)strlen(plain(c->p, u->name));

        width = n > width ? (n > 32 ? 32 : n) : width;
        if (json) {
            continue;
        }
        if (azs_user_roles(c->st, u->id, c->p, &roles) != AZS_RC_OK) {
            return finish(c, db_error(c));
        }
        shown[i] = join(c->p, roles);
        n = (int)strlen(shown[i]);
        rwidth = n > rwidth ? (n > 40 ? 40 : n) : rwidth;
    }
    /* HASH is last, after ROLES (no space in either): a script that
     * reads the first four columns reads the same. */
    list_open(json, apr_psprintf(c->p, "%-*s  %-8s  %-20s  %-*s  %s\n",
                                 width, "NAME", "STATE", "EXPIRES", rwidth,
                                 "ROLES", "HASH"));
    for (i = 0; i < users->nelts; i++) {
        azs_user_t *u = &APR_ARRAY_IDX(users, i, azs_user_t);
        apr_pool_t *sp;

        apr_pool_create(&sp, c->p);
        if (!json) {
            printf("%-*s  %-8s  %-20s  %-*s  %s\n", width,
                   plain(sp, u->name), user_state(u, now),
                   azs_time_format(sp, u->expires), rwidth, shown[i],
                   hash_shown(sp, u));
            apr_pool_destroy(sp);
            continue;
        }
        if (azs_user_roles(c->st, u->id, sp, &roles) != AZS_RC_OK) {
            putchar('\n');
            return finish(c, db_error(c));
        }
        json_item(i, "name");
        json_user(sp, u, now);
        json_hash(sp, u);
        fputs(", \"roles\": ", stdout);
        json_names(roles);
        putchar('}');
        apr_pool_destroy(sp);
    }
    list_close(json, users->nelts);
    return finish(c, EX_OK);
}

int cmd_user_show(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    azs_user_t u;
    apr_array_header_t *roles;
    apr_hash_t *eroles, *eperms;
    const char *name;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code;

    if ((code = parse_args(c, "user show", argc, argv, json_opt, 1, 1, &a))) {
        return code;
    }
    name = POS(&a, 0);
    if ((code = check_user_name(c, name)) || (code = begin_read(c))) {
        return finish(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, user_what(c, name)));
    }
    if (azs_user_roles(c->st, u.id, c->p, &roles) != AZS_RC_OK
        || azs_user_effective(c->st, u.id, c->p, &eroles, &eperms)
           != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    if (apr_table_get(a.opt, "--json")) {
        fputs("{\"name\": ", stdout);
        json_user(c->p, &u, now);
        json_hash(c->p, &u);
        fputs(",\n \"roles\": ", stdout);
        json_names(roles);
        fputs(",\n \"effective_roles\": ", stdout);
        json_chains(c->p, eroles, "role");
        fputs(",\n \"permissions\": ", stdout);
        json_chains(c->p, eperms, "permission");
        fputs("}\n", stdout);
        return finish(c, EX_OK);
    }
    printf("user:        %s\n", plain(c->p, u.name));
    printf("state:       %s\n", user_state(&u, now));
    printf("disabled:    %s\n", u.disabled ? "yes" : "no");
    printf("expires:     %s\n", azs_time_format(c->p, u.expires));
    printf("created:     %s\n", azs_time_format(c->p, u.created));
    printf("updated:     %s\n", azs_time_format(c->p, u.updated));
    printf("hash:        %s\n", hash_shown(c->p, &u));
    printf("roles:       %s\n", join(c->p, roles));
    text_chains(c->p, "effective roles:", eroles);
    text_chains(c->p, "permissions:", eperms);
    return finish(c, EX_OK);
}
