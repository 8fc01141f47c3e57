/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: GDB remote protocol framing, checksums, escapes, run-length, hex, --gdb values. */
#include <stdio.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "vmm/cli.h"
#include "vmm/gdb.h"
#include "vmm/gdb_packet.h"

static struct gdbpkt_rx rx;

/* Feeds a string; returns the last event other than GDBPKT_NONE (or NONE). */
static enum gdbpkt_event feed(const char *s, size_t n)
{
	enum gdbpkt_event last = GDBPKT_NONE;

	for (size_t i = 0; i < n; i++) {
		enum gdbpkt_event e = gdbpkt__rx_byte(&rx, (uint8_t)s[i]);
		if (e != GDBPKT_NONE)
			last = e;
	}
	return last;
}

static enum gdbpkt_event feed_str(const char *s)
{
	return feed(s, strlen(s));
}

START_TEST(checksum_and_frame)
{
	char out[64];

	ck_assert_uint_eq(gdbpkt__checksum("", 0), 0);
	ck_assert_uint_eq(gdbpkt__checksum("OK", 2), 0x9a);
	ck_assert_uint_eq(gdbpkt__frame("OK", 2, out, sizeof(out)), 6);
	ck_assert_mem_eq(out, "$OK#9a", 6);
	ck_assert_uint_eq(gdbpkt__frame("", 0, out, sizeof(out)), 4);
	ck_assert_mem_eq(out, "$#00", 4);
	/* $ # } * are escaped as } and the byte xor 0x20; the checksum covers what is sent */
	size_t n = gdbpkt__frame("a$b#c}d*", 8, out, sizeof(out));
	ck_assert_uint_eq(n, 1 + 12 + 3);
	ck_assert_mem_eq(out, "$a}\x04" "b}\x03" "c}]d}\x0a", 13);
	char cs[3];
	snprintf(cs, sizeof(cs), "%02x", gdbpkt__checksum(out + 1, 12));
	ck_assert_mem_eq(out + 13, "#", 1);
	ck_assert_mem_eq(out + 14, cs, 2);
	/* too small: 0, never a partial packet */
	ck_assert_uint_eq(gdbpkt__frame("OK", 2, out, 5), 0);
	ck_assert_uint_eq(gdbpkt__frame("OK", 2, out, 3), 0);
}
END_TEST

START_TEST(parse_packets)
{
	gdbpkt__rx_init(&rx);
	ck_assert_int_eq(feed_str("$g#67"), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, "g");
	ck_assert_uint_eq(rx.len, 1);
	ck_assert_int_eq(feed_str("$qSupported:swbreak+;hwbreak+#3e"), GDBPKT_BAD);
	char pkt[64], body[] = "qSupported:swbreak+;hwbreak+";
	snprintf(pkt, sizeof(pkt), "$%s#%02x", body, gdbpkt__checksum(body, strlen(body)));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, body);
	/* upper-case checksum digits are fine */
	ck_assert_int_eq(feed_str("$OK#9A"), GDBPKT_PACKET);
	/* round trip through the framer, escapes included */
	const char bin[] = { 'X', '$', '#', '}', '*', 0, 1, (char)0xff };
	size_t n = gdbpkt__frame(bin, sizeof(bin), pkt, sizeof(pkt));
	ck_assert_int_eq(feed(pkt, n), GDBPKT_PACKET);
	ck_assert_uint_eq(rx.len, sizeof(bin));
	ck_assert_mem_eq(rx.buf, bin, sizeof(bin));
}
END_TEST

START_TEST(acks_interrupts_and_noise)
{
	gdbpkt__rx_init(&rx);
	ck_assert_int_eq(gdbpkt__rx_byte(&rx, '+'), GDBPKT_ACK);
	ck_assert_int_eq(gdbpkt__rx_byte(&rx, '-'), GDBPKT_NACK);
	ck_assert_int_eq(gdbpkt__rx_byte(&rx, 0x03), GDBPKT_INTERRUPT);
	ck_assert_int_eq(feed_str("garbage\r\n"), GDBPKT_NONE);
	/* inside a packet 0x03 and + are data */
	char pkt[16], body[] = "a+\x03";
	snprintf(pkt, sizeof(pkt), "$%s#%02x", body, gdbpkt__checksum(body, 3));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, body);
	/* a $ in the middle restarts: the first packet is dropped */
	ck_assert_int_eq(feed_str("$abc$g#67"), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, "g");
}
END_TEST

START_TEST(malformed_packets)
{
	gdbpkt__rx_init(&rx);
	ck_assert_int_eq(feed_str("$g#68"), GDBPKT_BAD);	/* wrong checksum */
	ck_assert_int_eq(feed_str("$g#zz"), GDBPKT_BAD);	/* not hex */
	ck_assert_int_eq(feed_str("$g#6"), GDBPKT_NONE);	/* incomplete ... */
	ck_assert_int_eq(feed_str("7"), GDBPKT_PACKET);		/* ... until the last digit */
	/* a trailing escape with nothing after it */
	char pkt[16];
	snprintf(pkt, sizeof(pkt), "$a}#%02x", gdbpkt__checksum("a}", 2));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_BAD);
	/* too long: BAD, and the next packet parses again */
	static char big[GDBPKT_MAX + 64];
	memset(big, 'A', sizeof(big));
	big[0] = '$';
	uint8_t sum = gdbpkt__checksum(big + 1, sizeof(big) - 1);
	ck_assert_int_eq(feed(big, sizeof(big)), GDBPKT_NONE);
	snprintf(pkt, sizeof(pkt), "#%02x", sum);
	ck_assert_int_eq(feed_str(pkt), GDBPKT_BAD);
	ck_assert_int_eq(feed_str("$g#67"), GDBPKT_PACKET);
	/* a run-length count that is not a count */
	snprintf(pkt, sizeof(pkt), "$0*\x01#%02x", gdbpkt__checksum("0*\x01", 3));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_BAD);
	/* every byte value in every state: no crash, the parser recovers */
	for (int a = 0; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			gdbpkt__rx_byte(&rx, (uint8_t)a);
			gdbpkt__rx_byte(&rx, (uint8_t)b);
		}
	gdbpkt__rx_init(&rx);
	ck_assert_int_eq(feed_str("$g#67"), GDBPKT_PACKET);
}
END_TEST

START_TEST(run_length)
{
	char pkt[32];

	gdbpkt__rx_init(&rx);
	/* "0* " is '0' and 32-29 = 3 more: "0000" */
	snprintf(pkt, sizeof(pkt), "$0* #%02x", gdbpkt__checksum("0* ", 3));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, "0000");
	snprintf(pkt, sizeof(pkt), "$ab*\"c#%02x", gdbpkt__checksum("ab*\"c", 5));
	ck_assert_int_eq(feed_str(pkt), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, "abbbbbbc");	/* '"' is 34: b and 5 more */
	/* a run at the start repeats nothing: '*' is taken as data */
	snprintf(pkt, sizeof(pkt), "$*#%02x", '*');
	ck_assert_int_eq(feed_str(pkt), GDBPKT_PACKET);
	ck_assert_str_eq(rx.buf, "*");
}
END_TEST

START_TEST(hex_helpers)
{
	char out[16];
	uint8_t b[4];
	uint64_t v, a, l;
	const char *p, *rest;

	gdbpkt__hex_encode("\x01\xab\xff", 3, out);
	ck_assert_str_eq(out, "01abff");
	ck_assert_int_eq(gdbpkt__hex_decode("01ABff", 3, b), 0);
	ck_assert_mem_eq(b, "\x01\xab\xff", 3);
	ck_assert_int_eq(gdbpkt__hex_decode("0g", 1, b), -1);
	ck_assert_int_eq(gdbpkt__hex_decode("0", 1, b), -1);	/* the NUL is not a digit */
	p = "ffffffff81000000,";
	ck_assert_int_eq(gdbpkt__parse_hex(&p, &v), 0);
	ck_assert_uint_eq(v, 0xffffffff81000000ULL);
	ck_assert_str_eq(p, ",");
	p = "10000000000000000";	/* 17 digits: overflow */
	ck_assert_int_eq(gdbpkt__parse_hex(&p, &v), -1);
	p = "";
	ck_assert_int_eq(gdbpkt__parse_hex(&p, &v), -1);
	p = "x1";
	ck_assert_int_eq(gdbpkt__parse_hex(&p, &v), -1);
	ck_assert_int_eq(gdbpkt__parse_addr_len("100020,4", &a, &l, 0, &rest), 0);
	ck_assert_uint_eq(a, 0x100020);
	ck_assert_uint_eq(l, 4);
	ck_assert_int_eq(gdbpkt__parse_addr_len("1000,2:abcd", &a, &l, ':', &rest), 0);
	ck_assert_str_eq(rest, "abcd");
	ck_assert_int_eq(gdbpkt__parse_addr_len("1000,2", &a, &l, ':', &rest), -1);
	ck_assert_int_eq(gdbpkt__parse_addr_len("1000,2x", &a, &l, 0, &rest), -1);
	ck_assert_int_eq(gdbpkt__parse_addr_len("1000", &a, &l, 0, &rest), -1);
	ck_assert_int_eq(gdbpkt__parse_addr_len(",4", &a, &l, 0, &rest), -1);
	ck_assert_int_eq(gdbpkt__parse_addr_len("1000,", &a, &l, 0, &rest), -1);
}
END_TEST

static int parse(struct run_config *cfg, const char *a, const char *b)
{
	char err[256];
	char *argv[] = { "run", (char *)a, (char *)b, NULL };
	return cli__parse_run(b ? 3 : a ? 2 : 1, argv, cfg, err, sizeof(err));
}

START_TEST(gdb_option_values)
{
	struct run_config cfg;

	ck_assert_int_eq(gdb__check_spec("tcp:127.0.0.1:1234"), 0);
	ck_assert_int_eq(gdb__check_spec("tcp:localhost:65535"), 0);
	ck_assert_int_eq(gdb__check_spec("tcp:[::1]:1"), 0);
	ck_assert_int_eq(gdb__check_spec("unix:/tmp/kvmini.gdb"), 0);
	ck_assert_int_eq(gdb__check_spec("tcp:127.0.0.1:0"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp:127.0.0.1:65536"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp:127.0.0.1:"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp::1234"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp:1234"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp:host:-1"), -1);
	ck_assert_int_eq(gdb__check_spec("tcp:host:12ab"), -1);
	ck_assert_int_eq(gdb__check_spec("unix:"), -1);
	ck_assert_int_eq(gdb__check_spec("1234"), -1);
	ck_assert_int_eq(gdb__check_spec(""), -1);
	char longpath[200];
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:", 5);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(gdb__check_spec(longpath), -1);

	ck_assert_int_eq(parse(&cfg, NULL, NULL), 0);
	ck_assert_ptr_null(cfg.gdb);
	ck_assert(!cfg.gdb_wait);
	ck_assert_int_eq(parse(&cfg, "--gdb=tcp:127.0.0.1:1234", "--gdb-wait"), 0);
	ck_assert_str_eq(cfg.gdb, "tcp:127.0.0.1:1234");
	ck_assert(cfg.gdb_wait);
	ck_assert_int_eq(parse(&cfg, "--gdb", "unix:/tmp/s"), 0);
	ck_assert(!cfg.gdb_wait);
	ck_assert_int_eq(parse(&cfg, "--gdb", "1234"), -1);
	ck_assert_int_eq(parse(&cfg, "--gdb-wait", NULL), -1);
}
END_TEST

Suite *gdb_packet_suite(void)
{
	Suite *s = suite_create("gdb_packet");
	TCase *tc = tcase_create("framing");
	tcase_add_test(tc, checksum_and_frame);
	tcase_add_test(tc, parse_packets);
	tcase_add_test(tc, acks_interrupts_and_noise);
	tcase_add_test(tc, malformed_packets);
	tcase_add_test(tc, run_length);
	tcase_add_test(tc, hex_helpers);
	tcase_add_test(tc, gdb_option_values);
	suite_add_tcase(s, tc);
	return s;
}
