/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop: one thread per vCPU on KVM_RUN, each exit to its handler; starting, kicking out and joining them. */
#include "vmm/run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "devices/thread.h"
#include "vmm/arch.h"
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

/* now + ms on CLOCK_REALTIME (condition variable deadlines) */
static struct timespec deadline_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* The VM is paused: park this vCPU outside KVM_RUN until it is resumed or stops (true).
 * False when an I/O exit is pending: the caller's next KVM_RUN completes it first
 * (immediate_exit runs no guest instruction), so a pause never splits an instruction. */
static bool park(struct vcpu *v)
{
	struct vm_hold *h = &v->vm->hold;

	if (v->run->exit_reason == KVM_EXIT_IO || v->run->exit_reason == KVM_EXIT_MMIO) {
		v->run->exit_reason = KVM_EXIT_INTR;
		v->run->immediate_exit = 1;
		return false;
	}
	arch__vcpu_paused(v);
	pthread_mutex_lock(&h->lock);
	h->nparked++;
	pthread_cond_broadcast(&h->park_cond);
	while (__atomic_load_n(&h->hold, __ATOMIC_ACQUIRE) && !vm__stopping(v->vm)) {
		struct timespec t = deadline_ms(100);	/* re-check vm__stopping now and then */
		pthread_cond_timedwait(&h->run_cond, &h->lock, &t);
	}
	h->nparked--;
	pthread_mutex_unlock(&h->lock);
	return true;
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
	__atomic_store_n(&v->tid, gettid(), __ATOMIC_RELAXED);
	seccomp__enter(SECCOMP_KIND_VCPU);

	while (!vm__stopping(vm)) {
		if (__builtin_expect(__atomic_load_n(&vm->hold.hold, __ATOMIC_ACQUIRE), 0) &&
		    park(v))	/* the VM is paused (run__pause) */
			continue;
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
		__atomic_store_n(&v->exits, v->exits + 1, __ATOMIC_RELAXED);
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

#define PAUSE_WAIT_MS 5000	/* how long run__pause waits for every vCPU to park */

static unsigned started_vcpus(const struct vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

/* with h->lock held: ends a hold and wakes the parked vCPUs */
static void release(struct vm_hold *h)
{
	__atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&h->run_cond);
}

int run__pause(struct vm *vm, char *err, size_t errlen)
{
	struct vm_hold *h = &vm->hold;
	const char *why = NULL;

	pthread_mutex_lock(&h->lock);
	if (vm->gdb)
		why = "not with --gdb (gdb stops and continues this VM)";
	else if (vm__stopping(vm))
		why = "the VM is stopping";
	else if (h->hold)
		why = "the VM is already paused";
	if (why) {
		pthread_mutex_unlock(&h->lock);
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	__atomic_store_n(&h->hold, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&h->lock);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu__kick(&vm->vcpus[i]);
	struct timespec end = deadline_ms(PAUSE_WAIT_MS);
	pthread_mutex_lock(&h->lock);
	while (h->nparked < started_vcpus(vm) && !vm__stopping(vm)) {
		/* in slices of 100 ms, to notice a stop request */
		struct timespec t = deadline_ms(100);
		bool last = t.tv_sec > end.tv_sec || (t.tv_sec == end.tv_sec && t.tv_nsec >= end.tv_nsec);
		if (pthread_cond_timedwait(&h->park_cond, &h->lock, last ? &end : &t) == ETIMEDOUT &&
		    last)
			break;
	}
	bool all = h->nparked >= started_vcpus(vm);
	if (!all)
		release(h);
	pthread_mutex_unlock(&h->lock);
	if (!all)
		snprintf(err, errlen, "%s", vm__stopping(vm) ? "the VM is stopping" :
			 "the vCPUs did not stop within 5 s; the VM runs on");
	return all ? 0 : -1;
}

int run__resume(struct vm *vm, char *err, size_t errlen)
{
	struct vm_hold *h = &vm->hold;
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	if (vm->gdb) {
		snprintf(err, errlen, "not with --gdb (gdb stops and continues this VM)");
		ret = -1;
	} else if (!h->hold) {
		snprintf(err, errlen, "the VM is not paused");
		ret = -1;
	} else {
		release(h);
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

bool run__paused(struct vm *vm)
{
	return __atomic_load_n(&vm->hold.hold, __ATOMIC_ACQUIRE) != 0;
}

void run__stop_and_join(struct vm *vm)
{
	if (!vm__stopping(vm))
		vm__request_stop(vm, VM_STOP_USER, 0, "stopped");
	pthread_mutex_lock(&vm->hold.lock);
	pthread_cond_broadcast(&vm->hold.run_cond);	/* a paused VM stops at once */
	pthread_mutex_unlock(&vm->hold.lock);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu__kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
	}
}
