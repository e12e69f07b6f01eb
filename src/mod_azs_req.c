/*
 * mod_azs_req.c - the request's state (azs_req in mod_azs.h): one per
 * request, subrequest and internal redirect, in the request's pool, made
 * on first use.  Each part of it is written by the one file named beside
 * it; this file only makes it.
 */
#include "mod_azs.h"

azs_req *azs_req_peek(request_rec *r)
{
    return ap_get_module_config(r->request_config, &authz_status_module);
}

azs_req *azs_req_get(request_rec *r)
{
    azs_req *q = azs_req_peek(r);

    if (!q) {
        q = apr_pcalloc(r->pool, sizeof(*q));
        ap_set_module_config(r->request_config, &authz_status_module, q);
    }
    return q;
}
