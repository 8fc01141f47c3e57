/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the MP table's floating pointer, checksums, and its entries per vCPU count. */
#include <errno.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "firmware/x86/acpi.h"
#include "firmware/x86/layout.h"
#include "firmware/x86/mptable.h"

static uint8_t buf[LAYOUT_MPTABLE_SIZE];

static void check_table(unsigned ncpus)
{
	memset(buf, 0xa5, sizeof(buf));
	long n = mptable__build(ncpus, 0, LAYOUT_LAPIC, LAYOUT_IOAPIC, buf, sizeof(buf), LAYOUT_MPTABLE);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(buf[n], 0xa5);			/* nothing written past the end */
	ck_assert_mem_eq(buf, "_MP_", 4);
	ck_assert_uint_eq(acpi__checksum(buf, 16), 0);
	uint32_t phys;
	memcpy(&phys, buf + 4, 4);
	ck_assert_uint_eq(phys, LAYOUT_MPTABLE + 16);
	const uint8_t *h = buf + 16;
	ck_assert_mem_eq(h, "PCMP", 4);
	uint16_t len, count;
	memcpy(&len, h + 4, 2);
	memcpy(&count, h + 34, 2);
	ck_assert_uint_eq(16 + len, n);
	ck_assert_uint_eq(acpi__checksum(h, len), 0);
	/* walk the entries: ncpus processors (BSP first), one bus, one IOAPIC, 16 + 2 interrupts */
	const uint8_t *e = h + 44;
	unsigned cpus = 0, buses = 0, ioapics = 0, ints = 0, lints = 0;
	for (unsigned i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			ck_assert_uint_eq(e[1], cpus);
			ck_assert_uint_eq(e[3] & 1, 1);
			ck_assert_uint_eq((e[3] >> 1) & 1, cpus == 0);
			cpus++;
			e += 20;
			continue;
		case 1: buses++; ck_assert_mem_eq(e + 2, "ISA", 3); break;
		case 2: ioapics++; ck_assert_uint_eq(e[1], ncpus); break;
		case 3: ck_assert_uint_eq(e[5], e[7]); ck_assert_uint_eq(e[6], ncpus); ints++; break;
		case 4: lints++; break;
		default: ck_abort_msg("bad entry type %u", e[0]);
		}
		e += 8;
	}
	ck_assert_ptr_eq(e, h + len);
	ck_assert_uint_eq(cpus, ncpus);
	ck_assert_uint_eq(buses + ioapics, 2);
	ck_assert_uint_eq(ints, 16);
	ck_assert_uint_eq(lints, 2);
}

START_TEST(mptable_per_cpu_count)
{
	check_table(1);
	check_table(2);
	check_table(64);
	check_table(255);
}
END_TEST

/* with PCI: bus 0 is PCI, ISA moves to bus 1, and every slot's four pins are routed */
START_TEST(mptable_pci_intx)
{
	memset(buf, 0, sizeof(buf));
	long n = mptable__build(2, 3, LAYOUT_LAPIC, LAYOUT_IOAPIC, buf, sizeof(buf), LAYOUT_MPTABLE);
	ck_assert_int_gt(n, 0);
	const uint8_t *h = buf + 16;
	uint16_t len, count;
	memcpy(&len, h + 4, 2);
	memcpy(&count, h + 34, 2);
	ck_assert_uint_eq(acpi__checksum(h, len), 0);
	const uint8_t *e = h + 44 + 2 * 20;
	int isa_id = -1, pci_id = -1;
	unsigned isa_ints = 0, pci_ints = 0, seen[32][4] = { { 0 } };
	for (unsigned i = 2; i < count; i++, e += 8) {
		if (e[0] == 1 && !memcmp(e + 2, "ISA", 3))
			isa_id = e[1];
		if (e[0] == 1 && !memcmp(e + 2, "PCI", 3))
			pci_id = e[1];
		if (e[0] != 3)
			continue;
		if (e[4] == isa_id) {
			isa_ints++;
			ck_assert_uint_eq(e[5], e[7]);
			continue;
		}
		ck_assert_int_eq(e[4], pci_id);
		ck_assert_uint_eq(e[2], 0x0f);			/* level, active low */
		unsigned slot = e[5] >> 2, pin = e[5] & 3;
		ck_assert_uint_ge(slot, 1);
		ck_assert_uint_le(slot, 3);
		ck_assert_uint_eq(e[7], layout__pci_intx_gsi(slot, pin));
		ck_assert_uint_ge(e[7], 16);
		ck_assert_uint_le(e[7], 23);
		seen[slot][pin]++;
		pci_ints++;
	}
	ck_assert_int_eq(pci_id, 0);
	ck_assert_int_eq(isa_id, 1);
	ck_assert_uint_eq(isa_ints, 16);
	ck_assert_uint_eq(pci_ints, 12);
	for (unsigned s = 1; s <= 3; s++)
		for (unsigned p = 0; p < 4; p++)
			ck_assert_uint_eq(seen[s][p], 1);
	ck_assert_int_eq(mptable__build(2, 32, 0, 0, buf, sizeof(buf), 0), -EINVAL);
}
END_TEST

START_TEST(mptable_errors)
{
	ck_assert_int_eq(mptable__build(0, 0, 0, 0, buf, sizeof(buf), 0), -EINVAL);
	ck_assert_int_eq(mptable__build(256, 0, 0, 0, buf, sizeof(buf), 0), -EINVAL);
	long need = mptable__build(4, 0, 0, 0, buf, sizeof(buf), 0);
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(mptable__build(4, 0, 0, 0, buf, (size_t)need - 1, 0), -ENOSPC);
	ck_assert_uint_eq(buf[0], 0x5a);
}
END_TEST

Suite *mptable_suite(void)
{
	Suite *s = suite_create("mptable");
	TCase *tc = tcase_create("build");
	tcase_add_test(tc, mptable_per_cpu_count);
	tcase_add_test(tc, mptable_errors);
	tcase_add_test(tc, mptable_pci_intx);
	suite_add_tcase(s, tc);
	return s;
}
