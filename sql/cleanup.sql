-- Retention: what goes, what stays, batches with progress, dry runs.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

-- 30 old finished sessions, 5 old open ones, 10 recent finished ones
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, last_activity_at, ended_at)
SELECT 'old-' || g, 'resolved', now() - interval '400 days', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 30) g;
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, last_activity_at)
SELECT 'open-' || g, 'in_progress', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 5) g;
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
SELECT 'new-' || g, 'resolved', now() - interval '10 days' FROM generate_series(1, 10) g;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success)
SELECT s.session_id, k, k % 2 = 0 FROM support_troubleshooting_sessions s, generate_series(1, 3) k;
INSERT INTO support_troubleshooting_feedback (session_id, rating)
SELECT session_id, 4 FROM support_troubleshooting_sessions WHERE session_id LIKE 'old-%' OR session_id LIKE 'new-%';
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id, confidence_score, use_for_training, created_at)
VALUES ('old-1', 'wifi', 0.4, true, now() - interval '400 days'),
       ('old-2', 'wifi', 0.9, false, now() - interval '800 days');
INSERT INTO support_troubleshooting_notifications (channel, recipient, body, status, created_at)
VALUES ('sms', '+15550100', 'x', 'sent', now() - interval '100 days'),
       ('sms', '+15550101', 'x', 'pending', now() - interval '100 days'),
       ('sms', '+15550102', 'x', 'sending', now() - interval '100 days'),
       ('sms', '+15550103', 'x', 'failed', now() - interval '10 days');
INSERT INTO support_troubleshooting_reports (report_type, cache_key, data, generated_at, expires_at)
VALUES ('daily', 'expired', '{}', now() - interval '1 hour', now() - interval '1 minute'),
       ('daily', 'fresh', '{}', now(), now() + interval '1 hour'),
       ('weekly', 'old', '{}', now() - interval '40 days', NULL);

-- a dry run reports what would go and deletes nothing
SELECT * FROM cleanup_old_troubleshooting_data(p_dry_run => true);
SELECT count(*) AS sessions FROM support_troubleshooting_sessions;

-- with the configured retention (365, 90, 30, 730 days)
SELECT * FROM cleanup_old_troubleshooting_data();
SELECT string_agg(session_id, ' ' ORDER BY session_id) FILTER (WHERE session_id NOT LIKE 'new-%') AS kept_old,
       count(*) FILTER (WHERE session_id LIKE 'new-%') AS kept_new
FROM support_troubleshooting_sessions;
SELECT count(*) AS attempts FROM support_troubleshooting_attempts;
SELECT status FROM support_troubleshooting_notifications ORDER BY id;
SELECT cache_key FROM support_troubleshooting_reports ORDER BY id;
SELECT predicted_problem_id, use_for_training, session_id FROM support_troubleshooting_ml_training;

-- an explicit age overrides retention (open sessions still stay); 0 keeps forever
SELECT set_troubleshooting_config('retention_days_notifications', '0');
SELECT * FROM cleanup_old_troubleshooting_data(interval '5 days');
SELECT count(*) AS sessions_left, count(*) FILTER (WHERE status = 'in_progress') AS open_left
FROM support_troubleshooting_sessions;

-- batches of 10,000 with progress
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
SELECT 'bulk-' || g, 'abandoned', now() - interval '2 years', now() - interval '2 years'
FROM generate_series(1, 25000) g;
SELECT * FROM cleanup_old_troubleshooting_data() WHERE table_name = 'support_troubleshooting_sessions';

SELECT * FROM cleanup_old_troubleshooting_data(interval '-1 day');
