#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The arm64 L2 guest's initramfs for the block benchmark: busybox-static:arm64, the virtio-mmio, virtio-pci and virtio-blk modules, and iogen (cross-built, static); its init says it is up, runs iogen on /dev/vda, prints the result line and powers off.
# Usage: tests/bench/arm64-blk-initrd.sh ROOT IOGEN OUT.cpio.gz
#   ROOT: the unpacked arm64 packages (bin/busybox, lib/modules); IOGEN: tests/bench/iogen.c built
#   for arm64 (aarch64-linux-gnu-gcc -static ... -luring). iogen's options come from the guest's
#   command line as l2.iogen=OPT,OPT,... (commas for spaces; default -t,3,-W,1: 4 KiB random
#   reads at queue depth 1, O_DIRECT). The init prints "L2-UP uptime=S" (the guest's uptime
#   when its init runs), then "L2-IOGEN iogen: ..." or "L2-IOGEN-FAILED ...".
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -eq 3 ] || { echo "usage: $0 ROOT IOGEN OUT.cpio.gz" >&2; exit 2; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev}
cp "$1/bin/busybox" "$root/bin/busybox"
for a in sh mount echo poweroff cat cut grep insmod tr sleep; do
    ln -s busybox "$root/bin/$a"
done
cp "$2" "$root/bin/iogen"
moddirs=("$1"/lib/modules/*)
moddir=${moddirs[0]}
"$top/guest/resolve-modules.sh" --install "$root" "$moddir" virtio_mmio virtio_pci virtio_blk
cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
echo "L2-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
while read -r m; do insmod "/lib/modules/$m" || echo "L2-INSMOD-FAILED $m"; done < /etc/modules.load
args="-t 3 -W 1"
for w in $(cat /proc/cmdline); do
    case $w in l2.iogen=*) args=$(echo "${w#l2.iogen=}" | tr ',' ' ') ;; esac
done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if out=$(iogen $args /dev/vda 2>&1); then
    echo "L2-IOGEN $out"
else
    echo "L2-IOGEN-FAILED $(echo "$out" | tr '\n' ' ')"
fi
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$3"
