/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the RAM layout around the hole, the checked accessor, bus registration and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "tests/lib/ck.h"
#include "devices/bus.h"
#include "firmware/x86/layout.h"
#include "vmm/memory.h"

START_TEST(layout_below_and_above_hole)
{
	struct gm_region r[GM_MAX_REGIONS];

	ck_assert_uint_eq(gm__layout(512ULL << 20, r), 1);
	ck_assert_uint_eq(r[0].gpa, 0);
	ck_assert_uint_eq(r[0].size, 512ULL << 20);
	ck_assert_uint_eq(gm__layout(3ULL << 30, r), 1);
	ck_assert_uint_eq(gm__layout(5ULL << 30, r), 2);
	ck_assert_uint_eq(r[0].size, LAYOUT_MMIO_HOLE);
	ck_assert_uint_eq(r[1].gpa, 4ULL << 30);
	ck_assert_uint_eq(r[1].size, 2ULL << 30);
}
END_TEST

START_TEST(checked_accessor)
{
	static uint8_t buf[8192];
	struct guest_mem gm;

	gm__init_flat(&gm, buf, sizeof(buf));
	ck_assert_ptr_eq(gm__ptr(&gm, 0, 8192), buf);
	ck_assert_ptr_eq(gm__ptr(&gm, 8191, 1), buf + 8191);
	ck_assert_ptr_eq(gm__ptr(&gm, 100, 0), buf + 100);
	ck_assert_ptr_null(gm__ptr(&gm, 8191, 2));
	ck_assert_ptr_null(gm__ptr(&gm, 8192, 1));
	ck_assert_ptr_null(gm__ptr(&gm, 8192, 0));
	ck_assert_ptr_null(gm__ptr(&gm, 1, UINT64_MAX));
	ck_assert_ptr_null(gm__ptr(&gm, UINT64_MAX, 2));
	ck_assert_ptr_null(gm__ptr(&gm, 0, 8193));
	uint32_t v = 0xabcd1234, w = 0;
	ck_assert_int_eq(gm__write(&gm, 4, &v, 4), 0);
	ck_assert_int_eq(gm__read(&gm, &w, 4, 4), 0);
	ck_assert_uint_eq(w, v);
	ck_assert_int_eq(gm__write(&gm, 8190, &v, 4), -EFAULT);
	ck_assert_int_eq(gm__read(&gm, &w, 8190, 4), -EFAULT);
}
END_TEST

START_TEST(accessor_refuses_straddling_the_hole)
{
	struct guest_mem gm;

	ck_assert_int_eq(gm__alloc(&gm, 5ULL << 30, GM_PAGES_THP), 0);	/* MAP_NORESERVE: costs nothing */
	ck_assert_uint_eq(gm.n, 2);
	ck_assert_ptr_nonnull(gm__ptr(&gm, LAYOUT_MMIO_HOLE - 4096, 4096));
	ck_assert_ptr_null(gm__ptr(&gm, LAYOUT_MMIO_HOLE - 4096, 8192));	/* into the hole */
	ck_assert_ptr_null(gm__ptr(&gm, LAYOUT_MMIO_HOLE, 1));
	ck_assert_ptr_null(gm__ptr(&gm, LAYOUT_IOAPIC, 4));
	ck_assert_ptr_null(gm__ptr(&gm, LAYOUT_MMIO_HOLE_END - 4, 8));	/* across 4 GiB */
	ck_assert_ptr_nonnull(gm__ptr(&gm, LAYOUT_MMIO_HOLE_END, 8));
	ck_assert_ptr_nonnull(gm__ptr(&gm, (6ULL << 30) - 8, 8));
	ck_assert_ptr_null(gm__ptr(&gm, (6ULL << 30) - 8, 9));
	ck_assert_uint_eq(gm__low_end(&gm), LAYOUT_MMIO_HOLE);
	gm__free(&gm);
	ck_assert_int_eq(gm__alloc(&gm, 1ULL << 20, GM_PAGES_THP), -EINVAL);
	ck_assert_int_eq(gm__alloc(&gm, (64ULL << 20) + 1, GM_PAGES_THP), -EINVAL);
}
END_TEST

/* --memory's backings: THP (2 MiB-aligned, huge pages where the host has THP), 4 KiB only,
 * and hugetlb (refused up front when the pool is short); what gm__usage reads back */
START_TEST(ram_backings)
{
	struct guest_mem gm;
	struct gm_usage u;
	char mode[32];
	const uint64_t touched = 16ULL << 20;

	ck_assert_int_eq(gm__alloc(&gm, 256ULL << 20, GM_PAGES_THP), 0);
	ck_assert_uint_eq((uintptr_t)gm.mapping & (GM_HUGE - 1), 0);
	ck_assert_str_eq(gm__pages_name(gm.pages), "thp");
	memset(gm.mapping, 1, touched);
	ck_assert_int_eq(gm__usage(&gm, &u), 0);
	ck_assert_uint_ge(u.resident, touched);
	ck_assert_uint_le(u.resident, gm.ram_size);
	ck_assert_uint_le(u.huge, u.resident);
	ck_assert_uint_eq(u.huge % GM_HUGE, 0);
	gm__thp_mode(mode, sizeof(mode));
	if (!strcmp(mode, "always") || !strcmp(mode, "madvise"))	/* 8 huge pages asked for */
		ck_assert_msg(u.huge >= GM_HUGE, "THP %s, yet no huge page under 16 MiB", mode);
	gm__free(&gm);
	ck_assert_int_eq(gm.smaps_fd, -1);

	ck_assert_int_eq(gm__alloc(&gm, 256ULL << 20, GM_PAGES_SMALL), 0);
	memset(gm.mapping, 1, touched);
	ck_assert_int_eq(gm__usage(&gm, &u), 0);
	ck_assert_uint_ge(u.resident, touched);
	ck_assert_uint_eq(u.huge, 0);	/* MADV_NOHUGEPAGE, even where THP is "always" */
	gm__free(&gm);

	ck_assert_int_eq(gm__alloc(&gm, (64ULL << 20) + 4096, GM_PAGES_HUGETLB), -EINVAL);
	long free = gm__hugetlb_free();
	if (free >= 0 && free < 100000)	/* more than the pool holds: refused now, not a SIGBUS */
		ck_assert_int_eq(gm__alloc(&gm, (uint64_t)(free + 8) * GM_HUGE, GM_PAGES_HUGETLB),
				 -ENOMEM);

	uint8_t buf[4096];
	gm__init_flat(&gm, buf, sizeof(buf));
	ck_assert_int_eq(gm__usage(&gm, &u), -ENOENT);

	/* a VM torn down before its RAM was mapped frees a zeroed gm: fd 0 is not its to close */
	if (fcntl(0, F_GETFD) < 0)
		ck_assert_int_eq(open("/dev/null", O_RDONLY), 0);
	memset(&gm, 0, sizeof(gm));
	gm__free(&gm);
	ck_assert_int_ge(fcntl(0, F_GETFD), 0);
}
END_TEST

struct hits { int reads, writes; uint64_t off; uint32_t len; uint8_t last[8]; };

static void h_read(void *o, uint64_t off, void *data, uint32_t len)
{
	struct hits *h = o;
	h->reads++;
	h->off = off;
	h->len = len;
	memset(data, 0x5a, len);
}

static void h_write(void *o, uint64_t off, const void *data, uint32_t len)
{
	struct hits *h = o;
	h->writes++;
	h->off = off;
	h->len = len;
	memcpy(h->last, data, len);
}

static const struct bus_dev_ops hops = { .name = "t", .read = h_read, .write = h_write };

START_TEST(bus_registration_rules)
{
	struct bus b;
	struct hits h = { 0 };

	bus__init(&b, "pio");
	ck_assert_int_eq(bus__register(&b, 0x100, 8, &hops, &h), 0);
	ck_assert_int_eq(bus__register(&b, 0x200, 8, &hops, &h), 0);
	ck_assert_int_eq(bus__register(&b, 0x108, 8, &hops, &h), 0);	/* adjacent is fine */
	ck_assert_int_eq(bus__register(&b, 0x0f8, 8, &hops, &h), 0);
	ck_assert_int_eq(bus__register(&b, 0x104, 1, &hops, &h), -EEXIST);
	ck_assert_int_eq(bus__register(&b, 0x0f0, 0x20, &hops, &h), -EEXIST);	/* covers two */
	ck_assert_int_eq(bus__register(&b, 0x1ff, 2, &hops, &h), -EEXIST);
	ck_assert_int_eq(bus__register(&b, 0x207, 1, &hops, &h), -EEXIST);
	ck_assert_int_eq(bus__register(&b, 0x300, 0, &hops, &h), -EINVAL);
	ck_assert_int_eq(bus__register(&b, UINT64_MAX, 2, &hops, &h), -EINVAL);
	ck_assert_int_eq(bus__register(&b, 0x300, 1, NULL, &h), -EINVAL);
	ck_assert_uint_eq(b.n, 4);
	for (size_t i = 1; i < b.n; i++)
		ck_assert_uint_lt(b.ranges[i - 1].base + b.ranges[i - 1].len - 1, b.ranges[i].base);
	/* many registrations keep the order */
	for (uint64_t p = 0x1000; p < 0x1000 + 64 * 4; p += 4)
		ck_assert_int_eq(bus__register(&b, 0x2000 + 0x1000 - (p - 0x1000), 4, &hops, &h), 0);
	for (size_t i = 1; i < b.n; i++)
		ck_assert_uint_lt(b.ranges[i - 1].base, b.ranges[i].base);
	bus__free(&b);
}
END_TEST

START_TEST(bus_dispatch)
{
	struct bus b;
	struct hits h1 = { 0 }, h2 = { 0 };
	uint8_t data[8];

	bus__init(&b, "mmio");
	ck_assert_int_eq(bus__register(&b, 0xd0000000, 0x1000, &hops, &h1), 0);
	ck_assert_int_eq(bus__register(&b, 0xd0001000, 0x1000, &hops, &h2), 0);
	uint32_t v = 0x11223344;
	ck_assert(bus__access(&b, 0xd0000010, true, &v, 4));
	ck_assert_int_eq(h1.writes, 1);
	ck_assert_uint_eq(h1.off, 0x10);
	ck_assert_mem_eq(h1.last, &v, 4);
	ck_assert(bus__access(&b, 0xd0001ff8, false, data, 8));
	ck_assert_int_eq(h2.reads, 1);
	ck_assert_uint_eq(h2.off, 0xff8);
	ck_assert_uint_eq(data[7], 0x5a);
	/* an access that runs past its device, or hits nothing: all-ones, counted */
	ck_assert(!bus__access(&b, 0xd0000ffe, false, data, 4));
	ck_assert_uint_eq(data[0], 0xff);
	ck_assert(!bus__access(&b, 0xcfffffff, true, data, 1));
	ck_assert(!bus__access(&b, 0xd0002000, false, data, 1));
	ck_assert_uint_eq(b.unhandled, 3);
	ck_assert_uint_eq(b.last_unhandled_addr, 0xd0002000);
	ck_assert_int_eq(h1.reads + h2.writes, 0);
	bus__free(&b);
}
END_TEST

Suite *memory_bus_suite(void)
{
	Suite *s = suite_create("memory+bus");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, layout_below_and_above_hole);
	tcase_add_test(tc, checked_accessor);
	tcase_add_test(tc, accessor_refuses_straddling_the_hole);
	tcase_add_test(tc, ram_backings);
	tcase_add_test(tc, bus_registration_rules);
	tcase_add_test(tc, bus_dispatch);
	suite_add_tcase(s, tc);
	return s;
}
