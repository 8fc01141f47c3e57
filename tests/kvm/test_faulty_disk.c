/* SPDX-License-Identifier: Apache-2.0 */
/* Faulty disks under a real guest: bad sectors, a full file system, a backing that shrinks away. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/loop.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "tests/kvm/hostile.h"
#include "tests/lib/disk_fault.h"

#define DISK_SIZE (1ULL << 20)

struct req {
	uint32_t type;
	uint64_t sector;
	uint32_t len;
	uint8_t want;          /* 0xff: either OK or IOERR (counted by the caller) */
	uint64_t st;           /* status byte gpa */
	uint64_t data;         /* data buffer gpa: a read's starts as 0x5a, a write's is 0x40 + i */
	uint8_t expect;        /* an OK read brings: EXPECT_DISK, EXPECT_PATTERN or this byte */
};

#define EXPECT_DISK    0       /* what the backing holds at the end of the test */
#define EXPECT_PATTERN 1       /* hg__pattern: what hg__new's disk held before the test */

/* Publishes reqs[0..n) as one batch on d's queue (descriptors from d->next_desc on), kicks and
 * waits for all of them; returns the poll op. */
static unsigned batch(struct hg *h, struct hg_dev *d, struct req *reqs, unsigned n)
{
	uint16_t head = d->next_desc;
	for (unsigned i = 0; i < n; i++) {
		reqs[i].data = reqs[i].len ? hg__data(h, d, reqs[i].len) : 0;
		if (reqs[i].len)
			memset(hg__ram(h, reqs[i].data, reqs[i].len),
			       reqs[i].type == VIRTIO_BLK_T_OUT ? 0x40 + (int)i : 0x5a, reqs[i].len);
		reqs[i].st = hg__blk_req(h, d, reqs[i].type, reqs[i].sector, reqs[i].data,
					 reqs[i].len);
	}
	hg__publish(h, d, head, (uint16_t)n);
	hg__notify(h, d, 0);
	return hg__wait_used(h, d, d->avail);
}

/* Each request's status is what it should be, and each one that went through moved the right
 * bytes: an OK read brought what it should (req.expect), an OK write's data is on the disk. */
static void check(const struct hg *h, const struct req *reqs, unsigned n, const char *what)
{
	for (unsigned i = 0; i < n; i++) {
		const struct req *r = &reqs[i];
		uint8_t st = hg__byte(h, r->st);

		if (r->want != 0xff)
			ck_assert_msg(st == r->want, "%s, request %u (sector %llu): status %u, want %u",
				      what, i, (unsigned long long)r->sector, st, r->want);
		if (st != VIRTIO_BLK_S_OK || !r->len)
			continue;
		bool right;
		if (r->type == VIRTIO_BLK_T_OUT || r->expect == EXPECT_DISK) {
			right = hg__matches_disk(h, 0, r->data, r->sector, r->len);
		} else {
			const uint8_t *p = hg__ram(h, r->data, r->len);
			right = true;
			for (uint32_t k = 0; k < r->len && right; k++)
				right = p[k] == (r->expect == EXPECT_PATTERN
						 ? hg__pattern(r->sector * 512 + k) : r->expect);
		}
		ck_assert_msg(right, "%s, request %u (%s sector %llu): the data is not what it "
			      "should be", what, i, r->type == VIRTIO_BLK_T_OUT ? "write to" : "read of",
			      (unsigned long long)r->sector);
	}
}

/* EIO on sectors 100..199 (a test-only fault wrapper between the device and its engine), on
 * both transports and both engines: those requests get IOERR, the others work, the device
 * never asks for a reset, and the errors are counted and reported once. */
START_TEST(eio_on_chosen_sectors)
{
	static const char *const engines[] = { ",engine=io_uring", ",engine=sync" };

	for (unsigned c = 0; c < 4; c++) {
		bool pci = c & 1;
		struct hg *h = hg__new(1, DISK_SIZE, pci, engines[c >> 1], NULL);
		struct disk_fault f = { .first = 100 * 512, .last = 200 * 512 - 1, .err = EIO,
					.ops = DISK_FAULT_RW };
		struct hg_dev d;
		struct req r[] = {
			{ VIRTIO_BLK_T_IN, 0, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_PATTERN },
			{ VIRTIO_BLK_T_IN, 100, 512, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
			{ VIRTIO_BLK_T_OUT, 150, 4096, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
			{ VIRTIO_BLK_T_IN, 96, 4096, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },	/* straddles */
			{ VIRTIO_BLK_T_IN, 200, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_PATTERN },
			{ VIRTIO_BLK_T_OUT, 300, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK },
			{ VIRTIO_BLK_T_FLUSH, 0, 0, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK },
			{ VIRTIO_BLK_T_IN, 199, 512, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
		};
		const unsigned n = sizeof(r) / sizeof(r[0]);
		struct req again[] = {
			{ VIRTIO_BLK_T_IN, 120, 512, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
			{ VIRTIO_BLK_T_IN, 8, 512, VIRTIO_BLK_S_OK, 0, 0, EXPECT_PATTERN } };

		disk_fault__attach(&h->m->blk[0].disk, &f);
		hg__dev_init(h, &d, 0);
		if (pci)
			hg__msix_setup(h, &d, 0xfee00000);
		hg__bringup(h, &d, 0, 64, true);
		unsigned w1 = batch(h, &d, r, n);
		unsigned w2 = batch(h, &d, again, 2);
		unsigned status = hg__status_read(h, &d);
		hg__mark(h, 1);
		ck_assert_msg(hg__run(h, 60000), "case %u: the payload did not finish: %s", c,
			      h->m->vm.stop_msg);
		ck_assert_uint_eq(hg__out(h, w1), n);
		ck_assert_uint_eq(hg__out(h, w2), n + 2);
		check(h, r, n, "bad sectors");
		check(h, again, 2, "bad sectors, again");
		ck_assert_uint_eq(hg__out(h, status) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
		struct blk_stats s = hg__blk_stats(h, 0);
		ck_assert_uint_eq(s.io_errors, 5);
		ck_assert_uint_eq(f.hits, 5);
		ck_assert_uint_eq(s.reads, 3);
		ck_assert_uint_eq(s.writes, 1);
		ck_assert_uint_eq(s.flushes, 1);
		ck_assert_uint_eq(hg__count(h, "I/O error from the backing: Input/output error"), 1);
		hg__free(h);
	}
}
END_TEST

/* The disk file on a 1 MiB tmpfs: writes past what fits get IOERR (ENOSPC), the rest of the
 * disk keeps working. Needs root for the mount. */
START_TEST(enospc_on_a_full_tmpfs)
{
	char dir[] = "/tmp/kvmini-enospc-XXXXXX", path[128];

	if (getuid() != 0)
		ck_skip("mounting a tmpfs needs root");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m")) {
		int e = errno;
		rmdir(dir);
		ck_skip("cannot mount a tmpfs: %s", strerror(e));
	}
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), 4 << 20), 0);	/* sparse: 4 MiB on 1 MiB */
	fclose(f);

	const char *paths[] = { path };
	struct hg *h = hg__new(1, 0, false, ",engine=io_uring", paths);
	/* kvmini holds the file: detach the mount now, it goes when the file is closed, whatever
	 * happens to this test */
	unlink(path);
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
	rmdir(dir);
	struct hg_dev d;
	struct req w[24];
	for (unsigned i = 0; i < 24; i++)
		w[i] = (struct req){ VIRTIO_BLK_T_OUT, 128 * i, 65536, 0xff, 0, 0,
				     EXPECT_DISK };	/* 1.5 MiB in all */
	struct req after[] = { { VIRTIO_BLK_T_IN, 0, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK },
			       { VIRTIO_BLK_T_IN, 8000, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK } };

	hg__dev_init(h, &d, 0);
	hg__bringup(h, &d, 0, 128, true);
	unsigned w1 = batch(h, &d, w, 24);
	unsigned w2 = batch(h, &d, after, 2);
	unsigned status = hg__status_read(h, &d);
	hg__mark(h, 1);
	ck_assert_msg(hg__run(h, 60000), "the payload did not finish: %s", h->m->vm.stop_msg);
	ck_assert_uint_eq(hg__out(h, w1), 24);
	ck_assert_uint_eq(hg__out(h, w2), 26);
	check(h, after, 2, "reads of a full disk");
	unsigned ok = 0, ioerr = 0;
	for (unsigned i = 0; i < 24; i++) {
		uint8_t st = hg__byte(h, w[i].st);
		ok += st == VIRTIO_BLK_S_OK;
		ioerr += st == VIRTIO_BLK_S_IOERR;
	}
	fprintf(stderr, "enospc: %u writes of 64 KiB went through, %u got IOERR\n", ok, ioerr);
	ck_assert_uint_eq(ok + ioerr, 24);
	ck_assert_uint_ge(ok, 1);
	ck_assert_uint_ge(ioerr, 8);	/* at most 1 MiB fits */
	ck_assert_uint_eq(hg__out(h, status) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	struct blk_stats s = hg__blk_stats(h, 0);
	ck_assert_uint_eq(s.io_errors, ioerr);
	ck_assert_uint_eq(s.writes, ok);
	ck_assert_uint_eq(hg__count(h, "I/O error from the backing"), 1);
	ck_assert_uint_eq(hg__count(h, "No space left on device"), 1);
	hg__free(h);
}
END_TEST

static void truncate_disk(struct hg *h, uint32_t mark)
{
	if (mark == 1)	/* through kvmini's own fd: the temp file is already unlinked */
		ck_assert_int_eq(ftruncate(h->m->blk[0].disk.fd, 0), 0);
}

/* The backing file is truncated to nothing under the running VM (the closest a file comes to
 * disappearing while kvmini holds it open: unlinking it changes nothing). Reads of what was
 * there get IOERR on both engines; a write extends the file again and reads back. */
START_TEST(backing_truncated_under_the_vm)
{
	static const char *const engines[] = { ",engine=io_uring", ",engine=sync" };

	for (unsigned e = 0; e < 2; e++) {
		struct hg *h = hg__new(1, DISK_SIZE, false, engines[e], NULL);
		struct hg_dev d;
		struct req before[] = { { VIRTIO_BLK_T_IN, 64, 4096, VIRTIO_BLK_S_OK, 0, 0,
					  EXPECT_PATTERN } };	/* the file shrinks later */
		struct req gone[] = { { VIRTIO_BLK_T_IN, 64, 4096, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
				      { VIRTIO_BLK_T_IN, 2000, 512, VIRTIO_BLK_S_IOERR, 0, 0, EXPECT_DISK },
				      { VIRTIO_BLK_T_OUT, 16, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK },
				      { VIRTIO_BLK_T_FLUSH, 0, 0, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK } };
		struct req later[] = { { VIRTIO_BLK_T_IN, 16, 4096, VIRTIO_BLK_S_OK, 0, 0, EXPECT_DISK } };

		h->on_mark = truncate_disk;
		hg__dev_init(h, &d, 0);
		hg__bringup(h, &d, 0, 64, true);
		unsigned w1 = batch(h, &d, before, 1);
		hg__mark(h, 1);
		unsigned w2 = batch(h, &d, gone, 4);
		unsigned w3 = batch(h, &d, later, 1);
		unsigned status = hg__status_read(h, &d);
		hg__mark(h, 2);
		ck_assert_msg(hg__run(h, 60000), "the payload did not finish: %s", h->m->vm.stop_msg);
		ck_assert_uint_eq(hg__out(h, w1), 1);
		ck_assert_uint_eq(hg__out(h, w2), 5);
		ck_assert_uint_eq(hg__out(h, w3), 6);
		check(h, before, 1, "before");
		check(h, gone, 4, "truncated");
		check(h, later, 1, "written again");
		ck_assert_uint_eq(hg__out(h, status) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
		struct blk_stats s = hg__blk_stats(h, 0);
		ck_assert_uint_eq(s.io_errors, 2);
		ck_assert_uint_eq(hg__count(h, "I/O error from the backing"), 1);
		hg__free(h);
	}
}
END_TEST

struct loop_ctx {
	char dev[64], file[64];
};

/* At mark 1: the loop device's backing file shrinks to nothing and the device is detached
 * (LOOP_CLR_FD) while kvmini still holds it open. */
static void lose_backing(struct hg *h, uint32_t mark)
{
	struct loop_ctx *l = h->ctx;
	if (mark != 1)
		return;
	ck_assert_int_eq(truncate(l->file, 0), 0);
	int fd = open(l->dev, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	int rc = ioctl(fd, LOOP_CLR_FD, 0);
	fprintf(stderr, "loop: LOOP_CLR_FD on %s with kvmini holding it: %s\n", l->dev,
		rc ? strerror(errno) : "ok (deferred to the last close)");
	close(fd);
}

/* Whether len bytes at gpa are all `byte`. */
static bool all_bytes(const struct hg *h, uint64_t gpa, uint32_t len, uint8_t byte)
{
	const uint8_t *p = hg__ram(h, gpa, len);
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* A raw block device (a loop device, cache=none) whose backing file is truncated and which is
 * detached under the running VM: what was there is gone. Each request gets OK or IOERR, as
 * the loop driver answers: a read of what is gone comes back IOERR where the driver reports
 * the short read (its direct-I/O path, newer kernels) or zero-filled where it fills it (the
 * buffered path of Linux 6.1, the nested L1's kernel), never with the old data. Every error is
 * counted, the device never asks for a reset, and kvmini goes on. Needs root. */
START_TEST(loop_device_loses_its_backing)
{
	struct loop_ctx l;
	char cmd[200];

	if (getuid() != 0)
		ck_skip("a loop device needs root");
	snprintf(l.file, sizeof(l.file), "/tmp/kvmini-loop-XXXXXX");
	int fd = mkstemp(l.file);
	ck_assert_int_ge(fd, 0);
	static uint8_t old[DISK_SIZE];
	memset(old, 0xc3, sizeof(old));		/* what was there */
	ck_assert_int_eq(write(fd, old, sizeof(old)), (ssize_t)sizeof(old));
	close(fd);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", l.file);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	bool got = fgets(l.dev, sizeof(l.dev), p) != NULL;
	pclose(p);
	if (!got || strncmp(l.dev, "/dev/loop", 9)) {
		unlink(l.file);
		ck_skip("losetup found no free loop device");
	}
	l.dev[strcspn(l.dev, "\n")] = '\0';

	const char *paths[] = { l.dev };
	struct hg *h = hg__new(1, 0, false, ",cache=none,engine=io_uring", paths);
	struct hg_dev d;
	struct req before[] = { { VIRTIO_BLK_T_IN, 0, 4096, VIRTIO_BLK_S_OK, 0, 0, 0xc3 } };
	struct req after[] = { { VIRTIO_BLK_T_IN, 64, 4096, 0xff, 0, 0, EXPECT_DISK },
			       { VIRTIO_BLK_T_IN, 1024, 4096, 0xff, 0, 0, EXPECT_DISK },
			       { VIRTIO_BLK_T_OUT, 8, 4096, 0xff, 0, 0, EXPECT_DISK },
			       { VIRTIO_BLK_T_FLUSH, 0, 0, 0xff, 0, 0, EXPECT_DISK },
			       { VIRTIO_BLK_T_IN, 8, 4096, 0xff, 0, 0, EXPECT_DISK } };
	const unsigned n = sizeof(after) / sizeof(after[0]);

	h->ctx = &l;
	h->on_mark = lose_backing;
	hg__dev_init(h, &d, 0);
	hg__bringup(h, &d, 0, 64, true);
	unsigned w1 = batch(h, &d, before, 1);
	hg__mark(h, 1);
	unsigned w2 = batch(h, &d, after, n);
	unsigned status = hg__status_read(h, &d);
	hg__mark(h, 2);
	ck_assert_msg(hg__run(h, 60000), "the payload did not finish: %s", h->m->vm.stop_msg);
	ck_assert_uint_eq(hg__out(h, w1), 1);
	ck_assert_uint_eq(hg__out(h, w2), 1 + n);
	check(h, before, 1, "before");
	ck_assert(all_bytes(h, before[0].data, 4096, 0xc3));
	unsigned ioerr = 0;
	bool wrote = hg__byte(h, after[2].st) == VIRTIO_BLK_S_OK;
	for (unsigned i = 0; i < n; i++) {
		uint8_t st = hg__byte(h, after[i].st);
		ck_assert_msg(st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_IOERR, "status %u", st);
		ioerr += st == VIRTIO_BLK_S_IOERR;
		fprintf(stderr, "loop: after losing the backing, request %u: %s\n", i,
			st ? "IOERR" : "OK");
		if (st || after[i].type != VIRTIO_BLK_T_IN)
			continue;
		/* an answered read: zeros (the driver's fill), or what this run wrote there */
		ck_assert_msg(all_bytes(h, after[i].data, after[i].len, 0) ||
			      (wrote && after[i].sector == 8 &&
			       all_bytes(h, after[i].data, after[i].len, 0x40 + 2)),
			      "request %u: an OK read of a lost backing brought data (first byte "
			      "0x%02x)", i, *(uint8_t *)hg__ram(h, after[i].data, 1));
	}
	ck_assert_uint_eq(hg__out(h, status) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	struct blk_stats s = hg__blk_stats(h, 0);
	ck_assert_uint_eq(s.io_errors, ioerr);
	ck_assert_uint_le(hg__count(h, "I/O error from the backing"), 2);
	hg__free(h);
	/* kvmini closed it: the deferred detach happened */
	char sys[200];
	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file", l.dev + 5);
	for (int i = 0; i < 100 && access(sys, F_OK) == 0; i++)
		usleep(10000);
	if (access(sys, F_OK) == 0) {	/* not detached after all: do not leak the device */
		snprintf(cmd, sizeof(cmd), "losetup -d %s", l.dev);
		ck_assert_int_eq(system(cmd), 0);
	}
	unlink(l.file);
}
END_TEST

Suite *faulty_disk_suite(void)
{
	Suite *s = suite_create("faulty-disk");
	TCase *tc = tcase_create("faults");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, eio_on_chosen_sectors);
	tcase_add_test(tc, enospc_on_a_full_tmpfs);
	tcase_add_test(tc, backing_truncated_under_the_vm);
	tcase_add_test(tc, loop_device_loses_its_backing);
	suite_add_tcase(s, tc);
	return s;
}
