#!/usr/bin/env bash
# start.sh: build, install and start troubleshooting in a local PostgreSQL
# cluster kept in .data/ (git-ignored), load sample data once, and show it working.
# Safe to run again: it reuses the cluster and the data.
#   TS_PORT (default 5433), TS_DB (default troubleshooting), TS_SESSIONS (default 5000)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
. test/lib.sh

PORT=${TS_PORT:-5433}
DB=${TS_DB:-troubleshooting}
SESSIONS=${TS_SESSIONS:-5000}

ts_install_deps
ts_build_install

# The cluster lives in .data/pgdata; where the postgres user cannot reach the
# checkout (a clone under /root), it lives in postgres's home, linked from .data.
mkdir -p .data
DATA=$ROOT/.data/pgdata
if ! runuser -u postgres -- test -x "$ROOT/.data"; then
    real=/var/lib/postgresql/troubleshooting-$(echo "$ROOT" | md5sum | cut -c1-8)
    mkdir -p "$real" && chown postgres: "$real"
    [ -L "$DATA" ] || ln -s "$real" "$DATA"
    DATA=$real
fi
SOCK=/tmp
if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "== creating the cluster in $DATA (port $PORT)"
    ts_cluster_init "$DATA" "$PORT" "$SOCK" preload
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

# the background workers serve the demo database (set once it exists)
if ! grep -q "^troubleshooting.database" "$DATA/postgresql.conf"; then
    echo "troubleshooting.database = '$DB'" >> "$DATA/postgresql.conf"
    ts_as_postgres pg_ctl -D "$DATA" -l "$DATA/server.log" -w restart >/dev/null
fi

if [ "$(P -qAt -d "$DB" -c "SELECT count(*) FROM support_troubleshooting_sessions")" = 0 ]; then
    echo "== loading sample data: $SESSIONS sessions over 30 days"
    P -q -d "$DB" -v sessions="$SESSIONS" -v days=30 -f bench/generate_data.sql >/dev/null
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
cat <<EOF2

troubleshooting is running: PostgreSQL $(P -qAt -d "$DB" -c "SHOW server_version") on port $PORT, database "$DB".
Connect with:
    psql -h 127.0.0.1 -p $PORT -U postgres $DB
Stop it with:
    runuser -u postgres -- $TS_BINDIR/pg_ctl -D $DATA stop
EOF2
