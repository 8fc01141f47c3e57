/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/kvm: API version 12 and a named table of the capabilities kvmini relies on. */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/arch.h"

#define CAP(c) { c, #c }
/* (the architecture's own are in arch__kvm_open) */
static const struct { int cap; const char *name; } required_caps[] = {
	CAP(KVM_CAP_USER_MEMORY),      /* guest RAM from our mmap */
	CAP(KVM_CAP_IRQCHIP),          /* an in-kernel interrupt controller */
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
		kvm__open_error(path, e, NULL, err, errlen);
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
	if (arch__kvm_open(kvm, path, err, errlen) == 0)
		return 0;
fail:
	kvm__close(kvm);
	return -1;
}

int kvm__create_vm(const struct kvm *kvm)
{
	int fd = -1;

	for (int tries = 0; tries < 100; tries++) {
		fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
		if (fd >= 0 || errno != EINTR)
			break;
	}
	return fd;
}

void kvm__close(struct kvm *kvm)
{
	if (kvm->fd > 0)
		close(kvm->fd);
	arch__kvm_close(kvm);
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;
}
