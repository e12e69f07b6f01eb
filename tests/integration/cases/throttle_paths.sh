#!/bin/bash
# AuthzStatusThrottle where the request takes a less common way (README.md,
# "Throttling failed logins"); each was a way around it once:
#  - mod_auth_form's login handler without "AuthType form", and an
#    AuthnProviderAlias of authz_status: a banned address is refused
#    there too, and failures there count;
#  - "AuthBasicProvider file authz_status": a wrong password that file
#    judges counts (the ban is the server's, whichever provider says no);
#  - a login that succeeds through another provider, then fails Require,
#    or a successful form login redirected: no failure;
#  - ErrorDocument 401 into another protected location: one failure, one
#    count;
#  - twenty form logins at once: the ban stops the hashes of those still
#    waiting for the hash place (at most N and the one under way hashed).
# azs: timeout 150

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
command -v htpasswd >/dev/null || { printf '# SKIP: no htpasswd\n'; exit 77; }

pw='Paths-alice-pw-zq7'
bad='Paths-wr0ng-pw-zq7'
bobpw='Paths-bob-pw-zq7'
azs_db_init
azs_user_add alice "$pw"
azs_secret "$bobpw" "bob:$bobpw"
htpasswd -cbB "$AZS_ROOT/conf/users.htpasswd" bob "$bobpw" 2>/dev/null \
    || azs_bail "htpasswd"
chmod 644 "$AZS_ROOT/conf/users.htpasswd"
for d in admin aliased filefirst azsfirst edoc; do
    mkdir -p "$AZS_DOCROOT/$d"
    echo "$d" > "$AZS_DOCROOT/$d/index.html"
    echo err > "$AZS_DOCROOT/$d/err.html"
done
echo ok > "$AZS_DOCROOT/ok.html"

azs_conf <<EOF2
AuthzStatusThrottle 4/20s 20s
AuthzStatusHashLimit 1
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<AuthnProviderAlias authz_status azsalias>
</AuthnProviderAlias>
<Location "/admin">
    AuthType Basic
    AuthName "A"
    AuthBasicProvider authz_status
    Require valid-user
</Location>
<Location "/aliased">
    AuthType Basic
    AuthName "A"
    AuthBasicProvider azsalias
    Require valid-user
</Location>
<Location "/filefirst">
    AuthType Basic
    AuthName "A"
    AuthBasicProvider file authz_status
    AuthUserFile "$AZS_ROOT/conf/users.htpasswd"
    Require valid-user
</Location>
<Location "/azsfirst">
    AuthType Basic
    AuthName "A"
    AuthBasicProvider authz_status file
    AuthUserFile "$AZS_ROOT/conf/users.htpasswd"
    Require user nobody
</Location>
<Location "/edoc">
    AuthType Basic
    AuthName "B"
    AuthBasicProvider authz_status
    Require valid-user
    ErrorDocument 401 /admin/err.html
</Location>
<Location "/dologin.html">
    SetHandler form-login-handler
    AuthType form
    AuthName "A"
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/
</Location>
<Location "/dologin_nt.html">
    SetHandler form-login-handler
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/
</Location>
<Location "/dologin_multi.html">
    SetHandler form-login-handler
    AuthType form
    AuthName "A"
    AuthFormProvider authz_status file
    AuthUserFile "$AZS_ROOT/conf/users.htpasswd"
    AuthFormLoginSuccessLocation "/ok.html"
    Session On
    SessionCookieName session path=/
</Location>
EOF2
azs_allow_log 'AZS0(101|102): 401 (unknown-user|bad-password): user "(alice|bob)" for "/'
# mod_auth_form's handler tells no one that a later provider accepted:
# our unknown-user line stays (README), though it is not counted.
azs_allow_log 'AZS0402: 429 throttled: for "/'
azs_allow_log 'AH01807:|AH01808:|AH01809:|AH01810:|AH01811:'   # mod_auth_form
azs_allow_log 'AH01618:|AH01617:|AH01631:'                     # auth_basic, authz_core
azs_allow_log 'AH01797:|AH01798:'                               # access denied by Require user
azs_start || azs_bail "httpd starts"

req() { local a=$1; shift; http_req -H "X-Forwarded-For: $a" "$@"; }
ban() {
    for _ in 1 2 3 4; do req "$1" -u "alice:$bad" /admin/; done
    req "$1" -u "alice:$pw" /admin/
    expect_status 429 "$1 banned on /admin"
}
form() { req "$1" --data-urlencode "httpd_username=$3" --data-urlencode "httpd_password=$4" "$2"; }

# ---- the form login handler, with and without AuthType form ----------------
A=198.18.0.1; ban $A
form $A /dologin_nt.html alice "$pw"
expect_status 429 "banned: the form-login-handler without AuthType form refuses it"
form $A /dologin.html alice "$pw"
expect_status 429 "banned: the form-login-handler with AuthType form refuses it"
A2=198.18.0.11
for _ in 1 2 3 4; do form $A2 /dologin_nt.html alice "$bad"; done
form $A2 /dologin_nt.html alice "$pw"
expect_status 429 "4 failures on the handler without AuthType ban"

# ---- an alias of the provider ------------------------------------------------
B=198.18.0.2; ban $B
req $B -u "alice:$pw" /aliased/
expect_status 429 "banned: refused through AuthnProviderAlias"
B2=198.18.0.12
for _ in 1 2 3 4; do req $B2 -u "alice:$bad" /aliased/; done
req $B2 -u "alice:$pw" /aliased/
expect_status 429 "4 failures through the alias ban"
req $B2 -u "alice:$pw" /admin/
expect_status 429 "... on /admin too"

# ---- another provider's "no" is a failure too ------------------------------------
C=198.18.0.3
for _ in 1 2 3 4; do req $C -u "bob:$bad" /filefirst/; done
expect_status 401 "4 wrong passwords for bob, judged by file: 401"
req $C -u "bob:$bobpw" /filefirst/
expect_status 429 "... and they ban"

# ---- successes are no failures -----------------------------------------------------
D=198.18.0.4
for _ in 1 2 3 4 5; do req $D -u "bob:$bobpw" /azsfirst/; done
expect_status 401 "bob (file, after our unknown-user) fails Require user nobody: httpd's 401"
req $D -u "alice:$pw" /admin/
expect_status 200 "5 correct logins refused by Require do not ban"
E=198.18.0.5
for _ in 1 2 3 4 5; do form $E /dologin_multi.html bob "$bobpw"; done
expect_status 302 "a successful form login (file, after our unknown-user) is redirected"
req $E -u "alice:$pw" /admin/
expect_status 200 "5 successful form logins do not ban"
expect_no_log 'AZS0101: 401 unknown-user: user "bob" for "/azsfirst/"' \
    "an unknown-user that file overruled leaves no line" 0

# ---- ErrorDocument 401 into another protected location ---------------------------
F=198.18.0.6
for _ in 1 2 3; do req $F -u "alice:$bad" /edoc/; done
expect_status 401 "3 failures with ErrorDocument: 401"
req $F -u "alice:$pw" /admin/
expect_status 200 "3 failures with ErrorDocument are 3, not 6: no ban"
req $F -u "alice:$bad" /edoc/
req $F -u "alice:$pw" /admin/
expect_status 429 "the 4th bans"

# ---- twenty form logins at once -------------------------------------------------------
G=198.18.0.7
mark=$(log_mark)
"$AZS_PYTHON" "$AZS_IT_DIR/throttle_flood.py" burst "$AZS_PORT" "$G" 20 form \
    "alice:$bad" > "$AZS_ROOT/concurrent.txt"
hashed=$(log_since "$mark" | grep -c "AZS0102: 401 bad-password: user \"alice\" for \"/dologin.html\"")
expect_true "20 form logins at once: $hashed passwords checked (at most N=4 and the one under way): $(cat "$AZS_ROOT/concurrent.txt")" \
    test "$hashed" -ge 4 -a "$hashed" -le 5
req $G -u "alice:$pw" /admin/
expect_status 429 "... and the address is banned"

azs_done
