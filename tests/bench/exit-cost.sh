#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What a VM exit costs (`kvmini host --exit-cost`), here and inside the nested L1: the input of
# virtio-blk's coalesce=auto (docs/benchmarks.md, "Defaults from the exit cost").
#
# Usage: tests/bench/exit-cost.sh [--repeat N] [--no-l1] [--out DIR] BUILD
#        tests/bench/exit-cost.sh --report CSV   (the markdown table of a CSV it wrote)
#   Measures N times (default 9) on this machine's /dev/kvm when it has a usable one, then N
#   times inside one nested L1 boot (unless --no-l1), and writes DIR/exit-cost.csv (default
#   DIR: BUILD/bench/exit-cost) with one row per measurement:
#   where,kind,run,exit_ns,window_us,kicks,date,commit,machine,command
#   (window_us and kicks: what coalesce=auto chooses for that exit cost, as kvmini says it).
#   Prints the median
#   of each place.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
repeat=9 l1=1 out=

# inner WHERE BUILD N CSV: the measurements themselves (here, or inside the L1)
inner() {
    local where=$1 build=$2 n=$3 csv=$4 kind ns i date commit machine line w
    kind=$("$build/kvmini" host --kind || true)
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
    machine="$(uname -r) $(nproc) CPUs $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/,/;/g')"
    for i in $(seq 1 "$n"); do
        line=$("$build/kvmini" host --exit-cost | tail -n 1)
        # "exit-cost: NS ns (...); virtio-blk coalesce=auto: window US us, kicks on|off ..."
        ns=$(sed -n 's/^exit-cost: \([0-9]*\) ns.*/\1/p' <<< "$line")
        w=$(sed -n 's/.*window \([0-9]*\) us, kicks \(on\|off\).*/\1,\2/p' <<< "$line")
        if [ -z "$ns" ] || [ -z "$w" ]; then
            echo "exit-cost: unexpected output of kvmini host --exit-cost: $line" >&2
            return 1
        fi
        echo "$where,$kind,$i,$ns,$w,$date,$commit,$machine,kvmini host --exit-cost" >> "$csv"
    done
}

# report CSV: the table docs/benchmarks.md shows, from a CSV this script wrote
report() {
    echo "| where | what kvmini host says | runs | exit cost, median (min–max) | coalesce=auto window | kicks while a large request is in flight | commit |"
    echo "|---|---|---|---|---|---|---|"
    local where
    for where in here l1; do
        awk -F, -v w="$where" 'NR > 1 && $1 == w' "$1" | sort -t, -k4,4n | awk -F, -v w="$where" '
            { v[NR] = $4; kind = $2; win[NR] = $5; k[NR] = $6; c = $8 }
            END { if (!NR) exit
                  m = int((NR + 1) / 2)
                  printf "| %s | %s | %d | %.1f µs (%.1f–%.1f) | %d µs | %s | %s |\n",
                      w == "l1" ? "inside the nested L1" : "this machine", kind, NR,
                      v[m] / 1000, v[1] / 1000, v[NR] / 1000, win[m],
                      k[m] == "off" ? "off" : "on", c }'
    done
}

if [ "${1:-}" = --inner ]; then	# inside the L1: --inner BUILD N
    inner l1 "$2" "$3" "$RESULTS/exit-cost.csv"
    exit
fi
if [ "${1:-}" = --report ]; then	# --report CSV
    report "$2"
    exit
fi
while [ $# -gt 1 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --no-l1) l1=0; shift ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
if [ $# -ne 1 ] || ! [ "$repeat" -ge 1 ] 2>/dev/null; then
    echo "usage: $0 [--repeat N] [--no-l1] [--out DIR] BUILD" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
out=${out:-$build/bench/exit-cost}
mkdir -p "$out"
csv=$out/exit-cost.csv
echo "where,kind,run,exit_ns,window_us,kicks,date,commit,machine,command" > "$csv"
if "$build/kvmini" host > /dev/null 2>&1; then
    inner here "$build" "$repeat" "$csv"
else
    echo "exit-cost: no usable /dev/kvm here: $("$build/kvmini" host 2>&1 || true)"
fi
if [ "$l1" = 1 ]; then
    export L1_RESULTS=$out/l1 L1_QUIET=1 L1_SMP=1
    "$top/tests/nested/l1.sh" run "$build" "$here/exit-cost.sh" --inner "$build" "$repeat"
    tail -n +1 "$L1_RESULTS/exit-cost.csv" >> "$csv"
fi
report "$csv"
echo "exit-cost: $csv"
