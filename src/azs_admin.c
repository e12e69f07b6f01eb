/*
 * azs_admin.c - the writes htauthz makes, and the listings it shows.
 *
 * Nothing here begins or commits: the caller wraps one command in one
 * transaction (azs_store_begin/commit), so a command that fails half way
 * changes nothing.  Functions use one statement at a time and release it
 * before the next, so the failing one is the last to touch the handle
 * and its message is what azs_store_error reports.
 *
 * Statements are prepared once per handle (azs_store_prepare): an import
 * runs the same few statements 100,000 times, and preparing costs more
 * than running.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "azs.h"

/* Statements belong to the handle's cache: reset, never finalize. */
static void release(azs_stmt_t *s)
{
    azs_reset(s);
}

/* azs_step has set the store's error. */
static azs_rc db_fail(azs_store_t *st, azs_stmt_t *s, int rc)
{
    (void)st, (void)rc;
    if (s) {
        release(s);
    }
    return AZS_RC_DBERR;
}

static azs_rc prep(azs_store_t *st, const char *sql, azs_stmt_t **s)
{
    azs_rc r = azs_store_prepare(st, sql, s);

    if (r != AZS_RC_OK) {
        *s = NULL;
    }
    return r;
}

static int is_unique_violation(int rc)
{
    return azs_step_unique(rc);
}

/* Runs a statement that returns no row.  AZS_RC_EXISTS on a unique key,
 * AZS_RC_NOTFOUND when it changed no row and want_change is set. */
static azs_rc run(azs_store_t *st, azs_stmt_t *s, int want_change)
{
    int rc = azs_step(s);

    if (rc == AZS_STEP_DONE) {
        apr_int64_t changed = azs_store_changes(st);

        release(s);
        return (want_change && changed == 0) ? AZS_RC_NOTFOUND : AZS_RC_OK;
    }
    if (is_unique_violation(rc)) {
        release(s);
        return AZS_RC_EXISTS;
    }
    return db_fail(st, s, rc);
}

/* PostgreSQL holds UTF-8 text only: any other name cannot be there, and
 * is refused before a query (which would fail). */
static int name_storable(azs_store_t *st, const char *name)
{
    return !azs_store_is_pg(st) || azs_utf8_valid(name);
}

/* The id of a row by its name: sql selects id where name = ?1. */
static azs_rc id_by_name(azs_store_t *st, const char *sql, const char *name,
                         apr_int64_t *id)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    if (!name_storable(st, name)) {
        return AZS_RC_NOTFOUND;     /* PostgreSQL cannot hold it */
    }
    if ((r = prep(st, sql, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, name);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW) {
        *id = azs_col_int64(s, 0);
        release(s);
        return AZS_RC_OK;
    }
    if (rc == AZS_STEP_DONE) {
        release(s);
        return AZS_RC_NOTFOUND;
    }
    return db_fail(st, s, rc);
}

static azs_rc user_id(azs_store_t *st, const char *name, apr_int64_t *id)
{
    return id_by_name(st, "SELECT id FROM users WHERE name = ?1", name, id);
}

static azs_rc role_id(azs_store_t *st, const char *name, apr_int64_t *id)
{
    return id_by_name(st, "SELECT id FROM roles WHERE name = ?1", name, id);
}

/* A query of one text column, rows pushed as const char * onto out. */
static azs_rc names(azs_store_t *st, const char *sql, int bind_id,
                    apr_int64_t id, apr_pool_t *p, apr_array_header_t **out)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    *out = apr_array_make(p, 8, sizeof(const char *));
    if ((r = prep(st, sql, &s)) != AZS_RC_OK) {
        return r;
    }
    if (bind_id) {
        azs_bind_int64(s, 1, id);
    }
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        const char *t = azs_col_text(s, 0);

        APR_ARRAY_PUSH(*out, const char *) =
            apr_pstrdup(p, t ? (const char *)t : "");
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    return AZS_RC_OK;
}

static const char *col_text(apr_pool_t *p, azs_stmt_t *s, int i)
{
    const char *t = azs_col_text(s, i);

    return apr_pstrdup(p, t ? (const char *)t : "");
}

/* Labels and reasons are shown in lists and logs: one line of text. */
static int text_invalid(const char *t)
{
    const unsigned char *c = (const unsigned char *)t;

    for (; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            return 1;
        }
    }
    return (c - (const unsigned char *)t) > 1024;
}

/* ---- users ------------------------------------------------------------ */

azs_rc azs_user_add(azs_store_t *st, const char *name, const char *hash,
                    int disabled, apr_int64_t expires)
{
    azs_stmt_t *s;
    apr_int64_t now = azs_now();
    azs_rc r;

    if (azs_user_name_invalid(name) || !hash || !azs_hash_supported(hash)
        || expires < 0 || !name_storable(st, name)) {
        return AZS_RC_INVALID;
    }
    r = prep(st, "INSERT INTO users (name, hash, disabled, expires, created,"
                 " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, name);
    azs_bind_text(s, 2, hash);
    azs_bind_int64(s, 3, disabled ? 1 : 0);
    azs_bind_int64(s, 4, expires);
    azs_bind_int64(s, 5, now);
    return run(st, s, 0);
}

/* UPDATE users SET <what> = ?2, updated = ?3 WHERE name = ?1 */
static azs_rc user_update(azs_store_t *st, const char *sql, const char *name,
                          const char *text, apr_int64_t value)
{
    azs_stmt_t *s;
    azs_rc r;

    if ((r = prep(st, sql, &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, name);
    if (text) {
        azs_bind_text(s, 2, text);
    }
    else {
        azs_bind_int64(s, 2, value);
    }
    azs_bind_int64(s, 3, azs_now());
    return run(st, s, 1);
}

azs_rc azs_user_set_hash(azs_store_t *st, const char *name,
                         const char *hash)
{
    if (!hash || !azs_hash_supported(hash)) {
        return AZS_RC_INVALID;
    }
    return user_update(st, "UPDATE users SET hash = ?2, updated = ?3"
                           " WHERE name = ?1", name, hash, 0);
}

azs_rc azs_user_set_disabled(azs_store_t *st, const char *name, int off)
{
    return user_update(st, "UPDATE users SET disabled = ?2, updated = ?3"
                           " WHERE name = ?1", name, NULL, off ? 1 : 0);
}

azs_rc azs_user_set_expires(azs_store_t *st, const char *name,
                            apr_int64_t expires)
{
    if (expires < 0) {
        return AZS_RC_INVALID;
    }
    return user_update(st, "UPDATE users SET expires = ?2, updated = ?3"
                           " WHERE name = ?1", name, NULL, expires);
}

azs_rc azs_user_del(azs_store_t *st, const char *name)
{
    azs_stmt_t *s;
    azs_rc r;

    /* user_roles and tokens follow through ON DELETE CASCADE. */
    if ((r = prep(st, "DELETE FROM users WHERE name = ?1", &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, name);
    return run(st, s, 1);
}

azs_rc azs_user_list(azs_store_t *st, apr_pool_t *p,
                     apr_array_header_t **users)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    *users = apr_array_make(p, 16, sizeof(azs_user_t));
    r = prep(st, "SELECT id, name, hash, disabled, expires, created, updated"
                 " FROM users ORDER BY name", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        azs_user_t *u = apr_array_push(*users);

        u->id = azs_col_int64(s, 0);
        u->name = col_text(p, s, 1);
        u->hash = col_text(p, s, 2);
        u->disabled = (int)azs_col_int64(s, 3) != 0;
        u->expires = azs_col_int64(s, 4);
        u->created = azs_col_int64(s, 5);
        u->updated = azs_col_int64(s, 6);
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    return AZS_RC_OK;
}

/* The ids of a user and a role, AZS_RC_NOTFOUND when either is missing. */
static azs_rc user_role_ids(azs_store_t *st, const char *user,
                            const char *role, apr_int64_t *uid,
                            apr_int64_t *rid)
{
    azs_rc r = user_id(st, user, uid);

    return r == AZS_RC_OK ? role_id(st, role, rid) : r;
}

azs_rc azs_user_grant(azs_store_t *st, const char *user, const char *role)
{
    azs_stmt_t *s;
    apr_int64_t uid, rid;
    azs_rc r;

    if ((r = user_role_ids(st, user, role, &uid, &rid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "INSERT INTO user_roles (user_id, role_id)"
                 " VALUES (?1, ?2)", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, uid);
    azs_bind_int64(s, 2, rid);
    return run(st, s, 0);
}

azs_rc azs_user_revoke(azs_store_t *st, const char *user, const char *role)
{
    azs_stmt_t *s;
    apr_int64_t uid, rid;
    azs_rc r;

    if ((r = user_role_ids(st, user, role, &uid, &rid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "DELETE FROM user_roles WHERE user_id = ?1"
                 " AND role_id = ?2", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, uid);
    azs_bind_int64(s, 2, rid);
    return run(st, s, 1);
}

azs_rc azs_user_roles(azs_store_t *st, apr_int64_t user_id, apr_pool_t *p,
                      apr_array_header_t **roles)
{
    return names(st, "SELECT roles.name FROM user_roles"
                     " JOIN roles ON roles.id = user_roles.role_id"
                     " WHERE user_roles.user_id = ?1 ORDER BY roles.name",
                 1, user_id, p, roles);
}

/* ---- roles and permissions -------------------------------------------- */

azs_rc azs_role_add(azs_store_t *st, const char *role)
{
    azs_stmt_t *s;
    azs_rc r;

    if (azs_role_name_invalid(role) || !name_storable(st, role)) {
        return AZS_RC_INVALID;
    }
    r = prep(st, "INSERT INTO roles (name) VALUES (?1)", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, role);
    return run(st, s, 0);
}

/* Permission names live as long as a role carries them. */
static azs_rc perms_prune(azs_store_t *st)
{
    azs_stmt_t *s;
    azs_rc r;

    r = prep(st, "DELETE FROM permissions WHERE NOT EXISTS"
                 " (SELECT 1 FROM role_permissions"
                 " WHERE role_permissions.perm_id = permissions.id)", &s);
    return r == AZS_RC_OK ? run(st, s, 0) : r;
}

azs_rc azs_role_del(azs_store_t *st, const char *role)
{
    azs_stmt_t *s;
    azs_rc r;

    /* Inheritance, grants to users and permissions follow through
     * ON DELETE CASCADE. */
    if ((r = prep(st, "DELETE FROM roles WHERE name = ?1", &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, role);
    if ((r = run(st, s, 1)) != AZS_RC_OK) {
        return r;
    }
    return perms_prune(st);
}

azs_rc azs_role_exists(azs_store_t *st, const char *role)
{
    apr_int64_t id;

    return role_id(st, role, &id);
}

azs_rc azs_role_list(azs_store_t *st, apr_pool_t *p,
                     apr_array_header_t **roles)
{
    return names(st, "SELECT name FROM roles ORDER BY name", 0, 0, p, roles);
}

azs_rc azs_role_grant(azs_store_t *st, const char *role, const char *perm)
{
    azs_stmt_t *s;
    apr_int64_t rid;
    azs_rc r;

    if (azs_role_name_invalid(perm)) {
        return AZS_RC_INVALID;
    }
    if ((r = role_id(st, role, &rid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "INSERT INTO permissions (name) VALUES (?1)"
                 " ON CONFLICT DO NOTHING", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_text(s, 1, perm);
    if ((r = run(st, s, 0)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "INSERT INTO role_permissions (role_id, perm_id)"
                 " SELECT CAST(?1 AS bigint), id FROM permissions"
                 " WHERE name = ?2", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, rid);
    azs_bind_text(s, 2, perm);
    return run(st, s, 0);
}

azs_rc azs_role_revoke(azs_store_t *st, const char *role, const char *perm)
{
    azs_stmt_t *s;
    apr_int64_t rid;
    azs_rc r;

    if ((r = role_id(st, role, &rid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "DELETE FROM role_permissions WHERE role_id = ?1 AND"
                 " perm_id = (SELECT id FROM permissions WHERE name = ?2)",
             &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, rid);
    azs_bind_text(s, 2, perm);
    if ((r = run(st, s, 1)) != AZS_RC_OK) {
        return r;
    }
    return perms_prune(st);
}

azs_rc azs_role_inherit(azs_store_t *st, const char *role,
                        const char *other)
{
    azs_stmt_t *s;
    apr_int64_t rid, oid;
    azs_rc r;
    int rc;

    if ((r = role_id(st, role, &rid)) != AZS_RC_OK
        || (r = role_id(st, other, &oid)) != AZS_RC_OK) {
        return r;
    }
    if (rid == oid) {
        return AZS_RC_INVALID;
    }
    /* role inherits other: a cycle when other already reaches role. */
    r = prep(st, "WITH RECURSIVE up(id) AS (SELECT CAST(?1 AS bigint) UNION"
                 " SELECT role_inherits.parent_id FROM role_inherits"
                 " JOIN up ON role_inherits.role_id = up.id)"
                 " SELECT 1 FROM up WHERE id = ?2", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, oid);
    azs_bind_int64(s, 2, rid);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW) {
        release(s);
        return AZS_RC_INVALID;
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    r = prep(st, "INSERT INTO role_inherits (role_id, parent_id)"
                 " VALUES (?1, ?2)", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, rid);
    azs_bind_int64(s, 2, oid);
    return run(st, s, 0);
}

azs_rc azs_role_disinherit(azs_store_t *st, const char *role,
                           const char *other)
{
    azs_stmt_t *s;
    apr_int64_t rid, oid;
    azs_rc r;

    if ((r = role_id(st, role, &rid)) != AZS_RC_OK
        || (r = role_id(st, other, &oid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "DELETE FROM role_inherits WHERE role_id = ?1"
                 " AND parent_id = ?2", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, rid);
    azs_bind_int64(s, 2, oid);
    return run(st, s, 1);
}

azs_rc azs_role_detail(azs_store_t *st, const char *role, apr_pool_t *p,
                       apr_array_header_t **perms,
                       apr_array_header_t **inherits,
                       apr_array_header_t **members)
{
    apr_int64_t rid;
    azs_rc r;

    if ((r = role_id(st, role, &rid)) != AZS_RC_OK) {
        return r;
    }
    r = names(st, "SELECT permissions.name FROM role_permissions"
                  " JOIN permissions"
                  " ON permissions.id = role_permissions.perm_id"
                  " WHERE role_permissions.role_id = ?1"
                  " ORDER BY permissions.name", 1, rid, p, perms);
    if (r != AZS_RC_OK) {
        return r;
    }
    r = names(st, "SELECT roles.name FROM role_inherits"
                  " JOIN roles ON roles.id = role_inherits.parent_id"
                  " WHERE role_inherits.role_id = ?1 ORDER BY roles.name",
              1, rid, p, inherits);
    if (r != AZS_RC_OK) {
        return r;
    }
    return names(st, "SELECT users.name FROM user_roles"
                     " JOIN users ON users.id = user_roles.user_id"
                     " WHERE user_roles.role_id = ?1 ORDER BY users.name",
                 1, rid, p, members);
}

/* ---- tokens ----------------------------------------------------------- */

azs_rc azs_token_add(azs_store_t *st, const char *user,
                     const unsigned char hash[32], const char *label,
                     apr_int64_t expires, const apr_array_header_t *scopes,
                     apr_int64_t *id)
{
    azs_stmt_t *s;
    apr_int64_t uid, tid;
    azs_rc r;
    int i, rc;

    if (!label) {
        label = "";
    }
    if (text_invalid(label) || expires < 0) {
        return AZS_RC_INVALID;
    }
    for (i = 0; scopes && i < scopes->nelts; i++) {
        if (azs_role_name_invalid(APR_ARRAY_IDX(scopes, i, const char *))) {
            return AZS_RC_INVALID;
        }
    }
    if ((r = user_id(st, user, &uid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "INSERT INTO tokens (hash, user_id, label, created,"
                 " expires) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_blob(s, 1, hash, AZS_SHA256_LEN);
    azs_bind_int64(s, 2, uid);
    azs_bind_text(s, 3, label);
    azs_bind_int64(s, 4, azs_now());
    azs_bind_int64(s, 5, expires);
    rc = azs_step(s);
    if (rc != AZS_STEP_ROW) {
        if (is_unique_violation(rc)) {
            release(s);
            return AZS_RC_EXISTS;
        }
        return db_fail(st, s, rc);
    }
    tid = azs_col_int64(s, 0);
    release(s);
    for (i = 0; scopes && i < scopes->nelts; i++) {
        r = prep(st, "INSERT INTO token_scopes (token_id, perm)"
                     " VALUES (?1, ?2) ON CONFLICT DO NOTHING", &s);
        if (r != AZS_RC_OK) {
            return r;
        }
        azs_bind_int64(s, 1, tid);
        azs_bind_text(s, 2, APR_ARRAY_IDX(scopes, i, const char *));
        if ((r = run(st, s, 0)) != AZS_RC_OK) {
            return r;
        }
    }
    if (id) {
        *id = tid;
    }
    return AZS_RC_OK;
}

azs_rc azs_token_revoke(azs_store_t *st, apr_int64_t id, apr_int64_t now)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    if (now <= 0) {
        return AZS_RC_INVALID;
    }
    /* A token revoked twice keeps the time of the first revocation. */
    r = prep(st, "UPDATE tokens SET revoked = ?2"
                 " WHERE id = ?1 AND revoked = 0", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, id);
    azs_bind_int64(s, 2, now);
    if ((r = run(st, s, 1)) != AZS_RC_NOTFOUND) {
        return r;
    }
    if ((r = prep(st, "SELECT 1 FROM tokens WHERE id = ?1", &s)) != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, id);
    rc = azs_step(s);
    if (rc == AZS_STEP_ROW || rc == AZS_STEP_DONE) {
        release(s);
        return rc == AZS_STEP_ROW ? AZS_RC_OK : AZS_RC_NOTFOUND;
    }
    return db_fail(st, s, rc);
}

azs_rc azs_token_list(azs_store_t *st, const char *user, apr_pool_t *p,
                      apr_array_header_t **tokens)
{
    azs_stmt_t *s;
    apr_hash_t *byid = apr_hash_make(p);
    apr_int64_t uid = 0;
    azs_rc r;
    int rc;

    *tokens = apr_array_make(p, 8, sizeof(azs_token_t));
    if (user && (r = user_id(st, user, &uid)) != AZS_RC_OK) {
        return r;
    }
    r = prep(st, "SELECT tokens.id, tokens.user_id, users.name, tokens.label,"
                 " tokens.created, tokens.expires, tokens.revoked"
                 " FROM tokens JOIN users ON users.id = tokens.user_id"
                 " WHERE ?1 = 0 OR tokens.user_id = ?1"
                 " ORDER BY tokens.id", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, uid);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        azs_token_t *t = apr_array_push(*tokens);

        t->id = azs_col_int64(s, 0);
        t->user_id = azs_col_int64(s, 1);
        t->user = col_text(p, s, 2);
        t->label = col_text(p, s, 3);
        t->created = azs_col_int64(s, 4);
        t->expires = azs_col_int64(s, 5);
        t->revoked = azs_col_int64(s, 6);
        t->scopes = apr_array_make(p, 2, sizeof(const char *));
        apr_hash_set(byid, apr_pmemdup(p, &t->id, sizeof(t->id)),
                     sizeof(t->id), t->scopes);
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    /* All scopes in one pass, rather than one query per token. */
    r = prep(st, "SELECT token_scopes.token_id, token_scopes.perm"
                 " FROM token_scopes"
                 " JOIN tokens ON tokens.id = token_scopes.token_id"
                 " WHERE ?1 = 0 OR tokens.user_id = ?1"
                 " ORDER BY token_scopes.token_id, token_scopes.perm", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, uid);
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        apr_int64_t tid = azs_col_int64(s, 0);
        apr_array_header_t *sc = apr_hash_get(byid, &tid, sizeof(tid));

        if (sc) {
            APR_ARRAY_PUSH(sc, const char *) = col_text(p, s, 1);
        }
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    return AZS_RC_OK;
}

/* ---- blocklist -------------------------------------------------------- */

static int range_invalid(const azs_cidr_t *range)
{
    unsigned char net[16];

    if (range->bits < 0 || range->bits > 128) {
        return 1;
    }
    azs_cidr_mask(net, range->net, range->bits);
    return memcmp(net, range->net, 16) != 0;
}

azs_rc azs_block_add(azs_store_t *st, const azs_cidr_t *range,
                     const char *reason, apr_int64_t expires)
{
    azs_stmt_t *s;
    apr_pool_t *p;
    azs_rc r;

    if (!reason) {
        reason = "";
    }
    if (range_invalid(range) || text_invalid(reason) || expires < 0) {
        return AZS_RC_INVALID;
    }
    r = prep(st, "INSERT INTO blocklist (net, bits, text, reason, created,"
                 " expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        release(s);
        return AZS_RC_INVALID;
    }
    azs_bind_blob(s, 1, range->net, 16);
    azs_bind_int64(s, 2, range->bits);
    azs_bind_text(s, 3, azs_cidr_format(p, range));
    azs_bind_text(s, 4, reason);
    azs_bind_int64(s, 5, azs_now());
    azs_bind_int64(s, 6, expires);
    r = run(st, s, 0);
    apr_pool_destroy(p);        /* after the run: the text is bound */
    return r;
}

azs_rc azs_block_del(azs_store_t *st, const azs_cidr_t *range)
{
    azs_stmt_t *s;
    azs_rc r;

    r = prep(st, "DELETE FROM blocklist WHERE bits = ?1 AND net = ?2", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    azs_bind_int64(s, 1, range->bits);
    azs_bind_blob(s, 2, range->net, 16);
    return run(st, s, 1);
}

azs_rc azs_block_list(azs_store_t *st, apr_pool_t *p,
                      apr_array_header_t **entries)
{
    azs_stmt_t *s;
    azs_rc r;
    int rc;

    *entries = apr_array_make(p, 8, sizeof(azs_block_t));
    r = prep(st, "SELECT id, net, bits, text, reason, created, expires"
                 " FROM blocklist ORDER BY net, bits", &s);
    if (r != AZS_RC_OK) {
        return r;
    }
    while ((rc = azs_step(s)) == AZS_STEP_ROW) {
        azs_block_t *b = apr_array_push(*entries);
        int len;
        const void *net = azs_col_blob(s, 1, &len);

        memset(b, 0, sizeof(*b));
        b->id = azs_col_int64(s, 0);
        if (net && len == 16) {
            memcpy(b->range.net, net, 16);
        }
        b->range.bits = (int)azs_col_int64(s, 2);
        b->text = col_text(p, s, 3);
        b->reason = col_text(p, s, 4);
        b->created = azs_col_int64(s, 5);
        b->expires = azs_col_int64(s, 6);
    }
    if (rc != AZS_STEP_DONE) {
        return db_fail(st, s, rc);
    }
    release(s);
    return AZS_RC_OK;
}
