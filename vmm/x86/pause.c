/* SPDX-License-Identifier: Apache-2.0 */
/* x86's hooks for pause and the API: telling the guest's kvmclock it was stopped, the architecture's name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/arch.h"
#include "vmm/vcpu.h"

void arch__vcpu_paused(struct vcpu *v)
{
	/* sets PVCLOCK_GUEST_STOPPED, which the guest's soft-lockup watchdog honours; EINVAL:
	 * the guest has not enabled kvmclock on this vCPU (nothing to tell) */
	if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) && errno != EINVAL)
		fprintf(stderr, "kvmini: warning: vCPU %u: KVM_KVMCLOCK_CTRL: %s\n", v->id,
			strerror(errno));
}

const char *arch__name(void)
{
	return "x86_64";
}
