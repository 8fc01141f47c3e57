/* SPDX-License-Identifier: Apache-2.0 */
/* PCI bus 0: config-space register files with write masks, CF8/CFC and ECAM, BAR decoding. */
#include "devices/pci.h"

#include <errno.h>
#include <string.h>

#define HOST_VENDOR   0x1b36   /* Red Hat, Inc. (QEMU's generic PCIe host bridge id) */
#define HOST_DEVICE   0x0008
#define CLASS_HOST    0x060000 /* bridge, host */
#define CF8_ENABLE    0x80000000u

void pci_dev__put16(struct pci_dev *d, uint32_t off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pci_dev__put32(struct pci_dev *d, uint32_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		d->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const struct pci_dev *d, uint32_t off)
{
	return (uint32_t)d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 |
	       (uint32_t)d->cfg[off + 2] << 16 | (uint32_t)d->cfg[off + 3] << 24;
}

static void mask16(uint8_t *m, uint32_t off, uint16_t v)
{
	m[off] = (uint8_t)v;
	m[off + 1] = (uint8_t)(v >> 8);
}

void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t revision, uint16_t subvendor, uint16_t subsystem,
		   const struct pci_dev_ops *ops, void *priv)
{
	memset(d, 0, sizeof(*d));
	pci_dev__put16(d, PCI_CFG_VENDOR, vendor);
	pci_dev__put16(d, PCI_CFG_DEVICE, device);
	d->cfg[PCI_CFG_REVISION] = revision;
	d->cfg[PCI_CFG_CLASS] = (uint8_t)class_code;
	d->cfg[PCI_CFG_CLASS + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CFG_CLASS + 2] = (uint8_t)(class_code >> 16);
	d->cfg[PCI_CFG_HEADER] = 0;   /* type 0, single function */
	pci_dev__put16(d, PCI_CFG_SUBVENDOR, subvendor);
	pci_dev__put16(d, PCI_CFG_SUBSYSTEM, subsystem);
	/* command: I/O, memory, bus master, SERR#, INTx disable; nothing else sticks */
	mask16(d->wmask, PCI_CFG_COMMAND, 0x0507);
	/* status: the error bits are write-1-to-clear, the rest read-only */
	mask16(d->w1cmask, PCI_CFG_STATUS, 0xf900);
	d->wmask[0x0c] = 0xff;               /* cache line size */
	d->wmask[0x0d] = 0xff;               /* latency timer */
	d->wmask[PCI_CFG_INT_LINE] = 0xff;   /* scratch for the OS; pin 0 (no INTx) until a device sets it */
	d->cap_end = PCI_CAP_START;
	d->ops = ops;
	d->priv = priv;
}

int pci_dev__add_bar(struct pci_dev *d, unsigned idx, uint64_t size, bool mem64)
{
	if (idx >= PCI_NUM_BARS || (mem64 && idx + 1 >= PCI_NUM_BARS) || size < 16 ||
	    (size & (size - 1)) || (!mem64 && size > (1ULL << 31)) || d->bar[idx].size ||
	    (mem64 && d->bar[idx + 1].size))
		return -EINVAL;
	d->bar[idx] = (struct pci_bar){ .size = size, .mem64 = mem64 };
	uint64_t m = ~(size - 1);
	uint32_t off = PCI_CFG_BAR0 + 4 * idx;
	for (int i = 0; i < 4; i++)
		d->wmask[off + i] = (uint8_t)((m & ~0xfULL) >> (8 * i));
	d->cfg[off] = mem64 ? PCI_BAR_MEM64 : 0;
	if (mem64) {
		for (int i = 0; i < 4; i++)
			d->wmask[off + 4 + i] = (uint8_t)(m >> (32 + 8 * i));
		d->bar[idx + 1].size = 0;
	}
	return 0;
}

uint16_t pci_dev__add_cap(struct pci_dev *d, uint8_t id, uint8_t len)
{
	uint16_t at = (uint16_t)((d->cap_end + 3) & ~3u);
	if (len < 2 || at + len > 0x100)
		return 0;
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	if (d->last_cap)
		d->cfg[d->last_cap + 1] = (uint8_t)at;
	else
		d->cfg[PCI_CFG_CAP_PTR] = (uint8_t)at;
	d->cfg[PCI_CFG_STATUS] |= PCI_STATUS_CAPS;
	d->last_cap = at;
	d->cap_end = (uint16_t)(at + len);
	return at;
}

static uint64_t bar_raw(const struct pci_dev *d, unsigned idx)
{
	uint32_t off = PCI_CFG_BAR0 + 4 * idx;
	uint64_t a = get32(d, off) & ~0xfULL;
	if (d->bar[idx].mem64)
		a |= (uint64_t)get32(d, off + 4) << 32;
	return a;
}

uint64_t pci_dev__bar_addr(const struct pci_dev *d, unsigned idx)
{
	if (idx >= PCI_NUM_BARS || !d->bar[idx].size ||
	    !(pci_dev__get16(d, PCI_CFG_COMMAND) & PCI_CMD_MEM))
		return UINT64_MAX;
	uint64_t a = bar_raw(d, idx);
	uint64_t mask = d->bar[idx].mem64 ? ~(d->bar[idx].size - 1) : ~(d->bar[idx].size - 1) & 0xffffffffULL;
	if (a == (mask & ~0xfULL) || a + d->bar[idx].size < a)
		return UINT64_MAX;   /* all ones: the OS is sizing it */
	return a;
}

void pci_dev__set_bar_addr(struct pci_dev *d, unsigned idx, uint64_t addr)
{
	uint32_t off = PCI_CFG_BAR0 + 4 * idx;
	pci_dev__put32(d, off, (uint32_t)addr | (d->bar[idx].mem64 ? PCI_BAR_MEM64 : 0));
	if (d->bar[idx].mem64)
		pci_dev__put32(d, off + 4, (uint32_t)(addr >> 32));
}

void pci_dev__cfg_read(const struct pci_dev *d, uint32_t off, void *data, uint32_t len)
{
	uint8_t *out = data;
	for (uint32_t i = 0; i < len; i++)
		out[i] = off + i < PCI_CFG_SPACE ? d->cfg[off + i] : 0xff;
}

void pci_dev__cfg_write(struct pci_dev *d, uint32_t off, const void *data, uint32_t len)
{
	const uint8_t *in = data;
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SPACE; i++) {
		uint32_t o = off + i;
		uint8_t v = in[i];
		d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (v & d->wmask[o]));
		d->cfg[o] &= (uint8_t)~(v & d->w1cmask[o]);
	}
}

/* ---- the host ---- */

void pci_host__init(struct pci_host *h, uint64_t mmio_base, uint64_t mmio_size)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->mmio_base = h->mmio_next = mmio_base;
	h->mmio_size = mmio_size;
	pci_dev__init(&h->bridge, HOST_VENDOR, HOST_DEVICE, CLASS_HOST, 0, HOST_VENDOR, 0x1100,
		      NULL, NULL);
	h->dev[0] = &h->bridge;
}

void pci_host__destroy(struct pci_host *h)
{
	pthread_mutex_destroy(&h->lock);
}

int pci_host__add(struct pci_host *h, struct pci_dev *d)
{
	unsigned slot = 1;
	while (slot < PCI_MAX_SLOTS && h->dev[slot])
		slot++;
	if (slot == PCI_MAX_SLOTS)
		return -ENOSPC;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t size = d->bar[i].size;
		if (!size)
			continue;
		uint64_t a = (h->mmio_next + size - 1) & ~(size - 1);
		if (a + size > h->mmio_base + h->mmio_size)
			return -ENOSPC;
		pci_dev__set_bar_addr(d, i, a);
		h->mmio_next = a + size;
	}
	d->slot = slot;
	h->dev[slot] = d;
	return (int)slot;
}

static struct pci_dev *find(struct pci_host *h, unsigned bus, unsigned devfn)
{
	if (bus != 0 || (devfn & 7) != 0)
		return NULL;
	return h->dev[devfn >> 3];
}

void pci_host__cfg_access(struct pci_host *h, unsigned bus, unsigned devfn, uint32_t reg,
			  bool is_write, void *data, uint32_t len)
{
	pthread_mutex_lock(&h->lock);
	struct pci_dev *d = find(h, bus, devfn);
	if (!d || reg >= PCI_CFG_SPACE || len > PCI_CFG_SPACE - reg) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (!is_write) {
		if (d->ops && d->ops->config_read)
			d->ops->config_read(d->priv, d, reg, len);
		pci_dev__cfg_read(d, reg, data, len);
	} else {
		pci_dev__cfg_write(d, reg, data, len);
		if (d->ops && d->ops->config_written)
			d->ops->config_written(d->priv, d, reg, len);
	}
	pthread_mutex_unlock(&h->lock);
}

/* 0xcf8: the 32-bit address latch (other widths do not touch it, as on real chipsets, which
 * is also what keeps Linux's type-2 probe from matching); 0xcfc..0xcff: the data window. */
static void cf8_access(struct pci_host *h, uint64_t off, bool is_write, void *data, uint32_t len)
{
	if (off < 4) {
		if (off == 0 && len == 4) {
			pthread_mutex_lock(&h->lock);
			if (is_write) {
				uint32_t v;
				memcpy(&v, data, 4);
				__atomic_store_n(&h->cf8, v & ~3u, __ATOMIC_RELAXED);
			} else {
				memcpy(data, &h->cf8, 4);
			}
			pthread_mutex_unlock(&h->lock);
		} else if (!is_write) {
			memset(data, 0xff, len);
		}
		return;
	}
	uint32_t a = __atomic_load_n(&h->cf8, __ATOMIC_RELAXED);
	/* bits 27:24 are register bits 11:8 (AMD's extended configuration space through CF8,
	 * which Linux uses with acpi=off on AMD CPUs): 0 on every other chipset */
	uint32_t reg = ((a >> 16) & 0xf00) | (a & 0xfc) | (uint32_t)(off - 4);
	if (!(a & CF8_ENABLE) || reg + len > PCI_CFG_SPACE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_host__cfg_access(h, (a >> 16) & 0xff, (a >> 8) & 0xff, reg, is_write, data, len);
}

static void cf8_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	cf8_access(opaque, off, false, data, len);
}

static void cf8_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	cf8_access(opaque, off, true, (void *)data, len);
}

const struct bus_dev_ops pci_cf8_ops = {
	.name = "pci-cf8",
	.read = cf8_read,
	.write = cf8_write,
};

/* ECAM: bus << 20 | device << 15 | function << 12 | register; an access may not leave its
 * function's 4 KiB. */
static void ecam_access(struct pci_host *h, uint64_t off, bool is_write, void *data, uint32_t len)
{
	uint32_t reg = (uint32_t)(off & 0xfff);
	if (reg + len > PCI_CFG_SPACE) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_add_fetch(&h->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	pci_host__cfg_access(h, (unsigned)(off >> 20), (unsigned)(off >> 12) & 0xff, reg,
			     is_write, data, len);
}

static void ecam_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	ecam_access(opaque, off, false, data, len);
}

static void ecam_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	ecam_access(opaque, off, true, (void *)data, len);
}

const struct bus_dev_ops pci_ecam_ops = {
	.name = "pci-ecam",
	.read = ecam_read,
	.write = ecam_write,
};

/* The BAR window: the first device whose enabled BAR holds the whole access gets it. BARs are
 * looked up under the lock and the device is called without it (its handlers lock on their
 * own), so a BAR moved meanwhile at most sends one access to where it just was. */
static void window_access(struct pci_host *h, uint64_t off, bool is_write, void *data,
			  uint32_t len)
{
	uint64_t gpa = h->mmio_base + off;
	struct pci_dev *hit = NULL;
	unsigned bar = 0;
	uint64_t boff = 0;

	pthread_mutex_lock(&h->lock);
	for (unsigned s = 1; s < PCI_MAX_SLOTS && !hit; s++) {
		struct pci_dev *d = h->dev[s];
		if (!d || !d->ops)
			continue;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			uint64_t a = pci_dev__bar_addr(d, i);
			if (a != UINT64_MAX && gpa >= a && gpa - a + len <= d->bar[i].size) {
				hit = d;
				bar = i;
				boff = gpa - a;
				break;
			}
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!hit) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_add_fetch(&h->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	if (is_write) {
		if (hit->ops->bar_write)
			hit->ops->bar_write(hit->priv, bar, boff, data, len);
	} else if (hit->ops->bar_read) {
		hit->ops->bar_read(hit->priv, bar, boff, data, len);
	} else {
		memset(data, 0xff, len);
	}
}

static void window_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	window_access(opaque, off, false, data, len);
}

static void window_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	window_access(opaque, off, true, (void *)data, len);
}

const struct bus_dev_ops pci_window_ops = {
	.name = "pci-bars",
	.read = window_read,
	.write = window_write,
};
