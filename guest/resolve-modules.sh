#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Prints, in load order, the .ko paths (relative to MODDIR) needed to load the named modules.
#
# Usage: guest/resolve-modules.sh [--install ROOT] MODDIR NAME...
#   --install ROOT: instead of printing, copy them to ROOT/lib/modules/<path> and list them, in
#   load order, in ROOT/etc/modules.load (what the guest's and L1's init scripts insmod).
#   MODDIR is an unpacked lib/modules/<version> directory. Debian's kernel packages ship no
#   modules.dep (depmod runs at install time), so dependencies are read from each module's own
#   .modinfo "depends=" field, which is exactly what depmod turns into modules.dep; if a
#   modules.dep is present it is used instead. "softdep=pre:" names are not followed: list such
#   modules (crc32c_generic for ext4) explicitly. Names may use '-' or '_'. A name that is
#   built into the kernel (modules.builtin) is skipped with a note on stderr; an unknown name
#   is an error.
set -euo pipefail

install_root=""
if [ "${1:-}" = --install ]; then
    install_root=${2:?--install needs a directory}
    shift 2
fi
if [ $# -lt 2 ]; then
    echo "usage: $0 [--install ROOT] MODDIR NAME..." >&2
    exit 2
fi
moddir=$1
shift

declare -A path_of=() seen=() builtin=() deps_of=()
norm() { local n=${1//-/_}; printf '%s' "${n%%.ko*}"; }

while IFS= read -r p; do
    b=${p##*/}
    path_of[$(norm "$b")]=$p
done < <(cd "$moddir" && find kernel -name '*.ko' | sort)

if [ -f "$moddir/modules.builtin" ]; then
    while IFS= read -r p; do
        b=${p##*/}
        builtin[$(norm "$b")]=1
    done < "$moddir/modules.builtin"
fi

if [ -s "$moddir/modules.dep" ]; then
    while IFS= read -r line; do
        m=${line%%:*}
        rest=${line#*:}
        d=""
        for x in $rest; do d+="$(norm "${x##*/}") "; done
        deps_of[$(norm "${m##*/}")]=$d
    done < "$moddir/modules.dep"
fi

deps() {
    local n=$1
    if [ -z "${deps_of[$n]+x}" ]; then
        local line
        line=$(tr '\0' '\n' < "$moddir/${path_of[$n]}" | grep -a -m1 '^depends=' || true)
        line=${line#depends=}
        deps_of[$n]=${line//,/ }
    fi
    printf '%s' "${deps_of[$n]}"
}

visit() {
    local n d
    n=$(norm "$1")
    [ -z "${seen[$n]+x}" ] || return 0
    seen[$n]=1
    if [ -z "${path_of[$n]+x}" ]; then
        if [ -n "${builtin[$n]+x}" ]; then
            echo "resolve-modules: $n is built into the kernel" >&2
            return 0
        fi
        echo "resolve-modules: error: no module $n in $moddir" >&2
        exit 1
    fi
    for d in $(deps "$n"); do visit "$d"; done
    printf '%s\n' "${path_of[$n]}"
}

if [ -z "$install_root" ]; then
    for name in "$@"; do visit "$name"; done
    exit 0
fi
order=$(for name in "$@"; do visit "$name"; done)
mkdir -p "$install_root/etc"
: > "$install_root/etc/modules.load"
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    mkdir -p "$install_root/lib/modules/$(dirname "$rel")"
    cp "$moddir/$rel" "$install_root/lib/modules/$rel"
    echo "$rel" >> "$install_root/etc/modules.load"
done <<< "$order"
