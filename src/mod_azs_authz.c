/*
 * mod_azs_authz.c - "Require role" and "Require permission".
 *
 * Arguments are ap_expr string expressions, parsed once when the
 * configuration is read.  mod_authz_core calls a provider before
 * authentication (r->user NULL: we answer DENIED_NO_USER so it
 * authenticates) and after; the user's roles and permissions are read
 * once per request (azs_req_user).
 */
#include "mod_azs.h"

#include "apr_strings.h"

typedef struct {
    apr_array_header_t *exprs;   /* const ap_expr_info_t * */
    int negated;                 /* under "Require not" or <RequireNone> */
} azs_require;

static const char *parse_require(cmd_parms *cmd, const char *line,
                                 const void **parsed)
{
    azs_require *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *word, *err = NULL;
    ap_expr_info_t *expr;

    req->exprs = apr_array_make(cmd->pool, 2, sizeof(ap_expr_info_t *));
    while (*(word = ap_getword_conf(cmd->temp_pool, &line))) {
        expr = ap_expr_parse_cmd(cmd, word, AP_EXPR_FLAG_STRING_RESULT,
                                 &err, NULL);
        if (err) {
            return apr_psprintf(cmd->pool, "Cannot parse expression in "
                                "require line '%s': %s", word, err);
        }
        APR_ARRAY_PUSH(req->exprs, ap_expr_info_t *) = expr;
    }
    if (req->exprs->nelts == 0) {
        return "Require role/permission needs at least one name";
    }
    req->negated = azs_compat_require_negated(cmd);
    *parsed = req;
    /* 403, not 401, to a user we know who fails this line: unless the
     * section says AuthzStatusForbiddenOnFailure Off (read here when it
     * came first; the directive sets it itself when it comes later). */
    if (cmd->context) {
        azs_dir_conf *c = ap_get_module_config(cmd->context,
                                               &authz_status_module);

        if (!c || c->forbidden != 0) {
            return azs_compat_set_forbidden(cmd, 1);
        }
    }
    return NULL;
}

/* The Bearer scope check: a token limits its user's permissions. */
static int token_allows(const azs_req *q, const char *perm)
{
    int i;

    if (!q->token || q->token->scopes->nelts == 0) {
        return 1;
    }
    for (i = 0; i < q->token->scopes->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(q->token->scopes, i, const char *),
                   perm) == 0) {
            return 1;
        }
    }
    return 0;
}

static authz_status check(request_rec *r, const void *parsed, int is_perm)
{
    const azs_require *req = parsed;
    azs_req *q;
    const char *names = NULL;
    int i;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (azs_dir(r)->forbidden == 0) {
        azs_compat_forbidden_off(r);
    }
    q = azs_req_get(r);
    if (azs_req_user(r, r->user) != APR_SUCCESS) {
        return AUTHZ_GENERAL_ERROR;
    }
    for (i = 0; i < req->exprs->nelts; i++) {
        const char *err = NULL;
        const char *name = ap_expr_str_exec(r, APR_ARRAY_IDX(req->exprs, i,
                                            const ap_expr_info_t *), &err);
        const char *chain;

        if (err) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AZS0303: cannot "
                          "evaluate require expression: %s", err);
            return AUTHZ_GENERAL_ERROR;
        }
        chain = azs_req_holds(r, is_perm, name);
        if (chain && (!is_perm || token_allows(q, name))) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0304: granted: "
                          "user \"%s\" holds %s %s (through %s) for \"%s\"",
                          azs_escape(r->pool, r->user, 256),
                          is_perm ? "permission" : "role",
                          azs_escape(r->pool, name, 256),
                          azs_escape(r->pool, chain, 512),
                          azs_escape(r->pool, r->uri, 256));
            /* Under a negation this "yes" is a refusal. */
            if (!req->negated) {
                q->authz_granted = 1;
            }
            return AUTHZ_GRANTED;
        }
        names = names ? apr_pstrcat(r->pool, names, " ", name, NULL) : name;
    }
    if (req->negated) {
        /* Under a negation this "no" lets the request through; a "yes"
         * denies it, and mod_authz_core logs that (AH01630/AH01631). */
        return AUTHZ_DENIED;
    }
    azs_defer_scope(r, names);
    names = apr_pstrcat(r->pool, is_perm ? "requires permission "
                                         : "requires role ",
                        azs_escape(r->pool, names, 512), NULL);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0305: denied: user "
                  "\"%s\" %s", azs_escape(r->pool, r->user, 256), names);
    azs_defer_denial(r, HTTP_FORBIDDEN, is_perm ? AZS_REASON_MISSING_PERMISSION
                                                : AZS_REASON_MISSING_ROLE,
                     r->user, names);
    return AUTHZ_DENIED;
}

static authz_status check_role(request_rec *r, const char *line,
                               const void *parsed)
{
    return check(r, parsed, 0);
}

static authz_status check_permission(request_rec *r, const char *line,
                                     const void *parsed)
{
    return check(r, parsed, 1);
}

const authz_provider azs_authz_role_provider = {
    &check_role,
    &parse_require
};

const authz_provider azs_authz_permission_provider = {
    &check_permission,
    &parse_require
};
