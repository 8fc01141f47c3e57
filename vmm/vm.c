/* SPDX-License-Identifier: Apache-2.0 */
/* Creates the KVM VM (TSS, identity map, irqchip, PIT), maps RAM, owns stop requests. */
#include "vmm/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/arch.h"

static int map_ram(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->mem.n; i++) {
		const struct gm_region *r = &vm->mem.r[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION (slot %u, %llu MiB): %s", i,
				 (unsigned long long)(r->size >> 20), strerror(errno));
			return -1;
		}
	}
	return 0;
}

int vm__alloc_ram(struct guest_mem *gm, uint64_t ram, enum gm_pages pages, char *err,
		  size_t errlen)
{
	int e = gm__alloc(gm, ram, pages);

	if (e && pages == GM_PAGES_HUGETLB && e != -EINVAL) {
		long free = gm__hugetlb_free();
		snprintf(err, errlen, "cannot reserve %llu 2 MiB huge pages for guest memory: %s "
			 "(HugePages_Free is %ld; raise /proc/sys/vm/nr_hugepages, or drop "
			 "hugepages=on)", (unsigned long long)(ram / GM_HUGE), strerror(-e), free);
		return -1;
	}
	if (e) {
		snprintf(err, errlen, "cannot map %llu MiB of guest memory: %s",
			 (unsigned long long)(ram >> 20), strerror(-e));
		return -1;
	}
	return 0;
}

int vm__create_on(struct vm *vm, struct kvm *kvm, struct guest_mem *gm, unsigned ncpus,
		  char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	vm->mem = *gm;
	memset(gm, 0, sizeof(*gm));
	gm->smaps_fd = -1;
	vm->kvm = kvm;
	vm->ncpus = ncpus;
	vm->fd = -1;
	vm->irqchip_fd = vm->msi_fd = vm->stats_fd = -1;
	vm->stop_efd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->hold.lock, NULL);
	pthread_cond_init(&vm->hold.run_cond, NULL);
	pthread_cond_init(&vm->hold.park_cond, NULL);
	vm->hold.hold = 0;
	vm->hold.nparked = 0;
	bus__init(&vm->pio, "pio");
	bus__init(&vm->mmio, "mmio");

	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	vm->fd = kvm__create_vm(kvm);
	if (vm->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) > 0)
		vm->stats_fd = ioctl(vm->fd, KVM_GET_STATS_FD, 0);	/* -1 is fine: no KVM figures */
	if (arch__vm_init(vm, err, errlen))
		goto fail;
	if (map_ram(vm, err, errlen))
		goto fail;
	return 0;
fail:
	vm__destroy(vm);
	return -1;
}

int vm__create(struct vm *vm, struct kvm *kvm, uint64_t ram, enum gm_pages pages,
	       unsigned ncpus, char *err, size_t errlen)
{
	struct guest_mem gm;

	if (vm__alloc_ram(&gm, ram, pages, err, errlen)) {
		memset(vm, 0, sizeof(*vm));
		vm->fd = vm->stop_efd = vm->irqchip_fd = vm->msi_fd = vm->stats_fd = -1;
		return -1;
	}
	return vm__create_on(vm, kvm, &gm, ncpus, err, errlen);
}

void vm__destroy(struct vm *vm)
{
	if (vm->msi_fd >= 0)
		close(vm->msi_fd);
	if (vm->irqchip_fd >= 0)
		close(vm->irqchip_fd);
	if (vm->stats_fd >= 0)
		close(vm->stats_fd);
	vm->irqchip_fd = vm->msi_fd = vm->stats_fd = -1;
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	vm->fd = vm->stop_efd = -1;
	gm__free(&vm->mem);
	bus__free(&vm->pio);
	bus__free(&vm->mmio);
}

void vm__request_stop(struct vm *vm, enum vm_stop_reason reason, int status, const char *fmt, ...)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_RUNNING) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
		va_end(ap);
		vm->exit_status = status;
		__atomic_store_n(&vm->stop_reason, reason, __ATOMIC_RELEASE);
		uint64_t one = 1;
		if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
			/* cannot fail for a fresh eventfd counter; the flag above is what counts */
		}
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm__set_irq(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = arch__irq_line(gsi), .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0 && !vm__stopping(vm))
		vm__request_stop(vm, VM_STOP_ERROR, 1, "KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}
