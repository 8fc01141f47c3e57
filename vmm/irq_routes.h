/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's GSI routing table: KVM's default irqchip routes plus MSI routes for MSI-X vectors. */
#ifndef KVMINI_VMM_IRQ_ROUTES_H
#define KVMINI_VMM_IRQ_ROUTES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define IRQ_ROUTES_MSI_MAX     512
#define IRQ_ROUTES_MAX_DEFAULTS 64    /* KVM's irqchip routes (x86: 16 PIC + 24 IOAPIC) */
#define IRQ_ROUTES_MAX_ENTRIES (IRQ_ROUTES_MAX_DEFAULTS + IRQ_ROUTES_MSI_MAX)

struct irq_routes {
	int vm_fd;                     /* -1: build the table but never commit it */
	pthread_mutex_t lock;
	unsigned msi_base;             /* the first GSI handed out for MSI */
	unsigned n_msi;                /* GSIs handed out */
	struct { bool set; uint64_t addr; uint32_t data; uint32_t devid; } msi[IRQ_ROUTES_MSI_MAX];
	struct kvm_irq_routing *table; /* scratch for commits */
	uint64_t commits;
};

int irq_routes__init(struct irq_routes *r, int vm_fd);
void irq_routes__destroy(struct irq_routes *r);
/* A fresh GSI for an MSI vector (no route until set): the GSI, or -ENOSPC. */
int irq_routes__alloc_msi(struct irq_routes *r);
/* Points an MSI GSI at (addr, data) from the PCI requester devid (bus << 8 | devfn) and
 * commits the whole table with KVM_SET_GSI_ROUTING. 0 or -errno. */
int irq_routes__set_msi(struct irq_routes *r, unsigned gsi, uint64_t addr, uint32_t data,
			uint32_t devid);
/* The table as it would be committed: KVM's defaults (irq_routes__defaults) then every MSI
 * route that is set. Returns the entry count. */
size_t irq_routes__build(const struct irq_routes *r, struct kvm_irq_routing_entry *e, size_t max);

/* The architecture's (vmm/ARCH/irq_routes.c): the routes KVM_CREATE_IRQCHIP sets up, which a
 * KVM_SET_GSI_ROUTING must repeat (at most max, at most IRQ_ROUTES_MAX_DEFAULTS; returns the
 * count), and the first GSI above them, where MSI GSIs start. */
size_t irq_routes__defaults(struct kvm_irq_routing_entry *e, size_t max);
unsigned irq_routes__msi_base(void);
/* The route for an MSI message into *e (x86: address and data; arm64's ITS also needs the
 * requester's devid; a GICv2m doorbell becomes its SPI's irqchip route). False when the board
 * cannot deliver that message (then the GSI stays unrouted). */
bool irq_routes__msi_entry(unsigned gsi, uint64_t addr, uint32_t data, uint32_t devid,
			   struct kvm_irq_routing_entry *e);

#endif
