#!/usr/bin/env bash
# Self-test of test/capture_server.py: starts it on a free loopback port,
# exercises every mode with curl, checks the JSON-lines record, prints TAP.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || echo "# $2"; }
# check DESC CMD...: runs CMD, reports ok/not ok on its exit status.
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# expect DESC GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2], want [$3]"; fi; }

record=$tmp/requests.jsonl
python3 "$here/capture_server.py" --port 0 --record "$record" --portfile "$tmp/port" \
    >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!

for _ in $(seq 50); do
    [ -s "$tmp/port" ] && break
    sleep 0.1
done
if [ ! -s "$tmp/port" ]; then
    notok "server wrote its portfile within 5 s"
    echo "1..$n"
    exit 1
fi
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
ok "server listening on port $port"

# curl that never goes through a proxy; never fails the script by itself.
c() { curl --noproxy '*' -sS "$@"; }
# code URL [curl args]: prints the HTTP status code, body to $tmp/body,
# headers to $tmp/hdr.
code() { local u=$1; shift; c -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' "$@" "$u" || true; }
hdr() { grep -i "^$1:" "$tmp/hdr" | head -1 | cut -d: -f2- | tr -d ' \r'; }

expected=0 # number of requests the server should have recorded

expect "health" "$(c "$base/_control/health")" '{"ok": true}'

expect "default mode: 200" "$(code "$base/hello?x=1")" 200
expect "default mode: body ok" "$(cat "$tmp/body")" ok
expected=$((expected + 1))

expect "slack: 200" "$(code "$base/_mode/slack/services/T/B/X" -H 'Content-Type: application/json' -d '{"text":"hi"}')" 200
expect "slack: body ok" "$(cat "$tmp/body")" ok
expected=$((expected + 1))

expect "teams: 202" "$(code "$base/_mode/teams/webhook" -d '{"type":"message"}')" 202
expect "teams: empty body" "$(wc -c <"$tmp/body")" 0
expected=$((expected + 1))

expect "discord without wait: 204" "$(code "$base/_mode/discord/api/webhooks/1/tok" -d '{}')" 204
expected=$((expected + 1))
expect "discord wait=true: 200" "$(code "$base/_mode/discord/api/webhooks/1/tok?wait=true" -d '{}')" 200
expected=$((expected + 1))
check "discord wait=true: JSON id is 18 digits, channel_id 1" python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if re.fullmatch(r"[1-9]\d{17}", d["id"]) and d["channel_id"] == "1" else 1)' "$tmp/body"

expect "webhook: 204" "$(code "$base/_mode/webhook/hook" -d '{}')" 204
expected=$((expected + 1))

expect "status-410: 410" "$(code "$base/_mode/status-410/x" -d '{}')" 410
expect "status-410: body" "$(cat "$tmp/body")" '{"error": "status 410"}'
expected=$((expected + 1))

expect "retry-after-7: 429" "$(code "$base/_mode/retry-after-7/x" -d '{}')" 429
expect "retry-after-7: Retry-After header" "$(hdr Retry-After)" 7
expected=$((expected + 1))

expect "discord-429: 429" "$(code "$base/_mode/discord-429/api/webhooks/1/t" -d '{}')" 429
expect "discord-429: Retry-After 2" "$(hdr Retry-After)" 2
check "discord-429: retry_after 1.5 in body" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["retry_after"] == 1.5 and d["global"] is False else 1)' "$tmp/body"
expected=$((expected + 1))

expect "teams-legacy-429: 200 with error text" \
    "$(code "$base/_mode/teams-legacy-429/x" -d '{}') $(cat "$tmp/body")" \
    "200 Microsoft Teams endpoint returned HTTP error 429"
expected=$((expected + 1))

codes=
for _ in 1 2 3; do codes="$codes $(code "$base/_mode/flaky-2/f" -d '{}')"; done
expect "flaky-2: 503, 503, 200" "$codes" " 503 503 200"
expect "flaky-2: other path has its own counter" "$(code "$base/_mode/flaky-2/g" -d '{}')" 503
expected=$((expected + 4))

t=$(c -o /dev/null -w '%{http_code} %{time_total}' "$base/_mode/slow-200/s" || true)
check "slow-200: 200 after >= 0.2 s ($t)" awk -v t="$t" 'BEGIN { split(t, a, " "); exit !(a[1] == 200 && a[2] >= 0.2) }'
expected=$((expected + 1))

rc=0
c -o /dev/null "$base/_mode/reset/r" -d '{}' 2>"$tmp/curl.err" || rc=$?
expect "reset: curl exit 56 ($(tr -d '\n' <"$tmp/curl.err"))" "$rc" 56
expected=$((expected + 1))

rc=0
c -o /dev/null -m 1 "$base/_mode/hang/h" -d '{}' 2>/dev/null || rc=$?
expect "hang: curl -m 1 exit 28" "$rc" 28
expected=$((expected + 1))

head -c 3000 /dev/urandom | base64 >"$tmp/chunked.txt"
printf 'caf\xc3\xa9 \xff\n' >>"$tmp/chunked.txt"
expect "chunked POST: 204" \
    "$(code "$base/_mode/webhook/chunked" -H 'Transfer-Encoding: chunked' -H 'Content-Type: text/plain' --data-binary @"$tmp/chunked.txt")" 204
expected=$((expected + 1))

c -v -o /dev/null -o /dev/null "$base/ka/1" "$base/_mode/slack/ka/2" >/dev/null 2>"$tmp/ka.err" || true
check "keep-alive: second URL reuses the connection" \
    grep -Eq 'Re-using existing connection|Reusing existing connection' "$tmp/ka.err"
expected=$((expected + 2))

expect "HEAD: 200 with Content-Length 2" "$(c -I -o /dev/null -D "$tmp/hdr" -w '%{http_code}' "$base/head"; hdr Content-Length)" "2002"
expected=$((expected + 1))

# A client that goes away mid-body must not hurt the server, nor be recorded.
python3 - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /partial HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
s.close()
EOF
python3 - "$port" <<'EOF'
import socket, sys
for head in (b"GET /half-a-request-li", b"GET /half-headers HTTP/1.1\r\nHost: x\r\nX-A"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(head)
    s.close()
EOF
expect "client disconnecting mid-request: server still healthy" "$(c "$base/_control/health")" '{"ok": true}'

expect "unknown mode: 400" "$(code "$base/_mode/nope/x")" 400
expected=$((expected + 1))

expect "control count = $expected" "$(c "$base/_control/count")" "{\"count\": $expected}"
expect "record has $expected lines" "$(wc -l <"$record")" "$expected"

check "record lines carry every field, with the right values" python3 - "$record" "$tmp/chunked.txt" <<'EOF'
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
keys = {"time", "method", "path", "query", "headers", "body", "body_b64", "mode", "status"}
errors = []
for r in recs:
    if set(r) != keys:
        errors.append("keys %s" % sorted(r))
    if not isinstance(r["time"], float):
        errors.append("time %r" % r["time"])
    if base64.b64decode(r["body_b64"]).decode("utf-8", "replace") != r["body"]:
        errors.append("body/body_b64 mismatch at %s" % r["path"])
    if any(k != k.lower() for k in r["headers"]):
        errors.append("header case %s" % list(r["headers"]))
by = {}
for r in recs:
    by.setdefault((r["mode"], r["path"]), []).append(r)
def one(mode, path):
    l = by.get((mode, path), [])
    if len(l) != 1:
        errors.append("%s %s recorded %d times" % (mode, path, len(l)))
        return {"status": None, "query": None, "method": None, "headers": {}, "body": None, "body_b64": ""}
    return l[0]
r = one("ok", "/hello")
if (r["method"], r["query"], r["status"]) != ("GET", "x=1", 200): errors.append("hello %r" % r)
r = one("slack", "/services/T/B/X")
if (r["method"], r["body"], r["status"]) != ("POST", '{"text":"hi"}', 200): errors.append("slack %r" % r)
if r["headers"].get("content-type") != "application/json": errors.append("slack headers %r" % r["headers"])
if one("teams", "/webhook")["status"] != 202: errors.append("teams")
d = by.get(("discord", "/api/webhooks/1/tok"), [])
if sorted((x["query"], x["status"]) for x in d) != [("", 204), ("wait=true", 200)]: errors.append("discord %r" % d)
if one("status-410", "/x")["status"] != 410: errors.append("status-410")
if one("retry-after-7", "/x")["status"] != 429: errors.append("retry-after-7")
if [x["status"] for x in by.get(("flaky-2", "/f"), [])] != [503, 503, 200]: errors.append("flaky")
if one("reset", "/r")["status"] is not None: errors.append("reset status")
if one("hang", "/h")["status"] is not None: errors.append("hang status")
r = one("webhook", "/chunked")
raw = open(sys.argv[2], "rb").read()
if base64.b64decode(r["body_b64"]) != raw: errors.append("chunked body differs")
if r["headers"].get("transfer-encoding") != "chunked": errors.append("chunked headers %r" % r["headers"])
if "\ufffd" not in (r["body"] or ""): errors.append("invalid UTF-8 not replaced")
if one("ok", "/head")["method"] != "HEAD": errors.append("head")
if any(x["path"].startswith(("/partial", "/half", "/_control")) for x in recs):
    errors.append("control or partial request recorded")
for e in errors:
    print("# " + e)
sys.exit(1 if errors else 0)
EOF

expect "control reset" "$(c -X POST "$base/_control/reset")" '{"ok": true}'
expect "after reset: count 0" "$(c "$base/_control/count")" '{"count": 0}'
expect "after reset: record file empty" "$(wc -c <"$record")" 0
expect "after reset: flaky counter restarted" "$(code "$base/_mode/flaky-2/f")" 503
expect "control mode: set default to teams" "$(c -X POST "$base/_control/mode?mode=teams")" '{"ok": true, "mode": "teams"}'
expect "control mode: unprefixed request gets teams' 202" "$(code "$base/plain")" 202
expect "after reset: count 2, record 2 lines" "$(c "$base/_control/count") $(wc -l <"$record")" '{"count": 2} 2'

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
expect "SIGTERM: server exits 0 (despite a hung request)" "$rc" 0
check "server wrote nothing unexpected to stderr" \
    python3 -c 'import sys; bad=[l for l in open(sys.argv[1]) if "Traceback" in l]; print("".join("# "+l for l in bad), end=""); sys.exit(1 if bad else 0)' "$tmp/server.err"

expect "server wrote nothing to stdout" "$(wc -c <"$tmp/server.out")" 0

echo "1..$n"
[ "$failed" -eq 0 ]
