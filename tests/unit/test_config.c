/*
 * test_config.c - the module's per-directory and per-server configuration
 * (src/mod_azs_config.c, built with httpd's headers): every directive
 * merges both ways, and no field of a configuration struct can be left
 * out of create or merge.
 *
 * The few httpd functions the file calls are given here (the module runs
 * them inside httpd; this test runs without one).
 */
#include <strings.h>

#include "unit.h"
#include "mod_azs.h"

#include "apr_strings.h"

module AP_MODULE_DECLARE_DATA authz_status_module = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, NULL
};

/* ---- what httpd would provide -------------------------------------------- */

AP_DECLARE(const char *) ap_check_cmd_context(cmd_parms *cmd,
                                              unsigned forbidden)
{
    return cmd->path && (forbidden & GLOBAL_ONLY) ? "not in a section"
                                                  : NULL;
}

AP_DECLARE(char *) ap_server_root_relative(apr_pool_t *p, const char *name)
{
    return name[0] == '/' ? apr_pstrdup(p, name)
                          : apr_pstrcat(p, "/srv/root/", name, NULL);
}

AP_DECLARE(int) ap_cstr_casecmp(const char *a, const char *b)
{
    return strcasecmp(a, b);
}

#ifdef ap_get_module_config
#undef ap_get_module_config
#endif
AP_DECLARE(void *) ap_get_module_config(const ap_conf_vector_t *cv,
                                        const module *m)
{
    return ((void **)cv)[m->module_index];
}

static int forbidden_calls, forbidden_last;

const char *azs_compat_set_forbidden(cmd_parms *cmd, int on)
{
    forbidden_calls++;
    forbidden_last = on;
    return NULL;
}

/* ---- fixtures ------------------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    command_rec directive;   /* its name, for the error messages */
    server_rec server;
    void *server_vector[1];
    cmd_parms cmd;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof(*fx));

    apr_pool_create(&fx->pool, NULL);
    authz_status_module.module_index = 0;   /* httpd numbers modules */
    fx->server.module_config = (ap_conf_vector_t *)fx->server_vector;
    fx->server_vector[0] = azs_create_server_conf(fx->pool, &fx->server);
    fx->directive.name = "AuthzStatusDirective";
    fx->cmd.cmd = &fx->directive;
    fx->cmd.pool = fx->pool;
    fx->cmd.temp_pool = fx->pool;
    fx->cmd.server = &fx->server;
    fx->cmd.override = ACCESS_CONF | OR_ALL;
    fx->cmd.path = "/section";
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;

    apr_pool_destroy(fx->pool);
    free(fx);
    return 0;
}

static azs_dir_conf *dir_merge(fx_t *fx, azs_dir_conf *base,
                               azs_dir_conf *add)
{
    return azs_merge_dir_conf(fx->pool, base, add);
}

static azs_server_conf *server_merge(fx_t *fx, azs_server_conf *base,
                                     azs_server_conf *add)
{
    return azs_merge_server_conf(fx->pool, base, add);
}

/* ---- every directive, both ways ------------------------------------------ */

/* A directory section sets each directive; an enclosing one inherits
 * nothing from it, a nested one without the directive inherits it, and a
 * nested one with it overrides it. */
static void every_dir_directive_merges_both_ways(void **state)
{
    fx_t *fx = *state;
    azs_dir_conf *set = azs_create_dir_conf(fx->pool, "/a");
    azs_dir_conf *unset = azs_create_dir_conf(fx->pool, "/a/b");
    azs_dir_conf *other = azs_create_dir_conf(fx->pool, "/a/b/c");
    azs_dir_conf *m;

    assert_null(azs_cmd_database(&fx->cmd, set, "/var/db/one.db"));
    assert_null(azs_cmd_blocklist(&fx->cmd, set, 1));
    assert_null(azs_cmd_forbidden(&fx->cmd, set, 0));
    assert_int_equal(forbidden_last, 0);

    assert_null(azs_cmd_database(&fx->cmd, other, "rel.db"));
    assert_null(azs_cmd_blocklist(&fx->cmd, other, 0));
    assert_null(azs_cmd_forbidden(&fx->cmd, other, 1));
    assert_int_equal(forbidden_last, 1);

    /* inherited */
    m = dir_merge(fx, set, unset);
    assert_string_equal(m->db_path, "/var/db/one.db");
    assert_int_equal(m->blocklist, 1);
    assert_int_equal(m->forbidden, 0);
    /* nothing flows up */
    m = dir_merge(fx, unset, set);
    assert_string_equal(m->db_path, "/var/db/one.db");
    assert_int_equal(m->blocklist, 1);
    assert_int_equal(m->forbidden, 0);
    m = dir_merge(fx, unset, unset);
    assert_null(m->db_path);
    assert_int_equal(m->blocklist, AZS_UNSET);
    assert_int_equal(m->forbidden, AZS_UNSET);
    /* overridden, each way */
    m = dir_merge(fx, set, other);
    assert_string_equal(m->db_path, "/srv/root/rel.db");
    assert_int_equal(m->blocklist, 0);
    assert_int_equal(m->forbidden, 1);
    m = dir_merge(fx, other, set);
    assert_string_equal(m->db_path, "/var/db/one.db");
    assert_int_equal(m->blocklist, 1);
    assert_int_equal(m->forbidden, 0);
}

static void every_server_directive_merges_both_ways(void **state)
{
    fx_t *fx = *state;
    azs_server_conf *main = fx->server_vector[0];
    azs_server_conf *vhost = azs_create_server_conf(fx->pool, &fx->server);
    azs_server_conf *m;

    fx->cmd.path = NULL;           /* server config */
    assert_null(azs_cmd_cache(&fx->cmd, NULL, "5000"));
    assert_null(azs_cmd_hash_limit(&fx->cmd, NULL, "3"));
    assert_null(azs_cmd_hash_priority(&fx->cmd, NULL, "normal"));
    assert_null(azs_cmd_memo(&fx->cmd, NULL, "3M"));
    assert_int_equal(main->memo_kb, 3072);
    assert_int_equal(main->cache_entries, 5000);
    assert_int_equal(main->max_hashes, 3);
    assert_int_equal(main->hash_idle, 0);

    m = server_merge(fx, main, vhost);
    assert_int_equal(m->cache_entries, 5000);
    assert_int_equal(m->max_hashes, 3);
    assert_int_equal(m->hash_idle, 0);
    m = server_merge(fx, vhost, main);
    assert_int_equal(m->cache_entries, 5000);
    assert_int_equal(m->max_hashes, 3);
    assert_int_equal(m->hash_idle, 0);
    assert_int_equal(server_merge(fx, main, vhost)->memo_kb, 3072);
    assert_int_equal(server_merge(fx, vhost, main)->memo_kb, 3072);
    m = server_merge(fx, vhost, vhost);
    assert_int_equal(m->memo_kb, AZS_UNSET);
    assert_int_equal(m->cache_entries, AZS_UNSET);
    assert_int_equal(m->max_hashes, AZS_UNSET);
    assert_int_equal(m->hash_idle, AZS_UNSET);

    assert_null(azs_cmd_cache(&fx->cmd, NULL, "Off"));
    assert_int_equal(main->cache_entries, 0);
    assert_non_null(azs_cmd_cache(&fx->cmd, NULL, "-1"));
    assert_null(azs_cmd_memo(&fx->cmd, NULL, "65536"));
    assert_int_equal(main->memo_kb, 64);
    assert_null(azs_cmd_memo(&fx->cmd, NULL, "2g"));
    assert_int_equal(main->memo_kb, 2 * 1024 * 1024);
    assert_null(azs_cmd_memo(&fx->cmd, NULL, "off"));
    assert_int_equal(main->memo_kb, 0);
    assert_non_null(azs_cmd_memo(&fx->cmd, NULL, "1000"));   /* < 64K */
    assert_non_null(azs_cmd_memo(&fx->cmd, NULL, "65G"));
    assert_non_null(azs_cmd_memo(&fx->cmd, NULL, "16MB"));
    assert_non_null(azs_cmd_memo(&fx->cmd, NULL, "-5M"));
    assert_non_null(azs_cmd_memo(&fx->cmd, NULL, ""));
    assert_non_null(azs_cmd_hash_limit(&fx->cmd, NULL, "0"));
    assert_non_null(azs_cmd_hash_priority(&fx->cmd, NULL, "high"));
    fx->cmd.path = NULL;
    assert_int_equal(main->max_stale_ms, AZS_UNSET);
    assert_null(azs_cmd_max_stale(&fx->cmd, NULL, "2s"));
    assert_int_equal(main->max_stale_ms, 2000);
    assert_int_equal(server_merge(fx, vhost, main)->max_stale_ms, 2000);
    assert_null(azs_cmd_max_stale(&fx->cmd, NULL, "750ms"));
    assert_int_equal(main->max_stale_ms, 750);
    assert_null(azs_cmd_max_stale(&fx->cmd, NULL, "1m"));
    assert_int_equal(main->max_stale_ms, 60000);
    assert_non_null(azs_cmd_max_stale(&fx->cmd, NULL, "100ms"));
    assert_non_null(azs_cmd_max_stale(&fx->cmd, NULL, "2h"));
    assert_non_null(azs_cmd_max_stale(&fx->cmd, NULL, "1 s"));
    assert_non_null(azs_cmd_max_stale(&fx->cmd, NULL, "x"));
    assert_int_equal(main->max_stale_ms, 60000);
    fx->cmd.path = "/section";     /* server-wide only */
    assert_non_null(azs_cmd_cache(&fx->cmd, NULL, "10"));
    assert_non_null(azs_cmd_max_stale(&fx->cmd, NULL, "1s"));
}

/* A PostgreSQL URL is kept as written (not made relative to the server
 * root), listed for the watcher, and refused with a password in it. */
static void postgresql_urls_are_listed_and_passwords_refused(void **state)
{
    fx_t *fx = *state;
    azs_server_conf *main = fx->server_vector[0];
    azs_dir_conf *d = azs_create_dir_conf(fx->pool, "/a");
    const char *url = "postgresql://httpd@/authz?host=/run/postgresql";

    assert_null(main->pg_urls);
    assert_null(azs_cmd_database(&fx->cmd, d, url));
    assert_string_equal(d->db_path, url);
    assert_non_null(main->pg_urls);
    assert_int_equal(main->pg_urls->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(main->pg_urls, 0, const char *), url);
    assert_null(azs_cmd_database(&fx->cmd, d, "postgresql:dbname=authz"));
    assert_string_equal(d->db_path, "postgresql:dbname=authz");
    assert_int_equal(main->pg_urls->nelts, 2);
    assert_non_null(strstr(azs_cmd_database(&fx->cmd, d,
                           "postgresql://httpd:secret@db/authz"),
                           ".pgpass"));
    assert_non_null(azs_cmd_database(&fx->cmd, d,
                    "postgresql:dbname=authz password=secret"));
    assert_non_null(azs_cmd_database(&fx->cmd, d,
                    "postgres://db/authz?password=secret"));
    /* The key's passphrase too: the string is shown in metrics labels. */
    assert_non_null(strstr(azs_cmd_database(&fx->cmd, d,
                           "postgresql://db/authz?sslpassword=s3cret"),
                           "sslpassword"));
    assert_string_equal(d->db_path, "postgresql:dbname=authz");
    assert_int_equal(main->pg_urls->nelts, 2);
}

/* The blocklist may be turned on in .htaccess, never off there. */
static void htaccess_may_not_turn_the_blocklist_off(void **state)
{
    fx_t *fx = *state;
    azs_dir_conf *c = azs_create_dir_conf(fx->pool, "/h");

    fx->cmd.override = OR_AUTHCFG;         /* as ap_parse_htaccess sets */
    assert_null(azs_cmd_blocklist(&fx->cmd, c, 1));
    assert_int_equal(c->blocklist, 1);
    assert_non_null(azs_cmd_blocklist(&fx->cmd, c, 0));
    assert_int_equal(c->blocklist, 1);
}

/* AuthzStatusExport: Off unless set; a section inherits it, and may turn
 * it off again. */
static void export_is_off_unless_set_and_inherited(void **state)
{
    fx_t *fx = *state;
    azs_dir_conf *top = azs_create_dir_conf(fx->pool, "/");
    azs_dir_conf *on = azs_create_dir_conf(fx->pool, "/app");
    azs_dir_conf *off = azs_create_dir_conf(fx->pool, "/app/x");
    azs_dir_conf *m;

    assert_int_not_equal(top->export, 1);
    assert_null(azs_cmd_export(&fx->cmd, on, 1));
    assert_null(azs_cmd_export(&fx->cmd, off, 0));
    m = dir_merge(fx, top, on);
    assert_int_equal(m->export, 1);
    assert_int_equal(dir_merge(fx, m, azs_create_dir_conf(fx->pool, "/a/b"))
                         ->export, 1);
    assert_int_equal(dir_merge(fx, m, off)->export, 0);
    assert_int_not_equal(dir_merge(fx, top, azs_create_dir_conf(fx->pool,
                                                                "/b"))
                             ->export, 1);
}

/* ---- no field left out ------------------------------------------------------ */

/*
 * Whatever fields the structs have: a struct whose every byte is set
 * (0x5a: no field's "unset") must come through a merge with a fresh one
 * unchanged, both ways.  A field that merge forgets comes out as whatever
 * the pool held; one that create forgets is 0 instead of unset, and
 * overrides the other side.  (The structs have no padding: a field that
 * adds some makes this test compare it too, and it then needs a look.)
 */
/* The bytes of azs_dir_conf up to its last field: its tail padding is no
 * field (a merge made with apr_palloc leaves it as the pool held it). */
#define DIR_FIELDS (offsetof(azs_dir_conf, export) + sizeof(int))

static void no_field_missing_from_create_or_merge(void **state)
{
    fx_t *fx = *state;
    azs_dir_conf *full_d = azs_create_dir_conf(fx->pool, "/x");
    azs_server_conf *full_s = azs_create_server_conf(fx->pool, &fx->server);
    azs_dir_conf *m_d;
    azs_server_conf *m_s;

    memset(full_d, 0x5a, sizeof(*full_d));
    memset(full_s, 0x5a, sizeof(*full_s));
    /* export is the last field: a field after it needs DIR_FIELDS
     * moved. */
    assert_true(sizeof(*full_d) - DIR_FIELDS < sizeof(void *));
    m_d = dir_merge(fx, full_d, azs_create_dir_conf(fx->pool, "/y"));
    assert_memory_equal(m_d, full_d, DIR_FIELDS);
    m_d = dir_merge(fx, azs_create_dir_conf(fx->pool, "/y"), full_d);
    assert_memory_equal(m_d, full_d, DIR_FIELDS);
    m_s = server_merge(fx, full_s, azs_create_server_conf(fx->pool,
                                                          &fx->server));
    assert_memory_equal(m_s, full_s, sizeof(*full_s));
    m_s = server_merge(fx, azs_create_server_conf(fx->pool, &fx->server),
                       full_s);
    assert_memory_equal(m_s, full_s, sizeof(*full_s));
}

/* A test with this file's fixture (not unit.h's: no database here). */
#define TC(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest tests[] = {
    TC(every_dir_directive_merges_both_ways),
    TC(every_server_directive_merges_both_ways),
    TC(postgresql_urls_are_listed_and_passwords_refused),
    TC(htaccess_may_not_turn_the_blocklist_off),
    TC(export_is_off_unless_set_and_inherited),
    TC(no_field_missing_from_create_or_merge),
};

UNIT_MAIN(tests)
