#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --trace-exits case for run-tests.sh (sourced): a traced 2-vCPU boot with a disk, summarised by
# `kvmini exits` and exported as Chrome JSON.

case_trace_boot() {
    plan 6
    local dir rc=0
    dir=$(mktemp -d /tmp/kvmini-trace.XXXXXX)	# L1's tmpfs, not the 9p results
    truncate -s 8M "$dir/disk.img"
    L2_CMD=("$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage"
        --initrd "$BUILD/guest/initramfs.cpio.gz" --console stdio --cpus 2
        --virtio-transport mmio --disk "path=$dir/disk.img" --trace-exits "$dir/boot.trace")
    vm_start "$WORK/trace" "${L2_CMD[@]}" || return 1
    boot_to_shell trace-boot || return $?
    vm_send 'dd if=/dev/vda of=/dev/null bs=4096 count=64 2>/dev/null; poweroff' || true
    expect_exit trace-poweroff zero || return $?
    grep -q "kvmini: trace $dir/boot.trace: [1-9][0-9]* exit records written, 0 dropped" \
        "$VM_DIR/err" || rc=1
    step trace-exit-line "$rc" "no 'exit records written, 0 dropped' line: $(errline)" || return $?
    rc=0
    "$BUILD/kvmini" exits "$dir/boot.trace" > "$dir/summary.txt" 2> "$dir/summary.err" || rc=1
    cp "$dir/summary.txt" "$WORK/trace-summary.txt" 2>/dev/null || true
    # sane: thousands of exits, split by vCPU, the serial port and the disk's virtio-mmio
    # window among the devices, nothing dropped
    python3 - "$dir/summary.txt" <<'PY' || rc=1
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r": (\d+) exits from 2 vCPUs", s)
assert m and int(m.group(1)) > 1000, s[:300]
assert re.search(r"records: \d+ written, 0 dropped", s), s[:300]
vc = re.search(r"by vCPU: vCPU 0: (\d+), vCPU 1: (\d+)", s)
assert vc and int(vc.group(1)) > 0, "by vCPU"
assert int(vc.group(1)) + int(vc.group(2)) == int(m.group(1)), "vCPU counts do not add up"
assert re.search(r"^  KVM_EXIT_IO +\d+", s, re.M), "no IO exits"
assert re.search(r"^  KVM_EXIT_MMIO +\d+", s, re.M), "no MMIO exits"
assert re.search(r"^  serial +pio +0x3f8-0x3ff +[1-9]", s, re.M), "no serial row"
assert re.search(r"^  virtio-mmio +mmio +0x\w+-0x\w+ +[1-9]", s, re.M), "no virtio-mmio row"
assert "timeline" in s
PY
    step trace-summary "$rc" "kvmini exits output not plausible: $(head -c 300 "$dir/summary.txt") $(cat "$dir/summary.err")" || return $?
    rc=0
    "$BUILD/kvmini" exits --chrome "$dir/boot.json" "$dir/boot.trace" > /dev/null &&
        python3 -m json.tool "$dir/boot.json" > /dev/null || rc=1
    step trace-chrome-json "$rc" "the Chrome export is not valid JSON" || return $?
    rm -rf "$dir"
}
