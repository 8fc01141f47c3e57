#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2034,SC2016 # variables for the sourced harness; case bodies expand later
# The nested harness's own accounting, checked without booting anything (part of make check):
# run_case on fake cases that end early, fall short of their plan or exceed it, fail, pass, stall and pass
# on a retry; guest_check against a fake guest that answers wrong or has a kernel message
# glued to its answer; CASES with an unknown
# name; the flaky policy; lanes sharing the queue of cases; quiet boots. Usage: tests/nested/selftest.sh BUILD
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
expect() { # NAME CONDITION-STATUS DETAIL
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $3"; fi
}

# the harness's functions, with a work directory of our own
RUN_TESTS_LIB=1
# shellcheck source=run-tests.sh disable=SC1091
. "$here/run-tests.sh" "$build"
set +e
WORK=$tmp/l2
mkdir -p "$WORK/done"
CASE_TIMEOUT=20

# one fake case run through run_case: NAME BODY; its tally in PASSED/FAILED/FLAKY, its lines in OUT
fake() {
    eval "case_$1() { $2; }"
    PASSED=0 FAILED=0 FLAKY=0
    OUT=$(run_case "case_$1"; echo "counts $PASSED $FAILED $FLAKY")
}
counts() { sed -n 's/^counts //p' <<< "$OUT"; }

fake ends_early 'plan 2; return 1'
expect ends-early-fails "$([[ $(counts) == "0 1 0" ]] && grep -q '^FAIL ends_early: the case ended with status 1 after its start' <<< "$OUT"; echo $?)" "$OUT"
fake short_of_plan 'plan 3; ok one 0; ok two 0; return 0'
expect short-of-plan-fails "$([[ $(counts) == "2 1 0" ]] && grep -q 'after 2 of its 3 result lines (last: two)' <<< "$OUT"; echo $?)" "$OUT"
fake over_plan 'plan 1; ok one 0; ok two 0'
expect over-plan-fails "$([[ $(counts) == "2 1 0" ]] && grep -q 'recorded 2 result lines, its plan says 1' <<< "$OUT"; echo $?)" "$OUT"
fake helper_fails 'plan 2; ok booted 0; false || return 1; ok never 0'
expect stop-point-named "$([[ $(counts) == "1 1 0" ]] && grep -q 'after booted with no check failed' <<< "$OUT"; echo $?)" "$OUT"
fake no_plan 'ok one 0'
expect no-plan-fails "$([[ $(counts) == "1 1 0" ]] && grep -q 'declares no plan' <<< "$OUT"; echo $?)" "$OUT"
fake passes 'plan 2; ok one 0; ok two 0'
expect plain-pass "$([[ $(counts) == "2 0 0" ]]; echo $?)" "$OUT"
# a stall: retried only in the nested L1, and then FLAKY with the first attempt's failure
: > "$tmp/attempts"
fake stalls_once 'plan 1; echo x >> "$tmp/attempts"; if [ "$(wc -l < "$tmp/attempts")" = 1 ]; then bad step "timed out"; return 124; fi; ok step 0'
expect stall-fails-outside-l1 "$([[ $(counts) == "0 1 0" ]]; echo $?)" "$OUT"
: > "$tmp/attempts"
rm -f "$WORK/done/case_stalls_once"
OUT=$(L1=1; PASSED=0 FAILED=0 FLAKY=0; run_case case_stalls_once; echo "counts $PASSED $FAILED $FLAKY")
expect stall-is-flaky-in-l1 "$([[ $(counts) == "1 0 1" ]] && grep -q '^FLAKY stalls_once' <<< "$OUT" && grep -q 'first attempt: stalled' <<< "$OUT" && grep -q '^    FAIL step: timed out' <<< "$OUT"; echo $?)" "$OUT"
# a wrong answer from the guest fails at once, not after CASE_TIMEOUT
# shellcheck source=cases-disk.sh disable=SC1091
. "$here/cases-disk.sh"
vm_start "$tmp/vm" bash -c 'while IFS= read -r l; do eval "$l"; done'
t0=$SECONDS
guest_check wrong-answer 'echo SUM-0000' '^SUM-1234$'
rc=$? took=$((SECONDS - t0))
expect wrong-answer-at-once "$([ "$rc" = 1 ] && [ "$took" -lt 10 ]; echo $?)" "status $rc after ${took}s"
# a kernel message written at the end of an answer's line (seen in CI) does not hide the answer,
# and does not turn a wrong answer into a right one
guest_check printk-tail 'echo "IW-0-0[   25.115350] clocksource: Long readout interval"' '^IW-0-0$'
expect printk-tail-answer-read "$?" "IW-0-0 followed by a kernel message was not read as IW-0-0"
guest_check printk-tail-wrong 'echo "IW-1-0[   25.115350] clocksource: Long readout interval"' '^IW-0-0$'
expect printk-tail-wrong-fails "$([ $? = 1 ]; echo $?)" "IW-1-0 with a kernel message was read as IW-0-0"
vm_kill
# CASES with a name that does not exist
known_cases "smp_stdin_poweroff no_such_case" 2>"$tmp/err"
expect unknown-case-refused "$([ $? = 1 ] && grep -q 'no such case: no_such_case' "$tmp/err"; echo $?)" "$(cat "$tmp/err")"
# the flaky policy: a case flaky two runs in a row, and more than two in one run
KVMINI_FLAKY_HISTORY=$tmp/hist
printf 'a\n' > "$tmp/flaky"
FAILED=0; flaky_policy "$tmp/flaky" > "$tmp/out"
expect first-flaky-ok "$([ "$FAILED" = 0 ]; echo $?)" "$(cat "$tmp/out")"
FAILED=0; flaky_policy "$tmp/flaky" > "$tmp/out"
expect flaky-twice-fails "$([ "$FAILED" = 1 ] && grep -q 'flaky-again a' "$tmp/out"; echo $?)" "$(cat "$tmp/out")"
printf 'b\nc\nd\n' > "$tmp/flaky"
FAILED=0; flaky_policy "$tmp/flaky" > "$tmp/out"
expect three-flaky-fail "$([ "$FAILED" = 1 ] && grep -q 'flaky-budget: 3 cases' "$tmp/out"; echo $?)" "$(cat "$tmp/out")"

# lanes: the lane that takes a case first from the shared queue runs it, the other lanes skip
# it, and a lane's retried L1 run finds its own cases again
NESTED_QUEUE=$tmp/queue
mkdir -p "$NESTED_QUEUE"
NESTED_LANE=1 lane_claims case_x; r1=$?
NESTED_LANE=2 lane_claims case_x; r2=$?
NESTED_LANE=1 lane_claims case_x; r3=$?
NESTED_LANE=2 lane_claims case_y; r4=$?
expect lane-takes-once "$([ "$r1$r2$r3$r4" = 0100 ]; echo $?)" "statuses $r1 $r2 $r3 $r4, wanted 0 1 0 0"
case_lx() { plan 1; ok lx 0; }
case_ly() { plan 1; ok ly 0; }
NESTED_LANE=1 lane_claims case_lx
OUT=$(PASSED=0 FAILED=0 SKIPPED=0 FLAKY=0; L1=1 RESULTS=$tmp/lane2 CASES="lx ly" NESTED_LANE=2 run_all_cases; echo "status $?")
expect lane-runs-only-its-cases "$(grep -q '^PASS ly' <<< "$OUT" && ! grep -q 'lx' <<< "$OUT" && grep -q '^status 0' <<< "$OUT" && [ "$(cat "$tmp/lane2/counts")" = "1 0 0 0" ]; echo $?)" "$OUT"
unset NESTED_QUEUE

# quiet boots: "quiet" joins a kvmini run's --append (or is one), never a run with its own
# --cmdline, another command, or L2_QUIET=0
q() { l2_quiet "$@"; printf '%s|' "${L2_CMD_Q[@]}"; }
L2_QUIET=1
got=$(q ip netns exec ns /b/kvmini run --kernel k --append "root=/dev/vda")
expect quiet-joins-append "$([ "$got" = "ip|netns|exec|ns|/b/kvmini|run|--kernel|k|--append|quiet root=/dev/vda|" ]; echo $?)" "$got"
got=$(q /b/kvmini run --kernel k)
expect quiet-added "$([ "$got" = "/b/kvmini|run|--append|quiet|--kernel|k|" ]; echo $?)" "$got"
got=$(q /b/kvmini run --cmdline "console=ttyS0" --append y)
expect quiet-not-with-cmdline "$([ "$got" = "/b/kvmini|run|--cmdline|console=ttyS0|--append|y|" ]; echo $?)" "$got"
got=$(q /b/kvmini run --append "quiet x")
expect quiet-once "$([ "$got" = "/b/kvmini|run|--append|quiet x|" ]; echo $?)" "$got"
got=$(q bash -c "echo --append")
expect quiet-only-kvmini "$([ "$got" = "bash|-c|echo --append|" ]; echo $?)" "$got"
got=$(L2_QUIET=0; q /b/kvmini run)
expect quiet-off "$([ "$got" = "/b/kvmini|run|" ]; echo $?)" "$got"

echo "nested-selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
