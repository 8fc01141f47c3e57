/* SPDX-License-Identifier: Apache-2.0 */
/* The shape of the per-thread-kind seccomp allow-lists (the tables are in seccomp_rules.c). */
#ifndef KVMINI_VMM_SECCOMP_RULES_H
#define KVMINI_VMM_SECCOMP_RULES_H

#include <stddef.h>
#include <seccomp.h>

#include "vmm/seccomp_kind.h"

#define SECCOMP_IF_STATS_FILE (1u << 0)  /* only with --exit-stats=json:PATH */
#define SECCOMP_IF_GDB_UNIX   (1u << 1)  /* only with --gdb unix:PATH */
#define SECCOMP_IF_VSOCK_UNIX (1u << 2)  /* only with --vsock socket=PATH */
#define SECCOMP_ARG_PID       (~0ULL)    /* an argument that must be kvmini's own pid */

struct seccomp_rule {
	int nr;                         /* SCMP_SYS(name) */
	unsigned nargs;                 /* 0: any arguments */
	struct scmp_arg_cmp arg[2];     /* all must hold */
	unsigned when;                  /* SECCOMP_IF_*: only with that option; 0: always */
	int err;                        /* 0: allow; else fail with this errno */
};

struct seccomp_ruleset {
	const char *name;
	const struct seccomp_rule *rules;
	size_t n;
};

/* Building rules (seccomp_rules.c and the architecture's vmm/ARCH/seccomp_rules.c) */
#define ARG_EQ(i, v)           { .arg = (i), .op = SCMP_CMP_EQ, .datum_a = (v) }
#define ARG_MASKED(i, m, v)    { .arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (m), .datum_b = (v) }
#define ALLOW(sys)             { .nr = SCMP_SYS(sys) }
#define ALLOW_IF(sys, cond)    { .nr = SCMP_SYS(sys), .when = (cond) }
#define ALLOW1(sys, a)         { .nr = SCMP_SYS(sys), .nargs = 1, .arg = { a } }
#define ALLOW2(sys, a, b)      { .nr = SCMP_SYS(sys), .nargs = 2, .arg = { a, b } }
#define IOCTL(req)             ALLOW1(ioctl, ARG_EQ(1, req))
#define SET(name, rules)       { name, rules, sizeof(rules) / sizeof(rules[0]) }

/* The architecture's ioctls of the vCPU (crash dump, gdb hooks) and gdb stub threads
 * (vmm/ARCH/seccomp_rules.c) */
extern const struct seccomp_ruleset seccomp_arch_vcpu, seccomp_arch_gdb;

/* The i-th argument (0-based) of the blocked syscall, from the SIGSYS handler's ucontext_t
 * (vmm/ARCH/seccomp_rules.c; async-signal-safe). */
unsigned long long seccomp_arch__arg(const void *ucontext, unsigned i);

/* Each kind's filter is the union of up to 4 sets (NULL-terminated). */
#define SECCOMP_MAX_SETS 4
extern const struct seccomp_ruleset *const seccomp_kind_sets[SECCOMP_KIND_COUNT][SECCOMP_MAX_SETS];

#endif
