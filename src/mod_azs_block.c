/*
 * mod_azs_block.c - AuthzStatusBlocklist: 403 before authentication.
 *
 * Runs first in both access hooks, access_checker and access_checker_ex,
 * and answers 403 or DECLINED, never OK.  Under "Satisfy Any" httpd skips
 * the _ex hooks (and authentication) when every access_checker says yes
 * (mod_access_compat's "Allow from"), and runs them when one says no: so
 * a blocked client is refused in the first, and again in the second, and
 * no Satisfy mode lets it through or hashes a password for it.  The
 * verdict is decided once per request and logged once.
 */
#include "mod_azs.h"

#include "apr_strings.h"

static int block_decide(request_rec *r)
{
    azs_dir_conf *c = azs_dir(r);
    azs_cidr_t addr;
    azs_block_t *b;
    const char *ip = r->useragent_ip;   /* mod_remoteip's, if in use */

    if (c->blocklist != 1) {
        return DECLINED;
    }
    if (!ip || azs_addr_parse(ip, &addr) != NULL) {
        /* Fail closed: an address the blocklist cannot be asked about
         * is not let through. */
        azs_log_denial(r, HTTP_FORBIDDEN, AZS_REASON_IP_BLOCKED, NULL,
                       apr_pstrcat(r->pool, "cannot parse client address \"",
                                   azs_escape(r->pool, ip, 64), "\"",
                                   NULL));
        return HTTP_FORBIDDEN;
    }
    if (azs_req_block(r, ip, &addr, &b) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!b) {
        return DECLINED;
    }
    azs_log_denial(r, HTTP_FORBIDDEN, AZS_REASON_IP_BLOCKED, NULL,
                   apr_psprintf(r->pool, "address %s matches entry %"
                                APR_INT64_T_FMT " \"%s\", reason \"%s\"",
                                ip, b->id, b->text,
                                azs_escape(r->pool, b->reason, 256)));
    return HTTP_FORBIDDEN;
}

int azs_block_check(request_rec *r)
{
    azs_req *q;

    /* Subrequests too: a page outside the blocklisted locations can
     * pull one in (mod_include, LA-U lookups), and httpd runs the access
     * hooks for a subrequest whose configuration differs from its main's
     * only. */
    if (azs_dir(r)->blocklist != 1) {
        return DECLINED;
    }
    q = azs_req_get(r);
    if (!q->block_status) {
        q->block_status = block_decide(r);
    }
    return q->block_status;
}
