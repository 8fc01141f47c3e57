/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 KVM ioctls in the vCPU and gdb stub threads' seccomp allow-lists, and a blocked syscall's arguments. */
#include "vmm/seccomp_rules.h"

#include <sys/ioctl.h>
#include <ucontext.h>
#include <linux/kvm.h>

/* A vCPU: the crash dump's registers and the translation registers (ONE_REG); the gdb hooks
 * (a debug exit's pc, a BRK of the guest's own given back as its EL1 exception). */
static const struct seccomp_rule vcpu[] = {
	IOCTL(KVM_GET_ONE_REG),
	IOCTL(KVM_SET_ONE_REG),
};

/* The gdb stub: the parked vCPUs' registers (ONE_REG) and guest debug. */
static const struct seccomp_rule gdb[] = {
	IOCTL(KVM_GET_ONE_REG),
	IOCTL(KVM_SET_ONE_REG),
	IOCTL(KVM_SET_GUEST_DEBUG),
};

const struct seccomp_ruleset seccomp_arch_vcpu = SET("vcpu-arm64", vcpu);
const struct seccomp_ruleset seccomp_arch_gdb = SET("gdb-arm64", gdb);

unsigned long long seccomp_arch__arg(const void *ucontext, unsigned i)
{
	const ucontext_t *uc = ucontext;

	return i < 6 ? (unsigned long long)uc->uc_mcontext.regs[i] : 0;
}
