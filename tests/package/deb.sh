#!/bin/bash
#
# deb.sh - the Debian package, built, installed, used and purged.
#
#   tests/package/deb.sh
#
# Builds libapache2-mod-authz-status with dpkg-buildpackage in a copy of
# the source tree, checks its contents and lintian's verdict, installs it
# with apt-get, makes a database at the default path with the installed
# htauthz, and runs a real httpd (a ServerRoot of its own on 127.0.0.1) that
# includes the installed mods-enabled/authz_status.load and .conf: 200,
# 401, 403.  Then "apt-get remove" (the database stays) and "apt-get purge"
# (the database directory goes, as README says).
#
# It changes the machine, so it runs only as root, and skips (exit 77) when
# the package is already installed by anyone else, or when
# /var/lib/authz_status or mods-available/authz_status.* exist without it
# (a purge would delete them).  While it runs, a policy-rc.d (unless there
# is one) keeps the package's scripts from starting or restarting the
# system's apache2; whatever happens, it purges the package and leaves the
# machine as it found it.  Two runs on one machine take turns (a lock in
# /run/lock).  Exit status: 0 passed, 1 failed, 77 skipped, 99
# could not run.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=${AZS_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}

skip() {
    echo "# SKIP: $*"
    exit 77
}

[ "$(id -u)" = 0 ] || skip "not root: the test installs and purges a package"
PATH=$PATH:/usr/sbin:/sbin
for cmd in dpkg-buildpackage dh dh_apache2 dpkg-deb apt-get a2enmod \
           apache2ctl curl sqlite3; do
    command -v "$cmd" >/dev/null 2>&1 \
        || skip "$cmd is not installed (packages dpkg-dev, debhelper, apache2-dev, apache2, curl, sqlite3)"
done

# One run at a time on the machine (two build trees' make check): the
# package is the machine's.  And timing-sensitive cases of the integration
# suite run alone (see tests/sh_driver.sh): this test, which compiles,
# waits for them too.
if [ -z "${AZS_DEB_LOCKED:-}" ]; then
    command -v flock >/dev/null 2>&1 || skip "flock is not installed"
    # In root's own /run (not the world-writable /run/lock, where another
    # user could plant a link for root to follow).
    lock=(flock -x -w 900 -E 77 /run/azs-deb-test.lock)
    if [ -n "${AZS_TOP_BUILDDIR:-}" ]; then
        suite=$AZS_TOP_BUILDDIR/tests/integration/suite-logs
        mkdir -p "$suite" || exit 99
        lock+=(flock -s "$suite/.lock")
    fi
    AZS_DEB_LOCKED=1 exec "${lock[@]}" bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=../lib_tap.sh
. "$top/tests/lib_tap.sh"

pkg=libapache2-mod-authz-status
state=/var/lib/authz_status
db=$state/authz_status.db
avail=/etc/apache2/mods-available
modules=${AP_LIBEXECDIR:-/usr/lib/apache2/modules}
f2b_filter=/etc/fail2ban/filter.d/apache-authz-status.conf
# Left while the package that this test installed is on the machine: a run
# killed before its clean-up leaves it, and the next run purges.
marker=/run/azs-deb-test.installed
policy=/usr/sbin/policy-rc.d
policy_mark='# azs: tests/package/deb.sh'
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=300 --no-install-recommends)

installed() {
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
        | grep -qE 'ok (installed|config-files|half|unpacked)'
}
# The marker is trusted only as root's own regular file.
marked() {
    [ -f "$marker" ] && [ ! -L "$marker" ] \
        && [ "$(stat -c %u "$marker")" = 0 ]
}
# Purges the package this test installed; the marker goes only with it.
purge_ours() {
    apt-get purge "${apt_opts[@]}" "$pkg" >/dev/null 2>&1
    installed || rm -f "$marker"
}

if installed; then
    if marked; then
        echo "# purging $pkg left by an earlier run of this test"
        purge_ours
        installed && skip "cannot purge $pkg left by an earlier run"
    else
        skip "$pkg is installed, not by this test: it is left alone"
    fi
fi
[ -e "$state" ] \
    && skip "$state exists without the package: the purge would delete it"
# Whatever the package would own, made some other way (make install, a
# copy of the fail2ban filter): the install would take it over and the
# purge delete it.
for f in "$avail/authz_status.load" "$avail/authz_status.conf" \
         "$f2b_filter" /usr/bin/htauthz "$modules/mod_authz_status.so"; do
    [ -e "$f" ] && skip "$f exists without the package (make install?)"
done

T0=$SECONDS
work=$(mktemp -d /tmp/azs-deb.XXXXXX) || exit 99
chmod 755 "$work"           # httpd's children (www-data) read htdocs here
own_policy=
httpd_pid=
sys_pidfile=/var/run/apache2/apache2.pid
sys_running_before=
[ -f "$sys_pidfile" ] && kill -0 "$(cat "$sys_pidfile")" 2>/dev/null \
    && sys_running_before=1
dismod_after=()
for m in auth_basic authz_core; do
    a2query -q -m "$m" 2>/dev/null || dismod_after+=("$m")
done

# shellcheck disable=SC2317  # run by the trap
cleanup() {
    set +e
    if [ -n "$httpd_pid" ] && kill -0 "$httpd_pid" 2>/dev/null; then
        kill -TERM "$httpd_pid"
        for _ in $(seq 1 50); do
            kill -0 "$httpd_pid" 2>/dev/null || break
            sleep 0.2
        done
    fi
    marked && purge_ours
    for m in "${dismod_after[@]}"; do
        a2query -q -m "$m" 2>/dev/null && a2dismod -q -f "$m" >/dev/null 2>&1
    done
    [ -n "$own_policy" ] && rm -f "$policy"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n%s\n# No service starts while the test installs.\nexit 101\n' \
        "$policy_mark" > "$policy" && chmod 755 "$policy" && own_policy=1
elif grep -qx "$policy_mark" "$policy"; then
    own_policy=1            # an earlier run's, killed before its clean-up
fi

# ---- build -----------------------------------------------------------------

src=$work/src
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # The tree as it stands: tracked files and new ones git does not ignore.
    (cd "$top" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
            [ -f "$f" ] && printf '%s\0' "$f"
        done | tar -c --null -T - | tar -x -C "$src") || exit 99
else
    (cd "$top" && tar -c --exclude='./_build*' --exclude=./debian/tmp \
        --exclude=./debian/.debhelper --exclude="./debian/$pkg" \
        --exclude=./autom4te.cache . | tar -x -C "$src") || exit 99
fi
(cd "$src" && find . -type f | sort) > "$work/files.before"
if ! (cd "$src" && dpkg-checkbuilddeps) > "$work/builddeps" 2>&1; then
    skip "unmet build dependencies: $(cat "$work/builddeps")"
fi

t=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -b -us -uc) > "$work/build.log" 2>&1
rc=$?
debs=("$work/${pkg}"_*.deb)
deb=${debs[0]}
if [ $rc -ne 0 ] || [ ! -f "$deb" ]; then
    tap_not_ok "dpkg-buildpackage -b -us -uc builds $pkg (exit $rc)" \
        "$(tail -n 30 "$work/build.log")"
    tap_finish
fi
tap_ok "dpkg-buildpackage -b -us -uc builds $(basename "$deb") ($((SECONDS - t)) s)"
tap_check "the package build runs no test suite" \
    bash -c "! grep -qE 'Testsuite summary|^(PASS|FAIL): ' '$work/build.log'"

# debian/rules clean leaves no file the tree did not have (it may delete
# what autoreconf makes, e.g. the configure of a release tarball).
(cd "$src" && dpkg-buildpackage -T clean) > "$work/clean.log" 2>&1
(cd "$src" && find . -type f | sort) > "$work/files.after"
left=$(comm -13 "$work/files.before" "$work/files.after")
if [ -z "$left" ]; then
    tap_ok "the build leaves no file in the source tree after its clean"
else
    tap_not_ok "the build leaves no file in the source tree after its clean" \
        "$(printf '%s\n' "$left" | head -n 20)"
fi

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/contents"
for p in /usr/lib/apache2/modules/mod_authz_status.so \
         "$avail/authz_status.load" "$avail/authz_status.conf" \
         /usr/bin/htauthz /usr/share/man/man1/htauthz.1.gz \
         /usr/share/mod_authz_status/schema.sql \
         /usr/share/mod_authz_status/postgresql/schema.sql \
         /usr/share/doc/$pkg/copyright "$f2b_filter"; do
    tap_check "the package holds $p" grep -qx "$p" "$work/contents"
done
tap_check "the package ships no /var/lib/authz_status (postinst makes it)" \
    bash -c "! grep -q '^$state' '$work/contents'"
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles > "$work/conffiles" 2>/dev/null
for p in "$avail/authz_status.load" "$avail/authz_status.conf" "$f2b_filter"; do
    tap_check "$p is a conffile" grep -qx "$p" "$work/conffiles"
done

if command -v lintian >/dev/null 2>&1; then
    lintian "$deb" > "$work/lintian" 2>&1
    if grep -q '^E:' "$work/lintian"; then
        tap_not_ok "lintian: no error" "$(grep '^[EW]:' "$work/lintian")"
    else
        tap_ok "lintian: no error ($(grep -c '^W:' "$work/lintian") warnings)"
    fi
    grep '^[WI]:' "$work/lintian" | sed 's/^/# lintian: /'
else
    echo "# lintian is not installed: not run"
fi

# ---- install -----------------------------------------------------------------

touch "$marker"
if ! apt-get install "${apt_opts[@]}" "$deb" > "$work/install.log" 2>&1; then
    tap_not_ok "apt-get install $(basename "$deb")" \
        "$(tail -n 20 "$work/install.log")"
    tap_finish
fi
tap_ok "apt-get install $(basename "$deb")"
tap_check "$state is www-data:www-data 0750" \
    test "$(stat -c '%U:%G %a' "$state")" = "www-data:www-data 750"
tap_check "the installed .load names the module's path" \
    grep -qx "LoadModule authz_status_module $modules/mod_authz_status.so" \
    "$avail/authz_status.load"
tap_check "the installed .conf names the default database $db" \
    grep -qE "^\s*AuthzStatusDatabase $db\$" "$avail/authz_status.conf"
tap_check "the installed package enabled the module" \
    test -L /etc/apache2/mods-enabled/authz_status.load
a2enmod authz_status > "$work/a2enmod" 2>&1
tap_check "a2enmod authz_status" test $? = 0
apache2ctl configtest > "$work/configtest" 2>&1
if grep -q 'Syntax OK' "$work/configtest"; then
    tap_ok "apache2ctl configtest: Syntax OK, with the module"
else
    tap_not_ok "apache2ctl configtest: Syntax OK" "$(cat "$work/configtest")"
fi
if [ -z "$sys_running_before" ]; then
    if [ -f "$sys_pidfile" ] && kill -0 "$(cat "$sys_pidfile")" 2>/dev/null; then
        tap_not_ok "the system's apache2 was not started by the package"
        kill -TERM "$(cat "$sys_pidfile")"
    else
        tap_ok "the system's apache2 was not started by the package"
    fi
fi

# ---- a database at the default path, with the installed htauthz ----------

pw='Pkg-c0rrect-zq7'
bad='Pkg-wr0ng-zq7'
bobpw='Pkg-b0b-zq7'
(
    set -e
    htauthz init
    # README, Permissions: httpd's user reads the database.
    chown -R www-data:www-data "$state"
    printf '%s\n' "$pw" | htauthz user add alice --password-stdin
    printf '%s\n' "$bobpw" | htauthz user add bob --password-stdin
    htauthz role add reader
    htauthz role grant reader docs:read
    htauthz user grant alice reader
    htauthz ip block 127.0.0.2 --reason "package test"
) > "$work/htauthz.log" 2>&1
tap_check "htauthz makes $db: users, a role, a grant, a block" test $? = 0
tap_check "htauthz init made $db" test -f "$db"
tap_check "every file in $state belongs to www-data after htauthz's writes" \
    test -z "$(find "$state" ! -user www-data)"

# ---- a real httpd with the installed module and configuration ----------------

port=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
root=$work/httpd
mkdir -p "$root/htdocs/docs" "$root/logs" "$root/run"
chown www-data:www-data "$root/run"
echo 'document a' > "$root/htdocs/docs/a.txt"
{
    cat <<EOF
ServerRoot "$root"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$root/run/httpd.pid"
DefaultRuntimeDir "$root/run"
ErrorLog "$root/logs/error.log"
LogLevel warn
EOF
    for m in mpm_event unixd authn_core authz_core auth_basic authz_user; do
        [ -f "$modules/mod_$m.so" ] || continue     # built in
        printf 'LoadModule %s_module "%s/mod_%s.so"\n' "$m" "$modules" "$m"
    done
    cat <<EOF
Include /etc/apache2/mods-enabled/authz_status.load
Include /etc/apache2/mods-enabled/authz_status.conf
User www-data
Group www-data
DocumentRoot "$root/htdocs"
<Directory />
    Require all denied
</Directory>
<Directory "$root/htdocs">
    Require all granted
</Directory>
<Location "/docs">
    AuthType Basic
    AuthName "Documentation"
    AuthBasicProvider authz_status
    AuthzStatusBlocklist On
    Require permission docs:read
</Location>
EOF
} > "$root/httpd.conf"
/usr/sbin/apache2 -d "$root" -f "$root/httpd.conf" -k start \
    > "$work/httpd.out" 2>&1
for _ in $(seq 1 50); do
    [ -s "$root/run/httpd.pid" ] && break
    sleep 0.2
done
httpd_pid=$(cat "$root/run/httpd.pid" 2>/dev/null)
url=http://127.0.0.1:$port/docs/a.txt
code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}
for _ in $(seq 1 50); do
    [ "$(code)" = 401 ] && break
    sleep 0.2
done
if [ -z "$httpd_pid" ]; then
    tap_not_ok "httpd starts with the installed module" \
        "$(cat "$work/httpd.out" "$root/logs/error.log" 2>/dev/null)"
    tap_finish
fi
expect() {
    local want=$1 desc=$2 got
    shift 2
    got=$(code "$@")
    if [ "$got" = "$want" ]; then
        tap_ok "httpd with the installed module: $desc -> $want"
    else
        tap_not_ok "httpd with the installed module: $desc -> $want (got $got)" \
            "$(tail -n 5 "$root/logs/error.log")"
    fi
}
expect 200 "alice, who holds docs:read" -u "alice:$pw"
expect 401 "a wrong password" -u "alice:$bad"
expect 401 "no credentials"
expect 403 "bob, without docs:read" -u "bob:$bobpw"
expect 403 "alice from a blocked address" -u "alice:$pw" --interface 127.0.0.2
log=$root/logs/error.log
tap_check "the error log: bad-password for alice" \
    grep -q 'AZS0102: 401 bad-password: user "alice"' "$log"
tap_check "the error log: missing-permission for bob" \
    grep -q 'AZS0302: 403 missing-permission: user "bob"' "$log"
tap_check "no password in the error log" \
    bash -c "! grep -qF -e '$pw' -e '$bad' -e '$bobpw' '$log'"
if command -v fail2ban-regex >/dev/null 2>&1; then
    hosts=$(fail2ban-regex -o ip "$log" "$f2b_filter" 2>/dev/null)
    if [ "$hosts" = 127.0.0.1 ]; then
        tap_ok "the installed fail2ban filter matches the one failed login, from 127.0.0.1"
    else
        tap_not_ok "the installed fail2ban filter matches the one failed login, from 127.0.0.1" \
            "matched: $hosts"
    fi
fi
kill -TERM "$httpd_pid"
for _ in $(seq 1 50); do
    kill -0 "$httpd_pid" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$httpd_pid" 2>/dev/null; then
    tap_not_ok "httpd stops"
else
    tap_ok "httpd stops"
    httpd_pid=
fi

# ---- reinstalling upgrades a database of the previous schema ----------------

# The database as version 4 made it (no audit trail): the module refuses
# it until htauthz init upgrades it, which the package's postinst does.
sqlite3 "$db" "DROP TABLE audit; PRAGMA user_version = 4" \
    > "$work/downgrade.log" 2>&1
tap_check "the database made a version 4 one" \
    test "$(sqlite3 "$db" 'PRAGMA user_version')" = 4
apt-get install --reinstall "${apt_opts[@]}" "$deb" > "$work/reinstall.log" 2>&1
tap_check "apt-get install --reinstall" test $? = 0
tap_check "the postinst upgraded the database to version 5" \
    test "$(sqlite3 "$db" 'PRAGMA user_version')" = 5
tap_check "... keeping its users" bash -c "htauthz user list | grep -q '^alice'"
tap_check "... and recording the upgrade in the audit trail" \
    bash -c "htauthz audit | grep -q 'init.*ok'"
tap_check "... with every file in $state still www-data's" \
    test -z "$(find "$state" ! -user www-data)"

# ---- remove, then purge ------------------------------------------------------

apt-get remove "${apt_opts[@]}" "$pkg" > "$work/remove.log" 2>&1
tap_check "apt-get remove $pkg" test $? = 0
tap_check "after remove: the module is gone" \
    test ! -e "$modules/mod_authz_status.so"
tap_check "after remove: htauthz is gone" test ! -e /usr/bin/htauthz
tap_check "after remove: the module is no longer enabled" \
    test ! -e /etc/apache2/mods-enabled/authz_status.load
tap_check "after remove: the database is kept" test -s "$db"
tap_check "after remove: the conffiles are kept" \
    test -f "$avail/authz_status.conf" -a -f "$f2b_filter"
apt-get purge "${apt_opts[@]}" "$pkg" > "$work/purge.log" 2>&1
tap_check "apt-get purge $pkg" test $? = 0
installed || rm -f "$marker"
tap_check "after purge: $state and the database are gone" test ! -e "$state"
tap_check "after purge: the conffiles are gone" \
    test ! -e "$avail/authz_status.load" -a ! -e "$avail/authz_status.conf" \
    -a ! -e "$f2b_filter"
tap_check "after purge: a2enmod's record of the module is gone" \
    test -z "$(find /var/lib/apache2 -name 'authz_status*' 2>/dev/null)"
tap_check "after purge: dpkg knows nothing of $pkg" \
    bash -c "! dpkg-query -W '$pkg' >/dev/null 2>&1 || dpkg-query -W -f='\${Status}' '$pkg' | grep -q not-installed"
echo "# package test: $((SECONDS - T0)) s"
tap_finish
