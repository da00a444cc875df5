#!/usr/bin/env bash
# The maintenance worker: runs when preloaded, folds metric deltas into the
# rollups without changing any answer, survives errors without a crash loop,
# restarts after SIGTERM, and idles while the extension is absent.
# Uses the "postgres" database (troubleshooting.database's default).
. "$(dirname "$0")/tap.sh"

P() { q -d postgres "$@"; }
LOG=$TS_WORK/main/server.log
worker_pid() { P -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'troubleshooting maintenance'"; }
# Waits up to 15 s for SQL $1 to return $2.
wait_for() {
    local i
    for i in $(seq 1 150); do
        [ "$(P -c "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

pid=$(worker_pid)
[ -n "$pid" ]
ok $? "worker runs (backend_type 'troubleshooting maintenance')"
is "$(P -c "SHOW troubleshooting.database")" "postgres" "it serves troubleshooting.database"

# idle while the extension is absent: nothing but its start in the log
sleep 0.5
grep -q "troubleshooting maintenance worker started" "$LOG"
ok $? "start logged"

P -c "CREATE EXTENSION troubleshooting" >/dev/null
q -d postgres -f test/fixtures/metrics_reference.sql >/dev/null
q -d postgres -v sessions=800 -v days=10 -f bench/generate_data.sql >/dev/null
ok $? "sample data loaded"
wait_for "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "the worker drains the delta log"
is "$(P -c "SELECT sum(sessions) FROM ts_metrics_hourly")" "800" "every session is in the rollups"
is "$(P -c "SELECT count(*) FROM (SELECT * FROM get_troubleshooting_metrics_by_period('hour', now() - interval '11 days', now())
                                  EXCEPT ALL SELECT * FROM ts_ref.metrics_by_period('hour', now() - interval '11 days', now())) d")" \
   "0" "answers after folding equal the reference"

# idle sessions time out without anyone calling anything
P -c "INSERT INTO support_troubleshooting_sessions (session_id, started_at, last_activity_at)
      VALUES ('idle-1', now() - interval '2 hours', now() - interval '31 minutes')" >/dev/null
wait_for "SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'idle-1'" "timed_out"
ok $? "the worker times out a session idle past default_timeout_minutes"

# retention runs on its schedule, a batch per short transaction
P -c "INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
      SELECT 'gone-' || g, 'resolved', now() - interval '3 years', now() - interval '3 years'
      FROM generate_series(1, 25000) g" >/dev/null
P -c "SELECT set_troubleshooting_config('cleanup_interval_minutes', '1')" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE 'gone-%'" "0"
ok $? "the worker deletes sessions past retention"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE 'idle-%' OR session_id LIKE 'ts-%'" | awk '{print ($1 > 0)}')" \
   "1" "and keeps the rest"

# an error in a run is logged, the worker keeps its pid and recovers
pid=$(worker_pid)
P -c "ALTER TABLE ts_metrics_problem_hourly RENAME TO ts_metrics_problem_hourly_away" >/dev/null
P -c "INSERT INTO support_troubleshooting_sessions (session_id, detected_problem_id) VALUES ('w-err', 'wifi_drops')" >/dev/null
sleep 1
grep -q 'ERROR:  relation ".*ts_metrics_problem_hourly" does not exist' "$LOG"
ok $? "a failing run is logged as an error"
is "$(worker_pid)" "$pid" "the worker did not crash or restart"
is "$(P -c "SELECT count(*) > 0 FROM ts_metrics_delta")" "t" "the failed run folded nothing"
P -c "ALTER TABLE ts_metrics_problem_hourly_away RENAME TO ts_metrics_problem_hourly" >/dev/null
wait_for "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "it folds again once the error is gone"

# SIGTERM: the postmaster starts a new one
kill -TERM "$pid"
for i in $(seq 1 50); do
    new=$(worker_pid)
    [ -n "$new" ] && [ "$new" != "$pid" ] && break
    sleep 0.2
done
[ -n "$new" ] && [ "$new" != "$pid" ]
ok $? "restarted after SIGTERM"

# dropping the extension under it is harmless
P -c "DROP EXTENSION troubleshooting; DROP SCHEMA ts_ref CASCADE" >/dev/null 2>&1
sleep 0.5
before=$(grep -c ERROR "$LOG")
sleep 1.5
is "$(grep -c ERROR "$LOG")" "$before" "the workers idle without errors once the extension is gone"
is "$(worker_pid | grep -c .)" "1" "still one worker"
done_testing
