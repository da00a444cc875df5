#!/usr/bin/env bash
# The launcher on a cluster of its own where troubleshooting.database is
# unset: every database with the extension gets its maintenance worker and
# dispatcher.  Two databases are served at once (a notification from each
# reaches the loopback capture server, metric deltas are folded in each);
# CREATE EXTENSION in a third database starts its workers within seconds,
# DROP EXTENSION stops them, DROP DATABASE is not blocked by them, a
# database without the extension gets none, and with
# troubleshooting.max_databases reached the next database is logged and
# waits.  Every wait polls the event it waits for.
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

# Waits up to 30 s until SQL $2 in database $1 returns $3.
wait_for() {
    local i
    for i in $(seq 1 300); do
        [ "$(L -d "$1" -c "$2" 2>/dev/null)" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# The troubleshooting workers (backend type: database) running now, sorted.
workers() {
    L -d postgres -c "SELECT coalesce(string_agg(backend_type || ':' || coalesce(datname, '-'), ' ' ORDER BY backend_type, datname), '')
                      FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'"
}
wait_workers() {
    local i
    for i in $(seq 1 300); do [ "$(workers)" = "$1" ] && return 0; sleep 0.1; done
    return 1
}

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
wait_for alpha "SELECT string_agg(status, ',') FROM support_troubleshooting_notifications" "sent"
ok $? "alpha's notification is sent"
wait_for beta "SELECT string_agg(status, ',') FROM support_troubleshooting_notifications" "sent"
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
wait_for alpha "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "alpha's metric deltas are folded"
wait_for beta "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "beta's metric deltas are folded"
is "$(L -d beta -c "SELECT sum(sessions) FROM ts_metrics_hourly")" "7" "beta's rollup holds its 7 sessions"

# a database without the extension gets no workers; CREATE EXTENSION there starts them within seconds
L -d postgres -c "CREATE DATABASE gamma" >/dev/null
sleep 1.5
is "$(workers)" "troubleshooting dispatcher:alpha troubleshooting dispatcher:beta troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:beta" \
   "a new database without the extension gets no workers"
t0=$(date +%s%N)
L -d gamma -c "CREATE EXTENSION troubleshooting" >/dev/null
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gamma' AND backend_type LIKE 'troubleshooting%'" 2
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
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gamma' AND backend_type LIKE 'troubleshooting%'" 0
ok $? "DROP EXTENSION stops gamma's workers"
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'delta' AND backend_type LIKE 'troubleshooting%'" 2
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
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'delta2' AND backend_type LIKE 'troubleshooting%'" 2
ok $? "the renamed database gets its workers back"
# a failed DROP DATABASE gives the database its workers back
L -d alpha -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
sleeper=$!
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'alpha' AND query LIKE '%pg_sleep(30)%' AND backend_type = 'client backend'" 1
L -d postgres -c "DROP DATABASE alpha" 2>"$TS_WORK/launcher-drop.err"
[ $? != 0 ] && grep -q "is being accessed by other users" "$TS_WORK/launcher-drop.err"
ok $? "DROP DATABASE fails while a client is connected"
kill $sleeper 2>/dev/null; wait $sleeper 2>/dev/null
wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'alpha' AND backend_type LIKE 'troubleshooting%'" 2
ok $? "and alpha gets its workers back"
L -d alpha -c "SELECT send_troubleshooting_notification('webhook', '$URL/from/alpha-again', NULL, '{\"type\": \"x\"}')" >/dev/null
wait_for alpha "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent'" 2
ok $? "alpha's dispatcher sends again"

# troubleshooting.database set: only the listed databases are served (reload, no restart)
L -d postgres -c "ALTER SYSTEM SET troubleshooting.database = 'delta2'" -c "SELECT pg_reload_conf()" >/dev/null
wait_workers "troubleshooting dispatcher:delta2 troubleshooting launcher:- troubleshooting maintenance:delta2"
ok $? "with troubleshooting.database = 'delta2' only delta2 is served"
L -d postgres -c "ALTER SYSTEM RESET troubleshooting.database" -c "SELECT pg_reload_conf()" >/dev/null
wait_workers "troubleshooting dispatcher:alpha troubleshooting dispatcher:delta2 troubleshooting launcher:- troubleshooting maintenance:alpha troubleshooting maintenance:delta2"
ok $? "reset, every database with the extension is served again"

ts_cluster_stop "$DATA"
ok $? "the cluster stops"
ts_scan_logs <(echo "$LOG") /dev/null /nonexistent
ok $? "no crash in the log"
grep -E "ERROR|FATAL" "$LOG" | grep -v "is being accessed by other users\|canceling statement\|terminating background worker\|terminating connection due to administrator" | head -5 | sed 's/^/# /'
! grep -E "ERROR|FATAL" "$LOG" | grep -qv "is being accessed by other users\|canceling statement\|terminating background worker\|terminating connection due to administrator"
ok $? "no other error in the log"
done_testing
