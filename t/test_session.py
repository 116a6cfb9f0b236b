"""Sessions: what lets a request through to Airflow, and what does not."""

import base64
import os
import time

import pytest

from lib import httpc
from lib.confs import AUTH_HTTP, IDENTITY_HEADERS, get
from lib.sealer import Key, Keyring, b64url, session_hash, session_key
from conftest import write_secret_file

NOW = lambda: int(time.time())  # noqa: E731


def identity(req):
    """{header: [values]} of the identity headers the upstream saw."""
    return {h: req.header_all(h) for h in IDENTITY_HEADERS}


WRITE_COMMANDS = ("set", "setex", "psetex", "getex", "getset", "expire",
                  "pexpire", "expireat", "pexpireat", "persist", "del",
                  "unlink", "sadd", "srem", "eval", "evalsha", "exec")


def writes(stats):
    """Calls of every command that could move a record or its TTL."""
    return {k: v for k, v in stats.items() if k in WRITE_COMMANDS}


def test_valid_session_reaches_the_upstream_with_the_six_identity_headers(
        nginx, upstream, session):
    ng = nginx()
    c = session("alice", email="alice@example.com", name="Alice Liddell",
                groups=["data-eng", "airflow-admins"], roles=["Admin", "Op"],
                idp="okta")

    r = get(ng, "/dags?tab=grid", c)

    assert r.status == 200, r
    seen = upstream.last()
    assert seen["path"] == "/dags?tab=grid"
    assert identity(seen) == {
        "X-Airflow-User": ["alice"],
        "X-Airflow-Email": ["alice@example.com"],
        "X-Airflow-Name": ["Alice Liddell"],
        "X-Airflow-Roles": ["Admin,Op"],
        "X-Airflow-Groups": ["data-eng,airflow-admins"],
        "X-Airflow-Idp": ["okta"],
    }


def test_all_six_headers_are_sent_even_when_empty(nginx, upstream, sealer):
    ng = nginx()
    c, _ = sealer.create("bare", email="", name="", groups=[], roles=[],
                         idp="")

    r = get(ng, "/x", c)

    assert r.status == 200, r
    seen = identity(upstream.last())
    assert seen["X-Airflow-User"] == ["bare"]
    for h in IDENTITY_HEADERS[1:]:
        assert seen[h] == [""], (h, seen)


def test_no_cookie_is_refused_and_never_reaches_the_upstream(nginx, upstream):
    ng = nginx()

    assert get(ng, "/x").status == 401
    assert get(ng, "/x", headers=httpc.NAVIGATE).status == 302
    assert upstream.count() == 0


def forged_cookies(valid, sealer):
    sid_part, mac_part = valid.split(".")

    def flip(s, i):
        ch = "A" if s[i] != "A" else "B"
        return s[:i] + ch + s[i + 1:]

    other_key = Keyring([Key.random()])
    sid = base64.urlsafe_b64decode(sid_part + "=")
    return {
        "random": b64url(os.urandom(32)) + "." + b64url(os.urandom(32)),
        "mac last char changed": sid_part + "." + flip(mac_part, 42),
        "mac first char changed": sid_part + "." + flip(mac_part, 0),
        "id changed": flip(sid_part, 5) + "." + mac_part,
        "mac of a real id under another key": other_key.make_cookie(sid),
        "mac swapped for the id": sid_part + "." + sid_part,
        "no dot": sid_part + mac_part,
        "two dots": sid_part + "." + mac_part + "." + mac_part,
        "truncated": valid[:-1],
        "extended": valid + "A",
        "padded": sid_part + "=." + mac_part + "=",
        "standard alphabet": valid.replace("-", "+").replace("_", "/")
        if ("-" in valid or "_" in valid) else valid[:-2] + "+/",
        "empty": "",
        "short garbage": "abc.def",
        "oversized": "A" * 2000 + "." + "B" * 2000,
    }


def test_forged_random_and_modified_cookies_are_refused_without_a_redis_command(
        nginx, upstream, redis, session, sealer):
    ng = nginx()
    valid = session("alice", roles=["Admin"])
    assert get(ng, "/x", valid).status == 200   # warm: connection made
    before = redis.commandstats()
    upstream.clear()

    for label, forged in forged_cookies(valid, sealer).items():
        r = get(ng, "/x", forged)
        assert r.status == 401, (label, r)

    after = redis.commandstats()
    after.pop("info", None)
    before.pop("info", None)
    assert after == before, "forged cookies reached Redis: %s -> %s" % (
        before, after)
    assert upstream.count() == 0

    # The same count does move for a genuine cookie, so it is measuring
    # (a fresh one: the first is in the session cache by now).
    fresh = session("bob", roles=["Admin"])
    assert get(ng, "/x", fresh).status == 200
    assert redis.calls("get") == before.get("get", 0) + 1


def test_expired_session_is_refused_though_redis_still_holds_the_key(
        nginx, upstream, redis, sealer):
    ng = nginx()
    now = NOW()
    c, sid = sealer.create("alice", roles=["Admin"], created=now - 7200,
                           expires=now - 60, last_seen=now - 5,
                           idle_expires=now + 1700, ttl=3600)
    assert redis.cli("EXISTS", session_key(sid)) == "1"

    assert get(ng, "/x", c).status == 401
    assert get(ng, "/x", c, headers=httpc.NAVIGATE).status == 302
    assert upstream.count() == 0

    # Control: the same record one minute short of its expiry passes.
    c2, _ = sealer.create("alice", roles=["Admin"], created=now - 7200,
                          expires=now + 60, last_seen=now - 5,
                          idle_expires=now + 60, ttl=3600)
    assert get(ng, "/x", c2).status == 200


def test_idle_expired_session_is_refused_though_redis_still_holds_the_key(
        nginx, upstream, redis, sealer):
    ng = nginx()
    now = NOW()
    c, sid = sealer.create("alice", roles=["Admin"], created=now - 3700,
                           expires=now + 36000, last_seen=now - 3600,
                           idle_expires=now - 1800, ttl=36000)
    assert redis.cli("EXISTS", session_key(sid)) == "1"

    assert get(ng, "/x", c).status == 401
    assert upstream.count() == 0


def test_session_revoked_with_the_cli_is_refused(nginx, upstream, session,
                                                 admin):
    ng = nginx()
    c = session("alice", roles=["Admin"])
    other = session("bob", roles=["Admin"])
    assert get(ng, "/x", c).status == 200

    r = admin("session", "revoke", "--user", "alice")
    assert r.returncode == 0, r.stderr

    assert get(ng, "/x", c).status == 401
    assert get(ng, "/x", other).status == 200


def test_session_deleted_from_redis_is_refused(nginx, redis, sealer,
                                               session):
    # The Redis path itself; with the session cache on, a bare DEL is
    # honoured once the cached entry lapses (test_cache.py).
    ng = nginx(http=AUTH_HTTP + "    airflow_auth_session_cache off;\n")
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    sid = sealer.keyring.parse_cookie(c)
    assert sid is not None

    assert redis.cli("DEL", session_key(sid)) == "1"

    assert get(ng, "/x", c).status == 401


def _truncate(blob):
    return blob[:len(blob) // 2]


def _flip_ciphertext(blob):
    i = 1 + 4 + 12 + 3
    return blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1:]


def _flip_tag(blob):
    return blob[:-1] + bytes([blob[-1] ^ 0x80])


def _flip_version(blob):
    return bytes([2]) + blob[1:]


@pytest.mark.parametrize("tamper", [_truncate, _flip_ciphertext, _flip_tag,
                                    _flip_version],
                         ids=["truncated", "ciphertext", "tag", "version"])
def test_tampered_record_is_refused(nginx, upstream, sealer, tamper):
    ng = nginx()
    c, _ = sealer.create("alice", roles=["Admin"], tamper=tamper)

    assert get(ng, "/x", c).status == 401
    assert upstream.count() == 0


@pytest.mark.parametrize("garbage", [b"garbage", b"", b"\x01", b"\x00" * 64,
                                     os.urandom(300)],
                         ids=["text", "empty", "one byte", "zeros", "random"])
def test_garbage_record_in_redis_is_refused(nginx, upstream, sealer,
                                            garbage):
    ng = nginx()
    sid = sealer.new_id()
    sealer.write_raw(sid, garbage)

    r = get(ng, "/x", sealer.cookie_for(sid))

    assert r.status == 401, r
    assert upstream.count() == 0


def test_record_sealed_with_an_unknown_key_is_refused(nginx, upstream,
                                                      sealer):
    ng = nginx()
    c, _ = sealer.create("alice", roles=["Admin"], seal_key=Key.random())

    assert get(ng, "/x", c).status == 401
    assert upstream.count() == 0


@pytest.mark.parametrize("plaintext", [
    b"not json", b'{"v":2,"user":"alice","expires":9999999999}', b"[]",
    b'{"v":1,"user":"","roles":[]}', b'{"v":1,"user":["alice"]}'],
    ids=["not json", "version 2", "array", "empty user", "user not string"])
def test_record_that_opens_but_is_malformed_is_refused(nginx, upstream,
                                                       sealer, plaintext):
    ng = nginx()
    sid = sealer.new_id()
    sealer.write(sid, plaintext, ttl=600)

    assert get(ng, "/x", sealer.cookie_for(sid)).status == 401
    assert upstream.count() == 0


def test_record_moved_to_another_sessions_key_is_refused(nginx, upstream,
                                                         sealer, redis):
    # The AAD binds a record to its own session id: copying Admin's record
    # under another (validly signed) id must not work.
    ng = nginx()
    admin_cookie, admin_sid = sealer.create("root", roles=["Admin"])
    assert get(ng, "/x", admin_cookie).status == 200
    upstream.clear()

    other = sealer.new_id()
    sealer.write_raw(other, sealer.read_raw(admin_sid))

    assert get(ng, "/x", sealer.cookie_for(other)).status == 401
    assert upstream.count() == 0


def test_key_rotation_keeps_sessions_made_under_the_old_key(
        nginx, upstream, secret_file, secrets, session, sealer):
    ng = nginx()
    old = session("alice", roles=["Admin"])
    assert get(ng, "/x", old).status == 200
    key_a = Keyring.from_file(secret_file).keys[0]
    key_b = Key(os.urandom(32))

    write_secret_file(secret_file, [key_b.secret, key_a.secret], secrets)
    assert ng.reload()

    assert get(ng, "/x", old).status == 200
    new = session("carol", roles=["Op"])
    assert get(ng, "/x", new).status == 200
    new_sid = Keyring([key_b]).parse_cookie(new)
    assert new_sid is not None, "new cookies must be signed with the new key"
    assert sealer.read_raw(new_sid)[1:5] == key_b.kid

    # Once A leaves the file, what it signed is refused.
    write_secret_file(secret_file, [key_b.secret], secrets)
    assert ng.reload()

    assert get(ng, "/x", old).status == 401
    assert get(ng, "/x", new).status == 200


IDLE_HTTP = """\
    airflow_auth_redis @redis@;
    airflow_auth_secret_file @secret_file@;
    airflow_auth_session_idle_timeout 100s;
"""


def test_idle_ttl_is_not_refreshed_on_every_request(nginx, redis, sealer):
    ng = nginx(http=IDLE_HTTP)
    now = NOW()
    c, sid = sealer.create("alice", roles=["Admin"], last_seen=now,
                           idle_expires=now + 100, ttl=50)
    stored = sealer.read_raw(sid)
    before = writes(redis.commandstats())

    for _ in range(5):
        assert get(ng, "/x", c).status == 200

    assert writes(redis.commandstats()) == before
    assert sealer.read_raw(sid) == stored
    assert 0 < sealer.ttl(sid) <= 50


def test_idle_ttl_is_refreshed_once_a_tenth_of_the_idle_timeout_has_passed(
        nginx, redis, sealer):
    ng = nginx(http=IDLE_HTTP)
    now = NOW()
    c, sid = sealer.create("alice", roles=["Admin"], created=now - 30,
                           last_seen=now - 30, idle_expires=now + 70,
                           expires=now + 3600, ttl=70)
    stale = sealer.read_raw(sid)
    before = writes(redis.commandstats())

    assert get(ng, "/x", c).status == 200

    refreshed = sealer.read_raw(sid)
    assert refreshed != stale, "the record was not rewritten"
    rec = sealer.keyring.unseal_record(sid, refreshed)
    assert rec["last_seen"] >= now
    assert rec["idle_expires"] >= now + 95
    assert rec["expires"] == now + 3600
    assert sealer.ttl(sid) > 90
    after_first = writes(redis.commandstats())
    assert after_first != before

    for _ in range(5):
        assert get(ng, "/x", c).status == 200

    assert sealer.read_raw(sid) == refreshed
    assert writes(redis.commandstats()) == after_first


def test_record_sealed_by_python_is_accepted_by_nginx(nginx, upstream,
                                                      sealer):
    ng = nginx()
    c, _ = sealer.create("py-user", email="py@example.com", name="Py Thon",
                         groups=["g1"], roles=["Viewer", "User"],
                         idp="pyidp", idp_type="oidc")

    assert get(ng, "/x", c).status == 200
    assert identity(upstream.last()) == {
        "X-Airflow-User": ["py-user"],
        "X-Airflow-Email": ["py@example.com"],
        "X-Airflow-Name": ["Py Thon"],
        "X-Airflow-Roles": ["Viewer,User"],
        "X-Airflow-Groups": ["g1"],
        "X-Airflow-Idp": ["pyidp"],
    }


def test_record_written_by_the_cli_is_opened_by_python(session, sealer,
                                                       redis):
    before = NOW()
    c = session("alice", email="a@example.com", name="Alice",
                groups=["g1", "g2"], roles=["Admin"], idp="okta", ttl=7200)

    sid = sealer.keyring.parse_cookie(c)
    assert sid is not None, "the CLI's cookie MAC does not verify in Python"
    rec = sealer.read(sid)
    assert rec["v"] == 1
    assert (rec["user"], rec["email"], rec["name"]) == (
        "alice", "a@example.com", "Alice")
    assert rec["groups"] == ["g1", "g2"]
    assert rec["roles"] == ["Admin"]
    assert rec["idp"] == "okta"
    assert before <= rec["created"] <= NOW()
    assert rec["expires"] - rec["created"] == 7200
    assert rec["last_seen"] <= rec["idle_expires"] <= rec["expires"]
    assert redis.cli("SISMEMBER", "airflow_auth:u:alice",
                     session_hash(sid)) == "1"
