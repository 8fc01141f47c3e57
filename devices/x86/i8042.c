/* SPDX-License-Identifier: Apache-2.0 */
/* The i8042 keyboard controller: status, command byte, self-tests, reset, and a keyboard on IRQ 1. */
#include "devices/x86/i8042.h"

#include <stdio.h>
#include <string.h>

#define I8042_STR_OBF        0x01 /* output buffer full: data port has a byte */
#define I8042_STR_SYSFLAG    0x04 /* mirrors the command byte's system flag */
#define I8042_STR_UNLOCKED   0x10 /* keyboard not inhibited by the keylock switch */

#define I8042_CTR_KBDINT     0x01 /* IRQ 1 when the keyboard's byte reaches the buffer */
#define I8042_CTR_SYSFLAG    0x04
#define I8042_CTR_KBDDIS     0x10
#define I8042_CTR_AUXDIS     0x20
#define I8042_CTR_XLATE      0x40 /* set 2 scan codes are translated to set 1 */
#define I8042_CTR_DEFAULT    (I8042_CTR_KBDINT | I8042_CTR_SYSFLAG) /* POST passed */

#define I8042_CMD_READ_CTR   0x20
#define I8042_CMD_WRITE_CTR  0x60
#define I8042_CMD_AUX_DIS    0xa7
#define I8042_CMD_AUX_EN     0xa8
#define I8042_CMD_AUX_TEST   0xa9
#define I8042_CMD_SELF_TEST  0xaa
#define I8042_CMD_KBD_TEST   0xab
#define I8042_CMD_KBD_DIS    0xad
#define I8042_CMD_KBD_EN     0xae
#define I8042_CMD_READ_OUTP  0xd0
#define I8042_CMD_WRITE_OUTP 0xd1
#define I8042_CMD_KBD_LOOP   0xd2 /* the next data byte comes back as if from the keyboard */
#define I8042_CMD_AUX_LOOP   0xd3 /* ... as if from the aux port */
#define I8042_CMD_AUX_SEND   0xd4 /* the next data byte goes to the aux device */
#define I8042_CMD_PULSE_RESET 0xfe

#define I8042_SELF_TEST_OK   0x55
#define I8042_AUX_TEST_CLK_LOW 0x01 /* the aux test's "clock line stuck low": no aux port */
#define I8042_OUTP_RESET     0x01 /* output port bit 0: CPU reset line, active low */
#define I8042_OUTP_DEFAULT   0x03 /* reset line high, A20 enabled */

void i8042__init(struct i8042 *k, void (*on_reset)(void *ctx), void *ctx, struct irq_line irq)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->on_reset = on_reset;
	k->ctx = ctx;
	k->irq = irq;
	k->cmd_byte = I8042_CTR_DEFAULT;
	ps2kbd__init(&k->kbd);
}

void i8042__destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

/* An edge on IRQ 1 for the byte now in the output buffer, if the guest asked for interrupts */
static void i8042__notify(struct i8042 *k)
{
	if (k->count && (k->cmd_byte & I8042_CTR_KBDINT)) {
		irq_line__set(&k->irq, 1);
		irq_line__set(&k->irq, 0);
	}
}

/* Queues bytes behind the output buffer; all or none (false: no room). */
static bool i8042__queue(struct i8042 *k, const uint8_t *bytes, size_t n)
{
	bool was_empty = k->count == 0;

	if (n > I8042_QUEUE - k->count)
		return false;
	for (size_t i = 0; i < n; i++)
		k->queue[(k->head + k->count++) % I8042_QUEUE] = bytes[i];
	if (was_empty && n)
		i8042__notify(k);
	return true;
}

static void i8042__reply(struct i8042 *k, uint8_t v)
{
	i8042__queue(k, &v, 1);   /* a full queue drops it, as a real controller would overrun */
}

static uint8_t i8042__status(const struct i8042 *k)
{
	uint8_t st = I8042_STR_UNLOCKED; /* input buffer full (bit 1) always reads 0 */

	if (k->count)
		st |= I8042_STR_OBF;
	if (k->cmd_byte & I8042_CTR_SYSFLAG)
		st |= I8042_STR_SYSFLAG;
	return st;
}

/* Runs a command written to port 0x64; returns true if it pulses the reset line. */
static bool i8042__command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0; /* a new command cancels one still waiting for its data byte */
	switch (cmd) {
	case I8042_CMD_READ_CTR:
		i8042__reply(k, k->cmd_byte);
		break;
	case I8042_CMD_WRITE_CTR:
	case I8042_CMD_WRITE_OUTP:
	case I8042_CMD_KBD_LOOP:
	case I8042_CMD_AUX_LOOP:
	case I8042_CMD_AUX_SEND:
		k->pending_cmd = cmd;
		break;
	case I8042_CMD_SELF_TEST:
		i8042__reply(k, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_KBD_TEST:
		i8042__reply(k, 0x00);
		break;
	case I8042_CMD_AUX_TEST:
		i8042__reply(k, I8042_AUX_TEST_CLK_LOW);
		break;
	case I8042_CMD_READ_OUTP:
		i8042__reply(k, I8042_OUTP_DEFAULT);
		break;
	case I8042_CMD_KBD_DIS:
	case I8042_CMD_KBD_EN:
		k->cmd_byte = (uint8_t)(cmd == I8042_CMD_KBD_DIS ? k->cmd_byte | I8042_CTR_KBDDIS
				     : k->cmd_byte & ~I8042_CTR_KBDDIS);
		break;
	case I8042_CMD_AUX_DIS:
	case I8042_CMD_AUX_EN:
		k->cmd_byte = (uint8_t)(cmd == I8042_CMD_AUX_DIS ? k->cmd_byte | I8042_CTR_AUXDIS
				     : k->cmd_byte & ~I8042_CTR_AUXDIS);
		break;
	case I8042_CMD_PULSE_RESET:
		return true;
	default: /* unknown: ignored */
		break;
	}
	return false;
}

/* Takes a byte written to port 0x60; returns true if it pulls the reset line. */
static bool i8042__data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd, reply[PS2KBD_REPLY_MAX];

	k->pending_cmd = 0;
	switch (cmd) {
	case I8042_CMD_WRITE_CTR:
		k->cmd_byte = v;
		i8042__notify(k);   /* interrupts just enabled with a byte waiting */
		return false;
	case I8042_CMD_WRITE_OUTP:
		return !(v & I8042_OUTP_RESET);
	case I8042_CMD_KBD_LOOP:
	case I8042_CMD_AUX_LOOP:
		/* no aux port: its loopback comes back without the aux status bit, which is how
		 * Linux tells at once that there is none (no 500 ms probe timeouts) */
		i8042__reply(k, v);
		return false;
	case I8042_CMD_AUX_SEND:
		return false;	/* no aux device to take it */
	default: /* for the keyboard */
		i8042__queue(k, reply, ps2kbd__write(&k->kbd, v, reply));
		return false;
	}
}

static void i8042__reset(struct i8042 *k)
{
	if (k->on_reset)
		k->on_reset(k->ctx);
}

int i8042__ctrl_alt_del(struct i8042 *k, char *err, size_t errlen)
{
	uint8_t seq[PS2KBD_CAD_MAX];
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (!k->kbd.scanning || (k->cmd_byte & (I8042_CTR_KBDDIS | I8042_CTR_KBDINT)) !=
	    I8042_CTR_KBDINT) {
		snprintf(err, errlen, "the guest has not enabled its keyboard (no i8042/atkbd driver "
			 "running)");
		ret = -1;
	} else if (!i8042__queue(k, seq, ps2kbd__ctrl_alt_del(k->cmd_byte & I8042_CTR_XLATE, seq))) {
		snprintf(err, errlen, "the keyboard's buffer is full (the guest is not reading it)");
		ret = -1;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void i8042__data_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	struct i8042 *k = opaque;

	if (len != 1 || offset) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (k->count) {   /* the next byte moves into the output buffer */
		k->last = k->queue[k->head];
		k->head = (k->head + 1) % I8042_QUEUE;
		k->count--;
		i8042__notify(k);
	}
	*(uint8_t *)data = k->last; /* an empty buffer reads its last byte again */
	pthread_mutex_unlock(&k->lock);
}

static void i8042__data_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	if (len != 1 || offset)
		return;
	pthread_mutex_lock(&k->lock);
	reset = i8042__data(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042__reset(k);
}

static void i8042__cmd_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	struct i8042 *k = opaque;

	if (len != 1 || offset) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	*(uint8_t *)data = i8042__status(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042__cmd_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	if (len != 1 || offset)
		return;
	pthread_mutex_lock(&k->lock);
	reset = i8042__command(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042__reset(k);
}

const struct bus_dev_ops i8042_data_ops = {
	.name = "i8042-data",
	.read = i8042__data_read,
	.write = i8042__data_write,
};

const struct bus_dev_ops i8042_cmd_ops = {
	.name = "i8042-cmd",
	.read = i8042__cmd_read,
	.write = i8042__cmd_write,
};
