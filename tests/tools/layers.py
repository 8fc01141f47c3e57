#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# layers: checks the #include "..." graph of the sources against the layer order in docs/architecture.md.
"""Usage: tests/tools/layers.py [--root DIR] [--strict] [--baseline FILE] [--write-baseline FILE] [--stats]

Reads every .c and .h under vmm/ devices/ virtio/ firmware/ (tests excluded) and its
#include "..." lines (paths from the top of the tree). A module is a .c and its .h (vmm/vm.c
and vmm/vm.h are one node). Two kinds of violation:
  cycle  an include between two modules that lie on one include cycle (a strongly connected
         component of more than one module)
  up     an include from a room to a room above it in the order of the ```layers block of
         docs/architecture.md (a room: path prefixes; the longest prefix that matches a
         module names its room)
  door   an include from a module a "door" line names to a room other than through that
         door's module: "door vmm/debug: vmm/run vmm/exit" in the block means the modules vmm/run and
         vmm/exit (a name ending in / is a folder) reach the room of vmm/debug only by including vmm/debug
Without --baseline (or with --strict) every violation fails. With --baseline FILE the
violations listed there are tolerated, any other fails, and a listed one that is gone fails
too (so the list only shrinks: remove the line). --write-baseline FILE writes the current
violations. --stats prints files and lines per room and the largest cycle. Exit 0 if clean."""
import collections
import os
import re
import sys

SRC_DIRS = ("vmm", "devices", "virtio", "firmware")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_rooms(root, doors=None):
    """[(name, [prefix, ...]), ...] bottom first, from the ```layers block of docs/architecture.md;
    its door lines go to doors as (gate module, [user prefix, ...])"""
    path = os.path.join(root, "docs", "architecture.md")
    rooms, inside = [], False
    with open(path) as f:
        for ln in f:
            if ln.startswith("```layers"):
                inside = True
                continue
            if inside and ln.startswith("```"):
                break
            if inside and ln.startswith("door "):
                gate, _, users = ln[5:].partition(":")
                if doors is not None:
                    doors.append((gate.strip(), users.split()))
                continue
            if inside and ln.strip() and not ln.lstrip().startswith("#"):
                name, _, prefixes = ln.partition(":")
                rooms.append((name.strip(), prefixes.split()))
    if not rooms:
        raise SystemExit("layers: no ```layers block in %s" % path)
    return rooms


def room_of(module, rooms):
    best, rank = None, -1
    for i, (_, prefixes) in enumerate(rooms):
        for p in prefixes:
            if module.startswith(p) and (best is None or len(p) > len(best)):
                best, rank = p, i
    return rank


def read_graph(root):
    files, edges = [], collections.defaultdict(set)
    for d in SRC_DIRS:
        for dp, _, names in os.walk(os.path.join(root, d)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(dp, n), root))
    for f in files:
        with open(os.path.join(root, f), errors="replace") as fh:
            for ln in fh:
                m = INCLUDE.match(ln)
                if m and os.path.splitext(m.group(1))[0] != os.path.splitext(f)[0]:
                    edges[os.path.splitext(f)[0]].add(os.path.splitext(m.group(1))[0])
    return files, edges


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively"""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    for v0 in nodes:
        if v0 in index:
            continue
        work = [(v0, iter(sorted(edges.get(v0, ()))))]
        index[v0] = low[v0] = n[0]; n[0] += 1; stack.append(v0); on.add(v0)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n[0]; n[0] += 1; stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def door_violations(edges, rooms, doors):
    found = set()
    for gate, users in doors:
        gate_room = room_of(gate, rooms)
        for a in sorted(edges):
            if not any(a == u or (u.endswith("/") and a.startswith(u)) for u in users):
                continue
            for b in sorted(edges[a]):
                if b != gate and room_of(b, rooms) == gate_room:
                    found.add("door: %s -> %s (%s is reached through %s)" % (a, b, rooms[gate_room][0], gate))
    return found


def violations(root):
    doors = []
    rooms = read_rooms(root, doors)
    files, edges = read_graph(root)
    nodes = sorted({os.path.splitext(f)[0] for f in files} | set(edges))
    comp_of = {}
    comps = sccs(nodes, edges)
    for i, c in enumerate(comps):
        for v in c:
            comp_of[v] = i
    found = set()
    for a in sorted(edges):
        for b in sorted(edges[a]):
            if comp_of.get(a) == comp_of.get(b) and len(comps[comp_of[a]]) > 1:
                found.add("cycle: %s -> %s" % (a, b))
            ra, rb = room_of(a, rooms), room_of(b, rooms)
            if ra >= 0 and rb > ra:
                found.add("up: %s -> %s (%s reaches %s)" % (a, b, rooms[ra][0], rooms[rb][0]))
    found |= door_violations(edges, rooms, doors)
    unplaced = sorted(v for v in nodes if room_of(v, rooms) < 0)
    return found, comps, files, rooms, unplaced


def stats(root, comps, files, rooms):
    per = collections.OrderedDict((name, [0, 0]) for name, _ in rooms)
    for f in files:
        r = room_of(os.path.splitext(f)[0], rooms)
        with open(os.path.join(root, f), errors="replace") as fh:
            n = sum(1 for _ in fh)
        per[rooms[r][0] if r >= 0 else "(no room)"] = per.get(rooms[r][0] if r >= 0 else "(no room)", [0, 0])
        per[rooms[r][0] if r >= 0 else "(no room)"][0] += 1
        per[rooms[r][0] if r >= 0 else "(no room)"][1] += n
    for name, (nf, nl) in per.items():
        print("room %-10s %3d files %6d lines" % (name, nf, nl))
    big = max(comps, key=len)
    print("largest include cycle: %d modules%s" % (len(big), (": " + " ".join(big)) if len(big) > 1 else ""))
    print("include cycles: %d" % sum(1 for c in comps if len(c) > 1))


def main(argv):
    root, strict, base, write, want_stats = ".", False, None, None, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--root" and args:
            root = args.pop(0)
        elif a == "--strict":
            strict = True
        elif a == "--baseline" and args:
            base = args.pop(0)
        elif a == "--write-baseline" and args:
            write = args.pop(0)
        elif a == "--stats":
            want_stats = True
        else:
            print(__doc__, file=sys.stderr)
            return 2
    found, comps, files, rooms, unplaced = violations(root)
    if want_stats:
        stats(root, comps, files, rooms)
    if write:
        with open(write, "w") as f:
            f.write("# include-graph violations tolerated for now (tests/tools/layers.py); only remove lines\n")
            f.writelines(v + "\n" for v in sorted(found))
        return 0
    bad = 0
    for v in unplaced:
        print("layers: %s is in no room of docs/architecture.md's layers block" % v)
        bad += 1
    known = set()
    if base and not strict:
        with open(base) as f:
            known = {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}
    for v in sorted(found - known):
        print("layers: %s" % v)
        bad += 1
    for v in sorted(known - found):
        print("layers: fixed, remove it from %s: %s" % (base, v))
        bad += 1
    print("layers: %d violation(s) (%d cycle edges, %d reaching up, %d past a door), %d tolerated by the baseline, %d new or stale" % (
        len(found), sum(1 for v in found if v.startswith("cycle")), sum(1 for v in found if v.startswith("up")),
        sum(1 for v in found if v.startswith("door")), len(found & known), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
