"""The built package under real systemd: a minimal Debian 12 (debootstrap
minbase with systemd and the package's run-time dependencies, nothing else;
make nspawn-root) booted with systemd-nspawn, the .deb installed with dpkg,
then: start (active only after READY=1), STATUS= in `systemctl show`, the
state directory made for the dynamic user, reload with a valid and with an
invalid configuration (the running one kept), a restart when the watchdog
pings stop, and stop.

Defined only with VIGIL_BOOT=1 (make check-boot, part of make check-all):
it needs root, systemd-nspawn and the root directory, and boots a copy
of it, so the cached root stays clean. The container
shares the host's network namespace; vigild inside listens on a free
loopback port, probes itself, and the test talks to it on 127.0.0.1 only.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import ROOT, free_port, http, wait_for

NSPAWN_ROOT = os.environ.get("VIGIL_NSPAWN_ROOT", os.path.join(ROOT, "build/nspawn-root"))
DEB_DIR = os.path.join(ROOT, "build/deb")
# The unit's 30 s watchdog, shortened by a drop-in so the test waits seconds.
WATCHDOG = "2s"


def config(port, broken=False):
    if broken:
        return '{ "api": { "listen": "127.0.0.1:%d" }, "probes": [ { "name": 1 } ] }' % port
    return json.dumps({
        "api": {"listen": f"127.0.0.1:{port}"},
        "state_dir": "/var/lib/vigil",
        "probes": [{"name": "self", "type": "http", "url": f"http://127.0.0.1:{port}/livez",
                    "interval": "1s", "timeout": "1s"}],
    }, indent=2)


class Boot(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.fail("the boot test runs systemd-nspawn: run it as root (CI does)")
        if not os.path.exists(os.path.join(NSPAWN_ROOT, "etc/os-release")):
            self.fail(f"no container root at {NSPAWN_ROOT}: make nspawn-root")
        debs = [f for f in os.listdir(DEB_DIR) if f.startswith("vigil_") and f.endswith(".deb")] \
            if os.path.isdir(DEB_DIR) else []
        if len(debs) != 1:
            self.fail(f"need exactly one build/deb/vigil_*.deb (make deb), found {debs}")
        self.deb = debs[0]
        self.tmp = tempfile.mkdtemp(prefix="vigil-boot-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.log = open(os.path.join(self.tmp, "console.log"), "wb")
        self.addCleanup(self.log.close)
        # A copy of its own, removed afterwards (nspawn's -x left its
        # copies behind when the container powered off).
        root = os.path.join(self.tmp, "root")
        r = subprocess.run(["cp", "-a", "--reflink=auto", NSPAWN_ROOT, root],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(self.tmp, 0o755)
        os.chmod(root, 0o755)   # the container's / must be 755
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-q", "-b", "--register=no", "--keep-unit",
             "--console=read-only", "-D", root, f"--bind-ro={DEB_DIR}:/mnt/deb"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(self.poweroff)
        self.leader = wait_for(self.find_leader, 30, what="the container's systemd")
        state = wait_for(self.booted, 90, step=0.5, what="the container to boot")
        self.assertEqual(state, "running", self.sh("systemctl", "--failed", "--no-pager",
                                                   check=False).stdout + self.console())

    def booted(self):
        """The container's systemd state once it is up, else None."""
        state = self.sh("systemctl", "is-system-running", check=False).stdout.strip()
        return state if state in ("running", "degraded") else None

    def find_leader(self):
        """The container's PID 1, as the host sees it."""
        if self.nspawn.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited {self.nspawn.returncode}:\n"
                                 f"{self.console()}")
        todo = [self.nspawn.pid]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = f.read()
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                continue
            nspid = [ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:")]
            if pid != self.nspawn.pid and nspid and nspid[0][-1] == "1" and len(nspid[0]) > 1 \
                    and "Name:\tsystemd\n" in status:
                return pid
        return None

    def console(self):
        self.log.flush()
        with open(os.path.join(self.tmp, "console.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def sh(self, *argv, check=True, timeout=60, stdin=None):
        """Runs argv inside the container."""
        r = subprocess.run(["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-p", "-C",
                            "--", *argv], capture_output=True, text=True, timeout=timeout,
                           input=stdin, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                             "LANG": "C.UTF-8"})
        if check:
            self.assertEqual(r.returncode, 0, f"{argv}: {r.stdout}{r.stderr}")
        return r

    def write(self, path, text):
        self.sh("sh", "-c", f"cat > {path}", stdin=text)

    def show(self, *props):
        out = self.sh("systemctl", "show", "vigil", "-p", ",".join(props)).stdout
        return dict(ln.split("=", 1) for ln in out.splitlines() if "=" in ln)

    def journal(self):
        return self.sh("journalctl", "-u", "vigil", "--no-pager", "-o", "cat",
                       check=False).stdout[-4000:]

    def poweroff(self):
        if self.nspawn.poll() is None:
            # SIGRTMIN+4 asks the container's systemd to power off.
            self.nspawn.send_signal(signal.SIGRTMIN + 4)
            try:
                self.nspawn.wait(60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()

    def test_start_reload_watchdog_stop(self):
        # A minimal system: no procps until the package's Depends brings it
        # (here, make nspawn-root put it in, as apt would).
        r = self.sh("dpkg", "-i", f"/mnt/deb/{self.deb}")
        self.assertIn("Setting up vigil", r.stdout)
        self.assertEqual(self.sh("systemctl", "is-enabled", "vigil", check=False).stdout.strip(),
                         "disabled", "shipped disabled")
        port = free_port()
        self.write("/etc/vigil/vigil.json", config(port))
        self.sh("mkdir", "-p", "/etc/systemd/system/vigil.service.d")
        self.write("/etc/systemd/system/vigil.service.d/watchdog.conf",
                   f"[Service]\nWatchdogSec={WATCHDOG}\n")
        self.sh("systemctl", "daemon-reload")

        # Start: Type=notify, so "active" means vigild said READY=1.
        self.sh("systemctl", "start", "vigil", timeout=60)
        s = self.show("ActiveState", "SubState", "MainPID", "StatusText", "NRestarts")
        self.assertEqual((s["ActiveState"], s["SubState"]), ("active", "running"), self.journal())
        self.assertNotEqual(s["StatusText"], "", "STATUS= from vigild")
        pid = s["MainPID"]
        wait_for(lambda: http("GET", f"http://127.0.0.1:{port}/health")[0] == 200, 20,
                 what="/health 200 from the booted vigild")
        # The state directory, made by systemd for the dynamic user.
        wait_for(lambda: self.sh("test", "-s", "/var/lib/vigil/state.json",
                                 check=False).returncode == 0, 30, what="state.json written")
        self.assertEqual(self.sh("readlink", "/var/lib/vigil").stdout.strip(), "private/vigil")

        def reloads():
            return json.loads(http("GET", f"http://127.0.0.1:{port}/status")[2]) \
                ["vigild"]["config"]["reloads"]

        # Reload, valid: applied, same process.
        before = reloads()
        self.write("/etc/vigil/vigil.json", config(port).replace('"1s"', '"2s"', 1))
        self.sh("systemctl", "reload", "vigil")
        wait_for(lambda: reloads() == before + 1, 10, what="the reload applied")
        s = self.show("ActiveState", "MainPID", "StatusText")
        self.assertEqual((s["ActiveState"], s["MainPID"]), ("active", pid))

        # Reload, invalid: rejected, the running configuration kept.
        self.write("/etc/vigil/vigil.json", config(port, broken=True))
        self.sh("systemctl", "reload", "vigil")
        wait_for(lambda: "reload rejected" in self.show("StatusText")["StatusText"], 10,
                 what="STATUS= saying the reload was rejected")
        s = self.show("ActiveState", "MainPID")
        self.assertEqual((s["ActiveState"], s["MainPID"]), ("active", pid))
        self.assertEqual(http("GET", f"http://127.0.0.1:{port}/health")[0], 200)
        self.write("/etc/vigil/vigil.json", config(port))

        # Watchdog: a stopped vigild stops pinging; systemd kills it and,
        # by Restart=on-failure, starts it again.
        self.sh("systemctl", "kill", "--signal=SIGSTOP", "vigil")
        s = wait_for(lambda: (lambda s: s if s["NRestarts"] == "1" and
                              s["ActiveState"] == "active" else None)(
            self.show("ActiveState", "MainPID", "NRestarts", "Result")), 60,
            what="a restart after the watchdog timeout")
        self.assertNotEqual(s["MainPID"], pid)
        journal = self.journal()
        self.assertIn("Watchdog timeout (limit 2s)", journal)
        self.assertIn("Failed with result 'watchdog'", journal)
        # The new process took up the state the old one saved.
        self.assertIn("event=state_restored path=/var/lib/vigil/state.json", journal)
        wait_for(lambda: http("GET", f"http://127.0.0.1:{port}/health")[0] == 200, 20,
                 what="/health 200 after the restart")

        # Stop: clean, nothing left running.
        self.sh("systemctl", "stop", "vigil", timeout=60)
        s = self.show("ActiveState", "MainPID")
        self.assertEqual((s["ActiveState"], s["MainPID"]), ("inactive", "0"))
        self.assertIn("event=stopped", self.journal())


if os.environ.get("VIGIL_BOOT") != "1":
    # Only in make check-boot (make check-all): see the docstring.
    del Boot
