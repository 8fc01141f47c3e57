#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# virtio-net cases for run-tests.sh (sourced): a tap in a network namespace of the test's own, the Debian guest's address, ping both ways, 64 MiB each way over TCP with checksums compared.
# shellcheck disable=SC2016 # guest commands

# MiB each way through each card (the Debian guest's bash sends 64 MiB in 14 to 27 s in the
# nested L1: docs/results/net-64mib-debian-2026-12-07); NET_MIB=8 (make nested-test) for less
NET_MIB=${NET_MIB:-64}
NET_HOST=10.0.2.1
NET_GUEST=10.0.2.2

# net_ns QUEUES: a namespace NET_NS with tap0 (multi_queue when QUEUES > 1) at NET_HOST/24;
# nothing the test sends leaves it
net_ns() {
    net_ns_cleanup
    NET_NS=kvmini-net-$$
    ip netns add "$NET_NS"
    ip -n "$NET_NS" link set lo up
    ip -n "$NET_NS" tuntap add tap0 mode tap $([ "$1" -gt 1 ] && echo multi_queue)
    ip -n "$NET_NS" addr add "$NET_HOST/24" dev tap0
    ip -n "$NET_NS" link set tap0 up
}

net_ns_cleanup() {
    [ -z "${NET_NS:-}" ] || ip netns del "$NET_NS" 2>/dev/null || true
    NET_NS=""
}

# net_fresh OUT: no result of an earlier attempt where a listener will write (a retried case
# reuses its directory)
net_fresh() { rm -f "$1" "$1.ready"; }

# net_py MODE PORT BYTES OUT: in the namespace, a TCP listener on NET_HOST:PORT that receives
# BYTES (recv) or sends BYTES of random data (send), then writes "<bytes> <sha256>" to OUT
net_py() {
    ip netns exec "$NET_NS" python3 "$(dirname "${BASH_SOURCE[0]}")/host_end.py" listen tcp \
        "$NET_HOST" "$2" "$1" "$3" "$4"
}

# net_listening OUT: waits (at most 60 s) for net_py's listener to say it listens
net_listening() {
    local i
    for i in $(seq 600); do
        [ -e "$1.ready" ] && return 0
        sleep 0.1
    done
    return 1
}

# net_evidence: kvmini's statistics so far into its stderr (SIGUSR1; --exit-stats), for a
# transfer that failed
net_evidence() {
    ip -n "$NET_NS" -s link show tap0 > "$VM_DIR/tap-stats.txt" 2>&1 || true
    ip netns exec "$NET_NS" cat /proc/net/snmp >> "$VM_DIR/tap-stats.txt" 2>&1 || true
    ip netns exec "$NET_NS" ss -tmi >> "$VM_DIR/tap-stats.txt" 2>&1 || true
    local p
    for p in $(pgrep '^vhost-' || true); do
        { echo "--- $(cat "/proc/$p/comm") stack:"; cat "/proc/$p/stack"; } >> "$VM_DIR/tap-stats.txt" 2>&1 || true
    done
    [ -z "${VM_PID:-}" ] || kill -USR1 "$VM_PID" 2>/dev/null || true
    sleep 1
}

# net_wait PID: waits for the listener PID at most CASE_TIMEOUT seconds (124: it still runs)
net_wait() {
    local i
    for i in $(seq $((CASE_TIMEOUT * 10))); do
        kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
        sleep 0.1
    done
    return 124
}

# net_guest_tcp recv|send PORT: the guest's end of a TCP connection to NET_HOST:PORT, reading
# from stdin (send) or writing to stdout (recv): busybox nc in the default guest, bash's
# /dev/tcp in the Debian guest (NET_GUEST_OS=debian; minbase has no nc)
net_guest_tcp() {
    if [ "${NET_GUEST_OS:-default}" = debian ]; then
        [ "$1" = recv ] && echo "cat < /dev/tcp/$NET_HOST/$2" || echo "cat > /dev/tcp/$NET_HOST/$2"
    else
        [ "$1" = recv ] && echo "nc $NET_HOST $2 < /dev/null" || echo "nc $NET_HOST $2"
    fi
}

# net_transfer NAME: NET_MB MiB of random data from the host to the guest, then the same bytes
# back from the guest to the host, each direction checked by sha256 on both sides (random data
# made by the host: /dev/urandom in a nested guest is slow)
net_transfer() {
    local bytes=$((NET_MB << 20)) rc=0 got want py
    net_fresh "$VM_DIR/host-sent.txt"
    net_py send 5002 "$bytes" "$VM_DIR/host-sent.txt" & py=$!
    net_listening "$VM_DIR/host-sent.txt" || { host_check "$1-host-listens" 1 "no listener on $NET_HOST:5002 after 60 s"; return 1; }
    guest_check "$1-guest-receives" "$(net_guest_tcp recv 5002) > /tmp/in; echo GOT-\$(wc -c < /tmp/in)-\$(sha256sum < /tmp/in | cut -d' ' -f1)" '^GOT-' || { kill "$py" 2>/dev/null; net_evidence; return 1; }
    wait "$py" || rc=1
    read -r _ want < "$VM_DIR/host-sent.txt" || rc=1
    vm_answers | grep -a -q "^GOT-$bytes-$want\$" || rc=1
    host_check "$1-host-to-guest-sha256" "$rc" "the host sent $bytes bytes with sha256 '$want'; the guest: $(vm_answers | grep -a -m1 '^GOT-')" || return $?
    net_fresh "$VM_DIR/host-recv.txt"
    net_py recv 5001 "$bytes" "$VM_DIR/host-recv.txt" & py=$!
    net_listening "$VM_DIR/host-recv.txt" || { host_check "$1-host-listens" 1 "no listener on $NET_HOST:5001 after 60 s"; return 1; }
    # in the background, so that the guest's shell can be asked what it sees if this stalls
    guest_check "$1-guest-sends" "($(net_guest_tcp send 5001) < /tmp/in; echo SENT-\$? > /tmp/sent) > /dev/null 2>&1 & echo STARTED" '^STARTED$' || { kill "$py" 2>/dev/null; return 1; }
    rc=0
    net_wait "$py" || rc=$?
    if [ "$rc" != 0 ]; then
        kill "$py" 2>/dev/null
        net_evidence
        guest_check "$1-guest-view" "ip -s link show eth0; grep -A1 '^Tcp:' /proc/net/snmp; grep -i virtio /proc/interrupts; ss -tni 2>/dev/null || netstat -tn" '.' || true
    fi
    got=$(cat "$VM_DIR/host-recv.txt" 2>/dev/null || true)
    [ "$got" = "$bytes $want" ] || rc=1
    host_check "$1-guest-to-host-sha256" "$rc" "the host got '$got' back, wanted '$bytes $want'"
}

# net_case NAME QUEUES VHOST MB EXTRA-ARGS...: boot the guest on the namespace's tap
# (vhost=VHOST), check its address, ping both ways, move MB MiB each way, power off. The guest:
# the Debian 12 system (tests/nested/debian-rootfs.sh: read-only, init=kvmini-test-init, a
# bash; NET_GUEST_OS=debian), or the default busybox guest (NET_GUEST_OS=default)
net_case() {
    local name=$1 queues=$2 vhost=$3 NET_MB=$4 rc=0 deb=0
    local app="kvmini.ip=$NET_GUEST/24,$NET_HOST"
    local -a os=()
    shift 4
    [ "${NET_GUEST_OS:-default}" != debian ] || deb=1
    plan $((11 + deb))
    if [ "$deb" = 1 ]; then
        debian_image_ready "$name-debian-image" || return 1
        os=(--disk "path=$BUILD/debian12/rootfs.img,ro=on")
        app="root=/dev/vda ro init=/usr/local/sbin/kvmini-test-init $app"
    fi
    net_ns "$queues"
    # vhost=default: kvmini's own choice (vhost-net where /dev/vhost-net is usable)
    local netopt="tap=tap0,queues=$queues"
    [ "$vhost" = default ] || netopt+=",vhost=$vhost"
    kvmini_cmd --net "$netopt" --cpus "$queues" --exit-stats "${os[@]}" "$@" \
        --append "$app"
    L2_CMD=(ip netns exec "$NET_NS" "${L2_CMD[@]}")
    vm_start "$WORK/$name" "${L2_CMD[@]}" || return 1
    boot_to_shell "$name-boot" || return $?
    vm_answers | grep -a -q "^KVMINI-NET eth0 $NET_GUEST/24\$" || rc=1
    step "$name-address" "$rc" "no 'KVMINI-NET eth0 $NET_GUEST/24' line: $(vm_answers | grep -a 'KVMINI-NET\|kvmini-net' | head -n 2)" || return $?
    if [ "$deb" = 1 ]; then
        guest_check "$name-debian-12" "grep VERSION_ID /etc/os-release" '^VERSION_ID="12"$' || return $?
    fi
    guest_check "$name-guest-pings-host" "ping -c 3 -W 5 $NET_HOST | grep received" ' 3 (packets )?received' || return $?
    rc=0
    ip netns exec "$NET_NS" ping -c 3 -W 5 "$NET_GUEST" > "$VM_DIR/ping.txt" 2>&1 || rc=1
    host_check "$name-host-pings-guest" "$rc" "$(tail -n 2 "$VM_DIR/ping.txt" | tr '\n' ' ')" || return $?
    net_transfer "$name" || return $?
    vm_send 'poweroff' || true
    expect_exit "$name-exit-0" zero || return $?
    rc=0
    grep -q 'driver error:' "$VM_DIR/err" && rc=1
    host_check "$name-no-driver-errors" "$rc" "$(grep -m1 'driver error:' "$VM_DIR/err")"
}

# the default busybox guest with kvmini's defaults (--net tap=tap0: virtio-pci, one queue
# pair, vhost-net where usable): its init's address, nc and ping (guest/build.sh), 2 MiB (the
# device itself is moved 64 MiB by the Debian cases)
case_net_default_guest() {
    NET_GUEST_OS=default net_case net-default-guest 1 default 2
    local rc=$?
    net_ns_cleanup
    return $rc
}

# The Debian guest (init=kvmini-test-init):
# virtio-pci, two queue pairs on a multi_queue tap, two vCPUs: kvmini's data path, vhost-net's
case_net_pci_mq() {
    NET_GUEST_OS=debian net_case net-pci-mq 2 off "$NET_MIB"
    local rc=$?
    net_ns_cleanup
    return $rc
}

case_net_pci_mq_vhost() {
    NET_GUEST_OS=debian net_case net-pci-mq-vhost 2 on "$NET_MIB"
    local rc=$?
    net_ns_cleanup
    return $rc
}

# virtio-mmio, one queue pair: kvmini's data path, vhost-net's (its interrupts relayed by kvmini)
case_net_mmio() {
    NET_GUEST_OS=debian net_case net-mmio 1 off "$NET_MIB" --virtio-transport mmio
    local rc=$?
    net_ns_cleanup
    return $rc
}

case_net_mmio_vhost() {
    NET_GUEST_OS=debian net_case net-mmio-vhost 1 on "$NET_MIB" --virtio-transport mmio
    local rc=$?
    net_ns_cleanup
    return $rc
}

# vsock_py FAMILY listen|connect CID|any|PATH PORT recv|send BYTES OUT: the host's end
# (host_end.py): vsock (AF_VSOCK, vhost-vsock) or hybrid (kvmini's Unix socket PATH)
vsock_py() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/host_end.py" "$2" "$1" "$3" "$4" "$5" "$6" "$7"
}

# vsock_round_trip NAME kernel|hybrid: the guest (CID 7) sends 4 MiB to a host listener and
# receives 4 MiB from a host connection, the SHA-256 compared on both sides (the guest's end:
# tests/nested/vsock-io.c); kernel: through vhost-vsock and AF_VSOCK on the host; hybrid:
# through kvmini's own device and its Unix socket (CONNECT <port>, PATH_<port>)
vsock_round_trip() {
    local name=$1 mode=$2 rc=0 bytes=$((4 << 20)) want got py fam=vsock lis=any con=7 opt=cid=7
    plan $((8 + ${3:-0}))
    if [ ! -x "$BUILD/vsock-io" ]; then
        bad vsock-tool "$BUILD/vsock-io is not built (make $BUILD/vsock-io)"
        return 1
    fi
    VSOCK_TMP=$(mktemp -d /tmp/kvmini-vsock.XXXXXX)
    if [ "$mode" = hybrid ]; then
        fam=hybrid lis=$VSOCK_TMP/v.sock con=$VSOCK_TMP/v.sock opt="cid=7,socket=$VSOCK_TMP/v.sock"
    fi
    mkdir -p "$VSOCK_TMP/ov/bin"
    cp "$BUILD/vsock-io" "$VSOCK_TMP/ov/bin/"
    (cd "$VSOCK_TMP/ov" && echo bin/vsock-io | cpio -o -H newc --quiet | gzip) > "$VSOCK_TMP/ov.cpio.gz"
    cat "$BUILD/guest/initramfs.cpio.gz" "$VSOCK_TMP/ov.cpio.gz" > "$VSOCK_TMP/initrd"
    L2_CMD=("$BUILD/kvmini" run --kernel "$BUILD/guest/bzImage" --initrd "$VSOCK_TMP/initrd"
        --console stdio --vsock "$opt" --exit-stats)
    vm_start "$WORK/$name" "${L2_CMD[@]}" || return 1
    boot_to_shell vsock-boot || return $?
    net_fresh "$VM_DIR/host-recv.txt"
    net_fresh "$VM_DIR/host-sent.txt"
    vsock_py "$fam" listen "$lis" 5000 recv 0 "$VM_DIR/host-recv.txt" & py=$!
    net_listening "$VM_DIR/host-recv.txt" || { host_check vsock-host-listens 1 "no $fam listener after 60 s"; return 1; }
    guest_check vsock-guest-sends "head -c $bytes /dev/urandom > /tmp/v; sha256sum /tmp/v; vsock-io connect 2 5000 < /tmp/v; echo SENT-\$?" '^SENT-0$' || { kill "$py" 2>/dev/null; return 1; }
    net_wait "$py" || rc=1
    want=$(vm_answers | grep -a -m1 ' /tmp/v$' | cut -d' ' -f1)
    got=$(cat "$VM_DIR/host-recv.txt" 2>/dev/null || true)
    [ -n "$want" ] && [ "$got" = "$bytes $want" ] || rc=1
    host_check vsock-guest-to-host-sha256 "$rc" "the host got '$got', the guest sent $bytes bytes with sha256 '$want'" || return $?
    guest_check vsock-guest-listens "(vsock-io listen 5001 < /dev/null > /tmp/r 2> /tmp/listen.err; echo GOT-\$(wc -c < /tmp/r)-\$(sha256sum < /tmp/r | cut -d' ' -f1) > /dev/console) & sleep 1; cat /tmp/listen.err" 'listening on port 5001' || return $?
    rc=0
    vsock_py "$fam" connect "$con" 5001 send "$bytes" "$VM_DIR/host-sent.txt" || rc=1
    host_check vsock-host-sends "$rc" "$fam connect to 7:5001 or send failed" || return $?
    read -r _ want < "$VM_DIR/host-sent.txt"
    rc=0
    # (printed by a background job: it may follow the shell's prompt on its line)
    vm_expect "GOT-$bytes-$want\$" "$CASE_TIMEOUT" || rc=$?
    step vsock-host-to-guest-sha256 "$rc" "the host sent $bytes bytes with sha256 $want; the guest: $(vm_answers | grep -a -m1 '^GOT-')"
}

vsock_end() {
    vm_send 'poweroff' || true
    expect_exit vsock-exit-0 zero
}

case_vsock_kernel() {
    vsock_round_trip vsock kernel || return $?
    vsock_end
}

# hybrid vsock, as above, and then what a host client gets wrong: a port nobody listens on
# in the guest (the socket is closed without an OK), a line that is not CONNECT
case_vsock_hybrid() {
    local out
    vsock_round_trip vsock-hybrid hybrid 3 || return $?
    out=$(hybrid_bad_client "$VSOCK_TMP/v.sock" 'CONNECT 5999\n' 2>&1)
    host_check vsock-hybrid-no-listener-closed $? "CONNECT to a port nobody listens on: $out" || return $?
    out=$(hybrid_bad_client "$VSOCK_TMP/v.sock" 'HELLO 1\n' 2>&1)
    host_check vsock-hybrid-bad-line-closed $? "a line that is not CONNECT: $out" || return $?
    vsock_end || return $?
    # --exit-stats: both 4 MiB, one connection each way, two refused, none left, no driver error
    out=$(grep -a -m1 '^kvmini: vsock (hybrid' "$VM_DIR/err")
    [[ $out == *"(4194304 bytes), "*" from it (4194304 bytes); connections: 1 from the host, 1 from the guest, 2 refused, 0 open; "*" 0 driver errors" ]]
    host_check vsock-hybrid-exit-stats $? "kvmini's line: '$out'"
}

# hybrid_bad_client PATH LINE: writes LINE to kvmini's socket; 0 if kvmini closes it without
# an OK line within 30 s
hybrid_bad_client() {
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
got = b""
while True:
    b = s.recv(64)
    if not b:
        break
    got += b
sys.exit("kvmini answered %r" % got if got else 0)
' "$1" "$2"
}
