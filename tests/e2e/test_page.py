"""The status page as a person sees it: loaded in headless Chromium while
the simulator is degraded, it must show the verdict and the firing alert
first; the screenshot is kept as build/[san/]artifacts/status-page.png."""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

from harness import BUILD, E2E, http_probe, wait_for
from test_operator import RULES, TOKEN, app_probes, call, token_file

ARTIFACTS = os.path.join(BUILD, "artifacts")


def chromium(url, *args, timeout=90):
    """Runs headless Chromium once on url with a fresh profile; its result."""
    exe = shutil.which("chromium")
    if exe is None:
        raise AssertionError("chromium not found: install Debian's chromium (make deps)")
    profile = tempfile.mkdtemp(prefix="vigil-chromium-")
    try:
        return subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


class Page(E2E):
    def test_degraded_simulator_shows_a_firing_alert(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                         "probes": app_probes(sim), "rules": RULES})
        wait_for(lambda: v.get("/health")[0] == 200 and
                 json.loads(v.get("/health")[2])["status"] == "pass", 15, what="pass")
        sim.scenario("error_spike")
        # Critical, not just firing: the page below must say FAIL.
        wait_for(lambda: v.rule("error_rate")["state"] == "firing" and
                 v.rule("error_rate").get("severity") == "critical", 15,
                 what="error_rate firing critical")
        # Someone silenced memory with a comment that tries to be HTML.
        status, _, _ = call(v, "POST", "/silences", token=TOKEN, body=json.dumps(
            {"rule": "memory", "author": "ana", "duration": "2h",
             "comment": "<script>document.title='owned'</script> known leak"}))
        self.assertEqual(status, 201)

        status, headers, body = call(v, "GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
        html = body.decode()
        # Self-contained: nothing is fetched from anywhere.
        self.assertIsNone(re.search(r'(src|href)="(https?:)?//', html))
        self.assertNotIn("<script", html)
        self.assertIn('<meta http-equiv="refresh"', html)

        r = chromium(v.base + "/", "--dump-dom")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        # The verdict, at the top, in words.
        self.assertRegex(dom, r'<header class="fail" id="verdict"><div class="verdict">FAIL</div>')
        self.assertRegex(dom, r"1 critical( and \d warning)? alerts? firing: error_rate")
        self.assertIn("<title>FAIL · vigil</title>", dom)
        # The firing alert first in the list, with since-when and summary.
        alerts = dom.split('<section id="alerts">', 1)[1].split("</section>", 1)[0]
        first = re.search(r'<li class="alert ([a-z]+)" data-rule="([a-z0-9_]+)" '
                          r'data-state="([a-z]+)">(.*?)</li>', alerts)
        self.assertEqual(first.group(1, 2, 3), ("critical", "error_rate", "firing"))
        self.assertIn("CRITICAL", first.group(4))
        self.assertRegex(first.group(4), r"firing for \d+s, since \d\d:\d\d:\d\d UTC")
        self.assertRegex(first.group(4), r"error rate [\d.]+ % over 3s, threshold 1 %")
        # The silence, escaped: shown as text, never run.
        self.assertIn("&lt;script&gt;document.title=", dom)
        self.assertNotIn("owned</title>", dom)
        self.assertIn("Silenced (#1) by ana", dom)
        # A sparkline for each rule, the firing one first and drawn.
        cards = re.findall(r'<figure class="card ([a-z]+)" data-rule="([a-z0-9_]+)">', dom)
        self.assertEqual(cards[0], ("critical", "error_rate"))
        self.assertEqual(sorted(c[1] for c in cards), sorted(r["name"] for r in RULES))
        self.assertRegex(dom, r'<path d="M[\d.]+ [\d.]+ L')
        # Each probe's last result.
        self.assertRegex(dom, r'<tr data-probe="app_health">.*?<td class="up" data-label="state">up')

        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, "status-page.png")
        if os.path.exists(shot):
            os.unlink(shot)
        r = chromium(v.base + "/", f"--screenshot={shot}", "--window-size=1280,1000",
                     "--hide-scrollbars")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertEqual(png_size(shot), (1280, 1000))
        self.assertGreater(os.path.getsize(shot), 20000, "an empty page would compress to less")

    def test_a_healthy_page_says_pass(self):
        sim = self.sim()
        v = self.vigild({"probes": [http_probe("app_health", sim.url("/api/health"),
                                               interval="300ms")]})
        wait_for(lambda: json.loads(v.get("/health")[2])["status"] == "pass", 10, what="pass")
        r = chromium(v.base + "/", "--dump-dom")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn('<header class="pass" id="verdict"><div class="verdict">PASS</div>',
                      r.stdout)
        self.assertIn("No alerts", r.stdout)
        self.assertIn("No rules are configured", r.stdout)
