#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the default guest (stock Debian kernel + busybox initramfs) into OUTDIR; cached.
#
# Usage: guest/build.sh OUTDIR        (make guest runs: GUEST_ARCH=$(ARCH) guest/build.sh BUILD/guest)
#   GUEST_ARCH=x86 (default) or arm64: the guest's architecture. arm64 takes Debian's arm64
#   kernel (linux-image-arm64) and busybox-static:arm64; on a host of another architecture
#   they are downloaded as foreign packages (dpkg --add-architecture arm64 the first time).
#   GUEST_KERNEL=linux-image-cloud-amd64 guest/build.sh build/guest-cloud builds the same guest
#   around Debian's cloud kernel (the kernel of the metapackage GUEST_KERNEL, default
#   linux-image-amd64: the stock kernel; linux-image-arm64 for arm64)
#
# Outputs:
#   OUTDIR/kernel-pkg/          the unpacked Debian kernel package (also used by tests/nested)
#   OUTDIR/bzImage (x86) or OUTDIR/Image (arm64: Debian's vmlinuz is a plain arm64 Image),
#   OUTDIR/config               that package's kernel and its config
#   OUTDIR/initramfs.cpio.gz    busybox-static + the virtio/virtio-mmio/virtio-pci/virtio-blk/ext4,
#                               virtio-balloon, virtio-net, virtio-rng and virtio-vsock modules (x86: and
#                               pvpanic; Debian's arm64 kernel has none)
#   OUTDIR/kernel-version       one line: the kernel package and version used
#   OUTDIR/busybox-pkg/         (a foreign architecture only) the unpacked busybox-static:ARCH
# Each step is skipped when its outputs exist and are newer than this script (and its inputs).
#
# The guest's /init (see make_init below) boots the system on root=DEV when the command line
# names one (switch_root to its /sbin/init, its file system mounted ro, or rw with "rw").
# Otherwise it prints KVMINI-READY, KVMINI-CPUS=<n>,
# KVMINI-MEM-KB=<MemTotal kB>, mounts /dev/vda on /mnt if it holds ext4, runs the command
# given as kvmini.run=<cmd> on the kernel command line ('+' stands for a space, so
# kvmini.run=ls+-l+/mnt runs "ls -l /mnt"; a literal '+' cannot be written), then gives a
# shell on the console. Leaving that shell powers the guest off; typing poweroff / reboot /
# halt in it powers off / reboots / powers off. On x86 it first writes kvmini's boot-timer
# port (arm64 has no such port: its PCI host has no I/O window for /dev/port to reach).
# kvmini's keys act at once, after a sync and unmounting /mnt: the power button
# (vm.power-button, SIGTERM; KEY_POWER from ACPI's PNP0C0C or arm64's gpio-keys) powers off,
# the reboot key (vm.reboot: Ctrl-Alt-Del on x86, KEY_RESTART on arm64) reboots
# (/bin/kvmini-keys and /bin/kvmini-cad). With a network card (kvmini --net) it brings eth0
# up: kvmini.ip=ADDR/PREFIX[,GATEWAY] on the command line, or DHCP in the background, and
# prints KVMINI-NET eth0 ADDR/PREFIX (/bin/kvmini-net); nc, ping, wget and sha256sum are there.
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
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

# ---- 0. the guest's architecture (GUEST_ARCH, from make's ARCH) ----
arch=${GUEST_ARCH:-x86}
case $arch in
x86)
    debarch=amd64 kimage=bzImage
    guest_mods=(virtio_ring virtio virtio_mmio virtio_pci virtio_blk crc32c_generic crc32c-intel crc16 mbcache
        jbd2 ext4 pvpanic pvpanic-mmio button evdev virtio_balloon virtio_net virtio-rng
        vmw_vsock_virtio_transport)
    show_opts=(PVPANIC PVPANIC_MMIO VIRTIO VIRTIO_MMIO VIRTIO_BLK EXT4_FS ACPI_BUTTON INPUT_EVDEV
        VIRTIO_BALLOON VIRTIO_NET HW_RANDOM_VIRTIO) ;;
arm64)
    debarch=arm64 kimage=Image
    guest_mods=(virtio_ring virtio virtio_mmio virtio_pci virtio_blk crc32c_generic crc16 mbcache jbd2 ext4
        gpio_keys evdev virtio_balloon virtio_net virtio-rng vmw_vsock_virtio_transport)
    show_opts=(VIRTIO VIRTIO_MMIO VIRTIO_PCI VIRTIO_BLK EXT4_FS KEYBOARD_GPIO INPUT_EVDEV VIRTIO_NET
        HW_RANDOM_VIRTIO) ;;
*) die "GUEST_ARCH '$arch': x86 or arm64" ;;
esac
# another architecture's packages are NAME:ARCH, once dpkg knows that architecture
qual=""
if [ "$(dpkg --print-architecture)" != "$debarch" ]; then
    qual=":$debarch"
    if ! dpkg --print-foreign-architectures | grep -qx "$debarch"; then
        log "dpkg --add-architecture $debarch; apt-get update"
        { $SUDO dpkg --add-architecture "$debarch" && $SUDO apt-get update -q >/dev/null; } ||
            die "dpkg --add-architecture $debarch failed"
    fi
fi
if [ -z "$qual" ]; then
    busybox=/bin/busybox
    if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is not a static busybox (install busybox-static: make deps)"
    fi
    busybox_input=$busybox
fi

# download PKG...: apt-get download into OUTDIR/dl (emptied first)
download() {
    mkdir -p "$out/dl"
    rm -f "$out"/dl/*.deb
    log "download $*"
    # apt-get download writes into the current directory; -q keeps it to errors
    (cd "$out/dl" && apt-get download -q "$@" 2>"$out/dl/apt.log") ||
        { cat "$out/dl/apt.log" >&2; die "apt-get download $* failed"; }
}

# ---- 1. the kernel package that GUEST_KERNEL (linux-image-amd64 / -arm64) depends on ----
meta=${GUEST_KERNEL:-linux-image-$debarch}
case $meta in linux-image-*) ;; *) die "GUEST_KERNEL '$meta': a linux-image-* metapackage" ;; esac
resolve_pkg() {
    apt-cache depends "$meta$qual" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }'
}
deb_stamp="$out/kernel-pkg/.unpacked"
if ! fresh "$deb_stamp" || [ "$(cut -d' ' -f3 "$deb_stamp")" != "$meta" ]; then
    pkg=$(resolve_pkg || true)
    if [ -z "$pkg" ]; then
        log "apt-get update ($meta$qual not known to apt-cache)"
        $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
        pkg=$(resolve_pkg || true)
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package of $meta$qual"
    download "$pkg$qual"
    deb=$(find "$out/dl" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
    [ -n "$deb" ] || die "apt-get download $pkg$qual produced no .deb"
    rm -rf "$out/kernel-pkg"
    log "unpack $(basename "$deb")"
    dpkg -x "$deb" "$out/kernel-pkg"
    ver=$(dpkg-deb -f "$deb" Version)
    echo "$pkg $ver $meta" > "$deb_stamp"
fi
kver=$(find "$out/kernel-pkg/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
[ -n "$kver" ] || die "no lib/modules in $out/kernel-pkg"
moddir="$out/kernel-pkg/lib/modules/$kver"

if ! fresh "$out/$kimage" "$deb_stamp" || ! fresh "$out/config" "$deb_stamp"; then
    cp "$out/kernel-pkg/boot/vmlinuz-$kver" "$out/$kimage"
    cp "$out/kernel-pkg/boot/config-$kver" "$out/config"
fi
if ! fresh "$out/kernel-version" "$deb_stamp"; then
    echo "kernel $kver from $(cat "$deb_stamp")" > "$out/kernel-version"
    log "$(cat "$out/kernel-version")"
fi

# ---- 2. a foreign architecture's busybox: busybox-static:ARCH, unpacked ----
if [ -n "$qual" ]; then
    bb_stamp="$out/busybox-pkg/.unpacked"
    if ! fresh "$bb_stamp"; then
        download "busybox-static$qual"
        deb=$(find "$out/dl" -maxdepth 1 -name "busybox-static_*_$debarch.deb" | head -n1)
        [ -n "$deb" ] || die "apt-get download busybox-static$qual produced no .deb"
        rm -rf "$out/busybox-pkg"
        dpkg -x "$deb" "$out/busybox-pkg"
        echo "busybox-static$qual $(dpkg-deb -f "$deb" Version)" > "$bb_stamp"
    fi
    busybox=$out/busybox-pkg/bin/busybox
    [ -f "$busybox" ] || die "busybox-static$qual has no bin/busybox"
    busybox_input=$bb_stamp
fi

# bb_names BUSYBOX: its applet names, from the binary's own table ("[", "[[", ...: NUL-separated,
# ending in an empty name), for a busybox of another architecture that cannot run here
bb_names() {
    local off names
    off=$(LC_ALL=C grep -m1 -obUaP '\x00\[\x00\[\[\x00' "$1" | head -n1 | cut -d: -f1 || true)
    [ -n "$off" ] || return 1
    # (the readers stop early: their SIGPIPE is no error)
    names=$(tail -c +"$((off + 2))" "$1" | head -c 65536 | tr '\0' '\n' | sed '/^$/q' || true)
    printf '%s\n' "$names" | sed '/^$/d' | LC_ALL=C sort
}
# applets: the full paths of the guest busybox's applets (busybox --list-full). A foreign one's
# are the host busybox's when both have the same applets (Debian builds busybox-static with
# one configuration for every architecture)
applets() {
    if [ -z "$qual" ]; then
        "$busybox" --list-full
        return
    fi
    local host=/bin/busybox names
    [ -x "$host" ] || die "$host not found: its --list-full places the applets (make deps)"
    names=$(bb_names "$busybox") || die "no applet table in $busybox"
    [ "$names" = "$("$host" --list | LC_ALL=C sort)" ] ||
        die "$busybox and $host have different applets ($(cat "$bb_stamp"); host: $("$host" 2>&1 | head -n1))"
    "$host" --list-full
}

# ---- 3. the initramfs ----
make_init() {
    init_head
    if [ "$arch" = x86 ]; then init_boot_timer; fi
    init_tail
}
init_head() {
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
# root=DEV (a distribution's root file system, e.g. root=/dev/vda): mount it (ro, or rw with
# "rw") and hand over to its init (init=, default /sbin/init), with this initramfs's drivers
root="" rootmode=ro rootinit=/sbin/init
for arg in $(cat /proc/cmdline); do
    case $arg in
    root=*) root=${arg#root=} ;;
    rw) rootmode=rw ;;
    init=*) rootinit=${arg#init=} ;;
    esac
done
if [ -n "$root" ]; then
    mkdir -p /newroot
    # (its init may be an absolute symlink, /sbin/init -> /lib/systemd/systemd, that only
    # resolves inside the new root)
    if mount -o "$rootmode" "$root" /newroot &&
        { [ -L "/newroot$rootinit" ] || [ -x "/newroot$rootinit" ]; }; then
        umount /dev/pts 2>/dev/null
        mount --move /dev /newroot/dev 2>/dev/null || umount /dev 2>/dev/null
        umount /proc /sys
        exec switch_root /newroot "$rootinit"
    fi
    echo "kvmini-init: cannot boot $root (mounted? $rootinit there?): staying in the initramfs"
    umount /newroot 2>/dev/null
fi
EOF
}
init_boot_timer() {
    cat <<'EOF'
# kvmini's boot-timer port 0x440 (1088): kvmini logs the time since launch (other VMMs ignore it)
printf '\173' | dd of=/dev/port bs=1 seek=1088 count=1 2>/dev/null
EOF
}
init_tail() {
    cat <<'EOF'
echo
echo KVMINI-READY
echo "KVMINI-CPUS=$(grep -c '^processor' /proc/cpuinfo)"
echo "KVMINI-MEM-KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
kvmini-net
if [ -b /dev/vda ]; then
    mount -t ext4 /dev/vda /mnt 2>/dev/null ||
        mount -t ext4 -o ro /dev/vda /mnt 2>/dev/null ||
        echo "kvmini-init: /dev/vda is not an ext4 file system; not mounted"
fi
# busybox poweroff/reboot/halt without -f signal PID 1 (USR2 / TERM / USR1); a trap runs
# once the current foreground command ends. The login shell's /etc/profile makes the
# typed commands act at once instead, and so do kvmini's keys (their own processes).
trap 'sync; poweroff -f' USR2 USR1
trap 'sync; reboot -f' TERM
kvmini-keys &
# not a child of this shell, whose background children ignore SIGINT: Ctrl-Alt-Del's signal
start-stop-daemon -S -b -x /bin/kvmini-cad
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

# /bin/kvmini-keys: the power and reboot keys of the input devices kvmini gives the guest
make_keys() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini guest: KEY_POWER powers off, KEY_RESTART reboots (after sync), from the input devices
# named "Power Button" (x86: ACPI PNP0C0C) and "gpio-keys" (arm64: kvmini's PL061 buttons).
buttons() {
    awk '/^N: Name=/ { want = ($0 ~ /"Power Button"|"gpio-keys"/) }
        want && /^H: Handlers=/ { for (i = 2; i <= NF; i++) { h = $i; sub(/^Handlers=/, "", h)
            if (h ~ /^event[0-9]+$/) print h } }' /proc/bus/input/devices
}
act() {
    echo "kvmini-keys: $1"
    sync
    umount /mnt 2>/dev/null || mount -o remount,ro /mnt 2>/dev/null
    "$2" -f
}
# one struct input_event (24 bytes on a 64-bit kernel) at a time: type, code, value
watch() {
    exec 3< "/dev/input/$1" || return 1
    while :; do
        # shellcheck disable=SC2046 # three numbers
        set -- $(dd bs=24 count=1 <&3 2>/dev/null | od -An -tu2 -j16 -N6)
        [ $# = 3 ] || return 1
        [ "$1" = 1 ] && [ "$3" = 1 ] || continue    # EV_KEY, pressed
        case $2 in
        116) act "power button: powering off" poweroff ;;
        408) act "reboot key: rebooting" reboot ;;
        esac
    done
}
for dev in $(buttons); do watch "$dev" & done
wait
EOF
}

# /bin/kvmini-net: eth0 (kvmini --net) up, with kvmini.ip= from the command line or DHCP
make_net() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini guest: lo and eth0 up. kvmini.ip=ADDR/PREFIX[,GATEWAY] sets eth0's address (and the
# default route); kvmini.ip=off leaves it bare; otherwise DHCP in the background (udhcpc).
# Prints KVMINI-NET eth0 ADDR/PREFIX once eth0 has an address.
ip link set lo up
[ -e /sys/class/net/eth0 ] || exit 0
ip link set eth0 up
spec=""
for arg in $(cat /proc/cmdline); do
    case $arg in kvmini.ip=*) spec=${arg#kvmini.ip=} ;; esac
done
case $spec in
off) exit 0 ;;
"") exec udhcpc -b -i eth0 -s /bin/kvmini-dhcp -t 3 -T 2 -A 5 >/dev/null 2>&1 ;;
esac
addr=${spec%%,*} gw=""
case $spec in *,*) gw=${spec#*,} ;; esac
if ! ip addr add "$addr" dev eth0; then
    echo "kvmini-net: kvmini.ip=$spec: not ADDR/PREFIX[,GATEWAY]"
    exit 1
fi
[ -z "$gw" ] || ip route add default via "$gw" || echo "kvmini-net: gateway $gw refused"
echo "KVMINI-NET eth0 $addr"
EOF
}

# /bin/kvmini-dhcp: udhcpc's script (busybox's applet calls it with the lease in its environment)
make_dhcp() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini guest: udhcpc's lease applied to $interface; prints KVMINI-NET on the console.
case $1 in
bound|renew)
    prefix=$(ipcalc -p "$ip" "${subnet:-255.255.255.0}" | sed 's/PREFIX=//')
    ip addr flush dev "$interface"
    ip addr add "$ip/$prefix" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "KVMINI-NET $interface $ip/$prefix" > /dev/console
    ;;
deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
}

# /bin/kvmini-cad: Ctrl-Alt-Del (x86's reboot key) reboots cleanly: the kernel signals this
# process (kernel.cad_pid) instead of restarting at once
make_cad() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini guest: Ctrl-Alt-Del reboots after a sync (kernel.ctrl-alt-del=0 signals cad_pid).
exec </dev/null >/dev/console 2>&1
trap 'echo "kvmini-cad: Ctrl-Alt-Del: rebooting"; sync; umount /mnt 2>/dev/null; reboot -f' INT
echo $$ > /proc/sys/kernel/cad_pid && echo 0 > /proc/sys/kernel/ctrl-alt-del || exit 1
while :; do
    sleep 3600 &
    wait $!
done
EOF
}

initrd="$out/initramfs.cpio.gz"
if ! fresh "$initrd" "$deb_stamp" "$here/resolve-modules.sh" "$busybox_input"; then
    cfg="$out/config"
    for opt in "${show_opts[@]}"; do
        val=$(sed -n "s/^CONFIG_$opt=//p" "$cfg")
        log "CONFIG_$opt=${val:-n}"
    done
    grep -q '^CONFIG_VIRTIO_MMIO=[ym]' "$cfg" || die "kernel has no CONFIG_VIRTIO_MMIO"
    root="$out/initramfs.root"
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,mnt,root,tmp,lib/modules}
    cp "$busybox" "$root/bin/busybox"
    # the links "busybox --install -s" would make, but pointing at /bin/busybox in the guest
    applet_list=$(applets) || exit 1
    for applet in $applet_list; do
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
    make_keys > "$root/bin/kvmini-keys"
    make_cad > "$root/bin/kvmini-cad"
    make_net > "$root/bin/kvmini-net"
    make_dhcp > "$root/bin/kvmini-dhcp"
    chmod 755 "$root/bin/kvmini-keys" "$root/bin/kvmini-cad" "$root/bin/kvmini-net" "$root/bin/kvmini-dhcp"
    echo "$kver" > "$root/etc/kernel-version"
    # /dev/console in the archive lets the kernel give init a console before devtmpfs exists
    if [ "$(id -u)" = 0 ]; then mknod -m 600 "$root/dev/console" c 5 1; fi
    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet -R 0:0) | gzip -9 > "$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    log "initramfs $(du -k "$initrd" | cut -f1) KiB, modules: $(tr '\n' ' ' < "$root/etc/modules.load" |
        sed 's#kernel/[^ ]*/##g')"
fi
