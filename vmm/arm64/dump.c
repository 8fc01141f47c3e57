/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 registers for the crash report (x0-x30, sp, pc, pstate and the EL1 system registers that say why it stopped), through KVM_GET_ONE_REG. */
#include "vmm/arch.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/vcpu.h"

#define CORE(r) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(r))
#define SYS(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

static int get(int fd, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &r);
}

int arch__dump_regs(FILE *f, struct vcpu *v, uint64_t *pc)
{
	uint64_t x[31], sp, pstate, esr = 0, far = 0, elr = 0, sctlr = 0;

	for (unsigned i = 0; i < 31; i++)
		if (get(v->fd, CORE(regs.regs[i]), &x[i]))
			return -1;
	if (get(v->fd, CORE(regs.pc), pc) || get(v->fd, CORE(regs.sp), &sp) ||
	    get(v->fd, CORE(regs.pstate), &pstate))
		return -1;
	get(v->fd, SYS(3, 0, 5, 2, 0), &esr);	/* ESR_EL1 */
	get(v->fd, SYS(3, 0, 6, 0, 0), &far);	/* FAR_EL1 */
	get(v->fd, CORE(elr_el1), &elr);
	get(v->fd, SYS(3, 0, 1, 0, 0), &sctlr);	/* SCTLR_EL1 */
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

/* arm64 KVM has no KVM_TRANSLATE: with the MMU off (the boot path) a virtual address is the
 * physical one; with it on, the walk of the guest's tables is not done yet (-1: the dump says
 * the code is not in guest RAM). */
int arch__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	uint64_t sctlr;

	if (get(v->fd, ARM64_SYS_REG(3, 0, 1, 0, 0), &sctlr) || (sctlr & 1))
		return -1;
	*gpa = gva;
	return 0;
}
