"""vigild pushes alerts to a real Alertmanager (Debian's
prometheus-alertmanager, started here on loopback with a throwaway config
and storage): the alerts arrive with their labels and annotations, are
re-sent while firing, and end when resolved; with two URLs (a cluster)
every member hears the same alerts."""
import json
import os
import subprocess

from harness import E2E, free_port, http, http_probe, wait_for

AM = "/usr/bin/prometheus-alertmanager"


class Alertmanager:
    """A real Alertmanager on loopback with a throwaway storage; alone
    (no cluster) unless args say otherwise. test_ha's cluster members are
    these with a routing config and gossip flags."""

    def __init__(self, workdir, name="alertmanager", config=None, args=(), ready_s=20):
        self.port = free_port()
        cfg = os.path.join(workdir, f"{name}.yml")
        with open(cfg, "w") as f:
            f.write(config or "route:\n  receiver: sink\n  group_wait: 0s\n"
                    "receivers:\n  - name: sink\n")
        self.log = open(os.path.join(workdir, f"{name}.log"), "wb")
        self.proc = subprocess.Popen(
            [AM, f"--config.file={cfg}", f"--storage.path={os.path.join(workdir, name + '-data')}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             *(args or ["--cluster.listen-address="])],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(lambda: http("GET", self.url + "/-/ready")[0] == 200, ready_s,
                 what=f"{name} ready")

    def alerts(self, name):
        s, _, body = http("GET", self.url + f"/api/v2/alerts?filter=alertname%3D%22{name}%22")
        assert s == 200, (s, body)
        return json.loads(body)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class PushToAlertmanager(E2E):
    def test_alerts_arrive_with_labels_and_end_when_resolved(self):
        self.assertTrue(os.access(AM, os.X_OK), "prometheus-alertmanager is not installed "
                        "(make deps installs it)")
        am = Alertmanager(self.workdir)
        self.addCleanup(am.stop)
        sim = self.sim()
        v = self.vigild({
            "probes": [http_probe("app_advanced", sim.url("/api/health/advanced"),
                                  interval="300ms", timeout="3s",
                                  metrics={"p95_ms": "/metrics/responseTime/p95"})],
            "rules": [{"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">",
                       "warn": 500, "crit": 1000, "labels": {"team": "web"},
                       "summary": "API p95 {value} ms"}],
            "instance": "ops-1",
            "api": {"public_url": "http://vigil.example.test:9464/"},
            "notifiers": [{"name": "am", "type": "alertmanager",
                           "urls": [am.url], "repeat_interval": "1s"}],
        })
        sim.scenario("slow", slow_ms=400)
        alerts = wait_for(lambda: am.alerts("api_p95"), 15, what="alert in Alertmanager")
        a = alerts[0]
        # instance is an annotation: two vigilds of a pair push one alert.
        self.assertEqual(a["labels"], {"alertname": "api_p95", "severity": "warning",
                                       "team": "web", "source": "vigil"})
        self.assertEqual(a["annotations"]["vigil_instance"], "ops-1")
        self.assertRegex(a["annotations"]["summary"], r"^API p95 \d+(\.\d+)? ms$")
        self.assertEqual(a["annotations"]["threshold"], "500")
        self.assertEqual(a["generatorURL"], "http://vigil.example.test:9464/")
        self.assertEqual(a["status"]["state"], "active")
        # Re-sent while firing, as Alertmanager expects.
        wait_for(lambda: v.log_text().count("notifier=am rule=api_p95 kind=repeat") >= 2, 10,
                 what="re-sent while firing")
        sim.scenario("healthy")
        wait_for(lambda: am.alerts("api_p95") == [], 15, what="alert ended")
        self.assertIn("notifier=am rule=api_p95 kind=resolved", v.log_text())

    def test_two_urls_each_member_hears_every_alert(self):
        self.assertTrue(os.access(AM, os.X_OK), "prometheus-alertmanager is not installed "
                        "(make deps installs it)")
        # Two Alertmanagers, not clustered with each other: vigild itself
        # must post to both, as Prometheus does to every cluster member.
        am1 = Alertmanager(self.workdir, name="am1")
        self.addCleanup(am1.stop)
        am2 = Alertmanager(self.workdir, name="am2")
        self.addCleanup(am2.stop)
        sim = self.sim()
        v = self.vigild({
            "probes": [http_probe("app_advanced", sim.url("/api/health/advanced"),
                                  interval="300ms", timeout="3s",
                                  metrics={"p95_ms": "/metrics/responseTime/p95"})],
            "rules": [{"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">",
                       "warn": 500, "crit": 1000, "labels": {"team": "web"}}],
            "instance": "ops-1",
            # The second written as the full endpoint: it is not doubled.
            "notifiers": [{"name": "am", "type": "alertmanager", "repeat_interval": "1s",
                           "urls": [am1.url, am2.url + "/api/v2/alerts"]}],
        })
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        got = [wait_for(lambda: am.alerts("api_p95"), 15, what=f"alert in {name}")
               for am, name in ((am1, "am1"), (am2, "am2"))]
        want = {"alertname": "api_p95", "severity": "warning",
                "team": "web", "source": "vigil"}
        for name, alerts in zip(("am1", "am2"), got):
            self.assertEqual(len(alerts), 1, (name, alerts))
            self.assertEqual(alerts[0]["labels"], want, name)
            self.assertEqual(alerts[0]["status"]["state"], "active", name)
        self.assertEqual(got[0][0]["startsAt"], got[1][0]["startsAt"])
        # One per member at least, counted once vigild has read the answers.
        n = wait_for(lambda: (lambda n: n if n["sent"] >= 2 else None)(
            v.status()["notifiers"][0]), 5, what="both members' answers counted")
        self.assertEqual((n["name"], n["type"], n["dropped"]), ("am", "alertmanager", 0))
        sim.scenario("healthy")
        for am, name in ((am1, "am1"), (am2, "am2")):
            wait_for(lambda: am.alerts("api_p95") == [], 15, what=f"alert ended in {name}")
        self.assertIn("notifier=am rule=api_p95 kind=resolved", v.log_text())
