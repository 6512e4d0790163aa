"""An HA pair (docs/ha.md): two vigilds on one configuration, each pushing
to both members of a real Alertmanager cluster (gossip on loopback), with
a webhook receiver behind it. One outage is one firing notification and
one resolved, even when one vigild dies in the middle of it; vigilctl with
two URLs opens a deploy on both and survives one being down."""
import json
import os
import signal
import subprocess
import time

from harness import (BUILD, E2E, SLOW, VIGILD, WebhookReceiver, free_port, http, http_probe,
                     wait_for)
from test_alertmanager import AM, Alertmanager
from test_gate import GateCase

VIGILCTL = os.path.join(BUILD, "vigilctl")


class ClusterMember(Alertmanager):
    """One Alertmanager of a two-member cluster, routing to url."""

    def __init__(self, workdir, name, cluster_port, peer_port, receiver_url):
        # Seconds, not minutes, but in the proportions of the defaults
        # (group_interval 5m, peer timeout 15s): a member that is second
        # waits peer-timeout before it checks whether the first has sent,
        # and a group_interval that short of it makes it send a stale
        # snapshot (a firing after the resolved). repeat_interval is long,
        # so a second firing notification can only be a duplicate.
        config = ("route:\n  receiver: hook\n  group_by: [alertname]\n"
                  "  group_wait: 1s\n  group_interval: 16s\n  repeat_interval: 1h\n"
                  "receivers:\n  - name: hook\n    webhook_configs:\n"
                  f"      - url: {receiver_url}\n        send_resolved: true\n")
        super().__init__(workdir, name, config, args=[
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
            f"--cluster.advertise-address=127.0.0.1:{cluster_port}",
            f"--cluster.peer=127.0.0.1:{peer_port}",
            # Gossip fast; the second member waits 2 s (peer-timeout per
            # position) for the first's notification log before sending:
            # 20 gossip rounds of slack on a loaded machine.
            "--cluster.gossip-interval=100ms", "--cluster.pushpull-interval=1s",
            "--cluster.peer-timeout=2s", "--cluster.settle-timeout=2s"], ready_s=30)

    def peers(self):
        s, _, body = http("GET", self.url + "/api/v2/status")
        return len(json.loads(body)["cluster"].get("peers") or []) if s == 200 else 0


class AlertmanagerCluster(E2E):
    def test_one_outage_one_notification_even_when_a_vigild_dies(self):
        self.assertTrue(os.access(AM, os.X_OK), "prometheus-alertmanager is not installed "
                        "(make deps installs it)")
        rcv = WebhookReceiver()
        self.addCleanup(rcv.stop)
        c1, c2 = free_port(), free_port()
        am1 = ClusterMember(self.workdir, "am1", c1, c2, rcv.url)
        self.addCleanup(am1.stop)
        am2 = ClusterMember(self.workdir, "am2", c2, c1, rcv.url)
        self.addCleanup(am2.stop)
        wait_for(lambda: am1.peers() == 2 and am2.peers() == 2, 30, what="a cluster of two")
        sim = self.sim()

        def config(instance):
            # One configuration; only the host's own name differs (and
            # api.listen, which the harness fills in: one loopback).
            return {"instance": instance,
                    "probes": [http_probe("app_health", sim.url("/api/health"),
                                          interval="300ms", timeout="2s")],
                    # Each vigild posts to every member, as Prometheus does.
                    "notifiers": [{"name": "am", "type": "alertmanager",
                                   "urls": [am1.url, am2.url], "repeat_interval": "1m"}]}

        va = self.vigild(config("ops-a"), name="vigild-a")
        vb = self.vigild(config("ops-b"), name="vigild-b")
        for v in (va, vb):
            wait_for(lambda: v.rule("app_health_down")["state"] == "ok", 10, what="ok")

        def told(status):
            return [b for b in rcv.bodies() if b["status"] == status]

        sim.scenario("down")
        wait_for(lambda: told("firing"), 20 * SLOW, what="a firing notification")
        for v in (va, vb):
            wait_for(lambda: v.rule("app_health_down")["state"] == "firing", 10,
                     what="both vigilds firing")
        # Both members hold one alert (one label set), from both vigilds.
        for am in (am1, am2):
            alerts = wait_for(lambda: am.alerts("app_health_down"), 10, what="alert")
            self.assertEqual(len(alerts), 1, alerts)
            self.assertNotIn("instance", alerts[0]["labels"])
            self.assertIn(alerts[0]["annotations"]["vigil_instance"], ("ops-a", "ops-b"))
        # One vigild dies mid-outage; the other carries on alone.
        va.proc.send_signal(signal.SIGKILL)
        va.proc.wait()
        self.vigilds.remove(va)
        va.log.close()
        # Past the second member's peer timeout (2 s): time for a duplicate
        # to show (a sleep: the test is that nothing arrives).
        time.sleep(4 * SLOW)
        self.assertEqual(len(told("firing")), 1, rcv.bodies())
        sim.scenario("healthy")
        wait_for(lambda: told("resolved"), 40 * SLOW, what="the resolved notification")
        time.sleep(4 * SLOW)
        self.assertEqual((len(told("firing")), len(told("resolved"))), (1, 1), rcv.bodies())
        a = told("firing")[0]["alerts"][0]
        self.assertEqual(a["labels"], {"alertname": "app_health_down", "severity": "critical",
                                       "source": "vigil"} | {k: a["labels"][k] for k in
                                                             a["labels"] if k == "probe"})


class PairCli(GateCase):
    """vigilctl with two URLs: writes to both, reads from the first up."""

    def ctl(self, url, *args):
        r = subprocess.run([VIGILCTL, "--url", url, "--token-file",
                            os.path.join(self.workdir, "token"), *args],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def test_deploy_goes_to_both_and_one_down_is_not_fatal(self):
        sim = self.sim(args=["--rps", "2000"])
        checks = [{"rule": "app_health_down", "key": True}]
        va = self.vigild(self.config(sim, checks), name="vigild-a")
        vb = self.vigild(self.config(sim, checks), name="vigild-b")
        both = f"{va.base},{vb.base}"
        rc, out, err = self.ctl(both, "deploy", "begin", "--version", "7.0.0", "--warmup", "0s")
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{va.base}: accepted POST /deploys", err)
        self.assertIn(f"{vb.base}: accepted POST /deploys", err)
        for v in (va, vb):
            self.assertTrue(self.current(v)["open"])
            self.assertEqual(self.current(v)["version"], "7.0.0")
        # On a host of the pair: the configuration's api.listen, then ha.peers.
        conf = os.path.join(self.workdir, "ctl.json")
        with open(conf, "w") as f:
            json.dump({"api": {"listen": f"127.0.0.1:{va.port}",
                               "token_file": os.path.join(self.workdir, "token")},
                       "ha": {"peers": [vb.base]}}, f)
        r = subprocess.run([VIGILCTL, "-c", conf, "deploy", "step", "--weight", "25"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for v in (va, vb):
            self.assertIn(f"{v.base}: accepted POST /deploys", r.stderr)
        # A read: the first that answers.
        rc, out, err = self.ctl(both, "wait", "--for", "2s", "--interval", "300ms")
        self.assertEqual(rc, 0, out + err)
        self.assertIn(f"waiting on {va.base}", err)
        # One down: reported, not fatal; the read moves to the other.
        va.stop()
        self.vigilds.remove(va)
        rc, out, err = self.ctl(both, "deploy", "step", "--weight", "50")
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{va.base}: cannot reach vigild", err)
        self.assertIn(f"not accepted by {va.base} (unreachable)", err)
        self.assertEqual(self.current(vb)["stages"][-1]["weight"], 50)
        rc, out, err = self.ctl(both, "wait", "--for", "1s", "--interval", "300ms")
        self.assertEqual(rc, 0, out + err)
        self.assertIn(f"waiting on {vb.base}", err)
        rc, out, err = self.ctl(both, "status", "--json")
        self.assertIn(rc, (0, 1, 2), err)
        self.assertIn(f"cannot reach vigild at {va.base}", err)
        self.assertIn(f"answered by {vb.base}", err)
        json.loads(out)
        # Silence ids are each vigild's own: expiring by id takes one URL.
        rc, out, err = self.ctl(both, "silence", "expire", "1")
        self.assertEqual(rc, 64, err)
        self.assertIn("takes one --url", err)
        # None accepting is a failure that says who.
        vb.stop()
        self.vigilds.remove(vb)
        rc, out, err = self.ctl(both, "deploy", "end")
        self.assertEqual(rc, 3, err)
        self.assertIn("no vigild accepted POST /deploys", err)
        rc, out, err = self.ctl(both, "status")
        self.assertEqual(rc, 3, err)
        self.assertIn("none of the 2 vigilds answered", err)


class PairConfig(E2E):
    def test_check_config_warns_of_what_both_would_send(self):
        path = os.path.join(self.workdir, "pair.json")
        with open(path, "w") as f:
            json.dump({"ha": {"peers": ["http://ops-2:9464"]},
                       "probes": [http_probe("app", "http://127.0.0.1:9/")],
                       "notifiers": [
                           {"name": "am", "type": "alertmanager", "urls": ["http://am:9093"]},
                           {"name": "hook", "type": "webhook", "url": "http://h.example/x"},
                           {"name": "chat", "type": "webhook", "format": "slack",
                            "url": "https://hooks.example/x"}]}, f)
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        # A warning, not an error: the configuration is still OK.
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        warnings = [l for l in r.stderr.splitlines() if ": warning: " in l]
        self.assertEqual(len(warnings), 2, r.stderr)
        self.assertIn('notifier "hook" (webhook)', warnings[0])
        self.assertIn('notifier "chat" (Slack)', warnings[1])
        self.assertIn("route it through Alertmanager", warnings[1])
        self.assertNotIn('"am"', r.stderr)
