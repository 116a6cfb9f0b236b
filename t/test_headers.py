"""Identity headers: the upstream sees only the values the module sets,
never a client's copy, and nothing carries over between requests."""

import pytest

from lib import httpc
from lib.confs import IDENTITY_HEADERS, cookie, get

SERVER = """\
        underscores_in_headers on;
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
        location /open/ {
            airflow_auth off;
            proxy_pass http://@upstream@;
        }
"""

# What a client might send to pass for someone else.
SPOOFED = [
    ("X-Airflow-User", "mallory"),
    ("x_airflow_user", "mallory-underscore"),
    ("X-AIRFLOW-ROLES", "Admin"),
    ("x-airflow-groups", "airflow-admins"),
    ("X_Airflow_Email", "mallory@evil.example"),
    ("X-Airflow-Name", "Mallory"),
    ("X-Airflow-Idp", "evil-idp"),
    ("X-Airflow-Anything", "mallory-anything"),
    ("Remote-User", "mallory-remote"),
    ("remote_user", "mallory-remote-underscore"),
    ("X-Forwarded-User", "mallory-forwarded"),
]

# Headers outside the identity family pass untouched, underscores included.
INNOCENT = [("X-Request-Id", "req-42"), ("x_custom_thing", "kept")]

OURS = {"alice", "alice@example.com", "Alice", "Viewer", "readers",
        "okta", "test-idp", ""}


def spoof_free(seen):
    """Problems with what the upstream saw, as readable strings."""
    problems = []
    for name, value in seen["headers"]:
        low = name.lower().replace("_", "-")
        if "mallory" in value.lower() or "evil" in value.lower() \
                or value in ("Admin", "airflow-admins"):
            problems.append("client value reached upstream: %s: %s"
                            % (name, value))
        if low in ("remote-user", "x-forwarded-user"):
            problems.append("identity header reached upstream: %s" % name)
        if low.startswith("x-airflow-"):
            if name not in IDENTITY_HEADERS:
                problems.append("client spelling reached upstream: %s"
                                % name)
            elif value not in OURS:
                problems.append("foreign value in %s: %s" % (name, value))
    for h in IDENTITY_HEADERS:
        if len(seen.header_all(h)) > 1:
            problems.append("%s sent %d times" % (h, len(seen.header_all(h))))
    return problems


@pytest.fixture
def alice(session):
    return session("alice", email="alice@example.com", name="Alice",
                   groups=["readers"], roles=["Viewer"], idp="okta")


@pytest.mark.parametrize("spoof", SPOOFED, ids=[n for n, _ in SPOOFED])
def test_spoofed_header_with_a_session_is_replaced_by_ours(
        nginx, upstream, alice, spoof):
    ng = nginx(server=SERVER)

    r = get(ng, "/x", alice, headers=httpc.API + [spoof] + INNOCENT)

    assert r.status == 200, r
    seen = upstream.last()
    assert spoof_free(seen) == []
    assert seen.header_all("X-Airflow-User") == ["alice"]
    assert seen.header_all("X-Airflow-Roles") == ["Viewer"]
    assert seen.header("X-Request-Id") == "req-42"
    assert seen.header("x_custom_thing") == "kept"


def test_all_spoofed_headers_at_once_with_a_session(nginx, upstream, alice):
    ng = nginx(server=SERVER)

    r = get(ng, "/x", alice, headers=httpc.API + SPOOFED + INNOCENT)

    assert r.status == 200, r
    seen = upstream.last()
    assert spoof_free(seen) == []
    assert {h: seen.header_all(h) for h in IDENTITY_HEADERS} == {
        "X-Airflow-User": ["alice"],
        "X-Airflow-Email": ["alice@example.com"],
        "X-Airflow-Name": ["Alice"],
        "X-Airflow-Roles": ["Viewer"],
        "X-Airflow-Groups": ["readers"],
        "X-Airflow-Idp": ["okta"],
    }


def test_spoofed_headers_without_a_session_do_not_get_in(nginx, upstream):
    ng = nginx(server=SERVER)

    for shape in (httpc.API, httpc.NAVIGATE):
        r = get(ng, "/x", None, headers=shape + SPOOFED)
        assert r.status in (302, 401), r
    assert upstream.count() == 0


@pytest.mark.parametrize("with_session", [False, True],
                         ids=["anonymous", "with session"])
def test_spoofed_headers_are_removed_on_an_airflow_auth_off_location(
        nginx, upstream, session, with_session):
    ng = nginx(server=SERVER)
    c = session("alice", roles=["Viewer"]) if with_session else None

    r = get(ng, "/open/page", c, headers=httpc.API + SPOOFED + INNOCENT)

    assert r.status == 200, r
    seen = upstream.last()
    assert seen["path"] == "/open/page"
    assert spoof_free(seen) == []
    assert seen.header("X-Request-Id") == "req-42"
    assert seen.header("x_custom_thing") == "kept"
    if not with_session:
        assert [n for n, _ in seen["headers"]
                if n.lower().replace("_", "-").startswith("x-airflow-")] == []


def test_identity_does_not_carry_over_to_the_next_request_on_a_keepalive_connection(
        nginx, upstream, alice):
    ng = nginx(server=SERVER)

    with httpc.Connection(ng.port) as conn:
        first = conn.request("GET", "/app", headers=httpc.API,
                             cookie=cookie(alice))
        assert first.status == 200, first
        assert upstream.last().header("X-Airflow-User") == "alice"
        count = upstream.count()

        api = conn.request("GET", "/app", headers=httpc.API)
        nav = conn.request("GET", "/app", headers=httpc.NAVIGATE)
        assert api.status == 401, api
        assert nav.status == 302, nav
        assert upstream.count() == count, "anonymous request reached upstream"

        # Same connection, a bypassed location: still no identity.
        opened = conn.request("GET", "/open/x", headers=httpc.API)
        assert opened.status == 200, opened
        seen = upstream.last()
        assert seen["path"] == "/open/x"
        assert [h for h in IDENTITY_HEADERS if seen.header_all(h)] == []


def test_second_user_on_the_same_connection_gets_only_their_identity(
        nginx, upstream, session):
    ng = nginx(server=SERVER)
    a = session("alice", roles=["Admin"], groups=["admins"])
    b = session("bob", roles=["Viewer"], groups=[])

    with httpc.Connection(ng.port) as conn:
        assert conn.request("GET", "/a", headers=httpc.API,
                            cookie=cookie(a)).status == 200
        assert conn.request("GET", "/b", headers=httpc.API,
                            cookie=cookie(b)).status == 200

    seen = upstream.last()
    assert seen["path"] == "/b"
    assert seen.header_all("X-Airflow-User") == ["bob"]
    assert seen.header_all("X-Airflow-Roles") == ["Viewer"]
    assert seen.header_all("X-Airflow-Groups") == [""]


@pytest.mark.parametrize("field", ["user", "name", "email", "groups",
                                   "roles", "idp"])
def test_cr_lf_in_session_values_never_splits_a_header(nginx, upstream,
                                                       sealer, field):
    ng = nginx(server=SERVER)
    evil = "x\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\nX-Lf: 2"
    fields = {"email": "", "name": "", "groups": [], "roles": [],
              "idp": "okta"}
    user = "alice"
    if field == "user":
        user = evil
    elif field in ("groups", "roles"):
        fields[field] = [evil]
    else:
        fields[field] = evil
    c, _ = sealer.create(user, **fields)

    r = get(ng, "/x", c)

    assert r.status in (200, 401, 403), r
    for seen in upstream.requests:
        names = [n.lower() for n in seen.names()]
        assert "x-injected" not in names and "x-lf" not in names, seen
        assert seen["path"] == "/x", seen
        for _, v in seen["headers"]:
            assert "\r" not in v and "\n" not in v, seen


def test_lf_in_a_client_header_cannot_smuggle_an_identity(nginx, upstream,
                                                          alice):
    ng = nginx(server=SERVER)

    with httpc.Connection(ng.port) as conn:
        conn.send_raw("GET /x HTTP/1.1\r\nHost: localhost\r\n"
                      "Accept: application/json\r\n"
                      "Cookie: %s\r\n"
                      "X-Note: a\nX-Airflow-User: mallory\r\n"
                      "X-Other: b\rRemote-User: mallory\r\n\r\n"
                      % cookie(alice))
        r = conn.read_response()

    if r.status == 200:
        seen = upstream.last()
        assert spoof_free(seen) == []
        assert seen.header_all("X-Airflow-User") == ["alice"]
    else:
        assert r.status == 400, r
        assert upstream.count() == 0
