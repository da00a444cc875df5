#!/usr/bin/env python3
"""Independent AWS Signature Version 4 verifier (tests only).

Checks the Authorization header that a client (libcurl's CURLOPT_AWS_SIGV4,
as used by the extension for SES v2 and SNS) put on a request, by computing
the signature again from the request itself, following the SigV4
specification:

  canonical request =
      method "\\n"
      canonical URI "\\n"            path, dot segments removed, each byte
                                    outside A-Z a-z 0-9 - _ . ~ / written as
                                    %XX (upper case); S3 uses the path as sent
      canonical query string "\\n"   name=value pairs, both URI-encoded the
                                    same way ('/' too), sorted by name, value
      canonical headers "\\n"        "name:value\\n" for each signed header:
                                    lower-case name, value trimmed with
                                    inner runs of spaces collapsed, sorted
      signed headers "\\n"           the SignedHeaders list (a;b;c)
      hex SHA-256 of the payload
  string to sign =
      "AWS4-HMAC-SHA256\\n" x-amz-date "\\n"
      <yyyymmdd>/<region>/<service>/aws4_request "\\n"
      hex SHA-256 of the canonical request
  signing key = HMAC-SHA256 chain: "AWS4"+secret -> yyyymmdd -> region ->
      service -> "aws4_request"; signature = hex HMAC(signing key, string)

Besides the signature it checks: the algorithm is AWS4-HMAC-SHA256; the
Credential scope names the expected access key, region and service, the
date of X-Amz-Date and the aws4_request terminator; SignedHeaders is lower
case, sorted, without duplicates, and includes host, x-amz-date, every
header given in require_signed and, when the request carries one,
x-amz-security-token; every signed header is present; X-Amz-Date is well
formed and (when `now` is given) within max_skew seconds of it; an
X-Amz-Content-Sha256 header, if any, equals the hash of the body; and, when
session_token is given, the X-Amz-Security-Token header equals it.

Python:
    from sigv4 import verify
    ok, reason = verify("POST", "/v2/email/outbound-emails", "",
                        {"host": "127.0.0.1:5000", ...}, b"{...}",
                        "AKID", "SECRET", "us-east-1", "ses")

Command line (one request recorded by test/capture_server.py):
    python3 test/sigv4.py --record requests.jsonl --index N \\
        --access-key AK --secret SK --region R --service S \\
        [--session-token T] [--require-signed NAME ...] [--max-skew SECONDS]
        [--verbose]
  --index counts from 0 (the first line); negative counts from the end
  (-1 is the last request). The path checked is the record's "raw_path"
  (the path as the client sent and signed it, /_mode prefix included), or
  "path" for older records; the body is "body_b64". --max-skew (default 900,
  0 to skip) compares X-Amz-Date with the record's "time".
  Exit status 0 and "ok: ..." when the signature verifies, 1 and
  "FAIL: <reason>" otherwise (2 for usage errors). --verbose also prints the
  canonical request and the string to sign.

Limits: a header repeated in the request is seen as the capture server
records it (values joined with ", "); SigV4a, presigned URLs (signature in
the query string) and chunked S3 payload signing are not supported.

Python 3 standard library only.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import json
import re
import sys
import time
from urllib.parse import quote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
DATE_RE = re.compile(r"(\d{8})T(\d{6})Z")


def _sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def uri_encode(data, keep_slash):
    """Percent-encodes every byte but the unreserved ones (and '/' if told)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return quote(data, safe="/~" if keep_slash else "~")


def remove_dot_segments(path):
    out = []
    for seg in path.split("/"):
        if seg == ".":
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(seg)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def canonical_uri(path, service):
    if not path:
        return "/"
    if service == "s3":
        return path
    return uri_encode(remove_dot_segments(path), keep_slash=True)


def canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((uri_encode(unquote_to_bytes(name), False),
                      uri_encode(unquote_to_bytes(value), False)))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def canonical_header_value(value):
    return re.sub(r"[ \t]+", " ", value.strip())


def signing_key(secret_key, date, region, service):
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def parse_authorization(value):
    """Returns (algorithm, {Credential, SignedHeaders, Signature}) or raises ValueError."""
    value = value.strip()
    algorithm, _, rest = value.partition(" ")
    fields = {}
    for item in rest.split(","):
        item = item.strip()
        if not item:
            continue
        k, eq, v = item.partition("=")
        if not eq:
            raise ValueError("malformed Authorization component %r" % item)
        if k in fields:
            raise ValueError("Authorization component %s given twice" % k)
        fields[k] = v
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        raise ValueError("Authorization lacks %s" % ", ".join(missing))
    return algorithm, fields


def _timestamp(amz_date):
    m = DATE_RE.fullmatch(amz_date)
    if not m:
        return None
    try:
        return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return None


def check(method, path, query, headers, body, access_key, secret_key, region, service,
          now=None, max_skew=900, session_token=None, require_signed=()):
    """Like verify(), plus a dict with the canonical request, string to sign
    and signatures computed so far (for diagnostics)."""
    info = {}
    h = {}
    for k, v in headers.items():
        k = k.lower()
        h[k] = h[k] + "," + v if k in h else v
    if isinstance(body, str):
        body = body.encode("utf-8")

    auth = h.get("authorization")
    if auth is None:
        return False, "no Authorization header", info
    try:
        algorithm, fields = parse_authorization(auth)
    except ValueError as e:
        return False, str(e), info
    if algorithm != ALGORITHM:
        return False, "algorithm %r, want %s" % (algorithm, ALGORITHM), info

    amz_date = h.get("x-amz-date")
    if amz_date is None:
        return False, "no X-Amz-Date header", info
    amz_date = amz_date.strip()
    ts = _timestamp(amz_date)
    if ts is None:
        return False, "malformed X-Amz-Date %r (want yyyymmddThhmmssZ)" % amz_date, info
    if now is not None and max_skew and abs(now - ts) > max_skew:
        return False, "X-Amz-Date %s is %.0f s away from the request time (max %d)" % (
            amz_date, now - ts, max_skew), info

    cred = fields["Credential"].split("/")
    if len(cred) != 5:
        return False, "Credential %r is not <key>/<date>/<region>/<service>/aws4_request" % \
            fields["Credential"], info
    c_key, c_date, c_region, c_service, c_term = cred
    for what, got, want in (("access key", c_key, access_key), ("date", c_date, amz_date[:8]),
                            ("region", c_region, region), ("service", c_service, service),
                            ("terminator", c_term, "aws4_request")):
        if got != want:
            return False, "Credential %s is %r, want %r" % (what, got, want), info
    scope = "/".join(cred[1:])

    signed = fields["SignedHeaders"].split(";")
    if any(not s or s != s.lower() for s in signed):
        return False, "SignedHeaders %r must be non-empty lower-case names" % fields["SignedHeaders"], info
    if signed != sorted(set(signed)):
        return False, "SignedHeaders %r is not sorted or has duplicates" % fields["SignedHeaders"], info
    must = {"host", "x-amz-date"} | {r.lower() for r in require_signed}
    if "x-amz-security-token" in h:
        must.add("x-amz-security-token")
    unsigned = sorted(must - set(signed))
    if unsigned:
        return False, "header(s) %s not in SignedHeaders %r" % (", ".join(unsigned), fields["SignedHeaders"]), info
    absent = [s for s in signed if s not in h]
    if absent:
        return False, "signed header(s) %s missing from the request" % ", ".join(absent), info

    if session_token is not None and h.get("x-amz-security-token") != session_token:
        return False, "X-Amz-Security-Token is %r, want %r" % (h.get("x-amz-security-token"), session_token), info

    payload_hash = _sha256_hex(body)
    declared = h.get("x-amz-content-sha256")
    if declared is not None and declared.strip() != payload_hash:
        return False, "X-Amz-Content-Sha256 %r is not the SHA-256 of the body (%s)" % (declared, payload_hash), info

    canonical = "\n".join([
        method.upper(),
        canonical_uri(path, service),
        canonical_query(query),
        "".join("%s:%s\n" % (s, canonical_header_value(h[s])) for s in signed),
        ";".join(signed),
        payload_hash,
    ])
    to_sign = "\n".join([ALGORITHM, amz_date, scope, _sha256_hex(canonical.encode("utf-8"))])
    want = hmac.new(signing_key(secret_key, c_date, region, service), to_sign.encode("utf-8"),
                    hashlib.sha256).hexdigest()
    got = fields["Signature"].strip()
    info.update(canonical_request=canonical, string_to_sign=to_sign, signature=got, expected=want)
    if not re.fullmatch(r"[0-9a-f]{64}", got):
        return False, "Signature %r is not 64 lower-case hex digits" % got, info
    if not hmac.compare_digest(got, want):
        return False, "signature mismatch: request has %s, computed %s" % (got, want), info
    return True, "signature verifies (scope %s, SignedHeaders %s)" % (scope, ";".join(signed)), info


def verify(method, path, query, headers, body, access_key, secret_key, region, service,
           *, now=None, max_skew=900, session_token=None, require_signed=()):
    """Verifies the SigV4 Authorization of one request.

    method, path (as sent, percent-encoded, no query), query (raw, without
    '?'), headers (name -> value, any case), body (bytes), then the expected
    credentials and scope. Keyword options: now (epoch seconds; with
    max_skew, X-Amz-Date must be that close), session_token (the
    X-Amz-Security-Token the request must carry), require_signed (header
    names that must be signed, e.g. ["content-type"]).
    Returns (ok, reason)."""
    ok, reason, _ = check(method, path, query, headers, body, access_key, secret_key, region,
                          service, now=now, max_skew=max_skew, session_token=session_token,
                          require_signed=require_signed)
    return ok, reason


def load_record(path, index):
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f if l.strip()]
    try:
        return json.loads(lines[index])
    except IndexError:
        raise LookupError("%s has %d request(s), no index %d" % (path, len(lines), index))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Verify the AWS SigV4 signature of a request "
                                             "recorded by test/capture_server.py.")
    ap.add_argument("--record", required=True, help="JSON-lines file of the capture server")
    ap.add_argument("--index", type=int, required=True,
                    help="which request: 0 is the first, -1 the last")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret", required=True, help="secret access key")
    ap.add_argument("--region", required=True)
    ap.add_argument("--service", required=True, help="signing name, e.g. ses or sns")
    ap.add_argument("--session-token", help="X-Amz-Security-Token the request must carry")
    ap.add_argument("--require-signed", action="append", default=[], metavar="HEADER",
                    help="a header that must be in SignedHeaders (repeatable)")
    ap.add_argument("--max-skew", type=int, default=900,
                    help="max seconds between X-Amz-Date and the record time (0: no check)")
    ap.add_argument("--verbose", action="store_true",
                    help="print the canonical request and string to sign")
    args = ap.parse_args(argv)

    try:
        rec = load_record(args.record, args.index)
    except (OSError, ValueError, LookupError) as e:
        print("FAIL: %s" % e)
        return 1
    path = rec.get("raw_path", rec.get("path", "/"))
    if "body_b64" in rec:
        body = base64.b64decode(rec["body_b64"])
    else:
        body = rec.get("body", "").encode("utf-8")
    ok, reason, info = check(rec.get("method", ""), path, rec.get("query", ""),
                             rec.get("headers", {}), body, args.access_key, args.secret,
                             args.region, args.service, now=rec.get("time"),
                             max_skew=args.max_skew, session_token=args.session_token,
                             require_signed=args.require_signed)
    print(("ok: " if ok else "FAIL: ") + reason)
    if args.verbose and "canonical_request" in info:
        print("--- canonical request\n%s\n--- string to sign\n%s" %
              (info["canonical_request"], info["string_to_sign"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
