"""Rules end to end: the real vigild turns the simulator's misbehaviour into
truthful alert states -- pending then firing, resolved, unknown when it
cannot measure, suppressed behind a failing dependency."""
import json
import os
import signal
import time

from harness import E2E, http_probe, wait_for, wait_until, write_secret

FAST = "300ms"


def app_probes(sim, timeout="2s"):
    return [
        http_probe("app_health", sim.url("/api/health"), interval=FAST, timeout=timeout,
                   expect={"json": {"/status": "ok"}}),
        http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                   timeout=timeout, depends_on="app_health_down",
                   metrics={"requests_total": "/metrics/requests/total",
                            "errors_total": "/metrics/requests/errors",
                            "p95_ms": "/metrics/responseTime/p95",
                            "memory_pct": "/metrics/memory/percentage"}),
    ]


ERROR_RATE = {
    "name": "error_rate",
    "ratio": {"numerator": "app_advanced.errors_total",
              "denominator": "app_advanced.requests_total",
              "scale": 100, "min_denominator": 500},
    "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
    "for": "1s", "unit": "%", "depends_on": "app_health_down",
    "summary": "error rate {value} % over {window}, threshold {threshold} %",
}


def states_seen(v, rule, until, timeout, step=0.05):
    """Polls a rule's state until until(rule) or timeout (scaled by SLOW);
    returns the states seen and the rule."""
    seen, last = [], []

    def poll():
        r = v.rule(rule)
        last[:] = [r]
        if not seen or seen[-1] != r["state"]:
            seen.append(r["state"])
        return r if until(r) else None
    try:
        return seen, wait_until(poll, timeout, f"{rule} to get there", interval=step)
    except AssertionError as e:
        raise AssertionError(f"{rule}: states seen {seen}, last {last}; {e}") from None


class ErrorSpike(E2E):
    def test_error_spike_pending_then_critical_then_resolved(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild({"probes": app_probes(sim), "rules": [ERROR_RATE]})
        # Healthy traffic: 0.05 % errors, under the 0.1 % warning.
        seen, r = states_seen(v, "error_rate", lambda r: r["state"] == "ok" and r["value"] is not None, 10)
        self.assertLess(r["value"], 0.1)
        self.assertEqual(v.get("/health")[0], 200)

        sim.scenario("error_spike")
        seen, r = states_seen(v, "error_rate",
                              lambda r: r["state"] == "firing" and r["severity"] == "critical", 10)
        self.assertIn("pending", seen, "for: 1s must show pending before firing")
        self.assertGreater(r["value"], 1)
        self.assertEqual(r["thresholds"]["in_force"], 1)
        self.assertRegex(r["summary"], r"^error rate \d+(\.\d+)? % over 3s, threshold 1 %$")
        s, _, body = v.get("/health")
        self.assertEqual(s, 503)
        doc = json.loads(body)
        self.assertEqual(doc["status"], "fail")
        self.assertIn("critical: error_rate: error rate", doc["output"])
        self.assertEqual(v.status()["alerts"]["critical"], 1)
        self.assertIn("event=rule_state rule=error_rate from=pending to=firing severity=critical",
                      v.log_text())

        sim.scenario("healthy")
        seen, r = states_seen(v, "error_rate", lambda r: r["state"] in ("resolved", "ok"), 15)
        self.assertEqual(r["state"], "resolved")
        wait_for(lambda: v.get("/health")[0] == 200, 5, what="/health 200 again")
        history = [(h["from"], h["to"]) for h in r["history"]]
        self.assertIn(("firing", "resolved"), history)

    def test_too_little_traffic_is_unknown_not_pass(self):
        sim = self.sim(args=["--rps", "10"])
        rule = dict(ERROR_RATE, name="error_rate")
        v = self.vigild({"probes": app_probes(sim), "rules": [rule]})
        seen, r = states_seen(v, "error_rate", lambda r: r["state"] == "unknown" and
                              "too little data" in r.get("reason", ""), 10)
        self.assertIn("under min_denominator 500", r["reason"])
        self.assertIsNone(r["value"])
        self.assertTrue(r["insufficient_data"])
        # Never a silent ok: the rule says unknown, and /health names it;
        # but a quiet night is no warning an uptime monitor should page on.
        doc = json.loads(v.get("/health")[2])
        self.assertEqual(doc["status"], "pass")
        self.assertIn("error_rate: too little data", doc["notes"][0])


class MemoryLeak(E2E):
    def test_slope_warns_before_the_threshold(self):
        sim = self.sim()
        v = self.vigild({"probes": app_probes(sim), "rules": [
            {"name": "memory", "metric": "app_advanced.memory_pct", "op": ">",
             "warn": 70, "crit": 80, "unit": "%"},
            # The simulator's healthy memory jitters by +-1 % of 45 %: over
            # 10 s of 0.3 s samples the slope's standard error is ~56 %/h,
            # so 600 %/h is ~10 sigma of noise; its leak is 1800 %/h.
            {"name": "memory_leak", "metric": "app_advanced.memory_pct", "aggregate": "slope",
             "window": "10s", "op": ">", "warn": 600, "unit": "%/h"},
        ]})
        # The slope needs two samples in its window before it can judge.
        wait_for(lambda: v.rule("memory")["state"] == "ok" and
                 v.rule("memory_leak")["state"] == "ok", 10, what="memory rules ok")
        # 2 points a second: the 10 s slope judges after 5 s (~55 %), the
        # 70 % threshold comes ~12 s in.
        sim.scenario("memory_leak", rate=2)
        seen, leak = states_seen(v, "memory_leak", lambda r: r["state"] == "firing", 10)
        self.assertEqual(leak["severity"], "warning")
        self.assertGreater(leak["value"], 600)
        mem = v.rule("memory")
        self.assertEqual(mem["state"], "ok", "the leak must show before the threshold")
        self.assertLess(mem["value"], 70)
        # The leak goes on; the threshold is crossed later.
        seen, mem = states_seen(v, "memory", lambda r: r["state"] == "firing", 30, step=0.2)
        self.assertGreater(mem["value"], 70)


class Hang(E2E):
    def test_hang_makes_rules_unknown_or_suppressed_never_ok(self):
        sim = self.sim()
        v = self.vigild({"probes": app_probes(sim, timeout="1s"), "rules": [
            {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
             "crit": 1000, "depends_on": "app_health_down"},
            {"name": "memory", "metric": "app_advanced.memory_pct", "op": ">", "warn": 70},
        ]})
        wait_for(lambda: all(v.rule(n)["state"] == "ok" for n in ("api_p95", "memory")), 10,
                 what="rules ok")
        sim.scenario("hang")
        wait_for(lambda: v.probe("app_health")["state"] == "down" and
                 v.probe("app_advanced")["state"] == "down", 5, what="both probes down")
        end = time.monotonic() + 3
        while time.monotonic() < end:
            st = v.status()
            p95, mem, down = v.rule("api_p95", st), v.rule("memory", st), v.rule("app_health_down", st)
            self.assertEqual(down["state"], "firing")
            self.assertEqual(p95["state"], "suppressed", p95)
            self.assertEqual(p95["suppressed_by"], "app_health_down")
            self.assertIn(mem["state"], ("unknown", "suppressed"), mem)
            self.assertNotEqual(mem["state"], "ok")
            time.sleep(0.1)      # a sleep: samples the states over a 3 s window
        mem = v.rule("memory")
        self.assertEqual(mem["state"], "unknown")
        self.assertIn("probe failing: timed out after 1000 ms", mem["reason"])
        adv = v.rule("app_advanced_down")
        self.assertEqual(adv["suppressed_by"], "app_health_down")
        self.assertEqual(v.status()["alerts"]["critical"], 1 + (adv["state"] == "suppressed"))
        self.assertEqual(v.get("/health")[0], 503)
        sim.scenario("healthy")
        wait_for(lambda: v.rule("memory")["state"] == "ok", 10, what="memory ok again")
        wait_for(lambda: v.get("/health")[0] == 200, 10, what="health 200 again")


class Debounce(E2E):
    def test_fail_after_recover_after_and_retry_interval(self):
        """down only after fail_after failed runs in a row, looked at again
        every retry_interval meanwhile; up only after recover_after good ones.
        Every /status snapshot must agree with those counts."""
        sim = self.sim()
        v = self.vigild({"probes": [http_probe(
            "app", sim.url("/api/health"), interval="3s", timeout="1s", fail_after=3,
            recover_after=2, retry_interval="500ms")]})
        wait_for(lambda: v.probe("app")["state"] == "up", 10, what="up")
        snaps = []

        def watch(until, timeout):
            def step():
                p = v.probe("app")
                snaps.append((p["state"], p["consecutive_failures"],
                              p["consecutive_successes"], p["runs"]))
                return p if until(p) else None
            return wait_for(step, timeout, what="probe state")

        sim.scenario("down")
        runs0 = v.probe("app")["runs"]
        # Three failures 500 ms apart fit well inside one 3 s interval (at
        # the plain interval they would take 6 s or more).
        p = watch(lambda p: p["state"] == "down", 5.5)
        self.assertEqual(p["consecutive_failures"], 3, p)
        self.assertLessEqual(p["runs"] - runs0, 4, p)
        failing = [s for s in snaps if s[1] > 0]
        self.assertTrue(any(s[1] in (1, 2) for s in failing), snaps)
        for state, cf, _, _ in failing:
            self.assertEqual(state, "up" if cf < 3 else "down", snaps)
        self.assertEqual(v.rule("app_down")["state"], "firing")

        snaps.clear()
        sim.scenario("healthy")
        p = watch(lambda p: p["state"] == "up", 15)
        self.assertEqual(p["consecutive_successes"], 2, p)
        recovering = [s for s in snaps if s[2] > 0]
        self.assertTrue(any(s[2] == 1 for s in recovering), snaps)
        for state, _, cs, _ in recovering:
            self.assertEqual(state, "down" if cs < 2 else "up", snaps)


class RuleLifecycle(E2E):
    def test_reload_keeps_firing_state_and_since(self):
        sim = self.sim()
        cfg = {"probes": app_probes(sim), "rules": [
            {"name": "p95_low_bar", "metric": "app_advanced.p95_ms", "op": ">", "warn": 1}]}
        v = self.vigild(cfg)
        r = wait_for(lambda: (lambda r: r if r["state"] == "firing" else None)(v.rule("p95_low_bar")),
                     10, what="firing")
        since = r["since"]
        cfg["probes"][0]["interval"] = "400ms"   # another probe changes
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 5, what="reload")
        r = v.rule("p95_low_bar")
        self.assertEqual((r["state"], r["since"]), ("firing", since))
        # One transition into firing (at its first evaluation), none after.
        self.assertEqual(v.log_text().count("rule=p95_low_bar from=unknown to=firing"), 1)
        self.assertEqual(v.log_text().count("to=firing"), 1)

    def test_baseline_needs_token_and_is_compared(self):
        sim = self.sim()
        token = "s3cret-token-for-baselines"
        path = write_secret(os.path.join(self.workdir, "token"), token + "\n")
        cfg = {"probes": app_probes(sim), "rules": [
            {"name": "p95_vs_baseline", "metric": "app_advanced.p95_ms", "op": ">",
             "crit": 100000, "baseline": {"warn": 3}, "unit": "ms"}]}
        v = self.vigild(cfg)
        wait_for(lambda: v.rule("p95_vs_baseline")["value"] is not None, 10, what="a value")
        self.assertEqual(v.get("/baseline", "POST", b"{}")[0], 403)   # no token_file yet
        cfg["api"] = {"token_file": path}
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 5, what="reload")
        self.assertEqual(v.get("/baseline", "POST", b"{}")[0], 401)
        req = lambda tok, body=b"{}": http_auth(v, "/baseline", tok, body)
        self.assertEqual(req("wrong")[0], 403)
        self.assertEqual(req(token, b'{"rule": "nope"}')[0], 404)
        self.assertEqual(req(token, b"not json")[0], 400)
        s, body = req(token)
        self.assertEqual(s, 200, body)
        self.assertEqual(json.loads(body)["saved"], 1)
        b = v.rule("p95_vs_baseline")["baseline"]
        self.assertGreater(b["value"], 0)
        self.assertEqual(b["warn_factor"], 3)
        self.assertIn("delta_pct", b)
        # Three times the healthy p95 is crossed when the app gets slow.
        sim.scenario("slow", slow_ms=800)
        wait_for(lambda: v.rule("p95_vs_baseline")["state"] == "firing", 15, what="over 3x baseline")
        self.assertNotIn(token, v.get("/status")[2].decode())
        self.assertNotIn(token, v.log_text())


def http_auth(v, path, token, body):
    import urllib.request
    import urllib.error
    req = urllib.request.Request(v.base + path, data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
