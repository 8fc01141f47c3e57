#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# virtio-blk cases for run-tests.sh (sourced): disks as files and block devices, data checked
# byte for byte on the host, ext4, ro=on, two disks, discard, and kill -9 after sync.
# shellcheck disable=SC2016 # $(...) and $? in vm_send strings are for the guest's shell

disk_dir() { # DISKS: an ext4 scratch file system (O_DIRECT works); DISKS_TMP: L1's tmpfs
    # Everything stays inside L1: an ext4 on a loop device over a tmpfs file, not the 9p
    # export (I/O over 9p from inside a nested guest has stalled L1 in the past).
    disk_dir_cleanup
    DISKS_TMP=$(mktemp -d /tmp/kvmini-disks.XXXXXX)
    truncate -s 160M "$DISKS_TMP/scratch.img"
    SCRATCH_LOOP=$(losetup -f --show "$DISKS_TMP/scratch.img")
    mke2fs -q -t ext4 "$SCRATCH_LOOP"
    DISKS=$DISKS_TMP/ext4
    mkdir -p "$DISKS"
    mount -t ext4 "$SCRATCH_LOOP" "$DISKS"
}

disk_dir_cleanup() {
    if [ -n "${SCRATCH_LOOP:-}" ]; then
        umount "$DISKS" 2>/dev/null || true
        losetup -d "$SCRATCH_LOOP" 2>/dev/null || true
        SCRATCH_LOOP=
    fi
    [ -z "${DISKS_TMP:-}" ] || rm -rf "$DISKS_TMP"
    DISKS_TMP=
}

kvmini_cmd() { # extra kvmini args...
    L2_CMD=("$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage"
        --initrd "$BUILD/guest/initramfs.cpio.gz" --console stdio "$@")
}

# guest_check NAME COMMAND REGEX: runs COMMAND in the guest's shell and expects REGEX on a
# line of its output. An end marker follows the command, so a wrong answer fails at once
# (only a guest that never answers waits for CASE_TIMEOUT).
GUEST_CHECKS=0
guest_check() {
    local rc=0 mark before
    GUEST_CHECKS=$((GUEST_CHECKS + 1))
    mark="KVMINI-DONE-$GUEST_CHECKS-$RANDOM"
    before=$(vm_answers | wc -l)
    vm_send "$2" || true
    vm_send "echo $mark" || true
    vm_expect "^$mark\$" "$CASE_TIMEOUT" || rc=$?
    if [ "$rc" = 0 ] && ! vm_answers | tail -n +"$before" | grep -a -q -E -- "$3"; then
        rc=1
        step "$1" 1 "the guest answered, but no line matches '$3' after: $2" || return $?
    fi
    step "$1" "$rc" "no line matching '$3' after: $2" || return $?
}

host_check() { # NAME CONDITION-STATUS DETAIL
    step "$1" "$2" "$3" || return $?
}

# two disks (file, io_uring + sync engines): read host data, write guest data, serial numbers
case_disk_two_files() {
    plan 12
    disk_dir
    head -c $((16 << 20)) /dev/urandom > "$DISKS_TMP/a.img"
    truncate -s 16M "$DISKS_TMP/b.img"
    local sum_a
    sum_a=$(md5sum < "$DISKS_TMP/a.img" | cut -d' ' -f1)
    kvmini_cmd --virtio-transport mmio --disk "path=$DISKS_TMP/a.img,serial=disk-a,engine=io_uring" \
        --disk "path=$DISKS_TMP/b.img,serial=disk-b,engine=sync" \
        --exit-stats="json:$DISKS_TMP/stats.json"
    vm_start "$WORK/disk2" "${L2_CMD[@]}" || return 1
    boot_to_shell disk-boot || return $?
    guest_check disk-two-devices 'echo DEVS-$(ls /sys/block | grep vd | tr "\n" -)' '^DEVS-vda-vdb-$' || return $?
    guest_check disk-serial 'echo SERIAL-$(cat /sys/block/vdb/serial)' '^SERIAL-disk-b$' || return $?
    guest_check disk-read-host-data 'echo SUM-$(md5sum /dev/vda | cut -d" " -f1)' "^SUM-$sum_a\$" || return $?
    guest_check disk-write 'yes kvmini-pattern | head -c 4194304 | dd of=/dev/vdb bs=65536 oflag=direct 2>/dev/null; r=$?; sync; echo WROTE-$r-$?' '^WROTE-0-0$' || return $?
    vm_send 'poweroff' || true
    expect_exit disk-poweroff zero || return $?
    local rc=0
    cmp -s -n 4194304 <(yes kvmini-pattern | head -c 4194304) "$DISKS_TMP/b.img" || rc=1
    host_check disk-guest-data-on-host "$rc" "the host file does not hold what the guest wrote" || return $?
    rc=0
    [ "$(md5sum < "$DISKS_TMP/a.img" | cut -d' ' -f1)" = "$sum_a" ] || rc=1
    host_check disk-untouched "$rc" "disk a changed although the guest only read it" || return $?
    grep -q 'disk .*a.img: .* 0 I/O errors' "$VM_DIR/err" || rc=1
    host_check disk-stats-line "$rc" "no per-disk statistics line on stderr: $(errline)" || return $?
    # coalesce=auto in the L1, where an exit costs tens of us: the long window and kicks off
    rc=0
    grep -q -E 'a VM exit costs [0-9.]+ us here .*: virtio-blk holds interrupts of large requests up to [0-9]+ us and asks for no kicks' "$VM_DIR/err" || rc=1
    host_check exit-cost-sets-coalescing "$rc" "no exit-cost line choosing kicks off: $(grep -a 'exit costs' "$VM_DIR/err")" || return $?
    # --exit-stats on a real boot: virtio-mmio registers were read, the serial port written,
    # and KVM's own exit count (which includes the ioeventfd kicks) exceeds ours
    rc=0
    python3 - "$DISKS_TMP/stats.json" <<'PY' || rc=1
import json, sys
t = json.load(open(sys.argv[1]))["total"]
dev = {s["device"]: s for s in t["sites"] if s.get("device")}
assert t["exits"] > 1000, t["exits"]
assert dev["virtio-mmio"]["reads"] > 0 and dev["serial"]["writes"] > 0, dev.keys()
assert t["kvm"] is None or t["kvm"]["exits"] > t["exits"], (t["kvm"], t["exits"])
PY
    host_check exit-stats-sane "$rc" "exit statistics JSON missing or not plausible"
}

# power_cut_setup / power_cut / power_cut_cleanup: a raw block device whose medium can be cut
# off under the host's page cache. PC_DEV (a device-mapper linear target over a loop device
# over PC_MEDIA, a tmpfs file) is what kvmini opens; the L1's periodic writeback is off, so
# dirty pages reach the medium only when someone flushes (restored by power_cut_cleanup).
PC_KNOBS="dirty_writeback_centisecs dirty_expire_centisecs dirty_background_ratio dirty_ratio"
pc_sysctl() { # the four values of PC_KNOBS, in order
    local k
    for k in $PC_KNOBS; do
        echo "$1" > "/proc/sys/vm/$k"
        shift
    done
}

power_cut_setup() {
    PC_MEDIA=$DISKS_TMP/medium.img PC_NAME=kvmini-pc-$$
    truncate -s 16M "$PC_MEDIA"
    PC_LOOP=$(losetup -f --show "$PC_MEDIA") || return 1
    PC_SECTORS=$(blockdev --getsz "$PC_LOOP")
    # shellcheck disable=SC2086 # four file names
    PC_SYSCTL=$(cd /proc/sys/vm && cat $PC_KNOBS | tr '\n' ' ')
    pc_sysctl 0 360000 90 90
    DM_DISABLE_UDEV=1 dmsetup create "$PC_NAME" --table "0 $PC_SECTORS linear $PC_LOOP 0" || return 1
    PC_DEV=/dev/mapper/$PC_NAME
}

# the cut: the medium stops taking writes while the page cache above it is still dirty
# (suspend without syncing, then dm's built-in error target: whatever is written back from
# now on fails and never reaches the medium). The device is resumed whatever happens: a
# suspended one would hang kvmini's I/O, and kill -9 with it.
power_cut() {
    local rc=0
    DM_DISABLE_UDEV=1 dmsetup suspend --nolockfs --noflush "$PC_NAME" || return 1
    DM_DISABLE_UDEV=1 dmsetup load "$PC_NAME" --table "0 $PC_SECTORS error" || rc=1
    DM_DISABLE_UDEV=1 dmsetup resume "$PC_NAME" || rc=1
    return $rc
}

power_cut_cleanup() {
    [ -n "${PC_NAME:-}" ] || return 0
    DM_DISABLE_UDEV=1 dmsetup remove "$PC_NAME" 2>/dev/null || true
    [ -z "${PC_LOOP:-}" ] || losetup -d "$PC_LOOP" 2>/dev/null || true
    # shellcheck disable=SC2086 # four numbers
    pc_sysctl $PC_SYSCTL
    PC_NAME='' PC_LOOP=''
}

# FLUSH is durable: on a raw device with cache=writeback the guest writes 1 MiB and fsyncs
# (a FLUSH), then writes another 1 MiB without one; the power is cut under the host's page
# cache and kvmini killed. The flushed MiB must be on the medium; the unflushed one must not
# be (it only sat in the page cache: were it there, the cut cut nothing and the first check
# proved nothing). A kvmini that answered FLUSH without writing back fails the first check.
case_disk_power_cut() {
    plan 9
    disk_dir
    local rc=0
    power_cut_setup || rc=1
    host_check power-cut-setup "$rc" "no device-mapper device over a loop device (dm-mod, dmsetup)" || { power_cut_cleanup; return 1; }
    kvmini_cmd --disk "path=$PC_DEV,cache=writeback"
    vm_start "$WORK/power-cut" "${L2_CMD[@]}" || { power_cut_cleanup; return 1; }
    boot_to_shell power-cut-boot || { rc=$?; power_cut_cleanup; return $rc; }
    guest_check power-cut-write-cache 'echo WCACHE-$(cat /sys/block/vda/queue/write_cache | tr " " -)' '^WCACHE-write-back$' || { rc=$?; power_cut_cleanup; return $rc; }
    guest_check power-cut-flushed 'yes flushed | head -c 1048576 | dd of=/dev/vda bs=65536 oflag=direct conv=fsync 2>/dev/null; echo FLUSHED-$?' '^FLUSHED-0$' || { rc=$?; power_cut_cleanup; return $rc; }
    guest_check power-cut-unflushed 'yes unflushed | head -c 1048576 | dd of=/dev/vda bs=65536 seek=32 oflag=direct 2>/dev/null; echo UNFLUSHED-$?' '^UNFLUSHED-0$' || { rc=$?; power_cut_cleanup; return $rc; }
    rc=0
    power_cut || rc=1
    vm_kill	# SIGKILL: its last close of the device writes back into the cut
    power_cut_cleanup
    host_check power-cut "$rc" "dmsetup could not switch the device to the error target" || return $?
    rc=0
    cmp -s -n 1048576 <(yes flushed | head -c 1048576) "$PC_MEDIA" || rc=1
    host_check power-cut-flushed-kept "$rc" "data the guest flushed is not on the medium after the power cut" || return $?
    rc=0
    ! cmp -s -n 1048576 <(yes unflushed | head -c 1048576) <(tail -c +$((2 * 1048576 + 1)) "$PC_MEDIA") || rc=1
    host_check power-cut-unflushed-lost "$rc" "the unflushed MiB reached the medium: the cut cut nothing, the flushed check proves nothing"
}

# an ext4 image made by mke2fs -d, read-only: the file's checksum matches, writes are refused
case_disk_ext4_ro() {
    plan 6
    disk_dir
    mkdir -p "$DISKS_TMP/root/sub"
    head -c 300000 /dev/urandom > "$DISKS_TMP/root/sub/blob"
    local sum
    sum=$(md5sum < "$DISKS_TMP/root/sub/blob" | cut -d' ' -f1)
    mke2fs -q -t ext4 -d "$DISKS_TMP/root" "$DISKS_TMP/fs.img" 32M
    kvmini_cmd --disk "path=$DISKS_TMP/fs.img,ro=on"
    vm_start "$WORK/ext4" "${L2_CMD[@]}" || return 1
    boot_to_shell ext4-boot || return $?
    guest_check ext4-file-checksum 'echo FSUM-$(md5sum /mnt/sub/blob | cut -d" " -f1)' "^FSUM-$sum\$" || return $?
    guest_check ro-write-refused 'dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; echo RO-RC-$?' '^RO-RC-[1-9]' || return $?
    guest_check ro-flag 'echo ROFLAG-$(cat /sys/block/vda/ro)' '^ROFLAG-1$' || return $?
    vm_send 'poweroff' || true
    expect_exit ext4-poweroff zero || return $?
}

# a raw block device (a loop device in L1) behaves like a file; cache=none; discard on a file
case_disk_blockdev_discard() {
    plan 8
    disk_dir
    if ! command -v losetup >/dev/null || ! losetup -f >/dev/null 2>&1; then
        bad disk-blockdev "no loop device available here"
        return 1
    fi
    head -c $((8 << 20)) /dev/urandom > "$DISKS_TMP/raw-backing.img"
    local loop sum
    loop=$(losetup -f --show "$DISKS_TMP/raw-backing.img")
    sum=$(md5sum < "$loop" | cut -d' ' -f1)
    # the sparse file lives on L1's tmpfs, which can punch holes (the 9p export cannot)
    truncate -s 64M "$DISKS_TMP/sparse.img"
    head -c $((8 << 20)) /dev/urandom | dd of="$DISKS_TMP/sparse.img" conv=notrunc 2>/dev/null
    local before after
    before=$(du -k "$DISKS_TMP/sparse.img" | cut -f1)
    kvmini_cmd --disk "path=$loop,cache=none" --disk "path=$DISKS_TMP/sparse.img"
    vm_start "$WORK/blockdev" "${L2_CMD[@]}" || { losetup -d "$loop"; return 1; }
    boot_to_shell blockdev-boot || { losetup -d "$loop"; return 1; }
    guest_check blockdev-read 'echo BSUM-$(md5sum /dev/vda | cut -d" " -f1)' "^BSUM-$sum\$" || { losetup -d "$loop"; return 1; }
    guest_check blockdev-write 'yes loop-data | head -c 1048576 | dd of=/dev/vda bs=4096 seek=16 oflag=direct 2>/dev/null; r=$?; sync; echo BW-$r-$?' '^BW-0-0$' || { losetup -d "$loop"; return 1; }
    guest_check discard 'blkdiscard /dev/vdb; echo DISCARD-$?' '^DISCARD-0$' || { losetup -d "$loop"; return 1; }
    vm_send 'poweroff' || true
    expect_exit blockdev-poweroff zero || { losetup -d "$loop"; return 1; }
    local rc=0
    cmp -s -n 1048576 -i 0:65536 <(yes loop-data | head -c 1048576) "$loop" || rc=1
    losetup -d "$loop"
    host_check blockdev-data-on-host "$rc" "the loop device does not hold the guest's data" || return $?
    after=$(du -k "$DISKS_TMP/sparse.img" | cut -f1)
    rc=0
    [ "$after" -lt $((before / 4)) ] || rc=1
    host_check discard-punched-holes "$rc" "sparse file used ${before} KiB before, ${after} KiB after blkdiscard"
}

# after the guest's sync returns, kill -9 of the VMM loses nothing (both cache modes)
case_disk_kill_after_sync() {
    plan 8
    disk_dir
    local mode img
    for mode in writeback none; do
        img="$DISKS/durable-$mode.img"
        truncate -s 16M "$img"
        kvmini_cmd --disk "path=$img,cache=$mode"
        vm_start "$WORK/durable-$mode" "${L2_CMD[@]}" || return 1
        boot_to_shell "durable-$mode-boot" || return $?
        guest_check "durable-$mode-synced" "yes durable-$mode | head -c 2097152 | dd of=/dev/vda bs=4096 2>/dev/null; r=\$?; sync; echo SYNCED-\$r-\$?" '^SYNCED-0-0$' || return $?
        kill -KILL "$VM_PID"
        vm_wait 10 || true
        local rc=0
        cmp -s -n 2097152 <(yes "durable-$mode" | head -c 2097152) "$img" || rc=1
        host_check "durable-$mode-nothing-lost" "$rc" "data acknowledged by sync is missing after kill -9" || return $?
        vm_kill
    done
}
