/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 KVM ioctls in the vCPU and gdb stub threads' seccomp allow-lists. */
#include "vmm/seccomp_rules.h"

#include <sys/ioctl.h>
#include <ucontext.h>
#include <linux/kvm.h>

/* A vCPU: the crash dump's registers and KVM_TRANSLATE for the code bytes; the gdb hooks (a
 * #BP given back through the vCPU events); telling the guest's kvmclock it was paused. */
static const struct seccomp_rule vcpu[] = {
	IOCTL(KVM_KVMCLOCK_CTRL),
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_SET_REGS),
	IOCTL(KVM_GET_SREGS),
	IOCTL(KVM_TRANSLATE),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_SET_VCPU_EVENTS),
};

/* The gdb stub: the parked vCPUs' registers, FPU, address translation and guest debug. */
static const struct seccomp_rule gdb[] = {
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_SET_REGS),
	IOCTL(KVM_GET_SREGS),
	IOCTL(KVM_SET_SREGS),
	IOCTL(KVM_GET_FPU),
	IOCTL(KVM_SET_FPU),
	IOCTL(KVM_TRANSLATE),
	IOCTL(KVM_SET_GUEST_DEBUG),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_SET_VCPU_EVENTS),
};

const struct seccomp_ruleset seccomp_arch_vcpu = SET("vcpu-x86", vcpu);
const struct seccomp_ruleset seccomp_arch_gdb = SET("gdb-x86", gdb);

unsigned long long seccomp_arch__arg(const void *ucontext, unsigned i)
{
	static const int regs[6] = { REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9 };
	const ucontext_t *uc = ucontext;

	return i < 6 ? (unsigned long long)uc->uc_mcontext.gregs[regs[i]] : 0;
}
