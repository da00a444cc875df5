-- Reports: generate_troubleshooting_report() against a plain-SQL reference
-- (test/fixtures/report_reference.sql) for every type, with filters and in
-- several time zones; agreement with the metrics functions; default periods;
-- recommendations on hand-made data; the cache; bad input.
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

-- bad input
SELECT generate_troubleshooting_report('yearly');
SELECT generate_troubleshooting_report(NULL);
SELECT generate_troubleshooting_report('custom');
SELECT generate_troubleshooting_report('custom', '2026-02-01', NULL);
SELECT generate_troubleshooting_report('custom', '2026-02-01', '2026-02-01');
SELECT generate_troubleshooting_report('custom', '2026-02-02', '2026-02-01');
SELECT generate_troubleshooting_report('custom', '2026-02-01', 'infinity');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"problem": ["wifi"]}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '["wifi"]');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"problem_ids": "wifi"}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"problem_ids": []}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"problem_ids": [1]}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"statuses": ["done"]}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"min_rating": 0}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"min_rating": 2.5}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"max_rating": "5"}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"min_rating": 4, "max_rating": 2}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"customer_email_domain": "a@b"}');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-02-01', '{"assigned_agent": ""}');
-- nothing was stored by the failed calls
SELECT count(*) FROM support_troubleshooting_reports;

-- default periods, in the session time zone
SET TimeZone = 'America/New_York';
SELECT t, (r->'period'->>'start')::timestamptz = s AS start_ok, (r->'period'->>'end')::timestamptz = e AS end_ok,
       r->'period'->>'granularity' AS granularity, r->'period'->>'time_zone' AS zone
FROM (VALUES
    ('daily', date_trunc('day', now()) - interval '1 day', date_trunc('day', now())),
    ('weekly', date_trunc('week', now()) - interval '7 days', date_trunc('week', now())),
    ('monthly', date_trunc('month', now()) - interval '1 month', date_trunc('month', now())),
    ('problem_analysis', date_trunc('day', now()) - interval '30 days', date_trunc('day', now())),
    ('customer_satisfaction', date_trunc('day', now()) - interval '30 days', date_trunc('day', now()))) v(t, s, e),
LATERAL (SELECT generate_troubleshooting_report(t) AS r) g;
-- one end given: the type's length from it
SELECT r->'period' FROM (SELECT generate_troubleshooting_report('monthly', '2026-02-01') r) x;
SELECT r->'period' FROM (SELECT generate_troubleshooting_report('weekly', NULL, '2026-03-09') r) x;
-- an empty period: zeros, null averages, every key present
SELECT jsonb_pretty(r - 'id' - 'generated_at')
FROM (SELECT generate_troubleshooting_report('daily', '2026-03-08') r) x;
SET TimeZone = 'UTC';

-- hand-made history (custom range 2026-01-01 .. 2026-01-03): the known answers
INSERT INTO support_troubleshooting_sessions
    (session_id, status, started_at, resolved_at, escalated_at, ended_at, detected_problem_id,
     detected_problem_title, customer_email, assigned_agent) VALUES
    ('h1', 'resolved',  '2026-01-01 10:00+00', '2026-01-01 10:10+00', NULL, '2026-01-01 10:10+00', 'wifi', 'Wi-Fi drops', 'ana@Example.com', 'ann'),
    ('h2', 'resolved',  '2026-01-01 11:00+00', '2026-01-01 11:30+00', NULL, '2026-01-01 11:30+00', 'wifi', 'Wi-Fi drops', 'bo@example.com', 'bob'),
    ('h3', 'escalated', '2026-01-01 12:00+00', NULL, '2026-01-01 12:20+00', '2026-01-01 12:20+00', 'wifi', 'Wi-Fi drops', 'cy@other.org', 'ann'),
    ('h4', 'resolved',  '2026-01-02 09:00+00', '2026-01-02 09:05+00', NULL, '2026-01-02 09:05+00', 'dns', 'DNS fails', 'di@example.com', 'bob'),
    ('h5', 'abandoned', '2026-01-02 10:00+00', NULL, NULL, '2026-01-02 10:40+00', 'dns', 'DNS fails', NULL, NULL),
    ('h6', 'in_progress', '2026-01-02 23:00+00', NULL, NULL, NULL, NULL, NULL, 'eve@example.com', 'ann');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, attempted_at) VALUES
    ('h1', 1, 'Restart the router', true,  '2026-01-01 10:05+00'),
    ('h2', 1, 'Restart the router', false, '2026-01-01 11:05+00'),
    ('h2', 1, 'Restart the router', true,  '2026-01-01 11:10+00'),
    ('h2', 2, '=cmd|calc', false, '2026-01-01 11:20+00'),
    ('h3', 1, 'Restart the router', false, '2026-01-01 12:05+00'),
    ('h4', 1, 'Flush the cache', true, '2026-01-02 09:02+00');
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, comment, collected_at) VALUES
    ('h1', 5, 10, true, 'great', '2026-01-01 10:15+00'),
    ('h2', 4, 8, true, NULL, '2026-01-01 11:35+00'),
    ('h3', 1, 2, false, 'Juan Pérez was not happy', '2026-01-01 12:30+00'),
    ('h4', 3, NULL, NULL, NULL, '2026-01-03 08:00+00');
SELECT set_troubleshooting_config('report_min_sample', '1');
SELECT set_troubleshooting_config('report_min_feedback_response_rate', '0.9');
SELECT jsonb_pretty(r - 'id' - 'generated_at' - 'series')
FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03') r) x;
SELECT jsonb_pretty(r->'series') FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03') r) x;
-- filters
SELECT f, r->'summary'->'total_sessions' AS sessions, r->'summary'->'feedback_count' AS feedback,
       r->'summary'->'total_attempts' AS attempts
FROM (VALUES ('{"problem_ids": ["dns"]}'::jsonb), ('{"statuses": ["resolved", "escalated"]}'),
             ('{"customer_email_domain": "@EXAMPLE.com"}'), ('{"assigned_agent": "ann"}'),
             ('{"min_rating": 4}'), ('{"max_rating": 3}'), ('{"min_rating": 2, "max_rating": 3}')) v(f),
LATERAL (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', f) r) g;
-- recommendations fire from the configured thresholds
SELECT set_troubleshooting_config('report_min_resolution_rate', '0.3');
SELECT set_troubleshooting_config('report_min_feedback_response_rate', '0.1');
SELECT jsonb_array_length(r->'recommendations') AS n,
       (SELECT jsonb_agg(e->>'rule') FROM jsonb_array_elements(r->'recommendations') e) AS rules
FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', p_force => true) r) x;
-- escalations rising and CSAT dropping against the previous period (2025-12-30 .. 2026-01-01)
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, resolved_at, ended_at, detected_problem_id)
SELECT 'p' || g, 'resolved', '2025-12-30 10:00+00'::timestamptz + g * interval '1 minute',
       '2025-12-30 10:30+00'::timestamptz + g * interval '1 minute', '2025-12-30 10:30+00'::timestamptz + g * interval '1 minute', 'wifi'
FROM generate_series(1, 4) g;
INSERT INTO support_troubleshooting_feedback (session_id, rating, collected_at)
SELECT 'p' || g, 5, '2025-12-30 12:00+00' FROM generate_series(1, 4) g;
SELECT jsonb_pretty(r->'recommendations')
FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', p_force => true) r) x;
-- each type keeps the rules that fit it
SELECT t, (SELECT jsonb_agg(e->>'rule') FROM jsonb_array_elements(r->'recommendations') e) AS rules
FROM unnest(array['custom', 'problem_analysis', 'customer_satisfaction']) t,
LATERAL (SELECT generate_troubleshooting_report(t, '2026-01-01', '2026-01-03', p_force => true) r) g;
SELECT jsonb_pretty(r->'trends'->'metrics'->1)
FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', p_force => true) r) x;
SELECT set_troubleshooting_config(k, NULL) FROM unnest(array['report_min_sample', 'report_min_resolution_rate',
    'report_min_feedback_response_rate']) k;

-- the cache: same arguments, same stored report until it expires; p_force regenerates
SELECT set_troubleshooting_config('report_cache_ttl_minutes', '60');
CREATE TEMP TABLE ids AS
SELECT (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}')->>'id')::bigint AS a,
       (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}')->>'id')::bigint AS b;
SELECT a = b AS cached FROM ids;
SELECT (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}', p_force => true)->>'id')::bigint > a AS forced_new FROM ids;
SELECT (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}', true)->>'id')::bigint > a AS charts_differ FROM ids;
SELECT r.expires_at - r.generated_at AS ttl, r.report_type, r.parameters->'filters' AS filters, r.generation_ms >= 0 AS timed,
       r.data->>'id' = r.id::text AS id_inside
FROM support_troubleshooting_reports r, ids WHERE r.id = ids.a;
-- new data does not change a cached report; p_force sees it
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, assigned_agent)
VALUES ('h7', 'started', '2026-01-02 12:00+00', 'bob');
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}')->'summary'->'total_sessions' AS cached,
       generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}', p_force => true)->'summary'->'total_sessions' AS forced;
-- an expired entry is not served, and cleanup removes it
UPDATE support_troubleshooting_reports SET expires_at = now() - interval '1 second' WHERE cache_key IN
    (SELECT cache_key FROM support_troubleshooting_reports r, ids WHERE r.id = ids.a);
SELECT (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03', '{"assigned_agent": "bob"}')->>'id')::bigint > a AS regenerated FROM ids;
SET client_min_messages = warning;
SELECT rows_deleted > 0 AS removed FROM cleanup_old_troubleshooting_data() WHERE table_name = 'support_troubleshooting_reports';
RESET client_min_messages;
SELECT count(*) AS expired_left FROM support_troubleshooting_reports WHERE expires_at <= now();
-- ttl 0: every call generates, nothing is served from the cache
SELECT set_troubleshooting_config('report_cache_ttl_minutes', '0');
SELECT (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03')->>'id')::bigint
     < (generate_troubleshooting_report('custom', '2026-01-01', '2026-01-03')->>'id')::bigint AS not_cached;
SELECT set_troubleshooting_config('report_cache_ttl_minutes', NULL);
-- a read-only transaction (as on a hot standby) generates without storing
BEGIN TRANSACTION READ ONLY;
SELECT r->'id' AS id, r->'summary'->'total_sessions' AS sessions
FROM (SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-02', p_force => true) r) x;
COMMIT;
-- only the owner may generate
CREATE ROLE ts_report_reader;
SET ROLE ts_report_reader;
SELECT generate_troubleshooting_report('daily');
SELECT count(*) FROM support_troubleshooting_reports;
RESET ROLE;
DROP ROLE ts_report_reader;

-- random history: every type equals the reference, unfiltered and filtered,
-- in UTC, New York (a DST change inside the range) and Kolkata (+5:30)
TRUNCATE support_troubleshooting_sessions CASCADE;
SELECT rebuild_troubleshooting_metrics();
\set ECHO none
\set sessions 1500
\set days 75
\set seed 0.31
\o /dev/null
\i bench/generate_data.sql
\o
\set ECHO all
SELECT count(*) > 1000 AS generated FROM support_troubleshooting_sessions;
CREATE TEMP TABLE cases (zone text, t text, s timestamptz, e timestamptz, f jsonb);
INSERT INTO cases
SELECT z, t, s, e, f
FROM unnest(array['UTC', 'America/New_York', 'Asia/Kolkata']) z,
     (VALUES ('daily', NULL::timestamptz, NULL::timestamptz), ('weekly', NULL, NULL), ('monthly', NULL, NULL),
             ('problem_analysis', NULL, NULL), ('customer_satisfaction', NULL, NULL),
             ('custom', now() - interval '40 days', now() - interval '3 days'),
             ('custom', now() - interval '30 hours', now() - interval '2 hours')) v(t, s, e),
     (VALUES ('{}'::jsonb), ('{"problem_ids": ["wifi_drops", "no_internet", "printer_offline"]}'),
             ('{"statuses": ["resolved", "abandoned", "timed_out"], "min_rating": 3}'),
             ('{"customer_email_domain": "example.com", "max_rating": 4}')) w(f);
CREATE TEMP TABLE results (zone text, t text, f jsonb, part text, eq boolean);
DO $$
DECLARE
    c record;
    r jsonb;
BEGIN
    FOR c IN SELECT * FROM cases LOOP
        PERFORM set_config('TimeZone', c.zone, true);
        r := generate_troubleshooting_report(c.t, c.s, c.e, c.f, false, true);
        INSERT INTO results
        SELECT c.zone, c.t, c.f, k,
               ts_ref.report_parts(r)->k = ts_ref.report_expected(r, (r->'trends'->'previous_period'->>'start')::timestamptz, 10)->k
        FROM unnest(array['summary', 'series', 'top_problems', 'satisfaction', 'previous_summary_kpis']) k;
    END LOOP;
END $$;
SELECT count(*) AS comparisons, count(*) FILTER (WHERE eq) AS equal FROM results;
SELECT * FROM results WHERE NOT eq;
-- the cache keeps time zones apart (the series buckets differ)
SET TimeZone = 'Asia/Kolkata';
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-05')->'series'->0->'period_start' AS kolkata;
SET TimeZone = 'UTC';
SELECT generate_troubleshooting_report('custom', '2026-01-01', '2026-01-05')->'series'->0->'period_start' AS utc;
-- unfiltered reports agree with get_troubleshooting_metrics_by_period, row by row
SELECT count(*) AS reports,
       count(*) FILTER (WHERE series_ok AND summary_ok) AS agree
FROM cases c,
LATERAL (SELECT generate_troubleshooting_report(c.t, c.s, c.e) AS r) g,
LATERAL (SELECT
    (SELECT jsonb_agg(jsonb_build_object('period_start', m.period_start, 'total_sessions', m.total_sessions,
                                         'resolved_sessions', m.resolved_sessions, 'escalated_sessions', m.escalated_sessions,
                                         'abandoned_sessions', m.abandoned_sessions, 'resolution_rate', m.resolution_rate,
                                         'avg_resolution_time_minutes', m.avg_resolution_time_minutes,
                                         'total_attempts', m.total_attempts, 'feedback_count', m.feedback_count,
                                         'avg_rating', m.avg_rating) ORDER BY m.period_start)
     FROM get_troubleshooting_metrics_by_period(r->'period'->>'granularity', (r->'period'->>'start')::timestamptz,
                                               (r->'period'->>'end')::timestamptz) m
     WHERE m.period_start < (r->'period'->>'end')::timestamptz) = r->'series' AS series_ok,
    (SELECT sum(total_sessions) = (r->'summary'->>'total_sessions')::bigint
            AND sum(total_attempts) = (r->'summary'->>'total_attempts')::bigint
            AND sum(feedback_count) = (r->'summary'->>'feedback_count')::bigint
     FROM get_troubleshooting_metrics_by_period('month', (r->'period'->>'start')::timestamptz,
                                               (r->'period'->>'end')::timestamptz)) AS summary_ok) x
WHERE c.f = '{}' AND c.zone = 'UTC';
