/* SPDX-License-Identifier: Apache-2.0 */
/* A fake virtio-mmio driver for unit tests: guest RAM, feature negotiation, split queues. */
#include "tests/lib/vdrv.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

static uint64_t desc_gpa(unsigned q) { return VDRV_RINGS + q * VDRV_RING_STRIDE; }
static uint64_t avail_gpa(unsigned q) { return desc_gpa(q) + 0x4000; }
static uint64_t used_gpa(unsigned q) { return desc_gpa(q) + 0x5000; }

static void count_irq(void *ctx, unsigned gsi, int level)
{
	(void)gsi;
	if (level)
		__atomic_add_fetch(&((struct vdrv *)ctx)->irqs, 1, __ATOMIC_SEQ_CST);
}

int vdrv__init(struct vdrv *d, uint64_t ram_size, const struct virtio_dev_ops *ops, void *priv,
	       unsigned num_queues, uint16_t queue_max)
{
	memset(d, 0, sizeof(*d));
	if (ram_size < VDRV_MIN_RAM)
		ram_size = VDRV_MIN_RAM;
	d->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->ram == MAP_FAILED)
		return -1;
	d->ram_size = ram_size;
	gm__init_flat(&d->gm, d->ram, ram_size);
	if (virtio_mmio__init(&d->t, ops, priv, num_queues, queue_max, &d->gm, VDRV_GPA_BASE,
			      VDRV_GSI, (struct irq_line){ .set = count_irq, .ctx = d }) < 0) {
		munmap(d->ram, ram_size);
		return -1;
	}
	return 0;
}

void vdrv__destroy(struct vdrv *d)
{
	virtio_mmio__destroy(&d->t);
	munmap(d->ram, d->ram_size);
}

uint32_t vdrv__rd(struct vdrv *d, uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(&d->t, off, &v, 4);
	return v;
}

void vdrv__wr(struct vdrv *d, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(&d->t, off, &v, 4);
}

void vdrv__config_read(struct vdrv *d, uint32_t off, void *data, uint32_t len)
{
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG + off, data, len);
}

void vdrv__config_write(struct vdrv *d, uint32_t off, const void *data, uint32_t len)
{
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_CONFIG + off, data, len);
}

uint64_t vdrv__device_features(struct vdrv *d)
{
	vdrv__wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = vdrv__rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vdrv__wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)vdrv__rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

int vdrv__negotiate(struct vdrv *d, uint64_t features)
{
	const uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	vdrv__wr(d, VIRTIO_MMIO_STATUS, 0);
	memset(d->q, 0, sizeof(d->q));
	vdrv__wr(d, VIRTIO_MMIO_STATUS, s);
	vdrv__wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv__wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vdrv__wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdrv__wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vdrv__wr(d, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
	return (vdrv__rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK) ? 0 : -1;
}

int vdrv__queue_init(struct vdrv *d, unsigned q, uint16_t size)
{
	if (q >= d->t.vdev.num_queues)
		return -1;
	memset(d->ram + desc_gpa(q), 0, VDRV_RING_STRIDE);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_NUM, size);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc_gpa(q));
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail_gpa(q));
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used_gpa(q));
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	d->q[q] = (struct vdrv_queue){ .size = size };
	if (!vdrv__rd(d, VIRTIO_MMIO_QUEUE_READY) ||
	    (vdrv__rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
		return -1;
	return 0;
}

int vdrv__driver_ok(struct vdrv *d)
{
	vdrv__wr(d, VIRTIO_MMIO_STATUS, vdrv__rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
	return (vdrv__rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) ? -1 : 0;
}

int vdrv__start(struct vdrv *d, uint64_t features, unsigned nq, uint16_t size)
{
	if (vdrv__negotiate(d, features))
		return -1;
	for (unsigned q = 0; q < nq; q++)
		if (vdrv__queue_init(d, q, size))
			return -1;
	return vdrv__driver_ok(d);
}

void *vdrv__ptr(struct vdrv *d, uint64_t gpa)
{
	return d->ram + gpa;
}

uint16_t vdrv__add(struct vdrv *d, unsigned q, const struct vdrv_buf *bufs, unsigned n)
{
	struct vdrv_queue *vq = &d->q[q];
	struct vring_desc *desc = (struct vring_desc *)(d->ram + desc_gpa(q));
	struct vring_avail *a = (struct vring_avail *)(d->ram + avail_gpa(q));
	uint16_t head = vq->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = vq->next_desc;
		vq->next_desc = (uint16_t)((at + 1) % vq->size);
		desc[at] = (struct vring_desc){
			.addr = bufs[i].gpa, .len = bufs[i].len,
			.flags = (uint16_t)((bufs[i].writable ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = i + 1 < n ? vq->next_desc : 0,
		};
	}
	a->ring[vq->avail_idx % vq->size] = head;
	__atomic_store_n(&a->idx, ++vq->avail_idx, __ATOMIC_RELEASE);
	return head;
}

bool vdrv__kick_needed(struct vdrv *d, unsigned q, uint16_t old_idx)
{
	const struct vring_used *u = (const struct vring_used *)(d->ram + used_gpa(q));
	uint16_t event = __atomic_load_n((const uint16_t *)&u->ring[d->q[q].size], __ATOMIC_ACQUIRE);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vring_need_event(event, d->q[q].avail_idx, old_idx);
}

void vdrv__kick(struct vdrv *d, unsigned q)
{
	vdrv__wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

uint16_t vdrv__used_idx(struct vdrv *d, unsigned q)
{
	return __atomic_load_n(&((struct vring_used *)(d->ram + used_gpa(q)))->idx, __ATOMIC_ACQUIRE);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

bool vdrv__wait_used(struct vdrv *d, unsigned q, uint16_t want, unsigned timeout_ms)
{
	uint64_t until = now_ms() + timeout_ms;

	while (vdrv__used_idx(d, q) != want) {
		if (now_ms() >= until)
			return false;
		usleep(500);
	}
	return true;
}

bool vdrv__wait_irqs(struct vdrv *d, int want, unsigned timeout_ms)
{
	uint64_t until = now_ms() + timeout_ms;

	while (vdrv__irqs(d) < want) {
		if (now_ms() >= until)
			return false;
		usleep(500);
	}
	return true;
}

struct vring_used_elem vdrv__used(struct vdrv *d, unsigned q, uint16_t i)
{
	const struct vring_used *u = (const struct vring_used *)(d->ram + used_gpa(q));
	struct vring_used_elem e;

	memcpy(&e, &u->ring[i % d->q[q].size], sizeof(e));
	return e;
}

int vdrv__irqs(struct vdrv *d)
{
	return __atomic_load_n(&d->irqs, __ATOMIC_SEQ_CST);
}
