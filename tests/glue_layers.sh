#!/bin/sh
# The httpd glue (src/mod_azs_*.c) is layered: which file calls which is
# read off the built objects (nm), and the calls must form no circle.  A
# circle means two files each need the other's internals; move the shared
# part down (mod_azs_req.c holds the request's state, mod_azs_log.c the
# log lines) instead.
top=${AZS_TOP_SRCDIR:?}
build=${AZS_TOP_BUILDDIR:?}
edges=$(mktemp) || exit 99
trap 'rm -f "$edges" "$edges.def"' EXIT
: > "$edges.def"
for c in "$top"/src/mod_azs_*.c; do
    f=$(basename "$c" .c)
    o="$build/src/.libs/mod_authz_status_la-$f.o"
    [ -f "$o" ] || o="$build/src/mod_authz_status_la-$f.o"
    if [ ! -f "$o" ]; then
        echo "not ok 1 - no object for $f ($o)"
        exit 1
    fi
    nm --defined-only "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ {print $3, f}' \
        >> "$edges.def"
done
for c in "$top"/src/mod_azs_*.c; do
    f=$(basename "$c" .c)
    o="$build/src/.libs/mod_authz_status_la-$f.o"
    [ -f "$o" ] || o="$build/src/mod_authz_status_la-$f.o"
    nm --undefined-only "$o" | awk '{print $2}' | while read -r sym; do
        awk -v s="$sym" -v f="$f" '$1 == s && $2 != f {print f, $2}' \
            "$edges.def"
    done
done | sort -u > "$edges"
n=$(wc -l < "$edges")
if [ "$n" -lt 10 ]; then
    echo "not ok 1 - only $n calls between glue files found: is nm reading the objects?"
    exit 1
fi
if ! tsort "$edges" > /dev/null 2> "$edges.def"; then
    echo "not ok 1 - the glue files call each other in a circle:"
    sed 's/^/#   /' "$edges.def"
    exit 1
fi
echo "ok 1 - $n calls between $(ls "$top"/src/mod_azs_*.c | wc -l) glue files, no circle"
