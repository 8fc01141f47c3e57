/* SPDX-License-Identifier: Apache-2.0 */
/* The io_uring disk engine (liburing): one submission per batch, completions via an eventfd. */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/disk/disk_engine.h"

#define URING_DEPTH 256u
#define URING_ASYNC_MIN (64u << 10)   /* buffered requests this large go to io_uring's workers */

struct disk_uring {
	struct io_uring ring;
	unsigned cap;              /* most requests in the ring at once: the CQ never overflows */
	unsigned in_ring;          /* SQEs queued or in the kernel, not yet completed */
	unsigned inflight;         /* accepted by disk__submit, not yet reaped */
	int efd;                   /* registered with the ring; also signalled by hand */
	struct disk_reqq pending;  /* waiting for room in the ring (new, or to continue) */
	struct disk_reqq done;     /* completed outside the ring, waiting for reap */
	struct disk_zap *zap;      /* DISCARD / WRITE_ZEROES (writable disks) */
	unsigned zapping;          /* handed to it and not back yet (this thread's count) */
	pthread_mutex_t zlock;     /* zdone: what the discard thread finished */
	struct disk_reqq zdone;    /* r->result holds the raw result until reap completes it */
	unsigned zdone_n;          /* atomic: reap takes the lock only when it is not 0 */
};

/* On the discard thread: hands a finished DISCARD / WRITE_ZEROES back to the queue thread. */
static void uring__zap_done(void *ctx, struct disk_req *r, int64_t res)
{
	struct disk_uring *u = ctx;

	pthread_mutex_lock(&u->zlock);
	r->result = res;
	disk_reqq__push(&u->zdone, r);
	__atomic_add_fetch(&u->zdone_n, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&u->zlock);
	disk__efd_signal(u->efd);
}

/* Moves what the discard thread finished to `done`, completed. */
static void uring__take_zaps(struct disk *d, struct disk_uring *u)
{
	struct disk_req *r;

	if (!__atomic_load_n(&u->zdone_n, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&u->zlock);
	while ((r = disk_reqq__pop(&u->zdone))) {
		disk__req_complete(d, r, r->result);
		disk_reqq__push(&u->done, r);
		u->zapping--;
	}
	__atomic_store_n(&u->zdone_n, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&u->zlock);
}

/* ---- the once-per-process probe ---- */

static pthread_once_t uring_probe_once = PTHREAD_ONCE_INIT;
static int uring_probe_rc;
static char uring_probe_why[128];

static void uring__probe_once(void)
{
	struct io_uring ring;
	struct io_uring_probe *p;
	int rc = io_uring_queue_init(2, &ring, 0);

	if (rc < 0) {
		FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
		int disabled = 0;

		if (f) {
			if (fscanf(f, "%d", &disabled) != 1)
				disabled = 0;
			fclose(f);
		}
		if (rc == -EPERM && disabled)
			snprintf(uring_probe_why, sizeof(uring_probe_why),
				 "io_uring_setup: %s; kernel.io_uring_disabled=%d", strerror(-rc),
				 disabled);
		else
			snprintf(uring_probe_why, sizeof(uring_probe_why), "io_uring_setup: %s",
				 strerror(-rc));
		uring_probe_rc = rc;
		return;
	}
	p = io_uring_get_probe_ring(&ring);	/* NULL before 5.6: READV/WRITEV/FSYNC are 5.1 */
	if (p) {
		if (!io_uring_opcode_supported(p, IORING_OP_READV) ||
		    !io_uring_opcode_supported(p, IORING_OP_WRITEV) ||
		    !io_uring_opcode_supported(p, IORING_OP_FSYNC)) {
			snprintf(uring_probe_why, sizeof(uring_probe_why),
				 "the kernel lacks readv/writev/fsync");
			uring_probe_rc = -EOPNOTSUPP;
		}
		io_uring_free_probe(p);
	}
	io_uring_queue_exit(&ring);
}

int disk_uring__probe(char *why, size_t whylen)
{
	pthread_once(&uring_probe_once, uring__probe_once);
	if (uring_probe_rc && why && whylen)
		snprintf(why, whylen, "%s", uring_probe_why);
	return uring_probe_rc;
}

/* ---- the engine ---- */

static int uring__init(struct disk *d, char *err, size_t errlen)
{
	struct disk_uring *u = calloc(1, sizeof(*u));
	int rc;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = io_uring_queue_init(URING_DEPTH, &u->ring, 0);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_setup: %s", strerror(-rc));
		goto err_free;
	}
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		goto err_ring;
	}
	rc = io_uring_register_eventfd(&u->ring, u->efd);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_register_eventfd: %s", strerror(-rc));
		goto err_efd;
	}
	if (d->copy_workers && !d->direct) {
		/* Large buffered requests go to io_uring's workers (uring__prep); more copies at
		 * once than copy_workers only take CPU time from the vCPUs. The limit holds for
		 * each thread that submits here from then on (5.15+; older kernels keep io_uring's
		 * default). Both classes: 6.1 counts these reads as bounded work, later kernels
		 * (6.18) as unbounded. cache=none: only misaligned requests are copies. */
		unsigned limits[2] = { d->copy_workers, d->copy_workers };
		(void)io_uring_register_iowq_max_workers(&u->ring, limits);
	}
	u->cap = u->ring.cq.ring_entries;
	pthread_mutex_init(&u->zlock, NULL);
	if (!d->readonly && !(u->zap = disk_zap__start(d, uring__zap_done, u, &rc))) {
		snprintf(err, errlen, "cannot start the discard thread: %s", strerror(-rc));
		pthread_mutex_destroy(&u->zlock);
		goto err_efd;
	}
	d->engine_priv = u;
	return 0;

err_efd:
	close(u->efd);
err_ring:
	io_uring_queue_exit(&u->ring);
err_free:
	free(u);
	return rc;
}

/* Puts r into an SQE. -EBUSY: the SQ is full; other -errno: complete r with it. */
static int uring__prep(struct disk *d, struct disk_uring *u, struct disk_req *r)
{
	const struct iovec *iov = NULL;
	struct io_uring_sqe *sqe;
	int cnt = 0, rc;

	if (r->op == DISK_READ || r->op == DISK_WRITE) {
		rc = disk__req_iov(r, &iov, &cnt);
		if (rc)
			return rc;
	} else if (r->op != DISK_FLUSH) {
		return -EINVAL;	/* never queued: DISCARD/WRITE_ZEROES run in submit */
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	int fd = disk__req_fd(d, r);
	if (r->op == DISK_READ)
		io_uring_prep_readv(sqe, fd, iov, (unsigned)cnt, r->offset + r->done);
	else if (r->op == DISK_WRITE)
		io_uring_prep_writev(sqe, fd, iov, (unsigned)cnt, r->offset + r->done);
	else
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
	/* A large buffered request is a memcpy to or from the page cache that io_uring would do
	 * inline, in io_uring_enter: the batch's copies one after another on this thread, and
	 * no completion before the last. Handed to io_uring's workers they complete one by
	 * one, copy_workers of them side by side (uring__init). (O_DIRECT requests are
	 * asynchronous anyway.) */
	bool buffered = !d->direct || fd != d->fd;
	if (buffered && r->op != DISK_FLUSH && r->len - r->done >= URING_ASYNC_MIN)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, r);
	u->in_ring++;
	return 0;
}

/* Moves pending requests into the ring while it has room: an io_uring_submit each time the
 * SQ fills (batches larger than the ring go in chunks) and one at the end. What does not
 * fit stays pending, for reap to queue as completions make room. */
static void uring__fill(struct disk *d, struct disk_uring *u)
{
	bool queued = false, failed = false;

	while (u->pending.head && u->in_ring < u->cap) {
		struct disk_req *r = u->pending.head;
		int rc = uring__prep(d, u, r);

		if (rc == -EBUSY) {
			if (io_uring_submit(&u->ring) <= 0)
				break;	/* the SQEs stay queued; the next submit retries them */
			queued = false;
			continue;
		}
		disk_reqq__pop(&u->pending);
		if (rc) {
			disk__req_complete(d, r, rc);
			disk_reqq__push(&u->done, r);
			failed = true;
			continue;
		}
		queued = true;
	}
	if (queued)
		io_uring_submit(&u->ring);	/* on error the SQEs stay queued, as above */
	if (failed)
		disk__efd_signal(u->efd);
}

static int uring__submit(struct disk *d, struct disk_req **reqs, unsigned n)
{
	struct disk_uring *u = d->engine_priv;
	bool signal = false;

	for (unsigned i = 0; i < n; i++) {
		struct disk_req *r = reqs[i];
		int64_t res = disk__req_prepare(d, r);

		u->inflight++;
		if (!res && (r->op == DISK_FLUSH || ((r->op == DISK_READ || r->op == DISK_WRITE) &&
						     r->len))) {
			disk_reqq__push(&u->pending, r);
			continue;
		}
		/* DISCARD / WRITE_ZEROES (fallocate, BLKDISCARD, BLKZEROOUT, or writing zeroes:
		 * no async form on every kernel) on the discard thread, a chunk at a time */
		if (!res && (r->op == DISK_DISCARD || r->op == DISK_WRITE_ZEROES)) {
			u->zapping++;
			disk_zap__queue(u->zap, r);	/* prepared: the disk is writable */
			continue;
		}
		/* invalid or empty: done right here */
		if (!res)
			res = disk__req_sync(d, r);
		disk__req_complete(d, r, res);
		disk_reqq__push(&u->done, r);
		signal = true;
	}
	uring__fill(d, u);
	if (signal)
		disk__efd_signal(u->efd);
	return (int)n;
}

/* One CQE for r: true when r is complete, false when it went back to pending. */
static bool uring__finish(struct disk *d, struct disk_uring *u, struct disk_req *r, int res)
{
	if (res == -EAGAIN || res == -EINTR) {
		disk_reqq__push(&u->pending, r);
		return false;
	}
	if (r->op == DISK_FLUSH || res < 0) {
		disk__req_complete(d, r, res < 0 ? res : 0);
		return true;
	}
	if (res == 0) {		/* nothing moved (past the end of a shrunk file) */
		disk__req_complete(d, r, -EIO);
		return true;
	}
	r->done += (uint64_t)res;
	if (r->done < r->len) {	/* short: continue with the rest */
		disk_reqq__push(&u->pending, r);
		return false;
	}
	disk__req_complete(d, r, (int64_t)r->len);
	return true;
}

static int uring__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait)
{
	struct disk_uring *u = d->engine_priv;
	struct io_uring_cqe *cqe;
	struct disk_req *r;
	unsigned got = 0;
	int rc = 0;

	disk__efd_drain(u->efd);	/* before looking: a CQE posted after this re-signals */
	for (;;) {
		uring__take_zaps(d, u);
		while (got < max && (r = disk_reqq__pop(&u->done)))
			done[got++] = r;
		while (got < max && !io_uring_peek_cqe(&u->ring, &cqe)) {
			int res = cqe->res;

			r = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&u->ring, cqe);
			u->in_ring--;
			if (uring__finish(d, u, r, res))
				done[got++] = r;
		}
		if (u->pending.head)
			uring__fill(d, u);
		if (got || !wait ||
		    (!u->in_ring && !u->pending.head && !u->done.head && !u->zapping))
			break;
		if (u->done.head)
			continue;
		if (!u->in_ring && !u->pending.head) {	/* only the discard thread's to wait for */
			struct pollfd p = { .fd = u->efd, .events = POLLIN };
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
			disk__efd_drain(u->efd);
			continue;
		}
		rc = io_uring_submit_and_wait(&u->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
			break;
		rc = 0;
	}
	u->inflight -= got;
	if (u->done.head || io_uring_cq_ready(&u->ring))
		disk__efd_signal(u->efd);	/* more than max were waiting */
	return got ? (int)got : rc;
}

static void uring__exit(struct disk *d)
{
	struct disk_uring *u = d->engine_priv;
	struct io_uring_cqe *cqe;
	struct disk_req *r;

	disk_zap__stop(u->zap);	/* a DISCARD or WRITE_ZEROES stops after its chunk */
	u->zdone_n = 1;
	uring__take_zaps(d, u);	/* completed, dropped with `done` */
	pthread_mutex_destroy(&u->zlock);
	/* the kernel may still write into bounce buffers: wait for what is in the ring */
	while ((r = disk_reqq__pop(&u->pending)))
		disk__req_complete(d, r, -ECANCELED);
	while (u->in_ring) {
		int rc = io_uring_submit_and_wait(&u->ring, 1);

		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
			break;	/* cannot happen short of a broken ring: leak, never free early */
		while (!io_uring_peek_cqe(&u->ring, &cqe)) {
			int res = cqe->res;

			r = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&u->ring, cqe);
			u->in_ring--;
			disk__req_complete(d, r, res < 0 ? res : -ECANCELED);
		}
	}
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	free(u);
	d->engine_priv = NULL;
}

static int uring__completion_fd(const struct disk *d)
{
	const struct disk_uring *u = d->engine_priv;

	return u->efd;
}

static void uring__cancel(struct disk *d)
{
	struct disk_uring *u = d->engine_priv;

	disk_zap__cancel(u->zap);
}

static unsigned uring__inflight(const struct disk *d)
{
	const struct disk_uring *u = d->engine_priv;

	return u->inflight;
}

const struct disk_engine_ops disk_uring_ops = {
	.name = "io_uring",
	.init = uring__init,
	.exit = uring__exit,
	.submit = uring__submit,
	.reap = uring__reap,
	.completion_fd = uring__completion_fd,
	.inflight = uring__inflight,
	.cancel = uring__cancel,
};
