/* SPDX-License-Identifier: Apache-2.0 */
/* What one VM exit costs on this machine: a scratch VM's vCPU writes an I/O port in a loop. */
#include "vmm/exit_cost.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm/x86.h"

#define PROBE_PORT 0x80
#define PROBE_TSS 0xfffbd000UL	/* any address above the probe's page (VMX without
				 * unrestricted guest needs one for real mode) */

struct probe {
	int vm, vcpu;
	void *page;
	struct kvm_run *run;
	size_t run_size;
};

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* The scratch VM: one page at guest address 0 holding "1: out %al, $0x80; jmp 1b", one
 * vCPU in flat real mode at its start. No irqchip: every port exits to kvmini. */
static const char *probe_create(struct probe *p, const struct kvm *kvm)
{
	static const uint8_t code[] = { 0xe6, PROBE_PORT, 0xeb, 0xfc };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };

	p->vm = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return "KVM_CREATE_VM";
	p->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->page == MAP_FAILED) {
		p->page = NULL;
		return "mmap";
	}
	memcpy(p->page, code, sizeof(code));
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
		.memory_size = 4096, .userspace_addr = (uintptr_t)p->page };
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(p->vm, KVM_SET_TSS_ADDR, PROBE_TSS) < 0)
		return "KVM_SET_TSS_ADDR";
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return "KVM_CREATE_VCPU";
	p->run_size = (size_t)kvm->run_size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return "mmap of kvm_run";
	}
	if (ioctl(p->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return "KVM_GET_SREGS";
	x86__realmode_sregs(&sregs);
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return "KVM_SET_SREGS";
	if (ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
		return "KVM_SET_REGS";
	return NULL;
}

static void probe_destroy(struct probe *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->vcpu >= 0)
		close(p->vcpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->page)
		munmap(p->page, 4096);
}

long exit_cost__measure(const struct kvm *kvm, char *err, size_t errlen)
{
	struct probe p = { .vm = -1, .vcpu = -1 };
	long t[EXIT_COST_SAMPLES], median = -1;
	const char *what = probe_create(&p, kvm);

	for (int i = 0; !what && i < EXIT_COST_WARMUP + EXIT_COST_SAMPLES; i++) {
		long t0 = now_ns();
		if (ioctl(p.vcpu, KVM_RUN, 0) < 0 && errno != EINTR) {
			what = "KVM_RUN";
			break;
		}
		long dt = now_ns() - t0;
		if (p.run->exit_reason != KVM_EXIT_IO || p.run->io.port != PROBE_PORT) {
			snprintf(err, errlen, "measuring the exit cost: exit %u instead of the probe's "
				 "port write", p.run->exit_reason);
			probe_destroy(&p);
			return -1;
		}
		if (i >= EXIT_COST_WARMUP)
			t[i - EXIT_COST_WARMUP] = dt;
	}
	if (what) {
		snprintf(err, errlen, "measuring the exit cost: %s: %s", what, strerror(errno));
	} else {
		qsort(t, EXIT_COST_SAMPLES, sizeof(t[0]), cmp_long);
		median = t[EXIT_COST_SAMPLES / 2];
	}
	probe_destroy(&p);
	return median;
}
