/* SPDX-License-Identifier: Apache-2.0 */
/* What vhost-net and vhost-vsock share: handing a device's queues and guest RAM to the host kernel, and relaying its interrupts. */
#ifndef KVMINI_VIRTIO_VHOST_H
#define KVMINI_VIRTIO_VHOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

#define VHOST_RELAY_MAX 8u	/* call eventfds one relay thread watches */

/* VHOST_SET_OWNER (EBUSY: already), VHOST_SET_FEATURES and VHOST_SET_MEM_TABLE (guest RAM's
 * regions at kvmini's addresses) on vhost fd. 0 or -errno. */
int vhost__setup(int fd, uint64_t features, const struct guest_mem *mem);

/* vhost's queue k: virtio queue q's size, rings (their host addresses), kick eventfd (the
 * transport's) and call eventfd. 0 or -errno. */
int vhost__set_vring(int fd, unsigned k, const struct virtq *q, int kick, int call);

/* A thread that raises the transport's interrupt for queue qi[i] whenever vhost signals
 * call[i], and calls extra(ctx) when extra_fd is readable (virtio-net's control queue); it
 * ends when stop_fd is. */
struct vhost_relay {
	struct virtio_dev *v;
	unsigned n;
	int call[VHOST_RELAY_MAX];
	unsigned qi[VHOST_RELAY_MAX];
	int stop_fd;
	int extra_fd;                    /* -1: none */
	void (*extra)(void *ctx);
	void *ctx;
	const char *name;                /* the thread's name */
	int seccomp_kind;                /* enum seccomp_kind */
	pthread_t thread;
	bool running;
	uint64_t interrupts;             /* relayed (atomic) */
};

/* Starts r's thread (r filled in). 0 or -ENOMEM. */
int vhost__relay_start(struct vhost_relay *r);
/* Joins it (the caller signalled stop_fd) and drops interrupts still pending. */
void vhost__relay_stop(struct vhost_relay *r);

#endif
