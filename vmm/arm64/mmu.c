/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 stage-1 translation: walks the guest's VMSAv8-64 EL1&0 tables (4K, 16K, 64K granules) in software. */
#include "vmm/arm64/mmu.h"

#include <stdbool.h>

#define SCTLR_M    (1ULL << 0)
#define SCTLR_EE   (1ULL << 25)     /* translation tables are big-endian */
#define TCR_EPD0   (1ULL << 7)
#define TCR_EPD1   (1ULL << 23)
#define TCR_TBI0   (1ULL << 37)
#define TCR_TBI1   (1ULL << 38)
#define TCR_DS     (1ULL << 59)
#define DESC_VALID (1ULL << 0)
#define DESC_TABLE (1ULL << 1)      /* levels -1 to 2: table (else block); level 3: page */
#define LOW(n)     ((1ULL << (n)) - 1)   /* bits [n-1:0], n < 64 */

/* one half of the address space as TCR_EL1 and its TTBR set it up */
struct walk {
	unsigned gran;      /* granule shift: 12, 14, 16 */
	unsigned ia;        /* input address size in bits: 64 - TxSZ */
	unsigned ps;        /* output address size in bits (TCR.IPS) */
	bool lpa;           /* 64K with 52-bit PAs: PA[51:48] in descriptor bits [15:12] */
	bool ds;            /* TCR.DS with 4K/16K: PA[51:50] in bits [9:8], PA[49:48] in place */
	int level;          /* start level, -1 to 3 */
	uint64_t table;     /* the start level's table */
};

/* the granule shift of TG0 (TCR[15:14]) or TG1 (TCR[31:30]); a reserved value is taken as 4K */
static unsigned granule(uint64_t tcr, bool upper)
{
	static const unsigned tg0[4] = { 12, 16, 14, 12 }, tg1[4] = { 12, 14, 12, 16 };

	return upper ? tg1[(tcr >> 30) & 3] : tg0[(tcr >> 14) & 3];
}

/* the output address size of TCR.IPS (TCR[34:32]); 0b111 (56 bits, FEAT_D128) is taken as 52 */
static unsigned out_size(uint64_t tcr)
{
	static const unsigned ips[8] = { 32, 36, 40, 42, 44, 48, 52, 52 };

	return ips[(tcr >> 32) & 7];
}

/* the start table from TTBR: BADDR[47:1] (with 52-bit PAs, [47:6] and [51:48] in bits [5:2],
 * the table at least 64-byte aligned); bits below the table's size are taken as zero (one of
 * the CONSTRAINED UNPREDICTABLE choices); ASID (bits [63:48]) and CnP (bit 0) go */
static int table_base(struct walk *w, uint64_t ttbr)
{
	unsigned stride = w->gran - 3;
	unsigned align = w->ia - (w->gran + stride * (unsigned)(3 - w->level)) + 3;
	uint64_t b = ttbr & (LOW(48) & ~1ULL);

	if (w->lpa || w->ds)
		b = (b & ~LOW(6)) | (((ttbr >> 2) & 0xf) << 48);
	b &= ~LOW(align);
	if (b >> w->ps)
		return -1;
	w->table = b;
	return 0;
}

/* the half of va: its registers, the check of va's upper bits, the start level and table */
static int setup(const struct a64_mmu *m, uint64_t va, struct walk *w)
{
	bool upper = (va >> 55) & 1;
	unsigned tsz = upper ? (m->tcr >> 16) & 63 : m->tcr & 63;
	bool tbi = m->tcr & (upper ? TCR_TBI1 : TCR_TBI0);
	unsigned min, max, top, stride;

	if (m->tcr & (upper ? TCR_EPD1 : TCR_EPD0))
		return -1;
	w->gran = granule(m->tcr, upper);
	w->ds = (m->tcr & TCR_DS) && w->gran != 16;
	w->ps = out_size(m->tcr);
	w->lpa = w->gran == 16 && w->ps == 52;	/* 4K/16K without DS: addresses stay 48-bit */
	min = (w->gran == 16 || w->ds) ? 12 : 16;
	max = w->gran == 16 ? 47 : 48;
	tsz = tsz < min ? min : tsz > max ? max : tsz;
	w->ia = 64 - tsz;
	/* va[63:ia] (va[55:ia] with the top byte ignored) must all be bit 55 */
	top = (tbi ? 56 : 64) - w->ia;
	if (((va >> w->ia) & LOW(top)) != (upper ? LOW(top) : 0))
		return -1;
	stride = w->gran - 3;
	w->level = 4 - (int)((w->ia - w->gran + stride - 1) / stride);
	return table_base(w, upper ? m->ttbr1 : m->ttbr0);
}

/* the address in a table, block or page descriptor d whose low shift bits are not address */
static uint64_t desc_addr(const struct walk *w, uint64_t d, unsigned shift)
{
	uint64_t a = d & LOW(w->ds ? 50 : 48) & ~LOW(shift);

	if (w->lpa)
		a |= ((d >> 12) & 0xf) << 48;
	if (w->ds)
		a |= ((d >> 8) & 3) << 50;
	return a;
}

/* may a block descriptor sit at this level? (elsewhere it is invalid) */
static bool block_ok(const struct walk *w, int level)
{
	switch (w->gran) {
	case 12:
		return level >= (w->ds ? 0 : 1);
	case 14:
		return level >= (w->ds ? 1 : 2);
	default:
		return level >= (w->lpa ? 1 : 2);
	}
}

/* the descriptor at pa, in the tables' byte order (SCTLR_EL1.EE) */
static int read_desc(const struct a64_mmu *m, a64_read_fn rd, void *ctx, uint64_t pa,
		     uint64_t *d)
{
	uint64_t v, s = 0;

	if (rd(ctx, pa, &v))
		return -1;
	if (m->sctlr & SCTLR_EE) {
		for (int i = 0; i < 8; i++)
			s = (s << 8) | ((v >> (8 * i)) & 0xff);
		v = s;
	}
	*d = v;
	return 0;
}

int a64_mmu__translate(const struct a64_mmu *m, uint64_t va, a64_read_fn rd, void *ctx,
		       uint64_t *pa)
{
	struct walk w;
	uint64_t table, d;

	if (!m || !rd || !pa)
		return -1;
	if (!(m->sctlr & SCTLR_M)) {
		*pa = va;
		return 0;
	}
	if (setup(m, va, &w))
		return -1;
	table = w.table;
	for (int level = w.level; level <= 3; level++) {	/* at most 5 lookups */
		unsigned shift = w.gran + (w.gran - 3) * (unsigned)(3 - level);
		unsigned bits = level == w.level ? w.ia - shift : w.gran - 3;

		if (read_desc(m, rd, ctx, table + ((va >> shift) & LOW(bits)) * 8, &d) ||
		    !(d & DESC_VALID))
			return -1;
		if (level < 3 && (d & DESC_TABLE)) {
			table = desc_addr(&w, d, w.gran);
			if (table >> w.ps)
				return -1;
			continue;
		}
		if (level < 3 ? !block_ok(&w, level) : !(d & DESC_TABLE))
			return -1;	/* a block where none may be; 0b01 at level 3 */
		d = desc_addr(&w, d, shift);
		if (d >> w.ps)
			return -1;
		*pa = d | (va & LOW(shift));
		return 0;
	}
	return -1;
}
