/* SPDX-License-Identifier: Apache-2.0 */
/* The contract between a virtio device (blk) and its transport (virtio-mmio or virtio-pci). */
#ifndef KVMINI_VIRTIO_VIRTIO_H
#define KVMINI_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

#define VIRTIO_MAX_QUEUES 9   /* virtio-net: 4 queue pairs and its control queue */

struct virtio_dev;

/* What a device implements. Called by the transport with its lock held, on vCPU threads. */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;                  /* VIRTIO_ID_BLOCK, ... */
	uint64_t (*features)(void *priv);    /* offered, transport bits included */
	uint32_t config_size;
	void (*config_read)(void *priv, uint32_t off, void *data, uint32_t len);
	void (*config_write)(void *priv, uint32_t off, const void *data, uint32_t len);
	/* DRIVER_OK: every ready queue is set up in vdev; start serving them. 0 or -errno. */
	int (*activate)(void *priv, struct virtio_dev *vdev);
	/* Device reset (status 0) or teardown: stop serving, wait for I/O in flight, forget the
	 * queues. Must not return while any thread still touches guest memory for the device. */
	void (*reset)(void *priv);
};

/* What a transport offers its device. */
struct virtio_transport_ops {
	void (*notify_used)(void *transport, unsigned queue);   /* used-buffer interrupt */
	void (*needs_reset)(void *transport, const char *why);  /* DEVICE_NEEDS_RESET + report */
	/* the device changed its configuration space (any thread): a new generation and the
	 * configuration-change interrupt */
	void (*config_changed)(void *transport);
};

/* A device instance as the transport and the device both see it. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	uint64_t features;                   /* negotiated */
	unsigned num_queues;
	uint16_t queue_max;
	struct virtq vq[VIRTIO_MAX_QUEUES];  /* valid for ready queues after activate */
	bool vq_ready[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];      /* eventfd signalled when the driver kicks queue i */
	const struct virtio_transport_ops *t_ops;
	void *transport;
};

static inline bool virtio__has(const struct virtio_dev *v, unsigned bit)
{
	return (v->features >> bit) & 1;
}

#endif
