"""Launcher for panva's oidc-provider (t/idp/oidc_provider/server.mjs) and
helpers to drive it the way a browser would.

The npm packages are installed with `npm ci` from the committed lock file
into build/node/oidc-provider (git-ignored), once: a hash of package.json
and package-lock.json is kept there and a matching hash skips the install.
The server runs with node on a free 127.0.0.1 port and is stopped by its
PID.

    op = OidcProvider(tmp_path, redirect_uris=[cb]).start()
    s = requests.Session()
    params = browser_login(s, op.authorize_url(...), cb)
    op.stop()
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOURCE = os.path.join(HERE, "oidc_provider")
NODE_DIR = os.path.join(REPO, "build", "node", "oidc-provider")
INSTALL_FILES = ("package.json", "package-lock.json")
NPM_TIMEOUT = 600
START_TIMEOUT = 30
# oidc-provider 9 uses node:crypto APIs that Node.js 18 lacks.
NODE_MIN = (20, 19)


class OPUnavailable(RuntimeError):
    """node or npm is missing, or the install failed."""


def _free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lock_hash():
    h = hashlib.sha256()
    for name in INSTALL_FILES:
        with open(os.path.join(SOURCE, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


def ensure_installed(node_dir=NODE_DIR):
    """Installs oidc-provider into node_dir unless the same lock file was
    installed there before.  Returns node_dir.  Serialised with a file
    lock, so two test runs do not install over each other."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise OPUnavailable("%s not found (t/install-deps installs "
                                "nodejs)" % tool)
    out = subprocess.run(["node", "--version"], stdout=subprocess.PIPE,
                         timeout=30).stdout.decode().strip()
    try:
        have = tuple(int(x) for x in out.lstrip("v").split(".")[:2])
    except ValueError:
        have = (0, 0)
    if have < NODE_MIN:
        raise OPUnavailable("node %s is too old for oidc-provider 9: need "
                            ">= %d.%d" % ((out,) + NODE_MIN))
    os.makedirs(node_dir, exist_ok=True)
    want = _lock_hash()
    stamp = os.path.join(node_dir, ".lock-hash")
    with open(os.path.join(node_dir, ".install.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                have = f.read().strip()
        except FileNotFoundError:
            have = ""
        entry = os.path.join(node_dir, "node_modules", "oidc-provider",
                             "package.json")
        if have == want and os.path.exists(entry):
            return node_dir
        for name in INSTALL_FILES:
            shutil.copyfile(os.path.join(SOURCE, name),
                            os.path.join(node_dir, name))
        if os.path.exists(stamp):
            os.unlink(stamp)
        try:
            r = subprocess.run(
                ["npm", "ci", "--prefix", node_dir, "--ignore-scripts",
                 "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=node_dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=NPM_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise OPUnavailable("npm ci took over %ds" % NPM_TIMEOUT)
        if r.returncode != 0:
            raise OPUnavailable("npm ci failed:\n"
                                + r.stdout.decode(errors="replace"))
        with open(stamp, "w") as f:
            f.write(want + "\n")
    return node_dir


def _install_server(node_dir):
    """server.mjs next to node_modules, where its import resolves; written
    only when it changed, through a rename, so a running OP is not hurt."""
    src = os.path.join(SOURCE, "server.mjs")
    dst = os.path.join(node_dir, "server.mjs")
    with open(src, "rb") as f:
        data = f.read()
    try:
        with open(dst, "rb") as f:
            if f.read() == data:
                return dst
    except FileNotFoundError:
        pass
    tmp = dst + ".%d.tmp" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)
    return dst


class OidcProvider:
    """One oidc-provider process.  Two clients: client_id with
    client_secret_basic and post_client_id with client_secret_post, both
    with the same redirect URIs.  users: {id: claims}; None keeps the
    server's demo users (alice, bob, nobody)."""

    def __init__(self, directory, redirect_uris, client_id="airflow",
                 client_secret="airflow-secret", post_client_id="airflow-post",
                 post_client_secret="airflow-post-secret",
                 post_logout_redirect_uris=(), backchannel_logout_uri=None,
                 users=None, default_user=None, port=None, ttl=None):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or _free_port()
        self.client_id = client_id
        self.client_secret = client_secret
        self.post_client_id = post_client_id
        self.post_client_secret = post_client_secret
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.backchannel_logout_uri = backchannel_logout_uri
        self.users = users
        self.default_user = default_user
        self.ttl = ttl
        self.log = os.path.join(self.dir, "oidc-provider.log")
        self.proc = None

    @property
    def issuer(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def discovery_url(self):
        return self.issuer + "/.well-known/openid-configuration"

    def _env(self):
        env = dict(os.environ)
        env.update({
            "OP_PORT": str(self.port),
            "OP_CLIENT_ID": self.client_id,
            "OP_CLIENT_SECRET": self.client_secret,
            "OP_POST_CLIENT_ID": self.post_client_id,
            "OP_POST_CLIENT_SECRET": self.post_client_secret,
            "OP_REDIRECT_URIS": " ".join(self.redirect_uris),
            "OP_POST_LOGOUT_REDIRECT_URIS":
                " ".join(self.post_logout_redirect_uris),
            "OP_BACKCHANNEL_LOGOUT_URI": self.backchannel_logout_uri or "",
            "NODE_ENV": "test",
        })
        # an ASan run's preload is for nginx, not for node
        env.pop("LD_PRELOAD", None)
        if self.users is not None:
            env["OP_USERS"] = json.dumps(self.users)
        if self.default_user:
            env["OP_DEFAULT_USER"] = self.default_user
        if self.ttl:
            env["OP_TTL"] = json.dumps(self.ttl)
        return env

    def start(self):
        node_dir = ensure_installed()
        server = _install_server(node_dir)
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                ["node", server], cwd=node_dir, env=self._env(),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)
        finally:
            logf.close()
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise OPUnavailable("oidc-provider exited %d:\n%s"
                                    % (self.proc.returncode, self.log_text()))
            if self._discovery_answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise OPUnavailable("oidc-provider did not answer discovery in %ds:"
                            "\n%s" % (START_TIMEOUT, self.log_text()))

    def _discovery_answers(self):
        import urllib.request
        try:
            with urllib.request.urlopen(self.discovery_url, timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# ------------------------------------------------ driving it like a browser


def follow_until(session, url, stop_prefix, max_hops=20, method="GET",
                 data=None, trail=None):
    """Follows redirects from url until one points at stop_prefix (an RP
    URL that has no server here); returns that URL without fetching it.
    Returns the last response instead when a page answers first.  trail,
    a list, gets every URL fetched on the way."""
    for _ in range(max_hops):
        if trail is not None:
            trail.append(url)
        if method == "GET":
            r = session.get(url, allow_redirects=False, timeout=10)
        else:
            r = session.post(url, data=data, allow_redirects=False,
                             timeout=10)
        method, data = "GET", None
        if r.status_code not in (301, 302, 303, 307, 308):
            return r
        url = urllib.parse.urljoin(url, r.headers["Location"])
        if url.startswith(stop_prefix):
            return url
    raise RuntimeError("more than %d redirects" % max_hops)


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""),
                               "method": (a.get("method") or "get").lower(),
                               "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def forms_of(html):
    p = _FormParser()
    p.feed(html)
    return p.forms


def submit_first_form(session, response, stop_prefix):
    """Does what the page's auto-submit script does: posts its one form,
    then follows redirects until stop_prefix (see follow_until)."""
    forms = forms_of(response.text)
    if not forms:
        raise RuntimeError("no form on page %s" % response.url)
    f = forms[0]
    action = urllib.parse.urljoin(response.url, f["action"])
    return follow_until(session, action, stop_prefix, method="POST",
                        data=f["fields"])
