-- mod_authz_status database on PostgreSQL, schema version 5 (meta
-- 'schema_version'): the tables, the change feed and the rules of
-- sql/schema.sql (SQLite), for a fleet of servers sharing one database.
--
-- Names are compared byte for byte (COLLATE "C"), as SQLite does.  Times
-- are seconds since the epoch (UTC); 0 means "never"/"not".  Random values
-- (generation, credential versions, feed tags) are 60-bit, never counted:
-- a restored backup never brings back a value that a cache holds answers
-- for with other content.
--
-- Two roles: authz_status_reader (httpd: SELECT only) and
-- authz_status_writer (htauthz).  Login roles are made members of them:
--   CREATE ROLE httpd LOGIN IN ROLE authz_status_reader;
--   CREATE ROLE admin LOGIN IN ROLE authz_status_writer;
-- Every write notifies channel authz_status (what changed is in the feed).

CREATE FUNCTION azs_random() RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT ('x' || substr(md5(random()::text || clock_timestamp()::text),
                         1, 15))::bit(60)::bigint + 1 $$;

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO meta (key, value)
    VALUES ('schema_version', 5), ('generation', azs_random());

CREATE TABLE users (
    id       bigserial PRIMARY KEY,
    name     text COLLATE "C" NOT NULL UNIQUE,
    hash     text NOT NULL,
    disabled integer NOT NULL DEFAULT 0,
    expires  bigint NOT NULL DEFAULT 0,
    created  bigint NOT NULL,
    updated  bigint NOT NULL,
    cred     bigint NOT NULL DEFAULT 0
);

CREATE TABLE roles (
    id   bigserial PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE
);

CREATE TABLE role_inherits (
    role_id   bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    parent_id bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, parent_id)
);
CREATE INDEX role_inherits_parent ON role_inherits (parent_id);

CREATE TABLE permissions (
    id   bigserial PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE
);

CREATE TABLE role_permissions (
    role_id bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    perm_id bigint NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, perm_id)
);
CREATE INDEX role_permissions_perm ON role_permissions (perm_id);

CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE tokens (
    id      bigserial PRIMARY KEY,
    hash    bytea NOT NULL UNIQUE,             -- SHA-256 of the token
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label   text NOT NULL DEFAULT '',
    created bigint NOT NULL,
    expires bigint NOT NULL DEFAULT 0,
    revoked bigint NOT NULL DEFAULT 0
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE token_scopes (
    token_id bigint NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    perm     text COLLATE "C" NOT NULL,
    PRIMARY KEY (token_id, perm)
);

-- 16-byte network addresses (IPv4 as ::ffff:a.b.c.d) with a prefix length.
CREATE TABLE blocklist (
    id      bigserial PRIMARY KEY,
    net     bytea NOT NULL,
    bits    integer NOT NULL,
    text    text NOT NULL,
    reason  text NOT NULL DEFAULT '',
    created bigint NOT NULL,
    expires bigint NOT NULL DEFAULT 0,
    UNIQUE (bits, net)
);

-- The change feed, as in sql/schema.sql: kind 1 a user (key: the name),
-- 2 a role (key: its id), 3 every role, 4 a token (key: its id), 5 the
-- blocklist (key: the range), 6 everything (a TRUNCATE; key: the
-- table).  The last 65,536 rows are kept.
CREATE TABLE changes (
    seq  bigserial PRIMARY KEY,
    tag  bigint NOT NULL,
    kind integer NOT NULL,
    key  text COLLATE "C" NOT NULL
);
INSERT INTO changes (tag, kind, key) VALUES (azs_random(), 0, '');

-- A new generation and a notification, once per transaction (a command
-- that changes 100,000 rows updates the generation's row once, not
-- 100,000 times).  The generation's row is taken first: held to the
-- commit, it makes writers take turns, so feed rows are numbered in commit
-- order (a reader that has seen row N has seen every row before it).
CREATE FUNCTION azs_bump() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('azs.bumped', true), '')
       <> txid_current()::text THEN
        UPDATE meta SET value = azs_random() WHERE key = 'generation';
        PERFORM set_config('azs.bumped', txid_current()::text, true);
        PERFORM pg_notify('authz_status', '');
    END IF;
END $$;

-- One feed row, in a transaction with a new generation.
CREATE FUNCTION azs_feed(k integer, keytext text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM azs_bump();
    INSERT INTO changes (tag, kind, key) VALUES (azs_random(), k, keytext);
END $$;

CREATE FUNCTION azs_changes_trim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM changes WHERE seq = NEW.seq - 65536;
    RETURN NULL;
END $$;
CREATE TRIGGER changes_trim AFTER INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION azs_changes_trim();

-- users: a new credential version whenever the name, hash, state or expiry
-- changes (and a first one on insert); a feed row for the old and the new
-- name.
CREATE FUNCTION azs_users_cred() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.hash IS DISTINCT FROM OLD.hash
       OR NEW.disabled IS DISTINCT FROM OLD.disabled
       OR NEW.expires IS DISTINCT FROM OLD.expires THEN
        NEW.cred := azs_random();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_cred BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION azs_users_cred();

CREATE FUNCTION azs_users_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM azs_feed(1, OLD.name);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.name <> OLD.name) THEN
        PERFORM azs_feed(1, NEW.name);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_feed AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION azs_users_feed();

CREATE FUNCTION azs_user_roles_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM azs_feed(1, name) FROM users WHERE id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM azs_feed(1, name) FROM users WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER user_roles_feed AFTER INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION azs_user_roles_feed();

-- roles, their parents and grants: the role (the child, for inheritance).
CREATE FUNCTION azs_role_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'roles' THEN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM azs_feed(2, OLD.id::text);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM azs_feed(2, NEW.id::text);
        END IF;
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM azs_feed(2, OLD.role_id::text);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM azs_feed(2, NEW.role_id::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER roles_feed AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION azs_role_feed();
CREATE TRIGGER role_inherits_feed
    AFTER INSERT OR UPDATE OR DELETE ON role_inherits
    FOR EACH ROW EXECUTE FUNCTION azs_role_feed();
CREATE TRIGGER role_permissions_feed
    AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION azs_role_feed();

-- a permission renamed or deleted: every role.
CREATE FUNCTION azs_permissions_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM azs_bump();
    ELSE
        PERFORM azs_feed(3, '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER permissions_feed AFTER INSERT OR UPDATE OR DELETE
    ON permissions FOR EACH ROW EXECUTE FUNCTION azs_permissions_feed();

CREATE FUNCTION azs_token_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tokens' THEN
        PERFORM azs_feed(4, CASE TG_OP WHEN 'DELETE' THEN OLD.id
                                       ELSE NEW.id END::text);
    ELSE
        PERFORM azs_feed(4, CASE TG_OP WHEN 'DELETE' THEN OLD.token_id
                                       ELSE NEW.token_id END::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tokens_feed AFTER INSERT OR UPDATE OR DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION azs_token_feed();
CREATE TRIGGER token_scopes_feed
    AFTER INSERT OR UPDATE OR DELETE ON token_scopes
    FOR EACH ROW EXECUTE FUNCTION azs_token_feed();

CREATE FUNCTION azs_block_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM azs_feed(5, CASE TG_OP WHEN 'DELETE' THEN OLD.text
                                   ELSE NEW.text END);
    RETURN NULL;
END $$;
CREATE TRIGGER blocklist_feed AFTER INSERT OR UPDATE OR DELETE ON blocklist
    FOR EACH ROW EXECUTE FUNCTION azs_block_feed();

-- A table emptied at once (TRUNCATE fires no row trigger): everything.
CREATE FUNCTION azs_truncate_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM azs_feed(6, TG_TABLE_NAME);
    RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'roles', 'role_inherits', 'permissions',
                             'role_permissions', 'user_roles', 'tokens',
                             'token_scopes', 'blocklist'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH '
                       'STATEMENT EXECUTE FUNCTION azs_truncate_feed()',
                       t || '_truncate', t);
    END LOOP;
END $$;

-- The two roles (cluster-wide: made once, granted in every database).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles
                   WHERE rolname = 'authz_status_reader') THEN
        CREATE ROLE authz_status_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles
                   WHERE rolname = 'authz_status_writer') THEN
        CREATE ROLE authz_status_writer NOLOGIN;
    END IF;
END $$;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO authz_status_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO authz_status_writer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authz_status_writer;

-- the audit trail (version 5; htauthz init adds it to a version 4
-- database, running what follows and setting the version): as in
-- sql/schema.sql.  No trigger: a row here bumps no generation, adds no
-- feed row and sends no notification.  httpd's role may not read it;
-- htauthz's role may add rows and read them, never change or delete one.
CREATE TABLE IF NOT EXISTS audit (
    id       bigserial PRIMARY KEY,
    at       bigint NOT NULL,
    sys_user text NOT NULL,
    db_role  text NOT NULL DEFAULT current_user,
    command  text NOT NULL,
    args     text NOT NULL DEFAULT '',
    outcome  text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
REVOKE ALL ON audit FROM authz_status_reader;
REVOKE ALL ON audit FROM authz_status_writer;
GRANT SELECT, INSERT ON audit TO authz_status_writer;
GRANT USAGE ON SEQUENCE audit_id_seq TO authz_status_writer;
