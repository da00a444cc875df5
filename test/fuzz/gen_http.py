"""test/fuzz/gen_http.py: raw HTTP requests for the HTTP worker, over loopback only.

Requests are bytes written to a socket: methods (known, odd, lower-case,
overlong), paths (every endpoint, report ids and formats at the edges,
percent-encoding, dot segments, overlong), query strings (repeated, empty,
odd values for period/start/end), versions, headers (conditional requests,
bearer tokens, content length and chunking that lie, folded, duplicated,
huge), bodies.  send() connects to 127.0.0.1 only.
"""
import socket

from gen_common import mutate_string, rand_string

RT = "/api/support/troubleshooting/realtime"
MT = "/api/support/troubleshooting/metrics"
RP = "/api/support/troubleshooting/reports/"
METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
           "get", "G\x00T", "GET ", "", "X" * 300, "PRI", "BREW"]
VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1",
            "HTTP/1.1 x", ""]


def path(r):
    """A request target."""
    k = r.random()
    if k < 0.2:
        return RT
    if k < 0.45:
        q = []
        for _ in range(r.randint(0, 5)):
            name = r.choice(["period", "start", "end", "period", "x", "", "start%00", "PERIOD"])
            val = r.choice(["day", "week", "month", "hour", "year", "", "2025-01-01", "2025-03-31T23:59:59Z",
                            "infinity", "-infinity", "294276-01-01", "now", "%00", "%ZZ", "%", "a+b", "x" * 5000,
                            "2025-01-01%2B05:30", "1e400", "'", "\u00e9".encode().decode("latin-1"),
                            "2025-13-01", "4714-11-24 BC"])
            q.append(f"{name}={val}" if r.random() < 0.9 else name)
        return MT + ("?" + "&".join(q) if q or r.random() < 0.5 else "")
    if k < 0.7:
        ident = r.choice(["1", "2", "3", "0", "-1", "01", "9223372036854775807", "9223372036854775808",
                          "1e3", "+1", " 1", "%31", "x", "", "1.0", "99999999999999999999999"])
        fmt = r.choice(["json", "csv", "pdf", "PDF", "xml", "", "json.json", "pdf%00", "csv?x=1"])
        return RP + ident + ("." if r.random() < 0.95 else "") + fmt
    if k < 0.8:
        return r.choice(["/", "/metrics", "/metrics?x=1", "//", "/..", "/../../etc/passwd", "/%2e%2e/", "*",
                         "/api", "/api/support/troubleshooting/", RT + "/", RT + "?", RT + "#x", "http://x" + RT,
                         "/index.html", "/" + "a" * 20000, "/\u00e9".encode().decode("latin-1"), ""])
    return mutate_string(r, r.choice([RT, MT, RP + "1.pdf", "/", "/metrics"]), 9000)


def headers(r):
    """A list of header lines."""
    h = ["Host: 127.0.0.1"] if r.random() < 0.9 else []
    for _ in range(r.randint(0, 6)):
        k = r.randrange(12)
        if k == 0:
            h.append("If-None-Match: " + r.choice(['"x"', "*", '"' + "a" * 64 + '"', "", 'W/"x"', '"a", "b"']))
        elif k == 1:
            h.append("Authorization: " + r.choice(["Bearer x", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer " + "t" * 9000, ""]))
        elif k == 2:
            h.append("Content-Length: " + r.choice(["0", "5", "-1", "18446744073709551616", "x", "1 1", ""]))
        elif k == 3:
            h.append("Transfer-Encoding: " + r.choice(["chunked", "identity", "gzip, chunked", "x"]))
        elif k == 4:
            h.append("Connection: " + r.choice(["close", "keep-alive", "upgrade", ""]))
        elif k == 5:
            h.append(" folded continuation")
        elif k == 6:
            h.append("X-Big: " + "b" * r.choice([100, 8000, 70000]))
        elif k == 7:
            h.append(r.choice(["NoColon", ": empty name", "Bad Name: x", "X:\x01\x7f", "Host: a", "Host:"]))
        elif k == 8:
            h.extend(["X-Many: y"] * r.randint(10, 300))
        elif k == 9:
            h.append("Accept-Encoding: " + r.choice(["gzip", "*", "identity;q=0", ""]))
        elif k == 10:
            h.append("Expect: 100-continue")
        else:
            h.append(rand_string(r, 20) + ": " + rand_string(r, 40))
    return h


def request(r):
    """The bytes of one request (and whether to half-close after sending)."""
    eol = "\r\n" if r.random() < 0.95 else r.choice(["\n", "\r", "\n\r"])
    line = f"{r.choice(METHODS)} {path(r)} {r.choice(VERSIONS)}"
    body = ""
    if r.random() < 0.1:
        body = r.choice(["x", "0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "a" * 70000])
    text = line + eol + eol.join(headers(r)) + eol + eol + body
    raw = text.encode("utf-8", "surrogateescape")
    if r.random() < 0.05:
        raw = raw[:r.randint(0, len(raw))]              # cut short
    if r.random() < 0.03:
        raw = bytes(r.randrange(256) for _ in range(r.randint(1, 300)))
    return raw, r.random() < 0.97


def send(port, raw, half_close, timeout=3.0):
    """Sends raw to 127.0.0.1:port; returns (status code or None, timed out?).

    Reading stops at the end of the first response (Content-Length, the last
    chunk, or the server closing), so keep-alive costs no wait."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = raw.split(b" ", 1)[0].upper() == b"HEAD"
    try:
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        try:
            while len(data) < (1 << 21) and not _complete(data, head):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return _status(data), True
        except OSError:
            pass
        return _status(data), False
    finally:
        s.close()


def _complete(data, head):
    """Whether data holds a whole response."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    headers = data[:end].lower()
    body = data[end + 4:]
    code = _status(data)
    if head or code in (204, 304) or (code or 0) < 200:
        return True
    for line in headers.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            try:
                return len(body) >= int(line.split(b":", 1)[1])
            except ValueError:
                return False
        if line.startswith(b"transfer-encoding:") and b"chunked" in line:
            return body.endswith(b"0\r\n\r\n")
    return False


def _status(data):
    """The status code of the first response line, if any."""
    if data.startswith(b"HTTP/"):
        parts = data.split(b" ", 2)
        if len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
    return None
