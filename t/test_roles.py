"""airflow_auth_require_role: who may use a location, and the 403 page a
user without the role gets."""

import html
import json

import pytest

from lib.confs import AUTH_HTTP, get

SERVER = """\
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
        location /admin/ {
            airflow_auth on;
            airflow_auth_require_role Admin Op;
            proxy_pass http://@upstream@;
        }
"""


def assert_safe_page(r):
    assert r.header("Content-Type", "").startswith("text/html"), r
    csp = r.header("Content-Security-Policy", "")
    assert "default-src 'none'" in csp, r.headers
    assert r.header("X-Content-Type-Options") == "nosniff", r.headers
    assert "no-store" in r.header("Cache-Control", ""), r.headers


@pytest.mark.parametrize("roles", [["Admin"], ["Op"], ["Viewer", "Op"],
                                   ["Op", "Admin"]],
                         ids=["Admin", "Op", "Viewer+Op", "both"])
def test_user_with_one_of_the_required_roles_passes(nginx, upstream, session,
                                                    roles):
    ng = nginx(server=SERVER)
    c = session("alice", roles=roles)

    r = get(ng, "/admin/pools", c)

    assert r.status == 200, r
    assert upstream.last()["path"] == "/admin/pools"


@pytest.mark.parametrize("roles", [["Viewer"], [], ["admin"], ["Admin2"],
                                   ["Ops"]],
                         ids=["Viewer", "no role", "lower-case admin",
                              "Admin2", "Ops"])
def test_user_without_a_required_role_gets_403(nginx, upstream, sealer,
                                               roles):
    ng = nginx(server=SERVER)
    c, _ = sealer.create("bob", roles=roles)

    r = get(ng, "/admin/pools", c)

    assert r.status == 403, r
    assert upstream.count() == 0
    # the unrestricted location still lets bob in
    assert get(ng, "/home", c).status == 200


def test_403_page_names_the_user_and_the_required_roles(nginx, session):
    ng = nginx(server=SERVER)
    c = session("bob.builder", roles=["Viewer"])

    r = get(ng, "/admin/", c, headers=[("Accept", "text/html")])

    assert r.status == 403, r
    assert_safe_page(r)
    assert "bob.builder" in r.text
    assert "Admin" in r.text and "Op" in r.text


def test_403_page_escapes_a_hostile_user_name_and_roles(nginx, sealer):
    ng = nginx(server=SERVER)
    user = "<script>alert(1)</script>"
    role = "<img src=x onerror=alert(2)>"
    c, _ = sealer.create(user, roles=[role], name="\"><svg onload=alert(3)>",
                         email="e@x.example")

    r = get(ng, "/admin/", c, headers=[("Accept", "text/html")])

    assert r.status == 403, r
    assert_safe_page(r)
    body = r.text
    assert "<script>" not in body
    assert "<img" not in body
    assert "<svg" not in body
    assert html.escape(user, quote=False) in body or \
        html.escape(user) in body or "&#60;script&#62;" in body, body


ROLES_MAPPING = {
    "airflow-admins": ["Admin"],
    "data-eng": ["User", "Op"],
    "analysts": ["Viewer"],
}


@pytest.fixture
def mapping(tmp_path):
    p = tmp_path / "roles.json"
    p.write_text(json.dumps(ROLES_MAPPING))
    return p


@pytest.mark.parametrize("groups,default,roles,admin_status", [
    (["data-eng"], None, "User,Op", 200),
    (["airflow-admins", "data-eng"], None, "Admin,User,Op", 200),
    (["analysts"], None, "Viewer", 403),
    (["strangers"], "Viewer", "Viewer", 403),
    (["analysts", "strangers"], "Public", "Viewer", 403),
], ids=["data-eng", "admins+data-eng", "analysts", "default role",
        "default role not used when a group maps"])
def test_roles_computed_by_the_cli_from_a_mapping_file(
        nginx, upstream, session, mapping, groups, default, roles,
        admin_status):
    ng = nginx(server=SERVER)
    c = session("dana", groups=groups, roles_mapping=mapping,
                default_role=default)

    assert get(ng, "/home", c).status == 200
    seen = upstream.last()
    assert seen.header_all("X-Airflow-Roles") == [roles]
    assert seen.header_all("X-Airflow-Groups") == [",".join(groups)]
    assert get(ng, "/admin/x", c).status == admin_status


def test_cli_refuses_a_user_the_mapping_gives_no_role(admin, mapping,
                                                      redis):
    # FAB semantics: no mapped group and no default role means no access,
    # so the CLI must not mint a session the gateway would refuse at login.
    r = admin("session", "create", "--user", "erin", "--groups", "strangers",
              "--roles-mapping", str(mapping))

    assert r.returncode != 0
    assert r.stdout.strip() == ""
    assert redis.cli("DBSIZE") == "0"


def test_require_role_at_http_level_config_is_per_location(nginx, upstream,
                                                           session):
    # Two locations, two different requirements: each is checked alone.
    ng = nginx(http=AUTH_HTTP, server="""
        location /ops/ {
            airflow_auth on;
            airflow_auth_require_role Op;
            proxy_pass http://@upstream@;
        }
        location /admins/ {
            airflow_auth on;
            airflow_auth_require_role Admin;
            proxy_pass http://@upstream@;
        }
""")
    c = session("olga", roles=["Op"])

    assert get(ng, "/ops/x", c).status == 200
    assert get(ng, "/admins/x", c).status == 403


@pytest.mark.parametrize("cache", ["on", "off"])
def test_a_role_that_only_contains_the_required_name_does_not_pass(
        nginx, upstream, session, cache):
    # Roles are matched whole: "SuperAdmin", "Admins", "Admi" and "dmin"
    # are not "Admin", whether the session comes from Redis or the cache.
    ng = nginx(http=AUTH_HTTP + ("" if cache == "on"
                                 else "    airflow_auth_session_cache off;\n"),
               server="""\
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
    near = session("eve", roles=["SuperAdmin", "Admins", "Admi", "dmin"])
    real = session("ada", roles=["Viewer", "Admin"])
    for c in (near, real):
        assert get(ng, "/warm", c).status == 200   # cached when on

    assert get(ng, "/admin/x", near).status == 403
    assert get(ng, "/admin/x", real).status == 200
