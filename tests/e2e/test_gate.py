"""The release gate end to end, through its HTTP API (what vigilctl and any
pipeline use): a deploy window judged poll by poll with ok/warn/crit/error
kept apart, and verdicts a pipeline can trust."""
import json
import os
import signal
import time
import urllib.error
import urllib.request

from harness import E2E, http_probe, wait_for

TOKEN = "gate-token-5d1e"


def post(v, body):
    req = urllib.request.Request(v.base + "/deploys", data=json.dumps(body).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class GateCase(E2E):
    def config(self, sim, checks, interval="300ms", extra_metrics=None, **release):
        path = os.path.join(self.workdir, "token")
        with open(path, "w") as f:
            f.write(TOKEN)
        metrics = {"requests_total": "/metrics/requests/total",
                   "errors_total": "/metrics/requests/errors",
                   "p95_ms": "/metrics/responseTime/p95"}
        metrics.update(extra_metrics or {})
        rel = {"warmup": "0s", "checks": checks}
        rel.update(release)
        return {
            "api": {"token_file": path},
            "probes": [
                http_probe("app_health", sim.url("/api/health"), interval=interval),
                http_probe("app_advanced", sim.url("/api/health/advanced"), interval=interval,
                           depends_on="app_health_down", metrics=metrics),
            ],
            "rules": [
                {"name": "error_rate", "ratio": {"numerator": "app_advanced.errors_total",
                                                 "denominator": "app_advanced.requests_total",
                                                 "scale": 100},
                 "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
                 "unit": "%"},
                {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
                 "crit": 1000, "unit": "ms"},
            ],
            "release": rel,
        }

    def current(self, v):
        s, _, b = v.get("/deploys/current")
        self.assertEqual(s, 200, b)
        return json.loads(b)

    def decided(self, v, timeout):
        return wait_for(lambda: (lambda d: d if d["verdict"]["decided"] else None)(self.current(v)),
                        timeout, what="a decided verdict")

    def check(self, doc, name):
        for c in doc["checks"] + doc["dry_run"]:
            if c["name"] == name:
                return c
        raise KeyError(name)


class Verdicts(GateCase):
    def test_healthy_window_passes(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
            {"rule": "api_p95", "fail_after": 3},
            {"rule": "app_health_down", "key": True}]))
        self.assertEqual(v.get("/deploys", "POST", b"{}")[0], 401)
        s, doc = post(v, {"action": "begin", "version": "1.4.0"})
        self.assertEqual(s, 201, doc)
        self.assertEqual((doc["schema"], doc["version"], doc["open"]),
                         ("vigil.deploy/1", "1.4.0", True))
        self.assertEqual(post(v, {"action": "begin", "version": "again"})[0], 409)
        time.sleep(3)
        self.assertEqual(post(v, {"action": "step", "weight": 25})[0], 200)
        doc = self.current(v)
        self.assertEqual(doc["verdict"]["final"], "pass", doc["verdict"])
        self.assertEqual(doc["verdict"]["exit_code"], 0)
        self.assertEqual(doc["stages"][0]["weight"], 25)
        err = self.check(doc, "error_rate")
        self.assertGreaterEqual(err["polls"], 5)
        self.assertEqual(err["crit"], 0)
        self.assertRegex(err["measured"]["how"], r"^delta over \d+ requests$")
        self.assertGreater(doc["traffic"]["requests"], 1000)
        self.assertTrue(self.check(doc, "app_health_down")["key"])
        self.assertEqual(post(v, {"action": "end"})[0], 200)
        self.assertFalse(self.current(v)["open"])
        self.assertEqual(json.loads(v.get("/deploys")[2])["deploys"][0]["version"], "1.4.0")

    def test_error_spike_fails_within_fail_after(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
            {"rule": "app_health_down", "key": True}]))
        post(v, {"action": "begin", "version": "1.4.1"})
        time.sleep(1.5)
        sim.scenario("error_spike")
        t0 = time.monotonic()
        doc = self.decided(v, 10)
        self.assertEqual(doc["verdict"]["now"], "fail")
        self.assertEqual(doc["verdict"]["exit_code"], 2)
        err = self.check(doc, "error_rate")
        self.assertEqual(err["reason"], "crit: 2 consecutive > 1 %, limit 1")
        self.assertEqual(doc["verdict"]["final_reason"],
                         "error_rate: crit: 2 consecutive > 1 %, limit 1")
        # Two polls at 300 ms, give or take the 3 s window catching up.
        self.assertLess(time.monotonic() - t0, 6)

    def test_measurement_errors_are_inconclusive_not_fail(self):
        sim = self.sim(args=["--rps", "2000"])
        # A field the application does not have: vigil cannot measure it.
        cfg = self.config(sim, [{"rule": "ghost", "fail_after": 1},
                                {"rule": "app_health_down", "key": True}],
                          extra_metrics={"ghost_ms": "/metrics/responseTime/p999"})
        cfg["rules"].append({"name": "ghost", "metric": "app_advanced.ghost_ms", "op": ">",
                             "crit": 1})
        v = self.vigild(cfg)
        post(v, {"action": "begin", "version": "1.4.2"})
        doc = self.decided(v, 10)
        self.assertEqual(doc["verdict"]["now"], "inconclusive")
        self.assertEqual(doc["verdict"]["exit_code"], 3)
        g = self.check(doc, "ghost")
        self.assertEqual(g["crit"], 0)
        self.assertGreaterEqual(g["errors"], 4)
        self.assertRegex(g["reason"], r"^error: 4 consecutive measurement errors \(limit 4\): ")

    def test_too_little_traffic_is_inconclusive(self):
        sim = self.sim(args=["--rps", "20"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000}]))
        post(v, {"action": "begin", "version": "1.4.3"})
        time.sleep(2.5)
        doc = self.current(v)
        self.assertEqual(doc["verdict"]["final"], "inconclusive", doc["verdict"])
        self.assertRegex(self.check(doc, "error_rate")["reason"],
                         r"^too few requests: \d+ in the window, need 1000$")

    def test_advisory_never_gates(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 1, "advisory": True},
            {"rule": "app_health_down", "key": True}]))
        post(v, {"action": "begin", "version": "1.4.4"})
        sim.scenario("error_spike")
        time.sleep(3)
        doc = self.current(v)
        adv = self.check(doc, "error_rate")
        self.assertEqual(adv["verdict"], "fail")
        self.assertIn(adv, doc["dry_run"])
        self.assertEqual(doc["verdict"]["final"], "pass")


class Relative(GateCase):
    def relative_config(self, sim, relative):
        check = {"rule": "api_p95", "fail_after": 3, "min_samples": 10}
        if relative:
            check["relative"] = {"max_increase_pct": 10, "min_samples": 40}
        return self.config(sim, [check], interval="200ms", baseline="12s")

    def run_window(self, sim, v, slow_ms):
        time.sleep(12.5)                     # the baseline: ~60 polls
        if slow_ms:
            sim.scenario("slow", slow_ms=slow_ms)
        post(v, {"action": "begin", "version": "2.0.0"})
        time.sleep(10)                       # ~50 polls judged
        return self.current(v)

    def test_p95_40pct_above_baseline_fails_only_when_relative(self):
        # The simulator's p95 is ~300 ms; slow_ms=120 makes it ~420 ms:
        # 40 % worse, still under the absolute 500 ms warning.
        sim = self.sim()
        v = self.vigild(self.relative_config(sim, True))
        doc = self.run_window(sim, v, 120)
        c = self.check(doc, "api_p95")
        self.assertEqual((c["warn"], c["crit"]), (0, 0))
        self.assertEqual(c["relative"]["test"], "Mann-Whitney U")
        self.assertGreaterEqual(c["relative"]["samples"], 40)
        self.assertGreater(c["relative"]["delta_pct"], 25)
        self.assertLess(c["relative"]["p"], 0.02)
        self.assertEqual(doc["verdict"]["final"], "fail", c)
        self.assertIn("worse than the baseline by more than 10 %", c["reason"])

    def test_same_without_relative_check_passes(self):
        sim = self.sim()
        v = self.vigild(self.relative_config(sim, False))
        doc = self.run_window(sim, v, 120)
        self.assertEqual(doc["verdict"]["final"], "pass", self.check(doc, "api_p95"))

    def test_identical_data_passes(self):
        sim = self.sim()
        v = self.vigild(self.relative_config(sim, True))
        doc = self.run_window(sim, v, 0)
        c = self.check(doc, "api_p95")
        self.assertEqual(c["relative"]["verdict"], "pass", c["relative"])
        self.assertEqual(doc["verdict"]["final"], "pass")


class Resume(GateCase):
    def test_restart_mid_window_resumes(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim, [{"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
                                {"rule": "app_health_down", "key": True}])
        cfg["state_dir"] = os.path.join(self.workdir, "state")
        cfg["state_interval"] = "1s"
        os.mkdir(cfg["state_dir"])
        v = self.vigild(cfg)
        post(v, {"action": "begin", "version": "3.0.0"})
        time.sleep(2.5)
        polls = self.check(self.current(v), "error_rate")["polls"]
        self.vigilds.remove(v)
        v.proc.send_signal(signal.SIGKILL)
        v.proc.wait(10)
        v.log.close()
        v2 = self.vigild(cfg, name="second")
        self.assertIn("event=deploy_resumed id=1", v2.log_text())
        doc = self.current(v2)
        self.assertTrue(doc["open"])
        self.assertGreaterEqual(self.check(doc, "error_rate")["polls"], polls - 4)
        sim.scenario("error_spike")
        doc = self.decided(v2, 10)
        self.assertEqual((doc["id"], doc["verdict"]["now"]), (1, "fail"))


VIGILCTL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), os.environ.get("VIGIL_BUILD", "build"), "vigilctl")


class Cli(GateCase):
    """vigilctl deploy / wait / report: what a pipeline types."""

    def ctl(self, v, *args, timeout=60):
        import subprocess
        path = os.path.join(self.workdir, "token")
        r = subprocess.run([VIGILCTL, "--url", v.base, "--token-file", path, "--no-color",
                            *args], capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def test_wait_pass_then_report_matches_the_daemon(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
            {"rule": "app_health_down", "key": True}]))
        rc, out, err = self.ctl(v, "deploy", "begin", "--version", "5.0.0", "--warmup", "0s")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^deploy 1 \(5\.0\.0\) begun: judging from ")
        rc, out, err = self.ctl(v, "wait", "--for", "3s", "--interval", "500ms")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"verdict: pass \(exit 0\)")
        self.assertRegex(out, r"\n  error_rate +pass +ok: \d+ polls within thresholds\n")
        self.ctl(v, "deploy", "step", "--weight", "50")
        self.ctl(v, "deploy", "end")
        rc, out, err = self.ctl(v, "report", "--markdown")
        self.assertEqual(rc, 0, err)
        doc = json.loads(v.get("/deploys/1")[2])
        self.assertIn("## Deploy 5.0.0: PASS", out)
        self.assertIn("| error_rate |", out)
        self.assertIn("- Stages: 50%", out)
        # The report's numbers are the daemon's.
        self.assertIn(f"{doc['traffic']['requests']:.4g} requests".replace("e+0", "e+"), out)
        rc, out, _ = self.ctl(v, "report", "--json", "--deploy", "1")
        self.assertEqual(json.loads(out)["schema"], "vigil.deploy/1")

    def test_wait_fail_dry_run_and_inconclusive(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
            {"rule": "app_health_down", "key": True}]))
        # No window yet: inconclusive, never a pass.
        rc, out, err = self.ctl(v, "wait", "--for", "1s")
        self.assertEqual(rc, 3, out + err)
        self.ctl(v, "deploy", "begin", "--version", "5.0.1", "--warmup", "0s")
        sim.scenario("error_spike")
        rc, out, err = self.ctl(v, "wait", "--for", "30s", "--interval", "300ms", "--dry-run")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("dry run: would have exited 2", out)
        rc, out, err = self.ctl(v, "wait", "--for", "30s", "--interval", "300ms")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("verdict: fail (exit 2): error_rate: crit: 2 consecutive > 1 %, limit 1",
                      out)
        # vigild gone: inconclusive.
        self.vigilds.remove(v)
        v.stop()
        rc, out, err = self.ctl(v, "wait", "--for", "1s")
        self.assertEqual(rc, 3)
        self.assertIn("vigild unreachable", err)


class Announce(GateCase):
    def test_terminal_verdicts_are_notified_once(self):
        from harness import WebhookReceiver
        rcv = WebhookReceiver()
        self.addCleanup(rcv.stop)
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim, [{"rule": "error_rate", "fail_after": 2, "min_requests": 100},
                                {"rule": "app_health_down", "key": True}])
        cfg["notifiers"] = [{"name": "hook", "type": "webhook", "url": rcv.url,
                             "rules": ["error_rate"]}]
        v = self.vigild(cfg)
        post(v, {"action": "begin", "version": "6.0.0"})
        sim.scenario("error_spike")
        self.decided(v, 10)
        verdicts = wait_for(lambda: [b for b in rcv.bodies() if b["kind"] == "deploy_verdict"],
                            10, what="the verdict notified")
        self.assertEqual((verdicts[0]["verdict"], verdicts[0]["final"]), ("fail", False))
        self.assertEqual(verdicts[0]["deploy"], {"id": 1, "version": "6.0.0"})
        self.assertIn("crit: 2 consecutive > 1 %", verdicts[0]["reason"])
        time.sleep(1.5)                      # told once, not at every poll
        post(v, {"action": "end"})
        time.sleep(1)
        self.assertEqual(len([b for b in rcv.bodies() if b["kind"] == "deploy_verdict"]), 1)
        # The next window passes, and says so when it ends.
        sim.scenario("healthy")
        # The 3 s error window clears; waited for rather than slept, since
        # under the sanitizers the polls that flush it come late.
        wait_for(lambda: v.rule("error_rate")["state"] in ("ok", "resolved"), 15,
                 what="error_rate back to ok")
        post(v, {"action": "begin", "version": "6.0.1"})
        time.sleep(2.5)
        post(v, {"action": "end"})
        final = wait_for(lambda: [b for b in rcv.bodies() if b["kind"] == "deploy_verdict" and
                                  b["deploy"]["version"] == "6.0.1"], 10, what="final verdict")
        # Healthy is 0.05 % errors; a poll's window clipped to the judging
        # start holds a few hundred requests, where one error reads as
        # 0.17 % (past the 0.1 % warning), so the healthy window ends pass
        # or, now and then, warn; never fail, and it is told once, final.
        self.assertTrue(final[0]["final"], final[0])
        self.assertIn(final[0]["verdict"], ("pass", "warn"), final[0])
        self.assertEqual(len([b for b in rcv.bodies() if b["kind"] == "deploy_verdict" and
                              b["deploy"]["version"] == "6.0.1"]), 1)


class Stages(Cli):
    def test_each_wait_judges_its_stage(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [{"rule": "api_p95", "fail_after": 3}]))
        self.ctl(v, "deploy", "begin", "--version", "8.0.0", "--warmup", "0s")
        self.ctl(v, "deploy", "step", "--weight", "25")
        sim.scenario("slow", slow_ms=400)            # p95 ~700: warnings
        time.sleep(1.5)
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--interval", "500ms",
                                "--fail-on", "warning")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("verdict: warn (exit 1)", out)
        sim.scenario("healthy")
        time.sleep(1)
        self.ctl(v, "deploy", "step", "--weight", "100")
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--interval", "500ms",
                                "--fail-on", "warning")
        self.assertEqual(rc, 0, out + err)
        doc = self.current(v)
        self.assertEqual(doc["stage"]["weight"], 100)
        self.assertEqual(doc["stage"]["verdict"]["final"], "pass")
        self.assertEqual(doc["verdict"]["final"], "warn")   # the window remembers
        self.assertEqual(doc["compared"], "whole-application metrics")


class Shown(GateCase):
    def test_deploys_on_status_metrics_and_page(self):
        import subprocess
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [{"rule": "app_health_down", "key": True}]))
        _, _, m = v.get("/metrics")
        self.assertIn("vigil_deploy_open 0\n", m.decode())
        post(v, {"action": "begin", "version": "9.9.9<b>"})
        post(v, {"action": "step", "weight": 25})
        time.sleep(1)
        st = v.status()
        self.assertEqual(st["deploys"][0]["version"], "9.9.9<b>")
        _, _, m = v.get("/metrics")
        text = m.decode()
        self.assertIn("vigil_deploy_open 1\n", text)
        self.assertIn('vigil_deploy_verdict{verdict="pass"} 1\n', text)
        r = subprocess.run(["promtool", "check", "metrics"], input=m, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        _, _, page = v.get("/")
        html = page.decode()
        self.assertIn('<section id="release"><h2>Release</h2><p>Deploy 9.9.9&lt;b&gt; '
                      '(open, stage 25 %): <b>pass</b>', html)
