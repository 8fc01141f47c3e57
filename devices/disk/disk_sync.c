/* SPDX-License-Identifier: Apache-2.0 */
/* The sync disk engine: blocking preadv/pwritev on a small pool of worker threads per I/O
 * context (QEMU's aio=threads), or inline when a request is alone on an idle queue. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/disk/disk_engine.h"
#include "vmm/seccomp.h"

/* Requests one context runs at once. The block matrix's deepest workloads are QD32 4 KiB and
 * QD4 1 MiB; more threads than CPUs buy nothing for the page cache, and a raw device's queue
 * is filled by far fewer than 32 blocking calls. */
#define SYNC_WORKERS 4

struct disk_sync {
	int efd;                   /* readable exactly while `done` is not empty */
	unsigned inflight;         /* the submitting thread's: submitted, not yet reaped */
	struct disk disk;          /* the workers' copy: fds and properties never change */
	pthread_mutex_t lock;      /* todo, done, busy, peak, stop */
	pthread_cond_t work;
	struct disk_reqq todo;
	struct disk_reqq done;     /* r->result holds the raw result until reap completes it */
	unsigned busy, peak;       /* requests inside a worker now / at most so far */
	bool stop;
	unsigned nworkers;
	pthread_t worker[SYNC_WORKERS];
	struct disk_zap *zap;      /* DISCARD / WRITE_ZEROES (writable disks) */
};

/* Under s->lock. The eventfd follows the list, so a poller never wakes for nothing. */
static void sync__done_locked(struct disk_sync *s, struct disk_req *r)
{
	bool was_empty = !s->done.head;

	disk_reqq__push(&s->done, r);
	if (was_empty)
		disk__efd_signal(s->efd);
}

static void *sync__worker(void *arg)
{
	struct disk_sync *s = arg;
	struct disk_req *r;

	pthread_setname_np(pthread_self(), "virtio-blk-sync");	/* prctl on itself: no /proc */
	seccomp__enter(SECCOMP_KIND_BLK);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!(r = disk_reqq__pop(&s->todo)) && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (!r)
			break;	/* stopping, and nothing left to do */
		if (++s->busy > s->peak)
			s->peak = s->busy;
		pthread_mutex_unlock(&s->lock);
		int64_t res = disk__req_sync(&s->disk, r);
		pthread_mutex_lock(&s->lock);
		s->busy--;
		r->result = res;
		sync__done_locked(s, r);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void sync__stop_workers(struct disk_sync *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->worker[i], NULL);
	s->nworkers = 0;
}

/* Workers block every signal (the main thread takes them) and enter the I/O thread's
 * seccomp filter themselves; a context is opened on the main thread before the filters are
 * installed, or on the launcher, whose filter they inherit. */
static int sync__start_workers(struct disk_sync *s, char *err, size_t errlen)
{
	int e = 0;

	while (!e && s->nworkers < SYNC_WORKERS) {
		e = disk__thread_start(&s->worker[s->nworkers], sync__worker, s);
		if (!e)
			s->nworkers++;
	}
	if (e) {
		snprintf(err, errlen, "cannot start the sync engine's worker threads: %s", strerror(e));
		sync__stop_workers(s);
		return -e;
	}
	return 0;
}

static void sync__zap_done(void *ctx, struct disk_req *r, int64_t res)
{
	struct disk_sync *s = ctx;

	pthread_mutex_lock(&s->lock);
	r->result = res;
	sync__done_locked(s, r);
	pthread_mutex_unlock(&s->lock);
}

static int sync__init(struct disk *d, char *err, size_t errlen)
{
	struct disk_sync *s = calloc(1, sizeof(*s));
	int e;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->disk = *d;
	s->disk.engine_priv = NULL;
	s->disk.wrap = NULL;
	s->disk.wrap_priv = NULL;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		e = errno;
		snprintf(err, errlen, "eventfd: %s", strerror(e));
		goto err_free;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	e = -sync__start_workers(s, err, errlen);
	if (e)
		goto err_close;
	if (!d->readonly && !(s->zap = disk_zap__start(&s->disk, sync__zap_done, s, &e))) {
		snprintf(err, errlen, "cannot start the discard thread: %s", strerror(-e));
		sync__stop_workers(s);
		e = -e;
		goto err_close;
	}
	d->engine_priv = s;
	return 0;

err_close:
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	close(s->efd);
err_free:
	free(s);
	return -e;
}

static void sync__exit(struct disk *d)
{
	struct disk_sync *s = d->engine_priv;
	struct disk_req *r;

	disk_zap__stop(s->zap);	/* a DISCARD or WRITE_ZEROES stops after its chunk */
	sync__stop_workers(s);	/* they finish what was queued first */
	while ((r = disk_reqq__pop(&s->done)))
		disk__req_complete(d, r, r->result);	/* frees their bounce buffers */
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	close(s->efd);
	free(s);
	d->engine_priv = NULL;
}

/* A lone request on an idle context runs right here: QD1 pays no hand-off to a worker. */
static bool is_zap(const struct disk_req *r)
{
	return r->op == DISK_DISCARD || r->op == DISK_WRITE_ZEROES;
}

static int sync__submit(struct disk *d, struct disk_req **reqs, unsigned n)
{
	struct disk_sync *s = d->engine_priv;
	bool inline_one = n == 1 && s->inflight == 0 && !is_zap(reqs[0]);
	struct disk_reqq zaps = { 0 };
	unsigned queued = 0;

	for (unsigned i = 0; i < n; i++) {
		struct disk_req *r = reqs[i];

		r->result = disk__req_prepare(d, r);
		if (!r->result && inline_one)
			r->result = disk__req_sync(d, r);
	}
	s->inflight += n;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		if (!reqs[i]->result && is_zap(reqs[i])) {
			disk_reqq__push(&zaps, reqs[i]);	/* the discard thread's, below */
		} else if (!inline_one && !reqs[i]->result) {
			disk_reqq__push(&s->todo, reqs[i]);
			queued++;
		} else {
			sync__done_locked(s, reqs[i]);	/* refused, or done inline */
		}
	}
	if (queued > 1)
		pthread_cond_broadcast(&s->work);
	else if (queued)
		pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (struct disk_req *r; (r = disk_reqq__pop(&zaps));)
		disk_zap__queue(s->zap, r);	/* prepared: the disk is writable */
	return (int)n;
}

static void sync__cancel(struct disk *d)
{
	struct disk_sync *s = d->engine_priv;

	disk_zap__cancel(s->zap);
}

static int sync__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait)
{
	struct disk_sync *s = d->engine_priv;
	struct disk_req *r;
	unsigned got = 0;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (got < max && (r = disk_reqq__pop(&s->done)))
			done[got++] = r;
		if (got)
			disk__efd_drain(s->efd);
		if (s->done.head)
			disk__efd_signal(s->efd);	/* more than max were waiting */
		pthread_mutex_unlock(&s->lock);
		if (got || !wait || !max || s->inflight == 0)
			break;
		struct pollfd p = { .fd = s->efd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
	for (unsigned i = 0; i < got; i++)
		disk__req_complete(d, done[i], done[i]->result);
	s->inflight -= got;
	return (int)got;
}

static int sync__completion_fd(const struct disk *d)
{
	const struct disk_sync *s = d->engine_priv;

	return s->efd;
}

static unsigned sync__inflight(const struct disk *d)
{
	const struct disk_sync *s = d->engine_priv;

	return s->inflight;
}

unsigned disk_sync__peak(const struct disk *d)
{
	struct disk_sync *s = d->engine_priv;
	unsigned peak;

	if (!s || d->engine != DISK_ENGINE_SYNC)
		return 0;
	pthread_mutex_lock(&s->lock);
	peak = s->peak;
	pthread_mutex_unlock(&s->lock);
	return peak;
}

const struct disk_engine_ops disk_sync_ops = {
	.name = "sync",
	.init = sync__init,
	.exit = sync__exit,
	.submit = sync__submit,
	.reap = sync__reap,
	.completion_fd = sync__completion_fd,
	.inflight = sync__inflight,
	.cancel = sync__cancel,
};
