"""The tcp and tls probes end to end, each against a peer this test starts
on loopback: a line server, a closed port, a silent listener, a wrong
reply; TLS servers with certificates from a CA made here by openssl (valid,
expiring in 5 days, expired, and a self-signed one vigild does not trust),
and the rules on cert_expiry_days and chain_ok that judge them."""
import os
import signal
import socket
import ssl
import subprocess
import threading

from harness import E2E, SLOW, free_port, wait_until

FAST = "300ms"

CA_CNF = """[ca]
default_ca = d
[d]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
[pol]
commonName = supplied
"""


def run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=60)


class Certs:
    """A test CA and leaf certificates for localhost, made by openssl."""

    def __init__(self, d):
        self.d = d
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(CA_CNF)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("01\n")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-subj", "/CN=Test CA", "-days", "30"], d)
        self.ca = os.path.join(d, "ca.pem")

    def leaf(self, name, *validity):
        d = self.d
        run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
             "-out", name + ".csr", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost"], d)
        run(["openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
             "-in", name + ".csr", "-out", name + ".pem", "-notext"] + list(validity), d)
        return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")

    def self_signed(self, name):
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
             "-out", name + ".pem", "-subj", "/CN=localhost", "-days", "30",
             "-addext", "subjectAltName=DNS:localhost"], self.d)
        return os.path.join(self.d, name + ".pem"), os.path.join(self.d, name + ".key")


class Peer:
    """A loopback listener. reply: what to answer to a line (None: stay
    silent); cert: (certfile, keyfile) to speak TLS."""

    def __init__(self, reply=b"+PONG\r\n", cert=None):
        self.reply = reply
        self.ctx = None
        if cert is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*cert)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stopped = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.talk, args=(c,), daemon=True).start()

    def talk(self, c):
        try:
            c.settimeout(10)
            if self.ctx is not None:
                c = self.ctx.wrap_socket(c, server_side=True)
            if self.reply is None:
                self.held.append(c)
                return
            buf = b""
            while b"\n" not in buf:
                got = c.recv(1024)
                if not got:
                    break
                buf += got
            c.sendall(self.reply)
            c.close()
        except (OSError, ssl.SSLError):
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()
        for c in self.held:
            c.close()


def tcp(name, port, **extra):
    p = {"name": name, "type": "tcp", "host": "127.0.0.1", "port": port,
         "interval": FAST, "timeout": "1s"}
    p.update(extra)
    return p


def tls(name, port, **extra):
    p = {"name": name, "type": "tls", "host": "127.0.0.1", "port": port, "sni": "localhost",
         "interval": FAST, "timeout": "2s"}
    p.update(extra)
    return p


class NetProbes(E2E):
    def peer(self, **kw):
        p = Peer(**kw)
        self.addCleanup(p.stop)
        return p

    def last_run(self, v, name, pred, what):
        def got():
            lr = v.probe(name).get("last_run")
            return lr if lr and pred(lr) else None
        return wait_until(got, 15 * SLOW, what)

    def test_tcp_up_refused_timeout_and_wrong_reply(self):
        good = self.peer()
        silent = self.peer(reply=None)
        wrong = self.peer(reply=b"-ERR unknown \"command\"\r\n")
        closed = free_port()
        v = self.vigild({"probes": [
            tcp("good", good.port, send="PING", expect="PONG"),
            tcp("bare", good.port),
            tcp("send_only", good.port, send="PING"),
            # A name, looked up by evdns (the hosts file), not getaddrinfo.
            tcp("named", good.port, host="localhost", send="PING", expect="PONG"),
            tcp("refused", closed),
            tcp("silent", silent.port, send="PING", expect="PONG"),
            tcp("wrong", wrong.port, send="PING", expect="PONG"),
        ]})
        lr = self.last_run(v, "good", lambda r: r["result"] == "up", "the tcp probe up")
        self.assertIn("connect_ms", lr["metrics"])
        self.assertEqual(lr["metrics"]["up"], 1)
        self.assertNotIn("tls_ms", lr["metrics"])
        self.last_run(v, "bare", lambda r: r["result"] == "up", "a connect-only probe up")
        self.last_run(v, "send_only", lambda r: r["result"] == "up", "a line sent, no expect")
        self.last_run(v, "named", lambda r: r["result"] == "up", "a probe by name up")
        lr = self.last_run(v, "refused", lambda r: r["result"] == "down", "the refused port")
        self.assertEqual(lr["fail"], "connect", lr)
        self.assertIn("refused", lr["reason"])
        lr = self.last_run(v, "silent", lambda r: r["result"] == "down", "the silent listener")
        self.assertEqual(lr["fail"], "timeout", lr)
        self.assertIn('no reply with "PONG" within 1000 ms', lr["reason"])
        lr = self.last_run(v, "wrong", lambda r: r["result"] == "down", "the wrong reply")
        self.assertEqual(lr["fail"], "body", lr)
        self.assertIn('reply without "PONG"', lr["reason"])
        # The peer's words quoted as a stranger's, quotes escaped.
        self.assertIn(r'"-ERR unknown \"command\""', lr["reason"])

    def test_tcp_over_tls(self):
        certs = Certs(self.workdir)
        good = self.peer(cert=certs.leaf("good", "-days", "90"))
        untrusted = self.peer(cert=certs.self_signed("self"))
        v = self.vigild({"probes": [
            tcp("tls_line", good.port, send="PING", expect="PONG", tls=True,
                sni="localhost", ca_file=certs.ca, timeout="2s"),
            tcp("tls_refused", untrusted.port, tls=True, sni="localhost", ca_file=certs.ca,
                timeout="2s"),
            tcp("tls_insecure", untrusted.port, send="PING", expect="PONG", tls=True,
                insecure=True, timeout="2s"),
        ]})
        lr = self.last_run(v, "tls_line", lambda r: r["result"] == "up", "a line over TLS")
        self.assertIn("tls_ms", lr["metrics"])
        lr = self.last_run(v, "tls_refused", lambda r: r["result"] == "down", "an untrusted peer refused")
        self.assertEqual(lr["fail"], "connect", lr)
        self.assertIn("certificate not trusted", lr["reason"])
        lr = self.last_run(v, "tls_insecure", lambda r: r["result"] == "up",
                           "insecure skips the check")
        self.assertIn('TLS peer not verified ("insecure": true)', lr["notes"])

    def test_tls_certificates_and_rules(self):
        certs = Certs(self.workdir)
        valid = self.peer(cert=certs.leaf("valid", "-days", "90"))
        soon = self.peer(cert=certs.leaf("soon", "-days", "5"))
        gone = self.peer(cert=certs.leaf("gone", "-startdate", "20200101000000Z",
                                         "-enddate", "20200201000000Z"))
        stranger = self.peer(cert=certs.self_signed("stranger"))
        closed = free_port()
        probes = [tls("valid", valid.port, ca_file=certs.ca),
                  tls("soon", soon.port, ca_file=certs.ca),
                  tls("gone", gone.port, ca_file=certs.ca),
                  tls("stranger", stranger.port, ca_file=certs.ca),
                  tls("nobody", closed)]
        rules = []
        for p in ("valid", "soon", "gone"):
            rules.append({"name": p + "_expiry", "metric": p + ".cert_expiry_days",
                          "op": "<", "warn": 14, "crit": 3})
        rules.append({"name": "stranger_chain", "metric": "stranger.chain_ok",
                      "op": "<", "crit": 1})
        v = self.vigild({"probes": probes, "rules": rules})

        lr = self.last_run(v, "valid", lambda r: r["result"] == "up", "the valid certificate")
        m = lr["metrics"]
        self.assertEqual(m["chain_ok"], 1)
        self.assertTrue(89 < m["cert_expiry_days"] <= 90, m)
        for k in ("tls_ms", "connect_ms", "duration_ms"):
            self.assertIn(k, m)
        self.assertIn('subject "CN=localhost", issuer "CN=Test CA", expires ', lr["notes"])

        lr = self.last_run(v, "soon", lambda r: r["result"] == "up", "the expiring certificate")
        self.assertTrue(4 < lr["metrics"]["cert_expiry_days"] <= 5, lr)

        # Expired: measured, not failed; the days are negative.
        lr = self.last_run(v, "gone", lambda r: r["result"] == "up", "the expired certificate")
        self.assertLess(lr["metrics"]["cert_expiry_days"], -300)
        self.assertEqual(lr["metrics"]["chain_ok"], 0)
        self.assertIn("expires 2020-02-01T00:00:00Z", lr["notes"])
        self.assertIn("certificate has expired", lr["notes"])

        lr = self.last_run(v, "stranger", lambda r: r["result"] == "up", "the untrusted certificate")
        self.assertEqual(lr["metrics"]["chain_ok"], 0)
        self.assertIn("chain not trusted: self-signed certificate", lr["notes"])

        lr = self.last_run(v, "nobody", lambda r: r["result"] == "down", "no TLS server")
        self.assertEqual(lr["fail"], "connect", lr)

        def states():
            st = v.status()
            s = {}
            for name in ("valid_expiry", "soon_expiry", "gone_expiry", "stranger_chain"):
                r = v.rule(name, st)
                s[name] = r["state"] if r["state"] != "firing" else r["severity"]
            return s if "unknown" not in s.values() else None
        s = wait_until(states, 15 * SLOW, "the rules to judge")
        # /metrics (promtool-clean): the days as seconds, chain_ok as is.
        text = v.metrics()
        self.assertIn('vigil_metric_seconds{probe="soon",metric="cert_expiry"}', text)
        self.assertIn('vigil_metric{probe="stranger",metric="chain_ok"} 0', text)
        self.assertEqual(s, {"valid_expiry": "ok", "soon_expiry": "warning",
                             "gone_expiry": "critical", "stranger_chain": "critical"})

    def test_tls_handshake_failure_is_a_failed_run(self):
        plain = self.peer(reply=b"not tls at all\r\n")
        v = self.vigild({"probes": [tls("plain", plain.port)]})
        lr = self.last_run(v, "plain", lambda r: r["result"] == "down", "a handshake failure")
        self.assertEqual(lr["fail"], "connect", lr)
        self.assertIn("TLS handshake failed", lr["reason"])

    def test_reload_cancels_a_run_in_flight(self):
        # A run waiting on a silent TLS peer and one waiting for a reply
        # are cancelled by a reload that changes them: nothing leaks
        # (the sanitizer build checks at SIGTERM) and the new probes run.
        certs = Certs(self.workdir)
        silent = self.peer(reply=None)
        tls_silent = self.peer(reply=None, cert=certs.leaf("s", "-days", "9"))
        good = self.peer()
        cfg = {"probes": [
            tcp("line", silent.port, send="PING", expect="PONG", timeout="30s"),
            tcp("tls_line", tls_silent.port, send="PING", expect="PONG", tls=True,
                sni="localhost", ca_file=certs.ca, timeout="30s"),
        ]}
        v = self.vigild(cfg)
        wait_until(lambda: all(p["running"] for p in v.status()["probes"]), 10 * SLOW,
                   "both runs in flight")
        cfg["probes"][0] = tcp("line", good.port, send="PING", expect="PONG")
        cfg["probes"][1] = tls("tls_line", tls_silent.port, ca_file=certs.ca)
        v.write_config(cfg)
        v.signal(signal.SIGHUP)
        self.last_run(v, "line", lambda r: r["result"] == "up", "the new tcp probe up")
        lr = self.last_run(v, "tls_line", lambda r: r["result"] == "up", "the new tls probe up")
        self.assertTrue(8 < lr["metrics"]["cert_expiry_days"] <= 9, lr)
