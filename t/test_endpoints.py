"""The module's own endpoints under airflow_auth_endpoint: logout, whoami,
login (no IdP yet) and everything else; and the headers on its pages."""

import json
import time

import pytest

from lib.confs import ENDPOINT, get
from lib.sealer import session_hash, session_key, user_key

PAGE_HEADERS = [("Accept", "text/html")]


def assert_safe_page(r):
    assert r.header("Content-Type", "").startswith("text/html"), r.headers
    csp = r.header("Content-Security-Policy", "")
    assert "default-src 'none'" in csp, r.headers
    assert r.header("X-Content-Type-Options") == "nosniff", r.headers
    assert "no-store" in r.header("Cache-Control", ""), r.headers


def parse_set_cookie(value):
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.lower()] = v
    return name, val, attrs


def assert_cookie_cleared(r, name="airflow_auth"):
    cookies = r.header_all("Set-Cookie")
    assert len(cookies) == 1, r.headers
    n, v, attrs = parse_set_cookie(cookies[0])
    assert (n, v) == (name, "")
    assert attrs.get("path") == "/"
    assert attrs.get("max-age") == "0"
    assert "secure" in attrs and "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_deletes_the_session_and_clears_the_cookie(
        nginx, upstream, redis, sealer, session, method):
    ng = nginx()
    c = session("alice", roles=["Admin"])
    keep = session("alice", roles=["Admin"])   # another browser of alice
    sid = sealer.keyring.parse_cookie(c)
    h = session_hash(sid)
    assert get(ng, "/x", c).status == 200
    assert redis.cli("EXISTS", session_key(sid)) == "1"
    assert redis.cli("SISMEMBER", user_key("alice"), h) == "1"

    r = get(ng, ENDPOINT + "/logout", c, headers=PAGE_HEADERS,
            method=method, body="" if method == "POST" else None)

    assert r.status == 200, r
    assert_safe_page(r)
    assert "signed out" in r.text.lower()
    assert_cookie_cleared(r)
    assert redis.cli("EXISTS", session_key(sid)) == "0"
    assert redis.cli("SISMEMBER", user_key("alice"), h) == "0"
    assert get(ng, "/x", c).status == 401
    # only that session ends
    assert get(ng, "/x", keep).status == 200


def test_logout_without_a_session_still_clears_the_cookie(nginx):
    ng = nginx()

    r = get(ng, ENDPOINT + "/logout", None, headers=PAGE_HEADERS)

    assert r.status == 200, r
    assert_safe_page(r)
    assert_cookie_cleared(r)


def test_logout_with_a_forged_cookie_touches_nothing_in_redis(
        nginx, redis, session, sealer):
    ng = nginx()
    c = session("alice", roles=["Admin"])
    sid_part, mac = c.split(".")
    forged = sid_part + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    before = redis.commandstats()

    r = get(ng, ENDPOINT + "/logout", forged, headers=PAGE_HEADERS)

    assert r.status == 200
    assert_cookie_cleared(r)
    after = redis.commandstats()
    assert {k: v for k, v in after.items() if k != "info"} == \
        {k: v for k, v in before.items() if k != "info"}
    assert get(ng, "/x", c).status == 200


def test_logout_clears_a_custom_cookie_name(nginx, session):
    ng = nginx(server="""
        airflow_auth_cookie_name sso_session;
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
""")
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c, name="sso_session").status == 200
    assert get(ng, "/x", c).status == 401    # the default name is ignored

    r = get(ng, ENDPOINT + "/logout", c, name="sso_session")

    assert r.status == 200
    assert_cookie_cleared(r, "sso_session")
    assert get(ng, "/x", c, name="sso_session").status == 401


def test_whoami_returns_the_identity_as_json(nginx, upstream, session):
    ng = nginx()
    before = int(time.time())
    c = session("alice", email="alice@example.com", name="Alice L",
                groups=["data-eng", "admins"], roles=["Admin", "Op"],
                idp="okta", ttl=3600)

    r = get(ng, ENDPOINT + "/whoami", c)

    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    doc = json.loads(r.body)
    assert doc["user"] == "alice"
    assert doc["email"] == "alice@example.com"
    assert doc["name"] == "Alice L"
    assert doc["roles"] == ["Admin", "Op"]
    assert doc["groups"] == ["data-eng", "admins"]
    assert doc["idp"] == "okta"
    assert isinstance(doc["idp_type"], str) and doc["idp_type"]
    assert isinstance(doc["expires"], int)
    assert before + 3600 <= doc["expires"] <= int(time.time()) + 3600
    assert upstream.count() == 0, "whoami must not be proxied"


@pytest.mark.parametrize("shape", ["no cookie", "forged"])
def test_whoami_without_a_session_is_401_json(nginx, session, shape):
    ng = nginx()
    c = None
    if shape == "forged":
        good = session("alice", roles=["Admin"])
        c = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")

    r = get(ng, ENDPOINT + "/whoami", c, headers=PAGE_HEADERS)

    assert r.status == 401, r
    assert r.header("Content-Type").startswith("application/json")
    assert "user" not in json.loads(r.body)


def test_login_without_an_identity_provider_shows_a_clear_page(nginx):
    ng = nginx()

    r = get(ng, ENDPOINT + "/login?next=%2Fhome", None, headers=PAGE_HEADERS)

    assert r.status == 503, r
    assert_safe_page(r)
    assert "identity provider" in r.text.lower()


@pytest.mark.parametrize("path", ["/nope", "/", "/login/extra",
                                  "/whoami/x", "/<script>alert(1)</script>"],
                         ids=["nope", "bare", "login suffix", "whoami suffix",
                              "reflected script"])
def test_unknown_endpoint_is_a_404_page(nginx, upstream, path):
    ng = nginx()

    r = get(ng, ENDPOINT + path, None, headers=PAGE_HEADERS)

    assert r.status == 404, r
    assert_safe_page(r)
    assert "<script>" not in r.text
    assert upstream.count() == 0


OFF_SERVER = """\
        location / {
            airflow_auth off;
            proxy_pass http://@upstream@;
        }
        location /app/ {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
"""


def test_endpoints_work_under_a_location_with_airflow_auth_off(
        nginx, upstream, session, redis, sealer):
    ng = nginx(server=OFF_SERVER)
    c = session("alice", roles=["Admin"])

    who = get(ng, ENDPOINT + "/whoami", c)
    assert who.status == 200, who
    assert who.json()["user"] == "alice"
    assert get(ng, ENDPOINT + "/whoami", None).status == 401
    assert get(ng, ENDPOINT + "/login", None,
               headers=PAGE_HEADERS).status == 503
    assert get(ng, ENDPOINT + "/nope", None,
               headers=PAGE_HEADERS).status == 404
    out = get(ng, ENDPOINT + "/logout", c, headers=PAGE_HEADERS)
    assert out.status == 200
    assert_cookie_cleared(out)
    assert upstream.count() == 0, "endpoint requests were proxied"

    sid = sealer.keyring.parse_cookie(c)
    assert redis.cli("EXISTS", session_key(sid)) == "0"
    assert get(ng, "/app/x", c).status == 401
    # the open location itself is still open
    assert get(ng, "/elsewhere", None).status == 200


def test_endpoint_follows_airflow_auth_endpoint(nginx, upstream, session):
    ng = nginx(server="""
        airflow_auth_endpoint /auth;
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
""")
    c = session("alice", roles=["Admin"])

    assert get(ng, "/auth/whoami", c).json()["user"] == "alice"
    assert upstream.count() == 0
    # the default path is now an ordinary protected URL
    r = get(ng, ENDPOINT + "/whoami", c)
    assert r.status == 200
    assert upstream.last()["path"] == ENDPOINT + "/whoami"


def test_every_module_page_carries_csp_nosniff_and_no_store(nginx, session):
    ng = nginx()
    c = session("alice", roles=["Admin"])
    pages = {
        "login": get(ng, ENDPOINT + "/login", None, headers=PAGE_HEADERS),
        "logout": get(ng, ENDPOINT + "/logout", c, headers=PAGE_HEADERS),
        "not found": get(ng, ENDPOINT + "/zzz", None, headers=PAGE_HEADERS),
    }
    for label, r in pages.items():
        assert r.body, label
        assert_safe_page(r)
