/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the arm64 stage-1 table walk, guest-virtual to guest-physical, over page tables in a fake guest RAM (vmm/arm64/mmu.c). */
#include <check.h>
#include <stdlib.h>

#include "tests/lib/ck.h"
#include "vmm/arm64/mmu.h"

#define RAM_BASE   0x40000000ULL
#define RAM_SIZE   (4ULL << 20)
#define HIGH_BASE  0x000f000040000000ULL   /* above 48 bits: PA[51:48] = 0xf */
#define FAIL       UINT64_MAX

/* SCTLR_EL1 as Linux runs (M, caches, ...; EE clear) and TCR_EL1's fields (Arm ARM) */
#define SCTLR_ON   0x34d5d91dULL
#define SCTLR_EE   (1ULL << 25)
#define T0SZ(n)    ((uint64_t)(n))
#define T1SZ(n)    ((uint64_t)(n) << 16)
#define TG0_4K     (0ULL << 14)
#define TG0_64K    (1ULL << 14)
#define TG0_16K    (2ULL << 14)
#define TG1_16K    (1ULL << 30)
#define TG1_4K     (2ULL << 30)
#define TG1_64K    (3ULL << 30)
#define IPS(v)     ((uint64_t)(v) << 32)    /* 0: 32 bits, 1: 36, 5: 48, 6: 52 */
#define EPD0       (1ULL << 7)
#define EPD1       (1ULL << 23)
#define TBI0       (1ULL << 37)
#define TBI1       (1ULL << 38)
#define DS         (1ULL << 59)
/* what else Linux sets: IRGNx/ORGNx write-back, SHx inner shareable, A1, AS */
#define TCR_OTHER  ((1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (1ULL << 22) | (1ULL << 24) | \
		    (1ULL << 26) | (3ULL << 28) | (1ULL << 36))
#define TCR_4K48   (TCR_OTHER | T0SZ(16) | T1SZ(16) | TG0_4K | TG1_4K | IPS(5))

/* descriptors: attribute and ignored bits everywhere the address is not (bits [9:8], SH, are
 * PA[51:50] with TCR.DS = 1, so kept apart) */
#define TN         0xf800000000000cfcULL    /* table: NSTable, APTable, XNTable, PXNTable, ignored */
#define LN         0xfff8000000000cfcULL    /* leaf: AttrIndx, NS, AP, AF, nG, DBM, Contiguous, PXN, UXN, software */
#define SH         0x300ULL
#define TABLE(a)   ((a) | TN | 3)
#define BLOCK(a)   ((a) | LN | SH | 1)
#define PAGE(a)    ((a) | LN | SH | 3)

/* 4K granule, 48-bit kernel addresses through TTBR1 (Linux's layout): level 0 to 3 tables */
#define K0         (RAM_BASE + 0x10000)
#define K1         (RAM_BASE + 0x11000)
#define K2         (RAM_BASE + 0x12000)
#define K3         (RAM_BASE + 0x13000)
#define VA4K(i0, i1, i2, i3, off) (((uint64_t)(i0) << 39) | ((uint64_t)(i1) << 30) | \
				   ((uint64_t)(i2) << 21) | ((uint64_t)(i3) << 12) | (off))
#define KPAGE      (0xffff000000000000ULL | VA4K(0x100, 5, 0x1a3, 0xf2, 0x678))
#define KBLK2M     (0xffff000000000000ULL | VA4K(0x100, 5, 0x1a4, 0, 0x1abcde))
#define KBLK1G     (0xffff000000000000ULL | VA4K(0x100, 6, 0, 0, 0x2bcdef12))
/* and a user address through TTBR0 */
#define U0         (RAM_BASE + 0x20000)
#define U1         (RAM_BASE + 0x21000)
#define U2         (RAM_BASE + 0x22000)
#define U3         (RAM_BASE + 0x23000)
#define UPAGE      VA4K(0x155, 0xaa, 0x1dd, 0xbc, 0x123)

struct ram {
	uint8_t *mem;
	uint64_t base;
	unsigned reads;
};

static int rd(void *ctx, uint64_t pa, uint64_t *val)
{
	struct ram *r = ctx;
	uint64_t v = 0;

	if (pa < r->base || pa - r->base > RAM_SIZE - 8)
		return -1;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | r->mem[pa - r->base + i];
	*val = v;
	r->reads++;
	return 0;
}

static void put(struct ram *r, uint64_t pa, uint64_t v)
{
	ck_assert_uint_ge(pa, r->base);
	ck_assert_uint_le(pa - r->base, RAM_SIZE - 8);
	for (int i = 0; i < 8; i++)
		r->mem[pa - r->base + i] = (uint8_t)(v >> (8 * i));
}

static struct ram ram_new(uint64_t base)
{
	struct ram r = { calloc(1, RAM_SIZE), base, 0 };

	ck_assert_ptr_nonnull(r.mem);
	return r;
}

/* the translation of va, FAIL when it fails (and then *pa is left alone) */
static uint64_t xl(const struct a64_mmu *m, struct ram *r, uint64_t va)
{
	uint64_t pa = 0x5555;
	int rc = a64_mmu__translate(m, va, rd, r, &pa);

	ck_assert_int_le(rc, 0);
	ck_assert_int_ge(rc, -1);
	if (rc)
		ck_assert_uint_eq(pa, 0x5555);
	return rc ? FAIL : pa;
}

/* Linux's 4K, 48-bit kernel and user tables: KPAGE, KBLK2M, KBLK1G and UPAGE mapped */
static struct a64_mmu linux_4k(struct ram *r)
{
	put(r, K0 + 0x100 * 8, TABLE(K1));
	put(r, K1 + 5 * 8, TABLE(K2));
	put(r, K2 + 0x1a3 * 8, TABLE(K3));
	put(r, K3 + 0xf2 * 8, PAGE(0x87654000ULL));
	put(r, K2 + 0x1a4 * 8, BLOCK(0x80600000ULL));
	put(r, K1 + 6 * 8, BLOCK(0x140000000ULL));
	put(r, U0 + 0x155 * 8, TABLE(U1));
	put(r, U1 + 0xaa * 8, TABLE(U2));
	put(r, U2 + 0x1dd * 8, TABLE(U3));
	put(r, U3 + 0xbc * 8, PAGE(0x9abcd000ULL));
	/* ASIDs in bits [63:48], CnP in bit 0 */
	return (struct a64_mmu){ .sctlr = SCTLR_ON, .tcr = TCR_4K48,
				 .ttbr0 = (0x42ULL << 48) | U0 | 1, .ttbr1 = (0x1234ULL << 48) | K0 | 1 };
}

START_TEST(mmu_off_is_identity)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);
	uint64_t pa = 0;

	m.sctlr &= ~1ULL;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), KPAGE);
	ck_assert_uint_eq(xl(&m, &r, 0x40080123), 0x40080123);
	ck_assert_int_eq(a64_mmu__translate(&m, FAIL, NULL, NULL, &pa), -1);	/* no reader */
	m.sctlr = 0;
	ck_assert_int_eq(a64_mmu__translate(&m, FAIL, rd, &r, &pa), 0);
	ck_assert_uint_eq(pa, FAIL);
	ck_assert_uint_eq(r.reads, 0);
	/* and with M set the same address walks */
	m.sctlr = SCTLR_ON;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_int_eq(a64_mmu__translate(NULL, 0, rd, &r, &pa), -1);
	ck_assert_int_eq(a64_mmu__translate(&m, KPAGE, rd, &r, NULL), -1);
	free(r.mem);
}
END_TEST

START_TEST(linux_4k_kernel_page_and_blocks)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_uint_eq(r.reads, 4);
	ck_assert_uint_eq(xl(&m, &r, KPAGE | 0xfff), 0x87654fff);
	ck_assert_uint_eq(xl(&m, &r, KPAGE + 0x1000), FAIL);	/* the next page: not mapped */
	put(&r, K3 + 0xf2 * 8, PAGE(0x87654000ULL) | (3ULL << 48));	/* RES0 without DS */
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	r.reads = 0;
	r.reads = 0;
	ck_assert_uint_eq(xl(&m, &r, KBLK2M), 0x807abcde);
	ck_assert_uint_eq(r.reads, 3);
	r.reads = 0;
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), 0x16bcdef12);
	ck_assert_uint_eq(r.reads, 2);
	/* the output size: a 32-bit IPS cannot reach the 1 GiB block at 5 GiB, 36 bits can */
	m.tcr = (m.tcr & ~IPS(7)) | IPS(0);
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), FAIL);
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	m.tcr = (m.tcr & ~IPS(7)) | IPS(1);
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), 0x16bcdef12);
	/* TTBR1 bits [5:2] are no address without 52-bit PAs (and inside the table's alignment) */
	m.ttbr1 |= 0x3c;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	/* a reserved TG1 (0b00) is taken as 4K */
	m.tcr &= ~(3ULL << 30);
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	free(r.mem);
}
END_TEST

START_TEST(ttbr0_user_address)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	ck_assert_uint_eq(xl(&m, &r, UPAGE), 0x9abcd123);
	/* bit 55 picks TTBR1, where nothing is mapped at these indexes */
	ck_assert_uint_eq(xl(&m, &r, UPAGE | 0xffff000000000000ULL), FAIL);
	/* the halves are TTBR0's and TTBR1's: swapped, the kernel page is found through TTBR0 */
	m.ttbr0 = K0;
	ck_assert_uint_eq(xl(&m, &r, KPAGE & 0x0000ffffffffffffULL), 0x87654678);
	free(r.mem);
}
END_TEST

START_TEST(va39_three_levels)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	/* T1SZ = 25: 39-bit addresses, the walk starts at level 1 (the same K1 table) */
	m.tcr = (m.tcr & ~T1SZ(63)) | T1SZ(25);
	m.ttbr1 = K1;
	ck_assert_uint_eq(xl(&m, &r, 0xffffff8000000000ULL | VA4K(0, 5, 0x1a3, 0xf2, 0x678)),
			  0x87654678);
	ck_assert_uint_eq(r.reads, 3);
	ck_assert_uint_eq(xl(&m, &r, 0xffffff8000000000ULL | VA4K(0, 6, 0, 0, 0x2bcdef12)),
			  0x16bcdef12);
	/* bit 39 clear: not a 39-bit TTBR1 address */
	ck_assert_uint_eq(xl(&m, &r, 0xffffff0000000000ULL | VA4K(0, 5, 0x1a3, 0xf2, 0x678)),
			  FAIL);
	free(r.mem);
}
END_TEST

/* 16K granule: 47-bit TTBR1 (3 levels from level 1) and 48-bit TTBR0 (level 0 of 2 entries) */
START_TEST(granule_16k)
{
	struct ram r = ram_new(RAM_BASE);
	uint64_t l0 = RAM_BASE + 0x50010, l1 = RAM_BASE + 0x40000, l2 = RAM_BASE + 0x44000,
		 l3 = RAM_BASE + 0x48000;
	uint64_t va = (0x3a5ULL << 36) | (0x123ULL << 25) | (0x456ULL << 14) | 0x2345;
	uint64_t blk = (0x3a5ULL << 36) | (0x124ULL << 25) | 0x1234567;
	struct a64_mmu m = { SCTLR_ON, TCR_OTHER | T0SZ(16) | TG0_16K | T1SZ(17) | TG1_16K | IPS(5),
			     l0 | 8 | 1, l1 };	/* a 16-byte table: bit 3 is no address */

	put(&r, l0 + 8, TABLE(l1));
	put(&r, l1 + 0x3a5 * 8, TABLE(l2));
	put(&r, l2 + 0x123 * 8, TABLE(l3));
	put(&r, l3 + 0x456 * 8, PAGE(0x12345c000ULL));
	put(&r, l2 + 0x124 * 8, BLOCK(0x202000000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0xffff800000000000ULL | va), 0x12345e345);
	ck_assert_uint_eq(xl(&m, &r, 0xffff800000000000ULL | blk), 0x203234567);
	ck_assert_uint_eq(xl(&m, &r, (1ULL << 47) | va), 0x12345e345);
	ck_assert_uint_eq(xl(&m, &r, (1ULL << 47) | blk), 0x203234567);
	ck_assert_uint_eq(xl(&m, &r, va), FAIL);	/* level 0 entry 0: empty */
	/* no level 1 blocks with 16K (without TCR.DS) */
	put(&r, l1 + 0x3a6 * 8, BLOCK(0x1000000000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0xffff800000000000ULL | (0x3a6ULL << 36) | 0x10), FAIL);
	/* with TCR.DS they are allowed (and bits [9:8] are PA[51:50], so no SH here) */
	put(&r, l1 + 0x3a6 * 8, 0x1000000000ULL | LN | 1);
	m.tcr |= DS;
	ck_assert_uint_eq(xl(&m, &r, 0xffff800000000000ULL | (0x3a6ULL << 36) | 0x10), 0x1000000010);
	m.tcr &= ~DS;
	ck_assert_uint_eq(xl(&m, &r, 0xffff800000000000ULL | (0x3a6ULL << 36) | 0x10), FAIL);
	free(r.mem);
}
END_TEST

/* 64K granule: 48-bit TTBR1 (3 levels from level 1) and 42-bit TTBR0 (2 levels from level 2) */
START_TEST(granule_64k)
{
	struct ram r = ram_new(RAM_BASE);
	uint64_t l1 = RAM_BASE + 0x100000, l2 = RAM_BASE + 0x110000, l3 = RAM_BASE + 0x120000;
	uint64_t va = (0x1234ULL << 29) | (0xabcULL << 16) | 0xbeef;
	uint64_t blk = (0x1235ULL << 29) | 0x1abcdef0;
	struct a64_mmu m = { SCTLR_ON, TCR_OTHER | T0SZ(22) | TG0_64K | T1SZ(16) | TG1_64K | IPS(5),
			     l2, l1 };

	put(&r, l1 + 0x21 * 8, TABLE(l2));
	put(&r, l2 + 0x1234 * 8, TABLE(l3));
	put(&r, l3 + 0xabc * 8, PAGE(0x567890000ULL));
	put(&r, l2 + 0x1235 * 8, BLOCK(0x60000000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | (0x21ULL << 42) | va), 0x56789beef);
	ck_assert_uint_eq(r.reads, 3);
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | (0x21ULL << 42) | blk), 0x7abcdef0);
	ck_assert_uint_eq(xl(&m, &r, va), 0x56789beef);
	ck_assert_uint_eq(xl(&m, &r, blk), 0x7abcdef0);
	ck_assert_uint_eq(xl(&m, &r, (1ULL << 42) | va), FAIL);	/* past 42 bits */
	/* T0SZ above 47 is taken as 47 with 64K: one level-3 table of 2 entries */
	m.tcr = (m.tcr & ~T0SZ(63)) | T0SZ(63);
	m.ttbr0 = RAM_BASE + 0x130000;
	put(&r, m.ttbr0 + 8, PAGE(0x56780000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0x11234), 0x56781234);
	m.tcr |= DS;	/* no effect with 64K */
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | (0x21ULL << 42) | va), 0x56789beef);
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | (0x21ULL << 42) | blk), 0x7abcdef0);
	ck_assert_uint_eq(xl(&m, &r, 0x11234), 0x56781234);
	/* a level 1 block needs 52-bit physical addresses */
	put(&r, l1 + 0x22 * 8, BLOCK(0x40000000000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | (0x22ULL << 42) | 0x10), FAIL);
	free(r.mem);
}
END_TEST

/* 64K granule with 52-bit addresses (FEAT_LPA/LVA): tables above 48 bits, a level 1 block */
START_TEST(granule_64k_52bit)
{
	struct ram r = ram_new(HIGH_BASE);
	uint64_t l1 = HIGH_BASE, l2 = HIGH_BASE + 0x10000, l3 = HIGH_BASE + 0x20000;
	uint64_t va = 0xfff0000000000000ULL | (0x3c1ULL << 42) | (0x1234ULL << 29) |
		      (0xabcULL << 16) | 0xbeef;
	uint64_t blk = 0xfff0000000000000ULL | (0x3c2ULL << 42) | 0x123456789aULL;
	struct a64_mmu m = { SCTLR_ON, TCR_OTHER | T1SZ(12) | TG1_64K | IPS(6), 0,
			     (l1 & 0xffffffffffc0ULL) | (0xfULL << 2) | (7ULL << 48) };

	/* PA[51:48] in descriptor bits [15:12] */
	put(&r, l1 + 0x3c1 * 8, TABLE((l2 & 0xffffffffffffULL) | (0xfULL << 12)));
	put(&r, l2 + 0x1234 * 8, TABLE((l3 & 0xffffffffffffULL) | (0xfULL << 12)));
	put(&r, l3 + 0xabc * 8, PAGE(0x123456780000ULL | (0xaULL << 12)));
	put(&r, l1 + 0x3c2 * 8, BLOCK(0x040000000000ULL | (0xbULL << 12)));
	ck_assert_uint_eq(xl(&m, &r, va), 0xa12345678beefULL);
	ck_assert_uint_eq(xl(&m, &r, blk), 0xb04123456789aULL);
	/* with a 48-bit IPS, TTBR1's bits [5:2] are no address: the walk cannot start */
	m.tcr = (m.tcr & ~IPS(7)) | IPS(5);
	ck_assert_uint_eq(xl(&m, &r, va), FAIL);
	free(r.mem);
}
END_TEST

/* 4K granule with TCR.DS = 1 (FEAT_LPA2): 52-bit addresses, 5 levels from level -1 */
START_TEST(granule_4k_lpa2)
{
	struct ram r = ram_new(HIGH_BASE);
	uint64_t t[5], va, blk, hi = 3ULL << 8;	/* PA[51:50] = 3 in bits [9:8] */
	struct a64_mmu m = { SCTLR_ON, TCR_OTHER | T1SZ(12) | TG1_4K | DS | IPS(6), 0, 0 };

	m.tcr &= ~(3ULL << 28);		/* SH1: no shareability field with DS */
	for (int i = 0; i < 5; i++)
		t[i] = HIGH_BASE + 0x30000 + 0x1000 * (uint64_t)i;
	m.ttbr1 = (t[0] & 0xffffffffffc0ULL) | (0xfULL << 2);
	va = 0xfff0000000000000ULL | (9ULL << 48) | VA4K(0x1e1, 0x3, 0x1f0, 0x11, 0xabc);
	blk = 0xfff0000000000000ULL | (9ULL << 48) | VA4K(0x1e2, 0, 0, 0, 0x123456789aULL);
	for (int i = 0; i < 4; i++) {
		uint64_t idx = i == 0 ? 9 : i == 1 ? 0x1e1 : i == 2 ? 0x3 : 0x1f0;

		put(&r, t[i] + idx * 8, (t[i + 1] & 0x3ffffffffffffULL) | hi | (TN & ~0x300ULL) | 3);
	}
	put(&r, t[4] + 0x11 * 8, 0x1876543210000ULL | (2ULL << 8) | LN | 3);
	put(&r, t[1] + 0x1e2 * 8, 0x2008000000000ULL | (3ULL << 8) | LN | 1);	/* a 512 GiB block */
	ck_assert_uint_eq(xl(&m, &r, va), 0x9876543210abcULL);
	ck_assert_uint_eq(r.reads, 5);
	ck_assert_uint_eq(xl(&m, &r, blk), 0xe00923456789aULL);
	/* 49-bit addresses: a level -1 table of 2 entries, 64-byte aligned (bits [5:2] are PA[51:48]) */
	m.tcr = (m.tcr & ~T1SZ(63)) | T1SZ(15);
	m.ttbr1 = ((HIGH_BASE + 0x3f000) & 0xffffffffffc0ULL) | (0xfULL << 2);
	put(&r, HIGH_BASE + 0x3f000 + 8, (t[1] & 0x3ffffffffffffULL) | hi | 3);
	ck_assert_uint_eq(xl(&m, &r, 0xffff000000000000ULL | VA4K(0x1e1, 0x3, 0x1f0, 0x11, 0xabc)),
			  0x9876543210abcULL);
	m.tcr = (m.tcr & ~T1SZ(63)) | T1SZ(12);
	m.ttbr1 = (t[0] & 0xffffffffffc0ULL) | (0xfULL << 2);
	/* no block at level -1 */
	put(&r, t[0] + 10 * 8, 0x1000000000000ULL | LN | 1);
	ck_assert_uint_eq(xl(&m, &r, (va & ~(0xfULL << 48)) | (10ULL << 48)), FAIL);
	/* without DS the same registers are a 48-bit 4K walk: a 52-bit address is not canonical */
	m.tcr &= ~DS;
	ck_assert_uint_eq(xl(&m, &r, va), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(invalid_descriptor_at_each_level)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);
	const uint64_t at[4] = { K0 + 0x100 * 8, K1 + 5 * 8, K2 + 0x1a3 * 8, K3 + 0xf2 * 8 };
	const uint64_t good[4] = { TABLE(K1), TABLE(K2), TABLE(K3), PAGE(0x87654000ULL) };

	for (int i = 0; i < 4; i++) {
		put(&r, at[i], good[i] & ~1ULL);	/* valid bit clear */
		ck_assert_msg(xl(&m, &r, KPAGE) == FAIL, "level %d", i);
		put(&r, at[i], 0);
		ck_assert_msg(xl(&m, &r, KPAGE) == FAIL, "level %d", i);
		put(&r, at[i], good[i]);
		ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	}
	/* 0b01 at level 3 is reserved, not a page; a block at level 0 (4K, no DS) is invalid */
	put(&r, at[3], BLOCK(0x87654000ULL));
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	put(&r, at[3], good[3]);
	put(&r, at[0], BLOCK(0));
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(non_canonical_addresses)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_uint_eq(xl(&m, &r, KPAGE & ~(1ULL << 48)), FAIL);
	ck_assert_uint_eq(xl(&m, &r, KPAGE & ~(1ULL << 63)), FAIL);
	ck_assert_uint_eq(xl(&m, &r, UPAGE | (1ULL << 48)), FAIL);
	ck_assert_uint_eq(xl(&m, &r, UPAGE | (1ULL << 60)), FAIL);
	/* T1SZ below 16 without DS or 64K is taken as 16: 52-bit addresses do not fit */
	m.tcr = (m.tcr & ~T1SZ(63)) | T1SZ(12);
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_uint_eq(xl(&m, &r, KPAGE & ~(1ULL << 49)), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(epd_disables_a_half)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	m.tcr |= EPD1;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	ck_assert_uint_eq(r.reads, 0);
	ck_assert_uint_eq(xl(&m, &r, UPAGE), 0x9abcd123);
	m.tcr ^= EPD1 | EPD0;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_uint_eq(xl(&m, &r, UPAGE), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(tables_outside_ram)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	put(&r, K1 + 5 * 8, TABLE(0x10000000ULL));	/* below RAM */
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	put(&r, K1 + 5 * 8, TABLE(RAM_BASE + RAM_SIZE));	/* just past it */
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	put(&r, K1 + 5 * 8, TABLE(K2));
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	m.ttbr1 = RAM_BASE + RAM_SIZE;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	m.ttbr1 = 0;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(top_byte_ignore)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);
	uint64_t ktag = (KPAGE & ~(0xffULL << 56)) | (0x5aULL << 56), utag = UPAGE | (0xa5ULL << 56);

	ck_assert_uint_eq(xl(&m, &r, ktag), FAIL);
	ck_assert_uint_eq(xl(&m, &r, utag), FAIL);
	m.tcr |= TBI1;
	ck_assert_uint_eq(xl(&m, &r, ktag), 0x87654678);
	ck_assert_uint_eq(xl(&m, &r, utag), FAIL);		/* TBI1 is not TBI0 */
	ck_assert_uint_eq(xl(&m, &r, ktag & ~(1ULL << 54)), FAIL);	/* bits [55:48] still checked */
	m.tcr ^= TBI1 | TBI0;
	ck_assert_uint_eq(xl(&m, &r, utag), 0x9abcd123);
	ck_assert_uint_eq(xl(&m, &r, ktag), FAIL);
	ck_assert_uint_eq(xl(&m, &r, utag | (1ULL << 50)), FAIL);
	free(r.mem);
}
END_TEST

START_TEST(big_endian_tables)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = linux_4k(&r);

	for (uint64_t o = 0; o < RAM_SIZE; o += 8)
		for (int i = 0; i < 4; i++) {
			uint8_t b = r.mem[o + i];

			r.mem[o + i] = r.mem[o + 7 - i];
			r.mem[o + 7 - i] = b;
		}
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);
	m.sctlr |= SCTLR_EE;
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), 0x16bcdef12);
	free(r.mem);
}
END_TEST

/* TCR.IPS bounds the tables too: a RAM across 4 GiB, tables on both sides */
START_TEST(output_size_bounds_tables)
{
	struct ram r = ram_new(0xffe00000ULL);
	uint64_t l0 = 0xffe01000ULL, l1 = 0x100001000ULL, l2 = 0xffe02000ULL, l3 = 0xffe03000ULL,
		 l0_high = 0x100002000ULL;
	struct a64_mmu m = { SCTLR_ON, TCR_4K48, 0, l0 };

	put(&r, l0 + 0x100 * 8, TABLE(l1));
	put(&r, l1 + 5 * 8, TABLE(l2));
	put(&r, l2 + 0x1a3 * 8, TABLE(l3));
	put(&r, l3 + 0xf2 * 8, PAGE(0x87654000ULL));
	ck_assert_uint_eq(xl(&m, &r, KPAGE), 0x87654678);
	m.tcr = (m.tcr & ~IPS(7)) | IPS(0);
	ck_assert_uint_eq(xl(&m, &r, KPAGE), FAIL);	/* level 1 table above 32 bits */
	ck_assert_uint_eq(r.reads, 5);
	m.ttbr1 = l0_high;	/* to a 1 GiB block through a level 1 table below 4 GiB */
	put(&r, l0_high + 0x100 * 8, TABLE(0xffe04000ULL));
	put(&r, 0xffe04000ULL + 6 * 8, BLOCK(0x80000000ULL));
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), FAIL);
	ck_assert_uint_eq(r.reads, 5);	/* the start table itself is above 32 bits */
	m.tcr = (m.tcr & ~IPS(7)) | IPS(1);
	ck_assert_uint_eq(xl(&m, &r, KBLK1G), 0xabcdef12);
	free(r.mem);
}
END_TEST

/* TxSZ above the largest (48 for 4K) is taken as 48: one level-3 table of 16 entries */
START_TEST(small_input_size)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = { SCTLR_ON, TCR_OTHER | T0SZ(63) | TG0_4K | T1SZ(16) | TG1_4K | IPS(5),
			     U3, 0 };

	put(&r, U3 + 5 * 8, PAGE(0x9abcd000ULL));
	put(&r, U3 + 8 * 8, PAGE(0x9abce000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0x5123), 0x9abcd123);
	ck_assert_uint_eq(r.reads, 1);
	ck_assert_uint_eq(xl(&m, &r, 0x8123), 0x9abce123);	/* bit 15: inside 16 bits */
	put(&r, U3 + 0x15 * 8, PAGE(0x9abcf000ULL));
	ck_assert_uint_eq(xl(&m, &r, 0x15123), FAIL);	/* bit 16: past 16 bits */
	free(r.mem);
}
END_TEST

/* a level 0 table whose every entry points at itself: the walk stops at level 3 */
START_TEST(recursive_table_is_bounded)
{
	struct ram r = ram_new(RAM_BASE);
	struct a64_mmu m = { SCTLR_ON, TCR_4K48, U0, 0 };

	for (int i = 0; i < 512; i++)
		put(&r, U0 + 8 * (uint64_t)i, TABLE(U0));
	ck_assert_uint_eq(xl(&m, &r, VA4K(7, 8, 9, 10, 0x321)), U0 + 0x321);
	ck_assert_uint_eq(r.reads, 4);
	free(r.mem);
}
END_TEST

Suite *a64_mmu_suite(void)
{
	Suite *s = suite_create("a64-mmu");
	TCase *tc = tcase_create("arm64-mmu");

	tcase_add_test(tc, mmu_off_is_identity);
	tcase_add_test(tc, linux_4k_kernel_page_and_blocks);
	tcase_add_test(tc, ttbr0_user_address);
	tcase_add_test(tc, va39_three_levels);
	tcase_add_test(tc, granule_16k);
	tcase_add_test(tc, granule_64k);
	tcase_add_test(tc, granule_64k_52bit);
	tcase_add_test(tc, granule_4k_lpa2);
	tcase_add_test(tc, invalid_descriptor_at_each_level);
	tcase_add_test(tc, non_canonical_addresses);
	tcase_add_test(tc, epd_disables_a_half);
	tcase_add_test(tc, tables_outside_ram);
	tcase_add_test(tc, top_byte_ignore);
	tcase_add_test(tc, big_endian_tables);
	tcase_add_test(tc, output_size_bounds_tables);
	tcase_add_test(tc, small_input_size);
	tcase_add_test(tc, recursive_table_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
