#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Option parsing and refusal cases of tests/bench/blk-matrix.sh: no KVM needed, seconds to run.
# Each bad input must give one clear line on stderr, status 2, and write nothing.
# Usage: tests/bench/blk-matrix-cli.sh BUILD   (part of make check and make cli-test; the
# cases that need a real loop device run only as root)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
bm="$here/blk-matrix.sh"
tmp=$(mktemp -d)
loops=() mnt=""
cleanup() {
    [ -z "$mnt" ] || umount "$mnt" 2>/dev/null
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0 skip=0
export KVMINI_NESTED=0   # the device checks as on a machine with VT-x/AMD-V

# case_ NAME STATUS NEEDLE -- ARGS...: expect STATUS, NEEDLE in stderr (one line if STATUS != 0),
# and --file $tmp/f never created
case_() {
    local name=$1 want=$2 needle=$3 rc lines
    shift 4
    rm -f "$tmp/f"
    timeout 30 "$bm" "$build" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    lines=$(grep -c . "$tmp/err")
    if [ "$rc" = "$want" ] && { [ "$want" = 0 ] || [ "$lines" = 1 ]; } &&
        grep -qF -- "$needle" "$tmp/err" "$tmp/out" && [ ! -e "$tmp/f" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: status $rc (want $want), $lines line(s) on stderr, want '$needle' in:"
        sed 's/^/    /' "$tmp/err" "$tmp/out"
        [ ! -e "$tmp/f" ] || echo "    and it created $tmp/f"
    fi
}

: > "$tmp/regular"
case_ unknown-opt     2 "unknown option '--frobnicate'" -- --frobnicate
case_ stray-arg       2 "unexpected argument"         -- extra-arg
case_ value-missing   2 "--device needs a value"      -- --device
case_ device-no-file  2 "--device needs --file"       -- --device /dev/null
case_ file-no-device  2 "--file needs --device"       -- --file "$tmp/f"
case_ size-garbage    2 "--size 'lots'"               -- --size lots
case_ size-tiny       2 "at least 16M"                -- --size 1M
case_ size-odd        2 "whole number of MiB"         -- --size 17000K
case_ seconds-bad     2 "--seconds '0'"               -- --seconds 0
case_ cache-bad       2 "--cache: unknown value 'unsafe'" -- --cache none,unsafe
case_ engine-bad      2 "--engine: unknown value 'aio'" -- --engine aio
case_ workload-bad    2 "--workloads: unknown value 'rr8k'" -- --workloads rr4k-qd1,rr8k
case_ backing-bad     2 "--backing: unknown value 'nfs'" -- --backing nfs
case_ transport-bad   2 "--transport: unknown value 'isa'" -- --transport pci,isa
case_ transport-empty 2 "--transport is empty"        -- --transport ""
case_ transport-plan  0 "transport=mmio workloads"    -- --transport mmio --dry-run
case_ repeat-zero     2 "--repeat '0': a whole number from 1 to 20" -- --repeat 0
case_ repeat-big      2 "--repeat '21'"               -- --repeat 21
case_ repeat-garbage  2 "--repeat 'x3'"               -- --repeat x3
case_ repeat-missing  2 "--repeat needs a value"      -- --repeat
case_ repeat-plan     0 "repeat=3 kvmini_memory=512M qemu=1" -- --repeat=3 --dry-run
case_ kmem-bad-key   2 "--kvmini-memory '512M,thq=off': SIZE" -- --kvmini-memory 512M,thq=off
case_ kmem-bad-size  2 "--kvmini-memory 'lots'"        -- --kvmini-memory lots
case_ kmem-missing   2 "--kvmini-memory needs a value" -- --kvmini-memory
case_ kmem-plan      0 "kvmini_memory=1G,thp=off"      -- --kvmini-memory=1G,thp=off --dry-run
case_ quick-pci       0 "transport=pci workloads=rr4k-qd32" -- --quick --dry-run
case_ device-missing  2 "--device $tmp/nodev: no such device" -- --device "$tmp/nodev" --file "$tmp/f"
case_ device-regular  2 "not a block device"          -- --device "$tmp/regular" --file "$tmp/f"
case_ file-dir-gone   2 "directory $tmp/no does not exist" -- --device /dev/null --file "$tmp/no/f"
case_ file-not-reg    2 "not a regular file"          -- --device /dev/null --file "$tmp"
case_ file-no-space   2 "too little space"            -- --device /dev/null --file "$tmp/f" --size 100T
KVMINI_NESTED=1 case_ nested-device 2 "cannot see host devices" -- --device /dev/null --file "$tmp/f"
KVMINI_NESTED=1 case_ nested-plan 0 "inside the nested L1 (nothing on this machine)" -- --dry-run
case_ quick-plan      0 "workloads=rr4k-qd32 tool=fio seconds=2" -- --quick --dry-run
case_ perf-plan       0 "host=1 perf=1 warm_boot=1 nested"         -- --perf --dry-run
case_ warm-boot-plan  0 "perf=0 warm_boot=1 nested"    -- --dry-run
case_ no-warm-boot    0 "perf=0 warm_boot=0 nested"    -- --no-warm-boot --dry-run
case_ quick-no-warm   0 "warm_boot=0"                  -- --quick --dry-run
BLK_MATRIX_PERF="$tmp/no-perf" case_ perf-missing 2 "--perf: $tmp/no-perf is not installed" -- --perf --dry-run

# any block device node will do for the mount and holder checks: it is only stat()ed
blk=$(find /dev -maxdepth 1 -type b 2>/dev/null | head -n 1)
if [ -n "$blk" ]; then
    num=$(printf '%d:%d' "0x$(stat -c %t "$blk")" "0x$(stat -c %T "$blk")")
    printf '36 25 %s / /mnt rw,relatime shared:1 - ext4 %s rw\n' "$num" "$blk" > "$tmp/mountinfo"
    BLK_MATRIX_MOUNTINFO="$tmp/mountinfo" case_ device-mounted-fake 2 "mounted ($num" -- --device "$blk" --file "$tmp/f"
    mkdir -p "$tmp/sys/$num/holders/dm-7"
    BLK_MATRIX_SYSFS="$tmp/sys" BLK_MATRIX_MOUNTINFO=/dev/null case_ device-holders 2 "in use by dm-7" -- --device "$blk" --file "$tmp/f"
else
    skip=$((skip + 2))
fi

# the load generator and the user's fio job files (fio parses them here: make deps installs it)
jobs="$here/jobs"
printf '[a]\nrw=randread\nfilename=/dev/sda\n' > "$tmp/named.fio"
printf '[a]\n  exec_prerun = rm -rf /\n' > "$tmp/exec.fio"
printf '[a]\nrw=sideways\n' > "$tmp/bad.fio"
printf '[a]\nrw=randread\n' > "$tmp/sr1m.fio"
printf '[a]\nrw=randread\n' > "$tmp/with space.fio"
case_ tool-bad        2 "--tool: unknown value 'xyz'"  -- --tool xyz
case_ tool-two        2 "--tool: one of fio, iogen"    -- --tool fio,iogen
case_ tool-iogen-plan 0 "tool=iogen seconds"           -- --tool iogen --dry-run
case_ tool-fio-plan   0 "workloads=rr4k-qd1,rr4k-qd32,rw4k-qd1,rw4k-qd32,sr1m,sw1m tool=fio" -- --dry-run
BLK_MATRIX_FIO="$tmp/no-fio" case_ fio-missing 2 "fio is not installed" -- --dry-run
BLK_MATRIX_FIO="$tmp/no-fio" case_ fio-missing-iogen 0 "tool=iogen" -- --tool iogen --dry-run
case_ job-plan        0 "workloads=mixed-4k tool=fio"  -- --job "$jobs/mixed-4k.fio" --dry-run
case_ job-beside      0 "workloads=sr1m,mixed-4k tool" -- --workloads sr1m --job "$jobs/mixed-4k.fio" --dry-run
case_ job-quick       0 "workloads=rr4k-qd32,mixed-4k" -- --quick --job="$jobs/mixed-4k.fio" --dry-run
case_ job-missing     2 "--job $tmp/none.fio: no such readable file" -- --job "$tmp/none.fio"
case_ job-value       2 "--job needs a value"          -- --job
case_ job-filename    2 "line 3 sets 'filename': the benchmark chooses the file" -- --job "$tmp/named.fio"
case_ job-exec        2 "line 2 sets 'exec_prerun'"    -- --job "$tmp/exec.fio"
case_ job-unparsable  2 "fio cannot parse it: "        -- --job "$tmp/bad.fio"
case_ job-builtin     2 "a workload named 'sr1m' is already in the run" -- --job "$tmp/sr1m.fio"
case_ job-twice       2 "a workload named 'mixed-4k' is already" -- --job "$jobs/mixed-4k.fio" --job "$jobs/mixed-4k.fio"
case_ job-name        2 "names the workload"           -- --job "$tmp/with space.fio"
case_ job-iogen       2 "--job: fio job files need --tool fio" -- --tool iogen --job "$jobs/mixed-4k.fio"
case_ job-limit-bad   2 "--job-limit 'soon'"           -- --job-limit soon --job "$jobs/mixed-4k.fio"
case_ job-wl-empty    2 "--workloads is empty"         -- --workloads ""

# fio-summary.py: sums over jobs and directions, the worst percentiles, errors counted; a file
# that is not fio's JSON is one 'fio: failed' line and status 1
fs="$here/fio-summary.py"
cat > "$tmp/two.json" <<'JSON'
note: fio may print this before its JSON
{"jobs": [
 {"jobname": "r", "error": 0, "job_runtime": 2000,
  "read": {"total_ios": 300, "iops": 100.0, "bw_bytes": 409600, "drop_ios": 0,
           "lat_ns": {"percentile": {"50.000000": 9000, "99.000000": 50000, "99.900000": 70000}}},
  "write": {"total_ios": 0, "iops": 0, "bw_bytes": 0}, "trim": {"total_ios": 0}},
 {"jobname": "w", "error": 0, "job_runtime": 3000,
  "read": {"total_ios": 0}, "trim": {"total_ios": 0},
  "write": {"total_ios": 150, "iops": 50.0, "bw_bytes": 204800, "drop_ios": 0,
            "clat_ns": {"percentile": {"50.000000": 20000, "99.000000": 80000, "99.900000": 60000}}}}]}
JSON
out=$(python3 "$fs" "$tmp/two.json"); rc=$?
if [ "$rc" = 0 ] && [ "$out" = "fio: r,w jobs=2 ios=450 secs=3.00 iops=150 mbps=0.6 lat_p50_us=20 lat_p99_us=80 lat_p999_us=70 errors=0" ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL fio-summary-sums: status $rc: '$out'"; fi
sed 's/"error": 0, "job_runtime": 3000/"error": 5, "job_runtime": 3000/' "$tmp/two.json" > "$tmp/err.json"
out=$(python3 "$fs" "$tmp/err.json"); rc=$?
if [ "$rc" = 1 ] && [[ $out == *" errors=1" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL fio-summary-error: status $rc: '$out'"; fi
echo 'Jobs: 1 (f=1)' > "$tmp/junk.json"
out=$(python3 "$fs" "$tmp/junk.json"); rc=$?
if [ "$rc" = 1 ] && [[ $out == "fio: failed ($tmp/junk.json: "* ]] && [ "$(grep -c . <<<"$out")" = 1 ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL fio-summary-junk: status $rc: '$out'"; fi
# and a real fio run's JSON, the way blk-matrix.sh runs it
head -c $((4 << 20)) /dev/urandom > "$tmp/fio.img"
fio --name=v --filename="$tmp/fio.img" --size=4M --rw=randread --bs=4k --runtime=300ms --time_based \
    --eta=never --lat_percentiles=1 --percentile_list=50:99:99.9 --output-format=json --output="$tmp/real.json" >/dev/null 2>&1
out=$(python3 "$fs" "$tmp/real.json"); rc=$?
if [ "$rc" = 0 ] && [[ $out =~ ^fio:\ v\ jobs=1\ ios=[1-9][0-9]*\ secs=[0-9.]+\ iops=[1-9][0-9]*\ mbps=[0-9.]+\ lat_p50_us=[0-9]+\ lat_p99_us=[0-9]+\ lat_p999_us=[0-9]+\ errors=0$ ]]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL fio-summary-real: status $rc: '$out'"; fi

# with a real loop device (root): mounted for real, too small, and the plan names only it
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
    truncate -s 64M "$tmp/a.img" && a=$(losetup -f --show "$tmp/a.img" 2>/dev/null); then
    loops+=("$a")
    head -c $((1 << 20)) /dev/urandom > "$tmp/pattern"
    dd if="$tmp/pattern" of="$a" bs=1M count=1 conv=fsync status=none
    case_ device-small 2 "smaller than --size" -- --device "$a" --file "$tmp/f" --size 256M
    case_ dry-run-plan 0 "writes: $a $tmp/f" -- --device "$a" --file "$tmp/f" --size 32M --dry-run
    if cmp -s -n $((1 << 20)) "$tmp/pattern" "$a"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL device-untouched: $a changed by the refused and dry runs"; fi
    if truncate -s 64M "$tmp/b.img" && b=$(losetup -f --show "$tmp/b.img" 2>/dev/null); then
        loops+=("$b")
        mkfs.ext4 -q -F "$b" && mkdir -p "$tmp/mnt" && mount "$b" "$tmp/mnt" && mnt="$tmp/mnt"
        case_ device-mounted 2 "mounted (" -- --device "$b" --file "$tmp/f" --size 32M
    else
        skip=$((skip + 1))
    fi
else
    skip=$((skip + 4))
fi

# the report of a --repeat 3 run: medians per cell, kv/q from the medians, won from the pairs
rep="$tmp/report"
mkdir -p "$rep/raw/cells"
printf 'clk_tck=100\nseconds=3\nwarmup=1\nl1=0\n' > "$rep/raw/meta.txt"
echo 6 > "$rep/raw/expected"
n=0
for cell in kvmini:1:100 kvmini:2:300 kvmini:3:200 qemu:1:150 qemu:2:250 qemu:3:100; do
    IFS=: read -r vmm r iops <<<"$cell"
    n=$((n + 1))
    { printf 'vmm\ttransport\tbacking\tcache\tengine\tworkload\tiogen\tticks0\tticks1\tjson0\tjson1\tkvm0\tkvm1\tcached_kb\trep\n'
      printf '%s\tpci\traw\tnone\tio_uring\trr4k-qd1\tiogen: rand read iops=%s mbps=1 ios=%s ios_all=%s errors=0\t0/0\t%s/0\t-\t-\t-\t-\t0\t%s\n' \
          "$vmm" "$iops" "$((iops * 3))" "$((iops * 4))" "$n" "$r"
    } > "$rep/raw/cells/$vmm-pci-raw-none-io_uring-r$r.tsv"
    # kvmini's guest reported its own view (blkjobs' BLKM-GSTAT lines): 20 of 340 ticks stolen,
    # one virtio-blk interrupt per two I/Os (QEMU's consoles are missing: no guest columns)
    [ "$vmm" != kvmini ] || printf 'noise\nBLKM-GSTAT rr4k-qd1-begin 10 0 100 50 0 0 0 0 virtio0-config=0 virtio0-req.0=5 LOC=10\nBLKM-BEGIN rr4k-qd1\nBLKM-GSTAT rr4k-qd1-end 20 0 300 150 0 0 10 20 virtio0-config=1 virtio0-req.0=%s LOC=99\n' \
        "$((5 + iops * 2))" > "$rep/raw/$vmm-pci-raw-none-io_uring-r$r.console"
done
if python3 "$here/blk-report.py" "$rep" > "$tmp/report.out" 2>&1 &&
    grep -Eq '^rr4k-qd1 +kvmini +pci +raw +none +io_uring +200 .* 1\.33 +2/3$' "$rep/table.txt" &&
    grep -Eq '^rr4k-qd1 +qemu +pci +raw +none +io_uring +150 ' "$rep/table.txt" &&
    grep -q 'paired boots kvmini won  *2 of 3' "$rep/table.txt" &&
    grep -Eq '^rr4k-qd1 +kvmini .* 0\.50 +5\.9 ' "$rep/table.txt" &&
    python3 -c 'import json,sys; c={c["vmm"]: c for c in json.load(open(sys.argv[1]))["cells"]}; k, q = c["kvmini"], c["qemu"]; sys.exit(k["iops_runs"]!=[100,300,200] or k["runs"]!=3 or k["guest_irqs_per_io"]!=0.5 or k["guest_steal_pct"]!=5.9 or k["guest_busy_us_per_io"]!=2750 or q["guest_steal_pct"] is not None)' "$rep/results.json"; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL report-repeat: the medians, the won column or the guest's view of a 3-boot report are wrong"
    cat "$tmp/report.out" "$rep/table.txt" 2>/dev/null | head -20
fi

# the report of a fio run: the per-I/O figures divide by the requests the guest's disk completed
# between the markers (its /proc/diskstats: 400, the warm-up's included), not fio's 300
rep="$tmp/report-fio"
mkdir -p "$rep/raw/cells"
printf 'clk_tck=100\nseconds=3\nwarmup=1\nl1=0\ntool=fio (fio-3.33)\n' > "$rep/raw/meta.txt"
echo 2 > "$rep/raw/expected"
{ printf 'vmm\ttransport\tbacking\tcache\tengine\tworkload\tresult\tticks0\tticks1\tjson0\tjson1\tkvm0\tkvm1\tcached_kb\trep\n'
  printf 'kvmini\tpci\traw\tnone\tio_uring\tmixed-4k\tfio: mixed-4k jobs=1 ios=300 secs=3.00 iops=100 mbps=0.4 lat_p50_us=9 lat_p99_us=50 lat_p999_us=70 errors=0\t0/0\t8/0\t-\t-\t-\t-\t0\t1\n'
  printf 'host\t-\traw\t-\t-\tmixed-4k\tfio: mixed-4k jobs=1 ios=600 secs=3.00 iops=200 mbps=0.8 lat_p50_us=5 lat_p99_us=9 lat_p999_us=9 errors=0\t-\t-\t-\t-\t-\t-\t0\t1\n'
} > "$rep/raw/cells/all.tsv"
printf 'BLKM-GSTAT mixed-4k-begin 10 0 100 50 0 0 0 0 virtio0-req.0=5 LOC=10 vdaios=10\nBLKM-GSTAT mixed-4k-end 20 0 300 150 0 0 10 20 virtio0-req.0=205 LOC=99 vdaios=410\n' \
    > "$rep/raw/kvmini-pci-raw-none-io_uring-r1.console"
if python3 "$here/blk-report.py" "$rep" > "$tmp/report.out" 2>&1 &&
    grep -Eq '^mixed-4k +kvmini +pci +raw +none +io_uring +100 +0\.4 +9 +50 +70 +200 ' "$rep/table.txt" &&
    grep -Eq '^mixed-4k +host ' "$rep/table.txt" && grep -q '^load: fio (fio-3.33)' "$rep/table.txt" &&
    python3 -c 'import json,sys; c={c["vmm"]: c for c in json.load(open(sys.argv[1]))["cells"]}; k = c["kvmini"]; sys.exit(k["ios_all"] != 400 or k["guest_irqs_per_io"] != 0.5 or k["guest_host"] != 0.5)' "$rep/results.json"; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL report-fio: the per-I/O figures of a fio cell do not use the guest's disk count"
    cat "$tmp/report.out" "$rep/table.txt" 2>/dev/null | head -20
fi

msg=""; [ "$skip" = 0 ] || msg=", $skip skipped (not root or no loop devices)"
echo "blk-matrix-cli: $pass passed, $fail failed$msg"
[ "$fail" = 0 ]
