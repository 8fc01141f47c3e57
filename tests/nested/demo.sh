#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo: boots the default guest with kvmini, directly on hardware KVM or inside the nested L1.
#
# Usage: [GUEST_ARCH=x86|arm64] tests/nested/demo.sh BUILD
#   On a terminal the guest's shell is yours: type poweroff (or Ctrl-A x) to end it. Without a
#   terminal (CI) it boots to the KVMINI-READY marker, shows the boot, types poweroff and exits
#   with kvmini's status. KVMINI_NESTED=auto|1|0 as in run-tests.sh.
#   GUEST_ARCH=arm64 (make demo ARCH=arm64): BUILD/kvmini is arm64's and the guest
#   BUILD/guest/Image. On an arm64 host with KVM it boots as above; elsewhere (an x86 host, or
#   no KVM) inside the emulated arm64 L1 (tests/arm64/l1.sh), without a terminal even on one:
#   the guest boots to KVMINI-READY, runs poweroff (kvmini.run=poweroff), and the demo exits
#   with kvmini's status.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=l2lib.sh disable=SC1091
. "$here/l2lib.sh"
# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$here/../lib/kvm-where.sh"

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)

# runs where a fast /dev/kvm is: the host itself, or L1
boot_guest() {
    local interactive=$1
    l2_cmd kvmini "$BUILD"
    if [ "$interactive" = 1 ]; then
        echo "demo: kvmini run ${L2_CMD[*]:2}"
        echo "demo: type poweroff in the guest shell (or Ctrl-A x) to end the demo"
        local rc=0
        "${L2_CMD[@]}" || rc=$?
        echo "demo: kvmini exited with status $rc"
        return "$rc"
    fi
    trap '' PIPE
    local dir=${RESULTS:-$BUILD/nested}/demo rc=0
    vm_start "$dir" "${L2_CMD[@]}"
    vm_expect 'kvmini# ' 300 || rc=$?
    vm_clean_out
    if [ "$rc" != 0 ]; then
        echo "demo: the guest did not reach its shell (status $rc; kvmini stderr below)"
        cat "$dir/err"
        vm_kill
        return 1
    fi
    local shown
    shown=$(vm_clean_out | wc -l)
    echo
    echo "demo: guest is at its shell; typing: poweroff"
    vm_send poweroff || true
    rc=0
    vm_wait 120 || rc=$?
    vm_clean_out | tail -n +"$((shown + 1))"
    cat "$dir/err"
    vm_kill
    if [ "$rc" = 124 ]; then
        echo "demo: kvmini did not exit after poweroff"
        return 1
    fi
    echo "demo: kvmini exited with status $VM_STATUS"
    return "$VM_STATUS"
}

if [ "${L1:-0}" = 1 ]; then
    boot_guest "${L1_INTERACTIVE:-0}"
    exit $?
fi

# an arm64 guest where it cannot boot directly: the arm64 kvmini boots it inside the emulated
# arm64 L1 (busybox sh there, no terminal); retried once if the emulated L1 itself fails
arm64_l1_demo() {
    local t=$BUILD/arm64-demo attempt rc
    rm -rf "$t" && mkdir -p "$t"
    cp "$BUILD/kvmini" "$BUILD/guest/Image" "$BUILD/guest/initramfs.cpio.gz" "$t/"
    cat > "$t/demo.sh" <<'EOF'
# make demo ARCH=arm64 inside the arm64 L1 (busybox sh, in /t)
echo "demo: kvmini run --kernel Image --initrd initramfs.cpio.gz --append kvmini.run=poweroff"
timeout 300 ./kvmini run --kernel Image --initrd initramfs.cpio.gz --append kvmini.run=poweroff \
    < /dev/null > /tmp/demo.out 2>&1
st=$?
cat /tmp/demo.out
if ! grep -q '^KVMINI-READY' /tmp/demo.out; then
    echo "demo: the guest did not print KVMINI-READY"
    [ "$st" != 0 ] || st=1
fi
echo "demo: kvmini exited with status $st"
exit "$st"
EOF
    for attempt in 1 2; do
        rc=0
        L1_TIMEOUT=${L1_TIMEOUT:-600} "$here/../arm64/l1.sh" "$BUILD" "$t" demo.sh || rc=$?
        if [ "$attempt" = 2 ] || { [ "$rc" != 124 ] && [ "$rc" != 125 ]; }; then
            return "$rc"
        fi
        echo "demo: the emulated arm64 L1 failed on its own (status $rc); booting it once more"
    done
}

arch=${GUEST_ARCH:-x86}
kimage=bzImage
case $arch in
x86) ;;
arm64) kimage=Image ;;
*) echo "demo: GUEST_ARCH=$arch: x86 or arm64" >&2; exit 2 ;;
esac
for f in "$BUILD/kvmini" "$BUILD/guest/$kimage" "$BUILD/guest/initramfs.cpio.gz"; do
    [ -e "$f" ] || { echo "demo: $f missing (make all guest)" >&2; exit 1; }
done
if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    echo "demo: an arm64 kvmini on this $(uname -m) host: it boots the arm64 guest inside an" \
        "emulated arm64 L1 (qemu-system-aarch64 TCG with EL2, KVM inside; tests/arm64/l1.sh)," \
        "to KVMINI-READY, then poweroff; under a minute"
    arm64_l1_demo
    exit $?
fi
interactive=0
[ -t 0 ] && [ -t 1 ] && interactive=1
if kvm_boot_direct "$BUILD"; then
    echo "demo: $KVM_LINE"
    echo "demo: booting kvmini directly on this machine's KVM"
    boot_guest "$interactive"
    exit $?
fi
echo "demo: $KVM_LINE"
if [ "$arch" = arm64 ]; then
    echo "demo: booting the arm64 guest inside an emulated arm64 L1 (qemu-system-aarch64 TCG with" \
        "EL2, KVM inside; tests/arm64/l1.sh), to KVMINI-READY, then poweroff; under a minute"
    arm64_l1_demo
    exit $?
fi
echo "demo: booting kvmini inside a nested L1 (QEMU TCG with nested SVM, no /dev/kvm needed);" \
    "this takes a minute or two"
# shellcheck source=l1.sh disable=SC1091
. "$here/l1.sh"
limit=600
[ "$interactive" = 0 ] || limit=86400
# a non-interactive demo is retried once if the emulated L1 itself fails (no script status:
# 124/125; see run-tests.sh); an interactive one is the user's session and is not
for attempt in 1 2; do
    rc=0
    L1_INTERACTIVE=$interactive L1_TIMEOUT=${L1_TIMEOUT:-$limit} L1_LOG="$BUILD/nested/demo-console.log" \
        l1_run "$BUILD" "$here/demo.sh" "$BUILD" || rc=$?
    if [ "$interactive" = 1 ] || [ "$attempt" = 2 ] || { [ "$rc" != 124 ] && [ "$rc" != 125 ]; }; then
        exit "$rc"
    fi
    echo "demo: the nested L1 failed on its own (status $rc); booting it once more"
done
