/* SPDX-License-Identifier: Apache-2.0 */
/* x86's default GSI routes: what KVM_CREATE_IRQCHIP wires (8259 PICs and the IOAPIC). */
#include "vmm/irq_routes.h"

#define IOAPIC_PINS 24                 /* GSIs 0..23 */

/* GSI n -> 8259 pin n for n < 16, and -> IOAPIC pin n for n < 24 */
size_t irq_routes__defaults(struct kvm_irq_routing_entry *e, size_t max)
{
	size_t n = 0;

	for (unsigned gsi = 0; gsi < 16 && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = gsi % 8 } };
	for (unsigned gsi = 0; gsi < IOAPIC_PINS && n < max; gsi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi } };
	return n;
}

unsigned irq_routes__msi_base(void)
{
	return IOAPIC_PINS;
}

bool irq_routes__msi_entry(unsigned gsi, uint64_t addr, uint32_t data, uint32_t devid,
			   struct kvm_irq_routing_entry *e)
{
	(void)devid;	/* the LAPIC takes the message as it is */
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			   .data = data } };
	return true;
}
