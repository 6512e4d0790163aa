#!/usr/bin/env python3
"""A/B of vigild builds on the benchmark's setup: each build in turn polls
1,000 nginx targets at 1 s (bench.vigild_conf), 5 s of warm-up, then CPU
(utime+stime from /proc/PID/stat) over 15 s and RSS at the end; builds
alternate ROUNDS times, so that a change in the machine's load shows as
spread rather than as a difference. Not run by bench/run; the before/after
figures in bench/PROFILE.md came from it.

  bench/ab.py OLD/vigild NEW/vigild [ROUNDS]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def one(vigild, nginx, n=1000, secs=15):
    conf, port = bench.vigild_conf(n, nginx.url)
    p = bench.start([vigild, "-c", conf], "vigild")
    try:
        bench.wait_http(port, "/health")
        time.sleep(5)
        c0, t0 = bench.cpu_s(p.pid), time.time()
        time.sleep(secs)
        c1, t1 = bench.cpu_s(p.pid), time.time()
        return (c1 - c0) / ((t1 - t0) * n) * 1e6, bench.rss_kib(p.pid)
    finally:
        bench.stop(p)


def main():
    builds = sys.argv[1:3]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    bench.TMP = tempfile.mkdtemp(prefix="vigil-ab-")
    os.chmod(bench.TMP, 0o755)
    try:
        nginx = bench.Nginx()
        for r in range(rounds):
            for b in builds:
                us, rss = one(b, nginx)
                print("round %d %s: %.1f µs CPU per probe, RSS %d KiB"
                      % (r + 1, b, us, rss), flush=True)
    finally:
        bench.stop_all()
        subprocess.run(["rm", "-rf", bench.TMP])


if __name__ == "__main__":
    main()
