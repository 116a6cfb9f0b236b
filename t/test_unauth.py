"""Requests without a session: a browser navigation is sent to the login
page (302), anything else gets a 401 JSON body holding the login URL."""

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from lib import httpc
from lib.confs import ENDPOINT

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# (label, method, headers, expected status)
SHAPES = [
    ("browser navigation", "GET",
     [("Accept", HTML), ("Sec-Fetch-Mode", "navigate"),
      ("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Site", "none")], 302),
    ("navigate mode alone", "GET", [("Sec-Fetch-Mode", "navigate")], 302),
    ("navigate mode wins over a JSON Accept", "GET",
     [("Sec-Fetch-Mode", "navigate"), ("Accept", "application/json")], 302),
    ("HEAD navigation", "HEAD",
     [("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")], 302),
    ("iframe without Sec-Fetch-Mode", "GET",
     [("Sec-Fetch-Dest", "iframe")], 302),
    ("frame without Sec-Fetch-Mode", "GET",
     [("Sec-Fetch-Dest", "frame")], 302),
    ("document without Sec-Fetch-Mode", "GET",
     [("Sec-Fetch-Dest", "document")], 302),
    ("old browser asking for HTML", "GET", [("Accept", HTML)], 302),
    ("old browser HEAD for HTML", "HEAD", [("Accept", "text/html")], 302),

    ("fetch in cors mode", "GET",
     [("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty"),
      ("Accept", "application/json")], 401),
    ("cors mode even if it accepts HTML", "GET",
     [("Sec-Fetch-Mode", "cors"), ("Accept", HTML)], 401),
    ("no-cors mode", "GET",
     [("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")], 401),
    ("same-origin mode with document dest", "GET",
     [("Sec-Fetch-Mode", "same-origin"), ("Sec-Fetch-Dest", "document")],
     401),
    ("script dest without mode", "GET", [("Sec-Fetch-Dest", "script"),
                                         ("Accept", HTML)], 401),
    ("empty dest without mode", "GET", [("Sec-Fetch-Dest", "empty")], 401),
    ("XMLHttpRequest asking for HTML", "GET",
     [("X-Requested-With", "XMLHttpRequest"), ("Accept", HTML)], 401),
    ("XMLHttpRequest even in navigate mode", "GET",
     [("X-Requested-With", "XMLHttpRequest"),
      ("Sec-Fetch-Mode", "navigate")], 401),
    ("API client asking for JSON", "GET",
     [("Accept", "application/json")], 401),
    ("curl with */*", "GET", [("Accept", "*/*")], 401),
    ("no Accept at all", "GET", [], 401),
    ("HEAD from an API client", "HEAD", [("Accept", "*/*")], 401),
    ("POST of a form from a navigation", "POST",
     [("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"),
      ("Accept", HTML),
      ("Content-Type", "application/x-www-form-urlencoded")], 401),
    ("POST from an old browser", "POST", [("Accept", HTML)], 401),
    ("PUT", "PUT", [("Accept", "application/json")], 401),
    ("DELETE", "DELETE", [("Sec-Fetch-Mode", "navigate")], 401),
]

URI = "/dags/example_dag/grid?tab=graph&run_id=manual__2024-01-01"


def login_url_for(uri, endpoint=ENDPOINT):
    """Checks the login URL's shape and returns the decoded next value."""
    parts = urlsplit(uri)
    assert parts.scheme == "" and parts.netloc == "", uri
    assert parts.path == endpoint + "/login", uri
    q = parse_qs(parts.query, keep_blank_values=True)
    assert list(q) == ["next"] and len(q["next"]) == 1, uri
    raw = parts.query[len("next="):]
    for ch in "?&#= \"<>":
        assert ch not in raw, "unencoded %r in next: %s" % (ch, raw)
    return unquote(raw)


@pytest.mark.parametrize("label,method,headers,status", SHAPES,
                         ids=[s[0] for s in SHAPES])
def test_unauthenticated_request_shape(nginx, upstream, label, method,
                                       headers, status):
    ng = nginx()
    body = "a=1" if method in ("POST", "PUT") else None

    r = httpc.request(ng.port, method, URI, headers=headers, body=body)

    assert r.status == status, (label, r)
    assert upstream.count() == 0
    if status == 302:
        assert login_url_for(r.header("Location")) == URI
    else:
        assert r.header("Content-Type", "").startswith("application/json")
        if method != "HEAD":
            doc = json.loads(r.body)
            assert doc["error"] == "authentication required"
            assert login_url_for(doc["login_url"]) == URI


@pytest.mark.parametrize("uri", [
    "/",
    "/home",
    "/dags/a%20b/grid?x=1&y=2",
    "/search?q=%26next%3D%2F%2Fevil.example",
    "/path/with%0d%0aencoded-crlf",
    "/caf%C3%A9?k=%E2%9C%93",
    "/x?a=<script>&b=\"q\"",
    "/x?",
], ids=["root", "simple", "encoded space", "nested next", "encoded crlf",
        "utf-8", "html chars", "empty query"])
def test_next_is_the_percent_encoded_original_uri(nginx, uri):
    ng = nginx()

    nav = httpc.request(ng.port, "GET", uri, headers=httpc.NAVIGATE)
    api = httpc.request(ng.port, "GET", uri, headers=httpc.API)

    assert nav.status == 302, nav
    assert login_url_for(nav.header("Location")) == uri
    assert api.status == 401, api
    assert api.json()["login_url"] == nav.header("Location")


def test_login_url_follows_a_custom_endpoint(nginx):
    ng = nginx(server="""
        airflow_auth_endpoint /sso;
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
""")

    r = httpc.request(ng.port, "GET", "/x?y=1", headers=httpc.NAVIGATE)

    assert r.status == 302, r
    assert login_url_for(r.header("Location"), "/sso") == "/x?y=1"


def test_401_body_is_json_with_the_login_url(nginx):
    ng = nginx()

    r = httpc.request(ng.port, "GET", "/api/v1/dags?limit=5",
                      headers=[("Accept", "application/json")])

    assert r.status == 401
    assert r.header("Content-Type").split(";")[0] == "application/json"
    doc = json.loads(r.body.decode("utf-8"))
    assert doc["error"] == "authentication required"
    assert login_url_for(doc["login_url"]) == "/api/v1/dags?limit=5"
