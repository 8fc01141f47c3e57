/* SPDX-License-Identifier: Apache-2.0 */
/* The split virtqueue, device side: pop descriptor chains, push used entries, notification logic. */
#ifndef KVMINI_VIRTIO_VIRTQ_H
#define KVMINI_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "vmm/memory.h"

#define VIRTQ_MAX_SIZE 1024u   /* largest queue we offer (QueueNumMax) */
#define VIRTQ_MAX_SEGS 1024u   /* descriptors one chain may use, indirect ones included */

/* One buffer of a chain, already translated to a host pointer by gm__ptr. */
struct virtq_iov {
	void *base;
	uint32_t len;
};

/* A popped chain: the device-readable buffers first (out), then the device-writable (in),
 * as virtio requires. Every iov has len > 0 and a non-NULL base (zero-length descriptors are
 * legal in virtio 1.2 and are left out), so n_out + n_in may be 0; out_len + in_len <= 2^32. */
struct virtq_chain {
	uint16_t head;             /* what goes back in the used ring */
	unsigned n_out, n_in;
	uint64_t out_len, in_len;  /* total bytes of each kind */
	struct virtq_iov iov[VIRTQ_MAX_SEGS];  /* iov[0..n_out) readable, then n_in writable */
};

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;                 /* power of two, 1..VIRTQ_MAX_SIZE */
	bool event_idx;                /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;                 /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	struct vring_desc *desc;       /* host views of the three rings, checked once at setup */
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;           /* next avail->ring slot to consume */
	uint16_t used_idx;             /* our copy of used->idx */
	uint16_t signalled_used;       /* used_idx at the last should_notify decision (EVENT_IDX) */
	bool signalled_valid;          /* false: the next decision says yes */
	bool broken;                   /* a protocol violation: the device must ask for a reset
	                                * (atomic: the queue state report reads it from afar) */
	char error[128];               /* what broke it, for the one report */
};

/* Checks size and that the three rings lie wholly in guest RAM (via gm__ptr), aligned (desc
 * 16, avail 2, used 4, both guest and host addresses), with used_event/avail_event covered
 * (6 + 2*size and 6 + 8*size bytes) even without EVENT_IDX, then resets the indices. Writes
 * nothing to the guest. 0, or -EINVAL with q->error set and the queue left broken. */
int virtq__init(struct virtq *q, const struct guest_mem *mem, uint16_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		bool event_idx, bool indirect);

/* Pops the next available chain. Returns 1 with *c filled, 0 if the ring is empty, -EIO if the
 * guest broke the protocol (q->broken set, q->error says how; nothing is consumed, *c is
 * garbage; every later pop returns -EIO until virtq__init): head or next index out of range,
 * a loop, a chain longer than its table (size entries, or len/16 for an indirect one) or than
 * VIRTQ_MAX_SEGS, a buffer outside RAM or across the hole, a readable buffer after a writable
 * one, more than 2^32 bytes in all, a nested or misused indirect table (not negotiated, with
 * NEXT, len 0 or not a multiple of 16, outside RAM), avail->idx more than `size` ahead.
 * Direct descriptors followed by one indirect descriptor are accepted (virtio 1.2 2.7.5.3.2).
 * Each descriptor is read from guest memory exactly once. */
int virtq__pop(struct virtq *q, struct virtq_chain *c);

/* Puts (head, written) in the used ring and publishes it (write barrier before idx). */
void virtq__push(struct virtq *q, uint16_t head, uint32_t written);

/* Puts n entries in the used ring and publishes them together (one idx store): a driver never
 * sees part of them (virtio-net's mergeable receive buffers: one frame over n buffers). n is at
 * most the queue's size. */
void virtq__push_many(struct virtq *q, const struct vring_used_elem *e, unsigned n);

/* After pushing a batch: does the driver want an interrupt? (EVENT_IDX: vring_need_event on
 * used_event over the entries pushed since the previous call, which is recorded in
 * signalled_used whatever the answer; the first call, and the first after 65536 pushes with no
 * call, says yes. Else !VRING_AVAIL_F_NO_INTERRUPT.) Full barrier inside. */
bool virtq__should_notify(struct virtq *q);

/* Kick suppression while the device is busy: disable asks the driver not to notify (without
 * EVENT_IDX: used->flags = NO_NOTIFY; with it, nothing to write: avail_event just stays
 * behind); enable re-arms (EVENT_IDX: avail_event = last_avail, else flags = 0) and returns true
 * if more buffers arrived meanwhile, in which case the caller must keep popping. Full barrier
 * inside. The processing loop:
 *	do { virtq__disable_notify(q); while (virtq__pop(q, c) == 1) ...; }
 *	while (virtq__enable_notify(q));
 * Stopping without a false from enable can lose a kick. Enable returns false on a broken queue. */
void virtq__disable_notify(struct virtq *q);
bool virtq__enable_notify(struct virtq *q);

/* Buffers waiting? (avail->idx != last_avail; false on a broken queue) */
bool virtq__has_work(const struct virtq *q);

/* A queue as another thread sees it now (statistics on demand, a stuck guest's diagnosis):
 * the guest's avail->idx, what the device has taken and given back, the EVENT_IDX marks. */
struct virtq_snapshot {
	bool rings;                /* set up (false: the fields below are 0) */
	bool event_idx, broken;
	uint16_t size;
	uint16_t avail_idx;        /* the guest's avail->idx */
	uint16_t avail_flags;      /* VRING_AVAIL_F_NO_INTERRUPT without EVENT_IDX */
	uint16_t last_avail;       /* taken by the device */
	uint16_t used_idx;         /* given back by the device */
	uint16_t used_ring_idx;    /* used->idx in guest memory (the same, unless another agent
	                            * such as vhost serves the queue) */
	uint16_t used_event;       /* EVENT_IDX: the guest wants an interrupt past this */
	uint16_t avail_event;      /* EVENT_IDX: we want a kick past this */
};
void virtq__snapshot(const struct virtq *q, struct virtq_snapshot *s);

#endif
