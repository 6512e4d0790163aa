"""vigild end to end: health verdicts, failure reasons, isolation of a hung
target, reload and stop, against the real binary and simulator."""
import gzip
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

from harness import BUILD, E2E, ROOT, SLOW, TIMING, VIGILD, http_probe, wait_for, wait_until

VIGILCTL = os.path.join(BUILD, "vigilctl")


def advanced_probe(sim, **kw):
    return http_probe("app_advanced", sim.url("/api/health/advanced"),
                      expect={"status": [200], "json": {"/status": ["healthy", "degraded"]}},
                      metrics={"p95_ms": "/metrics/responseTime/p95",
                               "error_rate_pct": "/metrics/requests/errorRate",
                               "memory_pct": "/metrics/memory/percentage"}, **kw)


def health_probe(sim, **kw):
    return http_probe("app_health", sim.url("/api/health"),
                      expect={"status": [200], "json": {"/status": "ok"}}, **kw)


class CheckConfig(E2E):
    def test_shipped_config_is_valid(self):
        r = subprocess.run([VIGILD, "--check-config", os.path.join(ROOT, "etc/vigil.json")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK (6 probes)", r.stdout)

    def test_typo_names_line_and_column(self):
        path = os.path.join(self.workdir, "typo.json")
        with open(path, "w") as f:
            f.write('{\n  "probes": [\n    {"name": "a", "type": "http",\n'
                    '     "url": "http://127.0.0.1:1/", "intreval": "5s"}\n  ]\n}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f'{path}:4:36: unknown key "intreval" in an http probe '
                      '(did you mean "interval"?)', r.stderr)

    def test_syntax_error_and_missing_file(self):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write('{"probes": [\n  {"name": "a",,}\n]}')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rf"{path}:2:16: ")
        r = subprocess.run([VIGILD, "--check-config", path + ".nope"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open", r.stderr)

    def test_help_and_version(self):
        r = subprocess.run([VIGILD, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check-config", r.stdout)
        r = subprocess.run([VIGILD, "--version"], capture_output=True, text=True)
        self.assertRegex(r.stdout, r"^vigild \d+\.\d+\.\d+")
        r = subprocess.run([VIGILD, "--bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 64)

    def test_invalid_config_at_start_exits_1(self):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write('{"probes": 3}')
        r = subprocess.run([VIGILD, "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:1:12: \"probes\" must be an array", r.stderr)


class Health(E2E):
    def test_warming_up_is_a_note_for_at_most_its_window(self):
        # Just started, a rule that cannot be judged yet is a note, not a
        # warn (a keyword monitor on "status":"pass" must not see an
        # incident at every restart); past its window (here its probe's
        # interval + timeout: 2.5 s) still unjudgeable, it is a warn.
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim, interval="1500ms", timeout="1s",
                                                 metrics={"nothing": "/nothing"})],
                         "rules": [{"name": "ghost", "metric": "app_health.nothing",
                                    "op": ">", "warn": 1}]})
        t0 = time.monotonic()
        doc = json.loads(v.get("/health")[2])
        if time.monotonic() - t0 < 1.0:
            self.assertEqual(doc["status"], "pass", doc)
            self.assertTrue(any(n.startswith("ghost: warming up (vigild just started)")
                                for n in doc.get("notes", [])), doc)
            self.assertEqual(doc["checks"], {})
        doc = wait_for(lambda: (lambda d: d if d["status"] == "warn" else None)(
            json.loads(v.get("/health")[2])), 6, what="warn once warmed up")
        self.assertIn("unknown: ghost: ", doc["output"])
        self.assertIn("app_health:ghost", doc["checks"])

    def test_output_never_cut_mid_word(self):
        # Thirty failing rules: the output holds whole reasons, then says
        # how many more there are; never half a word.
        sim = self.sim()
        rules = [{"name": f"p{i:02d}", "metric": "app_health.duration_ms", "op": ">",
                  "crit": 0, "summary": "duration {value} ms is over {threshold} ms " * 3}
                 for i in range(30)]
        v = self.vigild({"probes": [health_probe(sim)], "rules": rules})
        doc = wait_for(lambda: (lambda d: d if d["status"] == "fail" and "more" in
                                d.get("output", "") else None)(json.loads(v.get("/health")[2])),
                       10, what="fail with many reasons")
        out = doc["output"]
        m = re.search(r"\(and (\d+) more: see /status\)$", out)
        self.assertIsNotNone(m, out)
        items = out[:m.start()].rstrip().split("; ")
        self.assertEqual(len(items) + int(m.group(1)), 30, out)
        for it in items:
            self.assertRegex(it, r"^critical: p\d\d: (duration [\d.]+ (ms|s) is over 0 ms ?){3}$")

    def test_healthy_pass_then_down_fail_then_back(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim), advanced_probe(sim)]})
        # Warming up is pass too (a note): wait for both probes' first runs.
        wait_for(lambda: v.get("/health")[0] == 200 and
                 json.loads(v.get("/health")[2])["status"] == "pass" and
                 v.probe("app_advanced")["state"] == "up", 10, what="pass")
        status, headers, body = v.get("/health")
        self.assertEqual(headers["Content-Type"], "application/health+json")
        self.assertEqual(headers["Cache-Control"], "no-store")
        doc = json.loads(body)
        self.assertEqual(doc["status"], "pass")
        # Only rules that are not ok are checks: healthy, there are none.
        self.assertEqual(doc["checks"], {})
        self.assertEqual(body.count(b'"status":"pass"'), 1)
        # HEAD answers like GET, without a body.
        s, h, b = v.get("/health", method="HEAD")
        self.assertEqual((s, b), (200, b""))
        self.assertEqual(h["Content-Type"], "application/health+json")
        # Metrics from the JSON body are in /status.
        p = v.probe("app_advanced")
        self.assertEqual(p["state"], "up")
        for m in ("p95_ms", "error_rate_pct", "memory_pct", "duration_ms", "http_status"):
            self.assertIn(m, p["last_run"]["metrics"])
        self.assertGreater(p["last_run"]["metrics"]["p95_ms"], 0)

        sim.scenario("down")
        t0 = time.monotonic()
        wait_for(lambda: v.get("/health")[0] == 503, 1.0 + 0.2, step=0.02,
                 what="503 within two intervals")
        if TIMING:
            self.assertLess(time.monotonic() - t0, 1.2 * SLOW)
        doc = json.loads(v.get("/health")[2])
        self.assertEqual(doc["status"], "fail")
        self.assertIn("status 500", doc["output"])
        self.assertNotIn('"status":"pass"', v.get("/health")[2].decode())
        # /health may fail on app_advanced first (they run side by side).
        run = wait_for(lambda: (lambda r: r if r and r.get("reason") else None)(
            v.probe("app_health")["last_run"]), 5, what="app_health's failed run")
        self.assertEqual(run["reason"], "status 500, expected 200")

        sim.scenario("healthy")
        wait_for(lambda: v.get("/health")[0] == 200, 2, what="recovery")
        log = v.log_text()
        self.assertIn("event=probe_down probe=app_health", log)
        self.assertIn("event=probe_up probe=app_health", log)

    def test_unknown_path_and_bad_method(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim)]})
        self.assertEqual(v.get("/nope")[0], 404)
        s, h, _ = v.get("/health", method="POST", body=b"x")
        self.assertEqual(s, 405)
        self.assertIn("GET", h["Allow"])
        self.assertEqual(v.get("/status", method="DELETE")[0], 405)
        s, _, _ = v.get("/status", method="POST", body=b"x" * (200 * 1024))
        self.assertEqual(s, 413)
        self.assertEqual(v.get("/health")[0], 200)


class StatusAnswer(E2E):
    """/status is rendered once for its readers for a moment, never past a
    change of state, and gzipped for clients that accept it."""

    def renders(self, v):
        for line in v.metrics().splitlines():
            if line.startswith("vigil_http_status_renders_total "):
                return float(line.split()[1])
        self.fail("no vigil_http_status_renders_total")

    def test_readers_share_a_rendering_but_never_miss_a_change(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim, interval="200ms")]})
        wait_for(lambda: v.get("/health")[0] == 200, 10, what="pass")
        r0 = self.renders(v)
        docs = [v.status() for _ in range(40)]
        # 40 readers in well under a second: a few renderings, not 40.
        self.assertLess(self.renders(v) - r0, 20)
        self.assertTrue(all(d["probes"][0]["name"] == "app_health" for d in docs))
        # Readers hammering /status keep a rendering warm; a rule that
        # fires shows in the next answer all the same.
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                v.get("/status")
        t = threading.Thread(target=hammer)
        t.start()
        try:
            sim.scenario("down")
            wait_for(lambda: v.get("/health")[0] == 503, 5, step=0.01, what="503")
            self.assertEqual(v.rule("app_health_down")["state"], "firing")
        finally:
            stop.set()
            t.join()
        # Still fresh within the moment: vigild.now moves on.
        n0 = v.status()["vigild"]["now"]
        wait_for(lambda: v.status()["vigild"]["now"] != n0, 2, what="a newer rendering")

    def test_gzip_for_clients_that_accept_it(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim), advanced_probe(sim)]})
        wait_for(lambda: v.probe("app_advanced")["last_run"] is not None, 10, what="a run")
        req = urllib.request.Request(v.base + "/status",
                                     headers={"Accept-Encoding": "br, gzip;q=0.5"})
        with urllib.request.urlopen(req, timeout=5) as r:
            self.assertEqual(r.headers["Content-Encoding"], "gzip")
            self.assertEqual(r.headers["Vary"], "Accept-Encoding")
            self.assertEqual(r.headers["Content-Type"], "application/json")
            raw = r.read()
        self.assertEqual(raw[:2], b"\x1f\x8b")
        doc = json.loads(gzip.decompress(raw))
        self.assertEqual([p["name"] for p in doc["probes"]], ["app_health", "app_advanced"])
        # Refused with q=0, or not offered: plain JSON.
        for ae in ("gzip;q=0", None):
            h = {"Accept-Encoding": ae} if ae else {}
            req = urllib.request.Request(v.base + "/status", headers=h)
            with urllib.request.urlopen(req, timeout=5) as r:
                self.assertIsNone(r.headers["Content-Encoding"])
                self.assertEqual(json.loads(r.read())["probes"][0]["name"], "app_health")
        # vigilctl asks for it and reads it.
        out = subprocess.run([VIGILCTL, "--url", v.base, "status"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("app_advanced", out.stdout)


class NewConnection(E2E):
    def test_new_connection_connects_every_run_reuse_does_not(self):
        sim = self.sim()
        v = self.vigild({"probes": [
            health_probe(sim, interval="200ms"),
            http_probe("fresh", sim.url("/api/health"), interval="200ms",
                       new_connection=True)]})
        wait_for(lambda: v.probe("fresh")["runs"] >= 4 and
                 v.probe("app_health")["runs"] >= 4, 10, what="four runs each")
        # A new connection has a connect time every run; a reused one none.
        seen = {"fresh": 0, "app_health": 0}
        for _ in range(5):
            st = v.status()
            runs = {}
            for name in seen:
                p = next(p for p in st["probes"] if p["name"] == name)
                seen[name] += "connect_ms" in p["last_run"]["metrics"]
                runs[name] = p["runs"]
            # The next sample is of the next run of each.
            wait_until(lambda: all(v.probe(n)["runs"] > runs[n] for n in seen), 5,
                       "the next run of each probe")
        self.assertEqual(seen, {"fresh": 5, "app_health": 0})
        self.assertEqual(v.probe("fresh")["failures"], 0)


class Failures(E2E):
    def test_malformed_and_huge_are_failed_runs_with_reasons(self):
        sim = self.sim()
        v = self.vigild({"probes": [advanced_probe(sim, max_body="64KiB")]})
        wait_for(lambda: v.probe("app_advanced")["state"] == "up", 10, what="up")

        sim.scenario("malformed")
        p = wait_for(lambda: (lambda p: p if p["state"] == "down" else None)(v.probe("app_advanced")),
                     3, what="malformed -> down")
        self.assertEqual(p["last_run"]["fail"], "json")
        self.assertRegex(p["last_run"]["reason"], r"body is not valid JSON \(error at byte \d+ of \d+\)")

        sim.scenario("huge")
        p = wait_for(lambda: (lambda p: p if p["last_run"]["fail"] == "body" else None)(v.probe("app_advanced")),
                     5, what="huge -> body failure")
        self.assertIn("body larger than the 65536-byte limit", p["last_run"]["reason"])
        # Still serving, and still polling.
        runs = p["runs"]
        wait_for(lambda: v.probe("app_advanced")["runs"] >= runs + 2, 3, what="more runs")
        self.assertEqual(v.get("/health")[0], 503)

        sim.scenario("healthy")
        wait_for(lambda: v.get("/health")[0] == 200, 3, what="recovery")

    def test_connection_refused_and_unexpected_value(self):
        sim = self.sim()
        dead = f"http://127.0.0.1:{self._closed_port()}/api/health"
        v = self.vigild({"probes": [
            http_probe("gone", dead),
            http_probe("wrong", sim.url("/api/health"), expect={"json": {"/status": "healthy"}}),
        ]})
        wait_for(lambda: v.probe("gone").get("last_run") and v.probe("wrong").get("last_run"), 5,
                 what="first runs")
        self.assertEqual(v.probe("gone")["last_run"]["fail"], "connect")
        self.assertIn("onnect", v.probe("gone")["last_run"]["reason"])
        self.assertEqual(v.probe("wrong")["last_run"]["reason"],
                         '"/status" is "ok", expected "healthy"')

    def _closed_port(self):
        from harness import free_port
        return free_port()

    def test_timeout_on_a_reused_connection_names_the_wait(self):
        # A kept-alive connection has no connect phase: a target that
        # stops answering on it timed out waiting for the response, not
        # "connecting" (which would send the engineer to the network).
        sim = self.sim()
        v = self.vigild({"probes": [
            http_probe("app", sim.url("/api/health"), interval="300ms", timeout="1s")]})
        wait_for(lambda: v.probe("app")["runs"] >= 3, 10, what="runs on a kept-alive connection")
        sim.scenario("hang")
        reason = wait_for(lambda: (lambda r: r if "timed out" in r else None)(
            v.probe("app")["last_run"].get("reason", "")), 10, what="a timeout")
        self.assertEqual(reason, "timed out after 1000 ms waiting for the response")

    def test_hung_target_does_not_delay_others(self):
        slow, fast = self.sim("slow"), self.sim("fast")
        slow.scenario("hang")
        v = self.vigild({"probes": [
            http_probe("stuck", slow.url("/api/health"), interval="500ms", timeout="3s"),
            http_probe("quick", fast.url("/api/health"), interval="500ms", timeout="2s"),
        ]})
        t0 = time.monotonic()
        first = v.probe("quick")["runs"]
        # A sleep: the span in which quick keeps its schedule and stuck never doubles up.
        time.sleep(4.0)
        elapsed = time.monotonic() - t0
        quick, stuck = v.probe("quick"), v.probe("stuck")
        # The quick probe kept its 500 ms schedule while the other hung.
        if TIMING:
            expected = elapsed / 0.5
            self.assertGreaterEqual(quick["runs"] - first, expected - 2)
            self.assertLess(quick["start_lateness_max_ms"], 250)
            self.assertEqual(quick["missed_slots"], 0)
        self.assertEqual(quick["state"], "up")
        # The hung one never doubled up: its slots were skipped and counted.
        self.assertEqual(stuck["state"], "down")
        self.assertIn("timed out after 3000 ms waiting for the response", stuck["last_run"]["reason"])
        self.assertGreaterEqual(stuck["skipped_in_flight"], 4)
        self.assertLessEqual(stuck["runs"], 2)
        # /health answered fast throughout.
        t = time.monotonic()
        self.assertEqual(v.get("/health")[0], 503)
        if TIMING:
            self.assertLess(time.monotonic() - t, 0.5 * SLOW)


class Lifecycle(E2E):
    def test_sighup_invalid_keeps_old_valid_keeps_history(self):
        sim = self.sim()
        cfg = {"probes": [health_probe(sim), advanced_probe(sim)]}
        v = self.vigild(cfg)
        wait_for(lambda: v.probe("app_health")["runs"] >= 3, 5, what="runs")
        before = v.status()
        loaded = before["vigild"]["config"]["loaded"]

        v.write_config('{"probes": [ {"name": "x", "type": "http", "url": 42} ]}')
        v.signal(signal.SIGHUP)
        wait_for(lambda: "event=reload_rejected" in v.log_text(), 5, what="rejection logged")
        self.assertIn(f"{v.config_path}:1:51: \"url\" must be a string", v.log_text())
        after = v.status()
        self.assertEqual(after["vigild"]["config"]["loaded"], loaded)
        self.assertEqual([p["name"] for p in after["probes"]], ["app_health", "app_advanced"])
        runs = v.probe("app_health")["runs"]
        wait_for(lambda: v.probe("app_health")["runs"] > runs, 3, what="still polling")

        # A valid reload that changes one probe keeps the other's history.
        cfg["probes"][1]["interval"] = "700ms"
        v.write_config(cfg)
        runs = v.probe("app_health")["runs"]
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 5, what="reload")
        self.assertGreaterEqual(v.probe("app_health")["runs"], runs)
        self.assertEqual(v.probe("app_advanced")["interval_s"], 0.7)
        self.assertIn("kept=1 started=1 removed=0", v.log_text())

    def test_sigterm_exits_zero_with_runs_in_flight(self):
        sim = self.sim()
        sim.scenario("hang")
        v = self.vigild({"probes": [health_probe(sim, timeout="10s")]})
        wait_for(lambda: v.probe("app_health")["running"], 5, what="a run in flight")
        self.vigilds.remove(v)
        t = time.monotonic()
        self.assertEqual(v.stop(), 0, v.log_text())
        if TIMING:
            self.assertLess(time.monotonic() - t, 5 * SLOW)
        self.assertIn("event=stopped", v.log_text())

    def test_port_in_use_is_a_clear_start_error(self):
        sim = self.sim()
        v = self.vigild({"probes": [health_probe(sim)]})
        path = os.path.join(self.workdir, "second.json")
        with open(path, "w") as f:
            json.dump({"api": {"listen": f"127.0.0.1:{v.port}"}, "probes": []}, f)
        r = subprocess.run([VIGILD, "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{v.port}", r.stderr)
