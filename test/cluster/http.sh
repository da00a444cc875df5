#!/usr/bin/env bash
# The HTTP worker end to end, with curl on loopback: the test cluster is
# restarted with troubleshooting.http_port set; each endpoint is checked
# against the SQL it serves (realtime byte for byte, metrics row for row,
# reports' json/csv/pdf bytes against export_troubleshooting_report(), /metrics
# through promtool and against counts), ETag/304, HEAD, keep-alive, JSON
# errors (400 with the database's message, 403 for a missing grant, 404, 405,
# 500 on a query error without a worker restart, 503 without the extension or
# http_role), the bearer token, the realtime cache (http_cache_ms: reuse
# within it, fresh after it or a reload, never an error, off at 0), a
# slow-loris client, 200 concurrent clients, IPv6 loopback and localhost, and
# the refusal to listen beyond loopback without a token.  Slow clients
# (stalled or trickling a byte at a time) are closed within
# http_request_timeout.  The checks before
# the cache's own run with http_cache_ms = 0 (each request fresh).  The
# cluster's settings are restored (and it is restarted) at the end.
. "$(dirname "$0")/tap.sh"

H=$TS_WORK/http
mkdir -p "$H"
HP=$(ts_free_port 18080)
BASE="http://127.0.0.1:$HP"
RT=/api/support/troubleshooting/realtime
MT=/api/support/troubleshooting/metrics
RP=/api/support/troubleshooting/reports
TOKEN="tok-$RANDOM$RANDOM-secret"

# A top-level member of the last JSON body.
jfield() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print(v)' "$H/body" "$1"; }
# The timestamp member of a realtime document in file $1.
jq_ts() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["timestamp"])' "$1"; }
# Waits (up to 10 s) until the endpoint answers anything.
wait_http() {
    local i
    for i in $(seq 1 100); do
        [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/" 2>/dev/null)" != 000 ] && return 0
        sleep 0.1
    done
    return 1
}
# Puts the cluster back as test/run started it (also when the script stops early).
restore() {
    reset_main ts_http_reader http_port http_role http_token http_listen_addresses http_statement_timeout \
        http_cache_ms http_request_timeout
}
trap restore EXIT

# --- start: the worker comes with http_port (a restart: PGC_POSTMASTER) ---
P -c "CREATE ROLE ts_http_reader NOLOGIN" >/dev/null
is "$(worker_pid http)" "" "no HTTP worker without troubleshooting.http_port"
P -c "ALTER SYSTEM SET troubleshooting.http_port = $HP" \
  -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_http_reader'" \
  -c "ALTER SYSTEM SET troubleshooting.http_cache_ms = 0" >/dev/null
restart_main
wait_http
ok $? "the endpoint listens on 127.0.0.1:$HP after a restart with http_port set"
pid=$(worker_pid http)
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
is "$(get "$BASE$RT")" "403" "role without EXECUTE: 403"
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
is "$(header Cache-Control)" "no-store" "realtime with http_cache_ms = 0: Cache-Control: no-store"
printf '%s' "$(P -c "SELECT get_troubleshooting_realtime_metrics()::text")" > "$H/sql.json"
# (the clock moves between the two calls: only its own fields may differ)
cmp <(norm_realtime "$H/body") <(norm_realtime "$H/sql.json") >/dev/null
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
for path in "$RT" "$MT" /metrics; do raw_head "$HP" "$path" | cut -f1,2,5 | tr '\t' ' '; done > "$H/head"
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
python3 - "$H/body" "$end" <<'PY'
import json, sys
from datetime import datetime, timedelta
got, end = json.load(open(sys.argv[1])), datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
last = datetime.fromisoformat(got[-1]["period_start"])
assert last == end - timedelta(hours=1), (last, end)
PY
ok $? "the buckets cover [start, end): the last starts an hour before end, none at end"
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

# --- reports: export_troubleshooting_report(id, format)'s bytes ---
rid=$(P -c "SELECT generate_troubleshooting_report('daily') ->> 'id'")
[[ "$rid" =~ ^[0-9]+$ ]]
ok $? "a daily report generated (id $rid)"
is "$(get "$BASE$RP/$rid.csv")" "403" "report without EXECUTE on export_troubleshooting_report: 403"
is "$(jfield error)" "permission denied for function export_troubleshooting_report" "with the database's message"
is "$(jfield sqlstate)" "42501" "and its SQLSTATE"
P -c "GRANT EXECUTE ON FUNCTION export_troubleshooting_report(bigint, text) TO ts_http_reader" >/dev/null
# sha256 of the SQL function's bytes
sql_sha() { P -c "SELECT encode(sha256(export_troubleshooting_report($1, '$2')), 'hex')"; }
for f in json csv pdf; do
    case $f in
        json) want_type="application/json"; want_disp="inline" ;;
        csv) want_type="text/csv; charset=utf-8"; want_disp="attachment" ;;
        pdf) want_type="application/pdf"; want_disp="inline" ;;
    esac
    # (the PDF's creation date is the statement's second: fetch both within one)
    for try in 1 2 3 4 5; do
        code=$(get "$BASE$RP/$rid.$f")
        [ "$(sha256sum < "$H/body" | cut -c1-64)" = "$(sql_sha "$rid" "$f")" ] && break
    done
    is "$code" "200" "GET reports/$rid.$f: 200"
    is "$(header Content-Type)" "$want_type" "reports/$rid.$f: $want_type"
    is "$(header Content-Disposition)" "$want_disp; filename=\"troubleshooting-report-$rid.$f\"" \
       "reports/$rid.$f: Content-Disposition $want_disp with a file name"
    is "$(sha256sum < "$H/body" | cut -c1-64)" "$(sql_sha "$rid" "$f")" \
       "reports/$rid.$f: the bytes of export_troubleshooting_report($rid, '$f') (sha256, try $try)"
    is "$(header Content-Length)" "$(P -c "SELECT length(export_troubleshooting_report($rid, '$f'))")" \
       "reports/$rid.$f: Content-Length is the length of those bytes"
done
cp "$H/body" "$H/report.pdf"
head -c 5 "$H/report.pdf" | grep -q '^%PDF-'
ok $? "the pdf starts with %PDF-"
get "$BASE$RP/$rid.json" >/dev/null
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["id"] == int(sys.argv[2])' "$H/body" "$rid"
ok $? "the json is the report document (its id)"
get "$BASE$RP/$rid.csv" >/dev/null
etag=$(header ETag)
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]]
ok $? "reports: strong ETag over the bytes ($etag)"
is "$(header Cache-Control)" "private, no-cache" "reports: Cache-Control: private, no-cache (stored, revalidated)"
is "$(get -H "If-None-Match: $etag" "$BASE$RP/$rid.csv")" "304" "reports: If-None-Match with it: 304"
[ ! -s "$H/body" ]
ok $? "304 without a body"
is "$(header ETag)" "$etag" "304 repeats the ETag"
is "$(get -H 'If-None-Match: "0123456789abcdef"' "$BASE$RP/$rid.csv")" "200" "reports: another ETag: 200"
get "$BASE$RP/$rid.json" >/dev/null
[ "$(header ETag)" != "$etag" ]
ok $? "each format has its own ETag"
for f in json csv pdf; do
    raw_head "$HP" "$RP/$rid.$f" | cut -f1,2,4,5 | tr '\t' ' ' > "$H/head"
    case $f in json) t="application/json" ;; csv) t="text/csv; charset=utf-8" ;; pdf) t="application/pdf" ;; esac
    is "$(cat "$H/head")" "200 $t etag 0" "HEAD reports/$rid.$f: 200, $t, ETag, no body"
done
missing=$((rid + 1000))
is "$(get "$BASE$RP/$missing.pdf")" "404" "a missing report: 404"
is "$(jfield error)" "report $missing does not exist" "with the database's message"
is "$(jfield sqlstate)" "P0002" "and its SQLSTATE"
is "$(get "$BASE$RP/9223372036854775807.csv")" "404" "the largest bigint id: a lookup (404)"
for bad in 0.csv -1.csv abc.pdf 1e3.json 0x10.json " 1.csv" "1%20.csv" .json 9223372036854775808.csv 99999999999999999999999.pdf; do
    u=$(printf '%s' "$bad" | sed 's/ /%20/g')
    is "$(get "$BASE$RP/$u")" "400" "report id '$bad': 400"
done
is "$(jfield error)" "invalid report id" "saying the id is invalid"
for bad in "$rid.xml" "$rid.PDF" "$rid" "$rid.csv/" "$rid.pdf.zip" ""; do
    is "$(get "$BASE$RP/$bad")" "404" "report path '$bad': 404 (not a format served)"
done
grep -q "json, <id>.csv and <id>.pdf" "$H/body"
ok $? "naming the formats"
get "$BASE/nope" >/dev/null
grep -q "/api/support/troubleshooting/reports/<id>.{json,csv,pdf}" "$H/body"
ok $? "the 404 for other paths lists the reports endpoint"

# --- methods ---
is "$(get -X POST -d 'a=1' "$BASE$RT")" "405" "POST: 405"
is "$(header Allow)" "GET, HEAD" "with Allow: GET, HEAD"
is "$(jfield error)" "method not allowed" "as JSON"
is "$(get -X DELETE "$BASE/metrics")" "405" "DELETE: 405"

# --- /metrics: Prometheus text format ---
for i in 1 2 3; do
    P -c "SET troubleshooting.allow_private_destinations = on" \
      -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
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
conf_set http_role ""
wait_status 30 503 "$BASE$RT"
ok $? "http_role empty: 503"
is "$(jfield error)" "troubleshooting.http_role is not set" "saying so"
conf_set http_role postgres
# (the worker has read the reload once it names the superuser)
for i in $(seq 1 300); do
    get "$BASE$RT" >/dev/null; [ "$(jfield error 2>/dev/null)" = 'role "postgres" is a superuser' ] && break
    sleep 0.2
done
is "$(get "$BASE$RT")" "503" "http_role a superuser: 503"
is "$(jfield error)" 'role "postgres" is a superuser' "saying so"
conf_set http_role ts_http_reader
wait_status 30 200 "$BASE$RT"
ok $? "back to the reader role"

# --- bearer token ---
conf_set http_token "$TOKEN"
wait_status 30 401 "$BASE$RT"
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
conf_reset http_token
wait_status 30 200 "$BASE$RT"
ok $? "token reset: open again"

# --- a query error is a 500 and the worker goes on ---
P -c "REVOKE EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() FROM ts_http_reader" >/dev/null
is "$(get "$BASE$RT")" "403" "EXECUTE revoked: 403"
is "$(jfield error)" "permission denied for function get_troubleshooting_realtime_metrics" "with the database's message"
is "$(get "$BASE$MT")" "200" "the other endpoints still answer"
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() TO ts_http_reader" >/dev/null
is "$(get "$BASE$RT")" "200" "granted again: 200"
P -c "ALTER FUNCTION get_troubleshooting_realtime_metrics() RENAME TO gtrm_away" >/dev/null
is "$(get "$BASE$RT")" "500" "a query error (function missing): 500"
is "$(jfield sqlstate)" "42883" "with its SQLSTATE"
grep -q "function .*get_troubleshooting_realtime_metrics() does not exist" "$LOG"
ok $? "and logged"
P -c "ALTER FUNCTION gtrm_away() RENAME TO get_troubleshooting_realtime_metrics" >/dev/null
is "$(get "$BASE$RT")" "200" "renamed back: 200"
conf_set http_statement_timeout 1ms
# the worker applies a reload between requests: poll until it has
for i in $(seq 1 150); do
    code=$(get "$BASE$MT?period=hour&start=2020-01-01&end=2030-01-01")
    [ "$code" = 503 ] && break
    sleep 0.2
done
is "$code $(jfield error)" "503 canceling statement due to statement timeout" "a statement past http_statement_timeout: 503"
conf_reset http_statement_timeout
wait_status 30 200 "$BASE$MT?period=hour&start=2020-01-01&end=2030-01-01"
ok $? "http_statement_timeout reset: 200 again"

# --- keep-alive: one connection serves request after request ---
is "$(curl -s --noproxy '*' -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects} ' "$BASE$RT" "$BASE$RT" "$BASE/")" "1 0 0 " \
   "three requests over one kept-alive connection"

# --- realtime cache: troubleshooting.http_cache_ms ---
# Sets http_cache_ms to $1 (DEFAULT: reset) and reloads; waits until realtime shows Cache-Control $2.
cache_ms() {
    if [ "$1" = DEFAULT ]; then conf_reset http_cache_ms
    else conf_set http_cache_ms "$1"; fi
    local i
    for i in $(seq 1 50); do get "$BASE$RT" >/dev/null; [ "$(header Cache-Control)" = "$2" ] && return 0; sleep 0.1; done
    return 1
}
# Adds an active session $1; fetches realtime into $H/$2.
new_session() { P -c "INSERT INTO support_troubleshooting_sessions (session_id, status) VALUES ('$1', 'started')" >/dev/null; }
fetch() { get "$BASE$RT" >/dev/null; cp "$H/body" "$H/$1"; }
is "$(P -c "SHOW troubleshooting.http_cache_ms")" "0" "http_cache_ms is 0 so far"
cache_ms DEFAULT "max-age=1"
ok $? "default http_cache_ms (1 s): realtime sends Cache-Control: max-age=1"
is "$(P -c "SELECT setting || unit || ' ' || context FROM pg_settings WHERE name = 'troubleshooting.http_cache_ms'")" \
   "1000ms sighup" "http_cache_ms: 1000 ms by default, set at reload"
curl -s --noproxy '*' -o "$H/c1" "$BASE$RT" -o "$H/c2" "$BASE$RT"
cmp -s "$H/c1" "$H/c2"
ok $? "two requests in a row: the same bytes, timestamp included"
cache_ms 3000 "max-age=3"
ok $? "http_cache_ms = 3000: max-age=3"
fetch a1
etag=$(header ETag)
new_session http-cache-1
fetch a2
cmp -s "$H/a1" "$H/a2"
ok $? "within http_cache_ms a new session does not show: the same document as before"
! grep -q http-cache-1 "$H/a2" && grep -q '"http-cache-1"' <(P -c "SELECT get_troubleshooting_realtime_metrics()::text")
ok $? "(while the SQL function already lists it)"
is "$(header ETag)" "$etag" "and the same ETag"
is "$(get -H "If-None-Match: $etag" "$BASE$RT")" "304" "a revalidation within it: 304"
is "$(header Cache-Control)" "max-age=3" "304 with Cache-Control too"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$H/a2"
ok $? "the cached answer is the JSON document"
P -c "SELECT pg_reload_conf()" >/dev/null
# polled: the worker applies the reload between two requests (the cache
# would keep the document 3 s more without it, far less than this bound)
for i in $(seq 1 10); do
    fetch a3
    grep -q '"http-cache-1"' "$H/a3" && break
    sleep 0.1
done
grep -q '"http-cache-1"' "$H/a3"
ok $? "a reload drops the cached document: the new session shows at once"
conf_set http_token "$TOKEN"
wait_status 30 401 "$BASE$RT"
ok $? "token set with the cache on: 401 without it"
is "$(get -H "Authorization: Bearer $TOKEN" "$BASE$RT")" "200" "with it: 200"
is "$(get "$BASE$RT")" "401" "a cached document still needs the token"
is "$(get -H "Authorization: Bearer wrong" "$BASE$RT")" "401" "or a wrong one: 401"
conf_reset http_token
wait_status 30 200 "$BASE$RT"
ok $? "token reset"
P -c "REVOKE EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() FROM ts_http_reader" -c "SELECT pg_reload_conf()" >/dev/null
wait_status 30 403 "$BASE$RT"
ok $? "EXECUTE revoked and a reload: 403"
is "$(header Cache-Control)" "no-store" "an error is no-store"
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics() TO ts_http_reader" >/dev/null
is "$(get "$BASE$RT")" "200" "granted again: 200 at once (errors are not cached)"
cache_ms 200 "max-age=0"
ok $? "http_cache_ms = 200: max-age=0 (whole seconds, rounded down)"
fetch b1
new_session http-cache-2
sleep 0.3
fetch b2
! grep -q http-cache-2 "$H/b1" && grep -q '"http-cache-2"' "$H/b2"
ok $? "after http_cache_ms the new session shows"
cmp -s "$H/b1" "$H/b2"
ok $((! $?)) "with a new document"
cache_ms 0 "no-store"
ok $? "http_cache_ms = 0: no-store"
fetch z1
new_session http-cache-3
fetch z2
! grep -q http-cache-3 "$H/z1" && grep -q '"http-cache-3"' "$H/z2"
ok $? "with 0, the next request sees a new session at once"
curl -s --noproxy '*' -o "$H/z3" "$BASE$RT" -o "$H/z4" "$BASE$RT"
[ "$(jq_ts "$H/z3")" != "$(jq_ts "$H/z4")" ]
ok $? "and every request is computed anew (two requests in a row, two timestamps)"
cache_ms DEFAULT "max-age=1"
ok $? "back to the default cache for the rest"

# --- slow clients are cut off; others are answered meanwhile ---
# Stalled clients (half a request, then nothing) and trickling ones (a byte
# every 0.3 s, well inside the 10 s idle timeout, forever): each must be
# closed by the server, the trickling ones by http_request_timeout (2 s),
# while normal requests are answered.  Waits poll the sockets (60 s bound).
conf_set http_request_timeout 2s
is "$(P -c "SELECT setting || unit || ' ' || context FROM pg_settings WHERE name = 'troubleshooting.http_request_timeout'")" \
   "2000ms sighup" "http_request_timeout: milliseconds, set at reload"
python3 - "$HP" > "$H/slow" <<'PY'
import select, socket, sys, threading, time, urllib.request
port = int(sys.argv[1])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HEAD = b"GET /api/support/troubleshooting/realtime HTTP/1.1\r\nHost: t\r\nX-Slow: "
closed = {"stalled": 0, "trickling": 0}
lock = threading.Lock()

def closed_by_server(s):
    """True once the server has closed s (end of stream or reset)."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True

def client(kind):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(HEAD)
    deadline = time.time() + 60
    while time.time() < deadline:
        if closed_by_server(s):
            with lock:
                closed[kind] += 1
            return
        if kind == "trickling":
            try:
                s.send(b"a")
            except (ConnectionResetError, BrokenPipeError):
                continue  # closed: seen at the next look
        time.sleep(0.3)

threads = [threading.Thread(target=client, args=(k,)) for k in ["stalled"] * 10 + ["trickling"] * 3]
for t in threads:
    t.start()
answered = 0
for i in range(5):
    if opener.open("http://127.0.0.1:%d/api/support/troubleshooting/realtime" % port, timeout=30).status == 200:
        answered += 1
for t in threads:
    t.join()
print(answered, closed["stalled"], closed["trickling"])
PY
read -r answered stalled trickling < "$H/slow"
is "$answered" "5" "with 13 slow clients connected, normal requests are answered"
is "$stalled" "10" "the 10 stalled clients are disconnected"
is "$trickling" "3" "the 3 clients trickling a byte at a time are disconnected (http_request_timeout)"
is "$(get "$BASE$RT")" "200" "a request after them is answered"
is "$(curl -s --noproxy '*' -o /dev/null -o /dev/null -w '%{http_code} %{num_connects} ' "$BASE$RT" "$BASE$RT")" "200 1 200 0 " \
   "and two over one kept-alive connection"
conf_reset http_request_timeout

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
is "$(worker_pid http)" "$pid" "same worker pid after errors, timeouts and the burst"
is "$(grep -c "troubleshooting http worker started" "$LOG")" "$starts" "no worker restart in the log"

# --- SIGTERM: the postmaster starts it again ---
kill -TERM "$pid"
for i in $(seq 1 100); do
    new=$(worker_pid http)
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
restart_main
for i in $(seq 1 50); do grep -q "http_token must be set" "$LOG" && break; sleep 0.1; done
grep -q "ERROR:  troubleshooting.http_token must be set for the HTTP endpoint to listen on a non-loopback address" "$LOG"
ok $? "non-loopback address without a token: an error in the log"
is "$(get "$BASE$RT")" "000" "and no listener, not even on 127.0.0.1"
[ -n "$(worker_pid http)" ]
ok $? "the worker stays up (waiting for a reload)"

trap - EXIT
restore
is "$(worker_pid http)" "" "settings reset: no HTTP worker"
done_testing
