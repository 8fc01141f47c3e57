/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's vCPU control: parking the vCPUs, their debug exits, resuming them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/gdb.h"
#include "vmm/gdb_int.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"


/* ---- parking the vCPUs (the vCPU side) ---- */

void gdb__vcpu_wait(struct vcpu *v)
{
	struct gdb *g = v->vm->gdb;

	if (!__atomic_load_n(&g->hold, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&g->lock);
	struct cpu_state *c = &g->cpu[v->id];
	if (!c->may_run && (v->run->exit_reason == KVM_EXIT_IO ||
			    v->run->exit_reason == KVM_EXIT_MMIO)) {
		/* an I/O exit completes in the next KVM_RUN: do that one (immediate_exit runs no
		 * guest instruction), so the registers gdb sees are consistent */
		v->run->exit_reason = KVM_EXIT_INTR;
		v->run->immediate_exit = 1;
		pthread_mutex_unlock(&g->lock);
		return;
	}
	while (!c->may_run && !vm__stopping(v->vm)) {
		struct timespec t;
		c->parked = true;
		g->nparked++;
		pthread_cond_broadcast(&g->park_cond);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000000;	/* re-check vm__stopping now and then */
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->run_cond, &g->lock, &t);
		c->parked = false;
		g->nparked--;
	}
	pthread_mutex_unlock(&g->lock);
}

static void kick_all(struct gdb *g, int except)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		if ((int)i != except)
			vcpu__kick(&g->vm->vcpus[i]);
}

/* with the lock held: every vCPU parks at its next loop */
static void hold_all(struct gdb *g)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		g->cpu[i].may_run = false;
	g->resumed = false;
	__atomic_store_n(&g->hold, 1, __ATOMIC_RELEASE);
}

enum exit_action gdb__debug_exit(struct vcpu *v)
{
	struct gdb *g = v->vm->gdb;

	if (!g)
		return EXIT_CONTINUE;	/* no stub: nothing asked for this exit, carry on */
	uint64_t addr = 0;
	bool theirs = false;

	pthread_mutex_lock(&g->lock);
	enum stop_event ev = gdb_arch__decode(g, v, &addr, &theirs);
	if (theirs) {
		pthread_mutex_unlock(&g->lock);
		gdb_arch__reinject(v);
		return EXIT_CONTINUE;
	}
	if (ev == EV_NONE || !g->resumed) {
		/* not ours, or gdb already stopped the VM: the vCPU re-executes and, if it is
		 * a breakpoint still in place, hits it again after the next resume */
		pthread_mutex_unlock(&g->lock);
		return EXIT_CONTINUE;
	}
	g->cpu[v->id].ev = ev;
	g->cpu[v->id].ev_addr = addr;
	hold_all(g);
	pthread_mutex_unlock(&g->lock);
	kick_all(g, (int)v->id);
	uint64_t one = 1;
	if (write(g->efd, &one, sizeof(one)) < 0) {
		/* an eventfd counter does not overflow here */
	}
	return EXIT_CONTINUE;
}

/* ---- stopping and resuming (the stub side) ---- */

void gdb_run__wait_parked(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->nparked < g->vm->ncpus && !vm__stopping(g->vm)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;
		pthread_cond_timedwait(&g->park_cond, &g->lock, &t);
	}
	pthread_mutex_unlock(&g->lock);
}

void gdb_run__stop_all(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	hold_all(g);
	pthread_mutex_unlock(&g->lock);
	kick_all(g, -1);
	gdb_run__wait_parked(g);
}

void gdb_run__release_all(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		g->cpu[i].may_run = true;
		g->cpu[i].ev = EV_NONE;
	}
	g->step_cpu = -1;
	__atomic_store_n(&g->hold, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->run_cond);
	pthread_mutex_unlock(&g->lock);
}

/* step_cpu < 0: every vCPU runs; else only that one, for one instruction. */
int gdb_run__resume(struct gdb *g, int step_cpu)
{
	if (gdb_bp__apply(g, step_cpu))
		return -1;
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		g->cpu[i].ev = EV_NONE;
		g->cpu[i].may_run = step_cpu < 0 || (int)i == step_cpu;
	}
	g->step_cpu = step_cpu;
	g->resumed = true;
	__atomic_store_n(&g->hold, step_cpu >= 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->run_cond);
	pthread_mutex_unlock(&g->lock);
	return 0;
}
