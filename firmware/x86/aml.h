/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded byte sink plus the few AML encodings (ACPI 6.x, chapters 6.4 and 20) the DSDT needs. */
#ifndef KVMINI_FIRMWARE_X86_AML_H
#define KVMINI_FIRMWARE_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Output goes to p[off...]. A write that would pass `len` writes nothing and latches
 * `overflow`; every later write is refused too. Nothing is ever written at or past p + len.
 */
struct aml_buf {
	uint8_t *p;
	size_t len, off;
	bool overflow;
};

void aml__init(struct aml_buf *b, void *p, size_t len);
/* Appends n zeroed bytes and returns them, or NULL (and latches overflow) if they don't fit. */
uint8_t *aml__reserve(struct aml_buf *b, size_t n);
void aml__bytes(struct aml_buf *b, const void *src, size_t n);
void aml__byte(struct aml_buf *b, uint8_t v);
/* Pads with zeros until base + off is a multiple of `align` (a power of two). */
void aml__align(struct aml_buf *b, uint64_t base, size_t align);

/* Little-endian stores into bytes already reserved. */
void aml__put16(uint8_t *p, uint16_t v);
void aml__put32(uint8_t *p, uint32_t v);
void aml__put64(uint8_t *p, uint64_t v);

/*
 * Objects with a PkgLength (Scope, Device, Package, ResourceTemplate) are opened, filled,
 * then closed with the cookie the open returned; opens nest. Names are NameSegs of 1..4
 * characters (padded with '_'), dot-separated, optionally prefixed by '\' for the root:
 * "\\_SB", "COM1", "\\_SB.PWRB".
 */
size_t aml__scope_open(struct aml_buf *b, const char *name);
size_t aml__device_open(struct aml_buf *b, const char *name);
size_t aml__package_open(struct aml_buf *b, uint8_t nelems);
void aml__close(struct aml_buf *b, size_t cookie);
/* Method(name, nargs) { ... }: not serialized; the body's terms follow, then aml__close. */
size_t aml__method_open(struct aml_buf *b, const char *name, uint8_t nargs);
/* Notify(path, value) */
void aml__notify(struct aml_buf *b, const char *path, uint64_t value);

/* Name(name, ...): the object (integer, string, package, template) must follow. */
void aml__name(struct aml_buf *b, const char *name);
void aml__integer(struct aml_buf *b, uint64_t v);
void aml__string(struct aml_buf *b, const char *s);
/* EisaId("PNP0501"): three letters + four hex digits compressed into a DWord. */
void aml__eisaid(struct aml_buf *b, const char *id);

/* ResourceTemplate(): a Buffer of resource descriptors; close appends the End tag. */
size_t aml__restemplate_open(struct aml_buf *b);
void aml__restemplate_close(struct aml_buf *b, size_t cookie);

/* IO(Decode16, port, port, 1, len) */
void aml__res_io(struct aml_buf *b, uint16_t port, uint8_t len);
/* IRQNoFlags() {irq}: edge-triggered, active-high ISA IRQ 0..15 */
void aml__res_irq_noflags(struct aml_buf *b, uint8_t irq);
/* Memory32Fixed(ReadWrite or ReadOnly, base, size) */
void aml__res_mem32_fixed(struct aml_buf *b, bool writable, uint32_t base, uint32_t size);

/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count) */
void aml__res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max);
/* WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, len) */
void aml__res_word_io(struct aml_buf *b, uint16_t min, uint16_t max);
/* DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...) */
void aml__res_dword_mem(struct aml_buf *b, uint32_t min, uint32_t max);

/* Interrupt(...) {gsi}: Extended Interrupt descriptor flags (ACPI 6.4.3.6) */
#define AML_IRQ_CONSUMER    (1u << 0)   /* else ResourceProducer */
#define AML_IRQ_EDGE        (1u << 1)   /* else Level */
#define AML_IRQ_ACTIVE_LOW  (1u << 2)   /* else ActiveHigh */
#define AML_IRQ_SHARED      (1u << 3)   /* else Exclusive */
void aml__res_interrupt(struct aml_buf *b, uint8_t flags, uint32_t gsi);

#endif
