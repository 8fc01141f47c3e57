/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-balloon (virtio 1.2 5.5): inflated and reported pages go back to the host (madvise), deflated ones refault; the guest's statistics on request. */
#include "virtio/balloon.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "devices/thread.h"
#include "vmm/launcher.h"
#include "vmm/seccomp.h"

#define BALLOON_PAGE 4096u	/* the balloon's page: VIRTIO_BALLOON_PFN_SHIFT */

enum bq { BQ_INFLATE, BQ_DEFLATE, BQ_STATS, BQ_REPORTING, BQ_COUNT };

/* The queue index of kind k as negotiated: queues of features the driver did not take are
 * left out (Linux numbers the ones it sets up in order), -1: none */
static int queue_of(const struct virtio_dev *v, enum bq k)
{
	bool stats = virtio__has(v, VIRTIO_BALLOON_F_STATS_VQ);

	switch (k) {
	case BQ_INFLATE: return 0;
	case BQ_DEFLATE: return 1;
	case BQ_STATS: return stats ? 2 : -1;
	case BQ_REPORTING:
		return virtio__has(v, VIRTIO_BALLOON_F_REPORTING) ? (stats ? 3 : 2) : -1;
	default: return -1;
	}
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void driver_error(struct balloon *b, const char *what)
{
	pthread_mutex_lock(&b->lock);
	virtio_core__driver_error(&b->counters.errors, &b->reports, "virtio-balloon", what);
	pthread_mutex_unlock(&b->lock);
}

/* Gives [p, p + len) back to the host; guest RAM's own mapping, so the guest reads zeroes
 * there next (it gave those pages up). */
static bool drop(void *p, size_t len)
{
	return madvise(p, len, MADV_DONTNEED) == 0;
}

/* Whether one 4 KiB balloon page can go back alone: not where the host's page is larger (a
 * 16K or 64K arm64 kernel: MADV_DONTNEED would take its neighbours, which the guest still
 * uses), nor from hugetlb-backed RAM (its 2 MiB pages stay whole) */
static bool pages_can_drop(const struct balloon *b)
{
	return sysconf(_SC_PAGESIZE) == BALLOON_PAGE && b->mem->pages != GM_PAGES_HUGETLB;
}

/* inflate or deflate: an array of 32-bit page frame numbers */
static void pfns(struct balloon *b, const struct virtq_chain *c, bool inflate)
{
	uint64_t n = 0, dropped = 0;
	bool can = pages_can_drop(b);

	for (unsigned i = 0; i < c->n_out; i++) {
		const uint8_t *p = c->iov[i].base;
		for (uint32_t off = 0; off + 4 <= c->iov[i].len; off += 4, n++) {
			uint32_t pfn;
			memcpy(&pfn, p + off, 4);	/* little-endian, as the host */
			if (!inflate)
				continue;	/* deflated pages refault when the guest touches them */
			void *h = gm__ptr(b->mem, (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT, BALLOON_PAGE);
			if (!h)
				driver_error(b, "inflate: a page outside guest RAM");
			else if (can)
				dropped += drop(h, BALLOON_PAGE);
		}
	}
	pthread_mutex_lock(&b->lock);
	if (inflate) {
		b->counters.inflated += n;
		b->counters.inflate_dropped += dropped;
	} else {
		b->counters.deflated += n;
	}
	pthread_mutex_unlock(&b->lock);
}

/* free page reporting: each buffer is a free range of guest RAM (already checked by the
 * virtqueue: the whole range is RAM); Linux adds them device-writable, either kind counts */
static void reported(struct balloon *b, const struct virtq_chain *c)
{
	uint64_t bytes = 0;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	for (unsigned i = 0; i < c->n_out + c->n_in; i++) {
		uintptr_t s = ((uintptr_t)c->iov[i].base + pg - 1) & ~(pg - 1);
		uintptr_t e = ((uintptr_t)c->iov[i].base + c->iov[i].len) & ~(pg - 1);
		if (e > s && drop((void *)s, e - s))
			bytes += e - s;
	}
	pthread_mutex_lock(&b->lock);
	b->counters.reported_bytes += bytes;
	pthread_mutex_unlock(&b->lock);
}

/* a statistics buffer: tag (16 bits) + value (64 bits), packed; the device keeps the buffer
 * until it wants fresh figures */
static void stats_in(struct balloon *b, const struct virtq_chain *c)
{
	struct balloon_stats s = { .updated_ns = now_ns() };

	for (unsigned i = 0; i < c->n_out; i++) {
		const uint8_t *p = c->iov[i].base;
		for (uint32_t off = 0; off + 10 <= c->iov[i].len; off += 10) {
			uint16_t tag;
			uint64_t val;
			memcpy(&tag, p + off, 2);
			memcpy(&val, p + off + 2, 8);
			if (tag < BALLOON_STATS_MAX) {
				s.have |= 1u << tag;
				s.v[tag] = val;
			}
		}
	}
	pthread_mutex_lock(&b->lock);
	int older = b->stats_head;
	s.updates = b->stats.updates + 1;
	b->stats = s;
	b->stats_head = c->head;
	pthread_cond_broadcast(&b->stats_cond);
	pthread_mutex_unlock(&b->lock);
	if (older >= 0) {	/* the driver keeps one buffer there: a second one is its mistake */
		int qi = queue_of(b->vdev, BQ_STATS);
		/* counted before the buffer goes back: whoever sees it back sees the count */
		driver_error(b, "a second statistics buffer while the device held one");
		virtq__push(&b->vdev->vq[qi], (uint16_t)older, 0);
	}
}

/* Everything waiting on queue k; returns whether the guest wants an interrupt */
static bool serve(struct balloon *b, enum bq k, struct virtq_chain *c)
{
	int qi = queue_of(b->vdev, k);
	struct virtq *q;
	bool pushed = false;

	if (qi < 0 || !b->vdev->vq_ready[qi])
		return false;
	q = &b->vdev->vq[qi];
	do {
		virtq__disable_notify(q);
		int r;
		while ((r = virtq__pop(q, c)) == 1) {
			if (k == BQ_STATS) {
				stats_in(b, c);	/* kept: no push */
				continue;
			}
			if (k == BQ_REPORTING)
				reported(b, c);
			else
				pfns(b, c, k == BQ_INFLATE);
			virtq__push(q, c->head, 0);
			pushed = true;
		}
		if (r < 0) {
			b->vdev->t_ops->needs_reset(b->vdev->transport, q->error);
			return false;
		}
	} while (virtq__enable_notify(q));
	if (pushed && virtq__should_notify(q))
		b->vdev->t_ops->notify_used(b->vdev->transport, (unsigned)qi);
	return pushed;
}

/* vm.memory wants fresh statistics: the held buffer goes back; the guest refills it */
static void stats_request(struct balloon *b)
{
	int qi = queue_of(b->vdev, BQ_STATS);

	pthread_mutex_lock(&b->lock);
	int head = b->stats_head;
	b->stats_head = -1;
	pthread_mutex_unlock(&b->lock);
	if (qi < 0 || head < 0)
		return;
	virtq__push(&b->vdev->vq[qi], (uint16_t)head, 0);
	b->vdev->t_ops->notify_used(b->vdev->transport, (unsigned)qi);
}

static void *balloon_thread(void *arg)
{
	struct balloon *b = arg;
	struct virtq_chain *chain = malloc(sizeof(*chain));
	struct pollfd p[BQ_COUNT + 2];
	enum bq kind[BQ_COUNT];
	unsigned n = 0;

	pthread_setname_np(pthread_self(), "virtio-balloon");
	seccomp__enter(SECCOMP_KIND_BALLOON);
	if (!chain) {
		b->vdev->t_ops->needs_reset(b->vdev->transport, "out of memory");
		return NULL;
	}
	for (enum bq k = BQ_INFLATE; k < BQ_COUNT; k++) {
		int qi = queue_of(b->vdev, k);
		if (qi >= 0 && b->vdev->vq_ready[qi]) {
			kind[n] = k;
			p[n++] = (struct pollfd){ .fd = b->vdev->kick_fd[qi], .events = POLLIN };
		}
	}
	p[n] = (struct pollfd){ .fd = b->stats_req_fd, .events = POLLIN };
	p[n + 1] = (struct pollfd){ .fd = b->stop_fd, .events = POLLIN };
	for (unsigned i = 0; i < n; i++)
		serve(b, kind[i], chain);	/* kicks that came before DRIVER_OK */
	while (!(p[n + 1].revents & POLLIN)) {
		eventfd_t v;
		if (poll(p, n + 2, -1) < 0)
			continue;
		for (unsigned i = 0; i < n; i++)
			if (p[i].revents & POLLIN) {
				eventfd_read(p[i].fd, &v);
				serve(b, kind[i], chain);
			}
		if (p[n].revents & POLLIN) {
			eventfd_read(p[n].fd, &v);
			stats_request(b);
		}
	}
	free(chain);
	return NULL;
}

static void stop_thread(struct balloon *b)
{
	if (__atomic_load_n(&b->running, __ATOMIC_ACQUIRE)) {
		eventfd_write(b->stop_fd, 1);
		pthread_join(b->thread, NULL);
		__atomic_store_n(&b->running, false, __ATOMIC_RELEASE);
	}
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	b->stop_fd = -1;
	pthread_mutex_lock(&b->lock);
	b->stats_head = -1;	/* the guest's buffer goes with the reset */
	b->actual = 0;
	__atomic_store_n(&b->vdev, NULL, __ATOMIC_RELEASE);	/* (under the lock: set_target) */
	pthread_mutex_unlock(&b->lock);
}

/* On the launcher thread: the driver must set up inflate and deflate; then the thread */
static int activate_on_launcher(void *arg)
{
	struct balloon *b = ((void **)arg)[0];
	struct virtio_dev *vdev = ((void **)arg)[1];

	if (!vdev->vq_ready[0] || !vdev->vq_ready[1])
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->vdev, vdev, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&b->lock);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0 || thread__create(&b->thread, 0, true, balloon_thread, b)) {
		stop_thread(b);
		return -ENOMEM;
	}
	__atomic_store_n(&b->running, true, __ATOMIC_RELEASE);
	return 0;
}

static int balloon_activate(void *priv, struct virtio_dev *vdev)
{
	void *args[2] = { priv, vdev };

	return launcher__call(activate_on_launcher, args);
}

static int reset_on_launcher(void *priv)
{
	stop_thread(priv);
	return 0;
}

static void balloon_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

static uint64_t balloon_features(void *priv)
{
	const struct balloon *b = priv;
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX);

	if (b->opts.stats)
		f |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
	if (b->opts.deflate_on_oom)
		f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (b->opts.free_page_reporting)
		f |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
	return f;
}

static void balloon_config_read(void *priv, uint32_t off, void *data, uint32_t len)
{
	struct balloon *b = priv;
	struct virtio_balloon_config c = { 0 };

	pthread_mutex_lock(&b->lock);
	c.num_pages = b->num_pages;
	c.actual = b->actual;
	pthread_mutex_unlock(&b->lock);
	memcpy(data, (const uint8_t *)&c + off, len);	/* the transport bounds-checked */
}

/* the driver writes actual (bytes 4..7); the rest is the device's */
static void balloon_config_write(void *priv, uint32_t off, const void *data, uint32_t len)
{
	struct balloon *b = priv;
	struct virtio_balloon_config c;

	pthread_mutex_lock(&b->lock);
	c.actual = b->actual;
	if (off >= 4 && off + len <= 8) {
		memcpy((uint8_t *)&c + off, data, len);
		b->actual = c.actual;
	}
	pthread_mutex_unlock(&b->lock);
	if (off < 4 || off + len > 8)
		driver_error(b, "a write to the configuration other than 'actual'");
}

const struct virtio_dev_ops balloon_dev_ops = {
	.name = "balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.features = balloon_features,
	.config_size = sizeof(struct virtio_balloon_config),
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.activate = balloon_activate,
	.reset = balloon_reset,
};

/* ---- the VMM's side ---- */

int balloon__init(struct balloon *b, const struct balloon_opts *opts, const struct guest_mem *mem,
		  char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->opts = *opts;
	b->mem = mem;
	/* hugetlb-backed RAM keeps its 2 MiB pages whole: a page dropped there may find no free
	 * huge page when the guest touches it again, so nothing is reported to be dropped */
	if (mem->pages == GM_PAGES_HUGETLB)
		b->opts.free_page_reporting = false;
	b->stop_fd = -1;
	b->stats_head = -1;
	if (opts->size > mem->ram_size) {
		snprintf(err, errlen, "--balloon size=%llu MiB is more than guest RAM (%llu MiB)",
			 (unsigned long long)(opts->size >> 20), (unsigned long long)(mem->ram_size >> 20));
		return -1;
	}
	b->num_pages = (uint32_t)(opts->size / BALLOON_PAGE);
	b->stats_req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stats_req_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->stats_cond, NULL);
	return 0;
}

void balloon__free(struct balloon *b)
{
	if (b->stats_req_fd >= 0)
		close(b->stats_req_fd);
	b->stats_req_fd = -1;
	pthread_cond_destroy(&b->stats_cond);
	pthread_mutex_destroy(&b->lock);
}

unsigned balloon__num_queues(const struct balloon *b)
{
	return 2 + b->opts.stats + b->opts.free_page_reporting;
}

int balloon__set_target(struct balloon *b, uint64_t bytes, uint64_t ram, char *err, size_t errlen)
{
	if (bytes > ram || bytes % BALLOON_PAGE) {
		snprintf(err, errlen, "desired_balloon must be a multiple of 4096 up to guest RAM "
			 "(%llu bytes)", (unsigned long long)ram);
		return -1;
	}
	/* the target and the interrupt under the lock that activation and reset take: a driver
	 * starting now reads the new target, a reset never gets a stray interrupt */
	pthread_mutex_lock(&b->lock);
	b->num_pages = (uint32_t)(bytes / BALLOON_PAGE);
	struct virtio_dev *v = b->vdev;
	if (v && v->t_ops->config_changed)
		v->t_ops->config_changed(v->transport);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void balloon__stats(struct balloon *b, struct balloon_stats *s, bool refresh)
{
	pthread_mutex_lock(&b->lock);
	uint64_t seen = b->stats.updates;
	bool can = refresh && __atomic_load_n(&b->running, __ATOMIC_ACQUIRE) && b->stats_head >= 0;
	pthread_mutex_unlock(&b->lock);
	if (can)
		eventfd_write(b->stats_req_fd, 1);
	pthread_mutex_lock(&b->lock);
	if (can) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += BALLOON_STATS_WAIT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (b->stats.updates == seen &&
		       pthread_cond_timedwait(&b->stats_cond, &b->lock, &until) == 0)
			;
	}
	*s = b->stats;
	pthread_mutex_unlock(&b->lock);
}

void balloon__state(struct balloon *b, uint64_t *target, uint64_t *actual,
		    struct balloon_counters *c)
{
	pthread_mutex_lock(&b->lock);
	*target = (uint64_t)b->num_pages * BALLOON_PAGE;
	*actual = (uint64_t)b->actual * BALLOON_PAGE;
	*c = b->counters;
	pthread_mutex_unlock(&b->lock);
}

const char *balloon__stat_name(unsigned t)
{
	static const char *const names[] = { "swap_in", "swap_out", "major_faults", "minor_faults",
		"free_memory", "total_memory", "available_memory", "disk_caches",
		"hugetlb_allocations", "hugetlb_failures" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : NULL;
}
