#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark smoke case for run-tests.sh (sourced): one cell of the block matrix end to end.

# tests/bench/blk-matrix.sh --quick without QEMU on a small backing, with fio (Debian's, its
# libraries in the guest's initramfs) and the example job file: the host ceiling and one kvmini
# boot (virtio-pci, raw loop device, cache=none, io_uring; 4 KiB random reads at QD32 and the job
# file's mix), then the report; checks that the cells have IOPS and kvmini's its per-I/O counters
# (~80 s in L1), the guest's fio JSON results, and, over virtio-pci, no exit at the disk
case_bench_quick() {
    plan 6
    local out="$WORK/bench" rc=0 t0=$SECONDS line
    rm -rf "$out"
    mkdir -p "$out"
    timeout 300 bash "$(dirname "${BASH_SOURCE[0]}")/../bench/blk-matrix.sh" --quick --no-qemu --size 64M --seconds 1 \
        --warmup 0.5 --perf --job "$(dirname "${BASH_SOURCE[0]}")/../bench/jobs/mixed-4k.fio" \
        --out "$out" "$BUILD" > "$out/log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        bad bench-quick-run "blk-matrix.sh --quick exited with status $rc: $(tail -n 3 "$out/log" | tr '\n' '|')"
        return 1
    fi
    ok bench-quick-run $((SECONDS - t0))
    # the table line of the kvmini cell: IOPS, MB/s, latencies, CPU and exits per I/O, the
    # guest's own interrupts per I/O and steal (its BLKM-GSTAT lines) are numbers
    line=$(grep -E '^rr4k-qd32 +kvmini +pci +raw +none +io_uring ' "$out/table.txt" || true)
    if [[ $line =~ ^rr4k-qd32\ +kvmini\ +pci\ +raw\ +none\ +io_uring\ +[1-9][0-9]*\ +[0-9.]+\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +[0-9.]+\ +[0-9.]+\ +[0-9.]+\ +[0-9.]+\ +[0-9.]+\ +[0-9]+\ +[0-9.]+ ]]; then
        ok bench-quick-kvmini-cell $((SECONDS - t0))
    else
        bad bench-quick-kvmini-cell "no complete kvmini row in $out/table.txt: '${line:-none}'"
        return 1
    fi
    if grep -qE '^rr4k-qd32 +host +- +raw .* [1-9][0-9]* ' "$out/table.txt" && [ -s "$out/results.json" ] &&
        [ "$(grep -c . "$out/results.csv")" = 5 ]; then
        ok bench-quick-host-json-csv $((SECONDS - t0))
    else
        bad bench-quick-host-json-csv "no host row, results.json or 4-row results.csv in $out"
        return 1
    fi
    # the user's job file ran in the guest and on the host: fio's own JSON for each, and rows
    # with IOPS and latencies from it
    local j="$out/raw/kvmini-pci-raw-none-io_uring-r1-mixed-4k.fio.json"
    if grep -qE '^mixed-4k +kvmini +pci +raw +none +io_uring +[1-9][0-9]* +[0-9.]+ +[0-9]+ +[1-9][0-9]* ' "$out/table.txt" &&
        grep -qE '^mixed-4k +host +- +raw .* [1-9][0-9]* ' "$out/table.txt" &&
        python3 -c 'import json, sys; j = json.load(open(sys.argv[1]))["jobs"][0]; sys.exit(j["jobname"] != "mixed-4k" or not j["read"]["total_ios"] or not j["write"]["total_ios"] or j["error"])' "$j" 2>/dev/null &&
        [ -s "$out/raw/host-raw-mixed-4k.fio.json" ] && grep -q '^tool=fio (fio-' "$out/raw/meta.txt"; then
        ok bench-quick-fio-job $((SECONDS - t0))
    else
        bad bench-quick-fio-job "no mixed-4k rows with IOPS, or no fio JSON with reads and writes in $j: $(grep -E '^mixed-4k' "$out/table.txt" | tr -s ' ' | tr '\n' '|')"
        return 1
    fi
    # --perf: the workload's profile has the CPU time of kvmini's vCPU and queue threads and
    # perf's samples of the queue thread, and no raw perf data is left behind
    local prof="$out/raw/kvmini-pci-raw-none-io_uring-r1-rr4k-qd32.perf.txt"
    if grep -qE '^ +[1-9][0-9]* ms +[0-9]+ vcpu0$' "$prof" 2>/dev/null &&
        grep -qE '^ +[0-9]+ ms +[0-9]+ virtio-blk-q0$' "$prof" && grep -qE '[0-9.]+% +[0-9]+:virtio-blk-q0' "$prof" &&
        ! compgen -G "$out/raw/*.perf.data" >/dev/null; then
        ok bench-quick-perf-profile $((SECONDS - t0))
    else
        bad bench-quick-perf-profile "no vcpu0 and virtio-blk-q0 in $prof (or perf data left): $(head -c 300 "$prof" 2>/dev/null | tr '\n' '|')"
        return 1
    fi
    # issue 3/7's target: over virtio-pci no userspace exit at the disk per request
    local dex
    dex=$(python3 -c 'import json, sys
c = [c for c in json.load(open(sys.argv[1]))["cells"] if c["vmm"] == "kvmini"][0]
print(c["disk_exits_per_io"])' "$out/results.json" 2>/dev/null || echo "?")
    if awk -v d="$dex" 'BEGIN { exit !(d != "?" && d != "None" && d + 0 < 0.01) }'; then
        ok bench-quick-pci-no-disk-exits $((SECONDS - t0))
    else
        bad bench-quick-pci-no-disk-exits "exits at the disk per I/O over virtio-pci: $dex (want < 0.01)"
        return 1
    fi
}
