"""The test identity providers do what they say, checked without nginx.

python3-jwcrypto is the independent verifier: every ID token and logout
token the mock OP hands out is checked against the JWKS it serves over
HTTP, so a switch that claims a misbehaviour is seen to produce exactly
that token.  The real OP (panva's oidc-provider) is driven through a whole
login and logout with python requests and a cookie jar."""

import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from jwcrypto import jwk, jws

from idp import op as real_op
from idp.mock_op import (BACKCHANNEL_EVENT, ID_TOKEN_CASES, MockOP,
                         decode_part, pkce_s256)

CB = "http://127.0.0.1:9/_airflow_auth/oidc/callback"
BYE = "http://127.0.0.1:9/signed-out"


# ------------------------------------------------------------- helpers


def header(token):
    return decode_part(token, 0)


def claims(token):
    return decode_part(token, 1)


def fetch_jwks(url):
    r = requests.get(url, timeout=5)
    assert r.status_code == 200
    return r.json()


def usable_key(k):
    """The JWK, or None when jwcrypto cannot make a verifying key of it."""
    try:
        key = jwk.JWK(**k)
        key.get_op_key("verify")
        return key
    except Exception:
        return None


def importable_keys(jwks_doc):
    """{kid: JWK} for the keys jwcrypto can verify with; broken ones
    skipped."""
    out = {}
    for k in jwks_doc["keys"]:
        key = usable_key(k)
        if key is not None:
            out[k.get("kid")] = key
    return out


def verifies(token, key, alg):
    try:
        s = jws.JWS()
        s.deserialize(token)
        s.allowed_algs = [alg]
        s.verify(key, alg=alg)
        return True
    except Exception:
        return False


def verifying_keys(token, jwks_doc, alg):
    return [kid for kid, k in importable_keys(jwks_doc).items()
            if verifies(token, k, alg)]


class Login:
    """One authorization request against an OP, the way an RP makes it."""

    def __init__(self, disc, client_id="airflow", redirect_uri=CB,
                 scope="openid email profile groups"):
        self.disc = disc
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)
        self.params = {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": pkce_s256(self.verifier),
            "code_challenge_method": "S256",
        }

    def url(self, **extra):
        q = dict(self.params, **extra)
        return (self.disc["authorization_endpoint"] + "?"
                + urllib.parse.urlencode(q))

    def token(self, code, secret, method="client_secret_basic", **override):
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier}
        form.update(override)
        form = {k: v for k, v in form.items() if v is not None}
        auth = None
        if method == "client_secret_basic":
            auth = (self.client_id, secret)
        else:
            form.update(client_id=self.client_id, client_secret=secret)
        return requests.post(self.disc["token_endpoint"], data=form,
                             auth=auth, timeout=10)


@pytest.fixture(scope="module")
def shared_mock():
    op = MockOP(redirect_uris=[CB]).start()
    yield op
    op.stop()


@pytest.fixture
def mock(shared_mock):
    """One mock for the module, reset to a well-behaved OP per test."""
    shared_mock.reset()
    return shared_mock


def discovery(op):
    r = requests.get(op.discovery_url, timeout=5)
    assert r.status_code == 200
    return r.json()


def authorize(op, login, **extra):
    r = requests.get(login.url(**extra), allow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(login.redirect_uri + "?")
    return real_op.query_of(loc)


def mock_id_token(op, **switches):
    """Sets the switches, logs in, returns (id_token, login, response)."""
    op.set(**switches)
    d = discovery(op)
    login = Login(d)
    code = authorize(op, login)["code"]
    r = login.token(code, op.client_secret)
    assert r.status_code == 200, r.text
    return r.json()["id_token"], login, r.json()


# --------------------------------------------------------- mock: discovery


@pytest.mark.parametrize("shape,issuer_path,suffix,endpoints", [
    ("plain", "", "", "/authorize /token /userinfo /jwks /end_session"),
    ("plain", "/realms/x", "/realms/x",
     "/realms/x/authorize /realms/x/token /realms/x/userinfo /realms/x/jwks "
     "/realms/x/end_session"),
    ("okta_org", "", "",
     "/oauth2/v1/authorize /oauth2/v1/token /oauth2/v1/userinfo "
     "/oauth2/v1/keys /oauth2/v1/logout"),
    ("okta_custom", "", "/oauth2/default",
     "/oauth2/default/v1/authorize /oauth2/default/v1/token "
     "/oauth2/default/v1/userinfo /oauth2/default/v1/keys "
     "/oauth2/default/v1/logout"),
])
def test_discovery_documents_have_the_issuer_and_endpoints_of_each_shape(
        shape, issuer_path, suffix, endpoints):
    with MockOP(shape=shape, issuer_path=issuer_path) as op:
        d = discovery(op)
        assert d["issuer"] == op.base_url + suffix
        assert op.discovery_url == \
            d["issuer"] + "/.well-known/openid-configuration"
        names = ("authorization_endpoint", "token_endpoint",
                 "userinfo_endpoint", "jwks_uri", "end_session_endpoint")
        got = [urllib.parse.urlsplit(d[n]).path for n in names]
        assert got == endpoints.split()
        assert "S256" in d["code_challenge_methods_supported"]
        assert set(d["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic", "client_secret_post"}
        assert len(fetch_jwks(d["jwks_uri"])["keys"]) == 2
        # the issuer-less root has no discovery for the custom AS
        if suffix:
            r = requests.get(op.base_url
                             + "/.well-known/openid-configuration")
            assert r.status_code == 404


def test_end_session_endpoint_can_be_left_out_of_discovery(mock):
    assert "end_session_endpoint" in discovery(mock)
    mock.set(publish_end_session=False)
    assert "end_session_endpoint" not in discovery(mock)


# ------------------------------------------------------- mock: code flow


@pytest.mark.parametrize("method", ["client_secret_basic",
                                    "client_secret_post"])
def test_code_flow_with_pkce_gives_an_id_token_that_verifies(mock, method):
    d = discovery(mock)
    login = Login(d)
    q = authorize(mock, login)
    assert q["state"] == login.state
    last = mock.state()["last_authorize"]
    assert last["nonce"] == login.nonce
    assert last["code_challenge"] == pkce_s256(login.verifier)
    assert last["code_challenge_method"] == "S256"

    r = login.token(q["code"], mock.client_secret, method)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    tok = body["id_token"]
    jwks_doc = fetch_jwks(d["jwks_uri"])
    assert header(tok)["alg"] == "RS256"
    assert verifying_keys(tok, jwks_doc, "RS256") == [header(tok)["kid"]]
    c = claims(tok)
    assert c["iss"] == d["issuer"]
    assert c["aud"] == "airflow"
    assert c["nonce"] == login.nonce
    assert c["sub"] == "00u1alice"
    assert c["groups"] == ["airflow-admins", "data-eng"]
    assert c["email"] == "alice@example.com"
    assert c["iat"] <= time.time() < c["exp"]
    assert c["sid"] == mock.state()["sids"][-1]
    assert mock.state()["token_auth_methods"] == [method]

    u = requests.get(d["userinfo_endpoint"], timeout=5, headers={
        "Authorization": "Bearer " + body["access_token"]})
    assert u.status_code == 200
    assert u.json()["sub"] == c["sub"]
    assert u.json()["groups"] == c["groups"]


def test_es256_id_tokens_verify_with_the_ec_key(mock):
    tok, _, _ = mock_id_token(mock, id_token_alg="ES256")
    jwks_doc = fetch_jwks(mock.url("jwks"))
    assert header(tok)["alg"] == "ES256"
    assert header(tok)["kid"] == mock.ec["kid"]
    assert verifying_keys(tok, jwks_doc, "ES256") == [mock.ec["kid"]]


def test_the_code_is_single_use(mock):
    login = Login(discovery(mock))
    code = authorize(mock, login)["code"]
    assert login.token(code, mock.client_secret).status_code == 200
    again = login.token(code, mock.client_secret)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("override", [
    {"code_verifier": "a-verifier-that-is-not-the-one-" + "x" * 20},
    {"code_verifier": None},
    {"redirect_uri": CB + "/other"},
    {"code": "never-issued"},
])
def test_the_token_endpoint_refuses_a_bad_grant(mock, override):
    login = Login(discovery(mock))
    override = dict(override)
    code = override.pop("code", authorize(mock, login)["code"])
    r = login.token(code, mock.client_secret, **override)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "id_token" not in r.json()


@pytest.mark.parametrize("method", ["client_secret_basic",
                                    "client_secret_post"])
def test_the_token_endpoint_refuses_a_wrong_client_secret(mock, method):
    login = Login(discovery(mock))
    code = authorize(mock, login)["code"]
    r = login.token(code, "wrong-secret", method)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("required,other", [
    ("client_secret_basic", "client_secret_post"),
    ("client_secret_post", "client_secret_basic"),
])
def test_a_required_client_auth_method_refuses_the_other(mock, required,
                                                         other):
    mock.set(token_auth=required)
    d = discovery(mock)
    login = Login(d)
    r = login.token(authorize(mock, login)["code"], mock.client_secret,
                    other)
    assert r.status_code == 401
    login = Login(d)
    r = login.token(authorize(mock, login)["code"], mock.client_secret,
                    required)
    assert r.status_code == 200
    assert mock.state()["token_auth_methods"] == [required]


def test_pkce_is_required_unless_switched_off(mock):
    d = discovery(mock)
    login = Login(d)
    q = authorize(mock, login, code_challenge="", code_challenge_method="")
    assert q["error"] == "invalid_request"
    assert "code" not in q
    mock.set(require_pkce=False)
    login = Login(d)
    q = authorize(mock, login, code_challenge="", code_challenge_method="")
    r = login.token(q["code"], mock.client_secret, code_verifier=None)
    assert r.status_code == 200


def test_authorize_refuses_an_unregistered_redirect_uri_without_redirect(
        mock):
    login = Login(discovery(mock), redirect_uri="http://evil.example/cb")
    r = requests.get(login.url(), allow_redirects=False, timeout=5)
    assert r.status_code == 400
    assert "Location" not in r.headers


def test_access_denied_comes_back_with_state_and_no_code(mock):
    mock.set(authorize_error="access_denied")
    login = Login(discovery(mock))
    q = authorize(mock, login)
    assert q["error"] == "access_denied"
    assert q["state"] == login.state
    assert "code" not in q


@pytest.mark.parametrize("mode", ["drop", "alter"])
def test_state_can_be_dropped_or_altered(mock, mode):
    mock.set(state=mode)
    login = Login(discovery(mock))
    q = authorize(mock, login)
    assert "code" in q
    if mode == "drop":
        assert "state" not in q
    else:
        assert q["state"] != login.state
        assert q["state"].startswith(login.state)


def test_token_error_switch_answers_the_error(mock):
    mock.set(token_error="invalid_grant")
    login = Login(discovery(mock))
    r = login.token(authorize(mock, login)["code"], mock.client_secret)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant"}
    mock.set(token_error="server_error", token_status=503)
    login = Login(discovery(mock))
    r = login.token(authorize(mock, login)["code"], mock.client_secret)
    assert r.status_code == 503


def test_a_slow_token_endpoint_does_not_slow_the_other_endpoints(mock):
    mock.set(token_delay=1.0)
    d = discovery(mock)
    login = Login(d)
    code = authorize(mock, login)["code"]
    done = {}

    def exchange():
        t0 = time.monotonic()
        done["r"] = login.token(code, mock.client_secret)
        done["t"] = time.monotonic() - t0

    th = threading.Thread(target=exchange)
    th.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    fetch_jwks(d["jwks_uri"])
    jwks_time = time.monotonic() - t0
    th.join(10)
    assert done["r"].status_code == 200
    assert done["t"] >= 1.0
    assert jwks_time < 0.5


# ------------------------------------------------------ mock: userinfo


def test_userinfo_needs_the_access_token(mock):
    _, _, body = mock_id_token(mock)
    url = mock.url("userinfo")
    assert requests.get(url, timeout=5).status_code == 401
    r = requests.get(url, timeout=5,
                     headers={"Authorization": "Bearer not-issued"})
    assert r.status_code == 401
    assert "invalid_token" in r.headers["WWW-Authenticate"]


def test_userinfo_can_answer_another_sub(mock):
    tok, _, body = mock_id_token(mock, userinfo_sub="00u9mallory")
    u = requests.get(mock.url("userinfo"), timeout=5, headers={
        "Authorization": "Bearer " + body["access_token"]}).json()
    assert claims(tok)["sub"] == "00u1alice"
    assert u["sub"] == "00u9mallory"


@pytest.mark.parametrize("how", ["switch", "okta_org"])
def test_groups_can_be_only_in_userinfo(how):
    if how == "switch":
        op = MockOP(redirect_uris=[CB], groups_only_in_userinfo=True)
    else:
        op = MockOP(redirect_uris=[CB], shape="okta_org")
    with op:
        tok, _, body = mock_id_token(op)
        assert "groups" not in claims(tok)
        assert claims(tok)["email"] == "alice@example.com"
        u = requests.get(op.url("userinfo"), timeout=5, headers={
            "Authorization": "Bearer " + body["access_token"]}).json()
        assert u["groups"] == ["airflow-admins", "data-eng"]
        assert u["sub"] == claims(tok)["sub"]


def test_the_user_is_configurable(mock):
    bob = {"sub": "00u2bob", "email": "bob@example.com",
           "preferred_username": "bob", "groups": []}
    tok, _, _ = mock_id_token(mock, user=bob)
    assert claims(tok)["sub"] == "00u2bob"
    assert claims(tok)["groups"] == []
    assert "name" not in claims(tok)


# ---------------------------------------- mock: each ID-token misbehaviour


def test_every_id_token_case_has_a_check_here():
    checked = {name[len("check_"):] for name in globals()
               if name.startswith("check_")}
    assert checked == set(ID_TOKEN_CASES)


def good_otherwise(tok, op, login, jwks_doc, alg="RS256"):
    """The token verifies with the published signer and its claims are
    those of a good token."""
    assert verifying_keys(tok, jwks_doc, alg) == [op.signing_key(alg)["kid"]]
    c = claims(tok)
    assert c["iss"] == op.issuer
    assert c["aud"] == op.client_id
    assert c["nonce"] == login.nonce
    return c


def check_bad_signature(tok, op, login, jwks_doc, alg):
    h = header(tok)
    assert h["alg"] == alg
    assert h["kid"] == op.signing_key(alg)["kid"]
    assert h["kid"] in importable_keys(jwks_doc)
    assert verifying_keys(tok, jwks_doc, alg) == []
    assert claims(tok)["nonce"] == login.nonce


def check_alg_none(tok, op, login, jwks_doc, alg):
    assert header(tok)["alg"] == "none"
    assert tok.endswith(".")
    for a in ("RS256", "ES256", "HS256"):
        assert verifying_keys(tok, jwks_doc, a) == []
    assert claims(tok)["iss"] == op.issuer


def check_hs256_pem(tok, op, login, jwks_doc, alg):
    h = header(tok)
    assert h["alg"] == "HS256"
    assert h["kid"] == op.rsa["kid"]
    # the PEM an attacker derives from the published JWKS entry
    served = [k for k in jwks_doc["keys"] if k["kid"] == h["kid"]][0]
    pem = jwk.JWK(**served).export_to_pem(private_key=False)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert pem == op.public_pem()
    hkey = jwk.JWK(kty="oct", k=jwk.base64url_encode(pem))
    assert verifies(tok, hkey, "HS256")
    assert verifying_keys(tok, jwks_doc, "RS256") == []


def check_hs256_jwk(tok, op, login, jwks_doc, alg):
    assert header(tok)["alg"] == "HS256"
    served = [k for k in jwks_doc["keys"] if k["kid"] == op.rsa["kid"]][0]
    assert json.loads(op.public_jwk_json()) == served
    hkey = jwk.JWK(kty="oct", k=jwk.base64url_encode(op.public_jwk_json()))
    assert verifies(tok, hkey, "HS256")
    assert not verifies(tok, jwk.JWK(kty="oct", k=jwk.base64url_encode(
        op.public_pem())), "HS256")


def check_wrong_iss(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert claims(tok)["iss"] != op.issuer
    assert claims(tok)["iss"] != discovery(op)["issuer"]


def check_aud_missing(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert "aud" not in claims(tok)


def check_aud_other(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert claims(tok)["aud"] == "another-client"


def check_aud_multi_azp_wrong(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    c = claims(tok)
    assert op.client_id in c["aud"] and len(c["aud"]) == 2
    assert c["azp"] != op.client_id


def check_aud_multi_azp_ok(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    c = claims(tok)
    assert op.client_id in c["aud"] and len(c["aud"]) == 2
    assert c["azp"] == op.client_id


def check_sub_missing(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert "sub" not in claims(tok)


def check_iat_missing(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert "iat" not in claims(tok)
    assert claims(tok)["exp"] > time.time()


def check_exp_past(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    c = claims(tok)
    assert c["exp"] < time.time() - 600
    assert c["iat"] < c["exp"]


def check_nbf_future(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    c = claims(tok)
    assert c["nbf"] > time.time() + 600
    assert c["exp"] > time.time()


def check_nonce_missing(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert "nonce" not in claims(tok)


def check_nonce_other(tok, op, login, jwks_doc, alg):
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]
    assert claims(tok)["nonce"] != login.nonce
    assert claims(tok)["nonce"]


def check_kid_absent(tok, op, login, jwks_doc, alg):
    assert "kid" not in header(tok)
    assert header(tok)["alg"] == "RS256"
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]


def check_kid_unknown(tok, op, login, jwks_doc, alg):
    kid = header(tok)["kid"]
    assert kid not in [k.get("kid") for k in jwks_doc["keys"]]
    # the right key signed it: only the kid is unknown
    assert verifying_keys(tok, jwks_doc, alg) == [op.rsa["kid"]]


def check_rotated_unpublished(tok, op, login, jwks_doc, alg):
    kid = header(tok)["kid"]
    assert kid not in [k.get("kid") for k in jwks_doc["keys"]]
    assert verifying_keys(tok, jwks_doc, alg) == []
    c = claims(tok)
    assert c["iss"] == op.issuer and c["nonce"] == login.nonce


@pytest.mark.parametrize("case", ID_TOKEN_CASES)
def test_id_token_switch_produces_the_token_it_claims(mock, case):
    algs = ["RS256", "ES256"] if case == "bad_signature" else ["RS256"]
    for alg in algs:
        tok, login, _ = mock_id_token(mock, id_token=case, id_token_alg=alg)
        jwks_doc = fetch_jwks(mock.url("jwks"))
        globals()["check_" + case](tok, mock, login, jwks_doc, alg)
    # switched back, the same mock gives a good token again
    mock.set(id_token=None, id_token_alg="RS256")
    tok, login, _ = mock_id_token(mock)
    good_otherwise(tok, mock, login, fetch_jwks(mock.url("jwks")))


@pytest.mark.parametrize("jwks_keys,rsa_keys", [("single", 1),
                                                ("two_rsa", 2)])
def test_kid_absent_with_one_or_several_published_keys(mock, jwks_keys,
                                                       rsa_keys):
    tok, login, _ = mock_id_token(mock, id_token="kid_absent",
                                  jwks_keys=jwks_keys)
    jwks_doc = fetch_jwks(mock.url("jwks"))
    assert [k["kty"] for k in jwks_doc["keys"]].count("RSA") == rsa_keys
    if jwks_keys == "single":
        assert len(jwks_doc["keys"]) == 1
    assert "kid" not in header(tok)
    # with several RSA keys exactly one of them verifies
    assert verifying_keys(tok, jwks_doc, "RS256") == [mock.rsa["kid"]]


def test_time_shift_moves_every_time_claim(mock):
    tok, _, _ = mock_id_token(mock, time_shift=-300)
    c = claims(tok)
    assert abs(c["iat"] - (time.time() - 300)) < 5
    assert c["exp"] - c["iat"] == 3600


# ---------------------------------------------------------- mock: JWKS


def test_jwks_fetches_are_counted_with_their_times(mock):
    assert mock.state()["jwks_fetches"] == 0
    t0 = time.time()
    for _ in range(3):
        fetch_jwks(mock.url("jwks"))
    st = mock.state()
    assert st["jwks_fetches"] == 3
    assert len(st["jwks_fetch_times"]) == 3
    assert all(t0 - 1 <= t <= time.time() + 1
               for t in st["jwks_fetch_times"])
    discovery(mock)
    assert mock.state()["discovery_fetches"] == 1


def test_an_unparseable_key_sits_beside_the_good_ones(mock):
    tok, login, _ = mock_id_token(mock, jwks_bad_key=True)
    jwks_doc = fetch_jwks(mock.url("jwks"))
    broken = [k for k in jwks_doc["keys"] if k["kid"].startswith("broken")]
    assert len(broken) == 2
    for k in broken:
        assert usable_key(k) is None
    assert len(importable_keys(jwks_doc)) == len(jwks_doc["keys"]) - 2
    good_otherwise(tok, mock, login, jwks_doc)


def test_rotation_signs_with_a_new_kid_that_jwks_has_after_publish(mock):
    old = mock.rsa["kid"]
    assert old in importable_keys(fetch_jwks(mock.url("jwks")))
    new = mock.rotate(publish=False)
    assert new != old
    tok, login, _ = mock_id_token(mock)
    assert header(tok)["kid"] == new
    before = fetch_jwks(mock.url("jwks"))
    assert new not in importable_keys(before)
    assert verifying_keys(tok, before, "RS256") == []
    mock.publish()
    after = fetch_jwks(mock.url("jwks"))
    assert verifying_keys(tok, after, "RS256") == [new]
    assert old in importable_keys(after)  # kept for tokens already out
    mock.reset()
    assert mock.rsa["kid"] == old
    assert new not in importable_keys(fetch_jwks(mock.url("jwks")))


def test_rotation_can_drop_the_old_key(mock):
    old = mock.rsa["kid"]
    new = mock.rotate(keep_old=False)
    kids = importable_keys(fetch_jwks(mock.url("jwks")))
    assert new in kids and old not in kids


# ---------------------------------------------------- mock: control API


def test_the_control_api_sets_switches_and_reads_counters(mock):
    base = mock.base_url
    r = requests.post(base + "/_control", json={
        "id_token": "exp_past", "token_delay": 0.2}, timeout=5)
    assert r.status_code == 200
    st = requests.get(base + "/_control/state", timeout=5).json()
    assert st["switches"]["id_token"] == "exp_past"
    assert st["issuer"] == mock.issuer
    tok, _, _ = mock_id_token(mock)
    assert claims(tok)["exp"] < time.time()
    st = requests.get(base + "/_control/state", timeout=5).json()
    assert st["token_calls"] == 1
    assert st["authorize_calls"] == 1
    assert st["id_tokens"] == [tok]

    r = requests.post(base + "/_control", json={"no_such": 1}, timeout=5)
    assert r.status_code == 400
    r = requests.post(base + "/_control", json={"id_token": "nonsense"},
                      timeout=5)
    assert r.status_code == 400

    r = requests.post(base + "/_control/rotate", json={"publish": False},
                      timeout=5)
    kid = r.json()["kid"]
    assert kid not in requests.get(base + "/_control/state",
                                   timeout=5).json()["kids"]
    requests.post(base + "/_control/publish", timeout=5)
    assert kid in requests.get(base + "/_control/state",
                               timeout=5).json()["kids"]

    requests.post(base + "/_control/reset", timeout=5)
    st = requests.get(base + "/_control/state", timeout=5).json()
    assert st["token_calls"] == 0
    assert st["switches"]["id_token"] is None


def test_unknown_switches_are_refused_in_process(mock):
    with pytest.raises(KeyError):
        MockOP(no_such_switch=True)
    with pytest.raises(KeyError):
        mock.set(no_such_switch=True)
    with pytest.raises(ValueError):
        mock.set(id_token="made_up")


# --------------------------------------------------- mock: end_session


def test_end_session_records_the_hint_and_redirects_back(mock):
    tok, _, _ = mock_id_token(mock)
    r = requests.get(mock.url("end_session"), allow_redirects=False,
                     timeout=5, params={"id_token_hint": tok,
                                        "post_logout_redirect_uri": BYE,
                                        "state": "st"})
    assert r.status_code == 302
    assert r.headers["Location"] == BYE + "?state=st"
    calls = mock.state()["end_session_calls"]
    assert calls == [{"id_token_hint": tok, "post_logout_redirect_uri": BYE,
                      "state": "st"}]


# ---------------------------------------------- mock: back-channel logout


class Receiver:
    """A stand-in RP back-channel logout endpoint that records POSTs."""

    def __init__(self):
        rec = self.requests = []

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                rec.append((self.path, self.headers.get("Content-Type"),
                            self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/bcl" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def tokens(self):
        return [urllib.parse.parse_qs(body.decode())["logout_token"][0]
                for _, _, body in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_a_good_logout_token_follows_the_back_channel_spec(mock):
    tok = mock.logout_token(sid="sid-1", sub="00u1alice")
    h, c = header(tok), claims(tok)
    assert h["alg"] == "RS256" and h["typ"] == "logout+jwt"
    assert verifying_keys(tok, fetch_jwks(mock.url("jwks")), "RS256") == \
        [mock.rsa["kid"]]
    assert c["iss"] == mock.issuer and c["aud"] == mock.client_id
    assert c["events"] == {BACKCHANNEL_EVENT: {}}
    assert c["sid"] == "sid-1" and c["sub"] == "00u1alice"
    assert "nonce" not in c and c["jti"]
    assert c["iat"] <= time.time() < c["exp"]


def test_logout_token_defaults_to_the_last_login(mock):
    mock_id_token(mock)
    c = claims(mock.logout_token())
    assert c["sid"] == mock.state()["sids"][-1]
    assert c["sub"] == "00u1alice"


@pytest.mark.parametrize("variant,check", [
    ("alg_none", lambda h, c, ok: h["alg"] == "none" and not ok),
    ("wrong_aud", lambda h, c, ok: ok and c["aud"] != "airflow"),
    ("wrong_iss", lambda h, c, ok: ok and c["iss"].endswith("/other")),
    ("missing_events", lambda h, c, ok: ok and "events" not in c),
    ("wrong_events",
     lambda h, c, ok: ok and BACKCHANNEL_EVENT not in c["events"]),
    ("with_nonce", lambda h, c, ok: ok and c["nonce"]),
    ("bad_signature", lambda h, c, ok: h["alg"] == "RS256" and not ok),
    ("no_sid_no_sub",
     lambda h, c, ok: ok and "sid" not in c and "sub" not in c),
])
def test_logout_token_variants_misbehave_as_named(mock, variant, check):
    tok = mock.logout_token(sid="sid-1", sub="00u1alice", variant=variant)
    ok = bool(verifying_keys(tok, fetch_jwks(mock.url("jwks")), "RS256"))
    assert check(header(tok), claims(tok), ok)


def test_send_backchannel_logout_posts_the_token_form_encoded(mock,
                                                              receiver):
    tok = mock.logout_token(sid="sid-9")
    status, _ = mock.send_backchannel_logout(receiver.url, tok)
    assert status == 200
    path, ctype, _ = receiver.requests[0]
    assert path == "/bcl"
    assert ctype == "application/x-www-form-urlencoded"
    assert receiver.tokens() == [tok]


# ------------------------------------------- the real OP (oidc-provider)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    rec = Receiver()
    op = real_op.OidcProvider(
        tmp_path_factory.mktemp("oidc-provider"), redirect_uris=[CB],
        post_logout_redirect_uris=[BYE], backchannel_logout_uri=rec.url)
    try:
        op.start()
    except real_op.OPUnavailable as e:
        rec.stop()
        pytest.fail("panva's oidc-provider could not start: %s" % e)
    yield op, rec
    op.stop()
    rec.stop()


def real_login(op, client_id, secret, method, user=None):
    """A whole browser-like login; returns (session, login, token body)."""
    d = discovery(op)
    s = requests.Session()
    login = Login(d, client_id=client_id)
    extra = {"login_hint": user} if user else {}
    out = real_op.follow_until(s, login.url(**extra), CB)
    assert isinstance(out, str), "no redirect back: %s" % getattr(
        out, "text", "")[:500]
    q = real_op.query_of(out)
    assert q["state"] == login.state
    assert q["iss"] == op.issuer
    r = login.token(q["code"], secret, method)
    assert r.status_code == 200, r.text
    return s, login, r.json()


def test_real_op_discovery_answers(real):
    op, _ = real
    d = discovery(op)
    assert d["issuer"] == op.issuer
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert "groups" in d["scopes_supported"]
    assert d["end_session_endpoint"].startswith(op.issuer)
    assert d["backchannel_logout_supported"] is True
    kinds = sorted(k["kty"] for k in fetch_jwks(d["jwks_uri"])["keys"])
    assert kinds == ["EC", "RSA"]


@pytest.mark.parametrize("client", ["basic", "post"])
def test_real_op_code_flow_gives_a_verified_id_token_with_groups(real,
                                                                 client):
    op, _ = real
    if client == "basic":
        cid, secret, method = (op.client_id, op.client_secret,
                               "client_secret_basic")
    else:
        cid, secret, method = (op.post_client_id, op.post_client_secret,
                               "client_secret_post")
    _, login, body = real_login(op, cid, secret, method)
    tok = body["id_token"]
    jwks_doc = fetch_jwks(discovery(op)["jwks_uri"])
    assert header(tok)["alg"] == "RS256"
    assert verifying_keys(tok, jwks_doc, "RS256") == [header(tok)["kid"]]
    c = claims(tok)
    assert c["iss"] == op.issuer and c["aud"] == cid
    assert c["nonce"] == login.nonce
    assert c["sub"] == "alice" and c["sid"]
    assert c["email"] == "alice@example.com"
    assert c["groups"] == ["airflow-admins", "data-eng"]
    u = requests.get(discovery(op)["userinfo_endpoint"], timeout=5, headers={
        "Authorization": "Bearer " + body["access_token"]})
    assert u.status_code == 200 and u.json()["sub"] == "alice"


@pytest.mark.parametrize("method", ["client_secret_basic",
                                    "client_secret_post"])
def test_real_op_refuses_a_wrong_client_secret(real, method):
    # oidc-provider takes either secret method from a client registered
    # with one of them, so only the secret itself can be refused
    op, _ = real
    login = Login(discovery(op))
    out = real_op.follow_until(requests.Session(), login.url(), CB)
    r = login.token(real_op.query_of(out)["code"], "wrong-secret", method)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_real_op_requires_pkce(real):
    op, _ = real
    login = Login(discovery(op))
    r = real_op.follow_until(requests.Session(), login.url(
        code_challenge="", code_challenge_method=""), CB)
    assert isinstance(r, str)
    q = real_op.query_of(r)
    assert q["error"] == "invalid_request" and "code" not in q


def test_real_op_login_hint_picks_the_demo_user(real):
    op, _ = real
    _, _, body = real_login(op, op.client_id, op.client_secret,
                            "client_secret_basic", user="bob")
    c = claims(body["id_token"])
    assert c["sub"] == "bob" and c["groups"] == ["data-viewers"]


def test_real_op_rp_initiated_logout_then_back_channel_logout(real):
    op, rec = real
    s, login, body = real_login(op, op.client_id, op.client_secret,
                                "client_secret_basic")
    sid = claims(body["id_token"])["sid"]
    d = discovery(op)
    # while the OP session lasts, a new login needs no login interaction
    trail = []
    out = real_op.follow_until(s, Login(d).url(), CB, trail=trail)
    assert isinstance(out, str) and "code" in real_op.query_of(out)
    assert not any("/interaction/" in u for u in trail)

    page = s.get(d["end_session_endpoint"], timeout=10, params={
        "id_token_hint": body["id_token"],
        "post_logout_redirect_uri": BYE, "state": "bye-state"})
    assert page.status_code == 200
    out = real_op.submit_first_form(s, page, BYE)
    assert out == BYE + "?state=bye-state"

    # the OP told the RP's back-channel endpoint about it, with a logout
    # token that verifies against the OP's JWKS
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
            claims(t).get("sid") == sid for t in rec.tokens()):
        time.sleep(0.05)
    toks = [t for t in rec.tokens() if claims(t).get("sid") == sid]
    assert len(toks) == 1, op.log_text()
    lt = toks[0]
    assert header(lt)["typ"] == "logout+jwt"
    assert verifying_keys(lt, fetch_jwks(d["jwks_uri"]), "RS256") == \
        [header(lt)["kid"]]
    c = claims(lt)
    assert c["iss"] == op.issuer and c["aud"] == op.client_id
    assert BACKCHANNEL_EVENT in c["events"] and "nonce" not in c
    assert c["sub"] == "alice"

    # the OP session is gone: a new login goes through the login
    # interaction again
    trail = []
    again = real_op.follow_until(s, Login(d).url(), CB, trail=trail)
    assert isinstance(again, str) and "code" in real_op.query_of(again)
    assert any("/interaction/" in u for u in trail)
