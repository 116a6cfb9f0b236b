#!/usr/bin/python3
"""A stand-in for the Airflow webserver, for `make demo`.

It shows, as an HTML page, the identity the gateway forwarded (the
X-Airflow-* headers), and every identity-looking header it received, so
you can see that a client's own X-Airflow-User or Remote-User never gets
through.  /health answers like Airflow's; paths under /api/ answer JSON.

Loopback only.  Usage: demo_upstream.py PORT
"""

import html
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY = ("User", "Email", "Name", "Roles", "Groups", "Idp")


def identity(headers):
    """The six identity headers as the gateway set them (None if absent)."""
    return {k.lower(): headers.get("X-Airflow-" + k) for k in IDENTITY}


def suspicious(headers):
    """Every received header an attacker would try to smuggle identity in."""
    out = []
    for name, value in headers.items():
        n = name.lower().replace("_", "-")
        if (n.startswith("x-airflow-") or n in ("remote-user",
                                                "x-forwarded-user")):
            out.append((name, value))
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-airflow"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("demo_upstream: " + (fmt % args) + "\n")

    def send(self, status, ctype, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]

        if path == "/health":
            self.send(200, "application/json", json.dumps({
                "metadatabase": {"status": "healthy"},
                "scheduler": {"status": "healthy"}}) + "\n")
            return

        ident = identity(self.headers)

        if path.startswith("/api/"):
            self.send(200, "application/json", json.dumps({
                "identity": ident,
                "received_identity_headers": suspicious(self.headers),
            }, indent=2) + "\n")
            return

        self.send(200, "text/html; charset=utf-8", self.page(ident))

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(min(length, 1 << 20))
        self.do_GET()

    def page(self, ident):
        e = html.escape
        rows = "".join(
            "<tr><th>X-Airflow-%s</th><td>%s</td></tr>"
            % (k, "<em>(not sent)</em>" if ident[k.lower()] is None
               else e(ident[k.lower()]))
            for k in IDENTITY)
        seen = "".join("<li><code>%s: %s</code></li>" % (e(n), e(v))
                       for n, v in suspicious(self.headers))
        return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Airflow (demo upstream)</title>
<style>body{font-family:sans-serif;margin:2em}th{text-align:left;
padding-right:1em}td{font-family:monospace}</style></head>
<body>
<h1>Hello, %s</h1>
<p>This page stands in for the Airflow webserver.  It was reached through
the gateway, which forwarded this identity:</p>
<table>%s</table>
<h2>Every identity header that arrived here</h2>
<ul>%s</ul>
<p>Only the gateway's own values appear above: any X-Airflow-*,
Remote-User or X-Forwarded-User a client sends is removed first.</p>
<p>Request: <code>%s %s</code></p>
</body></html>
""" % (e(ident["user"] or "anonymous"), rows, seen or "<li>none</li>",
       e(self.command), e(self.path))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: demo_upstream.py PORT\n")
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
