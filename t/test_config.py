"""Configuration: every misconfiguration fails `nginx -t` with an [emerg]
line naming the directive; good configurations pass; a reload with a new
configuration keeps serving."""

import base64
import json
import os

import pytest

from lib.confs import emerg_lines, get

SERVER = """\
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
"""

NO_AUTH_SERVER = """\
        location / {
            proxy_pass http://@upstream@;
        }
"""


def http(*lines, redis="redis://127.0.0.1:6379/0",
         secret="@secret_file@"):
    out = []
    if redis is not None:
        out.append("airflow_auth_redis %s;" % redis)
    if secret is not None:
        out.append("airflow_auth_secret_file %s;" % secret)
    out.extend(lines)
    return "".join("    %s\n" % line for line in out)


def check(nginx, http_conf, server=SERVER, subst=None):
    ng = nginx(http=http_conf, server=server, start=False,
               subst=dict(subst or {}, upstream="127.0.0.1:9"))
    return ng.test_config()


def assert_emerg(rc, out, directive, *also):
    assert rc != 0, "nginx -t accepted it:\n" + out
    lines = emerg_lines(out)
    assert lines, out
    hits = [line for line in lines if directive in line]
    assert hits, "no [emerg] names %s:\n%s" % (directive, out)
    for word in also:
        assert any(word.lower() in line.lower() for line in hits), \
            "[emerg] does not mention %r:\n%s" % (word, out)


def write(path, text):
    path.write_text(text)
    return str(path)


# -- good configurations

def two_keys(tmp_path):
    return write(tmp_path / "two.key", "# current\n%s\r\n\n# previous\n%s\n"
                 % (base64.b64encode(os.urandom(32)).decode(),
                    base64.urlsafe_b64encode(os.urandom(48)).decode()))


@pytest.mark.parametrize("redis_url", [
    "redis://127.0.0.1:6379/0",
    "redis://127.0.0.1",
    "redis://:secret@127.0.0.1:6390/3",
    "redis://user:p%40ss@localhost:6379/15",
    "redis://[::1]:6379/1",
    "unix:///run/redis/redis.sock",
    "unix://:pw@/run/redis/redis.sock?db=2",
])
def test_good_redis_urls_pass(nginx, redis_url):
    rc, out = check(nginx, http(redis=redis_url))
    assert rc == 0, out


def test_complete_configuration_passes(nginx, tmp_path):
    mapping = write(tmp_path / "roles.json",
                    json.dumps({"airflow-admins": ["Admin"],
                                "data-eng": ["User", "Op"]}))
    conf = http("airflow_auth_redis_prefix \"af:\";",
                "airflow_auth_redis_timeout 750ms;",
                "airflow_auth_cookie_name af_session;",
                "airflow_auth_session_idle_timeout 15m;",
                "airflow_auth_session_max_lifetime 8h;",
                "airflow_auth_roles_mapping %s;" % mapping,
                "airflow_auth_default_role Viewer;",
                secret=two_keys(tmp_path))
    server = """\
        airflow_auth_endpoint /sso;
        airflow_auth_cookie_name other_session;
        location / {
            airflow_auth on;
            airflow_auth_require_role Admin Op "Custom Role";
            proxy_pass http://@upstream@;
        }
        location /health {
            airflow_auth off;
            return 200;
        }
"""
    rc, out = check(nginx, conf, server)
    assert rc == 0, out


def test_module_loaded_but_unused_needs_no_secret_file(nginx):
    rc, out = check(nginx, "", NO_AUTH_SERVER)
    assert rc == 0, out


# -- secret file

@pytest.mark.parametrize("content", [
    base64.b64encode(os.urandom(16)).decode() + "\n",
    base64.b64encode(os.urandom(31)).decode() + "\n",
    "%s\n%s\n" % (base64.b64encode(os.urandom(32)).decode(),
                  base64.b64encode(os.urandom(8)).decode()),
    "not base64 at all!!!\n",
    "# only a comment\n\n",
    "",
], ids=["16 bytes", "31 bytes", "second key short", "bad base64",
        "comments only", "empty"])
def test_bad_secret_file_fails(nginx, tmp_path, content):
    p = write(tmp_path / "bad.key", content)
    rc, out = check(nginx, http(secret=p))
    assert_emerg(rc, out, "airflow_auth_secret_file")


def test_missing_secret_file_fails(nginx, tmp_path):
    rc, out = check(nginx, http(secret=str(tmp_path / "nope.key")))
    assert_emerg(rc, out, "airflow_auth_secret_file")


def test_unreadable_secret_file_fails(nginx, tmp_path):
    d = tmp_path / "a-directory.key"
    d.mkdir()
    rc, out = check(nginx, http(secret=str(d)))
    assert_emerg(rc, out, "airflow_auth_secret_file")


def test_airflow_auth_on_without_a_secret_file_fails(nginx):
    rc, out = check(nginx, http(secret=None))
    assert_emerg(rc, out, "airflow_auth_secret_file")


def test_airflow_auth_on_at_server_level_without_a_secret_file_fails(nginx):
    rc, out = check(nginx, http(secret=None), """\
        airflow_auth on;
        location / {
            proxy_pass http://@upstream@;
        }
""")
    assert_emerg(rc, out, "airflow_auth_secret_file")


# -- roles mapping

def test_missing_roles_mapping_fails_naming_the_file(nginx, tmp_path):
    p = str(tmp_path / "no-such-roles.json")
    rc, out = check(nginx, http("airflow_auth_roles_mapping %s;" % p))
    assert_emerg(rc, out, "airflow_auth_roles_mapping", p)


def test_roles_mapping_syntax_error_names_file_and_line(nginx, tmp_path):
    p = write(tmp_path / "roles.json",
              '{\n  "airflow-admins": ["Admin"],\n  "data-eng": ["Op"\n}\n')
    rc, out = check(nginx, http("airflow_auth_roles_mapping %s;" % p))
    assert_emerg(rc, out, "airflow_auth_roles_mapping", p, "line")


@pytest.mark.parametrize("mapping,group", [
    ({"data-eng": "Op"}, "data-eng"),
    ({"ok": ["Admin"], "bad-group": [42]}, "bad-group"),
    ({"commas": ["Admin,Op"]}, "commas"),
    ({"empty-role": [""]}, "empty-role"),
    ({"ctl": ["Ad\nmin"]}, "ctl"),
], ids=["not a list", "not a string", "comma", "empty", "control char"])
def test_roles_mapping_bad_value_names_the_group(nginx, tmp_path, mapping,
                                                 group):
    p = write(tmp_path / "roles.json", json.dumps(mapping))
    rc, out = check(nginx, http("airflow_auth_roles_mapping %s;" % p))
    assert_emerg(rc, out, "airflow_auth_roles_mapping", group)


def test_roles_mapping_that_is_not_an_object_fails(nginx, tmp_path):
    p = write(tmp_path / "roles.json", '["Admin"]')
    rc, out = check(nginx, http("airflow_auth_roles_mapping %s;" % p))
    assert_emerg(rc, out, "airflow_auth_roles_mapping", p)


# -- redis

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/0",
    "redis://127.0.0.1:99999/0",
    "redis://127.0.0.1:6379/notadb",
    "redis://",
    "redis://127.0.0.1:6379/0/extra",
    "unix://",
    "127.0.0.1:6379",
])
def test_bad_redis_url_fails(nginx, url):
    rc, out = check(nginx, http(redis=url))
    assert_emerg(rc, out, "airflow_auth_redis")


def test_bad_redis_url_error_does_not_echo_its_password(nginx):
    rc, out = check(nginx, http(
        redis="redis://:hunter2-secret-pw@127.0.0.1:99999/0"))
    assert_emerg(rc, out, "airflow_auth_redis")
    assert "hunter2-secret-pw" not in out


# -- endpoint, roles, times

@pytest.mark.parametrize("endpoint", ["login", "_airflow_auth", "http://x/a"])
def test_endpoint_must_start_with_a_slash(nginx, endpoint):
    rc, out = check(nginx, http(), "        airflow_auth_endpoint %s;\n%s"
                    % (endpoint, SERVER))
    assert_emerg(rc, out, "airflow_auth_endpoint")


@pytest.mark.parametrize("role", ['"Ad,min"', '""', '"Admin,"'],
                         ids=["comma", "empty", "trailing comma"])
def test_invalid_role_in_require_role_fails(nginx, role):
    rc, out = check(nginx, http(), """\
        location / {
            airflow_auth on;
            airflow_auth_require_role Admin %s;
            proxy_pass http://@upstream@;
        }
""" % role)
    assert_emerg(rc, out, "airflow_auth_require_role")


@pytest.mark.parametrize("role", ['"Ad,min"', '""'], ids=["comma", "empty"])
def test_invalid_default_role_fails(nginx, role):
    rc, out = check(nginx, http("airflow_auth_default_role %s;" % role))
    assert_emerg(rc, out, "airflow_auth_default_role")


@pytest.mark.parametrize("directive", [
    "airflow_auth_session_idle_timeout",
    "airflow_auth_session_max_lifetime",
    "airflow_auth_redis_timeout",
])
def test_invalid_time_fails(nginx, directive):
    rc, out = check(nginx, http("%s soon;" % directive))
    assert_emerg(rc, out, directive)


# -- reload

RELOADED = """\
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
        location /admin/ {
            airflow_auth on;
            airflow_auth_require_role Admin;
            proxy_pass http://@upstream@;
        }
        location /health {
            return 200 "ok";
        }
"""


def test_reload_with_a_changed_config_keeps_serving(nginx, upstream,
                                                    session):
    ng = nginx()
    viewer = session("vic", roles=["Viewer"])
    assert get(ng, "/admin/x", viewer).status == 200
    assert get(ng, "/health").status == 401
    workers = ng.workers()

    assert ng.reload(server=RELOADED)

    assert ng.workers() != workers
    assert get(ng, "/x", viewer).status == 200
    assert get(ng, "/admin/x", viewer).status == 403
    assert get(ng, "/health").status == 200


def test_reload_with_a_broken_config_keeps_the_old_one_serving(
        nginx, upstream, session, tmp_path):
    ng = nginx()
    c = session("alice", roles=["Admin"])
    assert get(ng, "/x", c).status == 200
    workers = ng.workers()
    bad = write(tmp_path / "short.key", base64.b64encode(b"x" * 8).decode())

    ok = ng.reload(http=http(redis="@redis@", secret=bad), timeout=3)

    assert not ok
    assert ng.workers() == workers
    assert get(ng, "/x", c).status == 200
    assert any("airflow_auth_secret_file" in line
               for line in emerg_lines(ng.error_log()))
