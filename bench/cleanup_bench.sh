#!/usr/bin/env bash
# bench/cleanup_bench.sh: retention cleanup at scale, next to live writers.
#
#   bash bench/cleanup_bench.sh                               # 10M sessions, 5M expired (~25 min)
#   TS_BENCH_SESSIONS=1000000 bash bench/cleanup_bench.sh     # smaller
#
# Starts its own cluster (postgres user, loopback, library preloaded), loads
# half the sessions (with attempts, feedback, ML rows) over a year ending 400
# days ago and half over the last year, then, in one run:
#   - baseline: a plain DELETE of 100,000 expired sessions (foreign keys
#     cascade, row triggers fire), rolled back;
#   - CALL run_troubleshooting_cleanup() with the configured retention (365
#     days), committing after every batch, while pgbench runs the agent's
#     writes (new sessions, attempts, feedback) at a fixed rate;
#   - rows/s, the longest cleanup transaction (sampled from pg_stat_activity
#     every 10 ms: no lock of the cleanup lives longer), writer latency with
#     and without the cleanup, and lock waits over 100 ms (log_lock_waits
#     with deadlock_timeout = 100ms logs each one);
#   - the metrics still equal the plain GROUP BY reference afterwards.
# Results go to bench/results/cleanup-<date>.md and to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

TOTAL=${TS_BENCH_SESSIONS:-10000000}
CHUNK=${TS_BENCH_CHUNK:-1000000}
RATE=${TS_BENCH_RATE:-100}
ts_install_deps
ts_build_install

bench_work /tmp/ts-bench.XXXXXX 56432
bench_cluster "$(bench_bulk_conf 4GB 16GB)
log_lock_waits = on
deadlock_timeout = 100ms
troubleshooting.database = 'bench_clean'"

P() { psql -X -q -v ON_ERROR_STOP=1 -d bench_clean "$@"; }
bench_results "bench/results/cleanup-$(date -u +%Y-%m-%d).md"

psql -X -q -d postgres -c "CREATE DATABASE bench_clean"
P -c "CREATE EXTENSION troubleshooting" -c "CREATE SEQUENCE pb_seq" -f test/fixtures/metrics_reference.sql
# the worker's own retention runs stay off: this run times the procedure
P -c "SELECT set_troubleshooting_config('cleanup_interval_minutes', '0')" >/dev/null

# Loads sessions in chunks with the delta triggers off (the bulk path): half
# over the year ending 400 days ago (past retention), half over the last year.
echo "== loading $TOTAL sessions"
bench_triggers bench_clean DISABLE ts_metrics_delta
from=0 k=0
# each chunk covers its own slice of the year, oldest first, so that ids
# grow with time as they do when sessions are recorded as they happen
half=$((TOTAL / 2))
per_half=$(( (half + CHUNK - 1) / CHUNK ))
while [ "$from" -lt "$TOTAL" ]; do
    n=$((TOTAL - from < CHUNK ? TOTAL - from : CHUNK))
    k=$((k + 1))
    if [ "$from" -lt "$half" ]; then base=400; j=$(( from / CHUNK )); else base=0; j=$(( (from - half) / CHUNK )); fi
    days=$(awk "BEGIN { print 365 / $per_half }")
    offset=$(awk "BEGIN { print $base + ($per_half - 1 - $j) * 365 / $per_half }")
    bench_generate bench_clean "$n" "$days" "$offset" "$(awk "BEGIN { print $k / 1000 }")" "c$k"
    from=$((from + n))
    echo "   loaded $from sessions ($(date -u +%H:%M:%S))"
done
bench_triggers bench_clean ENABLE ts_metrics_delta
bench_rebuild bench_clean
read -r s0 a0 f0 m0 expired < <(P -At -F ' ' -c "
SELECT (SELECT count(*) FROM support_troubleshooting_sessions), (SELECT count(*) FROM support_troubleshooting_attempts),
       (SELECT count(*) FROM support_troubleshooting_feedback), (SELECT count(*) FROM support_troubleshooting_ml_training),
       (SELECT count(*) FROM support_troubleshooting_sessions WHERE status IN ('resolved', 'escalated', 'abandoned', 'timed_out')
          AND coalesce(ended_at, last_activity_at) < now() - interval '365 days')")
echo "   $s0 sessions, $a0 attempts, $f0 feedback, $m0 ML rows; $expired sessions past retention"

# baseline: a plain DELETE (cascading foreign keys, row triggers), rolled back
read -r bs bc bms < <(P -At -F ' ' <<'SQL'
CREATE TEMP TABLE b AS SELECT id, session_id FROM support_troubleshooting_sessions
WHERE status IN ('resolved', 'escalated', 'abandoned', 'timed_out') AND coalesce(ended_at, last_activity_at) < now() - interval '365 days'
ORDER BY id LIMIT 100000;
SELECT clock_timestamp() AS t0 \gset
BEGIN;
DELETE FROM support_troubleshooting_ml_training WHERE session_id IN (SELECT session_id FROM b) AND NOT use_for_training;
DELETE FROM support_troubleshooting_sessions WHERE id IN (SELECT id FROM b);
SELECT clock_timestamp() AS t1 \gset
ROLLBACK;
SELECT (SELECT count(*) FROM b),
       (SELECT count(*) FROM b) + (SELECT count(*) FROM support_troubleshooting_attempts WHERE session_id IN (SELECT session_id FROM b))
       + (SELECT count(*) FROM support_troubleshooting_feedback WHERE session_id IN (SELECT session_id FROM b))
       + (SELECT count(*) FROM support_troubleshooting_ml_training WHERE session_id IN (SELECT session_id FROM b) AND NOT use_for_training),
       round(extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz) * 1000);
SQL
)
echo "   baseline plain DELETE: $bs sessions, $bc rows in $bms ms"

# the agent's writes
cat > "$WORK/agent.sql" <<'SQL'
\set p random(1, 11)
SELECT nextval('pb_seq') AS n \gset
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, detected_problem_id, status) VALUES ('pb-' || :n, 'pgbench@example.com', 'problem_' || :p, 'in_progress');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('pb-' || :n, 1, false);
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('pb-' || :n, 2, true);
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'pb-' || :n;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score) VALUES ('pb-' || :n, 5, 9);
SQL
chmod 644 "$WORK/agent.sql"
P -c "SELECT set_troubleshooting_config('feedback_collection_enabled', 'false')" >/dev/null
# pgbench for $2 seconds at RATE tx/s, per-transaction log under prefix $1
writers() { ts_as_postgres pgbench -n -c 4 -j 2 -R "$RATE" -T "$2" -l --log-prefix="$1" -f "$WORK/agent.sql" bench_clean >/dev/null 2>&1; }
# latency p50, p99, max (ms) and tx count over the logs with prefix $1,
# transactions ending between epoch seconds $2 and $3 (default: all)
latency() {
    cat "$1"* | awk -v lo="${2:-0}" -v hi="${3:-1e12}" '$5 >= lo && $5 <= hi {print $3 / 1000}' | sort -n |
        awk '{a[NR] = $1} END { if (NR == 0) { print "0 0 0 0"; exit }
                               printf "%.2f %.2f %.2f %d\n", a[int(NR * 0.5) + (NR < 2)], a[int(NR * 0.99) + (NR < 100)], a[NR], NR }'
}

echo "== writers alone (20 s at $RATE tx/s)"
writers "$WORK/alone" 20
read -r l50 l99 lmax ln < <(latency "$WORK/alone")
waits0=$(grep -c "still waiting for" "$DATA/server.log" || true)

echo "== cleanup with writers"
# the longest cleanup transaction, sampled every 10 ms (one short transaction per sample)
( psql -X -q -At -d bench_clean > "$WORK/sampler.out" 2>&1 <<'SQL'
CREATE TEMP TABLE longest (ms numeric);
INSERT INTO longest VALUES (0);
DO $$
DECLARE a numeric; seen boolean := false;
BEGIN
    FOR i IN 1..10000000 LOOP
        SELECT extract(epoch FROM clock_timestamp() - xact_start) * 1000 INTO a
        FROM pg_stat_activity WHERE application_name = 'ts_cleanup_bench';
        IF a IS NOT NULL THEN
            seen := true;
            UPDATE longest SET ms = greatest(ms, a);
        ELSIF seen THEN
            EXIT;
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT round(ms, 1) FROM longest;
SQL
) &
sampler=$!
( i=0; while [ ! -f "$WORK/cleanup.done" ]; do i=$((i + 1)); writers "$WORK/during$i" 5; done ) &
wr=$!
sleep 2
t0=$(date +%s.%N)
PGAPPNAME=ts_cleanup_bench psql -X -q -v ON_ERROR_STOP=1 -d bench_clean -c "CALL run_troubleshooting_cleanup()" 2> "$WORK/cleanup.err"
t1=$(date +%s.%N)
touch "$WORK/cleanup.done"
wait $sampler $wr
longest=$(tail -1 "$WORK/sampler.out")
batches=$(grep -c "rows deleted so far" "$WORK/cleanup.err" || true)
detail=$(grep "^DETAIL" "$WORK/cleanup.err")
echo "   $detail"
read -r ds da df dm < <(echo "$detail" | sed 's/[^0-9 ]//g' | awk '{print $1, $2, $3, $6}')
read -r d50 d99 dmax dn < <(latency "$WORK/during" "$t0" "$t1")
waits=$(( $(grep -c "still waiting for" "$DATA/server.log" || true) - waits0 ))
secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")

echo "== checking the metrics against the reference"
P -c "SELECT refresh_troubleshooting_metrics()" >/dev/null
mism=$(P -At -c "SELECT count(*) FROM (
    (SELECT * FROM get_troubleshooting_metrics_by_period('day', now() - interval '800 days', now())
     EXCEPT ALL SELECT * FROM ts_ref.metrics_by_period('day', now() - interval '800 days', now()))
    UNION ALL
    (SELECT * FROM ts_ref.metrics_by_period('day', now() - interval '800 days', now())
     EXCEPT ALL SELECT * FROM get_troubleshooting_metrics_by_period('day', now() - interval '800 days', now()))) x")
left=$(P -At -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE status IN ('resolved', 'escalated', 'abandoned', 'timed_out')
          AND coalesce(ended_at, last_activity_at) < now() - interval '365 days'")
orphans=$(P -At -c "SELECT count(*) FROM support_troubleshooting_attempts a WHERE NOT EXISTS
          (SELECT 1 FROM support_troubleshooting_sessions s WHERE s.session_id = a.session_id)")

rows=$((ds + da + df + dm))
rate() { awk "BEGIN { printf \"%.0f\", $1 / $2 }"; }
base_rate=$(awk "BEGIN { printf \"%.0f\", $bc / ($bms / 1000) }")
clean_rate=$(rate "$rows" "$secs")
log "# Cleanup benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -At -c 'SHOW server_version'))"
log ""
log "Command: \`bash bench/cleanup_bench.sh\` (TS_BENCH_SESSIONS=$TOTAL). Before: $s0 sessions, $a0 attempts,"
log "$f0 feedback, $m0 ML rows; $expired sessions past the 365-day retention."
log ""
log "| | sessions | rows incl. attempts, feedback, ML | seconds | rows/s | sessions/s |"
log "|---|---|---|---|---|---|"
log "| baseline: plain DELETE, FK cascade (100k sessions, rolled back) | $bs | $bc | $(awk "BEGIN { printf \"%.2f\", $bms / 1000 }") | $base_rate | $(awk "BEGIN { printf \"%.0f\", $bs / ($bms / 1000) }") |"
log "| CALL run_troubleshooting_cleanup(), writers running | $ds | $rows | $secs | $clean_rate | $(rate "$ds" "$secs") |"
log ""
log "Speed-up over the plain DELETE: $(awk "BEGIN { printf \"%.1f\", $clean_rate / $base_rate }")x."
log "Deleted: $ds sessions, $da attempts, $df feedback, $dm ML rows in $batches batches of 10,000 sessions."
log "Longest cleanup transaction (so the longest any of its locks was held): $longest ms."
log ""
log "Writers (pgbench -c 4 -R $RATE: new session, 2 attempts, resolve, feedback):"
log ""
log "| | transactions | p50 ms | p99 ms | max ms |"
log "|---|---|---|---|---|"
log "| alone (20 s) | $ln | $l50 | $l99 | $lmax |"
log "| during the cleanup | $dn | $d50 | $d99 | $dmax |"
log ""
log "Lock waits over 100 ms during the cleanup (log_lock_waits, deadlock_timeout = 100ms): $waits."
log "Afterwards: $left expired sessions left, $orphans orphan attempts, $mism day rows differing from the reference over 800 days."
bench_finish
