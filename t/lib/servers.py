"""Throwaway servers for the integration suites.  Each one gets its own free
loopback port and its own directory, and is stopped by its PID."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NGINX = "/usr/sbin/nginx"
REDIS_SERVER = "redis-server"
REDIS_CLI = "redis-cli"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Stops one process we started, by its PID only."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGCONT)
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_for(pred, timeout=10.0, interval=0.05):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- Redis


class Redis:
    def __init__(self, directory, port=None, password=None):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.password = password
        self.proc = None
        self.log = os.path.join(self.dir, "redis.log")

    @property
    def url(self):
        if self.password is not None:
            return "redis://:%s@127.0.0.1:%d/0" % (self.password, self.port)
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--bind", "127.0.0.1",
                "--dir", self.dir, "--logfile", self.log]
        if self.password is not None:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        ok = wait_for(lambda: self.proc.poll() is not None
                      or self._ping(), timeout=10)
        if self.proc.poll() is not None or not ok:
            raise RuntimeError("redis-server did not start:\n"
                               + self._logtail())
        return self

    def _ping(self):
        if not port_open(self.port):
            return False
        try:
            return self.cli("PING") == "PONG"
        except Exception:
            return False

    def _logtail(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def stop(self):
        stop_process(self.proc)

    def kill(self):
        """SIGKILL: Redis vanishes without closing anything politely."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args, check=True):
        cmd = [REDIS_CLI, "-p", str(self.port)]
        if self.password is not None:
            cmd += ["-a", self.password, "--no-auth-warning"]
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError("redis-cli %s: %s" % (args, r.stderr))
        return r.stdout.rstrip("\n")

    def commandstats(self):
        """{command: calls} from INFO commandstats."""
        stats = {}
        for line in self.cli("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
            if m:
                stats[m.group(1)] = int(m.group(2))
        return stats

    def calls(self, command):
        return self.commandstats().get(command.lower(), 0)


# ---------------------------------------------------------------- upstream


class _UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body": body.decode("utf-8", "replace")}
        self.server.owner._record(rec)
        out = json.dumps(rec).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
    do_OPTIONS = _handle


class UpstreamRequest(dict):
    """What the upstream saw: method, path, headers [[name, value], ...]."""

    def header_all(self, name):
        return [v for n, v in self["headers"] if n.lower() == name.lower()]

    def header(self, name, default=None):
        vals = self.header_all(name)
        return vals[0] if vals else default

    def names(self):
        return [n for n, _ in self["headers"]]


class Upstream:
    def __init__(self):
        self.port = free_port()
        self.requests = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port),
                                          _UpstreamHandler)
        self.server.daemon_threads = True
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _record(self, rec):
        with self._lock:
            self.requests.append(UpstreamRequest(rec))

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def clear(self):
        with self._lock:
            self.requests.clear()

    def last(self):
        with self._lock:
            return self.requests[-1] if self.requests else None

    def count(self):
        with self._lock:
            return len(self.requests)


# ---------------------------------------------------------------- nginx


TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

CONF_TEMPLATE = """\
load_module {module};
{user}
worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;

events {{
    worker_connections 256;
}}

http {{
    access_log {prefix}/access.log;
{temp_paths}
    default_type application/octet-stream;

{http}

{servers}
}}
"""


class Nginx:
    """One nginx under its own prefix.

    http: http-level directives; server: a server block, or the body of one
    (then it is wrapped in `server { listen 127.0.0.1:@port@; ... }`).
    Tokens @port@, @prefix@, @upstream@, @redis@, @secret_file@ and any
    given in subst are replaced in both."""

    def __init__(self, prefix, module_path, http="", server="", subst=None,
                 env=None, san=False):
        self.prefix = str(prefix)
        os.makedirs(self.prefix, exist_ok=True)
        for t in TEMP_PATHS:
            os.makedirs(os.path.join(self.prefix, "tmp", t), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        self.module_path = module_path
        self.port = free_port()
        self.subst = {"port": str(self.port), "prefix": self.prefix}
        self.subst.update(subst or {})
        self.san = san
        self.env = dict(os.environ)
        self.env.update(env or {})
        if san:
            libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                                     capture_output=True, text=True
                                     ).stdout.strip()
            self.env["LD_PRELOAD"] = libasan
            self.env["ASAN_OPTIONS"] = (
                "detect_leaks=0:log_path=%s/asan:abort_on_error=0"
                % self.prefix)
            self.env["UBSAN_OPTIONS"] = (
                "print_stacktrace=1:log_path=%s/ubsan" % self.prefix)
        self.conf_path = os.path.join(self.prefix, "nginx.conf")
        self.proc = None
        self.http = http
        self.server = server
        self.write_config()

    # -- configuration

    def render(self, http=None, server=None):
        http = self.http if http is None else http
        server = self.server if server is None else server
        if not re.search(r"^\s*server\s*\{", server, re.M):
            server = ("    server {\n        listen 127.0.0.1:@port@;\n"
                      + server + "\n    }\n")
        temp = "\n".join("    %s_temp_path %s/tmp/%s;" % (t, self.prefix, t)
                         for t in TEMP_PATHS)
        text = CONF_TEMPLATE.format(
            module=self.module_path,
            user="user root;" if os.geteuid() == 0 else "",
            prefix=self.prefix, temp_paths=temp, http=http, servers=server)
        for k, v in self.subst.items():
            text = text.replace("@%s@" % k, str(v))
        left = re.findall(r"@(port|prefix|upstream|redis|secret_file)@", text)
        if left:
            raise ValueError("unresolved config tokens: %s" % left)
        return text

    def write_config(self, http=None, server=None):
        if http is not None:
            self.http = http
        if server is not None:
            self.server = server
        self.config = self.render()
        with open(self.conf_path, "w") as f:
            f.write(self.config)

    def test_config(self, conf=None):
        """Runs nginx -t on conf (full text; default: the current config).
        Returns (returncode, combined output)."""
        path = self.conf_path
        if conf is not None:
            path = os.path.join(self.prefix, "test.conf")
            with open(path, "w") as f:
                f.write(conf)
        r = subprocess.run([NGINX, "-t", "-q", "-p", self.prefix, "-c", path,
                            "-e", "stderr"], capture_output=True, text=True,
                           env=self.env, timeout=30, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout + r.stderr

    # -- process

    def start(self, timeout=10):
        self.stderr_path = os.path.join(self.prefix, "stderr.log")
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.prefix, "-c", self.conf_path,
             "-e", os.path.join(self.prefix, "startup.log"),
             "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr, env=self.env)
        ok = wait_for(lambda: self.proc.poll() is not None
                      or port_open(self.port), timeout=timeout)
        if self.proc.poll() is not None or not ok:
            out = self.startup_output()
            self.stop()
            raise RuntimeError("nginx did not start (rc=%s):\n%s"
                               % (self.proc.returncode, out))
        wait_for(lambda: self.workers(), timeout=timeout)
        return self

    def startup_output(self):
        out = []
        for name in ("stderr.log", "startup.log", "error.log"):
            try:
                with open(os.path.join(self.prefix, name)) as f:
                    out.append("== %s\n%s" % (name, f.read()[-6000:]))
            except OSError:
                pass
        return "\n".join(out)

    def workers(self):
        """PIDs of the master's children (the worker processes)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            with open("/proc/%d/task/%d/children"
                      % (self.proc.pid, self.proc.pid)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def reload(self, http=None, server=None, timeout=10):
        """Rewrites the config if asked, sends SIGHUP and waits until a new
        worker runs and the old ones have gone.  Returns True when a new
        worker came up (False means nginx rejected the new config)."""
        if http is not None or server is not None:
            self.write_config(http, server)
        old = set(self.workers())
        os.kill(self.proc.pid, signal.SIGHUP)
        fresh = wait_for(lambda: set(self.workers()) - old, timeout=timeout)
        if not fresh:
            return False
        wait_for(lambda: not (set(self.workers()) & old), timeout=timeout)
        return True

    def stop(self):
        stop_process(self.proc)
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def all_logs(self):
        """Every log file under the prefix, for the secrets check."""
        out = []
        for root, _, files in os.walk(self.prefix):
            for name in files:
                if name.endswith(".log") or name.startswith(("asan", "ubsan")):
                    try:
                        with open(os.path.join(root, name),
                                  errors="replace") as f:
                            out.append((name, f.read()))
                    except OSError:
                        pass
        return out

    def sanitizer_reports(self):
        reports = []
        for name in sorted(os.listdir(self.prefix)):
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(self.prefix, name),
                          errors="replace") as f:
                    reports.append((name, f.read()))
        return reports
