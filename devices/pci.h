/* SPDX-License-Identifier: Apache-2.0 */
/* PCI bus 0: type-0 config-space register files, CF8/CFC and ECAM access, BAR decoding. */
#ifndef KVMINI_DEVICES_PCI_H
#define KVMINI_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_CFG_SPACE      4096     /* PCIe extended config space per function */
#define PCI_MAX_SLOTS      32       /* bus 0, function 0 of each slot */
#define PCI_NUM_BARS       6
#define PCI_ECAM_BUS_SIZE  (1u << 20)   /* 32 devices x 8 functions x 4 KiB */
#define PCI_CF8_PORT       0xcf8
#define PCI_CF8_LEN        8        /* 0xcf8 address, 0xcfc..0xcff data */

/* Standard header offsets and bits used here (PCI Local Bus 3.0, chapter 6). */
#define PCI_CFG_VENDOR     0x00
#define PCI_CFG_DEVICE     0x02
#define PCI_CFG_COMMAND    0x04
#define PCI_CFG_STATUS     0x06
#define PCI_CFG_REVISION   0x08
#define PCI_CFG_CLASS      0x09     /* 3 bytes: prog-if, subclass, class */
#define PCI_CFG_HEADER     0x0e
#define PCI_CFG_BAR0       0x10
#define PCI_CFG_SUBVENDOR  0x2c
#define PCI_CFG_SUBSYSTEM  0x2e
#define PCI_CFG_CAP_PTR    0x34
#define PCI_CFG_INT_LINE   0x3c
#define PCI_CFG_INT_PIN    0x3d
#define PCI_CAP_START      0x40
#define PCI_CMD_IO         (1u << 0)
#define PCI_CMD_MEM        (1u << 1)
#define PCI_CMD_MASTER     (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAPS    (1u << 4)
#define PCI_BAR_MEM64      0x4u     /* memory BAR type 10b: 64-bit */

struct pci_dev;

/* What a device behind the host implements. Called on vCPU threads. */
struct pci_dev_ops {
	const char *name;
	/* An access to one of its memory BARs (offset inside the BAR). No host lock held. */
	void (*bar_read)(void *priv, unsigned bar, uint64_t off, void *data, uint32_t len);
	void (*bar_write)(void *priv, unsigned bar, uint64_t off, const void *data, uint32_t len);
	/* After the guest wrote config bytes [off, off+len): command, BARs and capabilities are
	 * already updated. Called with the host lock held (never take it from here). */
	void (*config_written)(void *priv, struct pci_dev *d, uint32_t off, uint32_t len);
	/* Before the guest reads config bytes [off, off+len): a chance to refresh them (optional;
	 * host lock held). */
	void (*config_read)(void *priv, struct pci_dev *d, uint32_t off, uint32_t len);
};

struct pci_bar {
	uint64_t size;     /* power of two >= 16; 0: not implemented */
	bool mem64;        /* takes this BAR and the next */
};

/* One function's config space: contents, which bits are writable, which are write-1-to-clear. */
struct pci_dev {
	uint8_t cfg[PCI_CFG_SPACE];
	uint8_t wmask[PCI_CFG_SPACE];
	uint8_t w1cmask[PCI_CFG_SPACE];
	struct pci_bar bar[PCI_NUM_BARS];
	uint16_t last_cap;  /* offset of the last capability (0: none yet) */
	uint16_t cap_end;   /* where the next capability goes */
	const struct pci_dev_ops *ops;
	void *priv;
	unsigned slot;      /* set by pci_host__add */
};

struct pci_host {
	pthread_mutex_t lock;      /* config space of every device and cf8 */
	uint32_t cf8;
	struct pci_dev bridge;     /* 00:00.0 */
	struct pci_dev *dev[PCI_MAX_SLOTS];
	uint64_t mmio_base, mmio_size;   /* where BARs are placed and decoded */
	uint64_t mmio_next;              /* bump allocator for the firmware's BAR assignment */
	uint64_t bad_accesses;           /* config/BAR accesses that hit nothing (atomic) */
};

/* Fills a type-0 header: ids, class (24 bits: class << 16 | subclass << 8 | prog-if). */
void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t revision, uint16_t subvendor, uint16_t subsystem,
		   const struct pci_dev_ops *ops, void *priv);
/* Declares memory BAR `idx` (size a power of two >= 16; a 64-bit BAR also takes idx + 1).
 * 0 or -EINVAL. */
int pci_dev__add_bar(struct pci_dev *d, unsigned idx, uint64_t size, bool mem64);
/* Appends a capability of `len` bytes (id and next pointer included) to the list: returns its
 * offset in config space, or 0 if it does not fit. Its body is read-only until the caller sets
 * wmask bytes. */
uint16_t pci_dev__add_cap(struct pci_dev *d, uint8_t id, uint8_t len);
/* The address a memory BAR holds now, or UINT64_MAX while it is being sized / not decoded
 * (memory decoding off in the command register). */
uint64_t pci_dev__bar_addr(const struct pci_dev *d, unsigned idx);
void pci_dev__set_bar_addr(struct pci_dev *d, unsigned idx, uint64_t addr);
/* Raw config accesses at any offset and width 1..8 (bytes past the end read as 0xff). */
void pci_dev__cfg_read(const struct pci_dev *d, uint32_t off, void *data, uint32_t len);
void pci_dev__cfg_write(struct pci_dev *d, uint32_t off, const void *data, uint32_t len);

static inline uint16_t pci_dev__get16(const struct pci_dev *d, uint32_t off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}
void pci_dev__put16(struct pci_dev *d, uint32_t off, uint16_t v);
void pci_dev__put32(struct pci_dev *d, uint32_t off, uint32_t v);

/* A host with a host bridge at 00:00.0; BARs are assigned and decoded in [mmio_base, +size). */
void pci_host__init(struct pci_host *h, uint64_t mmio_base, uint64_t mmio_size);
void pci_host__destroy(struct pci_host *h);
/* Puts d in the first free slot and assigns its BARs in the MMIO window (as firmware would):
 * the slot, or -ENOSPC. */
int pci_host__add(struct pci_host *h, struct pci_dev *d);
/* One config access by bus/device/function/register: absent functions read all-ones. */
void pci_host__cfg_access(struct pci_host *h, unsigned bus, unsigned devfn, uint32_t reg,
			  bool is_write, void *data, uint32_t len);

extern const struct bus_dev_ops pci_cf8_ops;     /* PIO PCI_CF8_PORT, PCI_CF8_LEN bytes */
extern const struct bus_dev_ops pci_ecam_ops;    /* MMIO, PCI_ECAM_BUS_SIZE bytes (bus 0) */
extern const struct bus_dev_ops pci_window_ops;  /* MMIO, the host's BAR window */

#endif
