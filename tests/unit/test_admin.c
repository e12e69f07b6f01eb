/*
 * test_admin.c - the writes of azs_admin.c against real SQLite files.
 */
#include <pwd.h>
#include <sys/wait.h>

#include "unit.h"

/* A real bcrypt hash (cost 4) and an {SHA} one: valid formats are all
 * the store checks; nothing here logs in. */
#define HASH1 "$2y$04$MKoxv4U1mr7JIiGNFdVj5uCmmOr2rjaUiz.B4Xu4aBojmcd0Jv0H."
#define HASH2 "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="

static apr_int64_t gen(azs_store_t *st)
{
    apr_int64_t g = -1;

    assert_int_equal(azs_store_generation(st, &g), AZS_RC_OK);
    return g;
}

/* Each call asserts the generation moved since the last one. */
#define BUMPED(st, last)                                                  \
    do {                                                                  \
        apr_int64_t g_ = gen(st);                                         \
        assert_true(g_ != (last));                                         \
        (last) = g_;                                                      \
    } while (0)

static const char *at(const apr_array_header_t *a, int i)
{
    return APR_ARRAY_IDX(a, i, const char *);
}

static void test_user_add_dup_del(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_user_t u;
    apr_array_header_t *users;

    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "bob", HASH2, 0, 0), AZS_RC_EXISTS);
    assert_int_equal(azs_user_add(st, "Bob", HASH2, 1, 2000000000), AZS_RC_OK);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_string_equal(u.hash, HASH1);
    assert_int_equal(u.disabled, 0);
    assert_int_equal(u.expires, 0);
    assert_true(u.created > 0 && u.updated == u.created);
    assert_int_equal(azs_user_get(st, "Bob", &u, fx->pool), AZS_RC_OK);
    assert_int_equal(u.disabled, 1);
    assert_int_equal(u.expires, 2000000000);

    assert_int_equal(azs_user_list(st, fx->pool, &users), AZS_RC_OK);
    assert_int_equal(users->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(users, 0, azs_user_t).name, "Bob");
    assert_string_equal(APR_ARRAY_IDX(users, 1, azs_user_t).name, "bob");

    assert_int_equal(azs_user_del(st, "bob"), AZS_RC_OK);
    assert_int_equal(azs_user_del(st, "bob"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_list(st, fx->pool, &users), AZS_RC_OK);
    assert_int_equal(users->nelts, 1);
    azs_store_close(st);
}

static void test_user_invalid(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    char longname[AZS_NAME_MAX + 2];

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(azs_user_add(st, "", HASH1, 0, 0), AZS_RC_INVALID);
    assert_int_equal(azs_user_add(st, "a:b", HASH1, 0, 0), AZS_RC_INVALID);
    assert_int_equal(azs_user_add(st, "a\nb", HASH1, 0, 0), AZS_RC_INVALID);
    assert_int_equal(azs_user_add(st, longname, HASH1, 0, 0), AZS_RC_INVALID);
    longname[AZS_NAME_MAX] = '\0';
    assert_int_equal(azs_user_add(st, longname, HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "plain", "secret", 0, 0),
                     AZS_RC_INVALID);
    assert_int_equal(azs_user_add(st, "neg", HASH1, 0, -1), AZS_RC_INVALID);
    azs_store_close(st);
}

static void test_user_updates(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_user_t u;

    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_user_set_hash(st, "bob", HASH2), AZS_RC_OK);
    assert_int_equal(azs_user_set_hash(st, "bob", "nope"), AZS_RC_INVALID);
    assert_int_equal(azs_user_set_hash(st, "ann", HASH2), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_set_disabled(st, "bob", 1), AZS_RC_OK);
    assert_int_equal(azs_user_set_expires(st, "bob", 1234567890), AZS_RC_OK);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_string_equal(u.hash, HASH2);
    assert_int_equal(u.disabled, 1);
    assert_int_equal(u.expires, 1234567890);
    assert_int_equal(azs_user_set_disabled(st, "bob", 0), AZS_RC_OK);
    assert_int_equal(azs_user_set_expires(st, "bob", 0), AZS_RC_OK);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_int_equal(u.disabled, 0);
    assert_int_equal(u.expires, 0);
    assert_int_equal(azs_user_set_disabled(st, "ann", 1), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_set_expires(st, "ann", 0), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_set_expires(st, "bob", -5), AZS_RC_INVALID);
    azs_store_close(st);
}

static void test_grants(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_user_t u;
    apr_array_header_t *roles, *perms, *inh, *members;

    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "editor"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "admin"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "admin"), AZS_RC_EXISTS);
    assert_int_equal(azs_role_add(st, "two words"), AZS_RC_INVALID);
    assert_int_equal(azs_role_exists(st, "admin"), AZS_RC_OK);
    assert_int_equal(azs_role_exists(st, "nobody"), AZS_RC_NOTFOUND);

    assert_int_equal(azs_user_grant(st, "bob", "editor"), AZS_RC_OK);
    assert_int_equal(azs_user_grant(st, "bob", "editor"), AZS_RC_EXISTS);
    assert_int_equal(azs_user_grant(st, "bob", "nobody"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_grant(st, "ann", "editor"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_grant(st, "bob", "admin"), AZS_RC_OK);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_int_equal(azs_user_roles(st, u.id, fx->pool, &roles), AZS_RC_OK);
    assert_int_equal(roles->nelts, 2);
    assert_string_equal(at(roles, 0), "admin");
    assert_string_equal(at(roles, 1), "editor");
    assert_int_equal(azs_user_revoke(st, "bob", "admin"), AZS_RC_OK);
    assert_int_equal(azs_user_revoke(st, "bob", "admin"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_roles(st, u.id, fx->pool, &roles), AZS_RC_OK);
    assert_int_equal(roles->nelts, 1);

    /* The permission row is created on first use, shared afterwards. */
    assert_int_equal(azs_role_grant(st, "editor", "docs:write"), AZS_RC_OK);
    assert_int_equal(azs_role_grant(st, "editor", "docs:read"), AZS_RC_OK);
    assert_int_equal(azs_role_grant(st, "editor", "docs:read"), AZS_RC_EXISTS);
    assert_int_equal(azs_role_grant(st, "admin", "docs:read"), AZS_RC_OK);
    assert_int_equal(azs_role_grant(st, "nobody", "docs:read"),
                     AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_grant(st, "admin", "bad perm"), AZS_RC_INVALID);
    assert_int_equal(azs_role_detail(st, "editor", fx->pool, &perms, &inh,
                                     &members), AZS_RC_OK);
    assert_int_equal(perms->nelts, 2);
    assert_string_equal(at(perms, 0), "docs:read");
    assert_string_equal(at(perms, 1), "docs:write");
    assert_int_equal(inh->nelts, 0);
    assert_int_equal(members->nelts, 1);
    assert_string_equal(at(members, 0), "bob");
    assert_int_equal(azs_role_revoke(st, "editor", "docs:write"), AZS_RC_OK);
    assert_int_equal(azs_role_revoke(st, "editor", "docs:write"),
                     AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_revoke(st, "nobody", "docs:read"),
                     AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_detail(st, "nobody", fx->pool, &perms, &inh,
                                     &members), AZS_RC_NOTFOUND);

    assert_int_equal(azs_role_list(st, fx->pool, &roles), AZS_RC_OK);
    assert_int_equal(roles->nelts, 2);
    assert_string_equal(at(roles, 0), "admin");
    azs_store_close(st);
}

static void test_inherit_cycles(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *perms, *inh, *members;
    apr_hash_t *roles, *eperms;
    azs_user_t u;

    assert_int_equal(azs_role_add(st, "a"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "b"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "c"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "a", "a"), AZS_RC_INVALID);
    assert_int_equal(azs_role_inherit(st, "a", "b"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "a", "b"), AZS_RC_EXISTS);
    assert_int_equal(azs_role_inherit(st, "b", "c"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "c", "a"), AZS_RC_INVALID);
    assert_int_equal(azs_role_inherit(st, "b", "a"), AZS_RC_INVALID);
    assert_int_equal(azs_role_inherit(st, "c", "b"), AZS_RC_INVALID);
    assert_int_equal(azs_role_inherit(st, "a", "c"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "a", "zz"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_inherit(st, "zz", "a"), AZS_RC_NOTFOUND);

    /* The walk sees c through b: a user holding a has c's permission. */
    assert_int_equal(azs_role_grant(st, "c", "p:c"), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_user_grant(st, "bob", "a"), AZS_RC_OK);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_int_equal(azs_user_effective(st, u.id, fx->pool, &roles, &eperms),
                     AZS_RC_OK);
    assert_non_null(apr_hash_get(roles, "c", APR_HASH_KEY_STRING));
    assert_non_null(apr_hash_get(eperms, "p:c", APR_HASH_KEY_STRING));

    assert_int_equal(azs_role_disinherit(st, "a", "c"), AZS_RC_OK);
    assert_int_equal(azs_role_disinherit(st, "a", "c"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_detail(st, "a", fx->pool, &perms, &inh,
                                     &members), AZS_RC_OK);
    assert_int_equal(inh->nelts, 1);
    assert_string_equal(at(inh, 0), "b");
    /* Once b no longer inherits c, c may inherit a. */
    assert_int_equal(azs_role_disinherit(st, "b", "c"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "c", "a"), AZS_RC_OK);
    azs_store_close(st);
}

static int count(azs_store_t *st, const char *sql)
{
    sqlite3_stmt *s;
    int n = -1;

    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st), sql, -1, &s,
                                        NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return n;
}

static void test_role_del_cascades(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *roles, *perms, *inh, *members;
    azs_user_t u;

    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "admin"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "editor"), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "viewer"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "admin", "editor"), AZS_RC_OK);
    assert_int_equal(azs_role_inherit(st, "editor", "viewer"), AZS_RC_OK);
    assert_int_equal(azs_role_grant(st, "editor", "docs:write"), AZS_RC_OK);
    assert_int_equal(azs_user_grant(st, "bob", "editor"), AZS_RC_OK);

    assert_int_equal(azs_role_del(st, "editor"), AZS_RC_OK);
    assert_int_equal(azs_role_del(st, "editor"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_OK);
    assert_int_equal(azs_user_roles(st, u.id, fx->pool, &roles), AZS_RC_OK);
    assert_int_equal(roles->nelts, 0);
    assert_int_equal(azs_role_detail(st, "admin", fx->pool, &perms, &inh,
                                     &members), AZS_RC_OK);
    assert_int_equal(inh->nelts, 0);
    assert_int_equal(count(st, "SELECT count(*) FROM role_inherits"), 0);
    assert_int_equal(count(st, "SELECT count(*) FROM role_permissions"), 0);
    assert_int_equal(count(st, "SELECT count(*) FROM user_roles"), 0);
    assert_int_equal(count(st, "SELECT count(*) FROM permissions"), 0);

    /* Deleting a user takes its grants and tokens along. */
    {
        unsigned char h[AZS_SHA256_LEN];

        memset(h, 7, sizeof(h));
        assert_int_equal(azs_user_grant(st, "bob", "viewer"), AZS_RC_OK);
        assert_int_equal(azs_token_add(st, "bob", h, "", 0, NULL, NULL),
                         AZS_RC_OK);
        assert_int_equal(azs_user_del(st, "bob"), AZS_RC_OK);
        assert_int_equal(count(st, "SELECT count(*) FROM user_roles"), 0);
        assert_int_equal(count(st, "SELECT count(*) FROM tokens"), 0);
    }
    azs_store_close(st);
}

static void test_tokens(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *scopes = apr_array_make(fx->pool, 2,
                                                sizeof(const char *));
    apr_array_header_t *list;
    unsigned char h1[AZS_SHA256_LEN], h2[AZS_SHA256_LEN];
    apr_int64_t id1 = 0, id2 = 0;
    azs_token_t t, *lt;

    azs_token_hash(h1, "azs_one");
    azs_token_hash(h2, "azs_two");
    APR_ARRAY_PUSH(scopes, const char *) = "api:read";
    APR_ARRAY_PUSH(scopes, const char *) = "api:call";
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "ann", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_token_add(st, "nobody", h1, "x", 0, NULL, &id1),
                     AZS_RC_NOTFOUND);
    assert_int_equal(azs_token_add(st, "bob", h1, "ci", 2000000000, scopes,
                                   &id1), AZS_RC_OK);
    assert_int_equal(azs_token_add(st, "bob", h1, "again", 0, NULL, &id2),
                     AZS_RC_EXISTS);
    assert_int_equal(azs_token_add(st, "ann", h2, "bad\nlabel", 0, NULL,
                                   &id2), AZS_RC_INVALID);
    assert_int_equal(azs_token_add(st, "ann", h2, NULL, 0, NULL, &id2),
                     AZS_RC_OK);
    assert_true(id1 > 0 && id2 > id1);

    assert_int_equal(azs_token_get(st, h1, &t, fx->pool), AZS_RC_OK);
    assert_int_equal(t.id, id1);
    assert_string_equal(t.user, "bob");
    assert_string_equal(t.label, "ci");
    assert_int_equal(t.expires, 2000000000);
    assert_int_equal(t.scopes->nelts, 2);

    assert_int_equal(azs_token_list(st, NULL, fx->pool, &list), AZS_RC_OK);
    assert_int_equal(list->nelts, 2);
    lt = &APR_ARRAY_IDX(list, 0, azs_token_t);
    assert_int_equal(lt->id, id1);
    assert_int_equal(lt->scopes->nelts, 2);
    assert_string_equal(at(lt->scopes, 0), "api:call");
    assert_string_equal(at(lt->scopes, 1), "api:read");
    lt = &APR_ARRAY_IDX(list, 1, azs_token_t);
    assert_string_equal(lt->user, "ann");
    assert_string_equal(lt->label, "");
    assert_int_equal(lt->scopes->nelts, 0);
    assert_int_equal(azs_token_list(st, "ann", fx->pool, &list), AZS_RC_OK);
    assert_int_equal(list->nelts, 1);
    assert_int_equal(azs_token_list(st, "nobody", fx->pool, &list),
                     AZS_RC_NOTFOUND);

    assert_int_equal(azs_token_revoke(st, id1, 1700000000), AZS_RC_OK);
    /* Revoking again keeps the first time. */
    assert_int_equal(azs_token_revoke(st, id1, 1800000000), AZS_RC_OK);
    assert_int_equal(azs_token_revoke(st, 999999, 1700000000), AZS_RC_NOTFOUND);
    assert_int_equal(azs_token_revoke(st, id2, 0), AZS_RC_INVALID);
    assert_int_equal(azs_token_get(st, h1, &t, fx->pool), AZS_RC_OK);
    assert_int_equal(t.revoked, 1700000000);
    azs_store_close(st);
}

static azs_cidr_t cidr(const char *text)
{
    azs_cidr_t c;

    assert_null(azs_cidr_parse(text, &c));
    return c;
}

static void test_blocklist(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_cidr_t net = cidr("192.0.2.0/24"), one = cidr("198.51.100.7");
    azs_cidr_t v6 = cidr("2001:db8::/32"), bad = net;
    apr_array_header_t *list;
    azs_block_t b, *e;
    azs_cidr_t probe;

    assert_int_equal(azs_block_add(st, &net, "scanner", 0), AZS_RC_OK);
    assert_int_equal(azs_block_add(st, &net, "again", 0), AZS_RC_EXISTS);
    assert_int_equal(azs_block_add(st, &one, NULL, 2000000000), AZS_RC_OK);
    assert_int_equal(azs_block_add(st, &v6, "v6", 0), AZS_RC_OK);
    assert_int_equal(azs_block_add(st, &v6, "v6 again", 0), AZS_RC_EXISTS);
    assert_int_equal(azs_block_add(st, &bad, "ctl\x01", 0), AZS_RC_INVALID);
    bad.bits = 16;      /* host bits set for a /16 */
    assert_int_equal(azs_block_add(st, &bad, "", 0), AZS_RC_INVALID);

    assert_int_equal(azs_block_list(st, fx->pool, &list), AZS_RC_OK);
    assert_int_equal(list->nelts, 3);
    /* By address: IPv4 (::ffff:a.b.c.d) sorts before 2001:db8::. */
    e = &APR_ARRAY_IDX(list, 0, azs_block_t);
    assert_string_equal(e->text, "192.0.2.0/24");
    assert_string_equal(e->reason, "scanner");
    assert_int_equal(e->range.bits, net.bits);
    assert_memory_equal(e->range.net, net.net, 16);
    e = &APR_ARRAY_IDX(list, 1, azs_block_t);
    assert_string_equal(e->text, "198.51.100.7");
    assert_string_equal(e->reason, "");
    assert_int_equal(e->expires, 2000000000);
    e = &APR_ARRAY_IDX(list, 2, azs_block_t);
    assert_string_equal(e->text, "2001:db8::/32");
    assert_string_equal(e->reason, "v6");

    assert_null(azs_addr_parse("192.0.2.99", &probe));
    assert_int_equal(azs_block_match(st, probe.net, azs_now(), &b,
                                     fx->pool), AZS_RC_OK);
    assert_string_equal(b.reason, "scanner");
    assert_int_equal(azs_block_del(st, &net), AZS_RC_OK);
    assert_int_equal(azs_block_del(st, &net), AZS_RC_NOTFOUND);
    assert_int_equal(azs_block_match(st, probe.net, azs_now(), &b,
                                     fx->pool), AZS_RC_NOTFOUND);
    assert_int_equal(azs_block_list(st, fx->pool, &list), AZS_RC_OK);
    assert_int_equal(list->nelts, 2);
    azs_store_close(st);
}

/* Every change any admin call makes is seen by the next reader. */
static void test_generation(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_cidr_t net = cidr("203.0.113.0/24");
    unsigned char h[AZS_SHA256_LEN];
    apr_int64_t last = gen(st), id = 0, before;

    memset(h, 1, sizeof(h));
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_set_hash(st, "bob", HASH2), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_set_disabled(st, "bob", 1), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_set_expires(st, "bob", 5), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_add(st, "r"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_add(st, "s"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_grant(st, "r", "p"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_inherit(st, "r", "s"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_grant(st, "bob", "r"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_revoke(st, "bob", "r"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_disinherit(st, "r", "s"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_revoke(st, "r", "p"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_token_add(st, "bob", h, "", 0, NULL, &id), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_token_revoke(st, id, 1700000000), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_block_add(st, &net, "", 0), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_block_del(st, &net), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_role_del(st, "s"), AZS_RC_OK);
    BUMPED(st, last);
    assert_int_equal(azs_user_del(st, "bob"), AZS_RC_OK);
    BUMPED(st, last);

    /* Failed calls change nothing. */
    before = last;
    assert_int_equal(azs_user_del(st, "bob"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_add(st, "r"), AZS_RC_EXISTS);
    assert_int_equal(gen(st), before);
    azs_store_close(st);
}

/* The caller's transaction makes a failed command change nothing. */
static void test_rollback(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *users;
    azs_user_t u;

    assert_int_equal(azs_store_begin(st), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_role_add(st, "r"), AZS_RC_OK);
    assert_int_equal(azs_user_grant(st, "bob", "r"), AZS_RC_OK);
    azs_store_rollback(st);
    assert_int_equal(azs_user_get(st, "bob", &u, fx->pool), AZS_RC_NOTFOUND);
    assert_int_equal(azs_role_exists(st, "r"), AZS_RC_NOTFOUND);
    assert_int_equal(azs_user_list(st, fx->pool, &users), AZS_RC_OK);
    assert_int_equal(users->nelts, 0);
    azs_store_close(st);
}

/* A database fault is AZS_RC_DBERR, and azs_store_error says why. */
static void test_dberr(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    const char *err = NULL;
    azs_store_t *ro = NULL;

    azs_store_close(st);
    assert_int_equal(azs_store_open(&ro, fx->db, 1, 100, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(azs_role_add(ro, "r"), AZS_RC_DBERR);
    assert_non_null(strstr(azs_store_error(ro), "readonly"));
    azs_store_close(ro);
}

/* ---- the audit trail ---------------------------------------------------- */

/* One int from a query on the store's own handle. */
static int one_int(azs_store_t *st, const char *q)
{
    int v = -1;

    assert_int_equal(azs_sqlite_int(azs_store_db(st), q, &v), SQLITE_OK);
    return v;
}

/* Rows collected by azs_audit_list, copied into the fixture's pool. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *rows;    /* azs_audit_t */
    int stop_after;              /* 0: never stop */
} audit_seen;

static int collect(const azs_audit_t *a, void *baton)
{
    audit_seen *seen = baton;
    azs_audit_t *r = apr_array_push(seen->rows);

    *r = *a;
    r->sys_user = apr_pstrdup(seen->p, a->sys_user);
    r->db_role = apr_pstrdup(seen->p, a->db_role);
    r->command = apr_pstrdup(seen->p, a->command);
    r->args = apr_pstrdup(seen->p, a->args);
    r->outcome = apr_pstrdup(seen->p, a->outcome);
    return seen->stop_after && seen->rows->nelts >= seen->stop_after;
}

static apr_array_header_t *audit_rows(unit_fx *fx, azs_store_t *st,
                                      apr_int64_t since, int stop_after)
{
    audit_seen seen = {fx->pool, NULL, stop_after};

    seen.rows = apr_array_make(fx->pool, 4, sizeof(azs_audit_t));
    assert_int_equal(azs_audit_list(st, since, collect, &seen), AZS_RC_OK);
    return seen.rows;
}

#define ROW(a, i) (&APR_ARRAY_IDX((a), (i), azs_audit_t))

static azs_audit_t audit_row(apr_int64_t at, const char *cmd,
                             const char *args, const char *outcome)
{
    azs_audit_t a;

    memset(&a, 0, sizeof(a));
    a.at = at;
    a.sys_user = "alice";
    a.command = cmd;
    a.args = args;
    a.outcome = outcome;
    return a;
}

/* A row is written in the caller's transaction, with the change or not
 * at all, and touches neither the generation nor the feed. */
static void test_audit_in_the_transaction(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    azs_audit_t a = audit_row(0, "user add", "bob", "ok");
    apr_array_header_t *rows;
    apr_int64_t g, t0 = azs_now();
    int feed;

    assert_int_equal(azs_store_begin(st), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    azs_store_rollback(st);
    assert_int_equal(audit_rows(fx, st, 0, 0)->nelts, 0);

    assert_int_equal(azs_store_begin(st), AZS_RC_OK);
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    assert_int_equal(azs_store_commit(st), AZS_RC_OK);
    rows = audit_rows(fx, st, 0, 0);
    assert_int_equal(rows->nelts, 1);
    assert_true(ROW(rows, 0)->at >= t0 && ROW(rows, 0)->at <= azs_now());
    assert_string_equal(ROW(rows, 0)->sys_user, "alice");
    assert_string_equal(ROW(rows, 0)->db_role, "");
    assert_string_equal(ROW(rows, 0)->command, "user add");
    assert_string_equal(ROW(rows, 0)->args, "bob");
    assert_string_equal(ROW(rows, 0)->outcome, "ok");

    /* A row alone: no new generation, no feed row. */
    g = gen(st);
    feed = one_int(st, "SELECT count(*) FROM changes");
    a = audit_row(0, "user del", "nobody", "error: user \"nobody\" not found");
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    assert_int_equal(gen(st), g);
    assert_int_equal(one_int(st, "SELECT count(*) FROM changes"), feed);
    assert_int_equal(one_int(st, "SELECT count(*) FROM sqlite_master WHERE "
                                 "type = 'trigger' AND sql LIKE '%audit%'"),
                     0);
    azs_store_close(st);
}

/* Oldest first; --since reads the index on at; a walk can be stopped. */
static void test_audit_list_since(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *rows;
    sqlite3_stmt *plan;
    azs_audit_t a;
    char args[16];
    int i;

    for (i = 1; i <= 10; i++) {
        snprintf(args, sizeof(args), "r%d", i);
        a = audit_row(1000 * i, "role add", args, "ok");
        assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    }
    rows = audit_rows(fx, st, 0, 0);
    assert_int_equal(rows->nelts, 10);
    for (i = 0; i < 10; i++) {
        assert_int_equal(ROW(rows, i)->at, 1000 * (i + 1));
        assert_true(i == 0 || ROW(rows, i)->id > ROW(rows, i - 1)->id);
    }
    rows = audit_rows(fx, st, 7000, 0);
    assert_int_equal(rows->nelts, 4);
    assert_string_equal(ROW(rows, 0)->args, "r7");
    assert_string_equal(ROW(rows, 3)->args, "r10");
    rows = audit_rows(fx, st, 7001, 0);
    assert_int_equal(rows->nelts, 3);
    assert_int_equal(audit_rows(fx, st, 20000, 0)->nelts, 0);
    assert_int_equal(audit_rows(fx, st, 0, 3)->nelts, 3);
    /* The query with --since uses the index, not a scan of the table. */
    assert_int_equal(sqlite3_prepare_v2(azs_store_db(st), "EXPLAIN QUERY PLAN"
                                        " SELECT id, at, sys_user, db_role,"
                                        " command, args, outcome FROM audit"
                                        " WHERE at >= ?1 ORDER BY at, id",
                                        -1, &plan, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(plan), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(plan, 3),
                           "USING INDEX audit_at"));
    assert_int_equal(sqlite3_step(plan), SQLITE_DONE);   /* no sort step */
    sqlite3_finalize(plan);
    azs_store_close(st);
}

/* Whatever a caller gives, a row holds one line of valid UTF-8. */
static void test_audit_texts_made_safe(void **state)
{
    unit_fx *fx = *state;
    azs_store_t *st = unit_store(fx);
    apr_array_header_t *rows;
    azs_audit_t a;
    char *big = unit_repeat(fx, 'x', 10000);
    char *huge = unit_repeat(fx, 'y', 70000);

    a = audit_row(5, "user add", "a\nb\tc \xff\xc3\xa9 \xc2\x85",
                  "error: line one\nline two\x1b[2J");
    a.sys_user = "ev\x1bil";
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    a = audit_row(6, "role grant", big, big);
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    a = audit_row(7, "role grant", huge, "ok");
    assert_int_equal(azs_audit_add(st, &a), AZS_RC_OK);
    rows = audit_rows(fx, st, 0, 0);
    assert_string_equal(ROW(rows, 0)->args,
                        "a\\x0ab\\x09c \\xff\xc3\xa9 \\xc2\\x85");
    assert_string_equal(ROW(rows, 0)->outcome,
                        "error: line one\\x0aline two\\x1b[2J");
    assert_string_equal(ROW(rows, 0)->sys_user, "ev\\x1bil");
    assert_int_equal(strlen(ROW(rows, 1)->args), 10000);
    assert_int_equal(strlen(ROW(rows, 1)->outcome), 512 + 3);
    assert_int_equal(strlen(ROW(rows, 2)->args), 65536 + 3);
    azs_store_close(st);
}

static void test_audit_quote(void **state)
{
    unit_fx *fx = *state;
    apr_pool_t *p = fx->pool;

    assert_string_equal(azs_audit_quote(p, "bob"), "bob");
    assert_string_equal(azs_audit_quote(p, "docs:read"), "docs:read");
    assert_string_equal(azs_audit_quote(p, "192.0.2.0/24"), "192.0.2.0/24");
    assert_string_equal(azs_audit_quote(p, "caf\xc3\xa9"), "caf\xc3\xa9");
    assert_string_equal(azs_audit_quote(p, ""), "\"\"");
    assert_string_equal(azs_audit_quote(p, "ci job"), "\"ci job\"");
    assert_string_equal(azs_audit_quote(p, "q\"b\\s"), "\"q\\\"b\\\\s\"");
    assert_string_equal(azs_audit_quote(p, "it's"), "\"it's\"");
    assert_string_equal(azs_audit_quote(p, "x\xffy"), "\"x\\xffy\"");
    assert_string_equal(azs_audit_quote(p, "a\nb"), "\"a\\x0ab\"");
    assert_string_equal(azs_audit_quote(p, "c1\xc2\x9b"), "\"c1\\xc2\\x9b\"");
    /* Bidirectional controls reorder a line: escaped too. */
    assert_string_equal(azs_audit_quote(p, "a\xe2\x80\xae" "b"),
                        "\"a\\xe2\\x80\\xae" "b\"");
    assert_string_equal(azs_audit_quote(p, "rtl\xe2\x81\xa6"),
                        "\"rtl\\xe2\\x81\\xa6\"");
    /* One operand is bounded, so what follows it (an id, counts) stays. */
    assert_int_equal(strlen(azs_audit_quote(p, unit_repeat(fx, 'w', 600))),
                     1 + 512 + 1 + 3);
    assert_string_equal(azs_audit_text(p, "ok \xe2\x82", 100),
                        "ok \\xe2\\x82");
}

static void test_audit_user(void **state)
{
    unit_fx *fx = *state;
    const char *saved = getenv("SUDO_USER");
    struct passwd *pw = getpwuid(getuid());
    const char *my_name = pw ? apr_pstrdup(fx->pool, pw->pw_name) : NULL;

    assert_non_null(pw);
    setenv("SUDO_USER", "alice", 1);
    if (getuid() == 0) {
        int fd[2], status;
        char buf[256] = "";
        struct passwd *nobody = getpwuid(65534);
        /* getpwuid's answer is overwritten by the next call. */
        const char *nobody_name = nobody ? apr_pstrdup(fx->pool,
                                                       nobody->pw_name)
                                         : NULL;
        pid_t pid;

        /* Root: sudo's word for who ran it. */
        assert_string_equal(azs_audit_user(fx->pool), "alice");
        setenv("SUDO_USER", "a\nb", 1);
        assert_string_equal(azs_audit_user(fx->pool), "a\\x0ab");
        /* Anyone else may set it to anything: beside the real name. */
        setenv("SUDO_USER", "root", 1);
        assert_non_null(nobody_name);
        assert_int_equal(pipe(fd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            const char *u;

            if (setgid(65534) != 0 || setuid(65534) != 0) {
                _exit(1);
            }
            u = azs_audit_user(fx->pool);
            _exit(write(fd[1], u, strlen(u)) < 0);
        }
        close(fd[1]);
        assert_true(read(fd[0], buf, sizeof(buf) - 1) > 0);
        close(fd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (strcmp(buf, apr_pstrcat(fx->pool, nobody_name,
                                    " (SUDO_USER root)", NULL)) != 0) {
            fail_msg("as uid 65534: \"%s\"", buf);
        }
    }
    else {
        assert_string_equal(azs_audit_user(fx->pool),
                            apr_pstrcat(fx->pool, my_name,
                                        " (SUDO_USER alice)", NULL));
    }
    setenv("SUDO_USER", "", 1);
    assert_string_equal(azs_audit_user(fx->pool), my_name);
    unsetenv("SUDO_USER");
    assert_string_equal(azs_audit_user(fx->pool), my_name);
    if (saved) {
        setenv("SUDO_USER", saved, 1);
    }
}

/* init writes its row with the schema, in the same transaction; on a
 * version 4 file it adds the trail alone: no cache forgets anything. */
static void test_audit_init_and_upgrade(void **state)
{
    unit_fx *fx = *state;
    azs_audit_t a = audit_row(0, "init", "create", "ok");
    azs_store_t *st = NULL;
    const char *err = NULL;
    apr_array_header_t *rows;
    apr_int64_t g, cred;

    assert_int_equal(azs_store_init_audit(fx->db, &a, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_OK);
    rows = audit_rows(fx, st, 0, 0);
    assert_int_equal(rows->nelts, 1);
    assert_string_equal(ROW(rows, 0)->command, "init");
    assert_int_equal(azs_user_add(st, "bob", HASH1, 0, 0), AZS_RC_OK);
    g = gen(st);
    cred = one_int(st, "SELECT cred & 0x7fffffff FROM users");
    assert_int_equal(sqlite3_exec(azs_store_db(st), "DROP TABLE audit;"
                                  "PRAGMA user_version = 4", NULL, NULL,
                                  NULL), SQLITE_OK);
    azs_store_close(st);

    /* Version 4: refused as it is, upgraded by init. */
    assert_int_equal(azs_store_open(&st, fx->db, 1, 1000, fx->pool, &err),
                     AZS_RC_DBERR);
    assert_non_null(strstr(err, "schema version 4"));
    assert_int_equal(azs_store_version(fx->db), 4);
    a = audit_row(0, "init", "upgrade from=4 to=5", "ok");
    assert_int_equal(azs_store_init_audit(fx->db, &a, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(azs_store_version(fx->db), AZS_SCHEMA_VERSION);
    assert_int_equal(azs_store_open(&st, fx->db, 0, 1000, fx->pool, &err),
                     AZS_RC_OK);
    rows = audit_rows(fx, st, 0, 0);
    assert_int_equal(rows->nelts, 1);
    assert_string_equal(ROW(rows, 0)->args, "upgrade from=4 to=5");
    assert_int_equal(gen(st), g);
    assert_int_equal(one_int(st, "SELECT cred & 0x7fffffff FROM users"),
                     cred);

    /* init on a current file writes nothing. */
    azs_store_close(st);
    assert_int_equal(azs_store_init_audit(fx->db, &a, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(azs_store_open(&st, fx->db, 1, 1000, fx->pool, &err),
                     AZS_RC_OK);
    assert_int_equal(audit_rows(fx, st, 0, 0)->nelts, 1);
    azs_store_close(st);
}

static const struct CMUnitTest tests[] = {
    T(test_user_add_dup_del),
    T(test_user_invalid),
    T(test_user_updates),
    T(test_grants),
    T(test_inherit_cycles),
    T(test_role_del_cascades),
    T(test_tokens),
    T(test_blocklist),
    T(test_generation),
    T(test_rollback),
    T(test_dberr),
    T(test_audit_in_the_transaction),
    T(test_audit_list_since),
    T(test_audit_texts_made_safe),
    T(test_audit_quote),
    T(test_audit_user),
    T(test_audit_init_and_upgrade),
};

UNIT_MAIN(tests)
