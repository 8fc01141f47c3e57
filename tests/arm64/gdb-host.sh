#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The host's half of the arm64 gdb test: gdb-multiarch on this x86 machine debugs kvmini's guests inside the emulated arm64 L1 over its forwarded port, when the L1 says they are ready.
# shellcheck disable=SC2016 # the $ in single quotes are gdb's (registers, convenience variables)
#
# Usage: tests/arm64/gdb-host.sh PORT CONSOLE NONCE PAYLOAD-ELF OUTDIR
#   Waits for "GDB-READY NONCE payload" in the L1's console log, runs a gdb session against the
#   payload (writes OUTDIR/gdb-payload.out), then for "GDB-READY NONCE kernel ADDR" and a session
#   against the stock kernel with a breakpoint at ADDR (OUTDIR/gdb-kernel.out). run-l1.sh
#   prints the lines just before it starts kvmini: until kvmini listens, the connection closes
#   at once and gdb is started again (at most 60 times, a second apart; each attempt is kept
#   in the output). tests/arm64/smoke-test.sh checks what the sessions printed.
set -uo pipefail
[ $# -eq 5 ] || { echo "usage: $0 PORT CONSOLE NONCE PAYLOAD-ELF OUTDIR" >&2; exit 2; }
port=$1 console=$2 nonce=$3 elf=$4 out=$5

# ready WHAT: waits (up to 15 minutes) for the L1's GDB-READY line; prints its last field
ready() {
    local i line
    for ((i = 0; i < 4500; i++)); do
        line=$(tr -d '\r' < "$console" 2>/dev/null | grep -a "^GDB-READY $nonce $1" | tail -n 1)
        [ -n "$line" ] && { echo "${line##* }"; return 0; }
        sleep 0.2
    done
    return 1
}

# session OUT GDB-ARGS...: gdb-multiarch -batch until the stub answers a register read
session() {
    local out=$1 attempt
    shift
    : > "$out"
    for ((attempt = 1; attempt <= 60; attempt++)); do
        echo "--- attempt $attempt" >> "$out"
        timeout 300 gdb-multiarch -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
            -ex 'set architecture aarch64' -ex "target remote 127.0.0.1:$port" \
            -ex 'info registers pc' "$@" >> "$out.try" 2>&1 &
        wait $!    # in the background, so that a TERM from the test ends gdb too (trap below)
        cat "$out.try" >> "$out"
        grep -q -E '^pc +0x' "$out.try" && { rm -f "$out.try"; return 0; }
        rm -f "$out.try"
        sleep 1
    done
}

trap 'kill $(jobs -p) 2> /dev/null; exit 143' TERM
ready payload > /dev/null || exit 1
session "$out/gdb-payload.out" -ex "symbol-file $elf" \
    -ex 'break *bump' -ex continue -ex 'p $x19' -ex 'x/2i $pc' -ex stepi -ex 'p/x $pc' -ex delete \
    -ex 'watch *(long *)&counter' -ex continue -ex 'p *(long *)&counter' -ex 'p $d0' \
    -ex delete -ex stepi -ex 'p $d0' \
    -ex 'set var $x21 = 0x4242' -ex 'p/x $x21' -ex 'info registers cpsr' \
    -ex 'hbreak *loop' -ex continue -ex 'p $x19' -ex delete -ex continue
addr=$(ready kernel) || exit 1
session "$out/gdb-kernel.out" -ex "break *0x$addr" -ex continue -ex 'info registers pc sp' \
    -ex 'x/4i $pc' -ex stepi -ex 'p/x $pc' -ex delete \
    -ex "hbreak *0x$addr" -ex continue -ex 'p/x $pc' -ex delete -ex continue
