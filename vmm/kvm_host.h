/* SPDX-License-Identifier: Apache-2.0 */
/* What backs /dev/kvm on this host (hardware, paravirtual, nothing) and what a user should do. */
#ifndef KVMINI_VMM_KVM_HOST_H
#define KVMINI_VMM_KVM_HOST_H

#include <stddef.h>

enum kvm_host_kind {
	KVM_HOST_HW_VMX,       /* Intel VT-x */
	KVM_HOST_HW_SVM,       /* AMD-V */
	KVM_HOST_HW_ARM64,     /* arm64 with KVM at EL2 */
	KVM_HOST_PVM,          /* kvm_pvm: paravirtual nested KVM, guest code emulated (slow) */
	KVM_HOST_UNKNOWN,      /* no vmx/svm flag: some nested or emulated KVM */
};

/* The three situations every entry point tells apart. */
enum kvm_situation {
	KVM_SIT_HARDWARE,      /* a /dev/kvm kvmini can open, backed by VT-x or AMD-V */
	KVM_SIT_PARAVIRT,      /* one it can open, but paravirtual or emulated (kvm_pvm, ...) */
	KVM_SIT_NONE,          /* no /dev/kvm, or one this user cannot open */
};

/* Where to look; a NULL member means the real one (/dev/kvm, /sys/module, /proc/cpuinfo).
 * Tests point them at files of their own. */
struct kvm_host_paths {
	const char *dev;
	const char *modules;   /* a directory with one entry per loaded module */
	const char *cpuinfo;
};

struct kvm_host {
	enum kvm_situation sit;
	enum kvm_host_kind kind;   /* what backs the device, or the CPU's own flags when there is none */
	int dev_errno;             /* why the device did not open (0 when it did) */
	char line[480];            /* one line for the user: what this is and what to do */
};

/* Decides from sysfs and a cpuinfo text (pass NULL paths for the real ones; tests pass files). */
enum kvm_host_kind kvm__host_kind(const char *pvm_sysfs, const char *cpuinfo_path);
/* What backs a usable /dev/kvm, and what that means, for the kinds above. */
const char *kvm__host_kind_desc(enum kvm_host_kind k);
/* The one-line reason (and what to do) when open(dev) failed with errno e. */
void kvm__open_error(const char *dev, int e, const struct kvm_host_paths *p, char *err,
		     size_t errlen);
/* Opens the device read-write to decide which situation this is. p may be NULL. */
void kvm__probe_host(const struct kvm_host_paths *p, struct kvm_host *h);
/* "hardware", "paravirtual" or "none" */
const char *kvm__situation_name(enum kvm_situation s);

/* The architecture's (vmm/ARCH/host.c): what the CPU says of hardware virtualization (x86:
 * the vmx/svm flags of cpuinfo, a /proc/cpuinfo-like file; arm64: KVM at EL2), and the KVM
 * module to load for it. */
enum kvm_host_kind arch__host_cpu(const char *cpuinfo);
const char *arch__kvm_module(enum kvm_host_kind cpu);

#endif
