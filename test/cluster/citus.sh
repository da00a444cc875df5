#!/usr/bin/env bash
# The extension on Citus: a coordinator and two workers on loopback (their
# own initdb folders, citus and troubleshooting preloaded), the tables
# distributed by distribute_troubleshooting_tables(), data inserted through
# the coordinator and through a worker, and on the coordinator the same
# answers as a single server holding the same rows (the main cluster's
# database citus_ref): metrics by period in several time zones, realtime,
# every report type; a notification sent exactly once, config changes seen
# on every node, retention, live events relayed, TRUNCATE, dump and restore,
# and DROP EXTENSION on every node.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/../citus_cluster.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

CDIR=$TS_WORK/citus
fresh_dir "$CDIR" && chown postgres: "$CDIR"
trap 'ts_citus_down "$CDIR"' EXIT

# Citus itself: test/run installs it before copying PostgreSQL
if [ ! -f "$("$TS_PG_CONFIG" --pkglibdir)/citus.so" ]; then
    ok 1 "citus is installed in $("$TS_PG_CONFIG" --pkglibdir) (test/run builds it with ts_citus_install)"
    done_testing
    exit 1
fi

# without Citus: a clear error, nothing changed
fresh_db citus_ref
# (no worker serves citus_ref: its reads warn of unfolded changes, which the
# comparisons below leave out)
R() { PGOPTIONS="-c client_min_messages=error" q -d citus_ref "$@"; }
R -c "CREATE EXTENSION troubleshooting" >/dev/null
err=$(R -c "SELECT distribute_troubleshooting_tables()" 2>&1 >/dev/null | head -1)
is "$err" "ERROR:  citus is not installed in this database" "without Citus the function says Citus is not there"
is "$(R -c "SELECT pg_catalog.current_setting('server_version_num')::int >= 150000")" "t" "the single server is untouched"

PORT0=$(ts_free_port $((PGPORT + 200)))
ts_citus_up "$CDIR" "$PORT0" 3
ok $? "three nodes on loopback ports $PORT0-$((PORT0 + 2)), the extension created through the coordinator"
is "$(CN 1 -c "SELECT extversion FROM pg_extension WHERE extname = 'troubleshooting'")" "4.0.0" \
   "Citus created the extension on worker 1 too"

# --- distribution ---
out=$(CN 0 -c "SELECT placement, count(*) FROM distribute_troubleshooting_tables() GROUP BY 1 ORDER BY 1" 2>&1)
is "$out" "coordinator|3
distributed|9
reference|13" "distribute_troubleshooting_tables(): 9 distributed, 13 reference, 3 on the coordinator"
is "$(CN 0 -c "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h'")" "1" \
   "the distributed tables share one co-location group"
is "$(CN 0 -c "SELECT count(*) FROM pg_dist_partition WHERE partmethod = 'h' AND column_to_column_name(logicalrelid, partkey) <> 'session_id'")" "0" \
   "every distributed table is distributed by session_id"
is "$(CN 1 -c "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname LIKE 'support_troubleshooting_sessions_%' AND NOT t.tgisinternal AND t.tgenabled = 'O' AND t.tgname LIKE 'ts_metrics_delta_%'")" \
   "$(CN 1 -c "SELECT count(*) FROM pg_class WHERE relname ~ '^support_troubleshooting_sessions_[0-9]+$'")" \
   "every sessions shard on worker 1 has its metrics trigger, enabled"
out=$(CN 0 -c "SELECT count(*) FROM distribute_troubleshooting_tables()" 2>&1)
is "$out" "25" "a second call changes nothing and lists the same tables"

# --- the workers: busy on the coordinator, idle on the worker nodes ---
wait_until 30 grep -q "troubleshooting maintenance worker idles" "$CDIR/n1/server.log"
ok $? "the maintenance worker idles on worker 1"
wait_until 30 grep -q "troubleshooting dispatcher idles" "$CDIR/n2/server.log"
ok $? "the dispatcher idles on worker 2"
! grep -q "idles" "$CDIR/n0/server.log"
ok $? "nothing idles on the coordinator"

# --- keys ---
CN 0 -c "INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('key-1')" >/dev/null
err=$(CN 0 -c "UPDATE support_troubleshooting_sessions SET session_id = 'key-2' WHERE session_id = 'key-1'" 2>&1 | head -1)
[[ $err == ERROR:* ]]
ok $? "a session id cannot change on Citus ($err)"
CN 1 -c "INSERT INTO support_troubleshooting_sessions (session_id) SELECT 'key-w' || g FROM generate_series(1, 50) g" >/dev/null
CN 2 -c "INSERT INTO support_troubleshooting_sessions (session_id) SELECT 'key-v' || g FROM generate_series(1, 50) g" >/dev/null
is "$(CN 0 -c "SELECT count(*) = count(DISTINCT id) FROM support_troubleshooting_sessions")" "t" \
   "session ids stay unique whichever node inserts (one id range per node)"
CN 0 -c "DELETE FROM support_troubleshooting_sessions WHERE session_id LIKE 'key-%'" >/dev/null

# --- live events: raised on worker nodes, relayed by the coordinator ---
out=$TS_WORK/citus-live.out
mkfifo "$TS_WORK/citus-live.in"
( PGAPPNAME=citus-listener psql -X -q -At -U postgres -h 127.0.0.1 -p "$PORT0" -d postgres \
      -f "$TS_WORK/citus-live.in" > "$out" 2>&1 ) &
exec {feed}>"$TS_WORK/citus-live.in"
echo "LISTEN troubleshooting_events;" >&"$feed"
wait_for "SELECT state FROM pg_stat_activity WHERE application_name = 'citus-listener' AND query LIKE 'LISTEN%'" "idle" 60 CN 0
CN 1 -c "INSERT INTO support_troubleshooting_sessions (session_id, detected_problem_id) VALUES ('live-c1', 'wifi')" >/dev/null
CN 0 -c "UPDATE support_troubleshooting_sessions SET status = 'escalated' WHERE session_id = 'live-c1'" >/dev/null
for _ in $(seq 1 300); do
    echo "SELECT 1;" >&"$feed"
    grep -q '"session.escalated"' "$out" && break
    sleep 0.1
done
exec {feed}>&-
is "$(grep -c '"session_id" : "live-c1"' "$out")" "3" \
   "the coordinator's listener got the 3 events raised on a worker node (started, escalated status, escalation)"
is "$(CN 0 -c "SELECT count(*) FROM ts_live_event_queue")" "0" "the relay emptied the queue"
CN 0 -c "DELETE FROM support_troubleshooting_sessions WHERE session_id = 'live-c1'" >/dev/null

# --- config: one write on the coordinator, seen everywhere ---
CN 0 -c "SELECT set_troubleshooting_config('report_top_problems', '7')" >/dev/null
ok $? "set_troubleshooting_config on the coordinator"
for i in 0 1 2; do
    is "$(CN "$i" -c "SELECT get_troubleshooting_config('report_top_problems')")" "7" "node $i reads the new value"
done
is "$(CN 0 -c "SELECT count(*) FROM support_troubleshooting_config_history WHERE config_key = 'report_top_problems'")" "1" \
   "one history row"
CN 0 -c "SELECT set_troubleshooting_config('report_top_problems', NULL)" >/dev/null

# --- the same rows on Citus and on a single server ---
DATA=$ROOT/test/cluster/citus_data.sql
[ -f "$DATA" ]
ok $? "the data generator is there ($DATA)"
# one "recent" moment for every load, so both sides hold the same rows
RECENT=$(CN 0 -c "SELECT date_trunc('second', now())")
CN 0 -v prefix=c -v n=1500 -v recent="'$RECENT'" -f "$DATA" >/dev/null &&
    CN 1 -v prefix=w -v n=500 -v recent="'$RECENT'" -f "$DATA" >/dev/null
ok $? "generated data inserted through the coordinator and through worker 1"
R -v prefix=c -v n=1500 -v recent="'$RECENT'" -f "$DATA" >/dev/null
R -v prefix=w -v n=500 -v recent="'$RECENT'" -f "$DATA" >/dev/null
is "$(CN 0 -c "SELECT count(*) FROM support_troubleshooting_sessions")" \
   "$(R -c "SELECT count(*) FROM support_troubleshooting_sessions")" "the same number of sessions on both"

. "$ROOT/test/citus_reader_checks.sh"
citus_reader_checks

. "$ROOT/test/citus_write_checks.sh"
citus_write_checks

# --- TRUNCATE rebuilds the rollups from what is left ---
CN 0 -c "TRUNCATE support_troubleshooting_feedback" >/dev/null
ok $? "TRUNCATE of a distributed table"
is "$(CN 0 -c "SELECT coalesce(sum(feedback), 0) FROM ts_metrics_hourly")" "0" "the rollups hold no feedback after it"
is "$(CN 0 -c "SELECT coalesce(sum(sessions), 0) FROM ts_metrics_hourly")" \
   "$(CN 0 -c "SELECT count(*) FROM support_troubleshooting_sessions")" "the rollups still count every session"

# --- dump and restore ---
# Citus keeps the rows in the shards: a coordinator's dump holds the schema
# and the extension, not the distributed rows (Citus's documented limit).
# The dump must load into a fresh single server without errors.
ts_as_postgres pg_dump -h 127.0.0.1 -p "$PORT0" -d postgres -Fc -f "$TS_WORK/citus.dump"
ok $? "pg_dump of the coordinator"
fresh_db citus_restored
ts_as_postgres pg_restore -d citus_restored --exclude-schema=citus --no-owner "$TS_WORK/citus.dump" \
    > "$TS_WORK/citus-restore.log" 2>&1
is "$(q -d citus_restored -c "SELECT extname FROM pg_extension WHERE extname = 'troubleshooting'")" "troubleshooting" \
   "the coordinator's dump restores the extension on a single server"

# --- DROP EXTENSION, on every node ---
CN 0 -c "DROP EXTENSION troubleshooting" >/dev/null
ok $? "DROP EXTENSION on the coordinator"
for i in 0 1 2; do
    is "$(CN "$i" -c "SELECT count(*) FROM pg_extension WHERE extname = 'troubleshooting'")|$(CN "$i" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'support_troubleshooting%' OR relname LIKE 'ts\_%'")" \
       "0|0" "node $i: no extension, no table or shard left"
done
CN 0 -c "CREATE EXTENSION troubleshooting" >/dev/null && CN 0 -c "SELECT count(*) FROM distribute_troubleshooting_tables()" >/dev/null 2>&1
ok $? "the extension can be created and distributed again"

done_testing
