/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the PL031 real-time clock (devices/pl031.c): the count, setting it, the PrimeCell IDs, odd accesses. */
#include <check.h>
#include <time.h>

#include "devices/pl031.h"
#include "tests/lib/ck.h"

static uint32_t rd(struct pl031 *r, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	pl031_ops.read(r, off, &v, 4);
	return v;
}

static void wr(struct pl031 *r, uint64_t off, uint32_t v)
{
	pl031_ops.write(r, off, &v, 4);
}

START_TEST(counts_wall_clock_seconds_and_can_be_set)
{
	struct pl031 r;
	pl031__init(&r);
	uint32_t now = (uint32_t)time(NULL), dr = rd(&r, 0x000);

	ck_assert_uint_ge(dr, now);
	ck_assert_uint_le(dr, now + 2);
	ck_assert_uint_eq(rd(&r, 0x00c), 1);		/* RTCCR: running */
	wr(&r, 0x008, 1000);				/* RTCLR */
	ck_assert_uint_ge(rd(&r, 0x000), 1000);
	ck_assert_uint_le(rd(&r, 0x000), 1002);
	wr(&r, 0x004, 1234);				/* RTCMR */
	ck_assert_uint_eq(rd(&r, 0x004), 1234);
	wr(&r, 0x010, 3);				/* RTCIMSC: one bit */
	ck_assert_uint_eq(rd(&r, 0x010), 1);
	ck_assert_uint_eq(rd(&r, 0x014), 0);		/* RTCRIS: no alarm */
}
END_TEST

/* Linux's AMBA bus matches the driver by these: periphid 0x00041031 under mask 0x000fffff */
START_TEST(primecell_ids)
{
	struct pl031 r;
	pl031__init(&r);
	uint32_t pid = 0, cid = 0;

	for (unsigned i = 0; i < 4; i++) {
		pid |= (rd(&r, 0xfe0 + 4 * i) & 0xff) << (8 * i);
		cid |= (rd(&r, 0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	ck_assert_uint_eq(pid & 0x000fffff, 0x00041031);
	ck_assert_uint_eq(cid, 0xb105f00d);
}
END_TEST

/* other widths and unaligned offsets: reads 0, writes ignored */
START_TEST(odd_accesses_are_harmless)
{
	struct pl031 r;
	pl031__init(&r);
	uint8_t b = 0xff;
	uint64_t q = ~0ULL;

	pl031_ops.read(&r, 0x000, &b, 1);
	ck_assert_uint_eq(b, 0);
	pl031_ops.read(&r, 0x000, &q, 8);
	ck_assert_uint_eq(q, 0);
	uint8_t w = 7;
	pl031_ops.write(&r, 0x008, &w, 1);
	ck_assert_uint_ge(rd(&r, 0x000), (uint32_t)time(NULL));
	ck_assert_uint_eq(rd(&r, 0x002), 0);
	ck_assert_uint_eq(rd(&r, 0x800), 0);
}
END_TEST

Suite *pl031_suite(void)
{
	Suite *s = suite_create("pl031");
	TCase *tc = tcase_create("rtc");
	tcase_add_test(tc, counts_wall_clock_seconds_and_can_be_set);
	tcase_add_test(tc, primecell_ids);
	tcase_add_test(tc, odd_accesses_are_harmless);
	suite_add_tcase(s, tc);
	return s;
}
