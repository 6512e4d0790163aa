"""Clients that would tie vigild up: a thousand connections held open and
dribbling bytes (slow-loris), one address trying to take every slot,
headers and bodies far too large. Through all of it vigild must keep
answering /health quickly and keep polling on schedule.

Everything stays on loopback: the abusive clients bind to other loopback
addresses (127.0.0.2 and up) so that vigild's per-address limit tells them
from the /health checker on 127.0.0.1, as it would tell an abuser from
UptimeRobot. Every socket is closed in a finally; every loop is bounded.
"""
import re
import resource
import socket
import statistics
import sys
import time

from harness import E2E, SLOW, TIMING, http, http_probe, wait_for, wait_until

PER_IP = 32          # API_MAX_CONNS_PER_IP
DEADLINE_S = 15      # API_REQUEST_DEADLINE_S
INTERVAL_S = 0.2


def raise_fd_limit(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def open_held(port, n, addrs, partial=b"GET /status HTTP/1.1\r\nHost: vigil\r\n"):
    """n connections spread over source addresses addrs, each having sent
    the start of a request and no end of headers."""
    socks = []
    try:
        for i in range(n):
            s = socket.socket()
            socks.append(s)
            s.bind((addrs[i % len(addrs)], 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            try:
                s.sendall(partial)
            except OSError:
                pass    # refused at once: counted by the caller
            s.setblocking(False)
    except BaseException:
        close_all(socks)
        raise
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def still_open(socks):
    """The sockets vigild has not closed (nothing to read, no EOF)."""
    alive = []
    for s in socks:
        try:
            if s.recv(65536) == b"":
                continue
        except BlockingIOError:
            alive.append(s)
            continue
        except OSError:
            continue
        alive.append(s)     # an answer: open until read to the end
    return alive


def health_times(v, n):
    """n sequential GET /health on fresh connections from 127.0.0.1; ms."""
    out = []
    for _ in range(n):
        t = time.monotonic()
        status = http("GET", v.base + "/health", timeout=5)[0]
        out.append((time.monotonic() - t) * 1000)
        assert status in (200, 503), status
    return out


class Abuse(E2E):
    def setUp(self):
        super().setUp()
        raise_fd_limit()
        self.sim_ = self.sim()
        self.v = self.vigild({"probes": [http_probe("tick", self.sim_.url("/api/health"),
                                                    interval="200ms", timeout="1s")]})
        wait_for(lambda: self.v.probe("tick")["runs"] >= 3, 10, what="a few runs")

    def on_schedule(self, before, elapsed):
        """The probe kept its schedule since before: runs, lateness, slots."""
        now = self.v.probe("tick")
        runs = now["runs"] - before["runs"]
        if TIMING:
            self.assertGreaterEqual(runs, int(elapsed / INTERVAL_S * 0.8), (before, now))
            self.assertEqual(now["missed_slots"], before["missed_slots"], now)
        self.assertEqual(now["skipped_in_flight"], before["skipped_in_flight"], now)
        if TIMING:
            self.assertLess(now["start_lateness_max_ms"], 250, now)
        return now

    def report(self, what, times):
        times = sorted(times)
        print(f"\n    {what}: /health p50 {statistics.median(times):.1f} ms, "
              f"max {times[-1]:.1f} ms over {len(times)} requests", end=" ", file=sys.stderr)

    def test_a_thousand_slow_connections(self):
        v = self.v
        before = v.probe("tick")
        t0 = time.monotonic()
        addrs = [f"127.0.0.{i}" for i in range(2, 52)]     # 50 addresses x 20
        socks = open_held(v.port, 1000, addrs)
        try:
            opened = time.monotonic()
            held = len(still_open(socks))
            self.assertEqual(held, 1000, "under the per-address limit, all are accepted")
            metrics = v.metrics()
            conns = int(float(metrics.split("\nvigil_http_connections ", 1)[1].split("\n")[0]))
            self.assertGreaterEqual(conns, 1000)
            times = []
            # Slow-loris: a byte now and then keeps each connection from
            # going idle; only the request deadline ends them.
            end = opened + DEADLINE_S + 8 * SLOW
            closed_at = None
            while time.monotonic() < end:
                for s in socks:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
                times += health_times(v, 10)
                left = still_open(socks)
                if not left:
                    closed_at = time.monotonic()
                    break
                time.sleep(1)    # a sleep: the slow client's pace, a byte a second
            self.assertIsNotNone(closed_at, f"{len(left)} slow connections outlived the deadline")
            self.assertGreater(closed_at - opened, 8, "closed by the deadline, not at once")
            self.report("1000 slow connections from 50 addresses", times)
            self.assertLess(statistics.median(times), 100)
            self.assertLess(max(times), 1000)
            self.on_schedule(before, time.monotonic() - t0)
        finally:
            close_all(socks)
        self.assertEqual(v.get("/livez")[0], 200)

    def test_one_address_gets_its_share_only(self):
        v = self.v
        before = v.probe("tick")
        t0 = time.monotonic()
        socks = open_held(v.port, 1000, ["127.0.0.200"])
        try:
            # vigild turns away all but its per-address share.
            wait_until(lambda: len(still_open(socks)) <= PER_IP, 5,
                       f"at most {PER_IP} connections left open")
            held = len(still_open(socks))
            self.assertLessEqual(held, PER_IP)
            self.assertGreater(held, 0)
            times = health_times(v, 50)
            self.report("1000 connections from one address", times)
            self.assertLess(max(times), 1000)
            self.on_schedule(before, time.monotonic() - t0)
        finally:
            close_all(socks)
        # MHD's complaints about the refused ones are rate-limited.
        wait_for(lambda: v.get("/health")[0] == 200, 5, what="health")
        self.assertLess(v.log_text().count("event=http_server_note "), 20)

    def test_oversized_headers_and_bodies(self):
        v = self.v
        before = v.probe("tick")
        t0 = time.monotonic()
        # A header larger than a connection's memory: refused, not stored.
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", v.port), timeout=5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 +
                          b"\r\n\r\n")
                try:
                    head = s.recv(4096)
                except ConnectionResetError:
                    head = b""
            self.assertTrue(head == b"" or re.match(rb"HTTP/1\.[01] 4\d\d", head), head[:100])
        # A body announced at 1 GiB: 413 before any of it is read.
        with socket.create_connection(("127.0.0.1", v.port), timeout=5) as s:
            s.sendall(b"POST /silences HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 413"))
        # A chunked body of 8 MiB: read, dropped, refused; memory stays bounded.
        with socket.create_connection(("127.0.0.1", v.port), timeout=10) as s:
            s.sendall(b"POST /silences HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
            try:
                for _ in range(128):
                    s.sendall(chunk)
                s.sendall(b"0\r\n\r\n")
                answer = s.recv(4096)
            except (BrokenPipeError, ConnectionResetError):
                answer = b"HTTP/1.1 413 (closed early)"
            self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:100])
        self.assertEqual(v.get("/health")[0], 200)
        self.on_schedule(before, time.monotonic() - t0)

