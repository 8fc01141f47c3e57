/* SPDX-License-Identifier: Apache-2.0 */
/* The --trace-exits option: FILE[,reason=..][,addr=LO-HI][,vcpu=N][,max=SIZE] and its filter. */
#ifndef KVMINI_VMM_TRACE_OPTS_H
#define KVMINI_VMM_TRACE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/trace_file.h"

#define TRACE_DEFAULT_MAX (64ULL << 20)
#define TRACE_PATH_MAX    4096

/* Which exits get recorded. Every condition that is set must hold. */
struct trace_filter {
	bool has_reason;           /* only the reasons below: */
	uint64_t reasons;          /* bit r: exit reason r (< 64) */
	bool others;               /* reasons >= 64 */
	bool has_addr;             /* only PIO/MMIO accesses whose port/GPA lies in [lo, hi] */
	uint64_t lo, hi;
	int vcpu;                  /* only this vCPU; -1: all */
};

struct trace_opts {
	char path[TRACE_PATH_MAX];
	struct trace_filter filter;
	uint64_t max_bytes;        /* file size limit, header included */
};

/* Parses the option's value. 0, or -1 with a one-line reason in err. */
int trace__parse_opts(const char *spec, struct trace_opts *o, char *err, size_t errlen);
/* "reason=" names: io, mmio, intr, hlt, shutdown, system_event, ... (KVM_EXIT_ without the
 * prefix, any case) or a number. The reason code, or -1. */
int trace__reason_code(const char *name);

static inline bool trace__filter_match(const struct trace_filter *f, const struct trace_rec *r)
{
	if (f->has_reason) {
		if (r->reason < 64 ? !(f->reasons >> r->reason & 1) : !f->others)
			return false;
	}
	if (f->has_addr && (r->bus == TRACE_BUS_NONE || r->addr < f->lo || r->addr > f->hi))
		return false;
	return f->vcpu < 0 || r->vcpu == (unsigned)f->vcpu;
}

#endif
