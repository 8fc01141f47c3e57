/* SPDX-License-Identifier: Apache-2.0 */
/* Prints a vCPU's last-exits ring, with ages converted from cycle-counter ticks to time. */
#include "vmm/lastexits.h"

#include <inttypes.h>
#include <time.h>

#include "vmm/exit_names.h"

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* counter ticks per microsecond, measured over 2 ms (a dump is rare; the ring stays cheap). */
static double tsc_per_us(void)
{
	uint64_t t0 = mono_ns(), c0 = arch__cycles(), t1;
	struct timespec d = { 0, 2000000 };

	nanosleep(&d, NULL);
	t1 = mono_ns();
	uint64_t c1 = arch__cycles();
	return t1 > t0 && c1 > c0 ? (double)(c1 - c0) * 1000.0 / (double)(t1 - t0) : 0;
}

static void print_one(FILE *f, const struct lastexit *e, uint64_t seq, uint64_t now,
		      double per_us)
{
	const struct exit_access *a = &e->a;

	fprintf(f, "    #%-6" PRIu64, seq);
	if (per_us > 0 && now >= e->tsc)
		fprintf(f, " %10.1f us ago ", (double)(now - e->tsc) / per_us);
	else
		fprintf(f, " %10s us ago ", "?");
	if (a->bus == TRACE_BUS_NONE) {
		fprintf(f, " %s\n", exit__name(e->reason));
		return;
	}
	fprintf(f, " %-20s %-4s %-5s 0x%-10" PRIx64 " size %u", exit__name(e->reason),
		a->bus == TRACE_BUS_PIO ? "pio" : "mmio", a->flags & TRACE_R_WRITE ? "write" : "read",
		a->addr, a->size);
	if (a->size)
		fprintf(f, " value 0x%0*" PRIx64, a->size * 2, a->value);
	if (a->count > 1)
		fprintf(f, " x%u (rep)", a->count);
	fputc('\n', f);
}

void lastexits__print(FILE *f, const struct lastexits *l)
{
	uint64_t now = arch__cycles(), n = l->n, first = n > LASTEXITS_N ? n - LASTEXITS_N : 0;

	if (n == 0) {
		fprintf(f, "  last exits: none before this one\n");
		return;
	}
	double per_us = tsc_per_us();
	fprintf(f, "  last %" PRIu64 " exits before this one, oldest first (exit #, age):\n",
		n - first);
	for (uint64_t i = first; i < n; i++)
		print_one(f, &l->e[i & (LASTEXITS_N - 1)], i, now, per_us);
}
