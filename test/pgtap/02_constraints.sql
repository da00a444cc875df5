-- pgTAP: every closed set of values and range is enforced; defaults do their job.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SELECT * FROM no_plan();

INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('s1');

-- closed sets accept every member
SELECT lives_ok(format($$INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('st-%s', %L)$$, s, s),
                format('session status %s accepted', s))
FROM unnest(ARRAY['started', 'in_progress', 'resolved', 'escalated', 'abandoned', 'timed_out']) AS s;
SELECT lives_ok(format($$INSERT INTO support_troubleshooting_notifications (channel, recipient, priority, status) VALUES (%L, 'r', %L, %L)$$, c, p, s),
                format('notification %s/%s/%s accepted', c, p, s))
FROM unnest(ARRAY['email', 'sms', 'slack', 'teams', 'discord', 'webhook'],
            ARRAY['low', 'normal', 'high', 'critical', 'low', 'normal'],
            ARRAY['pending', 'sending', 'sent', 'delivered', 'read', 'failed']) AS x(c, p, s);
SELECT lives_ok($$INSERT INTO support_troubleshooting_notifications (channel, recipient, status) VALUES ('sms', '+15550100', 'cancelled')$$,
                'notification status cancelled accepted');
SELECT lives_ok(format($$INSERT INTO support_troubleshooting_reports (report_type, cache_key, data) VALUES (%L, 'k', '{}')$$, r),
                format('report type %s accepted', r))
FROM unnest(ARRAY['daily', 'weekly', 'monthly', 'problem_analysis', 'customer_satisfaction', 'custom']) AS r;
SELECT lives_ok(format($$INSERT INTO support_troubleshooting_templates (name, body, format) VALUES ('t_%s', 'x', %L)$$, f, f),
                format('template format %s accepted', f))
FROM unnest(ARRAY['text', 'markdown', 'html', 'json']) AS f;

-- and reject anything else (23514 = check_violation, 23502 = not_null_violation)
SELECT throws_ok(q, code, NULL, d) FROM (VALUES
    ($$INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('x1', 'closed')$$, '23514', 'unknown session status'),
    ($$INSERT INTO support_troubleshooting_sessions (session_id, completed_steps) VALUES ('x2', -1)$$, '23514', 'negative completed_steps'),
    ($$INSERT INTO support_troubleshooting_sessions (session_id) VALUES (NULL)$$, '23502', 'session_id required'),
    ($$INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('s1', -1, true)$$, '23514', 'negative step number'),
    ($$INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('s1', 1, NULL)$$, '23502', 'attempt success required'),
    ($$INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, duration_ms) VALUES ('s1', 1, true, -5)$$, '23514', 'negative duration'),
    ($$INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('s1', 0)$$, '23514', 'rating below 1'),
    ($$INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('s1', 6)$$, '23514', 'rating above 5'),
    ($$INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score) VALUES ('s1', 3, -1)$$, '23514', 'nps below 0'),
    ($$INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score) VALUES ('s1', 3, 11)$$, '23514', 'nps above 10'),
    ($$INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('zz', 3)$$, '23503', 'feedback for unknown session'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient) VALUES ('fax', 'r')$$, '23514', 'unknown channel'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient, priority) VALUES ('sms', 'r', 'urgent')$$, '23514', 'unknown priority'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient, status) VALUES ('sms', 'r', 'queued')$$, '23514', 'unknown notification status'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient, max_attempts) VALUES ('sms', 'r', 0)$$, '23514', 'max_attempts at least 1'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient) VALUES ('sms', '')$$, '23514', 'empty recipient'),
    ($$INSERT INTO support_troubleshooting_notifications (channel, recipient, priority_rank) VALUES ('sms', 'r', 0)$$, '428C9', 'priority_rank is generated'),
    ($$INSERT INTO support_troubleshooting_templates (name, channel, body) VALUES ('t', 'fax', 'x')$$, '23514', 'template channel'),
    ($$INSERT INTO support_troubleshooting_templates (name, body, format) VALUES ('t', 'x', 'rtf')$$, '23514', 'template format'),
    ($$INSERT INTO support_troubleshooting_templates (name, channel, body) VALUES ('t_text', NULL, 'dup')$$, '23505', 'one template per name and channel'),
    ($$INSERT INTO support_troubleshooting_reports (report_type, cache_key, data) VALUES ('yearly', 'k', '{}')$$, '23514', 'unknown report type'),
    ($$INSERT INTO support_troubleshooting_ml_training (session_id, confidence_score) VALUES ('s', -0.1)$$, '23514', 'confidence below 0'),
    ($$INSERT INTO support_troubleshooting_ml_training (session_id, confidence_score) VALUES ('s', 1.01)$$, '23514', 'confidence above 1'),
    ($$INSERT INTO support_webhooks (url) VALUES ('ftp://example.com/hook')$$, '23514', 'webhook url must be http(s)'),
    ($$INSERT INTO support_webhooks (url, events) VALUES ('https://example.com/h', ARRAY['session.deleted'])$$, '23514', 'unknown webhook event'),
    ($$INSERT INTO support_webhooks (url, events) VALUES ('https://example.com/h', ARRAY[]::text[])$$, '23514', 'webhook needs an event'),
    ($$INSERT INTO support_troubleshooting_config_history (config_key, changed_by) VALUES ('nope', 'me')$$, '23503', 'history for unknown key')
) AS t(q, code, d);

-- defaults
SELECT is(priority_rank, 0::smallint, 'critical ranks first') FROM support_troubleshooting_notifications WHERE priority = 'critical';
SELECT is(count(DISTINCT idempotency_key), count(*), 'every notification gets its own idempotency key')
FROM support_troubleshooting_notifications;
INSERT INTO support_webhooks (url) VALUES ('https://example.com/a'), ('https://example.com/b');
SELECT ok(bool_and(secret ~ '^whsec_[A-Za-z0-9+/]{43}=$'), 'webhook secrets are whsec_ + 32 random bytes')
FROM support_webhooks;
SELECT is(count(DISTINCT secret), 2::bigint, 'webhook secrets differ') FROM support_webhooks;
SELECT is(events, ARRAY['session.started', 'session.resolved', 'session.escalated', 'feedback.received'],
          'webhooks subscribe to every event by default') FROM support_webhooks LIMIT 1;

-- inserting over a shipped, unedited template replaces it (this is how a restore
-- brings back an edited default); it then belongs to the user
INSERT INTO support_troubleshooting_templates (name, channel, subject, body)
VALUES ('report_ready', NULL, 'Report', 'Report {{report_id}} ready');
SELECT results_eq($$SELECT body, is_default FROM support_troubleshooting_templates WHERE name = 'report_ready'$$,
                  $$VALUES ('Report {{report_id}} ready', false)$$, 'insert over a default template replaces it');
SELECT throws_ok($$INSERT INTO support_troubleshooting_templates (name, body) VALUES ('report_ready', 'again')$$,
                 '23505', NULL, 'a user''s template is not replaced by an insert');

-- an edited shipped template stops being a default (and so is dumped)
UPDATE support_troubleshooting_templates SET body = 'Custom {{session_id}}' WHERE name = 'session_started';
SELECT is(is_default, false, 'edited template is no longer a default')
FROM support_troubleshooting_templates WHERE name = 'session_started';

SELECT * FROM finish();
ROLLBACK;
