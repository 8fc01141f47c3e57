/* SPDX-License-Identifier: Apache-2.0 */
/* x86 CPU state for entry: page tables, GDT, segment registers, and the CPUID topology. */
#include "vmm/x86/cpu.h"

#include <errno.h>
#include <string.h>

#include "firmware/x86/layout.h"

#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_PS  (1ULL << 7)

#define CR0_PE  (1ULL << 0)
#define CR0_MP  (1ULL << 1)
#define CR0_ET  (1ULL << 4)
#define CR0_NE  (1ULL << 5)
#define CR0_WP  (1ULL << 16)
#define CR0_PG  (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

int x86__write_boot_tables(const struct guest_mem *gm)
{
	static const uint64_t gdt[4] = {
		0,
		0,
		0x00af9b000000ffffULL,	/* 0x10: 64-bit code, DPL0 */
		0x00cf93000000ffffULL,	/* 0x18: flat data */
	};
	uint64_t *pml4 = gm__ptr(gm, LAYOUT_PML4, 4096);
	uint64_t *pdpt = gm__ptr(gm, LAYOUT_PDPT, 4096);
	uint64_t *pd = gm__ptr(gm, LAYOUT_PD, 4 * 4096);

	if (!pml4 || !pdpt || !pd || gm__write(gm, LAYOUT_GDT, gdt, sizeof(gdt)))
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t l, uint8_t db)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = l, .g = 1,
	};
}

void x86__longmode_sregs(struct kvm_sregs *s)
{
	s->cs = seg(X86_BOOT_CS, 0xb, 1, 0);
	s->ds = s->es = s->fs = s->gs = s->ss = seg(X86_BOOT_DS, 0x3, 0, 1);
	s->tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s->gdt.base = LAYOUT_GDT;
	s->gdt.limit = 4 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = LAYOUT_PML4;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

void x86__realmode_sregs(struct kvm_sregs *s)
{
	struct kvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss };
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		segs[i]->base = 0;
		segs[i]->selector = 0;
		segs[i]->limit = 0xffff;
	}
	s->cr0 &= ~(CR0_PE | CR0_PG);
}

static unsigned ceil_log2(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

void x86__cpuid_patch(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	unsigned shift = ceil_log2(ncpus);

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (id << 24) | ((ncpus & 0xff) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;	/* HTT: more than one logical CPU */
			e->ecx |= 1u << 31;		/* running under a hypervisor */
			break;
		case 4:	/* deterministic cache parameters: cores per package */
			e->eax = (e->eax & 0x03ffffff) | ((ncpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:	/* extended topology: one thread per core, ncpus cores */
			e->edx = id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index & 0xff;
			}
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | ((ncpus - 1) & 0xff);
			break;
		case 0x8000001e:
			e->eax = id;
			e->ebx = (e->ebx & ~0xffu) | (id & 0xff);
			e->ecx &= ~0xffu;
			break;
		}
	}
}
