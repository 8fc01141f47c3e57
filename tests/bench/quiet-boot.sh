#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# How much the kernel's boot messages on the serial console cost a boot: the default guest
# (busybox) and the Debian 12 test image booted with and without `quiet`, alternating, REPS
# times each; prints one CSV line per boot (guest,quiet,rep,seconds to KVMINI-READY).
# Usage: tests/bench/quiet-boot.sh BUILD [REPS]   (inside the nested L1: tests/nested/l1.sh run
# BUILD tests/bench/quiet-boot.sh BUILD; the Debian image from tests/nested/debian-rootfs.sh)
set -uo pipefail
build=$(cd "$1" && pwd)
reps=${2:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../nested/l2lib.sh disable=SC1091
. "$here/../nested/l2lib.sh"

# boot_once GUEST QUIET: seconds from the VMM's start to the guest's KVMINI-READY line
boot_once() {
    local guest=$1 quiet=$2 app="" t0 rc=0
    local -a cmd=("$build/kvmini" run --kernel "$build/guest/bzImage" --initrd "$build/guest/initramfs.cpio.gz"
        --console stdio)
    [ "$quiet" = 0 ] || app="quiet"
    if [ "$guest" = debian ]; then
        cmd+=(--disk "path=$build/debian12/rootfs.img,ro=on")
        app+=" root=/dev/vda ro init=/usr/local/sbin/kvmini-test-init"
    fi
    [ -z "$app" ] || cmd+=(--append "$app")
    t0=$EPOCHREALTIME
    vm_start "/tmp/quiet-boot" "${cmd[@]}" || return 1
    vm_expect '^KVMINI-READY$' 300 || rc=$?
    local t
    t=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.6f", a - b }')
    vm_kill
    if [ "$rc" = 0 ]; then echo "$t"; else echo "failed($rc)"; fi
}

echo "guest,quiet,rep,seconds"
for r in $(seq 1 "$reps"); do
    for g in default debian; do
        for q in 0 1; do
            [ $((r % 2)) = 1 ] || q=$((1 - q))	# alternate which goes first
            echo "$g,$q,$r,$(boot_once "$g" "$q")"
        done
    done
done
