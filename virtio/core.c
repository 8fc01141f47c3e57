/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-independent half of a virtio transport: device status, features, queue enable. */
#include "virtio/core.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

static void needs_reset(struct virtio_dev *v, const char *why)
{
	v->t_ops->needs_reset(v->transport, why);
}

void virtio_core__driver_features_write(struct virtio_dev *v, const struct virtio_core_ops *ops,
					uint32_t status, uint64_t *driver_features, uint32_t sel,
					uint32_t val)
{
	if (status & VIRTIO_CONFIG_S_FEATURES_OK)
		ops->driver_error(v->transport, "feature write after FEATURES_OK");
	else if (sel < 2)
		virtio_core__set_half(driver_features, sel, val);
}

bool virtio_core__queue_enable(struct virtio_dev *v, const struct virtio_core_ops *ops,
			       const struct guest_mem *mem, unsigned idx, uint16_t num,
			       uint64_t desc, uint64_t avail, uint64_t used)
{
	if (num == 0 || num > v->queue_max || (num & (num - 1))) {
		ops->driver_error(v->transport,
				  "queue enabled with a size that is 0, too big or not a power of 2");
		needs_reset(v, "bad queue size");
		return false;
	}
	int e = virtq__init(&v->vq[idx], mem, num, desc, avail, used,
			    virtio__has(v, VIRTIO_RING_F_EVENT_IDX),
			    virtio__has(v, VIRTIO_RING_F_INDIRECT_DESC));
	if (e) {
		ops->driver_error(v->transport, v->vq[idx].error);
		needs_reset(v, v->vq[idx].error);
		return false;
	}
	v->vq_ready[idx] = true;
	return true;
}

void virtio_core__status_write(struct virtio_dev *v, const struct virtio_core_ops *ops,
			       uint32_t *status, bool *active, uint64_t driver_features, uint32_t val)
{
	uint32_t old = __atomic_load_n(status, __ATOMIC_SEQ_CST);

	if (val == 0) {
		ops->reset(v->transport);
		return;
	}
	if ((old & ~val) & ~VIRTIO_CONFIG_S_NEEDS_RESET) {
		ops->driver_error(v->transport, "status bits cleared without a reset");
		return;
	}
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t offered = v->ops->features(v->priv);
		if ((driver_features & ~offered) || !(driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			ops->driver_error(v->transport,
					  "features not offered, or no VIRTIO_F_VERSION_1 (legacy driver)");
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;	/* the driver sees it did not stick */
		} else {
			v->features = driver_features;
		}
	}
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
			ops->driver_error(v->transport, "DRIVER_OK without FEATURES_OK");
			needs_reset(v, "DRIVER_OK without FEATURES_OK");
		} else if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET)) {
			int e = v->ops->activate(v->priv, v);
			if (e) {
				__atomic_fetch_or(status, val, __ATOMIC_SEQ_CST);
				needs_reset(v, "the device could not start");
				return;
			}
			*active = true;
		}
	}
	/* keep NEEDS_RESET, whether set before this write, by it (DRIVER_OK without FEATURES_OK)
	 * or meanwhile by the I/O threads, which run from inside activate and may find a bad
	 * chain queued before DRIVER_OK: a plain store would erase it and the driver would never
	 * learn (found by the blk fuzz target and the hostile-guest suite) */
	uint32_t cur = __atomic_load_n(status, __ATOMIC_SEQ_CST);
	while (!__atomic_compare_exchange_n(status, &cur, val | (cur & VIRTIO_CONFIG_S_NEEDS_RESET),
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

int virtio_core__kicks_open(struct virtio_dev *v)
{
	for (unsigned i = 0; i < v->num_queues; i++) {
		v->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->kick_fd[i] < 0)
			return -errno;
	}
	return 0;
}

void virtio_core__kicks_close(struct virtio_dev *v)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (v->kick_fd[i] >= 0)
			close(v->kick_fd[i]);
		v->kick_fd[i] = -1;
	}
}

void virtio_core__reset(struct virtio_dev *v, uint32_t *status, bool *active)
{
	if (*active || *status)
		v->ops->reset(v->priv);
	*active = false;
	__atomic_store_n(status, 0, __ATOMIC_SEQ_CST);
	v->features = 0;
	memset(v->vq_ready, 0, sizeof(v->vq_ready));
	for (unsigned i = 0; i < v->num_queues; i++) {
		eventfd_t drop;
		eventfd_read(v->kick_fd[i], &drop);	/* stale kicks die with the queues */
	}
}

bool virtio_core__needs_reset(uint32_t *status)
{
	return !(__atomic_fetch_or(status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_SEQ_CST) &
		 VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* FNV-1a of the text without its numbers (decimal, and hex after "0x"), so that "buffer
 * outside RAM (0x1000+512)" and "(0x2000+16)" are one kind; never 0 (a free slot) */
static uint32_t report_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		if (s[0] == '0' && s[1] == 'x') {
			for (s += 2; isxdigit((unsigned char)*s); s++)
				;
			s--;
			continue;
		}
		if (isdigit((unsigned char)*s))
			continue;
		h = (h ^ (uint8_t)*s) * 16777619u;
	}
	return h ? h : 1;
}

/* true for the first report of this kind; false for a repeat or once the table is full */
static bool report_first(struct virtio_report *r, uint32_t h)
{
	for (unsigned i = 0; i < VIRTIO_REPORT_KINDS; i++) {
		uint32_t cur = __atomic_load_n(&r->seen[i], __ATOMIC_ACQUIRE);
		if (cur == 0 && __atomic_compare_exchange_n(&r->seen[i], &cur, h, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
		if (cur == h)
			return false;
	}
	return false;
}

void virtio_core__report(struct virtio_report *r, const char *who, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (report_first(r, report_hash(msg)))
		fprintf(stderr, "kvmini: %s: %s\n", who, msg);
	else if (r->seen[VIRTIO_REPORT_KINDS - 1] &&
		 !__atomic_exchange_n(&r->capped, true, __ATOMIC_ACQ_REL))
		fprintf(stderr, "kvmini: %s: more kinds of guest errors than %d: the rest are only "
			"counted\n", who, VIRTIO_REPORT_KINDS);
}

void virtio_core__driver_error(uint64_t *errors, struct virtio_report *r, const char *who,
			       const char *what)
{
	(*errors)++;
	virtio_core__report(r, who, "driver error: %s", what);
}
