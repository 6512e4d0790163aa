#!/usr/bin/env python3
"""The N = 10,000 point of bench.py alone (BENCH_BIG sets N): vigild
polling N nginx targets, its window, `/status` read once and then once
a second, `/metrics` scraped with a `/health` checker, printed as
bench.py logs them, without the other tools' points. For A/B of builds
(VIGIL_BUILD=DIR). Not run by bench/run. Needs `ulimit -n` above N.

  VIGIL_BUILD=/tmp/b bench/big.py
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import tools  # noqa: E402


def main():
    tools.TMP = tempfile.mkdtemp(prefix="vigil-big-")
    os.chmod(tools.TMP, 0o755)     # nginx's worker (nobody) reads the file
    try:
        nginx = tools.Nginx()
        p, _ = bench.phase_vigild_big(nginx, tools.BIG)
        tools.stop(p)
    finally:
        tools.stop_all()
        shutil.rmtree(tools.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
