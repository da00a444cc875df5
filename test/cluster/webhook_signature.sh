#!/usr/bin/env bash
# Standard Webhooks signatures checked by an independent implementation
# (Python's hmac), with the secret the extension generated itself.
. "$(dirname "$0")/tap.sh"

fresh_db ts_sig
Q() { q -d ts_sig "$@"; }
Q -c "CREATE EXTENSION troubleshooting" >/dev/null
Q -c "INSERT INTO support_webhooks (id, url, events) VALUES (1, 'https://hooks.example/a', ARRAY['session.started'])" >/dev/null
Q -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_name) VALUES ('sig-1', 'Zoë \"Q\" O''Brien')" >/dev/null
id=$(Q -c "SELECT id FROM support_troubleshooting_notifications WHERE channel = 'webhook'")
[ -n "$id" ]
ok $? "session.started became a webhook notification"
secret=$(Q -c "SELECT secret FROM support_webhooks WHERE id = 1")
Q -c "SELECT troubleshooting_notification_request($id)" > "$TS_WORK/sig-request.json"
python3 - "$secret" "$TS_WORK/sig-request.json" "$TAP_N" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret, path, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = json.load(open(path))
h = req["headers"]
key = base64.b64decode(secret[len("whsec_"):])
signed = "%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], req["body"])
want = "v1," + base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
checks = [
    (h["webhook-signature"] == want, "signature verifies with the subscription's secret"),
    (abs(int(h["webhook-timestamp"]) - time.time()) < 300, "timestamp is now, in unix seconds"),
    ("." not in h["webhook-id"], "webhook-id has no full stop"),
    (json.loads(req["body"])["type"] == "session.started", "body is the JSON event"),
    (json.loads(req["body"])["data"]["customer_name"] == 'Zoë "Q" O\'Brien', "body keeps the data intact"),
    (req["url"] == "https://hooks.example/a", "sent to the subscription URL"),
    (hmac.compare_digest(h["webhook-signature"], want) and
     h["webhook-signature"] != "v1," + base64.b64encode(hmac.new(key, (signed + " ").encode(),
                                                                  hashlib.sha256).digest()).decode(),
     "a changed body would not verify"),
]
for i, (c, d) in enumerate(checks, 1):
    print(("ok" if c else "not ok"), first + i, "-", d)
sys.exit(0 if all(c for c, _ in checks) else 1)
PY
rc=$?
TAP_N=$((TAP_N + 7)); [ $rc = 0 ] || TAP_FAILED=$((TAP_FAILED + 1))
# a retry (another attempt time) keeps the id and signs its own timestamp
a=$(Q -c "SELECT troubleshooting_notification_request($id, now()) #>> '{headers,webhook-id}'")
b=$(Q -c "SELECT troubleshooting_notification_request($id, now() + interval '5 minutes') #>> '{headers,webhook-id}'")
is "$a" "$b" "webhook-id is stable across attempts"
ta=$(Q -c "SELECT troubleshooting_notification_request($id, '2026-01-01 00:00:00+00') #>> '{headers,webhook-timestamp}'")
is "$ta" "1767225600" "webhook-timestamp is the attempt's"
q -c "DROP DATABASE ts_sig" >/dev/null
done_testing
