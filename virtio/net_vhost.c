/* SPDX-License-Identifier: Apache-2.0 */
/* vhost-net: the host kernel moves the frames (one /dev/vhost-net per queue pair); kvmini sets it up and relays its interrupts. */
#include "virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "devices/thread.h"
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

/* Guest RAM as vhost sees it: each region's guest address, size and kvmini's address */
static int set_mem_table(int fd, const struct guest_mem *mem)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + mem->n * sizeof(m->regions[0]));

	if (!m)
		return -ENOMEM;
	m->nregions = mem->n;
	for (unsigned i = 0; i < mem->n; i++)
		m->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->r[i].gpa, .memory_size = mem->r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)mem->r[i].host };
	int r = ioctl(fd, VHOST_SET_MEM_TABLE, m) ? -errno : 0;
	free(m);
	return r;
}

/* One of the pair's queues (0 rx, 1 tx) handed to vhost: its rings, kick and call */
static int set_vring(struct net_dev *n, int fd, const struct virtio_dev *v, unsigned pair,
		     unsigned k)
{
	unsigned qi = 2 * pair + k;
	const struct virtq *q = &v->vq[qi];
	struct vhost_vring_state num = { .index = k, .num = q->size }, base = { .index = k };
	struct vhost_vring_addr addr = {
		.index = k, .desc_user_addr = (uint64_t)(uintptr_t)q->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)q->avail,
		.used_user_addr = (uint64_t)(uintptr_t)q->used };
	struct vhost_vring_file kick = { .index = k, .fd = v->kick_fd[qi] },
				call = { .index = k, .fd = n->vh.call[qi] },
				backend = { .index = k, .fd = n->tap.fd[pair] };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) || ioctl(fd, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) || ioctl(fd, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &call) || ioctl(fd, VHOST_NET_SET_BACKEND, &backend))
		return -errno;
	return 0;
}

static int start_pair(struct net_dev *n, const struct virtio_dev *v, unsigned pair)
{
	int fd = n->vh.fd[pair];
	uint64_t f = v->features & VHOST_RING_BITS;

	if (ioctl(fd, VHOST_SET_OWNER) && errno != EBUSY)
		return -errno;
	if (ioctl(fd, VHOST_SET_FEATURES, &f))
		return -errno;
	int e = set_mem_table(fd, n->mem);
	for (unsigned k = 0; k < 2 && !e; k++)
		e = set_vring(n, fd, v, pair, k);
	return e;
}

/* vhost signals a queue's call eventfd when the guest wants an interrupt: the transport's
 * notify_used raises it (MSI-X vector, or virtio-mmio's status bit and line). Pair 0's
 * control queue is served here too. */
static void *relay_thread(void *arg)
{
	struct net_dev *n = arg;
	struct virtio_dev *v = n->vdev;
	struct pollfd p[2 * NET_MAX_PAIRS + 2];
	unsigned qi[2 * NET_MAX_PAIRS], nq = 0;
	int cq = net__ctrl_queue(n, v);

	pthread_setname_np(pthread_self(), "virtio-net");
	seccomp__enter(SECCOMP_KIND_NET);
	for (unsigned i = 0; i < 2 * n->pairs; i++)
		if (v->vq_ready[i & ~1u] && v->vq_ready[i | 1u]) {
			qi[nq] = i;
			p[nq++] = (struct pollfd){ .fd = n->vh.call[i], .events = POLLIN };
		}
	unsigned nfd = nq;
	p[nfd++] = (struct pollfd){ .fd = n->stop_fd, .events = POLLIN };
	bool ctrl = cq >= 0 && v->vq_ready[cq];
	if (ctrl) {
		p[nfd++] = (struct pollfd){ .fd = v->kick_fd[cq], .events = POLLIN };
		net__serve_ctrl(n, n->pair[0].chain);
	}
	while (!(p[nq].revents & POLLIN)) {
		eventfd_t val;
		if (poll(p, nfd, -1) < 0)
			continue;
		for (unsigned i = 0; i < nq; i++)
			if ((p[i].revents & POLLIN) && eventfd_read(p[i].fd, &val) == 0) {
				__atomic_add_fetch(&n->vh.interrupts, 1, __ATOMIC_RELAXED);
				v->t_ops->notify_used(v->transport, qi[i]);
			}
		if (ctrl && (p[nq + 1].revents & POLLIN) && eventfd_read(p[nq + 1].fd, &val) == 0)
			net__serve_ctrl(n, n->pair[0].chain);
	}
	return NULL;
}

int net__vhost_start(struct net_dev *n, struct virtio_dev *v)
{
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
	}
	if (thread__create(&n->vh.thread, 0, true, relay_thread, n))
		return -ENOMEM;
	__atomic_store_n(&n->vh.running, true, __ATOMIC_RELEASE);
	return 0;
}

void net__vhost_stop(struct net_dev *n)
{
	if (__atomic_load_n(&n->vh.running, __ATOMIC_ACQUIRE)) {
		pthread_join(n->vh.thread, NULL);	/* the caller signalled stop_fd */
		__atomic_store_n(&n->vh.running, false, __ATOMIC_RELEASE);
	}
	for (unsigned i = 0; i < n->pairs; i++) {
		if (n->vh.fd[i] < 0)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			struct vhost_vring_file off = { .index = k, .fd = -1 };
			ioctl(n->vh.fd[i], VHOST_NET_SET_BACKEND, &off);
		}
		ioctl(n->vh.fd[i], VHOST_RESET_OWNER);	/* forgets rings and memory */
	}
	for (unsigned i = 0; i < 2 * n->pairs; i++) {
		eventfd_t val;
		if (n->vh.call[i] >= 0)
			eventfd_read(n->vh.call[i], &val);	/* a stale interrupt */
	}
}
