#!/usr/bin/env bash
# Self-test of test/sigv4.py: checks it against AWS's published SigV4 examples,
# then signs SES v2 (JSON) and SNS (form) requests with libcurl's SigV4
# (curl --aws-sigv4, as the extension does), sends them to
# test/capture_server.py and verifies the recorded requests; tampered
# bodies, headers, keys, scopes and times must fail. Prints TAP.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

. "$(dirname "${BASH_SOURCE[0]}")/selftest_lib.sh"

# ---- known answers from AWS's documentation ----------------------------------
if out=$(cd "$here" && python3 - 2>&1 <<'EOF'
import hashlib, sigv4
errors = []
# Signing key example of the SigV4 documentation (IAM, 20150830).
k = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam").hex()
if k != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9":
    errors.append("signing key %s" % k)
# get-vanilla of the SigV4 test suite.
ok, why = sigv4.verify("GET", "/", "", {
    "Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                     "SignedHeaders=host;x-amz-date, "
                     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    b"", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service")
if not ok:
    errors.append("get-vanilla: " + why)
# S3 GET Object example (Range header, x-amz-content-sha256); AWS's documented
# example key id, assembled so that secret scanners do not take it for a real one.
example_akid = "AKIA" + "IOSFODNN7EXAMPLE"
ok, why = sigv4.verify("GET", "/test.txt", "", {
    "host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9",
    "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(), "x-amz-date": "20130524T000000Z",
    "authorization": "AWS4-HMAC-SHA256 Credential=" + example_akid + "/20130524/us-east-1/s3/aws4_request,"
                     "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
    b"", example_akid, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3")
if not ok:
    errors.append("s3 example: " + why)
# Canonical pieces.
if sigv4.canonical_query("b=2&a=1&a=0&c=x%20y&d=%7e+") != "a=0&a=1&b=2&c=x%20y&d=~%2B":
    errors.append("canonical query %r" % sigv4.canonical_query("b=2&a=1&a=0&c=x%20y&d=%7e+"))
if sigv4.canonical_uri("/a/./b/../c d", "ses") != "/a/c%20d":
    errors.append("canonical uri %r" % sigv4.canonical_uri("/a/./b/../c d", "ses"))
if sigv4.canonical_header_value("  a   b \t c  ") != "a b c":
    errors.append("header value")
print("\n".join(errors))
raise SystemExit(1 if errors else 0)
EOF
); then ok "AWS documentation examples verify (signing key, get-vanilla, S3 GET Object)"
else notok "AWS documentation examples verify (signing key, get-vanilla, S3 GET Object)" "$out"; fi

# ---- a capture server to sign against ------------------------------------------
start_capture_server
ok "capture server listening on port $port"

AK=AKIDEXAMPLE
SK='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
TOKEN='IQoJb3JpZ2luX2VjEK7//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with=+chars'
SES_BODY='{"FromEmailAddress":"noreply@example.com","Destination":{"ToAddresses":["a@example.com"]},"Content":{"Simple":{"Subject":{"Data":"Hi Zoë"},"Body":{"Text":{"Data":"Hello"}}}}}'
SNS_BODY='Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=Hello%20Zo%C3%AB&MessageAttributes.entry.1.Name=AWS.SNS.SMS.SMSType&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=Transactional'

# send DESC WANT-STATUS URL [curl args]: one signed request; checks the status.
count=0
send() {
    local d=$1 want=$2 url=$3; shift 3
    local got
    got=$(curl --noproxy '*' -sS -o "$tmp/body" -w '%{http_code}' "$@" "$url" 2>"$tmp/curl.err" || true)
    count=$((count + 1))
    expect "$d: HTTP $want" "$got" "$want"
}
# verifies INDEX DESC [sigv4.py args]: must exit 0.
verifies() {
    local i=$1 d=$2 out rc=0; shift 2
    out=$(python3 "$here/sigv4.py" --record "${REC:-$record}" --index "$i" "$@" 2>&1) || rc=$?
    if [ $rc = 0 ]; then ok "$d ($out)"; else notok "$d" "exit $rc: $out"; fi
}
# fails INDEX DESC PATTERN [sigv4.py args]: must exit 1 with a reason matching PATTERN.
fails() {
    local i=$1 d=$2 pat=$3 out rc=0; shift 3
    out=$(python3 "$here/sigv4.py" --record "${REC:-$record}" --index "$i" "$@" 2>&1) || rc=$?
    if [ $rc = 1 ] && [[ $out == FAIL:* ]] && grep -Eq "$pat" <<<"$out"; then ok "$d ($out)"
    else notok "$d" "exit $rc: $out (want exit 1 and /$pat/)"; fi
}
# mutate INDEX PYTHON-STATEMENTS: writes record INDEX, changed by the
# statements (r = the record, h = its headers), to $tmp/mutated.jsonl.
mutate() {
    python3 - "$record" "$1" "$2" "$tmp/mutated.jsonl" <<'EOF'
import base64, json, sys
r = json.loads(open(sys.argv[1], encoding="utf-8").readlines()[int(sys.argv[2])])
h = r["headers"]
exec(sys.argv[3])
open(sys.argv[4], "w", encoding="utf-8").write(json.dumps(r) + "\n")
EOF
}
ses=(--access-key "$AK" --secret "$SK" --region us-east-1 --service ses)
sns=(--access-key "$AK" --secret "$SK" --region eu-west-1 --service sns)

# 0: SES v2 SendEmail, JSON, through the capture server's ses mode
send "SES JSON via /_mode/ses" 200 "$base/_mode/ses/v2/email/outbound-emails" \
    --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" -H 'Content-Type: application/json' -d "$SES_BODY"
verifies 0 "SES JSON (signed path includes the /_mode prefix): verifies" "${ses[@]}" --require-signed content-type
# 1: same, plain path
send "SES JSON, plain path" 200 "$base/v2/email/outbound-emails" \
    --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" -H 'Content-Type: application/json' -d "$SES_BODY"
verifies 1 "SES JSON, plain path: verifies" "${ses[@]}"
# 2: SES with a session token
send "SES JSON with X-Amz-Security-Token" 200 "$base/_mode/ses/v2/email/outbound-emails" \
    --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" -H 'Content-Type: application/json' \
    -H "X-Amz-Security-Token: $TOKEN" -d "$SES_BODY"
verifies 2 "SES with session token: verifies, token signed and equal" "${ses[@]}" --session-token "$TOKEN"
# 3: SNS Publish, form-encoded
send "SNS form Publish via /_mode/sns" 200 "$base/_mode/sns/" \
    --aws-sigv4 "aws:amz:eu-west-1:sns" --user "$AK:$SK" \
    -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' -d "$SNS_BODY"
verifies 3 "SNS form body: verifies" "${sns[@]}" --require-signed content-type
# 4: SNS with a session token
send "SNS form Publish with X-Amz-Security-Token" 200 "$base/_mode/sns/" \
    --aws-sigv4 "aws:amz:eu-west-1:sns" --user "$AK:$SK" \
    -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' -H "X-Amz-Security-Token: $TOKEN" -d "$SNS_BODY"
verifies 4 "SNS with session token: verifies" "${sns[@]}" --session-token "$TOKEN"
# 5: binary body
printf '\x00\x01\x02\xfe\xff raw \r\n.\r\n' >"$tmp/binary.bin"
send "SES binary body" 200 "$base/_mode/ses/v2/email/outbound-emails" \
    --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$tmp/binary.bin"
verifies 5 "binary body: verifies" "${ses[@]}"
# 6: query string already in canonical order (libcurl 7.88 signs the query
# as given, without sorting it, so only a sorted one verifies)
send "SES with a sorted query string" 200 "$base/_mode/ses/v2/email/outbound-emails?a=1&b=x%20y" \
    --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" -H 'Content-Type: application/json' -d '{}'
verifies 6 "sorted query string: verifies" "${ses[@]}"
# 7: signed for another region than the verifier expects
send "SES signed for us-west-2" 200 "$base/_mode/ses/v2/email/outbound-emails" \
    --aws-sigv4 "aws:amz:us-west-2:ses" --user "$AK:$SK" -H 'Content-Type: application/json' -d "$SES_BODY"
verifies 7 "us-west-2 request verifies as us-west-2" --access-key "$AK" --secret "$SK" --region us-west-2 --service ses

expect "capture server recorded $count requests" "$(wc -l <"$record")" "$count"

# ---- what must fail --------------------------------------------------------------
fails 7 "wrong region (scope us-west-2, expected us-east-1)" 'Credential region' "${ses[@]}"
fails 0 "wrong region (scope us-east-1, expected eu-west-1)" 'Credential region' --access-key "$AK" --secret "$SK" --region eu-west-1 --service ses
fails 0 "wrong secret" 'signature mismatch' --access-key "$AK" --secret "${SK}x" --region us-east-1 --service ses
fails 0 "wrong access key" 'Credential access key' --access-key AKIDOTHER --secret "$SK" --region us-east-1 --service ses
fails 0 "wrong service (sns for an ses request)" 'Credential service' --access-key "$AK" --secret "$SK" --region us-east-1 --service sns
fails 0 "content-type not signed when required (--require-signed x-custom)" 'not in SignedHeaders' "${ses[@]}" --require-signed x-custom
fails 2 "wrong session token expected" 'X-Amz-Security-Token' "${ses[@]}" --session-token other
fails 99 "no such index" 'no index 99' "${ses[@]}"

REC=$tmp/mutated.jsonl
mutate 0 'r["body_b64"] = base64.b64encode(base64.b64decode(r["body_b64"]).replace(b"a@example.com", b"b@example.com")).decode()'
fails 0 "tampered body (SES recipient changed)" 'signature mismatch' "${ses[@]}"
mutate 3 'r["body_b64"] = base64.b64encode(base64.b64decode(r["body_b64"]) + b"&Subject=x").decode()'
fails 0 "tampered body (SNS parameter appended)" 'signature mismatch' "${sns[@]}"
mutate 5 'r["body_b64"] = base64.b64encode(base64.b64decode(r["body_b64"])[:-1]).decode()'
fails 0 "tampered binary body (one byte less)" 'signature mismatch' "${ses[@]}"
mutate 0 'h["content-type"] = "text/plain"'
fails 0 "tampered signed header (content-type)" 'signature mismatch' "${ses[@]}"
mutate 7 'h["authorization"] = h["authorization"].replace("/us-west-2/", "/us-east-1/")'
fails 0 "region in the Credential scope rewritten to the expected one" 'signature mismatch' "${ses[@]}"
mutate 0 'h["user-agent"] = "something else"; h["x-unsigned"] = "1"'
verifies 0 "unsigned headers changed or added: still verifies" "${ses[@]}"
mutate 0 'r["raw_path"] = "/v2/email/outbound-emails"'
fails 0 "tampered path" 'signature mismatch' "${ses[@]}"
mutate 6 'r["query"] = "a=1&b=x%20z"'
fails 0 "tampered query" 'signature mismatch' "${ses[@]}"
mutate 0 'r["method"] = "PUT"'
fails 0 "tampered method" 'signature mismatch' "${ses[@]}"
mutate 0 'h["host"] = "127.0.0.1:1"'
fails 0 "tampered host" 'signature mismatch' "${ses[@]}"
mutate 2 'h["x-amz-security-token"] = h["x-amz-security-token"] + "x"'
fails 0 "tampered session token" 'signature mismatch' "${ses[@]}"
mutate 2 'del h["x-amz-security-token"]'
fails 0 "signed session token removed" 'missing from the request' "${ses[@]}"
mutate 1 'h["x-amz-security-token"] = "added-later"'
fails 0 "session token present but not signed" 'x-amz-security-token not in SignedHeaders' "${ses[@]}"
mutate 0 'h["x-amz-date"] = h["x-amz-date"][:-3] + ("00Z" if h["x-amz-date"][-3:] != "00Z" else "01Z")'
fails 0 "tampered X-Amz-Date" 'signature mismatch' "${ses[@]}"
mutate 0 'del h["authorization"]'
fails 0 "no Authorization header" 'no Authorization' "${ses[@]}"
mutate 0 'h["authorization"] = h["authorization"].replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")'
fails 0 "other algorithm (SigV4a)" 'algorithm' "${ses[@]}"
mutate 0 'h["authorization"] = h["authorization"].replace("/aws4_request", "/aws4_reqest")'
fails 0 "bad scope terminator" 'terminator' "${ses[@]}"
mutate 0 'h["authorization"] = h["authorization"].replace("content-type;host;x-amz-date", "host;content-type;x-amz-date")'
fails 0 "unsorted SignedHeaders" 'not sorted' "${ses[@]}"
mutate 0 'r["time"] += 1000'
fails 0 "X-Amz-Date 1000 s before the request was received" 'away from the request time' "${ses[@]}"
verifies 0 "... accepted with --max-skew 0" "${ses[@]}" --max-skew 0
mutate 0 'h["x-amz-content-sha256"] = "0" * 64'
fails 0 "X-Amz-Content-Sha256 not the body's hash" 'X-Amz-Content-Sha256' "${ses[@]}"
unset REC

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
expect "capture server exits 0 on SIGTERM" "$rc" 0

echo "1..$n"
[ "$failed" -eq 0 ]
