#!/usr/bin/env bash
# Email and SMS end to end: each provider's exact request as a loopback
# capture server receives it (method, path, auth, content type, body fields),
# SigV4 signatures checked by an independent verifier (test/sigv4.py), the
# provider's message id recorded, failure classes (AWS throttling on HTTP
# 400, Mailgun 420, Twilio 400/429, SMTP 4xx/5xx), secrets from the server
# environment and never in errors; and SMTP against a real local SMTP server
# (STARTTLS, implicit TLS, login) whose received message parses as RFC 5322.
. "$(dirname "$0")/tap.sh"

start_capture_server "$TS_WORK/mailcap"

conf_set allow_private_destinations on retry_base_delay 50ms request_timeout 5s
P >/dev/null <<'SQL'
CREATE EXTENSION troubleshooting;
INSERT INTO support_troubleshooting_templates (name, channel, subject, body, format, text_body)
VALUES ('e2e_mail', 'email', 'Hola {{name}}', '<p>Hola <b>{{name}}</b></p>', 'html', 'Hola {{name}}'),
       ('e2e_sms', 'sms', NULL, 'Hola {{name}}, tu caso {{case}} sigue abierto', 'text', NULL);
SQL

# Enqueues the e2e email to $1 with metadata $2; prints the id.
email() { P -c "SELECT send_troubleshooting_notification('email', '$1', 'e2e_mail', '{\"name\": \"Juan Pérez\"}', 'normal', '${2:-{\}}')"; }
# Enqueues the e2e SMS to $1; prints the id.
sms() { P -c "SELECT send_troubleshooting_notification('sms', '$1', 'e2e_sms', '{\"name\": \"Zoë\", \"case\": \"42\"}')"; }
# Prints the index of the last request whose path contains $1.
last_req() {
    python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$CAP/requests.jsonl')]
print(max(i for i, r in enumerate(rows) if sys.argv[1] in r['path']))" "$1"
}
# Runs python check $2 on request index $1 (r = the record, b = its body text).
check() {
    python3 - "$CAP/requests.jsonl" "$1" <<PY
import json, sys, base64, urllib.parse, email
from email import policy
r = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]
h = r["headers"]
b = r["body"]
$2
PY
}
ATTACH=$(printf 'a,b\r\n1,2\r\n\x00\xff binary' | base64 -w0)
META="{\"attachments\": [{\"filename\": \"report.csv\", \"content_type\": \"text/csv\", \"content\": \"$ATTACH\"}]}"

# --- SendGrid, key from the server environment (the existing system's EMAIL_API_KEY) ---
provider email sendgrid "{\"api_key\": \"env:EMAIL_API_KEY\", \"from\": \"Soporte <support@example.com>\", \"base_url\": \"$URL/_mode/sendgrid\"}"
id=$(email juan@example.com "$META")
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "sendgrid: sent"
i=$(last_req /v3/mail/send)
check "$i" "
d = json.loads(b)
assert r['method'] == 'POST' and h['content-type'] == 'application/json', r
assert h['authorization'] == 'Bearer $EMAIL_API_KEY', h
assert d['personalizations'] == [{'to': [{'email': 'juan@example.com'}]}], d
assert d['from'] == {'email': 'support@example.com', 'name': 'Soporte'}, d
assert d['subject'] == 'Hola Juan Pérez', d
assert d['content'] == [{'type': 'text/plain', 'value': 'Hola Juan Pérez'},
                        {'type': 'text/html', 'value': '<p>Hola <b>Juan Pérez</b></p>'}], d
a = d['attachments'][0]
assert a['filename'] == 'report.csv' and a['type'] == 'text/csv' and a['disposition'] == 'attachment', a
assert base64.b64decode(a['content']) == base64.b64decode('$ATTACH'), a
"
ok $? "sendgrid: Bearer key from env:EMAIL_API_KEY, personalizations, from with name, text then html, attachment"
is "$(P -c "SELECT provider_message_id ~ '^[A-Za-z0-9_-]{22}$' FROM support_troubleshooting_notifications WHERE id = $id")" "t" \
   "sendgrid: X-Message-Id header recorded as the provider id"
provider email sendgrid "{\"api_key\": \"SG.very-secret-key\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/sendgrid-400\"}"
id=$(email ana@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|1" \
   "sendgrid: 400 fails at once"

# --- Mailgun: basic auth api:key, multipart form, id without angle brackets; 420 retries late ---
provider email mailgun "{\"api_key\": \"key-mg-secret\", \"domain\": \"mg.example.com\", \"from\": \"Soporte <support@example.com>\", \"base_url\": \"$URL/_mode/mailgun\"}"
id=$(email juan@example.com "$META")
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "mailgun: sent"
i=$(last_req /v3/mg.example.com/messages)
check "$i" "
assert h['authorization'] == 'Basic ' + base64.b64encode(b'api:key-mg-secret').decode(), h
raw = base64.b64decode(r['body_b64']) if r.get('body_b64') else b.encode('utf-8', 'surrogateescape')
m = email.message_from_bytes(b'Content-Type: ' + h['content-type'].encode() + b'\r\n\r\n' + raw, policy=policy.HTTP)
f = {}
for part in m.iter_parts():
    f.setdefault(part.get_param('name', header='content-disposition'), []).append(part)
get = lambda k: f[k][0].get_payload(decode=True)
assert get('from') == 'Soporte <support@example.com>'.encode() and get('to') == b'juan@example.com', f
assert get('subject').decode() == 'Hola Juan Pérez' and get('text').decode() == 'Hola Juan Pérez', f
assert get('html').decode() == '<p>Hola <b>Juan Pérez</b></p>', f
att = f['attachment'][0]
assert att.get_filename() == 'report.csv' and att.get_payload(decode=True) == base64.b64decode('$ATTACH'), att
"
ok $? "mailgun: Basic api:key, multipart from/to/subject/text/html and the attachment's bytes"
is "$(P -c "SELECT provider_message_id !~ '[<>]' AND provider_message_id LIKE '%@%' FROM support_troubleshooting_notifications WHERE id = $id")" "t" \
   "mailgun: id stored without angle brackets"
provider email mailgun "{\"api_key\": \"key-mg-secret\", \"domain\": \"mg.example.com\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/mailgun-420\"}"
id=$(email ana@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "deferred" "mailgun: 420 (sending limit) waits for the window before retrying"

# --- Amazon SES v2: SigV4 (service ses) with a session token ---
provider email ses "{\"access_key_id\": \"AKIDSESTEST\", \"secret_access_key\": \"ses/secret+key\", \"session_token\": \"FwoGZXIvYXdzEXAMPLE\", \"region\": \"eu-west-1\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/ses\"}"
id=$(email juan@example.com "$META")
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "ses: sent"
i=$(last_req /v2/email/outbound-emails)
python3 test/sigv4.py --record "$CAP/requests.jsonl" --index "$i" --access-key AKIDSESTEST \
    --secret 'ses/secret+key' --region eu-west-1 --service ses >/dev/null
ok $? "ses: SigV4 signature verifies (region eu-west-1, service ses)"
check "$i" "
d = json.loads(b)
assert h['x-amz-security-token'] == 'FwoGZXIvYXdzEXAMPLE' and 'x-amz-security-token' in h['authorization'], h
assert d['FromEmailAddress'] == 'support@example.com' and d['Destination'] == {'ToAddresses': ['juan@example.com']}, d
s = d['Content']['Simple']
assert s['Subject']['Data'] == 'Hola Juan Pérez' and s['Body']['Text']['Data'] == 'Hola Juan Pérez', s
assert s['Body']['Html']['Data'] == '<p>Hola <b>Juan Pérez</b></p>', s
assert s['Attachments'][0]['FileName'] == 'report.csv' and base64.b64decode(s['Attachments'][0]['RawContent']) == base64.b64decode('$ATTACH'), s
"
ok $? "ses: signed session token, SendEmail Simple content with attachment"
is "$(P -c "SELECT provider_message_id LIKE '0100018c%' FROM support_troubleshooting_notifications WHERE id = $id")" "t" "ses: MessageId recorded"
P -c "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE status = 'pending'" >/dev/null
provider email ses "{\"access_key_id\": \"AKIDSESTEST\", \"secret_access_key\": \"ses/secret+key\", \"region\": \"eu-west-1\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/ses-throttle\"}"
id=$(email ana@example.com)
P -c "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = $id" >/dev/null
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts || ' ' || (last_error LIKE 'HTTP 400 (ThrottlingException)%') FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|2 true" "ses: ThrottlingException on HTTP 400 is retried"
provider email ses "{\"access_key_id\": \"AKIDSESTEST\", \"secret_access_key\": \"ses/secret+key\", \"region\": \"eu-west-1\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/ses-rejected\"}"
id=$(email ana@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|1" \
   "ses: MessageRejected fails at once"

# --- Twilio: basic auth sid:token (token from env:SMS_API_KEY), form fields, sid; 400 fails, 429 retries ---
provider sms twilio "{\"account_sid\": \"ACtest123\", \"auth_token\": \"env:SMS_API_KEY\", \"from\": \"+15550001111\", \"base_url\": \"$URL/_mode/twilio\"}"
id=$(sms +15551234567)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "twilio: sent"
i=$(last_req /2010-04-01/Accounts/ACtest123/Messages.json)
check "$i" "
assert h['authorization'] == 'Basic ' + base64.b64encode(b'ACtest123:$SMS_API_KEY').decode(), h
assert h['content-type'] == 'application/x-www-form-urlencoded', h
f = urllib.parse.parse_qs(b, strict_parsing=True)
assert f == {'To': ['+15551234567'], 'From': ['+15550001111'], 'Body': ['Hola Zoë, tu caso 42 sigue abierto']}, f
assert '%2B15551234567' in b, b
"
ok $? "twilio: Basic sid:token, To/From/Body form-encoded (+ as %2B)"
is "$(P -c "SELECT provider_message_id ~ '^SM[0-9a-f]{32}$' FROM support_troubleshooting_notifications WHERE id = $id")" "t" "twilio: sid recorded"
provider sms twilio "{\"account_sid\": \"ACtest123\", \"auth_token\": \"tw-secret\", \"messaging_service_sid\": \"MG123\", \"base_url\": \"$URL/_mode/twilio-400\"}"
id=$(sms +15551234567)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|1" "twilio: 400 (21211) fails at once"
check "$(last_req /2010-04-01/Accounts/ACtest123/Messages.json)" "
f = urllib.parse.parse_qs(b)
assert f['MessagingServiceSid'] == ['MG123'] and 'From' not in f, f
"
ok $? "twilio: MessagingServiceSid instead of From"
provider sms twilio "{\"account_sid\": \"ACtest123\", \"auth_token\": \"tw-secret\", \"from\": \"+15550001111\", \"base_url\": \"$URL/_mode/twilio-429\"}"
id=$(sms +15551234567)
P -c "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = $id" >/dev/null
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|2" "twilio: 429 is retried"

# --- Amazon SNS: SigV4 (service sns), Publish form, MessageId from XML; Throttling on 400 retries ---
provider sms sns "{\"access_key_id\": \"AKIDSNSTEST\", \"secret_access_key\": \"sns-secret\", \"region\": \"us-east-1\", \"base_url\": \"$URL/_mode/sns\"}"
id=$(sms +15551234567)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "sns: sent"
i=$(python3 -c "
import json; rows=[json.loads(l) for l in open('$CAP/requests.jsonl')]; print(max(i for i, r in enumerate(rows) if r.get('mode') == 'sns'))")
python3 test/sigv4.py --record "$CAP/requests.jsonl" --index "$i" --access-key AKIDSNSTEST \
    --secret sns-secret --region us-east-1 --service sns >/dev/null
ok $? "sns: SigV4 signature verifies (region us-east-1, service sns)"
check "$i" "
f = urllib.parse.parse_qs(b, strict_parsing=True)
assert f['Action'] == ['Publish'] and f['Version'] == ['2010-03-31'] and f['PhoneNumber'] == ['+15551234567'], f
assert f['Message'] == ['Hola Zoë, tu caso 42 sigue abierto'], f
assert f['MessageAttributes.entry.1.Value.StringValue'] == ['Transactional'], f
"
ok $? "sns: Publish with PhoneNumber, Message and SMSType Transactional"
is "$(P -c "SELECT provider_message_id ~ '^[0-9a-f-]{36}$' FROM support_troubleshooting_notifications WHERE id = $id")" "t" "sns: MessageId from the XML"
provider sms sns "{\"access_key_id\": \"AKIDSNSTEST\", \"secret_access_key\": \"sns-secret\", \"region\": \"us-east-1\", \"base_url\": \"$URL/_mode/sns-throttle\"}"
id=$(sms +15551234567)
P -c "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = $id" >/dev/null
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|2" "sns: Throttling on HTTP 400 is retried"

# --- switching the provider is one call: a queued row goes out through the new one ---
provider email sendgrid "{\"api_key\": \"SG.very-secret-key\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/sendgrid/switch\"}"
id=$(P -c "SELECT send_troubleshooting_notification('email', 'queued@example.com', 'e2e_mail', '{\"name\": \"Q\"}',
      'normal', '{}', NULL, now() + interval '1 hour')")
provider email mailgun "{\"api_key\": \"key-mg-secret\", \"domain\": \"switch.example.com\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/mailgun\"}"
P -c "UPDATE support_troubleshooting_notifications SET next_attempt_at = now() WHERE id = $id" >/dev/null
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT provider FROM support_troubleshooting_notifications WHERE id = $id")|$(python3 -c "
import json
paths = [json.loads(l)['path'] for l in open('$CAP/requests.jsonl')]
print(paths.count('/v3/switch.example.com/messages'), paths.count('/switch/v3/mail/send'))")" \
   "sent|mailgun|1 0" "a row queued under sendgrid goes out through mailgun after the switch"

# --- secrets never in rows or the log ---
leak=$(P -c "SELECT count(*) FROM support_troubleshooting_notifications
             WHERE concat_ws(' ', last_error, body, metadata::text, provider_message_id) ~ 'very-secret|key-mg-secret|ses/secret|sns-secret|tw-secret|FwoGZXIv'")
grep -qE "very-secret|key-mg-secret|ses/secret|sns-secret|tw-secret|FwoGZXIv|$EMAIL_API_KEY|$SMS_API_KEY" "$LOG"
is "$leak|$?" "0|1" "no secret in notification rows or the server log"

# --- SMTP against a real SMTP server: STARTTLS + login, implicit TLS, 4xx/5xx, no STARTTLS ---
SM=$TS_WORK/smtp
mkdir -p "$SM"
bash test/smtp_cert.sh "$SM" >/dev/null 2>&1
chmod 644 "$SM/cert.pem"   # the dispatcher (postgres) trusts it as ca_file
cert=$SM/cert.pem
key=$SM/key.pem
start_smtp_server "$SM/starttls" starttls --cert "$cert" --key "$key" --auth-user mailer --auth-password 'smtp-pass-secret'
p1=$SMTP_PORT
provider email smtp "{\"url\": \"smtp://127.0.0.1:$p1\", \"username\": \"mailer\", \"password\": \"smtp-pass-secret\", \"from\": \"Soporte Técnico <support@example.com>\", \"tls\": \"required\", \"ca_file\": \"$cert\"}"
P -c "UPDATE support_troubleshooting_templates SET subject = 'Hola {{name}}' WHERE name = 'e2e_mail'" >/dev/null
id=$(P -c "SELECT send_troubleshooting_notification('email', 'juan@example.com', 'e2e_mail',
      '{\"name\": \"Juan Pérez\r\nBcc: evil@example.net\"}', 'normal', '$META')")
is "$(final_status "$id" 120 "$DEFERRED_STATUS")" "sent" "smtp: sent over STARTTLS with login"
python3 - "$SM/starttls" "$ATTACH" <<'PY'
import json, sys, base64, email, glob, os
from email import policy
d = sys.argv[1]
eml = sorted(glob.glob(os.path.join(d, "*.eml")))[-1]
meta = json.load(open(eml[:-4] + ".json"))
m = email.message_from_bytes(open(eml, "rb").read(), policy=policy.default)
assert meta["tls"] is True and meta["auth_user"] == "mailer", meta
assert meta["rcpt_tos"] == ["juan@example.com"] and meta["mail_from"] == "support@example.com", meta
for h in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version"):
    assert m[h], h
assert m["Bcc"] is None and "evil" not in " ".join(meta["rcpt_tos"]), "header injection"
assert str(m["Subject"]).startswith("Hola Juan Pérez") and "Bcc" in str(m["Subject"]), m["Subject"]
assert m["From"].addresses[0].display_name == "Soporte Técnico", m["From"]
assert m.get_content_type() == "multipart/mixed", m.get_content_type()
alt, att = list(m.iter_parts())
assert alt.get_content_type() == "multipart/alternative", alt.get_content_type()
text, html = list(alt.iter_parts())
assert text.get_content_type() == "text/plain" and text.get_content().startswith("Hola Juan Pérez"), text.get_content()
assert html.get_content_type() == "text/html" and html.get_content().startswith("<p>Hola <b>Juan P"), html.get_content()
assert att.get_filename() == "report.csv" and att.get_content_type() == "text/csv", att
assert att.get_payload(decode=True) == base64.b64decode(sys.argv[2]), "attachment bytes"
assert meta["queue_id"]
PY
ok $? "smtp: RFC 5322 message with all headers, text+html alternative, attachment intact, no header injection"
qid=$(python3 -c "
import json, glob; print(json.load(open(sorted(glob.glob('$SM/starttls/*.json'))[-1]))['queue_id'])")
is "$(P -c "SELECT provider_message_id FROM support_troubleshooting_notifications WHERE id = $id")" "$qid" "smtp: the server's queue id recorded"
id=$(email tempfail@example.com)
P -c "UPDATE support_troubleshooting_notifications SET max_attempts = 2 WHERE id = $id" >/dev/null
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts || ' ' || (last_error LIKE 'SMTP 451%') FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|2 true" "smtp: 451 is retried"
id=$(email reject@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts || ' ' || (last_error LIKE 'SMTP 550%') FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|1 true" "smtp: 550 fails at once"
provider email smtp "{\"url\": \"smtp://127.0.0.1:$p1\", \"username\": \"mailer\", \"password\": \"wrong-pass\", \"from\": \"support@example.com\", \"ca_file\": \"$cert\"}"
id=$(email juan@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(P -c "SELECT attempts FROM support_troubleshooting_notifications WHERE id = $id")" "failed|1" "smtp: a refused login fails at once"
start_smtp_server "$SM/implicit" implicit --cert "$cert" --key "$key"
p2=$SMTP_PORT
provider email smtp "{\"url\": \"smtps://127.0.0.1:$p2\", \"from\": \"support@example.com\", \"tls\": \"implicit\", \"ca_file\": \"$cert\"}"
id=$(email juan@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(ls "$SM/implicit"/*.eml 2>/dev/null | wc -l)" "sent|1" "smtp: implicit TLS (smtps://)"
start_smtp_server "$SM/plain" none --cert "$cert" --key "$key"
p3=$SMTP_PORT
provider email smtp "{\"url\": \"smtp://127.0.0.1:$p3\", \"from\": \"support@example.com\", \"ca_file\": \"$cert\"}"
id=$(email juan@example.com)
is "$(final_status "$id" 120 "$DEFERRED_STATUS")|$(ls "$SM/plain"/*.eml 2>/dev/null | wc -l)" "failed|0" "smtp: TLS required and the server offers none: nothing is sent in clear"
grep -q "smtp-pass-secret" "$LOG"
ok $((! $?)) "smtp: the password is not in the log"

conf_reset allow_private_destinations retry_base_delay request_timeout
P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
done_testing
