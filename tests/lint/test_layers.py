#!/usr/bin/env python3
"""Tests of layers.py: that it catches what it is there to catch."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import layers  # noqa: E402


class Layers(unittest.TestCase):
    def tree(self, files):
        root = tempfile.mkdtemp(prefix='layers-')
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w', encoding='utf-8') as f:
                f.write(text)
        os.makedirs(os.path.join(root, 'daemon'), exist_ok=True)
        return root

    def test_downward_includes_pass(self):
        root = self.tree({
            'lib/base/a.h': '#include <stdio.h>\n',
            'lib/config/c.c': '#include "base/a.h"\n',
            'lib/engine/e.c': '#include "config/c.h"\n#include "probe/p.h"\n',
            'lib/http/h.c': '#include "release/r.h"\n#include "notify/n.h"\n',
            'daemon/d.c': '#include "sys/s.h"\n#include "client.h"\n',
        })
        self.assertEqual(layers.breaches(root), [])

    def test_upward_include_is_caught(self):
        root = self.tree({'lib/config/config.h':
                          '#include "base/a.h"\n#include "engine/rules.h"\n'})
        found = layers.breaches(root)
        self.assertEqual(len(found), 1, found)
        self.assertIn('lib/config/config.h:2: config may not include engine',
                      found[0])

    def test_sideways_include_is_caught(self):
        root = self.tree({'lib/release/d.c': '#include "probe/probe.h"\n',
                          'lib/http/api.c': '#include "sys/statefile.h"\n'})
        found = layers.breaches(root)
        self.assertEqual(len(found), 2, found)

    def test_base_includes_nothing_of_vigil(self):
        root = self.tree({'lib/base/log.c': '#include "config/config.h"\n'})
        self.assertEqual(len(layers.breaches(root)), 1)

    def test_private_header_stays_in_its_folder(self):
        root = self.tree({
            'lib/http/api.c': '#include "http/api_int.h"\n',
            'lib/sys/s.c': '#include "release/deploy_int.h"\n',
            'daemon/d.c': '#include "config/cfgread_int.h"\n',
        })
        found = layers.breaches(root)
        self.assertEqual(len(found), 2, found)
        self.assertTrue(all('private' in f for f in found), found)

    def test_bare_include_and_loose_file_are_caught(self):
        root = self.tree({'lib/engine/e.c': '#include "store.h"\n',
                          'lib/loose.c': ''})
        found = layers.breaches(root)
        self.assertEqual(len(found), 2, found)

    def test_unknown_folder_is_caught(self):
        root = self.tree({'lib/misc/m.c': '#include "http/api.h"\n'})
        self.assertEqual(len(layers.breaches(root)), 1)

    def test_this_tree_keeps_the_rule(self):
        root = os.path.dirname(os.path.dirname(HERE))
        self.assertEqual(layers.breaches(root), [])


if __name__ == '__main__':
    unittest.main()
