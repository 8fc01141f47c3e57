/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-mmio transport, version 2 (virtio 1.2 §4.2): register file, ioeventfd kicks, irqfd. */
#ifndef KVMINI_VIRTIO_MMIO_H
#define KVMINI_VIRTIO_MMIO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

#define VIRTIO_MMIO_WINDOW 0x1000   /* bytes of MMIO per device */

struct virtio_mmio_queue {
	uint16_t num;
	bool ready;
	uint64_t desc, avail, used;
};

struct virtio_mmio {
	struct virtio_dev vdev;
	const struct guest_mem *mem;
	uint64_t base;
	uint32_t gsi;
	pthread_mutex_t lock;              /* the register file; vCPU threads */
	uint32_t status;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t config_generation;
	uint64_t driver_features;
	uint32_t isr;                      /* InterruptStatus bits (atomic) */
	bool active;                       /* DRIVER_OK done and the device accepted it */
	struct virtio_mmio_queue q[VIRTIO_MAX_QUEUES];
	int irq_fd;                        /* KVM irqfd eventfd, or -1: use `irq` */
	struct irq_line irq;               /* fallback when there is no irqfd (unit tests) */
	int vm_fd;                         /* for ioeventfd (de)registration; -1 without KVM */
	uint64_t protocol_errors;          /* driver mistakes seen (reported once each kind) */
	struct virtio_report reports;      /* what was said about the guest (rate limit) */
};

/* Sets up the transport for a device. kick eventfds are created here; a write to QueueNotify
 * that reaches userspace signals them too, so the device code is the same with or without
 * KVM ioeventfds. 0 or -errno. */
int virtio_mmio__init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *priv,
		      unsigned num_queues, uint16_t queue_max, const struct guest_mem *mem,
		      uint64_t base, uint32_t gsi, struct irq_line fallback_irq);
/* Wires KVM_IOEVENTFD on QueueNotify (one per queue, datamatch = index) and KVM_IRQFD on the
 * GSI. 0, or -1 with a reason in err. */
int virtio_mmio__attach_kvm(struct virtio_mmio *t, int vm_fd, char *err, size_t errlen);
/* Resets the device (stopping its I/O) and releases the fds. */
void virtio_mmio__destroy(struct virtio_mmio *t);

extern const struct bus_dev_ops virtio_mmio_ops;   /* registered with the transport as opaque */

#endif
