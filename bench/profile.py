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
import bench  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vprof"
os.makedirs(out, exist_ok=True)
bench.TMP = tempfile.mkdtemp(prefix="vigil-prof-")
os.chmod(bench.TMP, 0o755)
try:
    ng = bench.Nginx()
    conf, port = bench.vigild_conf(1000, ng.url)
    p = bench.start([bench.VIGILD, "-c", conf], "vigild")
    bench.wait_http(port, "/health")
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
    bench.stop_all()
    subprocess.run(["rm", "-rf", bench.TMP])
for name in ("poll", "health", "status"):
    print("perf report -i %s/%s.data --no-children --sort symbol --stdio"
          % (out, name))
