#!/usr/bin/env bash
# bench/dispatch_bench.sh: the notification dispatcher against a local nginx
# (return 200, keep-alive), on loopback only.
#
#   bash bench/dispatch_bench.sh      # 100,000 queued, then 500 enqueues/s for 20 s,
#                                     # then 100,000 due at once in one and in three databases
#   TS_DISPATCH_PHASES=databases bash bench/dispatch_bench.sh   # only the last phase
#
# 1. Drain: enqueue TS_DISPATCH_N (100,000) signed webhook notifications in one
#    transaction, then time from its commit to the last outcome recorded
#    (max(sent_at)); every row must end 'sent'.
# 2. Latency: pgbench enqueues at TS_DISPATCH_RATE (500) per second, each in its
#    own transaction; nginx logs when each request arrived ($msec and the
#    webhook-id header), and latency = arrival - created_at (the enqueue).
# 3. Databases: the same N due at one moment (p_send_after), first all in one
#    database, then a third in each of three databases (each with its own
#    dispatcher, started by the launcher; the concurrency caps are shared);
#    the cluster-wide drain rate of the three against the one, measured from
#    the due time to the last outcome recorded in any of them.
# Results go to bench/results/dispatch-<date>.md and to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

N=${TS_DISPATCH_N:-100000}
RATE=${TS_DISPATCH_RATE:-500}
SECONDS_AT_RATE=${TS_DISPATCH_SECONDS:-20}
PHASES=${TS_DISPATCH_PHASES:-drain latency databases}
ts_install_deps
if ! command -v nginx >/dev/null; then
    # install without letting the package start its own server on port 80
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi
ts_build_install

bench_work /tmp/ts-dispatch.XXXXXX 57432
NGINX_PORT=$(ts_free_port 18080)
# Stops nginx too at exit.
cleanup() {
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
    bench_cleanup
}
trap cleanup EXIT

# nginx: answer 200 at once, keep connections alive, log arrival time and id
cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    log_format arrival '\$msec \$http_webhook_id';
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /hook { access_log $WORK/arrivals.log arrival; return 200 "ok"; }
    }
}
EOF
nginx -c "$WORK/nginx.conf"

bench_cluster "shared_buffers = 1GB
synchronous_commit = off
max_wal_size = 8GB
troubleshooting.database = 'bench, bench2, bench3'
troubleshooting.maintenance_naptime = 100
troubleshooting.allow_private_destinations = on
troubleshooting.dispatcher_concurrency = 64
troubleshooting.dispatcher_host_concurrency = 64"
P() { psql -X -q -v ON_ERROR_STOP=1 -d bench "$@"; }
[ -n "${TS_PERF:-}" ] && export TS_PERF
psql -X -q -d postgres -c "CREATE DATABASE bench"
P -c "CREATE EXTENSION troubleshooting"
P -c "INSERT INTO support_webhooks (id, url, events) VALUES (1, 'http://127.0.0.1:$NGINX_PORT/hook', ARRAY['session.started'])"
# the dispatcher is up before the clock starts
for i in $(seq 1 300); do
    [ "$(P -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting dispatcher'")" = 1 ] && break
    sleep 0.1
done

drain_s=- rate=- sent=- failed=- arrived=- enq_s=- lat_n=- p50=- p99=- pmax=-
if [[ " $PHASES " == *" drain "* ]]; then
echo "== drain: enqueueing $N notifications in one transaction"
enq_s=$(P -At -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t" \
    -c "SELECT count(send_troubleshooting_notification('webhook', '1', NULL,
        jsonb_build_object('type', 'bench', 'n', g))) FROM generate_series(1, $N) g" \
    -c "SELECT round(extract(epoch FROM clock_timestamp() - t)::numeric, 2) FROM t0" | tail -1)
commit_at=$(P -At -c "SELECT clock_timestamp()")
if [ -n "${TS_PERF:-}" ]; then   # profile the dispatcher during the drain
    dpid=$(P -At -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'troubleshooting dispatcher'")
    perf record -F 999 -g -p "$dpid" -o "$TS_PERF" -- sleep 8 >/dev/null 2>&1 &
fi
for i in $(seq 1 600); do
    left=$(P -At -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE status IN ('pending', 'sending')")
    [ "$left" = 0 ] && break
    sleep 0.5
done
read -r sent failed drain_s < <(P -At -F ' ' -c "
SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status <> 'sent'),
       round(extract(epoch FROM max(sent_at) - '$commit_at'::timestamptz)::numeric, 2)
FROM support_troubleshooting_notifications")
rate=$(awk -v n="$sent" -v s="$drain_s" 'BEGIN { printf "%.0f", n / s }')
arrived=$(wc -l < "$WORK/arrivals.log")
echo "   $sent sent, $failed not sent, $arrived requests at nginx, ${drain_s}s: $rate notifications/s"

fi

if [[ " $PHASES " == *" latency "* ]]; then
echo "== latency: $RATE enqueues/s for ${SECONDS_AT_RATE}s"
P -c "TRUNCATE support_troubleshooting_notifications CASCADE"
: > "$WORK/arrivals.log"
kill -USR1 "$(cat "$WORK/nginx.pid")"   # reopen the log
cat > "$WORK/enqueue.sql" <<'SQL'
SELECT send_troubleshooting_notification('webhook', '1', NULL, '{"type": "latency"}');
SQL
chmod 644 "$WORK/enqueue.sql"
ts_as_postgres env PGDATABASE=bench pgbench -n -c 4 -j 2 -R "$RATE" -T "$SECONDS_AT_RATE" -f "$WORK/enqueue.sql" bench \
    > "$WORK/pgbench.log" 2>&1
# every enqueued notification has had its outcome recorded (so its request
# reached nginx) before the arrivals are read (up to 5 minutes)
for i in $(seq 1 600); do
    [ "$(P -At -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE status IN ('pending', 'sending')")" = 0 ] && break
    sleep 0.5
done
P -c "CREATE TEMP TABLE arrivals (at double precision, key text)" \
  -c "\\copy arrivals FROM '$WORK/arrivals.log' WITH (FORMAT text, DELIMITER ' ')" \
  -At -F ' ' -c "
SELECT count(*),
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2),
       round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2),
       round(max(ms)::numeric, 2)
FROM (SELECT (a.at - extract(epoch FROM n.created_at)) * 1000 AS ms
      FROM arrivals a JOIN support_troubleshooting_notifications n ON n.idempotency_key = a.key) x" \
  > "$WORK/latency.txt"
read -r lat_n p50 p99 pmax < "$WORK/latency.txt"
echo "   $lat_n requests: median ${p50} ms, p99 ${p99} ms, max ${pmax} ms"

fi

# Enqueues $2 notifications due at $3 into database $1, in one transaction.
enqueue_due() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "SELECT count(send_troubleshooting_notification('webhook', '1', NULL,
        jsonb_build_object('type', 'bench', 'n', g), p_send_after => '$3')) FROM generate_series(1, $2) g" >/dev/null
}
# Waits until databases $@ have nothing pending or sending; prints
# "sent not_sent last_outcome" over all of them.
drain_wait() {
    local db left
    for i in $(seq 1 1200); do
        left=0
        for db in "$@"; do
            left=$((left + $(psql -X -At -d "$db" -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE status IN ('pending', 'sending')")))
        done
        [ "$left" = 0 ] && break
        sleep 0.5
    done
    for db in "$@"; do
        psql -X -At -F ' ' -d "$db" -c "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status <> 'sent'),
                                                extract(epoch FROM max(sent_at)) FROM support_troubleshooting_notifications"
    done | awk '{ s += $1; f += $2; if ($3 > m) m = $3 } END { printf "%d %d %.3f\n", s, f, m }'
}
one_rate=- three_rate=- ratio=- one_s=- three_s=- one_sent=- three_sent=-
if [[ " $PHASES " == *" databases "* ]]; then
    echo "== databases: $N due at once in one database, then $N in three"
    for db in bench2 bench3; do
        psql -X -q -d postgres -c "CREATE DATABASE $db"
        psql -X -q -d $db -c "CREATE EXTENSION troubleshooting" \
            -c "INSERT INTO support_webhooks (id, url, events) VALUES (1, 'http://127.0.0.1:$NGINX_PORT/hook', ARRAY['session.started'])"
    done
    for i in $(seq 1 300); do
        [ "$(P -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting dispatcher'")" = 3 ] && break
        sleep 0.1
    done
    P -c "TRUNCATE support_troubleshooting_notifications CASCADE"
    # one database: N due 20 s from now (the enqueue takes ~13 s)
    due=$(P -At -c "SELECT now() + interval '${TS_DISPATCH_LEAD:-40} seconds'")
    enqueue_due bench "$N" "$due"
    start=$(P -At -c "SELECT greatest(extract(epoch FROM '$due'::timestamptz), extract(epoch FROM clock_timestamp()))")
    late=$(P -At -c "SELECT round(greatest(0, extract(epoch FROM clock_timestamp() - '$due'::timestamptz))::numeric, 2)")
    read -r one_sent one_failed last < <(drain_wait bench)
    one_s=$(awk -v l="$last" -v d="$start" 'BEGIN { printf "%.2f", l - d }')
    echo "   (the enqueue committed ${late}s after the due time; timed from the later of the two)"
    one_rate=$(awk -v n="$one_sent" -v s="$one_s" 'BEGIN { printf "%.0f", n / s }')
    echo "   one database: $one_sent sent, $one_failed not sent, ${one_s}s: $one_rate notifications/s"
    P -c "TRUNCATE support_troubleshooting_notifications CASCADE"
    # three databases: N/3 each, due at the same moment, enqueued in parallel
    due=$(P -At -c "SELECT now() + interval '${TS_DISPATCH_LEAD:-40} seconds'")
    for db in bench bench2 bench3; do enqueue_due $db $((N / 3)) "$due" & done
    wait
    start=$(P -At -c "SELECT greatest(extract(epoch FROM '$due'::timestamptz), extract(epoch FROM clock_timestamp()))")
    late=$(P -At -c "SELECT round(greatest(0, extract(epoch FROM clock_timestamp() - '$due'::timestamptz))::numeric, 2)")
    read -r three_sent three_failed last < <(drain_wait bench bench2 bench3)
    three_s=$(awk -v l="$last" -v d="$start" 'BEGIN { printf "%.2f", l - d }')
    echo "   (the enqueues committed ${late}s after the due time; timed from the later of the two)"
    three_rate=$(awk -v n="$three_sent" -v s="$three_s" 'BEGIN { printf "%.0f", n / s }')
    ratio=$(awk -v a="$three_rate" -v b="$one_rate" 'BEGIN { printf "%.2f", a / b }')
    echo "   three databases: $three_sent sent, $three_failed not sent, ${three_s}s: $three_rate notifications/s (x$ratio of one)"
fi

OUT=bench/results/dispatch-$(date -u +%Y-%m-%d)${TS_DISPATCH_TAG:+-$TS_DISPATCH_TAG}.md
mkdir -p bench/results
cat > "$OUT" <<EOF
# Dispatcher benchmark, $(date -u +%Y-%m-%d) ($(nproc) cores, PostgreSQL $(P -At -c 'SHOW server_version'), $(curl --version | head -1 | cut -d' ' -f1-2))

Command: \`bash bench/dispatch_bench.sh\`. Destination: nginx on 127.0.0.1 (\`return 200\`, keep-alive);
generic webhooks signed per Standard Webhooks (HMAC-SHA256 per request); dispatcher_concurrency 64.

| measure | result |
|---|---|
| drain of $N queued notifications (commit of the enqueue to the last outcome recorded) | ${drain_s} s, **$rate notifications/s**; $sent sent, $failed not sent; $arrived requests reached nginx |
| enqueue of those $N in one transaction (validate, build the body, insert) | ${enq_s} s |
| latency at $RATE enqueues/s for ${SECONDS_AT_RATE} s, enqueue (created_at) to request at nginx | median **${p50} ms**, p99 **${p99} ms**, max ${pmax} ms over $lat_n requests |
| $N due at one moment in one database (due time to the last outcome) | ${one_s} s, **$one_rate notifications/s**; $one_sent sent |
| $((N / 3 * 3)) due at one moment, a third in each of three databases (three dispatchers, caps shared) | ${three_s} s, **$three_rate notifications/s** cluster-wide; $three_sent sent; **x$ratio** of one database |
EOF
cat "$OUT"
