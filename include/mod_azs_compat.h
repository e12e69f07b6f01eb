/*
 * mod_azs_compat.h - the module's reliances on httpd internals, all in
 * src/mod_azs_compat.c.  Each is something httpd 2.4 does not publish as
 * an API but has not changed in any 2.4 release; each has an integration
 * case (tests/integration/cases/compat_httpd.sh) that fails if a new
 * httpd changes it, naming the reliance.
 *
 * 1. mod_auth_basic's and mod_auth_form's per-directory configurations
 *    begin with their provider list (authn_provider_list *): read to know
 *    whether the strict Basic check, the admission and the throttle apply
 *    to a request, and whether this provider's "no" is the last word.
 * 2. mod_authz_core's AuthzSendForbiddenOnFailure: its directive handler
 *    is called, at parse time and on a request's merged configuration, so
 *    that an authenticated user who fails Require gets 403 by default.
 * 3. mod_authz_core's negation: "Require not" and <RequireNone> invert a
 *    provider's answer; the directive tree is walked to know whether a
 *    "no" is a denial to log.
 */
#ifndef MOD_AZS_COMPAT_H
#define MOD_AZS_COMPAT_H

#include "httpd.h"
#include "http_config.h"
#include "mod_auth.h"

/* 1: does mod_auth_basic (basic, NULL when not loaded) list provider? */
int azs_compat_basic_lists(request_rec *r, module *basic,
                           const authn_provider *provider);
/* 1: is provider the last of that list? */
int azs_compat_last_provider(request_rec *r, module *m,
                             const authn_provider *provider);
/* 2: AuthzSendForbiddenOnFailure on or off in cmd's section ... */
const char *azs_compat_set_forbidden(cmd_parms *cmd, int on);
/* ... and off in the request's merged configuration. */
void azs_compat_forbidden_off(request_rec *r);
/* 3: is this Require line's answer inverted (an odd number of "not" and
 * <RequireNone> around it)? */
int azs_compat_require_negated(const cmd_parms *cmd);

#endif /* MOD_AZS_COMPAT_H */
