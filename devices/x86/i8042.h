/* SPDX-License-Identifier: Apache-2.0 */
/* The i8042 keyboard controller with a PS/2 keyboard on its first port: reset, IRQ 1, Ctrl-Alt-Del. */
#ifndef KVMINI_DEVICES_X86_I8042_H
#define KVMINI_DEVICES_X86_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/x86/ps2kbd.h"

#define I8042_QUEUE 16          /* bytes waiting behind the output buffer (a keyboard's FIFO) */

struct i8042 {
	void (*on_reset)(void *ctx);   /* called when the guest pulses the reset line */
	void *ctx;
	struct irq_line irq;           /* IRQ 1: one edge per byte that reaches the output buffer */
	/* private */
	pthread_mutex_t lock;
	uint8_t cmd_byte, pending_cmd, last;
	uint8_t queue[I8042_QUEUE];    /* queue[head] is the output buffer when count > 0 */
	unsigned head, count;
	struct ps2kbd kbd;
};

/* irq: where IRQ 1 goes (a NULL .set: nowhere, for a guest that only uses the reset line) */
void i8042__init(struct i8042 *k, void (*on_reset)(void *ctx), void *ctx, struct irq_line irq);
void i8042__destroy(struct i8042 *k);
/* Presses and releases Ctrl-Alt-Del on the keyboard (Firecracker's SendCtrlAltDel). -1 with a
 * message when the guest has not enabled the keyboard (no i8042 driver) or its buffer is full. */
int i8042__ctrl_alt_del(struct i8042 *k, char *err, size_t errlen);

/* Registered on the PIO bus twice: data port 0x60 (len 1) and command/status port 0x64 (len 1);
 * the offset passed to the handlers is 0 for both, so each port has its own ops table. */
extern const struct bus_dev_ops i8042_data_ops;
extern const struct bus_dev_ops i8042_cmd_ops;

#endif
