/*
 * cmd_token.c - htauthz token: issue, revoke, list.
 */
#include <errno.h>
#include <string.h>

#include "htauthz.h"

int cmd_token_issue(cli_t *c, int argc, const char *const *argv)
{
    static const optdef defs[] = {
        {"--expires", 1, 0}, {"--scope", 1, 1}, {"--label", 1, 0},
        {NULL, 0, 0}
    };
    args_t a;
    azs_user_t u;
    apr_hash_t *roles, *perms;
    apr_array_header_t *scopes;
    const apr_array_header_t *opts;
    const char *name, *label, *token = NULL;
    unsigned char hash[AZS_SHA256_LEN];
    apr_int64_t expires = 0, id = 0;
    azs_rc r;
    int code, i;

    if ((code = parse_args(c, "token issue", argc, argv, defs, 1, 1, &a))
        || (code = parse_expires(c, "token issue", &a, &expires))) {
        return code;
    }
    name = POS(&a, 0);
    label = apr_table_get(a.opt, "--label");
    if ((code = check_user_name(c, name))
        || (label && (code = check_text("label", label)))) {
        return code;
    }
    scopes = apr_array_make(c->p, 4, sizeof(const char *));
    opts = apr_table_elts(a.opt);
    for (i = 0; i < opts->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(opts, i,
                                                    apr_table_entry_t);

        if (!strcmp(e->key, "--scope")) {
            if ((code = check_role_name(c, "permission", e->val))) {
                return code;
            }
            APR_ARRAY_PUSH(scopes, const char *) = e->val;
        }
    }
    audit_start(c, "token issue");
    audit_word(c, name);
    if (apr_table_get(a.opt, "--expires")) {
        audit_time(c, "--expires", expires);
    }
    for (i = 0; i < scopes->nelts; i++) {
        audit_opt(c, "--scope", APR_ARRAY_IDX(scopes, i, const char *));
    }
    audit_opt(c, "--label", label);
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    if ((r = azs_user_get(c->st, name, &u, c->p)) != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, user_what(c, name)));
    }
    if (azs_user_effective(c->st, u.id, c->p, &roles, &perms) != AZS_RC_OK) {
        return finish(c, db_error(c));
    }
    for (i = 0; i < scopes->nelts; i++) {
        const char *perm = APR_ARRAY_IDX(scopes, i, const char *);

        if (!apr_hash_get(perms, perm, APR_HASH_KEY_STRING)) {
            return finish(c, fail(EX_FAIL, "user %s does not hold permission "
                                  "%s (a token's scopes are a subset of its "
                                  "user's permissions)", show(c->p, name),
                                  show(c->p, perm)));
        }
    }
    if (azs_token_generate(c->p, &token) != AZS_RC_OK) {
        return finish(c, fail(EX_FAIL, "cannot generate a token"));
    }
    azs_token_hash(hash, token);
    r = azs_token_add(c->st, name, hash, label ? label : "", expires, scopes,
                      &id);
    if (r != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, "token"));
    }
    /* The token's id, never the token. */
    audit_fact(c, "id=%" APR_INT64_T_FMT, id);
    /* Printed only once it is stored for good. */
    code = finish(c, EX_OK);
    if (code == EX_OK) {
        printf("%s\n%" APR_INT64_T_FMT "\n", token, id);
        if (fflush(stdout) != 0) {
            code = fail(EX_FAIL, "cannot write the token: %s",
                        strerror(errno));
        }
    }
    explicit_bzero((char *)token, strlen(token));
    return code;
}

static int parse_id(cli_t *c, const char *text, apr_int64_t *id)
{
    char *endp;

    errno = 0;
    *id = apr_strtoi64(text, &endp, 10);
    if (!*text || *endp || errno || *id <= 0 || text[0] == '+'
        || text[0] == '-' || text[0] == ' ') {
        return usage("token revoke: invalid token id %s", show(c->p, text));
    }
    return EX_OK;
}

int cmd_token_revoke(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_int64_t id;
    int code;

    if ((code = parse_args(c, "token revoke", argc, argv, NULL, 1, 1, &a))
        || (code = parse_id(c, POS(&a, 0), &id))) {
        return finish(c, code);
    }
    audit_start(c, "token revoke");
    audit_fact(c, "%" APR_INT64_T_FMT, id);
    if ((code = begin_write(c))) {
        return finish(c, code);
    }
    return finish(c, rc_fail(c, azs_token_revoke(c->st, id, azs_now()),
                             apr_psprintf(c->p, "token %" APR_INT64_T_FMT,
                                          id)));
}

static const char *token_state(const azs_token_t *t, apr_int64_t now)
{
    if (t->revoked) {
        return "revoked";
    }
    if (t->expires && t->expires <= now) {
        return "expired";
    }
    return "active";
}

int cmd_token_list(cli_t *c, int argc, const char *const *argv)
{
    args_t a;
    apr_array_header_t *tokens;
    const char *user = NULL;
    apr_int64_t now = azs_now();
    azs_rc r;
    int code, i, json;

    if ((code = parse_args(c, "token list", argc, argv, json_opt, 0, 1, &a))) {
        return code;
    }
    if (a.pos->nelts && (code = check_user_name(c, user = POS(&a, 0)))) {
        return code;
    }
    if ((code = begin_read(c))) {
        return finish(c, code);
    }
    json = apr_table_get(a.opt, "--json") != NULL;
    if ((r = azs_token_list(c->st, user, c->p, &tokens)) != AZS_RC_OK) {
        return finish(c, rc_fail(c, r, user ? user_what(c, user) : "token"));
    }
    list_open(json, apr_psprintf(c->p, "%-6s  %-16s  %-7s  %-20s  %-20s  "
                                 "%s  %s\n", "ID", "USER", "STATE",
                                 "CREATED", "EXPIRES", "SCOPES", "LABEL"));
    for (i = 0; i < tokens->nelts; i++) {
        azs_token_t *t = &APR_ARRAY_IDX(tokens, i, azs_token_t);

        if (json) {
            json_item(i, "id");
            printf("%" APR_INT64_T_FMT, t->id);
            json_text("user", t->user);
            json_text("label", t->label);
            printf(", \"state\": \"%s\"", token_state(t, now));
            json_time(c->p, "created", t->created);
            json_time(c->p, "expires", t->expires);
            json_time(c->p, "revoked", t->revoked);
            fputs(", \"scopes\": ", stdout);
            json_names(t->scopes);
            putchar('}');
        }
        else {
            printf("%-6" APR_INT64_T_FMT "  %-16s  %-7s  %-20s  %-20s  %s  "
                   "%s\n", t->id, plain(c->p, t->user), token_state(t, now),
                   azs_time_format(c->p, t->created),
                   azs_time_format(c->p, t->expires),
                   t->scopes->nelts ? join(c->p, t->scopes) : "(all)",
                   *t->label ? plain(c->p, t->label) : "-");
        }
    }
    list_close(json, tokens->nelts);
    return finish(c, EX_OK);
}
