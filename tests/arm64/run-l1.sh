# SPDX-License-Identifier: Apache-2.0
# Runs inside the arm64 L1 (busybox sh, in /t): the unit tests built for arm64, the KVM smoke test, then kvmini booting the stock arm64 kernel with 1 and 2 vCPUs, a reboot, a panic, the debug tools and disks on both transports; PASS/FAIL lines.
# shellcheck shell=sh
. ./l1-lib.sh
[ -e /dev/kvm ] && echo "PASS l1-has-dev-kvm" || echo "FAIL l1-has-dev-kvm"
# the unit tests, built for arm64, on an arm64 kernel (their summary line as arm64-unit; the
# skips are this L1's: tests/expected-skips says which and why)
# (/var/tmp: an ext4 image the build machine made, on a loop device, for the O_DIRECT cases)
mkdir -p /var/tmp
vdev=$(losetup -f) && losetup "$vdev" /t/vartmp.ext4 && mount -t ext4 "$vdev" /var/tmp ||
    echo "FAIL l1-var-tmp-ext4: no ext4 /var/tmp for the unit tests"
(cd /tmp && CK_TIMEOUT_MULTIPLIER=10 /t/unit-tests > /tmp/unit.log 2>&1)
umount /var/tmp && losetup -d "$vdev"
grep -E "^SKIPPED |:[FE]:" /tmp/unit.log
grep -q "^unit: " /tmp/unit.log && sed -n 's/^unit: /arm64-unit: /p' /tmp/unit.log ||
    { echo "FAIL arm64-unit: no summary line"; tail -n 5 /tmp/unit.log | sed 's/^/    /'; }
./kvm-smoke smoke.bin
[ "$(./kvmini host --kind)" = hardware ] && echo "PASS kvmini-host-says-hardware" ||
    echo "FAIL kvmini-host-says-hardware: $(./kvmini host 2>&1)"

boot boot-1cpu 0 "kvmini: guest powered off"
grep -q "L2-UP" /tmp/boot-1cpu.log && echo "PASS boot-1cpu-reached-init" || echo "FAIL boot-1cpu-reached-init"
# the guest's wall clock comes from kvmini's PL031: within a minute of the L1's
t=$(sed -n 's/^L2-TIME \([0-9]*\).*/\1/p' /tmp/boot-1cpu.log)
now=$(date +%s)
[ -n "$t" ] && [ "$t" -gt $((now - 60)) ] && [ "$t" -le "$now" ] && echo "PASS guest-clock-from-pl031" ||
    echo "FAIL guest-clock-from-pl031: guest $t, L1 $now"
boot boot-2cpu 0 "L2-CPUS 2" --cpus 2
boot reboot 0 "kvmini: guest rebooted" --append l2.reboot
boot panic-ends-kvmini 0 "kvmini: guest rebooted" --append l2.panic
# --dump-dtb: the tree the guest got, as a flattened device tree (magic d00dfeed)
boot dump-dtb 0 "kvmini: guest powered off" --dump-dtb /tmp/guest.dtb
[ "$(dd if=/tmp/guest.dtb bs=4 count=1 2>/dev/null | od -An -tx1 | tr -d ' ')" = d00dfeed ] &&
    echo "PASS dump-dtb-is-a-dtb" || echo "FAIL dump-dtb-is-a-dtb"

# the debug tools on arm64: exit statistics (with KVM's own counters) and a trace it summarises
boot exit-stats 0 "KVM in-kernel: exits" --exit-stats
grep -q "mmio 0x9000000 *serial" /tmp/exit-stats.log && echo "PASS exit-stats-names-the-uart" ||
    echo "FAIL exit-stats-names-the-uart"
boot trace-exits 0 "kvmini: guest powered off" --trace-exits /tmp/t.trace
./kvmini exits /tmp/t.trace > /tmp/exits.txt 2>&1 && grep -q "KVM_EXIT_MMIO" /tmp/exits.txt &&
    echo "PASS kvmini-exits-summary" || { echo "FAIL kvmini-exits-summary"; head -n 5 /tmp/exits.txt; }

# a disk on each transport (and virtio-pci's INTx, with pci=nomsi), from a file and a loop device
disk disk-mmio file --virtio-transport mmio
disk disk-pci file
disk disk-loop-mmio loop --virtio-transport mmio
disk disk-loop-pci loop
# MSI-X through the ITS, and without MSI (pci=nomsi) the INTx line the interrupt-map names
irq=$(grep "L2-IRQ" /tmp/disk-pci.log)
case $irq in *virtio*MSI* | *MSI*virtio*) true ;; *) false ;; esac && echo "PASS disk-pci-uses-msix" ||
    { echo "FAIL disk-pci-uses-msix"; grep "L2-IRQ" /tmp/disk-pci.log | sed 's/^/    /'; }
disk disk-pci-intx file --append pci=nomsi
irq=$(grep "L2-IRQ" /tmp/disk-pci-intx.log)
case $irq in *virtio*MSI* | *MSI*virtio*) false ;; *virtio*) true ;; *) false ;; esac &&
    echo "PASS disk-pci-intx-uses-intx" ||
    { echo "FAIL disk-pci-intx-uses-intx"; grep "L2-IRQ" /tmp/disk-pci-intx.log | sed 's/^/    /'; }

# the guest's own boot log: no device-tree complaint, with the PCI host (MSI-X, INTx) and 2 vCPUs
dt_clean guest-log-has-no-dt-warnings /tmp/boot-1cpu.log /tmp/boot-2cpu.log /tmp/disk-pci.log \
    /tmp/disk-pci-intx.log /tmp/disk-mmio.log

# for the record: when each guest reached its init (seconds of its own uptime)
for f in boot-1cpu boot-2cpu; do echo "$f: $(grep -h -E '^L2-(UP|CPUS)' /tmp/$f.log | tr '\n' ' ')"; done

# the gdb stub, driven by gdb-multiarch on the x86 host (tests/arm64/gdb-host.sh) through the
# L1's forwarded port: a payload under --gdb-wait (MMU off), then the stock kernel with its
# MMU on (a breakpoint on sync's syscall, found in the guest's /proc/kallsyms)
if [ -e gdb-nonce ]; then
    nonce=$(cat gdb-nonce)
    echo "GDB-READY $nonce payload"
    timeout 180 ./kvmini run -q --kernel gdb-payload.bin --memory 64M --gdb tcp:0.0.0.0:1234 \
        --gdb-wait < /dev/null > /tmp/gdb-payload.log 2>&1
    st=$?
    [ "$st" = 0 ] && echo "PASS gdb-payload-kvmini-exit-0" ||
        { echo "FAIL gdb-payload-kvmini-exit-0: status $st"; tail -n 5 /tmp/gdb-payload.log | sed 's/^/    /'; }
    timeout 180 ./kvmini run --kernel Image --initrd l2.cpio.gz --memory 256M --append "nokaslr l2.gdbloop" \
        --gdb tcp:0.0.0.0:1234 < /dev/null > /tmp/gdb-kernel.log 2>&1 &
    pid=$!
    wait_for "^L2-KSYM [0-9a-f]" /tmp/gdb-kernel.log $pid
    echo "GDB-READY $nonce kernel $(sed -n 's/^L2-KSYM \([0-9a-f]*\).*/\1/p' /tmp/gdb-kernel.log)"
    reap $pid 180
    st=$?
    [ "$st" = 0 ] && grep -q "L2-GDBLOOP-DONE" /tmp/gdb-kernel.log && echo "PASS gdb-kernel-runs-on-to-poweroff" ||
        { echo "FAIL gdb-kernel-runs-on-to-poweroff: status $st"; tail -n 8 /tmp/gdb-kernel.log | sed 's/^/    /'; }
fi

# the control socket on arm64 (the api thread's seccomp list with arm64's syscalls): a guest
# that stays up ~20 s (l2.gdbloop), paused, resumed, its counters read, shut down through it
./kvmini run --kernel Image --initrd l2.cpio.gz --memory 256M --append l2.gdbloop \
    --api-socket /tmp/api.sock < /dev/null > /tmp/api.log 2>&1 &
pid=$!
wait_for "^L2-KSYM" /tmp/api.log $pid
ctl() { ./kvmini ctl /tmp/api.sock "$@" 2>&1; }
ctl ping --json | grep -q '"version"' && echo "PASS api-ping" || echo "FAIL api-ping: $(ctl ping)"
ctl pause > /dev/null && ctl info --json | grep -q '"state":"Paused"' && echo "PASS api-pause" ||
    echo "FAIL api-pause: $(ctl info --json | head -c 300)"
ctl pause | grep -q "already paused" && echo "PASS api-pause-twice-refused" || echo "FAIL api-pause-twice-refused"
ctl resume > /dev/null && ctl info --json | grep -q '"state":"Running"' && echo "PASS api-resume" ||
    echo "FAIL api-resume"
ctl counters --json | grep -q '"_vcpu0"' && echo "PASS api-counters" || echo "FAIL api-counters: $(ctl counters)"
ctl shutdown > /dev/null
reap $pid
st=$?
[ "$st" = 0 ] && [ ! -e /tmp/api.sock ] && echo "PASS api-shutdown-ends-kvmini" ||
    { echo "FAIL api-shutdown-ends-kvmini: status $st"; tail -n 5 /tmp/api.log | sed 's/^/    /'; }

# vm.power-button: kvmini's PL061 line behind the device tree's gpio-keys node; the guest
# waits for KEY_POWER's input event, then powers off
# key_case NAME VERB KEY-LINE STDERR: the guest gets the verb's key and powers off or reboots
key_case() {
    ./kvmini run --kernel Image --initrd l2.cpio.gz --memory 256M --append l2.powerkey \
        --api-socket /tmp/pb.sock < /dev/null > /tmp/pb.log 2>&1 &
    local pid=$! st
    wait_for "^L2-WAITING-POWER-KEY" /tmp/pb.log $pid
    sleep 1
    ./kvmini ctl /tmp/pb.sock "$2" > /tmp/pb-ctl.txt 2>&1
    reap $pid
    st=$?
    [ "$st" = 0 ] && grep -q "^$3" /tmp/pb.log && grep -q "$4" /tmp/pb.log &&
        echo "PASS $1" ||
        { echo "FAIL $1: status $st; ctl: $(cat /tmp/pb-ctl.txt)";
          grep -E "L2-|gpio|input:|kvmini:" /tmp/pb.log | tail -n 6 | sed "s/^/    /"; }
}
# vm.power-button: KEY_POWER (116) pressed; vm.reboot: KEY_RESTART (408), the next line
key_case api-power-button-reaches-the-guest power-button "L2-KEY 1 116 1" "guest powered off"
key_case api-reboot-key-reaches-the-guest reboot "L2-KEY 1 408 1" "guest rebooted"

# SIGTERM is a graceful stop (--shutdown-timeout, default 30 s): the power button first, the
# guest powers off (status 0); a guest that ignores it is stopped at the timeout (143); a
# second SIGTERM stops at once (143)
# term_case NAME APPEND MARKER WANT-STATUS NEEDLE SECOND-TERM-AFTER KVMINI-ARGS...
term_case() {
    name=$1 append=$2 marker=$3 want=$4 needle=$5 again=$6
    shift 6
    ./kvmini run --kernel Image --initrd l2.cpio.gz --memory 256M --append "$append" "$@" \
        < /dev/null > /tmp/$name.log 2>&1 &
    pid=$!
    wait_for "$marker" /tmp/$name.log $pid
    sleep 1
    kill -TERM $pid
    [ "$again" != - ] && { sleep "$again"; kill -TERM $pid; }
    reap $pid
    st=$?
    [ "$st" = "$want" ] && grep -q "$needle" /tmp/$name.log && echo "PASS $name" ||
        { echo "FAIL $name: status $st (want $want), want '$needle'";
          grep -E "L2-|kvmini:" /tmp/$name.log | tail -n 6 | sed 's/^/    /'; }
}
term_case sigterm-presses-power-button l2.powerkey "^L2-WAITING-POWER-KEY" 0 "guest powered off" -
grep -q "^L2-KEY 1 116 1" /tmp/sigterm-presses-power-button.log && echo "PASS sigterm-guest-got-the-key" ||
    echo "FAIL sigterm-guest-got-the-key"
term_case sigterm-timeout-stops-it l2.gdbloop "^L2-KSYM" 143 "did not power off within 2 s" - \
    --shutdown-timeout 2
term_case sigterm-twice-stops-at-once l2.gdbloop "^L2-KSYM" 143 "stopped by signal" 1
grep -q "did not power off" /tmp/sigterm-twice-stops-at-once.log &&
    echo "FAIL sigterm-twice-is-not-the-timeout" || echo "PASS sigterm-twice-is-not-the-timeout"
