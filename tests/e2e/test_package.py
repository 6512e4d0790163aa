"""Packaging: `make install` lays out the expected files, the installed unit
passes `systemd-analyze verify` and scores below 2.0 under `systemd-analyze
security`, the man pages lint clean and match the code, make deps covers
debian/control's Build-Depends, and `make deb` builds a package that
lintian passes clean (debug symbols in vigil-dbgsym), that `dpkg -i`
installs (unit disabled, config a conffile), that `dpkg -r` removes
keeping the configuration and state, and `--purge` removes them too.

These do not depend on how vigild was compiled, so they run once, in the
pass over the plain build: under VIGIL_BUILD=build/san this module defines
no tests. The package round trip (class Deb) takes a while and changes the
machine, so it is defined only with VIGIL_DEB=1 (make check-deb, part of
make check-all), never once per build flavour. None needs systemd running;
the deb test needs root (as CI is) and fails, rather than skipping,
without it.
"""
import fcntl
import filecmp
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BUILD, ROOT, VIGILD, free_port, http, wait_for, wait_until

PLAIN = os.path.realpath(BUILD) == os.path.realpath(os.path.join(ROOT, "build"))
UNIT_DIRECTIVES = {
    "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s",
    "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
    "DynamicUser": "yes", "StateDirectory": "vigil", "ConfigurationDirectory": "vigil",
    "CapabilityBoundingSet": "", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}
CREDENTIALS = ["vigil.api-token", "vigil.sentry-token", "vigil.pg-password", "vigil.webhook-url",
               "vigil.smtp-password", "vigil.pagerduty-key"]
MAN_PAGES = ["man8/vigild.8", "man5/vigil.json.5", "man1/vigilctl.1"]


def run(cmd, **kw):
    """Runs cmd; the result, with stdout and stderr as text."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


def make(*args):
    return run(["make", "-C", ROOT, "--no-print-directory", *args])


def unit_settings(path):
    """Service-section settings as {key: [values]}."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault((section, k), []).append(v)
    return out


def exposure(output):
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", output)
    assert m, output
    return float(m.group(1))


def check_unit(test, unit):
    """verify clean, and exposure below 2.0; returns the exposure."""
    r = run(["systemd-analyze", "verify", "--man=no", unit])
    test.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify")
    r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit])
    test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
    score = exposure(r.stdout + r.stderr)
    test.assertLess(score, 2.0, r.stdout)
    return score


def control_build_depends():
    """debian/control's Build-Depends as package names (versions and
    architecture qualifiers dropped; debhelper-compat is debhelper's)."""
    text = open(os.path.join(ROOT, "debian/control")).read()
    m = re.search(r"^Build-Depends:(.*?)^(?=\S)", text, re.M | re.S)
    assert m, "debian/control has no Build-Depends"
    names = []
    for dep in m.group(1).replace("\n", " ").split(","):
        dep = dep.strip()
        if not dep:
            continue
        # "a | b": make deps installs the first.
        name = re.split(r"[\s(\[<:]", dep.split("|")[0].strip(), 1)[0]
        names.append("debhelper" if name == "debhelper-compat" else name)
    return names


def deps_installed_by(target):
    """The package names `make TARGET` hands to tests/deps.sh."""
    r = make("-n", target)
    assert r.returncode == 0, r.stdout + r.stderr
    line = [ln for ln in r.stdout.splitlines() if "tests/deps.sh" in ln]
    assert len(line) == 1, r.stdout
    return line[0].split("tests/deps.sh", 1)[1].split()


class Deps(unittest.TestCase):
    """make deps / make build-deps against debian/control, so they cannot
    drift: a Build-Depends added to the package and not to the Makefile
    would fail `make deb` on a fresh machine (as build-essential once did)."""

    def test_build_deps_cover_control(self):
        control = control_build_depends()
        self.assertIn("libevent-dev", control)   # the parse found the list
        build = deps_installed_by("build-deps")
        everything = deps_installed_by("deps")
        # dpkg-checkbuilddeps also requires build-essential; -b builds use fakeroot.
        for name in control + ["build-essential", "fakeroot"]:
            self.assertIn(name, build, f"make build-deps misses {name} (debian/control)")
            self.assertIn(name, everything, f"make deps misses {name}")
        self.assertLessEqual(set(build), set(everything))
        # The package build needs nothing of the test toolchain.
        for heavy in ("chromium", "postgresql-15", "prometheus", "valgrind", "clang"):
            self.assertNotIn(heavy, build)
        self.assertIn("lintian", everything, "the package test runs lintian")

    def test_deb_needs_only_build_deps(self):
        r = make("-n", "deb")
        self.assertEqual(r.returncode, 0, r.stderr)
        calls = [ln.split("tests/deps.sh", 1)[1].split()
                 for ln in r.stdout.splitlines() if "tests/deps.sh" in ln]
        self.assertEqual(calls, [deps_installed_by("build-deps")])


class Install(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vigil-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_destdir_layout_and_kept_config(self):
        dest = os.path.join(self.tmp, "root")
        r = make("install", f"DESTDIR={dest}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        files = sorted(os.path.relpath(os.path.join(d, f), dest)
                       for d, _, fs in os.walk(dest) for f in fs)
        self.assertEqual(files, sorted([
            "etc/vigil/vigil.json",
            "usr/local/lib/systemd/system/vigil.service",
            "usr/local/sbin/vigild",
            "usr/local/bin/vigilctl",
            *(f"usr/local/share/man/{m}" for m in MAN_PAGES),
            "usr/local/share/vigil/grafana/vigil.json",
            "usr/local/share/vigil/prometheus/vigil-rules.yml",
        ]))
        self.assertTrue(os.stat(os.path.join(dest, "usr/local/sbin/vigild")).st_mode & stat.S_IXOTH)
        self.assertTrue(filecmp.cmp(os.path.join(dest, "etc/vigil/vigil.json"),
                                    os.path.join(ROOT, "etc/vigil.json"), shallow=False))
        unit = unit_settings(os.path.join(dest, "usr/local/lib/systemd/system/vigil.service"))
        self.assertEqual(unit[("[Service]", "ExecStart")],
                         ["/usr/local/sbin/vigild -c /etc/vigil/vigil.json"])
        self.assertEqual(unit[("[Service]", "ExecStartPre")],
                         ["/usr/local/sbin/vigild --check-config /etc/vigil/vigil.json"])
        for k, v in UNIT_DIRECTIVES.items():
            self.assertIn(v, unit[("[Service]", k)], k)
        self.assertEqual(unit[("[Service]", "LoadCredential")], CREDENTIALS)
        self.assertNotIn("@", open(os.path.join(dest, "usr/local/lib/systemd/system/vigil.service"))
                         .read().replace("@system-service", "").replace("@privileged", "")
                         .replace("@resources", ""), "a template placeholder is left")

        # An operator's edited config survives a second install.
        conf = os.path.join(dest, "etc/vigil/vigil.json")
        with open(conf, "w") as f:
            f.write("{ \"probes\": [] } // mine\n")
        r = make("install", f"DESTDIR={dest}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("keeping existing", r.stdout)
        with open(conf) as f:
            self.assertIn("// mine", f.read())

    def test_installed_unit_verifies_and_is_hardened(self):
        # Installed for real at a prefix of its own, so that ExecStart=
        # names a binary that exists, as `verify` requires.
        prefix = os.path.join(self.tmp, "usr")
        etc = os.path.join(self.tmp, "etc")
        r = make("install", f"PREFIX={prefix}", f"SYSCONFDIR={etc}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        unit = os.path.join(prefix, "lib/systemd/system/vigil.service")
        self.assertIn(f"ExecStart={prefix}/sbin/vigild -c {etc}/vigil/vigil.json", open(unit).read())
        score = check_unit(self, unit)
        print(f"\n    systemd-analyze security: exposure {score}", end=" ")
        # The check the unit runs first accepts the shipped configuration.
        r = run([os.path.join(prefix, "sbin/vigild"), "--check-config",
                 os.path.join(etc, "vigil/vigil.json")])
        self.assertEqual(r.returncode, 0, r.stderr)


class ManPages(unittest.TestCase):
    def test_lint_clean(self):
        for page in MAN_PAGES:
            path = os.path.join(ROOT, "man", os.path.basename(page))
            r = run(["mandoc", "-T", "lint", "-W", "warning", path])
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), f"mandoc lint {path}")
            r = run(["man", "--warnings", "-E", "UTF-8", "-l", path])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", f"man --warnings {path}")
            self.assertIn("NAME", r.stdout)

    def test_vigild_page_has_every_option(self):
        help_text = run([VIGILD, "--help"]).stdout
        page = open(os.path.join(ROOT, "man/vigild.8")).read()
        options = set(re.findall(r"--([a-z][a-z-]+)", help_text))
        self.assertGreaterEqual(options, {"config", "check-config", "log-level", "help", "version"})
        for o in options:
            self.assertIn("Fl \\-" + o.replace("-", "\\-"), page, f"--{o} is not in vigild(8)")
        for sig in ("SIGHUP", "SIGTERM"):
            self.assertIn(sig, page)
        for code in ("0", "1", "64"):
            self.assertRegex(page, rf"\.It {code}\n", f"exit status {code}")

    def test_config_page_example_is_valid(self):
        page = open(os.path.join(ROOT, "man/vigil.json.5")).read()
        example = page.split(".Sh EXAMPLES", 1)[1].split(".Bd -literal -offset indent\n", 1)[1]
        example = example.split("\n.Ed", 1)[0]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write(example)
            f.flush()
            r = run([VIGILD, "--check-config", f.name])
        self.assertEqual(r.returncode, 0, r.stderr + example)
    def test_config_page_covers_the_shipped_config(self):
        # The page grows with the configuration: every top-level key and
        # probe type that etc/vigil.json uses has its own subsection.
        page = open(os.path.join(ROOT, "man/vigil.json.5")).read()
        shipped = open(os.path.join(ROOT, "etc/vigil.json")).read()
        for key in re.findall(r'^  "([a-z_]+)":', shipped, re.M):
            if f".Ss {key}\n" not in page:
                self.fail(f'etc/vigil.json uses the top-level key "{key}", which '
                          f'man/vigil.json.5 does not document: add a ".Ss {key}" '
                          f'subsection under CONFIGURATION')
        # A probe's type, at a probe's depth (a metric's "type" is deeper).
        for kind in set(re.findall(r'^      "type":\s*"([a-z_]+)"', shipped, re.M)):
            if f".Ss {kind}\n" not in page:
                self.fail(f'etc/vigil.json has a "{kind}" probe, which man/vigil.json.5 '
                          f'does not document: add a ".Ss {kind}" subsection under PROBES')

    def test_config_page_names_every_key_the_reader_accepts(self):
        # The reference lives in the page alone (README.md no longer repeats
        # it), so the page is checked against the code: every key in a
        # "*keys[]" list that lib/config/ hands cfg_check_keys must be a
        # macro argument somewhere in the page (".It Cm key", ".Cm key").
        page = open(os.path.join(ROOT, "man/vigil.json.5")).read()
        macros = "\n".join(l for l in page.splitlines()
                           if l.startswith(".") and not l.startswith('.\\"'))
        keys = {}
        for src in sorted(os.listdir(os.path.join(ROOT, "lib/config"))):
            if not src.endswith(".c"):
                continue
            text = open(os.path.join(ROOT, "lib/config", src)).read()
            for name, body in re.findall(
                    r"static const char \*const (\w*keys)\[\]\s*=\s*\{(.*?)\};", text, re.S):
                for k in re.findall(r'"([^"]+)"', body):
                    keys.setdefault(k, f"lib/config/{src} ({name})")
        self.assertGreater(len(keys), 100, "the key lists were not found in lib/config/")
        missing = sorted(f"{k} from {where}" for k, where in keys.items()
                         if not re.search(rf"(?<!\w){re.escape(k)}(?!\w)", macros))
        self.assertEqual(missing, [], "keys the configuration reader accepts that "
                                      "man/vigil.json.5 never names")


class Deb(unittest.TestCase):
    def installed(self):
        """True when dpkg has vigil installed (or half-installed)."""
        r = run(["dpkg-query", "-W", "-f=${Status}", "vigil"])
        return r.returncode == 0 and not r.stdout.endswith(" not-installed")

    def purge(self):
        run(["dpkg", "--purge", "vigil"])

    def lock(self):
        """Serializes this test across work trees on one machine: two runs
        installing and purging the same package at once would fail each
        other (dpkg's lock, or 'already installed')."""
        f = open("/run/lock/vigil-deb-test.lock", "w")
        self.addCleanup(f.close)

        def locked():
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)   # BlockingIOError: not yet
            return True
        wait_until(locked, 600, "the deb test's lock (another run holds it)", interval=0.5)

    def api_token_as_credential(self, unit):
        """The README's way to the API token: "token_file": "vigil.api-token"
        in /etc/vigil/vigil.json, the secret in /etc/credstore. The unit's
        start-time check, run as systemd runs it (an unprivileged user,
        $CREDENTIALS_DIRECTORY holding the credential), passes; the
        root-only file the README used to suggest fails it; and vigilctl, as
        root, finds the token in /etc/credstore."""
        conf = "/etc/vigil/vigil.json"
        text = open(conf).read()
        self.assertEqual(text.count('"api": {'), 1)
        with open(conf, "w") as f:
            f.write(text.replace('"api": {', '"api": {\n    "token_file": "vigil.api-token",'))
        pre = [v for k, v in unit_settings(unit).items() if k == ("[Service]", "ExecStartPre")]
        self.assertEqual(len(pre), 1)
        argv = shlex.split(pre[0][0])
        self.assertEqual(argv, ["/usr/sbin/vigild", "--check-config", conf])
        tmp = tempfile.mkdtemp(prefix="vigil-cred-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        creds = os.path.join(tmp, "credentials")
        os.mkdir(creds, 0o500)
        token = "pkg-test-token-5e1f"
        with open(os.path.join(creds, "vigil.api-token"), "w") as f:
            f.write(token + "\n")
        os.chmod(os.path.join(creds, "vigil.api-token"), 0o400)
        for p in (creds, os.path.join(creds, "vigil.api-token")):
            os.chown(p, 65534, 65534)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        r = run([*nobody, "env", f"CREDENTIALS_DIRECTORY={creds}", *argv])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(token, r.stdout + r.stderr)
        r = run([*nobody, *argv])
        self.assertEqual(r.returncode, 1, "without the credential the check fails")
        self.assertIn("$CREDENTIALS_DIRECTORY is not set", r.stderr)
        # What failed before: a root-only token file, as the dynamic user.
        rootonly = os.path.join(tmp, "token")
        with open(rootonly, "w") as f:
            f.write(token + "\n")
        os.chmod(rootonly, 0o600)
        other = os.path.join(tmp, "rootonly.json")
        with open(other, "w") as f:
            f.write(text.replace('"api": {', f'"api": {{\n    "token_file": "{rootonly}",'))
        os.chmod(other, 0o644)
        r = run([*nobody, "/usr/sbin/vigild", "--check-config", other])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Permission denied", r.stderr)

        # vigilctl as root on the ops host: the token from /etc/credstore.
        self.assertFalse(os.path.lexists("/etc/credstore/vigil.api-token"))
        made_store = not os.path.exists("/etc/credstore")
        os.makedirs("/etc/credstore", 0o700, exist_ok=True)
        if made_store:
            self.addCleanup(shutil.rmtree, "/etc/credstore", True)
        else:
            self.addCleanup(os.unlink, "/etc/credstore/vigil.api-token")
        with open(os.open("/etc/credstore/vigil.api-token", os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write(token + "\n")
        # The README's check before a reload, by hand as root, outside the
        # unit: the credential from the store systemd reads it from.
        r = run(["/usr/sbin/vigild", "--check-config", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        # And not as somebody who cannot read the store.
        r = run([*nobody, "/usr/sbin/vigild", "--check-config", conf])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("/etc/credstore/vigil.api-token: Permission denied", r.stderr)
        port = free_port()
        mini = os.path.join(tmp, "vigil.json")
        with open(mini, "w") as f:
            json.dump({"api": {"listen": f"127.0.0.1:{port}", "token_file": "vigil.api-token"},
                       "state_dir": os.path.join(tmp, "state"), "probes": []}, f)
        os.mkdir(os.path.join(tmp, "state"), 0o700)
        log = open(os.path.join(tmp, "vigild.log"), "wb")
        self.addCleanup(log.close)
        env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
        proc = subprocess.Popen(["/usr/sbin/vigild", "-c", mini], stdout=log,
                                stderr=subprocess.STDOUT,
                                env={**env, "CREDENTIALS_DIRECTORY": creds})
        self.addCleanup(lambda: proc.poll() is None and (proc.terminate(), proc.wait(20)))
        wait_for(lambda: http("GET", f"http://127.0.0.1:{port}/livez", timeout=1)[0] == 200,
                 10, what="the installed vigild to answer")
        r = subprocess.run(["/usr/bin/vigilctl", "-c", mini, "silence", "add", "--match",
                            "team=pkg", "--for", "5m", "--comment", "package test"],
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The token really decided it: a wrong one in the store is refused.
        with open("/etc/credstore/vigil.api-token", "w") as f:
            f.write("wrong-token\n")
        r = subprocess.run(["/usr/bin/vigilctl", "-c", mini, "silence", "add", "--match",
                            "team=pkg", "--for", "5m", "--comment", "package test"],
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        proc.terminate()
        self.assertEqual(proc.wait(20), 0)

    def test_build_install_remove(self):
        if os.geteuid() != 0:
            self.fail("the deb test installs a package: run it as root (CI does)")
        self.lock()
        if self.installed():
            self.fail("a vigil package is already installed on this machine; the test would "
                      "replace it. Remove it first: dpkg --purge vigil")
        r = make("deb")
        self.assertEqual(r.returncode, 0, (r.stdout + r.stderr)[-6000:])
        debs = {f.split("_")[0]: os.path.join(ROOT, "build/deb", f)
                for f in os.listdir(os.path.join(ROOT, "build/deb")) if f.endswith(".deb")}
        self.assertEqual(sorted(debs), ["vigil", "vigil-dbgsym"], debs)
        deb, dbgsym = debs["vigil"], debs["vigil-dbgsym"]
        changes = [f for f in os.listdir(os.path.join(ROOT, "build/deb")) if f.endswith(".changes")]
        self.assertEqual(len(changes), 1, changes)

        # lintian, every tag down to info: nothing but overrides that say why.
        r = run(["lintian", "--info", "--display-info", "--pedantic", "--fail-on",
                 "error,warning,info,pedantic", os.path.join(ROOT, "build/deb", changes[0])])
        tags = [ln for ln in (r.stdout + r.stderr).splitlines()
                if ln and ln != "running with root privileges is not recommended!"]
        self.assertEqual((r.returncode, tags), (0, []), "lintian")
        overrides = open(os.path.join(ROOT, "debian/vigil.lintian-overrides")).read()
        for line in overrides.splitlines():
            if line.startswith("vigil:"):
                before = overrides.split(line)[0].rstrip("\n").splitlines()
                self.assertTrue(before and before[-1].startswith("#"),
                                f"override without a comment saying why: {line}")

        # Debug symbols are in vigil-dbgsym, the binaries stripped.
        self.assertIn("./usr/lib/debug/.build-id/", run(["dpkg-deb", "-c", dbgsym]).stdout)
        self.assertNotIn("/usr/lib/debug", run(["dpkg-deb", "-c", deb]).stdout)
        # Nothing of the package build is left in the work tree.
        for leftover in ("debian/vigil", "debian/.debhelper", "debian/files",
                         "debian/debhelper-build-stamp"):
            self.assertFalse(os.path.exists(os.path.join(ROOT, leftover)), leftover)

        info = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"]).stdout
        version = re.search(r'^VERSION\s*:=\s*(\S+)', open(os.path.join(ROOT, "Makefile")).read(),
                            re.M).group(1)
        self.assertIn(f"Version: {version}", info)
        for lib in ("libc6", "libcurl4", "libevent", "libmicrohttpd", "libcjson"):
            self.assertIn(lib, info, "Depends from ${shlibs:Depends}")
        contents = run(["dpkg-deb", "-c", deb]).stdout
        for path in ("./usr/sbin/vigild", "./lib/systemd/system/vigil.service",
                     "./etc/vigil/vigil.json", "./usr/share/man/man8/vigild.8.gz",
                     "./usr/share/man/man5/vigil.json.5.gz", "./usr/bin/vigilctl",
                     "./usr/share/man/man1/vigilctl.1.gz",
                     "./usr/share/vigil/grafana/vigil.json",
                     "./usr/share/vigil/prometheus/vigil-rules.yml"):
            self.assertIn(path, contents)
        conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
        self.assertEqual(conffiles, ["/etc/vigil/vigil.json"])

        self.addCleanup(self.purge)
        r = run(["dpkg", "-i", deb])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(self.installed())
        r = run(["/usr/sbin/vigild", "--version"])
        self.assertEqual(r.stdout.strip(), f"vigild {version}")
        for binary in ("/usr/sbin/vigild", "/usr/bin/vigilctl"):
            sections = run(["readelf", "-S", "-W", binary]).stdout
            self.assertIn(".gnu_debuglink", sections, binary)
            self.assertNotIn(".debug_info", sections, f"{binary} is not stripped")
        r = run(["/usr/sbin/vigild", "--check-config", "/etc/vigil/vigil.json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        unit = "/lib/systemd/system/vigil.service"
        self.assertIn("ExecStart=/usr/sbin/vigild -c /etc/vigil/vigil.json", open(unit).read())
        # Shipped disabled: nothing links it into a target.
        wants = [os.path.join(d, f) for d, _, fs in os.walk("/etc/systemd/system")
                 for f in fs if f == "vigil.service"]
        self.assertEqual(wants, [])
        # The installed unit, man pages included this time.
        r = run(["systemd-analyze", "verify", unit])
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "verify with --man")
        check_unit(self, unit)
        # Every program the unit runs is vigil's or a declared dependency's
        # (a minimal system has no procps, and /bin/kill is its).
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
        for prog in set(re.findall(r"^Exec\w+=[-@:+!]*(/\S+)", open(unit).read(), re.M)):
            owner = run(["dpkg-query", "-S", prog]).stdout.split(":")[0]
            self.assertTrue(owner == "vigil" or re.search(rf"(^|[ ,]){re.escape(owner)}\b", depends),
                            f"{prog} is {owner!r}'s, which vigil does not depend on: {depends}")

        self.api_token_as_credential(unit)

        # What systemd makes for the dynamic user at the first start
        # (StateDirectory=): the state in /var/lib/private/vigil, and
        # /var/lib/vigil a symlink to it.
        for p in ("/var/lib/vigil", "/var/lib/private/vigil"):
            self.assertFalse(os.path.lexists(p), f"{p} exists before the test")
        os.makedirs("/var/lib/private", mode=0o700, exist_ok=True)
        os.mkdir("/var/lib/private/vigil", 0o700)
        with open("/var/lib/private/vigil/state.json", "w") as f:
            f.write("{}")
        os.symlink("private/vigil", "/var/lib/vigil")
        self.addCleanup(shutil.rmtree, "/var/lib/private/vigil", True)
        self.addCleanup(lambda: os.path.lexists("/var/lib/vigil") and os.unlink("/var/lib/vigil"))

        r = run(["dpkg", "-r", "vigil"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists("/usr/sbin/vigild"))
        self.assertFalse(os.path.exists(unit))
        self.assertTrue(os.path.exists("/etc/vigil/vigil.json"), "remove keeps the conffile")
        self.assertTrue(os.path.exists("/var/lib/vigil/state.json"), "remove keeps the state")
        r = run(["dpkg", "--purge", "vigil"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists("/etc/vigil/vigil.json"), "purge removes it")
        self.assertFalse(os.path.lexists("/var/lib/vigil"), "purge removes the state directory")
        self.assertFalse(os.path.lexists("/var/lib/private/vigil"), "and what it pointed to")
        self.assertFalse(self.installed())


if not PLAIN:
    # Once is enough: see the module's docstring.
    del Install, ManPages, Deps, Deb
elif os.environ.get("VIGIL_DEB") != "1":
    # Only in make check-deb (make check-all).
    del Deb
