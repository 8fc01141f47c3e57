/* SPDX-License-Identifier: Apache-2.0 */
/* PL061 GPIO (ARM DDI 0190): GPIODATA through its address mask, direction, edge/level interrupt configuration, raw and masked status, clear; PrimeCell IDs so Linux's AMBA bus finds it. */
#include "devices/pl061.h"

#include <string.h>

#define GPIODATA   0x000   /* 0x000-0x3fc: address bits [9:2] mask the lines accessed */
#define GPIODIR    0x400   /* 1: output */
#define GPIOIS     0x404   /* 1: level-sensitive, 0: edge */
#define GPIOIBE    0x408   /* edge: 1 both edges */
#define GPIOIEV    0x40c   /* 1: rising edge / high level */
#define GPIOIE     0x410   /* interrupt mask (1: enabled) */
#define GPIORIS    0x414   /* raw status */
#define GPIOMIS    0x418   /* masked status */
#define GPIOIC     0x41c   /* write 1s: clear edge status */
#define GPIOAFSEL  0x420
#define PERIPHID   0xfe0   /* PeriphID0-3 then PCellID0-3, one byte a word */

/* QEMU's and the hardware's: part 0x061, designer ARM, revision 1; the PrimeCell cell ID */
static const uint8_t ids[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

void pl061__init(struct pl061 *g, struct irq_line irq)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->irq = irq;
}

/* with the lock held: level-sensitive lines follow their level; the line to the GIC follows
 * the masked status */
static void update(struct pl061 *g)
{
	uint8_t level_hit = (uint8_t)(g->is & ~(g->in ^ g->iev));	/* level == IEV */

	g->ris = (uint8_t)((g->ris & ~g->is) | level_hit);
	bool level = (g->ris & g->ie) != 0;
	if (level != g->irq_level) {
		g->irq_level = level;
		irq_line__set(&g->irq, level);
	}
}

void pl061__set_input(struct pl061 *g, unsigned line, bool level)
{
	if (line > 7)
		return;
	uint8_t bit = (uint8_t)(1u << line);

	pthread_mutex_lock(&g->lock);
	bool was = g->in & bit;
	g->in = level ? (uint8_t)(g->in | bit) : (uint8_t)(g->in & ~bit);
	if (was != level && !(g->is & bit) && !(g->dir & bit)) {	/* an edge on an input */
		if ((g->ibe & bit) || (level == ((g->iev & bit) != 0)))
			g->ris |= bit;
	}
	update(g);
	pthread_mutex_unlock(&g->lock);
}

static uint8_t read_reg(const struct pl061 *g, uint64_t off)
{
	if (off < 0x400)	/* inputs read their level, outputs what was written */
		return (uint8_t)(((g->in & ~g->dir) | (g->out & g->dir)) & (off >> 2));
	if (off >= PERIPHID && off < PERIPHID + 32)
		return ids[(off - PERIPHID) / 4];
	switch (off) {
	case GPIODIR: return g->dir;
	case GPIOIS: return g->is;
	case GPIOIBE: return g->ibe;
	case GPIOIEV: return g->iev;
	case GPIOIE: return g->ie;
	case GPIORIS: return g->ris;
	case GPIOMIS: return g->ris & g->ie;
	case GPIOAFSEL: return g->afsel;
	default: return 0;
	}
}

static void pl061_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pl061 *g = opaque;
	uint32_t v = 0;

	if (len <= 4 && !(off & 3)) {
		pthread_mutex_lock(&g->lock);
		v = read_reg(g, off);
		pthread_mutex_unlock(&g->lock);
	}
	memset(data, 0, len);
	memcpy(data, &v, len <= 4 ? len : 4);
}

static void write_reg(struct pl061 *g, uint64_t off, uint8_t v)
{
	uint8_t *const regs[] = { &g->dir, &g->is, &g->ibe, &g->iev, &g->ie };

	if (off < 0x400) {
		uint8_t mask = (uint8_t)(off >> 2);
		g->out = (uint8_t)((g->out & ~mask) | (v & mask));
	} else if (off >= GPIODIR && off <= GPIOIE) {
		*regs[(off - GPIODIR) / 4] = v;
	} else if (off == GPIOIC) {
		g->ris &= (uint8_t)~v;
	} else if (off == GPIOAFSEL) {
		g->afsel = v;
	}
	update(g);
}

static void pl061_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pl061 *g = opaque;
	uint32_t v = 0;

	if (len > 4 || (off & 3))
		return;		/* registers are 32-bit words, 8 bits used */
	memcpy(&v, data, len);
	pthread_mutex_lock(&g->lock);
	write_reg(g, off, (uint8_t)v);
	pthread_mutex_unlock(&g->lock);
}

const struct bus_dev_ops pl061_ops = {
	.name = "pl061",
	.read = pl061_read,
	.write = pl061_write,
};
