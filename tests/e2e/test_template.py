"""Templated webhooks end to end: Discord-, Teams- and Telegram-shaped
bodies built from a template as the real vigild watches the simulator,
valid JSON whatever the summary holds (quotes, line breaks, backslashes,
a would-be placeholder), a text/plain body as written, and a template
with an unknown field refused at load with its line and column."""
import json
import os
import subprocess

from harness import BUILD, E2E, SLOW, LoopbackPosts, wait_for
from test_notify import probes

# Quotes, a line break, a backslash, braces and a mention ("{{rule}}" is
# the rule summary's "{rule}" in braces: "{api_p95}").
P95 = {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
       "crit": 1000, "unit": "ms", "labels": {"team": "web"},
       "summary": "API p95 {value} ms \"slow\"\nsee runbook C:\\ops {{rule}} @everyone"}

DISCORD = ('{"username": "vigil", "content": "**{{title}}**\\n{{summary}}\\n<{{url}}>", '
           '"allowed_mentions": {"parse": []}}')
TEAMS = """{
  "type": "message",
  "attachments": [{
    "contentType": "application/vnd.microsoft.card.adaptive",
    "content": {
      "type": "AdaptiveCard", "version": "1.4",
      "body": [
        {"type": "TextBlock", "weight": "Bolder", "text": "{{title}}"},
        {"type": "TextBlock", "wrap": true, "text": "{{summary}}"},
        {"type": "FactSet", "facts": [
          {"title": "State", "value": "{{state}}"},
          {"title": "Value", "value": "{{value}} {{unit}} (threshold {{threshold}})"},
          {"title": "Team", "value": "{{labels.team}}"}]}
      ],
      "actions": [{"type": "Action.OpenUrl", "title": "Status page", "url": "{{url}}"}]
    }
  }]
}
"""
TELEGRAM = '{"chat_id": "-1001234567890", "text": "{{title}}\\n{{summary}}", ' \
           '"disable_web_page_preview": true}'


class RawReceiver(LoopbackPosts):
    """Records every POST's path, headers and raw body, in arrival order,
    and answers 204 (as Discord does)."""

    def __init__(self):
        self.received = []
        super().__init__()

    def answer(self, path, headers, raw):
        with self.lock:
            self.received.append({"path": path, "headers": headers,
                                  "body": raw.decode("utf-8")})
        return 204, b"", None

    def at(self, path):
        with self.lock:
            return [r for r in self.received if r["path"] == path]


class Templated(E2E):
    def receiver(self):
        r = RawReceiver()
        self.addCleanup(r.stop)
        return r

    def outage(self, notifiers, paths):
        """Warning, then healthy: two notices at each of paths."""
        sim = self.sim()
        v = self.vigild({"probes": probes(sim), "rules": [P95], "instance": "ops-1",
                         "notifiers": notifiers})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10 * SLOW, what="ok")
        sim.scenario("slow", slow_ms=400)        # p95 ~700: warning
        wait_for(lambda: all(len(self.rcv.at(p)) >= 1 for p in paths), 15 * SLOW,
                 what="the firing notices")
        sim.scenario("healthy")
        wait_for(lambda: all(len(self.rcv.at(p)) >= 2 for p in paths), 20 * SLOW,
                 what="the resolutions")
        return v

    def test_discord_and_teams_bodies_are_json(self):
        self.rcv = rcv = self.receiver()
        teams_file = os.path.join(self.workdir, "teams.json")
        with open(teams_file, "w") as f:
            f.write(TEAMS)
        v = self.outage([
            {"name": "discord", "type": "webhook", "url": rcv.base + "/discord",
             "template": DISCORD, "content_type": "application/json"},
            {"name": "teams", "type": "webhook", "url": rcv.base + "/teams",
             "template_file": teams_file, "rules": ["api_p95"]},
            {"name": "ref", "type": "webhook", "url": rcv.base + "/ref"}],
            ["/discord", "/teams", "/ref"])
        ref = [json.loads(r["body"]) for r in rcv.at("/ref")]
        self.assertEqual([b["kind"] for b in ref], ["firing", "resolved"], ref)
        summary = ref[0]["summary"]
        # The summary holds everything JSON must escape.
        for s in ('"slow"', "\n", "C:\\ops", "{api_p95}"):
            self.assertIn(s, summary)
        page = f"http://127.0.0.1:{v.port}/"
        discord = [json.loads(r["body"]) for r in rcv.at("/discord")]
        self.assertEqual(discord[0], {"username": "vigil",
                                      "content": f"**[WARNING] api_p95**\n{summary}\n<{page}>",
                                      "allowed_mentions": {"parse": []}})
        self.assertEqual(discord[1]["content"],
                         f"**[RESOLVED] api_p95**\n{ref[1]['summary']}\n<{page}>")
        teams = [json.loads(r["body"]) for r in rcv.at("/teams")]
        for t, r, title in zip(teams, ref, ("[WARNING] api_p95", "[RESOLVED] api_p95")):
            card = t["attachments"][0]["content"]
            self.assertEqual([b.get("text") for b in card["body"][:2]], [title, r["summary"]])
            facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
            self.assertEqual((facts["State"], facts["Team"]), (r["state"], "web"))
            self.assertRegex(facts["Value"], r"^\d+(\.\d+)? ms \(threshold 500\)$")
            self.assertEqual(card["actions"][0]["url"], page)
        for p in ("/discord", "/teams"):
            self.assertEqual(rcv.at(p)[0]["headers"]["Content-Type"], "application/json")
        self.assertEqual(v.notifier("discord", sent=2)["type"], "webhook")
        v.notifier("teams", sent=2)

    def test_telegram_and_plain_text(self):
        self.rcv = rcv = self.receiver()
        self.outage([
            {"name": "telegram", "type": "webhook", "url": rcv.base + "/bot123:ABC/sendMessage",
             "template": TELEGRAM},
            {"name": "plain", "type": "webhook", "url": rcv.base + "/plain",
             "template": "{{title}} ({{state}}, {{severity}}) {{summary}} [{{id}}]",
             "content_type": "text/plain; charset=utf-8"},
            {"name": "ref", "type": "webhook", "url": rcv.base + "/ref"}],
            ["/bot123:ABC/sendMessage", "/plain", "/ref"])
        ref = [json.loads(r["body"]) for r in rcv.at("/ref")]
        tg = [json.loads(r["body"]) for r in rcv.at("/bot123:ABC/sendMessage")]
        self.assertEqual(tg[0], {"chat_id": "-1001234567890",
                                 "text": f"[WARNING] api_p95\n{ref[0]['summary']}",
                                 "disable_web_page_preview": True})
        plain = rcv.at("/plain")
        self.assertEqual(plain[0]["headers"]["Content-Type"], "text/plain; charset=utf-8")
        # As written: no escaping in a text/plain body.
        ids = [r["body"].rsplit("[", 1)[1].rstrip("]") for r in plain]
        self.assertEqual(plain[0]["body"], f"[WARNING] api_p95 (firing, warning) "
                                           f"{ref[0]['summary']} [{ids[0]}]")
        self.assertEqual(plain[1]["body"], f"[RESOLVED] api_p95 (resolved, none) "
                                           f"{ref[1]['summary']} [{ids[1]}]")
        self.assertTrue(all(i.startswith("ops-1-") for i in ids), ids)

    def test_unknown_field_refused_at_load(self):
        tfile = os.path.join(self.workdir, "tg.json")
        with open(tfile, "w") as f:
            f.write('{\n  "chat_id": "-100",\n  "text": "{{title}} {{sumary}}"\n}\n')
        cfg = os.path.join(self.workdir, "bad.json")
        with open(cfg, "w") as f:
            f.write('{"probes": [],\n "notifiers": [\n'
                    '  {"name": "a", "type": "webhook", "url": "http://127.0.0.1:1/",\n'
                    '   "template": "{\\"text\\": \\"{{ nope }}\\"}"},\n'
                    '  {"name": "b", "type": "webhook", "url": "http://127.0.0.1:1/",\n'
                    f'   "template_file": "{tfile}"}},\n'
                    '  {"name": "c", "type": "webhook", "url": "http://127.0.0.1:1/",\n'
                    '   "template": "{\\"text\\": {{summary}}}"}]}\n')
        r = subprocess.run([os.path.join(BUILD, "vigild"), "--check-config", cfg],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        self.assertIn(f"{cfg}:4:33: unknown field \"nope\"", out)
        self.assertIn(f"{tfile}:3:24: unknown field \"sumary\"", out)
        self.assertIn("not JSON once filled in", out)
