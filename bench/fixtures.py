#!/usr/bin/env python3
"""Benchmark fixtures for mod_authz_status and the httpd modules it is
compared with, all holding the same users.

    fixtures.py --dir DIR --users N [--roles R] [--grants G] [--blocks B]
                --schema sql/schema.sql

writes into DIR:

  azs_bcrypt.db  our database, every user with the same bcrypt cost-10 hash
  azs_sha.db     the same rows, every user with the same {SHA} hash
  dbd.db         for mod_authn_dbd / mod_authz_dbd (sqlite3 driver)
  htpasswd       for mod_authn_file ({SHA})
  htgroup        for mod_authz_groupfile (benchgrp: the valid user alone)
  authorized.txt the users holding bench:read (for the many-users variant)
  fixture.env    names and passwords the benchmark uses (shell syntax)

One hash is computed with htpasswd and reused for every user, so loading a
million users takes seconds while every verification still costs a real
bcrypt (or SHA-1).  The schema comes from sql/schema.sql as it is: the
triggers that bump meta.generation are created after the bulk load, exactly
as schema.sql writes them, and the journal is switched to WAL last.  Since
the trigger that gives each user a credential version (users.cred, schema
3) is created after the load too, the load gives every user a random
non-zero 62-bit one itself (with cred 0 no login would ever be cached).

Layout of our database:
  users        u0000000 .. u{N-1}, password "benchpw"
  roles        role00001 .. role{R}; role i inherits role i//8 (i >= 8),
               so roles form 8-ary trees of depth 4 under roles 1..7
  permissions  G/10 (+7) names perm000001 ..; G grants spread over the roles;
               "bench:read" granted to role 1 only
  user_roles   one role per user; the valid bench user holds a depth-4
               descendant of role 1 (bench:read through inheritance), the
               denied bench user a depth-4 descendant of role 2; about
               half the users hold a descendant of role 1
  dbd.db       users(name, hash), user_groups(name, grp): every user in a
               group of 500, and in benchgrp when it holds bench:read
  tokens       N/10 random token hashes (the benchmark's own token is
               issued later with htauthz)
  blocklist    B entries: 90% IPv4 /32 in 10/8, 9% IPv4 /24 from 11.0.0.0/24 up,
               1% IPv6 /48 in 2001:db8::/32; none covers 127.0.0.1
"""
import argparse
import os
import random
import sqlite3
import subprocess
import sys
import time

PASSWORD = "benchpw"
PERM = "bench:read"


def htpasswd_hash(flag_args):
    out = subprocess.run(["htpasswd", "-nb"] + flag_args + ["x", PASSWORD],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split(":", 1)[1]


def schema_parts(path):
    """Split schema.sql into (load-time statements, secondary indexes and
    triggers, final pragmas).  Indexes built after the load are built by
    sorting, which is much faster than growing them row by row."""
    with open(path) as f:
        text = f.read()
    first, triggers, last = [], [], []
    buf = ""
    for line in text.splitlines(keepends=True):
        if not buf and (line.strip() == "" or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            stmt = buf.strip()
            buf = ""
            head = " ".join(stmt.split()[:2]).upper()
            if head in ("CREATE TRIGGER", "CREATE INDEX"):
                triggers.append(stmt)
            elif stmt.upper().startswith("PRAGMA"):
                last.append(stmt)
            else:
                first.append(stmt)
    if buf.strip():
        sys.exit("schema.sql: incomplete statement at the end")
    return first, triggers, last


def descendant(root, nroles):
    """The deepest role under root in the i -> i//8 trees."""
    r = root
    while r * 8 <= nroles:
        r *= 8
    return r


def root_of(role):
    while role >= 8:
        role //= 8
    return role


def role_of(i, name, nroles, valid, denied, valid_role, denied_role):
    if name == valid:
        return valid_role
    if name == denied:
        return denied_role
    return (i * 7919) % nroles + 1


def mapped4(a, b, c, d):
    return bytes(10) + b"\xff\xff" + bytes((a, b, c, d))


def build_azs(path, schema, users, hashval, nroles, ngrants, nblocks, now,
              valid, denied, valid_role, denied_role):
    first, triggers, last = schema_parts(schema)
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("BEGIN")
    for stmt in first:
        db.execute(stmt)
    n = len(users)
    # users.cred (schema 3): the triggers that set it (users_ci) come after
    # the load, so the rows get theirs here, as users_ci draws them: random,
    # 62 bits, never 0 (0 is an empty cache entry: such a login would never
    # be cached).  Older schemas have no such column.
    if "cred" in [r[1] for r in db.execute("PRAGMA table_info(users)")]:
        rnd = random.Random(os.urandom(16))
        db.executemany("INSERT INTO users (id, name, hash, disabled,"
                       " expires, created, updated, cred)"
                       " VALUES (?, ?, ?, 0, 0, ?, ?, ?)",
                       ((i + 1, name, hashval, now, now,
                         rnd.getrandbits(62) + 1)
                        for i, name in enumerate(users)))
    else:
        db.executemany("INSERT INTO users (id, name, hash, disabled,"
                       " expires, created, updated)"
                       " VALUES (?, ?, ?, 0, 0, ?, ?)",
                       ((i + 1, name, hashval, now, now)
                        for i, name in enumerate(users)))
    db.executemany("INSERT INTO roles (id, name) VALUES (?, ?)",
                   ((i, "role%05d" % i) for i in range(1, nroles + 1)))
    db.executemany("INSERT INTO role_inherits (role_id, parent_id)"
                   " VALUES (?, ?)",
                   ((i, i // 8) for i in range(8, nroles + 1)))
    nperms = max(1, ngrants // 10) + 7
    db.executemany("INSERT INTO permissions (id, name) VALUES (?, ?)",
                   ((i, "perm%06d" % i) for i in range(1, nperms + 1)))
    bench_perm = nperms + 1
    db.execute("INSERT INTO permissions (id, name) VALUES (?, ?)",
               (bench_perm, PERM))
    db.executemany("INSERT OR IGNORE INTO role_permissions (role_id, perm_id)"
                   " VALUES (?, ?)",
                   ((g % nroles + 1, g % nperms + 1)
                    for g in range(max(0, ngrants - 1))))
    db.execute("INSERT INTO role_permissions (role_id, perm_id) VALUES (1, ?)",
               (bench_perm,))
    db.executemany("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)",
                   ((i + 1, role_of(i, name, nroles, valid, denied,
                                    valid_role, denied_role))
                    for i, name in enumerate(users)))
    ntok = n // 10
    # Sorted by hash, so the UNIQUE index on it grows at its right edge.
    db.executemany("INSERT INTO tokens (hash, user_id, label, created,"
                   " expires, revoked) VALUES (?, ?, '', ?, 0, 0)",
                   ((h, (i * 10) % n + 1, now) for i, h in
                    enumerate(sorted(os.urandom(32) for _ in range(ntok)))))

    def blocks():
        n4 = nblocks * 90 // 100
        n24 = nblocks * 9 // 100
        n6 = nblocks - n4 - n24
        for i in range(n4):
            a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
            yield (mapped4(10, a, b, c), 128, "10.%d.%d.%d" % (a, b, c))
        for j in range(n24):
            a, b, c = 11 + (j >> 16), (j >> 8) & 255, j & 255
            yield (mapped4(a, b, c, 0), 120, "%d.%d.%d.0/24" % (a, b, c))
        for k in range(n6):
            net = bytes((0x20, 0x01, 0x0d, 0xb8, (k >> 8) & 255, k & 255)) \
                + bytes(10)
            yield (net, 48, "2001:db8:%x::/48" % k)
    db.executemany("INSERT INTO blocklist (net, bits, text, reason, created,"
                   " expires) VALUES (?, ?, ?, 'bench fixture', ?, 0)",
                   ((net, bits, text, now) for net, bits, text in blocks()))
    for stmt in triggers:
        db.execute(stmt)
    db.execute("UPDATE meta SET value = (random() & 0x3fffffffffffffff) + 1"
               " WHERE key = 'generation'")
    db.execute("COMMIT")
    for stmt in last:
        db.execute(stmt)
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if "cred" in [r[1] for r in db.execute("PRAGMA table_info(users)")]:
        zero = db.execute("SELECT count(*) FROM users WHERE cred = 0"
                          ).fetchone()[0]
        if zero:
            sys.exit("%s: %d users with cred 0" % (path, zero))
    db.close()
    if mode.lower() != "wal" or version == 0:
        sys.exit("%s: journal_mode %s, user_version %s" % (path, mode, version))


def build_dbd(path, users, hashval, authorized):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("BEGIN")
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, hash TEXT NOT NULL)")
    db.execute("CREATE TABLE user_groups (name TEXT NOT NULL,"
               " grp TEXT NOT NULL, PRIMARY KEY (name, grp))")
    db.executemany("INSERT INTO users (name, hash) VALUES (?, ?)",
                   ((name, hashval) for name in users))

    def groups():
        for i, name in enumerate(users):
            yield (name, "g%05d" % (i // 500))
            if authorized[i]:
                yield (name, "benchgrp")
    db.executemany("INSERT INTO user_groups (name, grp) VALUES (?, ?)",
                   groups())
    db.execute("COMMIT")
    db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--roles", type=int, default=10000)
    ap.add_argument("--grants", type=int, default=100000)
    ap.add_argument("--blocks", type=int, default=100000)
    ap.add_argument("--schema", required=True)
    a = ap.parse_args()
    if a.users < 2 or a.roles < 64:
        sys.exit("need at least 2 users and 64 roles")
    os.makedirs(a.dir, exist_ok=True)
    now = int(time.time())
    t0 = time.time()
    bcrypt = htpasswd_hash(["-B", "-C", "10"])
    sha = htpasswd_hash(["-s"])
    users = ["u%07d" % i for i in range(a.users)]
    valid, denied = users[a.users // 2], users[a.users // 2 + 1]
    valid_role = descendant(1, a.roles)
    denied_role = descendant(2, a.roles)
    t1 = time.time()
    build_azs(os.path.join(a.dir, "azs_bcrypt.db"), a.schema, users, bcrypt,
              a.roles, a.grants, a.blocks, now, valid, denied, valid_role,
              denied_role)
    t2 = time.time()
    build_azs(os.path.join(a.dir, "azs_sha.db"), a.schema, users, sha,
              a.roles, a.grants, a.blocks, now, valid, denied, valid_role,
              denied_role)
    t3 = time.time()
    # Users holding bench:read (their role descends from role 1) are the
    # members of benchgrp in the other modules' files too.
    authorized = [root_of(role_of(i, name, a.roles, valid, denied,
                                  valid_role, denied_role)) == 1
                  for i, name in enumerate(users)]
    build_dbd(os.path.join(a.dir, "dbd.db"), users, sha, authorized)
    with open(os.path.join(a.dir, "htpasswd"), "w") as f:
        f.writelines("%s:%s\n" % (name, sha) for name in users)
    with open(os.path.join(a.dir, "htgroup"), "w") as f:
        for g in range(0, a.users, 500):
            f.write("g%05d: %s\n" % (g // 500, " ".join(users[g:g + 500])))
        f.write("benchgrp: %s\n" % valid)
    with open(os.path.join(a.dir, "authorized.txt"), "w") as f:
        f.writelines(name + "\n" for i, name in enumerate(users)
                     if authorized[i])
    t4 = time.time()
    with open(os.path.join(a.dir, "fixture.env"), "w") as f:
        f.write("FX_USERS=%d\nFX_VALID=%s\nFX_DENIED=%s\nFX_PASSWORD=%s\n"
                "FX_PERM=%s\nFX_ROLES=%d\nFX_GRANTS=%d\nFX_BLOCKS=%d\n"
                "FX_VALID_ROLE=role%05d\nFX_DENIED_ROLE=role%05d\n"
                % (a.users, valid, denied, PASSWORD, PERM, a.roles, a.grants,
                   a.blocks, valid_role, denied_role))
    print("fixtures %s: %d users: hashes %.1fs, bcrypt db %.1fs, sha db %.1fs,"
          " dbd+flat files %.1fs" % (a.dir, a.users, t1 - t0, t2 - t1,
                                     t3 - t2, t4 - t3))


if __name__ == "__main__":
    main()
