/* SPDX-License-Identifier: Apache-2.0 */
/* GDB remote protocol framing: $payload#cs packets, escapes, run-length expansion, hex helpers. */
#ifndef KVMINI_VMM_GDB_PACKET_H
#define KVMINI_VMM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDBPKT_MAX 16384	/* the largest payload accepted (and our PacketSize) */

enum gdbpkt_event {
	GDBPKT_NONE,       /* the byte was consumed, nothing complete yet */
	GDBPKT_PACKET,     /* a whole packet with a good checksum: payload in rx->buf, rx->len */
	GDBPKT_BAD,        /* a whole packet with a bad checksum, bad hex or too long: send '-' */
	GDBPKT_INTERRUPT,  /* 0x03 outside a packet (Ctrl-C) */
	GDBPKT_ACK,        /* '+' */
	GDBPKT_NACK,       /* '-': resend the last packet */
};

struct gdbpkt_rx {
	int state;
	uint8_t sum;           /* running checksum of the bytes between $ and # */
	uint8_t cs_hi;         /* first checksum digit */
	bool escape;           /* saw '}' */
	bool overflow;
	size_t len;
	char buf[GDBPKT_MAX + 1]; /* the decoded payload, NUL-terminated */
};

void gdbpkt__rx_init(struct gdbpkt_rx *rx);
/* Feeds one received byte. Bytes outside a packet other than $ + - 0x03 are ignored. */
enum gdbpkt_event gdbpkt__rx_byte(struct gdbpkt_rx *rx, uint8_t c);

/* Modulo-256 sum of the bytes. */
uint8_t gdbpkt__checksum(const void *data, size_t len);
/* Frames len payload bytes as $...#cs into out (escaping $ # } *); returns the framed length,
 * or 0 if it does not fit in outcap. */
size_t gdbpkt__frame(const void *payload, size_t len, char *out, size_t outcap);

/* Hex helpers. hex_val: 0..15 or -1. */
int gdbpkt__hex_val(char c);
/* Writes 2n lowercase hex digits of n bytes, NUL-terminated (out needs 2n+1). */
void gdbpkt__hex_encode(const void *data, size_t n, char *out);
/* Decodes exactly n bytes from 2n hex digits; 0, or -1 on a non-hex digit. */
int gdbpkt__hex_decode(const char *hex, size_t n, void *out);
/* Parses a hex number at *p (at least one digit, at most 16), advancing *p. 0 or -1. */
int gdbpkt__parse_hex(const char **p, uint64_t *out);
/* "ADDR,LEN" followed by end or `term` (set *rest past it). 0 or -1. */
int gdbpkt__parse_addr_len(const char *s, uint64_t *addr, uint64_t *len, char term,
			   const char **rest);

#endif
