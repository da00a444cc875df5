#!/usr/bin/env bash
# Self-test of test/capture_server.py: starts it on a free loopback port,
# exercises every mode with curl, checks the JSON-lines record, prints TAP.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/selftest_lib.sh"

start_capture_server
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

# ---- email and SMS provider modes -------------------------------------------
# json_is DESC PYTHON-EXPR: evaluates EXPR with d = the JSON of $tmp/body
# (None if not JSON), b = its raw text, h = the response headers (lower-case
# names).
json_is() {
    local d=$1; shift
    check "$d" python3 - "$tmp/body" "$tmp/hdr" "$1" <<'EOF'
import json, re, sys
b = open(sys.argv[1], encoding="utf-8").read()
h = {}
for line in open(sys.argv[2], encoding="latin-1").read().splitlines()[1:]:
    if ":" in line:
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
try:
    d = json.loads(b)
except ValueError:
    d = None
try:
    ok = eval(sys.argv[3])
except Exception as e:
    ok = False
    print("# %r" % e)
if not ok:
    print("# body %r headers %r" % (b, h))
sys.exit(0 if ok else 1)
EOF
}
# exact_body DESC WANT
exact_body() { expect "$1" "$(cat "$tmp/body")" "$2"; }

expect "sendgrid: 202" "$(code "$base/_mode/sendgrid/v3/mail/send" -H 'Authorization: Bearer SG.key' -H 'Content-Type: application/json' -d '{"personalizations":[{"to":[{"email":"a@example.com"}]}]}')" 202
expect "sendgrid: empty body" "$(wc -c <"$tmp/body")" 0
json_is "sendgrid: X-Message-Id is a 22-character token, Content-Length 0" \
    're.fullmatch(r"[A-Za-z0-9_-]{22}", h.get("x-message-id", "")) is not None and h.get("content-length") == "0"'
expected=$((expected + 1))

expect "sendgrid-400: 400" "$(code "$base/_mode/sendgrid-400/v3/mail/send" -d '{}')" 400
exact_body "sendgrid-400: body" '{"errors":[{"message":"The from email does not contain a valid address.","field":"from.email","help":null}]}'
expect "sendgrid-400: JSON content type" "$(hdr Content-Type)" application/json
expected=$((expected + 1))

expect "mailgun: 200" "$(code "$base/_mode/mailgun/v3/example.com/messages" --user api:key-1 -F from=a@example.com -F to=b@example.com -F subject=Hi -F text=Hello)" 200
json_is "mailgun: id <2026...@example.mailgun.org> with angle brackets, message Queued" \
    'set(d) == {"id", "message"} and d["message"] == "Queued. Thank you." and re.fullmatch(r"<20\d{12}\.\d{5}\.[0-9a-f]{8}@example\.mailgun\.org>", d["id"]) is not None and h["content-type"] == "application/json"'
expected=$((expected + 1))

expect "mailgun-420: 420" "$(code "$base/_mode/mailgun-420/v3/example.com/messages" -d 'to=b@example.com')" 420
exact_body "mailgun-420: body" '{"message":"Domain example.com is not allowed to send: recipient limit exceeded, try again after Wed, 25 Nov 2026 18:00:00 UTC"}'
expected=$((expected + 1))

expect "ses: 200" "$(code "$base/_mode/ses/v2/email/outbound-emails" -H 'Content-Type: application/json' -d '{"Content":{}}')" 200
json_is "ses: MessageId 0100018c...-000000, x-amzn-RequestId UUID" \
    'list(d) == ["MessageId"] and re.fullmatch(r"0100018c[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-000000", d["MessageId"]) is not None and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", h.get("x-amzn-requestid", "")) is not None and h["content-type"] == "application/json"'
expected=$((expected + 1))

expect "ses-throttle: 400" "$(code "$base/_mode/ses-throttle/v2/email/outbound-emails" -d '{}')" 400
exact_body "ses-throttle: body" '{"message":"Rate exceeded"}'
json_is "ses-throttle: x-amzn-ErrorType ThrottlingException:..., x-amzn-RequestId" \
    'h.get("x-amzn-errortype") == "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/" and len(h.get("x-amzn-requestid", "")) == 36'
expected=$((expected + 1))

expect "ses-rejected: 400" "$(code "$base/_mode/ses-rejected/v2/email/outbound-emails" -d '{}')" 400
exact_body "ses-rejected: body" '{"message":"Email address is not verified."}'
expect "ses-rejected: x-amzn-ErrorType MessageRejected" "$(hdr x-amzn-ErrorType)" MessageRejected
expected=$((expected + 1))

expect "twilio: 201" "$(code "$base/_mode/twilio/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json" --user AC0123456789abcdef0123456789abcdef:tok --data-urlencode 'To=+15555550100' --data-urlencode 'From=+15555550199' --data-urlencode 'Body=Hello Zoë')" 201
json_is "twilio: Message resource (sid SM+32 hex, queued, 1 segment, echoed To/From/Body/account)" \
    're.fullmatch(r"SM[0-9a-f]{32}", d["sid"]) is not None and d["status"] == "queued" and d["num_segments"] == "1" and d["to"] == "+15555550100" and d["from"] == "+15555550199" and d["body"] == "Hello Zo\u00eb" and d["account_sid"] == "AC0123456789abcdef0123456789abcdef" and d["uri"] == "/2010-04-01/Accounts/%s/Messages/%s.json" % (d["account_sid"], d["sid"]) and d["error_code"] is None and d["direction"] == "outbound-api" and d["api_version"] == "2010-04-01" and h["content-type"] == "application/json"'
expected=$((expected + 1))
expect "twilio with MessagingServiceSid: 201" "$(code "$base/_mode/twilio/2010-04-01/Accounts/AC1/Messages.json" -d 'To=%2B15555550100&MessagingServiceSid=MG1&Body=x')" 201
json_is "twilio with MessagingServiceSid: status accepted" \
    'd["status"] == "accepted" and d["messaging_service_sid"] == "MG1" and d["from"] is None'
expected=$((expected + 1))

expect "twilio-400: 400" "$(code "$base/_mode/twilio-400/2010-04-01/Accounts/AC1/Messages.json" -d 'To=%2B1555')" 400
exact_body "twilio-400: body" '{"code":21211,"message":"The '"'"'To'"'"' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}'
expected=$((expected + 1))

expect "twilio-429: 429" "$(code "$base/_mode/twilio-429/2010-04-01/Accounts/AC1/Messages.json" -d 'To=%2B1555')" 429
exact_body "twilio-429: body" '{"code":20429,"message":"Too Many Requests","status":429}'
expected=$((expected + 1))

expect "sns: 200" "$(code "$base/_mode/sns/" -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' -d 'Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=hi')" 200
json_is "sns: PublishResponse XML with UUID MessageId and RequestId, text/xml" \
    're.fullmatch(r"<PublishResponse xmlns=\"http://sns\.amazonaws\.com/doc/2010-03-31/\"><PublishResult><MessageId>[0-9a-f-]{36}</MessageId></PublishResult><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata></PublishResponse>", b) is not None and h["content-type"] == "text/xml"'
expected=$((expected + 1))

expect "sns-throttle: 400" "$(code "$base/_mode/sns-throttle/" -d 'Action=Publish')" 400
json_is "sns-throttle: ErrorResponse Sender/Throttling/Rate exceeded, text/xml" \
    're.fullmatch(r"<ErrorResponse xmlns=\"http://sns\.amazonaws\.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>([0-9a-f-]{36})</RequestId></ErrorResponse>", b) is not None and h["content-type"] == "text/xml" and h["x-amzn-requestid"] in b'
expected=$((expected + 1))

# AWS-style request headers and a binary body are recorded exactly
printf '\x00\x01\xfe\xff{"a":1}\r\n' >"$tmp/binary.bin"
expect "ses with binary body and AWS headers: 200" "$(code "$base/_mode/ses/v2/email/outbound-emails?x=1" \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AK/20261125/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=00' \
    -H 'X-Amz-Date: 20261125T165000Z' -H 'X-Amz-Security-Token: tok/en+=' -H 'Content-Type: application/octet-stream' \
    --data-binary @"$tmp/binary.bin")" 200
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

# ---- hostile or broken providers ---------------------------------------------
for m in "huge 99999999999999" "negative -30" "fraction 0.5" "garbage soon, maybe"; do
    read -r name want <<<"$m"
    expect "retry-after-$name: 429 with Retry-After: $want" \
        "$(code "$base/_mode/retry-after-$name/h" -d '{}') $(grep -i '^retry-after:' "$tmp/hdr" | cut -d: -f2- | sed 's/^ //' | tr -d '\r')" "429 $want"
    expected=$((expected + 1))
done
expect "retry-after-date-999999999999: 429" "$(code "$base/_mode/retry-after-date-999999999999/h" -d '{}')" 429
expect "... Retry-After is the last HTTP-date there is" \
    "$(grep -i '^retry-after:' "$tmp/hdr" | cut -d: -f2- | sed 's/^ //' | tr -d '\r')" "Fri, 31 Dec 9999 23:59:59 GMT"
expected=$((expected + 1))
code "$base/_mode/retry-after-date-120/h" -d '{}' >/dev/null
check "retry-after-date-120: an HTTP-date 119-121 s from now" python3 - "$(grep -i '^retry-after:' "$tmp/hdr" | cut -d: -f2- | tr -d '\r')" <<'EOF'
import sys, time
from email.utils import parsedate_to_datetime
d = parsedate_to_datetime(sys.argv[1].strip()).timestamp() - time.time()
sys.exit(0 if 118 <= d <= 121 and sys.argv[1].strip().endswith(" GMT") else 1)
EOF
expected=$((expected + 1))
for m in "huge 1e300" "negative -5" "inf Infinity"; do
    read -r name want <<<"$m"
    expect "discord-429-$name: 429, no Retry-After, body retry_after $want" \
        "$(code "$base/_mode/discord-429-$name/api/webhooks/1/t" -d '{}') $(grep -ci '^retry-after:' "$tmp/hdr") $(cat "$tmp/body")" \
        "429 0 {\"message\": \"You are being rate limited.\", \"retry_after\": $want, \"global\": false}"
    expected=$((expected + 1))
done
check "huge-header: 200 ok with X-Filler: 1 MB of a (read raw: curl refuses such headers)" python3 - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /_mode/huge-header/h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
data = b""
while not data.endswith(b"\r\n\r\nok"):
    more = s.recv(65536)
    if not more:
        break
    data += more
s.close()
head, _, body = data.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
filler = [l for l in lines if l.lower().startswith(b"x-filler: ")]
ok = lines[0] == b"HTTP/1.1 200 OK" and body == b"ok" and len(filler) == 1 and filler[0][10:] == b"a" * 1048576
sys.exit(0 if ok else 1)
EOF
expected=$((expected + 1))
rc=0
c "$base/_mode/endless/e" -d '{}' 2>/dev/null | head -c 3000000 >"$tmp/endless" || true
expect "endless: more than 2 MB of x and still going" "$(tr -d x <"$tmp/endless" | wc -c) $(wc -c <"$tmp/endless")" "0 3000000"
expected=$((expected + 1))
expect "endless: server still healthy" "$(c "$base/_control/health")" '{"ok": true}'
rc=0
c -o "$tmp/body" "$base/_mode/reset-mid/m" -d '{}' 2>"$tmp/curl.err" || rc=$?
expect "reset-mid: curl exit 56 after 10 bytes of body ($(tr -d '\n' <"$tmp/curl.err"))" "$rc $(cat "$tmp/body" 2>/dev/null)" "56 0123456789"
expected=$((expected + 1))
check "drip: one byte per write: H, then T, then T" python3 - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /_mode/drip/d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
got = [s.recv(100) for _ in range(3)]
s.close()
print("# %r" % got)
sys.exit(0 if got == [b"H", b"T", b"T"] else 1)
EOF
expected=$((expected + 1))
expect "redirect-loopback: 302 to this server's /_mode/ok/followed-redirect" \
    "$(code "$base/_mode/redirect-loopback/r" -d '{}') $(hdr Location)" \
    "302 $base/_mode/ok/followed-redirect"
expected=$((expected + 1))
expect "invalid-utf8-200: 200 application/json" "$(code "$base/_mode/invalid-utf8-200/u" -d '{}') $(hdr Content-Type)" "200 application/json"
check "invalid-utf8-200: the body is JSON-shaped but not UTF-8" python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
try:
    b.decode("utf-8"); sys.exit(1)
except UnicodeDecodeError:
    sys.exit(0 if b.startswith(b"{\"id\":\"12\xff\xfe3\"") else 1)' "$tmp/body"
expected=$((expected + 1))
expect "not-json-502: 502 application/json with an HTML body" \
    "$(code "$base/_mode/not-json-502/n" -d '{}') $(hdr Content-Type) $(tr -d '\001\177' <"$tmp/body")" \
    "502 application/json <html><body>Bad Gateway</body></html>"
expected=$((expected + 1))

expect "unknown mode: 400" "$(code "$base/_mode/nope/x")" 400
expected=$((expected + 1))

expect "control count = $expected" "$(c "$base/_control/count")" "{\"count\": $expected}"
expect "record has $expected lines" "$(wc -l <"$record")" "$expected"

check "record lines carry every field, with the right values" python3 - "$record" "$tmp/chunked.txt" "$port" <<'EOF'
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
keys = {"time", "method", "path", "raw_path", "query", "headers", "body", "body_b64", "mode", "status"}
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
    prefixed = r["path"] not in ("/hello", "/head", "/ka/1")
    want_raw = "/_mode/%s%s" % (r["mode"], r["path"]) if prefixed else r["path"]
    if r["raw_path"] != want_raw:
        errors.append("raw_path %r, want %r" % (r["raw_path"], want_raw))
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
r = one("sendgrid", "/v3/mail/send")
if (r["status"], r["headers"].get("authorization"), r["headers"].get("content-type")) != (202, "Bearer SG.key", "application/json"):
    errors.append("sendgrid %r" % r)
r = one("mailgun", "/v3/example.com/messages")
if r["status"] != 200 or r["headers"].get("authorization") != "Basic " + base64.b64encode(b"api:key-1").decode() \
        or not r["headers"].get("content-type", "").startswith("multipart/form-data; boundary=") \
        or 'name="subject"' not in r["body"]:
    errors.append("mailgun %r" % r)
r = one("twilio", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json")
if r["status"] != 201 or r["body"] != "To=%2B15555550100&From=%2B15555550199&Body=Hello+Zo%C3%AB":
    errors.append("twilio %r" % r)
for mode, path, status in (("sendgrid-400", "/v3/mail/send", 400), ("mailgun-420", "/v3/example.com/messages", 420),
                           ("ses-throttle", "/v2/email/outbound-emails", 400), ("ses-rejected", "/v2/email/outbound-emails", 400),
                           ("twilio-400", "/2010-04-01/Accounts/AC1/Messages.json", 400),
                           ("twilio-429", "/2010-04-01/Accounts/AC1/Messages.json", 429),
                           ("sns", "/", 200), ("sns-throttle", "/", 400)):
    if one(mode, path)["status"] != status: errors.append("%s status" % mode)
if one("sns", "/")["body"] != "Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=hi": errors.append("sns body")
ses = by.get(("ses", "/v2/email/outbound-emails"), [])
if len(ses) != 2: errors.append("ses recorded %d times" % len(ses))
else:
    r = ses[1]
    h = r["headers"]
    if (r["query"], r["raw_path"]) != ("x=1", "/_mode/ses/v2/email/outbound-emails"): errors.append("ses query/raw_path %r" % r)
    if base64.b64decode(r["body_b64"]) != b'\x00\x01\xfe\xff{"a":1}\r\n': errors.append("binary body %r" % r["body_b64"])
    if h.get("authorization") != "AWS4-HMAC-SHA256 Credential=AK/20261125/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=00" \
            or h.get("x-amz-date") != "20261125T165000Z" or h.get("x-amz-security-token") != "tok/en+=" \
            or h.get("content-type") != "application/octet-stream" or h.get("host") != "127.0.0.1:" + sys.argv[3] \
            or h.get("content-length") != "13":
        errors.append("ses headers %r" % h)
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
