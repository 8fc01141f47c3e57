/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz targets: reads integers from the fuzz input (zeros once it runs out) and the check macro. */
#ifndef KVMINI_TESTS_FUZZ_INPUT_H
#define KVMINI_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t n;
};

static inline size_t fin__take(struct fin *in, void *dst, size_t len)
{
	size_t k = len < in->n ? len : in->n;
	memset(dst, 0, len);
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
	return k;
}

/* Little-endian integers, 0-padded at the end of the input. */
static inline uint64_t fin__uint(struct fin *in, unsigned bytes)
{
	uint8_t b[8];
	uint64_t v = 0;
	fin__take(in, b, bytes);
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static inline uint8_t fin__u8(struct fin *in) { return (uint8_t)fin__uint(in, 1); }
static inline uint16_t fin__u16(struct fin *in) { return (uint16_t)fin__uint(in, 2); }
static inline uint32_t fin__u32(struct fin *in) { return (uint32_t)fin__uint(in, 4); }
static inline uint64_t fin__u64(struct fin *in) { return fin__uint(in, 8); }

/* An access width: 1, 2, 4 or 8 bytes, and now and then an odd one (3, 5..7). */
static inline uint32_t fin__width(struct fin *in)
{
	static const uint8_t w[16] = { 1, 2, 4, 4, 4, 4, 8, 2, 1, 4, 3, 5, 6, 7, 8, 4 };
	return w[fin__u8(in) & 15];
}

/* A property the code under test promises: report and crash, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			__builtin_trap();                                                 \
		}                                                                         \
	} while (0)

#endif
