#!/usr/bin/env python3
"""What a Prometheus scrape of /metrics costs vigild's loop at 10,000 nginx
targets polled every second: SCRAPES scrapes (gzip, as Prometheus asks),
each finding the last rendering stale (2.2 s apart), while /health is asked
every 10 ms. Prints the loop's time per scrape from
vigil_http_render_loop_seconds_total{endpoint="/metrics"} (absent before
issue #24: then "-"), where renderings were made, and /health's latency
while scraping and while not. Not run by bench/run; see bench/PROFILE.md.

    VIGIL_BUILD=build python3 bench/scrape.py [targets] [scrapes]
"""
import gzip
import http.client
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
SCRAPES = int(sys.argv[2]) if len(sys.argv) > 2 else 12


def scrape(port):
    """(status, text); (0, "") when the answer was cut short."""
    try:
        return scrape_once(port)
    except (OSError, http.client.HTTPException):
        return 0, ""


def scrape_once(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    body = r.read()
    if r.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    c.close()
    return r.status, body.decode()


def counter(text, name, labels):
    m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)),
                  text, re.M)
    return float(m.group(1)) if m else None


def health(port, until, out):
    while time.monotonic() < until:
        t = time.monotonic()
        bench.get(port, "/health", timeout=30)
        out.append((time.monotonic() - t) * 1000)
        time.sleep(0.01)


def summary(ms):
    ms = sorted(ms)
    return "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d)" % (
        bench.pct(ms, 50), bench.pct(ms, 99), ms[-1], len(ms))


bench.TMP = tempfile.mkdtemp(prefix="vigil-scrape-")
os.chmod(bench.TMP, 0o755)
try:
    ng = bench.Nginx()
    conf, port = bench.vigild_conf(N, ng.url)
    p = bench.start([bench.VIGILD, "-c", conf], "vigild")
    bench.wait_http(port, "/health", timeout=60)
    time.sleep(6)
    quiet = []
    health(port, time.monotonic() + 5, quiet)
    scrape(port)               # the first: its cost unknown, on the loop
    time.sleep(2.2)
    _, first = scrape(port)    # shows the first's cost
    time.sleep(2.2)
    loop0 = counter(first, "vigil_http_render_loop_seconds_total",
                    'endpoint="/metrics"')
    during, sizes, waits, failed = [], [], [], 0
    th = threading.Thread(target=health, args=(
        port, time.monotonic() + SCRAPES * 2.2 + 1, during))
    th.start()
    for _ in range(SCRAPES):
        t = time.monotonic()
        status, text = scrape(port)
        waits.append((time.monotonic() - t) * 1000)
        sizes.append(len(text))
        failed += status != 200
        time.sleep(2.2)
    th.join()
    time.sleep(2.2)
    _, last = scrape(port)     # its rendering shows the scrapes before it
    loop1 = counter(last, "vigil_http_render_loop_seconds_total",
                    'endpoint="/metrics"')
    # From first's snapshot to last's: first's own fork, and SCRAPES.
    per = "-" if loop0 is None or loop1 is None else "%.1f ms" % (
        (loop1 - loop0) * 1000 / (SCRAPES + 1))
    print("targets %d, /metrics %.1f MB, %d scrapes 2.2 s apart (%d cut "
          "short), vigild RSS %d MiB" % (N, max(sizes) / 1e6, SCRAPES,
                                         failed, bench.rss_kib(p.pid) / 1024))
    print("loop per scrape (vigil_http_render_loop_seconds_total): " + per)
    for where in ("loop", "aside"):
        print("renders %s: %s" % (where, counter(
            last, "vigil_http_renders_total",
            'endpoint="/metrics",where="%s"' % where)))
    print("scrape wait: " + summary(waits))
    print("/health quiet: " + summary(quiet))
    print("/health while scraping: " + summary(during))
finally:
    bench.stop_all()
