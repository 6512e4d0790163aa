"""The status page as a person sees it: loaded in headless Chromium while
the simulator is degraded, it must show the verdict and the firing alert
first; healthy and during an outage, at 1280 and 390 px wide, it must fold
suppressed alerts under their cause, break its lines over the outage and
never scroll sideways on a phone. The screenshots are kept under
build/[san/]artifacts/. And the badges: GET /badge/NAME.svg."""
import copy
import json
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
import xml.etree.ElementTree as ET

from harness import BUILD, E2E, free_port, http_probe, wait_for
from test_maint import iso
from test_operator import FAST, RULES, TOKEN, app_probes, call, token_file

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


SVG = "{http://www.w3.org/2000/svg}"


def screenshot(url, name, width, height=1400, *args):
    """A PNG of url at width x height px under ARTIFACTS; its path."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, name)
    if os.path.exists(shot):
        os.unlink(shot)
    r = chromium(url, f"--screenshot={shot}", f"--window-size={width},{height}",
                 "--hide-scrollbars", *args)
    assert r.returncode == 0, r.stderr[-2000:]
    assert png_size(shot) == (width, height), png_size(shot)
    return shot


# Lays the page out in a frame w px wide (headless Chromium's window is never
# narrower than 500 px) and writes into the DOM, where --dump-dom shows it,
# how wide the page is and which elements stick out past the right edge.
MEASURE = """<!doctype html><html><body style="margin:0">
<iframe id="f" width="%d" height="900" style="border:0"></iframe><script>
var f = document.getElementById('f');
f.onload = function () {
  var win = f.contentWindow, doc = f.contentDocument, w = win.innerWidth, out = [];
  doc.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5)
      out.push(e.tagName + '.' + (e.getAttribute('class') || '') + ':' + Math.round(r.right));
  });
  var m = document.createElement('div');
  m.id = 'measured';
  m.setAttribute('data-scroll', doc.documentElement.scrollWidth);
  m.setAttribute('data-inner', w);
  m.setAttribute('data-over', out.slice(0, 10).join(' '));
  document.body.appendChild(m);
};
f.srcdoc = %s;
</script></body></html>"""


def layout(v, width, workdir):
    """(scrollWidth, innerWidth, what sticks out) of the page at width px.

    The page runs no script and forbids it (CSP), so its HTML is measured
    as the source of a frame in a page of the test's, its refresh off."""
    status, _, body = call(v, "GET", "/")
    assert status == 200, status
    html = body.decode().replace('<meta http-equiv="refresh"', '<meta name="x-refresh"')
    path = os.path.join(workdir, f"measure-{width}.html")
    with open(path, "w") as f:
        f.write(MEASURE % (width, json.dumps(html).replace("</", "<\\/")))
    r = chromium("file://" + path, "--dump-dom", "--window-size=1280,1000",
                 "--virtual-time-budget=3000")
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r'<div id="measured" data-scroll="(\d+)" data-inner="(\d+)" '
                  r'data-over="([^"]*)"', r.stdout)
    assert m is not None, r.stdout[-2000:]
    return int(m.group(1)), int(m.group(2)), m.group(3)


# The history's file (lib/engine/history_file.h, version 2): a 128-byte
# header, then one 1208-byte block per hour at (hour % 2160): its CRC-32,
# its hour, 60 minutes of (ok, failed, unknown u16; worst, has_value u8;
# min, avg, max f32), little-endian.
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
BLOCKS = 90 * 24
BLOCK = 8 + 60 * 20


def history_header(name):
    h = bytearray(128)
    h[0:8] = b"VIGILHST"
    struct.pack_into("<IIII", h, 8, 2, 0, BLOCKS, BLOCK)
    h[24:24 + len(name)] = name.encode()
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:124])))
    return bytes(h)


def seed_history(state_dir, name, minute, now_ms):
    """Writes probe name's file with an hour block for every hour of the
    last 90 days before this one; minute(t) says each minute: None (no
    data) or (ok, failed, avg_ms)."""
    d = os.path.join(state_dir, "history")
    os.makedirs(d, mode=0o700, exist_ok=True)
    buf = bytearray(128 + BLOCKS * BLOCK)
    buf[:128] = history_header(name)
    this_hour = now_ms // HOUR_MS
    for hour in range(this_hour - 89 * 24 - now_ms % DAY_MS // HOUR_MS, this_hour):
        blk = bytearray(BLOCK)
        struct.pack_into("<I", blk, 4, hour & 0xffffffff)
        for i in range(60):
            m = minute((hour * 60 + i) * 60000)
            if m is None:
                continue
            ok, failed, avg = m
            struct.pack_into("<HHHBBfff", blk, 8 + i * 20, ok, failed, 0, 0, 1,
                             avg * 0.7, avg, avg * 1.8)
        struct.pack_into("<I", blk, 0, zlib.crc32(bytes(blk[4:])))
        off = 128 + (hour % BLOCKS) * BLOCK
        buf[off:off + BLOCK] = blk
    with open(os.path.join(d, f"probe-{name}.hist"), "wb") as f:
        f.write(buf)


def demo_minute(now_ms):
    """Ninety days of a service as the README shows it: mostly clean, a
    few bad days, a week vigild was not running, and in the last day a
    20-minute outage and an hour with no data."""
    today = now_ms - now_ms % DAY_MS

    def minute(t):
        day = (today - (t - t % DAY_MS)) // DAY_MS     # days ago
        ago = now_ms - t
        if 70 <= day <= 75 or 14 * HOUR_MS <= ago < 15 * HOUR_MS:
            return None
        hour = t % DAY_MS / HOUR_MS
        avg = 0.35 + 0.15 * math.sin((hour - 9) / 24 * 2 * math.pi) + 0.02 * (day % 5)
        bad = ((day == 12 and 600 <= t % DAY_MS // 60000 < 645) or
               (day == 30 and 200 <= t % DAY_MS // 60000 < 205) or
               (day == 61 and 300 <= t % DAY_MS // 60000 < 480) or
               6 * HOUR_MS <= ago < 6 * HOUR_MS + 20 * 60000)
        return (0, 6, 1.0) if bad else (6, 0, avg)
    return minute


def outage_rules():
    """RULES, each behind app_health_down: an outage suppresses them all."""
    rules = copy.deepcopy(RULES)
    for r in rules:
        r["depends_on"] = "app_health_down"
    return rules


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

    def test_outage_folds_suppressed_alerts_and_breaks_the_lines(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild({"probes": app_probes(sim, timeout="1s"), "rules": outage_rules()})
        wait_for(lambda: json.loads(v.get("/health")[2])["status"] == "pass", 15, what="pass")
        # Some history before the outage, so the lines have a left side.
        time.sleep(3)
        for width in (1280, 390):
            screenshot(v.base + "/", f"page-healthy-{width}.png", width)
            scroll, inner, over = layout(v, width, self.workdir)
            self.assertEqual(inner, width)
            self.assertLessEqual(scroll, inner, f"scrolls sideways at {width} px: {over}")

        sim.scenario("down")
        wait_for(lambda: v.rule("app_health_down")["state"] == "firing", 15,
                 what="app_health_down firing")
        wait_for(lambda: sum(1 for r in v.status()["rules"]
                             if r["state"] == "suppressed") >= 3, 15, what="3 suppressed")
        r = chromium(v.base + "/", "--dump-dom")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        # The verdict first: the body opens with it.
        body = dom.split("<body>", 1)[1]
        self.assertTrue(body.startswith('<header class="fail" id="verdict">'), body[:200])
        # The cause first, its dependents folded under it, closed, counted.
        alerts = dom.split('<section id="alerts">', 1)[1].split("</section>", 1)[0]
        first = re.search(r'<li class="alert ([a-z]+)" data-rule="([a-z0-9_]+)"', alerts)
        self.assertEqual(first.group(2), "app_health_down")
        fold = re.search(r'<details class="folded" data-cause="app_health_down" '
                         r'data-count="(\d+)"><summary>(\d+) more suppressed by '
                         r'app_health_down</summary>(.*?)</details>', alerts, re.S)
        self.assertIsNotNone(fold, alerts[:3000])
        n = int(fold.group(1))
        self.assertGreaterEqual(n, 3)
        self.assertEqual(int(fold.group(2)), n)
        self.assertEqual(fold.group(3).count('<li class="alert suppressed"'), n)
        # Nothing suppressed outside the fold, and no line repeating why.
        outside = alerts.replace(fold.group(0), "")
        self.assertNotIn('class="alert suppressed"', outside)
        self.assertNotIn("Suppressed by", alerts)
        self.assertIn("prefers-color-scheme:dark", dom)
        # Each probe's history: the one down first, 90 day bars, today's
        # coloured and titled with its numbers, and its uptime.
        hist = dom.split('<section id="history">', 1)[1].split("</section>", 1)[0]
        arts = re.findall(r'<article class="ph" data-probe="([a-z_]+)">(.*?)</article>', hist, re.S)
        self.assertEqual(sorted(a[0] for a in arts), ["app_advanced", "app_health"])
        for name, art in arts:
            self.assertEqual(art.count('<rect class="day '), 90, name)
            self.assertEqual(art.count('<rect class="day d-none"'), 89, name)
            self.assertRegex(art, r'<rect class="day d-[a-z]+" x="890" y="0" width="8" '
                                  r'height="34" rx="1.5"><title>\d{4}-\d\d-\d\d: [\d.]+ % up, '
                                  r'\d+ of \d+ minutes down')
            self.assertRegex(art, r'<span data-window="24h">24h <b>\d+(\.\d\d)?&nbsp;%</b>')
        self.assertIn("<svg class=\"chart\"", hist)
        # The incident timeline: the outage, still firing.
        inc = dom.split('<section id="incidents">', 1)[1].split("</section>", 1)[0]
        self.assertRegex(inc, r'<li class="incident critical open" data-rule="app_health_down">'
                              r'<span class="badge">CRITICAL</span><b>app_health_down</b> fired '
                              r'\d\d:\d\d:\d\d UTC, <b>still firing</b>')
        for width in (1280, 390):
            screenshot(v.base + "/", f"page-outage-{width}.png", width)
            scroll, inner, over = layout(v, width, self.workdir)
            self.assertLessEqual(scroll, inner, f"scrolls sideways at {width} px: {over}")

        # Back up: the line of a metric the outage cut breaks over it
        # instead of joining the two sides straight.
        time.sleep(3)
        sim.scenario("healthy")
        wait_for(lambda: v.rule("app_health_down")["state"] in ("ok", "resolved"), 15,
                 what="recovered")
        time.sleep(2)
        status, _, body = call(v, "GET", "/")
        card = re.search(r'<figure class="card [a-z]+" data-rule="memory">.*?</figure>',
                         body.decode(), re.S).group(0)
        path = re.search(r'<path d="([^"]*)"', card).group(1)
        self.assertGreaterEqual(path.count("M"), 2, card)
        # The response-time chart marks the outage red, where its line breaks.
        html = body.decode()
        art = re.search(r'<article class="ph" data-probe="app_health">.*?</article>', html,
                        re.S).group(0)
        down = re.findall(r'<rect class="down" x="([\d.]+)" y="0" width="([\d.]+)" '
                          r'height="64" data-from="(\d+)" data-to="(\d+)"><title>'
                          r'[\d:]+&ndash;[\d:]+ UTC: (\d+) of (\d+) runs failed</title>', art)
        self.assertGreaterEqual(len(down), 1, art)
        self.assertGreater(int(down[0][4]), 0)
        # (By the minute: in a test this short, the line may be all red.)
        avg = re.search(r'<path class="avg" d="([^"]*)"', art)
        xs = [float(x) for x in re.findall(r"[ML]([\d.]+) ", avg.group(1))] if avg else []
        for x0, w, *_ in down:
            self.assertFalse([x for x in xs if float(x0) < x < float(x0) + float(w)],
                             f"the line crosses the outage: {art}")
        # The incident resolved, and for how long it lasted.
        self.assertRegex(html, r'data-rule="app_health_down"><span class="badge">CRITICAL</span>'
                               r'<b>app_health_down</b> fired \d\d:\d\d:\d\d UTC, resolved '
                               r'\d\d:\d\d:\d\d UTC after \d+s')
        shot = screenshot(v.base + "/", "page-history-1280.png", 1280, 1800)
        self.assertGreater(os.path.getsize(shot), 20000)

    def test_a_ratio_across_two_probes_is_drawn(self):
        # Errors from one probe, requests from another: their samples never
        # share a time, and the card said "no samples in the last hour"
        # next to the rule's live value.
        sim = self.sim(args=["--rps", "2000"])
        url = sim.url("/api/health/advanced")
        v = self.vigild({
            "probes": [
                http_probe("errs", url, interval=FAST, metrics={
                    "errors_total": {"path": "/metrics/requests/errors", "type": "counter"}}),
                http_probe("reqs", url, interval="500ms", metrics={
                    "requests_total": {"path": "/metrics/requests/total", "type": "counter"}})],
            "rules": [{"name": "split_error_rate",
                       "ratio": {"numerator": "errs.errors_total",
                                 "denominator": "reqs.requests_total", "scale": 100},
                       "aggregate": "delta", "window": "3s", "op": ">", "warn": 5,
                       "unit": "%"}]})
        wait_for(lambda: v.rule("split_error_rate").get("value") is not None, 15,
                 what="a value")
        time.sleep(2)
        status, _, body = call(v, "GET", "/")
        card = re.search(r'<figure class="card [a-z]+" data-rule="split_error_rate">.*?</figure>',
                         body.decode(), re.S).group(0)
        self.assertNotIn("no samples", card)
        self.assertRegex(card, r'<path d="M[\d.]+ [\d.]+ L')
        self.assertRegex(card, r'<div class="range">last \d+s: [\d.]+&ndash;[\d.]+')


class PageMaintenance(E2E):
    def test_a_window_is_said_first_and_the_verdict_stays_pass(self):
        """During planned maintenance, the page says so at the top, under a
        verdict that agrees with /health (pass), and each held alert says
        which window holds it; at 1280 and 390 px, no sideways scroll."""
        sim = self.sim(args=["--rps", "2000"])
        end = time.time() + 3600
        v = self.vigild({"probes": app_probes(sim, timeout="1s"), "rules": outage_rules(),
                         "maintenance": [{"name": "db_upgrade", "all": True,
                                          "start": iso(time.time() - 60), "end": iso(end),
                                          "comment": "CHG-42 <b>postgres 16</b>"}]})
        sim.scenario("down")
        wait_for(lambda: v.rule("app_health_down")["state"] == "firing", 15,
                 what="app_health_down firing")
        self.assertEqual(json.loads(v.get("/health")[2])["status"], "pass")
        r = chromium(v.base + "/", "--dump-dom")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        body = r.stdout.split("<body>", 1)[1]
        self.assertTrue(body.startswith('<header class="pass" id="verdict"><div '
                                        'class="verdict">PASS</div><div class="why">'
                                        '1 alert firing in maintenance'), body[:300])
        strip = body.split("</header>", 1)[1]
        self.assertTrue(strip.startswith('<section class="maint" id="maintenance"><p '
                                         'class="active">In maintenance: <b>db_upgrade</b> '
                                         'until '), strip[:300])
        # The comment is text, not markup.
        self.assertIn(": CHG-42 &lt;b&gt;postgres 16&lt;/b&gt;</p>", strip.split("</section>")[0])
        alerts = body.split('<section id="alerts">', 1)[1].split("</section>", 1)[0]
        self.assertRegex(alerts, r'data-rule="app_health_down".*?In maintenance \(db_upgrade\) '
                                 r'until [^<]+: notifications held\.')
        for width in (1280, 390):
            screenshot(v.base + "/", f"page-maintenance-{width}.png", width)
            scroll, inner, over = layout(v, width, self.workdir)
            self.assertLessEqual(scroll, inner, f"scrolls sideways at {width} px: {over}")


class Badge(E2E):
    def badge(self, v, path):
        status, headers, body = call(v, "GET", path)
        root = ET.fromstring(body)      # well-formed, whatever the name
        self.assertEqual(root.tag, SVG + "svg")
        self.assertEqual(headers["Content-Type"], "image/svg+xml")
        state = root.find(f".//{SVG}rect[@class='state']")
        texts = [t.text for t in root.iter(SVG + "text")]
        return status, headers, state.get("fill"), texts

    def test_badges_say_up_and_down_in_colour(self):
        sim = self.sim()
        dead = free_port()
        v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                         "probes": [http_probe("web", sim.url("/api/health"), interval="300ms"),
                                    http_probe("gone", f"http://127.0.0.1:{dead}/",
                                               interval="300ms", timeout="1s")]})
        wait_for(lambda: v.probe("web")["state"] == "up" and
                 v.probe("gone")["state"] == "down", 15, what="web up, gone down")

        # No token: readable wherever the page is (here, on loopback).
        status, headers, fill, texts = self.badge(v, "/badge/web.svg")
        self.assertEqual(status, 200)
        self.assertEqual(fill, "#4c1")
        self.assertEqual(texts[0], "web")
        self.assertRegex(texts[-1], r"^up 100%$")
        self.assertEqual(headers["Cache-Control"], "max-age=60")
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])

        status, _, fill, texts = self.badge(v, "/badge/gone.svg?window=7d")
        self.assertEqual(status, 200)
        self.assertEqual(fill, "#e05d44")
        self.assertRegex(texts[-1], r"^down 0\.00%$")

        # A rule has a badge too: the probe's implicit <name>_down rule.
        status, _, fill, texts = self.badge(v, "/badge/gone_down.svg")
        self.assertEqual(status, 200)
        self.assertIn(texts[-1], ("critical", "warning"))

        # Unknown: 404, still an image, the name escaped.
        status, headers, fill, texts = self.badge(v, "/badge/%3Cno%26such%3E.svg")
        self.assertEqual(status, 404)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(texts[0], "<no&such>")
        self.assertEqual(texts[-1], "not found")
        self.assertEqual(call(v, "GET", "/badge/web.png")[0], 404)
        self.assertEqual(call(v, "GET", "/badge/web.svg?window=1y")[0], 400)
        self.assertEqual(call(v, "POST", "/badge/web.svg", token=TOKEN, body="")[0], 405)


class PageHistory(E2E):
    def test_ninety_days_restored_and_drawn(self):
        """A history kept on disk (seeded: ninety days of a service) comes
        back at start and is drawn: the bars coloured by each day's uptime,
        the chart's gap and outage where they were, the phone layout."""
        sim = self.sim(args=["--rps", "2000"])
        state = os.path.join(self.workdir, "state")
        now = int(time.time() * 1000)
        for name in ("app_health", "app_advanced"):
            seed_history(state, name, demo_minute(now), now)
        v = self.vigild({"state_dir": state, "probes": app_probes(sim),
                         "rules": outage_rules()})
        wait_for(lambda: json.loads(v.get("/health")[2])["status"] == "pass", 15, what="pass")
        sim.scenario("down")
        wait_for(lambda: v.rule("app_health_down")["state"] == "firing", 15, what="outage")
        time.sleep(2)
        sim.scenario("healthy")
        wait_for(lambda: v.rule("app_health_down")["state"] in ("ok", "resolved"), 15,
                 what="recovered")
        wait_for(lambda: json.loads(v.get("/health")[2])["status"] == "pass", 15,
                 what="pass again")

        r = chromium(v.base + "/", "--dump-dom")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        art = re.search(r'<article class="ph" data-probe="app_health">.*?</article>',
                        r.stdout, re.S).group(0)
        days = re.findall(r'<rect class="day (d-[a-z]+)" x="(\d+)"[^>]*><title>([^<]*)</title>',
                          art)
        self.assertEqual(len(days), 90)
        by_ago = {89 - int(x) // 10: (cls, title) for cls, x, title in days}
        # Day by day, as seeded: 45 minutes down of 1440, 5, 180.
        self.assertEqual(by_ago[12][0], "d-major", by_ago[12])
        self.assertRegex(by_ago[12][1], r"^\d{4}-\d\d-\d\d: 96\.87 % up, 45 of 1440 "
                                        r"minutes down, response avg [\d]+ ms")
        self.assertEqual(by_ago[30][0], "d-minor", by_ago[30])
        self.assertEqual(by_ago[61][0], "d-bad", by_ago[61])
        self.assertEqual(by_ago[50][0], "d-ok", by_ago[50])
        self.assertTrue(all(by_ago[k][0] == "d-none" for k in range(70, 76)))
        self.assertIn("no data", by_ago[72][1])
        # The last 24 h: the seeded hour without data grey, the seeded
        # outage and today's red, by five minutes.
        chart = re.search(r'<svg class="chart".*?</svg>', art, re.S).group(0)
        self.assertIn('aria-label="app_health: response time over the last 24 h"', chart)
        gaps = re.findall(r'<rect class="gap"[^>]*data-from="(\d+)" data-to="(\d+)"', chart)
        self.assertTrue(any(int(a) <= now - 14 * HOUR_MS - 5 * 60000 and
                            int(b) >= now - 14 * HOUR_MS + 5 * 60000 - HOUR_MS
                            for a, b in gaps), gaps)
        downs = re.findall(r'<rect class="down"[^>]*data-from="(\d+)" data-to="(\d+)"', chart)
        self.assertGreaterEqual(len(downs), 2, chart[:3000])
        self.assertTrue(any(int(a) <= now - 6 * HOUR_MS - 15 * 60000 and
                            int(b) >= now - 6 * HOUR_MS for a, b in downs), downs)
        self.assertRegex(art, r'<span data-window="90d">90d <b>99\.\d\d&nbsp;%</b>')
        # The badge: the 90 days' uptime.
        status, _, body = call(v, "GET", "/badge/app_health.svg?window=90d")
        self.assertEqual(status, 200)
        self.assertRegex(body.decode(), r">up 99\.\d\d%</text>")

        for width in (1280, 390):
            scroll, inner, over = layout(v, width, self.workdir)
            self.assertLessEqual(scroll, inner, f"scrolls sideways at {width} px: {over}")
        screenshot(v.base + "/", "page-history-390.png", 390, 2400)
        # Dark, as a browser set to prefer it asks (prefers-color-scheme).
        screenshot(v.base + "/", "page-history-dark-1280.png", 1280, 1100, "--force-dark-mode")
        shot = screenshot(v.base + "/", "page-with-history.png", 1280, 1100)
        self.assertGreater(os.path.getsize(shot), 30000)
