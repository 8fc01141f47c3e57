/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU: its KVM fd, the shared kvm_run page and its thread (the loop is vmm/run.c). */
#ifndef KVMINI_VMM_VCPU_H
#define KVMINI_VMM_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/kvm.h>

#include "vmm/lastexits.h"

#define SIG_VCPU_KICK SIGRTMIN	/* SIGUSR1/SIGUSR2 are the user's: exit stats */

struct vm;
struct stats_vcpu;

/* What the run loop does after a vCPU's exit was handled (vmm/exit.c, the gdb stub). */
enum exit_action { EXIT_CONTINUE, EXIT_STOP };
struct trace_vcpu;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	pid_t tid;             /* its thread's id, once it runs (vm.info) */
	/* userspace exits seen by this vCPU (written by it alone, relaxed atomic stores: the
	 * API reads them while it runs) */
	uint64_t exits;
	uint64_t io_exits, mmio_exits;
	struct stats_vcpu *stats; /* --exit-stats: this vCPU's tables (owned), NULL when off */
	struct trace_vcpu *trace; /* --trace-exits: this vCPU's ring (the trace's), NULL when off */
	struct lastexits last;    /* the last exits, for crash dumps */
};

int vcpu__create(struct vcpu *v, struct vm *vm, unsigned id, char *err, size_t errlen);
void vcpu__destroy(struct vcpu *v);
/* The VM's vm->ncpus vCPUs, created (vm->vcpus) and destroyed together; 0, or -1 with err (the
 * ones created are left for vcpu__destroy_all). */
int vcpu__create_all(struct vm *vm, char *err, size_t errlen);
/* Every vCPU of the VM (their statistics first: stats__disable_vm); nothing if there are none. */
void vcpu__destroy_all(struct vm *vm);
/* Makes a running vCPU leave KVM_RUN soon (signal + immediate_exit). */
void vcpu__kick(struct vcpu *v);
/* Guest memory by virtual address, through the vCPU's page tables (arch__translate) and
 * gm__ptr page by page: copies up to n bytes at gva into buf (reads) or from buf (writes) and
 * stops at the first page that does not translate or is not RAM. Returns the bytes done (the
 * crash dump's code bytes, the gdb stub's memory packets). */
size_t vcpu__access_virt(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n, bool write);

#endif
