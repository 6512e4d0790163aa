#!/usr/bin/env python3
"""RSS of vigild builds polling 1,000 nginx targets at 1 s (bench.py's
setup): without a state_dir, with a fresh one, and with one whose probe
and rule files hold 90 days (every minute of every hour before this one,
written as tests/e2e/test_page.py seeds them). RSS sampled each second
from 20 s to 32 s, least and most (saves every 10 s swell it). Not run
by bench/run; bench/PROFILE.md's "History memory" came from it.

  bench/history_rss.py OLD/vigild NEW/vigild   (MODES="none fresh seeded")
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import tools  # noqa: E402

HOUR_MS = 3600 * 1000
BLOCKS = 90 * 24
BLOCK = 8 + 60 * 20
N = 1000


def header(kind, name):
    h = bytearray(128)
    h[0:8] = b"VIGILHST"
    struct.pack_into("<IIII", h, 8, 2, kind, BLOCKS, BLOCK)
    h[24:24 + len(name)] = name.encode()
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:124])))
    return bytes(h)


def seed(d):
    os.makedirs(d, mode=0o700, exist_ok=True)
    now = int(time.time() * 1000)
    this_hour = now // HOUR_MS
    body = bytearray(BLOCKS * BLOCK)
    rec = struct.pack("<HHHBBfff", 1, 0, 0, 0, 1, 0.2, 0.3, 0.5)
    for hour in range(this_hour - BLOCKS + 1, this_hour):
        blk = bytearray(BLOCK)
        struct.pack_into("<I", blk, 4, hour & 0xffffffff)
        blk[8:] = rec * 60
        struct.pack_into("<I", blk, 0, zlib.crc32(bytes(blk[4:])))
        off = (hour % BLOCKS) * BLOCK
        body[off:off + BLOCK] = blk
    body = bytes(body)
    for i in range(N):
        for kind, name in ((0, "t%d" % i), (1, "t%d_down" % i)):
            with open(os.path.join(d, "%s-%s.hist" % (
                    "probe" if kind == 0 else "rule", name)), "wb") as f:
                f.write(header(kind, name))
                f.write(body)


def one(vigild, nginx, state_dir, secs=20):
    conf, port = bench.vigild_conf(N, nginx.url, top=None if state_dir is None
                                   else {"state_dir": state_dir})
    p = bench.start([vigild, "-c", conf], "vigild")
    try:
        bench.wait_http(port, "/health", timeout=120)
        time.sleep(secs)
        # state.json is written every state_interval (10 s) and its copy
        # swells RSS meanwhile: the least and most of 12 s.
        rs = []
        for _ in range(12):
            rs.append(bench.rss_kib(p.pid))
            time.sleep(1)
        st = json.loads(bench.get(port, "/status", timeout=30)[1])
        hist = st.get("vigild", {}).get("history", {})
        return "min %d KiB, max %d KiB" % (min(rs), max(rs)), hist
    finally:
        bench.stop(p)


def main():
    builds = sys.argv[1:3]
    tools.TMP = tempfile.mkdtemp(prefix="vigil-rss-")
    os.chmod(tools.TMP, 0o755)
    try:
        nginx = bench.Nginx()
        for mode in os.environ.get("MODES", "none fresh seeded").split():
            for b in builds:
                sd = None
                if mode == "fresh":
                    sd = os.path.join(tools.TMP, "state-%d" % builds.index(b))
                    os.makedirs(sd, mode=0o700, exist_ok=True)
                elif mode == "seeded":
                    sd = os.path.join(tools.TMP, "state-seeded")
                    if not os.path.isdir(sd):
                        os.makedirs(sd, mode=0o700)
                        t = time.time()
                        seed(os.path.join(sd, "history"))
                        os.sync()
                        print("seeded in %.0f s" % (time.time() - t), flush=True)
                rss, hist = one(b, nginx, sd)
                print("%-7s %s: RSS %s  history %s" % (mode, b, rss,
                      json.dumps(hist)), flush=True)
                if mode == "fresh":
                    subprocess.run(["rm", "-rf", sd])
    finally:
        bench.stop_all()
        subprocess.run(["rm", "-rf", tools.TMP])


if __name__ == "__main__":
    main()
