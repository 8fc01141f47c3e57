/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the ACPI sleep register, pvpanic, boot-timer and ignored ports. */
#include <string.h>

#include "tests/lib/ck.h"
#include "devices/x86/pm.h"
#include "firmware/x86/layout.h"

static int events[8];
static uint32_t last_value;

static void record(void *ctx, enum pm_event ev, uint32_t value)
{
	(void)ctx;
	events[ev]++;
	last_value = value;
}

static struct pm_dev pm = { .event = record };

static void wr(const struct bus_dev_ops *ops, uint64_t off, uint32_t v, uint32_t len)
{
	ops->write(&pm, off, &v, len);
}

START_TEST(sleep_register_only_s5_powers_off)
{
	memset(events, 0, sizeof(events));
	wr(&pm_sleep_ops, 0, (1u << 2) | 0x20, 1);		/* S1 with SLP_EN: ignored */
	wr(&pm_sleep_ops, 0, ACPI_S5_SLP_TYP << 2, 1);		/* S5 without SLP_EN */
	wr(&pm_sleep_ops, 1, (ACPI_S5_SLP_TYP << 2) | 0x20, 1);	/* the status register */
	ck_assert_int_eq(events[PM_POWEROFF], 0);
	wr(&pm_sleep_ops, 0, (ACPI_S5_SLP_TYP << 2) | 0x20, 1);	/* what Linux writes */
	ck_assert_int_eq(events[PM_POWEROFF], 1);
	uint8_t v = 0xff;
	pm_sleep_ops.read(&pm, 1, &v, 1);
	ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(pvpanic_and_boot_timer)
{
	memset(events, 0, sizeof(events));
	uint8_t caps = 0;
	pvpanic_ops.read(&pm, 0, &caps, 1);
	ck_assert_uint_eq(caps, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	wr(&pvpanic_ops, 0, PVPANIC_CRASH_LOADED, 1);		/* crash kernel loaded: no stop */
	ck_assert_int_eq(events[PM_PANIC], 0);
	wr(&pvpanic_ops, 0, PVPANIC_PANICKED, 1);
	ck_assert_int_eq(events[PM_PANIC], 1);
	wr(&boot_timer_ops, 0, 123, 1);
	ck_assert_int_eq(events[PM_BOOT_TIME], 1);
	ck_assert_uint_eq(last_value, 123);
	wr(&test_exit_ops, 0, 0x600d, 2);
	ck_assert_int_eq(events[PM_TEST_EXIT], 1);
	ck_assert_uint_eq(last_value, 0x600d);
	uint32_t all = 0;
	ignore_ops.read(NULL, 0, &all, 4);
	ck_assert_uint_eq(all, 0xffffffff);
}
END_TEST

Suite *pm_suite(void)
{
	Suite *s = suite_create("pm");
	TCase *tc = tcase_create("ports");
	tcase_add_test(tc, sleep_register_only_s5_powers_off);
	tcase_add_test(tc, pvpanic_and_boot_timer);
	suite_add_tcase(s, tc);
	return s;
}
