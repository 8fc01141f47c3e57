/* SPDX-License-Identifier: Apache-2.0 */
/* The GICv2m MSI frame on MMIO: MSI_TYPER says which SPIs it owns, a write of one of them to MSI_SETSPI_NS raises it (an edge); for GICv2 hosts, which have no ITS. */
#ifndef KVMINI_DEVICES_GICV2M_H
#define KVMINI_DEVICES_GICV2M_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

#define GICV2M_SIZE     0x1000
#define GICV2M_SETSPI   0x040      /* MSI_SETSPI_NS: the doorbell devices write */

struct gicv2m {
	uint32_t spi_base, spis;   /* SPI numbers (INTID - 32) [spi_base, spi_base + spis) */
	struct irq_line line;      /* .set(ctx, SPI, level); .gsi is not used */
	uint64_t bad_writes;       /* doorbell writes of an SPI not its own (ignored) */
};

void gicv2m__init(struct gicv2m *f, uint32_t spi_base, uint32_t spis, struct irq_line line);
/* Is data (what a device writes to the doorbell: an INTID) one of the frame's SPIs? */
int gicv2m__owns(const struct gicv2m *f, uint32_t data);
extern const struct bus_dev_ops gicv2m_ops;

#endif
