"""Fixtures for the airflow_auth integration suites.

Every server runs on its own free loopback port under the test's own
tmp_path and is stopped by its PID.  The nginx fixture fails the test at
teardown when a worker crashed, a sanitizer reported anything, or a secret
the test registered (secret file, cookie, session id) shows up in a log."""

import base64
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import httpc  # noqa: E402
from lib.confs import AUTH_HTTP, PROTECTED_SERVER  # noqa: E402
from lib.sealer import Keyring, Sealer  # noqa: E402
from lib.servers import Nginx, Redis, Upstream, free_port  # noqa: E402,F401

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Only long enough strings are checked, so a short value cannot match a log
# line by chance.
MIN_SECRET_LEN = 12


def _san():
    return os.environ.get("SAN", "") == "1"


@pytest.fixture(scope="session")
def san():
    return _san()


@pytest.fixture(scope="session")
def build_dir():
    b = os.environ.get("BUILD") or "build"
    return os.path.abspath(os.path.join(REPO, b))


@pytest.fixture(scope="session")
def module_path(build_dir):
    p = os.path.join(build_dir, "ngx_http_airflow_auth_module.so")
    if not os.path.exists(p):
        pytest.fail("module not built: %s (run make)" % p)
    return p


@pytest.fixture(scope="session")
def admin_path(build_dir):
    p = os.path.join(build_dir, "airflow-auth-admin")
    if not os.path.exists(p):
        pytest.fail("CLI not built: %s (run make)" % p)
    return p


@pytest.fixture
def secrets():
    """Strings that must never appear in any log of this test."""
    return []


def register_cookie(secrets, cookie):
    cookie = cookie.strip()
    if not cookie:
        return
    secrets.append(cookie)
    secrets.extend(p for p in cookie.split(".") if p)


def write_secret_file(path, keys, secrets=None):
    """keys: raw byte strings; writes them base64, one per line."""
    lines = [base64.b64encode(k).decode() for k in keys]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    if secrets is not None:
        secrets.extend(lines)
    return path


@pytest.fixture
def secret_file(tmp_path, secrets):
    """A fresh random 32-byte key, base64, in its own file."""
    p = tmp_path / "secret.key"
    write_secret_file(p, [os.urandom(32)], secrets)
    return p


@pytest.fixture
def redis_factory(tmp_path):
    started = []

    def make(password=None, start=True):
        r = Redis(tmp_path / ("redis%d" % len(started)), password=password)
        started.append(r)
        if start:
            r.start()
        return r

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def redis(redis_factory):
    return redis_factory()


@pytest.fixture
def upstream():
    u = Upstream().start()
    yield u
    u.stop()


def _check_nginx(ng, secrets):
    problems = []
    for name, text in ng.sanitizer_reports():
        problems.append("sanitizer report %s:\n%s" % (name, text[-8000:]))
    log = ng.error_log()
    crashes = [line for line in log.splitlines() if "exited on signal" in line]
    if crashes:
        problems.append("worker crashed:\n" + "\n".join(crashes))
    for name, text in ng.all_logs():
        for s in set(secrets):
            if len(s) >= MIN_SECRET_LEN and s in text:
                problems.append("secret %s... found in %s" % (s[:6], name))
    return problems


@pytest.fixture
def nginx(request, tmp_path, module_path, secrets):
    """Factory: nginx(server=..., http=AUTH_HTTP, start=True, subst=None).

    Tokens @redis@, @upstream@ and @secret_file@ pull in the redis,
    upstream and secret_file fixtures when a config uses them."""
    made = []

    def make(server=PROTECTED_SERVER, http=AUTH_HTTP, start=True,
             subst=None):
        subst = dict(subst or {})
        text = http + server
        if "@redis@" in text and "redis" not in subst:
            subst["redis"] = request.getfixturevalue("redis").url
        if "@upstream@" in text and "upstream" not in subst:
            subst["upstream"] = request.getfixturevalue("upstream").address
        if "@secret_file@" in text and "secret_file" not in subst:
            subst["secret_file"] = str(request.getfixturevalue("secret_file"))
        ng = Nginx(tmp_path / ("nginx%d" % len(made)), module_path,
                   http=http, server=server, subst=subst, san=_san())
        made.append(ng)
        if start:
            ng.start()
        return ng

    yield make
    problems = []
    for ng in made:
        ng.stop()
        problems += _check_nginx(ng, secrets)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _admin_env():
    env = dict(os.environ)
    if _san():
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.fixture
def admin(admin_path, redis, secret_file, secrets):
    """admin(*args) runs airflow-auth-admin with the fixtures' --redis and
    --secret-file; returns the CompletedProcess (text).  Every cookie that
    `session create` prints is registered as a secret."""

    def run(*args, input=None, timeout=30):
        cmd = [admin_path, "--redis", redis.url, "--secret-file",
               str(secret_file)] + [str(a) for a in args]
        r = subprocess.run(cmd, capture_output=True, text=True, input=input,
                           timeout=timeout, env=_admin_env(),
                           stdin=None if input is not None
                           else subprocess.DEVNULL)
        if r.returncode == 0 and "create" in args:
            register_cookie(secrets, r.stdout)
        return r

    return run


@pytest.fixture
def session(admin):
    """session(user, roles=[..], groups=[..], email=, name=, idp=, ttl=,
    idle_timeout=, roles_mapping=, default_role=) -> cookie value, made by
    the CLI."""

    def make(user="alice", roles=None, groups=None, email=None, name=None,
             idp="test-idp", ttl=None, idle_timeout=None, roles_mapping=None,
             default_role=None):
        args = ["session", "create", "--user", user]
        if email is not None:
            args += ["--email", email]
        if name is not None:
            args += ["--name", name]
        if groups:
            args += ["--groups", ",".join(groups)]
        if roles:
            args += ["--roles", ",".join(roles)]
        if roles_mapping is not None:
            args += ["--roles-mapping", str(roles_mapping)]
        if default_role is not None:
            args += ["--default-role", default_role]
        if idp is not None:
            args += ["--idp", idp]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        if idle_timeout is not None:
            args += ["--idle-timeout", str(idle_timeout)]
        r = admin(*args)
        assert r.returncode == 0, "session create failed: %s" % r.stderr
        cookie = r.stdout.strip()
        assert cookie and "\n" not in cookie, r.stdout
        return cookie

    return make


@pytest.fixture
def sealer(redis, secret_file, secrets):
    """The Python implementation of the record format, over the same key
    ring and Redis as nginx."""
    return Sealer(Keyring.from_file(secret_file), redis.port,
                  password=redis.password, register=secrets.append)


@pytest.fixture
def http():
    """The raw HTTP client module: http.request(port, ...), http.Connection."""
    return httpc
