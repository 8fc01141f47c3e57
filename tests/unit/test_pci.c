/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: PCI config space (CF8/CFC, ECAM), BAR sizing, capabilities, MSI-X, GSI routes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "firmware/x86/layout.h"
#include "vmm/irq_routes.h"

static struct pci_host h;
static struct pci_dev d;
static int written;

static void cfg_written(void *priv, struct pci_dev *dev, uint32_t off, uint32_t len)
{
	(void)priv; (void)dev; (void)off; (void)len;
	written++;
}

static const struct pci_dev_ops test_ops = { .name = "test", .config_written = cfg_written };

static void setup(void)
{
	pci_host__init(&h, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);
	pci_dev__init(&d, 0x1af4, 0x1042, 0x018000, 1, 0x1af4, 0x40, &test_ops, NULL);
	ck_assert_int_eq(pci_dev__add_bar(&d, 0, 0x8000, true), 0);
	uint16_t c = pci_dev__add_cap(&d, 0x09, 16);
	ck_assert_uint_eq(c, 0x40);
	ck_assert_uint_eq(pci_dev__add_cap(&d, 0x11, 12), 0x50);
	ck_assert_int_eq(pci_host__add(&h, &d), 1);
	written = 0;
}

static void teardown(void)
{
	pci_host__destroy(&h);
}

static uint32_t cf8_read(unsigned devfn, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | devfn << 8 | (reg & 0xfc), v = 0;
	pci_cf8_ops.write(&h, 0, &a, 4);
	pci_cf8_ops.read(&h, 4 + (reg & 3), &v, len);
	return v;
}

static void cf8_write(unsigned devfn, uint32_t reg, uint32_t v, uint32_t len)
{
	uint32_t a = 0x80000000u | devfn << 8 | (reg & 0xfc);
	pci_cf8_ops.write(&h, 0, &a, 4);
	pci_cf8_ops.write(&h, 4 + (reg & 3), &v, len);
}

static uint32_t ecam_read(unsigned devfn, uint32_t reg, uint32_t len)
{
	uint64_t v = 0;
	pci_ecam_ops.read(&h, (uint64_t)devfn << 12 | reg, &v, len);
	return (uint32_t)v;
}

static void ecam_write(unsigned devfn, uint32_t reg, uint64_t v, uint32_t len)
{
	pci_ecam_ops.write(&h, (uint64_t)devfn << 12 | reg, &v, len);
}

START_TEST(ids_and_absent_functions)
{
	ck_assert_uint_eq(cf8_read(0, 0, 4), 0x00081b36);         /* host bridge */
	ck_assert_uint_eq(cf8_read(0, 0x0a, 2), 0x0600);          /* class: host bridge */
	ck_assert_uint_eq(cf8_read(1 << 3, 0, 4), 0x10421af4);
	ck_assert_uint_eq(ecam_read(1 << 3, 0, 4), 0x10421af4);
	ck_assert_uint_eq(ecam_read(1 << 3, 0x2e, 2), 0x40);      /* subsystem id */
	ck_assert_uint_eq(cf8_read(2 << 3, 0, 4), 0xffffffff);    /* empty slot */
	ck_assert_uint_eq(cf8_read(1 << 3 | 1, 0, 4), 0xffffffff);/* function 1 */
	ck_assert_uint_eq(ecam_read(31 << 3 | 7, 0xffc, 4), 0xffffffff);
	/* the address latch: 32-bit only, reads back; disabled data reads are all-ones */
	uint32_t a = 0x80000000, v = 0;
	pci_cf8_ops.write(&h, 0, &a, 4);
	pci_cf8_ops.read(&h, 0, &v, 4);
	ck_assert_uint_eq(v, 0x80000000);
	uint8_t b = 1;
	pci_cf8_ops.write(&h, 3, &b, 1);	/* Linux's type-2 probe byte: ignored */
	pci_cf8_ops.read(&h, 0, &v, 4);
	ck_assert_uint_eq(v, 0x80000000);
	/* AMD-style extended register bits 27:24 reach offsets 0x100..0xfff */
	pci_dev__put32(&d, 0x104, 0xabcd1234);
	a = 0x80000000u | 1u << 24 | 1u << 11 | 0x04;
	pci_cf8_ops.write(&h, 0, &a, 4);
	pci_cf8_ops.read(&h, 4, &v, 4);
	ck_assert_uint_eq(v, 0xabcd1234);
	a = 0;
	pci_cf8_ops.write(&h, 0, &a, 4);
	pci_cf8_ops.read(&h, 4, &v, 4);
	ck_assert_uint_eq(v, 0xffffffff);
}
END_TEST

/* Every width at every offset through both mechanisms, with all-ones and zero writes: nothing
 * crashes (ASan watches), and the read-only identity stays. */
START_TEST(every_width_every_offset)
{
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	uint8_t before[64];
	memcpy(before, d.cfg, 64);
	for (unsigned devfn = 0; devfn < 16; devfn += 8) {
		for (uint32_t off = 0; off < PCI_CFG_SPACE + 8; off++) {
			for (unsigned w = 0; w < 4; w++) {
				uint32_t len = widths[w];
				uint64_t ones = ~0ULL, v = 0;
				pci_ecam_ops.read(&h, (uint64_t)devfn << 12 | (off & 0xfff), &v, len);
				if (off >= 0x10 && off < 0x18)
					continue;	/* BARs: sized below */
				if (off >= 0x04 && off < 0x08)
					continue;	/* command/status: below */
				pci_ecam_ops.write(&h, (uint64_t)devfn << 12 | (off & 0xfff), &ones, len);
				if (len <= 4 && off < 0x100) {
					cf8_read(devfn, off, len);
					cf8_write(devfn, off, 0xffffffff, len);
				}
			}
		}
	}
	/* the CF8 data window at each port offset, each width, including ones that overrun */
	for (uint64_t p = 0; p < PCI_CF8_LEN; p++)
		for (unsigned w = 0; w < 3; w++)
			if (p + widths[w] <= PCI_CF8_LEN) {
				uint32_t v = 0;
				pci_cf8_ops.read(&h, p, &v, widths[w]);
			}
	ck_assert_mem_eq(d.cfg, before, 4);                  /* vendor, device */
	ck_assert_mem_eq(d.cfg + 8, before + 8, 4);          /* revision, class */
	ck_assert_uint_eq(d.cfg[PCI_CFG_HEADER], 0);
	ck_assert_mem_eq(d.cfg + 0x2c, before + 0x2c, 4);    /* subsystem */
	ck_assert_uint_eq(d.cfg[PCI_CFG_CAP_PTR], 0x40);
	ck_assert_uint_eq(d.cfg[0x41], 0x50);                /* capability chain intact */
	ck_assert_uint_eq(d.cfg[0x51], 0);
	ck_assert_uint_eq(d.cfg[PCI_CFG_INT_PIN], 0);
	ck_assert_uint_eq(d.cfg[PCI_CFG_INT_LINE], 0xff);    /* the one scratch byte */
	ck_assert_int_gt(written, 0);
}
END_TEST

START_TEST(command_and_status)
{
	ecam_write(1 << 3, PCI_CFG_COMMAND, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(1 << 3, PCI_CFG_COMMAND, 2), 0x0507);
	ecam_write(1 << 3, PCI_CFG_COMMAND, 0, 2);
	ck_assert_uint_eq(ecam_read(1 << 3, PCI_CFG_COMMAND, 2), 0);
	/* status: capabilities bit read-only, error bits write-1-to-clear */
	d.cfg[PCI_CFG_STATUS + 1] = 0x80;	/* "detected parity error" */
	ecam_write(1 << 3, PCI_CFG_STATUS, 0x0010, 2);
	ck_assert_uint_eq(ecam_read(1 << 3, PCI_CFG_STATUS, 2), 0x8010);
	ecam_write(1 << 3, PCI_CFG_STATUS, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(1 << 3, PCI_CFG_STATUS, 2), 0x0010);
}
END_TEST

START_TEST(bar_sizing_64bit)
{
	uint64_t addr = pci_dev__bar_addr(&d, 0);
	ck_assert_uint_eq(addr, UINT64_MAX);                 /* memory decoding is off */
	uint32_t lo = cf8_read(1 << 3, 0x10, 4), hi = cf8_read(1 << 3, 0x14, 4);
	ck_assert_uint_eq(lo, (uint32_t)LAYOUT_PCI_MMIO | PCI_BAR_MEM64);   /* firmware placed it */
	ck_assert_uint_eq(hi, 0);
	cf8_write(1 << 3, 0x10, 0xffffffff, 4);
	cf8_write(1 << 3, 0x14, 0xffffffff, 4);
	ck_assert_uint_eq(cf8_read(1 << 3, 0x10, 4), 0xffff8000u | PCI_BAR_MEM64);
	ck_assert_uint_eq(cf8_read(1 << 3, 0x14, 4), 0xffffffff);
	ecam_write(1 << 3, PCI_CFG_COMMAND, PCI_CMD_MEM, 2);
	ck_assert_uint_eq(pci_dev__bar_addr(&d, 0), UINT64_MAX);  /* sizing pattern: no decode */
	cf8_write(1 << 3, 0x10, 0xc0010000, 4);
	cf8_write(1 << 3, 0x14, 0, 4);
	ck_assert_uint_eq(pci_dev__bar_addr(&d, 0), 0xc0010000);
	/* unaligned addresses keep only the size-aligned bits; the type bits are read-only */
	cf8_write(1 << 3, 0x10, 0xc0012345, 4);
	ck_assert_uint_eq(cf8_read(1 << 3, 0x10, 4), 0xc0010000u | PCI_BAR_MEM64);
	/* a 1-byte write inside the BAR */
	cf8_write(1 << 3, 0x13, 0xd0, 1);
	ck_assert_uint_eq(pci_dev__bar_addr(&d, 0), 0xd0010000);
	/* unimplemented BARs read 0 and stay 0 */
	cf8_write(1 << 3, 0x18, 0xffffffff, 4);
	ck_assert_uint_eq(cf8_read(1 << 3, 0x18, 4), 0);
	/* bad BAR declarations */
	struct pci_dev e;
	pci_dev__init(&e, 1, 2, 0, 0, 0, 0, NULL, NULL);
	ck_assert_int_eq(pci_dev__add_bar(&e, 0, 0x3000, false), -EINVAL);
	ck_assert_int_eq(pci_dev__add_bar(&e, 5, 0x1000, true), -EINVAL);
	ck_assert_int_eq(pci_dev__add_bar(&e, 0, 8, false), -EINVAL);
}
END_TEST

START_TEST(capability_walk)
{
	unsigned n = 0, ids[8];
	ck_assert(ecam_read(1 << 3, PCI_CFG_STATUS, 2) & PCI_STATUS_CAPS);
	for (uint32_t p = ecam_read(1 << 3, PCI_CFG_CAP_PTR, 1); p && n < 8;
	     p = ecam_read(1 << 3, p + 1, 1)) {
		ck_assert_uint_ge(p, 0x40);
		ck_assert_uint_eq(p & 3, 0);
		ids[n++] = ecam_read(1 << 3, p, 1);
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ids[0], 0x09);
	ck_assert_uint_eq(ids[1], 0x11);
	/* the host bridge has none */
	ck_assert_uint_eq(ecam_read(0, PCI_CFG_CAP_PTR, 1), 0);
	/* a full list refuses more */
	struct pci_dev e;
	pci_dev__init(&e, 1, 2, 0, 0, 0, 0, NULL, NULL);
	unsigned added = 0;
	while (pci_dev__add_cap(&e, 0x09, 64))
		added++;
	ck_assert_uint_eq(added, 3);
}
END_TEST

START_TEST(window_decodes_enabled_bars_only)
{
	uint32_t v = 0;
	pci_window_ops.read(&h, 0, &v, 4);
	ck_assert_uint_eq(v, 0xffffffff);                    /* decoding off: nobody answers */
	ck_assert_uint_eq(h.bad_accesses, 1);
}
END_TEST

/* ---- MSI-X ---- */

static struct { unsigned routes, fires; unsigned vec; uint64_t addr; uint32_t data; } sink;

static void s_route(void *ctx, unsigned vec, uint64_t addr, uint32_t data)
{
	(void)ctx;
	sink.routes++;
	sink.vec = vec;
	sink.addr = addr;
	sink.data = data;
}

static void s_fire(void *ctx, unsigned vec, uint64_t addr, uint32_t data)
{
	(void)ctx; (void)addr; (void)data;
	sink.fires++;
	sink.vec = vec;
}

static const struct msix_sink_ops sink_ops = { .route = s_route, .fire = s_fire };

static void entry(struct msix *m, unsigned v, uint32_t addr, uint32_t data, uint32_t ctrl)
{
	uint32_t e[4] = { addr, 0, data, ctrl };
	msix__table_write(m, v * 16, e, 16);
}

static uint64_t pba(struct msix *m)
{
	uint64_t p;
	msix__pba_read(m, 0, &p, 8);
	return p;
}

START_TEST(msix_masking_and_pba)
{
	struct msix m;
	memset(&sink, 0, sizeof(sink));
	ck_assert_int_eq(msix__init(&m, 3, &sink_ops, NULL), 0);
	ck_assert(!msix__notify(&m, 0));                     /* disabled: the caller decides */
	msix__set_control(&m, true, false);
	/* all vectors start masked: a notify sets the pending bit */
	ck_assert(msix__notify(&m, 1));
	ck_assert_uint_eq(sink.fires, 0);
	ck_assert_uint_eq(pba(&m), 2);
	/* unmasking with a valid message routes it and delivers what was pending */
	entry(&m, 1, 0xfee00000, 0x4041, 0);
	ck_assert_uint_eq(sink.routes, 1);
	ck_assert_uint_eq(sink.addr, 0xfee00000);
	ck_assert_uint_eq(sink.data, 0x4041);
	ck_assert_uint_eq(sink.fires, 1);
	ck_assert_uint_eq(pba(&m), 0);
	ck_assert(msix__notify(&m, 1));
	ck_assert_uint_eq(sink.fires, 2);
	/* function mask holds everything back, then releases it */
	msix__set_control(&m, true, true);
	ck_assert(msix__notify(&m, 1));
	ck_assert_uint_eq(sink.fires, 2);
	ck_assert_uint_eq(pba(&m), 2);
	msix__set_control(&m, true, false);
	ck_assert_uint_eq(sink.fires, 3);
	ck_assert_uint_eq(sink.routes, 1);                   /* same message: no re-route */
	/* a new data value on a live vector re-routes */
	entry(&m, 1, 0xfee00000, 0x4042, 0);
	ck_assert_uint_eq(sink.routes, 2);
	/* a message to nowhere is dropped and counted, never routed */
	entry(&m, 2, 0x12345678, 1, 0);
	ck_assert(msix__notify(&m, 2));
	ck_assert_uint_eq(sink.fires, 3);
	ck_assert_uint_eq(m.dropped, 1);
	ck_assert(!msix__deliverable(&m, 2));
	ck_assert(!msix__notify(&m, 3));                     /* out of range */
	/* vector control: only the mask bit is writable; hostile offsets and widths */
	uint32_t ctrl = 0xffffffff;
	msix__table_write(&m, 12, &ctrl, 4);
	msix__table_read(&m, 12, &ctrl, 4);
	ck_assert_uint_eq(ctrl, 1);
	for (uint64_t off = 0; off < 64; off++) {
		uint64_t v = ~0ULL;
		msix__table_read(&m, off, &v, 8);
		msix__table_write(&m, off, &v, 1 + (unsigned)(off % 8));
		msix__pba_read(&m, off, &v, 8);
	}
	msix__destroy(&m);
}
END_TEST

START_TEST(msix_capability)
{
	struct msix m;
	ck_assert_int_eq(msix__init(&m, 4, &sink_ops, NULL), 0);
	ck_assert_int_eq(msix__add_cap(&m, &d, 0, 0x4000, 0x5000), 0);
	uint32_t c = m.cap;
	ck_assert_uint_eq(ecam_read(1 << 3, c, 1), 0x11);
	ck_assert_uint_eq(ecam_read(1 << 3, c + 2, 2), 3);       /* table size - 1 */
	ck_assert_uint_eq(ecam_read(1 << 3, c + 4, 4), 0x4000);  /* BIR 0 */
	ck_assert_uint_eq(ecam_read(1 << 3, c + 8, 4), 0x5000);
	ecam_write(1 << 3, c + 2, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(1 << 3, c + 2, 2), 0xc003);  /* only enable + mask stick */
	msix__config_written(&m, &d, c + 2, 2);
	ck_assert(m.enabled && m.fmask);
	ecam_write(1 << 3, c + 3, 0x80, 1);
	msix__config_written(&m, &d, c + 3, 1);
	ck_assert(m.enabled && !m.fmask);
	ck_assert_int_eq(msix__init(&m, 0, &sink_ops, NULL), -EINVAL);
	ck_assert_int_eq(msix__init(&m, MSIX_MAX_VECTORS + 1, &sink_ops, NULL), -EINVAL);
}
END_TEST

/* ---- the GSI routing table ---- */

/* The MSI doorbell is the board's: x86's LAPIC window by default, arm64's ITS frame when its
 * board says so (an address outside it is dropped, never routed). */
START_TEST(msi_doorbell_is_the_boards)
{
	ck_assert(msix__valid_addr(0xfee01000));
	ck_assert(!msix__valid_addr(0x08090040));
	msix__set_doorbell(0x08090000, 0x10000);
	ck_assert(msix__valid_addr(0x08090040));
	ck_assert(!msix__valid_addr(0xfee01000));
	ck_assert(!msix__valid_addr(0x080a0000));
	msix__set_doorbell(0xfee00000, 1 << 20);
	ck_assert(msix__valid_addr(0xfeefffff));
	ck_assert(!msix__valid_addr(0xfef00000));
}
END_TEST


Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ids_and_absent_functions);
	tcase_add_test(tc, every_width_every_offset);
	tcase_add_test(tc, command_and_status);
	tcase_add_test(tc, bar_sizing_64bit);
	tcase_add_test(tc, capability_walk);
	tcase_add_test(tc, window_decodes_enabled_bars_only);
	tcase_add_test(tc, msix_capability);
	suite_add_tcase(s, tc);
	TCase *tm = tcase_create("msix");
	tcase_add_test(tm, msix_masking_and_pba);
	tcase_add_test(tm, msi_doorbell_is_the_boards);
	suite_add_tcase(s, tm);
	return s;
}
