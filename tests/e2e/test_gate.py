"""The release gate end to end, through its HTTP API (what vigilctl and any
pipeline use): a deploy window judged poll by poll with ok/warn/crit/error
kept apart, and verdicts a pipeline can trust."""
import calendar
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import BUILD, E2E, SLOW, TIMING, http, http_probe, wait_for, wait_until, write_secret

TOKEN = "gate-token-5d1e"
VIGILCTL = os.path.join(BUILD, "vigilctl")


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
        path = write_secret(os.path.join(self.workdir, "token"), TOKEN)
        metrics = {"requests_total": "/metrics/requests/total",
                   "errors_total": "/metrics/requests/errors",
                   "p95_ms": "/metrics/responseTime/p95"}
        metrics.update(extra_metrics or {})
        # Judged once a second (the interval, at least twice the probes'):
        # tests run in seconds, not minutes.
        rel = {"warmup": "0s", "interval": "1s", "checks": checks}
        rel.update(release)
        return {
            "api": {"token_file": path},
            "probes": [
                http_probe("app_health", sim.url("/api/health"), interval=interval),
                http_probe("app_advanced", sim.url("/api/health/advanced"), interval=interval,
                           depends_on="app_health_down", metrics=metrics),
            ],
            "rules": [
                # As shipped: under 1,000 requests a 0.1 % threshold means
                # nothing, so such a poll is not judged at all.
                {"name": "error_rate", "ratio": {"numerator": "app_advanced.errors_total",
                                                 "denominator": "app_advanced.requests_total",
                                                 "scale": 100, "min_denominator": 1000},
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

    def polls(self, v, name, n, timeout=10):
        """Waits until check name of the open deploy has judged n polls; the
        deploy document then."""
        return wait_until(lambda: (lambda d: d if self.check(d, name)["polls"] >= n else None)(
            self.current(v)), timeout, f"{n} judged polls of {name}")

    def ctl(self, v, *args, timeout=60):
        """vigilctl against v: (exit code, stdout, stderr)."""
        path = os.path.join(self.workdir, "token")
        r = subprocess.run([VIGILCTL, "--url", v.base, "--token-file", path, "--no-color",
                            *args], capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr


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
        wait_until(lambda: (lambda d: self.check(d, "error_rate")["polls"] >= 5 and
                            d["traffic"]["requests"] > 1000)(self.current(v)), 10,
                   "five judged polls over 1000 requests")
        self.assertEqual(post(v, {"action": "step", "weight": 25})[0], 200)
        doc = self.current(v)
        self.assertEqual(doc["verdict"]["final"], "pass", doc["verdict"])
        self.assertEqual(doc["verdict"]["exit_code"], 0)
        self.assertEqual(doc["stages"][0]["weight"], 25)
        err = self.check(doc, "error_rate")
        self.assertGreaterEqual(err["polls"], 5)
        self.assertEqual(err["crit"], 0)
        # The first poll's lone sample (a delta needs two) is not judged,
        # and not an error of the observer either.
        self.assertEqual(err["errors"], 0, err)
        # What the value is over: the rule's window at the latest poll.
        self.assertRegex(err["measured"]["how"], r"^delta of errors_total / requests_total over "
                                                 r"the (last 3s|\S+ since judging began): "
                                                 r"\d+ / \d+$")
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
        self.polls(v, "error_rate", 3)      # healthy polls judged before the spike
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
        if TIMING:
            self.assertLess(time.monotonic() - t0, 6 * SLOW)

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
        runs = v.probe("app_advanced")["runs"]
        post(v, {"action": "begin", "version": "1.4.3"})
        # Judged over several polls (some 2.5 s), and too few requests at each.
        doc = wait_until(lambda: (lambda d: d if v.probe("app_advanced")["runs"] >= runs + 8 and
                                  re.match(r"^too few requests",
                                           self.check(d, "error_rate")["reason"]) else None)(
            self.current(v)), 10, "eight polls with too few requests")
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
        # The advisory check failed, the key one judged its minimum of polls.
        doc = wait_until(lambda: (lambda d: d if self.check(d, "error_rate")["verdict"] == "fail"
                                  and self.check(d, "app_health_down")["polls"] >= 4 else None)(
            self.current(v)), 10, "the advisory check to fail")
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
        # A sleep: the baseline is the 12 s (of clock) before the deploy: ~60 polls.
        time.sleep(12.5)
        if slow_ms:
            sim.scenario("slow", slow_ms=slow_ms)
        post(v, {"action": "begin", "version": "2.0.0"})
        return self.polls(v, "api_p95", 45, 20)   # ~50 polls judged (some 10 s)

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
        polls = self.check(self.polls(v, "error_rate", 8), "error_rate")["polls"]
        # Saved with at least those polls: killed after the next state write.
        writes = v.status()["state_file"]["writes"]
        wait_until(lambda: v.status()["state_file"]["writes"] > writes, 5, "a state write")
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


class Cli(GateCase):
    """vigilctl deploy / wait / report: what a pipeline types."""

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
        self.assertIn(f"- Traffic: {doc['traffic']['requests']:.0f} requests, "
                      f"{doc['traffic']['errors']:.0f} errors", out)
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
        # On stderr: with --json, stdout holds the document alone.
        self.assertIn("dry run: would have exited 2", err)
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
        # A sleep: proves no second verdict is told at the polls that follow.
        time.sleep(1.5)
        post(v, {"action": "end"})
        # A sleep: proves the end of a window already told fail tells nothing more.
        time.sleep(1)
        self.assertEqual(len([b for b in rcv.bodies() if b["kind"] == "deploy_verdict"]), 1)
        # The next window passes, and says so when it ends.
        sim.scenario("healthy")
        # The 3 s error window clears; waited for rather than slept, since
        # under the sanitizers the polls that flush it come late.
        wait_for(lambda: v.rule("error_rate")["state"] in ("ok", "resolved"), 15,
                 what="error_rate back to ok")
        post(v, {"action": "begin", "version": "6.0.1"})
        self.polls(v, "error_rate", 5)
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


class Stages(GateCase):
    def test_each_wait_judges_its_stage(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [{"rule": "api_p95", "fail_after": 3}]))
        self.ctl(v, "deploy", "begin", "--version", "8.0.0", "--warmup", "0s")
        self.ctl(v, "deploy", "step", "--weight", "25")
        sim.scenario("slow", slow_ms=400)            # p95 ~700: warnings
        wait_until(lambda: self.check(self.current(v), "api_p95")["warn"] >= 1, 10,
                   "a warning poll")
        rc, out, err = self.ctl(v, "wait", "--for", "2s", "--interval", "500ms",
                                "--fail-on", "warning")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("verdict: warn (exit 1)", out)
        sim.scenario("healthy")
        wait_until(lambda: v.probe("app_advanced")["last_run"]["metrics"]["p95_ms"] < 500, 10,
                   "p95 back under the warning")
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
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [{"rule": "app_health_down", "key": True}]))
        m = v.metrics()
        self.assertIn("vigil_deploy_open 0\n", m)
        self.assertNotIn("vigil_deploy_start_timestamp_seconds", m)
        self.assertNotIn("vigil_deploy_info", m)
        begun = time.time()
        post(v, {"action": "begin", "version": "9.9.9<b>"})
        post(v, {"action": "step", "weight": 25})
        self.polls(v, "app_health_down", 4)   # past min_samples (3): a verdict
        st = v.status()
        self.assertEqual(st["deploys"][0]["version"], "9.9.9<b>")
        text = v.metrics()
        self.assertIn("vigil_deploy_open 1\n", text)
        self.assertIn('vigil_deploy_verdict{verdict="pass"} 1\n', text)
        # For Grafana's annotations: when and what, while the window is open.
        self.assertIn('vigil_deploy_info{version="9.9.9<b>"} 1\n', text)
        start = float(text.split("\nvigil_deploy_start_timestamp_seconds ", 1)[1].split()[0])
        self.assertLess(abs(start - begun), 5)
        _, _, page = v.get("/")
        html = page.decode()
        self.assertIn('<section id="release"><h2>Release</h2><p>Deploy 9.9.9&lt;b&gt; '
                      '(open, stage 25 %): <b>pass</b>', html)


# The simulator's cache counters, and the release section naming them.
CACHE_METRICS = {"cache_hits_total": "/metrics/cache/hits",
                 "cache_misses_total": "/metrics/cache/misses"}
CACHE_RELEASE = {"cache_hits": "app_advanced.cache_hits_total",
                 "cache_misses": "app_advanced.cache_misses_total"}


def shown(v):
    """A number as vigilctl's report shows it (fmt in ctl_release.c)."""
    if v is None:
        return "-"
    if abs(v) >= 1e6 or (v != 0 and abs(v) < 1e-3):
        return "%.3g" % v
    return "%.4g" % v


def traffic_line(t):
    """The report's traffic line for vigild's traffic object."""
    line = f"Traffic: {t['requests']:.0f} requests, {t['errors']:.0f} errors"
    if "error_rate_pct" in t:
        line += f" ({shown(t['error_rate_pct'])} %)"
    if t.get("cache_hits") is None:
        return line + ", cache hits: not measured"
    line += f", {t['cache_hits']:.0f} cache hits"
    if "cache_hit_rate_pct" in t:
        line += f" ({shown(t['cache_hit_rate_pct'])} %)"
    return line


class Report(GateCase):
    """The report's numbers are vigild's, and say what they are over."""

    def snapshot(self, v):
        """The open deploy, /status and the text and Markdown reports, taken
        with no poll in between: the deploy document is the same before and
        after. None when a poll came in between."""
        before = self.current(v)
        rc, text, err = self.ctl(v, "report", "--deploy", str(before["id"]))
        self.assertEqual(rc, 0, err)
        rc, md, err = self.ctl(v, "report", "--deploy", str(before["id"]), "--markdown")
        self.assertEqual(rc, 0, err)
        st = v.status()
        return (before, st, text, md) if self.current(v) == before else None

    def assert_report_is_the_daemons(self, doc, st, text, md, compared):
        """Traffic as /status has it; each check whose rule /status shows as
        evaluated at the instant the check measured, with the same value."""
        t = doc["traffic"]
        self.assertEqual(st["deploys"][0]["traffic"], t)
        self.assertAlmostEqual(t["error_rate_pct"], t["errors"] / t["requests"] * 100)
        self.assertAlmostEqual(t["cache_hit_rate_pct"],
                               t["cache_hits"] / (t["cache_hits"] + t["cache_misses"]) * 100)
        self.assertIn("\n" + traffic_line(t) + "\n", text)
        self.assertIn("\n- " + traffic_line(t) + "\n", md)
        for c in doc["checks"]:
            m = c["measured"]
            self.assertIn(f"; measured {shown(m['value'])} ({m['how']}); ", text)
            self.assertIn(f"| {c['name']} | ", md)
            self.assertIn(f" | {shown(m['value'])} ({m['how']}) | ", md)
            rule = v_rule(st, c["rule"])
            if rule.get("evaluated") == m["at"]:
                self.assertEqual(m["value"], rule["value"], (c, rule))
                compared.add(c["name"])

    def test_healthy_window_report_matches_status(self):
        sim = self.sim(args=["--rps", "2000"])
        # Polls at 700 ms: room between them for a snapshot, and out of
        # step with the rules' once-a-second evaluation.
        cfg = self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
            {"rule": "api_p95", "fail_after": 3},
            {"rule": "app_health_down", "key": True}],
            interval="700ms", extra_metrics=CACHE_METRICS, **CACHE_RELEASE)
        # A judging interval that does not end during the snapshots: each
        # end changes the document (intervals_judged), and under load a
        # snapshot already takes most of the 700 ms between polls.
        cfg["release"]["interval"] = "5m"
        v = self.vigild(cfg)
        rc, out, err = self.ctl(v, "deploy", "begin", "--version", "7.0.0", "--warmup", "0s")
        self.assertEqual(rc, 0, err)
        # The canary passes (a healthy window may read warn: exit 0 too).
        rc, out, err = self.ctl(v, "wait", "--for", "4s", "--interval", "1s")
        self.assertEqual(rc, 0, out + err)
        # Past the rule's 3 s window the check measures what the rule does.
        wait_for(lambda: self.check(self.current(v), "error_rate")["measured"]["how"]
                 .startswith("delta of errors_total / requests_total over the last 3s: "),
                 15, what="the error-rate window no longer clipped")
        compared, snaps = set(), []
        end = time.monotonic() + 60
        while time.monotonic() < end and (len(snaps) < 2 or compared != {
                "error_rate", "api_p95", "app_health_down"}):
            snap = self.snapshot(v)
            if snap is None:
                continue
            self.assert_report_is_the_daemons(*snap, compared)
            # Two snapshots at least two polls apart, for the counts.
            if not snaps or (self.check(snap[0], "error_rate")["polls"] >=
                             self.check(snaps[0][0], "error_rate")["polls"] + 2):
                snaps.append(snap)
        self.assertEqual(compared, {"error_rate", "api_p95", "app_health_down"})
        self.assertGreaterEqual(len(snaps), 2)
        # The window's counts grow exactly as the application's counters in
        # /status do between the two snapshots.
        (d1, s1, _, _), (d2, s2, _, _) = snaps[0], snaps[-1]
        c1 = v_probe(s1, "app_advanced")["last_run"]["metrics"]
        c2 = v_probe(s2, "app_advanced")["last_run"]["metrics"]
        for key, metric in (("requests", "requests_total"), ("errors", "errors_total"),
                            ("cache_hits", "cache_hits_total"),
                            ("cache_misses", "cache_misses_total")):
            self.assertEqual(d2["traffic"][key] - d1["traffic"][key], c2[metric] - c1[metric],
                             key)
        self.assertGreater(d2["traffic"]["cache_hits"], 0)
        # Ended, the report is frozen: text, Markdown and JSON agree.
        self.assertEqual(self.ctl(v, "deploy", "end")[0], 0)
        doc = json.loads(v.get("/deploys/1")[2])
        rc, text, _ = self.ctl(v, "report")
        self.assertIn("\n" + traffic_line(doc["traffic"]) + "\n", text)
        rc, out, _ = self.ctl(v, "report", "--json")
        self.assertEqual(json.loads(out), doc)

    def test_cache_hits_not_configured_are_not_measured(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [
            {"rule": "error_rate", "fail_after": 2, "min_requests": 1000}]))
        post(v, {"action": "begin", "version": "7.0.1"})
        wait_for(lambda: self.check(self.current(v), "error_rate")["polls"] >= 3, 15,
                 what="three polls")
        doc = self.current(v)
        self.assertIsNone(doc["traffic"]["cache_hits"])
        self.assertNotIn("cache_hits_metric", doc["traffic"])
        rc, out, err = self.ctl(v, "report")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\nTraffic: \d+ requests, \d+ errors( \([\d.e-]+ %\))?, "
                              r"cache hits: not measured\n")

    def test_warmup_records_but_does_not_judge(self):
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim, [{"rule": "error_rate", "fail_after": 2, "min_requests": 1000},
                                {"rule": "app_health_down", "key": True}],
                          extra_metrics=CACHE_METRICS, **CACHE_RELEASE)
        v = self.vigild(cfg)
        runs0 = v_probe(v.status(), "app_advanced")["runs"]
        s, doc = post(v, {"action": "begin", "version": "7.1.0", "warmup": "4s"})
        self.assertEqual(s, 201, doc)
        # Answered as it began: warming up, nothing judged.
        self.assertEqual((doc["warming_up"], doc["warmup_s"]), (True, 4))
        seen_warming, give_up = 0, time.monotonic() + 30 * SLOW
        while True:
            self.assertLess(time.monotonic(), give_up, f"still warming up after {30 * SLOW} s")
            st = v.status()
            doc = self.current(v)
            if not doc["warming_up"]:
                break
            # The probes ran and recorded; not one poll was judged.
            self.assertEqual([c["polls"] for c in doc["checks"]], [0, 0], doc["checks"])
            self.assertEqual((doc["traffic"]["requests"], doc["traffic"]["cache_hits"]),
                             (0, None))
            if v_probe(st, "app_advanced")["runs"] > runs0:
                seen_warming += 1
            time.sleep(0.2)                  # a sleep: samples the warm-up until it ends
        self.assertGreater(seen_warming, 0, "no probe run seen during the warm-up")
        # Then judged, with windows that never reach back into the warm-up.
        doc = wait_for(lambda: (lambda d: d if self.check(d, "error_rate")["polls"] >= 3
                                else None)(self.current(v)), 15, what="judged polls")
        self.assertFalse(doc["warming_up"])
        m = self.check(doc, "error_rate")["measured"]
        judging_from = iso_ms(doc["judging_from"])
        self.assertGreaterEqual(iso_ms(m["at"]) - m["window_s"] * 1000, judging_from - 1)
        self.assertEqual(iso_ms(doc["judging_from"]) - iso_ms(doc["begun"]), 4000)

    def test_thin_baseline_skips_the_relative_check(self):
        sim = self.sim(args=["--rps", "2000"])
        # 200 baseline polls need a minute of history; vigild has seconds.
        v = self.vigild(self.config(sim, [
            {"rule": "api_p95", "fail_after": 3,
             "relative": {"max_increase_pct": 10, "min_samples": 200}}]))
        post(v, {"action": "begin", "version": "7.3.0"})
        wait_for(lambda: self.check(self.current(v), "api_p95")["polls"] >= 5, 15,
                 what="five polls")
        post(v, {"action": "end"})
        doc = self.current(v)
        rel = self.check(doc, "api_p95")["relative"]
        self.assertEqual(rel["verdict"], "skipped", rel)
        m = re.fullmatch(r"relative check skipped: (\d+) samples before, (\d+) after, "
                         r"need 200 a side", rel["reason"])
        self.assertIsNotNone(m, rel["reason"])
        self.assertLess(int(m[1]), 200)
        self.assertNotIn("p", rel)
        rc, text, err = self.ctl(v, "report")
        self.assertEqual(rc, 0, err)
        self.assertIn(f"\nRelative checks skipped: api_p95 ({m[1]} samples before, {m[2]} "
                      f"after, need 200 a side)\n", text)
        self.assertIn(f"\n      relative (Mann-Whitney U): skipped: {rel['reason']}\n", text)
        self.assertNotIn("relative (Mann-Whitney U): pass", text)
        rc, md, err = self.ctl(v, "report", "--markdown")
        self.assertIn("\n- Relative checks skipped: api_p95 (", md)
        self.assertIn(f"|  | relative | Mann-Whitney U |  | skipped | {rel['reason']} |", md)

    def test_report_since(self):
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild(self.config(sim, [{"rule": "app_health_down", "key": True}]))
        rc, out, err = self.ctl(v, "report", "--since", "1h")
        self.assertEqual((rc, out), (4, ""))
        self.assertIn("no deploy began in the last 1h: there is none yet", err)
        post(v, {"action": "begin", "version": "7.2.0"})
        post(v, {"action": "end"})
        time.sleep(2.5)                      # a sleep: the two deploys begin 2.5 s apart
        t2 = time.monotonic()
        post(v, {"action": "begin", "version": "7.2.1"})
        post(v, {"action": "end"})
        # Every deploy in the last hour, oldest first, one report each.
        rc, out, err = self.ctl(v, "report", "--since", "1h")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^Deploy 7\.2\.0: \w+\n(.*\n)+\nDeploy 7\.2\.1: \w+\n")
        rc, out, err = self.ctl(v, "report", "--since", "1h", "--markdown")
        self.assertEqual(re.findall(r"^## Deploy (\S+):", out, re.M), ["7.2.0", "7.2.1"])
        rc, out, err = self.ctl(v, "report", "--since", "1h", "--json")
        docs = json.loads(out)
        self.assertEqual([(d["schema"], d["id"]) for d in docs],
                         [("vigil.deploy/1", 1), ("vigil.deploy/1", 2)])
        self.assertEqual(docs[1], json.loads(v.get("/deploys/2")[2]))
        # A span that reaches the second deploy but not the first, 2.5 s
        # earlier: half of that is the slack for vigilctl to ask.
        since = int((time.monotonic() - t2) * 1000) + 1250
        rc, out, err = self.ctl(v, "report", "--since", f"{since}ms", "--json")
        self.assertEqual((rc, [d["version"] for d in json.loads(out)]), (0, ["7.2.1"]), err)
        time.sleep(0.3)                      # a sleep: the latest deploy is > 200 ms old
        rc, out, err = self.ctl(v, "report", "--since", "200ms")
        self.assertEqual((rc, out), (4, ""))
        self.assertRegex(err, r"^vigilctl: no deploy began in the last 200ms; the latest, "
                              r"7\.2\.1 \(deploy 2\), began \d{4}-\d\d-\d\dT[\d:.]+Z\n$")
        # Usage: one or the other, and a duration.
        self.assertEqual(self.ctl(v, "report", "--since", "1h", "--deploy", "1")[0], 64)
        rc, _, err = self.ctl(v, "report", "--since", "yesterday")
        self.assertEqual(rc, 64)
        self.assertIn('--since "yesterday" is not a duration', err)
        self.assertEqual(v.get("/deploys?since=soon")[0], 400)
        self.assertEqual([d["id"] for d in json.loads(v.get("/deploys?since=1h")[2])["deploys"]],
                         [2, 1])


def v_rule(st, name):
    return next(r for r in st["rules"] if r["name"] == name)


def v_probe(st, name):
    return next(p for p in st["probes"] if p["name"] == name)


def iso_ms(s):
    """Milliseconds since the epoch of vigild's 2026-01-02T03:04:05.678Z."""
    secs = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(s[20:23])


SENTRY_TOKEN = "sntrys_gate-3b7e-token"


class ByRelease(GateCase):
    """A canary's own Sentry error events against the rest's, per stage at
    its traffic weight: undiluted by the traffic it does not serve."""

    def setup_release(self, factor):
        sim_token = os.path.join(self.workdir, "sim-sentry-token")
        write_secret(sim_token, SENTRY_TOKEN + "\n")
        sim = self.sim(args=["--rps", "2000", "--sentry-token-file", sim_token])
        # 5 % of 2,000 requests/s fail: some 100 error events a second.
        sim.scenario("error_spike")
        status, _, body = http("POST", sim.url(
            f"/_sim/sentry?release=8.0.0&release_share=0.1&release_error_factor={factor}"), b"")
        self.assertEqual(status, 200, body)
        cfg = self.config(sim, [{"rule": "app_health_down", "key": True}],
                          by_release={"probe": "sentry", "min_errors": 50})
        cfg["probes"].append({"name": "sentry", "type": "sentry",
                              "base_url": sim.url("/api/0/"), "organization": "acme",
                              "project": "portal", "token_file": sim_token,
                              "interval": "500ms", "timeout": "3s", "resolution": "10s"})
        cfg["state_dir"] = os.path.join(self.workdir, "state")
        cfg["state_interval"] = "1s"
        os.mkdir(cfg["state_dir"])
        self.cfg = cfg
        return sim, self.vigild(cfg)

    def sim_count(self, sim, query, start, end):
        q = urllib.parse.quote(query)
        req = urllib.request.Request(sim.url(
            f"/api/0/organizations/acme/events/?dataset=errors&field=count()&project=4501234&query={q}"
            f"&start={start}&end={end}"), headers={"Authorization": f"Bearer {SENTRY_TOKEN}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())["data"][0]["count()"]

    def test_canary_making_three_times_the_errors_fails(self):
        sim, v = self.setup_release(3)
        self.assertEqual(self.ctl(v, "deploy", "begin", "--version", "8.0.0",
                                  "--warmup", "0s")[0], 0)
        self.assertEqual(self.ctl(v, "deploy", "step", "--weight", "10")[0], 0)
        rc, out, err = self.ctl(v, "wait", "--for", "4s", "--interval", "1s")
        self.assertEqual(rc, 2, out + err)
        self.assertRegex(out + err, r"by_release: stage 1 \(10 %\): 8\.0\.0 made ")
        doc = self.current(v)
        br = doc["by_release"]
        self.assertEqual((br["verdict"], br["source"], br["test"]),
                         ("fail", "sentry", "exact binomial"), br)
        st = br["stages"][0]
        self.assertEqual((st["weight"], st["verdict"]), (10, "fail"), st)
        self.assertLess(st["p"], 0.02)
        # The simulator gives the canary 0.3 / (0.3 + 0.9) = 25 % of them.
        self.assertAlmostEqual(st["release_errors"] / st["errors"], 0.25, delta=0.03)
        self.assertGreaterEqual(st["errors"], 50)
        self.assertEqual(doc["verdict"]["final"], "fail")
        self.assertIn("by_release: stage 1 (10 %): 8.0.0 made", doc["verdict"]["final_reason"])
        # The counts are Sentry's own for that span, asked the same way.
        start = doc["judging_from"][:19] + "Z"
        end = br["counted_at"][:19] + "Z"
        self.assertEqual(br["errors"], self.sim_count(sim, "event.type:error", start, end))
        self.assertEqual(br["release_errors"],
                         self.sim_count(sim, 'event.type:error release:"8.0.0"', start, end))
        # The window is still open: by_release goes on counting after the
        # verdict, so the report is compared with a count it cannot have
        # missed, one that did not move while the report was made.
        for _ in range(20):
            before = self.current(v)["by_release"]["counted_at"]
            rc, text, err = self.ctl(v, "report")
            br = self.current(v)["by_release"]
            if br["counted_at"] == before:
                break
        self.assertEqual(rc, 0, err)
        self.assertIn(f"\nErrors by release (sentry, exact binomial): {br['release_errors']:.0f} "
                      f"of {br['errors']:.0f} error events from 8.0.0 since judging began; "
                      f"fail: stage 1 (10 %): 8.0.0 made", text)
        self.assertIn("\n  stage 1 (10 %): fail: 8.0.0 made ", text)
        rc, md, err = self.ctl(v, "report", "--markdown")
        self.assertIn("\n- Errors by release (sentry, exact binomial): ", md)
        self.assertIn("; **fail**: stage 1 (10 %)", md)

    def test_canary_as_good_as_the_rest_passes_and_survives_a_restart(self):
        sim, v = self.setup_release(1)
        post(v, {"action": "begin", "version": "8.0.0", "warmup": "0s"})
        # Before any step the release's traffic share is unknown: untested.
        wait_for(lambda: self.current(v)["by_release"]["errors"] is not None, 15,
                 what="a count from Sentry")
        br = self.current(v)["by_release"]
        self.assertEqual(br["verdict"], "untested")
        self.assertIn("deploy step --weight", br["reason"])
        self.assertEqual(post(v, {"action": "step", "weight": 10})[0], 200)
        rc, out, err = self.ctl(v, "wait", "--for", "4s", "--interval", "1s")
        self.assertEqual(rc, 0, out + err)
        st = self.current(v)["by_release"]["stages"][0]
        self.assertEqual(st["verdict"], "pass", st)
        self.assertAlmostEqual(st["release_errors"] / st["errors"], 0.10, delta=0.02)
        self.assertGreater(st["p"], 0.02)
        # A restart mid-window keeps the stage's counts and goes on.
        counted = st["errors"]
        self.vigilds.remove(v)
        self.assertEqual(v.stop(), 0)
        v = self.vigild(self.cfg, name="second")
        self.assertIn("event=deploy_resumed id=1", v.log_text())
        wait_for(lambda: self.current(v)["by_release"]["stages"][0]["errors"] > counted, 20,
                 what="the stage counting on after the restart")
        # At 100 % there is no rest to compare with: untested, not pass.
        self.assertEqual(post(v, {"action": "step", "weight": 100})[0], 200)
        wait_for(lambda: len(self.current(v)["by_release"]["stages"]) == 2 and
                 self.current(v)["by_release"]["stages"][1]["errors"] > 0, 15,
                 what="a count in the second stage")
        br = self.current(v)["by_release"]
        self.assertEqual(br["stages"][1]["verdict"], "untested")
        self.assertEqual(br["verdict"], "pass", br)
        post(v, {"action": "end"})
        self.assertEqual(self.current(v)["verdict"]["final"], "pass")
