#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Validates iogen against fio: the same O_DIRECT io_uring jobs on the same file, alternating
# fio, iogen, fio, iogen; prints each tool's median IOPS and p99 latency and the ratio.
# Usage: tests/bench/iogen-vs-fio.sh BUILD [FILE]   (FILE: on a file system with O_DIRECT;
#   default a 256 MiB file in /var/tmp). Needs fio (apt-get install fio) and python3.
set -euo pipefail
build=${1:-build}
file=${2:-}
iogen="$build/iogen"
command -v fio >/dev/null || { echo "iogen-vs-fio: fio is not installed (apt-get install fio)" >&2; exit 2; }
[ -x "$iogen" ] || { echo "iogen-vs-fio: $iogen not built (make $iogen)" >&2; exit 2; }
if [ -z "$file" ]; then
    file=$(mktemp /var/tmp/kvmini-iogen.XXXXXX)
    trap 'rm -f "$file"' EXIT
    head -c $((256 << 20)) /dev/urandom > "$file"
fi
T=${SECONDS_PER_RUN:-3}
run_fio() { # rw bs qd -> "iops p99_us"
    fio --name=v --filename="$file" --direct=1 --ioengine=io_uring --rw="$1" --bs="$2" \
        --iodepth="$3" --runtime="$T" --time_based --ramp_time=1 --output-format=json 2>/dev/null |
        python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["read"];
print("%.0f %.0f" % (j["iops"], j["clat_ns"]["percentile"]["99.000000"] / 1000))'
}
run_iogen() { # opts... -> "iops p99_us"
    "$iogen" "$@" -t "$T" -W 1 "$file" | tr ' ' '\n' |
        awk -F= '$1=="iops"{i=$2} $1=="lat_p99_us"{p=$2} END{print i, p}'
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf '%-18s %10s %10s %8s %10s %10s\n' job fio_iops iogen_iops ratio fio_p99us iogen_p99us
for job in "randread 4k 1|-q 1" "randread 4k 32|-q 32" "read 1m 4|-s -b 1048576 -q 4"; do
    f=${job%%|*} g=${job#*|}
    fi=() gi=() fp=() gp=()
    for _ in 1 2 3; do
        # shellcheck disable=SC2086 # the job's fields and options
        read -r a b < <(run_fio $f); fi+=("$a"); fp+=("$b")
        # shellcheck disable=SC2086
        read -r a b < <(run_iogen $g); gi+=("$a"); gp+=("$b")
    done
    mf=$(printf '%s\n' "${fi[@]}" | median); mg=$(printf '%s\n' "${gi[@]}" | median)
    printf '%-18s %10s %10s %8s %10s %10s\n' "${f// /-}" "$mf" "$mg" \
        "$(awk -v a="$mg" -v b="$mf" 'BEGIN{printf "%.2f", a/b}')" \
        "$(printf '%s\n' "${fp[@]}" | median)" "$(printf '%s\n' "${gp[@]}" | median)"
done
