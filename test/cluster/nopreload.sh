#!/usr/bin/env bash
# The library also works when it is not in shared_preload_libraries: the SQL
# functions and triggers work, and no background worker is started.
. "$(dirname "$0")/tap.sh"

data=$TS_WORK/nopreload
port=$((PGPORT + 1))
rm -rf "$data"
ts_cluster_init "$data" "$port" "$TS_WORK" nopreload
ok $? "initdb without shared_preload_libraries"
ts_cluster_start "$data"
ok $? "server starts"

Q() { q -h "$TS_WORK" -p "$port" "$@"; }
is "$(Q -c "SHOW shared_preload_libraries")" "" "library not preloaded"
Q -c "CREATE EXTENSION troubleshooting" >/dev/null
ok $? "CREATE EXTENSION without preload"
out=$(Q <<'SQL'
SELECT set_troubleshooting_config('notification_channels', '["slack","email"]');
SELECT get_troubleshooting_config('notification_channels');
INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('np', 'escalated');
SELECT escalated_at IS NOT NULL FROM support_troubleshooting_sessions;
SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%';
SQL
)
is "$(echo $out)" "slack,email t 0" "config and lifecycle trigger work; no worker running"

# the library loads into a backend that had not loaded it yet, via the config trigger
is "$(Q -c "UPDATE support_troubleshooting_config SET config_value = 'abc' WHERE config_key = 'default_timeout_minutes'" 2>&1 | head -1)" \
   'ERROR:  invalid value for configuration key "default_timeout_minutes"' "validation runs in a fresh backend"

ts_cluster_stop "$data"
ok $? "server stops"
ts_scan_logs <(echo "$data/server.log") /dev/null /nonexistent
ok $? "no crash in the server log"
done_testing
