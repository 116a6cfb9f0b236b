"""Removing client identity headers from nginx's header list.

nginx keeps pointers into r->headers_in.headers for well-known headers
(User-Agent, Cookie, Host, ...), and its list iteration assumes that every
part after the first is non-empty and that the last part has room for
l->nalloc more elements.  The module removes headers by splitting list
parts, so these tests throw many shapes of header lists at it: identity
headers first, last, adjacent, all of a part, across the boundary of the
list's 20-element first part; and check that

  - no client identity header reaches the upstream;
  - every other header arrives once, in order, with its value;
  - the well-known headers nginx points at still read right
    ($http_user_agent, $cookie_*, $host);
  - on a protected location the module's own six headers, pushed after the
    removal, arrive exactly once each.
"""

import random

import pytest

from lib import httpc
from lib.confs import IDENTITY_HEADERS

SERVER = """\
        underscores_in_headers on;
        location / {
            airflow_auth on;
            proxy_set_header X-Seen-UA $http_user_agent;
            proxy_set_header X-Seen-Probe $cookie_probe;
            proxy_set_header X-Seen-Host $host;
            proxy_pass http://@upstream@;
        }
        location /open/ {
            airflow_auth off;
            proxy_set_header X-Seen-UA $http_user_agent;
            proxy_set_header X-Seen-Probe $cookie_probe;
            proxy_set_header X-Seen-Host $host;
            proxy_pass http://@upstream@;
        }
"""

SPOOFS = ["X-Airflow-User", "x_airflow_roles", "X-AIRFLOW-GROUPS",
          "X-Airflow-Email", "X-Airflow-Zzz", "Remote-User", "remote_user",
          "X-Forwarded-User", "x-forwarded_user"]

SHAPES = 120


def header_list(seed, cookie):
    """A reproducible header list: innocent headers X-H-k, the two
    well-known ones, and 0..25 spoofed identity headers anywhere."""
    rng = random.Random(seed)
    hs = [("X-H-%d" % k, "v%d-%d" % (seed, k))
          for k in range(rng.choice([0, 1, 2, 5, 17, 18, 19, 20, 21, 40]))]
    hs.insert(rng.randint(0, len(hs)), ("User-Agent", "ua-%d" % seed))
    hs.insert(rng.randint(0, len(hs)),
              ("Cookie", "probe=p-%d; airflow_auth=%s" % (seed, cookie)))
    for _ in range(rng.choice([0, 1, 2, 3, 4, 7, 19, 20, 25])):
        hs.insert(rng.randint(0, len(hs)),
                  (rng.choice(SPOOFS), "mallory-%d" % seed))
    if seed % 7 == 0:
        # a run of spoofs at the very start and the very end
        hs = [(s, "mallory-%d" % seed) for s in SPOOFS] + hs \
            + [(s, "mallory-%d" % seed) for s in SPOOFS]
    return hs


def check_upstream(seen, sent, seed, protected):
    names = [n for n, _ in seen["headers"]]
    problems = []

    for n, v in seen["headers"]:
        if "mallory" in v:
            problems.append("client identity reached upstream: %s: %s"
                            % (n, v))

    innocent = [(n, v) for n, v in sent if n.startswith("X-H-")]
    got = [(n, v) for n, v in seen["headers"] if n.startswith("X-H-")]
    if got != innocent:
        problems.append("innocent headers changed: sent %d, got %d: %r"
                        % (len(innocent), len(got), got[:5]))

    expect = {"X-Seen-UA": "ua-%d" % seed, "X-Seen-Probe": "p-%d" % seed,
              "X-Seen-Host": "gw-%d.example" % seed, "User-Agent": "ua-%d" % seed}
    for n, v in expect.items():
        if seen.header_all(n) != [v]:
            problems.append("%s: expected [%r], got %r"
                            % (n, v, seen.header_all(n)))

    for h in IDENTITY_HEADERS:
        count = sum(1 for n in names if n.lower() == h.lower())
        if count != (1 if protected else 0):
            problems.append("%s arrived %d times" % (h, count))
    if protected and seen.header("X-Airflow-User") != "alice":
        problems.append("X-Airflow-User is %r" % seen.header("X-Airflow-User"))
    return problems


@pytest.mark.parametrize("location", ["/open/x", "/app"])
def test_identity_headers_are_removed_from_every_list_shape(
        nginx, upstream, session, location):
    ng = nginx(server=SERVER)
    c = session("alice", roles=["Viewer"])
    problems = []

    for seed in range(SHAPES):
        sent = header_list(seed, c)
        upstream.clear()
        r = httpc.request(ng.port, "GET", location, headers=sent,
                          host="gw-%d.example" % seed)
        if r.status != 200 or upstream.count() != 1:
            problems.append("seed %d: status %d, upstream saw %d requests"
                            % (seed, r.status, upstream.count()))
            continue
        for p in check_upstream(upstream.last(), sent, seed,
                                protected=location == "/app"):
            problems.append("seed %d: %s" % (seed, p))

    assert not problems, "\n".join(problems[:20])


def test_a_request_made_only_of_identity_headers_still_works(
        nginx, upstream, session):
    ng = nginx(server=SERVER)
    c = session("alice", roles=["Viewer"])
    sent = [(s, "mallory") for s in SPOOFS * 3] \
        + [("Cookie", "airflow_auth=" + c)] + [(s, "mallory") for s in SPOOFS]

    r = httpc.request(ng.port, "GET", "/app", headers=sent)

    assert r.status == 200
    seen = upstream.last()
    assert seen.header("X-Airflow-User") == "alice"
    assert not [v for _, v in seen["headers"] if "mallory" in v]
