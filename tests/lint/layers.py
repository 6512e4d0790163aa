#!/usr/bin/env python3
"""layers: the include rule of DESIGN.md's layout, checked.

Each folder of lib/ is a subsystem; a file may include headers of its own
subsystem and of those the table below allows, nothing else. A header named
*_int.h is private to its folder. daemon/ may include anything public.

Usage: layers.py [ROOT]   (ROOT defaults to the current directory)
Exit 0 when the tree keeps the rule, 1 with one line per breach otherwise.
"""
import os
import re
import sys

# Who may include whom (DESIGN.md, "Layout"). Departures, said in
# lib/README.md: evcurl (curl on the loop) lives in base, as the notifier
# needs it too; sys may read every subsystem but http, as it saves and
# restores their state.
ALLOWED = {
    'base': set(),
    'config': {'base'},
    'probe': {'base', 'config'},
    'engine': {'base', 'config', 'probe'},
    'notify': {'base', 'config', 'engine'},
    'release': {'base', 'config', 'engine'},
    'http': {'base', 'config', 'probe', 'engine', 'notify', 'release'},
    'sys': {'base', 'config', 'probe', 'engine', 'notify', 'release'},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def breaches(root):
    lib = os.path.join(root, 'lib')
    out = []
    folders = sorted(d for d in os.listdir(lib)
                     if os.path.isdir(os.path.join(lib, d)))
    for d in folders:
        if d not in ALLOWED:
            out.append(f'lib/{d}/: a folder the layout does not name')
    for top in ('lib', 'daemon'):
        base = os.path.join(root, top)
        for dirpath, _, names in sorted(os.walk(base)):
            for name in sorted(names):
                if not name.endswith(('.c', '.h')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                parts = rel.split(os.sep)
                if top == 'lib' and len(parts) != 3:
                    out.append(f'{rel}: lib/ files belong in a subsystem folder')
                    continue
                own = parts[1] if top == 'lib' else None
                with open(path, encoding='utf-8') as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if '/' not in inc:
                            if top == 'lib':
                                out.append(f'{rel}:{n}: include "{inc}" '
                                           'with its folder ("sub/file.h")')
                            continue
                        sub = inc.split('/')[0]
                        if sub not in ALLOWED:
                            continue
                        if inc.endswith('_int.h') and sub != own:
                            out.append(f'{rel}:{n}: "{inc}" is private '
                                       f'to lib/{sub}/')
                        elif (own in ALLOWED and sub != own and
                              sub not in ALLOWED[own]):
                            out.append(f'{rel}:{n}: {own} may not include '
                                       f'{sub} ("{inc}"); see DESIGN.md, '
                                       'Layout')
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    found = breaches(root)
    for line in found:
        print('layers: ' + line)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
