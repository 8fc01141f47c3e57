/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the arm64 Image header, gzip-compressed kernels and where kernel, initrd and DTB go (vmm/arm64/image.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tests/lib/ck.h"
#include "vmm/arm64/image.h"

#define RAM  0x40000000ULL

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* a len-byte Image whose header says text_offset, image_size, flags */
static uint8_t *image(size_t len, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *p = calloc(1, len);

	ck_assert_ptr_nonnull(p);
	put64(p + 8, text_offset);
	put64(p + 16, image_size);
	put64(p + 24, flags);
	memcpy(p + 56, "ARM\x64", 4);
	for (size_t i = A64_IMAGE_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(i * 7);
	return p;
}

START_TEST(header_is_checked)
{
	struct a64_image im;
	char err[200];
	uint8_t *p = image(1 << 20, 0, 4 << 20, 0xa);

	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), 0);
	ck_assert_uint_eq(im.text_offset, 0);
	ck_assert_uint_eq(im.image_size, 4 << 20);
	/* before 3.17: image_size 0 means text_offset 0x80000 and the file's size */
	put64(p + 16, 0);
	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), 0);
	ck_assert_uint_eq(im.text_offset, 0x80000);
	ck_assert_uint_eq(im.image_size, 1 << 20);
	put64(p + 16, 4 << 20);
	put64(p + 24, 1);	/* big-endian */
	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "big-endian"), "%s", err);
	put64(p + 24, 0);
	put64(p + 8, 3 << 20);	/* past the 2 MiB alignment */
	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "inconsistent"), "%s", err);
	p[56] = 'X';
	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not an arm64 Image"), "%s", err);
	ck_assert_int_eq(a64_image__parse(p, 63, &im, err, sizeof(err)), -1);
	free(p);
}
END_TEST

START_TEST(kernel_initrd_and_dtb_are_placed)
{
	struct a64_image im;
	struct a64_plan pl;
	char err[200];
	uint8_t *p = image(1 << 20, 0x80000, 30 << 20, 0xa);

	ck_assert_int_eq(a64_image__parse(p, 1 << 20, &im, err, sizeof(err)), 0);
	ck_assert_int_eq(a64_image__plan(&im, RAM, 512 << 20, 10 << 20, &pl, err, sizeof(err)), 0);
	ck_assert_uint_eq(pl.kernel_gpa, RAM + 0x80000);
	ck_assert_uint_eq(pl.dtb_gpa, RAM + (510 << 20));
	ck_assert_uint_eq(pl.initrd_gpa, RAM + (500 << 20));
	ck_assert_uint_ge(pl.initrd_gpa, pl.kernel_end);
	/* RAM that cannot hold the kernel and its DTB, an initrd that does not fit */
	ck_assert_int_eq(a64_image__plan(&im, RAM, 32 << 20, 0, &pl, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "guest RAM is 32 MiB"), "%s", err);
	ck_assert_int_eq(a64_image__plan(&im, RAM, 64 << 20, 40 << 20, &pl, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "initrd (40 MiB) does not fit"), "%s", err);
	ck_assert_int_eq(a64_image__plan(&im, RAM + 4096, 512 << 20, 0, &pl, err, sizeof(err)), -1);
	free(p);
}
END_TEST

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	uint8_t *out = malloc(len + 1024);

	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)(len + 1024);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* a gzip-compressed Image unpacks to the same bytes; truncated, corrupt or too large is an error */
START_TEST(gzip_kernels_are_unpacked)
{
	size_t n = 3 << 20, zn, outn;
	uint8_t *p = image(n, 0, 8 << 20, 0xa), *z = gzip(p, n, &zn), *out;
	char err[200];

	ck_assert(a64_image__is_gzip(z, zn));
	ck_assert(!a64_image__is_gzip(p, n));
	ck_assert_int_eq(a64_image__gunzip(z, zn, A64_GUNZIP_MAX, &out, &outn, err, sizeof(err)), 0);
	ck_assert_uint_eq(outn, n);
	ck_assert_int_eq(memcmp(out, p, n), 0);
	free(out);
	ck_assert_int_eq(a64_image__gunzip(z, zn / 2, A64_GUNZIP_MAX, &out, &outn, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "truncated"), "%s", err);
	ck_assert_ptr_null(out);
	z[zn / 2] ^= 0xff;
	z[zn / 2 + 1] ^= 0xff;
	ck_assert_int_eq(a64_image__gunzip(z, zn, A64_GUNZIP_MAX, &out, &outn, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "corrupt") || strstr(err, "truncated"), "%s", err);
	free(z);
	z = gzip(p, n, &zn);
	ck_assert_int_eq(a64_image__gunzip(z, zn, 1 << 20, &out, &outn, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "more than 1 MiB"), "%s", err);
	free(z);
	free(p);
}
END_TEST

Suite *a64_image_suite(void)
{
	Suite *s = suite_create("a64-image");
	TCase *tc = tcase_create("arm64-image");
	tcase_add_test(tc, header_is_checked);
	tcase_add_test(tc, kernel_initrd_and_dtb_are_placed);
	tcase_add_test(tc, gzip_kernels_are_unpacked);
	suite_add_tcase(s, tc);
	return s;
}
