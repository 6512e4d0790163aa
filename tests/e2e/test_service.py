"""vigild as a systemd service, without systemd: the test is the manager.

It binds the notification socket (a Unix datagram socket, as systemd does)
and hands it over in NOTIFY_SOCKET, with WATCHDOG_USEC for the watchdog,
then checks what vigild says and when: READY=1 only once /health answers,
STATUS= on changes and not on every run, RELOADING=1/READY=1 around reloads
(also rejected ones), STOPPING=1, and watchdog pings that stop while the
process is stalled (SIGSTOP) and resume after (SIGCONT). Logging: syslog
priority prefixes exactly when stderr is the journal stream, --log-level,
one line per event, and no secret in any log line or answer.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time

from harness import E2E, SLOW, TIMING, VIGILD, free_port, http_probe, wait_for, wait_until


class NotifySocket:
    """The manager's end: every datagram received, with its arrival time."""

    def __init__(self, address):
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(0.02)
        self.messages = []  # (monotonic time, text)

    def poll(self, duration=0.0):
        """Reads whatever arrives within duration seconds (at least once)."""
        end = time.monotonic() + duration
        while True:
            try:
                data = self.sock.recv(8192)
                self.messages.append((time.monotonic(), data.decode()))
                continue
            except socket.timeout:
                pass
            if time.monotonic() >= end:
                return

    def wait(self, pred, timeout, what):
        """Polls until some message since the call satisfies pred; returns it.
        The deadline is scaled by SLOW (wait_until)."""
        start = len(self.messages)

        def found():
            self.poll()          # blocks 20 ms when nothing comes: no busy loop
            return next((m for _, m in self.messages[start:] if pred(m)), None)
        try:
            return wait_until(found, timeout, what, interval=0)
        except AssertionError as e:
            raise AssertionError(f"{e}; got {self.texts(start)}") from None

    def texts(self, since=0, pings=False):
        return [m for _, m in self.messages[since:] if pings or m != "WATCHDOG=1"]

    def pings(self, t0, t1):
        return sum(1 for t, m in self.messages if m == "WATCHDOG=1" and t0 <= t < t1)

    def close(self):
        self.sock.close()
        if not self.address.startswith("@"):
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass


def fields(msg):
    """'A=1\\nB=x' -> {'A': '1', 'B': 'x'}"""
    return dict(line.split("=", 1) for line in msg.split("\n") if line)


def health_probe(sim, **kw):
    return http_probe("app_health", sim.url("/api/health"), interval="200ms",
                      expect={"status": [200], "json": {"/status": "ok"}}, **kw)


class Notify(E2E):
    def setUp(self):
        super().setUp()
        self.notify = NotifySocket(os.path.join(self.workdir, "notify.sock"))
        self.addCleanup(self.notify.close)

    def start(self, config, **env):
        env = {"NOTIFY_SOCKET": self.notify.address, **env}
        return self.vigild(config, check_ready=False, extra_env=env)

    def test_ready_only_when_serving_then_status_on_changes(self):
        sim = self.sim()
        v = self.start({"probes": [health_probe(sim)]})
        ready = self.notify.wait(lambda m: "READY=1" in m, 15, "READY=1")
        # READY=1 means bound: /health answers at once, without a retry.
        self.assertIn(v.get("/health")[0], (200, 503))
        self.assertRegex(fields(ready)["STATUS"], r"^1 probe, ")
        self.assertEqual(self.notify.texts()[0], ready, "READY=1 is the first message")

        self.notify.wait(lambda m: fields(m).get("STATUS") == "1 probe, 1 up", 5,
                         "STATUS=1 probe, 1 up")
        # Steady state: five runs a second, yet no STATUS= for each of them.
        n = len(self.notify.messages)
        self.notify.poll(2.5)
        self.assertLessEqual(len([m for m in self.notify.texts(n) if "STATUS=" in m]), 1,
                             self.notify.texts(n))

        sim.scenario("down")
        t = time.monotonic()
        self.notify.wait(lambda m: fields(m).get("STATUS") == "1 probe, 0 up, 1 down (app_health), "
                         "1 alert firing (app_health_down critical)",
                         5, "STATUS with the probe down")
        if TIMING:
            self.assertLess(time.monotonic() - t, 2.5 * SLOW)
        sim.scenario("healthy")
        self.notify.wait(lambda m: fields(m).get("STATUS") == "1 probe, 1 up", 5, "recovery")

    def test_reload_and_rejected_reload(self):
        sim = self.sim()
        cfg = {"probes": [health_probe(sim)]}
        v = self.start(cfg)
        self.notify.wait(lambda m: "READY=1" in m, 15, "READY=1")

        cfg["probes"][0]["interval"] = "300ms"
        v.write_config(cfg)
        n = len(self.notify.messages)
        v.signal(signal.SIGHUP)
        self.notify.wait(lambda m: "READY=1" in m, 5, "READY=1 after the reload")
        seq = self.notify.texts(n)
        first = fields(seq[0])
        self.assertEqual(first.get("RELOADING"), "1", seq)
        self.assertRegex(first.get("MONOTONIC_USEC", ""), r"^\d+$")
        self.assertEqual(fields(seq[1]).get("READY"), "1", seq)
        self.assertNotIn("rejected", seq[1])
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 5, what="reload")

        v.write_config('{"probes": [ {"name": "x", "type": "http", "url": 42} ]}')
        n = len(self.notify.messages)
        v.signal(signal.SIGHUP)
        ready = self.notify.wait(lambda m: "READY=1" in m, 5, "READY=1 after a rejected reload")
        seq = self.notify.texts(n)
        self.assertEqual(fields(seq[0]).get("RELOADING"), "1", seq)
        self.assertTrue(fields(ready)["STATUS"].startswith(
            "reload rejected, previous configuration running; 1 probe, "), ready)
        # Visible in /status (what failed, when) and /metrics too.
        lr = v.status()["vigild"]["config"]["last_reload"]
        self.assertEqual(lr["result"], "failed", lr)
        self.assertRegex(lr["errors"], r"^" + re.escape(v.config_path) + r":1:\d+: ", lr)
        self.assertIn("at", lr)
        self.assertIn("\nvigil_config_last_reload_successful 0\n",
                      v.metrics())
        # The rejection stays visible in later status updates...
        sim.scenario("down")
        st = self.notify.wait(lambda m: "down (app_health)" in m, 5, "status update")
        self.assertIn("reload rejected", st)
        # ...until a reload succeeds.
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        ready = self.notify.wait(lambda m: "READY=1" in m, 5, "READY=1 after a good reload")
        self.assertNotIn("rejected", ready)
        lr = v.status()["vigild"]["config"]["last_reload"]
        self.assertEqual(lr["result"], "ok", lr)
        self.assertNotIn("errors", lr)
        self.assertIn("\nvigil_config_last_reload_successful 1\n",
                      v.metrics())

    def test_stopping_on_sigterm(self):
        sim = self.sim()
        v = self.start({"probes": [health_probe(sim)]})
        self.notify.wait(lambda m: "READY=1" in m, 15, "READY=1")
        self.vigilds.remove(v)
        n = len(self.notify.messages)
        self.assertEqual(v.stop(), 0, v.log_text())
        self.notify.poll(0.1)
        seq = self.notify.texts(n)
        self.assertEqual(seq, ["STOPPING=1\nSTATUS=stopping"])

    def test_watchdog_pings_stop_while_stalled(self):
        sim = self.sim()
        # A 400 ms watchdog: a ping every 200 ms.
        v = self.start({"probes": [health_probe(sim)]}, WATCHDOG_USEC="400000")
        self.notify.wait(lambda m: "READY=1" in m, 15, "READY=1")
        t0 = time.monotonic()
        self.notify.poll(2.0)
        running = self.notify.pings(t0, time.monotonic())
        self.assertGreaterEqual(running, 7)
        self.assertLessEqual(running, 12)

        # Stall the whole process, as a stuck loop would: no pings at all.
        v.signal(signal.SIGSTOP)
        try:
            self.notify.poll(0.3)  # what was already on its way
            t1 = time.monotonic()
            self.notify.poll(2.0)
            self.assertEqual(self.notify.pings(t1, time.monotonic()), 0)
        finally:
            v.signal(signal.SIGCONT)
        t2 = time.monotonic()
        self.notify.wait(lambda m: m == "WATCHDOG=1", 2, "pings after SIGCONT")
        if TIMING:
            self.assertLess(time.monotonic() - t2, 1.0 * SLOW)
        self.notify.poll(1.0)
        self.assertGreaterEqual(self.notify.pings(t2, time.monotonic()), 4)
        self.assertIn(v.get("/health")[0], (200, 503))

    def test_watchdog_meant_for_another_process_or_unset(self):
        sim = self.sim()
        # WATCHDOG_PID names the process the watchdog is for; 1 is not vigild.
        self.start({"probes": [health_probe(sim)]}, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
        self.notify.wait(lambda m: "READY=1" in m, 15, "READY=1")
        self.notify.poll(1.0)
        self.assertEqual(self.notify.pings(0, time.monotonic()), 0)

    def test_abstract_socket(self):
        sim = self.sim()
        abstract = NotifySocket(f"@vigil-e2e-{os.getpid()}-{free_port()}")
        self.addCleanup(abstract.close)
        self.vigild({"probes": [health_probe(sim)]}, check_ready=False,
                    extra_env={"NOTIFY_SOCKET": abstract.address, "WATCHDOG_USEC": "400000"})
        abstract.wait(lambda m: "READY=1" in m, 15, "READY=1 on an abstract socket")
        abstract.wait(lambda m: m == "WATCHDOG=1", 2, "a ping on an abstract socket")

    def test_bad_notify_socket_still_serves(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim)]},
                        extra_env={"NOTIFY_SOCKET": "relative/path"})
        self.assertIn(v.get("/health")[0], (200, 503))
        self.assertIn('event=notify_disabled notify_socket="relative/path"', v.log_text())


# Config errors keep the file:line:column form of --check-config.
PREFIX = re.compile(r"^<([3-7])>(event=|/)")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (err|warning|notice|info|debug) +event=")


class Logging(E2E):
    def lines(self, v):
        return [l for l in v.log_text().split("\n") if l]

    def test_journal_prefixes_one_line_per_event(self):
        sim = self.sim()
        cfg = {"probes": [health_probe(sim)]}
        v = self.vigild(cfg, journal=True)
        wait_for(lambda: "event=probe_up" in v.log_text(), 5, what="probe_up")
        sim.scenario("down")
        wait_for(lambda: "event=probe_down" in v.log_text(), 5, what="probe_down")
        # Several errors at once: still one prefixed line each.
        v.write_config('{"probes": [ {"name": "x", "type": "http", "url": 42, "intreval": 1} ]}')
        v.signal(signal.SIGHUP)
        wait_for(lambda: "event=reload_rejected" in v.log_text(), 5, what="rejection")
        lines = self.lines(v)
        for l in lines:
            self.assertRegex(l, PREFIX, "every line carries a priority and nothing else")
        levels = {l[1]: l for l in lines}
        self.assertTrue(any(l.startswith("<5>event=started ") for l in lines), lines)
        self.assertTrue(any(l.startswith("<4>event=probe_down probe=app_health ") for l in lines))
        self.assertTrue(any(l.startswith("<3>event=reload_rejected ") for l in lines))
        self.assertTrue(any(l.startswith("<3>") and '"url" must be a string' in l for l in lines))
        self.assertTrue(any(l.startswith("<3>") and 'unknown key "intreval"' in l for l in lines))
        self.assertIn("7", levels, "debug lines at --log-level debug")

    def test_plain_lines_elsewhere(self):
        sim = self.sim()
        # Unset, or naming a stream that is not our stderr (inherited by a
        # child whose stderr went elsewhere): timestamps, no prefixes.
        for env in ({}, {"JOURNAL_STREAM": "1:1"}):
            v = self.vigild({"probes": [health_probe(sim)]}, name=f"v{len(self.vigilds)}",
                            extra_env=env)
            wait_for(lambda: "event=probe_up" in v.log_text(), 5, what="probe_up")
            for l in self.lines(v):
                self.assertRegex(l, STAMP)
                self.assertNotRegex(l, r"^<\d>")

    def test_log_level(self):
        path = os.path.join(self.workdir, "warn.json")
        with open(path, "w") as f:
            json.dump({"api": {"listen": f"127.0.0.1:{free_port()}"},
                       "probes": [http_probe("gone", f"http://127.0.0.1:{free_port()}/",
                                             interval="200ms")]}, f)
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        log = os.path.join(self.workdir, "warn.log")
        with open(log, "w") as f:
            p = subprocess.Popen([VIGILD, "-c", path, "--log-level", "warning"],
                                 stderr=f, env=env)

        def logged():
            with open(log) as f:
                return f.read()
        try:
            # The first failed run: a warning; its debug lines are not logged.
            wait_until(lambda: "event=probe_down probe=gone" in logged(), 5, "probe_down")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20 * SLOW)
        err = logged()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("event=probe_down probe=gone", err)
        self.assertNotIn("event=started", err)   # notice
        self.assertNotIn("event=probe_run", err)  # debug

    def test_no_secrets_in_logs_or_answers(self):
        sim = self.sim()
        secret_pw, secret_tok = "pw-s3cr3t-1", "tok-s3cr3t-2"
        url = sim.url("/api/health").replace("http://", f"http://ops:{secret_pw}@")
        v = self.vigild({"probes": [http_probe("app_health", url, interval="200ms",
                                               headers={"Authorization": f"Bearer {secret_tok}"},
                                               expect={"json": {"/status": "ok"}})]},
                        journal=True)
        wait_for(lambda: "event=probe_up" in v.log_text(), 5, what="probe_up")
        sim.scenario("down")
        wait_for(lambda: "event=probe_down" in v.log_text(), 5, what="probe_down")
        v.signal(signal.SIGHUP)
        wait_for(lambda: "event=config_reloaded" in v.log_text(), 5, what="reload")
        answers = b"".join(v.get(p)[2] for p in ("/status", "/health", "/nope"))
        for secret in (secret_pw, secret_tok):
            self.assertNotIn(secret, v.log_text())
            self.assertNotIn(secret.encode(), answers)
        self.assertIn("ops:***@", v.status()["probes"][0]["target"])
