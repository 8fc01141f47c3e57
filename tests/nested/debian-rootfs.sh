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
# KVMINI-NOTE-WRITTEN on the console; iproute2, ping and iperf3, eth0 keeping its name and
# configured from kvmini.ip=ADDR/PREFIX[,GATEWAY] (kvmini-net.service, which says KVMINI-NET);
# /usr/local/sbin/kvmini-bench-init, an init= for the network benchmark (an iperf3 server);
# /usr/local/sbin/kvmini-test-init, an init= for the nested network cases (a shell, no systemd).
# Boot it with the default guest's kernel and initramfs:
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
debootstrap --variant=minbase --include=systemd-sysv,udev,dbus,kmod,iproute2,iputils-ping,iperf3 \
    bookworm "$root" "$mirror" \
    > "$out/debootstrap.log" 2>&1 || { tail -n 20 "$out/debootstrap.log" >&2; die "debootstrap failed ($out/debootstrap.log)"; }

echo kvmini-debian > "$root/etc/hostname"
printf '/dev/vda / ext4 defaults 0 1\n' > "$root/etc/fstab"
chroot "$root" passwd -d root > /dev/null
# the initramfs's drivers, where udev and modprobe look for them
mkdir -p "$root/lib/modules/$kver"
(cd "$moddir" && find . -name '*.ko*' | grep -E '/(virtio[^/]*|crc32c[^/]*|crc16|mbcache|jbd2|ext4|pvpanic[^/]*|button|evdev|failover|net_failover)\.ko' |
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
# the network card keeps the kernel's name (eth0), and kvmini.ip=ADDR/PREFIX[,GATEWAY] on the
# command line configures it when it appears (kvmini-net.service), saying KVMINI-NET
mkdir -p "$root/etc/systemd/network" "$root/usr/local/sbin"
ln -s /dev/null "$root/etc/systemd/network/99-default.link"
cat > "$root/usr/local/sbin/kvmini-net" <<'NET'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini Debian guest: eth0 up with kvmini.ip=ADDR/PREFIX[,GATEWAY] from the command line.
spec=""
for arg in $(cat /proc/cmdline); do
    case $arg in kvmini.ip=*) spec=${arg#kvmini.ip=} ;; esac
done
ip link set lo up
ip link set eth0 up
[ -n "$spec" ] || exit 0
ip addr add "${spec%%,*}" dev eth0 || exit 1
case $spec in *,*) ip route add default via "${spec#*,}" ;; esac
echo "KVMINI-NET eth0 ${spec%%,*}" > /dev/console
NET
cat > "$root/etc/systemd/system/kvmini-net.service" <<'UNIT'
# SPDX-License-Identifier: Apache-2.0
# kvmini's network card: eth0 configured from kvmini.ip= once it appears
[Unit]
Description=kvmini network card (kvmini.ip=)
BindsTo=sys-subsystem-net-devices-eth0.device
After=sys-subsystem-net-devices-eth0.device
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kvmini-net
UNIT
mkdir -p "$root/etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants"
ln -s /etc/systemd/system/kvmini-net.service \
    "$root/etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants/kvmini-net.service"
# init= for the network benchmark (tests/bench/net-bench.sh): no systemd; eth0 as above, an
# iperf3 server, then nothing until the VMM is stopped
cat > "$root/usr/local/sbin/kvmini-bench-init" <<'INIT'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini Debian guest as PID 1 for the network benchmark: eth0, an iperf3 server, then idle.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
/usr/local/sbin/kvmini-net
iperf3 -s -D --logfile /tmp/iperf3.log
echo KVMINI-BENCH-READY > /dev/console
exec sleep infinity
INIT
# init= for the nested network cases (tests/nested/cases-net.sh): no systemd; eth0 as above,
# KVMINI-READY, then a bash on the console whose prompt is "kvmini# " and a newline, and whose
# poweroff powers the guest off at once (systemctl poweroff -ff: reboot(2), the root file system
# is read-only)
cat > "$root/usr/local/sbin/kvmini-test-init" <<'INIT'
#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kvmini Debian guest as PID 1 for the nested network cases: eth0, then a shell on the console.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
/usr/local/sbin/kvmini-net
echo KVMINI-READY
HOME=/root bash --noediting --rcfile /usr/local/etc/kvmini-test.bashrc -i
sync
# reboot(2) from a child: it does not return, and this PID 1 waits without touching the disk
# (sysrq o powers off asynchronously: an "exec sleep" after it once faulted on the disk being
# shut down, SIGBUS, and PID 1's death panicked the guest)
systemctl poweroff --force --force
echo o > /proc/sysrq-trigger
while :; do :; done
INIT
mkdir -p "$root/usr/local/etc"
cat > "$root/usr/local/etc/kvmini-test.bashrc" <<'RC'
# SPDX-License-Identifier: Apache-2.0
# The shell of kvmini-test-init: the test harness's prompt (on a line of its own, so that a
# command's output starts a line even when the harness typed ahead); poweroff and exit power off.
PS1='kvmini# \n'
poweroff() { exit 0; }
RC
chmod 755 "$root/usr/local/sbin/kvmini-net" "$root/usr/local/sbin/kvmini-bench-init" \
    "$root/usr/local/sbin/kvmini-test-init"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo "debian-rootfs: mke2fs -d (an ext4 of 2 GiB, sparse)"
truncate -s 2G "$img"
mke2fs -q -t ext4 -L debian12 -d "$root" "$img" || die "mke2fs -d failed"
rm -rf "$root"
echo "debian 12 (bookworm, $(du -k --apparent-size "$img" | cut -f1) kB image, $(du -k "$img" | cut -f1) kB used), modules of $kver, built in $((SECONDS - t0)) s" > "$done_file"
[ -z "${SUDO_UID:-}" ] || chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$out"
echo "debian-rootfs: $(cat "$done_file")"
