#!/usr/bin/env bash
# start.sh: build, install and start troubleshooting in a local PostgreSQL
# cluster kept in .data/ (git-ignored), load 61 days of sample history once,
# start the traffic simulator (bench/traffic.sh) that keeps the last hour
# alive, and show it working: realtime metrics, the HTTP endpoint, a report
# of the last 30 days with its trends against the month before.
# Safe to run again: it reuses the cluster and the data.
#   bash start.sh                 start (or restart) everything
#   bash start.sh stop            stop the traffic simulator, then the cluster
#   bash start.sh stop-traffic    stop the traffic simulator only
#   TS_PORT (default 5433), TS_DB (default troubleshooting), TS_SESSIONS (default 10000),
#   TS_HTTP_PORT (default 3000: the HTTP endpoint on 127.0.0.1 and ::1),
#   TS_TRAFFIC=0 (no simulator), TS_TRAFFIC_INTERVAL (seconds between its ticks, default 2.5)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
. test/lib.sh

PORT=${TS_PORT:-5433}
DB=${TS_DB:-troubleshooting}
SESSIONS=${TS_SESSIONS:-10000}
# 61 days of history: the report of the last 30 days compares them with the
# 30 or 31 days before (the calendar month before, when the span is one),
# which start 60 days back; the generator's oldest day is only partly filled
DAYS=61
# the simulator's pid file and log live next to the cluster
export TS_TRAFFIC_DIR=$ROOT/.data

# The cluster lives in .data/pgdata; where the postgres user cannot reach the
# checkout (a clone under /root), it lives in postgres's home, linked from .data.
DATA=$ROOT/.data/pgdata
[ -L "$DATA" ] && DATA=$(readlink "$DATA")

case "${1:-}" in
    stop|stop-traffic)
        bash bench/traffic.sh stop
        if [ "$1" = stop ]; then
            if [ -f "$DATA/postmaster.pid" ]; then
                runuser -u postgres -- "/usr/lib/postgresql/$TS_PG_MAJOR/bin/pg_ctl" -D "$DATA" -m fast -w stop
            else
                echo "PostgreSQL is not running in $DATA"
            fi
        fi
        exit 0 ;;
    "") ;;
    *) echo "usage: bash start.sh [stop|stop-traffic]" >&2; exit 2 ;;
esac

ts_install_deps
ts_build_install

mkdir -p .data
# (a simulator left by an earlier run stops here: the new one runs this checkout's code)
bash bench/traffic.sh stop >/dev/null
if ! runuser -u postgres -- test -x "$ROOT/.data"; then
    real=/var/lib/postgresql/troubleshooting-$(echo "$ROOT" | md5sum | cut -c1-8)
    mkdir -p "$real" && chown postgres: "$real"
    [ -L "$ROOT/.data/pgdata" ] || ln -s "$real" "$ROOT/.data/pgdata"
    DATA=$real
fi
SOCK=/tmp
if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "== creating the cluster in $DATA (port $PORT)"
    TS_ALL_DATABASES=1 ts_cluster_init "$DATA" "$PORT" "$SOCK" preload   # the list is set below
fi
if ! ts_as_postgres pg_ctl -D "$DATA" status >/dev/null 2>&1; then
    echo "== starting PostgreSQL"
    ts_cluster_start "$DATA" || { tail -20 "$DATA/server.log"; exit 1; }
else
    echo "== PostgreSQL already running; restarting to load the freshly built library"
    ts_as_postgres pg_ctl -D "$DATA" -l "$DATA/server.log" -w restart >/dev/null
fi
PORT=$(sed -n "s/^port = //p" "$DATA/postgresql.conf" | tail -1)

export PGHOST=$SOCK PGPORT=$PORT PGUSER=postgres
P() { psql -X -v ON_ERROR_STOP=1 "$@"; }
P -qAt -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
    P -q -d postgres -c "CREATE DATABASE \"$DB\""
P -q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS troubleshooting" \
    -c "ALTER EXTENSION troubleshooting UPDATE"

# the HTTP endpoint runs its queries as a read-only role that may call the
# metrics functions and count sessions and notifications by status
P -q -d "$DB" <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'troubleshooting_reader') THEN
        CREATE ROLE troubleshooting_reader NOLOGIN;
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics(),
      get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz),
      ts_realtime_kpis(), troubleshooting_dispatcher_stats() TO troubleshooting_reader;
GRANT EXECUTE ON FUNCTION export_troubleshooting_report(bigint, text) TO troubleshooting_reader;
GRANT SELECT (status) ON support_troubleshooting_sessions TO troubleshooting_reader;
GRANT SELECT (channel, status, created_at) ON support_troubleshooting_notifications TO troubleshooting_reader;
SQL

# the background workers serve the demo database (set once it exists), and the
# HTTP endpoint listens on 127.0.0.1 and ::1, port TS_HTTP_PORT (3000)
CONF=$DATA/postgresql.conf
HTTP_PORT=${TS_HTTP_PORT:-$(sed -n "s/^troubleshooting.http_port = //p" "$CONF" | tail -1)}
HTTP_PORT=${HTTP_PORT:-3000}
restart_needed=
if ! grep -q "^troubleshooting.database" "$CONF"; then
    echo "troubleshooting.database = '$DB'" >> "$CONF"
    restart_needed=1
fi
if ! grep -qx "troubleshooting.http_port = $HTTP_PORT" "$CONF"; then
    sed -i '/^troubleshooting.http_port/d' "$CONF"
    echo "troubleshooting.http_port = $HTTP_PORT" >> "$CONF"
    restart_needed=1
fi
if ! grep -q "^troubleshooting.http_role" "$CONF"; then
    echo "troubleshooting.http_role = 'troubleshooting_reader'" >> "$CONF"
    restart_needed=1
fi
if [ -n "$restart_needed" ]; then
    ts_as_postgres pg_ctl -D "$DATA" -l "$DATA/server.log" -w restart >/dev/null
fi

if [ "$(P -qAt -d "$DB" -c "SELECT count(*) FROM support_troubleshooting_sessions")" = 0 ]; then
    echo "== loading sample history: $SESSIONS sessions over the last $DAYS days"
    P -q -d "$DB" -v sessions="$SESSIONS" -v days=$DAYS -f bench/generate_data.sql >/dev/null
fi

# the traffic simulator: a tick every few seconds in the background, after a
# burst that fills the last hour when it is empty (the history ends in the past)
if [ "${TS_TRAFFIC:-1}" != 0 ]; then
    echo "== starting the traffic simulator (bench/traffic.sh)"
    PGDATABASE=$DB bash bench/traffic.sh start
fi

echo
P -d "$DB" <<'SQL'
\pset footer off
\echo 'Realtime metrics (vw_troubleshooting_realtime_metrics, computed in C)'
SELECT * FROM vw_troubleshooting_realtime_metrics;
\echo 'Last 7 days (get_troubleshooting_metrics_by_period)'
SELECT period_start::date AS day, total_sessions, resolved_sessions, escalated_sessions,
       resolution_rate, avg_resolution_time_minutes AS avg_minutes, unique_problems,
       avg_rating, nps
FROM get_troubleshooting_metrics_by_period('day', now() - interval '6 days', now());
\echo 'Sessions by status, last 30 days'
SELECT status, count(*) AS sessions,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
FROM support_troubleshooting_sessions
WHERE started_at >= now() - interval '30 days'
GROUP BY status ORDER BY sessions DESC;
\echo 'Top problems, last 7 days'
SELECT detected_problem_title AS problem, count(*) AS sessions,
       round(100.0 * count(*) FILTER (WHERE status = 'resolved') / count(*), 1) AS resolved_pct,
       round(avg(f.rating), 2) AS avg_rating
FROM support_troubleshooting_sessions s
LEFT JOIN support_troubleshooting_feedback f USING (session_id)
WHERE s.started_at >= now() - interval '7 days'
GROUP BY 1 ORDER BY 2 DESC LIMIT 5;
\echo 'Configuration (get_troubleshooting_config reads it, cached and validated in C)'
SELECT config_key, get_troubleshooting_config(config_key) AS value, value_type
FROM support_troubleshooting_config ORDER BY config_key;
SQL
# the HTTP endpoint answers once its worker has started
URL="http://127.0.0.1:$HTTP_PORT/api/support/troubleshooting/realtime"
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT
code=000
for i in $(seq 1 50); do
    code=$(curl -s --noproxy '*' --max-time 5 -o "$BODY" -w '%{http_code}' "$URL" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    sleep 0.2
done
echo
if [ "$code" = 200 ]; then
    echo "HTTP endpoint: curl $URL -> 200, $(wc -c < "$BODY") bytes of JSON:"
    echo "    $(head -c 150 "$BODY") ..."
else
    echo "HTTP endpoint: curl $URL answered $code, not 200; see $DATA/server.log" >&2
    grep -E "troubleshooting.*(http|HTTP)" "$DATA/server.log" | tail -5 >&2
    exit 1
fi

# a report of the last 30 days (today included), as the PDF a manager opens
# and as CSV, computed afresh (the simulator keeps adding sessions); its
# trends compare them with the month before
REPORT_ID=$(P -qAt -d "$DB" -c "SELECT generate_troubleshooting_report('custom', date_trunc('day', now()) - interval '29 days', date_trunc('day', now()) + interval '1 day', p_include_charts => true, p_force => true)->>'id'")
mkdir -p reports
P -qAt -d "$DB" -c "SELECT encode(export_troubleshooting_report($REPORT_ID, 'pdf'), 'base64')" | base64 -d > reports/troubleshooting-report.pdf
P -qAt -d "$DB" -c "SELECT encode(export_troubleshooting_report($REPORT_ID, 'csv'), 'base64')" | base64 -d > reports/troubleshooting-report.csv
echo
echo "Report $REPORT_ID (generate_troubleshooting_report, last 30 days), exported by export_troubleshooting_report:"
echo "    $PWD/reports/troubleshooting-report.pdf ($(wc -c < reports/troubleshooting-report.pdf) bytes, $(pdfinfo reports/troubleshooting-report.pdf 2>/dev/null | awk '/^Pages:/ {print $2}') pages)"
echo "    $PWD/reports/troubleshooting-report.csv"
P -d "$DB" -c "SELECT r->'summary'->>'total_sessions' AS sessions, r->'summary'->>'resolution_rate' AS resolution_rate,
                      r->'summary'->>'median_resolution_time_minutes' AS median_minutes, r->'satisfaction'->>'csat' AS csat,
                      r->'satisfaction'->'nps'->>'score' AS nps, jsonb_array_length(r->'recommendations') AS recommendations
               FROM (SELECT data AS r FROM support_troubleshooting_reports WHERE id = $REPORT_ID) x"
P -d "$DB" -v id="$REPORT_ID" <<'SQL'
\pset footer off
SELECT 'Trends against ' || to_char((data->'trends'->'previous_period'->>'start')::timestamptz, 'YYYY-MM-DD') || ' to ' ||
       to_char((data->'trends'->'previous_period'->>'end')::timestamptz - interval '1 second', 'YYYY-MM-DD') ||
       ' (the report''s "trends")' AS title
FROM support_troubleshooting_reports WHERE id = :id \gset
\echo :title
SELECT m->>'metric' AS kpi, m->>'previous' AS previous, m->>'current' AS current,
       CASE m->>'direction' WHEN 'up' THEN '▲' WHEN 'down' THEN '▼' ELSE '▬' END || ' ' ||
       coalesce(to_char((m->>'change_percent')::numeric, 'FMSG999990.0') || '%', m->>'change', '—') AS change,
       CASE (m->>'better')::boolean WHEN true THEN 'better' WHEN false THEN 'worse' ELSE '' END AS verdict
FROM support_troubleshooting_reports r, jsonb_array_elements(r.data->'trends'->'metrics') m
WHERE r.id = :id AND m->>'metric' IN ('total_sessions', 'resolution_rate', 'escalation_rate', 'avg_rating', 'nps');
SQL

cat <<EOF2

troubleshooting is running: PostgreSQL $(P -qAt -d "$DB" -c "SHOW server_version") on port $PORT, database "$DB".
Connect with:
    psql -h 127.0.0.1 -p $PORT -U postgres $DB
HTTP (127.0.0.1 and ::1, port $HTTP_PORT):
    curl http://127.0.0.1:$HTTP_PORT/api/support/troubleshooting/realtime
    curl 'http://127.0.0.1:$HTTP_PORT/api/support/troubleshooting/metrics?period=day'
    curl http://127.0.0.1:$HTTP_PORT/metrics
    curl -OJ http://127.0.0.1:$HTTP_PORT/api/support/troubleshooting/reports/$REPORT_ID.pdf
Dashboard: http://127.0.0.1:$HTTP_PORT/ (refreshes every 5 s)
EOF2
if [ "${TS_TRAFFIC:-1}" != 0 ]; then
    cat <<EOF2
The traffic simulator opens, works and closes sessions every ${TS_TRAFFIC_INTERVAL:-2.5} s (log: .data/traffic.log).
Watch it:
    psql -h 127.0.0.1 -p $PORT -U postgres $DB -c 'LISTEN troubleshooting_events' -c 'SELECT pg_sleep(10)'
EOF2
fi
cat <<EOF2
Stop the simulator only:       bash start.sh stop-traffic
Stop the simulator and server: bash start.sh stop
EOF2
