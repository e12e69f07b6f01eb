#!/usr/bin/python3
"""model_db.py - the database model of model_random.py.

The universe every run sets up (roles with their permissions and
inheritance, users with their hash kinds and roles, the locations and
their httpd configuration, client addresses and blocklist ranges), the
model of the database (users with their passwords and states, roles,
tokens with their scopes, the blocklist) that predicts the answer to every
request, and the password hashes htauthz imports.  Python 3 standard
library only; model_random.py imports it.
"""
import base64
import hashlib
import ipaddress
import shutil
import subprocess


# ---- the universe: roles, users, locations (the same in every run) ---------

def app(i):
    return "app:perm%03d" % i


ROLE_PERMS = {
    "admin": [app(i) for i in range(140)] + ["docs:read"],
    # 120 permissions of many lengths (up to 255 bytes)
    "auditor": ["rep:%03d:%s" % (i, "r" * ((i * 29) % 248)) for i in range(120)],
    "apiusers": ["api:call"],
    "reader": ["docs:read"],
    "writer": ["docs:write"],
    "ops": ["ops:run", "ops:restart"],
    "staff": [],
    "manager": ["mgr:approve"],
    "boss": [],
    "superuser": [],
    "empty": [],
    "x": ["x:1"],
    "L" * 255: ["lp:" + "l" * 252],
}
ROLE_PARENTS = {
    "staff": ["reader"],
    "manager": ["staff", "writer"],
    "boss": ["manager", "ops"],
    "superuser": ["admin", "auditor", "apiusers"],
}
# name: (hash kind, direct roles)
USERS = {
    "alice": ("sha", ["admin", "apiusers"]),
    "bob": ("sha", ["staff"]),
    "carol": ("sha", ["boss"]),
    "dave": ("apr1", ["superuser"]),
    "erin": ("bcrypt", ["reader", "ops"]),
    "frank": ("bcrypt", ["auditor"]),
    "gina": ("sha", []),
    "hal": ("apr1", ["manager", "apiusers"]),
    "q": ("sha", ["empty", "x"]),
    "U" * 255: ("sha", ["admin"]),
    "zo\u00eb \u00fc": ("apr1", ["writer"]),
    "judy": ("sha", ["L" * 255]),
    "ken": ("sha", ["superuser", "boss"]),
    "lee": ("sha", ["reader"]),
    "pat": ("sha", ["staff"]),
    "ivan": ("sha6", ["boss", "auditor"]),
}
# Users the run may delete and add again (their roles and tokens go).
EPHEMERAL = ["gina", "lee", "q"]
DYN_PERMS = ["dyn:%d" % i for i in range(6)]

PERM_SAMPLE = [app(0), app(1), app(70), app(139), "docs:read", "docs:write",
               "api:call", "ops:run", "ops:restart", "mgr:approve",
               ROLE_PERMS["auditor"][0], ROLE_PERMS["auditor"][57],
               ROLE_PERMS["auditor"][119], "x:1", "lp:" + "l" * 252,
               "dyn:0", "dyn:3", "no:such"]
ROLE_SAMPLE = sorted(ROLE_PERMS) + ["nosuchrole"]
ANY_PERM = [["no:such", "docs:read"], [app(5), "api:call"],
            ["ops:run", "docs:write", "x:1"]]
ANY_ROLE = [["nosuchrole", "reader"], ["ops", "writer"], ["admin", "auditor"]]


def locations():
    """[(path, scheme, kind, names)]: kind valid | role | perm."""
    out = []
    for scheme, top in (("basic", "/b"), ("bearer", "/t")):
        out.append(("%s/valid/" % top, scheme, "valid", []))
        for i, r in enumerate(ROLE_SAMPLE):
            out.append(("%s/role/%d/" % (top, i), scheme, "role", [r]))
        for i, p in enumerate(PERM_SAMPLE):
            out.append(("%s/perm/%d/" % (top, i), scheme, "perm", [p]))
        for i, ps in enumerate(ANY_PERM):
            out.append(("%s/anyperm/%d/" % (top, i), scheme, "perm", ps))
        for i, rs in enumerate(ANY_ROLE):
            out.append(("%s/anyrole/%d/" % (top, i), scheme, "role", rs))
    return out


def conf(docroot):
    lines = [
        "RemoteIPHeader X-Forwarded-For",
        "RemoteIPTrustedProxy 127.0.0.1",
        'AliasMatch "^/[bt]/" "%s/index.html"' % docroot,
        '<Location "/b/">',
        "    AuthzStatusBlocklist On",
        "    AuthType Basic",
        '    AuthName "Model"',
        "    AuthBasicProvider authz_status",
        "</Location>",
        '<Location "/t/">',
        "    AuthzStatusBlocklist On",
        "    AuthType Bearer",
        '    AuthName "api"',
        "</Location>",
    ]
    for path, _, kind, names in locations():
        req = "valid-user" if kind == "valid" else \
            "%s %s" % ("role" if kind == "role" else "permission", " ".join(names))
        lines += ['<Location "%s">' % path, "    Require %s" % req, "</Location>"]
    return "\n".join(lines) + "\n"


IPS = (["203.0.113.%d" % i for i in range(1, 31)]
       + ["198.51.100.%d" % i for i in range(1, 11)]
       + ["2001:db8::%x" % i for i in range(1, 11)]
       + ["2001:db8:1::5", "192.0.2.200"])
RANGES = ["203.0.113.0/28", "203.0.113.16/28", "203.0.113.5", "198.51.100.0/24",
          "2001:db8::/64", "2001:db8::3", "2001:db8:1::/48", "192.0.2.0/24"]
B64T = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"


# ---- the model ----------------------------------------------------------------

class User:
    def __init__(self, name, pw, roles):
        self.name = name
        self.pw = pw
        self.roles = set(roles)
        self.disabled = False
        self.expired = False


class Token:
    def __init__(self, tok, tid, user, scopes):
        self.tok = tok
        self.id = tid
        self.user = user
        self.scopes = list(scopes)
        self.revoked = False
        self.gone = False          # its user was deleted


class Model:
    def __init__(self):
        self.users = {}
        self.perms = {r: set(p) for r, p in ROLE_PERMS.items()}
        self.parents = {r: set(ROLE_PARENTS.get(r, [])) for r in ROLE_PERMS}
        self.tokens = []
        self.blocks = {}           # htauthz's text -> network

    def eff_roles(self, u):
        seen, todo = set(), list(u.roles)
        while todo:
            r = todo.pop()
            if r in seen or r not in self.perms:
                continue
            seen.add(r)
            todo.extend(self.parents[r])
        return seen

    def eff_perms(self, u):
        out = set()
        for r in self.eff_roles(u):
            out |= self.perms[r]
        return out

    def inherits(self, a, b):
        """Does role a (transitively) inherit b?"""
        seen, todo = set(), [a]
        while todo:
            r = todo.pop()
            if r == b:
                return True
            if r in seen:
                continue
            seen.add(r)
            todo.extend(self.parents.get(r, ()))
        return False

    def blocked(self, ip):
        addr = ipaddress.ip_address(ip or "127.0.0.1")
        return any(addr.version == n.version and addr in n
                   for n in self.blocks.values())

    def answer(self, loc, cred, ip):
        """The expected (status, WWW-Authenticate or None)."""
        path, scheme, kind, names = loc
        if self.blocked(ip):
            return 403, None
        if scheme == "basic":
            chal = 'Basic realm="Model"'
            if cred[0] == "malformed-basic":
                return 400, None
            if cred[0] != "basic":
                return 401, chal
            u = self.users.get(cred[1])
            if not u or u.pw != cred[2] or u.disabled or u.expired:
                return 401, chal
            holds = self.eff_roles(u) if kind == "role" else self.eff_perms(u)
            if kind == "valid" or any(n in holds for n in names):
                return 200, None
            return 403, None
        realm = 'Bearer realm="api"'
        if cred[0] == "malformed-bearer":
            return 400, realm + ', error="invalid_request"'
        if cred[0] != "bearer":
            return 401, realm
        t = cred[1]
        if t is None or t.revoked or t.gone:
            return 401, realm + ', error="invalid_token"'
        u = self.users.get(t.user)
        if not u or u.disabled or u.expired:
            return 401, realm + ', error="invalid_token"'
        if kind == "valid":
            return 200, None
        if kind == "role":
            ok = any(n in self.eff_roles(u) for n in names)
        else:
            held = self.eff_perms(u)
            ok = any(n in held and (not t.scopes or n in t.scopes) for n in names)
        if ok:
            return 200, None
        return 403, realm + ', error="insufficient_scope", scope="%s"' % " ".join(names)

# ---- hashes for htauthz import --------------------------------------------------

def sha_hash(pw):
    return "{SHA}" + base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()


def make_hash(kind, pw):
    if kind == "sha":
        return sha_hash(pw)
    if kind == "sha6" and shutil.which("openssl"):
        return subprocess.run(["openssl", "passwd", "-6", pw], capture_output=True,
                              text=True, check=True).stdout.strip()
    if kind in ("apr1", "bcrypt") and shutil.which("htpasswd"):
        opt = ["-nbm"] if kind == "apr1" else ["-nbB", "-C", "4"]
        out = subprocess.run(["htpasswd"] + opt + ["x", pw], capture_output=True,
                             text=True, check=True).stdout.strip()
        return out.split(":", 1)[1]
    return sha_hash(pw)
