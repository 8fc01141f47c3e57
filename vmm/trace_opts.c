/* SPDX-License-Identifier: Apache-2.0 */
/* The --trace-exits option: file name, filters (reason, addr, vcpu) and the size limit. */
#include "vmm/trace_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/exit_names.h"
#include "vmm/limits.h"
#include "vmm/parse.h"

int trace__reason_code(const char *name)
{
	char *end;

	if (isdigit((unsigned char)*name)) {
		errno = 0;
		unsigned long v = strtoul(name, &end, 0);
		return (!errno && !*end && v <= 0xffff) ? (int)v : -1;
	}
	if (!strcasecmp(name, "system"))
		name = "system_event";
	for (unsigned r = 0; r < 64; r++) {
		const char *n = exit__name(r);
		if (!strncmp(n, "KVM_EXIT_", 9) && !strcasecmp(n + 9, name))
			return (int)r;
	}
	return -1;
}

static int parse_u64(const char *s, const char *end, uint64_t *out)
{
	char buf[32], *e;

	if (end - s <= 0 || end - s >= (long)sizeof(buf) || !isdigit((unsigned char)*s))
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	errno = 0;
	*out = strtoull(buf, &e, 0);
	return errno || *e ? -1 : 0;
}

/* io|mmio, io+mmio: '|' and '+' both separate */
static int parse_reasons(const char *v, struct trace_filter *f, char *err, size_t errlen)
{
	char buf[256];

	if (!*v || strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "--trace-exits: reason= needs a list such as io|mmio");
		return -1;
	}
	strcpy(buf, v);
	for (char *save = NULL, *t = strtok_r(buf, "|+", &save); t; t = strtok_r(NULL, "|+", &save)) {
		int code = trace__reason_code(t);
		if (code < 0) {
			snprintf(err, errlen, "--trace-exits: unknown exit reason '%s' (io, mmio, intr, "
				 "hlt, shutdown, system_event, ... or a number)", t);
			return -1;
		}
		if (code < 64)
			f->reasons |= 1ULL << code;
		else
			f->others = true;
	}
	f->has_reason = true;
	if (!f->reasons && !f->others) {
		snprintf(err, errlen, "--trace-exits: reason= needs a list such as io|mmio");
		return -1;
	}
	return 0;
}

static int parse_addr(const char *v, struct trace_filter *f)
{
	const char *dash = strchr(v, '-');
	const char *end = v + strlen(v);

	if (parse_u64(v, dash ? dash : end, &f->lo))
		return -1;
	if (dash ? parse_u64(dash + 1, end, &f->hi) : (f->hi = f->lo, 0))
		return -1;
	if (f->hi < f->lo)
		return -1;
	f->has_addr = true;
	return 0;
}

int trace__parse_opts(const char *spec, struct trace_opts *o, char *err, size_t errlen)
{
	char buf[TRACE_PATH_MAX + 512];
	unsigned seen = 0;

	memset(o, 0, sizeof(*o));
	o->filter.vcpu = -1;
	o->max_bytes = TRACE_DEFAULT_MAX;
	if (!spec || !*spec || *spec == ',') {
		snprintf(err, errlen, "--trace-exits needs a file name (FILE[,filter...])");
		return -1;
	}
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--trace-exits: the value is too long");
		return -1;
	}
	strcpy(buf, spec);
	char *save = NULL, *item = strtok_r(buf, ",", &save);
	if (strlen(item) >= sizeof(o->path)) {
		snprintf(err, errlen, "--trace-exits: the file name is too long");
		return -1;
	}
	strcpy(o->path, item);
	while ((item = strtok_r(NULL, ",", &save))) {
		static const char *const keys[] = { "reason", "addr", "vcpu", "max" };
		char *eq = strchr(item, '=');
		unsigned k;

		if (eq)
			*eq = '\0';
		for (k = 0; k < 4 && strcmp(item, keys[k]); k++)
			;
		if (k == 4 || !eq) {
			snprintf(err, errlen, "--trace-exits: unknown item '%s' (use reason=, addr=, "
				 "vcpu=, max=)", item);
			return -1;
		}
		if (seen & (1u << k)) {
			snprintf(err, errlen, "--trace-exits: %s= given twice", keys[k]);
			return -1;
		}
		seen |= 1u << k;
		const char *v = eq + 1;
		uint64_t n;
		switch (k) {
		case 0:
			if (parse_reasons(v, &o->filter, err, errlen))
				return -1;
			break;
		case 1:
			if (parse_addr(v, &o->filter)) {
				snprintf(err, errlen, "--trace-exits: addr='%s': use LO-HI or one address "
					 "(e.g. 0xd0000000-0xd0000fff)", v);
				return -1;
			}
			break;
		case 2:
			if (parse_u64(v, v + strlen(v), &n) || n >= MAX_CPUS) {
				snprintf(err, errlen, "--trace-exits: vcpu='%s': need a vCPU number", v);
				return -1;
			}
			o->filter.vcpu = (int)n;
			break;
		case 3:
			if (parse__size(v, &o->max_bytes) || o->max_bytes == 0) {
				snprintf(err, errlen, "--trace-exits: max='%s': not a size (examples: 64M, "
					 "1G)", v);
				return -1;
			}
			break;
		}
	}
	return 0;
}
