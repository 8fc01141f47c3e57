/* SPDX-License-Identifier: Apache-2.0 */
/* The PS/2 keyboard behind the i8042: an MF2 keyboard's replies to the host's commands, and Ctrl-Alt-Del. */
#include "devices/x86/ps2kbd.h"

#include <string.h>

/* Keyboard commands and replies (IBM PS/2 technical reference; Linux's atkbd.c uses these) */
#define KBD_CMD_SET_LEDS   0xed
#define KBD_CMD_ECHO       0xee
#define KBD_CMD_SCAN_SET   0xf0   /* parameter 0: report the set in use */
#define KBD_CMD_GET_ID     0xf2
#define KBD_CMD_SET_RATE   0xf3
#define KBD_CMD_ENABLE     0xf4
#define KBD_CMD_DISABLE    0xf5   /* defaults, scanning off */
#define KBD_CMD_DEFAULTS   0xf6
#define KBD_CMD_RESEND     0xfe
#define KBD_CMD_RESET      0xff

#define KBD_REPLY_ACK      0xfa
#define KBD_REPLY_BAT_OK   0xaa   /* basic assurance test passed */
#define KBD_REPLY_RESEND   0xfe
#define KBD_ID_MF2_0       0xab   /* an MF2 keyboard's ID: 0xab 0x83 */
#define KBD_ID_MF2_1       0x83
#define KBD_SCAN_SET_2     0x02

void ps2kbd__init(struct ps2kbd *kb)
{
	memset(kb, 0, sizeof(*kb));
}

/* The parameter byte of SET_LEDS, SET_RATE or SCAN_SET */
static size_t take_param(struct ps2kbd *kb, uint8_t byte, uint8_t *reply)
{
	uint8_t cmd = kb->param_for;

	kb->param_for = 0;
	reply[0] = KBD_REPLY_ACK;
	if (cmd == KBD_CMD_SCAN_SET && byte == 0) {
		reply[1] = KBD_SCAN_SET_2;   /* the only set this keyboard speaks */
		return 2;
	}
	return 1;
}

size_t ps2kbd__write(struct ps2kbd *kb, uint8_t byte, uint8_t reply[PS2KBD_REPLY_MAX])
{
	if (kb->param_for)
		return take_param(kb, byte, reply);
	reply[0] = KBD_REPLY_ACK;
	switch (byte) {
	case KBD_CMD_SET_LEDS:
	case KBD_CMD_SET_RATE:
	case KBD_CMD_SCAN_SET:
		kb->param_for = byte;
		return 1;
	case KBD_CMD_ECHO:
		reply[0] = KBD_CMD_ECHO;
		return 1;
	case KBD_CMD_GET_ID:
		reply[1] = KBD_ID_MF2_0;
		reply[2] = KBD_ID_MF2_1;
		return 3;
	case KBD_CMD_ENABLE:
		kb->scanning = true;
		return 1;
	case KBD_CMD_DISABLE:
		kb->scanning = false;
		return 1;
	case KBD_CMD_DEFAULTS:
	case KBD_CMD_RESEND:
		return 1;
	case KBD_CMD_RESET:
		kb->scanning = true;
		reply[1] = KBD_REPLY_BAT_OK;
		return 2;
	default:
		reply[0] = KBD_REPLY_RESEND;   /* not a command this keyboard knows */
		return 1;
	}
}

size_t ps2kbd__ctrl_alt_del(bool translated, uint8_t out[PS2KBD_CAD_MAX])
{
	/* left Ctrl, left Alt, Delete (an extended key) down, then up in reverse order */
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71,
					0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53,
					0xe0, 0xd3, 0xb8, 0x9d };
	const uint8_t *seq = translated ? set1 : set2;
	size_t n = translated ? sizeof(set1) : sizeof(set2);

	memcpy(out, seq, n);
	return n;
}
