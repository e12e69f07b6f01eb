/*
 * mod_azs_config.c - per-directory configuration.
 */
#include "mod_azs.h"

#include "apr_strings.h"

void *azs_create_dir_conf(apr_pool_t *p, char *dir)
{
    azs_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->db_path = NULL;
    c->blocklist = AZS_UNSET;
    c->forbidden = AZS_UNSET;
    c->export = AZS_UNSET;
    return c;
}

void *azs_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    azs_dir_conf *base = basev, *add = addv;
    azs_dir_conf *c = apr_palloc(p, sizeof(*c));

    c->db_path = add->db_path ? add->db_path : base->db_path;
    c->blocklist = add->blocklist == AZS_UNSET ? base->blocklist
                                               : add->blocklist;
    c->forbidden = add->forbidden == AZS_UNSET ? base->forbidden
                                               : add->forbidden;
    c->export = add->export == AZS_UNSET ? base->export : add->export;
    return c;
}

void *azs_create_server_conf(apr_pool_t *p, server_rec *s)
{
    azs_server_conf *c = apr_pcalloc(p, sizeof(*c));

    c->cache_entries = AZS_UNSET;
    c->max_hashes = AZS_UNSET;
    c->hash_idle = AZS_UNSET;
    c->memo_kb = AZS_UNSET;
    c->max_stale_ms = AZS_UNSET;
    return c;
}

void *azs_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    azs_server_conf *base = basev, *add = addv;
    azs_server_conf *c = apr_palloc(p, sizeof(*c));

    c->cache_entries = add->cache_entries == AZS_UNSET ? base->cache_entries
                                                       : add->cache_entries;
    c->max_hashes = add->max_hashes == AZS_UNSET ? base->max_hashes
                                                 : add->max_hashes;
    c->hash_idle = add->hash_idle == AZS_UNSET ? base->hash_idle
                                               : add->hash_idle;
    c->memo_kb = add->memo_kb == AZS_UNSET ? base->memo_kb : add->memo_kb;
    c->max_stale_ms = add->max_stale_ms == AZS_UNSET ? base->max_stale_ms
                                                     : add->max_stale_ms;
    /* post_config walks every server and starts one watcher per
     * distinct URL. */
    c->pg_urls = add->pg_urls ? add->pg_urls : base->pg_urls;
    c->throttle = add->throttle ? add->throttle : base->throttle;
    return c;
}

static const char *positive(cmd_parms *cmd, const char *arg, int max,
                            int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 1 || v > max) {
        return apr_psprintf(cmd->pool, "%s: expected a number from 1 to "
                            "%d, not '%s'", cmd->cmd->name, max, arg);
    }
    *out = (int)v;
    return NULL;
}

const char *azs_cmd_cache(cmd_parms *cmd, void *conf, const char *arg)
{
    azs_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                              &authz_status_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "Off") == 0) {
        c->cache_entries = 0;
        return NULL;
    }
    return positive(cmd, arg, 16 * 1024 * 1024, &c->cache_entries);
}

/* A size in bytes, with an optional K, M or G (powers of 1024); kept in
 * KB. */
const char *azs_cmd_memo(cmd_parms *cmd, void *conf, const char *arg)
{
    azs_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                              &authz_status_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t v, unit = 1;
    char *end;

    if (err) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "Off") == 0) {
        c->memo_kb = 0;
        return NULL;
    }
    v = apr_strtoi64(arg, &end, 10);
    if (*end && !end[1]) {
        switch (*end) {
        case 'k': case 'K': unit = 1024; end++; break;
        case 'm': case 'M': unit = 1024 * 1024; end++; break;
        case 'g': case 'G': unit = 1024 * 1024 * 1024; end++; break;
        }
    }
    if (*arg < '0' || *arg > '9' || *end || v < 1
        || v > (APR_INT64_C(64) << 30) / unit || v * unit < 64 * 1024) {
        return apr_psprintf(cmd->pool, "%s: expected a size from 64K to "
                            "64G (bytes, or with K, M or G), or Off, not "
                            "'%s'", cmd->cmd->name, arg);
    }
    c->memo_kb = (int)(v * unit / 1024);
    return NULL;
}

const char *azs_cmd_hash_limit(cmd_parms *cmd, void *conf, const char *arg)
{
    azs_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                              &authz_status_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : positive(cmd, arg, 1024, &c->max_hashes);
}

const char *azs_cmd_hash_priority(cmd_parms *cmd, void *conf,
                                  const char *arg)
{
    azs_server_conf *c = ap_get_module_config(cmd->server->module_config,
                                              &authz_status_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "idle") == 0) {
        c->hash_idle = 1;
    }
    else if (ap_cstr_casecmp(arg, "normal") == 0) {
        c->hash_idle = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "%s takes idle or normal, not '%s'",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

/* The blocklist is the server administrator's: an .htaccess file may
 * turn it on for its subtree, never off (its author is not trusted with
 * who may reach the server, only with who may read their files). */
const char *azs_cmd_blocklist(cmd_parms *cmd, void *conf, int on)
{
    azs_dir_conf *c = conf;

    if (!on && !(cmd->override & ACCESS_CONF)) {
        return "AuthzStatusBlocklist Off is not allowed in .htaccess "
               "files: the blocklist is set in the server configuration";
    }
    c->blocklist = on;
    return NULL;
}

const char *azs_cmd_export(cmd_parms *cmd, void *conf, int on)
{
    ((azs_dir_conf *)conf)->export = on;
    return NULL;
}

azs_dir_conf *azs_dir(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &authz_status_module);
}

const char *azs_db_path(request_rec *r)
{
    azs_dir_conf *c = azs_dir(r);

    return c->db_path ? c->db_path : AZS_DEFAULT_DB;
}

const char *azs_cmd_database(cmd_parms *cmd, void *conf, const char *arg)
{
    azs_dir_conf *c = conf;

    if (azs_is_pg_url(arg)) {
        azs_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                   &authz_status_module);

        /* A password in httpd.conf would be readable by everyone who can
         * read the configuration. */
        const char *why = azs_pg_url_check(arg, cmd->temp_pool);

        if (why) {
            return apr_pstrcat(cmd->pool, "AuthzStatusDatabase: ", why,
                               NULL);
        }
        c->db_path = arg;
        if (!sc->pg_urls) {
            sc->pg_urls = apr_array_make(cmd->pool, 1, sizeof(char *));
        }
        APR_ARRAY_PUSH(sc->pg_urls, const char *) = arg;
        return NULL;
    }
    c->db_path = ap_server_root_relative(cmd->pool, arg);
    if (!c->db_path) {
        return apr_pstrcat(cmd->pool, "AuthzStatusDatabase: invalid path ",
                           arg, NULL);
    }
    return NULL;
}

const char *azs_cmd_forbidden(cmd_parms *cmd, void *conf, int on)
{
    azs_dir_conf *c = conf;

    c->forbidden = on;
    return azs_compat_set_forbidden(cmd, on);
}

/* AuthzStatusMaxStale DURATION: 1s, 500ms, 2m; at least 500 ms (the
 * watcher's heartbeat is a quarter of it), at most an hour. */
const char *azs_cmd_max_stale(cmd_parms *cmd, void *conf, const char *arg)
{
    azs_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &authz_status_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t ms;

    if (err) {
        return err;
    }
    if (azs_duration_ms(arg, &ms) != 0 || ms < 500 || ms > 3600 * 1000) {
        return apr_pstrcat(cmd->pool, "AuthzStatusMaxStale: '", arg,
                           "' is not a duration from 500ms to 1h (1s, "
                           "500ms, 2m)", NULL);
    }
    sc->max_stale_ms = (int)ms;
    return NULL;
}
