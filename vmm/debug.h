/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop's one door into the debug tools: gdb's parking and stop events, exit statistics and trace, the last-exits ring, the crash dump. */
#ifndef KVMINI_VMM_DEBUG_H
#define KVMINI_VMM_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/lastexits.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* The run loop (vmm/run.c, vmm/exit.c) reaches the debug room through these calls only
 * (docs/architecture.md, "Layers": the door; tests/tools/layers.py holds it). The inline
 * ones are the hot path: a predicted branch each while no tool is on. */

void debug__park(struct vcpu *v);
/* Before each KVM_RUN: parks the vCPU while gdb holds the VM stopped. */
static inline void debug__before_run(struct vcpu *v)
{
	if (__builtin_expect(v->vm->gdb != NULL, 0))
		debug__park(v);
}

/* Is a tool timing this vCPU's exits (--exit-stats, --trace-exits)? Then the loop times
 * each dispatch and hands it to debug__record. */
static inline bool debug__timing(const struct vcpu *v)
{
	return __builtin_expect(v->stats != NULL || v->trace != NULL, 0);
}
/* Monotonic nanoseconds, the clock debug__record's times are on. */
uint64_t debug__now_ns(void);
/* An exit that started at t0 and took ns to handle: into the statistics and the trace. */
void debug__record(struct vcpu *v, uint64_t t0, uint64_t ns);

/* After every exit: into the vCPU's last-exits ring, for a crash dump. */
static inline void debug__after_exit(struct vcpu *v)
{
	lastexits__add(&v->last, v->run, v->vm->kvm->run_size);
}

/* KVM_EXIT_DEBUG: a stop event for gdb (with no gdb, ignored). */
enum exit_action debug__stop_event(struct vcpu *v);
/* A vCPU that cannot go on: the crash report (registers, code, last exits) on stderr. */
void debug__crash_dump(struct vcpu *v, const char *why);

#endif
