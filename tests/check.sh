#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make check's test run (after make has built everything): says where each part runs and why,
# runs every part, and ends with one line of counts. Usage: tests/check.sh BUILD
#
# Where the parts that need a /dev/kvm run (decided by `kvmini host`):
#   hardware or paravirtual /dev/kvm here  -> on this machine
#   none (missing, or not this user's)     -> together, inside one nested L1 boot (QEMU TCG with
#                                             nested SVM: a real KVM; tests/nested/l1.sh)
# The Linux boot cases (tests/nested/run-tests.sh) run directly on VT-x/AMD-V and in their own
# L1 elsewhere. NESTED=0 leaves out everything that needs the L1 (reported as skipped).
# CHECK_ONLY="part ..." runs just those parts (names as in the plan); the others are left out
# of the table and the counts, and the last line says so.
# Output: each part's own lines, then a table and the last line
#   "make check: N passed, N failed, N skipped, N flaky"; status 1 when anything failed.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NESTED=${NESTED:-1}
CHECK=$BUILD/check
rm -rf "$CHECK"
mkdir -p "$CHECK"

kind=$("$BUILD/kvmini" host --kind 2>/dev/null) || true
where_line=$("$BUILD/kvmini" host 2>&1) || true
case $kind in
hardware|paravirtual) kvm_where=here ;;
none) if [ "$NESTED" = 1 ]; then kvm_where=l1; else kvm_where=skip; fi ;;
*) echo "check: cannot run $BUILD/kvmini host" >&2; exit 1 ;;
esac
if [ "$kind" = hardware ] && [ "${KVMINI_NESTED:-auto}" != 1 ]; then
    nested_where=here
elif [ "$NESTED" = 1 ]; then
    nested_where=l1
else
    nested_where=skip
fi

# the parts, in order: NAME WHERE(host|kvm|nested) DESCRIPTION
PARTS=(
    "unit host Check unit tests"
    "acpi-iasl host the generated ACPI tables through iasl"
    "sanitize-unit host unit tests under clang ASan + UBSan"
    "tsan host disk, virtio-blk, virtio-balloon, virtio-net, virtio-rng and API unit tests under TSan"
    "fuzz-smoke host libFuzzer targets: stored inputs, ${FUZZ_SMOKE_TIME:-10} s each"
    "cli-errors host bad command lines and files"
    "blk-matrix-cli host the block benchmark's options and report"
    "structure host the include graph against the layer order (docs/architecture.md); no function over 80 lines; the source map names every file"
    "nested-selftest host the boot harness's own accounting, on fake cases"
    "arm64 host the arm64 KVM smoke test (cross-built) inside an emulated arm64 L1 (qemu-system-aarch64)"
    "direct-kvm kvm tiny payloads on a real KVM (tests/kvm)"
    "sanitize-kvm kvm the same under clang ASan + UBSan"
    "cli-errors-kvm kvm the bad-input cases that need a running VM"
    "run-as-user kvm kvmini as nobody under each --seccomp"
    "nested nested Linux boots (tests/nested)"
)

where_of() {
    case $1 in
    host) echo here ;;
    kvm) echo "$kvm_where" ;;
    nested) echo "$nested_where" ;;
    esac
}
say_where() {
    case $1 in
    here) echo "on this machine" ;;
    l1) echo "inside the nested L1" ;;
    skip) echo "SKIPPED" ;;
    esac
}

echo "check: $where_line"
case $kvm_where in
here) echo "check: the parts that need a /dev/kvm run on this machine's" ;;
l1) echo "check: the parts that need a /dev/kvm run inside one nested L1 boot (QEMU TCG with" \
        "nested SVM gives a real KVM there; a few minutes)" ;;
skip) echo "check: no /dev/kvm and NESTED=0: the parts that need a KVM are SKIPPED" ;;
esac
case $nested_where in
here) echo "check: Linux boots run directly (hardware virtualization)" ;;
l1) echo "check: Linux boots run inside the nested L1 ($(case $kind in
        hardware) echo "KVMINI_NESTED=1" ;;
        paravirtual) echo "this /dev/kvm cannot run a kernel in useful time" ;;
        *) echo "no /dev/kvm here" ;; esac))" ;;
skip) echo "check: NESTED=0: the Linux boots are SKIPPED" ;;
esac
echo "check: plan:"
for p in "${PARTS[@]}"; do
    read -r name w desc <<< "$p"
    printf 'check:   %-15s %-22s %s\n' "$name" "$(say_where "$(where_of "$w")")" "$desc"
done

ONLY=${CHECK_ONLY:-}
for o in $ONLY; do
    printf '%s\n' "${PARTS[@]}" | grep -q "^$o " || { echo "check: no part named '$o'" >&2; exit 2; }
done
# selected NAME: whether this run includes the part
selected() {
    [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]
}

declare -A RES SEC
# run_part NAME CMD...: output to the terminal and CHECK/NAME.log; counts from its summary line
run_part() {
    local name=$1 t0=$SECONDS rc
    shift
    selected "$name" || return 0
    echo
    echo "=== $name"
    "$@" 2>&1 | tee "$CHECK/$name.log"
    rc=${PIPESTATUS[0]}
    SEC[$name]=$((SECONDS - t0))
    record "$name" "$rc" "$CHECK/$name.log"
}

# record NAME STATUS LOG: the sum of the log's "LABEL: N passed, N failed[, N skipped][, N
# flaky]" lines, or 1 passed / 1 failed by the status when it has none
record() {
    local name=$1 rc=$2 log=$3 p=0 f=0 s=0 k=0 n=0 line
    while IFS= read -r line; do
        [[ $line =~ ^[a-z0-9-]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?(,\ ([0-9]+)\ flaky)? ]] || continue
        p=$((p + BASH_REMATCH[1])) f=$((f + BASH_REMATCH[2]))
        s=$((s + ${BASH_REMATCH[4]:-0})) k=$((k + ${BASH_REMATCH[6]:-0})) n=$((n + 1))
    done < <(grep -a -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null)
    if [ "$n" = 0 ]; then
        if [ "$rc" = 0 ]; then p=1; else f=1; fi
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1	# a failure its counts do not show (it ended early)
        echo "FAIL $name: status $rc"
    fi
    RES[$name]="$p $f $s $k"
    # each skip named by its part: "SKIPPED PART TEST: reason"
    grep -a -h '^SKIPPED ' "$log" 2>/dev/null | while IFS= read -r line; do
        line=${line#SKIPPED }
        [[ $line == "$name "* ]] || line="$name $line"
        echo "SKIPPED $line"
    done >> "$CHECK/skipped.txt"
    # each failure and flaky case by name, for the summary at the end (a CI log is read from
    # its tail): "FAIL ..." lines and Check's "file:line:F:..." ones
    grep -a -h -E '^FAIL |^FLAKY |:[0-9]+:[FE]:' "$log" 2>/dev/null | sed "s/^/$name: /" \
        >> "$CHECK/failed.txt"
}

skip_part() {
    local name=$1 why=$2
    selected "$name" || return 0
    echo
    echo "=== $name"
    echo "SKIPPED $name all: $why" | tee -a "$CHECK/skipped.txt"
    RES[$name]="0 0 1 0"
    SEC[$name]=0
}

tsan_run() {
    local s rc=0
    for s in ${TSAN_SUITES:-disk virtio-blk virtio-balloon virtio-net virtio-rng virtio-vsock-hybrid api}; do
        echo "  SANITIZE  clang + thread: $s"
        TSAN_OPTIONS=halt_on_error=1 CK_RUN_SUITE=$s "$BUILD/tsan/unit-tests" || rc=1
    done
    return "$rc"
}

# ---- the parts that need a /dev/kvm
KVM_PARTS=()
for p in direct-kvm sanitize-kvm cli-errors-kvm run-as-user; do
    selected "$p" && KVM_PARTS+=("$p")
done
kvm_l1() {
    # shellcheck source=nested/l1.sh disable=SC1091
    . "$TOP/tests/nested/l1.sh"
    local attempt rc=0 t0=$SECONDS
    # one vCPU: the kvm tests froze a 2-vCPU L1 in 2 of 2 tries, a 1-vCPU one in none so far
    for attempt in 1 2 3; do
        rc=0
        L1_SMP=${L1_SMP_KVM:-1} L1_KEEP_RESULTS=$([ "$attempt" = 1 ] && echo 0 || echo 1) \
        L1_RESULTS="$BUILD/nested/results-kvm-parts" L1_TIMEOUT=${L1_TIMEOUT_KVM:-1800} \
        L1_STALL=${L1_STALL:-330} L1_LOG="$BUILD/nested/kvm-parts-console.log" \
            l1_run "$BUILD" "$TOP/tests/kvm-parts.sh" "$BUILD" "$BUILD/nested/results-kvm-parts" \
            "${KVM_PARTS[@]}" || rc=$?
        [ "$rc" = 124 ] || [ "$rc" = 125 ] || break
        cp "$BUILD/nested/kvm-parts-console.log" "$BUILD/nested/kvm-parts-console.failed-$attempt.log"
        echo "note: the nested L1 ended without a status ($rc: it froze or its kernel failed);" \
            "running it again from the first unfinished test (console: kvm-parts-console.failed-$attempt.log)"
    done
    echo "check: the L1 run of the KVM parts took $((SECONDS - t0)) s"
    return "$rc"
}
# after the L1 run: each part's counts and seconds as tests/kvm-parts.sh left them
collect_l1() {
    local out="$BUILD/nested/results-kvm-parts" p
    for p in "${KVM_PARTS[@]}"; do
        SEC[$p]=$(cat "$out/$p.seconds" 2>/dev/null || echo 0)
        if [ -s "$out/$p.summary" ]; then
            cp "$out/$p.summary" "$CHECK/$p.log"
            cat "$out/$p.skips" >> "$CHECK/$p.log" 2>/dev/null
            # the failures by name (a test's, or a script's own FAIL lines)
            grep -a -h -E '^(FAIL|FLAKY) ' "$out/$p.fails" "$out/$p.log" >> "$CHECK/$p.log" 2>/dev/null
            record "$p" "$(cat "$out/$p.status" 2>/dev/null || echo 1)" "$CHECK/$p.log"
        else
            echo "FAIL $p: the nested L1 run did not get to it (console: $BUILD/nested/kvm-parts-console.log)"
            RES[$p]="0 1 0 0"
        fi
    done
}
# ---- the nested L1 chain, in the background: the KVM parts (when there is no /dev/kvm here)
# and then the Linux boots, one L1 after the other with one vCPU each, while the parts that
# need no KVM run here on the other CPU; the boots' second L1 joins when those are done
l1_chain() {
    if [ "$kvm_where" = l1 ] && [ "${#KVM_PARTS[@]}" -gt 0 ]; then
        echo "=== ${KVM_PARTS[*]}: inside the nested L1"
        (kvm_l1)	# a subshell: l1_run exports L1_RESULTS, which the boot cases must not inherit
    fi
    if [ "$nested_where" = l1 ] && selected nested; then
        local t0=$SECONDS rc=0
        echo
        echo "=== nested"
        "$TOP/tests/nested/run-tests.sh" "$BUILD" 2>&1 | tee "$CHECK/nested.log"
        rc=${PIPESTATUS[0]}
        echo "$rc" > "$CHECK/nested.status"
        echo $((SECONDS - t0)) > "$CHECK/nested.seconds"
    fi
}
chain_pid=""
# the boot cases' second lane (a second L1, tests/nested/run-tests.sh) starts once the parts
# that run on this machine are done and the second CPU is free
export NESTED_LANE2_AFTER=$CHECK/host-parts-done
if { [ "$kvm_where" = l1 ] && [ "${#KVM_PARTS[@]}" -gt 0 ]; } || { [ "$nested_where" = l1 ] && selected nested; }; then
    echo "check: the nested L1 runs in the background from now on (its output follows the parts"
    echo "check: that run here; as it goes: tail -f $CHECK/l1-chain.log)"
    l1_chain > "$CHECK/l1-chain.log" 2>&1 &
    chain_pid=$!
fi

# ---- the parts that run here
run_part unit "$BUILD/unit-tests"
run_part acpi-iasl "$TOP/tests/acpi-iasl.sh" "$BUILD"
run_part sanitize-unit env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/asan/unit-tests"
run_part tsan tsan_run
run_part fuzz-smoke make -C "$TOP" --no-print-directory BUILD="$BUILD" fuzz-smoke
run_part cli-errors env CLI_KVM_CASES="$([ "$kvm_where" = here ] && echo here || echo defer)" \
    "$TOP/tests/cli-errors.sh" "$BUILD"
run_part blk-matrix-cli "$TOP/tests/bench/blk-matrix-cli.sh" "$BUILD"
run_part structure "$TOP/tests/tools/structure-test.sh"
run_part nested-selftest "$TOP/tests/nested/selftest.sh" "$BUILD"
run_part arm64 "$TOP/tests/arm64/smoke-test.sh" "$BUILD"

case $kvm_where in
here)
    for p in "${KVM_PARTS[@]}"; do
        run_part "$p" "$TOP/tests/kvm-parts.sh" "$BUILD" "$CHECK/kvm" "$p"
    done ;;
skip)
    for p in "${KVM_PARTS[@]}"; do
        skip_part "$p" "no /dev/kvm here ($kind) and NESTED=0 (the nested L1 is where it would run)"
    done ;;
esac
: > "$NESTED_LANE2_AFTER"

# ---- what ran in the nested L1: its output, then its counts
if [ -n "$chain_pid" ]; then
    echo
    echo "check: the nested L1 (output so far, then as it comes):"
    tail -n +1 -f --pid="$chain_pid" "$CHECK/l1-chain.log"
    wait "$chain_pid"
    [ "$kvm_where" != l1 ] || [ "${#KVM_PARTS[@]}" = 0 ] || collect_l1
    if [ "$nested_where" = l1 ] && selected nested; then
        SEC[nested]=$(cat "$CHECK/nested.seconds" 2>/dev/null || echo 0)
        record nested "$(cat "$CHECK/nested.status" 2>/dev/null || echo 1)" "$CHECK/nested.log"
    fi
fi
case $nested_where in
skip) skip_part nested "NESTED=0" ;;
here) run_part nested "$TOP/tests/nested/run-tests.sh" "$BUILD" ;;
esac

# ---- the table and the counts
echo
echo "check: part            where                 passed failed skipped flaky  seconds"
tp=0 tf=0 ts=0 tk=0
for p in "${PARTS[@]}"; do
    read -r name w _ <<< "$p"
    selected "$name" || continue
    read -r a b c d <<< "${RES[$name]:-0 1 0 0}"
    tp=$((tp + a)) tf=$((tf + b)) ts=$((ts + c)) tk=$((tk + d))
    printf 'check: %-15s %-22s %6d %6d %7d %5d %8d\n' "$name" "$(say_where "$(where_of "$w")")" \
        "$a" "$b" "$c" "$d" "${SEC[$name]:-0}"
done
if [ -s "$CHECK/skipped.txt" ]; then
    echo "check: skipped, with the reasons (also in $CHECK/skipped.txt):"
    sed 's/^/check:   /' "$CHECK/skipped.txt"
fi
if [ -s "$CHECK/failed.txt" ]; then
    echo "check: failures and flaky cases, by name (also in $CHECK/failed.txt):"
    head -n 40 "$CHECK/failed.txt" | cut -c1-300 | sed 's/^/check:   /'
    [ "$(wc -l < "$CHECK/failed.txt")" -le 40 ] || echo "check:   (and more: see the file)"
fi
# expected_skip PART TEST: whether tests/expected-skips lists it for this user and machine
expected_skip() {
    local who sit part test me
    me=$([ "$(id -u)" = 0 ] && echo root || echo user)
    while read -r who sit part test; do
        case $who in ''|'#'*) continue ;; esac
        [ "$who" = any ] || [ "$who" = "$me" ] || continue
        [ "$sit" = any ] || [ "$sit" = "$kind" ] || continue
        # shellcheck disable=SC2053 # PART is a pattern
        [[ $1 == $part ]] && [ "$2" = "$test" ] && return 0
    done < "$TOP/tests/expected-skips"
    return 1
}
# a skip nobody expected fails the run (NESTED=0 asked for its skips)
if [ "$NESTED" = 1 ]; then
    while IFS= read -r line; do
        id=${line#SKIPPED }
        id=${id%%: *}
        read -r part test <<< "$id"
        if ! expected_skip "$part" "$test"; then
            echo "FAIL unexpected-skip $part $test: not in tests/expected-skips for a $kind machine as $(id -un): ${line#*: }"
            tf=$((tf + 1))
        fi
    done < <(cat "$CHECK/skipped.txt" 2>/dev/null)
fi
echo "make check: $tp passed, $tf failed, $ts skipped, $tk flaky${ONLY:+ (only: $ONLY)}"
[ "$tf" = 0 ]
