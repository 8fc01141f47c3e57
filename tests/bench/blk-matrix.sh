#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Block benchmark matrix: raw device vs file on ext4, cache=none vs writeback, io_uring vs sync,
# virtio-pci vs virtio-mmio, six O_DIRECT workloads in the guest; kvmini, QEMU microvm and the
# host ceiling in one run.
#
# Usage: tests/bench/blk-matrix.sh [options] [BUILD]      (make bench-blk; see --help)
# Where this machine has no usable hardware virtualization (kvm_pvm, like our build machines)
# the whole run happens inside one nested L1 (tests/nested/l1.sh) on two loop devices over
# equal files in L1's tmpfs, one raw, one holding ext4 and the backing file. On real hardware
# the user names the raw device (--device) and the file (--file, on ext4 on an identical
# device); nothing else is ever written. Raw results land in OUT/raw, the table in
# OUT/table.txt, OUT/results.json, OUT/results.csv and OUT/blk-matrix.png (report:
# tests/bench/blk-report.py).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

usage() {
    cat <<'EOF'
usage: tests/bench/blk-matrix.sh [options] [BUILD]     (BUILD: default build/)
  Runs the block benchmark matrix and prints a table; writes OUT/results.{json,csv},
  OUT/table.txt and OUT/blk-matrix.png.
options:
  --device DEV       raw block device to benchmark; ITS CONTENTS ARE OVERWRITTEN (the
                     write workloads); refused if mounted, in use (holders, swap) or too small
  --file PATH        file for the file backing (on ext4 on a device like DEV): created
                     (fallocate, then filled) if absent; refused if its file system is too full
                     (--device and --file go together; without them, on a machine that needs
                     the nested L1, two loop devices over equal tmpfs files are used)
  --size SIZE        working set and file size: 256M (K, M, G suffixes)
  --seconds N        measured seconds per workload (3)    --warmup N  warm-up seconds (1)
  --backing LIST     raw,file      --cache LIST  none,writeback   --engine LIST  io_uring,sync
  --transport LIST   pci,mmio      (kvmini --virtio-transport; QEMU microvm virtio-blk-pci with
                     pcie=on, or virtio-blk-device)
  --workloads LIST   rr4k-qd1,rr4k-qd32,rw4k-qd1,rw4k-qd32,sr1m,sw1m
                     (4 KiB random read/write at QD1/QD32, 1 MiB sequential read/write at QD4;
                     with --job: none unless named)
  --job FILE         a fio job file of yours, run as one more workload (named after the file,
                     without .fio) in every guest and on the host ceiling; repeatable. The
                     benchmark sets the file (the guest's disk, or the backing), --size as
                     the size and fio's JSON output; the file may set everything else but
                     filename, directory, filename_format, opendir, include, exec_prerun and
                     exec_postrun
  --job-limit N      seconds a job file's fio may run before the boot is ended (900)
  --tool fio|iogen   the load generator (fio): Debian's fio, with its libraries, in the guest
                     and on the host; iogen (tests/bench/iogen.c) reruns the method of the
                     results made before fio (docs/results/blk-matrix-2026-12-06)
  --no-qemu          skip the QEMU microvm reference     --no-host  skip the host ceiling
  --kvmini-memory M  kvmini's --memory (512M, as QEMU's -m 512): e.g. 512M,thp=off to measure
                     what transparent huge pages under guest RAM are worth
  --repeat N         boot every configuration N times (1); the table shows each cell's median
                     and in how many of the N paired boots kvmini beat QEMU. kvmini and QEMU
                     boot back to back for each configuration, first one then the other in turn
  --quick            one cell: raw, cache=none, io_uring, pci, rr4k-qd32, 2 s + 1 s warm-up
  --out DIR          results directory (default BUILD/bench/blk-matrix)
  --perf             profile each kvmini and QEMU workload system-wide (perf record -a -g,
                     cpu-clock): OUT/raw/TAG-WORKLOAD.perf.txt, where the CPU went by thread
                     and function (needs perf; costs both VMMs the same few per cent)
  --no-warm-boot     skip the unmeasured warm-up boot of each VMM before the first cell
                     (it takes the first-run costs of a fresh machine off the first cell)
  --dry-run          check the options and devices, print the plan, write nothing
  -h, --help         this text
EOF
}
die() { echo "blk-matrix: error: $*" >&2; exit 2; }
say() { echo "blk-matrix: $*"; }

# ---- options ----
DEVICE="" FILE="" SIZE=256M SECS=3 WARM=1 BACKINGS=raw,file CACHES=none,writeback
ENGINES=io_uring,sync TRANSPORTS=pci,mmio WORKLOADS=rr4k-qd1,rr4k-qd32,rw4k-qd1,rw4k-qd32,sr1m,sw1m QEMU=1 HOST=1
OUT="" OUT_SET=0 DRY=0 PERF=0 WARMBOOT=1 QUICK=0 BUILD="" REPEAT=1 KMEM=512M TOOL=fio WL_SET=0
JOBS=() JOB_LIMIT=900
ARGS=()   # the options, without BUILD (passed on to the run inside L1)
while [ $# -gt 0 ]; do
    opt=$1
    val=""
    case $opt in
    --*=*) val=${opt#*=}; opt=${opt%%=*}; ARGS+=("$1") ;;
    --device | --file | --size | --seconds | --warmup | --backing | --cache | --engine | --repeat | \
        --workloads | --transport | --out | --kvmini-memory | --job | --tool | --job-limit)
        [ $# -ge 2 ] || die "$opt needs a value"
        val=$2; ARGS+=("$1" "$2"); shift ;;
    -*) ARGS+=("$1") ;;
    esac
    case $opt in
    --device) DEVICE=$val ;;
    --file) FILE=$val ;;
    --size) SIZE=$val ;;
    --seconds) SECS=$val ;;
    --warmup) WARM=$val ;;
    --backing) BACKINGS=$val ;;
    --cache) CACHES=$val ;;
    --engine) ENGINES=$val ;;
    --workloads) WORKLOADS=$val WL_SET=1 ;;
    --job) JOBS+=("$val") ;;
    --job-limit) JOB_LIMIT=$val ;;
    --tool) TOOL=$val ;;
    --transport) TRANSPORTS=$val ;;
    --out) OUT=$val OUT_SET=1 ;;
    --repeat) REPEAT=$val ;;
    --kvmini-memory) KMEM=$val ;;
    --no-qemu) QEMU=0 ;;
    --no-host) HOST=0 ;;
    --quick) QUICK=1 ;;
    --dry-run) DRY=1 ;;
    --perf) PERF=1 ;;
    --no-warm-boot) WARMBOOT=0 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$BUILD" ] || die "unexpected argument '$1' (see --help)"; BUILD=$1 ;;
    esac
    shift
done
# --out is this side's: never passed on to the run inside L1 (its / is read-only there); --job
# files are passed on as copies the L1 can see (below)
L1ARGS=()
skip_next=0
for a in "${ARGS[@]}"; do
    if [ "$skip_next" = 1 ]; then skip_next=0; continue; fi
    case $a in --out | --job) skip_next=1; continue ;; --out=* | --job=*) continue ;; esac
    L1ARGS+=("$a")
done
if [ "$QUICK" = 1 ]; then
    WARMBOOT=0
    BACKINGS=raw CACHES=none ENGINES=io_uring TRANSPORTS=pci WORKLOADS=rr4k-qd32 SECS=2 WARM=1
fi
BUILD=${BUILD:-$top/build}
[ -d "$BUILD" ] || die "build directory '$BUILD' does not exist (run make first)"
BUILD=$(cd "$BUILD" && pwd)

# size_bytes STR: 256M -> bytes (K/M/G/T, powers of 1024), or empty if malformed
size_bytes() {
    local s=$1 n m=1
    case $s in
    *[kK]) m=1024; n=${s%?} ;; *[mM]) m=$((1 << 20)); n=${s%?} ;;
    *[gG]) m=$((1 << 30)); n=${s%?} ;; *[tT]) m=$((1 << 40)); n=${s%?} ;; *) n=$s ;;
    esac
    [[ $n =~ ^[0-9]+$ ]] && [ "${#n}" -le 12 ] || return 0
    echo $((n * m))
}
is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
# check_list NAME VALUE ALLOWED...: every comma-separated item of VALUE is allowed
check_list() {
    local name=$1 value=$2 item ok a
    shift 2
    [ -n "$value" ] || die "$name is empty"
    for item in ${value//,/ }; do
        ok=0
        for a in "$@"; do [ "$item" = "$a" ] && ok=1; done
        [ "$ok" = 1 ] || die "$name: unknown value '$item' (one of: $*)"
    done
}
SIZE_B=$(size_bytes "$SIZE")
{ [ -n "$SIZE_B" ] && [ "$SIZE_B" -ge $((16 << 20)) ]; } || die "--size '$SIZE': a size of at least 16M (e.g. 256M, 1G)"
[ $((SIZE_B % (1 << 20))) = 0 ] || die "--size '$SIZE': a whole number of MiB"
{ [[ $JOB_LIMIT =~ ^[0-9]{1,5}$ ]] && [ "$JOB_LIMIT" -ge 1 ]; } || die "--job-limit '$JOB_LIMIT': a whole number of seconds"
{ is_num "$SECS" && awk -v s="$SECS" 'BEGIN{exit !(s > 0)}'; } || die "--seconds '$SECS': a positive number"
is_num "$WARM" || die "--warmup '$WARM': a number of seconds"
{ [[ $REPEAT =~ ^[0-9]{1,2}$ ]] && [ "$REPEAT" -ge 1 ] && [ "$REPEAT" -le 20 ]; } ||
    die "--repeat '$REPEAT': a whole number from 1 to 20"
[[ $KMEM =~ ^[0-9]+[KMGT]?(,(thp|hugepages)=(on|off))*$ ]] ||
    die "--kvmini-memory '$KMEM': SIZE[,thp=on|off][,hugepages=on|off], as kvmini's --memory"
check_list --backing "$BACKINGS" raw file
check_list --cache "$CACHES" none writeback
check_list --engine "$ENGINES" io_uring sync
check_list --transport "$TRANSPORTS" pci mmio
BUILTIN_WL=(rr4k-qd1 rr4k-qd32 rw4k-qd1 rw4k-qd32 sr1m sw1m)
check_list --tool "$TOOL" fio iogen
[[ $TOOL != *,* ]] || die "--tool: one of fio, iogen"
if [ "${#JOBS[@]}" -gt 0 ]; then
    [ "$TOOL" = fio ] || die "--job: fio job files need --tool fio"
    # a job file alone runs just itself; with --workloads (or --quick) beside the named ones
    [ "$WL_SET" = 1 ] || [ "$QUICK" = 1 ] || WORKLOADS=""
fi
[ -z "$WORKLOADS" ] || check_list --workloads "$WORKLOADS" "${BUILTIN_WL[@]}"
FIO=${BLK_MATRIX_FIO:-fio}   # the tests point it at a missing command
if [ "$TOOL" = fio ] && ! command -v "$FIO" >/dev/null; then
    die "fio is not installed (make deps-bench, or apt-get install fio; --tool iogen does without)"
fi
# check_job FILE: a job file the guest and the host ceiling can run; prints its workload name
check_job() {
    local f=$1 name bad err
    { [ -f "$f" ] && [ -r "$f" ]; } || die "--job $f: no such readable file"
    name=$(basename "$f"); name=${name%.fio}
    [[ $name =~ ^[A-Za-z0-9_.-]{1,40}$ ]] ||
        die "--job $f: the file's name (without .fio) names the workload: up to 40 letters, digits, '.', '_' or '-'"
    bad=$(grep -nE '^[[:space:]]*(filename|directory|filename_format|opendir|include|exec_prerun|exec_postrun)([[:space:]]*=|[[:space:]]|$)' "$f" | head -n1 || true)
    [ -z "$bad" ] || die "--job $f: line ${bad%%:*} sets '$(sed -E 's/^[[:space:]]*([a-z_]+).*/\1/' <<<"${bad#*:}")': the benchmark chooses the file (the guest's disk, or the backing on the host); remove it"
    err=$("$FIO" --parse-only "$f" 2>&1 >/dev/null) || die "--job $f: fio cannot parse it: $(grep -v '^$' <<<"$err" | head -n1)"
    echo "$name"
}
JOB_NAMES=()
for f in "${JOBS[@]}"; do
    n=$(check_job "$f") || exit 2
    for o in "${BUILTIN_WL[@]}" "${JOB_NAMES[@]}"; do
        [ "$n" != "$o" ] || die "--job $f: a workload named '$n' is already in the run (rename the file)"
    done
    JOB_NAMES+=("$n")
done
[ -n "$WORKLOADS" ] || [ "${#JOBS[@]}" -gt 0 ] || die "--workloads is empty"

# ---- the devices the user named: every check before anything is written ----
MOUNTINFO=${BLK_MATRIX_MOUNTINFO:-/proc/self/mountinfo}   # test hooks: a fake mountinfo,
SYSBLOCK=${BLK_MATRIX_SYSFS:-/sys/dev/block}              # a fake /sys/dev/block
# devnum PATH: "major:minor" of a block device node
devnum() { printf '%d:%d' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"; }
check_device() {
    local dev=$1 num sys part pnum h
    [ -e "$dev" ] || die "--device $dev: no such device"
    [ -b "$dev" ] || die "--device $dev: not a block device"
    num=$(devnum "$dev")
    # the device itself, or any of its partitions, mounted anywhere
    local -a nums=("$num")
    sys="$SYSBLOCK/$num"
    for part in "$sys"/*/partition; do
        [ -e "$part" ] || continue
        pnum=$(cat "$(dirname "$part")/dev" 2>/dev/null || true)
        [ -z "$pnum" ] || nums+=("$pnum")
    done
    for pnum in "${nums[@]}"; do
        if awk -v n="$pnum" '$3 == n {found=1} END{exit !found}' "$MOUNTINFO"; then
            die "--device $dev: mounted ($pnum is in $MOUNTINFO); refusing to write to it"
        fi
    done
    for h in "$sys"/holders/* "$sys"/*/holders/*; do
        [ -e "$h" ] && die "--device $dev: in use by $(basename "$h") (holders); refusing to write to it"
    done
    if [ -r /proc/swaps ] && awk -v d="$(readlink -f "$dev")" 'NR > 1 && $1 == d {f=1} END{exit !f}' /proc/swaps; then
        die "--device $dev: an active swap device; refusing to write to it"
    fi
    local bytes
    bytes=$(blockdev --getsize64 "$dev" 2>/dev/null) || die "--device $dev: cannot read its size (blockdev --getsize64; root?)"
    [ "$bytes" -ge "$SIZE_B" ] || die "--device $dev: $((bytes >> 20)) MiB, smaller than --size $SIZE"
}
check_file() {
    local f=$1 dir have=0 avail
    dir=$(dirname "$f")
    [ -d "$dir" ] || die "--file $f: directory $dir does not exist"
    if [ -e "$f" ]; then
        [ -f "$f" ] || die "--file $f: exists and is not a regular file"
        have=$(stat -c %s "$f")
    fi
    avail=$(df -P -B1 "$dir" | awk 'NR == 2 {print $4}')
    if [ "$have" -lt "$SIZE_B" ] && [ $((SIZE_B - have)) -gt "${avail:-0}" ]; then
        die "--file $f: too little space on $(df -P "$dir" | awk 'NR == 2 {print $6}') ($((avail >> 20)) MiB free, --size $SIZE needs $(((SIZE_B - have) >> 20)) MiB more)"
    fi
}
# shellcheck source=../lib/kvm-where.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../lib/kvm-where.sh"
needs_nested() {
    [ "${L1:-0}" != 1 ] && ! kvm_boot_direct "$BUILD"
}
NESTED=0
needs_nested && NESTED=1
if [ "$NESTED" = 1 ] && [ -n "$DEVICE" ]; then
    die "--device/--file: this machine has no usable hardware virtualization; the run would happen in a nested L1, which cannot see host devices (run without them)"
fi
if [ -n "$DEVICE$FILE" ]; then
    [ -n "$DEVICE" ] || die "--file needs --device (the raw device to compare with)"
    [ -n "$FILE" ] || die "--device needs --file (the file backing to compare with)"
    check_file "$FILE"
    check_device "$DEVICE"
fi

PERF_CMD=${BLK_MATRIX_PERF:-perf}   # the tests point it at a missing command
if [ "$PERF" = 1 ] && ! command -v "$PERF_CMD" >/dev/null; then
    die "--perf: $PERF_CMD is not installed (apt-get install linux-perf)"
fi

OUT=${OUT:-$BUILD/bench/blk-matrix}

if [ "$DRY" = 1 ]; then
    if [ -n "$DEVICE" ]; then
        writes="$DEVICE $FILE"
    elif [ "$NESTED" = 1 ]; then
        writes="two loop devices over ${SIZE} tmpfs files inside the nested L1 (nothing on this machine)"
    else
        writes="two loop devices over ${SIZE} scratch files in ${TMPDIR:-/tmp}"
    fi
    echo "plan: backing=$BACKINGS cache=$CACHES engine=$ENGINES transport=$TRANSPORTS workloads=$(IFS=,; echo "${WORKLOADS:+$WORKLOADS${JOB_NAMES[*]:+,}}${JOB_NAMES[*]}") tool=$TOOL seconds=$SECS warmup=$WARM size=$SIZE_B repeat=$REPEAT kvmini_memory=$KMEM qemu=$QEMU host=$HOST perf=$PERF warm_boot=$WARMBOOT nested=$NESTED"
    echo "writes: $writes"
    echo "results: $OUT"
    exit 0
fi

for t in kvmini pcache $([ "$TOOL" = iogen ] && echo iogen); do
    [ -x "$BUILD/$t" ] || die "$BUILD/$t is not built (make bench-blk builds it)"
done
[ -f "$BUILD/guest/bzImage" ] || die "no guest in $BUILD/guest (make guest)"
if [ "$QEMU" = 1 ] && ! command -v qemu-system-x86_64 >/dev/null; then
    die "qemu-system-x86_64 not found (apt-get install qemu-system-x86, or --no-qemu)"
fi

# ---- outside: run inside the nested L1, then make the report here ----
if [ "$NESTED" = 1 ]; then
    for a in "${L1ARGS[@]}"; do
        case $a in *[[:space:]+]*) die "argument '$a': no spaces or '+' in the nested mode" ;; esac
    done
    say "$KVM_LINE"
    say "running inside one nested L1 (QEMU TCG + SVM); the progress comes from L1's console"
    # shellcheck source=../nested/l1.sh disable=SC1091
    . "$top/tests/nested/l1.sh"
    mkdir -p "$BUILD/nested" "$OUT"
    # the job files, where the L1 sees them (it has this machine's / read-only, but its own /tmp)
    rm -rf "$BUILD/nested/jobs"
    mkdir -p "$BUILD/nested/jobs"
    for i in "${!JOBS[@]}"; do
        cp "${JOBS[$i]}" "$BUILD/nested/jobs/${JOB_NAMES[$i]}.fio"
        L1ARGS+=(--job "$BUILD/nested/jobs/${JOB_NAMES[$i]}.fio")
    done
    log="$BUILD/nested/blk-matrix-console.log"
    : > "$log"
    tail -n +1 -F "$log" 2>/dev/null | grep --line-buffered -a -E '^(blk-matrix|  \[)' &
    tailpid=$!
    # The emulated L1 occasionally freezes or oopses as a whole (soft lockups under TCG, see
    # docs/nested.md): such a run ends without a status (124/125; a console silent for
    # L1_STALL=900 s counts as frozen: a boot's own watchdog ends a stuck guest well before)
    # and is run again, up to two more times, resuming after the VMM configurations that
    # finished (raw/cells/*.tsv).
    rc=0
    for attempt in 1 2 3; do
        rc=0
        L1_KEEP_RESULTS=$([ "$attempt" = 1 ] && echo 0 || echo 1) L1_TIMEOUT=${L1_TIMEOUT:-6000} \
            L1_STALL=${L1_STALL:-900} \
            L1_QUIET=1 L1_LOG="$log" l1_run "$BUILD" "$here/blk-matrix.sh" "${L1ARGS[@]}" "$BUILD" || rc=$?
        { [ "$rc" = 124 ] || [ "$rc" = 125 ]; } || break
        [ "$attempt" = 3 ] || say "the nested L1 failed (status $rc): running it again from the first unfinished configuration"
        cp "$log" "$log.failed-$attempt"
    done
    sleep 0.5
    kill "$tailpid" 2>/dev/null || true
    wait "$tailpid" 2>/dev/null || true
    res="$BUILD/nested/results-blk-matrix"
    if ! compgen -G "$res/cells/*.tsv" >/dev/null; then
        echo "blk-matrix: the L1 run failed (status $rc) before any cell finished; console log: $log" >&2
        exit 1
    fi
    rm -rf "$OUT/raw"
    mkdir -p "$OUT/raw"
    cp -r "$res"/. "$OUT/raw/"
    python3 "$here/blk-report.py" "$OUT"
    [ "$rc" = 0 ] || { echo "blk-matrix: the L1 run failed (status $rc): the table above is incomplete; console log: $log" >&2; exit 1; }
    exit 0
fi

# ---- the run itself (in L1, or on a machine with VT-x/AMD-V) ----
[ "$(id -u)" = 0 ] || die "needs root (page cache drops, loop devices, KVM debugfs counters)"
# the raw results: in the L1 of a matrix run its results directory (the host side makes the
# report); otherwise, or with --out (the nested smoke case), OUT/raw, reported here
if [ "${L1:-0}" = 1 ] && [ "$OUT_SET" = 0 ] && [ -n "${RESULTS:-}" ]; then
    RAW=$RESULTS
else
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    RAW=$OUT/raw
    rm -rf "$RAW"
fi
mkdir -p "$RAW"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-blkm.XXXXXX")
LOOPS=() MNT=""
cleanup() {
    local l
    [ -z "$MNT" ] || umount "$MNT" 2>/dev/null || true
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

SIZE_MB=$((SIZE_B >> 20))
if [ -z "$DEVICE" ]; then
    # two identical loop devices over equal files; one raw, one with ext4 and the file
    # (device SIZE + 10 %: ext4's metadata and journal must fit beside the SIZE file)
    devmb=$((SIZE_MB + SIZE_MB / 10 + 16))
    truncate -s "${devmb}M" "$work/raw.img" "$work/fs.img"
    DEVICE=$(losetup -f --show "$work/raw.img"); LOOPS+=("$DEVICE")
    fsdev=$(losetup -f --show "$work/fs.img"); LOOPS+=("$fsdev")
    mkfs.ext4 -q -F "$fsdev"
    MNT="$work/mnt"; mkdir -p "$MNT"
    mount -t ext4 "$fsdev" "$MNT"
    FILE="$MNT/backing.img"
    say "backing: raw $DEVICE (loop over ${devmb} MiB in ${TMPDIR:-/tmp}); file $FILE on ext4 on $fsdev (an identical loop device)"
else
    say "backing: raw $DEVICE; file $FILE (on $(stat -f -c %T "$(dirname "$FILE")"))"
fi
# fill both with the same kind of data: random bytes (no all-zero shortcuts anywhere)
case ",$BACKINGS," in *,raw,*)
    say "filling the first $SIZE_MB MiB of $DEVICE"
    head -c "$SIZE_B" /dev/urandom | dd of="$DEVICE" bs=1M oflag=direct iflag=fullblock status=none ;;
esac
case ",$BACKINGS," in *,file,*)
    if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -lt "$SIZE_B" ]; then
        say "creating $FILE: fallocate $SIZE_MB MiB, then fill"
        fallocate -l "$SIZE_B" "$FILE"
        head -c "$SIZE_B" /dev/urandom | dd of="$FILE" bs=1M conv=notrunc oflag=direct iflag=fullblock status=none
    fi ;;
esac
sync

# the guest: the default initramfs plus the load generator and the job script. fio is Debian's
# binary with every library it links (ldd), in an uncompressed archive put first (an
# uncompressed cpio must start 4-byte aligned in the initrd; the guest unpacks it fastest)
declare -A JOB=([rr4k-qd1]="-q 1" [rr4k-qd32]="-q 32" [rw4k-qd1]="-w -q 1" [rw4k-qd32]="-w -q 32"
    [sr1m]="-s -b 1048576 -q 4" [sw1m]="-w -s -b 1048576 -q 4")
declare -A FIOJOB=([rr4k-qd1]="--rw=randread --bs=4k --iodepth=1" [rr4k-qd32]="--rw=randread --bs=4k --iodepth=32"
    [rw4k-qd1]="--rw=randwrite --bs=4k --iodepth=1" [rw4k-qd32]="--rw=randwrite --bs=4k --iodepth=32"
    [sr1m]="--rw=read --bs=1m --iodepth=4" [sw1m]="--rw=write --bs=1m --iodepth=4")
ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 + 0.5 }'; }
# every fio run: the figures the report reads (total latency percentiles) and JSON output
FIO_OUT="--eta=never --lat_percentiles=1 --percentile_list=50:99:99.9 --output-format=json"
# fio_args WORKLOAD FILE: fio's arguments for one workload on FILE (the guest's disk or a backing)
fio_args() {
    if [ -n "${FIOJOB[$1]:-}" ]; then
        echo "--name=$1 --filename=$2 --size=$SIZE_B --ioengine=io_uring --direct=1 --time_based" \
            "--runtime=$(ms "$SECS")ms --ramp_time=$(ms "$WARM")ms ${FIOJOB[$1]} $FIO_OUT"
    else
        echo "--filename=$2 --size=$SIZE_B $FIO_OUT $3"
    fi
}
IFS=, read -r -a WL <<<"$WORKLOADS"
WL+=("${JOB_NAMES[@]}")
declare -A JOBFILE=()
for i in "${!JOBS[@]}"; do JOBFILE[${JOB_NAMES[$i]}]=$(readlink -f "${JOBS[$i]}"); done
mkdir -p "$work/ov/bin" "$work/ov/jobs"
# a guest that has not finished its workloads by then is stuck: 2 minutes to boot, a minute
# beyond each workload's time, --job-limit for a job file
BOOT_LIMIT=120
for w in "${WL[@]}"; do
    if [ -n "${FIOJOB[$w]:-}" ]; then
        BOOT_LIMIT=$((BOOT_LIMIT + 61 + ($(ms "$SECS") + $(ms "$WARM")) / 1000))
    else
        BOOT_LIMIT=$((BOOT_LIMIT + 60 + JOB_LIMIT))
    fi
done
: > "$work/initrd"
if [ "$TOOL" = fio ]; then
    fiobin=$(command -v "$FIO")
    mkdir -p "$work/fio"
    libdirs=""
    for f in "$fiobin" $(ldd "$fiobin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        mkdir -p "$work/fio$(dirname "$f")"
        cp -L "$f" "$work/fio$f"
        case ":$libdirs:" in *":$(dirname "$f"):"*) ;; *) libdirs+="${libdirs:+:}$(dirname "$f")" ;; esac
    done
    (cd "$work/fio" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc --quiet) > "$work/initrd"
    say "fio in the guest: $("$FIO" --version) and $(($(ldd "$fiobin" | grep -c /) )) libraries, $(($(stat -c %s "$work/initrd") >> 20)) MiB (uncompressed)"
    for w in "${JOB_NAMES[@]}"; do cp "${JOBFILE[$w]}" "$work/ov/jobs/$w.fio"; done
else
    cp "$BUILD/iogen" "$work/ov/bin/iogen"
fi
{
    echo '#!/bin/sh'
    echo '# blk-matrix guest side: each workload between a BEGIN and an END marker; the host'
    echo '# acknowledges each marker on the console once it has taken its snapshot; the guest'
    echo "# reports its own view too: how it idles and keeps time, and its CPU time, interrupts"
    echo '# and the requests its disk completed (/proc/stat, /proc/interrupts, /proc/diskstats) at'
    echo "# each marker; fio's JSON result follows the END marker (gzip, base64), outside the window"
    echo 'c=/sys/devices/system; echo "BLKM-GINFO cpuidle=$(cat $c/cpu/cpuidle/current_driver 2>/dev/null || echo -) clocksource=$(cat $c/clocksource/clocksource0/current_clocksource 2>/dev/null || echo -) x2apic=$(grep -c x2apic /proc/cpuinfo) pv=$(dmesg | grep -o -E "kvm-guest: [^:]*|x2apic enabled|PV [a-z ]*" | tr " " _ | sort -u | tr "\n" ,)"'
    echo 'gstat() { echo "BLKM-GSTAT $1 $(awk '"'"'/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}'"'"' /proc/stat) $(awk '"'"'NR == 1 {n = NF; next} /virtio|LOC|RES|CAL/ {t = 0; for (i = 2; i <= n + 1; i++) t += $i; printf "%s=%d ", $NF ~ /^virtio/ ? $NF : substr($1, 1, 3), t}'"'"' /proc/interrupts)$(awk '"'"'$3 == "vda" {printf "vdaios=%d", $4 + $8}'"'"' /proc/diskstats)"; }'
    echo "export LD_LIBRARY_PATH=${libdirs:-}"
    for w in "${WL[@]}"; do
        echo "gstat $w-begin; echo BLKM-BEGIN $w; read -r ack"
        if [ "$TOOL" = iogen ]; then
            echo "iogen ${JOB[$w]} -t $SECS -W $WARM -S $SIZE_B /dev/vda"
        else
            echo "${fiobin:-fio} $(fio_args "$w" /dev/vda "/jobs/$w.fio") --output=/tmp/$w.json 2>/tmp/$w.err"
        fi
        echo "gstat $w-end; echo BLKM-END $w; read -r ack"
        [ "$TOOL" = iogen ] || echo "echo BLKM-RESULT $w; gzip -c /tmp/$w.json | base64; head -n 5 /tmp/$w.err | sed 's/^/fio-err: /'; echo BLKM-RESULT-END $w"
    done
    echo 'echo BLKM-DONE'
} > "$work/ov/bin/blkjobs"
chmod 755 "$work/ov/bin/blkjobs"
(cd "$work/ov" && find bin jobs | cpio -o -H newc --quiet | gzip) > "$work/ov.cpio.gz"
cat "$BUILD/guest/initramfs.cpio.gz" "$work/ov.cpio.gz" >> "$work/initrd"
KERNEL="$BUILD/guest/bzImage"
APPEND="quiet kvmini.run=blkjobs;poweroff+-f"

# KVM's per-VM counters in debugfs (the same source for both VMMs)
DEBUGFS=/sys/kernel/debug/kvm
if [ ! -d "$DEBUGFS" ]; then
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
fi
[ -d "$DEBUGFS" ] || say "no KVM debugfs: KVM's exit counters come from kvmini's --exit-stats only"

# drop BACKING: write back and drop the page cache of just that backing
drop() {
    if [ "$1" = raw ]; then
        blockdev --flushbufs "$DEVICE"
        dd if="$DEVICE" iflag=nocache count=0 status=none
    else
        sync "$FILE"
        dd if="$FILE" iflag=nocache count=0 status=none
    fi
}
path_of() { if [ "$1" = raw ]; then echo "$DEVICE"; else echo "$FILE"; fi; }
cached_kb() { "$BUILD/pcache" "$(path_of "$1")" | sed -n 's/.* resident_kb=\([0-9]*\).*/\1/p'; }
# ticks PID: "user+system/guest" CPU ticks of the whole VMM (all threads; guest time, the time
# its vCPU threads spent running the guest, is counted inside user time)
ticks() { awk '{print $14 + $15 "/" $43}' "/proc/$1/stat" 2>/dev/null || echo 0/0; }
kvmstats() { # PID: "exits=N,io_exits=N,..." from KVM's debugfs for that VM, or "-"
    local d s out=""
    for d in "$DEBUGFS/$1"-*; do
        [ -d "$d" ] || continue
        for s in exits io_exits mmio_exits halt_exits irq_exits irq_injections \
            halt_successful_poll halt_wakeup insn_emulation request_irq_exits; do
            [ -r "$d/$s" ] && out+="$s=$(cat "$d/$s"),"
        done
    done
    echo "${out:--}"
}

# one file of cells per finished VMM configuration (or host backing): RAW/cells/TAG.tsv,
# written under a temporary name and renamed at the end, so a resumed run skips it
mkdir -p "$RAW/cells"
rm -f "$RAW"/cells/*.part
HDR='vmm\ttransport\tbacking\tcache\tengine\tworkload\tresult\tticks0\tticks1\tjson0\tjson1\tkvm0\tkvm1\tcached_kb\trep\n'
# shellcheck disable=SC2059 # HDR is the format
start_cells() { printf "$HDR" > "$RAW/cells/$1.part"; }
end_cells() { mv "$RAW/cells/$1.part" "$RAW/cells/$1.tsv"; }
finished() { [ -f "$RAW/cells/$1.tsv" ]; }
{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "command=tests/bench/blk-matrix.sh ${ARGS[*]}${ARGS[*]:+ }BUILD"
    echo "l1=${L1:-0}"
    echo "host_kernel=$(uname -r)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    echo "ncpus=$(nproc)"
    echo "mem_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
    echo "guest_kernel=$(cat "$BUILD/guest/kernel-version" 2>/dev/null || echo "?")"
    echo "device=$DEVICE"
    echo "file=$FILE"
    echo "size=$SIZE_B"
    echo "seconds=$SECS"
    echo "warmup=$WARM"
    echo "repeat=$REPEAT"
    echo "kvmini_memory=$KMEM"
    echo "warm_boot=$WARMBOOT"
    echo "qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n1)"
    echo "tool=$TOOL$([ "$TOOL" = iogen ] || echo " ($("$FIO" --version), Debian's package, in the guest and on the host)")"
    echo "jobs=$(for w in "${JOB_NAMES[@]}"; do printf '%s ' "$w.fio"; done)"
    echo "clk_tck=$(getconf CLK_TCK)"
} > "$RAW/meta.txt"

NCELLS=0 CELL=0
count_cells() {
    local nb nc ne nw=${#WL[@]}
    nb=$(tr ',' '\n' <<<"$BACKINGS" | grep -c .); nc=$(tr ',' '\n' <<<"$CACHES" | grep -c .)
    ne=$(tr ',' '\n' <<<"$ENGINES" | grep -c .); nt=$(tr ',' '\n' <<<"$TRANSPORTS" | grep -c .)
    NCELLS=$((nb * nc * ne * nt * nw * (1 + QEMU) * REPEAT + HOST * nb * nw))
}
count_cells
echo "$NCELLS" > "$RAW/expected"
progress() { # VMM TRANSPORT BACKING CACHE ENGINE WORKLOAD IOGEN-LINE [REP]
    CELL=$((CELL + 1))
    local f=$7 run=""
    v() { tr ' ' '\n' <<<"$f" | sed -n "s/^$1=//p"; }
    [ "$REPEAT" = 1 ] || [ -z "${8:-}" ] || run=" (boot $8 of $REPEAT)"
    printf '  [%3d/%d] %-6s %-4s %-4s %-9s %-8s %-9s %8s IOPS %8s MB/s p99 %6s us%s\n' "$CELL" "$NCELLS" \
        "$1" "$2" "$3" "$4" "$5" "$6" "$(v iops)" "$(v mbps)" "$(v lat_p99_us)" "$run"
}

# --perf: a system-wide profile of each workload, from its BEGIN marker to its END marker
# (the guest waits for the acknowledgement, so nothing of the snapshots is in it); the
# reports are made after the boot, so making them costs the workloads nothing
PERFPID="" PERFPFX=""
# threads PID: "TID NAME TICKS" for each thread of PID (user+system, a vCPU's guest time included)
threads() {
    local t
    for t in /proc/"$1"/task/*; do
        sed -E 's/^([0-9]+) \((.*)\) [A-Za-z] (([^ ]+ ){10})([0-9]+) ([0-9]+) .*/\1 \2 \5 \6/' "$t/stat" 2>/dev/null |
            awk '{print $1, $2, $(NF - 1) + $NF}'
    done
}
perf_mark() { # MARKER PID [PREFIX]: END stops the profile, BEGIN starts PREFIX.perf.data
    if [ -n "$PERFPID" ]; then
        kill -INT "$PERFPID" 2>/dev/null || true
        wait "$PERFPID" 2>/dev/null || true
        PERFPID=""
        # each thread's CPU time over the workload (perf cannot always tell whose a guest
        # sample is; /proc can): a thread started in between counts from 0 (io_uring's
        # workers come and go), one that ended in between is gone
        threads "$2" | awk -v hz="$(getconf CLK_TCK)" 'NR == FNR {t0[$1] = $3; next}
            {d = $3 - t0[$1]; ms[$1 " " $2] = d * 1000 / hz; all += d * 1000 / hz}
            END {for (k in ms) if (ms[k] > 0) printf "%8d ms  %s\n", ms[k], k
                 printf "%8d ms  (all)\n", all}' "$PERFPFX.threads0" - |
            { echo "# each thread of the VMM (id name): CPU time over the profile"; sort -k1,1nr; } \
            > "$PERFPFX.threads.txt"
        rm -f "$PERFPFX.threads0"
    fi
    if [[ $1 == BLKM-BEGIN* ]]; then
        PERFPFX=$3
        threads "$2" > "$PERFPFX.threads0"
        "$PERF_CMD" record -q -e cpu-clock -F 499 -a -g -o "$PERFPFX.perf.data" 2>"$PERFPFX.perf.err" &
        PERFPID=$!
        sleep 0.5	# perf has its events open before the workload starts
    fi
}
perf_reports() { # PREFIX: TAG-WORKLOAD.perf.txt for each workload of that boot
    local d
    for d in "$1"-*.perf.data; do
        [ -f "$d" ] || continue
        { cat "${d%.perf.data}.threads.txt" 2>/dev/null
          echo "# by thread (id:name), system-wide samples (a vCPU's samples inside the guest may be"
          echo "# missing here: perf cannot always tell whose they are; its CPU time is above)"
          "$PERF_CMD" report -i "$d" --stdio --no-children --sort pid -g none 2>&1 | grep -v '^#' | grep -v '^$' | head -n 25
          echo "# by thread and function (>= 0.5%)"
          "$PERF_CMD" report -i "$d" --stdio --no-children --sort pid,sym -g none --percent-limit 0.5 2>&1 | grep -v '^#' | grep -v '^$' | head -n 80
          echo "# call graphs (>= 1%)"
          "$PERF_CMD" report -i "$d" --stdio --no-children --sort pid,sym -g graph,0.5,caller --percent-limit 1 2>&1 | grep -v '^$' | head -n 600
        } > "${d%.data}.txt"
        rm -f "$d" "$d.old"
    done
}

# run_vm VMM TRANSPORT BACKING CACHE ENGINE LAST REP: boot one guest that runs every workload (status 1 if
# it did not get through them; LAST=1 keeps the cells it got); a snapshot of
# the VMM's CPU time, its exit counters (kvmini: SIGUSR1 -> one JSON line on stderr) and
# KVM's at each marker, while the guest waits for the acknowledgement
run_vm() {
    local vmm=$1 t=$2 b=$3 c=$4 e=$5 rep=$7 tag="$1-$2-$3-$4-$5-r$7" path
    path=$(path_of "$b")
    local con="$RAW/$tag.console" err="$RAW/$tag.err"
    local -a cmd
    if [ "$vmm" = kvmini ]; then
        cmd=("$BUILD/kvmini" run -q -m "$KMEM" --kernel "$KERNEL" --initrd "$work/initrd" --append "$APPEND"
            --disk "path=$path,cache=$c,engine=$e" --virtio-transport "$t" --exit-stats=json)
    else
        local aio=io_uring
        local machine=microvm,acpi=on dev=virtio-blk-device
        [ "$e" = sync ] && aio=threads
        [ "$t" = pci ] && machine+=,pcie=on dev=virtio-blk-pci
        # shellcheck disable=SC2054 # commas are QEMU's
        cmd=(qemu-system-x86_64 -M "$machine" -enable-kvm -cpu host -m 512
            -kernel "$KERNEL" -initrd "$work/initrd"
            -append "console=ttyS0 reboot=k panic=-1 $APPEND"
            -nodefaults -no-user-config -display none -serial stdio -no-reboot
            -drive "file=$path,if=none,id=d0,format=raw,cache=$c,aio=$aio"
            -device "$dev,drive=d0")
    fi
    if finished "$tag"; then
        CELL=$((CELL + ${#WL[@]})); say "$tag: done in an earlier L1 run"; return 0
    fi
    start_cells "$tag"
    say "$vmm, $t, $b, cache=$c, engine=$e: one boot$([ "$REPEAT" = 1 ] || echo " ($rep of $REPEAT)"), ${#WL[*]} workload(s); the backing's page cache is dropped before each"
    drop "$b"
    rm -f "$work/in" "$work/out"
    mkfifo "$work/in" "$work/out"
    "${cmd[@]}" <"$work/in" >"$work/out" 2>"$err" &
    local pid=$!
    local infd
    exec {infd}>"$work/in"
    # a guest that stops making progress: say where each of the VMM's threads waits (kernel
    # stack, wchan), then end it; the retry below boots that configuration again
    ( sleep $BOOT_LIMIT; kill -0 "$pid" 2>/dev/null || exit 0
      # kvmini: one more statistics snapshot first, with each disk queue's state
      [ "$vmm" != kvmini ] || { kill -USR1 "$pid" 2>/dev/null; sleep 2; }
      { echo "blk-matrix: no progress for $BOOT_LIMIT s: the threads of $vmm (pid $pid)"
        for task in /proc/"$pid"/task/*; do
            echo "thread $(cat "$task/comm" 2>/dev/null) ($(basename "$task")): state $(awk '{print $3}' "$task/stat" 2>/dev/null), wchan $(cat "$task/wchan" 2>/dev/null)"
            sed 's/^/    /' "$task/stack" 2>/dev/null
        done; } >> "$err"
      kill "$pid" 2>/dev/null ) &
    local dog=$!
    local line w="" iog="" t0=0 j0=0 k0=- nj snap="" res=""
    # row RESULT: the cell of workload w, with the END marker's snapshot (snap)
    row() {
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$vmm" "$t" "$b" "$c" "$e" "$w" "$1" "$snap" "$rep" \
            >> "$RAW/cells/$tag.part"
        progress "$vmm" "$t" "$b" "$c" "$e" "$w" "$1" "$rep"
    }
    : > "$con"
    while IFS= read -r line; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >> "$con"
        case $line in
        BLKM-BEGIN\ *|BLKM-END\ *)
            [ "$PERF" = 1 ] && [[ $line == BLKM-END* ]] && perf_mark "$line" "$pid"
            if [[ $line == BLKM-BEGIN* ]]; then
                w=${line#BLKM-BEGIN }
                drop "$b"
            fi
            local tk jn=- kv
            if [ "$vmm" = kvmini ]; then
                nj=$(grep -c '^{' "$err" || true)
                kill -USR1 "$pid"
                for _ in $(seq 100); do
                    [ "$(grep -c '^{' "$err" || true)" -gt "$nj" ] && break
                    sleep 0.05
                done
                jn=$((nj + 1))
            fi
            tk=$(ticks "$pid"); kv=$(kvmstats "$pid")
            if [[ $line == BLKM-BEGIN* ]]; then
                t0=$tk j0=$jn k0=$kv iog=""
            else
                snap=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$t0" "$tk" "$j0" "$jn" "$k0" "$kv" "$(cached_kb "$b")")
                # iogen's line came before the marker; fio's result comes after it
                [ "$TOOL" = fio ] || row "${iog:-iogen: failed}"
            fi
            [ "$PERF" = 1 ] && [[ $line == BLKM-BEGIN* ]] && perf_mark "$line" "$pid" "$RAW/$tag-$w"
            printf 'go\n' >&"$infd" ;;
        iogen:*) iog=$line ;;
        BLKM-RESULT\ *) res="$RAW/$tag-$w.fio"; : > "$res.b64"; : > "$res.err" ;;
        fio-err:\ *) [ -z "$res" ] || printf '%s\n' "${line#fio-err: }" >> "$res.err" ;;
        BLKM-RESULT-END\ *)
            [ -n "$res" ] || continue
            base64 -d "$res.b64" 2>/dev/null | gunzip -c > "$res.json" 2>/dev/null || true
            iog=$(python3 "$here/fio-summary.py" "$res.json" || true)
            [[ $iog != "fio: failed"* ]] || [ ! -s "$res.err" ] || iog+=" $(head -n1 "$res.err")"
            [ -s "$res.err" ] || rm -f "$res.err"
            rm -f "$res.b64"
            row "$iog"
            res="" ;;
        *) [ -z "$res" ] || printf '%s\n' "$line" >> "$res.b64" ;;
        esac
    done <"$work/out"
    exec {infd}>&-
    local rc=0
    wait "$pid" || rc=$?
    [ "$PERF" = 1 ] && { perf_mark BLKM-END "$pid"; perf_reports "$RAW/$tag"; }
    kill "$dog" 2>/dev/null || true
    wait "$dog" 2>/dev/null || true
    if grep -q '^BLKM-DONE' "$con"; then
        end_cells "$tag"
        return 0
    fi
    # the retry writes the same files: keep this boot's as TAG.failed-N.{console,err}
    local n=1
    while [ -e "$RAW/$tag.failed-$n.err" ]; do n=$((n + 1)); done
    cp "$con" "$RAW/$tag.failed-$n.console"
    cp "$err" "$RAW/$tag.failed-$n.err"
    say "$tag: the guest did not finish its workloads (status $rc; see $RAW/$tag.failed-$n.{console,err}: $(grep -v '^{' "$err" | grep -m1 -iE 'error|fault|panic|seccomp|no progress' | cut -c1-160))"
    # the last try keeps the cells it has; an earlier one leaves them for the retry
    [ "$6" = 1 ] && end_cells "$tag"
    return 1
}

VMMS=(kvmini); [ "$QEMU" = 1 ] && VMMS+=(qemu)
# ---- the warm-up round: one boot of each VMM, not measured ----
# The first guest to run the workloads in a fresh nested L1 is 10-20 % slower, whichever VMM it
# is (with a p99 latency four times the rest): the emulator behind L1 translates L1's KVM,
# io_uring and page-cache paths as they first run. The first measured boot would pay for it,
# and that is always kvmini's; so every VMM boots once with the first configuration first,
# and those results go to RAW/warmup/, outside the table. (--no-warm-boot and --quick skip it.)
if [ "$WARMBOOT" = 1 ]; then
    cell0=$CELL
    for vmm in "${VMMS[@]}"; do
        t=${TRANSPORTS%%,*} b=${BACKINGS%%,*} c=${CACHES%%,*} e=${ENGINES%%,*}
        say "warm-up boot, not measured: $vmm, $t, $b, cache=$c, engine=$e"
        run_vm "$vmm" "$t" "$b" "$c" "$e" 1 0 >/dev/null || true
        mkdir -p "$RAW/warmup"
        mv "$RAW"/cells/*-r0.tsv "$RAW/$vmm-"*-r0.* "$RAW/warmup/" 2>/dev/null || true
    done
    CELL=$cell0
fi

# ---- the host ceiling: the same iogen jobs directly on the backing ----
if [ "$HOST" = 1 ]; then
    for b in ${BACKINGS//,/ }; do
        if finished "host-$b"; then
            CELL=$((CELL + ${#WL[@]})); say "host ceiling on $b: done in an earlier L1 run"; continue
        fi
        start_cells "host-$b"
        say "host ceiling on $(path_of "$b") (O_DIRECT; page cache of the backing dropped before each workload)"
        for w in "${WL[@]}"; do
            drop "$b"
            if [ "$TOOL" = iogen ]; then
                # shellcheck disable=SC2086 # the job's options
                line=$("$BUILD/iogen" ${JOB[$w]} -t "$SECS" -W "$WARM" -S "$SIZE_B" "$(path_of "$b")" 2>&1 | grep '^iogen:' || echo "iogen: failed")
            else
                r="$RAW/host-$b-$w.fio"
                # shellcheck disable=SC2046 # fio's arguments
                timeout "$BOOT_LIMIT" "$FIO" $(fio_args "$w" "$(path_of "$b")" "${JOBFILE[$w]:-}") --output="$r.json" 2>"$r.err" || true
                line=$(python3 "$here/fio-summary.py" "$r.json" || true)
                [[ $line != "fio: failed"* ]] || [ ! -s "$r.err" ] || line+=" $(grep -v '^$' "$r.err" | head -n1)"
                [ -s "$r.err" ] || rm -f "$r.err"
            fi
            printf 'host\t-\t%s\t-\t-\t%s\t%s\t-\t-\t-\t-\t-\t-\t%s\t1\n' "$b" "$w" "$line" "$(cached_kb "$b")" >> "$RAW/cells/host-$b.part"
            progress host - "$b" - - "$w" "$line"
        done
        end_cells "host-$b"
    done
fi


# kvmini and QEMU boot back to back for each configuration (whichever went first last time
# goes second), so the machine's slow drift and its noisy minutes fall on both alike
turn=0
for rep in $(seq "$REPEAT"); do
    for t in ${TRANSPORTS//,/ }; do
        for b in ${BACKINGS//,/ }; do
            for c in ${CACHES//,/ }; do
                for e in ${ENGINES//,/ }; do
                    order=("${VMMS[@]}")
                    [ $((turn % 2)) = 1 ] && [ "${#VMMS[@]}" = 2 ] && order=(qemu kvmini)
                    turn=$((turn + 1))
                    for vmm in "${order[@]}"; do
                        # an L2 guest that resets mid-run (environmental in the nested L1,
                        # QEMU's too, see docs/nested.md) gets its configuration booted once more
                        cell0=$CELL
                        if ! run_vm "$vmm" "$t" "$b" "$c" "$e" 0 "$rep"; then
                            CELL=$cell0
                            say "$vmm-$t-$b-$c-$e: booting that configuration once more"
                            run_vm "$vmm" "$t" "$b" "$c" "$e" 1 "$rep" || true
                        fi
                    done
                done
            done
        done
    done
done
say "matrix done: $CELL cells"
if [ "$RAW" = "$OUT/raw" ]; then
    python3 "$here/blk-report.py" "$OUT"
fi
