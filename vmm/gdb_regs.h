/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's registers: gdb's amd64 layout over KVM's regs, sregs and fpu. */
#ifndef KVMINI_VMM_GDB_REGS_H
#define KVMINI_VMM_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

struct vcpu;

#define GDB_NREGS 59	/* rax..gs, st0..fop, xmm0..mxcsr, fs_base, gs_base */

/* One vCPU's registers as KVM gives them: what gdb's registers are read from and written to. */
struct gdb_cpu_regs {
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
};

/* The size in bytes of gdb register r (r < GDB_NREGS). */
unsigned gdb_regs__size(unsigned r);
/* KVM_GET_REGS, KVM_GET_SREGS and KVM_GET_FPU of v. 0 or -1. */
int gdb_regs__read(struct vcpu *v, struct gdb_cpu_regs *c);
/* KVM_SET_REGS, KVM_SET_SREGS and KVM_SET_FPU of v. 0 or -1. */
int gdb_regs__write(struct vcpu *v, const struct gdb_cpu_regs *c);
/* Writes register r's bytes (little-endian, gdb_regs__size(r)) to out. */
void gdb_regs__get(const struct gdb_cpu_regs *c, unsigned r, uint8_t *out);
/* Sets register r from in; -1 for a changed value of one that cannot be written. */
int gdb_regs__set(struct gdb_cpu_regs *c, unsigned r, const uint8_t *in);
/* The target description (qXfer:features:read:target.xml) and its length. */
const char *gdb_regs__target_xml(size_t *len);

#endif
