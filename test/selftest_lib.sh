# test/selftest_lib.sh: shared by the test/*_selftest.sh scripts (sourced).
# Sets $here (test/) and a scratch $tmp removed at exit, stops the servers
# named in $server_pid and $pids at exit, and defines the TAP helpers; the
# script ends with `[ "$failed" -eq 0 ]`.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
tmp=$(mktemp -d)
server_pid=
pids=()
# Stops the servers still running and removes $tmp.
cleanup() {
    local p
    for p in $server_pid "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || echo "# $2"; }
# check DESC CMD...: runs CMD, reports ok/not ok on its exit status.
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# expect DESC GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2], want [$3]"; fi; }

# Starts test/capture_server.py on a free loopback port recording to
# $record; sets $port and $base, or reports and exits when it does not start.
start_capture_server() {
    record=$tmp/requests.jsonl
    python3 "$here/capture_server.py" --port 0 --record "$record" --portfile "$tmp/port" \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    for _ in $(seq 50); do
        [ -s "$tmp/port" ] && break
        sleep 0.1
    done
    if [ ! -s "$tmp/port" ]; then
        notok "capture server wrote its portfile within 5 s"
        echo "1..$n"
        exit 1
    fi
    port=$(cat "$tmp/port")
    base="http://127.0.0.1:$port"
}
