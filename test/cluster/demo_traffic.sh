#!/usr/bin/env bash
# The demo start.sh gives: over 60 days of sample history, so its 30-day
# report has a previous period to compare with (trends with values), and the traffic
# simulator (bench/traffic.sh, bench/traffic.sql) keeping it alive.  In a
# database of its own on the test cluster: the generator's history and the
# report's trends; then the simulator, a tick every 0.5 s: its first tick
# fills the empty last hour, sessions, attempts and feedback keep coming,
# sessions open and close within the last minute, the realtime metrics show
# active sessions and last-hour figures, a LISTEN client receives
# troubleshooting_events; `bench/traffic.sh stop` ends it (process and pid
# file gone, nothing written after) and its log holds no ERROR; a simulator
# whose server is gone exits by itself.
. "$(dirname "$0")/tap.sh"

DB=ts_demo_traffic
T=$TS_WORK/demo_traffic
fresh_dir "$T"
export TS_TRAFFIC_DIR=$T/sim TS_TRAFFIC_INTERVAL=0.5

# Runs bench/traffic.sh $1 against the test's database (pid file and log in $TS_TRAFFIC_DIR).
SIM() { PGDATABASE=$DB PGUSER=postgres bash bench/traffic.sh "$@"; }

listener=
# Stops what the test started (also when it stops early): the simulators,
# the listener; drops the database.
cleanup() {
    SIM stop >/dev/null 2>&1
    TS_TRAFFIC_DIR=$T/gone SIM stop >/dev/null 2>&1
    [ -n "$listener" ] && { exec {feed}>&- ; wait "$listener"; } 2>/dev/null
    q -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
trap cleanup EXIT

fresh_extension_db $DB

# --- the history and the report start.sh makes ---
# (62 days: the generator picks a day, then a time in it, so the oldest of a
# few hundred sessions is surely more than 60 days old)
D -v sessions=400 -v days=62 -v seed=0.42 -f bench/generate_data.sql >/dev/null
ok $? "generator: 400 sessions over 62 days"
is "$(D -c "SELECT now() - min(started_at) >= interval '60 days', max(started_at) > now() - interval '2 days'
            FROM support_troubleshooting_sessions")" "t|t" "the history spans more than 60 days up to now"
is "$(D -c "SELECT count(*) < 5 FROM support_troubleshooting_sessions WHERE started_at >= now() - interval '1 hour'")" "t" \
   "the last hour is (nearly) empty before the simulator"
REPORT=$(D -c "SELECT generate_troubleshooting_report('custom', date_trunc('day', now()) - interval '29 days',
                                                      date_trunc('day', now()) + interval '1 day')->>'id'")
[[ $REPORT =~ ^[0-9]+$ ]]
ok $? "the 30-day report of start.sh is generated (id $REPORT)"
# Prints SQL expression $1 over the trend entries (m) of the report.
trend() { D -c "SELECT $1 FROM support_troubleshooting_reports r, jsonb_array_elements(r.data->'trends'->'metrics') m WHERE r.id = $REPORT"; }
# (a span of one calendar month compares with the month before: 30 or 31 days)
is "$(D -c "SELECT pe = date_trunc('day', now()) - interval '29 days' AND pe - ps IN (interval '30 days', interval '31 days')
                   AND ps >= (SELECT min(started_at) FROM support_troubleshooting_sessions)
            FROM (SELECT (data->'trends'->'previous_period'->>'start')::timestamptz AS ps,
                         (data->'trends'->'previous_period'->>'end')::timestamptz AS pe
                  FROM support_troubleshooting_reports WHERE id = $REPORT) x")" "t" \
   "its previous period is the month just before, inside the history"
is "$(trend "count(*) || ' ' || count(*) FILTER (WHERE m->>'previous' IS NOT NULL AND m->>'change' IS NOT NULL
                                                 AND m->>'direction' IN ('up', 'down', 'flat'))")" "12 12" \
   "all 12 trends have a previous value, a change and a direction (no —)"
n=$(trend "max((m->>'previous')::int) FILTER (WHERE m->>'metric' = 'total_sessions')")
[ "${n:-0}" -gt 100 ]
ok $? "the previous period holds sessions ($n)"
is "$(trend "count(*) FILTER (WHERE m->>'direction' IN ('up', 'down'))" | awk '{print ($1 >= 6)}')" "1" \
   "most trends move (up or down)"

# --- a LISTEN client on the database ---
out=$T/listen.out
mkfifo "$T/listen.in"
( PGAPPNAME=demo-listener psql -X -q -At -U postgres -d $DB -f "$T/listen.in" > "$out" 2>&1 ) &
listener=$!
exec {feed}>"$T/listen.in"
echo "LISTEN troubleshooting_events;" >&"$feed"
wait_for "SELECT state FROM pg_stat_activity WHERE application_name = 'demo-listener' AND query LIKE 'LISTEN%'" "idle" 60 D
ok $? "the listener is listening"

# --- the simulator ---
SIM start > "$T/start.out" 2>&1
ok $? "bench/traffic.sh start: running after its first tick"
sed 's/^/# /' "$T/start.out"
pid=$(cat "$TS_TRAFFIC_DIR/traffic.pid" 2>/dev/null)
[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid"
ok $? "its pid file names a running process ($pid)"
[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ]
ok $? "it leads a session of its own (setsid): it outlives the shell that started it"
grep -q ' tick 1: .*back-filled 60;' "$TS_TRAFFIC_DIR/traffic.log"
ok $? "its first tick back-filled the empty last hour with 60 sessions"
is "$(D -c "SELECT count(*) >= 60 FROM support_troubleshooting_sessions WHERE started_at >= now() - interval '1 hour'")" "t" \
   "60 or more sessions started in the last hour"

# Prints the counts of sessions, attempts and feedback, space-separated.
counts() { D -c "SELECT (SELECT count(*) FROM support_troubleshooting_sessions) || ' ' ||
                        (SELECT count(*) FROM support_troubleshooting_attempts) || ' ' ||
                        (SELECT count(*) FROM support_troubleshooting_feedback)"; }
# the counts after the first tick, and the time it ended
read -r s1 a1 f1 < <(counts)
T1=$(D -c "SELECT now()")
# Succeeds when count $1 (1 sessions, 2 attempts, 3 feedback) has passed $2.
grown() { local c; c=$(counts | cut -d' ' -f"$1"); [ "${c:-0}" -gt "$2" ]; }
wait_until 60 grown 1 "$s1"
ok $? "sessions keep coming (more than $s1)"
wait_until 60 grown 2 "$a1"
ok $? "attempts keep coming (more than $a1)"
wait_until 60 grown 3 "$f1"
ok $? "feedback keeps coming (more than $f1)"
wait_for "SELECT count(*) FILTER (WHERE started_at > greatest(now() - interval '1 minute', '$T1')) > 0
             AND count(*) FILTER (WHERE ended_at > greatest(now() - interval '1 minute', '$T1')) > 0
          FROM support_troubleshooting_sessions" "t" 60 D
ok $? "sessions were opened and closed by its ticks within the last minute"
wait_for "SELECT (m->>'active_sessions')::int > 0 AND (m->>'resolved_last_hour')::int > 0
             AND (m->>'escalated_last_hour')::int > 0 AND (m->>'avg_rating_24h')::numeric > 0
          FROM (SELECT get_troubleshooting_realtime_metrics() -> 'metrics' AS m) x" "t" 30 D
ok $? "realtime metrics: active sessions, resolved and escalated in the last hour, a rating"
D -c "SELECT get_troubleshooting_realtime_metrics() -> 'metrics'" | sed 's/^/# /'
is "$(D -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE 'live-%' AND customer_email IS NOT NULL")" "0" \
   "simulated customers leave no e-mail address (no feedback-request mail)"

# The payloads the listener has printed so far, one a line.
payloads() { sed -n 's/^Asynchronous notification "troubleshooting_events" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' "$out"; }
# Succeeds when the listener has session.status events of a new and of a
# finished session, and a feedback.received event.
heard_all() {
    echo "SELECT 1;" >&"$feed"
    payloads | python3 -c "
import json, sys
e = [json.loads(l) for l in sys.stdin if l.strip()]
st = {x.get('status') for x in e if x['type'] == 'session.status'}
sys.exit(not ('started' in st and st & {'resolved', 'escalated', 'abandoned'}
              and any(x['type'] == 'feedback.received' for x in e)))"
}
# (the listener asks for what it has received until it has each kind)
wait_until 60 heard_all
ok $? "the LISTEN client received troubleshooting_events: sessions started and finished, feedback"
echo "# $(payloads | wc -l) events, e.g. $(payloads | grep -m1 feedback.received)"

# --- stopping it ---
SIM stop > "$T/stop.out" 2>&1
ok $? "bench/traffic.sh stop: $(cat "$T/stop.out")"
! kill -0 "$pid" 2>/dev/null
ok $? "the process is gone"
[ ! -e "$TS_TRAFFIC_DIR/traffic.pid" ]
ok $? "the pid file is removed"
read -r s2 a2 f2 < <(counts)
lines=$(wc -l < "$TS_TRAFFIC_DIR/traffic.log")
# (a check that nothing happens: six of its intervals pass)
sleep 3
is "$(counts)" "$s2 $a2 $f2" "nothing is written after it stopped"
is "$(D -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'troubleshooting-traffic'")" "0" "no connection of it is left"
is "$(wc -l < "$TS_TRAFFIC_DIR/traffic.log")" "$lines" "its log is not written after it stopped"
grep -q ' stopped after [0-9]* ticks$' "$TS_TRAFFIC_DIR/traffic.log"
ok $? "its log says it stopped ($(grep -c ' tick [0-9]*: ' "$TS_TRAFFIC_DIR/traffic.log") ticks)"
is "$(grep -c 'ERROR' "$TS_TRAFFIC_DIR/traffic.log")" "0" "its log has no ERROR"
is "$(SIM status; echo "rc $?")" "traffic simulator not running
rc 3" "bench/traffic.sh status: not running"

# --- a simulator whose server is gone exits by itself ---
gone=$(ts_free_port 58400)
TS_TRAFFIC_DIR=$T/gone TS_TRAFFIC_GIVE_UP=2 PGPORT=$gone PGHOST=127.0.0.1 SIM start > "$T/gone.out" 2>&1
is "$?" "1" "with no server on port $gone, start reports that the simulator stopped"
grep -q 'no successful tick for 2 s; giving up' "$T/gone/traffic.log"
ok $? "it gave up after TS_TRAFFIC_GIVE_UP seconds without a tick"
[ ! -e "$T/gone/traffic.pid" ]
ok $? "and removed its pid file"

trap - EXIT
cleanup
done_testing
