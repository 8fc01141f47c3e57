/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-independent half of a virtio transport: device status, features, queue enable. */
#ifndef KVMINI_VIRTIO_CORE_H
#define KVMINI_VIRTIO_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio.h"

/* What the core needs from its transport, besides vdev->t_ops->needs_reset. Called with the
 * transport's lock held, with vdev->transport as the first argument. */
struct virtio_core_ops {
	/* A driver mistake: count it, report it once per kind in a row. */
	void (*driver_error)(void *transport, const char *what);
	/* Status 0: reset the device and the transport's register file (status included). */
	void (*reset)(void *transport);
};

/* 32 bits of a 64-bit feature word: word sel (0 or 1), 0 past the end. */
static inline uint32_t virtio_core__features_read(uint64_t features, uint32_t sel)
{
	return sel > 1 ? 0 : (uint32_t)(features >> (32 * sel));
}

/* Sets the high or low 32 bits of a 64-bit register (a feature word, a queue address). */
static inline void virtio_core__set_half(uint64_t *a, bool high, uint32_t v)
{
	*a = high ? (*a & 0xffffffffULL) | ((uint64_t)v << 32) : (*a & ~0xffffffffULL) | v;
}

/* The driver writes 32 bits (word sel) of the features it accepts; refused after FEATURES_OK. */
void virtio_core__driver_features_write(struct virtio_dev *v, const struct virtio_core_ops *ops,
					uint32_t status, uint64_t *driver_features, uint32_t sel,
					uint32_t val);

/* The driver writes the device status (virtio 1.2 §2.1, §3.1.1): 0 resets; clearing a bit
 * otherwise is refused; FEATURES_OK checks driver_features against the offer and VERSION_1;
 * DRIVER_OK activates the device (sets *active), or marks it as needing a reset. *status is
 * atomic (the I/O thread sets NEEDS_RESET through t_ops->needs_reset). */
void virtio_core__status_write(struct virtio_dev *v, const struct virtio_core_ops *ops,
			       uint32_t *status, bool *active, uint64_t driver_features, uint32_t val);

/* The driver enables queue idx with the given size and ring addresses: checks the size, sets
 * up vdev->vq[idx] (EVENT_IDX, INDIRECT_DESC as negotiated) and marks it ready. true when the
 * queue is ready; false after reporting the error and asking for a reset. */
bool virtio_core__queue_enable(struct virtio_dev *v, const struct virtio_core_ops *ops,
			       const struct guest_mem *mem, unsigned idx, uint16_t num,
			       uint64_t desc, uint64_t avail, uint64_t used);

/* Creates the kick eventfds of queues 0..num_queues-1 (the others stay as they are: the
 * transport sets them to -1 first). 0 or -errno; on failure the transport destroys itself. */
int virtio_core__kicks_open(struct virtio_dev *v);
/* Closes every kick eventfd and sets it to -1. */
void virtio_core__kicks_close(struct virtio_dev *v);

/* The transport-independent part of a device reset, transport lock held: resets the device
 * (if it was ever started), clears *active, *status, the negotiated features and the ready
 * queues, and drops stale kicks. The transport then clears its own registers. */
void virtio_core__reset(struct virtio_dev *v, uint32_t *status, bool *active);

/* Sets NEEDS_RESET in the atomic *status: true the first time (report and interrupt then). */
bool virtio_core__needs_reset(uint32_t *status);

/* What a device has reported about its guest, so that a guest cannot flood stderr: each kind
 * of report (its text, numbers left out) is printed once for the life of the device, resets
 * included; after
 * VIRTIO_REPORT_KINDS kinds one more line says the rest are only counted. Lock-free (vCPU and
 * I/O threads). Zeroed memory is an empty one. */
#define VIRTIO_REPORT_KINDS 32

struct virtio_report {
	uint32_t seen[VIRTIO_REPORT_KINDS];  /* hashes of the kinds printed (0: free slot) */
	bool capped;                         /* the "not reported any more" line was printed */
};

/* Prints "kvmini: <who>: <what>" if it is the first of its kind (see struct virtio_report). */
__attribute__((format(printf, 3, 4)))
void virtio_core__report(struct virtio_report *r, const char *who, const char *fmt, ...);

/* Counts a driver error in *errors and reports "driver error: <what>" through r. */
void virtio_core__driver_error(uint64_t *errors, struct virtio_report *r, const char *who,
			       const char *what);

#endif
