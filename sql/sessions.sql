-- Session lifecycle: status timestamps, activity, constraints.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
RESET client_min_messages;
CREATE EXTENSION troubleshooting;
SET TimeZone = 'UTC';

BEGIN;
-- a new session: started_at defaults to now(), last_activity_at follows started_at
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, problem_description)
VALUES ('s-new', 'ana@example.com', 'wifi drops');
SELECT status, started_at = now() AS started_now, last_activity_at = started_at AS activity_is_start,
       resolved_at, escalated_at, ended_at, total_steps, completed_steps, metadata
FROM support_troubleshooting_sessions WHERE session_id = 's-new';

-- back-dated session keeps the given times
INSERT INTO support_troubleshooting_sessions (session_id, started_at)
VALUES ('s-old', '2026-01-10 08:00+00');
SELECT started_at, last_activity_at FROM support_troubleshooting_sessions WHERE session_id = 's-old';

-- resolving fills resolved_at and ended_at with the transaction time
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 's-new';
SELECT status, resolved_at = now() AS resolved_now, ended_at = now() AS ended_now,
       escalated_at, last_activity_at = now() AS activity_now
FROM support_troubleshooting_sessions WHERE session_id = 's-new';

-- a caller-supplied resolved_at is kept, and ended_at copies it
UPDATE support_troubleshooting_sessions
   SET status = 'resolved', resolved_at = '2026-01-10 08:42+00' WHERE session_id = 's-old';
SELECT resolved_at, ended_at FROM support_troubleshooting_sessions WHERE session_id = 's-old';
COMMIT;

-- escalation, abandonment and timeout
INSERT INTO support_troubleshooting_sessions (session_id, started_at, status) VALUES
    ('s-esc', '2026-02-01 10:00+00', 'in_progress'),
    ('s-abd', '2026-02-01 10:00+00', 'started'),
    ('s-out', '2026-02-01 10:00+00', 'started');
BEGIN;
UPDATE support_troubleshooting_sessions SET status = 'escalated', ticket_id = 'T-1'
 WHERE session_id = 's-esc';
UPDATE support_troubleshooting_sessions SET status = 'abandoned' WHERE session_id = 's-abd';
UPDATE support_troubleshooting_sessions SET status = 'timed_out', ended_at = '2026-02-01 10:30+00'
 WHERE session_id = 's-out';
SELECT session_id, status, escalated_at = now() AS escalated_now, resolved_at,
       CASE WHEN ended_at = now() THEN 'now' ELSE ended_at::text END AS ended_at
FROM support_troubleshooting_sessions WHERE session_id IN ('s-esc', 's-abd', 's-out')
ORDER BY session_id;
COMMIT;

-- an escalated session later resolved keeps escalated_at and its first ended_at
UPDATE support_troubleshooting_sessions SET status = 'escalated', escalated_at = '2026-02-01 11:00+00',
       ended_at = '2026-02-01 11:00+00' WHERE session_id = 's-esc';
UPDATE support_troubleshooting_sessions SET status = 'resolved', resolved_at = '2026-02-02 09:00+00'
 WHERE session_id = 's-esc';
SELECT status, escalated_at, resolved_at, ended_at
FROM support_troubleshooting_sessions WHERE session_id = 's-esc';

-- reopening clears resolved_at and ended_at, not escalated_at
UPDATE support_troubleshooting_sessions SET status = 'in_progress' WHERE session_id = 's-esc';
SELECT status, escalated_at, resolved_at, ended_at
FROM support_troubleshooting_sessions WHERE session_id = 's-esc';

-- inserting a finished session fills its timestamps too
BEGIN;
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
VALUES ('s-done', 'resolved', '2026-03-01 00:00+00');
SELECT resolved_at = now() AS resolved_now, ended_at = now() AS ended_now
FROM support_troubleshooting_sessions WHERE session_id = 's-done';
COMMIT;

-- progress moves last_activity_at; a metadata-only change does not
UPDATE support_troubleshooting_sessions SET last_activity_at = '2026-02-01 10:00+00'
 WHERE session_id = 's-abd';
UPDATE support_troubleshooting_sessions SET metadata = '{"k": 1}' WHERE session_id = 's-abd';
SELECT last_activity_at FROM support_troubleshooting_sessions WHERE session_id = 's-abd';
BEGIN;
UPDATE support_troubleshooting_sessions SET completed_steps = 2, total_steps = 5
 WHERE session_id = 's-abd';
SELECT last_activity_at = now() AS activity_now FROM support_troubleshooting_sessions
 WHERE session_id = 's-abd';
COMMIT;

-- constraints (terse: the failing rows carry the current time)
\set VERBOSITY terse
INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('s-bad', 'done');
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('s-new');
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('');
INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('s-null', NULL);
INSERT INTO support_troubleshooting_sessions (session_id, total_steps) VALUES ('s-neg', -1);

-- children refer to sessions by the agent's session id
INSERT INTO support_troubleshooting_attempts (session_id, step_number, step_title, success, duration_ms)
VALUES ('s-new', 1, 'Restart router', false, 1200), ('s-new', 2, 'Reset DNS', true, 800);
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, was_helpful)
VALUES ('s-new', 5, 10, true);
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id, confidence_score)
VALUES ('s-new', 'wifi', 0.82);
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('nope', 1, true);
INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('s-new', 6);
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score) VALUES ('s-new', 3, 11);
INSERT INTO support_troubleshooting_ml_training (session_id, confidence_score) VALUES ('s-new', 1.5);

\set VERBOSITY default

-- deleting a session removes attempts and feedback, keeps training rows (with its id)
DELETE FROM support_troubleshooting_sessions WHERE session_id = 's-new';
SELECT (SELECT count(*) FROM support_troubleshooting_attempts) AS attempts,
       (SELECT count(*) FROM support_troubleshooting_feedback) AS feedback,
       (SELECT count(*) FROM support_troubleshooting_ml_training WHERE session_id = 's-new') AS kept_training;
