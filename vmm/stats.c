/* SPDX-License-Identifier: Apache-2.0 */
/* Exit statistics: lock-free per-vCPU recording, merging, histograms, KVM binary stats, output. */
#include "vmm/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "devices/bus.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* ---- single-writer counters: relaxed loads/stores, so snapshots from another thread are
 * race-free without a locked instruction on the exit path ---- */

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void bump(uint64_t *p, uint64_t d)
{
	__atomic_store_n(p, ld(p) + d, __ATOMIC_RELAXED);
}

static inline void raise_max(uint64_t *p, uint64_t v)
{
	if (v > ld(p))
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ---- histogram ---- */

unsigned stats__hist_bucket(uint64_t ns)
{
	if (ns == 0)
		return 0;
	unsigned bits = 64 - (unsigned)__builtin_clzll(ns);
	return bits < STATS_HIST_BUCKETS ? bits : STATS_HIST_BUCKETS - 1;
}

uint64_t stats__hist_upper(unsigned b)
{
	if (b == 0)
		return 0;
	if (b >= STATS_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return (1ULL << b) - 1;
}

void stats__hist_add(struct stats_hist *h, uint64_t ns)
{
	bump(&h->count, 1);
	bump(&h->sum_ns, ns);
	raise_max(&h->max_ns, ns);
	bump(&h->bucket[stats__hist_bucket(ns)], 1);
}

uint64_t stats__hist_percentile(const struct stats_hist *h, unsigned p)
{
	uint64_t count = ld(&h->count), seen = 0;

	if (count == 0 || p == 0)
		return 0;
	if (p > 100)
		p = 100;
	/* rank = ceil(count * p / 100), without overflowing count * p */
	uint64_t rank = count / 100 * p + ((count % 100) * p + 99) / 100;
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		seen += ld(&h->bucket[b]);
		if (seen >= rank) {
			uint64_t up = stats__hist_upper(b), max = ld(&h->max_ns);
			return up < max ? up : max;
		}
	}
	return ld(&h->max_ns);
}

void stats__hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
	dst->count += ld(&src->count);
	dst->sum_ns += ld(&src->sum_ns);
	if (ld(&src->max_ns) > dst->max_ns)
		dst->max_ns = ld(&src->max_ns);
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++)
		dst->bucket[b] += ld(&src->bucket[b]);
}

/* ---- per-vCPU tables ---- */

struct stats_vcpu *stats__new(unsigned id)
{
	struct stats_vcpu *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->id = id;
	s->kvm_fd = -1;
	for (unsigned b = 0; b < STATS_NBUSES; b++)
		s->other[b] = (struct stats_site){ .dev = "(other)", .bus = (uint8_t)b, .used = true };
	return s;
}

void stats__free(struct stats_vcpu *s)
{
	if (!s)
		return;
	if (s->kvm_fd >= 0)
		close(s->kvm_fd);
	free(s);
}

void stats__record_exit(struct stats_vcpu *s, unsigned reason, uint64_t ns)
{
	unsigned slot = reason < STATS_NREASONS ? reason : STATS_OTHER_REASON;

	bump(&s->exits, 1);
	bump(&s->reason_count[slot], 1);
	stats__hist_add(&s->reason_hist[slot], ns);
}

static unsigned site_hash(enum stats_bus bus, uint64_t key)
{
	uint64_t h = (key ^ ((uint64_t)bus << 63)) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> 32) % STATS_NSITES;
}

/* The slot for (bus, key); with dev set, claims an empty one, else "other". With dev NULL,
 * only looks (NULL if absent). Only the owning thread claims slots. */
static struct stats_site *site_slot(struct stats_vcpu *s, enum stats_bus bus, uint64_t key,
				    const char *dev)
{
	unsigned h = site_hash(bus, key);

	for (unsigned i = 0; i < STATS_MAX_PROBE; i++) {
		struct stats_site *x = &s->sites[(h + i) % STATS_NSITES];
		if (!__atomic_load_n(&x->used, __ATOMIC_ACQUIRE)) {
			if (!dev)
				return NULL;
			x->key = key;
			x->bus = (uint8_t)bus;
			x->dev = dev;
			__atomic_store_n(&x->used, true, __ATOMIC_RELEASE);
			return x;
		}
		if (x->key == key && x->bus == bus)
			return x;
	}
	return dev ? &s->other[bus] : NULL;
}

const struct stats_site *stats__find_site(const struct stats_vcpu *s, enum stats_bus bus,
					  uint64_t key)
{
	return site_slot((struct stats_vcpu *)s, bus, key, NULL);
}

static void site_add(struct stats_site *x, uint64_t count, uint64_t reads, uint64_t writes,
		     uint64_t ns, uint64_t max_ns)
{
	bump(&x->count, count);
	bump(&x->reads, reads);
	bump(&x->writes, writes);
	bump(&x->total_ns, ns);
	raise_max(&x->max_ns, max_ns);
}

void stats__record_access(struct stats_vcpu *s, enum stats_bus bus, const struct bus_range *r,
			  uint64_t addr, bool write, uint64_t ns)
{
	const char *dev = r ? (r->ops->name ? r->ops->name : "(unnamed)") : "(none)";
	struct stats_site *x = site_slot(s, bus, r ? r->base : addr, dev);

	site_add(x, 1, !write, write, ns, ns);
}

static void kvm_add(struct stats_kvm *dst, const char *name, uint64_t value)
{
	for (unsigned i = 0; i < dst->n; i++) {
		if (!strcmp(dst->v[i].name, name)) {
			dst->v[i].value += value;
			return;
		}
	}
	if (dst->n == STATS_KVM_MAX)
		return;
	snprintf(dst->v[dst->n].name, STATS_KVM_NAME, "%s", name);
	dst->v[dst->n++].value = value;
}

static void merge_site(struct stats_site *dst, const struct stats_site *src)
{
	site_add(dst, ld(&src->count), ld(&src->reads), ld(&src->writes), ld(&src->total_ns),
		 ld(&src->max_ns));
}

void stats__merge(struct stats_vcpu *dst, const struct stats_vcpu *src)
{
	dst->exits += ld(&src->exits);
	for (unsigned r = 0; r <= STATS_NREASONS; r++) {
		dst->reason_count[r] += ld(&src->reason_count[r]);
		stats__hist_merge(&dst->reason_hist[r], &src->reason_hist[r]);
	}
	for (unsigned i = 0; i < STATS_NSITES; i++) {
		const struct stats_site *x = &src->sites[i];
		if (__atomic_load_n(&x->used, __ATOMIC_ACQUIRE))
			merge_site(site_slot(dst, x->bus, x->key, x->dev), x);
	}
	for (unsigned b = 0; b < STATS_NBUSES; b++)
		merge_site(&dst->other[b], &src->other[b]);
	for (unsigned i = 0; i < src->kvm.n; i++)
		kvm_add(&dst->kvm, src->kvm.v[i].name, src->kvm.v[i].value);
}

/* ---- KVM binary stats ---- */

int stats__parse_kvm(const void *buf, size_t len, struct stats_kvm *out)
{
	const uint8_t *p = buf;
	struct kvm_stats_header h;
	size_t dsz;

	out->n = 0;
	if (len < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	if (h.name_size == 0 || h.name_size > 4096 || h.desc_offset > len || h.data_offset > len ||
	    h.num_desc > (len - h.desc_offset) / dsz)
		return -1;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		const uint8_t *dp = p + h.desc_offset + (size_t)i * dsz;
		struct kvm_stats_desc d;
		uint64_t value;
		char name[STATS_KVM_NAME];

		memcpy(&d, dp, sizeof(d));
		uint32_t type = d.flags & KVM_STATS_TYPE_MASK;
		if (d.size != 1 || type == KVM_STATS_TYPE_LINEAR_HIST || type == KVM_STATS_TYPE_LOG_HIST)
			continue;	/* only scalars */
		if (d.offset > len - h.data_offset || len - h.data_offset - d.offset < sizeof(value))
			return -1;
		memcpy(&value, p + h.data_offset + d.offset, sizeof(value));
		size_t nlen = strnlen((const char *)dp + sizeof(d), h.name_size);
		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;
		memcpy(name, dp + sizeof(d), nlen);
		name[nlen] = '\0';
		if (out->n < STATS_KVM_MAX) {
			memcpy(out->v[out->n].name, name, nlen + 1);
			out->v[out->n++].value = value;
		}
	}
	return 0;
}

int stats__read_kvm(struct stats_vcpu *s)
{
	return stats__read_kvm_fd(s->kvm_fd, &s->kvm);
}

int stats__read_kvm_fd(int fd, struct stats_kvm *out)
{
	size_t cap = 16384, len = 0;
	uint8_t *buf = NULL;
	int r = -1;

	if (fd < 0)
		return -1;
	for (;;) {
		if (len == cap || !buf) {
			uint8_t *nb = realloc(buf, buf ? cap *= 2 : cap);
			if (!nb)
				goto out;
			buf = nb;
		}
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = stats__parse_kvm(buf, len, out);
out:
	free(buf);
	return r;
}

uint64_t stats__kvm_value(const struct stats_kvm *k, const char *name, bool *found)
{
	for (unsigned i = 0; i < k->n; i++) {
		if (!strcmp(k->v[i].name, name)) {
			if (found)
				*found = true;
			return k->v[i].value;
		}
	}
	if (found)
		*found = false;
	return 0;
}

/* ---- snapshots ---- */

int stats__snapshot(struct stats_vcpu *const *v, unsigned n, bool read_kvm,
		    struct stats_snapshot *out)
{
	out->n = n;
	out->vcpus = calloc(n ? n : 1, sizeof(*out->vcpus));
	out->total = stats__new(0);
	if (!out->vcpus || !out->total)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		if (read_kvm)
			stats__read_kvm(v[i]);
		out->vcpus[i] = stats__new(v[i]->id);
		if (!out->vcpus[i])
			goto fail;
		stats__merge(out->vcpus[i], v[i]);
		stats__merge(out->total, out->vcpus[i]);
	}
	return 0;
fail:
	stats__snapshot_free(out);
	return -1;
}

int stats__snapshot_vm(const struct vm *vm, struct stats_snapshot *out)
{
	struct stats_vcpu **v = calloc(vm->ncpus ? vm->ncpus : 1, sizeof(*v));
	unsigned n = 0;

	if (!v)
		return -1;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].stats)
			v[n++] = vm->vcpus[i].stats;
	int rc = stats__snapshot(v, n, true, out);
	free(v);
	return rc;
}

void stats__snapshot_free(struct stats_snapshot *s)
{
	for (unsigned i = 0; s->vcpus && i < s->n; i++)
		stats__free(s->vcpus[i]);
	free(s->vcpus);
	stats__free(s->total);
	*s = (struct stats_snapshot){ 0 };
}

/* ---- a VM ---- */

int stats__enable_vm(struct vm *vm)
{
	bool kvm_stats = ioctl(vm->kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) > 0;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->stats)
			continue;
		v->stats = stats__new(v->id);
		if (!v->stats)
			return -1;
		if (kvm_stats)
			v->stats->kvm_fd = ioctl(v->fd, KVM_GET_STATS_FD, 0);
	}
	return 0;
}

void stats__disable_vm(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++) {
		stats__free(vm->vcpus[i].stats);
		vm->vcpus[i].stats = NULL;
	}
}
