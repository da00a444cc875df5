-- Validation where values enter: recipients and URLs without control
-- characters (config, ts_recipient_is_valid, report schedules), schedule
-- filters and destinations checked when written, event times in a sane
-- window, failed notifications gain no read/delivered times, config ratios,
-- URLs and text, ML ids with bounds.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
RESET client_min_messages;
CREATE EXTENSION troubleshooting;
\set SHOW_CONTEXT never
SET timezone = 'UTC';

------------------------------------------------------------------------------
-- Recipients: a CR/LF would inject headers; nothing with a control character
-- gets in, through the function or a direct UPDATE
------------------------------------------------------------------------------
SELECT set_troubleshooting_config('escalation_recipients', E'webhook:http://127.0.0.1:9/\r\nX-Injected: 1');
UPDATE support_troubleshooting_config SET config_value = E'webhook:http://127.0.0.1:9/\r\nX-Injected: 1'
WHERE config_key = 'timeout_recipients';
SELECT set_troubleshooting_config('timeout_recipients', E'slack:#ops\nX-Injected: 1');
SELECT set_troubleshooting_config('timeout_recipients', E'teams:Ops\tteam');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:javascript:alert(1)');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:' || repeat('9', 19));
-- webhook URLs get the destination policy's answer (no connection is made;
-- every range is tested through troubleshooting_destination_policy(), so
-- here loopback in several forms, refused while private destinations are off)
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:http://127.0.0.2/latest/meta-data/');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:http://2130706433/');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:http://[::1]/');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:http://127.0.0.1:9/');
SELECT set_troubleshooting_config('escalation_recipients', 'webhook:http://LocalHost:8080/x');
SELECT config_key, config_value = '' AS unchanged FROM support_troubleshooting_config
WHERE config_key IN ('escalation_recipients', 'timeout_recipients') ORDER BY 1;
-- what is fine still is: labels, subscription ids, URLs with a query, host names
SELECT set_troubleshooting_config('escalation_recipients',
    'slack:#escalations, webhook:7 ,webhook:https://hooks.example.com/x?a=1,sms:+14155550100');
SELECT get_troubleshooting_config('escalation_recipients');
SELECT set_troubleshooting_config('escalation_recipients', NULL);

-- ts_recipient_is_valid says what enqueueing (and the config) would say
SELECT c, r, ts_recipient_is_valid(c, r) AS valid
FROM (VALUES ('webhook', E'http://127.0.0.1:9/\r\nX-Injected: 1'), ('webhook', 'javascript:alert(1)'),
             ('webhook', 'https://hooks.example.com/x?a=1'), ('webhook', '42'), ('webhook', repeat('9', 19)),
             ('webhook', 'https://user:pw@example.com/'), ('webhook', 'https://example.com/#frag'),
             ('slack', E'#ops\r\nX: 1'), ('slack', '#ops'), ('teams', E'Ops\tteam'), ('discord', ''),
             ('email', E'ana@example.com\r\nBcc: x@example.com'), ('email', 'ana@example.com'),
             ('sms', '+14155550100'), ('pager', 'x')) AS t(c, r);
SELECT ts_recipient_is_valid('discord', repeat('x', 2048)) AS at_limit,
       ts_recipient_is_valid('discord', repeat('x', 2049)) AS over_limit;

------------------------------------------------------------------------------
-- Report schedules: filters checked by generate_troubleshooting_report's own
-- code when written; webhook URLs checked with the destination policy
------------------------------------------------------------------------------
SELECT create_troubleshooting_report_schedule('f1', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC', p_filters => '{"statuses": ["nope"]}');
SELECT generate_troubleshooting_report('daily', p_filters => '{"statuses": ["nope"]}');
SELECT create_troubleshooting_report_schedule('f2', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC', p_filters => '{"min_rating": 6}');
SELECT create_troubleshooting_report_schedule('f3', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC', p_filters => '{"colour": "red"}');
SELECT create_troubleshooting_report_schedule('f4', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC', p_filters => '{"min_rating": 4, "max_rating": 2}');
SELECT create_troubleshooting_report_schedule('f5', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC', p_filters => '{"assigned_agent": "a\r\nb"}');
SELECT generate_troubleshooting_report('daily', p_filters => jsonb_build_object('problem_ids', jsonb_build_array(repeat('p', 201))));
SELECT generate_troubleshooting_report('daily', p_filters => jsonb_build_object('problem_ids',
    (SELECT jsonb_agg('p' || i) FROM generate_series(1, 1001) i)));
SELECT create_troubleshooting_report_schedule('ok', 'daily', '08:00',
    '[{"channel": "email", "recipient": "ops@example.com"}]', 'UTC',
    p_filters => '{"statuses": ["resolved"], "min_rating": 2, "customer_email_domain": "@example.com"}') > 0 AS created;
UPDATE support_troubleshooting_report_schedules SET filters = '{"problem_ids": []}' WHERE name = 'ok';
UPDATE support_troubleshooting_report_schedules SET filters = '{"problem_ids": ["wifi"]}' WHERE name = 'ok';
SELECT name, filters FROM support_troubleshooting_report_schedules ORDER BY id;

-- loopback written in any form, refused while
-- troubleshooting.allow_private_destinations is off (every other range is
-- tested through troubleshooting_destination_policy(), the same code)
SELECT create_troubleshooting_report_schedule('d1', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "http://127.0.0.1/latest/meta-data/"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d2', 'daily', '08:00',
    '[{"channel": "slack", "recipient": "#ops", "webhook_url": "http://[::1]/hook"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d3', 'daily', '08:00',
    '[{"channel": "teams", "recipient": "Ops", "webhook_url": "http://2130706433/"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d4', 'daily', '08:00',
    '[{"channel": "discord", "recipient": "ops", "webhook_url": "http://[::ffff:127.0.0.1]/"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d5', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "http://0177.0.0.1:80/"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d6', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "http://localhost:8080/x"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d7', 'daily', '08:00',
    '[{"channel": "slack", "recipient": "#ops", "webhook_url": "https://127.1.2.3/hook"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d8', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "https://example.com/a\r\nX-Injected: 1"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d9', 'daily', '08:00',
    '[{"channel": "slack", "recipient": "#ops", "webhook_url": "https://hooks.example.com/a b"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('d10', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "1234567890123456789"}]', 'UTC');
UPDATE support_troubleshooting_report_schedules
   SET recipients = '[{"channel": "webhook", "recipient": "http://127.0.0.1/"}]' WHERE name = 'ok';
-- a host name is checked when it is resolved at send time
SELECT create_troubleshooting_report_schedule('named', 'daily', '08:00',
    '[{"channel": "webhook", "recipient": "https://hooks.example.com/reports"},
      {"channel": "slack", "recipient": "#ops", "webhook_url": "https://hooks.slack.com/services/T0/B0/x"}]', 'UTC') > 0 AS created;
SELECT name, recipients FROM support_troubleshooting_report_schedules ORDER BY id;

------------------------------------------------------------------------------
-- A chat notification's metadata webhook_url: an http(s) URL string without
-- control characters, not refused by the destination policy
------------------------------------------------------------------------------
SELECT send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
    jsonb_build_object('webhook_url', E'https://hooks.slack.com/services/T/B/x\r\nX-Injected: 1'));
SELECT send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
    '{"webhook_url": "ftp://hooks.example.com/x"}');
SELECT send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
    '{"webhook_url": "http://127.0.0.1/latest/meta-data"}');
SELECT send_troubleshooting_notification('discord', 'ops', 'session_started', '{}', 'normal',
    '{"webhook_url": "http://[::ffff:127.0.0.1]/x"}');
SELECT send_troubleshooting_notification('teams', 'Ops', 'session_started', '{}', 'normal',
    '{"webhook_url": 42}');
SELECT send_troubleshooting_notifications_bulk('[{"channel": "slack", "recipient": "#ops", "template": "session_started",
    "metadata": {"webhook_url": "http://127.0.0.5/hook"}}]', '{}');
SELECT send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
    '{"webhook_url": "https://hooks.slack.com/services/T/B/ok"}') > 0 AS accepted;

------------------------------------------------------------------------------
-- Notification events: finite times in a window around the notification;
-- a failed notification gains no delivered or read time
------------------------------------------------------------------------------
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started') AS e1 \gset
SELECT send_troubleshooting_notification('email', 'bo@example.com', 'session_started') AS e2 \gset
SELECT send_troubleshooting_notification('sms', '+14155550100', 'session_started') AS s1 \gset
SELECT send_troubleshooting_notification('sms', '+14155550101', 'session_started') AS s2 \gset
UPDATE support_troubleshooting_notifications
   SET status = 'sent', created_at = '2025-01-01 09:00+00', sent_at = '2025-01-01 09:00+00',
       provider_message_id = CASE id WHEN :e1 THEN 'valsg1' WHEN :e2 THEN 'valmg1@mg.example.com'
                                     WHEN :s1 THEN 'SMval1' ELSE 'sns-val-1' END
 WHERE id IN (:e1, :e2, :s1, :s2);
SELECT record_troubleshooting_notification_event(:e1, 'read', 'infinity');
SELECT record_troubleshooting_notification_event(:e1, 'delivered', '-infinity');
SELECT record_troubleshooting_notification_event(:e1, 'failed', '294276-01-01 00:00+00');
SELECT record_troubleshooting_notification_event(:e1, 'read', '2999-01-01 00:00+00');
SELECT record_troubleshooting_notification_event(:e1, 'read', '2024-12-31 08:59+00');
SELECT status, delivered_at, read_at, failed_at FROM support_troubleshooting_notifications WHERE id = :e1;
SELECT count(*) AS events FROM support_troubleshooting_notification_events WHERE notification_id = :e1;
-- the edges of the window are in it
SELECT record_troubleshooting_notification_event(:e1, 'delivered', '2024-12-31 09:00+00');
SELECT record_troubleshooting_notification_event(:e1, 'read', now() + interval '23 hours') AS future_within_a_day;

-- provider callbacks: SendGrid's 1.5 is 1970, out of range; numbers beyond
-- year 9999, negative ones and non-ISO text are malformed
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": 1.5, "sg_message_id": "valsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": 1e20, "sg_message_id": "valsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": -1, "sg_message_id": "valsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('ses', '{"eventType": "Delivery", "mail": {"messageId": "x"}, "delivery": {"timestamp": "infinity"}}');
SELECT * FROM ingest_troubleshooting_provider_event('ses', '{"eventType": "Delivery", "mail": {"messageId": "x"}, "delivery": {"timestamp": "294276-01-01T00:00:00Z"}}');
SELECT * FROM ingest_troubleshooting_provider_event('ses', '{"eventType": "Delivery", "mail": {"messageId": "x"}, "delivery": {"timestamp": "2025-02-30T10:00:00Z"}}');
SELECT * FROM ingest_troubleshooting_provider_event('sns', '{"status": "SUCCESS", "notification": {"messageId": "sns-val-1", "timestamp": "epoch"}}');
SELECT * FROM ingest_troubleshooting_provider_event('sns', '{"status": "SUCCESS", "notification": {"messageId": "sns-val-1", "timestamp": "-infinity"}}');
-- fractional seconds are kept (Mailgun sends them), ISO times in range are fine
SELECT * FROM ingest_troubleshooting_provider_event('mailgun',
    '{"event-data": {"event": "delivered", "timestamp": 1735725600.25, "message": {"headers": {"message-id": "valmg1@mg.example.com"}}}}');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": 1735725660.5, "sg_message_id": "valsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('sns', '{"status": "SUCCESS", "notification": {"messageId": "sns-val-1", "timestamp": "2025-01-01 10:00:01.5"}}');
SELECT n.id = :e1 AS e1, e.event, e.occurred_at FROM support_troubleshooting_notification_events e
JOIN support_troubleshooting_notifications n ON n.id = e.notification_id
WHERE n.id IN (:e1, :e2, :s2) AND e.occurred_at < '2026-01-01' ORDER BY e.id;

-- Twilio: failed, then read and delivered: the row stays failed without
-- delivered_at or read_at (the events are still recorded)
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SMval1", "MessageStatus": "failed"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SMval1", "MessageStatus": "read"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SMval1", "MessageStatus": "delivered"}');
SELECT status, delivered_at IS NULL AS no_delivered_at, read_at IS NULL AS no_read_at, failed_at IS NOT NULL AS has_failed_at
FROM support_troubleshooting_notifications WHERE id = :s1;
SELECT event FROM support_troubleshooting_notification_events WHERE notification_id = :s1 ORDER BY id;
-- and a read notification gains no failed_at from a late bounce
SELECT record_troubleshooting_notification_event(:e2, 'read', '2025-01-01 10:05+00');
SELECT record_troubleshooting_notification_event(:e2, 'failed', '2025-01-01 10:06+00');
SELECT status, failed_at FROM support_troubleshooting_notifications WHERE id = :e2;

------------------------------------------------------------------------------
-- Config values: ratios are decimals from 0 to 1 (no blank, no sign, no hex);
-- llm_base_url an http(s) URL with a host; llm_model one short line
------------------------------------------------------------------------------
SELECT set_troubleshooting_config('report_csat_drop', ' ');
UPDATE support_troubleshooting_config SET config_value = ' ' WHERE config_key = 'llm_temperature';
SELECT set_troubleshooting_config('report_csat_drop', '-0');
SELECT set_troubleshooting_config('report_csat_drop', '0x.8');
SELECT set_troubleshooting_config('report_csat_drop', '.');
SELECT set_troubleshooting_config('report_csat_drop', '1.0001');
SELECT set_troubleshooting_config('report_csat_drop', E'0.5\r\nX: 1');
SELECT set_troubleshooting_config('report_min_resolution_rate', ' 0.50 ');
SELECT set_troubleshooting_config('report_escalation_rise', '.25');
SELECT set_troubleshooting_config('report_step_failure_rate', '1.000');
SELECT set_troubleshooting_config('report_csat_drop', '00.3');
SELECT set_troubleshooting_config('report_min_feedback_response_rate', '0.');
SELECT set_troubleshooting_config('ml_confidence_threshold', '+0.7');
UPDATE support_troubleshooting_config SET config_value = '0.123456789' WHERE config_key = 'llm_temperature';
SELECT config_key, config_value FROM support_troubleshooting_config WHERE value_type = 'ratio' ORDER BY 1;
UPDATE support_troubleshooting_config SET config_value = NULL WHERE value_type = 'ratio';
SELECT set_troubleshooting_config('llm_base_url', 'javascript:alert(1)');
UPDATE support_troubleshooting_config SET config_value = 'javascript:alert(1)' WHERE config_key = 'llm_base_url';
SELECT set_troubleshooting_config('llm_base_url', 'https://');
SELECT set_troubleshooting_config('llm_base_url', 'https://key:secret@api.example.com/v1');
SELECT set_troubleshooting_config('llm_base_url', E'https://api.example.com/v1\r\nX: 1');
SELECT set_troubleshooting_config('llm_base_url', 'http://2130706433/v1');
SELECT set_troubleshooting_config('llm_base_url', 'http://[::1]:8080/v1');
SELECT set_troubleshooting_config('llm_base_url', ' https://api.example.com/v1/ ');
SELECT get_troubleshooting_config('llm_base_url');
SELECT set_troubleshooting_config('llm_model', E'gpt\n4');
SELECT set_troubleshooting_config('llm_model', '  ');
SELECT set_troubleshooting_config('llm_model', repeat('m', 201));
SELECT set_troubleshooting_config('llm_model', ' gpt-4o ');
SELECT get_troubleshooting_config('llm_model');
SELECT set_troubleshooting_config('timeout_recipients', repeat('x', 10001));
-- integer keys that become durations have a largest value (beyond it the
-- maintenance jobs' timestamp and millisecond arithmetic would overflow)
SELECT set_troubleshooting_config('cleanup_interval_minutes', '2147483647');
SELECT set_troubleshooting_config('retention_days_sessions', '36501');
UPDATE support_troubleshooting_config SET config_value = '8761' WHERE config_key = 'max_session_duration_hours';
SELECT set_troubleshooting_config('default_timeout_minutes', '525601');
SELECT set_troubleshooting_config('llm_timeout_seconds', '121');
SELECT set_troubleshooting_config('retention_days_sessions', '36500');
SELECT set_troubleshooting_config('cleanup_interval_minutes', '10080');
SELECT set_troubleshooting_config('report_min_sample', '2147483647');
SELECT config_key, config_value FROM support_troubleshooting_config
WHERE config_key IN ('retention_days_sessions', 'cleanup_interval_minutes', 'report_min_sample',
                     'max_session_duration_hours', 'default_timeout_minutes', 'llm_timeout_seconds')
ORDER BY 1;
UPDATE support_troubleshooting_config SET config_value = NULL WHERE value_type = 'integer';

------------------------------------------------------------------------------
-- ML rows: ids of 1 to 200 characters without control characters, notes up
-- to 10,000 characters (the functions say so; the table's constraints too)
------------------------------------------------------------------------------
INSERT INTO support_troubleshooting_sessions (session_id, problem_description) VALUES ('v-1', 'Slow');
SELECT record_troubleshooting_prediction('v-1', '', 0.5);
SELECT record_troubleshooting_prediction('v-1', repeat('x', 1000000), 0.5);
SELECT record_troubleshooting_correction('v-1', E'wifi\ndrops', 'agent.lee');
SELECT record_troubleshooting_correction('v-1', 'wifi', '');
SELECT record_troubleshooting_correction('v-1', 'wifi', 'agent.lee', repeat('n', 10001));
\set VERBOSITY terse
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id) VALUES ('v-1', '');
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id) VALUES ('v-1', repeat('x', 1000000));
INSERT INTO support_troubleshooting_ml_training (session_id, corrected_problem_id, corrected_by) VALUES ('v-1', 'wifi', E'a\rb');
INSERT INTO support_troubleshooting_ml_training (session_id, correction_notes) VALUES ('v-1', repeat('n', 10001));
\set VERBOSITY default
SELECT record_troubleshooting_prediction('v-1', repeat('x', 200), 0.5) > 0 AS at_limit,
       record_troubleshooting_correction('v-1', 'wifi', 'agent.lee', repeat('n', 10000)) > 0 AS notes_at_limit;
SELECT count(*) FROM support_troubleshooting_ml_training;
