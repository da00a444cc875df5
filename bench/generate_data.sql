-- bench/generate_data.sql: realistic sample data for the troubleshooting extension.
--
--   psql -v sessions=5000 -v days=30 -v seed=0.42 [-v offset_days=0] -f bench/generate_data.sql
--
-- Sessions spread over :days days ending :offset_days days ago (busier in
-- working hours), a weighted mix of problems with their own fix steps, resolution
-- and escalation rates, attempts per step, feedback (ratings and NPS that
-- follow the outcome), and ML predictions with some corrections.  The newest
-- sessions are still active.  Session ids carry :prefix so that several loads
-- can share a database.  The problems and names come from bench/catalogue.sql
-- (shared with the demo traffic, bench/traffic.sql), included from this
-- file's folder.  Not part of the installed extension.

\set ON_ERROR_STOP on
\if :{?sessions}
\else
\set sessions 5000
\endif
\if :{?days}
\else
\set days 30
\endif
\if :{?seed}
\else
\set seed 0.42
\endif
\if :{?prefix}
\else
\set prefix 'ts'
\endif
\if :{?offset_days}
\else
\set offset_days 0
\endif

BEGIN;
SELECT setseed(:seed);

\ir catalogue.sql

-- one row per session with its random draws
CREATE TEMP TABLE gen_sessions ON COMMIT DROP AS
SELECT g,
       p.problem_id, p.title, p.p_resolve, p.p_escalate, p.median_minutes, p.steps,
       ts.started_at,
       r.outcome_draw, r.customer, r.steps_draw, r.dur_draw, r.email_draw
FROM generate_series(1, :sessions) AS g
CROSS JOIN LATERAL (SELECT random() AS problem_draw, random() AS outcome_draw,
                           1 + floor(random() * greatest(:sessions / 3, 1))::int AS customer,
                           random() AS steps_draw, random() AS dur_draw, random() AS email_draw,
                           random() AS day_draw, random() AS hour_draw, random() AS busy_draw,
                           g AS gg) AS r
CROSS JOIN LATERAL (SELECT * FROM gen_pick WHERE cum >= r.problem_draw ORDER BY cum LIMIT 1) AS p
CROSS JOIN LATERAL (
    SELECT CASE WHEN t > now() THEN t - interval '1 day' ELSE t END AS started_at  -- not in the future
    FROM (SELECT date_trunc('day', now() - (:offset_days + r.day_draw * :days) * interval '1 day')
                 + CASE WHEN r.busy_draw < 0.8
                        THEN interval '8 hours' + r.hour_draw * interval '10 hours'   -- working hours
                        ELSE r.hour_draw * interval '24 hours' END AS t) AS t0) AS ts;

INSERT INTO support_troubleshooting_sessions
    (session_id, customer_email, customer_name, problem_description, detected_problem_id,
     detected_problem_title, status, ticket_id, assigned_agent, started_at, last_activity_at,
     resolved_at, escalated_at, ended_at, total_steps, completed_steps, metadata)
SELECT :'prefix' || '-' || g,
       CASE WHEN email_draw < 0.9 THEN lower(translate(n.first || '.' || n.last, 'áéíóúüöëčñ''', 'aeiouuoecn')) || customer || '@example.com' END,
       n.first || ' ' || n.last,
       'Customer reports: ' || lower(title),
       problem_id, title, o.status,
       CASE WHEN o.status = 'escalated' THEN 'TCK-' || (100000 + g) END,
       CASE WHEN o.status = 'escalated' THEN (ARRAY['agent.lee', 'agent.ortiz', 'agent.kim', 'agent.novak'])[1 + g % 4] END,
       started_at,
       coalesce(o.ended_at, started_at + o.minutes * interval '1 minute'),
       CASE WHEN o.status = 'resolved' THEN o.ended_at END,
       CASE WHEN o.status = 'escalated' THEN o.ended_at END,
       o.ended_at,
       array_length(steps, 1),
       o.done_steps,
       jsonb_build_object('channel', (ARRAY['web', 'app', 'chat'])[1 + g % 3], 'agent_version', '4.0')
FROM gen_sessions s
JOIN gen_names n ON n.i = 1 + s.customer % 300
CROSS JOIN LATERAL (
    SELECT *,
           -- still active when it started less than its duration ago
           CASE WHEN s.started_at + x.minutes * interval '1 minute' > now()
                THEN (CASE WHEN x.done_steps = 0 THEN 'started' ELSE 'in_progress' END)
                ELSE x.final END AS status,
           CASE WHEN s.started_at + x.minutes * interval '1 minute' <= now()
                THEN s.started_at + x.minutes * interval '1 minute' END AS ended_at
    FROM (SELECT
            CASE WHEN s.outcome_draw < s.p_resolve THEN 'resolved'
                 WHEN s.outcome_draw < s.p_resolve + s.p_escalate THEN 'escalated'
                 WHEN s.outcome_draw < s.p_resolve + s.p_escalate + (1 - s.p_resolve - s.p_escalate) * 0.7 THEN 'abandoned'
                 ELSE 'timed_out' END AS final,
            -- log-normal-ish duration around the problem's median
            round((s.median_minutes * exp((s.dur_draw - 0.5) * 2.2))::numeric, 1)::float8 AS minutes,
            1 + floor(s.steps_draw * array_length(s.steps, 1))::int AS done_steps) AS x
) AS o;

-- attempts: each completed step once, some retried; the last step of a resolved
-- session succeeds, failures pile up before escalations
INSERT INTO support_troubleshooting_attempts
    (session_id, step_number, step_title, success, error_message, duration_ms, attempted_at, metadata)
SELECT x.session_id, st.step, gs.steps[st.step], a.success,
       CASE WHEN NOT a.success THEN (ARRAY['Step did not fix the problem', 'Customer could not complete the step',
                                           'Device not responding', 'Timed out waiting for the customer'])[1 + (st.step + x.id) % 4] END,
       (20000 + random() * 160000)::int,
       least(x.started_at + (st.step - 1 + a.retry * 0.5) * (x.last_activity_at - x.started_at) / greatest(x.completed_steps, 1),
             x.last_activity_at),
       '{}'
FROM support_troubleshooting_sessions x
JOIN gen_sessions gs ON x.session_id = :'prefix' || '-' || gs.g
CROSS JOIN LATERAL generate_series(1, x.completed_steps) AS st(step)
CROSS JOIN LATERAL (
    SELECT r AS retry,
           CASE WHEN x.status = 'resolved' AND st.step = x.completed_steps AND r = 0 THEN true
                WHEN x.status = 'escalated' THEN random() < 0.15
                ELSE random() < 0.35 END AS success
    FROM generate_series(0, CASE WHEN random() < 0.2 THEN 1 ELSE 0 END) AS r
) AS a;

-- feedback from about a third of finished sessions; ratings follow the outcome
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, comment, collected_at)
SELECT session_id, f.rating,
       CASE WHEN random() < 0.7 THEN least(10, greatest(0, f.rating * 2 + floor(random() * 3)::int - 1)) END,
       f.rating >= 4,
       CASE WHEN random() < 0.25 THEN (ARRAY['Quick and easy, thanks!', 'The steps were clear.', 'Took too long.',
                                             'Still not working.', 'Great help — ¡gracias!', 'Had to call anyway.'])[1 + floor(random() * 6)::int] END,
       least(ended_at + (5 + random() * 600) * interval '1 minute', now())
FROM (SELECT s.*, random() AS d FROM support_troubleshooting_sessions s
      JOIN gen_sessions gs ON s.session_id = :'prefix' || '-' || gs.g
      WHERE s.ended_at IS NOT NULL) s
CROSS JOIN LATERAL (
    SELECT CASE status
             WHEN 'resolved' THEN (ARRAY[3, 4, 4, 5, 5, 5, 5, 5])[1 + floor(random() * 8)::int]
             WHEN 'escalated' THEN (ARRAY[1, 1, 2, 2, 3, 3, 4])[1 + floor(random() * 7)::int]
             ELSE (ARRAY[1, 2, 2, 3, 3, 4])[1 + floor(random() * 6)::int] END AS rating
) AS f
WHERE s.d < CASE WHEN s.status = 'resolved' THEN 0.40 WHEN s.status = 'escalated' THEN 0.30 ELSE 0.10 END;

-- ML predictions for most sessions, a few corrected by agents
INSERT INTO support_troubleshooting_ml_training
    (session_id, problem_description, predicted_problem_id, confidence_score, corrected_problem_id,
     corrected_by, use_for_training, created_at, reviewed_at)
SELECT s.session_id, s.problem_description,
       CASE WHEN p.wrong THEN (SELECT problem_id FROM gen_problems WHERE n = 1 + (s.id % 11)::int) ELSE s.detected_problem_id END,
       round(p.conf::numeric, 3),
       CASE WHEN p.wrong AND p.reviewed THEN s.detected_problem_id END,
       CASE WHEN p.wrong AND p.reviewed THEN 'agent.lee' END,
       p.wrong AND p.reviewed,
       s.started_at,
       CASE WHEN p.reviewed THEN least(s.started_at + interval '1 day', now()) END
FROM support_troubleshooting_sessions s
JOIN gen_sessions gs ON s.session_id = :'prefix' || '-' || gs.g
CROSS JOIN LATERAL (SELECT random() < 0.12 AS wrong, random() < 0.5 AS reviewed,
                           0.55 + random() * 0.44 AS conf) AS p
WHERE random() < 0.6;
COMMIT;

ANALYZE support_troubleshooting_sessions, support_troubleshooting_attempts,
        support_troubleshooting_feedback, support_troubleshooting_ml_training;
