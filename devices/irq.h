/* SPDX-License-Identifier: Apache-2.0 */
/* An interrupt line a device can raise or lower, without knowing who delivers it (KVM or a test). */
#ifndef KVMINI_DEVICES_IRQ_H
#define KVMINI_DEVICES_IRQ_H

typedef void (*irq_set_fn)(void *ctx, unsigned gsi, int level);

struct irq_line {
	irq_set_fn set;   /* NULL: interrupts go nowhere */
	void *ctx;
	unsigned gsi;
};

static inline void irq_line__set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->ctx, l->gsi, level);
}

#endif
