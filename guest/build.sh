#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the default guest (stock Debian kernel + busybox initramfs) into OUTDIR; cached.
#
# Usage: guest/build.sh OUTDIR        (make guest runs: guest/build.sh build/guest)
#   GUEST_KERNEL=linux-image-cloud-amd64 guest/build.sh build/guest-cloud builds the same guest
#   around Debian's cloud kernel (the kernel of the metapackage GUEST_KERNEL, default
#   linux-image-amd64: the stock kernel)
#
# Outputs:
#   OUTDIR/kernel-pkg/          the unpacked Debian kernel package (also used by tests/nested)
#   OUTDIR/bzImage, OUTDIR/config   that package's kernel and its config
#   OUTDIR/initramfs.cpio.gz    busybox-static + virtio/virtio-mmio/virtio-pci/virtio-blk/ext4/pvpanic modules
#   OUTDIR/kernel-version       one line: the kernel package and version used
# Each step is skipped when its outputs exist and are newer than this script (and its inputs).
#
# The guest's /init (see make_init below) prints KVMINI-READY, KVMINI-CPUS=<n>,
# KVMINI-MEM-KB=<MemTotal kB>, mounts /dev/vda on /mnt if it holds ext4, runs the command
# given as kvmini.run=<cmd> on the kernel command line ('+' stands for a space, so
# kvmini.run=ls+-l+/mnt runs "ls -l /mnt"; a literal '+' cannot be written), then gives a
# shell on the console. Leaving that shell powers the guest off; typing poweroff / reboot /
# halt in it powers off / reboots / powers off.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/build.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)

log() { echo "  GUEST  $*"; }
die() { echo "guest/build.sh: error: $*" >&2; exit 1; }
# fresh FILE [INPUT...]: FILE exists and is newer than this script and every INPUT
fresh() {
    local f=$1 i
    shift
    [ -e "$f" ] && [ "$f" -nt "$self" ] || return 1
    for i in "$@"; do [ "$f" -nt "$i" ] || return 1; done
}

for tool in apt-get apt-cache dpkg cpio gzip; do
    command -v "$tool" >/dev/null || die "$tool not found (run make deps)"
done
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is not a static busybox (install busybox-static: make deps)"
fi

# ---- 1. the kernel package that GUEST_KERNEL (linux-image-amd64) depends on ----
meta=${GUEST_KERNEL:-linux-image-amd64}
case $meta in linux-image-*) ;; *) die "GUEST_KERNEL '$meta': a linux-image-* metapackage" ;; esac
resolve_pkg() {
    apt-cache depends "$meta" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
deb_stamp="$out/kernel-pkg/.unpacked"
if ! fresh "$deb_stamp" || [ "$(cut -d' ' -f3 "$deb_stamp")" != "$meta" ]; then
    pkg=$(resolve_pkg || true)
    if [ -z "$pkg" ]; then
        log "apt-get update ($meta not known to apt-cache)"
        SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
        $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
        pkg=$(resolve_pkg || true)
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package of $meta"
    mkdir -p "$out/dl"
    rm -f "$out"/dl/*.deb
    log "download $pkg"
    # apt-get download writes into the current directory; -q keeps it to errors
    (cd "$out/dl" && apt-get download -q "$pkg" 2>"$out/dl/apt.log") ||
        { cat "$out/dl/apt.log" >&2; die "apt-get download $pkg failed"; }
    deb=$(find "$out/dl" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
    [ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
    rm -rf "$out/kernel-pkg"
    log "unpack $(basename "$deb")"
    dpkg -x "$deb" "$out/kernel-pkg"
    ver=$(dpkg-deb -f "$deb" Version)
    echo "$pkg $ver $meta" > "$deb_stamp"
fi
kver=$(find "$out/kernel-pkg/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
[ -n "$kver" ] || die "no lib/modules in $out/kernel-pkg"
moddir="$out/kernel-pkg/lib/modules/$kver"

if ! fresh "$out/bzImage" "$deb_stamp" || ! fresh "$out/config" "$deb_stamp"; then
    cp "$out/kernel-pkg/boot/vmlinuz-$kver" "$out/bzImage"
    cp "$out/kernel-pkg/boot/config-$kver" "$out/config"
fi
if ! fresh "$out/kernel-version" "$deb_stamp"; then
    echo "kernel $kver from $(cat "$deb_stamp")" > "$out/kernel-version"
    log "$(cat "$out/kernel-version")"
fi

# ---- 2. the initramfs ----
make_init() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini default guest init: modules, ready marker, optional /dev/vda and kvmini.run=, shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=linux
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
# the kernel may have found no /dev/console before devtmpfs was mounted
exec </dev/console >/dev/console 2>&1
while read -r m; do
    insmod "/lib/modules/$m" 2>/dev/null
done < /etc/modules.load
# kvmini's boot-timer port 0x440 (1088): kvmini logs the time since launch (other VMMs ignore it)
printf '\173' | dd of=/dev/port bs=1 seek=1088 count=1 2>/dev/null
echo
echo KVMINI-READY
echo "KVMINI-CPUS=$(grep -c '^processor' /proc/cpuinfo)"
echo "KVMINI-MEM-KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
if [ -b /dev/vda ]; then
    mount -t ext4 /dev/vda /mnt 2>/dev/null ||
        mount -t ext4 -o ro /dev/vda /mnt 2>/dev/null ||
        echo "kvmini-init: /dev/vda is not an ext4 file system; not mounted"
fi
# busybox poweroff/reboot/halt without -f signal PID 1 (USR2 / TERM / USR1); a trap runs
# once the current foreground command ends. The login shell's /etc/profile makes the
# typed commands act at once instead.
trap 'sync; poweroff -f' USR2 USR1
trap 'sync; reboot -f' TERM
for arg in $(cat /proc/cmdline); do
    case $arg in
    kvmini.run=*)
        cmd=$(echo "${arg#kvmini.run=}" | tr + ' ')
        echo "kvmini-init: running: $cmd"
        sh -c "$cmd"
        echo "kvmini-init: exit status $?"
        ;;
    esac
done
setsid cttyhack sh -l
sync
poweroff -f
EOF
}

guest_mods=(virtio_ring virtio virtio_mmio virtio_pci virtio_blk crc32c_generic crc32c-intel crc16 mbcache jbd2
    ext4 pvpanic pvpanic-mmio)
initrd="$out/initramfs.cpio.gz"
if ! fresh "$initrd" "$deb_stamp" "$here/resolve-modules.sh" "$busybox"; then
    cfg="$out/config"
    for opt in PVPANIC PVPANIC_MMIO VIRTIO VIRTIO_MMIO VIRTIO_BLK EXT4_FS; do
        val=$(sed -n "s/^CONFIG_$opt=//p" "$cfg")
        log "CONFIG_$opt=${val:-n}"
    done
    grep -q '^CONFIG_VIRTIO_MMIO=[ym]' "$cfg" || die "kernel has no CONFIG_VIRTIO_MMIO"
    root="$out/initramfs.root"
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,mnt,root,tmp,lib/modules}
    cp "$busybox" "$root/bin/busybox"
    # the links "busybox --install -s" would make, but pointing at /bin/busybox in the guest
    for applet in $("$busybox" --list-full); do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
    done
    # modules that are =y are skipped by resolve-modules.sh (modules.builtin)
    "$here/resolve-modules.sh" --install "$root" "$moddir" "${guest_mods[@]}"
    make_init > "$root/init"
    chmod 755 "$root/init"
    echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
    cat > "$root/etc/profile" <<'EOF'
# kvmini guest: login shell setup; poweroff/reboot/halt act at once (PID 1 is a plain script)
export PS1='kvmini# '
poweroff() { sync; busybox poweroff -f; }
halt() { sync; busybox poweroff -f; }
reboot() { sync; busybox reboot -f; }
EOF
    echo "$kver" > "$root/etc/kernel-version"
    # /dev/console in the archive lets the kernel give init a console before devtmpfs exists
    if [ "$(id -u)" = 0 ]; then mknod -m 600 "$root/dev/console" c 5 1; fi
    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet -R 0:0) | gzip -9 > "$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    log "initramfs $(du -k "$initrd" | cut -f1) KiB, modules: $(tr '\n' ' ' < "$root/etc/modules.load" |
        sed 's#kernel/[^ ]*/##g')"
fi
