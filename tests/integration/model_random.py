#!/usr/bin/python3
"""model_random.py - random requests and writes, checked against a model.

Driver of cases/model_random.sh (and a library for other drivers: Httpd,
Client, Db, basic, bearer, sha_hash).  A python model of the database
(model_db.py, with the universe of users, roles and locations: users with
their passwords and states, roles with their permissions and inheritance,
tokens with their scopes, the blocklist) predicts the answer to every
request: status, and the WWW-Authenticate header (exact) or its
absence.  Long seeded sequences mix Basic and Bearer, right and wrong
passwords, unknown users and tokens of every length, disabled and expired
accounts, client addresses (X-Forwarded-For through mod_remoteip) and
locations requiring roles and permissions, with htauthz writes between
requests; every answer is compared with the model's.

    model_random.py conf DOCROOT              # the locations (httpd conf)
    model_random.py run PORT DB HTAUTHZ PID   # set up the database, drive

Environment: AZS_MODEL_SEED (replay a run), AZS_MODEL_STEPS (requests,
default 2500), AZS_MODEL_FAILS (password checks that fail, default 140),
AZS_MPM (which third of the unknown-user name lengths this run takes),
AZS_RUN_USER (owner of the database files, when run as root).

Output: one line per result, "ok|not ok<TAB>description<TAB>details", and
"info<TAB>text" lines.
"""
import base64
import http.client
import ipaddress
import os
import random
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
from model_db import (  # noqa: E402  (the universe, the model, hashes)
    B64T, DYN_PERMS, EPHEMERAL, IPS, PERM_SAMPLE, RANGES, ROLE_PARENTS,
    ROLE_PERMS, USERS, Model, Token, User, conf, locations, make_hash,
    sha_hash)


# ---- shared: the server, the connection, the database ----------------------

class Httpd:
    """httpd's parent process and its children (from /proc)."""

    def __init__(self, parent_pid):
        self.parent = int(parent_pid)
        self.known = self.children()

    def children(self):
        out = set()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(self.parent) and fields[0] != "Z":
                out.add(int(d))
        return out

    def crashed(self):
        """Did a child die since the last call?  (Then waits, up to five
        seconds, for its successor, so that the next connection finds one.)"""
        time.sleep(0.05)
        now = self.children()
        if self.known <= now:
            return False
        for _ in range(50):
            if now - self.known:
                break
            time.sleep(0.1)
            now = self.children()
        self.known = now
        return True


class Client:
    """Requests on one keep-alive connection at a time.  A connection the
    server closed while idle (event closes them when all its threads are
    busy) is opened again and the request sent once more; a connection
    broken by a crashing child is reported: status 0."""

    def __init__(self, port, httpd, timeout=15):
        self.port = int(port)
        self.httpd = httpd
        self.timeout = timeout
        self.conn = None
        self.requests = 0
        self.connections = 0
        self.reopened = 0          # idle closes by the server, retried
        self.crashes = []          # (label, path, error)
        self.label = ""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, path, headers=None):
        """(status, WWW-Authenticate or None); status 0: connection broken."""
        self.requests += 1
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
                self.connections += 1
            try:
                self.conn.request("GET", path, headers=headers or {})
                r = self.conn.getresponse()
                r.read()
                return r.status, r.getheader("WWW-Authenticate")
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if self.httpd.crashed() or attempt == 2:
                    self.crashes.append((self.label, path, str(e)))
                    return 0, "connection broken: %s" % e
                self.reopened += 1
        return 0, None


class Db:
    """htauthz on the case's database, the files then given to httpd's
    user (as lib.sh's azs_htauthz does)."""

    def __init__(self, htauthz, path):
        self.htauthz = htauthz
        self.path = path
        self.calls = 0
        user = os.environ.get("AZS_RUN_USER") or ""
        self.owner = None
        if user:
            import pwd
            pw = pwd.getpwnam(user)
            self.owner = (pw.pw_uid, pw.pw_gid)

    def fixperms(self):
        if not self.owner:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.chown(self.path + suffix, *self.owner)
            except FileNotFoundError:
                pass

    def run(self, *args, stdin=None):
        """(exit status, stdout, stderr)"""
        self.calls += 1
        p = subprocess.run([self.htauthz, "-d", self.path] + list(args),
                           input=stdin, capture_output=True, text=True)
        self.fixperms()
        if SETTLE:
            # PostgreSQL: a node hears of a change within its propagation
            # time (milliseconds), not by the very next request.
            time.sleep(SETTLE)
        return p.returncode, p.stdout, p.stderr

    def must(self, *args, stdin=None):
        rc, out, err = self.run(*args, stdin=stdin)
        if rc != 0:
            raise RuntimeError("htauthz %s: exit %d: %s" % (
                " ".join(args)[:200], rc, err.strip()))
        return out


SETTLE = float(os.environ.get("AZS_MODEL_SETTLE_MS", "0")) / 1000.0


def record_secret(*values):
    """For secrets_scan.sh's scan of every log (as lib.sh's azs_secret)."""
    d = os.environ.get("AZS_SUITE_LOGS")
    if not d:
        return
    with open(os.path.join(d, "secrets"), "a") as f:
        for v in values:
            if len(v) >= 8:
                f.write(v + "\n")


def basic(user, pw):
    cred = ("%s:%s" % (user, pw)).encode("utf-8")
    return "Basic " + base64.b64encode(cred).decode()


def bearer(tok):
    return "Bearer " + tok

# ---- the run ------------------------------------------------------------------

class Run:
    def __init__(self, seed, port, db, httpd):
        self.seed = seed
        self.rnd = random.Random(seed)
        self.m = Model()
        self.db = db
        self.cli = Client(port, httpd)
        self.locs = locations()
        self.mismatches = []
        self.cli_mismatches = []
        self.history = []          # recent steps and writes, for a report
        self.fails = 0             # password checks that fail (401 Basic)
        self.writes = 0
        self.blocked = 0
        self.memo = set()
        self.logins = set()
        self.memo_clears = 0
        self.boundary = 0
        self.boundary_scoped = 0
        self.steered = 0
        self.plan = 0
        self.kinds = {}
        self.statuses = {}
        self.step = 0
        self.pw_n = 0
        mpm = os.environ.get("AZS_MPM", "event")
        third = {"event": 0, "worker": 1, "prefork": 2}.get(mpm, 0)
        # A third of the lengths 1..255 for unknown users (each a costly
        # dummy hash), every length for unknown tokens (cheap).
        self.user_lengths = [n for n in range(1, 256) if (n + seed + third) % 3 == 0]
        self.rnd.shuffle(self.user_lengths)
        self.token_lengths = list(range(1, 256))
        self.rnd.shuffle(self.token_lengths)

    def note(self, text):
        self.history.append(text)
        del self.history[:-12]

    def new_pw(self):
        self.pw_n += 1
        pw = "Pw-%d-%s" % (self.pw_n, "".join(self.rnd.choice(B64T[:62])
                                           for _ in range(self.rnd.randint(6, 30))))
        record_secret(pw)
        return pw

    # -- setup --
    def setup(self):
        db, m = self.db, self.m
        for r in ROLE_PERMS:
            db.must("role", "add", "--", r)
        for r, ps in ROLE_PERMS.items():
            if ps:
                db.must("role", "grant", "--", r, *ps)
        for r, ps in ROLE_PARENTS.items():
            db.must("role", "inherit", "--", r, *ps)
        lines = []
        for name, (kind, roles) in USERS.items():
            pw = self.new_pw()
            m.users[name] = User(name, pw, roles)
            record_secret(pw, "%s:%s" % (name, pw))
            lines.append("%s:%s" % (name, make_hash(kind, pw)))
        db.must("import", "htpasswd", "-", stdin="\n".join(lines) + "\n")
        for name, (_, roles) in USERS.items():
            if roles:
                db.must("user", "grant", "--", name, *roles)
        for name in USERS:
            for _ in range(self.rnd.randint(1, 3)):
                self.issue(name)

    def issue(self, name):
        u = self.m.users.get(name)
        held = sorted(self.m.eff_perms(u)) if u else []
        scopes = []
        if held and self.rnd.random() < 0.6:
            scopes = self.rnd.sample(held, min(len(held), self.rnd.randint(1, 3)))
            # often a permission some location asks for
            cands = [p for p in PERM_SAMPLE if p in held]
            if cands and self.rnd.random() < 0.7:
                scopes[0] = self.rnd.choice(cands)
                scopes = list(dict.fromkeys(scopes))
        args = ["token", "issue", name]
        for s in scopes:
            args += ["--scope", s]
        if self.rnd.random() < 0.3:
            args += ["--label", "l" * self.rnd.randint(1, 200)]
        rc, out, err = self.db.run(*args)
        want = 0 if u else 1
        self.check_rc(args, rc, want, err)
        if rc == 0:
            tok, tid = out.split("\n")[:2]
            record_secret(tok.strip())
            self.m.tokens.append(Token(tok.strip(), int(tid), name, scopes))
        return rc

    def check_rc(self, args, rc, want, err):
        if rc != want:
            self.cli_mismatches.append(
                "step %d: htauthz %s: exit %d, the model expected %d (%s)" % (
                    self.step, " ".join(a[:40] for a in args), rc, want, err.strip()[:200]))

    # -- writes --
    def write(self):
        m, rnd = self.m, self.rnd
        self.writes += 1
        self.memo.clear()
        self.logins.clear()
        live = [n for n in m.users]
        ops = ["grant", "revoke", "disable", "enable", "expire", "unexpire", "passwd",
               "issue", "revoke_token", "block", "unblock", "role_grant",
               "role_revoke", "inherit", "disinherit", "delete", "readd", "htpasswd10"]
        weights = [10, 8, 4, 5, 2, 3, 6, 6, 5, 4, 4, 4, 4, 3, 3, 1, 2, 0.3]
        op = rnd.choices(ops, weights)[0]
        roles = sorted(m.perms)
        args, want, apply = None, 0, None
        if op in ("grant", "revoke"):
            name = rnd.choice(live)
            rs = rnd.sample(roles, rnd.randint(1, 3))
            args = ["user", op, "--", name] + rs
            u = m.users[name]
            apply = (lambda: u.roles.update(rs)) if op == "grant" else \
                (lambda: u.roles.difference_update(rs))
        elif op in ("disable", "enable"):
            name = rnd.choice(live)
            args = ["user", op, "--", name]
            u = m.users[name]
            apply = lambda: setattr(u, "disabled", op == "disable")
        elif op in ("expire", "unexpire"):
            name = rnd.choice(live)
            args = ["user", "expire", "--", name, "now" if op == "expire" else "never"]
            u = m.users[name]
            apply = lambda: setattr(u, "expired", op == "expire")
        elif op == "passwd":
            name = rnd.choice(live)
            pw = self.new_pw()
            kind = rnd.choice(["sha", "sha", "apr1", "bcrypt"])
            args = ["import", "htpasswd", "-"]
            stdin = "%s:%s\n" % (name, make_hash(kind, pw))
            u = m.users[name]
            rc, out, err = self.db.run(*args, stdin=stdin)
            self.check_rc(args + ["(%s, %s)" % (name[:20], kind)], rc, 0, err)
            if rc == 0:
                u.pw = pw
            self.note("write: new password for %s (%s)" % (name[:40], kind))
            return
        elif op == "htpasswd10":
            # htauthz's own passwd (bcrypt, cost 10): costly to verify,
            # so the next write puts a cheap hash back.
            name = rnd.choice(live)
            pw = self.new_pw()
            args = ["user", "passwd", "--password-stdin", "--", name]
            rc, out, err = self.db.run(*args, stdin=pw + "\n")
            self.check_rc(args, rc, 0, err)
            if rc == 0:
                m.users[name].pw = pw
            self.note("write: htauthz user passwd %s (bcrypt 10)" % name[:40])
            self.pending_cheap = name
            return
        elif op == "issue":
            name = rnd.choice(live)
            self.issue(name)
            self.note("write: token issue for %s" % name[:40])
            return
        elif op == "revoke_token":
            ts = [t for t in m.tokens if not t.gone]
            if not ts:
                return
            t = rnd.choice(ts)
            args = ["token", "revoke", str(t.id)]
            apply = lambda: setattr(t, "revoked", True)
        elif op == "block":
            r = rnd.choice(RANGES)
            args = ["ip", "block", r]
            want = 1 if r in m.blocks else 0
            apply = lambda: m.blocks.__setitem__(r, ipaddress.ip_network(r))
        elif op == "unblock":
            if m.blocks and rnd.random() < 0.9:
                r = rnd.choice(sorted(m.blocks))
            else:
                r = rnd.choice(RANGES)
            args = ["ip", "unblock", r]
            want = 0 if r in m.blocks else 1
            apply = lambda: m.blocks.pop(r, None)
        elif op in ("role_grant", "role_revoke"):
            r = rnd.choice(roles)
            if op == "role_grant":
                ps = rnd.sample(DYN_PERMS + PERM_SAMPLE[:10], rnd.randint(1, 2))
                ps = [p for p in ps if p != "no:such"] or ["dyn:1"]
            else:
                have = sorted(m.perms[r])
                ps = rnd.sample(have, min(len(have), rnd.randint(1, 2))) if have else ["dyn:5"]
            args = ["role", "grant" if op == "role_grant" else "revoke", "--", r] + ps
            apply = (lambda: m.perms[r].update(ps)) if op == "role_grant" else \
                (lambda: m.perms[r].difference_update(ps))
        elif op in ("inherit", "disinherit"):
            a, b = rnd.sample(roles, 2)
            if op == "disinherit" and rnd.random() < 0.7:
                pairs = [(x, y) for x in roles for y in sorted(m.parents[x])]
                if pairs:
                    a, b = rnd.choice(pairs)
            args = ["role", op, "--", a, b]
            if op == "inherit":
                want = 1 if m.inherits(b, a) else 0
                apply = lambda: m.parents[a].add(b)
            else:
                apply = lambda: m.parents[a].discard(b)
        elif op == "delete":
            name = rnd.choice([n for n in EPHEMERAL if n in m.users] or [None])
            if not name:
                return
            args = ["user", "del", "--", name]

            def apply():
                del m.users[name]
                for t in m.tokens:
                    if t.user == name:
                        t.gone = True
        elif op == "readd":
            name = rnd.choice([n for n in EPHEMERAL if n not in m.users] or [None])
            if not name:
                return
            pw = self.new_pw()
            args = ["import", "htpasswd", "-"]
            rc, out, err = self.db.run(*args, stdin="%s:%s\n" % (name, sha_hash(pw)))
            self.check_rc(args + ["(add %s)" % name], rc, 0, err)
            if rc == 0:
                m.users[name] = User(name, pw, [])
            self.note("write: add %s again" % name)
            return
        rc, out, err = self.db.run(*args)
        self.check_rc(args, rc, want, err)
        if rc == 0 and want == 0 and apply:
            apply()
        self.note("write: htauthz %s -> %d" % (" ".join(a[:30] for a in args), rc))

    # -- requests --
    def pick_request(self):
        """(kind, location, credentials, client address)."""
        m, rnd = self.m, self.rnd
        kinds = ["basic", "token", "unknown_token", "unknown_user", "wrong_pw",
                 "none", "cross", "malformed"]
        weights = [40, 34, 10, 5, 2, 3, 2, 1]
        # A planned crossing (see run): unknown tokens until the memo (as
        # 2e8625e kept it) is one entry from full, then a token it does
        # not hold, of a user with many permissions, on a permission its
        # scopes allow or not.
        if self.plan:
            fresh = [t for t in m.tokens if ("t", t.tok) not in self.memo
                     and not t.revoked and not t.gone and t.user in m.users]
            if len(self.memo) < 31 or not fresh:
                self.plan = len(self.memo) < 31 and self.plan < 40
                if self.plan:
                    self.plan += 1
                    n = self.token_lengths.pop() if self.token_lengths else rnd.randint(1, 255)
                    tok = "".join(rnd.choice(B64T) for _ in range(n))
                    record_secret(tok)
                    loc = rnd.choice([l for l in self.locs if l[1] == "bearer"])
                    return "unknown_token", loc, ("bearer-unknown", tok), None
            else:
                self.plan = 0
                big = [t for t in fresh if len(m.eff_perms(m.users[t.user])) >= 100]
                t = rnd.choice([x for x in big if x.scopes] or big or fresh)
                held = m.eff_perms(m.users[t.user])
                want = set(t.scopes) if t.scopes and rnd.random() < 0.7 else held
                ok = [l for l in self.locs if l[1] == "bearer" and l[2] == "perm"
                      and set(l[3]) & want]
                loc = rnd.choice(ok or [l for l in self.locs if l[1] == "bearer"])
                self.steered += 1
                return "token", loc, ("bearer", t), None
        while True:
            kind = rnd.choices(kinds, weights)[0]
            scheme = "bearer" if kind in ("token", "unknown_token") else "basic"
            if kind in ("none", "cross", "malformed"):
                scheme = rnd.choice(["basic", "bearer"])
            loc = rnd.choice([l for l in self.locs if l[1] == scheme])
            if kind == "basic":
                name = rnd.choice(list(USERS))
                u = m.users.get(name)
                cred = ("basic", name, u.pw if u else "Pw-gone-%s" % name[:8])
            elif kind == "token":
                if not m.tokens:
                    continue
                cred = ("bearer", rnd.choice(m.tokens))
            elif kind == "unknown_token":
                if not self.token_lengths:
                    self.token_lengths = list(range(1, 256))
                n = self.token_lengths.pop()
                cred = ("bearer-unknown", "".join(rnd.choice(B64T) for _ in range(n)))
                record_secret(cred[1])
            elif kind == "unknown_user":
                if not self.user_lengths:
                    continue
                n = self.user_lengths[-1]
                name = "".join(rnd.choice(B64T[:62] + " .-_") for _ in range(n))
                if n >= 2 and rnd.random() < 0.2:
                    name = "\u00e9" + name[2:]          # two bytes in UTF-8
                if name in m.users or name in USERS:
                    continue
                cred = ("basic", name, self.new_pw())
            elif kind == "wrong_pw":
                name = rnd.choice(list(m.users))
                pw = m.users[name].pw
                wrong = rnd.choice([pw + "x", pw[:-1], pw.swapcase(), "", "wrong"])
                cred = ("basic", name, wrong if wrong != pw else "wrong-" + pw)
                record_secret(cred[2])
            elif kind == "none":
                cred = ("none",)
            elif kind == "cross":
                if scheme == "basic":
                    cred = ("bearer-on-basic", rnd.choice(m.tokens).tok if m.tokens else "abc")
                else:
                    name = rnd.choice(list(m.users))
                    cred = ("basic-on-bearer", name, m.users[name].pw)
            else:
                cred = ("malformed-" + scheme,)
            # a Basic check that fails costs a dummy or real hash (and a
            # padded answer): bounded, per kind
            if cred[0] == "basic" and self.fails_basic(cred):
                budget = "unknown_user" if kind == "unknown_user" else \
                    "wrong_pw" if kind == "wrong_pw" else "other"
                if self.fail_left[budget] <= 0:
                    continue
                self.fail_left[budget] -= 1
                self.fails += 1
                if kind == "unknown_user":
                    self.user_lengths.pop()
            # half the time a location the user may enter
            who = self.m.users.get(cred[1]) if cred[0] == "basic" else \
                self.m.users.get(cred[1].user) if cred[0] == "bearer" else None
            if who and rnd.random() < 0.5:
                held = self.m.eff_roles(who) | self.m.eff_perms(who)
                ok = [l for l in self.locs if l[1] == scheme
                      and (l[2] == "valid" or set(l[3]) & held)]
                loc = rnd.choice(ok or [loc])
            ip = rnd.choice(IPS) if rnd.random() < 0.5 else None
            return kind, loc, cred, ip

    def fails_basic(self, cred):
        u = self.m.users.get(cred[1])
        return not u or u.pw != cred[2] or u.disabled or u.expired

    def headers(self, cred, ip):
        h = {}
        if ip:
            h["X-Forwarded-For"] = ip
        c = cred[0]
        if c in ("basic", "basic-on-bearer"):
            h["Authorization"] = basic(cred[1], cred[2])
        elif c == "bearer":
            h["Authorization"] = bearer(cred[1].tok)
        elif c in ("bearer-unknown", "bearer-on-basic"):
            h["Authorization"] = bearer(cred[1])
        elif c == "malformed-basic":
            h["Authorization"] = self.rnd.choice(
                ["Basic", "Basic !!!!", "Basic " + base64.b64encode(b":pw").decode(),
                 "Basic " + base64.b64encode(b"nocolon").decode()])
        elif c == "malformed-bearer":
            h["Authorization"] = self.rnd.choice(
                ["Bearer", "Bearer a b", "Bearer abc!def", "Bearer x,y"])
        return h

    def model_cred(self, cred):
        """The credentials as the model reads them."""
        c = cred[0]
        if c == "bearer":
            return ("bearer", cred[1])
        if c == "bearer-unknown":
            return ("bearer", None)
        if c in ("bearer-on-basic", "basic-on-bearer", "none"):
            return ("other",)
        return cred

    def describe(self, kind, loc, cred, ip, h):
        path, scheme, lkind, names = loc
        c = cred[0]
        if c == "bearer":
            t = cred[1]
            who = "token %d of %s (scopes %s%s)" % (
                t.id, t.user[:40], ",".join(s[:40] for s in t.scopes) or "-",
                ", revoked" if t.revoked else ", user deleted" if t.gone else "")
        elif c in ("basic", "basic-on-bearer"):
            who = "%s user %r (%d bytes) password %s" % (
                c, cred[1][:60], len(cred[1].encode()), "right" if cred[1] in self.m.users
                and self.m.users[cred[1]].pw == cred[2] else "wrong")
        elif c == "bearer-unknown":
            who = "unknown token of %d bytes" % len(cred[1])
        else:
            who = "%s (%s)" % (c, h.get("Authorization", "no Authorization")[:40])
        return "GET %s [%s: %s %s] as %s from %s" % (
            path, scheme, lkind, " ".join(n[:40] for n in names), who, ip or "127.0.0.1")

    # -- coverage: the thread's memo as 2e8625e kept it (32 entries, emptied
    # when full at a lookup or after a write), to count how often a run
    # reaches the case that broke there: a token's entry fills the memo
    # and its user's lookup, in the same request, empties it.
    def shadow(self, loc, cred, ip):
        path, scheme, kind, names = loc
        m = self.memo

        def lookup(key):
            if len(m) >= 32:
                m.clear()
                self.memo_clears += 1
            m.add(key)

        if self.m.blocked(ip):
            lookup(("b", ip))
            return
        lookup(("b", ip))
        if cred[0] == "basic" and scheme == "basic":
            u = self.m.users.get(cred[1])
            ok = u and u.pw == cred[2] and not u.disabled and not u.expired
            if (cred[1], cred[2]) in self.logins:
                # a cached login: the user is looked up by authorization
                if kind != "valid":
                    lookup(("u", cred[1]))
            else:
                # looked up by the admission, authorization reuses it
                lookup(("u", cred[1]))
                if ok:
                    self.logins.add((cred[1], cred[2]))
        elif cred[0] == "bearer" and scheme == "bearer":
            t = cred[1]
            key = ("t", t.tok)
            full = len(m) == 31 and key not in m
            lookup(key)
            u = self.m.users.get(t.user)
            if t.revoked or t.gone or not u or u.disabled or u.expired or kind == "valid":
                return
            if full:
                self.boundary += 1
                if t.scopes and kind == "perm":
                    self.boundary_scoped += 1
            lookup(("u", t.user))
        elif cred[0] == "bearer-unknown" and scheme == "bearer":
            lookup(("t", cred[1]))

    def run(self, steps, max_fails):
        # the unknown users take up to a third of the lengths 1..255
        n_unknown = min(len(self.user_lengths), max_fails * 6 // 10)
        self.fail_left = {"unknown_user": n_unknown,
                          "wrong_pw": (max_fails - n_unknown) // 2}
        self.fail_left["other"] = max_fails - n_unknown - self.fail_left["wrong_pw"]
        self.pending_cheap = None
        rnd = self.rnd
        t0 = time.time()
        next_reconnect = rnd.randint(150, 900)
        burst = 0
        for self.step in range(1, steps + 1):
            # writes: runs of requests on one generation, of random length
            # (a few to a few hundred), so that the 32-entry memo of the
            # thread fills and empties within one generation and across
            if burst <= 0:
                if self.pending_cheap and self.pending_cheap in self.m.users:
                    name, self.pending_cheap = self.pending_cheap, None
                    pw = self.new_pw()
                    rc, _, err = self.db.run("import", "htpasswd", "-",
                                             stdin="%s:%s\n" % (name, sha_hash(pw)))
                    self.check_rc(["import", "(cheap hash back)"], rc, 0, err)
                    if rc == 0:
                        self.m.users[name].pw = pw
                for _ in range(rnd.choice([1, 1, 1, 2, 3])):
                    self.write()
                burst = int(rnd.expovariate(1.0 / rnd.choice([4, 12, 40, 150]))) + 1
                # a third of the generations start with a planned crossing
                # of the memo's bound (pick_request)
                self.plan = 1 if rnd.random() < 0.33 else 0
                burst += 32 * bool(self.plan)
            burst -= 1
            if self.step >= next_reconnect:
                self.cli.close()
                next_reconnect = self.step + rnd.randint(150, 900)
            kind, loc, cred, ip = self.pick_request()
            h = self.headers(cred, ip)
            want = self.m.answer(loc, self.model_cred(cred), ip)
            if self.m.blocked(ip):
                self.blocked += 1
            self.shadow(loc, self.model_cred(cred) if cred[0] != "bearer-unknown" else cred, ip)
            desc = self.describe(kind, loc, cred, ip, h)
            self.cli.label = "step %d" % self.step
            got = self.cli.request(loc[0], h)
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self.statuses[got[0]] = self.statuses.get(got[0], 0) + 1
            self.note("step %d: %s -> %s" % (self.step, desc, got[0]))
            if got != want:
                self.mismatches.append(
                    "seed %d, step %d: %s\n    expected: %s %s\n    got:      %s %s\n"
                    "    recent: %s" % (
                        self.seed, self.step, desc, want[0], short(want[1]), got[0], short(got[1]),
                        "\n            ".join(self.history[-8:-1])))
                if len(self.mismatches) >= 10 or got[0] == 0:
                    break
            if self.cli_mismatches:
                break
        self.cli.close()
        return time.time() - t0


def short(header):
    if header is None:
        return "(no WWW-Authenticate)"
    return header if len(header) <= 160 else header[:150] + "...(%d bytes)" % len(header)


def main():
    if sys.argv[1] == "conf":
        sys.stdout.write(conf(sys.argv[2]))
        return 0
    port, dbpath, htauthz, pid = sys.argv[2:6]
    seed = os.environ.get("AZS_MODEL_SEED")
    seed = int(seed) if seed else int.from_bytes(os.urandom(4), "big")
    steps = int(os.environ.get("AZS_MODEL_STEPS", "2500"))
    max_fails = int(os.environ.get("AZS_MODEL_FAILS", "140"))
    mpm = os.environ.get("AZS_MPM", "event")
    print("info\tseed %d (replay: AZS_MODEL_SEED=%d AZS_MPMS=%s ... run.sh model_random)"
          % (seed, seed, mpm), flush=True)
    run = Run(seed, port, Db(htauthz, dbpath), Httpd(pid))
    t0 = time.time()
    run.setup()
    t_setup = time.time() - t0
    elapsed = run.run(steps, max_fails)
    c = run.cli
    print("info\t%d requests on %d connections (%d reopened after an idle close), "
          "%d writes (%d htauthz calls), %d failing password checks, %.1fs "
          "(setup %.1fs)" % (c.requests, c.connections, c.reopened, run.writes,
                             run.db.calls, run.fails, elapsed, t_setup))
    print("info\trequests: %s; answers: %s (%d from a blocked address)" % (
        ", ".join("%s %d" % kv for kv in sorted(run.kinds.items())),
        ", ".join("%s %d" % kv for kv in sorted(run.statuses.items())), run.blocked))
    print("info\tmemo coverage (as 2e8625e kept it): emptied %d times when full; "
          "%d times a token's entry filled it before its user's lookup (%d a scoped "
          "token on Require permission; %d planned)" % (
              run.memo_clears, run.boundary, run.boundary_scoped, run.steered))
    done = run.step >= steps and not run.mismatches and not run.cli_mismatches
    print("%s\tseed %d: %d of %d steps, every answer as the model says (%d mismatches)\t%s" % (
        "ok" if not run.mismatches else "not ok", seed, run.step, steps,
        len(run.mismatches), "\n".join(run.mismatches)))
    print("%s\tseed %d: every htauthz write as the model says\t%s" % (
        "ok" if not run.cli_mismatches else "not ok", seed, "\n".join(run.cli_mismatches)))
    print("%s\tno connection broken by a crash\t%s" % (
        "ok" if not c.crashes else "not ok",
        "; ".join("%s: %s (%s)" % x for x in c.crashes[:5])))
    print("%s\tthe run went to its end (%d of %d steps)\t" % (
        "ok" if done or run.mismatches else "not ok", run.step, steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
