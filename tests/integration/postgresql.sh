#!/bin/bash
#
# postgresql.sh - the integration cases that are about the module, not
# about the SQLite file, run again against PostgreSQL (AZS_BACKEND=
# postgresql: a real server per case, httpd connecting as a read-only
# role), under the event MPM ($AZS_PG_MPMS).  The cases about the file
# itself (its permissions, replacement, corruption, locks, a copy by cp)
# have no PostgreSQL counterpart; the fleet cases (fleet_*.sh) are
# PostgreSQL's own and run in the main list.  rel_propagation.sh asserts
# SQLite's promise (the very next request sees a change); PostgreSQL's
# (every node within milliseconds, within the lease at worst) is
# fleet_propagation.sh's.  lib.sh gives each htauthz write 50 ms to
# propagate here.  Skipped when PostgreSQL is
# not installed.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib_pg.sh"
if ! pg_need; then
    echo "1..0 # SKIP PostgreSQL is not installed"
    exit 77
fi
AZS_BACKEND=postgresql AZS_MPMS=${AZS_PG_MPMS:-event} exec bash "$here/run.sh" \
    basic_login authn_states authn_form authn_malformed authn_debug \
    authn_cache_shared authn_hash_limit authz_404 authz_blocklist \
    authz_composition authz_forbidden_off authz_htaccess authz_keepalive \
    authz_other_providers authz_role_permission bearer_scope bearer_tokens \
    churn_targeted churn_memo model_random rel_hostile metrics export

