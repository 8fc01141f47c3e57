/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 KVM ioctls in the vCPU and gdb stub threads' seccomp allow-lists, and a blocked syscall's arguments. */
#include "vmm/seccomp_rules.h"

#include <sys/ioctl.h>
#include <ucontext.h>
#include <linux/kvm.h>

/* A vCPU: the crash dump's registers (ONE_REG). */
static const struct seccomp_rule vcpu[] = {
	IOCTL(KVM_GET_ONE_REG),
};

/* The gdb stub (not on arm64 yet: --gdb is refused there). */
static const struct seccomp_rule gdb[] = {
	IOCTL(KVM_GET_ONE_REG),
};

const struct seccomp_ruleset seccomp_arch_vcpu = SET("vcpu-arm64", vcpu);
const struct seccomp_ruleset seccomp_arch_gdb = SET("gdb-arm64", gdb);

unsigned long long seccomp_arch__arg(const void *ucontext, unsigned i)
{
	const ucontext_t *uc = ucontext;

	return i < 6 ? (unsigned long long)uc->uc_mcontext.regs[i] : 0;
}
