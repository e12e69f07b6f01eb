/*
 * mod_azs_bearer.c - AuthType Bearer (RFC 6750) for tokens issued by
 * htauthz.  httpd 2.4 has no Bearer scheme, so this is its front end, in
 * the place mod_auth_basic takes for Basic.
 */
#include "mod_azs.h"

#include "apr_strings.h"

static int is_bearer(const char *type)
{
    return type && ap_cstr_casecmp(type, "Bearer") == 0;
}

/* The realm as a quoted-string: AuthName is admin text, but a quote or a
 * backslash in it must not break the header. */
static const char *realm(request_rec *r)
{
    const char *name = ap_auth_name(r);
    const char *s;
    char *out, *o;

    name = name ? name : "";
    out = o = apr_palloc(r->pool, 2 * strlen(name) + 1);
    for (s = name; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* scope: the names a Require line wanted, space-separated, as they came
 * out of its expressions, so possibly from the request itself: only the
 * names that are valid scope tokens reach the header. */
static void challenge(request_rec *r, const char *error, const char *scope)
{
    const char *v;

    scope = azs_bearer_scope(r->pool, scope);
    v = apr_pstrcat(r->pool, "Bearer realm=\"", realm(r), "\"",
                    error ? ", error=\"" : "", error ? error : "",
                    error ? "\"" : "",
                    scope ? ", scope=\"" : "", scope ? scope : "",
                    scope ? "\"" : "",
                    NULL);
    apr_table_setn(r->err_headers_out, (PROXYREQ_PROXY == r->proxyreq)
                                       ? "Proxy-Authenticate"
                                       : "WWW-Authenticate", v);
}

static int invalid_token(request_rec *r, azs_reason why, const char *user,
                         const char *detail)
{
    challenge(r, "invalid_token", NULL);
    azs_log_denial(r, HTTP_UNAUTHORIZED, why, user, detail);
    azs_throttle_failure(r, why);
    return HTTP_UNAUTHORIZED;
}

int azs_bearer_authn(request_rec *r)
{
    azs_req *q;
    azs_token_t *t;
    azs_user_t *u;
    azs_reason state;
    unsigned char hash[AZS_SHA256_LEN];
    const char *header, *token, *why, *id;
    apr_int64_t now = apr_time_sec(r->request_time);

    if (!is_bearer(ap_auth_type(r))) {
        return DECLINED;
    }
    header = apr_table_get(r->headers_in, (PROXYREQ_PROXY == r->proxyreq)
                                          ? "Proxy-Authorization"
                                          : "Authorization");
    if (!header || !azs_auth_scheme_is(header, "Bearer")) {
        /* RFC 6750 3.1: no error code when no token was offered. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0204: no bearer "
                      "token for \"%s\"", azs_escape(r->pool, r->uri, 256));
        challenge(r, NULL, NULL);
        return HTTP_UNAUTHORIZED;
    }
    if ((why = azs_bearer_parse(header, &token)) != NULL) {
        challenge(r, "invalid_request", NULL);
        azs_log_denial(r, HTTP_BAD_REQUEST, AZS_REASON_MALFORMED, NULL, why);
        azs_throttle_failure(r, AZS_REASON_MALFORMED);
        return HTTP_BAD_REQUEST;
    }
    azs_token_hash(hash, token);
    if (azs_req_token(r, hash, &t, &u) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!t) {
        /* No id to name: a short prefix of the stored hash lets the admin
         * match repeated attempts without the token itself. */
        return invalid_token(r, AZS_REASON_TOKEN_UNKNOWN, NULL,
                             apr_psprintf(r->pool, "token sha256:"
                                          "%02x%02x%02x%02x", hash[0],
                                          hash[1], hash[2], hash[3]));
    }
    id = apr_psprintf(r->pool, "token %" APR_INT64_T_FMT, t->id);
    if (t->revoked) {
        return invalid_token(r, AZS_REASON_TOKEN_REVOKED, t->user, id);
    }
    if (t->expires && t->expires <= now) {
        return invalid_token(r, AZS_REASON_TOKEN_EXPIRED, t->user, id);
    }
    if ((state = azs_account_state(u, now)) != AZS_REASON_GRANTED) {
        return invalid_token(r, state, t->user, id);
    }
    q = azs_req_get(r);
    q->token = t;
    r->user = apr_pstrdup(r->pool, t->user);
    r->ap_auth_type = "Bearer";
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AZS0205: %s accepted: "
                  "user \"%s\" for \"%s\"", id,
                  azs_escape(r->pool, t->user, 256),
                  azs_escape(r->pool, r->uri, 256));
    return OK;
}

int azs_bearer_note_failure(request_rec *r, const char *auth_type)
{
    if (!is_bearer(auth_type)) {
        return DECLINED;
    }
    /* Reached from mod_authz_core only (AuthzStatusForbiddenOnFailure
     * Off): the token was valid, so the challenge carries no error. */
    challenge(r, NULL, NULL);
    return OK;
}

void azs_insert_error(request_rec *r)
{
    azs_req *q = ap_get_module_config(r->request_config,
                                      &authz_status_module);

    /* RFC 6750 3.1: a 403 to a token that lacks what was needed. */
    if (q && q->token && r->status == HTTP_FORBIDDEN
        && q->pending.status == HTTP_FORBIDDEN) {
        challenge(r, "insufficient_scope", q->pending.scope);
    }
}
