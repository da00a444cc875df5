#!/usr/bin/env python3
"""Loopback fake of an OpenAI-compatible chat completions API, for the
report_llm cluster test.

Usage:
    python3 test/fake_openai.py --port 0 --record /path/requests.jsonl \
        --portfile /path/port

Listens on 127.0.0.1 only; --port 0 picks a free port, written to
--portfile (via a temporary file and a rename) once listening.  Runs until
SIGTERM or SIGINT.

Every request is recorded (and flushed) before it is answered, as one JSON
line: {"method", "path", "headers" (names lower-cased), "body" (UTF-8
text)}.

Answers
    POST .../chat/completions   200, a chat.completion whose
                                choices[0].message.content is
                                "Summary of <N> sessions." with N the
                                summary.total_sessions of the JSON in the
                                last (user) message
    a path containing /fail500/ 500 {"error": {"message": "server error"}}
    a path containing /notjson/ 200 text/plain "hello"
    a path containing /slow/    waits 5 s, then answers as above
    anything else               404 {"error": {"message": "not found"}}

Python 3 standard library only.
"""

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from portfile import write_portfile


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def respond(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        body = raw.decode("utf-8", "replace")
        record = {"method": "POST", "path": self.path,
                  "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": body}
        with self.server.lock:
            self.server.record.write(json.dumps(record) + "\n")
            self.server.record.flush()
        if "/fail500/" in self.path:
            return self.respond(500, {"error": {"message": "server error"}})
        if "/slow/" in self.path:
            time.sleep(5)
        if "/notjson/" in self.path:
            return self.respond(200, b"hello", "text/plain")
        if not self.path.endswith("/chat/completions"):
            return self.respond(404, {"error": {"message": "not found"}})
        try:
            req = json.loads(body)
            report = json.loads(req["messages"][-1]["content"])
            total = report["summary"]["total_sessions"]
        except (ValueError, KeyError, IndexError, TypeError):
            return self.respond(400, {"error": {"message": "bad request"}})
        self.respond(200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": req.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant",
                                     "content": "  Summary of %s sessions.\n" % total}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    do_GET = do_POST


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", required=True)
    ap.add_argument("--portfile")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.record = open(args.record, "a", encoding="utf-8")
    if args.portfile:
        write_portfile(args.portfile, server.server_address[1])
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.record.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
