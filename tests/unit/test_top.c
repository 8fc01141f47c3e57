/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: `kvmini top`'s pure half: the API's JSON into snapshots, rates, lines of at most 80 columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "vmm/top.h"

static struct top_snap a, b;
static top_line lines[TOP_MAXROWS];

#define PARSE(fn, s, js) ck_assert_int_eq(fn((s), (js), strlen(js)), 0)

static const char info_js[] =
	"{\"config\":{\"disks\":[{\"id\":\"_disk0\",\"path\":\"/var/lib/images/a-rather-long-"
	"name-for-a-disk.img\"}]},\"state\":\"Running\"}";

/* two polls one second apart: vCPU 0 did 150 exits, disk0 20 I/Os with 10 kicks */
static void two_polls(bool stats)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	PARSE(top__parse_counters, &a, "{\"_disk0\":{\"read_bytes\":0,\"write_bytes\":0,\"read_ops\""
	      ":0,\"write_ops\":0,\"kicks\":0,\"interrupts\":0},\"_vcpu1\":{\"exits\":5,\"io_exits\":"
	      "5,\"mmio_exits\":0},\"_vcpu0\":{\"exits\":50,\"io_exits\":40,\"mmio_exits\":10}}");
	PARSE(top__parse_counters, &b, "{\"_disk0\":{\"read_bytes\":2000000,\"write_bytes\":0,"
	      "\"read_ops\":15,\"write_ops\":5,\"kicks\":10,\"interrupts\":20,\"in_flight\":3},\"_vcpu1\":{\"exits\":"
	      "5,\"io_exits\":5,\"mmio_exits\":0},\"_vcpu0\":{\"exits\":200,\"io_exits\":100,"
	      "\"mmio_exits\":60}}");
	PARSE(top__parse_info, &a, info_js);
	PARSE(top__parse_info, &b, info_js);
	a.t = 10.0;
	b.t = 11.0;
	if (!stats)
		return;
	PARSE(top__parse_stats, &a, "{\"total\":{\"reasons\":[{\"reason\":\"IO\",\"count\":45,"
	      "\"latency_ns\":{\"p50\":2000,\"p99\":9000,\"max\":40000,\"sum\":90000}}],\"sites\":"
	      "[{\"bus\":\"pio\",\"addr\":\"0x3f8\",\"device\":\"serial\",\"count\":45,\"total_ns\":"
	      "90000,\"max_ns\":40000}]}}");
	PARSE(top__parse_stats, &b, "{\"total\":{\"reasons\":[{\"reason\":\"IO\",\"count\":105,"
	      "\"latency_ns\":{\"p50\":2000,\"p99\":9000,\"max\":40000,\"sum\":210000}},{\"reason\":"
	      "\"MMIO\",\"count\":70,\"latency_ns\":{\"p50\":3000,\"p99\":12000,\"max\":1500000,"
	      "\"sum\":700000}}],\"sites\":[{\"bus\":\"pio\",\"addr\":\"0x3f8\",\"device\":\"serial\","
	      "\"count\":105,\"total_ns\":210000,\"max_ns\":40000},{\"bus\":\"mmio\",\"addr\":null,"
	      "\"device\":\"a-device-with-a-very-long-name\",\"count\":70,\"total_ns\":700000,"
	      "\"max_ns\":1500000}]}}");
	PARSE(top__parse_memory, &b, "{\"guest_ram\":{\"pages\":\"thp\",\"size\":536870912,"
	      "\"resident\":25165824,\"huge\":0,\"untouched\":511705088},\"vmm\":{\"resident\":"
	      "3145728},\"kvm\":null,\"disks\":[{\"path\":\"a\",\"page_cache\":1048576},"
	      "{\"path\":\"b\",\"page_cache\":null}],\"guest\":{\"total\":536870912,\"free\":"
	      "268435456,\"page_cache\":67108864,\"other\":201326592},\"balloon\":{\"actual\":"
	      "33554432}}");
}

static const char *find_line(unsigned n, const char *start)
{
	for (unsigned i = 0; i < n; i++)
		if (!strncmp(lines[i], start, strlen(start)))
			return lines[i];
	return NULL;
}

static void assert_fits(unsigned n, unsigned rows, unsigned cols)
{
	ck_assert_uint_le(n, rows);
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(strlen(lines[i]) <= cols, "line %u is %zu columns: %s", i,
			      strlen(lines[i]), lines[i]);
}

START_TEST(rates_between_two_snapshots)
{
	ck_assert_double_eq(top__rate(100, 300, 2.0), 100.0);
	ck_assert_double_eq(top__rate(7, 7, 0.5), 0.0);
	ck_assert_double_eq(top__rate(1, 2, 0), -1);	/* no interval yet */
	ck_assert_double_eq(top__rate(5, 2, 1.0), -1);	/* a counter that went back */
	two_polls(true);
	ck_assert_uint_eq(b.nvcpu, 2);
	ck_assert_uint_eq(b.vcpu[0].id, 0);	/* sorted by id */
	ck_assert_str_eq(b.state, "Running");
	ck_assert_str_eq(b.disk[0].id, "_disk0");
	ck_assert_uint_eq(b.nreason, 2);
	ck_assert_str_eq(b.site[1].addr, "(other)");	/* null: the bus's other bucket */
	struct top_view v = { .sock = "/tmp/t.sock", .interval = 1, .up_s = 3725, .cols = 80,
			      .rows = 24 };
	unsigned n = top__render(&a, &b, &v, lines);
	assert_fits(n, 24, 80);
	ck_assert_ptr_nonnull(strstr(lines[0], "Running  view up 1:02:05"));
	ck_assert_str_eq(find_line(n, "0 "), "0            150       60.0       50.0       40.0"
			 "            200");
	ck_assert_str_eq(find_line(n, "1 "), "1            0.0        0.0        0.0        0.0"
			 "              5");
	/* 20 I/Os, 2 MB read, 3 in flight now, 10 kicks, 20 interrupts; the path's end */
	ck_assert_str_eq(find_line(n, "disk0"), "disk0     20.0     2.00     0.00     3    10.0     "
			 "0.50    1.00  -for-a-disk.img");
	/* busiest first: MMIO 70/s before IO 60/s; ns/exit over the interval */
	const char *mmio = find_line(n, "MMIO"), *io = find_line(n, "IO ");
	ck_assert_ptr_nonnull(mmio);
	ck_assert(mmio < io);
	ck_assert_str_eq(io, "IO                        60.0        105    2.0us    2.0us    9.0us"
			 "   40.0us");
	ck_assert_ptr_nonnull(find_line(n, "mmio (other)        a-device-with-a-      70.0"));
	ck_assert_str_eq(find_line(n, "guest RAM"), "guest RAM 512 MiB (thp): 24.0 resident, 0.0 huge, "
			 "488.0 untouched");
	ck_assert_str_eq(find_line(n, "kvmini 3"), "kvmini 3.0 MiB; page cache: disk0 1.0, disk1 ?");
	ck_assert_str_eq(find_line(n, "guest's"), "guest's view: 512.0 MiB: 256.0 free, 64.0 page cache, "
			 "192.0 other; balloon 32.0");
}
END_TEST

START_TEST(first_view_has_no_rates)
{
	two_polls(false);
	struct top_view v = { .sock = "s", .interval = 1, .cols = 80, .rows = 24 };
	unsigned n = top__render(NULL, &b, &v, lines);
	assert_fits(n, 24, 80);
	ck_assert_str_eq(find_line(n, "0 "), "0              -          -          -          -"
			 "            200");
	ck_assert_ptr_nonnull(find_line(n, "exits by reason and device, latencies: run kvmini "
					"with --exit-stats"));
	ck_assert_ptr_null(find_line(n, "guest RAM"));
}
END_TEST

START_TEST(truncation)
{
	char d[TOP_COLS + 1], big[200];

	top__fit(d, "abcdef", 3);
	ck_assert_str_eq(d, "abc");
	top__fit(d, "ab", 3);
	ck_assert_str_eq(d, "ab");
	top__fit(d, "", 0);
	ck_assert_str_eq(d, "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	top__fit(d, big, 500);	/* never past 80 */
	ck_assert_uint_eq(strlen(d), TOP_COLS);
}
END_TEST

/* the widest case: 255 vCPUs with huge counts, a long socket path, a 40x10 terminal */
START_TEST(every_line_fits)
{
	char js[32768];
	size_t o = (size_t)snprintf(js, sizeof(js), "{");

	two_polls(true);
	for (unsigned i = 0; i < 255; i++)
		o += (size_t)snprintf(js + o, sizeof(js) - o, "%s\"_vcpu%u\":{\"exits\":%llu,"
				      "\"io_exits\":1,\"mmio_exits\":1}", i ? "," : "", i,
				      18000000000000000000ULL);
	snprintf(js + o, sizeof(js) - o, "}");
	PARSE(top__parse_counters, &b, js);
	ck_assert_uint_eq(b.nvcpu, 255);
	char sock[120];
	memset(sock, 's', sizeof(sock) - 1);
	sock[sizeof(sock) - 1] = '\0';
	struct top_view v = { .sock = sock, .interval = 3600, .up_s = 1e7, .cols = 80, .rows = 24 };
	unsigned n = top__render(&a, &b, &v, lines);
	assert_fits(n, 24, 80);
	ck_assert_ptr_nonnull(find_line(n, "+252 "));	/* 3 shown, the rest on one line */
	v.cols = 40;
	v.rows = 10;
	assert_fits(top__render(&a, &b, &v, lines), 10, 40);
	v.cols = 200;	/* a wide terminal still gets 80 */
	v.rows = 60;
	assert_fits(top__render(&a, &b, &v, lines), 60, 80);
}
END_TEST

/* the network panel: one card on kvmini's data path (rates over the second), one on vhost-net
 * (its interrupts only), hybrid vsock; the screen still fits 24 rows */
START_TEST(network_panel)
{
	two_polls(true);
	PARSE(top__parse_counters, &a, "{\"_vcpu0\":{\"exits\":50,\"io_exits\":40,\"mmio_exits\":10},"
	      "\"_net0\":{\"rx_packets\":100,\"rx_bytes\":1000000,\"tx_packets\":10,\"tx_bytes\":"
	      "500,\"rx_dropped\":1,\"tx_dropped\":0,\"interrupts\":50,\"vhost\":false},\"_net1\":"
	      "{\"interrupts\":7,\"vhost\":true},\"_vsock0\":{\"rx_bytes\":0,\"tx_bytes\":0,"
	      "\"connections\":1,\"refused\":0,\"resets\":0}}");
	PARSE(top__parse_counters, &b, "{\"_vcpu0\":{\"exits\":200,\"io_exits\":100,\"mmio_exits\""
	      ":60},\"_net0\":{\"rx_packets\":1100,\"rx_bytes\":3500000,\"tx_packets\":30,"
	      "\"tx_bytes\":2500,\"rx_dropped\":2,\"tx_dropped\":1,\"interrupts\":350,\"vhost\":"
	      "false},\"_net1\":{\"interrupts\":1007,\"vhost\":true},\"_vsock0\":{\"rx_bytes\":"
	      "4000000,\"tx_bytes\":1000000,\"connections\":2,\"refused\":1,\"resets\":3}}");
	ck_assert_uint_eq(b.nnet, 2);
	ck_assert(b.vsock.on);
	struct top_view v = { .sock = "/run/k.sock", .interval = 1, .up_s = 5, .cols = 80, .rows = 24 };
	unsigned n = top__render(&a, &b, &v, lines);
	assert_fits(n, 24, 80);
	const char *l = find_line(n, "net0 ");
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strstr(l, "2.50") && strstr(l, " 1000 ") && strstr(l, "0.00") &&
		      strstr(l, " 20 ") && strstr(l, " 3 ") && strstr(l, " 300 ") &&
		      strstr(l, "kvmini"), "%s", l);
	l = find_line(n, "net1 ");
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strstr(l, " 1000 ") && strstr(l, "vhost-net"), "%s", l);
	l = find_line(n, "vsock ");
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strstr(l, "to the guest 4.00 MB/s, from it 1.00 MB/s; 2 open, 1 refused, "
			     "3 resets"), "%s", l);
	ck_assert_ptr_nonnull(find_line(n, "exit reason"));	/* the tables are still there */
	ck_assert_ptr_nonnull(find_line(n, "bus "));
}
END_TEST

START_TEST(bad_json_refused)
{
	struct top_snap s;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(top__parse_counters(&s, "[1,2]", 5), -1);
	ck_assert_int_eq(top__parse_counters(&s, "{\"_vcpu0\":", 10), -1);
	ck_assert_int_eq(top__parse_info(&s, "nope", 4), -1);
	ck_assert_int_eq(top__parse_stats(&s, "{\"vcpus\":[]}", 12), -1);	/* no "total" */
	ck_assert_int_eq(top__parse_memory(&s, "{\"guest_ram\":null}", 17), -1);	/* no disks */
	ck_assert(!s.stats);
}
END_TEST

Suite *top_suite(void)
{
	Suite *s = suite_create("top");
	TCase *tc = tcase_create("top");
	tcase_add_test(tc, rates_between_two_snapshots);
	tcase_add_test(tc, first_view_has_no_rates);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, every_line_fits);
	tcase_add_test(tc, network_panel);
	tcase_add_test(tc, bad_json_refused);
	suite_add_tcase(s, tc);
	return s;
}
