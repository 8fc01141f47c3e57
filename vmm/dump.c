/* SPDX-License-Identifier: Apache-2.0 */
/* The crash report: exit name, reason, RIP, general registers, control and segment registers. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "vmm/exit_names.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static void dump_seg(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel=%04x base=%016llx limit=%08x type=%x p=%u dpl=%u db=%u s=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->present,
		s->dpl, s->db, s->s, s->l, s->g);
}

size_t vcpu__read_code(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct kvm_translation tr = { .linear_address = gva + got };
		if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			break;
		/* copy up to the end of this 4 KiB page, then translate again */
		size_t chunk = 4096 - ((gva + got) & 4095);
		if (chunk > n - got)
			chunk = n - got;
		const uint8_t *p = gm__ptr(&v->vm->mem, tr.physical_address, chunk);
		if (!p)
			break;
		for (size_t i = 0; i < chunk; i++)
			buf[got + i] = p[i];
		got += chunk;
	}
	return got;
}

void vcpu__dump(struct vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	fprintf(stderr, "kvmini: vCPU %u: %s (%s)\n", v->id, exit__name(v->run->exit_reason), why);
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable)\n");
		lastexits__print(stderr, &v->last);
		return;
	}
	fprintf(stderr, "  rip=%016llx rsp=%016llx rflags=%016llx\n",
		(unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rflags);
	fprintf(stderr, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		(unsigned long long)r.rax, (unsigned long long)r.rbx,
		(unsigned long long)r.rcx, (unsigned long long)r.rdx);
	fprintf(stderr, "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
		(unsigned long long)r.rsi, (unsigned long long)r.rdi,
		(unsigned long long)r.rbp, (unsigned long long)r.r8);
	fprintf(stderr, "  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
		(unsigned long long)r.r9, (unsigned long long)r.r10,
		(unsigned long long)r.r11, (unsigned long long)r.r12);
	fprintf(stderr, "  r13=%016llx r14=%016llx r15=%016llx\n",
		(unsigned long long)r.r13, (unsigned long long)r.r14, (unsigned long long)r.r15);
	fprintf(stderr, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	dump_seg("cs", &s.cs);
	dump_seg("ss", &s.ss);
	dump_seg("ds", &s.ds);
	dump_seg("tr", &s.tr);
	fprintf(stderr, "  gdt=%016llx/%04x idt=%016llx/%04x\n",
		(unsigned long long)s.gdt.base, s.gdt.limit,
		(unsigned long long)s.idt.base, s.idt.limit);
	uint8_t code[16];
	size_t n = vcpu__read_code(v, r.rip + s.cs.base * !(s.cs.l), code, sizeof(code));
	fprintf(stderr, "  code at rip:");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", code[i]);
	fprintf(stderr, n ? "\n" : " (not in guest RAM)\n");
	lastexits__print(stderr, &v->last);
}
