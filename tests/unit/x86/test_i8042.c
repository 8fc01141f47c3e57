/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the i8042 controller: status bits, command byte, self-tests, reset, its keyboard, IRQ 1 and Ctrl-Alt-Del. */
#include <stdint.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "devices/x86/i8042.h"

#define STR_OBF 0x01
#define STR_IBF 0x02
#define STR_SYS 0x04

static struct i8042 kbc;
static int resets;
static int irq_level, irq_edges;

/* IRQ 1: counts rising edges and checks that each ends (a pulse, not a stuck level) */
static void irq_set(void *ctx, unsigned gsi, int level)
{
	ck_assert_ptr_eq(ctx, &irq_edges);
	ck_assert_uint_eq(gsi, 1);
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static void count_reset(void *ctx)
{
	ck_assert_ptr_eq(ctx, &resets);
	resets++;
}

static void setup(void)
{
	resets = 0;
	irq_level = irq_edges = 0;
	i8042__init(&kbc, count_reset, &resets,
		    (struct irq_line){ .set = irq_set, .ctx = &irq_edges, .gsi = 1 });
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
	i8042__destroy(&kbc);
	i8042__init(&kbc, NULL, NULL, (struct irq_line){ 0 });
	command(0xfe); /* must not crash */
	command(0xaa);
	ck_assert_uint_eq(data(), 0x55);
}
END_TEST

/* no aux port: its loopback comes back without the aux status bit (Linux's "auxerr": no
 * probe timeouts), and the aux test fails at once */
START_TEST(test_no_aux_port)
{
	command(0xd3);
	write_data(0x5a);
	ck_assert_uint_eq(status() & (STR_OBF | 0x20), STR_OBF);
	ck_assert_uint_eq(data(), 0x5a);
	command(0xa9);
	ck_assert_uint_eq(data(), 0x01);
	command(0xd4);
	write_data(0xf2);	/* to the aux device: nobody answers */
	ck_assert_uint_eq(status() & STR_OBF, 0);
}
END_TEST

/* reads n bytes from the data port, each announced by its own IRQ 1 edge (the first one's
 * came when it reached the buffer) */
static void expect_bytes(const uint8_t *want, size_t n)
{
	int edges = irq_edges;

	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(status() & STR_OBF, STR_OBF);
		ck_assert_int_eq(irq_edges, edges + (int)i);
		ck_assert_uint_eq(data(), want[i]);
		ck_assert_int_eq(irq_level, 0);
	}
	ck_assert_uint_eq(status() & STR_OBF, 0);
	ck_assert_int_eq(irq_edges, edges + (int)n - 1);
}

/* Linux's atkbd probe: GETID, LEDs, rate, enable; replies arrive with one edge each */
START_TEST(test_keyboard_commands)
{
	write_data(0xf2);
	expect_bytes((const uint8_t[]){ 0xfa, 0xab, 0x83 }, 3);
	write_data(0xed);
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	write_data(0x07);	/* its parameter, not a command */
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	write_data(0xf0);
	write_data(0x00);	/* which scan set: 2 */
	expect_bytes((const uint8_t[]){ 0xfa, 0xfa, 0x02 }, 3);
	write_data(0xff);
	expect_bytes((const uint8_t[]){ 0xfa, 0xaa }, 2);
	write_data(0xee);
	expect_bytes((const uint8_t[]){ 0xee }, 1);
	write_data(0x42);	/* unknown: resend */
	expect_bytes((const uint8_t[]){ 0xfe }, 1);
}
END_TEST

/* without KBDINT the bytes wait in the buffer without an edge; enabling it raises one */
START_TEST(test_irq_follows_command_byte)
{
	command(0x60);
	write_data(0x04);	/* KBDINT off */
	write_data(0xf2);
	ck_assert_uint_eq(status() & STR_OBF, STR_OBF);
	ck_assert_int_eq(irq_edges, 0);
	command(0x60);
	write_data(0x05);
	ck_assert_int_eq(irq_edges, 1);
	ck_assert_uint_eq(data(), 0xfa);
	ck_assert_int_eq(irq_edges, 2);
	ck_assert_uint_eq(data(), 0xab);
	ck_assert_uint_eq(data(), 0x83);
	ck_assert_uint_eq(data(), 0x83);	/* an empty buffer reads its last byte again */
	ck_assert_int_eq(irq_edges, 3);
}
END_TEST

START_TEST(test_ctrl_alt_del)
{
	char err[128] = "";
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11,
					0xf0, 0x14 };
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };

	/* before the guest's driver enabled the keyboard: refused, with a reason */
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not enabled its keyboard"));
	write_data(0xf4);
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), 0);
	expect_bytes(set2, sizeof(set2));
	/* a controller that translates gets set 1 */
	command(0x60);
	write_data(0x45);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), 0);
	expect_bytes(set1, sizeof(set1));
	/* a guest that never reads: two sequences fill the buffer, a third does not fit, and
	 * nothing already queued is lost */
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), 0);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), 0);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "buffer is full"));
	uint8_t two[2 * sizeof(set1)];
	memcpy(two, set1, sizeof(set1));
	memcpy(two + sizeof(set1), set1, sizeof(set1));
	expect_bytes(two, sizeof(two));
	/* the keyboard disabled in the command byte, or interrupts off: refused */
	command(0xad);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), -1);
	command(0xae);
	write_data(0xf5);
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	ck_assert_int_eq(i8042__ctrl_alt_del(&kbc, err, sizeof(err)), -1);
	ck_assert_int_eq(resets, 0);
}
END_TEST

/* a guest flooding the keyboard with commands it never reads: the buffer stays bounded */
START_TEST(test_flood_is_bounded)
{
	for (int i = 0; i < 1000; i++)
		write_data(0xf2);
	int n = 0;
	while ((status() & STR_OBF) && n < 100) {
		data();
		n++;
	}
	ck_assert_int_le(n, 16);
	ck_assert_int_ge(n, 15);
}
END_TEST

static void teardown(void)
{
	i8042__destroy(&kbc);
}

Suite *i8042_suite(void)
{
	Suite *suite = suite_create("i8042");
	TCase *tc = tcase_create("controller");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_idle);
	tcase_add_test(tc, test_pulse_reset);
	tcase_add_test(tc, test_output_port_reset);
	tcase_add_test(tc, test_self_tests);
	tcase_add_test(tc, test_command_byte);
	tcase_add_test(tc, test_unknown_and_bad);
	tcase_add_test(tc, test_no_reset_callback);
	tcase_add_test(tc, test_no_aux_port);
	tcase_add_test(tc, test_keyboard_commands);
	tcase_add_test(tc, test_irq_follows_command_byte);
	tcase_add_test(tc, test_ctrl_alt_del);
	tcase_add_test(tc, test_flood_is_bounded);
	suite_add_tcase(suite, tc);
	return suite;
}
