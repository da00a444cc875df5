#!/usr/bin/env bash
# bench/citus_bench.sh: the same reads on a three-node Citus cluster and on a
# single server holding the same rows.
#
#   bash bench/citus_bench.sh                        # 1M sessions
#   TS_BENCH_SESSIONS=200000 bash bench/citus_bench.sh
#   TS_BENCH_OUT=path ...                            # write the results there
#
# One run: a single server and a coordinator with two workers, all on
# loopback on this machine, each node with the same settings.  The sessions
# (with attempts, feedback and ML rows, bench/generate_data.sql) are loaded
# into the single server with the row triggers off and copied, table by
# table, into the Citus cluster after distribute_troubleshooting_tables(),
# triggers off there too; both build their rollups with
# rebuild_troubleshooting_metrics().  Then, on each, the median ms of
# TS_BENCH_RUNS calls of: metrics by day over the year, by hour over the last
# week, realtime, and an uncached monthly report.  The ratio is the Citus time
# over the single-server time, measured in the same run.  Results go to
# bench/results/citus-<date>.md.  Citus must be installed
# (test/citus_cluster.sh's ts_citus_install builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
. test/citus_cluster.sh

TOTAL=${TS_BENCH_SESSIONS:-1000000}
RUNS=${TS_BENCH_RUNS:-5}
bench_results "${TS_BENCH_OUT:-bench/results/citus-$(date -u +%Y-%m-%d).md}"

ts_install_deps
ts_citus_install
ts_build_install
bench_work /tmp/ts-cbench.XXXXXX 56700
CONF="$(bench_bulk_conf 2GB 8GB)
troubleshooting.database = 'postgres'"
bench_cluster "$CONF"
CPORT=$(ts_free_port $((PGPORT + 10)))
TS_CITUS_EXTRA_CONF=$CONF ts_citus_up "$WORK/citus" "$CPORT" 3
trap 'ts_citus_down "$WORK/citus"; bench_cleanup' EXIT
S() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }   # the single server
S -c "CREATE EXTENSION troubleshooting" >/dev/null

for run in S "CN 0"; do
    # keep every row for the bench: no retention, no timeouts
    $run -c "SET client_min_messages = warning" \
         -c "SELECT set_troubleshooting_config(k, '0') FROM unnest(ARRAY['retention_days_sessions',
               'retention_days_notifications', 'retention_days_ml_training', 'cleanup_interval_minutes',
               'default_timeout_minutes', 'max_session_duration_hours']) k" >/dev/null
done
CN 0 -c "SELECT count(*) FROM distribute_troubleshooting_tables()" >/dev/null

TABLES="support_troubleshooting_sessions support_troubleshooting_attempts support_troubleshooting_feedback
support_troubleshooting_ml_training"
echo "== loading $TOTAL sessions into the single server ($(date -u +%H:%M:%S))"
bench_triggers postgres DISABLE USER
from=0
while [ "$from" -lt "$TOTAL" ]; do
    c=$((TOTAL - from < 250000 ? TOTAL - from : 250000))
    bench_generate postgres "$c" 365 0 "0.$((from / 250000 + 1))" "b$((from / 250000 + 1))"
    from=$((from + c))
done
bench_triggers postgres ENABLE USER
echo "== copying them into the Citus cluster ($(date -u +%H:%M:%S))"
# (Citus changes the triggers of distributed tables only with enable_unsafe_triggers)
for t in $TABLES; do CN 0 -c "SET citus.enable_unsafe_triggers = on" -c "ALTER TABLE $t DISABLE TRIGGER USER" >/dev/null; done
for t in $TABLES; do
    S -c "COPY $t TO STDOUT" | CN 0 -c "COPY $t FROM STDIN"
done
for t in $TABLES; do CN 0 -c "SET citus.enable_unsafe_triggers = on" -c "ALTER TABLE $t ENABLE TRIGGER USER" >/dev/null; done
echo "== building the rollups ($(date -u +%H:%M:%S))"
for run in S "CN 0"; do
    $run -c "SET work_mem = '1GB'" -c "SELECT rebuild_troubleshooting_metrics()" >/dev/null
    $run -c "VACUUM ANALYZE" >/dev/null
    $run -f bench/time_ms.sql >/dev/null
done
echo "== measuring ($(date -u +%H:%M:%S))"

same=$( [ "$(S -At -c "SELECT count(*), sum(total_steps) FROM support_troubleshooting_sessions")" = \
          "$(CN 0 -c "SELECT count(*), sum(total_steps) FROM support_troubleshooting_sessions")" ] && echo yes || echo NO)
sessions=$(S -At -c "SELECT count(*) FROM support_troubleshooting_sessions")
attempts=$(S -At -c "SELECT count(*) FROM support_troubleshooting_attempts")
log "# Citus benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(S -At -c 'SHOW server_version'), Citus $(CN 0 -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"))"
log ""
log "Command: \`bash bench/citus_bench.sh\` (TS_BENCH_SESSIONS=$TOTAL, TS_BENCH_RUNS=$RUNS)."
log "$sessions sessions, $attempts attempts; the same rows on both (counts and sums compared: $same)."
log "Single server: one cluster. Citus: a coordinator and two workers (32 shards per distributed table),"
log "all on this one machine on loopback, each node with the single server's settings. Median ms of $RUNS calls"
log "after a warm-up, measured in this run; ratio = Citus / single server (below 1: Citus is faster)."
log ""
log "| call | single server ms | Citus ms | ratio |"
log "|---|---|---|---|"
while IFS='|' read -r name call; do
    a=$(S -At -c "SELECT bench.time_ms(\$q\$$call\$q\$, $RUNS)")
    b=$(CN 0 -c "SELECT bench.time_ms(\$q\$$call\$q\$, $RUNS)")
    log "| $name | $a | $b | $(awk "BEGIN { printf \"%.2f\", $b / $a }") |"
done <<'CASES'
metrics by day, last 365 days|SELECT count(*) FROM get_troubleshooting_metrics_by_period('day', now() - interval '365 days', now())
metrics by hour, last 7 days|SELECT count(*) FROM get_troubleshooting_metrics_by_period('hour', now() - interval '7 days', now())
realtime|SELECT get_troubleshooting_realtime_metrics()
monthly report, uncached|SELECT generate_troubleshooting_report('monthly', p_force => true)
plain count of the sessions|SELECT count(*) FROM support_troubleshooting_sessions
CASES
log ""
log "On one machine the three nodes share its $(nproc) cores: the numbers show what distribution costs"
log "(planning, connections, two-phase commit) rather than what more machines gain."
bench_finish
