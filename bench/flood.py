#!/usr/bin/env python3
"""Readers against vigild's loop (issue #26): can clients that read
/alerts, /silences, /status, /metrics and the page slow /health down?

vigild polls 1,000 nginx targets at 1 s (tools.vigild_conf) plus "tick",
a 200 ms probe, and holds 1,000 silences. /health and /livez are timed
one request at a time, first for SECONDS with nobody else reading, then
for SECONDS while READERS processes (10 connections each, from
127.0.0.2, no token) read every read endpoint as fast as they are
answered. Both phases in one run, on the same vigild: the ratio is the
point on a shared machine. Also counted: tick's runs against the slots
it had (a missed slot is a starved loop), /livez answers that were not
200, reads served, and /status renderings.

Not run by bench/run (it needs only nginx); the figures in
docs/benchmarks.md came from it.

  bench/flood.py [SECONDS] [READERS]
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "tests", "e2e"))
import tools  # noqa: E402
from reader import READER  # noqa: E402  (the one test_hostile uses)

TOKEN = "bench-flood-token-4c1e9a"
PATHS = ["/alerts", "/silences", "/status", "/metrics", "/"] * 2


def timed(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t = time.monotonic()
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    ms = (time.monotonic() - t) * 1000
    c.close()
    return r.status, ms


def tick_runs(port):
    for p in tools.vigild_status(port)["probes"]:
        if p["name"] == "tick":
            return p["runs"]
    raise KeyError("tick")


def phase(port, secs, readers, nginx_port):
    """/health times (ms), /livez codes, tick runs, reads served; and
    nginx's static file timed the same way, for the machine's own share
    of the latency (the readers compete for the same 2 CPUs)."""
    procs = [subprocess.Popen([sys.executable, "-c", READER, str(port), str(secs),
                               ",".join(PATHS)], stdout=subprocess.PIPE, text=True)
             for _ in range(readers)]
    r0, renders0, t0 = tick_runs(port), tools.status_renders(port), time.monotonic()
    health, livez, floor = [], [], []
    end = t0 + secs
    while time.monotonic() < end:
        st, ms = timed(port, "/health")
        health.append(ms)
        livez.append(timed(port, "/livez")[0])
        floor.append(timed(nginx_port, "/static.json")[1])
        time.sleep(0.02)
    served = sum(int(p.communicate(timeout=120)[0] or 0) for p in procs)
    elapsed = time.monotonic() - t0
    runs = tick_runs(port) - r0
    return {"health": sorted(health), "floor": sorted(floor), "livez_bad": sum(1 for c in livez if c != 200),
            "livez": len(livez), "tick_runs": runs, "tick_slots": elapsed / 0.2,
            "served": served, "renders": tools.status_renders(port) - renders0}


def line(name, r):
    h = r["health"]
    return ("| %s | %d | %.1f | %.1f | %.1f | %.1f | %d of %d | %d of %.0f | %d | %d |" % (
        name, len(h), statistics.median(h), tools.pct(h, 99), h[-1],
        tools.pct(r["floor"], 99), r["livez_bad"], r["livez"], r["tick_runs"],
        r["tick_slots"], r["served"], r["renders"]))


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    readers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    tools.TMP = tempfile.mkdtemp(prefix="vigil-flood-")
    os.chmod(tools.TMP, 0o755)
    try:
        nginx = tools.Nginx()
        tick = {"name": "tick", "type": "http", "url": nginx.url(0),
                "interval": "200ms", "timeout": "1s"}
        conf, port = tools.vigild_conf(1000, nginx.url, extra=[tick])
        tok = os.path.join(tools.TMP, "api.token")
        fd = os.open(tok, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (TOKEN + "\n").encode())
        os.close(fd)
        with open(conf) as f:
            doc = json.loads(f.read().split("\n", 1)[1])
        doc["api"]["token_file"] = tok
        with open(conf, "w") as f:
            json.dump(doc, f)
        p = tools.start([tools.VIGILD, "-c", conf], "vigild")
        tools.wait_http(port, "/health")
        for i in range(1000):
            req = urllib.request.Request(
                "http://127.0.0.1:%d/silences" % port, method="POST",
                data=json.dumps({"rule": "t%d_down" % i, "author": "ops",
                                 "comment": "maintenance %d" % i,
                                 "duration": "2h"}).encode(),
                headers={"Authorization": "Bearer " + TOKEN})
            urllib.request.urlopen(req, timeout=30).read()
        time.sleep(5)       # past the start's first runs
        quiet = phase(port, secs, 0, nginx.port)
        flood = phase(port, secs, readers, nginx.port)
        tools.stop(p)
    finally:
        tools.stop_all()
        subprocess.run(["rm", "-rf", tools.TMP])
    m = tools.machine()
    print("bench/flood.py %g %d: %s, %d CPUs (%s), %s" % (
        secs, readers, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), m["nproc"],
        m["cpu"], m["memory"]))
    print("load before: %s" % tools.uptime())
    print()
    print("| phase | /health calls | p50 ms | p99 ms | max ms | nginx static p99 ms | "
          "/livez not 200 | tick runs of slots | reads served | /status renders |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(line("nobody else reading", quiet))
    print(line("%d reader processes x 10" % readers, flood))
    print()
    print("p99 ratio flood/quiet: %.1fx" % (tools.pct(flood["health"], 99) /
                                           tools.pct(quiet["health"], 99)))


if __name__ == "__main__":
    main()
