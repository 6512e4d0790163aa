"""Hostile HTTP targets, a failing Sentry API and reload storms against the real vigild (#10).

A loopback server in the test process misbehaves in one way per path. Each
probe must end in a failed run with a reason a person can act on, vigild
must keep answering and keep a well-behaved probe on schedule, and a burst
of SIGHUPs must leave exactly one consistent configuration running.
"""
import errno
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

from harness import E2E, SLOW, TIMING, http_probe, wait_for, wait_until, write_secret


def response(body, ctype="application/json", status="200 OK", extra=b""):
    return (b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: " + ctype.encode() +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra +
            b"Connection: close\r\n\r\n" + body)


NESTED = b"[" * 10000 + b"]" * 10000


class Hostile:
    """One misbehaviour per path, each connection in its own thread."""

    def __init__(self, tls_ctx=None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.tls_ctx = tls_ctx
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path):
        scheme = "https" if self.tls_ctx else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.stopping = True
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            if self.tls_ctx:
                c = self.tls_ctx.wrap_socket(c, server_side=True)
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = c.recv(4096)
                if not chunk:
                    return
                req += chunk
            path = req.split(b" ")[1].decode()
            self._answer(c, path)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _answer(self, c, path):
        # A Sentry API that fails one way per prefix (base_url points here).
        if path.startswith("/s404/"):
            c.sendall(response(b'{"detail": "The requested resource does not exist"}',
                               status="404 Not Found"))
        elif path.startswith("/s500/"):
            c.sendall(response(b"<h1>Server Error (500)</h1>", "text/html",
                               status="500 Internal Server Error"))
        elif path.startswith("/sbad/"):
            c.sendall(response(b'{"groups": [{"by": {}, "totals": {"sum(quantity)": '))
        elif path.startswith("/sslow/"):
            time.sleep(5)                    # a sleep: the target stalls past the timeout
            c.sendall(response(b"{}"))
        elif path == "/nested":
            c.sendall(response(NESTED))
        elif path == "/nan":
            c.sendall(response(b'{"status": "ok", "p95": NaN}'))
        elif path == "/string":
            c.sendall(response(b'{"status": "ok", "p95": "fast"}'))
        elif path == "/huge-number":
            c.sendall(response(b'{"status": "ok", "p95": 1e400}'))
        elif path == "/dup":
            c.sendall(response(b'{"status": "ok", "status": "down", "p95": 12}'))
        elif path == "/utf8":
            c.sendall(response(b'{"status": "\xff\xfe ok", "p95": 12}'))
        elif path == "/html":
            c.sendall(response(b"<html><body>502 Bad Gateway</body></html>", "text/html"))
        elif path == "/truncated":
            c.sendall(response(b'{"status": "ok", "p95": 1')[:-3])
        elif path == "/loop":
            c.sendall(response(b"", status="302 Found", extra=b"Location: /loop\r\n"))
        elif path == "/headers-then-hang":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{")
            time.sleep(30)                   # a sleep: the target hangs mid-body
        elif path == "/trickle":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(30):
                c.sendall(b"1\r\n \r\n")
                time.sleep(1)                # a sleep: the target trickles a byte a second
        elif path == "/endless":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
            for _ in range(2000):                   # 128 MiB, far past any limit
                c.sendall(chunk)
        else:
            c.sendall(response(b'{"status": "ok", "p95": 12}'))


def probe(name, url, timeout="1500ms", **kw):
    return http_probe(name, url, interval="400ms", timeout=timeout,
                      expect={"json": {"/status": "ok"}},
                      metrics={"p95_ms": "/p95"}, **kw)


class HostileTargets(E2E):
    def test_every_misbehaviour_is_a_failed_run_with_a_reason(self):
        h = Hostile()
        self.addCleanup(h.stop)
        sim = self.sim()
        paths = ["nested", "nan", "string", "huge-number", "dup", "utf8", "html", "truncated",
                 "loop", "headers-then-hang", "trickle", "endless"]
        probes = [probe(p.replace("-", "_"), h.url("/" + p), max_body="1MiB") for p in paths]
        probes.append(http_probe("steady", sim.url("/api/health"), interval="200ms"))
        v = self.vigild({"probes": probes})
        names = [p["name"] for p in probes[:-1]]
        wait_for(lambda: all(v.probe(n).get("last_run") for n in names), 10,
                 what="a finished run of every hostile probe")
        t0 = time.monotonic()
        # Two more runs of each hostile probe (some 3 s) beside the steady one.
        counts = {n: v.probe(n)["runs"] for n in names}
        wait_until(lambda: all(v.probe(n)["runs"] >= counts[n] + 2 for n in names), 10,
                   "two more runs of every hostile probe")
        runs = {n: v.probe(n) for n in names}

        def failed(name, fail, reason_re):
            p = runs[name]
            self.assertEqual(p["state"], "down", (name, p))
            self.assertEqual(p["last_run"]["fail"], fail, (name, p["last_run"]))
            self.assertRegex(p["last_run"]["reason"], reason_re, name)

        # Payloads the JSON parser refuses, whatever the trick.
        for n in ("nested", "nan", "html"):
            failed(n, "json", r"body is not valid JSON \(error at byte \d+ of \d+\)")
        failed("truncated", "body", r"body cut short: transfer closed with 3 bytes remaining")
        # Bytes that are not UTF-8 are quoted as '?': one hostile target
        # must not make /status and /health invalid JSON for every reader.
        failed("utf8", "json", r'"/status" is "\?\? ok", expected "ok"')
        body = v.get("/health")[2]
        body.decode("utf-8")
        # A value of the wrong kind or out of range is noted, not read as
        # zero or infinity; the run itself is fine.
        for n in ("string", "huge_number"):
            last = runs[n]["last_run"]
            self.assertEqual(runs[n]["state"], "up", runs[n])
            self.assertNotIn("p95_ms", last["metrics"])
            self.assertEqual(last["notes"], "metric p95_ms (/p95): value is not a finite number "
                             "or boolean")
        # Duplicate keys: the first occurrence wins, as in cJSON.
        self.assertEqual(runs["dup"]["state"], "up", runs["dup"])
        # Redirects are not followed unless asked, and a loop is a status failure.
        failed("loop", "status", r"302")
        # Stalls end at the timeout with what was being waited for.
        failed("headers_then_hang", "timeout", r"timed out after 1500 ms")
        failed("trickle", "timeout", r"timed out after 1500 ms")
        # An endless body is cut at the limit.
        failed("endless", "body", r"body larger than the 1048576-byte limit")

        # The well-behaved probe kept its schedule through all of it.
        steady = v.probe("steady")
        self.assertEqual(steady["state"], "up")
        if TIMING:
            self.assertEqual(steady["missed_slots"], 0, steady)
            self.assertLess(steady["start_lateness_max_ms"], 250, steady)
        self.assertGreaterEqual(steady["runs"], (time.monotonic() - t0) / 0.2)
        self.assertEqual(v.get("/health")[0], 503)
        self.assertIsNone(v.proc.poll())

    def test_redirect_loop_followed_is_stopped(self):
        h = Hostile()
        self.addCleanup(h.stop)
        v = self.vigild({"probes": [probe("loop", h.url("/loop"), follow_redirects=True)]})
        p = wait_for(lambda: (lambda p: p if p.get("last_run") else None)(v.probe("loop")), 10,
                     what="a finished run")
        self.assertEqual(p["state"], "down", p)
        self.assertRegex(p["last_run"]["reason"], r"(?i)redirect", p["last_run"])


class Tls(E2E):
    def test_self_signed_certificate_fails_verification_with_a_reason(self):
        key, crt = (os.path.join(self.workdir, n) for n in ("k.pem", "c.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        h = Hostile(tls_ctx=ctx)
        self.addCleanup(h.stop)
        # A TLS handshake under valgrind can take longer than 1.5 s: the
        # run must end on the certificate, not on the clock.
        t = f"{1500 * SLOW}ms"
        v = self.vigild({"probes": [
            probe("untrusted", h.url("/ok"), timeout=t),
            probe("trusted", h.url("/ok"), tls={"ca_file": crt}, timeout=t),
        ]})
        wait_for(lambda: v.probe("untrusted").get("last_run") and v.probe("trusted").get("last_run"),
                 10 * SLOW, what="runs")
        bad, good = v.probe("untrusted"), v.probe("trusted")
        self.assertEqual(bad["state"], "down", bad)
        # TLS handshakes fail as "connect" (probe.h), and the reason says why.
        self.assertEqual(bad["last_run"]["fail"], "connect", bad["last_run"])
        self.assertIn("SSL certificate problem: self-signed certificate", bad["last_run"]["reason"])
        # Trusting that certificate makes the same target good, and its
        # expiry (2 days) is measured.
        self.assertEqual(good["state"], "up", good)
        days = good["last_run"]["metrics"]["cert_expiry_days"]
        self.assertTrue(1.9 < days <= 2.0, days)


CA_CNF = """[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
[policy_any]
commonName = supplied
"""


def expired_certificate(workdir):
    """A CA valid now, and a server certificate it signed that expired on
    2020-01-02: (ca.pem, server key, server certificate)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=workdir)
    with open(os.path.join(workdir, "ca.cnf"), "w") as f:
        f.write(CA_CNF)
    open(os.path.join(workdir, "index.txt"), "w").close()
    with open(os.path.join(workdir, "serial"), "w") as f:
        f.write("01\n")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=vigil test CA")
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
        "-in", "srv.csr", "-out", "srv.pem", "-notext",
        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z")
    return tuple(os.path.join(workdir, n) for n in ("ca.pem", "srv.key", "srv.pem"))


class ExpiredCertificate(E2E):
    def test_expired_certificate_fails_with_a_reason_and_its_age(self):
        ca, key, crt = expired_certificate(self.workdir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        h = Hostile(tls_ctx=ctx)
        self.addCleanup(h.stop)
        v = self.vigild({"probes": [
            # Its issuer trusted: only the dates are wrong.
            # (TLS handshakes are slow under valgrind: the timeout scales.)
            probe("expired", h.url("/ok"), timeout=f"{1500 * SLOW}ms", tls={"ca_file": ca}),
            # Verification off (a lab box): the run passes, and the
            # certificate's age still shows, negative.
            probe("unverified", h.url("/ok"), timeout=f"{1500 * SLOW}ms",
                  tls={"verify": False}),
        ]})
        wait_for(lambda: v.probe("expired").get("last_run") and
                 v.probe("unverified").get("last_run"), 10, what="runs")
        bad, lax = v.probe("expired"), v.probe("unverified")
        self.assertEqual(bad["state"], "down", bad)
        self.assertEqual(bad["last_run"]["fail"], "connect", bad["last_run"])
        self.assertIn("SSL certificate problem: certificate has expired",
                      bad["last_run"]["reason"])
        self.assertEqual(lax["state"], "up", lax)
        days = lax["last_run"]["metrics"].get("cert_expiry_days")
        self.assertIsNotNone(days, lax["last_run"])
        expired = (time.time() - 1577923200) / 86400  # since 2020-01-02
        self.assertAlmostEqual(-days, expired, delta=0.01)
        self.assertTrue(v.alive())


class ReloadStorm(E2E):
    def test_a_hundred_sighups_leave_one_consistent_config(self):
        sim = self.sim()
        a = {"probes": [http_probe("alpha", sim.url("/api/health"), interval="300ms")]}
        b = {"probes": [http_probe("beta", sim.url("/api/health"), interval="300ms")]}
        v = self.vigild(a)
        for i in range(100):
            v.write_config(b if i % 2 == 0 else a)
            v.signal(signal.SIGHUP)
            time.sleep(0.01)                 # a sleep: paces the storm, 100 signals in ~1 s
        v.write_config(b)
        v.signal(signal.SIGHUP)
        want = ["beta"]
        wait_for(lambda: [p["name"] for p in v.status()["probes"]] == want, 10,
                 what="the last config in force")
        wait_for(lambda: v.probe("beta")["state"] == "up", 5, what="beta up")
        self.assertIsNone(v.proc.poll())
        self.assertEqual(v.get("/health")[0], 200)


class HostileSentry(E2E):
    def test_404_500_malformed_and_slow_are_failed_runs_with_reasons(self):
        h = Hostile()
        self.addCleanup(h.stop)
        token = os.path.join(self.workdir, "token")
        write_secret(token, "sntrys_fault_suite_token\n")
        sim = self.sim()

        def sentry(name, prefix):
            return {"name": name, "type": "sentry", "base_url": h.url(f"/{prefix}/api/0/"),
                    "organization": "acme", "project": "portal", "token_file": token,
                    "interval": "500ms", "timeout": "1500ms", "resolution": "10s"}

        v = self.vigild({"probes": [sentry("s404", "s404"), sentry("s500", "s500"),
                                    sentry("sbad", "sbad"), sentry("sslow", "sslow"),
                                    http_probe("steady", sim.url("/api/health"),
                                               interval="200ms")]})
        names = ["s404", "s500", "sbad", "sslow"]
        wait_for(lambda: all(v.probe(n).get("last_run") for n in names), 10, what="runs")
        time.sleep(2)        # a sleep: the steady probe misses no slot while these back off
        runs = {n: v.probe(n) for n in names}
        want = {
            "s404": ("status", r'^HTTP 404 from the project details endpoint: "The requested '
                               r'resource does not exist": check "organization" and "project"; '
                               r"next attempt at "),
            "s500": ("status", r"^HTTP 500 from the project details endpoint; next attempt at "),
            "sbad": ("json", r"^project: not valid JSON \(error at byte \d+ of 51\); next "),
            "sslow": ("timeout", r"^timed out after 1500 ms waiting for the project details "
                                 r"endpoint; next attempt at "),
        }
        for n, (fail, reason) in want.items():
            last = runs[n]["last_run"]
            self.assertEqual((runs[n]["state"], last["fail"]), ("down", fail), last)
            self.assertRegex(last["reason"], reason)
        self.assertNotIn("sntrys_fault_suite_token", v.get("/status")[2].decode())
        steady = v.probe("steady")
        self.assertEqual(steady["state"], "up", steady)
        if TIMING:
            self.assertEqual(steady["missed_slots"], 0, steady)


class DescriptorLimit(E2E):
    """Every target hangs and the descriptor limit is small: probe runs are
    held back, said so, and the API keeps answering (#10)."""

    def test_hung_targets_cannot_take_the_apis_descriptors(self):
        # A listener that never accepts: connections complete in the kernel's
        # backlog and then hang, each holding one of vigild's descriptors.
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(1024)
        self.addCleanup(hole.close)
        url = f"http://127.0.0.1:{hole.getsockname()[1]}/"
        probes = [http_probe(f"hung{i}", url, interval="500ms", timeout="20s")
                  for i in range(60)]
        # 64 descriptors: half kept for vigild itself, a quarter of the rest
        # for idle connections, 3 per run: 8 runs.
        v = self.vigild({"probes": probes}, wrap=("prlimit", "--nofile=64:64", "--"))
        wait_for(lambda: "event=probe_runs_held" in v.log_text(), 15,
                 what="runs held back at the descriptor limit")
        m = re.search(r"event=probe_runs_held probe=hung\d+ in_flight=(\d+) reason=\"the "
                      r"descriptor limit \(RLIMIT_NOFILE (\d+)\) allows (\d+) runs at once\"",
                      v.log_text())
        self.assertIsNotNone(m, v.log_text()[-2000:])
        # 64 (valgrind keeps a few of them for itself, and says less).
        limit, allowed = int(m[2]), int(m[3])
        self.assertLessEqual(limit, 64)
        room = limit // 2
        self.assertEqual((int(m[1]), allowed), (allowed, max(1, (room - room // 4) // 3)))
        # The API answers, again and again, and says why vigild is degraded.
        for _ in range(20):
            status, _, body = v.get("/health")
            self.assertEqual(status, 503, body)
            self.assertIn(f"vigild held back probe runs in the last minute: the descriptor "
                          f"limit (RLIMIT_NOFILE {limit}) allows {allowed} runs at once"
                          .encode(), body)
        st = v.status()
        self.assertGreater(sum(p["start_failures"] for p in st["probes"]), 0)
        # Eight runs hang (they time out at 20 s); the rest were never started.
        self.assertEqual(sum(1 for p in st["probes"] if p.get("last_run")), 0)
        self.assertEqual(v.stop(), 0)


class DnsStub:
    """A DNS server on 127.0.0.1:53 (UDP) for names under .example: ok.example
    is 127.0.0.1, nx.example does not exist, fail.example is SERVFAIL,
    mute.example is never answered."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.sock.settimeout(0.2)
        self.asked = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()

    def _serve(self):
        while not self.stopping:
            try:
                q, addr = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(q) < 17:
                continue
            labels, i = [], 12
            while i < len(q) and q[i] != 0:
                labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
                i += 1 + q[i]
            name = ".".join(labels).lower()
            qtype = int.from_bytes(q[i + 1:i + 3], "big")
            question = q[12:i + 5]
            self.asked.append(name)
            if name == "mute.example":
                continue
            rcode, answers = 0, b""
            if name == "ok.example" and qtype == 1:
                answers = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01"
            elif name == "nx.example" or not name.endswith("example"):
                rcode = 3
            elif name == "fail.example":
                rcode = 2
            flags = 0x8180 | rcode
            header = (q[:2] + flags.to_bytes(2, "big") + b"\x00\x01" +
                      (1 if answers else 0).to_bytes(2, "big") + b"\x00\x00\x00\x00")
            self.sock.sendto(header + question + answers, addr)


class Dns(E2E):
    """Names that do not resolve, through a stub resolver on loopback: vigild
    runs in its own mount namespace with /etc/resolv.conf pointing there."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("binds port 53 and a mount namespace: root only")
        if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            self.skipTest("mount namespaces are not permitted here")
        try:
            self.dns = DnsStub()
        except OSError as e:
            self.skipTest(f"127.0.0.1:53 is taken: {e}")
        self.addCleanup(self.dns.stop)
        self.resolv = os.path.join(self.workdir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def test_unresolvable_names_fail_with_reasons_and_block_nothing(self):
        h = Hostile()
        self.addCleanup(h.stop)
        port = h.port
        v = self.vigild({"probes": [
            probe("resolves", f"http://ok.example:{port}/ok"),
            probe("nx", f"http://nx.example:{port}/ok"),
            probe("servfail", f"http://fail.example:{port}/ok"),
            probe("mute", f"http://mute.example:{port}/ok"),
            http_probe("local", h.url("/ok"), interval="200ms"),
            {"name": "db", "type": "postgres", "interval": "500ms", "timeout": "1500ms",
             "conninfo": "host=nx.example port=5432 dbname=portal user=vigil password=unused"},
        ]}, wrap=("unshare", "-m", "sh", "-c",
                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv))
        wait_for(lambda: all(v.probe(n).get("last_run") for n in
                             ("resolves", "nx", "servfail", "mute", "db")), 15, what="runs")
        # The stub is the resolver vigild asks: a name it knows works.
        self.assertEqual(v.probe("resolves")["state"], "up", v.probe("resolves"))
        self.assertIn("ok.example", self.dns.asked)
        for name, host in (("nx", "nx.example"), ("servfail", "fail.example")):
            lr = v.probe(name)["last_run"]
            self.assertEqual(lr["fail"], "connect", lr)
            self.assertIn(f"Could not resolve host: {host}", lr["reason"])
        # Never answered: the resolver gives up after its 1 s timeout.
        lr = v.probe("mute")["last_run"]
        self.assertEqual(lr["fail"], "connect", lr)
        self.assertIn("Could not resolve host: mute.example", lr["reason"])
        # The postgres probe resolves through libevent's evdns instead.
        lr = v.probe("db")["last_run"]
        self.assertEqual(lr["fail"], "connect", lr)
        self.assertIn('cannot resolve "nx.example"', lr["reason"])
        # A lookup that never ends delays nobody: the local probe keeps time.
        local = v.probe("local")
        if TIMING:
            self.assertEqual(local["missed_slots"], 0)
            self.assertLess(local["start_lateness_max_ms"], 250)
        self.assertEqual(v.get("/health")[0], 503)


class FullDisk(E2E):
    """The state directory's filesystem fills up: saves fail with the reason,
    the last good state file stays whole, polling goes on, and saving
    resumes once there is room. vigild runs in its own mount namespace with
    a 256 KiB tmpfs on its state directory; the test reaches into it
    through /proc/<pid>/root."""

    def test_state_saves_fail_cleanly_then_resume(self):
        if os.geteuid() != 0:
            self.skipTest("mounts a tmpfs in a mount namespace: root only")
        if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            self.skipTest("mount namespaces are not permitted here")
        h = Hostile()
        self.addCleanup(h.stop)
        state = os.path.join(self.workdir, "state")
        os.mkdir(state)
        v = self.vigild({"probes": [probe("app", h.url("/ok"))], "state_dir": state,
                         "state_interval": "1s"},
                        wrap=("unshare", "-m", "sh", "-c",
                              'mount -t tmpfs -o size=256k,mode=0700 tmpfs "$0" && exec "$@"', state))
        inside = f"/proc/{v.proc.pid}/root{state}"

        def read(p):
            with open(p, "rb") as f:
                return f.read()
        path = os.path.join(inside, "state.json")
        wait_for(lambda: os.path.exists(path), 10, what="a first save")
        self.assertEqual(os.listdir(state), [])   # the tmpfs is vigild's alone
        # Fill the filesystem to the last byte.
        filler = os.path.join(inside, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        wait_for(lambda: "event=state_save_failed" in v.log_text(), 10, what="a failed save")
        self.assertRegex(v.log_text(), r'event=state_save_failed path=\S+state\.json '
                                       r'error="(write|fsync|create): No space left on device"')
        # The last good file stays whole and no temporary file is left,
        # save after save; vigild still polls and answers.
        before = read(path)
        json.loads(before)
        failures = v.status()["state_file"]["failures"]
        wait_until(lambda: v.status()["state_file"]["failures"] >= failures + 2, 10,
                   "two more failed saves")
        self.assertEqual(read(path), before)
        # Nor beside the history's files, which are rewritten in place.
        self.assertEqual(sorted(os.listdir(inside)), ["filler", "history", "state.json"])
        self.assertEqual([f for f in os.listdir(os.path.join(inside, "history"))
                          if not f.endswith(".hist")], [])
        self.assertEqual(v.get("/health")[0], 200)
        sf = v.status()["state_file"]
        self.assertGreater(sf["failures"], 1)
        self.assertRegex(sf["last_error"], r"^(write|fsync|create): No space left on device$")
        self.assertRegex(v.metrics(),
                         r"\nvigil_state_write_failures_total [1-9]\d*\n")
        runs = v.probe("app")["runs"]
        wait_for(lambda: v.probe("app")["runs"] > runs, 5, what="polling going on")
        self.assertEqual(v.log_text().count("event=state_save_failed"), 1)  # said once
        os.unlink(filler)
        wait_for(lambda: "event=state_saved_again" in v.log_text(), 10, what="saving resumed")
        self.assertNotEqual(read(path), before)
        self.assertEqual(v.stop(), 0)
