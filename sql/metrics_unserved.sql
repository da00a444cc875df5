-- A database no maintenance worker serves (the test cluster's workers serve
-- only "postgres"): once more than 10000 metric changes wait unfolded, the
-- by-period and realtime metrics read the raw tables in one grouped pass
-- each, with the same answers as the plain-SQL reference
-- (test/fixtures/metrics_reference.sql) and as after a fold, and one WARNING
-- per session says why and what to do.
SET client_min_messages = warning;
\set ECHO none
\i test/fixtures/metrics_reference.sql
\set ECHO all
SET TimeZone = 'UTC';
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
SELECT count(*) AS pending FROM ts_metrics_delta;

-- 12000 sessions over 9 weeks (some in the last day), attempts and feedback
INSERT INTO support_troubleshooting_sessions
       (session_id, status, started_at, resolved_at, escalated_at, detected_problem_id)
SELECT 'un' || g,
       (ARRAY['resolved', 'escalated', 'abandoned', 'in_progress'])[1 + g % 4],
       t, CASE WHEN g % 4 = 0 THEN t + (g % 50) * interval '1 minute' END,
       CASE WHEN g % 4 = 1 THEN t + interval '5 minutes' END,
       'unserved_p' || (g % 7)
FROM generate_series(1, 12000) g,
     LATERAL (SELECT CASE WHEN g % 40 = 0 THEN now() - (g % 1400) * interval '1 minute'
                          ELSE '2026-05-01 00:00+00'::timestamptz + g * interval '7 minutes' END AS t) x;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at)
SELECT 'un' || g, 1, g % 3 = 0, s.started_at + interval '2 minutes'
FROM generate_series(1, 12000, 2) g JOIN support_troubleshooting_sessions s ON s.session_id = 'un' || g;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
SELECT 'un' || g, 1 + g % 5, g % 11, s.started_at + interval '30 minutes'
FROM generate_series(1, 12000, 4) g JOIN support_troubleshooting_sessions s ON s.session_id = 'un' || g;
SELECT count(*) > 10000 AS piled_up FROM ts_metrics_delta;

-- read from the raw tables: the WARNING (once), and the reference's answers
SELECT sum(total_sessions) AS sessions, sum(total_attempts) AS attempts, sum(feedback_count) AS feedback
FROM get_troubleshooting_metrics_by_period('week', '2026-05-01', '2026-07-05');
SELECT ts_ref.mismatches('day', '2026-04-28', '2026-07-05') AS day_mismatches,
       ts_ref.mismatches('hour', '2026-05-10 05:30', '2026-05-14 17:45') AS hour_mismatches,
       ts_ref.mismatches('week', '2026-04-28', '2026-07-05') AS week_mismatches,
       ts_ref.mismatches('month', '2026-04-15', '2026-07-05') AS month_mismatches;
SET TimeZone = 'Europe/Madrid';
SELECT ts_ref.mismatches('day', '2026-04-28', '2026-07-05') AS madrid_day_mismatches;
SET TimeZone = 'UTC';
SELECT get_troubleshooting_realtime_metrics() = ts_ref.realtime_metrics() AS realtime_equal,
       (get_troubleshooting_realtime_metrics() -> 'metrics' ->> 'active_sessions')::int > 0 AS has_active;
CREATE TEMP TABLE before_fold AS
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-04-28', now() + interval '1 day');

-- folded: the rollups answer the same, and no WARNING
SELECT refresh_troubleshooting_metrics() > 10000 AS folded;
SELECT count(*) AS pending FROM ts_metrics_delta;
SELECT count(*) AS differing_rows FROM (
    (SELECT * FROM before_fold EXCEPT ALL
     SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-04-28', now() + interval '1 day'))
    UNION ALL
    (SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-04-28', now() + interval '1 day')
     EXCEPT ALL SELECT * FROM before_fold)) d;
SELECT get_troubleshooting_realtime_metrics() = ts_ref.realtime_metrics() AS realtime_equal;
DELETE FROM support_troubleshooting_sessions WHERE session_id LIKE 'un%';
SELECT refresh_troubleshooting_metrics() > 0 AS cleaned_up;
