/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: disk backings (files, loop devices), both engines, both cache modes, bounces. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/ck.h"
#include "devices/disk/disk.h"
#include "devices/disk/disk_engine.h"

#define MIB (1ULL << 20)

/* Set up in the parent (unchecked fixture), inherited by every forked test. */
static char tdir[200];           /* where O_DIRECT works */
static bool tdir_direct;         /* false: O_DIRECT works nowhere we looked */
static char shmdir[200];         /* on tmpfs, if there is one */

static const enum disk_engine engines[] = { DISK_ENGINE_SYNC, DISK_ENGINE_IO_URING };
static const enum disk_cache caches[] = { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };

/* ---- helpers ---- */

static bool dir_does_direct(const char *dir)
{
	char path[300];
	void *buf;
	bool ok = false;
	int fd;

	snprintf(path, sizeof(path), "%s/kvmini-dio-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return false;
	close(fd);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd >= 0 && !posix_memalign(&buf, 4096, 4096)) {
		memset(buf, 0, 4096);
		ok = pwrite(fd, buf, 4096, 0) == 4096;
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return ok;
}

static void clear_immutable(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags;

	if (fd < 0)
		return;
	if (!ioctl(fd, FS_IOC_GETFLAGS, &flags) && (flags & FS_IMMUTABLE_FL)) {
		flags &= ~FS_IMMUTABLE_FL;
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F || flag == FTW_SL)
		clear_immutable(path);
	remove(path);
	return 0;
}

/* Undoes whatever a (possibly failed) test left: mounts under tdir, loop devices backed by
 * files in it, then the directory itself. Runs in the parent, whatever the tests did. */
static void cleanup_tdir(void)
{
	char line[1024], mnt[512], path[300], back[512];
	size_t n = strlen(tdir);
	DIR *dir;
	FILE *f;

	if (shmdir[0])
		nftw(shmdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	shmdir[0] = '\0';
	if (!tdir[0])
		return;
	for (int pass = 0; pass < 4; pass++) {	/* nested mounts: innermost go first */
		f = fopen("/proc/self/mountinfo", "re");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 &&
			    !strncmp(mnt, tdir, n) && (mnt[n] == '/' || !mnt[n]))
				umount2(mnt, MNT_DETACH);
		fclose(f);
	}
	dir = opendir("/sys/block");
	while (dir) {
		struct dirent *e = readdir(dir);

		if (!e)
			break;
		if (strncmp(e->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(back, sizeof(back), f) && !strncmp(back, tdir, n)) {
			int fd;

			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ioctl(fd, LOOP_CLR_FD, 0);
				close(fd);
			}
		}
		fclose(f);
	}
	if (dir)
		closedir(dir);
	nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fixture_setup(void)
{
	static const char *const cands[] = { "/var/tmp", "/tmp", "." };
	const char *base = NULL;
	char tmpl[200], *real;

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && !base; i++)
		if (dir_does_direct(cands[i]))
			base = cands[i];
	tdir_direct = base != NULL;
	if (!base) {
		base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		/* each cache=none case says so (skip_direct) */
	}
	snprintf(tmpl, sizeof(tmpl), "%s/kvmini-disk-XXXXXX", base);
	tdir[0] = '\0';
	if (!mkdtemp(tmpl))
		return;
	real = realpath(tmpl, NULL);
	snprintf(tdir, sizeof(tdir), "%s", real ? real : tmpl);
	free(real);
	snprintf(shmdir, sizeof(shmdir), "/dev/shm/kvmini-disk-XXXXXX");
	if (!mkdtemp(shmdir))
		shmdir[0] = '\0';
}

static void fixture_teardown(void)
{
	cleanup_tdir();
	tdir[0] = '\0';
}

/* A sparse file of size bytes in tdir (or in dir); its path goes to path. */
static void mkfile_in(const char *dir, char *path, size_t len, uint64_t size)
{
	int fd;

	snprintf(path, len, "%s/img-XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static void mkfile(char *path, size_t len, uint64_t size)
{
	ck_assert_msg(tdir[0], "no temp dir");
	mkfile_in(tdir, path, len, size);
}

/* can the filesystem under path punch holes? (asked directly, not through the disk code) */
static bool punches(const char *path)
{
	int fd = open(path, O_RDWR);
	bool ok;

	ck_assert_int_ge(fd, 0);
	ok = !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
	close(fd);
	return ok;
}

/* true (recorded as a skipped part of test fn) for cache=none where no directory here takes
 * O_DIRECT */
#define skip_direct(c) skip_direct_in(__func__, (c))
static bool skip_direct_in(const char *fn, enum disk_cache c)
{
	if (c == DISK_CACHE_NONE && !tdir_direct) {
		ck__skip_part(fn, "cache=none", "O_DIRECT works in none of /var/tmp, /tmp, .");
		return true;
	}
	return false;
}

static void open_workers_ok(struct disk *d, const char *path, enum disk_engine e,
			    enum disk_cache c, bool ro, unsigned copy_workers)
{
	struct disk_opts o = { .path = path, .readonly = ro, .cache = c, .engine = e,
			       .copy_workers = copy_workers };
	char err[256] = "", note[256] = "";

	ck_assert_msg(!disk__open(d, &o, err, sizeof(err), note, sizeof(note)), "open %s: %s",
		      path, err);
	ck_assert_msg(d->engine == e, "engine %d, wanted %d (note: %s)", d->engine, e, note);
	ck_assert(d->direct == (c == DISK_CACHE_NONE));
	ck_assert(d->readonly == ro);
}

static void open_ok(struct disk *d, const char *path, enum disk_engine e, enum disk_cache c,
		    bool ro)
{
	open_workers_ok(d, path, e, c, ro, 0);
}

static uint32_t rnd_state = 0x12345678;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed * 2654435761u) >> 24) ^ (uint8_t)(i * 7 + (i >> 9));
}

/* The device's way: submit once, then poll the completion fd and reap without waiting
 * until every request came back exactly once. */
static void run_batch(struct disk *d, struct disk_req **reqs, unsigned n)
{
	struct disk_req **done = calloc(n, sizeof(*done));
	unsigned got = 0, spurious = 0;
	int fd = disk__completion_fd(d);

	ck_assert_ptr_nonnull(done);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(disk__submit(d, reqs, n), (int)n);
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k;

		ck_assert_msg(poll(&p, 1, 20000) == 1, "no completion signalled (%u/%u)", got, n);
		k = disk__reap(d, done + got, n - got, false);
		ck_assert_int_ge(k, 0);
		if (!k)
			ck_assert_uint_lt(++spurious, 10000);
		got += (unsigned)k;
	}
	ck_assert_uint_eq(disk__inflight(d), 0);
	for (unsigned i = 0; i < n; i++) {	/* each one exactly once */
		unsigned seen = 0;

		for (unsigned j = 0; j < n; j++)
			seen += done[j] == reqs[i];
		ck_assert_uint_eq(seen, 1);
	}
	free(done);
}

static int64_t one(struct disk *d, enum disk_op op, uint64_t off, void *buf, uint64_t len)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct disk_req r = { .op = op, .offset = off, .len = len };
	struct disk_req *rp = &r;

	if (op == DISK_READ || op == DISK_WRITE) {
		r.iov = &v;
		r.iovcnt = 1;
	}
	run_batch(d, &rp, 1);
	return r.result;
}

static uint8_t *slurp(const char *path, uint64_t size)
{
	uint8_t *p = malloc(size);
	int fd = open(path, O_RDONLY);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, p, size, 0), (ssize_t)size);
	close(fd);
	return p;
}

static void *aligned(size_t len)
{
	void *p = NULL;

	ck_assert_int_eq(posix_memalign(&p, 4096, len), 0);
	return p;
}

/* ---- files ---- */

START_TEST(open_probe_file)
{
	char path[300];
	struct disk d;

	mkfile(path, sizeof(path), 3 * MIB + 1024);
	for (unsigned e = 0; e < 2; e++) {
		open_ok(&d, path, engines[e], DISK_CACHE_WRITEBACK, false);
		ck_assert_uint_eq(d.size, 3 * MIB + 1024);
		ck_assert_uint_eq(d.block_size, 512);
		ck_assert(!d.is_blockdev);
		ck_assert(d.discard == punches(path));
		ck_assert_int_eq(d.buffered_fd, -1);
		ck_assert_uint_eq(d.mem_align, 1);
		ck_assert_uint_eq(d.errors, 0);
		ck_assert_uint_eq(disk__inflight(&d), 0);
		disk__close(&d);
		ck_assert_int_eq(d.fd, -1);
	}
	/* sparse is fine: 64 GiB of nothing */
	ck_assert_int_eq(truncate(path, 64LL << 30), 0);
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, true);
	ck_assert_uint_eq(d.size, 64ULL << 30);
	ck_assert(!d.discard);	/* read-only: nothing to discard */
	disk__close(&d);
	if (!skip_direct(DISK_CACHE_NONE)) {
		open_ok(&d, path, DISK_ENGINE_IO_URING, DISK_CACHE_NONE, false);
		ck_assert_int_ge(d.buffered_fd, 0);
		ck_assert_uint_ge(d.mem_align, 1);
		ck_assert_uint_le(d.mem_align, 4096);
		ck_assert_uint_eq(d.mem_align & (d.mem_align - 1), 0);
		ck_assert_uint_ge(d.block_size, 512);
		disk__close(&d);
	}
}
END_TEST

static void open_fails(const char *path, bool ro, const char *want1, const char *want2)
{
	struct disk_opts o = { .path = path, .readonly = ro };
	char err[256] = "";
	struct disk d;

	ck_assert_int_eq(disk__open(&d, &o, err, sizeof(err), NULL, 0), -1);
	ck_assert_msg(path == NULL || strstr(err, path), "error does not name %s: %s", path, err);
	ck_assert_msg(strstr(err, want1), "error '%s' lacks '%s'", err, want1);
	if (want2)
		ck_assert_msg(strstr(err, want2), "error '%s' lacks '%s'", err, want2);
	ck_assert_int_eq(d.fd, -1);
}

START_TEST(rejections)
{
	char path[300], missing[320];
	struct disk d, d2, d3;
	int fd, flags;

	mkfile(path, sizeof(path), MIB);
	snprintf(missing, sizeof(missing), "%s/no-such-disk", tdir);
	open_fails(missing, false, "No such file", NULL);
	open_fails(tdir, false, "is a directory", NULL);
	open_fails("/dev/null", false, "not a regular file or a block device", NULL);
	open_fails(NULL, false, "no path", NULL);

	/* locked: exclusive against everything, shared against exclusive */
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);
	open_fails(path, false, "in use by another process", NULL);
	open_fails(path, true, "in use by another process", NULL);
	disk__close(&d);
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, true);
	open_ok(&d2, path, DISK_ENGINE_IO_URING, DISK_CACHE_WRITEBACK, true);
	open_fails(path, false, "in use by another process", NULL);
	disk__close(&d2);
	disk__close(&d);
	open_ok(&d3, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);	/* all released */
	disk__close(&d3);

	/* read-only file: a mode for a user; root ignores modes, so make it immutable (EPERM
	 * for writers) */
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(fchmod(fd, 0444), 0);
	} else if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
		   (flags |= FS_IMMUTABLE_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)) {
		ck_skip_part("read-only file", "cannot make a file immutable here: %s",
			     strerror(errno));
		close(fd);
		return;
	}
	close(fd);
	open_fails(path, false, "read-only", "ro=on");
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, true);
	ck_assert_int_eq(one(&d, DISK_WRITE, 0, (char[512]){ 0 }, 512), -EROFS);
	ck_assert_uint_eq(d.errors, 1);
	disk__close(&d);
	clear_immutable(path);
}
END_TEST

/* write a pattern through the disk, read it back through it and through a plain fd */
static void roundtrip(const char *path, uint64_t size, enum disk_engine e, enum disk_cache c,
		      uint32_t seed)
{
	enum { N = 24 };
	struct disk_req reqs[N], *rp[N];
	struct iovec iov[N];
	uint8_t *buf, *back, *file;
	uint64_t chunk = size / N / 4096 * 4096;
	struct disk d;

	ck_assert_uint_gt(chunk, 0);
	open_ok(&d, path, e, c, false);
	buf = aligned(chunk * N);
	back = aligned(chunk * N);
	fill(buf, chunk * N, seed);
	memset(back, 0xee, chunk * N);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			/* scattered: request i goes to slot (i * 7) % N */
			uint64_t slot = (uint64_t)(i * 7 % N);

			iov[i] = (struct iovec){ (pass ? back : buf) + i * chunk, chunk };
			reqs[i] = (struct disk_req){ .op = pass ? DISK_READ : DISK_WRITE,
						     .offset = slot * chunk, .iov = &iov[i],
						     .iovcnt = 1, .cookie = &reqs[i] };
			rp[i] = &reqs[i];
		}
		run_batch(&d, rp, N);
		for (int i = 0; i < N; i++) {
			ck_assert_int_eq(reqs[i].result, (int64_t)chunk);
			ck_assert_uint_eq(reqs[i].len, chunk);
			ck_assert_ptr_eq(reqs[i].cookie, &reqs[i]);
		}
	}
	ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
	ck_assert(!memcmp(buf, back, chunk * N));
	file = slurp(path, chunk * N);
	for (int i = 0; i < N; i++)
		ck_assert(!memcmp(file + (uint64_t)(i * 7 % N) * chunk, buf + i * chunk, chunk));
	ck_assert_uint_eq(d.errors, 0);
	disk__close(&d);
	free(file);
	free(back);
	free(buf);
}

START_TEST(roundtrip_engines_and_caches)
{
	char path[300];
	uint32_t seed = 1;

	mkfile(path, sizeof(path), 4 * MIB);
	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++)
			if (!skip_direct(caches[c]))
				roundtrip(path, 4 * MIB, engines[e], caches[c], seed++);
}
END_TEST

/* cache=none with buffers O_DIRECT cannot take: bounced, same bytes */
START_TEST(bounce_unaligned_sg)
{
	char path[300];
	struct disk d;
	uint8_t *pool, *pat, *file;
	static const size_t lens[] = { 100, 412, 3000, 584, 4096 };	/* 8192 in all */

	if (skip_direct(DISK_CACHE_NONE))
		return;
	mkfile(path, sizeof(path), MIB);
	pool = aligned(64 * 1024);
	pat = malloc(8192);
	ck_assert_ptr_nonnull(pat);
	for (unsigned e = 0; e < 2; e++) {
		struct iovec iov[5];
		struct disk_req r = { 0 }, *rp = &r;
		uint8_t *p = pool + 1;	/* every segment odd */

		open_ok(&d, path, engines[e], DISK_CACHE_NONE, false);
		fill(pat, 8192, 40 + e);
		for (int i = 0; i < 5; i++) {
			iov[i] = (struct iovec){ p, lens[i] };
			p += lens[i] + 3;
		}
		for (int i = 0, o = 0; i < 5; o += (int)lens[i], i++)
			memcpy(iov[i].iov_base, pat + o, lens[i]);
		r = (struct disk_req){ .op = DISK_WRITE, .offset = 8192 * (e + 1), .iov = iov,
				       .iovcnt = 5 };
		run_batch(&d, &rp, 1);
		ck_assert_int_eq(r.result, 8192);
		ck_assert_ptr_null(r.bounce);
		/* prove it needed the bounce: O_DIRECT itself refuses these iovecs (on data;
		 * a hole reads without alignment checks) */
		if (d.mem_align > 1) {
			ck_assert_int_eq(preadv(d.fd, iov, 5, 8192 * (e + 1)), -1);
			ck_assert_int_eq(errno, EINVAL);
		}
		for (int i = 0; i < 5; i++)
			memset(iov[i].iov_base, 0, lens[i]);
		r = (struct disk_req){ .op = DISK_READ, .offset = 8192 * (e + 1), .iov = iov,
				       .iovcnt = 5 };
		run_batch(&d, &rp, 1);
		ck_assert_int_eq(r.result, 8192);
		for (int i = 0, o = 0; i < 5; o += (int)lens[i], i++)
			ck_assert(!memcmp(iov[i].iov_base, pat + o, lens[i]));
		file = slurp(path, MIB);
		ck_assert(!memcmp(file + 8192 * (e + 1), pat, 8192));
		free(file);

		/* an offset/length O_DIRECT cannot take goes through the buffered fd */
		ck_assert_int_eq(one(&d, DISK_WRITE, 100000 + e, pat + 1, 777), 777);
		memset(pool, 0, 1024);
		ck_assert_int_eq(one(&d, DISK_READ, 100000 + e, pool + 5, 777), 777);
		ck_assert(!memcmp(pool + 5, pat + 1, 777));
		/* and the O_DIRECT side sees it (coherent) */
		ck_assert_int_eq(one(&d, DISK_READ, 98304, pool + 4096, 8192), 8192);
		ck_assert(!memcmp(pool + 4096 + 100000 + e - 98304, pat + 1, 777));
		file = slurp(path, MIB);
		ck_assert(!memcmp(file + 100000 + e, pat + 1, 777));
		free(file);
		ck_assert_uint_eq(d.errors, 0);
		disk__close(&d);
	}
	free(pat);
	free(pool);
}
END_TEST

/* The same random sequence through every engine x cache mode: identical files and reads,
 * equal to a model. Requests within a batch never overlap (their order is the engine's). */
static void random_run(const char *path, uint64_t size, enum disk_engine e, enum disk_cache c,
		       uint8_t *model, uint32_t seed)
{
	enum { BATCH = 32, STEPS = 400, MAXSEC = 48 };
	uint64_t nsec = size / 512;
	uint8_t *pool = aligned(BATCH * (MAXSEC * 512 + 4 * 64 + 4096));
	uint8_t *touched = calloc(nsec, 1), *file;
	struct disk_req reqs[BATCH], *rp[BATCH];
	struct iovec iov[BATCH][4];
	struct disk d;
	int steps = 0;

	ck_assert_ptr_nonnull(touched);
	rnd_state = seed;
	open_ok(&d, path, e, c, false);
	while (steps < STEPS) {
		unsigned n = 0, want = 1 + rnd() % BATCH;
		uint8_t *p = pool;

		memset(touched, 0, nsec);
		while (n < want) {
			struct disk_req *r = &reqs[n];
			uint32_t k = rnd() % 100, secs = 1 + rnd() % MAXSEC;
			uint64_t sec = rnd() % (nsec - secs), bytes = secs * 512ULL, left = bytes;
			bool clash = false;

			for (uint64_t s = sec; s < sec + secs; s++)
				clash |= touched[s];
			if (clash)
				break;
			memset(touched + sec, 1, secs);
			*r = (struct disk_req){ .offset = sec * 512, .len = bytes };
			r->op = k < 55 ? DISK_WRITE : k < 85 ? DISK_READ : k < 92 ? DISK_WRITE_ZEROES :
				k < 97 ? (d.discard ? DISK_DISCARD : DISK_WRITE_ZEROES) : DISK_FLUSH;
			if (r->op == DISK_READ || r->op == DISK_WRITE) {
				unsigned segs = 1 + rnd() % 4;

				p += rnd() % 2 ? 0 : 1 + rnd() % 63;	/* sometimes misaligned */
				for (unsigned i = 0; i < segs; i++) {
					/* sector multiples, or any length (even 0) */
					uint64_t l = rnd() % 2 ? 512 * (rnd() % (left / 512 + 1)) :
						rnd() % (left + 1);

					if (i + 1 == segs)
						l = left;
					iov[n][i] = (struct iovec){ p, l };
					p += l;
					left -= l;
				}
				r->iov = iov[n];
				r->iovcnt = (int)segs;
				if (r->op == DISK_WRITE)
					fill(iov[n][0].iov_base, bytes, rnd());	/* contiguous in pool */
			}
			rp[n++] = r;
			steps++;
		}
		if (!n)
			continue;
		run_batch(&d, rp, n);
		for (unsigned i = 0; i < n; i++) {
			struct disk_req *r = rp[i];
			uint8_t *data = r->iovcnt ? r->iov[0].iov_base : NULL;

			ck_assert_int_eq(r->result, r->op == DISK_FLUSH ? 0 : (int64_t)r->len);
			if (r->op == DISK_WRITE)
				memcpy(model + r->offset, data, r->len);
			else if (r->op == DISK_DISCARD || r->op == DISK_WRITE_ZEROES)
				memset(model + r->offset, 0, r->len);
			else if (r->op == DISK_READ)
				ck_assert_msg(!memcmp(model + r->offset, data, r->len),
					      "read at %llu differs", (unsigned long long)r->offset);
		}
	}
	ck_assert_uint_eq(d.errors, 0);
	disk__close(&d);
	file = slurp(path, size);
	ck_assert_msg(!memcmp(file, model, size), "file differs from the model");
	free(file);
	free(touched);
	free(pool);
}

/* cache=none with buffers O_DIRECT cannot take, more of them at once than the bounce budget:
 * no more than DISK_BOUNCE_BUDGET is ever allocated, the rest go through the page cache, and
 * every byte is right either way (a guest cannot make kvmini allocate past the budget). */
START_TEST(bounce_budget_bounds_memory)
{
	enum { N = 24 };
	const uint64_t sz = MIB;
	char path[300];
	uint8_t *file = aligned(N * sz), *pool = aligned(N * (sz + 64));

	if (skip_direct(DISK_CACHE_NONE))
		return;
	mkfile(path, sizeof(path), N * sz);
	fill(file, N * sz, 77);
	int fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, file, N * sz, 0), (ssize_t)(N * sz));
	close(fd);
	for (unsigned e = 0; e < 2; e++) {
		struct disk d;
		struct disk_req reqs[N], *rp[N];
		struct iovec iov[N];

		open_ok(&d, path, engines[e], DISK_CACHE_NONE, false);
		memset(pool, 0, N * (sz + 64));
		for (unsigned i = 0; i < N; i++) {
			iov[i] = (struct iovec){ pool + i * (sz + 64) + 1, sz };	/* odd: bounced */
			reqs[i] = (struct disk_req){ .op = DISK_READ, .offset = i * sz, .iov = &iov[i],
						     .iovcnt = 1 };
			rp[i] = &reqs[i];
		}
		run_batch(&d, rp, N);
		for (unsigned i = 0; i < N; i++) {
			ck_assert_int_eq(reqs[i].result, (int64_t)sz);
			ck_assert_msg(!memcmp(iov[i].iov_base, file + i * sz, sz), "engine %u: request %u", e, i);
		}
		ck_assert_msg(d.bounce_peak > 0 && d.bounce_peak <= DISK_BOUNCE_BUDGET,
			      "engine %u: bounce peak %llu", e, (unsigned long long)d.bounce_peak);
		ck_assert_uint_ge(d.bounce_overflows, N - DISK_BOUNCE_BUDGET / sz);
		ck_assert_uint_eq(d.bounce_bytes, 0);
		disk__close(&d);
	}
	free(file);
	free(pool);
}
END_TEST

START_TEST(engines_byte_identical)
{
	const uint64_t size = 4 * MIB;
	uint8_t *models[4], *files[4];
	char paths[4][300];
	int runs = 0;

	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++) {
			if (skip_direct(caches[c]))
				continue;
			mkfile(paths[runs], sizeof(paths[runs]), size);
			models[runs] = calloc(size, 1);
			ck_assert_ptr_nonnull(models[runs]);
			random_run(paths[runs], size, engines[e], caches[c], models[runs], 0xdecaf);
			files[runs] = slurp(paths[runs], size);
			runs++;
		}
	for (int i = 1; i < runs; i++) {
		ck_assert(!memcmp(models[0], models[i], size));
		ck_assert(!memcmp(files[0], files[i], size));
	}
	for (int i = 0; i < runs; i++) {
		free(models[i]);
		free(files[i]);
	}
}
END_TEST

/* 1000 requests in one submit: more than the SQ (256) and the CQ (512) hold */
START_TEST(batch_larger_than_ring)
{
	enum { N = 1000, SZ = 4096 };
	static struct disk_req reqs[N];
	static struct disk_req *rp[N], *done[N];
	static struct iovec iov[N];
	char path[300];
	uint8_t *buf = aligned((size_t)N * SZ), *file;
	struct disk d;

	mkfile(path, sizeof(path), (uint64_t)N * SZ);
	for (unsigned c = 0; c < 2; c++) {
		unsigned got = 0;

		if (skip_direct(caches[c]))
			continue;
		fill(buf, (size_t)N * SZ, 77 + c);
		open_ok(&d, path, DISK_ENGINE_IO_URING, caches[c], false);
		for (int i = 0; i < N; i++) {
			iov[i] = (struct iovec){ buf + (size_t)i * SZ, SZ };
			reqs[i] = (struct disk_req){ .op = DISK_WRITE, .offset = (uint64_t)i * SZ,
						     .iov = &iov[i], .iovcnt = 1 };
			rp[i] = &reqs[i];
		}
		run_batch(&d, rp, N);
		for (int i = 0; i < N; i++)
			ck_assert_int_eq(reqs[i].result, SZ);
		/* read back, reaping with wait=true in small helpings */
		memset(buf, 0, (size_t)N * SZ);
		for (int i = 0; i < N; i++)
			reqs[i].op = DISK_READ;
		ck_assert_int_eq(disk__submit(&d, rp, N), N);
		ck_assert_uint_eq(disk__inflight(&d), N);
		while (got < N) {
			int k = disk__reap(&d, done + got, 7, true);

			ck_assert_int_gt(k, 0);
			ck_assert_int_le(k, 7);
			got += (unsigned)k;
			ck_assert_uint_eq(disk__inflight(&d), N - got);
		}
		ck_assert_int_eq(disk__reap(&d, done, 1, true), 0);	/* nothing in flight */
		for (int i = 0; i < N; i++)
			ck_assert_int_eq(reqs[i].result, SZ);
		file = slurp(path, (uint64_t)N * SZ);
		ck_assert(!memcmp(file, buf, (size_t)N * SZ));
		fill(file, (size_t)N * SZ, 77 + c);
		ck_assert(!memcmp(file, buf, (size_t)N * SZ));
		free(file);
		disk__close(&d);
	}
	free(buf);
}
END_TEST

/* reaping fewer than are done keeps the completion fd readable until all are reaped */
START_TEST(reap_in_helpings)
{
	enum { N = 10 };
	struct disk_req reqs[N], *rp[N], *done[N];
	uint8_t *buf = aligned(N * 512);
	struct iovec iov[N];
	char path[300];
	struct disk d;

	mkfile(path, sizeof(path), MIB);
	for (unsigned e = 0; e < 2; e++) {
		unsigned got = 0;

		open_ok(&d, path, engines[e], DISK_CACHE_WRITEBACK, false);
		for (int i = 0; i < N; i++) {
			iov[i] = (struct iovec){ buf + i * 512, 512 };
			reqs[i] = (struct disk_req){ .op = DISK_READ, .offset = (uint64_t)i * 4096,
						     .iov = &iov[i], .iovcnt = 1 };
			rp[i] = &reqs[i];
		}
		ck_assert_int_eq(disk__submit(&d, rp, N), N);
		while (got < N) {
			struct pollfd p = { .fd = disk__completion_fd(&d), .events = POLLIN };
			int k;

			ck_assert_int_eq(poll(&p, 1, 20000), 1);
			k = disk__reap(&d, done + got, 3, false);
			ck_assert_int_ge(k, 0);
			ck_assert_int_le(k, 3);
			got += (unsigned)k;
		}
		ck_assert_uint_eq(disk__inflight(&d), 0);
		if (engines[e] == DISK_ENGINE_SYNC) {	/* io_uring may leave a spurious one */
			struct pollfd p = { .fd = disk__completion_fd(&d), .events = POLLIN };

			ck_assert_int_eq(poll(&p, 1, 0), 0);
		}
		disk__close(&d);
	}
	free(buf);
}
END_TEST

/* The sync engine: a lone request on an idle context completes inside submit (no worker) */
START_TEST(sync_lone_request_inline)
{
	uint8_t *buf = aligned(4096);
	struct iovec v = { buf, 4096 };
	struct disk_req r = { .op = DISK_READ, .offset = 8192, .iov = &v, .iovcnt = 1 }, *rp = &r;
	struct disk_req *done[2];
	char path[300];
	struct disk d;

	mkfile(path, sizeof(path), MIB);
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);
	for (int i = 0; i < 3; i++) {
		struct pollfd p = { .fd = disk__completion_fd(&d), .events = POLLIN };

		ck_assert_int_eq(disk__submit(&d, &rp, 1), 1);
		ck_assert_int_eq(poll(&p, 1, 0), 1);	/* done already: nothing to wait for */
		ck_assert_int_eq(disk__reap(&d, done, 2, false), 1);
		ck_assert_ptr_eq(done[0], &r);
		ck_assert_int_eq(r.result, 4096);
		ck_assert_int_eq(poll(&p, 1, 0), 0);	/* and the fd is quiet again */
	}
	ck_assert_uint_eq(disk_sync__peak(&d), 0);	/* no worker ever ran one */
	disk__close(&d);
	free(buf);
}
END_TEST

struct submit_arg { struct disk *d; struct disk_req **rp; int n, rc, done, hold; };

/* Submits, says so (a byte on done: the engine is the caller's again), then stays until told
 * (a byte on hold): io_uring cancels the requests a thread handed to its workers when that
 * thread exits, as kvmini's I/O threads never do early */
static void *submit_thread(void *arg)
{
	struct submit_arg *a = arg;
	char c;

	a->rc = disk__submit(a->d, a->rp, a->n);
	if (write(a->done, "s", 1) != 1)
		abort();
	while (read(a->hold, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A batch of N reads of sz bytes from the page cache into pages that are not there yet
 * (userfaultfd) must block `expect` threads at once, each faulting on its request's first
 * page, and no more (copy_workers: the engine's limit, 0 for none). An engine that copied one
 * request at a time (or, io_uring, inline in io_uring_enter) shows one fault and waits for it
 * forever. The submit runs on its own thread, so a blocking one fails the test by the poll
 * timeout instead of hanging it. */
/* why this process cannot use userfaultfd (unprivileged_userfaultfd=0 and no
 * CAP_SYS_PTRACE, a seccomp profile...), or NULL */
static const char *no_userfaultfd(void)
{
	static char why[120];
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd >= 0 && !ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		return NULL;
	}
	snprintf(why, sizeof(why), "no userfaultfd here: %s", strerror(errno));
	if (uffd >= 0)
		close(uffd);
	return why;
}

static void batch_runs_in_parallel(enum disk_engine engine, size_t sz, unsigned copy_workers,
				   unsigned expect)
{
	enum { N = 4 };	/* the sync pool's size (devices/disk/disk_sync.c) */
	struct uffdio_api api = { .api = UFFD_API };
	struct disk_req reqs[N], *rp[N], *done[N];
	struct iovec iov[N];
	uint8_t *src = aligned(N * sz), *dst;
	bool seen[N] = { false };
	char path[300];
	struct disk d;
	int uffd, fd;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	ck_assert_msg(uffd >= 0 && !ioctl(uffd, UFFDIO_API, &api), "userfaultfd: %s",
		      strerror(errno));	/* the tests asked no_userfaultfd first */
	dst = mmap(NULL, N * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(dst, MAP_FAILED);
	struct uffdio_register reg = {
		.range = { (uintptr_t)dst, (uint64_t)(N * sz) },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	ck_assert_int_eq(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	mkfile(path, sizeof(path), MIB);
	fill(src, N * sz, 4242);
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, src, N * sz, 0), (ssize_t)(N * sz));
	close(fd);
	open_workers_ok(&d, path, engine, DISK_CACHE_WRITEBACK, false, copy_workers);
	for (int i = 0; i < N; i++) {
		iov[i] = (struct iovec){ dst + (size_t)i * sz, sz };
		reqs[i] = (struct disk_req){ .op = DISK_READ, .offset = (uint64_t)i * sz,
					     .iov = &iov[i], .iovcnt = 1 };
		rp[i] = &reqs[i];
	}
	int hold[2], subm[2];
	ck_assert_int_eq(pipe(hold), 0);
	ck_assert_int_eq(pipe(subm), 0);
	struct submit_arg sa = { .d = &d, .rp = rp, .n = N, .rc = -1, .done = subm[1],
				 .hold = hold[0] };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, submit_thread, &sa), 0);
	/* `expect` requests fault on their first page while none of them is answered; with a
	 * limit below N, no other one starts in the next half second */
	for (unsigned got = 0; got < N;) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg m;
		int pr = poll(&p, 1, got < expect ? 10000 : 500);

		if (got == expect && pr == 0)
			break;
		ck_assert_msg(pr == 1, "only %u of %d requests running at once", got, N);
		ck_assert_msg(got < expect, "%u requests running at once, with copy_workers=%u",
			      got + 1, copy_workers);
		if (read(uffd, &m, sizeof(m)) != sizeof(m))
			continue;
		ck_assert_int_eq(m.event, UFFD_EVENT_PAGEFAULT);
		uint64_t off = m.arg.pagefault.address - (uintptr_t)dst, k = off / sz;
		ck_assert_uint_lt(k, N);
		ck_assert_uint_eq(off % sz, 0);
		ck_assert(!seen[k]);
		seen[k] = true;
		got++;
	}
	struct pollfd ps = { .fd = subm[0], .events = POLLIN };
	char c;
	ck_assert_msg(poll(&ps, 1, 10000) == 1, "disk__submit blocked on the requests' faults");
	ck_assert_int_eq(read(subm[0], &c, 1), 1);
	ck_assert_int_eq(sa.rc, N);
	if (engine == DISK_ENGINE_SYNC)
		ck_assert_uint_eq(disk_sync__peak(&d), expect);
	/* now let them go on */
	struct uffdio_zeropage z = { .range = { (uintptr_t)dst, (uint64_t)(N * sz) } };
	ck_assert_int_eq(ioctl(uffd, UFFDIO_ZEROPAGE, &z), 0);
	for (int got = 0; got < N;) {
		int k = disk__reap(&d, done, N, true);

		ck_assert_int_gt(k, 0);
		got += k;
	}
	ck_assert_int_eq(write(hold[1], "x", 1), 1);
	pthread_join(t, NULL);
	for (int i = 0; i < 2; i++) {
		close(hold[i]);
		close(subm[i]);
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(reqs[i].result, (int64_t)sz);
	ck_assert(!memcmp(dst, src, N * sz));
	disk__close(&d);
	munmap(dst, N * sz);
	close(uffd);
	free(src);
}

/* the sync engine's pool: four workers, each in its own preadv */
START_TEST(sync_batch_runs_in_parallel)
{
	const char *why = no_userfaultfd();
	if (why)
		ck_skip("%s", why);
	batch_runs_in_parallel(DISK_ENGINE_SYNC, (size_t)sysconf(_SC_PAGESIZE), 0, 4);
}
END_TEST

/* why this process cannot use io_uring, or NULL */
static const char *no_uring(void)
{
	return disk_uring__probe(NULL, 0) ? "io_uring is not available to this process" : NULL;
}

/* io_uring: large buffered requests go to io_uring's workers (IOSQE_ASYNC), side by side,
 * instead of being copied one after another inside io_uring_enter */
START_TEST(uring_large_buffered_batch_runs_in_parallel)
{
	const char *why = no_uring() ? no_uring() : no_userfaultfd();
	if (why)
		ck_skip("%s", why);
	batch_runs_in_parallel(DISK_ENGINE_IO_URING, 64u << 10, 0, 4);
}
END_TEST

/* ... and no more of them at once than copy_workers allows (io_uring's worker limit, 5.15+) */
START_TEST(uring_copy_workers_limit_parallel_copies)
{
	const char *why = no_uring() ? no_uring() : no_userfaultfd();
	if (why)
		ck_skip("%s", why);
	batch_runs_in_parallel(DISK_ENGINE_IO_URING, 64u << 10, 1, 1);
	batch_runs_in_parallel(DISK_ENGINE_IO_URING, 64u << 10, 2, 2);
}
END_TEST

/* the CPUs the vCPUs leave free, shared among the contexts, never 0 */
START_TEST(copy_workers_policy)
{
	ck_assert_uint_eq(disk__copy_workers(2, 1, 1), 1);
	ck_assert_uint_eq(disk__copy_workers(16, 4, 1), 12);
	ck_assert_uint_eq(disk__copy_workers(16, 4, 4), 3);
	ck_assert_uint_eq(disk__copy_workers(16, 4, 5), 2);
	ck_assert_uint_eq(disk__copy_workers(4, 4, 1), 1);
	ck_assert_uint_eq(disk__copy_workers(2, 8, 2), 1);	/* more vCPUs than CPUs */
	ck_assert_uint_eq(disk__copy_workers(8, 1, 0), 7);	/* 0 contexts reads as 1 */
}
END_TEST

/* The device's steady state: QD32, each completion resubmitted at once, one request per
 * submit (as kicks arrive), the completion eventfd read before reaping (as blk_thread does);
 * a lost wake-up shows as a poll timeout */
START_TEST(steady_state_pipeline)
{
	enum { QD = 32, SZ = 4096, TOTAL = 6000 };
	struct disk_req reqs[QD], *rp, *done[QD];
	struct iovec iov[QD];
	uint8_t *buf = aligned((size_t)QD * SZ);
	char path[300];
	struct disk d;

	mkfile(path, sizeof(path), 4 * MIB);
	for (unsigned e = 0; e < 2; e++) {
		unsigned completed = 0, submitted = 0;

		open_ok(&d, path, engines[e], DISK_CACHE_WRITEBACK, false);
		for (int i = 0; i < QD; i++) {
			iov[i] = (struct iovec){ buf + (size_t)i * SZ, SZ };
			reqs[i] = (struct disk_req){ .op = i % 3 ? DISK_READ : DISK_WRITE,
						     .offset = (uint64_t)(rnd() % 1024) * SZ,
						     .iov = &iov[i], .iovcnt = 1 };
			rp = &reqs[i];
			ck_assert_int_eq(disk__submit(&d, &rp, 1), 1);
			submitted++;
		}
		while (completed < TOTAL) {
			struct pollfd p = { .fd = disk__completion_fd(&d), .events = POLLIN };
			uint64_t v;
			int k;

			ck_assert_msg(poll(&p, 1, 20000) == 1, "%s: no completion signalled with %u in "
				      "flight", e ? "io_uring" : "sync", disk__inflight(&d));
			(void)!read(p.fd, &v, sizeof(v));
			while ((k = disk__reap(&d, done, QD, false)) > 0) {
				for (int i = 0; i < k; i++) {
					ck_assert_int_eq(done[i]->result, SZ);
					completed++;
					if (submitted < TOTAL) {
						done[i]->offset = (uint64_t)(rnd() % 1024) * SZ;
						ck_assert_int_eq(disk__submit(&d, &done[i], 1), 1);
						submitted++;
					}
				}
			}
			ck_assert_int_ge(k, 0);
		}
		ck_assert_uint_eq(disk__inflight(&d), 0);
		disk__close(&d);
	}
	free(buf);
}
END_TEST

/* Closing with requests still queued on the workers: they land, nothing hangs or leaks
 * (cache=none: from memory O_DIRECT cannot take, so each carries a bounce buffer) */
START_TEST(sync_close_with_requests_queued)
{
	enum { N = 48, SZ = 64 << 10 };
	static struct disk_req reqs[N];
	struct disk_req *rp[N];
	struct iovec iov[N];
	uint8_t *buf = aligned((size_t)N * SZ + 4096), *file;
	char path[300];
	struct disk d;

	mkfile(path, sizeof(path), (uint64_t)N * SZ);
	for (unsigned c = 0; c < 2; c++) {
		uint8_t *src = buf + c;

		if (skip_direct(caches[c]))
			continue;
		open_ok(&d, path, DISK_ENGINE_SYNC, caches[c], false);
		fill(src, (size_t)N * SZ, 31 + c);
		for (int i = 0; i < N; i++) {
			iov[i] = (struct iovec){ src + (size_t)i * SZ, SZ };
			reqs[i] = (struct disk_req){ .op = DISK_WRITE, .offset = (uint64_t)i * SZ,
						     .iov = &iov[i], .iovcnt = 1 };
			rp[i] = &reqs[i];
		}
		ck_assert_int_eq(disk__submit(&d, rp, N), N);
		ck_assert_uint_eq(disk__inflight(&d), N);
		disk__close(&d);	/* no reap */
		file = slurp(path, (uint64_t)N * SZ);
		ck_assert_msg(!memcmp(file, src, (size_t)N * SZ), "queued writes were lost");
		free(file);
	}
	free(buf);
}
END_TEST

START_TEST(flush_ok)
{
	uint8_t *buf = aligned(4096);
	char path[300];
	struct disk d;

	memset(buf, 0x42, 4096);
	mkfile(path, sizeof(path), MIB);
	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++) {
			if (skip_direct(caches[c]))
				continue;
			open_ok(&d, path, engines[e], caches[c], false);
			ck_assert_int_eq(one(&d, DISK_WRITE, 4096, buf, 4096), 4096);
			ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
			disk__close(&d);
			open_ok(&d, path, engines[e], caches[c], true);
			ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
			ck_assert_uint_eq(d.errors, 0);
			disk__close(&d);
		}
	free(buf);
}
END_TEST

static uint64_t blocks_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* DISCARD (or WRITE_ZEROES) of [1 MiB, 2.5 MiB) in a 4 MiB disk full of data */
static void zap(const char *path, const char *blocks_path, enum disk_engine e,
		enum disk_cache c, enum disk_op op)
{
	const uint64_t size = 4 * MIB, off = MIB, len = 3 * MIB / 2;
	uint8_t *buf = aligned(size);
	uint64_t before, after;
	struct disk d;

	open_ok(&d, path, e, c, false);
	fill(buf, size, 9);
	ck_assert_int_eq(one(&d, DISK_WRITE, 0, buf, size), (int64_t)size);
	ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
	before = blocks_of(blocks_path);
	ck_assert_int_eq(one(&d, op, off, NULL, len), (int64_t)len);
	ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
	after = blocks_of(blocks_path);
	if (op == DISK_DISCARD)
		ck_assert_msg(after + len / 512 / 2 <= before, "st_blocks %llu -> %llu",
			      (unsigned long long)before, (unsigned long long)after);
	memset(buf, 0xee, size);
	ck_assert_int_eq(one(&d, DISK_READ, 0, buf, size), (int64_t)size);
	ck_assert(all_zero(buf + off, len));
	{
		uint8_t *want = malloc(size);

		ck_assert_ptr_nonnull(want);
		fill(want, size, 9);
		ck_assert(!memcmp(buf, want, off));
		ck_assert(!memcmp(buf + off + len, want + off + len, size - off - len));
		free(want);
	}
	ck_assert_uint_eq(d.errors, 0);
	disk__close(&d);
	free(buf);
}

START_TEST(discard_punches_hole)
{
	char path[300];

	mkfile(path, sizeof(path), 4 * MIB);
	if (!punches(path))
		ck_skip("the file system under %s cannot punch holes", tdir);
	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++)
			if (!skip_direct(caches[c]))
				zap(path, path, engines[e], caches[c], DISK_DISCARD);
}
END_TEST

START_TEST(write_zeroes_zeroes)
{
	char path[300], shm[300];
	struct statfs sf;
	int fd;

	mkfile(path, sizeof(path), 4 * MIB);
	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++)
			if (!skip_direct(caches[c]))
				zap(path, path, engines[e], caches[c], DISK_WRITE_ZEROES);
	/* tmpfs has no FALLOC_FL_ZERO_RANGE: the write-zeros fallback */
	if (!shmdir[0] || statfs(shmdir, &sf) || sf.f_type != TMPFS_MAGIC) {
		ck_skip_part("tmpfs fallback", "no tmpfs /dev/shm");
		return;
	}
	mkfile_in(shmdir, shm, sizeof(shm), 4 * MIB);
	fd = open(shm, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096), -1);	/* really */
	ck_assert_int_eq(errno, EOPNOTSUPP);
	close(fd);
	for (unsigned e = 0; e < 2; e++)
		zap(shm, shm, engines[e], DISK_CACHE_WRITEBACK, DISK_WRITE_ZEROES);
}
END_TEST

/* A whole-disk WRITE_ZEROES that has to write its zeroes (tmpfs has no FALLOC_FL_ZERO_RANGE)
 * runs on the discard thread: a 4 KiB read submitted after it completes first, on both
 * engines. Then a reset's cancel: a second one stops at its next chunk with -ECANCELED,
 * long before the disk is written. */
START_TEST(zeroes_off_the_queue_thread)
{
	const uint64_t size = 1024 * MIB;
	char shm[300];
	struct statfs sf;

	if (!shmdir[0] || statfs(shmdir, &sf) || sf.f_type != TMPFS_MAGIC)
		ck_skip("no tmpfs /dev/shm (writing zeroes needs a file system without ZERO_RANGE)");
	mkfile_in(shmdir, shm, sizeof(shm), size);
	for (unsigned e = 0; e < 2; e++) {
		struct disk d;
		uint8_t *buf = aligned(4096);
		struct iovec v = { .iov_base = buf, .iov_len = 4096 };
		struct disk_req wz = { .op = DISK_WRITE_ZEROES, .offset = 0, .len = size / 4 };
		struct disk_req rd = { .op = DISK_READ, .offset = size - 4096, .iov = &v, .iovcnt = 1 };
		struct disk_req *p, *done[2];
		int got = 0;

		open_ok(&d, shm, engines[e], DISK_CACHE_WRITEBACK, false);
		p = &wz;
		ck_assert_int_eq(disk__submit(&d, &p, 1), 1);
		p = &rd;
		ck_assert_int_eq(disk__submit(&d, &p, 1), 1);
		while (got < 2) {
			int k = disk__reap(&d, done + got, 2 - got, true);
			ck_assert_int_ge(k, 0);
			got += k;
		}
		ck_assert_msg(done[0] == &rd, "engine %u: the read waited for the write-zeroes", e);
		ck_assert_int_eq(rd.result, 4096);
		ck_assert_int_eq(wz.result, (int64_t)(size / 4));

		/* the whole disk, cancelled as a reset does: back in far less than it takes */
		struct timespec t0, t1;
		wz = (struct disk_req){ .op = DISK_WRITE_ZEROES, .offset = 0, .len = size };
		p = &wz;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(disk__submit(&d, &p, 1), 1);
		usleep(20000);
		disk__cancel_slow(&d);
		ck_assert_int_eq(disk__reap(&d, done, 1, true), 1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		ck_assert_int_eq(wz.result, -ECANCELED);
		ck_assert_msg(ms < 2000, "engine %u: a cancelled whole-disk write-zeroes took %.0f ms", e, ms);
		ck_assert_uint_eq(disk__inflight(&d), 0);
		/* the cancel was for what was in flight then: the next one runs (a queue's context
		 * lives on across device resets) */
		wz = (struct disk_req){ .op = DISK_WRITE_ZEROES, .offset = 0, .len = MIB };
		p = &wz;
		ck_assert_int_eq(disk__submit(&d, &p, 1), 1);
		ck_assert_int_eq(disk__reap(&d, done, 1, true), 1);
		ck_assert_int_eq(wz.result, (int64_t)MIB);
		disk__close(&d);
		free(buf);
	}
	unlink(shm);
}
END_TEST

START_TEST(beyond_end_is_error)
{
	char path[300];
	uint8_t *buf = aligned(8192), *file;
	struct disk d;

	mkfile(path, sizeof(path), MIB);
	for (unsigned e = 0; e < 2; e++) {
		open_ok(&d, path, engines[e], DISK_CACHE_WRITEBACK, false);
		ck_assert_int_eq(one(&d, DISK_READ, MIB - 512, buf, 1024), -EIO);
		ck_assert_int_eq(one(&d, DISK_READ, MIB, buf, 512), -EIO);
		ck_assert_int_eq(one(&d, DISK_READ, UINT64_MAX - 511, buf, 1024), -EIO);
		ck_assert_int_eq(one(&d, DISK_WRITE, MIB - 512, buf, 1024), -EIO);
		ck_assert_int_eq(one(&d, DISK_DISCARD, MIB, NULL, 512), -EIO);
		ck_assert_int_eq(one(&d, DISK_WRITE_ZEROES, 0, NULL, MIB + 1), -EIO);
		ck_assert_uint_eq(d.errors, 6);
		ck_assert_int_eq(one(&d, DISK_READ, MIB - 512, buf, 512), 512);	/* the last is ok */
		ck_assert_uint_eq(d.errors, 6);
		ck_assert_int_eq(one(&d, DISK_READ, 0, buf, 0), 0);
		/* the file shrinks under us: a read of what was there comes back -EIO */
		ck_assert_int_eq(truncate(path, MIB / 2), 0);
		ck_assert_int_eq(one(&d, DISK_READ, MIB - 8192, buf, 8192), -EIO);
		ck_assert_uint_eq(d.errors, 7);
		{	/* straddling the new end: a short read, then nothing: -EIO, not success */
			struct iovec v[2] = { { buf, 1000 }, { buf + 1000, 8192 - 1000 } };
			struct disk_req r = { .op = DISK_READ, .offset = MIB / 2 - 4096, .iov = v,
					      .iovcnt = 2 }, *rp = &r;

			run_batch(&d, &rp, 1);
			ck_assert_int_eq(r.result, -EIO);
			ck_assert_ptr_null(r.resid_iov);
		}
		ck_assert_uint_eq(d.errors, 8);
		ck_assert_int_eq(truncate(path, MIB), 0);
		disk__close(&d);
	}
	file = slurp(path, MIB);	/* the refused write did not grow or touch the file */
	ck_assert(all_zero(file, MIB));
	free(file);
	free(buf);
	{
		struct stat st;

		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, (off_t)MIB);
	}
}
END_TEST

/* a full filesystem: the write fails with -ENOSPC (after a short write), the disk goes on */
START_TEST(enospc_is_request_error)
{
	const uint64_t len = 512 * 1024;
	char mnt[300], path[320];
	uint8_t *buf = aligned(len);
	struct disk d;

	snprintf(mnt, sizeof(mnt), "%s/small", tdir);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k")) {
		int e = errno;
		free(buf);
		ck_skip("cannot mount a small tmpfs: %s", strerror(e));
	}
	mkfile_in(mnt, path, sizeof(path), 4 * MIB);
	fill(buf, len, 11);
	for (unsigned e = 0; e < 2; e++) {
		open_ok(&d, path, engines[e], DISK_CACHE_WRITEBACK, false);
		ck_assert_int_eq(one(&d, DISK_WRITE, MIB * (e + 1), buf, len), -ENOSPC);
		ck_assert_uint_eq(d.errors, 1);
		ck_assert_int_eq(one(&d, DISK_READ, 0, buf, 4096), 4096);
		ck_assert_int_eq(one(&d, DISK_FLUSH, 0, NULL, 0), 0);
		ck_assert_uint_eq(d.errors, 1);
		disk__close(&d);
		ck_assert_int_eq(truncate(path, 0), 0);	/* room for the next engine */
		ck_assert_int_eq(truncate(path, 4 * MIB), 0);
	}
	unlink(path);
	ck_assert_int_eq(umount2(mnt, 0), 0);
	free(buf);
}
END_TEST

/* io_uring blocked the way seccomp does it: falls back to sync, says so, works */
START_TEST(uring_fallback_to_sync)
{
#if defined(__x86_64__) && defined(__NR_io_uring_setup)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	struct disk_opts o = { .engine = DISK_ENGINE_IO_URING };
	char path[300], err[256] = "", note[256] = "";
	const char *fork_env = getenv("CK_FORK");
	uint8_t *buf;
	struct disk d;

	if (fork_env && !strcmp(fork_env, "no"))
		ck_skip("CK_FORK=no: the seccomp filter it installs could not be undone");
	buf = aligned(4096);
	mkfile(path, sizeof(path), MIB);
	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	o.path = path;
	ck_assert_int_eq(disk__open(&d, &o, err, sizeof(err), note, sizeof(note)), 0);
	ck_assert_int_eq(d.engine, DISK_ENGINE_SYNC);
	ck_assert_msg(strstr(note, "io_uring unavailable (") &&
		      strstr(note, "Function not implemented") &&
		      strstr(note, "): using the sync engine"), "note: %s", note);
	fill(buf, 4096, 3);
	ck_assert_int_eq(one(&d, DISK_WRITE, 4096, buf, 4096), 4096);
	memset(buf, 0, 4096);
	ck_assert_int_eq(one(&d, DISK_READ, 4096, buf, 4096), 4096);
	{
		uint8_t want[4096];

		fill(want, 4096, 3);
		ck_assert(!memcmp(buf, want, 4096));
	}
	disk__close(&d);
	free(buf);
#else
	ck_skip("its seccomp filter (io_uring blocked) is written for x86-64");
#endif
}
END_TEST

/* ---- block devices (loop) ---- */

static bool have_tool(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* why loop devices cannot be made here, or NULL */
static const char *no_loop(void)
{
	if (geteuid() != 0)
		return "loop devices need root";
	if (access("/dev/loop-control", F_OK))
		return "no /dev/loop-control (no loop driver)";
	return NULL;
}

/* A free loop device over file (sector: its logical block size, 0 for 512), set up with the
 * kernel's own ioctls (LOOP_CTL_GET_FREE, LOOP_CONFIGURE) rather than util-linux's losetup,
 * so the tests run where only busybox is (the arm64 L1). False, with why in dev, if the kernel
 * will not give one. */
static bool loop_attach(const char *file, unsigned sector, char *dev, size_t len)
{
	struct loop_config cfg = { .block_size = sector };
	int ctl, n = -1, lfd = -1, ffd, rc = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	ffd = open(file, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(ffd, 0);
	cfg.fd = (uint32_t)ffd;
	for (int tries = 0; ctl >= 0 && rc < 0 && tries < 20; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(dev, len, "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		rc = lfd < 0 ? -1 : ioctl(lfd, LOOP_CONFIGURE, &cfg);
		if (rc < 0 && lfd >= 0 && errno != EBUSY)	/* EBUSY: another took it first */
			break;
		if (rc < 0 && lfd >= 0)
			close(lfd);
		if (rc < 0)
			usleep(50000);	/* devtmpfs may not have the node yet */
	}
	if (rc < 0)
		snprintf(dev, len, "no loop device over %s: %s", file, strerror(errno));
	if (lfd >= 0)
		close(lfd);	/* the binding stays until LOOP_CLR_FD */
	if (ctl >= 0)
		close(ctl);
	close(ffd);
	return rc == 0;
}

static void loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ioctl(fd, LOOP_CLR_FD, 0), 0);
	close(fd);
}

/* udev may hold a shared flock for a moment after a loop device appears */
static void open_dev(struct disk *d, const char *dev, enum disk_engine e, enum disk_cache c,
		     bool force)
{
	struct disk_opts o = { .path = dev, .cache = c, .engine = e, .force = force };
	char err[256] = "";

	for (int tries = 0; disk__open(d, &o, err, sizeof(err), NULL, 0); tries++) {
		ck_assert_msg(strstr(err, "in use by another process") && tries < 50, "%s", err);
		usleep(100000);
	}
	ck_assert(d->is_blockdev);
	ck_assert_int_eq(d->engine, e);
}

START_TEST(blockdev_probe_and_roundtrip)
{
	static const unsigned sectors[] = { 0, 4096 };
	char file[300], dev[64];
	struct disk d;

	const char *why = no_loop();
	if (why)
		ck_skip("%s", why);
	mkfile(file, sizeof(file), 8 * MIB);
	for (unsigned s = 0; s < 2; s++) {
		uint32_t seed = 100 + s * 10;

		if (!loop_attach(file, sectors[s], dev, sizeof(dev))) {
			ck_skip_part(sectors[s] ? "4096-byte sectors" : "512-byte sectors",
				     "losetup: %s", dev);
			continue;
		}
		open_dev(&d, dev, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);
		ck_assert_uint_eq(d.size, 8 * MIB);
		ck_assert_uint_eq(d.block_size, sectors[s] ? sectors[s] : 512);
		ck_assert(d.discard == punches(file));	/* loop punches its backing file */
		disk__close(&d);
		for (unsigned e = 0; e < 2; e++)
			for (unsigned c = 0; c < 2; c++) {
				open_dev(&d, dev, engines[e], caches[c], false);
				if (d.direct) {
					ck_assert_uint_ge(d.mem_align, 1);
					ck_assert_uint_le(d.mem_align, d.block_size);
				}
				disk__close(&d);
				roundtrip(dev, 8 * MIB, engines[e], caches[c], seed++);
			}
		/* 4096-byte sectors, cache=none, a 512-byte request: the buffered fd */
		if (sectors[s]) {
			uint8_t *buf = aligned(8192), *back = aligned(8192);

			open_dev(&d, dev, DISK_ENGINE_IO_URING, DISK_CACHE_NONE, false);
			fill(buf, 512, 5);
			ck_assert_int_eq(one(&d, DISK_WRITE, 4096 + 512, buf, 512), 512);
			ck_assert_int_eq(one(&d, DISK_READ, 4096, back, 4096), 4096);
			ck_assert(!memcmp(back + 512, buf, 512));
			ck_assert_uint_eq(d.errors, 0);
			disk__close(&d);
			free(buf);
			free(back);
		}
		loop_detach(dev);
	}
}
END_TEST

/* disk__page_cache on a block device: what a buffered write left in its page cache (held
 * open: Linux drops a block device's cache when its last opener closes it) */
START_TEST(blockdev_page_cache)
{
	char file[300], dev[64];
	uint8_t *buf = aligned(MIB);
	uint64_t cached = 0;
	struct disk d;

	const char *why = no_loop();
	if (why)
		ck_skip("%s", why);
	mkfile(file, sizeof(file), 8 * MIB);
	if (!loop_attach(file, 0, dev, sizeof(dev)))
		ck_skip("losetup: %s", dev);
	open_dev(&d, dev, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);
	fill(buf, MIB, 9);
	ck_assert_int_eq(one(&d, DISK_WRITE, 2 * MIB, buf, MIB), (int64_t)MIB);
	ck_assert_int_eq(disk__page_cache(&d, &cached), 0);
	ck_assert_msg(cached >= MIB && cached <= 8 * MIB, "cached %llu", (unsigned long long)cached);
	disk__close(&d);
	loop_detach(dev);
	free(buf);
}
END_TEST

START_TEST(blockdev_mounted_refused)
{
	struct disk_opts o = { .readonly = false };
	char file[300], dev[64], mnt[300], err[256] = "";
	struct disk d;

	const char *why = no_loop();
	if (why)
		ck_skip("%s", why);
	if (!have_tool("mkfs.ext4"))
		ck_skip("no mkfs.ext4 (e2fsprogs)");
	mkfile(file, sizeof(file), 16 * MIB);
	if (!loop_attach(file, 0, dev, sizeof(dev)))
		ck_skip("losetup: %s", dev);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s >/dev/null 2>&1", dev);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	if (mount(dev, mnt, "ext4", 0, NULL)) {
		int e = errno;
		loop_detach(dev);
		ck_skip("cannot mount ext4 here: %s", strerror(e));
	}
	o.path = dev;
	ck_assert_int_eq(disk__open(&d, &o, err, sizeof(err), NULL, 0), -1);
	ck_assert_msg(strstr(err, dev) && strstr(err, "mounted") && strstr(err, "force=on"),
		      "%s", err);
	o.readonly = true;	/* read-only does not make it safe either */
	ck_assert_int_eq(disk__open(&d, &o, err, sizeof(err), NULL, 0), -1);
	ck_assert_msg(strstr(err, "mounted"), "%s", err);
	o.force = true;
	ck_assert_msg(!disk__open(&d, &o, err, sizeof(err), NULL, 0), "%s", err);
	ck_assert_uint_eq(d.size, 16 * MIB);
	disk__close(&d);
	ck_assert_int_eq(umount2(mnt, 0), 0);
	open_dev(&d, dev, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);	/* free again */
	/* while we hold it, the kernel cannot mount it */
	ck_assert_int_ne(mount(dev, mnt, "ext4", 0, NULL), 0);
	disk__close(&d);
	loop_detach(dev);
}
END_TEST

START_TEST(blockdev_discard_and_zeroes)
{
	char file[300], dev[64];

	const char *why = no_loop();
	if (why)
		ck_skip("%s", why);
	mkfile(file, sizeof(file), 4 * MIB);
	if (!loop_attach(file, 0, dev, sizeof(dev)))
		ck_skip("losetup: %s", dev);
	for (unsigned e = 0; e < 2; e++)
		for (unsigned c = 0; c < 2; c++) {
			if (punches(file))
				zap(dev, file, engines[e], caches[c], DISK_DISCARD);	/* BLKDISCARD */
			else if (!e && !c)
				ck_skip_part("discard", "the backing file cannot punch holes");
			zap(dev, file, engines[e], caches[c], DISK_WRITE_ZEROES);	/* BLKZEROOUT */
		}
	loop_detach(dev);
}
END_TEST

/* disk__page_cache: nothing of a new sparse file, then what a buffered write left in the
 * cache; an O_DIRECT write leaves none */
START_TEST(page_cache_counts_cached_bytes)
{
	char path[300];
	uint8_t *buf = aligned(MIB);
	uint64_t cached = 1;
	struct disk d;

	mkfile(path, sizeof(path), 4 * MIB);
	open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_WRITEBACK, false);
	ck_assert_int_eq(disk__page_cache(&d, &cached), 0);
	ck_assert_uint_eq(cached, 0);
	fill(buf, MIB, 7);
	ck_assert_int_eq(one(&d, DISK_WRITE, MIB, buf, MIB), (int64_t)MIB);
	ck_assert_int_eq(disk__page_cache(&d, &cached), 0);
	ck_assert_msg(cached >= MIB && cached < 2 * MIB, "cached %llu", (unsigned long long)cached);
	disk__close(&d);
	if (!skip_direct(DISK_CACHE_NONE)) {
		mkfile(path, sizeof(path), 4 * MIB);
		open_ok(&d, path, DISK_ENGINE_SYNC, DISK_CACHE_NONE, false);
		ck_assert_int_eq(one(&d, DISK_WRITE, 0, buf, MIB), (int64_t)MIB);
		ck_assert_int_eq(disk__page_cache(&d, &cached), 0);
		ck_assert_uint_eq(cached, 0);
		disk__close(&d);
	}
	free(buf);
}
END_TEST

Suite *disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("files");
	TCase *tb = tcase_create("blockdev");

	tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, open_probe_file);
	tcase_add_test(tc, rejections);
	tcase_add_test(tc, roundtrip_engines_and_caches);
	tcase_add_test(tc, bounce_unaligned_sg);
	tcase_add_test(tc, bounce_budget_bounds_memory);
	tcase_add_test(tc, engines_byte_identical);
	tcase_add_test(tc, batch_larger_than_ring);
	tcase_add_test(tc, reap_in_helpings);
	tcase_add_test(tc, sync_lone_request_inline);
	tcase_add_test(tc, sync_batch_runs_in_parallel);
	tcase_add_test(tc, uring_large_buffered_batch_runs_in_parallel);
	tcase_add_test(tc, uring_copy_workers_limit_parallel_copies);
	tcase_add_test(tc, copy_workers_policy);
	tcase_add_test(tc, sync_close_with_requests_queued);
	tcase_add_test(tc, page_cache_counts_cached_bytes);
	tcase_add_test(tc, steady_state_pipeline);
	tcase_add_test(tc, flush_ok);
	tcase_add_test(tc, discard_punches_hole);
	tcase_add_test(tc, write_zeroes_zeroes);
	tcase_add_test(tc, zeroes_off_the_queue_thread);
	tcase_add_test(tc, beyond_end_is_error);
	tcase_add_test(tc, enospc_is_request_error);
	tcase_add_test(tc, uring_fallback_to_sync);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tb, fixture_setup, fixture_teardown);
	tcase_set_timeout(tb, 120);
	tcase_add_test(tb, blockdev_probe_and_roundtrip);
	tcase_add_test(tb, blockdev_page_cache);
	tcase_add_test(tb, blockdev_mounted_refused);
	tcase_add_test(tb, blockdev_discard_and_zeroes);
	suite_add_tcase(s, tb);
	return s;
}
