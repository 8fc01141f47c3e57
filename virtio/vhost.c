/* SPDX-License-Identifier: Apache-2.0 */
/* vhost setup common to vhost-net and vhost-vsock, and the thread that relays vhost's interrupts to the transport. */
#include "virtio/vhost.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>

#include "devices/thread.h"
#include "vmm/seccomp.h"

int vhost__setup(int fd, uint64_t features, const struct guest_mem *mem)
{
	if (ioctl(fd, VHOST_SET_OWNER) && errno != EBUSY)
		return -errno;
	if (ioctl(fd, VHOST_SET_FEATURES, &features))
		return -errno;
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

int vhost__set_vring(int fd, unsigned k, const struct virtq *q, int kick, int call)
{
	struct vhost_vring_state num = { .index = k, .num = q->size }, base = { .index = k };
	struct vhost_vring_addr addr = {
		.index = k, .desc_user_addr = (uint64_t)(uintptr_t)q->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)q->avail,
		.used_user_addr = (uint64_t)(uintptr_t)q->used };
	struct vhost_vring_file kf = { .index = k, .fd = kick }, cf = { .index = k, .fd = call };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) || ioctl(fd, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) || ioctl(fd, VHOST_SET_VRING_KICK, &kf) ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &cf))
		return -errno;
	return 0;
}

static void *relay_thread(void *arg)
{
	struct vhost_relay *r = arg;
	struct pollfd p[VHOST_RELAY_MAX + 2];
	unsigned n = r->n;

	pthread_setname_np(pthread_self(), r->name);
	seccomp__enter((enum seccomp_kind)r->seccomp_kind);
	for (unsigned i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = r->call[i], .events = POLLIN };
	p[n] = (struct pollfd){ .fd = r->stop_fd, .events = POLLIN };
	p[n + 1] = (struct pollfd){ .fd = r->extra_fd, .events = POLLIN };
	if (r->extra_fd >= 0)
		r->extra(r->ctx);	/* what came before the thread */
	while (!(p[n].revents & POLLIN)) {
		eventfd_t val;
		if (poll(p, n + 1 + (r->extra_fd >= 0), -1) < 0)
			continue;
		for (unsigned i = 0; i < n; i++)
			if ((p[i].revents & POLLIN) && eventfd_read(p[i].fd, &val) == 0) {
				__atomic_add_fetch(&r->interrupts, 1, __ATOMIC_RELAXED);
				r->v->t_ops->notify_used(r->v->transport, r->qi[i]);
			}
		if (r->extra_fd >= 0 && (p[n + 1].revents & POLLIN) &&
		    eventfd_read(r->extra_fd, &val) == 0)
			r->extra(r->ctx);
	}
	return NULL;
}

int vhost__relay_start(struct vhost_relay *r)
{
	if (r->n > VHOST_RELAY_MAX || thread__create(&r->thread, 0, true, relay_thread, r))
		return -ENOMEM;
	__atomic_store_n(&r->running, true, __ATOMIC_RELEASE);
	return 0;
}

void vhost__relay_stop(struct vhost_relay *r)
{
	if (__atomic_load_n(&r->running, __ATOMIC_ACQUIRE)) {
		pthread_join(r->thread, NULL);
		__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
	}
	for (unsigned i = 0; i < r->n; i++) {
		eventfd_t val;
		eventfd_read(r->call[i], &val);	/* a stale interrupt */
	}
}
