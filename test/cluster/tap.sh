# test/cluster/tap.sh: what the cluster-level tests share (each sources it):
# the TAP printers, the psql clients, the waiting loops, the helper servers
# (capture, SMTP, fake OpenAI), the HTTP client of the worker tests and the
# main cluster's restart.
# The environment comes from test/run: PGHOST, PGPORT (the preloaded cluster),
# TS_WORK (a scratch folder owned by postgres).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TAP_N=0
TAP_FAILED=0
# The main cluster's data folder (test/run's) and its server log, which every
# test shares.
MAIN=$TS_WORK/main
LOG=$MAIN/server.log

# --- TAP output ---

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

# Prints the plan; the script's status says whether everything passed.
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }

# --- psql clients ---

# Runs SQL through psql as postgres, unaligned, stopping at the first error.
q() { psql -X -qAt -U postgres -v ON_ERROR_STOP=1 "$@"; }

# Runs SQL in database postgres of the main cluster, the one its workers
# serve (troubleshooting.database).
P() { q -d postgres "$@"; }

# Runs SQL in the test's own database, named in DB (set by the test).
D() { q -d "$DB" "$@"; }

# Prints the pid of the main cluster's troubleshooting worker of kind $1
# (maintenance, dispatcher, http: backend_type 'troubleshooting $1').
worker_pid() { P -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'troubleshooting $1'"; }

# --- waiting: every wait polls the event it waits for, with a bound the caller passes ---

# Waits up to $1 seconds (polling every 0.1 s) until the command "${@:2}"
# succeeds.
wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# Succeeds when the output of the command "${@:2}" (its errors hidden)
# equals $1.
output_is() { [ "$("${@:2}" 2>/dev/null)" = "$1" ]; }

# Waits up to $1 seconds (polling every 0.1 s) until the output of the
# command "${@:3}" equals $2.
wait_output() { wait_until "$1" output_is "$2" "${@:3}"; }

# Waits up to $3 seconds (default 30) until SQL $1 returns $2, run by the
# client "${@:4}" (default P: database postgres of the main cluster).
wait_for() {
    local sql=$1 want=$2 secs=${3:-30}
    shift $(($# < 3 ? $# : 3))
    (($#)) || set -- P
    wait_output "$secs" "$want" "$@" -c "$sql"
}

# A notification's status as SQL, "deferred" for a row pending more than a
# minute from now (a final state for the tests: nothing is due soon).
DEFERRED_STATUS="CASE WHEN status = 'pending' AND next_attempt_at > now() + interval '1 minute' THEN 'deferred' ELSE status END"

# Waits up to $2 seconds (default 60) until notification $1 is no longer
# pending or sending; prints its status, or SQL expression $3 of its row
# (e.g. $DEFERRED_STATUS), the last one read if the time ran out.
final_status() {
    local id=$1 secs=${2:-60} expr=${3:-status} s i
    for ((i = 0; i < secs * 5; i++)); do
        s=$(P -c "SELECT $expr FROM support_troubleshooting_notifications WHERE id = $id")
        case "$s" in pending|sending) sleep 0.2 ;; *) break ;; esac
    done
    echo "$s"
}

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
    local db=$1 rounds=${2:-1} min=${3:-0} start=$SECONDS k
    while ((SECONDS - start <= min)); do sleep 0.2; done   # SECONDS counts whole seconds
    for ((k = 0; k <= rounds; k++)); do
        q -d "$db" -c "INSERT INTO ts_metrics_delta VALUES ('2000-01-01 00:00+00', NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)" >/dev/null || return 1
        wait_for "SELECT count(*) FROM ts_metrics_delta WHERE bucket = '2000-01-01 00:00+00'" 0 120 q -d "$db" || return 1
    done
}

# --- the main cluster: settings, restarts, its server log ---

# Sets troubleshooting settings with ALTER SYSTEM (pairs: the name without
# its prefix, the value) and reloads the configuration.
conf_set() {
    local args=()
    while (($# >= 2)); do args+=(-c "ALTER SYSTEM SET troubleshooting.$1 = '$2'"); shift 2; done
    q "${args[@]}" -c "SELECT pg_reload_conf()" >/dev/null
}

# Resets troubleshooting settings $@ (names without the prefix) with ALTER
# SYSTEM and reloads the configuration.
conf_reset() {
    local args=() s
    for s in "$@"; do args+=(-c "ALTER SYSTEM RESET troubleshooting.$s"); done
    q "${args[@]}" -c "SELECT pg_reload_conf()" >/dev/null
}

# Restarts the main cluster (for the settings read only at start).
restart_main() { ts_cluster_stop "$MAIN"; ts_cluster_start "$MAIN"; }

# Puts the main cluster back as test/run started it, also when a test stops
# early: drops the extension and role $1, resets troubleshooting settings
# $2.. and restarts the cluster.
reset_main() {
    local role=$1 s
    shift
    P -c "DROP EXTENSION IF EXISTS troubleshooting CASCADE" >/dev/null 2>&1
    P -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    for s in "$@"; do
        P -c "ALTER SYSTEM RESET troubleshooting.$s" >/dev/null 2>&1
    done
    restart_main
}

# Remembers where the main cluster's server log ends now (earlier tests
# share it): newlog prints what was written after.
log_mark() { LOG_MARK=$(stat -c %s "$LOG"); }

# The main cluster's server log written since log_mark.
newlog() { tail -c +$((LOG_MARK + 1)) "$LOG"; }

# Succeeds when the log written since log_mark holds $2 or more lines with
# the fixed text $1.
newlog_has() { [ "$(newlog | grep -cF -- "$1")" -ge "$2" ]; }

# --- helper servers on loopback ---

# Pids of the helper servers a test started; stopped when the script exits
# (a script with an EXIT trap of its own stops them there).
pids=()

# Starts helper server "${@:4}" (named $1 in messages) in the background,
# its errors in file $3, and waits up to 60 s for it to write its port to
# file $2; sets HELPER_PORT to that port.
start_helper() {
    local name=$1 portfile=$2 err=$3
    shift 3
    HELPER_PORT=
    "$@" >/dev/null 2>"$err" &
    pids+=($!)
    [ -n "$(trap -p EXIT)" ] || trap 'kill "${pids[@]}" 2>/dev/null' EXIT
    wait_until 60 test -s "$portfile" || { echo "# the $name did not start: $(cat "$err")"; return 1; }
    HELPER_PORT=$(cat "$portfile")
}

# Starts test/capture_server.py recording into folder $1 (made, owned by
# postgres); sets CAP to it and URL to the server's loopback address.
start_capture_server() {
    local rc
    CAP=$1
    mkdir -p "$CAP" && chown postgres: "$CAP"
    start_helper "capture server" "$CAP/port" "$CAP/server.err" \
        python3 test/capture_server.py --port 0 --record "$CAP/requests.jsonl" --portfile "$CAP/port"
    rc=$?
    URL="http://127.0.0.1:$HELPER_PORT"
    return $rc
}

# Starts test/smtp_server.py keeping what it receives in folder $1 (made),
# its port in $1.port and its errors in $1.err; $2 = its TLS mode, the rest
# its other options. Sets SMTP_PORT.
start_smtp_server() {
    local dir=$1 tls=$2
    shift 2
    mkdir -p "$dir"
    start_helper "SMTP server" "$dir.port" "$dir.err" \
        python3 test/smtp_server.py --port 0 --portfile "$dir.port" --maildir "$dir" --tls "$tls" "$@" || return 1
    SMTP_PORT=$HELPER_PORT
}

# Sets the provider of channel $1 to $2 with settings $3 (JSON).
provider() { P -c "SELECT set_troubleshooting_provider('$1', '$2', '$3')" >/dev/null; }

# --- the HTTP worker's answers ---

# The HTTP client of the tests of the HTTP worker; the test sets H, the
# folder that holds the last answer.
# GET (or whatever the curl options say): prints the status; body in
# $H/body, headers in $H/headers.
get() { : > "$H/body"; curl -sS --noproxy '*' --max-time 20 -o "$H/body" -D "$H/headers" -w '%{http_code}' "$@" 2>/dev/null; }

# A header of the last answer (first one named $1), without CR.
header() { tr -d '\r' < "$H/headers" | sed -n "s/^$1: *//Ip" | head -1; }

# Waits up to $1 seconds until get "${@:3}" answers status $2.
wait_status() { wait_output "$1" "$2" get "${@:3}"; }

# Sends HEAD for path $2 to 127.0.0.1 port $1 over a raw socket (curl would
# not show a body sent after it) and prints, tab-separated: the status, the
# Content-Type, the Content-Length ("-" for a header not sent), "etag" if
# an ETag came ("-" if not), and the length of what came after the headers.
raw_head() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"HEAD %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % sys.argv[2].encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
h = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
print(lines[0].split()[1], h.get("content-type", "-"), h.get("content-length", "-"),
      "etag" if "etag" in h else "-", len(rest), sep="\t")
PY
}

# Prints realtime document(s) (files $@, or standard input) with the fields
# the clock moves (timestamp, minutes_active) blanked, for comparing two of
# them taken moments apart.
norm_realtime() { sed -E 's/"timestamp": "[^"]*"/"timestamp": "T"/; s/"minutes_active": [0-9.]+/"minutes_active": M/g' "$@"; }

# --- scratch databases and folders, exported documents ---

# Makes folder $1 afresh, empty (removed first if a run left it).
fresh_dir() { rm -rf "$1" && mkdir -p "$1"; }

# Creates database $1 afresh (dropped first if a run left it).
fresh_db() {
    q -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
    q -c "CREATE DATABASE $1" >/dev/null
}

# Creates database $1 afresh with the extension in it (one TAP check).
fresh_extension_db() {
    fresh_db "$1"
    q -d "$1" -c "CREATE EXTENSION troubleshooting" >/dev/null
    ok $? "extension created in $1"
}

# Writes the export of document $1 (table docs (name, doc) of database $DB)
# in format $2 to file $3 (bytes through base64).
export_doc() { D -c "SELECT encode(export_troubleshooting_report(doc, '$2'), 'base64') FROM docs WHERE name = '$1'" | base64 -d > "$3"; }

# Exports document $1 as PDF to file $2 (export_doc) and records whether a
# PDF came out (one TAP check).
export_pdf_checked() {
    export_doc "$1" pdf "$2"
    [ "$(head -c 5 "$2")" = "%PDF-" ]
    ok $? "$1: export writes a PDF"
}

# The text of PDF $1 (pdftotext, layout kept; a warning goes to the log,
# and report_pdf.sh fails on any).
pdf_text() { pdftotext -layout "$1" -; }
