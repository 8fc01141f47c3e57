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
	r->msi_base = irq_routes__msi_base();
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
	int gsi = r->n_msi < IRQ_ROUTES_MSI_MAX ? (int)(r->msi_base + r->n_msi++) : -ENOSPC;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

size_t irq_routes__build(const struct irq_routes *r, struct kvm_irq_routing_entry *e, size_t max)
{
	size_t n = irq_routes__defaults(e, max);

	for (unsigned i = 0; i < r->n_msi && n < max; i++) {
		if (!r->msi[i].set)
			continue;
		if (irq_routes__msi_entry(r->msi_base + i, r->msi[i].addr, r->msi[i].data,
					  r->msi[i].devid, &e[n]))
			n++;
	}
	return n;
}

int irq_routes__set_msi(struct irq_routes *r, unsigned gsi, uint64_t addr, uint32_t data,
			uint32_t devid)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (gsi < r->msi_base || gsi - r->msi_base >= r->n_msi) {
		ret = -EINVAL;
		goto out;
	}
	/* a message this board cannot deliver (a v2m SPI not the frame's) leaves the GSI
	 * unrouted: the vector's interrupts go nowhere, as on hardware, and the caller hears */
	struct kvm_irq_routing_entry probe;
	bool ok = irq_routes__msi_entry(gsi, addr, data, devid, &probe);
	r->msi[gsi - r->msi_base].set = ok;
	r->msi[gsi - r->msi_base].addr = addr;
	r->msi[gsi - r->msi_base].data = data;
	r->msi[gsi - r->msi_base].devid = devid;
	r->table->nr = (uint32_t)irq_routes__build(r, r->table->entries, IRQ_ROUTES_MAX_ENTRIES);
	r->table->flags = 0;
	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0)
		ret = -errno;
	else
		r->commits++;
	if (!ok && !ret)
		ret = -EINVAL;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}
