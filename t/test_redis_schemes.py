"""The module's Redis client beyond redis:// - rediss:// (TLS, verified
against a CA and the host name), sentinel:// (ask the sentinels, check the
master, follow a failover) - and a graceful shutdown that the open Redis
connection does not hold up.

Every server (redis-server with TLS, replicas, redis-sentinel, and tiny
fake sentinels written here to give answers a real one would not) runs on
its own loopback port under the test's tmp_path.  Sessions are written by
the CLI through a plain port of the same server, since the CLI does not
speak TLS."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from lib.confs import get
from lib.servers import free_port, port_open, stop_process, wait_for

HTTP = """\
    airflow_auth_redis @redis@;
    airflow_auth_secret_file @secret_file@;
    airflow_auth_redis_timeout 1s;
"""

# These count what the command connection asks the sentinels and logs; the
# session cache's subscriber is a second connection that would ask too.
COMMAND_ONLY = HTTP + "    airflow_auth_session_cache off;\n"

NOT_IP_MASTER = "redis-master.example"


# -- helpers -----------------------------------------------------------------

def redis_lines(ng):
    return [line for line in ng.error_log().splitlines()
            if "airflow_auth: redis" in line]


def eventually(ng, cookie, status=200, timeout=10.0):
    """The first response with this status within timeout (a failed connect
    backs off about a second), or the last response."""
    last = [None]

    def once():
        last[0] = get(ng, "/x", cookie)
        return last[0].status == status

    wait_for(once, timeout=timeout, interval=0.2)
    return last[0]


def eventually_logged(ng, needle, timeout=5.0):
    return wait_for(lambda: [line for line in redis_lines(ng)
                             if needle in line], timeout=timeout)


def cli_env():
    env = dict(os.environ)
    if env.get("SAN") == "1":
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.fixture
def new_session(admin_path, secret_file, secrets):
    """new_session(url, user) -> cookie, written by the CLI through url."""

    def make(url, user="alice"):
        r = subprocess.run([admin_path, "--redis", url, "--secret-file",
                            str(secret_file), "session", "create", "--user",
                            user, "--roles", "Admin"],
                           capture_output=True, text=True, timeout=30,
                           env=cli_env(), stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        cookie = r.stdout.strip()
        secrets.append(cookie)
        secrets.extend(cookie.split("."))
        return cookie

    return make


class Server:
    """redis-server (or redis-sentinel) with any arguments, stopped by PID."""

    def __init__(self, directory, args, port, program="redis-server"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.args = args
        self.port = port
        self.program = program
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.program] + self.args,
                                     cwd=self.dir,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_for(lambda: self.proc.poll() is not None
                        or self.ping(), timeout=10) \
                or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("%s %s did not start:\n%s"
                               % (self.program, self.args, self.logtail()))
        return self

    def logtail(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-3000:]
        except OSError:
            return "(no log)"

    def cli(self, *args, password=None):
        cmd = ["redis-cli", "-p", str(self.port)]
        if password is not None:
            cmd += ["-a", password, "--no-auth-warning"]
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
        return r.stdout.strip()

    def ping(self):
        if not port_open(self.port):
            return False
        out = self.cli("PING")
        return out == "PONG" or out.startswith("NOAUTH")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def servers():
    """servers(directory, args, port, program=) -> a started Server, stopped
    at the end of the test."""
    started = []

    def start(directory, args, port, program="redis-server"):
        s = Server(directory, args, port, program)
        started.append(s)
        return s.start()

    yield start
    for s in reversed(started):
        s.stop()


def plain_redis(servers, d, port=None, password=None, extra=()):
    port = port or free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(d), "--logfile", "log"]
    if password is not None:
        args += ["--requirepass", password]
    return servers(d, args + list(extra), port)


def connected_ports(server, password=None):
    """The local ports of the clients connected to server (CLIENT LIST
    laddr), apart from redis-cli itself."""
    ports = set()
    for line in server.cli("CLIENT", "LIST", password=password).splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if fields.get("cmd") == "client|list":
            continue
        if "laddr" in fields:
            ports.add(int(fields["laddr"].rsplit(":", 1)[1]))
    return ports


# -- a throwaway PKI ---------------------------------------------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def _ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=%s" % name, "-keyout", name + ".key",
             "-out", name + ".crt", cwd=d)


def _leaf(d, ca, name, san):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=%s\n" % san)
    _openssl("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=%s" % name, "-keyout", name + ".key", "-out",
             name + ".csr", cwd=d)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
             "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
             "-extfile", name + ".ext", "-out", name + ".crt", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca: the CA nginx trusts; good: 127.0.0.1 + localhost from ca;
    wronghost: a name that is not ours, from ca; stranger: 127.0.0.1 +
    localhost from another CA."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed (t/install-deps installs it)")
    d = str(tmp_path_factory.mktemp("pki"))
    _ca(d, "ca")
    _ca(d, "otherca")
    _leaf(d, "ca", "good", "IP:127.0.0.1,DNS:localhost")
    _leaf(d, "ca", "wronghost", "DNS:wronghost.example")
    _leaf(d, "otherca", "stranger", "IP:127.0.0.1,DNS:localhost")
    return lambda name: os.path.join(d, name)


class TlsRedis:
    def __init__(self, server, tls_port):
        self.server = server
        self.port = server.port            # plain, for the CLI
        self.tls_port = tls_port

    def url(self, host="127.0.0.1", ca=None, auth=""):
        u = "rediss://%s%s:%d/0" % (auth, host, self.tls_port)
        return u + ("?ca=%s" % ca if ca else "")


@pytest.fixture
def tls_redis(servers, tmp_path, pki):
    """tls_redis(cert="good", password=None): redis-server with a TLS port
    serving cert, and a plain port for the CLI."""
    made = []

    def make(cert="good", password=None):
        tls_port = free_port()
        extra = ["--tls-port", str(tls_port),
                 "--tls-cert-file", pki(cert + ".crt"),
                 "--tls-key-file", pki(cert + ".key"),
                 "--tls-ca-cert-file", pki("ca.crt"),
                 "--tls-auth-clients", "no"]
        s = plain_redis(servers, tmp_path / ("tls%d" % len(made)),
                        password=password, extra=extra)
        if not wait_for(lambda: port_open(tls_port), timeout=10):
            pytest.fail("redis-server did not open its TLS port:\n"
                        + s.logtail())
        made.append(s)
        return TlsRedis(s, tls_port)

    return make


# -- rediss:// ---------------------------------------------------------------

def test_a_session_works_over_rediss_with_the_ca_given_in_the_url(
        nginx, upstream, tls_redis, pki, new_session):
    r = tls_redis()
    ng = nginx(http=HTTP, subst={"redis": r.url(ca=pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    resp = get(ng, "/x", cookie)

    assert resp.status == 200, (resp, ng.error_log()[-2000:])
    assert upstream.last().header("X-Airflow-User") == "alice"
    # the module's connection is the one on the TLS port
    assert r.tls_port in connected_ports(r.server)
    assert redis_lines(ng) == []


def test_a_host_name_is_checked_and_sent_as_sni(nginx, upstream, tls_redis,
                                                pki, new_session):
    r = tls_redis()
    ng = nginx(http=HTTP, subst={"redis": r.url(host="localhost",
                                                ca=pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]


def test_a_server_certificate_from_another_ca_is_refused(
        nginx, upstream, tls_redis, pki, new_session):
    r = tls_redis(cert="stranger")
    ng = nginx(http=HTTP, subst={"redis": r.url(ca=pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    resp = get(ng, "/x", cookie, headers=[("Accept", "text/html")])

    assert resp.status == 503, resp
    assert upstream.count() == 0
    lines = eventually_logged(ng, "certificate verify failed")
    assert lines, ng.error_log()[-2000:]
    # OpenSSL's words for a chain that ends at no trusted CA
    assert "certificate verify failed: unable to" in lines[0]


def test_the_system_ca_store_does_not_trust_a_private_ca(
        nginx, upstream, tls_redis, new_session):
    r = tls_redis()
    ng = nginx(http=HTTP, subst={"redis": r.url()})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    assert get(ng, "/x", cookie).status == 503
    assert eventually_logged(ng, "certificate verify failed"), \
        ng.error_log()[-2000:]


def test_a_certificate_for_another_host_is_refused(
        nginx, upstream, tls_redis, pki, new_session):
    r = tls_redis(cert="wronghost")
    ng = nginx(http=HTTP, subst={"redis": r.url(ca=pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    assert get(ng, "/x", cookie).status == 503
    lines = eventually_logged(ng, "certificate does not match host")
    assert lines, ng.error_log()[-2000:]
    assert '"127.0.0.1"' in lines[0]
    assert upstream.count() == 0

    # the same name check for a host name
    ng2 = nginx(http=HTTP, subst={"redis": r.url(host="localhost",
                                                 ca=pki("ca.crt"))})
    assert get(ng2, "/x", cookie).status == 503
    assert eventually_logged(ng2, 'does not match host "localhost"'), \
        ng2.error_log()[-2000:]


def test_auth_with_a_password_over_tls(nginx, upstream, tls_redis, pki,
                                       new_session, secrets):
    password = "tls-redis-pw-4c1d9e"
    secrets.append(password)
    r = tls_redis(password=password)
    ng = nginx(http=HTTP, subst={
        "redis": r.url(ca=pki("ca.crt"), auth=":%s@" % password)})
    cookie = new_session("redis://:%s@127.0.0.1:%d/0" % (password, r.port))

    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]

    wrong = "not-the-tls-password-77"
    secrets.append(wrong)
    ng2 = nginx(http=HTTP, subst={
        "redis": r.url(ca=pki("ca.crt"), auth=":%s@" % wrong)})
    assert get(ng2, "/x", cookie).status == 503
    assert eventually_logged(ng2, "AUTH refused"), ng2.error_log()[-2000:]


def test_rediss_to_a_port_that_does_not_speak_tls_fails_the_handshake(
        nginx, upstream, servers, tmp_path, pki, new_session):
    s = plain_redis(servers, tmp_path / "plain")
    ng = nginx(http=HTTP, subst={
        "redis": "rediss://127.0.0.1:%d/0?ca=%s" % (s.port, pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % s.port)

    started = time.monotonic()
    assert get(ng, "/x", cookie).status == 503
    assert time.monotonic() - started < 3
    lines = eventually_logged(ng, "TLS handshake")
    assert lines, ng.error_log()[-2000:]


def test_a_session_survives_a_tls_redis_restart(nginx, upstream, tls_redis,
                                                pki, new_session):
    r = tls_redis()
    ng = nginx(http=HTTP, subst={"redis": r.url(ca=pki("ca.crt"))})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)
    assert get(ng, "/x", cookie).status == 200

    r.server.kill()
    assert get(ng, "/x", cookie).status == 503
    r.server.start()
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)

    assert eventually(ng, cookie).status == 200


@pytest.mark.parametrize("ca, why", [
    ("@missing@", "no such file"),
    ("@garbage@", "no certificate"),
])
def test_nginx_t_rejects_an_unreadable_ca(nginx, tmp_path, ca, why):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    path = {"@missing@": str(tmp_path / "missing.pem"),
            "@garbage@": str(garbage)}[ca]
    ng = nginx(http=HTTP, start=False, subst={
        "redis": "rediss://127.0.0.1:6390/0?ca=%s" % path})

    rc, out = ng.test_config()

    assert rc != 0, (why, out)
    assert '"airflow_auth_redis": cannot load the CA certificates from "%s"' \
        % path in out, out


@pytest.mark.parametrize("url, needle", [
    ("rediss://127.0.0.1:6390/0?verify=no", "takes only the ?ca="),
    ("rediss://127.0.0.1:6390/0?ca=", "takes only the ?ca="),
    ("redis://127.0.0.1:6390/0?ca=/etc/ssl/certs/ca-certificates.crt",
     "?ca= is for rediss:// URLs only"),
])
def test_nginx_t_rejects_a_bad_rediss_query(nginx, url, needle):
    ng = nginx(http=HTTP, start=False, subst={"redis": url})

    rc, out = ng.test_config()

    assert rc != 0
    assert needle in out, out


def test_a_raw_question_mark_in_a_password_is_not_echoed(nginx, secrets):
    secret = "s3cr3t-part-after-mark"
    secrets.append(secret)
    ng = nginx(http=HTTP, start=False, subst={
        "redis": "rediss://:pw?%s@127.0.0.1:6390/0" % secret})

    rc, out = ng.test_config()

    assert rc != 0
    assert "%3F" in out
    assert secret not in out


def test_rediss_with_the_system_store_passes_nginx_t(nginx):
    ng = nginx(http=HTTP, start=False, subst={
        "redis": "rediss://127.0.0.1:6390/0"})

    rc, out = ng.test_config()

    assert rc == 0, out


# -- fake sentinels ----------------------------------------------------------

class FakeSentinel:
    """Answers SENTINEL get-master-addr-by-name with a fixed address (or
    nil), optionally only after AUTH; records every command it gets."""

    def __init__(self, answer, password=None):
        self.answer = answer
        self.password = password
        self.commands = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    @staticmethod
    def _commands(f):
        while True:
            line = f.readline()
            if not line:
                return
            n = int(line[1:])
            args = []
            for _ in range(n):
                size = int(f.readline()[1:])
                args.append(f.read(size + 2)[:-2])
            yield args

    def _serve(self, conn):
        authed = self.password is None
        with conn, conn.makefile("rb") as f:
            for args in self._commands(f):
                self.commands.append(args)
                name = args[0].upper()
                if name == b"AUTH":
                    if args[-1].decode() == self.password:
                        authed = True
                        out = b"+OK\r\n"
                    else:
                        out = b"-WRONGPASS invalid password\r\n"
                elif not authed:
                    out = b"-NOAUTH Authentication required.\r\n"
                elif name == b"SENTINEL" and len(args) == 3 \
                        and args[1].lower() == b"get-master-addr-by-name":
                    if self.answer is None:
                        out = b"*-1\r\n"
                    else:
                        host, port = [str(x).encode() for x in self.answer]
                        out = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                            len(host), host, len(port), port)
                else:
                    out = b"-ERR unknown command\r\n"
                try:
                    conn.sendall(out)
                except OSError:
                    return

    def names(self):
        return [[a.decode(errors="replace") for a in c]
                for c in self.commands]

    def close(self):
        self.sock.close()


@pytest.fixture
def fake_sentinel():
    made = []

    def make(answer, password=None):
        s = FakeSentinel(answer, password)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def sentinel_url(ports, master="mymaster", auth="", db=None):
    return "sentinel://%s%s/%s%s" % (
        auth, ",".join("127.0.0.1:%d" % p for p in ports), master,
        "" if db is None else "/%d" % db)


def test_sentinel_url_reaches_the_master_it_names(
        nginx, upstream, servers, tmp_path, fake_sentinel, new_session):
    master = plain_redis(servers, tmp_path / "m")
    s = fake_sentinel(("127.0.0.1", master.port))
    ng = nginx(http=COMMAND_ONLY, subst={"redis": sentinel_url([s.port])})
    cookie = new_session("redis://127.0.0.1:%d/0" % master.port)

    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]
    assert s.names() == [["SENTINEL", "get-master-addr-by-name",
                          "mymaster"]]


def test_a_replica_named_by_a_sentinel_is_skipped_for_the_next_sentinel(
        nginx, upstream, servers, tmp_path, fake_sentinel, new_session):
    master = plain_redis(servers, tmp_path / "m")
    replica = plain_redis(servers, tmp_path / "r", extra=[
        "--replicaof", "127.0.0.1", str(master.port)])
    stale = fake_sentinel(("127.0.0.1", replica.port))
    good = fake_sentinel(("127.0.0.1", master.port))
    ng = nginx(http=COMMAND_ONLY, subst={"redis": sentinel_url([stale.port,
                                                        good.port])})
    cookie = new_session("redis://127.0.0.1:%d/0" % master.port)

    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]
    lines = eventually_logged(ng, "not the master")
    assert lines and "master 127.0.0.1:%d" % replica.port in lines[0], \
        redis_lines(ng)
    assert len(good.commands) == 1


@pytest.mark.parametrize("answer, needle", [
    (None, 'does not know master "mymaster"'),
    ((NOT_IP_MASTER, 6379), "not an IP address"),
    (("127.0.0.1", 0), "bad port"),
])
def test_an_unusable_sentinel_answer_moves_on_to_the_next(
        nginx, upstream, servers, tmp_path, fake_sentinel, new_session,
        answer, needle):
    master = plain_redis(servers, tmp_path / "m")
    bad = fake_sentinel(answer)
    good = fake_sentinel(("127.0.0.1", master.port))
    ng = nginx(http=HTTP, subst={"redis": sentinel_url([bad.port,
                                                        good.port])})
    cookie = new_session("redis://127.0.0.1:%d/0" % master.port)

    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]
    assert eventually_logged(ng, needle), redis_lines(ng)


def test_no_usable_sentinel_gives_503_and_backs_off(
        nginx, upstream, fake_sentinel, new_session, servers, tmp_path):
    master = plain_redis(servers, tmp_path / "m")
    nil = fake_sentinel(None)
    dead = free_port()
    ng = nginx(http=HTTP, subst={"redis": sentinel_url([dead, nil.port])})
    cookie = new_session("redis://127.0.0.1:%d/0" % master.port)

    statuses = [get(ng, "/x", cookie).status for _ in range(10)]

    assert statuses == [503] * 10
    # one attempt, then the back-off: not one question per request
    assert len(nil.commands) <= 2, nil.names()
    assert 1 <= len(redis_lines(ng)) <= 2, redis_lines(ng)


def test_a_sentinel_gets_the_password_only_after_noauth(
        nginx, upstream, servers, tmp_path, fake_sentinel, new_session,
        secrets):
    password = "shared-sentinel-pw-93e1"
    secrets.append(password)
    master = plain_redis(servers, tmp_path / "m", password=password)
    open_one = fake_sentinel(("127.0.0.1", master.port))
    locked = fake_sentinel(("127.0.0.1", master.port), password=password)
    cookie = new_session("redis://:%s@127.0.0.1:%d/3" % (password,
                                                         master.port))

    ng = nginx(http=COMMAND_ONLY, subst={"redis": sentinel_url(
        [locked.port], auth=":%s@" % password, db=3)})
    assert get(ng, "/x", cookie).status == 200, ng.error_log()[-2000:]
    assert [c[0] for c in locked.names()] == ["SENTINEL", "AUTH",
                                              "SENTINEL"]

    ng2 = nginx(http=COMMAND_ONLY, subst={"redis": sentinel_url(
        [open_one.port], auth=":%s@" % password, db=3)})
    assert get(ng2, "/x", cookie).status == 200, ng2.error_log()[-2000:]
    assert [c[0] for c in open_one.names()] == ["SENTINEL"]


def test_nginx_t_names_a_sentinel_that_does_not_resolve(nginx):
    ng = nginx(http=HTTP, start=False, subst={
        "redis": "sentinel://127.0.0.1:26379,no-such-host.invalid:26379/m"})

    rc, out = ng.test_config()

    assert rc != 0
    assert "no-such-host.invalid:26379" in out, out


# -- real sentinels, and a failover ------------------------------------------

class Sentinels:
    """A master, a replica and three redis-sentinel processes watching them
    (quorum 2, down after 1 s)."""

    def __init__(self, servers, tmp_path):
        self.master = plain_redis(servers, tmp_path / "master")
        self.replica = plain_redis(servers, tmp_path / "replica", extra=[
            "--replicaof", "127.0.0.1", str(self.master.port)])
        self.sentinels = []
        for i in range(3):
            port = free_port()
            d = tmp_path / ("sentinel%d" % i)
            d.mkdir()
            conf = d / "sentinel.conf"
            conf.write_text(
                "port %d\nbind 127.0.0.1\ndir %s\nlogfile log\n"
                "sentinel monitor mymaster 127.0.0.1 %d 2\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 3000\n"
                "sentinel parallel-syncs mymaster 1\n"
                % (port, d, self.master.port))
            self.sentinels.append(servers(d, [str(conf)], port,
                                          program="redis-sentinel"))
        ok = wait_for(self._settled, timeout=20, interval=0.2)
        if not ok:
            raise RuntimeError("sentinels did not settle:\n"
                               + self.sentinels[0].logtail())

    def _settled(self):
        """Every sentinel knows the others and the replica, and the replica
        is in sync."""
        if "master_link_status:up" not in self.replica.cli("INFO",
                                                           "replication"):
            return False
        for s in self.sentinels:
            info = s.cli("SENTINEL", "MASTER", "mymaster").split("\n")
            fields = dict(zip(info[::2], info[1::2]))
            if fields.get("num-other-sentinels") != "2" \
                    or fields.get("num-slaves") != "1":
                return False
        return True

    def master_port(self, sentinel=None):
        s = sentinel or self.sentinels[-1]
        out = s.cli("SENTINEL", "get-master-addr-by-name", "mymaster")
        lines = out.split("\n")
        return int(lines[1]) if len(lines) == 2 else None

    def url(self, dead_first=True):
        ports = [s.port for s in self.sentinels]
        if dead_first:
            ports = [free_port()] + ports
        return sentinel_url(ports)


@pytest.fixture
def sentinels(servers, tmp_path):
    if shutil.which("redis-sentinel") is None:
        pytest.skip("redis-sentinel is not installed and could not be "
                    "(t/install-deps installs the redis-sentinel package)")
    return Sentinels(servers, tmp_path)


def test_a_session_works_through_real_sentinels_the_first_one_dead(
        nginx, upstream, sentinels, new_session):
    url = sentinels.url(dead_first=True)
    dead = url.split("//", 1)[1].split(",", 1)[0]
    ng = nginx(http=COMMAND_ONLY, subst={"redis": url})
    cookie = new_session(url)

    resp = get(ng, "/x", cookie)

    assert resp.status == 200, (resp, ng.error_log()[-2000:])
    assert upstream.last().header("X-Airflow-User") == "alice"
    # the dead sentinel was tried first, and that was said once
    lines = redis_lines(ng)
    assert len(lines) == 1, lines
    assert "sentinel %s: " % dead in lines[0]
    assert "Connection refused" in lines[0]


def test_requests_follow_a_failover_without_touching_nginx(
        nginx, upstream, sentinels, new_session):
    ng = nginx(http=HTTP, subst={"redis": sentinels.url()})
    old_master = sentinels.master.port
    before = new_session(sentinels.url())
    assert get(ng, "/x", before).status == 200
    # the record has reached the replica before its master dies
    assert sentinels.master.cli("WAIT", "1", "5000") == "1"
    workers = ng.workers()

    sentinels.master.kill()
    moved = wait_for(lambda: sentinels.master_port() not in (old_master,
                                                             None),
                     timeout=30, interval=0.25)
    assert moved, "no failover within 30 s:\n" \
        + sentinels.sentinels[0].logtail()
    assert sentinels.master_port() == sentinels.replica.port

    # a new session, written with the CLI to whichever master the
    # sentinels name now (it checks ROLE too, so retry while promoting)
    cookie = [None]

    def create():
        try:
            cookie[0] = new_session(sentinels.url())
            return True
        except AssertionError:
            return False

    assert wait_for(create, timeout=15, interval=0.5), "CLI kept failing"

    assert eventually(ng, cookie[0], timeout=15).status == 200, \
        ng.error_log()[-3000:]
    assert get(ng, "/x", before).status == 200
    assert ng.workers() == workers


# -- graceful shutdown -------------------------------------------------------

@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_nginx_quits_promptly_with_the_redis_connection_open(
        nginx, upstream, tls_redis, pki, new_session, scheme):
    r = tls_redis()
    url = r.url(ca=pki("ca.crt")) if scheme == "rediss" \
        else "redis://127.0.0.1:%d/0" % r.port
    ng = nginx(http=HTTP, subst={"redis": url})
    cookie = new_session("redis://127.0.0.1:%d/0" % r.port)
    assert get(ng, "/x", cookie).status == 200
    port = r.tls_port if scheme == "rediss" else r.port
    assert port in connected_ports(r.server) or \
        wait_for(lambda: port in connected_ports(r.server), timeout=2)

    started = time.monotonic()
    os.kill(ng.proc.pid, signal.SIGQUIT)
    try:
        ng.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    took = time.monotonic() - started

    assert ng.proc.poll() is not None, "nginx still running after 10 s"
    assert took < 3, "graceful shutdown took %.1f s" % took
    log = ng.error_log()
    assert "open socket" not in log, log[-2000:]
    assert "exiting" in log
    assert wait_for(lambda: port not in connected_ports(r.server),
                    timeout=5), "the Redis connection outlived nginx"
