#!/usr/bin/env python3
"""What a stall leaves behind at N targets: vigild polls N nginx targets
at 1 s (bench.py's setup); after 8 s it is stopped (SIGSTOP) for STOP
seconds and continued; 5 s later a 15 s window counts the runs a second
(nginx log), the CPU per run, the gap deviation p99 and the descriptors
vigild holds (its connections). Not run by bench/run; bench/PROFILE.md's
"A stall, reproduced" came from it. Needs `ulimit -n` above N.

  bench/stall.py VIGILD [STOP_S]   (N=10000; STOP_S 2)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tools  # noqa: E402


def main():
    vigild = sys.argv[1]
    stop_s = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    n = int(os.environ.get("N", "10000"))
    tools.TMP = tempfile.mkdtemp(prefix="vigil-stall-")
    os.chmod(tools.TMP, 0o755)     # nginx's worker (nobody) reads the file
    try:
        ng = tools.Nginx()
        conf, port = tools.vigild_conf(n, ng.url)
        p = tools.start([vigild, "-c", conf], "vigild")
        tools.wait_http(port, "/health")
        time.sleep(8)
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(stop_s)
        os.kill(p.pid, signal.SIGCONT)
        time.sleep(5)
        off = ng.offset()
        c0, t0 = tools.cpu_s(p.pid), time.time()
        time.sleep(15)
        c1, t1 = tools.cpu_s(p.pid), time.time()
        time.sleep(0.3)
        done, dev = tools.gap_stats(ng.hits(off, t0, t1))
        fds = len(os.listdir("/proc/%d/fd" % p.pid))
        print("N=%d, stopped %.1f s: %.1f runs/s, %.1f µs a run, gap p99 "
              "%.1f ms, %d descriptors" % (
                  n, stop_s, done / (t1 - t0), (c1 - c0) / max(done, 1) * 1e6,
                  tools.pct(dev, 99), fds), flush=True)
    finally:
        tools.stop_all()
        subprocess.run(["rm", "-rf", tools.TMP])


if __name__ == "__main__":
    main()
