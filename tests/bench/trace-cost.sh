#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What --trace-exits and --exit-stats cost an exit: the direct-KVM tests trace_overhead and
# exit_stats_overhead run N times, each a best of 3 paired rounds (docs/benchmarks.md).
#
# Usage: tests/bench/trace-cost.sh [--repeat N] [--exits N] [--out DIR] BUILD
#        tests/bench/trace-cost.sh --report CSV   (the markdown tables of a CSV it wrote)
#   Needs a usable /dev/kvm here (the port-exit loop runs on it directly; where there is none,
#   run it inside the nested L1: tests/nested/l1.sh run BUILD tests/bench/trace-cost.sh BUILD).
#   Runs BUILD/kvm-tests' "payloads" case N times (default 5; KVMINI_BENCH_EXITS=--exits,
#   default 300000 port exits a round) and writes DIR/trace-cost.csv (default DIR:
#   BUILD/bench/trace-cost), one row per round and per exit__handle timing:
#   what,run,round,exits,off_per_s,on_per_s,handle_off_ns,handle_on_ns,ring_ns,load1,date,commit,machine,command
#   (round "best": the test's best of its 3 rounds; "handle": exit__handle alone, no KVM_RUN).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
repeat=5 exits=300000 out=""

# report CSV: per feature, each run's best-of-3 cost, and the median over the runs with how many
# runs the feature cost anything (on slower than off)
report() {
    local what
    for what in trace exit-stats; do
        awk -F, -v w="$what" 'NR > 1 && $1 == w && $3 == "best"' "$1" | awk -F, -v w="$what" '
            { off[NR] = $5; on[NR] = $6; c[NR] = (off[NR] / on[NR] - 1) * 100; ld[NR] = $10
              commit = $12; n = NR }
            END { if (!n) exit
                  printf "\n`--%s` (%s), port exits/s, best of 3 rounds per run:\n\n", w == "trace" ? "trace-exits" : "exit-stats", commit
                  print "| run | off | on | cost | load (1 min) |"; print "|---|---|---|---|---|"
                  for (i = 1; i <= n; i++) printf "| %d | %.0f | %.0f | %+.1f %% | %s |\n", i, off[i], on[i], c[i], ld[i]
                  for (i = 1; i <= n; i++) s[i] = c[i]
                  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
                  m = n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
                  dearer = 0; for (i = 1; i <= n; i++) if (c[i] > 0) dearer++
                  printf "\nmedian cost %+.1f %% over %d runs (min %+.1f %%, max %+.1f %%); on slower than off in %d of %d runs\n", m, n, s[1], s[n], dearer, n }'
    done
    # each column's own median (the runs sorted per column, not by the untraced time)
    awk -F, 'NR > 1 && $3 == "handle"' "$1" | awk -F, '
        function med(k, c,   a, i, j, t, m) {
            for (i = 1; i <= n[k]; i++) a[i] = v[k, c, i]
            for (i = 1; i <= n[k]; i++) for (j = i + 1; j <= n[k]; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            if (a[1] == "-") return "-"
            m = n[k] % 2 ? a[(n[k] + 1) / 2] : (a[n[k] / 2] + a[n[k] / 2 + 1]) / 2
            return sprintf("%.1f", m) }
        { k = $1; n[k]++; v[k, 7, n[k]] = $7; v[k, 8, n[k]] = $8; v[k, 9, n[k]] = $9 }
        END { print "\nexit__handle alone (no KVM_RUN; fastest of 10 batches), median over the runs:\n"
              print "| feature | runs | off ns | on ns | lastexits__add alone ns |"; print "|---|---|---|---|---|"
              for (k in n) printf "| %s | %d | %s | %s | %s |\n", k, n[k], med(k, 7), med(k, 8), med(k, 9) }'
}

if [ "${1:-}" = --report ]; then
    report "$2"
    exit
fi
while [ $# -gt 1 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --exits) exits=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
if [ $# -ne 1 ] || ! [ "$repeat" -ge 1 ] 2>/dev/null || ! [ "$exits" -ge 1000 ] 2>/dev/null; then
    echo "usage: $0 [--repeat N] [--exits N (>= 1000)] [--out DIR] BUILD" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
[ -x "$build/kvm-tests" ] || { echo "trace-cost: $build/kvm-tests is not built (make $build/kvm-tests)" >&2; exit 2; }
"$build/kvmini" host > /dev/null 2>&1 || {
    echo "trace-cost: no usable /dev/kvm here ($("$build/kvmini" host 2>&1 | head -n1)); run it in the nested L1" >&2; exit 2; }
out=${out:-${RESULTS:-$build/bench}/trace-cost}
mkdir -p "$out"
csv=$out/trace-cost.csv
echo "what,run,round,exits,off_per_s,on_per_s,handle_off_ns,handle_on_ns,ring_ns,load1,date,commit,machine,command" > "$csv"
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
machine="$(uname -r) $(nproc) CPUs $("$build/kvmini" host --kind 2>/dev/null || echo '?') $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/,/;/g')"
cmd="tests/bench/trace-cost.sh --repeat $repeat --exits $exits BUILD"
for run in $(seq 1 "$repeat"); do
    log=$out/run-$run.log
    load=$(cut -d' ' -f1 /proc/loadavg)
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    CK_RUN_CASE=payloads KVMINI_BENCH_EXITS=$exits KVMINI_PAYLOADS=$build/tests/kvm/payloads \
        "$build/kvm-tests" > "$log" 2>&1 || { echo "trace-cost: kvm-tests failed in run $run (see $log)" >&2; exit 1; }
    # "trace overhead, round 0: 300000 port exits: off 104438 exits/s, on 98448 exits/s"
    sed -n 's/^\(trace\|exit-stats\) overhead, round \([0-9]\): \([0-9]*\) port exits: off \([0-9]*\) exits\/s, on \([0-9]*\) exits\/s$/\1,\2,\3,\4,\5/p' "$log" |
        while IFS=, read -r what round n off on; do
            echo "$what,$run,$round,$n,$off,$on,,,,$load,$date,$commit,$machine,$cmd"
        done >> "$csv"
    sed -n 's/^\(trace\|exit-stats\) overhead, best of 3: off \([0-9]*\) exits\/s.* on \([0-9]*\) exits\/s.*/\1,\2,\3/p' "$log" |
        while IFS=, read -r what off on; do
            echo "$what,$run,best,$exits,$off,$on,,,,$load,$date,$commit,$machine,$cmd"
        done >> "$csv"
    sed -n 's/^trace overhead, exit__handle alone.*: \([0-9.]*\) ns untraced (ring included), \([0-9.]*\) ns traced; lastexits__add alone \([0-9.]*\) ns$/trace,\1,\2,\3/p; s/^exit-stats overhead, exit__handle alone (no KVM_RUN): off \([0-9.]*\) ns, on \([0-9.]*\) ns per exit$/exit-stats,\1,\2,-/p' "$log" |
        while IFS=, read -r what hoff hon ring; do
            echo "$what,$run,handle,,,,$hoff,$hon,$ring,$load,$date,$commit,$machine,$cmd"
        done >> "$csv"
    [ "$(grep -c ",$run,best," "$csv")" = 2 ] || { echo "trace-cost: run $run printed no best-of-3 lines for both features (see $log)" >&2; exit 1; }
done
report "$csv"
echo "trace-cost: $csv"
