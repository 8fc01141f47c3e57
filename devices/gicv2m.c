/* SPDX-License-Identifier: Apache-2.0 */
/* GICv2m MSI frame (Arm's GICv2m architecture note, Linux's irq-gic-v2m.c): MSI_TYPER, MSI_SETSPI_NS and MSI_IIDR; anything else reads 0 and ignores writes. */
#include "devices/gicv2m.h"

#include <string.h>

#define MSI_TYPER  0x008   /* [25:16] the first SPI's INTID, [9:0] how many */

void gicv2m__init(struct gicv2m *f, uint32_t spi_base, uint32_t spis, struct irq_line line)
{
	memset(f, 0, sizeof(*f));
	f->spi_base = spi_base;
	f->spis = spis;
	f->line = line;
}

int gicv2m__owns(const struct gicv2m *f, uint32_t data)
{
	return data >= 32 + f->spi_base && data - 32 - f->spi_base < f->spis;
}

static void v2m_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	const struct gicv2m *f = opaque;
	uint32_t v = 0;

	if (len == 4 && off == MSI_TYPER)
		v = ((32 + f->spi_base) & 0x3ff) << 16 | (f->spis & 0x3ff);
	memcpy(data, &v, len <= 4 ? len : 4);
	if (len > 4)
		memset((uint8_t *)data + 4, 0, len - 4);
}

/* a 16- or 32-bit write of an INTID to the doorbell raises that SPI as an edge */
static void v2m_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct gicv2m *f = opaque;
	uint32_t v = 0;

	if (off != GICV2M_SETSPI || (len != 4 && len != 2))
		return;
	memcpy(&v, data, len);
	if (!gicv2m__owns(f, v)) {
		__atomic_fetch_add(&f->bad_writes, 1, __ATOMIC_RELAXED);
		return;
	}
	if (f->line.set) {
		f->line.set(f->line.ctx, v - 32, 1);
		f->line.set(f->line.ctx, v - 32, 0);
	}
}

const struct bus_dev_ops gicv2m_ops = {
	.name = "gicv2m",
	.read = v2m_read,
	.write = v2m_write,
};
