#!/usr/bin/env python3
"""Loopback HTTP capture server for the notification dispatcher tests.

Records every request it receives as one JSON line and answers the way a
given provider (Slack, Teams, Discord, Standard Webhooks receiver, ...) or a
given failure (status code, rate limit, slowness, hang, reset) would.

Usage:
    python3 test/capture_server.py --port 0 --record /path/requests.jsonl \
        --portfile /path/port [--mode ok]

Listens on 127.0.0.1 only. --port 0 picks a free port; the chosen port is
written to --portfile (via a temporary file and a rename) once listening.
Runs until SIGTERM or SIGINT, then exits 0.

Choosing the behaviour
    /_mode/<mode>/<rest>   applies <mode>; the request is recorded with
                           path "/<rest>" (and mode "<mode>").
    any other path         applies the default mode ("ok" unless changed by
                           --mode or the control API).

Modes
    ok                  200 "ok" (text/plain)
    slack               200 "ok" (text/plain)
    teams               202, empty body
    discord             ?wait=true: 200 {"id": "<18 digits>", "channel_id": "1"}
                        otherwise 204, no body
    webhook             204, no body
    status-NNN          NNN (200..599) with {"error": "status NNN"}
                        (no body for 204/304)
    retry-after-N       429, Retry-After: N, {"message": "rate limited"}
    discord-429         429, Retry-After: 2, {"message": "You are being rate
                        limited.", "retry_after": 1.5, "global": false}
    slow-MS             sleeps MS milliseconds, then 200 "ok"
    hang                reads the request, never answers (up to 600 s or
                        until shutdown), keeps the connection open
    reset               reads the request, then resets the connection
                        (SO_LINGER 0 + close), no response
    flaky-N             per distinct path (with the /_mode prefix, without
                        the query): the first N requests get 503
                        {"error": "status 503"}, later ones 200 "ok"
    teams-legacy-429    200 "Microsoft Teams endpoint returned HTTP error 429"

  Hostile or broken providers (the client must stay bounded and readable):
    retry-after-huge    429, Retry-After: 99999999999999
    retry-after-negative  429, Retry-After: -30
    retry-after-fraction  429, Retry-After: 0.5
    retry-after-garbage   429, Retry-After: soon, maybe
    retry-after-date-N  429, Retry-After: the HTTP-date N seconds from now
                        (Fri, 31 Dec 9999 23:59:59 GMT when later than that)
    discord-429-huge    429 {"message": "You are being rate limited.",
                        "retry_after": 1e300, "global": false}, no
                        Retry-After header
    discord-429-negative  the same with "retry_after": -5
    discord-429-inf     the same with "retry_after": Infinity (not JSON)
    huge-header         200 "ok" with a 1 MB header (X-Filler: 1048576 "a")
    endless             200, chunked, an endless body of "x" (until the
                        client goes away or the server stops)
    reset-mid           200 head with Content-Length: 100000, 10 bytes of
                        body, then a reset (SO_LINGER 0 + close)
    drip                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        one byte a second (each byte its own write)
    redirect-loopback   302, Location: http://127.0.0.1:<this server's port>/
                        _mode/ok/followed-redirect (a request there shows
                        that a client followed a redirect)
    invalid-utf8-NNN    NNN, application/json, a JSON-shaped body with
                        invalid UTF-8: {"id":"12<ff fe>3","message":"bad
                        <c3 28> bytes <ed a0 80><c0 af>","retry_after":1}
                        (no body for 204/304)
    not-json-NNN        NNN, application/json, but the body is
                        "<html><body>Bad Gateway\x01\x7f</body></html>"

  Email and SMS providers (each answers as the provider's API does; JSON
  bodies are compact, exactly as below; <hex N> is N random lower-case hex digits,
  <uuid> a random UUID4):
    sendgrid            202, empty body, X-Message-Id: <22 random base64url
                        characters>
    sendgrid-400        400 {"errors":[{"message":"The from email does not
                        contain a valid address.","field":"from.email",
                        "help":null}]}
    mailgun             200 {"id":"<YYYYmmddHHMMSS.<5 digits>.<hex 8>@example.
                        mailgun.org>","message":"Queued. Thank you."}
                        (the id with its angle brackets, UTC time of the
                        request)
    mailgun-420         420 {"message":"Domain example.com is not allowed to
                        send: recipient limit exceeded, try again after Wed,
                        25 Nov 2026 18:00:00 UTC"}
    ses                 200 {"MessageId":"0100018c<hex 8>-<uuid>-000000"},
                        x-amzn-RequestId: <uuid>
    ses-throttle        400 {"message":"Rate exceeded"}, x-amzn-RequestId,
                        x-amzn-ErrorType: ThrottlingException:http://internal.
                        amazon.com/coral/com.amazon.coral.availability/
    ses-rejected        400 {"message":"Email address is not verified."},
                        x-amzn-RequestId, x-amzn-ErrorType: MessageRejected
    twilio              201 Message resource: {"account_sid", "api_version":
                        "2010-04-01", "body", "date_created", "date_sent":
                        null, "date_updated", "direction": "outbound-api",
                        "error_code": null, "error_message": null, "from",
                        "messaging_service_sid", "num_media": "0",
                        "num_segments": "1", "price": null, "price_unit":
                        "USD", "sid": "SM"+<hex 32>, "status": "queued"
                        ("accepted" when MessagingServiceSid was sent),
                        "subresource_uris", "to", "uri"}; To, From, Body,
                        MessagingServiceSid are echoed from a form body,
                        account_sid from the .../Accounts/<sid>/... path
    twilio-400          400 {"code":21211,"message":"The 'To' number +1555
                        is not a valid phone number.","more_info":
                        "https://www.twilio.com/docs/errors/21211",
                        "status":400}
    twilio-429          429 {"code":20429,"message":"Too Many Requests",
                        "status":429}
    sns                 200 text/xml, x-amzn-RequestId: <uuid>,
                        <PublishResponse xmlns="http://sns.amazonaws.com/doc/
                        2010-03-31/"><PublishResult><MessageId><uuid>
                        </MessageId></PublishResult><ResponseMetadata>
                        <RequestId><uuid></RequestId></ResponseMetadata>
                        </PublishResponse> (one line, no spaces)
    sns-throttle        400 text/xml, x-amzn-RequestId: <uuid>,
                        <ErrorResponse xmlns="http://sns.amazonaws.com/doc/
                        2010-03-31/"><Error><Type>Sender</Type><Code>
                        Throttling</Code><Message>Rate exceeded</Message>
                        </Error><RequestId><uuid></RequestId></ErrorResponse>
    JSON answers of these modes are application/json.

    An unknown mode is answered 400 {"error": "unknown mode ..."} and recorded.

Control API (never recorded)
    GET  /_control/health   {"ok": true}
    GET  /_control/count    {"count": <requests recorded since start/reset>}
    POST /_control/reset    empties the record file, the flaky counters and
                            the count, restores the startup default mode;
                            {"ok": true}
    GET  /_control/mode     {"mode": "<default mode>"}
    POST /_control/mode     sets the default mode for requests without a
                            /_mode prefix: ?mode=<mode>, or the body as
                            {"mode": "<mode>"} or as plain text;
                            {"ok": true, "mode": "<mode>"}

Record line (one JSON object per request, ASCII-only JSON):
    {"time": <epoch float, when the request was fully read>, "method",
     "path" (raw, without query, /_mode prefix stripped),
     "raw_path" (the path as sent, /_mode prefix included, without query:
     what a client signed, e.g. with AWS SigV4), "query" (raw),
     "headers": {lower-cased name: value, repeats joined with ", "},
     "body" (UTF-8, errors replaced), "body_b64" (base64 of the raw body
     bytes, exact), "mode", "status" (code sent, null for hang/reset)}
Headers are kept as sent (authorization, host, x-amz-date,
x-amz-security-token, content-type, ...), only their names lower-cased.
A request is recorded (and flushed) before its response is sent, so a client
that has its answer can rely on the line being in the file already. Requests
whose head or body never arrive completely are not recorded. 1xx/204/304
responses carry no Content-Length (RFC 9110); all others always do.

Python 3.11 standard library only.
"""

import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from email.utils import formatdate
from urllib.parse import parse_qs
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from portfile import write_portfile

HOST = "127.0.0.1"
HANG_SECONDS = 600
IDLE_TIMEOUT = 300  # seconds an idle keep-alive connection is kept

MODE_PREFIX = "/_mode/"
CONTROL_PREFIX = "/_control/"

_rng = random.SystemRandom()


class BadRequest(Exception):
    pass


class State:
    """Shared server state: record file, counters, default mode."""

    def __init__(self, record_path, default_mode):
        self.lock = threading.Lock()
        self.record_path = record_path
        self.record = open(record_path, "a", encoding="utf-8")
        self.count = 0
        self.flaky = {}
        self.initial_mode = default_mode
        self.default_mode = default_mode
        self.stopping = threading.Event()

    def write_record(self, obj):
        line = json.dumps(obj, ensure_ascii=True, separators=(", ", ": ")) + "\n"
        with self.lock:
            if self.record is None:
                return
            self.record.write(line)
            self.record.flush()
            self.count += 1

    def flaky_hit(self, key):
        with self.lock:
            n = self.flaky.get(key, 0) + 1
            self.flaky[key] = n
            return n

    def reset(self):
        with self.lock:
            if self.record is not None:
                self.record.seek(0)
                self.record.truncate(0)
                self.record.flush()
            self.count = 0
            self.flaky.clear()
            self.default_mode = self.initial_mode

    def close(self):
        with self.lock:
            if self.record is not None:
                self.record.flush()
                self.record.close()
                self.record = None


def json_bytes(obj):
    return json.dumps(obj).encode("utf-8")


def compact_json(obj):
    """JSON the way the providers send it: no spaces."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def rand_hex(n):
    return "%0*x" % (n, _rng.getrandbits(4 * n))


SES_THROTTLE_TYPE = ("ThrottlingException:http://internal.amazon.com/coral/"
                     "com.amazon.coral.availability/")
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"

# Fixed answers: mode -> (status, JSON object, extra headers)
FIXED_JSON = {
    "sendgrid-400": (400, {"errors": [{"message": "The from email does not contain a valid address.",
                                       "field": "from.email", "help": None}]}, ()),
    "mailgun-420": (420, {"message": "Domain example.com is not allowed to send: recipient limit "
                                     "exceeded, try again after Wed, 25 Nov 2026 18:00:00 UTC"}, ()),
    "twilio-400": (400, {"code": 21211,
                         "message": "The 'To' number +1555 is not a valid phone number.",
                         "more_info": "https://www.twilio.com/docs/errors/21211",
                         "status": 400}, ()),
    "twilio-429": (429, {"code": 20429, "message": "Too Many Requests", "status": 429}, ()),
    "ses-throttle": (400, {"message": "Rate exceeded"},
                     (("x-amzn-ErrorType", SES_THROTTLE_TYPE),)),
    "ses-rejected": (400, {"message": "Email address is not verified."},
                     (("x-amzn-ErrorType", "MessageRejected"),)),
}
# Hostile answers: mode -> plan (status or None, kind)
HOSTILE_MODES = {
    "retry-after-huge": (429, "retry-after-text", "99999999999999"),
    "retry-after-negative": (429, "retry-after-text", "-30"),
    "retry-after-fraction": (429, "retry-after-text", "0.5"),
    "retry-after-garbage": (429, "retry-after-text", "soon, maybe"),
    "discord-429-huge": (429, "discord-429-body", b"1e300"),
    "discord-429-negative": (429, "discord-429-body", b"-5"),
    "discord-429-inf": (429, "discord-429-body", b"Infinity"),
    "huge-header": (200, "huge-header"),
    "endless": (200, "endless"),
    "reset-mid": (200, "reset-mid"),
    "drip": (200, "drip"),
    "redirect-loopback": (302, "redirect-loopback"),
}
HUGE_HEADER = 1024 * 1024
LAST_HTTP_DATE = 253402300799  # Fri, 31 Dec 9999 23:59:59 GMT
INVALID_UTF8_BODY = (b'{"id":"12\xff\xfe3","message":"bad \xc3\x28 bytes \xed\xa0\x80\xc0\xaf",'
                     b'"retry_after":1}')
NOT_JSON_BODY = b"<html><body>Bad Gateway\x01\x7f</body></html>"
DRIP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

PROVIDER_MODES = {"sendgrid": 202, "mailgun": 200, "ses": 200, "twilio": 201, "sns": 200,
                  "sns-throttle": 400}


class EOFTrackingReader:
    """Wraps rfile to notice a line cut short by EOF (client went away)."""

    def __init__(self, f):
        self._f = f
        self.eof = False

    def readline(self, *args):
        line = self._f.readline(*args)
        if not line.endswith(b"\n"):
            self.eof = True
        return line

    def __getattr__(self, name):
        return getattr(self._f, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capture_server/1"
    sys_version = ""

    def version_string(self):
        return self.server_version
    timeout = IDLE_TIMEOUT

    state = None  # set by main()

    # ---- logging: quiet on stdout, errors on stderr ----------------------

    def log_message(self, format, *args):
        pass

    def log_error(self, format, *args):
        sys.stderr.write("capture_server: %s: %s\n" % (self.address_string(), format % args))
        sys.stderr.flush()

    def setup(self):
        super().setup()
        self.rfile = EOFTrackingReader(self.rfile)

    # ---- every method goes through handle_any -----------------------------

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # ---- request body -----------------------------------------------------

    def read_exact(self, n):
        data = self.rfile.read(n)
        if data is None or len(data) != n:
            raise ConnectionError("client closed the connection mid-body")
        return data

    def read_line(self):
        line = self.rfile.readline(65537)
        if not line:
            raise ConnectionError("client closed the connection mid-body")
        if len(line) > 65536:
            raise BadRequest("chunk line too long")
        return line

    def read_body(self):
        te = ",".join(self.headers.get_all("Transfer-Encoding") or [])
        codings = [c.strip().lower() for c in te.split(",") if c.strip()]
        if codings:
            if codings[-1] != "chunked":
                raise BadRequest("unsupported Transfer-Encoding %r" % te)
            return self.read_chunked()
        cls = self.headers.get_all("Content-Length") or []
        if not cls:
            return b""
        values = {v.strip() for c in cls for v in c.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise BadRequest("bad Content-Length %r" % cls)
        n = int(next(iter(values)))
        return self.read_exact(n) if n else b""

    def read_chunked(self):
        parts = []
        while True:
            line = self.read_line()
            size_s = line.split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise BadRequest("bad chunk size %r" % line)
            if size < 0:
                raise BadRequest("bad chunk size %r" % line)
            if size == 0:
                break
            parts.append(self.read_exact(size))
            if self.read_exact(2) != b"\r\n":
                raise BadRequest("chunk not followed by CRLF")
        # trailers, up to the empty line
        while True:
            line = self.read_line()
            if line in (b"\r\n", b"\n"):
                break
        return b"".join(parts)

    # ---- responses ----------------------------------------------------------

    def respond(self, status, body=b"", content_type=None, headers=()):
        no_body = status in (204, 304) or 100 <= status < 200
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not no_body:
            if body and content_type:
                self.send_header("Content-Type", content_type)
            # RFC 9110 forbids Content-Length on 1xx/204; everything else
            # gets one so keep-alive framing never depends on closing.
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not no_body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def respond_json(self, status, obj, headers=()):
        self.respond(status, json_bytes(obj), "application/json", headers)

    def respond_ok(self):
        self.respond(200, b"ok", "text/plain; charset=utf-8")

    # ---- main dispatch ------------------------------------------------------

    def handle_any(self):
        if self.rfile.eof:
            # request line or headers cut short: the client went away
            self.close_connection = True
            self.log_error("request not recorded: incomplete request head")
            return
        try:
            body = self.read_body()
        except BadRequest as e:
            self.close_connection = True
            self.log_error("bad request: %s", e)
            self.respond_json(400, {"error": str(e)}, headers=[("Connection", "close")])
            return
        except (ConnectionError, TimeoutError, OSError) as e:
            self.close_connection = True
            self.log_error("request not recorded: %s", e)
            return
        received = time.time()

        raw_path, _, query = self.path.partition("?")
        if raw_path.startswith(CONTROL_PREFIX) or raw_path == CONTROL_PREFIX.rstrip("/"):
            self.control(raw_path[len(CONTROL_PREFIX):], query, body)
            return

        if raw_path.startswith(MODE_PREFIX):
            mode, slash, rest = raw_path[len(MODE_PREFIX):].partition("/")
            path = "/" + rest
        else:
            with self.state.lock:
                mode = self.state.default_mode
            path = raw_path

        action = self.plan(mode, raw_path, query)
        self.request_path, self.request_body = path, body
        status = action[0]
        self.state.write_record({
            "time": received,
            "method": self.command,
            "path": path,
            "raw_path": raw_path,
            "query": query,
            "headers": self.header_dict(),
            "body": body.decode("utf-8", errors="replace"),
            "body_b64": base64.b64encode(body).decode("ascii"),
            "mode": mode,
            "status": status,
        })
        self.perform(action)

    def header_dict(self):
        out = {}
        for name, value in self.headers.items():
            key = name.lower()
            out[key] = out[key] + ", " + value if key in out else value
        return out

    def plan(self, mode, raw_path, query):
        """Returns (status or None, kind, args...) for the mode."""
        m = re.fullmatch(r"([a-z0-9-]+?)-(\d+)", mode)
        base, num = (m.group(1), int(m.group(2))) if m else (mode, None)

        if mode in ("ok", "slack", "teams-legacy-429"):
            return (200, mode)
        if mode == "teams":
            return (202, mode)
        if mode == "webhook":
            return (204, mode)
        if mode == "discord":
            wait = any(p.partition("=")[0] == "wait" and p.partition("=")[2].lower() == "true"
                       for p in query.split("&"))
            return (200, "discord-wait") if wait else (204, "discord")
        if mode == "discord-429":
            return (429, mode)
        if mode in FIXED_JSON:
            return (FIXED_JSON[mode][0], "fixed-json", mode)
        if mode in PROVIDER_MODES:
            return (PROVIDER_MODES[mode], mode)
        if mode in HOSTILE_MODES:
            return HOSTILE_MODES[mode]
        if num is not None and base == "retry-after-date":
            return (429, "retry-after-date", num)
        if num is not None and base in ("invalid-utf8", "not-json") and 200 <= num <= 599:
            return (num, base, num)
        if mode == "hang":
            return (None, "hang")
        if mode == "reset":
            return (None, "reset")
        if num is not None and base == "status" and 200 <= num <= 599:
            return (num, "status", num)
        if num is not None and base == "retry-after":
            return (429, "retry-after", num)
        if num is not None and base == "slow":
            return (200, "slow", num)
        if num is not None and base == "flaky":
            hit = self.state.flaky_hit(raw_path)
            return (503, "status", 503) if hit <= num else (200, "ok")
        return (400, "unknown", mode)

    def perform(self, action):
        status, kind = action[0], action[1]
        if kind in ("ok", "slack"):
            self.respond_ok()
        elif kind == "teams-legacy-429":
            self.respond(200, b"Microsoft Teams endpoint returned HTTP error 429",
                         "text/plain; charset=utf-8")
        elif kind in ("teams", "webhook", "discord"):
            self.respond(status)
        elif kind == "discord-wait":
            msg_id = str(_rng.randrange(10 ** 17, 10 ** 18))
            self.respond_json(200, {"id": msg_id, "channel_id": "1"})
        elif kind == "discord-429":
            self.respond_json(429, {"message": "You are being rate limited.",
                                    "retry_after": 1.5, "global": False},
                              headers=[("Retry-After", "2")])
        elif kind == "status":
            self.respond_json(status, {"error": "status %d" % status})
        elif kind == "retry-after":
            self.respond_json(429, {"message": "rate limited"},
                              headers=[("Retry-After", str(action[2]))])
        elif kind == "slow":
            self.state.stopping.wait(action[2] / 1000.0)
            self.respond_ok()
        elif kind == "fixed-json":
            status, obj, headers = FIXED_JSON[action[2]]
            if action[2].startswith("ses-"):
                headers = (("x-amzn-RequestId", str(uuid.uuid4())),) + headers
            self.respond(status, compact_json(obj), "application/json", headers)
        elif kind == "sendgrid":
            token = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
            self.respond(202, headers=[("X-Message-Id", token)])
        elif kind == "mailgun":
            msg_id = "<%s.%05d.%s@example.mailgun.org>" % (
                time.strftime("%Y%m%d%H%M%S", time.gmtime()), _rng.randrange(100000), rand_hex(8))
            self.respond(200, compact_json({"id": msg_id, "message": "Queued. Thank you."}),
                         "application/json")
        elif kind == "ses":
            msg_id = "0100018c%s-%s-000000" % (rand_hex(8), uuid.uuid4())
            self.respond(200, compact_json({"MessageId": msg_id}), "application/json",
                         [("x-amzn-RequestId", str(uuid.uuid4()))])
        elif kind == "twilio":
            self.respond(201, compact_json(self.twilio_message()), "application/json")
        elif kind == "sns":
            xml = ('<PublishResponse xmlns="%s"><PublishResult><MessageId>%s</MessageId>'
                   '</PublishResult><ResponseMetadata><RequestId>%s</RequestId>'
                   '</ResponseMetadata></PublishResponse>'
                   % (SNS_NS, uuid.uuid4(), uuid.uuid4()))
            self.respond(200, xml.encode("ascii"), "text/xml",
                         [("x-amzn-RequestId", str(uuid.uuid4()))])
        elif kind == "sns-throttle":
            request_id = str(uuid.uuid4())
            xml = ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>Throttling</Code>'
                   '<Message>Rate exceeded</Message></Error><RequestId>%s</RequestId>'
                   '</ErrorResponse>' % (SNS_NS, request_id))
            self.respond(400, xml.encode("ascii"), "text/xml",
                         [("x-amzn-RequestId", request_id)])
        elif kind in ("retry-after-text", "retry-after-date", "discord-429-body", "huge-header",
                      "endless", "reset-mid", "drip", "redirect-loopback", "invalid-utf8",
                      "not-json"):
            try:
                self.perform_hostile(action)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up: that is its right
        elif kind == "hang":
            self.close_connection = True
            self.state.stopping.wait(HANG_SECONDS)
        elif kind == "reset":
            self.close_connection = True
            self.reset_connection()
        else:
            self.respond_json(400, {"error": "unknown mode %r" % action[2]})

    def perform_hostile(self, action):
        """Answers of a hostile or broken provider (see the module docstring)."""
        status, kind = action[0], action[1]
        if kind == "retry-after-text":
            self.respond_json(429, {"message": "rate limited"}, headers=[("Retry-After", action[2])])
        elif kind == "retry-after-date":
            when = min(time.time() + action[2], LAST_HTTP_DATE)
            self.respond_json(429, {"message": "rate limited"},
                              headers=[("Retry-After", formatdate(when, usegmt=True))])
        elif kind == "discord-429-body":
            self.respond(429, b'{"message": "You are being rate limited.", "retry_after": ' + action[2]
                         + b', "global": false}', "application/json")
        elif kind == "huge-header":
            self.respond(200, b"ok", "text/plain; charset=utf-8", [("X-Filler", "a" * HUGE_HEADER)])
        elif kind == "endless":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
            while not self.state.stopping.is_set():
                self.wfile.write(chunk)
                self.wfile.flush()
        elif kind == "reset-mid":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.reset_connection()
        elif kind == "drip":
            self.close_connection = True
            for i in range(len(DRIP_RESPONSE)):
                if i and self.state.stopping.wait(1.0):
                    return
                self.wfile.write(DRIP_RESPONSE[i:i + 1])
                self.wfile.flush()
        elif kind == "redirect-loopback":
            self.respond(302, b"", headers=[("Location", "http://%s:%d/_mode/ok/followed-redirect"
                                              % (HOST, self.server.server_address[1]))])
        elif kind == "invalid-utf8":
            self.respond(status, INVALID_UTF8_BODY, "application/json")
        elif kind == "not-json":
            self.respond(status, NOT_JSON_BODY, "application/json")

    def twilio_message(self):
        """A Twilio Message resource for the request being answered."""
        form = {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if ctype.startswith("application/x-www-form-urlencoded"):
            parsed = parse_qs(self.request_body.decode("utf-8", errors="replace"),
                              keep_blank_values=True)
            form = {k: v[0] for k, v in parsed.items()}
        m = re.search(r"/Accounts/([^/]+)/", self.request_path)
        account = m.group(1) if m else "AC" + rand_hex(32)
        sid = "SM" + rand_hex(32)
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        uri = "/2010-04-01/Accounts/%s/Messages/%s" % (account, sid)
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": uri + "/Media.json"},
            "to": form.get("To"),
            "uri": uri + ".json",
        }

    def reset_connection(self):
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # Close the descriptor itself: socket.close() would wait for rfile,
        # and the server's shutdown(SHUT_WR) would send a FIN before the RST.
        try:
            fd = sock.detach()
        except OSError:
            return
        if fd >= 0:
            os.close(fd)

    # ---- control API --------------------------------------------------------

    def control(self, what, query, body):
        st = self.state
        method = self.command
        if what == "health" and method in ("GET", "HEAD"):
            self.respond_json(200, {"ok": True})
        elif what == "count" and method in ("GET", "HEAD"):
            with st.lock:
                n = st.count
            self.respond_json(200, {"count": n})
        elif what == "reset" and method == "POST":
            st.reset()
            self.respond_json(200, {"ok": True})
        elif what == "mode" and method in ("GET", "HEAD"):
            with st.lock:
                mode = st.default_mode
            self.respond_json(200, {"mode": mode})
        elif what == "mode" and method in ("POST", "PUT"):
            mode = None
            for p in query.split("&"):
                k, _, v = p.partition("=")
                if k == "mode" and v:
                    mode = v
            if mode is None and body.strip():
                text = body.decode("utf-8", errors="replace").strip()
                try:
                    obj = json.loads(text)
                    mode = obj.get("mode") if isinstance(obj, dict) else None
                except ValueError:
                    mode = text
            if not isinstance(mode, str) or not re.fullmatch(r"[A-Za-z0-9-]+", mode):
                self.respond_json(400, {"error": "give ?mode=<mode> or {\"mode\": ...}"})
                return
            with st.lock:
                st.default_mode = mode
            self.respond_json(200, {"ok": True, "mode": mode})
        elif what in ("health", "count", "reset", "mode"):
            self.respond_json(405, {"error": "method not allowed"})
        else:
            self.respond_json(404, {"error": "unknown control endpoint"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            sys.stderr.write("capture_server: %s: %s\n" % (client_address, exc))
        else:
            sys.stderr.write("capture_server: error handling %s:\n" % (client_address,))
            traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback HTTP capture server (tests only).")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    ap.add_argument("--record", required=True, help="JSON-lines file requests are appended to")
    ap.add_argument("--portfile", help="file the listening port is written to")
    ap.add_argument("--mode", default="ok", help="default mode for paths without /_mode/ (ok)")
    args = ap.parse_args(argv)

    state = State(args.record, args.mode)
    Handler.state = state
    httpd = Server((HOST, args.port), Handler)
    port = httpd.server_address[1]

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                               name="serve_forever", daemon=True)
    serving.start()
    if args.portfile:
        write_portfile(args.portfile, port)

    while not stop.wait(0.5):
        pass

    state.stopping.set()  # wakes hang/slow handlers
    httpd.shutdown()
    httpd.server_close()
    state.close()
    sys.stderr.flush()
    # Handler threads may still be blocked on sockets; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()
