/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the i8042 controller: status bits, command byte, self-tests and reset. */
#include <stdint.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "devices/x86/i8042.h"

#define STR_OBF 0x01
#define STR_IBF 0x02
#define STR_SYS 0x04

static struct i8042 kbc;
static int resets;

static void count_reset(void *ctx)
{
	ck_assert_ptr_eq(ctx, &resets);
	resets++;
}

static void setup(void)
{
	resets = 0;
	i8042__init(&kbc, count_reset, &resets);
}

static uint8_t status(void)
{
	uint8_t v = 0;

	i8042_cmd_ops.read(&kbc, 0, &v, 1);
	return v;
}

static uint8_t data(void)
{
	uint8_t v = 0;

	i8042_data_ops.read(&kbc, 0, &v, 1);
	return v;
}

static void command(uint8_t v)
{
	i8042_cmd_ops.write(&kbc, 0, &v, 1);
}

static void write_data(uint8_t v)
{
	i8042_data_ops.write(&kbc, 0, &v, 1);
}

START_TEST(test_status_idle)
{
	uint8_t st = status();

	ck_assert_uint_eq(st & STR_OBF, 0);
	ck_assert_uint_eq(st & STR_IBF, 0);
	ck_assert_uint_eq(st & STR_SYS, STR_SYS);
}
END_TEST

START_TEST(test_pulse_reset)
{
	command(0xfe);
	ck_assert_int_eq(resets, 1);
	ck_assert_uint_eq(status() & STR_IBF, 0);
}
END_TEST

START_TEST(test_output_port_reset)
{
	command(0xd1);
	write_data(0xdf); /* A20 on, reset line high: not a reset */
	ck_assert_int_eq(resets, 0);
	command(0xd1);
	write_data(0xde);
	ck_assert_int_eq(resets, 1);
	write_data(0xde); /* the command was used up: this byte goes to the keyboard */
	ck_assert_int_eq(resets, 1);
}
END_TEST

START_TEST(test_self_tests)
{
	command(0xaa);
	ck_assert_uint_eq(status() & (STR_OBF | STR_IBF), STR_OBF);
	ck_assert_uint_eq(data(), 0x55);
	ck_assert_uint_eq(status() & STR_OBF, 0);
	command(0xab);
	ck_assert_uint_eq(status() & STR_OBF, STR_OBF);
	ck_assert_uint_eq(data(), 0x00);
	ck_assert_uint_eq(status() & STR_OBF, 0);
}
END_TEST

START_TEST(test_command_byte)
{
	command(0x20);
	ck_assert_uint_eq(status() & STR_OBF, STR_OBF);
	uint8_t ctr = data();
	ck_assert_uint_eq(ctr & 0x04, 0x04);
	command(0x60);
	write_data(0x61);
	command(0x20);
	ck_assert_uint_eq(data(), 0x61);
	ck_assert_uint_eq(status() & STR_SYS, 0); /* the system flag follows the command byte */
	command(0xad);
	command(0xa7);
	command(0x20);
	ck_assert_uint_eq(data(), 0x71);
	command(0xae);
	command(0x20);
	ck_assert_uint_eq(data(), 0x61);
	command(0xa8);
	command(0x20);
	ck_assert_uint_eq(data(), 0x41);
	ck_assert_int_eq(resets, 0);
}
END_TEST

START_TEST(test_unknown_and_bad)
{
	uint8_t buf[4] = { 0 };
	uint16_t w = 0xfefe;

	command(0x12);
	command(0xd3);
	write_data(0x5a);
	ck_assert_uint_eq(status() & (STR_OBF | STR_IBF), 0);
	ck_assert_int_eq(resets, 0);
	i8042_cmd_ops.write(&kbc, 0, &w, 2); /* a word write of 0xfe is not a byte command */
	i8042_cmd_ops.write(&kbc, 1, &w, 1);
	ck_assert_int_eq(resets, 0);
	i8042_cmd_ops.read(&kbc, 0, buf, 4);
	ck_assert_uint_eq(buf[0] & buf[1] & buf[2] & buf[3], 0xff);
	buf[0] = 0;
	i8042_data_ops.read(&kbc, 3, buf, 1);
	ck_assert_uint_eq(buf[0], 0xff);
}
END_TEST

START_TEST(test_no_reset_callback)
{
	i8042__init(&kbc, NULL, NULL);
	command(0xfe); /* must not crash */
	command(0xaa);
	ck_assert_uint_eq(data(), 0x55);
}
END_TEST

Suite *i8042_suite(void)
{
	Suite *suite = suite_create("i8042");
	TCase *tc = tcase_create("controller");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_status_idle);
	tcase_add_test(tc, test_pulse_reset);
	tcase_add_test(tc, test_output_port_reset);
	tcase_add_test(tc, test_self_tests);
	tcase_add_test(tc, test_command_byte);
	tcase_add_test(tc, test_unknown_and_bad);
	tcase_add_test(tc, test_no_reset_callback);
	suite_add_tcase(suite, tc);
	return suite;
}
