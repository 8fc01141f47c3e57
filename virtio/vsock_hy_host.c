/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid vsock's host end: the listening socket and its CONNECT lines, PATH_<port> for the guest's connections, bytes to and from the host sockets. */
#include "virtio/vsock_hy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MS(x) ((uint64_t)(x) * 1000000ULL)

void vsock_hy__watch(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	uint32_t ev = 0;

	if (k->fd < 0 || k->hup)
		return;	/* (a hung-up socket is off the epoll set: HUP would be reported forever) */
	if (k->state == HY_LINE || (!k->readable && vsock_hy__wants_read(k)))
		ev |= EPOLLIN;
	if (k->pend_len)
		ev |= EPOLLOUT;
	if (k->watched && ev == k->events)
		return;
	struct epoll_event e = { .events = ev, .data.u32 = (uint32_t)(k - h->conns) };
	if (epoll_ctl(h->epoll_fd, k->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, k->fd, &e) == 0) {
		k->watched = true;
		k->events = ev;
	}
}

void vsock_hy__accept(struct vsock_hy *h)
{
	for (unsigned n = 0; n < 16; n++) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct vsock_hy_conn *k = NULL;
		for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS && !k; i++)
			if (h->conns[i].state == HY_FREE)
				k = &h->conns[i];
		if (!k) {
			close(fd);	/* over the bound */
			HY_COUNT(h, refused, 1);
			continue;
		}
		*k = (struct vsock_hy_conn){ .state = HY_LINE, .fd = fd,
			.deadline_ns = vsock_hy__now_ns() + MS(VSOCK_HY_ACCEPT_MS) };
		vsock_hy__watch(h, k);
		if (!k->watched)
			vsock_hy__conn_free(h, k);
	}
}

int vsock_hy__connect_path(const struct vsock_hy *h, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char name[sizeof(h->path) + 16];

	if ((size_t)snprintf(name, sizeof(name), "%s_%u", h->path, port) >= sizeof(a.sun_path))
		return -1;	/* (the parser made sure it fits) */
	memcpy(a.sun_path, name, strlen(name) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A free host port for a host connection to guest port gp */
static uint32_t host_port(struct vsock_hy *h, uint32_t gp)
{
	for (;;) {
		uint32_t p = h->next_port++;
		if (h->next_port < VSOCK_HY_PORT_BASE)
			h->next_port = VSOCK_HY_PORT_BASE;
		bool used = false;
		for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS && !used; i++)
			used = h->conns[i].state != HY_FREE && h->conns[i].state != HY_LINE &&
			       h->conns[i].host_port == p && h->conns[i].guest_port == gp;
		if (!used)
			return p;
	}
}

/* "CONNECT <port>\n" (decimal, up to 2^32-1): the port, or -1 */
static int64_t parse_line(const char *s, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i = 8;

	if (n < 10 || memcmp(s, "CONNECT ", 8) || s[n - 1] != '\n')
		return -1;
	for (; i < n - 1; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 0xffffffffULL / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v > 0xffffffffULL ? -1 : (int64_t)v;
}

/* HY_LINE: reads up to the line's end (never past it: what follows is the stream's) */
static void read_line(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	char buf[VSOCK_HY_LINE_MAX];
	ssize_t r = recv(k->fd, buf, VSOCK_HY_LINE_MAX - k->line_len, MSG_PEEK);

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0)
		goto bad;
	char *nl = memchr(buf, '\n', (size_t)r);
	uint32_t take = nl ? (uint32_t)(nl - buf) + 1 : (uint32_t)r;
	if (recv(k->fd, k->line + k->line_len, take, 0) != (ssize_t)take)
		goto bad;
	k->line_len += take;
	if (!nl) {
		if (k->line_len == VSOCK_HY_LINE_MAX)
			goto bad;
		return;
	}
	int64_t port = parse_line(k->line, k->line_len);
	if (port < 0)
		goto bad;
	k->guest_port = (uint32_t)port;
	k->host_port = host_port(h, k->guest_port);
	k->state = HY_REQUEST;
	k->tell = HY_TELL_REQUEST;
	k->deadline_ns = vsock_hy__now_ns() + MS(VSOCK_HY_ACCEPT_MS);
	HY_COUNT(h, conns, 1);
	return;
bad:
	HY_COUNT(h, refused, 1);
	vsock_hy__conn_free(h, k);
}

/* Writes what waits in pend; the guest hears of the room made. false: the socket is gone. */
static bool flush(struct vsock_hy_conn *k)
{
	while (k->pend_len) {
		ssize_t w = send(k->fd, k->pend + k->pend_off, k->pend_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0)
			return false;
		uint32_t own = (uint32_t)w < k->own ? (uint32_t)w : k->own;
		k->own -= own;
		k->fwd_cnt += (uint32_t)w - own;
		k->pend_off += (uint32_t)w;
		k->pend_len -= (uint32_t)w;
	}
	if (k->fwd_cnt - k->fwd_told >= VSOCK_HY_BUF_ALLOC / 4)
		k->tell |= HY_TELL_CREDIT;	/* before the guest can run out of room */
	if (k->pend_len)
		return true;
	k->pend_off = 0;
	if (k->guest_shut_send)
		shutdown(k->fd, SHUT_WR);
	return true;
}

bool vsock_hy__host_write(struct vsock_hy_conn *k, const struct virtq_chain *c,
			  uint32_t skip, uint32_t len)
{
	if (!k->pend && !(k->pend = malloc(VSOCK_HY_BUF_ALLOC + VSOCK_HY_LINE_MAX)))
		return false;
	if (k->pend_off + k->pend_len + len > VSOCK_HY_BUF_ALLOC + VSOCK_HY_LINE_MAX) {
		memmove(k->pend, k->pend + k->pend_off, k->pend_len);
		k->pend_off = 0;
	}
	/* the payload goes behind what waits (the caller checked it fits), then out */
	k->pend_len += vsock_hy__gather(c, skip, k->pend + k->pend_off + k->pend_len, len);
	return flush(k);
}

void vsock_hy__host_eof(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	k->host_eof = true;
	k->tell |= HY_TELL_SHUTDOWN;
	if (k->hup) {
		close(k->fd);
		k->fd = -1;
		free(k->pend);
		k->pend = NULL;
		k->pend_len = k->pend_off = k->own = 0;
		k->state = HY_CLOSING;
		k->deadline_ns = vsock_hy__now_ns() + MS(VSOCK_HY_CLOSE_MS);
	}
	vsock_hy__watch(h, k);
}

/* The host closed its socket (HUP) or it failed (ERR) */
static void host_gone(struct vsock_hy *h, struct vsock_hy_conn *k)
{
	if (k->state == HY_REQUEST && (k->tell & HY_TELL_REQUEST)) {
		vsock_hy__conn_free(h, k);	/* the guest never heard of it */
		return;
	}
	if (k->state == HY_REQUEST) {	/* the guest was asked: it is told */
		close(k->fd);
		k->fd = -1;
		k->state = HY_CLOSING;
		k->tell = HY_TELL_RST;
		k->deadline_ns = vsock_hy__now_ns() + MS(VSOCK_HY_CLOSE_MS);
		return;
	}
	if (k->state != HY_OPEN)
		return;
	epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, k->fd, NULL);
	k->hup = true;
	k->watched = false;
	k->events = 0;
	if (k->host_eof)
		vsock_hy__host_eof(h, k);
	else
		k->readable = true;	/* what it sent before it went still goes to the guest */
}

void vsock_hy__host_event(struct vsock_hy *h, struct vsock_hy_conn *k, uint32_t ev)
{
	if (k->state == HY_LINE) {
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			read_line(h, k);
		if (k->state != HY_FREE)
			vsock_hy__watch(h, k);
		return;
	}
	if ((ev & EPOLLOUT) && k->pend_len && !flush(k)) {
		if (k->state == HY_DRAIN) {
			vsock_hy__conn_free(h, k);
			return;
		}
		ev |= EPOLLERR;
	}
	if (k->state == HY_DRAIN) {
		if (!k->pend_len || (ev & (EPOLLHUP | EPOLLERR)))
			vsock_hy__conn_free(h, k);
		else
			vsock_hy__watch(h, k);
		return;
	}
	if (ev & EPOLLIN)
		k->readable = true;
	if (ev & (EPOLLHUP | EPOLLERR))
		host_gone(h, k);
	if (k->state != HY_FREE)
		vsock_hy__watch(h, k);
}

int vsock_hy__expire(struct vsock_hy *h)
{
	uint64_t now = vsock_hy__now_ns(), next = UINT64_MAX;

	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS; i++) {
		struct vsock_hy_conn *k = &h->conns[i];
		bool timed = k->state == HY_LINE || k->state == HY_REQUEST || k->state == HY_DRAIN ||
			     k->state == HY_CLOSING;
		if (!timed)
			continue;
		if (k->deadline_ns > now) {
			next = k->deadline_ns < next ? k->deadline_ns : next;
			continue;
		}
		if (k->state == HY_REQUEST || k->state == HY_CLOSING) {
			if (!(k->tell & HY_TELL_REQUEST))
				vsock_hy__queue_rst(h, k->host_port, k->guest_port);
			HY_COUNT(h, refused, k->state == HY_REQUEST);
		}
		vsock_hy__conn_free(h, k);
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now) / 1000000 + 1);
}
