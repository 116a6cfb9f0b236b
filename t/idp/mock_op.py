"""A controllable OpenID Provider for the OIDC relying-party tests.

It serves discovery, JWKS, authorize, token, userinfo and end_session on a
free 127.0.0.1 port, logs a configured user in without any page, and can be
told at run time to misbehave in each of the ways the OIDC table of
SECURITY.md lists.  Only the standard library and python3-jwcrypto.

In-process use (pytest):

    op = MockOP(client_id="airflow", client_secret="s3cret").start()
    op.set(id_token="exp_past")          # the next ID token is expired
    ...
    op.state()["jwks_fetches"]           # counters
    op.stop()

From another process (the benchmark, a demo): POST JSON switches to
/_control, read counters at GET /_control/state, and POST to
/_control/rotate, /_control/publish, /_control/reset.  Run it standalone
with `python3 -m idp.mock_op --port N` from t/.

Switches (see DEFAULTS): every one is off by default, so a fresh mock is a
well-behaved OP whose ID tokens verify.
"""

import base64
import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwk, jws

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"

# Each ID-token misbehaviour the `id_token` switch accepts; None is a good
# token.  The names are what the RP tests parametrize over.
ID_TOKEN_CASES = (
    "bad_signature",        # signed, then one signature byte flipped
    "alg_none",             # header alg none, empty signature
    "hs256_pem",            # HS256, HMAC key = the RSA public key as PEM
    "hs256_jwk",            # HS256, HMAC key = the RSA public JWK as JSON
    "wrong_iss",            # iss is not discovery's issuer
    "aud_missing",          # no aud claim
    "aud_other",            # aud is another client only
    "aud_multi_azp_wrong",  # aud [client_id, other], azp = other
    "aud_multi_azp_ok",     # aud [client_id, other], azp = client_id (good)
    "sub_missing",
    "iat_missing",
    "exp_past",             # expired an hour ago
    "nbf_future",           # not valid for another hour
    "nonce_missing",
    "nonce_other",          # a nonce the RP never sent
    "kid_absent",           # no kid in the header (pair with jwks_keys)
    "kid_unknown",          # right key, but a kid the JWKS does not have
    "rotated_unpublished",  # signed by a key whose kid JWKS does not have
)

LOGOUT_TOKEN_VARIANTS = (
    "good", "alg_none", "wrong_aud", "wrong_iss", "missing_events",
    "wrong_events", "with_nonce", "bad_signature", "no_sid_no_sub",
)

SHAPES = ("plain", "okta_org", "okta_custom")

DEFAULTS = {
    # /authorize
    "authorize_error": None,     # e.g. "access_denied": redirect with error
    "state": "echo",             # "echo" | "drop" | "alter"
    # /token
    "token_auth": None,          # None: either; or the one method required
    "require_pkce": True,        # a code without code_challenge is refused
    "token_delay": 0.0,          # seconds to sleep before answering
    "token_error": None,         # e.g. "invalid_grant": answer that error
    "token_status": 400,         # HTTP status of token_error
    "omit_id_token": False,      # token response without id_token
    # the ID token
    "id_token_alg": "RS256",     # "RS256" | "ES256"
    "id_token": None,            # one of ID_TOKEN_CASES, or None (good)
    "time_shift": 0,             # seconds added to iat/exp/nbf/auth_time
    "groups_only_in_userinfo": False,  # Okta org server style
    "extra_claims": {},          # merged into the ID token claims
    # /userinfo
    "userinfo_sub": None,        # another sub than the ID token's
    "userinfo_delay": 0.0,
    "userinfo_status": 200,      # e.g. 500 for an IdP failure
    # /jwks
    "jwks_keys": "default",      # "default" (RSA+EC) | "single" (the
                                 # signer only) | "two_rsa" (+ a 2nd RSA)
    "jwks_bad_key": False,       # an unparseable key beside the good ones
    "jwks_delay": 0.0,
    "discovery_delay": 0.0,
    # discovery
    "publish_end_session": True,
    # the signed-in user
    "user": None,                # dict; None: DEFAULT_USER
    "sid": None,                 # fixed sid; None: a fresh one per login
}

DEFAULT_USER = {
    "sub": "00u1alice",
    "preferred_username": "alice",
    "email": "alice@example.com",
    "name": "Alice Admin",
    "groups": ["airflow-admins", "data-eng"],
}

CODE_TTL = 120


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(obj):
    return b64u(json.dumps(obj, separators=(",", ":"), sort_keys=True))


def pkce_s256(verifier):
    return b64u(hashlib.sha256(verifier.encode()).digest())


def _new_key(kind, kid):
    if kind == "RSA":
        return jwk.JWK.generate(kty="RSA", size=2048, kid=kid, alg="RS256",
                                use="sig")
    return jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, alg="ES256",
                            use="sig")


def _kid(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def sign_jwt(claims, key, alg, header_extra=None, kid=True):
    """A compact JWS over the claims.  kid=True puts the key's kid in the
    header, False leaves it out, a string puts that string."""
    header = {"alg": alg, "typ": "JWT"}
    if kid is True:
        header["kid"] = key["kid"]
    elif kid:
        header["kid"] = kid
    if header_extra:
        header.update(header_extra)
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True)
    s = jws.JWS(payload.encode())
    s.add_signature(key, alg, protected=json.dumps(
        header, separators=(",", ":"), sort_keys=True))
    return s.serialize(compact=True)


def unsigned_jwt(claims, header_extra=None):
    header = {"alg": "none", "typ": "JWT"}
    if header_extra:
        header.update(header_extra)
    return b64u_json(header) + "." + b64u_json(claims) + "."


def flip_signature(token):
    """The same token with the first signature byte changed."""
    h, p, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[0] ^= 0x01
    return h + "." + p + "." + b64u(bytes(raw))


def decode_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class MockOP:
    """One mock OP.  shape picks the URL layout: "plain" (issuer is the
    base URL, or base + issuer_path), "okta_org" (issuer is the base URL,
    endpoints under /oauth2/v1/, groups only in userinfo by default) or
    "okta_custom" (issuer base + /oauth2/default, endpoints under
    /oauth2/default/v1/).  redirect_uris=None accepts any redirect_uri."""

    def __init__(self, client_id="airflow", client_secret="airflow-secret",
                 redirect_uris=None, shape="plain", issuer_path="",
                 clients=None, port=0, **switches):
        if shape not in SHAPES:
            raise ValueError("shape must be one of %s" % (SHAPES,))
        self._check(switches)
        self.client_id = client_id
        self.client_secret = client_secret
        self.clients = {client_id: client_secret}
        if clients:
            self.clients.update(clients)
        self.redirect_uris = redirect_uris
        self.shape = shape
        if shape == "okta_custom" and not issuer_path:
            issuer_path = "/oauth2/default"
        self.issuer_path = issuer_path.rstrip("/")
        self._want_port = port
        self._lock = threading.RLock()
        self._server = None
        self._thread = None

        self.rsa = _new_key("RSA", _kid("rsa"))
        self.ec = _new_key("EC", _kid("ec"))
        self._first_rsa = self.rsa
        self.retired = []          # old signers still published
        self.pending = None        # rotated-to key not yet in the JWKS
        self._rsa2 = None
        self._unpublished = None

        self._base_switches = dict(DEFAULTS)
        if shape == "okta_org":
            self._base_switches["groups_only_in_userinfo"] = True
        self._base_switches.update(self._check(switches))
        self.switches = copy.deepcopy(self._base_switches)
        self._reset_state()

    # ------------------------------------------------------------ lifecycle

    def start(self):
        handler = type("Handler", (_Handler,), {"op": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self._want_port),
                                           handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------- switches

    @staticmethod
    def _check(switches):
        for name, value in switches.items():
            if name not in DEFAULTS:
                raise KeyError("unknown mock OP switch %r" % name)
            if name == "id_token" and value is not None \
                    and value not in ID_TOKEN_CASES:
                raise ValueError("unknown id_token case %r" % value)
            if name == "id_token_alg" and value not in ("RS256", "ES256"):
                raise ValueError("id_token_alg must be RS256 or ES256")
            if name == "state" and value not in ("echo", "drop", "alter"):
                raise ValueError("state must be echo, drop or alter")
            if name == "jwks_keys" \
                    and value not in ("default", "single", "two_rsa"):
                raise ValueError("jwks_keys must be default, single, two_rsa")
            if name == "token_auth" and value not in (
                    None, "client_secret_basic", "client_secret_post"):
                raise ValueError("token_auth: None or a client auth method")
        return switches

    def set(self, **switches):
        """Changes switches from now on; unknown names are an error."""
        with self._lock:
            self.switches.update(copy.deepcopy(self._check(switches)))
        return self

    def reset(self):
        """Back to the switches and signing key given at construction,
        counters zeroed, codes and access tokens forgotten: one mock can
        serve many tests."""
        with self._lock:
            self.switches = copy.deepcopy(self._base_switches)
            self.rsa = self._first_rsa
            self.retired = []
            self.pending = None
            self._reset_state()

    def _reset_state(self):
        self._codes = {}
        self._access_tokens = {}
        self._state = {
            "discovery_fetches": 0,
            "jwks_fetches": 0,
            "jwks_fetch_times": [],
            "authorize_calls": 0,
            "last_authorize": None,
            "token_calls": 0,
            "token_auth_methods": [],
            "token_errors": [],
            "userinfo_calls": 0,
            "end_session_calls": [],
            "id_tokens": [],
            "sids": [],
        }

    def state(self):
        """A copy of the counters (see _reset_state for the names)."""
        with self._lock:
            return copy.deepcopy(self._state)

    # ----------------------------------------------------------------- keys

    def rotate(self, publish=True, keep_old=True):
        """A new RSA key signs from now on (new kid).  publish=False keeps it
        out of the JWKS until publish(): the "new kid not yet fetched"
        window an RP sees.  keep_old keeps the previous key published."""
        with self._lock:
            new = _new_key("RSA", _kid("rsa"))
            if keep_old:
                self.retired.append(self.rsa)
            self.rsa = new
            self.pending = None if publish else new
            return new["kid"]

    def publish(self):
        with self._lock:
            self.pending = None

    def signing_key(self, alg=None):
        alg = alg or self.switches["id_token_alg"]
        with self._lock:
            return self.rsa if alg == "RS256" else self.ec

    def _second_rsa(self):
        if self._rsa2 is None:
            self._rsa2 = _new_key("RSA", _kid("rsa2"))
        return self._rsa2

    def _unpublished_key(self):
        if self._unpublished is None:
            self._unpublished = _new_key("RSA", _kid("rsa-next"))
        return self._unpublished

    def published_keys(self):
        """The jwcrypto keys the JWKS lists right now."""
        with self._lock:
            mode = self.switches["jwks_keys"]
            if mode == "single":
                keys = [self.signing_key()]
            else:
                keys = [self.rsa, self.ec]
                if mode == "two_rsa":
                    keys.insert(1, self._second_rsa())
                keys += self.retired
            return [k for k in keys if k is not self.pending]

    def jwks(self):
        keys = [k.export_public(as_dict=True) for k in self.published_keys()]
        if self.switches["jwks_bad_key"]:
            # Parses as JSON, not as a key: an RSA key with a broken modulus
            # and an unknown curve.
            keys.insert(0, {"kty": "RSA", "kid": "broken-rsa", "alg": "RS256",
                            "use": "sig", "n": "!!not base64!!", "e": "AQAB"})
            keys.append({"kty": "EC", "kid": "broken-ec", "crv": "P-999",
                         "x": "AA", "y": "AA"})
        return {"keys": keys}

    def public_pem(self):
        return self.rsa.export_to_pem(private_key=False)

    def public_jwk_json(self):
        """The RSA public key exactly as the JWKS serves it, as JSON."""
        return json.dumps(self.rsa.export_public(as_dict=True)).encode()

    # ----------------------------------------------------------------- URLs

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def issuer(self):
        return self.base_url + self.issuer_path

    def _paths(self):
        if self.shape == "okta_org":
            p = "/oauth2/v1"
            return {"authorize": p + "/authorize", "token": p + "/token",
                    "userinfo": p + "/userinfo", "jwks": p + "/keys",
                    "end_session": p + "/logout"}
        if self.shape == "okta_custom":
            p = self.issuer_path + "/v1"
            return {"authorize": p + "/authorize", "token": p + "/token",
                    "userinfo": p + "/userinfo", "jwks": p + "/keys",
                    "end_session": p + "/logout"}
        p = self.issuer_path
        return {"authorize": p + "/authorize", "token": p + "/token",
                "userinfo": p + "/userinfo", "jwks": p + "/jwks",
                "end_session": p + "/end_session"}

    @property
    def discovery_url(self):
        return self.issuer + "/.well-known/openid-configuration"

    def url(self, name):
        return self.base_url + self._paths()[name]

    def discovery(self):
        d = {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("authorize"),
            "token_endpoint": self.url("token"),
            "userinfo_endpoint": self.url("userinfo"),
            "jwks_uri": self.url("jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce",
                                 "email", "name", "preferred_username",
                                 "groups", "sid"],
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }
        if self.switches["publish_end_session"]:
            d["end_session_endpoint"] = self.url("end_session")
        if self.shape.startswith("okta"):
            d["revocation_endpoint"] = self.url("token").replace(
                "/token", "/revoke")
            d["introspection_endpoint"] = self.url("token").replace(
                "/token", "/introspect")
        return d

    # ------------------------------------------------------------ ID tokens

    def user(self):
        return dict(self.switches["user"] or DEFAULT_USER)

    def id_token_claims(self, nonce, sid, user=None, now=None, sw=None):
        """The claims of a good ID token for this client, under switches sw
        (default: the current ones)."""
        sw = sw or self.switches
        u = user or self.user()
        t = int(now if now is not None else time.time()) + sw["time_shift"]
        claims = {
            "iss": self.issuer,
            "sub": u["sub"],
            "aud": self.client_id,
            "iat": t,
            "exp": t + 3600,
            "auth_time": t,
            "sid": sid,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        for k in ("preferred_username", "email", "name"):
            if k in u:
                claims[k] = u[k]
        if "groups" in u and not sw["groups_only_in_userinfo"]:
            claims["groups"] = list(u["groups"])
        claims.update(sw["extra_claims"])
        return claims

    def make_id_token(self, nonce, sid=None, case=None, alg=None, user=None,
                      sw=None):
        """An ID token for the configured client, misbehaving as `case`
        (one of ID_TOKEN_CASES, None for a good one).  Also usable without
        a login, to build tokens for direct tests."""
        sw = sw or copy.deepcopy(self.switches)
        alg = alg or sw["id_token_alg"]
        claims = self.id_token_claims(nonce, sid or secrets.token_hex(8),
                                      user, sw=sw)
        t = claims["iat"]
        if case == "wrong_iss":
            claims["iss"] = self.issuer + "/other"
        elif case == "aud_missing":
            del claims["aud"]
        elif case == "aud_other":
            claims["aud"] = "another-client"
        elif case == "aud_multi_azp_wrong":
            claims["aud"] = [self.client_id, "another-client"]
            claims["azp"] = "another-client"
        elif case == "aud_multi_azp_ok":
            claims["aud"] = [self.client_id, "another-client"]
            claims["azp"] = self.client_id
        elif case == "sub_missing":
            del claims["sub"]
        elif case == "iat_missing":
            del claims["iat"]
        elif case == "exp_past":
            claims["iat"] = t - 7200
            claims["auth_time"] = t - 7200
            claims["exp"] = t - 3600
        elif case == "nbf_future":
            claims["nbf"] = t + 3600
        elif case == "nonce_missing":
            claims.pop("nonce", None)
        elif case == "nonce_other":
            claims["nonce"] = "not-" + (nonce or "") + secrets.token_hex(4)

        key = self.signing_key(alg)
        if case == "alg_none":
            return unsigned_jwt(claims, {"kid": key["kid"]})
        if case in ("hs256_pem", "hs256_jwk"):
            secret = (self.public_pem() if case == "hs256_pem"
                      else self.public_jwk_json())
            hkey = jwk.JWK(kty="oct", k=b64u(secret))
            return sign_jwt(claims, hkey, "HS256", kid=self.rsa["kid"])
        if case == "kid_absent":
            return sign_jwt(claims, key, alg, kid=False)
        if case == "kid_unknown":
            return sign_jwt(claims, key, alg, kid=_kid("unknown"))
        if case == "rotated_unpublished":
            return sign_jwt(claims, self._unpublished_key(), "RS256")
        token = sign_jwt(claims, key, alg)
        if case == "bad_signature":
            token = flip_signature(token)
        return token

    # ------------------------------------------------------ logout tokens

    def logout_token(self, sid=None, sub=None, variant="good", aud=None):
        """A back-channel logout token (OIDC Back-Channel Logout 1.0 2.4)
        for this client, misbehaving as `variant` (LOGOUT_TOKEN_VARIANTS).
        Give sid, sub or both; they default to the last login's."""
        if variant not in LOGOUT_TOKEN_VARIANTS:
            raise ValueError("unknown logout token variant %r" % variant)
        if sid is None and sub is None:
            st = self.state()
            sid = st["sids"][-1] if st["sids"] else None
            sub = self.user()["sub"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": aud or self.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(16),
            "events": {BACKCHANNEL_EVENT: {}},
        }
        if sid is not None:
            claims["sid"] = sid
        if sub is not None:
            claims["sub"] = sub
        if variant == "wrong_aud":
            claims["aud"] = "another-client"
        elif variant == "wrong_iss":
            claims["iss"] = self.issuer + "/other"
        elif variant == "missing_events":
            del claims["events"]
        elif variant == "wrong_events":
            claims["events"] = {"http://schemas.openid.net/event/other": {}}
        elif variant == "with_nonce":
            claims["nonce"] = secrets.token_hex(8)
        elif variant == "no_sid_no_sub":
            claims.pop("sid", None)
            claims.pop("sub", None)
        header = {"typ": "logout+jwt"}
        if variant == "alg_none":
            return unsigned_jwt(claims, dict(header, kid=self.rsa["kid"]))
        token = sign_jwt(claims, self.rsa, "RS256", header_extra=header)
        if variant == "bad_signature":
            token = flip_signature(token)
        return token

    @staticmethod
    def send_backchannel_logout(url, token, timeout=10):
        """POSTs logout_token=TOKEN form-encoded to the RP, as an OP does.
        Returns (status, body bytes)."""
        data = urllib.parse.urlencode({"logout_token": token}).encode()
        req = urllib.request.Request(
            url, data=data, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # ------------------------------------------------- protocol internals

    def _authorize(self, params):
        """(status, headers, body) for /authorize."""
        with self._lock:
            self._state["authorize_calls"] += 1
            self._state["last_authorize"] = dict(params)
            sw = copy.deepcopy(self.switches)
        client_id = params.get("client_id")
        redirect_uri = params.get("redirect_uri")
        # Like a real OP: a bad client or redirect_uri gets a page, never a
        # redirect.
        if client_id not in self.clients:
            return _page(400, "unknown client_id")
        if not redirect_uri or (self.redirect_uris is not None
                                and redirect_uri not in self.redirect_uris):
            return _page(400, "redirect_uri not registered")
        out = {}
        if sw["authorize_error"]:
            out["error"] = sw["authorize_error"]
            out["error_description"] = "the mock OP was told to refuse"
        elif params.get("response_type") != "code":
            out["error"] = "unsupported_response_type"
        elif "openid" not in params.get("scope", "").split():
            out["error"] = "invalid_scope"
        elif sw["require_pkce"] and not params.get("code_challenge"):
            out["error"] = "invalid_request"
            out["error_description"] = "code_challenge required"
        elif params.get("code_challenge") and params.get(
                "code_challenge_method", "plain") not in ("S256", "plain"):
            out["error"] = "invalid_request"
            out["error_description"] = "unsupported code_challenge_method"
        else:
            code = secrets.token_urlsafe(24)
            sid = sw["sid"] or secrets.token_hex(12)
            with self._lock:
                self._codes[code] = {
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "nonce": params.get("nonce"),
                    "code_challenge": params.get("code_challenge"),
                    "code_challenge_method": params.get(
                        "code_challenge_method", "plain"),
                    "scope": params.get("scope"),
                    "user": self.user(),
                    "sid": sid,
                    "issued": time.time(),
                    "used": False,
                }
                self._state["sids"].append(sid)
            out["code"] = code
        state = params.get("state")
        if sw["state"] == "alter" and state is not None:
            state = state + "x"
        if state is not None and sw["state"] != "drop":
            out["state"] = state
        sep = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": redirect_uri + sep
                     + urllib.parse.urlencode(out)}, b""

    def _client_auth(self, headers, form):
        """(client_id, method) or (None, reason)."""
        required = self.switches["token_auth"]
        auth = headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True)
                cid, _, secret = raw.decode().partition(":")
                cid = urllib.parse.unquote_plus(cid)
                secret = urllib.parse.unquote_plus(secret)
            except ValueError:
                return None, "malformed basic credentials"
            method = "client_secret_basic"
            if "client_secret" in form:
                return None, "two client authentication methods"
        elif "client_secret" in form:
            cid, secret = form.get("client_id"), form["client_secret"]
            method = "client_secret_post"
        else:
            return None, "no client authentication"
        if required and method != required:
            return None, "client must use " + required
        expected = self.clients.get(cid)
        if expected is None or not hmac.compare_digest(
                expected.encode(), (secret or "").encode()):
            return None, "bad client credentials"
        return cid, method

    def _token(self, headers, form):
        with self._lock:
            self._state["token_calls"] += 1
            sw = copy.deepcopy(self.switches)
        if sw["token_delay"]:
            time.sleep(sw["token_delay"])
        if sw["token_error"]:
            return self._token_error(sw["token_status"], sw["token_error"])
        cid, method = self._client_auth(headers, form)
        if cid is None:
            return self._token_error(401, "invalid_client", method)
        with self._lock:
            self._state["token_auth_methods"].append(method)
        if form.get("grant_type") != "authorization_code":
            return self._token_error(400, "unsupported_grant_type")
        with self._lock:
            c = self._codes.get(form.get("code", ""))
            if c is None or c["used"] \
                    or time.time() - c["issued"] > CODE_TTL:
                return self._token_error(400, "invalid_grant",
                                         "unknown, used or expired code")
            c["used"] = True      # single use, even when what follows fails
        if c["client_id"] != cid:
            return self._token_error(400, "invalid_grant",
                                     "code issued to another client")
        if form.get("redirect_uri") != c["redirect_uri"]:
            return self._token_error(400, "invalid_grant",
                                     "redirect_uri mismatch")
        verifier = form.get("code_verifier")
        if c["code_challenge"]:
            if not verifier:
                return self._token_error(400, "invalid_grant",
                                         "code_verifier missing")
            got = (pkce_s256(verifier)
                   if c["code_challenge_method"] == "S256" else verifier)
            if not hmac.compare_digest(got, c["code_challenge"]):
                return self._token_error(400, "invalid_grant",
                                         "PKCE verification failed")
        elif sw["require_pkce"]:
            return self._token_error(400, "invalid_grant", "PKCE required")

        id_token = self.make_id_token(c["nonce"], c["sid"], sw["id_token"],
                                      user=c["user"], sw=sw)
        with self._lock:
            access_token = secrets.token_urlsafe(32)
            self._access_tokens[access_token] = {"user": c["user"]}
            self._state["id_tokens"].append(id_token)
        body = {"access_token": access_token, "token_type": "Bearer",
                "expires_in": 3600, "scope": c["scope"]}
        if not sw["omit_id_token"]:
            body["id_token"] = id_token
        return _json(200, body, {"Cache-Control": "no-store",
                                 "Pragma": "no-cache"})

    def _token_error(self, status, error, description=None):
        with self._lock:
            self._state["token_errors"].append(error)
        body = {"error": error}
        if description:
            body["error_description"] = description
        extra = {"Cache-Control": "no-store"}
        if status == 401:
            extra["WWW-Authenticate"] = 'Basic realm="mock-op"'
        return _json(status, body, extra)

    def _userinfo(self, headers):
        with self._lock:
            self._state["userinfo_calls"] += 1
            sw = copy.deepcopy(self.switches)
        if sw["userinfo_delay"]:
            time.sleep(sw["userinfo_delay"])
        auth = headers.get("Authorization", "")
        tok = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        with self._lock:
            entry = self._access_tokens.get(tok)
        if entry is None:
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"',
                         "Content-Type": "application/json"}, \
                b'{"error":"invalid_token"}'
        if sw["userinfo_status"] != 200:
            return _json(sw["userinfo_status"], {"error": "server_error"})
        u = entry["user"]
        claims = {k: u[k] for k in ("sub", "preferred_username", "email",
                                    "name", "groups") if k in u}
        if sw["userinfo_sub"] is not None:
            claims["sub"] = sw["userinfo_sub"]
        return _json(200, claims)

    def _end_session(self, params):
        with self._lock:
            self._state["end_session_calls"].append(dict(params))
        target = params.get("post_logout_redirect_uri")
        if target:
            out = {}
            if "state" in params:
                out["state"] = params["state"]
            sep = "&" if "?" in target else "?"
            loc = target + (sep + urllib.parse.urlencode(out) if out else "")
            return 302, {"Location": loc}, b""
        return _page(200, "signed out")

    def _control(self, method, path, body):
        if method == "GET" and path == "/_control/state":
            st = self.state()
            st["switches"] = copy.deepcopy(self.switches)
            st["issuer"] = self.issuer
            st["kids"] = [k["kid"] for k in self.published_keys()]
            return _json(200, st)
        if method != "POST":
            return _json(405, {"error": "method not allowed"})
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return _json(400, {"error": "body is not JSON"})
        try:
            if path == "/_control":
                self.set(**args)
            elif path == "/_control/rotate":
                return _json(200, {"kid": self.rotate(**args)})
            elif path == "/_control/publish":
                self.publish()
            elif path == "/_control/reset":
                self.reset()
            else:
                return _json(404, {"error": "no such control"})
        except (KeyError, TypeError, ValueError) as e:
            return _json(400, {"error": str(e)})
        return _json(200, {"ok": True})

    def handle(self, method, path, query, headers, body):
        """(status, headers, body) for one request."""
        if path.startswith("/_control"):
            return self._control(method, path, body)
        paths = self._paths()
        disc = self.issuer_path + "/.well-known/openid-configuration"
        if path == disc and method == "GET":
            with self._lock:
                self._state["discovery_fetches"] += 1
                delay = self.switches["discovery_delay"]
            if delay:
                time.sleep(delay)
            return _json(200, self.discovery())
        if path == paths["jwks"] and method == "GET":
            with self._lock:
                self._state["jwks_fetches"] += 1
                self._state["jwks_fetch_times"].append(time.time())
                delay = self.switches["jwks_delay"]
            if delay:
                time.sleep(delay)
            return _json(200, self.jwks())
        if path == paths["authorize"] and method == "GET":
            return self._authorize(query)
        if path == paths["token"]:
            if method != "POST":
                return _json(405, {"error": "invalid_request"})
            form = dict(urllib.parse.parse_qsl(body.decode("latin-1"),
                                               keep_blank_values=True))
            return self._token(headers, form)
        if path == paths["userinfo"] and method in ("GET", "POST"):
            return self._userinfo(headers)
        if path == paths["end_session"] and method in ("GET", "POST"):
            if method == "POST":
                query = dict(urllib.parse.parse_qsl(body.decode("latin-1")))
            return self._end_session(query)
        return _page(404, "not found")


def _json(status, obj, extra=None):
    h = {"Content-Type": "application/json"}
    if extra:
        h.update(extra)
    return status, h, json.dumps(obj).encode()


def _page(status, text):
    body = ("<!DOCTYPE html><title>mock OP</title><p>%s</p>\n"
            % text).encode()
    return status, {"Content-Type": "text/html; charset=utf-8"}, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    op = None
    server_version = "mock-op/1"

    def log_message(self, fmt, *args):
        pass

    def _serve(self, method):
        u = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        try:
            status, headers, out = self.op.handle(method, u.path, query,
                                                  self.headers, body)
        except Exception as e:     # a mock bug must show, not hang the RP
            status, headers, out = _json(500, {"error": "mock_op_bug",
                                               "detail": repr(e)})
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(out)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--client-id", default="airflow")
    ap.add_argument("--client-secret", default="airflow-secret")
    ap.add_argument("--shape", choices=SHAPES, default="plain")
    ap.add_argument("--issuer-path", default="")
    a = ap.parse_args()
    op = MockOP(a.client_id, a.client_secret, shape=a.shape,
                issuer_path=a.issuer_path, port=a.port).start()
    print("mock OP issuer %s (control at %s/_control)"
          % (op.issuer, op.base_url), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        op.stop()


if __name__ == "__main__":
    main()
