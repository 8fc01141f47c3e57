/* SPDX-License-Identifier: Apache-2.0 */
/* The Intel MultiProcessor table (spec 1.4): CPUs and interrupt routing for guests with acpi=off. */
#include "firmware/x86/mptable.h"

#include <errno.h>
#include <string.h>

#include "firmware/x86/acpi.h"
#include "firmware/x86/layout.h"

struct mpf {			/* floating pointer, 16 bytes */
	char sig[4];		/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units: 1 */
	uint8_t spec_rev;	/* 4 = spec 1.4 */
	uint8_t checksum;
	uint8_t feature[5];	/* feature[0] = 0: a configuration table follows */
} __attribute__((packed));

struct mpc_header {		/* configuration table header, 44 bytes */
	char sig[4];		/* "PCMP" */
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {		/* type 0, 20 bytes */
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_small {		/* types 1-4 are 8 bytes each */
	uint8_t b[8];
} __attribute__((packed));

#define MP_CPU_ENABLED 1
#define MP_CPU_BSP     2
#define MP_IRQ_INT     0
#define MP_IRQ_NMI     1
#define MP_IRQ_EXTINT  3
#define MP_IRQ_LEVEL_LOW 0x0f	/* polarity 3 (active low) | trigger 3 (level) << 2 */
#define ISA_IRQS       16

static void small(struct mpc_small *e, uint8_t t, uint8_t a, uint8_t b, uint8_t c, uint8_t d,
		  uint8_t f, uint8_t g, uint8_t h)
{
	*e = (struct mpc_small){ { t, a, b, c, d, f, g, h } };
}

long mptable__build(unsigned ncpus, unsigned pci_slots, uint32_t lapic_addr, uint32_t ioapic_addr,
		    void *buf, size_t buflen, uint64_t base_gpa)
{
	if (ncpus == 0 || ncpus > 255 || pci_slots > 31 || (!buf && buflen))
		return -EINVAL;
	/* bus, IOAPIC, ISA IRQs, LINT0, LINT1; with PCI its bus and 4 pins per slot */
	size_t n_small = 1 + 1 + ISA_IRQS + 2 + (pci_slots ? 1 + 4 * pci_slots : 0);
	size_t table_len = sizeof(struct mpc_header) + ncpus * sizeof(struct mpc_cpu) +
			   n_small * sizeof(struct mpc_small);
	size_t total = sizeof(struct mpf) + table_len;
	if (total > buflen || table_len > UINT16_MAX)
		return -ENOSPC;

	uint8_t *p = buf;
	memset(p, 0, total);
	struct mpf *f = (struct mpf *)p;
	struct mpc_header *h = (struct mpc_header *)(p + sizeof(*f));
	uint8_t *e = (uint8_t *)(h + 1);
	uint8_t ioapic_id = (uint8_t)ncpus;	/* distinct from every local APIC ID */

	for (unsigned i = 0; i < ncpus; i++, e += sizeof(struct mpc_cpu))
		*(struct mpc_cpu *)e = (struct mpc_cpu){
			.type = 0, .apic_id = (uint8_t)i, .apic_ver = 0x14,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = 0x600, .features = 0x201,	/* family 6, FPU + APIC */
		};
	struct mpc_small *s = (struct mpc_small *)e;
	/* a PCI bus's MP bus ID is its bus number, so PCI bus 0 is ID 0 and ISA moves to 1 */
	uint8_t isa = pci_slots ? 1 : 0;
	memcpy(&s[0], (const uint8_t[8]){ 1, isa, 'I', 'S', 'A', ' ', ' ', ' ' }, 8);
	small(&s[1], 2, ioapic_id, 0x11, 1, 0, 0, 0, 0);
	memcpy(&s[1].b[4], &ioapic_addr, 4);
	/* KVM routes GSI n to IOAPIC pin n (no IRQ0 -> pin 2 override, like the MADT) */
	for (unsigned irq = 0; irq < ISA_IRQS; irq++)
		small(&s[2 + irq], 3, MP_IRQ_INT, 0, 0, isa, (uint8_t)irq, ioapic_id, (uint8_t)irq);
	small(&s[2 + ISA_IRQS], 4, MP_IRQ_EXTINT, 0, 0, 0, 0, 0xff, 0);
	small(&s[3 + ISA_IRQS], 4, MP_IRQ_NMI, 0, 0, 0, 0, 0xff, 1);
	if (pci_slots) {
		struct mpc_small *q = &s[4 + ISA_IRQS];
		memcpy(&q[0], (const uint8_t[8]){ 1, 0, 'P', 'C', 'I', ' ', ' ', ' ' }, 8);
		for (unsigned slot = 1, k = 1; slot <= pci_slots; slot++)
			for (unsigned pin = 0; pin < 4; pin++, k++)	/* source IRQ: slot << 2 | pin */
				small(&q[k], 3, MP_IRQ_INT, MP_IRQ_LEVEL_LOW, 0, 0,
				      (uint8_t)(slot << 2 | pin), ioapic_id,
				      (uint8_t)layout__pci_intx_gsi(slot, pin));
	}

	memcpy(h->sig, "PCMP", 4);
	h->length = (uint16_t)table_len;
	h->spec_rev = 4;
	memcpy(h->oem, "KVMINI  ", 8);
	memcpy(h->product, "KVMINI      ", 12);
	h->count = (uint16_t)(ncpus + n_small);
	h->lapic = lapic_addr;
	h->checksum = (uint8_t)(0 - acpi__checksum(h, table_len));

	memcpy(f->sig, "_MP_", 4);
	f->physptr = (uint32_t)(base_gpa + sizeof(*f));
	f->length = 1;
	f->spec_rev = 4;
	f->checksum = (uint8_t)(0 - acpi__checksum(f, sizeof(*f)));
	return (long)total;
}
