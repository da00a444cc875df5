#!/usr/bin/env bash
# bench/report_bench.sh: uncached reports at scale, and how they hold as history doubles.
#
#   bash bench/report_bench.sh                 # 5M sessions over the last year, measure;
#                                              # 5M more over the year before, measure again
#   TS_BENCH_SESSIONS=1000000 bash bench/report_bench.sh    # a smaller total (half per phase)
#   TS_BENCH_REUSE=/path/to/sockdir TS_BENCH_PORT=5432 TS_BENCH_DB=bench bash bench/report_bench.sh
#                                              # measure once on a cluster already loaded
#   TS_BENCH_FILTERS=0 ...                     # without the filtered monthly reports
#   TS_BENCH_OUT=path ...                      # write the results there
#
# Each phase loads sessions with attempts and feedback (bench/generate_data.sql,
# TS_BENCH_JOBS loaders at once) with the extension's row triggers off, builds
# the rollups with rebuild_troubleshooting_metrics(), then measures, in one run:
#   - the median server-side ms of generate_troubleshooting_report(type, p_force => true)
#     (uncached) for monthly, weekly, daily, problem_analysis, customer_satisfaction
#     and a custom report of the last 90 days, each next to the plain-SQL summary of
#     the same period (ts_ref.report_summary from test/fixtures/report_reference.sql);
#   - at the full size, the monthly report under each kind of filter;
#   - the storage of the rollups next to the base tables.
# Results go to bench/results/reports-<date>.md and to stdout.  The write cost of
# the rollups is measured by TS_BENCH_PHASES=write bash bench/metrics_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

TOTAL=${TS_BENCH_SESSIONS:-10000000}
CHUNK=${TS_BENCH_CHUNK:-1000000}
JOBS=${TS_BENCH_JOBS:-2}
RUNS=${TS_BENCH_RUNS:-5}
P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
bench_results "${TS_BENCH_OUT:-bench/results/reports-$(date -u +%Y-%m-%d).md}"

if [ -n "${TS_BENCH_REUSE:-}" ]; then
    export PGHOST=$TS_BENCH_REUSE PGPORT=${TS_BENCH_PORT:-5432} PGUSER=postgres
    DB=${TS_BENCH_DB:-bench}
else
    ts_install_deps
    ts_build_install
    bench_work /tmp/ts-rbench.XXXXXX 56532
    bench_cluster "$(bench_bulk_conf 4GB 16GB)
troubleshooting.database = 'postgres'"
    # the workers serve database postgres, not bench: the maintenance worker's
    # retention would otherwise delete the older year while the bench runs
    DB=bench
    P -d postgres -c "CREATE DATABASE bench"
    P -d bench -c "CREATE EXTENSION troubleshooting"
fi

# Loads n sessions over the year that ends offset days ago, TS_BENCH_JOBS chunks at once,
# with the row triggers off; then builds every rollup from the raw rows.
load() {
    local n=$1 offset=$2 from=0 k
    bench_triggers "$DB" DISABLE USER
    while [ "$from" -lt "$n" ]; do
        local pids=()
        for _ in $(seq 1 "$JOBS"); do
            [ "$from" -lt "$n" ] || break
            local c=$((n - from < CHUNK ? n - from : CHUNK))
            k=$((LOADED_CHUNKS += 1))
            bench_generate "$DB" "$c" 365 "$offset" "0.$k" "r$k" &
            pids+=($!)
            from=$((from + c))
        done
        for p in "${pids[@]}"; do wait "$p"; done
        echo "   loaded $from of $n sessions ($(date -u +%H:%M:%S))"
    done
    bench_triggers "$DB" ENABLE USER
    echo "   rebuilding the rollups ($(date -u +%H:%M:%S))"
    P -d "$DB" -c "SET work_mem = '1GB'" -c "SELECT rebuild_troubleshooting_metrics()" >/dev/null
    # what autovacuum does to the delta tables the rebuild emptied (their thresholds are low)
    P -d "$DB" -c "VACUUM ANALYZE ts_metrics_delta, ts_report_delta, ts_metrics_hourly, ts_metrics_problem_hourly,
                   ts_report_sessions_hourly, ts_report_attempts_hourly, ts_report_feedback_hourly" \
      -c "ANALYZE support_troubleshooting_sessions, support_troubleshooting_attempts, support_troubleshooting_feedback" \
      -c "CHECKPOINT" >/dev/null
    echo "   ready ($(date -u +%H:%M:%S))"
}
LOADED_CHUNKS=0

P -d "$DB" -c "SET client_min_messages = warning" -f test/fixtures/metrics_reference.sql \
  -f test/fixtures/report_reference.sql >/dev/null
P -d "$DB" -f bench/time_ms.sql >/dev/null

# The report calls measured: type, start, end (NULL: the type's default period).
CASES="monthly|NULL|NULL
weekly|NULL|NULL
daily|NULL|NULL
problem_analysis|NULL|NULL
customer_satisfaction|NULL|NULL
custom|now() - interval '90 days'|now()"

declare -A MS
# Measures every case at the current size; rows of the results table.
measure() {
    local sessions
    sessions=$(P -d "$DB" -At -c "SELECT count(*) FROM support_troubleshooting_sessions")
    while IFS='|' read -r t s e; do
        local row
        row=$(P -d "$DB" -At -F '|' <<SQL
SET client_min_messages = warning;
WITH p AS (SELECT generate_troubleshooting_report('$t', $s, $e)->'period' AS p)
SELECT (p->>'start')::timestamptz, (p->>'end')::timestamptz,
       (SELECT generate_troubleshooting_report('$t', $s, $e)->'summary'->>'total_sessions'),
       bench.time_ms(format('SELECT generate_troubleshooting_report(%L, %s, %s, p_force => true)', '$t', \$q\$$s\$q\$, \$q\$$e\$q\$), $RUNS),
       bench.time_ms(format('SELECT ts_ref.report_summary(%L, %L, %L)', (p->>'start')::timestamptz, (p->>'end')::timestamptz, '{}'), 1)
FROM p;
SQL
)
        IFS='|' read -r ps pe n ms base <<<"$row"
        MS[$t,$sessions]=$ms
        log "| $sessions | $t | ${ps%%+*} .. ${pe%%+*} | $n | $ms | $base | $(awk "BEGIN { printf \"%.0f\", $base / $ms }")x |"
    done <<<"$CASES"
    LAST_SIZE=$sessions
}

log "# Report benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -d "$DB" -At -c 'SHOW server_version'))"
log ""
log "Command: \`bash bench/report_bench.sh\`${TS_BENCH_REUSE:+ (on a cluster loaded by the same generator: TS_BENCH_REUSE)}."
log "Median server-side ms of $RUNS uncached calls (p_force => true; the report reads its period and the"
log "previous one for the trends) next to one run of the plain-SQL summary of the same period"
log "(ts_ref.report_summary: counts, median and p90 resolution time, first-try success, CSAT; a floor, not the same work)."
log "Session time zone: $(P -d "$DB" -At -c 'SHOW TimeZone')."
log ""
log "| sessions in the database | report | period | its sessions | uncached report ms | plain-SQL summary ms | summary / report |"
log "|---|---|---|---|---|---|---|"

if [ -n "${TS_BENCH_REUSE:-}" ]; then
    measure
    FIRST_SIZE=""
else
    echo "== phase 1: $((TOTAL / 2)) sessions over the last year"
    load $((TOTAL / 2)) 0
    measure
    FIRST_SIZE=$LAST_SIZE
    echo "== phase 2: $((TOTAL - TOTAL / 2)) more over the year before"
    load $((TOTAL - TOTAL / 2)) 365
    measure
fi

if [ -n "$FIRST_SIZE" ]; then
    log ""
    log "History doubled ($FIRST_SIZE -> $LAST_SIZE sessions, same density): uncached report time x$(
        for t in monthly weekly daily problem_analysis customer_satisfaction custom; do
            awk "BEGIN { printf \"%s %s %.2f; \", \"\", \"$t\", ${MS[$t,$LAST_SIZE]} / ${MS[$t,$FIRST_SIZE]} }"
        done)"
fi

if [ "${TS_BENCH_FILTERS:-1}" != 0 ]; then
log ""
log "Monthly report under each kind of filter (median of 3 uncached calls, $LAST_SIZE sessions):"
log ""
log "| filter | answered from | ms |"
log "|---|---|---|"
while IFS='|' read -r f how; do
    ms=$(P -d "$DB" -At -c "SELECT bench.time_ms(format('SELECT generate_troubleshooting_report(''monthly'', p_filters => %L, p_force => true)', '$f'::jsonb), 3)")
    log "| \`$f\` | $how | $ms |"
done <<'CASES'
{}|rollups
{"problem_ids": ["wifi_drops", "no_internet"]}|rollups
{"statuses": ["resolved", "escalated"]}|sessions from rollups; attempts and feedback raw (status is not their dimension)
{"min_rating": 4}|feedback from rollups; sessions and attempts raw
{"customer_email_domain": "example.com"}|raw, through the period's time indexes
{"assigned_agent": "agent.kim"}|raw, through the period's time indexes
CASES
fi

log ""
log "| relation | rows | total size |"
log "|---|---|---|"
P -d "$DB" -At -F '|' -c "
SELECT c.relname, c.reltuples::bigint, pg_size_pretty(pg_total_relation_size(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = 'public'
  AND c.relname IN ('support_troubleshooting_sessions', 'support_troubleshooting_attempts',
                    'support_troubleshooting_feedback', 'ts_metrics_hourly', 'ts_metrics_problem_hourly',
                    'ts_report_sessions_hourly', 'ts_report_attempts_hourly', 'ts_report_feedback_hourly',
                    'ts_report_delta')
ORDER BY pg_total_relation_size(c.oid) DESC" | while IFS='|' read -r r n sz; do log "| $r | $n | $sz |"; done
log ""
log "Resolution-time percentiles come from the sorted exact durations kept per hour, problem, title and"
log "status in ts_report_sessions_hourly.durations (8 bytes per resolved session, inside the size above)."
bench_finish
