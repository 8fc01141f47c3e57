#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What serving the control socket costs a guest doing disk I/O: 4 KiB random O_DIRECT reads (QD1) with and without 100 vm.counters requests a second, in alternating runs.
#
# Usage: tests/bench/api-cost.sh BUILD [OUTDIR]     (PAIRS=6, SECS=10, RATE=100)
# One guest (the default guest, 512M, 1 vCPU) with a 64 MiB disk (cache=none, on an ext4 in L1)
# and --api-socket runs iogen (tests/bench/iogen.c: io_uring, 4 KiB random reads, QD1, SECS s
# after 1 s of warm-up) 2 * PAIRS times: odd runs alone, even runs while a client on the host
# sends RATE requests a second (GET vm.counters, a new connection each, as curl does). OUTDIR
# (default BUILD/bench-api) gets runs.txt (one line a run: pair, load, iops, p50/p99 us, the
# requests served and failed) and table.txt (medians, and how many pairs the loaded run won).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../nested

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nested="$here/../nested"
# shellcheck source=../nested/l2lib.sh disable=SC1091
. "$nested/l2lib.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD [OUTDIR] | --report RUNS" >&2
    exit 2
fi
[ "$1" = --report ] || BUILD=$(cd "$1" && pwd)
OUT=${2:-$BUILD/bench-api}
PAIRS=${PAIRS:-6} SECS=${SECS:-10} RATE=${RATE:-100}

report() { # RUNS: medians of iops and latency with and without the load, pairs won
    python3 - "$1" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
by = {}
for pair, load, iops, p50, p99, served, failed in runs:
    by.setdefault(pair, {})[load] = (float(iops), float(p50), float(p99), int(served), int(failed))
pairs = [p for p in by.values() if "none" in p and "api" in p]
def med(load, i):
    return statistics.median(p[load][i] for p in pairs)
won = sum(p["api"][0] >= p["none"][0] for p in pairs)
print("# %d pairs; medians" % len(pairs))
print("%-34s %10s %10s %10s" % ("", "IOPS", "p50 us", "p99 us"))
print("%-34s %10.0f %10.0f %10.0f" % ("no API requests", med("none", 0), med("none", 1), med("none", 2)))
print("%-34s %10.0f %10.0f %10.0f" % ("with the vm.counters requests", med("api", 0), med("api", 1), med("api", 2)))
print("IOPS with / without: %.3f; the loaded run had as many IOPS or more in %d of %d pairs"
      % (med("api", 0) / med("none", 0), won, len(pairs)))
print("requests served per loaded run: median %d, failed: %d in all"
      % (statistics.median(p["api"][3] for p in pairs), sum(p["api"][4] for p in pairs)))
PY
}
if [ "$1" = --report ]; then report "$2"; exit 0; fi

# client SOCK RATE SECONDS: GET vm.counters RATE times a second for SECONDS; "served failed"
client() {
    python3 - "$@" <<'PY'
import socket, sys, time
path, rate, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ok = bad = 0
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < secs:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(b"GET /api/v1/vm.counters HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        ok += data.startswith(b"HTTP/1.1 200")
        bad += not data.startswith(b"HTTP/1.1 200")
    except OSError:
        bad += 1
    i += 1
    delay = t0 + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
print(ok, bad)
PY
}

# boot_vm NAME: the guest with its disk and the API socket, up to its shell
boot_vm() {
    rm -f "$sock"
    vm_start "$WORK/vm-$1" "$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage" --initrd "$dir/initrd" \
        --console stdio --cmdline "$L2_DEFAULT_CMDLINE quiet" --api-socket "$sock" \
        --disk "path=$dir/mnt/disk.img,cache=none"
    vm_expect 'kvmini# ' 240 || { echo "bench: no shell"; return 1; }
    vm_send 'dmesg -n 1'
}

# one_pair N: iogen alone, then with the requests; 1 if the guest ended meanwhile
one_pair() {
    local pair=$1 load line served before
    for load in none api; do
        before=$(vm_answers | grep -c '^iogen: ' || true)
        vm_send "iogen -t $SECS -W 1 /dev/vda"
        served="0 0"
        [ "$load" = none ] || served=$(client "$sock" "$RATE" "$((SECS + 1))")
        for _ in $(seq 120); do
            [ "$(vm_answers | grep -c '^iogen: ' || true)" -gt "$before" ] && break
            kill -0 "$VM_PID" 2>/dev/null || return 1
            sleep 1
        done
        [ "$(vm_answers | grep -c '^iogen: ' || true)" -gt "$before" ] || return 1
        line=$(vm_answers | grep '^iogen: ' | tail -n 1)
        echo "$pair $load $(echo "$line" | sed -E 's/.*iops=([0-9.]+).*lat_p50_us=([0-9]+) lat_p99_us=([0-9]+).*/\1 \2 \3/') $served" >> "$OUT/runs.txt"
        echo "bench: pair $pair $load: $line (requests: $served)"
    done
}

run_bench() {
    local pair
    mkdir -p "$OUT"
    WORK=$OUT/work
    dir=$(mktemp -d /tmp/kvmini-apicost.XXXXXX)
    truncate -s 256M "$dir/fs.img"
    mke2fs -q -t ext4 -F "$dir/fs.img"
    mkdir -p "$dir/mnt" "$dir/ov/bin"
    mount -o loop "$dir/fs.img" "$dir/mnt"
    head -c 64M /dev/urandom > "$dir/mnt/disk.img"
    cp "$BUILD/iogen" "$dir/ov/bin/iogen"
    (cd "$dir/ov" && echo bin/iogen | cpio -o -H newc --quiet | gzip) > "$dir/ov.cpio.gz"
    cat "$BUILD/guest/initramfs.cpio.gz" "$dir/ov.cpio.gz" > "$dir/initrd"
    sock=$dir/api.sock
    {
        echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kvmini commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "# machine: $(uname -r), $(nproc) CPUs${L1:+ (inside the nested L1)}; $("$BUILD/kvmini" host 2>&1 | head -n1)"
        echo "# command: PAIRS=$PAIRS SECS=$SECS RATE=$RATE tests/bench/api-cost.sh BUILD"
        echo "# guest: $(cat "$BUILD/guest/kernel-version" 2>/dev/null), 512M, 1 vCPU; disk 64 MiB cache=none; iogen -t $SECS -W 1 (4 KiB random reads, QD1)"
        echo "# columns: pair load(none|api) iops p50_us p99_us requests_served requests_failed"
    } > "$OUT/runs.txt"
    boot_vm 1 || return 1
    for pair in $(seq "$PAIRS"); do
        # the emulated L1 now and then resets an L2 guest (docs/nested.md): such a pair is run
        # again in a fresh VM, and says so
        if ! one_pair "$pair"; then
            echo "# pair $pair: the guest ended ($(grep -a -m1 -o 'KVM_EXIT_[A-Z_]*[^)]*' "$VM_DIR/err" || echo "kvmini exited")); the pair is run again in a fresh VM" | tee -a "$OUT/runs.txt"
            vm_kill
            boot_vm "$pair.retry" && one_pair "$pair" || return 1
        fi
    done
    vm_send poweroff
    vm_wait 120 || true
    vm_kill
    umount "$dir/mnt"
    report "$OUT/runs.txt" | tee "$OUT/table.txt"
}

if [ "${L1:-0}" = 1 ]; then
    OUT=$RESULTS/bench-api
    run_bench
    exit 0
fi
[ -x "$BUILD/iogen" ] || { echo "bench: $BUILD/iogen missing (make $BUILD/iogen)" >&2; exit 1; }
# shellcheck source=l1-bench.sh disable=SC1091
. "$here/l1-bench.sh"
bench_where bench-api "$here/api-cost.sh" "PAIRS=$PAIRS SECS=$SECS RATE=$RATE"
