-- Central configuration: the seed statements, get/set, history, bad input.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
RESET client_min_messages;
CREATE EXTENSION troubleshooting;

SELECT config_key, config_value, default_value, value_type
FROM support_troubleshooting_config ORDER BY config_key;

-- the existing system's statements, verbatim
SELECT config_value FROM support_troubleshooting_config WHERE config_key = 'auto_escalate_after_failures';
UPDATE support_troubleshooting_config SET config_value = '3', updated_at = NOW() WHERE config_key = 'auto_escalate_after_failures';
-- same value: no history
SELECT count(*) FROM support_troubleshooting_config_history;
UPDATE support_troubleshooting_config SET config_value = '4', updated_at = NOW() WHERE config_key = 'auto_escalate_after_failures';
SELECT config_value FROM support_troubleshooting_config WHERE config_key = 'auto_escalate_after_failures';
SELECT config_key, old_value, new_value, changed_by FROM support_troubleshooting_config_history ORDER BY id;

-- the functions
SELECT get_troubleshooting_config('auto_escalate_after_failures');
SELECT set_troubleshooting_config('default_timeout_minutes', '45');
SELECT get_troubleshooting_config('default_timeout_minutes');
SELECT set_troubleshooting_config('enable_llm_enhancement', 'yes');   -- normalised
SELECT set_troubleshooting_config('notification_channels', ' Email , slack,email ');
SELECT set_troubleshooting_config('feedback_collection_enabled', 'off');
SELECT config_key, config_value FROM support_troubleshooting_config
WHERE config_key IN ('enable_llm_enhancement', 'notification_channels', 'feedback_collection_enabled')
ORDER BY 1;
SELECT set_troubleshooting_config('notification_channels', '["sms", "discord"]');
SELECT get_troubleshooting_config('notification_channels');
SELECT set_troubleshooting_config('notification_channels', '[]');
SELECT get_troubleshooting_config('notification_channels') = '' AS no_channels;
SELECT set_troubleshooting_config('notification_channels', 'email,slack');
-- NULL restores the default, and history shows effective values
SELECT set_troubleshooting_config('default_timeout_minutes', NULL);
SELECT config_value IS NULL AS stored_null, get_troubleshooting_config('default_timeout_minutes')
FROM support_troubleshooting_config WHERE config_key = 'default_timeout_minutes';
SELECT config_key, old_value, new_value FROM support_troubleshooting_config_history ORDER BY id;
-- who and when are stamped
BEGIN;
SELECT set_troubleshooting_config('enable_llm_enhancement', 'false');
SELECT updated_by = current_user AS by_me, updated_at = now() AS just_now
FROM support_troubleshooting_config WHERE config_key = 'enable_llm_enhancement';
COMMIT;
UPDATE support_troubleshooting_config SET config_value = '7', updated_by = 'ops-bot'
WHERE config_key = 'auto_escalate_after_failures';
SELECT changed_by FROM support_troubleshooting_config_history ORDER BY id DESC LIMIT 1;

-- bad input: every error leaves the table exactly as it was
CREATE TEMP TABLE config_before AS SELECT * FROM support_troubleshooting_config;
CREATE TEMP TABLE history_before AS SELECT * FROM support_troubleshooting_config_history;
SELECT get_troubleshooting_config('no_such_key');
SELECT set_troubleshooting_config('no_such_key', '1');
SELECT set_troubleshooting_config(NULL, '1');
SELECT set_troubleshooting_config('auto_escalate_after_failures', 'abc');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '-1');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '1.5');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '99999999999');
SELECT set_troubleshooting_config('enable_llm_enhancement', 'maybe');
SELECT set_troubleshooting_config('notification_channels', 'email,fax');
SELECT set_troubleshooting_config('notification_channels', 'email,,slack');
SELECT set_troubleshooting_config('notification_channels', '["email", 5]');
SELECT set_troubleshooting_config('notification_channels', '["email"');
UPDATE support_troubleshooting_config SET config_value = 'abc', updated_at = NOW() WHERE config_key = 'auto_escalate_after_failures';
UPDATE support_troubleshooting_config SET config_value = '-3' WHERE config_key = 'default_timeout_minutes';
UPDATE support_troubleshooting_config SET config_value = 'maybe' WHERE config_key = 'feedback_collection_enabled';
UPDATE support_troubleshooting_config SET config_value = 'pager' WHERE config_key = 'notification_channels';
-- one bad row rejects the whole statement
UPDATE support_troubleshooting_config SET config_value = '10'
WHERE config_key IN ('max_session_duration_hours', 'enable_llm_enhancement');
UPDATE support_troubleshooting_config SET config_key = 'renamed' WHERE config_key = 'default_timeout_minutes';
UPDATE support_troubleshooting_config SET default_value = '1' WHERE config_key = 'default_timeout_minutes';
UPDATE support_troubleshooting_config SET value_type = 'text' WHERE config_key = 'default_timeout_minutes';
INSERT INTO support_troubleshooting_config (config_key, config_value, default_value, value_type, description)
VALUES ('my_key', '1', '1', 'integer', 'mine');
INSERT INTO support_troubleshooting_config (config_key, config_value, default_value, value_type, description)
VALUES ('max_session_duration_hours', 'abc', '24', 'integer', 'x');
-- a key users changed cannot be inserted over
INSERT INTO support_troubleshooting_config (config_key, config_value, default_value, value_type, description)
VALUES ('auto_escalate_after_failures', '2', '3', 'integer', 'x');
DELETE FROM support_troubleshooting_config WHERE config_key = 'default_timeout_minutes';
SELECT (SELECT count(*) FROM (TABLE support_troubleshooting_config EXCEPT TABLE config_before) d) AS config_changed,
       (SELECT count(*) FROM (TABLE config_before EXCEPT TABLE support_troubleshooting_config) d) AS config_lost,
       (SELECT count(*) FROM (TABLE support_troubleshooting_config_history EXCEPT TABLE history_before) d) AS history_added;

-- INSERT of a key still at its default sets it (this is what a restore does), without history
INSERT INTO support_troubleshooting_config (config_key, config_value, default_value, value_type, description, updated_by)
VALUES ('max_session_duration_hours', '12', '24', 'integer', 'x', 'restorer');
SELECT config_value, default_value, description, updated_by FROM support_troubleshooting_config
WHERE config_key = 'max_session_duration_hours';
SELECT count(*) AS history_added FROM (TABLE support_troubleshooting_config_history EXCEPT TABLE history_before) d;

-- an ordinary role can read config but not change it
CREATE ROLE ts_config_reader;
SET ROLE ts_config_reader;
SELECT get_troubleshooting_config('auto_escalate_after_failures');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '1');
UPDATE support_troubleshooting_config SET config_value = '1' WHERE config_key = 'auto_escalate_after_failures';
RESET ROLE;
DROP ROLE ts_config_reader;
