#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Block benchmark: 4 KiB random reads at QD1 and QD32 and 1 MiB sequential reads, O_DIRECT,
# on a raw block device: the host itself (the ceiling), kvmini, and QEMU microvm, one run.
#
# Usage: tests/bench/blk-bench.sh BUILD          (make bench; needs BUILD/iogen, make guest)
#   KVMINI_NESTED=auto|1|0 as in tests/nested/run-tests.sh; SECONDS_PER_CELL=4.
# The device is a loop device over a 256 MiB file in /tmp (in the nested L1: its tmpfs); kvmini
# gets it with cache=none (O_DIRECT, io_uring), QEMU with cache=none,aio=io_uring on
# virtio-mmio (virtio-blk-device). The load generator is BUILD/iogen (tests/bench/iogen.c,
# io_uring + O_DIRECT), the same binary on the host and, appended to the initramfs, in the
# guest. kvmini's exits per request come from its end-of-run counters minus an idle boot's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=$(cd "${1:-$top/build}" && pwd)
T=${SECONDS_PER_CELL:-4}

inner() {
    local out=${RESULTS:-$BUILD/bench}/blk
    mkdir -p "$out"
    local work
    work=$(mktemp -d /tmp/kvmini-blkbench.XXXXXX)
    # guest initramfs + iogen (a second cpio archive appended: the kernel unpacks both)
    mkdir -p "$work/ov/bin"
    cp "$BUILD/iogen" "$work/ov/bin/iogen"
    (cd "$work/ov" && echo bin/iogen | cpio -o -H newc --quiet | gzip) > "$work/ov.cpio.gz"
    cat "$BUILD/guest/initramfs.cpio.gz" "$work/ov.cpio.gz" > "$work/initrd"
    truncate -s 256M "$work/disk.img"
    head -c $((256 << 20)) /dev/urandom | dd of="$work/disk.img" conv=notrunc bs=1M 2>/dev/null
    local dev
    dev=$(losetup -f --show "$work/disk.img")
    local -a jobs=("-t $T -W 1" "-q 32 -t $T -W 1" "-s -b 1048576 -q 4 -t $T -W 1")
    local -a names=("4k-randread-qd1" "4k-randread-qd32" "1m-seqread-qd4")
    local run="" i
    for i in 0 1 2; do run+="iogen+${jobs[$i]// /+}+/dev/vda;"; done
    local k="$BUILD/guest/bzImage"
    local base="console=ttyS0 reboot=k panic=-1 quiet"

    echo "blk-bench: host ceiling on $dev"
    for i in 0 1 2; do
        # shellcheck disable=SC2086 # the job's options
        "$BUILD/iogen" ${jobs[$i]} "$dev" | tee -a "$out/host.txt"
    done
    echo "blk-bench: kvmini (idle boot for the exit baseline, then the jobs)"
    timeout 300 "$BUILD/kvmini" run --kernel "$k" --initrd "$work/initrd" \
        --disk "path=$dev,cache=none" --append "quiet kvmini.run=poweroff+-f" \
        </dev/null >"$out/kvmini-idle.out" 2>"$out/kvmini-idle.err" || true
    timeout 300 "$BUILD/kvmini" run --kernel "$k" --initrd "$work/initrd" \
        --disk "path=$dev,cache=none" --append "quiet kvmini.run=${run}poweroff+-f" \
        </dev/null >"$out/kvmini.out" 2>"$out/kvmini.err" || true
    grep -a '^iogen:' "$out/kvmini.out" || echo "blk-bench: kvmini printed no results"
    echo "blk-bench: QEMU microvm"
    # shellcheck disable=SC2054 # commas are QEMU's
    timeout 300 qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -m 512 \
        -kernel "$k" -initrd "$work/initrd" -append "$base kvmini.run=${run}poweroff+-f" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -drive "file=$dev,if=none,id=d0,format=raw,cache=none,aio=io_uring" \
        -device virtio-blk-device,drive=d0 </dev/null >"$out/qemu.out" 2>&1 || true
    grep -a '^iogen:' "$out/qemu.out" || echo "blk-bench: QEMU printed no results"
    losetup -d "$dev"
    rm -rf "$work"

    # the table
    val() { grep -a "^iogen:" "$1" | sed -n "$(( $2 + 1 ))p" | tr ' ' '\n' | sed -n "s/^$3=//p"; }
    exits() { sed -n 's/^kvmini: \([0-9]*\) exits to userspace.*/\1/p' "$1"; }
    local e0 e1 ios=0
    e0=$(exits "$out/kvmini-idle.err"); e1=$(exits "$out/kvmini.err")
    for i in 0 1 2; do ios=$((ios + $(val "$out/kvmini.out" "$i" ios || echo 0))); done
    echo
    printf '%-18s %10s %10s %10s %8s %8s %10s %10s\n' workload host_iops kvmini_iops qemu_iops \
        kv/host kv/qemu kv_p99_us qemu_p99_us
    for i in 0 1 2; do
        local h kv q
        h=$(val "$out/host.txt" "$i" iops); kv=$(val "$out/kvmini.out" "$i" iops)
        q=$(val "$out/qemu.out" "$i" iops)
        printf '%-18s %10s %10s %10s %8s %8s %10s %10s\n' "${names[$i]}" "$h" "$kv" "$q" \
            "$(awk -v a="$kv" -v b="$h" 'BEGIN{if(b>0)printf "%.2f",a/b; else print "-"}')" \
            "$(awk -v a="$kv" -v b="$q" 'BEGIN{if(b>0)printf "%.2f",a/b; else print "-"}')" \
            "$(val "$out/kvmini.out" "$i" lat_p99_us)" "$(val "$out/qemu.out" "$i" lat_p99_us)"
    done
    printf '1m-seqread MB/s: host %s, kvmini %s, qemu %s\n' "$(val "$out/host.txt" 2 mbps)" \
        "$(val "$out/kvmini.out" 2 mbps)" "$(val "$out/qemu.out" 2 mbps)"
    if [ -n "$e0" ] && [ -n "$e1" ] && [ "$ios" -gt 0 ]; then
        echo "kvmini exits to userspace per request: ($e1 - $e0 idle) / $ios = $(awk -v a="$e1" -v b="$e0" -v n="$ios" 'BEGIN{printf "%.3f",(a-b)/n}')"
    fi
}

# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$top/tests/lib/kvm-where.sh"
if [ "${L1:-0}" = 1 ] || kvm_boot_direct "$BUILD"; then
    inner
    exit 0
fi
echo "blk-bench: $KVM_LINE"
echo "blk-bench: running inside one nested L1 (QEMU TCG + SVM)"
# shellcheck source=../nested/l1.sh disable=SC1091
. "$top/tests/nested/l1.sh"
L1_TIMEOUT=${L1_TIMEOUT:-1200} L1_QUIET=1 L1_LOG="$BUILD/nested/blk-bench-console.log" \
    l1_run "$BUILD" "$here/blk-bench.sh" "$BUILD"
sed -n '/^workload/,$p' "$BUILD/nested/blk-bench-console.log"
