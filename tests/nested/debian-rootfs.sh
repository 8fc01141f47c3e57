#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds a Debian 12 system with systemd on an ext4 image (debootstrap, no loop mount) for the nested lifecycle case; cached.
#
# Usage: tests/nested/debian-rootfs.sh BUILD     writes BUILD/debian12/rootfs.img (2 GiB, sparse)
#   and BUILD/debian12/rootfs.done (one line: what it holds, and how long the build took).
# The system: debootstrap --variant=minbase bookworm with systemd-sysv, udev, dbus (for
# systemd-logind, which powers off on the power button) and kmod; root without a password on
# the serial console's getty; /etc/fstab with / on /dev/vda; the kernel modules of the default
# guest's kernel (BUILD/guest/kernel-pkg) that its initramfs loads, with depmod's indexes; and
# kvmini-note.service, which writes /root/note.txt at each boot without syncing it and says
# KVMINI-NOTE-WRITTEN on the console. Boot it with the default guest's kernel and initramfs:
#   kvmini run --kernel BUILD/guest/bzImage --initrd BUILD/guest/initramfs.cpio.gz \
#     --disk path=BUILD/debian12/rootfs.img --cmdline "console=ttyS0 reboot=k panic=-1 root=/dev/vda rw"
# Needs root (debootstrap, chroot) and a Debian mirror (the first URI of apt's sources).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD" >&2; exit 2; }
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$build/debian12
img=$out/rootfs.img
done_file=$out/rootfs.done
die() { echo "debian-rootfs: error: $*" >&2; exit 1; }

command -v debootstrap > /dev/null || die "debootstrap not found (make deps)"
moddir=$(find "$build/guest/kernel-pkg/lib/modules" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 1)
if [ -z "$moddir" ] || [ ! -f "$build/guest/initramfs.cpio.gz" ]; then
    die "no default guest in $build/guest (make guest)"
fi
kver=$(basename "$moddir")
# cached: built by this script, for this kernel's modules
if [ -f "$done_file" ] && [ "$done_file" -nt "$here/debian-rootfs.sh" ] && [ -f "$img" ] &&
    grep -q "modules of $kver," "$done_file"; then
    echo "debian-rootfs: cached: $(cat "$done_file")"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then	# debootstrap and chroot need root
    command -v sudo > /dev/null || die "debootstrap and chroot need root (or sudo)"
    exec sudo "$0" "$@"
fi
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
mirror=${mirror:-http://deb.debian.org/debian}

t0=$SECONDS
rm -rf "$out"
mkdir -p "$out"
root=$out/root
echo "debian-rootfs: debootstrap bookworm from $mirror (a few minutes)"
debootstrap --variant=minbase --include=systemd-sysv,udev,dbus,kmod bookworm "$root" "$mirror" \
    > "$out/debootstrap.log" 2>&1 || { tail -n 20 "$out/debootstrap.log" >&2; die "debootstrap failed ($out/debootstrap.log)"; }

echo kvmini-debian > "$root/etc/hostname"
printf '/dev/vda / ext4 defaults 0 1\n' > "$root/etc/fstab"
chroot "$root" passwd -d root > /dev/null
# the initramfs's drivers, where udev and modprobe look for them
mkdir -p "$root/lib/modules/$kver"
(cd "$moddir" && find . -name '*.ko*' | grep -E '/(virtio[^/]*|crc32c[^/]*|crc16|mbcache|jbd2|ext4|pvpanic[^/]*|button|evdev)\.ko' |
    cpio -pdm --quiet "$root/lib/modules/$kver")
cp "$moddir"/modules.order "$moddir"/modules.builtin* "$root/lib/modules/$kver/" 2>/dev/null || true
chroot "$root" depmod "$kver"
cat > "$root/etc/systemd/system/kvmini-note.service" <<'UNIT'
# SPDX-License-Identifier: Apache-2.0
# kvmini's lifecycle test: a file written at boot and left in the page cache (no sync)
[Unit]
Description=kvmini lifecycle test note
After=local-fs.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "note-$(cat /proc/sys/kernel/random/boot_id)" > /root/note.txt; echo KVMINI-NOTE-WRITTEN > /dev/console'
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/kvmini-note.service "$root/etc/systemd/system/multi-user.target.wants/kvmini-note.service"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo "debian-rootfs: mke2fs -d (an ext4 of 2 GiB, sparse)"
truncate -s 2G "$img"
mke2fs -q -t ext4 -L debian12 -d "$root" "$img" || die "mke2fs -d failed"
rm -rf "$root"
echo "debian 12 (bookworm, $(du -k --apparent-size "$img" | cut -f1) kB image, $(du -k "$img" | cut -f1) kB used), modules of $kver, built in $((SECONDS - t0)) s" > "$done_file"
[ -z "${SUDO_UID:-}" ] || chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$out"
echo "debian-rootfs: $(cat "$done_file")"
