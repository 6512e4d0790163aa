#!/usr/bin/env python3
"""perf profiles of vigild polling 1,000 nginx targets at 1 s: idle polling,
under wrk on /health, under wrk on /status. Not run by bench/run; see
bench/PROFILE.md. Needs perf, nginx and wrk (bench/run installs the last
two). Output: perf data files in the directory given (default /tmp/vprof).
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tools  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vprof"
os.makedirs(out, exist_ok=True)
tools.TMP = tempfile.mkdtemp(prefix="vigil-prof-")
os.chmod(tools.TMP, 0o755)
try:
    ng = tools.Nginx()
    conf, port = tools.vigild_conf(1000, ng.url)
    p = tools.start([tools.VIGILD, "-c", conf], "vigild")
    tools.wait_http(port, "/health")
    time.sleep(4)

    def rec(name, load=None):
        w = subprocess.Popen(load, stdout=subprocess.DEVNULL) if load else None
        subprocess.run(["perf", "record", "-F", "999", "-g", "-o",
                        os.path.join(out, name + ".data"), "-p", str(p.pid),
                        "--", "sleep", "8"], capture_output=True, check=True)
        if w:
            w.wait()

    rec("poll")
    rec("health", ["wrk", "-t1", "-c16", "-d8s",
                   "http://127.0.0.1:%d/health" % port])
    rec("status", ["wrk", "-t1", "-c4", "-d8s",
                   "http://127.0.0.1:%d/status" % port])
finally:
    tools.stop_all()
    subprocess.run(["rm", "-rf", tools.TMP])
for name in ("poll", "health", "status"):
    print("perf report -i %s/%s.data --no-children --sort symbol --stdio"
          % (out, name))
