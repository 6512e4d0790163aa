"""The sentry probe end to end: the real vigild against the simulator's
Sentry API stand-in. An error spike in the application becomes a rising
Sentry event rate and fires the shipped-style error-rate rule; a 429 with
X-Sentry-Rate-Limit-Reset holds every request until the reset; a bad token
gives one clear error and a backed-off retry schedule; the token never
appears in /status or the log."""
import json
import os
import time

from harness import E2E, SLOW, TIMING, http, http_probe, timing_sensitive, wait_for, wait_until, write_secret

FAST = "300ms"
TOKEN = "sntrys_e2e-9f3c1a7b5d2e4f60-token"


def iso(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


class SentryE2E(E2E):
    def sentry_sim(self, rps=2000, extra=()):
        self.token_path = os.path.join(self.workdir, "sim-token")
        with open(self.token_path, "w") as f:
            f.write(TOKEN + "\n")
        return self.sim(args=["--rps", str(rps), "--window", "2",
                              "--sentry-token-file", self.token_path, *extra])

    def write_token(self, token):
        """vigild's token file (a systemd credential in production)."""
        path = os.path.join(self.workdir, "vigil.sentry-token")
        tmp = write_secret(path + ".tmp", token + "\n")
        os.rename(tmp, path)
        return path

    def sentry_probe(self, sim, token=TOKEN, **extra):
        p = {"name": "sentry", "type": "sentry",
             "base_url": sim.url("/api/0/"), "organization": "acme",
             "project": "portal", "token_file": self.write_token(token),
             "interval": FAST, "timeout": "2s", "resolution": "10s",
             "issues_window": "1m"}
        p.update(extra)
        return p

    def app_probe(self, sim):
        return http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                          metrics={"requests_total": "/metrics/requests/total",
                                   "errors_total": "/metrics/requests/errors"})

    def control(self, sim, **knobs):
        q = "&".join(f"{k}={v}" for k, v in knobs.items())
        status, _, body = http("POST", sim.url("/_sim/sentry?" + q), b"")
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def sentry_stats(self, sim):
        return sim.stats()["sentry"]

    def last_run(self, v):
        return v.probe("sentry").get("last_run") or {}


# The rules of etc/vigil.json, with test-sized windows.
SENTRY_RULES = [
    {"name": "error_rate_sentry",
     "ratio": {"numerator": "sentry.events_total",
               "denominator": "app_advanced.requests_total",
               "scale": 100, "min_denominator": 500},
     "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
     "for": "1s", "unit": "%",
     "summary": "Sentry error rate {value} % over {window}, threshold {threshold} %"},
    {"name": "error_rate",
     "ratio": {"numerator": "app_advanced.errors_total",
               "denominator": "app_advanced.requests_total",
               "scale": 100, "min_denominator": 500},
     "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
     "for": "1s", "unit": "%"},
    {"name": "sentry_missing_errors",
     "ratio": {"numerator": "sentry.events_total",
               "denominator": "app_advanced.errors_total", "min_denominator": 50},
     "aggregate": "delta", "window": "3s", "op": "<", "warn": 0.5, "for": "1s"},
    {"name": "app_missing_errors",
     "ratio": {"numerator": "app_advanced.errors_total",
               "denominator": "sentry.events_total", "min_denominator": 50},
     "aggregate": "delta", "window": "3s", "op": "<", "warn": 0.5, "for": "1s"},
]


class ErrorRate(SentryE2E):
    @timing_sensitive
    def test_error_spike_raises_the_sentry_event_rate_and_fires(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.app_probe(sim), self.sentry_probe(sim)],
                         "rules": SENTRY_RULES})
        r = wait_for(lambda: (lambda r: r if r["state"] == "ok" and r["value"] is not None
                              else None)(v.rule("error_rate_sentry")), 15,
                     what="error_rate_sentry ok while healthy")
        self.assertLess(r["value"], 0.1)
        run = self.last_run(v)
        self.assertEqual(run["result"], "up", run)
        before = run["metrics"]
        self.assertEqual(before["new_issues"], 0)
        self.assertEqual(before["unresolved_issues"], 3)
        self.assertIn("events_total", before)
        self.assertIn("rate_limit_remaining", before)

        sim.scenario("error_spike")
        seen = []

        def critical():
            r = v.rule("error_rate_sentry")
            if not seen or seen[-1] != r["state"]:
                seen.append(r["state"])
            return r if r["state"] == "firing" and r["severity"] == "critical" else None

        r = wait_for(critical, 15, what="error_rate_sentry critical")
        self.assertGreater(r["value"], 1)
        self.assertIn("pending", seen, "for: 1s shows pending first")
        self.assertRegex(r["summary"], r"^Sentry error rate \d")
        # The rate rises run after run: events per run far above the healthy ~0.5.
        m = self.last_run(v)["metrics"]
        self.assertGreater(m["events"], 10)
        self.assertGreater(m["events_total"], before["events_total"] + 100)
        # Two new issues first seen with the spike.
        self.assertEqual(m["new_issues"], 2)
        self.assertEqual(m["unresolved_issues"], 5)
        # Both error rates, side by side in /status, and they agree.
        st = v.status()
        app, sentry = v.rule("error_rate", st), v.rule("error_rate_sentry", st)
        self.assertEqual(app["state"], "firing")
        self.assertLess(abs(app["value"] - sentry["value"]), 1.5, (app, sentry))
        self.assertNotEqual(v.rule("sentry_missing_errors", st)["state"], "firing")
        # The query is always sent explicitly (Sentry's default adds a filter).
        self.assertEqual(self.sentry_stats(sim)["without_query"], 0)

    def test_disagreement_warns(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.app_probe(sim), self.sentry_probe(sim, issues=False)],
                         "rules": SENTRY_RULES})
        sim.scenario("error_spike")
        wait_for(lambda: v.rule("sentry_missing_errors")["state"] == "ok", 15,
                 what="Sentry and the application agree")
        # Sentry now drops 4 events in 5 (quota, sampling, a broken SDK).
        self.control(sim, capture=0.2)
        r = wait_for(lambda: (lambda r: r if r["state"] == "firing" else None)(
            v.rule("sentry_missing_errors")), 15, what="sentry_missing_errors firing")
        self.assertEqual(r["severity"], "warning")
        self.assertLess(r["value"], 0.5)
        self.assertEqual(v.rule("app_missing_errors")["state"], "ok")
        self.assertNotIn("new_issues", self.last_run(v)["metrics"])
        # Sentry now sees three events per error the application counts:
        # the application under-reports.
        self.control(sim, capture=3)
        r = wait_for(lambda: (lambda r: r if r["state"] == "firing" else None)(
            v.rule("app_missing_errors")), 15, what="app_missing_errors firing")
        self.assertLess(r["value"], 0.5)


class RateLimits(SentryE2E):
    def test_429_holds_every_request_until_the_reset(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.app_probe(sim), self.sentry_probe(sim)],
                         "rules": SENTRY_RULES[:1]})
        wait_for(lambda: v.probe("sentry")["state"] == "up", 10, what="sentry up")
        knobs = self.control(sim, rate_limit_for=30)
        reset = knobs["rate_limited_until"]
        wait_for(lambda: self.sentry_stats(sim)["rate_limited"] >= 1, 5,
                 what="vigild meets the 429")
        sent = self.sentry_stats(sim)["total"]
        self.assertEqual(self.sentry_stats(sim)["rate_limited"], 1)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            self.assertEqual(self.sentry_stats(sim)["total"], sent,
                             "a request went out before X-Sentry-Rate-Limit-Reset")
            time.sleep(0.25)     # a sleep: proves no request goes out for 5 s
        run = self.last_run(v)
        self.assertEqual(run["fail"], "rate_limited")
        self.assertIn(f"rate limited until {iso(reset)}", run["reason"])
        self.assertIn("X-Sentry-Rate-Limit-Reset", run["reason"])
        self.assertEqual(run["metrics"]["api_requests"], 0)
        self.assertGreater(v.probe("sentry")["runs"], 15)
        # Rules over Sentry's numbers cannot measure: unknown, not ok.
        r = v.rule("error_rate_sentry")
        self.assertEqual(r["state"], "unknown")
        self.assertIn("rate limited until", r["reason"])
        # Being told to wait is not being down: no sentry_down page.
        self.assertEqual(v.probe("sentry")["state"], "up")
        self.assertNotEqual(v.rule("sentry_down")["state"], "firing")
        self.assertNotIn("event=probe_down probe=sentry", v.log_text())

    def test_retry_after_wins_and_no_headers_backs_off(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.sentry_probe(sim, issues=False)]})
        wait_for(lambda: v.probe("sentry")["state"] == "up", 10, what="sentry up")
        # A proxy's Retry-After: 2 s, though the reset is 30 s away.
        self.control(sim, rate_limit_for=30, retry_after=2)
        wait_for(lambda: self.sentry_stats(sim)["rate_limited"] >= 1, 5, what="a 429")
        t0, n0 = time.monotonic(), self.sentry_stats(sim)["total"]
        # The simulator counts the 429 when it sends it; vigild reads it a
        # moment later (much later under valgrind).
        wait_for(lambda: "Retry-After" in self.last_run(v).get("reason", ""), 2,
                 what="the 429's reason in /status")
        wait_for(lambda: self.sentry_stats(sim)["total"] > n0, 5, what="a retry")
        waited = time.monotonic() - t0
        self.assertGreater(waited, 1.2)
        self.assertLess(waited, 3.5 * SLOW)
        self.control(sim, rate_limit_for=0)
        wait_for(lambda: self.last_run(v).get("result") == "up", 5, what="up again")
        # No rate-limit headers at all (self-hosted behind a proxy):
        # exponential backoff, 1 s, 2 s, 4 s...
        limited = self.sentry_stats(sim)["rate_limited"]
        self.control(sim, rate_limit_for=30, rate_limit_headers=0)
        times = []

        def limited_again():
            nonlocal limited
            n = self.sentry_stats(sim)["rate_limited"]
            if n != limited:
                times.append(time.monotonic())
                limited = n
            return len(times) >= 4
        # Four 429s, at about 0, 1, 3 and 7 s; each noted within 50 ms.
        wait_until(limited_again, 12, "four 429s backed off", interval=0.05)
        self.assertIn("no rate-limit headers, backing off", self.last_run(v)["reason"])
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertGreaterEqual(len(gaps), 2, gaps)
        self.assertGreater(gaps[0], 0.8, gaps)
        for a, b in zip(gaps, gaps[1:]):
            self.assertGreater(b, a * 1.5, f"backoff must grow: {gaps}")
        self.control(sim, rate_limit_for=0)


class Token(SentryE2E):
    def test_bad_token_one_clear_error_backed_off_and_never_shown(self):
        sim = self.sentry_sim()
        wrong = "sntrys_wrong-0b1d5e-not-this-one"
        v = self.vigild({"probes": [self.sentry_probe(sim, token=wrong)]})
        wait_for(lambda: self.sentry_stats(sim)["unauthorized"] >= 1, 5, what="a 401")
        t0 = time.monotonic()
        time.sleep(7.5)          # a sleep: counts the requests of the backoff over 7.5 s
        stats = self.sentry_stats(sim)
        p = v.probe("sentry")
        run = p["last_run"]
        self.assertEqual(p["state"], "down")
        self.assertEqual(run["fail"], "auth")
        self.assertRegex(run["reason"], r'^token rejected \(HTTP 401 from the project '
                         r'details endpoint: "Invalid token"\); next attempt at \d{4}-')
        # Runs every 300 ms; requests at about 0, 1, 3 and 7 s.
        self.assertGreaterEqual(p["runs"], 20)
        self.assertLessEqual(stats["total"], 5, stats)
        self.assertGreaterEqual(stats["total"], 3, stats)
        log = v.log_text()
        self.assertEqual(log.count("event=probe_down probe=sentry"), 1)
        self.assertIn('probe_down probe=sentry fail=auth reason="token rejected', log)
        # The right token in the file: the next run tries it at once.
        self.write_token(TOKEN)
        wait_for(lambda: v.probe("sentry")["state"] == "up", 3, what="sentry up again")
        if TIMING:
            self.assertLess(time.monotonic() - t0, 7.5 + 3 * SLOW)
        # Some runs with the good token, then look everywhere for both.
        wait_for(lambda: v.probe("sentry")["consecutive_successes"] >= 3, 5,
                 what="good runs")
        for path in ("/status", "/health"):
            body = v.get(path)[2].decode()
            self.assertNotIn(TOKEN, body, path)
            self.assertNotIn(wrong, body, path)
        v.stop()
        log = v.log_text()
        self.assertNotIn(TOKEN, log)
        self.assertNotIn(wrong, log)

    def test_missing_token_and_missing_scope(self):
        sim = self.sentry_sim()
        probe = self.sentry_probe(sim)
        probe["token_file"] = os.path.join(self.workdir, "absent")
        v = self.vigild({"probes": [probe]})
        run = wait_for(lambda: self.last_run(v) or None, 5, what="a run")
        self.assertEqual(run["fail"], "auth")
        self.assertIn("no token: cannot read token_file", run["reason"])
        self.assertEqual(self.sentry_stats(sim)["total"], 0, "no token, no request")

        # A token without event:read: the issues endpoint says 403.
        self.control(sim, scopes="project:read,org:read")
        v2 = self.vigild({"probes": [self.sentry_probe(sim)]}, name="v2")
        run = wait_for(lambda: (lambda r: r if r.get("fail") == "auth" else None)(
            self.last_run(v2)), 5, what="a 403")
        self.assertIn("token lacks scope event:read for the issues endpoint (HTTP 403",
                      run["reason"])


class Paging(SentryE2E):
    def test_issues_counted_by_pages_without_x_hits(self):
        sim = self.sentry_sim()
        self.control(sim, add_issues=150, hits=0)
        v = self.vigild({"probes": [self.sentry_probe(sim, project_stats=False)]})
        run = wait_for(lambda: (lambda r: r if r.get("result") == "up" else None)(
            self.last_run(v)), 10, what="a good run")
        # 3 seeded unresolved issues and 150 new ones: two pages of 100.
        self.assertEqual(run["metrics"]["unresolved_issues"], 153)
        self.assertEqual(run["metrics"]["new_issues"], 150)
        self.assertNotIn("events_total", run["metrics"])
        self.control(sim, hits=1)
        wait_for(lambda: self.last_run(v)["metrics"].get("api_requests") == 2, 5,
                 what="X-Hits again: one request per count")
        self.assertEqual(self.last_run(v)["metrics"]["unresolved_issues"], 153)


class ReleaseGate(SentryE2E):
    def test_sentry_429_throughout_is_inconclusive_not_fail_or_pass(self):
        import subprocess
        import urllib.request
        from harness import BUILD
        sim = self.sentry_sim()
        api_token = os.path.join(self.workdir, "api-token")
        write_secret(api_token, "gate-token-429")
        v = self.vigild({
            "api": {"token_file": api_token},
            "probes": [self.sentry_probe(sim), self.app_probe(sim)],
            "rules": [SENTRY_RULES[0]],
            "release": {"warmup": "0s", "checks": [
                {"rule": "error_rate_sentry", "fail_after": 2, "min_requests": 500}]},
        })
        wait_for(lambda: v.rule("error_rate_sentry")["value"] is not None, 10,
                 what="a first Sentry-based error rate")
        self.control(sim, rate_limit_for=120)       # 429 for the whole window
        req = urllib.request.Request(v.base + "/deploys", method="POST",
                                     data=b'{"action":"begin","version":"7.0.0"}',
                                     headers={"Authorization": "Bearer gate-token-429"})
        urllib.request.urlopen(req, timeout=5).close()
        r = subprocess.run([os.path.join(BUILD, "vigilctl"), "--url", v.base, "--no-color",
                            "wait", "--for", "30s", "--interval", "300ms"],
                           capture_output=True, text=True, timeout=60)
        # The observer failed, not the application: 3, never 2 and never 0.
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"verdict: inconclusive \(exit 3\): error_rate_sentry: "
                                   r"error: 4 consecutive measurement errors")
        self.assertIn("rate limited", r.stdout)
        self.control(sim, rate_limit_for=0)


class TokenFromEnvironment(SentryE2E):
    def test_token_env_is_read_at_run_time_and_never_shown(self):
        """token_env: the token comes from vigild's environment (#5)."""
        sim = self.sentry_sim()
        probe = self.sentry_probe(sim)
        del probe["token_file"]
        probe["token_env"] = "VIGIL_E2E_SENTRY_TOKEN"
        v = self.vigild({"probes": [probe]}, extra_env={"VIGIL_E2E_SENTRY_TOKEN": TOKEN})
        lr = wait_for(lambda: (lambda r: r if r.get("result") == "up" else None)(
            self.last_run(v)), 10, what="a good run with the token from the environment")
        self.assertIn("events_total", lr["metrics"])
        self.assertNotIn(TOKEN, v.get("/status")[2].decode())
        self.assertNotIn(TOKEN, v.log_text())


class Faithful(SentryE2E):
    """Against the stand-in made faithful (#27): what Sentry does that the
    old stand-in never did, and the reason /status shows for each."""

    def good_run(self, v, **want):
        """The next successful run whose metrics hold want."""
        def pred():
            r = self.last_run(v)
            if r.get("result") != "up":
                return None
            m = r.get("metrics", {})
            return r if all(m.get(k) == x for k, x in want.items()) else None
        return wait_for(pred, 15, what=f"a good run with {want}")

    def test_late_events_counted_once(self):
        sim = self.sentry_sim()
        # No events from the application: only the late batch moves the count.
        self.control(sim, capture=0)
        v = self.vigild({"probes": [self.sentry_probe(sim, issues=False)]})
        short = self.vigild({"probes": [self.sentry_probe(sim, issues=False,
                                                          late_window="1m")]}, name="short")
        wait_for(lambda: v.probe("sentry")["runs"] >= 3 and short.probe("sentry")["runs"] >= 3,
                 15, what="a baseline in both")
        before = self.last_run(v)["metrics"]["events_total"]
        before_short = self.last_run(short)["metrics"]["events_total"]
        # 40 events Sentry stamped two minutes ago and records only now.
        self.control(sim, late=40, late_by=120)
        self.good_run(v, events_total=before + 40)
        runs = v.probe("sentry")["runs"]
        wait_for(lambda: v.probe("sentry")["runs"] >= runs + 5 and
                 short.probe("sentry")["runs"] >= runs + 5, 15, what="five more runs")
        # Counted once in its bucket, run after run.
        self.assertEqual(self.last_run(v)["metrics"]["events_total"], before + 40)
        # A re-read window shorter than the delay never sees them.
        self.assertEqual(self.last_run(short)["metrics"]["events_total"], before_short)

    def test_empty_search_is_zero_in_one_request(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.sentry_probe(sim, project_stats=False)]})
        # No issue first seen in the last minute: Sentry sends no X-Hits.
        run = self.good_run(v, api_requests=2, new_issues=0)
        self.assertEqual(run["metrics"]["unresolved_issues"], 3)

    def test_estimated_x_hits_is_said(self):
        sim = self.sentry_sim()
        # 5,100 more unresolved issues, a day old: past Sentry's 5,000
        # candidates, so its X-Hits is a sampled estimate, then capped.
        self.control(sim, add_issues=5100, add_issues_age=86400)
        v = self.vigild({"probes": [self.sentry_probe(sim, project_stats=False)]})
        run = self.good_run(v, unresolved_issues=1000, new_issues=0)
        self.assertIn("unresolved_issues: at least 1000 (X-Hits is capped at X-Max-Hits; "
                      "over 5,000 candidate issues Sentry's X-Hits is a sampled estimate",
                      run["notes"])

    def test_throttled_query_is_named(self):
        sim = self.sentry_sim()
        v = self.vigild({"probes": [self.sentry_probe(sim, project_stats=False)]})
        self.good_run(v)
        self.control(sim, query_timeouts=2)
        run = wait_for(lambda: (lambda r: r if r.get("fail") == "rate_limited" else None)(
            self.last_run(v)), 10, what="the throttled run")
        self.assertRegex(run["reason"], r"^rate limited until \d{4}-.*\(Sentry throttled the "
                         r"issues query: HTTP 400 \"Query timeout\"; backing off 1 s\)")
        # Throttled again: the wait grows, as after a 429 without headers.
        run = wait_for(lambda: (lambda r: r if "backing off 2 s" in r.get("reason", "")
                                else None)(self.last_run(v)), 10, what="the second throttle")
        self.assertEqual(self.sentry_stats(sim)["throttled"], 2)
        # Told to wait, not down; and back once the backoff is over.
        self.assertEqual(v.probe("sentry")["state"], "up")
        self.good_run(v)

    def test_missing_discover_is_named(self):
        import urllib.request
        sim = self.sentry_sim()
        self.control(sim, discover=0)
        api_token = os.path.join(self.workdir, "api-token")
        write_secret(api_token, "gate-token-discover")
        v = self.vigild({"api": {"token_file": api_token},
                         "probes": [self.sentry_probe(sim, issues=False)],
                         "release": {"warmup": "0s", "by_release": {"probe": "sentry"}}})
        self.good_run(v)
        req = urllib.request.Request(v.base + "/deploys", method="POST",
                                     data=b'{"action":"begin","version":"7.0.0"}',
                                     headers={"Authorization": "Bearer gate-token-discover"})
        urllib.request.urlopen(req, timeout=5).close()
        run = wait_for(lambda: (lambda r: r if r.get("fail") == "status" else None)(
            self.last_run(v)), 10, what="the events endpoint's 404")
        self.assertIn("HTTP 404 from the events endpoint: the organization lacks Sentry's "
                      "Discover feature", run["reason"])
        # With Discover, the counts come, asked with dataset=errors.
        self.control(sim, discover=1)
        run = wait_for(lambda: (lambda r: r if r.get("result") == "up" and
                                "release_errors" in r.get("metrics", {}) else None)(
            self.last_run(v)), 15, what="release counts with Discover")
        self.assertGreaterEqual(run["metrics"]["release_all_errors"],
                                run["metrics"]["release_errors"])
        self.assertGreater(self.sentry_stats(sim)["requests"]["events"], 2)
        self.assertEqual(self.sentry_stats(sim)["no_dataset"], 0)

    def test_link_to_another_host_only_through_an_alias(self):
        sim = self.sentry_sim()
        # Sentry builds Link from its own URL: here another name of the
        # same server. 150 new issues and no X-Hits: counting needs page 2.
        other = sim.url("/api/0/").replace("127.0.0.1", "localhost")
        self.control(sim, add_issues=150, hits=0, public_url=other)
        probe = self.sentry_probe(sim, project_stats=False)
        v = self.vigild({"probes": [probe]})
        run = wait_for(lambda: (lambda r: r if "unresolved_issues: not counted" in
                                r.get("notes", "") else None)(self.last_run(v)),
                       10, what="the page on another host, said")
        origin = other[:other.index("/api/0/")]
        self.assertIn(f'unresolved_issues: not counted: next page on "{origin}", '
                      "not base_url's host (see base_url_aliases)", run["notes"])
        # Page 1's length is no total: no number rather than a wrong one.
        self.assertNotIn("unresolved_issues", run["metrics"])
        aliased = dict(probe, base_url_aliases=[origin + "/"])
        v2 = self.vigild({"probes": [aliased]}, name="v2")
        run = self.good_run(v2, unresolved_issues=153, new_issues=150)
        self.assertNotIn("not counted", run.get("notes", ""))


class Configuration(SentryE2E):
    def test_resolution_sentry_does_not_keep_is_refused(self):
        import subprocess
        from harness import VIGILD
        path = os.path.join(self.workdir, "one-second.json")
        with open(path, "w") as f:
            f.write('{"probes": [{"name": "s", "type": "sentry", "organization": "a",\n'
                    ' "project": "p", "token_env": "T", "resolution": "1s"}]}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f'{path}:2:50: "resolution" must be "10s", "1h" or "1d"', r.stderr)
