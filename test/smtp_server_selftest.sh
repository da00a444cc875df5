#!/usr/bin/env bash
# Self-test of test/smtp_server.py and test/smtp_cert.sh: sends mail with the
# curl command line (libcurl, like the extension) over STARTTLS, implicit TLS
# and plain SMTP, with and without AUTH, and checks the stored .eml/.json
# files and the SMTP codes curl reports. Prints TAP.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

. "$(dirname "${BASH_SOURCE[0]}")/selftest_lib.sh"

# ---- certificate ------------------------------------------------------------------
if bash "$here/smtp_cert.sh" "$tmp/cert" >"$tmp/cert.log" 2>&1 \
    && openssl x509 -in "$tmp/cert/cert.pem" -noout -subject -ext subjectAltName >"$tmp/cert.txt" 2>&1 \
    && grep -q 'CN *= *localhost' "$tmp/cert.txt" && grep -q 'IP Address:127.0.0.1' "$tmp/cert.txt" \
    && grep -q 'DNS:localhost' "$tmp/cert.txt" && [ "$(stat -c %a "$tmp/cert/key.pem")" = 600 ]; then
    ok "smtp_cert.sh: CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, key mode 600"
else
    notok "smtp_cert.sh: CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, key mode 600" \
        "$(cat "$tmp/cert.log" "$tmp/cert.txt" 2>/dev/null | tr '\n' ' ')"
fi
CERT=$tmp/cert/cert.pem
KEY=$tmp/cert/key.pem

# start NAME ARGS...: starts smtp_server.py with maildir $tmp/NAME.mail; sets
# $port; its pid is the last of $pids.
start() {
    local name=$1; shift
    rm -f "$tmp/$name.port"
    python3 "$here/smtp_server.py" --port 0 --portfile "$tmp/$name.port" --maildir "$tmp/$name.mail" "$@" \
        >"$tmp/$name.out" 2>>"$tmp/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$tmp/$name.port" ] && break
        sleep 0.1
    done
    if [ -s "$tmp/$name.port" ]; then
        port=$(cat "$tmp/$name.port")
        ok "$name server listening on 127.0.0.1:$port ($*)"
    else
        port=1
        notok "$name server wrote its portfile within 10 s" "$(cat "$tmp/$name.err")"
    fi
}
# stop NAME: SIGTERM to the last started server, which must exit 0 having
# written nothing to stdout or stderr.
stop() {
    local name=$1 pid=${pids[-1]} rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    expect "$name server: exit 0 on SIGTERM" "$rc" 0
    if [ -s "$tmp/$name.err" ] || [ -s "$tmp/$name.out" ]; then
        notok "$name server: nothing on stderr or stdout" "$(cat "$tmp/$name.err" "$tmp/$name.out" | tr '\n' ' ')"
    else
        ok "$name server: nothing on stderr or stdout"
    fi
}

# send URL [curl args]: one message ($tmp/msg.txt unless --upload-file is
# given again); sets $rc (curl exit status) and $code (last SMTP reply code),
# the transcript is in $tmp/curl.log.
send() {
    local url=$1; shift
    rc=0
    code=$(curl --noproxy '*' -sS -v -m 20 --url "$url" --mail-from a@example.com \
        --upload-file "$tmp/msg.txt" -w '%{response_code}' "$@" 2>"$tmp/curl.log") || rc=$?
}
# files DIR: number of stored messages
files() { find "$1" -name '[0-9]*.json' 2>/dev/null | wc -l; }
# json_is DESC FILE PYTHON-EXPR (j = the JSON object)
json_is() {
    local out
    if out=$(python3 -c 'import json, re, sys; j = json.load(open(sys.argv[1])); ok = eval(sys.argv[2]); print("" if ok else j); sys.exit(0 if ok else 1)' "$2" "$3" 2>&1); then
        ok "$1"
    else
        notok "$1" "$out"
    fi
}
queued_id() { sed -n 's/^< 250 2\.0\.0 Ok: queued as \([0-9A-F]*\)\r\{0,1\}$/\1/p' "$tmp/curl.log" | tail -1; }

# A message with CRLF line endings, a line starting with a dot (curl
# dot-stuffs it, the server must unstuff it) and 8-bit text.
printf 'From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: Test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Zo\xc3\xab\r\n.leading dot\r\n..two dots\r\nend\r\n' >"$tmp/msg.txt"

# ---- STARTTLS with AUTH ---------------------------------------------------------------
start starttls --tls starttls --cert "$CERT" --key "$KEY" --auth-user u --auth-password 'p@ss w0rd'
S=smtp://127.0.0.1:$port
M=$tmp/starttls.mail

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt b@example.com --mail-rcpt c@example.com --user 'u:p@ss w0rd'
expect "STARTTLS + AUTH PLAIN: curl exit 0, reply 250" "$rc $code" "0 250"
check "transcript: STARTTLS, then AUTH, then 250 2.0.0 Ok: queued as <10 hex>" \
    grep -Eq '^< 250 2\.0\.0 Ok: queued as [0-9A-F]{10}.?$' "$tmp/curl.log"
check "1.eml is exactly the uploaded message (dots unstuffed)" cmp -s "$M/1.eml" "$tmp/msg.txt"
json_is "1.json: envelope, auth_user u, tls true, peer 127.0.0.1, queue_id as replied" "$M/1.json" \
    "j['mail_from'] == 'a@example.com' and j['rcpt_tos'] == ['b@example.com', 'c@example.com'] and j['auth_user'] == 'u' and j['tls'] is True and j['peer'][0] == '127.0.0.1' and isinstance(j['peer'][1], int) and j['queue_id'] == '$(queued_id)' and re.fullmatch('[0-9A-F]{10}', j['queue_id']) and j['n'] == 1 and j['size'] == $(wc -c <"$tmp/msg.txt")"
check "transcript shows STARTTLS before AUTH" python3 -c '
import sys
t = open(sys.argv[1], encoding="latin-1").read()
sys.exit(0 if 0 <= t.find("> STARTTLS") < t.find("> AUTH") else 1)' "$tmp/curl.log"

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt b@example.com --user 'u:p@ss w0rd' --login-options AUTH=LOGIN
expect "STARTTLS + AUTH LOGIN: curl exit 0, reply 250" "$rc $code" "0 250"
json_is "2.json: auth_user u (LOGIN), new queue id" "$M/2.json" "j['auth_user'] == 'u' and j['n'] == 2 and j['queue_id'] == '$(queued_id)'"

send "$S" --mail-rcpt b@example.com
expect "no TLS (smtp:// without --ssl-reqd): MAIL refused, curl exit 55, code 530" "$rc $code" "55 530"
check "... with 530 Must issue a STARTTLS command first" grep -q '^< 530 Must issue a STARTTLS command first' "$tmp/curl.log"
send "$S" --mail-rcpt b@example.com --user 'u:p@ss w0rd'
expect "no TLS with credentials: AUTH not offered, MAIL refused with 530" "$rc $code" "55 530"
check "... and the password never went out in clear" bash -c "! grep -q '^> AUTH' '$tmp/curl.log'"

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt b@example.com --user 'u:wrong'
expect "wrong password: curl exit 67 (login denied), code 535" "$rc $code" "67 535"
send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt b@example.com
expect "TLS without credentials: MAIL refused, code 530" "$rc $code" "55 530"
check "... with 530 5.7.0 Authentication required" grep -q '^< 530 5.7.0 Authentication required' "$tmp/curl.log"

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt tempfail@example.com --user 'u:p@ss w0rd'
expect "tempfail recipient: curl fails (55), code 451" "$rc $code" "55 451"
check "... with 451 4.3.0 Temporary failure" grep -q '^< 451 4.3.0 Temporary failure' "$tmp/curl.log"
send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt Reject@example.com --user 'u:p@ss w0rd'
expect "reject recipient: curl fails (55), code 550" "$rc $code" "55 550"
check "... with 550 5.1.1 User unknown" grep -q '^< 550 5.1.1 User unknown' "$tmp/curl.log"

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt reject@example.com --mail-rcpt d@example.com --user 'u:p@ss w0rd' --mail-rcpt-allowfails
expect "one rejected of two recipients with --mail-rcpt-allowfails: sent, 250" "$rc $code" "0 250"
json_is "3.json: only the accepted recipient" "$M/3.json" "j['rcpt_tos'] == ['d@example.com'] and j['n'] == 3"

send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt datafail@example.com --user 'u:p@ss w0rd'
expect "datafail recipient: 451 after the data, curl fails" "$( [ $rc != 0 ] && echo fails) $code" "fails 451"
send "$S" --ssl-reqd --cacert "$CERT" --mail-rcpt datareject@example.com --user 'u:p@ss w0rd'
expect "datareject recipient: 554 after the data, curl fails" "$( [ $rc != 0 ] && echo fails) $code" "fails 554"
expect "nothing stored for refused messages (3 messages)" "$(files "$M")" 3
expect "no temporary files left in the maildir" "$(find "$M" -name '.*' | wc -l)" 0
stop starttls

# ---- implicit TLS (smtps) -----------------------------------------------------------
start implicit --tls implicit --cert "$CERT" --key "$KEY" --auth-user u --auth-password p
send "smtps://127.0.0.1:$port" --cacert "$CERT" --mail-rcpt b@example.com --user u:p
expect "smtps:// + AUTH: curl exit 0, reply 250" "$rc $code" "0 250"
check "smtps: 1.eml is the uploaded message" cmp -s "$tmp/implicit.mail/1.eml" "$tmp/msg.txt"
json_is "smtps: 1.json tls true, auth_user u" "$tmp/implicit.mail/1.json" \
    "j['tls'] is True and j['auth_user'] == 'u' and j['rcpt_tos'] == ['b@example.com'] and j['queue_id'] == '$(queued_id)'"
check "smtps: no STARTTLS offered" bash -c "! grep -q '^< 250-STARTTLS' '$tmp/curl.log'"
send "smtps://127.0.0.1:$port" --cacert "$CERT" --mail-rcpt b@example.com --user u:bad
expect "smtps: wrong password: code 535" "$rc $code" "67 535"
send "smtps://127.0.0.1:$port" --mail-rcpt b@example.com --user u:p
expect "smtps: certificate not trusted without --cacert: curl exit 60" "$rc" 60
stop implicit

# ---- no TLS ---------------------------------------------------------------------------
start plain --tls none
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com --user ignored:creds
expect "plain, no AUTH configured: sent (credentials unused), 250" "$rc $code" "0 250"
json_is "plain: 1.json tls false, auth_user null" "$tmp/plain.mail/1.json" "j['tls'] is False and j['auth_user'] is None"
check "plain without --auth-user: EHLO offers neither AUTH nor STARTTLS" \
    bash -c "! grep -Eq '^< 250.(AUTH|STARTTLS)' '$tmp/curl.log'"
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com --ssl-reqd
expect "plain server, client requiring TLS: curl exit 64 (use SSL failed)" "$rc" 64
stop plain
start plain --tls none
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com
expect "restarted on the same maildir: sent" "$rc $code" "0 250"
json_is "restarted: numbering continues at 2" "$tmp/plain.mail/2.json" "j['n'] == 2"
stop plain

# ---- broken or hostile replies -------------------------------------------------------
start broken --tls none
B=$tmp/broken.mail
send "smtp://127.0.0.1:$port" --mail-rcpt multiline@example.com
expect "multiline: sent, 250" "$rc $code" "0 250"
check "multiline: the final reply is three lines, the last with the queue id" python3 - "$tmp/curl.log" "$B/1.json" <<'EOF'
import json, re, sys
t = open(sys.argv[1], encoding="latin-1").read()
qid = json.load(open(sys.argv[2]))["queue_id"]
want = "< 250-2.0.0 Ok\r\n< 250-Have a nice day\r\n< 250 2.0.0 Ok: queued as %s\r\n" % qid
sys.exit(0 if re.fullmatch(r"[0-9A-F]{10}", qid) and want in t.replace("\r\n", "\n").replace("\n", "\r\n") else 1)
EOF
send "smtp://127.0.0.1:$port" --mail-rcpt multiline-tempfail@example.com
expect "multiline-tempfail: curl fails, code 451" "$( [ $rc != 0 ] && echo fails) $code" "fails 451"
check "... with a two-line 451 reply" grep -q '^< 451 4.3.0 Try again later' "$tmp/curl.log"
send "smtp://127.0.0.1:$port" --mail-rcpt longid@example.com
expect "longid: sent, 250" "$rc $code" "0 250"
json_is "longid: stored with a 400-digit queue id, as replied" "$B/2.json" \
    "re.fullmatch('[0-9A-F]{400}', j['queue_id']) and j['queue_id'] == '$(queued_id)'"
send "smtp://127.0.0.1:$port" --mail-rcpt malformed@example.com
check "malformed: curl fails on a reply without a code (exit $rc)" test "$rc" != 0
check "... the reply was 'Ok, queued I think'" grep -q '^< Ok, queued I think' "$tmp/curl.log"
json_is "malformed: the message was stored all the same" "$B/3.json" "j['rcpt_tos'] == ['malformed@example.com']"
send "smtp://127.0.0.1:$port" --mail-rcpt malformed-rcpt@example.com
check "malformed-rcpt: curl fails at RCPT (exit $rc)" test "$rc" != 0
check "... the reply was '2x0 what?'" grep -q '^< 2x0 what?' "$tmp/curl.log"
expect "broken: three messages stored" "$(files "$B")" 3
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com
expect "broken: an ordinary message after all that is sent" "$rc $code" "0 250"
stop broken

start plainauth --tls none --auth-user u --auth-password p
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com
expect "plain with --auth-user, no credentials: code 530" "$rc $code" "55 530"
send "smtp://127.0.0.1:$port" --mail-rcpt b@example.com --user u:p
expect "plain with --auth-user: AUTH without TLS works, 250" "$rc $code" "0 250"
json_is "plain with auth: tls false, auth_user u" "$tmp/plainauth.mail/1.json" "j['tls'] is False and j['auth_user'] == 'u'"
stop plainauth

echo "1..$n"
[ "$failed" -eq 0 ]
