#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Transport comparison at queue depth 1: 2000 x 4 KiB O_DIRECT reads (dd) in the default guest
# over kvmini's and QEMU microvm's virtio-mmio and virtio-pci (MSI-X; QEMU: pcie=on).
#
# Usage, inside a machine with a fast /dev/kvm (or the nested L1):
#   tests/nested/l1.sh run build tests/bench/blk-transport.sh   # on machines like ours
#   RESULTS=/tmp/out tests/bench/blk-transport.sh                # directly on VT-x/AMD-V
# Writes RESULTS/blk-transport.txt: per round and VMM the guest's /proc/uptime before and after
# the reads; for kvmini also the userspace exits of an idle boot and of a boot with the reads
# (their difference / 2000 = exits per request, boot noise included).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${RESULTS:-build/bench}/blk-transport.txt
mkdir -p "$(dirname "$out")"
: > "$out"
img=$(mktemp /tmp/kvmini-blk.XXXXXX)
trap 'rm -f "$img"' EXIT
head -c $((64 << 20)) /dev/urandom > "$img"
K=build/guest/bzImage I=build/guest/initramfs.cpio.gz
DD='cat+/proc/uptime;dd+if=/dev/vda+of=/dev/null+bs=4096+count=2000+iflag=direct;cat+/proc/uptime'
uptimes() { grep -a -E '^[0-9]+\.[0-9]+ [0-9]' "$1" | awk '{print $1}' | tr '\n' ' '; }
secs() { uptimes "$1" | awk '{ if (NF >= 2) printf "%.2f", $2 - $1; else printf "n/a" }'; }
exits() { sed -n 's/^kvmini: \([0-9]*\) exits to userspace.*/\1/p' "$1"; }
for t in mmio pci; do
    timeout 180 build/kvmini run --virtio-transport $t --disk "path=$img" \
        --append "quiet kvmini.run=poweroff+-f" </dev/null >/tmp/k0.out 2>/tmp/k0.err || true
    echo "kvmini $t idle boot: $(exits /tmp/k0.err) exits to userspace" >> "$out"
done
for round in 1 2 3; do
    for t in mmio pci; do
        timeout 180 build/kvmini run --virtio-transport $t --disk "path=$img" \
            --append "quiet kvmini.run=$DD;poweroff+-f" </dev/null >/tmp/k1.out 2>/tmp/k1.err || true
        echo "round $round kvmini $t: reads $(secs /tmp/k1.out) s, $(exits /tmp/k1.err) exits to userspace" >> "$out"
    done
    for t in mmio pci; do
        m=microvm,acpi=on dev=virtio-blk-device
        [ "$t" = pci ] && m+=,pcie=on dev=virtio-blk-pci
        timeout 180 qemu-system-x86_64 -M "$m" -enable-kvm -cpu host -m 512 \
            -kernel "$K" -initrd "$I" -append "console=ttyS0 reboot=k panic=-1 quiet kvmini.run=$DD;poweroff+-f" \
            -nodefaults -no-user-config -display none -serial stdio -no-reboot \
            -drive "file=$img,if=none,id=d0,format=raw" -device "$dev,drive=d0" \
            </dev/null >/tmp/q1.out 2>&1 || true
        echo "round $round qemu microvm virtio-$t: reads $(secs /tmp/q1.out) s" >> "$out"
    done
done
cat "$out"
