-- Session automation from config: auto-escalation after failed attempts
-- (total or consecutive), feedback requests on resolution, timeouts.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SET TimeZone = 'UTC';

SELECT set_troubleshooting_config('escalation_recipients', 'slack:#escalations, email:lead@example.com');
SELECT get_troubleshooting_config('escalation_recipients');
SELECT set_troubleshooting_config('escalation_recipients', 'pager:ops');
SELECT set_troubleshooting_config('auto_escalate_count', 'sometimes');

-- three failed attempts (the default) escalate, in the attempt's transaction
INSERT INTO support_troubleshooting_sessions (session_id, customer_name, customer_email, detected_problem_title)
VALUES ('a-1', 'Juan Pérez', 'juan@example.com', 'Wi-Fi drops');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('a-1', 1, false), ('a-1', 2, false);
SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'a-1';
-- the third, rolled back: nothing happens
BEGIN;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('a-1', 3, false);
SELECT status, escalated_at IS NOT NULL AS escalated FROM support_troubleshooting_sessions WHERE session_id = 'a-1';
ROLLBACK;
SELECT status, (SELECT count(*) FROM support_troubleshooting_notifications) AS notifications
FROM support_troubleshooting_sessions WHERE session_id = 'a-1';
-- committed: escalated, and both recipients told
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('a-1', 3, false);
SELECT status, escalated_at IS NOT NULL AS escalated FROM support_troubleshooting_sessions WHERE session_id = 'a-1';
SELECT channel, recipient, template, priority, body FROM support_troubleshooting_notifications ORDER BY id;
-- a fourth failure does not escalate again
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('a-1', 4, false);
SELECT count(*) AS notifications FROM support_troubleshooting_notifications;

-- consecutive: a success resets the count; config changes apply at once
SELECT set_troubleshooting_config('auto_escalate_count', 'Consecutive');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '2');
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('a-2');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES
    ('a-2', 1, false), ('a-2', 2, true), ('a-2', 3, false);
SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'a-2';
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('a-2', 4, false);
SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'a-2';
-- 0 turns it off
SELECT set_troubleshooting_config('auto_escalate_after_failures', '0');
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('a-3');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success)
SELECT 'a-3', g, false FROM generate_series(1, 5) g;
SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'a-3';

-- feedback requests: resolved sessions with an e-mail, when enabled
DELETE FROM support_troubleshooting_notifications;
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, customer_name, detected_problem_title)
VALUES ('f-1', 'ana@example.com', 'Ana', 'Printer offline'), ('f-2', NULL, 'Bo', 'Printer offline'),
       ('f-3', 'cy@example.com', 'Cy', 'VPN');
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id IN ('f-1', 'f-2');
SELECT set_troubleshooting_config('feedback_collection_enabled', 'false');
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'f-3';
SELECT channel, recipient, template, session_id, idempotency_key, subject FROM support_troubleshooting_notifications ORDER BY id;
SELECT set_troubleshooting_config('feedback_collection_enabled', 'true');

-- timeouts: idle too long, or open too long
DELETE FROM support_troubleshooting_notifications;
SELECT set_troubleshooting_config('timeout_recipients', 'slack:#ops');
INSERT INTO support_troubleshooting_sessions (session_id, started_at, last_activity_at) VALUES
    ('t-idle', now() - interval '2 hours', now() - interval '31 minutes'),
    ('t-busy', now() - interval '2 hours', now() - interval '5 minutes'),
    ('t-long', now() - interval '25 hours', now() - interval '1 minute'),
    ('t-done', now() - interval '3 days', now() - interval '3 days');
UPDATE support_troubleshooting_sessions SET status = 'resolved', resolved_at = now() - interval '2 days'
 WHERE session_id = 't-done';
SELECT expire_troubleshooting_sessions() AS expired;
SELECT session_id, status, ended_at IS NOT NULL AS ended FROM support_troubleshooting_sessions
WHERE session_id LIKE 't-%' ORDER BY session_id;
SELECT channel, recipient, template, session_id FROM support_troubleshooting_notifications ORDER BY session_id;
SELECT expire_troubleshooting_sessions() AS again;
SELECT set_troubleshooting_config('default_timeout_minutes', '0');
SELECT set_troubleshooting_config('max_session_duration_hours', '0');
INSERT INTO support_troubleshooting_sessions (session_id, started_at) VALUES ('t-never', now() - interval '9 days');
SELECT expire_troubleshooting_sessions() AS with_both_off;
