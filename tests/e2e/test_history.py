"""History: uptime after an outage the test controls is what the runs
say, to 0.1 %, in /status, /metrics and /history, and still after a
kill -9; /history's answers and its 400s; a history file of another
format version is moved aside at start, not fatal."""
import glob
import http.server
import json
import os
import signal
import threading
import time

from harness import E2E, http_probe, wait_for


class Target:
    """A loopback HTTP target whose answers the test sets: "ok" (200),
    "fail" (500), or "hang" (no answer until released). It counts the
    answers it gave, so the expected uptime is exact."""

    def __init__(self):
        self.mode = "ok"
        self.ok = self.failed = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    mode = outer.mode
                if mode == "hang":
                    outer.release.wait(120)
                    return
                code = 200 if mode == "ok" else 500
                body = b'{"ok": true}' if code == 200 else b'{"ok": false}'
                # Counted before it is sent: vigild never has a run the
                # counts lack.
                with outer.lock:
                    if code == 200:
                        outer.ok += 1
                    else:
                        outer.failed += 1
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, mode):
        with self.lock:
            self.mode = mode

    def counts(self):
        with self.lock:
            return self.ok, self.failed

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def config(target, state_dir):
    return {
        # Timeout far past the test: a hung run never ends as a failure.
        "probes": [http_probe("app", target.url, interval="200ms", timeout="120s",
                              fail_after=2, recover_after=1)],
        "state_dir": state_dir,
        "state_interval": "1s",
    }


class History(E2E):
    def setUp(self):
        super().setUp()
        self.target = Target()
        self.addCleanup(self.target.stop)
        self.state_dir = os.path.join(self.workdir, "state")
        os.mkdir(self.state_dir)

    def kill9(self, v):
        v.proc.send_signal(signal.SIGKILL)
        v.proc.wait(10)
        self.vigilds.remove(v)
        v.log.close()

    def history(self, v, query):
        s, _, b = v.get("/history?" + query)
        return s, json.loads(b)

    def outage(self, v):
        """ok, a failing spell that pages app_down, ok again, then hang:
        no run ends any more, so the counts hold still. Returns them."""
        wait_for(lambda: v.probe("app")["runs"] >= 10, 20, what="runs while ok")
        self.target.set("fail")
        wait_for(lambda: v.rule("app_down")["state"] == "firing", 20, what="app_down firing")
        wait_for(lambda: self.target.counts()[1] >= 10, 20, what="failed runs")
        self.target.set("ok")
        wait_for(lambda: v.rule("app_down")["state"] in ("resolved", "ok"), 20,
                 what="app_down resolved")
        wait_for(lambda: v.probe("app")["consecutive_successes"] >= 5, 20, what="ok again")
        self.target.set("hang")

        def settled():
            ok, failed = self.target.counts()
            st = v.probe("app")
            # Every answer the target gave is a run vigild ended, and the
            # run in flight is one that hangs.
            return st["runs"] == ok + failed and st["running"]
        wait_for(settled, 20, what="the last answered run recorded")
        ok, failed = self.target.counts()
        st = v.probe("app")
        self.assertEqual((st["runs"], st["failures"]), (ok + failed, failed))
        return ok, failed

    def assert_uptime(self, v, ok, failed):
        want = 100.0 * ok / (ok + failed)
        up = v.probe("app")["uptime_pct"]
        for window in ("24h", "7d", "30d", "90d"):
            self.assertAlmostEqual(up[window], want, delta=0.1, msg=window)
        text = v.metrics()
        line = [ln for ln in text.splitlines()
                if ln.startswith('vigil_probe_uptime_ratio{probe="app",window="24h"}')]
        self.assertEqual(len(line), 1, text[-2000:])
        self.assertAlmostEqual(float(line[0].split()[-1]), want / 100, delta=0.001)
        s, h = self.history(v, "probe=app")
        self.assertEqual(s, 200, h)
        pts = [p for p in h["points"] if p["data"]]
        self.assertEqual(sum(p["ok"] for p in pts), ok)
        self.assertEqual(sum(p["failed"] for p in pts), failed)
        self.assertAlmostEqual(h["uptime_pct"]["24h"], want, delta=0.1)
        return want

    def saved_after_now(self, v):
        """Two saves after this moment: the second was built after it."""
        w0 = v.status()["vigild"]["history"]["writes"]
        wait_for(lambda: v.status()["vigild"]["history"]["writes"] >= w0 + 2, 20,
                 what="the history saved")

    def test_uptime_after_outage_survives_kill9(self):
        v = self.vigild(config(self.target, self.state_dir))
        ok, failed = self.outage(v)
        self.assertGreaterEqual(failed, 10)
        want = self.assert_uptime(v, ok, failed)
        self.assertLess(want, 99.0)
        s, r = self.history(v, "rule=app_down")
        self.assertEqual(s, 200, r)
        self.assertEqual(len(r["incidents"]), 1, r["incidents"])
        inc = r["incidents"][0]
        self.assertEqual(inc["severity"], "critical")
        self.assertIsNotNone(inc["end"])
        self.assertTrue(any(p["worst"] == "firing" for p in r["points"]))
        self.saved_after_now(v)
        self.kill9(v)
        files = sorted(os.path.basename(p) for p in
                       glob.glob(os.path.join(self.state_dir, "history", "*")))
        self.assertIn("probe-app.hist", files)
        self.assertIn("rule-app_down.hist", files)
        self.assertIn("incidents.hist", files)

        # The target still hangs: the restarted vigild's first run never
        # ends, so what it shows is only what it read back.
        v2 = self.vigild(config(self.target, self.state_dir), name="vigild2")
        self.assertEqual(v2.probe("app")["runs"], 0)
        self.assert_uptime(v2, ok, failed)
        s, r = self.history(v2, "rule=app_down")
        self.assertEqual(len(r["incidents"]), 1)
        self.assertEqual(r["incidents"][0]["start"], inc["start"])
        self.assertEqual(r["incidents"][0]["end"], inc["end"])

    def test_incident_open_across_kill9(self):
        """Killed just after app_down fired, its incident saved or not:
        after the restart it has one incident, still open, from when it
        fired."""
        self.target.set("fail")
        v = self.vigild(config(self.target, self.state_dir))
        wait_for(lambda: v.rule("app_down")["state"] == "firing", 20, what="app_down firing")
        since = v.rule("app_down")["since"]
        self.kill9(v)
        v2 = self.vigild(config(self.target, self.state_dir), name="vigild2")
        wait_for(lambda: v2.rule("app_down")["state"] == "firing", 20, what="firing again")
        r = wait_for(lambda: (lambda r: r if r["incidents"] else None)(
            self.history(v2, "rule=app_down")[1]), 10, what="the incident")
        self.assertEqual(len(r["incidents"]), 1, r["incidents"])
        self.assertIsNone(r["incidents"][0]["end"])
        self.assertEqual(r["incidents"][0]["severity"], "critical")
        # From when it fired: before the kill, or again after it when
        # the kill came before even the rule's state was saved.
        self.assertGreaterEqual(r["incidents"][0]["start"], since)
        self.assertLessEqual(r["incidents"][0]["start"], v2.rule("app_down")["since"])
        self.target.set("ok")
        r = wait_for(lambda: (lambda r: r if r["incidents"][0]["end"] else None)(
            self.history(v2, "rule=app_down")[1]), 20, what="the incident resolved")
        self.assertEqual(len(r["incidents"]), 1)

    def test_history_answers_and_errors(self):
        v = self.vigild(config(self.target, self.state_dir))
        wait_for(lambda: v.probe("app")["runs"] >= 5, 20, what="runs")
        now = int(time.time())
        s, h = self.history(v, "probe=app")
        self.assertEqual(s, 200, h)
        self.assertEqual(h["probe"], "app")
        self.assertEqual(h["step_s"], 60)
        self.assertIn(len(h["points"]), (1440, 1441))
        last = [p for p in h["points"] if p["data"]][-1]
        self.assertGreater(last["ok"], 0)
        self.assertIsNotNone(last["avg_ms"])
        self.assertLessEqual(last["min_ms"], last["max_ms"])
        gap = h["points"][0]
        self.assertEqual((gap["data"], gap["ok"], gap["avg_ms"]), (False, 0, None))
        # RFC 3339 and Unix seconds alike; a step of whole minutes.
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
        s, h = self.history(v, f"probe=app&from={iso}&to={now}&step=5m")
        self.assertEqual(s, 200, h)
        self.assertEqual(h["step_s"], 300)
        self.assertIn(len(h["points"]), (12, 13))
        self.assertEqual(h["points"][0]["t"] % 300, 0)
        # Rules go into history at the once-a-second tick.
        r = wait_for(lambda: (lambda r: r if r["points"][-1]["worst"] else None)(
            self.history(v, "rule=app_down&step=1h")[1]), 10, what="rule history")
        self.assertEqual(r["rule"], "app_down")
        self.assertEqual(r["incidents"], [])
        self.assertEqual(r["points"][-1]["worst"], "ok")
        self.assertGreater(r["points"][-1]["ok"], 0)
        for query, code, words in [
            ("", 400, "one probe"),
            ("probe=app&rule=app_down", 400, "one probe"),
            ("probe=nope", 404, "no such probe"),
            ("rule=nope", 404, "no such rule"),
            ("probe=app&from=yesterday", 400, "from must be"),
            ("probe=app&to=2026-13-01T00:00:00Z", 400, "to must be"),
            ("probe=app&step=90s", 400, "whole minutes"),
            ("probe=app&step=0m", 400, "whole minutes"),
            (f"probe=app&from={now}&to={now - 60}", 400, "before to"),
            (f"probe=app&from={now - 7 * 86400}&step=1m", 400, "more than 1500"),
            (f"probe=app&from={now + 3600}&to={now + 7200}", 400, "holds nothing"),
        ]:
            s, e = self.history(v, query)
            self.assertEqual(s, code, (query, e))
            self.assertIn(words, e["error"], query)

    def test_file_of_another_version_is_moved_aside(self):
        hist = os.path.join(self.state_dir, "history")
        os.mkdir(hist)
        # Version 1: the same magic, an earlier layout.
        with open(os.path.join(hist, "probe-app.hist"), "wb") as f:
            f.write(b"VIGILHST" + (1).to_bytes(4, "little") + bytes(116) + b"old rows")
        with open(os.path.join(hist, "rule-app_down.hist"), "wb") as f:
            f.write(b"garbage, not a history file")
        v = self.vigild(config(self.target, self.state_dir))
        wait_for(lambda: v.probe("app")["runs"] >= 3, 20, what="runs")
        self.assertEqual(len(glob.glob(os.path.join(hist, "probe-app.hist.old-*"))), 1)
        self.assertEqual(len(glob.glob(os.path.join(hist, "rule-app_down.hist.corrupt-*"))), 1)
        self.assertIn("event=history_file_unusable", v.log_text())
        self.assertIn("format version 1", v.log_text())
        self.saved_after_now(v)
        with open(os.path.join(hist, "probe-app.hist"), "rb") as f:
            head = f.read(12)
        self.assertEqual(head[:8], b"VIGILHST")
        self.assertEqual(int.from_bytes(head[8:12], "little"), 2)
        self.assertEqual(os.path.getsize(os.path.join(hist, "probe-app.hist")),
                         128 + 90 * 24 * 1208)

    def test_without_state_dir_in_memory(self):
        cfg = config(self.target, self.state_dir)
        del cfg["state_dir"]
        del cfg["state_interval"]
        v = self.vigild(cfg)
        wait_for(lambda: v.probe("app")["uptime_pct"]["24h"] is not None, 20, what="uptime")
        st = v.status()["vigild"]["history"]
        self.assertFalse(st["persistent"])
        self.assertEqual(st["writes"], 0)
        self.assertEqual(os.listdir(self.state_dir), [])
        self.assertNotIn("vigil_history_writes_total", v.metrics())
