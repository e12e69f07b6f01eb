/*
 * mod_azs_compat.c - where the module relies on what httpd does not
 * publish: the three places are listed in include/mod_azs_compat.h, each
 * with the integration case (tests/integration/cases/compat_httpd.sh)
 * that fails if httpd changes under it.
 */
#include "mod_azs.h"

#include "apr_strings.h"

/*
 * Does mod_auth_basic (or mod_auth_form: basic may be either) call this
 * provider for this request?  Their per-dir configurations start with the
 * provider list (authn_provider_list from mod_auth.h) in every 2.4
 * release; nothing else of them is read.
 */
static authn_provider_list *provider_list(request_rec *r, module *m)
{
    authn_provider_list **conf;

    if (!m) {
        return NULL;
    }
    conf = ap_get_module_config(r->per_dir_config, m);
    return conf ? *conf : NULL;
}

int azs_compat_basic_lists(request_rec *r, module *basic,
                           const authn_provider *provider)
{
    authn_provider_list *p;

    for (p = provider_list(r, basic); p; p = p->next) {
        if (p->provider == provider) {
            return 1;
        }
    }
    return 0;
}

/* ... and is provider the last it calls (the one whose "no" is final)? */
int azs_compat_last_provider(request_rec *r, module *m,
                             const authn_provider *provider)
{
    authn_provider_list *p = provider_list(r, m);

    while (p && p->next) {
        p = p->next;
    }
    return p && p->provider == provider;
}

/*
 * mod_authz_core answers 401 to an authenticated user who fails Require
 * unless AuthzSendForbiddenOnFailure is on in that context.  Rather than
 * answering GRANTED and refusing later (which breaks <RequireAny>), we set
 * that flag in the same context with mod_authz_core's own handler.
 */
const char *azs_compat_set_forbidden(cmd_parms *cmd, int on)
{
    module *mod = ap_top_module;   /* where the search starts */
    const command_rec *c;
    cmd_parms as_core;
    void *mconfig;

    c = ap_find_command_in_modules("AuthzSendForbiddenOnFailure", &mod);
    if (!c || !mod || !cmd->context) {
        return NULL;   /* no mod_authz_core, no Require either */
    }
    mconfig = ap_set_config_vectors(cmd->server, cmd->context, cmd->path,
                                    mod, cmd->pool);
    /* The handler reads its field offset from cmd->info. */
    as_core = *cmd;
    as_core.info = c->cmd_data;
    as_core.cmd = c;
    return c->AP_FLAG(&as_core, mconfig, on);
}

/*
 * The same, for one request: a Require line turned 403 on for its own
 * section when the configuration was read, but AuthzStatusForbiddenOnFailure
 * Off may come from an enclosing section (<Location /> with Off, a nested
 * <Location /a/b> with Require role), which only the merged configuration
 * knows.  The slot is mod_authz_core's own, set through its own handler,
 * in the request's merged configuration (allocated from r->pool by the
 * per-dir merge: nothing shared with other requests is written).
 */
void azs_compat_forbidden_off(request_rec *r)
{
    module *mod = ap_top_module;
    const command_rec *c;
    cmd_parms as_core;
    void *conf;

    c = ap_find_command_in_modules("AuthzSendForbiddenOnFailure", &mod);
    if (!c || !mod) {
        return;
    }
    conf = ap_get_module_config(r->per_dir_config, mod);
    if (!conf || r->per_dir_config == r->server->lookup_defaults) {
        return;
    }
    memset(&as_core, 0, sizeof(as_core));
    as_core.info = c->cmd_data;
    as_core.cmd = c;
    as_core.pool = r->pool;
    as_core.temp_pool = r->pool;
    as_core.server = r->server;
    c->AP_FLAG(&as_core, conf, 0);
}

/* Is this line's answer inverted by mod_authz_core?  "Require not ..."
 * and every <RequireNone> around it flip it once each. */
int azs_compat_require_negated(const cmd_parms *cmd)
{
    const ap_directive_t *d = cmd->directive;
    int flips = 0;

    if (d && d->args && ap_cstr_casecmpn(d->args, "not", 3) == 0
        && (d->args[3] == ' ' || d->args[3] == '\t')) {
        flips++;
    }
    for (d = d ? d->parent : NULL; d; d = d->parent) {
        if (ap_cstr_casecmp(d->directive, "<RequireNone") == 0) {
            flips++;
        }
    }
    return flips & 1;
}
