/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: --trace-exits option and filters, the file format, the recorder, `kvmini exits`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "tests/lib/ck.h"
#include "devices/bus.h"
#include "vmm/cli.h"
#include "vmm/exits_cmd.h"
#include "vmm/trace.h"
#include "vmm/trace_file.h"
#include "vmm/trace_opts.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static const struct bus_dev_ops uart_ops = { .name = "serial" };
static const struct bus_dev_ops long_ops = { .name = "a-device-name-longer-than-24-bytes" };
static const struct bus_dev_ops vmmio_ops = { .name = "virtio-mmio" };

static int opts(const char *spec, struct trace_opts *o, char *err)
{
	return trace__parse_opts(spec, o, err, 256);
}

START_TEST(opts_parse)
{
	struct trace_opts o;
	char err[256];

	ck_assert_int_eq(opts("/tmp/t.bin", &o, err), 0);
	ck_assert_str_eq(o.path, "/tmp/t.bin");
	ck_assert(!o.filter.has_reason && !o.filter.has_addr);
	ck_assert_int_eq(o.filter.vcpu, -1);
	ck_assert_uint_eq(o.max_bytes, 64ULL << 20);

	ck_assert_int_eq(opts("t,reason=io|mmio,addr=0x3f8-0x3ff,vcpu=1,max=1M", &o, err), 0);
	ck_assert_str_eq(o.path, "t");
	ck_assert(o.filter.has_reason);
	ck_assert_uint_eq(o.filter.reasons, (1ULL << KVM_EXIT_IO) | (1ULL << KVM_EXIT_MMIO));
	ck_assert(o.filter.has_addr && o.filter.lo == 0x3f8 && o.filter.hi == 0x3ff);
	ck_assert_int_eq(o.filter.vcpu, 1);
	ck_assert_uint_eq(o.max_bytes, 1 << 20);
	ck_assert_int_eq(opts("t,reason=IO+system+300,addr=1016", &o, err), 0);
	ck_assert_uint_eq(o.filter.reasons, (1ULL << KVM_EXIT_IO) | (1ULL << KVM_EXIT_SYSTEM_EVENT));
	ck_assert(o.filter.others);
	ck_assert(o.filter.lo == 1016 && o.filter.hi == 1016);

	static const struct { const char *spec, *needle; } bad[] = {
		{ "", "needs a file name" },
		{ ",reason=io", "needs a file name" },
		{ "t,colour=red", "unknown item 'colour'" },
		{ "t,reason", "unknown item 'reason'" },
		{ "t,reason=", "reason= needs a list" },
		{ "t,reason=|", "reason= needs a list" },
		{ "t,reason=bogus", "unknown exit reason 'bogus'" },
		{ "t,reason=io,reason=mmio", "reason= given twice" },
		{ "t,addr=0x10-0x1", "addr='0x10-0x1'" },
		{ "t,addr=x", "addr='x'" },
		{ "t,addr=1-", "addr='1-'" },
		{ "t,addr=99999999999999999999999", "addr=" },
		{ "t,vcpu=-1", "vcpu='-1'" },
		{ "t,vcpu=300", "vcpu='300'" },
		{ "t,max=lots", "max='lots'" },
		{ "t,max=0", "max='0'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(opts(bad[i].spec, &o, err) == -1, "accepted '%s'", bad[i].spec);
		ck_assert_msg(strstr(err, bad[i].needle), "'%s': '%s' lacks '%s'", bad[i].spec, err,
			      bad[i].needle);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	ck_assert_int_eq(trace__reason_code("hlt"), KVM_EXIT_HLT);
	ck_assert_int_eq(trace__reason_code("Shutdown"), KVM_EXIT_SHUTDOWN);
	ck_assert_int_eq(trace__reason_code("0x10"), 16);
	ck_assert_int_eq(trace__reason_code("KVM_EXIT_IO"), -1);
	ck_assert_int_eq(trace__reason_code("70000"), -1);
}
END_TEST

START_TEST(filter_match)
{
	struct trace_opts o;
	char err[256];
	struct trace_rec io = { .reason = KVM_EXIT_IO, .bus = TRACE_BUS_PIO, .addr = 0x3f9, .size = 1 };
	struct trace_rec mm = { .reason = KVM_EXIT_MMIO, .bus = TRACE_BUS_MMIO, .addr = 0xd0000000,
				.size = 4, .vcpu = 1 };
	struct trace_rec intr = { .reason = KVM_EXIT_INTR };
	struct trace_rec odd = { .reason = 300 };

	ck_assert_int_eq(opts("t", &o, err), 0);
	ck_assert(trace__filter_match(&o.filter, &io) && trace__filter_match(&o.filter, &mm) &&
		  trace__filter_match(&o.filter, &intr) && trace__filter_match(&o.filter, &odd));
	ck_assert_int_eq(opts("t,reason=io", &o, err), 0);
	ck_assert(trace__filter_match(&o.filter, &io) && !trace__filter_match(&o.filter, &mm) &&
		  !trace__filter_match(&o.filter, &intr) && !trace__filter_match(&o.filter, &odd));
	ck_assert_int_eq(opts("t,reason=300", &o, err), 0);
	ck_assert(!trace__filter_match(&o.filter, &io) && trace__filter_match(&o.filter, &odd));
	ck_assert_int_eq(opts("t,addr=0x3f8-0x3ff", &o, err), 0);
	ck_assert(trace__filter_match(&o.filter, &io) && !trace__filter_match(&o.filter, &mm) &&
		  !trace__filter_match(&o.filter, &intr));
	ck_assert_int_eq(opts("t,addr=0xd0000000-0xd0000fff", &o, err), 0);
	ck_assert(!trace__filter_match(&o.filter, &io) && trace__filter_match(&o.filter, &mm));
	ck_assert_int_eq(opts("t,vcpu=1", &o, err), 0);
	ck_assert(!trace__filter_match(&o.filter, &io) && trace__filter_match(&o.filter, &mm));
	ck_assert_int_eq(opts("t,reason=mmio,addr=0xd0000000,vcpu=1", &o, err), 0);
	ck_assert(trace__filter_match(&o.filter, &mm));
	mm.vcpu = 0;
	ck_assert(!trace__filter_match(&o.filter, &mm));
}
END_TEST

/* ---- a fake VM: buses with devices, vCPUs with kvm_run pages, no KVM ---- */

static struct kvm fkvm = { .fd = -1, .run_size = 3 * 4096 };
static struct vm fvm;
static uint8_t *runs;

static void fake_vm(unsigned ncpus)
{
	memset(&fvm, 0, sizeof(fvm));
	fvm.kvm = &fkvm;
	fvm.ncpus = ncpus;
	fvm.vcpus = calloc(ncpus, sizeof(*fvm.vcpus));
	runs = aligned_alloc(4096, (size_t)ncpus * (size_t)fkvm.run_size);
	ck_assert(fvm.vcpus && runs);
	memset(runs, 0, (size_t)ncpus * (size_t)fkvm.run_size);
	bus__init(&fvm.pio, "pio");
	bus__init(&fvm.mmio, "mmio");
	ck_assert_int_eq(bus__register(&fvm.pio, 0x3f8, 8, &uart_ops, NULL), 0);
	ck_assert_int_eq(bus__register(&fvm.pio, 0x600, 2, &long_ops, NULL), 0);
	ck_assert_int_eq(bus__register(&fvm.mmio, 0xd0000000, 0x1000, &vmmio_ops, NULL), 0);
	for (unsigned i = 0; i < ncpus; i++) {
		fvm.vcpus[i].vm = &fvm;
		fvm.vcpus[i].id = i;
		fvm.vcpus[i].run = (struct kvm_run *)(runs + (size_t)i * (size_t)fkvm.run_size);
	}
}

static void fake_vm_free(void)
{
	bus__free(&fvm.pio);
	bus__free(&fvm.mmio);
	free(fvm.vcpus);
	free(runs);
}

static void fake_io(struct vcpu *v, uint16_t port, bool out, uint8_t size, uint32_t value)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = 4096;
	memcpy((uint8_t *)run + 4096, &value, sizeof(value));
}

static void fake_mmio(struct vcpu *v, uint64_t gpa, bool write, uint8_t len, uint64_t value)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.is_write = write;
	run->mmio.len = len;
	memcpy(run->mmio.data, &value, sizeof(value));
}

static char path[64];

/* Records a known mix through the recorder (as the exit path would) into a trace at path:
 * per vCPU v, 2000 x {OUT 0x3f8 = i&0xff, 4-byte MMIO read of 0xd0000010 = v, IN 0x99} and
 * one KVM_EXIT_INTR. */
static void record_known(unsigned ncpus, const char *items, struct trace_counts *c)
{
	struct trace_opts o;
	struct trace *t;
	char err[256], spec[256];

	snprintf(path, sizeof(path), "/tmp/kvmini-unit-trace.%d", (int)getpid());
	snprintf(spec, sizeof(spec), "%s%s", path, items);
	ck_assert_int_eq(trace__parse_opts(spec, &o, err, sizeof(err)), 0);
	fake_vm(ncpus);
	ck_assert_msg(trace__open(&t, &o, &fvm, 1, err, sizeof(err)) == 0, "%s", err);
	for (unsigned v = 0; v < ncpus; v++) {
		struct vcpu *vc = &fvm.vcpus[v];
		if (!vc->trace)
			continue;
		for (unsigned i = 0; i < 1000; i++) {	/* 3000 < TRACE_RING: nothing dropped */
			fake_io(vc, 0x3f8, true, 1, i & 0xff);
			trace__record(vc, 1000 + i * 100, 10);
			fake_mmio(vc, 0xd0000010, false, 4, v);
			trace__record(vc, 1000 + i * 100 + 20, 20);
			fake_io(vc, 0x99, false, 1, 0xff);
			trace__record(vc, 1000 + i * 100 + 50, 5);
		}
		vc->run->exit_reason = KVM_EXIT_INTR;
		trace__record(vc, 200000, 1);
	}
	ck_assert_int_eq(trace__close(t, NULL, false, c), 0);
	for (unsigned v = 0; v < ncpus; v++)
		ck_assert_ptr_null(fvm.vcpus[v].trace);
	fake_vm_free();
}

START_TEST(recorder_round_trip)
{
	struct trace_counts c;
	struct trace_data d;
	char err[256];

	record_known(2, "", &c);
	ck_assert_uint_eq(c.written, 2 * 3001);
	ck_assert_uint_eq(c.dropped_limit + c.dropped_behind, 0);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), 0);
	ck_assert(d.complete);
	ck_assert_uint_eq(d.n, 6002);
	ck_assert_uint_eq(d.h.vcpus, 2);
	ck_assert_uint_eq(d.h.ndevs, 3);
	ck_assert_str_eq(d.dev_names[0], "serial");
	ck_assert_str_eq(d.dev_names[1], "a-device-name-longer-tha");	/* 24 bytes kept */
	ck_assert_str_eq(d.dev_names[2], "virtio-mmio");
	unsigned per[2] = { 0 }, unhandled = 0;
	uint64_t last[2] = { 0 };
	for (uint64_t i = 0; i < d.n; i++) {
		const struct trace_rec *r = &d.recs[i];
		ck_assert_uint_lt(r->vcpu, 2);
		ck_assert_uint_ge(r->t_ns, last[r->vcpu]);	/* each vCPU's records in order */
		last[r->vcpu] = r->t_ns;
		unsigned k = per[r->vcpu]++;
		if (k == 3000) {
			ck_assert_uint_eq(r->reason, KVM_EXIT_INTR);
			ck_assert_uint_eq(r->bus, TRACE_BUS_NONE);
			ck_assert_uint_eq(r->t_ns, 200000 - 1);
			continue;
		}
		switch (k % 3) {
		case 0:
			ck_assert(r->reason == KVM_EXIT_IO && r->addr == 0x3f8 && r->size == 1);
			ck_assert(r->flags == TRACE_R_WRITE && r->value == ((k / 3) & 0xff));
			ck_assert_uint_eq(r->handle_ns, 10);
			ck_assert_uint_eq(r->t_ns, 1000 + (k / 3) * 100 - 1);	/* launch was at 1 */
			ck_assert_str_eq(d.dev_names[trace_file__device(&d, r)], "serial");
			break;
		case 1:
			ck_assert(r->reason == KVM_EXIT_MMIO && r->addr == 0xd0000010 && r->size == 4);
			ck_assert(r->flags == 0 && r->value == r->vcpu);
			ck_assert_str_eq(d.dev_names[trace_file__device(&d, r)], "virtio-mmio");
			break;
		case 2:
			ck_assert(r->addr == 0x99 && r->flags == TRACE_R_UNHANDLED && r->value == 0xff);
			ck_assert_int_eq(trace_file__device(&d, r), -1);
			unhandled++;
			break;
		}
	}
	ck_assert_uint_eq(per[0], 3001);
	ck_assert_uint_eq(per[1], 3001);
	ck_assert_uint_eq(unhandled, 2000);
	trace_file__free(&d);

	/* vcpu=1: vCPU 0 gets no ring at all; the limit counts drops */
	record_known(2, ",vcpu=1,max=8K", &c);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), 0);
	uint64_t fit = (8192 - d.h.recs_offset) / sizeof(struct trace_rec);
	ck_assert_uint_eq(d.n, fit);
	ck_assert_uint_eq(c.written, fit);
	ck_assert_uint_eq(c.dropped_limit, 3001 - fit);
	ck_assert_uint_eq(d.h.dropped, 3001 - fit);
	for (uint64_t i = 0; i < d.n; i++)
		ck_assert_uint_eq(d.recs[i].vcpu, 1);
	trace_file__free(&d);
	unlink(path);
}
END_TEST

/* ---- malformed files ---- */

static uint8_t *good_image(size_t *len, unsigned nrec)
{
	size_t plen;
	struct bus pio;

	bus__init(&pio, "pio");
	ck_assert_int_eq(bus__register(&pio, 0x3f8, 8, &uart_ops, NULL), 0);
	uint8_t *pro = trace_file__prologue(2, &pio, NULL, 123, &plen);
	bus__free(&pio);
	ck_assert_ptr_nonnull(pro);
	uint8_t *img = calloc(1, plen + nrec * sizeof(struct trace_rec));
	memcpy(img, pro, plen);
	free(pro);
	for (unsigned i = 0; i < nrec; i++) {
		struct trace_rec r = { .t_ns = i, .reason = KVM_EXIT_IO, .bus = TRACE_BUS_PIO,
				       .addr = 0x3f8, .size = 1, .vcpu = i & 1, .count = 1 };
		memcpy(img + plen + i * sizeof(r), &r, sizeof(r));
	}
	struct trace_header *h = (struct trace_header *)img;
	h->nrecords = nrec;
	h->flags = TRACE_F_COMPLETE;
	*len = plen + nrec * sizeof(struct trace_rec);
	return img;
}

static void expect_bad(const void *img, size_t len, const char *needle)
{
	struct trace_data d;
	char err[256] = "";

	ck_assert_msg(trace_file__parse(img, len, &d, err, sizeof(err)) == -1, "accepted (%s)", needle);
	ck_assert_msg(strstr(err, needle), "'%s' lacks '%s'", err, needle);
	ck_assert_ptr_null(d.recs);
}

START_TEST(malformed_files)
{
	size_t len;
	uint8_t *img = good_image(&len, 10), *bad = malloc(len + 64);
	struct trace_header *h = (struct trace_header *)bad;
	struct trace_data d;
	char err[256];

	ck_assert_int_eq(trace_file__parse(img, len, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 10);
	ck_assert_uint_eq(d.h.launch_realtime_ns, 123);
	trace_file__free(&d);

#define RESET() memcpy(bad, img, len)
	RESET(); memcpy(bad, "NOTATRCE", 8);
	expect_bad(bad, len, "bad magic");
	expect_bad("KVMI", 4, "truncated header");
	expect_bad("hello", 5, "bad magic");
	RESET();
	expect_bad(bad, 12, "truncated header");
	expect_bad(bad, 40, "truncated header");
	RESET(); h->version = 2;
	expect_bad(bad, len, "unsupported trace version 2");
	RESET(); h->record_size = 48;
	expect_bad(bad, len, "record size 48 does not match");
	RESET(); h->dev_size = 8;
	expect_bad(bad, len, "device entry size 8");
	RESET(); h->vcpus = 0;
	expect_bad(bad, len, "bad vCPU count 0");
	RESET(); h->ndevs = 1000000;
	expect_bad(bad, len, "truncated device table");
	RESET(); h->devs_offset = ~0ULL;
	expect_bad(bad, len, "truncated device table");
	RESET(); h->recs_offset = 8;
	expect_bad(bad, len, "bad record offset");
	RESET(); h->recs_offset = ~0ULL;
	expect_bad(bad, len, "bad record offset");
	RESET(); h->header_size = 4;
	expect_bad(bad, len, "bad header size");
	RESET();
	expect_bad(bad, len - 1, "truncated: 39 bytes after the last whole record");
	expect_bad(bad, len - sizeof(struct trace_rec), "header says 10 records, the file holds 9");
	RESET(); h->flags = 0;	/* not closed: whatever whole records are there count */
	ck_assert_int_eq(trace_file__parse(bad, len - sizeof(struct trace_rec), &d, err,
					   sizeof(err)), 0);
	ck_assert(!d.complete);
	ck_assert_uint_eq(d.n, 9);
	trace_file__free(&d);
	RESET(); ((struct trace_dev *)(bad + h->devs_offset))->bus = 7;
	expect_bad(bad, len, "device 0: bad bus or range");
	RESET(); ((struct trace_rec *)(bad + h->recs_offset))[3].vcpu = 2;
	expect_bad(bad, len, "record 3: vCPU 2, but the trace has 2");
	RESET(); ((struct trace_rec *)(bad + h->recs_offset))[4].size = 9;
	expect_bad(bad, len, "record 4: bad bus 1 or size 9");
	/* garbage of every length never crashes the parser */
	for (size_t n = 0; n < len; n += 7) {
		RESET();
		for (size_t i = n; i < len; i++)
			bad[i] = (uint8_t)(i * 131 + n);
		if (trace_file__parse(bad, len, &d, err, sizeof(err)) == 0)
			trace_file__free(&d);
	}
	/* through the file loader */
	snprintf(path, sizeof(path), "/tmp/kvmini-unit-bad.%d", (int)getpid());
	FILE *f = fopen(path, "w");
	fclose(f);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty file");
	unlink(path);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "No such file or directory");
	ck_assert_int_eq(trace_file__load("/tmp", &d, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "not a regular file");
	free(bad);
	free(img);
}
END_TEST

/* ---- the summary and the Chrome export of a recorded trace ---- */

static char *capture(void (*fn)(FILE *, const struct trace_data *), const struct trace_data *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, d);
	fclose(f);
	return buf;
}

static void summary(FILE *f, const struct trace_data *d)
{
	exits__summary(f, d, "t.bin");
}

static void chrome(FILE *f, const struct trace_data *d)
{
	ck_assert_int_eq(exits__chrome(f, d, "t.bin"), 0);
}

/* Runs of spaces to one, so checks do not depend on column widths. */
static void squeeze(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++)
		if (!(*r == ' ' && w > s && w[-1] == ' '))
			*w++ = *r;
	*w = '\0';
}

static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

START_TEST(summary_of_recorded_trace)
{
	struct trace_counts c;
	struct trace_data d;
	char err[256];

	record_known(2, "", &c);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), 0);
	char *s = capture(summary, &d);
	squeeze(s);
	ck_assert_msg(strstr(s, "t.bin: 6002 exits from 2 vCPUs"), "%s", s);
	ck_assert_msg(strstr(s, "records: 6002 written, 0 dropped"), "%s", s);
	/* by reason: 4000 IO (10 ns and 5 ns each), 2000 MMIO (20 ns), 2 INTR */
	ck_assert_msg(strstr(s, "KVM_EXIT_IO 4000 66.6%"), "%s", s);
	ck_assert_msg(strstr(s, "KVM_EXIT_MMIO 2000 33.3%"), "%s", s);
	ck_assert_msg(strstr(s, "KVM_EXIT_INTR 2 0.0%"), "%s", s);
	ck_assert_msg(strstr(s, "by vCPU: vCPU 0: 3001, vCPU 1: 3001"), "%s", s);
	/* talkers: the three addresses, 2000 each, with mean handling time */
	ck_assert_msg(strstr(s, "pio 0x3f8 serial 2000 0 2000 20.0 10"), "%s", s);
	ck_assert_msg(strstr(s, "mmio 0xd0000010 virtio-mmio 2000 2000 0 40.0 20"), "%s", s);
	ck_assert_msg(strstr(s, "pio 0x99 (none) 2000 2000"), "%s", s);
	/* per device, with the unclaimed port under "(no device)" */
	ck_assert_msg(strstr(s, "serial pio 0x3f8-0x3ff"), "%s", s);
	ck_assert_msg(strstr(s, "virtio-mmio mmio 0xd0000000-0xd0000fff"), "%s", s);
	ck_assert_msg(strstr(s, "(no device) pio -"), "%s", s);
	ck_assert_msg(strstr(s, "timeline (exits per"), "%s", s);
	ck_assert_uint_eq(count_of(s, " ms "), 2 + EXITS_BUCKETS);	/* the first line has 2 */
	free(s);

	char *j = capture(chrome, &d);
	ck_assert_uint_eq(count_of(j, "\"ph\":\"X\""), 6002);
	ck_assert_uint_eq(count_of(j, "\"name\":\"thread_name\""), 2);
	ck_assert_uint_eq(count_of(j, "\"unhandled\":true"), 2000);
	ck_assert_msg(strstr(j, "{\"name\":\"serial write 0x3f8\",\"cat\":\"KVM_EXIT_IO\",\"ph\":\"X\","
			     "\"pid\":1,\"tid\":0,\"ts\":0.999,\"dur\":0.010,\"args\":{\"reason\":"
			     "\"KVM_EXIT_IO\",\"bus\":\"pio\",\"addr\":\"0x3f8\",\"size\":1,\"dir\":"
			     "\"write\",\"value\":\"0x0\",\"count\":1,\"device\":\"serial\","
			     "\"handle_ns\":10}}"), "%.600s", j);
	/* a JSON checker, where the machine has one */
	if (system("command -v python3 >/dev/null 2>&1") == 0) {
		char jpath[80], cmd[200];
		snprintf(jpath, sizeof(jpath), "%s.json", path);
		FILE *f = fopen(jpath, "w");
		fputs(j, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "python3 -m json.tool %s >/dev/null", jpath);
		ck_assert_int_eq(system(cmd), 0);
		unlink(jpath);
	}
	free(j);
	trace_file__free(&d);

	/* an empty trace: a header line, nothing else */
	record_known(1, ",reason=hlt", &c);
	ck_assert_int_eq(trace_file__load(path, &d, err, sizeof(err)), 0);
	s = capture(summary, &d);
	squeeze(s);
	ck_assert_msg(strstr(s, "t.bin: 0 exits from 1 vCPU"), "%s", s);
	ck_assert_ptr_null(strstr(s, "by exit reason"));
	free(s);
	trace_file__free(&d);
	unlink(path);
}
END_TEST

START_TEST(cli_options)
{
	struct run_config cfg;
	char err[256];
	char *a1[] = { "run", "--trace-exits", "/tmp/t,reason=io", "--strict", NULL };
	char *a2[] = { "run", "--trace-exits", "/tmp/t,vcpu=1", NULL };
	char *a3[] = { "run", "-c", "2", "--trace-exits", "/tmp/t,vcpu=1", NULL };
	char *a4[] = { "run", "--trace-exits", NULL };

	ck_assert_int_eq(cli__parse_run(1, a1, &cfg, err, sizeof(err)), 0);
	ck_assert(!cfg.trace && !cfg.strict);
	ck_assert_int_eq(cli__parse_run(4, a1, &cfg, err, sizeof(err)), 0);
	ck_assert(cfg.trace && cfg.strict);
	ck_assert_str_eq(cfg.trace_opts.path, "/tmp/t");
	ck_assert(cfg.trace_opts.filter.has_reason);
	ck_assert_int_eq(cli__parse_run(3, a2, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--trace-exits: vcpu=1, but there is only 1 vCPU");
	ck_assert_int_eq(cli__parse_run(5, a3, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.trace_opts.filter.vcpu, 1);
	ck_assert_int_eq(cli__parse_run(2, a4, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "needs a value"), "%s", err);
}
END_TEST

START_TEST(lastexits_ring)
{
	static _Alignas(4096) uint8_t page[3 * 4096];
	struct kvm_run *run = (struct kvm_run *)page;
	struct lastexits l;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&l, 0, sizeof(l));
	lastexits__print(f, &l);
	fflush(f);
	ck_assert_str_eq(buf, "  last exits: none before this one\n");
	/* 20 exits: the ring keeps the newest 16 (#4..#19) */
	for (unsigned i = 0; i < 20; i++) {
		memset(page, 0, sizeof(page));
		if (i == 18) {
			run->exit_reason = KVM_EXIT_INTR;
		} else if (i == 19) {	/* rep outsw: 3 words, the first one is the value */
			run->exit_reason = KVM_EXIT_IO;
			run->io = (typeof(run->io)){ .direction = KVM_EXIT_IO_OUT, .size = 2,
						     .port = 0x1f0, .count = 3, .data_offset = 4096 };
			page[4096] = 0x34;
			page[4097] = 0x12;
		} else {
			run->exit_reason = KVM_EXIT_MMIO;
			run->mmio.phys_addr = 0xfee00000 + i;
			run->mmio.len = 4;
			run->mmio.data[0] = (uint8_t)i;
		}
		lastexits__add(&l, run, sizeof(page));
	}
	/* a bad size or data offset decodes to size 0, never a read outside the page */
	run->exit_reason = KVM_EXIT_IO;
	run->io = (typeof(run->io)){ .size = 4, .port = 0x60, .count = 1,
				     .data_offset = sizeof(page) - 2 };
	struct exit_access a;
	exit__decode(run, sizeof(page), &a);
	ck_assert(a.bus == TRACE_BUS_PIO && a.size == 0 && a.value == 0 && a.addr == 0x60);
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.len = 16;
	exit__decode(run, sizeof(page), &a);
	ck_assert(a.bus == TRACE_BUS_MMIO && a.size == 0);

	rewind(f);
	lastexits__print(f, &l);
	fclose(f);
	ck_assert_msg(strstr(buf, "last 16 exits before this one"), "%s", buf);
	ck_assert_msg(!strstr(buf, "#3 "), "%s", buf);
	ck_assert_msg(strstr(buf, "#4 "), "%s", buf);
	ck_assert_msg(strstr(buf, "mmio read  0xfee00004   size 4 value 0x00000004"), "%s", buf);
	ck_assert_msg(strstr(buf, "KVM_EXIT_INTR\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "pio  write 0x1f0        size 2 value 0x1234 x3 (rep)"), "%s", buf);
	ck_assert_msg(strstr(buf, " us ago "), "%s", buf);
	free(buf);
}
END_TEST

Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace-exits");
	tcase_set_timeout(tc, 30);	/* the summary + chrome export take ~5 s under ASan */
	tcase_add_test(tc, opts_parse);
	tcase_add_test(tc, filter_match);
	tcase_add_test(tc, recorder_round_trip);
	tcase_add_test(tc, malformed_files);
	tcase_add_test(tc, summary_of_recorded_trace);
	tcase_add_test(tc, cli_options);
	tcase_add_test(tc, lastexits_ring);
	suite_add_tcase(s, tc);
	return s;
}
