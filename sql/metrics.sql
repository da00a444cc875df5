-- Metrics engine: by-period and realtime metrics equal a plain-SQL GROUP BY
-- over the raw tables (test/fixtures/metrics_reference.sql), on hand-made and
-- random data, in several time zones, with the rollups folded or not.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
DROP SCHEMA IF EXISTS ts_ref CASCADE;
CREATE EXTENSION troubleshooting;
\set ECHO none
\i test/fixtures/metrics_reference.sql
\i test/fixtures/metrics_random.sql
\set ECHO all
RESET client_min_messages;
SET TimeZone = 'UTC';

-- bad input
SELECT * FROM get_troubleshooting_metrics_by_period('year', now() - interval '1 day', now());
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-02-01', '2026-01-01');
SELECT * FROM get_troubleshooting_metrics_by_period(NULL, now() - interval '1 day', now());
SELECT * FROM get_troubleshooting_metrics_by_period('day', NULL, now());
SELECT * FROM get_troubleshooting_metrics_by_period('day', now(), NULL);
SELECT * FROM get_troubleshooting_metrics_by_period('hour', '2010-01-01', '2026-01-01');
SELECT * FROM get_troubleshooting_metrics_by_period('day', '-infinity', '2026-01-01');

-- no data: every bucket, zeros and NULL averages
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-01-01 10:00+00', '2026-01-03 00:00+00');

-- a small history with known answers
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, resolved_at, detected_problem_id) VALUES
    ('a1', 'resolved',  '2026-03-07 10:00+00', '2026-03-07 10:30+00', 'wifi'),
    ('a2', 'resolved',  '2026-03-07 23:30+00', '2026-03-08 00:15+00', 'dns'),
    ('a3', 'escalated', '2026-03-08 06:59+00', NULL, 'wifi'),
    ('a4', 'abandoned', '2026-03-08 07:00+00', NULL, NULL),
    ('a5', 'timed_out', '2026-03-09 12:00+00', NULL, 'vpn'),
    ('a6', 'started',   '2026-03-09 12:00+00', NULL, 'vpn');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at) VALUES
    ('a1', 1, false, '2026-03-07 10:05+00'), ('a1', 2, true, '2026-03-07 10:20+00'),
    ('a3', 1, false, '2026-03-08 07:10+00');
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at) VALUES
    ('a1', 5, 10, '2026-03-07 11:00+00'), ('a2', 4, 7, '2026-03-08 01:00+00'),
    ('a3', 1, 2, '2026-03-08 09:00+00'), ('a5', 3, NULL, '2026-03-09 13:00+00');
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-03-07', '2026-03-10');
-- the same days in New York (DST starts 2026-03-08: that day has 23 hours)
SET TimeZone = 'America/New_York';
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-03-07', '2026-03-10');
SELECT period_start, total_sessions, unique_problems, total_attempts, feedback_count
FROM get_troubleshooting_metrics_by_period('week', '2026-03-01', '2026-03-10');
SET TimeZone = 'UTC';
-- folded or not, the same answer
SELECT refresh_troubleshooting_metrics() AS folded;
SELECT count(*) AS pending FROM ts_metrics_delta;
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-03-07', '2026-03-10');
SELECT ts_ref.mismatches('hour', '2026-03-06', '2026-03-11') AS hour_mismatches;
-- an old session resolved three days later, then deleted, then back-dated
UPDATE support_troubleshooting_sessions SET status = 'resolved', resolved_at = '2026-03-11 12:00+00'
 WHERE session_id = 'a6';
SELECT period_start, total_sessions, resolved_sessions, avg_resolution_time_minutes
FROM get_troubleshooting_metrics_by_period('day', '2026-03-09', '2026-03-10');
DELETE FROM support_troubleshooting_sessions WHERE session_id = 'a1';
UPDATE support_troubleshooting_sessions SET started_at = started_at - interval '1 day' WHERE session_id = 'a5';
SELECT * FROM get_troubleshooting_metrics_by_period('day', '2026-03-07', '2026-03-10');
SELECT ts_ref.mismatches('day', '2026-03-01', '2026-03-12') AS day_mismatches;

-- the default arguments: the last 30 days by day
SELECT count(*) AS buckets FROM get_troubleshooting_metrics_by_period();

-- random histories: 25 seeds x 5 time zones x 4 periods x 4 ranges
SELECT comparisons, mismatched, min_sessions > 100 AS every_history_has_data
FROM ts_ref.random_period_check(25);

-- the comparison notices a wrong rollup, and a rebuild repairs it
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
UPDATE ts_metrics_hourly SET sessions = sessions + 1
 WHERE bucket = (SELECT max(bucket) FROM ts_metrics_hourly WHERE sessions > 0);
SELECT ts_ref.mismatches('day', '2026-02-20', '2026-04-10') > 0 AS corruption_detected;
SELECT rebuild_troubleshooting_metrics();
SELECT ts_ref.mismatches('day', '2026-02-20', '2026-04-10') AS after_rebuild;

-- TRUNCATE empties the metrics too
TRUNCATE support_troubleshooting_sessions CASCADE;
SELECT sum(total_sessions) AS sessions, sum(total_attempts) AS attempts, sum(feedback_count) AS feedback
FROM get_troubleshooting_metrics_by_period('day', '2026-02-20', '2026-04-10');

-- realtime: the JSON document equals the reference on random recent histories
SELECT histories, equal, view_matches, min_active > 0 AS has_active_sessions
FROM ts_ref.random_realtime_check(15);
SELECT jsonb_typeof(j -> 'top_problems') AS top_problems, jsonb_typeof(j -> 'active_sessions') AS active,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(j -> 'metrics') k) AS metric_keys
FROM (SELECT get_troubleshooting_realtime_metrics() AS j) x;

-- buckets cover [p_start, p_end): none starts at or after p_end, in any zone
SET TimeZone = 'Europe/Madrid';
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
SELECT 'mad-' || i, 'started', timestamptz '2026-04-05 00:00 Europe/Madrid' + i * interval '1 minute'
FROM generate_series(1, 30) i;
SELECT count(*) AS buckets, min(period_start) AS first_bucket, max(period_start) AS last_bucket,
       sum(total_sessions) AS sessions_before_end
FROM get_troubleshooting_metrics_by_period('day', '2026-03-20', '2026-04-05');
SELECT count(*) AS buckets_ending_mid_day, max(period_start) AS last_bucket, sum(total_sessions) AS sessions
FROM get_troubleshooting_metrics_by_period('day', '2026-03-20', '2026-04-05 12:00');
SELECT count(*) AS buckets_of_an_empty_range
FROM get_troubleshooting_metrics_by_period('hour', '2026-04-05', '2026-04-05');
SELECT count(*) AS hour_buckets, max(period_start) AS last_hour
FROM get_troubleshooting_metrics_by_period('hour', '2026-04-05 00:00', '2026-04-05 03:00');
RESET TimeZone;
