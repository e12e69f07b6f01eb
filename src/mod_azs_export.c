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

/* Takes out values of these names that something else set (SetEnvIf on
 * a client's header, say), so that even a refused request, which never
 * reaches fixups, logs none of them. */
static void unset_all(request_rec *r)
{
    int i;

    for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
        apr_table_unset(r->subprocess_env, names[i]);
    }
}

int azs_export_header_parser(request_rec *r)
{
    if (azs_dir(r)->export == 1) {
        unset_all(r);
    }
    return DECLINED;
}

/* The state of the request in which this module established r->user, in
 * this request's database: r itself, or, for a request that reused the
 * checks of another (an internal redirect, a subrequest), that one when
 * it passed them.  NULL when another module established the user, when
 * the request the user came from was refused (an ErrorDocument of its
 * 401 or 403), when the name changed since (SSLUserName), or when the
 * login was checked in another database (an AuthnProviderAlias). */
static const azs_req *established(request_rec *r)
{
    const char *db = azs_db_path(r);
    request_rec *x;

    for (x = r; x; x = x->prev ? x->prev : x->main) {
        const azs_req *q = azs_req_peek(x);
        const char *who, *where;

        /* A request the user came from that was refused (with this
         * module's state or without: another module's refusal) ends the
         * walk; one that merely handed the request on (a handler's
         * internal redirect) is passed over. */
        if (x != r && (q ? !q->passed : x->status != HTTP_OK)) {
            return NULL;
        }
        if (!q) {
            continue;
        }
        if (q->token) {
            who = q->token->user;
            where = azs_db_path(x);
        }
        else if (q->login.ok) {
            who = q->login.user;
            where = q->login.db;
        }
        else {
            continue;
        }
        return who && strcmp(who, r->user) == 0 && where
               && strcmp(where, db) == 0 ? q : NULL;
    }
    return NULL;
}

int azs_export_fixups(request_rec *r)
{
    const azs_req *src;
    azs_req *q;
    const char *kind, *roles = "";

    if (azs_dir(r)->export != 1) {
        return DECLINED;
    }
    unset_all(r);
    if (!r->user || !(src = established(r))) {
        return DECLINED;
    }
    kind = src->token ? "bearer" : src->login.kind ? src->login.kind : "basic";
    /* A scoped token may do what its scopes name, not all its user may:
     * it carries no roles to a backend (its scopes are below). */
    if (!src->token || src->token->scopes->nelts == 0) {
        /* The roles as this request reads them: a lookup that fails
         * answers 500 (logged as db-error), never a request without
         * them. */
        if (azs_req_user(r, r->user) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        q = azs_req_get(r);
        if (q->store.access) {
            roles = azs_access_roles(q->store.access, r->pool);
        }
    }
    apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_USER", r->user);
    apr_table_setn(r->subprocess_env, "AUTHZ_STATUS_ROLES", roles);
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
