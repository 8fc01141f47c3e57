/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-pci modern transport: common/notify/ISR/device-config capabilities, MSI-X, irqfd. */
#include "virtio/pci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include "virtio/core.h"

#define PCI_CAP_ID_VNDR      0x09
#define VNDR_CAP_LEN         16      /* struct virtio_pci_cap */
#define NOTIFY_CAP_LEN       20      /* + notify_off_multiplier */
#define PCICFG_CAP_LEN       20      /* + pci_cfg_data */
#define CLASS_STORAGE_OTHER  0x018000
#define CLASS_OTHER          0xff0000
#define ISR_QUEUE            1u
#define ISR_CONFIG           2u

/* ---- errors and interrupts ---- */

static void driver_error(void *transport, const char *what)
{
	struct virtio_pci *t = transport;

	virtio_core__driver_error(&t->protocol_errors, &t->reports, t->name, what);
}

/* INTx follows the ISR: asserted while a bit is set (and MSI-X is off and INTx is not
 * disabled in the command register). Lock-free: whoever changes ISR calls this afterwards,
 * so the last call sees the final ISR and leaves the line right. */
static void intx_update(struct virtio_pci *t)
{
	if (!t->intx.set || msix__enabled(&t->msix))
		return;
	bool level = __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST) &&
		     !__atomic_load_n(&t->intx_disabled, __ATOMIC_RELAXED);
	irq_line__set(&t->intx, level);
	irq_line__set(&t->intx_pic, level);
}

/* Vector vec (or VPCI_NO_VECTOR) fires: an MSI-X message, or INTx while MSI-X is off. */
static void interrupt(struct virtio_pci *t, uint16_t vec, uint8_t isr_bit)
{
	__atomic_or_fetch(&t->isr, isr_bit, __ATOMIC_SEQ_CST);
	if (msix__enabled(&t->msix)) {
		/* no vector for this source: the driver asked for no interrupt (virtio 1.2 4.1.5.1.2) */
		if (vec != VPCI_NO_VECTOR)
			msix__notify(&t->msix, vec);
		return;
	}
	if (t->intx.set) {
		__atomic_add_fetch(&t->intx_irqs, 1, __ATOMIC_RELAXED);
		intx_update(t);
		return;
	}
	if (__atomic_fetch_add(&t->no_msix_irqs, 1, __ATOMIC_RELAXED) == 0)
		fprintf(stderr, "kvmini: %s: the driver did not set up MSI-X (vector %u) and the "
			"function has no INTx line: interrupts are dropped\n", t->name, vec);
}

static void notify_used(void *transport, unsigned queue)
{
	struct virtio_pci *t = transport;
	interrupt(t, __atomic_load_n(&t->q[queue].vector, __ATOMIC_RELAXED), ISR_QUEUE);
}

static void needs_reset(void *transport, const char *why)
{
	struct virtio_pci *t = transport;

	__atomic_or_fetch(&t->isr, ISR_CONFIG, __ATOMIC_SEQ_CST);	/* before the status bit */
	if (!virtio_core__needs_reset(&t->status))
		return;	/* already reported */
	interrupt(t, __atomic_load_n(&t->config_vector, __ATOMIC_RELAXED), ISR_CONFIG);
	virtio_core__report(&t->reports, t->name, "device needs reset: %s", why);
}

static void config_changed(void *transport)
{
	struct virtio_pci *t = transport;

	__atomic_add_fetch(&t->config_generation, 1, __ATOMIC_SEQ_CST);
	interrupt(t, __atomic_load_n(&t->config_vector, __ATOMIC_RELAXED), ISR_CONFIG);
}

static const struct virtio_transport_ops pci_transport_ops = {
	.notify_used = notify_used,
	.needs_reset = needs_reset,
	.config_changed = config_changed,
};

/* ---- MSI-X messages: KVM routes + irqfds, or the unit tests' callback ---- */

static void msi_route(void *ctx, unsigned vec, uint64_t addr, uint32_t data)
{
	struct virtio_pci *t = ctx;
	if (!t->routes || t->gsi[vec] < 0)
		return;
	int e = irq_routes__set_msi(t->routes, (unsigned)t->gsi[vec], addr, data,
				    t->pci.slot << 3);	/* bus 0, function 0 */
	if (e)
		virtio_core__report(&t->reports, t->name, "KVM_SET_GSI_ROUTING for an MSI-X vector: %s",
			      strerror(-e));
}

static void msi_fire(void *ctx, unsigned vec, uint64_t addr, uint32_t data)
{
	struct virtio_pci *t = ctx;
	if (t->irq_fd[vec] >= 0)
		eventfd_write(t->irq_fd[vec], 1);	/* KVM injects it: no exit, no ioctl */
	else if (t->msi_fallback)
		t->msi_fallback(t->msi_ctx, addr, data);
}

static const struct msix_sink_ops msi_sink = {
	.route = msi_route,
	.fire = msi_fire,
};

/* ---- notify ioeventfds: they follow BAR 0 and memory decoding ---- */

static int ioeventfd(struct virtio_pci *t, unsigned q, uint64_t base, bool deassign)
{
	struct kvm_ioeventfd io = {
		.datamatch = q, .addr = base + VPCI_NOTIFY_MULT * q, .len = 2,
		.fd = t->vdev.kick_fd[q],
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};
	return ioctl(t->vm_fd, KVM_IOEVENTFD, &io);
}

static void update_ioeventfds(struct virtio_pci *t)
{
	uint64_t bar = pci_dev__bar_addr(&t->pci, 0);
	uint64_t want = bar == UINT64_MAX ? UINT64_MAX : bar + VPCI_NOTIFY_OFF;

	if (t->vm_fd < 0 || want == t->notify_gpa)
		return;
	for (unsigned q = 0; t->notify_gpa != UINT64_MAX && q < t->vdev.num_queues; q++)
		ioeventfd(t, q, t->notify_gpa, true);
	t->notify_gpa = UINT64_MAX;
	if (want == UINT64_MAX)
		return;
	for (unsigned q = 0; q < t->vdev.num_queues; q++) {
		if (ioeventfd(t, q, want, false) < 0) {
			/* kicks still work, through a userspace exit (bar_write below); the guest
			 * chose the address (another BAR, say): one report, not one per move */
			virtio_core__report(&t->reports, t->name, "no KVM_IOEVENTFD where BAR 0 now is (%s): "
				      "kicks take a userspace exit", strerror(errno));
			while (q--)
				ioeventfd(t, q, want, true);
			return;
		}
	}
	t->notify_gpa = want;
}

static void bar_access(struct virtio_pci *t, uint64_t off, bool is_write, void *data,
		       uint32_t len);

/* VIRTIO_PCI_CAP_PCI_CFG: the driver sets bar/offset/length, then reads or writes
 * pci_cfg_data, which is an access to BAR 0 there. Only BAR 0, 1/2/4 bytes, aligned. */
static bool pcicfg_window(struct virtio_pci *t, uint32_t off, uint32_t len, uint64_t *boff,
			  uint32_t *blen)
{
	uint32_t c = t->pcicfg_cap, data = c + VNDR_CAP_LEN;
	if (!c || off >= data + 4 || off + len <= data)
		return false;
	*boff = pci_dev__get16(&t->pci, c + VIRTIO_PCI_CAP_OFFSET) |
		(uint32_t)pci_dev__get16(&t->pci, c + VIRTIO_PCI_CAP_OFFSET + 2) << 16;
	*blen = pci_dev__get16(&t->pci, c + VIRTIO_PCI_CAP_LENGTH) |
		(uint32_t)pci_dev__get16(&t->pci, c + VIRTIO_PCI_CAP_LENGTH + 2) << 16;
	if (t->pci.cfg[c + VIRTIO_PCI_CAP_BAR] != 0 || (*blen != 1 && *blen != 2 && *blen != 4) ||
	    (*boff & (*blen - 1)) || *boff + *blen > VPCI_BAR_SIZE) {
		driver_error(t, "VIRTIO_PCI_CAP_PCI_CFG access with a bad bar, offset or length");
		return false;
	}
	return true;
}

static void config_read(void *priv, struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *t = priv;
	uint64_t boff;
	uint32_t blen;
	uint8_t buf[4] = { 0 };

	if (pcicfg_window(t, off, len, &boff, &blen)) {
		bar_access(t, boff, false, buf, blen);
		memcpy(d->cfg + t->pcicfg_cap + VNDR_CAP_LEN, buf, 4);
	}
}

static void config_written(void *priv, struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *t = priv;
	uint64_t boff;
	uint32_t blen;

	if (pcicfg_window(t, off, len, &boff, &blen))
		bar_access(t, boff, true, d->cfg + t->pcicfg_cap + VNDR_CAP_LEN, blen);
	bool was_msix = msix__enabled(&t->msix);
	msix__config_written(&t->msix, d, off, len);
	if (!was_msix && msix__enabled(&t->msix) && t->intx.set) {
		irq_line__set(&t->intx, 0);	/* MSI-X on: INTx is no longer used */
		irq_line__set(&t->intx_pic, 0);
	}
	if (off < PCI_CFG_COMMAND + 2 && off + len > PCI_CFG_COMMAND) {
		__atomic_store_n(&t->intx_disabled,
				 (pci_dev__get16(d, PCI_CFG_COMMAND) & PCI_CMD_INTX_DISABLE) != 0,
				 __ATOMIC_RELAXED);
		intx_update(t);
	}
	if ((off < PCI_CFG_COMMAND + 2 && off + len > PCI_CFG_COMMAND) ||
	    (off < PCI_CFG_BAR0 + 8 && off + len > PCI_CFG_BAR0))
		update_ioeventfds(t);
}

/* ---- lifecycle ---- */

static void add_vndr_cap(struct virtio_pci *t, uint8_t type, uint32_t off, uint32_t len,
			 uint8_t cap_len)
{
	uint16_t c = pci_dev__add_cap(&t->pci, PCI_CAP_ID_VNDR, cap_len);
	if (!c)
		return;
	t->pci.cfg[c + VIRTIO_PCI_CAP_LEN] = cap_len;
	t->pci.cfg[c + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	t->pci.cfg[c + VIRTIO_PCI_CAP_BAR] = 0;
	pci_dev__put32(&t->pci, c + VIRTIO_PCI_CAP_OFFSET, off);
	pci_dev__put32(&t->pci, c + VIRTIO_PCI_CAP_LENGTH, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		pci_dev__put32(&t->pci, c + VNDR_CAP_LEN, VPCI_NOTIFY_MULT);
}

static void reset_locked(void *transport)
{
	struct virtio_pci *t = transport;

	virtio_core__reset(&t->vdev, &t->status, &t->active);
	__atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
	intx_update(t);
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	__atomic_store_n(&t->config_vector, VPCI_NO_VECTOR, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		t->q[i] = (struct virtio_pci_queue){ .num = t->vdev.queue_max,
						     .vector = VPCI_NO_VECTOR };
}

static const struct virtio_core_ops pci_core_ops = {
	.driver_error = driver_error,
	.reset = reset_locked,
};

int virtio_pci__init(struct virtio_pci *t, const struct virtio_dev_ops *ops, void *priv,
		     unsigned num_queues, uint16_t queue_max, const struct guest_mem *mem)
{
	memset(t, 0, sizeof(*t));
	if (num_queues == 0 || num_queues > VIRTIO_MAX_QUEUES || queue_max == 0 ||
	    queue_max > VIRTQ_MAX_SIZE || ops->config_size > 0x1000)
		return -EINVAL;
	pthread_mutex_init(&t->lock, NULL);
	t->vdev = (struct virtio_dev){
		.ops = ops, .priv = priv, .num_queues = num_queues, .queue_max = queue_max,
		.t_ops = &pci_transport_ops, .transport = t,
	};
	t->mem = mem;
	t->vm_fd = -1;
	t->notify_gpa = UINT64_MAX;
	snprintf(t->name, sizeof(t->name), "virtio-%s (pci)", ops->name);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		t->vdev.kick_fd[i] = -1;
	for (unsigned i = 0; i <= VIRTIO_MAX_QUEUES; i++)
		t->irq_fd[i] = t->gsi[i] = -1;
	reset_locked(t);
	int e = msix__init(&t->msix, num_queues + 1, &msi_sink, t);
	if (e)
		return e;
	pci_dev__init(&t->pci, VPCI_VENDOR, (uint16_t)(VPCI_DEVICE_BASE + ops->device_id),
		      ops->device_id == VIRTIO_ID_BLOCK ? CLASS_STORAGE_OTHER : CLASS_OTHER, 1,
		      VPCI_VENDOR, 0x40, &virtio_pci_dev_ops, t);
	if (pci_dev__add_bar(&t->pci, 0, VPCI_BAR_SIZE, true))
		return -EINVAL;
	add_vndr_cap(t, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_COMMON_LEN, VNDR_CAP_LEN);
	add_vndr_cap(t, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * num_queues,
		     NOTIFY_CAP_LEN);
	add_vndr_cap(t, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1, VNDR_CAP_LEN);
	if (ops->config_size)
		add_vndr_cap(t, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVCFG_OFF, ops->config_size,
			     VNDR_CAP_LEN);
	e = msix__add_cap(&t->msix, &t->pci, 0, VPCI_MSIX_OFF, VPCI_PBA_OFF);
	if (e)
		return e;
	t->pcicfg_cap = t->pci.cap_end;
	add_vndr_cap(t, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, PCICFG_CAP_LEN);
	if (t->pcicfg_cap != t->pci.last_cap)
		return -ENOSPC;
	/* bar, offset, length and the data window are the driver's to write */
	memset(t->pci.wmask + t->pcicfg_cap + VIRTIO_PCI_CAP_BAR, 0xff, 1);
	memset(t->pci.wmask + t->pcicfg_cap + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
	e = virtio_core__kicks_open(&t->vdev);
	if (e)
		virtio_pci__destroy(t);
	return e;
}

int virtio_pci__attach_kvm(struct virtio_pci *t, int vm_fd, struct irq_routes *routes,
			   char *err, size_t errlen)
{
	t->vm_fd = vm_fd;
	t->routes = routes;
	for (unsigned v = 0; v < t->msix.nvec; v++) {
		t->gsi[v] = irq_routes__alloc_msi(routes);
		t->irq_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct kvm_irqfd irqfd = { .fd = (uint32_t)t->irq_fd[v], .gsi = (uint32_t)t->gsi[v] };
		if (t->gsi[v] < 0 || t->irq_fd[v] < 0 || ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0) {
			snprintf(err, errlen, "%s: KVM_IRQFD for MSI-X vector %u (GSI %d): %s", t->name,
				 v, t->gsi[v], t->gsi[v] < 0 ? "out of GSIs" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

void virtio_pci__set_intx(struct virtio_pci *t, struct irq_line line, struct irq_line pic)
{
	t->intx = line;
	t->intx_pic = pic;
	t->pci.cfg[PCI_CFG_INT_PIN] = 1;	/* INTA */
	/* what firmware leaves for a PIC-mode OS; an APIC-mode OS routes by _PRT / MP table */
	t->pci.cfg[PCI_CFG_INT_LINE] = (uint8_t)(pic.set ? pic.gsi : 0xff);
}

void virtio_pci__destroy(struct virtio_pci *t)
{
	if (!t->vdev.ops)
		return;	/* never initialised */
	pthread_mutex_lock(&t->lock);
	reset_locked(t);
	pthread_mutex_unlock(&t->lock);
	for (unsigned q = 0; t->vm_fd >= 0 && t->notify_gpa != UINT64_MAX &&
			     q < t->vdev.num_queues; q++)
		ioeventfd(t, q, t->notify_gpa, true);
	virtio_core__kicks_close(&t->vdev);
	for (unsigned i = 0; i <= VIRTIO_MAX_QUEUES; i++) {
		if (t->irq_fd[i] >= 0)
			close(t->irq_fd[i]);	/* closing an irqfd's eventfd detaches it from KVM */
		t->irq_fd[i] = -1;
	}
	msix__destroy(&t->msix);
	t->vdev.ops = NULL;
}

/* ---- common configuration ---- */

/* Finds the field holding byte `off`: its offset and width. false past the structure. */
static bool common_field(uint32_t off, uint32_t *foff, uint32_t *flen)
{
	static const uint8_t w[VPCI_COMMON_LEN] = {
		[VIRTIO_PCI_COMMON_DFSELECT] = 4, [VIRTIO_PCI_COMMON_DF] = 4,
		[VIRTIO_PCI_COMMON_GFSELECT] = 4, [VIRTIO_PCI_COMMON_GF] = 4,
		[VIRTIO_PCI_COMMON_MSIX] = 2, [VIRTIO_PCI_COMMON_NUMQ] = 2,
		[VIRTIO_PCI_COMMON_STATUS] = 1, [VIRTIO_PCI_COMMON_CFGGENERATION] = 1,
		[VIRTIO_PCI_COMMON_Q_SELECT] = 2, [VIRTIO_PCI_COMMON_Q_SIZE] = 2,
		[VIRTIO_PCI_COMMON_Q_MSIX] = 2, [VIRTIO_PCI_COMMON_Q_ENABLE] = 2,
		[VIRTIO_PCI_COMMON_Q_NOFF] = 2,
		[VIRTIO_PCI_COMMON_Q_DESCLO] = 4, [VIRTIO_PCI_COMMON_Q_DESCHI] = 4,
		[VIRTIO_PCI_COMMON_Q_AVAILLO] = 4, [VIRTIO_PCI_COMMON_Q_AVAILHI] = 4,
		[VIRTIO_PCI_COMMON_Q_USEDLO] = 4, [VIRTIO_PCI_COMMON_Q_USEDHI] = 4,
	};
	if (off >= VPCI_COMMON_LEN)
		return false;
	uint32_t f = off;
	while (!w[f])
		f--;
	*foff = f;
	*flen = w[f];
	return true;
}

static struct virtio_pci_queue *selq(struct virtio_pci *t)
{
	return t->queue_sel < t->vdev.num_queues ? &t->q[t->queue_sel] : NULL;
}

static uint32_t common_get(struct virtio_pci *t, uint32_t f)
{
	struct virtio_pci_queue *q = selq(t);

	switch (f) {
	case VIRTIO_PCI_COMMON_DFSELECT: return t->dev_feat_sel;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_core__features_read(t->vdev.ops->features(t->vdev.priv), t->dev_feat_sel);
	case VIRTIO_PCI_COMMON_GFSELECT: return t->drv_feat_sel;
	case VIRTIO_PCI_COMMON_GF:
		return virtio_core__features_read(t->driver_features, t->drv_feat_sel);
	case VIRTIO_PCI_COMMON_MSIX: return t->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ: return t->vdev.num_queues;
	case VIRTIO_PCI_COMMON_STATUS: return __atomic_load_n(&t->status, __ATOMIC_SEQ_CST) & 0xff;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return __atomic_load_n(&t->config_generation, __ATOMIC_SEQ_CST);
	case VIRTIO_PCI_COMMON_Q_SELECT: return t->queue_sel;
	case VIRTIO_PCI_COMMON_Q_SIZE: return q ? q->num : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q ? q->vector : VPCI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q ? q->ready : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF: return q ? t->queue_sel : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return q ? (uint32_t)q->desc : 0;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return q ? (uint32_t)(q->desc >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return q ? (uint32_t)q->avail : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return q ? (uint32_t)(q->avail >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return q ? (uint32_t)q->used : 0;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return q ? (uint32_t)(q->used >> 32) : 0;
	}
	return 0;
}

/* A vector number the driver may use: in the table, or NO_VECTOR (anything else reads back
 * as NO_VECTOR, which is how the driver learns the device refused it). */
static uint16_t check_vector(struct virtio_pci *t, uint32_t v)
{
	return v < t->msix.nvec ? (uint16_t)v : VPCI_NO_VECTOR;
}

static void common_set(struct virtio_pci *t, uint32_t f, uint32_t val)
{
	struct virtio_pci_queue *q = selq(t);
	uint32_t status = __atomic_load_n(&t->status, __ATOMIC_SEQ_CST);

	switch (f) {
	case VIRTIO_PCI_COMMON_DFSELECT: t->dev_feat_sel = val; return;
	case VIRTIO_PCI_COMMON_GFSELECT: t->drv_feat_sel = val; return;
	case VIRTIO_PCI_COMMON_GF:
		virtio_core__driver_features_write(&t->vdev, &pci_core_ops, status,
						   &t->driver_features, t->drv_feat_sel, val);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		__atomic_store_n(&t->config_vector, check_vector(t, val), __ATOMIC_RELAXED);
		return;
	case VIRTIO_PCI_COMMON_STATUS:	/* a 1-byte field: val is already <= 0xff */
		virtio_core__status_write(&t->vdev, &pci_core_ops, &t->status, &t->active,
					  t->driver_features, val & 0xff);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT: t->queue_sel = (uint16_t)val; return;
	case VIRTIO_PCI_COMMON_DF: case VIRTIO_PCI_COMMON_NUMQ: case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		driver_error(t, "write to a read-only common configuration field");
		return;
	}
	if (!q) {
		driver_error(t, "queue field write with queue_select past the last queue");
		return;
	}
	if (f == VIRTIO_PCI_COMMON_Q_MSIX) {	/* allowed on a live queue: re-targets it */
		__atomic_store_n(&q->vector, check_vector(t, val), __ATOMIC_RELAXED);
		return;
	}
	if (q->ready) {
		if (f != VIRTIO_PCI_COMMON_Q_ENABLE || val != 1)
			driver_error(t, "queue field write while the queue is enabled");
		return;
	}
	switch (f) {
	case VIRTIO_PCI_COMMON_Q_SIZE: q->num = (uint16_t)val; break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: virtio_core__set_half(&q->desc, false, val); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: virtio_core__set_half(&q->desc, true, val); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: virtio_core__set_half(&q->avail, false, val); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: virtio_core__set_half(&q->avail, true, val); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: virtio_core__set_half(&q->used, false, val); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: virtio_core__set_half(&q->used, true, val); break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (val != 1)
			driver_error(t, "queue_enable written with something other than 1");
		else if (status & VIRTIO_CONFIG_S_DRIVER_OK)
			driver_error(t, "queue_enable after DRIVER_OK");
		else
			q->ready = virtio_core__queue_enable(&t->vdev, &pci_core_ops, t->mem,
							     t->queue_sel, q->num, q->desc,
							     q->avail, q->used);
		break;
	}
}

/* Any width at any offset: the access must stay inside one field (a 64-bit address is two
 * 32-bit fields); a narrower write merges into the field's current value. */
static void common_access(struct virtio_pci *t, uint32_t off, bool is_write, void *data,
			  uint32_t len)
{
	uint32_t f, flen;

	if (!common_field(off, &f, &flen) || off + len > f + flen) {
		driver_error(t, "common configuration access that straddles fields or the end");
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	unsigned shift = 8 * (off - f);
	uint32_t cur = common_get(t, f);
	if (!is_write) {
		uint32_t v = cur >> shift;
		memcpy(data, &v, len);	/* little-endian host */
		return;
	}
	uint32_t v = 0, mask = len == 4 ? 0xffffffffu : ((1u << (8 * len)) - 1);
	memcpy(&v, data, len);
	common_set(t, f, (cur & ~(mask << shift)) | (v << shift));
}

/* ---- BAR 0 ---- */

static void bar_access(struct virtio_pci *t, uint64_t off, bool is_write, void *data,
		       uint32_t len)
{
	if (off >= VPCI_MSIX_OFF && off < VPCI_PBA_OFF) {
		if (is_write)
			msix__table_write(&t->msix, off - VPCI_MSIX_OFF, data, len);
		else
			msix__table_read(&t->msix, off - VPCI_MSIX_OFF, data, len);
		return;
	}
	if (off >= VPCI_PBA_OFF && off < VPCI_PBA_OFF + 0x1000) {
		if (!is_write)
			msix__pba_read(&t->msix, off - VPCI_PBA_OFF, data, len);
		return;	/* the PBA is read-only */
	}
	pthread_mutex_lock(&t->lock);
	if (!is_write)
		memset(data, 0, len);
	if (off < VPCI_COMMON_OFF + VPCI_COMMON_LEN) {
		common_access(t, (uint32_t)off, is_write, data, len);
	} else if (off == VPCI_ISR_OFF && len == 1) {
		if (!is_write) {	/* read-to-clear; it also lowers INTx */
			*(uint8_t *)data = __atomic_exchange_n(&t->isr, 0, __ATOMIC_SEQ_CST);
			intx_update(t);
		}
	} else if (off >= VPCI_DEVCFG_OFF && off < VPCI_DEVCFG_OFF + 0x1000) {
		uint32_t c = (uint32_t)(off - VPCI_DEVCFG_OFF);
		if (c + len > t->vdev.ops->config_size)
			driver_error(t, "device config access past its end");
		else if (!is_write)
			t->vdev.ops->config_read(t->vdev.priv, c, data, len);
		else if (t->vdev.ops->config_write)
			t->vdev.ops->config_write(t->vdev.priv, c, data, len);
		else
			driver_error(t, "write to a read-only device config");
	} else if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + 0x1000) {
		/* only reached without an ioeventfd: the kick takes a userspace exit */
		uint64_t qi = (off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;
		if (is_write && qi < t->vdev.num_queues)
			eventfd_write(t->vdev.kick_fd[qi], 1);
		else if (is_write)
			driver_error(t, "notify for a queue that does not exist");
	} else {
		driver_error(t, "BAR 0 access outside every structure");
	}
	pthread_mutex_unlock(&t->lock);
}

static void bar_read(void *priv, unsigned bar, uint64_t off, void *data, uint32_t len)
{
	(void)bar;	/* only BAR 0 exists */
	bar_access(priv, off, false, data, len);
}

static void bar_write(void *priv, unsigned bar, uint64_t off, const void *data, uint32_t len)
{
	(void)bar;
	bar_access(priv, off, true, (void *)data, len);
}

const struct pci_dev_ops virtio_pci_dev_ops = {
	.name = "virtio-pci",
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
	.config_read = config_read,
};
