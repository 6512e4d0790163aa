#!/usr/bin/env python3
"""RSS of vigild builds polling N nginx targets at 1 s (bench.py's setup,
retention 1 m), with and without a fresh state_dir: every STEP seconds
for SECS, VmRSS, the [heap] mapping's Rss and the other anonymous
mappings' (thread arenas) from /proc/PID/smaps, and state.json's size.
Not run by bench/run; bench/PROFILE.md's "State writes and RSS" came
from it.

  bench/state_rss.py OLD/vigild [NEW/vigild]  (N=1000 SECS=90 STEP=5
                                               MODES="none fresh")
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tools as bench  # noqa: E402

N = int(os.environ.get("N", "1000"))
SECS = int(os.environ.get("SECS", "90"))
STEP = float(os.environ.get("STEP", "5"))


def smaps(pid):
    """(heap KiB, other anonymous KiB) resident."""
    heap = anon = 0
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts[0]) > 8 and ":" not in parts[0]:
                name = parts[5] if len(parts) > 5 else ""
            elif parts[0] == "Rss:":
                if name == "[heap]":
                    heap += int(parts[1])
                elif name == "":
                    anon += int(parts[1])
    return heap, anon


def one(vigild, nginx, state_dir):
    conf, port = bench.vigild_conf(N, nginx.url, top=None if state_dir is None
                                   else {"state_dir": state_dir})
    p = bench.start([vigild, "-c", conf], "vigild")
    rows = []
    try:
        bench.wait_http(port, "/health", timeout=120)
        t0 = time.time()
        while time.time() - t0 < SECS:
            time.sleep(STEP)
            heap, anon = smaps(p.pid)
            sz = 0
            if state_dir is not None:
                try:
                    sz = os.path.getsize(os.path.join(state_dir,
                                                      "state.json"))
                except OSError:
                    pass
            rows.append((time.time() - t0, bench.rss_kib(p.pid), heap,
                         anon, sz))
        return rows
    finally:
        bench.stop(p)


def main():
    builds = sys.argv[1:]
    bench.TMP = tempfile.mkdtemp(prefix="vigil-staterss-")
    os.chmod(bench.TMP, 0o755)
    try:
        nginx = bench.Nginx()
        for mode in os.environ.get("MODES", "none fresh").split():
            for b in builds:
                sd = None
                if mode == "fresh":
                    sd = os.path.join(bench.TMP, "state-%d" %
                                      builds.index(b))
                    os.makedirs(sd, mode=0o700, exist_ok=True)
                rows = one(b, nginx, sd)
                print("%s %s, %d probes: t s, VmRSS KiB, heap KiB, "
                      "other anon KiB, state.json bytes" % (mode, b, N),
                      flush=True)
                for r in rows:
                    print("  %5.1f %8d %8d %8d %9d" % r, flush=True)
                if sd is not None:
                    subprocess.run(["rm", "-rf", sd])
    finally:
        bench.stop_all()
        subprocess.run(["rm", "-rf", bench.TMP])


if __name__ == "__main__":
    main()
