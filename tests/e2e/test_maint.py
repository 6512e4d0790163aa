"""Maintenance windows end to end: a window declared in the configuration,
and one made through the API, over a failing probe. The rule fires but the
webhook hears nothing while the window lasts; /health stays pass with the
window in its notes (UptimeRobot must not be paged through planned
maintenance); /status lists the window; once it ends the notification goes
out, the rule still firing. Recurring windows in a time zone, the API's
windows across a restart, and the configuration's mistakes said with their
line and column."""
import datetime
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from zoneinfo import ZoneInfo

from harness import BUILD, ROOT, VIGILD, E2E, SLOW, http, http_probe, wait_until, WebhookReceiver, write_secret

FAST = "300ms"
TOKEN = "maint-token-5c1e07aa93"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def config(sim, rcv, **extra):
    cfg = {
        "probes": [http_probe("app_health", sim.url("/api/health"), interval=FAST,
                              timeout="2s", expect={"json": {"/status": "ok"}})],
        "rules": [],
        "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                       "repeat_interval": "0s"}],
    }
    cfg.update(extra)
    return cfg


class MaintCase(E2E):
    def setUp(self):
        super().setUp()
        self.rcv = WebhookReceiver()
        self.addCleanup(self.rcv.stop)
        self.token = write_secret(os.path.join(self.workdir, "api.token"), TOKEN + "\n")

    def call(self, v, method, path, body=None, token=TOKEN):
        h = {"Authorization": f"Bearer {token}"} if token else {}
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(v.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def health(self, v):
        s, _, b = http("GET", v.base + "/health")
        return s, json.loads(b)

    def firing(self, v):
        return v.rule("app_health_down")["state"] == "firing"

    def assert_held(self, v, name):
        """Firing, silenced by window name, nothing told, /health pass."""
        wait_until(lambda: self.firing(v), 10, "app_health_down to fire")
        r = v.rule("app_health_down")
        self.assertEqual(r["silenced_by_maintenance"]["name"], name, r)
        status, doc = self.health(v)
        self.assertEqual((status, doc["status"]), (200, "pass"), doc)
        self.assertTrue(doc["notes"][0].startswith(f"maintenance {name} until "), doc)
        self.assertTrue(any(n.startswith("app_health_down: critical, in maintenance "
                                         f"{name} until") for n in doc["notes"]), doc)
        self.assertNotIn('"fail"', json.dumps(doc))
        alerts = json.loads(v.get("/alerts")[2])
        self.assertEqual([w["name"] for w in alerts["maintenance"]], [name])
        self.assertEqual(alerts["counts"]["silenced"], 1)
        st = v.status()
        self.assertEqual([w["name"] for w in st["maintenance"]["active"]], [name])
        self.assertIn(f'vigil_maintenance_active{{window="{name}"}} 1\n', v.metrics())
        r = subprocess.run([os.path.join(BUILD, "vigilctl"), "--url", v.base, "--no-color",
                            "status"], capture_output=True, text=True, timeout=30 * SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)    # pass, as /health
        self.assertIn(f"in maintenance {name} until ", r.stdout)
        # Held for a while: a sleep, since what is proved is that nothing comes.
        time.sleep(1.5)
        self.assertEqual(self.rcv.bodies(), [])

    def assert_told_after(self, v, end):
        bodies = wait_until(lambda: self.rcv.bodies(), max(end - time.time(), 0) + 10,
                            "the notification after the window")
        self.assertGreaterEqual(time.time(), end - 0.5)
        self.assertEqual([(b["rule"], b["kind"]) for b in bodies],
                         [("app_health_down", "firing")], bodies)
        status, doc = wait_until(lambda: (lambda h: h if h[0] == 503 else None)(self.health(v)),
                                 5, "/health to fail once the window is over")
        self.assertEqual(doc["status"], "fail")
        self.assertEqual(v.status()["maintenance"]["active"], [])
        self.assertNotIn("vigil_maintenance_active{", v.metrics())


class FromConfig(MaintCase):
    def test_config_window_holds_then_tells(self):
        sim = self.sim()
        sim.scenario("down")
        # Long enough to see it hold, under sanitizers and valgrind too.
        end = int(time.time()) + 8 * SLOW
        v = self.vigild(config(sim, self.rcv, maintenance=[
            {"name": "db_upgrade", "all": True, "start": iso(time.time() - 60),
             "end": iso(end), "comment": "CHG-42"}]))
        self.assert_held(v, "db_upgrade")
        _, doc = self.health(v)
        self.assertIn(f"maintenance db_upgrade until {iso(end)[:10]} {iso(end)[11:16]}Z: CHG-42",
                      doc["notes"])
        self.assert_told_after(v, end)

    def test_rules_not_covered_still_page(self):
        sim = self.sim()
        sim.scenario("down")
        v = self.vigild(config(sim, self.rcv, maintenance=[
            {"name": "other", "rules": ["nothing_here"], "start": iso(time.time() - 60),
             "end": iso(time.time() + 600)}],
            rules=[{"name": "nothing_here", "metric": "app_health.duration_ms", "op": ">",
                    "warn": 1e9}]))
        bodies = wait_until(lambda: self.rcv.bodies(), 10, "the page")
        self.assertEqual(bodies[0]["rule"], "app_health_down")
        self.assertEqual(self.health(v)[0], 503)

    def test_reload_adds_then_drops_a_window(self):
        sim = self.sim()
        cfg = config(sim, self.rcv)
        v = self.vigild(cfg)
        wait_until(lambda: v.rule("app_health_down")["state"] == "ok", 10, "ok")
        v.write_config(dict(cfg, maintenance=[
            {"name": "upgrade", "all": True, "start": iso(time.time() - 60),
             "end": iso(time.time() + 600)}]))
        v.signal(signal.SIGHUP)
        wait_until(lambda: v.status()["maintenance"]["active"], 10, "the window after a reload")
        sim.scenario("down")
        self.assert_held(v, "upgrade")
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        bodies = wait_until(lambda: self.rcv.bodies(), 10, "the page once the window is gone")
        self.assertEqual([(b["rule"], b["kind"]) for b in bodies],
                         [("app_health_down", "firing")])
        self.assertEqual(v.status()["maintenance"], {"active": [], "next": []})

    def test_weekly_window_in_a_time_zone(self):
        """Every day at this minute, Berlin time: active now, next tomorrow."""
        sim = self.sim()
        sim.scenario("down")
        now = datetime.datetime.now(ZoneInfo("Europe/Berlin"))
        at = now.replace(second=0, microsecond=0)
        v = self.vigild(config(sim, self.rcv, maintenance=[
            {"name": "offpeak", "rules": ["app_health_down"], "days": ["*"],
             "at": at.strftime("%H:%M"), "duration": "1h", "timezone": "Europe/Berlin"}]))
        st = v.status()
        w = st["maintenance"]["active"][0]
        start = at.astimezone(datetime.timezone.utc)
        self.assertEqual((w["name"], w["kind"], w["timezone"], w["at"]),
                         ("offpeak", "weekly", "Europe/Berlin", at.strftime("%H:%M")))
        self.assertEqual(w["started_at"], start.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        nxt = (at + datetime.timedelta(days=1)).astimezone(datetime.timezone.utc)
        self.assertEqual(w["next_start"], nxt.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        self.assertEqual(st["maintenance"]["next"][0]["name"], "offpeak")
        self.assert_held(v, "offpeak")


class FromApi(MaintCase):
    def test_api_window_holds_then_tells(self):
        sim = self.sim()
        v = self.vigild(config(sim, self.rcv, api={"token_file": self.token}))
        wait_until(lambda: v.rule("app_health_down")["state"] == "ok", 10, "ok")
        body = {"name": "hotfix", "all": True, "duration": f"{8 * SLOW}s", "author": "ana",
                "comment": "INC-7 hotfix"}
        self.assertEqual(self.call(v, "POST", "/maintenance", body, token=None)[0], 401)
        status, doc = self.call(v, "POST", "/maintenance", body)
        end = time.time() + 8 * SLOW
        self.assertEqual(status, 201, doc)
        self.assertIn("app_health_down", doc["maintenance"]["matches"])
        self.assertTrue(doc["maintenance"]["active"])
        wid = doc["id"]
        # The same name twice is refused.
        self.assertEqual(self.call(v, "POST", "/maintenance", body)[0], 409)
        sim.scenario("down")
        self.assert_held(v, "hotfix")
        status, one = self.call(v, "GET", f"/maintenance/{wid}", token=None)
        self.assertEqual((status, one["name"], one["author"]), (200, "hotfix", "ana"))
        self.assert_told_after(v, end)
        # Ended: gone from the list.
        self.assertEqual(self.call(v, "GET", "/maintenance")[1], {"maintenance": []})

    def test_end_early_and_mistakes(self):
        sim = self.sim()
        v = self.vigild(config(sim, self.rcv, api={"token_file": self.token}))
        status, doc = self.call(v, "POST", "/maintenance", {
            "name": "nightly", "rules": ["app_health_down"], "cron": "0 2 * * *",
            "duration": "30m", "timezone": "America/New_York", "author": "bo",
            "comment": "backups"})
        self.assertEqual(status, 201, doc)
        self.assertEqual(doc["maintenance"]["kind"], "cron")
        for bad, why in [
                ({"name": "x", "all": True, "cron": "0 24 * * *", "duration": "1h",
                  "author": "a", "comment": "c"}, "out of range"),
                ({"name": "x", "all": True, "days": ["sun"], "at": "02:00", "duration": "1h",
                  "timezone": "Mars/Base", "author": "a", "comment": "c"},
                 "unknown time zone"),
                ({"name": "x", "all": True, "start": "2030-01-02T00:00:00Z",
                  "end": "2030-01-01T00:00:00Z", "author": "a", "comment": "c"},
                 "after \"start\""),
                ({"name": "x", "rules": ["nope"], "duration": "1h", "author": "a",
                  "comment": "c"}, "no rule named \"nope\""),
                ({"name": "x", "all": True, "duration": "1h"}, "author and a comment")]:
            status, err = self.call(v, "POST", "/maintenance", bad)
            self.assertEqual(status, 400, (bad, err))
            self.assertIn(why, err["error"], bad)
        self.assertEqual(self.call(v, "DELETE", f"/maintenance/{doc['id']}", token=None)[0],
                         401)
        self.assertEqual(self.call(v, "DELETE", f"/maintenance/{doc['id']}")[0], 204)
        self.assertEqual(self.call(v, "DELETE", f"/maintenance/{doc['id']}")[0], 404)
        self.assertEqual(self.call(v, "GET", "/maintenance")[1], {"maintenance": []})

    def test_api_windows_survive_a_restart(self):
        sim = self.sim()
        state = os.path.join(self.workdir, "state")
        os.mkdir(state)
        cfg = config(sim, self.rcv, api={"token_file": self.token}, state_dir=state,
                     state_interval="1s",
                     maintenance=[{"name": "offpeak", "all": True, "days": ["sun"],
                                   "at": "02:00", "duration": "2h"}])
        v = self.vigild(cfg)
        status, doc = self.call(v, "POST", "/maintenance", {
            "name": "weekly_backup", "labels": {"team": "db"}, "days": ["sat", "sun"],
            "at": "03:30", "duration": "90m", "timezone": "Europe/Berlin",
            "author": "bo", "comment": "backups"})
        self.assertEqual(status, 201, doc)
        wait_until(lambda: "weekly_backup" in open(os.path.join(state, "state.json")).read(),
                   5, "the window in the state file")
        before = self.call(v, "GET", "/maintenance")[1]["maintenance"]
        v.signal(signal.SIGKILL)
        v.proc.wait(10)
        self.vigilds.remove(v)
        v.log.close()
        v = self.vigild(cfg, name="again")
        after = self.call(v, "GET", "/maintenance")[1]["maintenance"]
        self.assertEqual([(w["name"], w["source"]) for w in after],
                         [("offpeak", "configuration"), ("weekly_backup", "api")])
        self.assertEqual(after, before)
        self.assertEqual(after[1]["days"], ["sun", "sat"])
        self.assertEqual(after[1]["at"], "03:30")


class Vigilctl(MaintCase):
    def ctl(self, v, *args):
        r = subprocess.run([os.path.join(BUILD, "vigilctl"), "--url", v.base, "--no-color",
                            *args], capture_output=True, text=True, timeout=30 * SLOW,
                           env=dict(os.environ, USER="ana"))
        return r.returncode, r.stdout, r.stderr

    def test_add_list_end(self):
        sim = self.sim()
        v = self.vigild(config(sim, self.rcv, api={"token_file": self.token}, maintenance=[
            {"name": "offpeak", "all": True, "days": ["sun"], "at": "02:00",
             "duration": "2h", "comment": "weekly off-peak"}]))
        tok = ("--token-file", self.token)
        rc, out, err = self.ctl(v, "maintenance", "add", "--name", "backups", "--rule",
                                "app_health_down", "--days", "sat,sun", "--at", "03:30",
                                "--for", "90m", "--timezone", "Europe/Berlin",
                                "--comment", "weekly backups", *tok)
        self.assertEqual(rc, 0, err)
        self.assertIn("maintenance window backups added", out)
        self.assertIn("sun,sat 03:30 for 1h30m (Europe/Berlin)", out)
        self.assertIn("covers now: app_health_down", out)
        rc, out, err = self.ctl(v, "maintenance", "add", "--name", "hotfix", "--all",
                                "--for", "10m", "--comment", "INC-9", *tok)
        self.assertEqual(rc, 0, err)
        self.assertIn("ACTIVE", out)
        rc, out, err = self.ctl(v, "maintenance", "add", "--name", "nightly", "--all",
                                "--cron", "0 2 * * *", "--for", "30m", "--comment", "x",
                                "--json", *tok)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["maintenance"]["author"], "ana")
        # Mistakes: usage (64), refused by vigild (4).
        self.assertEqual(self.ctl(v, "maintenance", "add", "--name", "x", "--all",
                                  "--comment", "c", *tok)[0], 64)
        rc, _, err = self.ctl(v, "maintenance", "add", "--name", "x", "--all", "--cron",
                              "61 * * * *", "--for", "1h", "--comment", "c", *tok)
        self.assertEqual(rc, 4)
        self.assertIn("out of range", err)
        rc, out, _ = self.ctl(v, "maintenance", "list")
        self.assertEqual(rc, 0)
        self.assertEqual([l.split()[0] for l in out.splitlines() if not l.startswith(" ")],
                         ["offpeak", "backups", "hotfix", "nightly"])
        self.assertIn("weekly off-peak (configuration)", out)
        names = [w["name"] for w in json.loads(self.ctl(v, "maintenance", "list", "--json")[1])
                 ["maintenance"]]
        self.assertEqual(names, ["offpeak", "backups", "hotfix", "nightly"])
        rc, out, _ = self.ctl(v, "status")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"\nMaintenance\n  ACTIVE  hotfix until \S+Z: INC-9\n")
        self.assertIn("  next    offpeak from ", out)
        self.assertEqual(self.ctl(v, "maintenance", "end", "hotfix", *tok)[0], 0)
        self.assertEqual(self.ctl(v, "maintenance", "end", "hotfix", *tok)[0], 4)
        rc, _, err = self.ctl(v, "maintenance", "end", "offpeak", *tok)
        self.assertEqual(rc, 4)
        self.assertIn("in the configuration", err)
        self.assertEqual(self.ctl(v, "maintenance", "end", "backups")[0], 4)   # no token


class ConfigErrors(E2E):
    def check(self, windows):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write('{"probes": [{"name": "app", "type": "http",\n'
                    '  "url": "http://127.0.0.1:1/"}],\n'
                    ' "maintenance": [\n' + windows + "]}\n")
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        return r.stderr

    def test_mistakes_at_their_line(self):
        err = self.check('  {"name": "a", "all": true,\n'
                         '   "cron": "0 2 * * 8", "duration": "1h"},\n'
                         '  {"name": "b", "all": true, "days": ["sun"], "at": "02:00",\n'
                         '   "duration": "1h", "timezone": "Europe/Nowhere"},\n'
                         '  {"name": "c", "all": true, "start": "2026-12-24T22:00:00Z",\n'
                         '   "end": "2026-12-24T20:00:00Z"}\n')
        self.assertIn('bad.json:5:12: maintenance window: "cron": a value out of range '
                      'at column 9 of "0 2 * * 8"', err)
        self.assertIn('bad.json:7:34: maintenance window: "Europe/Nowhere": unknown time zone',
                      err)
        self.assertIn('bad.json:9:11: maintenance window: "end" must be after "start"', err)

    def test_shipped_example_loads_uncommented(self):
        """etc/vigil.json's commented window, uncommented, is a valid one."""
        text = open(os.path.join(ROOT, "etc/vigil.json")).read()
        i = text.index('  // ,"maintenance": [')
        j = text.index("  // ]", i) + len("  // ]")
        live = text[:i] + re.sub(r"^  // ?", "  ", text[i:j], flags=re.M) + text[j:]
        path = os.path.join(self.workdir, "vigil.json")
        with open(path, "w") as f:
            f.write(live)
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertIn('"maintenance": [', live)
