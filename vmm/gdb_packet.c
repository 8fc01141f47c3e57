/* SPDX-License-Identifier: Apache-2.0 */
/* GDB remote protocol framing: a byte-at-a-time packet parser, the framer and hex helpers. */
#include "vmm/gdb_packet.h"

#include <string.h>

enum { RX_IDLE, RX_DATA, RX_RLE, RX_CS1, RX_CS2 };

void gdbpkt__rx_init(struct gdbpkt_rx *rx)
{
	rx->state = RX_IDLE;
	rx->len = 0;
	rx->sum = 0;
	rx->escape = false;
	rx->overflow = false;
	rx->buf[0] = '\0';
}

int gdbpkt__hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put(struct gdbpkt_rx *rx, char c)
{
	if (rx->len < GDBPKT_MAX)
		rx->buf[rx->len++] = c;
	else
		rx->overflow = true;
}

/* A data byte between $ and #: escapes and run-length encoding ("X*N": N-29 more X). */
static void data_byte(struct gdbpkt_rx *rx, uint8_t c)
{
	if (rx->escape) {
		rx->escape = false;
		put(rx, (char)(c ^ 0x20));
	} else if (c == '}') {
		rx->escape = true;
	} else if (c == '*' && rx->len > 0 && !rx->overflow) {
		rx->state = RX_RLE;	/* the next byte is the repeat count */
	} else {
		put(rx, (char)c);
	}
}

enum gdbpkt_event gdbpkt__rx_byte(struct gdbpkt_rx *rx, uint8_t c)
{
	switch (rx->state) {
	case RX_IDLE:
		if (c == '$') {
			gdbpkt__rx_init(rx);
			rx->state = RX_DATA;
		} else if (c == 0x03) {
			return GDBPKT_INTERRUPT;
		} else if (c == '+') {
			return GDBPKT_ACK;
		} else if (c == '-') {
			return GDBPKT_NACK;
		}
		return GDBPKT_NONE;
	case RX_RLE:	/* the run-length count after '*' */
		rx->sum += c;
		rx->state = RX_DATA;
		if (c < 29 + 3 || c > 126 || c == '#' || c == '$') {
			rx->overflow = true;	/* not a valid count: the packet is bad */
			if (c == '#')
				rx->state = RX_CS1;
			return GDBPKT_NONE;
		}
		for (int n = c - 29; n > 0; n--)
			put(rx, rx->buf[rx->len - 1]);
		return GDBPKT_NONE;
	case RX_DATA:
		if (c == '#') {
			rx->state = RX_CS1;
		} else if (c == '$') {	/* a new packet before the end of this one: restart */
			gdbpkt__rx_init(rx);
			rx->state = RX_DATA;
		} else {
			rx->sum += c;
			data_byte(rx, c);
		}
		return GDBPKT_NONE;
	case RX_CS1:
		rx->cs_hi = c;
		rx->state = RX_CS2;
		return GDBPKT_NONE;
	default: {	/* RX_CS2 */
		int hi = gdbpkt__hex_val((char)rx->cs_hi), lo = gdbpkt__hex_val((char)c);
		rx->state = RX_IDLE;
		rx->buf[rx->len] = '\0';
		if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != rx->sum || rx->overflow ||
		    rx->escape)
			return GDBPKT_BAD;
		return GDBPKT_PACKET;
	}
	}
}

uint8_t gdbpkt__checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

size_t gdbpkt__frame(const void *payload, size_t len, char *out, size_t outcap)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = payload;
	size_t o = 0;
	uint8_t sum = 0;

	if (outcap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';
		if (o + (esc ? 2 : 1) + 3 > outcap)
			return 0;
		if (esc) {
			out[o++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[o++] = (char)c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = hex[sum >> 4];
	out[o++] = hex[sum & 15];
	return o;
}

void gdbpkt__hex_encode(const void *data, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int gdbpkt__hex_decode(const char *hex, size_t n, void *out)
{
	uint8_t *o = out;

	for (size_t i = 0; i < n; i++) {
		int hi = gdbpkt__hex_val(hex[2 * i]);
		if (hi < 0)
			return -1;
		int lo = gdbpkt__hex_val(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int gdbpkt__parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0, d;

	while ((d = gdbpkt__hex_val(*s)) >= 0) {
		if (++n > 16)
			return -1;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (!n)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int gdbpkt__parse_addr_len(const char *s, uint64_t *addr, uint64_t *len, char term,
			   const char **rest)
{
	if (gdbpkt__parse_hex(&s, addr) || *s++ != ',' || gdbpkt__parse_hex(&s, len))
		return -1;
	if (*s == '\0' && !term) {
		if (rest)
			*rest = s;
		return 0;
	}
	if (!term || *s != term)
		return -1;
	if (rest)
		*rest = s + 1;
	return 0;
}
