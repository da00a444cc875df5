-- test/cluster/citus_data.sql: deterministic sessions, attempts, feedback
-- and ML rows for comparing the readers on a Citus cluster with a single
-- server (test/citus_reader_checks.sh).
--
--   psql -v prefix=c -v n=2000 -v base="'2026-06-01 00:00+00'" \
--        [-v recent="'2026-12-03 04:00+00'"] -f test/cluster/citus_data.sql
--
-- Sessions :prefix-1 .. :prefix-:n.  Nothing is random: every value is
-- arithmetic on the session's number, so two loads with the same variables
-- write the same rows, on a single server, a Citus coordinator or a Citus
-- worker node (plain INSERT ... SELECT, no temporary tables).
--   * 19 of 20 sessions lie in the 70 days before :base, in a final status
--     (resolved, escalated, abandoned, timed_out; a few resolved without
--     resolved_at), some starting exactly on the hour.
--   * 1 of 20 lies in the last 22 hours before :recent (default: now() to
--     the minute, so loads in the same minute agree; loads that must compare
--     equal pass the same :recent): active ones (started, in_progress), and
--     resolved or escalated ones whose end is 5 to 45 minutes or 75 minutes
--     to 22 hours before :recent, so the realtime windows (the last hour, the
--     last day) keep their rows for a while after the load.  Active sessions
--     have their last activity a day after :recent and no more than two
--     failed attempts, so neither the idle timeout nor auto-escalation
--     changes them during a test.
--   * 1 to 5 attempts a session, steps repeated (first tries), a few on
--     step 0, titles that differ for one step, 1 in 4 failing.
--   * 0 to 3 feedback rows a session (ratings, NPS, helpful, some exactly
--     on the hour); ML predictions for 1 session in 50.
-- Within a session no two attempts of one step, nor two feedback rows, share
-- a time, and recent sessions never share a start: no answer depends on the
-- ids a node hands out.
\set ON_ERROR_STOP on
\if :{?prefix}
\else
\set prefix c
\endif
\if :{?n}
\else
\set n 2000
\endif
\if :{?base}
\else
\set base '''2026-06-01 00:00+00'''
\endif
\if :{?recent}
\else
\set recent 'date_trunc(''minute'', now())'
\endif

-- the sessions: number i, whether it is recent, its problem, outcome and times
INSERT INTO support_troubleshooting_sessions
    (session_id, customer_email, customer_name, problem_description, detected_problem_id,
     detected_problem_title, status, ticket_id, assigned_agent, started_at, last_activity_at,
     resolved_at, escalated_at, ended_at, total_steps, completed_steps, metadata)
SELECT :'prefix' || '-' || v.i,
       CASE WHEN v.i % 11 = 0 THEN NULL
            ELSE 'cust' || v.i % 150 || '@' || (ARRAY['example.com', 'Example.ORG', 'mail.test', 'corp.example.com'])[1 + v.i % 4] END,
       'Customer ' || v.i % 150,
       'Problem ' || v.p,
       CASE WHEN v.p < 8 THEN (ARRAY['wifi', 'dns', 'printer', 'vpn', 'email', 'tv', 'billing', 'app'])[1 + v.p] END,
       CASE WHEN v.p >= 8 THEN NULL
            WHEN v.i % 13 = 0 THEN NULL
            WHEN v.i % 7 = 0 THEN 'Old title of ' || v.p
            ELSE 'Problem number ' || v.p END,
       v.status,
       CASE WHEN v.status = 'escalated' THEN 'T-' || v.i END,
       (ARRAY['agent.ann', 'agent.bob', 'agent.cy', NULL])[1 + v.i % 4],
       v.started_at,
       CASE WHEN v.status IN ('started', 'in_progress') THEN (:recent)::timestamptz + interval '1 day'
            ELSE v.ended_at END,
       CASE WHEN v.status = 'resolved' THEN v.ended_at END,
       CASE WHEN v.status = 'escalated' THEN v.ended_at END,
       v.ended_at,
       5, v.i % 6,
       jsonb_build_object('n', v.i)
FROM (
    SELECT i, p, status,
           CASE WHEN recent THEN end_at - dur ELSE started END AS started_at,
           CASE WHEN status IN ('started', 'in_progress') THEN NULL
                WHEN recent THEN end_at ELSE started + dur END AS ended_at
    FROM (
        SELECT i, recent, (i * 7 + i / 9) % 9 AS p,
               CASE WHEN recent THEN (ARRAY['started', 'in_progress', 'resolved', 'escalated', 'resolved'])[1 + (i / 20) % 5]
                    ELSE (ARRAY['resolved', 'resolved', 'resolved', 'resolved', 'resolved', 'resolved', 'resolved',
                                'resolved', 'resolved', 'resolved', 'resolved', 'escalated', 'escalated', 'escalated',
                                'escalated', 'abandoned', 'abandoned', 'timed_out', 'resolved', 'escalated'])[1 + (i * 13) % 20]
               END AS status,
               -- history: distinct seconds over 70 days, every 50th on the hour
               CASE WHEN i % 50 = 1
                    THEN date_trunc('hour', (:base)::timestamptz - ((i * 3023) % 6048000) * interval '1 second')
                    ELSE (:base)::timestamptz - ((i * 3023) % 6048000) * interval '1 second'
                         - (abs(hashtext(:'prefix')) % 1000) * interval '1 millisecond' END AS started,
               -- recent: the end (or start, when active) 5-45 min or 75 min-22 h before :recent
               (:recent)::timestamptz
                 - CASE WHEN (i * 797) % 77700 < 2400 THEN 300 + (i * 797) % 77700
                        ELSE 4500 + (i * 797) % 77700 - 2400 END * interval '1 second'
                 - (abs(hashtext(:'prefix')) % 1000) * interval '1 millisecond' AS end_at,
               CASE WHEN recent THEN (i % 3) * interval '17 minutes' + (i % 13) * interval '1 second'
                    ELSE interval '3 minutes' + ((i * 31) % 240) * interval '1 minute'
                         + (i % 13) * interval '1 second' + interval '0.123456 second' END
                 * CASE WHEN recent AND (i / 20) % 5 < 2 THEN 0 ELSE 1 END AS dur
        FROM (SELECT i, i % 20 = 0 AS recent FROM generate_series(1, :n) AS i) g
    ) w
) v;

-- a few resolved sessions without a resolution time
UPDATE support_troubleshooting_sessions SET resolved_at = NULL
 WHERE session_id LIKE :'prefix' || '-%' AND status = 'resolved'
   AND CASE WHEN session_id LIKE :'prefix' || '-%'
            THEN substr(session_id, length(:'prefix') + 2) IN
                 (SELECT i::text FROM generate_series(5, :n, 97) AS i) END;

-- attempts: k = 1..m at the session's start + 41 s each, steps 1, 2, 3, 1, 2
-- (every 17th session starts at step 0), 1 in 4 failing
INSERT INTO support_troubleshooting_attempts
    (session_id, step_number, step_title, success, error_message, duration_ms, attempted_at, metadata)
SELECT s.session_id,
       CASE WHEN g.i % 17 = 0 AND k = 1 THEN 0 ELSE (k - 1) % 3 + 1 END,
       CASE WHEN (g.i + k) % 19 = 0 THEN NULL
            WHEN k = 2 AND g.i % 5 = 0 THEN 'Second step, renamed'
            ELSE 'Step ' || ((k - 1) % 3 + 1) || ' of ' || coalesce(s.detected_problem_id, 'none') END,
       (g.i + 3 * k) % 4 <> 0,
       CASE WHEN (g.i + 3 * k) % 4 = 0 THEN 'failed ' || k END,
       100 * k + g.i % 1000,
       s.started_at + k * interval '41 seconds' + (g.i % 7) * interval '1 second',
       '{}'
FROM generate_series(1, :n) AS g(i)
JOIN support_troubleshooting_sessions s ON s.session_id = :'prefix' || '-' || g.i
CROSS JOIN LATERAL generate_series(1, 1 + (g.i * 7) % 5) AS k;

-- feedback: j = 1..f after the session's end (or start), spaced 37 to 89
-- minutes apart in history and 30 s apart in recent sessions
INSERT INTO support_troubleshooting_feedback
    (session_id, rating, nps_score, was_helpful, comment, collected_at)
SELECT s.session_id,
       1 + (g.i * 3 + j * 2) % 5,
       CASE WHEN (g.i + j) % 4 = 0 THEN NULL ELSE (g.i * 7 + j) % 11 END,
       CASE (g.i + j) % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
       CASE WHEN j = 1 THEN 'comment ' || g.i END,
       CASE WHEN g.i % 20 = 0
            THEN coalesce(s.ended_at, s.started_at) + j * interval '30 seconds'
            WHEN g.i % 43 = 0
            THEN date_trunc('hour', s.ended_at) + j * interval '1 hour'
            ELSE s.ended_at + j * (interval '37 minutes' + (g.i % 5) * interval '13 minutes')
       END
FROM generate_series(1, :n) AS g(i)
JOIN support_troubleshooting_sessions s ON s.session_id = :'prefix' || '-' || g.i
CROSS JOIN LATERAL generate_series(1, (ARRAY[0, 0, 0, 1, 1, 2, 3])[1 + (g.i * 11) % 7]) AS j
WHERE s.status NOT IN ('started', 'in_progress') OR g.i % 40 = 0;

-- ML predictions (some corrected) for every 50th session
INSERT INTO support_troubleshooting_ml_training
    (session_id, problem_description, predicted_problem_id, confidence_score, corrected_problem_id,
     corrected_by, use_for_training, created_at, reviewed_at)
SELECT s.session_id, s.problem_description, coalesce(s.detected_problem_id, 'unknown'),
       0.5 + (g.i % 50) / 100.0,
       CASE WHEN g.i % 150 = 0 THEN 'dns' END,
       CASE WHEN g.i % 150 = 0 THEN 'agent.ann' END,
       g.i % 100 = 0, s.started_at,
       CASE WHEN g.i % 150 = 0 THEN s.started_at + interval '1 day' END
FROM generate_series(1, :n) AS g(i)
JOIN support_troubleshooting_sessions s ON s.session_id = :'prefix' || '-' || g.i
WHERE g.i % 50 = 0;
