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
# the gdb test's payload: an arm64 Image linked where kvmini loads it, and its ELF for gdb
aarch64-linux-gnu-as -o "$t/gdb-payload.o" "$here/gdb_payload.S" &&
    aarch64-linux-gnu-ld -Ttext=0x40000000 -o "$build/arm64/gdb-payload.elf" "$t/gdb-payload.o" &&
    aarch64-linux-gnu-objcopy -O binary "$build/arm64/gdb-payload.elf" "$t/gdb-payload.bin" || {
    echo "FAIL arm64-build: the gdb payload did not build"
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }
rm -f "$t/gdb-payload.o"
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
cp "$here/l1-lib.sh" "$here/run-gicv2.sh" "$t/"
# the unit tests' /var/tmp in the L1: ext4, so that O_DIRECT (cache=none) works there
rm -f "$t/vartmp.ext4"
mke2fs -q -t ext4 -F "$t/vartmp.ext4" 96M || { echo "FAIL arm64-vartmp: mke2fs (e2fsprogs, make deps)";
    echo "arm64: 0 passed, 1 failed, 0 skipped, 0 flaky"; exit 1; }

# gdb_checks DIR: what gdb-multiarch (tests/arm64/gdb-host.sh) saw, as PASS/FAIL lines
# shellcheck disable=SC2016 # gdb's $N values in regexes
gdb_checks() {
    local p=$1/gdb-payload.out k=$1/gdb-kernel.out addr bump loop step
    bump=$(aarch64-linux-gnu-nm "$build/arm64/gdb-payload.elf" | awk '$3 == "bump" { print $1 }' | sed 's/^0*//')
    loop=$(aarch64-linux-gnu-nm "$build/arm64/gdb-payload.elf" | awk '$3 == "loop" { print $1 }' | sed 's/^0*//')
    step=$(printf '%x' $((0x${bump:-0} + 4)))
    if ! command -v gdb-multiarch > /dev/null; then
        echo "FAIL gdb-multiarch: not installed (make deps)"; return
    fi
    expect() {  # NAME FILE REGEX
        if grep -a -q -E -- "$3" "$2" 2>/dev/null; then echo "PASS $1"; else
            echo "FAIL $1: gdb printed no line matching '$3'; its session:"
            sed 's/^/    /' "$2" 2>/dev/null | tail -n 30; fi
    }
    expect gdb-payload-sw-breakpoint "$p" "^Breakpoint 1, 0x0*$bump in bump"
    expect gdb-payload-registers "$p" '^\$1 = 1$'
    expect gdb-payload-disassembles "$p" '<bump>:[[:space:]]+adr[[:space:]]+x1'
    expect gdb-payload-stepi "$p" "^\\\$2 = 0x$step\$"
    expect gdb-payload-watchpoint "$p" '^New value = 1$'
    expect gdb-payload-fp-register "$p" '^\$4 = \{f = 0, u = 0, s = 0\}'
    expect gdb-payload-fp-after-step "$p" '^\$5 = \{f = [0-9.e-]+, u = 1, s = 1\}'
    expect gdb-payload-register-write "$p" '^\$6 = 0x4242$'
    expect gdb-payload-hw-breakpoint "$p" "^Breakpoint 3, 0x0*$loop in loop"
    expect gdb-payload-exited "$p" 'exited normally'
    addr=$(sed -n 's/^Breakpoint 1 at 0x\([0-9a-f]*\).*/\1/p' "$k" 2>/dev/null | tail -n 1)
    expect gdb-kernel-sw-breakpoint "$k" "^Breakpoint 1, 0x0*${addr:-none} in"
    expect gdb-kernel-pc "$k" "^pc +0x0*${addr:-none} "
    expect gdb-kernel-reads-code-mmu-on "$k" "^=> 0x0*${addr:-none}:[[:space:]]+[a-z]"
    expect gdb-kernel-stepi "$k" '^\$1 = 0xffff'
    expect gdb-kernel-hw-breakpoint "$k" "^Breakpoint 2, 0x0*${addr:-none} in"
    expect gdb-kernel-exited "$k" 'exited normally'
    echo "--- gdb's sessions: $1/gdb-payload.out, $1/gdb-kernel.out"
}

flaky=0 first=""
for attempt in 1 2; do
    nonce=$$-$attempt-$RANDOM
    echo "$nonce" > "$t/gdb-nonce"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    gdir=$build/arm64/gdb
    rm -rf "$gdir" && mkdir -p "$gdir"
    "$here/gdb-host.sh" "$port" "$build/arm64/l1-console.log" "$nonce" "$build/arm64/gdb-payload.elf" \
        "$gdir" > "$gdir/driver.log" 2>&1 &
    driver=$!
    out=$(L1_GDB_PORT=$port L1_TIMEOUT=${L1_TIMEOUT:-480} "$here/l1.sh" "$build" "$t" run.sh 2>&1)
    rc=$?
    kill "$driver" 2>/dev/null
    wait "$driver" 2>/dev/null
    out=$(printf '%s\n%s\n' "$out" "$(gdb_checks "$gdir")")
    [ "$rc" = 124 ] || [ "$rc" = 125 ] || break
    first=$(printf '%s\n' "$out" | tail -n 8)
    echo "arm64: attempt $attempt: the L1 did not finish (status $rc); booting it once more"
done
# the same board where the host's GIC is a GICv2 (an L1 booted with gic-version=2): the vGICv2
# and its v2m MSI frame
for attempt in 1 2; do
    gout=$(L1_GIC=2 L1_TIMEOUT=${L1_TIMEOUT:-480} "$here/l1.sh" "$build" "$t" run-gicv2.sh 2>&1)
    grc=$?
    [ "$grc" = 124 ] || [ "$grc" = 125 ] || break
    first=$(printf '%s\n%s\n' "$first" "$(printf '%s\n' "$gout" | tail -n 8)")
    echo "arm64: GICv2 attempt $attempt: the L1 did not finish (status $grc); booting it once more"
done
out=$(printf '%s\n%s\n' "$out" "$gout")
printf '%s\n' "$out" | grep -E '^(PASS|FAIL) |^    |^L1-|^boot-|kvm-smoke:|kvm \[|arm64-l1:|^SKIPPED |^arm64-unit:|:[FE]:'
pass=$(printf '%s\n' "$out" | grep -c '^PASS ')
fail=$(printf '%s\n' "$out" | grep -c '^FAIL ')
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    fail=1
    echo "FAIL arm64-l1: status $rc"
fi
if [ "$grc" != 0 ] && [ "$fail" = 0 ]; then
    fail=1
    echo "FAIL arm64-l1-gicv2: status $grc"
fi
if [ -n "$first" ] && [ "$fail" = 0 ]; then
    flaky=1
    echo "FLAKY arm64-smoke: passed on the second L1 boot; the first ended:"
    printf '%s\n' "$first" | sed 's/^/    /'
fi
echo "arm64: $pass passed, $fail failed, 0 skipped, $flaky flaky"
ufail=$(printf '%s\n' "$out" | sed -n 's/^arm64-unit: [0-9]* passed, \([0-9]*\) failed.*/\1/p')
[ "$fail" = 0 ] && [ "${ufail:-1}" = 0 ]
