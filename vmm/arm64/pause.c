/* SPDX-License-Identifier: Apache-2.0 */
/* arm64's hooks for pause and the API: nothing to tell the guest (KVM_KVMCLOCK_CTRL is x86's), the architecture's name. */
#include "vmm/arch.h"

void arch__vcpu_paused(struct vcpu *v)
{
	(void)v;
}

const char *arch__name(void)
{
	return "aarch64";
}
