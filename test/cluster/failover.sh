#!/usr/bin/env bash
# High availability on a cluster pair of its own: a primary with a streaming
# hot standby (pg_basebackup -R).  The standby runs the HTTP worker and no
# other: the realtime API, the by-period metrics, a stored report and
# /metrics answer there with the documents the SQL functions return on the
# standby, and /metrics says it is a standby.  Then 100 notifications are
# queued on the primary (due a little later), the primary is stopped with
# -m immediate, the standby is promoted, its launcher starts the
# maintenance worker and the dispatcher, and every queued notification
# reaches the loopback capture server exactly once.
. "$(dirname "$0")/tap.sh"

PRI=$TS_WORK/failover-primary
SB=$TS_WORK/failover-standby
pport=$(ts_free_port $((PGPORT + 7)))
sport=$(ts_free_port $((pport + 1)))
php=$(ts_free_port $((pport + 100)))
shp=$(ts_free_port $((php + 1)))
rm -rf "$PRI" "$SB"
start_capture_server "$TS_WORK/failover-capture"
trap 'ts_cluster_stop "$SB"; ts_cluster_stop "$PRI"; kill "${pids[@]}" 2>/dev/null' EXIT
TS_EXTRA_CONF="troubleshooting.maintenance_naptime = 200
troubleshooting.allow_private_destinations = on
troubleshooting.retry_base_delay = '100ms'
troubleshooting.http_port = $php
troubleshooting.http_role = 'ts_http_reader'
troubleshooting.http_cache_ms = 0
hot_standby = on" ts_cluster_init "$PRI" "$pport" "$TS_WORK" preload
ts_cluster_start "$PRI"
ok $? "the primary starts"
# (P here is the primary, S the standby)
P() { q -h "$TS_WORK" -p "$pport" -d postgres "$@"; }
S() { q -h "$TS_WORK" -p "$sport" -d postgres "$@"; }
H=$TS_WORK/failover-http
mkdir -p "$H"

P -c "CREATE EXTENSION troubleshooting" -c "CREATE ROLE ts_http_reader NOLOGIN" >/dev/null
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics(),
        get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz), ts_realtime_kpis(),
        export_troubleshooting_report(bigint, text), troubleshooting_dispatcher_stats() TO ts_http_reader" \
  -c "GRANT SELECT (status) ON support_troubleshooting_sessions TO ts_http_reader" \
  -c "GRANT SELECT (channel, status, created_at) ON support_troubleshooting_notifications TO ts_http_reader" >/dev/null
P -v sessions=300 -v days=3 -f bench/generate_data.sql >/dev/null
ok $? "extension, reader role and sample data on the primary"
rid=$(P -c "SELECT generate_troubleshooting_report('daily') ->> 'id'")
P -c "INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
      VALUES ('fo-live', 'in_progress', now() - interval '3 minutes')" >/dev/null
wait_for "SELECT count(*) FROM ts_metrics_delta" 0 30 P
ok $? "the primary's maintenance worker folds the deltas"
P -c "CHECKPOINT" >/dev/null

ts_as_postgres pg_basebackup -h "$TS_WORK" -p "$pport" -U postgres -D "$SB" -R -X stream >/dev/null 2>&1
ok $? "pg_basebackup -R of the primary"
sed -i "s/^port = .*/port = $sport/; s/^troubleshooting.http_port = .*/troubleshooting.http_port = $shp/" "$SB/postgresql.conf"
rm -f "$SB/server.log"
ts_cluster_start "$SB"
ok $? "the standby starts"
is "$(S -c "SELECT pg_is_in_recovery()")" "t" "it is a hot standby"
wait_for "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'" \
    "troubleshooting http" 30 S
ok $? "on the standby the HTTP worker runs, and no launcher, maintenance worker or dispatcher"
wait_status 10 200 "http://127.0.0.1:$shp/metrics"
grep -q "troubleshooting http worker started in database \"postgres\" (hot standby: read endpoints only)" "$SB/server.log"
ok $? "its start is logged as a standby's"

# the realtime API on the standby: the standby's SQL function's document
RT=/api/support/troubleshooting/realtime
is "$(get "http://127.0.0.1:$shp$RT")" "200" "realtime on the standby: 200"
cmp <(norm_realtime < "$H/body") <(S -c "SELECT get_troubleshooting_realtime_metrics()::text" | tr -d '\n' | norm_realtime) >/dev/null
ok $? "its body equals get_troubleshooting_realtime_metrics() on the standby"
grep -q '"session_id": "fo-live"' "$H/body"
ok $? "with the replicated active session in it"
MT="/api/support/troubleshooting/metrics?period=day"
is "$(get "http://127.0.0.1:$shp$MT")" "200" "by-period metrics on the standby: 200"
python3 - "$H/body" "$(S -c "SET TimeZone = 'UTC'" -c "SELECT json_agg(m ORDER BY period_start)
                              FROM get_troubleshooting_metrics_by_period('day', now() - interval '30 days', now()) m")" <<'PY'
import json, sys
got = json.load(open(sys.argv[1])); want = json.loads(sys.argv[2])
assert got == want, (got[:2], want[:2])
assert sum(r['total_sessions'] for r in got) >= 300, sum(r['total_sessions'] for r in got)
PY
ok $? "its rows equal get_troubleshooting_metrics_by_period() on the standby (every sample session counted)"
is "$(get "http://127.0.0.1:$shp/api/support/troubleshooting/reports/$rid.json")" "200" "the stored report on the standby: 200"
is "$(sha256sum < "$H/body" | cut -c1-64)" "$(S -c "SELECT encode(sha256(export_troubleshooting_report($rid, 'json')), 'hex')")" \
   "its bytes are export_troubleshooting_report() on the standby"
is "$(get "http://127.0.0.1:$shp/metrics")" "200" "/metrics on the standby: 200"
grep -qx "troubleshooting_standby 1" "$H/body"
ok $? "/metrics on the standby says troubleshooting_standby 1"
grep -q '^troubleshooting_sessions' "$H/body"
ok $? "and carries the session families"
get "http://127.0.0.1:$php/metrics" >/dev/null
grep -qx "troubleshooting_standby 0" "$H/body"
ok $? "/metrics on the primary says troubleshooting_standby 0"

# 100 notifications queued on the primary, due in 15 s; the standby replays them
P -c "SELECT count(send_troubleshooting_notification('webhook', '$URL/fo/' || g, NULL, jsonb_build_object('type', 'x', 'n', g),
                    p_send_after => now() + interval '15 seconds'))
      FROM generate_series(1, 100) g" >/dev/null
ok $? "100 notifications queued on the primary"
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'pending'" 100 30 S
ok $? "the standby has replayed them"
ts_as_postgres pg_ctl -D "$PRI" -m immediate -w stop >/dev/null 2>&1
ok $? "the primary is stopped with -m immediate"
is "$(cat "$CAP/requests.jsonl" 2>/dev/null | wc -l)" "0" "nothing was sent before the primary went away"
ts_as_postgres pg_ctl -D "$SB" -w promote >/dev/null 2>&1
ok $? "the standby is promoted"
is "$(S -c "SELECT pg_is_in_recovery()")" "f" "it is a primary now"
wait_for "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'" \
    "troubleshooting dispatcher,troubleshooting http,troubleshooting launcher,troubleshooting maintenance" 30 S
ok $? "after promotion the launcher, maintenance worker and dispatcher start beside the HTTP worker"
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent'" 100 60 S
is "$(S -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent'")" "100" \
   "the new primary sends all 100"
python3 - "$CAP/requests.jsonl" <<'PY'
import json, sys, collections
paths = collections.Counter(json.loads(l)['path'] for l in open(sys.argv[1]))
assert len(paths) == 100 and set(paths.values()) == {1}, paths.most_common(3)
assert set(paths) == {'/fo/%d' % i for i in range(1, 101)}
PY
ok $? "the capture server received each of the 100 exactly once"
get "http://127.0.0.1:$shp/metrics" >/dev/null
grep -qx "troubleshooting_standby 0" "$H/body"
ok $? "/metrics on the promoted server says troubleshooting_standby 0"

ts_cluster_stop "$SB"
ok $? "the promoted server stops"
ts_scan_logs <(printf '%s\n' "$PRI/server.log" "$SB/server.log") /dev/null /nonexistent
ok $? "no crash in either log"
grep -hE "ERROR|FATAL" "$SB/server.log" | grep -v "terminating background worker\|terminating walreceiver\|could not connect to the primary\|could not receive data from WAL stream" | head -5 | sed 's/^/# /'
! grep -hE "ERROR|FATAL" "$SB/server.log" | grep -qv "terminating background worker\|terminating walreceiver\|could not connect to the primary\|could not receive data from WAL stream"
ok $? "no other error in the standby's log"
done_testing
