/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the ACPI table builder (firmware/acpi.c) and its AML encoder (firmware/aml.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "firmware/x86/acpi.h"
#include "firmware/x86/aml.h"
#include "firmware/x86/layout.h"

#define BASE       LAYOUT_ACPI
#define GUARD      0xa5
#define GUARD_LEN  64
#define VIRTIO_GSI 5

/* FADT offsets and flags (ACPI 6.x, 5.2.9) */
#define FADT_DSDT       40
#define FADT_IAPC_BOOT  109
#define FADT_FLAGS      112
#define FADT_RESET_REG  116
#define FADT_RESET_VAL  128
#define FADT_X_DSDT     140
#define FADT_SLEEP_CTL  244
#define FADT_SLEEP_STS  256
#define FADT_HV_ID      268
#define F_WBINVD        (1u << 0)
#define F_PWR_BUTTON    (1u << 4)
#define F_SLP_BUTTON    (1u << 5)
#define F_RESET_REG_SUP (1u << 10)
#define F_HW_REDUCED    (1u << 20)

static const unsigned cpu_counts[] = { 1, 2, 8, 255 };

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void standard_config(struct acpi_config *cfg, unsigned ncpus, unsigned nvirtio)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus;
	cfg->lapic_addr = (uint32_t)LAYOUT_LAPIC;
	cfg->ioapic_addr = (uint32_t)LAYOUT_IOAPIC;
	cfg->sleep_ctl_port = PORT_ACPI_SLEEP_CTL;
	cfg->sleep_sts_port = PORT_ACPI_SLEEP_STS;
	cfg->reset_port = PORT_I8042_CMD;
	cfg->reset_value = 0xfe;
	cfg->com1_port = PORT_COM1;
	cfg->com1_irq = IRQ_COM1;
	cfg->pvpanic_port = PORT_PVPANIC;
	cfg->kbd_data_port = PORT_I8042_DATA;
	cfg->kbd_cmd_port = PORT_I8042_CMD;
	cfg->kbd_irq = IRQ_KBD;
	cfg->ged_gsi = IRQ_GED;
	cfg->n_virtio_mmio = nvirtio;
	for (unsigned i = 0; i < nvirtio; i++) {
		cfg->virtio_mmio[i].base = LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_MMIO_SIZE;
		cfg->virtio_mmio[i].size = LAYOUT_VIRTIO_MMIO_SIZE;
		cfg->virtio_mmio[i].irq = VIRTIO_GSI + i;
	}
}

/* Built tables: buf as seen by the guest at base. */
struct built {
	uint8_t *buf;
	size_t used;
	uint64_t base, rsdp_gpa;
};

static struct built build_at(const struct acpi_config *cfg, uint64_t base)
{
	struct built b = { .buf = malloc(LAYOUT_ACPI_SIZE), .base = base };
	ck_assert_ptr_nonnull(b.buf);
	memset(b.buf, GUARD, LAYOUT_ACPI_SIZE);
	long n = acpi__build(cfg, b.buf, LAYOUT_ACPI_SIZE, base, &b.rsdp_gpa);
	ck_assert_int_gt(n, 0);
	b.used = (size_t)n;
	return b;
}

static struct built build(unsigned ncpus, unsigned nvirtio)
{
	struct acpi_config cfg;
	standard_config(&cfg, ncpus, nvirtio);
	return build_at(&cfg, BASE);
}

/* The table at gpa: must lie inside the used part of the buffer. */
static const uint8_t *at(const struct built *b, uint64_t gpa, size_t min_len)
{
	ck_assert_uint_ge(gpa, b->base);
	ck_assert_uint_le(gpa - b->base + min_len, b->used);
	return b->buf + (gpa - b->base);
}

static const uint8_t *table(const struct built *b, uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(b, gpa, 36);
	ck_assert_mem_eq(t, sig, 4);
	ck_assert_uint_le(gpa - b->base + le(t + 4, 4), b->used);
	return t;
}

static const uint8_t *rsdp(const struct built *b) { return at(b, b->rsdp_gpa, 36); }
static const uint8_t *xsdt(const struct built *b) { return table(b, le(rsdp(b) + 24, 8), "XSDT"); }
static const uint8_t *fadt(const struct built *b) { return table(b, le(xsdt(b) + 36, 8), "FACP"); }
static const uint8_t *madt(const struct built *b) { return table(b, le(xsdt(b) + 44, 8), "APIC"); }
static const uint8_t *dsdt(const struct built *b) { return table(b, le(fadt(b) + FADT_X_DSDT, 8), "DSDT"); }

static size_t count(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	size_t c = 0;
	for (size_t i = 0; i + m <= n; i++)
		c += !memcmp(hay + i, needle, m);
	return c;
}

static size_t count_in_table(const uint8_t *t, const void *needle, size_t m)
{
	return count(t, (size_t)le(t + 4, 4), needle, m);
}

/* ---- RSDP and XSDT ---- */

START_TEST(test_rsdp)
{
	struct built b = build(2, 3);
	const uint8_t *r = rsdp(&b);

	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(acpi__checksum(r, 20), 0);
	ck_assert_uint_eq(acpi__checksum(r, 36), 0);
	ck_assert_mem_eq(r + 9, "KVMINI", 6);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(le(r + 20, 4), 36);
	ck_assert_mem_eq(r + 33, "\0\0\0", 3);   /* reserved */
	ck_assert_uint_eq(b.rsdp_gpa % 16, 0);
	xsdt(&b);   /* resolves, inside the buffer, signature XSDT */
	free(b.buf);
}
END_TEST

START_TEST(test_xsdt_entries)
{
	struct built b = build(1, 0);
	const uint8_t *x = xsdt(&b);

	ck_assert_uint_eq(le(x + 4, 4), 36 + 2 * 8);
	ck_assert_uint_eq(x[8], 1);
	fadt(&b);
	madt(&b);
	free(b.buf);
}
END_TEST

/* Every table: checksum 0, inside the buffer, 8-byte aligned, no two overlapping. */
START_TEST(test_checksums_and_lengths)
{
	struct built b = build(cpu_counts[_i], (unsigned)_i * 10);
	const uint8_t *t[] = { xsdt(&b), fadt(&b), madt(&b), dsdt(&b) };

	for (size_t i = 0; i < 4; i++) {
		size_t off = (size_t)(t[i] - b.buf), len = (size_t)le(t[i] + 4, 4);
		ck_assert_uint_eq(acpi__checksum(t[i], len), 0);
		ck_assert_uint_eq(off % 8, 0);
		ck_assert_uint_ge(len, 36);
		for (size_t j = 0; j < i; j++) {
			size_t o2 = (size_t)(t[j] - b.buf), l2 = (size_t)le(t[j] + 4, 4);
			ck_assert(off + len <= o2 || o2 + l2 <= off);
		}
	}
	ck_assert_uint_eq(le(fadt(&b) + 4, 4), 276);
	ck_assert_uint_eq(acpi__checksum(b.buf, 0), 0);
	free(b.buf);
}
END_TEST

START_TEST(test_unaligned_base)
{
	struct acpi_config cfg;
	standard_config(&cfg, 3, 2);
	struct built b = build_at(&cfg, 0x100004);
	const uint8_t *t[] = { xsdt(&b), fadt(&b), madt(&b), dsdt(&b) };

	ck_assert_uint_eq(b.rsdp_gpa % 16, 0);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq((b.base + (size_t)(t[i] - b.buf)) % 8, 0);
		ck_assert_uint_eq(acpi__checksum(t[i], (size_t)le(t[i] + 4, 4)), 0);
	}
	free(b.buf);
}
END_TEST

/* ---- FADT ---- */

static void assert_gas_io8(const uint8_t *gas, uint16_t port)
{
	const uint8_t want[4] = { 1 /* SystemIO */, 8, 0, 1 /* byte access */ };
	ck_assert_mem_eq(gas, want, 4);
	ck_assert_uint_eq(le(gas + 4, 8), port);
}

START_TEST(test_fadt)
{
	struct built b = build(4, 1);
	const uint8_t *f = fadt(&b);
	uint64_t dsdt_gpa = (uint64_t)(dsdt(&b) - b.buf) + b.base;

	ck_assert_uint_eq(le(f + 4, 4), 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_mem_eq(f + 10, "KVMINI", 6);
	ck_assert_uint_eq(le(f + FADT_FLAGS, 4),
			  F_WBINVD | F_PWR_BUTTON | F_SLP_BUTTON | F_RESET_REG_SUP | F_HW_REDUCED);
	ck_assert_uint_eq(le(f + FADT_X_DSDT, 8), dsdt_gpa);
	ck_assert_uint_eq(le(f + FADT_DSDT, 4), dsdt_gpa);
	/* 8042 (the keyboard in the DSDT), no VGA, no MSI (no PCI here), no ASPM, no CMOS RTC */
	ck_assert_uint_eq(le(f + FADT_IAPC_BOOT, 2),
			  (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5));
	assert_gas_io8(f + FADT_SLEEP_CTL, PORT_ACPI_SLEEP_CTL);
	assert_gas_io8(f + FADT_SLEEP_STS, PORT_ACPI_SLEEP_STS);
	assert_gas_io8(f + FADT_RESET_REG, PORT_I8042_CMD);
	ck_assert_uint_eq(f[FADT_RESET_VAL], 0xfe);
	ck_assert_mem_eq(f + FADT_HV_ID, "KVMINI\0\0", 8);
	ck_assert_uint_eq(le(f + 36, 4), 0);    /* no FACS: hardware-reduced */
	ck_assert_uint_eq(le(f + 46, 2), 0);    /* no SCI */
	free(b.buf);
}
END_TEST

START_TEST(test_fadt_without_reset_register)
{
	struct acpi_config cfg;
	standard_config(&cfg, 1, 0);
	cfg.reset_port = 0;
	struct built b = build_at(&cfg, BASE);
	const uint8_t *f = fadt(&b);
	const uint8_t zero[13] = { 0 };

	ck_assert_uint_eq(le(f + FADT_FLAGS, 4) & F_RESET_REG_SUP, 0);
	ck_assert_uint_ne(le(f + FADT_FLAGS, 4) & F_HW_REDUCED, 0);
	ck_assert_mem_eq(f + FADT_RESET_REG, zero, 13);   /* GAS and value */
	free(b.buf);
}
END_TEST

/* ---- MADT ---- */

START_TEST(test_madt_cpus)
{
	unsigned n = cpu_counts[_i];
	struct built b = build(n, 0);
	const uint8_t *m = madt(&b);
	size_t len = (size_t)le(m + 4, 4), off = 44;
	unsigned lapics = 0, ioapics = 0, nmis = 0;

	ck_assert_uint_eq(le(m + 36, 4), LAYOUT_LAPIC);
	ck_assert_uint_eq(le(m + 40, 4), 1);   /* PCAT_COMPAT */
	while (off < len) {
		const uint8_t *e = m + off;
		ck_assert_uint_ge(e[1], 2);
		ck_assert_uint_le(off + e[1], len);
		switch (e[0]) {
		case 0:   /* Processor Local APIC */
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], lapics);   /* UID */
			ck_assert_uint_eq(e[3], lapics);   /* APIC ID */
			ck_assert_uint_eq(le(e + 4, 4), 1);
			lapics++;
			break;
		case 1:   /* I/O APIC */
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], 0);
			ck_assert_uint_eq(le(e + 4, 4), LAYOUT_IOAPIC);
			ck_assert_uint_eq(le(e + 8, 4), 0);
			ioapics++;
			break;
		case 4:   /* Local APIC NMI */
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[2], 0xff);
			ck_assert_uint_eq(e[5], 1);
			nmis++;
			break;
		default:  /* in particular no Interrupt Source Override (2) */
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	ck_assert_uint_eq(off, len);
	ck_assert_uint_eq(lapics, n);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(nmis, 1);
	free(b.buf);
}
END_TEST

/* ---- DSDT ---- */

START_TEST(test_dsdt_virtio)
{
	unsigned n = _i ? ACPI_MAX_VIRTIO_MMIO : 3;
	struct built b = build(1, n);
	const uint8_t *d = dsdt(&b);

	ck_assert_uint_eq(d[8], 2);
	ck_assert_uint_eq(count_in_table(d, "LNRO0005", 9), n);   /* with its NUL */
	for (unsigned i = 0; i < n; i++) {
		uint32_t base = (uint32_t)(LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_MMIO_SIZE);
		uint32_t irq = VIRTIO_GSI + i;
		uint8_t mem[12] = { 0x86, 9, 0, 1 };                  /* Memory32Fixed(ReadWrite) */
		uint8_t intr[9] = { 0x89, 6, 0, 0x03, 1 };           /* consumer, edge, high, excl */
		char name[5];
		for (int k = 0; k < 4; k++) {
			mem[4 + k] = (uint8_t)(base >> (8 * k));
			mem[8 + k] = (uint8_t)(LAYOUT_VIRTIO_MMIO_SIZE >> (8 * k));
			intr[5 + k] = (uint8_t)(irq >> (8 * k));
		}
		snprintf(name, sizeof(name), "VR%02X", i);
		ck_assert_uint_eq(count_in_table(d, mem, sizeof(mem)), 1);
		/* (this synthetic config also puts a virtio device on the GED's GSI) */
		ck_assert_uint_eq(count_in_table(d, intr, sizeof(intr)), irq == IRQ_GED ? 2 : 1);
		ck_assert_uint_eq(count_in_table(d, name, 4), 1);
	}
	free(b.buf);
}
END_TEST

START_TEST(test_dsdt_s5)
{
	struct built b = build(1, 0);
	const uint8_t *d = dsdt(&b);
	/* Name(\_S5_, Package(4) { 5, 0, 0, 0 }): NameOp, root, name, PackageOp, PkgLength 7, ... */
	const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07, 0x04,
			       0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00, 0x00 };

	ck_assert_uint_eq(count_in_table(d, s5, sizeof(s5)), 1);
	free(b.buf);
}
END_TEST

START_TEST(test_dsdt_com1_pvpanic)
{
	struct built b = build(1, 0);
	const uint8_t *d = dsdt(&b);
	const uint8_t eisaid[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };   /* EisaId("PNP0501") */
	const uint8_t com1_io[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08 };
	const uint8_t com1_irq[] = { 0x22, 1 << IRQ_COM1, 0x00 };
	const uint8_t uid0[] = { 0x08, '_', 'U', 'I', 'D', 0x00 };
	const uint8_t pvpanic_io[] = { 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01 };

	ck_assert_uint_eq(count_in_table(d, "COM1", 4), 1);
	ck_assert_uint_eq(count_in_table(d, eisaid, sizeof(eisaid)), 1);
	ck_assert_uint_eq(count_in_table(d, com1_io, sizeof(com1_io)), 1);
	ck_assert_uint_eq(count_in_table(d, com1_irq, sizeof(com1_irq)), 1);
	ck_assert_uint_eq(count_in_table(d, uid0, sizeof(uid0)), 3);	/* COM1, PWRB, GED */
	ck_assert_uint_eq(count_in_table(d, "PVPN", 4), 1);
	ck_assert_uint_eq(count_in_table(d, "QEMU0001", 9), 1);
	ck_assert_uint_eq(count_in_table(d, pvpanic_io, sizeof(pvpanic_io)), 1);
	free(b.buf);
}
END_TEST

/* The keyboard (PNP0303 on 0x60/0x64, IRQ 1), the power button (PNP0C0C) and the GED whose
 * _EVT notifies it; FADT's 8042 flag with the keyboard, not without */
START_TEST(test_dsdt_kbd_ged)
{
	struct built b = build(1, 0);
	const uint8_t *d = dsdt(&b);
	const uint8_t kbd_id[] = { 0x0c, 0x41, 0xd0, 0x03, 0x03 };   /* EisaId("PNP0303") */
	const uint8_t kbd_res[] = { 0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
				    0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
				    0x22, 1 << IRQ_KBD, 0x00 };
	const uint8_t pwrb_id[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0c };  /* EisaId("PNP0C0C") */
	/* Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {IRQ_GED} */
	const uint8_t ged_irq[] = { 0x89, 0x06, 0x00, 0x03, 0x01, IRQ_GED, 0, 0, 0 };
	const uint8_t evt[] = { '_', 'E', 'V', 'T', 0x01 };           /* Method(_EVT, 1) */
	/* Notify(\_SB.PWRB, 0x80) */
	const uint8_t notify[] = { 0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
				   0x0a, 0x80 };

	ck_assert_uint_eq(count_in_table(d, kbd_id, sizeof(kbd_id)), 1);
	ck_assert_uint_eq(count_in_table(d, kbd_res, sizeof(kbd_res)), 1);
	ck_assert_uint_eq(count_in_table(d, pwrb_id, sizeof(pwrb_id)), 1);
	ck_assert_uint_eq(count_in_table(d, "ACPI0013", 9), 1);
	ck_assert_uint_eq(count_in_table(d, ged_irq, sizeof(ged_irq)), 1);
	ck_assert_uint_eq(count_in_table(d, evt, sizeof(evt)), 1);
	ck_assert_uint_eq(count_in_table(d, notify, sizeof(notify)), 1);
	free(b.buf);
}
END_TEST

START_TEST(test_dsdt_optional_devices_absent)
{
	struct acpi_config cfg;
	standard_config(&cfg, 1, 0);
	cfg.com1_port = 0;
	cfg.pvpanic_port = 0;
	cfg.kbd_data_port = 0;
	cfg.ged_gsi = 0;
	struct built b = build_at(&cfg, BASE);
	const uint8_t *d = dsdt(&b);

	ck_assert_uint_eq(count_in_table(d, "COM1", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "PVPN", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "KBD_", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "GED_", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "PWRB", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "LNRO", 4), 0);
	ck_assert_uint_eq(count_in_table(d, "_S5_", 4), 1);
	ck_assert_uint_eq(count_in_table(d, "_SB_", 4), 1);
	free(b.buf);
}
END_TEST

/* The End tag's checksum makes each resource template sum to zero. */
START_TEST(test_dsdt_resource_checksums)
{
	struct built b = build(1, 2);
	const uint8_t *d = dsdt(&b);
	size_t len = (size_t)le(d + 4, 4), templates = 0;

	/* Each _CRS is Name(_CRS, Buffer(PkgLength(1 byte here), BytePrefix size, data...)) */
	for (size_t i = 0; i + 9 < len; i++) {
		if (memcmp(d + i, "\x08_CRS\x11", 6))
			continue;
		ck_assert_uint_lt(d[i + 6], 0x40);
		ck_assert_uint_eq(d[i + 7], 0x0a);
		const uint8_t *data = d + i + 9;
		size_t size = d[i + 8];
		ck_assert_uint_eq(data[size - 2], 0x79);
		ck_assert_uint_eq(acpi__checksum(data, size), 0);
		templates++;
	}
	ck_assert_uint_eq(templates, 6);   /* COM1, PVPN, KBD, GED, two virtio */
	free(b.buf);
}
END_TEST

/* ---- errors ---- */

/* The first byte in p[from..to) that no longer holds the guard pattern, or `to`. */
static size_t first_written(const uint8_t *p, size_t from, size_t to)
{
	while (from < to && p[from] == GUARD)
		from++;
	return from;
}

/* Every buffer too small by any amount fails with -ENOSPC and writes nothing past buflen. */
START_TEST(test_enospc)
{
	struct acpi_config cfg;
	standard_config(&cfg, _i ? 255 : 4, _i ? ACPI_MAX_VIRTIO_MMIO : 3);
	struct built full = build_at(&cfg, BASE);
	size_t need = full.used;
	uint8_t *buf = malloc(need + GUARD_LEN);
	ck_assert_ptr_nonnull(buf);

	for (size_t len = 0; len < need; len++) {
		uint64_t rsdp_gpa = 0x1234;
		memset(buf, GUARD, need + GUARD_LEN);
		ck_assert_int_eq(acpi__build(&cfg, buf, len, BASE, &rsdp_gpa), -ENOSPC);
		ck_assert_uint_eq(rsdp_gpa, 0x1234);
		size_t k = first_written(buf, len, need + GUARD_LEN);
		ck_assert_msg(k == need + GUARD_LEN, "buflen %zu: byte %zu written", len, k);
	}
	memset(buf, GUARD, need + GUARD_LEN);
	ck_assert_int_eq(acpi__build(&cfg, buf, need, BASE, NULL), (long)need);
	ck_assert_mem_eq(buf, full.buf, need);
	ck_assert_uint_eq(buf[need], GUARD);
	free(buf);
	free(full.buf);
}
END_TEST

START_TEST(test_einval)
{
	struct acpi_config cfg;
	uint8_t buf[256];
	uint64_t gpa = 0;

	memset(buf, GUARD, sizeof(buf));
	standard_config(&cfg, 0, 0);
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	standard_config(&cfg, 256, 0);
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	standard_config(&cfg, 1, 0);
	cfg.n_virtio_mmio = ACPI_MAX_VIRTIO_MMIO + 1;
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	standard_config(&cfg, 1, 0);
	cfg.com1_irq = 16;
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	standard_config(&cfg, 1, 1);
	cfg.virtio_mmio[0].base = 0xfffff000;
	cfg.virtio_mmio[0].size = 0x2000;
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	ck_assert_int_eq(acpi__build(NULL, buf, sizeof(buf), BASE, &gpa), -EINVAL);
	standard_config(&cfg, 1, 0);
	ck_assert_int_eq(acpi__build(&cfg, NULL, 4096, BASE, &gpa), -EINVAL);
	ck_assert_uint_eq(gpa, 0);
	ck_assert_uint_eq(first_written(buf, 0, sizeof(buf)), sizeof(buf));
}
END_TEST

START_TEST(test_limits_accepted)
{
	struct acpi_config cfg;
	standard_config(&cfg, 255, ACPI_MAX_VIRTIO_MMIO);
	cfg.virtio_mmio[0].base = 0xfffff000;   /* ends exactly at 4 GiB */
	cfg.virtio_mmio[0].size = 0x1000;
	struct built b = build_at(&cfg, BASE);
	ck_assert_uint_le(b.used, LAYOUT_ACPI_SIZE);
	free(b.buf);
}
END_TEST

/* The output depends only on the config: not on what the buffer held before. */
START_TEST(test_deterministic)
{
	struct acpi_config cfg;
	standard_config(&cfg, 8, 5);
	uint8_t *a = malloc(LAYOUT_ACPI_SIZE), *b = malloc(LAYOUT_ACPI_SIZE);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memset(a, 0x00, LAYOUT_ACPI_SIZE);
	memset(b, 0xff, LAYOUT_ACPI_SIZE);
	long na = acpi__build(&cfg, a, LAYOUT_ACPI_SIZE, BASE, NULL);
	long nb = acpi__build(&cfg, b, LAYOUT_ACPI_SIZE, BASE, NULL);
	ck_assert_int_gt(na, 0);
	ck_assert_int_eq(na, nb);
	ck_assert_mem_eq(a, b, (size_t)na);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_checksum_fn)
{
	const uint8_t bytes[] = { 0x01, 0x02, 0xfd, 0x80, 0x80 };
	ck_assert_uint_eq(acpi__checksum(bytes, 0), 0);
	ck_assert_uint_eq(acpi__checksum(bytes, 2), 3);
	ck_assert_uint_eq(acpi__checksum(bytes, 3), 0);
	ck_assert_uint_eq(acpi__checksum(bytes, 5), 0);
}
END_TEST

/* ---- AML encoder ---- */

/* A Package whose body is `body` bytes: returns the PkgLength bytes emitted. */
static size_t pkglength_of(size_t body, uint8_t *out, size_t *value)
{
	size_t cap = body + 16;
	uint8_t *mem = malloc(cap);
	ck_assert_ptr_nonnull(mem);
	struct aml_buf b;
	aml__init(&b, mem, cap);
	size_t pkg = aml__package_open(&b, 0);
	aml__reserve(&b, body - 1);   /* NumElements is the first body byte */
	aml__close(&b, pkg);
	ck_assert(!b.overflow);
	ck_assert_uint_eq(mem[0], 0x12);
	size_t n = (mem[1] >> 6) + 1;
	memcpy(out, mem + 1, n);
	ck_assert_uint_eq(b.off, 1 + n + body);
	*value = n == 1 ? mem[1] : (size_t)(mem[1] & 0x0f);
	for (size_t i = 1; i < n; i++)
		*value |= (size_t)mem[1 + i] << (4 + 8 * (i - 1));
	free(mem);
	return n;
}

START_TEST(test_aml_pkglength)
{
	/* body size -> PkgLength bytes: the value counts the PkgLength itself */
	const struct { size_t body, n; } cases[] = {
		{ 1, 1 }, { 62, 1 }, { 63, 2 }, { 4093, 2 }, { 4094, 3 },
		{ 0xffffc, 3 }, { 0xffffd, 4 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t enc[4];
		size_t value;
		ck_assert_uint_eq(pkglength_of(cases[i].body, enc, &value), cases[i].n);
		ck_assert_uint_eq(value, cases[i].body + cases[i].n);
	}
}
END_TEST

START_TEST(test_aml_integers_and_names)
{
	uint8_t mem[64];
	struct aml_buf b;
	aml__init(&b, mem, sizeof(mem));
	aml__integer(&b, 0);
	aml__integer(&b, 1);
	aml__integer(&b, 0x20);
	aml__integer(&b, 0x1234);
	aml__integer(&b, 0x12345678);
	aml__integer(&b, 0x100000000ull);
	aml__name(&b, "_S5");
	const uint8_t want[] = { 0x00, 0x01, 0x0a, 0x20, 0x0b, 0x34, 0x12,
				 0x0c, 0x78, 0x56, 0x34, 0x12,
				 0x0e, 0, 0, 0, 0, 1, 0, 0, 0,
				 0x08, '_', 'S', '5', '_' };
	ck_assert_uint_eq(b.off, sizeof(want));
	ck_assert_mem_eq(mem, want, sizeof(want));
}
END_TEST

START_TEST(test_aml_overflow_latches)
{
	uint8_t mem[8];
	struct aml_buf b;
	memset(mem, GUARD, sizeof(mem));
	aml__init(&b, mem, 4);
	aml__integer(&b, 0x1234);      /* 3 bytes: fits */
	aml__integer(&b, 0x1234);      /* does not fit: nothing written */
	aml__byte(&b, 0);              /* would fit, but overflow has latched */
	ck_assert(b.overflow);
	ck_assert_uint_eq(b.off, 3);
	ck_assert_uint_eq(mem[3], GUARD);
	ck_assert_uint_eq(mem[4], GUARD);
}
END_TEST

/* Names: one segment, a dual and a multi path; a bad name latches overflow, writes nothing */
START_TEST(test_aml_names)
{
	uint8_t mem[64];
	struct aml_buf b;
	const uint8_t multi[] = { 0x86, 0x2f, 3, 'A', '_', '_', '_', 'B', 'C', '_', '_', 'D', 'E',
				  'F', 'G', 0x00 };

	aml__init(&b, mem, sizeof(mem));
	aml__notify(&b, "A.BC.DEFG", 0);
	ck_assert(!b.overflow);
	ck_assert_mem_eq(mem, multi, sizeof(multi));
	const char *bad[] = { "\\", "A..B", "TOOLONG", "A.B.C.D.E.F.G.H.I", "" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml__init(&b, mem, sizeof(mem));
		aml__name(&b, bad[i]);
		ck_assert_msg(b.overflow, "'%s' accepted", bad[i]);
		ck_assert_uint_le(b.off, 1);	/* at most the NameOp before the name */
	}
}
END_TEST

static void pci_config(struct acpi_config *cfg)
{
	standard_config(cfg, 2, 1);
	cfg->pci = (struct acpi_pci){
		.ecam_base = LAYOUT_PCI_ECAM, .bus_end = 0,
		.mmio_base = (uint32_t)LAYOUT_PCI_MMIO, .mmio_size = (uint32_t)LAYOUT_PCI_MMIO_SIZE,
		.io_base = PORT_PCI_IO_WINDOW, .io_size = (uint16_t)(0x10000 - PORT_PCI_IO_WINDOW),
		.cf8_port = PORT_PCI_CF8,
	};
}

/* With PCI: a third XSDT entry, the MCFG, checksummed, with one ECAM allocation for bus 0; the
 * DSDT gains PCI0 (PNP0A08) and the FADT no longer says "no MSI". */
START_TEST(test_mcfg_and_pci_root)
{
	struct acpi_config cfg;
	pci_config(&cfg);
	struct built b = build_at(&cfg, BASE);
	const uint8_t *x = xsdt(&b);
	ck_assert_uint_eq(le(x + 4, 4), 36 + 3 * 8);
	const uint8_t *m = table(&b, le(x + 52, 8), "MCFG");
	ck_assert_uint_eq(le(m + 4, 4), 36 + 8 + 16);
	ck_assert_uint_eq(acpi__checksum(m, le(m + 4, 4)), 0);
	ck_assert_uint_eq(le(m + 44, 8), LAYOUT_PCI_ECAM);
	ck_assert_uint_eq(le(m + 52, 2), 0);     /* segment */
	ck_assert_uint_eq(m[54], 0);             /* start bus */
	ck_assert_uint_eq(m[55], 0);             /* end bus */
	const uint8_t *d = dsdt(&b);
	ck_assert_uint_eq(acpi__checksum(d, le(d + 4, 4)), 0);
	ck_assert_uint_eq(count_in_table(d, "PCI0", 4), 1);
	ck_assert_uint_eq(le(fadt(&b) + 109, 2) & (1u << 3), 0);
	free(b.buf);
	/* without PCI: two entries and MSI declared unsupported */
	b = build(2, 1);
	ck_assert_uint_eq(le(xsdt(&b) + 4, 4), 36 + 2 * 8);
	ck_assert_uint_eq(count_in_table(dsdt(&b), "PCI0", 4), 0);
	ck_assert_uint_ne(le(fadt(&b) + 109, 2) & (1u << 3), 0);
	free(b.buf);
	/* a window past 4 GiB or an unaligned ECAM is refused */
	uint8_t buf[256];
	pci_config(&cfg);
	cfg.pci.mmio_size = 0x50000000;
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, NULL), -EINVAL);
	pci_config(&cfg);
	cfg.pci.ecam_base += 0x1000;
	ck_assert_int_eq(acpi__build(&cfg, buf, sizeof(buf), BASE, NULL), -EINVAL);
}
END_TEST

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tables = tcase_create("tables");
	TCase *errors = tcase_create("errors");
	TCase *aml = tcase_create("aml");
	int ncounts = (int)(sizeof(cpu_counts) / sizeof(cpu_counts[0]));

	tcase_add_test(tables, test_rsdp);
	tcase_add_test(tables, test_xsdt_entries);
	tcase_add_test(tables, test_mcfg_and_pci_root);
	tcase_add_loop_test(tables, test_checksums_and_lengths, 0, ncounts);
	tcase_add_test(tables, test_unaligned_base);
	tcase_add_test(tables, test_fadt);
	tcase_add_test(tables, test_fadt_without_reset_register);
	tcase_add_loop_test(tables, test_madt_cpus, 0, ncounts);
	tcase_add_loop_test(tables, test_dsdt_virtio, 0, 2);
	tcase_add_test(tables, test_dsdt_s5);
	tcase_add_test(tables, test_dsdt_com1_pvpanic);
	tcase_add_test(tables, test_dsdt_kbd_ged);
	tcase_add_test(tables, test_dsdt_optional_devices_absent);
	tcase_add_test(tables, test_dsdt_resource_checksums);
	tcase_add_test(tables, test_deterministic);
	tcase_add_test(tables, test_checksum_fn);
	suite_add_tcase(s, tables);

	tcase_add_loop_test(errors, test_enospc, 0, 2);
	tcase_add_test(errors, test_einval);
	tcase_add_test(errors, test_limits_accepted);
	tcase_set_timeout(errors, 60);
	suite_add_tcase(s, errors);

	tcase_add_test(aml, test_aml_pkglength);
	tcase_add_test(aml, test_aml_integers_and_names);
	tcase_add_test(aml, test_aml_overflow_latches);
	tcase_add_test(aml, test_aml_names);
	suite_add_tcase(s, aml);
	return s;
}
