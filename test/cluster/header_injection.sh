#!/usr/bin/env bash
# No CR/LF or other control character reaches a protocol header, whatever a
# row holds: idempotency keys (webhook-id, SMTP Message-ID, MIME and Mailgun
# boundaries), subjects, display names, attachment content types, provider
# secrets and SMTP recipients.  Hostile values are written straight into the
# tables, as a row that predates the constraints would hold them (the
# constraints are dropped for that); what a loopback capture server and a
# local SMTP server receive is checked header by header.
. "$(dirname "$0")/tap.sh"

D=$TS_WORK/headers
mkdir -p "$D/mail"
chown -R postgres: "$D"
start_capture_server "$D"
start_smtp_server "$D/mail" none
SMTP="smtp://127.0.0.1:$SMTP_PORT"

conf_set allow_private_destinations on retry_base_delay 50ms request_timeout 5s
P >/dev/null <<'SQL'
CREATE EXTENSION troubleshooting;
INSERT INTO support_troubleshooting_templates (name, channel, subject, body, format, text_body)
VALUES ('hi_mail', 'email', 'Hola {{name}}', '<p>Hola {{name}}</p>', 'html', 'Hola {{name}}');
-- rows that predate the constraints (or were written with them dropped)
ALTER TABLE support_troubleshooting_notifications
    DROP CONSTRAINT IF EXISTS support_troubleshooting_notifications_idempotency_key_check,
    DROP CONSTRAINT IF EXISTS support_troubleshooting_notifications_recipient_check;
SQL

# Enqueues a notification due in an hour (args: channel, recipient, template, data, metadata); prints its id.
later() {
    P -c "SELECT send_troubleshooting_notification('$1', '$2', $3, '$4', 'normal', '$5', NULL, now() + interval '1 hour')"
}
# Runs UPDATE ... SET $2 on notification $1 and makes it due now.
hostile() { P -c "UPDATE support_troubleshooting_notifications SET $2, next_attempt_at = now() WHERE id = $1" >/dev/null; }
# Runs python check $2 on the last recorded HTTP request whose path contains $1 (r, h = its headers).
check_http() {
    python3 - "$D/requests.jsonl" "$1" <<PY
import json, sys, email
from email import policy
rows = [json.loads(l) for l in open(sys.argv[1])]
r = [x for x in rows if sys.argv[2] in x["path"]][-1]
h = r["headers"]
for name, value in h.items():
    assert name in ("host", "accept", "content-type", "content-length", "user-agent", "authorization",
                    "webhook-id", "webhook-timestamp", "webhook-signature", "expect"), ("unexpected header", name, h)
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name + value), ("control character", name, value)
$2
PY
}
# A key holding CR/LF and a header of its own ($1: a prefix), and the token it
# becomes in a Message-ID (a webhook-id keeps the colon).
key() { echo "'$1' || chr(13) || chr(10) || 'X-Injected: 1'"; }
token() { echo "$1=0D=0AX-Injected=3A=201"; }

# --- webhook: the key becomes webhook-id ---
id=$(later webhook "$URL/_mode/webhook/hooks/a" NULL '{"type": "t"}' '{}')
hostile "$id" "idempotency_key = $(key w)"
is "$(final_status "$id" 30)" "sent" "webhook: a key with CR/LF is still sent"
check_http /hooks/a "
assert h['webhook-id'] == 'w=0D=0AX-Injected:=201', h
"
ok $? "webhook: no injected header; webhook-id is the key with CR, LF and space encoded"
id=$(later webhook "$URL/_mode/webhook/hooks/b" NULL '{"type": "t"}' '{}')
hostile "$id" "idempotency_key = 'order:42@shop.v1'"
is "$(final_status "$id" 30)" "sent" "webhook: a key with a full stop is sent"
check_http /hooks/b "assert h['webhook-id'] == 'order:42@shop=2Ev1', h"
ok $? "webhook: a full stop in the key is encoded (the spec forbids it in ids), colon and @ kept"

# --- Mailgun: the multipart boundary in the Content-Type header ---
provider email mailgun "{\"api_key\": \"key-mg\", \"domain\": \"mg.example.com\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/mailgun\"}"
id=$(later email juan@example.com "'hi_mail'" '{"name": "Juan"}' '{}')
hostile "$id" "idempotency_key = $(key m)"
is "$(final_status "$id" 30)" "sent" "mailgun: a key with CR/LF is still sent"
check_http /v3/mg.example.com/messages "
import base64, re
ct = h['content-type']
assert re.fullmatch(r'multipart/form-data; boundary=ts-f-[0-9a-f]{32}', ct), ct
m = email.message_from_bytes(b'Content-Type: ' + ct.encode() + b'\r\n\r\n' + base64.b64decode(r['body_b64']),
                             policy=policy.HTTP)
names = [p.get_param('name', header='content-disposition') for p in m.iter_parts()]
assert names == ['from', 'to', 'subject', 'text', 'html', 'v:notification_id'], names
"
ok $? "mailgun: Content-Type boundary is random hex (no key in it), no injected header, form intact"

# --- a provider secret with CR/LF (settings written directly): refused, never sent ---
provider email sendgrid "{\"api_key\": \"SG.hdr-secret\", \"from\": \"support@example.com\", \"base_url\": \"$URL/_mode/sendgrid/crlf\"}"
P -c "UPDATE support_troubleshooting_providers SET settings = jsonb_set(settings, '{api_key}', to_jsonb('SG.hdr-secret' || chr(13) || chr(10) || 'X-Injected: 1'))
      WHERE channel = 'email'" >/dev/null
id=$(later email juan@example.com "'hi_mail'" '{"name": "Juan"}' '{}')
hostile "$id" "attempts = 0"
is "$(final_status "$id" 30)|$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|header Authorization has a control character: not sent" "sendgrid: an API key with CR/LF fails the row, naming the header only"
is "$(grep -c /crlf/ "$D/requests.jsonl")" "0" "sendgrid: nothing was sent"

# --- SMTP: Message-ID, boundaries, subject, display name, recipient, attachment type ---
provider email smtp "{\"url\": \"$SMTP\", \"from\": \"Soporte <support@example.com>\", \"tls\": \"none\"}"
P -c "UPDATE support_troubleshooting_providers SET settings = jsonb_set(settings, '{from}', to_jsonb('Evil' || chr(13) || chr(10) || 'Bcc: bcc@example.net <support@example.com>'))
      WHERE channel = 'email'" >/dev/null
ATTACH=$(printf 'a,b\r\n1,2\r\n' | base64 -w0)
META="{\"attachments\": [{\"filename\": \"r.csv\", \"content_type\": \"text/csv\", \"content\": \"$ATTACH\"}]}"
id=$(later email juan@example.com "'hi_mail'" '{"name": "Juan"}' "$META")
hostile "$id" "idempotency_key = $(key s), subject = 'Hi' || chr(13) || chr(10) || 'X-Subject-Injected: 1'"
is "$(final_status "$id" 30)" "sent" "smtp: a key, subject and display name with CR/LF are still sent"
python3 - "$D/mail" "$(token s)" <<'PY'
import email, glob, json, os, re, sys
from email import policy
d, want = sys.argv[1], sys.argv[2]
eml = sorted(glob.glob(os.path.join(d, "*.eml")), key=lambda p: int(os.path.basename(p)[:-4]))[-1]
raw = open(eml, "rb").read()
meta = json.load(open(eml[:-4] + ".json"))
assert meta["rcpt_tos"] == ["juan@example.com"], meta
head = raw.split(b"\r\n\r\n", 1)[0]
assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b""), "bare CR or LF"
names = [l.split(b":", 1)[0] for l in head.split(b"\r\n") if l[:1] not in (b" ", b"\t")]
assert names == [b"Date", b"From", b"To", b"Subject", b"Message-ID", b"MIME-Version", b"Content-Type"], names
m = email.message_from_bytes(raw, policy=policy.default)
assert m["Message-ID"] == "<%s@example.com>" % want, m["Message-ID"]
assert str(m["Subject"]) == "Hi  X-Subject-Injected: 1", m["Subject"]
assert m["From"].addresses[0].addr_spec == "support@example.com", m["From"]
assert re.fullmatch(r"ts-m-[0-9a-f]{32}", m.get_boundary()), m.get_boundary()
alt, att = list(m.iter_parts())
assert re.fullmatch(r"ts-a-[0-9a-f]{32}", alt.get_boundary()), alt.get_boundary()
for part in [alt, att] + list(alt.iter_parts()):
    assert set(k.lower() for k in part.keys()) <= {"content-type", "content-transfer-encoding", "content-disposition"}, part.keys()
assert att.get_content_type() == "text/csv" and att.get_filename() == "r.csv", att
PY
ok $? "smtp: exactly the expected headers, Message-ID and boundaries encoded, CR/LF in subject and name become spaces"
n_before=$(ls "$D/mail"/*.eml | wc -l)
provider email smtp "{\"url\": \"$SMTP\", \"from\": \"support@example.com\", \"tls\": \"none\"}"
id=$(later email juan@example.com "'hi_mail'" '{"name": "Juan"}' "$META")
hostile "$id" "metadata = jsonb_set(metadata, '{attachments,0,content_type}', to_jsonb('text/csv' || chr(13) || chr(10) || 'X-Injected: 1'))"
is "$(final_status "$id" 30)|$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|attachment r.csv has a content_type that is not type/subtype" "smtp: an attachment content type with CR/LF fails the row"
id=$(later email juan@example.com "'hi_mail'" '{"name": "Juan"}' '{}')
hostile "$id" "recipient = 'juan@example.com>' || chr(13) || chr(10) || 'RCPT TO:<evil@example.net'"
is "$(final_status "$id" 30)|$(P -c "SELECT last_error FROM support_troubleshooting_notifications WHERE id = $id")" \
   "failed|the recipient has a control character or an angle bracket: not sent" "smtp: a recipient with CR/LF fails the row"
is "$(ls "$D/mail"/*.eml | wc -l)|$(grep -l evil "$D/mail"/*.json 2>/dev/null | wc -l)" "$n_before|0" \
   "smtp: neither was sent, nobody else got a copy"

conf_reset allow_private_destinations retry_base_delay request_timeout
P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
done_testing
