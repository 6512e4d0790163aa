#!/usr/bin/env python3
"""Runs every tests/e2e/test_*.py and ends with 'N passed, N failed'.

run.py [-j N] [PATTERN]: with -j N (make check passes -j 2), N modules run
at once, each in a process of its own, the longest-running first; their
output is printed whole, one module after another. The tests mostly wait
on vigild's intervals, so two at a time nearly halve the wall time.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# The valgrind pass (VIGIL_VALGRIND=1) is judged by memcheck: every vigild
# writes its report into one directory, made here before harness reads it.
if os.environ.get("VIGIL_VALGRIND") == "1" and not os.environ.get("VIGIL_VALGRIND_LOGS"):
    os.environ["VIGIL_VALGRIND_LOGS"] = tempfile.mkdtemp(prefix="vigil-memcheck-")

import harness  # noqa: E402  (after the path is set)

# Modules that take longest, longest first (measured in make check on the
# shared 2-core machine: gate 164-204 s, rollout 107-136 s, the others 50 s
# or less), started first so that a long one does not start last.
LONG_FIRST = ["test_gate.py", "test_rollout.py", "test_sentry.py", "test_notify.py",
              "test_rules.py", "test_postgres.py", "test_state.py", "test_operator.py",
              "test_faults.py", "test_service.py", "test_daemon.py", "test_abuse.py"]


def run_tests(pattern):
    """Runs the modules matching pattern here; the counts as a dict."""
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = [t.id() for t, _ in result.failures + result.errors]
    timing = [t for t, why in result.skipped if why == harness.TIMING_SKIP]
    return {"run": result.testsRun, "failed": len(failed), "failed_names": failed,
            "timing": len(timing), "other_skips": len(result.skipped) - len(timing),
            "passed": result.testsRun - len(failed) - len(result.skipped)}


def memcheck_reports():
    """The non-empty memcheck reports of the valgrind pass: (name, text)."""
    d = os.environ.get("VIGIL_VALGRIND_LOGS")
    found = []
    for name in sorted(os.listdir(d)) if d and os.path.isdir(d) else []:
        with open(os.path.join(d, name), errors="replace") as f:
            text = f.read()
        if text.strip():
            found.append((name, text))
    return found


def valgrind_verdict(counts):
    """The valgrind pass judges memory, not behaviour: memcheck slows vigild
    some 20 times, and a deadline or count that holds at full speed then
    fails by chance (a different few tests each run). Behaviour is judged
    by the plain and ASan/UBSan passes of make check; here a test that
    fails is listed, and the pass fails on any memcheck report (an error,
    a definite or indirect leak, a crash) or if no test ran."""
    reports = memcheck_reports()
    for name, text in reports:
        print(f"e2e: memcheck report {name}:\n{text}")
    if counts["failed"]:
        print(f"e2e: {counts['failed']} test(s) failed under valgrind (by a memcheck "
              "report above, or by a deadline missed in its slowdown; behaviour is "
              "judged by make check's passes, memory here):")
        for t in counts["failed_names"]:
            print(f"  {t}")
    print(f"e2e: memcheck: {len(reports)} report(s) from vigild")
    if reports:
        return 1
    d = os.environ["VIGIL_VALGRIND_LOGS"]
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)
    return 0


def run_parallel(pattern, jobs):
    """Each matching module in a child run.py, at most jobs at once."""
    import fnmatch
    modules = sorted(f for f in os.listdir(HERE) if fnmatch.fnmatch(f, pattern))
    modules.sort(key=lambda m: LONG_FIRST.index(m) if m in LONG_FIRST else len(LONG_FIRST))
    total = {"run": 0, "failed": 0, "failed_names": [], "timing": 0, "other_skips": 0,
             "passed": 0}
    tmp = tempfile.mkdtemp(prefix="vigil-e2e-run-")
    running, todo = [], list(modules)
    while todo or running:
        while todo and len(running) < jobs:
            m = todo.pop(0)
            out = open(os.path.join(tmp, m + ".out"), "w+")
            res = os.path.join(tmp, m + ".json")
            env = dict(os.environ, VIGIL_E2E_RESULT=res)
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), m],
                                 stdout=out, stderr=subprocess.STDOUT, env=env)
            running.append((m, p, out, res, time.monotonic()))
        time.sleep(0.2)
        for item in list(running):
            m, p, out, res, t0 = item
            if p.poll() is None:
                continue
            running.remove(item)
            out.seek(0)
            sys.stdout.write(out.read())
            out.close()
            try:
                with open(res) as f:
                    counts = json.load(f)
            except (OSError, ValueError):
                counts = {"run": 1, "failed": 1, "failed_names": [m], "timing": 0,
                          "other_skips": 0, "passed": 0}
                print(f"e2e: {m} ended ({p.returncode}) without its result")
            print(f"e2e: {m}: {counts['passed']} passed, {counts['failed']} failed "
                  f"in {time.monotonic() - t0:.0f} s")
            sys.stdout.flush()
            for k in total:
                total[k] += counts[k]
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    return total


def main():
    args = sys.argv[1:]
    jobs = 1
    if len(args) >= 2 and args[0] == "-j":
        jobs = int(args[1])
        args = args[2:]
    pattern = args[0] if args else "test_*.py"
    counts = run_parallel(pattern, jobs) if jobs > 1 else run_tests(pattern)
    if os.environ.get("VIGIL_E2E_RESULT"):
        # A child of run_parallel: its parent sums and judges.
        with open(os.environ["VIGIL_E2E_RESULT"], "w") as f:
            json.dump(counts, f)
        return 0 if counts["failed"] == 0 else 1
    build = os.environ.get("VIGIL_BUILD", "build")
    print(f"end-to-end suite against {build}/")
    # The only skip allowed: a test about timing, under valgrind.
    print(f"e2e: {counts['passed']} passed, {counts['failed']} failed" +
          (f", {counts['timing']} skipped under valgrind (timing)" if counts["timing"] else ""))
    if counts["run"] == 0:
        print("e2e: no test ran")
        return 1
    # A missing dependency is a failure here, never a quiet skip.
    if counts["other_skips"]:
        print("e2e: a test was skipped; that is a failure here")
        return 1
    if harness.VALGRIND:
        return valgrind_verdict(counts)
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
