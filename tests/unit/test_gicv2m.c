/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the GICv2m MSI frame (devices/gicv2m.c): MSI_TYPER, a doorbell write raising its SPI as an edge, writes of SPIs not its own ignored and counted. */
#include <check.h>
#include <stdint.h>

#include "devices/gicv2m.h"
#include "tests/lib/ck.h"

static unsigned raised[8], nraised;
static int levels[16], nlevels;

static void set(void *ctx, unsigned spi, int level)
{
	(void)ctx;
	if (level && nraised < 8)
		raised[nraised++] = spi;
	if (nlevels < 16)
		levels[nlevels++] = level;
}

static struct gicv2m frame(void)
{
	struct gicv2m f;

	gicv2m__init(&f, 64, 64, (struct irq_line){ .set = set });
	nraised = 0;
	nlevels = 0;
	return f;
}

static uint32_t rd(struct gicv2m *f, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	gicv2m_ops.read(f, off, &v, 4);
	return v;
}

static void wr(struct gicv2m *f, uint64_t off, uint32_t v, uint32_t len)
{
	gicv2m_ops.write(f, off, &v, len);
}

/* Linux's gic-v2m reads TYPER when the tree gives no range: INTID base 96, 64 SPIs */
START_TEST(typer_names_its_spis)
{
	struct gicv2m f = frame();

	ck_assert_uint_eq(rd(&f, 0x008), (96u << 16) | 64);
	ck_assert_uint_eq(rd(&f, 0xfcc), 0);	/* MSI_IIDR: no quirks */
	ck_assert_uint_eq(rd(&f, 0x040), 0);	/* the doorbell reads 0 */
}
END_TEST

/* a doorbell write of INTID 96 + n pulses SPI 64 + n: level 1 then 0 */
START_TEST(doorbell_raises_an_edge)
{
	struct gicv2m f = frame();

	wr(&f, GICV2M_SETSPI, 96, 4);
	wr(&f, GICV2M_SETSPI, 159, 2);
	ck_assert_uint_eq(nraised, 2);
	ck_assert_uint_eq(raised[0], 64);
	ck_assert_uint_eq(raised[1], 127);
	ck_assert_int_eq(nlevels, 4);
	ck_assert_int_eq(levels[0], 1);
	ck_assert_int_eq(levels[1], 0);
	ck_assert_int_eq(gicv2m__owns(&f, 96), 1);
	ck_assert_int_eq(gicv2m__owns(&f, 160), 0);
	ck_assert_int_eq(gicv2m__owns(&f, 95), 0);
}
END_TEST

/* a guest (or device) writing an SPI outside the frame's, or writing elsewhere or with an
 * odd width, raises nothing */
START_TEST(foreign_spis_are_ignored)
{
	struct gicv2m f = frame();

	wr(&f, GICV2M_SETSPI, 95, 4);
	wr(&f, GICV2M_SETSPI, 160, 4);
	wr(&f, GICV2M_SETSPI, 0xffffffffu, 4);
	wr(&f, GICV2M_SETSPI, 33, 4);		/* the UART's INTID */
	ck_assert_uint_eq(f.bad_writes, 4);
	wr(&f, 0x044, 96, 4);			/* not the doorbell */
	wr(&f, GICV2M_SETSPI, 96, 1);		/* a byte */
	ck_assert_uint_eq(nraised, 0);
	f.line.set = NULL;			/* nowhere to send it: no crash */
	wr(&f, GICV2M_SETSPI, 96, 4);
}
END_TEST

Suite *gicv2m_suite(void)
{
	Suite *s = suite_create("gicv2m");
	TCase *tc = tcase_create("msi-frame");
	tcase_add_test(tc, typer_names_its_spis);
	tcase_add_test(tc, doorbell_raises_an_edge);
	tcase_add_test(tc, foreign_spis_are_ignored);
	suite_add_tcase(s, tc);
	return s;
}
