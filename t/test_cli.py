"""airflow-auth-admin, the ops CLI: session create / list / revoke against a
real redis-server, with the records cross-checked by the independent Python
implementation of the format in t/lib/sealer.py."""

import base64
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from lib import confs
from lib.resp import RespClient
from lib.sealer import Key, Keyring, make_record, session_hash
from lib.servers import free_port, port_open, stop_process, wait_for

PREFIX = "airflow_auth:"
COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
ERR_PREFIX = "airflow-auth-admin: "

ROLES_MAPPING = {
    "airflow-admins": ["Admin"],
    "data-eng": ["User", "Op"],
    "ops": ["Op", "Viewer"],
}


# -- helpers -----------------------------------------------------------------

def _env():
    env = dict(os.environ)
    if env.get("SAN") == "1":
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.fixture
def cli(admin_path):
    """cli(*args): the CLI with exactly these arguments (no --redis or
    --secret-file added), for cases the admin fixture cannot express."""

    def run(*args, timeout=30):
        return subprocess.run([admin_path] + [str(a) for a in args],
                              capture_output=True, text=True,
                              timeout=timeout, env=_env(),
                              stdin=subprocess.DEVNULL)

    return run


@pytest.fixture
def keyring(secret_file):
    return Keyring.from_file(secret_file)


@pytest.fixture
def roles_file(tmp_path):
    p = tmp_path / "roles.json"
    p.write_text(json.dumps(ROLES_MAPPING))
    return p


def resp(redis):
    return RespClient(redis.port, password=redis.password)


def sid_of(keyring, cookie):
    sid = keyring.parse_cookie(cookie.strip())
    assert sid is not None, "the cookie's MAC does not verify: %r" % cookie
    return sid


def record_of(redis, keyring, cookie, prefix=PREFIX):
    sid = sid_of(keyring, cookie)
    with resp(redis) as r:
        blob = r.call("GET", prefix + "s:" + session_hash(sid))
    assert blob is not None, "no record in Redis for the cookie"
    return keyring.unseal_record(sid, blob)


def listed(stdout):
    """session list output -> [dict]."""
    rows = []
    for line in stdout.splitlines():
        f = line.split("\t")
        assert len(f) == 6, "not six tab-separated fields: %r" % line
        rows.append({"hash": f[0], "user": f[1], "roles": f[2], "idp": f[3],
                     "expires": f[4], "idle_expires": f[5]})
    return rows


def iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def keys(redis, pattern="*"):
    with resp(redis) as r:
        return sorted(k.decode("latin-1") for k in r.call("KEYS", pattern))


def create(admin, user, *more):
    r = admin("session", "create", "--user", user, *more)
    assert r.returncode == 0, r.stderr
    cookie = r.stdout.strip()
    assert COOKIE_RE.match(cookie), r.stdout
    return cookie


def assert_one_error_line(r, code, needle):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(ERR_PREFIX), r.stderr
    assert needle.lower() in lines[0].lower(), r.stderr
    assert r.stdout == ""


class Subscriber:
    """A SUBSCRIBEd connection to the invalidation channel."""

    def __init__(self, redis, channel):
        self.client = resp(redis)
        assert self.client.call("SUBSCRIBE", channel)[0] == b"subscribe"

    def messages(self, timeout=1.0):
        got = []
        self.client.sock.settimeout(timeout)
        try:
            while True:
                kind, _, data = self.client._reply()
                assert kind == b"message"
                got.append(data.decode())
        except (socket.timeout, TimeoutError):
            pass
        self.client.close()
        return got


# -- create ------------------------------------------------------------------

def test_create_prints_a_cookie_whose_record_is_in_redis(admin, redis,
                                                         keyring):
    cookie = create(admin, "alice", "--roles", "Admin", "--ttl", "600")

    sid = sid_of(keyring, cookie)
    h = session_hash(sid)
    key = PREFIX + "s:" + h
    assert keys(redis) == sorted([key, PREFIX + "u:alice"])
    assert 590 <= int(redis.cli("TTL", key)) <= 600
    assert redis.cli("SMEMBERS", PREFIX + "u:alice") == h
    # the index lives as long as the session may
    assert 590 <= int(redis.cli("TTL", PREFIX + "u:alice")) <= 600


def test_the_record_opens_with_the_independent_sealer(admin, redis, keyring,
                                                      sealer):
    before = int(time.time())
    cookie = create(admin, "alice", "--email", "alice@example.com",
                    "--name", "Alice Liddell", "--groups", "g1, g2,,g3",
                    "--roles", "Admin,User", "--idp", "break-glass",
                    "--ttl", "3600", "--idle-timeout", "300")
    after = int(time.time())

    rec = sealer.read(sid_of(keyring, cookie))
    assert rec["v"] == 1
    assert rec["user"] == "alice"
    assert rec["email"] == "alice@example.com"
    assert rec["name"] == "Alice Liddell"
    assert rec["groups"] == ["g1", "g2", "g3"]
    assert rec["roles"] == ["Admin", "User"]
    assert rec["idp"] == "break-glass"
    assert rec["idp_type"] == "cli"
    assert rec["sub"] == "" and rec["sid"] == ""
    assert before <= rec["created"] <= after
    assert rec["last_seen"] == rec["created"]
    assert rec["expires"] == rec["created"] + 3600
    assert rec["idle_expires"] == rec["created"] + 300
    # Redis keeps it for the idle timeout, not the lifetime
    assert 290 <= sealer.ttl(sid_of(keyring, cookie)) <= 300


def test_idle_timeout_longer_than_ttl_is_capped_at_expiry(admin, redis,
                                                          keyring, sealer):
    cookie = create(admin, "alice", "--roles", "Admin", "--ttl", "100",
                    "--idle-timeout", "1000")
    rec = record_of(redis, keyring, cookie)
    assert rec["idle_expires"] == rec["expires"] == rec["created"] + 100
    assert 90 <= sealer.ttl(sid_of(keyring, cookie)) <= 100


def test_defaults_are_idp_cli_and_twelve_hours(admin, redis, keyring,
                                               sealer):
    cookie = create(admin, "alice", "--roles", "Viewer")
    rec = record_of(redis, keyring, cookie)
    assert rec["idp"] == "cli"
    assert rec["expires"] - rec["created"] == 43200
    assert rec["idle_expires"] == rec["expires"]
    assert rec["email"] == "" and rec["name"] == "" and rec["groups"] == []
    assert 43190 <= sealer.ttl(sid_of(keyring, cookie)) <= 43200


def test_each_create_makes_a_new_session(admin, redis, keyring):
    a = create(admin, "alice", "--roles", "Admin")
    b = create(admin, "alice", "--roles", "Admin")
    assert a != b
    members = redis.cli("SMEMBERS", PREFIX + "u:alice").split()
    assert sorted(members) == sorted(
        [session_hash(sid_of(keyring, a)), session_hash(sid_of(keyring, b))])


def test_roles_mapping_gives_the_union_of_the_groups_roles(admin, redis,
                                                           keyring,
                                                           roles_file):
    cookie = create(admin, "bob", "--groups", "data-eng,unknown,ops",
                    "--roles-mapping", roles_file)
    rec = record_of(redis, keyring, cookie)
    # FAB: union in first-seen order, no duplicates
    assert rec["roles"] == ["User", "Op", "Viewer"]
    assert rec["groups"] == ["data-eng", "unknown", "ops"]

    cookie = create(admin, "root", "--groups", "airflow-admins",
                    "--roles-mapping", roles_file)
    assert record_of(redis, keyring, cookie)["roles"] == ["Admin"]


def test_default_role_applies_only_when_no_group_maps(admin, redis, keyring,
                                                      roles_file):
    cookie = create(admin, "carol", "--groups", "marketing",
                    "--roles-mapping", roles_file, "--default-role", "Viewer")
    assert record_of(redis, keyring, cookie)["roles"] == ["Viewer"]

    cookie = create(admin, "dave", "--groups", "data-eng",
                    "--roles-mapping", roles_file, "--default-role", "Public")
    assert record_of(redis, keyring, cookie)["roles"] == ["User", "Op"]


@pytest.mark.parametrize("args", [
    ["--groups", "marketing", "--roles-mapping", "@roles@"],
    ["--roles-mapping", "@roles@"],
    ["--groups", "marketing"],
    ["--groups", "marketing", "--roles-mapping", "@roles@",
     "--default-role", "none"],
])
def test_a_user_without_any_role_is_refused(admin, redis, roles_file, args):
    args = [str(roles_file) if a == "@roles@" else a for a in args]
    r = admin("session", "create", "--user", "mallory\r\nthe end", *args)
    assert_one_error_line(r, 1, "no role")
    assert "mallory\\x0d\\x0athe end" in r.stderr
    assert redis.cli("DBSIZE") == "0"


def test_the_user_index_ttl_only_grows(admin, redis):
    create(admin, "alice", "--roles", "Admin", "--ttl", "1000")
    assert 990 <= int(redis.cli("TTL", PREFIX + "u:alice")) <= 1000
    create(admin, "alice", "--roles", "Admin", "--ttl", "100")
    assert 990 <= int(redis.cli("TTL", PREFIX + "u:alice")) <= 1000
    create(admin, "alice", "--roles", "Admin", "--ttl", "5000")
    assert 4990 <= int(redis.cli("TTL", PREFIX + "u:alice")) <= 5000


def test_a_user_index_kept_without_ttl_stays_without_ttl(admin, redis):
    redis.cli("SADD", PREFIX + "u:alice", "0" * 64)
    create(admin, "alice", "--roles", "Admin", "--ttl", "100")
    assert redis.cli("TTL", PREFIX + "u:alice") == "-1"


def test_create_honours_the_db_in_the_url(cli, redis, secret_file, keyring):
    r = cli("--redis", "redis://127.0.0.1:%d/3" % redis.port,
            "--secret-file", secret_file, "session", "create",
            "--user", "alice", "--roles", "Admin")
    assert r.returncode == 0, r.stderr
    h = session_hash(sid_of(keyring, r.stdout))
    assert redis.cli("DBSIZE") == "0"
    assert redis.cli("-n", "3", "EXISTS", PREFIX + "s:" + h) == "1"


# -- list --------------------------------------------------------------------

def test_list_shows_every_session_and_filters_by_user(admin, redis, keyring,
                                                      roles_file):
    a1 = create(admin, "alice", "--roles", "Admin,User", "--idp", "okta",
                "--ttl", "7200", "--idle-timeout", "600")
    a2 = create(admin, "alice", "--roles", "Viewer")
    b = create(admin, "bob", "--groups", "ops", "--roles-mapping", roles_file)

    r = admin("session", "list")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    rows = listed(r.stdout)
    assert len(rows) == 3
    by_hash = {row["hash"]: row for row in rows}
    assert set(by_hash) == {session_hash(sid_of(keyring, c))
                            for c in (a1, a2, b)}

    row = by_hash[session_hash(sid_of(keyring, a1))]
    rec = record_of(redis, keyring, a1)
    assert row == {"hash": row["hash"], "user": "alice",
                   "roles": "Admin,User", "idp": "okta",
                   "expires": iso(rec["expires"]),
                   "idle_expires": iso(rec["idle_expires"])}
    assert by_hash[session_hash(sid_of(keyring, b))]["roles"] == "Op,Viewer"
    # sorted by user
    assert [row["user"] for row in rows] == ["alice", "alice", "bob"]

    r = admin("session", "list", "--user", "bob")
    assert r.returncode == 0, r.stderr
    rows = listed(r.stdout)
    assert [row["hash"] for row in rows] == [session_hash(sid_of(keyring, b))]

    r = admin("session", "list", "--user", "nobody")
    assert r.returncode == 0 and r.stdout == "", r


def test_list_on_an_empty_redis_prints_nothing(admin):
    r = admin("session", "list")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r


def test_list_shows_records_written_by_the_python_sealer(admin, sealer):
    cookie, sid = sealer.create("zoe", roles=["Op"], idp="saml-corp",
                                idp_type="saml", lifetime=5000)
    r = admin("session", "list", "--user", "zoe")
    assert r.returncode == 0, r.stderr
    rows = listed(r.stdout)
    assert len(rows) == 1
    assert rows[0]["hash"] == session_hash(sid)
    assert rows[0]["roles"] == "Op" and rows[0]["idp"] == "saml-corp"


def test_list_counts_sessions_it_cannot_open(admin, redis, sealer):
    create(admin, "alice", "--roles", "Admin")
    other = Keyring([Key.random()])
    for _ in range(2):
        sid = sealer.new_id()
        blob = other.seal(sid, json.dumps(make_record("ghost")).encode())
        sealer.write_raw(sid, blob, ttl=600)
    sealer.write_raw(sealer.new_id(), b"\x01garbage", ttl=600)
    # a key under the prefix that is not a session record is not counted
    redis.cli("SET", PREFIX + "s:not-a-hash", "x")

    r = admin("session", "list")
    assert r.returncode == 0, r.stderr
    assert [row["user"] for row in listed(r.stdout)] == ["alice"]
    assert r.stderr.startswith(ERR_PREFIX)
    assert "3 sessions could not be opened with these keys" in r.stderr


def test_list_escapes_control_characters(admin):
    create(admin, "tab\there\nnewline\\", "--roles", "Admin",
           "--idp", "x\ry")
    r = admin("session", "list")
    assert r.returncode == 0, r.stderr
    rows = listed(r.stdout)
    assert rows[0]["user"] == "tab\\there\\nnewline\\\\"
    assert rows[0]["idp"] == "x\\ry"


# -- revoke ------------------------------------------------------------------

def test_revoke_user_removes_only_that_users_sessions(admin, redis, keyring):
    a1 = create(admin, "alice", "--roles", "Admin")
    a2 = create(admin, "alice", "--roles", "User")
    b = create(admin, "bob", "--roles", "User")
    alice = sorted(session_hash(sid_of(keyring, c)) for c in (a1, a2))
    sub = Subscriber(redis, PREFIX + "inv")

    r = admin("session", "revoke", "--user", "alice")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "revoked 2 session(s)\n"

    assert sorted(sub.messages()) == alice
    bob = session_hash(sid_of(keyring, b))
    assert keys(redis) == sorted([PREFIX + "s:" + bob, PREFIX + "u:bob"])
    r = admin("session", "list")
    assert [row["hash"] for row in listed(r.stdout)] == [bob]

    r = admin("session", "revoke", "--user", "alice")
    assert r.returncode == 0 and r.stdout == "revoked 0 session(s)\n", r


def test_revoke_user_finds_sessions_after_the_index_expired(admin, redis):
    create(admin, "alice", "--roles", "Admin")
    create(admin, "alice", "--roles", "Admin")
    redis.cli("DEL", PREFIX + "u:alice")

    r = admin("session", "revoke", "--user", "alice")
    assert r.stdout == "revoked 2 session(s)\n", r
    assert keys(redis) == []


def test_revoke_user_trusts_the_index_for_records_it_cannot_open(
        admin, redis, sealer):
    create(admin, "alice", "--roles", "Admin")
    sid = sealer.new_id()
    other = Keyring([Key.random()])
    sealer.write_raw(sid, other.seal(sid, b"{}"), ttl=600, user="alice")

    r = admin("session", "revoke", "--user", "alice")
    assert r.stdout == "revoked 2 session(s)\n", r
    assert "1 session could not be opened" in r.stderr
    assert keys(redis) == []


def test_revoke_user_never_follows_the_index_to_another_user(admin, redis,
                                                             keyring):
    create(admin, "alice", "--roles", "Admin")
    b = create(admin, "bob", "--roles", "User")
    bob = session_hash(sid_of(keyring, b))
    redis.cli("SADD", PREFIX + "u:alice", bob)

    r = admin("session", "revoke", "--user", "alice")
    assert r.stdout == "revoked 1 session(s)\n", r
    assert redis.cli("EXISTS", PREFIX + "s:" + bob) == "1"


def test_revoke_user_drops_the_idp_session_index_entry(admin, redis, sealer):
    cookie, sid = sealer.create("alice", roles=["Admin"], idp="okta",
                                idp_type="oidc", sid="idp-sess-1")
    h = session_hash(sid)
    redis.cli("SADD", PREFIX + "sid:okta:idp-sess-1", h, "f" * 64)

    r = admin("session", "revoke", "--user", "alice")
    assert r.stdout == "revoked 1 session(s)\n", r
    assert redis.cli("SMEMBERS", PREFIX + "sid:okta:idp-sess-1") == "f" * 64


def test_revoke_all_removes_every_session_and_index_only(admin, redis,
                                                         keyring):
    cookies = [create(admin, u, "--roles", "Admin")
               for u in ("alice", "bob", "carol")]
    redis.cli("SADD", PREFIX + "sid:okta:abc", "0" * 64)
    # not ours to delete: a replay cache under the prefix, another app's key
    redis.cli("SET", PREFIX + "saml:assertion:xyz", "1")
    redis.cli("SET", "unrelated", "1")
    sub = Subscriber(redis, PREFIX + "inv")

    r = admin("session", "revoke", "--all")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "revoked 3 session(s)\n"
    assert sorted(sub.messages()) == sorted(
        session_hash(sid_of(keyring, c)) for c in cookies)
    assert keys(redis) == sorted([PREFIX + "saml:assertion:xyz", "unrelated"])

    r = admin("session", "list")
    assert r.returncode == 0 and r.stdout == "", r


def test_revoke_all_needs_no_secret_file(cli, admin, redis):
    create(admin, "alice", "--roles", "Admin")
    r = cli("--redis", redis.url, "session", "revoke", "--all")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "revoked 1 session(s)\n"
    assert keys(redis) == []


def test_revoke_all_walks_more_than_one_scan_page(admin, redis, sealer):
    with resp(redis) as r:
        for i in range(1200):
            sid = os.urandom(32)
            r.call("SET", PREFIX + "s:" + session_hash(sid), b"x", "EX", 600)
    r = admin("session", "revoke", "--all")
    assert r.stdout == "revoked 1200 session(s)\n", r.stderr
    assert redis.cli("DBSIZE") == "0"


def test_a_custom_prefix_isolates_sessions(admin, redis, keyring):
    default = create(admin, "alice", "--roles", "Admin")
    tenant = create(admin, "alice", "--roles", "Admin", "--prefix", "team-a:")
    h = session_hash(sid_of(keyring, tenant))
    assert redis.cli("EXISTS", "team-a:s:" + h) == "1"
    assert redis.cli("SMEMBERS", "team-a:u:alice") == h

    r = admin("--prefix", "team-a:", "session", "list")
    assert [row["hash"] for row in listed(r.stdout)] == [h]
    r = admin("session", "list")
    assert [row["hash"] for row in listed(r.stdout)] == [
        session_hash(sid_of(keyring, default))]

    r = admin("--prefix", "team-a:", "session", "revoke", "--all")
    assert r.stdout == "revoked 1 session(s)\n", r
    assert keys(redis) == sorted(
        [PREFIX + "s:" + session_hash(sid_of(keyring, default)),
         PREFIX + "u:alice"])


def test_glob_characters_in_the_prefix_match_only_themselves(admin, redis):
    # unescaped, the pattern "a*u:*" would also match "abu:bob"
    create(admin, "bob", "--roles", "Admin", "--prefix", "ab")
    create(admin, "alice", "--roles", "Admin", "--prefix", "a*")
    r = admin("--prefix", "a*", "session", "revoke", "--all")
    assert r.stdout == "revoked 1 session(s)\n", r
    assert "abu:bob" in keys(redis)
    assert not [k for k in keys(redis) if k.startswith("a*")]


# -- hostile values: argv, never a format string ------------------------------

def test_user_with_spaces_crlf_and_format_directives_round_trips(
        admin, redis, keyring):
    user = "eve %s %n %x\r\nSET pwned 1\r\n*1\r\n$4\r\nPING"
    cookie = create(admin, user, "--roles", "Admin", "--email", "%n@%s",
                    "--groups", "%s%s%s,a b")

    rec = record_of(redis, keyring, cookie)
    assert rec["user"] == user
    assert rec["email"] == "%n@%s"
    assert rec["groups"] == ["%s%s%s", "a b"]
    with resp(redis) as r:
        members = r.call("SMEMBERS", (PREFIX + "u:" + user).encode())
    assert [m.decode() for m in members] == [
        session_hash(sid_of(keyring, cookie))]
    assert redis.cli("EXISTS", "pwned") == "0"

    r = admin("session", "list", "--user", user)
    rows = listed(r.stdout)
    assert len(rows) == 1
    assert rows[0]["user"] == "eve %s %n %x\\r\\nSET pwned 1\\r\\n*1\\r\\n" \
                              "$4\\r\\nPING"

    r = admin("session", "revoke", "--user", user)
    assert r.stdout == "revoked 1 session(s)\n", r
    assert keys(redis) == []


# -- connections -------------------------------------------------------------

def test_password_and_acl_user_in_the_url(cli, redis_factory, secret_file,
                                          keyring):
    red = redis_factory(password="s3cret-pw")
    red.cli("ACL", "SETUSER", "ops", "on", ">ops-pw", "~*", "&*", "+@all")

    for url in ("redis://:s3cret-pw@127.0.0.1:%d/0" % red.port,
                "redis://ops:ops-pw@127.0.0.1:%d" % red.port):
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "create", "--user", "alice", "--roles", "Admin")
        assert r.returncode == 0, r.stderr

    r = cli("--redis", "redis://ops:wrong-pw@127.0.0.1:%d" % red.port,
            "--secret-file", secret_file, "session", "list")
    assert r.returncode == 1
    assert r.stderr.startswith(ERR_PREFIX)
    assert "wrong-pw" not in r.stderr + r.stdout
    assert re.search(r"WRONGPASS|invalid|auth", r.stderr, re.I), r.stderr

    r = cli("--redis", "redis://127.0.0.1:%d" % red.port,
            "--secret-file", secret_file, "session", "list")
    assert r.returncode == 1 and "NOAUTH" in r.stderr, r.stderr


@pytest.mark.parametrize("command", [
    ["session", "create", "--user", "alice", "--roles", "Admin"],
    ["session", "list"],
    ["session", "revoke", "--user", "alice"],
    ["session", "revoke", "--all"],
])
def test_redis_down_fails_with_a_message(cli, secret_file, command):
    port = free_port()
    start = time.monotonic()
    r = cli("--redis", "redis://:pw-in-url@127.0.0.1:%d/0" % port,
            "--secret-file", secret_file, *command)
    assert time.monotonic() - start < 10
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith(ERR_PREFIX)
    assert "127.0.0.1:%d" % port in r.stderr
    assert "cannot connect" in r.stderr
    assert "pw-in-url" not in r.stderr


def test_redis_that_hangs_times_out(cli, redis, secret_file):
    redis.pause()
    try:
        start = time.monotonic()
        r = cli("--redis", redis.url, "--secret-file", secret_file,
                "session", "list", timeout=30)
        took = time.monotonic() - start
    finally:
        redis.resume()
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith(ERR_PREFIX)
    assert 4 <= took < 15, took


def _start_redis(args, tmp_path, name, ready):
    d = tmp_path / name
    d.mkdir()
    proc = subprocess.Popen(["redis-server"] + args(d),
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if not wait_for(lambda: proc.poll() is not None or ready(d), timeout=10) \
            or proc.poll() is not None:
        stop_process(proc)
        pytest.fail("redis-server %s did not start" % name)
    return proc


def test_unix_socket_url(cli, tmp_path, secret_file, keyring):
    def args(d):
        return ["--port", "0", "--unixsocket", str(d / "r.sock"),
                "--save", "", "--appendonly", "no", "--dir", str(d)]

    proc = _start_redis(args, tmp_path, "unix",
                        lambda d: os.path.exists(d / "r.sock"))
    try:
        sock = tmp_path / "unix" / "r.sock"
        url = "unix://%s?db=2" % sock
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "create", "--user", "alice", "--roles", "Admin")
        assert r.returncode == 0, r.stderr
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "list")
        assert [row["user"] for row in listed(r.stdout)] == ["alice"]
        out = subprocess.run(["redis-cli", "-s", str(sock), "-n", "2",
                              "DBSIZE"], capture_output=True, text=True)
        assert out.stdout.strip() == "2"
    finally:
        stop_process(proc)


def test_sentinel_url_finds_the_master(cli, redis, tmp_path, secret_file,
                                       keyring):
    port = free_port()

    def args(d):
        conf = d / "sentinel.conf"
        conf.write_text("port %d\nbind 127.0.0.1\ndir %s\n"
                        "sentinel monitor themaster 127.0.0.1 %d 1\n"
                        % (port, d, redis.port))
        return [str(conf), "--sentinel"]

    proc = _start_redis(args, tmp_path, "sentinel",
                        lambda d: port_open(port))
    try:
        dead = free_port()
        url = "sentinel://127.0.0.1:%d,127.0.0.1:%d/themaster" % (dead, port)
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "create", "--user", "alice", "--roles", "Admin")
        assert r.returncode == 0, r.stderr
        h = session_hash(sid_of(keyring, r.stdout))
        assert redis.cli("EXISTS", PREFIX + "s:" + h) == "1"

        url = "sentinel://127.0.0.1:%d/nosuchmaster" % port
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "list")
        assert r.returncode == 1
        assert r.stderr.startswith(ERR_PREFIX)
        assert "nosuchmaster" in r.stderr
    finally:
        stop_process(proc, sig=signal.SIGTERM)


def test_sentinel_with_its_own_password_and_a_db(cli, redis_factory,
                                                 tmp_path, secret_file,
                                                 keyring):
    master = redis_factory(password="shared-pw")
    port = free_port()

    def args(d):
        conf = d / "sentinel.conf"
        conf.write_text("port %d\nbind 127.0.0.1\ndir %s\n"
                        "requirepass shared-pw\n"
                        "sentinel monitor m1 127.0.0.1 %d 1\n"
                        "sentinel auth-pass m1 shared-pw\n"
                        % (port, d, master.port))
        return [str(conf), "--sentinel"]

    proc = _start_redis(args, tmp_path, "sentinel",
                        lambda d: port_open(port))
    try:
        # the sentinel answers NOAUTH first; it gets AUTH but no SELECT
        url = "sentinel://:shared-pw@127.0.0.1:%d/m1/4" % port
        r = cli("--redis", url, "--secret-file", secret_file, "session",
                "create", "--user", "alice", "--roles", "Admin")
        assert r.returncode == 0, r.stderr
        h = session_hash(sid_of(keyring, r.stdout))
        assert master.cli("-n", "4", "EXISTS", PREFIX + "s:" + h) == "1"
    finally:
        stop_process(proc)


# -- bad arguments -----------------------------------------------------------

@pytest.fixture
def bad_files(tmp_path):
    files = {}
    for name, text in {
        "short": base64.b64encode(b"too short").decode() + "\n",
        "notb64": "this is not base64 at all!!!\n",
        "empty": "# only a comment\n",
        "badjson": '{"admins": ["Admin"],\n  "ops": ["Op"\n}\n',
        "badrole": '{"admins": ["Ad,min"]}\n',
    }.items():
        p = tmp_path / ("bad-" + name)
        p.write_text(text)
        files["@" + name + "@"] = str(p)
    files["@missing@"] = str(tmp_path / "does-not-exist")
    return files


CREATE = ["session", "create", "--user", "alice"]

BAD_ARGS = [
    ([], "missing command"),
    (["session"], "missing session command"),
    (["sessions", "list"], "unknown command"),
    (["session", "delete"], "unknown session command"),
    (["session", "list", "--bogus"], "unknown option"),
    (["session", "list", "-u", "alice"], "unknown option"),
    (["session", "list", "extra"], "unexpected argument"),
    (["session", "create", "--roles", "Admin"], "needs --user"),
    (["session", "create", "--user"], "needs a value"),
    (["session", "create", "--user", "--roles", "Admin"], "needs a value"),
    (["session", "list", "--user", "a", "--user", "b"], "more than once"),
    (CREATE + ["--user=", "--roles", "Admin"], "more than once"),
    (["session", "list", "--user="], "must not be empty"),
    (CREATE + ["--roles", "Admin", "--roles-mapping", "@roles@"],
     "exclude each other"),
    (CREATE + ["--roles", "Admin", "--default-role", "Viewer"],
     "--default-role"),
    (CREATE + ["--roles", ""], "at least one role"),
    (CREATE + ["--roles", " , "], "at least one role"),
    (CREATE + ["--roles", "Ad\tmin"], "invalid role name"),
    (CREATE + ["--roles-mapping", "@roles@", "--default-role", "Vi,ewer"],
     "invalid role name"),
    (CREATE + ["--roles", "Admin", "--ttl", "12h"], "--ttl"),
    (CREATE + ["--roles", "Admin", "--ttl", "0"], "--ttl"),
    (CREATE + ["--roles", "Admin", "--ttl", "-5"], "--ttl"),
    (CREATE + ["--roles", "Admin", "--ttl", " 60"], "--ttl"),
    (CREATE + ["--roles", "Admin", "--ttl", "99999999999999999999"],
     "--ttl"),
    (CREATE + ["--roles", "Admin", "--idle-timeout", "abc"],
     "--idle-timeout"),
    (CREATE + ["--roles", "Admin", "--idp", ""], "--idp"),
    (["session", "list", "--all"], "does not apply"),
    (["session", "list", "--email", "x"], "does not apply"),
    (["session", "revoke"], "either --user or --all"),
    (["session", "revoke", "--user", "a", "--all"], "either --user or --all"),
    (["session", "revoke", "--all=yes"], "takes no value"),
    (CREATE + ["--roles-mapping", "@missing@"], "cannot read roles mapping"),
    (CREATE + ["--roles-mapping", "@badjson@"], "line"),
    (CREATE + ["--roles-mapping", "@badrole@"], "admins"),
    (CREATE + ["--roles", "Admin", "--name", "\udcff"], "UTF-8"),
    (["session", "list\r\nFLUSHALL"], "list\\x0d\\x0aFLUSHALL"),
]

BAD_CONFIG = [
    (["--redis", "http://127.0.0.1/"], "bad --redis URL"),
    (["--redis", "redis://127.0.0.1:notaport/0"], "bad --redis URL"),
    (["--redis", "redis://127.0.0.1:6379/zero"], "bad --redis URL"),
    (["--redis", "rediss://127.0.0.1:6380/0"],
     "TLS is not supported by this build"),
    (["--secret-file", "@missing@"], "cannot read secret file"),
    (["--secret-file", "@short@"], "secret file"),
    (["--secret-file", "@notb64@"], "secret file"),
    (["--secret-file", "@empty@"], "secret file"),
    (["--secret-file", "/"], "cannot read secret file"),
]


@pytest.mark.parametrize("args,message", BAD_ARGS,
                         ids=[" ".join(a[len(CREATE):] if a[:4] == CREATE
                                       else a) or "no-args"
                              for a, _ in BAD_ARGS])
def test_bad_arguments_exit_2_with_one_line(cli, redis, secret_file,
                                            roles_file, bad_files, args,
                                            message):
    subst = dict(bad_files, **{"@roles@": str(roles_file)})
    args = [subst.get(a, a) for a in args]
    r = cli("--redis", redis.url, "--secret-file", secret_file, *args)
    assert_one_error_line(r, 2, message)
    assert redis.cli("DBSIZE") == "0"


@pytest.mark.parametrize("override,message", BAD_CONFIG,
                         ids=[o[1] for o, _ in BAD_CONFIG])
def test_bad_configuration_exits_2_with_one_line(cli, redis, secret_file,
                                                 bad_files, override,
                                                 message):
    opts = {"--redis": redis.url, "--secret-file": str(secret_file)}
    opts[override[0]] = bad_files.get(override[1], override[1])
    argv = [x for kv in opts.items() for x in kv]
    for command in (["session", "list"],
                    ["session", "create", "--user", "a", "--roles", "Op"]):
        r = cli(*argv, *command)
        assert_one_error_line(r, 2, message)
    assert redis.cli("DBSIZE") == "0"


def test_missing_secret_file_is_a_usage_error(cli, redis):
    r = cli("--redis", redis.url, "session", "list")
    assert_one_error_line(r, 2, "--secret-file")


def test_help_prints_the_usage(cli):
    r = cli("--help")
    assert r.returncode == 0 and r.stderr == ""
    for word in ("session create", "session list", "session revoke",
                 "--roles-mapping", "--idle-timeout", "--prefix"):
        assert word in r.stdout
    r = cli("session", "create", "--help")
    assert r.returncode == 0 and "session create" in r.stdout


def test_options_also_follow_the_command(admin_path, redis, secret_file):
    r = subprocess.run([admin_path, "session", "create", "--user", "alice",
                        "--roles=Admin", "--redis=" + redis.url,
                        "--secret-file", str(secret_file)],
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 0, r.stderr
    assert COOKIE_RE.match(r.stdout.strip())


# -- secrets -----------------------------------------------------------------

def test_no_secret_or_key_material_is_ever_printed(cli, redis, tmp_path):
    raw = [os.urandom(32), os.urandom(48)]
    lines = [base64.b64encode(k).decode() for k in raw]
    secret = tmp_path / "secret"
    secret.write_text("# current\n%s\n# previous\n%s\n" % tuple(lines))
    ring = Keyring.from_text(secret.read_text())
    short = tmp_path / "short"
    short_line = base64.b64encode(b"sixteen byte key").decode()
    short.write_text(lines[1] + "\n" + short_line + "\n")

    forbidden = set(lines) | {short_line}
    for k in ring.keys:
        for material in (k.secret, k.mac_key, k.enc_key):
            forbidden |= {material.hex(), base64.b64encode(material).decode(),
                          base64.urlsafe_b64encode(material).decode()
                          .rstrip("=")}

    base = ["--redis", redis.url, "--secret-file", secret]
    runs = [
        cli(*base, "session", "create", "--user", "alice", "--roles", "Op"),
        cli(*base, "session", "list"),
        cli(*base, "session", "list", "--user", "alice"),
        cli(*base, "session", "create", "--user", "x", "--ttl", "bad"),
        cli(*base, "session", "revoke", "--user", "alice"),
        cli(*base, "session", "revoke", "--all"),
        cli("--redis", redis.url, "--secret-file", short, "session", "list"),
        cli("--redis", "redis://127.0.0.1:%d" % free_port(),
            "--secret-file", secret, "session", "list"),
        cli("--help"),
    ]
    assert runs[0].returncode == 0 and runs[6].returncode == 2
    for r in runs:
        for s in forbidden:
            assert s not in r.stdout and s not in r.stderr, r.args


# -- the gateway accepts what the CLI writes ---------------------------------

def test_the_module_accepts_a_cli_session_until_it_is_revoked(
        nginx, upstream, admin, roles_file):
    ng = nginx()
    cookie = create(admin, "alice", "--email", "alice@example.com",
                    "--name", "Alice", "--groups", "data-eng,ops",
                    "--roles-mapping", roles_file, "--idp", "ops-cli")

    r = confs.get(ng, "/dags", session=cookie)
    assert r.status == 200, r
    seen = upstream.last()
    assert seen.header("X-Airflow-User") == "alice"
    assert seen.header("X-Airflow-Email") == "alice@example.com"
    assert seen.header("X-Airflow-Name") == "Alice"
    assert seen.header("X-Airflow-Roles") == "User,Op,Viewer"
    assert seen.header("X-Airflow-Groups") == "data-eng,ops"
    assert seen.header("X-Airflow-Idp") == "ops-cli"

    r = confs.get(ng, confs.ENDPOINT + "/whoami", session=cookie)
    assert r.status == 200, r
    assert r.json()["idp_type"] == "cli"

    r = admin("session", "revoke", "--user", "alice")
    assert r.stdout == "revoked 1 session(s)\n", r
    r = confs.get(ng, "/dags", session=cookie)
    assert r.status == 401, r
