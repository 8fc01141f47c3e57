/* SPDX-License-Identifier: Apache-2.0 */
/* The i8042 keyboard controller as far as Linux needs it: status, command byte, tests, reset. */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "devices/x86/i8042.h"

#define I8042_STR_OBF        0x01 /* output buffer full: data port has a byte */
#define I8042_STR_SYSFLAG    0x04 /* mirrors the command byte's system flag */
#define I8042_STR_UNLOCKED   0x10 /* keyboard not inhibited by the keylock switch */

#define I8042_CTR_SYSFLAG    0x04
#define I8042_CTR_KBDDIS     0x10
#define I8042_CTR_AUXDIS     0x20
#define I8042_CTR_DEFAULT    (0x01 | I8042_CTR_SYSFLAG) /* keyboard interrupt, POST passed */

#define I8042_CMD_READ_CTR   0x20
#define I8042_CMD_WRITE_CTR  0x60
#define I8042_CMD_AUX_DIS    0xa7
#define I8042_CMD_AUX_EN     0xa8
#define I8042_CMD_SELF_TEST  0xaa
#define I8042_CMD_KBD_TEST   0xab
#define I8042_CMD_KBD_DIS    0xad
#define I8042_CMD_KBD_EN     0xae
#define I8042_CMD_WRITE_OUTP 0xd1
#define I8042_CMD_PULSE_RESET 0xfe

#define I8042_SELF_TEST_OK   0x55
#define I8042_OUTP_RESET     0x01 /* output port bit 0: CPU reset line, active low */

/* The header's struct has no lock of its own; there is one controller per VM. */
static pthread_mutex_t i8042_lock = PTHREAD_MUTEX_INITIALIZER;

void i8042__init(struct i8042 *k, void (*on_reset)(void *ctx), void *ctx)
{
	memset(k, 0, sizeof(*k));
	k->on_reset = on_reset;
	k->ctx = ctx;
	k->cmd_byte = I8042_CTR_DEFAULT;
}

static void i8042__reply(struct i8042 *k, uint8_t v)
{
	k->out_buf = v;
	k->out_full = 1;
}

static uint8_t i8042__status(const struct i8042 *k)
{
	uint8_t st = I8042_STR_UNLOCKED; /* input buffer full (bit 1) always reads 0 */

	if (k->out_full)
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
		k->pending_cmd = cmd;
		break;
	case I8042_CMD_SELF_TEST:
		i8042__reply(k, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_KBD_TEST:
		i8042__reply(k, 0x00);
		break;
	case I8042_CMD_KBD_DIS:
		k->cmd_byte |= I8042_CTR_KBDDIS;
		break;
	case I8042_CMD_KBD_EN:
		k->cmd_byte &= ~I8042_CTR_KBDDIS;
		break;
	case I8042_CMD_AUX_DIS:
		k->cmd_byte |= I8042_CTR_AUXDIS;
		break;
	case I8042_CMD_AUX_EN:
		k->cmd_byte &= ~I8042_CTR_AUXDIS;
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
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case I8042_CMD_WRITE_CTR:
		k->cmd_byte = v;
		return false;
	case I8042_CMD_WRITE_OUTP:
		return !(v & I8042_OUTP_RESET);
	default: /* for the keyboard, and there is none */
		return false;
	}
}

static void i8042__reset(struct i8042 *k)
{
	if (k->on_reset)
		k->on_reset(k->ctx);
}

static void i8042__data_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	struct i8042 *k = opaque;

	if (len != 1 || offset) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&i8042_lock);
	*(uint8_t *)data = k->out_buf; /* an empty buffer reads its last byte again */
	k->out_full = 0;
	pthread_mutex_unlock(&i8042_lock);
}

static void i8042__data_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	if (len != 1 || offset)
		return;
	pthread_mutex_lock(&i8042_lock);
	reset = i8042__data(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&i8042_lock);
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
	pthread_mutex_lock(&i8042_lock);
	*(uint8_t *)data = i8042__status(k);
	pthread_mutex_unlock(&i8042_lock);
}

static void i8042__cmd_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	if (len != 1 || offset)
		return;
	pthread_mutex_lock(&i8042_lock);
	reset = i8042__command(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&i8042_lock);
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
