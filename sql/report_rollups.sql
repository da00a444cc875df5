-- Report rollups: random histories with every kind of change (out-of-order
-- and repeated attempts, attempts moved between sessions and steps, deleted
-- first tries, sessions whose problem, status, start or id changes, sessions
-- deleted with their children, several feedback rows per session, moved and
-- re-rated feedback), folded at random moments or not at all.  Every report
-- type equals the plain-SQL reference (test/fixtures/report_reference.sql)
-- in several time zones, unfiltered and filtered; the rollups the triggers
-- keep equal the ones rebuilt from the raw rows; retention's set-based path,
-- TRUNCATE and the rebuild keep them exact.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
DROP SCHEMA IF EXISTS ts_ref CASCADE;
CREATE EXTENSION troubleshooting;
\set ECHO none
\i test/fixtures/metrics_reference.sql
\i test/fixtures/report_reference.sql
\set ECHO all
RESET client_min_messages;
SET TimeZone = 'UTC';

-- A random history of n sessions over p_days days before now, then random changes.
CREATE FUNCTION ts_ref.report_workload(p_seed float8, n int, p_days float8) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i int;
    base timestamptz := date_trunc('hour', now()) - p_days * interval '1 day';
BEGIN
    PERFORM setseed(p_seed);
    DELETE FROM support_troubleshooting_sessions;
    INSERT INTO support_troubleshooting_sessions
        (session_id, status, started_at, resolved_at, escalated_at, detected_problem_id,
         detected_problem_title, customer_email, assigned_agent)
    SELECT 'q' || g, st, t,
           CASE WHEN st = 'resolved' AND random() < 0.95 THEN t + random() * interval '30 hours' END,
           CASE WHEN st = 'escalated' THEN t + random() * interval '2 hours' END,
           CASE WHEN random() < 0.9 THEN 'p' || floor(random() * 5)::int END,
           'title ' || floor(random() * 2)::int,
           'c' || g || CASE WHEN random() < 0.7 THEN '@example.com' ELSE '@other.org' END,
           CASE WHEN random() < 0.3 THEN 'agent.' || floor(random() * 2)::int END
    FROM (SELECT g, base + random() * p_days * interval '1 day'
                    + CASE WHEN random() < 0.2 THEN interval '0' ELSE floor(random() * 4) * interval '15 minutes' END AS t,
                 (ARRAY['started', 'in_progress', 'resolved', 'resolved', 'resolved', 'escalated',
                        'abandoned', 'timed_out'])[1 + floor(random() * 8)::int] AS st
          FROM generate_series(1, n) g) x;
    -- attempts in random order, with repeated steps and equal times
    INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
    SELECT session_id, 1 + floor(random() * 3)::int, 'step ' || floor(random() * 2)::int, random() < 0.4,
           CASE WHEN random() < 0.1 THEN started_at ELSE started_at + random() * interval '3 hours' END
    FROM support_troubleshooting_sessions, generate_series(1, floor(random() * 6)::int) k
    ORDER BY random();
    INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, collected_at)
    SELECT session_id, 1 + floor(random() * 5)::int,
           CASE WHEN random() < 0.8 THEN floor(random() * 11)::int END,
           CASE WHEN random() < 0.7 THEN random() < 0.6 END,
           started_at + random() * interval '2 days'
    FROM support_troubleshooting_sessions, generate_series(1, 1 + floor(random() * 1.6)::int)
    WHERE random() < 0.5;
    IF random() < 0.5 THEN PERFORM refresh_troubleshooting_metrics(); END IF;

    FOR i IN 1..8 LOOP
        -- an attempt earlier than every other of its session and step (demotes the old first try)
        INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
        SELECT a.session_id, a.step_number, a.step_title, random() < 0.5, a.attempted_at - random() * interval '2 hours'
        FROM support_troubleshooting_attempts a ORDER BY random() LIMIT 3;
        -- deleted first tries (promote the next one)
        DELETE FROM support_troubleshooting_attempts WHERE id IN (
            SELECT DISTINCT ON (session_id, step_number) id FROM support_troubleshooting_attempts
            ORDER BY session_id, step_number, attempted_at, id LIMIT 2);
        UPDATE support_troubleshooting_attempts SET success = NOT success
         WHERE id IN (SELECT id FROM support_troubleshooting_attempts ORDER BY random() LIMIT 3);
        UPDATE support_troubleshooting_attempts SET attempted_at = attempted_at + (random() - 0.5) * interval '1 day'
         WHERE id IN (SELECT id FROM support_troubleshooting_attempts ORDER BY random() LIMIT 3);
        UPDATE support_troubleshooting_attempts SET step_number = 1 + floor(random() * 3)::int
         WHERE id IN (SELECT id FROM support_troubleshooting_attempts ORDER BY random() LIMIT 2);
        -- attempts moved to another session
        UPDATE support_troubleshooting_attempts
           SET session_id = (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 1)
         WHERE id IN (SELECT id FROM support_troubleshooting_attempts ORDER BY random() LIMIT 2);
        -- sessions: problem, status, start, id changes, deletes with their children
        UPDATE support_troubleshooting_sessions
           SET detected_problem_id = CASE WHEN random() < 0.2 THEN NULL ELSE 'p' || floor(random() * 6)::int END
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 2);
        UPDATE support_troubleshooting_sessions
           SET status = 'resolved', resolved_at = started_at + random() * interval '2 days'
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 2);
        UPDATE support_troubleshooting_sessions SET status = 'escalated'
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 1);
        UPDATE support_troubleshooting_sessions SET started_at = started_at - random() * interval '1 day',
               detected_problem_title = 'title ' || floor(random() * 3)::int
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 1);
        UPDATE support_troubleshooting_sessions
           SET detected_problem_id = CASE WHEN random() < 0.5 THEN detected_problem_id ELSE 'p9' END
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 2);
        DELETE FROM support_troubleshooting_sessions
         WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 2);
        -- feedback: another row for a session, re-rated, moved, deleted
        INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
        SELECT session_id, 1 + floor(random() * 5)::int, floor(random() * 11)::int,
               collected_at + (random() - 0.3) * interval '5 hours'
        FROM support_troubleshooting_feedback ORDER BY random() LIMIT 2;
        UPDATE support_troubleshooting_feedback
           SET rating = 1 + floor(random() * 5)::int, was_helpful = random() < 0.5,
               collected_at = collected_at - random() * interval '12 hours'
         WHERE id IN (SELECT id FROM support_troubleshooting_feedback ORDER BY random() LIMIT 2);
        UPDATE support_troubleshooting_feedback
           SET session_id = (SELECT session_id FROM support_troubleshooting_sessions ORDER BY random() LIMIT 1)
         WHERE id IN (SELECT id FROM support_troubleshooting_feedback ORDER BY random() LIMIT 1);
        DELETE FROM support_troubleshooting_feedback
         WHERE id IN (SELECT id FROM support_troubleshooting_feedback ORDER BY random() LIMIT 1);
        IF random() < 0.3 THEN PERFORM refresh_troubleshooting_metrics(); END IF;
    END LOOP;
END
$$;

-- Every report type against the reference, in several time zones and with filters.
CREATE FUNCTION ts_ref.report_compare(OUT comparisons int, OUT equal int) LANGUAGE plpgsql AS $$
DECLARE
    c record;
    r jsonb;
    got jsonb;
    want jsonb;
    k text;
BEGIN
    comparisons := 0;
    equal := 0;
    FOR c IN
        SELECT z, t, s, e, f
        FROM unnest(array['UTC', 'America/New_York', 'Asia/Kathmandu']) z,
             (VALUES ('daily', NULL::timestamptz, NULL::timestamptz), ('weekly', NULL, NULL),
                     ('monthly', NULL, NULL), ('problem_analysis', NULL, NULL),
                     ('customer_satisfaction', NULL, NULL),
                     ('custom', now() - interval '12 days', now() - interval '1 day 17 minutes'),
                     ('custom', now() - interval '30 hours 5 minutes', now() - interval '2 hours')) v(t, s, e),
             (VALUES ('{}'::jsonb), ('{"problem_ids": ["p1", "p2", "p9"]}'),
                     ('{"statuses": ["resolved", "escalated"]}'),
                     ('{"problem_ids": ["p0", "p3"], "min_rating": 2, "max_rating": 4}'),
                     ('{"customer_email_domain": "example.com"}')) w(f)
    LOOP
        PERFORM set_config('TimeZone', c.z, true);
        r := generate_troubleshooting_report(c.t, c.s, c.e, c.f, false, true);
        got := ts_ref.report_parts(r);
        want := ts_ref.report_expected(r, (r->'trends'->'previous_period'->>'start')::timestamptz, 10);
        FOREACH k IN ARRAY array['summary', 'series', 'top_problems', 'satisfaction', 'previous_summary_kpis'] LOOP
            comparisons := comparisons + 1;
            IF got->k = want->k THEN
                equal := equal + 1;
            ELSE
                RAISE WARNING 'mismatch: % % % % %: % <> %', c.z, c.t, c.f, k, r->'period', got->k, want->k;
            END IF;
        END LOOP;
    END LOOP;
    PERFORM set_config('TimeZone', 'UTC', true);
END
$$;

-- three random histories: compared unfolded or part-folded, then folded,
-- then the kept rollups against a rebuild
SELECT ts_ref.report_workload(0.11, 250, 20);
SELECT (SELECT count(*) > 0 FROM ts_report_delta) AS pending_changes;
SELECT * FROM ts_ref.report_compare();
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
SELECT count(*) AS pending_after_fold FROM ts_report_delta;
SELECT * FROM ts_ref.report_compare();
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

SELECT ts_ref.report_workload(0.52, 300, 35);
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

SELECT ts_ref.report_workload(0.87, 200, 10);
SELECT * FROM ts_ref.report_compare();
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

-- a restore loads children before their sessions: they count once the session comes
SET session_replication_role = replica;
CREATE TEMP TABLE a_copy AS SELECT * FROM support_troubleshooting_attempts;
CREATE TEMP TABLE f_copy AS SELECT * FROM support_troubleshooting_feedback;
CREATE TEMP TABLE s_copy AS SELECT * FROM support_troubleshooting_sessions;
SET session_replication_role = origin;
TRUNCATE support_troubleshooting_sessions CASCADE;
SELECT count(*) AS rollup_rows_after_truncate FROM ts_ref.report_rollup_rows();
SET session_replication_role = replica;  -- foreign keys off, as during a restore's data load
INSERT INTO support_troubleshooting_attempts SELECT * FROM a_copy;
INSERT INTO support_troubleshooting_feedback SELECT * FROM f_copy;
SET session_replication_role = origin;
SELECT count(*) AS rows_of_orphans FROM ts_ref.report_rollup_rows();
INSERT INTO support_troubleshooting_sessions SELECT * FROM s_copy;
SELECT * FROM ts_ref.report_compare();
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

-- retention's set-based path subtracts whole sessions exactly
UPDATE support_troubleshooting_sessions SET status = 'resolved', resolved_at = started_at + interval '1 hour'
 WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY session_id LIMIT 60);
UPDATE support_troubleshooting_sessions SET started_at = started_at - interval '200 days',
       resolved_at = started_at - interval '200 days' + interval '30 minutes',
       ended_at = started_at - interval '200 days' + interval '30 minutes',
       last_activity_at = started_at - interval '200 days' + interval '30 minutes'
 WHERE session_id IN (SELECT session_id FROM support_troubleshooting_sessions ORDER BY session_id LIMIT 40);
SELECT table_name, rows_deleted > 0 AS deleted FROM cleanup_old_troubleshooting_data(interval '100 days')
WHERE table_name IN ('support_troubleshooting_sessions', 'support_troubleshooting_attempts');
SELECT * FROM ts_ref.report_compare();
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

-- a transaction's own sessions: children written after the session's insert or
-- update in the same transaction (read without a second lock), also after a
-- savepoint that undid the session's insert or update
BEGIN;
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, detected_problem_id,
       detected_problem_title, status, started_at)
VALUES ('own-1', 'own@example.com', 'wifi_drops', 'Wi-Fi drops', 'in_progress', now() - interval '3 hours');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
VALUES ('own-1', 1, 'Restart', false, now() - interval '170 minutes');
SAVEPOINT s1;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
VALUES ('own-1', 1, 'Restart', true, now() - interval '175 minutes');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
VALUES ('own-1', 1, 'Restart', true, now() - interval '180 minutes'), ('own-1', 2, 'Reset', true, now() - interval '160 minutes');
UPDATE support_troubleshooting_sessions SET status = 'resolved', resolved_at = now() - interval '150 minutes'
 WHERE session_id = 'own-1';
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, collected_at)
VALUES ('own-1', 4, 9, true, now() - interval '140 minutes');
SAVEPOINT s2;
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, detected_problem_id,
       detected_problem_title, status, started_at)
VALUES ('own-2', 'own@example.com', 'no_internet', 'No internet', 'in_progress', now() - interval '2 hours');
ROLLBACK TO SAVEPOINT s2;
COMMIT;
BEGIN;
SAVEPOINT s3;
UPDATE support_troubleshooting_sessions SET detected_problem_id = 'no_internet' WHERE session_id = 'own-1';
ROLLBACK TO SAVEPOINT s3;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at)
VALUES ('own-1', 2, 'Reset', false, now() - interval '165 minutes');
UPDATE support_troubleshooting_sessions SET detected_problem_title = 'Wi-Fi keeps dropping' WHERE session_id = 'own-1';
DELETE FROM support_troubleshooting_attempts WHERE session_id = 'own-1' AND step_number = 1
   AND attempted_at = (SELECT min(attempted_at) FROM support_troubleshooting_attempts WHERE session_id = 'own-1');
COMMIT;
SELECT count(*) AS own_attempts FROM support_troubleshooting_attempts WHERE session_id = 'own-1';
SELECT * FROM ts_ref.report_compare();
SELECT ts_ref.report_rollups_match() AS rollup_rows_unlike_rebuild;

-- TRUNCATE of a child table rebuilds
TRUNCATE support_troubleshooting_feedback;
SELECT count(*) AS feedback_rows FROM ts_report_feedback_hourly;
SELECT sum(rated) AS rated_sessions FROM ts_report_sessions_hourly;
SELECT * FROM ts_ref.report_compare();
