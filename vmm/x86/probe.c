/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 exit-cost probe: flat real mode at address 0, "1: out %al, $0x80; jmp 1b". */
#include "vmm/arch.h"

#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/x86/cpu.h"

#define PROBE_PORT 0x80
#define PROBE_TSS 0xfffbd000UL	/* any address above the probe's page (VMX without
				 * unrestricted guest needs one for real mode) */

const uint8_t *arch__probe_code(size_t *len)
{
	static const uint8_t code[] = { 0xe6, PROBE_PORT, 0xeb, 0xfc };

	*len = sizeof(code);
	return code;
}

const char *arch__probe_vm(int vm_fd)
{
	return ioctl(vm_fd, KVM_SET_TSS_ADDR, PROBE_TSS) < 0 ? "KVM_SET_TSS_ADDR" : NULL;
}

const char *arch__probe_vcpu(int vm_fd, int vcpu_fd)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };

	(void)vm_fd;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return "KVM_GET_SREGS";
	x86__realmode_sregs(&sregs);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return "KVM_SET_SREGS";
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return "KVM_SET_REGS";
	return NULL;
}

bool arch__probe_exit(const struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_IO && run->io.port == PROBE_PORT;
}
