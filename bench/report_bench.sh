#!/usr/bin/env bash
# bench/report_bench.sh: report generation and export at scale.
#
#   bash bench/report_bench.sh                 # load 10M sessions over 2 years, then measure (~40 min)
#   TS_BENCH_SESSIONS=1000000 bash bench/report_bench.sh
#   TS_BENCH_REUSE=/path/to/sockdir TS_BENCH_PORT=5432 TS_BENCH_DB=bench bash bench/report_bench.sh
#                                              # measure on a cluster already loaded
#
# Measures, in one run (median server-side milliseconds of several calls):
#   - generate_troubleshooting_report('monthly', p_force => true): uncached,
#     the last calendar month with its previous month for the trends;
#   - the same call served from the cache;
#   - export_troubleshooting_report(id, 'pdf') and (id, 'csv') of that report;
#   - the baseline: the plain-SQL summary of the same month
#     (ts_ref.report_summary from test/fixtures/report_reference.sql), which
#     computes a part of what the report holds.
# Results go to bench/results/reports-<date>.md and to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

TOTAL=${TS_BENCH_SESSIONS:-10000000}
CHUNK=${TS_BENCH_CHUNK:-1000000}
P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ -n "${TS_BENCH_REUSE:-}" ]; then
    export PGHOST=$TS_BENCH_REUSE PGPORT=${TS_BENCH_PORT:-5432} PGUSER=postgres
    DB=${TS_BENCH_DB:-bench}
else
    ts_install_deps
    ts_build_install
    WORK=$(mktemp -d /tmp/ts-rbench.XXXXXX)
    chown postgres: "$WORK"
    DATA=$WORK/data
    export PGHOST=$WORK PGUSER=postgres
    PGPORT=$(ts_free_port 56532)
    export PGPORT
    trap 'ts_cluster_stop "$DATA"; [ -z "${TS_KEEP:-}" ] && rm -rf "$WORK"' EXIT
    TS_EXTRA_CONF="shared_buffers = 4GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
checkpoint_timeout = 30min
synchronous_commit = off
jit = off
troubleshooting.database = 'postgres'" ts_cluster_init "$DATA" "$PGPORT" "$WORK" preload
    ts_cluster_start "$DATA"
    # the workers serve database postgres, not bench: the maintenance worker's
    # retention would otherwise delete the older year while the bench runs
    DB=bench
    P -d postgres -c "CREATE DATABASE bench"
    P -d bench -c "CREATE EXTENSION troubleshooting"
    # the bulk path: delta triggers off while loading, rollups rebuilt after
    P -d bench -c "ALTER TABLE support_troubleshooting_sessions DISABLE TRIGGER ts_metrics_delta;
        ALTER TABLE support_troubleshooting_attempts DISABLE TRIGGER ts_metrics_delta;
        ALTER TABLE support_troubleshooting_feedback DISABLE TRIGGER ts_metrics_delta"
    k=0
    from=0
    while [ "$from" -lt "$TOTAL" ]; do
        n=$((TOTAL - from < CHUNK ? TOTAL - from : CHUNK))
        k=$((k + 1))
        # two years: the first half of the chunks over the last year, the rest the year before
        off=$(( from < TOTAL / 2 ? 0 : 365 ))
        P -d bench -v sessions="$n" -v days=365 -v offset_days="$off" -v seed="0.$k" -v prefix="r$k" \
          -f bench/generate_data.sql >/dev/null
        from=$((from + n))
        echo "   loaded $from sessions ($(date -u +%H:%M:%S))"
    done
    P -d bench -c "ALTER TABLE support_troubleshooting_sessions ENABLE TRIGGER ts_metrics_delta;
        ALTER TABLE support_troubleshooting_attempts ENABLE TRIGGER ts_metrics_delta;
        ALTER TABLE support_troubleshooting_feedback ENABLE TRIGGER ts_metrics_delta"
    P -d bench -c "SELECT rebuild_troubleshooting_metrics()" >/dev/null
    # rows in time order, as a live system writes them (each chunk spans a whole year)
    P -d bench -c "CLUSTER support_troubleshooting_sessions USING idx_sessions_started_at" \
      -c "CLUSTER support_troubleshooting_attempts USING idx_attempts_attempted_at" \
      -c "CLUSTER support_troubleshooting_feedback USING idx_feedback_collected_at"
    P -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT"
fi

P -d "$DB" -c "SET client_min_messages = warning" -f test/fixtures/metrics_reference.sql \
  -f test/fixtures/report_reference.sql >/dev/null
P -d "$DB" -f bench/time_ms.sql >/dev/null

read -r sessions month_sessions uncached cached pdf csv baseline pdf_bytes < <(P -d "$DB" -At -F ' ' <<'SQL'
SET client_min_messages = warning;
SELECT (SELECT count(*) FROM support_troubleshooting_sessions),
       (SELECT generate_troubleshooting_report('monthly', p_include_charts => true)->'summary'->>'total_sessions'),
       bench.time_ms($$SELECT generate_troubleshooting_report('monthly', p_include_charts => true, p_force => true)$$, 3),
       bench.time_ms($$SELECT generate_troubleshooting_report('monthly', p_include_charts => true)$$, 50),
       bench.time_ms($$SELECT length(export_troubleshooting_report((generate_troubleshooting_report('monthly', p_include_charts => true)->>'id')::bigint, 'pdf'))$$, 10),
       bench.time_ms($$SELECT length(export_troubleshooting_report((generate_troubleshooting_report('monthly', p_include_charts => true)->>'id')::bigint, 'csv'))$$, 10),
       bench.time_ms($$SELECT ts_ref.report_summary(date_trunc('month', now()) - interval '1 month', date_trunc('month', now()), '{}')$$, 1),
       length(export_troubleshooting_report((generate_troubleshooting_report('monthly', p_include_charts => true)->>'id')::bigint, 'pdf'));
SQL
)

OUT=bench/results/reports-$(date -u +%Y-%m-%d).md
mkdir -p bench/results
ratio() { awk "BEGIN { printf \"%.1f\", $1 / $2 }"; }
{
echo "# Report benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -d "$DB" -At -c 'SHOW server_version'))"
echo ""
echo "Command: \`bash bench/report_bench.sh\`${TS_BENCH_REUSE:+ (on a cluster loaded by the same generator: TS_BENCH_REUSE)}."
echo "$sessions sessions in the database; the monthly report covers $month_sessions sessions (last calendar month, with the month before for the trends)."
echo "Median server-side milliseconds."
echo ""
echo "| call | ms | target | speed-up against the baseline (baseline ms / ms; below 1 = slower) |"
echo "|---|---|---|---|"
echo "| monthly report, uncached (p_force) | $uncached | < 500 | $(ratio "$baseline" "$uncached")x |"
echo "| monthly report, from the cache | $cached | < 2 | $(ratio "$baseline" "$cached")x |"
echo "| PDF export of it ($pdf_bytes bytes, charts) | $pdf | < 100 | |"
echo "| CSV export of it | $csv | | |"
echo "| baseline: plain-SQL summary of the same month (ts_ref.report_summary) | $baseline | | 1x |"
} | tee "$OUT"
