#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Quick block benchmark: 2000 x 4 KiB O_DIRECT reads at queue depth 1 in the default guest,
# kvmini (exits per request from its own counters) against QEMU microvm's virtio-mmio disk.
#
# Usage, inside a machine with a fast /dev/kvm (or the nested L1):
#   tests/nested/l1.sh run build tests/bench/blk-qd1.sh      # on machines like ours
#   RESULTS=/tmp/out tests/bench/blk-qd1.sh                   # directly on VT-x/AMD-V
# Writes RESULTS/blk-qd1.txt: per round the exit counts of an idle boot and of a boot that
# runs the reads, and the guest's /proc/uptime before and after the reads, for both VMMs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${RESULTS:-build/bench}/blk-qd1.txt
mkdir -p "$(dirname "$out")"
: > "$out"
img=$(mktemp /tmp/kvmini-blk.XXXXXX)
trap 'rm -f "$img"' EXIT
head -c $((64 << 20)) /dev/urandom > "$img"
K=build/guest/bzImage I=build/guest/initramfs.cpio.gz
DD='cat+/proc/uptime;dd+if=/dev/vda+of=/dev/null+bs=4096+count=2000+iflag=direct;cat+/proc/uptime'
uptimes() { grep -a -E '^[0-9]+\.[0-9]+ [0-9]' "$1" | awk '{print $1}' | tr '\n' ' '; }
for round in 1 2 3; do
    timeout 120 build/kvmini run --disk "path=$img" --append "quiet kvmini.run=poweroff+-f" \
        </dev/null >/tmp/k0.out 2>/tmp/k0.err || true
    timeout 120 build/kvmini run --disk "path=$img" --append "quiet kvmini.run=$DD;poweroff+-f" \
        </dev/null >/tmp/k1.out 2>/tmp/k1.err || true
    timeout 120 qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -m 512 \
        -kernel "$K" -initrd "$I" -append "console=ttyS0 reboot=k panic=-1 quiet kvmini.run=$DD;poweroff+-f" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -drive "file=$img,if=none,id=d0,format=raw" -device virtio-blk-device,drive=d0 \
        </dev/null >/tmp/q1.out 2>&1 || true
    {
        echo "round $round"
        echo "kvmini idle boot: $(grep 'exits to userspace' /tmp/k0.err)"
        echo "kvmini with reads: $(grep 'exits to userspace' /tmp/k1.err)"
        echo "kvmini uptime before/after: $(uptimes /tmp/k1.out)"
        echo "qemu uptime before/after: $(uptimes /tmp/q1.out)"
    } >> "$out"
done
cat "$out"
