#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Network benchmark (make bench-net): TCP throughput both ways and ping latency through a tap, kvmini with and without vhost-net against QEMU microvm, in rounds of one run each.
#
# Usage: tests/bench/net-bench.sh BUILD [OUTDIR]      (ROUNDS=5, SECS=10, PINGS=200)
#        tests/bench/net-bench.sh --report RUNS       (the table again from a runs.txt)
# Where KVM boots Linux directly it runs here, else inside the nested L1 (tests/bench/l1-bench.sh):
# a fresh L1 for each round (the L1 froze or panicked after one or two rounds when it ran all
# of them), each bounded by L1_TIMEOUT (600 s; a round takes about 130 s there); a round whose L1 fails is recorded as such in
# runs.txt and the next one goes on.
# Each round boots the Debian 12 guest (tests/nested/debian-rootfs.sh; 1 vCPU, 1 GiB, its disk
# read-only) with init=/usr/local/sbin/kvmini-bench-init (an iperf3 server, no systemd) once
# per VMM, in a rotating order, on the same tap (tap0 at 10.0.3.1/24 in a network namespace of
# its own; the guest is 10.0.3.2):
#   kvmini-vhost   kvmini, virtio-net over virtio-pci, vhost=on
#   kvmini-user    kvmini, the same, vhost=off (kvmini's own data path)
#   qemu-vhost     QEMU microvm, virtio-net-device (virtio-mmio), tap with vhost=on
# and measures from the host side: iperf3 -c GUEST -t SECS (the guest receives: "rx"), the same
# with -R (the guest sends: "tx"), ping -c PINGS -i 0.01 (the mean round trip), and over the two
# iperf3 runs KVM's exits and interrupt injections per frame through the tap (KVM's debugfs
# statistics of the VM, the tap's packet counters). OUTDIR (default BUILD/bench-net) gets
# runs.txt (one line a run) and table.txt (medians, and how many rounds kvmini won against QEMU).
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
OUT=${2:-${BUILD:-.}/bench-net}
ROUNDS=${ROUNDS:-5} SECS=${SECS:-10} PINGS=${PINGS:-200} FIRST=${FIRST:-1}
CONFIGS="kvmini-vhost kvmini-user qemu-vhost"
HOST=10.0.3.1 GUEST=10.0.3.2

report() { # RUNS: medians per VMM, rounds kvmini won against QEMU
    python3 - "$1" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
by = {}
for rnd, cfg, rx, tx, rtt, exits, irqs in runs:
    by.setdefault(rnd, {})[cfg] = (float(rx), float(tx), float(rtt), float(exits), float(irqs))
cfgs = ["kvmini-vhost", "kvmini-user", "qemu-vhost"]
rounds = [r for r in by.values() if all(c in r for c in cfgs)]
def med(c, i):
    return statistics.median(r[c][i] for r in rounds)
print("# %d rounds; medians (rx: the guest receives, tx: it sends)" % len(rounds))
print("%-14s %12s %12s %12s %14s %14s" % ("", "rx Mbit/s", "tx Mbit/s", "ping us", "exits/frame", "irqs/frame"))
for c in cfgs:
    print("%-14s %12.1f %12.1f %12.0f %14.2f %14.2f" % (c, med(c, 0), med(c, 1), med(c, 2), med(c, 3), med(c, 4)))
for c in cfgs[:2]:
    print("%s against qemu-vhost: rx %.2fx (won %d of %d), tx %.2fx (won %d of %d), ping %.2fx (won %d of %d)" % (
        c, med(c, 0) / med("qemu-vhost", 0), sum(r[c][0] > r["qemu-vhost"][0] for r in rounds), len(rounds),
        med(c, 1) / med("qemu-vhost", 1), sum(r[c][1] > r["qemu-vhost"][1] for r in rounds), len(rounds),
        med(c, 2) / med("qemu-vhost", 2), sum(r[c][2] < r["qemu-vhost"][2] for r in rounds), len(rounds)))
PY
}
if [ "$1" = --report ]; then report "$2"; exit 0; fi

ns_setup() {
    NS=kvmini-bench-net-$$-$RANDOM
    ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip -n "$NS" tuntap add tap0 mode tap
    ip -n "$NS" addr add "$HOST/24" dev tap0
    ip -n "$NS" link set tap0 up
}

ns_cleanup() { [ -z "${NS:-}" ] || ip netns del "$NS" 2>/dev/null || true; }

# vmm_cmd CFG: the command line of that VMM on the Debian image (VM_CMD)
vmm_cmd() {
    local cmdline="console=ttyS0 reboot=k panic=-1 quiet root=/dev/vda ro init=/usr/local/sbin/kvmini-bench-init kvmini.ip=$GUEST/24"
    local k=$BUILD/guest/bzImage i=$BUILD/guest/initramfs.cpio.gz
    case $1 in
    kvmini-*)
        VM_CMD=("$BUILD/kvmini" run --kernel "$k" --initrd "$i" --cmdline "$cmdline" --memory 1G
            --console stdio --shutdown-timeout 0 --disk "path=$img,ro=on"
            --net "tap=tap0,vhost=$([ "$1" = kvmini-vhost ] && echo on || echo off)") ;;
    qemu-vhost)
        # shellcheck disable=SC2054 # commas are QEMU's
        VM_CMD=(qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -smp 1 -m 1G
            -kernel "$k" -initrd "$i" -append "$cmdline" -nodefaults -no-user-config
            -display none -chardev stdio,id=con,mux=off,signal=off -serial chardev:con
            -drive "file=$img,if=none,id=d0,format=raw,readonly=on" -device virtio-blk-device,drive=d0
            -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on
            -device virtio-net-device,netdev=n0 -no-reboot) ;;
    esac
}

# kvm_stat PID NAME: KVM's statistic NAME of the VM of process PID (debugfs), 0 if unknown
kvm_stat() {
    local d
    for d in /sys/kernel/debug/kvm/"$1"-*; do
        [ -f "$d/$2" ] && { cat "$d/$2"; return; }
    done
    echo 0
}

frames() { # the frames through the tap so far, both ways
    ip netns exec "$NS" sh -c 'echo $(( $(cat /sys/class/net/tap0/statistics/rx_packets) + $(cat /sys/class/net/tap0/statistics/tx_packets) ))'
}

# iperf THRU [-R]: Mbit/s the receiver saw
iperf() {
    ip netns exec "$NS" iperf3 -c "$GUEST" -t "$SECS" -J "$@" > "$VM_DIR/iperf$*.json"
    python3 -c 'import json, sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$VM_DIR/iperf$*.json"
}

# vm_stop: SIGTERM (kvmini with --shutdown-timeout 0 and QEMU both stop at once, tearing their
# vhost devices down in order), SIGKILL after 20 s
vm_stop() {
    local i
    kill -TERM "$VM_PID" 2>/dev/null || true
    for i in $(seq 200); do
        kill -0 "$VM_PID" 2>/dev/null || break
        sleep 0.1
    done
    vm_kill
}

# one_run ROUND CFG: boot, measure, stop; one line in runs.txt
one_run() {
    local rnd=$1 cfg=$2 rx tx rtt e0 e1 i0 i1 f0 f1
    ns_setup	# a fresh tap for each VMM (the nested L1 froze twice starting a VMM on a reused one)
    vmm_cmd "$cfg"
    vm_start "$OUT/work/$rnd-$cfg" ip netns exec "$NS" "${VM_CMD[@]}"
    vm_expect '^KVMINI-BENCH-READY' 240 || { echo "bench: $cfg: the guest did not come up"; return 1; }
    sleep 1
    e0=$(kvm_stat "$VM_PID" exits) i0=$(kvm_stat "$VM_PID" irq_injections) f0=$(frames)
    rx=$(iperf) && tx=$(iperf -R) || { echo "bench: $cfg: iperf3 failed"; return 1; }
    e1=$(kvm_stat "$VM_PID" exits) i1=$(kvm_stat "$VM_PID" irq_injections) f1=$(frames)
    rtt=$(ip netns exec "$NS" ping -q -c "$PINGS" -i 0.01 "$GUEST" | sed -n 's#.* = [0-9.]*/\([0-9.]*\)/.*#\1#p')
    vm_stop
    echo "$rnd $cfg $rx $tx $(python3 -c "print('%.0f %.3f %.3f' % ($rtt * 1000, ($e1 - $e0) / max(1, $f1 - $f0), ($i1 - $i0) / max(1, $f1 - $f0)))")" >> "$OUT/runs.txt"
    echo "bench: round $rnd $cfg: $(tail -n 1 "$OUT/runs.txt")"
    ns_cleanup
}

run_bench() {
    local rnd cfg order
    img=$BUILD/debian12/rootfs.img
    [ -f "$img" ] || { echo "bench: no $img (tests/nested/debian-rootfs.sh)" >&2; return 1; }
    command -v iperf3 > /dev/null || { echo "bench: no iperf3 (make deps-bench)" >&2; return 1; }
    mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
    mkdir -p "$OUT/work"
    {
        echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kvmini commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "# machine: $(uname -r), $(nproc) CPUs${L1:+ (inside the nested L1)}; $("$BUILD/kvmini" host 2>&1 | head -n1)"
        echo "# command: ROUNDS=$ROUNDS SECS=$SECS PINGS=$PINGS tests/bench/net-bench.sh BUILD"
        echo "# guest: Debian 12, $(cat "$BUILD/guest/kernel-version" 2>/dev/null), 1 vCPU, 1 GiB; $(qemu-system-x86_64 --version | head -n1)"
        echo "# columns: round vmm rx_mbit_s tx_mbit_s ping_us exits_per_frame irqs_per_frame"
    } > "$OUT/runs.txt"
    trap 'vm_kill; ns_cleanup' EXIT
    order=$CONFIGS
    for rnd in $(seq 2 "$FIRST"); do	# round FIRST starts where the rotation is by then
        order="${order#* } ${order%% *}"
    done
    for rnd in $(seq "$FIRST" $((FIRST + ROUNDS - 1))); do
        for cfg in $order; do
            one_run "$rnd" "$cfg" || { vm_kill; ns_cleanup; echo "# round $rnd $cfg: failed ($(tail -c 300 "$VM_DIR/err" | tr '\n' ' '))" >> "$OUT/runs.txt"; }
        done
        order="${order#* } ${order%% *}"	# the next round starts with the next VMM
    done
    report "$OUT/runs.txt" | tee "$OUT/table.txt"
}

if [ "${L1:-0}" = 1 ]; then
    OUT=$RESULTS/bench-net
    run_bench
    exit 0
fi
# the Debian image is built here, where the mirror is reachable (L1 has no network)
"$nested/debian-rootfs.sh" "$BUILD"
# shellcheck source=l1-bench.sh disable=SC1091
. "$here/l1-bench.sh"
# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$nested/../lib/kvm-where.sh"
if kvm_boot_direct "$BUILD"; then
    bench_where bench-net "$here/net-bench.sh" "ROUNDS=$ROUNDS SECS=$SECS PINGS=$PINGS"
    exit 0
fi
# nested: one L1 per round, its runs.txt lines gathered into OUT/runs.txt
mkdir -p "$OUT"
rm -f "$OUT/runs.txt"
for rnd in $(seq "$ROUNDS"); do
    rc=0
    (OUT=$OUT/round-$rnd L1_TIMEOUT=${L1_TIMEOUT:-600} \
        bench_where bench-net "$here/net-bench.sh" "ROUNDS=1 FIRST=$rnd SECS=$SECS PINGS=$PINGS") || rc=$?
    f=$OUT/round-$rnd/runs.txt
    if [ -s "$f" ]; then
        [ -s "$OUT/runs.txt" ] || { grep '^#' "$f" | grep -v '^# round'; } > "$OUT/runs.txt"
        grep -v '^# \(date\|machine\|command\|guest\|columns\)' "$f" >> "$OUT/runs.txt" || true
        sed -n 's/^# date: \([^;]*\);.*/# round '"$rnd"' ran at \1/p' "$f" >> "$OUT/runs.txt"
    fi
    [ "$rc" = 0 ] || echo "# round $rnd: the nested L1 failed (status $rc; its console: $OUT/round-$rnd/console.log)" >> "$OUT/runs.txt"
    cp "$BUILD/nested/bench-net-console.log" "$OUT/round-$rnd/console.log" 2>/dev/null || true
done
sed -i "s/^# command: .*/# command: ROUNDS=$ROUNDS SECS=$SECS PINGS=$PINGS tests\/bench\/net-bench.sh BUILD (one nested L1 per round)/" "$OUT/runs.txt"
report "$OUT/runs.txt" | tee "$OUT/table.txt"
