/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 Linux Image: its header checked, a gzip-compressed one unpacked, and where kernel, initrd and device tree go in guest RAM. */
#ifndef KVMINI_VMM_ARM64_IMAGE_H
#define KVMINI_VMM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define A64_IMAGE_MAGIC      0x644d5241u     /* "ARM\x64" at offset 56 */
#define A64_IMAGE_HDR_LEN    64
#define A64_KERNEL_ALIGN     (2ULL << 20)    /* booting.rst: a 2 MiB-aligned base */
#define A64_DTB_SLOT         (2ULL << 20)    /* a DTB is at most 2 MiB and gets a 2 MiB region */
#define A64_GUNZIP_MAX       (256ULL << 20)  /* an unpacked Image larger than this is refused */

/* What the header says (Documentation/arch/arm64/booting.rst). */
struct a64_image {
	const uint8_t *data;      /* the Image, inside the caller's buffer */
	size_t len;
	uint64_t text_offset;     /* from a 2 MiB-aligned base */
	uint64_t image_size;      /* bytes the kernel occupies from its start, bss included */
	uint64_t flags;
};

/* Checks the 64-byte header of img (magic, little-endian, sizes that fit). 0, or -1 with a
 * one-line reason in err ("not an arm64 Image", ...). */
int a64_image__parse(const uint8_t *img, size_t len, struct a64_image *out, char *err,
		     size_t errlen);

/* Is this a gzip stream (1f 8b)? Then a64_image__gunzip unpacks it into a new malloc'd buffer
 * (*out, *outlen; at most max bytes: A64_GUNZIP_MAX for a kernel). 0, or -1 with a reason. */
int a64_image__is_gzip(const uint8_t *img, size_t len);
int a64_image__gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen,
		      char *err, size_t errlen);

/* Where things go in RAM [ram_base, ram_base + ram_size) (ram_base 2 MiB-aligned): the kernel
 * at ram_base + text_offset, the DTB in the last 2 MiB region, the initrd just below it. */
struct a64_plan {
	uint64_t kernel_gpa, kernel_end;
	uint64_t initrd_gpa;      /* 0: no initrd */
	uint64_t dtb_gpa;         /* x0 at entry */
};
int a64_image__plan(const struct a64_image *im, uint64_t ram_base, uint64_t ram_size,
		    uint64_t initrd_size, struct a64_plan *p, char *err, size_t errlen);

#endif
