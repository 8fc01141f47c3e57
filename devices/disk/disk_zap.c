/* SPDX-License-Identifier: Apache-2.0 */
/* DISCARD and WRITE_ZEROES off the queue thread: one worker per I/O context, in bounded chunks. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "devices/disk/disk_engine.h"
#include "vmm/seccomp.h"

struct disk_zap {
	struct disk d;             /* the worker's copy: fds and properties never change */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct disk_reqq todo;
	bool stop;                 /* closing: the thread ends once the queue is empty */
	unsigned gen;              /* atomic: disk_zap__cancel's count; a request queued under an
	                            * older one is cancelled */
	void (*done)(void *ctx, struct disk_req *r, int64_t res);
	void *ctx;
};

struct zap_run {
	const struct disk_zap *z;
	unsigned gen;              /* the count when the request was queued */
};

/* Between two chunks: was the request cancelled (reset, close) since it was queued? */
static bool zap_cancelled(const void *arg)
{
	const struct zap_run *run = arg;
	return __atomic_load_n(&run->z->gen, __ATOMIC_ACQUIRE) != run->gen;
}

static void *zap_thread(void *arg)
{
	struct disk_zap *z = arg;
	struct disk_req *r;

	pthread_setname_np(pthread_self(), "virtio-blk-zap");
	seccomp__enter(SECCOMP_KIND_BLK);
	pthread_mutex_lock(&z->lock);
	for (;;) {
		while (!(r = disk_reqq__pop(&z->todo)) && !z->stop)
			pthread_cond_wait(&z->work, &z->lock);
		if (!r)
			break;
		struct zap_run run = { z, r->zap_gen };
		pthread_mutex_unlock(&z->lock);
		int64_t res = zap_cancelled(&run) ? -ECANCELED
						  : disk__zap_chunked(&z->d, r, zap_cancelled, &run);
		z->done(z->ctx, r, res);
		pthread_mutex_lock(&z->lock);
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

struct disk_zap *disk_zap__start(struct disk *d, void (*done)(void *, struct disk_req *, int64_t),
				 void *ctx, int *err)
{
	struct disk_zap *z = calloc(1, sizeof(*z));

	if (!z) {
		*err = -ENOMEM;
		return NULL;
	}
	*z = (struct disk_zap){ .d = *d, .done = done, .ctx = ctx };
	z->d.engine_priv = NULL;
	z->d.wrap = NULL;
	z->d.wrap_priv = NULL;
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->work, NULL);
	int e = disk__thread_start(&z->thread, zap_thread, z);
	if (e) {
		pthread_cond_destroy(&z->work);
		pthread_mutex_destroy(&z->lock);
		free(z);
		*err = -e;
		return NULL;
	}
	return z;
}

void disk_zap__queue(struct disk_zap *z, struct disk_req *r)
{
	pthread_mutex_lock(&z->lock);
	r->zap_gen = __atomic_load_n(&z->gen, __ATOMIC_ACQUIRE);
	disk_reqq__push(&z->todo, r);
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->lock);
}

void disk_zap__cancel(struct disk_zap *z)
{
	if (z)
		__atomic_add_fetch(&z->gen, 1, __ATOMIC_ACQ_REL);
}

void disk_zap__stop(struct disk_zap *z)
{
	if (!z)
		return;
	disk_zap__cancel(z);
	pthread_mutex_lock(&z->lock);
	z->stop = true;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->lock);
	pthread_join(z->thread, NULL);	/* what was queued came back -ECANCELED */
	pthread_cond_destroy(&z->work);
	pthread_mutex_destroy(&z->lock);
	free(z);
}
