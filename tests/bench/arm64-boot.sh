#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arm64 boot time: kvmini boots Debian's stock arm64 kernel N times inside the emulated arm64 L1; each boot's guest uptime at init and kvmini's whole run, to a CSV.
#
# Usage: tests/bench/arm64-boot.sh [--repeat N] [--out DIR] BUILD   (BUILD: make check's, with
#        BUILD/arm64/build/kvmini cross-built: make check-build, or make ARCH=arm64 BUILD=...)
#        tests/bench/arm64-boot.sh --report CSV
# Writes DIR/arm64-boot.csv (default BUILD/bench/arm64-boot): run,vcpus,guest_init_s,kvmini_run_s,
# date,commit,machine,command. guest_init_s is the guest's /proc/uptime when its init runs;
# kvmini_run_s is the L1's wall time from starting kvmini to its exit after the guest's poweroff.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

report() {
    local v
    for v in 1 2; do
        awk -F, -v v="$v" 'NR > 1 && $2 == v { g[++n] = $3; k[n] = $4 }
            function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                    if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
            END { if (!n) exit
                  printf "| %d | %d | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) |\n", v, n,
                      med(g, n), g[1], g[n], med(k, n), k[1], k[n] }' "$1"
    done
}
if [ "${1:-}" = --report ]; then
    echo "| vCPUs | boots | guest uptime at init, s: median (min–max) | kvmini run to poweroff, s: median (min–max) |"
    echo "|---|---|---|---|"
    report "$2"
    exit
fi
repeat=5 out=""
while [ $# -gt 1 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] && [ "$repeat" -ge 1 ] 2>/dev/null || { echo "usage: $0 [--repeat N] [--out DIR] BUILD" >&2; exit 2; }
build=$(cd "$1" && pwd)
kvmini=$build/arm64/build/kvmini
[ -x "$kvmini" ] || { echo "arm64-boot: $kvmini is not built (make check-build)" >&2; exit 2; }
out=${out:-$build/bench/arm64-boot}
t=$build/arm64/bench-t
mkdir -p "$out" "$t"
"$top/tests/arm64/l1.sh" --fetch-only "$build"
cp "$kvmini" "$t/kvmini"
cp "$(ls "$build"/arm64/root/boot/vmlinuz-* | head -n1)" "$t/Image"
"$top/tests/arm64/l2-initrd.sh" "$build/arm64/root" "$t/l2.cpio.gz"
cat > "$t/run.sh" <<RUN
for v in 1 2; do for i in \$(seq 1 $repeat); do
    t0=\$(cut -d' ' -f1 /proc/uptime)
    timeout 120 ./kvmini run -q --kernel Image --initrd l2.cpio.gz --memory 256M --cpus \$v < /dev/null > /tmp/b.log 2>&1
    st=\$?
    t1=\$(cut -d' ' -f1 /proc/uptime)
    g=\$(sed -n 's/^L2-UP [a-z0-9_]* uptime=\([0-9.]*\).*/\1/p' /tmp/b.log)
    echo "BOOT \$i \$v \$st \$g \$t0 \$t1"
done; done
RUN
log=$out/l1-console.log
L1_TIMEOUT=$((60 + repeat * 60)) "$top/tests/arm64/l1.sh" "$build" "$t" run.sh > "$log" 2>&1 || true
csv=$out/arm64-boot.csv
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
machine="$(uname -r) $(nproc) CPUs $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/,/;/g'); arm64 L1: qemu-system-aarch64 TCG -cpu max,pauth-impdef=on -smp 2"
echo "run,vcpus,guest_init_s,kvmini_run_s,date,commit,machine,command" > "$csv"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
bad=0
while read -r _ i v st g t0 t1; do
    if [ "$st" != 0 ] || [ -z "$g" ]; then bad=$((bad + 1)); continue; fi
    echo "$i,$v,$g,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'),$date,$commit,$machine,tests/bench/arm64-boot.sh --repeat $repeat BUILD"
done < <(tr -d '\r' < "$log" | grep '^BOOT ') >> "$csv"
[ "$(($(wc -l < "$csv") - 1))" = $((2 * repeat)) ] || { echo "arm64-boot: $bad boots failed or are missing (see $log)" >&2; exit 1; }
"$0" --report "$csv"
echo "arm64-boot: $csv"
