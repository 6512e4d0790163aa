"""The examples the documentation gives, checked against the code: the
configuration example in README.md passes `vigild --check-config`; every
vigilctl command line in README.md and docs/ uses a command and options
that `vigilctl --help` lists; every relative link in README.md,
HACKING.md, lib/README.md and docs/ names a file that exists; the shipped
example scripts in contrib/examples/ are executable and parse.

(The staged-rollout example itself is run against the simulator and a
real vigild by test_rollout.py, class Script.)

Nothing here depends on how vigild was compiled, so, like test_package.py,
the module defines its tests only in the pass over the plain build.
"""
import glob
import os
import re
import subprocess
import tempfile
import unittest

from harness import BUILD, ROOT, VIGILD

PLAIN = os.path.realpath(BUILD) == os.path.realpath(os.path.join(ROOT, "build"))
VIGILCTL = os.path.join(BUILD, "vigilctl")
DOCS = ["README.md", "HACKING.md", "lib/README.md", *sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))]


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def blocks(text, lang):
    """The fenced code blocks of a language."""
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.M | re.S)


class ConfigExample(unittest.TestCase):
    def test_readme_example_is_valid(self):
        found = blocks(read("README.md"), "jsonc")
        self.assertEqual(len(found), 1, "README.md's one configuration example (```jsonc)")
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write(found[0])
            f.flush()
            r = subprocess.run([VIGILD, "--check-config", f.name], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr + found[0])


class VigilctlLines(unittest.TestCase):
    def test_commands_and_options_exist(self):
        help_text = subprocess.run([VIGILCTL, "--help"], capture_output=True, text=True,
                                   timeout=30).stdout
        usage = [l.strip() for l in help_text.splitlines()
                 if l.strip().startswith("vigilctl ")]
        options = set(re.findall(r"--[a-z][a-z-]*", help_text))
        checked = 0
        for doc in DOCS:
            for block in blocks(read(doc), "sh"):
                for line in block.replace("\\\n", " ").splitlines():
                    m = re.search(r"(?:^|\s|/)vigilctl\s+(.*)", line.split("#", 1)[0])
                    if m is None or "$VIGILCTL" in line:
                        continue
                    words = [w for w in m.group(1).split() if not w.startswith("-")]
                    cmd = " ".join(words[:2])
                    self.assertTrue(
                        any(u.startswith("vigilctl " + cmd) or
                            u.startswith("vigilctl " + words[0] + " ") for u in usage),
                        f"{doc}: `{line.strip()}`: no such vigilctl command")
                    for opt in re.findall(r"(?<!\S)--[a-z][a-z-]*", m.group(1)):
                        self.assertIn(opt, options, f"{doc}: `{line.strip()}`: vigilctl "
                                                    f"has no option {opt}")
                    checked += 1
        self.assertGreater(checked, 10, "no vigilctl lines found in the docs")


class Links(unittest.TestCase):
    def test_relative_links_resolve(self):
        for doc in DOCS:
            base = os.path.dirname(os.path.join(ROOT, doc))
            for target in re.findall(r"\]\(([^)\s]+)\)", read(doc)):
                if re.match(r"[a-z]+:", target) or target.startswith("#"):
                    continue
                path = target.split("#", 1)[0]
                self.assertTrue(os.path.exists(os.path.join(base, path)),
                                f"{doc}: the link ({target}) names no file")


class Scripts(unittest.TestCase):
    def test_examples_are_executable_and_parse(self):
        scripts = sorted(glob.glob(os.path.join(ROOT, "contrib", "examples", "*.sh")))
        self.assertTrue(scripts)
        for s in scripts:
            self.assertTrue(os.access(s, os.X_OK), f"{s} is not executable")
            r = subprocess.run(["sh", "-n", s], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"{s}: {r.stderr}")


if not PLAIN:
    del ConfigExample, VigilctlLines, Links, Scripts
