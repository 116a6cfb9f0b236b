"""Redis down, hung or refusing us: protected requests get a 503 page, the
log says why without flooding, no worker dies, and service comes back by
itself when Redis does."""

import socket
import struct
import threading
import time

from lib import httpc
from lib.confs import get
from lib.servers import wait_for

HTTP = """\
    airflow_auth_redis @redis@;
    airflow_auth_secret_file @secret_file@;
    airflow_auth_redis_timeout 500ms;
"""


def redis_lines(ng):
    return [line for line in ng.error_log().splitlines()
            if "airflow_auth: redis" in line]


def assert_503_page(r):
    assert r.status == 503, r
    assert r.header("Content-Type", "").startswith("text/html"), r.headers
    assert "default-src 'none'" in r.header("Content-Security-Policy", "")
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert "no-store" in r.header("Cache-Control", "")


def eventually_ok(ng, cookie, timeout=8.0):
    """The first 200 within timeout (the module backs off ~1 s after a
    failed connect), or the last response."""
    last = [None]

    def try_once():
        last[0] = get(ng, "/x", cookie)
        return last[0].status == 200

    wait_for(try_once, timeout=timeout, interval=0.2)
    return last[0]


def test_redis_killed_gives_503_then_recovers_without_touching_nginx(
        nginx, upstream, redis, session):
    ng = nginx(http=HTTP)
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    workers = ng.workers()

    redis.kill()
    r = get(ng, "/x", c, headers=[("Accept", "text/html")])
    assert_503_page(r)
    count = upstream.count()

    redis.start()                      # same port, empty data set
    fresh = session("alice", roles=["Admin"])
    r = eventually_ok(ng, fresh)

    assert r.status == 200, r
    assert upstream.count() == count + 1
    assert ng.workers() == workers, "nginx was restarted or a worker died"


def test_requests_during_an_outage_log_the_reason_once_not_per_request(
        nginx, redis, session):
    ng = nginx(http=HTTP)
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    before = len(redis_lines(ng))

    redis.kill()
    statuses = []
    started = time.monotonic()
    for _ in range(30):
        statuses.append(get(ng, "/x", c).status)
        # spread over ~4 s: several 1 s back-off periods, so several
        # reconnect attempts fail, all inside one 10 s log interval
        time.sleep(0.13)
    elapsed = time.monotonic() - started

    assert statuses == [503] * 30
    new = redis_lines(ng)[before:]
    assert 1 <= len(new) <= 2, "\n".join(new)
    assert elapsed < 20, "requests waited on a dead Redis: %.1fs" % elapsed


class HangUpServer:
    """Stands in for a Redis that accepts and hangs up at once; counts the
    connections it got."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


def test_failing_redis_is_not_hammered_on_every_request(nginx, redis,
                                                        session):
    ng = nginx(http=HTTP)
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200

    redis.kill()
    fake = HangUpServer(redis.port)
    try:
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 2.5:
            statuses.append(get(ng, "/x", c).status)
            time.sleep(0.05)
        accepted = fake.accepted
    finally:
        fake.stop()

    assert len(statuses) >= 20
    assert set(statuses) == {503}
    # about one attempt per second of back-off, not one per request
    assert 1 <= accepted <= 5, "%d connections for %d requests" % (
        accepted, len(statuses))


def test_hung_redis_gives_503_within_the_configured_timeout(
        nginx, redis, session):
    ng = nginx(http=HTTP)
    warm = session("bob", roles=["Admin"])
    assert get(ng, "/x", warm).status == 200
    # not asked for yet, so not in the session cache: it needs Redis
    c = session("alice", roles=["Admin"])

    redis.pause()
    try:
        started = time.monotonic()
        r = get(ng, "/x", c, headers=[("Accept", "text/html")])
        elapsed = time.monotonic() - started
    finally:
        redis.resume()

    assert_503_page(r)
    assert elapsed < 2.5, "took %.2fs with a 500ms timeout" % elapsed
    assert any("airflow_auth: redis" in line for line in
               ng.error_log().splitlines()), ng.error_log()[-2000:]
    assert eventually_ok(ng, c).status == 200


def _abort(sock):
    """Close with RST, as a client that gives up does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def test_client_that_disconnects_while_its_redis_get_is_in_flight(
        nginx, upstream, redis, session):
    ng = nginx(http=HTTP.replace("500ms", "3s"))
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    workers = ng.workers()

    redis.pause()
    try:
        conns = []
        for i in range(5):
            conn = httpc.Connection(ng.port)
            conn.send("GET", "/x%d" % i, headers=httpc.API,
                      cookie="airflow_auth=" + c)
            conns.append(conn)
        time.sleep(0.3)
        for i, conn in enumerate(conns):
            if i % 2:
                _abort(conn.sock)
            else:
                conn.close()
        time.sleep(0.3)
    finally:
        redis.resume()                  # the replies now find no request
    time.sleep(0.5)

    r = eventually_ok(ng, c)
    assert r.status == 200, r
    assert ng.workers() == workers, "a worker died"
    assert upstream.last()["path"] == "/x"
    assert [s for s in (get(ng, "/x", c).status for _ in range(5))] == \
        [200] * 5


def test_client_gone_and_redis_timing_out_leaves_the_worker_alive(
        nginx, redis, session):
    ng = nginx(http=HTTP)
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    workers = ng.workers()

    redis.pause()
    try:
        conn = httpc.Connection(ng.port)
        conn.send("GET", "/x", headers=httpc.API, cookie="airflow_auth=" + c)
        time.sleep(0.1)
        _abort(conn.sock)
        time.sleep(1.0)                 # past the 500ms timeout
    finally:
        redis.resume()

    assert eventually_ok(ng, c).status == 200
    assert ng.workers() == workers


def test_wrong_redis_password_gives_503_and_says_auth_failed(
        nginx, redis_factory, secret_file, secrets):
    from lib.sealer import Keyring, Sealer
    password = "right-password-7f3a9c"
    wrong = "wrong-password-0b1e2d"
    secrets.extend([password, wrong])
    r = redis_factory(password=password)
    sealer = Sealer(Keyring.from_file(secret_file), r.port,
                    password=password, register=secrets.append)
    c, _ = sealer.create("alice", roles=["Admin"])
    ng = nginx(http=HTTP, subst={
        "redis": "redis://:%s@127.0.0.1:%d/0" % (wrong, r.port)})

    resp = get(ng, "/x", c, headers=[("Accept", "text/html")])

    assert_503_page(resp)
    lines = redis_lines(ng)
    reasons = [line.split("airflow_auth: redis", 1)[1].lower()
               for line in lines]
    assert any("auth" in why or "wrongpass" in why for why in reasons), \
        "\n".join(lines) or ng.error_log()[-2000:]

    # With the right password the same cookie works (reload, same nginx).
    ng.subst["redis"] = "redis://:%s@127.0.0.1:%d/0" % (password, r.port)
    assert ng.reload(http=HTTP)
    assert eventually_ok(ng, c).status == 200
