#!/usr/bin/env python3
"""A/B of vigild builds on the benchmark's setup: each build in turn polls
1,000 nginx targets at 1 s (tools.vigild_conf), 5 s of warm-up, then CPU
(utime+stime from /proc/PID/stat) over 15 s and RSS at the end; builds
alternate ROUNDS times, so that a change in the machine's load shows as
spread rather than as a difference. Not run by bench/run; the before/after
figures in bench/PROFILE.md came from it.

  bench/ab.py OLD/vigild NEW/vigild [ROUNDS]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tools  # noqa: E402


def one(vigild, nginx, n=1000, secs=15):
    conf, port = tools.vigild_conf(n, nginx.url)
    p = tools.start([vigild, "-c", conf], "vigild")
    try:
        tools.wait_http(port, "/health")
        time.sleep(5)
        c0, t0 = tools.cpu_s(p.pid), time.time()
        time.sleep(secs)
        c1, t1 = tools.cpu_s(p.pid), time.time()
        return (c1 - c0) / ((t1 - t0) * n) * 1e6, tools.rss_kib(p.pid)
    finally:
        tools.stop(p)


def main():
    builds = sys.argv[1:3]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    tools.TMP = tempfile.mkdtemp(prefix="vigil-ab-")
    os.chmod(tools.TMP, 0o755)
    try:
        nginx = tools.Nginx()
        got = {b: [] for b in builds}
        for r in range(rounds):
            for b in builds:
                us, rss = one(b, nginx)
                got[b].append(us)
                print("round %d %s: %.1f µs CPU per probe, RSS %d KiB"
                      % (r + 1, b, us, rss), flush=True)
        for b in builds:
            print("%s: median %.1f µs, min %.1f µs CPU per probe" % (
                b, statistics.median(got[b]), min(got[b])))
        if len(builds) == 2:
            a, b = builds
            print("new/old: %.3g (medians), %.3g (minimums)" % (
                statistics.median(got[b]) / statistics.median(got[a]),
                min(got[b]) / min(got[a])))
    finally:
        tools.stop_all()
        subprocess.run(["rm", "-rf", tools.TMP])


if __name__ == "__main__":
    main()
