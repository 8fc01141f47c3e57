/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 hosts: /proc/cpuinfo names no virtualization flag, and where /dev/kvm exists KVM runs at EL2. */
#include "vmm/kvm_host.h"

enum kvm_host_kind arch__host_cpu(const char *cpuinfo)
{
	(void)cpuinfo;
	return KVM_HOST_HW_ARM64;
}

const char *arch__kvm_module(enum kvm_host_kind cpu)
{
	(void)cpu;
	return "kvm";
}
