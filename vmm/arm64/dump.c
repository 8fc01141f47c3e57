/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 registers for the crash report (x0-x30, sp, pc, pstate and the EL1 system registers that say why it stopped), through KVM_GET_ONE_REG. */
#include "vmm/arch.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/arm64/mmu.h"
#include "vmm/arm64/one_reg.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"


int arch__dump_regs(FILE *f, struct vcpu *v, uint64_t *pc)
{
	uint64_t x[31], sp, pstate, esr = 0, far = 0, elr = 0, sctlr = 0;

	for (unsigned i = 0; i < 31; i++)
		if (a64_reg_get(v->fd, A64_CORE(regs.regs[i]), &x[i]))
			return -1;
	if (a64_reg_get(v->fd, A64_CORE(regs.pc), pc) || a64_reg_get(v->fd, A64_CORE(regs.sp), &sp) ||
	    a64_reg_get(v->fd, A64_CORE(regs.pstate), &pstate))
		return -1;
	a64_reg_get(v->fd, A64_ESR_EL1, &esr);
	a64_reg_get(v->fd, A64_FAR_EL1, &far);
	a64_reg_get(v->fd, A64_CORE(elr_el1), &elr);
	a64_reg_get(v->fd, A64_SCTLR_EL1, &sctlr);
	fprintf(f, "  pc=%016llx sp=%016llx pstate=%016llx\n", (unsigned long long)*pc,
		(unsigned long long)sp, (unsigned long long)pstate);
	for (unsigned i = 0; i < 31; i += 4) {
		fprintf(f, " ");
		for (unsigned j = i; j < i + 4 && j < 31; j++)
			fprintf(f, " x%-2u=%016llx", j, (unsigned long long)x[j]);
		fprintf(f, "\n");
	}
	fprintf(f, "  esr_el1=%016llx far_el1=%016llx elr_el1=%016llx sctlr_el1=%016llx\n",
		(unsigned long long)esr, (unsigned long long)far, (unsigned long long)elr,
		(unsigned long long)sctlr);
	return 0;
}

const char *arch__pc_name(void)
{
	return "pc";
}

/* a descriptor of the guest's tables, read from its RAM */
static int read_desc(void *ctx, uint64_t pa, uint64_t *val)
{
	return gm__read(ctx, val, pa, sizeof(*val)) ? -1 : 0;
}

/* arm64 KVM has no KVM_TRANSLATE: the guest's own tables are walked (vmm/arm64/mmu.c), from
 * the translation registers of this vCPU (with the MMU off, the address is the physical one). */
int arch__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct a64_mmu m;

	if (a64_reg_get(v->fd, A64_SCTLR_EL1, &m.sctlr) || a64_reg_get(v->fd, A64_TCR_EL1, &m.tcr) ||
	    a64_reg_get(v->fd, A64_TTBR0_EL1, &m.ttbr0) || a64_reg_get(v->fd, A64_TTBR1_EL1, &m.ttbr1))
		return -1;
	return a64_mmu__translate(&m, gva, read_desc, &v->vm->mem, gpa);
}
