/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub on x86: int3, DR0-DR3/DR7, and #BP/#DB debug exits (with the rip rewind some KVMs need). */
#include "vmm/gdb_arch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/gdb_int.h"
#include "vmm/vcpu.h"

#define DR6_BS       (1u << 14)

static const uint8_t int3[] = { 0xcc };

const char *gdb_arch__unsupported(void)
{
	return NULL;
}

const uint8_t *gdb_arch__bp_insn(size_t *len)
{
	*len = sizeof(int3);
	return int3;
}

static const uint8_t hw_len_bits[9] = { [1] = 0, [2] = 1, [4] = 3, [8] = 2 };

void gdb_arch__hw_regs(struct kvm_guest_debug_arch *a, const struct hwbp *hw, unsigned n)
{
	a->debugreg[7] = 0x600;
	for (unsigned i = 0; i < n && i < 4; i++) {
		const struct hwbp *h = &hw[i];
		if (!h->used)
			continue;
		a->debugreg[i] = h->addr;
		a->debugreg[7] |= (2ULL << (i * 2)) | ((uint64_t)h->type << (16 + i * 4)) |
				  ((uint64_t)(h->type == HW_EXEC ? 0 : hw_len_bits[h->len]) << (18 + i * 4));
	}
}

uint32_t gdb_arch__dbg_control(bool sw, bool hw, bool step, uint32_t caps)
{
	uint32_t c = 0;

	if (sw)
		c |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (hw)
		c |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	if (step) {
		c |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		if (caps & KVM_GUESTDBG_BLOCKIRQ)	/* no detour into interrupts */
			c |= KVM_GUESTDBG_BLOCKIRQ;
	}
	return c;
}

enum stop_event gdb_arch__decode(struct gdb *g, struct vcpu *v, uint64_t *addr, bool *theirs)
{
	const struct kvm_debug_exit_arch *d = &v->run->debug.arch;
	enum stop_event ev = EV_NONE;

	if (d->exception == 3) {	/* #BP */
		uint64_t at = d->pc;
		if (!gdb_bp__is_ours(g, at) && gdb_bp__is_ours(g, at - 1)) {
			/* reported after the int3 (seen in the nested L1: the guest then took
			 * the #BP as its own and panicked): back to the breakpoint address */
			struct kvm_regs r;
			at--;
			if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && (r.rip & 0xfff) == ((at + 1) & 0xfff)) {
				r.rip--;
				ioctl(v->fd, KVM_SET_REGS, &r);
			}
		}
		if (!gdb_bp__is_ours(g, at)) {
			*theirs = true;
			return EV_NONE;
		}
		ev = EV_SWBP;
		*addr = at;
	} else if (d->exception == 1) {	/* #DB: the single step or a debug register */
		/* data watchpoints, then the step, then instruction breakpoints: a step that
		 * stores to a watched address is a watchpoint hit, and an instruction breakpoint
		 * bit seen with the step bit is left over from an earlier hit */
		bool step = (d->dr6 & DR6_BS) && g->step_cpu == (int)v->id;
		for (unsigned pass = 0; pass < 2 && ev == EV_NONE; pass++) {
			for (unsigned i = 0; i < NHWBP && ev == EV_NONE; i++) {
				const struct hwbp *h = &g->hw[i];
				if (!h->used || !(d->dr6 & (1u << i)) || (h->type == HW_EXEC) != pass)
					continue;
				*addr = h->addr;
				ev = h->type == HW_EXEC ? (h->for_sw ? EV_SWBP : EV_HWBP) :
				     h->type == HW_WRITE ? EV_WATCH : EV_AWATCH;
			}
			if (ev == EV_NONE && pass == 0 && step)
				ev = EV_STEP;
		}
	}
	return ev;
}

/* An int3 of the guest's own (Linux patches code with them) goes back to the guest. */
void gdb_arch__reinject(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	ev.exception.injected = 1;
	ev.exception.nr = 3;
	ev.exception.has_error_code = 0;
	ev.flags &= ~(uint32_t)(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR);
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		fprintf(stderr, "kvmini: gdb: cannot give int3 back to vCPU %u: %s\n", v->id,
			strerror(errno));
}

