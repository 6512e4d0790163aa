"""Release day talks: a staged rollout (contrib/examples/staged-rollout.sh)
against the simulator, with the real vigild, vigilctl and two webhook
receivers (generic and Slack), heard as #incidents hears it: the
announcement, one update per stage, progress at the interval, a fail line
when the canary fails, and the completion summary whose numbers are
vigilctl report --json's."""
import calendar
import html
import json
import os
import time

from harness import SLOW, TIMING, wait_for
from test_notify import NotifyCase
from test_rollout import RolloutCase

PROGRESS_S = 2
KINDS = ("deploy_begin", "deploy_step", "deploy_verdict", "deploy_progress", "deploy_end")


def stamp(iso):
    """Seconds since the epoch of vigild's ISO time (UTC, milliseconds)."""
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + float(iso[19:23])


def deploy_bodies(rcv):
    return [b for b in rcv.bodies() if b.get("kind", "").startswith("deploy_")]


def slack_texts(rcv):
    return [b["text"] for b in rcv.bodies()]


class Talk(RolloutCase, NotifyCase):
    def talk_config(self, sim, generic, slack):
        cfg = self.config(sim)
        cfg["instance"] = "ops-1"
        cfg["notifiers"] = [
            {"name": "incidents_json", "type": "webhook", "url": generic.url,
             "deploys": True, "progress_interval": f"{PROGRESS_S}s", "rules": ["api_p95"]},
            {"name": "incidents", "type": "webhook", "format": "slack", "url": slack.url,
             "deploys": True, "progress_interval": f"{PROGRESS_S}s", "rules": ["api_p95"]},
        ]
        return cfg

    def run_rollout(self, version, scenario):
        sim = self.sim(args=["--rps", "2000", "--window", "2"])
        generic, slack = self.receiver(), self.receiver()
        v = self.vigild(self.talk_config(sim, generic, slack))
        self.settled(v)
        os.environ["ANNOUNCE"] = "Database optimization, caching layer"
        self.addCleanup(os.environ.pop, "ANNOUNCE", None)
        rc, out, err, undone = self.rollout(v, sim, version, scenario)
        end = wait_for(lambda: [b for b in deploy_bodies(generic)
                                if b["kind"] == "deploy_end"], 10 * SLOW, what="deploy_end")
        wait_for(lambda: any(t.startswith(("✅", "🔴", "🟡", "⚪"))
                             and "Deploy " + version in t for t in slack_texts(slack)),
                 10 * SLOW, what="the Slack summary")
        return v, generic, slack, rc, out + err, end[0]

    def assert_stream(self, bodies, stages, planned=(10, 50, 100)):
        kinds = [b["kind"] for b in bodies]
        self.assertEqual(kinds[0], "deploy_begin", kinds)
        self.assertEqual(kinds[-1], "deploy_end", kinds)
        self.assertEqual(kinds.count("deploy_begin"), 1, kinds)
        self.assertEqual(kinds.count("deploy_end"), 1, kinds)
        steps = [b for b in bodies if b["kind"] == "deploy_step"]
        self.assertEqual([(s["stage"]["from"], s["stage"]["to"]) for s in steps],
                         list(zip([0] + stages[:-1], stages)), steps)
        for b in bodies:
            self.assertIn(b["kind"], KINDS)
            self.assertEqual(b["instance"], "ops-1")
            self.assertEqual(b["mark"], {"pass": "🟢", "warn": "🟡", "fail": "🔴"}.get(
                b["verdict"], "⚪"))
        begin = bodies[0]
        self.assertEqual(begin["announce"], "Database optimization, caching layer")
        self.assertEqual(begin["planned_stages"], list(planned))
        self.assertIn("🪜 Stages planned: " + ", ".join(f"{w} %" for w in planned),
                      begin["text"])
        self.assertIn("🔍 What: Database optimization, caching layer", begin["text"])
        self.assertEqual([c["name"] for c in begin["checks"]],
                         ["error_rate", "api_p95", "app_health_down"])
        # Progress: on the slots begun + k * interval while open, each at
        # most one reconcile pass (a second) late, none skipped.
        prog = [b for b in bodies if b["kind"] == "deploy_progress"]
        self.assertGreaterEqual(len(prog), 2, kinds)
        begun = stamp(begin["baseline"]["to"])
        offs = [stamp(b["time"]) - begun for b in prog]
        slots = [int(o // PROGRESS_S) for o in offs]
        if TIMING:      # lateness: at full speed only (harness.TIMING)
            self.assertEqual(slots, list(range(1, len(prog) + 1)), offs)
            for o, k in zip(offs, slots):
                self.assertLess(o - k * PROGRESS_S, 1.0 + 0.2 * SLOW, offs)
        else:           # the schedule itself: rising, never a slot twice
            self.assertEqual(slots, sorted(set(slots)), offs)
        # Every slot before the window ended was told, but one due in the
        # last pass before it (told late, the window was closed by then).
        ended = stamp(bodies[-1]["report"]["ended"]) - begun
        due = int(ended // PROGRESS_S)
        self.assertLessEqual(len(prog), due, (offs, ended))
        if TIMING:
            self.assertGreaterEqual(len(prog), due - 1, (offs, ended))
        if TIMING and len(prog) == due - 1:
            self.assertLess(ended - due * PROGRESS_S, 1.0 + 0.2 * SLOW, (offs, ended))
        for b in prog:
            self.assertRegex(b["text"], r"^\[\d\d:\d\d UTC\] (🟢|🟡|🔴|⚪) error rate ")
        # Nothing after the end, and no progress once the window closed.
        n = len(bodies)
        time.sleep(PROGRESS_S + 1)  # a sleep: proves no progress comes after the end
        return n

    def assert_summary(self, v, end, verdict):
        rc, rep, err = self.ctl(v, "report", "--json", "--deploy", str(end["deploy"]["id"]))
        self.assertEqual(rc, 0, err)
        rep = json.loads(rep)
        self.assertEqual(end["verdict"], verdict)
        self.assertEqual(rep["verdict"]["final"], verdict)
        for k in ("requests", "errors", "error_rate_pct", "cache_hits"):
            self.assertEqual(end["summary"][k], rep["traffic"].get(k), k)
            self.assertEqual(end["report"]["traffic"].get(k), rep["traffic"].get(k), k)
        self.assertEqual(end["report"]["checks"], rep["checks"])
        self.assertEqual(end["report"]["stages"], rep["stages"])
        self.assertIsNone(end["summary"]["failed_requests"])
        t = end["text"]
        for section in ("Performance against targets:", "Metrics summary:", "Monitoring:"):
            self.assertIn(section, t)
        self.assertIn("- Requests processed: %.0f" % rep["traffic"]["requests"], t)
        self.assertIn("- Errors: %.0f (" % rep["traffic"]["errors"], t)
        # Never invented: what vigil does not measure says so.
        self.assertIn("- Cache hits: not measured", t)
        self.assertIn("- Failed requests: not measured", t)
        self.assertIn("- UptimeRobot: not measured", t)

    def test_good_release_heard_from_begin_to_summary(self):
        v, generic, slack, rc, out, end = self.run_rollout("1.0.0", "healthy")
        self.assertEqual(rc, 0, out)
        bodies = deploy_bodies(generic)
        n = self.assert_stream(bodies, [10, 50, 100])
        self.assertEqual(len(deploy_bodies(generic)), n, "updates after the end")
        self.assertNotIn("deploy_verdict", [b["kind"] for b in bodies])
        self.assert_summary(v, end, "pass")
        self.assertTrue(end["text"].startswith("✅ Deploy 1.0.0 complete: pass"), end["text"])
        # Slack: the same updates, as text and blocks.
        # (An alert's Slack text starts with its emoji code, ":red_circle:".)
        sl = [b for b in slack.bodies() if not b["text"].startswith(":")]
        self.assertEqual(len(sl), n, [b["text"] for b in sl])
        self.assertTrue(sl[0]["text"].startswith("🚀 Deploy 1.0.0 begins"), sl[0])
        for b in sl:
            self.assertEqual(b["blocks"][0]["type"], "section")
            self.assertIs(b["unfurl_links"], False)
        self.assertRegex(sl[1]["text"], r"^\[\d\d:\d\d UTC\] 🟢 Rollout 0 % → 10 %, verdict so far pass")
        summary = "\n\n".join(x["text"]["text"] for x in sl[-1]["blocks"])
        self.assertIn("Metrics summary:", summary)
        self.dump("good", sl)

    def test_canary_fail_is_a_red_line(self):
        v, generic, slack, rc, out, end = self.run_rollout("1.0.1", "error_spike?error_pct=0.3")
        self.assertEqual(rc, 2, out)
        bodies = deploy_bodies(generic)
        self.assert_stream(bodies, [10])
        fails = [b for b in bodies if b["kind"] == "deploy_verdict" and b["verdict"] == "fail"]
        self.assertEqual(len(fails), 1, [b["text"] for b in bodies])
        self.assertRegex(fails[0]["text"], r"^\[\d\d:\d\d UTC\] 🔴 Verdict fail \(was \w+\): "
                                           r"error_rate: relative")
        # One verdict notice per change: consecutive ones differ.
        told = [b["was"] + ">" + b["verdict"] for b in bodies if b["kind"] == "deploy_verdict"]
        for t in told:
            a, b = t.split(">")
            self.assertNotEqual(a, b, told)
        self.assert_summary(v, end, "fail")
        self.assertTrue(end["text"].startswith("🔴 Deploy 1.0.1 ended: fail"), end["text"])
        self.dump("canary-fail", slack.bodies(), end["report"])

    def test_announcement_input_is_checked(self):
        sim = self.sim()
        v = self.vigild(self.config(sim))
        begin = ("deploy", "begin", "--version", "2.0.0")
        rc, out, err = self.ctl(v, *begin, "--stages", "10,x")
        self.assertEqual(rc, 64, err)
        self.assertIn("--stages takes weights separated by commas", err)
        for bad in ("50,10", "10,10", "0,50", "10,101"):
            rc, out, err = self.ctl(v, *begin, "--stages", bad)
            self.assertEqual(rc, 4, bad + err)
            self.assertIn("each above the one before", err)
        rc, out, err = self.ctl(v, *begin, "--announce", "two\nlines")
        self.assertEqual(rc, 4, err)
        self.assertIn("one line of UTF-8 text", err)
        rc, out, err = self.ctl(v, *begin, "--announce", "x" * 401)
        self.assertEqual(rc, 4, err)
        # Nothing was begun by a refusal; a good one shows both.
        rc, out, err = self.ctl(v, *begin, "--stages", "10,25,50,100", "--announce",
                                "What: caching", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual((doc["id"], doc["planned_stages"], doc["announce"]),
                         (1, [10, 25, 50, 100], "What: caching"))
        rc, out, err = self.ctl(v, "deploy", "end", "--json")
        self.assertEqual(json.loads(out)["announce"], "What: caching")

    def dump(self, name, bodies, report=None):
        """The Slack texts as they arrived, for docs/release-gate.md (and
        a deploy's document, for tests/unit/fixtures/deploytext)."""
        d = os.environ.get("VIGIL_TALK_DUMP")
        if not d:
            return
        if report is not None:
            with open(os.path.join(d, name + ".report.json"), "w") as f:
                json.dump(report, f, indent=2, ensure_ascii=False)
        # As Slack shows them: its entities (&lt; &gt; &amp;) read back.
        with open(os.path.join(d, name + ".txt"), "w") as f:
            for b in bodies:
                f.write(html.unescape("\n\n".join(x["text"]["text"] for x in b["blocks"]))
                        + "\n\n")
