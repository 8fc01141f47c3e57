/* SPDX-License-Identifier: Apache-2.0 */
/* One reporting path: the exit statistics, guest RAM and the disk queues from their snapshot structs, as text or as JSON through json-c. */
#include "vmm/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <linux/virtio_ring.h>

#include "virtio/blk.h"
#include "vmm/exit_names.h"
#include "vmm/json.h"
#include "vmm/memory_report.h"
#include "vmm/net_report.h"
#include "vmm/stats.h"

static const char *const bus_names[STATS_NBUSES] = { "pio", "mmio" };

/* KVM stats the text output shows, when the kernel has them (JSON has every scalar). */
static const char *const kvm_text_names[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_injections",
	"irq_window_exits", "nmi_window_exits", "signal_exits", "request_irq_exits",
	"halt_wakeup", "hypercalls", "insn_emulation",
};

static const char *reason_name(unsigned slot)
{
	return slot == STATS_OTHER_REASON ? "other" : exit__name(slot);
}

static int site_cmp(const void *a, const void *b)
{
	const struct stats_site *x = *(const struct stats_site *const *)a;
	const struct stats_site *y = *(const struct stats_site *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* The used sites of a snapshot, busiest first, "other" buckets last if not empty. */
static unsigned sorted_sites(const struct stats_vcpu *s, const struct stats_site **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < STATS_NSITES; i++)
		if (s->sites[i].used)
			out[n++] = &s->sites[i];
	qsort(out, n, sizeof(*out), site_cmp);
	for (unsigned b = 0; b < STATS_NBUSES; b++)
		if (s->other[b].count)
			out[n++] = &s->other[b];
	return n;
}

static void print_text_body(FILE *f, const struct stats_vcpu *s)
{
	const struct stats_site *sites[STATS_NSITES + STATS_NBUSES];

	if (s->exits)
		fprintf(f, "  %-26s %10s %10s %10s %12s\n", "exit reason", "count", "p50 ns",
			"p99 ns", "max ns");
	for (unsigned r = 0; r <= STATS_NREASONS; r++) {
		const struct stats_hist *h = &s->reason_hist[r];
		if (!s->reason_count[r])
			continue;
		fprintf(f, "  %-26s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 "\n",
			reason_name(r), s->reason_count[r], stats__hist_percentile(h, 50),
			stats__hist_percentile(h, 99), h->max_ns);
	}
	unsigned n = sorted_sites(s, sites);
	if (n)
		fprintf(f, "  %-4s %-18s %-14s %10s %8s %8s %10s %10s\n", "bus", "port/address",
			"device", "count", "reads", "writes", "mean ns", "max ns");
	for (unsigned i = 0; i < n; i++) {
		const struct stats_site *x = sites[i];
		char addr[24] = "-";
		if (x != &s->other[x->bus])
			snprintf(addr, sizeof(addr), "0x%" PRIx64, x->key);
		fprintf(f, "  %-4s %-18s %-14s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64
			" %10" PRIu64 "\n", bus_names[x->bus], addr, x->dev, x->count, x->reads,
			x->writes, x->count ? x->total_ns / x->count : 0, x->max_ns);
	}
	if (!s->kvm.n) {
		fprintf(f, "  KVM in-kernel stats: not available (no KVM_CAP_BINARY_STATS_FD)\n");
		return;
	}
	fprintf(f, "  KVM in-kernel:");
	for (size_t i = 0; i < sizeof(kvm_text_names) / sizeof(kvm_text_names[0]); i++) {
		bool found;
		uint64_t v = stats__kvm_value(&s->kvm, kvm_text_names[i], &found);
		if (found)
			fprintf(f, " %s %" PRIu64, kvm_text_names[i], v);
	}
	fputc('\n', f);
}

static void print_queue_text(FILE *f, const struct blk_queue_snap *v)
{
	const struct virtq_snapshot *s = &v->s;

	if (!s->rings) {
		fprintf(f, "kvmini: disk %s, queue %u: not active (%llu kicks, %llu interrupts so "
			"far)\n", v->path, v->idx, v->kicks, v->irqs);
		return;
	}
	fprintf(f, "kvmini: disk %s, queue %u: %u waiting in the ring, %u in flight in kvmini "
		"(avail %u, taken %u, used %u", v->path, v->idx, v->waiting, v->inflight,
		s->avail_idx, s->last_avail, s->used_idx);
	if (s->event_idx)
		fprintf(f, "; interrupt past used %u, kick past avail %u", s->used_event,
			s->avail_event);
	fprintf(f, "); %llu kicks (and %llu looks without one), %llu interrupts (%llu rounds held "
		"for the next), %llu batches; %llu reads (%llu KiB), %llu writes (%llu KiB)%s\n",
		v->kicks, v->unkicked, v->irqs,
		v->coalesced, v->batches, v->reads, v->read_bytes >> 10, v->writes,
		v->write_bytes >> 10, s->broken ? "; BROKEN: waits for a device reset" : "");
}

/* ---- JSON (json-c, vmm/json.c) ---- */

static json_object *json_reasons(const struct stats_vcpu *s)
{
	json_object *a = json__arr();

	for (unsigned r = 0; r <= STATS_NREASONS; r++) {
		const struct stats_hist *h = &s->reason_hist[r];
		if (!s->reason_count[r])
			continue;
		json_object *o = json__obj(), *lat = json__obj();
		json__add(o, "reason", json__string(reason_name(r), false));
		json__add(o, "code", r == STATS_OTHER_REASON ? NULL : json__u64(r));
		json__add(o, "count", json__u64(s->reason_count[r]));
		json__add(lat, "p50", json__u64(stats__hist_percentile(h, 50)));
		json__add(lat, "p99", json__u64(stats__hist_percentile(h, 99)));
		json__add(lat, "max", json__u64(h->max_ns));
		json__add(lat, "sum", json__u64(h->sum_ns));
		json__add(o, "latency_ns", lat);
		json__push(a, o);
	}
	return a;
}

static json_object *json_sites(const struct stats_vcpu *s)
{
	const struct stats_site *sites[STATS_NSITES + STATS_NBUSES];
	unsigned n = sorted_sites(s, sites);
	json_object *a = json__arr();

	for (unsigned i = 0; i < n; i++) {
		const struct stats_site *x = sites[i];
		json_object *o = json__obj();
		json__add(o, "bus", json__string(bus_names[x->bus], false));
		json__add(o, "addr", x == &s->other[x->bus] ? NULL : json__hex(x->key));
		json__add(o, "device", json__string(x->dev, false));
		json__add(o, "count", json__u64(x->count));
		json__add(o, "reads", json__u64(x->reads));
		json__add(o, "writes", json__u64(x->writes));
		json__add(o, "total_ns", json__u64(x->total_ns));
		json__add(o, "max_ns", json__u64(x->max_ns));
		json__push(a, o);
	}
	return a;
}

/* "exits", "reasons", "sites", "kvm" of one vCPU (or the total) into o */
static void json_body(json_object *o, const struct stats_vcpu *s)
{
	json_object *kvm = NULL;

	json__add(o, "exits", json__u64(s->exits));
	json__add(o, "reasons", json_reasons(s));
	json__add(o, "sites", json_sites(s));
	if (s->kvm.n) {
		kvm = json__obj();
		for (unsigned i = 0; i < s->kvm.n; i++)
			json__add(kvm, s->kvm.v[i].name, json__u64(s->kvm.v[i].value));
	}
	json__add(o, "kvm", kvm);
}

static json_object *json_queue(const struct blk_queue_snap *v)
{
	const struct virtq_snapshot *s = &v->s;
	json_object *o = json__obj();

	json__add(o, "disk", json__string(v->path, false));
	json__add(o, "queue", json__u64(v->idx));
	json__add(o, "active", json__bool(s->rings));
	if (s->rings) {
		json__add(o, "size", json__u64(s->size));
		json__add(o, "avail_idx", json__u64(s->avail_idx));
		json__add(o, "taken", json__u64(s->last_avail));
		json__add(o, "used_idx", json__u64(s->used_idx));
		json__add(o, "waiting", json__u64(v->waiting));
		json__add(o, "in_flight", json__u64(v->inflight));
		json__add(o, "event_idx", json__bool(s->event_idx));
		json__add(o, "used_event", json__u64(s->used_event));
		json__add(o, "avail_event", json__u64(s->avail_event));
		json__add(o, "no_interrupt", json__bool(s->avail_flags & VRING_AVAIL_F_NO_INTERRUPT));
		json__add(o, "broken", json__bool(s->broken));
	}
	json__add(o, "kicks", json__u64(v->kicks));
	json__add(o, "unkicked", json__u64(v->unkicked));
	json__add(o, "interrupts", json__u64(v->irqs));
	json__add(o, "coalesced", json__u64(v->coalesced));
	json__add(o, "batches", json__u64(v->batches));
	json__add(o, "reads", json__u64(v->reads));
	json__add(o, "read_bytes", json__u64(v->read_bytes));
	json__add(o, "writes", json__u64(v->writes));
	json__add(o, "write_bytes", json__u64(v->write_bytes));
	return o;
}

static json_object *json_queues(const struct blk_queue_snap *q, unsigned n)
{
	json_object *a = json__arr();

	for (unsigned i = 0; i < n; i++)
		json__push(a, json_queue(&q[i]));
	return a;
}

static json_object *json_exit_stats(const struct stats_snapshot *s, const struct report_board *b)
{
	json_object *o = json__obj(), *vcpus = json__arr();
	json_object *total = json__obj();

	for (unsigned i = 0; i < s->n; i++) {
		json_object *v = json__obj();
		json__add(v, "id", json__u64(s->vcpus[i]->id));
		json_body(v, s->vcpus[i]);
		json__push(vcpus, v);
	}
	json__add(o, "vcpus", vcpus);
	json__add(total, "vcpus", json__u64(s->n));
	json_body(total, s->total);
	json__add(o, "total", total);
	if (b && b->memory_known) {
		json_object *m = json__obj();
		json__add(m, "pages", json__string(b->memory.pages, false));
		json__add(m, "size", json__u64(b->memory.size));
		json__add(m, "resident", json__u64(b->memory.resident));
		json__add(m, "huge", json__u64(b->memory.huge));
		json__add(o, "memory", m);
	}
	if (b && b->places)
		json__add(o, "memory_report", mem_report__json(b->places));
	if (b)
		json__add(o, "disks", json_queues(b->queues, b->nqueues));
	if (b && b->nnets)
		json__add(o, "nets", net_report__json(b->nets, b->nnets));
	if (b && b->vsock_hy)
		json__add(o, "vsock", net_report__vsock_hy_counters(b->vsock_hy));
	return o;
}

/* o as one line on f (o is freed), or a line saying it could not be made */
static void json_line(FILE *f, json_object *o, const char *what)
{
	if (json__emit(f, "", o) == 0)
		fputc('\n', f);
	else
		fprintf(f, "kvmini: %s: out of memory\n", what);
}

/* ---- text ---- */

static void text_memory(FILE *f, const struct report_memory *m)
{
	fprintf(f, "kvmini: guest RAM %llu MiB (%s): %llu MiB resident, %llu MiB of it in huge pages\n",
		(unsigned long long)(m->size >> 20), m->pages, (unsigned long long)(m->resident >> 20),
		(unsigned long long)(m->huge >> 20));
}

static void text_exit_stats(FILE *f, const struct stats_snapshot *s, const struct report_board *b)
{
	for (unsigned i = 0; i < s->n; i++) {
		fprintf(f, "kvmini: exit stats, vCPU %u: %" PRIu64 " exits to userspace\n",
			s->vcpus[i]->id, s->vcpus[i]->exits);
		print_text_body(f, s->vcpus[i]);
	}
	fprintf(f, "kvmini: exit stats, total of %u vCPU%s: %" PRIu64 " exits to userspace\n", s->n,
		s->n == 1 ? "" : "s", s->total->exits);
	print_text_body(f, s->total);
	if (!b)
		return;
	if (b->places)
		mem_report__text(f, b->places);
	else if (b->memory_known)
		text_memory(f, &b->memory);
	for (unsigned i = 0; i < b->nqueues; i++)
		print_queue_text(f, &b->queues[i]);
	for (unsigned i = 0; i < b->nnets; i++)
		net_report__text(f, b->nets[i], i);
	if (b->vsock_hy)
		net_report__vsock_hy_text(f, b->vsock_hy);
}

/* ---- the reports ---- */

void report__exit_stats(FILE *f, const struct stats_snapshot *s, bool json,
			const struct report_board *board)
{
	if (json)
		json_line(f, json_exit_stats(s, board), "exit stats");
	else
		text_exit_stats(f, s, board);
	fflush(f);
}

void report__queues(FILE *f, const struct blk_queue_snap *q, unsigned n, bool json)
{
	if (json) {
		json_line(f, json_queues(q, n), "disk queues");
		return;
	}
	for (unsigned i = 0; i < n; i++)
		print_queue_text(f, &q[i]);
}
