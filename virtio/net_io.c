/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net's data path: a queue pair's thread moves frames between the tap and the guest's rings. */
#include "virtio/net.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/seccomp.h"

#define STAT_ADD(p, field, v) \
	__atomic_store_n(&(p)->stats.field, (p)->stats.field + (v), __ATOMIC_RELAXED)

/* A frame on its way into the guest's receive buffers (MRG_RXBUF: several of them). */
struct rx_state {
	uint32_t copied;                        /* bytes of the frame in buffers so far */
	unsigned nheld;                         /* buffers filled, not yet given back */
	struct vring_used_elem held[NET_RX_CHAINS];
	unsigned nhdr;                          /* where the first buffer's header lies */
	struct virtq_iov hdr[NET_HDR_LEN];
};

struct pair_io {
	struct net_pair *p;
	struct net_dev *n;
	struct virtio_dev *v;
	int tap;
	unsigned rxq, txq;
	bool mrg;
	struct rx_state rx;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Copies len bytes of src into the chain's writable buffers; the bytes copied. */
static uint32_t copy_in(const struct virtq_chain *c, const uint8_t *src, uint32_t len)
{
	uint32_t done = 0;

	for (unsigned i = c->n_out; i < c->n_out + c->n_in && done < len; i++) {
		uint32_t k = c->iov[i].len < len - done ? c->iov[i].len : len - done;
		memcpy(c->iov[i].base, src + done, k);
		done += k;
	}
	return done;
}

/* Remembers where the first NET_HDR_LEN bytes of c lie (to set num_buffers at the end). */
static void note_header(struct rx_state *r, const struct virtq_chain *c)
{
	uint32_t left = NET_HDR_LEN;

	r->nhdr = 0;
	for (unsigned i = c->n_out; i < c->n_out + c->n_in && left; i++) {
		uint32_t k = c->iov[i].len < left ? c->iov[i].len : left;
		r->hdr[r->nhdr++] = (struct virtq_iov){ c->iov[i].base, k };
		left -= k;
	}
}

/* Writes num_buffers (bytes 10-11 of the header) through the remembered pieces. */
static void set_num_buffers(struct rx_state *r, uint16_t nb)
{
	uint8_t v[2] = { (uint8_t)nb, (uint8_t)(nb >> 8) };	/* little-endian */
	uint32_t off = 0;

	for (unsigned i = 0; i < r->nhdr; off += r->hdr[i].len, i++)
		for (uint32_t b = 0; b < r->hdr[i].len; b++)
			if (off + b >= 10 && off + b < 12)
				((uint8_t *)r->hdr[i].base)[b] = v[off + b - 10];
}

/* Gives back every held buffer with nothing in it (a frame the guest cannot take). */
static void rx_abandon(struct pair_io *io, struct virtq *q)
{
	for (unsigned i = 0; i < io->rx.nheld; i++)
		io->rx.held[i].len = 0;
	STAT_ADD(io->p, rx_dropped, 1);	/* (counted before the guest can see it) */
	virtq__push_many(q, io->rx.held, io->rx.nheld);
	io->rx.nheld = 0;
	io->rx.copied = 0;
	io->p->frame_len = 0;
}

/* The buffer c takes the next part of the waiting frame. false: the frame was dropped. */
static bool rx_fill(struct pair_io *io, struct virtq *q, const struct virtq_chain *c)
{
	struct net_pair *p = io->p;
	struct rx_state *r = &io->rx;

	r->held[r->nheld++] = (struct vring_used_elem){ .id = c->head, .len = 0 };
	if (c->n_out || (r->nheld == 1 && c->in_len < NET_HDR_LEN)) {
		net__driver_error(io->n, c->n_out ? "a receive buffer the device may not write" :
				  "a receive buffer smaller than the virtio-net header");
		rx_abandon(io, q);
		return false;
	}
	if (r->nheld == 1)
		note_header(r, c);
	uint32_t k = copy_in(c, p->frame + r->copied, p->frame_len - r->copied);
	r->held[r->nheld - 1].len = k;
	r->copied += k;
	if (r->copied < p->frame_len && (!io->mrg || r->nheld == NET_RX_CHAINS)) {
		net__driver_error(io->n, io->mrg ? "receive buffers too small for a frame" :
				  "a receive buffer smaller than a frame (MTU larger than the guest's?)");
		rx_abandon(io, q);
		return false;
	}
	return true;
}

/* Puts the waiting frame into the guest's buffers. 1 delivered (or dropped), 0 no buffers
 * (the frame waits, part of it maybe in held buffers), -1 the ring is broken. */
static int rx_deliver(struct pair_io *io, struct virtq *q)
{
	struct net_pair *p = io->p;

	while (p->frame_len && io->rx.copied < p->frame_len) {
		int r = virtq__pop(q, p->chain);
		if (r <= 0)
			return r;
		if (!rx_fill(io, q, p->chain))
			return 1;
	}
	set_num_buffers(&io->rx, (uint16_t)io->rx.nheld);
	STAT_ADD(p, rx_packets, 1);	/* counted before the guest (or a test) sees the frame */
	STAT_ADD(p, rx_bytes, p->frame_len - NET_HDR_LEN);
	STAT_ADD(p, rx_buffers, io->rx.nheld);
	virtq__push_many(q, io->rx.held, io->rx.nheld);
	io->rx.nheld = 0;
	io->rx.copied = 0;
	p->frame_len = 0;
	return 1;
}

/* Reads the next frame from the tap: true if one is waiting now. */
static bool rx_read(struct pair_io *io)
{
	struct net_pair *p = io->p;

	while (!p->frame_len) {
		ssize_t n = read(io->tap, p->frame, NET_HDR_LEN + NET_FRAME_MAX);
		if (n < 0)
			return false;	/* EAGAIN: nothing more; other errors: the tap is gone */
		if (n <= (ssize_t)NET_HDR_LEN)
			continue;
		p->frame[10] = 1;	/* num_buffers: 1 unless MRG_RXBUF spreads it */
		p->frame[11] = 0;
		p->frame_len = (uint32_t)n;
	}
	return true;
}

/* Frames from the tap into the receive queue, at most NET_BURST. Returns whether the ring is
 * starved (frames wait for buffers: stop polling the tap until the guest kicks). */
static bool rx_serve(struct pair_io *io, bool *more)
{
	struct virtq *q = &io->v->vq[io->rxq];
	unsigned moved = 0;
	int r = 1;

	while (moved < NET_BURST && rx_read(io)) {
		r = rx_deliver(io, q);
		if (r < 0) {
			io->v->t_ops->needs_reset(io->v->transport, q->error);
			return true;
		}
		if (r == 0) {	/* no buffers: ask for a kick; maybe some came meanwhile */
			if (virtq__enable_notify(q)) {
				virtq__disable_notify(q);
				continue;
			}
			STAT_ADD(io->p, rx_waits, 1);
			break;
		}
		moved++;
	}
	*more = moved == NET_BURST;
	if ((moved || io->rx.nheld) && virtq__should_notify(q)) {
		STAT_ADD(io->p, notifies, 1);
		io->v->t_ops->notify_used(io->v->transport, io->rxq);
	}
	return r == 0;
}

/* One frame from the guest to the tap; false if the chain was malformed. */
static void tx_one(struct pair_io *io, const struct virtq_chain *c)
{
	if (c->n_in || c->out_len <= NET_HDR_LEN) {
		net__driver_error(io->n, c->n_in ? "a transmit buffer the device may write" :
				  "a transmit buffer no longer than the virtio-net header");
		STAT_ADD(io->p, tx_dropped, 1);
		return;
	}
	for (unsigned i = 0; i < c->n_out; i++)
		io->iov[i] = (struct iovec){ c->iov[i].base, c->iov[i].len };
	/* the tap checks the header's offload fields itself: a bad one is refused (EINVAL) */
	if (writev(io->tap, io->iov, (int)c->n_out) < 0) {
		STAT_ADD(io->p, tx_dropped, 1);
		return;
	}
	STAT_ADD(io->p, tx_packets, 1);
	STAT_ADD(io->p, tx_bytes, c->out_len - NET_HDR_LEN);
}

/* Frames from the transmit queue to the tap, at most NET_BURST; *more if it stopped there. */
static void tx_serve(struct pair_io *io, bool *more)
{
	struct virtq *q = &io->v->vq[io->txq];
	unsigned moved = 0;
	int r = 0;

	*more = false;
	do {
		virtq__disable_notify(q);
		while (moved < NET_BURST && (r = virtq__pop(q, io->p->chain)) == 1) {
			tx_one(io, io->p->chain);
			virtq__push(q, io->p->chain->head, 0);
			moved++;
		}
		if (r < 0) {
			io->v->t_ops->needs_reset(io->v->transport, q->error);
			return;
		}
		if (moved == NET_BURST) {
			*more = true;	/* kicks stay off: the loop comes back at once */
			break;
		}
	} while (virtq__enable_notify(q));
	if (moved && virtq__should_notify(q)) {
		STAT_ADD(io->p, notifies, 1);
		io->v->t_ops->notify_used(io->v->transport, io->txq);
	}
}

enum { FD_TX, FD_RX, FD_TAP, FD_STOP, FD_CTRL, FD_COUNT };

/* Drains a kick eventfd if poll said so. */
static bool kicked(struct pollfd *p)
{
	eventfd_t v;

	if (!(p->revents & POLLIN))
		return false;
	eventfd_read(p->fd, &v);
	return true;
}

static void pair_loop(struct pair_io *io, struct pollfd *pf, unsigned nfd)
{
	bool starved = false, rx_more = true, tx_more = true;
	struct virtq *rxq = &io->v->vq[io->rxq];

	virtq__disable_notify(rxq);	/* no rx kicks while it has buffers */
	while (!(pf[FD_STOP].revents & POLLIN)) {
		pf[FD_TAP].events = starved ? 0 : POLLIN;
		if (poll(pf, nfd, rx_more || tx_more ? 0 : -1) < 0)
			continue;
		if (kicked(&pf[FD_TX]) || tx_more)
			tx_serve(io, &tx_more);
		if (kicked(&pf[FD_RX]) || (pf[FD_TAP].revents & POLLIN) || rx_more) {
			if (starved)
				virtq__disable_notify(rxq);
			starved = rx_serve(io, &rx_more);
		}
		if (nfd > FD_CTRL && kicked(&pf[FD_CTRL]))
			net__serve_ctrl(io->n, io->p->chain);
	}
}

void *net__pair_thread(void *arg)
{
	struct net_pair *p = arg;
	struct net_dev *n = p->n;
	struct pair_io *io = calloc(1, sizeof(*io));

	pthread_setname_np(pthread_self(), "virtio-net");
	seccomp__enter(SECCOMP_KIND_NET);
	struct virtio_dev *v = n->vdev;
	if (!io) {
		v->t_ops->needs_reset(v->transport, "out of memory");
		return NULL;
	}
	*io = (struct pair_io){ .p = p, .n = n, .v = v, .tap = n->tap.fd[p->idx],
				.rxq = 2 * p->idx, .txq = 2 * p->idx + 1,
				.mrg = virtio__has(v, VIRTIO_NET_F_MRG_RXBUF) };
	struct pollfd pf[FD_COUNT] = {
		[FD_TX] = { .fd = v->kick_fd[io->txq], .events = POLLIN },
		[FD_RX] = { .fd = v->kick_fd[io->rxq], .events = POLLIN },
		[FD_TAP] = { .fd = io->tap, .events = POLLIN },
		[FD_STOP] = { .fd = n->stop_fd, .events = POLLIN },
	};
	unsigned nfd = FD_CTRL;
	int cq = net__ctrl_queue(n, v);
	if (p->idx == 0 && cq >= 0 && v->vq_ready[cq]) {
		pf[FD_CTRL] = (struct pollfd){ .fd = v->kick_fd[cq], .events = POLLIN };
		nfd = FD_COUNT;
		net__serve_ctrl(n, p->chain);	/* commands sent before DRIVER_OK */
	}
	pair_loop(io, pf, nfd);
	p->frame_len = 0;	/* a reset: the frame waiting, and the buffers it held, are gone */
	free(io);
	return NULL;
}
