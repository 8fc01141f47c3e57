#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arm64 block I/O and boot against QEMU: inside one emulated arm64 L1, paired runs of kvmini and Debian's qemu-system-aarch64 (KVM) booting the stock arm64 kernel, 4 KiB random reads at queue depth 1 (iogen, O_DIRECT in the guest) on virtio-mmio and virtio-pci, with the disk a file and a loop device, to a CSV.
#
# Usage: tests/bench/arm64-blk.sh [--repeat N] [--secs S] [--out DIR] BUILD   (BUILD: make check's,
#        with BUILD/arm64/build/kvmini cross-built: make check-build, or make ARCH=arm64 BUILD=...)
#        tests/bench/arm64-blk.sh --report CSV
# Each repetition runs, per backing (file, then loop) and transport (mmio, then pci), kvmini and
# QEMU one after the other: kvmini first in odd repetitions, QEMU first in even ones. Both get
# the same guest (1 vCPU, 256 MiB, Debian's arm64 Image, tests/bench/arm64-blk-initrd.sh,
# command line "console=<their UART> panic=-1 quiet"), the same 256 MiB file of random data in
# the L1's tmpfs as /dev/vda, and the same host-side cache. Backings:
#   file: the raw file itself, through the page cache (kvmini cache=writeback,engine=io_uring;
#         QEMU cache=writeback,aio=io_uring), because tmpfs has no O_DIRECT;
#   loop: a loop device over that file (busybox losetup in the L1, set up once), opened
#         O_DIRECT (kvmini cache=none,engine=io_uring; QEMU cache=none,aio=io_uring); the loop
#         driver reads the tmpfs file buffered, so this adds the L1's block layer, not a disk.
# The guest's iogen runs S seconds (default 3) after a 1 s warm-up.
# Writes DIR/arm64-blk.csv (default BUILD/bench/arm64-blk): run,vmm,transport,backing,iops,
# lat_mean_us,lat_p50_us,lat_p99_us,guest_init_s,date,commit,machine,command (latencies as iogen
# measures them in the guest; guest_init_s: the guest's /proc/uptime when its init runs), and
# the L1's console, with every raw result line (a loop run's with the loop device and how many
# reads it completed during the run), each run's L1 wall time and `losetup -a`, as
# DIR/l1-console.log. --report also reads CSVs from before the backing column (all file).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

report() {
    # pairs: same run, backing and transport; "won" = kvmini better (higher IOPS, lower latency
    # or init). A CSV without the backing column (before 2026-12-07's loop runs) is all file.
    awk -F, 'NR == 1 { o = ($4 == "backing"); next }
        { g = (o ? $4 : "file") SUBSEP $3; k = g SUBSEP $2; seen[g] = 1; runs[$1] = 1; has[$1, k] = 1
          for (c = 1; c <= 5; c++) { x = $(c + 3 + o); v[k, ++n[k, c], c] = x; p[$1, k, c] = x } }
        function med(k, c,   m, i, j, a, t) { m = n[k, c]; if (!m) return "-"
                for (i = 1; i <= m; i++) a[i] = v[k, i, c]
                for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
                return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
        END {
            split("iops lat_mean_us lat_p50_us lat_p99_us guest_init_s", name, " ")
            print "| backing | transport | measure | kvmini median | QEMU median | kvmini/QEMU | paired runs kvmini won–lost |"
            print "|---|---|---|---|---|---|---|"
            nb = split("file loop", bs, " "); ntr = split("mmio pci", trs, " ")
            for (bi = 1; bi <= nb; bi++) for (ti = 1; ti <= ntr; ti++) {
                g = bs[bi] SUBSEP trs[ti]; if (!(g in seen)) continue
                kk = g SUBSEP "kvmini"; kq = g SUBSEP "qemu"
                for (c = 1; c <= 5; c++) {
                    a = med(kk, c); b = med(kq, c); w = l = 0
                    for (r in runs) if ((r, kk) in has && (r, kq) in has) {
                        x = p[r, kk, c] + 0; y = p[r, kq, c] + 0
                        if (x == y) continue
                        if ((c == 1) == (x > y)) w++; else l++ }
                    printf "| %s | %s | %s | %s | %s | %s | %d–%d |\n", bs[bi], trs[ti], name[c], a, b,
                        a != "-" && b != "-" && b + 0 ? sprintf("%.2f", a / b) : "-", w, l } } }' "$1"
}
if [ "${1:-}" = --report ]; then
    [ $# -eq 2 ] || { echo "usage: $0 --report CSV" >&2; exit 2; }
    report "$2"
    exit
fi
repeat=3 secs=3 out=""
while [ $# -gt 1 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
if ! { [ $# -eq 1 ] && [ "$repeat" -ge 1 ] 2>/dev/null && [ "$secs" -ge 1 ] 2>/dev/null; }; then
    echo "usage: $0 [--repeat N] [--secs S] [--out DIR] BUILD | --report CSV" >&2; exit 2
fi
build=$(cd "$1" && pwd)
kvmini=$build/arm64/build/kvmini
[ -x "$kvmini" ] || { echo "arm64-blk: $kvmini is not built (make check-build)" >&2; exit 2; }
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
command -v "$CC" > /dev/null || { echo "arm64-blk: $CC missing (make deps)" >&2; exit 2; }
out=${out:-$build/bench/arm64-blk}
mkdir -p "$out"
out=$(cd "$out" && pwd)
"$top/tests/arm64/l1.sh" --fetch-only "$build"
"$top/tests/arm64/qemu-root.sh" "$build"
t=$build/arm64/bench-blk-t
rm -rf "$t"
mkdir -p "$t"
"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o "$t/iogen" "$here/iogen.c" -luring
"$here/arm64-blk-initrd.sh" "$build/arm64/root" "$t/iogen" "$t/l2.cpio.gz"
rm -f "$t/iogen"
cp "$kvmini" "$t/kvmini"
kernels=("$build"/arm64/root/boot/vmlinuz-*)
cp "${kernels[0]}" "$t/Image"
cp -a "$build/arm64/qemu-root" "$t/q"
cat > "$t/run.sh" <<RUN
# in the L1 (busybox sh, /t): the disk and its loop device, then the paired runs; one RESULT line per run
Q=/t/q
QEMU="\$Q/lib/ld-linux-aarch64.so.1 --library-path \$Q/lib/aarch64-linux-gnu:\$Q/usr/lib/aarch64-linux-gnu \$Q/usr/bin/qemu-system-aarch64"
echo "QEMU-VERSION \$(\$QEMU --version | head -n1)"
dd if=/dev/urandom of=/tmp/disk.raw bs=1M count=256 2>/dev/null
LOOP=\$(losetup -f) && losetup "\$LOOP" /tmp/disk.raw || LOOP=
echo "LOOP-DEV \${LOOP:-none}"
losetup -a | sed 's/^/LOSETUP /'
APPEND="panic=-1 quiet l2.iogen=-t,$secs,-W,1"
one() {    # RUN VMM BACKING TRANSPORT
    case \$3 in
    file) path=/tmp/disk.raw kc=cache=writeback qc=cache=writeback ;;
    *) path=\$LOOP kc=cache=none qc=cache=none
       [ -n "\$LOOP" ] || { echo "RESULT \$1 \$2 \$3 \$4 noloop 0 0 none"; return; }
       read -r n0 _ < /sys/block/\${LOOP#/dev/}/stat ;;
    esac
    t0=\$(cut -d' ' -f1 /proc/uptime)
    if [ \$2 = kvmini ]; then
        timeout 180 ./kvmini run -q --kernel Image --initrd l2.cpio.gz --memory 256M --cpus 1 \\
            --cmdline "console=ttyS0 \$APPEND" --virtio-transport \$4 \\
            --disk path=\$path,\$kc,engine=io_uring < /dev/null > /tmp/r.log 2>&1
    else
        dev=virtio-blk-device
        [ \$4 = pci ] && dev=virtio-blk-pci
        timeout 180 \$QEMU -M virt,gic-version=3 -accel kvm -cpu host -smp 1 -m 256 -nographic -no-reboot \\
            -nic none -kernel Image -initrd l2.cpio.gz -append "console=ttyAMA0 \$APPEND" \\
            -drive file=\$path,if=none,id=d,format=raw,\$qc,aio=io_uring \\
            -device \$dev,drive=d < /dev/null > /tmp/r.log 2>&1
    fi
    st=\$?
    t1=\$(cut -d' ' -f1 /proc/uptime)
    g=\$(tr -d '\r' < /tmp/r.log | sed -n 's/^L2-UP uptime=\([0-9.]*\).*/\1/p' | head -n1)
    r=\$(tr -d '\r' < /tmp/r.log | grep '^L2-IOGEN' | head -n1)
    lr=
    if [ \$3 = loop ]; then read -r n1 _ < /sys/block/\${LOOP#/dev/}/stat; lr=" loop=\$LOOP loop_reads=\$((n1 - n0))"; fi
    echo "RESULT \$1 \$2 \$3 \$4 \$st \$t0 \$t1 \${g:-none} \$r\$lr"
    case \$r in "L2-IOGEN iogen:"*) ;; *) tr -d '\r' < /tmp/r.log | tail -n 15 | sed 's/^/    /' ;; esac
}
for i in \$(seq 1 $repeat); do
    for bk in file loop; do
        for tr in mmio pci; do
            if [ \$((i % 2)) = 1 ]; then one \$i kvmini \$bk \$tr; one \$i qemu \$bk \$tr
            else one \$i qemu \$bk \$tr; one \$i kvmini \$bk \$tr; fi
        done
    done
done
[ -n "\$LOOP" ] && losetup -d "\$LOOP"
RUN
# a BUILD of our own for the L1 (its initramfs and console log are written under it), sharing
# the unpacked packages
l1b=$build/arm64/bench-blk-l1
mkdir -p "$l1b/arm64"
ln -sfn "$build/arm64/root" "$l1b/arm64/root"
log=$out/l1-console.log
echo "arm64-blk: $repeat repetitions x 2 backings x 2 transports x 2 VMMs in one arm64 L1 (about $((30 + repeat * (7 + secs) * 8)) s once it boots; it waits for any arm64 L1 ahead of it)" >&2
L1_TIMEOUT=$((180 + repeat * 8 * (60 + secs))) "$top/tests/arm64/l1.sh" "$l1b" "$t" run.sh > "$log" 2>&1 || true
csv=$out/arm64-blk.csv
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
qv=$(tr -d '\r' < "$log" | sed -n 's/^QEMU-VERSION QEMU emulator version \([^ ]*\).*/\1/p' | head -n1)
machine="$(uname -r) $(nproc) CPUs $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/,/;/g'); arm64 L1: qemu-system-aarch64 TCG -cpu max;pauth-impdef=on -smp 2 -m 3072; L2: 1 vCPU 256 MiB; QEMU ${qv:-?} (Debian arm64)"
echo "run,vmm,transport,backing,iops,lat_mean_us,lat_p50_us,lat_p99_us,guest_init_s,date,commit,machine,command" > "$csv"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
bad=0
while read -r _ i vmm bk tr st _ _ g rest; do
    kv() { printf '%s\n' "$rest" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    # a loop run counts only if the loop device completed at least iogen's reads
    if [ "$st" != 0 ] || [ "$g" = none ] || [ -z "$(kv lat_mean_us)" ] || [ "$(kv errors)" != 0 ] ||
        { [ "$bk" = loop ] && ! [ "$(kv loop_reads)" -ge "$(kv ios)" ] 2>/dev/null; }; then
        bad=$((bad + 1)); continue
    fi
    echo "$i,$vmm,$tr,$bk,$(kv iops),$(kv lat_mean_us),$(kv lat_p50_us),$(kv lat_p99_us),$g,$date,$commit,$machine,tests/bench/arm64-blk.sh --repeat $repeat --secs $secs BUILD"
done < <(tr -d '\r' < "$log" | grep '^RESULT ') >> "$csv"
[ "$(($(wc -l < "$csv") - 1))" = $((8 * repeat)) ] || { echo "arm64-blk: $bad runs failed or are missing (see $log)" >&2; exit 1; }
report "$csv"
echo "arm64-blk: $csv"
