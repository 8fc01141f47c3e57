/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's registers on arm64: gdb's aarch64 layout (x0-x30, sp, pc, cpsr; v0-v31, fpsr, fpcr) over KVM_GET_ONE_REG / KVM_SET_ONE_REG. */
#include "vmm/gdb_regs.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arm64/one_reg.h"
#include "vmm/vcpu.h"

/* gdb's register numbers (its aarch64-core and aarch64-fpu features, in g-packet order) */
enum { R_SP = 31, R_PC, R_CPSR, R_V0, R_FPSR = R_V0 + 32, R_FPCR, NREGS };

/* One vCPU's registers as gdb numbers them, with where each came from. */
struct a64_regs {
	uint64_t x[31], sp, pc, pstate;
	uint8_t v[32][16];
	uint32_t fpsr, fpcr;
	bool dirty[NREGS];
};

unsigned gdb_regs__count(void)
{
	return NREGS;
}

unsigned gdb_regs__size(unsigned r)
{
	return r == R_CPSR || r >= R_FPSR ? 4 : r >= R_V0 ? 16 : 8;
}

/* gdb's sp is the stack pointer in use: SP_EL1 in EL1h, SP_EL0 in EL1t and EL0 */
static uint64_t sp_id(uint64_t pstate)
{
	return (pstate & A64_PSTATE_MODE) == A64_PSTATE_EL1H ? A64_CORE(sp_el1) : A64_CORE(regs.sp);
}

/* KVM's id of register r (the sp's depends on pstate) */
static uint64_t reg_id(const struct a64_regs *c, unsigned r)
{
	if (r < R_SP)
		return A64_CORE(regs.regs[r]);
	if (r == R_SP)
		return sp_id(c->pstate);
	if (r == R_PC)
		return A64_CORE(regs.pc);
	if (r == R_CPSR)
		return A64_CORE(regs.pstate);
	if (r < R_FPSR)
		return A64_CORE_SZ(fp_regs.vregs[r - R_V0], KVM_REG_SIZE_U128);
	return r == R_FPSR ? A64_CORE_SZ(fp_regs.fpsr, KVM_REG_SIZE_U32) :
			     A64_CORE_SZ(fp_regs.fpcr, KVM_REG_SIZE_U32);
}

/* where register r lives in c (cpsr: the whole 64-bit pstate) */
static void *reg_ptr(struct a64_regs *c, unsigned r)
{
	if (r < R_SP)
		return &c->x[r];
	if (r == R_SP)
		return &c->sp;
	if (r == R_PC)
		return &c->pc;
	if (r == R_CPSR)
		return &c->pstate;
	if (r < R_FPSR)
		return c->v[r - R_V0];
	return r == R_FPSR ? (void *)&c->fpsr : (void *)&c->fpcr;
}

_Static_assert(sizeof(struct a64_regs) <= sizeof(struct gdb_regs_cache), "gdb_regs.h: cache");

int gdb_regs__load(struct vcpu *v, struct gdb_regs_cache *cache)
{
	struct a64_regs *c = (struct a64_regs *)cache->bytes;

	memset(c, 0, sizeof(*c));
	if (a64_reg_get(v->fd, reg_id(c, R_CPSR), &c->pstate))	/* first: it picks the sp */
		return -1;
	for (unsigned r = 0; r < NREGS; r++)
		if (r != R_CPSR && a64_reg_get(v->fd, reg_id(c, r), reg_ptr(c, r)))
			return -1;
	return 0;
}

/* the registers gdb changed, back to KVM (pstate first: the sp written is the one it picks) */
int gdb_regs__store(struct vcpu *v, struct gdb_regs_cache *cache)
{
	struct a64_regs *c = (struct a64_regs *)cache->bytes;

	if (c->dirty[R_CPSR] && a64_reg_set(v->fd, reg_id(c, R_CPSR), &c->pstate))
		return -1;
	for (unsigned r = 0; r < NREGS; r++)
		if (r != R_CPSR && c->dirty[r] && a64_reg_set(v->fd, reg_id(c, r), reg_ptr(c, r)))
			return -1;
	return 0;
}

/* register r's bytes (little-endian, gdb_regs__size(r)); cpsr is pstate's low 32 bits */
void gdb_regs__get(struct gdb_regs_cache *cache, unsigned r, uint8_t *out)
{
	struct a64_regs *c = (struct a64_regs *)cache->bytes;

	memcpy(out, reg_ptr(c, r), gdb_regs__size(r));
}

int gdb_regs__put(struct gdb_regs_cache *cache, unsigned r, const uint8_t *in)
{
	struct a64_regs *c = (struct a64_regs *)cache->bytes;

	if (r == R_CPSR) {
		uint32_t lo;
		memcpy(&lo, in, 4);
		c->pstate = (c->pstate & ~0xffffffffULL) | lo;
	} else {
		memcpy(reg_ptr(c, r), in, gdb_regs__size(r));
	}
	c->dirty[r] = true;
	return 0;
}

int gdb_regs__set_pc(struct vcpu *v, uint64_t pc)
{
	return a64_reg_set(v->fd, A64_CORE(regs.pc), &pc);
}

/* gdb's aarch64 target description: the core and fpu features */
static void xml_core(char *x, size_t cap, size_t *o)
{
	for (unsigned i = 0; i < 31; i++)
		*o += (size_t)snprintf(x + *o, cap - *o,
				       "<reg name=\"x%u\" bitsize=\"64\" type=\"int\"%s/>", i,
				       i ? "" : " regnum=\"0\"");
	*o += (size_t)snprintf(x + *o, cap - *o,
		"<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>"
		"<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>"
		"<reg name=\"cpsr\" bitsize=\"32\" type=\"cpsr_flags\"/>\n</feature>\n");
}

static void xml_fpu(char *x, size_t cap, size_t *o)
{
	*o += (size_t)snprintf(x + *o, cap - *o,
		"<feature name=\"org.gnu.gdb.aarch64.fpu\">\n"
		"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
		"<vector id=\"v2u\" type=\"uint64\" count=\"2\"/>"
		"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
		"<vector id=\"v4u\" type=\"uint32\" count=\"4\"/>"
		"<vector id=\"v8u\" type=\"uint16\" count=\"8\"/>"
		"<vector id=\"v16u\" type=\"uint8\" count=\"16\"/>"
		"<vector id=\"v1u\" type=\"uint128\" count=\"1\"/>"
		"<union id=\"aarch64v\"><field name=\"d\" type=\"v2d\"/>"
		"<field name=\"s\" type=\"v4f\"/><field name=\"ud\" type=\"v2u\"/>"
		"<field name=\"us\" type=\"v4u\"/><field name=\"h\" type=\"v8u\"/>"
		"<field name=\"b\" type=\"v16u\"/><field name=\"q\" type=\"v1u\"/></union>\n");
	for (unsigned i = 0; i < 32; i++)
		*o += (size_t)snprintf(x + *o, cap - *o,
				       "<reg name=\"v%u\" bitsize=\"128\" type=\"aarch64v\"%s/>", i,
				       i ? "" : " regnum=\"34\"");
	*o += (size_t)snprintf(x + *o, cap - *o,
		"<reg name=\"fpsr\" bitsize=\"32\" type=\"int\"/>"
		"<reg name=\"fpcr\" bitsize=\"32\" type=\"int\"/>\n</feature>\n</target>\n");
}

const char *gdb_regs__target_xml(size_t *len)
{
	static char xml[8192];
	static size_t n;

	if (!n) {	/* the stub's thread only */
		n = (size_t)snprintf(xml, sizeof(xml),
			"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
			"<target version=\"1.0\"><architecture>aarch64</architecture>\n"
			"<feature name=\"org.gnu.gdb.aarch64.core\">\n"
			"<flags id=\"cpsr_flags\" size=\"4\">"
			"<field name=\"SP\" start=\"0\" end=\"0\"/><field name=\"EL\" start=\"2\" end=\"3\"/>"
			"<field name=\"F\" start=\"6\" end=\"6\"/><field name=\"I\" start=\"7\" end=\"7\"/>"
			"<field name=\"A\" start=\"8\" end=\"8\"/><field name=\"D\" start=\"9\" end=\"9\"/>"
			"<field name=\"SS\" start=\"21\" end=\"21\"/><field name=\"V\" start=\"28\" end=\"28\"/>"
			"<field name=\"C\" start=\"29\" end=\"29\"/><field name=\"Z\" start=\"30\" end=\"30\"/>"
			"<field name=\"N\" start=\"31\" end=\"31\"/></flags>\n");
		xml_core(xml, sizeof(xml), &n);
		xml_fpu(xml, sizeof(xml), &n);
	}
	*len = n;
	return xml;
}
