/* SPDX-License-Identifier: Apache-2.0 */
/* The i8042 keyboard controller, only as far as Linux needs it: status reads and reset (0xFE). */
#ifndef KVMINI_DEVICES_X86_I8042_H
#define KVMINI_DEVICES_X86_I8042_H

#include "devices/bus.h"

struct i8042 {
	void (*on_reset)(void *ctx);   /* called when the guest pulses the reset line */
	void *ctx;
	/* private */
	uint8_t cmd_byte, pending_cmd, out_buf;
	int out_full;
};

void i8042__init(struct i8042 *k, void (*on_reset)(void *ctx), void *ctx);
/* Registered on the PIO bus twice: data port 0x60 (len 1) and command/status port 0x64 (len 1);
 * the offset passed to the handlers is 0 for both, so each port has its own ops table. */
extern const struct bus_dev_ops i8042_data_ops;
extern const struct bus_dev_ops i8042_cmd_ops;

#endif
