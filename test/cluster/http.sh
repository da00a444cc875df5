#!/usr/bin/env bash
# The HTTP worker end to end, with curl on loopback: the test cluster is
# restarted with troubleshooting.http_port set; each endpoint is checked
# against the SQL it serves (realtime byte for byte, metrics row for row,
# /metrics through promtool and against counts), ETag/304, HEAD, JSON errors
# (400 with the database's message, 404, 405, 500 on a query error without a
# worker restart, 503 without the extension or http_role), the bearer token,
# a slow-loris client, 200 concurrent clients, IPv6 loopback and localhost,
# and the refusal to listen beyond loopback without a token.  The cluster's
# settings are restored (and it is restarted) at the end.
. "$(dirname "$0")/tap.sh"

P() { q -d postgres "$@"; }
MAIN=$TS_WORK/main
LOG=$MAIN/server.log
H=$TS_WORK/http
mkdir -p "$H"
HP=$(ts_free_port 18080)
BASE="http://127.0.0.1:$HP"
RT=/api/support/troubleshooting/realtime
MT=/api/support/troubleshooting/metrics
TOKEN="tok-$RANDOM$RANDOM-secret"

# GET (or whatever the options say): prints the status; body in $H/body, headers in $H/headers.
get() { : > "$H/body"; curl -sS --noproxy '*' --max-time 20 -o "$H/body" -D "$H/headers" -w '%{http_code}' "$@" 2>/dev/null; }
# A header of the last answer (first one named $1), without CR.
header() { tr -d '\r' < "$H/headers" | sed -n "s/^$1: *//Ip" | head -1; }
# A top-level member of the last JSON body.
jfield() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print(v)' "$H/body" "$1"; }
http_pid() { P -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'troubleshooting http'"; }
restart() { ts_cluster_stop "$MAIN"; ts_cluster_start "$MAIN"; }
# Waits (up to 10 s) until the endpoint answers anything.
wait_http() {
    local i
    for i in $(seq 1 100); do
        [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/" 2>/dev/null)" != 000 ] && return 0
        sleep 0.1
    done
    return 1
}
# Waits (up to 5 s) until get $2.. answers status $1.
wait_status() {
    local want=$1 i; shift
    for i in $(seq 1 50); do [ "$(get "$@")" = "$want" ] && return 0; sleep 0.1; done
    return 1
}
# Puts the cluster back as test/run started it (also when the script stops early).
restore() {
    P -c "DROP EXTENSION IF EXISTS troubleshooting CASCADE" >/dev/null 2>&1
    P -c "DROP ROLE IF EXISTS ts_http_reader" >/dev/null 2>&1
    for s in http_port http_role http_token http_listen_addresses http_statement_timeout; do
        P -c "ALTER SYSTEM RESET troubleshooting.$s" >/dev/null 2>&1
    done
    restart
}
trap restore EXIT

# --- start: the worker comes with http_port (a restart: PGC_POSTMASTER) ---
P -c "CREATE ROLE ts_http_reader NOLOGIN" >/dev/null
is "$(http_pid)" "" "no HTTP worker without troubleshooting.http_port"
P -c "ALTER SYSTEM SET troubleshooting.http_port = $HP" \
  -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_http_reader'" >/dev/null
restart
wait_http
ok $? "the endpoint listens on 127.0.0.1:$HP after a restart with http_port set"
pid=$(http_pid)
[ -n "$pid" ]
ok $? "worker runs (backend_type 'troubleshooting http')"
grep -q "troubleshooting HTTP endpoint listening on 127.0.0.1 port $HP" "$LOG"
ok $? "listening logged"
starts=$(grep -c "troubleshooting http worker started" "$LOG")

# --- before CREATE EXTENSION: data endpoints 503, the rest works ---
is "$(get "$BASE$RT")" "503" "realtime without the extension: 503"
is "$(header Content-Type)" "application/json" "errors are JSON"
is "$(jfield error)" 'extension "troubleshooting" is not installed' "the error says why"
is "$(get "$BASE/metrics")" "503" "/metrics without the extension: 503"
is "$(get "$BASE/nope")" "404" "unknown path: 404"
is "$(jfield error)" "not found" "404 as JSON"

# --- data, and a role with no grants yet: a query error is a 500 ---
P -c "CREATE EXTENSION troubleshooting" >/dev/null
P -v sessions=400 -v days=3 -f bench/generate_data.sql >/dev/null
ok $? "sample data loaded"
is "$(get "$BASE$RT")" "500" "role without EXECUTE: 500"
is "$(jfield error)" "permission denied for function get_troubleshooting_realtime_metrics" "with the database's message"
is "$(jfield sqlstate)" "42501" "and its SQLSTATE"
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics(),
        get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz), ts_realtime_kpis() TO ts_http_reader" \
  -c "GRANT SELECT (status) ON support_troubleshooting_sessions TO ts_http_reader" \
  -c "GRANT SELECT (channel, status, created_at) ON support_troubleshooting_notifications TO ts_http_reader" >/dev/null

# --- realtime: the SQL function's text, byte for byte ---
P -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_name, detected_problem_title, status, started_at)
      VALUES ('http-a1', 'Zoë \"Z\" O''Neil', 'Wi-Fi keeps disconnecting', 'in_progress', now() - interval '5 minutes'),
             ('http-a2', NULL, NULL, 'started', now() - interval '1 minute')" >/dev/null
is "$(get "$BASE$RT")" "200" "realtime: 200 once granted"
is "$(header Content-Type)" "application/json" "realtime: application/json"
is "$(header Cache-Control)" "no-store" "realtime: Cache-Control: no-store"
printf '%s' "$(P -c "SELECT get_troubleshooting_realtime_metrics()::text")" > "$H/sql.json"
# (the clock moves between the two calls: only its own fields may differ)
norm() { sed -E 's/"timestamp": "[^"]*"/"timestamp": "T"/; s/"minutes_active": [0-9.]+/"minutes_active": M/g' "$1"; }
cmp <(norm "$H/body") <(norm "$H/sql.json") >/dev/null
ok $? "realtime body equals get_troubleshooting_realtime_metrics()::text"
grep -q '"minutes_active"' "$H/body" && grep -q '"problem_id"' "$H/body"
ok $? "with active sessions and top problems in it"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$H/body"
ok $? "and it is JSON"

# --- ETag and 304 (no active session, whose minutes_active would tick) ---
P -c "UPDATE support_troubleshooting_sessions SET status = 'abandoned' WHERE status IN ('started', 'in_progress')" >/dev/null
get "$BASE$RT" >/dev/null
etag=$(header ETag)
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]]
ok $? "realtime: strong ETag ($etag)"
is "$(get -H "If-None-Match: $etag" "$BASE$RT")" "304" "If-None-Match with it: 304"
[ ! -s "$H/body" ]
ok $? "304 without a body"
is "$(header ETag)" "$etag" "304 repeats the ETag"
is "$(get -H "If-None-Match: \"0123456789abcdef\", W/$etag" "$BASE$RT")" "304" "a list with the weak form matches too"
is "$(get -H 'If-None-Match: "0123456789abcdef"' "$BASE$RT")" "200" "another ETag: 200"
P -c "INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('http-new', 'started')" >/dev/null
is "$(get -H "If-None-Match: $etag" "$BASE$RT")" "200" "after a change: 200"
[ "$(header ETag)" != "$etag" ]
ok $? "with a new ETag"

# --- HEAD: same headers, no body ---
python3 - "$HP" "$RT" > "$H/head" <<'PY'
import socket, sys
for path in (sys.argv[2], "/api/support/troubleshooting/metrics", "/metrics"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"HEAD %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    ctype = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("content-type:")]
    print(lines[0].split()[1], ctype[0] if ctype else "-", len(rest))
PY
is "$(sed -n 1p "$H/head")" "200 application/json 0" "HEAD realtime: 200, application/json, no body"
is "$(sed -n 2p "$H/head")" "200 application/json 0" "HEAD metrics: 200, application/json, no body"
is "$(sed -n 3p "$H/head")" "200 text/plain; version=0.0.4; charset=utf-8 0" "HEAD /metrics: 200, text/plain, no body"
get -I "$BASE$RT" >/dev/null
[ -n "$(header ETag)" ]
ok $? "HEAD realtime carries the ETag"

# --- metrics by period: the function's rows as JSON objects, UTC ---
start=$(P -c "SELECT to_char(now() - interval '2 days', 'YYYY-MM-DD')")
end=$(P -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')")
is "$(get "$BASE$MT?period=hour&start=$start&end=$end")" "200" "metrics?period=hour&start&end: 200"
P -c "SET TimeZone = 'UTC'" -c "SELECT coalesce(json_agg(m ORDER BY m.period_start), '[]')
        FROM get_troubleshooting_metrics_by_period('hour', '$start', '$end') m" > "$H/sql_metrics.json"
python3 - "$H/body" "$H/sql_metrics.json" <<'PY'
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert got == want and len(got) > 24, (len(got), len(want))
assert [list(r) for r in got] == [list(r) for r in want]
assert got[0]["period_start"].endswith("+00:00"), got[0]
PY
ok $? "rows equal the SQL rows (json_agg, TimeZone UTC), ISO 8601 in UTC"
is "$(get "$BASE$MT")" "200" "metrics with the defaults: 200"
is "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$H/body")" \
   "$(P -c "SET TimeZone = 'UTC'" -c "SELECT count(*) FROM get_troubleshooting_metrics_by_period('day', now() - interval '30 days', now())")" \
   "defaults: period=day over the last 30 days"
is "$(get "$BASE$MT?period=fortnight")" "400" "bad period: 400"
is "$(jfield error)" 'unknown period "fortnight"' "with the database's message"
is "$(jfield hint)" "Use hour, day, week or month." "and its hint"
is "$(get "$BASE$MT?start=yesterday-ish")" "400" "bad start: 400"
is "$(jfield error)" 'invalid input syntax for type timestamp with time zone: "yesterday-ish"' "with the database's message"
is "$(get "$BASE$MT?period=day%27%3B%20DROP%20TABLE%20x%3B--")" "400" "a quote in a parameter is a value, not SQL"
is "$(get "$BASE$MT?period=hour&start=2000-01-01&end=2030-01-01")" "400" "too many buckets: 400"

# --- methods ---
is "$(get -X POST -d 'a=1' "$BASE$RT")" "405" "POST: 405"
is "$(header Allow)" "GET, HEAD" "with Allow: GET, HEAD"
is "$(jfield error)" "method not allowed" "as JSON"
is "$(get -X DELETE "$BASE/metrics")" "405" "DELETE: 405"

# --- /metrics: Prometheus text format ---
for i in 1 2 3; do
    P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
          jsonb_build_object('webhook_url', 'http://127.0.0.1:9/never'), NULL, now() + interval '1 day')" >/dev/null
done
is "$(get "$BASE/metrics")" "200" "/metrics: 200"
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "/metrics: text/plain; version=0.0.4"
promtool check metrics < "$H/body" > "$H/promtool.out" 2>&1
ok $? "promtool check metrics passes"
sed 's/^/# /' "$H/promtool.out"
sample() { grep -F "$1 " "$H/body" | grep -vF '#' | awk '{print $2}'; }
for st in resolved escalated abandoned started; do
    is "$(sample "troubleshooting_sessions{status=\"$st\"}")" \
       "$(P -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE status = '$st'")" "sessions{status=\"$st\"} equals the count"
done
is "$(sample troubleshooting_active_sessions)" "$(P -c "SELECT active_sessions FROM vw_troubleshooting_realtime_metrics")" \
   "active_sessions equals the view"
is "$(sample troubleshooting_average_rating_24h)" "$(P -c "SELECT avg_rating_24h FROM vw_troubleshooting_realtime_metrics")" \
   "average_rating_24h equals the view"
is "$(sample 'troubleshooting_notifications{channel="slack",status="pending"}')" "3" "notifications{channel,status}"
is "$(sample troubleshooting_notification_queue_depth)" "3" "queue depth"
is "$(sample troubleshooting_notification_oldest_pending_seconds | awk '{print ($1 >= 0 && $1 < 60)}')" "1" "oldest pending age"
is "$(sample troubleshooting_dispatcher_sent_total)" "$(P -c "SELECT sent FROM troubleshooting_dispatcher_stats()")" "dispatcher counters"
grep -q '^# TYPE troubleshooting_dispatcher_sent_total counter$' "$H/body"
ok $? "dispatcher counters typed counter"
[ "$(sample 'troubleshooting_http_requests_total{code="404"}')" -ge 1 ]
ok $? "http_requests_total{code} counts the worker's answers"

# --- http_role: empty or a superuser is refused ---
P -c "ALTER SYSTEM SET troubleshooting.http_role = ''" -c "SELECT pg_reload_conf()" >/dev/null
wait_status 503 "$BASE$RT"
ok $? "http_role empty: 503"
is "$(jfield error)" "troubleshooting.http_role is not set" "saying so"
P -c "ALTER SYSTEM SET troubleshooting.http_role = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
is "$(get "$BASE$RT")" "503" "http_role a superuser: 503"
is "$(jfield error)" 'role "postgres" is a superuser' "saying so"
P -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_http_reader'" -c "SELECT pg_reload_conf()" >/dev/null
wait_status 200 "$BASE$RT"
ok $? "back to the reader role"

# --- bearer token ---
P -c "ALTER SYSTEM SET troubleshooting.http_token = '$TOKEN'" -c "SELECT pg_reload_conf()" >/dev/null
wait_status 401 "$BASE$RT"
ok $? "token set: a request without it gets 401"
is "$(header WWW-Authenticate)" 'Bearer realm="troubleshooting"' "with WWW-Authenticate: Bearer"
is "$(jfield error)" "unauthorized" "as JSON"
is "$(get -H "Authorization: Bearer wrong-$TOKEN" "$BASE$RT")" "401" "a wrong token: 401"
is "$(get -H "Authorization: Bearer ${TOKEN%?}" "$BASE$RT")" "401" "a prefix of the token: 401"
is "$(get -H "Authorization: Bearer $TOKEN" "$BASE$RT")" "200" "the token: 200"
is "$(get -H "Authorization: bearer $TOKEN" "$BASE/nope")" "404" "scheme case-insensitive; 404 only after authentication"
is "$(get "$BASE/nope")" "401" "unauthenticated requests learn nothing about paths"
q -d postgres -c "SET ROLE ts_http_reader" -c "SHOW troubleshooting.http_token" >/dev/null 2>&1
ok $((! $?)) "an ordinary role cannot SHOW the token"
is "$(P -c "SET ROLE ts_http_reader" -c "SELECT count(*) FROM pg_settings WHERE name = 'troubleshooting.http_token'")" "0" \
   "nor see it in pg_settings"
P -c "ALTER SYSTEM RESET troubleshooting.http_token" -c "SELECT pg_reload_conf()" >/dev/null
wait_status 200 "$BASE$RT"
ok $? "token reset: open again"

# --- a query error is a 500 and the worker goes on ---
P -c "REVOKE EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() FROM ts_http_reader" >/dev/null
is "$(get "$BASE$RT")" "500" "EXECUTE revoked: 500"
is "$(jfield error)" "permission denied for function get_troubleshooting_realtime_metrics" "with the database's message"
is "$(get "$BASE$MT")" "200" "the other endpoints still answer"
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() TO ts_http_reader" >/dev/null
is "$(get "$BASE$RT")" "200" "granted again: 200"
P -c "ALTER SYSTEM SET troubleshooting.http_statement_timeout = '1ms'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
code=$(get "$BASE$MT?period=hour&start=2020-01-01&end=2030-01-01")
is "$code $(jfield error)" "503 canceling statement due to statement timeout" "a statement past http_statement_timeout: 503"
P -c "ALTER SYSTEM RESET troubleshooting.http_statement_timeout" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3

# --- a slow-loris client is cut off; others are answered meanwhile ---
python3 - "$HP" > "$H/slow" <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
slow = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/support/troubleshooting/realtime HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    slow.append(s)
t0 = time.time()
for i in range(5):
    assert opener.open("http://127.0.0.1:%d/api/support/troubleshooting/realtime" % port, timeout=5).status == 200
answered = time.time() - t0
for s in slow:
    s.settimeout(30)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
print("%.1f %.1f" % (answered, time.time() - t0))
PY
read -r answered closed < "$H/slow"
awk -v a="$answered" 'BEGIN { exit !(a < 3) }'
ok $? "10 stalled clients: other requests answered at once (${answered}s)"
awk -v c="$closed" 'BEGIN { exit !(c >= 7 && c < 16) }'
ok $? "the stalled clients are disconnected after the 10 s timeout (${closed}s)"

# --- 200 clients, 50 at a time, while the API keeps answering ---
seq 200 | xargs -P 50 -I{} curl -s --noproxy '*' -o /dev/null -w '%{http_code}\n' --max-time 30 "$BASE$RT" > "$H/burst" &
burst=$!
sleep 0.2
is "$(get "$BASE/metrics")" "200" "/metrics answers during the burst"
wait $burst
is "$(grep -c '^200$' "$H/burst")" "200" "all 200 concurrent clients answered 200"

# --- IPv6 loopback and localhost (the existing clients' URL) ---
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    is "$(get "http://[::1]:$HP$RT")" "200" "listens on ::1 too"
else
    echo "ok $((TAP_N + 1)) # SKIP no IPv6 loopback on this machine"; TAP_N=$((TAP_N + 1))
fi
python3 - "$HP" <<'PY'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
r = opener.open("http://localhost:%s/api/support/troubleshooting/realtime" % sys.argv[1], timeout=10)
assert r.status == 200 and r.headers["Content-Type"] == "application/json"
PY
ok $? "http://localhost:$HP/api/support/troubleshooting/realtime answers (whichever address localhost is)"

# --- the same worker served everything ---
is "$(http_pid)" "$pid" "same worker pid after errors, timeouts and the burst"
is "$(grep -c "troubleshooting http worker started" "$LOG")" "$starts" "no worker restart in the log"

# --- SIGTERM: the postmaster starts it again ---
kill -TERM "$pid"
for i in $(seq 1 100); do
    new=$(http_pid)
    [ -n "$new" ] && [ "$new" != "$pid" ] && [ "$(get "$BASE$RT")" = 200 ] && break
    sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$pid" ] && [ "$(get "$BASE$RT")" = 200 ]
ok $? "restarted after SIGTERM and serving again"

# --- listen addresses: checked; beyond loopback only with a token ---
P -c "ALTER SYSTEM SET troubleshooting.http_listen_addresses = '127.0.0.1, not-an-ip'" >/dev/null 2>"$H/err"
grep -q 'Found "not-an-ip"' "$H/err"
ok $? "a bad listen address is refused by ALTER SYSTEM"
# 192.0.2.1 (TEST-NET-1) is not on this machine: nothing could listen there anyway
P -c "ALTER SYSTEM SET troubleshooting.http_listen_addresses = '127.0.0.1, 192.0.2.1'" >/dev/null
restart
for i in $(seq 1 50); do grep -q "http_token must be set" "$LOG" && break; sleep 0.1; done
grep -q "ERROR:  troubleshooting.http_token must be set for the HTTP endpoint to listen on a non-loopback address" "$LOG"
ok $? "non-loopback address without a token: an error in the log"
is "$(get "$BASE$RT")" "000" "and no listener, not even on 127.0.0.1"
[ -n "$(http_pid)" ]
ok $? "the worker stays up (waiting for a reload)"

trap - EXIT
restore
is "$(http_pid)" "" "settings reset: no HTTP worker"
done_testing
