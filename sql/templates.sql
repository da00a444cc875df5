-- Mustache templates: stored templates rendered per channel, escaping per
-- output, partials from the templates table, and templates that do not parse.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

-- a shipped template, for any channel and for e-mail (HTML)
SELECT render_troubleshooting_template('feedback_request',
    '{"customer_name": "Juan Pérez", "detected_problem_title": "Wi-Fi <drops>", "feedback_url": "https://x.example/f?a=1&b=2"}');
SELECT render_troubleshooting_template('feedback_request',
    '{"customer_name": "Juan Pérez", "detected_problem_title": "Wi-Fi <drops>", "feedback_url": "https://x.example/f?a=1&b=2"}',
    'email');
-- missing variables render empty; inverted sections fill in
SELECT render_troubleshooting_template('session_started', '{"session_id": "s-1"}', 'slack') ->> 'body';

-- JSON payload templates: no value can break the payload
INSERT INTO support_troubleshooting_templates (name, channel, body, format)
VALUES ('slack_alert', 'slack', '{"text": "Escalated: {{customer_name}} ({{{note}}})"}', 'json');
SELECT render_troubleshooting_template('slack_alert',
    '{"customer_name": "Ana \"the\" O''Brien", "note": "line1\nline2 \\ </script>"}', 'slack') ->> 'body' AS body;
SELECT (render_troubleshooting_template('slack_alert',
    '{"customer_name": "Ana \"the\" O''Brien", "note": "line1\nline2"}', 'slack') ->> 'body')::jsonb ->> 'text' AS parsed;

-- partials come from the templates table, channel-specific first
INSERT INTO support_troubleshooting_templates (name, channel, body) VALUES
    ('signature', NULL, '-- the support team'),
    ('signature', 'sms', '-- support'),
    ('with_signature', NULL, 'Hi {{name}}
{{> signature}}');
SELECT render_troubleshooting_template('with_signature', '{"name": "Zoë"}') ->> 'body';
SELECT render_troubleshooting_template('with_signature', '{"name": "Zoë"}', 'sms') ->> 'body';

-- sections over lists and dotted names
SELECT render_troubleshooting_mustache('{{#steps}}{{n}}. {{title}}{{^ok}} (failed){{/ok}}
{{/steps}}{{customer.name}}',
    '{"steps": [{"n": 1, "title": "Restart", "ok": false}, {"n": 2, "title": "Reset", "ok": true}],
      "customer": {"name": "Luis"}}', '{}', 'text');
SELECT render_troubleshooting_mustache('{{a}} {{{a}}} {{&a}}', '{"a": "<b>&\"''"}');
SELECT render_troubleshooting_mustache('{{a}}', '{"a": "<b>"}', '{}', 'text');
SELECT render_troubleshooting_mustache('{{n}} {{f}} {{t}} {{z}}', '{"n": 3, "f": 1.50, "t": true, "z": null}');

-- errors
SELECT render_troubleshooting_template('no_such_template', '{}');
SELECT render_troubleshooting_template('session_started', '{}', 'fax');
SELECT render_troubleshooting_mustache('{{#open}} never closed', '{}');
SELECT render_troubleshooting_mustache('{{a}', '{}');
SELECT render_troubleshooting_mustache('x', '{}', '{}', 'xml');
SELECT render_troubleshooting_mustache('{{>self}}', '{}', '{"self": "again {{>self}}"}');
-- a template that does not parse cannot be stored
INSERT INTO support_troubleshooting_templates (name, body) VALUES ('broken', 'Hi {{#name}}');
UPDATE support_troubleshooting_templates SET subject = '{{/oops}}' WHERE name = 'session_started';
SELECT count(*) AS broken_rows FROM support_troubleshooting_templates WHERE name = 'broken' OR subject LIKE '%oops%';
