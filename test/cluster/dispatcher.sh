#!/usr/bin/env bash
# The dispatcher end to end, against a loopback capture server that answers
# like each provider: exact requests received, row outcomes, retries and
# backoff, Retry-After, permanent failures, 410, address policy, rollback,
# priority order, a hanging endpoint, and a kill -9 in the middle of a drain.
# Connections go to the loopback capture server only: the refusal of any
# other address is asked of troubleshooting_destination_policy(), never tried.
# Every wait polls the event it waits for (with a generous bound).
. "$(dirname "$0")/tap.sh"

start_capture_server "$TS_WORK/capture"
ok $? "capture server listens on 127.0.0.1:$HELPER_PORT"

conf_set allow_private_destinations on retry_base_delay 100ms request_timeout 2s slack_min_interval 0
# (the postmaster has reloaded and signalled its children, the dispatcher
# too, once a new session shows the setting)
wait_for "SHOW troubleshooting.request_timeout" 2s 60
# the dispatcher starts with the extension, forked with these settings
P -c "CREATE EXTENSION troubleshooting" >/dev/null

# Enqueues a slack-shaped notification to path $1 of the capture server; prints its id.
enqueue() {
    P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{\"session_id\": \"d\"}',
          '${2:-normal}', jsonb_build_object('webhook_url', '$URL$1'))"
}
# Enqueues, in one transaction, a notification on channel $1 (recipient $2)
# to path $3 of the capture server with max_attempts $4; $5 = more metadata
# (jsonb_build_object arguments after webhook_url). Prints its id.
enqueue_capped() {
    P -c "BEGIN; SELECT send_troubleshooting_notification('$1', '$2', 'session_started', '{}', 'normal',
          jsonb_build_object('webhook_url', '$URL$3'${5:+, $5}));
          UPDATE support_troubleshooting_notifications SET max_attempts = $4 WHERE metadata ->> 'webhook_url' = '$URL$3'; COMMIT;" | head -1
}
# Prints "ok" when the capture server got exactly $2 requests whose record
# contains $1, each at least $3 s after the one before; else their times.
spacing() {
    python3 -c "
import json, sys
t = [json.loads(l)['time'] for l in open('$CAP/requests.jsonl') if sys.argv[1] in l]
print('ok' if len(t) == int(sys.argv[2]) and min(b - a for a, b in zip(t, t[1:])) >= float(sys.argv[3]) else t)" "$1" "$2" "$3"
}
# Reloads the configuration, waits until a new session shows setting $1 as
# $2, then until one probe notification enqueued after that is final: the
# dispatcher claims in a loop that first applies a pending reload, so the
# probe's outcome being recorded means every later row sees the new settings.
reload_sync() {
    local probe
    P -c "SELECT pg_reload_conf()" >/dev/null
    wait_for "SHOW $1" "$2" 60
    probe=$(enqueue "/_mode/slack/sync/$1/$2/$RANDOM$RANDOM")
    final_status "$probe" >/dev/null
}
# Requests the capture server recorded for a path (python filter on the JSONL).
requests() {
    python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$CAP/requests.jsonl')]
print(sum(1 for r in rows if r['path'] == sys.argv[1]))" "$1"
}
# Requests recorded so far whose path contains $1.
requests_like() {
    python3 -c "
import json, sys
print(sum(1 for l in open('$CAP/requests.jsonl') if sys.argv[1] in json.loads(l)['path']))" "$1"
}
# Succeeds once a request whose path contains $1 has been recorded.
has_requests() { [ "$(requests_like "$1")" -gt 0 ]; }
# Waits up to 60 s until every notification to a URL containing $1 is
# sent; prints how many are not (the last count read).
unsent() {
    local left i
    for i in $(seq 1 300); do
        left=$(P -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%$1%' AND status <> 'sent'" 2>/dev/null)
        [ "$left" = "0" ] && break
        sleep 0.2
    done
    echo "$left"
}

# --- each channel's request as received ---
id=$(enqueue "/_mode/slack/services/T1/B1/tok")
is "$(final_status "$id")" "sent" "slack: sent"
python3 - "$CAP/requests.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '/services/T1/B1/tok' in l][-1]
b = json.loads(r["body"])
assert r["method"] == "POST" and r["headers"]["content-type"] == "application/json", r
assert b == {"text": "New troubleshooting session d for a customer: "}, b
assert r["headers"]["user-agent"].startswith("troubleshooting-postgres/"), r
PY
ok $? "slack: POST application/json {\"text\": ...} received"
is "$(P -c "SELECT sent_at IS NOT NULL AND attempts = 1 AND last_error IS NULL FROM support_troubleshooting_notifications WHERE id = $id")" \
   "t" "slack: sent_at set, one attempt"
is "$(P -c "SELECT provider_message_id = idempotency_key FROM support_troubleshooting_notifications WHERE id = $id")" \
   "t" "slack returns no id: the idempotency key stands in"

id=$(P -c "SELECT send_troubleshooting_notification('teams', 'ops', 'session_escalated', '{\"session_id\": \"d\", \"customer_name\": \"Zoë\"}',
      'high', jsonb_build_object('webhook_url', '$URL/_mode/teams/workflows/1?sig=abc'))")
is "$(final_status "$id")" "sent" "teams: sent"
python3 - "$CAP/requests.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '/workflows/1' in l][-1]
b = json.loads(r["body"])
assert r["query"] == "sig=abc", r
att = b["attachments"][0]
assert b["type"] == "message" and att["contentType"] == "application/vnd.microsoft.card.adaptive", b
assert att["content"]["type"] == "AdaptiveCard" and "Zoë" in att["content"]["body"][1]["text"], b
PY
ok $? "teams: Adaptive Card message with the query string kept"

id=$(P -c "SELECT send_troubleshooting_notification('discord', 'ops', 'session_started', '{}',
      'normal', jsonb_build_object('webhook_url', '$URL/_mode/discord/api/webhooks/9/tok'))")
is "$(final_status "$id")" "sent" "discord: sent"
is "$(P -c "SELECT provider_message_id ~ '^[0-9]{18}$' FROM support_troubleshooting_notifications WHERE id = $id")" \
   "t" "discord: the message id from ?wait=true recorded"
python3 - "$CAP/requests.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '/api/webhooks/9/tok' in l][-1]
b = json.loads(r["body"])
assert r["query"] == "wait=true" and b["allowed_mentions"] == {"parse": []} and "content" in b, r
assert r["headers"]["user-agent"].startswith("DiscordBot ("), r
PY
ok $? "discord: content, no pings, DiscordBot user agent"

# webhook subscription event, signature checked with Python's hmac
P -c "INSERT INTO support_webhooks (id, url, events) VALUES (1, '$URL/_mode/webhook/hooks/crm', ARRAY['session.started'])" >/dev/null
P -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_name) VALUES ('wh-1', 'Ana')" >/dev/null
id=$(P -c "SELECT id FROM support_troubleshooting_notifications WHERE channel = 'webhook' ORDER BY id DESC LIMIT 1")
is "$(final_status "$id")" "sent" "webhook: session.started sent"
secret=$(P -c "SELECT secret FROM support_webhooks WHERE id = 1")
key=$(P -c "SELECT idempotency_key FROM support_troubleshooting_notifications WHERE id = $id")
python3 - "$CAP/requests.jsonl" "$secret" "$key" <<'PY'
import base64, hashlib, hmac, json, sys, time
r = [json.loads(l) for l in open(sys.argv[1]) if '/hooks/crm' in l][-1]
h = r["headers"]
key = base64.b64decode(sys.argv[2][len("whsec_"):])
body = base64.b64decode(r["body_b64"])
want = "v1," + base64.b64encode(hmac.new(key, h["webhook-id"].encode() + b"." + h["webhook-timestamp"].encode() + b"." + body, hashlib.sha256).digest()).decode()
assert h["webhook-signature"] == want, (h, want)
assert h["webhook-id"] == sys.argv[3] and abs(int(h["webhook-timestamp"]) - time.time()) < 60, h
assert json.loads(body)["type"] == "session.started"
PY
ok $? "webhook: Standard Webhooks signature verifies, webhook-id is the idempotency key"

# --- retries, backoff, permanent failures ---
id=$(enqueue "/_mode/flaky-2/retry/a")
is "$(final_status "$id")" "sent" "503 twice, then sent"
is "$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "3" "three attempts"
is "$(requests /retry/a)" "3" "three requests received"

id=$(enqueue "/_mode/status-400/perm/a")
is "$(final_status "$id")" "failed" "400 fails at once"
is "$(P -c "SELECT attempts || ' ' || left(last_error, 8) FROM support_troubleshooting_notifications WHERE id = $id")" \
   "1 HTTP 400" "one attempt, error kept"

id=$(enqueue_capped slack '#t' "/_mode/status-500/max/a" 3)
is "$(final_status "$id")" "failed" "500 retried, then failed after max_attempts"
is "$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "3" "max_attempts = 3 attempts"

id=$(enqueue_capped slack '#t' "/_mode/retry-after-1/ra/a" 2)
is "$(final_status "$id")" "failed" "429 twice: failed"
gap=$(spacing /ra/a 2 0.95)
is "$gap" "ok" "Retry-After: 1 honoured (second try a second later)"

id=$(P -c "SELECT send_troubleshooting_notification('webhook', '$URL/_mode/status-410/gone', NULL, '{\"type\": \"x\"}')")
P -c "INSERT INTO support_webhooks (id, url, events) VALUES (2, '$URL/_mode/status-410/gone2', ARRAY['session.resolved'])" >/dev/null
id2=$(P -c "SELECT send_troubleshooting_notification('webhook', '2', NULL, '{\"type\": \"x\"}')")
is "$(final_status "$id2")" "failed" "410 from a subscription fails"
is "$(P -c "SELECT active::text || ' ' || disabled_reason FROM support_webhooks WHERE id = 2")" \
   "false HTTP 410 Gone from the endpoint" "and disables the subscription"

# --- provider-specific answers ---
id=$(enqueue_capped discord 'ops' "/_mode/discord-429/api/webhooks/2/t" 2)
is "$(final_status "$id")" "failed" "discord 429 twice: failed"
gap=$(spacing /api/webhooks/2/t 2 1.9)
is "$gap" "ok" "discord: waited for Retry-After (2 s) over retry_after (1.5 s)"

id=$(enqueue_capped teams 'ops' "/_mode/teams-legacy-429/webhookb2/x" 1 "'teams_format', 'messagecard'")
is "$(final_status "$id")" "failed" "teams: a 200 that says 429 is not a success"
is "$(P -c "SELECT last_error LIKE 'HTTP 200: Microsoft Teams endpoint returned HTTP error 429%' FROM support_troubleshooting_notifications WHERE id = $id")" \
   "t" "teams: the throttling text is kept as the error"

# a row whose request cannot be built is failed, the worker goes on
P -c "INSERT INTO support_webhooks (id, url, events, secret) VALUES (3, '$URL/_mode/webhook/q', ARRAY['session.resolved'], 'whsec_not*base64*at*all')" >/dev/null
dpid=$(worker_pid dispatcher)
id=$(P -c "SELECT send_troubleshooting_notification('webhook', '3', NULL, '{\"type\": \"x\"}')")
is "$(final_status "$id")" "failed" "a row that cannot be built is quarantined as failed"
is "$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" \
   "could not build the request: webhook signing secret is not valid base64" "with the reason, and not the secret"
is "$(worker_pid dispatcher)" "$dpid" \
   "the dispatcher kept running"
! grep -q "not\*base64" "$LOG"
ok $? "the secret is not in the server log"

# Slack: one message per interval per webhook; later ones wait, none is dropped
P -c "ALTER SYSTEM SET troubleshooting.slack_min_interval = '400ms'" >/dev/null
reload_sync troubleshooting.slack_min_interval 400ms
ids=$(for i in 1 2 3; do enqueue "/_mode/slack/rate/same"; done)
for i in $ids; do final_status "$i" >/dev/null; done
gaps=$(spacing /rate/same 3 0.35)
is "$gaps" "ok" "slack rate limit spaces messages to one webhook"
is "$(P -c "SELECT count(*) FILTER (WHERE status = 'sent' AND attempts = 1) FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/rate/same'")" \
   "3" "all sent, each on its first real attempt"
P -c "ALTER SYSTEM SET troubleshooting.slack_min_interval = 0" >/dev/null
reload_sync troubleshooting.slack_min_interval 0

# --- destination policy ---
# metadata addresses: asked of the policy function, never connected to
is "$(P -c "SELECT troubleshooting_destination_policy('http://169.254.169.254/latest/meta-data')")" \
   "refused: cloud metadata address (169.254.169.254); never allowed" \
   "cloud metadata address refused even with private destinations allowed"
is "$(P -c "SELECT troubleshooting_destination_policy('http://[fd00:ec2::254]/latest')")" \
   "refused: cloud metadata address (fd00:ec2::254, AWS); never allowed" "the IPv6 metadata address is refused too"
is "$(P -c "SELECT troubleshooting_destination_policy('http://[64:ff9b::a9fe:a9fe]/')")" \
   "refused: NAT64 address (64:ff9b::/96) of 169.254.169.254: cloud metadata address (169.254.169.254); never allowed" \
   "a NAT64 form of it too"
is "$(P -c "SELECT troubleshooting_destination_policy('$URL/x')")" "allowed" "the capture server is allowed"
# the connect-time check itself, live on loopback: refused when private
# destinations are off, and the policy function says the same
P -c "ALTER SYSTEM SET troubleshooting.allow_private_destinations = off" >/dev/null
reload_sync troubleshooting.allow_private_destinations off
is "$(P -c "SELECT troubleshooting_destination_policy('$URL/_mode/slack/private/a')")" \
   "refused: loopback address (127.0.0.0/8); allowed only with troubleshooting.allow_private_destinations" \
   "the policy function refuses loopback when private destinations are off"
# (enqueue asks the policy too: this session turns the setting on for itself,
# a superuser's right, so the row is written and the dispatcher must refuse it)
id=$(P -c "SET troubleshooting.allow_private_destinations = on" \
       -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
             jsonb_build_object('webhook_url', '$URL/_mode/slack/private/a'))")
is "$(final_status "$id")" "failed" "loopback refused when private destinations are off"
is "$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" \
   "destination refused: address not allowed" "refusal recorded"
is "$(requests /private/a)" "0" "no request reached the server"
P -c "ALTER SYSTEM SET troubleshooting.allow_private_destinations = on" >/dev/null
reload_sync troubleshooting.allow_private_destinations on
P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
      '{\"webhook_url\": \"ftp://127.0.0.1/x\"}')" >/dev/null 2>&1
ok $((! $?)) "non-http scheme refused at enqueue"
# a row written around enqueue: the dispatcher refuses it too
id=$(P -c "INSERT INTO support_troubleshooting_notifications (channel, recipient, body, metadata)
      VALUES ('slack', '#t', 'x', '{\"webhook_url\": \"ftp://127.0.0.1/x\"}') RETURNING id")
is "$(final_status "$id")" "failed" "non-http scheme refused when sending"

# --- transactions ---
P -c "BEGIN; SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
      jsonb_build_object('webhook_url', '$URL/_mode/slack/rollback/a')); ROLLBACK;" >/dev/null
# one enqueued after it is sent: the dispatcher has been through the queue since
id=$(enqueue "/_mode/slack/rollback/after")
is "$(final_status "$id")" "sent" "a notification enqueued after the rollback is sent"
is "$(requests /rollback/a)" "0" "a rolled-back enqueue sends nothing"

# --- a connection reset is a transport error, retried ---
id=$(enqueue_capped slack '#t' "/_mode/reset/r" 2)
is "$(final_status "$id")" "failed" "connection reset twice: failed"
is "$(P -c "SELECT attempts || ' ' || (last_error LIKE 'transport error:%') FROM support_troubleshooting_notifications WHERE id = $id")" \
   "2 true" "retried as a transport error"

# --- a hanging endpoint does not hold the others up ---
# a long request timeout: the five others must be sent while the hanging
# one is still in flight, whatever the machine's load
P -c "ALTER SYSTEM SET troubleshooting.request_timeout = '20s'" >/dev/null
reload_sync troubleshooting.request_timeout 20s
hang=$(enqueue_capped slack '#t' "/_mode/hang/h" 1)
wait_output 60 1 requests /h
ids=$(for i in 1 2 3 4 5; do enqueue "/_mode/slack/fast/$i"; done)
sent=0
for i in $ids; do [ "$(final_status "$i")" = "sent" ] && sent=$((sent + 1)); done
is "$sent $(P -c "SELECT status FROM support_troubleshooting_notifications WHERE id = $hang")" "5 sending" \
   "five others sent while one hangs"
is "$(final_status "$hang")" "failed" "the hanging one times out and fails"
is "$(P -c "SELECT last_error LIKE 'transport error:%' FROM support_troubleshooting_notifications WHERE id = $hang")" "t" \
   "with the transport error"
P -c "ALTER SYSTEM SET troubleshooting.request_timeout = '2s'" >/dev/null
reload_sync troubleshooting.request_timeout 2s

# --- priority order, one transfer at a time ---
P -c "ALTER SYSTEM SET troubleshooting.dispatcher_concurrency = 1" >/dev/null
reload_sync troubleshooting.dispatcher_concurrency 1
P -c "BEGIN;
      SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', p,
             jsonb_build_object('webhook_url', '$URL/_mode/slack/prio/' || p || '/' || n))
      FROM (VALUES (1, 'low'), (2, 'normal'), (3, 'low'), (4, 'critical'), (5, 'high')) v(n, p) ORDER BY n;
      COMMIT;" >/dev/null
for i in $(P -c "SELECT id FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/prio/%'"); do
    final_status "$i" >/dev/null
done
order=$(python3 -c "
import json
print(' '.join(json.loads(l)['path'].split('/')[2] for l in open('$CAP/requests.jsonl') if '/prio/' in l))")
is "$order" "critical high normal low low" "drained by priority, then age"
P -c "ALTER SYSTEM RESET troubleshooting.dispatcher_concurrency" >/dev/null
reload_sync troubleshooting.dispatcher_concurrency 64

is "$(P -c "SELECT running AND sent > 0 AND failed > 0 AND retried > 0 FROM troubleshooting_dispatcher_stats()")" "t" \
   "dispatcher stats count sent, failed and retried"

# --- kill -9 in the middle of a drain loses nothing ---
P -c "SELECT count(*) FROM (SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
      jsonb_build_object('webhook_url', '$URL/_mode/slow-20/crash/' || g)) FROM generate_series(1, 400) g) x" >/dev/null
# the drain has started: a first request reached the server
wait_until 30 has_requests /crash/
dpid=$(worker_pid dispatcher)
# (ts_kill9 records the pid, so the run's crash scan excuses this SIGKILL only)
ts_kill9 "$dpid"
ok $? "the dispatcher (pid $dpid) is killed with SIGKILL and gone"
newpid=
for i in $(seq 1 300); do
    newpid=$(worker_pid dispatcher 2>/dev/null)
    [ -n "$newpid" ] && [ "$newpid" != "$dpid" ] && break
    sleep 0.2
done
ok "$([ -n "$newpid" ] && [ "$newpid" != "$dpid" ] && ! kill -0 "$dpid" 2>/dev/null; echo $?)" \
   "dispatcher killed with SIGKILL mid-drain: gone, and a new one runs"
is "$(unsent /crash/)" "0" "after the restart every row is sent"
dups=$(python3 -c "
import json, collections
c = collections.Counter(json.loads(l)['path'] for l in open('$CAP/requests.jsonl') if '/crash/' in l)
print(len(c), sum(v - 1 for v in c.values()))")
read -r distinct extra <<<"$dups"
is "$distinct" "400" "every one of the 400 reached the server"
# in flight = sent or being sent, outcome not yet committed: at most the
# transfer slots (64) plus one batch of outcomes waiting to be recorded (256)
is "$(( extra <= 64 + 256 ))" "1" "re-sent only what was in flight at the kill ($extra duplicates)"


# --- pg_ctl stop -m immediate in the middle of a drain loses nothing either ---
P -c "SELECT count(*) FROM (SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
      jsonb_build_object('webhook_url', '$URL/_mode/slow-20/immediate/' || g)) FROM generate_series(1, 300) g) x" >/dev/null
wait_until 30 has_requests /immediate/
ts_as_postgres pg_ctl -D "$MAIN" -m immediate -w stop >/dev/null
ok $? "server stopped with -m immediate mid-drain"
ts_cluster_start "$MAIN"
ok $? "server started again"
is "$(unsent /immediate/)" "0" "after the restart every row is sent"
is "$(python3 -c "
import json
print(len({json.loads(l)['path'] for l in open('$CAP/requests.jsonl') if '/immediate/' in l}))")" "300" \
   "every one of the 300 reached the server"

P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
P -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
done_testing
