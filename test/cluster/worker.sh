#!/usr/bin/env bash
# The maintenance worker: runs when preloaded, folds metric deltas into the
# rollups without changing any answer, survives errors without a crash loop,
# restarts after SIGTERM (the launcher starts a new one), and leaves when the
# extension is dropped; before CREATE EXTENSION only the launcher runs.
# One failing job (a RESTRICT foreign key stopping retention) stops only
# itself.  Every wait is on the event (or a reload that wakes the job), never
# on a schedule.  Uses the "postgres" database (the test cluster's
# troubleshooting.database).
. "$(dirname "$0")/tap.sh"


is "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting launcher'")" "1" \
   "the launcher runs (backend_type 'troubleshooting launcher')"
is "$(worker_pid maintenance)" "" "no maintenance worker before CREATE EXTENSION"
is "$(P -c "SHOW troubleshooting.database")" "postgres" "the cluster lists the postgres database"

# Waits up to 30 s for the server log to match extended regexp $1.
wait_log() { wait_until 30 grep -qE "$1" "$LOG"; }
# Waits until the maintenance worker has finished $1 (default 2) whole runs
# after this call (each run ends by reporting the worker idle).
wait_runs() {
    local since i n=0 want=${1:-2} last
    since=$(P -c "SELECT clock_timestamp()")
    for i in $(seq 1 150); do
        last=$(P -c "SELECT state_change FROM pg_stat_activity WHERE backend_type = 'troubleshooting maintenance'
                     AND state = 'idle' AND state_change > '$since'")
        if [ -n "$last" ]; then n=$((n + 1)); since=$last; [ $n -ge "$want" ] && return 0; fi
        sleep 0.1
    done
    return 1
}

P -c "CREATE EXTENSION troubleshooting" >/dev/null
wait_log 'troubleshooting maintenance worker started in database "postgres"'
ok $? "CREATE EXTENSION starts the worker; its start is logged"
pid=$(worker_pid maintenance)
[ -n "$pid" ]
ok $? "worker runs (backend_type 'troubleshooting maintenance')"
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
# (a reload starts retention at once: the wait never depends on the schedule)
P -c "SELECT set_troubleshooting_config('cleanup_interval_minutes', '1')" -c "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE 'gone-%'" "0"
ok $? "the worker deletes sessions past retention"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE 'idle-%' OR session_id LIKE 'ts-%'" | awk '{print ($1 > 0)}')" \
   "1" "and keeps the rest"

# one failing job stops only itself: a user's RESTRICT foreign key makes
# retention fail, yet deltas are folded and idle sessions time out
P -c "INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
      VALUES ('held-1', 'resolved', now() - interval '3 years', now() - interval '3 years')" \
  -c "CREATE TABLE public.user_case (session_id text REFERENCES support_troubleshooting_sessions (session_id) ON DELETE RESTRICT)" \
  -c "INSERT INTO public.user_case VALUES ('held-1')" \
  -c "SELECT pg_reload_conf()" >/dev/null
wait_log 'ERROR: .*violates foreign key constraint.*user_case'
ok $? "retention fails on the RESTRICT foreign key"
wait_log 'troubleshooting maintenance job "retention"'
ok $? "the failure is logged with the job's name"
P -c "INSERT INTO support_troubleshooting_sessions (session_id, detected_problem_id, started_at, last_activity_at)
      VALUES ('idle-2', 'printer_jam', now() - interval '2 hours', now() - interval '31 minutes')" >/dev/null
wait_for "SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'idle-2'" "timed_out"
ok $? "idle sessions still time out"
wait_for "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "deltas are still folded"
is "$(P -c "SELECT sum(sessions) FROM ts_metrics_problem_hourly WHERE problem = 'printer_jam'")" "1" "the new session is in the rollups"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id = 'held-1'")" "1" "the held session is kept"
P -c "DELETE FROM public.user_case" -c "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id = 'held-1'" "0"
ok $? "retention succeeds on a later run once the row is gone"
P -c "DROP TABLE public.user_case" >/dev/null

# an error in a run is logged, the worker keeps its pid and recovers
pid=$(worker_pid maintenance)
P -c "ALTER TABLE ts_metrics_problem_hourly RENAME TO ts_metrics_problem_hourly_away" >/dev/null
P -c "INSERT INTO support_troubleshooting_sessions (session_id, detected_problem_id) VALUES ('w-err', 'wifi_drops')" >/dev/null
wait_log 'ERROR:  relation ".*ts_metrics_problem_hourly" does not exist'
ok $? "a failing run is logged as an error"
is "$(worker_pid maintenance)" "$pid" "the worker did not crash or restart"
is "$(P -c "SELECT count(*) > 0 FROM ts_metrics_delta")" "t" "the failed run folded nothing"
# (the reload ends the failed job's back-off: the wait never depends on it)
P -c "ALTER TABLE ts_metrics_problem_hourly_away RENAME TO ts_metrics_problem_hourly" -c "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "it folds again once the error is gone"

# SIGTERM: the launcher starts a new one
kill -TERM "$pid"
for i in $(seq 1 50); do
    new=$(worker_pid maintenance)
    [ -n "$new" ] && [ "$new" != "$pid" ] && break
    sleep 0.2
done
[ -n "$new" ] && [ "$new" != "$pid" ]
ok $? "restarted after SIGTERM"

# dropping the extension under it is harmless: the workers leave (a job
# running at the moment of the drop may log an error; none comes after)
P -c "DROP EXTENSION troubleshooting; DROP SCHEMA ts_ref CASCADE" >/dev/null 2>&1
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('troubleshooting maintenance', 'troubleshooting dispatcher')" 0
ok $? "the maintenance worker and the dispatcher leave after DROP EXTENSION"
wait_log 'troubleshooting maintenance worker exits: no extension in database "postgres"'
ok $? "the maintenance worker logs why it leaves"
before=$(grep -c ERROR "$LOG")
# three launcher rounds (one a second): none starts them again
started=0
for i in $(seq 1 30); do
    n=$(P -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('troubleshooting maintenance', 'troubleshooting dispatcher')")
    [ "$n" != 0 ] && started=1
    sleep 0.1
done
is "$started" "0" "the launcher does not start them again while the extension is absent"
is "$(grep -c ERROR "$LOG")" "$before" "no error once they are gone"
is "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting launcher'")" "1" "the launcher still runs"
done_testing
