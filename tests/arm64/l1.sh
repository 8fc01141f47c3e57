#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The emulated arm64 L1: Debian's stock arm64 kernel under qemu-system-aarch64 (TCG, EL2 on, GICv3), a busybox initramfs, and real KVM inside it.
#
# Usage: tests/arm64/l1.sh BUILD DIR CMD [ARG...]
#        tests/arm64/l1.sh --fetch-only BUILD   (just the packages, into BUILD/arm64/root)
#   Copies DIR into the initramfs at /t, boots the L1 and runs CMD (a path under /t, run by
#   busybox sh) there with /dev/kvm; prints the L1's console and returns CMD's exit status
#   (124: the L1 did not finish within L1_TIMEOUT seconds, default 300; 125: it ended
#   without a status). The kernel and busybox come from Debian's arm64 packages, downloaded
#   once into BUILD/arm64/dl (dpkg --add-architecture arm64 the first time). The L1 loads the
#   loop driver (/dev/loop*), ext4 and, with L1_GDB_PORT=PORT, virtio-net: QEMU's user network
#   forwards 127.0.0.1:PORT on this host to the L1's port 1234 (10.0.2.15), where a kvmini
#   --gdb tcp:0.0.0.0:1234 listens for gdb-multiarch here.
# Measured (docs/nested.md): -cpu max,pauth-impdef=on boots in seconds; plain -cpu max is
# about 4x slower (it emulates the QARMA pointer-authentication algorithm).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fetch_only=0
[ "${1:-}" = --fetch-only ] && { fetch_only=1; shift; set -- "$1" . true; }
[ $# -ge 3 ] || { echo "usage: $0 BUILD DIR CMD [ARG...] | --fetch-only BUILD" >&2; exit 2; }
build=$(mkdir -p "$1" && cd "$1" && pwd)
dir=$(cd "$2" && pwd)
shift 2
a64=$build/arm64
log() { echo "arm64-l1: $*" >&2; }

# the kernel and busybox packages, once
fetch() {
    [ -f "$a64/root/.unpacked" ] && return 0
    command -v qemu-system-aarch64 > /dev/null || { log "qemu-system-aarch64 missing (make deps)"; exit 2; }
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        log "dpkg --add-architecture arm64; apt-get update"
        dpkg --add-architecture arm64 && apt-get update -q > /dev/null
    fi
    local kpkg
    kpkg=$(apt-cache show linux-image-arm64:arm64 | awk '$1 == "Depends:" { print $2; exit }')
    [ -n "$kpkg" ] || { apt-get update -q > /dev/null;
        kpkg=$(apt-cache show linux-image-arm64:arm64 | awk '$1 == "Depends:" { print $2; exit }'); }
    mkdir -p "$a64/dl"
    (cd "$a64/dl" && rm -f ./*.deb && apt-get download -q -o APT::Sandbox::User=root "$kpkg:arm64" busybox-static:arm64 > /dev/null) ||
        { log "apt-get download $kpkg:arm64 busybox-static:arm64 failed"; exit 2; }
    rm -rf "$a64/root"
    for d in "$a64"/dl/*.deb; do dpkg -x "$d" "$a64/root"; done
    echo "$kpkg" > "$a64/root/.unpacked"
}

init_script() {
    cat <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

echo 1 > /proc/sys/vm/overcommit_memory    # as in the x86 L1: guest RAM is MAP_NORESERVE
while read -r m; do insmod "/lib/modules/$m" || echo "L1-INSMOD-FAILED $m"; done < /etc/modules.load
ifconfig lo 127.0.0.1 up
if [ -e /sys/class/net/eth0 ]; then
    ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && echo "L1-NET eth0 10.0.2.15"
fi
echo "L1-READY uptime=$(cut -d' ' -f1 /proc/uptime) kvm=$([ -e /dev/kvm ] && echo yes || echo no)"
dmesg | grep -i -E 'kvm \[|VHE|hyp mode' | head -n 4
cd /t
sh $(cat /t/.cmd)
status=$?
echo "L1-DONE status=$status uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
INIT
}

initramfs() {
    local root out=$a64/l1-initramfs.cpio.gz
    root=$(mktemp -d "$a64/l1-root.XXXXXX")
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,t}
    cp "$a64/root/bin/busybox" "$root/bin/busybox"
    for applet in sh mount cat cut grep head tail sed tr dmesg poweroff echo ls sleep uname dd md5sum timeout od date mkdir \
        insmod ifconfig losetup kill seq wc umount; do
        ln -s busybox "$root/bin/$applet"
    done
    local moddir
    moddir=$(ls -d "$a64"/root/lib/modules/* | head -n1)
    "$top/guest/resolve-modules.sh" --install "$root" "$moddir" loop virtio_mmio virtio_net \
        crc32c_generic ext4 > /dev/null
    init_script > "$root/init"
    chmod 755 "$root/init"
    cp -a "$dir/." "$root/t/"
    echo "$*" > "$root/t/.cmd"
    (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
        gzip -1 > "$out"
    rm -rf "$root"
}

fetch
[ "$fetch_only" = 1 ] && exit 0
# one arm64 L1 at a time on this machine (two emulated L1s on 2 cores stall each other, and
# they share BUILD/arm64's initramfs and console log); the wait is not counted in L1_TIMEOUT
exec 9> "${TMPDIR:-/tmp}/kvmini-arm64-l1.lock"
flock 9
initramfs "$@"
kernel=$(ls "$a64"/root/boot/vmlinuz-* | head -n1)
consolelog=$a64/l1-console.log
log "booting $(basename "$kernel") (timeout ${L1_TIMEOUT:-300} s)"
rc=0
net=(-nic none)
# shellcheck disable=SC2054 # commas in QEMU option values
[ -n "${L1_GDB_PORT:-}" ] && net=(-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$L1_GDB_PORT-10.0.2.15:1234"
    -device virtio-net-device,netdev=n0)
timeout "${L1_TIMEOUT:-300}" qemu-system-aarch64 -M "virt,virtualization=on,gic-version=${L1_GIC:-3}" \
    -cpu max,pauth-impdef=on -accel tcg,thread=multi -smp 2 -m 3072 -nographic -no-reboot "${net[@]}" \
    -kernel "$kernel" -initrd "$a64/l1-initramfs.cpio.gz" \
    -append "console=ttyAMA0 panic=-1 quiet" < /dev/null > "$consolelog" 2>&1 || rc=$?
tr -d '\r' < "$consolelog"
[ "$rc" = 124 ] && { log "the L1 did not finish in ${L1_TIMEOUT:-300} s"; exit 124; }
status=$(tr -d '\r' < "$consolelog" | sed -n 's/^L1-DONE status=\([0-9]*\).*/\1/p' | tail -n1)
[ -n "$status" ] || { log "the L1 ended without a status (qemu exit $rc)"; exit 125; }
exit "$status"
