#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# virtio-pci cases for run-tests.sh (sourced): the disk over PCI + MSI-X with ACPI on and with
# acpi=off, the cloud kernel, data round trips, and userspace exits per 4 KiB O_DIRECT read on
# pci and mmio.
# shellcheck disable=SC2016 # $(...) and $? in vm_send strings are for the guest's shell

# stats_snapshot OUT: SIGUSR1 (the documented signal; blk-matrix.sh uses SIGUSR2) makes kvmini rewrite its --exit-stats=json:PATH file
stats_snapshot() {
    local i
    rm -f "$DISKS_TMP/stats.json"
    kill -USR1 "$VM_PID" 2>/dev/null || return 1
    for i in $(seq 50); do
        [ -s "$DISKS_TMP/stats.json" ] && break
        sleep 0.1
    done
    cp "$DISKS_TMP/stats.json" "$1"
}

# exits_per_request NAME: 2000 x 4 KiB O_DIRECT reads of /dev/vda between two snapshots;
# writes "NAME: ..." to $WORK/exits-per-request and checks the dd worked
exits_per_request() {
    stats_snapshot "$DISKS_TMP/s0.json" || return 1
    guest_check "$1-dd" 'a=$(cut -d" " -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=4096 count=2000 iflag=direct 2>/dev/null; r=$?; echo DD-$r-$a-$(cut -d" " -f1 /proc/uptime)' '^DD-0-' || return $?
    stats_snapshot "$DISKS_TMP/s1.json" || return 1
    local t
    t=$(vm_answers | grep -a -m1 -E '^DD-0-' | awk -F- '{ printf "%.2f", $4 - $3 }')
    python3 - "$DISKS_TMP/s0.json" "$DISKS_TMP/s1.json" "$1" "$t" <<'PY' | tee -a "$WORK/exits-per-request"
import json, sys
def load(p):
    t = json.load(open(p))["total"]
    dev = {}
    for s in t["sites"]:
        dev[s.get("device") or "?"] = dev.get(s.get("device") or "?", 0) + s["count"]
    return t["exits"], dev, (t.get("kvm") or {}).get("exits")
e0, d0, k0 = load(sys.argv[1]); e1, d1, k1 = load(sys.argv[2])
n = 2000
delta = {k: d1.get(k, 0) - d0.get(k, 0) for k in set(d0) | set(d1)}
virtio = sum(v for k, v in delta.items() if k.startswith(("virtio", "pci")))
kvm = "n/a" if k0 is None or k1 is None else "%.2f" % ((k1 - k0) / n)
print("%s: %d reads in %s s (guest uptime): userspace exits %.2f/request in all (serial "
      "echo of the command included), %.2f/request at virtio/pci devices %s; KVM exits "
      "%s/request" % (sys.argv[3], n, sys.argv[4], (e1 - e0) / n, virtio / n,
                      sorted((k, v) for k, v in delta.items() if v), kvm))
PY
}

pci_disks() { # a 16 MiB random disk A and an empty one B in $DISKS_TMP
    disk_dir
    head -c $((16 << 20)) /dev/urandom > "$DISKS_TMP/a.img"
    truncate -s 16M "$DISKS_TMP/b.img"
    SUM_A=$(md5sum < "$DISKS_TMP/a.img" | cut -d' ' -f1)
}

# two disks over virtio-pci with ACPI (MCFG + PNP0A08): ids, MSI-X, data both ways, exits
case_disk_pci() {
    plan 15
    pci_disks
    kvmini_cmd --virtio-transport pci --disk "path=$DISKS_TMP/a.img,serial=pci-a" \
        --disk "path=$DISKS_TMP/b.img,serial=pci-b,engine=sync" \
        --exit-stats="json:$DISKS_TMP/stats.json"
    vm_start "$WORK/pci" "${L2_CMD[@]}" || return 1
    boot_to_shell pci-boot || return $?
    guest_check pci-ids 'echo PCIID-$(cat /sys/block/vda/device/../vendor)-$(cat /sys/block/vda/device/../device)' '^PCIID-0x1af4-0x1042$' || return $?
    guest_check pci-functions 'echo PCIFN-$(ls /sys/bus/pci/devices | tr "\n" -)' '^PCIFN-0000:00:00.0-0000:00:01.0-0000:00:02.0-$' || return $?
    guest_check pci-ecam 'echo ECAM-$(dmesg | grep -c "MMCONFIG at \[mem 0xe0000000-0xe00fffff\] reserved")' '^ECAM-1$' || return $?
    guest_check pci-serial 'echo SERIAL-$(cat /sys/block/vdb/serial)' '^SERIAL-pci-b$' || return $?
    guest_check pci-read-host-data 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$SUM_A\$" || return $?
    guest_check pci-write 'yes kvmini-pci | head -c 4194304 | dd of=/dev/vdb bs=65536 oflag=direct 2>/dev/null; r=$?; sync; echo WROTE-$r-$?' '^WROTE-0-0$' || return $?
    guest_check pci-msix 'echo MSIX-$(grep -E "PCI-MSI.*virtio[01]-req" /proc/interrupts | wc -l)' '^MSIX-2$' || return $?
    # for the log; then wait for its end, so its console output is not counted as exits below
    guest_check pci-diagnostics 'grep -E "virtio|MSI" /proc/interrupts; dmesg | grep -iE "pci|virtio|mmconfig|ecam" | head -40; echo DIAG-DONE' '^DIAG-DONE$' || return $?
    exits_per_request pci-exits || return $?
    # the queue state in the same snapshot: both disks active, idle, everything taken given back
    local qs
    qs=$(python3 - "$DISKS_TMP/s1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["disks"]
ok = len(d) == 2 and all(q["active"] and q["waiting"] == 0 and q["in_flight"] == 0 and
                         q["taken"] == q["used_idx"] and q["kicks"] > 0 and q["interrupts"] > 0 for q in d)
print(("QUEUES-OK " if ok else "QUEUES-BAD ") + json.dumps(d))
PY
)
    echo "$qs" >> "$WORK/exits-per-request"
    host_check pci-queue-state "$([[ $qs == QUEUES-OK* ]] && echo 0 || echo 1)" "queue state after the reads: $qs" || return $?
    vm_send 'poweroff' || true
    expect_exit pci-poweroff zero || return $?
    local rc=0
    cmp -s -n 4194304 <(yes kvmini-pci | head -c 4194304) "$DISKS_TMP/b.img" || rc=1
    host_check pci-guest-data-on-host "$rc" "the host file does not hold what the guest wrote" || return $?
    rc=0
    ! grep -E 'driver error|needs reset|no INTx' "$VM_DIR/err" || rc=1
    host_check pci-no-driver-errors "$rc" "kvmini reported driver errors: $(errline)"
}

# acpi=off: Linux finds the bus with the legacy CF8/CFC probe and still uses MSI-X
case_disk_pci_acpi_off() {
    plan 7
    pci_disks
    kvmini_cmd --virtio-transport pci --disk "path=$DISKS_TMP/a.img" --append acpi=off
    vm_start "$WORK/pci-noacpi" "${L2_CMD[@]}" || return 1
    boot_to_shell pci-noacpi-boot || return $?
    guest_check pci-noacpi-ids 'echo PCIID-$(cat /sys/block/vda/device/../vendor)-$(cat /sys/block/vda/device/../device)' '^PCIID-0x1af4-0x1042$' || return $?
    guest_check pci-noacpi-read 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$SUM_A\$" || return $?
    guest_check pci-noacpi-msix 'echo MSIX-$(grep -cE "PCI-MSI.*virtio0-req" /proc/interrupts)' '^MSIX-1$' || return $?
    guest_check pci-noacpi-no-mcfg 'echo MMCFG-$(dmesg | grep -c MMCONFIG)' '^MMCFG-0$' || return $?
    # no ACPI, no S5: reboot=k (the i8042 reset line) is how this guest ends
    vm_send 'reboot' || true
    expect_exit pci-noacpi-reboot zero
}

# the same O_DIRECT read loop over virtio-mmio, for the exits-per-request comparison
case_disk_mmio_exits() {
    plan 4
    pci_disks
    kvmini_cmd --virtio-transport mmio --disk "path=$DISKS_TMP/a.img" --exit-stats="json:$DISKS_TMP/stats.json"
    vm_start "$WORK/mmio-exits" "${L2_CMD[@]}" || return 1
    boot_to_shell mmio-exits-boot || return $?
    exits_per_request mmio-exits || return $?
    vm_send 'poweroff' || true
    expect_exit mmio-exits-poweroff zero
}

# --cpus 2 and queues=2 over PCI: two hardware queues, a vector each, data round trip
case_disk_pci_mq() {
    plan 8
    pci_disks
    kvmini_cmd --cpus 2 --virtio-transport pci --disk "path=$DISKS_TMP/a.img,queues=2" \
        --disk "path=$DISKS_TMP/b.img,queues=2"
    vm_start "$WORK/pci-mq" "${L2_CMD[@]}" || return 1
    boot_to_shell pci-mq-boot || return $?
    guest_check pci-mq-hwqueues 'echo HWQ-$(ls /sys/block/vda/mq | tr "\n" -)' '^HWQ-0-1-$' || return $?
    guest_check pci-mq-vectors 'echo VEC-$(grep -cE "PCI-MSI.*virtio0-req\.[01]" /proc/interrupts)' '^VEC-2$' || return $?
    guest_check pci-mq-read 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$SUM_A\$" || return $?
    # two writers at once, one per vCPU
    guest_check pci-mq-write '{ taskset 1 sh -c "yes mq-one | head -c 2097152 | dd of=/dev/vdb bs=65536 oflag=direct" & a=$!; taskset 2 sh -c "yes mq-two | head -c 2097152 | dd of=/dev/vdb bs=65536 seek=32 oflag=direct" & b=$!; wait $a; r1=$?; wait $b; r2=$?; } 2>/dev/null; sync; echo MQW-$r1-$r2-$?' '^MQW-0-0-0$' || return $?
    vm_send 'grep virtio /proc/interrupts' || true
    vm_send 'poweroff' || true
    expect_exit pci-mq-poweroff zero || return $?
    local rc=0
    cmp -s -n 2097152 <(yes mq-one 2>/dev/null | head -c 2097152) "$DISKS_TMP/b.img" || rc=1
    cmp -s -n 2097152 <(yes mq-two 2>/dev/null | head -c 2097152) <(tail -c +$((2097152 + 1)) "$DISKS_TMP/b.img" 2>/dev/null) || rc=1
    host_check pci-mq-data-on-host "$rc" "the host file does not hold what the two writers wrote"
}

# Debian's cloud kernel (build/guest-cloud: GUEST_KERNEL=linux-image-cloud-amd64 guest/build.sh)
# finds the disk over PCI with ACPI and with acpi=off; data both ways on a raw loop device
case_disk_pci_cloud() {
    plan 13
    local g="$BUILD/guest-cloud" acpi loop rc
    if [ ! -f "$g/bzImage" ]; then
        bad pci-cloud-guest "no cloud-kernel guest in $g (make check builds it)"
        return 1
    fi
    pci_disks
    loop=$(losetup -f --show "$DISKS_TMP/a.img") || { bad pci-cloud-loop "no loop device"; return 1; }
    for acpi in on off; do
        L2_CMD=("$BUILD/kvmini" run --kernel "$g/bzImage" --initrd "$g/initramfs.cpio.gz" --console stdio
            --virtio-transport pci --disk "path=$loop,cache=none")
        [ "$acpi" = on ] || L2_CMD+=(--append acpi=off)
        vm_start "$WORK/pci-cloud-acpi-$acpi" "${L2_CMD[@]}" || { bad "pci-cloud-acpi-$acpi-start" "kvmini did not start"; losetup -d "$loop"; return 1; }
        rc=0
        boot_to_shell "pci-cloud-acpi-$acpi-boot" || rc=$?
        [ "$rc" = 0 ] && { guest_check "pci-cloud-acpi-$acpi-kernel" 'echo KREL-$(uname -r)' '^KREL-.*-cloud-amd64$' || rc=$?; }
        [ "$rc" = 0 ] && { guest_check "pci-cloud-acpi-$acpi-ids" 'echo PCIID-$(cat /sys/block/vda/device/../vendor)-$(cat /sys/block/vda/device/../device)' '^PCIID-0x1af4-0x1042$' || rc=$?; }
        [ "$rc" = 0 ] && [ "$acpi" = on ] && { guest_check pci-cloud-read 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$SUM_A\$" || rc=$?; }
        [ "$rc" = 0 ] && [ "$acpi" = off ] && { guest_check pci-cloud-write 'yes cloud-pci | head -c 1048576 | dd of=/dev/vda bs=65536 oflag=direct 2>/dev/null; r=$?; sync; echo CW-$r-$?' '^CW-0-0$' || rc=$?; }
        if [ "$rc" = 0 ]; then
            # no ACPI, no S5: reboot=k (the i8042 reset line) ends the acpi=off guest
            vm_send "$([ "$acpi" = on ] && echo poweroff || echo reboot)" || true
            expect_exit "pci-cloud-acpi-$acpi-exit" zero || rc=$?
        fi
        vm_kill
        [ "$rc" = 0 ] || { losetup -d "$loop"; return "$rc"; }
    done
    rc=0
    cmp -s -n 1048576 <(yes cloud-pci 2>/dev/null | head -c 1048576) "$loop" || rc=1
    losetup -d "$loop"
    host_check pci-cloud-data-on-host "$rc" "the loop device does not hold what the cloud guest wrote"
}

# a driver that never enables MSI-X (pci=nomsi): the disk works through INTA, routed by the
# DSDT's _PRT with ACPI and by the MP table with acpi=off; level-triggered on the IOAPIC
case_disk_pci_intx() {
    plan 16
    local acpi rc
    pci_disks
    for acpi in on off; do
        kvmini_cmd --virtio-transport pci --disk "path=$DISKS_TMP/a.img" \
            --disk "path=$DISKS_TMP/b.img" --append "pci=nomsi$([ "$acpi" = off ] && echo ' acpi=off')"
        vm_start "$WORK/pci-intx-acpi-$acpi" "${L2_CMD[@]}" || return 1
        rc=0
        boot_to_shell "pci-intx-acpi-$acpi-boot" || return $?
        guest_check "pci-intx-acpi-$acpi-no-msi" 'echo MSI-$(grep -c PCI-MSI /proc/interrupts)' '^MSI-0$' || return $?
        guest_check "pci-intx-acpi-$acpi-ioapic-level" 'echo INTX-$(grep -E "IO-APIC.*(1[6-9]|2[0-3])-fasteoi.*virtio" /proc/interrupts | wc -l)' '^INTX-[12]$' || return $?
        guest_check "pci-intx-acpi-$acpi-read" 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$SUM_A\$" || return $?
        guest_check "pci-intx-acpi-$acpi-write" "yes intx-$acpi | head -c 1048576 | dd of=/dev/vdb bs=65536 oflag=direct 2>/dev/null; r=\$?; sync; echo IW-\$r-\$?" '^IW-0-0$' || return $?
        vm_send 'grep -E "virtio|IO-APIC" /proc/interrupts' || true
        vm_send "$([ "$acpi" = on ] && echo poweroff || echo reboot)" || true
        expect_exit "pci-intx-acpi-$acpi-exit" zero || return $?
        cmp -s -n 1048576 <(yes "intx-$acpi" 2>/dev/null | head -c 1048576) "$DISKS_TMP/b.img" || rc=1
        host_check "pci-intx-acpi-$acpi-data-on-host" "$rc" "the host file does not hold what the guest wrote over INTx" || return $?
        vm_kill
    done
}
