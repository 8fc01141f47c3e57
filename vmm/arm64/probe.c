/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 exit-cost probe: at address 0, "1: str wzr, [x0]; b 1b" with x0 an address no memory backs, so every store is an MMIO exit. */
#include "vmm/arch.h"

#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define PROBE_MMIO 0x10000ULL	/* above the probe's page: no memory there */

const uint8_t *arch__probe_code(size_t *len)
{
	/* b900001f  str wzr, [x0]; 17ffffff  b .-4 (little-endian words) */
	static const uint8_t code[] = { 0x1f, 0x00, 0x00, 0xb9, 0xff, 0xff, 0xff, 0x17 };

	*len = sizeof(code);
	return code;
}

const char *arch__probe_vm(int vm_fd)
{
	(void)vm_fd;
	return NULL;
}

static int set_reg(int vcpu_fd, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &r);
}

#define CORE(r) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(r))

const char *arch__probe_vcpu(int vm_fd, int vcpu_fd)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return "KVM_ARM_PREFERRED_TARGET";
	if (ioctl(vcpu_fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return "KVM_ARM_VCPU_INIT";
	if (set_reg(vcpu_fd, CORE(regs.pc), 0) || set_reg(vcpu_fd, CORE(regs.regs[0]), PROBE_MMIO))
		return "KVM_SET_ONE_REG";
	return NULL;
}

bool arch__probe_exit(const struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == PROBE_MMIO;
}
