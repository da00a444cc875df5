-- bench/generate_data.sql: realistic sample data for the troubleshooting extension.
--
--   psql -v sessions=5000 -v days=30 -v seed=0.42 [-v offset_days=0] -f bench/generate_data.sql
--
-- Sessions spread over :days days ending :offset_days days ago (busier in
-- working hours), a weighted mix of problems with their own fix steps, resolution
-- and escalation rates, attempts per step, feedback (ratings and NPS that
-- follow the outcome), and ML predictions with some corrections.  The newest
-- sessions are still active.  Session ids carry :prefix so that several loads
-- can share a database.  Not part of the installed extension.

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

CREATE TEMP TABLE gen_problems (
    n int, problem_id text, title text, weight int,
    p_resolve float8, p_escalate float8, median_minutes float8, steps text[]
) ON COMMIT DROP;

INSERT INTO gen_problems VALUES
 (1, 'wifi_drops', 'Wi-Fi keeps disconnecting', 18, 0.78, 0.12, 14,
  ARRAY['Restart the router', 'Move closer to the access point', 'Forget and rejoin the network', 'Update the Wi-Fi driver', 'Change the wireless channel']),
 (2, 'no_internet', 'No internet connection', 15, 0.72, 0.18, 18,
  ARRAY['Check the cables', 'Power-cycle the modem', 'Renew the IP address', 'Reset network settings', 'Check for an outage']),
 (3, 'slow_connection', 'Connection is slow', 12, 0.65, 0.15, 22,
  ARRAY['Run a speed test', 'Close bandwidth-heavy apps', 'Switch to 5 GHz', 'Update router firmware', 'Replace the Ethernet cable']),
 (4, 'password_reset', 'Cannot sign in / password reset', 14, 0.92, 0.05, 6,
  ARRAY['Send the reset link', 'Check the spam folder', 'Clear the browser cache']),
 (5, 'email_sync', 'E-mail not syncing', 9, 0.80, 0.10, 12,
  ARRAY['Check the account settings', 'Remove and re-add the account', 'Check the storage quota', 'Disable the battery saver']),
 (6, 'printer_offline', 'Printer shows offline', 7, 0.70, 0.14, 16,
  ARRAY['Restart the printer', 'Reconnect the printer to Wi-Fi', 'Reinstall the driver', 'Clear the print queue']),
 (7, 'app_crash', 'App crashes on start', 8, 0.60, 0.25, 20,
  ARRAY['Update the app', 'Clear the app data', 'Reinstall the app', 'Update the operating system', 'Send the crash log']),
 (8, 'billing_question', 'Unexpected charge on the bill', 6, 0.55, 0.40, 9,
  ARRAY['Explain the invoice lines', 'Check the plan changes', 'Open a billing ticket']),
 (9, 'tv_no_signal', 'TV box shows no signal', 5, 0.74, 0.16, 15,
  ARRAY['Check the HDMI input', 'Restart the TV box', 'Reseat the HDMI cable', 'Factory-reset the box']),
 (10, 'vpn_fails', 'VPN will not connect', 4, 0.58, 0.30, 25,
  ARRAY['Check the credentials', 'Switch the VPN protocol', 'Allow the VPN in the firewall', 'Reinstall the VPN client', 'Sync the system clock']),
 (11, 'phone_no_service', 'Phone has no service', 2, 0.50, 0.35, 19,
  ARRAY['Toggle airplane mode', 'Reseat the SIM card', 'Reset the APN settings', 'Check for a carrier outage']);

-- cumulative weights for picking a problem with one random number
CREATE TEMP TABLE gen_pick ON COMMIT DROP AS
SELECT *, sum(weight) OVER (ORDER BY n)::float8 / sum(weight) OVER () AS cum FROM gen_problems;

CREATE TEMP TABLE gen_names (i int, first text, last text) ON COMMIT DROP;
INSERT INTO gen_names
SELECT row_number() OVER (), f, l FROM
  unnest(ARRAY['Juan', 'María', 'José', 'Ana', 'Luis', 'Sofía', 'Chloé', 'Noah', 'Emma', 'Liam',
               'Olivia', 'Mateo', 'Zoë', 'Lucas', 'Mia', 'Ethan', 'Amélie', 'Björn', 'Aisha', 'Kenji']) f,
  unnest(ARRAY['Pérez', 'García', 'Smith', 'Johnson', 'Müller', 'Rossi', 'Dubois', 'Nakamura',
               'O''Brien', 'Novák', 'Silva', 'Kowalski', 'Brown', 'Martínez', 'Nguyen']) l;

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
