"""What an http probe does on the wire, whatever HTTP client is inside vigild.

A raw-socket target on loopback records, per connection, the bytes of each
request it read, and answers each one as the test says: keep-alive or
close, Content-Length, chunked or until close, 1xx first, bodies for HEAD,
stray bytes, garbage. The tests assert what a person relies on: the
probe's verdict and metrics, requests that are well formed, connections
kept alive and reused when the target allows it and not when it says no
(or new_connection asks), and no wrong answer taken from a stale
connection. They hold with libcurl, but for one (a stray answer on an idle
connection, which Debian 12's libcurl 7.88 reads as the next run's answer),
and must hold with any client after it. Redirects are covered by
test_faults.py and test_hostile.py (Redirects).
"""
import re
import socket
import threading
import time

from harness import E2E, SLOW, http_probe, wait_until

JSON = b'{"status": "ok", "p95": 12.5}'


def response(body=JSON, status=b"200 OK", extra=b"", version=b"HTTP/1.1", length=True):
    """One response; Content-Length unless length is false, no Connection
    header unless extra has one."""
    head = version + b" " + status + b"\r\nContent-Type: application/json\r\n" + extra
    if length:
        head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return head + b"\r\n" + body


class Request:
    """One request as read off the wire: raw is every byte of it."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.line = lines[0]
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            self.headers.setdefault(k.strip().lower().decode("latin-1"), []).append(
                v.strip().decode("latin-1"))

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None


class Wire:
    """A loopback HTTP target of raw sockets, a thread per connection.

    answer(sock, conn, req) sends whatever the test wants for request req
    (a Request), the n-th on its connection (conn.requests[-1] is req), and
    returns true to read the next request on that connection, false to
    close it. Every connection's requests are kept, in order, in conns.
    """

    class Conn:
        def __init__(self, index):
            self.index = index
            self.requests = []

    def __init__(self, answer):
        self.answer = answer
        self.lock = threading.Lock()
        self.conns = []
        self.socks = []
        self.stopping = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path="/health"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.stopping = True
        self.sock.close()
        with self.lock:
            socks = list(self.socks)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def connections(self):
        """The requests of each connection so far: a list of lists."""
        with self.lock:
            return [list(c.requests) for c in self.conns]

    def requests(self):
        return [r for c in self.connections() for r in c]

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                conn = Wire.Conn(len(self.conns))
                self.conns.append(conn)
                self.socks.append(c)
            threading.Thread(target=self._serve, args=(c, conn), daemon=True).start()

    @staticmethod
    def _read(c, buf):
        """(raw request, bytes left over), or (None, buf) at the end."""
        while b"\r\n\r\n" not in buf:
            if len(buf) > 65536:
                return None, buf
            d = c.recv(65536)
            if not d:
                return None, buf
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        n = int(Request(head + b"\r\n\r\n").header("Content-Length") or 0)
        while len(rest) < n:
            d = c.recv(65536)
            if not d:
                return None, buf
            rest += d
        return head + b"\r\n\r\n" + rest[:n], rest[n:]

    def _serve(self, c, conn):
        buf = b""
        try:
            while not self.stopping:
                raw, buf = self._read(c, buf)
                if raw is None:
                    break
                req = Request(raw)
                with self.lock:
                    conn.requests.append(req)
                if not self.answer(c, conn, req):
                    break
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass


def send_pieces(c, *pieces):
    """Sends each piece on its own, a few milliseconds apart, so that the
    client reads them in separate reads."""
    for i, p in enumerate(pieces):
        if i:
            time.sleep(0.01)             # a sleep: splits the answer across reads
        c.sendall(p)


TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class WireTest(E2E):
    def target(self, answer):
        w = Wire(answer)
        self.addCleanup(w.stop)
        return w

    def probe(self, name, url, **kw):
        kw.setdefault("interval", "200ms")
        kw.setdefault("timeout", f"{1500 * SLOW}ms")
        return http_probe(name, url, **kw)

    def json_probe(self, name, url, **kw):
        return self.probe(name, url, expect={"json": {"/status": "ok"}},
                          metrics={"p95_ms": "/p95"}, **kw)

    def after_runs(self, v, name, n):
        """The probe as /status shows it once it has finished n runs."""
        return wait_until(lambda: (lambda p: p if p["runs"] >= n else None)(v.probe(name)),
                          10 + n * 0.5, f"{n} runs of {name}")

    def assert_all_up(self, v, name, runs):
        """At least runs runs, none failed: the failures counter counts
        every failed run, so one bad answer among them shows."""
        p = self.after_runs(v, name, runs)
        lines = [line for line in v.log_text().splitlines()
                 if f"probe={name} " in line and ("up=0" in line or "reason=" in line)]
        self.assertEqual(p["failures"], 0, (p, lines[-5:]))
        self.assertEqual(p["last_run"]["result"], "up", p)
        self.assertEqual(p["state"], "up", p)
        return p

    def assert_well_formed(self, req, method, path, port):
        """A request line, header lines of token: value, CRLF throughout,
        and Host as the URL names it."""
        head = req.raw.partition(b"\r\n\r\n")[0].decode("ascii")
        lines = head.split("\r\n")
        self.assertEqual(lines[0], f"{method} {path} HTTP/1.1", req.raw)
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            self.assertTrue(sep and TOKEN.fullmatch(name), (line, req.raw))
            self.assertNotIn("\n", value, req.raw)
            self.assertNotIn("\r", value, req.raw)
        self.assertEqual(req.headers.get("host"), [f"127.0.0.1:{port}"], req.raw)
        self.assertIsNotNone(req.header("User-Agent"), req.raw)
        self.assertTrue(req.header("User-Agent").startswith("vigil/"), req.raw)

    def test_keep_alive_connection_is_reused_and_requests_are_well_formed(self):
        def answer(c, conn, req):
            c.sendall(response())
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.probe("web", w.url("/health?x=1"),
                                               headers={"X-Api-Key": "k"})]})
        self.assert_all_up(v, "web", 6)
        conns = w.connections()
        self.assertLessEqual(len(conns), 2, [len(c) for c in conns])
        self.assertGreaterEqual(max(len(c) for c in conns), 3, [len(c) for c in conns])
        reqs = w.requests()
        self.assertGreaterEqual(len(reqs), 6)
        for r in reqs:
            self.assert_well_formed(r, "GET", "/health?x=1", w.port)
            self.assertEqual(r.headers.get("x-api-key"), ["k"], r.raw)
            self.assertEqual(r.body, b"", r.raw)
            self.assertIsNone(r.header("Transfer-Encoding"), r.raw)

    def test_new_connection_opens_one_connection_per_run(self):
        def answer(c, conn, req):
            c.sendall(response())
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.probe("fresh", w.url(), new_connection=True)]})
        self.assert_all_up(v, "fresh", 4)
        conns = w.connections()
        # The target keeps every connection open: each is closed by vigild
        # after its one request, never reused.
        self.assertGreaterEqual(sum(len(c) for c in conns), 4)
        self.assertEqual([len(c) for c in conns if len(c) != 1], [],
                         [len(c) for c in conns])

    def test_target_closing_idle_connection_fails_no_run(self):
        def answer(c, conn, req):
            c.sendall(response())
            time.sleep(0.05)                 # a sleep: the idle connection lives 50 ms
            return False
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("idle", w.url())]})
        p = self.assert_all_up(v, "idle", 6)
        self.assertEqual(p["last_run"]["metrics"]["p95_ms"], 12.5, p)
        self.assertGreaterEqual(len(w.connections()), 6)

    def test_target_closing_reused_connection_on_next_request_is_retried(self):
        # The keep-alive race: the target closes a kept connection just as
        # the next request arrives on it, answering nothing. Nothing was
        # answered, so the request goes again on a fresh connection, and
        # the run is up.
        def answer(c, conn, req):
            if len(conn.requests) == 2:
                return False
            c.sendall(response())
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("race", w.url())]})
        self.assert_all_up(v, "race", 6)
        conns = w.connections()
        self.assertGreaterEqual(len(conns), 3, [len(c) for c in conns])
        self.assertTrue(all(len(c) <= 2 for c in conns), [len(c) for c in conns])

    def test_connection_close_and_http10_answers_are_not_reused(self):
        def close_and_close(c, conn, req):
            c.sendall(response(extra=b"Connection: close\r\n"))
            return False

        # These two leave the socket open: only the client's reading of
        # the answer can keep it from sending the next request there.
        def close_left_open(c, conn, req):
            c.sendall(response(extra=b"Connection: close\r\n"))
            return True

        def http10(c, conn, req):
            c.sendall(response(version=b"HTTP/1.0"))
            return True
        targets = {"closes": self.target(close_and_close),
                   "says_close": self.target(close_left_open),
                   "http10": self.target(http10)}
        v = self.vigild({"probes": [self.json_probe(n, w.url()) for n, w in targets.items()]})
        for n, w in targets.items():
            self.assert_all_up(v, n, 4)
            conns = w.connections()
            self.assertGreaterEqual(len(conns), 4, n)
            self.assertEqual([len(c) for c in conns if len(c) != 1], [],
                             (n, [len(c) for c in conns]))

    def test_chunked_body_with_extensions_and_trailer(self):
        def answer(c, conn, req):
            send_pieces(c,
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n",
                        b'5;ext=1\r\n{"sta\r\n',
                        b'E; name="quoted"\r\ntus": "ok", "p\r\n',
                        b"a\r\n95\": 12.5}\r\n",
                        b"0\r\nX-Checksum: abc\r\n\r\n")
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("chunked", w.url())]})
        p = self.assert_all_up(v, "chunked", 5)
        self.assertEqual(p["last_run"]["metrics"]["p95_ms"], 12.5, p)
        self.assertEqual(p["last_run"]["metrics"]["body_bytes"], len(JSON), p)
        # The body's end found, trailer and all: the connection goes on.
        conns = w.connections()
        self.assertLessEqual(len(conns), 2, [len(c) for c in conns])

    def test_body_read_until_close(self):
        def answer(c, conn, req):
            send_pieces(c, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
                        JSON[:9], JSON[9:])
            return False
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("eof", w.url())]})
        p = self.assert_all_up(v, "eof", 4)
        self.assertEqual(p["last_run"]["metrics"]["p95_ms"], 12.5, p)
        self.assertEqual(p["last_run"]["metrics"]["body_bytes"], len(JSON), p)

    def test_interim_1xx_responses_are_skipped(self):
        def answer(c, conn, req):
            send_pieces(c, b"HTTP/1.1 100 Continue\r\n\r\n",
                        b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n",
                        response())
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("interim", w.url())]})
        p = self.assert_all_up(v, "interim", 5)
        self.assertEqual(p["last_run"]["metrics"]["p95_ms"], 12.5, p)
        self.assertEqual(p["last_run"]["metrics"]["http_status"], 200, p)
        self.assertLessEqual(len(w.connections()), 2)

    def test_head_reads_no_body_and_keeps_the_connection(self):
        def answer(c, conn, req):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      b"Content-Length: 1000\r\n\r\n")
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.probe("head", w.url(), method="HEAD")]})
        p = self.assert_all_up(v, "head", 4)
        self.assertEqual(p["last_run"]["metrics"]["body_bytes"], 0, p)
        conns = w.connections()
        self.assertLessEqual(len(conns), 2, [len(c) for c in conns])
        self.assertGreaterEqual(max(len(c) for c in conns), 2, [len(c) for c in conns])
        for r in w.requests():
            self.assert_well_formed(r, "HEAD", "/health", w.port)
            self.assertEqual(r.body, b"", r.raw)

    def test_post_sends_its_body_with_its_length(self):
        def answer(c, conn, req):
            c.sendall(response())
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("post", w.url("/submit"), method="POST",
                                                    body="a=1")]})
        self.assert_all_up(v, "post", 3)
        reqs = w.requests()
        self.assertGreaterEqual(len(reqs), 3)
        for r in reqs:
            self.assert_well_formed(r, "POST", "/submit", w.port)
            self.assertEqual(r.headers.get("content-length"), ["3"], r.raw)
            self.assertIsNone(r.header("Transfer-Encoding"), r.raw)
            self.assertEqual(r.body, b"a=1", r.raw)

    def test_garbage_instead_of_a_status_line_is_a_connect_failure(self):
        def answer(c, conn, req):
            c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            return False
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("ssh", w.url())]})
        p = self.after_runs(v, "ssh", 2)
        self.assertEqual(p["state"], "down", p)
        self.assertEqual(p["failures"], p["runs"], p)
        self.assertEqual(p["last_run"]["fail"], "connect", p)
        self.assertTrue(p["last_run"]["reason"].strip(), p)

    STRAY = response(b'{"status": "broken", "p95": 999}', status=b"500 Internal Server Error")

    def assert_stray_never_answers(self, answer):
        w = self.target(answer)
        v = self.vigild({"probes": [self.json_probe("stray", w.url())]})
        p = self.assert_all_up(v, "stray", 6)
        self.assertEqual(p["last_run"]["metrics"]["p95_ms"], 12.5, p)
        self.assertEqual(p["last_run"]["metrics"]["http_status"], 200, p)

    def test_stray_response_in_the_same_write_is_never_taken_as_an_answer(self):
        # A second answer right behind the first, in the same segment:
        # the client holds bytes that belong to no request of its own.
        def answer(c, conn, req):
            c.sendall(response() + self.STRAY)
            return True
        self.assert_stray_never_answers(answer)

    def test_stray_response_on_an_idle_connection_is_never_taken_as_an_answer(self):
        # The second answer comes 20 ms late, when the connection is idle
        # in the client's pool: bytes waiting there answer no request, and
        # the next run's request must not be sent on that connection.
        # libcurl 7.88 takes a connection with input waiting for alive,
        # reuses it and reads the stray 500 as the next run's answer (later
        # curl refuses such a connection: "connection has input pending,
        # not reusable"): this test fails with it.
        def answer(c, conn, req):
            c.sendall(response())
            time.sleep(0.02)                 # a sleep: the stray answer comes late
            c.sendall(self.STRAY)
            return True
        self.assert_stray_never_answers(answer)

    def test_huge_response_header_fails_the_run_and_spares_vigild(self):
        def answer(c, conn, req):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Huge: " +
                      b"a" * (200 * 1024) + b"\r\n" + b"Content-Length: %d\r\n\r\n" % len(JSON)
                      + JSON)
            return False
        w = self.target(answer)
        steady = self.target(lambda c, conn, req: c.sendall(response()) or True)
        v = self.vigild({"probes": [self.json_probe("huge", w.url()),
                                    self.json_probe("steady", steady.url())]})
        p = self.after_runs(v, "huge", 3)
        self.assertEqual(p["state"], "down", p)
        self.assertEqual(p["failures"], p["runs"], p)
        self.assertTrue(p["last_run"]["reason"].strip(), p)
        self.assertTrue(v.alive())
        self.assertEqual(v.get("/health")[0], 503)
        self.assert_all_up(v, "steady", 3)

    def test_204_without_body_on_kept_connection(self):
        def answer(c, conn, req):
            c.sendall(b"HTTP/1.1 204 No Content\r\nX-Served-By: wire\r\n\r\n")
            return True
        w = self.target(answer)
        v = self.vigild({"probes": [self.probe("nocontent", w.url(),
                                               expect={"status": [204]})]})
        p = self.assert_all_up(v, "nocontent", 5)
        self.assertEqual(p["last_run"]["metrics"]["http_status"], 204, p)
        self.assertEqual(p["last_run"]["metrics"]["body_bytes"], 0, p)
        conns = w.connections()
        self.assertLessEqual(len(conns), 2, [len(c) for c in conns])
        self.assertGreaterEqual(max(len(c) for c in conns), 3, [len(c) for c in conns])

    def test_a_proxy_in_the_environment_is_taken_by_every_probe(self):
        """http_proxy in vigild's environment: libcurl takes it, and a
        probe the own client could carry must not go around it."""
        proxy = self.target(lambda c, conn, req: c.sendall(response()) or True)
        target = self.target(lambda c, conn, req: c.sendall(response()) or True)
        v = self.vigild({"probes": [self.json_probe("numeric", target.url("/numeric"))]},
                        extra_env={"http_proxy": f"http://127.0.0.1:{proxy.port}",
                                   "no_proxy": ""})
        self.assert_all_up(v, "numeric", 3)
        lines = {r.line.decode() for r in proxy.requests()}
        self.assertEqual(lines, {f"GET http://127.0.0.1:{target.port}/numeric HTTP/1.1"})
        self.assertEqual(target.requests(), [])
