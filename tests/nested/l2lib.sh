#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# L2 helpers (sourced): start kvmini or QEMU microvm on the default guest, expect output, type input.
#
# l2_cmd VMM BUILD [--cpus N] [--memory SIZE] [--append S | --cmdline S]
#     sets the array L2_CMD to the command line for VMM (kvmini | qemu) with the console on
#     stdio; QEMU gets the same kernel, initramfs, cmdline, vCPUs and memory (-M microvm,acpi=on,
#     pvpanic with panic=exit-failure, -no-reboot) so the same cases run against both.
#     GUEST_ARCH=arm64 (make demo ARCH=arm64): kvmini gets BUILD/guest/Image, not bzImage.
# vm_start DIR CMD...   start CMD with stdin from a FIFO in /tmp (fd VM_IN; 9p cannot hold
#     FIFOs), stdout in DIR/out, stderr in
#     DIR/err; VM_PID is its pid. With VM_STAMP=1 each stdout line is also written to DIR/stamps
#     prefixed with $EPOCHREALTIME (VM_T0 is the launch time). With L2_QUIET=1 (the boot cases,
#     run-tests.sh) a kvmini run that gives no --cmdline of its own gets "quiet" at the front
#     of its --append (l2_quiet): the kernel's boot messages over the emulated serial port cost
#     a third of a boot in the nested L1 (docs/results/quiet-boot-2026-12-07).
# vm_expect REGEX SECONDS  wait for an output line (escapes and CRs stripped) matching REGEX;
#     1 if the VMM exited first (its status in VM_STATUS), 124 on timeout.
# vm_answers            the output lines answers are matched on (a trailing kernel message cut off).
# vm_send TEXT          type TEXT and a newline into the guest's console.
# vm_wait SECONDS       wait for the VMM to exit; VM_STATUS is its status; 124 on timeout.
# vm_kill               kill the VMM if it still runs, close its stdin, remove the FIFO.
# overhead_kb PID RAMBYTES  "<VMM RSS in kB beyond guest RAM> <guest-RAM mapping RSS kB or ->"
# shellcheck disable=SC2034 # variables are for the caller

L2_DEFAULT_CMDLINE="console=ttyS0 reboot=k panic=-1"

l2_cmd() {
    local vmm=$1 build=$2 cpus=1 mem=512M cmdline=$L2_DEFAULT_CMDLINE
    local -a kv=()
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
        --cpus) cpus=$2; kv+=(--cpus "$2") ;;
        --memory) mem=$2; kv+=(--memory "$2") ;;
        --append) cmdline+=" $2"; kv+=(--append "$2") ;;
        --cmdline) cmdline=$2; kv+=(--cmdline "$2") ;;
        *) echo "l2_cmd: unknown option $1" >&2; return 2 ;;
        esac
        shift 2
    done
    local k="$build/guest/bzImage" i="$build/guest/initramfs.cpio.gz"
    # GUEST_ARCH=arm64 (make demo ARCH=arm64): the arm64 guest, an Image, for the arm64 kvmini
    [ "${GUEST_ARCH:-x86}" != arm64 ] || k="$build/guest/Image"
    case $vmm in
    kvmini) L2_CMD=("$build/kvmini" run --kernel "$k" --initrd "$i" "${kv[@]}" --console stdio) ;;
    qemu)
        # shellcheck disable=SC2054 # commas are QEMU's
        L2_CMD=(qemu-system-x86_64 -M microvm,acpi=on -enable-kvm -cpu host -smp "$cpus" -m "$mem"
            -kernel "$k" -initrd "$i" -append "$cmdline" -nodefaults -no-user-config
            -display none -chardev stdio,id=con,mux=off,signal=off -serial chardev:con
            -device pvpanic -action panic=exit-failure -no-reboot) ;;
    *) echo "l2_cmd: unknown VMM $vmm (kvmini or qemu)" >&2; return 2 ;;
    esac
}

vm_stamper() {
    local line
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done
}

# l2_quiet CMD...: sets L2_CMD_Q to CMD, with "quiet" added to the guest kernel's command line
# when L2_QUIET=1 and CMD runs kvmini (perhaps behind "ip netns exec") without a --cmdline
l2_quiet() {
    L2_CMD_Q=("$@")
    [ "${L2_QUIET:-0}" = 1 ] || return 0
    local i n=$# run=-1 app=-1
    for ((i = 0; i < n; i++)); do
        if [ "$run" -lt 0 ]; then
            [[ ${L2_CMD_Q[i]} != */kvmini || ${L2_CMD_Q[i + 1]:-} != run ]] || run=$((i + 1))
        elif [ "${L2_CMD_Q[i]}" = --cmdline ]; then
            return 0
        elif [ "${L2_CMD_Q[i]}" = --append ] && [ $((i + 1)) -lt "$n" ]; then
            app=$((i + 1))
        fi
    done
    if [ "$app" -ge 0 ]; then
        [[ " ${L2_CMD_Q[app]} " == *" quiet "* ]] || L2_CMD_Q[app]="quiet ${L2_CMD_Q[app]}"
    elif [ "$run" -ge 0 ]; then
        L2_CMD_Q=("${L2_CMD_Q[@]:0:run+1}" --append quiet "${L2_CMD_Q[@]:run+1}")
    fi
}

vm_start() {
    VM_DIR=$1
    shift
    l2_quiet "$@"
    set -- "${L2_CMD_Q[@]}"
    mkdir -p "$VM_DIR"
    rm -f "$VM_DIR/out" "$VM_DIR/err" "$VM_DIR/stamps"
    local fifo
    fifo=$(mktemp -u /tmp/kvmini-vm-in.XXXXXX)
    mkfifo "$fifo" || return 1
    : > "$VM_DIR/out"
    VM_STATUS=
    VM_T0=$EPOCHREALTIME
    if [ "${VM_STAMP:-0}" = 1 ]; then
        "$@" < "$fifo" > >(tee "$VM_DIR/out" | vm_stamper > "$VM_DIR/stamps") 2> "$VM_DIR/err" &
    else
        "$@" < "$fifo" > "$VM_DIR/out" 2> "$VM_DIR/err" &
    fi
    VM_PID=$!
    # read-write: opening never blocks, even if the VMM failed to start
    exec {VM_IN}<> "$fifo"
    VM_FIFO=$fifo # removed by vm_kill: the VMM may not have opened it yet
}

vm_clean_out() {
    [ -f "$VM_DIR/out" ] || return 0
    sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1b[()][0-9A-Za-z]//g' -e 's/\x1b[a-zA-Z=>]//g' \
        -e 's/\r//g' "$VM_DIR/out"
}

# vm_answers: vm_clean_out with a kernel message that landed at the end of a line cut off
# ("IW-0-0[   25.115350] clocksource: ..." is the line IW-0-0): printk writes to the console
# while the shell's output is still on its way, so answers are matched on these lines.
vm_answers() {
    vm_clean_out | sed -E 's/\[ *[0-9]+\.[0-9]{6}\] .*$//'
}

vm_expect() {
    local re=$1 end=$((SECONDS + $2))
    while :; do
        vm_answers | grep -a -q -E -- "$re" && return 0
        if ! kill -0 "$VM_PID" 2>/dev/null; then
            vm_answers | grep -a -q -E -- "$re" && return 0
            VM_STATUS=0
            wait "$VM_PID" 2>/dev/null || VM_STATUS=$?
            VM_PID=''
            return 1
        fi
        [ "$SECONDS" -lt "$end" ] || return 124
        sleep 0.2
    done
}

vm_send() {
    printf '%s\n' "$1" >&"$VM_IN"
}

vm_wait() {
    local end=$((SECONDS + $1))
    while kill -0 "$VM_PID" 2>/dev/null; do
        [ "$SECONDS" -lt "$end" ] || return 124
        sleep 0.1
    done
    VM_STATUS=0
    wait "$VM_PID" || VM_STATUS=$?
    VM_PID=
    return 0
}

vm_kill() {
    if [ -n "${VM_PID:-}" ]; then
        kill -KILL "$VM_PID" 2>/dev/null || true
        wait "$VM_PID" 2>/dev/null || true
    fi
    if [ -n "${VM_IN:-}" ]; then
        exec {VM_IN}>&-
    fi
    rm -f "${VM_FIFO:-}"
    VM_PID='' VM_IN='' VM_FIFO=''
}

# now - VM_T0 in seconds with one decimal (0.0 before the first VMM started)
vm_elapsed() {
    local now=$EPOCHREALTIME
    awk -v a="${VM_T0:-$now}" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# overhead_kb PID RAMBYTES: "<rss kB except guest RAM> <guest-RAM mapping rss kB or ->"
overhead_kb() {
    awk -v ram="$2" '
        function hex(s,   i, c, n) { n = 0; s = tolower(s)
            for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; n = n * 16 + c }
            return n }
        /^[0-9a-f]+-[0-9a-f]+ / {
            split($1, r, "-"); size = hex(r[2]) - hex(r[1])
            # anonymous: inode 0 and no path; the first one of exactly the guest size is RAM
            cur = (!found && NF == 5 && $5 == 0 && size == ram) ? "ram" : "other"
            if (cur == "ram") found = 1
            next }
        /^Rss:/ { if (cur == "ram") ramkb += $2; else other += $2 }
        END { printf "%d %s\n", other, found ? ramkb : "-" }' "/proc/$1/smaps"
}
