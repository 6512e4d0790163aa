"""Derived metrics end to end: a cache hit ratio computed by vigild from
the simulator's hit and miss counters (100 * hits / (hits + misses)),
judged by a rule like any metric, a ratio whose denominator is a derived
metric, a division by zero that leaves a rule unknown with the reason,
and a bad expression refused by --check-config at its column in the file."""
import os
import signal
import subprocess

from harness import E2E, VIGILD, http_probe, wait_until

FAST = "300ms"


def config(sim):
    return {
        "probes": [
            http_probe("app_cache", sim.url("/api/cache/stats"), interval=FAST,
                       metrics={"hits": "/hits", "misses": "/misses"}),
        ],
        "derived": {
            "cache_hit_pct": "100 * app_cache.hits / derived.cache_lookups",
            "cache_lookups": "app_cache.hits + app_cache.misses",
            "never": "app_cache.hits / (app_cache.misses - app_cache.misses)",
        },
        "rules": [
            {"name": "cache_hit", "metric": "derived.cache_hit_pct",
             "op": "<", "warn": 1, "unit": "%"},
            {"name": "cache_hit_avg", "metric": "derived.cache_hit_pct",
             "aggregate": "avg", "window": "3s", "op": "<", "warn": 1},
            {"name": "cache_hit_window",
             "ratio": {"numerator": "app_cache.hits",
                       "denominator": "derived.cache_lookups", "scale": 100},
             "aggregate": "delta", "window": "3s", "op": "<", "warn": 1},
            {"name": "never", "metric": "derived.never", "op": ">", "warn": 1},
        ],
    }


class DerivedRules(E2E):
    def test_cache_hit_ratio_matches_the_counters(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(config(sim))

        def known():
            st = v.status()
            r = v.rule("cache_hit", st)
            w = v.rule("cache_hit_window", st)
            return st if r["value"] is not None and w["value"] is not None else None
        st = wait_until(known, 15, "the derived rules to have values")
        metrics = next(p for p in st["probes"] if p["name"] == "app_cache")["last_run"]["metrics"]
        h, m = metrics["hits"], metrics["misses"]
        r = v.rule("cache_hit", st)
        self.assertEqual(r["state"], "ok", r)
        self.assertAlmostEqual(r["value"], 100 * h / (h + m), places=3)
        self.assertGreater(r["value"], 1)
        self.assertLess(r["value"], 100)
        # Windows over the derived series and a derived denominator work.
        avg = wait_until(lambda: v.rule("cache_hit_avg")["value"], 10, "the average")
        self.assertGreater(avg, 1)
        self.assertLessEqual(avg, 100)
        w = v.rule("cache_hit_window", st)
        self.assertGreater(w["value"], 1)
        self.assertLessEqual(w["value"], 100)
        # 0 / 0 or x / 0: unknown with the reason, never 0 or inf.
        n = v.rule("never", st)
        self.assertEqual(n["state"], "unknown")
        self.assertIsNone(n["value"])
        self.assertEqual(n["reason"], "derived.never unknown: division by zero")


    def test_reload_with_another_expression(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = config(sim)
        v = self.vigild(cfg)
        wait_until(lambda: v.rule("cache_hit")["value"], 15, "a hit ratio")
        # Misses instead of hits: the old samples mean something else now.
        cfg["derived"]["cache_hit_pct"] = "100 * app_cache.misses / derived.cache_lookups"
        v.write_config(cfg)
        v.signal(signal.SIGHUP)

        def miss_ratio():
            st = v.status()
            r = v.rule("cache_hit", st)
            m = next(p for p in st["probes"] if p["name"] == "app_cache")["last_run"]["metrics"]
            want = 100 * m["misses"] / (m["hits"] + m["misses"])
            return r if r["value"] is not None and abs(r["value"] - want) < 1e-3 else None
        r = wait_until(miss_ratio, 15, "the miss ratio after the reload")
        self.assertLess(r["value"], 50)
        self.assertIn("event=config_reloaded", v.log_text())


class BadExpression(E2E):
    def test_check_config_points_into_the_string(self):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write('{\n  "probes": [{"name": "app", "type": "http",\n'
                    '    "url": "http://127.0.0.1:1/", "metrics": {"hits": "/h"}}],\n'
                    '  "derived": {\n'
                    '    "pct": "100 * app.hits / (app.hits +)"\n'
                    '  }\n}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        # Line 5: `    "pct": "` is 12 bytes; ')' is byte 28 of the string.
        self.assertIn(f"{path}:5:41: derived metric \"pct\": expected a value, not ')'",
                      r.stderr)

    def test_unknown_metric_and_cycles(self):
        path = os.path.join(self.workdir, "bad2.json")
        with open(path, "w") as f:
            f.write('{"probes": [{"name": "app", "type": "http", "url": "http://127.0.0.1:1/"}],\n'
                    '"derived": {"a": "app.nope * 2", "b": "derived.c", "c": "derived.b"}}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f'{path}:2:19: probe "app" has no metric "nope"', r.stderr)
        with open(path, "w") as f:
            f.write('{"probes": [{"name": "app", "type": "http", "url": "http://127.0.0.1:1/"}],\n'
                    '"derived": {"b": "derived.c + app.up", "c": "derived.b"}}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"{path}:2:18: derived metrics form a cycle: "
                      "derived.b -> derived.c -> derived.b", r.stderr)
