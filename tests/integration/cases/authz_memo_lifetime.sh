#!/bin/bash
# Audit item 1: the thread's memo (users with their roles and permissions,
# tokens, blocklist verdicts; at most 32 entries) must never be emptied
# under a request that still uses what it found there.  One child with one
# thread, one keep-alive connection.  Before each probe a write starts a new
# generation (on 2e8625e: an empty memo), then N entries are filled with
# unknown tokens and users the database does not know (file users: no hash
# on our side), of names of many lengths and in several orders, and then
# comes a scoped token or a login whose lookups land on the memo's bound:
#
#   alice holds admin (docs:read, app:perm000..app:perm139) and apiusers
#   (api:call); carol holds admin.  T_docs is alice's token scoped to
#   docs:read, T_p001 hers scoped to app:perm001.
#   - main:  the token is the 32nd entry, its user's lookup the 33rd.
#            T_docs on /api (Require permission api:call) -> 403 (the
#            audit's bypass answered 200); T_docs on /many (Require
#            permission app:perm000 ... app:perm139, any of them) -> 403;
#            T_p001 on /perm (app:perm001) -> 200 (a wrong 403 on 2e8625e).
#   - audit: the audit's own layout: 21 unknown tokens, 10 unknown Basic
#            users (255 bytes, the last 228; 401 each), then T_docs on
#            /api and T_p001 on /perm.
#   - sub:   a Require expr with -U between two Require permission lines
#            runs a subrequest to another protected URL while the main
#            request holds its token's scopes and its user's tables; the
#            subrequest's lookups reach the bound (same database), or go
#            to another file (a second database).
#   - basic: the same with Basic logins (alice -> 200, carol -> 403).
#
# Each group's answers are compared with the right one (status and, for a
# 403 to a token, error="insufficient_scope"); a group whose child crashed
# (the connection breaks) stops there.  The filler answers are checked too
# (unknown token 401, file user 200, unknown user 401).  About 9,000
# requests, 7 s a MPM.  AZS_MEMO_BUDGET (seconds, default 45) bounds a run
# that crashes often.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib_authz.sh
. "$(dirname "$0")/../lib_authz.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || _azs_die "this case needs python3"

for d in many perm docsr bperm subperm subapi subdb2 subdb2api bsub bsubneg \
         basic basicdb db2perm db2docs; do
    mkdir -p "$AZS_DOCROOT/$d"
    printf '{"x": 1}\n' > "$AZS_DOCROOT/$d/x.json"
done

# ---- the database -------------------------------------------------------------
azs_db_init
hz role add admin
hz role add apiusers
hz role add scratch
perms=(docs:read)
for i in $(seq 0 139); do perms+=("$(printf 'app:perm%03d' "$i")"); done
hz role grant admin "${perms[@]}"
hz role grant apiusers api:call
# Cheap hashes ({SHA}): a login costs no bcrypt.
sha() { printf '{SHA}%s' "$(printf '%s' "$1" | openssl sha1 -binary | base64)"; }
command -v openssl >/dev/null 2>&1 \
    || sha() { "$AZS_PYTHON" -c 'import base64,hashlib,sys
print("{SHA}" + base64.b64encode(hashlib.sha1(sys.argv[1].encode()).digest()).decode(), end="")' "$1"; }
alice_pw='Al1ce-memo-pw-zq7' carol_pw='C4rol-memo-pw-zq7'
azs_secret "$alice_pw" "$carol_pw"
printf 'alice:%s\ncarol:%s\n' "$(sha "$alice_pw")" "$(sha "$carol_pw")" \
    | azs_htauthz import htpasswd - >/dev/null || _azs_die "import"
hz user grant alice admin apiusers
hz user grant carol admin
tok_docs=$(azs_htauthz token issue alice --scope docs:read | head -n 1)
tok_p001=$(azs_htauthz token issue alice --scope app:perm001 | head -n 1)
if [ -z "$tok_docs" ] || [ -z "$tok_p001" ]; then _azs_die "token issue"; fi

# A second database: the same users and tokens, more (and longer)
# permissions, under a longer path, so that its entries lie differently.
DB2=$AZS_DB_DIR/second-database-for-the-subrequest-variant.db
authz_db_copy "$AZS_DB" "$DB2"
long=()
for i in $(seq 0 39); do
    long+=("db2:$(printf '%0200d' "$i")")
done
"$HTAUTHZ" -d "$DB2" role grant admin "${long[@]}" >/dev/null \
    || _azs_die "db2 grant"
[ -n "$AZS_RUN_USER" ] && chown "$AZS_RUN_USER:$AZS_RUN_GROUP" "$DB2"*

# The file users: unknown to the database, known to mod_authn_file (no
# hash to verify on our side).  Names are made by the driver; the file is
# written by it too (below, before the start).
HTPW=$AZS_CONF_DIR/htpasswd
file_pw='F1le-user-pw-zq7'
azs_secret "$file_pw"

# ---- the configuration -----------------------------------------------------------
azs_single_child 1
# loc PATH SCHEME REQUIRE... - a location (Basic: from the database), on
# the database $DB when set.  subreq PATH SCHEME FIRST URL LAST - one whose
# authorization is: permission FIRST, then a subrequest to URL (once the
# user is known), then permission LAST.
loc() {
    local path=$1 scheme=$2
    shift 2
    printf '<Location "%s">\n' "$path"
    [ -n "${DB:-}" ] && printf '    AuthzStatusDatabase "%s"\n' "$DB"
    if [ "$scheme" = Basic ]; then
        printf '    AuthType Basic\n    AuthName "Sub"\n'
        printf '    AuthBasicProvider authz_status\n'
    else
        printf '    AuthType Bearer\n    AuthName "api"\n'
    fi
    printf '    %s\n' "$@"
    printf '</Location>\n'
}
subreq() {
    loc "$1" "$2" "<RequireAll>" "    Require permission $3" \
        "    Require expr \"%{REMOTE_USER} != '' && -U '$4'\"" \
        "    Require permission $5" "</RequireAll>"
}
{
    cat <<EOF
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 20
<Location "/basic">
    AuthType Basic
    AuthName "Files"
    AuthBasicProvider file authz_status
    AuthUserFile "$HTPW"
    Require valid-user
</Location>
EOF
    loc /basicdb Basic "Require valid-user"
    loc /api Bearer "Require permission api:call"
    loc /many Bearer "Require permission ${perms[*]:1}"
    loc /perm Bearer "Require permission app:perm001"
    loc /docsr Bearer "Require permission docs:read"
    loc /bperm Basic "Require permission app:perm001"
    DB=$DB2 loc /db2perm Bearer "Require permission app:perm001"
    DB=$DB2 loc /db2docs Bearer "Require permission docs:read"
    subreq /subperm Bearer app:perm001 /perm/x.json app:perm001
    subreq /subapi Bearer docs:read /docsr/x.json api:call
    subreq /subdb2 Bearer app:perm001 /db2perm/x.json app:perm001
    subreq /subdb2api Bearer docs:read /db2docs/x.json api:call
    subreq /bsub Basic app:perm139 /bperm/x.json app:perm070
    subreq /bsubneg Basic app:perm139 /bperm/x.json api:call
} | azs_conf
azs_allow_log 'AZS[0-9]{4}: 401 (token-unknown|unknown-user): (user "[^"]*" )?for "/(api|basicdb)/'
azs_allow_log 'AZS[0-9]{4}: 403 missing-permission: user "(alice|carol)" for "/(api|many|subapi|subdb2api|bsubneg)/'

# ---- the driver -------------------------------------------------------------------
# Writes the htpasswd file when called with "names"; sends the probes when
# called with "run".  Prints "ok|not ok<TAB>description<TAB>details".
driver() {
    AZS_RUN_USER=$AZS_RUN_USER AZS_IT_DIR=$AZS_IT_DIR "$AZS_PYTHON" - "$@" <<'PY'
import os, random, sys, time
sys.path.insert(0, os.environ["AZS_IT_DIR"])
from model_random import Client, Db, Httpd, basic, bearer, sha_hash

mode = sys.argv[1]
rnd = random.Random(20260514)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

def name(i, length):
    """A user name of LENGTH bytes, distinct for each i < 62 (one byte) or
    i < 62 * 62 (longer)."""
    if length == 1:
        return ALNUM[i % 62]
    head = ALNUM[i % 62] + ALNUM[(i // 62) % 62]
    return (head + "".join(ALNUM[(i * 7 + j) % 62] for j in range(length)))[:length]

# Name patterns: the lengths of 31 users; a layout with n users takes the
# last n.
PATTERNS = {
    "long":  [255] * 30 + [228],
    "short": [1 + (i % 8) for i in range(31)],
    "mixed": [rnd.randint(1, 255) for _ in range(31)],
    "steps": [1 + (i * 37) % 255 for i in range(31)],
}
BASE = {"long": 0, "short": 31, "mixed": 62, "steps": 93}

def users_for(pattern, n):
    lens = PATTERNS[pattern]
    out = [name(BASE[pattern] + i, lens[i]) for i in range(len(lens) - n, len(lens))]
    assert len(set(out)) == len(out), (pattern, out)
    return out

if mode == "names":
    # every name the run may use, in an htpasswd file ({SHA})
    h = sha_hash(sys.argv[3])
    names = set()
    for p in PATTERNS:
        names.update(users_for(p, 31))
    with open(sys.argv[2], "w") as f:
        for n in sorted(names):
            f.write("%s:%s\n" % (n, h))
    sys.exit(0)

port, db, htauthz, pid, tok_docs, tok_p001, alice_pw, carol_pw, file_pw = sys.argv[2:11]
BUDGET = int(os.environ.get("AZS_MEMO_BUDGET", "45"))      # seconds
cli = Client(port, Httpd(pid))
hz = Db(htauthz, db)

gen_n = [0]
def new_generation():
    """A write: the next lookup of the thread finds its memo empty."""
    gen_n[0] += 1
    hz.must("role", "grant", "scratch", "gen:%d" % gen_n[0])

def request(path, auth):
    return cli.request(path, {"Authorization": auth} if auth else {})

B64T = ALNUM + "-._~+/"
def unknown_token():
    return "".join(rnd.choice(B64T) for _ in range(rnd.randint(8, 120)))

filler_bad = []
nfiller = [0]
def check_filler(desc, got, want):
    nfiller[0] += 1
    if got[0] != want:
        filler_bad.append("%s: got %s (%s), want %s" % (desc, got[0], got[1], want))

def fill(n_tokens, users, order, unknown_users=False):
    """n_tokens unknown tokens and the users, as memo entries."""
    steps = [("t", None)] * n_tokens + [("u", u) for u in users]
    if order == "users-first":
        steps = [("u", u) for u in users] + [("t", None)] * n_tokens
    elif order == "alternate":
        t = [("t", None)] * n_tokens
        u = [("u", x) for x in users]
        steps = []
        while t or u:
            if t: steps.append(t.pop())
            if u: steps.append(u.pop(0))
    for kind, u in steps:
        if kind == "t":
            check_filler("unknown token", request("/api/x.json", bearer(unknown_token())), 401)
        elif unknown_users:
            check_filler("unknown user (%d bytes)" % len(u),
                         request("/basicdb/x.json", basic(u, "Wr0ng-pw-" + u[:8])), 401)
        else:
            check_filler("file user (%d bytes)" % len(u),
                         request("/basic/x.json", basic(u, file_pw)), 200)

results = {}   # group -> [(layout, got, want, ok)]
def probe(group, layout, path, auth, want, hdr_re=None):
    got = request(path, auth)
    ok = got[0] == want
    if ok and hdr_re is not None and hdr_re not in (got[1] or ""):
        ok = False
    results.setdefault(group, []).append((layout, got, want, ok))
    return got[0] != 0

SCOPE = 'error="insufficient_scope"'
T_DOCS, T_P001 = bearer(tok_docs), bearer(tok_p001)
# variant, group: path, credentials, status, a part of WWW-Authenticate
PROBES = [
    ("main", "main: T_docs on /api (api:call)", "/api/x.json", T_DOCS, 403, SCOPE),
    ("main", "main: T_docs on /many (any of app:perm000..app:perm139)",
     "/many/x.json", T_DOCS, 403, SCOPE),
    ("main", "main: T_p001 on /perm (app:perm001)", "/perm/x.json", T_P001, 200, None),
    ("sub", "sub: T_p001 on /subperm (app:perm001, -U /perm, app:perm001)",
     "/subperm/x.json", T_P001, 200, None),
    ("sub", "sub: T_docs on /subapi (docs:read, -U /docsr, api:call)",
     "/subapi/x.json", T_DOCS, 403, SCOPE),
    ("db2", "sub, second database: T_p001 on /subdb2 (app:perm001, -U /db2perm, "
     "app:perm001)", "/subdb2/x.json", T_P001, 200, None),
    ("db2", "sub, second database: T_docs on /subdb2api (docs:read, -U /db2docs, "
     "api:call)", "/subdb2api/x.json", T_DOCS, 403, SCOPE),
    ("basic", "basic sub: alice on /bsub (app:perm139, -U /bperm, app:perm070)",
     "/bsub/x.json", basic("alice", alice_pw), 200, None),
    ("basic", "basic sub: carol on /bsubneg (app:perm139, -U /bperm, api:call)",
     "/bsubneg/x.json", basic("carol", carol_pw), 403, None),
]
def probes(variant):
    return dict((g, spec) for v, g, *spec in PROBES if v == variant)
MAIN, SUB, DB2, BASIC = probes("main"), probes("sub"), probes("db2"), probes("basic")
AUDIT = dict((g, MAIN[g]) for g in MAIN if "/many" not in g)

ORDERS = ["tokens-first", "users-first", "alternate"]
def jobs(probes, layouts, unknown_users=False, again=False):
    """(group, label, probe, fill) for each layout and probe; each is sent
    on a generation of its own."""
    out = []
    for pattern, k, n in layouts:
        for group, spec in probes.items():
            order = "tokens-first" if unknown_users else ORDERS[len(out) % 3]
            label = "%s/%d tokens+%d users/%s" % (pattern, k, n, order)
            if unknown_users:
                label = "audit: %d unknown tokens + %d unknown users (%s)" % (
                    k, n, "..".join(str(len(u)) for u in users_for(pattern, n)[-2:]))
            out.append((group, label, spec,
                        (k, users_for(pattern, n), order, unknown_users), again))
    return out

variants = [
    # main: the token is the 32nd entry; its user's lookup fills the memo.
    jobs(MAIN, [(p, k, 31 - k) for p in PATTERNS
                for k in (0, 2, 5, 9, 13, 17, 21, 25, 28, 30, 31)]),
    # the audit's own layout, with users the database does not know (401)
    jobs(AUDIT, [("long", 21, 10)], unknown_users=True),
    # sub: the main request's lookups are the 31st and 32nd entries (or
    # around them); the subrequest's next lookup finds the memo full.
    jobs(SUB, [(p, k, t - k) for p in ("long", "mixed", "steps", "short")
               for t in (29, 30, 31) for k in (0, 10, 20, t)]),
    # sub to another database: its lookups go to another file.
    jobs(DB2, [(p, k, 20 - k) for p in ("long", "mixed", "short")
               for k in (0, 10, 20)], again=True),
    # basic: the login's lookup is the 31st or 32nd entry.
    jobs(BASIC, [(p, k, t - k) for p in ("long", "mixed", "steps")
                 for t in (30, 31) for k in (0, 9, 21, t)]),
]

t0 = time.time()
crashed = {}       # group -> the layout where the connection broke
skipped = {}       # group -> how many layouts were not sent
for i in range(max(len(v) for v in variants)):
    for v in variants:
        if i >= len(v):
            continue
        group, label, (path, auth, want, hdr), (k, users, order, unknown), again = v[i]
        # A crashing child costs a second or two: a group whose child
        # crashed (already a failure) sends no more.
        if group in crashed or time.time() - t0 > BUDGET:
            skipped[group] = skipped.get(group, 0) + 1
            continue
        cli.label = "%s: %s" % (group, label)
        new_generation()
        fill(k, users, order, unknown)
        alive = probe(group, label, path, auth, want, hdr)
        if alive and again:
            alive = probe(group, label + ", again", path, auth, want, hdr)
        if not alive:
            crashed[group] = label

for group, rows in results.items():
    bad = [r for r in rows if not r[3]]
    desc = "%s -> %s: %d layouts, %d wrong" % (group, rows[0][2], len(rows), len(bad))
    if group in crashed:
        desc += ", connection broken at %s (%d layouts not sent)" % (
            crashed[group], skipped.get(group, 0))
    elif skipped.get(group):
        desc += " (%d not sent: out of time)" % skipped[group]
    detail = "; ".join("%s -> %s %s" % (l, g[0], g[1] or "") for l, g, w, ok in bad[:8])
    if len(bad) > 8:
        detail += "; ... %d more" % (len(bad) - 8)
    fail = bad or group in crashed or skipped.get(group)
    print("%s\t%s\t%s" % ("not ok" if fail else "ok", desc, detail))
print("%s\tfiller answers as expected (%d requests: unknown token 401, file user 200, unknown user 401)\t%s" % (
    "not ok" if filler_bad else "ok", nfiller[0], "; ".join(filler_bad[:10])))
print("%s\tno connection broken (a child that crashes drops it)\t%s" % (
    "not ok" if cli.crashes else "ok", "; ".join("%s: %s (%s)" % c for c in cli.crashes[:10])))
print("info\t%d generations, %d requests on %d connections (%d reopened after an idle close), %.1fs" % (
    gen_n[0], cli.requests, cli.connections, cli.reopened, time.time() - t0))
PY
}

driver names "$HTPW" "$file_pw" || _azs_die "cannot write $HTPW"
chmod 644 "$HTPW"

azs_start || azs_bail "httpd starts"
children=$(azs_child_pids)
expect_true "one child ($children)" test "$(wc -w <<<"$children")" = 1

out=$(driver run "$AZS_PORT" "$AZS_DB" "$HTAUTHZ" "$AZS_PID" "$tok_docs" "$tok_p001" \
      "$alice_pw" "$carol_pw" "$file_pw" 2>&1)
rc=$?
expect_true "the driver ran to its end (exit $rc)" test "$rc" = 0
while IFS=$'\t' read -r verdict desc detail; do
    case $verdict in
        ok) _azs_ok "$desc" ;;
        "not ok") _azs_not_ok "$desc" "$detail" ;;
        info) printf '# %s\n' "$desc" ;;
        *) [ -n "$verdict$desc" ] && printf '# %s %s %s\n' "$verdict" "$desc" "$detail" ;;
    esac
done <<<"$out"
expect_true "still the same child, never restarted ($children -> $(azs_child_pids))" \
    test "$(azs_child_pids)" = "$children"

azs_done
