#!/usr/bin/env bash
# test/cluster/examples.sh: the programs of examples/ run against the test
# cluster, in a database of their own that the workers serve: Python with
# Debian's psycopg2 and Node.js with node-postgres (npm ci from the committed
# lock file, into a scratch copy). Each example's exit status and exact
# output, and what it did: the notification row and its delivery to a
# loopback capture server, the stored report and the downloaded PDF
# (pdfinfo), the live event received, the SQLSTATE printed; a failing example
# exits non-zero.
. "$(dirname "$0")/tap.sh"

DB=ts_examples
EX=$TS_WORK/examples
NODE_DIR=$EX/node
PY=/usr/bin/python3   # Debian's Python, where python3-psycopg2 lives
fresh_dir "$EX"

# Puts the main cluster back as it was: helper servers stopped, settings
# reset, the database dropped.
cleanup() {
    kill "${pids[@]}" 2>/dev/null
    conf_reset database allow_private_destinations
    q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

# Runs example $2 (a file name without extension) in language $1 (python or
# node) with arguments $3.. against $DB, output in $EX/$1-$2.out and errors
# in .err; records that it exited 0 (one TAP check).
example() {
    local lang=$1 name=$2 rc
    shift 2
    if [ "$lang" = python ]; then set -- "$PY" "examples/python/$name.py" "$@"; else set -- node "$NODE_DIR/$name.js" "$@"; fi
    PGUSER=postgres PGDATABASE=$DB timeout 60 "$@" > "$EX/$lang-$name.out" 2> "$EX/$lang-$name.err"
    rc=$?
    ok $rc "$lang $name: exits 0"
    [ $rc = 0 ] || sed 's/^/#   /' "$EX/$lang-$name.err"
}

# The output of example $2 of language $1 (its last run).
out() { cat "$EX/$1-$2.out"; }

# --- prerequisites: each one missing fails here, loudly ---

"$PY" -c "import psycopg2" 2>"$EX/psycopg2.err"
rc=$?
ok $rc "Debian's python3-psycopg2 imports"
[ $rc = 0 ] || sed 's/^/#   /' "$EX/psycopg2.err"
command -v node >/dev/null
ok $? "node is installed ($(node --version 2>/dev/null))"
if ! command -v npm >/dev/null; then
    echo "# npm is missing: installing Debian's npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; }
fi
command -v npm >/dev/null
ok $? "npm is installed"
# a scratch copy of the committed files, never the checkout's node_modules
mkdir -p "$NODE_DIR" && cp examples/node/package.json examples/node/package-lock.json examples/node/*.js "$NODE_DIR/"
(cd "$NODE_DIR" && npm ci --no-audit --no-fund) > "$EX/npm.log" 2>&1
ok $? "npm ci installs node-postgres from the lock file"
[ -f "$NODE_DIR/node_modules/pg/package.json" ] || sed 's/^/#   /' "$EX/npm.log"
is "$(node -p "require('$NODE_DIR/node_modules/pg/package.json').version" 2>/dev/null)" \
   "$(node -p "require('$NODE_DIR/package.json').dependencies.pg" 2>/dev/null)" "the pinned pg version is installed"

# --- the database, served by the workers, and the capture server ---

start_capture_server "$EX/capture"
ok $? "capture server listens on 127.0.0.1:$HELPER_PORT"
conf_set database "postgres,$DB" allow_private_destinations on
wait_for "SHOW troubleshooting.allow_private_destinations" on 60
fresh_extension_db "$DB"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting dispatcher' AND datname = '$DB'" 1 60
ok $? "a dispatcher serves $DB"
# (no feedback request for the resolved one: that would be an e-mail with no provider)
D <<'SQL' >/dev/null
SELECT set_troubleshooting_config('feedback_collection_enabled', 'false');
INSERT INTO support_troubleshooting_sessions (session_id, customer_name, customer_email, detected_problem_id, status) VALUES
  ('seed-1', 'Ana', 'ana@example.com', 'wifi_drops', 'in_progress'),
  ('seed-2', 'Bo', 'bo@example.com', 'wifi_drops', 'started'),
  ('seed-3', 'Cy', 'cy@example.com', 'printer_offline', 'started');
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'seed-2';
SQL
ok $? "three sessions, one resolved"

# --- realtime metrics, and a report (first: the other examples add sessions) ---

for lang in python node; do
    example $lang metrics
    is "$(out $lang metrics)" "active sessions: 2
resolved in the last hour: 1
top problem wifi_drops: sessions=2 resolved=1
top problem printer_offline: sessions=1 resolved=0
view: active_sessions=2 resolved_last_hour=1 escalated_last_hour=0" "$lang metrics: the figures of the three sessions"
done

for lang in python node; do
    example $lang report "$EX/report-$lang.pdf"
    id=$(out $lang report | sed -n 's/^report \([0-9]*\): .*/\1/p')
    size=$(stat -c %s "$EX/report-$lang.pdf" 2>/dev/null)
    is "$(out $lang report)" "report $id: custom, 3 sessions, resolution rate 0.3333
saved $EX/report-$lang.pdf ($size bytes)" "$lang report: id, type, figures and the file's size"
    is "$(D -c "SELECT report_type, data -> 'summary' ->> 'total_sessions' FROM support_troubleshooting_reports WHERE id = ${id:-0}")" \
       "custom|3" "$lang report: the report is stored"
    is "$(head -c 5 "$EX/report-$lang.pdf")" "%PDF-" "$lang report: the file is a PDF"
    pages=$(pdfinfo "$EX/report-$lang.pdf" 2>&1 | sed -n 's/^Pages: *//p')
    ok $((! (pages >= 1))) "$lang report: pdfinfo reads it ($pages pages)"
    title=$(D -c "SELECT data ->> 'title' FROM support_troubleshooting_reports WHERE id = ${id:-0}")
    pdf_text "$EX/report-$lang.pdf" | grep -qF -- "$title"
    ok $? "$lang report: the PDF shows the report's title ($title)"
done

# --- a notification with an idempotency key, delivered ---

for lang in python node; do
    sid=$lang-42 key=escalated:$lang-42:T-1001
    # the session the notification is about (a notification names a session that exists)
    D -c "INSERT INTO support_troubleshooting_sessions (session_id, status, ticket_id) VALUES ('$sid', 'escalated', 'T-1001')" >/dev/null
    example $lang notify "$sid" "$URL/hooks/$lang"
    id=$(D -c "SELECT id FROM support_troubleshooting_notifications WHERE idempotency_key = '$key'")
    is "$(out $lang notify)" "notification ${id:-none} enqueued, idempotency key $key
same key again: notification ${id:-none}" "$lang notify: the same id twice"
    is "$(D -c "SELECT count(*), min(channel), min(recipient), min(template), min(priority), min(session_id), min(metadata ->> 'webhook_url')
                FROM support_troubleshooting_notifications WHERE session_id = '$sid'")" \
       "1|slack|#support-team|session_escalated|critical|$sid|$URL/hooks/$lang" "$lang notify: one row with the right fields"
    wait_for "SELECT status FROM support_troubleshooting_notifications WHERE id = ${id:-0}" sent 60 D
    ok $? "$lang notify: the dispatcher sent it"
    is "$(python3 - "$CAP/requests.jsonl" "/hooks/$lang" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"] == sys.argv[2]]
print(len(rows), rows[0]["method"] if rows else "-", json.loads(rows[0]["body"]) if rows else "-")
PY
)" "1 POST {'text': 'Session $sid (Wi-Fi keeps dropping) was escalated after 3 failed attempts. Ticket: T-1001. Customer: Juan Pérez <juan@example.com>'}" \
       "$lang notify: the capture server received it once, rendered"
done

# --- live events ---

for lang in python node; do
    sid=$lang-live-1
    example $lang listen "$sid"
    is "$(out $lang listen | sed -n '1p;3p')" "listening on troubleshooting_events
session.status: session $sid is started (previous none)" "$lang listen: listening, then the event"
    is "$(out $lang listen | sed -n 's/^received //p' | python3 -c "import json, sys; print(sorted(json.load(sys.stdin).items()))" 2>&1)" \
       "[('previous', None), ('problem_id', 'wifi_drops'), ('session_id', '$sid'), ('status', 'started'), ('type', 'session.status')]" \
       "$lang listen: the payload as published"
    is "$(D -c "SELECT status FROM support_troubleshooting_sessions WHERE session_id = '$sid'")" started "$lang listen: the session was stored"
done

# --- errors by SQLSTATE ---

for lang in python node; do
    example $lang errors
    is "$(out $lang errors)" '22023 invalid value for configuration key "enable_llm_enhancement"
  detail: Expected a boolean, got "maybe".
  hint: Use true or false.
22023 unknown period "fortnight"
  hint: Use hour, day, week or month.' "$lang errors: SQLSTATE, message, detail and hint"
done
is "$(D -c "SELECT get_troubleshooting_config('enable_llm_enhancement')")" false "the bad value was not stored"

# --- a failing example exits non-zero ---

for lang in python node; do
    if [ $lang = python ]; then cmd=("$PY" examples/python/metrics.py); else cmd=(node "$NODE_DIR/metrics.js"); fi
    PGUSER=postgres PGDATABASE=${DB}_missing timeout 60 "${cmd[@]}" > "$EX/missing.out" 2> "$EX/missing.err"
    rc=$?
    ok $((! (rc != 0 && rc != 124))) "$lang: an example that cannot connect exits non-zero ($rc)"
    grep -qF "database \"${DB}_missing\" does not exist" "$EX/missing.err"
    ok $? "$lang: and says why"
done

done_testing
