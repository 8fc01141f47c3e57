/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz targets: a virtio-mmio driver's first steps (register access, feature negotiation) shared by the device fuzzers. */
#ifndef KVMINI_TESTS_FUZZ_DRIVER_H
#define KVMINI_TESTS_FUZZ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "virtio/mmio.h"

static inline uint32_t fuzz__rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_ops.read(t, off, &v, 4);
	return v;
}

static inline void fuzz__wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, &v, 4);
}

/* As Linux's virtio_mmio: ACKNOWLEDGE | DRIVER, every feature offered but those in `drop`,
 * FEATURES_OK; whether the device kept FEATURES_OK */
/* Queues 0..n-1 with qsize entries, queue q's rings at rings(q): desc, avail +0x1000, used
 * +0x2000; each marked ready */
static inline void fuzz__queues(struct virtio_mmio *t, unsigned n, uint16_t qsize,
				uint64_t (*rings)(unsigned q))
{
	for (unsigned q = 0; q < n; q++) {
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_NUM, qsize);
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rings(q));
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(rings(q) + 0x1000));
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(rings(q) + 0x2000));
		fuzz__wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
}

static inline bool fuzz__negotiate(struct virtio_mmio *t, uint64_t drop)
{
	uint64_t feat = 0;

	fuzz__wr(t, VIRTIO_MMIO_STATUS, 0);
	fuzz__wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		fuzz__wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
		feat |= (uint64_t)fuzz__rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << (32 * sel);
	}
	feat &= ~drop;
	for (uint32_t sel = 0; sel < 2; sel++) {
		fuzz__wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		fuzz__wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> (32 * sel)));
	}
	fuzz__wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		 VIRTIO_CONFIG_S_FEATURES_OK);
	return fuzz__rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

#endif
