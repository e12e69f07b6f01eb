#!/bin/bash
# The provider behind mod_auth_form (README.md, "Directives"): a
# login form POSTed to the form-login-handler sets a session cookie
# (mod_session_cookie) and the protected pages then answer 200 with it; a
# wrong password or an unknown user gets no session.  The session's
# credentials are checked against the database on every request, so a
# disabled account or a forged cookie is refused at once.  Set up as in
# httpd's mod_auth_form documentation.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module

for m in auth_form session session_cookie request; do
    if [ ! -f "$AP_LIBEXECDIR/mod_$m.so" ] \
       && ! "$APACHE2" -l 2>/dev/null | grep -q "mod_$m.c"; then
        printf '# SKIP: mod_%s is not installed\n' "$m"
        exit 77
    fi
done

pw='F0rm-login-pw-zq7'
bad='F0rm-wr0ng-pw-zq7'
azs_db_init
azs_user_add alice "$pw"

cat > "$AZS_DOCROOT/login.html" <<'EOF'
<form method="POST" action="/dologin.html">
  <input type="text" name="httpd_username" value="">
  <input type="password" name="httpd_password" value="">
  <input type="submit" name="login" value="Login">
</form>
EOF

# The session is not encrypted (no mod_session_crypto): the case can then
# forge a cookie, which the provider must refuse.
azs_conf <<'EOF'
<Location "/dologin.html">
    SetHandler form-login-handler
    AuthType form
    AuthName "Administration"
    AuthFormProvider authz_status
    AuthFormLoginRequiredLocation "/login.html"
    AuthFormLoginSuccessLocation "/admin/index.html"
    Session On
    SessionCookieName session path=/;httponly
</Location>
# The same handler without AuthFormLoginRequiredLocation answers 401.
<Location "/dologin-plain.html">
    SetHandler form-login-handler
    AuthType form
    AuthName "Administration"
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/;httponly
</Location>
<Location "/admin">
    AuthType form
    AuthName "Administration"
    AuthFormProvider authz_status
    AuthFormLoginRequiredLocation "/login.html"
    Session On
    SessionCookieName session path=/;httponly
    Require valid-user
</Location>
EOF
azs_allow_log 'AZS[0-9]{4}: 401 (unknown-user|bad-password|account-disabled): user "[^"]*" for "/(dologin.html|dologin-plain.html|admin/)"'
azs_allow_log 'AH01807:|AH01808:|AH01809:|AH01810:|AH01811:'   # mod_auth_form

azs_start || azs_bail "httpd starts with mod_auth_form"

jar=$AZS_ROOT/cookies.txt
jar_bad=$AZS_ROOT/cookies-bad.txt

# ---- not logged in: sent to the form ----
http_req /admin/
expect_status 302 "no session -> 302 to the login form"
expect_header Location '/login\.html$' "no session -> Location is the login form"
http_req /login.html
expect_status 200 "the login form is served"

# ---- log in ----
http_req -c "$jar" --data-urlencode "httpd_username=alice" \
    --data-urlencode "httpd_password=$pw" /dologin.html
expect_status 302 "right password -> 302 (AuthFormLoginSuccessLocation)"
expect_header Location '/admin/index\.html$' "right password -> to the success page"
expect_header Set-Cookie '^session=' "right password -> a session cookie"
expect_true "the cookie jar holds the session" grep -q 'session' "$jar"
expect_no_log 'AZS[0-9]{4}:' "a form login logs nothing at warn"

http_req -b "$jar" /admin/
expect_status 200 "with the session cookie -> 200"
expect_body '^admin area$' "with the session cookie -> the page"
http_req -b "$jar" /admin/index.html
expect_status 200 "with the session cookie, again -> 200"

# ---- wrong password, unknown user: no session ----
# form_login DESC USER PW REASON
form_login() {
    rm -f "$jar_bad"
    http_req -c "$jar_bad" --data-urlencode "httpd_username=$2" \
        --data-urlencode "httpd_password=$3" /dologin.html
    expect_status 302 "$1 -> 302"
    expect_header Location '/login\.html$' "$1 -> back to the login form"
    expect_no_header Set-Cookie "$1 -> no session cookie"
    expect_log "AZS[0-9]{4}: 401 $4: user \"$2\" for \"/dologin.html\"" \
        "$1 -> $4 line"
    http_req -b "$jar_bad" /admin/
    expect_status 302 "$1, then the protected page -> 302 (not logged in)"
}
rm -f "$jar_bad"
http_req -c "$jar_bad" --data-urlencode "httpd_username=alice" \
    --data-urlencode "httpd_password=$bad" /dologin-plain.html
expect_status 401 "wrong password, handler without a redirect -> 401"
expect_no_header Set-Cookie "wrong password, handler without a redirect -> no session"
expect_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/dologin-plain.html"' \
    "wrong password, handler without a redirect -> bad-password line"
form_login "wrong password" alice "$bad" bad-password
form_login "unknown user" mallory "$pw" unknown-user

# A user name with a newline and a fake log line (no strict decoder here):
# one escaped line, no forged one.
fake='[Sun Nov 29 00:00:00.000000 2026] [authz_status:error] [pid 1:tid 1] AZS0102: 401 bad-password: user "forged" for "/admin/"'
http_req --data-urlencode "httpd_username=mallory
$fake" --data-urlencode "httpd_password=$pw" /dologin.html
expect_status 302 "newline + fake line in the form's user name -> 302"
expect_log_count 1 '^\[[^]]*\] \[authz_status:' \
    "newline in the form's user name -> exactly one module line"
expect_no_log '^\[Sun Nov 29 00:00:00' "newline in the form's user name -> no forged line"
azs_allow_log 'AZS[0-9]{4}: 401 unknown-user: user "mallory'

# ---- the session's credentials are checked on every request ----
cookie=$(tr -d '\r' < "$jar" | awk -F'\t' '$6 == "session" { print $7 }')
# shellcheck disable=SC2317  # called through expect_true
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
expect_true "the session cookie names alice" contains "$cookie" alice
forged=$(printf '%s' "$cookie" | sed "s/$(printf '%s' "$pw" | sed 's/[^A-Za-z0-9]/./g')/$bad/")
if [ "$forged" != "$cookie" ]; then
    http_req -H "Cookie: session=$forged" /admin/
    expect_status 302 "forged session with a wrong password -> 302 (not 200)"
    expect_log 'AZS[0-9]{4}: 401 bad-password: user "alice" for "/admin/"' \
        "forged session -> bad-password line"
else
    _azs_not_ok "the session cookie carries the password (cannot forge)" "$cookie"
fi

hz user disable alice
http_req -b "$jar" /admin/
expect_status 302 "account disabled -> the session no longer lets in"
expect_log 'AZS[0-9]{4}: 401 account-disabled: user "alice" for "/admin/"' \
    "account disabled -> account-disabled line"
hz user enable alice
http_req -b "$jar" /admin/
expect_status 200 "account enabled -> the session lets in again"

expect_no_secret "no password in the logs" "$pw" "$bad" "alice:$pw"
azs_done
