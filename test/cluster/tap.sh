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

# Records a skipped test: $1 = description, $2 = why (test/run counts it as
# skipped, never as passed).
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }

# Waits until the maintenance worker serving database $1 has been through $2
# (default 1) whole rounds that started at least $3 seconds (default 0) after
# this call, up to 120 s a round. Every round begins by folding
# ts_metrics_delta, so a marker delta row (zero counts, year 2000, changing no
# figure) written now is gone once a round has started after it, and the next
# marker gone proves that round ended. A check that something does NOT happen
# waits on this: it proves the worker has been past the point where it would
# have acted. $3 is for steps that look only every so often (the LLM step
# looks at most every 5 s): rounds that start after it include a look.
ts_maintenance_rounds() {
    local db=$1 rounds=${2:-1} min=${3:-0} start=$SECONDS k i
    while ((SECONDS - start <= min)); do sleep 0.2; done   # SECONDS counts whole seconds
    for ((k = 0; k <= rounds; k++)); do
        q -d "$db" -c "INSERT INTO ts_metrics_delta VALUES ('2000-01-01 00:00+00', NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)" >/dev/null || return 1
        for ((i = 0; i < 1200; i++)); do
            [ "$(q -d "$db" -c "SELECT count(*) FROM ts_metrics_delta WHERE bucket = '2000-01-01 00:00+00'")" = 0 ] && break
            sleep 0.1
        done
        ((i < 1200)) || return 1
    done
}

# Pids of the helper servers a test started; stopped when the script exits.
pids=()

# Starts test/capture_server.py recording into folder $1 (made, owned by
# postgres); sets CAP to it and URL to the server's loopback address.
start_capture_server() {
    local i
    CAP=$1
    mkdir -p "$CAP" && chown postgres: "$CAP"
    python3 test/capture_server.py --port 0 --record "$CAP/requests.jsonl" --portfile "$CAP/port" 2>"$CAP/server.err" &
    pids+=($!)
    trap 'kill "${pids[@]}" 2>/dev/null' EXIT
    for i in $(seq 1 600); do [ -s "$CAP/port" ] && break; sleep 0.1; done
    [ -s "$CAP/port" ] || { echo "# the capture server did not start: $(cat "$CAP/server.err")"; return 1; }
    URL="http://127.0.0.1:$(cat "$CAP/port")"
}

# Creates database $1 afresh with the extension in it (one TAP check).
fresh_extension_db() {
    q -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
    q -c "CREATE DATABASE $1" >/dev/null
    q -d "$1" -c "CREATE EXTENSION troubleshooting" >/dev/null
    ok $? "extension created in $1"
}

# Waits up to $1 seconds (polling every 0.1 s) until the output of the
# command "${@:3}" equals $2.
wait_output() {
    local secs=$1 want=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        [ "$("$@" 2>/dev/null)" = "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# Prints the plan; the script's status says whether everything passed.
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
