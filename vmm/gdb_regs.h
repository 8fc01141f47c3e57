/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's registers, in the architecture's own layout (vmm/x86/gdb_regs.c: gdb's amd64). */
#ifndef KVMINI_VMM_GDB_REGS_H
#define KVMINI_VMM_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;

#define GDB_NREGS 59	/* x86: rax..gs, st0..fop, xmm0..mxcsr, fs_base, gs_base */

/* g: every register of v, as gdb's hex, into out (room for 2 x GDBPKT_MAX / 2). 0 or -1. */
int gdb_regs__read_hex(struct vcpu *v, char *out);
/* G: registers from hex, in order; a shorter G sets those it covers. 0, or -1 for bad hex,
 * a changed value of one that cannot be written, or a failed ioctl. */
int gdb_regs__write_hex(struct vcpu *v, const char *hex);
/* p: register n as hex into out. 0 or -1. */
int gdb_regs__read_one_hex(struct vcpu *v, unsigned n, char *out);
/* P: register n from hex (exactly its size). 0 or -1. */
int gdb_regs__write_one_hex(struct vcpu *v, unsigned n, const char *hex);
/* c ADDR / s ADDR: the vCPU resumes at pc. 0 or -1. */
int gdb_regs__set_pc(struct vcpu *v, uint64_t pc);
/* The target description (qXfer:features:read:target.xml) and its length. */
const char *gdb_regs__target_xml(size_t *len);

#endif
