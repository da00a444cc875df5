-- bench/traffic.sql: one tick of the demo's live traffic, in one transaction
-- (bench/traffic.sh runs it every few seconds):
--
--   psql -v backfill=on|off [-v prefix=live] [-v burst=60] -f bench/traffic.sql
--
-- A tick opens none, one or two sessions (problems and customers from
-- bench/catalogue.sql), works the open ones (an attempt at the next fix
-- step now and then; a success mostly resolves the session, failures pile
-- up until an agent or the extension's auto-escalation escalates it, a few
-- customers walk away), and collects feedback for some sessions a little
-- after they end.  With backfill on and fewer than 5 sessions started in
-- the last hour (a demo restarted days after its history ends), it first
-- loads a burst of :burst sessions over the last hour: some finished, some
-- still open, with their attempts and feedback.  Sessions go in as the
-- agent writes them: status changes through the lifecycle trigger, which
-- stamps resolved_at, escalated_at and ended_at.  Simulated customers leave
-- no e-mail address, so resolving one queues no feedback-request e-mail
-- (the demo has no mail provider).  Prints one summary line.  Every value
-- is generated here; the variables are bound as literals (:'prefix').

\set ON_ERROR_STOP on
\if :{?backfill}
\else
\set backfill off
\endif
\if :{?prefix}
\else
\set prefix live
\endif
\if :{?burst}
\else
\set burst 60
\endif
\set filled 0

BEGIN;
\ir catalogue.sql

-- the stem of this tick's session ids: the prefix and the UTC time to the millisecond
SELECT :'prefix' || '-' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISSMS') AS stem \gset

\if :backfill
SELECT count(*) < 5 AS quiet FROM support_troubleshooting_sessions
WHERE started_at >= now() - interval '1 hour' \gset
\if :quiet
-- the burst: sessions started over the last hour, each with its draws
CREATE TEMP TABLE burst ON COMMIT DROP AS
SELECT g, p.problem_id, p.title, p.steps, n.first || ' ' || n.last AS customer, r.channel,
       now() - (1 + r.start_draw * 58) * interval '1 minute' AS started_at,
       round((p.median_minutes * exp((r.dur_draw - 0.5) * 2.2))::numeric, 1)::float8 AS minutes,
       1 + floor(r.steps_draw * array_length(p.steps, 1))::int AS done_steps,
       CASE WHEN r.outcome_draw < p.p_resolve THEN 'resolved'
            WHEN r.outcome_draw < p.p_resolve + p.p_escalate THEN 'escalated'
            ELSE 'abandoned' END AS outcome
FROM generate_series(1, :burst) AS g
CROSS JOIN LATERAL (SELECT random() AS problem_draw, random() AS start_draw, random() AS dur_draw,
                           random() AS steps_draw, random() AS outcome_draw,
                           1 + floor(random() * 300)::int AS name_draw, 1 + floor(random() * 3)::int AS channel,
                           g AS gg) AS r
CROSS JOIN LATERAL (SELECT * FROM gen_pick WHERE cum >= r.problem_draw ORDER BY cum LIMIT 1) AS p
JOIN gen_names n ON n.i = r.name_draw;

-- finished when its duration has passed, else still open with the steps done so far
INSERT INTO support_troubleshooting_sessions
    (session_id, customer_name, problem_description, detected_problem_id, detected_problem_title, status,
     ticket_id, assigned_agent, started_at, last_activity_at, resolved_at, escalated_at, ended_at,
     total_steps, completed_steps, metadata)
SELECT :'stem' || '-b' || b.g, b.customer, 'Customer reports: ' || lower(b.title), b.problem_id, b.title,
       o.status,
       CASE WHEN o.status = 'escalated' THEN 'TCK-' || (700000 + b.g) END,
       CASE WHEN o.status = 'escalated' THEN (ARRAY['agent.lee', 'agent.ortiz', 'agent.kim', 'agent.novak'])[1 + b.g % 4] END,
       b.started_at,
       coalesce(o.ended_at, b.started_at + (now() - b.started_at) * 0.9),
       CASE WHEN o.status = 'resolved' THEN o.ended_at END,
       CASE WHEN o.status = 'escalated' THEN o.ended_at END,
       o.ended_at,
       array_length(b.steps, 1), o.steps,
       jsonb_build_object('channel', (ARRAY['web', 'app', 'chat'])[b.channel], 'agent_version', '4.0', 'simulated', true)
FROM burst b
CROSS JOIN LATERAL (
    SELECT CASE WHEN done THEN b.outcome WHEN b.done_steps > 1 THEN 'in_progress' ELSE 'started' END AS status,
           CASE WHEN done THEN b.started_at + b.minutes * interval '1 minute' END AS ended_at,
           CASE WHEN done THEN b.done_steps ELSE b.done_steps - 1 END AS steps
    FROM (SELECT b.started_at + b.minutes * interval '1 minute' <= now() AS done) AS d) AS o;

-- an attempt per step done, spread over the session; a resolved session's
-- last step succeeds
INSERT INTO support_troubleshooting_attempts
    (session_id, step_number, step_title, success, error_message, duration_ms, attempted_at, metadata)
SELECT s.session_id, st.step, b.steps[st.step], a.success,
       CASE WHEN NOT a.success THEN (ARRAY['Step did not fix the problem', 'Customer could not complete the step',
                                           'Device not responding', 'Timed out waiting for the customer'])[1 + (st.step + b.g) % 4] END,
       (20000 + random() * 160000)::int,
       s.started_at + (st.step - 0.5) * (s.last_activity_at - s.started_at) / s.completed_steps,
       '{"simulated": true}'
FROM burst b
JOIN support_troubleshooting_sessions s ON s.session_id = :'stem' || '-b' || b.g
CROSS JOIN LATERAL generate_series(1, s.completed_steps) AS st(step)
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.status = 'resolved' AND st.step = s.completed_steps THEN true
                WHEN s.status = 'escalated' THEN random() < 0.15
                ELSE random() < 0.35 END AS success) AS a;

SELECT count(*) AS filled FROM burst \gset
\endif
\endif

-- new sessions: none, one or two
WITH opened AS (
    INSERT INTO support_troubleshooting_sessions
        (session_id, customer_name, problem_description, detected_problem_id, detected_problem_title,
         total_steps, metadata)
    SELECT :'stem' || '-' || g, n.first || ' ' || n.last, 'Customer reports: ' || lower(p.title),
           p.problem_id, p.title, array_length(p.steps, 1),
           jsonb_build_object('channel', (ARRAY['web', 'app', 'chat'])[r.channel], 'agent_version', '4.0', 'simulated', true)
    FROM generate_series(1, (SELECT CASE WHEN x < 0.6 THEN 0 WHEN x < 0.95 THEN 1 ELSE 2 END
                             FROM (SELECT random() AS x) AS d)) AS g
    CROSS JOIN LATERAL (SELECT random() AS problem_draw, 1 + floor(random() * 300)::int AS name_draw,
                               1 + floor(random() * 3)::int AS channel, g AS gg) AS r
    CROSS JOIN LATERAL (SELECT * FROM gen_pick WHERE cum >= r.problem_draw ORDER BY cum LIMIT 1) AS p
    JOIN gen_names n ON n.i = r.name_draw
    RETURNING 1)
SELECT count(*) AS opened FROM opened \gset

-- the open sessions of the last day with a problem of the catalogue (the
-- newest 200, none a concurrent writer holds), and what happens to each:
-- an attempt at its next step in 3% of the ticks (out of steps: escalated),
-- the customer walking away in 0.1%.  At a tick every 2.5 s, with 0.45 new
-- sessions a tick, a session lasts two to three minutes and some 20 are open
CREATE TEMP TABLE moves ON COMMIT DROP AS
WITH open_sessions AS (
    SELECT s.session_id, s.completed_steps + 1 AS step, p.steps, p.p_resolve, p.p_escalate
    FROM support_troubleshooting_sessions s
    JOIN gen_problems p ON p.problem_id = s.detected_problem_id
    WHERE s.status IN ('started', 'in_progress')
      AND s.started_at > now() - interval '1 day' AND s.started_at < now()
    ORDER BY s.started_at DESC
    LIMIT 200
    FOR UPDATE OF s SKIP LOCKED)
SELECT o.*, d.ok_draw < o.p_resolve * 0.55 AS success,
       d.leave_draw >= 0.001 AND d.act_draw < 0.03 AND o.step <= array_length(o.steps, 1) AS tried,
       CASE WHEN d.leave_draw < 0.001 THEN 'abandoned'
            WHEN d.act_draw >= 0.03 THEN NULL
            WHEN o.step > array_length(o.steps, 1) THEN 'escalated'
            WHEN d.ok_draw < o.p_resolve * 0.55 THEN CASE WHEN d.fix_draw < 0.85 THEN 'resolved' ELSE 'in_progress' END
            WHEN d.fix_draw < o.p_escalate * 0.4 THEN 'escalated'
            ELSE 'in_progress' END AS to_status
FROM open_sessions o
CROSS JOIN LATERAL (SELECT random() AS act_draw, random() AS ok_draw, random() AS fix_draw,
                           random() AS leave_draw, o.step AS ss) AS d;

-- the attempts (the extension's trigger escalates a session whose failures
-- reach auto_escalate_after_failures)
WITH tried AS (
    INSERT INTO support_troubleshooting_attempts
        (session_id, step_number, step_title, success, error_message, duration_ms, metadata)
    SELECT m.session_id, m.step, m.steps[m.step], m.success,
           CASE WHEN NOT m.success THEN (ARRAY['Step did not fix the problem', 'Customer could not complete the step',
                                               'Device not responding', 'Timed out waiting for the customer'])[1 + floor(random() * 4)::int] END,
           (20000 + random() * 160000)::int, '{"simulated": true}'
    FROM moves m
    WHERE m.tried
    RETURNING success)
SELECT count(*) AS attempts, count(*) FILTER (WHERE NOT success) AS failed FROM tried \gset

-- the sessions move on: the steps done, and the status each reached (one
-- the trigger has just escalated keeps that status, with the step counted)
UPDATE support_troubleshooting_sessions s
SET completed_steps = CASE WHEN m.tried THEN m.step ELSE s.completed_steps END,
    status = CASE WHEN s.status IN ('started', 'in_progress') THEN m.to_status ELSE s.status END,
    ticket_id = CASE WHEN s.status IN ('started', 'in_progress') AND m.to_status = 'escalated' THEN 'TCK-' || (800000 + s.id % 100000) ELSE s.ticket_id END,
    assigned_agent = CASE WHEN s.status IN ('started', 'in_progress') AND m.to_status = 'escalated'
                          THEN (ARRAY['agent.lee', 'agent.ortiz', 'agent.kim', 'agent.novak'])[1 + (s.id % 4)::int]
                          ELSE s.assigned_agent END
FROM moves m
WHERE m.session_id = s.session_id AND m.to_status IS NOT NULL;

SELECT count(*) FILTER (WHERE s.status = 'resolved') AS resolved,
       count(*) FILTER (WHERE s.status = 'escalated') AS escalated,
       count(*) FILTER (WHERE s.status = 'abandoned') AS abandoned
FROM moves m JOIN support_troubleshooting_sessions s USING (session_id) \gset

-- feedback: some finished sessions of the last hour (40% of the resolved,
-- 30% of the escalated, 10% of the others, picked by a hash of the id) get
-- it 5 to 65 seconds after they end; ratings follow the outcome
WITH rated AS (
    INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, comment, collected_at)
    SELECT s.session_id, f.rating,
           CASE WHEN random() < 0.7 THEN least(10, greatest(0, f.rating * 2 + floor(random() * 3)::int - 1)) END,
           f.rating >= 4,
           CASE WHEN random() < 0.25 THEN (ARRAY['Quick and easy, thanks!', 'The steps were clear.', 'Took too long.',
                                                 'Still not working.', 'Great help — ¡gracias!', 'Had to call anyway.'])[1 + floor(random() * 6)::int] END,
           s.ended_at + w.delay
    FROM support_troubleshooting_sessions s
    CROSS JOIN LATERAL (SELECT (5 + abs(hashtext(s.session_id || '/feedback-delay')::bigint) % 61) * interval '1 second' AS delay) AS w
    CROSS JOIN LATERAL (
        SELECT CASE s.status
                 WHEN 'resolved' THEN (ARRAY[3, 4, 4, 5, 5, 5, 5, 5])[1 + floor(random() * 8)::int]
                 WHEN 'escalated' THEN (ARRAY[1, 1, 2, 2, 3, 3, 4])[1 + floor(random() * 7)::int]
                 ELSE (ARRAY[1, 2, 2, 3, 3, 4])[1 + floor(random() * 6)::int] END AS rating, s.id AS sid) AS f
    WHERE s.started_at > now() - interval '3 hours'
      AND s.status IN ('resolved', 'escalated', 'abandoned', 'timed_out')
      AND s.ended_at > now() - interval '1 hour' AND s.ended_at + w.delay <= now()
      AND abs(hashtext(s.session_id || '/feedback')::bigint) % 100
          < CASE s.status WHEN 'resolved' THEN 40 WHEN 'escalated' THEN 30 ELSE 10 END
      AND NOT EXISTS (SELECT FROM support_troubleshooting_feedback x WHERE x.session_id = s.session_id)
    RETURNING 1)
SELECT count(*) AS feedback FROM rated \gset

SELECT format('opened %s, attempts %s (%s failed), resolved %s, escalated %s, abandoned %s, feedback %s, back-filled %s; %s active',
              :opened, :attempts, :failed, :resolved, :escalated, :abandoned, :feedback, :filled,
              (SELECT count(*) FROM support_troubleshooting_sessions WHERE status IN ('started', 'in_progress')));
COMMIT;
