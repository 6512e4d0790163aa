"""Notifications end to end: what a webhook receiver hears as the real
vigild watches the simulator -- exactly the transitions, repeats on time,
flapping damped then announced, nothing lost while the receiver is down."""
import time

from harness import E2E, WebhookReceiver, http_probe, wait_for

FAST = "300ms"


def probes(sim):
    return [
        http_probe("app_health", sim.url("/api/health"), interval=FAST, timeout="3s",
                   expect={"json": {"/status": "ok"}}),
        http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                   timeout="3s", depends_on="app_health_down",
                   metrics={"p95_ms": "/metrics/responseTime/p95"}),
    ]


P95 = {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
       "crit": 1000, "unit": "ms", "labels": {"team": "web"},
       "summary": "API p95 {value} ms, threshold {threshold} ms"}


class NotifyCase(E2E):
    def receiver(self):
        r = WebhookReceiver()
        self.addCleanup(r.stop)
        return r

    def wait_kinds(self, rcv, n, timeout):
        return wait_for(lambda: (lambda b: b if len(b) >= n else None)(rcv.bodies()),
                        timeout, what=f"{n} notifications")


class Transitions(NotifyCase):
    def test_exactly_the_transitions(self):
        sim, rcv = self.sim(), self.receiver()
        v = self.vigild({"probes": probes(sim), "rules": [P95], "instance": "ops-1",
                         "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                                        "rules": ["api_p95"], "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)        # p95 ~700: warning
        self.wait_kinds(rcv, 1, 10)
        sim.scenario("slow", slow_ms=1200)       # p95 ~1500: critical
        self.wait_kinds(rcv, 2, 10)
        sim.scenario("healthy")
        bodies = self.wait_kinds(rcv, 3, 15)
        time.sleep(1.5)                          # and nothing more
        bodies = rcv.bodies()
        self.assertEqual([b["kind"] for b in bodies], ["firing", "escalated", "resolved"],
                         bodies)
        self.assertEqual([b.get("severity") for b in bodies], ["warning", "critical", None])
        self.assertEqual([b["state"] for b in bodies], ["firing", "firing", "resolved"])
        self.assertEqual(len({b["id"] for b in bodies}), 3)
        for b in bodies:
            self.assertEqual((b["rule"], b["instance"], b["labels"]), ("api_p95", "ops-1",
                                                                      {"team": "web"}))
            self.assertTrue(b["id"].startswith("ops-1-"))
            self.assertRegex(b["summary"], r"^API p95 \d+(\.\d+)? ms, threshold (500|1000) ms$")
        self.assertGreater(bodies[1]["value"], 1000)
        self.assertEqual(bodies[0]["since"], bodies[1]["since"])   # one episode
        st = v.status()
        self.assertIn("event=notification notifier=hook rule=api_p95 kind=resolved", v.log_text())
        self.assertEqual(rcv.received[0]["headers"]["Content-Type"], "application/json")

    def test_repeat_interval(self):
        sim, rcv = self.sim(), self.receiver()
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                                        "rules": ["api_p95"], "repeat_interval": "1s"}]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        self.wait_kinds(rcv, 1, 10)
        t0 = time.monotonic()
        time.sleep(3.6)
        bodies = rcv.bodies()
        kinds = [b["kind"] for b in bodies]
        self.assertEqual(kinds[0], "firing")
        repeats = kinds.count("repeat")
        # One a second, give or take the reconcile tick.
        self.assertGreaterEqual(repeats, 2, kinds)
        self.assertLessEqual(repeats, 4, kinds)
        self.assertEqual(set(kinds), {"firing", "repeat"})

    def test_filters_by_severity(self):
        sim, rcv = self.sim(), self.receiver()
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [{"name": "pager", "type": "webhook", "url": rcv.url,
                                        "severities": ["critical"], "labels": {"team": "web"},
                                        "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)        # warning: not for the pager
        wait_for(lambda: v.rule("api_p95")["state"] == "firing", 10, what="warning")
        time.sleep(1.5)
        self.assertEqual(rcv.bodies(), [])
        sim.scenario("slow", slow_ms=1200)       # critical: paged
        bodies = self.wait_kinds(rcv, 1, 10)
        self.assertEqual((bodies[0]["kind"], bodies[0]["severity"]), ("firing", "critical"))


class Damping(NotifyCase):
    def test_flapping_damped_then_announced(self):
        sim, rcv = self.sim(), self.receiver()
        rule = {"name": "health_up", "metric": "app_health.up", "op": "<", "crit": 1,
                "flap": {"window": "6s", "flips": 4}}
        v = self.vigild({"probes": probes(sim)[:1], "rules": [rule],
                         "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                                        "rules": ["health_up"], "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("health_up")["state"] == "ok", 10, what="ok")
        for _ in range(4):                       # down/up, four times
            sim.scenario("down")
            wait_for(lambda: v.rule("health_up")["state"] == "firing", 5, what="firing")
            sim.scenario("healthy")
            wait_for(lambda: v.rule("health_up")["state"] != "firing", 5, what="not firing")
        self.assertTrue(v.rule("health_up")["flapping"])
        flips = len([h for h in v.rule("health_up")["history"] if "firing" in (h["from"], h["to"])])
        during = len(rcv.bodies())
        self.assertLess(during, flips, "flapping must damp notifications")
        # Settled healthy: once the flips leave the window, the end is told.
        bodies = wait_for(lambda: (lambda b: b if b and b[-1]["kind"] == "flapping_ended" else None)(
            rcv.bodies()), 15, what="flapping_ended")
        self.assertEqual(bodies[-1]["state"], "resolved")
        self.assertFalse(v.rule("health_up")["flapping"])


class Delivery(NotifyCase):
    def test_receiver_down_then_up_in_order(self):
        sim, rcv = self.sim(), self.receiver()
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                                        "rules": ["api_p95"], "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        rcv.set_status(503)
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: v.rule("api_p95")["state"] == "firing", 10, what="firing")
        sim.scenario("healthy")
        wait_for(lambda: v.rule("api_p95")["state"] == "resolved", 10, what="resolved")
        wait_for(lambda: "event=notification_failed notifier=hook" in v.log_text(), 5,
                 what="a failed delivery")
        self.assertEqual(rcv.bodies(), [])
        rcv.set_status(200)
        bodies = self.wait_kinds(rcv, 2, 20)
        time.sleep(1)
        bodies = rcv.bodies()
        self.assertEqual([b["kind"] for b in bodies], ["firing", "resolved"])
        self.assertLess(int(bodies[0]["id"].rsplit("-", 1)[1]),
                        int(bodies[1]["id"].rsplit("-", 1)[1]))
        # The counters an operator (and Prometheus) sees.
        n = v.status()["notifiers"][0]
        self.assertEqual((n["name"], n["type"], n["target"]), ("hook", "webhook",
                                                             "http://127.0.0.1:%d/..." % rcv.port))
        self.assertEqual((n["sent"], n["queued"], n["dropped"]), (2, 0, 0))
        self.assertGreaterEqual(n["failed"], 1)
        _, _, metrics = v.get("/metrics")
        text = metrics.decode()
        self.assertIn('vigil_notifications_sent_total{notifier="hook"} 2\n', text)
        self.assertRegex(text, r'vigil_notifications_failed_total\{notifier="hook"\} [1-9]')
        import subprocess
        r = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(v.log_text(), r"event=notification_failed notifier=hook seq=\d+ "
                                       r"attempt=1 error=\"HTTP 503\" retry_in_ms=\d+")

    def test_secret_url_never_shown(self):
        sim, rcv = self.sim(), self.receiver()
        import os
        secret_url = rcv.url + "/T000/B000/XXXXsecretXXXX"
        path = os.path.join(self.workdir, "hook-url")
        with open(path, "w") as f:
            f.write(secret_url + "\n")
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [{"name": "hook", "type": "webhook", "url_file": path,
                                        "format": "slack", "rules": ["api_p95"]}]})
        sim.scenario("slow", slow_ms=400)
        bodies = self.wait_kinds(rcv, 1, 15)
        self.assertEqual(rcv.received[0]["path"], "/hook/T000/B000/XXXXsecretXXXX")
        self.assertIn("WARNING", bodies[0]["text"])
        self.assertEqual(bodies[0]["blocks"][0]["type"], "section")
        for path_ in ("/status", "/health"):
            self.assertNotIn("XXXXsecretXXXX", v.get(path_)[2].decode())
        self.assertNotIn("XXXXsecretXXXX", v.log_text())
