/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/kvm: API version 12, a named table of required capabilities, and what kind of KVM it is. */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CAP(c) { c, #c }
static const struct { int cap; const char *name; } required_caps[] = {
	CAP(KVM_CAP_USER_MEMORY),      /* guest RAM from our mmap */
	CAP(KVM_CAP_IRQCHIP),          /* in-kernel PIC, IOAPIC, LAPIC */
	CAP(KVM_CAP_PIT2),             /* in-kernel PIT */
	CAP(KVM_CAP_SET_TSS_ADDR),
	CAP(KVM_CAP_EXT_CPUID),        /* KVM_GET_SUPPORTED_CPUID */
	CAP(KVM_CAP_IRQ_ROUTING),
	CAP(KVM_CAP_IOEVENTFD),        /* virtio kicks without a userspace exit */
	CAP(KVM_CAP_IRQFD),            /* virtio interrupts without a userspace exit */
	CAP(KVM_CAP_IMMEDIATE_EXIT),   /* race-free vCPU kick */
	CAP(KVM_CAP_MP_STATE),
};

int kvm__open(struct kvm *kvm, const char *path, char *err, size_t errlen)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "%s does not exist: load the kvm module (modprobe kvm_intel "
				 "or kvm_amd) and enable VT-x/AMD-V in the firmware", path);
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "%s: permission denied: add your user to the 'kvm' group "
				 "(sudo usermod -aG kvm $USER, then log in again) or run as root", path);
		else
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -1;
	}
	int v = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, kvmini needs %d", path, v, KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s lacks %s, which kvmini needs", path,
				 required_caps[i].name);
			goto fail;
		}
	}
	kvm->run_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "%s: bad KVM_GET_VCPU_MMAP_SIZE %d", path, kvm->run_size);
		goto fail;
	}
	kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4;

	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			break;
		c->nent = n;
		if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	snprintf(err, errlen, "%s: KVM_GET_SUPPORTED_CPUID failed: %s", path, strerror(errno));
fail:
	kvm__close(kvm);
	return -1;
}

void kvm__close(struct kvm *kvm)
{
	if (kvm->fd > 0)
		close(kvm->fd);
	free(kvm->cpuid);
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;
}

static bool cpuinfo_has_flag(const char *path, const char *flag)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *t = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n");
		     t; t = strtok(NULL, " \t\n"))
			if (!strcmp(t, flag))
				found = true;
	}
	fclose(f);
	return found;
}

enum kvm_host_kind kvm__host_kind(const char *pvm_sysfs, const char *cpuinfo_path)
{
	if (!pvm_sysfs)
		pvm_sysfs = "/sys/module/kvm_pvm";
	if (!cpuinfo_path)
		cpuinfo_path = "/proc/cpuinfo";
	if (access(pvm_sysfs, F_OK) == 0)
		return KVM_HOST_PVM;
	if (cpuinfo_has_flag(cpuinfo_path, "vmx"))
		return KVM_HOST_HW_VMX;
	if (cpuinfo_has_flag(cpuinfo_path, "svm"))
		return KVM_HOST_HW_SVM;
	return KVM_HOST_UNKNOWN;
}

const char *kvm__host_kind_desc(enum kvm_host_kind k)
{
	switch (k) {
	case KVM_HOST_HW_VMX:
		return "hardware virtualization (Intel VT-x)";
	case KVM_HOST_HW_SVM:
		return "hardware virtualization (AMD-V)";
	case KVM_HOST_PVM:
		return "paravirtual nested KVM (kvm_pvm): guest code is emulated, ~3000x slower; "
		       "boot Linux through the nested harness (make demo)";
	default:
		return "no vmx/svm CPU flag: a nested or emulated KVM, expect it to be slow";
	}
}
