/* SPDX-License-Identifier: Apache-2.0 */
/* The PS/2 keyboard behind the i8042, as Linux's atkbd drives it: command replies and Ctrl-Alt-Del scan codes. */
#ifndef KVMINI_DEVICES_X86_PS2KBD_H
#define KVMINI_DEVICES_X86_PS2KBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS2KBD_REPLY_MAX 3      /* the longest reply: ACK + a two-byte ID */
#define PS2KBD_CAD_MAX   16     /* the longest Ctrl-Alt-Del sequence (set 2: 11 bytes) */

struct ps2kbd {
	uint8_t param_for;      /* a command still waiting for its parameter byte, or 0 */
	bool scanning;          /* the guest enabled scanning (0xF4, or reset): keys reach it */
};

void ps2kbd__init(struct ps2kbd *kb);
/* Takes a byte the guest sent to the keyboard; writes its reply bytes to `reply` and returns
 * how many (0..PS2KBD_REPLY_MAX). */
size_t ps2kbd__write(struct ps2kbd *kb, uint8_t byte, uint8_t reply[PS2KBD_REPLY_MAX]);
/* Ctrl, Alt and Del pressed and released: scan code set 2, or set 1 when the controller
 * translates (its command byte's XLATE bit). Returns the number of bytes written to `out`. */
size_t ps2kbd__ctrl_alt_del(bool translated, uint8_t out[PS2KBD_CAD_MAX]);

#endif
