/* SPDX-License-Identifier: Apache-2.0 */
/* x86 VM and vCPU setup: TSS, identity map, in-kernel IOAPIC/PIC and PIT; CPUID, MSRs and LAPIC lines of each vCPU. */
#include "vmm/arch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "firmware/x86/layout.h"
#include "vmm/kvm.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "vmm/x86/cpu.h"

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff
#define APIC_LVT_LINT0       0x350
#define APIC_LVT_LINT1       0x360
#define APIC_MODE_EXTINT     (7u << 8)
#define APIC_MODE_NMI        (4u << 8)

#define CAP(c) { c, #c }
static const struct { int cap; const char *name; } x86_caps[] = {
	CAP(KVM_CAP_PIT2),             /* in-kernel PIT */
	CAP(KVM_CAP_SET_TSS_ADDR),
	CAP(KVM_CAP_EXT_CPUID),        /* KVM_GET_SUPPORTED_CPUID */
};

int arch__kvm_open(struct kvm *kvm, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(x86_caps) / sizeof(x86_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, x86_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s lacks %s, which kvmini needs", path, x86_caps[i].name);
			return -1;
		}
	}
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			break;
		c->nent = n;
		if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->arch = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	snprintf(err, errlen, "%s: KVM_GET_SUPPORTED_CPUID failed: %s", path, strerror(errno));
	return -1;
}

void arch__kvm_close(struct kvm *kvm)
{
	free(kvm->arch);
	kvm->arch = NULL;
}

int arch__vm_init(struct vm *vm, char *err, size_t errlen)
{
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS) < 0) {
		snprintf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -1;
	}
	uint64_t idmap = LAYOUT_IDENTITY_MAP;
	if (ioctl(vm->kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		snprintf(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
		snprintf(err, errlen, "KVM_CREATE_PIT2: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int set_lapic_lints(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t *lint0, *lint1;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -1;
	lint0 = (uint32_t *)&lapic.regs[APIC_LVT_LINT0];
	lint1 = (uint32_t *)&lapic.regs[APIC_LVT_LINT1];
	*lint0 = (*lint0 & ~(7u << 8)) | APIC_MODE_EXTINT;	/* the PIC's output */
	*lint1 = (*lint1 & ~(7u << 8)) | APIC_MODE_NMI;
	return ioctl(v->fd, KVM_SET_LAPIC, &lapic);
}

int arch__vcpu_init(struct vcpu *v, char *err, size_t errlen)
{
	const struct kvm_cpuid2 *sup = v->vm->kvm->arch;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c, sup, sz);
	x86__cpuid_patch(c, v->id, v->vm->ncpus);
	int r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0) {
		snprintf(err, errlen, "KVM_SET_CPUID2 on vCPU %u: %s", v->id, strerror(errno));
		return -1;
	}

	static const struct kvm_msr_entry init_msrs[] = {
		{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },            /* fast strings */
		{ .index = MSR_MTRR_DEF_TYPE, .data = (1 << 11) | 6 },   /* MTRRs on, default WB */
	};
	size_t n = sizeof(init_msrs) / sizeof(init_msrs[0]);
	struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) + sizeof(init_msrs));
	if (!msrs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	msrs->nmsrs = n;
	memcpy(msrs->entries, init_msrs, sizeof(init_msrs));
	r = ioctl(v->fd, KVM_SET_MSRS, msrs);
	free(msrs);
	if (r != (int)n) {
		/* not fatal: a kernel that refuses these still boots, with a warning */
		fprintf(stderr, "kvmini: warning: KVM_SET_MSRS on vCPU %u set %d of %zu MSRs\n",
			v->id, r, n);
	}
	if (set_lapic_lints(v) < 0) {
		snprintf(err, errlen, "KVM_GET/SET_LAPIC on vCPU %u: %s", v->id, strerror(errno));
		return -1;
	}
	return 0;
}
