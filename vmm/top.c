/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini top`'s pure half: the API's JSON into snapshots, rates between two, the screen as lines of at most 80 columns. */
#include "vmm/top.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

static json_object *parse(const char *body, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)n) : NULL;

	if (tok)
		json_tokener_free(tok);
	return o;
}

uint64_t top__ju64(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static void jcopy(char *dst, size_t len, json_object *o, const char *key, const char *dflt)
{
	json_object *v;
	const char *s = o && json_object_object_get_ex(o, key, &v) &&
			json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;

	snprintf(dst, len, "%s", s);
}

static int vcpu_cmp(const void *a, const void *b)
{
	const struct top_vcpu *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int top__parse_counters(struct top_snap *s, const char *body, size_t n)
{
	json_object *o = parse(body, n);

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	s->nvcpu = s->ndisk = s->nnet = 0;
	s->vsock.on = false;
	json_object_object_foreach(o, key, v) {
		if (!strncmp(key, "_net", 4) || !strcmp(key, "_vsock0"))
			top__net_parse(s, key, v);
		if (!strncmp(key, "_vcpu", 5) && s->nvcpu < MAX_CPUS) {
			struct top_vcpu *c = &s->vcpu[s->nvcpu++];
			c->id = (unsigned)strtoul(key + 5, NULL, 10);
			c->exits = top__ju64(v, "exits");
			c->io = top__ju64(v, "io_exits");
			c->mmio = top__ju64(v, "mmio_exits");
		} else if (!strncmp(key, "_disk", 5) && s->ndisk < MAX_DISKS) {
			struct top_disk *d = &s->disk[s->ndisk++];
			snprintf(d->id, sizeof(d->id), "%s", key);
			d->path[0] = '\0';
			d->rd_bytes = top__ju64(v, "read_bytes");
			d->wr_bytes = top__ju64(v, "write_bytes");
			d->rd_ops = top__ju64(v, "read_ops");
			d->wr_ops = top__ju64(v, "write_ops");
			d->inflight = top__ju64(v, "in_flight");
			d->kicks = top__ju64(v, "kicks");
			d->irqs = top__ju64(v, "interrupts");
		}
	}
	qsort(s->vcpu, s->nvcpu, sizeof(s->vcpu[0]), vcpu_cmp);
	json_object_put(o);
	return 0;
}

int top__parse_info(struct top_snap *s, const char *body, size_t n)
{
	json_object *o = parse(body, n), *c, *d;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	jcopy(s->state, sizeof(s->state), o, "state", "?");
	/* the disks' paths, by id, for the disk lines */
	if (json_object_object_get_ex(o, "config", &c) && json_object_object_get_ex(c, "disks", &d) &&
	    json_object_is_type(d, json_type_array))
		for (size_t i = 0; i < json_object_array_length(d); i++) {
			json_object *x = json_object_array_get_idx(d, i);
			char id[16];
			jcopy(id, sizeof(id), x, "id", "");
			for (unsigned k = 0; k < s->ndisk; k++)
				if (!strcmp(s->disk[k].id, id))
					jcopy(s->disk[k].path, sizeof(s->disk[k].path), x, "path", "");
		}
	json_object_put(o);
	return 0;
}

static void stats_reasons(struct top_snap *s, json_object *a)
{
	s->nreason = 0;
	for (size_t i = 0; a && i < json_object_array_length(a) && s->nreason < TOP_REASONS; i++) {
		json_object *x = json_object_array_get_idx(a, i), *lat = NULL;
		struct top_reason *r = &s->reason[s->nreason++];
		jcopy(r->name, sizeof(r->name), x, "reason", "?");
		json_object_object_get_ex(x, "latency_ns", &lat);
		r->count = top__ju64(x, "count");
		r->sum_ns = top__ju64(lat, "sum");
		r->p50 = top__ju64(lat, "p50");
		r->p99 = top__ju64(lat, "p99");
		r->max = top__ju64(lat, "max");
	}
}

static void stats_sites(struct top_snap *s, json_object *a)
{
	s->nsite = 0;
	for (size_t i = 0; a && i < json_object_array_length(a) && s->nsite < TOP_SITES; i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct top_site *t = &s->site[s->nsite++];
		jcopy(t->bus, sizeof(t->bus), x, "bus", "?");
		jcopy(t->addr, sizeof(t->addr), x, "addr", "(other)");	/* null: the rest */
		jcopy(t->dev, sizeof(t->dev), x, "device", "?");
		t->count = top__ju64(x, "count");
		t->total_ns = top__ju64(x, "total_ns");
		t->max_ns = top__ju64(x, "max_ns");
	}
}

int top__parse_stats(struct top_snap *s, const char *body, size_t n)
{
	json_object *o = parse(body, n), *total, *r = NULL, *st = NULL;

	if (!o || !json_object_object_get_ex(o, "total", &total)) {
		json_object_put(o);
		return -1;
	}
	json_object_object_get_ex(total, "reasons", &r);
	json_object_object_get_ex(total, "sites", &st);
	stats_reasons(s, json_object_is_type(r, json_type_array) ? r : NULL);
	stats_sites(s, json_object_is_type(st, json_type_array) ? st : NULL);
	s->stats = true;
	json_object_put(o);
	return 0;
}

/* a number at key, or TOP_UNKNOWN when it is null or missing */
static uint64_t ju64_or_unknown(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? (uint64_t)json_object_get_int64(v) : TOP_UNKNOWN;
}

int top__parse_memory(struct top_snap *s, const char *body, size_t n)
{
	json_object *o = parse(body, n), *ram = NULL, *vmm = NULL, *kvm = NULL, *disks = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "disks", &disks) ||
	    !json_object_is_type(disks, json_type_array)) {
		json_object_put(o);
		return -1;
	}
	json_object_object_get_ex(o, "guest_ram", &ram);
	json_object_object_get_ex(o, "vmm", &vmm);
	json_object_object_get_ex(o, "kvm", &kvm);
	s->mem = json_object_is_type(ram, json_type_object);
	if (s->mem) {
		jcopy(s->mem_pages, sizeof(s->mem_pages), ram, "pages", "?");
		s->mem_size = top__ju64(ram, "size");
		s->mem_res = top__ju64(ram, "resident");
		s->mem_huge = top__ju64(ram, "huge");
		s->vmm_res = top__ju64(vmm, "resident");
	}
	s->kvm_tables = ju64_or_unknown(kvm, "page_tables_min");
	json_object *g = NULL, *bl = NULL;
	json_object_object_get_ex(o, "guest", &g);
	json_object_object_get_ex(o, "balloon", &bl);
	s->guest = json_object_is_type(g, json_type_object);
	s->guest_total = top__ju64(g, "total");
	s->guest_free = top__ju64(g, "free");
	s->guest_cache = top__ju64(g, "page_cache");
	s->balloon = top__ju64(bl, "actual");
	s->ncache = 0;
	for (size_t i = 0; i < json_object_array_length(disks) && s->ncache < MAX_DISKS; i++)
		s->page_cache[s->ncache++] = ju64_or_unknown(json_object_array_get_idx(disks, i),
							     "page_cache");
	json_object_put(o);
	return 0;
}

double top__rate(uint64_t a, uint64_t b, double dt)
{
	return dt > 0 && b >= a ? (double)(b - a) / dt : -1;
}

void top__fit(char *dst, const char *src, unsigned cols)
{
	size_t n = strlen(src);

	if (cols > TOP_COLS)
		cols = TOP_COLS;
	if (n > cols)
		n = cols;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- the screen ---- */

struct out {
	top_line *l;
	unsigned n, rows, cols;
};

typedef struct {
	char s[24];
} num;

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (o->n >= o->rows)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	top__fit(o->l[o->n++], buf, o->cols);
}

/* a rate: "-" when not known, one decimal under 100, M and G past a million */
static num rate_s(double r)
{
	num b;

	if (r < 0)
		snprintf(b.s, sizeof(b.s), "-");
	else if (r < 100)
		snprintf(b.s, sizeof(b.s), "%.1f", r);
	else if (r < 1e6)
		snprintf(b.s, sizeof(b.s), "%.0f", r);
	else if (r < 1e9)
		snprintf(b.s, sizeof(b.s), "%.1fM", r / 1e6);
	else
		snprintf(b.s, sizeof(b.s), "%.1fG", r / 1e9);
	return b;
}

static num count_s(uint64_t v)
{
	num b;

	if (v < 100000000ULL)
		snprintf(b.s, sizeof(b.s), "%llu", (unsigned long long)v);
	else if (v < 100000000000ULL)
		snprintf(b.s, sizeof(b.s), "%.1fM", (double)v / 1e6);
	else
		snprintf(b.s, sizeof(b.s), "%.1fG", (double)v / 1e9);
	return b;
}

/* nanoseconds with a unit, "-" when not known */
static num ns_s(double ns)
{
	num b;

	if (ns < 0)
		snprintf(b.s, sizeof(b.s), "-");
	else if (ns < 1000)
		snprintf(b.s, sizeof(b.s), "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(b.s, sizeof(b.s), "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(b.s, sizeof(b.s), "%.1fms", ns / 1e6);
	else
		snprintf(b.s, sizeof(b.s), "%.1fs", ns / 1e9);
	return b;
}

/* num / den over an interval, "-" when den did not move */
static num ratio_s(uint64_t num0, uint64_t num1, uint64_t den0, uint64_t den1, bool have)
{
	num b;

	if (!have || den1 <= den0 || num1 < num0)
		snprintf(b.s, sizeof(b.s), "-");
	else
		snprintf(b.s, sizeof(b.s), "%.2f", (double)(num1 - num0) / (double)(den1 - den0));
	return b;
}

static const struct top_vcpu *find_vcpu(const struct top_snap *p, unsigned id)
{
	for (unsigned i = 0; p && i < p->nvcpu; i++)
		if (p->vcpu[i].id == id)
			return &p->vcpu[i];
	return NULL;
}

static void vcpu_lines(struct out *o, const struct top_snap *p, const struct top_snap *c,
		       double dt, unsigned cap)
{
	unsigned shown = c->nvcpu > cap ? cap - 1 : c->nvcpu;
	uint64_t r0 = 0, r1 = 0;

	put(o, "%-5s %10s %10s %10s %10s %14s", "vCPU", "exits/s", "pio/s", "mmio/s", "other/s",
	    "exits");
	for (unsigned i = 0; i < c->nvcpu; i++) {
		const struct top_vcpu *x = &c->vcpu[i], *y = find_vcpu(p, x->id);
		double d = y ? dt : 0;
		if (i >= shown) {	/* the rest, summed on one line */
			r1 += x->exits;
			r0 += y ? y->exits : x->exits;
			continue;
		}
		uint64_t o1 = x->exits - x->io - x->mmio, o0 = y ? y->exits - y->io - y->mmio : 0;
		put(o, "%-5u %10s %10s %10s %10s %14s", x->id,
		    rate_s(top__rate(y ? y->exits : 0, x->exits, d)).s,
		    rate_s(top__rate(y ? y->io : 0, x->io, d)).s,
		    rate_s(top__rate(y ? y->mmio : 0, x->mmio, d)).s,
		    rate_s(top__rate(o0, o1, d)).s, count_s(x->exits).s);
	}
	if (shown < c->nvcpu)
		put(o, "+%-4u %10s %43s (more vCPUs)", c->nvcpu - shown,
		    rate_s(top__rate(r0, r1, p ? dt : 0)).s, count_s(r1).s);
}

static const struct top_disk *find_disk(const struct top_snap *p, const char *id)
{
	for (unsigned i = 0; p && i < p->ndisk; i++)
		if (!strcmp(p->disk[i].id, id))
			return &p->disk[i];
	return NULL;
}

static num mb_s(double r)
{
	num b;

	snprintf(b.s, sizeof(b.s), r < 0 ? "-" : "%.2f", r / 1e6);
	return b;
}

static void disk_lines(struct out *o, const struct top_snap *p, const struct top_snap *c,
		       double dt, unsigned cap)
{
	if (!c->ndisk) {
		put(o, "disks: none");
		return;
	}
	put(o, "%-6s %7s %8s %8s %5s %7s %8s %7s  %s", "disk", "IOPS", "rd MB/s", "wr MB/s",
	    "infl", "kicks/s", "kicks/IO", "irqs/IO", "path");
	for (unsigned i = 0; i < c->ndisk && i < cap; i++) {
		const struct top_disk *x = &c->disk[i], *y = find_disk(p, x->id);
		struct top_disk z = { .rd_ops = 0 };
		const struct top_disk *b = y ? y : &z;
		double d = y ? dt : 0;
		uint64_t ops0 = b->rd_ops + b->wr_ops, ops1 = x->rd_ops + x->wr_ops;
		size_t pl = strlen(x->path);
		put(o, "%-6s %7s %8s %8s %5s %7s %8s %7s  %s", x->id + (x->id[0] == '_'),
		    rate_s(top__rate(ops0, ops1, d)).s, mb_s(top__rate(b->rd_bytes, x->rd_bytes, d)).s,
		    mb_s(top__rate(b->wr_bytes, x->wr_bytes, d)).s, count_s(x->inflight).s,
		    rate_s(top__rate(b->kicks, x->kicks, d)).s,
		    ratio_s(b->kicks, x->kicks, ops0, ops1, y).s,
		    ratio_s(b->irqs, x->irqs, ops0, ops1, y).s,
		    pl > 15 ? x->path + pl - 15 : x->path);	/* its end says most */
	}
	if (c->ndisk > cap)
		put(o, "+%u more disks", c->ndisk - cap);
}

/* a reason or site with its rate over the interval, for sorting */
struct ranked {
	unsigned i;
	double rate, mean;	/* exits/s and ns per exit over the interval; -1 not known */
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;	/* the report's order: busiest first */
}

static void rank(struct ranked *r, unsigned i, uint64_t c0, uint64_t c1, uint64_t ns0,
		 uint64_t ns1, bool have, double dt)
{
	r->i = i;
	r->rate = have ? top__rate(c0, c1, dt) : -1;
	r->mean = have && c1 > c0 && ns1 >= ns0 ? (double)(ns1 - ns0) / (double)(c1 - c0) : -1;
}

static void reason_lines(struct out *o, const struct top_snap *p, const struct top_snap *c,
			 double dt, unsigned cap)
{
	struct ranked r[TOP_REASONS];

	for (unsigned i = 0; i < c->nreason; i++) {
		const struct top_reason *x = &c->reason[i], *y = NULL;
		for (unsigned k = 0; p && p->stats && k < p->nreason && !y; k++)
			if (!strcmp(p->reason[k].name, x->name))
				y = &p->reason[k];
		/* a reason not seen before started from 0 */
		rank(&r[i], i, y ? y->count : 0, x->count, y ? y->sum_ns : 0, x->sum_ns,
		     p && p->stats, dt);
	}
	qsort(r, c->nreason, sizeof(r[0]), ranked_cmp);
	put(o, "%-20s %9s %10s %8s %8s %8s %8s", "exit reason", "exits/s", "exits", "ns/exit",
	    "p50", "p99", "max");
	if (!c->nreason)
		put(o, "  (no exits to kvmini yet)");
	for (unsigned k = 0; k < c->nreason && k < cap; k++) {
		const struct top_reason *x = &c->reason[r[k].i];
		put(o, "%-20.20s %9s %10s %8s %8s %8s %8s", x->name, rate_s(r[k].rate).s,
		    count_s(x->count).s, ns_s(r[k].mean).s, ns_s((double)x->p50).s,
		    ns_s((double)x->p99).s, ns_s((double)x->max).s);
	}
}

static const struct top_site *find_site(const struct top_snap *p, const struct top_site *x)
{
	for (unsigned k = 0; p && p->stats && k < p->nsite; k++)
		if (!strcmp(p->site[k].bus, x->bus) && !strcmp(p->site[k].addr, x->addr) &&
		    !strcmp(p->site[k].dev, x->dev))
			return &p->site[k];
	return NULL;
}

static void site_lines(struct out *o, const struct top_snap *p, const struct top_snap *c,
		       double dt, unsigned cap)
{
	struct ranked r[TOP_SITES];

	for (unsigned i = 0; i < c->nsite; i++) {
		const struct top_site *x = &c->site[i], *y = find_site(p, x);
		rank(&r[i], i, y ? y->count : 0, x->count, y ? y->total_ns : 0, x->total_ns,
		     p && p->stats, dt);
	}
	qsort(r, c->nsite, sizeof(r[0]), ranked_cmp);
	put(o, "%-4s %-14s %-16s %9s %10s %8s %8s", "bus", "port/address", "device", "exits/s",
	    "exits", "ns/exit", "max");
	for (unsigned k = 0; k < c->nsite && k < cap; k++) {
		const struct top_site *x = &c->site[r[k].i];
		put(o, "%-4s %-14.14s %-16.16s %9s %10s %8s %8s", x->bus, x->addr, x->dev,
		    rate_s(r[k].rate).s, count_s(x->count).s, ns_s(r[k].mean).s,
		    ns_s((double)x->max_ns).s);
	}
}

static num hms(double s)
{
	unsigned long t = s > 0 ? (unsigned long)s : 0;
	num b;

	snprintf(b.s, sizeof(b.s), "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	return b;
}

static double mib(uint64_t b)
{
	return (double)b / (1 << 20);
}

/* where the memory is: guest RAM on the host, kvmini, KVM's tables, the disks' page cache */
static void memory_lines(struct out *o, const struct top_snap *c)
{
	char l[TOP_COLS * 2] = "";
	size_t at = 0;

	if (!c->mem)
		return;
	put(o, "guest RAM %.0f MiB (%s): %.1f resident, %.1f huge, %.1f untouched", mib(c->mem_size),
	    c->mem_pages, mib(c->mem_res), mib(c->mem_huge),
	    mib(c->mem_size > c->mem_res ? c->mem_size - c->mem_res : 0));
	at += (size_t)snprintf(l, sizeof(l), "kvmini %.1f MiB", mib(c->vmm_res));
	if (c->kvm_tables != TOP_UNKNOWN)
		at += (size_t)snprintf(l + at, sizeof(l) - at, ", KVM tables >=%.1f", mib(c->kvm_tables));
	for (unsigned i = 0; i < c->ncache && at < sizeof(l); i++) {
		if (c->page_cache[i] == TOP_UNKNOWN)
			at += (size_t)snprintf(l + at, sizeof(l) - at, "%s disk%u ?", i ? "," : "; page cache:", i);
		else
			at += (size_t)snprintf(l + at, sizeof(l) - at, "%s disk%u %.1f", i ? "," : "; page cache:",
					       i, mib(c->page_cache[i]));
	}
	put(o, "%s", l);
	if (c->guest)
		put(o, "guest's view: %.1f MiB: %.1f free, %.1f page cache, %.1f other; balloon %.1f",
		    mib(c->guest_total), mib(c->guest_free), mib(c->guest_cache),
		    mib(c->guest_total > c->guest_free + c->guest_cache ?
			c->guest_total - c->guest_free - c->guest_cache : 0), mib(c->balloon));
}

unsigned top__render(const struct top_snap *prev, const struct top_snap *cur,
		     const struct top_view *v, top_line *lines)
{
	struct out o = { .l = lines, .rows = v->rows < TOP_MAXROWS ? v->rows : TOP_MAXROWS,
			 .cols = v->cols < TOP_COLS ? v->cols : TOP_COLS };
	double dt = prev ? cur->t - prev->t : 0;
	unsigned extra = o.rows > TOP_ROWS ? o.rows - TOP_ROWS : 0;

	put(&o, "kvmini top  %s  view up %s  every %.1f s  %u vCPU%s  %s", cur->state,
	    hms(v->up_s).s, v->interval, cur->nvcpu, cur->nvcpu == 1 ? "" : "s", v->sock);
	memory_lines(&o, cur);
	vcpu_lines(&o, prev, cur, dt, 4);
	disk_lines(&o, prev, cur, dt, 3);
	unsigned net = o.n < o.rows ? top__net_lines(prev, cur, dt, &o.l[o.n], o.rows - o.n, o.cols) : 0;
	o.n += net;
	if (!cur->stats) {
		put(&o, "exits by reason and device, latencies: run kvmini with --exit-stats");
		return o.n;
	}
	/* the network panel's lines come out of the two tables (24 rows in all) */
	unsigned take = net < 8 ? net : 8;
	reason_lines(&o, prev, cur, dt, 5 + extra / 2 - (take + 1) / 2);
	site_lines(&o, prev, cur, dt, 5 + extra - extra / 2 - take / 2);
	return o.n;
}
