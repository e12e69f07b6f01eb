#!/bin/bash
# AuthzStatusExport On: a granted request's user, effective roles (the
# inherited ones too, sorted), kind of login and token id reach a CGI
# script's environment, and, through mod_headers and mod_proxy, a backend
# on a second local server; the configuration the README shows drops a
# client's own X-Roles, so it cannot be forged.  Nothing is exported where
# the directive is Off, where another module established the user, or
# for a request that was refused; never the password or the token.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
azs_need_module
[ -n "$AZS_PYTHON" ] || azs_bail "the backend needs python3"

pw_a='Alice-exp0rt-pw-zq7'
pw_b='Bob-exp0rt-pw-zq7'
pw_f='Fred-exp0rt-pw-zq7'

azs_db_init
for r in admin editor writer reader api; do hz role add "$r"; done
hz role inherit editor writer
hz role inherit writer reader
hz role grant api api:call
azs_user_add alice "$pw_a"
azs_user_add bob "$pw_b"
hz user grant alice editor
hz user grant alice admin
hz user grant alice api
out=$(azs_htauthz token issue alice --scope api:call) || azs_bail "token"
tok=$(printf '%s\n' "$out" | sed -n 1p)
tok_id=$(printf '%s\n' "$out" | sed -n 2p)
out=$(azs_htauthz token issue alice) || azs_bail "token"
u_tok=$(printf '%s\n' "$out" | sed -n 1p)
# fred is known to mod_authn_file only.
printf 'fred:%s\n' "$(openssl passwd -apr1 "$pw_f")" > "$AZS_ROOT/htpasswd"
azs_secret "$pw_f"

# The CGI script: the environment it was given.
mkdir -p "$AZS_ROOT/cgi-bin"
cat > "$AZS_ROOT/cgi-bin/env.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
env | grep -E '^(REDIRECT_)?(AUTHZ_STATUS_|REMOTE_USER=|AUTH_TYPE=|HTTP_AUTHORIZATION|STATUS=)' | sort
EOF
chmod 755 "$AZS_ROOT/cgi-bin" "$AZS_ROOT/cgi-bin/env.cgi"

# The backend: a second local server that answers with the headers it got.
bport=$(azs_free_port) || azs_bail "no free port"
# (The ServerRoot is its last argument, unused: the harness's check for
# servers left running finds it by it.)
"$AZS_PYTHON" - "$bport" "$AZS_ROOT" > "$AZS_ROOT/backend.log" 2>&1 <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ''.join('%s: %s\n' % (k, v) for k, v in self.headers.items()
                       if k.lower().startswith('x-'))
        body = body.encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
EOF
backend=$!
azs_on_exit "kill $backend 2>/dev/null"
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$bport/" && break
    sleep 0.05
done

AZS_EXTRA_MODULES="proxy proxy_http setenvif"
azs_loc_form_login /dologin.html form | azs_conf
azs_conf <<EOF
<IfModule mpm_prefork_module>
    LoadModule cgi_module "$AP_LIBEXECDIR/mod_cgi.so"
</IfModule>
<IfModule !mpm_prefork_module>
    LoadModule cgid_module "$AP_LIBEXECDIR/mod_cgid.so"
    ScriptSock "$AZS_RUN_DIR/cgid.sock"
</IfModule>
ScriptAlias /cgi/ "$AZS_ROOT/cgi-bin/"
ScriptAlias /cgi-off/ "$AZS_ROOT/cgi-bin/"
ScriptAlias /cgi-token/ "$AZS_ROOT/cgi-bin/"
ScriptAlias /cgi-file/ "$AZS_ROOT/cgi-bin/"
ScriptAlias /cgi-form/ "$AZS_ROOT/cgi-bin/"
<Directory "$AZS_ROOT/cgi-bin">
    Require all granted
</Directory>
# A client's header must never become an exported value.
SetEnvIfNoCase X-Forge "(.+)" AUTHZ_STATUS_ROLES=\$1 AUTHZ_STATUS_USER=\$1
LogFormat "%U user=%{AUTHZ_STATUS_USER}e roles=%{AUTHZ_STATUS_ROLES}e" azs_export
CustomLog "$AZS_LOG_DIR/export_log" azs_export
<Location "/cgi-refused/">
    AuthType Basic
    AuthName "cgi"
    AuthBasicProvider authz_status
    Require role admin
    AuthzStatusExport On
    # The refusal's page is the script itself: it must learn nothing.
    ErrorDocument 403 /cgi-refused/env.cgi
    ErrorDocument 401 /cgi-refused/env.cgi
</Location>
ScriptAlias /cgi-refused/ "$AZS_ROOT/cgi-bin/"
<Location "/cgi/">
    AuthType Basic
    AuthName "cgi"
    AuthBasicProvider authz_status
    Require valid-user
    AuthzStatusExport On
</Location>
<Location "/cgi-off/">
    AuthType Basic
    AuthName "cgi"
    AuthBasicProvider authz_status
    Require valid-user
</Location>
<Location "/cgi-token/">
    AuthType Bearer
    AuthName "api"
    Require permission api:call
    AuthzStatusExport On
</Location>
<Location "/cgi-file/">
    AuthType Basic
    AuthName "file"
    AuthBasicProvider file
    AuthUserFile "$AZS_ROOT/htpasswd"
    Require valid-user
    AuthzStatusExport On
</Location>
<Location "/cgi-form/">
    AuthType form
    AuthName "form"
    AuthFormProvider authz_status
    Session On
    SessionCookieName session path=/;httponly
    Require valid-user
    AuthzStatusExport On
</Location>
# The README's way: drop what the client sent, then set what we know.
<Location "/app/">
    AuthType Basic
    AuthName "app"
    AuthBasicProvider authz_status
    Require role reader admin
    AuthzStatusExport On
    RequestHeader unset X-Roles
    RequestHeader unset X-User
    RequestHeader set X-Roles "%{AUTHZ_STATUS_ROLES}e" env=AUTHZ_STATUS_ROLES
    RequestHeader set X-User "%{AUTHZ_STATUS_USER}e" env=AUTHZ_STATUS_USER
    ProxyPass "http://127.0.0.1:$bport/"
</Location>
<Location "/app-bob/">
    AuthType Basic
    AuthName "app"
    AuthBasicProvider authz_status
    Require valid-user
    AuthzStatusExport On
    RequestHeader unset X-Roles
    RequestHeader set X-Roles "%{AUTHZ_STATUS_ROLES}e" env=AUTHZ_STATUS_ROLES
    ProxyPass "http://127.0.0.1:$bport/"
</Location>
EOF
azs_allow_log 'AZS0301: 403 missing-role: user "bob" for "/(app|cgi-refused)/'
azs_allow_log 'AZS0102: 401 bad-password: user "alice" for "/cgi(-refused)?/'

azs_start || azs_bail "httpd starts"

# ---- CGI ------------------------------------------------------------------
http_req -u "alice:$pw_a" /cgi/env.cgi
expect_status 200 "alice -> the CGI script runs"
expect_body '^AUTHZ_STATUS_USER=alice$' "AUTHZ_STATUS_USER"
expect_body '^AUTHZ_STATUS_ROLES=admin api editor reader writer$' \
    "AUTHZ_STATUS_ROLES: effective roles, inherited too, sorted"
expect_body '^AUTHZ_STATUS_AUTH=basic$' "AUTHZ_STATUS_AUTH=basic"
expect_true "no token id for a password login" \
    bash -c "! grep -q AUTHZ_STATUS_TOKEN '$HTTP_BODY'"
expect_true "the password is in no variable" \
    bash -c "! grep -qF '$pw_a' '$HTTP_BODY'"

http_req -u "bob:$pw_b" /cgi/env.cgi
expect_status 200 "bob -> 200"
expect_body '^AUTHZ_STATUS_ROLES=$' "a user without roles: AUTHZ_STATUS_ROLES empty"

http_req -u "bob:$pw_b" -H 'X-Forge: admin' /cgi/env.cgi
expect_body '^AUTHZ_STATUS_ROLES=$' \
    "a value set from the client's header (SetEnvIf) is replaced"
expect_body '^AUTHZ_STATUS_USER=bob$' "... the user too"

# A refused request runs nothing.
http_req -u "alice:Wr0ng-exp0rt-pw" /cgi/env.cgi
expect_status 401 "wrong password -> 401, no script"
expect_true "the refusal exports nothing" \
    bash -c "! grep -q AUTHZ_STATUS_ '$HTTP_BODY'"

http_req -u "alice:$pw_a" /cgi-off/env.cgi
expect_status 200 "AuthzStatusExport off (the default) -> 200"
expect_true "off: nothing exported" \
    bash -c "! grep -q AUTHZ_STATUS_ '$HTTP_BODY'"

http_req -H "Authorization: Bearer $tok" /cgi-token/env.cgi
expect_status 200 "token -> 200"
expect_body '^AUTHZ_STATUS_AUTH=bearer$' "AUTHZ_STATUS_AUTH=bearer"
expect_body "^AUTHZ_STATUS_TOKEN_ID=$tok_id\$" "AUTHZ_STATUS_TOKEN_ID"
expect_body '^AUTHZ_STATUS_TOKEN_SCOPES=api:call$' "AUTHZ_STATUS_TOKEN_SCOPES"
expect_body '^AUTHZ_STATUS_USER=alice$' "the token's user"
expect_body '^AUTHZ_STATUS_ROLES=$' \
    "a scoped token carries no roles (its scopes say what it may do)"
http_req -H "Authorization: Bearer $u_tok" /cgi-token/env.cgi
expect_status 200 "unscoped token -> 200"
expect_body '^AUTHZ_STATUS_ROLES=admin api editor reader writer$' \
    "an unscoped token carries its user's roles"
expect_true "no scopes for an unscoped token" \
    bash -c "! grep -q AUTHZ_STATUS_TOKEN_SCOPES '$HTTP_BODY'"
expect_true "the token is in no exported variable" \
    bash -c "! grep '^AUTHZ_STATUS_' '$HTTP_BODY' | grep -qF '$tok'"

http_req -u "fred:$pw_f" -H 'X-Forge: admin' /cgi-file/env.cgi
expect_status 200 "a user of mod_authn_file -> 200"
expect_true "another module's user: nothing exported, nothing forged" \
    bash -c "! grep -q AUTHZ_STATUS_ '$HTTP_BODY'"

jar=$AZS_ROOT/cookies.txt
http_req -c "$jar" --data-urlencode "httpd_username=alice" \
    --data-urlencode "httpd_password=$pw_a" /dologin.html
http_req -b "$jar" /cgi-form/env.cgi
expect_status 200 "a form login's session -> 200"
expect_body '^AUTHZ_STATUS_AUTH=form$' "AUTHZ_STATUS_AUTH=form"
expect_body '^AUTHZ_STATUS_USER=alice$' "... and its user"

# A refusal whose ErrorDocument is a script: it runs, and learns no user.
http_req -u "bob:$pw_b" /cgi-refused/x
expect_status 403 "bob refused -> 403 (the ErrorDocument script's page)"
expect_body '^REDIRECT_STATUS=403$' "the ErrorDocument script ran"
expect_true "the refused user is exported to no ErrorDocument script" \
    bash -c "! grep -q 'AUTHZ_STATUS_' '$HTTP_BODY'"
http_req -u "alice:Wr0ng-exp0rt-pw" -H 'X-Forge: superuser' /cgi-refused/x
expect_status 401 "wrong password -> 401 (the ErrorDocument script's page)"
expect_body '^REDIRECT_STATUS=401$' "the ErrorDocument script ran"
expect_true "... nothing exported, nothing forged" \
    bash -c "! grep -q 'AUTHZ_STATUS_' '$HTTP_BODY'"
http_req -u "alice:Wr0ng-exp0rt-pw" -H 'X-Forge: superuser' /cgi/env.cgi
expect_status 401 "wrong password, forged header -> 401"
expect_true "a refused request logs no forged value" \
    bash -c "! grep -q 'superuser' '$AZS_LOG_DIR/export_log'"

# ---- the backend behind mod_proxy -------------------------------------------
http_req -u "alice:$pw_a" -H 'X-Roles: superuser' /app/
expect_status 200 "alice through the proxy -> 200"
expect_body '^X-Roles: admin api editor reader writer$' \
    "the backend gets X-Roles from the module, not the client's"
expect_body '^X-User: alice$' "... and X-User"
expect_true "the client's X-Roles never reaches the backend" \
    bash -c "! grep -q superuser '$HTTP_BODY'"

http_req -u "bob:$pw_b" -H 'X-Roles: admin' /app-bob/
expect_status 200 "bob through the proxy -> 200"
expect_body '^X-Roles: $' "bob, no roles: an empty X-Roles, not the forged one"

http_req -u "bob:$pw_b" -H 'X-Roles: admin' /app/
expect_status 403 "bob refused by Require role -> 403, the backend not asked"

azs_done
