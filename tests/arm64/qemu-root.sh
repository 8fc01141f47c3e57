#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Debian's arm64 qemu-system-aarch64 and the libraries it loads, unpacked into a small tree for the arm64 L1 (QEMU with KVM inside it, the baseline for kvmini).
#
# Usage: tests/arm64/qemu-root.sh BUILD
#   Downloads qemu-system-arm:arm64 and the recursive closure of its Depends (not Recommends or
#   Suggests) once into BUILD/arm64/qemu-dl, unpacks them into BUILD/arm64/qemu-root and keeps
#   only what `qemu-system-aarch64 -M virt -accel kvm -nographic -nic none -kernel ... -initrd
#   ... -drive ...` needs: the binary, the shared libraries it loads (DT_NEEDED, checked with
#   readelf) and the dynamic loader lib/ld-linux-aarch64.so.1. Skipped packages:
#   qemu-system-common (display/audio/USB modules, the bridge helper) and qemu-system-data
#   (keymaps, used only with a display or VNC; its ROMs are links into ipxe-qemu, a Recommends:
#   hence -nic none, or -M virt's default NIC asks for efi-virtio.rom) with what only they
#   pull in, and packages of maintainer-script tools (adduser, debconf, passwd...).
#   Run it through the tree's loader, which needs nothing at / (what the L1 does, Q being the tree):
#     Q/lib/ld-linux-aarch64.so.1 --library-path Q/lib/aarch64-linux-gnu:Q/usr/lib/aarch64-linux-gnu Q/usr/bin/qemu-system-aarch64
#   Where qemu-aarch64-static is installed the script runs `--version` so, and fails if a
#   library came from outside the tree.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD" >&2; exit 2; }
build=$(mkdir -p "$1" && cd "$1" && pwd)
dl=$build/arm64/qemu-dl root=$build/arm64/qemu-root
log() { echo "qemu-root: $*" >&2; }
skip='^(qemu-system-common|qemu-system-data|adduser|debconf|debconf-2.0|passwd)$'

if [ ! -f "$dl/.done" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        log "dpkg --add-architecture arm64; apt-get update"
        dpkg --add-architecture arm64 && apt-get update -q > /dev/null
    fi
    # the closure: each Depends/Pre-Depends group's first alternative, arm64 (a package that is
    # Multi-Arch: foreign, like gcc-12-base, is asked for as :arm64 too: fine for apt-get download)
    declare -A seen=()
    queue=(qemu-system-arm)
    pkgs=()
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [ -n "${seen[$p]:-}" ] && continue
        seen[$p]=1
        [[ $p =~ $skip ]] && { log "skipping $p"; continue; }
        info=$(apt-cache show --no-all-versions "$p:arm64" 2>/dev/null) ||
            { log "no arm64 package $p (apt-get update?)"; exit 2; }
        pkgs+=("$p")
        for d in $(printf '%s\n' "$info" | sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' | tr ',' '\n' |
                   sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g'); do
            queue+=("$d")
        done
    done
    rm -rf "$dl"
    mkdir -p "$dl"
    log "apt-get download ${#pkgs[@]} packages: ${pkgs[*]}"
    (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]/%/:arm64}" > /dev/null) ||
        { log "apt-get download failed"; exit 2; }
    touch "$dl/.done"
fi

rm -rf "$root"
mkdir -p "$root"
for d in "$dl"/*.deb; do dpkg -x "$d" "$root"; done
# Debian 12 is merged-/usr at install time only: the packages put the loader in /lib and most
# libraries in /usr/lib or /lib; keep both, drop everything but the one binary and the libraries
(cd "$root" && rm -rf usr/share etc var sbin usr/sbin bin usr/libexec usr/lib/aarch64-linux-gnu/gconv \
    usr/lib/aarch64-linux-gnu/audit)
find "$root/usr/bin" -mindepth 1 ! -name qemu-system-aarch64 -delete

# the DT_NEEDED closure of the binary: every library must be there; libraries outside it go
declare -A need=()
todo=("$root/usr/bin/qemu-system-aarch64")
libdirs=("$root/lib/aarch64-linux-gnu" "$root/usr/lib/aarch64-linux-gnu" "$root/lib")
while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]}
    todo=("${todo[@]:1}")
    for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -n "${need[$n]:-}" ] && continue
        path=""
        for ld in "${libdirs[@]}"; do [ -e "$ld/$n" ] && { path=$ld/$n; break; }; done
        [ -n "$path" ] || { log "missing $n (needed by ${f#$root/})"; exit 1; }
        need[$n]=$path
        todo+=("$path")
    done
done
interp=$(readelf -l "$root/usr/bin/qemu-system-aarch64" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
[ -e "$root$interp" ] || { log "missing the loader $interp"; exit 1; }
need[$(basename "$interp")]=$root$interp
# drop every other shared object (and links to them), with what is left of their directories
while IFS= read -r -d '' f; do
    b=$(basename "$f")
    [ -n "${need[$b]:-}" ] && continue
    # a link name the closure uses points at a versioned file: keep its target
    keep=0
    for k in "${!need[@]}"; do
        [ "$(readlink -f "${need[$k]}")" = "$(readlink -f "$f")" ] && { keep=1; break; }
    done
    [ "$keep" = 1 ] || rm -f "$f"
done < <(find "$root/lib" "$root/usr/lib" \( -type f -o -type l \) -print0)
find "$root" -depth -type d -empty -delete
[ -e "$root$interp" ] || { log "lost the loader"; exit 1; }
if command -v qemu-aarch64-static > /dev/null; then
    libs=$root/lib/aarch64-linux-gnu:$root/usr/lib/aarch64-linux-gnu
    out=$(cd / && qemu-aarch64-static -E LD_DEBUG=libs "$root$interp" --inhibit-cache --library-path "$libs" \
        "$root/usr/bin/qemu-system-aarch64" --version 2>&1) || { log "--version failed: $out"; exit 1; }
    outside=$(printf '%s\n' "$out" | sed -n 's/.*calling init: //p' | grep -v "^$root/" || true)
    [ -z "$outside" ] || { log "libraries loaded from outside the tree: $outside"; exit 1; }
    log "$(printf '%s\n' "$out" | grep -m1 '^QEMU emulator version') (qemu-aarch64-static, every library from the tree)"
fi
log "$(du -sh "$root" | cut -f1) in $root: usr/bin/qemu-system-aarch64 and ${#need[@]} libraries (with the loader)"
