"""Config fragments and request helpers the suites share."""

from . import httpc

# http-level directives most suites start from.
AUTH_HTTP = """\
    airflow_auth_redis @redis@;
    airflow_auth_secret_file @secret_file@;
"""

# A protected location and an open one, both proxied to the upstream.
PROTECTED_SERVER = """\
        location / {
            airflow_auth on;
            proxy_pass http://@upstream@;
        }
        location /open/ {
            airflow_auth off;
            proxy_pass http://@upstream@;
        }
"""

ENDPOINT = "/_airflow_auth"
COOKIE = "airflow_auth"

IDENTITY_HEADERS = ("X-Airflow-User", "X-Airflow-Email", "X-Airflow-Name",
                    "X-Airflow-Roles", "X-Airflow-Groups", "X-Airflow-Idp")


def cookie(value, name=COOKIE):
    return "%s=%s" % (name, value)


def get(ng, path="/app", session=None, headers=httpc.API, method="GET",
        body=None, name=COOKIE):
    """One request to nginx; session is a cookie value or None."""
    return httpc.request(ng.port, method, path, headers=list(headers),
                         body=body,
                         cookie=None if session is None
                         else cookie(session, name))


def emerg_lines(output):
    return [line for line in output.splitlines() if "[emerg]" in line]
