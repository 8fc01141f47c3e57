/* SPDX-License-Identifier: Apache-2.0 */
/* Disk backings: open, probe and lock a file or block device; dispatch requests to an engine. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices/disk/disk.h"
#include "devices/disk/disk_engine.h"

static const struct disk_engine_ops *const disk_engines[] = {
	[DISK_ENGINE_SYNC] = &disk_sync_ops,
	[DISK_ENGINE_IO_URING] = &disk_uring_ops,
};

const struct disk_engine_ops *disk__engine_ops(enum disk_engine e)
{
	if ((unsigned)e >= sizeof(disk_engines) / sizeof(disk_engines[0]))
		return NULL;
	return disk_engines[e];
}

static const struct disk_engine_ops *disk__ops(const struct disk *d)
{
	return d->wrap ? d->wrap : disk__engine_ops(d->engine);
}

__attribute__((format(printf, 3, 4)))
static void disk__msg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- open and probe ---- */

static bool disk__same_file(const struct stat *a, const struct stat *b)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT))
		return false;
	if (S_ISBLK(a->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool disk__blk_discard(dev_t rdev)
{
	static const char *const fmts[] = {
		"/sys/dev/block/%u:%u/queue/discard_max_bytes",
		"/sys/dev/block/%u:%u/../queue/discard_max_bytes",	/* a partition */
	};
	char path[96];
	unsigned long long max = 0;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), fmts[i], major(rdev), minor(rdev));
		f = fopen(path, "re");
		if (!f)
			continue;
		ok = fscanf(f, "%llu", &max) == 1;
		fclose(f);
		if (ok)
			return max > 0;
	}
	return false;
}

/* Punching a hole past the end (KEEP_SIZE) changes nothing and tells whether the fs can. */
static bool disk__file_discard(int fd, uint64_t size)
{
	uint64_t off = (size + 4095) & ~4095ULL;

	return !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, 4096);
}

static void disk__probe_dio(struct disk *d)
{
	uint32_t mem = 0, off = 0;
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (!statx(d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		mem = stx.stx_dio_mem_align;
		off = stx.stx_dio_offset_align;
	}
#endif
	if (!d->is_blockdev && off > d->block_size && !(off & (off - 1)))
		d->block_size = off;
	d->mem_align = mem && !(mem & (mem - 1)) ? mem : d->block_size;
}

static int disk__open_err(const char *path, int e, const struct disk_opts *opts, bool blk,
			  char *err, size_t errlen)
{
	int fd;

	if (!opts->readonly && (e == EROFS || e == EACCES || e == EPERM)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			disk__msg(err, errlen, "disk %s is read-only (%s): add ro=on", path,
				  strerror(e));
			return -1;
		}
	}
	if (e == EBUSY && blk && !opts->force)
		disk__msg(err, errlen, "disk %s is mounted or in use by the kernel (%s): "
			  "refusing it (force=on overrides)", path, strerror(e));
	else if (e == EINVAL && opts->cache == DISK_CACHE_NONE)
		disk__msg(err, errlen, "disk %s: its filesystem does not support O_DIRECT "
			  "(cache=none): use cache=writeback", path);
	else
		disk__msg(err, errlen, "disk %s: %s", path, strerror(e));
	return -1;
}

/* What the user named is there and can back a disk: its stat in *st. 0, or -1 with err. */
static int disk__check_path(const struct disk_opts *opts, struct stat *st, char *err,
			    size_t errlen)
{
	if (!opts || !opts->path || !opts->path[0]) {
		disk__msg(err, errlen, "disk: no path given");
		return -1;
	}
	const char *path = opts->path;
	if (opts->cache != DISK_CACHE_WRITEBACK && opts->cache != DISK_CACHE_NONE) {
		disk__msg(err, errlen, "disk %s: unknown cache mode", path);
		return -1;
	}
	if (stat(path, st) < 0) {
		disk__msg(err, errlen, "disk %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		disk__msg(err, errlen, "disk %s is a directory", path);
		return -1;
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		disk__msg(err, errlen, "disk %s is not a regular file or a block device", path);
		return -1;
	}
	return 0;
}

/* flock(fd, op | LOCK_NB), trying again for up to DISK_LOCK_WAIT_MS while the lock is held:
 * an io_uring ring releases the files it used in the kernel's own time after it is closed
 * (a workqueue), so the lock of a kvmini that just ended, or of a disk this process just
 * closed, can outlive its close by some milliseconds. 0, or -1 with errno. */
#define DISK_LOCK_WAIT_MS 1000
static int disk__flock(int fd, int op)
{
	for (int ms = 0;; ms += 10) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || ms >= DISK_LOCK_WAIT_MS)
			return -1;
		usleep(10000);
	}
}

/* Opens d->fd with flags, checks it is still the file stat()ed (st), and takes the flock;
 * its fstat in *fst. 0, or -1 with err (d->fd may then be open: the caller closes it). */
static int disk__open_locked(struct disk *d, const struct disk_opts *opts, int flags,
			     const struct stat *st, struct stat *fst, char *err, size_t errlen)
{
	const char *path = opts->path;

	d->fd = open(path, flags);
	if (d->fd < 0)
		return disk__open_err(path, errno, opts, d->is_blockdev, err, errlen);
	if (fstat(d->fd, fst) < 0 || !disk__same_file(st, fst)) {
		disk__msg(err, errlen, "disk %s changed while being opened", path);
		return -1;
	}
	if (disk__flock(d->fd, d->readonly ? LOCK_SH : LOCK_EX) < 0) {
		if (errno == EWOULDBLOCK)
			disk__msg(err, errlen, "disk %s is in use by another process", path);
		else
			disk__msg(err, errlen, "disk %s: flock: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Size, logical block size and discard support of the open backing. 0, or -1 with err. */
static int disk__probe_size(struct disk *d, const struct stat *fst, const char *path, char *err,
			    size_t errlen)
{
	if (!d->is_blockdev) {
		d->size = (uint64_t)fst->st_size;
		d->block_size = 512;
		d->discard = !d->readonly && disk__file_discard(d->fd, d->size);
		return 0;
	}
	int lbs = 0;
	if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0 || ioctl(d->fd, BLKSSZGET, &lbs) < 0) {
		disk__msg(err, errlen, "disk %s: cannot read the device size: %s", path,
			  strerror(errno));
		return -1;
	}
	if (lbs < 512 || (lbs & (lbs - 1))) {
		disk__msg(err, errlen, "disk %s: odd logical block size %d", path, lbs);
		return -1;
	}
	d->block_size = (uint32_t)lbs;
	d->discard = !d->readonly && disk__blk_discard(fst->st_rdev);
	return 0;
}

/* cache=none: O_DIRECT's alignment, and the second, buffered fd for what it cannot take.
 * 0, or -1 with err. */
static int disk__open_buffered(struct disk *d, const char *path, int flags,
			       const struct stat *fst, char *err, size_t errlen)
{
	struct stat st;

	disk__probe_dio(d);
	d->buffered_fd = open(path, flags & ~(O_DIRECT | O_EXCL));
	if (d->buffered_fd < 0 || fstat(d->buffered_fd, &st) < 0 || !disk__same_file(&st, fst)) {
		disk__msg(err, errlen, "disk %s: cannot open it a second time: %s", path,
			  d->buffered_fd < 0 ? strerror(errno) : "it changed");
		return -1;
	}
	return 0;
}

/* The engine: io_uring where asked and usable (else sync, said in note), or sync. 0, or -1. */
static int disk__start_engine(struct disk *d, const struct disk_opts *opts, char *err,
			      size_t errlen, char *note, size_t notelen)
{
	char why[160];

	d->engine = opts->engine == DISK_ENGINE_IO_URING ? DISK_ENGINE_IO_URING : DISK_ENGINE_SYNC;
	d->copy_workers = opts->copy_workers;
	if (d->engine == DISK_ENGINE_IO_URING) {
		int rc = disk_uring__probe(why, sizeof(why));
		if (!rc)
			rc = disk_uring_ops.init(d, why, sizeof(why));
		if (!rc)
			return 0;
		disk__msg(note, notelen, "io_uring unavailable (%s): using the sync engine", why);
		d->engine = DISK_ENGINE_SYNC;
	}
	if (disk__ops(d)->init(d, why, sizeof(why))) {
		disk__msg(err, errlen, "disk %s: %s", opts->path, why);
		return -1;
	}
	return 0;
}

int disk__open(struct disk *d, const struct disk_opts *opts, char *err, size_t errlen,
	       char *note, size_t notelen)
{
	struct stat st, fst;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->buffered_fd = -1;
	if (note && notelen)
		note[0] = '\0';
	if (disk__check_path(opts, &st, err, errlen))
		return -1;
	d->is_blockdev = S_ISBLK(st.st_mode);
	d->readonly = opts->readonly;
	d->direct = opts->cache == DISK_CACHE_NONE;

	int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (d->direct)
		flags |= O_DIRECT;
	if (d->is_blockdev && !opts->force)
		flags |= O_EXCL;	/* EBUSY while mounted or claimed by the kernel */
	d->mem_align = 1;
	if (disk__open_locked(d, opts, flags, &st, &fst, err, errlen) ||
	    disk__probe_size(d, &fst, opts->path, err, errlen) ||
	    (d->direct && disk__open_buffered(d, opts->path, flags, &fst, err, errlen)) ||
	    disk__start_engine(d, opts, err, errlen, note, notelen)) {
		if (d->buffered_fd >= 0)
			close(d->buffered_fd);
		if (d->fd >= 0)
			close(d->fd);
		d->buffered_fd = -1;
		d->fd = -1;
		return -1;
	}
	return 0;
}

unsigned disk__copy_workers(unsigned host_cpus, unsigned vcpus, unsigned contexts)
{
	unsigned spare = host_cpus > vcpus ? host_cpus - vcpus : 0;
	unsigned n = contexts ? spare / contexts : spare;

	return n ? n : 1;
}

int disk__open_ctx(struct disk *ctx, const struct disk *parent, char *err, size_t errlen)
{
	char why[256];

	*ctx = *parent;
	ctx->engine_priv = NULL;
	ctx->wrap = NULL;
	ctx->wrap_priv = NULL;
	ctx->errors = 0;
	ctx->bounce_bytes = ctx->bounce_peak = ctx->bounce_overflows = 0;
	ctx->borrowed = true;
	if (disk__ops(ctx)->init(ctx, why, sizeof(why))) {
		disk__msg(err, errlen, "another I/O context (%s engine): %s", disk__ops(ctx)->name, why);
		ctx->fd = ctx->buffered_fd = -1;
		return -1;
	}
	return 0;
}

void disk__close(struct disk *d)
{
	const struct disk_engine_ops *ops = disk__ops(d);

	if (d->engine_priv && ops)
		ops->exit(d);
	d->engine_priv = NULL;
	if (d->borrowed) {
		d->fd = d->buffered_fd = -1;
		return;
	}
	if (d->buffered_fd >= 0)
		close(d->buffered_fd);
	if (d->fd >= 0)
		close(d->fd);	/* drops the flock and the O_EXCL claim */
	d->buffered_fd = -1;
	d->fd = -1;
}

/* ---- dispatch ---- */

int disk__submit(struct disk *d, struct disk_req **reqs, unsigned n)
{
	if (!d->engine_priv || (n && !reqs))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!reqs[i])
			return -EINVAL;
	return n ? disk__ops(d)->submit(d, reqs, n) : 0;
}

int disk__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait)
{
	if (!d->engine_priv || (max && !done))
		return -EINVAL;
	return max ? disk__ops(d)->reap(d, done, max, wait) : 0;
}

int disk__completion_fd(const struct disk *d)
{
	return d->engine_priv ? disk__ops(d)->completion_fd(d) : -1;
}

void disk__cancel_slow(struct disk *d)
{
	if (d->engine_priv && disk__ops(d)->cancel)
		disk__ops(d)->cancel(d);
}

unsigned disk__inflight(const struct disk *d)
{
	return d->engine_priv ? disk__ops(d)->inflight(d) : 0;
}
