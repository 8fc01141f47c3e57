#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kvmini as a normal user, under each --seccomp setting: boots the tiny bz_hello payload (a
# bzImage that prints on COM1 and powers off) and bz_disk (one that writes, flushes and reads
# back its virtio-mmio disk) through the real binary. As root, it runs kvmini
# as `nobody` with a private copy of the KVM device node that only a group can open (what the
# kvm group gives on a distribution); as a user with /dev/kvm access, as that user.
# Usage: tests/run-as-user.sh BUILD
set -uo pipefail

build=$(realpath "${1:-build}")
kvmini=$build/kvmini
kernel=$build/tests/kvm/payloads/bz_hello.bin
diskk=$build/tests/kvm/payloads/bz_disk.bin     # writes, flushes and reads back disk 0 (mmio)
pass=0 fail=0

cases="seccomp-on seccomp-log seccomp-off all-threads all-threads-data pci-mq disk-sync disk-sync-data"
[ "$(id -u)" != 0 ] || cases+=" no-kvm-access disk-read-only-file disk-ro-on"
if [ ! -f "$kernel" ] || [ ! -f "$diskk" ]; then
    echo "FAIL run-as-user: $kernel or $diskk not built (make them)"
    echo "run-as-user: 0 passed, 1 failed, 0 skipped"
    exit 1
fi
if ! where=$("$kvmini" host); then
    for c in $cases; do echo "SKIPPED run-as-user $c: needs a /dev/kvm; $where"; done
    echo "run-as-user: 0 passed, 0 failed, $(wc -w <<< "$cases") skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
as_user=()
dev=/dev/kvm
if [ "$(id -u)" = 0 ]; then
    gid=$(getent group kvm | cut -d: -f3)
    gid=${gid:-65534}
    # the device node as a distribution sets it up: root:kvm 0660, the user in the group only
    mknod "$tmp/kvm" c "$((16#$(stat -c %t /dev/kvm)))" "$((16#$(stat -c %T /dev/kvm)))"
    chgrp "$gid" "$tmp/kvm" && chmod 660 "$tmp/kvm"
    dev=$tmp/kvm
    as_user=(setpriv --reuid=nobody --regid="$gid" --clear-groups)
    chown nobody "$tmp"
fi
who=$("${as_user[@]}" id -un)

# check NAME WANT-STATUS NEEDLE(out+err) -- ARGS...
check() {
    local name=$1 want=$2 needle=$3 rc
    shift 4
    timeout 60 "${as_user[@]}" "$kvmini" run --kvm-device "$dev" "$@" </dev/null \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = "$want" ] && cat "$tmp/out" "$tmp/err" | grep -qF -- "$needle" &&
       ! grep -q 'seccomp: blocked' "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name (as $who): status $rc (want $want), want '$needle' in:"
        cat "$tmp/out" "$tmp/err" | head -n 5
    fi
}

check seccomp-on   0 KVMINI-BZ-HELLO -- --kernel "$kernel"
check seccomp-log  0 KVMINI-BZ-HELLO -- --kernel "$kernel" --seccomp=log
check seccomp-off  0 KVMINI-BZ-HELLO -- --kernel "$kernel" --seccomp=off
# data_ok NAME FILE: sector 0 of FILE holds what bz_disk wrote ((i * 7 + 0x11) & 0xff)
data_ok() {
    if python3 -c 'import sys; d = open(sys.argv[1], "rb").read(512)
sys.exit(d != bytes((i * 7 + 0x11) & 0xff for i in range(512)))' "$2"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1 (as $who): sector 0 of $2 does not hold what the guest wrote"
    fi
}

# every optional thread (trace writer, gdb stub, launcher, the disk's I/O and discard threads)
# under its filter, with the guest really writing, flushing and reading its disk
truncate -s 16M "$tmp/disk.img" "$tmp/disk2.img"
[ "$(id -u)" = 0 ] && chown nobody "$tmp/disk.img" "$tmp/disk2.img"
check all-threads  0 KVMINI-BZ-DISK-OK -- --kernel "$diskk" --cpus 2 --virtio-transport mmio \
    --disk "$tmp/disk.img" --trace-exits "$tmp/trace" --exit-stats="json:$tmp/stats.json" \
    --gdb "unix:$tmp/gdb.sock"
data_ok all-threads-data "$tmp/disk.img"
# the sync engine (a lone request runs on the I/O thread itself)
check disk-sync 0 KVMINI-BZ-DISK-OK -- --kernel "$diskk" --virtio-transport mmio \
    --disk "path=$tmp/disk2.img,engine=sync"
data_ok disk-sync-data "$tmp/disk2.img"
# two queues over pci (the guest does not touch them: bz_disk speaks virtio-mmio only)
check pci-mq       0 "guest powered off" -- --kernel "$kernel" --cpus 2 \
    --virtio-transport pci --disk "path=$tmp/disk.img,queues=2,engine=sync"
if [ "$(id -u)" = 0 ]; then
    # what a user without the permissions gets: a line saying what to do
    chmod 600 "$tmp/kvm"
    check no-kvm-access 1 "usermod -aG kvm" -- --kernel "$kernel"
    chmod 660 "$tmp/kvm"
    chown root "$tmp/disk.img" && chmod 644 "$tmp/disk.img"
    check disk-read-only-file 2 "Permission denied" -- --kernel "$kernel" --disk "$tmp/disk.img"
    check disk-ro-on  0 "guest powered off" -- --kernel "$kernel" --disk "path=$tmp/disk.img,ro=on"
fi

echo "run-as-user: $pass passed, $fail failed, 0 skipped (as $who)"
[ "$fail" = 0 ]
