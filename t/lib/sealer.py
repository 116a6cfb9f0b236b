"""The session record format of the module, written again from the spec
with python3-cryptography, so tests can build records the CLI would never
make (expired, idle-expired, wrong key, tampered) and cross-check the C
implementation in both directions.

  cookie   = b64url(id) "." b64url(HMAC-SHA256(mac_key, id))
  key      = prefix "s:" hex(SHA-256(id))
  value    = 0x01 | kid(4) | iv(12) | AES-256-GCM(enc_key, json) | tag(16)
  aad      = hex(SHA-256(id)) as ASCII
  mac_key  = HKDF-SHA256(secret, salt="", info="airflow-auth mac v1", 32)
  enc_key  = ... info="airflow-auth enc v1", 32
  kid      = ... info="airflow-auth kid v1", 4
"""

import base64
import hashlib
import hmac
import json
import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .resp import RespClient

VERSION = 1
ID_LEN = 32
DEFAULT_PREFIX = "airflow_auth:"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _hkdf(secret, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"",
                info=info).derive(secret)


def session_hash(sid):
    return hashlib.sha256(sid).hexdigest()


def session_key(sid, prefix=DEFAULT_PREFIX):
    return prefix + "s:" + session_hash(sid)


def user_key(user, prefix=DEFAULT_PREFIX):
    return prefix + "u:" + user


class Key:
    def __init__(self, secret):
        if len(secret) < 32:
            raise ValueError("secret shorter than 32 bytes")
        self.secret = secret
        self.mac_key = _hkdf(secret, b"airflow-auth mac v1", 32)
        self.enc_key = _hkdf(secret, b"airflow-auth enc v1", 32)
        self.kid = _hkdf(secret, b"airflow-auth kid v1", 4)

    @classmethod
    def random(cls):
        return cls(os.urandom(32))

    @property
    def b64(self):
        return base64.b64encode(self.secret).decode()


class Keyring:
    """The first key seals and signs; every key verifies and opens."""

    def __init__(self, keys):
        self.keys = list(keys)
        if not self.keys:
            raise ValueError("empty keyring")

    @classmethod
    def from_text(cls, text):
        keys = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            line = line.replace("-", "+").replace("_", "/")
            keys.append(Key(base64.b64decode(line + "=" * (-len(line) % 4))))
        return cls(keys)

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            return cls.from_text(f.read())

    def make_cookie(self, sid, key=None):
        key = key or self.keys[0]
        mac = hmac.new(key.mac_key, sid, hashlib.sha256).digest()
        return b64url(sid) + "." + b64url(mac)

    def parse_cookie(self, value):
        """The session id when the MAC verifies under any key, else None."""
        try:
            a, b = value.split(".")
            sid, mac = b64url_decode(a), b64url_decode(b)
        except ValueError:
            return None
        if len(sid) != ID_LEN:
            return None
        for k in self.keys:
            good = hmac.new(k.mac_key, sid, hashlib.sha256).digest()
            if hmac.compare_digest(good, mac):
                return sid
        return None

    def seal(self, sid, plaintext, key=None):
        key = key or self.keys[0]
        iv = os.urandom(12)
        aad = session_hash(sid).encode()
        ct = AESGCM(key.enc_key).encrypt(iv, plaintext, aad)
        return bytes([VERSION]) + key.kid + iv + ct

    def unseal(self, sid, blob):
        """The plaintext bytes; raises ValueError if it does not open."""
        if len(blob) < 1 + 4 + 12 + 16 or blob[0] != VERSION:
            raise ValueError("bad sealed record header")
        kid, iv, ct = blob[1:5], blob[5:17], blob[17:]
        aad = session_hash(sid).encode()
        for k in self.keys:
            if k.kid == kid:
                return AESGCM(k.enc_key).decrypt(iv, ct, aad)
        raise ValueError("no key with this kid")

    def unseal_record(self, sid, blob):
        return json.loads(self.unseal(sid, blob))


def make_record(user, email="", name="", groups=(), roles=(), idp="test",
                idp_type="cli", sub=None, sid="", now=None, created=None,
                expires=None, last_seen=None, idle_expires=None,
                lifetime=3600, idle_timeout=1800, **extra):
    now = int(time.time()) if now is None else now
    created = now if created is None else created
    last_seen = now if last_seen is None else last_seen
    expires = created + lifetime if expires is None else expires
    if idle_expires is None:
        idle_expires = min(last_seen + idle_timeout, expires)
    rec = {"v": VERSION, "user": user, "email": email, "name": name,
           "groups": list(groups), "roles": list(roles), "idp": idp,
           "idp_type": idp_type, "sub": user if sub is None else sub,
           "sid": sid, "created": created, "expires": expires,
           "last_seen": last_seen, "idle_expires": idle_expires}
    rec.update(extra)
    return rec


class Sealer:
    """Writes and reads sessions in a Redis the way the module does.

    register is called with every cookie (and its id part) it hands out, so
    the nginx fixture can check none of them ever reaches a log."""

    def __init__(self, keyring, redis_port, prefix=DEFAULT_PREFIX,
                 password=None, register=None):
        self.keyring = keyring
        self.port = redis_port
        self.prefix = prefix
        self.password = password
        self.register = register or (lambda s: None)

    def _client(self):
        return RespClient(self.port, password=self.password)

    def new_id(self):
        return os.urandom(ID_LEN)

    def cookie_for(self, sid, key=None):
        c = self.keyring.make_cookie(sid, key)
        self.register(c)
        self.register(c.split(".")[0])
        self.register(c.split(".")[1])
        return c

    def write_raw(self, sid, value, ttl=3600, user=None):
        with self._client() as r:
            r.call("SET", session_key(sid, self.prefix), value, "EX", ttl)
            if user is not None:
                r.call("SADD", user_key(user, self.prefix), session_hash(sid))

    def write(self, sid, record, ttl=None, key=None, tamper=None):
        """Seals record (a dict or bytes) into Redis with the given TTL.
        tamper(blob) -> blob may alter the sealed bytes first."""
        if isinstance(record, dict):
            pt = json.dumps(record).encode()
            user = record.get("user")
        else:
            pt, user = record, None
        blob = self.keyring.seal(sid, pt, key)
        if tamper is not None:
            blob = tamper(blob)
        if ttl is None:
            if isinstance(record, dict):
                ttl = max(1, record["idle_expires"] - int(time.time()))
            else:
                ttl = 3600
        self.write_raw(sid, blob, ttl, user)
        return blob

    def create(self, user, ttl=None, seal_key=None, cookie_key=None,
               tamper=None, **fields):
        """A new session: returns (cookie, id).  fields go to make_record."""
        sid = self.new_id()
        rec = make_record(user, **fields)
        self.write(sid, rec, ttl=ttl, key=seal_key, tamper=tamper)
        return self.cookie_for(sid, cookie_key), sid

    def read_raw(self, sid):
        with self._client() as r:
            return r.call("GET", session_key(sid, self.prefix))

    def read(self, sid):
        blob = self.read_raw(sid)
        return None if blob is None else self.keyring.unseal_record(sid, blob)

    def ttl(self, sid):
        with self._client() as r:
            return r.call("TTL", session_key(sid, self.prefix))
