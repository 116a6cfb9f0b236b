"""A raw HTTP/1.1 client over a socket, for tests that need exact header
names and values (underscores, odd case, CR/LF), several requests on one
keep-alive connection, or a client that hangs up mid-request."""

import json
import socket


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers            # list of (name, value), raw
        self.body = body                  # bytes

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %s %r>" % (self.status, self.reason,
                                        self.body[:200])


def _to_bytes(s):
    return s if isinstance(s, bytes) else s.encode("latin-1")


class Connection:
    """One keep-alive connection to 127.0.0.1:port."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.port = port
        self.host = host
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(_to_bytes(data))

    def send(self, method="GET", path="/", headers=(), body=None,
             host=None, cookie=None):
        """headers: list of (name, value) pairs, sent byte for byte."""
        lines = [b"%s %s HTTP/1.1" % (_to_bytes(method), _to_bytes(path))]
        names = {(n.lower() if isinstance(n, str) else n.decode().lower())
                 for n, _ in headers}
        if "host" not in names:
            lines.append(b"Host: " + _to_bytes(host or "localhost"))
        if cookie is not None:
            lines.append(b"Cookie: " + _to_bytes(cookie))
        for n, v in headers:
            lines.append(_to_bytes(n) + b": " + _to_bytes(v))
        if body is not None:
            body = _to_bytes(body)
            if "content-length" not in names:
                lines.append(b"Content-Length: %d" % len(body))
        self.send_raw(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, method="GET"):
        status_line = self._line().decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            line = self._line()
            if not line:
                break
            n, _, v = line.decode("latin-1").partition(":")
            headers.append((n, v.strip()))
        lower = {n.lower(): v for n, v in headers}
        if (method.upper() == "HEAD" or status in (204, 304)
                or 100 <= status < 200):
            body = b""
        elif "chunked" in lower.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                chunks.append(self._exact(size))
                self._exact(2)
            body = b"".join(chunks)
        elif "content-length" in lower:
            body = self._exact(int(lower["content-length"]))
        else:
            while True:
                try:
                    self._fill()
                except ConnectionError:
                    break
            body, self.buf = self.buf, b""
        return Response(status, reason, headers, body)

    def request(self, method="GET", path="/", headers=(), body=None,
                host=None, cookie=None):
        self.send(method, path, headers, body, host, cookie)
        return self.read_response(method)


def request(port, method="GET", path="/", headers=(), body=None, host=None,
            cookie=None, timeout=10.0):
    """One request on a fresh connection."""
    with Connection(port, timeout=timeout) as c:
        return c.request(method, path, headers, body, host, cookie)


# Request shapes the module must tell apart.
NAVIGATE = [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
            ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")]
API = [("Accept", "application/json")]
