-- mod_authz_status database, schema version 5 (PRAGMA user_version).
--
-- The module opens this file read-only; every write comes from htauthz.
-- Times are seconds since the epoch (UTC); 0 means "never"/"not".
-- Every change to any table gives meta.generation a new random value
-- through the triggers below, so caches in httpd see every write on the
-- next request.  Random, not counted: a backup restored over the live
-- file brings its old generation back, and a counter would then hand the
-- next write a value that caches already hold answers for (version 1 did;
-- htauthz init upgrades it).
--
-- users.cred is the version of one user's credentials: a new random value
-- whenever the user's name, hash, disabled flag or expiry changes (and a
-- first one when the user is added).  A verified login is cached against
-- it, not against the generation: a write that does not concern the user
-- (another user, a role, a token, a block) leaves the login cached.
--
-- changes is the change feed: the triggers add one row for each change
-- that alters what httpd remembers of a user or a role (see the table),
-- so a child forgets only what a write concerns.
--
-- audit is the audit trail of htauthz (version 5): no trigger touches it
-- and it touches nothing, so its rows change no generation and add nothing
-- to the feed; httpd never reads it.

PRAGMA journal_mode = WAL;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
-- A random start: a new file never repeats the generations of the one it
-- replaces (caches compare generations).
INSERT INTO meta (key, value)
    VALUES ('generation', (random() & 0x3fffffffffff) + 1);

CREATE TABLE users (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    hash     TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    expires  INTEGER NOT NULL DEFAULT 0,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    cred     INTEGER NOT NULL DEFAULT 0   -- set by users_ci / users_cu
);

CREATE TABLE roles (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- role_id inherits parent_id: holders of role_id also hold parent_id
-- and all its permissions.
CREATE TABLE role_inherits (
    role_id   INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    parent_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX role_inherits_parent ON role_inherits (parent_id);

CREATE TABLE permissions (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE role_permissions (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    perm_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, perm_id)
) WITHOUT ROWID;
CREATE INDEX role_permissions_perm ON role_permissions (perm_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE tokens (
    id      INTEGER PRIMARY KEY,
    hash    BLOB NOT NULL UNIQUE,          -- SHA-256 of the token
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label   TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE token_scopes (
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    perm     TEXT NOT NULL,
    PRIMARY KEY (token_id, perm)
) WITHOUT ROWID;

-- Addresses are 16-byte network addresses (IPv4 as ::ffff:a.b.c.d) with
-- a prefix length; a lookup probes (bits, net) for each prefix length in
-- use, so it stays a handful of index probes at any size.
CREATE TABLE blocklist (
    id      INTEGER PRIMARY KEY,
    net     BLOB NOT NULL,
    bits    INTEGER NOT NULL,
    text    TEXT NOT NULL,
    reason  TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bits, net)
);

-- triggers (htauthz init recreates everything from here on to upgrade)

-- the audit trail (version 5; htauthz init adds it to a version 4 file)
-- One row for each htauthz command that wrote, or that tried to and was
-- refused once it had opened the database.  at: when (seconds since the
-- epoch, UTC); sys_user: the system user who ran htauthz (SUDO_USER, else
-- the real uid's login name); db_role: PostgreSQL's role ('' here);
-- command: "user add"; args: the command's names, ids, ranges and options
-- as words, never a password, hash or token; outcome: "ok" or "error: "
-- and why.  Written in the command's own transaction when it succeeds,
-- in one of its own after the rollback when it fails.  No trigger: a row
-- here changes no generation and adds nothing to the change feed.
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    sys_user TEXT NOT NULL,
    db_role  TEXT NOT NULL DEFAULT '',
    command  TEXT NOT NULL,
    args     TEXT NOT NULL DEFAULT '',
    outcome  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
-- end of the audit trail

-- The change feed.  seq orders the rows; tag is random, so that a file
-- restored from a backup and written again never shows a (seq, tag) that a
-- reader has seen with other rows before it.  kind: 1 a user (key: the
-- name; the user's row or direct roles changed), 2 a role (key: its id;
-- its name, parents or grants changed), 3 every role (a permission was
-- renamed), 4 a token (key: its id), 5 the blocklist (key: the range).
-- Only the last 65,536 rows are kept: a reader further behind forgets
-- everything it remembered.
CREATE TABLE IF NOT EXISTS changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    tag  INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    key  TEXT NOT NULL
);
-- The first row: a reader always finds the newest one.
INSERT INTO changes (tag, kind, key)
    SELECT (random() & 0x3fffffffffffffff) + 1, 0, ''
    WHERE NOT EXISTS (SELECT 1 FROM changes);

CREATE TRIGGER changes_trim AFTER INSERT ON changes BEGIN
    DELETE FROM changes WHERE seq = NEW.seq - 65536; END;
CREATE TRIGGER users_fi AFTER INSERT ON users BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 1, NEW.name); END;
-- Before an insert: a row that INSERT OR REPLACE is about to delete (no
-- delete trigger fires for it).
CREATE TRIGGER users_fb BEFORE INSERT ON users BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 1, name FROM users
        WHERE id = NEW.id OR name = NEW.name; END;
CREATE TRIGGER users_fu AFTER UPDATE ON users BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 1, OLD.name);
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 1, NEW.name
        WHERE NEW.name <> OLD.name; END;
CREATE TRIGGER users_fd AFTER DELETE ON users BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 1, OLD.name); END;
CREATE TRIGGER user_roles_fi AFTER INSERT ON user_roles BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 1, name
        FROM users WHERE id = NEW.user_id; END;
CREATE TRIGGER user_roles_fd AFTER DELETE ON user_roles BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 1, name
        FROM users WHERE id = OLD.user_id; END;
CREATE TRIGGER user_roles_fu AFTER UPDATE ON user_roles BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 1, name
        FROM users WHERE id IN (OLD.user_id, NEW.user_id); END;
CREATE TRIGGER roles_fb BEFORE INSERT ON roles BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 2, id FROM roles
        WHERE id = NEW.id OR name = NEW.name; END;
CREATE TRIGGER roles_fi AFTER INSERT ON roles BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, NEW.id); END;
CREATE TRIGGER roles_fu AFTER UPDATE ON roles BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.id); END;
CREATE TRIGGER roles_fd AFTER DELETE ON roles BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.id); END;
CREATE TRIGGER role_inherits_fi AFTER INSERT ON role_inherits BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, NEW.role_id); END;
CREATE TRIGGER role_inherits_fd AFTER DELETE ON role_inherits BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.role_id); END;
CREATE TRIGGER role_inherits_fu AFTER UPDATE ON role_inherits BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.role_id),
               ((random() & 0x3fffffffffffffff) + 1, 2, NEW.role_id); END;
CREATE TRIGGER role_permissions_fi AFTER INSERT ON role_permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, NEW.role_id); END;
CREATE TRIGGER role_permissions_fd AFTER DELETE ON role_permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.role_id); END;
CREATE TRIGGER role_permissions_fu AFTER UPDATE ON role_permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 2, OLD.role_id),
               ((random() & 0x3fffffffffffffff) + 1, 2, NEW.role_id); END;
CREATE TRIGGER permissions_fb BEFORE INSERT ON permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        SELECT (random() & 0x3fffffffffffffff) + 1, 3, '' FROM permissions
        WHERE id = NEW.id OR name = NEW.name; END;
CREATE TRIGGER permissions_fd AFTER DELETE ON permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 3, ''); END;
CREATE TRIGGER permissions_fu AFTER UPDATE ON permissions BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 3, ''); END;
CREATE TRIGGER tokens_fi AFTER INSERT ON tokens BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, NEW.id); END;
CREATE TRIGGER tokens_fu AFTER UPDATE ON tokens BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, OLD.id); END;
CREATE TRIGGER tokens_fd AFTER DELETE ON tokens BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, OLD.id); END;
CREATE TRIGGER token_scopes_fi AFTER INSERT ON token_scopes BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, NEW.token_id); END;
CREATE TRIGGER token_scopes_fd AFTER DELETE ON token_scopes BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, OLD.token_id); END;
CREATE TRIGGER token_scopes_fu AFTER UPDATE ON token_scopes BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 4, NEW.token_id); END;
CREATE TRIGGER blocklist_fi AFTER INSERT ON blocklist BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 5, NEW.text); END;
CREATE TRIGGER blocklist_fu AFTER UPDATE ON blocklist BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 5, OLD.text); END;
CREATE TRIGGER blocklist_fd AFTER DELETE ON blocklist BEGIN
    INSERT INTO changes (tag, kind, key)
        VALUES ((random() & 0x3fffffffffffffff) + 1, 5, OLD.text); END;

CREATE TRIGGER users_gi AFTER INSERT ON users BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER users_gu AFTER UPDATE ON users BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER users_gd AFTER DELETE ON users BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER roles_gi AFTER INSERT ON roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER roles_gu AFTER UPDATE ON roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER roles_gd AFTER DELETE ON roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_inherits_gi AFTER INSERT ON role_inherits BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_inherits_gd AFTER DELETE ON role_inherits BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_inherits_gu AFTER UPDATE ON role_inherits BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER permissions_gi AFTER INSERT ON permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER permissions_gu AFTER UPDATE ON permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER permissions_gd AFTER DELETE ON permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_permissions_gi AFTER INSERT ON role_permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_permissions_gd AFTER DELETE ON role_permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER role_permissions_gu AFTER UPDATE ON role_permissions BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER user_roles_gi AFTER INSERT ON user_roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER user_roles_gd AFTER DELETE ON user_roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER user_roles_gu AFTER UPDATE ON user_roles BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER tokens_gi AFTER INSERT ON tokens BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER tokens_gu AFTER UPDATE ON tokens BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER tokens_gd AFTER DELETE ON tokens BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER token_scopes_gi AFTER INSERT ON token_scopes BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER token_scopes_gd AFTER DELETE ON token_scopes BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER token_scopes_gu AFTER UPDATE ON token_scopes BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER blocklist_gi AFTER INSERT ON blocklist BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER blocklist_gu AFTER UPDATE ON blocklist BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;
CREATE TRIGGER blocklist_gd AFTER DELETE ON blocklist BEGIN
    UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1
        WHERE key = 'generation'; END;

CREATE TRIGGER users_ci AFTER INSERT ON users BEGIN
    UPDATE users SET cred = (random() & 0x3fffffffffffffff) + 1
        WHERE id = NEW.id; END;
CREATE TRIGGER users_cu AFTER UPDATE OF name, hash, disabled, expires
    ON users BEGIN
    UPDATE users SET cred = (random() & 0x3fffffffffffffff) + 1
        WHERE id = NEW.id; END;

PRAGMA user_version = 5;
