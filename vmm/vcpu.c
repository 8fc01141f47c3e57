/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: creation (their state is the architecture's: arch__vcpu_init), and the kick that makes one leave KVM_RUN. */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/memory.h"
#include "vmm/vm.h"

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
	return arch__vcpu_init(v, err, errlen);
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


void vcpu__kick(struct vcpu *v)
{
	if (v->started)
		pthread_kill(v->thread, SIG_VCPU_KICK);
}

size_t vcpu__access_virt(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n, bool write)
{
	size_t done = 0;

	while (done < n) {
		uint64_t a = gva + done, gpa;
		/* up to the end of this 4 KiB page, then translate again */
		size_t chunk = 4096 - (a & 4095);
		if (chunk > n - done)
			chunk = n - done;
		if (arch__translate(v, a, &gpa))
			break;
		uint8_t *p = gm__ptr(&v->vm->mem, gpa, chunk);
		if (!p)
			break;
		if (write)
			memcpy(p, buf + done, chunk);
		else
			memcpy(buf + done, p, chunk);
		done += chunk;
	}
	return done;
}
