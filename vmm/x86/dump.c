/* SPDX-License-Identifier: Apache-2.0 */
/* x86 registers for the crash report (general, control, segment, descriptor tables), and virtual to physical through KVM_TRANSLATE. */
#include "vmm/arch.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/vcpu.h"

static void dump_seg(FILE *f, const char *name, const struct kvm_segment *s)
{
	fprintf(f, "  %-3s sel=%04x base=%016llx limit=%08x type=%x p=%u dpl=%u db=%u s=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->present,
		s->dpl, s->db, s->s, s->l, s->g);
}

int arch__dump_regs(FILE *f, struct vcpu *v, uint64_t *pc)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	fprintf(f, "  rip=%016llx rsp=%016llx rflags=%016llx\n",
		(unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rflags);
	fprintf(f, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		(unsigned long long)r.rax, (unsigned long long)r.rbx,
		(unsigned long long)r.rcx, (unsigned long long)r.rdx);
	fprintf(f, "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
		(unsigned long long)r.rsi, (unsigned long long)r.rdi,
		(unsigned long long)r.rbp, (unsigned long long)r.r8);
	fprintf(f, "  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
		(unsigned long long)r.r9, (unsigned long long)r.r10,
		(unsigned long long)r.r11, (unsigned long long)r.r12);
	fprintf(f, "  r13=%016llx r14=%016llx r15=%016llx\n",
		(unsigned long long)r.r13, (unsigned long long)r.r14, (unsigned long long)r.r15);
	fprintf(f, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	dump_seg(f, "cs", &s.cs);
	dump_seg(f, "ss", &s.ss);
	dump_seg(f, "ds", &s.ds);
	dump_seg(f, "tr", &s.tr);
	fprintf(f, "  gdt=%016llx/%04x idt=%016llx/%04x\n",
		(unsigned long long)s.gdt.base, s.gdt.limit,
		(unsigned long long)s.idt.base, s.idt.limit);
	*pc = r.rip + s.cs.base * !(s.cs.l);
	return 0;
}

const char *arch__pc_name(void)
{
	return "rip";
}

int arch__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -1;
	*gpa = tr.physical_address;
	return 0;
}
