#!/usr/bin/env python3
"""Loopback SMTP server for the email tests (libcurl smtp:// and smtps://).

Usage:
    python3 test/smtp_server.py --port 0 --portfile F --maildir DIR \\
        --tls starttls|implicit|none [--cert CERT --key KEY] \\
        [--auth-user U --auth-password P]

Listens on 127.0.0.1 only. --port 0 picks a free port; the chosen port is
written to --portfile (via a temporary file and a rename) once listening.
Runs until SIGTERM or SIGINT, then exits 0. Needs Debian's python3-aiosmtpd
(when the running interpreter cannot import it, the script re-executes
itself with /usr/bin/python3). test/smtp_cert.sh makes a certificate.

TLS (--cert and --key required for starttls and implicit)
    starttls   plain connection that offers STARTTLS; every command but
               EHLO/HELO/NOOP/RSET/QUIT/STARTTLS before TLS is refused with
               "530 Must issue a STARTTLS command first" (so is MAIL)
    implicit   TLS from the first byte (smtps)
    none       no TLS at all

Authentication
    With --auth-user, AUTH PLAIN and LOGIN are offered and required before
    MAIL ("530 5.7.0 Authentication required"); in starttls mode only after
    TLS (AUTH before it: 538). Wrong credentials:
    "535 5.7.8 Authentication credentials invalid". Without --auth-user no
    AUTH is offered in EHLO (libcurl then sends no credentials).

Recipients (by local part, case-insensitive), at RCPT:
    tempfail     451 4.3.0 Temporary failure
    reject       550 5.1.1 User unknown
    any other    250 2.1.5 Ok
  and, after the message data (the message is not stored):
    datafail     451 4.3.0 Temporary failure
    datareject   554 5.6.0 Message rejected
  A message with at least one accepted recipient is otherwise answered
    250 2.0.0 Ok: queued as <QUEUEID>      (10 random upper-case hex digits)

Broken or hostile servers (by local part too):
    multiline    the message is stored and answered with a multi-line reply
                 250-2.0.0 Ok / 250-Have a nice day / 250 2.0.0 Ok: queued as
                 <QUEUEID>
    multiline-tempfail  after the data, a multi-line 451 (not stored):
                 451-4.3.0 Temporary failure / 451 4.3.0 Try again later
    longid       stored, answered 250 2.0.0 Ok: queued as <400 hex digits>
    malformed    stored, answered with a reply that has no code at all:
                 "Ok, queued I think"
    malformed-rcpt  at RCPT: "2x0 what?" (a code that is not one)

Each accepted message is stored as
    DIR/<n>.eml    the message data exactly as received (after SMTP
                   dot-unstuffing, without the final ".")
    DIR/<n>.json   {"n", "queue_id", "mail_from", "rcpt_tos" (accepted ones),
                    "mail_options", "rcpt_options", "auth_user" (null if
                    none), "tls" (true/false), "helo", "peer" ([host, port]),
                    "size" (bytes of the .eml), "time" (epoch float)}
n counts from 1 (continuing after the highest number already in DIR). Both
files are written through a temporary name and renamed, the .eml first, and
before the final 250 is sent, so once DIR/<n>.json exists both are complete.

Python 3 standard library plus aiosmtpd.
"""

import os
import sys

try:
    import aiosmtpd  # noqa: F401
except ImportError:
    SYSTEM_PYTHON = "/usr/bin/python3"
    if os.path.exists(SYSTEM_PYTHON) and os.environ.get("SMTP_SERVER_REEXEC") != "1" \
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON):
        os.environ["SMTP_SERVER_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("smtp_server: needs aiosmtpd (apt-get install python3-aiosmtpd)\n")
    sys.exit(2)

import argparse
import asyncio
import hmac
import json
import logging
import random
import re
import signal
import ssl
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult
from portfile import write_portfile

HOST = "127.0.0.1"
_rng = random.SystemRandom()

TEMPFAIL = "451 4.3.0 Temporary failure"
RCPT_REPLIES = {
    "tempfail": TEMPFAIL,
    "reject": "550 5.1.1 User unknown",
    "malformed-rcpt": "2x0 what?",
}
DATA_REPLIES = {
    "datafail": TEMPFAIL,
    "datareject": "554 5.6.0 Message rejected",
    "multiline-tempfail": "451-4.3.0 Temporary failure\r\n451 4.3.0 Try again later",
}
# Replies of stored messages, by local part ({id}: the queue id)
STORED_REPLIES = {
    "multiline": "250-2.0.0 Ok\r\n250-Have a nice day\r\n250 2.0.0 Ok: queued as {id}",
    "longid": "250 2.0.0 Ok: queued as {id}",
    "malformed": "Ok, queued I think",
}


def local_part(address):
    return address.rpartition("@")[0].lower() if "@" in address else address.lower()


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def as_text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class Handler:
    def __init__(self, maildir, offer_auth):
        self.maildir = maildir
        self.offer_auth = offer_auth
        self.next_n = 1 + max([int(m.group(1)) for m in
                               (re.fullmatch(r"(\d+)\.(?:eml|json)", f) for f in os.listdir(maildir))
                               if m] or [0])

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.offer_auth:
            responses = [r for r in responses if not r[4:].upper().startswith("AUTH")]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = RCPT_REPLIES.get(local_part(address))
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            reply = DATA_REPLIES.get(local_part(rcpt))
            if reply:
                return reply
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else b""
        special = [STORED_REPLIES[local_part(r)] for r in envelope.rcpt_tos
                   if local_part(r) in STORED_REPLIES]
        queue_id = "%010X" % _rng.getrandbits(40)
        if any(local_part(r) == "longid" for r in envelope.rcpt_tos):
            queue_id = "%0400X" % _rng.getrandbits(1600)
        n = self.next_n
        self.next_n += 1
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None)
        meta = {
            "n": n,
            "queue_id": queue_id,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "auth_user": as_text(getattr(session.auth_data, "login", None))
                         if session.authenticated else None,
            "tls": bool(tls),
            "helo": session.host_name,
            "peer": list(session.peer) if session.peer else None,
            "size": len(data),
            "time": time.time(),
        }
        write_atomic(os.path.join(self.maildir, "%d.eml" % n), data)
        write_atomic(os.path.join(self.maildir, "%d.json" % n),
                     (json.dumps(meta, ensure_ascii=True) + "\n").encode("ascii"))
        if special:
            return special[0].format(id=queue_id)
        return "250 2.0.0 Ok: queued as %s" % queue_id


def make_authenticator(user, password):
    want_user = user.encode("utf-8")
    want_password = password.encode("utf-8")

    def authenticator(server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", None)
        secret = getattr(auth_data, "password", None)
        ok = (mechanism in ("PLAIN", "LOGIN") and isinstance(login, bytes)
              and isinstance(secret, bytes)
              and hmac.compare_digest(login, want_user)
              and hmac.compare_digest(secret, want_password))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticator


async def serve(args):
    loop = asyncio.get_running_loop()
    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    handler = Handler(args.maildir, offer_auth=bool(args.auth_user))
    authenticator = make_authenticator(args.auth_user, args.auth_password) if args.auth_user else None

    def factory():
        return SMTP(
            handler,
            hostname="localhost",
            ident="smtp_server.py (troubleshooting tests)",
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
            auth_required=bool(args.auth_user),
            # starttls: AUTH only once TLS is up; implicit: the connection is
            # TLS already; none: there is no TLS to wait for
            auth_require_tls=args.tls == "starttls",
            authenticator=authenticator,
            decode_data=False,
            loop=loop,
        )

    server = await loop.create_server(factory, host=HOST, port=args.port,
                                      ssl=context if args.tls == "implicit" else None)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.portfile:
        write_portfile(args.portfile, port)
    await stop.wait()
    server.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback SMTP server (tests only).")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    ap.add_argument("--portfile", help="file the listening port is written to")
    ap.add_argument("--maildir", required=True, help="directory accepted messages are stored in")
    ap.add_argument("--tls", choices=("starttls", "implicit", "none"), default="starttls")
    ap.add_argument("--cert", help="PEM certificate (starttls, implicit)")
    ap.add_argument("--key", help="PEM private key (starttls, implicit)")
    ap.add_argument("--auth-user", help="require AUTH PLAIN/LOGIN with this user")
    ap.add_argument("--auth-password", help="... and this password")
    args = ap.parse_args(argv)
    if args.tls != "none" and not (args.cert and args.key):
        ap.error("--tls %s needs --cert and --key" % args.tls)
    if bool(args.auth_user) != (args.auth_password is not None):
        ap.error("--auth-user and --auth-password go together")
    os.makedirs(args.maildir, exist_ok=True)

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="smtp_server: %(levelname)s %(message)s")
    # aiosmtpd warns when AUTH is required without TLS: that is --tls none's point
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    # ... and aiosmtpd 1.4 warns about its own use of Session.login_data
    logging.getLogger("mail.log").addFilter(
        lambda r: not any(s in r.getMessage() for s in (
            "auth_required == True but auth_require_tls == False",
            "Session.login_data is deprecated")))

    asyncio.run(serve(args))
    sys.stderr.flush()
    # Open client connections may still have tasks; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()
