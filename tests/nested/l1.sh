#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Nested L1 harness: boots a Debian kernel under QEMU TCG with nested SVM (real /dev/kvm) and
# runs one host script inside it (docs/nested.md: how it works, what it costs, its failure modes).
#
# As a command:
#   tests/nested/l1.sh build BUILD           build (cached) BUILD/nested/l1-initramfs.cpio.gz
#   tests/nested/l1.sh run BUILD SCRIPT [ARG...]
#       boot L1 once, run "bash SCRIPT ARG..." inside it, power L1 off; exit with the
#       script's status (124 if the L1 run timed out, 125 if L1 ended without a status).
# As a library: source it and call l1_build BUILD / l1_run BUILD SCRIPT [ARG...].
#
# Inside L1 the host's / is mounted read-only over 9p and the script runs chrooted into it, so
# host paths (BUILD/kvmini, qemu, bash...) work unchanged; /tmp is an L1 tmpfs; /dev, /proc,
# /sys, /dev/pts, /dev/shm are L1's own; vm.overcommit_memory=1. The writable directory
# $L1_RESULTS (default BUILD/nested/results-<script name>, emptied per run, so runs of
# different scripts can share a BUILD) is mounted at the same path, so files the script
# writes there appear on the host. The script's environment: L1=1,
# RESULTS=<that dir>, PATH, HOME=/tmp, TERM, L1_ARGS.
#
# Environment knobs:
#   L1_TIMEOUT=600      hard limit in seconds on the whole QEMU run
#   L1_INTERACTIVE=1    the terminal is L1's console (no filtering, Ctrl-A goes to the guest);
#                       the script sees L1_INTERACTIVE=1 and a controlling terminal
#   L1_LOG=FILE         also write the (escape-stripped) console log there
#   L1_QUIET=1          don't copy the console to stdout (still logged to L1_LOG)
#   L1_MEM=4096 L1_SMP=2
#   L1_RESULTS=DIR      the writable results directory (default BUILD/nested/results-<script>)
#   L1_KEEP_RESULTS=1   don't empty it first (a retried run resumes from what is there)
#   L1_STALL=SECONDS    kill the run (status 124) when L1's console is silent that long, its
#                       kernel's soft-lockup/RCU-stall reports not counting (default:
#                       off; for scripts that print progress, as run-tests.sh does)
#   L1_SHARED=DIR       a second writable directory, mounted at the same path (the work queue
#                       that several L1s running the boot cases share; run-tests.sh)
#   L1_LOCK=FILE        the lock that lets one L1 run at a time (default /tmp/kvmini-l1.lock;
#                       run-tests.sh's second lane of boot cases takes a lock of its own)
# Only one L1 runs at a time per lock (flock L1_LOCK); others wait for it.
set -euo pipefail

L1_DIR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L1_TOP=$(cd "$L1_DIR_HERE/../.." && pwd)

# modules loaded in L1, in this order (their dependencies come first; resolve-modules.sh)
L1_MODULES=(irqbypass kvm ccp kvm-amd virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
    virtio_pci 9pnet 9pnet_virtio netfs fscache 9p loop brd virtio_blk crc32c_generic ext4 dm-mod
    tun tap vhost_iotlb vhost vhost_net vsock vmw_vsock_virtio_transport_common vhost_vsock)

l1_log() { echo "l1: $*" >&2; }

# strip terminal escapes and CRs from a console stream (SeaBIOS leaves ESC c, ESC [?7l, ESC [2J)
l1_strip() {
    sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1b[()][0-9A-Za-z]//g' -e 's/\x1b[a-zA-Z=>]//g' \
        -e 's/\r//g' -e "/TCG doesn't support requested feature/d"
}

l1_init_script() {
    cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kvmini nested-test L1 init: kvm + 9p modules, host / over 9p, chroot, run the script, power off.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# what udev would add: bash process substitution needs /dev/fd
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
exec </dev/console >/dev/console 2>&1
while read -r m; do
    insmod "/lib/modules/$m" || echo "l1-init: insmod $m failed"
done < /etc/modules.load
script= results= interactive=0 args= repo= shared=
for a in $(cat /proc/cmdline); do
    case $a in
    l1.script=*) script=${a#l1.script=} ;;
    l1.results=*) results=${a#l1.results=} ;;
    l1.interactive=*) interactive=${a#l1.interactive=} ;;
    l1.args=*) args=${a#l1.args=} ;;
    l1.term=*) term=${a#l1.term=} ;;
    l1.repo=*) repo=${a#l1.repo=} ;;
    l1.shared=*) shared=${a#l1.shared=} ;;
    esac
done
o=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /host
if ! mount -t 9p -o "$o,ro" host /host; then
    echo "l1-init: cannot mount the host root over 9p"; poweroff -f
fi
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount --bind /dev /host/dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t proc proc /host/proc
mount --bind /sys /host/sys
mount -t tmpfs tmpfs /host/run
# the repository gets its own export: it may live under a path L1 covers (a clone in /tmp)
mkdir -p "/host$repo" 2>/dev/null
mount -t 9p -o "$o,ro" repo "/host$repo" || echo "l1-init: cannot mount the repository export"
mount -t 9p -o "$o" results "/host$results" || echo "l1-init: cannot mount the results export"
if [ -n "$shared" ]; then
    mount -t 9p -o "$o" shared "/host$shared" || echo "l1-init: cannot mount the shared export"
fi
echo 1 > /proc/sys/vm/overcommit_memory
[ -e /dev/kvm ] || echo "l1-init: no /dev/kvm in L1"
echo
echo "L1-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
# l1.args: the script's arguments, '+'-separated (paths only, no spaces)
set -- $(echo "$args" | tr + ' ')
env="L1=1 RESULTS=$results L1_INTERACTIVE=$interactive HOME=/tmp TERM=${term:-linux}"
env="$env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if [ "$interactive" = 1 ]; then
    setsid cttyhack chroot /host /usr/bin/env -i $env /bin/bash "$script" "$@"
else
    chroot /host /usr/bin/env -i $env /bin/bash "$script" "$@" </dev/null
fi
status=$?
echo "$status" > "/host$results/l1-status"
sync
echo "L1-DONE status=$status uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
}

# l1_build BUILD: the L1 initramfs from the kernel package guest/build.sh unpacked
l1_build() {
    local build=$1 gdir ndir kver moddir out root
    gdir="$build/guest"
    ndir="$build/nested"
    if [ ! -f "$gdir/kernel-pkg/.unpacked" ]; then
        "$L1_TOP/guest/build.sh" "$gdir" >&2
    fi
    kver=$(find "$gdir/kernel-pkg/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
    moddir="$gdir/kernel-pkg/lib/modules/$kver"
    out="$ndir/l1-initramfs.cpio.gz"
    mkdir -p "$ndir"
    # rebuilt only when what goes into it changes (not on every edit of this file)
    local stamp
    stamp=$({ l1_init_script; echo "${L1_MODULES[*]}"; cat "$gdir/kernel-pkg/.unpacked" \
        "$L1_TOP/guest/resolve-modules.sh"; } | sha256sum | cut -d' ' -f1)
    if [ -f "$out" ] && [ -f "$ndir/l1-vmlinuz" ] && [ "$(cat "$ndir/l1-initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    l1_log "building $out (kernel $kver)"
    root=$(mktemp -d "$ndir/l1-root.XXXXXX")
    mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,host,tmp,lib/modules}
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    "$L1_TOP/guest/resolve-modules.sh" --install "$root" "$moddir" "${L1_MODULES[@]}"
    l1_init_script > "$root/init"
    chmod 755 "$root/init"
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
    (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
        gzip -6 > "$root.gz"
    cp "$gdir/kernel-pkg/boot/vmlinuz-$kver" "$root.vmlinuz"
    mv "$root.vmlinuz" "$ndir/l1-vmlinuz"
    mv "$root.gz" "$out"
    echo "$stamp" > "$ndir/l1-initramfs.stamp"
    rm -rf "$root"
}

# l1_watch LOG SECONDS PID MARK: kills PID (and its process group's QEMU) and creates MARK when
# LOG has not grown for SECONDS
l1_watch() {
    local log=$1 limit=$2 pid=$3 mark=$4 size last=-1 quiet=0
    # the kernel's own lockup and stall reports are not progress: a wedged L1 prints one every
    # ~16 s ("watchdog: BUG: soft lockup - CPU#0 stuck for 440s!") and would never go quiet
    local wedged='watchdog: BUG: soft lockup|rcu: INFO: rcu_|rcu_.*(self-)?detected stall|hung_task|blocked for more than'
    while kill -0 "$pid" 2>/dev/null; do
        sleep 5
        size=$(grep -a -c -v -E "$wedged" "$log" 2>/dev/null) || true
        if [ "$size" != "$last" ]; then
            last=$size
            quiet=0
            continue
        fi
        quiet=$((quiet + 5))
        if [ "$quiet" -ge "$limit" ]; then
            : > "$mark"
            pkill -TERM -P "$pid" 2>/dev/null || true
            kill -TERM "$pid" 2>/dev/null || true
            return 0
        fi
    done
}

# l1_diagnose LOG: after an L1 that ended without a status, show what its kernel said went wrong
l1_diagnose() {
    local lines
    lines=$(grep -a -E 'Kernel panic|BUG:|Oops|general protection|watchdog: |rcu: INFO|rcu_.*stall|RIP: 0010|Call Trace|invalid opcode' "$1" |
        head -n 12 || true)
    [ -z "$lines" ] || { l1_log "what L1's kernel reported:"; printf '%s\n' "$lines" | sed 's/^/l1:   /' >&2; }
}

# l1_run BUILD SCRIPT [ARG...]: see the header. Returns the script's exit status.
l1_run() {
    local build script results rc status timeout_s interactive arg args=""
    build=$(cd "$1" && pwd)
    script=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    shift 2
    for arg in "$@"; do
        case $arg in *[[:space:]+]*) l1_log "argument with a space or +: $arg"; return 2 ;; esac
        args+="${args:++}$arg"
    done
    l1_build "$build"
    # one L1 at a time on this machine (2 cores: two TCG L1s slow each other into stalls)
    local lockfd
    exec {lockfd}> "${L1_LOCK:-/tmp/kvmini-l1.lock}"
    if ! flock -n "$lockfd"; then
        l1_log "waiting for another nested L1 run on this machine to finish"
        flock "$lockfd"
    fi
    results=${L1_RESULTS:-$build/nested/results-$(basename "$script" .sh)}
    export L1_RESULTS=$results
    [ "${L1_KEEP_RESULTS:-0}" = 1 ] || rm -rf "$results"
    mkdir -p "$results"
    rm -f "$results/l1-status"
    interactive=${L1_INTERACTIVE:-0}
    timeout_s=${L1_TIMEOUT:-600}
    local append="console=ttyS0 panic=-1 quiet loglevel=3 l1.script=$script l1.results=$results"
    append+=" l1.repo=$L1_TOP"
    append+=" l1.interactive=$interactive l1.term=${TERM:-linux}"
    [ -z "$args" ] || append+=" l1.args=$args"
    [ -z "${L1_SHARED:-}" ] || append+=" l1.shared=$L1_SHARED"
    # shellcheck disable=SC2054 # commas are QEMU's
    local qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu EPYC,+svm,+npt
        -smp "${L1_SMP:-2}" -m "${L1_MEM:-4096}"
        -kernel "$build/nested/l1-vmlinuz" -initrd "$build/nested/l1-initramfs.cpio.gz"
        -append "$append" -display none -no-reboot -nodefaults -no-user-config
        -chardev stdio,id=con,mux=off,signal=off -serial chardev:con
        -virtfs "local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap"
        -virtfs "local,path=$L1_TOP,mount_tag=repo,security_model=passthrough,readonly=on,multidevs=remap"
        -virtfs "local,path=$results,mount_tag=results,security_model=passthrough,multidevs=remap")
    [ -z "${L1_SHARED:-}" ] ||
        qemu+=(-virtfs "local,path=$L1_SHARED,mount_tag=shared,security_model=passthrough,multidevs=remap")
    local t0=$SECONDS
    if [ "$interactive" = 1 ]; then
        # the terminal talks to L1's console directly; only SeaBIOS's screen-reset junk
        # before L1's init is dropped so the user's terminal keeps its state
        set +e
        timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" 2> >(grep -v "TCG doesn't support" >&2) |
            perl -e '$| = 1; my $on = 0; my $b;
                while (sysread(STDIN, $b, 4096)) {
                    if (!$on) { $b =~ s/\e(c|\[\?7l|\[2J|\[[0-9;]*H)//g; $b =~ s/Booting from ROM\.*//g;
                                $on = 1 if $b =~ /\n/; }
                    print $b; }'
        rc=${PIPESTATUS[0]}
        set -e
    else
        local log=${L1_LOG:-} qpid wpid stall=${L1_STALL:-0} tmplog=""
        if [ -z "$log" ]; then
            tmplog=$(mktemp /tmp/kvmini-l1-log.XXXXXX)
            log=$tmplog
        fi
        : > "$log"
        # timeout runs QEMU in its own process group: kill it if this script is stopped
        if [ "${L1_QUIET:-0}" = 1 ]; then
            timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null > >(l1_strip > "$log") 2>&1 &
        else
            timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null > >(l1_strip | tee "$log") 2>&1 &
        fi
        qpid=$!
        # a frozen L1 prints nothing: end it well before the hard limit
        wpid=""
        if [ "$stall" -gt 0 ]; then
            l1_watch "$log" "$stall" "$qpid" "$results/l1-stalled" &
            wpid=$!
        fi
        trap 'kill "$qpid" $wpid 2>/dev/null; exit 130' INT TERM HUP
        rc=0
        wait "$qpid" || rc=$?
        if [ -n "$wpid" ]; then
            kill "$wpid" 2>/dev/null || true
            wait "$wpid" 2>/dev/null || true
        fi
        trap - INT TERM HUP
        sleep 0.2 # let the console filter drain
        [ -s "$results/l1-status" ] || l1_diagnose "$log"
        [ -z "$tmplog" ] || rm -f "$tmplog"
    fi
    exec {lockfd}>&-
    if [ -s "$results/l1-status" ]; then
        status=$(cat "$results/l1-status")
        l1_log "L1 run finished in $((SECONDS - t0)) s, script status $status"
        return "$status"
    fi
    if [ -e "$results/l1-stalled" ]; then
        l1_log "error: L1 printed nothing for ${L1_STALL} s (frozen); QEMU killed after $((SECONDS - t0)) s"
        return 124
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        l1_log "error: L1 run timed out after ${timeout_s} s (QEMU killed)"
        return 124
    fi
    l1_log "error: L1 ended (QEMU status $rc) without a script status after $((SECONDS - t0)) s"
    return 125
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    build) [ $# -eq 2 ] || { echo "usage: $0 build BUILD" >&2; exit 2; }
        l1_build "$2" ;;
    run) [ $# -ge 3 ] || { echo "usage: $0 run BUILD SCRIPT [ARG...]" >&2; exit 2; }
        shift
        l1_run "$@" ;;
    *) echo "usage: $0 build BUILD | run BUILD SCRIPT [ARG...]" >&2; exit 2 ;;
    esac
fi
