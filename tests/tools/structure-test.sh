#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make check's structure part: the include graph obeys docs/architecture.md's layer order, with
# no exception, x86-only code lives in x86/ files, no production function is over 80 lines,
# and the source map of
# docs/architecture.md names every module; the checkers themselves find a
# function too long, a cycle,
# an include that reaches up, a file in no room and a stale baseline line in small fixture trees.
# Usage: tests/tools/structure-test.sh       (prints "structure: N passed, N failed")
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
chk="$here/layers.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME STATUS NEEDLE -- ARGS...: layers.py exits STATUS and prints NEEDLE
expect() {
    local name=$1 want=$2 needle=$3 rc
    shift 4
    python3 "${tool:-$chk}" "$@" > "$tmp/out" 2>&1
    rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$needle" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL structure-$name: status $rc (want $want), want '$needle' in:"
        sed 's/^/    /' "$tmp/out"
    fi
}

# fixture ROOT: a tree with rooms low < high; a.c (low) and b.c (high)
fixture() {
    local r=$1
    mkdir -p "$r/docs" "$r/vmm" "$r/devices"
    printf '# t\n\n```layers\nlow: devices/\nhigh: vmm/\n```\n' > "$r/docs/architecture.md"
    printf '#include "devices/a.h"\n' > "$r/devices/a.c"
    : > "$r/devices/a.h"
    printf '#include "devices/a.h"\n#include "vmm/b.h"\n' > "$r/vmm/b.c"
    : > "$r/vmm/b.h"
}
fixture "$tmp/clean"
expect clean 0 "0 violation(s)" -- --root "$tmp/clean" --strict
fixture "$tmp/up"
printf '#include "vmm/b.h"\n' >> "$tmp/up/devices/a.c"
expect up 1 "up: devices/a -> vmm/b (low reaches high)" -- --root "$tmp/up" --strict
fixture "$tmp/cycle"
mkdir -p "$tmp/cycle/vmm"
printf '#include "vmm/c.h"\n' >> "$tmp/cycle/vmm/b.c"
printf '#include "vmm/b.h"\n' > "$tmp/cycle/vmm/c.c"
: > "$tmp/cycle/vmm/c.h"
expect cycle 1 "cycle: vmm/c -> vmm/b" -- --root "$tmp/cycle" --strict
# a baseline tolerates exactly its lines; one that no longer applies must go
printf 'cycle: vmm/b -> vmm/c\ncycle: vmm/c -> vmm/b\n' > "$tmp/base"
expect baseline 0 "2 tolerated by the baseline, 0 new or stale" -- --root "$tmp/cycle" --baseline "$tmp/base"
printf 'cycle: vmm/b -> vmm/c\ncycle: vmm/c -> vmm/b\nup: vmm/x -> vmm/y\n' > "$tmp/base2"
expect stale 1 "fixed, remove it from $tmp/base2: up: vmm/x -> vmm/y" -- --root "$tmp/cycle" --baseline "$tmp/base2"
printf 'cycle: vmm/b -> vmm/c\n' > "$tmp/base3"
expect new 1 "layers: cycle: vmm/c -> vmm/b" -- --root "$tmp/cycle" --baseline "$tmp/base3"
fixture "$tmp/noroom"
mkdir -p "$tmp/noroom/virtio"
: > "$tmp/noroom/virtio/q.c"
expect no-room 1 "virtio/q is in no room" -- --root "$tmp/noroom" --strict
mkdir -p "$tmp/noblock/docs"
: > "$tmp/noblock/docs/architecture.md"
expect no-block 1 "no \`\`\`layers block" -- --root "$tmp/noblock"

# a door: the run loop (vmm/b here) reaches the low room only through devices/a
fixture "$tmp/door"
printf 'door devices/a: vmm/b\n' >> "$tmp/door/docs/architecture.md"
sed -i 's/^```$//' "$tmp/door/docs/architecture.md"; printf '```\n' >> "$tmp/door/docs/architecture.md"
expect door-kept 0 "0 violation(s)" -- --root "$tmp/door" --strict
printf '#include "devices/c.h"\n' >> "$tmp/door/vmm/b.c"
: > "$tmp/door/devices/c.h"
expect door-passed 1 "door: vmm/b -> devices/c (low is reached through devices/a)" -- --root "$tmp/door" --strict

# the tree itself, against the order in docs/architecture.md: no violation at all
expect tree 0 "0 violation(s)" -- --root "$top" --strict

# function length: a fixture with an 80-line and an 81-line function (and a long initialiser,
# which is not a function)
mkdir -p "$tmp/long/vmm"
{ echo 'static const int table[] = {'; for i in $(seq 100); do echo "	$i,"; done; echo '};'
  echo 'int short_one(void)'; echo '{'; for i in $(seq 76); do echo '	(void)0;'; done; echo '	return 0;'; echo '}'
  echo 'static int'; echo 'long_one(int a,'; echo '	 int b)'; echo '{'; for i in $(seq 76); do echo '	(void)0;'; done
  echo '	return a + b;'; echo '}'; } > "$tmp/long/vmm/x.c"
tool="$here/funclen.py" expect funclen-long 1 "long_one is 81 lines (at most 80)" -- --root "$tmp/long"
tool="$here/funclen.py" expect funclen-short 0 "2 functions, the longest 81 lines, 0 over 81" -- --root "$tmp/long" --max 81

# x86-only names only in x86/ files: a generic file using one fails, an x86 file may, and a
# comment or string naming one is not code
mkdir -p "$tmp/arch/vmm/x86"
printf '/* KVM_GET_SREGS in a comment */\nconst char *s = "e820";\n' > "$tmp/arch/vmm/a.c"
printf 'int f(int fd) { struct kvm_sregs s; return ioctl(fd, KVM_GET_SREGS, &s); }\n' > "$tmp/arch/vmm/x86/b.c"
tool="$here/archcheck.py" expect arch-clean 0 "0 x86-only name(s)" -- --root "$tmp/arch"
printf '#include "vmm/x86/cpu.h"\nint g(int fd) { return ioctl(fd, KVM_GET_SREGS, 0); }\n' >> "$tmp/arch/vmm/a.c"
tool="$here/archcheck.py" expect arch-generic 1 "vmm/a.c:4: x86-only name in generic code: KVM_GET_SREGS" -- --root "$tmp/arch"
tool="$here/archcheck.py" expect arch-include 1 "vmm/a.c:3: includes an x86 file" -- --root "$tmp/arch"
# the tree itself: x86 lives in x86 files
tool="$here/archcheck.py" expect arch-tree 0 "0 x86-only name(s)" -- --root "$top"

# the tree itself: no production function over 80 lines
tool="$here/funclen.py" expect funclen-tree 0 "0 over 80" -- --root "$top"

# the source map of docs/architecture.md names every module (a .c and its .h) of the tree
missing=$(cd "$top" && for f in $(find vmm devices virtio firmware -name '*.[ch]' | sort); do
    m=$(basename "${f%.*}")
    grep -qE "\`([a-z0-9_/]*/)?$m\.[ch]\`" docs/architecture.md || echo "$f"
done | sort -u)
if [ -z "$missing" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL structure-source-map: docs/architecture.md names no \`FILE.c\` or \`FILE.h\` for: $(echo $missing)"; fi

echo "structure: $pass passed, $fail failed"
[ "$fail" = 0 ]
