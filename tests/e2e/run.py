#!/usr/bin/env python3
"""Runs every tests/e2e/test_*.py and ends with 'N passed, N failed'."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (after the path is set)


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    build = os.environ.get("VIGIL_BUILD", "build")
    # The only skip allowed: a test about timing, under valgrind.
    timing = [t for t, why in result.skipped if why == harness.TIMING_SKIP]
    print(f"end-to-end suite against {build}/")
    print(f"e2e: {passed} passed, {failed} failed" +
          (f", {len(timing)} skipped under valgrind (timing)" if timing else ""))
    if result.testsRun == 0:
        print("e2e: no test ran")
        return 1
    # A missing dependency is a failure here, never a quiet skip.
    if len(result.skipped) > len(timing):
        print("e2e: a test was skipped; that is a failure here")
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
