#!/usr/bin/env bash
# Installs what building and testing need, on Debian 12, as root.
# Quiet when everything is already there.
set -eu
pkgs="build-essential autoconf automake libtool pkg-config apache2 apache2-dev
      libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3 libsqlite3-dev
      sqlite3 libcmocka-dev curl python3 ca-certificates openssl clang
      libclang-rt-14-dev postgresql-15 libpq-dev redis-server
      debhelper lintian fail2ban"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done
extra=${AZS_EXTRA_PKGS:-}
for p in $extra; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages:$missing (run as root to install)" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Without systemd (a container), a package's service is started by its
    # init script, and fail2ban's fails there (no log for its sshd jail),
    # failing the install: no service starts while these install.
    policy=
    if [ ! -d /run/systemd/system ] && [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    [ -z "$policy" ] || rm -f "$policy"
fi
# The Debian package starts a system apache2 on port 80; the tests and the
# demo run their own servers and need nothing from it.  debhelper (with
# apache2-dev's dh_apache2) builds this project's Debian package for
# tests/package/deb.sh, lintian checks it; of fail2ban the tests use only
# fail2ban-regex (tests/integration/fail2ban_scan.sh): its service may stay
# stopped, as it does on a machine without systemd.
