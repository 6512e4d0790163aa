"""End-to-end harness: the real vigild and the portal simulator on loopback.

Every process is started here on ephemeral ports and stopped by PID in
tearDown; a test never talks to anything but 127.0.0.1. VIGIL_BUILD names
the build directory (build/ or build/san/), so the same tests run against
the plain and the sanitizer builds. Under the sanitizers a leak or an error
makes vigild exit non-zero at SIGTERM, which every test checks.
VIGIL_VALGRIND=1 runs every vigild under valgrind memcheck instead: an
error or a definite or indirect leak makes it exit 97 and is written to a
report in VIGIL_VALGRIND_LOGS (make check-valgrind; run.py judges those).
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("VIGIL_BUILD", "build"))
VIGILD = os.path.join(BUILD, "vigild")
SIM = os.path.join(BUILD, "portal-sim")
# With -q memcheck writes nothing unless it finds something, so a
# non-empty report in VIGIL_VALGRIND_LOGS is a memory error, a leak or a
# crash: run.py's verdict for the valgrind pass (see run.py).
VALGRIND_LOGS = os.environ.get("VIGIL_VALGRIND_LOGS") or tempfile.gettempdir()
VALGRIND = ("valgrind", "-q", "--error-exitcode=97", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
            "--track-fds=no", f"--log-file={VALGRIND_LOGS}/vigild.%p.memcheck",
            # Renderings made aside in a forked child (api_aside.c) end
            # with _exit(), their memory never freed: not a leak.
            "--child-silent-after-fork=yes"
            ) if os.environ.get("VIGIL_VALGRIND") == "1" else ()
# Under valgrind vigild runs some 20 times slower, under ASan/UBSan
# (build/san) two to three times: deadlines of waits for it stretch (waits
# end at their condition, so only a failure takes longer).
SANITIZED = os.path.basename(os.path.normpath(BUILD)) == "san"
SLOW = 4 if VALGRIND else 2 if SANITIZED else 1
# For the few tests whose assertions are about timing that valgrind's
# slowdown breaks; their memory is exercised by the rest of the run.
TIMING_SKIP = "timing assertions; not under valgrind"
timing_sensitive = unittest.skipIf(bool(VALGRIND), TIMING_SKIP)
# Assertions on lateness and run counts hold only at full speed: under
# valgrind they are skipped and the rest of the test still runs.
TIMING = not VALGRIND


def write_secret(path, text):
    """A secret file as vigild wants it: its owner's only (0600); vigild
    and vigilctl refuse one its group or others may read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w") as f:
        f.write(text)
    return path


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=5.0 * SLOW):
    """(status, headers, body bytes); HTTP errors are answers, not raises."""
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate until it returns a true value, and returns that value.

    The deadline is timeout * SLOW seconds: pass the time the condition
    needs at full speed. An OSError, ValueError or KeyError from predicate
    (vigild not answering yet, a half-written file, a name not there yet)
    counts as "not yet"; an AssertionError (vigild died) ends the wait. On
    timeout the test fails, saying what was awaited and the last value seen.
    """
    end = time.monotonic() + timeout * SLOW
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() >= end:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout * SLOW:g}s waiting for {what} "
                         f"(last: {last!r})")


def wait_for(pred, timeout, step=0.05, what="condition"):
    """wait_until under its older name and argument order (step is interval)."""
    return wait_until(pred, timeout, what, interval=step)


class Sim:
    """One portal simulator process."""

    def __init__(self, workdir, name="sim", args=()):
        self.portfile = os.path.join(workdir, f"{name}.port")
        self.log = open(os.path.join(workdir, f"{name}.log"), "wb")
        self.proc = subprocess.Popen([SIM, "--port", "0", "--port-file", self.portfile, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(wait_until(lambda: open(self.portfile).read().strip(), 10,
                                   "simulator port file"))
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def scenario(self, name, **params):
        q = "&".join(f"{k}={v}" for k, v in params.items())
        status, _, body = http("POST", self.url(f"/_sim/scenario/{name}" + (f"?{q}" if q else "")), b"")
        assert status == 200, (status, body)

    def stats(self):
        return json.loads(http("GET", self.url("/_sim/stats"))[2])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Vigild:
    """One vigild process with a config written into workdir."""

    def __init__(self, workdir, config, name="vigild", check_ready=True, wrap=(), extra_env=None,
                 journal=False):
        """extra_env: more environment variables; journal: stderr is "journald"
        (JOURNAL_STREAM names the log file, as systemd names its stream)."""
        self.workdir = workdir
        self.port = free_port()
        self.config_path = os.path.join(workdir, f"{name}.json")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.write_config(config)
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(k, None)
        if journal:
            st = os.fstat(self.log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        env.update(extra_env or {})
        self.proc = subprocess.Popen([*wrap, *VALGRIND, VIGILD, "-c", self.config_path,
                                      "--log-level", "debug"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        if check_ready:
            # SLOW twice, as before: start-up (loading, instrumenting) is where
            # valgrind is slowest.
            wait_until(self.alive, 15 * SLOW, "vigild to answer /health")

    def write_config(self, config):
        """config is a dict (api.listen filled in) or raw text."""
        if isinstance(config, dict):
            config = dict(config)
            config.setdefault("api", {})["listen"] = f"127.0.0.1:{self.port}"
            config = json.dumps(config, indent=2)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(config)
        os.rename(tmp, self.config_path)

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"vigild exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return http("GET", self.base + "/health", timeout=2)[0] in (200, 503)
        except OSError:
            return False

    def get(self, path, method="GET", body=None):
        return http(method, self.base + path, body)

    def metrics(self):
        """/metrics, asserted clean under `promtool check metrics`."""
        s, _, b = self.get("/metrics")
        assert s == 200, (s, b[:200])
        text = b.decode()
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        assert (r.returncode, r.stdout + r.stderr) == (0, ""), (r.stdout + r.stderr, text[-3000:])
        return text

    def metrics_showing(self, text, timeout=10):
        """/metrics once it shows text. It is a shared rendering, renewed
        a moment after what moved it (api_cache.c): a count that just
        changed shows in a later one."""
        seen = {}

        def shows():
            seen["m"] = self.metrics()
            return text in seen["m"]
        try:
            wait_for(shows, timeout, what=f"/metrics showing {text!r}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last seen:\n{seen.get('m', '')[-3000:]}") from None
        return seen["m"]

    def status(self):
        s, _, b = self.get("/status")
        assert s == 200, (s, b)
        return json.loads(b)

    def probe(self, name):
        for p in self.status()["probes"]:
            if p["name"] == name:
                return p
        raise KeyError(name)

    def notifier(self, name, timeout=5, **want):
        """The notifier named, once its counters equal want (sent=1, queued=0...).

        A receiver records a delivery before vigild has read its answer and
        counted it, so the counters are awaited, not read once. On timeout
        the test fails showing the notifier as last seen.
        """
        seen = {}

        def settled():
            seen["n"] = next(n for n in self.status()["notifiers"] if n["name"] == name)
            return all(seen["n"].get(k) == v for k, v in want.items())
        try:
            wait_until(settled, timeout, f"notifier {name} at {want}")
        except AssertionError as e:
            raise AssertionError(f"{e}; notifier as last seen: {seen.get('n')}") from None
        return seen["n"]

    def rule(self, name, status=None):
        for r in (status or self.status())["rules"]:
            if r["name"] == name:
                return r
        raise KeyError(name)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self, word):
        """The log's lines that hold word: on failure, the lines, not the
        whole log."""
        return [line for line in self.log_text().splitlines() if word in line]

    def memcheck_report(self):
        """What memcheck wrote of this vigild (empty unless VIGIL_VALGRIND)."""
        if not VALGRIND:
            return ""
        try:
            with open(os.path.join(VALGRIND_LOGS, f"vigild.{self.proc.pid}.memcheck")) as f:
                return "\nmemcheck:\n" + f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; returns the exit code (0 is a clean stop, leaks included)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                raise AssertionError("vigild did not stop within 20 s of SIGTERM")
        self.log.close()
        return self.proc.returncode


class E2E(unittest.TestCase):
    """Base class: a temp dir, and every process started is stopped."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="vigil-e2e-")
        self.workdir = self.tmp.name
        self.sims = []
        self.vigilds = []

    def tearDown(self):
        failed = []
        for v in self.vigilds:
            rc = v.stop()
            if rc != 0:
                failed.append(f"vigild exited {rc} on SIGTERM:\n{v.log_text()[-4000:]}"
                              + v.memcheck_report())
        for s in self.sims:
            s.stop()
        self.tmp.cleanup()
        if failed:
            self.fail("\n".join(failed))

    def sim(self, name="sim", args=()):
        s = Sim(self.workdir, name, args)
        self.sims.append(s)
        return s

    def vigild(self, config, **kw):
        v = Vigild(self.workdir, config, **kw)
        self.vigilds.append(v)
        return v


def http_probe(name, url, interval="500ms", timeout="2s", **extra):
    p = {"name": name, "type": "http", "url": url, "interval": interval, "timeout": timeout}
    p.update(extra)
    return p


class LoopbackPosts:
    """A loopback HTTP server in a thread of the test process, for the
    receivers vigild posts to: each POST's path, headers and raw body go
    to answer(), which says (status, body, headers) in return. stop()
    ends it. Subclasses record what they need."""

    def __init__(self, path="/"):
        import http.server
        import threading

        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                status, body, headers = outer.answer(self.path, dict(self.headers),
                                                     self.rfile.read(n))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + path
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path, headers, raw):
        raise NotImplementedError

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver(LoopbackPosts):
    """Records every POST of JSON (in arrival order).

    set_status(503) makes it refuse deliveries; set_status(200) accepts
    again. delay (seconds) holds each answer that long after the POST is
    recorded: a receiver slow to answer.
    """

    def __init__(self):
        self.received = []
        self.status = 200
        self.delay = 0.0
        super().__init__("/hook")

    def answer(self, path, headers, raw):
        with self.lock:
            status = self.status
            if status == 200:
                self.received.append({"path": path, "headers": headers,
                                      "body": json.loads(raw)})
            delay = self.delay
        if delay:
            time.sleep(delay)  # a sleep: the slow receiver itself
        return status, b"", None

    def set_status(self, status):
        with self.lock:
            self.status = status

    def bodies(self):
        with self.lock:
            return [r["body"] for r in self.received]
