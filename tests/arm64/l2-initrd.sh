#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The arm64 L2 guest's initramfs: busybox-static:arm64, the virtio-mmio, virtio-pci and virtio-blk modules, and an init that says it is up, counts its CPUs, reads and writes its disk, and powers off (PSCI SYSTEM_OFF).
# Usage: tests/arm64/l2-initrd.sh ROOT OUT.cpio.gz   (ROOT: the unpacked arm64 packages: bin/busybox, lib/modules)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 ROOT OUT.cpio.gz" >&2; exit 2; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev}
cp "$1/bin/busybox" "$root/bin/busybox"
for a in sh mount echo poweroff cat cut grep reboot insmod md5sum dd sync head tr date sleep sed od; do
    ln -s busybox "$root/bin/$a"
done
moddir=$(ls -d "$1"/lib/modules/* | head -n1)
"$top/guest/resolve-modules.sh" --install "$root" "$moddir" virtio_mmio virtio_pci virtio_blk gpio_keys evdev
cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
echo "L2-UP $(cat /proc/sys/kernel/arch 2>/dev/null || echo aarch64) uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "L2-CPUS $(grep -c ^processor /proc/cpuinfo)"
echo "L2-TIME $(date +%s)"
while read -r m; do insmod "/lib/modules/$m" || echo "L2-INSMOD-FAILED $m"; done < /etc/modules.load
if [ -b /dev/vda ]; then
    # the first MiB as the host wrote it, then a line of ours at 4 KiB, flushed
    echo "L2-DISK-MD5 $(dd if=/dev/vda bs=64k count=16 2>/dev/null | md5sum | cut -d' ' -f1)"
    echo "written by the arm64 guest" | dd of=/dev/vda bs=4096 seek=1 conv=fsync 2>/dev/null
    echo "L2-DISK-WROTE"
    echo "L2-IRQ $(grep virtio /proc/interrupts | tr -s ' ' | tr '\n' ' ')"
fi
case $(cat /proc/cmdline) in
*l2.powerkey*)
    # kvmini's PL061 + gpio-keys: wait for a key's input event (type, code, value), then
    # power off (KEY_POWER, 116) or reboot (KEY_RESTART, 408)
    ev=/dev/input/$(grep -A 6 'Name="gpio-keys"' /proc/bus/input/devices | sed -n 's/.*Handlers=.*\(event[0-9]*\).*/\1/p' | head -n 1)
    # (opened before the marker: a key pressed as soon as the host sees it is not lost)
    exec 3< "$ev"
    echo "L2-WAITING-POWER-KEY $ev"
    key=$(dd bs=24 count=1 <&3 2>/dev/null | od -An -tu2 -j16 -N6 | tr -s ' ')
    echo "L2-KEY$key"
    case $key in *" 408 "*) reboot -f ;; esac ;;
*l2.gdbloop*)
    # for gdb in the arm64 smoke test: where sync's syscall is (KASLR or not), then a sync every
    # half second for 20 s for a breakpoint there to catch
    echo 0 > /proc/sys/kernel/kptr_restrict
    echo "L2-KSYM $(grep ' __arm64_sys_sync$' /proc/kallsyms | cut -d' ' -f1)"
    i=0
    while [ $i -lt 40 ]; do sync; sleep 0.5; i=$((i + 1)); done
    echo "L2-GDBLOOP-DONE" ;;
*l2.panic*) echo c > /proc/sysrq-trigger ;;
*l2.reboot*) reboot -f ;;
esac
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$2"
