"""/metrics under Prometheus (issue #24): a scrape that finds the shared
rendering stale or out of date waits, its connection suspended, for one
made aside in a forked child (api_cache.c, api_aside.c), not on the loop
that answers /health; scrapers that come meanwhile share that one; and a
scraper that asks for gzip (Prometheus does) gets it. No timing: what is
asserted is where the renderings were made, by vigild's own counters.
"""
import gzip
import json
import os
import re
import signal
import subprocess
import threading
import urllib.request
from http.client import HTTPConnection, HTTPException

from harness import E2E, SLOW, http, http_probe, wait_for, write_secret

PROBES = 1500
TOKEN = "scrape-token-0b9d3e"


def counters(text):
    """vigil_http_renders_total and _render_loop_seconds_total of /metrics."""
    out = {}
    for m in re.finditer(r'^vigil_http_renders_total\{endpoint="/metrics",where="(\w+)"\} (\S+)$',
                         text, re.M):
        out[m.group(1)] = float(m.group(2))
    m = re.search(r'^vigil_http_render_loop_seconds_total\{endpoint="/metrics"\} (\S+)$', text,
                  re.M)
    out["loop_seconds"] = float(m.group(1))
    return out


def scrape(base, gz):
    """(status, headers, text) of /metrics as Prometheus asks for it."""
    req = urllib.request.Request(base + "/metrics")
    if gz:
        req.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(req, timeout=30 * SLOW) as r:
        body = r.read()
        headers = dict(r.headers)
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return r.status, headers, body.decode()


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


class MetricsAside(E2E):

    def setUp(self):
        super().setUp()
        sim = self.sim()
        # Dear to render (tens of ms), and nothing moves: one run each.
        probes = [http_probe(f"p{i:04d}", sim.url("/api/health"), interval="1h",
                             timeout="10s") for i in range(PROBES)]
        tok = os.path.join(self.workdir, "api.token")
        write_secret(tok, TOKEN + "\n")
        self.v = self.vigild({"api": {"token_file": tok}, "probes": probes})
        wait_for(lambda: self.v.metrics().count("vigil_probe_up{") == PROBES, 60 * SLOW,
                 step=0.5, what="a run of every probe")

    def write(self):
        """A write: what every reader must see at once (the cache's key)."""
        req = urllib.request.Request(
            self.v.base + "/silences", method="POST",
            data=json.dumps({"rule": "p0001_down", "author": "ops", "comment": "scrape test",
                             "duration": "1h"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            self.assertEqual(r.status, 201)

    def test_gzip_when_asked(self):
        status, headers, text = scrape(self.v.base, gz=True)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Encoding"), "gzip")
        self.assertIn("Accept-Encoding", headers.get("Vary", ""))
        self.assertEqual(headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(promtool(text), (0, ""))
        self.assertIn('vigil_probe_up{probe="p1499"} 1', text)
        status, headers, plain = scrape(self.v.base, gz=False)
        self.assertEqual(status, 200)
        self.assertNotIn("Content-Encoding", headers)
        self.assertIn('vigil_probe_up{probe="p1499"} 1', plain)

    def fresh_counters(self):
        """The counters as of now: a rendering kept for a while shows
        them as of when it was made."""
        self.write()
        return counters(self.v.metrics())

    def test_fresh_scrapes_are_rendered_aside_and_shared(self):
        for gz in (True, False):
            scrape(self.v.base, gz)                     # each slot's first
        base = self.fresh_counters()
        # Not even the first of each kind on the loop: its cost, unknown,
        # is guessed from the probe count (the gzip one's from the plain).
        self.assertEqual(base["loop"], 0)
        self.assertGreaterEqual(base["aside"], 2)
        for round_ in range(3):
            # Something every reader must see: the next scrape is fresh.
            self.write()
            results, health = [], []

            def scraper(gz):
                results.append(scrape(self.v.base, gz))

            threads = [threading.Thread(target=scraper, args=(i % 2 == 0,)) for i in range(6)]
            for t in threads:
                t.start()
            # The loop is not rendering: /health answers meanwhile.
            for _ in range(5):
                health.append(http("GET", self.v.base + "/health")[0] in (200, 503))
                health.append(http("GET", self.v.base + "/livez")[0] == 200)
            for t in threads:
                t.join(60 * SLOW)
            self.assertEqual(set(health), {True})
            self.assertEqual(len(results), 6)
            for status, _, text in results:
                self.assertEqual(status, 200)
                # Each shows the write it came after.
                self.assertIn(f"vigil_silences_active {round_ + 2}\n", text)
                self.assertTrue(text.endswith("\n"))
            self.assertEqual(promtool(results[0][2]), (0, ""))
            self.assertEqual(promtool(results[1][2]), (0, ""))
        after = self.fresh_counters()
        # Made aside, in children: none on the loop.
        self.assertEqual(after["loop"], base["loop"])
        self.assertGreaterEqual(after["aside"] - base["aside"], 3 * 2)
        # Six scrapers of two kinds, three times: shared, not one each.
        self.assertLess(after["aside"] - base["aside"], 3 * 6)
        # The loop paid for the forks only.
        self.assertGreater(after["loop_seconds"], base["loop_seconds"])
        self.assertEqual(self.v.log_lines("render_aside_failed"), [])

    def test_scrapes_made_aside_while_clients_hang_up(self):
        """Clients that hang up in the loop pass where a scrape is made
        aside leave MHD connections to clean up: the child, which closed
        MHD's sockets, must ask MHD nothing. It did (the connection count
        for /metrics), MHD closed a socket already closed, and aborted:
        "render_aside_failed signal=6", then renderings on the loop."""
        base = self.fresh_counters()
        for round_ in range(3):
            self.write()
            idle = []
            for _ in range(8):
                c = HTTPConnection("127.0.0.1", self.v.port, timeout=30 * SLOW)
                c.request("GET", "/livez")
                c.getresponse().read()
                idle.append(c)
            scraper, hung_up = idle.pop(), idle
            # Stopped, vigild finds the hang-ups and the scrape in one pass.
            self.v.signal(signal.SIGSTOP)
            try:
                for c in hung_up[:4]:
                    c.close()
                scraper.request("GET", "/metrics")
                for c in hung_up[4:]:
                    c.close()
            finally:
                self.v.signal(signal.SIGCONT)
            r = scraper.getresponse()
            text = r.read().decode()
            scraper.close()
            self.assertEqual(r.status, 200)
            self.assertIn(f"vigil_silences_active {round_ + 2}\n", text)
        self.assertEqual(self.v.log_lines("render_aside_failed"), [])
        after = self.fresh_counters()
        self.assertEqual(after["loop"], base["loop"])

    def test_stop_while_scrapers_wait(self):
        """MHD cannot stop with a connection suspended: vigild lets its
        waiting scrapers go first, and stops cleanly."""
        scrape(self.v.base, gz=True)
        self.write()
        threads = [threading.Thread(target=lambda: self.scrape_or_not()) for _ in range(3)]
        for t in threads:
            t.start()
        wait_for(lambda: self.v.get("/livez")[0] == 200, 10 * SLOW, what="/livez")
        self.assertEqual(self.v.stop(), 0, self.v.log_text()[-2000:])
        self.assertIn("event=render_aside_start ok=1", self.v.log_text())
        for t in threads:
            t.join(30 * SLOW)
            self.assertFalse(t.is_alive())

    def scrape_or_not(self):
        try:
            scrape(self.v.base, gz=True)
        except (OSError, HTTPException):
            pass       # cut short by the stop: what matters is vigild's exit
