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

#include "devices/thread.h"
#include "virtio/disk.h"
#include "virtio/disk_engine.h"

#define DISK_ZERO_CHUNK (1u << 20)

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
	return d->fault ? &disk_fault_ops : disk__engine_ops(d->engine);
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

/* ---- request queues and eventfds, shared by the engines ---- */

void disk_reqq__push(struct disk_reqq *q, struct disk_req *r)
{
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

struct disk_req *disk_reqq__pop(struct disk_reqq *q)
{
	struct disk_req *r = q->head;

	if (r) {
		q->head = r->next;
		if (!q->head)
			q->tail = NULL;
		r->next = NULL;
	}
	return r;
}

void disk__efd_signal(int efd)
{
	uint64_t one = 1;

	/* EAGAIN only if the counter is about to overflow: it is readable anyway */
	while (write(efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void disk__efd_drain(int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

/* ---- per-request helpers ---- */

static bool disk__misaligned(const struct disk *d, uint64_t off, uint64_t len)
{
	return d->direct && ((off | len) & (d->block_size - 1));
}

int disk__req_fd(const struct disk *d, const struct disk_req *r)
{
	return r->buffered || disk__misaligned(d, r->offset, r->len) ? d->buffered_fd : d->fd;
}

static bool disk__needs_bounce(const struct disk *d, const struct disk_req *r)
{
	if (r->iovcnt > IOV_MAX)
		return true;	/* too many segments for one preadv/readv: one buffer */
	if (!d->direct || disk__req_fd(d, r) != d->fd)
		return false;
	for (int i = 0; i < r->iovcnt; i++) {
		const struct iovec *v = &r->iov[i];

		if (v->iov_len && (((uintptr_t)v->iov_base & (d->mem_align - 1)) ||
				   (v->iov_len & (d->block_size - 1))))
			return true;
	}
	return false;
}

static int disk__check_range(const struct disk *d, uint64_t off, uint64_t len)
{
	return off > d->size || len > d->size - off ? -EIO : 0;
}

int disk__req_prepare(struct disk *d, struct disk_req *r)
{
	uint64_t sum = 0;
	size_t align;
	char *p;
	int rc;

	r->bounce = NULL;
	r->buffered = false;
	r->resid_iov = NULL;
	r->done = 0;
	r->next = NULL;
	r->result = 0;
	switch (r->op) {
	case DISK_READ:
	case DISK_WRITE:
		if (r->iovcnt < 0 || (r->iovcnt && !r->iov))
			return -EINVAL;
		for (int i = 0; i < r->iovcnt; i++) {
			if (r->iov[i].iov_len > UINT64_MAX - sum)
				return -EINVAL;
			sum += r->iov[i].iov_len;
		}
		r->len = sum;
		if (r->op == DISK_WRITE && d->readonly)
			return -EROFS;
		rc = disk__check_range(d, r->offset, r->len);
		if (rc || !r->len || !disk__needs_bounce(d, r))
			return rc;
		if (d->bounce_bytes + r->len > DISK_BOUNCE_BUDGET) {
			if (r->iovcnt > IOV_MAX)
				return -ENOMEM;	/* (never from virtio-blk: BLK_MAX_IOV) */
			r->buffered = true;	/* no room: through the page cache, unbounced */
			d->bounce_overflows++;
			return 0;
		}
		align = d->mem_align > d->block_size ? d->mem_align : d->block_size;
		if (align < sizeof(void *))
			align = sizeof(void *);
		if (posix_memalign(&r->bounce, align, r->len)) {
			r->bounce = NULL;
			return -ENOMEM;
		}
		d->bounce_bytes += r->len;
		if (d->bounce_bytes > d->bounce_peak)
			d->bounce_peak = d->bounce_bytes;
		if (r->op == DISK_WRITE) {
			p = r->bounce;
			for (int i = 0; i < r->iovcnt; i++) {
				if (r->iov[i].iov_len)
					memcpy(p, r->iov[i].iov_base, r->iov[i].iov_len);
				p += r->iov[i].iov_len;
			}
		}
		return 0;
	case DISK_FLUSH:
		return 0;
	case DISK_DISCARD:
	case DISK_WRITE_ZEROES:
		if (d->readonly)
			return -EROFS;
		rc = disk__check_range(d, r->offset, r->len);
		if (rc)
			return rc;
		if (r->op == DISK_DISCARD && !d->discard)
			return -EOPNOTSUPP;
		return 0;
	}
	return -EINVAL;
}

int disk__req_iov(struct disk_req *r, const struct iovec **iov, int *cnt)
{
	uint64_t skip = r->done;
	struct iovec *v;
	int i = 0, n;

	if (r->bounce) {
		r->bounce_iov.iov_base = (char *)r->bounce + r->done;
		r->bounce_iov.iov_len = r->len - r->done;
		*iov = &r->bounce_iov;
		*cnt = 1;
		return 0;
	}
	if (!skip) {
		*iov = r->iov;
		*cnt = r->iovcnt;
		return 0;
	}
	while (i < r->iovcnt && skip >= r->iov[i].iov_len)
		skip -= r->iov[i++].iov_len;
	n = r->iovcnt - i;
	if (n <= 0)
		return -EIO;
	v = malloc(sizeof(*v) * (size_t)n);
	if (!v)
		return -ENOMEM;
	memcpy(v, r->iov + i, sizeof(*v) * (size_t)n);
	v[0].iov_base = (char *)v[0].iov_base + skip;
	v[0].iov_len -= skip;
	free(r->resid_iov);
	r->resid_iov = v;
	*iov = v;
	*cnt = n;
	return 0;
}

void disk__req_complete(struct disk *d, struct disk_req *r, int64_t result)
{
	if (r->bounce) {
		if (result >= 0 && r->op == DISK_READ) {
			const char *p = r->bounce;

			for (int i = 0; i < r->iovcnt; i++) {
				if (r->iov[i].iov_len)
					memcpy(r->iov[i].iov_base, p, r->iov[i].iov_len);
				p += r->iov[i].iov_len;
			}
		}
		free(r->bounce);
		r->bounce = NULL;
		d->bounce_bytes -= r->len;
	}
	free(r->resid_iov);
	r->resid_iov = NULL;
	r->result = result;
	if (result < 0)
		d->errors++;
}

/* Full transfer: short reads/writes continue with the rest; a 0-byte transfer is -EIO. */
static int64_t disk__rw_sync(struct disk *d, struct disk_req *r)
{
	int fd = disk__req_fd(d, r);

	while (r->done < r->len) {
		const struct iovec *iov;
		ssize_t n;
		int cnt, rc;

		rc = disk__req_iov(r, &iov, &cnt);
		if (rc)
			return rc;
		if (r->op == DISK_READ)
			n = preadv(fd, iov, cnt, (off_t)(r->offset + r->done));
		else
			n = pwritev(fd, iov, cnt, (off_t)(r->offset + r->done));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		r->done += (uint64_t)n;
	}
	return (int64_t)r->len;
}

static int disk__write_zero_bytes(struct disk *d, uint64_t off, uint64_t len)
{
	int fd = disk__misaligned(d, off, len) ? d->buffered_fd : d->fd;
	size_t chunk = len < DISK_ZERO_CHUNK ? (size_t)len : DISK_ZERO_CHUNK;
	void *buf;
	int rc = 0;

	if (posix_memalign(&buf, 4096, chunk))
		return -ENOMEM;
	memset(buf, 0, chunk);
	while (len) {
		size_t n = len < chunk ? (size_t)len : chunk;
		ssize_t w = pwrite(fd, buf, n, (off_t)off);

		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	free(buf);
	return rc;
}

static int disk__discard(struct disk *d, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (d->is_blockdev) {
		/* advisory: discard the whole blocks inside the range, nothing for the rest */
		uint64_t bs = d->block_size, start = (off + bs - 1) / bs * bs;
		uint64_t end = (off + len) / bs * bs, range[2] = { start, end - start };

		if (end <= start)
			return 0;
		return ioctl(d->fd, BLKDISCARD, range) ? -errno : 0;
	}
	return fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			 (off_t)len) ? -errno : 0;
}

static int disk__write_zeroes(struct disk *d, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (d->is_blockdev) {
		uint64_t range[2] = { off, len };

		if (!((off | len) & (d->block_size - 1))) {
			if (!ioctl(d->fd, BLKZEROOUT, range))
				return 0;
			if (errno != EOPNOTSUPP && errno != EINVAL)
				return -errno;
		}
	} else {
		if (!fallocate(d->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len))
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
			return -errno;
	}
	return disk__write_zero_bytes(d, off, len);
}

int64_t disk__zap_chunked(struct disk *d, struct disk_req *r, bool (*stopping)(const void *),
			  const void *arg)
{
	uint64_t off = r->offset, left = r->len;

	while (left) {
		/* chunk ends on multiples of DISK_ZAP_CHUNK: block-aligned for a device's discard */
		uint64_t n = DISK_ZAP_CHUNK - off % DISK_ZAP_CHUNK;
		int rc;

		if (stopping && stopping(arg))
			return -ECANCELED;
		if (n > left)
			n = left;
		rc = r->op == DISK_DISCARD ? disk__discard(d, off, n) : disk__write_zeroes(d, off, n);
		if (rc)
			return rc;
		off += n;
		left -= n;
	}
	return (int64_t)r->len;
}

int64_t disk__req_sync(struct disk *d, struct disk_req *r)
{
	switch (r->op) {
	case DISK_READ:
	case DISK_WRITE:
		return disk__rw_sync(d, r);
	case DISK_FLUSH:
		return fdatasync(d->fd) ? -errno : 0;
	case DISK_DISCARD:
	case DISK_WRITE_ZEROES:
		return disk__zap_chunked(d, r, NULL, NULL);
	}
	return -EINVAL;
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

int disk__open(struct disk *d, const struct disk_opts *opts, char *err, size_t errlen,
	       char *note, size_t notelen)
{
	const struct disk_engine_ops *ops;
	struct stat st, fst;
	char why[160];
	const char *path;
	int flags, rc;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->buffered_fd = -1;
	if (note && notelen)
		note[0] = '\0';
	if (!opts || !opts->path || !opts->path[0]) {
		disk__msg(err, errlen, "disk: no path given");
		return -1;
	}
	path = opts->path;
	if (opts->cache != DISK_CACHE_WRITEBACK && opts->cache != DISK_CACHE_NONE) {
		disk__msg(err, errlen, "disk %s: unknown cache mode", path);
		return -1;
	}
	if (stat(path, &st) < 0) {
		disk__msg(err, errlen, "disk %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		disk__msg(err, errlen, "disk %s is a directory", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		disk__msg(err, errlen, "disk %s is not a regular file or a block device", path);
		return -1;
	}
	d->is_blockdev = S_ISBLK(st.st_mode);
	d->readonly = opts->readonly;
	d->direct = opts->cache == DISK_CACHE_NONE;

	flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (d->direct)
		flags |= O_DIRECT;
	if (d->is_blockdev && !opts->force)
		flags |= O_EXCL;	/* EBUSY while mounted or claimed by the kernel */
	d->fd = open(path, flags);
	if (d->fd < 0)
		return disk__open_err(path, errno, opts, d->is_blockdev, err, errlen);
	if (fstat(d->fd, &fst) < 0 || !disk__same_file(&st, &fst)) {
		disk__msg(err, errlen, "disk %s changed while being opened", path);
		goto err_close;
	}
	if (flock(d->fd, (d->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			disk__msg(err, errlen, "disk %s is in use by another process", path);
		else
			disk__msg(err, errlen, "disk %s: flock: %s", path, strerror(errno));
		goto err_close;
	}

	if (d->is_blockdev) {
		int lbs = 0;

		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0 || ioctl(d->fd, BLKSSZGET, &lbs) < 0) {
			disk__msg(err, errlen, "disk %s: cannot read the device size: %s", path,
				  strerror(errno));
			goto err_close;
		}
		if (lbs < 512 || (lbs & (lbs - 1))) {
			disk__msg(err, errlen, "disk %s: odd logical block size %d", path, lbs);
			goto err_close;
		}
		d->block_size = (uint32_t)lbs;
		d->discard = !d->readonly && disk__blk_discard(fst.st_rdev);
	} else {
		d->size = (uint64_t)fst.st_size;
		d->block_size = 512;
		d->discard = !d->readonly && disk__file_discard(d->fd, d->size);
	}

	d->mem_align = 1;
	if (d->direct) {
		disk__probe_dio(d);
		d->buffered_fd = open(path, flags & ~(O_DIRECT | O_EXCL));
		if (d->buffered_fd < 0 || fstat(d->buffered_fd, &st) < 0 ||
		    !disk__same_file(&st, &fst)) {
			disk__msg(err, errlen, "disk %s: cannot open it a second time: %s", path,
				  d->buffered_fd < 0 ? strerror(errno) : "it changed");
			goto err_close;
		}
	}

	d->engine = opts->engine == DISK_ENGINE_IO_URING ? DISK_ENGINE_IO_URING : DISK_ENGINE_SYNC;
	d->copy_workers = opts->copy_workers;
	if (d->engine == DISK_ENGINE_IO_URING) {
		rc = disk_uring__probe(why, sizeof(why));
		if (!rc)
			rc = disk_uring_ops.init(d, why, sizeof(why));
		if (rc) {
			disk__msg(note, notelen, "io_uring unavailable (%s): using the sync engine",
				  why);
			d->engine = DISK_ENGINE_SYNC;
		}
	}
	if (d->engine == DISK_ENGINE_SYNC) {
		ops = disk__ops(d);
		if (ops->init(d, why, sizeof(why))) {
			disk__msg(err, errlen, "disk %s: %s", path, why);
			goto err_close;
		}
	}
	return 0;

err_close:
	if (d->buffered_fd >= 0)
		close(d->buffered_fd);
	close(d->fd);
	d->buffered_fd = -1;
	d->fd = -1;
	return -1;
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
	ctx->fault = NULL;
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

int disk__thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	return thread__create(t, DISK_THREAD_STACK, true, fn, arg);
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
