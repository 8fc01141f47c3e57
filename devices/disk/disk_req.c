/* SPDX-License-Identifier: Apache-2.0 */
/* What the disk engines share: request validation, bounce buffers, the synchronous path, chunked discard and zeroing, queues, eventfds, threads. */
#include "devices/disk/disk_req.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/thread.h"

#define DISK_ZERO_CHUNK (1u << 20)

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

int disk__thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	return thread__create(t, DISK_THREAD_STACK, true, fn, arg);
}
