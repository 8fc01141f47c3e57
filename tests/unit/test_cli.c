/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: size parsing, `kvmini run` option parsing and its rejections, the command line. */
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "vmm/board.h"
#include "vmm/boot.h"
#include "vmm/cli.h"
#include "vmm/parse.h"

START_TEST(sizes_accepted)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "512M", 512ULL << 20 }, { "512", 512ULL << 20 }, { "2G", 2ULL << 30 },
		{ "2g", 2ULL << 30 }, { "65536K", 64ULL << 20 }, { "1T", 1ULL << 40 },
		{ "4GiB", 4ULL << 30 }, { "16MB", 16ULL << 20 }, { "0", 0 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		ck_assert_msg(parse__size(ok[i].s, &v) == 0, "%s rejected", ok[i].s);
		ck_assert_msg(v == ok[i].v, "%s -> %llu", ok[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(sizes_rejected)
{
	static const char *bad[] = {
		"", "M", "-1", "-512M", " 512M", "512X", "512MM", "1.5G", "0x100", "12Ki",
		"99999999999999999999", "18446744073709551615G", "100000000T", "1K1", "3K",
		"512M ", "G5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		ck_assert_msg(parse__size(bad[i], &v) == -1, "'%s' accepted", bad[i]);
		ck_assert_uint_eq(v, 7);
	}
	ck_assert_int_eq(parse__size(NULL, NULL), -1);
}
END_TEST

static int parse(struct run_config *cfg, char *err, int argc, char **argv)
{
	return cli__parse_run(argc, argv, cfg, err, 256);
}
#define PARSE(cfg, err, ...) \
	parse(cfg, err, sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *), (char *[]){ __VA_ARGS__ })

START_TEST(run_defaults_and_options)
{
	struct run_config c;
	char err[256] = "";

	ck_assert_int_eq(PARSE(&c, err, "run"), 0);
	ck_assert_ptr_null(c.kernel);
	ck_assert_uint_eq(c.cpus, 1);
	ck_assert_uint_eq(c.memory, DEFAULT_MEMORY);
	ck_assert_int_eq(c.console, CONSOLE_STDIO);
	ck_assert_int_eq(c.transport, VIRTIO_TRANSPORT_PCI);
	ck_assert_uint_eq(c.shutdown_timeout, 30);	/* SIGTERM: the power button, 30 s */
	ck_assert_int_eq(PARSE(&c, err, "run", "--shutdown-timeout", "0"), 0);
	ck_assert_uint_eq(c.shutdown_timeout, 0);
	ck_assert_int_eq(PARSE(&c, err, "run", "--shutdown-timeout=3600"), 0);
	ck_assert_uint_eq(c.shutdown_timeout, 3600);
	ck_assert_int_eq(PARSE(&c, err, "run", "--virtio-transport", "mmio"), 0);
	ck_assert_int_eq(c.transport, VIRTIO_TRANSPORT_MMIO);
	ck_assert_int_eq(PARSE(&c, err, "run", "--virtio-transport", "pci"), 0);
	ck_assert_int_eq(c.transport, VIRTIO_TRANSPORT_PCI);
	ck_assert_int_eq(PARSE(&c, err, "run", "--virtio-transport=mmio"), 0);
	ck_assert_int_eq(c.transport, VIRTIO_TRANSPORT_MMIO);
	ck_assert_int_eq(PARSE(&c, err, "run", "--virtio-transport", "PCI"), -1);
	ck_assert_ptr_nonnull(strstr(err, "use mmio or pci"));

	ck_assert_int_eq(PARSE(&c, err, "run", "--kernel", "k", "--initrd", "i", "--cpus", "4",
			       "--memory", "5G", "--console", "file=/tmp/x", "--append", "quiet",
			       "-q"), 0);
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_str_eq(c.initrd, "i");
	ck_assert_uint_eq(c.cpus, 4);
	ck_assert_uint_eq(c.memory, 5ULL << 30);
	ck_assert_int_eq(c.mem_pages, GM_PAGES_THP);
	ck_assert_int_eq(c.console, CONSOLE_FILE);
	ck_assert_str_eq(c.console_path, "/tmp/x");
	ck_assert(c.quiet);
	char *cl = boot__cmdline(&c, NULL), want[256];
	snprintf(want, sizeof(want), "%s quiet", board__default_cmdline());	/* the board's default */
	ck_assert_str_eq(cl, want);
	free(cl);

	ck_assert_int_eq(PARSE(&c, err, "run", "-m", "1G,thp=off"), 0);
	ck_assert_uint_eq(c.memory, 1ULL << 30);
	ck_assert_int_eq(c.mem_pages, GM_PAGES_SMALL);
	ck_assert_int_eq(PARSE(&c, err, "run", "--memory=256M,hugepages=on"), 0);
	ck_assert_uint_eq(c.memory, 256ULL << 20);
	ck_assert_int_eq(c.mem_pages, GM_PAGES_HUGETLB);
	ck_assert_int_eq(PARSE(&c, err, "run", "-m", "256M,hugepages=off,thp=on"), 0);
	ck_assert_int_eq(c.mem_pages, GM_PAGES_THP);
	ck_assert_int_eq(PARSE(&c, err, "run", "-m", "256M,hugepages=on,thp=off"), 0);
	ck_assert_int_eq(c.mem_pages, GM_PAGES_HUGETLB);

	ck_assert_int_eq(PARSE(&c, err, "run", "--cmdline", "console=ttyS0", "--console", "none"), 0);
	ck_assert_int_eq(c.console, CONSOLE_NONE);
	cl = boot__cmdline(&c, NULL);
	ck_assert_str_eq(cl, "console=ttyS0");
	free(cl);
	cl = boot__cmdline(&c, "virtio_mmio.device=4K@0xd0000000:16");
	ck_assert_str_eq(cl, "console=ttyS0 virtio_mmio.device=4K@0xd0000000:16");
	free(cl);
}
END_TEST

START_TEST(run_rejections)
{
	struct run_config c;
	char err[256];
	static const struct { const char *opt, *val, *needle; } bad[] = {
		{ "--cpus", "0", "--cpus" }, { "--cpus", "256", "--cpus" }, { "--cpus", "-1", "--cpus" },
		{ "--cpus", "two", "--cpus" }, { "--cpus", "", "--cpus" }, { "--cpus", "4x", "--cpus" },
		{ "--memory", "8M", "between" }, { "--memory", "2T", "between" },
		{ "--memory", "lots", "not a size" }, { "--memory", "", "not a size" },
		{ "--memory", "-1G", "not a size" }, { "--console", "tty", "--console" },
		{ "--memory", "1G,thp", "thp needs =on or =off" },
		{ "--memory", "1G,thp=yes", "thp needs =on or =off" },
		{ "--memory", "1G,huge=on", "unknown key 'huge'" },
		{ "--memory", "1G,thp=on,hugepages=on", "exclude each other" },
		{ "--memory", "1025M,hugepages=on", "whole number of 2 MiB" },
		{ "--memory", ",thp=off", "not a size" },
		{ "--memory", "8M,thp=off", "between" },
		{ "--console", "file=", "--console" }, { "--kernel", "", "--kernel" },
		{ "--initrd", "", "--initrd" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(PARSE(&c, err, "run", (char *)bad[i].opt, (char *)bad[i].val) == -1,
			      "%s '%s' accepted", bad[i].opt, bad[i].val);
		ck_assert_msg(strstr(err, bad[i].needle), "%s '%s': message '%s'", bad[i].opt,
			      bad[i].val, err);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	ck_assert_int_eq(PARSE(&c, err, "run", "--bogus"), -1);
	ck_assert_ptr_nonnull(strstr(err, "--bogus"));
	ck_assert_int_eq(PARSE(&c, err, "run", "--kernel"), -1);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	ck_assert_int_eq(PARSE(&c, err, "run", "stray"), -1);
	ck_assert_ptr_nonnull(strstr(err, "stray"));
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, sizes_accepted);
	tcase_add_test(tc, sizes_rejected);
	tcase_add_test(tc, run_defaults_and_options);
	tcase_add_test(tc, run_rejections);
	suite_add_tcase(s, tc);
	return s;
}
