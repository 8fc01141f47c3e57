/* SPDX-License-Identifier: Apache-2.0 */
/* The debug room's door for the run loop: each call handed to the tool that does it. */
#include "vmm/debug.h"

#include <time.h>

#include "devices/bus.h"
#include "vmm/dump.h"
#include "vmm/gdb.h"
#include "vmm/stats.h"
#include "vmm/trace.h"

void debug__park(struct vcpu *v)
{
	gdb__vcpu_wait(v);
}

uint64_t debug__now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* --exit-stats: counted by reason and, for PIO/MMIO, by device range */
static void record_stats(struct vcpu *v, uint64_t ns)
{
	struct kvm_run *run = v->run;
	unsigned reason = run->exit_reason;

	stats__record_exit(v->stats, reason, ns);
	if (reason == KVM_EXIT_IO) {
		const struct bus_range *r = bus__find(&v->vm->pio, run->io.port, run->io.size);
		stats__record_access(v->stats, STATS_PIO, r, run->io.port,
				     run->io.direction == KVM_EXIT_IO_OUT, ns);
	} else if (reason == KVM_EXIT_MMIO) {
		const struct bus_range *r = bus__find(&v->vm->mmio, run->mmio.phys_addr, run->mmio.len);
		stats__record_access(v->stats, STATS_MMIO, r, run->mmio.phys_addr, run->mmio.is_write,
				     ns);
	}
}

void debug__record(struct vcpu *v, uint64_t t0, uint64_t ns)
{
	if (v->stats)
		record_stats(v, ns);
	if (v->trace)
		trace__record(v, t0, ns);
}

enum exit_action debug__stop_event(struct vcpu *v)
{
	return gdb__debug_exit(v);
}

void debug__crash_dump(struct vcpu *v, const char *why)
{
	dump__vcpu(v, why);
}
