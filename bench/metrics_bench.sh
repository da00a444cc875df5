#!/usr/bin/env bash
# bench/metrics_bench.sh: the metrics engine against its plain-SQL reference.
#
#   bash bench/metrics_bench.sh            # 5M sessions over 1 year, then 10M over 2 years (~30 min)
#   TS_BENCH_SESSIONS=1000000 bash bench/metrics_bench.sh   # smaller: N/2 then N
#   TS_BENCH_PHASES=write bash bench/metrics_bench.sh       # only the write cost
#   TS_BENCH_PHASES=unserved bash bench/metrics_bench.sh    # a database no worker serves
#
# Starts its own cluster (postgres user, loopback, library preloaded), loads
# sessions with attempts and feedback from bench/generate_data.sql in chunks,
# and reports, side by side in one run and at both sizes:
#   - get_troubleshooting_metrics_by_period('day', now() - 365 days, now()),
#     the same for 'hour' over 7 days, and get_troubleshooting_realtime_metrics(),
#     each against test/fixtures/metrics_reference.sql (median server-side ms);
#   - the write cost: a pgbench script of the agent's writes against the same
#     tables with and without the metrics machinery (delta triggers and the
#     realtime indexes);
#   - the machinery's storage next to the base tables;
#   - (phase "unserved") a database no worker serves, loaded with the triggers
#     on so its changes pile up (TS_BENCH_UNSERVED sessions, 300,000, over a
#     year): by_period and realtime against the plain-SQL reference and a
#     plain GROUP BY, before and after refresh_troubleshooting_metrics().
# Results go to bench/results/metrics-<date>.md and to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

TOTAL=${TS_BENCH_SESSIONS:-10000000}
CHUNK=${TS_BENCH_CHUNK:-1000000}
PGBENCH_SECONDS=${TS_BENCH_PGBENCH_SECONDS:-30}
WRITE_ROUNDS=${TS_BENCH_WRITE_ROUNDS:-4}
PHASES=${TS_BENCH_PHASES:-read write}
ts_install_deps
ts_build_install

bench_work /tmp/ts-bench.XXXXXX 56432
bench_cluster "$(bench_bulk_conf 4GB 16GB)
troubleshooting.database = 'bench_wfull'"

P() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
bench_results "bench/results/metrics$([ "$PHASES" = "read write" ] || echo "-${PHASES// /-}")-$(date -u +%Y-%m-%d).md"

P -d postgres -c "CREATE DATABASE bench_full" -c "CREATE DATABASE bench_wfull" -c "CREATE DATABASE bench_wbase"
P -d bench_full -c "CREATE EXTENSION troubleshooting" -f test/fixtures/metrics_reference.sql
P -d bench_full -f bench/time_ms.sql >/dev/null

# Loads sessions $1+1 .. $2 in chunks over the year ending $3 days ago, with
# the delta triggers off (the bulk path), then rebuilds the rollups.
load() {
    local from=$1 to=$2 offset=$3 k n
    bench_triggers bench_full DISABLE ts_metrics_delta
    k=$((from / CHUNK))
    while [ "$from" -lt "$to" ]; do
        n=$((to - from < CHUNK ? to - from : CHUNK))
        k=$((k + 1))
        bench_generate bench_full "$n" 365 "$offset" "$(awk "BEGIN { print $k / 1000 }")" "b$k"
        from=$((from + n))
        echo "   loaded $from sessions ($(date -u +%H:%M:%S))"
    done
    bench_triggers bench_full ENABLE ts_metrics_delta
    bench_rebuild bench_full
}

# Times the three calls, C and reference, at the current size.
measure() {
    P -d bench_full -At -F ' ' <<'SQL'
SELECT (SELECT count(*) FROM support_troubleshooting_sessions),
       bench.time_ms($$SELECT count(*) FROM get_troubleshooting_metrics_by_period('day', now() - interval '365 days', now()) t WHERE t::text IS NOT NULL$$, 20),
       bench.time_ms($$SELECT count(*) FROM ts_ref.metrics_by_period('day', now() - interval '365 days', now()) t WHERE t::text IS NOT NULL$$, 3),
       bench.time_ms($$SELECT count(*) FROM get_troubleshooting_metrics_by_period('hour', now() - interval '7 days', now()) t WHERE t::text IS NOT NULL$$, 20),
       bench.time_ms($$SELECT count(*) FROM ts_ref.metrics_by_period('hour', now() - interval '7 days', now()) t WHERE t::text IS NOT NULL$$, 3),
       bench.time_ms($$SELECT get_troubleshooting_realtime_metrics()::text$$, 50),
       bench.time_ms($$SELECT ts_ref.realtime_metrics()::text$$, 5),
       (SELECT count(*) FROM (SELECT * FROM get_troubleshooting_metrics_by_period('day', now() - interval '365 days', now())
                              EXCEPT ALL SELECT * FROM ts_ref.metrics_by_period('day', now() - interval '365 days', now())) d),
       get_troubleshooting_realtime_metrics() = ts_ref.realtime_metrics()
SQL
}

if [[ " $PHASES " == *" read "* ]]; then
echo "== loading $((TOTAL / 2)) sessions over the last year"
load 0 $((TOTAL / 2)) 0
read -r n1 d1 dr1 h1 hr1 r1 rr1 mm1 eq1 < <(measure)
echo "== loading $((TOTAL - TOTAL / 2)) more over the year before: history twice as long"
load $((TOTAL / 2)) "$TOTAL" 365
read -r n2 d2 dr2 h2 hr2 r2 rr2 mm2 eq2 < <(measure)

ratio() { awk "BEGIN { printf \"%.1f\", $1 / $2 }"; }
log "# Metrics benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -d postgres -At -c 'SHOW server_version'))"
log ""
log "Command: \`bash bench/metrics_bench.sh\` (TS_BENCH_SESSIONS=$TOTAL). Median server-side milliseconds;"
log "C = the extension's functions, SQL = the plain GROUP BY reference (test/fixtures/metrics_reference.sql)."
log ""
log "| sessions | call | C ms | SQL ms | speed-up |"
log "|---|---|---|---|---|"
for s in 1 2; do
    eval "n=\$n$s d=\$d$s dr=\$dr$s h=\$h$s hr=\$hr$s r=\$r$s rr=\$rr$s"
    log "| $n | by_period day, 365 days | $d | $dr | $(ratio "$dr" "$d")x |"
    log "| $n | by_period hour, 7 days | $h | $hr | $(ratio "$hr" "$h")x |"
    log "| $n | realtime | $r | $rr | $(ratio "$rr" "$r")x |"
done
log ""
log "When history doubles (1 year, $n1 sessions -> 2 years, $n2; same density): by_period day x$(ratio "$d2" "$d1"), hour x$(ratio "$h2" "$h1"), realtime x$(ratio "$r2" "$r1") (reference: day x$(ratio "$dr2" "$dr1"))."
log "Exactness at both sizes: mismatched day rows $mm1 / $mm2; realtime equal: $eq1 / $eq2."

# storage of the machinery next to the base tables
log ""
log "| relation | total size |"
log "|---|---|"
P -d bench_full -At -F '|' -c "
SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid))
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND c.relname IN ('support_troubleshooting_sessions', 'support_troubleshooting_attempts',
                    'support_troubleshooting_feedback', 'ts_metrics_hourly', 'ts_metrics_problem_hourly',
                    'ts_metrics_problems', 'ts_metrics_delta')
ORDER BY pg_total_relation_size(c.oid) DESC" | while IFS='|' read -r r sz; do log "| $r | $sz |"; done
P -d bench_full -At -c "
SELECT '| realtime indexes (resolved_at, escalated_at, active) | ' ||
       pg_size_pretty(sum(pg_relation_size(i::regclass))) || ' |'
FROM unnest(ARRAY['idx_sessions_resolved_at', 'idx_sessions_escalated_at', 'idx_sessions_active_started_at']) i" | tee -a "$OUT.tmp"

fi

# write cost: the agent's writes with and without the machinery
if [[ " $PHASES " == *" write "* ]]; then
echo "== write cost (pgbench, ${PGBENCH_SECONDS}s per run)"
for db in bench_wfull bench_wbase; do
    P -d "$db" -c "CREATE EXTENSION troubleshooting" -c "CREATE SEQUENCE pb_seq"
    P -d "$db" -v sessions=200000 -v days=30 -v prefix=w -f bench/generate_data.sql >/dev/null
done
P -d bench_wbase <<'SQL'
DROP TRIGGER ts_metrics_delta ON support_troubleshooting_sessions;
DROP TRIGGER ts_metrics_delta ON support_troubleshooting_attempts;
DROP TRIGGER ts_metrics_delta ON support_troubleshooting_feedback;
DROP TRIGGER "A_ts_report_rollup" ON support_troubleshooting_sessions;
DROP TRIGGER ts_report_rollup_insert ON support_troubleshooting_attempts;
DROP TRIGGER ts_report_rollup_update ON support_troubleshooting_attempts;
DROP TRIGGER ts_report_rollup_delete ON support_troubleshooting_attempts;
DROP TRIGGER ts_report_rollup_insert ON support_troubleshooting_feedback;
DROP TRIGGER ts_report_rollup_update ON support_troubleshooting_feedback;
DROP TRIGGER ts_report_rollup_delete ON support_troubleshooting_feedback;
DROP INDEX idx_sessions_resolved_at, idx_sessions_escalated_at, idx_sessions_active_started_at,
    idx_attempts_session_step;
SQL
P -d bench_wfull -c "SELECT refresh_troubleshooting_metrics()" -c "VACUUM ANALYZE" >/dev/null
P -d bench_wbase -c "VACUUM ANALYZE" >/dev/null
cat > "$WORK/agent.sql" <<'SQL'
\set p random(1, 11)
SELECT nextval('pb_seq') AS n \gset
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, customer_name, problem_description, detected_problem_id, detected_problem_title, status) VALUES ('pb-' || :n, 'pgbench@example.com', 'Bench Customer', 'pgbench problem', 'problem_' || :p, 'Problem ' || :p, 'in_progress');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, duration_ms) VALUES ('pb-' || :n, 1, 'Restart', false, 30000);
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, duration_ms) VALUES ('pb-' || :n, 2, 'Reset', false, 45000);
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, duration_ms) VALUES ('pb-' || :n, 3, 'Update', true, 60000);
UPDATE support_troubleshooting_sessions SET status = 'resolved', completed_steps = 3, total_steps = 3 WHERE session_id = 'pb-' || :n;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful) VALUES ('pb-' || :n, 5, 9, true);
SQL
chmod 644 "$WORK/agent.sql"
declare -A tps
# one uncounted warm-up run per database (TS_BENCH_WARMUP seconds), then rounds
# that alternate the two databases so that drift on the machine hits both alike
for db in bench_wbase bench_wfull; do
    ts_as_postgres pgbench -n -c 4 -j 2 -T "${TS_BENCH_WARMUP:-10}" -f "$WORK/agent.sql" "$db" >/dev/null 2>"$WORK/pgbench.err" ||
        { cat "$WORK/pgbench.err"; exit 1; }
done
for round in $(seq 1 "$WRITE_ROUNDS"); do
    for db in bench_wbase bench_wfull; do
        t=$(ts_as_postgres pgbench -n -c 4 -j 2 -T "$PGBENCH_SECONDS" -f "$WORK/agent.sql" "$db" 2>"$WORK/pgbench.err" |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        [ -n "$t" ] || { cat "$WORK/pgbench.err"; exit 1; }
        echo "   round $round $db: $t tps"
        tps[$db]="${tps[$db]:-} $t"
    done
done
# the median of the rounds (the mean of the middle two for an even count)
median() { echo "$1" | tr ' ' '\n' | sed '/^$/d' | sort -g |
    awk '{v[NR]=$1} END {if (NR%2) printf "%.1f", v[(NR+1)/2]; else printf "%.1f", (v[NR/2]+v[NR/2+1])/2}'; }
base=$(median "${tps[bench_wbase]}")
full=$(median "${tps[bench_wfull]}")
log ""
log "Write cost of all rollups, metrics and reports (pgbench -c 4 -j 2, ${PGBENCH_SECONDS}s x $WRITE_ROUNDS rounds each, alternating, after a ${TS_BENCH_WARMUP:-10}s warm-up;"
log "one transaction = session insert, 3 attempts, resolve, feedback; 200k sessions already present; maintenance worker"
log "folding): median without machinery $base tps (rounds:${tps[bench_wbase]}), with it $full tps (rounds:${tps[bench_wfull]}):"
log "$(awk "BEGIN { printf \"%.1f\", 100 * ($base - $full) / $base }")% slower."
fi
# a database no worker serves: changes pile up, readers go to the raw tables
if [[ " $PHASES " == *" unserved "* ]]; then
U=${TS_BENCH_UNSERVED:-300000}
P -d postgres -c "CREATE DATABASE bench_unserved"
P -d bench_unserved -c "CREATE EXTENSION troubleshooting" -f test/fixtures/metrics_reference.sql >/dev/null
P -d bench_unserved -f bench/time_ms.sql >/dev/null
# a plain GROUP BY by day, what a DBA writes without the extension
P -d bench_unserved <<'SQL' >/dev/null
CREATE FUNCTION bench.plain_by_day(p_start timestamptz, p_end timestamptz) RETURNS SETOF record LANGUAGE sql STABLE AS $$
SELECT d, s.n, s.resolved, s.escalated, s.abandoned, round(s.resolved::numeric / nullif(s.n, 0), 4),
       round(s.avg_res / 60, 2), s.uniq, a.n, a.ok, f.n, round(f.avg_rating, 2),
       round((f.promoters - f.detractors) * 100.0 / nullif(f.nps_n, 0), 2)
FROM generate_series(date_trunc('day', p_start), p_end - interval '1 microsecond', interval '1 day') d
LEFT JOIN (SELECT date_trunc('day', started_at) AS d, count(*) AS n,
                  count(*) FILTER (WHERE status = 'resolved') AS resolved,
                  count(*) FILTER (WHERE status = 'escalated') AS escalated,
                  count(*) FILTER (WHERE status IN ('abandoned', 'timed_out')) AS abandoned,
                  avg(extract(epoch FROM resolved_at - started_at)) FILTER (WHERE status = 'resolved') AS avg_res,
                  count(DISTINCT detected_problem_id) AS uniq
           FROM support_troubleshooting_sessions WHERE started_at >= p_start AND started_at < p_end GROUP BY 1) s USING (d)
LEFT JOIN (SELECT date_trunc('day', attempted_at) AS d, count(*) AS n, count(*) FILTER (WHERE success) AS ok
           FROM support_troubleshooting_attempts WHERE attempted_at >= p_start AND attempted_at < p_end GROUP BY 1) a USING (d)
LEFT JOIN (SELECT date_trunc('day', collected_at) AS d, count(*) AS n, avg(rating) AS avg_rating, count(nps_score) AS nps_n,
                  count(*) FILTER (WHERE nps_score >= 9) AS promoters, count(*) FILTER (WHERE nps_score <= 6) AS detractors
           FROM support_troubleshooting_feedback WHERE collected_at >= p_start AND collected_at < p_end GROUP BY 1) f USING (d)
ORDER BY d
$$;
SQL
echo "== unserved: loading $U sessions over a year with the triggers on"
P -d bench_unserved -v sessions="$U" -v days=365 -v offset_days=0 -f bench/generate_data.sql >/dev/null
P -d bench_unserved -c "VACUUM ANALYZE"
umeasure() {
    P -d bench_unserved -At -F ' ' <<'SQL' 2>/dev/null
SET client_min_messages = error;
SELECT (SELECT count(*) FROM ts_metrics_delta),
       bench.time_ms($$SELECT count(*) FROM get_troubleshooting_metrics_by_period('day', now() - interval '365 days', now()) t WHERE t::text IS NOT NULL$$, 5),
       bench.time_ms($$SELECT count(*) FROM bench.plain_by_day(now() - interval '365 days', now())
                         AS t(d timestamptz, n bigint, r bigint, e bigint, ab bigint, rr numeric, ar numeric, u bigint,
                              an bigint, ao bigint, fn bigint, fr numeric, nps numeric) WHERE t::text IS NOT NULL$$, 5),
       bench.time_ms($$SELECT count(*) FROM ts_ref.metrics_by_period('day', now() - interval '365 days', now()) t WHERE t::text IS NOT NULL$$, 3),
       bench.time_ms($$SELECT get_troubleshooting_realtime_metrics()::text$$, 10),
       bench.time_ms($$SELECT ts_ref.realtime_metrics()::text$$, 5),
       (SELECT count(*) FROM (SELECT * FROM get_troubleshooting_metrics_by_period('day', now() - interval '365 days', now())
                              EXCEPT ALL SELECT * FROM ts_ref.metrics_by_period('day', now() - interval '365 days', now())) d)
SQL
}
read -r udeltas ud upl uref ur urr umm < <(umeasure | tail -1)
P -d bench_unserved -At -c "SELECT refresh_troubleshooting_metrics()" >/dev/null
read -r fdeltas fd fpl fref fr frr fmm < <(umeasure | tail -1)
# the fold leaves the folded changes as dead rows until (auto)vacuum
P -d bench_unserved -c "VACUUM ts_metrics_delta"
read -r vdeltas vd vpl vref vr vrr vmm < <(umeasure | tail -1)
[ "$PHASES" = unserved ] && log "# Metrics in a database no worker serves, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -d postgres -At -c 'SHOW server_version'))"
log ""
log "A database no worker serves (\`TS_BENCH_PHASES=unserved bash bench/metrics_bench.sh\`, $U sessions over a year loaded"
log "with the triggers on; median ms; plain = one GROUP BY per table by day, reference = test/fixtures/metrics_reference.sql):"
log ""
log "| state | pending changes | by_period day, 365 days | plain GROUP BY | reference | realtime | realtime reference | mismatched rows |"
log "|---|---|---|---|---|---|---|---|"
log "| changes piled up (raw tables) | $udeltas | $ud | $upl | $uref | $ur | $urr | $umm |"
log "| after refresh_troubleshooting_metrics() (rollups; the folded changes still dead rows) | $fdeltas | $fd | $fpl | $fref | $fr | $frr | $fmm |"
log "| after VACUUM ts_metrics_delta (what autovacuum gives) | $vdeltas | $vd | $vpl | $vref | $vr | $vrr | $vmm |"
log ""
log "by_period with the changes piled up: x$(awk "BEGIN { printf \"%.2f\", $ud / $upl }") the plain GROUP BY's time."
fi

bench_finish
