/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded byte sink plus the few AML encodings (ACPI 6.x, chapters 6.4 and 20) the DSDT needs. */
#include "firmware/x86/aml.h"

#include <string.h>

/* AML opcodes and prefixes (ACPI 6.x, 20.3) */
#define AML_ZERO_OP          0x00
#define AML_ONE_OP           0x01
#define AML_NAME_OP          0x08
#define AML_BYTE_PREFIX      0x0a
#define AML_WORD_PREFIX      0x0b
#define AML_DWORD_PREFIX     0x0c
#define AML_STRING_PREFIX    0x0d
#define AML_QWORD_PREFIX     0x0e
#define AML_SCOPE_OP         0x10
#define AML_BUFFER_OP        0x11
#define AML_PACKAGE_OP       0x12
#define AML_METHOD_OP        0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX    0x5b
#define AML_DEVICE_OP        0x82   /* after AML_EXT_OP_PREFIX */
#define AML_NOTIFY_OP        0x86
#define AML_ROOT_CHAR        '\\'
#define AML_NAME_SEP         '.'
#define AML_MAX_SEGS         8      /* the deepest path this DSDT names */

/* Resource descriptor tags (ACPI 6.x, 6.4) */
#define RES_IRQ_NOFLAGS      0x22   /* small, type 0x04, length 2 */
#define RES_IO               0x47   /* small, type 0x08, length 7 */
#define RES_END_TAG          0x79   /* small, type 0x0f, length 1 */
#define RES_MEM32_FIXED      0x86   /* large, type 0x06 */
#define RES_EXT_INTERRUPT    0x89   /* large, type 0x09 */

#define PKGLEN_RESERVE       4      /* the longest PkgLength; trimmed on close */
#define BUFSIZE_RESERVE      3      /* WordPrefix + 16 bits: the longest BufferSize we allow */
#define PKGLEN_MAX           0x0fffffffu

void aml__init(struct aml_buf *b, void *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->off = 0;
	b->overflow = false;
}

uint8_t *aml__reserve(struct aml_buf *b, size_t n)
{
	if (b->overflow || n > b->len - b->off) {
		b->overflow = true;
		return NULL;
	}
	uint8_t *p = b->p + b->off;
	memset(p, 0, n);
	b->off += n;
	return p;
}

void aml__bytes(struct aml_buf *b, const void *src, size_t n)
{
	uint8_t *p = aml__reserve(b, n);
	if (p)
		memcpy(p, src, n);
}

void aml__byte(struct aml_buf *b, uint8_t v)
{
	aml__bytes(b, &v, 1);
}

void aml__align(struct aml_buf *b, uint64_t base, size_t align)
{
	size_t misalign = (size_t)((base + b->off) & (align - 1));
	if (misalign)
		aml__reserve(b, align - misalign);
}

void aml__put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void aml__put32(uint8_t *p, uint32_t v)
{
	aml__put16(p, (uint16_t)v);
	aml__put16(p + 2, (uint16_t)(v >> 16));
}

void aml__put64(uint8_t *p, uint64_t v)
{
	aml__put32(p, (uint32_t)v);
	aml__put32(p + 4, (uint32_t)(v >> 32));
}

/* Removes `gap` bytes at `at`, moving the rest of the output down; the freed tail is zeroed. */
static void shrink(struct aml_buf *b, size_t at, size_t gap)
{
	if (!gap)
		return;
	memmove(b->p + at, b->p + at + gap, b->off - at - gap);
	b->off -= gap;
	memset(b->p + b->off, 0, gap);
}

/* Encodes an integer as the shortest of ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix + data. */
static size_t int_encode(uint8_t out[9], uint64_t v)
{
	if (v <= 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
	out[0] = n == 1 ? AML_BYTE_PREFIX : n == 2 ? AML_WORD_PREFIX :
		 n == 4 ? AML_DWORD_PREFIX : AML_QWORD_PREFIX;
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

/* PkgLength counts its own bytes: 1 byte up to 63, else a lead byte + 1..3 more (20.2.4). */
static size_t pkglen_size(size_t body)
{
	if (body + 1 < 0x40)
		return 1;
	if (body + 2 < 0x1000)
		return 2;
	if (body + 3 < 0x100000)
		return 3;
	return 4;
}

static void pkglen_encode(uint8_t *p, size_t n, size_t value)
{
	if (n == 1) {
		p[0] = (uint8_t)value;
		return;
	}
	p[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (size_t i = 1; i < n; i++)
		p[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
}

static size_t pkg_open(struct aml_buf *b)
{
	size_t cookie = b->off;
	aml__reserve(b, PKGLEN_RESERVE);
	return cookie;
}

void aml__close(struct aml_buf *b, size_t cookie)
{
	if (b->overflow)
		return;
	size_t body = b->off - cookie - PKGLEN_RESERVE;
	size_t n = pkglen_size(body);
	if (body + n > PKGLEN_MAX) {
		b->overflow = true;
		return;
	}
	pkglen_encode(b->p + cookie, n, body + n);
	shrink(b, cookie + n, PKGLEN_RESERVE - n);
}

/* One NameSeg: 1..4 characters, padded with '_' */
static void nameseg(struct aml_buf *b, const char *seg, size_t len)
{
	char out[4] = { '_', '_', '_', '_' };

	memcpy(out, seg, len < sizeof(out) ? len : sizeof(out));
	aml__bytes(b, out, sizeof(out));
}

/* A NameString (20.2.2): an optional root prefix, then one segment, or a Dual/MultiNamePath
 * of dot-separated segments ("\\_SB.PWRB") */
static void namestring(struct aml_buf *b, const char *name)
{
	const char *segs[AML_MAX_SEGS];
	size_t lens[AML_MAX_SEGS], n = 0;
	bool root = *name == AML_ROOT_CHAR;
	const char *p = name + root;

	/* 1..AML_MAX_SEGS segments of 1..4 characters: anything else is the caller's mistake,
	 * latched like running out of room */
	for (;;) {
		const char *dot = strchr(p, AML_NAME_SEP);
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (n == AML_MAX_SEGS || len == 0 || len > 4) {
			b->overflow = true;
			return;
		}
		segs[n] = p;
		lens[n++] = len;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (root)
		aml__byte(b, AML_ROOT_CHAR);
	if (n == 2) {
		aml__byte(b, AML_DUAL_NAME_PREFIX);
	} else if (n > 2) {
		aml__byte(b, AML_MULTI_NAME_PREFIX);
		aml__byte(b, (uint8_t)n);
	}
	for (size_t i = 0; i < n; i++)
		nameseg(b, segs[i], lens[i]);
}

size_t aml__scope_open(struct aml_buf *b, const char *name)
{
	aml__byte(b, AML_SCOPE_OP);
	size_t cookie = pkg_open(b);
	namestring(b, name);
	return cookie;
}

size_t aml__device_open(struct aml_buf *b, const char *name)
{
	aml__byte(b, AML_EXT_OP_PREFIX);
	aml__byte(b, AML_DEVICE_OP);
	size_t cookie = pkg_open(b);
	namestring(b, name);
	return cookie;
}

size_t aml__package_open(struct aml_buf *b, uint8_t nelems)
{
	aml__byte(b, AML_PACKAGE_OP);
	size_t cookie = pkg_open(b);
	aml__byte(b, nelems);
	return cookie;
}

size_t aml__method_open(struct aml_buf *b, const char *name, uint8_t nargs)
{
	aml__byte(b, AML_METHOD_OP);
	size_t cookie = pkg_open(b);
	namestring(b, name);
	aml__byte(b, nargs & 0x07);   /* MethodFlags: ArgCount, not serialized, SyncLevel 0 */
	return cookie;
}

void aml__notify(struct aml_buf *b, const char *path, uint64_t value)
{
	aml__byte(b, AML_NOTIFY_OP);
	namestring(b, path);
	aml__integer(b, value);
}

void aml__name(struct aml_buf *b, const char *name)
{
	aml__byte(b, AML_NAME_OP);
	namestring(b, name);
}

void aml__integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[9];
	aml__bytes(b, enc, int_encode(enc, v));
}

void aml__string(struct aml_buf *b, const char *s)
{
	aml__byte(b, AML_STRING_PREFIX);
	aml__bytes(b, s, strlen(s) + 1);
}

static unsigned hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return 0;
}

/* Letters are 5 bits each ('A' = 1), then the product number; stored most significant first. */
void aml__eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++)
		v |= ((uint32_t)(id[i] - '@') & 0x1f) << (26 - 5 * i);
	for (int i = 3; i < 7; i++)
		v |= hex_digit(id[i]) << (4 * (6 - i));
	uint8_t enc[5] = { AML_DWORD_PREFIX, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			   (uint8_t)(v >> 8), (uint8_t)v };
	aml__bytes(b, enc, sizeof(enc));
}

size_t aml__restemplate_open(struct aml_buf *b)
{
	aml__byte(b, AML_BUFFER_OP);
	size_t cookie = pkg_open(b);
	aml__reserve(b, BUFSIZE_RESERVE);
	return cookie;
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	while (n--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Appends the End tag, whose checksum makes the template's bytes sum to zero, then fills in
 * the BufferSize and the PkgLength. */
void aml__restemplate_close(struct aml_buf *b, size_t cookie)
{
	size_t data = cookie + PKGLEN_RESERVE + BUFSIZE_RESERVE;
	uint8_t *end = aml__reserve(b, 2);
	if (!end)
		return;
	end[0] = RES_END_TAG;
	end[1] = (uint8_t)-byte_sum(b->p + data, b->off - data);

	uint8_t enc[9];
	size_t n = int_encode(enc, b->off - data);
	if (n > BUFSIZE_RESERVE) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + cookie + PKGLEN_RESERVE, enc, n);
	shrink(b, cookie + PKGLEN_RESERVE + n, BUFSIZE_RESERVE - n);
	aml__close(b, cookie);
}

void aml__res_io(struct aml_buf *b, uint16_t port, uint8_t len)
{
	uint8_t *p = aml__reserve(b, 8);
	if (!p)
		return;
	p[0] = RES_IO;
	p[1] = 0x01;             /* decodes 16 address bits */
	aml__put16(p + 2, port); /* range minimum */
	aml__put16(p + 4, port); /* range maximum */
	p[6] = 1;                /* alignment */
	p[7] = len;
}

void aml__res_irq_noflags(struct aml_buf *b, uint8_t irq)
{
	uint8_t *p = aml__reserve(b, 3);
	if (!p)
		return;
	p[0] = RES_IRQ_NOFLAGS;
	aml__put16(p + 1, (uint16_t)(irq < 16 ? 1u << irq : 0));
}

void aml__res_mem32_fixed(struct aml_buf *b, bool writable, uint32_t base, uint32_t size)
{
	uint8_t *p = aml__reserve(b, 12);
	if (!p)
		return;
	p[0] = RES_MEM32_FIXED;
	aml__put16(p + 1, 9);    /* length of what follows */
	p[3] = writable ? 1 : 0;
	aml__put32(p + 4, base);
	aml__put32(p + 8, size);
}

void aml__res_interrupt(struct aml_buf *b, uint8_t flags, uint32_t gsi)
{
	uint8_t *p = aml__reserve(b, 9);
	if (!p)
		return;
	p[0] = RES_EXT_INTERRUPT;
	aml__put16(p + 1, 6);    /* flags, count, one 32-bit interrupt number */
	p[3] = flags;
	p[4] = 1;
	aml__put32(p + 5, gsi);
}

/* Address space descriptors (6.4.3.5): producer, MinFixed, MaxFixed, positive decode. */
#define RES_DWORD_ADDR       0x87   /* large, type 0x07 */
#define RES_WORD_ADDR        0x88   /* large, type 0x08 */
#define ADDR_MEMORY          0
#define ADDR_IO              1
#define ADDR_BUS             2
#define ADDR_FLAGS_FIXED     0x0c   /* _MAF | _MIF; _DEC positive; producer */

static void res_word(struct aml_buf *b, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	uint8_t *p = aml__reserve(b, 16);
	if (!p)
		return;
	p[0] = RES_WORD_ADDR;
	aml__put16(p + 1, 13);
	p[3] = type;
	p[4] = ADDR_FLAGS_FIXED;
	p[5] = tflags;
	aml__put16(p + 6, 0);                   /* granularity */
	aml__put16(p + 8, min);
	aml__put16(p + 10, max);
	aml__put16(p + 12, 0);                  /* translation */
	aml__put16(p + 14, (uint16_t)(max - min + 1));
}

void aml__res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max)
{
	res_word(b, ADDR_BUS, 0, min, max);
}

void aml__res_word_io(struct aml_buf *b, uint16_t min, uint16_t max)
{
	res_word(b, ADDR_IO, 3 /* EntireRange */, min, max);
}

void aml__res_dword_mem(struct aml_buf *b, uint32_t min, uint32_t max)
{
	uint8_t *p = aml__reserve(b, 26);
	if (!p)
		return;
	p[0] = RES_DWORD_ADDR;
	aml__put16(p + 1, 23);
	p[3] = ADDR_MEMORY;
	p[4] = ADDR_FLAGS_FIXED;
	p[5] = 1;                               /* ReadWrite, NonCacheable */
	aml__put32(p + 6, 0);                   /* granularity */
	aml__put32(p + 10, min);
	aml__put32(p + 14, max);
	aml__put32(p + 18, 0);                  /* translation */
	aml__put32(p + 22, max - min + 1);
}
