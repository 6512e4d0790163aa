#!/usr/bin/env python3
"""The benchmark's tools: its settings, starting and stopping the programs
measured (nginx, vigild, Monit, blackbox_exporter and its driver, the
floor), reading their CPU and memory from /proc, and the results (R).
Used by bench/bench.py and the other scripts in bench/. Everything listens
on 127.0.0.1; everything started here is stopped by its PID.
"""
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VIGIL_BUILD", os.path.join(ROOT, "build"))
VIGILD = os.path.join(BUILD, "vigild")
SIM = os.path.join(BUILD, "portal-sim")
# bench/floor.c, built by bench/run into build/ whatever VIGIL_BUILD says
FLOOR = next((p for p in (os.path.join(BUILD, "floor"),
                          os.path.join(ROOT, "build", "floor"))
              if os.path.exists(p)), os.path.join(BUILD, "floor"))
# floor -b: runs due within this many ms started in one loop pass
FLOOR_BATCH_MS = int(os.environ.get("BENCH_FLOOR_BATCH_MS", "20"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "RESULTS.md"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "20"))   # measured seconds
WARMUP = float(os.environ.get("BENCH_WARMUP", "5"))
NS = [int(x) for x in os.environ.get("BENCH_NS", "100,1000").split(",")]
# vigild and Monit only (blackbox_exporter at ~800 µs a probe would need
# 8 CPUs at 10,000/s); 0 skips it
BIG = int(os.environ.get("BENCH_BIG", "10000"))
WRK_SECS = int(os.environ.get("BENCH_WRK_SECS", "8"))
# The points at NS[-1] that the headline ratios compare are run this many
# times, interleaved, so that noise on a shared machine shows as spread
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# /metrics scraped every 2 s for this long at BIG; 0 skips it
METRICS_SECS = float(os.environ.get("BENCH_METRICS_SECS", "16"))
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
def vigild_conf(n, targets, extra=(), timeout="5s", probe_opts=None, top=None):
    """top: more top-level keys ("state_dir")."""
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
    conf.update(top or {})
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


# Results: R[(tool, N)] is the list of that point's rounds (dicts); other
# keys hold one figure or dict each.
R = {}


def put(tool, n, res):
    R.setdefault((tool, n), []).append(res)
    log("%s N=%s round %d: %s" % (tool, n, len(R[(tool, n)]), {
        k: v for k, v in res.items() if k not in ("per", "proc")}))


def row(tool, n):
    """A point's figures over its rounds: numbers are the median, with the
    minimum in row["min"] and every round in row["rounds"]; other values
    are the first round's."""
    rs = R.get((tool, n))
    if not rs:
        return None
    out = dict(rs[0])
    out["min"] = {}
    for k, v in rs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = [r[k] for r in rs if isinstance(r.get(k), (int, float))]
            out[k] = statistics.median(vals)
            out["min"][k] = min(vals)
    out["rounds"] = rs
    return out


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
