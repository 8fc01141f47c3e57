/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/kvm: open it and check the API and every capability kvmini relies on. */
#ifndef KVMINI_VMM_KVM_H
#define KVMINI_VMM_KVM_H

#include <stddef.h>
#include <linux/kvm.h>

struct kvm {
	int fd;
	int run_size;              /* KVM_GET_VCPU_MMAP_SIZE */
	int max_vcpus;
	void *arch;                /* the architecture's (x86: KVM_GET_SUPPORTED_CPUID) */
};

/* Opens path (normally /dev/kvm). 0, or -1 with a one-line reason (and what to do, from
 * kvm__open_error) in err. */
int kvm__open(struct kvm *kvm, const char *path, char *err, size_t errlen);
void kvm__close(struct kvm *kvm);
/* KVM_CREATE_VM: the VM's fd, or -1 with errno. Retried on EINTR, which arm64 KVM answers
 * while it tears down an earlier VM (the exit-cost probe's). */
int kvm__create_vm(const struct kvm *kvm);

#include "vmm/kvm_host.h"

#endif
