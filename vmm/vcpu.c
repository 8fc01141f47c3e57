/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: creation, CPUID/MSR/LAPIC setup, and the kick that makes one leave KVM_RUN. */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vm.h"
#include "vmm/x86.h"

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff
#define APIC_LVT_LINT0       0x350
#define APIC_LVT_LINT1       0x360
#define APIC_MODE_EXTINT     (7u << 8)
#define APIC_MODE_NMI        (4u << 8)

int vcpu__create(struct vcpu *v, struct vm *vm, unsigned id, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, vm->kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		snprintf(err, errlen, "mmap kvm_run of vCPU %u: %s", id, strerror(errno));
		return -1;
	}
	return vcpu__init_cpu(v, err, errlen);
}

int vcpu__create_all(struct vm *vm, char *err, size_t errlen)
{
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu__create(&vm->vcpus[i], vm, i, err, errlen))
			return -1;
	return 0;
}

void vcpu__destroy_all(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu__destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
}

void vcpu__destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->kvm->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
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

int vcpu__init_cpu(struct vcpu *v, char *err, size_t errlen)
{
	const struct kvm_cpuid2 *sup = v->vm->kvm->cpuid;
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

void vcpu__kick(struct vcpu *v)
{
	if (v->started)
		pthread_kill(v->thread, SIG_VCPU_KICK);
}
