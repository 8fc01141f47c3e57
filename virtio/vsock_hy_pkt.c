/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid vsock's packet layer (virtio 1.2 5.10.6): the guest's packets checked and acted on, the guest's next packet chosen and built. */
#include "virtio/vsock_hy.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- bytes in and out of chains ---- */

uint32_t vsock_hy__gather(const struct virtq_chain *c, uint32_t off, void *dst, uint32_t len)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < c->n_out && done < len; i++) {
		if (off >= c->iov[i].len) {
			off -= c->iov[i].len;
			continue;
		}
		uint32_t k = c->iov[i].len - off < len - done ? c->iov[i].len - off : len - done;
		memcpy((uint8_t *)dst + done, (uint8_t *)c->iov[i].base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

/* Writes the header over the first VSOCK_HDR_LEN writable bytes (the caller checked in_len). */
static void put_header(const struct virtq_chain *c, const struct virtio_vsock_hdr *hd)
{
	uint32_t done = 0;

	for (unsigned i = c->n_out; i < c->n_out + c->n_in && done < VSOCK_HDR_LEN; i++) {
		uint32_t k = c->iov[i].len < VSOCK_HDR_LEN - done ? c->iov[i].len : VSOCK_HDR_LEN - done;
		memcpy(c->iov[i].base, (const uint8_t *)hd + done, k);
		done += k;
	}
}

/* The writable buffers past the header, at most max bytes, as an iovec; how many. */
static int payload_iov(const struct virtq_chain *c, struct iovec *iov, uint32_t max)
{
	uint32_t skip = VSOCK_HDR_LEN;
	int n = 0;

	for (unsigned i = c->n_out; i < c->n_out + c->n_in && max; i++) {
		if (skip >= c->iov[i].len) {
			skip -= c->iov[i].len;
			continue;
		}
		uint32_t k = c->iov[i].len - skip < max ? c->iov[i].len - skip : max;
		iov[n++] = (struct iovec){ (uint8_t *)c->iov[i].base + skip, k };
		max -= k;
		skip = 0;
	}
	return n;
}

/* ---- connections ---- */

static struct vsock_hy_conn *find(struct vsock_hy *h, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS; i++) {
		struct vsock_hy_conn *k = &h->conns[i];
		if ((k->state == HY_REQUEST || k->state == HY_OPEN || k->state == HY_CLOSING) &&
		    k->host_port == host_port && k->guest_port == guest_port)
			return k;
	}
	return NULL;
}

void vsock_hy__queue_rst(struct vsock_hy *h, uint32_t host_port, uint32_t guest_port)
{
	if (h->nrst < VSOCK_HY_RSTS)
		h->rst[h->nrst++] = (typeof(h->rst[0])){ host_port, guest_port };
}

void vsock_hy__conn_free(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->state != HY_LINE)
		HY_COUNT(h, conns, (uint64_t)-1);
	free(k->pend);
	*k = (struct vsock_hy_conn){ .state = HY_FREE, .fd = -1 };
}

/* Bytes the guest can take now (its buffer less what it has not consumed) */
static uint32_t guest_credit(const struct vsock_hy_conn *k)
{
	uint32_t used = k->tx_cnt - k->peer_fwd_cnt;

	return used >= k->peer_buf_alloc ? 0 : k->peer_buf_alloc - used;
}

bool vsock_hy__wants_read(const struct vsock_hy_conn *k)
{
	return k->state == HY_OPEN && k->fd >= 0 && !k->host_eof && !k->guest_shut_rcv &&
	       guest_credit(k) > 0;
}

static bool has_output(const struct vsock_hy_conn *k)
{
	return k->state != HY_FREE && k->state != HY_LINE &&
	       (k->tell || (k->readable && vsock_hy__wants_read(k)));
}

bool vsock_hy__has_output(const struct vsock_hy *h)
{
	if (h->nrst)
		return true;
	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS; i++)
		if (has_output(&h->conns[i]))
			return true;
	return false;
}

/* ---- from the guest ---- */

/* REQUEST to the host: connect to PATH_<port>; RESPONSE, or RST if nobody is there */
static void guest_request(struct vsock_hy *h, const struct virtio_vsock_hdr *hd)
{
	uint32_t hp = le32toh(hd->dst_port), gp = le32toh(hd->src_port);
	struct vsock_hy_conn *k = NULL;

	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS && !k; i++)
		if (h->conns[i].state == HY_FREE)
			k = &h->conns[i];
	int fd = k ? vsock_hy__connect_path(h, hp) : -1;
	if (fd < 0) {
		HY_COUNT(h, refused, 1);
		vsock_hy__queue_rst(h, hp, gp);
		return;
	}
	*k = (struct vsock_hy_conn){ .state = HY_OPEN, .fd = fd, .host_port = hp, .guest_port = gp,
		.tell = HY_TELL_RESPONSE, .peer_buf_alloc = le32toh(hd->buf_alloc),
		.peer_fwd_cnt = le32toh(hd->fwd_cnt) };
	HY_COUNT(h, conns, 1);
	HY_COUNT(h, guest_connects, 1);
	vsock_hy__watch(h, k);
}

/* The guest accepted a host connection: "OK <host port>\n" to the host, then the bytes */
static void guest_response(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	char ok[24];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", k->host_port);

	k->state = HY_OPEN;
	HY_COUNT(h, host_connects, 1);
	k->pend = malloc(VSOCK_HY_BUF_ALLOC + VSOCK_HY_LINE_MAX);
	if (!k->pend) {
		k->tell = HY_TELL_RST;
		return;
	}
	memcpy(k->pend, ok, (size_t)n);
	k->pend_len = k->own = (uint32_t)n;	/* kvmini's, not counted as the guest's */
	vsock_hy__host_event(h, k, EPOLLOUT);
}

/* SHUTDOWN from the guest: no more sending (the host socket's write side closes once the
 * pending bytes went), no more receiving; both: the guest closed, it gets its RST */
static void guest_shutdown(struct vsock_hy_conn *k, uint32_t flags)
{
	k->guest_shut_rcv |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_RCV);
	k->guest_shut_send |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_SEND);
	if (k->guest_shut_rcv && k->guest_shut_send) {
		k->tell = HY_TELL_RST;
		if (k->pend_len && k->fd >= 0) {
			k->state = HY_DRAIN;
			k->deadline_ns = vsock_hy__now_ns() + VSOCK_HY_DRAIN_MS * 1000000ULL;
		}
	} else if (k->guest_shut_send && !k->pend_len && k->fd >= 0) {
		shutdown(k->fd, SHUT_WR);
	}
}

/* RW: the payload to the host socket, within the credit the guest was given */
static void guest_data(struct vsock_hy *h, struct vsock_hy_conn *k, const struct virtq_chain *c,
		       uint32_t len)
{
	if (k->guest_shut_send || k->pend_len - k->own + len > VSOCK_HY_BUF_ALLOC) {
		vsock_hy__driver_error(h, k->guest_shut_send ? "data after SHUTDOWN" :
				       "data past the credit the device gave");
		k->tell = HY_TELL_RST;
		return;
	}
	HY_COUNT(h, tx_bytes, len);
	if (k->fd < 0)
		return;	/* the host has gone: dropped, as a TCP peer would */
	if (!vsock_hy__host_write(k, c, VSOCK_HDR_LEN, len))
		k->tell = HY_TELL_RST;
}

/* An op on a connection kvmini has (k) or not (NULL) */
static void guest_op(struct vsock_hy *h, struct vsock_hy_conn *k, const struct virtio_vsock_hdr *hd,
		     const struct virtq_chain *c, uint32_t len)
{
	uint16_t op = le16toh(hd->op);

	if (!k) {
		if (op == VIRTIO_VSOCK_OP_REQUEST)
			guest_request(h, hd);
		else if (op != VIRTIO_VSOCK_OP_RST)
			vsock_hy__queue_rst(h, le32toh(hd->dst_port), le32toh(hd->src_port));
		return;
	}
	k->peer_buf_alloc = le32toh(hd->buf_alloc);
	k->peer_fwd_cnt = le32toh(hd->fwd_cnt);
	if (op == VIRTIO_VSOCK_OP_RST) {
		HY_COUNT(h, refused, k->state == HY_REQUEST);	/* nothing listens in the guest */
		if (k->pend_len && k->fd >= 0 && k->state == HY_OPEN) {
			k->state = HY_DRAIN;	/* what it sent before still reaches the host */
			k->tell = 0;
			k->deadline_ns = vsock_hy__now_ns() + VSOCK_HY_DRAIN_MS * 1000000ULL;
		} else {
			vsock_hy__conn_free(h, k);
		}
		return;
	}
	if (k->state == HY_CLOSING)
		return;	/* an RST is on its way to the guest */
	if (k->state == HY_REQUEST) {
		if (op == VIRTIO_VSOCK_OP_RESPONSE && !(k->tell & HY_TELL_REQUEST))
			guest_response(h, k);
		else
			k->tell = HY_TELL_RST;
	} else if (op == VIRTIO_VSOCK_OP_RW) {
		guest_data(h, k, c, len);
	} else if (op == VIRTIO_VSOCK_OP_SHUTDOWN) {
		guest_shutdown(k, le32toh(hd->flags));
	} else if (op == VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		k->tell |= HY_TELL_CREDIT;
	} else if (op != VIRTIO_VSOCK_OP_CREDIT_UPDATE) {
		k->tell = HY_TELL_RST;	/* REQUEST on an open connection, RESPONSE, unknown ops */
	}
}

void vsock_hy__from_guest(struct vsock_hy *h, const struct virtq_chain *c)
{
	struct virtio_vsock_hdr hd;

	if (c->n_in || c->out_len < VSOCK_HDR_LEN) {
		vsock_hy__driver_error(h, c->n_in ? "a tx buffer the device may write" :
				       "a tx packet shorter than its header");
		return;
	}
	vsock_hy__gather(c, 0, &hd, VSOCK_HDR_LEN);
	uint32_t len = le32toh(hd.len);
	if (len > c->out_len - VSOCK_HDR_LEN || len > VSOCK_HY_PKT_MAX ||
	    le64toh(hd.src_cid) != h->cid) {
		vsock_hy__driver_error(h, len > VSOCK_HY_PKT_MAX ? "a tx packet over 64 KiB" :
				       len > c->out_len - VSOCK_HDR_LEN ? "a tx packet's len past its buffers" :
				       "a tx packet from another CID than the guest's");
		return;
	}
	HY_COUNT(h, tx_packets, 1);
	uint16_t op = le16toh(hd.op);
	if (le64toh(hd.dst_cid) != VSOCK_HOST_CID || le16toh(hd.type) != VIRTIO_VSOCK_TYPE_STREAM) {
		if (op != VIRTIO_VSOCK_OP_RST)	/* another CID, or not a stream: refused */
			vsock_hy__queue_rst(h, le32toh(hd.dst_port), le32toh(hd.src_port));
		return;
	}
	struct vsock_hy_conn *k = find(h, le32toh(hd.dst_port), le32toh(hd.src_port));
	guest_op(h, k, &hd, c, len);
	if (k && k->state != HY_FREE)
		vsock_hy__watch(h, k);
}

/* ---- to the guest ---- */

static struct virtio_vsock_hdr header(const struct vsock_hy *h, const struct vsock_hy_conn *k,
				      uint32_t host_port, uint32_t guest_port, uint16_t op)
{
	return (struct virtio_vsock_hdr){
		.src_cid = htole64(VSOCK_HOST_CID), .dst_cid = htole64(h->cid),
		.src_port = htole32(host_port), .dst_port = htole32(guest_port),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(op),
		.buf_alloc = htole32(k ? VSOCK_HY_BUF_ALLOC : 0),
		.fwd_cnt = htole32(k ? k->fwd_cnt : 0),
	};
}

/* Host bytes into c after the header: the payload's length, 0 at the host's EOF, -1 when
 * nothing is there (EAGAIN) or the socket failed (then k is told to reset) */
static int read_host(struct vsock_hy *h, struct vsock_hy_conn *k, const struct virtq_chain *c)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint32_t max = guest_credit(k);

	if (max > VSOCK_HY_PKT_MAX)
		max = VSOCK_HY_PKT_MAX;
	int n = payload_iov(c, iov, max);
	if (!n)
		return -1;	/* (no room: the caller checked there is) */
	ssize_t r = readv(k->fd, iov, n);
	if (r < 0) {
		k->readable = false;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			k->tell = HY_TELL_RST;	/* ECONNRESET: the host reset it */
		else if (k->hup)
			r = 0;	/* all read: the EOF */
		else
			vsock_hy__watch(h, k);
		if (r < 0)
			return -1;
	}
	return (int)r;
}

/* Which packet k sends next in c (0: none); host bytes read into c's payload, *len of them.
 * Never recursive and never stuck: a buffer with room for a header only carries a credit
 * update, and the bytes wait for a bigger one. */
static uint16_t next_op(struct vsock_hy *h, struct vsock_hy_conn *k, const struct virtq_chain *c,
			uint32_t *len)
{
	if (k->state == HY_DRAIN)
		k->tell &= HY_TELL_RST;	/* the guest has closed: only the RST it is owed */
	if (k->tell & HY_TELL_RST)
		return VIRTIO_VSOCK_OP_RST;
	if (k->tell & HY_TELL_REQUEST)
		return VIRTIO_VSOCK_OP_REQUEST;
	if (k->tell & HY_TELL_RESPONSE)
		return VIRTIO_VSOCK_OP_RESPONSE;
	if (k->readable && vsock_hy__wants_read(k)) {
		if (c->in_len <= VSOCK_HDR_LEN)
			return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		int n = read_host(h, k, c);
		if (n > 0) {
			*len = (uint32_t)n;
			return VIRTIO_VSOCK_OP_RW;
		}
		if (n == 0)
			vsock_hy__host_eof(h, k);
		if (k->tell & HY_TELL_RST)
			return VIRTIO_VSOCK_OP_RST;	/* the socket failed */
	}
	if (k->tell & HY_TELL_SHUTDOWN)
		return VIRTIO_VSOCK_OP_SHUTDOWN;
	if (k->tell & HY_TELL_CREDIT)
		return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	return 0;
}

/* k's next packet into c: its length, or 0 if k had nothing after all */
static uint32_t conn_packet(struct vsock_hy *h, struct vsock_hy_conn *k, const struct virtq_chain *c)
{
	uint32_t len = 0;
	uint16_t op = next_op(h, k, c, &len);

	if (!op)
		return 0;
	struct virtio_vsock_hdr hd = header(h, k, k->host_port, k->guest_port, op);
	if (op == VIRTIO_VSOCK_OP_RST)
		HY_COUNT(h, resets, 1);
	if (op == VIRTIO_VSOCK_OP_RW) {
		k->tx_cnt += len;
		HY_COUNT(h, rx_bytes, len);
	}
	if (op == VIRTIO_VSOCK_OP_SHUTDOWN)
		hd.flags = htole32(VIRTIO_VSOCK_SHUTDOWN_SEND |
				   (k->state == HY_CLOSING ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0));
	k->tell &= op == VIRTIO_VSOCK_OP_RST ? 0 : op == VIRTIO_VSOCK_OP_REQUEST ? ~HY_TELL_REQUEST :
		   op == VIRTIO_VSOCK_OP_RESPONSE ? ~HY_TELL_RESPONSE :
		   op == VIRTIO_VSOCK_OP_SHUTDOWN ? ~HY_TELL_SHUTDOWN : ~0u;
	k->tell &= ~HY_TELL_CREDIT;	/* every packet tells the guest our fwd_cnt */
	k->fwd_told = k->fwd_cnt;
	hd.len = htole32(len);
	put_header(c, &hd);
	if (op == VIRTIO_VSOCK_OP_RST && k->state != HY_DRAIN)
		vsock_hy__conn_free(h, k);
	return VSOCK_HDR_LEN + len;
}

uint32_t vsock_hy__to_guest(struct vsock_hy *h, const struct virtq_chain *c)
{
	if (h->nrst) {
		h->nrst--;
		struct virtio_vsock_hdr hd = header(h, NULL, h->rst[h->nrst].host_port,
						    h->rst[h->nrst].guest_port, VIRTIO_VSOCK_OP_RST);
		put_header(c, &hd);
		HY_COUNT(h, resets, 1);
		return VSOCK_HDR_LEN;
	}
	for (unsigned j = 0; j < VSOCK_HY_MAX_CONNS; j++) {
		unsigned i = (h->rr + j) % VSOCK_HY_MAX_CONNS;
		struct vsock_hy_conn *k = &h->conns[i];
		if (!has_output(k))
			continue;
		uint32_t n = conn_packet(h, k, c);
		if (n) {
			h->rr = i + 1;
			return n;
		}
	}
	return 0;
}
