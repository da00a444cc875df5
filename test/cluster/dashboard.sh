#!/usr/bin/env bash
# The dashboard page (GET /) end to end: the test cluster is restarted with
# troubleshooting.http_port set (as in http.sh); curl checks the page (200,
# text/html, ETag/304, HEAD, size), then Debian's headless Chromium loads it
# from 127.0.0.1, runs its script and dumps the rendered DOM: the six KPIs
# must equal get_troubleshooting_realtime_metrics(), a top problem and an
# active session must be listed, and both charts must hold SVG bars; with
# http_token set the page reads the token from #token=... and still renders.
# Screenshots (laptop 1280x800, phone 390x844) go to $TS_WORK/dashboard.
# The cluster's settings are restored (and it is restarted) at the end.
. "$(dirname "$0")/tap.sh"

H=$TS_WORK/dashboard
fresh_dir "$H"
HP=$(ts_free_port 18180)
BASE="http://127.0.0.1:$HP"
TOKEN="dash-$RANDOM$RANDOM"

# Headless Chromium, as root, on loopback only, with a fresh profile each run.
chrome() {
    local prof
    prof=$(mktemp -d "$H/profile.XXXXXX")
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --no-proxy-server --user-data-dir="$prof" \
        --virtual-time-budget=5000 "$@" 2>>"$H/chromium.err"
}
# Puts the cluster back as test/run started it (also when the script stops early).
restore() { reset_main ts_dash_reader http_port http_role http_token; }
trap restore EXIT

P -c "CREATE ROLE ts_dash_reader NOLOGIN" >/dev/null
P -c "ALTER SYSTEM SET troubleshooting.http_port = $HP" \
  -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_dash_reader'" >/dev/null
restart_main
wait_status 60 200 "$BASE/"
ok $? "GET / answers 200 on 127.0.0.1:$HP"

# --- the page over curl ---
is "$(header Content-Type)" "text/html; charset=utf-8" "GET /: text/html; charset=utf-8"
cmp -s "$H/body" src/http/dashboard.html
ok $? "the body is src/http/dashboard.html byte for byte"
size=$(wc -c < "$H/body")
[ "$size" -gt 1000 ] && [ "$size" -lt 20480 ]
ok $? "the page is small ($size bytes < 20 KB)"
grep -q '<meta name="viewport"' "$H/body" && ! grep -Eqi '(src|href)="?(https?:)?//' "$H/body"
ok $? "viewport meta, no external resources"
etag=$(header ETag)
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]]
ok $? "strong ETag ($etag)"
is "$(get -H "If-None-Match: $etag" "$BASE/")" "304" "If-None-Match: 304"
is "$(get -I "$BASE/")" "200" "HEAD /: 200"
is "$(header Content-Type)" "text/html; charset=utf-8" "HEAD /: text/html"
raw_head "$HP" / | cut -f3,5 | tr '\t' ' ' > "$H/head"
is "$(cat "$H/head")" "$size 0" "HEAD /: Content-Length $size, no body"
is "$(get -X POST "$BASE/")" "405" "POST /: 405"

# --- known data ---
P -c "CREATE EXTENSION troubleshooting" >/dev/null
P -v sessions=300 -v days=30 -f bench/generate_data.sql >/dev/null
ok $? "sample data over 30 days loaded"
P -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_realtime_metrics(),
        get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz) TO ts_dash_reader" >/dev/null
P -c "UPDATE support_troubleshooting_sessions SET status = 'abandoned' WHERE status IN ('started', 'in_progress')" \
  -c "INSERT INTO support_troubleshooting_sessions
        (session_id, customer_name, detected_problem_id, detected_problem_title, status, started_at, resolved_at, escalated_at)
      VALUES ('dash-r1', 'Ann', 'dash-problem-x', 'Printer <b>offline</b>', 'resolved', now() - interval '40 minutes', now() - interval '10 minutes', NULL),
             ('dash-r2', 'Bob', 'dash-problem-x', 'Printer <b>offline</b>', 'resolved', now() - interval '50 minutes', now() - interval '20 minutes', NULL),
             ('dash-e1', 'Cy',  'dash-problem-x', 'Printer <b>offline</b>', 'escalated', now() - interval '30 minutes', NULL, now() - interval '5 minutes'),
             ('dash-a1', '<script>alert(1)</script>', 'dash-problem-x', 'Printer <b>offline</b>', 'in_progress', now() - interval '3 minutes', NULL, NULL),
             ('dash-a2', 'Dee', NULL, NULL, 'started', now() - interval '1 minute', NULL, NULL)" \
  -c "INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
      VALUES ('dash-r1', 5, 10, now() - interval '9 minutes'), ('dash-r2', 4, 8, now() - interval '19 minutes')" >/dev/null
ok $? "known sessions and feedback inserted"
is "$(P -c "SELECT get_troubleshooting_realtime_metrics() -> 'metrics' ->> 'active_sessions'")" "2" "SQL: 2 active sessions"

# The KPIs of the rendered DOM ($1) against SQL; prints the mismatches.
check_kpis() {
    P -c "SELECT get_troubleshooting_realtime_metrics() -> 'metrics'" > "$H/kpis.json"
    python3 - "$1" "$H/kpis.json" <<'PY'
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
want = json.load(open(sys.argv[2]))
shown = dict(re.findall(r'data-kpi="([a-z_0-9]+)"[^>]*>([^<]*)<', dom))
assert len(want) == 6 and set(shown) == set(want), (sorted(shown), sorted(want))
bad = [(k, shown[k], v) for k, v in want.items()
       if v is None or abs(float(shown[k]) - float(v)) > 1e-9]
assert not bad, bad
PY
}

# --- the rendered page ---
chrome --dump-dom "$BASE/" > "$H/dom.html"
grep -q 'data-kpi="active_sessions"' "$H/dom.html"
ok $? "Chromium rendered the page"
check_kpis "$H/dom.html"
ok $? "the six KPIs shown equal get_troubleshooting_realtime_metrics()"
grep -q '>dash-problem-x<' "$H/dom.html"
ok $? "the top problem's id is in the top problems table"
grep -q '>dash-a1<' "$H/dom.html" && grep -q '>dash-a2<' "$H/dom.html"
ok $? "the active sessions are in their table"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$H/dom.html" && grep -q 'Printer &lt;b&gt;offline&lt;/b&gt;' "$H/dom.html"
ok $? "data is shown as text (escaped), not markup"
bars() { python3 - "$H/dom.html" "$1" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<svg id="%s".*?</svg>' % sys.argv[2], dom, re.S)
print(len(re.findall(r'<rect[^>]*class="bar tot"', m.group(0))) if m else -1)
PY
}
n=$(bars chart-hour)
[ "$n" -ge 24 ] && [ "$n" -le 26 ]
ok $? "the 24-hour chart has a bar per hour ($n)"
n=$(bars chart-day)
[ "$n" -ge 29 ] && [ "$n" -le 31 ]
ok $? "the 30-day chart has a bar per day ($n)"
python3 - "$H/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<svg id="chart-day".*?</svg>', dom, re.S)
assert any(float(h) > 0 for h in re.findall(r'<rect[^>]*height="([0-9.]+)"[^>]*class="bar tot"', m.group(0)))
PY
ok $? "and its bars have heights"
grep -q 'id="status"[^>]*>updated' "$H/dom.html"
ok $? "the status line says it updated (no fetch error)"

# --- screenshots: laptop and phone ---
chrome --hide-scrollbars --window-size=1280,800 --screenshot="$H/dashboard-laptop.png" "$BASE/" >/dev/null
[ -s "$H/dashboard-laptop.png" ]
ok $? "laptop screenshot (1280x800) in $H/dashboard-laptop.png"
chrome --hide-scrollbars --window-size=390,844 --screenshot="$H/dashboard-phone.png" "$BASE/" >/dev/null
[ -s "$H/dashboard-phone.png" ]
ok $? "phone screenshot (390x844) in $H/dashboard-phone.png"
# TS_UPDATE_SCREENSHOT=1 refreshes the README's screenshot from this run
if [ -n "${TS_UPDATE_SCREENSHOT:-}" ] && [ "$(wc -c < "$H/dashboard-laptop.png")" -lt 307200 ]; then
    mkdir -p test/screenshots && cp "$H/dashboard-laptop.png" test/screenshots/dashboard.png
fi

# --- with a token: the page needs it too, and its fetch calls send it ---
conf_set http_token "$TOKEN"
wait_status 60 401 "$BASE/"
ok $? "token set: GET / without it is 401"
is "$(get -H "Authorization: Bearer $TOKEN" "$BASE/")" "200" "GET / with the bearer token: 200"
# A browser cannot send a header with the page request itself: a loopback
# proxy adds it for "/" only and passes on what the page's fetch calls send.
python3 - "$HP" "$TOKEN" "$H/dom-token.html" <<'PY' &
import http.server, sys, urllib.request
port, token = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, self.path))
        if self.path == "/":
            req.add_header("Authorization", "Bearer " + token)
        else:
            req.add_header("Authorization", self.headers.get("Authorization", ""))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            r = opener.open(req, timeout=10); code, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read()
        self.send_response(code); self.send_header("Content-Type", "text/html" if self.path == "/" else "application/json")
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[3] + ".port", "w").write(str(s.server_address[1]))
s.serve_forever()
PY
proxy=$!
for i in $(seq 1 300); do [ -s "$H/dom-token.html.port" ] && break; sleep 0.1; done
chrome --dump-dom "http://127.0.0.1:$(cat "$H/dom-token.html.port")/#token=$TOKEN" > "$H/dom-token.html"
kill "$proxy"
check_kpis "$H/dom-token.html"
ok $? "page loaded through it with #token=...: its fetch calls send the bearer token, KPIs shown"

trap - EXIT
restore
done_testing
