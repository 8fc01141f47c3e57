/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub on arm64: not there yet (gdb's aarch64 registers over ONE_REG, BRK and the debug registers are issue 18's later work), so --gdb is refused with that reason. */
#include "vmm/gdb_arch.h"
#include "vmm/gdb_regs.h"

const char *gdb_arch__unsupported(void)
{
	return "the gdb stub does not know arm64's registers yet (x86 only)";
}

const uint8_t *gdb_arch__bp_insn(size_t *len)
{
	static const uint8_t brk[] = { 0x00, 0x00, 0x20, 0xd4 };	/* brk #0 */

	*len = sizeof(brk);
	return brk;
}

void gdb_arch__hw_regs(struct kvm_guest_debug_arch *a, const struct hwbp *hw, unsigned n)
{
	(void)a;
	(void)hw;
	(void)n;
}

uint32_t gdb_arch__dbg_control(bool sw, bool hw, bool step, uint32_t caps)
{
	(void)caps;
	return (sw || hw || step ? KVM_GUESTDBG_ENABLE : 0) | (sw ? KVM_GUESTDBG_USE_SW_BP : 0) |
	       (hw ? KVM_GUESTDBG_USE_HW : 0) | (step ? KVM_GUESTDBG_SINGLESTEP : 0);
}

enum stop_event gdb_arch__decode(struct gdb *g, struct vcpu *v, uint64_t *addr, bool *theirs)
{
	(void)g;
	(void)v;
	(void)addr;
	(void)theirs;
	return EV_NONE;
}

void gdb_arch__reinject(struct vcpu *v)
{
	(void)v;
}

int gdb_regs__read_hex(struct vcpu *v, char *out)
{
	(void)v;
	(void)out;
	return -1;
}

int gdb_regs__write_hex(struct vcpu *v, const char *hex)
{
	(void)v;
	(void)hex;
	return -1;
}

int gdb_regs__read_one_hex(struct vcpu *v, unsigned n, char *out)
{
	(void)v;
	(void)n;
	(void)out;
	return -1;
}

int gdb_regs__write_one_hex(struct vcpu *v, unsigned n, const char *hex)
{
	(void)v;
	(void)n;
	(void)hex;
	return -1;
}

int gdb_regs__set_pc(struct vcpu *v, uint64_t pc)
{
	(void)v;
	(void)pc;
	return -1;
}

const char *gdb_regs__target_xml(size_t *len)
{
	*len = 0;
	return NULL;
}
