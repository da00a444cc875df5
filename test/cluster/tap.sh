# test/cluster/tap.sh: TAP helpers for the cluster-level tests (run by prove).
# The environment comes from test/run: PGHOST, PGPORT (the preloaded cluster),
# TS_WORK (a scratch folder owned by postgres).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TAP_N=0
TAP_FAILED=0

# Runs SQL through psql as postgres, unaligned, stopping at the first error.
q() { psql -X -qAt -U postgres -v ON_ERROR_STOP=1 "$@"; }

# Records one test: $1 = exit status (0 = pass), $2 = description.
ok() {
    TAP_N=$((TAP_N + 1))
    if [ "$1" = 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}

# Records a comparison: $1 = got, $2 = expected, $3 = description.
is() {
    if [ "$1" == "$2" ]; then ok 0 "$3"; else
        ok 1 "$3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
    fi
}

# Prints the plan; the script's status says whether everything passed.
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
