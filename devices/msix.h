/* SPDX-License-Identifier: Apache-2.0 */
/* An MSI-X table and PBA (PCI 3.0 §6.8.2): masking, pending bits, and where messages go. */
#ifndef KVMINI_DEVICES_MSIX_H
#define KVMINI_DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

#define MSIX_MAX_VECTORS  64      /* one PBA qword */
#define MSIX_ENTRY_SIZE   16
#define MSIX_CAP_LEN      12
#define MSIX_CTRL_ENABLE  0x8000u
#define MSIX_CTRL_FMASK   0x4000u
#define MSIX_VEC_MASKED   1u      /* vector control bit 0 */
#define PCI_CAP_ID_MSIX_  0x11

/* Where deliverable messages go: KVM (routes + irqfds) or a test. */
struct msix_sink_ops {
	/* vector `vec` is unmasked with this message (called when it first becomes deliverable
	 * and whenever its address/data change while it is): set up the route. */
	void (*route)(void *ctx, unsigned vec, uint64_t addr, uint32_t data);
	/* deliver vector `vec` (its route is current) */
	void (*fire)(void *ctx, unsigned vec, uint64_t addr, uint32_t data);
};

struct msix {
	pthread_mutex_t lock;
	unsigned nvec;
	uint32_t table[MSIX_MAX_VECTORS][4];  /* addr lo, addr hi, data, vector control */
	uint64_t pba;
	bool enabled, fmask;
	bool routed[MSIX_MAX_VECTORS];
	uint64_t routed_addr[MSIX_MAX_VECTORS];
	uint32_t routed_data[MSIX_MAX_VECTORS];
	const struct msix_sink_ops *ops;
	void *ctx;
	uint16_t cap;               /* capability offset in the device's config space */
	uint64_t dropped;           /* messages to an address that is no interrupt (atomic) */
	uint64_t fired;             /* messages delivered */
};

/* nvec 1..MSIX_MAX_VECTORS; all vectors masked, MSI-X disabled. 0 or -EINVAL. */
int msix__init(struct msix *m, unsigned nvec, const struct msix_sink_ops *ops, void *ctx);
void msix__destroy(struct msix *m);
/* Adds the capability to d: table at BAR `bar` offset table_off, PBA at pba_off. */
int msix__add_cap(struct msix *m, struct pci_dev *d, unsigned bar, uint32_t table_off,
		  uint32_t pba_off);
/* Config write hook: picks up the enable and function-mask bits from the capability. */
void msix__config_written(struct msix *m, const struct pci_dev *d, uint32_t off, uint32_t len);
void msix__set_control(struct msix *m, bool enabled, bool fmask);
/* Table and PBA accesses, any width at any offset (offset inside the structure). */
void msix__table_read(struct msix *m, uint64_t off, void *data, uint32_t len);
void msix__table_write(struct msix *m, uint64_t off, const void *data, uint32_t len);
void msix__pba_read(struct msix *m, uint64_t off, void *data, uint32_t len);
/* Signals vector vec: delivered, or left pending while masked. false if MSI-X is disabled or
 * vec is out of range (the caller falls back to INTx, or drops it). Any thread. */
bool msix__notify(struct msix *m, unsigned vec);
/* Whether the driver has enabled MSI-X (Message Control bit 15): then the function uses no INTx. */
bool msix__enabled(struct msix *m);
/* True when vec would be delivered now (enabled, unmasked, address an interrupt address). */
bool msix__deliverable(struct msix *m, unsigned vec);
/* An address in the board's MSI doorbell (msix__set_doorbell). */
bool msix__valid_addr(uint64_t addr);
/* Where the board's interrupt controller takes MSI writes (before any device is set up): x86's
 * LAPIC window 0xfee00000..0xfeefffff by default, arm64's ITS translation frame. */
void msix__set_doorbell(uint64_t base, uint64_t size);

#endif
