"""State that survives restarts: kill -9 while an alert fires and nobody is
paged twice; an alert that ended while vigild was down is resolved; a
damaged state file is moved aside, not fatal; a read-only state directory
does not stop polling."""
import glob
import json
import os
import signal
import time
import urllib.request

from harness import E2E, Vigild, WebhookReceiver, http_probe, wait_for, wait_until, write_secret

FAST = "300ms"
TOKEN = "state-token-8d2f61c0e4"


def config(sim, rcv, state_dir, **extra):
    cfg = {
        "probes": [http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                              timeout="3s", metrics={"p95_ms": "/metrics/responseTime/p95"})],
        "rules": [{"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
                   "crit": 1000}],
        "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                       "rules": ["api_p95"], "repeat_interval": "0s"}],
        "state_dir": state_dir,
        "state_interval": "1s",
    }
    cfg.update(extra)
    return cfg


class Restart(E2E):
    def setUp(self):
        super().setUp()
        self.rcv = WebhookReceiver()
        self.addCleanup(self.rcv.stop)
        self.state_dir = os.path.join(self.workdir, "state")
        os.mkdir(self.state_dir)

    def start(self, cfg, name="vigild"):
        return self.vigild(cfg, name=name)

    def kill9(self, v):
        v.proc.send_signal(signal.SIGKILL)
        v.proc.wait(10)
        self.vigilds.remove(v)
        v.log.close()

    def saved(self):
        with open(os.path.join(self.state_dir, "state.json")) as f:
            return json.load(f)

    def token_file(self):
        return write_secret(os.path.join(self.workdir, "api.token"), TOKEN + "\n")

    def add_silence(self, v, **body):
        req = urllib.request.Request(v.base + "/silences", data=json.dumps(body).encode(),
                                     method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            self.assertEqual(r.status, 201)
            return json.loads(r.read())["id"]

    def delivered_and_saved(self):
        """The state file has caught up with a delivery: told, and gone
        from the outbox. Within moments, not at the state_interval (60 s
        in the tests that wait on this): a kill -9 in between once paged
        again after the restart, from the outbox saved before delivery."""
        wait_for(lambda: (lambda h: h["told"].get("api_p95") and h["outbox"] == [[]])(
            self.saved()["notifiers"]["hook"]), 5, what="the delivered notice saved")

    def test_kill9_while_firing_does_not_page_again(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir, state_interval="60s")
        self.rcv.delay = 1.0     # answers after the save that follows the page
        v = self.start(cfg)
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: len(self.rcv.bodies()) == 1, 15, what="firing notified")
        since = v.rule("api_p95")["since"]
        self.delivered_and_saved()
        self.kill9(v)
        v2 = self.start(cfg, name="second")
        self.assertIn("event=state_restored", v2.log_text())
        r = v2.rule("api_p95")
        self.assertEqual((r["state"], r["since"]), ("firing", since))
        wait_for(lambda: v2.probe("app_advanced")["runs"] >= 5, 10, what="runs after restart")
        time.sleep(1.5)          # a sleep: proves the restart does not page again
        self.assertEqual([b["kind"] for b in self.rcv.bodies()], ["firing"],
                         "a restart must not page again")
        sim.scenario("healthy")
        bodies = wait_for(lambda: (lambda b: b if len(b) == 2 else None)(self.rcv.bodies()), 15,
                          what="resolved")
        self.assertEqual(bodies[1]["kind"], "resolved")
        self.assertEqual(bodies[1]["since"], bodies[0]["since"])

    def test_resolved_while_down_is_told_after_restart(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir, state_interval="60s")
        self.rcv.delay = 1.0     # answers after the save that follows the page
        v = self.start(cfg)
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: len(self.rcv.bodies()) == 1, 15, what="firing notified")
        self.delivered_and_saved()
        self.kill9(v)
        sim.scenario("healthy")
        v2 = self.start(cfg, name="second")
        bodies = wait_for(lambda: (lambda b: b if len(b) == 2 else None)(self.rcv.bodies()), 15,
                          what="resolution after restart")
        self.assertEqual([b["kind"] for b in bodies], ["firing", "resolved"])
        wait_for(lambda: v2.rule("api_p95")["state"] in ("resolved", "ok"), 5, what="resolved")

    def test_clean_stop_saves_and_silences_survive(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir, api={"token_file": self.token_file()})
        v = self.start(cfg)
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sid = self.add_silence(v, rule="api_p95", author="ana", comment="INC-42 db failover",
                               duration="2h")
        self.assertEqual(v.rule("api_p95")["silenced_by"]["id"], sid)
        sf = wait_for(lambda: (lambda s: s if s["writes"] >= 1 else None)(
            v.status()["state_file"]), 5, what="a state write")
        self.assertEqual((sf["failures"], sf["last_error"]), (0, ""))
        self.assertTrue(sf["path"].endswith("/state/state.json"))
        self.assertIn("vigil_state_writes_total", v.metrics())
        self.vigilds.remove(v)
        self.assertEqual(v.stop(), 0)
        self.assertIn("event=state_saved", v.log_text())
        doc = self.saved()
        self.assertEqual(doc["version"], 2)
        self.assertIn("app_advanced.p95_ms", doc["store"])
        self.assertEqual(doc["rules"]["api_p95"]["state"], "ok")
        self.assertEqual([(x["id"], x["rule"]) for x in doc["silences"]], [(sid, "api_p95")])
        # Nothing secret is ever written (the notifier URL and token included).
        self.assertNotIn(self.rcv.url, json.dumps(doc))
        self.assertNotIn(TOKEN, json.dumps(doc))
        # Restored samples make windows meaningful at once.
        v2 = self.start(cfg, name="second")
        self.assertRegex(v2.log_text(), r"event=state_restored path=\S+ samples=[1-9]\d* "
                                        r"silences=1")
        # The silence is back: same id, author, comment, and still matching.
        silences = json.loads(v2.get("/silences")[2])["silences"]
        self.assertEqual([(x["id"], x["author"], x["comment"]) for x in silences],
                         [(sid, "ana", "INC-42 db failover")])
        self.assertGreater(silences[0]["expires_in_s"], 7000)
        self.assertEqual(v2.rule("api_p95")["silenced_by"]["id"], sid)
        # And it still silences: a firing alert under it sends nothing.
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: v2.rule("api_p95")["state"] == "firing", 10, what="firing")
        time.sleep(2.5)          # a sleep: proves the silenced alert sends nothing
        self.assertEqual(self.rcv.bodies(), [])

    def test_state_file_of_0_1_0_is_read(self):
        # 0.1.0 saved states and severities as numbers and hashed a rule's
        # canon from a mistyped FNV-1a basis; such a file must still bring
        # a firing alert back, told, so nobody is paged twice.
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir)
        v = self.start(cfg)
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: len(self.rcv.bodies()) == 1, 15, what="firing notified")
        since = v.rule("api_p95")["since"]
        wait_for(lambda: self.saved()["notifiers"]["hook"]["told"].get("api_p95"), 5,
                 what="told state saved")
        self.vigilds.remove(v)
        self.assertEqual(v.stop(), 0)
        doc = self.saved()
        self.assertEqual(doc["version"], 2)
        states = ["ok", "pending", "firing", "resolved", "unknown"]
        sevs = ["none", "warning", "critical"]
        rule = doc["rules"]["api_p95"]
        self.assertEqual((rule["state"], rule["sev"]), ("firing", "warning"))
        canon = json.dumps(cfg["rules"][0], separators=(",", ":"))
        h = 1469598103934665603                  # 0.1.0's basis
        for b in canon.encode():
            h = ((h ^ b) * 0x100000001b3) % 2**64
        rule.update(canon=f"{h:016x}", state=states.index(rule["state"]),
                    sev=sevs.index(rule["sev"]), fired_sev=sevs.index(rule["fired_sev"]),
                    history=[[t, states.index(f), states.index(to), sevs.index(sv)]
                             for t, f, to, sv in rule["history"]])
        doc["rules"] = {"api_p95": rule}
        for told in doc["notifiers"]["hook"]["told"].values():
            told["sev"] = sevs.index(told["sev"])
        doc["version"] = 1
        with open(os.path.join(self.state_dir, "state.json"), "w") as f:
            json.dump(doc, f)
        v2 = self.start(cfg, name="second")
        self.assertRegex(v2.log_text(), r"event=state_restored .* rules=1 version=1")
        r = v2.rule("api_p95")
        self.assertEqual((r["state"], r["severity"], r["since"]), ("firing", "warning", since))
        wait_for(lambda: v2.probe("app_advanced")["runs"] >= 5, 10, what="runs after restart")
        time.sleep(1.5)
        self.assertEqual([b["kind"] for b in self.rcv.bodies()], ["firing"],
                         "a 0.1.0 file must not page again")
        # And the next save is in this release's form.
        wait_for(lambda: self.saved()["version"] == 2, 5, what="a save")
        self.assertEqual(self.saved()["rules"]["api_p95"]["state"], "firing")

    def test_kill9_undelivered_notice_is_delivered_once_after_restart(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir)
        v = self.start(cfg)
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        self.rcv.set_status(503)                 # the receiver is down
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: v.rule("api_p95")["state"] == "firing", 10, what="firing")
        wait_for(lambda: "event=notification_failed notifier=hook" in v.log_text(), 10,
                 what="a failed delivery")
        # The undelivered notice is in the state file when vigild dies.
        outbox = wait_for(lambda: self.saved()["notifiers"]["hook"]["outbox"][0], 5,
                          what="undelivered notice saved")
        self.assertEqual(len(outbox), 1, outbox)
        queued = json.loads(outbox[0]["body"])
        self.assertEqual(queued["kind"], "firing")
        self.kill9(v)
        self.assertEqual(self.rcv.bodies(), [])
        self.rcv.set_status(200)                 # and is back
        v2 = self.start(cfg, name="second")
        self.assertRegex(v2.log_text(), r"event=state_restored ")
        bodies = wait_for(lambda: self.rcv.bodies(), 15, what="the saved notice delivered")
        # Exactly once: give retries, repeats and reconcile ticks time to
        # (wrongly) send it again, or to page afresh for the same episode.
        wait_for(lambda: v2.probe("app_advanced")["runs"] >= 8, 15, what="runs after restart")
        time.sleep(2)            # a sleep: proves no second delivery comes
        bodies = self.rcv.bodies()
        self.assertEqual([b["kind"] for b in bodies], ["firing"], bodies)
        self.assertEqual((bodies[0]["id"], bodies[0]["since"]), (queued["id"], queued["since"]))
        self.assertEqual(v2.rule("api_p95")["state"], "firing")
        n = v2.status()["notifiers"][0]
        self.assertEqual((n["sent"], n["queued"], n["dropped"]), (1, 0, 0))
        wait_for(lambda: self.saved()["notifiers"]["hook"]["outbox"] == [[]], 5,
                 what="delivered notice gone from the state file")

    def test_idle_writes_at_most_once_per_state_interval(self):
        # Nothing changing but samples: the file is rewritten on the
        # state_interval (2 s), not every 200 ms as a "save soon" that
        # replaced the timer's period once made it.
        v = self.start(config(self.sim(), self.rcv, self.state_dir, state_interval="2s"))
        path = os.path.join(self.state_dir, "state.json")
        wait_for(lambda: v.rule("api_p95")["state"] == "ok" and os.path.exists(path), 10,
                 what="settled and saved")
        time.sleep(2.5)          # a sleep: past the start's transitions (clock-based)
        seen, t0 = set(), time.monotonic()
        while time.monotonic() - t0 < 6.0:
            seen.add(os.stat(path).st_mtime_ns)
            time.sleep(0.02)     # a sleep: samples the mtime over a 6 s clock window
        # 6 s at one write per 2 s: three writes, and the mtime seen first.
        self.assertLessEqual(len(seen), 4, f"{len(seen)} distinct mtimes in 6 s")
        self.assertGreaterEqual(len(seen), 2, "the state_interval still writes")

    def test_damaged_state_files_are_moved_aside(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir)
        path = os.path.join(self.state_dir, "state.json")
        cases = [("truncated", '{"version":1,"rules":{"api_p95":{"canon":"ab'),
                 ("garbage", "\x00\x01binary garbage\xff"),
                 ("wrong version", '{"version": 99}')]
        for i, (what, text) in enumerate(cases):
            with open(path, "w", errors="surrogateescape") as f:
                f.write(text)
            v = self.start(cfg, name=f"v{i}")
            wait_for(lambda: v.probe("app_advanced")["runs"] >= 2, 10, what=f"{what}: polling")
            log = v.log_text()
            self.assertIn("event=state_file_unusable", log, what)
            self.assertIn("starting fresh", log, what)
            self.assertEqual(v.get("/health")[0], 200, what)
            self.vigilds.remove(v)
            self.assertEqual(v.stop(), 0, what)
        aside = glob.glob(path + ".corrupt-*")
        self.assertGreaterEqual(len(aside), 1)
        # The last clean stop left a good file behind.
        self.assertEqual(self.saved()["version"], 2)

    def test_read_only_state_dir_keeps_polling(self):
        sim = self.sim()
        cfg = config(sim, self.rcv, self.state_dir)
        if os.geteuid() == 0:
            # Root ignores permission bits: a read-only bind mount in a
            # private mount namespace is the honest way to say "read-only".
            wrap = ["unshare", "-m", "sh", "-c",
                    f"mount --bind {self.state_dir} {self.state_dir} && "
                    f"mount -o remount,bind,ro {self.state_dir} && exec \"$0\" \"$@\""]
        else:
            os.chmod(self.state_dir, 0o555)
            self.addCleanup(os.chmod, self.state_dir, 0o755)
            wrap = []
        v = Vigild(self.workdir, cfg, wrap=wrap)
        self.vigilds.append(v)
        wait_for(lambda: "event=state_save_failed" in v.log_text(), 10, what="save failure logged")
        self.assertRegex(v.log_text(), r"error=\"create: (Read-only file system|Permission denied)\"")
        runs = v.probe("app_advanced")["runs"]
        wait_for(lambda: v.probe("app_advanced")["runs"] >= runs + 5, 10, what="still polling")
        failures = v.status()["state_file"]["failures"]
        wait_until(lambda: v.status()["state_file"]["failures"] >= failures + 2, 10,
                   "two more failed saves")
        # One line per kind of failure, not one per attempt.
        self.assertEqual(v.log_text().count("event=state_save_failed"), 1)
        self.assertEqual(v.get("/health")[0], 200)


class NoSecretSaved(E2E):
    """The state file holds samples, alerts and silences, never a secret: not
    the database password, not the Sentry token, not the API token (#4, #5)."""

    def test_no_secret_reaches_the_state_file(self):
        import pg
        cluster = pg.Cluster(max_connections=20)
        self.addCleanup(cluster.destroy)
        sentry_token = "sntrys_state-7c1e9a-never-saved"
        sim_token = os.path.join(self.workdir, "sim-token")
        write_secret(sim_token, sentry_token + "\n")
        sim = self.sim(args=["--rps", "2000", "--sentry-token-file", sim_token])
        api_token = os.path.join(self.workdir, "api-token")
        write_secret(api_token, TOKEN + "\n")
        state_dir = os.path.join(self.workdir, "state")
        os.mkdir(state_dir)
        v = self.vigild({
            "api": {"token_file": api_token},
            "probes": [
                {"name": "db", "type": "postgres", "interval": FAST, "timeout": "3s",
                 "conninfo": cluster.conninfo(), "password_file":
                 cluster.password_file(self.workdir)},
                {"name": "sentry", "type": "sentry", "base_url": sim.url("/api/0/"),
                 "organization": "acme", "project": "portal", "token_file": sim_token,
                 "interval": FAST, "timeout": "3s", "resolution": "10s"},
            ],
            "state_dir": state_dir, "state_interval": "1s"})
        wait_for(lambda: all((v.probe(n).get("last_run") or {}).get("result") == "up"
                             for n in ("db", "sentry")), 15, what="both probes up")
        # A silence too (its author and comment are saved; the token is not).
        req = urllib.request.Request(v.base + "/silences", method="POST", data=json.dumps(
            {"rule": "db_down", "author": "ana", "comment": "maintenance", "duration": "1h"})
            .encode(), headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            self.assertEqual(r.status, 201)
        self.assertEqual(v.stop(), 0)
        with open(os.path.join(state_dir, "state.json")) as f:
            text = f.read()
        state = json.loads(text)
        # What it should hold is there: both probes' samples and the silence.
        self.assertIn("db.up", json.dumps(state))
        self.assertIn("sentry.up", json.dumps(state))
        self.assertIn("maintenance", text)
        for secret in (pg.VIGIL_PASSWORD, sentry_token, TOKEN):
            self.assertNotIn(secret, text)
