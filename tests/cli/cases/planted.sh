#!/bin/bash
# Files planted beside the database (links, FIFOs) are refused.
# shellcheck source=../lib_cli.sh
. "$(dirname "$0")/../lib_cli.sh"

# ---- files beside the database -------------------------------------------

# The database's directory belongs to httpd's user (www-data), who can
# plant links there.  htauthz, run as root, must neither follow them nor
# hand what they point to over to the database's owner: it refuses, with
# one line naming the file, and changes nothing.
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
    chmod 711 "$T"
    W=$T/www
    WDB=$W/authz.db
    V=$T/root               # root's own files, out of www-data's reach
    mkdir "$W" "$V"
    chmod 700 "$V"
    "$HTAUTHZ" -d "$WDB" init >/dev/null
    chown -R www-data:www-data "$W"
    as_www() {
        if command -v setpriv >/dev/null; then
            setpriv --reuid=www-data --regid=www-data --clear-groups -- "$@"
        else
            "$@"
        fi
    }
    wdump() {
        sqlite3 "$WDB" .dump
    }
    # planted DESC NAME HOW HTAUTHZ-ARGS...: NAME is made, by www-data, a
    # symlink to root's file, a dangling symlink to where root has no
    # file, or a FIFO; or, by root (protected_hardlinks keeps www-data
    # from it), a hard link to root's file.  htauthz fails naming NAME,
    # root's file keeps its owner, mode and content, nothing is created,
    # and the database is unchanged.
    planted() {
        local desc=$1 name=$2 how=$3 before listing
        shift 3
        rm -f "$name" "$V/target" "$V/new"
        printf "root's own\n" >"$V/target"
        chmod 600 "$V/target"
        before=$(wdump)
        listing=$(ls -A "$W")
        case $how in
            symlink) as_www ln -s "$V/target" "$name" ;;
            dangling) as_www ln -s "$V/new" "$name" ;;
            fifo) as_www mkfifo "$name" ;;
            hardlink) ln "$V/target" "$name" ;;
        esac
        expect 1 "$desc: refused" "$@"
        err_has "$desc: the message names the file" "$name "
        check "$desc: root's file unchanged" test \
            "$(stat -c %U:%G:%a:%h "$V/target"):$(cat "$V/target")" = \
            "root:root:600:$([ "$how" = hardlink ] && echo 2 || echo 1):root's own"
        check "$desc: nothing created where the link points" \
            test ! -e "$V/new"
        rm -f "$name"
        check "$desc: nothing created beside the database" \
            test "$(ls -A "$W")" = "$listing"
        check "$desc: database unchanged" test "$(wdump)" = "$before"
    }
    planted "lock file a symlink to root's file" "$WDB.lock" symlink \
        -d "$WDB" role add "p$TAP_N"
    err_has "lock symlink: says why" "is a symbolic link"
    planted "lock file a dangling symlink" "$WDB.lock" dangling \
        -d "$WDB" token revoke 1
    planted "lock file a hard link to root's file" "$WDB.lock" hardlink \
        -d "$WDB" role add "p$TAP_N"
    err_has "lock hard link: says why" "more than one hard link"
    planted "lock file a FIFO" "$WDB.lock" fifo -d "$WDB" role add "p$TAP_N"
    err_has "lock FIFO: says why" "not a regular file"
    planted "-wal a symlink to root's file" "$WDB-wal" symlink \
        -d "$WDB" role add "p$TAP_N"
    planted "-wal a dangling symlink" "$WDB-wal" dangling \
        -d "$WDB" role add "p$TAP_N"
    planted "-wal a hard link to root's file" "$WDB-wal" hardlink \
        -d "$WDB" role add "p$TAP_N"
    planted "-shm a symlink to root's file" "$WDB-shm" symlink \
        -d "$WDB" role add "p$TAP_N"
    planted "-shm a dangling symlink" "$WDB-shm" dangling \
        -d "$WDB" role add "p$TAP_N"
    planted "-shm a hard link to root's file" "$WDB-shm" hardlink \
        -d "$WDB" role add "p$TAP_N"
    planted "-shm a hard link, read command" "$WDB-shm" hardlink \
        -d "$WDB" user list
    planted "-journal a hard link to root's file" "$WDB-journal" hardlink \
        -d "$WDB" role add "p$TAP_N"
    planted "-wal planted before init" "$W/new.db-wal" hardlink \
        -d "$W/new.db" init
    check "init refused: no database created" test ! -e "$W/new.db"

    # The database itself replaced by a link to root's database.
    "$HTAUTHZ" -d "$V/root.db" init >/dev/null
    mv "$WDB" "$W/real.db"
    as_www ln -s "$V/root.db" "$WDB"
    before=$(sqlite3 "$V/root.db" .dump)
    expect 1 "database a symlink to root's database: refused" \
        -d "$WDB" role add "p$TAP_N"
    err_has "database symlink: names it" "$WDB is a symbolic link"
    check "root's database unchanged" \
        test "$(sqlite3 "$V/root.db" .dump)" = "$before"
    rm -f "$WDB"
    mv "$W/real.db" "$WDB"

    # An import file planted as a link to a file of root's (/etc/shadow,
    # say) would copy its hashes where www-data reads them.
    htpasswd -nbB shadowed "root-only-pw" | head -1 >"$V/list"
    as_www ln -s "$V/list" "$W/users.htpasswd"
    before=$(wdump)
    expect 1 "import from a symlink: refused" -d "$WDB" import htpasswd \
        "$W/users.htpasswd"
    err_has "import from a symlink: says why" "is a symbolic link"
    check "import from a symlink: database unchanged" \
        test "$(wdump)" = "$before"
    rm -f "$W/users.htpasswd"

    # What is legitimately there still works: the lock is kept owned by
    # the database's owner, and a database reached through a symlinked
    # directory is used.
    expect 0 "write as root beside www-data's files" -d "$WDB" role add fine
    check "lock file owned by the database's owner" \
        test "$(stat -c %U "$WDB.lock")" = www-data
    ln -s "$W" "$T/www-link"
    expect 0 "database through a symlinked directory" \
        -d "$T/www-link/authz.db" role add via-link
else
    ok "files beside the database # skip (needs root and www-data)"
fi

tap_finish
