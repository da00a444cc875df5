-- Email and SMS at enqueue (recipients, SMS length, attachments, body
-- format and plain-text alternative, open-tracking pixel) and delivery and
-- read tracking (events, the pixel's token, providers' status callbacks).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SET TimeZone = 'UTC';

-- e-mail recipients: one address each
SELECT count(*) AS accepted FROM unnest(ARRAY[
    'ana@example.com', 'first.last+tag@sub.example.co.uk', 'o''brien@example.ie',
    'x_y-z@xn--bcher-kva.example', 'UPPER@EXAMPLE.COM', repeat('a', 64) || '@example.com']) r,
    LATERAL send_troubleshooting_notification('email', r, 'session_started') id;
SELECT send_troubleshooting_notification('email', E'a@example.com\r\nBcc: b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', E'a@example.com\nX-Injected: 1', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@example.com, b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@example.com;b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'Ana <ana@example.com>', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana.example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@localhost', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@example.123', 'session_started');
SELECT send_troubleshooting_notification('email', 'a..b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', '.ab@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@-example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@exa_mple.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@example..com', 'session_started');
SELECT send_troubleshooting_notification('email', 'ana@bücher.example', 'session_started');
SELECT send_troubleshooting_notification('email', 'josé@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'a"b@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', repeat('a', 65) || '@example.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@' || repeat('b', 63) || '.' || repeat('c', 63) || '.'
                                                  || repeat('d', 63) || '.' || repeat('e', 60) || '.com', 'session_started');
SELECT send_troubleshooting_notification('email', 'a@' || repeat('b', 64) || '.com', 'session_started');
-- the bulk function checks the same way and names the entry
SELECT * FROM send_troubleshooting_notifications_bulk(
    '[{"channel": "email", "recipient": "ok@example.com", "template": "session_started"},
      {"channel": "email", "recipient": "a@example.com,b@example.com", "template": "session_started"}]');

-- SMS recipients: E.164
SELECT count(*) AS accepted FROM unnest(ARRAY['+14155550100', '+442071838750', '+12345678', '+123456789012345']) r,
    LATERAL send_troubleshooting_notification('sms', r, 'session_started') id;
SELECT send_troubleshooting_notification('sms', '4155550100', 'session_started');
SELECT send_troubleshooting_notification('sms', '+1 415 555 0100', 'session_started');
SELECT send_troubleshooting_notification('sms', '+0123456789', 'session_started');
SELECT send_troubleshooting_notification('sms', '+1234567', 'session_started');
SELECT send_troubleshooting_notification('sms', '+1234567890123456', 'session_started');
SELECT send_troubleshooting_notification('sms', E'+14155550100\n', 'session_started');
SELECT * FROM send_troubleshooting_notifications_bulk('[{"channel": "sms", "recipient": "0044207", "template": "session_started"}]');
-- recipient lists in config are checked the same way
SELECT set_troubleshooting_config('escalation_recipients', 'email:lead@example.com,sms:+14155550100');
SELECT set_troubleshooting_config('escalation_recipients', 'email:lead@example.com,sms:555-0100');
SELECT set_troubleshooting_config('timeout_recipients', 'email:Lead <lead@example.com>');
SELECT set_troubleshooting_config('escalation_recipients', NULL);
-- a resolved session whose customer e-mail is no address gets no feedback
-- request, and resolving it still works
INSERT INTO support_troubleshooting_sessions (session_id, customer_email) VALUES ('bad-mail', 'n/a');
UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'bad-mail';
SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'bad-mail';
SELECT count(*) AS feedback_requests FROM support_troubleshooting_notifications WHERE template = 'feedback_request';

-- SMS bodies: at most 1600 characters (not bytes) after rendering
INSERT INTO support_troubleshooting_templates (name, body) VALUES ('echo', '{{text}}');
SELECT send_troubleshooting_notification('sms', '+14155550100', 'echo',
    jsonb_build_object('text', repeat('é', 1600))) AS sms_1600 \gset
SELECT length(body) AS chars, octet_length(body) AS bytes FROM support_troubleshooting_notifications WHERE id = :sms_1600;
SELECT send_troubleshooting_notification('sms', '+14155550100', 'echo', jsonb_build_object('text', repeat('x', 1601)));
SELECT send_troubleshooting_notification('sms', '+14155550100', 'echo', jsonb_build_object('text', repeat('é', 1601)));
-- other channels have no such limit
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'echo', jsonb_build_object('text', repeat('x', 1601))) > 0 AS email_ok;

-- attachments: e-mail only, checked at enqueue, left in metadata for the dispatcher
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started', '{}', 'normal',
    jsonb_build_object('attachments', jsonb_build_array(
        jsonb_build_object('filename', 'report.pdf', 'content_type', 'application/pdf',
                           'content', encode(convert_to('%PDF-1.4 hello', 'UTF8'), 'base64')),
        jsonb_build_object('filename', 'notes – résumé.txt', 'content', encode(convert_to(repeat('line ', 40), 'UTF8'), 'base64')),
        jsonb_build_object('filename', 'empty.bin', 'content_type', 'application/octet-stream', 'content', '')))) AS att \gset
SELECT jsonb_array_length(metadata -> 'attachments') AS attachments,
       metadata #>> '{attachments,1,content}' LIKE E'%\n%' AS content_has_line_breaks
FROM support_troubleshooting_notifications WHERE id = :att;
CREATE TEMP TABLE bad_attachments (label text, metadata jsonb);
INSERT INTO bad_attachments VALUES
    ('not an array', '{"attachments": {"filename": "a.txt", "content": "YQ=="}}'),
    ('not an object', '{"attachments": ["a.txt"]}'),
    ('no filename', '{"attachments": [{"content": "YQ=="}]}'),
    ('no content', '{"attachments": [{"filename": "a.txt"}]}'),
    ('empty filename', '{"attachments": [{"filename": "", "content": "YQ=="}]}'),
    ('long filename', jsonb_build_object('attachments', jsonb_build_array(jsonb_build_object('filename', repeat('é', 256), 'content', 'YQ==')))),
    ('slash', '{"attachments": [{"filename": "../etc/passwd", "content": "YQ=="}]}'),
    ('backslash', '{"attachments": [{"filename": "a\\b.txt", "content": "YQ=="}]}'),
    ('quote', '{"attachments": [{"filename": "a\".txt", "content": "YQ=="}]}'),
    ('newline', '{"attachments": [{"filename": "a\r\nContent-Type: text/html", "content": "YQ=="}]}'),
    ('number filename', '{"attachments": [{"filename": 5, "content": "YQ=="}]}'),
    ('bad type', '{"attachments": [{"filename": "a.pdf", "content_type": "pdf", "content": "YQ=="}]}'),
    ('type parameters', '{"attachments": [{"filename": "a.txt", "content_type": "text/plain; charset=utf-8", "content": "YQ=="}]}'),
    ('type injection', '{"attachments": [{"filename": "a.txt", "content_type": "text/plain\r\nBcc: x@example.com", "content": "YQ=="}]}'),
    ('not base64', '{"attachments": [{"filename": "a.txt", "content": "not base64!"}]}'),
    ('bad padding', '{"attachments": [{"filename": "a.txt", "content": "YQ="}]}'),
    ('data after padding', '{"attachments": [{"filename": "a.txt", "content": "YQ==YQ=="}]}'),
    ('unknown key', '{"attachments": [{"filename": "a.txt", "content": "YQ==", "disposition": "inline"}]}'),
    ('second one bad', '{"attachments": [{"filename": "a.txt", "content": "YQ=="}, {"filename": "b.txt", "content": "%%%"}]}');
DO $$
DECLARE
    b record;
    msg text;
    det text;
BEGIN
    FOR b IN SELECT * FROM bad_attachments LOOP
        BEGIN
            PERFORM send_troubleshooting_notification('email', 'ana@example.com', 'session_started', '{}', 'normal', b.metadata);
            RAISE NOTICE '%: accepted', b.label;
        EXCEPTION WHEN invalid_parameter_value THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            RAISE NOTICE '%: % | %', b.label, msg, det;
        END;
    END LOOP;
END
$$;
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started', '{}', 'normal',
    '{"attachments": [{"filename": "a.txt", "content": "not base64!"}]}');
SELECT send_troubleshooting_notification('sms', '+14155550100', 'session_started', '{}', 'normal',
    '{"attachments": [{"filename": "a.txt", "content": "YQ=="}]}');
SELECT send_troubleshooting_notification('sms', '+14155550100', 'session_started', '{}', 'normal',
    '{"attachments": null}') > 0 AS null_attachments_ok;
-- 10 MB decoded in all: exactly 10 MB goes, one byte more does not
SELECT encode(decode(repeat('00', 5 * 1024 * 1024), 'hex'), 'base64') AS five_mb \gset
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started', '{}', 'normal',
    jsonb_build_object('attachments', jsonb_build_array(
        jsonb_build_object('filename', 'a.bin', 'content', :'five_mb'),
        jsonb_build_object('filename', 'b.bin', 'content', :'five_mb')))) > 0 AS ten_mb_ok;
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started', '{}', 'normal',
    jsonb_build_object('attachments', jsonb_build_array(
        jsonb_build_object('filename', 'a.bin', 'content', :'five_mb'),
        jsonb_build_object('filename', 'b.bin', 'content', :'five_mb'),
        jsonb_build_object('filename', 'c.bin', 'content', 'AA=='))));
\unset five_mb

-- body format and plain-text alternative: the template's format, its
-- text_body rendered without escaping
SELECT send_troubleshooting_notification('email', 'juan@example.com', 'feedback_request',
    '{"customer_name": "Juan Pérez", "detected_problem_title": "Wi-Fi <drops>",
      "feedback_url": "https://f.example/1?a=1&b=2"}') AS fb \gset
SELECT body_format, body, text_body, tracking_token FROM support_troubleshooting_notifications WHERE id = :fb;
SELECT send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
                                         '{"webhook_url": "https://hooks.slack.example/x"}') AS id \gset
SELECT body_format, text_body FROM support_troubleshooting_notifications WHERE id = :id;
SELECT send_troubleshooting_notification('webhook', 'https://hooks.example/x', NULL, '{"type": "custom"}') AS id \gset
SELECT body_format, body FROM support_troubleshooting_notifications WHERE id = :id;
INSERT INTO support_troubleshooting_templates (name, channel, subject, body, format, text_body)
VALUES ('md_note', 'email', 'Note', '**{{x}}** & more', 'markdown', '{{x}} & more');
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'md_note', '{"x": "<b>"}') AS id \gset
SELECT body_format, body, text_body FROM support_troubleshooting_notifications WHERE id = :id;
-- subscription events are JSON too
INSERT INTO support_webhooks (url, events) VALUES ('https://crm.example/hook', ARRAY['session.started']);
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('hooked');
SELECT body_format FROM support_troubleshooting_notifications WHERE channel = 'webhook' AND session_id = 'hooked';
-- editing a shipped template's text_body makes it the user's
UPDATE support_troubleshooting_templates SET text_body = 'Rate us: {{feedback_url}}'
WHERE name = 'feedback_request' AND channel = 'email';
SELECT is_default FROM support_troubleshooting_templates WHERE name = 'feedback_request' AND channel = 'email';

-- open-tracking pixel: off by default
SELECT get_troubleshooting_config('email_open_tracking_url') = '' AS off;
SELECT set_troubleshooting_config('email_open_tracking_url', 'ftp://track.example.com');
SELECT set_troubleshooting_config('email_open_tracking_url', 'https://track.example.com/open?id=');
SELECT set_troubleshooting_config('email_open_tracking_url', 'https://track.example.com/a b');
SELECT set_troubleshooting_config('email_open_tracking_url', 'https://user:pw@track.example.com');
SELECT set_troubleshooting_config('email_open_tracking_url', 'https://track.example.com/"><script>');
SELECT set_troubleshooting_config('email_open_tracking_url', 'javascript:alert(1)');
SELECT set_troubleshooting_config('email_open_tracking_url', ' https://track.example.com/o/ ');
SELECT get_troubleshooting_config('email_open_tracking_url');
INSERT INTO support_troubleshooting_templates (name, channel, subject, body, format) VALUES
    ('full_page', 'email', 'Hello', '<html><body><p>Hi {{name}}</p></BODY ></html>', 'html'),
    ('fragment', 'email', 'Hello', '<p>Hi {{name}}</p>', 'html');
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'full_page', '{"name": "Ana"}') AS px1 \gset
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'fragment', '{"name": "Ana"}') AS px2 \gset
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'session_started') AS px3 \gset
SELECT id = :px1 AS full_page, tracking_token ~ '^[0-9a-f]{32}$' AS token_ok,
       replace(body, coalesce(tracking_token, '-'), '<token>') AS body
FROM support_troubleshooting_notifications WHERE id IN (:px1, :px2, :px3) ORDER BY id;
SELECT count(DISTINCT tracking_token) AS distinct_tokens FROM support_troubleshooting_notifications
WHERE id IN (:px1, :px2);
-- & in the URL is written &amp; inside the attribute
SELECT set_troubleshooting_config('email_open_tracking_url', 'https://track.example.com/o;a=1&b=2');
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'fragment', '{"name": "Ana"}') AS id \gset
SELECT replace(body, tracking_token, '<token>') AS body FROM support_troubleshooting_notifications WHERE id = :id;
-- turned off again: no pixel, no token
SELECT set_troubleshooting_config('email_open_tracking_url', '');
SELECT send_troubleshooting_notification('email', 'ana@example.com', 'fragment', '{"name": "Ana"}') AS id \gset
SELECT tracking_token IS NULL AS no_token, body FROM support_troubleshooting_notifications WHERE id = :id;

-- delivery and read events: sent -> delivered -> read, timestamps
-- (event times lie between a day before the notification was created and a
-- day after now: these notifications were created on 2025-01-01)
\set SHOW_CONTEXT never
UPDATE support_troubleshooting_notifications
   SET status = 'sent', sent_at = '2025-01-01 10:00', provider_message_id = 'pm-' || id
 WHERE id IN (:px1, :px2, :px3, :fb, :att);
UPDATE support_troubleshooting_notifications SET created_at = '2025-01-01 09:00'
 WHERE id IN (:px1, :px2, :px3, :fb, :att, :sms_1600);
SELECT record_troubleshooting_notification_event(:px3, 'delivered', '2025-01-01 10:01');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :px3;
SELECT record_troubleshooting_notification_event(:px3, 'read', '2025-01-01 10:05', '{"ip": "192.0.2.1"}');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :px3;
-- the same event again: nothing new
SELECT record_troubleshooting_notification_event(:px3, 'read', '2025-01-01 10:05');
-- a late, earlier 'delivered' is recorded, the earliest time wins, status stays read
SELECT record_troubleshooting_notification_event(:px3, 'delivered', '2025-01-01 10:00:30');
SELECT record_troubleshooting_notification_event(:px3, 'read', '2025-01-01 11:00');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :px3;
-- read before delivered: read implies delivered
SELECT record_troubleshooting_notification_event(:fb, 'read', '2025-01-01 12:00');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :fb;
SELECT record_troubleshooting_notification_event(:fb, 'delivered', '2025-01-01 10:02');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :fb;
-- a bounce fails a sent or delivered notification; nothing moves it back,
-- and a failed notification gains no read (or delivered) time
SELECT record_troubleshooting_notification_event(:att, 'delivered', '2025-01-01 10:01');
SELECT record_troubleshooting_notification_event(:att, 'failed', '2025-01-01 10:03', '{"reason": "mailbox full"}');
SELECT record_troubleshooting_notification_event(:att, 'read', '2025-01-01 10:04');
SELECT status, delivered_at, read_at, failed_at FROM support_troubleshooting_notifications WHERE id = :att;
-- a bounce after a read does not fail it (nor gives it a failed_at)
SELECT record_troubleshooting_notification_event(:px3, 'failed', '2025-01-01 12:00');
SELECT status, failed_at FROM support_troubleshooting_notifications WHERE id = :px3;
-- a notification the dispatcher has not sent yet keeps its status
SELECT record_troubleshooting_notification_event(:sms_1600, 'delivered', '2025-01-01 10:00');
SELECT status, delivered_at FROM support_troubleshooting_notifications WHERE id = :sms_1600;
-- bad input
SELECT record_troubleshooting_notification_event(:px3, 'opened');
SELECT record_troubleshooting_notification_event(:px3, NULL);
SELECT record_troubleshooting_notification_event(987654321, 'read');
SELECT record_troubleshooting_notification_event(NULL::bigint, 'read');
SELECT notification_id = :px3 AS px3, event, occurred_at, source, detail
FROM support_troubleshooting_notification_events
WHERE notification_id IN (:px3, :fb) ORDER BY id;

-- by tracking token (the pixel endpoint): read by default
SELECT tracking_token AS token FROM support_troubleshooting_notifications WHERE id = :px1 \gset
SELECT record_troubleshooting_notification_event(:'token', p_at => '2025-01-01 10:10');
SELECT status, delivered_at, read_at FROM support_troubleshooting_notifications WHERE id = :px1;
SELECT source FROM support_troubleshooting_notification_events WHERE notification_id = :px1;
-- unknown or malformed tokens: false, no error
SELECT record_troubleshooting_notification_event('0123456789abcdef0123456789abcdef') AS unknown_token,
       record_troubleshooting_notification_event('not a token') AS malformed,
       record_troubleshooting_notification_event(NULL::text) AS null_token,
       record_troubleshooting_notification_event(upper(:'token')) AS upper_case;
SELECT record_troubleshooting_notification_event(:'token', 'opened');
-- a number goes to the id version, a quoted string to the token version
SELECT record_troubleshooting_notification_event(987654321, 'read');
SELECT record_troubleshooting_notification_event(9876543210, 'read');
SELECT record_troubleshooting_notification_event('987654321', 'read') AS token_version;

-- providers' status callbacks
UPDATE support_troubleshooting_notifications SET provider_message_id = NULL WHERE provider_message_id IS NOT NULL;
CREATE TEMP TABLE msg (name text PRIMARY KEY, id bigint);
INSERT INTO msg
SELECT 'email' || i, send_troubleshooting_notification('email', 'user' || i || '@example.com', 'session_started')
FROM generate_series(1, 8) i;
INSERT INTO msg
SELECT 'sms' || i, send_troubleshooting_notification('sms', '+1415555010' || i, 'session_started')
FROM generate_series(1, 5) i;
UPDATE support_troubleshooting_notifications n SET status = 'sent', sent_at = '2023-11-14 22:00',
       created_at = '2023-11-14 21:00',
       provider_message_id = CASE m.name
           WHEN 'email1' THEN 'sgMsg1' WHEN 'email2' THEN 'sgMsg2'
           WHEN 'email3' THEN '20231114221500.1.ABC@mg.example.com' WHEN 'email4' THEN '20231114221501.2.DEF@mg.example.com'
           WHEN 'email5' THEN '0100018bd0d3e6a5-ses-1' WHEN 'email6' THEN '0100018bd0d3e6a5-ses-2'
           WHEN 'sms1' THEN 'SM0001' WHEN 'sms2' THEN 'SM0002'
           WHEN 'sms3' THEN 'sns-0001' WHEN 'sms4' THEN 'sns-0002' END
FROM msg m WHERE m.id = n.id AND m.name NOT IN ('email7', 'email8', 'sms5');

-- SendGrid Event Webhook: an array; sg_message_id is X-Message-Id plus a suffix
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[
  {"email": "user1@example.com", "timestamp": 1700000000, "event": "processed", "sg_message_id": "sgMsg1.filterdrecv-1-2023.0"},
  {"email": "user1@example.com", "timestamp": 1700000060, "event": "delivered", "sg_message_id": "sgMsg1.filterdrecv-1-2023.0", "response": "250 OK"},
  {"email": "user1@example.com", "timestamp": 1700000060, "event": "delivered", "sg_message_id": "sgMsg1.filterdrecv-1-2023.0"},
  {"email": "user1@example.com", "timestamp": 1700000300, "event": "open", "sg_message_id": "sgMsg1.filterdrecv-1-2023.0", "useragent": "Mozilla"},
  {"email": "user2@example.com", "timestamp": 1700000030, "event": "deferred", "sg_message_id": "sgMsg2.filterdrecv-2-2023.0"},
  {"email": "user2@example.com", "timestamp": 1700000090, "event": "bounce", "sg_message_id": "sgMsg2.filterdrecv-2-2023.0", "reason": "550 no such user"},
  {"email": "other@example.com", "timestamp": 1700000090, "event": "delivered", "sg_message_id": "sgNope.filterdrecv-3.0"}
]');
-- Mailgun webhook: one event, message-id without angle brackets; temporary failures are no bounce
SELECT * FROM ingest_troubleshooting_provider_event('mailgun', '{"signature": {"timestamp": "1700000100", "token": "t", "signature": "s"},
  "event-data": {"event": "delivered", "timestamp": 1700000100.25, "message": {"headers": {"message-id": "20231114221500.1.ABC@mg.example.com"}}}}');
SELECT * FROM ingest_troubleshooting_provider_event('mailgun', '{"signature": {},
  "event-data": {"event": "opened", "timestamp": 1700000400.5, "message": {"headers": {"message-id": "<20231114221500.1.ABC@mg.example.com>"}}}}');
SELECT * FROM ingest_troubleshooting_provider_event('mailgun', '[
  {"event-data": {"event": "failed", "severity": "temporary", "timestamp": 1700000110, "message": {"headers": {"message-id": "20231114221501.2.DEF@mg.example.com"}}}},
  {"event-data": {"event": "failed", "severity": "permanent", "timestamp": 1700000120, "message": {"headers": {"message-id": "20231114221501.2.DEF@mg.example.com"}}}},
  {"event-data": {"event": "accepted", "timestamp": 1700000001, "message": {"headers": {"message-id": "20231114221501.2.DEF@mg.example.com"}}}},
  {"event-data": {"event": "delivered", "timestamp": 1700000120, "message": {"headers": {"message-id": "unknown@mg.example.com"}}}}
]');
-- Twilio status callback: the form fields as an object; no event time, so once per event
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "sent", "AccountSid": "AC1"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC1"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC1"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0002", "MessageStatus": "undelivered", "ErrorCode": "30003"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM9999", "MessageStatus": "delivered"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "queued"}');
-- Amazon SES events through SNS: the event is a JSON string in "Message"
SELECT * FROM ingest_troubleshooting_provider_event('ses', jsonb_build_object(
    'Type', 'Notification', 'MessageId', 'sns-envelope-1', 'TopicArn', 'arn:aws:sns:eu-west-1:1:ses',
    'Message', '{"eventType": "Delivery", "mail": {"messageId": "0100018bd0d3e6a5-ses-1", "timestamp": "2023-11-14T22:00:00.000Z"},
                 "delivery": {"timestamp": "2023-11-14T22:00:02.345Z", "recipients": ["user5@example.com"]}}'));
SELECT * FROM ingest_troubleshooting_provider_event('ses', jsonb_build_object(
    'Type', 'Notification', 'Message', '{"eventType": "Open", "mail": {"messageId": "0100018bd0d3e6a5-ses-1"},
                                         "open": {"timestamp": "2023-11-14T22:10:00.000Z", "userAgent": "Mozilla"}}'));
SELECT * FROM ingest_troubleshooting_provider_event('ses', jsonb_build_array(
    jsonb_build_object('Type', 'Notification', 'Message', '{"notificationType": "Bounce", "mail": {"messageId": "0100018bd0d3e6a5-ses-2"},
        "bounce": {"bounceType": "Transient", "timestamp": "2023-11-14T22:01:00.000Z"}}'),
    jsonb_build_object('Type', 'Notification', 'Message', '{"notificationType": "Bounce", "mail": {"messageId": "0100018bd0d3e6a5-ses-2"},
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2023-11-14T22:02:00.000Z"}}'),
    jsonb_build_object('Type', 'Notification', 'Message', '{"eventType": "Send", "mail": {"messageId": "0100018bd0d3e6a5-ses-2"}, "send": {}}'),
    jsonb_build_object('Type', 'SubscriptionConfirmation', 'MessageId', 'sub-1', 'SubscribeURL', 'https://sns.example/confirm'),
    -- raw message delivery: the SES event without the SNS envelope
    '{"eventType": "Delivery", "mail": {"messageId": "no-such-ses-id"}, "delivery": {"timestamp": "2023-11-14T22:00:02Z"}}'::jsonb));
-- Amazon SNS SMS delivery status log entries (UTC times without a zone)
SELECT * FROM ingest_troubleshooting_provider_event('sns', '[
  {"notification": {"messageId": "sns-0001", "timestamp": "2023-11-14 22:00:01.123"}, "delivery": {"phoneCarrier": "X", "providerResponse": "Message has been accepted by phone"}, "status": "SUCCESS"},
  {"notification": {"messageId": "sns-0002", "timestamp": "2023-11-14 22:00:05.000"}, "delivery": {"providerResponse": "Unknown error"}, "status": "FAILURE"},
  {"notification": {"messageId": "sns-0003", "timestamp": "2023-11-14 22:00:05.000"}, "status": "SUCCESS"}
]');
-- what that did to the notifications and the events
-- (Twilio sends no event time: the time of arrival is used)
SELECT m.name, n.status,
       CASE WHEN m.name IN ('sms1', 'sms2') AND n.delivered_at IS NOT NULL THEN 'arrival' ELSE n.delivered_at::text END AS delivered_at,
       n.read_at,
       CASE WHEN m.name IN ('sms1', 'sms2') AND n.failed_at IS NOT NULL THEN 'arrival' ELSE n.failed_at::text END AS failed_at
FROM msg m JOIN support_troubleshooting_notifications n ON n.id = m.id ORDER BY m.name;
SELECT m.name, e.event, e.source,
       CASE WHEN e.source = 'twilio' THEN e.occurred_at = e.recorded_at ELSE NULL END AS twilio_time_is_arrival,
       CASE WHEN e.source = 'twilio' THEN NULL ELSE e.occurred_at END AS occurred_at,
       coalesce(e.detail ->> 'reason', e.detail ->> 'ErrorCode', e.detail #>> '{bounce,bounceType}',
                e.detail ->> 'severity', e.detail ->> 'status') AS detail
FROM support_troubleshooting_notification_events e JOIN msg m ON m.id = e.notification_id
ORDER BY m.name, e.id;

-- bad callbacks: errors, nothing recorded
SELECT count(*) AS events_before FROM support_troubleshooting_notification_events \gset
SELECT * FROM ingest_troubleshooting_provider_event('smtp', '{}');
SELECT * FROM ingest_troubleshooting_provider_event(NULL, '{}');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '"delivered"');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', NULL);
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"timestamp": 1700000000, "sg_message_id": "sgMsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "sg_message_id": "sgMsg1.x"}]');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": 1700000000}]');
SELECT * FROM ingest_troubleshooting_provider_event('sendgrid', '[{"event": "open", "timestamp": 1700009999, "sg_message_id": "sgMsg1.x"}, 5]');
SELECT * FROM ingest_troubleshooting_provider_event('mailgun', '{"signature": {}, "event": "delivered"}');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageStatus": "delivered"}');
SELECT * FROM ingest_troubleshooting_provider_event('ses', '{"Type": "Notification", "Message": "not json"}');
SELECT * FROM ingest_troubleshooting_provider_event('ses', '{"Type": "Notification", "Message": {"eventType": "Delivery"}}');
SELECT * FROM ingest_troubleshooting_provider_event('sns', '{"status": "SUCCESS", "notification": {"messageId": "sns-0001"}}');
SELECT count(*) - :events_before AS recorded FROM support_troubleshooting_notification_events;

-- permissions: owner only until granted; the pixel role needs no table rights
CREATE ROLE ts_pixel;
SET ROLE ts_pixel;
SELECT record_troubleshooting_notification_event('0123456789abcdef0123456789abcdef');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "read"}');
RESET ROLE;
GRANT EXECUTE ON FUNCTION record_troubleshooting_notification_event(text, text, timestamptz, jsonb),
      ingest_troubleshooting_provider_event(text, jsonb) TO ts_pixel;
SET ROLE ts_pixel;
SELECT record_troubleshooting_notification_event(:'token', p_at => '2025-01-01 09:00');
SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{"MessageSid": "SM0001", "MessageStatus": "read"}');
SELECT record_troubleshooting_notification_event(:px1, 'read');
SELECT count(*) FROM support_troubleshooting_notification_events;
RESET ROLE;
SELECT read_at FROM support_troubleshooting_notifications WHERE id = :px1;
DROP OWNED BY ts_pixel;
DROP ROLE ts_pixel;
