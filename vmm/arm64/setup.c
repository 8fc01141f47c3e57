/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 VM and vCPU setup: the KVM capabilities, the vGIC device (GICv3, or GICv2 where the host has only that), each vCPU's KVM_ARM_VCPU_INIT with PSCI, SPI numbering for KVM_IRQ_LINE. */
#include "vmm/arch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "firmware/arm64/layout.h"
#include "vmm/kvm.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CAP(c) { c, #c }
static const struct { int cap; const char *name; } arm64_caps[] = {
	CAP(KVM_CAP_ARM_PSCI_0_2),     /* secondary vCPUs, poweroff and reset through PSCI */
	CAP(KVM_CAP_ONE_REG),          /* the boot registers */
	CAP(KVM_CAP_DEVICE_CTRL),      /* the vGIC device */
};

int arch__kvm_open(struct kvm *kvm, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(arm64_caps) / sizeof(arm64_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, arm64_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s lacks %s, which kvmini needs", path,
				 arm64_caps[i].name);
			return -1;
		}
	}
	kvm->arch = NULL;
	return 0;
}

void arch__kvm_close(struct kvm *kvm)
{
	kvm->arch = NULL;
}

static int vgic_attr(int fd, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a);
}

/* an ITS for MSIs (virtio-pci's MSI-X); without one (vm->msi_fd -1) PCI devices use INTx */
static void add_its(struct vm *vm)
{
	struct kvm_create_device d = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
	uint64_t base = A64_GITS;

	if (ioctl(vm->fd, KVM_CREATE_DEVICE, &d) < 0)
		return;
	if (vgic_attr(d.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &base)) {
		close(d.fd);
		return;
	}
	vm->msi_fd = (int)d.fd;
}

/* a GICv3 at the board's addresses (its redistributors one per vCPU) */
static int add_gicv3(struct vm *vm, char *err, size_t errlen)
{
	uint64_t dist = A64_GICD, redist = A64_GICR;

	if (vgic_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist) ||
	    vgic_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
		      &redist)) {
		snprintf(err, errlen, "placing the GICv3: %s", strerror(errno));
		return -1;
	}
	add_its(vm);
	return 0;
}

/* a GICv2 (hosts whose GIC has no v3 CPU interface for guests): distributor and CPU
 * interface, 224 SPIs, at most 8 vCPUs; MSIs go through the board's v2m frame */
static int add_gicv2(struct vm *vm, char *err, size_t errlen)
{
	uint64_t dist = A64_GICD, cpu = A64_GICC;
	uint32_t nr = A64_GICV2_NR_IRQS;

	if (vm->ncpus > A64_GICV2_MAX_CPUS) {
		snprintf(err, errlen, "this host's vGIC is a GICv2: at most %u vCPUs, not %u",
			 A64_GICV2_MAX_CPUS, vm->ncpus);
		return -1;
	}
	if (vgic_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist) ||
	    vgic_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu) ||
	    vgic_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr)) {
		snprintf(err, errlen, "placing the GICv2: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* the vGIC: a GICv3 (with an ITS where KVM has one), else a GICv2 where that is all the host
 * offers; initialised once the last vCPU exists (arch__vcpu_init) */
int arch__vm_init(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_create_device d = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int e3;

	vm->irqchip_version = 3;
	if (ioctl(vm->fd, KVM_CREATE_DEVICE, &d) < 0) {
		e3 = errno;
		d = (struct kvm_create_device){ .type = KVM_DEV_TYPE_ARM_VGIC_V2 };
		if (ioctl(vm->fd, KVM_CREATE_DEVICE, &d) < 0) {
			snprintf(err, errlen, "this KVM can create neither a GICv3 (%s) nor a GICv2 "
				 "(%s); kvmini's arm64 board needs one", strerror(e3),
				 strerror(errno));
			return -1;
		}
		vm->irqchip_version = 2;
	}
	vm->irqchip_fd = (int)d.fd;
	return vm->irqchip_version == 3 ? add_gicv3(vm, err, errlen) : add_gicv2(vm, err, errlen);
}

/* PSCI 0.2; every vCPU but the first starts powered off until the guest's CPU_ON */
int arch__vcpu_init(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_vcpu_init init;

	if (ioctl(v->vm->fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		snprintf(err, errlen, "KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return -1;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (v->id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		snprintf(err, errlen, "KVM_ARM_VCPU_INIT of vCPU %u: %s", v->id, strerror(errno));
		return -1;
	}
	if (v->id + 1 != v->vm->ncpus)
		return 0;
	if (vgic_attr(v->vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
		      NULL)) {
		snprintf(err, errlen, "initialising the GICv%u: %s", v->vm->irqchip_version,
			 strerror(errno));
		return -1;
	}
	if (v->vm->msi_fd >= 0 &&
	    vgic_attr(v->vm->msi_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL)) {
		close(v->vm->msi_fd);	/* no MSIs then: PCI devices fall back to INTx */
		v->vm->msi_fd = -1;
	}
	return 0;
}

/* an SPI: type in bits 24-27, INTID (32 + SPI) below; no vCPU index for SPIs */
uint32_t arch__irq_line(unsigned gsi)
{
	return (uint32_t)KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT | (32 + gsi);
}

uint64_t arch__cycles(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
}
