#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Control-socket cases for run-tests.sh (sourced): power button, SIGTERM and Ctrl-Alt-Del end in a clean guest poweroff or reboot with its data on disk; a long pause; 50 clients during I/O.
# shellcheck disable=SC2016,SC2153 # guest commands; DISKS_TMP is cases-disk.sh's

PAUSE_SECONDS=${PAUSE_SECONDS:-60}

# api_disk: DISKS_TMP/fs.img, an ext4 the default guest mounts on /mnt; API_SOCK beside it
api_disk() {
    disk_dir
    truncate -s 64M "$DISKS_TMP/fs.img"
    mke2fs -q -t ext4 -F "$DISKS_TMP/fs.img"
    API_SOCK=$DISKS_TMP/api.sock
}

ctl() { "$BUILD/kvmini" ctl "$API_SOCK" "$@" 2>&1; }

# fs_after NAME WANT: /note.txt on fs.img holds WANT, and the guest left its ext4 clean (no
# journal to recover at the next mount)
fs_after() {
    local got rc=0 feat
    got=$(debugfs -R 'cat /note.txt' "$DISKS_TMP/fs.img" 2>/dev/null)
    [ "$got" = "$2" ] || rc=1
    host_check "$1-data-on-disk" "$rc" "/note.txt on the disk holds '${got:0:60}', wanted '$2'" || return $?
    feat=$(dumpe2fs -h "$DISKS_TMP/fs.img" 2>/dev/null | sed -n 's/^Filesystem features: *//p')
    rc=0
    case " $feat " in *" needs_recovery "*) rc=1 ;; esac
    host_check "$1-fs-clean" "$rc" "the guest's ext4 needs journal recovery (features: $feat)"
}

# api_lifecycle NAME HOW CONSOLE STDERR: boot with an ext4 disk and the socket, write a file
# without sync, then HOW (a ctl verb, or sigterm); the guest must end by itself (status 0)
# saying CONSOLE, kvmini saying STDERR, with the file on the disk and the ext4 clean
api_lifecycle() {
    local name=$1 how=$2 rc=0
    plan 7
    api_disk
    kvmini_cmd --disk "path=$DISKS_TMP/fs.img" --api-socket "$API_SOCK"
    vm_start "$WORK/$name" "${L2_CMD[@]}" || return 1
    boot_to_shell "$name-boot" || return $?
    guest_check "$name-write" 'echo note-$((6*7)) > /mnt/note.txt; echo WROTE-$?' '^WROTE-0$' || return $?
    if [ "$how" = sigterm ]; then
        kill -TERM "$VM_PID"
    elif [ "$how" = power-button ]; then	# (curl, as a script would; docs/api.md shows it)
        curl -s -i -X PUT --unix-socket "$API_SOCK" http://localhost/api/v1/vm.power-button \
            > "$VM_DIR/curl.txt" 2>&1
        grep -q '^HTTP/1.1 204' "$VM_DIR/curl.txt" ||
            { step "$name-exit-0" 1 "curl vm.power-button: $(head -c 200 "$VM_DIR/curl.txt")"; return 1; }
    elif ! ctl "$how" > "$VM_DIR/ctl.txt"; then
        step "$name-exit-0" 1 "kvmini ctl $how: $(cat "$VM_DIR/ctl.txt")"
        return 1
    fi
    expect_exit "$name-exit-0" zero || return $?
    vm_clean_out | grep -a -q -- "$3" && grep -q -- "$4" "$VM_DIR/err" || rc=1
    host_check "$name-guest-acted" "$rc" "wanted '$3' on the console and '$4' on stderr; console: $(vm_clean_out | grep -a 'kvmini-' | tail -n 2 | tr '\n' '|') stderr: $(errline)" || return $?
    fs_after "$name" note-42
}

# vm.power-button: the ACPI power button (GED -> PNP0C0C -> KEY_POWER)
case_api_power_button() {
    api_lifecycle power-button power-button 'kvmini-keys: power button: powering off' 'guest powered off'
}

# SIGTERM presses the same button and waits for the guest (--shutdown-timeout, default 30 s)
case_api_sigterm() {
    api_lifecycle sigterm sigterm 'kvmini-keys: power button: powering off' 'SIGTERM: pressed the guest.s power button'
}

# vm.reboot: Ctrl-Alt-Del through the i8042 keyboard; the guest reboots, which ends kvmini
case_api_ctrl_alt_del() {
    api_lifecycle ctrl-alt-del reboot 'kvmini-cad: Ctrl-Alt-Del: rebooting' 'guest rebooted'
}

# exits_total: the vCPUs' exits to kvmini, from vm.counters
exits_total() {
    ctl counters --json | python3 -c 'import json, sys
c = json.load(sys.stdin)
print(sum(v["exits"] for k, v in c.items() if k.startswith("_vcpu")))'
}

# a guest paused for PAUSE_SECONDS: no exits while paused, and after resume no soft-lockup or
# RCU-stall report (KVM_KVMCLOCK_CTRL) and a shell that answers
case_api_pause_long() {
    local rc=0 before after
    plan 7
    api_disk
    kvmini_cmd --api-socket "$API_SOCK" --cpus 2
    vm_start "$WORK/pause" "${L2_CMD[@]}" || return 1
    boot_to_shell pause-boot || return $?
    ctl pause > "$VM_DIR/ctl.txt" && ctl info --json | grep -q '"state":"Paused"' || rc=1
    host_check pause-paused "$rc" "pause: $(cat "$VM_DIR/ctl.txt")" || return $?
    before=$(exits_total)
    sleep "$PAUSE_SECONDS"
    after=$(exits_total)
    rc=0
    [ -n "$before" ] && [ "$before" = "$after" ] || rc=1
    host_check pause-no-exits "$rc" "the vCPUs exited while paused: ${before:-?} then ${after:-?}" || return $?
    rc=0
    ctl resume > "$VM_DIR/ctl.txt" && ctl info --json | grep -q '"state":"Running"' || rc=1
    host_check pause-resumed "$rc" "resume: $(cat "$VM_DIR/ctl.txt")" || return $?
    guest_check pause-no-lockup-report 'sleep 3; echo LOCKUPS-$(dmesg | grep -c -i -E "soft lockup|rcu.*stall|hung task")' '^LOCKUPS-0$' || return $?
    vm_send 'poweroff' || true
    expect_exit pause-poweroff zero
}

# 50 clients polling vm.counters while the guest reads its disk for 30 s: every answer parses,
# the disk's read counter grows while they poll, and the guest sees no I/O error
case_api_many_clients() {
    local rc=0 i pids=()
    plan 6
    api_disk
    kvmini_cmd --disk "path=$DISKS_TMP/fs.img" --api-socket "$API_SOCK"
    vm_start "$WORK/clients" "${L2_CMD[@]}" || return 1
    boot_to_shell clients-boot || return $?
    vm_send 'up() { cut -d. -f1 /proc/uptime; }; end=$(($(up) + 30)); n=0; echo READS-START; while [ $(up) -lt $end ]; do dd if=/dev/vda of=/dev/null bs=4096 count=64 iflag=direct 2>/dev/null || echo READ-ERROR; n=$((n + 1)); done; echo READS-DONE-$n' || true
    vm_expect '^READS-START$' "$CASE_TIMEOUT" || true
    mkdir -p "$VM_DIR/clients"
    for i in $(seq 1 50); do
        (
            for j in 1 2 3 4 5; do
                ctl counters --json > "$VM_DIR/clients/$i.$j" ||
                    echo "client $i: ctl failed" >> "$VM_DIR/clients.errors"
            done
        ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    python3 - "$VM_DIR/clients" <<'PY' > "$VM_DIR/clients.txt" 2>&1 || rc=1
import glob, json, os, sys
d = sys.argv[1]
assert not os.path.exists(d + ".errors"), open(d + ".errors").read()
files = glob.glob(d + "/*.*")
assert len(files) == 250, len(files)
reads = sorted(json.load(open(f))["_disk0"]["read_ops"] for f in files)
assert reads[-1] > reads[0], (reads[0], reads[-1])
print("250 answers, disk reads %d..%d" % (reads[0], reads[-1]))
PY
    host_check clients-50-all-parse "$rc" "$(tail -n 3 "$VM_DIR/clients.txt" | tr '\n' ' ')" || return $?
    rc=0
    vm_expect '^READS-DONE-[0-9]+$' "$CASE_TIMEOUT" || rc=$?
    [ "$rc" != 0 ] || ! vm_answers | grep -q '^READ-ERROR' || rc=1
    step clients-guest-io-done "$rc" "the guest's reads did not finish, or one failed" || return $?
    guest_check clients-guest-no-io-error 'echo ERRS-$(dmesg | grep -c -i "I/O error")' '^ERRS-0$' || return $?
    vm_send 'poweroff' || true
    expect_exit clients-poweroff zero
}

# debian_image_ready NAME: 0 if tests/nested/debian-rootfs.sh built BUILD/debian12/rootfs.img,
# else a FAIL line NAME
debian_image_ready() {
    [ -f "$BUILD/debian12/rootfs.done" ] && [ -f "$BUILD/debian12/rootfs.img" ] && return 0
    bad "$1" "no Debian image: tests/nested/debian-rootfs.sh $BUILD did not build it"
    return 1
}

# debian_boot NAME: boots DISKS_TMP/debian.img (root=/dev/vda) to its login prompt
# (and curl's GET vm.info answers while it boots, before the login prompt)
debian_boot() {
    local rc=1 i sock=$DISKS_TMP/deb.sock
    local -a net=()
    # the first boot has a network card on a tap in a namespace of the test's (cases-net.sh)
    [ -z "${NET_NS:-}" ] || net=(--net tap=tap0 --append "kvmini.ip=$NET_GUEST/24")
    kvmini_cmd --disk "path=$DISKS_TMP/debian.img" --memory 1G \
        --cmdline "$L2_DEFAULT_CMDLINE root=/dev/vda rw" --api-socket "$sock" "${net[@]}"
    [ -z "${NET_NS:-}" ] || L2_CMD=(ip netns exec "$NET_NS" "${L2_CMD[@]}")
    vm_start "$WORK/$1" "${L2_CMD[@]}" || return 1
    for i in $(seq 60); do
        if curl -s --max-time 5 --unix-socket "$sock" http://localhost/api/v1/vm.info \
            > "$VM_DIR/info.json" 2>&1 && grep -q '"state":"Running"' "$VM_DIR/info.json"; then
            rc=0
            break
        fi
        sleep 0.5
    done
    ! vm_clean_out | grep -a -q 'login:' || rc=1	# (it must still be booting)
    step "$1-api-answers-while-booting" "$rc" "curl vm.info: $(head -c 200 "$VM_DIR/info.json") (after $i tries)" || return $?
    rc=0
    vm_expect 'kvmini-debian login: *$' "$CASE_TIMEOUT" || rc=$?
    step "$1-login-prompt" "$rc" "no login prompt" || return $?
}

# debian_sigterm NAME: SIGTERM; systemd powers the guest off by itself (status 0)
debian_sigterm() {
    local rc=0
    kill -TERM "$VM_PID"
    expect_exit "$1-sigterm-exit-0" zero || return $?
    vm_clean_out | grep -a -q 'reboot: Power down' && grep -q 'guest powered off' "$VM_DIR/err" &&
        ! grep -q 'did not power off' "$VM_DIR/err" || rc=1
    host_check "$1-systemd-powered-off" "$rc" "console: $(vm_clean_out | grep -a -E 'Power|Stopping|Reached target' | tail -n 3 | tr '\n' '|') stderr: $(errline)"
}

# A Debian 12 system with systemd (tests/nested/debian-rootfs.sh) on root=/dev/vda, booted by
# the default guest's kernel and initramfs: it reaches its login prompt; with a network card on
# the first boot, its kvmini-net.service gives eth0 its address and the host pings it; SIGTERM presses the
# power button and systemd-logind powers it off cleanly (status 0) with the file its boot wrote
# (no sync) on the disk and the ext4 clean; its next boot needs no journal recovery, and SIGTERM
# ends it the same way
case_debian_systemd() {
    debian_systemd
    local rc=$?
    net_ns_cleanup
    return $rc
}

debian_systemd() {
    local img=$BUILD/debian12/rootfs.img rc=0 note
    plan 14
    debian_image_ready debian-image || return 1
    disk_dir
    cp --sparse=always "$img" "$DISKS_TMP/debian.img"
    net_ns 1
    debian_boot debian-boot1 || return $?
    vm_expect '^KVMINI-NOTE-WRITTEN$' 5 || rc=$?
    [ "$rc" = 124 ] && rc=1
    step debian-boot1-wrote-note "$rc" "kvmini-note.service did not say KVMINI-NOTE-WRITTEN" || return $?
    rc=0
    vm_expect "^KVMINI-NET eth0 $NET_GUEST/24\$" 30 || rc=$?
    step debian-boot1-net-address "$rc" "kvmini-net.service did not say KVMINI-NET eth0 $NET_GUEST/24" || return $?
    rc=0
    ip netns exec "$NET_NS" ping -c 3 -W 5 "$NET_GUEST" > "$VM_DIR/ping.txt" 2>&1 || rc=1
    host_check debian-boot1-host-pings-guest "$rc" "$(tail -n 2 "$VM_DIR/ping.txt" | tr '\n' ' ')" || return $?
    debian_sigterm debian-boot1 || return $?
    rc=0
    case " $(dumpe2fs -h "$DISKS_TMP/debian.img" 2>/dev/null | sed -n 's/^Filesystem features: *//p') " in
    *" needs_recovery "*) rc=1 ;;
    esac
    host_check debian-boot1-fs-clean "$rc" "the ext4 needs journal recovery after systemd's poweroff" || return $?
    note=$(debugfs -R 'cat /root/note.txt' "$DISKS_TMP/debian.img" 2>/dev/null)
    rc=0
    case $note in note-????????-*) ;; *) rc=1 ;; esac
    host_check debian-boot1-note-on-disk "$rc" "/root/note.txt holds '${note:0:60}'" || return $?
    net_ns_cleanup
    debian_boot debian-boot2 || return $?
    rc=0
    ! vm_clean_out | grep -a -q -E 'EXT4-fs \(vda\): (recovery complete|orphan cleanup)' || rc=1
    host_check debian-boot2-no-journal-recovery "$rc" "$(vm_clean_out | grep -a 'EXT4-fs (vda)' | tr '\n' '|')" || return $?
    debian_sigterm debian-boot2
}

# vm.memory against independent readings: guest RAM's and kvmini's resident memory against
# /proc/PID/smaps (within 2 MiB or 2 %), each disk's page cache against util-linux's fincore
# (within 1 MiB) after the guest wrote 32 MiB to each: the cache=writeback file holds them in
# the host page cache, the cache=none one does not; KVM's mappings are there (x86)
case_api_memory_report() {
    local rc=0 ov ramkb
    plan 6
    disk_dir
    truncate -s 64M "$DISKS/wb.img" "$DISKS/direct.img"	# (ext4: O_DIRECT works)
    API_SOCK=$DISKS_TMP/api.sock
    kvmini_cmd --disk "path=$DISKS/wb.img,cache=writeback" \
        --disk "path=$DISKS/direct.img,cache=none" --api-socket "$API_SOCK"
    vm_start "$WORK/memory" "${L2_CMD[@]}" || return 1
    boot_to_shell memory-boot || return $?
    guest_check memory-guest-writes 'dd if=/dev/urandom of=/dev/vda bs=1M count=32 conv=fsync 2>/dev/null && dd if=/dev/urandom of=/dev/vdb bs=1M count=32 oflag=direct conv=fsync 2>/dev/null; echo WROTE-$?' '^WROTE-0$' || return $?
    sleep 1
    curl -s --unix-socket "$API_SOCK" http://localhost/api/v1/vm.memory > "$VM_DIR/memory.json" 2>&1 || rc=1
    read -r ov ramkb <<< "$(overhead_kb "$VM_PID" $((512 << 20)))"
    fincore -b -n -o RES "$DISKS/wb.img" > "$VM_DIR/fincore" 2>&1 &&
        fincore -b -n -o RES "$DISKS/direct.img" >> "$VM_DIR/fincore" 2>&1 || rc=1
    python3 - "$VM_DIR/memory.json" "$ov" "$ramkb" "$VM_DIR/fincore" > "$VM_DIR/memory.txt" 2>&1 <<'PY' || rc=1
import json, sys
m = json.load(open(sys.argv[1]))
ov, ram = int(sys.argv[2]) << 10, int(sys.argv[3]) << 10
wb, direct = (int(x) for x in open(sys.argv[4]).read().split())
r, v = m["guest_ram"]["resident"], m["vmm"]["resident"]
assert abs(r - ram) <= max(2 << 20, ram // 50), ("guest RAM resident", r, "smaps", ram)
assert abs(v - ov) <= max(2 << 20, ov // 50), ("kvmini resident", v, "smaps", ov)
c0, c1 = m["disks"][0]["page_cache"], m["disks"][1]["page_cache"]
assert abs(c0 - wb) <= 1 << 20 and c0 >= 32 << 20, ("writeback page cache", c0, "fincore", wb)
assert abs(c1 - direct) <= 1 << 20 and c1 < 1 << 20, ("cache=none page cache", c1, "fincore", direct)
k = m["kvm"]
assert k is not None and k["pages_4k"] + k["pages_2m"] + k["pages_1g"] > 0, k
print("guest RAM %d/%d, kvmini %d/%d, page cache %d/%d and %d/%d (report/independent), KVM %s"
      % (r, ram, v, ov, c0, wb, c1, direct, k))
PY
    host_check memory-report-agrees "$rc" "$(tail -n 3 "$VM_DIR/memory.txt" | tr '\n' ' ')" || return $?
    cat "$VM_DIR/memory.txt"
    rc=0
    ctl memory > "$VM_DIR/memory-text.txt" && grep -q '^guest RAM: 512.0 MiB' "$VM_DIR/memory-text.txt" &&
        grep -q 'direct.img: .* (cache=none)' "$VM_DIR/memory-text.txt" || rc=1
    host_check memory-ctl-text "$rc" "$(head -c 300 "$VM_DIR/memory-text.txt")" || return $?
    vm_send 'poweroff' || true
    expect_exit memory-poweroff zero
}

# mem_json PY-EXPR: evaluates PY-EXPR over vm.memory's JSON (m) and prints it
mem_json() {
    ctl memory --json | python3 -c "import json, sys; m = json.load(sys.stdin); print($1)"
}

# wait_mem PY-COND SECONDS: until PY-COND holds over vm.memory's JSON (m); 0 or 1
wait_mem() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(mem_json "bool($1)" 2>/dev/null)" = True ] && return 0
        sleep 1
    done
    return 1
}

# guest_kb FIELD: the guest's /proc/meminfo FIELD in kB, through its console
guest_kb() {
    local mark="MEMINFO-$RANDOM"
    vm_send "echo $mark-\$(sed -n 's/^$1: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)" || true
    vm_expect "^$mark-[0-9]+\$" "$CASE_TIMEOUT" || return 1
    vm_answers | sed -n "s/^$mark-//p" | tail -n 1
}

# --balloon: the guest's own view agrees with its /proc/meminfo (MemTotal within 1 %, MemFree
# within 16 MiB); vm.resize inflates it to 128 MiB (the guest's MemFree falls, every page it
# gave goes back to the host) and back to 0; 128 MiB the guest frees come back to the host
# through free page reporting (guest RAM resident falls by at least 64 MiB)
case_api_balloon() {
    local rc=0 total free res0 res1 rep0
    plan 10
    disk_dir
    API_SOCK=$DISKS_TMP/api.sock
    kvmini_cmd --balloon on --api-socket "$API_SOCK"
    vm_start "$WORK/balloon" "${L2_CMD[@]}" || return 1
    boot_to_shell balloon-boot || return $?
    guest_check balloon-driver 'echo BALLOON-$(ls /sys/bus/virtio/drivers/virtio_balloon | grep -c virtio)' '^BALLOON-1$' || return $?
    total=$(guest_kb MemTotal) && free=$(guest_kb MemFree) || rc=1
    [ "$rc" = 0 ] && mem_json "m['guest']" > "$VM_DIR/guest.txt" 2>&1 &&
        python3 - "$total" "$free" "$(mem_json "m['guest']['total']") $(mem_json "m['guest']['free']")" <<'PY' >> "$VM_DIR/guest.txt" 2>&1 || rc=1
import sys
total, free = int(sys.argv[1]) << 10, int(sys.argv[2]) << 10
rt, rf = (int(x) for x in sys.argv[3].split())
assert abs(rt - total) <= total // 100, ("total", rt, "meminfo", total)
assert abs(rf - free) <= 16 << 20, ("free", rf, "meminfo", free)
print("guest view: total %d / %d, free %d / %d (report / meminfo)" % (rt, total, rf, free))
PY
    host_check balloon-guest-view-agrees "$rc" "$(tr '\n' ' ' < "$VM_DIR/guest.txt" | cut -c1-300)" || return $?
    rc=0
    # curl for the resize (a body, as a script sends it), with a refused one first
    curl -s -i -X PUT -d '{"desired_ram": 1073741824}' --unix-socket "$API_SOCK" \
        http://localhost/api/v1/vm.resize > "$VM_DIR/curl-resize-refused.txt" 2>&1 || true
    curl -s -i -X PUT -d '{"desired_balloon": 134217728}' --unix-socket "$API_SOCK" \
        http://localhost/api/v1/vm.resize > "$VM_DIR/curl-resize.txt" 2>&1 &&
        grep -q '^HTTP/1.1 400' "$VM_DIR/curl-resize-refused.txt" &&
        grep -q '^HTTP/1.1 204' "$VM_DIR/curl-resize.txt" &&
        wait_mem "m['balloon']['actual'] == 128 << 20" 60 &&
        ctl info --json | grep -q "\"memory_actual_size\":$((384 << 20))" || rc=1
    host_check balloon-inflated "$rc" "curl: $(cat "$VM_DIR/curl-resize-refused.txt" "$VM_DIR/curl-resize.txt" | tr '\r\n' '  ' | cut -c1-300); balloon: $(mem_json "m['balloon']" 2>&1)" || return $?
    curl -s --unix-socket "$API_SOCK" http://localhost/api/v1/vm.memory > "$VM_DIR/curl-memory.json" 2>&1 || true
    rc=0
    mem_json "m['balloon']['returned_pages'] >= 32768 and m['balloon']['inflated_pages'] >= 32768" | grep -q True &&
        [ "$(guest_kb MemFree)" -le $((free - 100 * 1024)) ] || rc=1
    host_check balloon-pages-returned "$rc" "balloon: $(mem_json "m['balloon']" 2>&1), guest MemFree $(guest_kb MemFree) kB (was $free)" || return $?
    rc=0
    ctl resize-balloon 0 > "$VM_DIR/ctl.txt" 2>&1 && wait_mem "m['balloon']['actual'] == 0" 60 || rc=1
    host_check balloon-deflated "$rc" "balloon: $(mem_json "m['balloon']" 2>&1)" || return $?
    # free page reporting: 128 MiB written to a tmpfs, then freed
    guest_check balloon-guest-fills 'mkdir -p /run/fill && mount -t tmpfs tmpfs /run/fill && dd if=/dev/zero of=/run/fill/x bs=1M count=128 2>/dev/null; echo FILLED-$?' '^FILLED-0$' || return $?
    res0=$(mem_json "m['guest_ram']['resident']")
    rep0=$(mem_json "m['balloon']['reported_bytes']")
    vm_send 'rm /run/fill/x; umount /run/fill' || true
    rc=0
    wait_mem "m['guest_ram']['resident'] <= $res0 - (64 << 20) and m['balloon']['reported_bytes'] >= $rep0 + (64 << 20)" 60 || rc=1
    res1=$(mem_json "m['guest_ram']['resident']")
    host_check balloon-free-pages-back-to-host "$rc" "guest RAM resident $res0 -> $res1, reported $(mem_json "m['balloon']['reported_bytes']") (was $rep0)" || return $?
    echo "balloon: guest RAM resident $res0 -> $res1 bytes after the guest freed 128 MiB"
    vm_send 'poweroff' || true
    expect_exit balloon-poweroff zero
}

# kvmini top as a person sees it: in an 80x24 tmux pane, while the guest reads its disk; the
# captured screen has the title, the memory panel, the vCPU and disk tables, 24 lines of at
# most 80 columns; q ends it (status 0) and the pane's terminal is back in line mode
case_api_top_tmux() {
    local rc=0 tm="tmux -L kvmini-top-$$"
    plan 5
    disk_dir
    truncate -s 64M "$DISKS/top.img"
    API_SOCK=$DISKS_TMP/api.sock
    kvmini_cmd --disk "path=$DISKS/top.img" --api-socket "$API_SOCK" --exit-stats
    vm_start "$WORK/top" "${L2_CMD[@]}" || return 1
    boot_to_shell top-boot || return $?
    # the disk load runs in the background, and is stopped before poweroff: a count of reads
    # would outlast the case on a slow machine (seen: 2000 reads not done after 3 min)
    vm_send 'while :; do dd if=/dev/vda of=/dev/null bs=4096 count=64 iflag=direct 2>/dev/null; done > /dev/null 2>&1 & LOAD=$!' || true
    $tm new-session -d -x 80 -y 24 "$BUILD/kvmini top $API_SOCK; echo TOP-EXIT-\$?; stty -a | grep -o -- '-\?icanon' | head -n 1; sleep 60" || rc=1
    sleep 5
    $tm capture-pane -p > "$VM_DIR/top-screen.txt" 2>&1 || rc=1
    python3 - "$VM_DIR/top-screen.txt" > "$VM_DIR/top-check.txt" 2>&1 <<'PY' || rc=1
import sys
lines = open(sys.argv[1]).read().split("\n")
lines = lines[:24] if len(lines) >= 24 else lines
assert all(len(l) <= 80 for l in lines), [l for l in lines if len(l) > 80]
text = "\n".join(lines)
for want in ("kvmini top  Running", "guest RAM 512 MiB (thp):", "kvmini ", "vCPU", "disk0",
             "reason"):
    assert want in text, (want, text)
assert sum(1 for l in lines if l.strip()) >= 12, text
print("top: %d lines on the screen" % sum(1 for l in lines if l.strip()))
PY
    host_check top-tmux-screen "$rc" "$(tr '\n' '|' < "$VM_DIR/top-check.txt" | cut -c1-400)" || return $?
    rc=0
    $tm send-keys q
    sleep 3
    $tm capture-pane -p > "$VM_DIR/top-after.txt" 2>&1 || true
    grep -q '^TOP-EXIT-0$' "$VM_DIR/top-after.txt" && grep -qx 'icanon' "$VM_DIR/top-after.txt" || rc=1
    host_check top-tmux-q-restores "$rc" "after q: $(grep -v '^$' "$VM_DIR/top-after.txt" | tail -n 3 | tr '\n' '|')" || return $?
    $tm kill-server 2>/dev/null || true
    vm_send 'kill $LOAD; poweroff' || true
    expect_exit top-poweroff zero
}
