"""What contrib/ ships for the Prometheus world, checked against the code:
contrib/prometheus/vigil-rules.yml passes `promtool check rules` and its
own `promtool test rules`; contrib/grafana/vigil.json is a Grafana
dashboard whose data source is a variable, whose every PromQL expression
parses, names only families a real vigild's /metrics exposes, and
answers with data when a real Prometheus scrapes a real vigild (probes
of every type, rules, a deploy window open); the rules evaluate there
without error.

Nothing here depends on how vigild was compiled but the scrape; the
static checks run once, in the pass over the plain build.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import pg
import test_operator as op
from harness import BUILD, ROOT, E2E, SLOW, free_port, wait_for, write_secret

PLAIN = os.path.realpath(BUILD) == os.path.realpath(os.path.join(ROOT, "build"))
RULES_DIR = os.path.join(ROOT, "contrib", "prometheus")
DASHBOARD = os.path.join(ROOT, "contrib", "grafana", "vigil.json")
VIGILCTL = os.path.join(BUILD, "vigilctl")


def need(tool):
    if shutil.which(tool) is None:
        raise AssertionError(f"{tool} not found: install Debian's prometheus (make deps)")


def dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def exprs(d):
    """(where, PromQL) of every panel target and annotation query."""
    out = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            out.append((f"panel {p['title']!r} {t['refId']}", t["expr"], True))
    for a in d["annotations"]["list"]:
        if "expr" in a:
            out.append((f"annotation {a['name']!r}", a["expr"], False))
    return out


def concrete(d, expr):
    """The expression as Grafana would send it: variables filled in."""
    vals = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
    for v in d["templating"]["list"]:
        if v["type"] == "textbox":
            vals[v["name"]] = v["query"]
        elif v["type"] == "query":
            vals[v["name"]] = ".*"    # every query variable is matched with =~
    return re.sub(r"\$\{?(\w+)\}?", lambda m: vals[m.group(1)], expr)


def families(text):
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, re.M)}


def names(expr):
    """Metric names an expression reads (vigil_*, process_*)."""
    return set(re.findall(r"\b((?:vigil|process)_[a-z0-9_]+)\b(?!\s*\()", expr))


def promtool_parse(exprs_):
    """Parses every expression (as recording rules, which promtool checks)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("groups:\n  - name: parse\n    rules:\n")
        for i, e in enumerate(exprs_):
            f.write(f"      - record: parse:expr{i}\n        expr: {json.dumps(e)}\n")
        path = f.name
    try:
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True,
                           text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr
    finally:
        os.unlink(path)


class Static(unittest.TestCase):
    def test_rules_check_and_their_unit_tests_pass(self):
        need("promtool")
        r = subprocess.run(["promtool", "check", "rules", "vigil-rules.yml"], cwd=RULES_DIR,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["promtool", "test", "rules", "vigil-rules.test.yml"],
                           cwd=RULES_DIR, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_dashboard_is_grafana_json_with_its_source_a_variable(self):
        d = dashboard()
        self.assertEqual(d["uid"], "vigil-overview")
        self.assertIsInstance(d["schemaVersion"], int)
        v = {x["name"]: x for x in d["templating"]["list"]}
        self.assertEqual(v["datasource"]["type"], "datasource")
        self.assertEqual(v["datasource"]["query"], "prometheus")
        # No data source is named: whoever imports it picks theirs.
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${datasource}"},
                             p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], "${datasource}", p["title"])
        # The seed's panels are there.
        titles = " / ".join(p["title"] for p in d["panels"])
        for want in ("Error rate", "API p95", "Memory", "Cache hit rate", "Connections",
                     "Slow statements", "Error events", "Alerts firing", "Rule states"):
            self.assertIn(want, titles)
        self.assertTrue(any(a["name"] == "Deploy windows" for a in d["annotations"]["list"]))
        # Panels do not overlap.
        cells = set()
        for p in d["panels"]:
            g = p["gridPos"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, p["title"])
                    cells.add((x, y))
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])

    def test_every_expression_parses(self):
        need("promtool")
        d = dashboard()
        xs = [concrete(d, e) for _, e, _ in exprs(d)]
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                # label_values(metric{...}, label): the selector must parse.
                m = re.match(r"label_values\((.*),\s*\w+\)$", v["query"]["query"])
                self.assertIsNotNone(m, v["name"])
                xs.append(concrete(d, m.group(1)))
        self.assertGreater(len(xs), 20)
        rc, out = promtool_parse(xs)
        self.assertEqual(rc, 0, out)
        # And the check bites: a broken expression is refused.
        self.assertNotEqual(promtool_parse(["rate(vigil_cumulative_total[1m]"])[0], 0)


class Scraped(E2E):
    """A real Prometheus scraping a real vigild answers every panel."""
    cluster = None

    @classmethod
    def setUpClass(cls):
        need("prometheus")
        cls.cluster = pg.Cluster(max_connections=20)
        cls.addClassCleanup(cls.cluster.destroy)

    def prometheus(self, target):
        port = free_port()
        data = tempfile.mkdtemp(prefix="prom-", dir=self.workdir)
        cfg = os.path.join(self.workdir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {os.path.join(RULES_DIR, "vigil-rules.yml")}
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ["{target}"]
""")
        log = open(os.path.join(self.workdir, "prometheus.log"), "wb")
        p = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                              f"--storage.tsdb.path={data}",
                              f"--web.listen-address=127.0.0.1:{port}"],
                             stdout=log, stderr=subprocess.STDOUT)

        def stop():
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        self.addCleanup(stop)
        base = f"http://127.0.0.1:{port}"

        def query(q):
            url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.loads(r.read())
            except OSError:
                return None
        return base, query

    def test_every_panel_answers_with_data(self):
        sim, sentry, db = op.sim_sentry_db(self, self.cluster, "sntrys_contrib-e2e-token")
        # One rule that is not ok, so the rule-state panel has a row.
        rules = op.RULES + [{"name": "canary_seen", "metric": "db.canary_ms", "op": ">",
                             "warn": 0}]
        token = os.path.join(self.workdir, "api.token")
        write_secret(token, "contrib-e2e-token-5d1c\n")
        v = self.vigild({"probes": op.app_probes(sim) + [db, sentry], "rules": rules,
                         "api": {"token_file": token},
                         "release": {"warmup": "0s", "interval": "1s",
                                     "checks": [{"rule": "error_rate"}]}})
        wait_for(lambda: v.probe("sentry")["state"] == "up" and
                 v.probe("db")["state"] == "up", 20, what="probes up")
        r = subprocess.run([VIGILCTL, "--url", v.base, "--token-file", token, "--no-color",
                            "deploy", "begin",
                            "--version", "7.7.7", "--warmup", "0s"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = v.metrics()
        fams = families(text)
        d = dashboard()
        for where, e, _ in exprs(d):
            missing = names(e) - fams
            self.assertEqual(missing, set(), f"{where} reads what /metrics lacks")
        base, query = self.prometheus(v.base.split("//", 1)[1].rstrip("/"))
        wait_for(lambda: (lambda j: j and j["data"]["result"] and
                          j["data"]["result"][0]["value"][1] == "1")(query('up{job="vigil"}')),
                 30 * SLOW, step=0.5, what="Prometheus scraping vigild")
        # Rates need two scrapes in their window, counters a change.
        time.sleep(5)
        for where, e, panel in exprs(d):
            q = concrete(d, e)
            res = wait_for(lambda: (lambda j: j if j and j["status"] == "success" and
                                    j["data"]["result"] else None)(query(q)),
                           20 * SLOW, step=0.5, what=f"data for {where}: {q}")
            self.assertEqual(res["status"], "success")
        # The shipped rules evaluate here without an error.
        def rules_ok():
            with urllib.request.urlopen(base + "/api/v1/rules", timeout=5) as r:
                groups = json.loads(r.read())["data"]["groups"]
            ok = all(rule["health"] == "ok" for g in groups for rule in g["rules"])
            return groups if ok else None
        groups = wait_for(rules_ok, 20 * SLOW, step=0.5, what="rules evaluated")
        self.assertEqual({g["name"] for g in groups}, {"vigil-recording", "vigil-self"})
        self.assertEqual(sum(len(g["rules"]) for g in groups), 11)


# Static: defined in the plain pass only (a skip counts as a failure here).
if not PLAIN:
    del Static
