#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: boot time to KVMINI-READY and VMM memory overhead, kvmini vs QEMU microvm, A B A B.
#
# Usage: tests/bench/boot-bench.sh BUILD
#        tests/bench/boot-bench.sh --report RUNS   (the table of a runs.txt it wrote, e.g.
#        docs/results/boot-bench.txt)
#   ROUNDS=3 (boots of each VMM, alternating kvmini, qemu, kvmini, qemu, ...), BENCH_MEM=512M,
#   KVMINI_NESTED=auto|1|0 as in tests/nested/run-tests.sh (one L1 run for all boots).
# Both VMMs boot the same kernel and initramfs with the same memory, 1 vCPU and the command
# line "console=ttyS0 reboot=k panic=-1 quiet". Boot time: launch to the KVMINI-READY line on
# the console (timestamped as it arrives). Overhead RSS: the VMM's Rss from /proc/PID/smaps
# while the guest idles at its shell, summed over every mapping except the guest-RAM one (the
# anonymous mapping whose size is the guest memory size). Prints each run, then the medians,
# the kvmini/QEMU ratios and how many paired rounds kvmini won. The raw runs (with date,
# commit, machine and command) are in RESULTS/bench/runs.txt.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../nested

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nested="$here/../nested"
# shellcheck source=../nested/l2lib.sh disable=SC1091
. "$nested/l2lib.sh"

if [ "${1:-}" = --report ] && [ $# = 2 ]; then
    BUILD=
elif [ $# -ne 1 ]; then
    echo "usage: $0 BUILD | --report RUNS" >&2
    exit 2
else
    BUILD=$(cd "$1" && pwd)
fi
ROUNDS=${ROUNDS:-3}
BENCH_MEM=${BENCH_MEM:-512M}

mem_bytes() {
    local v=$1
    case $v in
    *[Gg]) echo $(( ${v%[Gg]} << 30 )) ;;
    *[Mm]) echo $(( ${v%[Mm]} << 20 )) ;;
    *[Kk]) echo $(( ${v%[Kk]} << 10 )) ;;
    *) echo $(( v << 20 )) ;;
    esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

one_boot() { # VMM ROUND -> appends "vmm round ready_s overhead_kb ram_rss_kb" to $OUTF
    local vmm=$1 round=$2 rc=0 ready ov
    l2_cmd "$vmm" "$BUILD" --memory "$BENCH_MEM" --cmdline "$L2_DEFAULT_CMDLINE quiet"
    VM_STAMP=1 vm_start "$WORK/$vmm-$round" "${L2_CMD[@]}"
    vm_expect '^KVMINI-READY$' 240 || rc=$?
    if [ "$rc" != 0 ]; then
        echo "bench: $vmm round $round: no KVMINI-READY ($([ "$rc" = 124 ] && echo "timed out" || echo "the VMM exited with status ${VM_STATUS:-?}")); stderr: $(tr '\n' ' ' < "$VM_DIR/err"); last console line: $(vm_clean_out | grep -a -v '^[[:space:]]*$' | tail -n 1)"
        vm_kill
        echo "$vmm $round - - -" >> "$OUTF"
        return 0
    fi
    # the stamper may lag the raw output a little
    local i=0
    while [ "$i" -lt 50 ] && ! grep -q ' KVMINI-READY$' "$VM_DIR/stamps" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    ready=$(awk -v t0="$VM_T0" '$2 == "KVMINI-READY" { printf "%.2f", $1 - t0; exit }' "$VM_DIR/stamps")
    vm_expect 'kvmini# ' 60 || true
    sleep 3 # let the guest settle at the idle shell
    ov=$(overhead_kb "$VM_PID" "$(mem_bytes "$BENCH_MEM")" || echo "- -")
    vm_send poweroff || true
    vm_wait 60 || true
    vm_kill
    echo "$vmm $round ${ready:--} $ov" >> "$OUTF"
    local ovk ramk
    read -r ovk ramk <<< "$ov"
    printf 'bench: %-6s round %s: ready %ss, VMM RSS beyond guest RAM %s kB (guest-RAM mapping RSS %s kB)\n' \
        "$vmm" "$round" "${ready:--}" "$ovk" "$ramk"
}

report() { # prints the table from $OUTF (its "# " lines: when, what, where, how)
    local v r t o
    echo
    sed -n 's/^# //p' "$OUTF"
    echo "boot to KVMINI-READY and VMM RSS beyond guest RAM, kvmini and QEMU alternating (A B A B)"
    printf '%-8s %-6s %10s %14s\n' vmm round ready_s overhead_kB
    grep -v '^#' "$OUTF" | while read -r v r t o _; do
        printf '%-8s %-6s %10s %14s\n' "$v" "$r" "$t" "$o"
    done
    local kt qt ko qo
    kt=$(awk '$1 == "kvmini" && $3 != "-" { print $3 }' "$OUTF" | median)
    qt=$(awk '$1 == "qemu" && $3 != "-" { print $3 }' "$OUTF" | median)
    ko=$(awk '$1 == "kvmini" && $4 != "-" { print $4 }' "$OUTF" | median)
    qo=$(awk '$1 == "qemu" && $4 != "-" { print $4 }' "$OUTF" | median)
    echo
    printf '%-28s %12s %12s %16s\n' median kvmini qemu kvmini/qemu
    printf '%-28s %12s %12s %16s\n' "boot to ready (s)" "$kt" "$qt" \
        "$(awk -v a="$kt" -v b="$qt" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')"
    printf '%-28s %12s %12s %16s\n' "RSS beyond guest RAM (kB)" "$ko" "$qo" \
        "$(awk -v a="$ko" -v b="$qo" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')"
    # each round's pair: kvmini won where it was ready sooner / used less memory
    awk '$1 == "kvmini" { kt[$2] = $3; ko[$2] = $4 } $1 == "qemu" { qt[$2] = $3; qo[$2] = $4 }
        END { for (r in kt) if ((r in qt) && kt[r] != "-" && qt[r] != "-") {
                  n++; t += (kt[r] + 0 < qt[r] + 0); o += (ko[r] + 0 < qo[r] + 0) }
              printf "paired rounds: %d; kvmini ready sooner in %d of %d, less memory in %d of %d\n",
                  n, t, n, o, n }' "$OUTF"
}

if [ "${1:-}" = --report ]; then	# --report RUNS: the table of a runs.txt this script wrote
    OUTF=$2
    report
    exit
fi

run_bench() {
    trap '' PIPE
    WORK=${RESULTS:-$BUILD/nested}/bench
    mkdir -p "$WORK"
    OUTF="$WORK/runs.txt"
    local vmms=(kvmini qemu) round v
    [ -z "${BENCH_VMMS:-}" ] || read -r -a vmms <<< "$BENCH_VMMS"
    {
        echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kvmini commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "# machine: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')${L1:+ (inside the nested L1)}; $("$BUILD/kvmini" host 2>&1 | head -n1)"
        echo "# command: ROUNDS=$ROUNDS BENCH_MEM=$BENCH_MEM tests/bench/boot-bench.sh BUILD; $("$BUILD/kvmini" --version 2>/dev/null | head -n1), $(qemu-system-x86_64 --version | head -n1)"
        echo "# guest: $(cat "$BUILD/guest/kernel-version" 2>/dev/null), $BENCH_MEM, 1 vCPU, cmdline '$L2_DEFAULT_CMDLINE quiet'"
        echo "# columns: vmm round ready_s overhead_kB guest_ram_rss_kB"
    } > "$OUTF"
    echo "bench: $(uname -r), $(nproc) CPUs, VMMs: ${vmms[*]}"
    for round in $(seq "$ROUNDS"); do
        for v in "${vmms[@]}"; do one_boot "$v" "$round"; done
    done
    report | tee "$WORK/table.txt"
}

if [ "${L1:-0}" = 1 ]; then
    run_bench
    exit 0
fi

[ -x "$BUILD/kvmini" ] || [ "${BENCH_VMMS:-}" = qemu ] || { echo "bench: $BUILD/kvmini missing" >&2; exit 1; }
# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$nested/../lib/kvm-where.sh"
if kvm_boot_direct "$BUILD"; then
    echo "bench: $KVM_LINE"
    echo "bench: running directly on this machine's KVM"
    run_bench
    exit 0
fi
echo "bench: $KVM_LINE"
echo "bench: all boots run inside one nested L1 (QEMU TCG + SVM);"
echo "bench: absolute times there are slow and noisy, compare the medians and ratios"
# shellcheck source=../nested/l1.sh disable=SC1091
. "$nested/l1.sh"
mkdir -p "$BUILD/nested"
cat > "$BUILD/nested/bench-in-l1.sh" <<EOF
# SPDX-License-Identifier: Apache-2.0
# generated by tests/bench/boot-bench.sh: runs the benchmark inside L1
export ROUNDS=$ROUNDS BENCH_MEM=$BENCH_MEM BENCH_VMMS="${BENCH_VMMS:-}"
exec bash "$here/boot-bench.sh" "$BUILD"
EOF
rc=0
L1_TIMEOUT=${L1_TIMEOUT:-1800} L1_QUIET=1 L1_LOG="$BUILD/nested/bench-console.log" \
    l1_run "$BUILD" "$BUILD/nested/bench-in-l1.sh" || rc=$?
if [ -s "$L1_RESULTS/bench/table.txt" ]; then
    grep -h '^bench:' "$BUILD/nested/bench-console.log" || true
    cat "$L1_RESULTS/bench/table.txt"
fi
[ "$rc" = 0 ] || { echo "bench: the nested run failed (status $rc; log $BUILD/nested/bench-console.log)" >&2; exit 1; }
