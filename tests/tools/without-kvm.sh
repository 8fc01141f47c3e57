#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command as on a machine without /dev/kvm (root): in a private mount namespace whose
# /dev is a tmpfs copy of this one minus the kvm node, with loop0..63, a fresh devpts and shm.
# What the host's kernel offers is unchanged; only the device node is gone, so kvmini and
# make check see the "none" situation of our CI machines.
#   tests/tools/without-kvm.sh env CI=true bash .ci/run      (how make check was tried so)
set -euo pipefail
if [ "${1:-}" != --inside ]; then
    [ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
    [ "$(id -u)" = 0 ] || { echo "without-kvm: needs root (mount namespaces, mknod)" >&2; exit 2; }
    exec unshare -m --propagation private "$0" --inside "$@"
fi
shift
d=$(mktemp -d /tmp/kvmini-nokvm-dev.XXXXXX)
mount -t tmpfs -o mode=755 tmpfs "$d"
for f in /dev/*; do
    case ${f#/dev/} in kvm|pts|shm|ptmx) ;; *) cp -a "$f" "$d/" ;; esac
done
for i in $(seq 0 63); do [ -e "$d/loop$i" ] || mknod "$d/loop$i" b 7 "$i"; done
mkdir -p "$d/pts" "$d/shm"
mount --move "$d" /dev
rmdir "$d"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs tmpfs /dev/shm
exec "$@"
