/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI tables for a hardware-reduced platform: RSDP, XSDT, FADT, MADT, DSDT (built in a buffer). */
#include "firmware/x86/acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "firmware/x86/aml.h"
#include "firmware/x86/layout.h"

/*
 * Layout in the buffer, each table 8-byte aligned in guest-physical terms: DSDT, FADT, MADT,
 * MCFG (with PCI), XSDT, then the RSDP on a 16-byte boundary (where a guest scanning 0xe0000..0xfffff finds it).
 * Each table only points at tables already written, so one pass does it.
 */

#define OEM_ID            "KVMINI"      /* 6 bytes */
#define OEM_TABLE_ID      "KVMINI  "    /* 8 bytes */
#define OEM_REVISION      1
#define CREATOR_ID        "KVMI"
#define CREATOR_REVISION  1

/* System Description Table header (ACPI 6.x, 5.2.6) */
#define SDT_HEADER_LEN    36
#define SDT_LENGTH        4
#define SDT_REVISION      8
#define SDT_CHECKSUM      9

/* RSDP (5.2.5.3) */
#define RSDP_LEN          36
#define RSDP_V1_LEN       20
#define RSDP_REVISION     2

/* Generic Address Structure (5.2.3.2) */
#define GAS_SYSTEM_IO     1
#define GAS_ACCESS_BYTE   1

/* FADT (5.2.9), revision 6: the ACPI 6.x layout, unchanged since 6.0 */
#define FADT_LEN          276
#define FADT_REVISION     6
#define FADT_MINOR        5     /* ACPI 6.5 */
#define FADT_DSDT         40
#define FADT_IAPC_BOOT    109
#define FADT_FLAGS        112
#define FADT_RESET_REG    116
#define FADT_RESET_VALUE  128
#define FADT_MINOR_VER    131
#define FADT_X_DSDT       140
#define FADT_SLEEP_CTL    244
#define FADT_SLEEP_STS    256
#define FADT_HYPERVISOR   268

#define FADT_F_WBINVD         (1u << 0)
#define FADT_F_PWR_BUTTON     (1u << 4)   /* set: no fixed-feature power button */
#define FADT_F_SLP_BUTTON     (1u << 5)   /* set: no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP  (1u << 10)
#define FADT_F_HW_REDUCED     (1u << 20)

/*
 * IA-PC boot architecture flags. Not set: LEGACY_DEVICES (no ISA PnP/LPC bus). 8042: set when
 * the DSDT describes the i8042 and its keyboard (PNP0303). Set: no VGA; no PCIe ASPM; no MSI unless there is a PCI root bridge (virtio-mmio uses wired
 * GSIs; virtio-pci uses MSI-X, so with PCI the bit must be clear or Linux turns MSI off);
 * no CMOS RTC (layout.h assigns it no ports; Linux then skips rtc_cmos, and kvmclock gives the
 * wall clock). Clear the RTC bit if a CMOS RTC device is ever added.
 */
#define IAPC_8042             (1u << 1)
#define IAPC_VGA_NOT_PRESENT  (1u << 2)
#define IAPC_MSI_NOT_SUPP     (1u << 3)
#define IAPC_PCIE_ASPM_CTRL   (1u << 4)
#define IAPC_NO_CMOS_RTC      (1u << 5)

/* MADT (5.2.12) */
#define MADT_REVISION     5
#define MADT_LAPIC_ADDR   36
#define MADT_FLAGS        40
#define MADT_ENTRIES      44
#define MADT_PCAT_COMPAT  (1u << 0)
#define MADT_LAPIC        0
#define MADT_LAPIC_LEN    8
#define MADT_IOAPIC       1
#define MADT_IOAPIC_LEN   12
#define MADT_LAPIC_NMI    4
#define MADT_LAPIC_NMI_LEN 6
#define MADT_LAPIC_ENABLED 1u
#define MADT_ALL_CPUS     0xff
#define IOAPIC_ID         0   /* what KVM's in-kernel IOAPIC reports in its ID register */

#define XSDT_REVISION     1
/* MCFG (PCI Firmware 3.2, 4.1.2): one ECAM allocation, segment 0 */
#define MCFG_REVISION     1
#define MCFG_ALLOC_LEN    16
#define DSDT_REVISION     2   /* 2: AML integers are 64-bit */

/* Sleep type package for S5 (7.4.2): SLP_TYPa, SLP_TYPb, two reserved */
#define S5_PACKAGE_ELEMENTS 4

uint8_t acpi__checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

static void set_checksum(uint8_t *table, size_t len, size_t at)
{
	table[at] = 0;
	table[at] = (uint8_t)-acpi__checksum(table, len);
}

static int check_config(const struct acpi_config *cfg)
{
	const struct acpi_pci *pci = &cfg->pci;
	if (pci->ecam_base && (pci->mmio_size == 0 || (uint64_t)pci->mmio_base + pci->mmio_size >
			       (1ull << 32) || pci->io_size == 0 ||
			       (uint32_t)pci->io_base + pci->io_size > 0x10000 || (pci->ecam_base & 0xfffff)))
		return -EINVAL;
	if (cfg->ncpus == 0 || cfg->ncpus > 255)
		return -EINVAL;
	if (cfg->n_virtio_mmio > ACPI_MAX_VIRTIO_MMIO)
		return -EINVAL;
	if (cfg->com1_port && cfg->com1_irq > 15)   /* IRQNoFlags describes ISA IRQs only */
		return -EINVAL;
	if (cfg->kbd_data_port && (cfg->kbd_irq > 15 || !cfg->kbd_cmd_port))
		return -EINVAL;
	for (unsigned i = 0; i < cfg->n_virtio_mmio; i++) {
		const struct acpi_virtio_mmio *v = &cfg->virtio_mmio[i];
		if (v->size == 0 || v->base > UINT32_MAX || v->size > UINT32_MAX ||
		    v->base + v->size > (1ull << 32))
			return -EINVAL;   /* Memory32Fixed: the window must lie below 4 GiB */
	}
	return 0;
}

/* ---- SDT header ---- */

static size_t sdt_open(struct aml_buf *b, uint64_t base, const char sig[4], uint8_t revision)
{
	aml__align(b, base, 8);
	size_t start = b->off;
	uint8_t *h = aml__reserve(b, SDT_HEADER_LEN);
	if (h) {
		memcpy(h, sig, 4);
		h[SDT_REVISION] = revision;
		memcpy(h + 10, OEM_ID, 6);
		memcpy(h + 16, OEM_TABLE_ID, 8);
		aml__put32(h + 24, OEM_REVISION);
		memcpy(h + 28, CREATOR_ID, 4);
		aml__put32(h + 32, CREATOR_REVISION);
	}
	return start;
}

static void sdt_close(struct aml_buf *b, size_t start)
{
	if (b->overflow)
		return;
	uint8_t *h = b->p + start;
	size_t len = b->off - start;
	aml__put32(h + SDT_LENGTH, (uint32_t)len);
	set_checksum(h, len, SDT_CHECKSUM);
}

/* ---- DSDT ---- */

/* Device(name) { Name(_HID, EisaId(id) or the string id) [Name(_UID, uid)] ...: the opening
 * every DSDT device here shares; uid < 0: none. Returns the device's cookie (aml__close). */
static size_t device_open(struct aml_buf *b, const char *name, const char *id, bool eisa,
			  long uid)
{
	size_t dev = aml__device_open(b, name);
	aml__name(b, "_HID");
	if (eisa)
		aml__eisaid(b, id);
	else
		aml__string(b, id);
	if (uid >= 0) {
		aml__name(b, "_UID");
		aml__integer(b, (uint64_t)uid);
	}
	return dev;
}

static void dsdt_com1(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = device_open(b, "COM1", "PNP0501", true, 0);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_io(b, cfg->com1_port, 8);
	aml__res_irq_noflags(b, cfg->com1_irq);
	aml__restemplate_close(b, crs);
	aml__close(b, dev);
}

static void dsdt_pvpanic(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = device_open(b, "PVPN", "QEMU0001", false, -1);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_io(b, cfg->pvpanic_port, 1);
	aml__restemplate_close(b, crs);
	aml__close(b, dev);
}

/* The i8042 and its keyboard, as a PC's firmware describes them: Linux's i8042 driver takes
 * its ports and IRQ from here (PNP) */
static void dsdt_kbd(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = device_open(b, "KBD", "PNP0303", true, -1);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_io(b, cfg->kbd_data_port, 1);
	aml__res_io(b, cfg->kbd_cmd_port, 1);
	aml__res_irq_noflags(b, cfg->kbd_irq);
	aml__restemplate_close(b, crs);
	aml__close(b, dev);
}

/*
 * The power button of a hardware-reduced platform (ACPI 6.5, 4.8.2.2.1.2 and 5.6.9, as QEMU's
 * microvm and Cloud Hypervisor signal it): a control-method button (PNP0C0C) and a Generic
 * Event Device whose interrupt runs _EVT, which notifies the button (0x80: pressed). Linux's
 * button driver turns that into KEY_POWER on the button's input device. The GED serves this
 * one event, so _EVT needs no event register.
 */
static void dsdt_power_button(struct aml_buf *b, const struct acpi_config *cfg)
{
	aml__close(b, device_open(b, "PWRB", "PNP0C0C", true, 0));

	size_t dev = device_open(b, "GED", "ACPI0013", false, 0);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, cfg->ged_gsi);
	aml__restemplate_close(b, crs);
	size_t evt = aml__method_open(b, "_EVT", 1);
	aml__notify(b, "\\_SB.PWRB", 0x80);
	aml__close(b, evt);
	aml__close(b, dev);
}

/* What Linux's virtio_mmio driver matches and what QEMU's microvm emits (index < 256). */
static void dsdt_virtio(struct aml_buf *b, unsigned index, const struct acpi_virtio_mmio *v)
{
	char name[5];
	snprintf(name, sizeof(name), "VR%02X", index & 0xffu);

	size_t dev = device_open(b, name, "LNRO0005", false, index);
	aml__name(b, "_CCA");   /* DMA is cache-coherent */
	aml__integer(b, 1);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_mem32_fixed(b, true, (uint32_t)v->base, (uint32_t)v->size);
	/* Edge, ActiveHigh, Exclusive: kvmini injects each interrupt as an edge through an irqfd */
	aml__res_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, v->irq);
	aml__restemplate_close(b, crs);
	aml__close(b, dev);
}

/*
 * The PCI root bridge (PCI Firmware 3.2, 4.1): PNP0A08 (PCIe) compatible with PNP0A03, segment
 * 0 from bus 0. _CRS hands the bus its bus numbers, an I/O window, and the 32-bit BAR window,
 * and consumes the configuration ports. _PRT wires each slot's INTA..INTD to a GSI (static
 * routing, source 0: level, active-low) for drivers that do not enable MSI-X.
 */
static void dsdt_pci(struct aml_buf *b, const struct acpi_pci *pci)
{
	size_t dev = aml__device_open(b, "PCI0");
	aml__name(b, "_HID");
	aml__eisaid(b, "PNP0A08");
	aml__name(b, "_CID");
	aml__eisaid(b, "PNP0A03");
	aml__name(b, "_SEG");
	aml__integer(b, 0);
	aml__name(b, "_BBN");
	aml__integer(b, 0);
	aml__name(b, "_UID");
	aml__integer(b, 0);
	aml__name(b, "_CRS");
	size_t crs = aml__restemplate_open(b);
	aml__res_word_bus(b, 0, pci->bus_end);
	aml__res_io(b, pci->cf8_port, 8);
	aml__res_word_io(b, pci->io_base, (uint16_t)(pci->io_base + pci->io_size - 1));
	aml__res_dword_mem(b, pci->mmio_base, pci->mmio_base + pci->mmio_size - 1);
	aml__restemplate_close(b, crs);
	if (pci->intx_slots) {
		unsigned slots = pci->intx_slots < 31 ? pci->intx_slots : 31;
		aml__name(b, "_PRT");
		size_t prt = aml__package_open(b, (uint8_t)(slots * 4));
		for (unsigned s = 1; s <= slots; s++)
			for (unsigned pin = 0; pin < 4; pin++) {
				size_t e = aml__package_open(b, 4);
				aml__integer(b, (uint64_t)s << 16 | 0xffff);	/* any function */
				aml__integer(b, pin);
				aml__integer(b, 0);	/* source 0: the last field is a GSI */
				aml__integer(b, layout__pci_intx_gsi(s, pin));
				aml__close(b, e);
			}
		aml__close(b, prt);
	}
	aml__close(b, dev);

	/* the ECAM window is a motherboard resource, so that Linux trusts the MCFG entry */
	dev = device_open(b, "PCMR", "PNP0C02", true, 1);
	aml__name(b, "_CRS");
	crs = aml__restemplate_open(b);
	aml__res_mem32_fixed(b, false, (uint32_t)pci->ecam_base, ((uint32_t)pci->bus_end + 1) << 20);
	aml__restemplate_close(b, crs);
	aml__close(b, dev);
}

/* \_S5_: Linux's poweroff then writes (SLP_TYP << 2) | SLP_EN to the sleep control register. */
static void dsdt_s5(struct aml_buf *b)
{
	aml__name(b, "\\_S5");
	size_t pkg = aml__package_open(b, S5_PACKAGE_ELEMENTS);
	aml__integer(b, ACPI_S5_SLP_TYP);
	for (int i = 1; i < S5_PACKAGE_ELEMENTS; i++)
		aml__integer(b, 0);
	aml__close(b, pkg);
}

static size_t build_dsdt(struct aml_buf *b, uint64_t base, const struct acpi_config *cfg)
{
	size_t start = sdt_open(b, base, "DSDT", DSDT_REVISION);
	size_t sb = aml__scope_open(b, "\\_SB");
	if (cfg->com1_port)
		dsdt_com1(b, cfg);
	if (cfg->pvpanic_port)
		dsdt_pvpanic(b, cfg);
	if (cfg->kbd_data_port)
		dsdt_kbd(b, cfg);
	if (cfg->ged_gsi)
		dsdt_power_button(b, cfg);
	for (unsigned i = 0; i < cfg->n_virtio_mmio; i++)
		dsdt_virtio(b, i, &cfg->virtio_mmio[i]);
	if (cfg->pci.ecam_base)
		dsdt_pci(b, &cfg->pci);
	aml__close(b, sb);
	dsdt_s5(b);
	sdt_close(b, start);
	return start;
}

/* ---- FADT ---- */

/* An 8-bit SystemIO register accessed with byte accesses; port 0 leaves it all zero (absent). */
static void put_gas_io8(uint8_t *gas, uint16_t port)
{
	if (!port)
		return;
	gas[0] = GAS_SYSTEM_IO;
	gas[1] = 8;               /* register bit width */
	gas[2] = 0;               /* bit offset */
	gas[3] = GAS_ACCESS_BYTE;
	aml__put64(gas + 4, port);
}

static size_t build_fadt(struct aml_buf *b, uint64_t base, const struct acpi_config *cfg,
			 size_t dsdt)
{
	size_t start = sdt_open(b, base, "FACP", FADT_REVISION);
	uint8_t *f = aml__reserve(b, FADT_LEN - SDT_HEADER_LEN);
	if (!f)
		return start;
	f -= SDT_HEADER_LEN;   /* index fields by their offset in the table */

	uint64_t dsdt_gpa = base + dsdt;
	uint32_t flags = FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_HW_REDUCED;
	if (cfg->reset_port)
		flags |= FADT_F_RESET_REG_SUP;

	if (dsdt_gpa <= UINT32_MAX)   /* for ACPI 1.0 readers; X_DSDT is the one that counts */
		aml__put32(f + FADT_DSDT, (uint32_t)dsdt_gpa);
	/* with PCI, MSI must not be declared unsupported: Linux would turn MSI off everywhere */
	aml__put16(f + FADT_IAPC_BOOT, IAPC_VGA_NOT_PRESENT | IAPC_PCIE_ASPM_CTRL |
		   IAPC_NO_CMOS_RTC | (cfg->pci.ecam_base ? 0 : IAPC_MSI_NOT_SUPP) |
		   (cfg->kbd_data_port ? IAPC_8042 : 0));
	aml__put32(f + FADT_FLAGS, flags);
	put_gas_io8(f + FADT_RESET_REG, cfg->reset_port);
	f[FADT_RESET_VALUE] = cfg->reset_port ? cfg->reset_value : 0;
	f[FADT_MINOR_VER] = FADT_MINOR;
	aml__put64(f + FADT_X_DSDT, dsdt_gpa);
	put_gas_io8(f + FADT_SLEEP_CTL, cfg->sleep_ctl_port);
	put_gas_io8(f + FADT_SLEEP_STS, cfg->sleep_sts_port);
	memcpy(f + FADT_HYPERVISOR, OEM_ID, 6);
	sdt_close(b, start);
	return start;
}

/* ---- MADT ---- */

static void madt_lapic(struct aml_buf *b, unsigned cpu)
{
	uint8_t *e = aml__reserve(b, MADT_LAPIC_LEN);
	if (!e)
		return;
	e[0] = MADT_LAPIC;
	e[1] = MADT_LAPIC_LEN;
	e[2] = (uint8_t)cpu;   /* ACPI processor UID */
	e[3] = (uint8_t)cpu;   /* APIC ID */
	aml__put32(e + 4, MADT_LAPIC_ENABLED);
}

static void madt_ioapic(struct aml_buf *b, uint32_t addr)
{
	uint8_t *e = aml__reserve(b, MADT_IOAPIC_LEN);
	if (!e)
		return;
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = IOAPIC_ID;
	aml__put32(e + 4, addr);
	aml__put32(e + 8, 0);   /* GSI base: pin n is GSI n */
}

/* LINT1 is NMI on every processor; flags 0 = polarity and trigger as the bus defines. */
static void madt_lapic_nmi(struct aml_buf *b)
{
	uint8_t *e = aml__reserve(b, MADT_LAPIC_NMI_LEN);
	if (!e)
		return;
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_ALL_CPUS;
	aml__put16(e + 3, 0);
	e[5] = 1;               /* LINT1 */
}

/*
 * PCAT_COMPAT = 1: KVM_CREATE_IRQCHIP always instantiates a dual 8259 next to the IOAPIC, so
 * the flag is true, and it tells a spec-following OS to mask the 8259s before using the APICs.
 *
 * No Interrupt Source Override: KVM's default GSI routing sends GSI n to IOAPIC pin n (and to
 * 8259 pin n for n < 16), and the in-kernel PIT raises GSI 0, so ISA IRQ 0 really is GSI 0.
 * The usual "IRQ0 -> GSI2" override describes chipsets (and QEMU, which reprograms the routing)
 * where the PIT is wired to pin 2; here it would point Linux at a pin nothing drives. Every
 * other ISA IRQ is identity-mapped and edge/high by default, which is also what KVM does.
 */
static size_t build_madt(struct aml_buf *b, uint64_t base, const struct acpi_config *cfg)
{
	size_t start = sdt_open(b, base, "APIC", MADT_REVISION);
	uint8_t *m = aml__reserve(b, MADT_ENTRIES - SDT_HEADER_LEN);
	if (m) {
		aml__put32(m, cfg->lapic_addr);
		aml__put32(m + 4, MADT_PCAT_COMPAT);
	}
	for (unsigned cpu = 0; cpu < cfg->ncpus; cpu++)
		madt_lapic(b, cpu);
	madt_ioapic(b, cfg->ioapic_addr);
	madt_lapic_nmi(b);
	sdt_close(b, start);
	return start;
}

/* ---- MCFG ---- */

static size_t build_mcfg(struct aml_buf *b, uint64_t base, const struct acpi_pci *pci)
{
	size_t start = sdt_open(b, base, "MCFG", MCFG_REVISION);
	aml__reserve(b, 8);   /* reserved */
	uint8_t *e = aml__reserve(b, MCFG_ALLOC_LEN);
	if (e) {
		aml__put64(e, pci->ecam_base);
		aml__put16(e + 8, 0);      /* PCI segment group */
		e[10] = 0;                 /* start bus */
		e[11] = pci->bus_end;      /* end bus */
	}
	sdt_close(b, start);
	return start;
}

/* ---- XSDT and RSDP ---- */

static size_t build_xsdt(struct aml_buf *b, uint64_t base, const size_t *tables, size_t n)
{
	size_t start = sdt_open(b, base, "XSDT", XSDT_REVISION);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = aml__reserve(b, 8);
		if (e)
			aml__put64(e, base + tables[i]);
	}
	sdt_close(b, start);
	return start;
}

static size_t build_rsdp(struct aml_buf *b, uint64_t base, size_t xsdt)
{
	aml__align(b, base, 16);
	size_t start = b->off;
	uint8_t *r = aml__reserve(b, RSDP_LEN);
	if (!r)
		return start;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, OEM_ID, 6);
	r[15] = RSDP_REVISION;
	aml__put32(r + 16, 0);           /* no RSDT: every reader of revision 2 uses the XSDT */
	aml__put32(r + 20, RSDP_LEN);
	aml__put64(r + 24, base + xsdt);
	set_checksum(r, RSDP_V1_LEN, 8);
	set_checksum(r, RSDP_LEN, 32);
	return start;
}

long acpi__build(const struct acpi_config *cfg, void *buf, size_t buflen,
		 uint64_t base_gpa, uint64_t *rsdp_gpa)
{
	if (!cfg || (!buf && buflen) || check_config(cfg))
		return -EINVAL;

	struct aml_buf b;
	aml__init(&b, buf, buflen);

	size_t dsdt = build_dsdt(&b, base_gpa, cfg);
	size_t tables[3], n = 0;
	tables[n++] = build_fadt(&b, base_gpa, cfg, dsdt);
	tables[n++] = build_madt(&b, base_gpa, cfg);
	if (cfg->pci.ecam_base)
		tables[n++] = build_mcfg(&b, base_gpa, &cfg->pci);
	size_t xsdt = build_xsdt(&b, base_gpa, tables, n);
	size_t rsdp = build_rsdp(&b, base_gpa, xsdt);
	if (b.overflow)
		return -ENOSPC;
	if (rsdp_gpa)
		*rsdp_gpa = base_gpa + rsdp;
	return (long)b.off;
}
