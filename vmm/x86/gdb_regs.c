/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's registers on x86: gdb's amd64 layout (core, sse, fs_base/gs_base) over KVM's regs, sregs and fpu. */
#include "vmm/gdb_regs.h"

#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/vcpu.h"

/* One vCPU's registers as KVM gives them: what gdb's registers are read from and written to. */
struct gdb_cpu_regs {
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
};

enum { R_RIP = 16, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS, R_ST0, R_FCTRL = 32,
       R_XMM0 = 40, R_MXCSR = 56, R_FS_BASE, R_GS_BASE, NREGS };
_Static_assert(sizeof(struct gdb_cpu_regs) <= sizeof(struct gdb_regs_cache), "gdb_regs.h: cache");

unsigned gdb_regs__count(void)
{
	return NREGS;
}

unsigned gdb_regs__size(unsigned r)
{
	if (r <= R_RIP)
		return 8;
	if (r < R_ST0)
		return 4;
	if (r < R_FCTRL)
		return 10;
	if (r < R_XMM0)
		return 4;
	if (r < R_MXCSR)
		return 16;
	return r == R_MXCSR ? 4 : 8;
}

int gdb_regs__load(struct vcpu *v, struct gdb_regs_cache *cache)
{
	struct gdb_cpu_regs *c = (struct gdb_cpu_regs *)cache->bytes;

	if (ioctl(v->fd, KVM_GET_REGS, &c->r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &c->s) < 0 ||
	    ioctl(v->fd, KVM_GET_FPU, &c->f) < 0)
		return -1;
	return 0;
}

static __u64 *gpr(struct kvm_regs *r, unsigned i)
{
	__u64 *const t[17] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp,
				  &r->rsp, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
				  &r->r14, &r->r15, &r->rip };
	return t[i];
}

static struct kvm_segment *segreg(struct kvm_sregs *s, unsigned i)
{
	struct kvm_segment *const t[6] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	return t[i];
}

/* the x87 control/status words as gdb numbers them: fctrl fstat ftag fiseg fioff foseg fooff fop */
static uint32_t fpu_ctl(const struct kvm_fpu *f, unsigned i)
{
	uint32_t tag = 0;

	switch (i) {
	case 0: return f->fcw;
	case 1: return f->fsw;
	case 2:	/* the FXSAVE abridged tag: 1 = in use (shown as valid, 00), 0 = empty (11) */
		for (unsigned k = 0; k < 8; k++)
			if (!(f->ftwx & (1u << k)))
				tag |= 3u << (2 * k);
		return tag;
	case 3: return (uint32_t)(f->last_ip >> 32);
	case 4: return (uint32_t)f->last_ip;
	case 5: return (uint32_t)(f->last_dp >> 32);
	case 6: return (uint32_t)f->last_dp;
	default: return f->last_opcode;
	}
}

void gdb_regs__get(struct gdb_regs_cache *cache, unsigned r, uint8_t *out)
{
	struct gdb_cpu_regs *c = (struct gdb_cpu_regs *)cache->bytes;
	uint64_t v;

	if (r <= R_RIP) {
		memcpy(out, gpr(&c->r, r), 8);
	} else if (r == R_EFLAGS) {
		uint32_t f = (uint32_t)c->r.rflags;
		memcpy(out, &f, 4);
	} else if (r < R_ST0) {
		uint32_t sel = segreg(&c->s, r - R_CS)->selector;
		memcpy(out, &sel, 4);
	} else if (r < R_FCTRL) {
		memcpy(out, c->f.fpr[r - R_ST0], 10);
	} else if (r < R_XMM0) {
		uint32_t x = fpu_ctl(&c->f, r - R_FCTRL);
		memcpy(out, &x, 4);
	} else if (r < R_MXCSR) {
		memcpy(out, c->f.xmm[r - R_XMM0], 16);
	} else if (r == R_MXCSR) {
		memcpy(out, &c->f.mxcsr, 4);
	} else {
		v = r == R_FS_BASE ? c->s.fs.base : c->s.gs.base;
		memcpy(out, &v, 8);
	}
}

/* Sets register r from in. Selectors and the x87 control words other than fctrl/fstat/fop
 * cannot be written (a selector alone means nothing without its descriptor): a changed value
 * is refused with -1; the same value is accepted. */
int gdb_regs__put(struct gdb_regs_cache *cache, unsigned r, const uint8_t *in)
{
	struct gdb_cpu_regs *c = (struct gdb_cpu_regs *)cache->bytes;
	uint32_t x;

	if (r <= R_RIP) {
		memcpy(gpr(&c->r, r), in, 8);
	} else if (r == R_EFLAGS) {
		memcpy(&x, in, 4);
		c->r.rflags = x | 2;	/* bit 1 is always set */
	} else if (r < R_ST0) {
		memcpy(&x, in, 4);
		if (x != segreg(&c->s, r - R_CS)->selector)
			return -1;
	} else if (r < R_FCTRL) {
		memcpy(c->f.fpr[r - R_ST0], in, 10);
	} else if (r < R_XMM0) {
		memcpy(&x, in, 4);
		if (r == R_FCTRL)
			c->f.fcw = (uint16_t)x;
		else if (r == R_FCTRL + 1)
			c->f.fsw = (uint16_t)x;
		else if (r == R_FCTRL + 7)
			c->f.last_opcode = (uint16_t)x;
		else if (x != fpu_ctl(&c->f, r - R_FCTRL))
			return -1;
	} else if (r < R_MXCSR) {
		memcpy(c->f.xmm[r - R_XMM0], in, 16);
	} else if (r == R_MXCSR) {
		memcpy(&c->f.mxcsr, in, 4);
	} else {
		memcpy(r == R_FS_BASE ? &c->s.fs.base : &c->s.gs.base, in, 8);
	}
	return 0;
}

int gdb_regs__store(struct vcpu *v, struct gdb_regs_cache *cache)
{
	const struct gdb_cpu_regs *c = (const struct gdb_cpu_regs *)cache->bytes;

	if (ioctl(v->fd, KVM_SET_REGS, &c->r) < 0 || ioctl(v->fd, KVM_SET_SREGS, &c->s) < 0 ||
	    ioctl(v->fd, KVM_SET_FPU, &c->f) < 0)
		return -1;
	return 0;
}

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\"><architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"\" start=\"1\" end=\"1\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/><reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/><reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/><reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/><reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/><reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/></feature>\n</target>\n";

const char *gdb_regs__target_xml(size_t *len)
{
	*len = sizeof(target_xml) - 1;
	return target_xml;
}

int gdb_regs__set_pc(struct vcpu *v, uint64_t pc)
{
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return -1;
	r.rip = pc;
	return ioctl(v->fd, KVM_SET_REGS, &r) < 0 ? -1 : 0;
}
