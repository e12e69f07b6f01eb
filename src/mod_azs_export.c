/*
 * mod_azs_export.c - AuthzStatusExport: who the module let in, in the
 * request's environment, for CGI, mod_headers (a backend behind
 * mod_proxy) and access logs.  Never a password or a token.
 */
#include "mod_azs.h"

#include "apr_strings.h"

static const char *const names[] = {
    "AUTHZ_STATUS_USER", "AUTHZ_STATUS_ROLES", "AUTHZ_STATUS_AUTH",
    "AUTHZ_STATUS_TOKEN_ID", "AUTHZ_STATUS_TOKEN_SCOPES"
};

/* The state of the request (or of the request it was redirected from, or
 * the main request of a subrequest) in which this module established
 * r->user; NULL when another module did, or nobody. */
static const azs_req *established(request_rec *r)
{
    request_rec *x;

    for (x = r; x; x = x->prev ? x->prev : x->main) {
        const azs_req *q = azs_req_peek(x);

        if (q && (q->login.ok || q->token) && x->user
            && strcmp(x->user, r->user) == 0) {
            return q;
        }
    }
    return NULL;
}

int azs_export_fixups(request_rec *r)
{
    const azs_req *src;
    azs_req *q;
    const char *kind;
    int i;

    if (azs_dir(r)->export != 1) {
        return DECLINED;
    }
    /* Only what this module sets: nothing from an earlier SetEnvIf, say,
     * under these names. */
    for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
        apr_table_unset(r->subprocess_env, names[i]);
    }
    if (!r->user || !(src = established(r))) {
        return DECLINED;
    }
    /* The roles as this request reads them: a lookup that fails answers
     * 500 (logged as db-error), never a request without them. */
    if (azs_req_user(r, r->user) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q = azs_req_get(r);
    kind = src->token ? "bearer" : src->login.kind ? src->login.kind : "basic";
    apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_USER", r->user);
    apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_ROLES",
                   q->store.access ? azs_access_roles(q->store.access,
                                                      r->pool)
                                   : "");
    apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_AUTH", kind);
    if (src->token) {
        apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_TOKEN_ID",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                    src->token->id));
        if (src->token->scopes->nelts) {
            apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_TOKEN_SCOPES",
                           apr_array_pstrcat(r->pool, src->token->scopes,
                                             ' '));
        }
    }
    return DECLINED;
}
