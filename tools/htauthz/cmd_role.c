/*
 * cmd_role.c - htauthz role: add, del, grant, revoke, inherit,
 * disinherit, list, show.
 */
#include <string.h>

#include "htauthz.h"

/* role add / del ROLE: one name, one write. */
static int role_one(cli_t *c, const char *cmd, int argc,
                    const char *const *argv,
                    azs_rc (*op)(azs_store_t *, const char *))
{
    args_t a;
    const char *role;
    int code;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 1, 1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    audit_start(c, cmd);
    audit_word(c, role);
    if ((code = check_role_name(c, "role", role)) || (code = begin_write(c))) {
        return finish(c, code);
    }
    return finish(c, rc_fail(c, op(c->st, role), role_what(c, role)));
}

int cmd_role_add(cli_t *c, int argc, const char *const *argv)
{
    return role_one(c, "role add", argc, argv, azs_role_add);
}

int cmd_role_del(cli_t *c, int argc, const char *const *argv)
{
    return role_one(c, "role del", argc, argv, azs_role_del);
}

/* role grant / revoke / inherit / disinherit ROLE X...: one transaction
 * for the whole list. */
enum { ROLE_GRANT, ROLE_REVOKE, ROLE_INHERIT, ROLE_DISINHERIT };

static int cmd_role_edit(cli_t *c, int argc, const char *const *argv,
                         int op)
{
    static const char *const cmds[] = {
        "role grant", "role revoke", "role inherit", "role disinherit"
    };
    const char *cmd = cmds[op], *role;
    int inherit = op == ROLE_INHERIT || op == ROLE_DISINHERIT;
    args_t a;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, cmd, argc, argv, NULL, 2, -1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    if ((code = check_role_name(c, "role", role))) {
        return code;
    }
    for (i = 1; i < a.pos->nelts; i++) {
        code = check_role_name(c, inherit ? "role" : "permission",
                               POS(&a, i));
        if (code) {
            return code;
        }
    }
    audit_start(c, cmd);
    for (i = 0; i < a.pos->nelts; i++) {
        audit_word(c, POS(&a, i));
    }
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    if ((r = azs_role_exists(c->st, role)) != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, role_what(c, role)));
    }
    for (i = 1; i < a.pos->nelts; i++) {
        const char *x = POS(&a, i);

        if (inherit && (r = azs_role_exists(c->st, x)) != AZS_RC_OK) {
            return finish(c, rc_fail(c, r, role_what(c, x)));
        }
        switch (op) {
        case ROLE_GRANT:
            r = azs_role_grant(c->st, role, x);
            break;
        case ROLE_REVOKE:
            r = azs_role_revoke(c->st, role, x);
            break;
        case ROLE_INHERIT:
            r = azs_role_inherit(c->st, role, x);
            if (r == AZS_RC_INVALID) {
                return finish(c, fail(EX_FAIL, "role %s cannot inherit %s: "
                                      "that would make a cycle",
                                      show(c->p, role), show(c->p, x)));
            }
            break;
        default:
            r = azs_role_disinherit(c->st, role, x);
            break;
        }
        /* Already there, or already gone: the wanted state is there. */
        if (r != AZS_RC_OK && r != AZS_RC_EXISTS && r != AZS_RC_NOTFOUND) {
            return finish(c, rc_fail(c, r, show(c->p, x)));
        }
    }
    return finish(c, EX_OK);
}

int cmd_role_grant(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_GRANT);
}

int cmd_role_revoke(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_REVOKE);
}

int cmd_role_inherit(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_INHERIT);
}

int cmd_role_disinherit(cli_t *c, int argc, const char *const *argv)
{
    return cmd_role_edit(c, argc, argv, ROLE_DISINHERIT);
}

int cmd_role_list(cli_t *c, int argc, const char *const *argv)
{
    apr_array_header_t *roles;
    int code, i, json;

    if ((code = begin_list(c, "role list", argc, argv, &json))) {
        return finish(c, code);
    }
    if (azs_role_list(c->st, c->p, &roles) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    list_open(json, NULL);
    for (i = 0; i < roles->nelts; i++) {
        const char *role = APR_ARRAY_IDX(roles, i, const char *);
        apr_array_header_t *perms, *inherits, *members;
        apr_pool_t *sp;

        apr_pool_create(&sp, c->p);
        if (azs_role_detail(c->st, role, sp, &perms, &inherits, &members)
            != AZS_RC_OK) {
            if (json) {
                putchar('\n');
            }
            return finish(c, db_error(c));
        }
        if (json) {
            json_item(i, "name");
            json_str(role);
            fputs(", \"inherits\": ", stdout);
            json_names(inherits);
            fputs(", \"permissions\": ", stdout);
            json_names(perms);
            printf(", \"members\": %d}", members->nelts);
        }
        else {
            printf("%s  inherits: %s  permissions: %s  members: %d\n",
                   plain(sp, role), join(sp, inherits), join(sp, perms),
                   members->nelts);
        }
        apr_pool_destroy(sp);
    }
    list_close(json, roles->nelts);
    return finish(c, EX_OK);
}

int cmd_role_show(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *perms, *inherits, *members, *all, *queue, *heirs;
    apr_hash_t *seen, *allperms;
    const char *role;
    azs_rc r;
    int code, i, head = 0;

    if ((code = parse_args(c, "role show", argc, argv, json_opt, 1, 1, &a))) {
        return code;
    }
    role = POS(&a, 0);
    if ((code = check_role_name(c, "role", role)) || (code = begin_read(c))) {
        return finish(c, code);
    }
    r = azs_role_detail(c->st, role, c->p, &perms, &inherits, &members);
    if (r != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, role_what(c, role)));
    }
    /* Everything the role carries, inherited included: walk its parents
     * (cycles are refused when written; seen guards anyway). */
    seen = apr_hash_make(c->p);
    allperms = apr_hash_make(c->p);
    queue = apr_array_make(c->p, 8, sizeof(const char *));
    APR_ARRAY_PUSH(queue, const char *) = role;
    apr_hash_set(seen, role, APR_HASH_KEY_STRING, role);
    while (head < queue->nelts) {
        const char *cur = APR_ARRAY_IDX(queue, head++, const char *);
        const char *chain = apr_hash_get(seen, cur, APR_HASH_KEY_STRING);
        apr_array_header_t *pp, *ii, *mm;

        if (azs_role_detail(c->st, cur, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return finish(c, db_error(c));
        }
        for (i = 0; i < pp->nelts; i++) {
            const char *pn = APR_ARRAY_IDX(pp, i, const char *);

            if (!apr_hash_get(allperms, pn, APR_HASH_KEY_STRING)) {
                apr_hash_set(allperms, pn, APR_HASH_KEY_STRING, chain);
            }
        }
        for (i = 0; i < ii->nelts; i++) {
            const char *rn = APR_ARRAY_IDX(ii, i, const char *);

            if (!apr_hash_get(seen, rn, APR_HASH_KEY_STRING)) {
                apr_hash_set(seen, rn, APR_HASH_KEY_STRING,
                             apr_pstrcat(c->p, chain, " > ", rn, NULL));
                APR_ARRAY_PUSH(queue, const char *) = rn;
            }
        }
    }
    /* Roles that inherit this one directly. */
    heirs = apr_array_make(c->p, 4, sizeof(const char *));
    if (azs_role_list(c->st, c->p, &all) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    for (i = 0; i < all->nelts; i++) {
        const char *rn = APR_ARRAY_IDX(all, i, const char *);
        apr_array_header_t *pp, *ii, *mm;
        int j;

        if (azs_role_detail(c->st, rn, c->p, &pp, &ii, &mm) != AZS_RC_OK) {
            return finish(c, db_error(c));
        }
        for (j = 0; j < ii->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(ii, j, const char *), role)) {
                APR_ARRAY_PUSH(heirs, const char *) = rn;
            }
        }
    }
    if (apr_table_get(a.opt, "--json")) {
        fputs("{\"name\": ", stdout);
        json_str(role);
        fputs(",\n \"inherits\": ", stdout);
        json_names(inherits);
        fputs(",\n \"inherited_by\": ", stdout);
        json_names(heirs);
        fputs(",\n \"permissions\": ", stdout);
        json_names(perms);
        fputs(",\n \"all_permissions\": ", stdout);
        json_chains(c->p, allperms, "permission");
        fputs(",\n \"members\": ", stdout);
        json_names(members);
        fputs("}\n", stdout);
        return finish(c, EX_OK);
    }
    printf("role:         %s\n", plain(c->p, role));
    printf("inherits:     %s\n", join(c->p, inherits));
    printf("inherited by: %s\n", join(c->p, heirs));
    printf("permissions:  %s\n", join(c->p, perms));
    printf("members:      %s\n", join(c->p, members));
    text_chains(c->p, "all permissions:", allperms);
    return finish(c, EX_OK);
}
