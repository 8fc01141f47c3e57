/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's registers: g/G/p/P in gdb's hex (vmm/gdb_regs.c) over the architecture's own layout (vmm/ARCH/gdb_regs.c: gdb's amd64 or aarch64). */
#ifndef KVMINI_VMM_GDB_REGS_H
#define KVMINI_VMM_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* g: every register of v, as gdb's hex, into out (room for 2 x GDBPKT_MAX / 2). 0 or -1. */
int gdb_regs__read_hex(struct vcpu *v, char *out);
/* G: registers from hex, in order; a shorter G sets those it covers. 0, or -1 for bad hex,
 * a changed value of one that cannot be written, or a failed ioctl. */
int gdb_regs__write_hex(struct vcpu *v, const char *hex);
/* p: register n as hex into out. 0 or -1. */
int gdb_regs__read_one_hex(struct vcpu *v, unsigned n, char *out);
/* P: register n from hex (exactly its size). 0 or -1. */
int gdb_regs__write_one_hex(struct vcpu *v, unsigned n, const char *hex);

/* ---- the architecture's half (vmm/ARCH/gdb_regs.c) ---- */

#define GDB_REG_MAX 16	/* bytes of the widest register */

/* One vCPU's registers as KVM gives them, in the architecture's own struct inside. */
struct gdb_regs_cache {
	_Alignas(16) uint8_t bytes[2048];
};

/* How many registers gdb's layout has, and register r's size in bytes (<= GDB_REG_MAX). */
unsigned gdb_regs__count(void);
unsigned gdb_regs__size(unsigned r);
/* Every register of v into c: 0 or -1. */
int gdb_regs__load(struct vcpu *v, struct gdb_regs_cache *c);
/* The registers changed in c back to v: 0 or -1. */
int gdb_regs__store(struct vcpu *v, struct gdb_regs_cache *c);
/* Register r's bytes, little-endian. */
void gdb_regs__get(struct gdb_regs_cache *c, unsigned r, uint8_t *out);
/* Register r from in: 0, or -1 when it cannot be written (a changed segment selector). */
int gdb_regs__put(struct gdb_regs_cache *c, unsigned r, const uint8_t *in);
/* c ADDR / s ADDR: the vCPU resumes at pc. 0 or -1. */
int gdb_regs__set_pc(struct vcpu *v, uint64_t pc);
/* The target description (qXfer:features:read:target.xml) and its length. */
const char *gdb_regs__target_xml(size_t *len);

#endif
