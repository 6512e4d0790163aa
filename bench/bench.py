#!/usr/bin/env python3
"""vigil benchmarks side by side: vigild, Monit, blackbox_exporter, nginx,
and the floor (bench/floor.c: raw epoll polling of the same targets).

Run by bench/run (which installs the tools and builds vigild and the
floor). The phases are here, the tools in bench/tools.py, the report in
bench/report.py; bench/RESULTS.md is written at the end. Python standard
library only.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time

import report
import tools
from tools import (BIG, FLOOR, FLOOR_BATCH_MS, METRICS_SECS, NS, OUT, R,
                   ROUNDS, VIGILD, WARMUP, WINDOW, gap_stats, get, log,
                   loadavg, measure_pid, monit_conf, pct, put, reused_pct,
                   rss_kib, runs_sum, start, start_blackbox, start_monit,
                   start_sim, status_renders, stop, stop_all, uptime,
                   vigild_conf, vigild_status, wait_http, wrk, Driver, Nginx)


def phase_vigild_big(nginx, n):
    """N = 10,000: /status is read only once, after the window, so that the
    window measures polling alone (vigild renders /status on its loop; the
    read's duration is reported)."""
    conf, port = vigild_conf(n, nginx.url)
    p = start([VIGILD, "-c", conf], "vigild-%d" % n)
    wait_http(port, "/health", timeout=60)
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    t0 = time.monotonic()
    try:
        s = json.loads(get(port, "/status", timeout=60)[1])
    except (OSError, ValueError, http.client.HTTPException) as e:
        log("vigild N=%d: /status failed after %.1f s: %r" % (
            n, time.monotonic() - t0, e))
        s = {"probes": [], "vigild": {"store": {}}}
    status_s = time.monotonic() - t0
    late = [pr["start_lateness_ms"] for pr in s["probes"]]
    done, dev = gap_stats(m["per"])
    res = dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        runs_per_s="", done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        late_p50=pct(late, 50), late_p99=pct(late, 99),
        late_max=max([pr["start_lateness_max_ms"] for pr in s["probes"]]
                     or [float("nan")]),
        missed=sum(pr["missed_slots"] for pr in s["probes"]),
        skipped=sum(pr["skipped_in_flight"] for pr in s["probes"]),
        down=sum(1 for pr in s["probes"] if pr["state"] != "up"),
        store=s["vigild"]["store"], reused=reused_pct(m["per"]),
        status_s=status_s, status_bytes=0, port=port)
    # Then /status read once a second for 10 s while polling: what a
    # person or a script watching it costs the probes at this N.
    off, t0, reads = nginx.offset(), time.time(), []
    for _ in range(10):
        r0 = time.monotonic()
        try:
            get(port, "/status", timeout=60)
            reads.append(time.monotonic() - r0)
        except (OSError, http.client.HTTPException):
            reads.append(float("nan"))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - r0)))
    t1 = time.time()
    time.sleep(0.3)
    done_r, dev_r = gap_stats(nginx.hits(off, t0, t1))
    # /metrics before anything else reads it, so that its first scrape
    # is the first since start
    if METRICS_SECS > 0:
        R["metrics"] = metrics_scrapes(nginx, port, n)
    res.update(
        reads_s=reads, reads_done_per_s=done_r / (t1 - t0),
        reads_gap_p99=pct(dev_r, 99), reads_gap_max=max(dev_r or [0]),
        renders=status_renders(port))
    with open(os.path.join(tools.TMP, "vigild-%d.out" % n), "rb") as f:
        lags = re.findall(rb"event=loop_lag lag_ms=(\d+)", f.read())
    res["loop_lags_ms"] = [int(x) for x in lags]
    put("vigild", n, res)
    return p, port


# vigild's own count of loop time spent rendering /metrics (helper of
# #24); older vigilds do not have it.
RENDER_LOOP = re.compile(
    rb'^vigil_http_render_loop_seconds_total\{[^}]*endpoint="/metrics"'
    rb'[^}]*\} (\S+)$', re.M)


class HealthPoller(threading.Thread):
    """GET /health every 1 ms on one keep-alive connection: how long each
    answer took, by when it was asked. vigild answers /health on its loop,
    so a long answer is a loop stall seen from outside."""

    REQ = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.samples = []       # (asked at, seconds)
        self.errors = 0
        self.halt = threading.Event()

    def one(self, sk):
        t0 = time.perf_counter()
        sk.sendall(self.REQ)
        buf = b""
        while True:
            d = sk.recv(4096)
            if not d:
                raise OSError("closed")
            buf += d
            h = buf.find(b"\r\n\r\n")
            if h < 0:
                continue
            m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", buf[:h])
            if len(buf) >= h + 4 + (int(m.group(1)) if m else 0):
                break
        self.samples.append((t0, time.perf_counter() - t0))

    def run(self):
        sk = None
        while not self.halt.is_set():
            t0 = time.perf_counter()
            try:
                if sk is None:
                    sk = socket.create_connection(("127.0.0.1", self.port),
                                                  timeout=10)
                    sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.one(sk)
            except OSError:
                self.errors += 1
                if sk:
                    sk.close()
                sk = None
            time.sleep(max(0.0, 0.001 - (time.perf_counter() - t0)))
        if sk:
            sk.close()

    def worst(self, t0, t1):
        """The longest answer asked for in [t0, t1) (perf_counter), ms."""
        v = [d for t, d in self.samples if t0 <= t < t1]
        return max(v) * 1000.0 if v else float("nan")


def scrape(port, gz):
    """One /metrics scrape: wall s, bytes, Content-Encoding, vigild's
    render-loop counter, and the answer (uncompressed)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    c.request("GET", "/metrics",
              headers={"Accept-Encoding": "gzip"} if gz else {})
    r = c.getresponse()
    body = r.read()
    wall = time.perf_counter() - t0
    enc = r.getheader("Content-Encoding", "")
    c.close()
    plain = body
    if enc == "gzip":
        import gzip
        plain = gzip.decompress(body)
    m = RENDER_LOOP.search(plain)
    return wall, len(body), enc, float(m.group(1)) if m else None, plain


def metrics_scrapes(nginx, port, n):
    """/metrics scraped once every 2 s for METRICS_SECS (the first since
    vigild started, then the others), then once with Accept-Encoding:
    gzip, while a HealthPoller measures the loop's stalls. Per scrape:
    wall time, bytes, the longest /health answer meanwhile, and the loop
    time vigild counted for it. A body's counter was read before its own
    rendering, so a scrape's cost is the counter's growth by the next
    scrape's body (one more read, 2.5 s later, closes the series); only
    this scraper reads /metrics, so each growth is at most one
    rendering."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)   # the poller's clock is not the GIL's
    hp = HealthPoller(port)
    hp.start()
    time.sleep(2.0)
    quiet = hp.worst(time.perf_counter() - 2.0, time.perf_counter())
    out, ctrs, fresh, last = [], [], [], None
    count = max(1, int(METRICS_SECS / 2))
    off, w0 = nginx.offset(), time.time()
    for k in range(count + 2):
        gz = k == count
        t0 = time.perf_counter()
        try:
            wall, size, enc, ctr, body = scrape(port, gz)
        except (OSError, http.client.HTTPException) as e:
            log("/metrics scrape failed: %r" % e)
            wall, size, enc, ctr, body = float("nan"), 0, "", None, None
        # the same bytes as the scrape before: a shared answer, made then
        fresh.append(body is None or body != last)
        last = body
        ctrs.append(ctr)
        if k == count + 1:
            break           # the closing read
        time.sleep(0.1)     # /health asked just after the answer counts
        out.append(dict(first=k == 0, gzip=gz, enc=enc, shared=not fresh[k],
                        wall_ms=wall * 1000.0, bytes=size, loop_ms=None,
                        health_max_ms=hp.worst(t0, time.perf_counter())))
        time.sleep(max(0.0, (2.5 if k == count else 2.0) -
                       (time.perf_counter() - t0)))
    w1 = time.time()
    hp.halt.set()
    hp.join()
    sys.setswitchinterval(switch)
    for k, x in enumerate(out):
        # a rendering's cost shows in the next rendering's counter
        nxt = next((j for j in range(k + 1, len(ctrs)) if fresh[j]), None)
        if x["shared"]:
            x["loop_ms"] = 0.0 if ctrs[k] is not None else None
        elif nxt is not None and ctrs[k] is not None and \
                ctrs[nxt] is not None:
            x["loop_ms"] = (ctrs[nxt] - ctrs[k]) * 1000.0
        log("/metrics at N=%d: %s" % (n, x))
    time.sleep(0.3)
    done, dev = gap_stats(nginx.hits(off, w0, w1))
    return dict(n=n, scrapes=out, health_quiet_ms=quiet,
                health_errors=hp.errors, health_count=len(hp.samples),
                done_per_s=done / (w1 - w0), gap_p99=pct(dev, 99))


def phase_vigild(nginx, n, fresh=False):
    """fresh: every probe with new_connection (a connection per run, as
    Monit and blackbox_exporter do), under the tool name "vigild-new"."""
    tool = "vigild-new" if fresh else "vigild"
    conf, port = vigild_conf(n, nginx.url, probe_opts={
        "new_connection": True} if fresh else None)
    p = start([VIGILD, "-c", conf], "%s-%d" % (tool, n))
    wait_http(port, "/health")
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx, sample=lambda: vigild_status(port))
    # lateness: /status sampled once a second (after the CPU window, so
    # the sampling does not count in the CPU figure)
    late = []
    lmax = 0.0
    for _ in range(10):
        s = vigild_status(port)
        for pr in s["probes"]:
            late.append(pr["start_lateness_ms"])
            lmax = max(lmax, pr["start_lateness_max_ms"])
        time.sleep(1)
    s1 = m["s1"]
    st_bytes = s1["vigild"]["store"]
    missed = sum(pr["missed_slots"] for pr in s1["probes"])
    skipped = sum(pr["skipped_in_flight"] for pr in s1["probes"])
    runs = runs_sum(s1) - runs_sum(m["s0"])
    done, dev = gap_stats(m["per"])
    _, sbody = get(port, "/status")
    put(tool, n, dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        runs_per_s=runs / m["secs"], done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        late_p50=pct(late, 50), late_p99=pct(late, 99), late_max=lmax,
        missed=missed, skipped=skipped, store=st_bytes,
        reused=reused_pct(m["per"]),
        status_bytes=len(sbody)))
    stop(p)


def phase_monit(nginx, n):
    conf, port = monit_conf(
        n, lambda i: ("127.0.0.1", nginx.port, "/t/%d" % i))
    p = start_monit(conf, "monit-%d" % n)
    wait_http(port, "/")
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    done, dev = gap_stats(m["per"])
    put("monit", n, dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        reused=reused_pct(m["per"])))
    stop(p)


def phase_blackbox(nginx, n):
    p, port = start_blackbox()
    time.sleep(2)
    idle = rss_kib(p.pid)
    urls = [nginx.url(i) for i in range(n)]
    d = Driver(port, urls)
    d.start(WARMUP + WINDOW + 1)
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    d.join()
    done, dev = gap_stats(m["per"])
    put("blackbox", n, dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        idle_rss_kib=idle, done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        reused=reused_pct(m["per"]), driver_late=d.late))
    stop(p)


def phase_floor(nginx, n, fresh=False):
    """bench/floor.c polling the same targets: what one epoll loop with
    raw sockets spends per probe, keep-alive or ("floor-new") a new
    connection per run."""
    tool = "floor-new" if fresh else "floor"
    if not os.path.exists(FLOOR):
        log("%s: no %s (bench/run builds it); skipped" % (tool, FLOOR))
        return
    p = start([FLOOR] + (["-n"] if fresh else []) +
              (["-b", str(FLOOR_BATCH_MS)] if FLOOR_BATCH_MS else []) +
              [str(nginx.port), str(n)], "%s-%d" % (tool, n))
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    stop(p)
    with open(os.path.join(tools.TMP, "%s-%d.out" % (tool, n))) as f:
        counts = f.read().strip().splitlines()
    done, dev = gap_stats(m["per"])
    put(tool, n, dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        reused=reused_pct(m["per"]), counts=counts[-1] if counts else ""))


def phase_wrk(nginx, n):
    """The status endpoints under wrk while vigild, then Monit, poll n
    targets; nginx's static file first, as the floor."""
    wrk("http://127.0.0.1:%d/static.json" % nginx.port,
        "nginx static file (floor)")
    conf, port = vigild_conf(n, nginx.url)
    p = start([VIGILD, "-c", conf], "vigild-wrk-%d" % n)
    wait_http(port, "/health")
    time.sleep(WARMUP)
    wrk("http://127.0.0.1:%d/health" % port, "vigild /health")
    r0 = status_renders(port)
    wrk("http://127.0.0.1:%d/status" % port, "vigild /status")
    wrk("http://127.0.0.1:%d/status" % port, "vigild /status (gzip)",
        headers=("Accept-Encoding: gzip",))
    R[("vigild", "status_renders")] = status_renders(port) - r0
    stop(p)
    conf, port = monit_conf(
        n, lambda i: ("127.0.0.1", nginx.port, "/t/%d" % i))
    p = start_monit(conf, "monit-wrk-%d" % n)
    wait_http(port, "/")
    time.sleep(WARMUP)
    wrk("http://127.0.0.1:%d/" % port, "monit status page /")
    stop(p)


def idle_rss(nginx):
    conf, port = vigild_conf(1, nginx.url)
    p = start([VIGILD, "-c", conf], "vigild-idle")
    wait_http(port, "/health")
    time.sleep(3)
    R["vigild_idle_rss"] = rss_kib(p.pid)
    stop(p)
    conf, port = monit_conf(1, lambda i: ("127.0.0.1", nginx.port, "/t/0"))
    p = start_monit(conf, "monit-idle")
    wait_http(port, "/")
    time.sleep(3)
    R["monit_idle_rss"] = rss_kib(p.pid)
    stop(p)
    log("idle RSS vigild %d KiB, monit %d KiB" % (R["vigild_idle_rss"],
                                                 R["monit_idle_rss"]))


def phase_faults(nginx, n):
    """n-3 healthy nginx targets plus one hanging, one 2 s slow, one 200 ms
    slow (portal-sim); the others' schedule in vigild and in Monit."""
    _, hang = start_sim("hang")
    _, slow2 = start_sim("slow", 2000)
    _, slow200 = start_sim("slow", 200)
    specials = [("hang", hang), ("slow2s", slow2), ("slow200ms", slow200)]
    extra = [{"name": nm, "type": "http",
              "url": "http://127.0.0.1:%d/api/health" % pt}
             for nm, pt in specials]
    conf, port = vigild_conf(n - 3, nginx.url, extra)
    p = start([VIGILD, "-c", conf], "vigild-faults")
    wait_http(port, "/health")
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx, sample=lambda: vigild_status(port))
    names = {"t%d" % i for i in range(n - 3)}
    runs = runs_sum(m["s1"], names) - runs_sum(m["s0"], names)
    late = []
    lmax = 0.0
    durs = []
    for _ in range(10):
        s = vigild_status(port)
        for pr in s["probes"]:
            if pr["name"] in names:
                late.append(pr["start_lateness_ms"])
                lmax = max(lmax, pr["start_lateness_max_ms"])
            elif pr["name"] == "slow200ms" and pr.get("last_run"):
                durs.append(pr["last_run"]["duration_ms"])
        time.sleep(1)
    sp = {pr["name"]: pr for pr in m["s1"]["probes"]
          if pr["name"] not in names}
    done, dev = gap_stats(m["per"])
    R[("vigild", "faults")] = dict(
        n=n, runs_per_s=runs / m["secs"], done_per_s=done / m["secs"],
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        late_p50=pct(late, 50), late_p99=pct(late, 99), late_max=lmax,
        cpu_s=m["cpu_s"],
        specials={k: {x: v.get(x) for x in ("runs", "skipped_in_flight",
                                             "missed_slots", "state")}
                  for k, v in sp.items()},
        slow200_durations=durs)
    log("vigild faults: %s" % R[("vigild", "faults")])
    stop(p)
    conf, port = monit_conf(
        n - 3, lambda i: ("127.0.0.1", nginx.port, "/t/%d" % i),
        extra=[("127.0.0.1", pt, "/api/health", nm) for nm, pt in specials])
    p = start_monit(conf, "monit-faults")
    wait_http(port, "/")
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    done, dev = gap_stats(m["per"])
    R[("monit", "faults")] = dict(
        n=n, done_per_s=done / m["secs"], cpu_s=m["cpu_s"],
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]))
    log("monit faults: %s" % R[("monit", "faults")])
    stop(p)


def phase_startup(nginx, n):
    """Exec to systemd's READY=1 (vigild speaks the notify protocol to
    whatever NOTIFY_SOCKET names: here a datagram socket of our own, as
    systemd would give it) and to the first /health answer."""
    conf, port = vigild_conf(n, nginx.url)
    times, ready = [], []
    path = os.path.join(tools.TMP, "notify.sock")
    for _ in range(5):
        if os.path.exists(path):
            os.unlink(path)
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sk.bind(path)
        sk.settimeout(30)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        t0 = time.monotonic()
        p = start([VIGILD, "-c", conf], "vigild-startup", env=env)
        try:
            while b"READY=1" not in sk.recv(4096):
                pass
            ready.append((time.monotonic() - t0) * 1000.0)
        except OSError:
            ready.append(float("nan"))
        wait_http(port, "/health")
        times.append((time.monotonic() - t0) * 1000.0)
        stop(p)
        sk.close()
    R["startup_ms"], R["ready_ms"] = times, ready
    log("vigild start-up (N=%d): READY=1 after %s ms, first /health answer "
        "after %s ms" % (n, ready, times))


def _term(signum, frame):
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, _term)
    tools.TMP = os.environ.get("BENCH_TMP") or \
        __import__("tempfile").mkdtemp(prefix="vigil-bench-")
    # nginx's worker (nobody) reads the static file
    os.chmod(tools.TMP, 0o755)
    t_start = time.time()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": tools.machine(), "versions": tools.versions(),
            "load0": uptime()}
    loads = [float(loadavg().split()[0])]
    try:
        nginx = Nginx()
        log("nginx on 127.0.0.1:%d (pid %d), tmp %s" % (
            nginx.port, nginx.proc.pid, tools.TMP))
        idle_rss(nginx)
        for n in NS[:-1]:
            phase_vigild(nginx, n)
            phase_monit(nginx, n)
            phase_blackbox(nginx, n)
            loads.append(float(loadavg().split()[0]))
        # The compared points, interleaved: round 1 of every tool, then
        # round 2, ..., so that a change in the machine's load shows as
        # spread within a tool rather than as a difference between tools.
        n = NS[-1]
        for rnd in range(ROUNDS):
            log("round %d of %d at N=%d" % (rnd + 1, ROUNDS, n))
            phase_vigild(nginx, n)
            phase_vigild(nginx, n, fresh=True)
            phase_monit(nginx, n)
            phase_blackbox(nginx, n)
            phase_floor(nginx, n)
            phase_floor(nginx, n, fresh=True)
            loads.append(float(loadavg().split()[0]))
            log("round %d CPU µs per probe: %s" % (rnd + 1, ", ".join(
                "%s %.1f" % (t, R[(t, n)][-1]["cpu_us_per_probe"])
                for t in report.TOOLS if (t, n) in R)))
        phase_wrk(nginx, n)
        if BIG:
            vp, _ = phase_vigild_big(nginx, BIG)
            stop(vp)
            loads.append(float(loadavg().split()[0]))
            phase_monit(nginx, BIG)
            loads.append(float(loadavg().split()[0]))
        phase_faults(nginx, NS[-1])
        phase_startup(nginx, NS[-1])
    finally:
        stop_all()
    meta["load1"] = uptime()
    loads.append(float(loadavg().split()[0]))
    meta["busy"] = max(loads) > 1.0
    meta["loads"] = loads
    log("load average samples (1 min): %s" % loads)
    meta["elapsed"] = time.time() - t_start
    meta["sizes"] = {}
    for k, pth in (("vigild", VIGILD), ("monit", shutil.which("monit")),
                   ("blackbox_exporter",
                    shutil.which("prometheus-blackbox-exporter")),
                   ("nginx", shutil.which("nginx"))):
        if pth:
            meta["sizes"][k] = os.path.getsize(pth)
    meta["goals"] = report.goals()
    meta["headline"] = report.headline()
    meta["not_measured"] = [
        "blackbox_exporter at N = 10,000 (at ~800 µs CPU a probe it would "
        "need about 8 CPUs; this machine has 2), and the hang/slow, wrk and "
        "start-up points at N = 10,000.",
        "blackbox_exporter driven by a real Prometheus server; the driver "
        "here is a Python loop and its own CPU is not counted.",
        "profiles: see bench/PROFILE.md (perf, massif and strace, by "
        "hand).",
        "start lateness of Monit and blackbox_exporter (they do not report "
        "it): the nginx-log gap deviation is the common measure.",
        "the HTML page under load, and /metrics under more than one "
        "scraper.",
    ]
    report.write(meta)
    log("wrote %s" % OUT)
    if not os.environ.get("BENCH_KEEP_TMP"):
        shutil.rmtree(tools.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
