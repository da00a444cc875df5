#!/usr/bin/env bash
# Report rollups under concurrent writers: four pgbench clients at once add
# attempts (out of order, repeated steps) and feedback to the same eight
# sessions, move attempts between them, delete first tries and feedback, and
# change the sessions' status and problem; in READ COMMITTED, then in
# REPEATABLE READ (serialization failures and deadlocks retried).  After
# each run the rollups the triggers kept equal a rebuild from the raw rows,
# and reports over the data equal the plain-SQL reference.
. "$(dirname "$0")/tap.sh"

fresh_extension_db ts_rrc
Q() { q -d ts_rrc "$@"; }
PGOPTIONS="-c client_min_messages=warning" Q -f "test/fixtures/metrics_reference.sql" -f "test/fixtures/report_reference.sql" >/dev/null
Q >/dev/null <<'SQL'
SELECT set_troubleshooting_config('auto_escalate_after_failures', '0');
INSERT INTO support_troubleshooting_sessions
    (session_id, status, started_at, detected_problem_id, detected_problem_title)
SELECT 'cc-' || g, 'in_progress', now() - interval '3 hours' + g * interval '7 minutes',
       'p' || (g % 3), 'title'
FROM generate_series(1, 8) g;
-- reports (daily by hour, and the last four hours) against the reference: parts equal
CREATE FUNCTION ts_ref.reports_equal() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    n bigint := 0;
BEGIN
    FOREACH r IN ARRAY ARRAY[
        generate_troubleshooting_report('custom', now() - interval '4 hours', now(), '{}', false, true),
        generate_troubleshooting_report('custom', now() - interval '4 hours', now(),
                                        '{"problem_ids": ["p1", "p2"]}', false, true)] LOOP
        n := n + (SELECT count(*) FROM unnest(array['summary', 'series', 'top_problems', 'satisfaction']) k
                  WHERE ts_ref.report_parts(r)->k
                        = ts_ref.report_expected(r, (r->'trends'->'previous_period'->>'start')::timestamptz, 10)->k);
    END LOOP;
    RETURN n;
END
$$;
SQL

cat > "$TS_WORK/rrc.sql" <<'SQL'
\set s random(1, 8)
\set t random(1, 8)
\set k random(1, 4)
\set r random(1, 5)
\set op random(1, 10)
BEGIN;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at)
VALUES ('cc-' || :s, :k, :r > 3, now() - random() * interval '3 hours');
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
SELECT 'cc-' || :t, :r, :r * 2, now() - random() * interval '2 hours' WHERE :op <= 3;
UPDATE support_troubleshooting_attempts SET session_id = 'cc-' || :t, step_number = :k
 WHERE id = (SELECT max(id) FROM support_troubleshooting_attempts WHERE session_id = 'cc-' || :s) AND :op = 4;
DELETE FROM support_troubleshooting_attempts
 WHERE id = (SELECT min(id) FROM support_troubleshooting_attempts WHERE session_id = 'cc-' || :s) AND :op = 5;
DELETE FROM support_troubleshooting_feedback
 WHERE id = (SELECT min(id) FROM support_troubleshooting_feedback WHERE session_id = 'cc-' || :s) AND :op = 6;
UPDATE support_troubleshooting_sessions
   SET status = (ARRAY['in_progress', 'resolved', 'escalated', 'abandoned'])[:k], detected_problem_id = 'p' || :r
 WHERE session_id = 'cc-' || :t AND :op >= 9;
COMMIT;
SQL
chmod 644 "$TS_WORK/rrc.sql"

for iso in "read committed" "repeatable read"; do
    out=$(PGOPTIONS="-c default_transaction_isolation=${iso// /\\ }" \
          pgbench -n -U postgres -c 4 -j 2 -T 6 --max-tries=50 -f "$TS_WORK/rrc.sql" ts_rrc 2>&1)
    done_tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    [ "${done_tx:-0}" -ge 100 ] || echo "$out" | sed 's/^/# /'
    [ "${done_tx:-0}" -ge 100 ]
    ok $? "$iso: four clients changed the same eight sessions ($done_tx transactions)"
    is "$(Q -c "SELECT count(*) > 0 FROM ts_report_delta")" "t" "$iso: the changes are pending before the fold"
    is "$(Q -c "SELECT ts_ref.reports_equal()")" "8" "$iso: reports equal the reference, pending changes included"
    is "$(Q -c "SELECT ts_ref.report_rollups_match()")" "0" "$iso: the kept rollups equal a rebuild"
done
done_testing
