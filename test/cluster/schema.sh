#!/usr/bin/env bash
# Installing into a schema other than public, named or taken from search_path:
# the C code finds its tables through pg_extension, not through search_path.
. "$(dirname "$0")/tap.sh"

fresh_db ts_schema
q -d ts_schema -c "CREATE SCHEMA support; CREATE SCHEMA app; CREATE EXTENSION troubleshooting SCHEMA support"
ok $? "CREATE EXTENSION ... SCHEMA support"
is "$(q -d ts_schema -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'troubleshooting'")" \
   "support" "extension recorded in schema support"
is "$(q -d ts_schema -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" "0" \
   "nothing created in public"
is "$(q -d ts_schema -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'support' AND tablename LIKE 'support%'")" "16" "sixteen support tables in support"

# with search_path not naming the schema, everything still works
out=$(q -d ts_schema <<'SQL'
SET search_path = app;
SELECT support.set_troubleshooting_config('auto_escalate_after_failures', '4');
SELECT support.get_troubleshooting_config('auto_escalate_after_failures');
SELECT count(*) FROM support.support_troubleshooting_config_history;
INSERT INTO support.support_troubleshooting_sessions (session_id) VALUES ('s1');
UPDATE support.support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 's1';
SELECT resolved_at IS NOT NULL AND ended_at IS NOT NULL FROM support.support_troubleshooting_sessions;
SELECT active_sessions FROM support.vw_troubleshooting_realtime_metrics;
SELECT sum(total_sessions) FROM support.get_troubleshooting_metrics_by_period('day', now() - interval '1 day', now());
SELECT support.get_troubleshooting_realtime_metrics() -> 'metrics' ->> 'active_sessions';
UPDATE support.support_troubleshooting_templates SET body = 'x' WHERE name = 'report_ready' AND channel IS NULL;
SELECT is_default FROM support.support_troubleshooting_templates WHERE name = 'report_ready';
SQL
)
ok $? "functions, triggers and views work with search_path = app"
is "$(echo $out)" "4 1 t 0 1 0 f" "config, history, lifecycle trigger, metrics, view, template trigger"

# a search_path that puts a same-named table first does not fool the C code
q -d ts_schema -c "CREATE TABLE app.support_troubleshooting_config (config_key text, config_value text, default_value text, value_type text)
                   ; INSERT INTO app.support_troubleshooting_config VALUES ('auto_escalate_after_failures', '99', '99', 'integer')" >/dev/null
is "$(q -d ts_schema -c "SET search_path = app, support; SELECT get_troubleshooting_config('auto_escalate_after_failures')")" "4" \
   "lookup ignores a look-alike table earlier on search_path"
is "$(q -d ts_schema -c "SET search_path = app, support; SELECT set_troubleshooting_config('default_timeout_minutes', '12'); SELECT config_value FROM support.support_troubleshooting_config WHERE config_key = 'default_timeout_minutes'" | tail -1)" "12" \
   "set writes the extension's table, not the look-alike"

# without SCHEMA, the first schema on search_path is used
q -d ts_schema -c "DROP TABLE app.support_troubleshooting_config; DROP EXTENSION troubleshooting; SET search_path = app, public; CREATE EXTENSION troubleshooting" >/dev/null
is "$(q -d ts_schema -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'troubleshooting'")" "app" \
   "default schema is the first on search_path"
q -d ts_schema -c "DROP EXTENSION troubleshooting" >/dev/null
ok $? "drop from app"

# not relocatable
q -d ts_schema -c "CREATE EXTENSION troubleshooting SCHEMA support" >/dev/null
q -d ts_schema -c "ALTER EXTENSION troubleshooting SET SCHEMA public" >/dev/null 2>&1
ok $((! $?)) "ALTER EXTENSION ... SET SCHEMA is refused"

q -c "DROP DATABASE ts_schema"
done_testing
