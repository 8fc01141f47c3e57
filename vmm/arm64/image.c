/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 Image header, gzip unpacking (zlib) and the placement of kernel, initrd and DTB. */
#include "vmm/arm64/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FLAG_BE        (1ULL << 0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int a64_image__parse(const uint8_t *img, size_t len, struct a64_image *out, char *err,
		     size_t errlen)
{
	if (len < A64_IMAGE_HDR_LEN || (uint32_t)le64(img + 56) != A64_IMAGE_MAGIC) {
		snprintf(err, errlen, "not an arm64 Image (no \"ARM\\x64\" magic at offset 56)");
		return -1;
	}
	*out = (struct a64_image){ .data = img, .len = len, .text_offset = le64(img + 8),
				   .image_size = le64(img + 16), .flags = le64(img + 24) };
	if (out->image_size == 0) {	/* before Linux 3.17: text_offset 0x80000, size unknown */
		out->text_offset = 0x80000;
		out->image_size = len;
	}
	if (out->flags & FLAG_BE) {
		snprintf(err, errlen, "a big-endian arm64 Image (kvmini boots little-endian guests)");
		return -1;
	}
	if (out->image_size < len)	/* trailing bytes past what the header counts: load them too */
		out->image_size = len;
	if (out->text_offset >= A64_KERNEL_ALIGN || out->text_offset % 4096 ||
	    out->image_size > A64_GUNZIP_MAX) {
		snprintf(err, errlen, "arm64 Image header is inconsistent (text_offset 0x%llx, "
			 "image_size 0x%llx, file %zu bytes)", (unsigned long long)out->text_offset,
			 (unsigned long long)out->image_size, len);
		return -1;
	}
	return 0;
}

int a64_image__is_gzip(const uint8_t *img, size_t len)
{
	return len >= 2 && img[0] == 0x1f && img[1] == 0x8b;
}

/* inflate until the stream ends, the buffer doubling up to A64_GUNZIP_MAX */
static int inflate_all(z_stream *z, uint8_t **buf, size_t *cap, size_t max, char *err,
		       size_t errlen)
{
	for (;;) {
		z->next_out = *buf + z->total_out;
		z->avail_out = (uInt)(*cap - z->total_out);
		int r = inflate(z, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			return 0;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			snprintf(err, errlen, "gzip-compressed kernel is corrupt (%s)",
				 z->msg ? z->msg : "inflate failed");
			return -1;
		}
		if (z->avail_out != 0) {	/* no progress possible: the input ended early */
			snprintf(err, errlen, "gzip-compressed kernel is truncated");
			return -1;
		}
		if (*cap >= max) {
			snprintf(err, errlen, "gzip-compressed kernel unpacks to more than %llu MiB",
				 (unsigned long long)(max >> 20));
			return -1;
		}
		size_t grow = *cap * 2 < max ? *cap * 2 : max;
		uint8_t *n = realloc(*buf, grow);
		if (!n) {
			snprintf(err, errlen, "out of memory unpacking the kernel");
			return -1;
		}
		*buf = n;
		*cap = grow;
	}
}

int a64_image__gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen,
		      char *err, size_t errlen)
{
	z_stream z = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
	size_t cap = max < (16ULL << 20) ? max : 16ULL << 20;
	uint8_t *buf = malloc(cap);

	*out = NULL;
	if (len > UINT32_MAX || !buf || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		snprintf(err, errlen, "cannot unpack the kernel (%s)",
			 len > UINT32_MAX ? "over 4 GiB" : "out of memory");
		return -1;
	}
	int rc = inflate_all(&z, &buf, &cap, max, err, errlen);
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

int a64_image__plan(const struct a64_image *im, uint64_t ram_base, uint64_t ram_size,
		    uint64_t initrd_size, struct a64_plan *p, char *err, size_t errlen)
{
	uint64_t end = ram_base + ram_size;

	*p = (struct a64_plan){ 0 };
	if (ram_base % A64_KERNEL_ALIGN || ram_size < 2 * A64_DTB_SLOT || end < ram_base) {
		snprintf(err, errlen, "guest RAM too small for an arm64 kernel");
		return -1;
	}
	p->kernel_gpa = ram_base + im->text_offset;
	p->kernel_end = p->kernel_gpa + im->image_size;
	p->dtb_gpa = (end - A64_DTB_SLOT) & ~(A64_DTB_SLOT - 1);
	if (p->kernel_end > p->dtb_gpa) {
		snprintf(err, errlen, "the kernel needs %llu MiB and guest RAM is %llu MiB",
			 (unsigned long long)((im->image_size + 2 * A64_DTB_SLOT) >> 20),
			 (unsigned long long)(ram_size >> 20));
		return -1;
	}
	if (initrd_size) {
		if (initrd_size > p->dtb_gpa - p->kernel_end) {
			snprintf(err, errlen, "the initrd (%llu MiB) does not fit in guest RAM beside "
				 "the kernel", (unsigned long long)(initrd_size >> 20));
			return -1;
		}
		p->initrd_gpa = (p->dtb_gpa - initrd_size) & ~4095ULL;
		if (p->initrd_gpa < p->kernel_end) {
			snprintf(err, errlen, "the initrd (%llu MiB) does not fit in guest RAM beside "
				 "the kernel", (unsigned long long)(initrd_size >> 20));
			return -1;
		}
	}
	return 0;
}
