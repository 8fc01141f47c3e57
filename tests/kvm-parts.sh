#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The parts of `make check` that need a /dev/kvm, run where one is: on this machine, or (on a
# machine without one) inside the nested L1, where tests/check.sh starts this script.
#
# Usage: tests/kvm-parts.sh BUILD OUTDIR PART...
#   direct-kvm    BUILD/kvm-tests, one process per test (so a resumed run starts where the last
#                 one stopped, and every test's output is kept: OUTDIR/direct-kvm/TEST.log)
#   sanitize-kvm  the same tests built with clang ASan + UBSan (BUILD/asan/kvm-tests)
#   run-as-user   tests/run-as-user.sh
#   cli-errors-kvm  the cases of tests/cli-errors.sh that need a running VM
# Prints PASS/FAIL/SKIPPED/FLAKY lines and, per part, "PART: N passed, N failed, N skipped,
# N flaky" (also written to OUTDIR/PART.summary; OUTDIR/PART.status holds 0 or 1, PART.skips
# the SKIPPED lines, PART.seconds its time).
# A test that was started but never finished (the emulated L1 froze or died under it, and
# this is the resumed run) runs once more and counts as FLAKY, its first attempt's log kept as
# TEST.interrupted.log. Nothing else is retried.
set -uo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD OUTDIR PART..." >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
OUT=$2
shift 2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$OUT"
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

# part_tests PART BIN: one Check test per process; results in OUTDIR/PART/
part_tests() {
    local part=$1 bin=$2 dir="$OUT/$1" t rc pass=0 fail=0 skip=0 flaky=0 t0 line
    local -a env=(KVMINI_PAYLOADS="$BUILD/tests/kvm/payloads")
    [ "$part" != sanitize-kvm ] || env+=(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1)
    mkdir -p "$dir"
    : > "$OUT/$part.skips"
    : > "$OUT/$part.fails"	# its FAIL and FLAKY lines, for make check's list of them by name
    if [ ! -x "$bin" ]; then
        echo "FAIL $part: $bin is not built"
        return 1
    fi
    for t in $("$bin" --list); do
        if [ -f "$dir/$t.status" ]; then
            rc=$(cat "$dir/$t.status")    # finished in an earlier (interrupted) L1 run
        else
            if [ -f "$dir/$t.started" ]; then
                mv "$dir/$t.log" "$dir/$t.interrupted.log" 2>/dev/null
                echo "note: $part $t was interrupted (the L1 stopped under it); running it again"
                : > "$dir/$t.flaky"
            fi
            : > "$dir/$t.started"
            t0=$SECONDS
            echo "  .. $part $t"     # progress: the L1 watchdog wants output
            env "${env[@]}" timeout -k 10 "$TEST_TIMEOUT" "$bin" "$t" > "$dir/$t.log" 2>&1
            rc=$?
            echo "$((SECONDS - t0))" > "$dir/$t.seconds"
            echo "$rc" > "$dir/$t.status"
        fi
        line=$(grep -a '^SKIPPED ' "$dir/$t.log" | head -n 1)
        if [ "$rc" = 0 ] && [ -n "$line" ]; then
            skip=$((skip + 1))
            echo "SKIPPED $part ${line#SKIPPED }" | tee -a "$OUT/$part.skips"
        elif [ "$rc" = 0 ] && grep -a -q ': 1 passed, 0 failed, 0 skipped$' "$dir/$t.log"; then
            if [ -f "$dir/$t.flaky" ]; then
                flaky=$((flaky + 1))
                echo "FLAKY $part $t: passed on its second run; the first was interrupted by" \
                    "the L1 (log: $dir/$t.interrupted.log)" | tee -a "$OUT/$part.fails"
            else
                pass=$((pass + 1))
                echo "PASS $part $t ($(cat "$dir/$t.seconds" 2>/dev/null || echo ?)s)"
            fi
        else
            fail=$((fail + 1))
            echo "FAIL $part $t: status $rc$([ "$rc" = 124 ] && echo " (timed out after ${TEST_TIMEOUT}s)");" \
                "last lines of $dir/$t.log:" | tee -a "$OUT/$part.fails"
            grep -a -v '^[[:space:]]*$' "$dir/$t.log" | tail -n 12 | sed 's/^/    /'
        fi
    done
    summary "$part" "$pass" "$fail" "$skip" "$flaky"
}

# part_script PART CMD...: a script with its own "LABEL: N passed, N failed[, N skipped]" line
part_script() {
    local part=$1 rc p=0 f=0 s=0 line
    shift
    # the script's lines are shown indented: only this script's summary counts (tests/check.sh)
    if [ -f "$OUT/$part.status" ] && [ -f "$OUT/$part.summary" ]; then
        sed 's/^/    /' "$OUT/$part.log"
        cat "$OUT/$part.skips" "$OUT/$part.summary"
        return "$(cat "$OUT/$part.status")"
    fi
    echo "  .. $part"
    "$@" > "$OUT/$part.log" 2>&1
    rc=$?
    sed 's/^/    /' "$OUT/$part.log"
    grep -a '^SKIPPED ' "$OUT/$part.log" | tee "$OUT/$part.skips"
    line=$(grep -a -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$OUT/$part.log" | tail -n 1)
    if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
    fi
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        echo "FAIL $part: status $rc without a failed case"
    fi
    summary "$part" "$p" "$f" "$s" 0
}

summary() {
    local line="$1: $2 passed, $3 failed, $4 skipped, $5 flaky"
    echo "$line"
    echo "$line" > "$OUT/$1.summary"
    echo $(($3 > 0)) > "$OUT/$1.status"
    [ "$3" = 0 ]
}

status=0
for part in "$@"; do
    t0=$SECONDS
    case $part in
    direct-kvm) part_tests direct-kvm "$BUILD/kvm-tests" || status=1 ;;
    sanitize-kvm) part_tests sanitize-kvm "$BUILD/asan/kvm-tests" || status=1 ;;
    run-as-user) part_script run-as-user "$TOP/tests/run-as-user.sh" "$BUILD" || status=1 ;;
    cli-errors-kvm) part_script cli-errors-kvm env CLI_KVM_CASES=only "$TOP/tests/cli-errors.sh" "$BUILD" ||
        status=1 ;;
    *) echo "kvm-parts: unknown part '$part'" >&2; exit 2 ;;
    esac
    [ -f "$OUT/$part.seconds" ] || echo "$((SECONDS - t0))" > "$OUT/$part.seconds"
done
exit "$status"
