"""The release gate as a pipeline meets it: the shipped staged-rollout script
(contrib/examples/staged-rollout.sh) run against the simulator with the real
vigild and vigilctl; vigilctl wait's contract (no window, usage, retries,
--json); and a reload that drops a check a past deploy used."""
import json
import os
import signal
import subprocess
import time

import harness
from harness import BUILD, E2E, SLOW, http, http_probe, wait_for, wait_until, write_secret

TOKEN = "rollout-token-77c1"
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "contrib", "examples", "staged-rollout.sh")
VIGILCTL = os.path.abspath(os.path.join(BUILD, "vigilctl"))


class RolloutCase(E2E):
    def config(self, sim, relative=True):
        path = write_secret(os.path.join(self.workdir, "token"), TOKEN)
        err = {"rule": "error_rate", "fail_after": 2, "min_requests": 1000}
        if relative:
            err["relative"] = {"max_increase_pct": 10}
        return {
            "api": {"token_file": path},
            "probes": [
                http_probe("app_health", sim.url("/api/health"), interval="300ms"),
                http_probe("app_advanced", sim.url("/api/health/advanced"), interval="300ms",
                           depends_on="app_health_down",
                           metrics={"requests_total": "/metrics/requests/total",
                                    "errors_total": "/metrics/requests/errors",
                                    "p95_ms": "/metrics/responseTime/p95"}),
            ],
            "rules": [
                {"name": "error_rate", "ratio": {"numerator": "app_advanced.errors_total",
                                                 "denominator": "app_advanced.requests_total",
                                                 "scale": 100, "min_denominator": 1000},
                 "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
                 "unit": "%"},
                {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
                 "crit": 1000, "unit": "ms"},
            ],
            # Judged once a second so that a rollout takes seconds.
            "release": {"warmup": "0s", "baseline": "10s", "interval": "1s",
                        "checks": [err, {"rule": "api_p95", "fail_after": 3},
                                   {"rule": "app_health_down", "key": True}]},
        }

    def ctl_words(self, v):
        return [VIGILCTL, "--url", v.base, "--token-file", os.path.join(self.workdir, "token"),
                "--no-color"]

    def ctl(self, v, *args, timeout=60):
        r = subprocess.run([*self.ctl_words(v), *args], capture_output=True, text=True,
                           timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def rollout(self, v, sim, version, rollout_scenario):
        """Runs the shipped script; the 'rollout' switches the simulator."""
        undo = os.path.join(self.workdir, "undone")
        env = dict(os.environ)
        env.update({
            "VERSION": version,
            "VIGILCTL": " ".join(self.ctl_words(v)),
            "ROLLOUT": f"curl -sf -o /dev/null -X POST {sim.url('/_sim/scenario/' + rollout_scenario)}",
            "SHIFT": "true",
            "UNDO": f"touch {undo}",
            "WARMUP": "0s", "CANARY_FOR": "5s", "STAGE_FOR": "3s", "STAGES": "50 100",
        })
        r = subprocess.run(["sh", SCRIPT], capture_output=True, text=True, env=env,
                           timeout=120 * SLOW)
        return r.returncode, r.stdout, r.stderr, os.path.exists(undo)

    def settled(self, v, seconds=4):
        """vigild has a baseline of healthy traffic behind it: error_rate ok,
        then seconds' worth of polls (300 ms apart) of it."""
        wait_for(lambda: v.rule("error_rate")["state"] == "ok", 15 * SLOW, what="error_rate ok")
        runs = v.probe("app_advanced")["runs"] + int(seconds / 0.3)
        wait_until(lambda: v.probe("app_advanced")["runs"] >= runs, 3 * seconds,
                   f"{seconds} s of healthy polls")

    def check_polls(self, v, name):
        """Polls check name of the open deploy has judged."""
        doc = json.loads(v.get("/deploys/current")[2])
        return [c for c in doc["checks"] if c["name"] == name][0]["polls"]


class Script(RolloutCase):
    def test_good_release_ships(self):
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        v = self.vigild(self.config(sim))
        self.settled(v)
        rc, out, err, undone = self.rollout(v, sim, "1.0.0", "healthy")
        self.assertEqual(rc, 0, out + err)
        self.assertFalse(undone)
        self.assertIn("## Deploy 1.0.0: PASS", out)
        doc = json.loads(v.get("/deploys/1")[2])
        self.assertEqual((doc["open"], doc["verdict"]["final"]), (False, "pass"), doc["verdict"])
        self.assertEqual([s["weight"] for s in doc["stages"]], [10, 50, 100])

    def test_subtly_bad_release_rolls_back(self):
        # 0.05 % -> 0.3 %: under the 1 % crit, over the 0.1 % warn: only
        # the relative check (Fisher exact, judged at interval ends) can
        # fail it, and it must, in the canary stage.
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        v = self.vigild(self.config(sim))
        self.settled(v)
        rc, out, err, undone = self.rollout(v, sim, "1.0.1", "error_spike?error_pct=0.3")
        self.assertEqual(rc, 2, out + err)
        self.assertTrue(undone)
        self.assertIn("failed at 10 %", err)
        doc = json.loads(v.get("/deploys/1")[2])
        self.assertEqual(doc["verdict"]["final"], "fail", doc["verdict"])
        self.assertIn("relative", doc["verdict"]["final_reason"])
        err_check = [c for c in doc["checks"] if c["name"] == "error_rate"][0]
        self.assertEqual(err_check["relative"]["test"], "Fisher exact")
        self.assertEqual(err_check["relative"]["verdict"], "fail")
        # The report the script pasted says the same, and how it judged.
        self.assertIn("## Deploy 1.0.1: FAIL", out)
        self.assertIn("- Last stage (10 %): **fail**: error_rate: relative: ", out)
        self.assertRegex(out, r"- Judged every 1 s \(\d+ intervals\); relative checks compare "
                              r"the deploy window against the same-length window before it")

    def test_same_release_without_relative_check_only_warns(self):
        # The control: thresholds alone cannot see it (a warn passes).
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        v = self.vigild(self.config(sim, relative=False))
        self.settled(v)
        rc, out, err, undone = self.rollout(v, sim, "1.0.1", "error_spike?error_pct=0.3")
        # The last stage waits with --fail-on warning: the script stops.
        self.assertEqual(rc, 3, out + err)
        self.assertFalse(undone)
        self.assertIn("warns at 100 %", err)

    def test_traffic_that_stops_is_inconclusive(self):
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        v = self.vigild(self.config(sim))
        self.settled(v)
        rc, out, err, undone = self.rollout(v, sim, "1.0.2", "no_traffic")
        self.assertEqual(rc, 3, out + err)
        self.assertFalse(undone)
        self.assertIn("inconclusive at 10 %", err)
        doc = json.loads(v.get("/deploys/1")[2])
        self.assertEqual(doc["verdict"]["final"], "inconclusive", doc["verdict"])
        self.assertRegex(doc["verdict"]["final_reason"], r"too few requests|no data")


class Wait(RolloutCase):
    def test_wait_contract(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim))
        # Usage: --for is required; an operand is not a duration.
        rc, out, err = self.ctl(v, "wait")
        self.assertEqual(rc, 64, err)
        self.assertIn("--for", err)
        rc, out, err = self.ctl(v, "wait", "30m")
        self.assertEqual(rc, 64, err)
        self.assertIn("did you mean --for 30m", err)
        rc, out, err = self.ctl(v, "deploy", "begin", "--version", "2.0.0", "stray")
        self.assertEqual(rc, 64, err)
        # A window, judged, ended: wait on it is 3, naming it.
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "2.0.0",
                                  "--warmup", "0s")[0], 0)
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--interval", "300ms", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)                       # the document alone on stdout
        self.assertEqual(doc["gate"]["final"], "pass")
        # wait's verdict is vigild's, as report --json shows it.
        rc2, out2, _ = self.ctl(v, "report", "--json")
        self.assertEqual(json.loads(out2)["gate"]["scope"], doc["gate"]["scope"])
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--dry-run", "--json")
        self.assertEqual(rc, 0, err)
        json.loads(out)
        self.assertIn("dry run: would have exited 0", err)
        self.assertEqual(self.ctl(v, "deploy", "end")[0], 0)
        rc, out, err = self.ctl(v, "wait", "--for", "2s")
        self.assertEqual(rc, 3, out + err)
        self.assertIn("no deploy window is open", err)
        self.assertIn("deploy 1 (2.0.0), ended", err)

    def test_wait_exit_code_is_the_reports_verdict(self):
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        v = self.vigild(self.config(sim))
        self.settled(v, 2)
        codes = {"pass": 0, "warn": 0, "fail": 2, "inconclusive": 3}
        for version, scenario in (("3.0.0", "healthy"), ("3.0.1", "error_spike?error_pct=0.3")):
            # The last window's errors out of the 3 s error window first.
            wait_for(lambda: v.rule("error_rate")["state"] in ("ok", "resolved"), 15,
                     what="error_rate back to ok")
            self.assertEqual(self.ctl(v, "deploy", "begin", "--version", version,
                                      "--warmup", "0s")[0], 0)
            http("POST", sim.url("/_sim/scenario/" + scenario), b"")
            self.ctl(v, "deploy", "step", "--weight", "10")
            rc, out, err = self.ctl(v, "wait", "--for", "4s", "--interval", "300ms")
            rc2, rep, _ = self.ctl(v, "report", "--json")
            gate = json.loads(rep)["gate"]
            verdict = gate["now"] if gate["decided"] else gate["final"]
            self.assertEqual(rc, codes[verdict], out + err + rep)
            self.assertIn(f"verdict: {verdict} (exit {rc})", out)
            self.ctl(v, "deploy", "end")
            http("POST", sim.url("/_sim/scenario/healthy"), b"")

    def test_wait_retries_a_restarting_vigild(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim)
        cfg["state_dir"] = os.path.join(self.workdir, "state")
        os.mkdir(cfg["state_dir"])
        v = self.vigild(cfg)
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "4.0.0",
                                  "--warmup", "0s")[0], 0)
        out_path, err_path = (os.path.join(self.workdir, f"waiter.{x}") for x in ("out", "err"))
        with open(out_path, "w") as out, open(err_path, "w") as err:
            waiter = subprocess.Popen([*self.ctl_words(v), "wait", "--for", "6s", "--interval",
                                       "300ms", "--retry-for", "30s"], stdout=out, stderr=err)
        self.addCleanup(lambda: waiter.poll() is None and (waiter.kill(), waiter.wait()))

        def said(text):
            with open(err_path) as f:
                return text in f.read()
        # The waiter has the window (a progress line), and the window has
        # judged polls of its own before the restart (so the stage's
        # verdict does not rest on the restart's gap alone).
        wait_until(lambda: said("[+"), 5, "the waiter's first poll")

        def judged():
            doc = json.loads(v.get("/deploys/current")[2])
            return all(c["polls"] >= 2 for c in doc["checks"])
        wait_until(judged, 10, "two judged polls of every check")
        port = v.port
        self.vigilds.remove(v)
        self.assertEqual(v.stop(), 0)
        wait_until(lambda: said("vigilctl: retrying for up to"), 5,
                   "the waiter to meet no vigild")
        # The same port again, the state file resumes the window.
        real = harness.free_port
        harness.free_port = lambda: port
        try:
            self.vigild(cfg, name="again")
        finally:
            harness.free_port = real
        waiter.wait(timeout=60 * SLOW)
        with open(out_path) as f1, open(err_path) as f2:
            out, err = f1.read(), f2.read()
        self.assertEqual(waiter.returncode, 0, out + err)
        self.assertIn("retrying for up to 30 s", err)
        # Said once, not at every attempt; and the end of it said too.
        self.assertEqual(err.count("cannot reach"), 1, err)
        self.assertIn("vigild answered again after", err)
        # With nothing to reach at all: 3 after --retry-for.
        t0 = time.monotonic()
        r = subprocess.run([VIGILCTL, "--url", f"http://127.0.0.1:{harness.free_port()}", "wait",
                            "--for", "5s", "--retry-for", "1s"],
                           capture_output=True, text=True, timeout=30 * SLOW)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("vigild unreachable", r.stderr)
        self.assertEqual(r.stderr.count("cannot reach"), 2, r.stderr)   # at first, at the end
        self.assertIn("gave up after", r.stderr)
        self.assertLess(time.monotonic() - t0, 20 * SLOW)


class Reload(RolloutCase):
    def test_reload_dropping_a_check_keeps_past_reports(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim)
        # api_p95 cannot have enough samples: the deploy ends inconclusive
        # on it, and must stay so when a reload drops the check.
        cfg["release"]["checks"][1]["min_samples"] = 100000
        v = self.vigild(cfg)
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "5.0.0",
                                  "--warmup", "0s")[0], 0)
        # The other checks past their minimum of polls: api_p95 alone lacks them.
        wait_until(lambda: self.check_polls(v, "error_rate") >= 5 and
                   self.check_polls(v, "app_health_down") >= 5, 10, "five polls judged")
        self.assertEqual(self.ctl(v, "deploy", "end")[0], 0)
        before = json.loads(v.get("/deploys/1")[2])
        self.assertEqual(before["verdict"]["final"], "inconclusive", before["verdict"])
        self.assertIn("api_p95", before["verdict"]["final_reason"])
        # The next config has no api_p95 check, and api_p95's thresholds
        # are gone with its rule.
        cfg2 = json.loads(json.dumps(cfg))
        cfg2["rules"] = [r for r in cfg2["rules"] if r["name"] != "api_p95"]
        cfg2["release"]["checks"] = [c for c in cfg2["release"]["checks"]
                                     if c["rule"] != "api_p95"]
        v.write_config(cfg2)
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 10 * SLOW,
                 what="reload")
        for path in ("/status", "/deploys", "/deploys/1", "/metrics", "/"):
            s, _, b = v.get(path)
            self.assertEqual(s, 200, (path, b[:300]))
        after = json.loads(v.get("/deploys/1")[2])
        p95 = [c for c in after["checks"] if c["name"] == "api_p95"][0]
        # Rendered from the deploy's own copy of its config.
        self.assertEqual(p95["target"], {"op": ">", "warn": 500, "crit": 1000, "unit": "ms"})
        self.assertEqual(after["verdict"], before["verdict"])
        rc, out, err = self.ctl(v, "report", "--deploy", "1")
        self.assertEqual(rc, 0, err)
        self.assertIn("api_p95", out)
        # A new deploy judges with the new config.
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "5.0.1",
                                  "--warmup", "0s")[0], 0)
        doc = json.loads(v.get("/deploys/current")[2])
        self.assertEqual(sorted(c["name"] for c in doc["checks"]),
                         ["app_health_down", "error_rate"])

    def test_reload_mid_window_marks_the_removed_check(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim)
        v = self.vigild(cfg)
        self.ctl(v, "deploy", "begin", "--version", "6.0.0", "--warmup", "0s")
        wait_until(lambda: self.check_polls(v, "api_p95") >= 3, 10, "api_p95 judged")
        cfg2 = json.loads(json.dumps(cfg))
        cfg2["release"]["checks"] = [c for c in cfg2["release"]["checks"]
                                     if c["rule"] != "api_p95"]
        v.write_config(cfg2)
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 10 * SLOW,
                 what="reload")
        polls = self.check_polls(v, "error_rate")
        wait_until(lambda: self.check_polls(v, "error_rate") >= polls + 3, 10,
                   "judging to go on after the reload")
        doc = json.loads(v.get("/deploys/current")[2])
        p95 = [c for c in doc["checks"] if c["name"] == "api_p95"][0]
        self.assertIn("removed", p95)
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--interval", "300ms")
        self.assertEqual(rc, 0, out + err)


class SideBySide(RolloutCase):
    def test_canary_judged_against_the_stable_pods(self):
        # Two simulators: the stable pods (90 % of the traffic) and the
        # canary's (10 %). The application probes read the stable ones,
        # as a load balancer's whole-application numbers mostly are.
        stable = self.sim("stable", args=["--rps", "1800", "--window", "2"])
        canary = self.sim("canary", args=["--rps", "200", "--window", "2"])
        cfg = self.config(stable)
        stats = {"requests_total": "/metrics/requests/total",
                 "errors_total": "/metrics/requests/errors",
                 "p95_ms": "/metrics/responseTime/p95"}
        cfg["probes"] += [
            http_probe("canary_stats", canary.url("/api/health/advanced"), interval="300ms",
                       metrics=stats),
            http_probe("stable_stats", stable.url("/api/health/advanced"), interval="300ms",
                       metrics=stats),
        ]
        cfg["release"]["compare"] = {"canary": "canary_stats", "baseline": "stable_stats"}
        v = self.vigild(cfg)
        self.settled(v, 1)
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "7.0.0",
                                  "--warmup", "0s")[0], 0)
        canary.scenario("error_spike", error_pct=0.5)
        self.assertEqual(self.ctl(v, "deploy", "step", "--weight", "10")[0], 0)
        rc, out, err = self.ctl(v, "wait", "--for", "15s", "--interval", "500ms")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("worse than the stable pods", out)
        doc = json.loads(v.get("/deploys/current")[2])
        rel = [c for c in doc["checks"] if c["name"] == "error_rate"][0]["relative"]
        self.assertEqual((rel["verdict"], rel["test"]), ("fail", "Fisher exact"), rel)
        self.assertIn("same minutes", rel["compared"])
        # The whole application's error rate stayed under the warning.
        self.assertLess(doc["traffic"]["error_rate_pct"], 0.1, doc["traffic"])
