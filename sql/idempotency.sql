-- Idempotency keys: 1 to 200 characters from A-Z a-z 0-9 . _ : @ -, checked
-- at enqueue (one notification or a bulk call, with detail and hint) and by
-- the table's constraint (rows written directly); the keys the extension
-- builds itself stay valid and deterministic whatever the session id holds.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

-- every character of the set, and the longest key: accepted; the same key
-- again returns the first id
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       'Order:42@shop.example_v-1') AS first \gset
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       'Order:42@shop.example_v-1') = :first AS same_id;
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       repeat('k', 200)) > :first AS longest_accepted;
-- the default key (a UUID) is in the set too
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started') > 0 AS enqueued;

-- refused at enqueue: CR/LF, a space, non-ASCII, empty, too long
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       E'k\r\nX-Injected: 1');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       'order 42');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       'clé-1');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}', '');
SELECT send_troubleshooting_notification('email', 'a@example.com', 'session_started', '{}', 'normal', '{}',
       repeat('k', 201));
-- ... and in a bulk call, which then inserts nothing
SELECT * FROM send_troubleshooting_notifications_bulk(
  '[{"channel": "email", "recipient": "a@example.com", "template": "session_started", "idempotency_key": "bulk-ok"},
    {"channel": "email", "recipient": "b@example.com", "template": "session_started", "idempotency_key": "bulk\nBcc: x"}]');
SELECT count(*) AS bulk_rows FROM support_troubleshooting_notifications WHERE idempotency_key = 'bulk-ok';

-- rows written directly: the constraint refuses the same keys (and control
-- characters in recipients); terse, as the failing row holds timestamps
\set VERBOSITY terse
INSERT INTO support_troubleshooting_notifications (channel, recipient, idempotency_key)
VALUES ('email', 'a@example.com', E'direct\r\nX-Injected: 1');
UPDATE support_troubleshooting_notifications SET idempotency_key = E'k\r\nX-Injected: 1' WHERE id = :first;
UPDATE support_troubleshooting_notifications SET idempotency_key = repeat('k', 201) WHERE id = :first;
UPDATE support_troubleshooting_notifications SET idempotency_key = 'ünïcode' WHERE id = :first;
UPDATE support_troubleshooting_notifications SET recipient = E'a@example.com\r\nBcc: x@example.com' WHERE id = :first;
\set VERBOSITY default
SELECT idempotency_key, recipient FROM support_troubleshooting_notifications WHERE id = :first;

-- keys built by the extension: ts_idempotency_key(prefix, part) keeps a part
-- in the set as it is, and hashes any other (deterministically)
SELECT ts_idempotency_key('feedback_request', 'sess-1') AS plain;
WITH parts(n, what, part) AS (VALUES
    (1, 'CR/LF', E'sess\r\nX-Injected: 1'), (2, 'space', 'sess 1'), (3, 'accents', 'sesión-ñ'),
    (4, 'CJK', '会话'), (5, '183 in the set', repeat('s', 183)), (6, '184 in the set', repeat('s', 184)),
    (7, '200 in the set', repeat('s', 200)), (8, 'looks hashed', 'sha256:abc'))
SELECT what, left(k, 40) AS key_start, length(k) AS len, k ~ '^[A-Za-z0-9._:@-]{1,200}$' AS valid,
       k = ts_idempotency_key('feedback_request', part) AS deterministic
FROM parts, ts_idempotency_key('feedback_request', part) AS k
ORDER BY n;
-- different parts, different keys
SELECT count(DISTINCT ts_idempotency_key('feedback_request', p)) AS distinct_keys
FROM (VALUES ('a b'), ('a  b'), (E'a\nb'), ('a_b'), ('ab')) v(p);

-- the feedback request of a session whose id holds CR/LF, spaces and
-- non-ASCII text is enqueued with a valid key, once
DELETE FROM support_troubleshooting_notifications;
INSERT INTO support_troubleshooting_sessions (session_id, customer_email)
VALUES (E'sess\r\nX-Injected: 1', 'ana@example.com'), ('sesión con espacios ñ', 'bo@example.com'),
       ('plain-1', 'cy@example.com');
UPDATE support_troubleshooting_sessions SET status = 'resolved';
UPDATE support_troubleshooting_sessions SET status = 'in_progress';
UPDATE support_troubleshooting_sessions SET status = 'resolved';
SELECT recipient, template, idempotency_key = ts_idempotency_key('feedback_request', session_id) AS expected_key,
       idempotency_key ~ '^[A-Za-z0-9._:@-]{1,200}$' AS valid_key
FROM support_troubleshooting_notifications ORDER BY recipient;
SELECT idempotency_key FROM support_troubleshooting_notifications WHERE recipient = 'cy@example.com';

-- who may call the helper: not PUBLIC
SELECT has_function_privilege('public', 'ts_idempotency_key(text, text)', 'EXECUTE') AS public_can_call;
