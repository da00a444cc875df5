#!/usr/bin/env bash
# Hostile and broken endpoints against the dispatcher.  Each hostile answer
# (absurd Retry-After values, Discord retry_after, a 1 MB header, an endless
# body, a reset mid-response, a one-byte-a-second drip, a redirect (to this
# server itself: tests reach loopback only), invalid UTF-8 and non-JSON bodies; SMTP multi-line and
# malformed replies) goes out in one transaction with ordinary neighbours:
# the server never crashes, every neighbour is sent exactly once (requests
# counted per notification at the capture server), and the hostile row ends
# in a bounded state (failed, or pending no later than retry_max_delay) with
# a readable last_error.  Also: a failed claim sends nothing, and the
# dispatcher's running flag and Prometheus gauge fall when it exits.
. "$(dirname "$0")/tap.sh"

# Puts the cluster back as test/run started it (also when the script stops early).
restore() {
    kill "${pids[@]}" 2>/dev/null
    P -c "DROP EXTENSION IF EXISTS troubleshooting CASCADE" >/dev/null 2>&1
    P -c "DROP FUNCTION IF EXISTS public.hostile_refuse_claim() CASCADE" >/dev/null 2>&1
    P -c "DROP FUNCTION IF EXISTS public.hostile_refuse_outcome() CASCADE" >/dev/null 2>&1
    P -c "DROP ROLE IF EXISTS ts_hostile_reader" >/dev/null 2>&1
    if [ -n "${restarted:-}" ]; then
        P -c "ALTER SYSTEM RESET ALL" >/dev/null 2>&1
        restart_main
    else
        P -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
    fi
}
start_capture_server "$TS_WORK/hostile"
ok $? "capture server listens on $URL"
trap restore EXIT

conf_set allow_private_destinations on retry_base_delay 100ms retry_max_delay 10min \
    request_timeout 2s slack_min_interval 0
P -c "CREATE EXTENSION troubleshooting" >/dev/null
# (the reload has been seen once a new backend shows it)
wait_for "SHOW troubleshooting.retry_max_delay" 10min 5

# (newlog: the server log written since this test started)
log_mark
# Enqueues a slack-shaped notification to path $1 of the capture server; prints its id.
enqueue_slack() {
    P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
          jsonb_build_object('webhook_url', '$URL$1'))"
}
dpid=$(worker_pid dispatcher)
[ -n "$dpid" ]
ok $? "the dispatcher runs (pid $dpid)"

# Waits (up to 60 s) until every row whose metadata webhook_url or recipient
# contains $1 is neither due nor sending.
settle() {
    wait_for "SELECT count(*) FROM support_troubleshooting_notifications
              WHERE (metadata ->> 'webhook_url' LIKE '%' || \$\$$1\$\$ || '%' OR recipient LIKE '%' || \$\$$1\$\$ || '%')
                AND $DEFERRED_STATUS IN ('pending', 'sending')" 0 60
}
# Requests the capture server received per path containing $1: "path count" lines.
per_path() {
    python3 - "$CAP/requests.jsonl" "$1" <<'PY'
import collections, json, sys
c = collections.Counter(json.loads(l)["path"] for l in open(sys.argv[1]) if sys.argv[2] in l)
for p in sorted(c):
    print(p, c[p])
PY
}
# Checks that text $2 (a last_error) is readable: valid UTF-8, no control
# characters, at most 1000 bytes, matching regex $3; $1 describes.
readable() {
    python3 - "$2" "$3" <<'PY'
import re, sys, os
raw = os.fsencode(sys.argv[1])
try:
    t = raw.decode("utf-8")
except UnicodeDecodeError:
    print("# not UTF-8: %r" % raw); sys.exit(1)
bad = [c for c in t if ord(c) < 32 or ord(c) == 127]
if bad or len(raw) > 1000 or not re.search(sys.argv[2], t):
    print("# last_error %r" % t); sys.exit(1)
PY
    ok $? "$1: readable last_error"
}

# --- hostile HTTP answers, each next to five ordinary neighbours, all in one transaction ---
# case TAG CHANNEL MODE WANT ATTEMPTS ERROR-REGEX
cases=(
  "ra-huge slack retry-after-huge deferred 1 ^HTTP\\ 429:\\ \\{\"message\":\\ \"rate\\ limited\"\\}$"
  "ra-neg slack retry-after-negative failed 2 ^HTTP 429: \\{\"message\": \"rate limited\"\\}$"
  "ra-frac slack retry-after-fraction failed 2 ^HTTP 429: \\{\"message\": \"rate limited\"\\}$"
  "ra-garbage slack retry-after-garbage failed 2 ^HTTP 429: \\{\"message\": \"rate limited\"\\}$"
  "ra-date slack retry-after-date-999999999999 deferred 1 ^HTTP 429: \\{\"message\": \"rate limited\"\\}$"
  "dc-huge discord discord-429-huge deferred 1 ^HTTP\\ 429:\\ .*\"retry_after\":\\ 1e300"
  "dc-neg discord discord-429-negative failed 2 ^HTTP\\ 429:\\ .*\"retry_after\":\\ -5"
  "dc-inf discord discord-429-inf deferred 1 ^HTTP\\ 429:\\ .*Infinity"
  "hdr slack huge-header failed 2 ^transport error: ."
  "endless slack endless failed 2 ^transport\\ error:\\ the\\ response\\ body\\ is\\ longer\\ than\\ 1048576\\ bytes$"
  "reset slack reset-mid failed 2 ^transport error: ."
  "drip slack drip failed 2 ^transport error: ."
  "redirect-lb slack redirect-loopback failed 1 ^HTTP 302: ?$"
  "utf8 slack invalid-utf8-500 failed 2 ^HTTP\\ 500:\\ \\{\"id\":\"12\\?\\?3\",\"message\":\"bad\\ \\?\\(\\ bytes\\ \\?+\","
  "utf8-ok discord invalid-utf8-200 sent 1 ."
  "notjson slack not-json-502 failed 2 ^HTTP\\ 502:\\ <html><body>Bad\\ Gateway\\?\\?</body></html>$"
  "notjson-ok discord not-json-200 sent 1 ."
)
{
    echo "BEGIN;"
    for c in "${cases[@]}"; do
        read -r tag channel mode _ <<<"$c"
        if [ "$channel" = discord ]; then path="/_mode/$mode/api/webhooks/hostile-$tag/t"; else path="/_mode/$mode/hostile/$tag"; fi
        echo "SELECT send_troubleshooting_notification('$channel', '#t', 'session_started', '{}', 'normal',
              jsonb_build_object('webhook_url', '$URL$path')) AS id \\gset"
        echo "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = :id;"
        echo "SELECT count(*) FROM (SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{}', 'normal',
              jsonb_build_object('webhook_url', '$URL/_mode/slack/nb/$tag/' || g)) FROM generate_series(1, 5) g) x;"
    done
    echo "COMMIT;"
} > "$CAP/enqueue.sql"
P -f "$CAP/enqueue.sql" >/dev/null
ok $? "${#cases[@]} hostile rows and $((5 * ${#cases[@]})) neighbours enqueued in one transaction"
settle "/hostile" && settle "/nb/"
ok $? "every row reaches a final or deferred state"

for c in "${cases[@]}"; do
    read -r tag channel mode want attempts regex <<<"$c"
    if [ "$channel" = discord ]; then path="/api/webhooks/hostile-$tag/t"; else path="/hostile/$tag"; fi
    row=$(P -c "SELECT id || '|' || $DEFERRED_STATUS || '|' || attempts FROM support_troubleshooting_notifications
                WHERE metadata ->> 'webhook_url' LIKE '%' || '$path'")
    id=${row%%|*}
    is "${row#*|}|$(per_path "$path" | awk -v p="$path" '$1 == p {print $2}')" "$want|$attempts|$attempts" \
       "$mode: $want after $attempts attempt(s), one request per attempt"
    is "$(per_path "/nb/$tag/" | awk '$2 == 1' | wc -l)|$(P -c "SELECT count(*) FILTER (WHERE status = 'sent' AND attempts = 1)
              FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/nb/$tag/%'")" "5|5" \
       "$mode: its five neighbours sent, each exactly once"
    if [ "$want" != sent ]; then
        readable "$mode" "$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" "$regex"
    fi
    if [ "$want" = deferred ]; then
        is "$(P -c "SELECT next_attempt_at BETWEEN now() + interval '9 minutes' AND now() + interval '10 minutes 1 second'
                    FROM support_troubleshooting_notifications WHERE id = $id")" "t" \
           "$mode: next try clamped to retry_max_delay (10 min)"
    fi
done
is "$(P -c "SELECT provider_message_id FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/hostile-utf8-ok/t'")" \
   "12??3" "discord id with invalid UTF-8 recorded as valid text"
is "$(P -c "SELECT provider_message_id = idempotency_key FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/hostile-notjson-ok/t'")" \
   "t" "discord answer that is not JSON: the idempotency key stands in for the id"
gap=$(python3 -c "
import json
t = [json.loads(l)['time'] for l in open('$CAP/requests.jsonl') if '/hostile/ra-frac' in l]
print('ok' if len(t) == 2 and t[1] - t[0] >= 0.45 else t)")
is "$gap" "ok" "Retry-After: 0.5 honoured as half a second"
is "$(per_path /followed-redirect | wc -l)" "0" "a redirect is never followed (none to this server's own address either)"
is "$(worker_pid dispatcher)" "$dpid" "the dispatcher never restarted"
! newlog | grep -E "terminated by signal|interval out of range|could not record notification outcomes"
ok $? "the server log shows no crash and no lost batch"

# --- a failed claim sends nothing: its rows stay pending and go out once, later ---
P >/dev/null <<'SQL'
CREATE FUNCTION public.hostile_refuse_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hostile test refuses the claim'; END $$;
CREATE TRIGGER hostile_refuse_claim BEFORE UPDATE ON support_troubleshooting_notifications
    FOR EACH ROW WHEN (NEW.status = 'sending' AND NEW.recipient = '#refuse') EXECUTE FUNCTION public.hostile_refuse_claim();
SQL
before=$(grep -c "hostile test refuses the claim" "$LOG")
P -c "BEGIN;
      SELECT count(*) FROM (SELECT send_troubleshooting_notification('slack', CASE WHEN g = 2 THEN '#refuse' ELSE '#t' END,
             'session_started', '{}', 'normal', jsonb_build_object('webhook_url', '$URL/_mode/slack/claim/' || g))
             FROM generate_series(1, 3) g) x;
      COMMIT;" >/dev/null
# (the trigger was made after log_mark: its errors are all in newlog)
wait_until 30 newlog_has "hostile test refuses the claim" 3
is "$(( $(grep -c "hostile test refuses the claim" "$LOG") >= before + 3 ))" "1" "three claims failed"
is "$(per_path /claim/ | wc -l)|$(P -c "SELECT string_agg(status || attempts, ',') FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/claim/%'")" \
   "0|pending0,pending0,pending0" "nothing of a failed claim was sent; its rows are still pending"
P -c "DROP TRIGGER hostile_refuse_claim ON support_troubleshooting_notifications" >/dev/null
settle "/claim/"
is "$(per_path /claim/ | awk '$2 == 1' | wc -l)|$(P -c "SELECT count(*) FILTER (WHERE status = 'sent') FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/claim/%'")" \
   "3|3" "once the claim works, each is sent exactly once"

# --- an outcome the database refuses costs only its own row ---
P >/dev/null <<'SQL'
CREATE FUNCTION public.hostile_refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hostile test refuses the outcome'; END $$;
CREATE TRIGGER hostile_refuse_outcome BEFORE UPDATE ON support_troubleshooting_notifications
    FOR EACH ROW WHEN (NEW.status = 'sent' AND NEW.recipient = '#refuse-outcome')
    EXECUTE FUNCTION public.hostile_refuse_outcome();
SQL
P -c "BEGIN;
      SELECT count(*) FROM (SELECT send_troubleshooting_notification('slack', CASE WHEN g = 3 THEN '#refuse-outcome' ELSE '#t' END,
             'session_started', '{}', 'normal', jsonb_build_object('webhook_url', '$URL/_mode/slack/outcome/' || g))
             FROM generate_series(1, 6) g) x;
      COMMIT;" >/dev/null
settle "/outcome/"
ok $? "every row of the batch reaches a final state"
is "$(P -c "SELECT string_agg(status || attempts, ',' ORDER BY id) FROM support_troubleshooting_notifications WHERE metadata ->> 'webhook_url' LIKE '%/outcome/%'")" \
   "sent1,sent1,failed1,sent1,sent1,sent1" "the neighbours are recorded sent, the refused one failed"
is "$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE recipient = '#refuse-outcome'")" \
   "could not record the outcome (sent): hostile test refuses the outcome" "with the reason as its last_error"
is "$(per_path /outcome/ | awk '$2 == 1' | wc -l)" "6" "each of the six sent exactly once"
P -c "SET client_min_messages = warning" -c "DROP FUNCTION public.hostile_refuse_outcome() CASCADE" >/dev/null

# --- SMTP: multi-line and malformed replies ---
SM=$TS_WORK/hostile-smtp
start_smtp_server "$SM/mail" none
provider email smtp "{\"url\": \"smtp://127.0.0.1:$SMTP_PORT\", \"from\": \"support@example.com\", \"tls\": \"none\"}"
P -c "INSERT INTO support_troubleshooting_templates (name, channel, subject, body) VALUES ('hostile_mail', 'email', 'Hola', 'Hola {{name}}')" >/dev/null
# smtp-case LOCAL-PART WANT ATTEMPTS STORED ERROR-REGEX
smtp_cases=(
  "multiline sent 1 1 ."
  "longid sent 1 1 ."
  "malformed failed 2 2 ^transport error: ."
  "malformed-rcpt failed 2 0 ^(transport error|SMTP [0-9]+): ."
  "multiline-tempfail failed 2 0 ^(SMTP 451|transport error): ."
)
{
    echo "BEGIN;"
    for c in "${smtp_cases[@]}"; do
        read -r lp _ <<<"$c"
        echo "SELECT send_troubleshooting_notification('email', '$lp@example.com', 'hostile_mail', '{\"name\": \"x\"}') AS id \\gset"
        echo "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = :id;"
        echo "SELECT count(*) FROM (SELECT send_troubleshooting_notification('email', 'nb-$lp-' || g || '@example.com', 'hostile_mail', '{\"name\": \"x\"}') FROM generate_series(1, 3) g) x;"
    done
    echo "COMMIT;"
} > "$SM/enqueue.sql"
P -f "$SM/enqueue.sql" >/dev/null
settle "@example.com"
ok $? "every e-mail reaches a final state"
# Messages the SMTP server stored per recipient: "rcpt count" lines.
stored() {
    python3 - "$SM/mail" <<'PY'
import collections, glob, json, sys
c = collections.Counter(r for f in glob.glob(sys.argv[1] + "/*.json") for r in json.load(open(f))["rcpt_tos"])
for r in sorted(c):
    print(r, c[r])
PY
}
for c in "${smtp_cases[@]}"; do
    read -r lp want attempts n regex <<<"$c"
    row=$(P -c "SELECT id || '|' || status || '|' || attempts FROM support_troubleshooting_notifications WHERE recipient = '$lp@example.com'")
    id=${row%%|*}
    is "${row#*|}|$(stored | awk -v r="$lp@example.com" '$1 == r {print $2}')" "$want|$attempts|$( [ "$n" = 0 ] || echo "$n")" \
       "smtp $lp: $want after $attempts attempt(s), $n message(s) stored"
    v=$(stored | grep -c "^nb-$lp-[0-9]@example.com 1$")
    is "$v" "3" "smtp $lp: its three neighbours stored exactly once"
    [ "$v" = 3 ] ||
        P -c "SELECT recipient, status, attempts, last_error FROM support_troubleshooting_notifications WHERE recipient LIKE 'nb-$lp-%'" | sed 's/^/# /'

    [ "$want" = sent ] || readable "smtp $lp" "$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" "$regex"
done
qid=$(python3 -c "
import glob, json
print([j['queue_id'] for j in (json.load(open(f)) for f in glob.glob('$SM/mail/*.json')) if j['rcpt_tos'] == ['multiline@example.com']][0])")
is "$(P -c "SELECT provider_message_id FROM support_troubleshooting_notifications WHERE recipient = 'multiline@example.com'")" "$qid" \
   "smtp multi-line reply: the queue id of its last line recorded"
is "$(P -c "SELECT provider_message_id = idempotency_key || '@example.com' FROM support_troubleshooting_notifications WHERE recipient = 'longid@example.com'")" "t" \
   "smtp reply of 400+ bytes: not read, the message's own id recorded"
is "$(worker_pid dispatcher)" "$dpid" "the dispatcher never restarted"

# --- nothing a user creates is picked by the dispatcher's SQL ---
# (exact matches for the arithmetic and unnest the claim and the outcome
# UPDATE once resolved through the search_path; each raises if called)
P >/dev/null <<'SQL'
CREATE FUNCTION public.hostile_trap4(integer, interval) RETURNS interval LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'hostile trap: public.*(integer, interval)'; END$$;
CREATE OPERATOR public.* (LEFTARG = integer, RIGHTARG = interval, FUNCTION = public.hostile_trap4);
CREATE FUNCTION public.hostile_trap8(bigint, interval) RETURNS interval LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'hostile trap: public.*(bigint, interval)'; END$$;
CREATE OPERATOR public.* (LEFTARG = bigint, RIGHTARG = interval, FUNCTION = public.hostile_trap8);
CREATE FUNCTION public.unnest(bigint[]) RETURNS SETOF bigint LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'hostile trap: public.unnest(bigint[])'; END$$;
SQL
ok $? "trap operators and functions created in public"
a=$(enqueue_slack "/_mode/slack/trap/a")
b=$(enqueue_slack "/_mode/flaky-1/trap/b")
settle "/trap/"
is "$(P -c "SELECT string_agg(status || attempts, ',' ORDER BY id) FROM support_troubleshooting_notifications WHERE id IN ($a, $b)")" \
   "sent1,sent2" "claimed, leased, retried after a 503 and recorded as sent"
! newlog | grep -q "hostile trap"
ok $? "no trap was ever called"
P -c "DROP FUNCTION public.hostile_trap4(integer, interval), public.hostile_trap8(bigint, interval) CASCADE" \
  -c "DROP FUNCTION public.unnest(bigint[])" >/dev/null

# --- the running flag and the Prometheus gauge fall when the dispatcher exits ---
HP=$(ts_free_port 58480)
P -c "CREATE ROLE ts_hostile_reader NOLOGIN" \
  -c "ALTER SYSTEM SET troubleshooting.dispatcher_restart_interval = 3600" \
  -c "ALTER SYSTEM SET troubleshooting.http_port = $HP" \
  -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_hostile_reader'" >/dev/null
P -c "GRANT SELECT (channel, status, created_at) ON support_troubleshooting_notifications TO ts_hostile_reader" \
  -c "GRANT SELECT (status) ON support_troubleshooting_sessions TO ts_hostile_reader" \
  -c "GRANT EXECUTE ON FUNCTION ts_realtime_kpis() TO ts_hostile_reader" >/dev/null
restarted=1
restart_main
# The dispatcher_running sample of /metrics (empty when the endpoint does not answer).
gauge() {
    curl -sS --noproxy '*' --max-time 10 "http://127.0.0.1:$HP/metrics" 2>/dev/null |
        awk '$1 == "troubleshooting_dispatcher_running" {print $2}'
}
for i in $(seq 1 100); do dpid=$(worker_pid dispatcher); [ -n "$dpid" ] && [ "$(gauge)" = 1 ] && break; sleep 0.1; done
v="$(P -c "SELECT running FROM troubleshooting_dispatcher_stats()")|$(gauge)"
is "$v" "t|1" "running, gauge 1 while the dispatcher runs"
[ "$v" = "t|1" ] ||
    curl -sS --noproxy '*' --max-time 10 "http://127.0.0.1:$HP/metrics" 2>&1 | sed 's/^/# /' | head -20
kill -TERM "$dpid"
wait_output 10 "" worker_pid dispatcher
is "$(worker_pid dispatcher)" "" "the dispatcher exited on SIGTERM (restart interval one hour)"
is "$(P -c "SELECT running::text || ' ' || in_flight FROM troubleshooting_dispatcher_stats()")|$(gauge)" "false 0|0" \
   "after it exits: running false, nothing in flight, gauge 0"

done_testing
