/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub on arm64: BRK #0 breakpoints, the debug registers (DBGBCR/BVR, DBGWCR/WVR) and the exception syndrome of a debug exit; a BRK of the guest's own goes back to it as its EL1 exception. */
#include "vmm/gdb_arch.h"

#include <stdio.h>

#include "vmm/arm64/one_reg.h"
#include "vmm/gdb_int.h"
#include "vmm/vcpu.h"

/* ESR's exception classes of a debug exit (the Arm ARM's ESR_ELx.EC) */
#define EC_HW_BP_LOWER   0x30
#define EC_HW_BP_CUR     0x31
#define EC_SS_LOWER      0x32
#define EC_SS_CUR        0x33
#define EC_WATCH_LOWER   0x34
#define EC_WATCH_CUR     0x35
#define EC_BRK64         0x3c

/* DBGBCR: enabled, all four bytes of an A64 instruction, at EL1 and EL0 (PMC 0b11) */
#define BCR_EXEC         ((0xfULL << 5) | (3ULL << 1) | 1)
/* DBGWCR: enabled, EL1 and EL0 (PAC 0b11); LSC bits 4:3 (1 load, 2 store, 3 both); BAS 12:5 */
#define WCR_BASE         ((3ULL << 1) | 1)

static const uint8_t brk0[] = { 0x00, 0x00, 0x20, 0xd4 };	/* brk #0, gdb's own choice */

const char *gdb_arch__unsupported(void)
{
	return NULL;
}

const uint8_t *gdb_arch__bp_insn(size_t *len)
{
	*len = sizeof(brk0);
	return brk0;
}

/* Instruction breakpoints fill DBGBVR/BCR 0.., watchpoints DBGWVR/WCR 0..; every arm64 CPU has
 * at least two of each, and gdb's slots (NHWBP, 4) are shared between them. */
void gdb_arch__hw_regs(struct kvm_guest_debug_arch *a, const struct hwbp *hw, unsigned n)
{
	unsigned nb = 0, nw = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct hwbp *h = &hw[i];
		if (!h->used)
			continue;
		if (h->type == HW_EXEC && nb < KVM_ARM_MAX_DBG_REGS) {
			a->dbg_bvr[nb] = h->addr & ~3ULL;
			a->dbg_bcr[nb++] = BCR_EXEC;
		} else if (h->type != HW_EXEC && nw < KVM_ARM_MAX_DBG_REGS) {
			uint64_t lsc = h->type == HW_WRITE ? 2 : 3;
			uint64_t bas = ((1ULL << h->len) - 1) << (h->addr & 7);
			a->dbg_wvr[nw] = h->addr & ~7ULL;
			a->dbg_wcr[nw++] = WCR_BASE | (lsc << 3) | ((bas & 0xff) << 5);
		}
	}
}

uint32_t gdb_arch__dbg_control(bool sw, bool hw, bool step, uint32_t caps)
{
	(void)caps;	/* arm64 has no KVM_GUESTDBG_BLOCKIRQ: a step may enter an interrupt */
	return (sw || hw || step ? KVM_GUESTDBG_ENABLE : 0) | (sw ? KVM_GUESTDBG_USE_SW_BP : 0) |
	       (hw ? KVM_GUESTDBG_USE_HW : 0) | (step ? KVM_GUESTDBG_SINGLESTEP : 0);
}

/* the watchpoint whose bytes the access at far touched (the CPU may report the start of a
 * wider access: then the one in the same doubleword), else the first one */
static const struct hwbp *watch_hit(const struct gdb *g, uint64_t far)
{
	const struct hwbp *first = NULL, *near = NULL;

	for (unsigned i = 0; i < NHWBP; i++) {
		const struct hwbp *h = &g->hw[i];
		if (!h->used || h->type == HW_EXEC)
			continue;
		if (far >= h->addr && far - h->addr < h->len)
			return h;
		if (!near && (far & ~7ULL) == (h->addr & ~7ULL))
			near = h;
		if (!first)
			first = h;
	}
	return near ? near : first;
}

enum stop_event gdb_arch__decode(struct gdb *g, struct vcpu *v, uint64_t *addr, bool *theirs)
{
	const struct kvm_debug_exit_arch *d = &v->run->debug.arch;
	unsigned ec = (d->hsr >> 26) & 0x3f;
	uint64_t pc = 0;

	if (a64_reg_get(v->fd, A64_CORE(regs.pc), &pc))
		return EV_NONE;
	switch (ec) {
	case EC_BRK64:
		if (!gdb_bp__is_ours(g, pc)) {
			*theirs = true;
			return EV_NONE;
		}
		*addr = pc;
		return EV_SWBP;
	case EC_SS_LOWER:
	case EC_SS_CUR:
		return g->step_cpu == (int)v->id ? EV_STEP : EV_NONE;
	case EC_HW_BP_LOWER:
	case EC_HW_BP_CUR:
		for (unsigned i = 0; i < NHWBP; i++) {
			const struct hwbp *h = &g->hw[i];
			if (h->used && h->type == HW_EXEC && (h->addr & ~3ULL) == pc) {
				*addr = h->addr;
				return h->for_sw ? EV_SWBP : EV_HWBP;
			}
		}
		return EV_NONE;
	case EC_WATCH_LOWER:
	case EC_WATCH_CUR: {
		const struct hwbp *h = watch_hit(g, d->far);
		if (!h)
			return EV_NONE;
		*addr = h->addr;
		return h->type == HW_WRITE ? EV_WATCH : EV_AWATCH;
	}
	default:
		return EV_NONE;
	}
}

/* The vector offset of a synchronous exception taken to EL1 from the mode in pstate. */
static uint64_t sync_vector(uint64_t pstate)
{
	uint64_t m = pstate & A64_PSTATE_MODE;

	if (pstate & (1ULL << 4))	/* AArch32 EL0 */
		return 0x600;
	return m == A64_PSTATE_EL1H ? 0x200 : m == 0x4 ? 0x000 : 0x400;
}

/* A BRK of the guest's own (Linux's BUG and WARN, kprobes, a debugger in the guest) trapped
 * because gdb's breakpoints are on: taken as the guest's EL1 exception, as the CPU would have
 * (ELR/SPSR/ESR set, pc at VBAR_EL1's vector, EL1h with DAIF masked). */
void gdb_arch__reinject(struct vcpu *v)
{
	uint64_t pc, pstate, vbar, sctlr, esr = v->run->debug.arch.hsr, newp, target;

	if (a64_reg_get(v->fd, A64_CORE(regs.pc), &pc) ||
	    a64_reg_get(v->fd, A64_CORE(regs.pstate), &pstate) ||
	    a64_reg_get(v->fd, A64_VBAR_EL1, &vbar) || a64_reg_get(v->fd, A64_SCTLR_EL1, &sctlr))
		goto fail;
	target = vbar + sync_vector(pstate);
	newp = A64_PSTATE_DAIF | A64_PSTATE_EL1H;
	if (!(sctlr & (1ULL << 23)))	/* SCTLR_EL1.SPAN clear: the entry sets PAN */
		newp |= 1ULL << 22;
	if (sctlr & (1ULL << 44))	/* DSSBS: the entry's SSBS */
		newp |= 1ULL << 12;
	if (a64_reg_set(v->fd, A64_CORE(elr_el1), &pc) ||
	    a64_reg_set(v->fd, A64_CORE(spsr[KVM_SPSR_EL1]), &pstate) ||
	    a64_reg_set(v->fd, A64_ESR_EL1, &esr) ||
	    a64_reg_set(v->fd, A64_CORE(regs.pstate), &newp) ||
	    a64_reg_set(v->fd, A64_CORE(regs.pc), &target))
		goto fail;
	return;
fail:
	fprintf(stderr, "kvmini: gdb: cannot give vCPU %u its own BRK back\n", v->id);
}
