#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Linux-boot tests of the VMM: boots L1 once (or runs directly on hardware KVM) and runs every L2 case.
#
# Usage: tests/nested/run-tests.sh BUILD        (make nested-test)
#   L2_VMM=kvmini (default) tests BUILD/kvmini; L2_VMM=qemu runs the same cases on QEMU microvm
#   (to validate the harness). KVMINI_NESTED=auto|1|0: auto (default) runs directly where
#   `kvmini host` says hardware (a /dev/kvm on VT-x/AMD-V), else inside the nested L1. CASE_TIMEOUT=120 is the
#   limit in seconds on each step of a case.
#   CASES="smp_stdin_poweroff append_reboot memory_panic" picks cases; L2_TRACE=1 writes a
#   bash trace of the cases to <results>/l2/trace.
# Prints "PASS name (Ns)" or "FAIL name: reason" per check, "FLAKY case" for a case that passed
# only on its second attempt (retried only for the nested L1's documented failures: a stall or
# an L2 triple fault; its first attempt's failure and kvmini's stderr follow), "SKIPPED" with a
# reason, then "nested: N passed, N failed, N skipped, N flaky"; exits 1 if any check failed.
# A case that ends non-zero without a failed check, or with fewer result lines than its plan,
# fails naming where it stopped; CASES with an unknown name is an error (status 2). More than
# two flaky cases in a run, or a case flaky in two runs in a row, fail the run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=l2lib.sh disable=SC1091
. "$here/l2lib.sh"
# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$here/../lib/kvm-where.sh"
# shellcheck source=cases-disk.sh disable=SC1091
. "$here/cases-disk.sh"
# shellcheck source=cases-trace.sh disable=SC1091
. "$here/cases-trace.sh"
# shellcheck source=cases-bench.sh disable=SC1091
. "$here/cases-bench.sh"
# shellcheck source=cases-pci.sh disable=SC1091
. "$here/cases-pci.sh"
# shellcheck source=cases-gdb.sh disable=SC1091
. "$here/cases-gdb.sh"
# shellcheck source=cases-stress.sh disable=SC1091
. "$here/cases-stress.sh"
# shellcheck source=cases-api.sh disable=SC1091
. "$here/cases-api.sh"
# shellcheck source=cases-net.sh disable=SC1091
. "$here/cases-net.sh"

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
L2_VMM=${L2_VMM:-kvmini}
CASE_TIMEOUT=${CASE_TIMEOUT:-120}
# the guests boot with "quiet" unless a case gives its own --cmdline (l2lib.sh's l2_quiet);
# the cases read kernel messages with dmesg in the guest
export L2_QUIET=${L2_QUIET:-1}


# ---------------------------------------------------------------- the cases (run where KVM is)
PASSED=0
FAILED=0
FLAKY=0
SKIPPED=0
RESULT_LINES=()
CASE_PLAN=0     # the result lines the running case declares (plan N)
LAST_STEP=""    # the last check it recorded: where a case that ends early stopped
ok() { RESULT_LINES+=("PASS $1 ($2s)"); LAST_STEP=$1; }
bad() { RESULT_LINES+=("FAIL $1: $2"); LAST_STEP=$1; }
# plan N: the case records N result lines when it runs to its end (fewer is a FAIL)
plan() { CASE_PLAN=$1; }
lastlines() { vm_clean_out | grep -a -v '^[[:space:]]*$' | tail -n 3 | tr '\n' '|'; }
errline() { tr '\n' ' ' < "$VM_DIR/err" | cut -c1-200; }

# step NAME RC DETAIL: records a sub-check; returns 124 (stall) so that the case is retried
step() {
    local name=$1 rc=$2 detail=$3
    echo "  .. $name: $([ "$rc" = 0 ] && echo ok || echo "failed ($rc)")" # progress (L1's watchdog)
    case $rc in
    0) ok "$name" "$(vm_elapsed)"; return 0 ;;
    124) bad "$name" "timed out after ${CASE_TIMEOUT}s ($detail); last output: $(lastlines)"
        return 124 ;;
    *) [ -n "${VM_PID:-}" ] || detail+=" (VMM exited with status ${VM_STATUS:-?})"
        bad "$name" "$detail; last output: $(lastlines) stderr: $(errline)"; return 1 ;;
    esac
}

boot_to_shell() {
    local rc=0
    vm_expect '^KVMINI-READY$' "$CASE_TIMEOUT" || rc=$?
    step "$1" "$rc" "no KVMINI-READY line" || return $?
    rc=0
    vm_expect 'kvmini# ' "$CASE_TIMEOUT" || rc=$?
    step "$1-shell-prompt" "$rc" "no shell prompt" || return $?
    # From here on only KERN_EMERG messages (a panic) reach the console, so that a kernel
    # message cannot split a line the checks read (a clocksource warning once cut
    # "IW-0-0" in two); the cases read kernel messages with dmesg in the guest.
    vm_send 'dmesg -n 1' || true
}

expect_exit() { # NAME WANT(zero|nonzero)
    local rc=0
    vm_wait "$CASE_TIMEOUT" || rc=$?
    if [ "$rc" = 124 ]; then
        step "$1" 124 "VMM still running"
        return 124
    fi
    if [ "$2" = zero ] && [ "$VM_STATUS" != 0 ]; then
        step "$1" 1 "exit status $VM_STATUS, wanted 0"
        return 1
    fi
    if [ "$2" = nonzero ] && [ "$VM_STATUS" = 0 ]; then
        step "$1" 1 "exit status 0, wanted non-zero"
        return 1
    fi
    step "$1" 0 ""
}

# boot with 2 vCPUs, check the count, run a typed command, power off with "poweroff"
case_smp_stdin_poweroff() {
    plan "$([ "$L2_VMM" = kvmini ] && echo 7 || echo 5)"
    l2_cmd "$L2_VMM" "$BUILD" --cpus 2
    vm_start "$WORK/smp" "${L2_CMD[@]}" || return 1
    boot_to_shell boot-ready || return $?
    local rc=0
    vm_expect '^KVMINI-CPUS=2$' 5 || rc=$?
    [ "$rc" = 124 ] && rc=1
    step cpus-2 "$rc" "no KVMINI-CPUS=2 line ($(vm_answers | grep -a -m1 KVMINI-CPUS || true))" || return $?
    if [ "$L2_VMM" = kvmini ]; then
        # kvmini's own memory, guest RAM aside, at an idle shell with 2 vCPUs: the 2 MiB the
        # project promises (docs/benchmarks.md, make bench)
        local ov
        sleep 2
        read -r ov _ <<< "$(overhead_kb "$VM_PID" $((512 << 20)))"
        rc=0
        [ "${ov:-999999}" -le 2048 ] || rc=1
        step vmm-rss-within-2mib "$rc" "kvmini uses ${ov:-?} kB beyond guest RAM (more than 2048): $(awk '/^[0-9a-f]+-/ { m = $6 } /^Rss:/ && $2 > 256 { printf "%s %s kB; ", m ? m : "anon", $2 }' "/proc/$VM_PID/smaps")" || return $?
    fi
    # shellcheck disable=SC2016 # expanded by the guest's shell
    vm_send 'echo hel""lo-$((6*7))' || true
    rc=0
    vm_expect '^hello-42$' "$CASE_TIMEOUT" || rc=$?
    step stdin-command "$rc" "no hello-42 after typing a command" || return $?
    vm_send 'poweroff' || true
    expect_exit poweroff-exit-0 zero || return $?
    if [ "$L2_VMM" = kvmini ] && ! grep -q 'guest powered off' "$VM_DIR/err"; then
        bad poweroff-message "no 'guest powered off' line on stderr: $(errline)"
    fi
    if [ "$L2_VMM" = kvmini ]; then
        if grep -q 'boot-timer 0x7b: .* ms after launch' "$VM_DIR/err"; then
            ok boot-timer-logged "$(vm_elapsed)"
        else
            bad boot-timer-logged "the guest's boot-timer write was not logged: $(errline)"
        fi
    fi
}

# --append reaches the guest (kvmini.run=), then "reboot" ends the VMM with status 0
case_append_reboot() {
    plan 4
    # shellcheck disable=SC2016 # expanded by the guest's shell
    l2_cmd "$L2_VMM" "$BUILD" --append 'kvmini.run=echo+append-$((2*21))'
    vm_start "$WORK/reboot" "${L2_CMD[@]}" || return 1
    boot_to_shell boot-ready-append || return $?
    local rc=0
    vm_expect '^append-42$' 5 || rc=$?
    [ "$rc" = 124 ] && rc=1
    step append-cmdline "$rc" "kvmini.run= from --append did not run" || return $?
    vm_send 'reboot' || true
    expect_exit reboot-exit-0 zero || return $?
}

# --memory 5G (RAM above the 4 GiB hole) and --cmdline, then a panic ends the VMM non-zero
case_memory_panic() {
    plan "$([ "$L2_VMM" = kvmini ] && echo 5 || echo 4)"
    l2_cmd "$L2_VMM" "$BUILD" --memory 5G --cmdline "$L2_DEFAULT_CMDLINE quiet"
    vm_start "$WORK/panic" "${L2_CMD[@]}" || return 1
    boot_to_shell boot-ready-5g || return $?
    local kb rc=0
    kb=$(vm_answers | sed -n 's/^KVMINI-MEM-KB=\([0-9]*\)$/\1/p' | head -n1)
    [ -n "$kb" ] && [ "$kb" -gt 4194304 ] || rc=1
    step memory-5g "$rc" "MemTotal ${kb:-?} kB, wanted > 4194304" || return $?
    vm_send 'echo c > /proc/sysrq-trigger' || true
    expect_exit panic-exit-nonzero nonzero || return $?
    if [ "$L2_VMM" = kvmini ]; then
        if grep -q 'guest kernel panicked (pvpanic' "$VM_DIR/err"; then
            ok panic-message "$(vm_elapsed)"
        else
            bad panic-message "no 'guest kernel panicked (pvpanic ...)' line on stderr: $(errline)"
        fi
    fi
}

# case_verdict NAME RC: adds a FAIL line when the case ended non-zero without one, or with
# fewer (or more) result lines than its plan; returns 0 when the case passed
case_verdict() {
    local name=${1#case_} rc=$2 n=${#RESULT_LINES[@]} fails
    fails=$(printf '%s\n' "${RESULT_LINES[@]}" | grep -c '^FAIL')
    if [ "$rc" != 0 ] && [ "$fails" = 0 ]; then
        bad "$name" "the case ended with status $rc after ${LAST_STEP:-its start} with no check failed (a setup command or helper failed)"
    elif [ "$rc" = 0 ] && [ "$n" -lt "$CASE_PLAN" ]; then
        bad "$name" "the case ended after $n of its $CASE_PLAN result lines (last: ${LAST_STEP:-none})"
    elif [ "$rc" = 0 ] && [ "$CASE_PLAN" = 0 ]; then
        bad "$name" "the case declares no plan"
    elif [ "$n" -gt "$CASE_PLAN" ]; then
        bad "$name" "the case recorded $n result lines, its plan says $CASE_PLAN (a wrong plan can hide a check that never ran)"
    fi
    ! printf '%s\n' "${RESULT_LINES[@]}" | grep -q '^FAIL'
}

# retry_reason RC: why a failed attempt may be retried, or nothing. Only the nested L1's own
# documented failures (docs/nested.md) qualify, and only there: on hardware nothing is retried.
retry_reason() {
    [ "${L1:-0}" = 1 ] || return 0
    if [ "$1" = 124 ]; then
        echo "stalled (${CASE_TIMEOUT}s without progress: the emulated L1's known L2 stall)"
    elif grep -q 'KVM_EXIT_SHUTDOWN (triple fault)' "${VM_DIR:-/nonexistent}/err" 2>/dev/null &&
        ! grep -q -E 'needs reset|driver error|seccomp: blocked|Sanitizer' "$VM_DIR/err"; then
        echo "the L2 guest triple-faulted (the emulated SVM resets L2 guests, QEMU's too)"
    fi
}

# case_evidence NAME: what a failed attempt leaves for the report
case_evidence() {
    [ "${#RESULT_LINES[@]}" = 0 ] || printf '%s\n' "${RESULT_LINES[@]}" | grep '^FAIL'
    if [ -n "${VM_DIR:-}" ]; then	# (a case that booted an L2 guest)
        echo "--- $1: last console lines:"
        vm_clean_out | tail -n 15 | sed 's/^/    /'
        echo "--- $1: kvmini's stderr:"
        sed 's/^/    /' "$VM_DIR/err"
    fi
}

run_case() {
    local name=$1 attempt rc why first="" done="$WORK/done/$1" started="$WORK/done/$1.started"
    local t0=$SECONDS
    # a resumed L1 run (the previous L1 died) replays the cases that already finished
    if [ -f "$done" ]; then
        echo "note: $name finished in an earlier L1 run; its results:"
        run_case_tally < "$done"
        return 0
    fi
    echo "case $name"
    if [ -f "$started" ]; then	# the L1 died under this case: this is its second attempt
        first="--- ${name#case_}: its first attempt was cut off: the nested L1 froze or died (console: l1-console.failed-*.log)"
    fi
    : > "$started"
    for attempt in 1 2; do
        RESULT_LINES=() VM_DIR="" CASE_PLAN=0 LAST_STEP=""
        rc=0
        "$name" || rc=$?
        vm_kill
        case_verdict "$name" "$rc" && break
        why=$(retry_reason "$rc")
        if [ "$attempt" != 1 ] || [ -n "$first" ] || [ -z "$why" ]; then break; fi
        echo "note: ${name#case_} $why; running it once more (counted as FLAKY if it passes)"
        first=$(echo "--- ${name#case_}: first attempt: $why"; case_evidence "${name#case_}" | sed 's/^/    /')
        [ -z "${VM_DIR:-}" ] || cp -r "$VM_DIR" "$VM_DIR.attempt1"
    done
    {
        if case_verdict_ok; then
            [ -z "$first" ] || { echo "FLAKY ${name#case_}: passed on its second attempt"; printf '%s\n' "$first"; }
            printf '%s\n' "${RESULT_LINES[@]}"
        else
            printf '%s\n' "${RESULT_LINES[@]}"
            [ -z "$first" ] || printf '%s\n' "$first"
            case_evidence "${name#case_}" | grep -v '^FAIL'
        fi
    } > "$done.tmp"
    mv "$done.tmp" "$done"
    rm -f "$started"
    run_case_tally < "$done"
    echo "case ${name#case_}: $((SECONDS - t0)) s${NESTED_LANE:+ (lane $NESTED_LANE)}"
}
case_verdict_ok() { ! printf '%s\n' "${RESULT_LINES[@]}" | grep -q '^FAIL'; }

# run_case_tally < RESULTS: prints a case's result lines and adds them to the counts
run_case_tally() {
    local l
    while IFS= read -r l; do
        echo "$l"
        case $l in
        PASS*) PASSED=$((PASSED + 1)) ;;
        FAIL*) FAILED=$((FAILED + 1)) ;;
        FLAKY*) FLAKY=$((FLAKY + 1)); echo "${l#FLAKY }" | cut -d: -f1 >> "$WORK/../flaky" ;;
        SKIPPED*) SKIPPED=$((SKIPPED + 1)) ;;
        esac
    done
}

# lane_claims CASE: whether this lane runs CASE. Without NESTED_QUEUE (one lane) every case;
# with it, the lanes (L1s running at the same time, NESTED_LANE 1, 2...) share the queue
# directory, and the first lane to make CASE's entry there (mkdir: atomic, also over 9p) runs
# it; a lane's retried L1 run finds its own entries again and resumes them
lane_claims() {
    local q=${NESTED_QUEUE:-} lane=${NESTED_LANE:-1}
    [ -n "$q" ] || return 0
    if mkdir "$q/$1" 2>/dev/null; then
        echo "$lane" > "$q/$1/lane"
        return 0
    fi
    [ "$(cat "$q/$1/lane" 2>/dev/null)" = "$lane" ]
}

# known_cases CASES: each must name a case_ function (an unknown name is an error, not a no-op)
known_cases() {
    local c bad=""
    for c in $1; do
        declare -F "case_$c" >/dev/null || bad+=" $c"
    done
    [ -z "$bad" ] || { echo "nested-test: no such case:$bad (cases: $(declare -F | sed -n 's/^declare -f case_//p' | tr '\n' ' '))" >&2; return 1; }
}

# the cases a run makes: in the nested L1, gdb_kernel is reported as skipped (no guest
# breakpoint reaches L1's KVM under the emulated SVM, docs/nested.md); load_four (four guests
# under load for LOAD_SECONDS) belongs to make stress. The longest come first (as measured in
# the nested L1, docs/nested.md), so that the lanes, each taking the next case, end together.
default_cases() {
    # the virtio-blk cases use kvmini's --disk option
    if [ "$L2_VMM" != kvmini ]; then
        echo "smp_stdin_poweroff append_reboot memory_panic"
        return
    fi
    echo "debian_systemd disk_pci_intx bench_quick api_pause_long disk_pci_cloud crash_consistency" \
        "net_pci_mq disk_kill_after_sync net_pci_mq_vhost api_balloon disk_pci net_mmio" \
        "net_mmio_vhost api_many_clients net_default_guest trace_boot disk_two_files" \
        "vsock_hybrid disk_pci_mq disk_pci_acpi_off disk_power_cut api_top_tmux" \
        "api_memory_report vsock_kernel disk_blockdev_discard disk_mmio_exits smp_stdin_poweroff" \
        "disk_ext4_ro api_power_button api_sigterm api_ctrl_alt_del append_reboot memory_panic" \
        "gdb_kernel"
}

run_all_cases() {
    trap '' PIPE
    WORK=${RESULTS:-$BUILD/nested}/l2
    [ "${L1:-0}" = 1 ] || rm -rf "$WORK/done"
    mkdir -p "$WORK/done"
    : > "$WORK/../flaky"
    echo "L2 VMM: $L2_VMM ($(uname -r), $(nproc) CPUs)"
    if [ "$L2_VMM" = kvmini ] && [ ! -x "$BUILD/kvmini" ]; then
        echo "FAIL setup: $BUILD/kvmini not built"
        FAILED=1
    elif known_cases "${CASES:-}"; then
        local c
        [ -z "${L2_TRACE:-}" ] || { exec {tracefd}> "$WORK/trace"; BASH_XTRACEFD=$tracefd; set -x; }
        for c in ${CASES:-$(default_cases)}; do
            lane_claims "case_$c" || continue
            if [ "$c" = gdb_kernel ] && [ "${L1:-0}" = 1 ]; then
                echo "SKIPPED nested gdb_kernel: guest breakpoints never reach L1's KVM under QEMU's emulated SVM (docs/nested.md); it runs where Linux boots directly"
                SKIPPED=$((SKIPPED + 1))
                continue
            fi
            run_case "case_$c"
        done
    else
        FAILED=1
    fi
    echo "$PASSED $FAILED $SKIPPED $FLAKY" > "$WORK/../counts"
    # in L1 the host prints the summary last, after L1's own shutdown lines
    [ "${L1:-0}" = 1 ] || flaky_policy "$WORK/../flaky"
    [ "${L1:-0}" = 1 ] || echo "nested: $PASSED passed, $FAILED failed, $SKIPPED skipped, $FLAKY flaky"
    [ "$FAILED" = 0 ]
}

# flaky_policy FLAKY-LIST: a case that needed a retry in this run and in the run before it
# (the list kept in ~/.cache/kvmini), or more than two flaky cases in one run, fail the run
flaky_policy() {
    local list=$1 hist=${KVMINI_FLAKY_HISTORY:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini/nested-flaky} c n
    n=$(grep -c . "$list" 2>/dev/null) || n=0
    if [ "$n" -gt 2 ]; then
        echo "FAIL flaky-budget: $n cases needed a retry in this run (at most 2 may): $(tr '\n' ' ' < "$list")"
        FAILED=$((FAILED + 1))
    fi
    while IFS= read -r c; do
        [ -n "$c" ] || continue
        if grep -qx -- "$c" "$hist" 2>/dev/null; then
            echo "FAIL flaky-again $c: needed a retry in this run and in the run before it ($hist)"
            FAILED=$((FAILED + 1))
        fi
    done < "$list"
    if mkdir -p "$(dirname "$hist")" 2>/dev/null; then cp "$list" "$hist" 2>/dev/null || true; fi
}

# ---------------------------------------------------------------- entry
# tests/nested/selftest.sh sources this file for its functions only
[ "${RUN_TESTS_LIB:-0}" = 0 ] || return 0
if [ "${L1:-0}" = 1 ]; then
    L2_VMM=${L2_VMM_IN_L1:-$L2_VMM}
    run_all_cases
    exit $?
fi

known_cases "${CASES:-}" || exit 2
# the Debian 12 system of case debian_systemd and the network cases, built here (debootstrap:
# root, a mirror; cached)
if [ "$L2_VMM" = kvmini ] && [[ " ${CASES:-$(default_cases)} " =~ \ (debian_systemd|net_pci_mq|net_pci_mq_vhost|net_mmio|net_mmio_vhost)\  ]]; then
    "$here/debian-rootfs.sh" "$BUILD" ||
        echo "note: the Debian image did not build; the cases on it will fail for it"
fi
for f in "$BUILD/guest/bzImage" "$BUILD/guest/initramfs.cpio.gz"; do
    [ -f "$f" ] || { echo "FAIL setup: $f missing (make guest)"; echo "nested: 0 passed, 1 failed"; exit 1; }
done
if kvm_boot_direct "$BUILD"; then
    echo "nested-test: $KVM_LINE"
    echo "nested-test: running directly on this machine's KVM"
    run_all_cases
    exit $?
fi

echo "nested-test: $KVM_LINE"
echo "nested-test: running inside a nested L1 (QEMU TCG + SVM)$([ "${KVMINI_NESTED:-auto}" = 1 ] && echo " (KVMINI_NESTED=1)")"
# shellcheck source=l1.sh disable=SC1091
. "$here/l1.sh"
# the L1 script sees only a fixed environment: pass the knobs in a generated wrapper
mkdir -p "$BUILD/nested"
queue=$BUILD/nested/queue
rm -rf "$queue"
mkdir -p "$queue"
cat > "$BUILD/nested/run-in-l1.sh" <<EOF
# SPDX-License-Identifier: Apache-2.0
# generated by tests/nested/run-tests.sh: runs the L2 cases inside L1 (argument: the lane)
export L2_VMM_IN_L1=$L2_VMM CASE_TIMEOUT=$CASE_TIMEOUT CASES="${CASES:-}" L2_TRACE=${L2_TRACE:-}
export CRASH_TRIALS=${CRASH_TRIALS:-4} LOAD_SECONDS=${LOAD_SECONDS:-60} PAUSE_SECONDS=${PAUSE_SECONDS:-60}
export NET_MIB=${NET_MIB:-64} L2_QUIET=$L2_QUIET NESTED_QUEUE=$queue NESTED_LANE=\$1
exec bash "$here/run-tests.sh" "$BUILD"
EOF
# One vCPU in each L1 unless L1_SMP says otherwise: on the 2026-12 build machines a 2-vCPU L1
# froze (soft lockups) in 2 of 3 runs of these cases, a 1-vCPU one in none of its runs so far,
# and took 17 min instead of 13-15 (docs/nested.md).
export L1_SMP=${L1_SMP:-1}
# Lanes: NESTED_LANES L1s (default 2 where there are 2 CPUs or more) run the cases at the same
# time, each taking the next case nobody has taken from a shared queue (lane_claims). Lane 1
# starts at once and shows its console; lane 2 starts when the file NESTED_LANE2_AFTER exists
# (make check: when the parts that run on this machine are done, so that the second L1 gets a
# CPU of its own) and its console is printed when it ends.
# The emulated L1 occasionally fails as a whole (a frozen L1: no console output for L1_STALL
# seconds; or an oops in L1's own kernel, e.g. "TASK stack guard page was hit" in
# exc_page_fault, seen in CI and here): such a run ends without a script status (124/125), and
# is run again, up to three times, resuming after the cases that finished (results-*/l2/done/;
# the case it cut off counts as FLAKY if it then passes). All attempts of all lanes share
# NESTED_BUDGET seconds (default 65 min, inside CI's 90 with the rest of make check), each at
# most L1_TIMEOUT (default 50 min); no retry starts with less than 10 min left.
budget=${NESTED_BUDGET:-3900}
t_start=$SECONDS
lanes=${NESTED_LANES:-$([ "$(nproc)" -ge 2 ] && echo 2 || echo 1)}
# lane K's names: lane 1 keeps the one-lane names, lane K adds "-laneK"
lane_sfx() { [ "$1" = 1 ] || echo "-lane$1"; }
lane_results() { echo "$BUILD/nested/results-run-in-l1$(lane_sfx "$1")"; }
lane_log() { echo "$BUILD/nested/l1-console$(lane_sfx "$1").log"; }

# l1_lane K: lane K's L1 runs (retried as above); its last status in BUILD/nested/laneK.status
l1_lane() {
    local k=$1 attempt rc left limit res log lock quiet
    res=$(lane_results "$k") log=$(lane_log "$k")
    lock=/tmp/kvmini-l1$(lane_sfx "$k").lock quiet=${L1_QUIET:-0}
    [ "$k" = 1 ] || quiet=1
    for attempt in 1 2 3 4; do
        rc=0
        left=$((budget - (SECONDS - t_start)))
        limit=${L1_TIMEOUT:-3000}
        [ "$limit" -le "$left" ] || limit=$left
        L1_KEEP_RESULTS=$([ "$attempt" = 1 ] && echo 0 || echo 1) L1_RESULTS=$res L1_LOCK=$lock \
        L1_SHARED=$queue L1_TIMEOUT=$limit L1_STALL=${L1_STALL:-330} L1_QUIET=$quiet L1_LOG=$log \
            l1_run "$BUILD" "$BUILD/nested/run-in-l1.sh" "$k" || rc=$?
        if [ "$rc" = 0 ] || [ "$rc" = 1 ] || [ "$attempt" = 4 ]; then break; fi
        if [ $((budget - (SECONDS - t_start))) -lt 600 ]; then
            echo "note: lane $k: the nested L1 run failed (status $rc) and less than 10 min of NESTED_BUDGET ($budget s) is left; not retrying"
            break
        fi
        cp "$log" "${log%.log}.failed-$attempt.log" 2>/dev/null || true
        echo "note: lane $k: the nested L1 run ended without a status ($rc: L1 froze or its kernel failed);" \
            "running it again from the first unfinished case (log of this run: $(basename "${log%.log}").failed-$attempt.log)"
    done
    echo "$rc" > "$BUILD/nested/lane$k.status"
}

# lane_later K: lane K once NESTED_LANE2_AFTER exists (or lane 1 has ended), unless every
# case has been taken by then
lane_later() {
    local k=$1 after=${NESTED_LANE2_AFTER:-}
    while [ -n "$after" ] && [ ! -e "$after" ] && kill -0 "$lane1_pid" 2>/dev/null; do sleep 5; done
    if [ "$(find "$queue" -mindepth 1 -maxdepth 1 -type d | wc -l)" -ge "$ncases" ]; then
        echo "note: lane $k did not start: every case had been taken"
        echo skipped > "$BUILD/nested/lane$k.status"
        return 0
    fi
    echo "note: lane $k starts after $((SECONDS - t_start)) s (a second L1 beside lane 1)"
    l1_lane "$k"
}

ncases=$(wc -w <<< "${CASES:-$(default_cases)}")
rm -f "$BUILD"/nested/lane*.status "$BUILD"/nested/lane*.out
l1_build "$BUILD"	# once, before the lanes
l1_lane 1 &
lane1_pid=$!
pids=$lane1_pid
for ((k = 2; k <= lanes; k++)); do
    lane_later "$k" > "$BUILD/nested/lane$k.out" 2>&1 &
    pids+=" $!"
done
trap 'kill $pids 2>/dev/null; exit 130' INT TERM HUP
# shellcheck disable=SC2086 # a list of PIDs
wait $pids || true
trap - INT TERM HUP
p=0 f=0 sk=0 fl=0
: > "$BUILD/nested/flaky-lanes"
for ((k = 1; k <= lanes; k++)); do
    res=$(lane_results "$k") st=$(cat "$BUILD/nested/lane$k.status" 2>/dev/null || echo 125)
    if [ "$k" != 1 ]; then
        echo "=== lane $k (it ran beside lane 1; its console: $(lane_log "$k"))"
        cat "$BUILD/nested/lane$k.out"
        [ "$st" = skipped ] || cat "$(lane_log "$k")"
    fi
    [ "$st" != skipped ] || continue
    a=0 b=0 c=0 d=0
    [ ! -s "$res/counts" ] || read -r a b c d < "$res/counts"
    p=$((p + a)) f=$((f + b)) sk=$((sk + ${c:-0})) fl=$((fl + ${d:-0}))
    if [ ! -s "$res/counts" ] || { [ "$st" != 0 ] && [ "$st" != 1 ]; }; then
        echo "FAIL l1$(lane_sfx "$k"): the nested L1 run did not complete (status $st; log $(lane_log "$k"))"
        f=$((f + 1))
    fi
    cat "$res/flaky" >> "$BUILD/nested/flaky-lanes" 2>/dev/null || true
done
# every case was taken by a lane (one that was not never ran)
untaken=""
for c in ${CASES:-$(default_cases)}; do
    [ -d "$queue/case_$c" ] || untaken+=" $c"
done
if [ -n "$untaken" ]; then
    echo "FAIL untaken-cases: no lane ran:$untaken"
    f=$((f + 1))
fi
FAILED=$f
flaky_policy "$BUILD/nested/flaky-lanes"
echo "nested: $p passed, $FAILED failed, $sk skipped, $fl flaky"
[ "$FAILED" = 0 ]
