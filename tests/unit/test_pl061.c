/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the PL061 GPIO controller (devices/pl061.c): edge and level interrupts on an input, clearing them, GPIODATA's address mask, the PrimeCell IDs, odd accesses. */
#include <check.h>

#include "devices/pl061.h"
#include "tests/lib/ck.h"

static int line_level, line_changes;

static void set(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	(void)gsi;
	line_level = level;
	line_changes++;
}

static struct pl061 g;

static void setup_dev(void)
{
	pl061__init(&g, (struct irq_line){ .set = set, .gsi = 7 });
	line_level = 0;
	line_changes = 0;
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	pl061_ops.read(&g, off, &v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	pl061_ops.write(&g, off, &v, 4);
}

/* Linux's gpio-keys on line 3, as its pl061 driver sets it up: a rising edge (the button
 * pressed) raises the SPI until the driver clears it; the release (falling) does not */
START_TEST(rising_edge_interrupt_and_clear)
{
	setup_dev();
	wr(0x40c, 1u << 3);	/* IEV: rising */
	wr(0x410, 1u << 3);	/* IE */
	ck_assert_int_eq(line_changes, 0);
	pl061__set_input(&g, 3, true);
	ck_assert_int_eq(line_level, 1);
	ck_assert_uint_eq(rd(0x414), 1u << 3);	/* RIS */
	ck_assert_uint_eq(rd(0x418), 1u << 3);	/* MIS */
	ck_assert_uint_eq(rd(0x3fc), 1u << 3);	/* GPIODATA, every line */
	ck_assert_uint_eq(rd(0x020), 1u << 3);	/* GPIODATA masked to line 3 */
	ck_assert_uint_eq(rd(0x010), 0);	/* ... masked to line 2 */
	wr(0x41c, 1u << 3);	/* IC */
	ck_assert_int_eq(line_level, 0);
	pl061__set_input(&g, 3, false);		/* falling: no interrupt */
	ck_assert_int_eq(line_level, 0);
	ck_assert_uint_eq(rd(0x414), 0);
	wr(0x408, 1u << 3);	/* IBE: both edges */
	pl061__set_input(&g, 3, true);
	wr(0x41c, 1u << 3);
	pl061__set_input(&g, 3, false);
	ck_assert_int_eq(line_level, 1);
}
END_TEST

/* level-sensitive: the SPI follows the level while enabled, whatever IC says */
START_TEST(level_interrupt_follows_the_line)
{
	setup_dev();
	wr(0x404, 1u << 1);	/* IS: level */
	wr(0x40c, 1u << 1);	/* high */
	wr(0x410, 1u << 1);
	pl061__set_input(&g, 1, true);
	ck_assert_int_eq(line_level, 1);
	wr(0x41c, 0xff);
	ck_assert_int_eq(line_level, 1);
	pl061__set_input(&g, 1, false);
	ck_assert_int_eq(line_level, 0);
	wr(0x410, 0);		/* masked: a high level raises nothing */
	pl061__set_input(&g, 1, true);
	ck_assert_int_eq(line_level, 0);
	ck_assert_uint_eq(rd(0x414), 1u << 1);
	ck_assert_uint_eq(rd(0x418), 0);
}
END_TEST

/* an input line does not take an edge while it is an output; outputs read back */
START_TEST(outputs_ids_and_odd_accesses)
{
	setup_dev();
	wr(0x400, 0x0f);	/* DIR: lines 0-3 out */
	wr(0x3fc, 0xff);
	ck_assert_uint_eq(rd(0x3fc), 0x0f);
	wr(0x40c, 0xff);
	wr(0x410, 0xff);
	pl061__set_input(&g, 2, true);		/* an output: no edge */
	ck_assert_int_eq(line_level, 0);
	pl061__set_input(&g, 9, true);		/* no such line */
	ck_assert_int_eq(line_changes, 0);
	uint32_t pid = 0, cid = 0;
	for (unsigned i = 0; i < 4; i++) {
		pid |= (rd(0xfe0 + 4 * i) & 0xff) << (8 * i);
		cid |= (rd(0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	ck_assert_uint_eq(pid & 0x000fffff, 0x00041061);
	ck_assert_uint_eq(cid, 0xb105f00d);
	uint64_t big = 0x1122334455667788ULL;
	pl061_ops.write(&g, 0x400, &big, 8);	/* 8 bytes: ignored */
	pl061_ops.write(&g, 0x401, &big, 1);	/* unaligned: ignored */
	ck_assert_uint_eq(rd(0x400), 0x0f);
	pl061_ops.read(&g, 0x400, &big, 8);
	ck_assert_uint_eq(big, 0);
}
END_TEST

Suite *pl061_suite(void)
{
	Suite *s = suite_create("pl061");
	TCase *tc = tcase_create("gpio");
	tcase_add_test(tc, rising_edge_interrupt_and_clear);
	tcase_add_test(tc, level_interrupt_follows_the_line);
	tcase_add_test(tc, outputs_ids_and_odd_accesses);
	suite_add_tcase(s, tc);
	return s;
}
