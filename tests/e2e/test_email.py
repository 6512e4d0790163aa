"""Email end to end: a real SMTP server (aiosmtpd, Debian's
python3-aiosmtpd) on loopback, with STARTTLS on a throwaway certificate
made here by openssl and AUTH, receives what vigild sends as the
simulator's API slows down and recovers: the firing and the resolved mail,
with their headers and the webhook's facts in the body. A server that is
down gets the queued mail when it comes up, across a restart of vigild
too; a server that offers no STARTTLS, or whose certificate does not
verify, gets nothing: not the envelope, not the login."""
import email
import email.policy
import email.utils
import os
import signal
import subprocess
import sys
import threading
import time

from harness import BUILD, E2E, SLOW, free_port, http_probe, wait_for, write_secret

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:
    # TEST_DEPS installs Debian's package, for Debian's python3; a python3
    # of its own (pyenv) first on PATH does not look there.
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

VIGILD = os.path.join(BUILD, "vigild")
FAST = "300ms"
USER, PASSWORD = "vigil", "smtp-PW-5b0e7c1d"

P95 = {"name": "api_p95", "metric": "app_advanced.p95_ms", "op": ">", "warn": 500,
       "crit": 1000, "unit": "ms", "labels": {"team": "web"},
       "summary": "API p95 {value} ms, threshold {threshold} ms"}


def probes(sim):
    return [http_probe("app_advanced", sim.url("/api/health/advanced"), interval=FAST,
                       timeout="3s", metrics={"p95_ms": "/metrics/responseTime/p95"})]


def make_cert(workdir):
    """A self-signed certificate for 127.0.0.1, good for a day."""
    cert, key = os.path.join(workdir, "smtp.crt"), os.path.join(workdir, "smtp.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Sink:
    """aiosmtpd's handler: records every MAIL, RCPT and message."""

    def __init__(self):
        self.lock = threading.Lock()
        self.commands = []
        self.mails = []
        # Refused for good (5xx): these recipients, and messages whose
        # Subject holds this text.
        self.bad_rcpts = set()
        self.bad_subject = None

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            self.commands.append(("MAIL", address, session.ssl is not None))
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.lock:
            self.commands.append(("RCPT", address, session.ssl is not None))
        if address in self.bad_rcpts:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        if self.bad_subject is not None and self.bad_subject in msg["Subject"]:
            with self.lock:
                self.commands.append(("REFUSED", msg["Subject"], session.ssl is not None))
            return "554 5.7.1 Message refused by policy"
        with self.lock:
            self.mails.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                               "tls": session.ssl is not None,
                               "login": session.auth_data.login if session.authenticated
                               else None, "raw": envelope.original_content, "msg": msg})
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:port; tls=(cert, key) offers STARTTLS and
    requires it, with AUTH (USER/PASSWORD) required after it."""

    def __init__(self, port, tls=None):
        self.sink = Sink()
        kw = {}
        if tls is not None:
            import ssl
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*tls)
            kw = dict(tls_context=ctx, require_starttls=True, auth_required=True,
                      auth_require_tls=True, authenticator=self.authenticate)
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port, **kw)
        self.controller.start()

    @staticmethod
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def mails(self):
        with self.sink.lock:
            return list(self.sink.mails)

    def commands(self):
        with self.sink.lock:
            return list(self.sink.commands)

    def stop(self):
        self.controller.stop()


class EmailCase(E2E):
    def server(self, port, tls=None):
        s = SmtpServer(port, tls)
        self.addCleanup(s.stop)
        return s

    def notifier(self, port, cert, **extra):
        pw = write_secret(os.path.join(self.workdir, "smtp-password"), PASSWORD + "\n")
        n = {"name": "mail", "type": "email", "url": f"smtp://127.0.0.1:{port}",
             "from": "vigil@example.com", "to": ["oncall@example.com", "web@example.org"],
             "username": USER, "password_file": pw, "ca_file": cert,
             "rules": ["api_p95"], "repeat_interval": "0s"}
        n.update(extra)
        return n

    def wait_mails(self, srv, n, timeout):
        return wait_for(lambda: (lambda m: m if len(m) >= n else None)(srv.mails()),
                        timeout * SLOW, what=f"{n} mails")


class Delivery(EmailCase):
    def test_firing_and_resolved_over_starttls(self):
        cert, key = make_cert(self.workdir)
        port = free_port()
        srv = self.server(port, (cert, key))
        sim = self.sim()
        cfg = {"probes": probes(sim), "rules": [P95], "instance": "ops-1",
               "api": {"public_url": "https://vigil.example.com/"},
               "notifiers": [self.notifier(port, cert)]}
        v = self.vigild(cfg)
        r = subprocess.run([VIGILD, "--check-config", v.config_path], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"notifier mail: smtp://127.0.0.1:{port}/... (email to 2 recipients, "
                      "STARTTLS required)\n", r.stdout)
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)        # p95 ~700: warning
        self.wait_mails(srv, 1, 15)
        sim.scenario("healthy")
        mails = self.wait_mails(srv, 2, 20)
        time.sleep(1)            # a sleep: proves nothing more is sent after the resolution
        mails = srv.mails()
        self.assertEqual(len(mails), 2, [m["msg"]["Subject"] for m in mails])
        for m in mails:
            # The envelope, over TLS, logged in.
            self.assertEqual((m["from"], m["to"], m["tls"], m["login"]),
                             ("vigil@example.com", ["oncall@example.com", "web@example.org"],
                              True, USER.encode()))
            msg = m["msg"]
            self.assertEqual(msg["From"], "vigil <vigil@example.com>")
            self.assertEqual([a for _, a in email.utils.getaddresses([msg["To"]])],
                             ["oncall@example.com", "web@example.org"])
            self.assertEqual(msg.get_content_type(), "text/plain")
            self.assertEqual(msg.get_content_charset(), "utf-8")
            self.assertEqual(msg["MIME-Version"], "1.0")
            self.assertEqual(msg["Auto-Submitted"], "auto-generated")
            when = email.utils.parsedate_to_datetime(msg["Date"]).timestamp()
            self.assertLess(abs(when - time.time()), 60)
            self.assertRegex(msg["Message-ID"], r"^<vigil\.mail\.\d+\.\d+@ops-1>$")
            self.assertIn(b"\r\n\r\n", m["raw"])
            self.assertNotIn(b"\n", m["raw"].replace(b"\r\n", b""))   # CRLF lines only
        firing, resolved = (m["msg"] for m in mails)
        self.assertNotEqual(firing["Message-ID"], resolved["Message-ID"])
        self.assertRegex(firing["Subject"], r"^\[vigil\] FIRING warning: api_p95 on ops-1 - "
                                            r"API p95 \d+(\.\d+)? (ms|s), threshold 500 ms$")
        self.assertRegex(resolved["Subject"], r"^\[vigil\] RESOLVED: api_p95 on ops-1 - ")
        self.assertEqual((firing["X-Vigil-Rule"], firing["X-Vigil-State"],
                          firing["X-Vigil-Severity"]), ("api_p95", "firing", "warning"))
        self.assertEqual(resolved["X-Vigil-State"], "resolved")
        self.assertIsNone(resolved["X-Vigil-Severity"])
        body = firing.get_content().replace("\r\n", "\n")
        for line in ("Rule:      api_p95", "State:     firing", "Kind:      firing",
                     "Severity:  warning", "Threshold: 500 ms", "Labels:    team=web",
                     "Instance:  ops-1", "Status:    https://vigil.example.com/"):
            self.assertIn(line + "\n", body)
        self.assertRegex(body, r"\nValue:     \d+(\.\d+)? ms\n")
        self.assertRegex(body, r"\nSince:     \d{4}-\d\d-\d\dT[\d:.]+Z\n")
        self.assertRegex(body, r"\nId:        ops-1-\d+\n")
        self.assertRegex(body, r"^FIRING warning: api_p95 on ops-1\n\nAPI p95 ")
        rbody = resolved.get_content().replace("\r\n", "\n")
        self.assertIn("State:     resolved\n", rbody)
        self.assertNotIn("Severity:", rbody)
        # /status shows the server, never the password or the recipients.
        n = v.notifier("mail", sent=2, queued=0)
        self.assertEqual((n["type"], n["target"]), ("email", f"smtp://127.0.0.1:{port}/..."))
        for path in ("/status", "/health", "/metrics"):
            text = v.get(path)[2].decode()
            self.assertNotIn(PASSWORD, text)
            self.assertNotIn("oncall@example.com", text)
        self.assertNotIn(PASSWORD, v.log_text())
        v.metrics_showing('vigil_notifications_sent_total{notifier="mail"} 2\n')

    def test_plain_relay_on_this_host_and_reload(self):
        # "starttls": "off" is for a relay on this host (a local MTA).
        # A reload that changes the recipients keeps the notifier (and
        # what it told), and the next mail goes to the new ones.
        port = free_port()
        srv = self.server(port)
        sim = self.sim()
        cfg = {"probes": probes(sim), "rules": [P95],
               "notifiers": [{"name": "relay", "type": "email",
                              "url": f"smtp://localhost:{port}", "starttls": "off",
                              "from": "vigil@example.com", "to": ["ops@example.com"],
                              "repeat_interval": "0s"}]}
        v = self.vigild(cfg)
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        m = self.wait_mails(srv, 1, 15)[0]
        self.assertEqual((m["to"], m["tls"]), (["ops@example.com"], False))
        self.assertTrue(m["msg"]["Subject"].startswith("[vigil] FIRING warning: api_p95"))
        cfg["notifiers"][0]["to"] = ["web@example.com", "db@example.com"]
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 5, what="reload")
        sim.scenario("healthy")
        mails = self.wait_mails(srv, 2, 20)
        self.assertEqual(mails[1]["to"], ["web@example.com", "db@example.com"])
        self.assertEqual(mails[1]["msg"]["To"], "web@example.com, db@example.com")
        self.assertTrue(mails[1]["msg"]["Subject"].startswith("[vigil] RESOLVED: api_p95"))
        self.assertEqual(len(srv.mails()), 2)


class Failures(EmailCase):
    def test_a_refusal_for_good_is_not_retried_and_holds_nothing_up(self):
        # A recipient that does not exist, and a message the server's
        # policy refuses (5xx): no retry changes either. The mail goes to
        # the recipients that exist; the refused one is dropped, counted
        # and logged, and the resolution behind it is delivered.
        port = free_port()
        srv = self.server(port)
        srv.sink.bad_rcpts = {"gone@example.com"}
        srv.sink.bad_subject = "FIRING"
        sim = self.sim()
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [{"name": "relay", "type": "email",
                                        "url": f"smtp://localhost:{port}", "starttls": "off",
                                        "from": "vigil@example.com",
                                        "to": ["gone@example.com", "ops@example.com"],
                                        "repeat_interval": "0s"}]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: "event=notification_rejected notifier=relay" in v.log_text(),
                 15 * SLOW, what="the firing mail refused")
        sim.scenario("healthy")
        m = self.wait_mails(srv, 1, 20)[0]
        self.assertTrue(m["msg"]["Subject"].startswith("[vigil] RESOLVED: api_p95"), m["msg"])
        self.assertEqual(m["to"], ["ops@example.com"])
        refused = [c for c in srv.commands() if c[0] == "REFUSED"]
        self.assertEqual(len(refused), 1, refused)          # sent once, never again
        self.assertTrue(refused[0][1].startswith("[vigil] FIRING warning: api_p95"), refused)
        v.notifier("relay", sent=1, failed=1, queued=0)
        self.assertIn("event=notification_rejected notifier=relay seq=1 status=554",
                      v.log_text())

    def test_server_down_then_up_gets_the_queued_mail(self):
        cert, key = make_cert(self.workdir)
        port = free_port()
        state_dir = os.path.join(self.workdir, "state")
        os.mkdir(state_dir)
        sim = self.sim()
        cfg = {"probes": probes(sim), "rules": [P95], "instance": "ops-1",
               "state_dir": state_dir, "state_interval": "1s",
               "notifiers": [self.notifier(port, cert)]}
        v = self.vigild(cfg)
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: "event=notification_failed notifier=mail" in v.log_text(), 15 * SLOW,
                 what="a failed delivery")
        n = v.status()["notifiers"][0]
        self.assertEqual(n["queued"], 1)
        self.assertNotEqual(n["last_error"], "")
        # A restart keeps the queued mail (the state file's outbox) and
        # does not mail the rule again: it was told.
        self.assertEqual(v.stop(), 0)
        v2 = self.vigild(cfg, name="vigild2")
        wait_for(lambda: v2.rule("api_p95")["state"] == "firing", 10, what="firing again")
        self.assertEqual(v2.status()["notifiers"][0]["queued"], 1)
        srv = self.server(port, (cert, key))
        mails = self.wait_mails(srv, 1, 30)   # backoff: 1 s, 2 s, 4 s, ... with jitter
        time.sleep(1.5)          # a sleep: proves the one mail is not sent twice
        mails = srv.mails()
        self.assertEqual(len(mails), 1, [m["msg"]["Subject"] for m in mails])
        self.assertTrue(mails[0]["msg"]["Subject"].startswith("[vigil] FIRING warning"))
        wait_for(lambda: v2.status()["notifiers"][0]["queued"] == 0, 5, what="queue empty")

    def test_no_starttls_nothing_in_clear(self):
        cert, _ = make_cert(self.workdir)
        port = free_port()
        srv = self.server(port)                  # no TLS: offers no STARTTLS
        sim = self.sim()
        v = self.vigild({"probes": probes(sim), "rules": [P95],
                         "notifiers": [self.notifier(port, cert)]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: "event=notification_failed notifier=mail" in v.log_text(), 15 * SLOW,
                 what="a failed delivery")
        wait_for(lambda: v.status()["notifiers"][0]["failed"] >= 2, 10 * SLOW,
                 what="a second attempt")
        # Neither the envelope nor the message (nor the password) went out.
        self.assertEqual(srv.commands(), [])
        self.assertEqual(srv.mails(), [])
        n = v.status()["notifiers"][0]
        self.assertEqual((n["sent"], n["queued"]), (0, 1))
        self.assertIn("STARTTLS", n["last_error"].upper())

    def test_unverified_certificate_nothing_sent(self):
        # STARTTLS offered, but by a certificate no CA of vigild's signs
        # (no "ca_file"): the login and the mail stay here.
        cert, key = make_cert(self.workdir)
        port = free_port()
        srv = self.server(port, (cert, key))
        sim = self.sim()
        n = self.notifier(port, cert)
        del n["ca_file"]
        v = self.vigild({"probes": probes(sim), "rules": [P95], "notifiers": [n]})
        wait_for(lambda: v.rule("api_p95")["state"] == "ok", 10, what="ok")
        sim.scenario("slow", slow_ms=400)
        wait_for(lambda: "event=notification_failed notifier=mail" in v.log_text(), 15 * SLOW,
                 what="a failed delivery")
        self.assertEqual((srv.commands(), srv.mails()), ([], []))
        st = v.status()["notifiers"][0]
        self.assertEqual((st["sent"], st["queued"]), (0, 1))
        self.assertRegex(st["last_error"].lower(), "certificate|ssl")
