/* SPDX-License-Identifier: Apache-2.0 */
/* A fake virtio-mmio driver for unit tests: guest RAM, feature negotiation, split queues. */
#ifndef KVMINI_TESTS_LIB_VDRV_H
#define KVMINI_TESTS_LIB_VDRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "virtio/mmio.h"

/*
 * One device on one virtio-mmio transport, driven from the test's thread as a guest driver
 * would, without KVM: guest RAM is an anonymous mapping at gpa 0, registers are accessed
 * through virtio_mmio_ops, kicks go through the QueueNotify register (the transport signals
 * the device's kick eventfd) and interrupts are only counted.
 *
 * Guest memory: queue q's rings sit at VDRV_RINGS + q * VDRV_RING_STRIDE (descriptor table,
 * then the avail ring at +0x4000, the used ring at +0x5000: room for 1024 entries); from
 * VDRV_BUFS on, RAM is the test's for buffers (vdrv__ptr gives the host address).
 *
 * Descriptors are handed out round robin per queue, one per buffer: a test must not have
 * more than the queue's size in flight. Everything is single-threaded on the driver side;
 * the device's thread runs beside it.
 */
#define VDRV_GPA_BASE    0xd0000000ULL  /* where the transport says it is (not mapped) */
#define VDRV_GSI         16u
#define VDRV_RINGS       0x1000ULL
#define VDRV_RING_STRIDE 0x8000ULL
#define VDRV_BUFS        0x100000ULL   /* first byte of RAM free for buffers (1 MiB) */
#define VDRV_MIN_RAM     (2ULL << 20)
/* how long a test waits for what should happen: generous, because the arm64 unit tests run in
 * an emulated L1 that shares two cores with the x86 one (it only costs time when a test fails) */
#define VDRV_WAIT_MS     15000u

struct vdrv_queue {
	uint16_t size;                 /* 0: not set up */
	uint16_t avail_idx;            /* the driver's next avail->idx */
	uint16_t next_desc;            /* next free descriptor (round robin) */
};

struct vdrv {
	uint8_t *ram;
	uint64_t ram_size;
	struct guest_mem gm;
	struct virtio_mmio t;
	int irqs;                      /* interrupts raised (level 1), atomic */
	struct vdrv_queue q[VIRTIO_MAX_QUEUES];
};

/* One buffer of a chain: `len` bytes at `gpa`, device-readable or device-writable. */
struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* Maps ram_size bytes (at least VDRV_MIN_RAM) of guest RAM and puts the device (ops, priv)
 * on a virtio-mmio transport with num_queues queues of at most queue_max entries. 0 or -1
 * (nothing to destroy then). */
int vdrv__init(struct vdrv *d, uint64_t ram_size, const struct virtio_dev_ops *ops, void *priv,
	       unsigned num_queues, uint16_t queue_max);
/* Resets the device (its thread stops), destroys the transport, unmaps RAM. */
void vdrv__destroy(struct vdrv *d);

/* 32-bit register access at off (VIRTIO_MMIO_*) */
uint32_t vdrv__rd(struct vdrv *d, uint64_t off);
void vdrv__wr(struct vdrv *d, uint64_t off, uint32_t v);
/* Configuration space: len (1, 2, 4 or 8) bytes at off from VIRTIO_MMIO_CONFIG */
void vdrv__config_read(struct vdrv *d, uint32_t off, void *data, uint32_t len);
void vdrv__config_write(struct vdrv *d, uint32_t off, const void *data, uint32_t len);

/* The 64 feature bits the device offers. */
uint64_t vdrv__device_features(struct vdrv *d);
/* Reset, ACKNOWLEDGE | DRIVER, accept `features`, FEATURES_OK: 0 if FEATURES_OK stuck. */
int vdrv__negotiate(struct vdrv *d, uint64_t features);
/* Sets up queue q with `size` entries (a power of 2) and marks it ready; 0, or -1 if the
 * device does not have q or the transport refused (NEEDS_RESET). */
int vdrv__queue_init(struct vdrv *d, unsigned q, uint16_t size);
/* DRIVER_OK (the device starts); 0, or -1 if the device asked for a reset. */
int vdrv__driver_ok(struct vdrv *d);
/* vdrv__negotiate, vdrv__queue_init of queues 0..nq-1 with `size` entries, vdrv__driver_ok */
int vdrv__start(struct vdrv *d, uint64_t features, unsigned nq, uint16_t size);

/* Host address of guest RAM at gpa (the test's buffers). */
void *vdrv__ptr(struct vdrv *d, uint64_t gpa);
/* Makes a chain of n buffers available on queue q (not kicked); returns its head descriptor. */
uint16_t vdrv__add(struct vdrv *d, unsigned q, const struct vdrv_buf *bufs, unsigned n);
/* With EVENT_IDX, as a driver decides: does the device want a kick for what was added to q
 * since avail->idx was old_idx (vring_need_event on the device's avail_event)? */
bool vdrv__kick_needed(struct vdrv *d, unsigned q, uint16_t old_idx);
/* QueueNotify for q */
void vdrv__kick(struct vdrv *d, unsigned q);
/* The device's used->idx of queue q */
uint16_t vdrv__used_idx(struct vdrv *d, unsigned q);
/* Waits until used->idx of q is `want`, at most timeout_ms: whether it got there. */
bool vdrv__wait_used(struct vdrv *d, unsigned q, uint16_t want, unsigned timeout_ms);
/* Entry i (a free-running index: i % size) of q's used ring: the chain's head and length. */
struct vring_used_elem vdrv__used(struct vdrv *d, unsigned q, uint16_t i);
/* Interrupts raised so far */
int vdrv__irqs(struct vdrv *d);
/* true once at least want interrupts were raised (the device publishes, then interrupts) */
bool vdrv__wait_irqs(struct vdrv *d, int want, unsigned timeout_ms);

#endif
