/* SPDX-License-Identifier: Apache-2.0 */
/* The last exits of each vCPU: a tiny always-on ring that crash dumps print. */
#ifndef KVMINI_VMM_LASTEXITS_H
#define KVMINI_VMM_LASTEXITS_H

#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "vmm/arch.h"
#include "vmm/exit_decode.h"

#define LASTEXITS_N 16         /* a power of two */

struct lastexit {
	uint64_t tsc;              /* arch__cycles() after handling */
	struct exit_access a;
	uint32_t reason;
};

/* Written by the vCPU's own thread only; read by its crash dump (same thread) or after join. */
struct lastexits {
	uint64_t n;                /* exits recorded so far */
	struct lastexit e[LASTEXITS_N];
};

/* One exit, after handling (so a read's value is what the device returned). */
static inline void lastexits__add(struct lastexits *l, const struct kvm_run *run, size_t run_size)
{
	struct lastexit *e = &l->e[l->n++ & (LASTEXITS_N - 1)];

	e->tsc = arch__cycles();
	e->reason = run->exit_reason;
	exit__decode(run, run_size, &e->a);
}

/* Prints the ring, oldest first, with how long before now each exit was handled. */
void lastexits__print(FILE *f, const struct lastexits *l);

#endif
