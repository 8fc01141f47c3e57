/* SPDX-License-Identifier: Apache-2.0 */
/* arm64's default GSI routes with a vGIC: GSI n is SPI n (INTID 32 + n), as KVM sets them up. */
#include "vmm/irq_routes.h"

#include "firmware/arm64/layout.h"

#define SPIS IRQ_ROUTES_MAX_DEFAULTS	/* the SPIs the board uses are all below 64 */

size_t irq_routes__defaults(struct kvm_irq_routing_entry *e, size_t max)
{
	size_t n = 0;

	for (unsigned gsi = 0; gsi < SPIS && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = gsi } };
	return n;
}

unsigned irq_routes__msi_base(void)
{
	return SPIS;
}

/* the ITS translates (devid, event) to an LPI: KVM needs the devid with every route; a GICv2
 * has no ITS, and a write to its v2m frame's doorbell raises the SPI the data names (an INTID
 * of the frame's range, devices/gicv2m.c) */
bool irq_routes__msi_entry(unsigned gsi, uint64_t addr, uint32_t data, uint32_t devid,
			   struct kvm_irq_routing_entry *e)
{
	if (addr == A64_GICV2M_SETSPI) {
		if (data < 32 + A64_SPI_V2M || data - 32 - A64_SPI_V2M >= A64_SPI_V2M_COUNT)
			return false;
		*e = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = data - 32 } };
		return true;
	}
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI, .flags = KVM_MSI_VALID_DEVID,
		.u.msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			   .data = data, .devid = devid } };
	return true;
}
