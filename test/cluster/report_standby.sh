#!/usr/bin/env bash
# Reports on a hot standby: generation works read-only and simply does not
# cache (no id, nothing written); the same report on the primary is stored.
. "$(dirname "$0")/tap.sh"

Q() { q -d report_standby "$@"; }
fresh_db report_standby
Q -c "CREATE EXTENSION troubleshooting"
Q <<'SQL'
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, resolved_at, detected_problem_id)
SELECT 'sb' || g, CASE WHEN g % 3 = 0 THEN 'escalated' ELSE 'resolved' END,
       '2026-01-01 00:00+00'::timestamptz + g * interval '1 hour',
       CASE WHEN g % 3 <> 0 THEN '2026-01-01 00:00+00'::timestamptz + g * interval '1 hour' + g * interval '1 minute' END,
       'p' || (g % 4)
FROM generate_series(1, 48) g;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
SELECT 'sb' || g, 1 + g % 5, g % 11, '2026-01-01 00:00+00'::timestamptz + g * interval '1 hour' + interval '30 minutes'
FROM generate_series(1, 48, 2) g;
SQL
q -d postgres -c "CHECKPOINT" >/dev/null

standby=$TS_WORK/standby
sport=$((PGPORT + 3))
rm -rf "$standby"
ts_as_postgres pg_basebackup -h "$PGHOST" -p "$PGPORT" -U postgres -D "$standby" -R -X stream >/dev/null 2>&1
ok $? "pg_basebackup of the test cluster"
sed -i "s/^port = .*/port = $sport/" "$standby/postgresql.conf"
echo "hot_standby = on" >> "$standby/postgresql.conf"
rm -f "$standby/server.log"
ts_cluster_start "$standby"
ok $? "the standby starts"
S() { q -h "$TS_WORK" -p "$sport" -d report_standby "$@"; }
is "$(S -c "SELECT pg_is_in_recovery()")" "t" "it is in recovery"

args="'custom', '2026-01-01 00:00+00', '2026-01-03 00:00+00'"
standby_doc=$(S -c "SELECT generate_troubleshooting_report($args) - 'generated_at' - 'id'")
ok $? "a report is generated on the standby"
is "$(S -c "SELECT generate_troubleshooting_report($args)->'id'")" "null" "its id is null: not stored"
is "$(S -c "SELECT generate_troubleshooting_report($args, p_force => true)->'summary'->>'total_sessions'")" "47" \
   "p_force works on the standby too"
is "$(S -c "SELECT count(*) FROM support_troubleshooting_reports")" "0" "nothing was written on the standby"

primary_doc=$(Q -c "SELECT generate_troubleshooting_report($args) - 'generated_at' - 'id'")
is "$standby_doc" "$primary_doc" "the standby's document equals the primary's"
is "$(Q -c "SELECT count(*) FROM support_troubleshooting_reports")" "1" "the primary stores its report"
# once replayed, the standby serves the primary's stored report from the cache
Q -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 600); do
    [ "$(S -c "SELECT count(*) FROM support_troubleshooting_reports")" = 1 ] && break
    sleep 0.1
done
is "$(S -c "SELECT (generate_troubleshooting_report($args)->>'id') = (SELECT id::text FROM support_troubleshooting_reports)")" "t" \
   "after replay the standby answers from the primary's cache entry"
S -c "SELECT length(export_troubleshooting_report((SELECT id FROM support_troubleshooting_reports), 'pdf')) > 1000" | grep -q t
ok $? "a stored report exports as PDF on the standby"

# the workers start only once recovery has finished, which on a standby is never
is "$(S -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'")" "0" \
   "no troubleshooting worker runs on the standby"
ts_cluster_stop "$standby"
ok $? "the standby stops"
ts_scan_logs <(echo "$standby/server.log") /dev/null /nonexistent
ok $? "no crash in the standby's log"
grep -E "ERROR" "$standby/server.log" | head -5 | sed 's/^/# /'
! grep -qE "ERROR" "$standby/server.log"
ok $? "no error in the standby's log"
done_testing
