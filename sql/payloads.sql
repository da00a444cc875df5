-- The HTTP request each channel gets: payload shapes, destination URLs,
-- Standard Webhooks headers (signature verified independently by
-- test/cluster/webhook_signature.sh).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

INSERT INTO support_webhooks (id, url, events, secret)
VALUES (7, 'https://crm.example/hooks/ts', ARRAY['session.resolved'], 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
INSERT INTO support_troubleshooting_templates (name, channel, body, format)
VALUES ('slack_json', 'slack', '{"text": "{{who}} needs help", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*{{who}}*"}}]}', 'json');

SELECT send_troubleshooting_notification('slack', '#support', 'session_started',
    '{"session_id": "p-1", "customer_name": "Ana \"Q\" Lee", "problem_description": "line1\nline2"}',
    'normal', '{"webhook_url": "https://hooks.slack.example/services/T1/B1/xyz"}', 'k-slack') AS slack \gset
SELECT send_troubleshooting_notification('slack', '#support', 'slack_json', '{"who": "Zoë"}',
    'normal', '{"webhook_url": "https://hooks.slack.example/services/T1/B1/xyz"}', 'k-slack-json') AS slack_json \gset
SELECT send_troubleshooting_notification('teams', 'Support', 'session_escalated',
    '{"session_id": "p-1", "customer_name": "Ana", "failed_attempts": 3}',
    'high', '{"webhook_url": "https://prod-01.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s"}',
    'k-teams') AS teams \gset
SELECT send_troubleshooting_notification('teams', 'Support', 'session_escalated', '{"session_id": "p-1"}',
    'high', '{"webhook_url": "https://old.webhook.office.com/webhookb2/x", "teams_format": "messagecard"}',
    'k-teams-card') AS teams_card \gset
SELECT send_troubleshooting_notification('discord', 'ops', 'session_started', '{"session_id": "p-2"}',
    'normal', '{"webhook_url": "https://discord.example/api/webhooks/1/tok"}', 'k-discord') AS discord \gset
INSERT INTO support_troubleshooting_templates (name, channel, subject, body)
VALUES ('long', 'discord', 'A long one', '{{text}}');
SELECT send_troubleshooting_notification('discord', 'ops', 'long', jsonb_build_object('text', repeat('é', 2500)),
    'normal', '{"webhook_url": "https://discord.example/api/webhooks/1/tok?thread_id=5"}', 'k-discord-long') AS discord_long \gset
SELECT send_troubleshooting_notification('webhook', '7', NULL, '{"type": "session.resolved", "data": {"id": 1}}',
    'normal', '{}', 'evt.2026.001') AS webhook \gset
SELECT send_troubleshooting_notification('webhook', 'https://plain.example/hook', NULL, '{"type": "x"}',
    'normal', '{}', 'k-plain') AS plain \gset
SELECT send_troubleshooting_notification('slack', '#nowhere', 'session_started', '{}') AS nowhere \gset

SELECT jsonb_pretty(troubleshooting_notification_request(:slack, '2026-05-01 12:00:00+00'));
SELECT troubleshooting_notification_request(:slack_json, '2026-05-01 12:00:00+00') -> 'body' AS slack_json_body;
SELECT jsonb_pretty((troubleshooting_notification_request(:teams, '2026-05-01 12:00:00+00') ->> 'body')::jsonb);
SELECT troubleshooting_notification_request(:teams_card, '2026-05-01 12:00:00+00') ->> 'body' AS messagecard;
SELECT r ->> 'url' AS url, r -> 'headers' ->> 'User-Agent' AS user_agent, r ->> 'body' AS body
FROM troubleshooting_notification_request(:discord, '2026-05-01 12:00:00+00') r;
SELECT r ->> 'url' AS url, length(b #>> '{embeds,0,description}') AS description_chars,
       right(b #>> '{embeds,0,description}', 2) AS ending, b #>> '{embeds,0,title}' AS title, b -> 'content' AS content
FROM troubleshooting_notification_request(:discord_long, '2026-05-01 12:00:00+00') r,
     LATERAL (SELECT (r ->> 'body')::jsonb AS b) x;
SELECT jsonb_pretty(troubleshooting_notification_request(:webhook, '2026-05-01 12:00:00+00'));
SELECT troubleshooting_notification_request(:plain, '2026-05-01 12:00:00+00') -> 'headers' AS unsigned_headers;
SELECT troubleshooting_notification_request(:nowhere);
SELECT troubleshooting_notification_request(99999);
