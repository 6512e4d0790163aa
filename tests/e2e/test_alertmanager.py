"""vigild pushes alerts to a real Alertmanager (Debian's
prometheus-alertmanager, started here on loopback with a throwaway config
and storage): the alerts arrive with their labels and annotations, are
re-sent while firing, and end when resolved."""
import json
import os
import subprocess

from harness import E2E, free_port, http, http_probe, wait_for

AM = "/usr/bin/prometheus-alertmanager"


class Alertmanager:
    def __init__(self, workdir):
        self.port = free_port()
        cfg = os.path.join(workdir, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write("route:\n  receiver: sink\n  group_wait: 0s\n"
                    "receivers:\n  - name: sink\n")
        self.log = open(os.path.join(workdir, "alertmanager.log"), "wb")
        self.proc = subprocess.Popen(
            [AM, f"--config.file={cfg}", f"--storage.path={os.path.join(workdir, 'am-data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(lambda: http("GET", self.url + "/-/ready")[0] == 200, 20,
                 what="alertmanager ready")

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
        am, am2 = Alertmanager(self.workdir), None
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
        self.assertEqual(a["labels"], {"alertname": "api_p95", "severity": "warning",
                                       "instance": "ops-1", "team": "web", "source": "vigil"})
        self.assertRegex(a["annotations"]["summary"], r"^API p95 \d+(\.\d+)? ms$")
        self.assertEqual(a["annotations"]["threshold"], "500")
        self.assertEqual(a["generatorURL"], "http://vigil.example.test:9464/")
        self.assertEqual(a["status"]["state"], "active")
        # Re-sent while firing, as Alertmanager expects.
        sent = v.status()
        wait_for(lambda: v.log_text().count("notifier=am rule=api_p95 kind=repeat") >= 2, 10,
                 what="re-sent while firing")
        sim.scenario("healthy")
        wait_for(lambda: am.alerts("api_p95") == [], 15, what="alert ended")
        self.assertIn("notifier=am rule=api_p95 kind=resolved", v.log_text())
