"""The heartbeat probe (issue #22, a dead man's switch): jobs POST
/heartbeat/NAME with their own token at least every period + grace; vigild
says down when one is late or said it failed, and refuses a stranger's
beat without recording anything."""
import json
import os
import socket
import subprocess
import time
import urllib.request

from harness import BUILD, E2E, SLOW, wait_for, write_secret

VIGILCTL = os.path.join(BUILD, "vigilctl")
TOKEN = "beat-token-3f9a1c77e2"


def beat(v, name, token=TOKEN, query="", body=None, headers=None):
    """(status, body) of a POST /heartbeat/NAME."""
    req = urllib.request.Request(f"{v.base}/heartbeat/{name}{query}", data=body or b"",
                                 method="POST")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    for k, val in (headers or {}).items():
        req.add_header(k, val)
    try:
        with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Heartbeat(E2E):
    def setUp(self):
        super().setUp()
        self.tokf = write_secret(os.path.join(self.workdir, "backup.token"), TOKEN + "\n")
        self.v = self.vigild({"probes": [
            {"name": "backup", "type": "heartbeat", "period": "2s", "grace": "1s",
             "token_file": self.tokf, "interval": "200ms"},
            # Never beats: down after period + grace from start.
            {"name": "silent", "type": "heartbeat", "period": "1s", "grace": "500ms",
             "token_file": self.tokf, "interval": "200ms"},
        ]})

    def last_run(self, name):
        return self.v.probe(name)["last_run"] or {}

    def test_on_time_late_and_failed(self):
        self.assertEqual(beat(self.v, "backup", query="?duration=12.5")[0], 200)
        run = wait_for(lambda: (lambda r: r if r.get("metrics", {}).get("job_duration_s")
                                else None)(self.last_run("backup")), 5 * SLOW,
                       what="a run that saw the beat")
        self.assertEqual(self.v.probe("backup")["state"], "up")
        self.assertEqual(run["metrics"]["job_duration_s"], 12.5)
        self.assertLess(run["metrics"]["last_beat_age_s"], 3)
        self.assertIn('{probe="backup",metric="last_beat_age"}', self.v.metrics())

        # Late: no beat for more than period + grace.
        run = wait_for(lambda: (lambda r: r if r.get("reason") else None)(
            self.last_run("backup")), 10 * SLOW, what="late")
        self.assertRegex(run["reason"], r"^last heartbeat \d+s ago \(expected every 2s\)$")
        self.assertEqual(self.v.probe("backup")["state"], "down")

        # A failed job: down with its message, quoted.
        self.assertEqual(beat(self.v, "backup", query="?status=fail&msg=disk%20full")[0], 200)
        wait_for(lambda: self.last_run("backup").get("reason") ==
                 'job reported failure: "disk full"', 5 * SLOW, what="failure reported")
        # And back up with an ok beat, the message in the body this time.
        self.assertEqual(beat(self.v, "backup", body=b"all fine")[0], 200)
        wait_for(lambda: self.v.probe("backup")["state"] == "up", 5 * SLOW, what="up again")

    def test_never_beating(self):
        run = wait_for(lambda: (lambda r: r if r.get("reason") else None)(
            self.last_run("silent")), 10 * SLOW, what="silent goes down")
        self.assertRegex(run["reason"], r"^no heartbeat since vigild started \d+s ago$")

    def test_refused(self):
        st, body = beat(self.v, "backup", token="wrong-token")
        self.assertEqual(st, 401, body)
        st, body = beat(self.v, "backup", token=None)
        self.assertEqual(st, 401, body)
        self.assertEqual(beat(self.v, "nosuch")[0], 404)
        self.assertEqual(beat(self.v, "backup", query="?status=maybe")[0], 400)
        self.assertEqual(beat(self.v, "backup", query="?duration=-1")[0], 400)
        self.assertEqual(beat(self.v, "backup", query="?duration=nan")[0], 400)
        # Nothing recorded: the runs see no beat at all.
        time.sleep(0.6 * SLOW)
        self.assertNotIn("last_beat_age_s", self.last_run("backup").get("metrics", {}))
        self.v.metrics_showing("\nvigil_http_auth_failures_total 2\n")
        self.assertIn("event=auth_rejected reason=wrong_token route=heartbeat",
                      self.v.log_text())
        # After a good beat, a stranger's "fail" changes nothing either.
        self.assertEqual(beat(self.v, "backup", query="?duration=1")[0], 200)
        wait_for(lambda: self.last_run("backup").get("metrics", {}).get("job_duration_s") == 1,
                 5 * SLOW, what="the good beat seen")
        self.assertEqual(beat(self.v, "backup", token="x" * 5000,
                              query="?status=fail&duration=9")[0], 401)
        time.sleep(0.6 * SLOW)  # three runs (200 ms apart) judge it
        run = self.last_run("backup")
        self.assertEqual((self.v.probe("backup")["state"], run["metrics"]["job_duration_s"]),
                         ("up", 1))
        self.assertNotIn(TOKEN, self.v.log_text())

    def test_hostile_body(self):
        # Too large: refused on its announced length, before it is read
        # (sending it whole races the answer and the close: a broken pipe).
        with socket.create_connection(("127.0.0.1", self.v.port), timeout=5 * SLOW) as s:
            s.sendall(f"POST /heartbeat/backup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {TOKEN}\r\n"
                      f"Content-Length: {1 << 30}\r\n\r\n".encode())
            self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 413"))
        self.assertNotIn("last_beat_age_s", self.last_run("backup").get("metrics", {}))
        # Not UTF-8, control characters, quotes: kept short and inert.
        evil = b"\xff\xfe\x1b[31m\"quoted\" \\ " + "é".encode() * 400
        self.assertEqual(beat(self.v, "backup", query="?status=fail", body=evil)[0], 200)
        run = wait_for(lambda: (lambda r: r if r.get("reason", "").startswith("job reported")
                                else None)(self.last_run("backup")), 5 * SLOW,
                       what="failure with the hostile message")
        reason = run["reason"]
        self.assertNotIn("\x1b", reason)
        self.assertNotIn("\ufffd", reason)
        # Escaped at the API ("\xff"), its backslash escaped by the quoting.
        self.assertTrue(reason.startswith(r'job reported failure: "\\xff\\xfe\\x1b[31m'), reason)
        self.assertIn('\\"quoted\\"', reason)
        self.assertLess(len(reason.encode()), 256)
        self.assertTrue(self.v.alive())

    def ctl(self, *args, env=None):
        e = {k: val for k, val in os.environ.items() if k not in ("VIGIL_URL", "VIGIL_TOKEN_FILE")}
        e.update(env or {})
        r = subprocess.run([VIGILCTL, "--url", self.v.base, *args], capture_output=True,
                           text=True, env=e, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def test_vigilctl_beat(self):
        rc, out, err = self.ctl("--token-file", self.tokf, "beat", "backup", "--duration", "3.5")
        self.assertEqual((rc, out), (0, "heartbeat backup recorded\n"), err)
        wait_for(lambda: self.last_run("backup").get("metrics", {}).get("job_duration_s") == 3.5,
                 5 * SLOW, what="the beat seen")
        rc, out, err = self.ctl("beat", "backup", "--fail", "--msg", "rsync exited 23",
                                env={"VIGIL_TOKEN_FILE": self.tokf})
        self.assertEqual(rc, 0, err)
        wait_for(lambda: self.last_run("backup").get("reason") ==
                 'job reported failure: "rsync exited 23"', 5 * SLOW, what="failure via vigilctl")
        bad = write_secret(os.path.join(self.workdir, "bad.token"), "nope\n")
        rc, out, err = self.ctl("--token-file", bad, "beat", "backup")
        self.assertEqual(rc, 4)
        self.assertIn("HTTP 401", err)
        rc, out, err = self.ctl("--token-file", self.tokf, "beat", "nosuch")
        self.assertEqual(rc, 4)
        self.assertIn("HTTP 404", err)
        rc, out, err = self.ctl("--token-file", self.tokf, "beat", "backup", "--duration", "x")
        self.assertEqual(rc, 64)
        rc, out, err = self.ctl("beat", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("beat NAME", out)

    def test_config_errors(self):
        cfg = os.path.join(self.workdir, "bad.json")
        with open(cfg, "w") as f:
            json.dump({"probes": [{"name": "b", "type": "heartbeat", "token_file": self.tokf,
                                   "perod": "1h"}]}, f)
        r = subprocess.run([os.path.join(BUILD, "vigild"), "--check-config", cfg],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("period", r.stderr)


class Restart(E2E):
    """Beats are in the state file: a restart keeps how late a job is."""

    def test_beat_survives_restart(self):
        tokf = write_secret(os.path.join(self.workdir, "backup.token"), TOKEN + "\n")
        state = os.path.join(self.workdir, "state")
        os.mkdir(state)
        cfg = {"state_dir": state, "probes": [
            {"name": "backup", "type": "heartbeat", "period": "1h", "grace": "10m",
             "token_file": tokf, "interval": "200ms"}]}
        v = self.vigild(cfg)
        self.assertEqual(beat(v, "backup", query="?status=fail&msg=tape%20jammed&duration=7")[0],
                         200)
        wait_for(lambda: (v.probe("backup")["last_run"] or {}).get("reason") ==
                 'job reported failure: "tape jammed"', 5 * SLOW, what="failure seen")
        self.assertEqual(v.stop(), 0, v.log_text()[-2000:])
        with open(os.path.join(state, "state.json")) as f:
            saved = json.load(f)["heartbeats"]["backup"]
        self.assertEqual((saved["failed"], saved["msg"], saved["duration_s"]),
                         (True, "tape jammed", 7))
        self.vigilds.remove(v)
        v2 = self.vigild(cfg, name="vigild2")
        run = wait_for(lambda: (v2.probe("backup")["last_run"] or {}).get("reason"), 5 * SLOW,
                       what="a run after the restart")
        self.assertEqual(run, 'job reported failure: "tape jammed"')
        self.assertEqual(v2.probe("backup")["last_run"]["metrics"]["job_duration_s"], 7)
