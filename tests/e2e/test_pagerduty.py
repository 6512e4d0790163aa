"""PagerDuty end to end: a stand-in for the Events API v2 on loopback hears
one outage of the simulator as a trigger and a resolve with one dedup key,
the routing key from its file in every event and nowhere else (not /status,
not the log, not the state file); 429 and 500 are retried until a 202, a
400 is dropped after one try and the notices behind it still go; a release
gate's fail opens an incident of its own, a pass none."""
import json
import os
import time

from harness import E2E, SLOW, LoopbackPosts, WebhookReceiver, wait_for, write_secret
from test_gate import GateCase, post
from test_notify import probes

KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32"


P95 = {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
       "crit": 1000, "unit": "ms", "labels": {"team": "web", "component": "api"},
       "summary": "API p95 {value} ms, threshold {threshold} ms"}


class PagerDutyStandIn(LoopbackPosts):
    """A loopback Events API v2: every POST recorded with the status it got.

    Answers what script says, one status per request (then 202), and checks
    an event as PagerDuty does: a routing key, a known action, a dedup key,
    and for a trigger a payload with summary, source and a valid severity
    (400 otherwise).
    """

    def __init__(self, script=()):
        self.received = []
        self.script = list(script)
        super().__init__("/v2/enqueue")

    def answer(self, path, headers, raw):
        with self.lock:
            status = self.script.pop(0) if self.script else None
        try:
            ev = json.loads(raw)
        except ValueError:
            ev = None
        if status is None:
            status = 202 if self.valid(ev) else 400
        with self.lock:
            self.received.append({"path": path, "headers": headers, "event": ev,
                                  "status": status})
        body = json.dumps({"status": "success" if status == 202 else "invalid event",
                           "message": "Event processed",
                           "dedup_key": (ev or {}).get("dedup_key")}).encode()
        return status, body, {"Content-Type": "application/json"}

    @staticmethod
    def valid(ev):
        if not isinstance(ev, dict) or not ev.get("routing_key") or not ev.get("dedup_key"):
            return False
        if ev.get("event_action") == "resolve":
            return True
        p = ev.get("payload") or {}
        return (ev.get("event_action") == "trigger" and 0 < len(p.get("summary", "")) <= 1024
                and p.get("source") and p.get("severity") in ("critical", "error", "warning",
                                                               "info"))

    def requests(self):
        with self.lock:
            return list(self.received)

    def accepted(self):
        return [r["event"] for r in self.requests() if r["status"] == 202]


class PagerDutyCase(E2E):
    def standin(self, script=()):
        pd = PagerDutyStandIn(script)
        self.addCleanup(pd.stop)
        return pd

    def start(self, pd, **extra):
        sim = self.sim()
        keyfile = write_secret(os.path.join(self.workdir, "pd-key"), KEY + "\n")
        self.state_dir = os.path.join(self.workdir, "state")
        os.mkdir(self.state_dir)
        n = {"name": "pager", "type": "pagerduty", "url": pd.url, "routing_key_file": keyfile,
             "rules": ["api_p95"]}
        n.update(extra)
        v = self.vigild({"probes": probes(sim), "rules": [P95], "instance": "ops-1",
                         "state_dir": self.state_dir, "state_interval": "1s",
                         "notifiers": [n]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10 * SLOW, what="ok")
        return sim, v

    def wait_accepted(self, pd, n, timeout):
        return wait_for(lambda: (lambda a: a if len(a) >= n else None)(pd.accepted()),
                        timeout * SLOW, what=f"{n} events accepted")


class TriggerResolve(PagerDutyCase):
    def test_one_outage_one_incident(self):
        pd = self.standin()
        sim, v = self.start(pd)
        sim.scenario("slow", slow_ms=1200)       # p95 ~1500: critical
        trig = self.wait_accepted(pd, 1, 15)[0]
        sim.scenario("healthy")
        events = self.wait_accepted(pd, 2, 20)
        time.sleep(1.5)          # a sleep: proves nothing more is sent after the resolve
        events = pd.accepted()
        self.assertEqual([e["event_action"] for e in events], ["trigger", "resolve"], events)
        res = events[1]
        # One incident: the resolve names the trigger's dedup key.
        self.assertEqual(trig["dedup_key"], "vigil/ops-1/api_p95")
        self.assertEqual(res["dedup_key"], trig["dedup_key"])
        self.assertEqual(trig["routing_key"], KEY)
        self.assertEqual(res["routing_key"], KEY)
        p = trig["payload"]
        self.assertRegex(p["summary"], r"^API p95 \d+(\.\d+)? (ms|s), threshold 1 s$")
        self.assertEqual((p["source"], p["severity"], p["class"], p["component"], p["group"]),
                         ("ops-1", "critical", "api_p95", "api", "web"))
        self.assertRegex(p["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        d = p["custom_details"]
        self.assertEqual((d["rule"], d["kind"], d["threshold"], d["unit"], d["labels"]),
                         ("api_p95", "firing", "1000", "ms", {"team": "web",
                                                             "component": "api"}))
        self.assertGreater(float(d["value"]), 1000)
        self.assertEqual((trig["links"][0]["href"], trig["client_url"]),
                         (f"http://127.0.0.1:{v.port}/",) * 2)
        self.assertNotIn("payload", res)
        self.assertEqual(pd.requests()[0]["headers"]["Content-Type"], "application/json")
        # What an operator sees: the type, the host, never the key.
        n = v.notifier("pager", sent=2, failed=0)
        self.assertEqual((n["type"], n["target"]),
                         ("pagerduty", f"http://127.0.0.1:{pd.port}/..."))
        wait_for(lambda: v.status()["state_file"]["writes"] >= 1, 10, what="a state write")
        for path in ("/status", "/metrics", "/", "/health", "/alerts"):
            self.assertNotIn(KEY, v.get(path)[2].decode("utf-8", "replace"), path)
        self.assertNotIn(KEY, v.log_text())
        with open(os.path.join(self.state_dir, "state.json")) as f:
            self.assertNotIn(KEY, f.read())

    def test_key_not_saved_while_queued(self):
        """An event waiting in the outbox is saved without the routing key,
        and after a restart it is delivered with it."""
        pd = self.standin(script=[503] * 1000)
        sim, v = self.start(pd)
        sim.scenario("slow", slow_ms=1200)
        wait_for(lambda: len(pd.requests()) >= 1, 15 * SLOW, what="a first attempt")
        path = os.path.join(self.state_dir, "state.json")

        def saved_outbox():
            with open(path) as f:
                box = json.load(f)["notifiers"]["pager"]["outbox"][0]
            return box or None
        box = wait_for(saved_outbox, 10 * SLOW, what="the queued trigger saved")
        with open(path) as f:
            self.assertNotIn(KEY, f.read())
        self.assertEqual(json.loads(box[0]["body"])["event_action"], "trigger")
        self.assertEqual(self.vigilds[0].stop(), 0)
        self.vigilds.remove(v)
        with pd.lock:
            pd.script = []
        v2 = self.vigild(json.loads(open(v.config_path).read()))
        ev = self.wait_accepted(pd, 1, 15)[0]
        self.assertEqual((ev["event_action"], ev["routing_key"], ev["dedup_key"]),
                         ("trigger", KEY, "vigil/ops-1/api_p95"))
        self.assertEqual(v2.status()["notifiers"][0]["queued"], 0)


class Retries(PagerDutyCase):
    def test_throttled_and_server_errors_are_retried(self):
        pd = self.standin(script=[429, 500])
        sim, v = self.start(pd)
        sim.scenario("slow", slow_ms=1200)
        ev = self.wait_accepted(pd, 1, 20)[0]
        self.assertEqual([r["status"] for r in pd.requests()], [429, 500, 202])
        # The same event each time: one trigger, retried.
        self.assertEqual(len({json.dumps(r["event"], sort_keys=True)
                              for r in pd.requests()}), 1)
        self.assertEqual(ev["event_action"], "trigger")
        v.notifier("pager", sent=1, failed=2, queued=0)
        log = v.log_text()
        self.assertRegex(log, r'event=notification_failed notifier=pager seq=\d+ attempt=1 '
                              r'error="HTTP 429"')
        self.assertRegex(log, r'event=notification_failed notifier=pager seq=\d+ attempt=2 '
                              r'error="HTTP 500"')

    def test_invalid_event_is_not_retried(self):
        pd = self.standin(script=[400])
        sim, v = self.start(pd)
        sim.scenario("slow", slow_ms=1200)
        wait_for(lambda: "event=notification_rejected notifier=pager" in v.log_text(),
                 15 * SLOW, what="the 400 logged")
        time.sleep(3)            # a sleep: proves the rejected trigger is not sent again
        self.assertEqual([r["status"] for r in pd.requests()], [400])
        n = v.status()["notifiers"][0]
        self.assertEqual((n["sent"], n["failed"], n["queued"]), (0, 1, 0))
        self.assertNotIn("next_retry_s", n)
        self.assertIn("HTTP 400", n["last_error"])
        self.assertRegex(v.log_text(), r"event=notification_rejected notifier=pager seq=\d+ "
                                       r"status=400")
        # The queue moved on: the resolve still goes (202).
        sim.scenario("healthy")
        ev = self.wait_accepted(pd, 1, 20)[0]
        self.assertEqual((ev["event_action"], ev["dedup_key"]), ("resolve",
                                                                 "vigil/ops-1/api_p95"))
        self.assertEqual(len(pd.requests()), 2)


class DeployVerdict(GateCase):
    def test_only_a_failed_gate_pages(self):
        pd = PagerDutyStandIn()
        self.addCleanup(pd.stop)
        sim = self.sim(args=["--rps", "2000"])
        cfg = self.config(sim, [{"rule": "error_rate", "fail_after": 2, "min_requests": 100},
                                {"rule": "app_health_down", "key": True}])
        keyfile = write_secret(os.path.join(self.workdir, "pd-key"), KEY + "\n")
        cfg["instance"] = "ops-1"
        rcv = WebhookReceiver()
        self.addCleanup(rcv.stop)
        # The webhook hears every verdict: PagerDuty hears the same ones
        # at the same moment, or not.
        cfg["notifiers"] = [{"name": "pager", "type": "pagerduty", "url": pd.url,
                             "routing_key_file": keyfile, "rules": ["api_p95"]},
                            {"name": "hook", "type": "webhook", "url": rcv.url,
                             "rules": ["api_p95"]}]
        v = self.vigild(cfg)
        post(v, {"action": "begin", "version": "6.0.0"})
        sim.scenario("error_spike")
        self.decided(v, 10 * SLOW)
        ev = self.wait_deploy(pd, 1)[0]
        self.assertEqual((ev["event_action"], ev["dedup_key"], ev["routing_key"]),
                         ("trigger", "vigil/ops-1/deploy/1", KEY))
        p = ev["payload"]
        self.assertEqual((p["severity"], p["source"], p["class"]),
                         ("error", "ops-1", "deploy_verdict"))
        self.assertIn("6.0.0 failed its release gate", p["summary"])
        self.assertEqual((p["custom_details"]["verdict"], p["custom_details"]["deploy"]),
                         ("fail", 1))
        post(v, {"action": "end"})
        # The next window ends pass (or warn): nobody is woken for it.
        sim.scenario("healthy")
        wait_for(lambda: v.rule("error_rate")["state"] in ("ok", "resolved"), 15 * SLOW,
                 what="error_rate back to ok")
        post(v, {"action": "begin", "version": "6.0.1"})
        self.polls(v, "error_rate", 3, timeout=10 * SLOW)
        post(v, {"action": "end"})
        told = wait_for(lambda: [b for b in rcv.bodies() if b["kind"] == "deploy_verdict" and
                                 b["deploy"]["id"] == 2], 10 * SLOW, what="deploy 2's verdict")
        self.assertIn(told[0]["verdict"], ("pass", "warn"), told[0])
        time.sleep(1)            # a sleep: proves no event follows for deploy 2
        self.assertEqual([e["dedup_key"] for e in pd.accepted() if "/deploy/" in e["dedup_key"]],
                         ["vigil/ops-1/deploy/1"])

    def wait_deploy(self, pd, n):
        return wait_for(lambda: (lambda a: a if len(a) >= n else None)(
            [e for e in pd.accepted() if "/deploy/" in e["dedup_key"]]), 10 * SLOW,
            what=f"{n} deploy events")
