#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The four places of a VM's memory, measured: the same disk data cached twice (guest and host page cache) with cache=writeback, once with cache=none, and what free page reporting gives back.
#
# Usage: tests/bench/memory-places.sh BUILD [OUTDIR]     (ROUNDS=5, DATA_MB=128)
# Each round boots the default guest (512M, 1 vCPU) with --balloon and two disks holding the
# same DATA_MB of random data: vda with cache=writeback, vdb with cache=none (files on an ext4
# in L1, the host's page cache of both dropped first). It reads /dev/vda whole through the
# guest's page cache (cat, the device held open by the shell so that the guest keeps what it
# read), then /dev/vdb, then closes both and drops the guest's caches (sync; drop_caches 3)
# and waits 20 s for free page reporting; vm.memory is taken after boot and after each step.
# OUTDIR (default BUILD/bench-memory) gets runs.jsonl (every snapshot, one round a line, with
# the date, commit and command) and table.txt (the medians, report() below).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../nested

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nested="$here/../nested"
# shellcheck source=../nested/l2lib.sh disable=SC1091
. "$nested/l2lib.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD [OUTDIR] | --report RUNS.jsonl" >&2
    exit 2
fi
[ "$1" = --report ] || BUILD=$(cd "$1" && pwd)
OUT=${2:-$BUILD/bench-memory}
ROUNDS=${ROUNDS:-5} DATA_MB=${DATA_MB:-128}

mem() { "$BUILD/kvmini" ctl "$SOCK" memory --json; }

# guest CMD: runs CMD in the guest's shell and waits for it to finish (120 s at most)
guest() {
    local mark="DONE-$RANDOM"
    vm_send "$1; echo $mark" || true
    vm_expect "^$mark\$" 120
}

one_round() { # ROUND: appends one JSON line to OUT/runs.jsonl
    local r=$1 m0 m1 m2 m3
    SOCK=$DIR/api.sock
    rm -f "$SOCK"
    sync
    echo 3 > /proc/sys/vm/drop_caches
    vm_start "$WORK/round-$r" "$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage" \
        --initrd "$BUILD/guest/initramfs.cpio.gz" --console stdio --memory 512M \
        --cmdline "$L2_DEFAULT_CMDLINE quiet" --balloon on --api-socket "$SOCK" \
        --disk "path=$DIR/wb.img,cache=writeback" --disk "path=$DIR/none.img,cache=none"
    vm_expect 'kvmini# ' 240 || { echo "bench: round $r: no shell"; vm_kill; return 1; }
    vm_send 'dmesg -n 1'
    m0=$(mem)
    # the shell keeps each device open: Linux drops a block device's page cache when its last
    # opener closes it
    guest 'exec 3< /dev/vda; cat /dev/vda > /dev/null' || return 1
    m1=$(mem)
    guest 'exec 4< /dev/vdb; cat /dev/vdb > /dev/null' || return 1
    m2=$(mem)
    guest 'exec 3<&- 4<&-; sync; echo 3 > /proc/sys/vm/drop_caches' || return 1
    sleep 20
    m3=$(mem)
    vm_send 'poweroff'
    vm_wait 120 || true
    vm_kill
    printf '{"round":%d,"booted":%s,"read_writeback":%s,"read_none":%s,"dropped":%s}\n' \
        "$r" "$m0" "$m1" "$m2" "$m3" >> "$OUT/runs.jsonl"
}

report() { # RUNS.jsonl: the medians, in MiB
    python3 - "$1" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
MiB = 1 << 20
def med(f):
    return statistics.median(f(r) for r in runs) / MiB
def cache(s):
    return s["guest"]["page_cache"]
rows = [
    ("guest page cache after booting", med(lambda r: cache(r["booted"]))),
    ("reading vda (cache=writeback): guest page cache grows by",
     med(lambda r: cache(r["read_writeback"]) - cache(r["booted"]))),
    ("  host page cache of vda's file", med(lambda r: r["read_writeback"]["disks"][0]["page_cache"])),
    ("reading vdb (cache=none): guest page cache grows by",
     med(lambda r: cache(r["read_none"]) - cache(r["read_writeback"]))),
    ("  host page cache of vdb's file", med(lambda r: r["read_none"]["disks"][1]["page_cache"])),
    ("guest RAM resident on the host before dropping the guest's caches",
     med(lambda r: r["read_none"]["guest_ram"]["resident"])),
    ("  20 s after (free page reporting)", med(lambda r: r["dropped"]["guest_ram"]["resident"])),
    ("  reported by the guest and given back (balloon.reported_bytes, whole run)",
     med(lambda r: r["dropped"]["balloon"]["reported_bytes"])),
    ("  host page cache of vda's file, still", med(lambda r: r["dropped"]["disks"][0]["page_cache"])),
]
print("# medians of %d rounds, MiB" % len(runs))
for name, v in rows:
    print("%-76s %8.1f" % (name, v))
PY
}

if [ "${1:-}" = --report ]; then report "$2"; exit 0; fi

run_bench() {
    mkdir -p "$OUT"
    WORK=$OUT/work DIR=$(mktemp -d /tmp/kvmini-mem.XXXXXX)
    truncate -s 512M "$DIR/fs.img"
    mke2fs -q -t ext4 -F "$DIR/fs.img"
    mkdir -p "$DIR/mnt"
    mount -o loop "$DIR/fs.img" "$DIR/mnt"
    DIR=$DIR/mnt
    head -c $((DATA_MB << 20)) /dev/urandom > "$DIR/wb.img"
    cp "$DIR/wb.img" "$DIR/none.img"
    {
        echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kvmini commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "# machine: $(uname -r), $(nproc) CPUs${L1:+ (inside the nested L1)}; $("$BUILD/kvmini" host 2>&1 | head -n1)"
        echo "# command: ROUNDS=$ROUNDS DATA_MB=$DATA_MB tests/bench/memory-places.sh BUILD"
        echo "# guest: $(cat "$BUILD/guest/kernel-version" 2>/dev/null), 512M, 1 vCPU, --balloon on; vda $DATA_MB MiB cache=writeback, vdb the same data cache=none"
    } > "$OUT/runs.jsonl"
    for r in $(seq "$ROUNDS"); do one_round "$r" || echo "bench: round $r failed"; done
    umount "$DIR"
    report "$OUT/runs.jsonl" | tee "$OUT/table.txt"
}

if [ "${L1:-0}" = 1 ]; then
    OUT=$RESULTS/bench-memory
    run_bench
    exit 0
fi
# shellcheck source=l1-bench.sh disable=SC1091
. "$here/l1-bench.sh"
bench_where bench-memory "$here/memory-places.sh" "ROUNDS=$ROUNDS DATA_MB=$DATA_MB"
