/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid virtio-vsock, the device (virtio 1.2 5.10): its thread serves rx and tx, the listening socket and every connection's socket from one epoll set. */
#include "virtio/vsock_hy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "devices/thread.h"
#include "vmm/launcher.h"
#include "vmm/seccomp.h"

#define RXQ 0
#define TXQ 1
/* epoll tags past the connections' indices */
#define TAG_RX     (VSOCK_HY_MAX_CONNS + 0)
#define TAG_TX     (VSOCK_HY_MAX_CONNS + 1)
#define TAG_STOP   (VSOCK_HY_MAX_CONNS + 2)
#define TAG_LISTEN (VSOCK_HY_MAX_CONNS + 3)

uint64_t vsock_hy__now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

void vsock_hy__count(struct vsock_hy *h, size_t field_off, uint64_t v)
{
	pthread_mutex_lock(&h->lock);
	*(uint64_t *)((uint8_t *)&h->counters + field_off) += v;
	pthread_mutex_unlock(&h->lock);
}

void vsock_hy__driver_error(struct vsock_hy *h, const char *what)
{
	pthread_mutex_lock(&h->lock);
	virtio_core__driver_error(&h->counters.errors, &h->reports, "virtio-vsock", what);
	pthread_mutex_unlock(&h->lock);
}

void vsock_hy__counters(struct vsock_hy *h, struct vsock_hy_counters *c)
{
	pthread_mutex_lock(&h->lock);
	*c = h->counters;
	pthread_mutex_unlock(&h->lock);
}

/* ---- the queues ---- */

/* The guest's packets: at most VSOCK_HY_BATCH. true: the batch is spent, come back at once
 * (kicks stay off until a pass finds the ring empty and re-arms them: returning false after
 * a full batch without re-arming would lose the next kick, and with it a CREDIT_UPDATE) */
static bool serve_tx(struct vsock_hy *h)
{
	struct virtq *q = &h->vdev->vq[TXQ];
	unsigned n = 0;
	int r = 0;

	for (;;) {
		virtq__disable_notify(q);
		while (n < VSOCK_HY_BATCH && (r = virtq__pop(q, h->txc)) == 1) {
			vsock_hy__from_guest(h, h->txc);
			virtq__push(q, h->txc->head, 0);
			h->pushed_tx = true;
			n++;
		}
		if (r < 0) {
			h->vdev->t_ops->needs_reset(h->vdev->transport, q->error);
			return false;
		}
		if (n == VSOCK_HY_BATCH)
			return true;
		if (!virtq__enable_notify(q))
			return false;
	}
}

/* An rx chain in h->chain (have_rx): false when the ring is empty (its kick is awaited) or
 * broken */
static bool take_rx(struct vsock_hy *h)
{
	struct virtq *q = &h->vdev->vq[RXQ];

	while (!h->have_rx) {
		int r = virtq__pop(q, h->chain);
		if (r < 0) {
			h->vdev->t_ops->needs_reset(h->vdev->transport, q->error);
			return false;
		}
		if (r == 0) {
			if (virtq__enable_notify(q))
				continue;
			h->rx_empty = true;
			return false;
		}
		if (h->chain->n_out || h->chain->in_len < VSOCK_HDR_LEN) {
			vsock_hy__driver_error(h, h->chain->n_out ? "an rx buffer the device may only read" :
					       "an rx buffer smaller than the packet header");
			virtq__push(q, h->chain->head, 0);
			h->pushed_rx = true;
			continue;
		}
		h->have_rx = true;
	}
	return true;
}

/* Packets for the guest while it has buffers: at most VSOCK_HY_BATCH; whether more wait */
static bool serve_rx(struct vsock_hy *h)
{
	struct virtq *q = &h->vdev->vq[RXQ];

	virtq__disable_notify(q);
	for (unsigned n = 0; n < VSOCK_HY_BATCH; n++) {
		if (!vsock_hy__has_output(h) || !take_rx(h))
			return false;
		uint32_t len = vsock_hy__to_guest(h, h->chain);
		if (!len)
			return false;	/* (a socket had nothing after all: the chain is kept) */
		virtq__push(q, h->chain->head, len);
		h->have_rx = false;
		h->pushed_rx = true;
		HY_COUNT(h, rx_packets, 1);
	}
	return vsock_hy__has_output(h);
}

static void notify(struct vsock_hy *h)
{
	if (h->pushed_rx && virtq__should_notify(&h->vdev->vq[RXQ]))
		h->vdev->t_ops->notify_used(h->vdev->transport, RXQ);
	if (h->pushed_tx && virtq__should_notify(&h->vdev->vq[TXQ]))
		h->vdev->t_ops->notify_used(h->vdev->transport, TXQ);
	h->pushed_rx = h->pushed_tx = false;
}

/* ---- the thread ---- */

static bool watch_fd(struct vsock_hy *h, int fd, uint32_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = tag };

	return !epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &e);
}

/* One epoll event; false for stop */
static bool event(struct vsock_hy *h, const struct epoll_event *e, bool *tx_more)
{
	uint32_t tag = e->data.u32;
	eventfd_t v;

	if (tag == TAG_STOP)
		return false;
	if (tag == TAG_RX) {
		eventfd_read(h->vdev->kick_fd[RXQ], &v);
		h->rx_empty = false;
	} else if (tag == TAG_TX) {
		eventfd_read(h->vdev->kick_fd[TXQ], &v);
		*tx_more = true;
	} else if (tag == TAG_LISTEN) {
		vsock_hy__accept(h);
	} else if (tag < VSOCK_HY_MAX_CONNS && h->conns[tag].state != HY_FREE) {
		vsock_hy__host_event(h, &h->conns[tag], e->events);
	}
	return true;
}

static void *hy_thread(void *arg)
{
	struct vsock_hy *h = arg;
	struct epoll_event ev[32];
	bool tx_more = true, rx_more = true, run = true;	/* buffers from before DRIVER_OK */

	pthread_setname_np(pthread_self(), "virtio-vsock");
	seccomp__enter(SECCOMP_KIND_VSOCK);
	if (!watch_fd(h, h->vdev->kick_fd[RXQ], TAG_RX) || !watch_fd(h, h->vdev->kick_fd[TXQ], TAG_TX) ||
	    !watch_fd(h, h->stop_fd, TAG_STOP) || !watch_fd(h, h->listen_fd, TAG_LISTEN)) {
		h->vdev->t_ops->needs_reset(h->vdev->transport, "epoll_ctl failed");
		run = false;
	}
	while (run) {
		int timeout = vsock_hy__expire(h);
		if (tx_more || (rx_more && !h->rx_empty))
			timeout = 0;
		int n = epoll_wait(h->epoll_fd, ev, 32, timeout);
		for (int i = 0; i < n && run; i++)
			run = event(h, &ev[i], &tx_more);
		if (!run)
			break;
		if (tx_more)
			tx_more = serve_tx(h);
		rx_more = !h->rx_empty && serve_rx(h);
		notify(h);
	}
	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS; i++)
		if (h->conns[i].state != HY_FREE)
			vsock_hy__conn_free(h, &h->conns[i]);
	h->nrst = 0;
	h->have_rx = false;
	epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, h->vdev->kick_fd[RXQ], NULL);
	epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, h->vdev->kick_fd[TXQ], NULL);
	epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, h->stop_fd, NULL);
	epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, h->listen_fd, NULL);
	return NULL;
}

/* ---- activation and reset, on the launcher thread ---- */

static void stop_thread(struct vsock_hy *h)
{
	if (__atomic_load_n(&h->running, __ATOMIC_ACQUIRE)) {
		eventfd_write(h->stop_fd, 1);
		pthread_join(h->thread, NULL);
		__atomic_store_n(&h->running, false, __ATOMIC_RELEASE);
	}
	if (h->stop_fd >= 0)
		close(h->stop_fd);
	h->stop_fd = -1;
	h->vdev = NULL;
}

static int activate_on_launcher(void *arg)
{
	struct vsock_hy *h = ((void **)arg)[0];
	struct virtio_dev *vdev = ((void **)arg)[1];

	if (!vdev->vq_ready[RXQ] || !vdev->vq_ready[TXQ])
		return -EINVAL;
	h->vdev = vdev;
	h->rx_empty = false;
	h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->stop_fd < 0 || thread__create(&h->thread, 0, true, hy_thread, h)) {
		stop_thread(h);
		return -ENOMEM;
	}
	__atomic_store_n(&h->running, true, __ATOMIC_RELEASE);
	return 0;
}

static int hy_activate(void *priv, struct virtio_dev *vdev)
{
	void *args[2] = { priv, vdev };

	return launcher__call(activate_on_launcher, args);
}

static int reset_on_launcher(void *priv)
{
	stop_thread(priv);
	return 0;
}

static void hy_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

static uint64_t hy_features(void *priv)
{
	(void)priv;
	return (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	       (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
}

static void hy_config_read(void *priv, uint32_t off, void *data, uint32_t len)
{
	const struct vsock_hy *h = priv;
	struct virtio_vsock_config c = { .guest_cid = htole64(h->cid) };

	memcpy(data, (const uint8_t *)&c + off, len);	/* the transport bounds-checked */
}

static void hy_config_write(void *priv, uint32_t off, const void *data, uint32_t len)
{
	(void)off;
	(void)data;
	(void)len;
	vsock_hy__driver_error(priv, "a write to the read-only configuration");
}

const struct virtio_dev_ops vsock_hy_dev_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = hy_features,
	.config_size = sizeof(struct virtio_vsock_config),
	.config_read = hy_config_read,
	.config_write = hy_config_write,
	.activate = hy_activate,
	.reset = hy_reset,
};
