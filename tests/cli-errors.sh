#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad-input table for the kvmini binary: each case must give one clear line on stderr and the
# right non-zero status, never a crash or a hang. Usage: tests/cli-errors.sh BUILD
# kvmini checks every input before it opens /dev/kvm, so these cases run on any machine; the
# few that need a running VM (one kvmini holding a disk while a second is refused) follow
# CLI_KVM_CASES: `here` (default: run them when this machine's /dev/kvm is usable, else
# SKIPPED), `defer` (leave them out: make check runs them inside the nested L1), `only` (just
# those: what make check runs in the L1).
set -uo pipefail

build=${1:-build}
kvmini=$(realpath "$build/kvmini")
kernel=$(realpath -e "$build/guest/bzImage" 2>/dev/null || true)
hello=$(realpath -e "$build/tests/kvm/payloads/bz_hello.bin" 2>/dev/null || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0
kvm_cases=${CLI_KVM_CASES:-here}

# skip_ NAME REASON: a case that cannot run here, counted and said
skip_() {
    skip=$((skip + 1))
    echo "SKIPPED cli-errors $1: $2"
}

# vm_cases_here: whether the cases that run a VM run in this invocation (else says why)
vm_cases_here() {
    case $kvm_cases in
    only) return 0 ;;
    defer) return 1 ;;
    esac
    "$kvmini" host >/dev/null 2>&1
}

if [ "$kvm_cases" = only ]; then
    vm_only=1
else
    vm_only=0
fi

# case NAME STATUS NEEDLE -- ARGS...: run kvmini -q ARGS, expect STATUS and NEEDLE in a 1-line stderr
case_() {
    local name=$1 want=$2 needle=$3
    shift 4
    local rc err lines
    timeout 20 "$kvmini" run -q "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    err=$(cat "$tmp/err")
    lines=$(grep -c . "$tmp/err")
    if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep -qF -- "$needle" "$tmp/err" &&
       ! grep -q 'Sanitizer\|core dumped' "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: status $rc (want $want), $lines line(s), want '$needle' in: $err"
    fi
}

: > "$tmp/empty"
head -c 65536 /dev/urandom > "$tmp/random"
dd if=/dev/zero of="$tmp/huge-initrd" bs=1M count=0 seek=200 2>/dev/null
dd if=/dev/zero of="$tmp/disk.img" bs=1M count=0 seek=8 2>/dev/null

# ---- the cases that run a VM: a second kvmini on a disk the first one holds is refused
vm_cases() {
    local first
    if [ -z "$hello" ]; then
        fail=$((fail + 1)); echo "FAIL disk-locked: $build/tests/kvm/payloads/bz_hello.bin not built"
        return
    fi
    "$kvmini" run -q --kernel "$hello" --gdb "unix:$tmp/hold.sock" --gdb-wait --console none \
        --disk "$tmp/disk.img" </dev/null 2>"$tmp/first.err" &
    first=$!
    for _ in $(seq 100); do
        [ -S "$tmp/hold.sock" ] && break
        sleep 0.1
    done
    case_ disk-locked    2 "in use by another process" -- --kernel "$hello" --disk "$tmp/disk.img"
    if ! kill -0 "$first" 2>/dev/null; then
        fail=$((fail + 1)); echo "FAIL disk-locked-holder: the first kvmini had ended: $(cat "$tmp/first.err")"
    fi
    # once the kernel is in guest RAM its file is no longer mapped (it would count as VMM
    # memory: 8 MiB of RSS for a stock bzImage)
    for _ in $(seq 50); do
        grep -q -F "$hello" "/proc/$first/maps" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q -F "$hello" "/proc/$first/maps" 2>/dev/null; then
        fail=$((fail + 1)); echo "FAIL kernel-unmapped-after-load: $hello still mapped in the running kvmini"
    else
        pass=$((pass + 1))
    fi
    kill "$first" 2>/dev/null; wait "$first" 2>/dev/null
    # --api-socket over a stale socket (its process gone): replaced, then kvmini ctl drives
    # the VM and vmm.shutdown ends kvmini with status 0 and no socket left
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/api.sock"
    "$kvmini" run -q --kernel "$hello" --cmdline halt --console none --api-socket "$tmp/api.sock" \
        </dev/null 2>"$tmp/api.err" &
    first=$!
    for _ in $(seq 100); do
        "$kvmini" ctl "$tmp/api.sock" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    local out="" mode
    mode=$(stat -c %a "$tmp/api.sock" 2>&1)
    for verb in ping info pause info resume counters; do
        out+="$("$kvmini" ctl "$tmp/api.sock" $verb 2>&1; echo "status $?")"$'\n'
    done
    out+="$("$kvmini" ctl "$tmp/api.sock" pause --json; "$kvmini" ctl "$tmp/api.sock" pause 2>&1; echo "status $?")"$'\n'
    out+="$("$kvmini" ctl "$tmp/api.sock" shutdown-vmm 2>&1; echo "status $?")"$'\n'
    wait "$first"; rc=$?
    if [ $rc = 0 ] && [ ! -e "$tmp/api.sock" ] && [ "$mode" = 600 ] &&
       [ "$(grep -c "^status 0$" <<<"$out")" = 7 ] && grep -q '^status 1$' <<<"$out" &&
       grep -q '^state:   Paused$' <<<"$out" && grep -q '^state:   Running$' <<<"$out" &&
       grep -q 'kvmini: error: vm.pause: the VM is already paused (HTTP 409)' <<<"$out" &&
       grep -q '^_vcpu0: exits=' <<<"$out" && grep -q '^kvmini 0.1.0, pid ' <<<"$out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL api-ctl: status $rc, socket mode $mode: $out $(cat "$tmp/api.err")"
    fi
    # the exit-cost probe's scratch VM runs and says what coalesce=auto chooses
    "$kvmini" host --exit-cost >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc = 0 ] && grep -q -E '^exit-cost: [1-9][0-9]* ns .*coalesce=auto: window [0-9]+ us, kicks (on|off)' "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL host-exit-cost: status $rc: $(cat "$tmp/out" "$tmp/err")"
    fi
}
if [ "$vm_only" = 1 ]; then
    vm_cases
    echo "cli-errors-kvm: $pass passed, $fail failed, $skip skipped"
    [ "$fail" = 0 ]
    exit
fi

case_ cpus-zero      2 "--cpus '0'"        -- --cpus 0
case_ cpus-huge      2 "--cpus '300'"      -- --cpus 300
case_ cpus-negative  2 "--cpus '-1'"       -- --cpus -1
case_ cpus-garbage   2 "--cpus 'many'"     -- --cpus many
case_ mem-tiny       2 "between"           -- --memory 1M
case_ mem-huge       2 "between"           -- --memory 100T
case_ mem-garbage    2 "not a size"        -- --memory lots
case_ mem-negative   2 "not a size"        -- --memory -512M
case_ mem-empty      2 "not a size"        -- --memory ''
case_ mem-missing    2 "needs a value"     -- --memory
case_ mem-bad-key    2 "unknown key 'thb'" -- --memory 512M,thb=off
case_ mem-bad-value  2 "thp needs =on or =off" -- --memory 512M,thp=1
case_ mem-both       2 "exclude each other" -- --memory 512M,thp=on,hugepages=on
case_ mem-huge-odd   2 "whole number of 2 MiB pages" -- --memory 513M,hugepages=on
case_ unknown-opt    2 "unknown option"    -- --frobnicate
case_ stray-arg      2 "unexpected argument" -- extra
case_ console-bad    2 "--console 'tty'"   -- --console tty
case_ console-dir    2 "--console file=$tmp/no/such/dir" -- --console "file=$tmp/no/such/dir"
case_ kernel-missing 2 "No such file"      -- --kernel "$tmp/nope"
case_ kernel-dir     2 "not a regular file" -- --kernel "$tmp"
case_ kernel-empty   2 "empty file"        -- --kernel "$tmp/empty"
case_ kernel-random  2 "not a bzImage"     -- --kernel "$tmp/random"
# ELF files: a program for this machine, and one patched to say aarch64 (e_machine 183)
cp "$(type -P true)" "$tmp/prog.elf"
cp "$tmp/prog.elf" "$tmp/arm.elf"
printf '\267\000' | dd of="$tmp/arm.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
case_ kernel-elf-program 2 "an ELF file for x86-64, not a bzImage" -- --kernel "$tmp/prog.elf"
case_ kernel-elf-aarch64 2 "an ELF file for aarch64, not a bzImage" -- --kernel "$tmp/arm.elf"
# inputs are checked before /dev/kvm is opened: a bad kernel is named on any machine
case_ kernel-before-kvm 2 "not a bzImage" -- --kvm-device "$tmp/kvm" --kernel "$tmp/random"
case_ kernel-before-initrd 2 "not a bzImage" -- --kernel "$tmp/random" --initrd "$tmp/nope"
case_ disk-before-kvm  2 "disk $tmp/none.img: No such file" -- --kvm-device "$tmp/kvm" \
    --kernel "$hello" --disk "$tmp/none.img"
# a missing KVM device: what it is and what to do, in one line
case_ kvm-missing    1 "does not exist"    -- --kvm-device "$tmp/kvm" --kernel "$hello"
case_ kvm-missing-hint 1 "docs/nested.md"  -- --kvm-device "$tmp/kvm" --kernel "$hello"
if [ -n "$kernel" ]; then
    head -c 2000000 "$kernel" > "$tmp/truncated"
    cp "$kernel" "$tmp/old"
    printf '\x04\x02' | dd of="$tmp/old" bs=1 seek=$((0x206)) conv=notrunc 2>/dev/null
    case_ kernel-truncated 2 "truncated"   -- --kernel "$tmp/truncated"
    case_ kernel-old       2 "too old"     -- --kernel "$tmp/old"
    case_ initrd-missing   2 "initrd '$tmp/nope'" -- --kernel "$kernel" --initrd "$tmp/nope"
    case_ initrd-too-big   2 "does not fit" -- --kernel "$kernel" --initrd "$tmp/huge-initrd" --memory 128M
    case_ mem-too-small    2 "too small"   -- --kernel "$kernel" --memory 16M
    # no machine's hugetlb pool holds 460800 free 2 MiB pages: a clear refusal, not a SIGBUS later
    case_ mem-hugetlb-short 1 "cannot reserve 460800 2 MiB huge pages" -- --kernel "$kernel" --memory 900G,hugepages=on
    case_ cmdline-too-long 2 "command line" -- --kernel "$kernel" --cmdline "$(head -c 5000 /dev/zero | tr '\0' x)"
else
    for c in kernel-truncated kernel-old initrd-missing initrd-too-big mem-too-small mem-hugetlb-short cmdline-too-long; do
        skip_ "$c" "$build/guest/bzImage not built (make guest)"
    done
fi
# --disk: parse errors and backings refused before the guest starts
cp "$tmp/disk.img" "$tmp/ro.img"
chmod 0444 "$tmp/ro.img"
case_ disk-empty       2 "--disk needs a value" -- --disk ''
case_ disk-unknown-key 2 "unknown key 'colour'" -- --disk "path=$tmp/disk.img,colour=red"
case_ disk-bad-cache   2 "bad value 'fast' for cache" -- --disk "path=$tmp/disk.img,cache=fast"
case_ disk-bad-engine  2 "bad value 'aio' for engine" -- --disk "path=$tmp/disk.img,engine=aio"
case_ disk-bad-ro      2 "bad value 'maybe' for ro" -- --disk "path=$tmp/disk.img,ro=maybe"
case_ disk-no-path     2 "no path" -- --disk "ro=on"
case_ disk-queues-bad   2 "queues must be 1 to 8" -- --disk "path=$tmp/disk.img,queues=9"
case_ disk-queues-cpus  2 "only 1 vCPUs" -- --disk "path=$tmp/disk.img,queues=2"
case_ disk-coalesce-big 2 "coalesce must be auto, or 0 (off) to 100000 microseconds" -- --disk "path=$tmp/disk.img,coalesce=200000"
case_ disk-coalesce-bad 2 "coalesce must be auto, or 0 (off) to 100000 microseconds" -- --disk "path=$tmp/disk.img,coalesce=fast"
case_ transport-bad    2 "--virtio-transport 'usb': use mmio or pci" -- --virtio-transport usb
case_ transport-empty  2 "--virtio-transport '': use mmio or pci" -- --virtio-transport ''
case_ mmio-cmdline-pci 2 "--virtio-mmio-cmdline needs --virtio-transport mmio" -- --virtio-mmio-cmdline

case_ disk-long-serial 2 "serial is longer" -- --disk "path=$tmp/disk.img,serial=abcdefghijklmnopqrstuvwxyz"
many=()
for _ in $(seq 17); do many+=(--disk "$tmp/disk.img"); done
case_ disk-too-many    2 "too many --disk" -- "${many[@]}"
if [ -n "$kernel" ]; then
    case_ disk-missing   2 "$tmp/none.img" -- --kernel "$kernel" --disk "$tmp/none.img"
    case_ disk-directory 2 "$tmp" -- --kernel "$kernel" --disk "$tmp"
    case_ disk-chardev   2 "/dev/null" -- --kernel "$kernel" --disk /dev/null
    if [ "$(id -u)" != 0 ]; then
        case_ disk-readonly-file 2 "ro=on" -- --kernel "$kernel" --disk "$tmp/ro.img"
    else
        chattr +i "$tmp/ro.img" 2>/dev/null && {
            case_ disk-readonly-file 2 "ro=on" -- --kernel "$kernel" --disk "$tmp/ro.img"
            chattr -i "$tmp/ro.img"; }
    fi
    # two VMMs on one disk: the second is refused while the first holds the lock
    if vm_cases_here; then
        vm_cases
    elif [ "$kvm_cases" = here ]; then
        skip_ disk-locked "needs a running VM (kvmini host: $("$kvmini" host --kind))"
    fi
    # a disk on a read-only file system (a tmpfs remounted ro; root only) without ro=on
    if [ "$(id -u)" = 0 ] && mkdir -p "$tmp/rofs" && mount -t tmpfs -o size=16M tmpfs "$tmp/rofs" 2>/dev/null; then
        truncate -s 8M "$tmp/rofs/disk.img"
        if mount -o remount,ro "$tmp/rofs"; then
            case_ disk-readonly-fs 2 "ro=on" -- --kernel "$kernel" --disk "$tmp/rofs/disk.img"
        fi
        umount "$tmp/rofs"
    fi
    case_ initrd-directory 2 "initrd '$tmp'" -- --kernel "$kernel" --initrd "$tmp"
    # no partial writes: the refused invocations above left the disk image as it was (zeros)
    if cmp -s "$tmp/disk.img" <(head -c $((8 << 20)) /dev/zero); then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL disk-untouched: a refused invocation wrote to $tmp/disk.img"; fi
fi

# --trace-exits and --strict
case_ trace-empty      2 "--trace-exits needs a file name" -- --trace-exits ''
case_ trace-missing    2 "needs a value"     -- --trace-exits
case_ trace-bad-item   2 "unknown item 'colour'" -- --trace-exits "$tmp/t,colour=red"
case_ trace-bad-reason 2 "unknown exit reason 'bogus'" -- --trace-exits "$tmp/t,reason=bogus"
case_ trace-bad-addr   2 "addr='9-1'"        -- --trace-exits "$tmp/t,addr=9-1"
case_ trace-bad-max    2 "max='lots'"        -- --trace-exits "$tmp/t,max=lots"
case_ trace-bad-vcpu   2 "vcpu=3, but there are only 2 vCPUs" -- --cpus 2 --trace-exits "$tmp/t,vcpu=3"
case_ trace-twice      2 "addr= given twice" -- --trace-exits "$tmp/t,addr=1,addr=2"
case_ trace-unwritable 2 "cannot write $tmp/no/such/t" -- --trace-exits "$tmp/no/such/t" --kernel "$hello"
case_ strict-takes-no-value 2 "--strict" -- --strict=yes

# kvmini exits: every bad trace gives `kvmini: error: FILE: ...` and status 2
exits_case() {
    local name=$1 want=$2 needle=$3
    shift 4
    local rc
    timeout 20 "$kvmini" exits "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = "$want" ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -qF -- "$needle" "$tmp/err" &&
       ! grep -q 'Sanitizer\|core dumped' "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL exits-$name: status $rc (want $want), want '$needle' in: $(cat "$tmp/err")"
    fi
}
printf 'KVMINIXT' > "$tmp/short.trace"
{ printf 'KVMINIXT\x02\x00\x00\x00'; head -c 200 /dev/zero; } > "$tmp/v2.trace"
{ printf 'KVMINIXT\x01\x00\x00\x00\x50\x00\x00\x00\x30\x00\x00\x00'; head -c 200 /dev/zero; } > "$tmp/recsize.trace"
exits_case no-file     2 "no trace file" --
exits_case missing     2 "kvmini: error: $tmp/nope: No such file or directory" -- "$tmp/nope"
exits_case empty       2 "kvmini: error: $tmp/empty: empty file" -- "$tmp/empty"
exits_case directory   2 "kvmini: error: $tmp: not a regular file" -- "$tmp"
exits_case bad-magic   2 "kvmini: error: $tmp/random: not a kvmini exit trace (bad magic)" -- "$tmp/random"
exits_case truncated   2 "kvmini: error: $tmp/short.trace: truncated header" -- "$tmp/short.trace"
exits_case version     2 "unsupported trace version 2" -- "$tmp/v2.trace"
exits_case record-size 2 "record size 48 does not match" -- "$tmp/recsize.trace"
exits_case bad-option  2 "unknown option '--frob'" -- --frob "$tmp/empty"
exits_case two-files   2 "unexpected argument" -- "$tmp/empty" "$tmp/empty"
exits_case chrome-noarg 2 "--chrome needs an output file" -- "$tmp/empty" --chrome
# --gdb: bad values are usage errors; an address kvmini cannot listen on is refused at start
case_ gdb-missing      2 "needs a value"      -- --gdb
case_ gdb-bare-port    2 "--gdb '1234'"       -- --gdb 1234
case_ gdb-no-host      2 "--gdb 'tcp::1234'"  -- --gdb tcp::1234
case_ gdb-port-zero    2 "PORT 1-65535"       -- --gdb tcp:127.0.0.1:0
case_ gdb-port-huge    2 "PORT 1-65535"       -- --gdb tcp:127.0.0.1:70000
case_ shutdown-timeout-word 2 "--shutdown-timeout 'soon': need whole seconds" -- --shutdown-timeout soon
case_ shutdown-timeout-huge 2 "from 0 to 3600"     -- --shutdown-timeout 3601
case_ shutdown-timeout-neg  2 "from 0 to 3600"     -- --shutdown-timeout -1
# --balloon: unknown keys, bad values, more than guest RAM
case_ balloon-key      2 "--balloon 'frob=on': unknown key 'frob'" -- --balloon frob=on
case_ balloon-value    2 "bad value 'maybe' for stats" -- --balloon stats=maybe
case_ balloon-size     2 "bad value '12x' for size" -- --balloon size=12x
case_ balloon-word     2 "'huge' is not key=value" -- --balloon huge
case_ balloon-too-big  2 "--balloon size=1024 MiB is more than --memory (512 MiB)" -- --balloon size=1G
# --net and --rng: the spec's own mistakes (no tap needed)
case_ net-empty        2 "needs tap=NAME or fd=N" -- --net ''
case_ net-both         2 "needs tap=NAME or fd=N" -- --net tap=a,fd=5
case_ net-key          2 "unknown key 'speed'" -- --net tap=a,speed=10
case_ net-mac-multicast 2 "bad mac '01:00:5e:00:00:01'" -- --net tap=a,mac=01:00:5e:00:00:01
case_ net-mac-short    2 "bad mac" -- --net tap=a,mac=52:54:00:12:34
case_ net-queues       2 "bad queues '5'" -- --net tap=a,queues=5
case_ net-mtu          2 "bad mtu '67'" -- --net tap=a,mtu=67
case_ net-stdio-fd     2 "bad fd '1'" -- --net fd=1
case_ net-vhost-word   2 "bad vhost 'yes': on or off" -- --net tap=a,vhost=yes
case_ net-too-many     2 "too many --net" -- --net tap=a --net tap=b --net tap=c --net tap=d --net tap=e
case_ rng-rate         2 "--rng 'rate=abc'" -- --rng=rate=abc
case_ rng-burst-alone  2 "--rng" -- --rng=burst=64
case_ vsock-cid-host    2 "--vsock 'cid=2': cid must be 3 to 4294967294" -- --vsock cid=2
case_ vsock-no-cid     2 "needs cid=N" -- --vsock ''
case_ vsock-hybrid-long 2 "socket= needs a path of 1 to 96 characters" -- --vsock "cid=5,socket=/tmp/$(printf '%0100d' 0)"
many=()
for _ in $(seq 13); do many+=(--disk "$tmp/disk.img"); done
case_ virtio-too-many  2 "17 virtio devices (13 disks, a balloon, 2 network cards, an rng): at most 16" -- "${many[@]}" --balloon on --net tap=a --net tap=b --rng
if [ -n "$kernel" ]; then
    # the tap itself: opened before KVM, so these need no /dev/kvm
    case_ net-no-tap   2 "--net tap=kvmini-nosuch0: no such interface (make it first: ip tuntap add" -- --kernel "$kernel" --net tap=kvmini-nosuch0
    case_ net-not-tap  2 "--net tap=lo: an interface of another kind, not a tap" -- --kernel "$kernel" --net tap=lo
    case_ net-fd-not-tap 2 "--net fd=9: not a tap" -- --kernel "$kernel" --net fd=9 9<"$tmp/empty"
    case_ net-fd-closed 2 "--net fd=57: not an open file descriptor" -- --kernel "$kernel" --net fd=57
    if [ ! -e /dev/vhost-vsock ]; then
        case_ vsock-no-vhost 2 "--vsock: /dev/vhost-vsock: No such file or directory (modprobe vhost_vsock)" -- --kernel "$kernel" --vsock cid=9
    fi
    if [ "$(id -u)" = 0 ] && ip tuntap add kvmini-ce0 mode tap 2>/dev/null; then
        case_ net-mq-tap 2 "queues=2 needs a tap made with multi_queue" -- --kernel "$kernel" --net tap=kvmini-ce0,queues=2
        case_ net-mtu-tap 2 "more than tap kvmini-ce0's MTU (1500)" -- --kernel "$kernel" --net tap=kvmini-ce0,mtu=9000
        if [ ! -e /dev/vhost-net ]; then
            case_ net-vhost-missing 2 "--net vhost=on: /dev/vhost-net: No such file or directory (modprobe vhost_net)" -- --kernel "$kernel" --net tap=kvmini-ce0,vhost=on
        fi
        ip tuntap del kvmini-ce0 mode tap
    fi
fi
case_ gdb-unix-empty   2 "--gdb 'unix:'"      -- --gdb unix:
case_ gdb-wait-alone   2 "--gdb-wait needs --gdb" -- --gdb-wait
case_ dump-dtb-x86      2 "not a device tree" -- --dump-dtb "$tmp/x.dtb"
# --seccomp: on, log or off, nothing else
case_ seccomp-bad      2 "--seccomp 'strict': use on, log or off" -- --seccomp strict
case_ seccomp-case     2 "--seccomp 'ON'"     -- --seccomp=ON
case_ seccomp-empty    2 "--seccomp ''"       -- --seccomp=
case_ seccomp-missing  2 "needs a value"      -- --seccomp
case_ gdb-unix-file    2 "exists and is not a socket" -- --kernel "$hello" --gdb "unix:$tmp/empty"
case_ vsock-hybrid-file 2 "--vsock socket=$tmp/empty: exists and is not a socket" -- --kernel "$hello" --vsock "cid=5,socket=$tmp/empty"
case_ gdb-unix-nodir   2 "cannot listen" -- --kernel "$hello" --gdb "unix:$tmp/no/such/dir/sock"
{
    # a port someone else listens on
    python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' > "$tmp/port" &
    holder=$!
    for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    port=$(cat "$tmp/port")
    case_ gdb-port-in-use  2 "Address already in use" -- --kernel "$hello" --gdb "tcp:127.0.0.1:$port"
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
}

# --api-socket: a path kvmini may not or cannot use is refused before the VM starts
long_sock=$tmp/$(printf 'a%.0s' $(seq 110))
case_ api-empty        2 "--api-socket '': needs a path" -- --api-socket=
case_ api-too-long     2 "path too long (at most 107 bytes)" -- --api-socket "$long_sock"
case_ api-missing      2 "needs a value"      -- --api-socket
case_ api-file         2 "exists and is not a socket" -- --kernel "$hello" --api-socket "$tmp/empty"
case_ api-nodir        2 "cannot listen" -- --kernel "$hello" --api-socket "$tmp/no/such/dir/sock"
{
    # a socket someone else listens on
    python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("up", flush=True); time.sleep(60)' "$tmp/live.sock" > "$tmp/live" &
    holder=$!
    for _ in $(seq 50); do [ -s "$tmp/live" ] && break; sleep 0.1; done
    case_ api-live     2 "another process is listening there" -- --kernel "$hello" --api-socket "$tmp/live.sock"
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
}
# ctl_case NAME STATUS NEEDLE -- ARGS...: kvmini ctl ARGS, STATUS and NEEDLE in a 1-line stderr
ctl_case() {
    local name=$1 want=$2 needle=$3
    shift 4
    timeout 20 "$kvmini" ctl "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" = "$want" ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -qF -- "$needle" "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL ctl-$name: status $rc (want $want): $(cat "$tmp/err")"
    fi
}
ctl_case no-args      2 "a socket and a verb are needed" --
ctl_case no-verb      2 "a socket and a verb are needed" -- "$tmp/x.sock"
ctl_case bad-verb     2 "unknown verb 'frob'" -- "$tmp/x.sock" frob
ctl_case bad-flag     2 "unexpected argument" -- "$tmp/x.sock" info --yaml
ctl_case resize-no-size 2 "resize-balloon needs a SIZE (0, 512M, 1G), got ''" -- "$tmp/x.sock" resize-balloon
ctl_case resize-bad-size 2 "resize-balloon needs a SIZE (0, 512M, 1G), got 'lots'" -- "$tmp/x.sock" resize-balloon lots
ctl_case resize-extra  2 "unexpected argument" -- "$tmp/x.sock" resize-balloon 1G 2G
ctl_case no-socket    1 "cannot connect to $tmp/x.sock: No such file or directory (is kvmini running with --api-socket" -- "$tmp/x.sock" info
ctl_case not-a-socket 1 "cannot connect to $tmp/empty" -- "$tmp/empty" pause --json
# top_case NAME STATUS NEEDLE -- ARGS...: kvmini top ARGS, STATUS and NEEDLE in a 1-line stderr
top_case() {
    local name=$1 want=$2 needle=$3
    shift 4
    timeout 20 "$kvmini" top "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" = "$want" ] && [ "$(grep -c . "$tmp/err")" = 1 ] && grep -qF -- "$needle" "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL top-$name: status $rc (want $want): $(cat "$tmp/err")"
    fi
}
top_case no-args      2 "a socket is needed" --
top_case two-sockets  2 "unexpected argument 'b.sock'" -- "$tmp/x.sock" b.sock
top_case bad-flag     2 "unexpected argument '--yaml'" -- "$tmp/x.sock" --yaml
top_case bad-interval 2 "--interval: SECONDS from 0.1 to 3600" -- "$tmp/x.sock" --interval 0
top_case no-interval  2 "--interval needs SECONDS" -- "$tmp/x.sock" --interval
top_case no-socket    1 "cannot connect to $tmp/x.sock: No such file or directory" -- "$tmp/x.sock" --once

# no --kernel and no default guest next to the binary
cp "$kvmini" "$tmp/kvmini"
"$tmp/kvmini" run </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 2 ] && grep -q 'make guest' "$tmp/err" && [ "$(grep -c . "$tmp/err")" = 1 ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL no-default-guest: status $rc: $(cat "$tmp/err")"
fi
"$kvmini" bogus >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc = 2 ] && grep -q "unknown command 'bogus'" "$tmp/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL unknown-command: status $rc"; fi
# no /dev/kvm to measure an exit on: "none" and status 1, no probe
"$kvmini" host --exit-cost --kvm-device "$tmp/no-kvm" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc = 1 ] && grep -q '^none: ' "$tmp/out" && ! grep -q exit-cost "$tmp/out"; then
    pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL host-exit-cost-no-kvm: status $rc: $(cat "$tmp/out" "$tmp/err")"; fi
if "$kvmini" --help | grep -q -- '--memory SIZE'; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL help"; fi

echo "cli-errors: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
