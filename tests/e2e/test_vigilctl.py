"""vigilctl against a real vigild: what status, alerts and the silence
commands print, their exit codes, --json, where the address and the token
come from, and that the man page keeps up with --help."""
import json
import os
import re
import subprocess

from harness import BUILD, E2E, ROOT, wait_for, write_secret
from test_operator import RULES, TOKEN, app_probes, token_file

VIGILCTL = os.path.join(BUILD, "vigilctl")


class Ctl(E2E):
    def setUp(self):
        super().setUp()
        self.sim_ = self.sim(args=["--rps", "2000"])
        self.tokf = token_file(self.workdir)
        self.v = self.vigild({"api": {"token_file": self.tokf}, "probes": app_probes(self.sim_),
                              "rules": RULES})

    def ctl(self, *args, env=None, url=True):
        """Runs vigilctl; (exit code, stdout, stderr)."""
        e = {k: v for k, v in os.environ.items()
             if k not in ("VIGIL_URL", "VIGIL_TOKEN_FILE", "NO_COLOR", "SUDO_USER")}
        e.update(env or {})
        argv = [VIGILCTL] + (["--url", self.v.base] if url else []) + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, env=e, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def healthy(self):
        # Warming up is pass too: wait until every rule is judged, and
        # nothing is on the alert list (a few requests' error rate can
        # cross 0.1 % for a moment while the window fills).
        wait_for(lambda: json.loads(self.v.get("/health")[2])["status"] == "pass" and
                 self.v.status()["alerts"]["unknown"] == 0 and
                 json.loads(self.v.get("/alerts")[2])["alerts"] == [], 15,
                 what="/health pass, all judged, no alert listed")

    def test_status_and_alerts_exit_codes(self):
        self.healthy()
        rc, out, err = self.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("PASS  vigild 0.1.0 at " + self.v.base), out)
        self.assertIn("none: nothing is firing", out)
        self.assertRegex(out, r"\n  app_health\s+up\s+[\d.]+ ms")
        self.assertRegex(out, r"\n  memory\s+[\d.]+ %\s+ok\s+warn > 70 %, crit > 80 %")
        self.assertNotIn("\033[", out, "no colours into a pipe")
        self.assertEqual(self.ctl("alerts")[0:2], (0, "no alerts: nothing is firing, pending "
                                                      "or unknown\n"))

        self.sim_.scenario("error_spike")
        # The rate climbs through the warning level as the 3 s window
        # fills: wait for the critical it settles at.
        wait_for(lambda: (lambda r: r["state"] == "firing" and r["severity"] == "critical")(
            self.v.rule("error_rate")), 15, what="firing critical")
        rc, out, err = self.ctl("status")
        self.assertEqual(rc, 2, out + err)
        self.assertTrue(out.startswith("FAIL"), out)
        alerts = out.split("\nAlerts\n", 1)[1].split("\n\n", 1)[0].splitlines()
        self.assertRegex(alerts[0], r"^  CRITICAL\s+error_rate\s+[\d.]+ %\s+for \d+s\s+"
                                    r"error rate [\d.]+ % over 3s")
        rc, out, err = self.ctl("--color", "status")
        self.assertIn("\033[31mCRITICAL", out)
        self.assertIn("\033[31mFAIL", out)
        rc, out, err = self.ctl("status", "--json")
        self.assertEqual(rc, 2)
        doc = json.loads(out)
        self.assertEqual(doc["status"], "fail")
        self.assertEqual(doc, {**doc, "rules": doc["rules"]})
        rc, out, err = self.ctl("alerts")
        self.assertEqual(rc, 2)
        self.assertRegex(out, r"^  CRITICAL\s+error_rate")
        rc, out, err = self.ctl("alerts", "--severity", "warning", "--state", "firing")
        self.assertIn(rc, (0, 1), "no critical in a warning-only list")
        self.assertNotIn("error_rate", out)
        rc, out, err = self.ctl("alerts", "--json", "--severity", "critical")
        self.assertEqual(rc, 2)
        self.assertEqual([a["rule"] for a in json.loads(out)["alerts"]], ["error_rate"])
        rc, out, err = self.ctl("alerts", "--state", "bogus")
        self.assertEqual(rc, 4)
        self.assertIn("state must be firing, pending or unknown", err)

    def test_silences_from_the_command_line(self):
        self.sim_.scenario("error_spike")
        wait_for(lambda: self.v.rule("error_rate")["state"] == "firing", 15, what="firing")
        add = ("silence", "add", "--rule", "error_rate", "--for", "2h", "--comment",
               "INC-42 rollback running")
        rc, out, err = self.ctl(*add)
        self.assertEqual(rc, 4, "no token: refused")
        self.assertIn("HTTP 401", err)
        self.assertIn("--token-file", err)
        rc, out, err = self.ctl(*add, "--token-file", os.path.join(self.workdir, "nope"))
        self.assertEqual(rc, 64)
        self.assertIn("cannot read the token file", err)
        wrong = os.path.join(self.workdir, "wrong.token")
        write_secret(wrong, "wrong\n")
        self.assertEqual(self.ctl(*add, "--token-file", wrong)[0], 4)
        rc, out, err = self.ctl(*add, "--author", "ana", "--token-file", self.tokf)
        self.assertEqual(rc, 0, err)
        sid = int(re.match(r"silence #(\d+) added\n", out).group(1))
        self.assertIn("rule error_rate", out)
        self.assertIn("by ana until", out)
        self.assertIn("matches now: error_rate", out)
        self.assertEqual(self.v.rule("error_rate")["silenced_by"]["comment"],
                         "INC-42 rollback running")
        # The token from the environment; the author from $USER.
        rc, out, err = self.ctl("silence", "add", "--match", "team=platform", "--until",
                                "2099-01-01T00:00:00Z", "--comment", "x",
                                env={"VIGIL_TOKEN_FILE": self.tokf, "USER": "bo"})
        self.assertEqual(rc, 4, "more than 30 days")
        self.assertIn("at most 30 days", err)
        rc, out, err = self.ctl("silence", "add", "--match", "team=platform", "--for", "10m",
                                "--comment", "x", env={"VIGIL_TOKEN_FILE": self.tokf,
                                                       "USER": "bo"})
        self.assertEqual(rc, 0, err)
        mid = int(re.match(r"silence #(\d+) added\n", out).group(1))
        self.assertIn("team=platform", out)
        self.assertIn("by bo until", out)
        self.assertIn("matches now: memory", out)
        # Under sudo, the engineer who typed it, not root.
        rc, out, err = self.ctl("silence", "add", "--rule", "api_p95", "--for", "5m",
                                "--comment", "y", env={"VIGIL_TOKEN_FILE": self.tokf,
                                                       "USER": "root", "SUDO_USER": "cy"})
        self.assertEqual(rc, 0, err)
        self.assertIn("by cy until", out)
        cid = int(re.match(r"silence #(\d+) added\n", out).group(1))
        self.assertEqual(self.ctl("silence", "expire", str(cid), "--token-file", self.tokf)[0], 0)

        rc, out, err = self.ctl("silence", "list")
        self.assertEqual(rc, 0)
        self.assertIn(f"#{sid}", out)
        self.assertIn(f"#{mid}", out)
        rc, out, err = self.ctl("silence", "list", "--json")
        self.assertEqual(sorted(s["id"] for s in json.loads(out)["silences"]), [sid, mid])
        rc, out, err = self.ctl("status")
        self.assertRegex(out, r"CRITICAL\s+error_rate.*\n\s+silenced \(#%d\) by ana" % sid)
        rc, out, err = self.ctl("alerts")
        self.assertIn(f"silenced (#{sid}) by ana", out)

        self.assertEqual(self.ctl("silence", "expire", str(sid))[0], 4, "no token")
        rc, out, err = self.ctl("silence", "expire", str(sid), "--token-file", self.tokf)
        self.assertEqual((rc, out), (0, f"silence #{sid} expired\n"), err)
        rc, out, err = self.ctl("silence", "expire", str(sid), "--token-file", self.tokf)
        self.assertEqual(rc, 4)
        self.assertIn("no such silence", err)
        self.assertNotIn("silenced_by", self.v.rule("error_rate"))
        self.assertEqual(self.ctl("silence", "expire", "x1")[0], 64)

    def test_address_and_token_from_the_configuration(self):
        self.healthy()
        # -c FILE: api.listen is the address, api.token_file the token.
        rc, out, err = self.ctl("-c", self.v.config_path, "status", url=False)
        self.assertEqual(rc, 0, err)
        self.assertIn(f"at http://127.0.0.1:{self.v.port}", out)
        rc, out, err = self.ctl("-c", self.v.config_path, "silence", "add", "--rule", "memory",
                                "--for", "5m", "--comment", "from the config", url=False)
        self.assertEqual(rc, 0, err)
        # $VIGIL_URL when there is no flag.
        rc, out, err = self.ctl("status", url=False, env={"VIGIL_URL": self.v.base})
        self.assertEqual(rc, 0, err)

    def test_usage_help_and_unreachable(self):
        for cmd in (["status"], ["alerts"], ["silence", "add"], ["silence", "list"],
                    ["silence", "expire"]):
            rc, out, err = self.ctl(*cmd, "--help", url=False)
            self.assertEqual(rc, 0, cmd)
            self.assertTrue(out.startswith("usage: vigilctl " + " ".join(cmd)), out)
            self.assertIn("Exit:", out)
        rc, out, err = self.ctl("help", "silence", url=False)
        self.assertEqual(rc, 0)
        self.assertEqual(out.count("usage: vigilctl silence"), 3)
        rc, out, err = self.ctl("--help", url=False)
        self.assertEqual(rc, 0)
        for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "64"):
            self.assertIn(f"\n  {code}", out)
        self.assertEqual(self.ctl(url=False)[0], 64)
        self.assertEqual(self.ctl("frobnicate")[0], 64)
        self.assertEqual(self.ctl("status", "--rule", "x")[0], 64)
        self.assertEqual(self.ctl("silence", "add", "--rule", "x")[0], 64)
        self.assertEqual(self.ctl("status", "extra")[0], 64)
        rc, out, err = self.ctl("--url", "http://127.0.0.1:1", "status", url=False)
        self.assertEqual(rc, 3)
        self.assertIn("cannot reach vigild at http://127.0.0.1:1", err)
        self.assertEqual(self.ctl("--version", url=False)[1], "vigilctl 0.1.0\n")

    def test_man_page_has_every_option_and_code(self):
        help_text = subprocess.run([VIGILCTL, "--help"], capture_output=True, text=True).stdout
        page = open(os.path.join(ROOT, "man/vigilctl.1")).read()
        options = set(re.findall(r"--([a-z][a-z-]+)", help_text))
        self.assertGreaterEqual(options, {"url", "config", "token-file", "json", "rule", "match",
                                          "for", "until", "comment", "author", "severity",
                                          "state", "help", "version"})
        for o in options:
            self.assertIn("Fl \\-" + o.replace("-", "\\-"), page, f"--{o} is not in vigilctl(1)")
        for code in ("0", "1", "2", "3", "4", "64"):
            self.assertRegex(page, rf"\.It {code}\n", f"exit status {code}")
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning",
                            os.path.join(ROOT, "man/vigilctl.1")], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))


class CredentialToken(E2E):
    """api.token_file as a bare name: the systemd credential (the unit's
    LoadCredential=vigil.api-token), which vigild reads from
    $CREDENTIALS_DIRECTORY and vigilctl finds in the same place."""

    def test_token_from_the_credentials_directory(self):
        sim = self.sim()
        creds = os.path.join(self.workdir, "credentials")
        os.mkdir(creds, 0o700)
        write_secret(os.path.join(creds, "vigil.api-token"), TOKEN + "\n")
        v = self.vigild({"api": {"token_file": "vigil.api-token"}, "probes": app_probes(sim),
                         "rules": RULES}, extra_env={"CREDENTIALS_DIRECTORY": creds})
        base_env = {k: x for k, x in os.environ.items()
                    if k not in ("VIGIL_URL", "VIGIL_TOKEN_FILE", "CREDENTIALS_DIRECTORY")}

        def ctl(*args, env=None):
            r = subprocess.run([VIGILCTL, "-c", v.config_path, *args], capture_output=True,
                               text=True, env={**base_env, **(env or {})}, timeout=30)
            return r.returncode, r.stdout, r.stderr

        add = ("silence", "add", "--rule", "memory", "--for", "5m", "--comment", "cred")
        rc, out, err = ctl(*add, env={"CREDENTIALS_DIRECTORY": creds})
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(v.get("/alerts")[2])["silences"]), 1)
        # Nowhere to be found (no $CREDENTIALS_DIRECTORY; this machine has no
        # vigil.api-token in the credential stores): refused, and told where
        # vigilctl looked.
        for d in ("/run/credentials/vigil.service", "/etc/credstore", "/run/credstore",
                  "/usr/lib/credstore"):
            if os.path.exists(os.path.join(d, "vigil.api-token")):
                self.fail(f"{d}/vigil.api-token exists on this machine; the test needs it absent")
        rc, out, err = ctl(*add)
        self.assertEqual(rc, 4, out + err)
        self.assertIn("the credential vigil.api-token is in none of $CREDENTIALS_DIRECTORY", err)
        self.assertNotIn(TOKEN, out + err + v.log_text())
