"""Text a stranger wrote, carried by vigild to a person (issue #26): a
target that answers with terminal escapes, C1 controls and Slack markup in
the value vigild quotes, and an API client that puts escapes in a silence
comment. What reaches vigild's log, vigilctl's terminal output and its
--json output must show them as inert escapes: no ESC, no BEL, no CSI
(U+009B), no forged line; a silence comment with them is refused.
"""
import http.server
import json
import os
import subprocess
import threading
import urllib.error
import urllib.request

from harness import BUILD, E2E, WebhookReceiver, http_probe, timing_sensitive, wait_for
from reader import READER

VIGILCTL = os.path.join(BUILD, "vigilctl")
TOKEN = "hostile-token-5d1f0c2b7e"
ESC, BEL, CSI = "\x1b", "\x07", "\u009b"
EVIL = f"{ESC}[31mdown{ESC}]0;pwned{BEL} {CSI}2J <!channel> <https://evil.example/|ACK HERE>"


class Target:
    """A loopback target whose /status value is hostile."""

    def __init__(self, status):
        body = json.dumps({"status": status}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/health"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def raw(text):
    """The bytes that must never pass: ESC, BEL, CSI (as UTF-8)."""
    return [c for c in (ESC, BEL, CSI) if c in text]


class Escapes(E2E):
    def setUp(self):
        super().setUp()
        self.target = Target(EVIL)
        self.addCleanup(self.target.stop)
        tok = os.path.join(self.workdir, "api.token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(tok, 0o600)
        self.v = self.vigild({"api": {"token_file": tok},
                              "probes": [http_probe("web", self.target.url, interval="200ms",
                                                    expect={"json": {"/status": "ok"}})]})
        wait_for(lambda: self.v.probe("web")["state"] == "down", 10,
                 what="the probe down with the target's words as its reason")

    def ctl(self, *args):
        r = subprocess.run([VIGILCTL, "--url", self.v.base, "--no-color", *args],
                           capture_output=True, timeout=30)
        return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

    def test_reason_reaches_the_terminal_escaped(self):
        rc, out, err = self.ctl("status")
        self.assertIn("web", out)
        self.assertEqual(raw(out + err), [], out)
        # Shown, not dropped: the C1 control as its bytes' escapes.
        self.assertIn("\\xc2\\x9b2J", out)

    def test_json_output_stays_json_and_inert(self):
        rc, out, err = self.ctl("status", "--json")
        self.assertEqual(raw(out), [])
        doc = json.loads(out)
        web = [p for p in doc["probes"] if p["name"] == "web"][0]
        # The escape is JSON's own: a reader that decodes gets the text back.
        self.assertIn(CSI + "2J", web["last_run"]["reason"])

    def test_metrics_carry_nothing_raw(self):
        # /metrics carries no outside words (a reason is not a label), and
        # its labels are the configuration's names, escaped as Prometheus
        # wants: nothing of the target's reaches it raw.
        body = self.v.metrics()
        self.assertIn('vigil_probe_up{probe="web"} 0', body)
        self.assertEqual(raw(body), [])
        self.assertNotIn("channel", body)

    def test_log_carries_escapes(self):
        wait_for(lambda: "event=probe_down probe=web" in self.v.log_text(), 10,
                 what="probe_down logged")
        with open(self.v.log_path, "rb") as f:
            log = f.read()
        for b in (b"\x1b", b"\x07", b"\xc2\x9b"):
            self.assertNotIn(b, log)
        self.assertIn(b"\\xc2\\x9b2J", log)

    def test_silence_comment_with_escapes_refused(self):
        body = json.dumps({"rule": "web_down", "author": "mallory", "duration": "1h",
                           "comment": f"fine{ESC}[2J{ESC}]0;owned{BEL}\nforged line"}).encode()
        req = urllib.request.Request(self.v.base + "/silences", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        why = json.loads(cm.exception.read())["error"]
        self.assertIn("comment", why)
        self.assertIn("control characters", why)
        rc, out, err = self.ctl("silence", "list")
        self.assertNotIn("mallory", out)

    def test_quotes_in_a_silence_stay_inside_their_log_field(self):
        # Quotes are fair in a comment; in the log they must not end the
        # field that carries them and forge fields of their own.
        body = json.dumps({"rule": "web_down", "author": 'bo" rule=other x="',
                           "duration": "1h",
                           "comment": 'INC-1" event=forged probe="web \\'}).encode()
        req = urllib.request.Request(self.v.base + "/silences", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 201)
        line = wait_for(lambda: self.v.log_lines("event=silence_added"), 10,
                        what="silence logged")[0]
        self.assertIn(r'author="bo\" rule=other x=\"" comment="INC-1\" event=forged '
                      r'probe=\"web \\"', line)


class SlackSink(E2E):
    """The built-in <probe>_down alert quoting the hostile value, to Slack."""

    def test_no_mention_no_link_from_data(self):
        target = Target(EVIL)
        self.addCleanup(target.stop)
        rcv = WebhookReceiver()
        self.addCleanup(rcv.stop)
        self.vigild({"probes": [http_probe("web", target.url, interval="200ms",
                                           expect={"json": {"/status": "ok"}})],
                     "notifiers": [{"name": "slack", "type": "webhook", "url": rcv.url,
                                    "format": "slack", "rules": ["web_down"]}]})
        bodies = wait_for(lambda: rcv.bodies(), 20, what="a Slack message")
        texts = [bodies[0]["text"], bodies[0]["blocks"][0]["text"]["text"]]
        for t in texts:
            self.assertNotIn("<!channel>", t)
            self.assertNotIn("<https://evil", t)
            self.assertIn("&lt;!channel&gt;", t)
        self.assertIs(bodies[0]["unfurl_links"], False)


class ApiInput(E2E):
    """What a client hands the API to be shown to people is checked at the
    door: a clear 400 naming the field, and nothing stored."""

    def setUp(self):
        super().setUp()
        self.target = Target("ok")
        self.addCleanup(self.target.stop)
        tok = os.path.join(self.workdir, "api.token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(tok, 0o600)
        self.v = self.vigild({
            "api": {"token_file": tok},
            "probes": [http_probe("web", self.target.url, interval="200ms",
                                  metrics={"p95_ms": "/p95"})],
            "rules": [{"name": "p95", "metric": "web.p95_ms", "op": ">", "warn": 500}],
            "release": {"warmup": "0s", "interval": "1s", "checks": [{"rule": "p95"}]}})

    def post(self, path, body):
        req = urllib.request.Request(self.v.base + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_deploy_versions_checked(self):
        for bad in ["1.0\nevent=forged", f"1.0{ESC}[31m", f"1.0{CSI}", '1.0" event=x',
                    "1.0 x", "a\\b", "", "v" * 64]:
            status, doc = self.post("/deploys", {"action": "begin", "version": bad})
            self.assertEqual(status, 400, (bad, doc))
            self.assertIn('"version"', doc["error"])
        self.assertEqual(json.loads(self.v.get("/deploys")[2])["deploys"], [])
        status, doc = self.post("/deploys", {"action": "begin", "version": "v2026.12.02-rc1+é"})
        self.assertEqual(status, 201, doc)

    def test_invalid_utf8_comment_refused(self):
        body = (b'{"rule": "p95", "author": "ana", "duration": "1h", '
                b'"comment": "bad \xff\xfe bytes"}')
        req = urllib.request.Request(self.v.base + "/silences", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertIn('"comment" is not valid UTF-8', json.loads(cm.exception.read())["error"])
        # Every answer stays JSON.
        for path in ("/status", "/alerts", "/silences"):
            json.loads(self.v.get(path)[2])


class ReaderFlood(E2E):
    """Readers without a token hammering every read endpoint, with 1,000
    silences and 1,000 probes to render: every /health and /livez is
    answered, and the readers share renderings instead of each paying for
    one (issue #26). The /health latency is printed, not asserted: on a
    shared machine it measures the neighbours (bench/ measures it)."""

    def metric(self, v, name):
        for line in v.metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        self.fail(f"no {name}")

    @timing_sensitive
    def test_readers_cannot_starve_the_loop(self):
        import statistics
        import sys
        import time
        from harness import SLOW, http
        target = Target("ok")
        self.addCleanup(target.stop)
        tok = os.path.join(self.workdir, "api.token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(tok, 0o600)
        probes = [http_probe("tick", target.url, interval="200ms", timeout="1s")]
        probes += [http_probe(f"p{i:04d}", target.url, interval="30s", timeout="5s")
                   for i in range(999)]
        v = self.vigild({"api": {"token_file": tok}, "probes": probes})
        for i in range(1000):
            req = urllib.request.Request(
                v.base + "/silences", method="POST",
                data=json.dumps({"rule": f"p{i % 999:04d}_down", "author": "ops",
                                 "comment": f"maintenance {i}", "duration": "2h"}).encode(),
                headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
                self.assertEqual(r.status, 201)
        wait_for(lambda: v.probe("tick")["runs"] >= 3, 10, what="a few runs")
        renders0 = self.metric(v, "vigil_http_status_renders_total")
        secs = 10
        paths = ",".join(["/alerts", "/silences", "/status", "/metrics", "/"] * 2)
        readers = [subprocess.Popen([sys.executable, "-c", READER, str(v.port), str(secs), paths],
                                    stdout=subprocess.PIPE, text=True) for _ in range(2)]
        times, livez = [], []
        try:
            end = time.monotonic() + secs
            while time.monotonic() < end:
                t = time.monotonic()
                status = http("GET", v.base + "/health", timeout=5 * SLOW)[0]
                times.append((time.monotonic() - t) * 1000)
                self.assertIn(status, (200, 503))
                livez.append(http("GET", v.base + "/livez", timeout=5 * SLOW)[0])
                time.sleep(0.02)
        finally:
            served = sum(int(r.communicate(timeout=60)[0] or 0) for r in readers)
        renders = self.metric(v, "vigil_http_status_renders_total") - renders0
        times.sort()
        p99 = times[max(0, int(len(times) * 0.99) - 1)]
        print(f"\n    reader flood: {served} reads in {secs} s, /status rendered {renders:.0f} "
              f"times; /health p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, "
              f"max {times[-1]:.1f} ms over {len(times)}", end=" ", file=sys.stderr)
        self.assertGreater(served, 50, "the readers were served")
        self.assertEqual(set(livez), {200})
        # A fifth of the reads are /status; far fewer renderings than that.
        self.assertLess(renders, served / 5 / 4)
        # At 1,000 probes a rendering is dear, so it is renewed behind its
        # readers, in a forked child (api_aside.c): what they get is whole
        # and correct, and it moves on with the clock.
        made = []
        for _ in range(4):
            doc = json.loads(v.get("/status")[2])
            self.assertEqual(len(doc["probes"]), 1000)
            made.append(doc["vigild"]["now"])
            metrics = v.metrics()
            self.assertIn('vigil_probe_up{probe="p0998"} 1', metrics)
            self.assertTrue(metrics.endswith("\n"))
            time.sleep(0.6)
        self.assertGreater(len(set(made)), 1, made)
        self.assertEqual(v.log_lines("render_aside_failed"), [])


class StateFileLinks(E2E):
    """Whoever can write the state directory cannot make vigild (often
    root) overwrite or read another file through a symbolic link."""

    def test_links_in_the_state_dir_are_not_followed(self):
        target = Target("ok")
        self.addCleanup(target.stop)
        state = os.path.join(self.workdir, "state")
        os.mkdir(state, 0o700)
        victim = os.path.join(self.workdir, "victim")
        with open(victim, "w") as f:
            f.write('{"version": 1, "precious": true}\n')
        os.symlink(victim, os.path.join(state, ".state.json.tmp"))
        os.symlink(victim, os.path.join(state, "state.json"))
        v = self.vigild({"state_dir": state,
                         "probes": [http_probe("web", target.url, interval="200ms")]})
        wait_for(lambda: v.status()["state_file"]["writes"] >= 2, 15,
                 what="two state writes")
        with open(victim) as f:
            self.assertEqual(f.read(), '{"version": 1, "precious": true}\n')
        path = os.path.join(state, "state.json")
        self.assertFalse(os.path.islink(path))
        with open(path) as f:
            self.assertIn('"version"', f.read())
        self.assertFalse(os.path.lexists(os.path.join(state, ".state.json.tmp")))
        self.assertIn("event=state_file_unreadable", v.log_text())
        self.assertIn("a symbolic link", v.log_text())

    def test_a_state_dir_others_can_write_is_not_used(self):
        # Whoever can write it could plant a state file: silences that
        # mute alerts, told notices that hold back pages. Refused at start
        # (logged, in /status), and polling goes on.
        target = Target("ok")
        self.addCleanup(target.stop)
        state = os.path.join(self.workdir, "state")
        os.mkdir(state)
        os.chmod(state, 0o777)
        planted = json.dumps({"version": 2, "silences": [{"id": 1, "rule": "web_down",
                                                          "author": "x", "comment": "y"}]})
        with open(os.path.join(state, "state.json"), "w") as f:
            f.write(planted)
        v = self.vigild({"state_dir": state, "state_interval": "1s",
                         "probes": [http_probe("web", target.url, interval="200ms")]})
        wait_for(lambda: v.status()["state_file"]["failures"] >= 2, 15,
                 what="saves refused")
        sf = v.status()["state_file"]
        self.assertEqual(sf["writes"], 0)
        self.assertIn("writable by others (mode 0777)", sf["last_error"])
        self.assertIn("event=state_dir_unsafe", v.log_text())
        self.assertNotIn("event=state_restored", v.log_text())
        with open(os.path.join(state, "state.json")) as f:
            self.assertEqual(f.read(), planted)
        self.assertEqual(v.probe("web")["state"], "up")
        self.assertEqual(v.get("/health")[0], 200)


class HostNames(E2E):
    """A web page that makes its own name resolve to 127.0.0.1 (DNS
    rebinding) gets nothing from vigild: it answers only the names it is
    known by."""

    def get(self, v, path, host):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
        try:
            c.putrequest("GET", path, skip_host=True)
            c.putheader("Host", host)
            c.endheaders()
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def test_loopback_answers_its_own_names_only(self):
        target = Target("ok")
        self.addCleanup(target.stop)
        v = self.vigild({"probes": [http_probe("web", target.url, interval="500ms")]})
        for host in (f"127.0.0.1:{v.port}", f"localhost:{v.port}", "LocalHost"):
            self.assertEqual(self.get(v, "/status", host)[0], 200, host)
        for host in ("evil.example", f"rebind.evil.example:{v.port}"):
            for path in ("/status", "/metrics", "/alerts", "/"):
                status, body = self.get(v, path, host)
                self.assertEqual(status, 421, (host, path))
                self.assertIn(b"allowed_hosts", body)
                self.assertNotIn(b"web", body)

    def test_allowed_hosts_configured(self):
        target = Target("ok")
        self.addCleanup(target.stop)
        v = self.vigild({"api": {"allowed_hosts": ["vigil.example.com"]},
                         "probes": [http_probe("web", target.url, interval="500ms")]},
                        check_ready=False)
        wait_for(lambda: self.get(v, "/health", "vigil.example.com")[0] in (200, 503), 15,
                 what="vigild to answer by its configured name")
        self.assertEqual(self.get(v, "/status", "VIGIL.example.com:443")[0], 200)
        self.assertEqual(self.get(v, "/status", f"127.0.0.1:{v.port}")[0], 421)


class Recorder:
    """A loopback server that records each request's headers; /go redirects
    (to the location given at start), anything else answers ok."""

    def __init__(self, location=None, code=302):
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                outer.seen.append((self.command, self.path, dict(self.headers)))
                if self.path.startswith("/go") and location is not None:
                    self.send_response(code)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"status": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Redirects(E2E):
    """With follow_redirects on, a probe's custom headers (credentials,
    often) reach the configured origin only, never a host a redirect
    names."""

    def test_custom_headers_stay_with_their_origin(self):
        other = Recorder()
        self.addCleanup(other.stop)
        home = Recorder(location=other.base + "/landing")
        self.addCleanup(home.stop)
        same = Recorder(location="/landing")
        self.addCleanup(same.stop)
        v = self.vigild({"probes": [
            http_probe("cross", home.base + "/go", interval="300ms", follow_redirects=True,
                       headers={"X-Api-Key": "key-7d1e0b9c44"}),
            http_probe("same", same.base + "/go", interval="300ms", follow_redirects=True,
                       headers={"X-Api-Key": "key-7d1e0b9c44"}),
        ]})
        wait_for(lambda: v.probe("cross")["state"] == "up" and v.probe("same")["state"] == "up",
                 10, what="both probes up through their redirects")
        self.assertTrue(home.seen and other.seen and same.seen)
        self.assertEqual({h.get("X-Api-Key") for _, _, h in home.seen}, {"key-7d1e0b9c44"})
        self.assertEqual([p for _, p, h in other.seen if "X-Api-Key" in h], [])
        self.assertTrue(all(p == "/landing" for _, p, _ in other.seen))
        # Same origin: the header follows, as it should.
        self.assertEqual({h.get("X-Api-Key") for _, p, h in same.seen if p == "/landing"},
                         {"key-7d1e0b9c44"})
        self.assertIn("custom headers were not sent there",
                      v.probe("cross")["last_run"].get("notes", ""))


class IdleSockets(E2E):
    """Sockets that connect and say nothing, however many and however
    quickly reopened, cannot keep /health from being answered: idle
    connections give way to new ones (per address and in all)."""

    def setUp(self):
        super().setUp()
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        self.target = Target("ok")
        self.addCleanup(self.target.stop)
        self.v = self.vigild({"probes": [http_probe("web", self.target.url,
                                                    interval="500ms")]})

    def open_idle(self, addrs, n):
        import socket
        socks = []
        for i in range(n):
            s = socket.socket()
            socks.append(s)
            s.bind((addrs[i % len(addrs)], 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", self.v.port))
        return socks

    def health_answers(self, n):
        from harness import SLOW, http
        ok = 0
        for _ in range(n):
            try:
                ok += http("GET", self.v.base + "/health", timeout=5 * SLOW)[0] in (200, 503)
            except OSError:
                pass
        return ok

    def test_a_new_connection_has_time_to_ask(self):
        # A client connects, and before its request arrives its address
        # fills its share with idle sockets: it must not be the one taken
        # for idle and closed (it was the oldest idle one).
        import socket
        first = socket.create_connection(("127.0.0.1", self.v.port), 5)
        self.addCleanup(first.close)
        socks = self.open_idle(["127.0.0.1"], 32)
        self.addCleanup(lambda: [s.close() for s in socks])
        first.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n")
        first.settimeout(10)
        got = b""
        while True:
            b = first.recv(4096)
            if not b:
                break
            got += b
        self.assertRegex(got[:12], rb"^HTTP/1\.1 (200|503)")

    def test_silent_connections_over_the_share_go_after_the_grace(self):
        # 40 sockets from one address, none asking anything: the 8 over
        # the share of 32 are closed once their grace (2 s) is over.
        socks = self.open_idle(["127.0.0.1"], 40)
        self.addCleanup(lambda: [s.close() for s in socks])

        def closed():
            n = 0
            for s in socks:
                s.setblocking(False)
                try:
                    n += s.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    n += 1
            return n
        wait_for(lambda: closed() >= 8, timeout=20,
                 what="the sockets over the share closed")
        self.assertEqual(self.health_answers(5), 5)

    def test_same_address_reconnecting_idle_sockets(self):
        import socket
        stop = threading.Event()
        socks = self.open_idle(["127.0.0.1"], 40)

        def reopen():
            # Whatever vigild drops comes straight back, idle again.
            while not stop.is_set():
                for i, s in enumerate(socks):
                    try:
                        s.setblocking(False)
                        if s.recv(1) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        continue
                    except OSError:
                        pass
                    s.close()
                    n = socket.socket()
                    try:
                        n.bind(("127.0.0.1", 0))
                        n.settimeout(5)
                        n.connect(("127.0.0.1", self.v.port))
                    except OSError:
                        pass
                    socks[i] = n
                stop.wait(0.01)
        t = threading.Thread(target=reopen)
        t.start()
        try:
            self.assertEqual(self.health_answers(100), 100)
        finally:
            stop.set()
            t.join()
            for s in socks:
                s.close()

    def test_idle_sockets_past_the_global_limit(self):
        addrs = [f"127.0.0.{i}" for i in range(2, 74)]      # 72 x 30: 2,160
        socks = self.open_idle(addrs, 2160)
        try:
            self.assertEqual(self.health_answers(20), 20)
            from harness import http
            self.assertEqual(http("GET", self.v.base + "/status")[0], 200)
        finally:
            for s in socks:
                s.close()


class FakePostgres:
    """Speaks just enough of PostgreSQL's protocol to refuse a start-up
    with an error message of its choosing."""

    def __init__(self, message):
        import socket
        import struct
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        fields = (b"SFATAL\0VFATAL\0C28000\0M" + message.encode() + b"\0\0")
        self.error = b"E" + struct.pack("!I", 4 + len(fields)) + fields
        self.stopped = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import struct
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                while True:
                    head = c.recv(8, 0x100)     # MSG_WAITALL
                    if len(head) < 8:
                        break
                    n, code = struct.unpack("!II", head)
                    if code in (80877103, 80877104):    # SSL, GSS: no
                        c.sendall(b"N")
                        continue
                    if n > 8:
                        c.recv(n - 8, 0x100)
                    c.sendall(self.error)
                    break
            except OSError:
                pass
            finally:
                c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class HostileDatabase(E2E):
    """A database whose error text is Slack markup and terminal escapes:
    every sink carries it escaped, and the data survives as data."""

    def test_database_error_text_reaches_every_sink_escaped(self):
        db = FakePostgres(f"no entry for {ESC}[31mhost{ESC}]0;pwned{BEL} {CSI}2J "
                          "<!channel> <https://evil.example/|ACK HERE>")
        self.addCleanup(db.stop)
        slack, generic = WebhookReceiver(), WebhookReceiver()
        self.addCleanup(slack.stop)
        self.addCleanup(generic.stop)
        v = self.vigild({
            "probes": [{"name": "db", "type": "postgres", "interval": "300ms", "timeout": "2s",
                        "conninfo": f"host=127.0.0.1 port={db.port} dbname=app user=vigil"}],
            "notifiers": [
                {"name": "slack", "type": "webhook", "url": slack.url, "format": "slack",
                 "rules": ["db_down"]},
                {"name": "hook", "type": "webhook", "url": generic.url, "rules": ["db_down"]}]})
        wait_for(lambda: v.probe("db")["state"] == "down", 15, what="the database probe down")
        reason = v.probe("db")["last_run"]["reason"]
        self.assertIn(CSI + "2J", reason)       # /status: the data, JSON-escaped
        # Marked as the database's words: quoted after vigild's own.
        # (A later run adds vigild's own note of its backoff, after it.)
        self.assertRegex(reason, r'^connection failed: ".*no entry for .*ACK HERE>"'
                                 r'( \(next connection attempt in [0-9.]+ s\))?$')
        s = wait_for(lambda: slack.bodies(), 15, what="a Slack message")[0]
        for t in (s["text"], s["blocks"][0]["text"]["text"]):
            self.assertNotIn("<!channel>", t)
            self.assertIn("&lt;!channel&gt;", t)
        g = wait_for(lambda: generic.bodies(), 15, what="a webhook notice")[0]
        self.assertIn("<!channel>", g["summary"])   # a generic receiver gets the data
        self.assertIn(ESC + "[31m", g["summary"])
        with open(v.log_path, "rb") as f:
            log = f.read()
        for b in (b"\x1b", b"\x07", b"\xc2\x9b"):
            self.assertNotIn(b, log)
        self.assertIn(b"\\x1b[31mhost", log)
        r = subprocess.run([VIGILCTL, "--url", v.base, "--no-color", "status"],
                           capture_output=True, timeout=30)
        out = r.stdout.decode("utf-8", "replace")
        self.assertEqual(raw(out), [], out)
        self.assertIn("\\x1b[31mhost", out)
