#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks kvmini's ACPI tables with ACPICA's iasl: decode, recompile, and compare, for a few configs.
#
# usage: tests/acpi-iasl.sh BUILD   (needs BUILD/acpi-dump; works in BUILD/acpi-iasl, kept for
# inspection). Prints "acpi-iasl: N passed, M failed" and exits non-zero if anything failed.
set -u

BUILD=${1:?usage: acpi-iasl.sh BUILD}
DUMP=$BUILD/acpi-dump
WORK=$BUILD/acpi-iasl
CONFIGS=("1 0" "4 3" "255 32" "2 0 pci" "4 3 pci")   # NCPUS NVIRTIO [pci]
# acpi-dump's standard config (layout.h): virtio device i at 0xd0000000 + i * 0x1000, GSI 5 + i
VIRTIO_BASE=$((0xd0000000)) VIRTIO_STRIDE=$((0x1000)) VIRTIO_GSI=5
IMAGE_GPA=$((0xe0000))   # LAYOUT_ACPI: where acpi-dump's image.dat sits in the guest
BAD_WORDS='error|warning|incorrect|invalid|should be|unknown|unsupported'

pass=0 fail=0

command -v iasl >/dev/null || { echo "acpi-iasl: iasl not found (apt-get install acpica-tools)" >&2; exit 1; }
[ -x "$DUMP" ] || { echo "acpi-iasl: $DUMP not built" >&2; exit 1; }

# check NAME CMD...: runs one check and counts it
check() {
	local name=$1; shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "acpi-iasl: FAIL: $name" >&2
	fi
}

# The bytes of a file as two-digit hex words in B[].
read_bytes() {
	read -ra B <<<"$(od -An -v -tx1 "$1" | tr -s ' \n' '  ')"
}

# le OFFSET COUNT: the little-endian number at B[OFFSET..], as upper-case hex digits
le() {
	local s="" i
	for ((i = $1 + $2 - 1; i >= $1; i--)); do s+=${B[i]}; done
	echo "${s^^}"
}

sums_to_zero() {   # FILE [COUNT]: the first COUNT bytes (default all) add up to 0 mod 256
	od -An -v -tu1 ${2:+-N "$2"} "$1" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { exit s % 256 }'
}

# An SDT: length field = file size, bytes sum to zero, iasl decodes it with no complaint.
sdt_ok() {
	local f=$1 dir base log
	dir=$(dirname "$f") base=$(basename "$f" .dat)
	read_bytes "$f"
	[ $((16#$(le 4 4))) -eq "$(stat -c %s "$f")" ] || { echo "  $f: length field != size" >&2; return 1; }
	sums_to_zero "$f" || { echo "  $f: bad checksum" >&2; return 1; }
	log=$dir/$base.disasm.log
	(cd "$dir" && iasl -d "$base.dat") >"$log" 2>&1 || { cat "$log" >&2; return 1; }
	! grep -Eiq "$BAD_WORDS" "$log" "$dir/$base.dsl" || { grep -Eih "$BAD_WORDS" "$log" "$dir/$base.dsl" >&2; return 1; }
}

# A data table: iasl recompiles its own disassembly into the same bytes (but the checksum and
# the compiler id/revision at 9 and 28..35, which iasl sets to its own).
data_roundtrip_ok() {
	local dir=$1 t=$2 log=$1/$2.recompile.log
	iasl -p "$dir/rt-$t" "$dir/$t.dsl" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
	[ "$(stat -c %s "$dir/$t.dat")" -eq "$(stat -c %s "$dir/rt-$t.aml")" ] ||
		{ echo "  $t: recompiled size differs" >&2; return 1; }
	cmp -l "$dir/$t.dat" "$dir/rt-$t.aml" 2>&1 | awk '$1 != 10 && ($1 < 29 || $1 > 36) { bad = 1; print "  '"$t"' differs: " $0 } END { exit bad }' >&2
}

# The RSDP (iasl -d cannot load one from a file): our own field checks, then iasl compiles an
# RSDP source with our field values and must produce exactly our bytes, checksums included.
rsdp_ok() {
	local dir=$1 f=$1/rsdp.dat oem="" i
	read_bytes "$f"
	[ "$(head -c 8 "$f")" = "RSD PTR " ] || { echo "  rsdp: bad signature" >&2; return 1; }
	[ "$(stat -c %s "$f")" -eq 36 ] && [ "${B[15]}" = 02 ] && [ "$(le 20 4)" = 00000024 ] ||
		{ echo "  rsdp: bad revision or length" >&2; return 1; }
	sums_to_zero "$f" 20 && sums_to_zero "$f" || { echo "  rsdp: bad checksum" >&2; return 1; }
	for ((i = 9; i < 15; i++)); do oem+=$(printf '%b' "\\x${B[i]}"); done
	cat >"$dir/rsdp.asl" <<-EOF
		[0008]                          Signature : "RSD PTR "
		[0001]                           Checksum : 00
		[0006]                             Oem ID : "$oem"
		[0001]                           Revision : ${B[15]}
		[0004]                       RSDT Address : $(le 16 4)
		[0004]                             Length : $(le 20 4)
		[0008]                       XSDT Address : $(le 24 8)
		[0001]                  Extended Checksum : 00
		[0003]                           Reserved : $(le 33 3)
	EOF
	iasl -p "$dir/rt-rsdp" "$dir/rsdp.asl" >"$dir/rsdp.compile.log" 2>&1 || { cat "$dir/rsdp.compile.log" >&2; return 1; }
	cmp "$f" "$dir/rt-rsdp.aml" >&2
}

# at_gpa DIR GPA_HEX TABLE: the image holds exactly TABLE.dat at guest address GPA
at_gpa() {
	local img=$1/image.dat off=$((16#$2 - IMAGE_GPA)) f=$1/$3.dat
	[ "$off" -ge 0 ] && tail -c +$((off + 1)) "$img" | head -c "$(stat -c %s "$f")" | cmp -s - "$f" ||
		{ echo "  0x$2 is not where $3 is" >&2; return 1; }
}

# Every pointer leads to the right table: RSDP -> XSDT -> {FADT, MADT[, MCFG]}, FADT -> DSDT.
pointers_ok() {
	local dir=$1 pci=$2
	read_bytes "$dir/rsdp.dat"
	at_gpa "$dir" "$(le 24 8)" xsdt || return 1
	read_bytes "$dir/xsdt.dat"
	if [ -n "$pci" ]; then
		[ "${#B[@]}" -eq 60 ] && at_gpa "$dir" "$(le 52 8)" mcfg ||
			{ echo "  xsdt: not three entries ending in the MCFG" >&2; return 1; }
	else
		[ "${#B[@]}" -eq 52 ] || { echo "  xsdt: not two entries" >&2; return 1; }
	fi
	at_gpa "$dir" "$(le 36 8)" facp && at_gpa "$dir" "$(le 44 8)" apic || return 1
	read_bytes "$dir/facp.dat"
	at_gpa "$dir" "$(le 140 8)" dsdt && at_gpa "$dir" "$(le 40 4)" dsdt
}

facp_content_ok() {
	local d=$1/facp.dsl pci=$2
	# MSI is declared unsupported exactly when there is no PCI (virtio-pci needs MSI-X)
	if [ -n "$pci" ]; then
		grep -Eq 'MSI Not Supported \(V4\) : 0' "$d"
	else
		grep -Eq 'MSI Not Supported \(V4\) : 1' "$d"
	fi || { echo "  facp: MSI-disabled flag wrong for pci='$pci'" >&2; return 1; }
	grep -q 'Revision : 06' "$d" && grep -q 'Table Length : 00000114' "$d" &&
	grep -Eq 'Hardware Reduced \(V5\) : 1' "$d" && grep -Eq 'Reset Register Supported \(V2\) : 1' "$d" &&
	grep -A5 'Sleep Control Register' "$d" | grep -q 'Address : 0000000000000600' &&
	grep -A5 'Sleep Status Register' "$d" | grep -q 'Address : 0000000000000601' &&
	grep -A5 'Reset Register :' "$d" | grep -q 'Address : 0000000000000064' &&
	grep -q 'Value to cause reset : FE' "$d" && grep -Eq '8042 Present on ports 60/64 \(V2\) : 1' "$d" ||
	{ echo "  facp: unexpected field values" >&2; return 1; }
}

apic_content_ok() {   # NCPUS local APICs with IDs 0..NCPUS-1, one IOAPIC, no overrides
	local d=$1/apic.dsl n=$2 ids want i
	[ "$(grep -c '\[Processor Local APIC\]' "$d")" -eq "$n" ] || { echo "  apic: wrong CPU count" >&2; return 1; }
	ids=$(grep 'Local Apic ID :' "$d" | awk '{ printf "%s ", $NF }')
	want=$(for ((i = 0; i < n; i++)); do printf '%02X ' "$i"; done)
	[ "$ids" = "$want" ] || { echo "  apic: APIC IDs $ids" >&2; return 1; }
	[ "$(grep -c '\[I/O APIC\]' "$d")" -eq 1 ] && ! grep -q 'Interrupt Source Override' "$d"
}

# The DSDT recompiles (warnings are fine, errors are not) and says what we meant.
dsdt_ok() {
	local dir=$1 n=$2 d=$1/dsdt.dsl i log=$1/dsdt.recompile.log
	iasl -p "$dir/rt-dsdt" "$d" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
	grep -q 'Compilation successful' "$log" || { cat "$log" >&2; return 1; }
	grep -q 'Name (\\_S5, Package (0x04)' "$d" && grep -A3 'Name (\\_S5' "$d" | grep -q '0x05,' ||
		{ echo "  dsdt: no _S5_ (5, ...)" >&2; return 1; }
	grep -q 'EisaId ("PNP0501")' "$d" && grep -q '0x03F8,             // Range Minimum' "$d" &&
	grep -A1 'IRQNoFlags' "$d" | grep -q '{4}' || { echo "  dsdt: COM1 missing" >&2; return 1; }
	grep -q '"QEMU0001"' "$d" && grep -q '0x0505,             // Range Minimum' "$d" ||
		{ echo "  dsdt: pvpanic missing" >&2; return 1; }
	[ "$(grep -c '"LNRO0005"' "$d")" -eq "$n" ] || { echo "  dsdt: wrong LNRO0005 count" >&2; return 1; }
	# the virtio devices' and the GED's
	[ "$(grep -c 'Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive' "$d")" -eq $((n + 1)) ] ||
		{ echo "  dsdt: wrong Interrupt() count" >&2; return 1; }
	grep -q 'EisaId ("PNP0303")' "$d" && grep -q '0x0060,             // Range Minimum' "$d" &&
	grep -q '0x0064,             // Range Minimum' "$d" && grep -A1 'IRQNoFlags' "$d" | grep -q '{1}' ||
		{ echo "  dsdt: the i8042 keyboard (PNP0303) missing" >&2; return 1; }
	grep -q 'EisaId ("PNP0C0C")' "$d" && grep -q '"ACPI0013"' "$d" &&
	grep -A4 'Interrupt (ResourceConsumer, Edge' "$d" | grep -q '0x0000000F,' &&
	grep -A2 'Method (_EVT, 1' "$d" | grep -q 'Notify (\\_SB.PWRB, 0x80)' ||
		{ echo "  dsdt: the power button (PNP0C0C) and its GED missing or wrong" >&2; return 1; }
	for ((i = 0; i < n; i++)); do
		grep -q "$(printf 'Device (VR%02X)' "$i")" "$d" &&
		grep -A1 'Memory32Fixed (ReadWrite,' "$d" |
			grep -q "$(printf '0x%08X,         // Address Base' $((VIRTIO_BASE + i * VIRTIO_STRIDE)))" &&
		grep -q "$(printf '0x%08X,$' $((VIRTIO_GSI + i)))" "$d" ||
		{ echo "  dsdt: virtio device $i missing or wrong" >&2; return 1; }
	done
}

# MCFG: one allocation, ECAM at 0xe0000000 (layout.h), segment 0, buses 0..0
mcfg_content_ok() {
	local d=$1/mcfg.dsl
	grep -q 'Base Address : 00000000E0000000' "$d" && grep -q 'Segment Group Number : 0000' "$d" &&
	grep -q 'Start Bus Number : 00' "$d" && grep -q 'End Bus Number : 00' "$d" &&
	[ "$(grep -c 'Base Address :' "$d")" -eq 1 ] || { echo "  mcfg: unexpected fields" >&2; return 1; }
}

# _PRT (acpi-dump gives 2 slots): 8 entries { slot << 16 | 0xFFFF, pin, 0, GSI 16 + (slot + pin) % 8 }
dsdt_prt_ok() {
	python3 - "$1" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"Name \(_PRT, Package \(0x08\)[^\n]*\s*\{(.*?)\n\s*\}\)", s, re.S)
assert m, "no _PRT with 8 entries"
ents = re.findall(r"Package \(0x04\)\s*\{\s*([^}]*)\}", m.group(1))
assert len(ents) == 8, ents
def num(t):
    t = t.strip().split("//")[0].strip().rstrip(",")
    return {"Zero": 0, "One": 1}.get(t, None) if not t.startswith("0x") else int(t, 16)
got = set()
for e in ents:
    v = [num(x) for x in e.strip().splitlines() if x.strip()]
    assert len(v) == 4 and v[0] & 0xffff == 0xffff and v[2] == 0, v
    slot, pin, gsi = v[0] >> 16, v[1], v[3]
    assert gsi == 16 + (slot + pin) % 8, v
    got.add((slot, pin))
assert got == {(s, p) for s in (1, 2) for p in range(4)}, got
PY
}

# The PCI root bridge: PNP0A08/PNP0A03, _SEG/_BBN 0, bus 0..0, the CF8 ports, an I/O window
# and the 32-bit BAR window 0xc0000000..0xcfffffff; the ECAM as a PNP0C02 motherboard resource.
dsdt_pci_ok() {
	local d=$1/dsdt.dsl
	grep -q 'Device (PCI0)' "$d" && grep -q 'EisaId ("PNP0A08")' "$d" &&
	grep -A1 'Name (_CID' "$d" | grep -q 'EisaId ("PNP0A03")' &&
	grep -q 'Name (_SEG, Zero)' "$d" && grep -q 'Name (_BBN, Zero)' "$d" &&
	grep -A5 'WordBusNumber (ResourceProducer' "$d" | grep -q '0x0000,             // Range Maximum' &&
	grep -q '0x0CF8,             // Range Minimum' "$d" &&
	grep -A6 'WordIO (ResourceProducer' "$d" | grep -q '0xFFFF,             // Range Maximum' &&
	grep -A6 'DWordMemory (ResourceProducer' "$d" | grep -q '0xC0000000,         // Range Minimum' &&
	grep -A6 'DWordMemory (ResourceProducer' "$d" | grep -q '0xCFFFFFFF,         // Range Maximum' &&
	grep -q 'EisaId ("PNP0C02")' "$d" &&
	grep -A2 'Memory32Fixed (ReadOnly' "$d" | grep -q '0xE0000000,         // Address Base' &&
	dsdt_prt_ok "$d" ||
	{ echo "  dsdt: PCI root bridge missing or wrong" >&2; grep -A30 'Device (PCI0)' "$d" >&2; return 1; }
}

rm -rf "$WORK"
for cfg in "${CONFIGS[@]}"; do
	read -r ncpus nvirtio pci <<<"$cfg"
	dir=$WORK/cpus$ncpus-virtio$nvirtio${pci:+-$pci}
	mkdir -p "$dir"
	if ! "$DUMP" "$dir" "$ncpus" "$nvirtio" $pci; then
		check "acpi-dump $cfg" false
		continue
	fi
	check "$dir: RSDP" rsdp_ok "$dir"
	for t in xsdt facp apic dsdt; do
		check "$dir: $t decodes cleanly" sdt_ok "$dir/$t.dat"
	done
	for t in xsdt facp apic; do
		check "$dir: $t recompiles to the same bytes" data_roundtrip_ok "$dir" "$t"
	done
	check "$dir: RSDP, XSDT and FADT point at the tables" pointers_ok "$dir" "$pci"
	check "$dir: FADT fields" facp_content_ok "$dir" "$pci"
	if [ -n "$pci" ]; then
		check "$dir: mcfg decodes cleanly" sdt_ok "$dir/mcfg.dat"
		check "$dir: mcfg recompiles to the same bytes" data_roundtrip_ok "$dir" mcfg
		check "$dir: MCFG fields" mcfg_content_ok "$dir"
		check "$dir: DSDT has the PCI root bridge" dsdt_pci_ok "$dir"
	fi
	check "$dir: MADT entries" apic_content_ok "$dir" "$ncpus"
	check "$dir: DSDT recompiles and has the devices" dsdt_ok "$dir" "$nvirtio"
done

echo "acpi-iasl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
