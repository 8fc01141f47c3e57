#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make check's arm64 part: the arm64 KVM smoke test and kvmini (cross-built) booting Debian's stock arm64 kernel, inside the emulated arm64 L1; counts the PASS/FAIL lines.
#
# Usage: tests/arm64/smoke-test.sh BUILD      (prints "arm64: N passed, N failed, 0 skipped, N flaky")
# An L1 that does not finish or ends without a status (the emulator's stalls, docs/nested.md)
# is booted once more; a pass then is counted as flaky and the first attempt's end is shown.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD" >&2; exit 2; }
build=$(mkdir -p "$1" && cd "$1" && pwd)
t=$build/arm64/t
mkdir -p "$t"
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
for tool in "$CC" aarch64-linux-gnu-as aarch64-linux-gnu-objcopy; do
    command -v "$tool" > /dev/null || { echo "FAIL arm64-toolchain: $tool missing (make deps)";
        echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
done
"$CC" -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$t/kvm-smoke" "$here/kvm_smoke.c" &&
    aarch64-linux-gnu-as -o "$t/smoke.o" "$here/smoke.S" &&
    aarch64-linux-gnu-objcopy -O binary -j .text "$t/smoke.o" "$t/smoke.bin" || {
    echo "FAIL arm64-build: the smoke test did not cross-build"
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
rm -f "$t/smoke.o"
# kvmini itself (make check-build cross-builds it) and a stock-kernel guest: Debian's arm64
# Image and a busybox initramfs that says it is up, counts its CPUs and powers off
kvmini=$build/arm64/build/kvmini
[ -x "$kvmini" ] || { echo "FAIL arm64-kvmini: $kvmini is not built (make ARCH=arm64)";
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
"$here/l1.sh" --fetch-only "$build" || { echo "FAIL arm64-packages: the arm64 kernel and busybox";
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
cp "$kvmini" "$t/kvmini"
[ -x "$build/arm64/build/unit-tests" ] || { echo "FAIL arm64-unit: not built (make check-build)";
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
cp "$build/arm64/build/unit-tests" "$t/unit-tests"
cp "$(ls "$build"/arm64/root/boot/vmlinuz-* | head -n1)" "$t/Image"
"$here/l2-initrd.sh" "$build/arm64/root" "$t/l2.cpio.gz" || { echo "FAIL arm64-l2-initrd";
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
cp "$here/run-l1.sh" "$t/run.sh"

flaky=0 first=""
for attempt in 1 2; do
    out=$(L1_TIMEOUT=${L1_TIMEOUT:-480} "$here/l1.sh" "$build" "$t" run.sh 2>&1)
    rc=$?
    [ "$rc" = 124 ] || [ "$rc" = 125 ] || break
    first=$(printf '%s\n' "$out" | tail -n 8)
    echo "arm64: attempt $attempt: the L1 did not finish (status $rc); booting it once more"
done
printf '%s\n' "$out" | grep -E '^(PASS|FAIL) |^    |^L1-|^boot-|kvm-smoke:|kvm \[|arm64-l1:|^SKIPPED |^arm64-unit:|:[FE]:'
pass=$(printf '%s\n' "$out" | grep -c '^PASS ')
fail=$(printf '%s\n' "$out" | grep -c '^FAIL ')
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    fail=1
    echo "FAIL arm64-l1: status $rc"
fi
if [ -n "$first" ] && [ "$fail" = 0 ]; then
    flaky=1
    echo "FLAKY arm64-smoke: passed on the second L1 boot; the first ended:"
    printf '%s\n' "$first" | sed 's/^/    /'
fi
echo "arm64: $pass passed, $fail failed, 0 skipped, $flaky flaky"
ufail=$(printf '%s\n' "$out" | sed -n 's/^arm64-unit: [0-9]* passed, \([0-9]*\) failed.*/\1/p')
[ "$fail" = 0 ] && [ "${ufail:-1}" = 0 ]
