#!/usr/bin/env bash
# Installs what is missing, builds, creates a sample database and starts a
# demo httpd with the module on 127.0.0.1:8080 (stop it with
# scripts/demo.sh stop).  Prints curl commands that show 200, 401 and 403.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AZS_BUILD:-$top/_build}
root=${AZS_DEMO_ROOT:-/tmp/authz_status-demo}
port=${AZS_DEMO_PORT:-8080}
apache2=${APACHE2:-/usr/sbin/apache2}
mods=/usr/lib/apache2/modules
# The configuration blocks the integration tests use too.
# shellcheck source=../tests/integration/lib_conf.sh
. "$top/tests/integration/lib_conf.sh"

if [ "${1:-}" = stop ]; then
    [ -f "$root/httpd.pid" ] && kill "$(cat "$root/httpd.pid")" 2>/dev/null
    echo "demo stopped"
    exit 0
fi

bash "$top/scripts/deps.sh"
bash "$top/scripts/build.sh"
htauthz="$build/htauthz"

[ -f "$root/httpd.pid" ] && kill "$(cat "$root/httpd.pid")" 2>/dev/null \
    && sleep 1
rm -rf "$root"
mkdir -p "$root/db" "$root/htdocs/admin" "$root/htdocs/docs" "$root/logs"
echo "hello from the admin area" > "$root/htdocs/admin/index.html"
echo "the documentation" > "$root/htdocs/docs/index.html"
echo '{"ok":true}' > "$root/htdocs/api.json"

db="$root/db/authz_status.db"
"$htauthz" -d "$db" init >/dev/null
printf 'alice-secret\n' | "$htauthz" -d "$db" user add alice --password-stdin
printf 'bob-secret\n' | "$htauthz" -d "$db" user add bob --password-stdin
"$htauthz" -d "$db" role add admin
"$htauthz" -d "$db" role add reader
"$htauthz" -d "$db" role inherit admin reader
"$htauthz" -d "$db" role grant reader docs:read
"$htauthz" -d "$db" role grant admin docs:write api:call
"$htauthz" -d "$db" user grant alice admin
"$htauthz" -d "$db" user grant bob reader

user=
if [ "$(id -u)" = 0 ]; then
    # httpd's children run as www-data: they read the database and write
    # its -wal/-shm files next to it.
    user="User www-data
Group www-data"
    chown -R www-data:www-data "$root/db" "$root/logs"
fi

cat > "$root/httpd.conf" <<CONF
$(azs_conf_server "$root" "$port")
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule mime_module $mods/mod_mime.so
LoadModule dir_module $mods/mod_dir.so
LoadModule authz_status_module $build/.libs/mod_authz_status.so
$user
TypesConfig /etc/mime.types
DocumentRoot "$root/htdocs"
DirectoryIndex index.html
AuthzStatusDatabase "$db"

$(azs_loc_admin "role admin")
$(azs_loc_docs "permission docs:read")
$(azs_loc_api /api.json)
CONF

"$apache2" -f "$root/httpd.conf" -k start
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
token=$("$htauthz" -d "$db" token issue alice --label demo | head -n 1)

cat <<MSG

mod_authz_status demo: http://127.0.0.1:$port/ (files in $root)
  error log: $root/logs/error.log     stop: bash scripts/demo.sh stop

  200  curl -i -u alice:alice-secret http://127.0.0.1:$port/admin/
  401  curl -i -u alice:wrong        http://127.0.0.1:$port/admin/
  403  curl -i -u bob:bob-secret     http://127.0.0.1:$port/admin/
  200  curl -i -u bob:bob-secret     http://127.0.0.1:$port/docs/
  200  curl -i -H 'Authorization: Bearer $token' http://127.0.0.1:$port/api.json
  401  curl -i http://127.0.0.1:$port/api.json

  database: $htauthz -d $db user list
MSG
