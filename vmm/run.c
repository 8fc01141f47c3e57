/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop: one thread per vCPU on KVM_RUN, each exit to its handler; starting, kicking out and joining them. */
#include "vmm/run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/thread.h"
#include "vmm/debug.h"
#include "vmm/exit.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;

	/* only the kick signal reaches vCPU threads; the main thread handles the rest */
	sigfillset(&set);
	sigdelset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	this_run = v->run;
	seccomp__enter(SECCOMP_KIND_VCPU);

	while (!vm__stopping(vm)) {
		debug__before_run(v);	/* parks here while gdb holds the VM stopped */
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			vm__request_stop(vm, VM_STOP_ERROR, 1, "KVM_RUN on vCPU %u: %s", v->id,
					 strerror(errno));
			break;
		}
		v->exits++;
		if (exit__handle(v) != EXIT_CONTINUE)
			break;
	}
	return NULL;
}

int run__start_vcpus(struct vm *vm, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int e = thread__create(&v->thread, 0, false, vcpu_thread, v);
		if (e) {
			snprintf(err, errlen, "cannot start vCPU thread %u: %s", i, strerror(e));
			vm__request_stop(vm, VM_STOP_ERROR, 1, "%s", err);
			return -1;
		}
		v->started = true;
		char name[16];
		snprintf(name, sizeof(name), "vcpu%u", i);
		pthread_setname_np(v->thread, name);
	}
	return 0;
}

void run__stop_and_join(struct vm *vm)
{
	if (!vm__stopping(vm))
		vm__request_stop(vm, VM_STOP_USER, 0, "stopped");
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu__kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
	}
}
