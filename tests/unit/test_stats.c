/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: exit-stats histograms, recording and merging, the site table, JSON, KVM stats. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "tests/lib/ck.h"
#include "devices/bus.h"
#include "vmm/cli.h"
#include "vmm/json.h"
#include "vmm/memory_report.h"
#include "vmm/report.h"
#include "vmm/stats.h"

static const struct bus_dev_ops uart_ops = { .name = "serial" };
static const struct bus_dev_ops vmmio_ops = { .name = "virtio-mmio" };
static const struct bus_range uart_range = { .base = 0x3f8, .len = 8, .ops = &uart_ops };
static const struct bus_range vmmio_range = { .base = 0xd0000000, .len = 0x1000, .ops = &vmmio_ops };

START_TEST(hist_buckets)
{
	ck_assert_uint_eq(stats__hist_bucket(0), 0);
	ck_assert_uint_eq(stats__hist_bucket(1), 1);
	ck_assert_uint_eq(stats__hist_bucket(2), 2);
	ck_assert_uint_eq(stats__hist_bucket(3), 2);
	ck_assert_uint_eq(stats__hist_bucket(4), 3);
	ck_assert_uint_eq(stats__hist_bucket(1023), 10);
	ck_assert_uint_eq(stats__hist_bucket(1024), 11);
	ck_assert_uint_eq(stats__hist_bucket((1ULL << 62) - 1), 62);
	ck_assert_uint_eq(stats__hist_bucket(1ULL << 62), 63);
	ck_assert_uint_eq(stats__hist_bucket(UINT64_MAX), 63);
	ck_assert_uint_eq(stats__hist_upper(0), 0);
	ck_assert_uint_eq(stats__hist_upper(1), 1);
	ck_assert_uint_eq(stats__hist_upper(10), 1023);
	ck_assert_uint_eq(stats__hist_upper(63), UINT64_MAX);
	/* every value lies at or below its bucket's upper bound and above the previous one's */
	for (uint64_t v = 1; v < 5000; v += 7) {
		unsigned b = stats__hist_bucket(v);
		ck_assert_uint_le(v, stats__hist_upper(b));
		ck_assert_uint_gt(v, stats__hist_upper(b - 1));
	}
}
END_TEST

START_TEST(hist_percentiles)
{
	struct stats_hist h;

	memset(&h, 0, sizeof(h));
	ck_assert_uint_eq(stats__hist_percentile(&h, 50), 0);	/* empty */
	ck_assert_uint_eq(stats__hist_percentile(&h, 99), 0);
	ck_assert_uint_eq(h.max_ns, 0);

	stats__hist_add(&h, 1);
	ck_assert_uint_eq(stats__hist_percentile(&h, 50), 1);
	ck_assert_uint_eq(stats__hist_percentile(&h, 99), 1);

	/* 99 x 100 ns and one 1 ms: p50 and p99 in 100's bucket [64, 127], max exact */
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 99; i++)
		stats__hist_add(&h, 100);
	stats__hist_add(&h, 1000000);
	ck_assert_uint_eq(h.count, 100);
	ck_assert_uint_eq(h.sum_ns, 99 * 100 + 1000000);
	ck_assert_uint_eq(stats__hist_percentile(&h, 50), 127);
	ck_assert_uint_eq(stats__hist_percentile(&h, 99), 127);
	ck_assert_uint_eq(stats__hist_percentile(&h, 100), 1000000);
	ck_assert_uint_eq(h.max_ns, 1000000);

	/* 1..1000: the 500th is in [256, 511]; the 990th in [512, 1023], clamped to max 1000 */
	memset(&h, 0, sizeof(h));
	for (uint64_t v = 1; v <= 1000; v++)
		stats__hist_add(&h, v);
	ck_assert_uint_eq(stats__hist_percentile(&h, 50), 511);
	ck_assert_uint_eq(stats__hist_percentile(&h, 99), 1000);
	ck_assert_uint_eq(h.max_ns, 1000);

	/* merging two halves gives the same histogram */
	struct stats_hist a, b, m;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&m, 0, sizeof(m));
	for (uint64_t v = 1; v <= 1000; v++)
		stats__hist_add(v & 1 ? &a : &b, v);
	stats__hist_merge(&m, &a);
	stats__hist_merge(&m, &b);
	ck_assert_mem_eq(&m, &h, sizeof(h));
}
END_TEST

START_TEST(record_and_merge)
{
	struct stats_vcpu *v0 = stats__new(0), *v1 = stats__new(1), *t = stats__new(0);

	ck_assert(v0 && v1 && t);
	ck_assert_int_eq(v0->kvm_fd, -1);
	for (int i = 0; i < 10; i++) {
		stats__record_exit(v0, KVM_EXIT_IO, 100);
		stats__record_access(v0, STATS_PIO, &uart_range, 0x3f8 + (i & 7), true, 100);
	}
	stats__record_exit(v0, KVM_EXIT_MMIO, 3000);
	stats__record_access(v0, STATS_MMIO, &vmmio_range, 0xd0000050, false, 3000);
	stats__record_exit(v1, KVM_EXIT_IO, 50);
	stats__record_access(v1, STATS_PIO, &uart_range, 0x3fd, false, 50);
	stats__record_exit(v1, KVM_EXIT_IO, 70);
	stats__record_access(v1, STATS_PIO, NULL, 0x99, true, 70);
	stats__record_exit(v1, 200, 5);	/* past the table: "other" */

	ck_assert_uint_eq(v0->exits, 11);
	const struct stats_site *s = stats__find_site(v0, STATS_PIO, 0x3f8);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->count, 10);
	ck_assert_uint_eq(s->writes, 10);
	ck_assert_str_eq(s->dev, "serial");
	ck_assert_ptr_null(stats__find_site(v0, STATS_MMIO, 0x3f8));	/* bus is part of the key */

	stats__merge(t, v0);
	stats__merge(t, v1);
	ck_assert_uint_eq(t->exits, 14);
	ck_assert_uint_eq(t->reason_count[KVM_EXIT_IO], 12);
	ck_assert_uint_eq(t->reason_count[KVM_EXIT_MMIO], 1);
	ck_assert_uint_eq(t->reason_count[STATS_OTHER_REASON], 1);
	ck_assert_uint_eq(t->reason_hist[KVM_EXIT_IO].count, 12);
	ck_assert_uint_eq(t->reason_hist[KVM_EXIT_IO].max_ns, 100);
	ck_assert_uint_eq(t->reason_hist[KVM_EXIT_IO].sum_ns, 10 * 100 + 50 + 70);
	s = stats__find_site(t, STATS_PIO, 0x3f8);
	ck_assert(s && s->count == 11 && s->writes == 10 && s->reads == 1);
	ck_assert_uint_eq(s->total_ns, 1050);
	s = stats__find_site(t, STATS_PIO, 0x99);
	ck_assert(s && s->count == 1 && !strcmp(s->dev, "(none)"));
	s = stats__find_site(t, STATS_MMIO, 0xd0000000);
	ck_assert(s && s->count == 1 && s->reads == 1 && s->max_ns == 3000);
	ck_assert_str_eq(s->dev, "virtio-mmio");
	stats__free(v0);
	stats__free(v1);
	stats__free(t);
}
END_TEST

START_TEST(site_table_overflow_goes_to_other)
{
	struct stats_vcpu *v = stats__new(0), *t = stats__new(0);
	uint64_t sum = 0;
	unsigned used = 0;

	for (uint64_t a = 0; a < 1000; a++)
		stats__record_access(v, STATS_MMIO, NULL, 0xfee00000 + a * 4, true, 1);
	for (unsigned i = 0; i < STATS_NSITES; i++) {
		if (v->sites[i].used) {
			used++;
			sum += v->sites[i].count;
			ck_assert_uint_eq(v->sites[i].count, 1);
		}
	}
	ck_assert_uint_le(used, STATS_NSITES);
	ck_assert_uint_ge(used, STATS_NSITES / 2);
	ck_assert_uint_gt(v->other[STATS_MMIO].count, 0);
	ck_assert_uint_eq(v->other[STATS_PIO].count, 0);
	ck_assert_uint_eq(sum + v->other[STATS_MMIO].count, 1000);
	ck_assert_ptr_nonnull(stats__find_site(v, STATS_MMIO, 0xfee00000));	/* first one fit */
	/* a key that already has a slot keeps going there, not to "other" */
	stats__record_access(v, STATS_MMIO, NULL, 0xfee00000, false, 1);
	ck_assert_uint_eq(stats__find_site(v, STATS_MMIO, 0xfee00000)->count, 2);
	/* merged: nothing lost */
	stats__merge(t, v);
	sum = t->other[STATS_MMIO].count;
	for (unsigned i = 0; i < STATS_NSITES; i++)
		sum += t->sites[i].used ? t->sites[i].count : 0;
	ck_assert_uint_eq(sum, 1001);
	stats__free(v);
	stats__free(t);
}
END_TEST

/* Brackets balance outside strings, no ",]" or ",}" or empty values: enough for our printer. */
static void check_json_shape(const char *s)
{
	int depth = 0;
	bool in_str = false;
	char prev = 0;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\')
				s++;
			else if (*s == '"')
				in_str = false;
			continue;
		}
		if (*s == '"')
			in_str = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']') {
			ck_assert_msg(prev != ',', "trailing comma");
			depth--;
			ck_assert_int_ge(depth, 0);
		} else if (*s == ',' || *s == ':')
			ck_assert_msg(prev != ',' && prev != ':' && prev != '{' && prev != '[',
				      "empty value before '%c'", *s);
		if (*s != ' ' && *s != '\n')
			prev = *s;
	}
	ck_assert(!in_str);
	ck_assert_int_eq(depth, 0);
}

static char *print_to_string(struct stats_vcpu *const *v, unsigned n, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	struct stats_snapshot snap;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(stats__snapshot(v, n, false, &snap), 0);
	report__exit_stats(f, &snap, json, NULL);
	stats__snapshot_free(&snap);
	fclose(f);
	return buf;
}

START_TEST(json_and_text_output)
{
	struct stats_vcpu *v[2] = { stats__new(0), stats__new(1) };

	stats__record_exit(v[0], KVM_EXIT_IO, 1500);
	stats__record_access(v[0], STATS_PIO, &uart_range, 0x3f8, true, 1500);
	stats__record_exit(v[1], KVM_EXIT_MMIO, 800);
	stats__record_access(v[1], STATS_MMIO, NULL, 0xfeb00000, false, 800);
	stats__record_exit(v[1], 99, 1);
	snprintf(v[1]->kvm.v[0].name, STATS_KVM_NAME, "io_exits");
	v[1]->kvm.v[0].value = 42;
	v[1]->kvm.n = 1;

	char *j = print_to_string(v, 2, true);
	check_json_shape(j);
	static const char *keys[] = {
		"\"vcpus\":[", "\"total\":{\"vcpus\":2,", "\"id\":1,", "\"exits\":3,",
		"\"reason\":\"KVM_EXIT_IO\",\"code\":2,\"count\":1,",
		"\"latency_ns\":{\"p50\":1500,\"p99\":1500,\"max\":1500,",
		"\"reason\":\"other\",\"code\":null", "\"bus\":\"pio\",\"addr\":\"0x3f8\",\"device\":\"serial\"",
		"\"bus\":\"mmio\",\"addr\":\"0xfeb00000\",\"device\":\"(none)\",\"count\":1,\"reads\":1",
		"\"kvm\":null", "\"kvm\":{\"io_exits\":42}",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(strstr(j, keys[i]), "missing %s in %s", keys[i], j);
	if (access("/usr/bin/python3", X_OK) == 0) {	/* the real parser, where there is one */
		FILE *p = popen("/usr/bin/python3 -m json.tool >/dev/null", "w");
		ck_assert_ptr_nonnull(p);
		fputs(j, p);
		ck_assert_int_eq(pclose(p), 0);
	}
	free(j);

	char *t = print_to_string(v, 2, false);
	ck_assert_msg(strstr(t, "kvmini: exit stats, total of 2 vCPUs: 3 exits to userspace"), "%s", t);
	ck_assert_msg(strstr(t, "KVM_EXIT_MMIO"), "%s", t);
	ck_assert_msg(strstr(t, "0xfeb00000"), "%s", t);
	ck_assert_msg(strstr(t, "KVM in-kernel: io_exits 42"), "%s", t);
	free(t);

	/* no vCPUs at all still prints a valid object */
	j = print_to_string(v, 0, true);
	check_json_shape(j);
	ck_assert_msg(strstr(j, "\"vcpus\":[],\"total\":{\"vcpus\":0,\"exits\":0,"), "%s", j);
	free(j);
	stats__free(v[0]);
	stats__free(v[1]);
}
END_TEST

/* A stats-fd image as the kernel lays it out: header, id string, descriptors, data. */
#define NAME_SIZE 48
#define NDESC     4
struct fake_stats {
	uint8_t buf[4096];
	size_t len, desc_off, data_off;
};

static void put_desc(struct fake_stats *f, unsigned i, const char *name, uint32_t flags,
		     uint16_t size, uint32_t offset)
{
	struct kvm_stats_desc d = { .flags = flags, .size = size, .offset = offset };
	uint8_t *p = f->buf + f->desc_off + i * (sizeof(d) + NAME_SIZE);

	memcpy(p, &d, sizeof(d));
	memset(p + sizeof(d), 0, NAME_SIZE);
	memcpy(p + sizeof(d), name, strlen(name));
}

static void put_u64(struct fake_stats *f, uint32_t offset, uint64_t v)
{
	memcpy(f->buf + f->data_off + offset, &v, sizeof(v));
}

static void build_fake(struct fake_stats *f)
{
	struct kvm_stats_header h = { .name_size = NAME_SIZE, .num_desc = NDESC };

	memset(f, 0, sizeof(*f));
	h.id_offset = sizeof(h);
	h.desc_offset = h.id_offset + NAME_SIZE;
	h.data_offset = h.desc_offset + NDESC * (sizeof(struct kvm_stats_desc) + NAME_SIZE);
	memcpy(f->buf, &h, sizeof(h));
	memcpy(f->buf + h.id_offset, "kvm-1234/vcpu-0", 15);
	f->desc_off = h.desc_offset;
	f->data_off = h.data_offset;
	put_desc(f, 0, "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0);
	put_desc(f, 1, "halt_poll_success_hist", KVM_STATS_TYPE_LOG_HIST, 32, 8);
	put_desc(f, 2, "io_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 8 + 32 * 8);
	put_desc(f, 3, "guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 1, 16 + 32 * 8);
	put_u64(f, 0, 123456);
	for (unsigned b = 0; b < 32; b++)
		put_u64(f, 8 + b * 8, 0xdead);
	put_u64(f, 8 + 32 * 8, 1001);
	put_u64(f, 16 + 32 * 8, 1);
	f->len = f->data_off + 24 + 32 * 8;
}

START_TEST(kvm_binary_stats_parse)
{
	static struct fake_stats f;
	static struct stats_kvm k;
	bool found;

	build_fake(&f);
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.len, &k), 0);
	ck_assert_uint_eq(k.n, 3);	/* the histogram is skipped */
	ck_assert_uint_eq(stats__kvm_value(&k, "exits", &found), 123456);
	ck_assert(found);
	ck_assert_uint_eq(stats__kvm_value(&k, "io_exits", &found), 1001);
	ck_assert_uint_eq(stats__kvm_value(&k, "guest_mode", &found), 1);
	ck_assert_uint_eq(stats__kvm_value(&k, "halt_poll_success_hist", &found), 0);
	ck_assert(!found);
	ck_assert_uint_eq(stats__kvm_value(&k, "nope", NULL), 0);

	/* merged by name across vCPUs */
	struct stats_vcpu *a = stats__new(0), *b = stats__new(1), *t = stats__new(0);
	a->kvm = k;
	b->kvm = k;
	stats__merge(t, a);
	stats__merge(t, b);
	ck_assert_uint_eq(stats__kvm_value(&t->kvm, "io_exits", NULL), 2002);
	stats__free(a);
	stats__free(b);
	stats__free(t);

	/* truncated data, header, or descriptor block: refused, never read past the buffer */
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.len - 1, &k), -1);
	ck_assert_int_eq(stats__parse_kvm(f.buf, sizeof(struct kvm_stats_header) - 1, &k), -1);
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.desc_off + 10, &k), -1);
	build_fake(&f);
	put_desc(&f, 0, "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0xfffffff0);
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.len, &k), -1);
	build_fake(&f);
	((struct kvm_stats_header *)(void *)f.buf)->num_desc = 0x10000000;
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.len, &k), -1);
	build_fake(&f);
	((struct kvm_stats_header *)(void *)f.buf)->data_offset = 0xffffffff;
	ck_assert_int_eq(stats__parse_kvm(f.buf, f.len, &k), -1);
}
END_TEST

static int parse(struct run_config *cfg, const char *opt)
{
	char err[256];
	char *argv[] = { "run", (char *)opt, NULL };
	return cli__parse_run(opt ? 2 : 1, argv, cfg, err, sizeof(err));
}

START_TEST(cli_exit_stats_option)
{
	struct run_config cfg;

	ck_assert_int_eq(parse(&cfg, NULL), 0);
	ck_assert_int_eq(cfg.exit_stats, EXIT_STATS_OFF);
	ck_assert_int_eq(parse(&cfg, "--exit-stats"), 0);
	ck_assert_int_eq(cfg.exit_stats, EXIT_STATS_TEXT);
	ck_assert_ptr_null(cfg.exit_stats_path);
	ck_assert_int_eq(parse(&cfg, "--exit-stats=text"), 0);
	ck_assert_int_eq(cfg.exit_stats, EXIT_STATS_TEXT);
	ck_assert_int_eq(parse(&cfg, "--exit-stats=json"), 0);
	ck_assert_int_eq(cfg.exit_stats, EXIT_STATS_JSON);
	ck_assert_ptr_null(cfg.exit_stats_path);
	ck_assert_int_eq(parse(&cfg, "--exit-stats=json:/tmp/s.json"), 0);
	ck_assert_int_eq(cfg.exit_stats, EXIT_STATS_JSON);
	ck_assert_str_eq(cfg.exit_stats_path, "/tmp/s.json");
	ck_assert_int_eq(parse(&cfg, "--exit-stats=json:"), -1);
	ck_assert_int_eq(parse(&cfg, "--exit-stats=xml"), -1);
	ck_assert_int_eq(parse(&cfg, "--exit-stats="), -1);
}
END_TEST

/* the reports' strings come out as kvmini always wrote them (vmm/json.c): '"' and '\' escaped,
 * control characters as \u00XX, other bytes as they are, or (ascii) above 0x7e as \u00XX */
static char *emit_to_string(json_object *o, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	*rc = json__emit(f, "", o);
	fclose(f);
	return buf;
}

START_TEST(json_strings_and_failures)
{
	int rc;
	const char *s = "a\"b\\c/\n\t\x7f\xc3\xa9";
	json_object *a = json__arr();
	json__push(a, json__string(s, false));
	json__push(a, json__string(s, true));
	json__push(a, json__hex(0xfeb00000));
	char *out = emit_to_string(a, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "[\"a\\\"b\\\\c/\\u000a\\u0009\x7f\xc3\xa9\","
			 "\"a\\\"b\\\\c/\\u000a\\u0009\\u007f\\u00c3\\u00a9\",\"0xfeb00000\"]");
	free(out);
	/* a value that could not be placed (its object missing, as after an allocation failure)
	 * makes the next emit refuse: nothing written, -1 */
	json__add(NULL, "lost", json__u64(1));
	out = emit_to_string(json__obj(), &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(out, "");
	free(out);
	/* and only that one */
	out = emit_to_string(json__obj(), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "{}");
	free(out);
}
END_TEST

/* the page-table pages KVM needs at the least for its mappings, and the report's JSON */
START_TEST(memory_report_tables_and_json)
{
	uint64_t none[MEM_KVM_SIZES] = { 0, 0, 0 };
	uint64_t only_2m[MEM_KVM_SIZES] = { 0, 256, 0 };	/* 512 MiB on 2 MiB pages */
	uint64_t mixed[MEM_KVM_SIZES] = { 1024, 512, 1 };

	ck_assert_uint_eq(mem_report__tables_min(none), 0);
	/* one level-2 table, one level-3, the root */
	ck_assert_uint_eq(mem_report__tables_min(only_2m), 3 * 4096);
	/* level 1: 2 tables; level 2: (2 + 512) / 512 -> 2; level 3: (2 + 1) -> 1; root */
	ck_assert_uint_eq(mem_report__tables_min(mixed), (2 + 2 + 1 + 1) * 4096);

	struct mem_report r = { .ram_known = true, .pages = "thp", .ram_size = 64 << 20,
				.ram_resident = 16 << 20, .ram_huge = 8 << 20, .vmm_resident = 3 << 20,
				.kvm_known = true, .kvm_pages = { 1024, 512, 1 }, .ndisks = 2 };
	r.kvm_tables_min = mem_report__tables_min(r.kvm_pages);
	r.disk[0] = (struct mem_report_disk){ .path = "a\"b.img", .size = 1 << 20,
					      .page_cache = 4096 };
	r.disk[1] = (struct mem_report_disk){ .path = "/dev/x", .size = 1 << 20, .err = -5,
					      .direct = true };
	json_object *o = mem_report__json(&r), *v, *d;
	ck_assert(json_object_object_get_ex(o, "guest_ram", &v));
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(v, "untouched")), 48 << 20);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "pages")), "thp");
	ck_assert(json_object_object_get_ex(o, "kvm", &v));
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(v, "pages_2m")), 512);
	ck_assert(json_object_object_get_ex(o, "disks", &v));
	d = json_object_array_get_idx(v, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "path")), "a\"b.img");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(d, "page_cache")), 4096);
	d = json_object_array_get_idx(v, 1);
	ck_assert(json_object_object_get_ex(d, "page_cache", &v) && v == NULL);	/* unknown */
	ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "cache")), "none");
	json_object_put(o);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	mem_report__text(f, &r);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "16.0 MiB resident on the host (8.0 MiB on huge pages), "
					   "48.0 MiB never touched; kvmini itself 3.0 MiB"));
	ck_assert_ptr_nonnull(strstr(text, "/dev/x: host page cache unknown"));
	free(text);
}
END_TEST

Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("exit-stats");
	tcase_add_test(tc, hist_buckets);
	tcase_add_test(tc, hist_percentiles);
	tcase_add_test(tc, record_and_merge);
	tcase_add_test(tc, site_table_overflow_goes_to_other);
	tcase_add_test(tc, json_and_text_output);
	tcase_add_test(tc, json_strings_and_failures);
	tcase_add_test(tc, kvm_binary_stats_parse);
	tcase_add_test(tc, cli_exit_stats_option);
	tcase_add_test(tc, memory_report_tables_and_json);
	suite_add_tcase(s, tc);
	return s;
}
