/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the fault-injecting disk wrapper (bad sectors, a full disk) on both engines. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/ck.h"
#include "tests/lib/disk_fault.h"
#include "devices/disk/disk.h"

#define SZ (1u << 20)

static const enum disk_engine engines[] = { DISK_ENGINE_SYNC, DISK_ENGINE_IO_URING };

static void open_file(struct disk *d, char *path, enum disk_engine e)
{
	struct disk_opts o = { .path = path, .engine = e };
	char err[256], note[256];

	snprintf(path, 64, "/tmp/kvmini-fault-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	uint8_t *p = malloc(SZ);
	for (unsigned i = 0; i < SZ; i++)
		p[i] = (uint8_t)(i / 512);
	ck_assert_int_eq(write(fd, p, SZ), SZ);
	free(p);
	close(fd);
	ck_assert_msg(disk__open(d, &o, err, sizeof(err), note, sizeof(note)) == 0, "%s", err);
	unlink(path);	/* the disk holds it open; nothing is left behind if a check fails */
}

/* Submits the batch, reaps one at a time until all are back. */
static void run(struct disk *d, struct disk_req **r, unsigned n)
{
	unsigned got = 0;

	ck_assert_int_eq(disk__submit(d, r, n), (int)n);
	for (int spins = 0; got < n; spins++) {
		struct pollfd p = { .fd = disk__completion_fd(d), .events = POLLIN };
		struct disk_req *done;
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		int k;
		while ((k = disk__reap(d, &done, 1, false)) == 1)
			got++;
		ck_assert_int_ge(k, 0);
		ck_assert_int_lt(spins, 10000);
	}
	ck_assert_uint_eq(disk__inflight(d), 0);
}

START_TEST(bad_sectors_fail_the_rest_work)
{
	for (unsigned e = 0; e < 2; e++) {
		struct disk d;
		char path[64];
		struct disk_fault f = { .first = 8 * 512, .last = 16 * 512 - 1, .err = EIO,
					.ops = DISK_FAULT_RW };
		static uint8_t buf[8][4096];
		struct iovec v[8];
		struct disk_req r[8], *rp[8];
		/* offset, length, op, expected */
		const struct { uint64_t off; uint32_t len; enum disk_op op; int64_t want; } c[8] = {
			{ 0, 4096, DISK_READ, 4096 },            /* sectors 0-7: just before */
			{ 8 * 512, 512, DISK_READ, -EIO },      /* the first bad one */
			{ 15 * 512, 512, DISK_WRITE, -EIO },    /* the last bad one */
			{ 4 * 512, 4096, DISK_READ, -EIO },     /* straddles the start */
			{ 16 * 512, 4096, DISK_READ, 4096 },    /* just after */
			{ 64 * 512, 4096, DISK_WRITE, 4096 },
			{ 0, 0, DISK_FLUSH, 0 },                /* flushes not in ops: fine */
			{ 12 * 512, 0, DISK_READ, 0 },          /* nothing touched: no fault */
		};

		open_file(&d, path, engines[e]);
		disk_fault__attach(&d, &f);
		for (unsigned i = 0; i < 8; i++) {
			memset(buf[i], 0xee, sizeof(buf[i]));
			v[i] = (struct iovec){ buf[i], c[i].len };
			r[i] = (struct disk_req){ .op = c[i].op, .offset = c[i].off, .len = c[i].len,
						  .iov = &v[i], .iovcnt = c[i].op == DISK_FLUSH ? 0 : 1 };
			rp[i] = &r[i];
		}
		run(&d, rp, 8);
		for (unsigned i = 0; i < 8; i++)
			ck_assert_msg(r[i].result == c[i].want, "engine %u case %u: %lld, want %lld", e,
				      i, (long long)r[i].result, (long long)c[i].want);
		ck_assert_uint_eq(buf[0][4095], 7);	/* data of the good reads is real */
		ck_assert_uint_eq(buf[4][0], 16);
		ck_assert_uint_eq(buf[1][0], 0xee);	/* a failed read leaves the buffer alone */
		ck_assert_uint_eq(f.hits, 3);
		ck_assert_uint_eq(d.errors, 3);
		disk__close(&d);
	}
}
END_TEST

START_TEST(full_disk_and_failing_flush)
{
	for (unsigned e = 0; e < 2; e++) {
		struct disk d;
		char path[64];
		struct disk_fault f = { .first = SZ / 2, .last = UINT64_MAX, .err = ENOSPC,
					.ops = (1u << DISK_WRITE) | (1u << DISK_WRITE_ZEROES) |
					       (1u << DISK_FLUSH) };
		static uint8_t buf[4096];
		struct iovec v = { buf, sizeof(buf) };

		open_file(&d, path, engines[e]);
		disk_fault__attach(&d, &f);
		struct disk_req w1 = { .op = DISK_WRITE, .offset = 0, .iov = &v, .iovcnt = 1 };
		struct disk_req w2 = { .op = DISK_WRITE, .offset = SZ / 2, .iov = &v, .iovcnt = 1 };
		struct disk_req rd = { .op = DISK_READ, .offset = SZ / 2, .iov = &v, .iovcnt = 1 };
		struct disk_req wz = { .op = DISK_WRITE_ZEROES, .offset = SZ - 4096, .len = 4096 };
		struct disk_req fl = { .op = DISK_FLUSH };
		struct disk_req *rp[] = { &w1, &w2, &rd, &wz, &fl };
		run(&d, rp, 5);
		ck_assert_int_eq(w1.result, 4096);
		ck_assert_int_eq(w2.result, -ENOSPC);
		ck_assert_int_eq(rd.result, 4096);	/* reads of a full disk work */
		ck_assert_int_eq(wz.result, -ENOSPC);
		ck_assert_int_eq(fl.result, -ENOSPC);
		ck_assert_uint_eq(f.hits, 3);
		/* more than one reap's worth of failures at once */
		struct disk_req many[40], *mp[40];
		for (unsigned i = 0; i < 40; i++) {
			many[i] = (struct disk_req){ .op = DISK_WRITE, .offset = SZ / 2 + 4096 * i,
						     .iov = &v, .iovcnt = 1 };
			mp[i] = &many[i];
		}
		run(&d, mp, 40);
		for (unsigned i = 0; i < 40; i++)
			ck_assert_int_eq(many[i].result, -ENOSPC);
		ck_assert_uint_eq(d.errors, 43);
		disk__close(&d);
	}
}
END_TEST

/* hold: requests stay in flight through non-waiting reaps, a waiting reap sends them on */
START_TEST(hold_keeps_requests_in_flight)
{
	for (unsigned e = 0; e < 2; e++) {
		struct disk d;
		char path[64];
		struct disk_fault f = { .hold = true };
		static uint8_t buf[3][512];
		struct iovec v[3];
		struct disk_req r[3], *rp[3], *done[4];

		open_file(&d, path, engines[e]);
		disk_fault__attach(&d, &f);
		for (unsigned i = 0; i < 3; i++) {
			v[i] = (struct iovec){ buf[i], 512 };
			r[i] = (struct disk_req){ .op = DISK_READ, .offset = 512 * (i + 1), .iov = &v[i],
						  .iovcnt = 1 };
			rp[i] = &r[i];
		}
		ck_assert_int_eq(disk__submit(&d, rp, 3), 3);
		ck_assert_uint_eq(disk__inflight(&d), 3);
		ck_assert_int_eq(disk__reap(&d, done, 4, false), 0);
		ck_assert_uint_eq(disk__inflight(&d), 3);
		unsigned got = 0;
		while (got < 3) {
			int k = disk__reap(&d, done + got, 4 - got, true);
			ck_assert_int_gt(k, 0);
			got += (unsigned)k;
		}
		ck_assert_uint_eq(disk__inflight(&d), 0);
		for (unsigned i = 0; i < 3; i++) {
			ck_assert_int_eq(r[i].result, 512);
			ck_assert_uint_eq(buf[i][0], i + 1);
		}
		disk__close(&d);
	}
}
END_TEST

Suite *disk_fault_suite(void)
{
	Suite *s = suite_create("disk-fault");
	TCase *tc = tcase_create("wrapper");
	tcase_add_test(tc, bad_sectors_fail_the_rest_work);
	tcase_add_test(tc, full_disk_and_failing_flush);
	tcase_add_test(tc, hold_keeps_requests_in_flight);
	suite_add_tcase(s, tc);
	return s;
}
