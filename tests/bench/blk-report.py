#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# blk-report: turns a blk-matrix.sh run (OUT/raw) into OUT/table.txt, results.json/.csv and a plot.
"""Usage: blk-report.py OUT   (reads OUT/raw/meta.txt, cells.tsv, *.err; see blk-matrix.sh)"""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

WORKLOADS = ["rr4k-qd1", "rr4k-qd32", "rw4k-qd1", "rw4k-qd32", "sr1m", "sw1m"]
WL_NAMES = {"rr4k-qd1": "4k randread QD1", "rr4k-qd32": "4k randread QD32",
            "rw4k-qd1": "4k randwrite QD1", "rw4k-qd32": "4k randwrite QD32",
            "sr1m": "1M seqread QD4", "sw1m": "1M seqwrite QD4"}


def kv(s):
    """'a=1,b=2,' or 'iogen: ... a=1 b=2' -> dict of the numeric key=value pairs"""
    out = {}
    for tok in s.replace(",", " ").split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = int(v)
            except ValueError:
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
    return out


def json_line(path, n, cache={}):
    """the n-th (1-based) JSON line kvmini's --exit-stats=json wrote to stderr"""
    if path not in cache:
        lines = []
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                lines = [ln for ln in f if ln.startswith("{")]
        cache[path] = lines
    try:
        return json.loads(cache[path][int(n) - 1])
    except (ValueError, IndexError):
        return None


def disk_exits(j):
    """exits kvmini handled at the disks' transport (virtio-mmio windows, PCI config and BARs)"""
    return sum(s["count"] for s in j["total"].get("sites", [])
               if (s.get("device") or "").startswith(("virtio", "pci")))


def guest_snaps(path, workload, cache={}):
    """The BLKM-GSTAT lines blkjobs printed on the console before and after a workload (/proc/stat's
    cpu line: user nice system idle iowait irq softirq steal, in USER_HZ ticks; the virtio-blk
    request interrupts; the requests /dev/vda completed, /proc/diskstats): (begin, end), or None"""
    if path not in cache:
        snaps = {}
        if os.path.exists(path):
            with open(path, errors="replace") as fh:
                for ln in fh:
                    p = ln.split()
                    if len(p) >= 10 and p[0] == "BLKM-GSTAT" and p[1].rpartition("-")[2] in ("begin", "end"):
                        try:
                            cpu = [int(x) for x in p[2:10]]
                        except ValueError:
                            continue
                        irq = kv(" ".join(p[10:]))
                        snaps[p[1]] = (cpu, sum(v for k, v in irq.items() if "-req" in k and isinstance(v, int)),
                                       irq.get("vdaios"))
        cache[path] = snaps
    s = cache[path]
    a, b = s.get(workload + "-begin"), s.get(workload + "-end")
    return (a, b) if a and b else None


def guest_ios(path, workload):
    """the requests the guest's disk completed between the workload's markers (warm-up included),
    or None where the console does not have them (runs before /proc/diskstats was read)"""
    ab = guest_snaps(path, workload)
    if not ab or not isinstance(ab[0][2], int) or not isinstance(ab[1][2], int):
        return None
    return ab[1][2] - ab[0][2]


def guest_view(path, workload, n):
    """The guest's own view of one workload: the share of its time stolen (its vCPU runnable but
    not running on the host), its busy CPU time per I/O in us, and its virtio-blk request
    interrupts per I/O. None where the console has no BLKM-GSTAT lines."""
    ab = guest_snaps(path, workload)
    if not ab or not n:
        return None
    a, b = ab
    d = [y - x for x, y in zip(a[0], b[0])]
    total = sum(d)
    if total <= 0:
        return None
    busy = d[0] + d[1] + d[2] + d[5] + d[6]
    return {"guest_steal_pct": round(100.0 * d[7] / total, 1),
            "guest_busy_us_per_io": round(busy * 1e4 / n, 1),
            "guest_irqs_per_io": round((b[1] - a[1]) / n, 3)}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    meta = {}
    with open(os.path.join(raw, "meta.txt")) as f:
        for ln in f:
            k, _, v = ln.rstrip("\n").partition("=")
            meta[k] = v
    tck = float(meta.get("clk_tck", 100))
    cells = []
    rows = []
    for name in sorted(os.listdir(os.path.join(raw, "cells"))):
        if name.endswith(".tsv"):
            with open(os.path.join(raw, "cells", name)) as f:
                rows += list(csv.DictReader(f, delimiter="\t"))
    if True:
        for r in rows:
            io = kv(r["result"] if "result" in r else r["iogen"])
            c = {"vmm": r["vmm"], "transport": r.get("transport", "mmio"), "backing": r["backing"], "cache": r["cache"],
                 "engine": r["engine"], "workload": r["workload"], "rep": int(r.get("rep") or 1),
                 "iops": io.get("iops"), "mbps": io.get("mbps"),
                 "lat_p50_us": io.get("lat_p50_us"), "lat_p99_us": io.get("lat_p99_us"),
                 "lat_p999_us": io.get("lat_p999_us"), "ios": io.get("ios"),
                 "ios_all": io.get("ios_all"), "errors": io.get("errors"),
                 "host_cache_mb": round(int(r["cached_kb"]) / 1024, 1) if r["cached_kb"].isdigit() else None,
                 "cpu_us_per_io": None, "vmm_cpu_us_per_io": None, "user_exits_per_io": None, "disk_exits_per_io": None, "kvm_exits_per_io": None,
                 "kvm_counters_per_io": None, "guest_steal_pct": None, "guest_busy_us_per_io": None,
                 "guest_irqs_per_io": None}
            tag = "-".join([r["vmm"]] + ([r["transport"]] if "transport" in r else []) +
                           [r["backing"], r["cache"], r["engine"]] +
                           (["r" + r["rep"]] if r.get("rep") else []))
            console = os.path.join(raw, tag + ".console")
            if r["vmm"] != "host" and not c["ios_all"]:
                # fio counts the I/Os after its warm-up; the window the CPU time and the exits are
                # taken over includes the warm-up: its own count is the disk's, from the guest
                c["ios_all"] = guest_ios(console, r["workload"])
            n = c["ios_all"] or c["ios"]
            if r["vmm"] != "host" and n:
                (t0, g0), (t1, g1) = [[float(x) for x in (r[k] + "/0").split("/")[:2]]
                                      for k in ("ticks0", "ticks1")]
                c["cpu_us_per_io"] = round((t1 - t0) / tck * 1e6 / n, 1)
                c["vmm_cpu_us_per_io"] = round(((t1 - t0) - (g1 - g0)) / tck * 1e6 / n, 1)
                k0, k1 = kv(r["kvm0"]), kv(r["kvm1"])
                kd = {k: k1[k] - k0.get(k, 0) for k in k1 if isinstance(k1[k], (int, float))}
                err = os.path.join(raw, tag + ".err")
                c.update(guest_view(console, r["workload"], n) or {})
                j0 = json_line(err, r["json0"]) if r["json0"] != "-" else None
                j1 = json_line(err, r["json1"]) if r["json1"] != "-" else None
                if not kd and j0 and j1 and j1["total"].get("kvm"):
                    kd = {k: v - j0["total"]["kvm"].get(k, 0) for k, v in j1["total"]["kvm"].items()}
                if kd:
                    c["kvm_counters_per_io"] = {k: round(v / n, 4) for k, v in sorted(kd.items())}
                    c["kvm_exits_per_io"] = round(kd.get("exits", 0) / n, 3)
                if j0 and j1:
                    c["user_exits_per_io"] = round((j1["total"]["exits"] - j0["total"]["exits"]) / n, 3)
                    ns = sum(r["latency_ns"]["sum"] for r in j1["total"]["reasons"]) - \
                        sum(r["latency_ns"]["sum"] for r in j0["total"]["reasons"])
                    c["user_exit_handling_ns_per_io"] = round(ns / n)
                    c["disk_exits_per_io"] = round((disk_exits(j1) - disk_exits(j0)) / n, 3)
                    c["user_exits_source"] = "kvmini --exit-stats"
                elif kd:
                    c["user_exits_per_io"] = round((kd.get("io_exits", 0) + kd.get("mmio_exits", 0)) / n, 3)
                    c["user_exits_source"] = "KVM io_exits+mmio_exits"
            cells.append(c)
    nruns = len(cells)
    cells, pairs = combine_runs(cells)
    host = {(c["backing"], c["workload"]): c for c in cells if c["vmm"] == "host"}
    qemu = {(c["transport"], c["backing"], c["cache"], c["engine"], c["workload"]): c
            for c in cells if c["vmm"] == "qemu"}
    for c in cells:
        c["guest_host"] = None
        c["kvmini_qemu"] = None
        if c["vmm"] == "host":
            continue
        h = host.get((c["backing"], c["workload"]))
        if h:
            c["guest_host"] = ratio(c["iops"], h["iops"])
        q = qemu.get((c["transport"], c["backing"], c["cache"], c["engine"], c["workload"]))
        if c["vmm"] == "kvmini" and q:
            c["kvmini_qemu"] = ratio(c["iops"], q["iops"])
            key = (c["transport"], c["backing"], c["cache"], c["engine"], c["workload"])
            runs = [ratio(k, qq) for k, qq in pairs.get(key, []) if k is not None and qq]
            c["kvmini_qemu_runs"] = runs
            c["kvmini_wins"] = sum(1 for x in runs if x >= 1.0)
    order = {"host": 0, "kvmini": 1, "qemu": 2}
    cells.sort(key=lambda c: (WORKLOADS.index(c["workload"]) if c["workload"] in WORKLOADS else 9, c["workload"],
                              order.get(c["vmm"], 9), c["transport"], c["backing"], c["cache"], c["engine"]))

    def f(v, fmt="%.0f"):
        return "-" if v is None else fmt % v
    lines = []
    fmt = "%-9s %-6s %-4s %-4s %-9s %-8s %7s %7s %6s %6s %6s %7s %7s %6s %6s %6s %6s %6s %7s %5s %5s %5s"
    lines.append(fmt % (
        "workload", "vmm", "tr", "back", "cache", "engine", "IOPS", "MB/s", "p50us", "p99us", "p999us",
        "cpu/io", "vmm/io", "uex/io", "dex/io", "kex/io", "gir/io", "steal%", "cacheMB", "g/h", "kv/q", "won"))
    last = None
    for c in cells:
        if last is not None and c["workload"] != last:
            lines.append("")
        last = c["workload"]
        lines.append(fmt % (
            c["workload"], c["vmm"], c["transport"], c["backing"], c["cache"], c["engine"], f(c["iops"]),
            f(c["mbps"], "%.1f"), f(c["lat_p50_us"]), f(c["lat_p99_us"]), f(c["lat_p999_us"]),
            f(c["cpu_us_per_io"], "%.0f"), f(c["vmm_cpu_us_per_io"], "%.0f"),
            f(c["user_exits_per_io"], "%.2f"), f(c["disk_exits_per_io"], "%.2f"),
            f(c["kvm_exits_per_io"], "%.2f"), f(c["guest_irqs_per_io"], "%.2f"),
            f(c["guest_steal_pct"], "%.1f"), f(c["host_cache_mb"], "%.0f"),
            f(c["guest_host"], "%.2f"), f(c["kvmini_qemu"], "%.2f"),
            "%d/%d" % (c["kvmini_wins"], len(c["kvmini_qemu_runs"])) if c.get("kvmini_qemu_runs") else "-"))
    tool = meta.get("tool", "iogen")
    legend = ("load: %s; IOPS, MB/s and latencies are its figures (fio: total latency, submission "
              "to completion; summed over a job file's jobs, the worst job's percentiles). " % tool +
              "cpu/io: VMM process CPU time (user+sys, all threads, the guest's own run time "
              "on the vCPU threads included) per I/O in us; vmm/io: the same without the guest "
              "time (/proc/PID/stat guest_time); uex/io: exits "
              "to userspace per I/O (kvmini: its own counters; QEMU: KVM's io_exits+mmio_exits; the "
              "guest's console output is part of it); dex/io: those of kvmini's at the disk's "
              "transport (virtio-mmio window, PCI config space and BARs); "
              "kex/io: KVM's in-kernel exit count per I/O (debugfs); gir/io: the guest's "
              "virtio-blk request interrupts per I/O (its /proc/interrupts); steal%: the share of "
              "the guest's time stolen, its vCPU runnable but not running (its /proc/stat; "
              "both VMMs give the guest steal time); cacheMB: host page cache "
              "held by the backing after the cell; g/h: guest IOPS / host IOPS on the same "
              "backing; kv/q: kvmini IOPS / QEMU IOPS, same transport, backing, cache and engine "
              "(QEMU's engine sync = aio=threads; its pci = microvm pcie=on + virtio-blk-pci); won: "
              "in how many boots kvmini's IOPS were at least QEMU's (each kvmini boot paired with "
              "the QEMU boot next to it). With --repeat N every figure is the median of the N "
              "boots (the IOPS of each are in results.json). tr: "
              "the virtio transport. Per-I/O figures count the warm-up's I/Os too (fio: the "
              "requests the guest's disk completed, its /proc/diskstats). The "
              "backing's host page cache was dropped before every cell.")
    table = "\n".join(lines) + "\n\n" + legend + "\n" + targets(cells)
    try:
        with open(os.path.join(raw, "expected")) as fh:
            expected = int(fh.read())
    except (OSError, ValueError):
        expected = nruns
    if nruns < expected:
        table += "\nINCOMPLETE: %d of %d cells (a guest or the L1 stopped part way)\n" % (nruns, expected)
    with open(os.path.join(out, "table.txt"), "w") as fh:
        fh.write(table)
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump({"meta": meta, "cells": cells}, fh, indent=1)
    cols = ["vmm", "transport", "backing", "cache", "engine", "workload", "runs", "iops", "mbps", "lat_p50_us",
            "lat_p99_us", "lat_p999_us", "ios", "ios_all", "errors", "cpu_us_per_io", "vmm_cpu_us_per_io",
            "user_exits_per_io", "disk_exits_per_io", "user_exit_handling_ns_per_io", "kvm_exits_per_io",
            "guest_irqs_per_io", "guest_steal_pct", "guest_busy_us_per_io", "host_cache_mb",
            "guest_host", "kvmini_qemu", "kvmini_wins"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for c in cells:
            w.writerow(["" if c.get(k) is None else c[k] for k in cols])
    print()
    print(table, end="")
    plot(out, cells, meta)
    print("blk-matrix: results in %s/{table.txt,results.json,results.csv,blk-matrix.png}" % out)


def targets(cells):
    """the issues' targets: raw device, cache=none, io_uring (virtio-pci where both were run)"""
    have = {c["transport"] for c in cells if c["vmm"] == "kvmini"}
    tr0 = "pci" if "pci" in have else "mmio"

    def cell(vmm, w, tr=None):
        for c in cells:
            if (c["vmm"], c["transport"], c["backing"], c["cache"], c["engine"], c["workload"]) == \
                    (vmm, tr or tr0, "raw", "none", "io_uring", w):
                return c
        return None
    rows = []
    for w, key, want, what in (("sr1m", "guest_host", 0.8, "guest/host, 1 MiB sequential read"),
                               ("sw1m", "guest_host", 0.8, "guest/host, 1 MiB sequential write"),
                               ("rr4k-qd32", "guest_host", 0.5, "guest/host, 4 KiB random read QD32"),
                               ("rr4k-qd32", "kvmini_qemu", 1.2, "kvmini/QEMU, 4 KiB random read QD32"),
                               ("rw4k-qd32", "kvmini_qemu", 1.2, "kvmini/QEMU, 4 KiB random write QD32"),
                               ("rr4k-qd1", "kvmini_qemu", 1.2, "kvmini/QEMU, 4 KiB random read QD1")):
        c = cell("kvmini", w)
        if not c or c.get(key) is None:
            continue
        v = c[key]
        rows.append("  %-40s %6.2f  (target >= %.1f: %s)" % (what, v, want, "met" if v >= want else "MISSED"))
    for tr in sorted(have):
        ex = [c["disk_exits_per_io"] for c in cells if c["vmm"] == "kvmini" and c["transport"] == tr
              and c["disk_exits_per_io"] is not None]
        if ex:
            rows.append("  %-40s %6.3f  (max over %d cells%s)" % (
                "kvmini %s: exits at the disk per I/O" % tr, max(ex), len(ex),
                "; target < 0.01: " + ("met" if max(ex) < 0.01 else "MISSED") if tr == "pci" else ""))
    below = [c for c in cells if c["vmm"] == "kvmini" and c["kvmini_qemu"] is not None and c["kvmini_qemu"] < 1.0]
    n = sum(1 for c in cells if c["vmm"] == "kvmini" and c["kvmini_qemu"] is not None)
    if n:
        rows.append("  %-40s %d of %d" % ("kvmini cells below QEMU's (kv/q < 1.0)", len(below), n))
        runs = [x for c in cells if c["vmm"] == "kvmini" for x in c.get("kvmini_qemu_runs") or []]
        if len(runs) > n:
            rows.append("  %-40s %d of %d" % ("paired boots kvmini won", sum(1 for x in runs if x >= 1.0), len(runs)))
        ratios = sorted(c["kvmini_qemu"] for c in cells if c["vmm"] == "kvmini" and c["kvmini_qemu"])
        rows.append("  %-40s %6.2f  (geometric mean %.2f, min %.2f)" % (
            "kvmini/QEMU over the cells: median", statistics.median(ratios),
            statistics.geometric_mean(ratios), ratios[0]))
    if not rows:
        return ""
    return "\ntargets (raw device, cache=none, io_uring, %s):\n" % tr0 + "\n".join(rows) + "\n"


MEDIAN_FIELDS = ("iops", "mbps", "lat_p50_us", "lat_p99_us", "lat_p999_us", "ios", "ios_all", "host_cache_mb",
                 "cpu_us_per_io", "vmm_cpu_us_per_io", "user_exits_per_io", "disk_exits_per_io",
                 "kvm_exits_per_io", "user_exit_handling_ns_per_io", "guest_steal_pct",
                 "guest_busy_us_per_io", "guest_irqs_per_io")


def combine_runs(cells):
    """One cell per configuration and workload: with several boots (--repeat) each figure is the
    median over them (errors: the sum; KVM's counters: the boot with the median IOPS). Also the
    IOPS of each boot, kvmini's paired with QEMU's of the same repetition, for the won column."""
    groups = {}
    for c in cells:
        groups.setdefault((c["vmm"], c["transport"], c["backing"], c["cache"], c["engine"], c["workload"]), []).append(c)
    out, pairs = [], {}
    for key, runs in groups.items():
        mid = sorted(runs, key=lambda r: r["iops"] or 0)[len(runs) // 2]
        c = dict(mid)
        c["runs"] = len(runs)
        c["iops_runs"] = [r["iops"] for r in runs]
        c["rep"] = sorted(r["rep"] for r in runs)
        if len(runs) > 1:
            for k in MEDIAN_FIELDS:
                vals = [r[k] for r in runs if r.get(k) is not None]
                c[k] = statistics.median(vals) if vals else None
            c["errors"] = sum(r["errors"] or 0 for r in runs)
            c["kvm_counters_per_io"] = mid["kvm_counters_per_io"]
        out.append(c)
    for key, runs in groups.items():
        if key[0] != "kvmini":
            continue
        q = {r["rep"]: r["iops"] for r in groups.get(("qemu",) + key[1:], [])}
        pairs[key[1:]] = [(r["iops"], q[r["rep"]]) for r in sorted(runs, key=lambda r: r["rep"]) if r["rep"] in q]
    return out, pairs


def config_name(c):
    if c["vmm"] == "host":
        return "host " + c["backing"]
    return " ".join((c["vmm"], c["transport"], c["backing"], c["cache"], c["engine"]))


def plot(out, cells, meta):
    if not shutil.which("gnuplot"):
        print("blk-matrix: gnuplot not installed (apt-get install gnuplot-nox): no plot")
        return
    configs = []
    for c in cells:
        cfg = config_name(c)
        if cfg not in configs:
            configs.append(cfg)
    val = {}
    for c in cells:
        cfg = config_name(c)
        val[(cfg, c["workload"])] = c
    small = [w for w in WORKLOADS[:4] if any(c["workload"] == w for c in cells)]
    small += sorted({c["workload"] for c in cells if c["workload"] not in WORKLOADS})  # --job files
    big = [w for w in WORKLOADS[4:] if any(c["workload"] == w for c in cells)]
    dat = os.path.join(out, "raw", "plot.dat")
    with open(dat, "w") as fh:
        fh.write('"config" ' + " ".join('"%s"' % WL_NAMES.get(w, w) for w in small + big) + "\n")
        for cfg in configs:
            row = ['"%s"' % cfg]
            for w in small:
                c = val.get((cfg, w))
                row.append("%g" % c["iops"] if c and c["iops"] else "NaN")
            for w in big:
                c = val.get((cfg, w))
                row.append("%g" % c["mbps"] if c and c["mbps"] else "NaN")
            fh.write(" ".join(row) + "\n")
    png = os.path.join(out, "blk-matrix.png")
    title = "kvmini block matrix (%s s + %s s warm-up per cell, %s)" % (
        meta.get("seconds"), meta.get("warmup"), "nested L1" if meta.get("l1") == "1" else "host")
    panels = []
    if small:
        cols = " , ".join("'%s' using %d%s" % (dat, i + 2, " :xtic(1)" if i == 0 else "")
                          for i in range(len(small)))
        panels.append("set title '%s: 4 KiB random, IOPS (log scale)'\nset logscale y\n"
                      "set ylabel 'IOPS'\nset yrange [1:*]\nplot %s\nunset logscale y\nset yrange [0:*]" % (title, cols))
    if big:
        cols = " , ".join("'%s' using %d%s" % (dat, len(small) + i + 2, " :xtic(1)" if i == 0 else "")
                          for i in range(len(big)))
        panels.append("set title '1 MiB sequential, MB/s'\nset ylabel 'MB/s'\nplot %s" % cols)
    script = """
set terminal pngcairo size 1600,%d font ',9' noenhanced
set output '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key autotitle columnhead outside right top
set xtics rotate by -40 nomirror
set grid ytics
set yrange [0:*]
set multiplot layout %d,1
%s
unset multiplot
""" % (520 * len(panels), png, len(panels), "\n".join(panels))
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        script = script.replace("pngcairo", "png", 1)
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print("blk-matrix: gnuplot failed: " + r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "")


if __name__ == "__main__":
    main()
