/* SPDX-License-Identifier: Apache-2.0 */
/* The ARM PrimeCell PL061 GPIO controller on MMIO: 8 lines, edge or level interrupts on one SPI; the arm64 board's power button is one of its inputs. */
#ifndef KVMINI_DEVICES_PL061_H
#define KVMINI_DEVICES_PL061_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

#define PL061_SIZE 0x1000

struct pl061 {
	pthread_mutex_t lock;
	uint8_t out;             /* what the guest wrote to GPIODATA (output lines) */
	uint8_t in;              /* the input lines' levels (pl061__set_input) */
	uint8_t dir, is, ibe, iev, ie, ris, afsel;
	bool irq_level;          /* the level last given to irq */
	struct irq_line irq;
};

void pl061__init(struct pl061 *g, struct irq_line irq);
/* An input line (0-7) goes to level: an edge or level interrupt when the guest asked for
 * one (GPIOIS/IBE/IEV/IE). Thread-safe. */
void pl061__set_input(struct pl061 *g, unsigned line, bool level);
extern const struct bus_dev_ops pl061_ops;

#endif
