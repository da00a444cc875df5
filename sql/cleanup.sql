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

-- ML rows of a deleted session: unmarked ones go with it, marked ones stay
-- (without the session) until their own retention
SELECT set_troubleshooting_config('retention_days_notifications', '90');
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
VALUES ('ml-old', 'resolved', now() - interval '400 days', now() - interval '400 days');
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id, confidence_score, use_for_training)
VALUES ('ml-old', 'keep-marked', 0.3, true), ('ml-old', 'goes-unmarked', 0.95, false);
SELECT * FROM cleanup_old_troubleshooting_data(p_dry_run => true) WHERE table_name LIKE '%ml_training';
SELECT * FROM cleanup_old_troubleshooting_data() WHERE table_name LIKE '%ml_training';
SELECT predicted_problem_id, session_id FROM support_troubleshooting_ml_training
WHERE predicted_problem_id IN ('keep-marked', 'goes-unmarked');

-- the metrics stay exact: the deleted rows' effect is written per hour
SET client_min_messages = warning;
\set ECHO none
\i test/fixtures/metrics_reference.sql
\set ECHO all
DELETE FROM support_troubleshooting_sessions;
SELECT set_troubleshooting_config('auto_escalate_after_failures', '0');
INSERT INTO support_troubleshooting_sessions
    (session_id, detected_problem_id, status, started_at, resolved_at, escalated_at, ended_at)
SELECT 'm-' || g, CASE WHEN g % 5 <> 0 THEN 'p' || (g % 3) END,
       (ARRAY['resolved', 'escalated', 'abandoned', 'in_progress', 'timed_out'])[1 + g % 5],
       CASE WHEN g % 5 = 3 THEN now() - interval '10 minutes' ELSE t END,
       CASE WHEN g % 5 = 0 THEN t + g % 97 * interval '1 minute' END,
       CASE WHEN g % 5 = 1 THEN t + interval '2 hours' END,
       CASE WHEN g % 5 <> 3 THEN t + interval '3 hours' END
FROM generate_series(1, 3000) g, LATERAL (SELECT now() - interval '500 days' + g * interval '4 hours' AS t) x;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at)
SELECT s.session_id, k, (k + length(s.session_id)) % 3 = 0, s.started_at + k * interval '20 minutes'
FROM support_troubleshooting_sessions s, generate_series(1, 4) k;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
SELECT session_id, 1 + id % 5, CASE WHEN id % 2 = 0 THEN id % 11 END, started_at + interval '4 hours'
FROM support_troubleshooting_sessions WHERE id % 3 = 0;
CREATE FUNCTION pg_temp.metrics_mismatches() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (
        (SELECT * FROM get_troubleshooting_metrics_by_period('hour', now() - interval '510 days', now())
         EXCEPT ALL SELECT * FROM ts_ref.metrics_by_period('hour', now() - interval '510 days', now()))
        UNION ALL
        (SELECT * FROM ts_ref.metrics_by_period('hour', now() - interval '510 days', now())
         EXCEPT ALL SELECT * FROM get_troubleshooting_metrics_by_period('hour', now() - interval '510 days', now()))) x
$$;
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
SELECT * FROM cleanup_old_troubleshooting_data(interval '200 days');
SELECT pg_temp.metrics_mismatches() AS mismatches_pending;
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
SELECT pg_temp.metrics_mismatches() AS mismatches_folded;
SELECT count(*) AS orphans FROM support_troubleshooting_attempts a
WHERE NOT EXISTS (SELECT 1 FROM support_troubleshooting_sessions s WHERE s.session_id = a.session_id);

-- a trigger of the user's own on a table cleanup deletes from still fires:
-- then sessions go by a plain DELETE and the foreign keys cascade
CREATE TABLE deleted_audit (session_id text, attempts bigint);
CREATE FUNCTION audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deleted_audit
    SELECT OLD.session_id, count(*) FROM support_troubleshooting_attempts WHERE session_id = OLD.session_id;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_delete BEFORE DELETE ON support_troubleshooting_sessions
    FOR EACH ROW EXECUTE FUNCTION audit_delete();
SELECT * FROM cleanup_old_troubleshooting_data(interval '100 days');
SELECT count(*) AS audited, sum(attempts) AS audited_attempts FROM deleted_audit;
SELECT refresh_troubleshooting_metrics() >= 0 AS folded;
SELECT pg_temp.metrics_mismatches() AS mismatches;
DROP TRIGGER audit_delete ON support_troubleshooting_sessions;

-- a foreign key of the user's own is obeyed: RESTRICT stops the run and
-- nothing is deleted
CREATE TABLE tickets (session_id text REFERENCES support_troubleshooting_sessions (session_id));
INSERT INTO tickets SELECT session_id FROM support_troubleshooting_sessions
WHERE status <> 'in_progress' ORDER BY started_at LIMIT 1;
SELECT count(*) AS before FROM support_troubleshooting_sessions;
SELECT * FROM cleanup_old_troubleshooting_data(interval '50 days');
SELECT count(*) AS after FROM support_troubleshooting_sessions;
DROP TABLE tickets;

-- the procedure commits after every batch and reports the totals
RESET client_min_messages;
CALL run_troubleshooting_cleanup(interval '50 days', p_dry_run => true, p_batch_size => 200);
CALL run_troubleshooting_cleanup(interval '50 days', p_batch_size => 200);
SELECT count(*) FILTER (WHERE status <> 'in_progress' AND started_at < now() - interval '51 days') AS old_left,
       count(*) FILTER (WHERE status = 'in_progress') AS open_left
FROM support_troubleshooting_sessions;
SET client_min_messages = warning;
SELECT pg_temp.metrics_mismatches() AS mismatches;
-- inside a transaction block it cannot commit: one transaction, rolled back here
BEGIN;
CALL run_troubleshooting_cleanup(interval '1 day', p_batch_size => 100);
SELECT count(*) FILTER (WHERE status <> 'in_progress') AS finished_left FROM support_troubleshooting_sessions;
ROLLBACK;
SELECT count(*) FILTER (WHERE status <> 'in_progress') > 0 AS finished_back FROM support_troubleshooting_sessions;
CALL run_troubleshooting_cleanup(p_batch_size => 0);
