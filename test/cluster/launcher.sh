#!/usr/bin/env bash
# The launcher on a cluster of its own where troubleshooting.database is
# unset: every database with the extension gets its maintenance worker and
# dispatcher.  Two databases are served at once (a notification from each
# reaches the loopback capture server, metric deltas are folded in each);
# CREATE EXTENSION in a third database starts its workers within seconds,
# DROP EXTENSION stops them, DROP DATABASE is not blocked by them, a
# database without the extension gets none, and with
# troubleshooting.max_databases reached the next database is logged and
# waits, DROP EXTENSION right after CREATE never deadlocks with the starting
# workers.  Every wait polls the event it waits for.
. "$(dirname "$0")/tap.sh"

DATA=$TS_WORK/launcher
port=$(ts_free_port $((PGPORT + 5)))
rm -rf "$DATA"
TS_ALL_DATABASES=1 TS_EXTRA_CONF="troubleshooting.maintenance_naptime = 200
troubleshooting.max_databases = 3
troubleshooting.allow_private_destinations = on
troubleshooting.retry_base_delay = '100ms'" ts_cluster_init "$DATA" "$port" "$TS_WORK" preload
ts_cluster_start "$DATA"
ok $? "a cluster with troubleshooting.database unset starts"
L() { q -h "$TS_WORK" -p "$port" "$@"; }
LOG=$DATA/server.log
start_capture_server "$TS_WORK/launcher-capture"
trap 'ts_cluster_stop "$DATA"; kill "${pids[@]}" 2>/dev/null' EXIT

# The troubleshooting workers (backend type: database) running now, sorted.
workers() {
    L -d postgres -c "SELECT coalesce(string_agg(backend_type || ':' || coalesce(datname, '-'), ' ' ORDER BY backend_type, datname), '')
                      FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'"
}
# Waits up to 30 s until the workers running are $1.
wait_workers() { wait_output 30 "$1" workers; }

is "$(L -d postgres -c "SHOW troubleshooting.database")" "" "troubleshooting.database is unset"
wait_workers "troubleshooting launcher:-"
ok $? "only the launcher runs while no database has the extension"

for db in alpha beta; do
    L -d postgres -c "CREATE DATABASE $db" >/dev/null
    L -d $db -c "CREATE EXTENSION troubleshooting" >/dev/null
done
wait_workers "troubleshooting dispatcher:alpha troubleshooting dispatcher:beta troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:beta"
ok $? "CREATE EXTENSION in two databases starts a maintenance worker and a dispatcher in each"
grep -q 'troubleshooting maintenance worker started in database "alpha"' "$LOG" &&
    grep -q 'troubleshooting dispatcher started in database "beta"' "$LOG"
ok $? "the starts are logged with the database"

# a notification from each database reaches the capture server
for db in alpha beta; do
    L -d $db -c "SELECT send_troubleshooting_notification('webhook', '$URL/from/$db', NULL, '{\"type\": \"x\"}')" >/dev/null
done
wait_for "SELECT string_agg(status, ',') FROM support_troubleshooting_notifications" "sent" 30 L -d alpha
ok $? "alpha's notification is sent"
wait_for "SELECT string_agg(status, ',') FROM support_troubleshooting_notifications" "sent" 30 L -d beta
ok $? "beta's notification is sent"
is "$(python3 -c "
import json
print(' '.join(sorted(json.loads(l)['path'] for l in open('$CAP/requests.jsonl'))))")" "/from/alpha /from/beta" \
   "the capture server got exactly one request from each database"
is "$(L -d alpha -c "SELECT sent FROM troubleshooting_dispatcher_stats()")|$(L -d beta -c "SELECT sent FROM troubleshooting_dispatcher_stats()")" "1|1" \
   "each database's dispatcher counts its own sends"

# metric deltas are folded in each database
for db in alpha beta; do
    L -d $db -c "INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
                 SELECT '$db' || g, 'in_progress', now() - g * interval '1 minute' FROM generate_series(1, 7) g" >/dev/null
    ok $? "7 sessions written in $db"
done
wait_for "SELECT count(*) FROM ts_metrics_delta" 0 30 L -d alpha
ok $? "alpha's metric deltas are folded"
wait_for "SELECT count(*) FROM ts_metrics_delta" 0 30 L -d beta
ok $? "beta's metric deltas are folded"
is "$(L -d beta -c "SELECT sum(sessions) FROM ts_metrics_hourly")" "7" "beta's rollup holds its 7 sessions"

# a database without the extension gets no workers; CREATE EXTENSION there starts them within seconds
L -d postgres -c "CREATE DATABASE gamma" >/dev/null
sleep 1.5
is "$(workers)" "troubleshooting dispatcher:alpha troubleshooting dispatcher:beta troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:beta" \
   "a new database without the extension gets no workers"
t0=$(date +%s%N)
L -d gamma -c "CREATE EXTENSION troubleshooting" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gamma' AND backend_type LIKE 'troubleshooting%'" 2 30 L -d postgres
ok $? "CREATE EXTENSION in gamma starts its two workers without a restart"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 3000))
ok $? "within 3 seconds (took $ms ms)"

# max_databases = 3: a fourth database is logged and waits
L -d postgres -c "CREATE DATABASE delta" >/dev/null
L -d delta -c "CREATE EXTENSION troubleshooting" >/dev/null
for i in $(seq 1 100); do grep -q 'database "delta" gets no workers' "$LOG" && break; sleep 0.1; done
grep -q 'troubleshooting: database "delta" gets no workers: troubleshooting.max_databases (3) databases are served' "$LOG"
ok $? "a database past troubleshooting.max_databases is logged"
is "$(grep -c 'database "delta" gets no workers' "$LOG")" "1" "once"
is "$(L -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'delta' AND backend_type LIKE 'troubleshooting%'")" "0" \
   "and gets no workers"

# DROP EXTENSION stops gamma's workers; its slot goes to delta
L -d gamma -c "DROP EXTENSION troubleshooting" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gamma' AND backend_type LIKE 'troubleshooting%'" 0 30 L -d postgres
ok $? "DROP EXTENSION stops gamma's workers"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'delta' AND backend_type LIKE 'troubleshooting%'" 2 30 L -d postgres
ok $? "the freed slot goes to delta"

# DROP DATABASE of a served database is not blocked
t0=$(date +%s%N)
L -d postgres -c "DROP DATABASE beta"
ok $? "DROP DATABASE beta succeeds while its workers run"
ms=$((($(date +%s%N) - t0) / 1000000))
is "$(L -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'beta'")" "0" "beta is gone (the drop took $ms ms)"
wait_workers "troubleshooting dispatcher:alpha troubleshooting dispatcher:delta troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:delta"
ok $? "alpha and delta keep their workers"
# ALTER DATABASE ... RENAME needs a database without connections too
L -d postgres -c "ALTER DATABASE delta RENAME TO delta2"
ok $? "ALTER DATABASE RENAME of a served database succeeds"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'delta2' AND backend_type LIKE 'troubleshooting%'" 2 30 L -d postgres
ok $? "the renamed database gets its workers back"
# a role that may not drop the database does not disturb its workers
apid=$(L -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = 'alpha' AND backend_type = 'troubleshooting dispatcher'")
L -d postgres -c "CREATE ROLE ts_intruder LOGIN" >/dev/null
psql -X -qAt -h "$TS_WORK" -p "$port" -U ts_intruder -d postgres -c "DROP DATABASE alpha" 2>"$TS_WORK/launcher-intruder.err"
[ $? != 0 ] && grep -q "must be owner of database alpha" "$TS_WORK/launcher-intruder.err"
ok $? "DROP DATABASE by a role that does not own it fails"
is "$(L -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = 'alpha' AND backend_type = 'troubleshooting dispatcher'")" "$apid" \
   "and alpha's dispatcher was not sent away (same pid)"
# a failed DROP DATABASE gives the database its workers back
L -d alpha -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
sleeper=$!
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'alpha' AND query LIKE '%pg_sleep(30)%' AND backend_type = 'client backend'" 1 30 L -d postgres
L -d postgres -c "DROP DATABASE alpha" 2>"$TS_WORK/launcher-drop.err"
[ $? != 0 ] && grep -q "is being accessed by other users" "$TS_WORK/launcher-drop.err"
ok $? "DROP DATABASE fails while a client is connected"
kill $sleeper 2>/dev/null; wait $sleeper 2>/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = 'alpha' AND backend_type LIKE 'troubleshooting%'" 2 30 L -d postgres
ok $? "and alpha gets its workers back"
L -d alpha -c "SELECT send_troubleshooting_notification('webhook', '$URL/from/alpha-again', NULL, '{\"type\": \"x\"}')" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent'" 2 30 L -d alpha
ok $? "alpha's dispatcher sends again"

# the outbound caps hold for the whole server: with dispatcher_concurrency = 2
# and an endpoint that answers after 1 s, no third request (of six, three per
# database) arrives within 0.9 s of the one two places before it; then the
# same for dispatcher_host_concurrency = 1 (no second request within 0.9 s)
# Checks that requests to paths starting $1 arrive at least 0.9 s after the one $2 places before.
spaced() {
    python3 - "$CAP/requests.jsonl" "$1" "$2" <<'PY'
import json, sys
t = sorted(json.loads(l)['time'] for l in open(sys.argv[1]) if json.loads(l)['path'].startswith(sys.argv[2]))
k = int(sys.argv[3])
gaps = [round(t[i + k] - t[i], 2) for i in range(len(t) - k)]
assert len(t) >= k + 2 and min(gaps) >= 0.9, (len(t), gaps)
print(gaps)
PY
}
# Enqueues $2 slow requests to paths $1/<db>/<n> in alpha and delta2, and waits until all are sent.
slow_sends() {
    for db in alpha delta2; do
        L -d $db -c "SELECT count(send_troubleshooting_notification('webhook', '$URL/_mode/slow-1000$1/$db/' || g, NULL, '{\"type\": \"x\"}'))
                     FROM generate_series(1, $2) g" >/dev/null
    done
    for db in alpha delta2; do
        wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status IN ('pending', 'sending')" 0 30 L -d $db || return 1
    done
}
# Sets dispatcher_concurrency $1 and dispatcher_host_concurrency $2 (reload),
# sends $4 slow requests per database to paths $3/..., and checks that each
# arrives at least 0.9 s after the one $5 places before it (TAP: $6).
cap_check() {
    L -d postgres -c "ALTER SYSTEM SET troubleshooting.dispatcher_concurrency = $1" \
      -c "ALTER SYSTEM SET troubleshooting.dispatcher_host_concurrency = $2" -c "SELECT pg_reload_conf()" >/dev/null
    wait_for "SELECT current_setting('troubleshooting.dispatcher_concurrency') || '/' || current_setting('troubleshooting.dispatcher_host_concurrency')" "$1/$2" 30 L -d postgres
    sleep 0.3   # (the dispatchers read the reload at their next loop, within milliseconds)
    slow_sends "$3" "$4"
    ok $? "$((2 * $4)) slow requests from two databases are sent with the caps at $1 and $2 per host"
    gaps=$(spaced "$3" "$5")
    ok $? "$6 (gaps $5 apart: $gaps)"
}
cap_check 2 16 /cap 3 2 "at most two are in flight at once on the server"
cap_check 10 1 /host 2 1 "one at a time reaches the host"
L -d postgres -c "ALTER SYSTEM RESET troubleshooting.dispatcher_concurrency" \
  -c "ALTER SYSTEM RESET troubleshooting.dispatcher_host_concurrency" -c "SELECT pg_reload_conf()" >/dev/null

# troubleshooting.database set: only the listed databases are served (reload, no restart)
L -d postgres -c "ALTER SYSTEM SET troubleshooting.database = 'delta2'" -c "SELECT pg_reload_conf()" >/dev/null
wait_workers "troubleshooting dispatcher:delta2 troubleshooting launcher:- troubleshooting maintenance:delta2"
ok $? "with troubleshooting.database = 'delta2' only delta2 is served"
L -d postgres -c "ALTER SYSTEM RESET troubleshooting.database" -c "SELECT pg_reload_conf()" >/dev/null
wait_workers "troubleshooting dispatcher:alpha troubleshooting dispatcher:delta2 troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:delta2"
ok $? "reset, every database with the extension is served again"

# DROP EXTENSION right after CREATE EXTENSION, while the new workers make
# their first rounds (a naptime of 10 ms): every drop succeeds, none
# deadlocks with a worker, and no worker logs an error about the tables
# that went away (their units of work share the extension's lock)
L -d postgres -c "ALTER SYSTEM SET troubleshooting.maintenance_naptime = 10" -c "SELECT pg_reload_conf()" \
  -c "CREATE DATABASE racing" >/dev/null
log_mark
drops=0
for i in $(seq 1 40); do
    L -d racing -c "SET client_min_messages = warning" -c "CREATE EXTENSION troubleshooting" >/dev/null || break
    sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
    L -d racing -c "DROP EXTENSION troubleshooting" >/dev/null 2>&1 && drops=$((drops + 1))
    L -d racing -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS troubleshooting" >/dev/null 2>&1
done
is "$drops" "40" "40 times CREATE then DROP EXTENSION while the workers start: every drop succeeds"
newlog | grep -c "deadlock detected" | grep -qx 0
ok $? "no deadlock between DROP EXTENSION and the workers"
newlog | grep -E "ERROR" | head -3 | sed 's/^/# /'
! newlog | grep -q "ERROR"
ok $? "no worker error about the dropped extension's objects"
L -d postgres -c "ALTER SYSTEM RESET troubleshooting.maintenance_naptime" -c "SELECT pg_reload_conf()" \
  -c "DROP DATABASE racing WITH (FORCE)" >/dev/null
wait_workers "troubleshooting dispatcher:alpha troubleshooting dispatcher:delta2 troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:delta2"
ok $? "the racing database's workers are gone"

# no free background worker slot: with max_worker_processes = 3 (the logical
# replication launcher, ours and one more) a database is logged and waits
L -d postgres -c "ALTER SYSTEM SET max_worker_processes = 3" >/dev/null
ts_cluster_stop "$DATA" && ts_cluster_start "$DATA"
ok $? "restarted with max_worker_processes = 3"
for i in $(seq 1 100); do grep -q 'no background worker slot for the' "$LOG" && break; sleep 0.1; done
grep -qE 'troubleshooting: no background worker slot for the (maintenance|dispatcher) of database "(alpha|delta2)"' "$LOG" &&
    grep -q 'HINT:  Raise max_worker_processes (each served database needs two slots)' "$LOG"
ok $? "a database without a free background worker slot is logged with a hint"
is "$(L -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%' OR backend_type = 'logical replication launcher'")" "3" \
   "all three slots are in use (the logical replication launcher, ours and the worker that got one)"

ts_cluster_stop "$DATA"
ok $? "the cluster stops"
ts_scan_logs <(echo "$LOG") /dev/null /nonexistent
ok $? "no crash in the log"
grep -E "ERROR|FATAL" "$LOG" | grep -v "is being accessed by other users\|must be owner of database\|canceling statement\|terminating background worker\|terminating connection due to administrator" | head -5 | sed 's/^/# /'
! grep -E "ERROR|FATAL" "$LOG" | grep -qv "is being accessed by other users\|must be owner of database\|canceling statement\|terminating background worker\|terminating connection due to administrator"
ok $? "no other error in the log"
done_testing
