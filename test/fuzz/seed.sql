-- test/fuzz/seed.sql: a small committed history in the fuzz database, so
-- reports, exports and tracking events have rows to work on.  Feedback
-- requests are off first, so seeding enqueues nothing.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT setseed(0.42);
SELECT set_troubleshooting_config('feedback_collection_enabled', 'false');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '0');

INSERT INTO support_troubleshooting_sessions
    (session_id, customer_email, customer_name, problem_description, detected_problem_id,
     detected_problem_title, status, assigned_agent, started_at, total_steps, completed_steps)
SELECT 'fz-' || g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'user' || g || '@example' || (g % 3) || '.com' END,
       (ARRAY['Juan Pérez', 'Анна', 'Ωμέγα', '=cmd|x', E'tab\there', '"quoted"', 'Zoë'])[1 + g % 7],
       'problem ' || g,
       (ARRAY['wifi_drops', 'printer', 'vpn', 'email_sync', 'battery'])[1 + g % 5],
       (ARRAY['Wi-Fi drops', 'Printer offline', 'VPN fails', 'Mail does not sync', 'Battery'])[1 + g % 5],
       'started', (ARRAY['ana', 'bob', NULL])[1 + g % 3],
       now() - (random() * interval '40 days'), 5, 0
FROM generate_series(1, 300) g;

INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success,
                                              error_message, duration_ms, attempted_at)
SELECT s.session_id, k, 'step ' || k, random() < 0.5, CASE WHEN random() < 0.3 THEN 'err' END,
       (random() * 10000)::integer, s.started_at + k * interval '1 minute'
FROM support_troubleshooting_sessions s, generate_series(1, 3) k;

UPDATE support_troubleshooting_sessions
   SET status = (ARRAY['resolved', 'escalated', 'abandoned', 'timed_out', 'in_progress'])[1 + (id % 5)::integer],
       completed_steps = 3
 WHERE id % 4 <> 0;

INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful, comment, collected_at)
SELECT s.session_id, 1 + (s.id % 5)::integer, (s.id % 11)::integer, s.id % 2 = 0, 'c' || s.id,
       s.started_at + interval '1 hour'
FROM support_troubleshooting_sessions s WHERE s.status = 'resolved';

-- sent notifications the tracking entry points can match
INSERT INTO support_troubleshooting_notifications
    (channel, provider, recipient, template, status, body, provider_message_id, sent_at, tracking_token)
SELECT CASE WHEN g % 2 = 0 THEN 'email' ELSE 'sms' END,
       CASE WHEN g % 2 = 0 THEN 'sendgrid' ELSE 'twilio' END,
       CASE WHEN g % 2 = 0 THEN 'u' || g || '@example.com' ELSE '+1415555' || lpad(g::text, 4, '0') END,
       'session_resolved', (ARRAY['sent', 'delivered', 'read', 'failed'])[1 + g % 4], 'b',
       'msg-' || g, now() - g * interval '1 minute', md5('fz' || g)
FROM generate_series(1, 40) g;

SELECT count(*) > 0 AS seeded FROM support_troubleshooting_sessions;
