/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's GSI routing table: KVM_SET_GSI_ROUTING replaces all of it, so it is kept whole here. */
#include "vmm/irq_routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

int irq_routes__init(struct irq_routes *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	r->table = calloc(1, sizeof(*r->table) +
			  IRQ_ROUTES_MAX_ENTRIES * sizeof(struct kvm_irq_routing_entry));
	if (!r->table)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void irq_routes__destroy(struct irq_routes *r)
{
	if (!r->table)
		return;
	free(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
}

int irq_routes__alloc_msi(struct irq_routes *r)
{
	pthread_mutex_lock(&r->lock);
	int gsi = r->n_msi < IRQ_ROUTES_MSI_MAX ? (int)(IRQ_ROUTES_MSI_BASE + r->n_msi++) : -ENOSPC;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

size_t irq_routes__build(const struct irq_routes *r, struct kvm_irq_routing_entry *e, size_t max)
{
	size_t n = 0;

	for (unsigned gsi = 0; gsi < 16 && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = gsi % 8 } };
	for (unsigned gsi = 0; gsi < IRQ_ROUTES_IOAPIC_PINS && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi } };
	for (unsigned i = 0; i < r->n_msi && n < max; i++) {
		if (!r->msi[i].set)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_ROUTES_MSI_BASE + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->msi[i].addr,
				   .address_hi = (uint32_t)(r->msi[i].addr >> 32),
				   .data = r->msi[i].data } };
	}
	return n;
}

int irq_routes__set_msi(struct irq_routes *r, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (gsi < IRQ_ROUTES_MSI_BASE || gsi - IRQ_ROUTES_MSI_BASE >= r->n_msi) {
		ret = -EINVAL;
		goto out;
	}
	r->msi[gsi - IRQ_ROUTES_MSI_BASE].set = true;
	r->msi[gsi - IRQ_ROUTES_MSI_BASE].addr = addr;
	r->msi[gsi - IRQ_ROUTES_MSI_BASE].data = data;
	r->table->nr = (uint32_t)irq_routes__build(r, r->table->entries, IRQ_ROUTES_MAX_ENTRIES);
	r->table->flags = 0;
	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0)
		ret = -errno;
	else
		r->commits++;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}
