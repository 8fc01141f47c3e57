/* SPDX-License-Identifier: Apache-2.0 */
/* vhost-net: the host kernel moves the frames (one /dev/vhost-net per queue pair); kvmini sets it up and relays its interrupts. */
#include "virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "virtio/vhost.h"
#include "vmm/seccomp.h"

/* the feature bits vhost-net itself takes part in (the ring's, and the header's size) */
#define VHOST_RING_BITS ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))

void net__vhost_init(struct net_vhost *vh)
{
	memset(vh, 0, sizeof(*vh));
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
		vh->fd[i] = -1;
	for (unsigned i = 0; i < 2 * NET_MAX_PAIRS; i++)
		vh->call[i] = -1;
}

int net__vhost_open(struct net_dev *n, char *err, size_t errlen)
{
	struct net_vhost *vh = &n->vh;

	for (unsigned i = 0; i < n->pairs; i++) {
		vh->fd[i] = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
		if (vh->fd[i] < 0) {
			snprintf(err, errlen, "/dev/vhost-net: %s%s", strerror(errno),
				 errno == ENOENT ? " (modprobe vhost_net)" : "");
			return -1;
		}
	}
	if (ioctl(vh->fd[0], VHOST_GET_FEATURES, &vh->features)) {
		snprintf(err, errlen, "/dev/vhost-net: VHOST_GET_FEATURES: %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < 2 * n->pairs; i++) {
		vh->call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vh->call[i] < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

uint64_t net__vhost_mask(const struct net_dev *n, uint64_t offer)
{
	return offer & ~(VHOST_RING_BITS & ~n->vh.features);
}

void net__vhost_close(struct net_vhost *vh)
{
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
		if (vh->fd[i] >= 0)
			close(vh->fd[i]);
	for (unsigned i = 0; i < 2 * NET_MAX_PAIRS; i++)
		if (vh->call[i] >= 0)
			close(vh->call[i]);
	net__vhost_init(vh);
}

/* pair's queues handed to vhost: setup, both rings, the tap queue behind them */
static int start_pair(struct net_dev *n, const struct virtio_dev *v, unsigned pair)
{
	int fd = n->vh.fd[pair];
	int e = vhost__setup(fd, v->features & VHOST_RING_BITS, n->mem);

	for (unsigned k = 0; k < 2 && !e; k++) {
		unsigned qi = 2 * pair + k;
		struct vhost_vring_file backend = { .index = k, .fd = n->tap.fd[pair] };
		e = vhost__set_vring(fd, k, &v->vq[qi], v->kick_fd[qi], n->vh.call[qi]);
		if (!e && ioctl(fd, VHOST_NET_SET_BACKEND, &backend))
			e = -errno;
	}
	return e;
}

static void serve_ctrl(void *ctx)
{
	struct net_dev *n = ctx;

	net__serve_ctrl(n, n->pair[0].chain);
}

int net__vhost_start(struct net_dev *n, struct virtio_dev *v)
{
	struct vhost_relay *r = &n->vh.relay;
	int cq = net__ctrl_queue(n, v);

	*r = (struct vhost_relay){ .v = v, .stop_fd = n->stop_fd, .extra_fd = -1,
				   .name = "virtio-net", .seccomp_kind = SECCOMP_KIND_NET };
	for (unsigned i = 0; i < n->pairs; i++) {
		if (!v->vq_ready[2 * i] || !v->vq_ready[2 * i + 1])
			continue;
		int e = start_pair(n, v, i);
		if (e) {
			char why[96];
			snprintf(why, sizeof(why), "vhost-net setup: %s", strerror(-e));
			net__driver_error(n, why);
			return e;
		}
		for (unsigned k = 0; k < 2; k++) {
			r->call[r->n] = n->vh.call[2 * i + k];
			r->qi[r->n++] = 2 * i + k;
		}
	}
	if (cq >= 0 && v->vq_ready[cq]) {	/* the control queue: served by the relay */
		r->extra_fd = v->kick_fd[cq];
		r->extra = serve_ctrl;
		r->ctx = n;
	}
	return vhost__relay_start(r);
}

void net__vhost_stop(struct net_dev *n)
{
	vhost__relay_stop(&n->vh.relay);	/* the caller signalled stop_fd */
	for (unsigned i = 0; i < n->pairs; i++) {
		if (n->vh.fd[i] < 0)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			struct vhost_vring_file off = { .index = k, .fd = -1 };
			ioctl(n->vh.fd[i], VHOST_NET_SET_BACKEND, &off);
		}
		ioctl(n->vh.fd[i], VHOST_RESET_OWNER);	/* forgets rings and memory */
	}
}
