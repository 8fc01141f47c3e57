/* SPDX-License-Identifier: Apache-2.0 */
/* The architecture's side of the gdb stub (vmm/ARCH/gdb_arch.c): the breakpoint instruction, debug registers, decoding a debug exit. */
#ifndef KVMINI_VMM_GDB_ARCH_H
#define KVMINI_VMM_GDB_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

struct gdb;
struct vcpu;

#define GDB_ARCH_BP_MAX 4    /* bytes of the longest breakpoint instruction */

enum stop_event { EV_NONE, EV_STEP, EV_SWBP, EV_HWBP, EV_WATCH, EV_AWATCH };
enum hw_type { HW_EXEC = 0, HW_WRITE = 1, HW_ACCESS = 3 };

struct hwbp {
	bool used;
	enum hw_type type;
	unsigned len;
	uint64_t addr;
	bool for_sw;         /* a Z0 breakpoint placed in a debug register (kvm_pvm) */
};


/* NULL where the stub works, or why it does not (then --gdb is refused). */
const char *gdb_arch__unsupported(void);
/* The software breakpoint written over guest code for a Z0 (x86: int3, one byte). */
const uint8_t *gdb_arch__bp_insn(size_t *len);
/* KVM_SET_GUEST_DEBUG's arch part for the n hardware breakpoints and watchpoints (the used
 * ones; x86: DR0-DR3 and DR7). */
void gdb_arch__hw_regs(struct kvm_guest_debug_arch *a, const struct hwbp *hw, unsigned n);
/* KVM_SET_GUEST_DEBUG's control word: software breakpoints, hardware ones, a single step
 * (caps: KVM_CAP_SET_GUEST_DEBUG2's answer, what this KVM supports). */
uint32_t gdb_arch__dbg_control(bool sw, bool hw, bool step, uint32_t caps);
/* A KVM_EXIT_DEBUG of v, with g->lock held: the stop event and its address, EV_NONE when it
 * is none of gdb's, or *theirs when it is the guest's own (a breakpoint instruction of its
 * own, which gdb_arch__reinject gives back). */
enum stop_event gdb_arch__decode(struct gdb *g, struct vcpu *v, uint64_t *addr, bool *theirs);
/* Gives the guest back its own breakpoint exception (without the lock). */
void gdb_arch__reinject(struct vcpu *v);

#endif
