"""JSONPath metrics and expectations of http probes against the real vigild (#22).

A loopback server in the test process answers like Spring Boot Actuator's
/actuator/metrics/{name}: the value wanted sits in an array beside others
and is picked by content. A metric's query must match exactly one value;
none or several fail the run with a reason naming the query and the count.
A query that does not parse is refused at --check-config with the byte.
"""
import http.server
import json
import os
import subprocess
import threading

from harness import E2E, VIGILD, http_probe, wait_for

ACTUATOR = {
    "name": "jvm.memory.used",
    "baseUnit": "bytes",
    "measurements": [
        {"statistic": "VALUE", "value": 1.5e8},
        {"statistic": "MAX", "value": 2e8},
    ],
    "availableTags": [{"tag": "area", "values": ["heap", "nonheap"]}],
}
# The same meter after a change on the target: MAX is listed three times.
REPEATED = dict(ACTUATOR, measurements=[{"statistic": "MAX", "value": v}
                                        for v in (1, 2, 3)])


class Actuator:
    """GET /metrics/jvm serves ACTUATOR, /metrics/repeated REPEATED."""

    def __init__(self):
        bodies = {"/metrics/jvm": ACTUATOR, "/metrics/repeated": REPEATED,
                  "/health": {"status": "UP", "components": [
                      {"name": "db", "status": "UP"}, {"name": "disk", "status": "UP"}]}}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(bodies.get(self.path, {})).encode()
                self.send_response(200 if self.path in bodies else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


MAX = "$.measurements[?@.statistic=='MAX'].value"


class JsonPathMetrics(E2E):
    def test_filter_extracts_and_zero_or_several_fail(self):
        a = Actuator()
        self.addCleanup(a.stop)
        v = self.vigild({"probes": [
            http_probe("jvm", a.url("/metrics/jvm"), metrics={
                "max_bytes": MAX,
                "used_bytes": "$.measurements[?@.statistic == \"VALUE\"].value",
                "first_bytes": "/measurements/0/value"}),
            http_probe("absent", a.url("/metrics/jvm"), metrics={
                "count": "$.measurements[?@.statistic=='COUNT'].value"}),
            http_probe("repeated", a.url("/metrics/repeated"), metrics={
                "max_bytes": MAX, "also_absent": "$.nothing", "first": "/measurements/0/value"}),
            http_probe("health", a.url("/health"), expect={"json": {
                "$.status": "UP", "$.components[?@.name=='db'].status": ["UP", "OK"]}}),
            http_probe("health_any", a.url("/health"), expect={"json": {
                "$.components[*].status": "UP"}}),
        ]})
        names = ["jvm", "absent", "repeated", "health", "health_any"]
        wait_for(lambda: all(v.probe(n).get("last_run") for n in names), 10,
                 what="a finished run of every probe")

        jvm = v.probe("jvm")
        self.assertEqual(jvm["state"], "up", jvm)
        m = jvm["last_run"]["metrics"]
        self.assertEqual(m["max_bytes"], 2e8)
        self.assertEqual(m["used_bytes"], 1.5e8)
        self.assertEqual(m["first_bytes"], 1.5e8)      # JSON Pointer beside it, unchanged
        self.assertEqual(v.probe("health")["state"], "up", v.probe("health"))

        absent = v.probe("absent")
        self.assertEqual(absent["state"], "down", absent)
        self.assertEqual(absent["last_run"]["fail"], "json")
        self.assertEqual(absent["last_run"]["reason"],
                         "metric count: $.measurements[?@.statistic=='COUNT'].value "
                         "matched 0 values")
        rep = v.probe("repeated")
        self.assertEqual(rep["state"], "down", rep)
        self.assertEqual(rep["last_run"]["reason"], f"metric max_bytes: {MAX} matched 3 values")
        self.assertNotIn("max_bytes", rep["last_run"]["metrics"])
        # The first failing query is the reason; the other metrics are still read.
        self.assertEqual(rep["last_run"]["metrics"]["first"], 1)
        anyp = v.probe("health_any")
        self.assertEqual(anyp["state"], "down", anyp)
        self.assertEqual(anyp["last_run"]["reason"],
                         'expected a value at "$.components[*].status": it matched 2 values')

    def test_check_config_names_the_byte(self):
        path = os.path.join(self.workdir, "bad.json")
        with open(path, "w") as f:
            f.write('{"probes": [\n  {"name": "a", "type": "http", "url": "http://127.0.0.1:1/",\n'
                    '   "metrics": {"max": "$.measurements[?@.statistic==\'MAX\'.value"}}\n]}\n')
        r = subprocess.run([VIGILD, "--check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"{path}:3:23: metric \"max\": "
                      "\"$.measurements[?@.statistic=='MAX'.value\" is not valid JSONPath: "
                      "expected , or ] after a selector (at byte 34 of the path)", r.stderr)
        good = os.path.join(self.workdir, "good.json")
        with open(good, "w") as f:
            json.dump({"probes": [http_probe("a", "http://127.0.0.1:1/",
                                             metrics={"max": MAX})]}, f)
        r = subprocess.run([VIGILD, "--check-config", good], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
