"""The shared-memory session cache.

A cached session answers without Redis; a revocation (logout, CLI revoke)
reaches every instance through pub/sub and is immediate; while a worker
cannot hear revocations it does not read the cache; a bare DEL in Redis is
honoured once the entry lapses, a tenth of the idle timeout after the
session was last refreshed.
"""

import time

from lib.confs import AUTH_HTTP, get
from lib.sealer import session_key
from lib.servers import wait_for

SHORT_IDLE = AUTH_HTTP + "    airflow_auth_session_idle_timeout 10s;\n"


def settle(ng, redis):
    """Waits until the worker's subscription is in place."""
    assert wait_for(lambda: int(redis.cli("PUBSUB", "NUMSUB",
                                          "airflow_auth:inv")
                                .split()[-1]) >= 1, timeout=10), \
        "no subscriber on airflow_auth:inv"


def test_a_cached_session_is_answered_without_redis(nginx, redis, session,
                                                    upstream):
    ng = nginx()
    settle(ng, redis)
    c = session("alice", roles=["Viewer"])

    assert get(ng, "/x", c).status == 200
    gets = redis.calls("get")

    for _ in range(20):
        r = get(ng, "/x", c)
        assert r.status == 200
        assert upstream.last().header("X-Airflow-User") == "alice"

    assert redis.calls("get") == gets


def test_with_the_cache_off_every_request_asks_redis(nginx, redis, session):
    ng = nginx(http=AUTH_HTTP + "    airflow_auth_session_cache off;\n")
    c = session("alice", roles=["Viewer"])

    before = redis.calls("get")
    for _ in range(5):
        assert get(ng, "/x", c).status == 200

    assert redis.calls("get") == before + 5


def test_cli_revocation_is_immediate_on_every_instance(nginx, redis,
                                                       session, admin):
    a = nginx()
    b = nginx()
    settle(a, redis)
    c = session("alice", roles=["Viewer"])
    for ng in (a, b):
        assert get(ng, "/x", c).status == 200
        assert get(ng, "/x", c).status == 200

    r = admin("session", "revoke", "--user", "alice")
    assert r.returncode == 0, r.stderr

    assert wait_for(lambda: get(a, "/x", c).status == 401, timeout=2)
    assert get(b, "/x", c).status == 401


def test_logout_on_one_instance_ends_the_session_on_another(nginx, redis,
                                                            session):
    a = nginx()
    b = nginx()
    settle(a, redis)
    c = session("alice", roles=["Viewer"])
    assert get(b, "/x", c).status == 200
    assert get(b, "/x", c).status == 200

    assert get(a, "/_airflow_auth/logout", c).status == 200

    assert wait_for(lambda: get(b, "/x", c).status == 401, timeout=2)


def test_a_bare_del_is_honoured_once_the_entry_lapses(nginx, redis, sealer,
                                                     session):
    ng = nginx(http=SHORT_IDLE)
    settle(ng, redis)
    c = session("alice", roles=["Viewer"], idle_timeout=10)
    assert get(ng, "/x", c).status == 200

    redis.cli("DEL", session_key(sealer.keyring.parse_cookie(c)))

    # the entry lives at most a tenth of the idle timeout (1 s) past its
    # last refresh; seconds are whole, so allow up to 2.5 s
    assert wait_for(lambda: get(ng, "/x", c).status == 401, timeout=2.5)


def test_the_cache_is_not_read_while_revocations_cannot_be_heard(
        nginx, redis, sealer, session):
    ng = nginx()
    settle(ng, redis)
    c = session("alice", roles=["Viewer"])
    assert get(ng, "/x", c).status == 200

    # cut the worker's subscription, then delete without a message
    redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
    redis.cli("DEL", session_key(sealer.keyring.parse_cookie(c)))

    assert get(ng, "/x", c).status == 401


def test_entries_missed_while_unsubscribed_are_dropped_on_resubscribe(
        nginx, redis, sealer, session):
    ng = nginx()
    settle(ng, redis)
    c = session("alice", roles=["Viewer"])
    assert get(ng, "/x", c).status == 200
    key = session_key(sealer.keyring.parse_cookie(c))

    redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
    redis.cli("DEL", key)
    settle(ng, redis)

    # the record is gone and the resubscription dropped the cache
    assert get(ng, "/x", c).status == 401


def test_an_expired_session_is_never_answered_from_the_cache(nginx, redis,
                                                            session):
    ng = nginx()
    settle(ng, redis)
    c = session("alice", roles=["Viewer"], ttl=2)
    assert get(ng, "/x", c).status == 200
    assert get(ng, "/x", c).status == 200

    time.sleep(2.2)

    assert get(ng, "/x", c).status == 401


def test_roles_from_the_cache_still_gate_require_role(nginx, redis, session):
    ng = nginx(server="""\
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
        location /admin/ {
            airflow_auth on;
            airflow_auth_require_role Admin;
            proxy_pass http://@upstream@;
        }
""")
    settle(ng, redis)
    c = session("alice", roles=["Viewer", "Op"])
    assert get(ng, "/x", c).status == 200
    gets = redis.calls("get")

    r = get(ng, "/admin/x", c)

    assert r.status == 403
    assert "alice" in r.text and "Admin" in r.text
    assert redis.calls("get") == gets


def test_a_cached_session_keeps_working_while_redis_hangs(nginx, redis,
                                                         session):
    # nothing can be revoked while Redis hangs (PUBLISH would hang too),
    # so a cached identity is still the truth; an uncached one gets 503
    ng = nginx(http=AUTH_HTTP + "    airflow_auth_redis_timeout 500ms;\n")
    settle(ng, redis)
    cached = session("alice", roles=["Viewer"])
    cold = session("bob", roles=["Viewer"])
    assert get(ng, "/x", cached).status == 200

    redis.pause()
    try:
        assert get(ng, "/x", cached).status == 200
        assert get(ng, "/x", cold).status == 503
    finally:
        redis.resume()


def test_a_revocation_heard_before_a_late_get_keeps_it_out_of_the_cache(
        nginx, redis, sealer, session):
    # A GET sent just before a DEL may answer after the revocation message;
    # here the record still exists when the message comes, as for that GET.
    ng = nginx()
    settle(ng, redis)
    c = session("alice", roles=["Viewer"])
    h = session_key(sealer.keyring.parse_cookie(c)).split("s:", 1)[1]

    redis.cli("PUBLISH", "airflow_auth:inv", h)
    time.sleep(0.2)

    gets = redis.calls("get")
    assert get(ng, "/x", c).status == 200
    assert get(ng, "/x", c).status == 200

    # both asked Redis: the first answer was not allowed into the cache
    assert redis.calls("get") == gets + 2
