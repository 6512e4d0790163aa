"""The dns probe type against the real vigild (#22).

A DNS responder on a loopback UDP port in the test process, written by
hand (no dnslib): it parses the question and answers A, AAAA, CNAME, MX
and TXT from a table (the answer names compressed, as servers do),
NXDOMAIN for a name it does not know, SERVFAIL for servfail.test, a
truncated (TC) reply for big.test, and nothing at all for silent.test,
so the probe times out; a port where nothing listens refuses. Without
"server" the probe asks resolv.conf's first nameserver: that test is
root's (a mount namespace), as test_faults' resolver tests are.
"""
import os
import signal
import socket
import struct
import subprocess
import threading

from harness import E2E, SLOW, wait_for

A, CNAME, MX, TXT, AAAA = 1, 5, 15, 16, 28

TABLE = {
    ("portal.test", A): [socket.inet_aton("192.0.2.10"), socket.inet_aton("192.0.2.11")],
    ("portal.test", AAAA): [socket.inet_pton(socket.AF_INET6, "2001:db8::10")],
    ("www.portal.test", CNAME): ["portal.test"],
    ("portal.test", MX): [(10, "mail.portal.test"), (20, "backup.portal.test")],
    ("portal.test", TXT): [["v=spf1 ", "-all"]],
}


def wire_name(name, known):
    """Labels of name, ending in a pointer to a suffix already written."""
    out = b""
    labels = name.split(".")
    for i in range(len(labels)):
        suffix = ".".join(labels[i:])
        if suffix in known:
            return out + struct.pack(">H", 0xC000 | known[suffix])
        out += bytes([len(labels[i])]) + labels[i].encode()
    return out + b"\0"


class Responder:
    def __init__(self, addr=("127.0.0.1", 0)):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(addr)
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self.running = True
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            reply = self.answer(data)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def answer(self, q):
        qid, flags = struct.unpack(">HH", q[:4])
        p, labels = 12, []
        while q[p]:
            labels.append(q[p + 1:p + 1 + q[p]].decode())
            p += 1 + q[p]
        name = ".".join(labels).lower()
        qtype, = struct.unpack(">H", q[p + 1:p + 3])
        question = q[12:p + 5]
        self.queries.append((name, qtype))
        if name == "silent.test":
            return None
        if name == "big.test":
            # Too big for UDP: TC set, no answers, as servers do.
            return struct.pack(">HHHHHH", qid, 0x8380, 1, 0, 0, 0) + q[12:p + 5]
        rcode, records = 0, TABLE.get((name, qtype), [])
        if name == "servfail.test":
            rcode = 2
        elif not any(n == name for n, _ in TABLE):
            rcode = 3
        body, known = b"", {name: 12}
        for r in records:
            off = 12 + len(question) + len(body)
            if qtype in (A, AAAA):
                rdata = r
            elif qtype == CNAME:
                rdata = wire_name(r, known)
                known.setdefault(r, off + 12)
            elif qtype == MX:
                rdata = struct.pack(">H", r[0]) + wire_name(r[1], known)
            else:
                rdata = b"".join(bytes([len(s)]) + s.encode() for s in r)
            body += struct.pack(">HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(records), 0, 0)
        return head + question + body

    def stop(self):
        self.running = False
        self.sock.close()


def dns_probe(name, query, server, record=None, timeout="1s", **extra):
    p = {"name": name, "type": "dns", "query": query, "server": server,
         "interval": "500ms", "timeout": timeout}
    if record is not None:
        p["record"] = record
    p.update(extra)
    return p


class DnsProbe(E2E):
    def setUp(self):
        super().setUp()
        self.dns = Responder()
        self.addCleanup(self.dns.stop)
        self.server = f"127.0.0.1:{self.dns.port}"
        # Nothing listens there: the kernel answers ICMP port unreachable.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.bind(("127.0.0.1", 0))
            self.closed = f"127.0.0.1:{c.getsockname()[1]}"

    def run_probes(self, probes):
        v = self.vigild({"probes": probes})
        wait_for(lambda: all(v.probe(p["name"]).get("last_run") for p in probes),
                 10 * SLOW, what="a finished run of every probe")
        return {p["name"]: v.probe(p["name"]) for p in probes}

    def test_each_record_type_answers(self):
        s = self.server
        got = self.run_probes([
            dns_probe("a", "portal.test", s, expect={"contains": "192.0.2.10"}),
            dns_probe("aaaa", "portal.test", s, "AAAA", expect={"equals": ["2001:DB8:0::10"]}),
            dns_probe("cname", "www.portal.test.", s, "CNAME",
                      expect={"equals": ["Portal.Test."]}),
            dns_probe("mx", "portal.test", s, "MX",
                      expect={"equals": ["20 backup.portal.test", "10 mail.portal.test"]}),
            dns_probe("txt", "Portal.Test", s, "TXT", expect={"contains": "v=spf1 -all"}),
        ])
        for name, p in got.items():
            self.assertEqual(p["state"], "up", p)
            m = p["last_run"]["metrics"]
            self.assertIn("resolve_ms", m)
            self.assertIn("duration_ms", m)
            self.assertEqual(m["up"], 1)
        self.assertEqual(got["a"]["last_run"]["metrics"]["answers"], 2)
        self.assertEqual(got["mx"]["last_run"]["metrics"]["answers"], 2)
        self.assertEqual(got["txt"]["last_run"]["metrics"]["answers"], 1)

    def test_nxdomain_servfail_and_timeout(self):
        s = self.server
        got = self.run_probes([
            dns_probe("nx", "nothing.test", s),
            dns_probe("sf", "servfail.test", s, "MX"),
            dns_probe("silent", "silent.test", s, timeout="400ms"),
            dns_probe("refused", "portal.test", self.closed),
            dns_probe("big", "big.test", s, "TXT"),
        ])
        nx = got["nx"]["last_run"]
        self.assertEqual(got["nx"]["state"], "down")
        self.assertEqual(nx["reason"], "NXDOMAIN for nothing.test A")
        self.assertEqual(nx["metrics"]["answers"], 0)
        self.assertIn("resolve_ms", nx["metrics"])
        sf = got["sf"]["last_run"]
        self.assertEqual(sf["reason"], f"SERVFAIL for servfail.test MX from {s}")
        silent = got["silent"]["last_run"]
        self.assertEqual(silent["fail"], "timeout")
        self.assertEqual(silent["reason"], f"no answer from {s} for silent.test A "
                         "within 400 ms (sent twice)")
        self.assertEqual(got["big"]["last_run"]["reason"],
                         f"truncated answer (TC) for big.test TXT from {s}; "
                         "vigil does not retry over TCP")
        refused = got["refused"]["last_run"]
        self.assertEqual(refused["fail"], "connect")
        self.assertEqual(refused["reason"], f"no DNS server at {self.closed}: "
                         "Connection refused")
        # One retry within the timeout: the question went out twice a run.
        self.assertGreaterEqual(sum(1 for q in self.dns.queries if q[0] == "silent.test"), 2)

    def test_expectations_not_met(self):
        s = self.server
        got = self.run_probes([
            dns_probe("contains", "portal.test", s, expect={"contains": "192.0.2.99"}),
            dns_probe("equals", "portal.test", s, expect={"equals": ["192.0.2.10"]}),
            dns_probe("empty", "portal.test", s, "CNAME", expect={"contains": "x.test"}),
        ])
        for p in got.values():
            self.assertEqual(p["state"], "down", p)
        self.assertEqual(got["contains"]["last_run"]["reason"],
                         'portal.test A: expected "192.0.2.99" among the answers, '
                         'got "192.0.2.10", "192.0.2.11"')
        self.assertEqual(got["equals"]["last_run"]["reason"],
                         'portal.test A: the answers are not those expected, '
                         'got "192.0.2.10", "192.0.2.11"')
        self.assertEqual(got["empty"]["last_run"]["reason"],
                         'portal.test CNAME: expected "x.test" among the answers, '
                         'got no answers')

    def test_reload_keeps_the_probe_and_takes_a_change(self):
        probe = dns_probe("a", "portal.test", self.server, expect={"contains": "192.0.2.10"})
        other = dns_probe("b", "portal.test", self.server, "MX")
        v = self.vigild({"probes": [probe, other]})
        wait_for(lambda: v.probe("a")["runs"] >= 2 and v.probe("b")["runs"] >= 1,
                 10 * SLOW, what="runs")
        other["expect"] = {"contains": "30 nothing.portal.test"}
        v.write_config({"probes": [probe, other]})
        runs = v.probe("a")["runs"]
        v.signal(signal.SIGHUP)
        wait_for(lambda: v.status()["vigild"]["config"]["reloads"] == 1, 10 * SLOW, what="reload")
        self.assertIn("kept=1 started=1 removed=0", v.log_text())
        self.assertGreaterEqual(v.probe("a")["runs"], runs)
        wait_for(lambda: v.probe("b")["state"] == "down", 10 * SLOW, what="b judged anew")
        self.assertEqual(v.probe("a")["state"], "up")
        self.assertIn('expected "30 nothing.portal.test"', v.probe("b")["last_run"]["reason"])


class SystemResolver(E2E):
    """Without "server", resolv.conf's first nameserver: vigild runs in its
    own mount namespace with /etc/resolv.conf naming a responder on port
    53 of 127.0.2.53 (loopback, and apart from test_faults' 127.0.0.1:53)."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("binds port 53 and a mount namespace: root only")
        if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            self.skipTest("mount namespaces are not permitted here")
        try:
            self.dns = Responder(("127.0.2.53", 53))
        except OSError as e:
            self.skipTest(f"127.0.2.53:53 is taken: {e}")
        self.addCleanup(self.dns.stop)
        self.resolv = os.path.join(self.workdir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("# vigil's test\nsearch example\nnameserver 127.0.2.53\n"
                    "nameserver 127.0.0.1\n")

    def test_first_nameserver_asked(self):
        v = self.vigild({"probes": [
            {"name": "a", "type": "dns", "query": "portal.test", "interval": "500ms",
             "timeout": "1s", "expect": {"equals": ["192.0.2.11", "192.0.2.10"]}},
        ]}, wrap=("unshare", "-m", "sh", "-c",
                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv))
        wait_for(lambda: v.probe("a").get("last_run"), 10 * SLOW, what="a run")
        self.assertEqual(v.probe("a")["state"], "up", v.probe("a"))
        self.assertIn(("portal.test", A), self.dns.queries)
