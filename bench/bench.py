#!/usr/bin/env python3
"""vigil benchmarks side by side: vigild, Monit, blackbox_exporter, nginx.

Run by bench/run (which installs the tools and builds vigild). Everything
listens on 127.0.0.1, everything started here is stopped by its PID, and
bench/RESULTS.md is written at the end. Python standard library only.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VIGIL_BUILD", os.path.join(ROOT, "build"))
VIGILD = os.path.join(BUILD, "vigild")
SIM = os.path.join(BUILD, "portal-sim")
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "RESULTS.md"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "20"))   # measured seconds
WARMUP = float(os.environ.get("BENCH_WARMUP", "5"))
NS = [int(x) for x in os.environ.get("BENCH_NS", "100,1000").split(",")]
# vigild and Monit only (blackbox_exporter at ~800 µs a probe would need
# 8 CPUs at 10,000/s); 0 skips it
BIG = int(os.environ.get("BENCH_BIG", "10000"))
WRK_SECS = int(os.environ.get("BENCH_WRK_SECS", "8"))
BODY = ('{"status":"ok","timestamp":"2025-01-01T00:00:00.000Z",'
        '"uptime":12.345,"version":"0.1.0"}')
TICK = os.sysconf("SC_CLK_TCK")

TMP = None
PROCS = []          # every process started here, stopped by PID at the end
COMMANDS = []       # the exact command lines, for RESULTS.md
LOG = []


def log(msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    LOG.append(line)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, name, **kw):
    out = open(os.path.join(TMP, name + ".out"), "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, **kw)
    PROCS.append(p)
    cmd = " ".join(argv)
    if cmd not in COMMANDS:
        COMMANDS.append(cmd)
    return p


def stop(p, timeout=5.0):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_all():
    for p in reversed(PROCS):
        try:
            stop(p)
        except Exception:
            pass


def wait_http(port, path="/", timeout=15.0):
    """Seconds until the first HTTP answer (any status) on port."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            return time.monotonic() - t0, r.status
        except OSError:
            time.sleep(0.002)
    raise RuntimeError("nothing answers on port %d" % port)


def get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(vals, q):
    if not vals:
        return float("nan")
    v = sorted(vals)
    i = min(len(v) - 1, max(0, int(round(q / 100.0 * (len(v) - 1)))))
    return v[i]


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except OSError:
        return loadavg()


# --------------------------------------------------------------- nginx
class Nginx:
    """One nginx (1 worker): /t/<i> answer BODY and are logged with $msec;
    /static.json is the floor for wrk (not logged)."""

    def __init__(self):
        self.dir = os.path.join(TMP, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.log = os.path.join(self.dir, "access.log")
        with open(os.path.join(self.dir, "static.json"), "w") as f:
            f.write(BODY)
        conf = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 20000; }}
worker_rlimit_nofile 40000;
http {{
  client_body_temp_path {d}/cb; proxy_temp_path {d}/px;
  fastcgi_temp_path {d}/fc; uwsgi_temp_path {d}/uw; scgi_temp_path {d}/sc;
  log_format b '$msec $uri $status $connection_requests';
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{p} backlog=4096;
    access_log off;
    location /t/ {{
      access_log {log} b;
      default_type application/json;
      return 200 '{body}';
    }}
    location = /static.json {{ root {d}; default_type application/json; }}
  }}
}}
""".format(d=self.dir, p=self.port, log=self.log, body=BODY)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = start(["nginx", "-c", self.conf, "-p", self.dir],
                          "nginx")
        wait_http(self.port, "/static.json")

    def url(self, i):
        return "http://127.0.0.1:%d/t/%d" % (self.port, i)

    def offset(self):
        return os.path.getsize(self.log)

    def hits(self, off, t0, t1):
        """Per-URI hit times (s) in [t0, t1) of the wall clock."""
        per = {}
        with open(self.log) as f:
            f.seek(off)
            for line in f:
                parts = line.split()
                if len(parts) != 4:
                    continue
                t = float(parts[0])
                if t0 <= t < t1:
                    per.setdefault(parts[1], []).append(t)
                    per.setdefault("#reused", []).append(
                        1 if parts[3] != "1" else 0)
        return per


def gap_stats(per, skip=()):
    """Completed/s and |gap - 1 s| of consecutive hits per target (ms)."""
    n = 0
    dev = []
    for uri, ts in per.items():
        if uri in skip or uri.startswith("#"):
            continue
        n += len(ts)
        ts.sort()
        for a, b in zip(ts, ts[1:]):
            dev.append(abs((b - a) - 1.0) * 1000.0)
    return n, dev


# --------------------------------------------------------------- vigild
def vigild_conf(n, targets, extra=(), timeout="5s", probe_opts=None):
    port = free_port()
    probes = []
    for i in range(n):
        probes.append({"name": "t%d" % i, "type": "http", "url": targets(i),
                       "expect": {"status": [200],
                                  "keyword": '"status":"ok"'}})
        probes[-1].update(probe_opts or {})
    probes.extend(extra)
    conf = {"api": {"listen": "127.0.0.1:%d" % port},
            "defaults": {"interval": "1s", "timeout": timeout},
            "store": {"retention": "1m"},
            "probes": probes}
    path = os.path.join(TMP, "vigild-%d.json" % (n + len(extra)))
    with open(path, "w") as f:
        f.write("// generated by bench/bench.py\n")
        json.dump(conf, f, indent=1)
    return path, port


def vigild_status(port):
    st, body = get(port, "/status", timeout=30)
    return json.loads(body)


def runs_sum(status, names=None):
    return sum(p["runs"] for p in status["probes"]
               if names is None or p["name"] in names)


# --------------------------------------------------------------- monit
def monit_conf(n, targets_hostport, extra=()):
    d = os.path.join(TMP, "monit-%d" % n)
    os.makedirs(d, exist_ok=True)
    port = free_port()
    lines = [
        "set daemon 1",
        "set logfile %s/monit.log" % d,
        "set idfile %s/monit.id" % d,
        "set statefile %s/monit.state" % d,
        "set pidfile %s/monit.pid" % d,
        "set httpd port %d and use address 127.0.0.1" % port,
        "    allow localhost",
        "",
    ]
    checks = [targets_hostport(i) + ("t%d" % i,) for i in range(n)]
    checks.extend(extra)
    for host, hport, path, name in checks:
        lines.append("check host %s with address %s" % (name, host))
        lines.append('  if failed port %d protocol http request "%s" '
                     'with content = "status.:.ok" with timeout 5 seconds '
                     'then alert' % (hport, path))
    path = os.path.join(d, "monitrc")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path, port


def start_monit(conf, name):
    d = os.path.dirname(conf)
    return start(["monit", "-I", "-c", conf, "-p", d + "/monit.pid",
                  "-s", d + "/monit.state"], name)


# ------------------------------------------------------- blackbox driver
BB_YML = """modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ['"status":"ok"']
"""


def start_blackbox():
    d = os.path.join(TMP, "blackbox")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "bb.yml"), "w") as f:
        f.write(BB_YML)
    port = free_port()
    p = start(["prometheus-blackbox-exporter",
               "--config.file=" + os.path.join(d, "bb.yml"),
               "--web.listen-address=127.0.0.1:%d" % port], "blackbox")
    wait_http(port, "/-/healthy")
    return p, port


class Driver:
    """N blackbox probes per second, spread evenly over the second, over
    keep-alive connections from a few threads (like a Prometheus server
    scraping N targets every 1 s)."""

    def __init__(self, port, urls, threads=8):
        self.port = port
        self.urls = urls
        self.stop_at = 0
        self.done = 0
        self.late = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(k, threads),
                                         daemon=True)
                        for k in range(min(threads, len(urls)))]
        COMMANDS.append("(driver) GET /probe?module=http_2xx&target=URL, "
                        "%d targets each once per second, %d keep-alive "
                        "connections" % (len(urls), len(self.threads)))

    def start(self, seconds):
        self.t0 = time.time()
        self.stop_at = self.t0 + seconds
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join()

    def run(self, k, nthreads):
        mine = self.urls[k::nthreads]
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = len(self.urls)
        sec = 0
        while True:
            base = self.t0 + sec
            if base >= self.stop_at:
                break
            for j, u in enumerate(mine):
                due = base + (j * nthreads + k) / n
                now = time.time()
                if due > now:
                    time.sleep(due - now)
                elif now - due > 0.1:
                    with self.lock:
                        self.late += 1
                try:
                    c.request("GET", "/probe?module=http_2xx&target=" + u)
                    r = c.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
                    continue
                with self.lock:
                    self.done += 1
            sec += 1
        c.close()


# --------------------------------------------------------------- phases
R = {}   # results


def reused_pct(per):
    r = per.get("#reused", [])
    return 100.0 * sum(r) / len(r) if r else float("nan")


def measure_pid(pid, seconds, nginx=None, sample=None):
    """CPU seconds, RSS and nginx hits of pid over a window."""
    off = nginx.offset() if nginx else 0
    t0 = time.time()
    c0 = cpu_s(pid)
    extra = sample() if sample else None
    time.sleep(seconds - (time.time() - t0))
    c1 = cpu_s(pid)
    t1 = time.time()
    extra1 = sample() if sample else None
    res = {"cpu_s": c1 - c0, "secs": t1 - t0, "rss_kib": rss_kib(pid)}
    if nginx:
        time.sleep(0.3)
        res["per"] = nginx.hits(off, t0, t1)
    res["s0"], res["s1"] = extra, extra1
    return res


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
    R[("vigild", n)] = dict(
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
    R[("vigild", n)].update(
        reads_s=reads, reads_done_per_s=done_r / (t1 - t0),
        reads_gap_p99=pct(dev_r, 99), reads_gap_max=max(dev_r or [0]),
        renders=status_renders(port))
    with open(os.path.join(TMP, "vigild-%d.out" % n), "rb") as f:
        lags = re.findall(rb"event=loop_lag lag_ms=(\d+)", f.read())
    R[("vigild", n)]["loop_lags_ms"] = [int(x) for x in lags]
    log("vigild N=%d: %s" % (n, R[("vigild", n)]))
    return p, port


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
    R[(tool, n)] = dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        runs_per_s=runs / m["secs"], done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        late_p50=pct(late, 50), late_p99=pct(late, 99), late_max=lmax,
        missed=missed, skipped=skipped, store=st_bytes,
        reused=reused_pct(m["per"]),
        status_bytes=len(sbody), port=port, proc=p)
    log("%s N=%d: %s" % (tool, n, {k: v for k, v in R[(tool, n)].items()
                                    if k not in ("proc",)}))
    return p, port


def phase_monit(nginx, n, keep=False):
    conf, port = monit_conf(
        n, lambda i: ("127.0.0.1", nginx.port, "/t/%d" % i))
    p = start_monit(conf, "monit-%d" % n)
    wait_http(port, "/")
    time.sleep(WARMUP)
    m = measure_pid(p.pid, WINDOW, nginx)
    done, dev = gap_stats(m["per"])
    R[("monit", n)] = dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        reused=reused_pct(m["per"]), port=port)
    log("monit N=%d: %s" % (n, R[("monit", n)]))
    if not keep:
        stop(p)
    return p, port


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
    R[("blackbox", n)] = dict(
        cpu_s=m["cpu_s"], secs=m["secs"], rss_kib=m["rss_kib"],
        idle_rss_kib=idle, done_per_s=done / m["secs"],
        cpu_us_per_probe=m["cpu_s"] / max(done, 1) * 1e6,
        gap_p50=pct(dev, 50), gap_p99=pct(dev, 99), gap_max=max(dev or [0]),
        reused=reused_pct(m["per"]), driver_late=d.late)
    log("blackbox N=%d: %s" % (n, R[("blackbox", n)]))
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


def wrk(url, name, headers=()):
    argv = ["wrk", "-t1", "-c16", "-d%ds" % WRK_SECS, "--latency"]
    for h in headers:
        argv += ["-H", h]
    shown = " ".join(a if " " not in a else "'%s'" % a for a in argv) + " URL"
    if shown not in COMMANDS:
        COMMANDS.append(shown)
    argv.append(url)
    # The size of one answer, as wrk's client gets it.
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", u.path, headers=dict(h.split(": ", 1) for h in headers))
    r = c.getresponse()
    size = len(r.read())
    c.close()
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=WRK_SECS + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    R[("wrk", name)] = dict(rps=rps, p99_ms=float(p99.group(1)) * unit,
                            bytes=size,
                            non2xx=int(non2xx.group(1)) if non2xx else 0,
                            errors=errs.group(0) if errs else "")
    log("wrk %s: %s" % (name, R[("wrk", name)]))


def status_renders(port):
    """vigild's count of /status renderings."""
    _, body = get(port, "/metrics")
    m = re.search(rb"^vigil_http_status_renders_total (\S+)$", body, re.M)
    return int(float(m.group(1))) if m else 0


def start_sim(scenario, slow_ms=None):
    pf = os.path.join(TMP, "sim-%s-%s.port" % (scenario, slow_ms))
    argv = [SIM, "--port-file", pf, "--scenario", scenario]
    if slow_ms is not None:
        argv += ["--slow-ms", str(slow_ms)]
    p = start(argv, "sim-%s-%s" % (scenario, slow_ms))
    for _ in range(500):
        if os.path.exists(pf):
            break
        time.sleep(0.01)
    with open(pf) as f:
        return p, int(f.read().strip())


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
    path = os.path.join(TMP, "notify.sock")
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


def git_state():
    """The commit vigild was built from, and whether lib/ or daemon/ had
    uncommitted changes (others work in the same tree)."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--", "lib", "daemon"], capture_output=True,
                               text=True, timeout=10).stdout.split("\n")
        dirty = [x[3:] for x in dirty if x.strip()]
        return head + (" with uncommitted changes in " + ", ".join(dirty)
                       if dirty else " (clean lib/ and daemon/)")
    except OSError:
        return "unknown"


def versions():
    def first(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except Exception as e:
            return "unknown (%s)" % e
    return {
        "vigild": first([VIGILD, "--version"]),
        "monit": first(["monit", "-V"]),
        "blackbox_exporter": first(["prometheus-blackbox-exporter",
                                    "--version"]),
        "nginx": first(["nginx", "-v"]),
        "wrk": first(["wrk", "-v"]),
        "python": sys.version.split()[0],
        "vigil tree": git_state(),
    }


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    return {"nproc": os.cpu_count(), "cpu": model, "memory": mem,
            "kernel": os.uname().release}


# --------------------------------------------------------------- report
def fmt(x, d=1):
    if isinstance(x, float):
        return ("%." + str(d) + "f") % x
    return str(x)


def ratio(a, b):
    if not a or not b:
        return "n/a"
    return "%.3gx" % (a / b)


def report(meta):
    L = []
    a = L.append
    a("# vigil benchmarks: vigild, Monit, blackbox_exporter, nginx")
    a("")
    a("Written by `bench/run` (`make bench`) on %s. Raw numbers; every "
      "figure below was measured in this one run on this machine." %
      meta["date"])
    a("")
    a("## Machine and load")
    a("")
    m = meta["machine"]
    a("- %s CPUs: %s; memory %s; kernel %s" % (m["nproc"], m["cpu"],
                                                 m["memory"], m["kernel"]))
    a("- `uptime` before: `%s`; after: `%s`" % (meta["load0"],
                                                meta["load1"]))
    a("- 1-minute load average sampled between phases: %s" % meta["loads"])
    if meta["busy"]:
        a("- The 1-minute load average went above %.1f during the run. The "
          "benchmark itself keeps one to two processes busy (the tool "
          "measured, nginx, wrk or the blackbox driver); more than that "
          "means something else ran on this shared machine too. CPU and "
          "latency figures include whatever contention there was; ratios "
          "within one run are what this file compares (absolute figures "
          "move between runs: Monit's CPU per check at 1,000 checks was "
          "24 µs in one run and 95 µs in another on the same day)."
          % max(meta["loads"]))
    a("- run time: %.0f s" % meta["elapsed"])
    a("")
    a("## Versions")
    a("")
    for k, v in meta["versions"].items():
        a("- %s: `%s`" % (k, v))
    a("")
    a("## Setup")
    a("")
    a("- Targets: one nginx (1 worker) on 127.0.0.1; target *i* is "
      "`/t/i`, answering the simulator's `/api/health` JSON (%d bytes) "
      "with 200. Every request to `/t/` is logged with `$msec`: the "
      "nginx access log is the common \"completed per second\" measure "
      "for every tool, and the gaps between consecutive hits of the same "
      "target (ideal: exactly 1 s) are the common schedule-precision "
      "measure." % len(BODY))
    a("- vigild: N http probes, `interval` 1s, `timeout` 5s, "
      "`expect.status` [200] and `expect.keyword` `\"status\":\"ok\"`, "
      "`store.retention` 1m, implicit `<probe>_down` rules left on "
      "(critical).")
    a("- Monit: `set daemon 1` (its minimum), N `check host tI with address "
      "127.0.0.1` / `if failed port P protocol http request \"/t/I\" with "
      "content = \"status.:.ok\" with timeout 5 seconds then alert`, "
      "`monit -I` in the foreground with its own id/state/pid files, its "
      "httpd on loopback (`allow localhost`).")
    a("- blackbox_exporter: module `http_2xx` (timeout 5s, body regexp "
      "`\"status\":\"ok\"`), driven by a Python driver (in bench/bench.py) "
      "that issues each target's `/probe` once a second, spread over the "
      "second, over 8 keep-alive connections (no Prometheus server).")
    a("- Each point: %.0f s warm-up, then a %.0f s window. CPU = "
      "utime+stime from `/proc/PID/stat` over the window (the tool's own "
      "process only; not nginx, not the driver). RSS = `VmRSS` at the end "
      "of the window. For vigild, `/status` is read only at the start and "
      "end of the CPU window; start lateness is then sampled from "
      "`/status` once a second for 10 s (each probe's last "
      "`start_lateness_ms`: p50/p99 over those samples; max = the largest "
      "`start_lateness_max_ms`, which is since start, warm-up included)."
      % (WARMUP, WINDOW))
    a("")
    a("## Commands")
    a("")
    a("```")
    for c in COMMANDS:
        a(c.replace(TMP, "$TMP"))
    a("```")
    a("")
    a("## Polling N targets at 1 s")
    a("")
    a("| tool | N | completed/s (nginx log) | vigild runs/s | CPU s in window | "
      "CPU µs per probe | RSS MiB | requests on a reused connection | "
      "gap dev p50/p99/max ms | vigild start lateness p50/p99/max ms |")
    a("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for tool in ("vigild", "vigild-new", "monit", "blackbox"):
        for n in NS + ([BIG] if BIG else []):
            r = R.get((tool, n))
            if not r:
                continue
            a("| %s | %d | %s | %s | %s | %s | %s | %s %% | %s / %s / %s | %s |"
              % (
                tool, n, fmt(r["done_per_s"]),
                fmt(r.get("runs_per_s", "")), fmt(r["cpu_s"], 2),
                fmt(r["cpu_us_per_probe"]), fmt(r["rss_kib"] / 1024.0),
                fmt(r["reused"]),
                fmt(r["gap_p50"]), fmt(r["gap_p99"]), fmt(r["gap_max"]),
                "%s / %s / %s" % (fmt(r["late_p50"], 3), fmt(r["late_p99"], 3),
                                  fmt(r["late_max"], 3))
                if "late_p50" in r else ""))
    a("")
    a("vigild-new: the same vigild with `new_connection` on every probe "
      "(a connection per run and closed after it, as Monit and "
      "blackbox_exporter do).")
    a("")
    a("Idle RSS (1 target): vigild %.1f MiB, Monit %.1f MiB; "
      "blackbox_exporter before any probe %s MiB." % (
          R.get("vigild_idle_rss", 0) / 1024.0,
          R.get("monit_idle_rss", 0) / 1024.0,
          fmt(R[("blackbox", NS[-1])]["idle_rss_kib"] / 1024.0)
          if ("blackbox", NS[-1]) in R else "n/a"))
    a("")
    vb = R.get(("vigild", BIG)) if BIG else None
    if vb:
        a("vigild N=%d: `/status` was read once, after the window (lateness "
          "p50/p99 over that one read: each probe's last start lateness); "
          "that one read took %.3f s (rendered on vigild's loop); at that "
          "read %d probes were not up, missed_slots %d, skipped_in_flight "
          "%d; loop lags vigild logged during the whole point (ms): %s."
          % (BIG, vb["status_s"], vb["down"], vb["missed"], vb["skipped"],
             vb["loop_lags_ms"] or "none"))
        a("")
        a("Then, still at N=%d, `/status` read once a second for 10 s while "
          "polling: each read took %s s; the targets were hit %.0f times a "
          "second (scheduled %d), gap deviation p99 %.1f ms, max %.1f ms; "
          "renderings since start: %s." % (
              BIG, ", ".join("%.3f" % x for x in vb["reads_s"]),
              vb["reads_done_per_s"], BIG, vb["reads_gap_p99"],
              vb["reads_gap_max"], vb["renders"]))
    for n in NS:
        v = R.get(("vigild", n))
        if v:
            a("vigild N=%d: missed_slots %d, skipped_in_flight %d (sums, "
              "since start); store %s; `/status` is %d bytes." % (
                  n, v["missed"], v["skipped"], json.dumps(v["store"]),
                  v["status_bytes"]))
    bb = R.get(("blackbox", NS[-1]))
    if bb:
        a("")
        a("blackbox driver: %d requests started over 100 ms late (non-zero "
          "would mean the driver itself fell behind)." % bb["driver_late"])
    a("")
    a("## Status endpoints under wrk (vigild and Monit each polling %d "
      "targets)" % NS[-1])
    a("")
    a("| endpoint | req/s | p99 ms | bytes per answer | non-2xx | socket "
      "errors |")
    a("| --- | --- | --- | --- | --- | --- |")
    for name in ("nginx static file (floor)", "vigild /health",
                 "vigild /status", "vigild /status (gzip)",
                 "monit status page /"):
        r = R.get(("wrk", name))
        if r:
            a("| %s | %s | %s | %d | %d | %s |" % (
                name, fmt(r["rps"]), fmt(r["p99_ms"], 2), r["bytes"],
                r["non2xx"], r["errors"] or "none"))
    a("")
    a("wrk sends no Accept-Encoding unless told: the gzip row adds "
      "`-H 'Accept-Encoding: gzip'` (what curl --compressed, browsers and "
      "vigilctl send). Monit's page is not compressed either way. vigild "
      "shares a rendering of `/status` among its readers until it is "
      "older than ten times its rendering time: %s renderings during the two "
      "%d s wrk runs on `/status`." % (
          R.get(("vigild", "status_renders"), "?"), WRK_SECS))
    a("")
    fv, fm = R.get(("vigild", "faults")), R.get(("monit", "faults"))
    if fv and fm:
        a("## One target hanging, one slowed to 2 s (and one to 200 ms), "
          "N = %d" % fv["n"])
        a("")
        a("The hanging and slow targets are portal-sims (`--scenario hang`, "
          "`--scenario slow --slow-ms 2000`, `--slow-ms 200`); the other "
          "%d targets are nginx as above. Figures are for the others." %
          (fv["n"] - 3))
        a("")
        a("| tool | others completed/s (nginx log) | vigild runs/s of others "
          "| gap dev p50/p99/max ms | vigild start lateness p50/p99/max ms |")
        a("| --- | --- | --- | --- | --- |")
        a("| vigild | %s | %s | %s / %s / %s | %s / %s / %s |" % (
            fmt(fv["done_per_s"]), fmt(fv["runs_per_s"]), fmt(fv["gap_p50"]),
            fmt(fv["gap_p99"]), fmt(fv["gap_max"]), fmt(fv["late_p50"], 3),
            fmt(fv["late_p99"], 3), fmt(fv["late_max"], 3)))
        a("| monit | %s | | %s / %s / %s | |" % (
            fmt(fm["done_per_s"]), fmt(fm["gap_p50"]), fmt(fm["gap_p99"]),
            fmt(fm["gap_max"])))
        a("")
        a("vigild's special probes at the end of the window: `%s`." %
          json.dumps(fv["specials"]))
        d = fv["slow200_durations"]
        if d:
            a("")
            a("Measurement precision: the target delayed by 200 ms "
              "(portal-sim `slow`, whose delay is a sleep before the "
              "answer) was reported by vigild with `duration_ms` %s "
              "(10 samples, one a second)." %
              ", ".join(fmt(x, 1) for x in d))
        a("")
    a("## Start-up, size, memory")
    a("")
    a("- vigild start to systemd's READY=1 (NOTIFY_SOCKET), N = %d, 5 runs: "
      "%s ms" % (NS[-1], ", ".join(fmt(x, 1) for x in R.get("ready_ms", []))))
    a("- vigild start to first `/health` answer, N = %d, 5 runs: %s ms" % (
        NS[-1], ", ".join(fmt(x, 1) for x in R.get("startup_ms", []))))
    a("- binary sizes: %s" % ", ".join("%s %d KiB" % (k, v // 1024)
                                       for k, v in meta["sizes"].items()))
    if len(NS) >= 2 and ("vigild", NS[0]) in R and ("vigild", NS[-1]) in R:
        lo, hi = R[("vigild", NS[0])], R[("vigild", NS[-1])]
        per = (hi["rss_kib"] - lo["rss_kib"]) * 1024.0 / (NS[-1] - NS[0])
        big = R.get(("vigild", BIG)) if BIG else None
        if big:
            a("- the same from N=%d to N=%d: %.0f bytes per probe" % (
                NS[-1], BIG, (big["rss_kib"] - hi["rss_kib"]) * 1024.0 /
                (BIG - NS[-1])))
        st = hi["store"]
        a("- vigild RSS per configured probe ((RSS at N=%d − RSS at N=%d) / "
          "%d): %.0f bytes (retention 1m at 1 s: up to 61 samples per "
          "metric)" % (NS[-1], NS[0], NS[-1] - NS[0], per))
        if st.get("series"):
            a("- vigild store at N=%d: %d series, %d bytes = %.0f bytes per "
              "series; per window sample 16 bytes (README: a sample is a time "
              "and a value)" % (NS[-1], st["series"], st["bytes"],
                                st["bytes"] / st["series"]))
    a("")
    a("## Headline ratios (same run)")
    a("")
    for line in meta["headline"]:
        a("- " + line)
    a("")
    a("## Not measured")
    a("")
    for line in meta["not_measured"]:
        a("- " + line)
    a("")
    a("## Log")
    a("")
    a("```")
    for line in LOG:
        a(line.replace(TMP, "$TMP"))
    a("```")
    with open(OUT, "w") as f:
        f.write("\n".join(L) + "\n")


def headline():
    h = []
    n = NS[-1]
    v, mo, bb = R.get(("vigild", n)), R.get(("monit", n)), R.get(
        ("blackbox", n))
    if v and mo:
        h.append("CPU per probe at N=%d: vigild %.1f µs, Monit %.1f µs "
                 "(vigild/Monit %s)" % (n, v["cpu_us_per_probe"],
                                        mo["cpu_us_per_probe"],
                                        ratio(v["cpu_us_per_probe"],
                                              mo["cpu_us_per_probe"])))
    vn = R.get(("vigild-new", n))
    if vn and mo:
        h.append("CPU per probe at N=%d with a new connection per probe, as "
                 "Monit does: vigild %.1f µs, Monit %.1f µs (vigild/Monit "
                 "%s)" % (n, vn["cpu_us_per_probe"], mo["cpu_us_per_probe"],
                          ratio(vn["cpu_us_per_probe"],
                                mo["cpu_us_per_probe"])))
    if v and bb:
        h.append("CPU per probe at N=%d: blackbox_exporter %.1f µs "
                 "(blackbox/vigild %s)" % (n, bb["cpu_us_per_probe"],
                                           ratio(bb["cpu_us_per_probe"],
                                                 v["cpu_us_per_probe"])))
    if v and mo:
        h.append("RSS at N=%d: vigild %.1f MiB, Monit %.1f MiB%s" % (
            n, v["rss_kib"] / 1024, mo["rss_kib"] / 1024,
            (", blackbox_exporter %.1f MiB" % (bb["rss_kib"] / 1024))
            if bb else ""))
        h.append("completed/s at N=%d (nginx log): vigild %.1f, Monit %.1f%s"
                 % (n, v["done_per_s"], mo["done_per_s"],
                    (", blackbox_exporter (driven) %.1f" % bb["done_per_s"])
                    if bb else ""))
        h.append("vigild start lateness at N=%d: p50 %.3f ms, p99 %.3f ms, "
                 "max since start %.3f ms" % (n, v["late_p50"], v["late_p99"],
                                              v["late_max"]))
    w = lambda k: R.get(("wrk", k), {}).get("rps")
    fl, hl, sl, ml = (w("nginx static file (floor)"), w("vigild /health"),
                      w("vigild /status"), w("monit status page /"))
    gl = w("vigild /status (gzip)")
    if hl and fl:
        h.append("/health under wrk at N=%d: %.0f req/s = %s of nginx's "
                 "static-file floor (%.0f req/s)" % (n, hl, ratio(hl, fl),
                                                      fl))
    if sl and ml:
        h.append("/status at N=%d: %.0f req/s vs Monit's status page %.0f "
                 "req/s (%s)" % (n, sl, ml, ratio(sl, ml)))
    if gl and ml:
        h.append("/status at N=%d asked with Accept-Encoding: gzip: %.0f "
                 "req/s vs Monit's status page %.0f req/s (%s)" % (
                     n, gl, ml, ratio(gl, ml)))
    vb, mb = R.get(("vigild", BIG)), R.get(("monit", BIG))
    if vb and mb:
        h.append("N=%d: vigild completed %.0f/s (scheduled %d), %.1f µs CPU "
                 "per probe, RSS %.1f MiB, start lateness p99 %.3f ms; Monit "
                 "%.0f/s, %.1f µs, %.1f MiB" % (
                     BIG, vb["done_per_s"], BIG, vb["cpu_us_per_probe"],
                     vb["rss_kib"] / 1024, vb["late_p99"], mb["done_per_s"],
                     mb["cpu_us_per_probe"], mb["rss_kib"] / 1024))
    fv, fm = R.get(("vigild", "faults")), R.get(("monit", "faults"))
    if fv and fm and v and mo:
        h.append("one target hanging + one 2 s slow: the others' completed/s "
                 "vigild %.1f (healthy run %.1f), Monit %.1f (healthy run "
                 "%.1f, %+.0f %%)" % (
                     fv["done_per_s"], v["done_per_s"], fm["done_per_s"],
                     mo["done_per_s"],
                     (fm["done_per_s"] / mo["done_per_s"] - 1) * 100))
    return h


def _term(signum, frame):
    raise SystemExit(128 + signum)


def main():
    global TMP
    signal.signal(signal.SIGTERM, _term)
    TMP = os.environ.get("BENCH_TMP") or __import__("tempfile").mkdtemp(
        prefix="vigil-bench-")
    os.chmod(TMP, 0o755)   # nginx's worker (nobody) reads the static file
    t_start = time.time()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine(), "versions": versions(),
            "load0": uptime()}
    loads = [float(loadavg().split()[0])]
    try:
        nginx = Nginx()
        log("nginx on 127.0.0.1:%d (pid %d), tmp %s" % (
            nginx.port, nginx.proc.pid, TMP))
        idle_rss(nginx)
        vp, _ = phase_vigild(nginx, NS[-1], fresh=True)
        stop(vp)
        loads.append(float(loadavg().split()[0]))
        vp = None
        for n in NS:
            if vp:
                stop(vp)
            vp, vport = phase_vigild(nginx, n)
            loads.append(float(loadavg().split()[0]))
        # status endpoints while vigild polls NS[-1] targets
        wrk("http://127.0.0.1:%d/static.json" % nginx.port,
            "nginx static file (floor)")
        wrk("http://127.0.0.1:%d/health" % vport, "vigild /health")
        r0 = status_renders(vport)
        wrk("http://127.0.0.1:%d/status" % vport, "vigild /status")
        wrk("http://127.0.0.1:%d/status" % vport, "vigild /status (gzip)",
            headers=("Accept-Encoding: gzip",))
        R[("vigild", "status_renders")] = status_renders(vport) - r0
        stop(vp)
        if BIG:
            vp, _ = phase_vigild_big(nginx, BIG)
            stop(vp)
            loads.append(float(loadavg().split()[0]))
        mp = None
        for n in NS:
            mp, mport = phase_monit(nginx, n, keep=(n == NS[-1]))
            loads.append(float(loadavg().split()[0]))
        wrk("http://127.0.0.1:%d/" % mport, "monit status page /")
        stop(mp)
        if BIG:
            phase_monit(nginx, BIG)
            loads.append(float(loadavg().split()[0]))
        for n in NS:
            phase_blackbox(nginx, n)
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
    meta["headline"] = headline()
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
        "/metrics and the HTML page under load. Both are built on vigild's "
        "loop at every request, like /status before it was shared: at "
        "10,000 probes one /metrics answer is 15.3 MB and took 0.34 s "
        "(by hand, see bench/PROFILE.md).",
    ]
    report(meta)
    log("wrote %s" % OUT)
    if not os.environ.get("BENCH_KEEP_TMP"):
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
