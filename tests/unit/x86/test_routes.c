/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: x86's GSI routing table (KVM's PIC and IOAPIC defaults, then the MSI routes). */
#include <check.h>
#include <errno.h>
#include <linux/kvm.h>

#include "tests/lib/ck.h"
#include "vmm/irq_routes.h"

START_TEST(routes_keep_the_defaults)
{
	struct irq_routes r;
	struct kvm_irq_routing_entry e[IRQ_ROUTES_MAX_ENTRIES];
	ck_assert_int_eq(irq_routes__init(&r, -1), 0);
	ck_assert_uint_eq(irq_routes__build(&r, e, IRQ_ROUTES_MAX_ENTRIES), 40);
	int gsi = irq_routes__alloc_msi(&r);
	ck_assert_int_eq(gsi, 24);
	ck_assert_uint_eq(irq_routes__build(&r, e, IRQ_ROUTES_MAX_ENTRIES), 40);  /* not set yet */
	ck_assert_int_eq(irq_routes__set_msi(&r, (unsigned)gsi, 0xfee01000, 0x31, 0x18), 0);
	size_t n = irq_routes__build(&r, e, IRQ_ROUTES_MAX_ENTRIES);
	ck_assert_uint_eq(n, 41);
	/* GSI 4 (COM1) still reaches IOAPIC pin 4 and the master 8259 */
	unsigned com1 = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].gsi == 4 && e[i].type == KVM_IRQ_ROUTING_IRQCHIP)
			com1 |= 1u << e[i].u.irqchip.irqchip;
	ck_assert_uint_eq(com1, (1u << KVM_IRQCHIP_PIC_MASTER) | (1u << KVM_IRQCHIP_IOAPIC));
	ck_assert_uint_eq(e[40].type, KVM_IRQ_ROUTING_MSI);
	ck_assert_uint_eq(e[40].gsi, 24);
	ck_assert_uint_eq(e[40].u.msi.address_lo, 0xfee01000);
	ck_assert_uint_eq(e[40].u.msi.data, 0x31);
	ck_assert_int_eq(irq_routes__set_msi(&r, 25, 0xfee00000, 0, 0), -EINVAL);  /* not allocated */
	ck_assert_int_eq(irq_routes__set_msi(&r, 3, 0xfee00000, 0, 0), -EINVAL);
	ck_assert_uint_eq(irq_routes__build(&r, e, 10), 10);
	irq_routes__destroy(&r);
}
END_TEST

Suite *x86_routes_suite(void)
{
	Suite *s = suite_create("x86-routes");
	TCase *tc = tcase_create("gsi-routing");
	tcase_add_test(tc, routes_keep_the_defaults);
	suite_add_tcase(s, tc);
	return s;
}
