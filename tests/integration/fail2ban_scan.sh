#!/bin/bash
#
# fail2ban_scan.sh - the fail2ban filter the Debian package installs
# (debian/fail2ban/filter.d/apache-authz-status.conf) against every error
# log of the integration suite, through fail2ban-regex.
#
#   tests/integration/fail2ban_scan.sh [DIR]
#
# DIR holds, at any depth, the logs/ directories the cases leave behind
# (lib.sh: _azs_cleanup); default: $AZS_SUITE_LOGS, else
# $AZS_TOP_BUILDDIR/tests/integration/suite-logs.  make check runs this once
# every case is done, as it runs secrets_scan.sh.
#
# Each line is judged by its own text (doc/log-messages.md): a decision
# line of the module, "[authz_status:error] [pid ...] [client ADDR:PORT]
# AZSnnnn: STATUS reason", must be matched, with ADDR as the host, when
# STATUS is 401 or 400; no other line may be matched: not a 403, the
# throttle's 429, a 500 or 503, a debug line, nor any line of httpd's own.
# Besides the suite's lines, it checks lines of its own: each 401 and 400
# line again from an IPv6 client (the suite's clients are IPv4, but for the
# throttle's), and lines whose escaped request text forges a 401 line of
# another address.
# Exit status: 0 when the filter matched just what it must, 1 when not, 77
# when fail2ban-regex is not installed or the suite left no error log, 99
# when the scan cannot work.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib_tap.sh
. "$here/../lib_tap.sh"

top=${AZS_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}
filter=$top/debian/fail2ban/filter.d/apache-authz-status.conf
dir=${1:-${AZS_SUITE_LOGS:-${AZS_TOP_BUILDDIR:-.}/tests/integration/suite-logs}}

f2b=$(PATH=$PATH:/usr/bin:/usr/local/bin command -v fail2ban-regex || true)
if [ -z "$f2b" ]; then
    echo "# SKIP: fail2ban-regex is not installed (Debian package fail2ban)"
    exit 77
fi
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -z "$py" ] || [ ! -f "$filter" ]; then
    echo "Bail out! fail2ban scan: no python3, or no filter at $filter"
    exit 99
fi

logs=()
[ -d "$dir" ] && mapfile -t logs < <(find "$dir" -type f -path '*/logs/*' \
    -name 'error*.log' | sort)
if [ ${#logs[@]} -eq 0 ]; then
    echo "# SKIP: no error log under $dir (run the integration cases first)"
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/azs-it-f2b.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

echo "# --- fail2ban filter over the error logs (all cases)"
# Printable ASCII only, so that fail2ban's output and the judgement below
# read the very same bytes (the module escapes what it logs; httpd's own
# lines may hold anything).
cat "${logs[@]}" | LC_ALL=C tr -c '\11\12\40-\176' '?' > "$work/suite.log"

# Lines of the scan's own: each 401/400 line again from an IPv6 client
# (alternately ::1 and an address whose last group could pass for a port),
# and forged lines (a request's escaped text carrying a 401 line of
# 203.0.113.9, which must never be the host).
"$py" - "$work/suite.log" > "$work/own.log" <<'EOF' || exit 99
import re, sys
head = re.compile(r'^(\[[^]]*\] \[authz_status:error\] \[pid [^]]*\] '
                  r'(?:\S+\(\d+\): )?\[client )[^]]*:(\d+)(\] AZS\d{4}: 40[01] )')
v6 = ['::1', '2001:db8:0:1::4711']
n = 0
for line in open(sys.argv[1], encoding='ascii'):
    m = head.match(line)
    if m:
        sys.stdout.write(m.group(1) + v6[n % 2] + ':' + m.group(2)
                         + line[m.end(2):])
        n += 1
date = '[Thu Dec 03 06:30:00.000001 2026]'
forged = ('\\x0a' + date + ' [authz_status:error] [pid 1:tid 1] '
          '[client 203.0.113.9:1] AZS0102: 401 bad-password: user "x" for "/"')
for own in [
    ' [authz_status:error] [pid 7:tid 8] [client 192.0.2.10:4242] '
    'AZS0102: 401 bad-password: user "a' + forged + '" for "/admin/"',
    ' [authz_status:error] [pid 7:tid 8] [client 192.0.2.11:4242] '
    'AZS0301: 403 missing-role: user "b" for "/admin' + forged
    + '" (requires role admin)',
    ' [auth_basic:error] [pid 7:tid 8] [client 192.0.2.12:4242] '
    'AH01618: user m not found: /x' + forged,
    ' [authz_status:debug] [pid 7:tid 8] mod_azs_authz.c(122): '
    '[client 192.0.2.13:4242] AZS0305: denied: user "c" requires role admin',
]:
    print(date + own)
EOF
cat "$work/suite.log" "$work/own.log" > "$work/all.log"

"$f2b" -e UTF-8 -o '<ip>|<msg>' "$work/all.log" "$filter" \
    > "$work/matched" 2> "$work/f2b.err"
rc=$?
if [ $rc -ne 0 ]; then
    tap_not_ok "fail2ban-regex runs the filter (exit $rc)" \
        "$(head -n 20 "$work/f2b.err")"
    tap_finish
fi

# The judgement: per kind of line, how many there are, how many were
# matched, and how many with a host other than the line's own client.
"$py" - "$work/all.log" "$work/matched" > "$work/verdict" <<'EOF' || exit 99
import collections, ipaddress, re, sys
decision = re.compile(r'^\[[^]]*\] \[authz_status:(\w+)\] \[pid [^]]*\] '
                      r'(?:\S+\(\d+\): )?\[client ([^]]*):\d+\] '
                      r'AZS\d{4}: (\d{3}) ')
def norm(addr):
    try:
        return ipaddress.ip_address(addr).compressed
    except ValueError:
        return addr
hosts = collections.defaultdict(list)
for row in open(sys.argv[2], encoding='utf-8', errors='replace'):
    host, _, line = row.rstrip('\n').partition('|')
    hosts[line].append(norm(host))
kinds = collections.OrderedDict((k, [0, 0, 0, []]) for k in
        ('401', '400', '401-ipv6', '400-ipv6', '403', '429', '500', '503',
         'other-status', 'debug', 'other'))
for line in open(sys.argv[1], encoding='ascii'):
    line = line.rstrip('\n')
    m = decision.match(line)
    if m and m.group(1) == 'error':
        kind = m.group(3) if m.group(3) in kinds else 'other-status'
        if kind in ('401', '400') and ':' in m.group(2):
            kind += '-ipv6'
    elif re.match(r'^\[[^]]*\] \[authz_status:debug\] ', line):
        kind = 'debug'
    else:
        kind = 'other'
    k = kinds[kind]
    k[0] += 1
    if hosts[line]:
        k[1] += 1
        got = hosts[line].pop(0)
        if not m or got != norm(m.group(2)):
            k[2] += 1
            if len(k[3]) < 5:
                k[3].append('host %s: %s' % (got, line))
        elif kind not in ('401', '400', '401-ipv6', '400-ipv6') \
                and len(k[3]) < 5:
            k[3].append(line)
    elif kind in ('401', '400', '401-ipv6', '400-ipv6') and len(k[3]) < 5:
        k[3].append(line)
for kind, (total, matched, wrong, ex) in kinds.items():
    print('\t'.join([kind, str(total), str(matched), str(wrong)]
                    + [e.replace('\t', ' ') for e in ex]))
EOF

nlines=$(wc -l < "$work/suite.log")
nmatched=$(wc -l < "$work/matched")
echo "# ${#logs[@]} error logs, $nlines lines (and $(wc -l < "$work/own.log") of the scan's own); fail2ban-regex matched $nmatched"
while IFS=$'\t' read -r kind total matched wrong ex1 ex2 ex3 ex4 ex5; do
    echo "# $kind: $total lines, $matched matched, $wrong with another host"
    case $kind in
        401|400|401-ipv6|400-ipv6)
            if [ "$total" -eq 0 ] && [ "${kind%-ipv6}" = "$kind" ]; then
                tap_not_ok "fail2ban filter: the suite left no $kind line to match"
            elif [ "$matched" -eq "$total" ] && [ "$wrong" -eq 0 ]; then
                tap_ok "fail2ban filter: every $kind line matched ($total), each with its own [client] address as the host"
            else
                tap_not_ok "fail2ban filter: $kind lines: $matched of $total matched, $wrong with another host" \
                    "${ex1:-}" "${ex2:-}" "${ex3:-}" "${ex4:-}" "${ex5:-}"
            fi
            ;;
        *)
            if [ "$matched" -eq 0 ]; then
                tap_ok "fail2ban filter: no $kind line matched ($total)"
            else
                tap_not_ok "fail2ban filter: $matched of $total $kind lines matched" \
                    "${ex1:-}" "${ex2:-}" "${ex3:-}" "${ex4:-}" "${ex5:-}"
            fi
            ;;
    esac
done < "$work/verdict"
tap_finish
