/* SPDX-License-Identifier: Apache-2.0 */
/* What one VM exit costs on this machine: a scratch VM's vCPU exits to userspace in a loop (the loop is the architecture's). */
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

#include "vmm/arch.h"

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

/* The scratch VM: one page at guest address 0 holding the architecture's loop
 * (arch__probe_code), one vCPU at its start. No irqchip: every exit comes to kvmini. */
static const char *probe_create(struct probe *p, const struct kvm *kvm)
{
	size_t len;
	const uint8_t *code = arch__probe_code(&len);
	const char *what;

	p->vm = kvm__create_vm(kvm);
	if (p->vm < 0)
		return "KVM_CREATE_VM";
	p->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->page == MAP_FAILED) {
		p->page = NULL;
		return "mmap";
	}
	memcpy(p->page, code, len);
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
		.memory_size = 4096, .userspace_addr = (uintptr_t)p->page };
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return "KVM_SET_USER_MEMORY_REGION";
	if ((what = arch__probe_vm(p->vm)))
		return what;
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return "KVM_CREATE_VCPU";
	p->run_size = (size_t)kvm->run_size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return "mmap of kvm_run";
	}
	return arch__probe_vcpu(p->vm, p->vcpu);
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
		if (!arch__probe_exit(p.run)) {
			snprintf(err, errlen, "measuring the exit cost: exit %u instead of the probe's "
				 "exit", p.run->exit_reason);
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
