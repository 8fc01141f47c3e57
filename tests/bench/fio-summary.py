#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# fio-summary: one fio JSON result (--output-format=json) as the one-line summary the block matrix keeps.
"""Usage: fio-summary.py FILE.json

Prints one line, 'fio: NAMES jobs=N iops=X mbps=Y lat_p50_us=A lat_p99_us=B lat_p999_us=C
ios=N secs=S errors=E', the figures summed over every job and direction (read, write, trim) of
the file; the latency percentiles are fio's total latency (submission to completion, its
lat_ns with lat_percentiles=1; clat_ns where lat was not recorded), of the job and direction
with the most I/Os when there is only one, otherwise the worst (highest) of them. Exits 1 with
'fio: failed (...)' when the file is not a fio JSON result or a job reported an error."""
import json
import sys

DIRS = ("read", "write", "trim")


def pct(lat, p):
    """the p-th percentile (e.g. '99.000000') of fio's lat_ns/clat_ns block, in us, or None"""
    v = (lat or {}).get("percentile", {}).get(p)
    return None if v is None else v / 1000.0


def summarize(doc):
    jobs = doc.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        raise ValueError("no jobs in the fio result")
    iops = bw = ios = 0.0
    errors, secs, names, parts = 0, 0.0, [], []
    for j in jobs:
        names.append(str(j.get("jobname", "?")))
        if j.get("error"):
            errors += 1
        secs = max(secs, j.get("job_runtime", 0) / 1000.0)
        for d in DIRS:
            s = j.get(d) or {}
            n = s.get("total_ios", 0)
            if not n:
                continue
            iops += s.get("iops", 0.0)
            bw += s.get("bw_bytes", 0)
            ios += n
            errors += s.get("drop_ios", 0)
            lat = s.get("lat_ns") if (s.get("lat_ns") or {}).get("percentile") else s.get("clat_ns")
            parts.append((n, lat))
    line = "fio: %s jobs=%d ios=%d secs=%.2f iops=%.0f mbps=%.1f" % (
        ",".join(sorted(set(names))), len(jobs), ios, secs, iops, bw / 1e6)
    for key, p in (("lat_p50_us", "50.000000"), ("lat_p99_us", "99.000000"), ("lat_p999_us", "99.900000")):
        vals = [pct(lat, p) for _, lat in parts]
        vals = [v for v in vals if v is not None]
        if vals:
            line += " %s=%.0f" % (key, max(vals))
    return line + " errors=%d" % errors, errors


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], errors="replace") as f:
            text = f.read()
        # fio may print notes before its JSON document
        doc = json.loads(text[text.index("{"):]) if "{" in text else json.loads(text)
        line, errors = summarize(doc)
    except (OSError, ValueError, TypeError, AttributeError) as e:
        print("fio: failed (%s: %s)" % (sys.argv[1], str(e).splitlines()[0] if str(e) else type(e).__name__))
        return 1
    print(line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
