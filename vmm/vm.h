/* SPDX-License-Identifier: Apache-2.0 */
/* A VM: the KVM VM fd, guest RAM, the buses, the vCPUs, and how it stops. */
#ifndef KVMINI_VMM_VM_H
#define KVMINI_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

struct vcpu;
struct gdb;

/* Pausing the VM (vmm/run.c: run__pause): while hold is set every vCPU parks outside
 * KVM_RUN; nparked counts those parked. */
struct vm_hold {
	pthread_mutex_t lock;
	pthread_cond_t run_cond, park_cond;
	int hold;                     /* atomic: 1 from a pause until the resume */
	unsigned nparked;
};

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,   /* guest ACPI S5 or KVM system event */
	VM_STOP_REBOOT,     /* i8042 reset, ACPI reset register, KVM reset event */
	VM_STOP_PANIC,      /* pvpanic or KVM crash event */
	VM_STOP_CRASH,      /* triple fault, failed entry, internal error, unknown exit */
	VM_STOP_USER,       /* Ctrl-A x, a signal */
	VM_STOP_ERROR,      /* a host-side failure (ioctl) */
	VM_STOP_TEST,       /* a test payload wrote the test-exit port */
};

struct vm {
	struct kvm *kvm;
	int fd;
	int irqchip_fd;               /* the architecture's in-kernel irqchip device (arm64: the
				       * vGIC, KVM_CREATE_DEVICE), -1: none or KVM_CREATE_IRQCHIP */
	int msi_fd;                   /* its MSI controller device (arm64: the ITS), -1: none */
	int stats_fd;                 /* KVM_GET_STATS_FD of the VM (the memory report), -1: none */
	unsigned irqchip_version;     /* which kind irqchip_fd is (arm64: the GIC's version, 3
				       * or 2); 0 where there is one kind */
	struct guest_mem mem;
	struct bus pio, mmio;
	unsigned ncpus;
	struct vcpu *vcpus;
	int stop_efd;                 /* eventfd: readable once a stop was requested */
	pthread_mutex_t stop_lock;
	int stop_reason;              /* enum vm_stop_reason: the first request wins */
	int exit_status;              /* the process exit status that goes with it */
	uint32_t test_value;          /* what a test payload wrote to the test-exit port */
	uint64_t launch_ns;           /* CLOCK_MONOTONIC when kvmini started (boot-timer port) */
	bool strict;                  /* --strict: an access that hits no device stops the VM */
	char stop_msg[256];
	struct gdb *gdb;               /* --gdb: the stub (vmm/gdb.c), NULL when off */
	struct vm_hold hold;           /* pause/resume (the API) */
};

/* Maps `ram` bytes of guest RAM backed by `pages` (hugetlb pages are reserved now), before
 * any VM exists. 0, or -1 with a one-line reason in err. */
int vm__alloc_ram(struct guest_mem *gm, uint64_t ram, enum gm_pages pages, char *err,
		  size_t errlen);
/* Creates the VM with irqchip, PIT and the RAM in *gm, which it takes over (vm->mem; freed
 * with the VM, also when this fails); its ncpus vCPUs come next (vcpu__create_all). 0, or -1
 * with a reason in err. */
int vm__create_on(struct vm *vm, struct kvm *kvm, struct guest_mem *gm, unsigned ncpus,
		  char *err, size_t errlen);
/* vm__alloc_ram and vm__create_on in one. */
int vm__create(struct vm *vm, struct kvm *kvm, uint64_t ram, enum gm_pages pages,
	       unsigned ncpus, char *err, size_t errlen);
/* After vcpu__destroy_all. */
void vm__destroy(struct vm *vm);

/* Records why the VM stops (only the first call counts) and wakes the main thread. */
void vm__request_stop(struct vm *vm, enum vm_stop_reason reason, int status,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline bool vm__stopping(const struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

/* irq_set_fn for devices: KVM_IRQ_LINE on the in-kernel irqchip. */
void vm__set_irq(void *vm, unsigned gsi, int level);

#endif
