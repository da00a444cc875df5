-- The notification outbox API: enqueue (validated, rendered, idempotent,
-- transactional), bulk all-or-none, cancel, retry, webhook subscription events.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SET TimeZone = 'UTC';

INSERT INTO support_troubleshooting_sessions (session_id, customer_name, customer_email, detected_problem_title)
VALUES ('n-1', 'Juan Pérez', 'juan@example.com', 'Wi-Fi drops');

-- one notification: a pending row with the template rendered for its channel
SELECT send_troubleshooting_notification('email', 'juan@example.com', 'feedback_request',
    '{"session_id": "n-1", "customer_name": "Juan Pérez", "detected_problem_title": "Wi-Fi <drops>",
      "feedback_url": "https://f.example/1"}', 'high', '{"source": "test"}', 'fb-n-1') AS id \gset
SELECT channel, recipient, template, priority, priority_rank, status, subject, body, session_id,
       metadata, idempotency_key, attempts, next_attempt_at <= now() AS due_now
FROM support_troubleshooting_notifications WHERE id = :id;

-- the same idempotency key (for the same session: keys are unique per
-- session) returns the first id and inserts nothing
SELECT send_troubleshooting_notification('email', 'other@example.com', 'feedback_request',
                                         '{"session_id": "n-1"}', 'low', '{}', 'fb-n-1') = :id AS same_id;
SELECT count(*) AS rows FROM support_troubleshooting_notifications;

-- without a key each call is new; keys are unique anyway
SELECT send_troubleshooting_notification('slack', '#support', 'session_escalated',
    '{"session_id": "n-1", "customer_name": "Juan", "failed_attempts": 3}', 'critical',
    '{"webhook_url": "https://hooks.slack.example/T/B/x"}') > :id AS new_id;
SELECT count(DISTINCT idempotency_key) AS keys, count(*) AS rows FROM support_troubleshooting_notifications;

-- send later
SELECT send_troubleshooting_notification('sms', '+15550100', 'session_started', '{}', 'low', '{}', NULL,
                                         '2030-01-01 00:00+00') AS later \gset
SELECT next_attempt_at FROM support_troubleshooting_notifications WHERE id = :later;

-- a rolled-back transaction leaves nothing to send
BEGIN;
SELECT send_troubleshooting_notification('discord', 'ops', 'session_started', '{}') > 0 AS enqueued;
ROLLBACK;
SELECT count(*) AS discord_rows FROM support_troubleshooting_notifications WHERE channel = 'discord';

-- bad input: nothing is inserted
SELECT count(*) AS before FROM support_troubleshooting_notifications \gset
SELECT send_troubleshooting_notification('fax', 'x', 'session_started');
SELECT send_troubleshooting_notification('email', '', 'session_started');
SELECT send_troubleshooting_notification('email', E'a@example.com\r\nBcc: b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'no_such_template');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'urgent');
SELECT send_troubleshooting_notification('email', 'a@example.com', NULL);
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '[1]');
SELECT send_troubleshooting_notification('webhook', 'ftp://x.example', NULL);
SELECT send_troubleshooting_notification('webhook', '999', NULL);
-- a channel disabled in config
SELECT set_troubleshooting_config('notification_channels', 'email,slack');
SELECT send_troubleshooting_notification('sms', '+15550100', 'session_started');
SELECT set_troubleshooting_config('notification_channels', NULL);
SELECT count(*) - :before AS inserted FROM support_troubleshooting_notifications;

-- bulk: all or none, the failing entry named
SELECT count(*) AS ids FROM send_troubleshooting_notifications_bulk(
    '[{"channel": "email", "recipient": "a@example.com", "template": "session_resolved"},
      {"channel": "slack", "recipient": "#ops", "template": "session_resolved", "priority": "high",
       "metadata": {"webhook_url": "https://hooks.slack.example/x"}}]',
    '{"session_id": "n-1", "resolution_minutes": 12}');
SELECT channel, recipient, priority, body, metadata FROM support_troubleshooting_notifications
WHERE template = 'session_resolved' ORDER BY id;
SELECT count(*) AS before FROM support_troubleshooting_notifications \gset
SELECT * FROM send_troubleshooting_notifications_bulk(
    '[{"channel": "email", "recipient": "a@example.com", "template": "session_resolved"},
      {"channel": "email", "recipient": "b@example.com", "template": "nope"}]');
SELECT * FROM send_troubleshooting_notifications_bulk('{"channel": "email"}');
SELECT * FROM send_troubleshooting_notifications_bulk('[{"channel": "email", "recipient": 5, "template": "x"}]');
SELECT count(*) - :before AS inserted FROM support_troubleshooting_notifications;

-- cancel and retry
SELECT cancel_troubleshooting_notification(:later) AS cancelled,
       cancel_troubleshooting_notification(:later) AS again;
SELECT status FROM support_troubleshooting_notifications WHERE id = :later;
SELECT retry_troubleshooting_notification(:id);
UPDATE support_troubleshooting_notifications
   SET status = 'failed', attempts = 5, failed_at = now(), last_error = 'HTTP 500' WHERE id = :id;
SELECT retry_troubleshooting_notification(:id);
SELECT status, attempts, failed_at, last_error FROM support_troubleshooting_notifications WHERE id = :id;
SELECT cancel_troubleshooting_notification(123456);

-- webhook subscriptions get the session and feedback events they asked for
INSERT INTO support_webhooks (id, url, events) VALUES
    (1, 'https://crm.example/hook', ARRAY['session.started', 'session.resolved']),
    (2, 'https://bi.example/hook', ARRAY['feedback.received', 'session.escalated']),
    (3, 'https://old.example/hook', ARRAY['session.started']);
UPDATE support_webhooks SET active = false WHERE id = 3;
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('w-1');
UPDATE support_troubleshooting_sessions SET status = 'in_progress' WHERE session_id = 'w-1';
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'w-1';
INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('w-1', 5);
SELECT recipient, subject AS event, session_id, metadata ->> 'event' AS meta_event,
       body::jsonb ->> 'type' AS body_type, body::jsonb #>> '{data,session_id}' AS body_session
FROM support_troubleshooting_notifications WHERE channel = 'webhook' ORDER BY id;
-- an explicit webhook notification names an active subscription or a URL
SELECT send_troubleshooting_notification('webhook', '1', NULL, '{"type": "custom"}') > 0 AS by_id;
SELECT send_troubleshooting_notification('webhook', '3', NULL, '{"type": "custom"}');
-- rolled back with the session: no event either
BEGIN;
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('w-2');
ROLLBACK;
SELECT count(*) AS w2_events FROM support_troubleshooting_notifications WHERE session_id = 'w-2';

-- an application role with EXECUTE enqueues without reading the outbox
CREATE ROLE ts_app;
GRANT EXECUTE ON FUNCTION send_troubleshooting_notification(text, text, text, jsonb, text, jsonb, text, timestamptz) TO ts_app;
SET ROLE ts_app;
SELECT send_troubleshooting_notification('email', 'app@example.com', 'session_started') > 0 AS enqueued;
SELECT count(*) FROM support_troubleshooting_notifications;
SELECT cancel_troubleshooting_notification(1);
RESET ROLE;
DROP OWNED BY ts_app;
DROP ROLE ts_app;
