/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 vCPU registers through KVM_GET_ONE_REG / KVM_SET_ONE_REG: the register ids and two small helpers. */
#ifndef KVMINI_VMM_ARM64_ONE_REG_H
#define KVMINI_VMM_ARM64_ONE_REG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

/* a core register (struct kvm_regs member r) of size KVM_REG_SIZE_U32/U64/U128 */
#define A64_CORE_SZ(r, sz) \
	(KVM_REG_ARM64 | (sz) | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(r))
#define A64_CORE(r)      A64_CORE_SZ(r, KVM_REG_SIZE_U64)
#define A64_SYS(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

#define A64_SCTLR_EL1    A64_SYS(3, 0, 1, 0, 0)
#define A64_TTBR0_EL1    A64_SYS(3, 0, 2, 0, 0)
#define A64_TTBR1_EL1    A64_SYS(3, 0, 2, 0, 1)
#define A64_TCR_EL1      A64_SYS(3, 0, 2, 0, 2)
#define A64_ESR_EL1      A64_SYS(3, 0, 5, 2, 0)
#define A64_FAR_EL1      A64_SYS(3, 0, 6, 0, 0)
#define A64_VBAR_EL1     A64_SYS(3, 0, 12, 0, 0)

#define A64_PSTATE_MODE  0xfULL      /* M[3:0]: 0 EL0t, 4 EL1t, 5 EL1h */
#define A64_PSTATE_EL1H  0x5ULL
#define A64_PSTATE_DAIF  (0xfULL << 6)

/* The register id's value into val (its size: 4, 8 or 16 bytes): 0 or -1. */
static inline int a64_reg_get(int fd, uint64_t id, void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &r) < 0 ? -1 : 0;
}

static inline int a64_reg_set(int fd, uint64_t id, const void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_SET_ONE_REG, &r) < 0 ? -1 : 0;
}

#endif
