#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# funclen: no function in the production sources is longer than a limit (80 lines, signature to closing brace).
"""Usage: tests/tools/funclen.py [--root DIR] [--max N] [--top K]

Reads every .c under vmm/ devices/ virtio/ firmware/ and measures each function defined at
file level (kernel style: the opening brace alone at the start of a line, the closing brace
alone at the start of a line), from its signature's first line to its closing brace. Prints
the K longest (--top, default 0) and one line per function over N lines (--max, default 80).
Exit 0 when none is over N."""
import os
import re
import sys

SRC_DIRS = ("vmm", "devices", "virtio", "firmware")
SIGNATURE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_ \t\*]*[ \t\*])?([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    """(lines, name, first line) of each file-level function in path"""
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("{") and i > 0:
            j = i - 1
            while j > 0 and not SIGNATURE.match(lines[j]) and not lines[j].startswith(("}", "#")) \
                    and lines[j].strip():
                j -= 1
            m = SIGNATURE.match(lines[j])
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            if m and not re.match(r"^(static\s+)?(const\s+)?(struct|union|enum)\s+\w+\s*(\w+\s*)?(=|\[|$)", lines[j]):
                out.append((k - j + 1, m.group(1), j + 1))
            i = k
        i += 1
    return out


def main(argv):
    root, limit, top = ".", 80, 0
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--root" and args:
            root = args.pop(0)
        elif a == "--max" and args:
            limit = int(args.pop(0))
        elif a == "--top" and args:
            top = int(args.pop(0))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    found = []
    for d in SRC_DIRS:
        for dp, _, names in os.walk(os.path.join(root, d)):
            for n in sorted(names):
                if n.endswith(".c"):
                    p = os.path.join(dp, n)
                    found += [(ln, os.path.relpath(p, root), name, at) for ln, name, at in functions(p)]
    found.sort(key=lambda x: (-x[0], x[1], x[3]))
    for ln, path, name, at in found[:top]:
        print("funclen: %4d lines  %s:%d %s" % (ln, path, at, name))
    over = [x for x in found if x[0] > limit]
    for ln, path, name, at in over:
        print("funclen: %s:%d: %s is %d lines (at most %d)" % (path, at, name, ln, limit))
    print("funclen: %d functions, the longest %d lines, %d over %d" % (
        len(found), found[0][0] if found else 0, len(over), limit))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
