/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-mmio transport, version 2 (virtio 1.2 §4.2): register file, ioeventfd kicks, irqfd. */
#include "virtio/mmio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "virtio/core.h"

#define MMIO_MAGIC   0x74726976   /* "virt" */
#define MMIO_VERSION 2
#define VENDOR_ID    0x4b564d49   /* "KVMI" */

/* ---- interrupts and errors: called from I/O threads and vCPU threads ---- */

static void raise_irq(struct virtio_mmio *t, uint32_t bits)
{
	__atomic_or_fetch(&t->isr, bits, __ATOMIC_SEQ_CST);
	if (t->irq_fd >= 0) {
		eventfd_write(t->irq_fd, 1);	/* edge: KVM injects without a userspace exit */
	} else {
		irq_line__set(&t->irq, 1);
		irq_line__set(&t->irq, 0);
	}
}

static void notify_used(void *transport, unsigned queue)
{
	(void)queue;
	raise_irq(transport, VIRTIO_MMIO_INT_VRING);
}

/* Locked context only (register writes) or the device's I/O thread: status is atomic. */
static void needs_reset(void *transport, const char *why)
{
	struct virtio_mmio *t = transport;

	/* InterruptStatus first: a driver that sees NEEDS_RESET also sees the config bit */
	__atomic_or_fetch(&t->isr, VIRTIO_MMIO_INT_CONFIG, __ATOMIC_SEQ_CST);
	if (!virtio_core__needs_reset(&t->status))
		return;	/* already reported */
	raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
	char who[64];
	snprintf(who, sizeof(who), "virtio-%s@0x%llx", t->vdev.ops->name,
		 (unsigned long long)t->base);
	virtio_core__report(&t->reports, who, "device needs reset: %s", why);
}

static void config_changed(void *transport)
{
	struct virtio_mmio *t = transport;

	__atomic_add_fetch(&t->config_generation, 1, __ATOMIC_SEQ_CST);
	raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.notify_used = notify_used,
	.needs_reset = needs_reset,
	.config_changed = config_changed,
};

static void driver_error(void *transport, const char *what)
{
	struct virtio_mmio *t = transport;
	char who[64];

	snprintf(who, sizeof(who), "virtio-%s@0x%llx", t->vdev.ops->name,
		 (unsigned long long)t->base);
	virtio_core__driver_error(&t->protocol_errors, &t->reports, who, what);
}

/* ---- lifecycle ---- */

int virtio_mmio__init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *priv,
		      unsigned num_queues, uint16_t queue_max, const struct guest_mem *mem,
		      uint64_t base, uint32_t gsi, struct irq_line fallback_irq)
{
	memset(t, 0, sizeof(*t));
	if (num_queues == 0 || num_queues > VIRTIO_MAX_QUEUES || queue_max == 0 ||
	    queue_max > VIRTQ_MAX_SIZE)
		return -EINVAL;
	pthread_mutex_init(&t->lock, NULL);
	t->vdev = (struct virtio_dev){
		.ops = ops, .priv = priv, .num_queues = num_queues, .queue_max = queue_max,
		.t_ops = &mmio_transport_ops, .transport = t,
	};
	t->mem = mem;
	t->base = base;
	t->gsi = gsi;
	t->irq = fallback_irq;
	t->irq_fd = -1;
	t->vm_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		t->vdev.kick_fd[i] = -1;
	int e = virtio_core__kicks_open(&t->vdev);
	if (e)
		virtio_mmio__destroy(t);
	return e;
}

int virtio_mmio__attach_kvm(struct virtio_mmio *t, int vm_fd, char *err, size_t errlen)
{
	for (unsigned i = 0; i < t->vdev.num_queues; i++) {
		struct kvm_ioeventfd io = {
			.datamatch = i, .addr = t->base + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4,
			.fd = t->vdev.kick_fd[i], .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0) {
			snprintf(err, errlen, "KVM_IOEVENTFD for virtio-%s queue %u: %s",
				 t->vdev.ops->name, i, strerror(errno));
			return -1;
		}
	}
	t->vm_fd = vm_fd;
	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct kvm_irqfd irqfd = { .fd = (uint32_t)t->irq_fd, .gsi = t->gsi };
	if (t->irq_fd < 0 || ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0) {
		snprintf(err, errlen, "KVM_IRQFD for virtio-%s on GSI %u: %s", t->vdev.ops->name,
			 t->gsi, strerror(errno));
		return -1;
	}
	return 0;
}

static void reset_locked(void *transport)
{
	struct virtio_mmio *t = transport;

	virtio_core__reset(&t->vdev, &t->status, &t->active);
	__atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	memset(t->q, 0, sizeof(t->q));
}

static const struct virtio_core_ops mmio_core_ops = {
	.driver_error = driver_error,
	.reset = reset_locked,
};

void virtio_mmio__destroy(struct virtio_mmio *t)
{
	if (!t->vdev.ops)
		return;	/* never initialised */
	pthread_mutex_lock(&t->lock);
	reset_locked(t);
	pthread_mutex_unlock(&t->lock);
	virtio_core__kicks_close(&t->vdev);
	if (t->irq_fd >= 0)
		close(t->irq_fd);	/* closing an irqfd's eventfd detaches it from KVM */
	t->irq_fd = -1;
	t->vdev.ops = NULL;
}

/* ---- the register file ---- */

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtio_mmio_queue *q = t->queue_sel < t->vdev.num_queues ? &t->q[t->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID: return t->vdev.ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_core__features_read(t->vdev.ops->features(t->vdev.priv), t->dev_feat_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? t->vdev.queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS: return __atomic_load_n(&t->status, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&t->config_generation, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff;	/* no shared memory regions: length ~0 */
	default:
		return 0;	/* write-only and reserved registers read as 0 */
	}
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	unsigned qi = t->queue_sel;
	struct virtio_mmio_queue *q = qi < t->vdev.num_queues ? &t->q[qi] : NULL;
	uint32_t status = __atomic_load_n(&t->status, __ATOMIC_SEQ_CST);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_feat_sel = val; return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_feat_sel = val; return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_core__driver_features_write(&t->vdev, &mmio_core_ops, status,
						   &t->driver_features, t->drv_feat_sel, val);
		return;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = val; return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* only reached without an ioeventfd (or for a queue index it does not match) */
		if (val < t->vdev.num_queues)
			eventfd_write(t->vdev.kick_fd[val], 1);
		else
			driver_error(t, "notify for a queue that does not exist");
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_and_fetch(&t->isr, ~val, __ATOMIC_SEQ_CST);
		return;
	case VIRTIO_MMIO_STATUS:
		virtio_core__status_write(&t->vdev, &mmio_core_ops, &t->status, &t->active,
					  t->driver_features, val);
		return;
	case VIRTIO_MMIO_MAGIC_VALUE: case VIRTIO_MMIO_VERSION: case VIRTIO_MMIO_DEVICE_ID:
	case VIRTIO_MMIO_VENDOR_ID: case VIRTIO_MMIO_DEVICE_FEATURES: case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_INTERRUPT_STATUS: case VIRTIO_MMIO_CONFIG_GENERATION:
	case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW: case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* before the queue checks, so the report says what really happened */
		driver_error(t, "write to a read-only register");
		return;
	}
	/* the rest configure the selected queue: only while it is not live */
	if (!q) {
		driver_error(t, "queue register write with QueueSel past the last queue");
		return;
	}
	if (q->ready && off != VIRTIO_MMIO_QUEUE_READY) {
		driver_error(t, "queue register write while the queue is ready");
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: q->num = (uint16_t)(val > 0xffff ? 0 : val); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: virtio_core__set_half(&q->desc, false, val); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: virtio_core__set_half(&q->desc, true, val); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: virtio_core__set_half(&q->avail, false, val); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: virtio_core__set_half(&q->avail, true, val); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: virtio_core__set_half(&q->used, false, val); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: virtio_core__set_half(&q->used, true, val); break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (val == 1 && !q->ready) {
			if (status & VIRTIO_CONFIG_S_DRIVER_OK)
				driver_error(t, "QueueReady after DRIVER_OK");	/* no live add */
			else
				q->ready = virtio_core__queue_enable(&t->vdev, &mmio_core_ops, t->mem, qi,
								     q->num, q->desc, q->avail,
								     q->used);
		} else if (val == 0 && q->ready) {
			driver_error(t, "QueueReady=0 on a live queue (reset the device instead)");
		}
		break;
	default:
		driver_error(t, "write to a read-only or reserved register");
	}
}

static void mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;

	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (c + len <= t->vdev.ops->config_size)
			t->vdev.ops->config_read(t->vdev.priv, (uint32_t)c, data, len);
		else
			driver_error(t, "config read past the end of config space");
	} else if (len == 4 && !(off & 3)) {
		uint32_t v = reg_read(t, off);
		memcpy(data, &v, 4);
	} else {
		driver_error(t, "register read that is not 32-bit aligned");
	}
	pthread_mutex_unlock(&t->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;

	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (c + len <= t->vdev.ops->config_size && t->vdev.ops->config_write)
			t->vdev.ops->config_write(t->vdev.priv, (uint32_t)c, data, len);
		else
			driver_error(t, "config write past the end of config space or read-only");
	} else if (len == 4 && !(off & 3)) {
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(t, off, v);
	} else {
		driver_error(t, "register write that is not 32-bit aligned");
	}
	pthread_mutex_unlock(&t->lock);
}

const struct bus_dev_ops virtio_mmio_ops = {
	.name = "virtio-mmio",
	.read = mmio_read,
	.write = mmio_write,
};
