/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/kvm: open it, check the API and every capability kvmini relies on, say what backs it. */
#ifndef KVMINI_VMM_KVM_H
#define KVMINI_VMM_KVM_H

#include <stddef.h>
#include <linux/kvm.h>

struct kvm {
	int fd;
	int run_size;              /* KVM_GET_VCPU_MMAP_SIZE */
	int max_vcpus;
	struct kvm_cpuid2 *cpuid;  /* KVM_GET_SUPPORTED_CPUID */
};

/* Opens path (normally /dev/kvm). 0, or -1 with a one-line reason (and what to do) in err. */
int kvm__open(struct kvm *kvm, const char *path, char *err, size_t errlen);
void kvm__close(struct kvm *kvm);

enum kvm_host_kind {
	KVM_HOST_HW_VMX,       /* Intel VT-x */
	KVM_HOST_HW_SVM,       /* AMD-V */
	KVM_HOST_PVM,          /* kvm_pvm: paravirtual nested KVM, guest code emulated (slow) */
	KVM_HOST_UNKNOWN,      /* no vmx/svm flag: some nested or emulated KVM */
};
/* Decides from sysfs and a cpuinfo text (pass NULL paths for the real ones; tests pass files). */
enum kvm_host_kind kvm__host_kind(const char *pvm_sysfs, const char *cpuinfo_path);
/* One line for the user: what backs /dev/kvm and what that means. */
const char *kvm__host_kind_desc(enum kvm_host_kind k);

#endif
