/* SPDX-License-Identifier: Apache-2.0 */
/* Where a VM's memory is: guest RAM and kvmini on the host (smaps), KVM's mappings (its VM stats), each disk's host page cache (mincore). */
#include "vmm/memory_report.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "devices/disk/disk.h"
#include <linux/virtio_balloon.h>

#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "vmm/json.h"
#include "vmm/memory.h"
#include "vmm/stats.h"
#include "vmm/vm.h"

#define PT_ENTRIES 512u		/* entries in one 4 KiB page-table page */
#define PT_PAGE    4096u

static const char *const kvm_stat_names[MEM_KVM_SIZES] = { "pages_4k", "pages_2m", "pages_1g" };

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

uint64_t mem_report__tables_min(const uint64_t pages[MEM_KVM_SIZES])
{
	/* 4 KiB mappings fill level-1 tables; those and 2 MiB mappings are entries of level 2,
	 * and so on up to the one root */
	uint64_t l1 = div_up(pages[MEM_KVM_4K], PT_ENTRIES);
	uint64_t l2 = div_up(l1 + pages[MEM_KVM_2M], PT_ENTRIES);
	uint64_t l3 = div_up(l2 + pages[MEM_KVM_1G], PT_ENTRIES);
	uint64_t any = pages[MEM_KVM_4K] | pages[MEM_KVM_2M] | pages[MEM_KVM_1G];

	return any ? (l1 + l2 + l3 + 1) * PT_PAGE : 0;
}

static void take_kvm(struct mem_report *r, int stats_fd)
{
	struct stats_kvm k;
	bool found = false;

	if (stats__read_kvm_fd(stats_fd, &k))
		return;
	for (unsigned i = 0; i < MEM_KVM_SIZES; i++) {
		bool f = false;
		r->kvm_pages[i] = stats__kvm_value(&k, kvm_stat_names[i], &f);
		found |= f;
	}
	r->kvm_known = found;	/* (arm64's KVM keeps no such counts) */
	if (found)
		r->kvm_tables_min = mem_report__tables_min(r->kvm_pages);
}

static void take_balloon(struct mem_report *r, struct balloon *b, bool refresh)
{
	struct balloon_counters c;
	struct balloon_stats s;

	r->balloon = true;
	balloon__state(b, &r->balloon_target, &r->balloon_actual, &c);
	r->balloon_inflated = c.inflated;
	r->balloon_deflated = c.deflated;
	r->balloon_dropped = c.inflate_dropped;
	r->balloon_reported = c.reported_bytes;
	balloon__stats(b, &s, refresh);
	r->guest_known = s.updated_ns != 0;
	if (!r->guest_known)
		return;
	uint64_t now = now_ns();
	r->guest_age_ms = now > s.updated_ns ? (now - s.updated_ns) / 1000000 : 0;
	r->guest_have = s.have;
	for (unsigned t = 0; t < BALLOON_STATS_MAX && t < 16; t++)
		r->guest[t] = s.v[t];
}

int mem_report__take(struct mem_report *r, const struct vm *vm, const struct blk_dev *blk,
		     unsigned ndisks, struct balloon *balloon, bool refresh)
{
	struct gm_usage u;

	memset(r, 0, sizeof(*r));
	if (gm__usage(&vm->mem, &u) == 0) {
		r->ram_known = true;
		r->pages = gm__pages_name(vm->mem.pages);
		r->ram_size = vm->mem.ram_size;
		r->ram_resident = u.resident;
		r->ram_huge = u.huge;
		r->vmm_resident = u.process > u.resident ? u.process - u.resident : 0;
	}
	take_kvm(r, vm->stats_fd);
	r->ndisks = ndisks < MAX_DISKS ? ndisks : MAX_DISKS;
	for (unsigned i = 0; i < r->ndisks; i++) {
		struct mem_report_disk *d = &r->disk[i];
		d->path = blk[i].path;
		d->size = blk[i].disk.size;
		d->direct = blk[i].disk.direct;
		d->err = disk__page_cache(&blk[i].disk, &d->page_cache);
	}
	if (balloon)
		take_balloon(r, balloon, refresh);
	return r->ram_known ? 0 : -1;
}

static json_object *json_ram(const struct mem_report *r)
{
	json_object *o;

	if (!r->ram_known)
		return NULL;
	o = json__obj();
	json__add(o, "pages", json__string(r->pages, false));
	json__add(o, "size", json__u64(r->ram_size));
	json__add(o, "resident", json__u64(r->ram_resident));
	json__add(o, "huge", json__u64(r->ram_huge));
	json__add(o, "untouched", json__u64(r->ram_size > r->ram_resident ?
					     r->ram_size - r->ram_resident : 0));
	return o;
}

static json_object *json_kvm(const struct mem_report *r)
{
	json_object *o;

	if (!r->kvm_known)
		return NULL;
	o = json__obj();
	for (unsigned i = 0; i < MEM_KVM_SIZES; i++)
		json__add(o, kvm_stat_names[i], json__u64(r->kvm_pages[i]));
	json__add(o, "page_tables_min", json__u64(r->kvm_tables_min));
	return o;
}

/* the guest's own view: the balloon's statistics, and what is neither free nor cache */
static json_object *json_guest(const struct mem_report *r)
{
	json_object *o, *all;
	const uint64_t *g = r->guest;

	if (!r->guest_known)
		return NULL;
	o = json__obj();
	all = json__obj();
	json__add(o, "total", json__u64(g[VIRTIO_BALLOON_S_MEMTOT]));
	json__add(o, "free", json__u64(g[VIRTIO_BALLOON_S_MEMFREE]));
	json__add(o, "available", json__u64(g[VIRTIO_BALLOON_S_AVAIL]));
	json__add(o, "page_cache", json__u64(g[VIRTIO_BALLOON_S_CACHES]));
	json__add(o, "other", json__u64(mem_report__guest_other(r)));
	json__add(o, "age_ms", json__u64(r->guest_age_ms));
	for (unsigned t = 0; t < 16; t++)
		if ((r->guest_have >> t) & 1 && balloon__stat_name(t))
			json__add(all, balloon__stat_name(t), json__u64(g[t]));
	json__add(o, "stats", all);
	return o;
}

static json_object *json_balloon(const struct mem_report *r)
{
	json_object *o;

	if (!r->balloon)
		return NULL;
	o = json__obj();
	json__add(o, "target", json__u64(r->balloon_target));
	json__add(o, "actual", json__u64(r->balloon_actual));
	json__add(o, "inflated_pages", json__u64(r->balloon_inflated));
	json__add(o, "deflated_pages", json__u64(r->balloon_deflated));
	json__add(o, "returned_pages", json__u64(r->balloon_dropped));
	json__add(o, "reported_bytes", json__u64(r->balloon_reported));
	return o;
}

uint64_t mem_report__guest_other(const struct mem_report *r)
{
	const uint64_t *g = r->guest;
	uint64_t used = g[VIRTIO_BALLOON_S_MEMFREE] + g[VIRTIO_BALLOON_S_CACHES];

	return g[VIRTIO_BALLOON_S_MEMTOT] > used ? g[VIRTIO_BALLOON_S_MEMTOT] - used : 0;
}

json_object *mem_report__json(const struct mem_report *r)
{
	json_object *o = json__obj(), *disks = json__arr(), *vmm = json__obj();

	json__add(o, "guest_ram", json_ram(r));
	json__add(vmm, "resident", r->ram_known ? json__u64(r->vmm_resident) : NULL);
	json__add(o, "vmm", vmm);
	json__add(o, "kvm", json_kvm(r));
	for (unsigned i = 0; i < r->ndisks; i++) {
		const struct mem_report_disk *d = &r->disk[i];
		json_object *j = json__obj();
		json__add(j, "path", json__string(d->path ? d->path : "", true));
		json__add(j, "size", json__u64(d->size));
		json__add(j, "cache", json__string(d->direct ? "none" : "writeback", false));
		json__add(j, "page_cache", d->err ? NULL : json__u64(d->page_cache));
		json__push(disks, j);
	}
	json__add(o, "disks", disks);
	json__add(o, "guest", json_guest(r));
	json__add(o, "balloon", json_balloon(r));
	return o;
}

static double mib(uint64_t b)
{
	return (double)b / (1 << 20);
}

void mem_report__text(FILE *f, const struct mem_report *r)
{
	if (r->ram_known)
		fprintf(f, "kvmini: memory: guest RAM %.1f MiB: %.1f MiB resident on the host (%.1f MiB "
			"on huge pages), %.1f MiB never touched; kvmini itself %.1f MiB resident\n",
			mib(r->ram_size), mib(r->ram_resident), mib(r->ram_huge),
			mib(r->ram_size > r->ram_resident ? r->ram_size - r->ram_resident : 0),
			mib(r->vmm_resident));
	if (r->kvm_known)
		fprintf(f, "kvmini: memory: KVM maps %" PRIu64 " 4K, %" PRIu64 " 2M and %" PRIu64
			" 1G pages of guest memory (page tables: %.1f MiB at least)\n",
			r->kvm_pages[MEM_KVM_4K], r->kvm_pages[MEM_KVM_2M], r->kvm_pages[MEM_KVM_1G],
			mib(r->kvm_tables_min));
	if (r->guest_known)
		fprintf(f, "kvmini: memory: the guest's view: %.1f MiB in all, %.1f free, %.1f page "
			"cache, %.1f other (statistics %" PRIu64 " ms old)\n",
			mib(r->guest[VIRTIO_BALLOON_S_MEMTOT]), mib(r->guest[VIRTIO_BALLOON_S_MEMFREE]),
			mib(r->guest[VIRTIO_BALLOON_S_CACHES]), mib(mem_report__guest_other(r)),
			r->guest_age_ms);
	if (r->balloon)
		fprintf(f, "kvmini: memory: balloon: target %.1f MiB, the guest holds %.1f MiB in it; "
			"%.1f MiB of free pages reported back to the host\n", mib(r->balloon_target),
			mib(r->balloon_actual), mib(r->balloon_reported));
	for (unsigned i = 0; i < r->ndisks; i++) {
		const struct mem_report_disk *d = &r->disk[i];
		if (d->err)
			fprintf(f, "kvmini: memory: disk %s: host page cache unknown (%s)\n",
				d->path, strerror(-d->err));
		else
			fprintf(f, "kvmini: memory: disk %s: %.1f of %.1f MiB in the host page cache%s\n",
				d->path, mib(d->page_cache), mib(d->size),
				d->direct ? " (cache=none: not kvmini's doing)" : "");
	}
}
