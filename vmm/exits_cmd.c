/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini exits`: the trace summary (reasons, top talkers, devices, timeline) and Chrome JSON export. */
#include "vmm/exits_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/exit_names.h"
#include "vmm/json.h"

static const char *bus_name(unsigned bus)
{
	return bus == TRACE_BUS_PIO ? "pio" : bus == TRACE_BUS_MMIO ? "mmio" : "-";
}

static const char *reason_name(unsigned reason, char *buf, size_t len)
{
	const char *n = exit__name(reason);

	if (strcmp(n, "UNKNOWN") || reason == 0)
		return n;
	snprintf(buf, len, "reason %u", reason);
	return buf;
}

static const char *dev_name(const struct trace_data *d, int dev)
{
	return dev >= 0 ? d->dev_names[dev] : "(none)";
}

/* ---- aggregation ---- */

struct agg {
	uint64_t count, reads, writes, unhandled, ns, max_ns;
};

static void agg_add(struct agg *a, const struct trace_rec *r)
{
	a->count++;
	if (r->bus) {
		a->reads += !(r->flags & TRACE_R_WRITE);
		a->writes += !!(r->flags & TRACE_R_WRITE);
		a->unhandled += !!(r->flags & TRACE_R_UNHANDLED);
	}
	a->ns += r->handle_ns;
	if (r->handle_ns > a->max_ns)
		a->max_ns = r->handle_ns;
}

struct site {
	uint64_t addr;
	uint8_t bus;
	struct agg a;
};

static int site_addr_cmp(const void *x, const void *y)
{
	const struct site *a = x, *b = y;

	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int site_count_cmp(const void *x, const void *y)
{
	const struct site *a = x, *b = y;

	if (a->a.count != b->a.count)
		return a->a.count < b->a.count ? 1 : -1;
	return site_addr_cmp(x, y);
}

/* Distinct (bus, address) pairs with their totals, busiest first; *n of them. NULL if none
 * (or out of memory: *n is then 0 too). */
static struct site *talkers(const struct trace_data *d, size_t *n)
{
	size_t m = 0, k = 0;
	struct site *s;

	for (uint64_t i = 0; i < d->n; i++)
		m += d->recs[i].bus != TRACE_BUS_NONE;
	*n = 0;
	if (!m || !(s = calloc(m, sizeof(*s))))
		return NULL;
	for (uint64_t i = 0; i < d->n; i++) {
		const struct trace_rec *r = &d->recs[i];
		if (r->bus == TRACE_BUS_NONE)
			continue;
		s[k].addr = r->addr;
		s[k].bus = r->bus;
		agg_add(&s[k].a, r);
		k++;
	}
	qsort(s, m, sizeof(*s), site_addr_cmp);
	k = 0;
	for (size_t i = 0; i < m; i++) {	/* merge runs of one address */
		if (k && s[k - 1].bus == s[i].bus && s[k - 1].addr == s[i].addr) {
			struct agg *a = &s[k - 1].a;
			a->count += s[i].a.count;
			a->reads += s[i].a.reads;
			a->writes += s[i].a.writes;
			a->unhandled += s[i].a.unhandled;
			a->ns += s[i].a.ns;
			if (s[i].a.max_ns > a->max_ns)
				a->max_ns = s[i].a.max_ns;
		} else {
			s[k++] = s[i];
		}
	}
	qsort(s, k, sizeof(*s), site_count_cmp);
	*n = k;
	return s;
}

static double mean(const struct agg *a)
{
	return a->count ? (double)a->ns / (double)a->count : 0;
}

/* ---- the summary ---- */

static void print_header(FILE *f, const struct trace_data *d, const char *name, uint64_t t0,
			 uint64_t t1)
{
	char when[64] = "?";
	time_t secs = (time_t)(d->h.launch_realtime_ns / 1000000000ULL);
	struct tm tm;

	if (d->h.launch_realtime_ns && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "%s: %" PRIu64 " exits from %u vCPU%s, %.3f ms to %.3f ms after launch "
		"(kvmini launched %s)\n", name, d->n, d->h.vcpus, d->h.vcpus == 1 ? "" : "s",
		(double)t0 / 1e6, (double)t1 / 1e6, when);
	if (d->complete)
		fprintf(f, "records: %" PRIu64 " written, %" PRIu64 " dropped%s\n", d->n,
			d->h.dropped, d->h.dropped ? " (size limit reached or the writer fell behind)"
			: "");
	else
		fprintf(f, "records: %" PRIu64 " (the trace was not closed: kvmini did not exit "
			"normally; drop count unknown)\n", d->n);
}

static void print_reasons(FILE *f, const struct trace_data *d)
{
	struct agg *by = calloc(0x10000, sizeof(*by));
	char buf[32];

	if (!by)
		return;
	for (uint64_t i = 0; i < d->n; i++)
		agg_add(&by[d->recs[i].reason], &d->recs[i]);
	fprintf(f, "\nby exit reason:\n  %-24s %10s %7s %12s %10s %10s\n", "reason", "count", "%",
		"total us", "mean ns", "max ns");
	for (unsigned r = 0; r < 0x10000; r++) {
		if (!by[r].count)
			continue;
		fprintf(f, "  %-24s %10" PRIu64 " %6.1f%% %12.1f %10.0f %10" PRIu64 "\n",
			reason_name(r, buf, sizeof(buf)), by[r].count,
			100.0 * (double)by[r].count / (double)d->n, (double)by[r].ns / 1e3,
			mean(&by[r]), by[r].max_ns);
	}
	free(by);
}

static void print_vcpus(FILE *f, const struct trace_data *d)
{
	uint64_t *per = calloc(d->h.vcpus, sizeof(*per));

	if (!per)
		return;
	for (uint64_t i = 0; i < d->n; i++)
		per[d->recs[i].vcpu]++;
	fprintf(f, "\nby vCPU:");
	for (unsigned v = 0; v < d->h.vcpus; v++)
		fprintf(f, "%s vCPU %u: %" PRIu64, v ? "," : "", v, per[v]);
	fputc('\n', f);
	free(per);
}

static void print_talkers(FILE *f, const struct trace_data *d)
{
	size_t n;
	struct site *s = talkers(d, &n);

	if (!n)
		return;
	fprintf(f, "\ntop talkers (ports and MMIO addresses, busiest first):\n"
		"  %-4s %-18s %-20s %10s %8s %8s %12s %9s\n", "bus", "port/address", "device",
		"count", "reads", "writes", "total us", "mean ns");
	for (size_t i = 0; i < n && i < EXITS_TOP; i++) {
		struct trace_rec probe = { .bus = s[i].bus, .addr = s[i].addr };
		char addr[24];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, s[i].addr);
		fprintf(f, "  %-4s %-18s %-20s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12.1f %9.0f\n",
			bus_name(s[i].bus), addr, dev_name(d, trace_file__device(d, &probe)),
			s[i].a.count, s[i].a.reads, s[i].a.writes, (double)s[i].a.ns / 1e3,
			mean(&s[i].a));
	}
	if (n > EXITS_TOP)
		fprintf(f, "  ... and %zu more addresses\n", n - EXITS_TOP);
	free(s);
}

struct row {
	uint32_t idx;
	uint64_t count;
};

/* busiest first, then in device-table order */
static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void print_devices(FILE *f, const struct trace_data *d)
{
	uint32_t nd = d->h.ndevs;
	struct agg *a = calloc(nd + 2, sizeof(*a));	/* + no device on pio, on mmio */
	bool any = false;

	if (!a)
		return;
	for (uint64_t i = 0; i < d->n; i++) {
		const struct trace_rec *r = &d->recs[i];
		if (r->bus == TRACE_BUS_NONE)
			continue;
		int dev = trace_file__device(d, r);
		agg_add(&a[dev >= 0 ? (uint32_t)dev : nd + (r->bus == TRACE_BUS_MMIO)], r);
		any = true;
	}
	if (!any) {
		free(a);
		return;
	}
	struct row *order = malloc((nd + 2) * sizeof(*order));
	if (!order) {
		free(a);
		return;
	}
	for (uint32_t i = 0; i < nd + 2; i++)
		order[i] = (struct row){ .idx = i, .count = a[i].count };
	qsort(order, nd + 2, sizeof(*order), row_cmp);
	fprintf(f, "\nper device (busiest first):\n  %-20s %-4s %-25s %10s %8s %8s %12s %9s %9s\n",
		"device", "bus", "range", "count", "reads", "writes", "total us", "mean ns", "max ns");
	for (uint32_t k = 0; k < nd + 2; k++) {
		uint32_t i = order[k].idx;
		char range[48] = "-";
		unsigned bus = i < nd ? d->devs[i].bus : i == nd ? TRACE_BUS_PIO : TRACE_BUS_MMIO;
		if (!a[i].count)
			continue;
		if (i < nd)
			snprintf(range, sizeof(range), "0x%" PRIx64 "-0x%" PRIx64, d->devs[i].base,
				 d->devs[i].base + d->devs[i].len - 1);
		fprintf(f, "  %-20s %-4s %-25s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12.1f %9.0f %9"
			PRIu64 "\n", i < nd ? d->dev_names[i] : "(no device)", bus_name(bus), range,
			a[i].count, a[i].reads, a[i].writes, (double)a[i].ns / 1e3, mean(&a[i]),
			a[i].max_ns);
	}
	free(order);
	free(a);
}

static void print_timeline(FILE *f, const struct trace_data *d, uint64_t t0, uint64_t t1)
{
	uint64_t b[EXITS_BUCKETS] = { 0 }, top = 0;
	uint64_t width = (t1 - t0) / EXITS_BUCKETS + 1;

	for (uint64_t i = 0; i < d->n; i++) {
		uint64_t k = (d->recs[i].t_ns - t0) / width;
		b[k < EXITS_BUCKETS ? k : EXITS_BUCKETS - 1]++;
	}
	for (unsigned k = 0; k < EXITS_BUCKETS; k++)
		top = b[k] > top ? b[k] : top;
	fprintf(f, "\ntimeline (exits per %.3f ms, from launch):\n", (double)width / 1e6);
	for (unsigned k = 0; k < EXITS_BUCKETS; k++) {
		int bar = top ? (int)((b[k] * 50 + top - 1) / top) : 0;
		fprintf(f, "  %12.3f ms %10" PRIu64 " %.*s\n", (double)(t0 + k * width) / 1e6, b[k], bar,
			"##################################################");
	}
}

static void time_range(const struct trace_data *d, uint64_t *t0, uint64_t *t1)
{
	*t0 = d->n ? UINT64_MAX : 0;
	*t1 = 0;
	for (uint64_t i = 0; i < d->n; i++) {
		uint64_t t = d->recs[i].t_ns;
		*t0 = t < *t0 ? t : *t0;
		*t1 = t > *t1 ? t : *t1;
	}
}

void exits__summary(FILE *f, const struct trace_data *d, const char *name)
{
	uint64_t t0, t1;

	time_range(d, &t0, &t1);
	print_header(f, d, name, t0, t1);
	if (!d->n)
		return;
	print_reasons(f, d);
	if (d->h.vcpus > 1)
		print_vcpus(f, d);
	print_talkers(f, d);
	print_devices(f, d);
	print_timeline(f, d, t0, t1);
}

/* ---- Chrome trace-event JSON (json-c, vmm/json.c; one event a line, streamed) ---- */

/* microseconds with ns precision, as the format wants: written exactly as "12.345" */
static json_object *json_us(uint64_t ns)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
	return json__number_text((double)ns / 1000.0, s);
}

static json_object *meta_event(const char *what, unsigned tid, const char *name)
{
	json_object *o = json__obj(), *args = json__obj();

	json__add(o, "name", json__string(what, true));
	json__add(o, "ph", json__string("M", true));
	json__add(o, "pid", json__u64(1));
	json__add(o, "tid", json__u64(tid));
	json__add(args, "name", json__string(name, true));
	json__add(o, "args", args);
	return o;
}

static json_object *exit_event(const struct trace_data *d, const struct trace_rec *r)
{
	char buf[32], title[96];
	const char *reason = reason_name(r->reason, buf, sizeof(buf));
	bool write = r->flags & TRACE_R_WRITE;
	json_object *o = json__obj(), *args = json__obj();

	if (r->bus)
		snprintf(title, sizeof(title), "%s %s 0x%" PRIx64, dev_name(d,
			 trace_file__device(d, r)), write ? "write" : "read", r->addr);
	else
		snprintf(title, sizeof(title), "%s", reason);
	json__add(o, "name", json__string(title, true));
	json__add(o, "cat", json__string(reason, true));
	json__add(o, "ph", json__string("X", true));
	json__add(o, "pid", json__u64(1));
	json__add(o, "tid", json__u64(r->vcpu));
	json__add(o, "ts", json_us(r->t_ns));
	json__add(o, "dur", json_us(r->handle_ns));
	json__add(args, "reason", json__string(reason, true));
	if (r->bus) {
		json__add(args, "bus", json__string(bus_name(r->bus), true));
		json__add(args, "addr", json__hex(r->addr));
		json__add(args, "size", json__u64(r->size));
		json__add(args, "dir", json__string(write ? "write" : "read", true));
		json__add(args, "value", json__hex(r->value));
		json__add(args, "count", json__u64(r->count));
		json__add(args, "device", json__string(dev_name(d, trace_file__device(d, r)), true));
		if (r->flags & TRACE_R_UNHANDLED)
			json__add(args, "unhandled", json__bool(true));
	}
	json__add(args, "handle_ns", json__u64(r->handle_ns));
	json__add(o, "args", args);
	return o;
}

int exits__chrome(FILE *f, const struct trace_data *d, const char *name)
{
	json_object *other = json__obj();
	char thread[32];
	int bad;

	json__add(other, "source", json__string(name, true));
	json__add(other, "vcpus", json__u64(d->h.vcpus));
	json__add(other, "dropped", json__u64(d->h.dropped));
	bad = json__emit(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":", other);
	bad |= json__emit(f, ",\"traceEvents\":[\n", meta_event("process_name", 0, "kvmini"));
	for (unsigned v = 0; v < d->h.vcpus && !bad; v++) {
		snprintf(thread, sizeof(thread), "vCPU %u", v);
		bad |= json__emit(f, ",\n", meta_event("thread_name", v, thread));
	}
	for (uint64_t i = 0; i < d->n && !bad; i++)
		bad |= json__emit(f, ",\n", exit_event(d, &d->recs[i]));
	if (bad) {
		errno = ENOMEM;	/* a JSON value could not be made: the export is incomplete */
		return -1;
	}
	fprintf(f, "\n]}\n");
	return ferror(f) ? -1 : 0;
}

/* ---- the command ---- */

static void usage(FILE *f)
{
	fprintf(f, "usage: kvmini exits [--chrome OUT.json | --format=text|chrome] FILE\n"
		"  summarise a trace written by `kvmini run --trace-exits FILE`: exits by reason,\n"
		"  the busiest ports/addresses, each device, and a timeline; --chrome OUT.json (or\n"
		"  --format=chrome, to stdout) exports Chrome trace-event JSON for Perfetto or\n"
		"  chrome://tracing\n");
}

int exits__main(int argc, char **argv)
{
	const char *file = NULL, *chrome = NULL;
	bool to_stdout_json = false;
	struct trace_data d;
	char err[256];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--chrome") || !strncmp(a, "--chrome=", 9)) {
			chrome = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!chrome || !*chrome) {
				fprintf(stderr, "kvmini: error: exits: --chrome needs an output file\n");
				return 2;
			}
		} else if (!strcmp(a, "--format=text")) {
			to_stdout_json = false;
		} else if (!strcmp(a, "--format=chrome")) {
			to_stdout_json = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "kvmini: error: exits: unknown option '%s' (see kvmini exits "
				"--help)\n", a);
			return 2;
		} else if (file) {
			fprintf(stderr, "kvmini: error: exits: unexpected argument '%s' (one trace "
				"file)\n", a);
			return 2;
		} else {
			file = a;
		}
	}
	if (!file) {
		fprintf(stderr, "kvmini: error: exits: no trace file (usage: kvmini exits "
			"[--chrome OUT.json] FILE)\n");
		return 2;
	}
	if (trace_file__load(file, &d, err, sizeof(err))) {
		fprintf(stderr, "kvmini: error: %s: %s\n", file, err);
		return 2;
	}
	int status = 0;
	if (chrome) {
		FILE *f = fopen(chrome, "we");
		if (!f || exits__chrome(f, &d, file) || fclose(f)) {
			fprintf(stderr, "kvmini: error: %s: %s\n", chrome, strerror(errno));
			status = 1;
		} else {
			printf("%s: %" PRIu64 " exits written as Chrome trace events to %s\n", file, d.n,
			       chrome);
		}
	} else if (to_stdout_json) {
		if (exits__chrome(stdout, &d, file) || fflush(stdout)) {
			fprintf(stderr, "kvmini: error: writing the JSON: %s\n", strerror(errno));
			status = 1;
		}
	} else {
		exits__summary(stdout, &d, file);
	}
	trace_file__free(&d);
	return status;
}
