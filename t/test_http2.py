"""HTTP/2: many streams of one connection wait on Redis at once.

The access handler suspends a request while Redis answers and runs its
phases again from the Redis reply.  Under HTTP/2 each stream is a request
on a fake connection of its own; these tests check that the wake-up finds
the right stream, that streams of one connection never see each other's
identity, and that a stream reset or a connection dropped while its GET
is in flight leaves nothing behind.  The session cache is off so that
every stream really goes to Redis.
"""

import socket
import time

import pytest

h2 = pytest.importorskip("h2.connection",
                         reason="python3-h2 (t/install-deps installs it)")
import h2.config  # noqa: E402
import h2.events  # noqa: E402

from lib.confs import AUTH_HTTP  # noqa: E402

HTTP = AUTH_HTTP + "    airflow_auth_session_cache off;\n"

SERVER = """\
    server {
        listen 127.0.0.1:@port@ http2;
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
    }
"""


class Client:
    """A bare h2c (prior knowledge) client on one connection."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True,
                                      header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.streams = {}
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def get(self, path, cookie=None):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", "GET"), (":path", path), (":scheme", "http"),
                   (":authority", "127.0.0.1"),
                   ("accept", "application/json")]
        if cookie:
            headers.append(("cookie", "airflow_auth=" + cookie))
        self.conn.send_headers(sid, headers, end_stream=True)
        self.streams[sid] = {"path": path, "status": None, "body": b"",
                             "done": False}
        return sid

    def reset(self, sid):
        self.conn.reset_stream(sid)
        self.streams[sid]["done"] = True

    def wait(self, timeout=10):
        self.flush()
        end = time.monotonic() + timeout
        while not all(s["done"] for s in self.streams.values()):
            if time.monotonic() > end:
                raise AssertionError("streams left unanswered: %s" % [
                    k for k, s in self.streams.items() if not s["done"]])
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("connection closed by nginx")
            for ev in self.conn.receive_data(data):
                s = self.streams.get(getattr(ev, "stream_id", None))
                if isinstance(ev, h2.events.ResponseReceived):
                    s["status"] = int(dict(ev.headers)[":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    s["body"] += ev.data
                    self.conn.acknowledge_received_data(
                        ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded,
                                     h2.events.StreamReset)):
                    s["done"] = True
            self.flush()
        return self.streams

    def close(self):
        self.sock.close()


def test_many_streams_wait_on_redis_and_each_gets_its_own_answer(
        nginx, redis, upstream, session):
    ng = nginx(http=HTTP, server=SERVER)
    users = ["user%02d" % i for i in range(12)]
    cookies = {u: session(u, roles=["Viewer"]) for u in users}
    gets = redis.calls("get")

    c = Client(ng.port)
    sent = {}
    for i in range(36):
        u = users[i % len(users)]
        anonymous = i % 4 == 3
        sid = c.get("/s%d?who=%s" % (i, "anon" if anonymous else u),
                    None if anonymous else cookies[u])
        sent[sid] = None if anonymous else u
    streams = c.wait()
    c.close()

    for sid, u in sent.items():
        assert streams[sid]["status"] == (401 if u is None else 200), \
            (sid, u, streams[sid])

    seen = {r["path"]: r.header("X-Airflow-User") for r in upstream.requests}
    for sid, u in sent.items():
        if u is not None:
            assert seen[streams[sid]["path"]] == u, (sid, u, seen)
    assert len(seen) == sum(1 for u in sent.values() if u is not None)
    assert redis.calls("get") - gets == len(seen)


def test_streams_reset_while_their_get_is_in_flight_leave_nothing_behind(
        nginx, redis, upstream, session):
    ng = nginx(http=HTTP, server=SERVER)
    cookie = session("alice", roles=["Viewer"])

    c = Client(ng.port)
    redis.pause()
    try:
        doomed = [c.get("/doomed%d" % i, cookie) for i in range(8)]
        c.flush()
        time.sleep(0.3)
        for sid in doomed:
            c.reset(sid)
        c.flush()
        time.sleep(0.2)
    finally:
        redis.resume()

    # the connection and the worker carry on
    sid = c.get("/after", cookie)
    streams = c.wait()
    c.close()

    assert streams[sid]["status"] == 200
    assert [r["path"] for r in upstream.requests] == ["/after"]


def test_a_connection_dropped_while_gets_are_in_flight_leaves_nothing(
        nginx, redis, upstream, session):
    ng = nginx(http=HTTP, server=SERVER)
    cookie = session("alice", roles=["Viewer"])

    c = Client(ng.port)
    redis.pause()
    try:
        for i in range(8):
            c.get("/gone%d" % i, cookie)
        c.flush()
        time.sleep(0.3)
        c.close()
        time.sleep(0.2)
    finally:
        redis.resume()

    c = Client(ng.port)
    sid = c.get("/after", cookie)
    streams = c.wait()
    c.close()

    assert streams[sid]["status"] == 200
    assert upstream.requests[-1]["path"] == "/after"
