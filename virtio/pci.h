/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-pci modern transport (virtio 1.2 §4.1): capabilities in BAR 0, MSI-X, ioeventfd kicks. */
#ifndef KVMINI_VIRTIO_PCI_H
#define KVMINI_VIRTIO_PCI_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/irq.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "virtio/core.h"
#include "virtio/virtio.h"
#include "vmm/irq_routes.h"

/* BAR 0 (64-bit memory, 32 KiB): one 4 KiB page per structure */
#define VPCI_BAR_SIZE      0x8000u
#define VPCI_COMMON_OFF    0x0000u
#define VPCI_COMMON_LEN    0x38u      /* up to queue_used_hi: no notification data, no reset */
#define VPCI_ISR_OFF       0x1000u
#define VPCI_DEVCFG_OFF    0x2000u
#define VPCI_NOTIFY_OFF    0x3000u
#define VPCI_NOTIFY_MULT   4u         /* queue i is kicked at NOTIFY_OFF + 4 * i */
#define VPCI_MSIX_OFF      0x4000u
#define VPCI_PBA_OFF       0x5000u
#define VPCI_NO_VECTOR     0xffffu
#define VPCI_VENDOR        0x1af4
#define VPCI_DEVICE_BASE   0x1040     /* + virtio device id: a modern-only device */

struct virtio_pci_queue {
	uint16_t num;
	bool ready;
	uint16_t vector;
	uint64_t desc, avail, used;
};

struct virtio_pci {
	struct virtio_dev vdev;
	struct pci_dev pci;
	struct msix msix;
	const struct guest_mem *mem;
	pthread_mutex_t lock;              /* the common config register file */
	uint32_t status;                   /* atomic: also set by the I/O thread (needs reset) */
	uint32_t dev_feat_sel, drv_feat_sel;
	uint16_t queue_sel, config_vector;
	uint8_t config_generation;
	uint64_t driver_features;
	uint8_t isr;                       /* atomic; read-to-clear */
	bool active;
	struct virtio_pci_queue q[VIRTIO_MAX_QUEUES];
	/* KVM: one GSI + irqfd per vector, one ioeventfd per queue at the notify address */
	int vm_fd;
	struct irq_routes *routes;
	int gsi[VIRTIO_MAX_QUEUES + 1];
	int irq_fd[VIRTIO_MAX_QUEUES + 1];
	uint64_t notify_gpa;               /* where the ioeventfds are now; UINT64_MAX: none */
	uint16_t pcicfg_cap;               /* VIRTIO_PCI_CAP_PCI_CFG: a window onto BAR 0 */
	/* without KVM (unit tests): messages go here */
	void (*msi_fallback)(void *ctx, uint64_t addr, uint32_t data);
	void *msi_ctx;
	uint64_t protocol_errors;
	/* INTx, for a driver that does not enable MSI-X: asserted while ISR != 0, lowered by the
	 * ISR read (read-to-clear); level-triggered on the GSI layout__pci_intx_gsi() gives */
	struct irq_line intx;              /* .set NULL: no INTx (unit tests without a line) */
	struct irq_line intx_pic;          /* the same wire steered to the 8259 (PIC-mode guests) */
	bool intx_disabled;                /* atomic: command register bit 10 (Interrupt Disable) */
	uint64_t intx_irqs;                /* interrupts raised through INTx */
	uint64_t no_msix_irqs;             /* interrupts dropped: MSI-X off and no INTx line */
	struct virtio_report reports;      /* what was said about the guest (rate limit) */
	char name[48];
};

/* Sets up the transport: config space, capabilities, MSI-X with num_queues + 1 vectors,
 * kick eventfds. Then add t->pci to a host. 0 or -errno. */
int virtio_pci__init(struct virtio_pci *t, const struct virtio_dev_ops *ops, void *priv,
		     unsigned num_queues, uint16_t queue_max, const struct guest_mem *mem);
/* Allocates a GSI and irqfd per vector; ioeventfds follow BAR 0 once memory decoding is on.
 * 0, or -1 with a reason in err. */
int virtio_pci__attach_kvm(struct virtio_pci *t, int vm_fd, struct irq_routes *routes,
			   char *err, size_t errlen);
/* Wires INTA to `line` (an IOAPIC pin) and `pic` (an ISA IRQ, named by the Interrupt Line
 * register; .set NULL: none): both follow the same level. */
void virtio_pci__set_intx(struct virtio_pci *t, struct irq_line line, struct irq_line pic);
void virtio_pci__destroy(struct virtio_pci *t);

extern const struct pci_dev_ops virtio_pci_dev_ops;

#endif
