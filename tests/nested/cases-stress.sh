#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Reliability cases for run-tests.sh (sourced): kill -9 crash consistency and four guests under load.
# shellcheck disable=SC2016,SC2153,SC2034 # guest scripts; DISKS and VM_T0 are l2lib.sh/cases-disk.sh globals

# stress_initrd DIR: the default initramfs plus bin/crashjob and bin/loadjob (a second cpio
# archive appended, as the block matrix does); prints the path of the combined initrd
stress_initrd() {
    local dir=$1
    mkdir -p "$dir/ov/bin"
    # crashjob TOKEN: record i (one 4 KiB block: "KVMINI-REC i TOKEN", zero padded) at block i,
    # each written through the guest's page cache and made durable with fsync (a virtio-blk
    # FLUSH); "ACK-i" on the console only after fsync returned
    cat > "$dir/ov/bin/crashjob" <<'EOF'
#!/bin/sh
i=0
while [ $i -lt 4000 ]; do
    printf 'KVMINI-REC %06d %s\n' $i "$1" | dd of=/dev/vda bs=4096 seek=$i conv=sync,fsync 2>/dev/null || { echo "REC-FAIL-$i"; exit 1; }
    echo "ACK-$i"
    i=$((i + 1))
done
echo REC-END
EOF
    # loadjob ID SECONDS: for SECONDS, write 1 MiB pass n into slot n%16 with O_DIRECT + fsync,
    # read it back and compare; then "LOAD-DONE ID passes=N errors=E"
    cat > "$dir/ov/bin/loadjob" <<'EOF'
#!/bin/sh
now() { cut -d. -f1 /proc/uptime; }
end=$(($(now) + $2)); n=0; err=0
while [ "$(now)" -lt $end ]; do
    s=$((n % 16))
    want=$(yes "load-$1-$n" | head -c 1048576 | md5sum | cut -d' ' -f1)
    yes "load-$1-$n" | head -c 1048576 | dd of=/dev/vda bs=65536 seek=$((s * 16)) oflag=direct conv=fsync 2>/dev/null || err=$((err + 1))
    got=$(dd if=/dev/vda bs=65536 skip=$((s * 16)) count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || err=$((err + 1))
    n=$((n + 1))
done
echo "LOAD-DONE $1 passes=$n errors=$err"
EOF
    chmod 755 "$dir/ov/bin/crashjob" "$dir/ov/bin/loadjob"
    (cd "$dir/ov" && printf 'bin/crashjob\nbin/loadjob\n' | cpio -o -H newc --quiet | gzip) > "$dir/ov.cpio.gz"
    cat "$BUILD/guest/initramfs.cpio.gz" "$dir/ov.cpio.gz" > "$dir/initrd"
    echo "$dir/initrd"
}

# records_lost BACKING TOKEN LAST: how many of the records 0..LAST are not on BACKING
records_lost() {
    python3 - "$@" <<'PY'
import sys
path, token, last = sys.argv[1], sys.argv[2], int(sys.argv[3])
lost = 0
with open(path, "rb") as f:
    for i in range(last + 1):
        f.seek(i * 4096)
        want = ("KVMINI-REC %06d %s\n" % (i, token)).encode()
        block = f.read(4096)
        if block != want + bytes(4096 - len(want)):
            lost += 1
print(lost)
PY
}

# CRASH_TRIALS trials (4 in make check, one per configuration; 24 in make stress) over
# file/raw backings and cache=writeback/none: the guest writes numbered records with fsync and
# acknowledges each; kvmini is killed with SIGKILL 0.5-4 s after the first acknowledgement;
# every acknowledged record must be on the backing, byte for byte
case_crash_consistency() {
    plan "${CRASH_TRIALS:-4}"
    disk_dir
    local initrd trials=${CRASH_TRIALS:-4} t cfg backing cache token last lost acked=0 total_lost=0
    initrd=$(stress_initrd "$DISKS_TMP/crash")
    truncate -s 20M "$DISKS_TMP/raw-crash.img"
    local loop
    loop=$(losetup -f --show "$DISKS_TMP/raw-crash.img") || { bad crash-setup "no loop device"; return 1; }
    local -a cfgs=(file:writeback raw:none file:none raw:writeback)
    for ((t = 1; t <= trials; t++)); do
        cfg=${cfgs[$(((t - 1) % 4))]}
        cache=${cfg#*:}
        if [ "${cfg%:*}" = raw ]; then backing=$loop; else backing="$DISKS/crash.img"; fi
        [ "${cfg%:*}" = raw ] || truncate -s 20M "$backing"
        token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
        L2_CMD=("$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage" --initrd "$initrd" --console stdio
            --append "quiet kvmini.run=crashjob+$token" --disk "path=$backing,cache=$cache")
        vm_start "$WORK/crash-$t" "${L2_CMD[@]}" || { bad "crash-trial-$t-$cfg" "kvmini did not start"; losetup -d "$loop"; return 1; }
        local rc=0
        vm_expect '^ACK-0$' "$CASE_TIMEOUT" || rc=$?
        if [ "$rc" != 0 ]; then
            step "crash-trial-$t-$cfg" "$rc" "no first record acknowledged" || rc=$?
            losetup -d "$loop"
            return "$rc"
        fi
        sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", 0.5 + (r % 36) / 10 }')"
        vm_kill	# SIGKILL, reaped quietly
        last=$(vm_answers | sed -n 's/^ACK-\([0-9]*\)$/\1/p' | tail -n 1)
        lost=$(records_lost "$backing" "$token" "$last")
        acked=$((acked + last + 1)) total_lost=$((total_lost + lost))
        echo "  .. crash trial $t ($cfg): $((last + 1)) records acknowledged, $lost lost"
        rc=0
        [ "$lost" = 0 ] || rc=1
        step "crash-trial-$t-$cfg" "$rc" "$lost of $((last + 1)) acknowledged records missing after kill -9" || {
            losetup -d "$loop"
            return 1
        }
    done
    losetup -d "$loop"
    echo "  .. crash consistency: $trials trials, $acked records acknowledged, $total_lost lost"
}

# rss_kb PID: VmRSS of a process in kB (0 once it is gone)
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# four guests at once, each running loadjob for LOAD_SECONDS (60) on its own disk (two files,
# two raw loop devices; both transports, both cache modes): all finish without an error, the
# host sees each guest's last pass in every slot, and no VMM's RSS grows by more than 4 MiB
# between the first sample of the workload and the end
case_load_four() {
    plan 12
    disk_dir
    local initrd secs=${LOAD_SECONDS:-60} g
    initrd=$(stress_initrd "$DISKS_TMP/load")
    local -a pids=() disks=() loops=() first=() peak=() trs=(pci mmio pci mmio) caches=(none writeback writeback none)
    for g in 0 1 2 3; do
        if [ "$g" -lt 2 ]; then
            truncate -s 16M "$DISKS/load-$g.img"
            disks[g]="$DISKS/load-$g.img"
        else
            truncate -s 16M "$DISKS_TMP/load-$g.img"
            loops+=("$(losetup -f --show "$DISKS_TMP/load-$g.img")")
            disks[g]=${loops[-1]}
        fi
        mkdir -p "$WORK/load-$g"
        "$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage" --initrd "$initrd" --memory 256M \
            --append "quiet kvmini.run=loadjob+$g+$secs;poweroff+-f" --virtio-transport "${trs[g]}" \
            --disk "path=${disks[g]},cache=${caches[g]}" </dev/null >"$WORK/load-$g/out" 2>"$WORK/load-$g/err" &
        pids[g]=$!
    done
    # RSS: first sample once every guest is running its workload, then every 5 s
    local t0=$SECONDS deadline=$((SECONDS + secs + 300)) running=4
    VM_T0=$EPOCHREALTIME
    while [ "$SECONDS" -lt "$deadline" ]; do
        running=0
        for g in 0 1 2 3; do
            kill -0 "${pids[g]}" 2>/dev/null || continue
            running=$((running + 1))
            if grep -q 'kvmini-init: running: loadjob' "$WORK/load-$g/out" 2>/dev/null; then
                local r
                r=$(rss_kb "${pids[g]}")
                [ -n "${first[g]:-}" ] || first[g]=$r
                [ "$r" -le "${peak[g]:-0}" ] || peak[g]=$r
            fi
        done
        [ "$running" -gt 0 ] || break
        sleep 5
    done
    local rc=0 st
    for g in 0 1 2 3; do
        if kill -0 "${pids[g]}" 2>/dev/null; then
            kill -KILL "${pids[g]}"; rc=124
        fi
        st=0
        wait "${pids[g]}" || st=$?
        local line
        line=$(tr -d '\r' < "$WORK/load-$g/out" | grep -a "^LOAD-DONE $g " || true)
        echo "  .. guest $g (${trs[g]}, cache=${caches[g]}, ${disks[g]}): ${line:-no LOAD-DONE line}, status $st, RSS ${first[g]:-?} -> peak ${peak[g]:-?} kB"
        local r2=0
        [[ $line =~ passes=([1-9][0-9]*)\ errors=0$ ]] && [ "$st" = 0 ] || r2=1
        step "load-guest-$g-completes" "$r2" "guest $g: '${line:-no LOAD-DONE line}', status $st, $(tail -n 2 "$WORK/load-$g/err" | tr '\n' '|')" || true
        if [ "$r2" = 0 ]; then
            local n=${BASH_REMATCH[1]} lost
            # every slot holds the last pass written to it
            lost=$(python3 - "${disks[g]}" "$g" "$n" <<'PY'
import sys
path, gid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = 0
with open(path, "rb") as f:
    for s in range(16):
        last = max([p for p in range(n) if p % 16 == s], default=None)
        if last is None:
            continue
        pat = ("load-%s-%d\n" % (gid, last)).encode()
        want = (pat * (1048576 // len(pat) + 1))[:1048576]
        f.seek(s * 1048576)
        bad += f.read(1048576) != want
print(bad)
PY
)
            r2=0
            [ "$lost" = 0 ] || r2=1
            step "load-guest-$g-data" "$r2" "$lost slot(s) do not hold the guest's last write" || true
        fi
        r2=0
        [ -n "${first[g]:-}" ] && [ $((peak[g] - first[g])) -le 4096 ] || r2=1
        step "load-guest-$g-rss-flat" "$r2" "RSS ${first[g]:-?} kB at the start of the workload, peak ${peak[g]:-?} kB" || true
    done
    for g in "${loops[@]}"; do losetup -d "$g" 2>/dev/null || true; done
    echo "  .. load: 4 guests, ${secs}s each, all done after $((SECONDS - t0))s"
    return "$rc"
}
