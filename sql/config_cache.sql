-- The per-backend config cache never serves a value older than the last commit.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

-- a second backend, on the same server
SELECT dblink_connect('other', format('dbname=%s port=%s host=%s', current_database(),
       current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)));

-- fill this backend's cache, then change the value from the other backend
SELECT get_troubleshooting_config('default_timeout_minutes');
SELECT v AS remote_set FROM dblink('other', $$SELECT set_troubleshooting_config('default_timeout_minutes', '15')$$) AS t(v text);
SELECT get_troubleshooting_config('default_timeout_minutes');
SELECT dblink_exec('other', $$UPDATE support_troubleshooting_config SET config_value = '20' WHERE config_key = 'default_timeout_minutes'$$);
SELECT get_troubleshooting_config('default_timeout_minutes');

-- an uncommitted change elsewhere is not seen; its commit is
SELECT dblink_exec('other', 'BEGIN');
SELECT v AS remote_set FROM dblink('other', $$SELECT set_troubleshooting_config('default_timeout_minutes', '25')$$) AS t(v text);
SELECT get_troubleshooting_config('default_timeout_minutes');
SELECT dblink_exec('other', 'COMMIT');
SELECT get_troubleshooting_config('default_timeout_minutes');

-- the other backend's cache sees this backend's commits
SELECT * FROM dblink('other', $$SELECT get_troubleshooting_config('enable_llm_enhancement')$$) AS t(v text);
SELECT set_troubleshooting_config('enable_llm_enhancement', 'true');
SELECT * FROM dblink('other', $$SELECT get_troubleshooting_config('enable_llm_enhancement')$$) AS t(v text);

-- within a transaction: own change visible at once, gone after rollback
BEGIN;
SELECT set_troubleshooting_config('default_timeout_minutes', '99');
SELECT get_troubleshooting_config('default_timeout_minutes');
ROLLBACK;
SELECT get_troubleshooting_config('default_timeout_minutes');

-- a read in the writing statement sees that statement's snapshot (STABLE);
-- the next statement of the same transaction sees the change
BEGIN;
SELECT set_troubleshooting_config('default_timeout_minutes', v), get_troubleshooting_config('default_timeout_minutes')
FROM (VALUES ('1'), ('2')) AS t(v);
SELECT get_troubleshooting_config('default_timeout_minutes');
COMMIT;
SELECT get_troubleshooting_config('default_timeout_minutes');

-- drop and recreate the extension: the cache follows the new table
SELECT v AS remote_set FROM dblink('other', $$SELECT set_troubleshooting_config('default_timeout_minutes', '5')$$) AS t(v text);
SELECT * FROM dblink('other', $$SELECT get_troubleshooting_config('default_timeout_minutes')$$) AS t(v text);
DROP EXTENSION troubleshooting;
CREATE EXTENSION troubleshooting;
SELECT * FROM dblink('other', $$SELECT get_troubleshooting_config('default_timeout_minutes')$$) AS t(v text);
SELECT get_troubleshooting_config('default_timeout_minutes');

SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
