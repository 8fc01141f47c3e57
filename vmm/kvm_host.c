/* SPDX-License-Identifier: Apache-2.0 */
/* What backs /dev/kvm on this host (hardware, paravirtual, nothing) and what a user should do. */
#include "vmm/kvm_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NESTED_L1 "the nested L1 harness, which needs no /dev/kvm (make demo, make check; " \
		  "docs/nested.md)"
#define NESTED_HINT "or boot guests inside " NESTED_L1

enum kvm_host_kind kvm__host_kind(const char *pvm_sysfs, const char *cpuinfo_path)
{
	if (access(pvm_sysfs ? pvm_sysfs : "/sys/module/kvm_pvm", F_OK) == 0)
		return KVM_HOST_PVM;
	return arch__host_cpu(cpuinfo_path ? cpuinfo_path : "/proc/cpuinfo");
}

const char *kvm__host_kind_desc(enum kvm_host_kind k)
{
	switch (k) {
	case KVM_HOST_HW_VMX:
		return "hardware virtualization (Intel VT-x)";
	case KVM_HOST_HW_SVM:
		return "hardware virtualization (AMD-V)";
	case KVM_HOST_HW_ARM64:
		return "hardware virtualization (arm64 EL2)";
	case KVM_HOST_PVM:
		return "paravirtual nested KVM (kvm_pvm): guest code is emulated, ~3000x slower; "
		       "boot Linux through the nested harness (make demo)";
	default:
		return "no vmx/svm CPU flag: a nested or emulated KVM, expect it to be slow";
	}
}

static bool module_loaded(const struct kvm_host_paths *p, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", p && p->modules ? p->modules : "/sys/module", name);
	return access(path, F_OK) == 0;
}

void kvm__open_error(const char *dev, int e, const struct kvm_host_paths *p, char *err,
		     size_t errlen)
{
	enum kvm_host_kind cpu = arch__host_cpu(p && p->cpuinfo ? p->cpuinfo : "/proc/cpuinfo");
	const char *mod = arch__kvm_module(cpu);

	if (e == EACCES || e == EPERM) {
		snprintf(err, errlen, "%s: permission denied: add your user to the 'kvm' group (sudo "
			 "usermod -aG kvm $USER, then log in again) or run as root", dev);
	} else if (e == ENOENT && module_loaded(p, "kvm_pvm")) {
		snprintf(err, errlen, "%s does not exist: the kvm_pvm module is loaded but did not "
			 "bind (this kernel is itself a kvm-pvm guest; dmesg says so) and the CPU "
			 "shows no VT-x/AMD-V: boot guests inside %s", dev, NESTED_L1);
	} else if (e == ENOENT && cpu != KVM_HOST_UNKNOWN) {
		snprintf(err, errlen, "%s does not exist: load the kvm module (sudo modprobe %s); %s",
			 dev, mod, NESTED_HINT);
	} else if (e == ENOENT) {
		snprintf(err, errlen, "%s does not exist and the CPU shows no VT-x/AMD-V: enable "
			 "virtualization in the firmware (or nested virtualization in the "
			 "hypervisor this machine runs in) and load kvm_intel or kvm_amd; %s", dev,
			 NESTED_HINT);
	} else if (e == ENXIO || e == ENODEV) {
		snprintf(err, errlen, "%s exists but no KVM module serves it (%s): load it (sudo "
			 "modprobe %s); %s", dev, strerror(e), mod, NESTED_HINT);
	} else {
		snprintf(err, errlen, "cannot open %s: %s; %s", dev, strerror(e), NESTED_HINT);
	}
}

void kvm__probe_host(const struct kvm_host_paths *p, struct kvm_host *h)
{
	const char *dev = p && p->dev ? p->dev : "/dev/kvm";
	char pvm[512];
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	memset(h, 0, sizeof(*h));
	if (fd < 0) {
		h->sit = KVM_SIT_NONE;
		h->dev_errno = errno;
		h->kind = arch__host_cpu(p && p->cpuinfo ? p->cpuinfo : "/proc/cpuinfo");
		kvm__open_error(dev, h->dev_errno, p, h->line, sizeof(h->line));
		return;
	}
	close(fd);
	snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", p && p->modules ? p->modules : "/sys/module");
	h->kind = kvm__host_kind(pvm, p ? p->cpuinfo : NULL);
	h->sit = h->kind == KVM_HOST_HW_VMX || h->kind == KVM_HOST_HW_SVM ||
		 h->kind == KVM_HOST_HW_ARM64 ? KVM_SIT_HARDWARE : KVM_SIT_PARAVIRT;
	snprintf(h->line, sizeof(h->line), "%s: %s", dev, kvm__host_kind_desc(h->kind));
}

const char *kvm__situation_name(enum kvm_situation s)
{
	return s == KVM_SIT_HARDWARE ? "hardware" : s == KVM_SIT_PARAVIRT ? "paravirtual" : "none";
}
