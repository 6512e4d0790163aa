"""The operator's surface end to end: /metrics under promtool, /livez,
/alerts, silences with their token, read endpoints beyond loopback, TLS,
and that no answer ever carries a secret. The real vigild against the
portal simulator (and, for /metrics, a throwaway PostgreSQL 15)."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pg
from harness import TIMING, E2E, Vigild, http_probe, timing_sensitive, wait_for, write_secret

FAST = "300ms"
TOKEN = "op-token-7c1e5a9d3b"
WEBHOOK_SECRET = "T0-SECRET-webhook-path-91f2"


def app_probes(sim, timeout="2s"):
    return [
        http_probe("app_health", sim.url("/api/health"), interval=FAST, timeout=timeout,
                   expect={"json": {"/status": "ok"}}),
        http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                   timeout=timeout, depends_on="app_health_down",
                   metrics={"requests_total": {"path": "/metrics/requests/total",
                                               "type": "counter"},
                            "errors_total": {"path": "/metrics/requests/errors",
                                             "type": "counter"},
                            "p95_ms": "/metrics/responseTime/p95",
                            "memory_pct": "/metrics/memory/percentage",
                            "heap_used_mb": "/metrics/memory/heapUsedMB",
                            "cache_hit_rate_pct": "/metrics/cache/hitRate"}),
    ]


RULES = [
    {"name": "error_rate",
     "ratio": {"numerator": "app_advanced.errors_total",
               "denominator": "app_advanced.requests_total", "scale": 100,
               "min_denominator": 200},
     "aggregate": "delta", "window": "3s", "op": ">", "warn": 0.1, "crit": 1,
     "unit": "%", "depends_on": "app_health_down", "labels": {"team": "web"},
     "summary": "error rate {value} % over {window}, threshold {threshold} %"},
    {"name": "api_p95", "metric": "app_advanced.p95_ms", "aggregate": "avg", "window": "3s",
     "op": ">", "warn": 500, "crit": 1000, "unit": "ms", "labels": {"team": "web"}},
    {"name": "memory", "metric": "app_advanced.memory_pct", "op": ">", "warn": 70,
     "crit": 80, "unit": "%", "labels": {"team": "platform"}},
    {"name": "cache_hit_rate", "metric": "app_advanced.cache_hit_rate_pct", "op": "<",
     "warn": 70, "crit": 50, "unit": "%"},
]


def call(v, method, path, token=None, body=None, headers=None, timeout=5.0):
    """(status, headers, body bytes) of one request; errors are answers."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(v.base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=getattr(v, "ssl", None)) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def token_file(workdir, token=TOKEN):
    return write_secret(os.path.join(workdir, "api.token"), token + "\n")


def sim_sentry_db(case, cluster, sentry_token):
    """A simulator that also serves Sentry's API under a token, and probes
    of it (sentry) and of cluster (db) at FAST: every probe type the
    application's metrics come from."""
    sim_token = os.path.join(case.workdir, "sim-sentry-token")
    vigil_token = os.path.join(case.workdir, "vigil-sentry-token")
    for path in (sim_token, vigil_token):
        write_secret(path, sentry_token + "\n")
    sim = case.sim(args=["--rps", "2000", "--sentry-token-file", sim_token])
    sentry = {"name": "sentry", "type": "sentry", "base_url": sim.url("/api/0/"),
              "organization": "acme", "project": "portal", "token_file": vigil_token,
              "interval": FAST, "timeout": "2s", "resolution": "10s",
              "issues_window": "1m"}
    db = {"name": "db", "type": "postgres", "interval": FAST, "timeout": "2s",
          "conninfo": cluster.conninfo(),
          "password_file": cluster.password_file(case.workdir, name="db.pgpass")}
    return sim, sentry, db


def samples(text):
    """{'name{labels}': value} of an exposition, comments left out."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


class Metrics(E2E):
    cluster = None

    @classmethod
    def setUpClass(cls):
        if shutil.which("promtool") is None:
            raise AssertionError("promtool not found: install Debian's prometheus (make deps)")
        cls.cluster = pg.Cluster(max_connections=20)
        cls.addClassCleanup(cls.cluster.destroy)

    def test_promtool_passes_with_every_probe_type_and_rules(self):
        sentry_token = "sntrys_op-e2e-5a1f-token"
        sim, sentry, db = sim_sentry_db(self, self.cluster, sentry_token)
        sentry["outcomes"] = True
        db["required_indexes"] = ["orders_customer_idx"]
        db["custom_queries"] = {"orders": "SELECT 42 AS total, 3 AS n_count"}
        rules = RULES + [
            {"name": "db_pool", "metric": "db.pool_used_pct", "op": ">", "warn": 80,
             "crit": 95, "unit": "%", "depends_on": "db_down"},
            {"name": "db_query_p95", "metric": "db.canary_ms", "aggregate": "p95",
             "window": "5s", "op": ">", "warn": 250, "unit": "ms"},
        ]
        v = self.vigild({"probes": app_probes(sim) + [db, sentry], "rules": rules})
        wait_for(lambda: all(v.rule(n)["state"] == "ok" for n in ("db_pool", "api_p95", "memory")),
                 15, what="rules judged ok")
        # Rates need a second run; custom queries come with them.
        wait_for(lambda: {"commits_per_s", "custom_orders_n_count"} <=
                 set((v.probe("db")["last_run"] or {}).get("metrics", {})), 15,
                 what="the database's full set of metrics")
        wait_for(lambda: v.probe("sentry")["state"] == "up" and "events_total" in
                 v.probe("sentry")["last_run"]["metrics"], 15, what="sentry up")
        status, headers, body = call(v, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        text = body.decode()
        self.assertTrue(text.endswith("\n"))
        rc, out = promtool(text)
        self.assertEqual((rc, out), (0, ""), text[-3000:])

        s = samples(text)
        for p in ("app_health", "app_advanced", "db", "sentry"):
            self.assertEqual(s[f'vigil_probe_up{{probe="{p}"}}'], 1, p)
            self.assertGreater(s[f'vigil_probe_runs_total{{probe="{p}"}}'], 0)
            self.assertGreater(s[f'vigil_probe_duration_seconds{{probe="{p}"}}'], 0)
        self.assertIn('vigil_probe_phase_seconds{probe="app_health",phase="first_byte"}', s)
        self.assertEqual(s['vigil_build_info{version="0.1.0"}'], 1)
        if TIMING:
            # Degraded says the loop lagged over a second: under memcheck,
            # a matter of its pace.
            self.assertEqual(s["vigil_degraded"], 0)
        # Every rule is in exactly one state.
        for r in [x["name"] for x in rules] + ["app_health_down", "db_down", "sentry_down"]:
            states = [s[f'vigil_rule_state{{rule="{r}",state="{st}"}}']
                      for st in ("ok", "pending", "firing", "resolved", "unknown")]
            self.assertEqual(sum(states), 1, r)
        # Recorded metrics, in base units, in fixed families labelled by
        # probe and metric.
        st = v.status()
        adv = v.probe("app_advanced")["last_run"]["metrics"]

        def m(fam, probe, metric):
            return s[f'{fam}{{probe="{probe}",metric="{metric}"}}']
        self.assertGreater(m("vigil_metric_seconds", "app_advanced", "p95"), 0)
        self.assertLess(m("vigil_metric_seconds", "app_advanced", "p95"), 10, "seconds, not ms")
        self.assertTrue(0 < m("vigil_metric_ratio", "app_advanced", "memory") < 1)
        self.assertGreater(m("vigil_metric_bytes", "app_advanced", "heap_used"), 1e6)
        # The same counter: /status is read after the scrape, and runs go
        # on every 300 ms, so the scraped value is the same or older.
        self.assertGreater(m("vigil_cumulative_total", "app_advanced", "requests"), 0)
        self.assertLessEqual(m("vigil_cumulative_total", "app_advanced", "requests"),
                             adv["requests_total"])
        self.assertRegex(text, r"# TYPE vigil_cumulative_total counter\n")
        self.assertRegex(text, r"# TYPE vigil_metric gauge\n")
        self.assertTrue(0 <= m("vigil_metric_ratio", "db", "pool_used") <= 1)
        self.assertGreaterEqual(m("vigil_metric_seconds", "db", "canary"), 0)
        self.assertIn(m("vigil_metric", "db", "index_orders_customer_idx_ok"), (0, 1))
        self.assertEqual(m("vigil_metric", "db", "custom_orders_n_count"), 3)
        self.assertEqual(m("vigil_metric", "db", "custom_orders_total"), 42,
                         "a custom column is a gauge whatever its name")
        self.assertGreaterEqual(m("vigil_cumulative_total", "db", "xact_commit"), 0)
        self.assertGreaterEqual(m("vigil_cumulative_total", "sentry", "events"), 0)
        self.assertGreaterEqual(m("vigil_metric", "sentry", "unresolved_issues"), 0)
        # Fixed families: none named after a probe or a metric.
        fams = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
        for f in fams:
            if f.startswith("vigil_"):
                self.assertNotRegex(f, r"app_|_db_|sentry|p95|memory", f)
        self.assertNotIn(sentry_token, text)
        self.assertLess(abs(s['vigil_rule_value{rule="memory"}'] - adv["memory_pct"]), 5)
        self.assertEqual(s['vigil_rule_threshold{rule="api_p95",level="critical"}'], 1000)
        self.assertGreaterEqual(s["vigil_uptime_seconds"], 0)
        self.assertEqual(st["status"], "pass")
        # process_*, by the names every client library uses: vigild's own
        # numbers, read on its loop (not a forked renderer's).
        with open(f"/proc/{v.proc.pid}/status") as f:
            rss_kb = int(next(x for x in f if x.startswith("VmRSS:")).split()[1])
        self.assertLess(abs(s["process_resident_memory_bytes"] / 1024 - rss_kb), rss_kb / 2)
        self.assertGreaterEqual(s["process_open_fds"], 3)
        self.assertLessEqual(s["process_open_fds"], len(os.listdir(f"/proc/{v.proc.pid}/fd")) + 16)
        self.assertGreater(s["process_max_fds"], s["process_open_fds"])
        self.assertGreater(s["process_cpu_seconds_total"], 0)
        self.assertEqual(s["process_start_time_seconds"], s["vigil_start_time_seconds"])
        self.assertRegex(text, r"# TYPE process_cpu_seconds_total counter\n")

        # Degraded: the critical shows, and the exposition stays valid.
        sim.scenario("error_spike")
        wait_for(lambda: v.rule("error_rate").get("severity") == "critical" and
                 v.rule("error_rate")["state"] == "firing", 15, what="error_rate critical")
        text = call(v, "GET", "/metrics")[2].decode()
        self.assertEqual(promtool(text), (0, ""))
        s = samples(text)
        self.assertEqual(s['vigil_rule_state{rule="error_rate",state="firing"}'], 1)
        self.assertEqual(s['vigil_rule_severity{rule="error_rate"}'], 2)
        self.assertEqual(s['vigil_alerts{state="firing",severity="critical"}'], 1)
        self.assertIn('vigil_alerts{state="pending",severity="warning"}', s)
        # HEAD answers alike, without a body.
        status, headers, body = call(v, "HEAD", "/metrics")
        self.assertEqual((status, body), (200, b""))

    def test_no_family_is_named_after_the_configuration(self):
        """Families are fixed: probe, rule and metric names are label values
        only, so one dashboard serves every configuration (#20)."""
        sim = self.sim(args=["--rps", "2000"])
        c = self.cluster
        web = http_probe("zz_probe_q", sim.url("/api/health/advanced"), interval=FAST,
                         metrics={"xx_metric_q_ms": "/metrics/responseTime/p95",
                                  "xx_metric_qreq_total": {"path": "/metrics/requests/total",
                                                           "type": "counter"},
                                  "xx_metric_qmem_pct": "/metrics/memory/percentage",
                                  # The same labels as xx_metric_q_ms: left out.
                                  "xx_metric_q_s": "/metrics/responseTime/p95"})
        db = {"name": "zz_probe_qdb", "type": "postgres", "interval": FAST, "timeout": "2s",
              "conninfo": c.conninfo(),
              "password_file": c.password_file(self.workdir, name="db.pgpass"),
              "required_indexes": [{"index": "orders_customer_idx", "name": "xx_metric_qidx"}],
              "custom_queries": {"xx_metric_qquery": "SELECT 7 AS xx_metric_qcol"}}
        rules = [{"name": "yy_rule_q", "metric": "zz_probe_q.xx_metric_q_ms", "op": ">",
                  "warn": 100000, "unit": "ms"},
                 {"name": "yy_rule_qpool", "metric": "zz_probe_qdb.pool_used_pct", "op": ">",
                  "warn": 99}]
        v = self.vigild({"probes": [web, db], "rules": rules})
        wait_for(lambda: "custom_xx_metric_qquery_xx_metric_qcol" in
                 ((v.probe("zz_probe_qdb")["last_run"] or {}).get("metrics", {})) and
                 "xx_metric_q_ms" in ((v.probe("zz_probe_q")["last_run"] or {})
                                      .get("metrics", {})) and
                 v.rule("yy_rule_q")["state"] == "ok", 15, what="both probes' metrics")
        text = v.metrics()
        fams = set()
        for line in text.splitlines():
            if line.startswith("# TYPE ") or line.startswith("# HELP "):
                fams.add(line.split()[2])
            elif line and not line.startswith("#"):
                fams.add(re.split(r"[{ ]", line, 1)[0])
        for f in sorted(fams):
            for name in ("zz_probe", "yy_rule", "xx_metric"):
                self.assertNotIn(name, f)
        # Yet every one of them is there, as a label value.
        s = samples(text)
        self.assertIn('vigil_metric_seconds{probe="zz_probe_q",metric="xx_metric_q"}', s)
        self.assertIn('vigil_cumulative_total{probe="zz_probe_q",metric="xx_metric_qreq"}', s)
        self.assertIn('vigil_metric_ratio{probe="zz_probe_q",metric="xx_metric_qmem"}', s)
        p95 = v.probe("zz_probe_q")["last_run"]["metrics"]["xx_metric_q_ms"]
        self.assertIn("# vigil: zz_probe_q.xx_metric_q_s is not exported", text)
        self.assertEqual(text.count('vigil_metric_seconds{probe="zz_probe_q",metric="xx_metric_q"}'),
                         1)
        self.assertGreater(p95, 0)
        self.assertEqual(s['vigil_metric{probe="zz_probe_qdb",'
                           'metric="custom_xx_metric_qquery_xx_metric_qcol"}'], 7)
        self.assertIn('vigil_metric{probe="zz_probe_qdb",metric="index_xx_metric_qidx_ok"}', s)
        self.assertIn('vigil_rule_value{rule="yy_rule_q"}', s)
        self.assertIn('vigil_probe_up{probe="zz_probe_qdb"}', s)


class Livez(E2E):
    def test_livez_is_about_vigild_not_the_application(self):
        sim = self.sim()
        v = self.vigild({"probes": app_probes(sim)})
        sim.scenario("down")
        wait_for(lambda: v.get("/health")[0] == 503, 10, what="/health 503")
        status, headers, body = call(v, "GET", "/livez")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(headers["Content-Type"], "application/health+json")
        self.assertEqual(json.loads(body)["status"], "pass")
        self.assertEqual(call(v, "HEAD", "/livez")[0], 200)
        self.assertEqual(call(v, "POST", "/livez", body="")[0], 405)

        # vigild itself stalls (stopped 2.5 s): its own loop is late, so
        # /livez says so, whatever the application does.
        sim.scenario("healthy")
        v.signal(signal.SIGSTOP)
        time.sleep(2.5)     # a sleep: the stall itself, vigild stopped for 2.5 s
        v.signal(signal.SIGCONT)
        doc = wait_for(lambda: (lambda r: json.loads(r[2]) if r[0] == 503 else None)(
            call(v, "GET", "/livez")), 5, what="/livez 503 after a stall")
        self.assertEqual(doc["status"], "fail")
        self.assertIn("lagged", doc["output"])
        # /health says it too (vigild cannot be trusted for ten seconds),
        # and /metrics carries the lag and the degraded flag.
        status, _, body = call(v, "GET", "/health")
        self.assertEqual(status, 503, body)
        self.assertRegex(json.loads(body)["output"], r"vigild's event loop lagged \d+ ms in the "
                                                     r"last 10 s \(limit 1000 ms\)")
        metrics = v.metrics()
        self.assertIn("\nvigil_degraded 1\n", metrics)
        self.assertRegex(metrics, r"\nvigil_loop_lag_seconds [0-9.e+-]+\n")


class Alerts(E2E):
    def test_active_alerts_in_order_with_filters(self):
        sim = self.sim(args=["--rps", "2000"])
        rules = [
            dict(RULES[0]),                                   # critical on error_spike
            {"name": "p95_low_bar", "metric": "app_advanced.p95_ms", "op": ">", "warn": 1},
            {"name": "memory_slow", "metric": "app_advanced.memory_pct", "op": ">",
             "warn": 1, "for": "1h"},                         # pending for an hour
            {"name": "nowhere", "ratio": {"numerator": "app_advanced.errors_total",
                                          "denominator": "app_advanced.requests_total",
                                          "min_denominator": 1e12},
             "aggregate": "delta", "window": "2s", "op": ">", "warn": 1},  # unknown
            {"name": "fine", "metric": "app_advanced.memory_pct", "op": ">", "warn": 99},
        ]
        v = self.vigild({"probes": app_probes(sim), "rules": rules})
        sim.scenario("error_spike")
        wait_for(lambda: v.rule("error_rate")["state"] == "firing" and
                 v.rule("p95_low_bar")["state"] == "firing" and
                 v.rule("memory_slow")["state"] == "pending" and
                 v.rule("nowhere")["state"] == "unknown" and
                 v.rule("fine")["state"] == "ok", 15, what="the states")
        status, headers, body = call(v, "GET", "/alerts")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        doc = json.loads(body)
        names = [a["rule"] for a in doc["alerts"]]
        self.assertEqual(names, ["error_rate", "p95_low_bar", "memory_slow", "nowhere"])
        first = doc["alerts"][0]
        self.assertEqual((first["state"], first["severity"]), ("firing", "critical"))
        self.assertGreater(first["value"], 1)
        self.assertIn("since", first)
        self.assertRegex(first["summary"], r"^error rate [\d.]+ % over 3s")
        self.assertEqual(first["labels"], {"team": "web"})
        unknown = doc["alerts"][3]
        self.assertEqual(unknown["state"], "unknown")
        self.assertNotIn("severity", unknown)
        self.assertIn("too little data", unknown["reason"])
        self.assertEqual(doc["counts"], {"critical": 1, "warning": 1, "pending": 1, "unknown": 1,
                                         "silenced": 0, "suppressed": 0})
        self.assertEqual(doc["silences"], [])

        def only(q):
            return [a["rule"] for a in json.loads(call(v, "GET", "/alerts" + q)[2])["alerts"]]
        self.assertEqual(only("?severity=critical"), ["error_rate"])
        self.assertEqual(only("?severity=warning&state=firing"), ["p95_low_bar"])
        self.assertEqual(only("?state=pending"), ["memory_slow"])
        self.assertEqual(only("?state=unknown"), ["nowhere"])
        self.assertEqual(only("?state=firing,pending"), ["error_rate", "p95_low_bar",
                                                         "memory_slow"])
        status, _, body = call(v, "GET", "/alerts?severity=fatal")
        self.assertEqual(status, 400)
        self.assertIn("critical or warning", json.loads(body)["error"])


class Silences(E2E):
    def setUp(self):
        super().setUp()
        self.sim_ = self.sim(args=["--rps", "2000"])
        self.v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                              "probes": app_probes(self.sim_), "rules": RULES})

    def add(self, token=TOKEN, **body):
        status, headers, raw = call(self.v, "POST", "/silences", token=token,
                                    body=json.dumps(body))
        return status, headers, json.loads(raw) if raw else None

    def test_token_missing_401_wrong_403_right_201(self):
        body = {"rule": "memory", "author": "ana", "comment": "c", "duration": "1h"}
        status, headers, doc = self.add(token=None, **body)
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="vigild"')
        self.assertEqual(self.add(token="wrong", **body)[0], 403)
        self.assertEqual(self.add(token=TOKEN + "x", **body)[0], 403)
        self.assertEqual(self.add(token=TOKEN[:-1], **body)[0], 403)
        status, headers, doc = self.add(**body)
        self.assertEqual(status, 201, doc)
        self.assertEqual(headers["Location"], f"/silences/{doc['id']}")
        # DELETE likewise.
        path = f"/silences/{doc['id']}"
        self.assertEqual(call(self.v, "DELETE", path)[0], 401)
        self.assertEqual(call(self.v, "DELETE", path, token="nope")[0], 403)
        self.assertEqual(call(self.v, "DELETE", path, token=TOKEN)[0], 204)
        # Reading is open on loopback.
        self.assertEqual(call(self.v, "GET", "/silences")[0], 200)
        self.assertIn("event=auth_rejected reason=wrong_token", self.v.log_text())
        self.assertNotIn(TOKEN, self.v.log_text())

    def test_bad_silences_say_why(self):
        cases = [
            ({"author": "a", "comment": "c", "duration": "1h"}, "rule name or label"),
            ({"rule": "memory", "comment": "c", "duration": "1h"}, "author and a comment"),
            ({"rule": "memory", "author": "a", "comment": "c"}, "every silence ends"),
            ({"rule": "memory", "author": "a", "comment": "c", "duration": "40d"}, "30 days"),
            ({"rule": "memory", "author": "a", "comment": "c", "expires_at": 1000}, "future"),
            ({"rule": "memroy", "author": "a", "comment": "c", "duration": "1h"},
             'no rule named "memroy"'),
            ({"rule": "memory", "author": "a", "coment": "c", "duration": "1h"}, "unknown key"),
        ]
        for body, why in cases:
            status, _, doc = self.add(**body)
            self.assertEqual(status, 400, body)
            self.assertIn(why, doc["error"], body)
        status, _, raw = call(self.v, "POST", "/silences", token=TOKEN, body="{nope")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(self.v.get("/silences")[2]), {"silences": []})

    def test_create_match_show_and_expire(self):
        v = self.v
        self.sim_.scenario("error_spike")
        wait_for(lambda: v.rule("error_rate")["state"] == "firing", 15, what="error_rate firing")
        # By rule name: covers that rule only.
        status, _, doc = self.add(rule="error_rate", author="ana", comment="INC-7 <b>db</b>",
                                  duration="2h")
        self.assertEqual(status, 201)
        sid = doc["id"]
        self.assertEqual(doc["silence"]["matches"], ["error_rate"])
        r = v.rule("error_rate")
        self.assertEqual(r["state"], "firing", "a silence never changes the truth")
        self.assertEqual(r["silenced_by"]["id"], sid)
        self.assertEqual(r["silenced_by"]["author"], "ana")
        self.assertEqual(r["silenced_by"]["comment"], "INC-7 <b>db</b>")
        self.assertGreater(r["silenced_by"]["expires_in_s"], 7000)
        self.assertNotIn("silenced_by", v.rule("api_p95"))
        alerts = json.loads(v.get("/alerts")[2])
        self.assertEqual(alerts["alerts"][0]["rule"], "error_rate")
        self.assertEqual(alerts["alerts"][0]["silenced_by"]["id"], sid)
        self.assertEqual(alerts["counts"]["silenced"], 1)
        self.assertEqual([s["id"] for s in alerts["silences"]], [sid])
        # Someone knows: a silenced critical no longer fails /health; it
        # is named in the notes, with who and until when.
        s, _, raw = v.get("/health")
        health = json.loads(raw)
        self.assertEqual(s, 200, health)
        self.assertIn(health["status"], ("pass", "warn"), health)   # api_p95 may warn
        self.assertNotIn("error_rate", health.get("output", ""))
        self.assertNotIn("api:error_rate", health["checks"])
        self.assertTrue(any(n.startswith("error_rate: critical, silenced by ana until ")
                            for n in health["notes"]), health)
        page = v.get("/")[2].decode()
        self.assertIn(f"Silenced (#{sid}) by ana", page)
        self.assertIn("INC-7 &lt;b&gt;db&lt;/b&gt;", page)
        self.assertNotIn("<b>db</b>", page)
        self.assertEqual([s["id"] for s in v.status()["silences"]], [sid])
        self.assertIn("event=silence_added id=%d rule=error_rate" % sid, v.log_text())

        # By labels: every rule with team=web, nothing else.
        status, _, doc = self.add(matchers={"team": "web"}, author="bo", comment="deploy",
                                  duration="30m")
        self.assertEqual(status, 201)
        lid = doc["id"]
        self.assertEqual(sorted(doc["silence"]["matches"]), ["api_p95"],
                         "error_rate is shown under the first silence that matches it")
        self.assertEqual(v.rule("api_p95")["silenced_by"]["id"], lid)
        self.assertNotIn("silenced_by", v.rule("memory"))
        self.assertNotIn("silenced_by", v.rule("cache_hit_rate"))
        status, _, doc = self.add(matchers={"team": "nobody"}, author="bo", comment="x",
                                  duration="5m")
        self.assertEqual((status, doc["warning"]), (201, "it matches no rule now"))
        self.assertEqual(call(v, "GET", f"/silences/{lid}")[0], 200)

        # Expired by hand: gone everywhere; a second time is a 404.
        self.assertEqual(call(v, "DELETE", f"/silences/{sid}", token=TOKEN)[0], 204)
        self.assertEqual(v.rule("error_rate")["silenced_by"]["id"], lid, "labels still cover it")
        self.assertEqual(call(v, "DELETE", f"/silences/{lid}", token=TOKEN)[0], 204)
        self.assertNotIn("silenced_by", v.rule("error_rate"))
        self.assertEqual(call(v, "DELETE", f"/silences/{sid}", token=TOKEN)[0], 404)
        self.assertEqual(call(v, "DELETE", "/silences/999", token=TOKEN)[0], 404)
        self.assertEqual(call(v, "DELETE", "/silences/abc", token=TOKEN)[0], 404)
        self.assertEqual(call(v, "GET", f"/silences/{sid}")[0], 404)
        health = json.loads(v.get("/health")[2])
        self.assertNotIn("silenced", " ".join(health.get("notes", [])))
        self.assertIn("critical: error_rate: ", health["output"])

        # Expired by time: an expiry two seconds ahead, as Unix seconds.
        status, _, doc = self.add(rule="memory", author="cy", comment="brief",
                                  expires_at=time.time() + 2)
        self.assertEqual(status, 201)
        self.assertEqual(v.rule("memory")["silenced_by"]["id"], doc["id"])
        wait_for(lambda: "silenced_by" not in v.rule("memory"), 5, what="the silence to expire")
        self.assertNotIn(doc["id"], [s["id"] for s in json.loads(v.get("/silences")[2])["silences"]])

    def test_no_token_configured_refuses_every_mutation(self):
        sim = self.sim(name="sim2")
        v = self.vigild({"probes": app_probes(sim)}, name="vigild2")
        status, _, body = call(v, "POST", "/silences", token=TOKEN, body=json.dumps(
            {"rule": "app_health_down", "author": "a", "comment": "c", "duration": "1h"}))
        self.assertEqual(status, 403)
        self.assertIn("api.token_file", json.loads(body)["error"])
        self.assertEqual(call(v, "DELETE", "/silences/1", token=TOKEN)[0], 403)


class SilencedSendsNothing(E2E):
    @timing_sensitive
    def test_a_silenced_firing_rule_notifies_nobody_until_the_silence_ends(self):
        from harness import WebhookReceiver
        rcv = WebhookReceiver()
        self.addCleanup(rcv.stop)
        sim = self.sim(args=["--rps", "2000"])
        v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                         "probes": app_probes(sim), "rules": RULES,
                         "notifiers": [{"name": "hook", "type": "webhook", "url": rcv.url,
                                        "rules": ["error_rate"], "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("error_rate")["state"] == "ok", 15, what="error_rate ok")
        status, _, body = call(v, "POST", "/silences", token=TOKEN, body=json.dumps(
            {"matchers": {"team": "web"}, "author": "ana", "comment": "known", "duration": "1h"}))
        self.assertEqual(status, 201)
        sid = json.loads(body)["id"]
        sim.scenario("error_spike")
        wait_for(lambda: v.rule("error_rate")["state"] == "firing", 15, what="firing")
        time.sleep(2)       # a sleep: proves several notifier passes send nothing
        self.assertEqual(rcv.bodies(), [], "a silenced alert sends nothing")
        self.assertEqual(v.rule("error_rate")["silenced_by"]["id"], sid)
        # The silence ends while it still fires: now it is told.
        self.assertEqual(call(v, "DELETE", f"/silences/{sid}", token=TOKEN)[0], 204)
        bodies = wait_for(lambda: rcv.bodies(), 10, what="the notification")
        self.assertEqual((bodies[0]["rule"], bodies[0]["kind"]), ("error_rate", "firing"))


class WideVigild(Vigild):
    """vigild listening on every interface (reached, still, on loopback)."""

    def write_config(self, config):
        if isinstance(config, dict):
            config = dict(config)
            config.setdefault("api", {})["listen"] = f"0.0.0.0:{self.port}"
            config = json.dumps(config, indent=2)
        super().write_config(config)


class TlsVigild(Vigild):
    """vigild over HTTPS, trusting its self-signed certificate."""

    def __init__(self, workdir, config, cafile, **kw):
        self.ssl = ssl.create_default_context(cafile=cafile)
        super().__init__(workdir, config, check_ready=False, **kw)
        self.base = f"https://127.0.0.1:{self.port}"
        wait_for(self.alive, 15, what="vigild to answer /health over https")

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"vigild exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return call(self, "GET", "/health", timeout=2)[0] in (200, 503)
        except OSError:
            return False


READS = ["/status", "/alerts", "/metrics", "/", "/silences"]


class Access(E2E):
    def test_beyond_loopback_the_detail_needs_the_token(self):
        sim = self.sim()
        v = WideVigild(self.workdir, {"api": {"token_file": token_file(self.workdir)},
                                      "probes": app_probes(sim)})
        self.vigilds.append(v)
        for path in ("/health", "/livez"):
            self.assertIn(call(v, "GET", path)[0], (200, 503), path)
        for path in READS:
            self.assertEqual(call(v, "GET", path)[0], 401, path)
            self.assertEqual(call(v, "GET", path, token="wrong")[0], 403, path)
            self.assertEqual(call(v, "GET", path, token=TOKEN)[0], 200, path)
        # /metrics is a shared rendering, renewed once probe runs moved: the
        # last four refusals show in one made after them, not at once (CI,
        # ASan: the scrape right after them still said 6).
        wait_for(lambda: "\nvigil_http_auth_failures_total 10\n" in
                 call(v, "GET", "/metrics", token=TOKEN)[2].decode(), 10,
                 what="the ten refusals in /metrics")

    def test_beyond_loopback_without_a_token_is_open_and_says_so(self):
        sim = self.sim()
        v = WideVigild(self.workdir, {"probes": app_probes(sim)})
        self.vigilds.append(v)
        for path in READS:
            self.assertEqual(call(v, "GET", path)[0], 200, path)
        self.assertIn("event=api_open", v.log_text())

    def test_no_answer_carries_a_secret(self):
        cluster = pg.Cluster(max_connections=20)
        self.addCleanup(cluster.destroy)
        sim = self.sim()
        hook = os.path.join(self.workdir, "webhook.url")
        write_secret(hook, f"http://127.0.0.1:9/hooks/{WEBHOOK_SECRET}\n")
        db = {"name": "db", "type": "postgres", "interval": FAST, "timeout": "2s",
              "conninfo": cluster.conninfo(),
              "password_file": cluster.password_file(self.workdir, name="db.pgpass")}
        v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                         "probes": app_probes(sim) + [db], "rules": RULES,
                         "notifiers": [{"name": "hook", "type": "webhook", "url_file": hook}]})
        wait_for(lambda: v.probe("db")["state"] == "up", 15, what="db up")
        status, _, doc = call(v, "POST", "/silences", token=TOKEN, body=json.dumps(
            {"rule": "memory", "author": "ana", "comment": "c", "duration": "1h"}))
        self.assertEqual(status, 201)
        secrets = [TOKEN, pg.VIGIL_PASSWORD, WEBHOOK_SECRET]
        answers = {}
        for method, path in [("GET", "/health"), ("HEAD", "/health"), ("GET", "/livez"),
                             ("GET", "/status"), ("GET", "/alerts"), ("GET", "/metrics"),
                             ("GET", "/"), ("GET", "/silences"), ("GET", "/silences/1"),
                             ("GET", "/nope"), ("PUT", "/status"), ("POST", "/baseline"),
                             ("DELETE", "/silences/99")]:
            for tok in (None, "wrong", TOKEN):
                status, headers, body = call(v, method, path, token=tok,
                                             body=b"{}" if method in ("POST", "PUT") else None)
                answers[(method, path, tok)] = status
                text = body.decode("utf-8", "replace") + json.dumps(headers)
                for s in secrets:
                    self.assertNotIn(s, text, f"{method} {path}")
        self.assertEqual(answers[("GET", "/nope", None)], 404)
        self.assertEqual(answers[("PUT", "/status", None)], 405)
        log = v.log_text()
        for s in secrets:
            self.assertNotIn(s, log)


class Limits(E2E):
    def test_bodies_too_large_and_methods(self):
        sim = self.sim()
        v = self.vigild({"api": {"token_file": token_file(self.workdir)},
                         "probes": app_probes(sim)})
        # Announced too large: refused before the body is read.
        with socket.create_connection(("127.0.0.1", v.port), timeout=5) as s:
            s.sendall(b"POST /silences HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                      b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n")
            head = s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head)
        # Sent too large, in chunks: read and dropped, then refused.
        status, _, _ = call(v, "POST", "/silences", token=TOKEN, body=b"x" * (65 * 1024))
        self.assertEqual(status, 413)
        status, headers, _ = call(v, "DELETE", "/status")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))
        status, headers, _ = call(v, "GET", "/baseline")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))
        status, headers, _ = call(v, "PUT", "/silences/1")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD, DELETE"))
        self.assertEqual(call(v, "GET", "/silences/1/x")[0], 404)
        self.assertEqual(call(v, "GET", "/health")[0], 200)


class Tls(E2E):
    def test_https_with_a_self_signed_certificate(self):
        if shutil.which("openssl") is None:
            raise AssertionError("openssl not found (make deps)")
        cert = os.path.join(self.workdir, "cert.pem")
        key = os.path.join(self.workdir, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=vigil-test",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        sim = self.sim()
        v = TlsVigild(self.workdir, {"api": {"token_file": token_file(self.workdir),
                                             "tls": {"cert_file": cert, "key_file": key}},
                                     "probes": app_probes(sim)}, cafile=cert)
        self.vigilds.append(v)
        status, headers, body = call(v, "GET", "/health")
        self.assertIn(status, (200, 503))
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(call(v, "GET", "/metrics")[0], 200)
        self.assertEqual(call(v, "POST", "/silences", token=TOKEN, body=json.dumps(
            {"rule": "app_health_down", "author": "a", "comment": "c", "duration": "1m"}))[0],
            201)
        # Plain HTTP to the TLS port gets no answer worth the name.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{v.port}/health", timeout=3) as r:
                self.fail(f"plain HTTP answered {r.status}")
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        # TLS 1.2 and later only (RFC 8996); SECLEVEL=0 lets openssl try 1.1.
        def handshake(version):
            return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{v.port}",
                                   version, "-cipher", "DEFAULT@SECLEVEL=0"],
                                  input="", capture_output=True, text=True, timeout=30)
        for old in ("-tls1", "-tls1_1"):
            r = handshake(old)
            self.assertNotEqual(r.returncode, 0, (old, r.stdout[-400:]))
        r = handshake("-tls1_2")
        self.assertEqual(r.returncode, 0, r.stderr[-400:])
        self.assertIn("Protocol  : TLSv1.2", r.stdout)
        key_text = open(key).read().split("-----")[2].strip().splitlines()[1]
        for path in ("/status", "/", "/metrics", "/alerts"):
            self.assertNotIn(key_text, call(v, "GET", path)[2].decode())
        # A key that does not load is an error at --check-config.
        bad = os.path.join(self.workdir, "bad.json")
        with open(bad, "w") as f:
            json.dump({"api": {"tls": {"cert_file": cert, "key_file": "/nonexistent.pem"}},
                       "probes": []}, f)
        from harness import VIGILD
        r = subprocess.run([VIGILD, "--check-config", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read the TLS key /nonexistent.pem", r.stderr)
