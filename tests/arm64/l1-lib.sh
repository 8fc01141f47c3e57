# SPDX-License-Identifier: Apache-2.0
# What the arm64 L1's test scripts share (busybox sh, sourced in /t): booting kvmini with the stock kernel and checking its status and output; a disk round trip.
# shellcheck shell=sh

# boot NAME WANT_STATUS NEEDLE KVMINI-ARGS...: kvmini's status and a line of the run's output
boot() {
    name=$1 want=$2 needle=$3
    shift 3
    timeout 120 ./kvmini run --kernel Image --initrd l2.cpio.gz --memory 256M "$@" \
        < /dev/null > /tmp/$name.log 2>&1
    st=$?
    if [ "$st" = "$want" ] && grep -q "$needle" /tmp/$name.log; then
        echo "PASS $name"
    else
        echo "FAIL $name: status $st (want $want), want '$needle'; the end of its output:"
        tail -n 15 /tmp/$name.log | sed 's/^/    /'
    fi
}
# disk NAME file|loop KVMINI-ARGS...: the guest reads the
# host's bytes and its write reaches the backing; a file, or a loop device (a raw block device,
# cache=none: O_DIRECT) over it
disk() {
    name=$1 backing=$2
    shift 2
    dd if=/dev/urandom of=/tmp/disk.img bs=64k count=32 2>/dev/null
    want=$(dd if=/tmp/disk.img bs=64k count=16 2>/dev/null | md5sum | cut -d' ' -f1)
    path=/tmp/disk.img
    if [ "$backing" = loop ]; then
        path=$(losetup -f) && losetup "$path" /tmp/disk.img ||
            { echo "FAIL $name: no loop device"; return; }
        path="path=$path,cache=none"
    fi
    boot "$name" 0 "L2-DISK-MD5 $want" --disk "$path" "$@"
    [ "$backing" = loop ] && losetup -d "$(echo "$path" | sed 's/^path=//; s/,.*//')"
    grep -q "L2-DISK-WROTE" /tmp/$name.log && dd if=/tmp/disk.img bs=4096 skip=1 count=1 2>/dev/null |
        grep -q "written by the arm64 guest" && echo "PASS $name-write-reached-$backing" ||
        echo "FAIL $name-write-reached-$backing"
}
# dt_clean NAME LOG...: the guest's kernel logged no complaint about the device tree it got
# (Linux's OF core and DT-probed drivers say "OF: ...", "irq: no irq domain", "... failed to
# parse", "missing interrupt-parent" when a node is wrong)
dt_clean() {
    name=$1
    shift
    bad=$(grep -h -E 'OF: .*(fail|error|warn|missing|bad|could not|invalid)|irq: no irq domain|missing interrupt-parent|(dtb|device tree|DT).*(warn|error|invalid)' "$@" | head -n 3)
    [ -z "$bad" ] && echo "PASS $name" || { echo "FAIL $name:"; echo "$bad" | sed 's/^/    /'; }
}
# wait_for REGEX LOG PID: until LOG (a kvmini started in the background as PID) has a line
# matching REGEX, or that kvmini ends, or 60 s pass
wait_for() {
    i=0
    while [ $i -lt 600 ] && ! grep -q "$1" "$2" && kill -0 "$3" 2>/dev/null; do
        sleep 0.1; i=$((i + 1))
    done
}

# reap PID [SECONDS]: waits for PID, at most SECONDS (default 60), then kills it (status 137):
# a guest that missed what it waits for fails its check instead of stalling the whole L1
reap() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $((${2:-60} * 10)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -0 "$1" 2>/dev/null && kill -9 "$1"
    wait "$1"
}
