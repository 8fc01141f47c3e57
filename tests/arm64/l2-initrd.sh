#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The arm64 L2 guest's initramfs: busybox-static:arm64 and an init that says it is up, counts its CPUs and powers off (PSCI SYSTEM_OFF).
# Usage: tests/arm64/l2-initrd.sh ROOT OUT.cpio.gz   (ROOT: the unpacked arm64 packages, with bin/busybox)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 ROOT OUT.cpio.gz" >&2; exit 2; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev}
cp "$1/bin/busybox" "$root/bin/busybox"
for a in sh mount echo poweroff cat cut grep reboot; do ln -s busybox "$root/bin/$a"; done
cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
echo "L2-UP $(cat /proc/sys/kernel/arch 2>/dev/null || echo aarch64) uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "L2-CPUS $(grep -c ^processor /proc/cpuinfo)"
case $(cat /proc/cmdline) in
*l2.panic*) echo c > /proc/sysrq-trigger ;;
*l2.reboot*) reboot -f ;;
esac
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$2"
